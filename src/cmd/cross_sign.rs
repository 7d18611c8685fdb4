//! `bootsign cross-sign`: certify another root's subject and key with this CA, so chains
//! ending at that root also lead to ours (OpenSSL: `openssl ca -ss_cert OTHER.crt
//! -preserveDN -extensions cross`).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use bootsign_pki::text::escape_controls;
use clap::Args as ClapArgs;

use super::{Ctx, Globals};
use crate::fsx::{FileSet, MODE_PUBLIC, Overwrite, quote, refuse_existing};
use crate::timefmt;
use crate::x509::build::{BACKDATE_SECS, CertSpec};
use crate::x509::cert::Cert;
use crate::x509::profile;

/// `cross-sign` options.
#[derive(ClapArgs)]
#[command(after_help = "Example:\n  bootsign cross-sign old-root.crt -o old-root-cross.crt\n      \
                        a certificate for old-root's key issued by this CA;\n      \
                        servers send it in their chain")]
pub struct Args {
    /// The other root CA certificate (PEM or DER).
    #[arg(value_name = "OTHER.crt")]
    pub other: PathBuf,
    /// Output file [default: OTHER-cross.crt in the CA directory].
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub out: Option<PathBuf>,
    /// Validity in days [default: as long as the other root, capped at this CA's expiry].
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// Runs `cross-sign`.
pub fn run(ctx: &mut Ctx<'_>, g: &Globals, args: Args) -> Result<()> {
    g.ca.require()?;
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .other
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "other".into());
        g.ca.path(&format!("{stem}-cross.crt"))
    });
    refuse_existing(&out, args.force)?;
    let other = Cert::read_one(&args.other)?;
    let name = quote(&args.other);
    if !other.is_self_issued() {
        bail!(
            "{name} is not a root CA: it was issued by \"{}\", not by itself; cross-sign the root at the top of its chain",
            crate::x509::name::oneline(other.parsed.tbs_certificate().issuer())
        );
    }
    if let Err(e) = other.check_signed_by(other.fields().spki) {
        bail!("{name} is not a root CA: its self-signature does not verify ({e})");
    }
    if other.is_ca().with_context(|| format!("{name} has a bad extension"))? == Some(false) {
        bail!("{name} is not a CA: its basicConstraints say CA:FALSE");
    }

    let issuer = g.ca.issuer(&g.pass, &g.pkcs11, ctx.err)?;
    if issuer.cert.fields().spki == other.fields().spki
        || crate::keys::same_public_key(issuer.cert.fields().spki, other.fields().spki)
    {
        bail!("{name} has this CA's own key; there is nothing to cross-sign");
    }
    let now = ctx.now();
    let not_before = now.saturating_sub(BACKDATE_SECS);
    let not_after = match args.days {
        Some(0) => bail!("--days must be at least 1"),
        Some(days) => now + u64::from(days) * timefmt::DAY,
        None => other.not_after().min(issuer.cert.not_after()),
    };
    if not_after <= now {
        bail!("{name} has expired ({}); there is nothing to cross-sign", timefmt::date(other.not_after()));
    }
    let extensions = profile::cross(&other.key_identifier()?, &issuer.key_id)?;
    let issuer_subject = issuer.cert.fields().subject.to_vec();
    let (cert, serial) = g.ca.issue_with(ctx.err, |serial| {
        let der = CertSpec {
            serial: serial.bytes(),
            issuer: &issuer_subject,
            subject: other.fields().subject,
            spki: other.fields().spki,
            not_before,
            not_after,
            extensions,
        }
        .sign(&issuer.key)?;
        let cert = Cert::from_der(der).context("internal error: the cross-certificate does not decode")?;
        let mut files = FileSet::default();
        let overwrite = if args.force { Overwrite::Replace } else { Overwrite::Never };
        files.add(&out, cert.to_pem().into_bytes(), MODE_PUBLIC, overwrite);
        Ok((cert, files))
    })?;

    let subject = cert.subject_oneline();
    writeln!(
        ctx.err,
        "Cross-signed \"{}\" with this CA, serial {}",
        escape_controls(&subject),
        serial.hex()
    )?;
    writeln!(ctx.err, "  certificate  {}", out.display())?;
    writeln!(ctx.err, "  valid until  {}", timefmt::date(not_after))?;
    writeln!(ctx.err, "  SHA-256      {}", cert.fingerprint())?;
    Ok(())
}
