//! The prebuilt firmware template, carried inside the CLI (built by `build.rs`), and
//! reading which firmware version an image holds.

/// The firmware template: a PE32+ UEFI application without a configuration section.
pub const TEMPLATE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bootsign-firmware.efi"));

/// The legacy BIOS firmware: a Linux bzImage (`.lkrn`) without a configuration (the
/// builder appends it, [`crate::image::lkrn`]).
pub const BIOS_TEMPLATE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bootsign-firmware.lkrn"));

/// The BIOS firmware's disk and CD loader (`firmware/bios/src/diskboot.s`): 2,048 bytes
/// run at 0x7C00, as the El Torito boot image and, its first 440 bytes, as MBR boot
/// code; [`crate::image::diskboot`] fills in where the `.lkrn` lies.
pub const BIOS_DISKBOOT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bootsign-diskboot.bin"));

/// The BIOS firmware's PXE network boot program (`firmware/bios/src/pxeboot.s`), a
/// `.kpxe`: loaded by a PXE ROM at 0x7C00, it fetches the `.lkrn` over TFTP and starts
/// it; [`crate::image::pxeboot`] names the `.lkrn` and fills in its length and CRC-32.
pub const BIOS_PXEBOOT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bootsign-pxeboot.bin"));

/// The legacy BIOS image of the option ROM (`firmware/bios/src/romboot.s`): the ROM's
/// first image, which loads the `.lkrn` from the image after it;
/// [`crate::image::rom`] fills in the IDs, lengths and checksums.
pub const BIOS_ROMBOOT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bootsign-romboot.bin"));

const MARKER: &[u8] = b"BOOTSIGN-FIRMWARE-VERSION=";

/// The firmware version recorded in an image, if it is a bootsign firmware.
pub fn version_of(image: &[u8]) -> Option<String> {
    let at = image.windows(MARKER.len()).position(|w| w == MARKER)? + MARKER.len();
    let rest = &image[at..];
    let end = rest.iter().take(32).position(|&b| b == 0)?;
    let version = std::str::from_utf8(&rest[..end]).ok()?;
    let plausible =
        !version.is_empty() && version.bytes().all(|b| b.is_ascii_alphanumeric() || b".-+".contains(&b));
    plausible.then(|| version.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_template_is_a_versioned_uefi_application() {
        let pe = bootsign_pe::Pe::parse(super::TEMPLATE).unwrap();
        assert_eq!((pe.machine, pe.subsystem), (0x8664, 10));
        assert!(pe.section(&bootsign_pe::CONFIG_SECTION).is_none());
        assert_eq!(super::version_of(super::TEMPLATE).as_deref(), Some(env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn the_bios_template_is_a_versioned_bzimage() {
        let t = super::BIOS_TEMPLATE;
        assert_eq!(&t[0x202..0x206], b"HdrS");
        assert_eq!(u16::from_le_bytes([t[0x1fe], t[0x1ff]]), 0xaa55);
        assert_eq!(super::version_of(t).as_deref(), Some(env!("CARGO_PKG_VERSION")));
    }
}
