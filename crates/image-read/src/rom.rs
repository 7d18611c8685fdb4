//! PCI expansion ROMs: the EFI ROM header (0xAA55, EFI signature 0x0EF1), the PCI data
//! structure ("PCIR") with the vendor and device IDs, and the PE driver, all within the
//! image length the header declares (in 512-byte units). Only the first image of the
//! ROM is read.

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

/// Whether the first bytes are an EFI option ROM header.
pub(crate) fn is_rom(head: &[u8]) -> bool {
    head.len() >= 8 && head[..2] == [0x55, 0xaa] && le32(head, 4) == 0x0ef1
}

/// The driver and the PCI IDs of the ROM's first image.
pub(crate) fn read<S: ReadAt + ?Sized>(image: &mut S, limit: u64) -> Result<(Vec<u8>, Vec<PciId>), Error> {
    let header = read_vec(image, 0, 0x1a, "the ROM header")?;
    let units = u64::from(le16(&header, 2));
    if units == 0 {
        return Err(Error::Malformed("the ROM header declares an image of 0 bytes"));
    }
    if le16(&header, 12) != 0 {
        return Err(Error::Malformed("the ROM's EFI driver is compressed, which bootsign does not read"));
    }
    let rom = Part::new(0, units * 512, image.len(), "the ROM image its header declares")?;
    let pe_at = u64::from(le16(&header, 0x16));
    let pcir_at = u64::from(le16(&header, 0x18));
    if pcir_at + 0x18 > rom.len {
        return Err(Error::Malformed("the ROM's PCI data structure lies outside the ROM image"));
    }
    let pcir = read_vec(image, pcir_at, 0x18, "the ROM's PCI data structure")?;
    if &pcir[..4] != b"PCIR" {
        return Err(Error::Malformed("the ROM has no PCI data structure (PCIR)"));
    }
    let vendor = le16(&pcir, 4);
    let mut ids = Vec::new();
    let list = u64::from(le16(&pcir, 8));
    if list == 0 {
        ids.push(PciId { vendor, device: le16(&pcir, 6) });
    } else {
        // PCI 3.0: a list of device IDs ended by 0, within the image.
        let mut at = pcir_at + list;
        while ids.len() < MAX_DEVICES && at + 2 <= rom.len {
            let d = read_vec(image, at, 2, "the ROM's device list")?;
            let device = le16(&d, 0);
            if device == 0 {
                break;
            }
            ids.push(PciId { vendor, device });
            at += 2;
        }
    }
    if pe_at == 0 || pe_at >= rom.len {
        return Err(Error::Malformed("the ROM's EFI image offset lies outside the ROM image"));
    }
    let size = rom.len - pe_at;
    if size > limit {
        return Err(Error::TooLarge { what: "the ROM's EFI driver", size, limit });
    }
    let driver = read_vec(image, pe_at, size, "the ROM's EFI driver")?;
    Ok((driver, ids))
}
