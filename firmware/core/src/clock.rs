//! Time: a monotonic millisecond clock from the TSC (its rate measured by the platform),
//! and the wall clock for certificate validity: the platform's real-time clock plus the
//! correction `ntp` learnt (zero until then). A clock earlier than the firmware's own
//! build date is clearly wrong (a dead CMOS battery): [`Clock::clearly_wrong`].
//!
//! The policy lives here, the same on every platform; a platform gives the TSC's rate
//! and its real-time clock ([`Rtc`]: UEFI's runtime services, or the CMOS registers).

use alloc::string::String;
use core::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// When this firmware was built, in seconds since the Unix epoch (SOURCE_DATE_EPOCH, else
/// the commit's time; see build.rs).
pub const BUILT: u64 = parse_decimal(env!("BOOTSIGN_BUILD_EPOCH"));

const fn parse_decimal(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v = 0u64;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "BOOTSIGN_BUILD_EPOCH is not a number");
        v = v * 10 + (b[i] - b'0') as u64;
        i += 1;
    }
    v
}

/// Milliseconds to add to the RTC's time, learnt from NTP. One value for the whole
/// firmware (every copy of [`Clock`] reads it); an atomic only so it can be a safe static.
static CORRECTION_MS: AtomicI64 = AtomicI64::new(0);
/// Whether NTP has set the clock.
static SYNCED: AtomicBool = AtomicBool::new(false);

/// A platform's real-time clock.
pub trait Rtc: Sync {
    /// The time in seconds since the Unix epoch (UTC, any time zone the clock keeps
    /// applied) and that time zone (UEFI's sense: minutes, local = UTC - zone), or `None`
    /// when the clock cannot be read.
    fn read(&self) -> Option<(u64, Option<i16>)>;

    /// Sets the clock to `unix_ms`, in the time zone `tz` it keeps (as [`Rtc::read`]
    /// reported it), or UTC. The error says why it could not.
    fn write(&self, unix_ms: u64, tz: Option<i16>) -> Result<(), String>;
}

/// The CPU's time-stamp counter.
pub fn tsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: RDTSC has no side effects and is available on every x86-64 CPU. Written
    // as non-pure asm (not the intrinsic) so the compiler keeps it where it stands
    // relative to the code being timed instead of moving it to where its value is used.
    unsafe { core::arch::asm!("rdtsc", out("eax") lo, out("edx") hi, options(nostack, preserves_flags)) };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// A monotonic clock and the wall clock.
#[derive(Clone, Copy)]
pub struct Clock {
    ticks_per_ms: u64,
    start: u64,
    rtc: &'static dyn Rtc,
}

impl core::fmt::Debug for Clock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Clock")
    }
}

impl Clock {
    /// A clock counting from now, on a TSC that runs `ticks_per_ms` (as the platform
    /// measured it) and the platform's real-time clock `rtc`.
    pub fn new(ticks_per_ms: u64, rtc: &'static dyn Rtc) -> Self {
        Self { ticks_per_ms: ticks_per_ms.max(1), start: tsc(), rtc }
    }

    /// Milliseconds since the clock was made.
    pub fn now_ms(&self) -> u64 {
        (tsc() - self.start) / self.ticks_per_ms
    }

    /// Seconds since the Unix epoch: the RTC corrected by what NTP learnt, or `None`
    /// when the RTC is not readable.
    pub fn unix_time(&self) -> Option<u64> {
        let rtc = i64::try_from(self.rtc.read()?.0).ok()?;
        u64::try_from(rtc * 1000 + CORRECTION_MS.load(Ordering::Relaxed)).ok().map(|ms| ms / 1000)
    }

    /// Whether the time is earlier than this firmware's build date, so certainly wrong.
    pub fn clearly_wrong(&self) -> bool {
        self.unix_time().is_some_and(|t| t < BUILT)
    }

    /// Whether NTP has set the clock.
    pub fn synced(&self) -> bool {
        SYNCED.load(Ordering::Relaxed)
    }

    /// Sets the time to `unix_ms` (milliseconds since the Unix epoch, now; the caller has
    /// refused anything before the build date): the firmware's own clock always, like
    /// iPXE's `ntp`, which keeps an offset in memory. The RTC is written only when it reads
    /// earlier than this firmware's build, the dead-battery case: an unauthenticated
    /// SNTP answer must not be able to move a plausible hardware clock for every later
    /// boot and the operating system. Returns the correction applied to the firmware's
    /// clock in milliseconds, and what became of the RTC.
    pub fn set(&self, unix_ms: u64) -> Result<(i64, RtcOutcome), String> {
        let (rtc, tz) = self.rtc.read().ok_or("the platform clock cannot be read")?;
        let before = rtc as i64 * 1000 + CORRECTION_MS.load(Ordering::Relaxed);
        let target = i64::try_from(unix_ms).map_err(|_| "the time is out of range")?;
        CORRECTION_MS.store(target - rtc as i64 * 1000, Ordering::Relaxed);
        SYNCED.store(true, Ordering::Relaxed);
        if rtc >= BUILT {
            return Ok((target - before, RtcOutcome::Kept));
        }
        let outcome = match self.rtc.write(unix_ms, tz) {
            Ok(()) => RtcOutcome::Set,
            Err(why) => RtcOutcome::Failed(why),
        };
        if outcome == RtcOutcome::Set
            && let Some((now, _)) = self.rtc.read()
        {
            // The RTC now holds the time (to its one-second resolution): correct only
            // what it cannot hold.
            CORRECTION_MS.store(target - now as i64 * 1000, Ordering::Relaxed);
        }
        Ok((target - before, outcome))
    }
}

/// What [`Clock::set`] did to the RTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtcOutcome {
    /// It read earlier than the build date and now holds the time.
    Set,
    /// It read earlier than the build date, and the platform refused the new time.
    Failed(String),
    /// It read a plausible time and was left alone; the correction lives in memory.
    Kept,
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
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

impl bootsign_tls::Clock for RtcClock {
    fn unix_time(&self) -> u64 {
        // Checked readable before HTTPS is offered; a failed read later gives 0, which no
        // certificate is valid at, so the check fails closed.
        self.0.unix_time().unwrap_or(0)
    }
}
