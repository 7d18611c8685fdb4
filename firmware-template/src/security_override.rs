//! Letting the platform start a kernel bootsign verified itself, under Secure Boot.
//!
//! With Secure Boot on, `LoadImage` asks the platform's Security2 architectural protocol
//! (`FileAuthentication`, EDK2's `DxeImageVerificationLib` behind it) whether the image's
//! Authenticode signer is in db. A kernel whose CMS signature `imgverify` checked against
//! the image's own anchors need not be signed by a db key at all. So for the one
//! `LoadImage` of a verified image, the protocol's function is replaced in place by one
//! that approves exactly that buffer (its address and length) and hands every other
//! request to the original; the original is put back as soon as `LoadImage` returns (as
//! systemd's stub does; some firmware keeps the protocol's pointer, so it is patched in
//! place rather than reinstalled). Nothing else gets past the platform's check: an image
//! `imgverify` did not verify still meets db and dbx.
//!
//! Behind shim, which replaces `LoadImage` itself and never asks Security2, this has no
//! effect: there only kernels signed by a key shim trusts (MokList, its vendor key, db)
//! load, and the launcher says so when one is refused.

use core::ffi::c_void;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use bootsign_script::Checked;
use uefi::{Guid, Status, guid};
use uefi_raw::Boolean;
use uefi_raw::protocol::device_path::DevicePathProtocol;

/// EFI_SECURITY2_ARCH_PROTOCOL_GUID (PI specification, volume 2).
const SECURITY2_GUID: Guid = guid!("94ab2f58-1438-4ef1-9152-18941a3a0e68");

type FileAuthentication = unsafe extern "efiapi" fn(
    this: *const Security2,
    device_path: *const DevicePathProtocol,
    file_buffer: *mut c_void,
    file_size: usize,
    boot_policy: Boolean,
) -> Status;

/// EFI_SECURITY2_ARCH_PROTOCOL: one member.
#[repr(C)]
struct Security2 {
    file_authentication: FileAuthentication,
}

/// The platform's function while the hook is in place (0: none).
static ORIGINAL: AtomicUsize = AtomicUsize::new(0);
/// The approved buffer's address and length (0: none).
static APPROVED_AT: AtomicUsize = AtomicUsize::new(0);
static APPROVED_LEN: AtomicUsize = AtomicUsize::new(0);

unsafe extern "efiapi" fn approve_one(
    this: *const Security2,
    device_path: *const DevicePathProtocol,
    file_buffer: *mut c_void,
    file_size: usize,
    boot_policy: Boolean,
) -> Status {
    let at = APPROVED_AT.load(Ordering::SeqCst);
    if at != 0 && file_buffer as usize == at && file_size == APPROVED_LEN.load(Ordering::SeqCst) {
        return Status::SUCCESS;
    }
    match ORIGINAL.load(Ordering::SeqCst) {
        // Fail closed if the original is somehow gone.
        0 => Status::SECURITY_VIOLATION,
        original => {
            // SAFETY: `original` is the platform's FileAuthentication, saved by `approve`
            // from the protocol it was read from, with that protocol's signature.
            let original: FileAuthentication = unsafe { core::mem::transmute(original) };
            // SAFETY: the arguments are the caller's, passed through unchanged.
            unsafe { original(this, device_path, file_buffer, file_size, boot_policy) }
        }
    }
}

/// While this lives, the platform's Security2 check passes the approved buffer; dropped,
/// the platform's own function is back.
pub struct Approval {
    protocol: NonNull<Security2>,
    original: FileAuthentication,
}

impl Approval {
    /// Approves `image` for the next `LoadImage`, if it is a verified image (the gate's
    /// [`Checked`] says so, after re-checking it against its proof). `Ok(None)` for an
    /// unverified image: the platform decides alone. An error when the platform has no
    /// Security2 protocol to hook.
    pub fn approve(image: &Checked<'_>) -> Result<Option<Self>, Status> {
        if !image.is_verified() {
            return Ok(None);
        }
        let bytes = image.as_slice();
        let system = uefi::table::system_table_raw().ok_or(Status::NOT_READY)?;
        let mut raw: *mut c_void = core::ptr::null_mut();
        // SAFETY: the system table and its boot services are valid while boot services
        // run; LocateProtocol writes the interface of the first instance of the GUID to
        // `raw`, and both pointers are valid for the call.
        let status = unsafe {
            let services = (*system.as_ptr()).boot_services;
            ((*services).locate_protocol)(&SECURITY2_GUID, core::ptr::null_mut(), &mut raw)
        };
        let protocol = NonNull::new(raw.cast::<Security2>()).filter(|_| status.is_success()).ok_or(status)?;
        // SAFETY: `protocol` points at the platform's EFI_SECURITY2_ARCH_PROTOCOL, whose
        // only member is FileAuthentication; boot services run single-threaded, so
        // nothing else reads it while it is swapped.
        let original = unsafe { protocol.as_ptr().read().file_authentication };
        ORIGINAL.store(original as usize, Ordering::SeqCst);
        APPROVED_LEN.store(bytes.len(), Ordering::SeqCst);
        APPROVED_AT.store(bytes.as_ptr() as usize, Ordering::SeqCst);
        // SAFETY: as above; the field is writable boot-services memory.
        unsafe { (*protocol.as_ptr()).file_authentication = approve_one };
        Ok(Some(Self { protocol, original }))
    }
}

impl Drop for Approval {
    fn drop(&mut self) {
        // SAFETY: `protocol` is the interface patched by `approve`; the platform's own
        // function goes back before anything else runs.
        unsafe { (*self.protocol.as_ptr()).file_authentication = self.original };
        APPROVED_AT.store(0, Ordering::SeqCst);
        APPROVED_LEN.store(0, Ordering::SeqCst);
        ORIGINAL.store(0, Ordering::SeqCst);
    }
}
