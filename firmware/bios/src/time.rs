//! Time: the TSC, calibrated against the PIT (channel 2, gated by port 0x61, which every
//! PC has) over 10 ms; and the date from the CMOS real-time clock.

use core::sync::atomic::{AtomicU64, Ordering};

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
    let bin = |v: u8| if binary { v } else { (v >> 4) * 10 + (v & 0x0f) };
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
    Some(days_from_civil(year, month, day)? * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days from 1970-01-01 to the date (the proleptic Gregorian calendar).
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let y = if month <= 2 { year.checked_sub(1)? } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}
