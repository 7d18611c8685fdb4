//! PCI expansion ROMs holding the firmware as an EFI boot-service driver.
//!
//! One image: the EFI ROM header (0xAA55, EFI signature 0x0EF1, subsystem 11, machine
//! 0x8664, no compression), the PCI data structure ("PCIR": vendor and device IDs,
//! network class, code type 3 = EFI, last image), then the PE driver; padded to whole
//! 512-byte units. The byte just before the driver makes the sum of all bytes zero, so
//! nothing follows a driver whose length fills the last unit: the platform hands the PE
//! loader everything from the driver to the end of the image, and an Authenticode
//! signature holds only when its certificate table reaches that end (see
//! [`driver_offset`]).

use anyhow::{Result, bail};

/// Where the PCI data structure starts.
const PCIR_AT: usize = 0x1c;
/// Where the PE image starts.
const PE_AT: usize = 0x40;

/// A vendor and device ID pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciId {
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
}

impl PciId {
    /// Parses `VVVV:DDDD` (hex).
    pub fn parse(text: &str) -> Result<Self> {
        let hex = |s: &str| (s.len() == 4).then(|| u16::from_str_radix(s, 16).ok()).flatten();
        match text.trim().split_once(':') {
            Some((v, d)) => match (hex(v), hex(d)) {
                (Some(vendor), Some(device)) if vendor != 0xffff => Ok(Self { vendor, device }),
                _ => bail!("'{text}' is not a PCI ID: use VENDOR:DEVICE in hex, like 1af4:1000"),
            },
            None => bail!("'{text}' is not a PCI ID: use VENDOR:DEVICE in hex, like 1af4:1000"),
        }
    }
}

/// Where the device list (PCI 3.0) starts, between the PCIR structure and the driver.
const LIST_AT: usize = PCIR_AT + 0x1c;

/// The offset of the driver in the ROM image for the devices `ids`: a signed driver must
/// end where the image does, so the signer pads its certificate table until the driver's
/// length plus this offset is a multiple of 512.
pub fn driver_offset(ids: &[PciId]) -> usize {
    if ids.len() <= 1 {
        PE_AT
    } else {
        // At least one byte between the list and the driver, for the checksum.
        (LIST_AT + 2 * (ids.len() + 1) + 1).div_ceil(16) * 16
    }
}

/// The ROM for `driver` (a PE32+ boot-service driver) and the devices `ids`. Several
/// devices of one vendor share the image through a PCI 3.0 device list.
pub fn rom_image(driver: &[u8], ids: &[PciId]) -> Result<Vec<u8>> {
    let Some(first) = ids.first() else { bail!("a ROM needs at least one --pci VENDOR:DEVICE") };
    if ids.iter().any(|i| i.vendor != first.vendor) {
        bail!("one ROM serves one vendor; build a ROM per vendor");
    }
    let extra: Vec<u16> = ids[1..].iter().map(|i| i.device).collect();
    let list_at = LIST_AT;
    let pe_at = driver_offset(ids);
    let len = (pe_at + driver.len()).div_ceil(512) * 512;
    let units =
        u16::try_from(len / 512).map_err(|_| anyhow::anyhow!("the firmware is too large for a ROM"))?;
    let mut rom = vec![0u8; len];
    rom[0] = 0x55;
    rom[1] = 0xaa;
    rom[2..4].copy_from_slice(&units.to_le_bytes());
    rom[4..8].copy_from_slice(&0x0ef1u32.to_le_bytes());
    rom[8..10].copy_from_slice(&11u16.to_le_bytes());
    rom[10..12].copy_from_slice(&0x8664u16.to_le_bytes());
    rom[22..24].copy_from_slice(&(pe_at as u16).to_le_bytes());
    rom[24..26].copy_from_slice(&(PCIR_AT as u16).to_le_bytes());
    let p = &mut rom[PCIR_AT..PCIR_AT + 0x1c];
    p[..4].copy_from_slice(b"PCIR");
    p[4..6].copy_from_slice(&first.vendor.to_le_bytes());
    p[6..8].copy_from_slice(&first.device.to_le_bytes());
    if extra.is_empty() {
        p[10..12].copy_from_slice(&0x18u16.to_le_bytes());
    } else {
        p[8..10].copy_from_slice(&((list_at - PCIR_AT) as u16).to_le_bytes());
        p[10..12].copy_from_slice(&0x1cu16.to_le_bytes());
        p[12] = 3;
    }
    p[13..16].copy_from_slice(&[0x00, 0x00, 0x02]);
    p[16..18].copy_from_slice(&units.to_le_bytes());
    p[20] = 3;
    p[21] = 0x80;
    if !extra.is_empty() {
        for (i, d) in ids.iter().map(|i| i.device).enumerate() {
            rom[list_at + 2 * i..list_at + 2 * i + 2].copy_from_slice(&d.to_le_bytes());
        }
    }
    rom[pe_at..pe_at + driver.len()].copy_from_slice(driver);
    let sum = rom.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    rom[pe_at - 1] = 0u8.wrapping_sub(sum);
    Ok(rom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sizes_and_checksum() {
        let pe = vec![0x4du8; 1000];
        let rom = rom_image(&pe, &[PciId::parse("1af4:1000").unwrap()]).unwrap();
        assert_eq!(rom.len(), 1536);
        assert_eq!(rom.iter().fold(0u8, |s, b| s.wrapping_add(*b)), 0);
        assert_eq!(u16::from_le_bytes([rom[2], rom[3]]), 3);
        let read = |rom: &[u8]| bootsign_image_read::read_boot_program(&mut &rom[..], 1 << 20).unwrap();
        let found = read(&rom);
        assert_eq!(&found.program[..1000], &pe[..]);
        assert_eq!(found.pci_ids, [bootsign_image_read::PciId { vendor: 0x1af4, device: 0x1000 }]);
        let two = rom_image(&pe, &[PciId::parse("8086:100e").unwrap(), PciId::parse("8086:10d3").unwrap()])
            .unwrap();
        assert_eq!(read(&two).pci_ids.len(), 2);
        assert!(
            rom_image(&pe, &[PciId::parse("8086:100e").unwrap(), PciId::parse("1af4:1000").unwrap()])
                .is_err()
        );
        for bad in ["1af4", "1af4:10000", "zzzz:1000", "ffff:0001", ""] {
            assert!(PciId::parse(bad).is_err(), "{bad}");
        }
    }
}
