//! The client's private key: loading (PKCS#8, PKCS#1 RSA, SEC1 EC) and signing the
//! CertificateVerify when a server asks for a client certificate.
//!
//! RSA signs with blinding and PSS salts from the platform RNG; ECDSA nonces are
//! deterministic (RFC 6979), so an EC key needs no randomness at all.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use const_oid::db::rfc5912;
use der::Decode;
use pkcs1::DecodeRsaPrivateKey;
use pkcs8::DecodePrivateKey;
use rustls::crypto::KeyProvider;
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::{Signer, SigningKey};
use rustls::{Error, SignatureAlgorithm, SignatureScheme};
use sha2::Digest;

use crate::platform::{CoreRng, RandomSource};

/// Why a private key could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not DER PKCS#8, PKCS#1 or SEC1, or damaged.
    Malformed(&'static str),
    /// A PKCS#8 key of an algorithm the client cannot sign with.
    UnsupportedAlgorithm(alloc::string::String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "the client private key is not a valid {what}"),
            Self::UnsupportedAlgorithm(alg) => {
                write!(f, "the client private key is {alg}; only RSA and ECDSA P-256/P-384 keys can sign")
            }
        }
    }
}

/// A loaded client key.
pub(crate) enum ClientKey {
    Rsa(Box<rsa::PrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl ClientKey {
    /// Decodes a DER key: PKCS#8 first, then PKCS#1 RSA, then SEC1 EC.
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(info) = pkcs8::PrivateKeyInfoRef::from_der(der) {
            return match info.algorithm.oid {
                rfc5912::RSA_ENCRYPTION => rsa::PrivateKey::from_pkcs8_der(der)
                    .map(|k| Self::Rsa(Box::new(k)))
                    .map_err(|_| KeyError::Malformed("PKCS#8 RSA key")),
                rfc5912::ID_EC_PUBLIC_KEY => {
                    let curve =
                        info.algorithm.parameters_oid().map_err(|_| KeyError::Malformed("PKCS#8 EC key"))?;
                    match curve {
                        rfc5912::SECP_256_R_1 => p256::ecdsa::SigningKey::from_pkcs8_der(der)
                            .map(Self::P256)
                            .map_err(|_| KeyError::Malformed("PKCS#8 P-256 key")),
                        rfc5912::SECP_384_R_1 => p384::ecdsa::SigningKey::from_pkcs8_der(der)
                            .map(Self::P384)
                            .map_err(|_| KeyError::Malformed("PKCS#8 P-384 key")),
                        other => {
                            Err(KeyError::UnsupportedAlgorithm(bootsign_pki::signature::oid_name(&other)))
                        }
                    }
                }
                other => Err(KeyError::UnsupportedAlgorithm(bootsign_pki::signature::oid_name(&other))),
            };
        }
        if let Ok(k) = rsa::PrivateKey::from_pkcs1_der(der) {
            return Ok(Self::Rsa(Box::new(k)));
        }
        Self::from_sec1(der)
    }

    fn from_sec1(der: &[u8]) -> Result<Self, KeyError> {
        let ec = sec1::EcPrivateKey::from_der(der)
            .map_err(|_| KeyError::Malformed("key (tried PKCS#8, PKCS#1 RSA and SEC1 EC)"))?;
        let curve = ec.parameters.and_then(|p| p.named_curve());
        match curve {
            Some(rfc5912::SECP_384_R_1) => p384::SecretKey::from_sec1_der(der)
                .map(|k| Self::P384(k.into()))
                .map_err(|_| KeyError::Malformed("SEC1 P-384 key")),
            Some(rfc5912::SECP_256_R_1) | None => p256::SecretKey::from_sec1_der(der)
                .map(|k| Self::P256(k.into()))
                .map_err(|_| KeyError::Malformed("SEC1 P-256 key")),
            Some(other) => Err(KeyError::UnsupportedAlgorithm(bootsign_pki::signature::oid_name(&other))),
        }
    }
}

/// A [`SigningKey`] for rustls.
pub(crate) struct Key {
    key: Arc<ClientKey>,
    rng: &'static dyn RandomSource,
}

impl Key {
    pub(crate) fn new(key: ClientKey, rng: &'static dyn RandomSource) -> Self {
        Self::shared(Arc::new(key), rng)
    }

    pub(crate) fn shared(key: Arc<ClientKey>, rng: &'static dyn RandomSource) -> Self {
        Self { key, rng }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match *self.key {
            ClientKey::Rsa(_) => "RSA",
            ClientKey::P256(_) => "ECDSA P-256",
            ClientKey::P384(_) => "ECDSA P-384",
        };
        write!(f, "Key({kind})")
    }
}

impl SigningKey for Key {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let scheme = match *self.key {
            ClientKey::Rsa(_) => super::schemes::RSA_SCHEMES.into_iter().find(|s| offered.contains(s))?,
            ClientKey::P256(_) => {
                Some(SignatureScheme::ECDSA_NISTP256_SHA256).filter(|s| offered.contains(s))?
            }
            ClientKey::P384(_) => {
                Some(SignatureScheme::ECDSA_NISTP384_SHA384).filter(|s| offered.contains(s))?
            }
        };
        Some(Box::new(KeySigner { key: self.key.clone(), rng: self.rng, scheme }))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match *self.key {
            ClientKey::Rsa(_) => SignatureAlgorithm::RSA,
            _ => SignatureAlgorithm::ECDSA,
        }
    }
}

struct KeySigner {
    key: Arc<ClientKey>,
    rng: &'static dyn RandomSource,
    scheme: SignatureScheme,
}

impl fmt::Debug for KeySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeySigner({:?})", self.scheme)
    }
}

fn rsa_sign(
    key: &rsa::PrivateKey,
    rng: &'static dyn RandomSource,
    scheme: SignatureScheme,
    msg: &[u8],
) -> rsa::Result<Vec<u8>> {
    use sha2::{Sha256, Sha384, Sha512};
    let mut rng = CoreRng(rng);
    match scheme {
        SignatureScheme::RSA_PSS_SHA256 => {
            key.sign_with_rng(&mut rng, rsa::Pss::<Sha256>::new(), &Sha256::digest(msg))
        }
        SignatureScheme::RSA_PSS_SHA384 => {
            key.sign_with_rng(&mut rng, rsa::Pss::<Sha384>::new(), &Sha384::digest(msg))
        }
        SignatureScheme::RSA_PSS_SHA512 => {
            key.sign_with_rng(&mut rng, rsa::Pss::<Sha512>::new(), &Sha512::digest(msg))
        }
        SignatureScheme::RSA_PKCS1_SHA256 => {
            key.sign_with_rng(&mut rng, rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg))
        }
        SignatureScheme::RSA_PKCS1_SHA384 => {
            key.sign_with_rng(&mut rng, rsa::Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(msg))
        }
        _ => key.sign_with_rng(&mut rng, rsa::Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(msg)),
    }
}

impl Signer for KeySigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use p256::ecdsa::signature::Signer as _;
        match &*self.key {
            ClientKey::Rsa(k) => rsa_sign(k, self.rng, self.scheme, message)
                .map_err(|e| Error::General(alloc::format!("RSA signing with the client key failed: {e}"))),
            ClientKey::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                Ok(sig.to_der().as_bytes().to_vec())
            }
            ClientKey::P384(k) => {
                let sig: p384::ecdsa::Signature = k.sign(message);
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

/// Loads keys for rustls (`CryptoProvider::key_provider`).
#[derive(Debug)]
pub(crate) struct KeyLoader {
    pub(crate) rng: &'static dyn RandomSource,
}

impl KeyProvider for KeyLoader {
    fn load_private_key(&self, der: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, Error> {
        let key = ClientKey::from_der(der.secret_der()).map_err(|e| Error::General(alloc::format!("{e}")))?;
        Ok(Arc::new(Key::new(key, self.rng)))
    }
}

/// The TLS 1.0/1.1 CertificateVerify signature of the legacy engine (RFC 4346 §7.4.8):
/// RSA PKCS#1 v1.5 over the bare 36-byte MD5 ‖ SHA-1 of the transcript (no DigestInfo),
/// or ECDSA over its SHA-1 (RFC 4492 §5.8), DER-encoded.
pub(crate) fn sign_tls10(
    key: &ClientKey,
    rng: &'static dyn RandomSource,
    md5_sha1: &[u8; 36],
) -> Result<Vec<u8>, &'static str> {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    let sha1 = &md5_sha1[16..];
    match key {
        ClientKey::Rsa(k) => k
            .sign_with_rng(&mut CoreRng(rng), rsa::Pkcs1v15Sign::new_unprefixed(), md5_sha1)
            .map_err(|_| "RSA signing with the client key failed"),
        ClientKey::P256(k) => {
            let sig: p256::ecdsa::Signature =
                k.sign_prehash(sha1).map_err(|_| "ECDSA signing with the client key failed")?;
            Ok(sig.to_der().as_bytes().to_vec())
        }
        ClientKey::P384(k) => {
            let sig: p384::ecdsa::Signature = k
                .sign_prehash(sha1)
                .map_err(|_| "a P-384 client key cannot sign a SHA-1 digest (TLS 1.0/1.1)")?;
            Ok(sig.to_der().as_bytes().to_vec())
        }
    }
}

impl ClientKey {
    /// Whether the key is RSA (else ECDSA).
    pub(crate) fn is_rsa(&self) -> bool {
        matches!(self, Self::Rsa(_))
    }
}
