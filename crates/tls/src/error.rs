//! The client's errors: what happened, in words a person can act on.
//!
//! rustls reports protocol failures with its own `Error`; the client translates the ones
//! that have a likely cause (an alert from the server, a server stuck on TLS 1.0/1.1, a
//! certificate check) into precise variants, and keeps rustls's message for the rest.

use alloc::string::String;
use core::fmt;

use bootsign_pki::CrlError;
use bootsign_pki::cert::CertError;
use bootsign_pki::text::escape;
use rustls::AlertDescription;

use crate::config::{Config, TlsVersion};
use crate::legacy::LegacyError;
use crate::provider::sign::KeyError;
use crate::verifier::CertificateFailure;

/// Why a TLS connection failed or could not be set up.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server's certificate (or its handshake signature) was refused.
    Certificate(CertificateFailure),
    /// The server ended the handshake with a fatal alert.
    AlertReceived {
        /// The alert.
        alert: AlertDescription,
        /// The server had asked for a client certificate.
        client_cert_requested: bool,
        /// One was configured (and so was sent).
        client_cert_configured: bool,
    },
    /// The server speaks only TLS 1.0 or 1.1 (or SSL), which this client does not.
    LegacyProtocolOnly,
    /// The server does not speak the configured minimum version or a later one.
    VersionBelowMinimum {
        /// The configured minimum.
        min: TlsVersion,
    },
    /// Any other protocol failure, with rustls's description.
    Protocol(rustls::Error),
    /// The peer closed the TCP connection without a close_notify: data may be missing.
    Truncated,
    /// The peer closed the TCP connection before the handshake finished.
    ClosedDuringHandshake,
    /// Data was written after [`Client::close`](crate::Client::close).
    WriteAfterClose,
    /// The server name is neither a DNS name nor an IP address.
    InvalidServerName(String),
    /// A client certificate was configured without its certificate.
    ClientCertificateMissing,
    /// A certificate of the client chain does not parse.
    ClientCertificate {
        /// Its position, the client's own being 0.
        index: usize,
        /// What is wrong with it.
        error: CertError,
    },
    /// The client private key cannot be used.
    ClientKey(KeyError),
    /// An extra certificate given to the configuration does not parse.
    ExtraCertificate {
        /// Its position in the list given.
        index: usize,
        /// What is wrong with it.
        error: CertError,
    },
    /// A CRL given to [`Config::add_crls`](crate::Config::add_crls) does not parse.
    Crl {
        /// Its position in the list given.
        index: usize,
        /// What is wrong with it.
        error: CrlError,
    },
    /// A protocol failure in the legacy engine ([`LegacyClient`](crate::LegacyClient)).
    Legacy(LegacyError),
}

impl Error {
    /// Whether the server's certificate path failed on the validation time (see
    /// [`PathError::depends_on_the_clock`](bootsign_pki::PathError::depends_on_the_clock)).
    pub fn depends_on_the_clock(&self) -> bool {
        matches!(self, Self::Certificate(CertificateFailure::Path(e)) if e.depends_on_the_clock())
    }

    /// For a chain that stops at an issuer nobody supplied: the issuer's DER name, to fetch
    /// a cross-certificate for (see [`crosscert`](crate::crosscert)).
    pub fn missing_issuer(&self) -> Option<&[u8]> {
        match self {
            Self::Certificate(CertificateFailure::MissingIssuer { issuer_dn, .. }) => Some(issuer_dn),
            _ => None,
        }
    }

    /// The fallback rule: whether a connection by [`Client`](crate::Client) that failed
    /// with this error should be tried again, on a new TCP connection, with
    /// [`LegacyClient`](crate::LegacyClient).
    ///
    /// True only when the server refused the hello itself and the legacy engine can offer
    /// something the first hello did not:
    ///
    /// - a handshake_failure or insufficient_security alert before any client certificate
    ///   was asked for (no suite in common): the legacy engine adds the four static-RSA
    ///   CBC suites at TLS 1.2, whatever the legacy setting;
    /// - [`Error::LegacyProtocolOnly`] or a protocol_version alert (a server below TLS 1.2):
    ///   only when [`Config::set_legacy_min`] enabled TLS 1.0/1.1.
    ///
    /// Never when the configuration requires TLS 1.3, and never for certificate failures,
    /// truncation or anything else: retrying cannot mend those. See also
    /// [`Connection`](crate::Connection), which applies this rule.
    pub fn wants_legacy_retry(&self, config: &Config) -> bool {
        if config.min_version != TlsVersion::Tls12 {
            return false;
        }
        let legacy_versions = config.legacy_min.is_some();
        match self {
            Self::AlertReceived {
                alert: AlertDescription::HandshakeFailure | AlertDescription::InsufficientSecurity,
                client_cert_requested: false,
                ..
            } => true,
            Self::AlertReceived {
                alert: AlertDescription::ProtocolVersion,
                client_cert_requested: false,
                ..
            }
            | Self::LegacyProtocolOnly => legacy_versions,
            _ => false,
        }
    }
}

/// The RFC 8446/5246 name of an alert, as servers' logs print it.
pub fn alert_name(alert: AlertDescription) -> &'static str {
    use AlertDescription::*;
    match alert {
        CloseNotify => "close_notify",
        UnexpectedMessage => "unexpected_message",
        BadRecordMac => "bad_record_mac",
        RecordOverflow => "record_overflow",
        HandshakeFailure => "handshake_failure",
        BadCertificate => "bad_certificate",
        UnsupportedCertificate => "unsupported_certificate",
        CertificateRevoked => "certificate_revoked",
        CertificateExpired => "certificate_expired",
        CertificateUnknown => "certificate_unknown",
        IllegalParameter => "illegal_parameter",
        UnknownCA => "unknown_ca",
        AccessDenied => "access_denied",
        DecodeError => "decode_error",
        DecryptError => "decrypt_error",
        ProtocolVersion => "protocol_version",
        InsufficientSecurity => "insufficient_security",
        InternalError => "internal_error",
        InappropriateFallback => "inappropriate_fallback",
        UserCanceled => "user_canceled",
        MissingExtension => "missing_extension",
        UnsupportedExtension => "unsupported_extension",
        UnrecognisedName => "unrecognized_name",
        CertificateRequired => "certificate_required",
        NoApplicationProtocol => "no_application_protocol",
        _ => "unknown",
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Certificate(c) => write!(f, "server certificate refused: {c}"),
            Self::AlertReceived { alert, client_cert_requested, client_cert_configured } => {
                write!(
                    f,
                    "the server ended the handshake with alert {} ({})",
                    alert_name(*alert),
                    u8::from(*alert)
                )?;
                match (alert, client_cert_requested, client_cert_configured) {
                    (_, true, false) => {
                        f.write_str(": it asked for a client certificate and none is configured")
                    }
                    (
                        AlertDescription::BadCertificate
                        | AlertDescription::UnknownCA
                        | AlertDescription::CertificateUnknown
                        | AlertDescription::CertificateExpired
                        | AlertDescription::UnsupportedCertificate
                        | AlertDescription::DecryptError
                        | AlertDescription::AccessDenied,
                        true,
                        true,
                    ) => f.write_str(": it did not accept the client certificate"),
                    (AlertDescription::ProtocolVersion, _, _) => f.write_str(
                        ": it does not speak TLS 1.2 or 1.3 (it may offer only TLS 1.0/1.1, which this client does not)",
                    ),
                    (AlertDescription::HandshakeFailure | AlertDescription::InsufficientSecurity, _, _) => {
                        f.write_str(": no cipher suite, key exchange group or signature scheme in common")
                    }
                    _ => Ok(()),
                }
            }
            Self::LegacyProtocolOnly => f.write_str(
                "the server only offers TLS 1.0/1.1 (or SSL); this client speaks TLS 1.2 and 1.3 only",
            ),
            Self::VersionBelowMinimum { min } => {
                write!(f, "the server does not speak {min} or later, the configured minimum")
            }
            Self::Protocol(e) => write!(f, "TLS protocol error: {e}"),
            Self::Truncated => f.write_str(
                "the server closed the connection without close_notify: the data may be truncated",
            ),
            Self::ClosedDuringHandshake => {
                f.write_str("the server closed the connection during the TLS handshake")
            }
            Self::WriteAfterClose => f.write_str("cannot send data after closing the TLS connection"),
            Self::InvalidServerName(n) => {
                write!(f, "\"{}\" is neither a DNS name nor an IP address", escape(n))
            }
            Self::ClientCertificateMissing => f.write_str("a client key was given without its certificate"),
            Self::ClientCertificate { index, error } => {
                write!(f, "client certificate {} is unreadable: {error}", index + 1)
            }
            Self::ClientKey(e) => write!(f, "{e}"),
            Self::ExtraCertificate { index, error } => {
                write!(f, "extra certificate {} is unreadable: {error}", index + 1)
            }
            Self::Crl { index, error } => write!(f, "CRL {} is unreadable: {error}", index + 1),
            Self::Legacy(e) => write!(f, "TLS protocol error: {e}"),
        }
    }
}

impl core::error::Error for Error {}
