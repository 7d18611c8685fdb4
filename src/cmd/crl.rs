//! `bootsign crl`: a certificate revocation list of everything revoked in `ca.idx`,
//! signed by the CA, as `openssl ca -gencrl` makes it (see [`crate::ca::crl`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};

use super::{Ctx, Globals};
use crate::ca::files;
use crate::fsx::{FileSet, MODE_PUBLIC, Overwrite, quote, refuse_existing};
use crate::timefmt;
use crate::x509::crl;

const EXAMPLES: &str = "\
Examples:
  bootsign crl
      ca.crl (PEM) in the CA directory: every revoked certificate,
      valid for 30 days
  bootsign revoke 03 --reason keyCompromise && bootsign crl --force
      revoke a certificate and replace ca.crl with a CRL that lists it
  bootsign crl --der --days 7 -o /srv/http/boot-ca.crl --force
      a DER CRL for a web server, to be remade within the week
  bootsign crl -o - | openssl crl -noout -text
      the CRL on stdout";

/// Longest --days accepted: a CRL is meant to be remade, and more than a century is a typo.
const MAX_DAYS: u32 = 36_500;

/// `crl` options.
#[derive(ClapArgs)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Output file, or - for stdout [default: ca.crl in the CA directory].
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Days until nextUpdate: verifiers that check it refuse the CRL after that, so
    /// remake it before then [default: 30, a month between routine runs].
    #[arg(long, default_value_t = 30, value_name = "N", hide_default_value = true)]
    pub days: u32,
    /// Write PEM (-----BEGIN X509 CRL-----), as openssl ca -gencrl does [default].
    #[arg(long, conflicts_with = "der")]
    pub pem: bool,
    /// Write DER.
    #[arg(long)]
    pub der: bool,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// Runs `crl`.
pub fn run(ctx: &mut Ctx<'_>, g: &Globals, args: Args) -> Result<()> {
    g.ca.require()?;
    if args.days == 0 || args.days > MAX_DAYS {
        bail!("--days must be between 1 and {MAX_DAYS} (the CRL is valid that many days); got {}", args.days);
    }
    let out = match &args.out {
        Some(p) if p.as_os_str() == "-" => None,
        Some(p) => Some(p.clone()),
        None => Some(g.ca.path(files::CRL)),
    };
    if let Some(path) = &out {
        check_output(path, args.force)?;
    }
    let issuer = g.ca.issuer(&g.pass, &g.pkcs11, ctx.err)?;
    if let Some((_, KeyUsage(usage))) = issuer.cert.extension::<KeyUsage>()?
        && !usage.contains(KeyUsages::CRLSign)
    {
        bail!(
            "the CA certificate {} has a keyUsage without cRLSign, so verifiers would refuse its CRLs",
            quote(&g.ca.path(files::CERT))
        );
    }
    let this_update = ctx.now();
    let next_update = this_update + u64::from(args.days) * timefmt::DAY;

    let crl = g.ca.crl_with(ctx.err, &issuer, this_update, next_update, |crl| {
        let data = if args.der { crl.der.clone() } else { crl::to_pem(&crl.der).into_bytes() };
        match &out {
            None => {
                let stdout = &mut *ctx.out;
                stdout
                    .write_all(&data)
                    .and_then(|()| stdout.flush())
                    .context("failed to write the CRL to stdout")
            }
            Some(path) => {
                let overwrite = if args.force { Overwrite::Replace } else { Overwrite::Never };
                let mut files = FileSet::default();
                files.add(path, data, MODE_PUBLIC, overwrite);
                files.commit()
            }
        }
    })?;

    let entries = match crl.revoked {
        1 => "1 revoked certificate".to_string(),
        n => format!("{n} revoked certificates"),
    };
    writeln!(ctx.err, "Wrote CRL number {} with {entries}", crl.number.hex())?;
    let dest = out.as_ref().map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
    writeln!(ctx.err, "  file         {dest} ({})", if args.der { "DER" } else { "PEM" })?;
    writeln!(ctx.err, "  next update  {} ({} days)", timefmt::date(crl.next_update), args.days)?;
    Ok(())
}

/// Refuses an output that is not a regular file, or exists without --force, or whose
/// directory is missing, before a CRL number is taken.
fn check_output(path: &Path, force: bool) -> Result<()> {
    if let Ok(meta) = path.symlink_metadata()
        && !meta.is_file()
    {
        let what = if meta.is_dir() {
            "a directory"
        } else if meta.file_type().is_symlink() {
            "a symbolic link"
        } else {
            "not a regular file"
        };
        bail!("refusing to write the CRL to {}: it is {what}; give -o FILE", quote(path));
    }
    refuse_existing(path, force)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!("failed to write {}: the directory {} does not exist", quote(path), quote(dir));
    }
    Ok(())
}
