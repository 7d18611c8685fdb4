//! The heap. Small allocations come from arenas of pages this program manages itself
//! (the `talc` allocator); large ones (downloaded images) are page runs of their own.
//!
//! Why not the firmware's pool, as uefi's allocator does it: OVMF clears memory on every
//! free (and on some allocations) with a byte-wise `rep stosb`, which QEMU's TCG runs a
//! byte at a time, and rustls's unbuffered client allocates and frees one buffer per TLS
//! record. Measured under TCG on a 64 MiB HTTPS download: a fifth of the time went to
//! those clears. AllocatePool also takes time in proportion to the size for large
//! requests (0.26 s for the buffer of a 64 MiB download, half of the download's own
//! time), while AllocatePages hands out as much in under 0.1 ms. Freeing pages takes
//! about 0.18 s per 64 MiB; downloads are freed rarely.
//!
//! The arenas are taken from the page allocator as needed, 4 MiB at a time, with the
//! image's own data memory type, and never given back: the program runs once (or, as
//! an option ROM driver, stays resident with its heap).

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicU32, Ordering};

use talc::{OomHandler, Span, Talc, Talck};
use uefi::boot::{self, AllocateType, MemoryType, OpenProtocolAttributes, OpenProtocolParams};
use uefi::proto::loaded_image::LoadedImage;

const PAGE: usize = 4096;
/// From this size on, whole pages are allocated.
const LARGE: usize = 256 * 1024;

struct Heap;

/// Whether the firmware's allocator may still be called (not after ExitBootServices).
fn boot_services_active() -> bool {
    let Some(st) = uefi::table::system_table_raw() else { return false };
    // SAFETY: uefi keeps the system table pointer valid for the program's lifetime.
    !unsafe { st.as_ref() }.boot_services.is_null()
}

#[global_allocator]
static HEAP: Heap = Heap;

/// How much an arena grows by at least.
const ARENA: usize = 4 << 20;

/// Grows the small-block heap by a new arena of pages when it runs out.
struct Arenas;

impl OomHandler for Arenas {
    fn handle_oom(talc: &mut Talc<Self>, layout: Layout) -> Result<(), ()> {
        if !boot_services_active() {
            return Err(());
        }
        // Room for the block, its alignment and the allocator's tags and metadata.
        let bytes = ARENA.max(layout.size() + layout.align() + 4096);
        let pages = bytes.div_ceil(PAGE);
        let base = boot::allocate_pages(AllocateType::AnyPages, memory_type(), pages).map_err(|_| ())?;
        let span = Span::from_base_size(base.as_ptr(), pages * PAGE);
        // SAFETY: the pages were just allocated for this heap alone, are valid for reads
        // and writes and are never freed; no other heap overlaps them.
        unsafe { talc.claim(span) }.map(|_| ())
    }
}

/// The small-block heap. The firmware is single-threaded and nothing allocates from an
/// event notification, so the lock is never contended; a re-entry would spin rather than
/// corrupt the heap.
static SMALL: Talck<spin::Mutex<()>, Arenas> = Talc::new(Arenas).lock();

/// The memory type of the image's data (loader data for an application, boot-services
/// data for a driver from an option ROM), as the pool allocator uses it too. Looked up on
/// first use; a failed look-up is not remembered.
fn memory_type() -> MemoryType {
    static TYPE: AtomicU32 = AtomicU32::new(u32::MAX);
    let cached = TYPE.load(Ordering::Relaxed);
    if cached != u32::MAX {
        return MemoryType(cached);
    }
    // SAFETY: a non-exclusive look at our own image's protocol (others, the config
    // loader among them, may hold it exclusively meanwhile), closed when `image` drops.
    let image = unsafe {
        boot::open_protocol::<LoadedImage>(
            OpenProtocolParams {
                handle: boot::image_handle(),
                agent: boot::image_handle(),
                controller: None,
            },
            OpenProtocolAttributes::GetProtocol,
        )
    };
    match image {
        Ok(image) => {
            let found = image.data_type();
            TYPE.store(found.0, Ordering::Relaxed);
            found
        }
        Err(_) => MemoryType::LOADER_DATA,
    }
}

fn is_large(layout: &Layout) -> bool {
    layout.size() >= LARGE && layout.align() <= PAGE
}

// SAFETY: large blocks are page runs of at least `size` bytes, page-aligned (so any
// alignment up to a page holds), given back with the same page count they were taken
// with; everything else is delegated to talc unchanged. Whether a block is large depends
// only on its layout, so a block always goes back to the allocator it came from.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !is_large(&layout) {
            // SAFETY: the caller's contract is passed on as is.
            return unsafe { SMALL.alloc(layout) };
        }
        if !boot_services_active() {
            return ptr::null_mut();
        }
        boot::allocate_pages(AllocateType::AnyPages, memory_type(), layout.size().div_ceil(PAGE))
            .map(|p| p.as_ptr())
            .unwrap_or(ptr::null_mut())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !is_large(&layout) {
            // SAFETY: `ptr` came from `SMALL.alloc` with this layout (same size class).
            return unsafe { SMALL.dealloc(ptr, layout) };
        }
        let Some(ptr) = NonNull::new(ptr) else { return };
        if !boot_services_active() {
            // After ExitBootServices the memory is the OS's to reclaim anyway.
            return;
        }
        // SAFETY: `ptr` is the start of a page run of this many pages from `alloc`.
        let _ = unsafe { boot::free_pages(ptr, layout.size().div_ceil(PAGE)) };
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded up to the alignment, does not
        // overflow; the layout is the block's own.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !is_large(&layout) && !is_large(&new_layout) {
            // SAFETY: a small block stays small: talc grows it in place where it can.
            return unsafe { SMALL.realloc(ptr, layout, new_size) };
        }
        // SAFETY: the caller's contract holds for the new block; the old one is valid for
        // `min(old, new)` bytes and freed with its own layout.
        unsafe {
            let new = self.alloc(new_layout);
            if !new.is_null() {
                ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}
