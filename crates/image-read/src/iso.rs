//! ISO 9660 with El Torito: the volume descriptors from block 16 up to the set
//! terminator, the boot record's catalog, and in it the first bootable entry for
//! platform 0xEF (UEFI), whose image is the EFI system partition.

use crate::{Error, Part, ReadAt, le16, le32, read_vec};

const BLOCK: u64 = 2048;
/// Volume descriptors read before giving up on finding the terminator.
const MAX_DESCRIPTORS: u64 = 64;
const PLATFORM_EFI: u8 = 0xef;

/// The UEFI boot image of an ISO image; `None` when the image is not ISO 9660.
pub(crate) fn esp<S: ReadAt + ?Sized>(image: &mut S) -> Result<Option<Part>, Error> {
    let size = image.len();
    if size < 17 * BLOCK {
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
    // The default entry is for the validation entry's platform; each section header sets
    // the platform of the entries after it.
    let mut platform = cat[1];
    let mut found = None;
    for entry in cat[32..].chunks(32) {
        match entry[0] {
            0x88 if platform == PLATFORM_EFI => {
                found = Some(entry);
                break;
            }
            0x90 | 0x91 => platform = entry[1],
            _ => {}
        }
    }
    let Some(entry) = found else {
        return Err(Error::NoProgram("the El Torito boot catalog has no UEFI boot entry"));
    };
    let start = u64::from(le32(entry, 8)) * BLOCK;
    let sectors = u64::from(le16(entry, 6));
    // The entry's length is in 512-byte units and capped at 65535 of them: when it holds
    // more than a stub, the image must be that long; the file system says how long it is.
    let declared = if sectors > 1 { sectors * 512 } else { 0 };
    Part::new(start, declared.max(1), size, "the El Torito boot image")?;
    Ok(Some(Part { start, len: size - start, what: "the El Torito boot image" }))
}
