//! Starting a verified PE image without the platform's `LoadImage`: for a kernel bootsign
//! verified that the loader in charge refuses, which is shim's `LoadImage` behind shim (it
//! starts only images signed by a key shim trusts and never asks the platform's Security2
//! protocol). The layout, copying and relocation are `bootsign_pe::load`'s, tested on the
//! host; here are only the platform's parts: pages for the image (loader code), an
//! EFI_LOADED_IMAGE_PROTOCOL on a new handle (the kernel's EFI stub finds its base,
//! size and command line there), and the jump to the entry point, as systemd's stub does.

use alloc::string::String;
use core::ffi::c_void;
use core::ptr::NonNull;

use bootsign_pe::load::{load, plan};
use uefi::Status;
use uefi::boot::{self, AllocateType, MemoryType};
use uefi_raw::protocol::loaded_image::LoadedImageProtocol;
use uefi_raw::table::system::SystemTable;

/// The image's entry point: `efi_main(ImageHandle, SystemTable)`.
type Entry = unsafe extern "efiapi" fn(*mut c_void, *const SystemTable) -> Status;

/// Lays `image` out, starts it with `options` (UCS-2, NUL-terminated) as its command line,
/// and returns why when it does not start or comes back. Only for bytes the trust gate
/// handed out as verified (the caller checks): nothing here checks a signature.
pub fn start_verified(image: &[u8], options: &[u16]) -> String {
    let plan = match plan(image) {
        Ok(p) => p,
        Err(e) => return alloc::format!("the image cannot be loaded by bootsign: {e}"),
    };
    let pages = plan.size.div_ceil(4096);
    let memory = match boot::allocate_pages(AllocateType::AnyPages, MemoryType::LOADER_CODE, pages) {
        Ok(m) => m,
        Err(e) => {
            return alloc::format!("no memory for the image ({} KiB): {:?}", plan.size / 1024, e.status());
        }
    };
    let result = run(image, &plan, memory, options);
    // SAFETY: `memory` is the allocation above, of `pages` pages; the image, if it
    // returned, no longer runs from it.
    let _ = unsafe { boot::free_pages(memory, pages) };
    result
}

fn run(image: &[u8], plan: &bootsign_pe::load::LoadPlan, memory: NonNull<u8>, options: &[u16]) -> String {
    let base = memory.as_ptr() as u64;
    // SAFETY: `memory` points at `plan.size` bytes (rounded up to pages) just allocated
    // for this image and used by nothing else.
    let slice = unsafe { core::slice::from_raw_parts_mut(memory.as_ptr(), plan.size) };
    if let Err(e) = load(image, plan, slice, base) {
        return alloc::format!("the image cannot be loaded by bootsign: {e}");
    }
    let Some(system) = uefi::table::system_table_raw() else {
        return "no system table".into();
    };
    let loaded = alloc::boxed::Box::new(LoadedImageProtocol {
        revision: 0x1000,
        parent_handle: boot::image_handle().as_ptr(),
        system_table: system.as_ptr(),
        device_handle: core::ptr::null_mut(),
        file_path: core::ptr::null(),
        reserved: core::ptr::null(),
        load_options_size: (options.len() * 2) as u32,
        load_options: options.as_ptr().cast(),
        image_base: memory.as_ptr().cast(),
        image_size: plan.size as u64,
        image_code_type: uefi_raw::table::boot::MemoryType::LOADER_CODE,
        image_data_type: uefi_raw::table::boot::MemoryType::LOADER_DATA,
        unload: None,
    });
    let interface = alloc::boxed::Box::into_raw(loaded);
    // SAFETY: `interface` is a complete EFI_LOADED_IMAGE_PROTOCOL that lives until it is
    // uninstalled below; a new handle is made for it.
    let handle = match unsafe {
        boot::install_protocol_interface(None, &LoadedImageProtocol::GUID, interface.cast::<c_void>())
    } {
        Ok(h) => h,
        Err(e) => {
            // SAFETY: not installed; ours to free.
            drop(unsafe { alloc::boxed::Box::from_raw(interface) });
            return alloc::format!("cannot describe the image to itself: {:?}", e.status());
        }
    };
    // Code written through the data cache must be visible to instruction fetch; on
    // x86 a serializing instruction is enough, and the call below is one's worth.
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
    // SAFETY: `plan.entry` lies inside the image (checked by `plan`), which was laid out
    // and relocated for `base` in loader-code pages; the entry point follows the UEFI
    // image calling convention, and the image handle carries its loaded-image protocol.
    let status = unsafe {
        let entry: Entry = core::mem::transmute(memory.as_ptr().add(plan.entry));
        entry(handle.as_ptr(), system.as_ptr())
    };
    // SAFETY: installed above on `handle` with this pointer; then ours to free.
    unsafe {
        if boot::uninstall_protocol_interface(handle, &LoadedImageProtocol::GUID, interface.cast::<c_void>())
            .is_ok()
        {
            drop(alloc::boxed::Box::from_raw(interface));
        }
    }
    alloc::format!("the image returned {status:?}")
}
