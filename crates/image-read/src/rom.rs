//! PCI expansion ROMs: the EFI ROM header (0xAA55, EFI signature 0x0EF1), the PCI data
//! structure ("PCIR") with the vendor and device IDs, and the PE driver, all within the
//! image length the PCI data structure declares (in 512-byte units). A ROM may chain
//! images (a legacy BIOS one first): the first EFI image is the one read.

use alloc::vec::Vec;

use crate::{Error, Part, ReadAt, le16, le32, read_vec};

/// A PCI vendor and device ID pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciId {
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
}

/// The PCI 3.0 device list holds at most this many IDs here (the list is ended by a 0).
const MAX_DEVICES: usize = 256;

/// Images a ROM may chain (PCI 3.0); more are taken as a malformed ROM.
const MAX_IMAGES: usize = 16;
/// The legacy image's parameters (bootsign's `romboot.s`): where the `.lkrn` lies in the
/// ROM and how long it is.
const LKRN_AT: usize = 0x20;
const LKRN_LEN: usize = 0x24;
/// Where the `.lkrn` starts in the image that carries it.
const PAYLOAD_LKRN_AT: u64 = 0x200;

/// Whether the first bytes are an option ROM: an EFI ROM header, or a legacy image whose
/// PCI data structure lies in `head`.
pub(crate) fn is_rom(head: &[u8]) -> bool {
    if head.len() < 0x1a || head[..2] != [0x55, 0xaa] {
        return false;
    }
    let pcir = usize::from(le16(head, 0x18));
    le32(head, 4) == 0x0ef1 || head.get(pcir..pcir + 4) == Some(b"PCIR".as_slice())
}

/// One image of the chain: where it starts, its length, its PCI data structure.
struct Image {
    start: u64,
    len: u64,
    pcir: Vec<u8>,
    pcir_at: u64,
    code_type: u8,
    last: bool,
}

/// The image at `start`.
fn image_at<S: ReadAt + ?Sized>(image: &mut S, start: u64) -> Result<Image, Error> {
    let header = read_vec(image, start, 0x1a, "a ROM image header")?;
    if header[..2] != [0x55, 0xaa] {
        return Err(Error::Malformed("a ROM image does not start with 55 AA"));
    }
    let pcir_at = start + u64::from(le16(&header, 0x18));
    let pcir = read_vec(image, pcir_at, 0x18, "the ROM's PCI data structure")?;
    if &pcir[..4] != b"PCIR" {
        return Err(Error::Malformed("the ROM has no PCI data structure (PCIR)"));
    }
    let units = u64::from(le16(&pcir, 0x10));
    if units == 0 {
        return Err(Error::Malformed("a ROM image declares a length of 0 bytes"));
    }
    let part = Part::new(start, units * 512, image.len(), "the ROM image its header declares")?;
    if pcir_at + 0x18 > part.start + part.len {
        return Err(Error::Malformed("the ROM's PCI data structure lies outside the ROM image"));
    }
    Ok(Image { start, len: part.len, code_type: pcir[0x14], last: pcir[0x15] & 0x80 != 0, pcir, pcir_at })
}

/// The PCI IDs an image serves: its own, or its PCI 3.0 device list.
fn ids_of<S: ReadAt + ?Sized>(image: &mut S, img: &Image) -> Result<Vec<PciId>, Error> {
    let vendor = le16(&img.pcir, 4);
    let mut ids = Vec::new();
    let list = u64::from(le16(&img.pcir, 8));
    if list == 0 {
        ids.push(PciId { vendor, device: le16(&img.pcir, 6) });
        return Ok(ids);
    }
    // PCI 3.0: a list of device IDs ended by 0, within the image.
    let mut at = img.pcir_at + list;
    while ids.len() < MAX_DEVICES && at + 2 <= img.start + img.len {
        let d = read_vec(image, at, 2, "the ROM's device list")?;
        let device = le16(&d, 0);
        if device == 0 {
            break;
        }
        ids.push(PciId { vendor, device });
        at += 2;
    }
    Ok(ids)
}

/// What a ROM holds: the EFI driver and the PCI IDs of its image, and the BIOS firmware
/// (`.lkrn`) when the ROM's legacy image is bootsign's.
pub(crate) struct Rom {
    pub(crate) driver: Vec<u8>,
    pub(crate) ids: Vec<PciId>,
    pub(crate) bios: Option<Vec<u8>>,
}

/// Walks the ROM's images (PCI 3.0 chains them: a legacy BIOS image, then an EFI one, as
/// QEMU's and bootsign's combined ROMs are) for the EFI driver, and bootsign's BIOS
/// firmware after a legacy image.
pub(crate) fn read<S: ReadAt + ?Sized>(image: &mut S, limit: u64) -> Result<Rom, Error> {
    let mut start = 0;
    let mut bios = None;
    for _ in 0..MAX_IMAGES {
        let img = image_at(image, start)?;
        match img.code_type {
            0 if start == 0 => bios = legacy_firmware(image, &img, limit)?,
            3 => {
                let (driver, ids) = efi_driver(image, &img, limit)?;
                return Ok(Rom { driver, ids, bios });
            }
            _ => {}
        }
        if img.last {
            break;
        }
        start = img.start + img.len;
    }
    Err(Error::Malformed("the ROM holds no EFI image"))
}

/// The `.lkrn` bootsign's legacy image points at; `None` for another legacy image (its
/// parameters must name the start of the next image's payload, an image of code type
/// 0xFF, as bootsign's builder lays them out).
fn legacy_firmware<S: ReadAt + ?Sized>(
    image: &mut S,
    img: &Image,
    limit: u64,
) -> Result<Option<Vec<u8>>, Error> {
    let head = read_vec(image, img.start, 0x28, "the ROM's legacy image")?;
    let (at, len) = (u64::from(le32(&head, LKRN_AT)), u64::from(le32(&head, LKRN_LEN)));
    let next = img.start + img.len;
    if len == 0 || at != next + PAYLOAD_LKRN_AT {
        return Ok(None);
    }
    match image_at(image, next) {
        Ok(payload) if payload.code_type == 0xff && at + len <= payload.start + payload.len => {}
        _ => return Ok(None),
    }
    if len > limit {
        return Err(Error::TooLarge { what: "the ROM's BIOS firmware", size: len, limit });
    }
    let lkrn = read_vec(image, at, len, "the ROM's BIOS firmware")?;
    if lkrn.get(0x202..0x206) != Some(b"HdrS".as_slice()) {
        return Ok(None);
    }
    Ok(Some(lkrn))
}

/// The driver of an EFI image (header: EFI signature 0x0EF1, compression, image offset).
fn efi_driver<S: ReadAt + ?Sized>(
    image: &mut S,
    img: &Image,
    limit: u64,
) -> Result<(Vec<u8>, Vec<PciId>), Error> {
    let header = read_vec(image, img.start, 0x1a, "the ROM header")?;
    if le32(&header, 4) != 0x0ef1 {
        return Err(Error::Malformed("the ROM's EFI image has no EFI signature"));
    }
    if le16(&header, 12) != 0 {
        return Err(Error::Malformed("the ROM's EFI driver is compressed, which bootsign does not read"));
    }
    let pe_at = u64::from(le16(&header, 0x16));
    if pe_at == 0 || pe_at >= img.len {
        return Err(Error::Malformed("the ROM's EFI image offset lies outside the ROM image"));
    }
    let size = img.len - pe_at;
    if size > limit {
        return Err(Error::TooLarge { what: "the ROM's EFI driver", size, limit });
    }
    let driver = read_vec(image, img.start + pe_at, size, "the ROM's EFI driver")?;
    Ok((driver, ids_of(image, img)?))
}
