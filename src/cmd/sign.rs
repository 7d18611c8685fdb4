//! `bootsign sign`: detached CMS signatures (`FILE.sig`) as `openssl cms -sign -binary
//! -noattr -outform DER` makes them, streamed over files of any size.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bootsign_pki::{HashAlgorithm, Purpose};
use clap::Args as ClapArgs;

use super::{Ctx, Globals};
use crate::fsx::{FileSet, MODE_PUBLIC, Overwrite, quote, refuse_existing, with_suffix};
use crate::keys::{KeyRef, Signer};
use crate::stream::digest_file;
use crate::x509::cert::Cert;
use crate::x509::cms::sign_detached;

const EXAMPLES: &str = "\
Examples:
  bootsign sign vmlinuz initrd.img
      vmlinuz.sig and initrd.img.sig, signed with the CA directory's
      codesign.crt and codesign.key
  bootsign sign --cert release.crt --key release.key --certfile chain.pem \\
                boot.efi -o boot.efi.p7s
      the same as: openssl cms -sign -binary -noattr -in boot.efi
                     -signer release.crt -inkey release.key
                     -certfile chain.pem -outform DER -out boot.efi.p7s
  bootsign sign --authenticode --cert db.crt --key db.key vmlinuz
      vmlinuz.signed: the kernel with an embedded Authenticode signature, for
      Secure Boot and the firmware's imgverify (as sbsign; a signed image
      gets a second signature)";

/// `sign` options.
#[derive(ClapArgs)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Files to sign; each gets FILE.sig beside it (with --authenticode, FILE.signed).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Embed an Authenticode signature in each FILE, a PE image (EFI program, kernel with
    /// an EFI stub, UKI), as sbsign does: FILE.signed, or -o. An image already signed
    /// keeps its signatures and gets one more. Needs an RSA key.
    #[arg(long, conflicts_with = "pem")]
    pub authenticode: bool,
    /// Output file (only with a single FILE); `-` writes the signature to standard output.
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub out: Option<PathBuf>,
    /// Signer certificate [default: codesign.crt in the CA directory].
    #[arg(long, value_name = "CERT")]
    pub cert: Option<PathBuf>,
    /// Signer key: a file, or a key in a PKCS#11 token (pkcs11:token=...;object=...)
    /// [default: codesign.key in the CA directory, or the token key codesign.key.uri
    /// names].
    #[arg(long, value_name = "KEY", value_parser = KeyRef::parse_arg)]
    pub key: Option<KeyRef>,
    /// Extra certificates to include, e.g. intermediates [default: ca.crt in the CA
    /// directory, when it exists].
    #[arg(long, value_name = "FILE")]
    pub certfile: Vec<PathBuf>,
    /// Write PEM (-----BEGIN CMS-----) instead of DER.
    #[arg(long)]
    pub pem: bool,
    /// Replace existing signature files.
    #[arg(long)]
    pub force: bool,
}

/// Runs `sign`.
pub fn run(ctx: &mut Ctx<'_>, g: &Globals, args: Args) -> Result<()> {
    if args.out.is_some() && args.files.len() != 1 {
        bail!("-o names one output file, but {} files were given", args.files.len());
    }
    let to_stdout = args.out.as_deref() == Some(Path::new("-"));
    let suffix = if args.authenticode { ".signed" } else { ".sig" };
    let outputs: Vec<PathBuf> = match &args.out {
        Some(out) => vec![out.clone()],
        None => args.files.iter().map(|f| with_suffix(f, suffix)).collect(),
    };
    // The same file twice would be signed twice into one output.
    let mut seen = std::collections::HashSet::new();
    for f in &args.files {
        let key = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
        if !seen.insert(key) {
            bail!("{} is given twice", quote(f));
        }
    }
    if !to_stdout {
        for out in &outputs {
            refuse_existing(out, args.force)?;
        }
    }

    let cert_path = args.cert.clone().unwrap_or_else(|| g.ca.path("codesign.crt"));
    let key_ref = match &args.key {
        Some(k) => k.clone(),
        None => KeyRef::at(&g.ca.path("codesign.key"))?,
    };
    if args.cert.is_none() && !cert_path.exists() {
        bail!(
            "no signer certificate: {} does not exist; issue one with 'bootsign issue --codesigning' \
             or give --cert and --key",
            quote(&cert_path)
        );
    }
    let signer = Cert::read_one(&cert_path)?;
    check_signer(&signer, &cert_path, ctx.now(), args.authenticode)?;
    let key = g.signer(&key_ref, ctx.err)?;
    if !key.matches_spki(signer.fields().spki) {
        bail!("the key {} does not match the signer certificate {}", key_ref.describe(), quote(&cert_path));
    }
    let mut extra = Vec::new();
    let certfiles: Vec<PathBuf> = if args.certfile.is_empty() {
        let ca = g.ca.path(crate::ca::files::CERT);
        if ca.exists() { vec![ca] } else { Vec::new() }
    } else {
        args.certfile.clone()
    };
    for f in &certfiles {
        extra.extend(Cert::read_all(f)?);
    }

    if args.authenticode {
        // Nothing is signed before every input is known to be a PE image and the key
        // is one Secure Boot can check.
        if !key.is_rsa() {
            bail!(
                "the key {} is {}: UEFI Secure Boot verifies RSA signatures only; sign with an RSA key \
                 (bootsign issue --codesigning --key rsa2048)",
                key_ref.describe(),
                key.describe()
            );
        }
        let mut signed = Vec::new();
        for input in &args.files {
            let image = crate::fsx::read_capped(input, super::verify::MAX_PE, "the image")?;
            bootsign_pe::Pe::parse(&image)
                .map_err(|e| anyhow::anyhow!("{} cannot be signed: {e}", quote(input)))?;
            let out = crate::x509::authenticode::sign_image(&image, &signer, &key, &extra)
                .with_context(|| format!("{} cannot be signed", quote(input)))?;
            let count = bootsign_pe::Pe::parse(&out)
                .ok()
                .and_then(|pe| pe.certificates().ok())
                .map_or(1, |c| c.len());
            signed.push((out, count));
        }
        let mut files = FileSet::default();
        let overwrite = if args.force { Overwrite::Replace } else { Overwrite::Never };
        for ((data, _), out) in signed.iter().zip(&outputs) {
            if to_stdout {
                ctx.out.write_all(data).context("failed to write the image to standard output")?;
                continue;
            }
            files.add(out, data.clone(), MODE_PUBLIC, overwrite);
        }
        files.commit()?;
        let name =
            bootsign_pki::text::escape_controls(&signer.parsed.tbs_certificate().subject().to_string())
                .to_string();
        for ((input, out), (_, count)) in args.files.iter().zip(&outputs).zip(&signed) {
            let out = if to_stdout { "standard output".into() } else { out.display().to_string() };
            let nth = if *count > 1 { format!(", signature {count}") } else { String::new() };
            writeln!(ctx.err, "Signed {} -> {out} (Authenticode, {name}, SHA-256{nth})", input.display())?;
        }
        return Ok(());
    }

    let mut files = FileSet::default();
    for (input, out) in args.files.iter().zip(&outputs) {
        let digests = digest_file(input, &[HashAlgorithm::Sha256])?;
        let digest = digests.get(HashAlgorithm::Sha256).expect("computed");
        let der = sign_detached(digest, &signer, &key, &extra)
            .with_context(|| format!("failed to sign {}", quote(input)))?;
        let data = if args.pem {
            pem::encode_config(
                &pem::Pem::new("CMS", der),
                pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
            )
            .into_bytes()
        } else {
            der
        };
        if to_stdout {
            let stdout = &mut *ctx.out;
            stdout
                .write_all(&data)
                .and_then(|()| stdout.flush())
                .context("failed to write the signature to standard output")?;
            continue;
        }
        let overwrite = if args.force { Overwrite::Replace } else { Overwrite::Never };
        files.add(out, data, MODE_PUBLIC, overwrite);
    }
    files.commit()?;
    let name = signer.parsed.tbs_certificate().subject().to_string();
    let name = bootsign_pki::text::escape_controls(&name);
    for (input, out) in args.files.iter().zip(&outputs) {
        let out = if to_stdout { "standard output".into() } else { out.display().to_string() };
        writeln!(ctx.err, "Signed {} -> {out} ({name}, SHA-256)", input.display())?;
    }
    Ok(())
}

/// Refuses a signer certificate the firmware would refuse for code signing.
/// A signer whose signatures the firmware would refuse is refused here. For Authenticode
/// (`authenticode`), a certificate without extendedKeyUsage is taken, as UEFI Secure
/// Boot takes it (db certificates made by `openssl req -x509` have none); one whose
/// extendedKeyUsage leaves out codeSigning is not.
fn check_signer(signer: &Cert, path: &Path, now: u64, authenticode: bool) -> Result<()> {
    let view = bootsign_pki::Cert::parse(&signer.der).map_err(|e| anyhow::anyhow!("{}: {e}", quote(path)))?;
    let has_eku = match &view.ext_key_usage {
        Some(list) => list.contains(&Purpose::CodeSigning.oid()),
        None => authenticode,
    };
    if !has_eku {
        bail!(
            "{} (\"{}\") is not a code-signing certificate: its extendedKeyUsage lacks codeSigning, so the \
             firmware would refuse its signatures; issue one with 'bootsign issue --codesigning'",
            quote(path),
            view.display_name()
        );
    }
    if !view.key_usage_allows(bootsign_pki::cert::key_usage::DIGITAL_SIGNATURE) {
        bail!(
            "{} (\"{}\") has a keyUsage without digitalSignature, so the firmware would refuse its \
             signatures; issue one with 'bootsign issue --codesigning'",
            quote(path),
            view.display_name()
        );
    }
    if now > view.not_after {
        bail!(
            "{} expired on {}; signatures made with it would not verify",
            quote(path),
            crate::timefmt::date(view.not_after)
        );
    }
    Ok(())
}
