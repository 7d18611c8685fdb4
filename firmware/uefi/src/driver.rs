//! Option-ROM mode. Packaged in a PCI expansion ROM, this same program is loaded by the
//! platform as a boot-service driver (the image builder marks it subsystem 11). It then
//! stays resident and installs a LoadFile protocol on its NIC's PCI handle; the boot
//! manager lists that as a boot option, and choosing it runs the network boot.

use core::ffi::c_void;

use uefi::boot::{self, MemoryType};
use uefi::proto::loaded_image::LoadedImage;
use uefi::{Handle, Status};
use uefi_raw::Boolean;
use uefi_raw::protocol::device_path::DevicePathProtocol;
use uefi_raw::protocol::media::LoadFileProtocol;

/// Whether the platform loaded this image as a driver (from an option ROM) rather than
/// starting it as an application.
pub fn loaded_as_driver() -> bool {
    boot::open_protocol_exclusive::<LoadedImage>(boot::image_handle())
        .map(|image| image.code_type() == MemoryType::BOOT_SERVICES_CODE)
        .unwrap_or(false)
}

static LOAD_FILE: LoadFileProtocol = LoadFileProtocol { load_file };

/// Runs the network boot when the boot manager picks this NIC. Returns only when
/// nothing could be booted, so the boot manager moves on to its next option.
unsafe extern "efiapi" fn load_file(
    _this: *mut LoadFileProtocol,
    _file_path: *const DevicePathProtocol,
    _boot_policy: Boolean,
    _buffer_size: *mut usize,
    _buffer: *mut c_void,
) -> Status {
    crate::banner();
    let Err(why) = crate::run();
    crate::println!("bootsign: {why}");
    crate::println!("bootsign: nothing was booted");
    Status::NOT_FOUND
}

/// Installs the boot option on the NIC this ROM belongs to.
pub fn install() -> Status {
    let device: Option<Handle> = boot::open_protocol_exclusive::<LoadedImage>(boot::image_handle())
        .ok()
        .and_then(|image| image.device());
    let Some(device) = device else {
        crate::println!("bootsign: option ROM without a device handle; not installing");
        return Status::NOT_FOUND;
    };
    // SAFETY: LOAD_FILE is a static LoadFile protocol instance that lives for as long as
    // this resident driver.
    let installed = unsafe {
        boot::install_protocol_interface(Some(device), &LoadFileProtocol::GUID, (&raw const LOAD_FILE).cast())
    };
    match installed {
        Ok(_) => Status::SUCCESS,
        Err(e) => {
            crate::println!("bootsign: cannot install the network boot option: {:?}", e.status());
            e.status()
        }
    }
}
