//! The message digests that appear in X.509 and CMS algorithm identifiers.

use alloc::vec::Vec;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use sha2::Digest;

/// A digest algorithm bootsign can compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// SHA-1: accepted only where old signatures still use it.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The algorithm named by a digest OID (`id-sha1`, `id-sha256`, ...).
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Some(match *oid {
            rfc5912::ID_SHA_1 => Self::Sha1,
            rfc5912::ID_SHA_256 => Self::Sha256,
            rfc5912::ID_SHA_384 => Self::Sha384,
            rfc5912::ID_SHA_512 => Self::Sha512,
            _ => return None,
        })
    }

    /// The digest OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => rfc5912::ID_SHA_1,
            Self::Sha256 => rfc5912::ID_SHA_256,
            Self::Sha384 => rfc5912::ID_SHA_384,
            Self::Sha512 => rfc5912::ID_SHA_512,
        }
    }

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The digest of `data` in one call.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// Conventional name, as OpenSSL prints it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }
}
