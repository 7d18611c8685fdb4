//! What can go wrong inside the legacy engine, named precisely, and the alert each
//! failure sends to the server.
//!
//! Failures shared with the rustls path (certificates, the server's alerts, truncation,
//! TLS 1.0-only servers) use the crate's [`Error`](crate::Error) variants; this enum is for
//! what only the legacy engine's own records and messages can get wrong.

use alloc::string::String;
use core::fmt;

use rustls::AlertDescription;

use crate::config::LegacyVersion;

/// A protocol failure of the legacy engine.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LegacyError {
    /// A record's MAC or padding is wrong: it was damaged or forged on the way.
    BadRecordMac,
    /// A record longer than TLS allows.
    RecordOverflow {
        /// Its length (ciphertext, or plaintext after decryption).
        len: usize,
    },
    /// A record whose content type is not one of TLS's four: the peer does not speak TLS.
    UnknownContentType(u8),
    /// A record whose version's major number is not 3 (TLS): the peer does not speak TLS.
    NotTls {
        /// The version field.
        version: u16,
    },
    /// A message arrived where another was expected.
    UnexpectedMessage {
        /// What the handshake was waiting for.
        expected: &'static str,
        /// What arrived.
        got: &'static str,
    },
    /// A message does not decode (truncated, trailing bytes, bad lengths).
    Decode {
        /// Which message.
        what: &'static str,
    },
    /// A handshake message larger than the engine accepts.
    HandshakeMessageTooLong {
        /// Its announced length.
        len: usize,
    },
    /// The server picked a version below the legacy minimum configured.
    VersionBelowLegacyMinimum {
        /// The version the server picked, as on the wire.
        version: u16,
        /// The configured minimum.
        min: LegacyVersion,
    },
    /// The server picked a version this engine did not offer.
    VersionNotOffered(u16),
    /// The server's random says it speaks a newer version than it picked: someone in between
    /// forced the fallback (RFC 8446 §4.1.3).
    Downgrade,
    /// The server picked one of the TLS 1.2 ECDHE suites the fallback hello offers next to
    /// the static-RSA ones. The legacy engine cannot run them; a server that supports them
    /// would have accepted the first (rustls) hello, so that hello's failure was not genuine
    /// (most likely tampered with by someone in between) and nothing falls back.
    EcdheAvailable {
        /// The suite the server picked.
        suite: u16,
    },
    /// The server picked a cipher suite not offered (or not usable at the version).
    SuiteNotOffered(u16),
    /// The server picked a compression method other than none.
    CompressionNotOffered(u8),
    /// The server answered with an extension the client did not send.
    ExtensionNotOffered(u16),
    /// The server sent the same extension twice.
    DuplicateExtension(u16),
    /// The server's renegotiation_info is not empty on the first handshake (RFC 5746 §3.4).
    BadRenegotiationInfo,
    /// A client certificate is configured but the server's ServerHello has no
    /// renegotiation_info: without secure renegotiation (RFC 5746) an attacker could splice
    /// its own traffic in front of the client's authenticated session (CVE-2009-3555).
    MissingRenegotiationInfo,
    /// The server's key is not RSA: the static-RSA suites encrypt the premaster secret to it.
    ServerKeyNotRsa {
        /// The key, described.
        key: String,
    },
    /// The server certificate's keyUsage does not allow keyEncipherment.
    ServerKeyNotForEncryption {
        /// The certificate.
        cert: String,
    },
    /// The server's Finished does not match the handshake: it was tampered with, or the
    /// server does not hold the certificate's private key.
    BadFinished,
    /// A ChangeCipherSpec in the middle of a handshake message.
    SplitChangeCipherSpec,
    /// The platform RNG failed.
    Random,
    /// RSA encryption of the premaster secret to the server's key failed.
    KeyExchange,
    /// The client key could not sign the CertificateVerify.
    ClientSignature(&'static str),
    /// 2^64 records were sent or received on one connection.
    SequenceExhausted,
}

impl LegacyError {
    /// The fatal alert sent to the server for this failure.
    pub fn alert(&self) -> AlertDescription {
        use AlertDescription as A;
        match self {
            Self::BadRecordMac => A::BadRecordMac,
            Self::RecordOverflow { .. } => A::RecordOverflow,
            Self::UnknownContentType(_) | Self::UnexpectedMessage { .. } | Self::SplitChangeCipherSpec => {
                A::UnexpectedMessage
            }
            Self::NotTls { .. } | Self::VersionBelowLegacyMinimum { .. } | Self::VersionNotOffered(_) => {
                A::ProtocolVersion
            }
            Self::Decode { .. } | Self::HandshakeMessageTooLong { .. } => A::DecodeError,
            Self::Downgrade
            | Self::SuiteNotOffered(_)
            | Self::CompressionNotOffered(_)
            | Self::DuplicateExtension(_) => A::IllegalParameter,
            Self::ExtensionNotOffered(_) => A::UnsupportedExtension,
            Self::BadRenegotiationInfo | Self::MissingRenegotiationInfo | Self::EcdheAvailable { .. } => {
                A::HandshakeFailure
            }
            Self::ServerKeyNotRsa { .. } | Self::ServerKeyNotForEncryption { .. } => {
                A::UnsupportedCertificate
            }
            Self::BadFinished => A::DecryptError,
            Self::Random | Self::KeyExchange | Self::ClientSignature(_) | Self::SequenceExhausted => {
                A::InternalError
            }
        }
    }
}

fn version_name(v: u16) -> &'static str {
    match v {
        0x0300 => "SSL 3.0",
        0x0301 => "TLS 1.0",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        _ => "an unknown version",
    }
}

impl fmt::Display for LegacyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadRecordMac => {
                f.write_str("a record from the server failed its integrity check (bad_record_mac)")
            }
            Self::RecordOverflow { len } => {
                write!(f, "the server sent a record of {len} bytes, over the limit")
            }
            Self::UnknownContentType(t) => {
                write!(f, "the server sent a record of unknown type {t}: it does not speak TLS")
            }
            Self::NotTls { version } => {
                write!(f, "the server sent a record with version {version:#06x}: it does not speak TLS")
            }
            Self::UnexpectedMessage { expected, got } => {
                write!(f, "the server sent {got} where {expected} was expected")
            }
            Self::Decode { what } => write!(f, "the server's {what} is malformed"),
            Self::HandshakeMessageTooLong { len } => {
                write!(f, "the server announced a handshake message of {len} bytes, over the limit")
            }
            Self::VersionBelowLegacyMinimum { version, min } => write!(
                f,
                "the server only offers {} ({version:#06x}), below the configured legacy minimum {min}",
                version_name(*version)
            ),
            Self::VersionNotOffered(v) => {
                write!(f, "the server picked {} ({v:#06x}), which was not offered", version_name(*v))
            }
            Self::Downgrade => f.write_str(
                "the server's random shows it speaks a newer TLS version than it picked: \
                 the connection was forced down by someone in between",
            ),
            Self::EcdheAvailable { suite } => write!(
                f,
                "the server picked the ECDHE cipher suite {suite:#06x} in the fallback hello: it supports \
                 ECDHE suites, so the failure of the first connection was not genuine (possible \
                 tampering by someone in between); refusing to fall back to static RSA"
            ),
            Self::SuiteNotOffered(s) => {
                write!(f, "the server picked cipher suite {s:#06x}, which was not offered")
            }
            Self::CompressionNotOffered(c) => {
                write!(f, "the server picked compression method {c}, which was not offered")
            }
            Self::ExtensionNotOffered(e) => {
                write!(f, "the server answered with extension {e:#06x}, which was not offered")
            }
            Self::DuplicateExtension(e) => write!(f, "the server sent extension {e:#06x} twice"),
            Self::BadRenegotiationInfo => f.write_str("the server's renegotiation_info is not empty"),
            Self::MissingRenegotiationInfo => f.write_str(
                "the server does not support secure renegotiation (no renegotiation_info in its \
                 ServerHello), which is required when a client certificate is configured \
                 (CVE-2009-3555)",
            ),
            Self::ServerKeyNotRsa { key } => write!(
                f,
                "the server's certificate has a {key} key; the static-RSA cipher suites need an RSA key"
            ),
            Self::ServerKeyNotForEncryption { cert } => write!(
                f,
                "the keyUsage of the server certificate \"{cert}\" does not allow keyEncipherment, \
                 which the static-RSA cipher suites need"
            ),
            Self::BadFinished => f.write_str(
                "the server's Finished message does not match the handshake \
                 (tampered with, or the server does not hold its certificate's key)",
            ),
            Self::SplitChangeCipherSpec => {
                f.write_str("the server sent ChangeCipherSpec in the middle of a handshake message")
            }
            Self::Random => f.write_str("the platform random number generator failed"),
            Self::KeyExchange => {
                f.write_str("encrypting the premaster secret to the server's RSA key failed")
            }
            Self::ClientSignature(why) => write!(f, "cannot sign the CertificateVerify: {why}"),
            Self::SequenceExhausted => f.write_str("the record sequence number is exhausted"),
        }
    }
}

impl core::error::Error for LegacyError {}
