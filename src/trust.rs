//! `--trust` lists: certificate files (PEM bundles or DER) and raw SHA-256 fingerprints,
//! comma-separated or repeated, as the firmware's embedded anchors are given to `build`.

use std::path::Path;

use anyhow::{Result, bail};
use bootsign_pki::Fingerprint;
use clap::Args;

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

/// `--trust` and `--at`, as `verify` and `verify-chain` take them.
#[derive(Args)]
pub struct TrustArgs {
    /// Trusted roots: certificate files or SHA-256 fingerprints, comma-separated.
    #[arg(long, required = true, value_name = "CERT|SHA256,...")]
    pub trust: Vec<String>,
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

    /// The time to check validity at.
    pub fn time(&self) -> Result<u64> {
        match &self.at {
            Some(t) => crate::timefmt::parse_user_time(t),
            None => Ok(crate::timefmt::now()),
        }
    }
}
