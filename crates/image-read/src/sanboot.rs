//! How a legacy BIOS starts an image it boots as a SAN disk (a `sanboot` of a downloaded
//! image), as SeaBIOS and iPXE do: an ISO 9660 image through its El Torito no-emulation
//! entry for x86, anything else as a disk through its boot sector. What comes back is
//! checked against the image and against conventional memory, so a loader can copy and
//! start it without further checks.

use crate::{Error, ReadAt, iso};

/// How a legacy BIOS starts an image booted as a SAN disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BiosBoot {
    /// An ISO 9660 image ("CD001" at byte 32769): 2,048-byte sectors, started through its
    /// El Torito no-emulation boot entry for platform 0 (x86). The loader copies the
    /// `sectors * 512` bytes from byte `lba * 2048` (a range within the image) to
    /// `load_segment:0000` and jumps there.
    Cd {
        /// The boot image's first 2,048-byte block (the entry's load RBA).
        lba: u32,
        /// The boot image's length in 512-byte units, as the entry says; never 0 (an entry
        /// that says 0 is an error: SeaBIOS and iPXE would load nothing for it).
        sectors: u16,
        /// The real-mode segment the image is loaded at and started at (offset 0): the
        /// entry's, with 0 read as 0x07C0 (0000:7C00). At least 0x0050, and the image ends
        /// at or below 0xA0000, the end of conventional memory.
        load_segment: u16,
    },
    /// Anything else: a disk image with 512-byte sectors whose first sector is the boot
    /// sector (ends in 55 AA), loaded at 0000:7C00.
    Disk,
}

/// How a legacy BIOS boots `image` as a SAN disk: an ISO 9660 image through its first
/// bootable El Torito entry for x86 (the default entry when the validation entry is for
/// x86, else one in a section for x86), any other image as a disk whose first sector is
/// the boot sector.
///
/// Errors: an ISO image without an El Torito boot record, without a bootable x86 entry,
/// or whose entry asks for floppy or hard disk emulation is [`Error::NoProgram`]; an entry
/// with a sector count of 0, a reserved media type, a load segment below 0x0050 or an
/// image that reaches past 0xA0000 at its load segment is [`Error::Malformed`]; a boot
/// image that runs past the end of the file is [`Error::Truncated`]; an image that is no
/// ISO and has no 55 AA at byte 510 is [`Error::NoProgram`].
pub fn bios_boot<S: ReadAt + ?Sized>(image: &mut S) -> Result<BiosBoot, Error> {
    if let Some(cd) = iso::bios(image)? {
        return Ok(cd);
    }
    if image.len() < 512 {
        return Err(Error::NoProgram(
            "the image is smaller than one 512-byte sector, so it has no boot sector (no 55 AA \
             signature at byte 510) and is no ISO 9660 image; a BIOS cannot boot it",
        ));
    }
    let mut signature = [0u8; 2];
    image.read_at(510, &mut signature)?;
    if signature != [0x55, 0xaa] {
        return Err(Error::NoProgram(
            "the image has no boot sector (no 55 AA signature at byte 510) and is no ISO 9660 \
             image (no CD001 at byte 32769); a BIOS cannot boot it",
        ));
    }
    Ok(BiosBoot::Disk)
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::{BiosBoot, bios_boot};
    use crate::{Error, Part, iso};

    const BLOCK: usize = 2048;
    /// The blocks of the test ISO image: descriptors at 16 to 18, the catalog at 19,
    /// boot images from 20 on.
    const BLOCKS: usize = 40;

    /// A boot entry: boot indicator, media type, load segment, sector count, first block.
    fn entry(indicator: u8, media: u8, segment: u16, sectors: u16, lba: u32) -> [u8; 32] {
        let mut e = [0u8; 32];
        e[0] = indicator;
        e[1] = media;
        e[2..4].copy_from_slice(&segment.to_le_bytes());
        e[6..8].copy_from_slice(&sectors.to_le_bytes());
        e[8..12].copy_from_slice(&lba.to_le_bytes());
        e
    }

    /// A section header (0x90, or 0x91 for the last) for `platform`'s `count` entries.
    fn header(id: u8, platform: u8, count: u16) -> [u8; 32] {
        let mut h = [0u8; 32];
        h[0] = id;
        h[1] = platform;
        h[2..4].copy_from_slice(&count.to_le_bytes());
        h
    }

    /// An ISO 9660 image of 40 blocks whose El Torito catalog has a validation entry for
    /// `platform` and then `entries` (the default entry first).
    fn iso(platform: u8, entries: &[[u8; 32]]) -> Vec<u8> {
        let mut img = vec![0u8; BLOCKS * BLOCK];
        let descriptor = |img: &mut [u8], block: usize, kind: u8| {
            img[block * BLOCK] = kind;
            img[block * BLOCK + 1..block * BLOCK + 7].copy_from_slice(b"CD001\x01");
        };
        descriptor(&mut img, 16, 1);
        descriptor(&mut img, 17, 0);
        img[17 * BLOCK + 7..17 * BLOCK + 30].copy_from_slice(b"EL TORITO SPECIFICATION");
        img[17 * BLOCK + 71..17 * BLOCK + 75].copy_from_slice(&19u32.to_le_bytes());
        descriptor(&mut img, 18, 255);
        let cat = &mut img[19 * BLOCK..20 * BLOCK];
        cat[0] = 1;
        cat[1] = platform;
        cat[30..32].copy_from_slice(&[0x55, 0xaa]);
        let sum = cat[..32].chunks(2).fold(0u16, |s, w| s.wrapping_add(u16::from_le_bytes([w[0], w[1]])));
        cat[28..30].copy_from_slice(&0u16.wrapping_sub(sum).to_le_bytes());
        for (n, e) in entries.iter().enumerate() {
            cat[32 + 32 * n..64 + 32 * n].copy_from_slice(e);
        }
        img
    }

    fn boot(img: &[u8]) -> Result<BiosBoot, Error> {
        bios_boot(&mut &img[..])
    }

    fn no_program(img: &[u8]) -> &'static str {
        match boot(img) {
            Err(Error::NoProgram(why)) => why,
            other => panic!("{other:?}"),
        }
    }

    fn malformed(img: &[u8]) -> &'static str {
        match boot(img) {
            Err(Error::Malformed(why)) => why,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_iso_boots_through_its_default_x86_entry() {
        let img = iso(0, &[entry(0x88, 0, 0x1000, 4, 20)]);
        assert_eq!(boot(&img), Ok(BiosBoot::Cd { lba: 20, sectors: 4, load_segment: 0x1000 }));
        // The media type's high bits are flags (0x40: entry extensions follow).
        let img = iso(0, &[entry(0x88, 0x40, 0x1000, 4, 21)]);
        assert_eq!(boot(&img), Ok(BiosBoot::Cd { lba: 21, sectors: 4, load_segment: 0x1000 }));
        // Even when its first sector is an MBR too (a hybrid image): it is a CD.
        let mut img = iso(0, &[entry(0x88, 0, 0, 4, 20)]);
        img[510..512].copy_from_slice(&[0x55, 0xaa]);
        assert_eq!(boot(&img), Ok(BiosBoot::Cd { lba: 20, sectors: 4, load_segment: 0x07c0 }));
    }

    #[test]
    fn the_bios_entry_may_follow_an_efi_section() {
        // Default entry for UEFI; then an x86 section whose first entry is not bootable;
        // then a last UEFI section.
        let img = iso(
            0xef,
            &[
                entry(0x88, 0, 0, 1, 30),
                header(0x90, 0, 2),
                entry(0x00, 0, 0, 4, 22),
                entry(0x88, 0, 0, 8, 20),
                header(0x91, 0xef, 1),
                entry(0x88, 0, 0, 1, 31),
            ],
        );
        assert_eq!(boot(&img), Ok(BiosBoot::Cd { lba: 20, sectors: 8, load_segment: 0x07c0 }));
        // The shared catalog walk still finds the UEFI entry (the default one) for the ESP.
        assert_eq!(
            iso::esp(&mut &img[..]),
            Ok(Some(Part { start: 30 * 2048, len: 10 * 2048, what: "the El Torito boot image" }))
        );
        // And a UEFI entry that comes after an x86 default entry.
        let img = iso(0, &[entry(0x88, 0, 0, 4, 20), header(0x91, 0xef, 1), entry(0x88, 0, 0, 1, 31)]);
        assert_eq!(
            iso::esp(&mut &img[..]),
            Ok(Some(Part { start: 31 * 2048, len: 9 * 2048, what: "the El Torito boot image" }))
        );
        assert_eq!(boot(&img), Ok(BiosBoot::Cd { lba: 20, sectors: 4, load_segment: 0x07c0 }));
    }

    #[test]
    fn an_iso_without_a_bios_entry_is_refused() {
        let only_efi = "the ISO image has no El Torito boot entry for BIOS (x86), only for UEFI, so it boots \
                        on UEFI machines only";
        assert_eq!(no_program(&iso(0xef, &[entry(0x88, 0, 0, 1, 30)])), only_efi);
        // An x86 section whose entry is not bootable does not count.
        let img = iso(0xef, &[entry(0x88, 0, 0, 1, 30), header(0x91, 0, 1), entry(0x00, 0, 0, 4, 20)]);
        assert_eq!(no_program(&img), only_efi);
        // A section header for x86 does not make the default entry's platform x86.
        let img = iso(1, &[entry(0x88, 0, 0, 4, 20), header(0x91, 0, 0)]);
        assert_eq!(
            no_program(&img),
            "the ISO image has no El Torito boot entry for BIOS (x86), only for other platforms \
             (not x86 or UEFI)"
        );
        let img = iso(2, &[entry(0x88, 0, 0, 4, 20), header(0x91, 0xef, 1), entry(0x88, 0, 0, 1, 30)]);
        assert_eq!(
            no_program(&img),
            "the ISO image has no El Torito boot entry for BIOS (x86), only for UEFI and for \
             other platforms (not x86 or UEFI)"
        );
        assert_eq!(
            no_program(&iso(0, &[])),
            "the ISO image has no El Torito boot entry for BIOS (x86), nor any other bootable entry"
        );
    }

    #[test]
    fn an_iso_without_a_boot_record_is_refused() {
        let mut img = iso(0, &[entry(0x88, 0, 0, 4, 20)]);
        img[17 * BLOCK + 7] = b'X';
        assert_eq!(no_program(&img), "the ISO image has no El Torito boot record, so nothing boots from it");
        let mut img = iso(0, &[entry(0x88, 0, 0, 4, 20)]);
        img[19 * BLOCK + 30] = 0;
        assert_eq!(malformed(&img), "the El Torito boot catalog's validation entry is damaged");
    }

    #[test]
    fn emulation_is_refused_and_named() {
        for (media, name) in
            [(1, "1.2 MB floppy"), (2, "1.44 MB floppy"), (3, "2.88 MB floppy"), (4, "hard disk")]
        {
            let why = no_program(&iso(0, &[entry(0x88, media, 0, 1, 20)]));
            assert!(why.starts_with("the ISO image's El Torito boot entry for BIOS (x86) uses "), "{why}");
            assert!(why.contains(&alloc::format!(" uses {name} emulation; ")), "{why}");
            assert!(why.ends_with("only no-emulation boot images are supported"), "{why}");
        }
        assert_eq!(
            malformed(&iso(0, &[entry(0x88, 5, 0, 1, 20)])),
            "the ISO image's El Torito boot entry for BIOS (x86) has a reserved media type (not 0-4)"
        );
    }

    #[test]
    fn load_segment_0_is_0x07c0() {
        let img = iso(0, &[entry(0x88, 0, 0, 4, 20)]);
        assert_eq!(boot(&img), Ok(BiosBoot::Cd { lba: 20, sectors: 4, load_segment: 0x07c0 }));
    }

    #[test]
    fn the_boot_image_must_fit_in_conventional_memory() {
        let below = "the ISO image's El Torito boot entry for BIOS (x86) has a load segment below 0x0050, \
                     where the image would overwrite the interrupt vector table and the BIOS data area";
        assert_eq!(malformed(&iso(0, &[entry(0x88, 0, 0x004f, 4, 20)])), below);
        assert_eq!(
            boot(&iso(0, &[entry(0x88, 0, 0x0050, 4, 20)])),
            Ok(BiosBoot::Cd { lba: 20, sectors: 4, load_segment: 0x0050 })
        );
        // 0x9F80:0000 + 2048 bytes ends exactly at 0xA0000; one paragraph more is past it.
        assert_eq!(
            boot(&iso(0, &[entry(0x88, 0, 0x9f80, 4, 20)])),
            Ok(BiosBoot::Cd { lba: 20, sectors: 4, load_segment: 0x9f80 })
        );
        let past = "the ISO image's El Torito boot image for BIOS (x86) does not fit in conventional memory: \
                    at its load segment it reaches past 0xA0000 (640 KiB)";
        assert_eq!(malformed(&iso(0, &[entry(0x88, 0, 0x9f81, 4, 20)])), past);
        // 640 KiB - 0x7C00 is 1249 sectors; 1250 from 0000:7C00 is too many.
        assert_eq!(malformed(&iso(0, &[entry(0x88, 0, 0, 1250, 20)])), past);
    }

    #[test]
    fn a_boot_image_past_the_end_is_truncated() {
        // Four sectors in the last block fit; eight run 2048 bytes past the end.
        assert_eq!(
            boot(&iso(0, &[entry(0x88, 0, 0, 4, 39)])),
            Ok(BiosBoot::Cd { lba: 39, sectors: 4, load_segment: 0x07c0 })
        );
        assert_eq!(
            boot(&iso(0, &[entry(0x88, 0, 0, 8, 39)])),
            Err(Error::Truncated {
                what: "the El Torito boot image for BIOS (x86)",
                end: 41 * 2048,
                size: 40 * 2048,
            })
        );
        assert_eq!(
            boot(&iso(0, &[entry(0x88, 0, 0, 1, u32::MAX)])),
            Err(Error::Truncated {
                what: "the El Torito boot image for BIOS (x86)",
                end: u64::from(u32::MAX) * 2048 + 512,
                size: 40 * 2048,
            })
        );
        // A sector count of 0 loads nothing: an error, not a boot into stale memory.
        assert_eq!(
            malformed(&iso(0, &[entry(0x88, 0, 0, 0, 20)])),
            "the ISO image's El Torito boot entry for BIOS (x86) loads 0 sectors (its sector count is 0), \
             so there is nothing to start"
        );
    }

    #[test]
    fn a_disk_image_boots_through_its_boot_sector() {
        let mut img = vec![0u8; 512];
        img[510..512].copy_from_slice(&[0x55, 0xaa]);
        assert_eq!(boot(&img), Ok(BiosBoot::Disk));
        // A disk larger than an ISO's descriptors, without CD001.
        img.resize(1 << 20, 0);
        assert_eq!(boot(&img), Ok(BiosBoot::Disk));
    }

    const NO_BOOT_SECTOR: &str = "the image has no boot sector (no 55 AA signature at byte 510) and is no ISO \
                                  9660 image (no CD001 at byte 32769); a BIOS cannot boot it";

    #[test]
    fn a_blank_image_is_refused() {
        assert_eq!(no_program(&vec![0u8; 1 << 20]), NO_BOOT_SECTOR);
        assert_eq!(no_program(&[0u8; 512]), NO_BOOT_SECTOR);
        // The signature must be at byte 510, not anywhere else.
        let mut img = vec![0u8; 1024];
        img[1022..1024].copy_from_slice(&[0x55, 0xaa]);
        assert_eq!(no_program(&img), NO_BOOT_SECTOR);
    }

    #[test]
    fn a_tiny_image_is_refused() {
        let tiny = "the image is smaller than one 512-byte sector, so it has no boot sector (no 55 AA \
                    signature at byte 510) and is no ISO 9660 image; a BIOS cannot boot it";
        let mut img = vec![0u8; 511];
        img[509..511].copy_from_slice(&[0x55, 0xaa]);
        assert_eq!(no_program(&img), tiny);
        assert_eq!(no_program(&[]), tiny);
    }
}
