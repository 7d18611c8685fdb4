//! `--trust` lists: certificate files (PEM bundles or DER) and raw SHA-256 fingerprints,
//! comma-separated or repeated, as the firmware's embedded anchors are given to `build`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bootsign_pki::{Crl, Fingerprint};
use clap::Args;

use crate::fsx::quote;
use crate::timefmt;
use crate::x509::cert::Cert;

/// Trust anchors and the certificates that came with them.
#[derive(Default)]
pub struct Anchors {
    /// Trusted fingerprints.
    pub fingerprints: Vec<Fingerprint>,
    /// Certificates read from `--trust` files (they may complete a path).
    pub certs: Vec<Cert>,
}

impl Anchors {
    /// Reads `--trust` values: each item is a file if one exists by that name, else a
    /// fingerprint (64 hex digits, colons allowed).
    pub fn from_args(items: &[String]) -> Result<Self> {
        let mut out = Self::default();
        for item in items.iter().flat_map(|s| s.split(',')).map(str::trim) {
            if item.is_empty() {
                bail!("empty item in --trust");
            }
            let path = Path::new(item);
            if !path.exists() {
                match Fingerprint::parse(item) {
                    Ok(fp) => out.fingerprints.push(fp),
                    Err(e) => bail!("--trust '{item}': no such file, and not a SHA-256 fingerprint ({e})"),
                }
                continue;
            }
            for cert in Cert::read_all(path)? {
                out.fingerprints.push(cert.fingerprint());
                out.certs.push(cert);
            }
        }
        if out.fingerprints.is_empty() {
            bail!("no trust anchor given: use --trust ca.crt (or a SHA-256 fingerprint)");
        }
        Ok(out)
    }
}

/// One CRL read from a file, as DER.
pub struct CrlFile {
    /// Where it came from.
    pub path: PathBuf,
    /// Its position in the file, from 1.
    pub index: usize,
    /// The CRL.
    pub der: Vec<u8>,
}

impl CrlFile {
    /// The file (and position, when the file holds several) for messages.
    pub fn name(&self) -> String {
        if self.index > 1 { format!("{} (CRL {})", quote(&self.path), self.index) } else { quote(&self.path) }
    }

    /// The parsed CRL.
    pub fn parse(&self) -> Result<Crl<'_>> {
        Crl::parse(&self.der).with_context(|| format!("{} is not a usable CRL", self.name()))
    }
}

/// Reads CRL files: PEM (`X509 CRL` blocks, several per file) or DER. Each must parse.
pub fn read_crls(paths: &[PathBuf]) -> Result<Vec<CrlFile>> {
    let mut out = Vec::new();
    for path in paths {
        let bytes = crate::fsx::read_capped(path, crate::fsx::MAX_INPUT, "the CRL")?;
        if bytes.is_empty() {
            bail!("the CRL {} is empty", quote(path));
        }
        let ders: Vec<Vec<u8>> = if crate::x509::looks_like_pem(&bytes) {
            let blocks =
                pem::parse_many(&bytes).with_context(|| format!("{}: malformed PEM", quote(path)))?;
            let ders: Vec<Vec<u8>> = blocks
                .iter()
                .filter(|b| b.tag() == crate::x509::crl::PEM_LABEL)
                .map(|b| b.contents().to_vec())
                .collect();
            if ders.is_empty() {
                let tags: Vec<_> = blocks.iter().map(|b| b.tag().to_string()).collect();
                bail!(
                    "{} holds no CRL (PEM blocks found: {})",
                    quote(path),
                    if tags.is_empty() { "none".into() } else { tags.join(", ") }
                );
            }
            ders
        } else if crate::x509::looks_like_der(&bytes) {
            vec![bytes]
        } else {
            bail!("{} is not a CRL (expected PEM 'BEGIN X509 CRL' or DER)", quote(path));
        };
        for (i, der) in ders.into_iter().enumerate() {
            let file = CrlFile { path: path.clone(), index: i + 1, der };
            file.parse()?;
            out.push(file);
        }
    }
    Ok(out)
}

/// Checks that each CRL was signed by one of `certs` (its issuer must be given), and warns
/// about CRLs past their nextUpdate at `now` on `warn`.
pub fn check_crl_issuers(crls: &[CrlFile], certs: &[&[u8]], now: u64, warn: &mut dyn Write) -> Result<()> {
    let parsed: Vec<bootsign_pki::Cert<'_>> =
        certs.iter().filter_map(|der| bootsign_pki::Cert::parse(der).ok()).collect();
    for file in crls {
        let crl = file.parse()?;
        if !parsed.iter().any(|c| c.subject == crl.issuer.as_slice()) {
            bail!(
                "{}: its issuer \"{}\" is not among the certificates given; give the issuer's certificate \
                 (--trust or --cert) so the CRL's signature can be checked",
                file.name(),
                crl.issuer_text
            );
        }
        crl.find_issuer(&parsed).with_context(|| format!("{} is refused", file.name()))?;
        if let Some(next) = crl.next_update
            && crl.is_stale(now)
        {
            writeln!(
                warn,
                "warning: {} is past its nextUpdate ({}); it still revokes what it lists",
                file.name(),
                timefmt::date(next)
            )?;
        }
    }
    Ok(())
}

/// `--trust`, `--at` and `--crl`, as `verify` and `verify-chain` take them.
#[derive(Args)]
pub struct TrustArgs {
    /// Trusted roots: certificate files or SHA-256 fingerprints, comma-separated.
    #[arg(long, required = true, value_name = "CERT|SHA256,...")]
    pub trust: Vec<String>,
    /// Certificate revocation lists (PEM or DER, e.g. from `bootsign crl`): a listed
    /// certificate anywhere in the path is refused. Each must be signed by its issuer.
    #[arg(long, value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// Refuse certificates whose issuer's CRL is past its nextUpdate (a stale CRL otherwise
    /// still revokes what it lists, and nothing more).
    #[arg(long, requires = "crl")]
    pub require_fresh_crl: bool,
    /// Check validity at this time instead of now: RFC 3339 (2027-01-31T12:00:00Z,
    /// offsets and fractions allowed), YYYY-MM-DD (UTC) or @SECONDS.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

impl TrustArgs {
    /// The anchors and the certificates that came with them.
    pub fn anchors(&self) -> Result<Anchors> {
        Anchors::from_args(&self.trust)
    }

    /// The time to check validity at: --at, else `now`.
    pub fn time(&self, now: u64) -> Result<u64> {
        match &self.at {
            Some(t) => crate::timefmt::parse_user_time(t),
            None => Ok(now),
        }
    }
}
