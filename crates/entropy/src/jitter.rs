//! The jitter source: raw samples in, health-tested and SHA-256-conditioned seeds out.

use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::health::{HealthError, HealthTests};
use crate::{CREDITED_SAMPLES_PER_SEED, STARTUP_SAMPLES};

/// 256 bits of full entropy, for keying a DRBG. Wiped when dropped.
pub struct Seed(pub [u8; 32]);

impl Drop for Seed {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl core::fmt::Debug for Seed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Seed(..)")
    }
}

/// At most this many samples per seed, stuck ones included: four times the credited
/// samples a seed needs. More means over three quarters of the samples were stuck.
const MAX_SAMPLES_PER_SEED: u32 = 4 * CREDITED_SAMPLES_PER_SEED;

/// A timing-jitter entropy source: the platform [`push`](Self::push)es raw samples until
/// a seed comes back.
///
/// The first [`STARTUP_SAMPLES`] samples are the start-up test: they are tested and
/// hashed, but not credited. After that, every [`CREDITED_SAMPLES_PER_SEED`] samples that
/// pass the tests and are not stuck complete a seed. Once a test fails, every later
/// `push` returns the same error. Neither `Clone` nor `Debug`: it holds recent raw
/// samples and the conditioner's state, which are seed material.
pub struct JitterSource {
    health: HealthTests,
    hash: Sha256,
    credited: u32,
    stuck: u32,
    failed: Option<HealthError>,
}

impl Default for JitterSource {
    fn default() -> Self {
        Self::new()
    }
}

impl JitterSource {
    /// A source that has seen nothing: the start-up test comes first.
    pub fn new() -> Self {
        Self {
            health: HealthTests::new(),
            hash: Sha256::new_with_prefix(b"bootsign jitter entropy v1"),
            credited: 0,
            stuck: 0,
            failed: None,
        }
    }

    /// Tests and hashes one raw sample (the timer's difference across one round of the
    /// platform's workload). Returns a seed when enough entropy has been credited.
    pub fn push(&mut self, delta: u64) -> Result<Option<Seed>, HealthError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let credit = match self.health.check(delta) {
            Ok(credit) => credit,
            Err(e) => return Err(*self.failed.insert(e)),
        };
        self.hash.update(delta.to_le_bytes());
        if !self.startup_passed() {
            // The start-up test: hashed into the first seed, never credited.
            return Ok(None);
        }
        if credit {
            self.credited += 1;
        } else {
            self.stuck += 1;
        }
        if self.credited + self.stuck > MAX_SAMPLES_PER_SEED {
            let e = HealthError::TooManyStuck { stuck: self.stuck, samples: self.credited + self.stuck };
            return Err(*self.failed.insert(e));
        }
        if self.credited < CREDITED_SAMPLES_PER_SEED {
            return Ok(None);
        }
        let mut digest: [u8; 32] = self.hash.finalize_reset().into();
        let seed = Seed(digest);
        digest.zeroize();
        self.hash.update(b"bootsign jitter entropy v1");
        self.credited = 0;
        self.stuck = 0;
        Ok(Some(seed))
    }

    /// Whether the start-up test is behind: [`STARTUP_SAMPLES`] samples passed.
    pub fn startup_passed(&self) -> bool {
        self.health.seen() > u64::from(STARTUP_SAMPLES)
    }

    /// Every sample tested so far, the start-up test's included.
    pub fn samples(&self) -> u64 {
        self.health.seen()
    }

    /// The failure that stopped the source, if one did.
    pub fn failure(&self) -> Option<HealthError> {
        self.failed
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::RCT_CUTOFF;
    use crate::health::tests::good;

    fn seed_from(samples: &[u64]) -> Result<(Seed, usize), HealthError> {
        let mut src = JitterSource::new();
        for (i, &s) in samples.iter().enumerate() {
            if let Some(seed) = src.push(s)? {
                return Ok((seed, i + 1));
            }
        }
        panic!("no seed from {} samples", samples.len());
    }

    #[test]
    fn a_seed_comes_after_the_startup_test_and_enough_credited_samples() {
        let samples = good(10_000, 5);
        let (seed, used) = seed_from(&samples).unwrap();
        // 1024 start-up samples, then 3840 credited ones (a handful of chance repeats aside).
        let first = STARTUP_SAMPLES as usize + CREDITED_SAMPLES_PER_SEED as usize;
        assert!((first..first + 20).contains(&used), "{used}");
        // The seed is SHA-256 over the domain prefix and the samples used, little-endian.
        let mut h = Sha256::new_with_prefix(b"bootsign jitter entropy v1");
        for s in &samples[..used] {
            h.update(s.to_le_bytes());
        }
        assert_eq!(seed.0, <[u8; 32]>::from(h.finalize()));
    }

    #[test]
    fn the_next_seed_needs_fresh_samples_only() {
        let samples = good(20_000, 9);
        let mut src = JitterSource::new();
        let mut seeds = std::vec::Vec::new();
        for &s in &samples {
            if let Some(seed) = src.push(s).unwrap() {
                seeds.push((seed.0, src.samples()));
            }
        }
        assert!(seeds.len() >= 3, "{}", seeds.len());
        let gap = seeds[1].1 - seeds[0].1;
        let credited = u64::from(CREDITED_SAMPLES_PER_SEED);
        assert!((credited..credited + 20).contains(&gap), "{gap}");
        assert_ne!(seeds[0].0, seeds[1].0);
    }

    #[test]
    fn a_failure_in_the_startup_test_gives_no_seed_and_sticks() {
        let mut samples = good(10_000, 5);
        samples[100..300].fill(77);
        let mut src = JitterSource::new();
        let err = samples.iter().find_map(|&s| src.push(s).err()).unwrap();
        assert!(matches!(err, HealthError::RepetitionCount { value: 77, .. }), "{err:?}");
        assert_eq!(src.samples(), 100 + u64::from(RCT_CUTOFF));
        assert_eq!(src.push(12345).unwrap_err(), err);
        assert_eq!(src.failure(), Some(err));
    }

    #[test]
    fn a_mostly_stuck_source_fails_before_seeding() {
        // Four of every five samples are stuck, in runs of four: too short for the run
        // cutoffs, but a seed would need far more samples than allowed.
        let noise = good(40_000, 13);
        let mut samples = std::vec::Vec::new();
        for &n in &noise {
            // A fresh value, then the same value four more times: the repeats are stuck.
            samples.extend_from_slice(&[n, n, n, n, n]);
        }
        let mut src = JitterSource::new();
        let err = samples.iter().find_map(|&s| src.push(s).err()).unwrap();
        match err {
            HealthError::TooManyStuck { stuck, samples } => {
                assert_eq!(samples, 4 * CREDITED_SAMPLES_PER_SEED + 1);
                assert!(stuck * 5 >= samples * 3, "{stuck} of {samples}");
            }
            other => panic!("{other:?}"),
        }
    }
}
