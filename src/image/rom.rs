//! PCI expansion ROMs holding the firmware as an EFI boot-service driver and, before it,
//! the legacy BIOS image with the BIOS firmware ([`hybrid_rom_image`]).
//!
//! The EFI image:
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

/// The legacy image's parameters (`romboot.s`): the `.lkrn`'s offset in the ROM and length.
const LEGACY_LKRN_AT: usize = 0x20;
const LEGACY_LKRN_LEN: usize = 0x24;
const LEGACY_CHECKSUM: usize = 6;
/// Room for device IDs in the legacy image's list.
const LEGACY_DEVICES: usize = 16;
/// Where the `.lkrn` starts in the image that carries it.
const PAYLOAD_LKRN_AT: usize = 0x200;

/// The ROM for BIOS and UEFI: bootsign's legacy image first (BIOSes copy and run it; its
/// boot entry loads the firmware from the next image), the BIOS firmware `lkrn` as an
/// image of code type 0xFF (which BIOSes and UEFI pass over), then the EFI image of
/// [`rom_image`], the last. SeaBIOS matches the legacy image on its PCIR vendor and
/// device only (not the PCI 3.0 list), so the first ID is the one a BIOS boots.
pub fn hybrid_rom_image(lkrn: &[u8], driver: &[u8], ids: &[PciId]) -> Result<Vec<u8>> {
    let efi = rom_image(driver, ids)?;
    let first = ids[0];
    if ids.len() > LEGACY_DEVICES {
        bail!("a ROM serves at most {LEGACY_DEVICES} devices");
    }
    let mut legacy = crate::firmware::BIOS_ROMBOOT.to_vec();
    let pcir = usize::from(u16::from_le_bytes([legacy[0x18], legacy[0x19]]));
    let pnp = usize::from(u16::from_le_bytes([legacy[0x1a], legacy[0x1b]]));
    if !legacy.len().is_multiple_of(512)
        || legacy[..2] != [0x55, 0xaa]
        || legacy.get(pcir..pcir + 4) != Some(b"PCIR".as_slice())
        || legacy.get(pnp..pnp + 4) != Some(b"$PnP".as_slice())
    {
        bail!("the option ROM's legacy image in this build is damaged ({} bytes)", legacy.len());
    }
    let units = (legacy.len() / 512) as u16;
    legacy[2] = units as u8;
    pcir_ids(&mut legacy[pcir..], first, ids);
    legacy[pcir + 0x10..pcir + 0x12].copy_from_slice(&units.to_le_bytes());
    legacy[pcir + 0x14] = 0;
    legacy[pcir + 0x15] = 0;
    legacy[pcir + 0x16..pcir + 0x18].copy_from_slice(&units.to_le_bytes());
    let pnp_len = usize::from(legacy[pnp + 5]) * 16;
    legacy[pnp + 9] = 0;
    legacy[pnp + 9] =
        0u8.wrapping_sub(legacy[pnp..pnp + pnp_len].iter().fold(0u8, |s, b| s.wrapping_add(*b)));

    // The firmware's image: a header BIOSes recognise and skip (code type 0xFF).
    let payload_len = (PAYLOAD_LKRN_AT + lkrn.len()).div_ceil(512) * 512;
    let payload_units = u16::try_from(payload_len / 512)
        .map_err(|_| anyhow::anyhow!("the BIOS firmware is too large for a ROM"))?;
    let mut payload = vec![0u8; payload_len];
    payload[..2].copy_from_slice(&[0x55, 0xaa]);
    // The one-byte size some BIOSes read, though they skip the image.
    payload[2] = payload_units.min(255) as u8;
    payload[0x18..0x1a].copy_from_slice(&(PCIR_AT as u16).to_le_bytes());
    let p = &mut payload[PCIR_AT..PCIR_AT + 0x1c];
    p[..4].copy_from_slice(b"PCIR");
    p[4..6].copy_from_slice(&first.vendor.to_le_bytes());
    p[6..8].copy_from_slice(&first.device.to_le_bytes());
    p[10..12].copy_from_slice(&0x1cu16.to_le_bytes());
    p[12] = 3;
    p[13..16].copy_from_slice(&[0x00, 0x00, 0x02]);
    p[16..18].copy_from_slice(&payload_units.to_le_bytes());
    p[18..20].copy_from_slice(&1u16.to_le_bytes());
    p[20] = 0xff;
    payload[PAYLOAD_LKRN_AT..PAYLOAD_LKRN_AT + lkrn.len()].copy_from_slice(lkrn);

    let lkrn_at = u32::try_from(legacy.len() + PAYLOAD_LKRN_AT)?;
    legacy[LEGACY_LKRN_AT..LEGACY_LKRN_AT + 4].copy_from_slice(&lkrn_at.to_le_bytes());
    legacy[LEGACY_LKRN_LEN..LEGACY_LKRN_LEN + 4].copy_from_slice(&u32::try_from(lkrn.len())?.to_le_bytes());
    legacy[LEGACY_CHECKSUM] = 0;
    legacy[LEGACY_CHECKSUM] = 0u8.wrapping_sub(legacy.iter().fold(0u8, |s, b| s.wrapping_add(*b)));
    let mut rom = legacy;
    rom.extend_from_slice(&payload);
    rom.extend_from_slice(&efi);
    Ok(rom)
}

/// Writes the vendor and device (and, for several devices, the PCI 3.0 device list right
/// after the structure) into the PCI data structure at the start of `pcir`.
fn pcir_ids(pcir: &mut [u8], first: PciId, ids: &[PciId]) {
    pcir[4..6].copy_from_slice(&first.vendor.to_le_bytes());
    pcir[6..8].copy_from_slice(&first.device.to_le_bytes());
    if ids.len() > 1 {
        pcir[8..10].copy_from_slice(&0x1cu16.to_le_bytes());
        for (i, id) in ids.iter().enumerate() {
            pcir[0x1c + 2 * i..0x1c + 2 * i + 2].copy_from_slice(&id.device.to_le_bytes());
        }
    }
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
        // With the BIOS half: the EFI image is the same, after the legacy image and
        // the firmware; the reader finds both.
        let lkrn = [&[0u8; 0x202][..], b"HdrS", &[7u8; 600]].concat();
        let hybrid = hybrid_rom_image(&lkrn, &pe, &[PciId::parse("1af4:1000").unwrap()]).unwrap();
        assert!(hybrid.ends_with(&rom));
        let found = read(&hybrid);
        assert_eq!(&found.program[..1000], &pe[..]);
        assert_eq!(found.bios.as_deref(), Some(&lkrn[..]));
        let legacy = &hybrid[..usize::from(hybrid[2]) * 512];
        assert_eq!(legacy.iter().fold(0u8, |s, b| s.wrapping_add(*b)), 0);
        let many: Vec<PciId> = (0..17).map(|d| PciId { vendor: 0x8086, device: 0x1000 + d }).collect();
        assert!(hybrid_rom_image(&lkrn, &pe, &many).is_err());
        for bad in ["1af4", "1af4:10000", "zzzz:1000", "ffff:0001", ""] {
            assert!(PciId::parse(bad).is_err(), "{bad}");
        }
    }
}
