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
//! `imgverify` did not verify still meets db and dbx. A verified one is checked against
//! dbx here first (its Authenticode digest, the certificates of its verified path), since
//! the platform's own dbx check is what the hook stands in for. Not done yet: the TPM
//! measurement the platform's handlers would have made (PCR 4).
//!
//! Behind shim, which replaces `LoadImage` itself and never asks Security2, this has no
//! effect: there only kernels signed by a key shim trusts (MokList, its vendor key, db)
//! load, and the launcher says so when one is refused.

use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use bootsign_script::Checked;
use uefi::runtime::{self, VariableVendor};
use uefi::{Guid, Status, cstr16, guid};

use crate::proof::ImageProof;
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
/// The approved buffer's address and length (0: none); cleared at its first use.
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
        // Once: the approval is for one LoadImage of one buffer.
        APPROVED_AT.store(0, Ordering::SeqCst);
        APPROVED_LEN.store(0, Ordering::SeqCst);
        return Status::SUCCESS;
    }
    match ORIGINAL.load(Ordering::SeqCst) {
        // Fail closed if the original is somehow gone.
        0 => Status::SECURITY_VIOLATION,
        original => {
            // SAFETY: `original` is the platform's FileAuthentication, saved (non-null) by
            // `approve` from the protocol it was read from, with that protocol's signature.
            let original: FileAuthentication = unsafe { core::mem::transmute(original) };
            // SAFETY: the arguments are the caller's, passed through unchanged.
            unsafe { original(this, device_path, file_buffer, file_size, boot_policy) }
        }
    }
}

/// While this lives, the platform's Security2 check passes the approved buffer (once);
/// dropped, the platform's own function is back. It borrows the approved bytes, so they
/// cannot be freed (and the address reused) while it lives.
pub struct Approval<'a> {
    protocol: NonNull<Security2>,
    original: usize,
    _bytes: PhantomData<&'a [u8]>,
}

impl<'a> Approval<'a> {
    /// Approves `image` for the next `LoadImage`, if it is a verified image (the gate's
    /// [`Checked`] says so, after re-checking it against its proof) that the platform's
    /// forbidden database (dbx) does not list, by its Authenticode digest or by a
    /// certificate of its verified path. `Ok(None)` for an unverified image (the platform
    /// decides alone) or when the platform has no Security2 protocol (said on the
    /// console); an error, to be refused, when dbx lists it.
    pub fn approve(image: &Checked<'a, ImageProof>) -> Result<Option<Self>, String> {
        let Some(proof) = image.proof() else { return Ok(None) };
        let bytes = image.as_slice();
        check_dbx(bytes, proof)?;
        let Some(system) = uefi::table::system_table_raw() else { return Ok(None) };
        let mut raw: *mut c_void = core::ptr::null_mut();
        // SAFETY: the system table and its boot services are valid while boot services
        // run; LocateProtocol writes the interface of the first instance of the GUID to
        // `raw`, and both pointers are valid for the call.
        let status = unsafe {
            let services = (*system.as_ptr()).boot_services;
            ((*services).locate_protocol)(&SECURITY2_GUID, core::ptr::null_mut(), &mut raw)
        };
        let Some(protocol) = NonNull::new(raw.cast::<Security2>()).filter(|_| status.is_success()) else {
            crate::println!(
                "bootsign: the platform has no Security2 protocol ({status:?}); it decides alone"
            );
            return Ok(None);
        };
        // SAFETY: `protocol` points at the platform's EFI_SECURITY2_ARCH_PROTOCOL, whose
        // only member is FileAuthentication; read as an address, so a null one is seen.
        let original = unsafe { protocol.as_ptr().cast::<usize>().read() };
        if original == 0
            || original == approve_one as *const () as usize
            || ORIGINAL.load(Ordering::SeqCst) != 0
        {
            // No function to fall back to, or an approval already in place: none now.
            return Ok(None);
        }
        ORIGINAL.store(original, Ordering::SeqCst);
        APPROVED_LEN.store(bytes.len(), Ordering::SeqCst);
        APPROVED_AT.store(bytes.as_ptr() as usize, Ordering::SeqCst);
        // SAFETY: as above; the field is writable boot-services memory, and boot services
        // run single-threaded, so nothing reads it while it is swapped.
        unsafe { (*protocol.as_ptr()).file_authentication = approve_one };
        Ok(Some(Self { protocol, original, _bytes: PhantomData }))
    }
}

impl Drop for Approval<'_> {
    fn drop(&mut self) {
        // SAFETY: `protocol` is the interface patched by `approve`, and `original` the
        // non-null function read from it then; the platform's own goes back first.
        unsafe { self.protocol.as_ptr().cast::<usize>().write(self.original) };
        APPROVED_AT.store(0, Ordering::SeqCst);
        APPROVED_LEN.store(0, Ordering::SeqCst);
        ORIGINAL.store(0, Ordering::SeqCst);
    }
}

/// shim's vendor GUID, under which it keeps MokListXRT (the machine owner's forbidden list).
const SHIM_LOCK_GUID: Guid = guid!("605dab50-e046-4300-abb6-3dd810dd8b23");

/// Refuses an image the platform owner forbade: dbx, or behind shim MokListX (its
/// runtime copy), lists its SHA-256 Authenticode digest (for a PE image) or a certificate
/// of the path its signature was verified along.
fn check_dbx(bytes: &[u8], proof: &ImageProof) -> Result<(), String> {
    let forbidden = [
        (cstr16!("dbx"), VariableVendor::IMAGE_SECURITY_DATABASE, "the platform's forbidden database (dbx)"),
        (cstr16!("MokListXRT"), VariableVendor(SHIM_LOCK_GUID), "shim's forbidden list (MokListX)"),
    ];
    // What the lists are compared with, computed once for both.
    let digest = bootsign_pki::authenticode::image_digest(bytes, bootsign_pki::HashAlgorithm::Sha256).ok();
    let chain: Vec<bootsign_pki::Fingerprint> =
        proof.0.signers().iter().flat_map(|s| s.chain.iter().map(|c| c.fingerprint)).collect();
    for (name, vendor, what) in forbidden {
        let Ok((data, _)) = runtime::get_variable_boxed(name, &vendor) else { continue };
        check_list(digest.as_deref(), &chain, &data, what)?;
    }
    Ok(())
}

fn check_list(
    digest: Option<&[u8]>,
    chain: &[bootsign_pki::Fingerprint],
    data: &[u8],
    what: &str,
) -> Result<(), String> {
    let lists = bootsign_efivar::parse_signature_lists(data)
        .map_err(|e| alloc::format!("{what} cannot be read ({e}), so the image is not vouched for"))?;
    for list in &lists {
        for sig in &list.signatures {
            if list.signature_type == bootsign_efivar::EFI_CERT_SHA256 && digest == Some(sig.data) {
                return Err(alloc::format!("{what} lists this image's digest"));
            }
            if list.signature_type == bootsign_efivar::EFI_CERT_X509
                && chain.contains(&bootsign_pki::Fingerprint::of_der(sig.data))
            {
                return Err(alloc::format!(
                    "{what} lists a certificate of its signer's path ({})",
                    bootsign_pki::Fingerprint::of_der(sig.data)
                ));
            }
        }
    }
    Ok(())
}
