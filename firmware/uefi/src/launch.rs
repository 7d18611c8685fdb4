//! Starting a downloaded program: `LoadImage` from memory and `StartImage`, with the
//! command line as UCS-2 LoadOptions. A Linux kernel finds its initrds the way its EFI
//! stub looks for them: a LoadFile2 protocol on a handle whose device path is the
//! vendor media node LINUX_EFI_INITRD_MEDIA_GUID (several initrds are concatenated).

use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::ptr;

use bootsign_script::Boot;
use uefi::boot::{self, LoadImageSource};
use uefi::proto::loaded_image::LoadedImage;
use uefi::{Guid, Handle, Status, guid};
use uefi_raw::Boolean;
use uefi_raw::protocol::device_path::DevicePathProtocol;
use uefi_raw::protocol::media::LoadFile2Protocol;

use crate::hash::PartialSha256;
use crate::proof::ImageProof;

const LINUX_EFI_INITRD_MEDIA_GUID: Guid = guid!("5568e427-68fc-4f3d-ac74-ca555231cc68");

/// VenMedia(LINUX_EFI_INITRD_MEDIA_GUID)/End, as raw device path bytes.
#[repr(C, packed)]
struct InitrdDevicePath {
    kind: u8,
    subtype: u8,
    length: [u8; 2],
    guid: [u8; 16],
    end: [u8; 4],
}

/// The LoadFile2 instance: the protocol first, so `this` points at the whole struct.
#[repr(C)]
struct InitrdFile {
    protocol: LoadFile2Protocol,
    data: *const u8,
    len: usize,
}

unsafe extern "efiapi" fn load_initrd(
    this: *mut LoadFile2Protocol,
    _file_path: *const DevicePathProtocol,
    boot_policy: Boolean,
    buffer_size: *mut usize,
    buffer: *mut c_void,
) -> Status {
    if this.is_null() || buffer_size.is_null() {
        return Status::INVALID_PARAMETER;
    }
    if bool::from(boot_policy) {
        // LoadFile2 never serves boot-policy requests.
        return Status::UNSUPPORTED;
    }
    // SAFETY: `this` is the `protocol` field at the start of an `InitrdFile` installed by
    // `Initrd::install`, which outlives every call (it is uninstalled before it is freed).
    let file = unsafe { &*this.cast::<InitrdFile>() };
    // SAFETY: checked non-null above; the caller owns the size variable.
    let size = unsafe { &mut *buffer_size };
    if buffer.is_null() || *size < file.len {
        *size = file.len;
        return Status::BUFFER_TOO_SMALL;
    }
    // SAFETY: the caller guarantees `buffer` holds `*size` >= `file.len` bytes, and
    // `file.data` points at `file.len` bytes kept alive by the `Initrd`.
    unsafe { ptr::copy_nonoverlapping(file.data, buffer.cast::<u8>(), file.len) };
    *size = file.len;
    Status::SUCCESS
}

/// The installed initrd protocols; uninstalled on drop.
struct Initrd {
    handle: Handle,
    path: *mut InitrdDevicePath,
    file: *mut InitrdFile,
    _data: Vec<u8>,
}

impl Initrd {
    /// The initrds, concatenated, installed for the next program; none when there are
    /// none.
    fn install_all(initrds: &[&[u8]]) -> Result<Option<Self>, String> {
        if initrds.is_empty() {
            return Ok(None);
        }
        Self::install(bootsign_firmware_core::initrd::concatenate(initrds)).map(Some)
    }

    fn install(data: Vec<u8>) -> Result<Self, String> {
        let path = alloc::boxed::Box::into_raw(alloc::boxed::Box::new(InitrdDevicePath {
            kind: 4,
            subtype: 3,
            length: 20u16.to_le_bytes(),
            guid: LINUX_EFI_INITRD_MEDIA_GUID.to_bytes(),
            end: [0x7f, 0xff, 4, 0],
        }));
        let file = alloc::boxed::Box::into_raw(alloc::boxed::Box::new(InitrdFile {
            protocol: LoadFile2Protocol { load_file: load_initrd },
            data: data.as_ptr(),
            len: data.len(),
        }));
        // SAFETY: `path` is a valid, terminated device path that lives until `drop`
        // uninstalls it.
        let handle =
            match unsafe { boot::install_protocol_interface(None, &DevicePathProtocol::GUID, path.cast()) } {
                Ok(h) => h,
                Err(e) => {
                    // SAFETY: nothing was installed; both boxes are still only ours.
                    unsafe {
                        drop(alloc::boxed::Box::from_raw(file));
                        drop(alloc::boxed::Box::from_raw(path));
                    }
                    return Err(alloc::format!("cannot install the initrd device path: {:?}", e.status()));
                }
            };
        // SAFETY: `file` starts with a LoadFile2 protocol and lives until `drop`.
        if let Err(e) =
            unsafe { boot::install_protocol_interface(Some(handle), &LoadFile2Protocol::GUID, file.cast()) }
        {
            // SAFETY: the device path was installed above with this pointer.
            let removed =
                unsafe { boot::uninstall_protocol_interface(handle, &DevicePathProtocol::GUID, path.cast()) };
            if removed.is_ok() {
                // SAFETY: neither box is installed any more.
                unsafe {
                    drop(alloc::boxed::Box::from_raw(file));
                    drop(alloc::boxed::Box::from_raw(path));
                }
            }
            return Err(alloc::format!("cannot install the initrd LoadFile2 protocol: {:?}", e.status()));
        }
        Ok(Self { handle, path, file, _data: data })
    }
}

impl Drop for Initrd {
    /// Uninstalls the protocols and frees their memory, unless the platform refuses to
    /// let go of them (someone still has them open): then everything is leaked, since
    /// freeing memory the platform may still read is worse.
    fn drop(&mut self) {
        // SAFETY: both interfaces were installed on `handle` by `install` with these
        // pointers.
        let file_gone = unsafe {
            boot::uninstall_protocol_interface(self.handle, &LoadFile2Protocol::GUID, self.file.cast())
        }
        .is_ok();
        // SAFETY: as above.
        let path_gone = file_gone
            && unsafe {
                boot::uninstall_protocol_interface(self.handle, &DevicePathProtocol::GUID, self.path.cast())
            }
            .is_ok();
        if file_gone && path_gone {
            // SAFETY: neither pointer is installed any more; both came from Box::into_raw.
            unsafe {
                drop(alloc::boxed::Box::from_raw(self.file));
                drop(alloc::boxed::Box::from_raw(self.path));
            }
        } else {
            core::mem::forget(core::mem::take(&mut self._data));
        }
    }
}

/// Starts what the trust gate admitted: the program with its command line and initrds.
/// Each image's bytes are taken through [`bootsign_script::Admitted::bytes`], which
/// re-checks a verified image against its proof: bytes that changed since `imgverify`
/// are not started. Returns why, when it did not start or came back.
pub fn start(boot: &Boot<'_, ImageProof, PartialSha256>) -> String {
    let checked = match boot.image().bytes() {
        Ok(bytes) => bytes,
        Err(why) => return why,
    };
    let image = checked.as_slice();
    let initrds =
        match boot.initrds().iter().map(|i| i.bytes().map(|c| c.as_slice())).collect::<Result<Vec<_>, _>>() {
            Ok(initrds) => initrds,
            Err(why) => return why,
        };
    let cmdline = boot.image().image().cmdline();
    let secure_boot = crate::secure_boot::state() == crate::secure_boot::State::On;
    // Under Secure Boot, a verified image is approved for this one LoadImage: its CMS
    // signature, checked against the image's anchors, stands in for a db signer.
    let approval = if secure_boot {
        match crate::security_override::Approval::approve(&checked) {
            Ok(a) => a,
            Err(why) => return alloc::format!("'{}' is not started: {why}", boot.image().image().name()),
        }
    } else {
        None
    };
    // Whatever bootsign starts past the platform's check (vouched for, or by its own
    // loader below) is measured as the platform would have measured it.
    let mut measured = false;
    let mut measure = || -> Result<(), String> {
        if measured {
            return Ok(());
        }
        measured = true;
        match crate::tpm::measure_image(image) {
            Ok(crate::tpm::Measured::Pcr4) => {
                crate::println!("bootsign: measured into TPM PCR 4");
                Ok(())
            }
            Ok(crate::tpm::Measured::NoTpm) => Ok(()),
            Err(status) => {
                Err(alloc::format!("the TPM refused to measure the image ({status:?}); not started"))
            }
        }
    };
    if approval.is_some()
        && let Err(why) = measure()
    {
        return why;
    }
    let loaded = boot::load_image(
        boot::image_handle(),
        LoadImageSource::FromBuffer { buffer: image, file_path: None },
    );
    let vouched = approval.is_some();
    drop(approval);
    let handle = match loaded {
        Ok(h) => h,
        Err(e) if e.status() == Status::SECURITY_VIOLATION || e.status() == Status::ACCESS_DENIED => {
            let name =
                alloc::string::ToString::to_string(&bootsign_pki::text::escape(boot.image().image().name()));
            if checked.is_verified() {
                // The loader in charge does not take bootsign's word (shim's LoadImage never
                // asks Security2): bootsign lays the verified image out and starts it itself.
                crate::println!(
                    "bootsign: the platform's loader refused '{name}'{}; bootsign starts the verified image itself",
                    if vouched { " (behind shim?)" } else { "" }
                );
                let options: Vec<u16> = cmdline.encode_utf16().chain(core::iter::once(0)).collect();
                let _initrd = match Initrd::install_all(&initrds) {
                    Ok(i) => i,
                    Err(e) => return e,
                };
                if let Err(why) = measure() {
                    return why;
                }
                return crate::pe_loader::start_verified(image, &options);
            }
            if let Some(shim) = boot.shim() {
                // The script chose a shim (`shim`): the platform checks and starts it, and
                // it checks the program against its own keys.
                let shim_bytes = match shim.bytes() {
                    Ok(b) => b,
                    Err(why) => return why,
                };
                let _initrd = match Initrd::install_all(&initrds) {
                    Ok(i) => i,
                    Err(e) => return e,
                };
                return crate::shim::start(
                    shim_bytes.as_slice(),
                    shim.image().name(),
                    image,
                    boot.image().image().name(),
                    cmdline,
                );
            }
            return if vouched {
                alloc::format!(
                    "Secure Boot refused '{name}' although bootsign verified it: the platform's loader did not \
                     ask the check bootsign stood in for (behind shim, only images signed by a key shim \
                     trusts load)"
                )
            } else {
                alloc::format!(
                    "Secure Boot refused '{name}': the platform does not trust its signer and bootsign did not \
                     verify it (imgverify it against this image's trust to boot it under Secure Boot, or start it \
                     through a distribution's shim with `shim URI`)"
                )
            };
        }
        Err(e) => {
            return alloc::format!(
                "the platform cannot load the image (not an EFI program?): {:?}",
                e.status()
            );
        }
    };
    // UCS-2, NUL-terminated; kept alive until StartImage returns.
    let options: Vec<u16> = cmdline.encode_utf16().chain(core::iter::once(0)).collect();
    let fail = |why: String| {
        let _ = boot::unload_image(handle);
        why
    };
    if !cmdline.is_empty() {
        match boot::open_protocol_exclusive::<LoadedImage>(handle) {
            Ok(mut loaded) => {
                // SAFETY: `options` outlives the started image's use of it: it is dropped
                // only after StartImage returns.
                unsafe { loaded.set_load_options(options.as_ptr().cast(), (options.len() * 2) as u32) };
            }
            Err(e) => return fail(alloc::format!("cannot set the command line: {:?}", e.status())),
        }
    }
    let _initrd = match Initrd::install_all(&initrds) {
        Ok(i) => i,
        Err(e) => return fail(e),
    };
    let result = boot::start_image(handle);
    let _ = boot::unload_image(handle);
    match result {
        Ok(()) => "the image returned".into(),
        Err(e) => alloc::format!("the image failed to start or exited with {:?}", e.status()),
    }
}
