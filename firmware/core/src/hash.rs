//! The SHA-256 of downloads. Hashing runs while the downloader waits for the network,
//! so it costs the download nothing; what is left when the last byte arrives is hashed
//! when a signature check needs the digest. On the CPU's SHA extensions where it has
//! them, else in software by the PKI crate.

use bootsign_pki::{Digests, HashAlgorithm, MultiHasher};

use crate::sha256_ni;

#[derive(Clone)]
enum Engine {
    Ni(sha256_ni::Sha256),
    Soft(MultiHasher),
}

/// The SHA-256 of a prefix of a download.
#[derive(Clone)]
pub struct PartialSha256 {
    engine: Engine,
    hashed: usize,
}

/// Nothing hashed yet (an image made from other bytes, by `imgextract`).
impl Default for PartialSha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialSha256 {
    pub fn new() -> Self {
        let engine = match sha256_ni::Sha256::new() {
            Some(h) => Engine::Ni(h),
            None => Engine::Soft(MultiHasher::new([HashAlgorithm::Sha256])),
        };
        Self { engine, hashed: 0 }
    }

    /// Hashes up to `max` more bytes of `content` (of which the first `hashed` bytes are
    /// done). Returns whether anything was left to hash.
    pub fn advance(&mut self, content: &[u8], max: usize) -> bool {
        let end = content.len().min(self.hashed.saturating_add(max));
        if end <= self.hashed {
            return false;
        }
        let chunk = &content[self.hashed..end];
        match &mut self.engine {
            Engine::Ni(h) => h.update(chunk),
            Engine::Soft(h) => h.update(chunk),
        }
        self.hashed = end;
        true
    }

    /// The digest of all of `content`, which must start with the bytes hashed so far.
    pub fn complete(&self, content: &[u8]) -> Digests {
        let mut rest = self.clone();
        rest.advance(content, usize::MAX);
        match rest.engine {
            Engine::Ni(h) => [(HashAlgorithm::Sha256, h.finish().to_vec())].into_iter().collect(),
            Engine::Soft(h) => h.finish(),
        }
    }
}
