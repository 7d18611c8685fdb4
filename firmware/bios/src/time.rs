//! Time: the TSC, calibrated against the PIT (channel 2, gated by port 0x61, which every
//! PC has) over 10 ms; and the date from the CMOS real-time clock.

use alloc::string::String;
use core::sync::atomic::{AtomicU64, Ordering};

use bootsign_firmware_core::clock::{Clock, Rtc, days_from_civil};

use crate::port::{inb, outb};

static TICKS_PER_MS: AtomicU64 = AtomicU64::new(0);

fn tsc() -> u64 {
    // SAFETY: RDTSC exists on every x86-64 processor.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// TSC ticks per millisecond, measured on first use.
fn ticks_per_ms() -> u64 {
    let known = TICKS_PER_MS.load(Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    // Channel 2, mode 0, 11932 counts of 1.193182 MHz = 10 ms; OUT2 (0x61 bit 5) rises
    // at the end.
    let gate = inb(0x61);
    outb(0x61, (gate & !0x02) | 0x01);
    outb(0x43, 0xb0);
    outb(0x42, (11932 & 0xff) as u8);
    outb(0x42, (11932 >> 8) as u8);
    let start = tsc();
    let mut spins = 0u64;
    while inb(0x61) & 0x20 == 0 && spins < 100_000_000 {
        spins += 1;
    }
    let per_ms = ((tsc() - start) / 10).max(1);
    outb(0x61, gate);
    TICKS_PER_MS.store(per_ms, Ordering::Relaxed);
    per_ms
}

/// Milliseconds since an arbitrary start.
pub fn now_ms() -> u64 {
    tsc() / ticks_per_ms()
}

/// Waits `us` microseconds.
pub fn sleep_us(us: u64) {
    let until = tsc().saturating_add(us.saturating_mul(ticks_per_ms()) / 1000);
    while tsc() < until {
        core::hint::spin_loop();
    }
}

/// The core's clock: the TSC at the rate measured here, and the CMOS clock.
pub fn clock() -> Clock {
    Clock::new(ticks_per_ms(), &CMOS)
}

/// The CMOS real-time clock, kept in UTC (as iPXE and Linux assume on a PC without
/// other information; no time zone is known).
struct CmosRtc;

static CMOS: CmosRtc = CmosRtc;

impl Rtc for CmosRtc {
    fn read(&self) -> Option<(u64, Option<i16>)> {
        unix_time().map(|t| (t, None))
    }

    fn write(&self, unix_ms: u64, _tz: Option<i16>) -> Result<(), String> {
        set_rtc(unix_ms / 1000)
    }
}

/// Waits `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    let until = now_ms() + ms;
    while now_ms() < until {
        core::hint::spin_loop();
    }
}

/// A CMOS register (NMI left enabled).
fn cmos(register: u8) -> u8 {
    outb(0x70, register);
    inb(0x71)
}

/// The real-time clock's fields (seconds, minutes, hours, day, month, year, century),
/// read twice until two reads agree (the RTC may update between reads).
fn rtc_fields() -> [u8; 7] {
    let read = || {
        // Wait while an update is in progress (status A bit 7), at most about a second.
        for _ in 0..1_000_000 {
            if cmos(0x0a) & 0x80 == 0 {
                break;
            }
        }
        [cmos(0x00), cmos(0x02), cmos(0x04), cmos(0x07), cmos(0x08), cmos(0x09), cmos(0x32)]
    };
    let mut last = read();
    for _ in 0..5 {
        let now = read();
        if now == last {
            break;
        }
        last = now;
    }
    last
}

/// Seconds since the Unix epoch from the CMOS RTC (BCD or binary, 12- or 24-hour, as
/// status register B says; the century from register 0x32, else the 2000s), or `None`
/// when the fields make no date.
pub fn unix_time() -> Option<u64> {
    let [s, m, h, day, month, year, century] = rtc_fields();
    let status_b = cmos(0x0b);
    let binary = status_b & 0x04 != 0;
    let bin = |v: u8| bin_of(v, binary);
    let pm = h & 0x80 != 0;
    let mut hour = bin(h & 0x7f);
    if status_b & 0x02 == 0 {
        // 12-hour clock: 12 AM is 0, 12 PM is 12.
        hour = (hour % 12) + if pm { 12 } else { 0 };
    }
    let century = match bin(century) {
        c @ 19..=29 => u64::from(c),
        _ => 20,
    };
    let (year, month, day) =
        (century * 100 + u64::from(bin(year)), u64::from(bin(month)), u64::from(bin(day)));
    let (hour, minute, second) = (u64::from(hour), u64::from(bin(m)), u64::from(bin(s)));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = u64::try_from(days_from_civil(year as i64, month as u32, day as u32)).ok()?;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// A CMOS field's value: as it is in binary mode, else from BCD.
fn bin_of(v: u8, binary: bool) -> u8 {
    if binary { v } else { (v >> 4) * 10 + (v & 0x0f) }
}

/// Writes a CMOS register.
fn set_cmos(register: u8, value: u8) {
    outb(0x70, register);
    outb(0x71, value);
}

/// Sets the CMOS clock to `unix` (UTC), in the format status register B says it keeps
/// (BCD or binary, 12- or 24-hour), with updates held off while the fields are written.
fn set_rtc(unix: u64) -> Result<(), String> {
    let utc = bootsign_ntp::Utc { unix };
    let (year, month, day) = utc.date();
    if !(2000..2100).contains(&year) {
        return Err(alloc::format!("the CMOS clock cannot hold the year {year}"));
    }
    let secs = unix % 86_400;
    let (hour, minute, second) = ((secs / 3600) as u8, (secs / 60 % 60) as u8, (secs % 60) as u8);
    let status_b = cmos(0x0b);
    let binary = status_b & 0x04 != 0;
    let enc = |v: u8| if binary { v } else { (v / 10) << 4 | (v % 10) };
    let hour_field = if status_b & 0x02 == 0 {
        // 12-hour clock: 12 AM is 12, PM sets bit 7.
        let h12 = match hour % 12 {
            0 => 12,
            h => h,
        };
        enc(h12) | if hour >= 12 { 0x80 } else { 0 }
    } else {
        enc(hour)
    };
    set_cmos(0x0b, status_b | 0x80);
    set_cmos(0x00, enc(second));
    set_cmos(0x02, enc(minute));
    set_cmos(0x04, hour_field);
    set_cmos(0x07, enc(day as u8));
    set_cmos(0x08, enc(month as u8));
    set_cmos(0x09, enc((year % 100) as u8));
    // The century register is 0x32 on PCs that keep one (ACPI's FADT may say otherwise):
    // written only when it holds a century now, never over another BIOS setting.
    if matches!(bin_of(cmos(0x32), binary), 19 | 20) {
        set_cmos(0x32, enc((year / 100) as u8));
    }
    set_cmos(0x0b, status_b & !0x80);
    Ok(())
}
