//! The UEFI platform's time: the TSC's rate, measured against the firmware's `Stall`,
//! and the real-time clock through the runtime services. The policy (the NTP
//! correction, the build-date check) is the core's `Clock`.

use alloc::string::String;
use core::time::Duration;

use bootsign_firmware_core::clock::{Clock, Rtc, days_from_civil, tsc};
use uefi::boot;
use uefi::runtime::{Daylight, Time, TimeParams};

/// The RTC through `GetTime`/`SetTime`.
struct UefiRtc;

static RTC: UefiRtc = UefiRtc;

/// Measures the TSC rate over 10 ms: the clock the firmware runs on.
pub fn calibrate() -> Clock {
    let t0 = tsc();
    boot::stall(Duration::from_millis(10));
    let t1 = tsc();
    Clock::new((t1 - t0) / 10, &RTC)
}

impl Rtc for UefiRtc {
    fn read(&self) -> Option<(u64, Option<i16>)> {
        let t = uefi::runtime::get_time().ok()?;
        let days = days_from_civil(i64::from(t.year()), u32::from(t.month()), u32::from(t.day()));
        let mut secs =
            days * 86_400 + i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second());
        if let Some(tz) = t.time_zone() {
            // UEFI: local time = UTC - TimeZone (minutes).
            secs += i64::from(tz) * 60;
        }
        u64::try_from(secs).ok().map(|s| (s, t.time_zone()))
    }

    fn write(&self, unix_ms: u64, tz: Option<i16>) -> Result<(), String> {
        set_rtc(unix_ms, tz).map_err(|status| alloc::format!("{status:?}"))
    }
}

/// Writes `unix_ms` to the RTC, in the time zone it keeps (`tz`, UEFI's minutes: local =
/// UTC - tz), or as UTC when it keeps none.
fn set_rtc(unix_ms: u64, tz: Option<i16>) -> Result<(), uefi::Status> {
    let local = (unix_ms / 1000) as i64 - i64::from(tz.unwrap_or(0)) * 60;
    let local = u64::try_from(local).map_err(|_| uefi::Status::INVALID_PARAMETER)?;
    let utc = bootsign_ntp::Utc { unix: local };
    let (year, month, day) = utc.date();
    let secs = local % 86_400;
    let time = Time::new(TimeParams {
        year: u16::try_from(year).map_err(|_| uefi::Status::INVALID_PARAMETER)?,
        month: month as u8,
        day: day as u8,
        hour: (secs / 3600) as u8,
        minute: (secs / 60 % 60) as u8,
        second: (secs % 60) as u8,
        nanosecond: (unix_ms % 1000) as u32 * 1_000_000,
        time_zone: tz,
        daylight: Daylight::empty(),
    })
    .map_err(|_| uefi::Status::INVALID_PARAMETER)?;
    // SAFETY: the firmware runs on one processor without other tasks, so nothing else
    // calls the runtime's time services at the same time.
    unsafe { uefi::runtime::set_time(&time) }.map_err(|e| e.status())
}
