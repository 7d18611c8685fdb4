//! `bootsign list`: the CA database as a table.

use anyhow::Result;
use bootsign_pki::text::escape_controls;
use clap::Args as ClapArgs;

use super::{Ctx, Globals};
use crate::ca::files;
use crate::timefmt;
use crate::x509::cert::Cert;

/// `list` options.
#[derive(ClapArgs)]
pub struct Args {}

/// Runs `list`.
pub fn run(ctx: &mut Ctx<'_>, g: &Globals, _args: Args) -> Result<()> {
    g.ca.require()?;
    // Under the lock, so a crashed run's half-written records are put back first and an
    // issuance in progress is not seen half done.
    let _lock = g.ca.lock(ctx.err)?;
    let index = g.ca.index()?;
    let now = ctx.now();
    let mut rows =
        vec![["SERIAL".to_string(), "STATUS".into(), "EXPIRES".into(), "KIND".into(), "SUBJECT".into()]];
    for e in &index.entries {
        let expiry = timefmt::parse_index_time(&e.expiry)?;
        let status = match e.status {
            'R' => "revoked",
            'E' => "expired",
            _ if expiry <= now => "expired",
            _ => "valid",
        };
        let pem = g.ca.path(files::SIGNED).join(format!("{}.pem", e.serial));
        let kind = match Cert::read_one(&pem) {
            Ok(cert) => cert.kind().name(),
            Err(_) => "?",
        };
        let subject = escape_controls(&e.subject).to_string();
        rows.push([e.serial.clone(), status.into(), timefmt::date(expiry), kind.into(), subject]);
    }
    let widths: Vec<usize> = (0..4).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
    for r in &rows {
        writeln!(
            ctx.out,
            "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        )?;
    }
    if index.entries.is_empty() {
        writeln!(ctx.err, "(no certificates issued yet)")?;
    }
    Ok(())
}
