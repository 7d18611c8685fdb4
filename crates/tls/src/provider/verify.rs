//! Handshake signature verification (the server's CertificateVerify or ServerKeyExchange
//! signature) with bootsign-pki's signature code: the same RSA and ECDSA checks that
//! validate certificates and CMS signatures.

use bootsign_pki::{HashAlgorithm, PublicKey, SignatureAlgorithm, SignatureError};
use rustls::SignatureScheme;

pub use super::schemes::SUPPORTED_SCHEMES;

/// Which protocol the signature was made under: TLS 1.3 binds ECDSA schemes to a curve
/// and forbids PKCS#1 v1.5 in CertificateVerify (RFC 8446 §4.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// TLS 1.2 ServerKeyExchange.
    Tls12,
    /// TLS 1.3 CertificateVerify.
    Tls13,
}

/// Why a handshake signature was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandshakeSignatureError {
    /// The scheme is not one offered (or not allowed in this version).
    UnsupportedScheme(SignatureScheme),
    /// The scheme needs another kind of key than the certificate's.
    KeyMismatch {
        /// The scheme the server used.
        scheme: SignatureScheme,
        /// The certificate's key, described.
        key: alloc::string::String,
    },
    /// The signature does not verify, or the key is unusable.
    Signature(SignatureError),
}

impl core::fmt::Display for HandshakeSignatureError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::UnsupportedScheme(s) => write!(f, "signature scheme {s:?} is not supported here"),
            Self::KeyMismatch { scheme, key } => {
                write!(f, "signature scheme {scheme:?} cannot be used with a {key} key")
            }
            Self::Signature(e) => write!(f, "{e}"),
        }
    }
}

/// Checks `signature` by the key in the DER `SubjectPublicKeyInfo` `spki` over `message`.
pub fn verify_handshake_signature(
    version: Version,
    scheme: SignatureScheme,
    spki: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), HandshakeSignatureError> {
    use HashAlgorithm::*;
    let key = PublicKey::from_spki_der(spki).map_err(HandshakeSignatureError::Signature)?;
    let pss = |hash: HashAlgorithm| SignatureAlgorithm::RsaPss { hash, salt_len: hash.output_len() };
    let alg = match scheme {
        SignatureScheme::RSA_PSS_SHA256 => pss(Sha256),
        SignatureScheme::RSA_PSS_SHA384 => pss(Sha384),
        SignatureScheme::RSA_PSS_SHA512 => pss(Sha512),
        SignatureScheme::RSA_PKCS1_SHA256 if version == Version::Tls12 => {
            SignatureAlgorithm::RsaPkcs1(Sha256)
        }
        SignatureScheme::RSA_PKCS1_SHA384 if version == Version::Tls12 => {
            SignatureAlgorithm::RsaPkcs1(Sha384)
        }
        SignatureScheme::RSA_PKCS1_SHA512 if version == Version::Tls12 => {
            SignatureAlgorithm::RsaPkcs1(Sha512)
        }
        SignatureScheme::ECDSA_NISTP256_SHA256 => SignatureAlgorithm::Ecdsa(Sha256),
        SignatureScheme::ECDSA_NISTP384_SHA384 => SignatureAlgorithm::Ecdsa(Sha384),
        other => return Err(HandshakeSignatureError::UnsupportedScheme(other)),
    };
    let curve_ok = match (&key, scheme) {
        (PublicKey::Rsa(_), _) => !matches!(alg, SignatureAlgorithm::Ecdsa(_)),
        (_, _) if !matches!(alg, SignatureAlgorithm::Ecdsa(_)) => false,
        // In TLS 1.2 the ECDSA scheme names only the hash; TLS 1.3 names the curve too.
        (_, _) if version == Version::Tls12 => true,
        (PublicKey::P256(_), SignatureScheme::ECDSA_NISTP256_SHA256) => true,
        (PublicKey::P384(_), SignatureScheme::ECDSA_NISTP384_SHA384) => true,
        _ => false,
    };
    if !curve_ok {
        return Err(HandshakeSignatureError::KeyMismatch { scheme, key: key.describe() });
    }
    key.verify(alg, message, signature).map_err(HandshakeSignatureError::Signature)
}
