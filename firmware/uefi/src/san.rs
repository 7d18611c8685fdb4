//! `sanboot` and `sanhook` on UEFI.
//!
//! A disk or CD image (downloaded, and admitted by the trust gate: with `imgtrust`, only
//! one whose every byte a signature covers) is copied into reserved memory and
//! registered with the platform's RAM disk protocol, which gives it a block device; the
//! platform's drivers find its partitions (or the CD's El Torito image) and file system,
//! and its boot file — `\EFI\BOOT\BOOTX64.EFI`, or `--filename` — is loaded by the
//! platform's own LoadImage from that device path, so Secure Boot checks it as it would
//! any boot option. `sanhook` stops after registering. `sanboot` without an image boots
//! the local disk: the `--drive` (0x80 the first) disk that has the boot file; when none
//! has, it fails, and the firmware's exit hands over to the platform's next boot option.
//! Under `imgtrust` that needs Secure Boot on: bootsign has no proof of anything on the
//! local disk, so only the platform's check can stand for one.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use bootsign_script::San;
use uefi::boot::{
    self, AllocateType, LoadImageSource, MemoryType, OpenProtocolAttributes, OpenProtocolParams, SearchType,
};
use uefi::proto::BootPolicy;
use uefi::proto::device_path::build::{self, DevicePathBuilder};
use uefi::proto::device_path::{DevicePath, FfiDevicePath};
use uefi::proto::media::fs::SimpleFileSystem;
use uefi::proto::unsafe_protocol;
use uefi::{CString16, Guid, Handle, Identify, Status, guid};

use crate::hash::PartialSha256;
use crate::proof::ImageProof;

/// EFI_RAM_DISK_PROTOCOL (UEFI 2.6, 13.6).
#[repr(C)]
#[unsafe_protocol("ab38a0df-6873-44a9-87e6-d4eb56148449")]
struct RamDisk {
    register: unsafe extern "efiapi" fn(
        base: u64,
        size: u64,
        disk_type: *const Guid,
        parent: *const FfiDevicePath,
        device_path: *mut *const FfiDevicePath,
    ) -> Status,
    unregister: unsafe extern "efiapi" fn(device_path: *const FfiDevicePath) -> Status,
}

/// A RAM disk holding a CD image (EFI_VIRTUAL_CD_GUID).
const VIRTUAL_CD: Guid = guid!("3d5abd30-4175-87ce-6d64-d2ade523c4bb");
/// A RAM disk holding a disk image (EFI_VIRTUAL_DISK_GUID).
const VIRTUAL_DISK: Guid = guid!("77ab535a-45fc-624b-5560-f7b281d1f96e");

/// The removable-media boot file for x86-64.
const DEFAULT_BOOT_FILE: &str = "\\EFI\\BOOT\\BOOTX64.EFI";

/// `sanboot`: returns only when nothing could be started, or what started returned.
pub fn boot(san: &San<'_, ImageProof, PartialSha256>) -> String {
    let file = boot_file(san);
    let fs = match san.disk() {
        Some(_) => match register(san) {
            Ok((name, disk_path)) => {
                crate::println!("{name}: registered as a RAM disk");
                match file_systems_under(&disk_path) {
                    Ok(fs) if !fs.is_empty() => fs,
                    Ok(_) => return format!("{name}: the platform found no file system on the disk image"),
                    Err(e) => return e,
                }
            }
            Err(e) => return e,
        },
        None if san.needs_platform_check && crate::secure_boot::state() != crate::secure_boot::State::On => {
            return "imgtrust is in force and Secure Boot is off: the local disk's boot program would start \
                    unverified (bootsign has no signature for it); turn Secure Boot on so the platform checks it, \
                    or boot from an image bootsign verifies"
                .into();
        }
        None => match local_disks() {
            Ok(fs) => fs,
            Err(e) => return e,
        },
    };
    // The local drive asked for: 0x80 is the first disk with the boot file, 0x81 the
    // second; an image's disk is the only one.
    let skip = if san.disk().is_none() { san.drive.saturating_sub(0x80) as usize } else { 0 };
    let mut found = 0;
    let mut tried = Vec::new();
    for path in fs {
        let Ok(full) = with_file(&path, &file) else { continue };
        match boot::load_image(
            boot::image_handle(),
            LoadImageSource::FromDevicePath { device_path: &full, boot_policy: BootPolicy::ExactMatch },
        ) {
            Ok(image) if found == skip => {
                crate::println!("sanboot: starting {file} from {}", describe(&path));
                let result = boot::start_image(image);
                let _ = boot::unload_image(image);
                return match result {
                    Ok(()) => format!("{file} returned"),
                    Err(e) => format!("{file} failed to start or exited with {:?}", e.status()),
                };
            }
            Ok(image) => {
                let _ = boot::unload_image(image);
                found += 1;
            }
            Err(e) if e.status() == Status::SECURITY_VIOLATION || e.status() == Status::ACCESS_DENIED => {
                tried.push(format!("{} (Secure Boot refused it)", describe(&path)));
            }
            Err(_) => tried.push(describe(&path)),
        }
    }
    match san.disk() {
        Some(d) => format!("the disk image '{}' has no bootable {file}", d.image().name()),
        None if san.drive != 0x80 || found > 0 => format!("no local disk {:#x} with {file}", san.drive),
        None if tried.is_empty() => {
            format!("no local disk has {file}; the platform's next boot option follows")
        }
        None => format!(
            "no local disk has a bootable {file} ({}); the platform's next boot option follows",
            tried.join(", ")
        ),
    }
}

/// `sanhook`: the disk registered for what starts next.
pub fn hook(san: &San<'_, ImageProof, PartialSha256>) -> Result<String, String> {
    if san.disk().is_none() {
        return Err("sanhook needs a disk image (a name or URI)".into());
    }
    let (name, path) = register(san)?;
    Ok(format!("{name}: registered as a RAM disk at {}", describe(&path)))
}

/// The boot file: `--filename`, else the removable-media default.
fn boot_file(san: &San<'_, ImageProof, PartialSha256>) -> String {
    match &san.filename {
        Some(f) => f.replace('/', "\\"),
        None => DEFAULT_BOOT_FILE.into(),
    }
}

/// Copies the admitted image into reserved memory and registers it as a RAM disk (a CD
/// when it carries an ISO 9660 volume descriptor); returns its name and device path.
fn register(san: &San<'_, ImageProof, PartialSha256>) -> Result<(String, Vec<u8>), String> {
    let disk = san.disk().expect("checked by the caller");
    let name = String::from(disk.image().name());
    let checked = disk.bytes()?;
    let bytes = checked.as_slice();
    if bytes.is_empty() {
        return Err(format!("the disk image '{name}' is empty"));
    }
    let is_cd = bytes.get(0x8001..0x8006) == Some(b"CD001");
    let handle = boot::get_handle_for_protocol::<RamDisk>().map_err(|_| {
        format!("{name}: this firmware has no RAM disk protocol, so it cannot boot disk images")
    })?;
    let ram_disk = boot::open_protocol_exclusive::<RamDisk>(handle)
        .map_err(|e| format!("{name}: cannot open the RAM disk protocol: {:?}", e.status()))?;
    let pages = bytes.len().div_ceil(4096);
    // Reserved memory: the disk stays for what boots from it, and the OS does not take
    // it over before it is done.
    let base = boot::allocate_pages(AllocateType::AnyPages, MemoryType::RESERVED, pages)
        .map_err(|e| format!("{name}: no memory for a {} byte RAM disk: {:?}", bytes.len(), e.status()))?;
    // SAFETY: `base` is a fresh allocation of `pages` pages, at least `bytes.len()`
    // bytes, not shared with anything; the source is a separate buffer.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), base.as_ptr(), bytes.len()) };
    let disk_type = if is_cd { VIRTUAL_CD } else { VIRTUAL_DISK };
    let mut path: *const FfiDevicePath = core::ptr::null();
    // SAFETY: the protocol interface is open for the duration of the call; base and size
    // describe the allocation above, which is never freed; the GUID is a static; the
    // out pointer is a local.
    let status = unsafe {
        (ram_disk.register)(
            base.as_ptr() as u64,
            bytes.len() as u64,
            &disk_type,
            core::ptr::null(),
            &mut path,
        )
    };
    if status.is_error() || path.is_null() {
        // SAFETY: registration failed, so nothing refers to the pages.
        let _ = unsafe { boot::free_pages(base, pages) };
        return Err(format!("{name}: the platform refused the RAM disk: {status:?}"));
    }
    // SAFETY: on success the protocol returns a valid device path it allocated.
    let path = unsafe { DevicePath::from_ffi_ptr(path) };
    Ok((name, path.as_bytes().to_vec()))
}

/// Every handle with a file system, with its device path (bytes).
fn file_systems() -> Result<Vec<(Handle, Vec<u8>)>, String> {
    let handles = boot::locate_handle_buffer(SearchType::ByProtocol(&SimpleFileSystem::GUID))
        .map_err(|e| format!("no file systems: {:?}", e.status()))?;
    let mut out = Vec::new();
    for &handle in handles.iter() {
        // SAFETY: GetProtocol only looks (it takes no ownership the drivers hold), and
        // the path is copied before the handle could go away.
        let opened = unsafe {
            boot::open_protocol::<DevicePath>(
                OpenProtocolParams { handle, agent: boot::image_handle(), controller: None },
                OpenProtocolAttributes::GetProtocol,
            )
        };
        if let Ok(path) = opened {
            out.push((handle, path.as_bytes().to_vec()));
        }
    }
    Ok(out)
}

/// A device path's bytes without its end node.
fn without_end(path: &[u8]) -> &[u8] {
    path.strip_suffix(&[0x7f, 0xff, 0x04, 0x00]).unwrap_or(path)
}

/// The file systems on the RAM disk at `disk` (its partitions, or the CD's boot image),
/// after asking the platform to connect its drivers to it.
fn file_systems_under(disk: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    // SAFETY: `disk` holds a whole device path the RAM disk protocol returned.
    let dp = unsafe { DevicePath::from_ffi_ptr(disk.as_ptr().cast()) };
    let mut remaining = dp;
    if let Ok(handle) = boot::locate_device_path::<uefi::proto::media::block::BlockIO>(&mut remaining) {
        let _ = boot::connect_controller(handle, &[], None, true);
    }
    let prefix = without_end(disk);
    Ok(file_systems()?.into_iter().map(|(_, p)| p).filter(|p| p.starts_with(prefix)).collect())
}

/// The file systems on local disks (their device paths): every one except RAM disks and
/// the device this firmware was started from.
fn local_disks() -> Result<Vec<Vec<u8>>, String> {
    // The platform may have connected only what it needed to start this firmware (a
    // `-kernel` or network boot): connect every driver to every device first, as the
    // boot manager does before it lists boot options.
    if let Ok(all) = boot::locate_handle_buffer(SearchType::AllHandles) {
        for &handle in all.iter() {
            let _ = boot::connect_controller(handle, &[], None, true);
        }
    }
    let own = {
        // SAFETY: our own LoadedImage, only read.
        let loaded =
            boot::open_protocol_exclusive::<uefi::proto::loaded_image::LoadedImage>(boot::image_handle());
        loaded.ok().and_then(|l| l.device())
    };
    Ok(file_systems()?
        .into_iter()
        .filter(|(h, p)| Some(*h) != own && !is_ram_disk(p))
        .map(|(_, p)| p)
        .collect())
}

/// Whether a device path goes through a RAM disk node (media type 4, subtype 9).
fn is_ram_disk(path: &[u8]) -> bool {
    let mut rest = path;
    while rest.len() >= 4 {
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
        if (rest[0], rest[1]) == (4, 9) {
            return true;
        }
        if len < 4 || len > rest.len() {
            break;
        }
        rest = &rest[len..];
    }
    false
}

/// `path` (a file system's device path) followed by a file path node for `file`.
fn with_file(path: &[u8], file: &str) -> Result<alloc::boxed::Box<DevicePath>, ()> {
    // SAFETY: `path` holds a whole device path copied from the platform.
    let dp = unsafe { DevicePath::from_ffi_ptr(path.as_ptr().cast()) };
    let name = CString16::try_from(file).map_err(|_| ())?;
    let mut buf = Vec::new();
    let mut builder = DevicePathBuilder::with_vec(&mut buf);
    for node in dp.node_iter() {
        builder = builder.push(&node).map_err(|_| ())?;
    }
    let built = builder
        .push(&build::media::FilePath { path_name: &name })
        .map_err(|_| ())?
        .finalize()
        .map_err(|_| ())?;
    Ok(built.to_boxed())
}

/// A device path as text, for messages.
fn describe(path: &[u8]) -> String {
    use uefi::proto::device_path::text::{AllowShortcuts, DisplayOnly};
    // SAFETY: `path` holds a whole device path copied from the platform.
    let dp = unsafe { DevicePath::from_ffi_ptr(path.as_ptr().cast()) };
    dp.to_string16(DisplayOnly(true), AllowShortcuts(true))
        .map(|s| alloc::string::ToString::to_string(&s))
        .unwrap_or_else(|_| String::from("a device"))
}
