//! Measuring an image bootsign starts past the platform's own check into the TPM.
//!
//! When the platform's `LoadImage` checks an image, its Security2 handlers also measure
//! it into PCR 4 (EDK2's `DxeTpm2MeasureBootLib`). An image bootsign vouches for (the
//! Security2 hook) or starts itself (its own PE loader) skips those handlers, so bootsign
//! measures it the same way first: `EFI_TCG2_PROTOCOL.HashLogExtendEvent` with the
//! PE_COFF_IMAGE flag (the firmware hashes the image as Authenticode does) into PCR 4,
//! event EV_EFI_BOOT_SERVICES_APPLICATION. Without a TPM there is nothing to do.

use alloc::vec::Vec;
use core::ffi::c_void;

use uefi::{Guid, Status, guid};

/// EFI_TCG2_PROTOCOL_GUID (TCG EFI Protocol Specification).
const TCG2_GUID: Guid = guid!("607f766c-7455-42be-930b-e4d76db2720f");
/// PE_COFF_IMAGE: DataToHash is a PE/COFF image, hashed as Authenticode does.
const PE_COFF_IMAGE: u64 = 0x10;
/// EV_EFI_BOOT_SERVICES_APPLICATION.
const EV_EFI_BOOT_SERVICES_APPLICATION: u32 = 0x8000_0003;
/// The PCR boot applications are measured into.
const PCR_BOOT_APPLICATIONS: u32 = 4;

type HashLogExtendEvent = unsafe extern "efiapi" fn(
    this: *mut Tcg2,
    flags: u64,
    data_to_hash: u64,
    data_to_hash_len: u64,
    event: *const u8,
) -> Status;

/// EFI_TCG2_PROTOCOL: the members before HashLogExtendEvent are not called.
#[repr(C)]
struct Tcg2 {
    get_capability: *const c_void,
    get_event_log: *const c_void,
    hash_log_extend_event: HashLogExtendEvent,
}

/// The outcome, for the console.
pub enum Measured {
    /// Extended into PCR 4.
    Pcr4,
    /// The platform has no TPM (no EFI_TCG2_PROTOCOL).
    NoTpm,
}

/// Measures the PE image `image` (as laid out in a file) into PCR 4, with an
/// EFI_IMAGE_LOAD_EVENT naming where it is. An error when the TPM refuses: the image is
/// then not started, since its measurement would be missing from the log.
pub fn measure_image(image: &[u8]) -> Result<Measured, Status> {
    let Some(system) = uefi::table::system_table_raw() else { return Ok(Measured::NoTpm) };
    let mut raw: *mut c_void = core::ptr::null_mut();
    // SAFETY: the system table and its boot services are valid while boot services run;
    // LocateProtocol writes the interface pointer to `raw`.
    let status = unsafe {
        let services = (*system.as_ptr()).boot_services;
        ((*services).locate_protocol)(&TCG2_GUID, core::ptr::null_mut(), &mut raw)
    };
    if !status.is_success() || raw.is_null() {
        return Ok(Measured::NoTpm);
    }
    // EFI_TCG2_EVENT (packed): Size, then the header {HeaderSize, HeaderVersion 1,
    // PCRIndex, EventType}, then the event: EFI_IMAGE_LOAD_EVENT {ImageLocationInMemory,
    // ImageLengthInMemory, ImageLinkTimeAddress, LengthOfDevicePath = 0}.
    let mut event = Vec::with_capacity(4 + 14 + 32);
    let size = (4 + 14 + 32) as u32;
    event.extend_from_slice(&size.to_le_bytes());
    event.extend_from_slice(&14u32.to_le_bytes());
    event.extend_from_slice(&1u16.to_le_bytes());
    event.extend_from_slice(&PCR_BOOT_APPLICATIONS.to_le_bytes());
    event.extend_from_slice(&EV_EFI_BOOT_SERVICES_APPLICATION.to_le_bytes());
    event.extend_from_slice(&(image.as_ptr() as u64).to_le_bytes());
    event.extend_from_slice(&(image.len() as u64).to_le_bytes());
    event.extend_from_slice(&0u64.to_le_bytes());
    event.extend_from_slice(&0u64.to_le_bytes());
    let tcg2 = raw.cast::<Tcg2>();
    // SAFETY: `tcg2` is the platform's EFI_TCG2_PROTOCOL (located above), whose third
    // member is HashLogExtendEvent; `image` and `event` are valid for the call.
    let status = unsafe {
        ((*tcg2).hash_log_extend_event)(
            tcg2,
            PE_COFF_IMAGE,
            image.as_ptr() as u64,
            image.len() as u64,
            event.as_ptr(),
        )
    };
    if status.is_success() { Ok(Measured::Pcr4) } else { Err(status) }
}
