//! Signature verification by X.509 algorithm identifier.
//!
//! Covers what bootsign must accept from certificates, CSRs and CMS signers:
//! RSA PKCS#1 v1.5 with SHA-1/256/384/512, RSASSA-PSS (MGF1 with the same hash,
//! trailer field 1), and ECDSA on P-256 and P-384. Anything else is an
//! [`SignatureError::UnsupportedAlgorithm`], never a silent pass.

use core::fmt;

use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5912, rfc5912::ID_MGF_1};
use der::{Decode, asn1::AnyRef};

use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use crate::der_view::DerError;
use crate::hash::HashAlgorithm;

/// Why a signature was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature algorithm OID is not one bootsign verifies.
    UnsupportedAlgorithm(ObjectIdentifier),
    /// The algorithm's parameters are malformed or of a kind not supported
    /// (for RSA-PSS: a mask hash different from the message hash).
    BadParameters(&'static str),
    /// The public key algorithm (or elliptic curve) is not supported.
    UnsupportedKey(ObjectIdentifier),
    /// The public key could not be decoded, or is out of the accepted range.
    BadKey(&'static str),
    /// The signature algorithm needs another kind of key than the signer's.
    KeyMismatch,
    /// The signature does not verify: wrong key, or the data was changed.
    Invalid,
    /// The encoding around the signature is malformed.
    Der(DerError),
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedAlgorithm(oid) => {
                write!(f, "unsupported signature algorithm {}", oid_name(oid))
            }
            Self::BadParameters(what) => write!(f, "bad signature algorithm parameters: {what}"),
            Self::UnsupportedKey(oid) => write!(f, "unsupported public key type {}", oid_name(oid)),
            Self::BadKey(what) => write!(f, "bad public key: {what}"),
            Self::KeyMismatch => f.write_str("signature algorithm does not match the key type"),
            Self::Invalid => f.write_str("signature does not verify"),
            Self::Der(e) => write!(f, "{e}"),
        }
    }
}

impl From<DerError> for SignatureError {
    fn from(e: DerError) -> Self {
        Self::Der(e)
    }
}

/// A readable name for an OID: the registered name where one is known.
pub fn oid_name(oid: &ObjectIdentifier) -> alloc::string::String {
    use alloc::string::ToString;
    match const_oid::db::DB.by_oid(oid) {
        Some(name) => alloc::format!("{name} ({oid})"),
        None => oid.to_string(),
    }
}

/// The name of a signature algorithm built on a broken hash (MD2, MD5, SHA-1), if `der` (an
/// `AlgorithmIdentifier`) is one. Certificates signed so are refused in paths.
pub fn weak_hash(der: &[u8]) -> Option<&'static str> {
    const MD2_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.2");
    const MD5_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.4");
    const SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
    const SHA1_ECDSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
    const SHA1_DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.3");
    let alg = AlgorithmIdentifierRef::from_der(der).ok()?;
    match alg.oid {
        MD2_RSA => Some("md2WithRSAEncryption"),
        MD5_RSA => Some("md5WithRSAEncryption"),
        SHA1_RSA => Some("sha1WithRSAEncryption"),
        SHA1_ECDSA => Some("ecdsa-with-SHA1"),
        SHA1_DSA => Some("dsa-with-SHA1"),
        rfc5912::ID_RSASSA_PSS => match SignatureAlgorithm::from_pss_params(alg.parameters) {
            Ok(SignatureAlgorithm::RsaPss { hash: HashAlgorithm::Sha1, .. }) => Some("RSASSA-PSS with SHA-1"),
            _ => None,
        },
        _ => None,
    }
}

/// A signature scheme with its digest, as named by an `AlgorithmIdentifier`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 over a DigestInfo.
    RsaPkcs1(HashAlgorithm),
    /// RSASSA-PSS with MGF1 over the same hash.
    RsaPss {
        /// Message and mask hash.
        hash: HashAlgorithm,
        /// Salt length in bytes.
        salt_len: usize,
    },
    /// ECDSA with the signature DER-encoded (`Ecdsa-Sig-Value`).
    Ecdsa(HashAlgorithm),
}

impl SignatureAlgorithm {
    /// Decodes a DER `AlgorithmIdentifier`.
    pub fn from_der(der: &[u8]) -> Result<Self, SignatureError> {
        let alg = AlgorithmIdentifierRef::from_der(der)
            .map_err(|_| SignatureError::BadParameters("malformed AlgorithmIdentifier"))?;
        Self::from_identifier(&alg)
    }

    /// Interprets a decoded `AlgorithmIdentifier`.
    pub fn from_identifier(alg: &AlgorithmIdentifierRef<'_>) -> Result<Self, SignatureError> {
        use HashAlgorithm::*;
        let rsa = |h| {
            // RFC 4055: the parameters are NULL, and absent is tolerated as OpenSSL does.
            match alg.parameters {
                None => Ok(Self::RsaPkcs1(h)),
                Some(p) if p.is_null() => Ok(Self::RsaPkcs1(h)),
                Some(_) => Err(SignatureError::BadParameters("RSA parameters must be NULL")),
            }
        };
        let ecdsa = |h| match alg.parameters {
            None => Ok(Self::Ecdsa(h)),
            Some(_) => Err(SignatureError::BadParameters("ECDSA parameters must be absent")),
        };
        match alg.oid {
            rfc5912::SHA_1_WITH_RSA_ENCRYPTION => rsa(Sha1),
            rfc5912::SHA_256_WITH_RSA_ENCRYPTION => rsa(Sha256),
            rfc5912::SHA_384_WITH_RSA_ENCRYPTION => rsa(Sha384),
            rfc5912::SHA_512_WITH_RSA_ENCRYPTION => rsa(Sha512),
            rfc5912::ECDSA_WITH_SHA_256 => ecdsa(Sha256),
            rfc5912::ECDSA_WITH_SHA_384 => ecdsa(Sha384),
            rfc5912::ECDSA_WITH_SHA_512 => ecdsa(Sha512),
            rfc5912::ID_RSASSA_PSS => Self::from_pss_params(alg.parameters),
            other => Err(SignatureError::UnsupportedAlgorithm(other)),
        }
    }

    fn from_pss_params<'a>(params: Option<AnyRef<'a>>) -> Result<Self, SignatureError> {
        let params = params.ok_or(SignatureError::BadParameters("RSA-PSS without parameters"))?;
        let p: rsa::pkcs1::RsaPssParams<der::asn1::Any> =
            params.decode_as().map_err(|_| SignatureError::BadParameters("malformed RSA-PSS parameters"))?;
        let hash =
            HashAlgorithm::from_oid(&p.hash.oid).ok_or(SignatureError::UnsupportedAlgorithm(p.hash.oid))?;
        if p.mask_gen.oid != ID_MGF_1 {
            return Err(SignatureError::UnsupportedAlgorithm(p.mask_gen.oid));
        }
        let mgf_hash = p
            .mask_gen
            .parameters
            .as_ref()
            .map(|h| h.oid)
            .ok_or(SignatureError::BadParameters("MGF1 without a hash"))?;
        if HashAlgorithm::from_oid(&mgf_hash) != Some(hash) {
            return Err(SignatureError::BadParameters("RSA-PSS mask hash differs from the message hash"));
        }
        if p.trailer_field != rsa::pkcs1::TrailerField::BC {
            return Err(SignatureError::BadParameters("RSA-PSS trailer field is not 1"));
        }
        Ok(Self::RsaPss { hash, salt_len: usize::from(p.salt_len) })
    }

    /// The digest the scheme signs.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::RsaPkcs1(h) | Self::Ecdsa(h) | Self::RsaPss { hash: h, .. } => h,
        }
    }
}

/// A public key that can verify signatures.
#[derive(Clone, Debug)]
pub enum PublicKey {
    /// RSA, 1024 to 8192 bits.
    Rsa(rsa::PublicKey),
    /// ECDSA on NIST P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// ECDSA on NIST P-384.
    P384(p384::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// Decodes a DER `SubjectPublicKeyInfo`.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, SignatureError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|_| SignatureError::BadKey("malformed SubjectPublicKeyInfo"))?;
        Self::from_spki(&spki)
    }

    /// Interprets a decoded `SubjectPublicKeyInfo`.
    pub fn from_spki(spki: &SubjectPublicKeyInfoRef<'_>) -> Result<Self, SignatureError> {
        match spki.algorithm.oid {
            rfc5912::RSA_ENCRYPTION => rsa::PublicKey::try_from(spki.clone())
                .map(Self::Rsa)
                .map_err(|_| SignatureError::BadKey("RSA key malformed or not 1024-8192 bits")),
            rfc5912::ID_EC_PUBLIC_KEY => {
                let curve: ObjectIdentifier = spki
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as().ok())
                    .ok_or(SignatureError::BadKey("EC key without a named curve"))?;
                let point = spki
                    .subject_public_key
                    .as_bytes()
                    .ok_or(SignatureError::BadKey("EC point has unused bits"))?;
                match curve {
                    rfc5912::SECP_256_R_1 => p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map(Self::P256)
                        .map_err(|_| SignatureError::BadKey("not a P-256 point")),
                    rfc5912::SECP_384_R_1 => p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map(Self::P384)
                        .map_err(|_| SignatureError::BadKey("not a P-384 point")),
                    other => Err(SignatureError::UnsupportedKey(other)),
                }
            }
            other => Err(SignatureError::UnsupportedKey(other)),
        }
    }

    /// Verifies `signature` over `message`.
    pub fn verify(
        &self,
        alg: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        self.verify_digest(alg, &alg.hash().digest(message), signature)
    }

    /// Verifies `signature` over a message whose `alg.hash()` digest is `digest`
    /// (for content that was hashed as it streamed past).
    pub fn verify_digest(
        &self,
        alg: SignatureAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        use HashAlgorithm::*;
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        if digest.len() != alg.hash().output_len() {
            return Err(SignatureError::Invalid);
        }
        match (self, alg) {
            (Self::Rsa(key), SignatureAlgorithm::RsaPkcs1(h)) => {
                let scheme = match h {
                    Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                    Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                    Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                };
                key.verify(scheme, digest, signature).map_err(|_| SignatureError::Invalid)
            }
            (Self::Rsa(key), SignatureAlgorithm::RsaPss { hash, salt_len }) => {
                let result = match hash {
                    Sha1 => key.verify(rsa::Pss::<sha1::Sha1>::new_with_salt(salt_len), digest, signature),
                    Sha256 => {
                        key.verify(rsa::Pss::<sha2::Sha256>::new_with_salt(salt_len), digest, signature)
                    }
                    Sha384 => {
                        key.verify(rsa::Pss::<sha2::Sha384>::new_with_salt(salt_len), digest, signature)
                    }
                    Sha512 => {
                        key.verify(rsa::Pss::<sha2::Sha512>::new_with_salt(salt_len), digest, signature)
                    }
                };
                result.map_err(|_| SignatureError::Invalid)
            }
            (Self::P256(key), SignatureAlgorithm::Ecdsa(_)) => {
                let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| SignatureError::Invalid)?;
                key.verify_prehash(digest, &sig).map_err(|_| SignatureError::Invalid)
            }
            (Self::P384(key), SignatureAlgorithm::Ecdsa(_)) => {
                let sig = p384::ecdsa::Signature::from_der(signature).map_err(|_| SignatureError::Invalid)?;
                key.verify_prehash(digest, &sig).map_err(|_| SignatureError::Invalid)
            }
            _ => Err(SignatureError::KeyMismatch),
        }
    }

    /// The key's size in bits: the RSA modulus, or the curve's order.
    pub fn bits(&self) -> usize {
        use rsa::traits::PublicKeyParts;
        match self {
            Self::Rsa(k) => k.n().bit_width() as usize,
            Self::P256(_) => 256,
            Self::P384(_) => 384,
        }
    }

    /// A short description such as `RSA 2048` or `ECDSA P-256`.
    pub fn describe(&self) -> alloc::string::String {
        use rsa::traits::PublicKeyParts;
        match self {
            Self::Rsa(k) => alloc::format!("RSA {}", k.n().bit_width()),
            Self::P256(_) => "ECDSA P-256".into(),
            Self::P384(_) => "ECDSA P-384".into(),
        }
    }
}

#[cfg(test)]
mod tests;
