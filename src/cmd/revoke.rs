//! `bootsign revoke`: mark a certificate revoked in `ca.idx`, as `openssl ca -revoke` does.

use anyhow::{Result, bail};
use clap::Args as ClapArgs;

use super::{Ctx, Globals};
use crate::ca::files;
use crate::ca::serial::Serial;
use crate::fsx::{FileSet, MODE_PUBLIC, Overwrite};
use crate::timefmt;
use crate::x509::crl::Reason;

/// `revoke` options.
#[derive(ClapArgs)]
#[command(after_help = "Examples:\n  bootsign revoke 03 --reason keyCompromise\n  \
                        bootsign crl --force\n      a new ca.crl that lists serial 03, for verifiers that check CRLs")]
pub struct Args {
    /// Serial number in hex, as `bootsign list` shows it.
    #[arg(value_name = "SERIAL")]
    pub serial: String,
    /// Reason recorded with the revocation.
    #[arg(long, value_enum)]
    pub reason: Option<Reason>,
}

/// Runs `revoke`.
pub fn run(ctx: &mut Ctx<'_>, g: &Globals, args: Args) -> Result<()> {
    g.ca.require()?;
    let serial = Serial::parse(&args.serial)?;
    let _lock = g.ca.lock(ctx.err)?;
    let mut index = g.ca.index()?;
    let Some(entry) = index.find_mut(&serial) else {
        bail!(
            "serial {} is not in {}; 'bootsign list' shows what this CA issued",
            serial.hex(),
            files::INDEX
        );
    };
    if entry.status == 'R' {
        // ca.idx keeps "TIME[,reason]" in OpenSSL's spelling; say it as list does.
        let (time, reason) = entry.revocation.split_once(',').unwrap_or((&entry.revocation, ""));
        let when = timefmt::parse_index_time(time).map(timefmt::date).unwrap_or_else(|_| time.to_string());
        let reason = if reason.is_empty() { String::new() } else { format!(", {reason}") };
        bail!("serial {} is already revoked (on {when}{reason})", entry.serial);
    }
    let mut when = timefmt::index_time(ctx.now())?;
    if let Some(reason) = args.reason {
        when = format!("{when},{}", reason.name());
    }
    entry.status = 'R';
    entry.revocation = when;
    let subject = entry.subject.clone();
    let mut files = FileSet::default();
    files.add(g.ca.path(files::INDEX), index.to_text().into_bytes(), MODE_PUBLIC, Overwrite::Replace);
    files.commit()?;
    writeln!(ctx.err, "Revoked serial {} ({})", serial.hex(), bootsign_pki::text::escape_controls(&subject))?;
    Ok(())
}
