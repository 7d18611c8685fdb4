//! The heap. Small allocations come from the firmware's pool, as uefi's allocator does
//! it; large ones (downloaded images) straight from the page allocator.
//!
//! Why: OVMF's AllocatePool takes time in proportion to the size for large requests.
//! Measured under TCG: 0.26 s for the buffer of a 64 MiB download (half of the
//! download's own time), while AllocatePages hands out as much in under 0.1 ms.
//! Freeing takes about 0.18 s per 64 MiB either way; downloads are freed rarely.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicU32, Ordering};

use uefi::allocator::Allocator as Pool;
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
// with; everything else is delegated to uefi's pool allocator unchanged.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !is_large(&layout) {
            // SAFETY: the caller's contract is passed on as is.
            return unsafe { Pool.alloc(layout) };
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
            // SAFETY: `ptr` came from `Pool.alloc` with this layout (same size class).
            return unsafe { Pool.dealloc(ptr, layout) };
        }
        let Some(ptr) = NonNull::new(ptr) else { return };
        if !boot_services_active() {
            // After ExitBootServices the memory is the OS's to reclaim anyway.
            return;
        }
        // SAFETY: `ptr` is the start of a page run of this many pages from `alloc`.
        let _ = unsafe { boot::free_pages(ptr, layout.size().div_ceil(PAGE)) };
    }
}
