//! The time commands act at: certificates and CRLs are dated by it, revocations record
//! it, and validity is checked at it. Commands read it only through a [`Clock`], so tests
//! run them at a fixed instant and their output does not change from day to day.

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time, in whole seconds since the Unix epoch (UTC).
pub trait Clock {
    /// The current time.
    fn now(&self) -> u64;
}

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        // A clock set before 1970 reads as the epoch; everything issued then is backdated
        // to it and expires as if issued at it.
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }
}

/// A clock that always reads the same instant.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_reads_its_instant() {
        assert_eq!(FixedClock(1_800_000_000).now(), 1_800_000_000);
    }

    #[test]
    fn system_clock_is_after_2025() {
        assert!(SystemClock.now() > 1_735_689_600);
    }
}
