//! Client configuration: trust, versions, client certificate and the platform's crypto.
//!
//! A [`Config`] is built once (it allocates the crypto provider for good, see
//! [`provider`](crate::provider)) and is cheap to clone; each
//! [`Client`](crate::Client) takes a snapshot of it, so certificates added later (a
//! fetched cross-certificate) apply to the next connection.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use bootsign_pki::{Cert, Crl, Fingerprint};
use rustls::client::ResolvesClientCert;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::UnixTime;
use rustls::sign::CertifiedKey;
use rustls::time_provider::TimeProvider;

use crate::client_auth;
use crate::client_auth::Resolver;
use crate::error::Error;
use crate::platform::{Clock, RandomSource};
use crate::provider::sign::ClientKey;
use crate::provider::{self, aead::Aeads};
use crate::sessions::SessionCache;
use crate::verifier::{Outcome, OutcomeSlot, PkiVerifier, Trust};

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

/// The oldest version the legacy engine ([`LegacyClient`](crate::LegacyClient)) may
/// accept below TLS 1.2, when the build enables legacy mode.
///
/// The rustls path ([`Client`](crate::Client)) never speaks these, whatever the setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LegacyVersion {
    /// TLS 1.0 (RFC 2246) and TLS 1.1.
    Tls10,
    /// TLS 1.1 (RFC 4346).
    Tls11,
}

impl fmt::Display for LegacyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tls10 => "TLS 1.0",
            Self::Tls11 => "TLS 1.1",
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
    /// The same client key, for the legacy engine's TLS 1.0/1.1 CertificateVerify (MD5+SHA-1
    /// and SHA-1 signatures, which rustls's `SigningKey` cannot make).
    pub(crate) client_key: Option<Arc<ClientKey>>,
    /// Below TLS 1.2, what the legacy engine accepts: `None` (the default) for nothing.
    pub(crate) legacy_min: Option<LegacyVersion>,
    pub(crate) rng: &'static dyn RandomSource,
    pub(crate) clock: Arc<dyn Clock>,
    /// Sessions to resume, shared by every connection made from this configuration and
    /// its clones.
    pub(crate) sessions: Arc<SessionCache>,
    /// The verifier and client-certificate resolver of the current trust, shared by the
    /// connections (rustls resumes a session only with the verifier that checked it).
    pub(crate) handshake: Arc<spin::Mutex<Option<Handshake>>>,
}

/// One trust configuration's verifier and resolver, as rustls is given them.
pub(crate) struct Handshake {
    trust: Arc<Trust>,
    client_cert: Option<Arc<CertifiedKey>>,
    pub(crate) outcome: Arc<OutcomeSlot>,
    pub(crate) verifier: Arc<dyn ServerCertVerifier>,
    pub(crate) resolver: Arc<dyn ResolvesClientCert>,
}

impl Config {
    /// The verifier, resolver and a fresh outcome slot for a new connection: the same
    /// ones as for the previous connection while the trust and client certificate are
    /// unchanged (so its session can be resumed), new ones after a change (sessions that
    /// the old trust verified are not resumed).
    pub(crate) fn handshake(
        &self,
    ) -> (Arc<dyn ServerCertVerifier>, Arc<dyn ResolvesClientCert>, Arc<Outcome>) {
        let mut slot = self.handshake.lock();
        let current = slot.as_ref().is_some_and(|h| {
            Arc::ptr_eq(&h.trust, &self.trust)
                && match (&h.client_cert, &self.client_cert) {
                    (None, None) => true,
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                    _ => false,
                }
        });
        if !current {
            let outcome = Arc::new(OutcomeSlot::default());
            *slot = Some(Handshake {
                trust: self.trust.clone(),
                client_cert: self.client_cert.clone(),
                outcome: outcome.clone(),
                verifier: Arc::new(PkiVerifier { trust: self.trust.clone(), outcome: outcome.clone() }),
                resolver: Arc::new(Resolver { key: self.client_cert.clone(), outcome }),
            });
        }
        let h = slot.as_ref().expect("set above");
        (h.verifier.clone(), h.resolver.clone(), h.outcome.start())
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("anchors", &self.trust.anchors.len())
            .field("extra_certificates", &self.trust.extra.len())
            .field("min_version", &self.min_version)
            .field("client_cert", &self.client_cert.is_some())
            .field("legacy_min", &self.legacy_min)
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
            time: Arc::new(PlatformTime(clock.clone())),
            trust: Arc::new(Trust { anchors: anchors.to_vec(), ..Trust::default() }),
            min_version: TlsVersion::Tls12,
            client_cert: None,
            client_key: None,
            legacy_min: None,
            rng,
            clock,
            sessions: Arc::new(SessionCache::new()),
            handshake: Arc::new(spin::Mutex::new(None)),
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

    /// Adds DER CRLs that server chains are checked against; with `require_fresh`, a CRL
    /// past its nextUpdate refuses every certificate its issuer signed, not only those it
    /// lists.
    pub fn add_crls(
        &mut self,
        crls: impl IntoIterator<Item = Vec<u8>>,
        require_fresh: bool,
    ) -> Result<(), Error> {
        let trust = Arc::make_mut(&mut self.trust);
        let start = trust.crls.len();
        for (index, der) in crls.into_iter().enumerate() {
            if let Err(error) = Crl::parse(&der) {
                trust.crls.truncate(start);
                return Err(Error::Crl { index, error });
            }
            trust.crls.push(der);
        }
        trust.require_fresh_crls |= require_fresh;
        Ok(())
    }

    /// Sets the client certificate offered when a server asks for one: the DER chain
    /// (the client's certificate first, then its issuers) and the DER private key
    /// (PKCS#8, or PKCS#1 RSA / SEC1 EC).
    pub fn set_client_auth(&mut self, chain: &[Vec<u8>], key_der: &[u8]) -> Result<(), Error> {
        let (certified, key) = client_auth::load(chain, key_der, self.rng)?;
        self.client_cert = Some(certified);
        self.client_key = Some(key);
        Ok(())
    }

    /// The configured minimum version.
    pub fn min_version(&self) -> TlsVersion {
        self.min_version
    }

    /// Legacy mode: lets the legacy engine ([`LegacyClient`](crate::LegacyClient)) accept
    /// TLS 1.1, or 1.1 and 1.0, when a server speaks nothing newer. `None` (the default):
    /// TLS 1.2 only, where the legacy engine still adds the static-RSA CBC suites. It has
    /// no effect on [`Client`](crate::Client), nor when the minimum version is TLS 1.3.
    pub fn set_legacy_min(&mut self, min: Option<LegacyVersion>) {
        self.legacy_min = min;
    }

    /// The oldest legacy version accepted, if legacy mode is on.
    pub fn legacy_min(&self) -> Option<LegacyVersion> {
        self.legacy_min
    }
}
