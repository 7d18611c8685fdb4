//! Time: a monotonic millisecond clock from the TSC, calibrated against the firmware's
//! `Stall`, and the platform's wall clock for certificate validity.

use core::time::Duration;

use uefi::boot;

/// A monotonic clock.
#[derive(Clone, Copy)]
pub struct Clock {
    ticks_per_ms: u64,
    start: u64,
}

fn tsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: RDTSC has no side effects and is available on every x86-64 CPU. Written
    // as non-pure asm (not the intrinsic) so the compiler keeps it where it stands
    // relative to the code being timed instead of moving it to where its value is used.
    unsafe { core::arch::asm!("rdtsc", out("eax") lo, out("edx") hi, options(nostack, preserves_flags)) };
    (u64::from(hi) << 32) | u64::from(lo)
}

impl Clock {
    /// Measures the TSC rate over 10 ms.
    pub fn calibrate() -> Self {
        let t0 = tsc();
        boot::stall(Duration::from_millis(10));
        let t1 = tsc();
        Self { ticks_per_ms: ((t1 - t0) / 10).max(1), start: t0 }
    }

    /// Milliseconds since calibration.
    pub fn now_ms(&self) -> u64 {
        (tsc() - self.start) / self.ticks_per_ms
    }

    /// Seconds since the Unix epoch from the platform clock (UTC; a time zone the
    /// firmware reports is applied), or `None` when the clock is not readable.
    pub fn unix_time(&self) -> Option<u64> {
        let t = uefi::runtime::get_time().ok()?;
        let days = days_from_civil(i64::from(t.year()), u32::from(t.month()), u32::from(t.day()));
        let mut secs =
            days * 86_400 + i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second());
        if let Some(tz) = t.time_zone() {
            // UEFI: local time = UTC - TimeZone (minutes).
            secs += i64::from(tz) * 60;
        }
        u64::try_from(secs).ok()
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The platform clock as the TLS client reads it: the RTC at each certificate check.
#[derive(Debug)]
pub struct RtcClock(pub Clock);

impl core::fmt::Debug for Clock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Clock")
    }
}

impl bootsign_tls::Clock for RtcClock {
    fn unix_time(&self) -> u64 {
        // Checked readable before HTTPS is offered; a failed read later gives 0, which no
        // certificate is valid at, so the check fails closed.
        self.0.unix_time().unwrap_or(0)
    }
}
