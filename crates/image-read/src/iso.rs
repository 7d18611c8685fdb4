//! ISO 9660 with El Torito: the volume descriptors from block 16 up to the set
//! terminator, the boot record's catalog, and in it the first bootable entry for a
//! platform: 0xEF (UEFI), whose image is the EFI system partition, or 0 (x86), the boot
//! image a legacy BIOS loads into conventional memory.

use alloc::vec::Vec;

use crate::{BiosBoot, Error, Part, ReadAt, le16, le32, read_vec};

const BLOCK: u64 = 2048;
/// Volume descriptors read before giving up on finding the terminator.
const MAX_DESCRIPTORS: u64 = 64;
const PLATFORM_X86: u8 = 0;
const PLATFORM_EFI: u8 = 0xef;
/// A boot entry's boot indicator: bootable.
const BOOTABLE: u8 = 0x88;
/// The lowest load segment: below it lie the interrupt vector table and the BIOS data
/// area, which a boot image must not overwrite.
const MIN_LOAD_SEGMENT: u16 = 0x0050;
/// The load segment an entry's 0 stands for (the boot sector's 0000:7C00).
const DEFAULT_LOAD_SEGMENT: u16 = 0x07c0;
/// The end of conventional memory (640 KiB), where the extended BIOS data area and the
/// video memory begin.
const CONVENTIONAL_END: u64 = 0xa_0000;

/// The validated El Torito boot catalog (its first block) of an ISO image; `None` when
/// the image is not ISO 9660 ("CD001" at byte 32769). An ISO image without a boot record
/// is an error: nothing boots from it.
fn catalog<S: ReadAt + ?Sized>(image: &mut S) -> Result<Option<Vec<u8>>, Error> {
    if image.len() < 17 * BLOCK {
        return Ok(None);
    }
    let first = read_vec(image, 16 * BLOCK, 7, "the ISO volume descriptors")?;
    if &first[1..6] != b"CD001" {
        return Ok(None);
    }
    let mut catalog = None;
    for n in 16..16 + MAX_DESCRIPTORS {
        let d = read_vec(image, n * BLOCK, 75, "the ISO volume descriptors")?;
        if &d[1..6] != b"CD001" {
            return Err(Error::Malformed("an ISO volume descriptor is damaged (no CD001 signature)"));
        }
        match d[0] {
            0 if &d[7..30] == b"EL TORITO SPECIFICATION" => catalog = Some(u64::from(le32(&d, 71))),
            255 => break,
            _ => {}
        }
    }
    let Some(catalog) = catalog else {
        return Err(Error::NoProgram("the ISO image has no El Torito boot record, so nothing boots from it"));
    };
    let cat = read_vec(image, catalog * BLOCK, BLOCK, "the El Torito boot catalog")?;
    // The validation entry: header ID 1, key bytes 0x55 0xAA, and 16-bit words summing to 0.
    let sum = cat[..32].chunks(2).fold(0u16, |s, w| s.wrapping_add(le16(w, 0)));
    if cat[0] != 1 || cat[30..32] != [0x55, 0xaa] || sum != 0 {
        return Err(Error::Malformed("the El Torito boot catalog's validation entry is damaged"));
    }
    Ok(Some(cat))
}

/// The catalog's entries after the validation entry, each with the platform it is for:
/// the default entry is for the validation entry's platform, and each section header
/// (0x90, 0x91) sets the platform of the entries after it. Headers are not yielded.
fn entries(cat: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    cat[32..]
        .chunks_exact(32)
        .scan(cat[1], |platform, entry| {
            Some(match entry[0] {
                0x90 | 0x91 => {
                    *platform = entry[1];
                    None
                }
                _ => Some((*platform, entry)),
            })
        })
        .flatten()
}

/// The first bootable entry for `platform`.
fn bootable(cat: &[u8], platform: u8) -> Option<&[u8]> {
    entries(cat).find(|&(p, e)| p == platform && e[0] == BOOTABLE).map(|(_, e)| e)
}

/// The UEFI boot image of an ISO image; `None` when the image is not ISO 9660.
pub(crate) fn esp<S: ReadAt + ?Sized>(image: &mut S) -> Result<Option<Part>, Error> {
    let Some(cat) = catalog(image)? else {
        return Ok(None);
    };
    let Some(entry) = bootable(&cat, PLATFORM_EFI) else {
        return Err(Error::NoProgram("the El Torito boot catalog has no UEFI boot entry"));
    };
    let size = image.len();
    let start = u64::from(le32(entry, 8)) * BLOCK;
    let sectors = u64::from(le16(entry, 6));
    // The entry's length is in 512-byte units and capped at 65535 of them: when it holds
    // more than a stub, the image must be that long; the file system says how long it is.
    let declared = if sectors > 1 { sectors * 512 } else { 0 };
    Part::new(start, declared.max(1), size, "the El Torito boot image")?;
    Ok(Some(Part { start, len: size - start, what: "the El Torito boot image" }))
}

/// How a legacy BIOS boots an ISO image: its first bootable El Torito entry for x86,
/// which must be a no-emulation image that lies within the file and fits in conventional
/// memory at its load segment. `None` when the image is not ISO 9660.
pub(crate) fn bios<S: ReadAt + ?Sized>(image: &mut S) -> Result<Option<BiosBoot>, Error> {
    let Some(cat) = catalog(image)? else {
        return Ok(None);
    };
    let Some(entry) = bootable(&cat, PLATFORM_X86) else {
        return Err(Error::NoProgram(no_bios_entry(&cat)));
    };
    // The media type (the low nibble): only "no emulation" loads the image as it is.
    let emulation = match entry[1] & 0x0f {
        0 => None,
        1 => Some(
            "the ISO image's El Torito boot entry for BIOS (x86) uses 1.2 MB floppy emulation; \
             only no-emulation boot images are supported",
        ),
        2 => Some(
            "the ISO image's El Torito boot entry for BIOS (x86) uses 1.44 MB floppy emulation; \
             only no-emulation boot images are supported",
        ),
        3 => Some(
            "the ISO image's El Torito boot entry for BIOS (x86) uses 2.88 MB floppy emulation; \
             only no-emulation boot images are supported",
        ),
        4 => Some(
            "the ISO image's El Torito boot entry for BIOS (x86) uses hard disk emulation; \
             only no-emulation boot images are supported",
        ),
        _ => {
            return Err(Error::Malformed(
                "the ISO image's El Torito boot entry for BIOS (x86) has a reserved media type (not 0-4)",
            ));
        }
    };
    if let Some(why) = emulation {
        return Err(Error::NoProgram(why));
    }
    let load_segment = match le16(entry, 2) {
        0 => DEFAULT_LOAD_SEGMENT,
        s => s,
    };
    let sectors = le16(entry, 6);
    let lba = le32(entry, 8);
    if sectors == 0 {
        // SeaBIOS and iPXE would load nothing and jump to whatever the memory holds.
        return Err(Error::Malformed(
            "the ISO image's El Torito boot entry for BIOS (x86) loads 0 sectors (its sector count is 0), so there is nothing to start",
        ));
    }
    if load_segment < MIN_LOAD_SEGMENT {
        return Err(Error::Malformed(
            "the ISO image's El Torito boot entry for BIOS (x86) has a load segment below 0x0050, \
             where the image would overwrite the interrupt vector table and the BIOS data area",
        ));
    }
    let len = u64::from(sectors) * 512;
    if u64::from(load_segment) * 16 + len > CONVENTIONAL_END {
        return Err(Error::Malformed(
            "the ISO image's El Torito boot image for BIOS (x86) does not fit in conventional memory: \
             at its load segment it reaches past 0xA0000 (640 KiB)",
        ));
    }
    Part::new(u64::from(lba) * BLOCK, len, image.len(), "the El Torito boot image for BIOS (x86)")?;
    Ok(Some(BiosBoot::Cd { lba, sectors, load_segment }))
}

/// Why an ISO image has no BIOS boot entry: what its catalog holds instead.
fn no_bios_entry(cat: &[u8]) -> &'static str {
    let (mut efi, mut other) = (false, false);
    for (platform, _) in entries(cat).filter(|(_, e)| e[0] == BOOTABLE) {
        match platform {
            PLATFORM_EFI => efi = true,
            _ => other = true,
        }
    }
    match (efi, other) {
        (true, false) => {
            "the ISO image has no El Torito boot entry for BIOS (x86), only for UEFI, so it boots \
             on UEFI machines only"
        }
        (true, true) => {
            "the ISO image has no El Torito boot entry for BIOS (x86), only for UEFI and for \
             other platforms (not x86 or UEFI)"
        }
        (false, true) => {
            "the ISO image has no El Torito boot entry for BIOS (x86), only for other platforms \
             (not x86 or UEFI)"
        }
        (false, false) => {
            "the ISO image has no El Torito boot entry for BIOS (x86), nor any other bootable entry"
        }
    }
}
