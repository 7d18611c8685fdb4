//! The proof an `imgverify` leaves on an image: the PKI crate's `Verified`, which records
//! the digests of the content it verified. The launch path re-checks the bytes it is about
//! to start against it, hashing SHA-256 on the CPU's SHA extensions where it has them (a
//! detached signature's content), or recomputing the Authenticode digest (an embedded one).

use alloc::string::String;

use bootsign_pki::cms::{Covers, Verified};
use bootsign_pki::{Digests, HashAlgorithm, MultiHasher};
use bootsign_script::Proof;

use crate::hash::PartialSha256;

/// A verified signature over an image's bytes.
pub struct ImageProof(pub Verified);

impl Proof for ImageProof {
    fn covers_every_byte(&self) -> bool {
        self.0.covers() == Covers::Content
    }

    fn recheck(&self, bytes: &[u8]) -> Result<(), String> {
        if self.0.covers() == Covers::PeImage {
            // An embedded (Authenticode) signature covers the image's Authenticode digest:
            // recomputed over the same ranges, in software.
            return self.0.check_content(bytes).map_err(|e| alloc::format!("{e}"));
        }
        let digests: Digests = self
            .0
            .content_algorithms()
            .map(|alg| {
                match alg {
                    HashAlgorithm::Sha256 => {
                        PartialSha256::new().complete(bytes).get(alg).map(<[u8]>::to_vec)
                    }
                    other => {
                        let mut h = MultiHasher::new([other]);
                        h.update(bytes);
                        h.finish().get(other).map(<[u8]>::to_vec)
                    }
                }
                .map(|d| (alg, d))
            })
            .collect::<Option<_>>()
            .ok_or("a digest could not be computed")?;
        self.0.check_digests(&digests).map_err(|e| alloc::format!("{e}"))
    }
}
