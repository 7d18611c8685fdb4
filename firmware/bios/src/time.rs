//! Time: the TSC, calibrated against the PIT (channel 2, gated by port 0x61, which every
//! PC has) over 10 ms.

use core::sync::atomic::{AtomicU64, Ordering};

static TICKS_PER_MS: AtomicU64 = AtomicU64::new(0);

fn outb(port: u16, value: u8) {
    // SAFETY: the PIT and port 0x61, which nothing else in this program uses.
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack)) };
}

fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: as `outb`.
    unsafe { core::arch::asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack)) };
    value
}

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
