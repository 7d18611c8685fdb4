//! The continuous health tests of SP 800-90B §4.4 on raw timing samples, and the
//! jitterentropy-style stuck test.
//!
//! Every raw sample goes through [`HealthTests::check`]. The Repetition Count Test catches
//! a source that got stuck on one value; the Adaptive Proportion Test catches one that
//! lost much of its entropy to a dominant value; the stuck test refuses credit to a
//! sample whose first, second or third derivative over time is zero and fails the source
//! when that happens [`RCT_CUTOFF`] times in a row. Cutoffs and their derivation are in
//! the [crate documentation](crate).

use core::fmt;

use crate::{APT_CUTOFF, APT_WINDOW, RCT_CUTOFF};

/// A health test failed: the source is not producing the entropy it is assumed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HealthError {
    /// Repetition Count Test (SP 800-90B §4.4.1): the same sample came `run` times in a row.
    RepetitionCount {
        /// The repeated sample.
        value: u64,
        /// How many times in a row it came.
        run: u32,
        /// The cutoff it reached.
        cutoff: u32,
    },
    /// Adaptive Proportion Test (SP 800-90B §4.4.2): the first sample of a window came
    /// `count` times among its `window` samples.
    AdaptiveProportion {
        /// The over-represented sample.
        value: u64,
        /// How often it came in the window.
        count: u32,
        /// The window size.
        window: u32,
        /// The cutoff it reached.
        cutoff: u32,
    },
    /// `run` samples in a row were stuck (a zero first, second or third time derivative).
    Stuck {
        /// How many stuck samples came in a row.
        run: u32,
        /// The cutoff it reached.
        cutoff: u32,
    },
    /// Too few samples of one seed carried credit: `stuck` of `samples` were stuck.
    TooManyStuck {
        /// Stuck samples.
        stuck: u32,
        /// All samples hashed for the seed.
        samples: u32,
    },
}

impl HealthError {
    /// The name of the test that failed.
    pub fn test(&self) -> &'static str {
        match self {
            Self::RepetitionCount { .. } => "Repetition Count Test (SP 800-90B 4.4.1)",
            Self::AdaptiveProportion { .. } => "Adaptive Proportion Test (SP 800-90B 4.4.2)",
            Self::Stuck { .. } | Self::TooManyStuck { .. } => "stuck-sample test",
        }
    }
}

impl fmt::Display for HealthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} failed: ", self.test())?;
        match *self {
            Self::RepetitionCount { value, run, cutoff } => {
                write!(f, "the timer difference {value} came {run} times in a row (cutoff {cutoff})")
            }
            Self::AdaptiveProportion { value, count, window, cutoff } => write!(
                f,
                "the timer difference {value} came {count} times in a window of {window} samples (cutoff {cutoff})"
            ),
            Self::Stuck { run, cutoff } => write!(
                f,
                "{run} timer samples in a row did not vary (zero first, second or third difference; cutoff {cutoff})"
            ),
            Self::TooManyStuck { stuck, samples } => {
                write!(
                    f,
                    "{stuck} of {samples} timer samples did not vary (zero first, second or third difference)"
                )
            }
        }
    }
}

impl core::error::Error for HealthError {}

/// The state of the continuous health tests over one stream of raw samples (not `Clone`
/// or `Debug`: recent samples are seed material).
#[derive(Default)]
pub struct HealthTests {
    /// Samples seen.
    seen: u64,
    /// RCT: the last sample and how many times in a row it came.
    rct_value: u64,
    rct_run: u32,
    /// APT: the window's first sample, how often it came, and the window position.
    apt_value: u64,
    apt_count: u32,
    apt_pos: u32,
    /// Stuck test: the last first and second derivatives, and the current run.
    last_delta: u64,
    last_delta2: u64,
    stuck_run: u32,
}

impl HealthTests {
    /// Fresh tests: nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs one raw sample (a timer difference, the first derivative of the time) through
    /// every test. `Ok(true)`: the sample passed and carries credit; `Ok(false)`: it is
    /// stuck and carries none (the first two samples of a stream, whose higher derivatives
    /// are unknown, count as stuck); `Err`: a test failed.
    pub fn check(&mut self, delta: u64) -> Result<bool, HealthError> {
        self.seen += 1;

        // Repetition Count Test.
        if self.seen > 1 && delta == self.rct_value {
            self.rct_run += 1;
            if self.rct_run >= RCT_CUTOFF {
                return Err(HealthError::RepetitionCount {
                    value: delta,
                    run: self.rct_run,
                    cutoff: RCT_CUTOFF,
                });
            }
        } else {
            self.rct_value = delta;
            self.rct_run = 1;
        }

        // Adaptive Proportion Test: the window's first sample is the reference and counts
        // as its first occurrence.
        if self.apt_pos == 0 {
            self.apt_value = delta;
            self.apt_count = 1;
        } else if delta == self.apt_value {
            self.apt_count += 1;
            if self.apt_count >= APT_CUTOFF {
                return Err(HealthError::AdaptiveProportion {
                    value: delta,
                    count: self.apt_count,
                    window: APT_WINDOW,
                    cutoff: APT_CUTOFF,
                });
            }
        }
        self.apt_pos = (self.apt_pos + 1) % APT_WINDOW;

        // Stuck test on the first three derivatives (wrapping differences: only equality
        // with zero matters).
        let delta2 = delta.wrapping_sub(self.last_delta);
        let delta3 = delta2.wrapping_sub(self.last_delta2);
        let known = self.seen > 2;
        self.last_delta = delta;
        self.last_delta2 = delta2;
        let stuck = !known || delta == 0 || delta2 == 0 || delta3 == 0;
        if stuck {
            self.stuck_run += 1;
            if self.stuck_run >= RCT_CUTOFF {
                return Err(HealthError::Stuck { run: self.stuck_run, cutoff: RCT_CUTOFF });
            }
        } else {
            self.stuck_run = 0;
        }
        Ok(!stuck)
    }

    /// How many samples have been checked.
    pub fn seen(&self) -> u64 {
        self.seen
    }
}

#[cfg(test)]
pub(crate) mod tests {
    extern crate std;

    use std::string::ToString;

    use super::*;
    use crate::{ALPHA_LOG2, APT_CUTOFF, MIN_ENTROPY_PER_SAMPLE_MILLIBITS, RCT_CUTOFF};

    /// A small deterministic generator standing in for a good noise source (xorshift64*),
    /// scaled like TSC differences: 2000 plus up to 1023 of jitter.
    pub(crate) fn good(n: usize, seed: u64) -> std::vec::Vec<u64> {
        let mut s = seed | 1;
        (0..n)
            .map(|_| {
                s ^= s >> 12;
                s ^= s << 25;
                s ^= s >> 27;
                2000 + (s.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 54)
            })
            .collect()
    }

    fn run(samples: &[u64]) -> Result<u32, HealthError> {
        let mut t = HealthTests::new();
        let mut credited = 0;
        for &s in samples {
            credited += u32::from(t.check(s)?);
        }
        Ok(credited)
    }

    #[test]
    fn good_samples_pass_and_are_credited() {
        let samples = good(100_000, 7);
        let credited = run(&samples).unwrap();
        // Only the first two (no derivatives yet) and the rare chance repeats are stuck.
        assert!(credited > 99_000, "{credited}");
    }

    #[test]
    fn a_constant_input_fails_the_repetition_count_test() {
        let err = run(&[1234; 200]).unwrap_err();
        assert_eq!(err, HealthError::RepetitionCount { value: 1234, run: RCT_CUTOFF, cutoff: RCT_CUTOFF });
        assert!(err.to_string().contains("Repetition Count Test"), "{err}");
    }

    #[test]
    fn a_run_one_short_of_the_cutoff_passes() {
        let mut samples = good(1000, 3);
        // One short of the RCT cutoff in a row; the first of them is not stuck (its
        // derivatives are random), so the stuck run is one short too.
        samples[500..500 + RCT_CUTOFF as usize - 1].fill(4242);
        run(&samples).unwrap();
    }

    #[test]
    fn a_biased_stream_fails_the_adaptive_proportion_test() {
        // Fifteen of every sixteen samples are 3000, in runs of fifteen: too short for the
        // RCT and the stuck test, but 480 of every window of 512.
        let noise = good(4096, 11);
        let samples: std::vec::Vec<u64> =
            noise.iter().enumerate().map(|(i, &n)| if i % 16 == 15 { n } else { 3000 }).collect();
        let err = run(&samples).unwrap_err();
        assert!(
            matches!(
                err,
                HealthError::AdaptiveProportion {
                    value: 3000,
                    count: APT_CUTOFF,
                    window: 512,
                    cutoff: APT_CUTOFF
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("Adaptive Proportion Test"), "{err}");
    }

    #[test]
    fn samples_with_a_zero_third_derivative_are_stuck() {
        // An arithmetic progression: all differences distinct (the RCT and APT pass), the
        // second derivative constant, so the third is zero.
        let samples: std::vec::Vec<u64> = (0..200).map(|i| 1000 + 7 * i).collect();
        let err = run(&samples).unwrap_err();
        assert_eq!(err, HealthError::Stuck { run: RCT_CUTOFF, cutoff: RCT_CUTOFF });
        assert!(err.to_string().contains("stuck-sample test"), "{err}");
    }

    #[test]
    fn stuck_samples_are_not_credited() {
        let mut t = HealthTests::new();
        // The first two samples lack derivatives.
        assert!(!t.check(100).unwrap());
        assert!(!t.check(250).unwrap());
        assert!(t.check(120).unwrap()); // d2 = -130, d3 = -280
        assert!(!t.check(0).unwrap()); // zero first derivative: the timer did not move
        assert!(t.check(90).unwrap());
        assert!(!t.check(90).unwrap()); // zero second derivative
        assert!(t.check(95).unwrap()); // d2 = 5, d3 = 5 (after a zero d2)
        assert!(t.check(105).unwrap()); // d2 = 10, d3 = 5
    }

    /// CRITBINOM(n, p, q): the smallest k with P(X ≤ k) ≥ q for X ~ Binomial(n, p), as
    /// SP 800-90B defines it (here through the upper tail, P(X > k) ≤ 1 − q = α).
    fn critbinom(n: u32, p: f64, alpha: f64) -> u32 {
        let ln_pmf = |i: u32| {
            let ln_choose = ln_gamma(f64::from(n) + 1.0)
                - ln_gamma(f64::from(i) + 1.0)
                - ln_gamma(f64::from(n - i) + 1.0);
            ln_choose + f64::from(i) * p.ln() + f64::from(n - i) * (-p).ln_1p()
        };
        let mut upper: f64 = (0..=n).map(|i| ln_pmf(i).exp()).sum();
        for k in 0..=n {
            upper -= ln_pmf(k).exp();
            if upper <= alpha {
                return k;
            }
        }
        n
    }

    /// ln Γ(x) by the Lanczos approximation (g = 7, nine terms), good to ~1e-13.
    fn ln_gamma(x: f64) -> f64 {
        const C: [f64; 9] = [
            0.999_999_999_999_809_9,
            676.520_368_121_885_1,
            -1_259.139_216_722_402_8,
            771.323_428_777_653_1,
            -176.615_029_162_140_6,
            12.507_343_278_686_905,
            -0.138_571_095_265_720_12,
            9.984_369_578_019_572e-6,
            1.505_632_735_149_311_6e-7,
        ];
        let x = x - 1.0;
        let mut a = C[0];
        let t = x + 7.5;
        for (i, c) in C.iter().enumerate().skip(1) {
            a += c / (x + i as f64);
        }
        0.5 * (2.0 * core::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
    }

    #[test]
    fn apt_cutoff_matches_the_binomial_computation() {
        let h = f64::from(MIN_ENTROPY_PER_SAMPLE_MILLIBITS) / 1000.0;
        let alpha = 2f64.powi(-(ALPHA_LOG2 as i32));
        assert_eq!(1 + critbinom(APT_WINDOW, 2f64.powf(-h), alpha), APT_CUTOFF);
        // The same computation reproduces SP 800-90B's table 2 (W = 512, α = 2⁻²⁰).
        for (h, cutoff) in [(0.5, 410), (1.0, 311), (2.0, 177), (4.0, 62), (8.0, 13)] {
            assert_eq!(1 + critbinom(512, 2f64.powf(-h), 2f64.powi(-20)), cutoff, "H = {h}");
        }
    }

    #[test]
    fn rct_cutoff_matches_the_formula() {
        let h = f64::from(MIN_ENTROPY_PER_SAMPLE_MILLIBITS) / 1000.0;
        assert_eq!(RCT_CUTOFF, 1 + (f64::from(ALPHA_LOG2) / h).ceil() as u32);
        assert_eq!(RCT_CUTOFF, 121);
    }
}
