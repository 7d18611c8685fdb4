//! Randomness for machines without a hardware random number generator: an entropy source
//! on CPU timing jitter, guarded by the SP 800-90B continuous health tests, conditioned
//! with SHA-256 into seeds for an HMAC-DRBG (SP 800-90A).
//!
//! The crate is sans-IO. The platform measures: it reads a fine-grained timer (the TSC)
//! around a memory-access workload and passes each difference, a *raw sample*, to
//! [`JitterSource::push`]. The crate decides: it runs every sample through the
//! [health tests](health), credits only samples that pass, hashes all of them, and hands
//! back a 256-bit [`Seed`] once enough entropy has been credited. The seeds key a
//! [`HmacDrbg`], which produces the bytes TLS asks for and is reseeded from fresh samples.
//!
//! # The source and its parameters
//!
//! Timing jitter (as in Linux's and the jitterentropy library's CPU jitter RNG) comes from
//! the many small, unsynchronised delays in a CPU executing memory accesses: cache and TLB
//! state, memory-controller arbitration, interrupts, and, in a virtual machine, the host's
//! own scheduling. Every number below is a named constant, so the reasoning can be
//! checked:
//!
//! - **Assumed min-entropy per raw sample: H = 1/4 bit**
//!   ([`MIN_ENTROPY_PER_SAMPLE_MILLIBITS`]). A sample is a difference of two 64-bit
//!   timer readings in the thousands. Measured where it was poorest, QEMU's TCG on a
//!   loaded two-CPU host with the firmware's first, L1-sized workload: the most common
//!   difference filled up to 422 of a 512-sample window (82 %, a min-entropy of about
//!   0.28 bit), which failed the cutoff H = 1/2 bit gives. The workload now walks a
//!   buffer past the caches; a quarter bit stays below even that old measurement
//!   (jitterentropy credits about one bit per sample at its lowest oversampling rate).
//! - **False-positive probability of the health tests: α = 2⁻³⁰** ([`ALPHA_LOG2`]), the
//!   value SP 800-90B recommends as a lower bound.
//! - **Repetition Count Test** (§4.4.1): cutoff C = 1 + ⌈30 / H⌉ = 121 identical samples
//!   in a row ([`RCT_CUTOFF`]).
//! - **Adaptive Proportion Test** (§4.4.2): window W = 512 (the non-binary window),
//!   cutoff C = 1 + CRITBINOM(W, 2^−H, 1 − α) = 477 ([`APT_CUTOFF`]); the unit tests
//!   recompute both cutoffs and SP 800-90B's table 2 from the binomial distribution.
//! - **Stuck samples** (as jitterentropy): a sample whose first, second or third time
//!   derivative is zero (the timer did not move, or moved exactly as last time, or
//!   changed exactly as last time) carries no credit. [`RCT_CUTOFF`] stuck samples in a
//!   row fail the source, and so does a seed for which more than three quarters of the
//!   samples were stuck.
//! - **Start-up test**: the first [`STARTUP_SAMPLES`] = 1024 samples must pass all tests
//!   before any seed is produced; they are hashed into the first seed but not credited.
//! - **Conditioning**: SHA-256 over the raw samples (the vetted conditioning function of
//!   SP 800-90B §3.1.5.1.1). Its 256-bit output counts as full-entropy when at least
//!   256 + 64 bits went in ([`SEED_BITS`], [`SAFETY_MARGIN_BITS`]); with H = 1/4 that is
//!   1280 credited samples, times an oversampling rate of 3 ([`OVERSAMPLING`]):
//!   [`CREDITED_SAMPLES_PER_SEED`] = 3840.
//!
//! A failure is sticky and typed ([`HealthError`]): it names the test, the value and the
//! cutoff, and the source produces nothing after it.
//!
//! # Why not `rand_jitter`
//!
//! `rand_jitter` (a port of jitterentropy 1.x) was evaluated. It calls the timer itself and
//! folds the timings into its pool internally, so the raw samples never reach a place where
//! the SP 800-90B Repetition Count and Adaptive Proportion tests could run on them, and it
//! has none of its own (only a one-off timer quality check). This crate keeps the sampling
//! in the platform layer (which owns the timer and the workload) and runs the health tests,
//! conditioning and DRBG here, where they are tested on the host. The hashing and HMAC come
//! from the RustCrypto `sha2` and `hmac` crates the firmware already links.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod drbg;
pub mod health;
mod jitter;

pub use drbg::{HmacDrbg, ReseedRequired};
pub use health::{HealthError, HealthTests};
pub use jitter::{JitterSource, Seed};

/// −log₂ α: the health tests' false-positive probability is α = 2⁻³⁰.
pub const ALPHA_LOG2: u32 = 30;

/// The assumed min-entropy of one raw sample, in thousandths of a bit (H = 0.25).
pub const MIN_ENTROPY_PER_SAMPLE_MILLIBITS: u32 = 250;

/// Repetition Count Test cutoff: 1 + ⌈−log₂ α / H⌉ = 1 + ⌈30 / 0.25⌉.
pub const RCT_CUTOFF: u32 = 1 + (ALPHA_LOG2 * 1000).div_ceil(MIN_ENTROPY_PER_SAMPLE_MILLIBITS);

/// Adaptive Proportion Test window (SP 800-90B §4.4.2, non-binary samples).
pub const APT_WINDOW: u32 = 512;

/// Adaptive Proportion Test cutoff: 1 + CRITBINOM(512, 2^−0.25, 1 − 2⁻³⁰), computed from the
/// binomial distribution (the unit test `apt_cutoff_matches_the_binomial_computation`
/// recomputes it).
pub const APT_CUTOFF: u32 = 477;

/// Samples the start-up test examines before the first seed (SP 800-90B §4.3 asks for at
/// least 1024).
pub const STARTUP_SAMPLES: u32 = 1024;

/// Bits of entropy a seed carries.
pub const SEED_BITS: u32 = 256;

/// Extra credited bits hashed in so SHA-256's output counts as full-entropy
/// (SP 800-90B §3.1.5.1.2: n_out + 64).
pub const SAFETY_MARGIN_BITS: u32 = 64;

/// How many times more samples are hashed than the entropy estimate alone requires.
pub const OVERSAMPLING: u32 = 3;

/// Credited (non-stuck, health-tested) samples hashed into each seed:
/// (256 + 64) / 0.25 × 3 = 3840.
pub const CREDITED_SAMPLES_PER_SEED: u32 =
    (SEED_BITS + SAFETY_MARGIN_BITS) * 1000 / MIN_ENTROPY_PER_SAMPLE_MILLIBITS * OVERSAMPLING;
