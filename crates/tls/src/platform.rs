//! What the platform lends the TLS client: randomness and the time.
//!
//! The client never reaches for a global RNG or clock (there is no `getrandom` and no
//! `std` in the firmware): the platform layer passes an implementation of
//! [`RandomSource`] (EFI_RNG_PROTOCOL, RDRAND/RDSEED) and of [`Clock`] (the RTC) when it
//! builds a [`Config`](crate::Config). Tests pass their own.

use core::fmt;

/// The platform could not produce random bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngError;

impl fmt::Display for RngError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the platform random number generator failed")
    }
}

impl core::error::Error for RngError {}

/// A source of cryptographically secure random bytes.
///
/// It is borrowed for `'static` because rustls keeps its random source as a
/// `&'static dyn`; the firmware's source is a static anyway.
pub trait RandomSource: Send + Sync + fmt::Debug {
    /// Fills `buf` entirely with random bytes, or fails: never a partial or predictable fill.
    fn fill(&self, buf: &mut [u8]) -> Result<(), RngError>;
}

/// The current time, as the platform knows it.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Seconds since 1970-01-01 00:00:00 UTC. Certificates are checked against it.
    fn unix_time(&self) -> u64;
}

/// A clock stopped at one instant: for a platform that read its RTC once, and for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedTime(pub u64);

impl Clock for FixedTime {
    fn unix_time(&self) -> u64 {
        self.0
    }
}

/// The platform source seen through `rand_core`, for the crates that take an RNG
/// (RSA blinding and PSS salts when signing with a client key).
pub(crate) struct CoreRng(pub(crate) &'static dyn RandomSource);

impl rand_core::TryRng for CoreRng {
    type Error = RngError;

    fn try_next_u32(&mut self) -> Result<u32, RngError> {
        let mut b = [0u8; 4];
        self.0.fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, RngError> {
        let mut b = [0u8; 8];
        self.0.fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RngError> {
        self.0.fill(dst)
    }
}

impl rand_core::TryCryptoRng for CoreRng {}
