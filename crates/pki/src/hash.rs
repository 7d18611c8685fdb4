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

/// An incremental digest of one algorithm.
#[derive(Clone)]
pub enum Hasher {
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-256.
    Sha256(sha2::Sha256),
    /// SHA-384.
    Sha384(sha2::Sha384),
    /// SHA-512.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh hasher for `alg`.
    pub fn new(alg: HashAlgorithm) -> Self {
        match alg {
            HashAlgorithm::Sha1 => Self::Sha1(sha1::Sha1::new()),
            HashAlgorithm::Sha256 => Self::Sha256(sha2::Sha256::new()),
            HashAlgorithm::Sha384 => Self::Sha384(sha2::Sha384::new()),
            HashAlgorithm::Sha512 => Self::Sha512(sha2::Sha512::new()),
        }
    }

    /// Feeds more data.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha1(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
        }
    }

    /// The digest.
    pub fn finish(self) -> Vec<u8> {
        match self {
            Self::Sha1(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Sha384(h) => h.finalize().to_vec(),
            Self::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// Digests of one content under several algorithms, computed in a single pass (for
/// signatures whose signers use different digests).
#[derive(Clone)]
pub struct MultiHasher {
    hashers: Vec<(HashAlgorithm, Hasher)>,
}

/// The digests a [`MultiHasher`] produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digests(Vec<(HashAlgorithm, Vec<u8>)>);

impl MultiHasher {
    /// Hashes with each algorithm in `algs` (duplicates are ignored).
    pub fn new(algs: impl IntoIterator<Item = HashAlgorithm>) -> Self {
        let mut hashers: Vec<(HashAlgorithm, Hasher)> = Vec::new();
        for alg in algs {
            if !hashers.iter().any(|(a, _)| *a == alg) {
                hashers.push((alg, Hasher::new(alg)));
            }
        }
        Self { hashers }
    }

    /// Feeds more content.
    pub fn update(&mut self, data: &[u8]) {
        for (_, h) in &mut self.hashers {
            h.update(data);
        }
    }

    /// All digests.
    pub fn finish(self) -> Digests {
        Digests(self.hashers.into_iter().map(|(a, h)| (a, h.finish())).collect())
    }
}

/// Digests computed elsewhere (e.g. by a platform's hardware-assisted hash).
impl FromIterator<(HashAlgorithm, Vec<u8>)> for Digests {
    fn from_iter<I: IntoIterator<Item = (HashAlgorithm, Vec<u8>)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl Digests {
    /// The digest under `alg`, if it was computed.
    pub fn get(&self, alg: HashAlgorithm) -> Option<&[u8]> {
        self.0.iter().find(|(a, _)| *a == alg).map(|(_, d)| d.as_slice())
    }
}
