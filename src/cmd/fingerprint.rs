//! `bootsign fingerprint`: SHA-256 over the DER of every certificate in each file, the
//! values `--trust` and the firmware use.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args as ClapArgs;

use bootsign_pki::text::escape_controls;

use super::Ctx;
use crate::x509::cert::Cert;

/// `fingerprint` options.
#[derive(ClapArgs)]
#[command(
    after_help = "Examples:\n  bootsign fingerprint ca.crt\n      sha256 Fingerprint=AB:CD:..., as openssl x509 -fingerprint -sha256\n      \
                        prints it\n  \
                        bootsign fingerprint --raw bundle.pem\n      one plain hex fingerprint per certificate, for scripts"
)]
pub struct Args {
    /// Certificate files: PEM (bundles too) or DER.
    #[arg(required = true, value_name = "CERT")]
    pub files: Vec<PathBuf>,
    /// Print plain lower-case hex, one line per certificate.
    #[arg(long)]
    pub raw: bool,
}

/// Runs `fingerprint`. Every file is read before anything is printed, so a bad file
/// gives an error and no partial output.
pub fn run(ctx: &mut Ctx<'_>, args: Args) -> Result<()> {
    let mut all = Vec::new();
    for path in &args.files {
        all.push((path, Cert::read_all(path)?));
    }
    let total: usize = all.iter().map(|(_, certs)| certs.len()).sum();
    for (path, certs) in &all {
        for cert in certs {
            if args.raw {
                writeln!(ctx.out, "{}", cert.fingerprint().hex())?;
                continue;
            }
            if total > 1 {
                writeln!(ctx.out, "# {}: {}", path.display(), escape_controls(&cert.subject_oneline()))?;
            }
            writeln!(ctx.out, "sha256 Fingerprint={}", cert.fingerprint())?;
        }
    }
    Ok(())
}
