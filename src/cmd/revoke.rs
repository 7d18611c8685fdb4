//! `bootsign revoke`: mark a certificate revoked in `ca.idx`, as `openssl ca -revoke` does.

use anyhow::{Result, bail};
use clap::{Args as ClapArgs, ValueEnum};

use super::Ctx;
use crate::ca::files;
use crate::ca::serial::Serial;
use crate::fsx::{FileSet, MODE_PUBLIC, Overwrite};
use crate::timefmt;

/// RFC 5280 revocation reasons, spelled as OpenSSL writes them in `ca.idx`.
#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "camelCase")]
pub enum Reason {
    /// The key leaked or may have.
    KeyCompromise,
    /// The CA's key leaked.
    #[value(name = "CACompromise")]
    CaCompromise,
    /// The subject's details changed.
    AffiliationChanged,
    /// Replaced by a new certificate.
    Superseded,
    /// No longer used.
    CessationOfOperation,
    /// Temporarily on hold.
    CertificateHold,
}

/// `revoke` options.
#[derive(ClapArgs)]
#[command(after_help = "Example:\n  bootsign revoke 03 --reason keyCompromise")]
pub struct Args {
    /// Serial number in hex, as `bootsign list` shows it.
    #[arg(value_name = "SERIAL")]
    pub serial: String,
    /// Reason recorded with the revocation.
    #[arg(long, value_enum)]
    pub reason: Option<Reason>,
}

/// Runs `revoke`.
pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    ctx.ca.require()?;
    let serial = Serial::parse(&args.serial)?;
    let _lock = ctx.ca.lock()?;
    let mut index = ctx.ca.index()?;
    let Some(entry) = index.find_mut(&serial) else {
        bail!(
            "serial {} is not in {}; 'bootsign list' shows what this CA issued",
            serial.hex(),
            files::INDEX
        );
    };
    if entry.status == 'R' {
        bail!("serial {} is already revoked ({})", entry.serial, entry.revocation);
    }
    let mut when = timefmt::index_time(timefmt::now())?;
    if let Some(reason) = args.reason {
        let name = reason.to_possible_value().expect("no skipped variants");
        when = format!("{when},{}", name.get_name());
    }
    entry.status = 'R';
    entry.revocation = when;
    let subject = entry.subject.clone();
    let mut files = FileSet::default();
    files.add(ctx.ca.path(files::INDEX), index.to_text().into_bytes(), MODE_PUBLIC, Overwrite::Replace);
    files.commit()?;
    eprintln!("Revoked serial {} ({subject})", serial.hex());
    Ok(())
}
