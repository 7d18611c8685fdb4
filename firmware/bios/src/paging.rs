//! The identity map's memory types: `prefix.s` maps the first 4 GiB write-back in 2 MiB
//! pages; here every page above the first that is not wholly RAM by the BIOS memory map
//! (the PCI hole with the NICs' registers, ROMs, ACPI tables) becomes uncached, so device
//! registers are never cached whatever the BIOS left in its MTRRs. The first 2 MiB (the
//! firmware's own code from 1 MiB, and the BIOS's areas, which its fixed-range MTRRs
//! type) stay as they are.

use crate::boot::BootInfo;

unsafe extern "C" {
    /// The four page directories of `prefix.s`: 2,048 entries of 2 MiB pages.
    static mut pd: [u64; 2048];
}

/// Page-level cache disable and write-through.
const PCD_PWT: u64 = 0x18;
const PAGE: u64 = 2 << 20;

/// Marks the pages that are not RAM uncached; returns how many.
pub fn uncache_devices(info: &BootInfo) -> usize {
    let ram = |start: u64| {
        info.entries()
            .iter()
            .filter(|e| e.usable())
            .any(|e| e.base <= start && e.base + e.length >= start + PAGE)
    };
    let mut count = 0;
    for i in 1..2048usize {
        if ram(i as u64 * PAGE) {
            continue;
        }
        // SAFETY: `pd` is the page directory the processor walks; the firmware runs on
        // one processor, and changing a present entry's cache bits (not its address)
        // keeps the identity map; the TLB is flushed below.
        unsafe {
            let entry = (&raw mut pd).cast::<u64>().add(i);
            entry.write_volatile(entry.read_volatile() | PCD_PWT);
        }
        count += 1;
    }
    // SAFETY: reloading CR3 with its own value flushes the TLB; nothing else changes.
    unsafe {
        core::arch::asm!("mov {0}, cr3", "mov cr3, {0}", out(reg) _, options(nostack));
    }
    count
}
