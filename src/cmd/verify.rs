//! `bootsign verify`: checks a detached signature with the same code the firmware's
//! `imgverify` runs.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use bootsign_pki::Revocation;
use bootsign_pki::SignatureError;
use bootsign_pki::cms::{CmsError, SignedData, Trust, decode_pem_or_der, verify};
use bootsign_pki::text::{escape, escape_controls};
use clap::Args as ClapArgs;

use super::Ctx;
use crate::fsx::quote;
use crate::stream::digest_file;
use crate::timefmt;
use crate::trust::{CrlFile, TrustArgs, check_crl_issuers, read_crls};

/// `verify` options.
#[derive(ClapArgs)]
#[command(after_help = "Examples:\n  bootsign verify vmlinuz --trust ca.crt\n      \
                        vmlinuz.sig checked as the firmware checks it, trusting ca.crt\n  \
                        bootsign verify vmlinuz --sig vmlinuz.p7s --trust 3F:A1:...:9C \\\n                  \
                        --signer 'bootsign code signing'\n      \
                        a signature elsewhere, a root by fingerprint, and only that signer\n  \
                        bootsign verify vmlinuz --trust ca.crt --crl ca.crl\n      \
                        and refused if ca.crl revokes the signer\n  \
                        bootsign verify --authenticode bootsign.efi --trust db.crt\n      \
                        the signature embedded in a PE image (sbsign, osslsigncode,\n      \
                        bootsign sign --authenticode), as the firmware's imgverify\n      \
                        checks a kernel with no .sig")]
pub struct Args {
    /// The signed file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The signature [default: FILE.sig].
    #[arg(long, value_name = "SIG", conflicts_with = "authenticode")]
    pub sig: Option<PathBuf>,
    /// Check the Authenticode signature embedded in FILE, a PE image (an EFI program, a
    /// kernel with an EFI stub, a UKI), instead of a detached one; any of its signatures
    /// that holds will do.
    #[arg(long)]
    pub authenticode: bool,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Only signers with this common name (or DNS subjectAltName) count, and they must
    /// verify (iPXE's imgverify --signer).
    #[arg(long, value_name = "NAME")]
    pub signer: Option<String>,
}

/// Runs `verify`.
pub fn run(ctx: &mut Ctx<'_>, args: Args) -> Result<()> {
    if args.authenticode {
        return run_authenticode(ctx, args);
    }
    let anchors = args.trust.anchors()?;
    let time = args.trust.time(ctx.now())?;
    let sig_path = args.sig.clone().unwrap_or_else(|| crate::fsx::with_suffix(&args.file, ".sig"));
    let raw = crate::fsx::read_capped(&sig_path, crate::fsx::MAX_INPUT, "the signature")?;
    if !raw.is_empty() && !crate::x509::looks_like_pem(&raw) && !crate::x509::looks_like_der(&raw) {
        bail!(
            "{} is not a signature (expected a detached CMS signature, DER or PEM, as 'bootsign sign' makes)",
            quote(&sig_path)
        );
    }
    let der = decode_pem_or_der(&raw).map_err(|e| anyhow!("{}: {e}", quote(&sig_path)))?;
    let sd = SignedData::parse(&der).map_err(|e| anyhow!("{}: {e}", quote(&sig_path)))?;
    let digests = digest_file(&args.file, &sd.digest_algorithms())?;
    let extra: Vec<&[u8]> = anchors.certs.iter().map(|c| c.der.as_slice()).collect();
    let crl_files = read_crls(&args.trust.crl)?;
    let known: Vec<&[u8]> = extra.iter().copied().chain(sd.certificates.iter().copied()).collect();
    check_crl_issuers(&crl_files, &known, time, ctx.err)?;
    let crls = crl_files.iter().map(CrlFile::parse).collect::<Result<Vec<_>>>()?;
    let trust = Trust {
        anchors: &anchors.fingerprints,
        extra_certs: &extra,
        time,
        revocation: Revocation { crls: &crls, require_fresh: args.trust.require_fresh_crl },
    };
    let verified = verify(&sd, &digests, &trust, args.signer.as_deref())
        .map_err(|e| refusal(&args.file, &sig_path, e))?;

    writeln!(ctx.out, "{}: signature OK", args.file.display())?;
    report(ctx, &verified, crls.len())
}

/// The signers of `verified` and their paths.
fn report(ctx: &mut Ctx<'_>, verified: &bootsign_pki::cms::Verified, crls: usize) -> Result<()> {
    if crls > 0 {
        writeln!(ctx.out, "  checked against {crls} CRL(s): no certificate of the path is revoked")?;
    }
    for signer in verified.signers() {
        writeln!(ctx.out, "  signer  {} ({})", escape(&signer.name), signer.digest.name())?;
        for (i, c) in signer.chain.iter().enumerate() {
            let label = if i == 0 { "  chain   " } else { "          " };
            let trusted = if i + 1 == signer.chain.len() { ", trusted" } else { "" };
            writeln!(
                ctx.out,
                "{label}{}  (SHA-256 {}, until {}{trusted})",
                escape_controls(&c.subject),
                c.fingerprint,
                timefmt::date(c.not_after)
            )?;
        }
    }
    Ok(())
}

/// Why `file` is refused, said once. A signature value that does not verify, or a
/// messageDigest that differs, means the bytes are not the ones signed: that is what a
/// person needs to hear, not the verifier's step that noticed it.
fn refusal(file: &Path, sig: &Path, e: CmsError) -> anyhow::Error {
    match e {
        CmsError::BadSignature { signer, error: SignatureError::Invalid }
        | CmsError::MessageDigestMismatch { signer } => {
            anyhow!(
                "{}: the signature by \"{}\" does not match the file's contents: the file was changed after \
                 signing, or {} belongs to another file or was damaged",
                quote(file),
                escape(&signer),
                quote(sig)
            )
        }
        e => anyhow!("{} is not accepted: {e}", quote(file)),
    }
}

/// Largest PE image `verify --authenticode` reads (a UKI with its initrd can be large).
pub const MAX_PE: u64 = 1 << 30;

/// `verify --authenticode`: the image's own signatures, checked by the PKI crate's
/// Authenticode verifier (the firmware's, for `imgverify IMAGE` without a signature).
fn run_authenticode(ctx: &mut Ctx<'_>, args: Args) -> Result<()> {
    let anchors = args.trust.anchors()?;
    let time = args.trust.time(ctx.now())?;
    let image = crate::fsx::read_capped(&args.file, MAX_PE, "the image")?;
    let name = quote(&args.file);
    let extra: Vec<&[u8]> = anchors.certs.iter().map(|c| c.der.as_slice()).collect();
    let crl_files = read_crls(&args.trust.crl)?;
    let mut known = extra.clone();
    for der in bootsign_pki::authenticode::signatures(&image).unwrap_or_default() {
        if let Ok(sig) = bootsign_pki::authenticode::Signature::parse(der, 0) {
            known.extend(sig.signed_data.certificates);
        }
    }
    check_crl_issuers(&crl_files, &known, time, ctx.err)?;
    let crls = crl_files.iter().map(CrlFile::parse).collect::<Result<Vec<_>>>()?;
    let trust = Trust {
        anchors: &anchors.fingerprints,
        extra_certs: &extra,
        time,
        revocation: Revocation { crls: &crls, require_fresh: args.trust.require_fresh_crl },
    };
    let (verified, index) = bootsign_pki::authenticode::verify_image(&image, &trust, args.signer.as_deref())
        .map_err(|e| match e {
            bootsign_pki::authenticode::AuthenticodeError::Image(e) => anyhow!("{name}: {e}"),
            e => anyhow!("{name} is not accepted: {e}"),
        })?;
    let (alg, digest) = verified
        .content_algorithms()
        .next()
        .and_then(|a| verified.content_digest(a).map(|d| (a, d)))
        .expect("a proof records its digest");
    writeln!(ctx.out, "{}: Authenticode signature {index} OK", args.file.display())?;
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    writeln!(ctx.out, "  image   {} {hex} (Authenticode digest)", alg.name())?;
    report(ctx, &verified, crls.len())
}
