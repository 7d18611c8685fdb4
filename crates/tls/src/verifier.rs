//! Server certificate verification for rustls, done by bootsign-pki: one verifier for
//! TLS, `imgverify` and `bootsign verify`.
//!
//! The chain must reach a certificate whose SHA-256 fingerprint is an anchor, building
//! the path from what the server sent plus the platform's extra certificates (embedded
//! `--cert` certificates and fetched cross-certificates). The leaf must be valid for the
//! host name or IP address and for TLS server use, every certificate valid at the
//! platform's time. bootsign-pki does the checks; this module adapts them to rustls.
//!
//! rustls without `std` cannot carry a custom error through its `Error` type, so each
//! connection gets its own verifier with an [`Outcome`] slot where the detailed failure
//! is left for [`Client`](crate::Client) to report; rustls itself gets the closest
//! standard error, which decides the alert sent to the server.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use bootsign_pki::cert::{CertError, key_usage};
use bootsign_pki::text::escape;
use bootsign_pki::{
    Cert, Crl, Fingerprint, PathError, Policy, Purpose, Revocation, ServerName as PkiName, verify_path,
};
use once_cell::race::OnceBox;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, IpAddr, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};

use crate::provider::verify::{
    HandshakeSignatureError, SUPPORTED_SCHEMES, Version, verify_handshake_signature,
};

/// The trust configuration: anchors and the extra certificates paths may use.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trust {
    pub(crate) anchors: Vec<Fingerprint>,
    /// DER certificates, each checked to parse when added.
    pub(crate) extra: Vec<Vec<u8>>,
    /// DER CRLs, each checked to parse when added.
    pub(crate) crls: Vec<Vec<u8>>,
    /// Whether a CRL past its nextUpdate refuses everything its issuer signed.
    pub(crate) require_fresh_crls: bool,
}

/// Why the server's certificate or its handshake signature was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateFailure {
    /// A certificate the server sent does not parse.
    Malformed {
        /// Its position in the server's chain, 0 being the server's own.
        index: usize,
        /// What is wrong with it.
        error: CertError,
    },
    /// The server sent no certificate.
    Missing,
    /// No trusted path: the check that failed, naming the certificate.
    Path(PathError),
    /// The chain stops at a certificate whose issuer is neither sent nor supplied.
    /// Fetch a cross-certificate for `issuer_dn` (see [`crosscert`](crate::crosscert)),
    /// add it to the configuration and connect again.
    MissingIssuer {
        /// The certificate whose issuer is missing.
        cert: String,
        /// The issuer's name, as text.
        issuer: String,
        /// The issuer's DER `Name`, as in the certificate.
        issuer_dn: Vec<u8>,
    },
    /// The server's handshake signature does not verify with its certificate's key.
    HandshakeSignature {
        /// The server certificate.
        cert: String,
        /// Why.
        error: HandshakeSignatureError,
    },
}

impl fmt::Display for CertificateFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { index: 0, error } => {
                write!(f, "the server's certificate is unreadable: {error}")
            }
            Self::Malformed { index, error } => {
                write!(f, "certificate {} of the server's chain is unreadable: {error}", index + 1)
            }
            Self::Missing => f.write_str("the server sent no certificate"),
            Self::Path(e) => write!(f, "{e}"),
            Self::MissingIssuer { cert, issuer, .. } => write!(
                f,
                "the issuer \"{issuer}\" of certificate \"{cert}\" was neither sent by the server nor supplied, \
                 and is not trusted (a cross-certificate may be needed)",
                issuer = escape(issuer),
                cert = escape(cert)
            ),
            Self::HandshakeSignature { cert, error } => {
                write!(
                    f,
                    "the server's handshake signature does not verify with the key of \"{cert}\": {error}",
                    cert = escape(cert)
                )
            }
        }
    }
}

/// What one connection's verifier found, read by the client after a failure.
#[derive(Default)]
pub(crate) struct Outcome {
    pub(crate) failure: OnceBox<CertificateFailure>,
    /// The server sent a CertificateRequest.
    pub(crate) client_cert_requested: AtomicBool,
}

impl Outcome {
    fn fail(&self, failure: CertificateFailure) {
        // Only the first failure of a connection matters; rustls stops at it.
        let _ = self.failure.set(alloc::boxed::Box::new(failure));
    }

    pub(crate) fn note_client_cert_request(&self) {
        self.client_cert_requested.store(true, Ordering::Relaxed);
    }

    pub(crate) fn client_cert_requested(&self) -> bool {
        self.client_cert_requested.load(Ordering::Relaxed)
    }
}

/// Where the connection being set up leaves its [`Outcome`]. One verifier serves every
/// connection made from a configuration with the same trust (rustls resumes a session only
/// with the verifier that checked it), and each new connection puts a fresh outcome in.
/// Connections from one configuration are set up one after the other (as in the firmware);
/// concurrent handshakes would still be verified correctly, but a failure's details could
/// be reported on the other connection.
#[derive(Default)]
pub(crate) struct OutcomeSlot(spin::Mutex<Arc<Outcome>>);

impl OutcomeSlot {
    /// A fresh outcome for a new connection.
    pub(crate) fn start(&self) -> Arc<Outcome> {
        let outcome = Arc::new(Outcome::default());
        *self.0.lock() = outcome.clone();
        outcome
    }

    /// The outcome of the connection being set up.
    pub(crate) fn current(&self) -> Arc<Outcome> {
        self.0.lock().clone()
    }
}

/// The verifier of the connections made with one trust configuration.
pub(crate) struct PkiVerifier {
    pub(crate) trust: Arc<Trust>,
    pub(crate) outcome: Arc<OutcomeSlot>,
}

impl fmt::Debug for PkiVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PkiVerifier({} anchors, {} extra certificates)",
            self.trust.anchors.len(),
            self.trust.extra.len()
        )
    }
}

/// The rustls error (and so the alert) closest to a path failure.
fn rustls_error(e: &PathError) -> CertificateError {
    match e {
        PathError::Expired { .. } => CertificateError::Expired,
        PathError::NotYetValid { .. } => CertificateError::NotValidYet,
        PathError::NameMismatch { .. } => CertificateError::NotValidForName,
        PathError::UnknownIssuer { .. } | PathError::UntrustedRoot { .. } => CertificateError::UnknownIssuer,
        PathError::BadSignature { .. } => CertificateError::BadSignature,
        PathError::WrongPurpose { .. } | PathError::KeyUsage { .. } => CertificateError::InvalidPurpose,
        _ => CertificateError::ApplicationVerificationFailure,
    }
}

/// The alert to send the server for a refused certificate: the one rustls sends for the
/// same failure.
pub(crate) fn failure_alert(failure: &CertificateFailure) -> rustls::AlertDescription {
    let error = match failure {
        CertificateFailure::Path(e) => rustls_error(e),
        CertificateFailure::MissingIssuer { .. } => CertificateError::UnknownIssuer,
        CertificateFailure::HandshakeSignature { .. } => CertificateError::BadSignature,
        CertificateFailure::Malformed { .. } | CertificateFailure::Missing => CertificateError::BadEncoding,
    };
    error.into()
}

/// Turns an unknown-issuer failure into one that carries the issuer's DER name, found on
/// the certificate the path stopped at.
fn with_issuer_dn(e: PathError, ee: &Cert<'_>, pool: &[Cert<'_>]) -> CertificateFailure {
    match e {
        PathError::UnknownIssuer { cert, issuer } => {
            let stuck = core::iter::once(ee)
                .chain(pool)
                .find(|c| c.display_name() == cert && c.issuer_text == issuer)
                .unwrap_or(ee);
            CertificateFailure::MissingIssuer { cert, issuer, issuer_dn: stuck.issuer.to_vec() }
        }
        other => CertificateFailure::Path(other),
    }
}

fn ip_bytes(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.as_ref().to_vec(),
        IpAddr::V6(v6) => v6.as_ref().to_vec(),
    }
}

/// Proof that a server's chain passed [`verify_server_chain`]: only that function makes
/// one, so a handshake cannot go on with an unchecked certificate.
#[derive(Debug)]
pub(crate) struct ServerChainVerified(());

/// The one server certificate check of the crate, for the rustls path and the legacy
/// engine alike: parses the chain, builds a path with the extra certificates and
/// validates it for `name`, TLS server use and the time `now` (Unix seconds).
pub(crate) fn verify_server_chain(
    trust: &Trust,
    end_entity: &[u8],
    intermediates: &[impl AsRef<[u8]>],
    name: &ServerName<'_>,
    now: u64,
) -> Result<ServerChainVerified, CertificateFailure> {
    let ee = Cert::parse(end_entity).map_err(|error| CertificateFailure::Malformed { index: 0, error })?;
    let mut pool = Vec::with_capacity(intermediates.len() + trust.extra.len());
    for (i, der) in intermediates.iter().enumerate() {
        pool.push(
            Cert::parse(der.as_ref())
                .map_err(|error| CertificateFailure::Malformed { index: i + 1, error })?,
        );
    }
    // Extra certificates were parsed when they were added; parse cannot fail now.
    pool.extend(trust.extra.iter().filter_map(|der| Cert::parse(der).ok()));
    let ip;
    let server_name = match name {
        ServerName::DnsName(d) => PkiName::Dns(d.as_ref()),
        ServerName::IpAddress(addr) => {
            ip = ip_bytes(addr);
            PkiName::Ip(&ip)
        }
        _ => PkiName::Dns(""),
    };
    // CRLs were parsed when they were added; parse cannot fail now.
    let crls: Vec<Crl<'_>> = trust.crls.iter().filter_map(|der| Crl::parse(der).ok()).collect();
    let policy = Policy {
        purpose: Purpose::ServerAuth,
        time: now,
        server_name: Some(server_name),
        revocation: Revocation { crls: &crls, require_fresh: trust.require_fresh_crls },
    };
    verify_path(&ee, &pool, &trust.anchors, &policy)
        .map(|_| ServerChainVerified(()))
        .map_err(|e| with_issuer_dn(e, &ee, &pool))
}

impl PkiVerifier {
    fn check(
        &self,
        end_entity: &[u8],
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        now: u64,
    ) -> Result<(), CertificateFailure> {
        verify_server_chain(&self.trust, end_entity, intermediates, name, now).map(|_| ())
    }

    fn check_signature(
        &self,
        version: Version,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let parsed = Cert::parse(cert).map_err(|error| {
            self.outcome.current().fail(CertificateFailure::Malformed { index: 0, error });
            Error::InvalidCertificate(CertificateError::BadEncoding)
        })?;
        // The path check accepts a TLS server leaf with digitalSignature or keyEncipherment
        // (the static-RSA suites only decrypt with the key); here, in an ECDHE or TLS 1.3
        // handshake, the key signs, which only digitalSignature allows.
        if !parsed.key_usage_allows(key_usage::DIGITAL_SIGNATURE) {
            self.outcome.current().fail(CertificateFailure::Path(PathError::KeyUsage {
                cert: parsed.display_name().to_string(),
                needed: "digitalSignature (the server signs the ECDHE or TLS 1.3 handshake with it)",
            }));
            return Err(Error::InvalidCertificate(CertificateError::InvalidPurpose));
        }
        verify_handshake_signature(version, dss.scheme, parsed.spki, message, dss.signature())
            .map(|()| HandshakeSignatureValid::assertion())
            .map_err(|error| {
                let unsupported = matches!(error, HandshakeSignatureError::UnsupportedScheme(_));
                self.outcome.current().fail(CertificateFailure::HandshakeSignature {
                    cert: parsed.display_name().to_string(),
                    error,
                });
                if unsupported {
                    Error::PeerMisbehaved(rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme)
                } else {
                    Error::InvalidCertificate(CertificateError::BadSignature)
                }
            })
    }
}

impl ServerCertVerifier for PkiVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self.check(end_entity, intermediates, server_name, now.as_secs()) {
            Ok(()) => Ok(ServerCertVerified::assertion()),
            Err(failure) => {
                let error = match &failure {
                    CertificateFailure::Path(e) => rustls_error(e),
                    CertificateFailure::MissingIssuer { .. } => CertificateError::UnknownIssuer,
                    _ => CertificateError::BadEncoding,
                };
                self.outcome.current().fail(failure);
                Err(Error::InvalidCertificate(error))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.check_signature(Version::Tls12, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.check_signature(Version::Tls13, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        SUPPORTED_SCHEMES.to_vec()
    }
}
