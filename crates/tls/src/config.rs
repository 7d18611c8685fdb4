//! Client configuration: trust, versions, client certificate and the platform's crypto.
//!
//! A [`Config`] is built once (it allocates the crypto provider for good, see
//! [`provider`](crate::provider)) and is cheap to clone; each
//! [`Client`](crate::Client) takes a snapshot of it, so certificates added later (a
//! fetched cross-certificate) apply to the next connection.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use bootsign_pki::{Cert, Fingerprint};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::UnixTime;
use rustls::sign::CertifiedKey;
use rustls::time_provider::TimeProvider;

use crate::client_auth;
use crate::error::Error;
use crate::platform::{Clock, RandomSource};
use crate::provider::{self, aead::Aeads};
use crate::verifier::Trust;

/// A TLS protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tls12 => "TLS 1.2",
            Self::Tls13 => "TLS 1.3",
        })
    }
}

/// rustls's clock, read from the platform's.
#[derive(Debug)]
struct PlatformTime(Arc<dyn Clock>);

impl TimeProvider for PlatformTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(core::time::Duration::from_secs(self.0.unix_time())))
    }
}

/// How TLS connections are made and what they trust.
#[derive(Clone)]
pub struct Config {
    pub(crate) provider: Arc<CryptoProvider>,
    pub(crate) time: Arc<dyn TimeProvider>,
    pub(crate) trust: Arc<Trust>,
    pub(crate) min_version: TlsVersion,
    pub(crate) client_cert: Option<Arc<CertifiedKey>>,
    rng: &'static dyn RandomSource,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("anchors", &self.trust.anchors.len())
            .field("extra_certificates", &self.trust.extra.len())
            .field("min_version", &self.min_version)
            .field("client_cert", &self.client_cert.is_some())
            .finish()
    }
}

impl Config {
    /// A configuration trusting the certificates with these SHA-256 fingerprints, with
    /// the software AEADs. TLS 1.2 and 1.3; no client certificate.
    pub fn new(anchors: &[Fingerprint], rng: &'static dyn RandomSource, clock: Arc<dyn Clock>) -> Self {
        Self::with_aeads(anchors, rng, clock, &Aeads::default())
    }

    /// As [`Config::new`], with the platform's own AEAD implementations (hardware AES-GCM).
    pub fn with_aeads(
        anchors: &[Fingerprint],
        rng: &'static dyn RandomSource,
        clock: Arc<dyn Clock>,
        aeads: &Aeads,
    ) -> Self {
        Self {
            provider: provider::build(rng, aeads),
            time: Arc::new(PlatformTime(clock)),
            trust: Arc::new(Trust { anchors: anchors.to_vec(), extra: Vec::new() }),
            min_version: TlsVersion::Tls12,
            client_cert: None,
            rng,
        }
    }

    /// Sets the lowest version accepted: [`TlsVersion::Tls12`] (the default) or
    /// [`TlsVersion::Tls13`] for TLS 1.3 only.
    pub fn set_min_version(&mut self, min: TlsVersion) {
        self.min_version = min;
    }

    /// Adds DER certificates that paths may use as issuers: the embedded `--cert` list,
    /// fetched cross-certificates. They are not trusted by themselves.
    pub fn add_certificates(&mut self, certs: impl IntoIterator<Item = Vec<u8>>) -> Result<(), Error> {
        let trust = Arc::make_mut(&mut self.trust);
        let start = trust.extra.len();
        for (index, der) in certs.into_iter().enumerate() {
            if let Err(error) = Cert::parse(&der) {
                trust.extra.truncate(start);
                return Err(Error::ExtraCertificate { index, error });
            }
            if !trust.extra.contains(&der) {
                trust.extra.push(der);
            }
        }
        Ok(())
    }

    /// Sets the client certificate offered when a server asks for one: the DER chain
    /// (the client's certificate first, then its issuers) and the DER private key
    /// (PKCS#8, or PKCS#1 RSA / SEC1 EC).
    pub fn set_client_auth(&mut self, chain: &[Vec<u8>], key_der: &[u8]) -> Result<(), Error> {
        self.client_cert = Some(client_auth::load(chain, key_der, self.rng)?);
        Ok(())
    }

    /// The configured minimum version.
    pub fn min_version(&self) -> TlsVersion {
        self.min_version
    }
}
