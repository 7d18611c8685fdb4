//! A raw disk image for BIOS and UEFI: protective MBR, GPT (primary and backup), an EFI
//! system partition and, for BIOS, a BIOS boot partition holding the BIOS firmware's
//! loader and the firmware, with the loader's first 440 bytes as the protective MBR's
//! boot code. GUIDs are derived from the partitions' contents, so the same input gives
//! the same image.

use bootsign_config::crc32;
use sha2::{Digest, Sha256};

const LBA: usize = 512;
/// Partitions start on a 1 MiB boundary.
const ALIGN_LBAS: u64 = 2048;
const ENTRIES: usize = 128;
const ENTRY_SIZE: usize = 128;
const ENTRY_LBAS: u64 = (ENTRIES * ENTRY_SIZE / LBA) as u64;
/// C12A7328-F81F-11D2-BA4B-00A0C93EC93B, in on-disk byte order.
const ESP_TYPE: [u8; 16] =
    [0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b];

/// 21686148-6449-6E6F-744E-656564454649 ("Hah!IdontNeedEFI"), the BIOS boot partition.
const BIOS_BOOT_TYPE: [u8; 16] = *b"Hah!IdontNeedEFI";

/// A random-looking (version 4) GUID derived from `seed`.
fn guid(seed: &[u8], label: &[u8]) -> [u8; 16] {
    let digest = Sha256::new().chain_update(label).chain_update(seed).finalize();
    let mut g = [0u8; 16];
    g.copy_from_slice(&digest[..16]);
    g[7] = (g[7] & 0x0f) | 0x40;
    g[8] = (g[8] & 0x3f) | 0x80;
    g
}

fn header(
    current: u64,
    backup: u64,
    first: u64,
    last: u64,
    disk: &[u8; 16],
    entries_lba: u64,
    entries_crc: u32,
) -> Vec<u8> {
    let mut h = vec![0u8; 92];
    h[..8].copy_from_slice(b"EFI PART");
    h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
    h[12..16].copy_from_slice(&92u32.to_le_bytes());
    h[24..32].copy_from_slice(&current.to_le_bytes());
    h[32..40].copy_from_slice(&backup.to_le_bytes());
    h[40..48].copy_from_slice(&first.to_le_bytes());
    h[48..56].copy_from_slice(&last.to_le_bytes());
    h[56..72].copy_from_slice(disk);
    h[72..80].copy_from_slice(&entries_lba.to_le_bytes());
    h[80..84].copy_from_slice(&(ENTRIES as u32).to_le_bytes());
    h[84..88].copy_from_slice(&(ENTRY_SIZE as u32).to_le_bytes());
    h[88..92].copy_from_slice(&entries_crc.to_le_bytes());
    let crc = crc32(&h);
    h[16..20].copy_from_slice(&crc.to_le_bytes());
    h
}

/// A GPT disk holding `esp` as its only partition.
/// The disk: the ESP image `esp` for UEFI and, with `lkrn`, the BIOS firmware and its
/// loader.
pub fn disk_image(esp: &[u8], lkrn: Option<&[u8]>) -> anyhow::Result<Vec<u8>> {
    let esp_lbas = esp.len().div_ceil(LBA) as u64;
    let first = ALIGN_LBAS;
    let esp_last = first + esp_lbas - 1;
    // The BIOS boot partition, on the next 1 MiB boundary: the loader (4 sectors), then
    // the firmware.
    let bios_first = (esp_last + 1).next_multiple_of(ALIGN_LBAS);
    let bios = lkrn.map(|l| (bios_first, bios_first + 4 + (l.len().div_ceil(2048) * 4) as u64 - 1));
    let last_part = bios.map_or(esp_last, |(_, last)| last);
    // The backup table and header follow the partition, with the disk rounded to 1 MiB.
    let total = (last_part + 1 + ENTRY_LBAS + 1).div_ceil(ALIGN_LBAS) * ALIGN_LBAS;
    let last_lba = total - 1;
    let mut disk = vec![0u8; total as usize * LBA];

    // Protective MBR: one partition of type 0xEE covering the disk.
    let mbr = &mut disk[..LBA];
    let entry = &mut mbr[446..462];
    entry[1..4].copy_from_slice(&[0x00, 0x02, 0x00]);
    entry[4] = 0xee;
    entry[5..8].copy_from_slice(&[0xff, 0xff, 0xff]);
    entry[8..12].copy_from_slice(&1u32.to_le_bytes());
    entry[12..16].copy_from_slice(&u32::try_from(total - 1).unwrap_or(u32::MAX).to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    let loader = match (lkrn, bios) {
        (Some(l), Some((start, _))) => {
            let loader = super::diskboot::loader(start * LBA as u64, (start + 4) * LBA as u64, l.len())?;
            super::diskboot::install_mbr(mbr, &loader);
            Some(loader)
        }
        _ => None,
    };

    let disk_guid = guid(esp, b"disk");
    let mut entries = vec![0u8; ENTRIES * ENTRY_SIZE];
    let e = &mut entries[..ENTRY_SIZE];
    e[..16].copy_from_slice(&ESP_TYPE);
    e[16..32].copy_from_slice(&guid(esp, b"partition"));
    e[32..40].copy_from_slice(&first.to_le_bytes());
    e[40..48].copy_from_slice(&esp_last.to_le_bytes());
    for (i, unit) in "EFI system partition".encode_utf16().enumerate() {
        e[56 + 2 * i..58 + 2 * i].copy_from_slice(&unit.to_le_bytes());
    }
    if let (Some(l), Some((start, last))) = (lkrn, bios) {
        let e = &mut entries[ENTRY_SIZE..2 * ENTRY_SIZE];
        e[..16].copy_from_slice(&BIOS_BOOT_TYPE);
        e[16..32].copy_from_slice(&guid(l, b"bios partition"));
        e[32..40].copy_from_slice(&start.to_le_bytes());
        e[40..48].copy_from_slice(&last.to_le_bytes());
        for (i, unit) in "BIOS boot partition".encode_utf16().enumerate() {
            e[56 + 2 * i..58 + 2 * i].copy_from_slice(&unit.to_le_bytes());
        }
    }
    let entries_crc = crc32(&entries);
    let first_usable = 2 + ENTRY_LBAS;
    let last_usable = last_lba - 1 - ENTRY_LBAS;
    let primary = header(1, last_lba, first_usable, last_usable, &disk_guid, 2, entries_crc);
    let backup_entries = last_lba - ENTRY_LBAS;
    let backup = header(last_lba, 1, first_usable, last_usable, &disk_guid, backup_entries, entries_crc);

    let at = |lba: u64| lba as usize * LBA;
    disk[at(1)..at(1) + 92].copy_from_slice(&primary);
    disk[at(2)..at(2) + entries.len()].copy_from_slice(&entries);
    disk[at(first)..at(first) + esp.len()].copy_from_slice(esp);
    if let (Some(l), Some(loader), Some((start, _))) = (lkrn, &loader, bios) {
        disk[at(start)..at(start) + loader.len()].copy_from_slice(loader);
        disk[at(start + 4)..at(start + 4) + l.len()].copy_from_slice(l);
    }
    disk[at(backup_entries)..at(backup_entries) + entries.len()].copy_from_slice(&entries);
    disk[at(last_lba)..at(last_lba) + 92].copy_from_slice(&backup);
    Ok(disk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_checksums() {
        let esp = vec![0xabu8; 3 << 20];
        let d = disk_image(&esp, None).unwrap();
        assert_eq!(d.len() % (1 << 20), 0);
        assert_eq!(&d[510..512], &[0x55, 0xaa]);
        assert_eq!(d[446 + 4], 0xee);
        let h = &d[512..512 + 92];
        assert_eq!(&h[..8], b"EFI PART");
        let mut zeroed = h.to_vec();
        zeroed[16..20].fill(0);
        assert_eq!(u32::from_le_bytes(h[16..20].try_into().unwrap()), crc32(&zeroed));
        let last = (d.len() / 512 - 1) as u64;
        let backup = &d[last as usize * 512..last as usize * 512 + 92];
        assert_eq!(u64::from_le_bytes(backup[24..32].try_into().unwrap()), last);
        assert_eq!(&d[2048 * 512..2048 * 512 + esp.len()], &esp[..]);
        assert_eq!(disk_image(&esp, None).unwrap(), d, "deterministic");
    }
}
