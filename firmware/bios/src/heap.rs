//! The heap: the largest stretch of usable RAM the BIOS memory map gives above the
//! image (its code, .bss and the copied configuration), within the first 4 GiB (what
//! `prefix.s` maps), handed to the `talc` allocator.

use alloc::string::String;

use talc::{ErrOnOom, Span, Talc, Talck};

use crate::boot::BootInfo;

#[global_allocator]
static HEAP: Talck<spin::Mutex<()>, ErrOnOom> = Talc::new(ErrOnOom).lock();

/// Gives the heap its memory; returns its base and size.
pub fn init(info: &BootInfo) -> Result<(u64, u64), String> {
    let floor = crate::boot::image_top().next_multiple_of(4096);
    let ceiling: u64 = 4 << 30;
    let (base, size) = info
        .entries()
        .iter()
        .filter(|e| e.usable())
        .map(|e| {
            let start = e.base.max(floor);
            let end = e.base.saturating_add(e.length).min(ceiling);
            (start, end.saturating_sub(start))
        })
        .max_by_key(|&(_, size)| size)
        .filter(|&(_, size)| size >= 16 << 20)
        .ok_or("the BIOS memory map has no 16 MiB of usable RAM above the firmware")?;
    let span = Span::from_base_size(base as usize as *mut u8, size as usize);
    // SAFETY: the E820 map says this RAM is usable; it is above the image, its .bss and
    // the configuration, below 4 GiB (identity-mapped), and nothing else uses it.
    unsafe { HEAP.lock().claim(span) }.map_err(|()| String::from("the heap could not be set up"))?;
    Ok((base, size))
}
