//! Starting a program through a shim (iPXE's `shim` command): when the platform's Secure
//! Boot refuses the program and the script chose a shim, the platform starts the shim
//! instead (it checks the shim as any program: a distribution's shim is signed by
//! Microsoft's UEFI CA), and the shim loads the program as its second stage, checking it
//! against its own keys (its vendor certificate, MokList, db) and SBAT.
//!
//! The shim finds its second stage the way iPXE hands it over: its command line is
//! `SHIM PROGRAM ARGS...`, and the program is a file in the root of a read-only
//! EFI_SIMPLE_FILE_SYSTEM on the shim's device handle: a handle of bootsign's own, whose
//! device path is a vendor media node, with the file system installed on it. The files
//! are the program and the shim, by name (case-insensitively), and for shims older than
//! 15.5 that ignore the command line and always load `grubx64.efi`, any `grub*.efi`
//! name opens the program.
//!
//! What iPXE does besides and bootsign does not: it stops a PXE base code (bootsign
//! exposes none, so a shim cannot fetch anything over TFTP behind its back); it blanks
//! the SbatLevel variable shim reads (bootsign lets shim apply the real SBAT level, as
//! iPXE's `--allow-sbat`); and it calls the shim's Verify from a GetMemoryMap hook so
//! that a kernel started directly by shim may call ExitBootServices (bootsign does not
//! hook the boot services: as with `--require-loader`, the second stage must be a loader
//! that asks shim to verify what it starts, such as GRUB).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::ptr;

use uefi::boot::{self, LoadImageSource};
use uefi::proto::loaded_image::LoadedImage;
use uefi::{Guid, Handle, Status, guid};
use uefi_raw::Char16;
use uefi_raw::protocol::device_path::DevicePathProtocol;
use uefi_raw::protocol::file_system::{
    FileAttribute, FileInfo, FileMode, FileProtocolRevision, FileProtocolV1, FileSystemInfo,
    SimpleFileSystemProtocol,
};

/// The vendor media node naming bootsign's file system of images.
const VOLUME_GUID: Guid = guid!("b0075161-9e00-4c1e-8a1f-6e5d2c3b0a91");

/// A file the volume serves: its name and a copy of its bytes, owned by the volume, so
/// that a volume the platform will not let go of (and leaks) still reads valid memory
/// after the images are freed.
struct File {
    name: String,
    data: Vec<u8>,
}

/// The file system: the protocol first, so `this` points at the whole struct.
#[repr(C)]
struct Volume {
    protocol: SimpleFileSystemProtocol,
    files: Vec<File>,
    /// The file `grub*.efi` opens: the program.
    program: usize,
    /// Handles open on it (the root and files): while any is, the volume is not freed.
    open: core::sync::atomic::AtomicUsize,
}

/// An open file or the root directory: the protocol first, so `this` points at it.
#[repr(C)]
struct Open {
    protocol: FileProtocolV1,
    volume: *const Volume,
    /// `None` for the root directory.
    file: Option<usize>,
    position: u64,
}

impl Volume {
    /// The file `name` (a path in the root, `\` and `.` prefixes ignored) names.
    fn find(&self, name: &str) -> Option<usize> {
        let name = name.trim_start_matches(['\\', '.', '/']);
        if let Some(i) = self.files.iter().position(|f| f.name.eq_ignore_ascii_case(name)) {
            return Some(i);
        }
        let lower = name.to_ascii_lowercase();
        (lower.starts_with("grub") && lower.ends_with(".efi")).then_some(self.program)
    }
}

unsafe extern "efiapi" fn open_volume(
    this: *mut SimpleFileSystemProtocol,
    root: *mut *mut FileProtocolV1,
) -> Status {
    if this.is_null() || root.is_null() {
        return Status::INVALID_PARAMETER;
    }
    // SAFETY: the caller gives a place for the handle; `this` is the volume's protocol.
    unsafe { *root = new_open(this.cast::<Volume>(), None) };
    Status::SUCCESS
}

/// A fresh open-file instance (freed by `close`), counted on its volume.
fn new_open(volume: *const Volume, file: Option<usize>) -> *mut FileProtocolV1 {
    // SAFETY: `volume` is the installed volume, alive while any handle to it is (it is
    // leaked, never freed, when handles remain at the end).
    unsafe { &*volume }.open.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
    let open = Box::new(Open {
        protocol: FileProtocolV1 {
            revision: FileProtocolRevision::REVISION_1,
            open: file_open,
            close: file_close,
            delete: file_delete,
            read: file_read,
            write: file_write,
            get_position: file_get_position,
            set_position: file_set_position,
            get_info: file_get_info,
            set_info: file_set_info,
            flush: file_flush,
        },
        volume,
        file,
        position: 0,
    });
    Box::into_raw(open).cast()
}

/// The open file `this` is.
///
/// SAFETY (for callers): `this` must be a pointer `new_open` returned and `close` has not
/// freed, and its volume must be installed (both hold while the shim runs).
unsafe fn open_of<'a>(this: *const FileProtocolV1) -> (&'a mut Open, &'a Volume) {
    // SAFETY: as the function's contract says.
    let open = unsafe { &mut *this.cast::<Open>().cast_mut() };
    // SAFETY: the volume outlives every open file of it.
    let volume = unsafe { &*open.volume };
    (open, volume)
}

/// A NUL-terminated UCS-2 string.
///
/// SAFETY (for callers): `s` must point at a NUL-terminated UCS-2 string.
unsafe fn ucs2(s: *const Char16) -> String {
    let mut out = String::new();
    let mut p = s.cast::<u16>();
    // SAFETY: the string is NUL-terminated, so every unit read before the NUL is in it.
    while let c @ 1.. = unsafe { p.read_unaligned() } {
        out.push(char::from_u32(u32::from(c)).unwrap_or('?'));
        // SAFETY: not past the NUL yet.
        p = unsafe { p.add(1) };
    }
    out
}

unsafe extern "efiapi" fn file_open(
    this: *mut FileProtocolV1,
    new_handle: *mut *mut FileProtocolV1,
    file_name: *const Char16,
    open_mode: FileMode,
    _attributes: FileAttribute,
) -> Status {
    if this.is_null() || new_handle.is_null() || file_name.is_null() {
        return Status::INVALID_PARAMETER;
    }
    if open_mode != FileMode::READ {
        return Status::WRITE_PROTECTED;
    }
    // SAFETY: `this` is one of ours (the platform only calls back what we handed out).
    let (_, volume) = unsafe { open_of(this) };
    // SAFETY: the caller passes a NUL-terminated name.
    let name = unsafe { ucs2(file_name) };
    let file = if name.trim_start_matches(['\\', '.', '/']).is_empty() {
        None
    } else {
        match volume.find(&name) {
            Some(i) => Some(i),
            None => return Status::NOT_FOUND,
        }
    };
    // SAFETY: the caller gives a place for the new handle.
    unsafe { *new_handle = new_open(volume, file) };
    Status::SUCCESS
}

unsafe extern "efiapi" fn file_close(this: *mut FileProtocolV1) -> Status {
    if this.is_null() {
        return Status::INVALID_PARAMETER;
    }
    // SAFETY: `this` came from `new_open`'s Box::into_raw and is closed once.
    let open = unsafe { Box::from_raw(this.cast::<Open>()) };
    // SAFETY: as in `new_open`.
    unsafe { &*open.volume }.open.fetch_sub(1, core::sync::atomic::Ordering::SeqCst);
    Status::SUCCESS
}

unsafe extern "efiapi" fn file_delete(this: *mut FileProtocolV1) -> Status {
    // SAFETY: as `file_close`; Delete closes the handle whatever it returns.
    let _ = unsafe { file_close(this) };
    Status::WARN_DELETE_FAILURE
}

unsafe extern "efiapi" fn file_read(
    this: *mut FileProtocolV1,
    size: *mut usize,
    buffer: *mut c_void,
) -> Status {
    if this.is_null() || size.is_null() {
        return Status::INVALID_PARAMETER;
    }
    // SAFETY: `this` is one of ours.
    let (open, volume) = unsafe { open_of(this) };
    let Some(index) = open.file else {
        // The root directory lists nothing: the files are opened by name.
        // SAFETY: the caller owns the size variable.
        unsafe { *size = 0 };
        return Status::SUCCESS;
    };
    let file = &volume.files[index].data;
    let at = usize::try_from(open.position).unwrap_or(usize::MAX).min(file.len());
    // SAFETY: the caller owns the size variable.
    let n = unsafe { *size }.min(file.len() - at);
    if n > 0 {
        if buffer.is_null() {
            return Status::INVALID_PARAMETER;
        }
        // SAFETY: the caller's buffer holds `*size` >= n bytes; `at + n` is within `file`.
        unsafe { ptr::copy_nonoverlapping(file[at..].as_ptr(), buffer.cast::<u8>(), n) };
    }
    open.position = (at + n) as u64;
    // SAFETY: as above.
    unsafe { *size = n };
    Status::SUCCESS
}

unsafe extern "efiapi" fn file_write(_: *mut FileProtocolV1, _: *mut usize, _: *const c_void) -> Status {
    Status::WRITE_PROTECTED
}

unsafe extern "efiapi" fn file_get_position(this: *const FileProtocolV1, position: *mut u64) -> Status {
    if this.is_null() || position.is_null() {
        return Status::INVALID_PARAMETER;
    }
    // SAFETY: `this` is one of ours.
    let (open, _) = unsafe { open_of(this) };
    if open.file.is_none() {
        return Status::UNSUPPORTED;
    }
    // SAFETY: the caller gives the place.
    unsafe { *position = open.position };
    Status::SUCCESS
}

unsafe extern "efiapi" fn file_set_position(this: *mut FileProtocolV1, position: u64) -> Status {
    if this.is_null() {
        return Status::INVALID_PARAMETER;
    }
    // SAFETY: `this` is one of ours.
    let (open, volume) = unsafe { open_of(this) };
    match open.file {
        // A directory can only be rewound.
        None if position != 0 => Status::UNSUPPORTED,
        None => Status::SUCCESS,
        Some(i) => {
            // u64::MAX: the end of the file.
            open.position = if position == u64::MAX { volume.files[i].data.len() as u64 } else { position };
            Status::SUCCESS
        }
    }
}

unsafe extern "efiapi" fn file_get_info(
    this: *mut FileProtocolV1,
    kind: *const Guid,
    size: *mut usize,
    buffer: *mut c_void,
) -> Status {
    if this.is_null() || kind.is_null() || size.is_null() {
        return Status::INVALID_PARAMETER;
    }
    // SAFETY: `this` is one of ours; `kind` points at a GUID.
    let (open, volume) = unsafe { open_of(this) };
    // SAFETY: as above.
    let kind = unsafe { *kind };
    let info = if kind == FileInfo::ID {
        let (name, len, attribute) = match open.file {
            Some(i) => {
                (volume.files[i].name.as_str(), volume.files[i].data.len() as u64, FileAttribute::READ_ONLY)
            }
            None => ("", 0, FileAttribute::READ_ONLY | FileAttribute::DIRECTORY),
        };
        file_info(name, len, attribute)
    } else if kind == FileSystemInfo::ID {
        volume_info(volume.files.iter().map(|f| f.data.len() as u64).sum())
    } else {
        return Status::UNSUPPORTED;
    };
    // SAFETY: the caller owns the size variable.
    let room = unsafe { *size };
    // SAFETY: as above.
    unsafe { *size = info.len() };
    if room < info.len() || buffer.is_null() {
        return Status::BUFFER_TOO_SMALL;
    }
    // SAFETY: the caller's buffer holds `room` >= `info.len()` bytes.
    unsafe { ptr::copy_nonoverlapping(info.as_ptr(), buffer.cast::<u8>(), info.len()) };
    Status::SUCCESS
}

/// EFI_FILE_INFO: Size, FileSize, PhysicalSize, three EFI_TIMEs (zero), Attribute, then
/// the name in UCS-2 with its NUL.
fn file_info(name: &str, len: u64, attribute: FileAttribute) -> Vec<u8> {
    let name: Vec<u16> = name.encode_utf16().chain(core::iter::once(0)).collect();
    let size = 80 + name.len() * 2;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&(size as u64).to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&[0; 48]);
    out.extend_from_slice(&attribute.bits().to_le_bytes());
    out.extend(name.iter().flat_map(|c| c.to_le_bytes()));
    out
}

/// EFI_FILE_SYSTEM_INFO: Size, ReadOnly (and padding), VolumeSize, FreeSpace,
/// BlockSize, then an empty label.
fn volume_info(total: u64) -> Vec<u8> {
    let size: u64 = 36 + 2;
    let mut out = Vec::with_capacity(size as usize);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&512u32.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

unsafe extern "efiapi" fn file_set_info(
    _: *mut FileProtocolV1,
    _: *const Guid,
    _: usize,
    _: *const c_void,
) -> Status {
    Status::WRITE_PROTECTED
}

unsafe extern "efiapi" fn file_flush(_: *mut FileProtocolV1) -> Status {
    Status::SUCCESS
}

/// A device path: the vendor media node, then `file` as a file path node when given,
/// then the end node.
fn device_path(file: Option<&str>) -> Vec<u8> {
    let mut out = alloc::vec![4, 3];
    out.extend_from_slice(&20u16.to_le_bytes());
    out.extend_from_slice(&VOLUME_GUID.to_bytes());
    if let Some(name) = file {
        let units: Vec<u16> = name.encode_utf16().chain(core::iter::once(0)).collect();
        out.extend_from_slice(&[4, 4]);
        out.extend_from_slice(&((4 + units.len() * 2) as u16).to_le_bytes());
        out.extend(units.iter().flat_map(|c| c.to_le_bytes()));
    }
    out.extend_from_slice(&[0x7f, 0xff, 4, 0]);
    out
}

/// The handle with the volume's device path and file system; uninstalled on drop (and
/// leaked if the platform will not let go of it).
struct Installed {
    handle: Handle,
    path: *mut u8,
    path_len: usize,
    volume: *mut Volume,
}

impl Installed {
    fn install(volume: Volume) -> Result<Self, String> {
        let path = Box::into_raw(device_path(None).into_boxed_slice());
        let path_len = path.len();
        let path = path.cast::<u8>();
        let volume = Box::into_raw(Box::new(volume));
        // SAFETY: `path` is a terminated device path that lives until `drop`.
        let handle =
            match unsafe { boot::install_protocol_interface(None, &DevicePathProtocol::GUID, path.cast()) } {
                Ok(h) => h,
                Err(e) => {
                    // SAFETY: nothing was installed; both boxes are still only ours.
                    unsafe {
                        drop(Box::from_raw(volume));
                        drop(Box::from_raw(ptr::slice_from_raw_parts_mut(path, path_len)));
                    }
                    return Err(alloc::format!("cannot install the shim's volume: {:?}", e.status()));
                }
            };
        let installed = Self { handle, path, path_len, volume };
        // SAFETY: `volume` starts with a SimpleFileSystem protocol and lives until `drop`.
        unsafe {
            boot::install_protocol_interface(Some(handle), &SimpleFileSystemProtocol::GUID, volume.cast())
        }
        .map_err(|e| alloc::format!("cannot install the shim's file system: {:?}", e.status()))?;
        Ok(installed)
    }
}

impl Drop for Installed {
    /// Uninstalls the protocols and frees what nothing can reach any more. A volume the
    /// platform keeps installed, or with handles still open (something the shim started
    /// may still hold one), is leaked: it owns its bytes, so it stays valid.
    fn drop(&mut self) {
        // SAFETY: installed by `install` with these pointers (a failed install of the
        // file system makes this uninstall fail, which leaks, harmlessly).
        let fs_gone = unsafe {
            boot::uninstall_protocol_interface(
                self.handle,
                &SimpleFileSystemProtocol::GUID,
                self.volume.cast(),
            )
        }
        .is_ok();
        // SAFETY: as above.
        let path_gone = unsafe {
            boot::uninstall_protocol_interface(self.handle, &DevicePathProtocol::GUID, self.path.cast())
        }
        .is_ok();
        // SAFETY: the volume is alive (freed only here).
        let handles_open = unsafe { &*self.volume }.open.load(core::sync::atomic::Ordering::SeqCst) > 0;
        if fs_gone && !handles_open {
            // SAFETY: no longer installed and no handle refers to it; from Box::into_raw.
            drop(unsafe { Box::from_raw(self.volume) });
        }
        if path_gone {
            // SAFETY: as above; the slice's length was kept.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(self.path, self.path_len)) });
        }
    }
}

/// A name fit for the volume and a command line: the image's (printable ASCII without
/// path separators, at most 255 characters), else a default.
fn file_name(name: &str, default: &str) -> String {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name.chars().all(|c| c.is_ascii_graphic() && c != '\\' && c != '/');
    if ok { name.into() } else { default.into() }
}

/// Starts `shim` (named `shim_name`) with `program` (named `program_name`) as its second
/// stage and `cmdline` as the program's arguments. Returns what happened.
pub fn start(shim: &[u8], shim_name: &str, program: &[u8], program_name: &str, cmdline: &str) -> String {
    let shim_name = file_name(shim_name, "shimx64.efi");
    let program_name = file_name(program_name, "grubx64.efi");
    let volume = Volume {
        protocol: SimpleFileSystemProtocol { revision: 0x0001_0000, open_volume },
        files: alloc::vec![
            File { name: program_name.clone(), data: program.to_vec() },
            File { name: shim_name.clone(), data: shim.to_vec() },
        ],
        program: 0,
        open: core::sync::atomic::AtomicUsize::new(0),
    };
    let installed = match Installed::install(volume) {
        Ok(i) => i,
        Err(e) => return e,
    };
    let file_path = device_path(Some(&alloc::format!("\\{shim_name}")));
    let loaded = boot::load_image(
        boot::image_handle(),
        LoadImageSource::FromBuffer {
            buffer: shim,
            // SAFETY: `file_path` is a terminated device path.
            file_path: Some(unsafe {
                uefi::proto::device_path::DevicePath::from_ffi_ptr(file_path.as_ptr().cast())
            }),
        },
    );
    let handle = match loaded {
        Ok(h) => h,
        Err(e) => {
            drop(installed);
            return alloc::format!("the platform refused the shim '{shim_name}': {:?}", e.status());
        }
    };
    // `SHIM PROGRAM ARGS`: shim takes the second word as its second stage and hands it the rest.
    let line = match cmdline.is_empty() {
        true => alloc::format!("{shim_name} {program_name}"),
        false => alloc::format!("{shim_name} {program_name} {cmdline}"),
    };
    let options: Vec<u16> = line.encode_utf16().chain(core::iter::once(0)).collect();
    match boot::open_protocol_exclusive::<LoadedImage>(handle) {
        Ok(mut li) => {
            // SAFETY: `options` lives until StartImage returns.
            unsafe { li.set_load_options(options.as_ptr().cast(), (options.len() * 2) as u32) };
            if li.device().is_none() {
                // The platform did not find the volume by the path: say which it is.
                // SAFETY: the handle lives until the shim returns.
                unsafe { set_device(&mut li, installed.handle) };
            }
        }
        Err(e) => {
            let _ = boot::unload_image(handle);
            return alloc::format!("cannot give the shim its command line: {:?}", e.status());
        }
    }
    crate::println!("bootsign: starting '{program_name}' through the shim '{shim_name}'");
    let result = boot::start_image(handle);
    let _ = boot::unload_image(handle);
    drop(installed);
    match result {
        Ok(()) => alloc::format!("the shim returned (it started '{program_name}', or could not)"),
        Err(e) => alloc::format!(
            "the shim '{shim_name}' did not start '{program_name}' (it returned {:?}; shim checks the program \
             against its vendor certificate, MokList and db, and its SBAT section, and says above why it refused)",
            e.status()
        ),
    }
}

/// Sets the loaded image's DeviceHandle.
///
/// SAFETY (for callers): `handle` must stay valid while the image runs.
unsafe fn set_device(li: &mut LoadedImage, handle: Handle) {
    let raw: *mut uefi_raw::protocol::loaded_image::LoadedImageProtocol = ptr::from_mut(li).cast();
    // SAFETY: `LoadedImage` is a transparent wrapper of the raw protocol.
    unsafe { (*raw).device_handle = handle.as_ptr() };
}
