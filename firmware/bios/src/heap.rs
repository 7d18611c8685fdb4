//! The heap: the largest stretch of usable RAM the BIOS memory map gives above the
//! image (its code, .bss and the copied configuration) and, where there is the memory,
//! above the room a Linux kernel needs while it starts; within the first 4 GiB (what
//! `prefix.s` maps), handed to the `talc` allocator.

use alloc::string::String;
use core::ops::Range;
use core::sync::atomic::{AtomicU64, Ordering};

use talc::{ErrOnOom, Span, Talc, Talck};

use crate::boot::BootInfo;

#[global_allocator]
static HEAP: Talck<spin::Mutex<()>, ErrOnOom> = Talc::new(ErrOnOom).lock();

/// Memory from 1 MiB up to here is left to the Linux kernel this firmware boots, when
/// the machine has the memory: the kernel's protected-mode part goes to 1 MiB (over this
/// firmware) and a 6.x kernel decompresses from 16 MiB into up to 64 MiB more, before it
/// knows what else is in memory. Only the initrd, in the heap, must survive that.
const KERNEL_ROOM: u64 = 128 << 20;

/// The least heap worth having above [`KERNEL_ROOM`]; with less, the heap takes the top
/// of the machine's memory and the kernel what is below it.
const ENOUGH: u64 = 64 << 20;

/// The least heap: a kernel and initrd of some ten MiB each, downloaded and laid out,
/// with the TLS and network buffers. On a small machine the heap is 3/8 of the largest
/// stretch of RAM, at least this: 46 MiB of a 128 MiB machine's, leaving 1-80 MiB to a
/// kernel (a Debian kernel needs up to 79 MiB there while it starts).
const MIN_HEAP: u64 = 32 << 20;

/// Where the memory left to the kernel ends (the heap's base, or the end of the RAM
/// that holds 1 MiB, whichever comes first); set by [`init`].
static KERNEL_FREE_END: AtomicU64 = AtomicU64::new(0);

/// The memory from 1 MiB that nothing of the firmware's will need once it starts Linux:
/// the kernel may be loaded and decompressed there.
pub fn kernel_room() -> Range<u64> {
    (1 << 20)..KERNEL_FREE_END.load(Ordering::Relaxed)
}

/// The largest stretch of usable RAM below 4 GiB that starts at `floor` or above.
fn largest_above(info: &BootInfo, floor: u64) -> Option<(u64, u64)> {
    let ceiling: u64 = 4 << 30;
    info.entries()
        .iter()
        .filter(|e| e.usable())
        .map(|e| {
            let start = e.base.max(floor);
            let end = e.base.saturating_add(e.length).min(ceiling);
            (start, end.saturating_sub(start))
        })
        .max_by_key(|&(_, size)| size)
}

/// Gives the heap its memory; returns its base and size.
pub fn init(info: &BootInfo) -> Result<(u64, u64), String> {
    let floor = crate::boot::image_top().next_multiple_of(4096);
    let (base, size) = match largest_above(info, floor.max(KERNEL_ROOM)).filter(|&(_, size)| size >= ENOUGH) {
        Some(high) => high,
        // A small machine (a 128 MiB VM): the heap takes the top of the largest stretch,
        // and the kernel's room below it keeps the rest.
        None => {
            let (base, size) = largest_above(info, floor)
                .filter(|&(_, size)| size >= MIN_HEAP)
                .ok_or("the BIOS memory map has no 32 MiB of usable RAM above the firmware")?;
            let heap = (size * 3 / 8).max(MIN_HEAP).min(size) & !0xfff;
            (base + size - heap, heap)
        }
    };
    let low_ram_end = info
        .entries()
        .iter()
        .filter(|e| e.usable() && e.base <= 1 << 20 && e.base.saturating_add(e.length) > 1 << 20)
        .map(|e| e.base + e.length)
        .max()
        .unwrap_or(1 << 20);
    KERNEL_FREE_END.store(low_ram_end.min(base), Ordering::Relaxed);
    let span = Span::from_base_size(base as usize as *mut u8, size as usize);
    // SAFETY: the E820 map says this RAM is usable; it is above the image, its .bss and
    // the configuration, below 4 GiB (identity-mapped), and nothing else uses it.
    unsafe { HEAP.lock().claim(span) }.map_err(|()| String::from("the heap could not be set up"))?;
    Ok((base, size))
}
