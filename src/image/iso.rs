//! A hybrid ISO 9660 image for BIOS and UEFI: El Torito with a BIOS (platform 0)
//! no-emulation entry, the loader of the BIOS firmware, and a UEFI (platform 0xEF) one
//! that points at the EFI system partition image; and an MBR in the system area, with the
//! loader's first 440 bytes as boot code and a partition (type 0xEF) over the ESP, so the
//! file boots as a CD and, written to a USB stick, as a disk, on either firmware.
//!
//! Layout, in 2048-byte blocks: 0-15 system area (MBR), 16 primary volume descriptor,
//! 17 El Torito boot record, 18 terminator, 19-20 path tables, 21 root directory,
//! 22 boot catalog, 23.. the ESP image (visible as `/EFIBOOT.IMG`), then the BIOS loader
//! (`/BOOTLDR.BIN`) and the BIOS firmware (`/BOOTSIGN.LKR`).

const BLOCK: usize = 2048;
const ESP_LBA: usize = 23;
const CATALOG_LBA: usize = 22;
const ROOT_LBA: usize = 21;

fn both16(v: u16) -> [u8; 4] {
    let mut b = [0u8; 4];
    b[..2].copy_from_slice(&v.to_le_bytes());
    b[2..].copy_from_slice(&v.to_be_bytes());
    b
}

fn both32(v: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&v.to_le_bytes());
    b[4..].copy_from_slice(&v.to_be_bytes());
    b
}

/// A date as directory records store it (7 bytes, GMT).
#[derive(Clone, Copy)]
pub struct IsoTime {
    /// Year, month, day, hour, minute, second.
    pub parts: [u16; 6],
}

impl IsoTime {
    fn record(self) -> [u8; 7] {
        let p = self.parts;
        [(p[0] - 1900) as u8, p[1] as u8, p[2] as u8, p[3] as u8, p[4] as u8, p[5] as u8, 0]
    }

    fn volume(self) -> [u8; 17] {
        let p = self.parts;
        let text = format!("{:04}{:02}{:02}{:02}{:02}{:02}00", p[0], p[1], p[2], p[3], p[4], p[5]);
        let mut out = [0u8; 17];
        out[..16].copy_from_slice(text.as_bytes());
        out
    }
}

fn dir_record(name: &[u8], lba: usize, len: usize, is_dir: bool, time: IsoTime) -> Vec<u8> {
    let mut r = vec![0u8; 33 + name.len()];
    if r.len() % 2 == 1 {
        r.push(0);
    }
    r[0] = r.len() as u8;
    r[2..10].copy_from_slice(&both32(lba as u32));
    r[10..18].copy_from_slice(&both32(len as u32));
    r[18..25].copy_from_slice(&time.record());
    r[25] = if is_dir { 2 } else { 0 };
    r[28..32].copy_from_slice(&both16(1));
    r[32] = name.len() as u8;
    r[33..33 + name.len()].copy_from_slice(name);
    r
}

fn padded(text: &str, len: usize) -> Vec<u8> {
    let mut v = text.as_bytes().to_vec();
    v.resize(len, b' ');
    v
}

/// The ISO image holding `esp` (a FAT image whose size is a multiple of 2048).
/// The ISO: the ESP image `esp` for UEFI and, with `lkrn`, the BIOS firmware and its
/// loader.
pub fn iso_image(esp: &[u8], lkrn: Option<&[u8]>, time: IsoTime) -> anyhow::Result<Vec<u8>> {
    let esp_blocks = esp.len().div_ceil(BLOCK);
    let loader_lba = ESP_LBA + esp_blocks;
    let lkrn_lba = loader_lba + 1;
    let total = match lkrn {
        Some(l) => lkrn_lba + l.len().div_ceil(BLOCK),
        None => ESP_LBA + esp_blocks,
    };
    let mut iso = vec![0u8; total * BLOCK];
    let block = |n: usize| n * BLOCK..(n + 1) * BLOCK;
    let loader = match lkrn {
        Some(l) => {
            Some(super::diskboot::loader((loader_lba * BLOCK) as u64, (lkrn_lba * BLOCK) as u64, l.len())?)
        }
        None => None,
    };

    // System area: an MBR whose one partition (EFI system, 0xEF) is the ESP image.
    {
        let mbr = &mut iso[..512];
        mbr[440..444].copy_from_slice(b"BSIS");
        let e = &mut mbr[446..462];
        e[1..4].copy_from_slice(&[0xfe, 0xff, 0xff]);
        e[4] = 0xef;
        e[5..8].copy_from_slice(&[0xfe, 0xff, 0xff]);
        e[8..12].copy_from_slice(&((ESP_LBA * 4) as u32).to_le_bytes());
        e[12..16].copy_from_slice(&((esp_blocks * 4) as u32).to_le_bytes());
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        if let Some(loader) = &loader {
            super::diskboot::install_mbr(mbr, loader);
        }
    }

    // Root directory: ".", "..", the catalog, the ESP image and the BIOS files.
    let mut root = [
        dir_record(&[0], ROOT_LBA, BLOCK, true, time),
        dir_record(&[1], ROOT_LBA, BLOCK, true, time),
        dir_record(b"BOOT.CAT;1", CATALOG_LBA, BLOCK, false, time),
    ]
    .concat();
    if let Some(l) = lkrn {
        root.extend(dir_record(b"BOOTLDR.BIN;1", loader_lba, BLOCK, false, time));
        root.extend(dir_record(b"BOOTSIGN.LKR;1", lkrn_lba, l.len(), false, time));
    }
    root.extend(dir_record(b"EFIBOOT.IMG;1", ESP_LBA, esp.len(), false, time));
    iso[block(ROOT_LBA)][..root.len()].copy_from_slice(&root);

    // Primary volume descriptor.
    {
        let pvd = &mut iso[block(16)];
        pvd[0] = 1;
        pvd[1..6].copy_from_slice(b"CD001");
        pvd[6] = 1;
        pvd[8..40].copy_from_slice(&padded("", 32));
        pvd[40..72].copy_from_slice(&padded("BOOTSIGN", 32));
        pvd[80..88].copy_from_slice(&both32(total as u32));
        pvd[120..124].copy_from_slice(&both16(1));
        pvd[124..128].copy_from_slice(&both16(1));
        pvd[128..132].copy_from_slice(&both16(BLOCK as u16));
        pvd[132..140].copy_from_slice(&both32(10));
        pvd[140..144].copy_from_slice(&19u32.to_le_bytes());
        pvd[148..152].copy_from_slice(&20u32.to_be_bytes());
        pvd[156..190].copy_from_slice(&dir_record(&[0], ROOT_LBA, BLOCK, true, time));
        pvd[190..318].copy_from_slice(&padded("", 128));
        pvd[318..446].copy_from_slice(&padded("", 128));
        pvd[446..574].copy_from_slice(&padded("", 128));
        pvd[574..702].copy_from_slice(&padded("BOOTSIGN", 128));
        pvd[702..813].copy_from_slice(&padded("", 111));
        pvd[813..830].copy_from_slice(&time.volume());
        pvd[830..847].copy_from_slice(&time.volume());
        pvd[847..863].copy_from_slice(b"0000000000000000");
        pvd[864..880].copy_from_slice(b"0000000000000000");
        pvd[881] = 1;
    }
    // El Torito boot record and the set terminator.
    {
        let br = &mut iso[block(17)];
        br[1..6].copy_from_slice(b"CD001");
        br[6] = 1;
        br[7..30].copy_from_slice(b"EL TORITO SPECIFICATION");
        br[71..75].copy_from_slice(&(CATALOG_LBA as u32).to_le_bytes());
    }
    {
        let t = &mut iso[block(18)];
        t[0] = 255;
        t[1..6].copy_from_slice(b"CD001");
        t[6] = 1;
    }
    // Path tables (little- and big-endian), one entry: the root.
    for (lba, big) in [(19, false), (20, true)] {
        let pt = &mut iso[block(lba)];
        pt[0] = 1;
        let extent = ROOT_LBA as u32;
        pt[2..6].copy_from_slice(&if big { extent.to_be_bytes() } else { extent.to_le_bytes() });
        pt[6..8].copy_from_slice(&if big { 1u16.to_be_bytes() } else { 1u16.to_le_bytes() });
    }
    // Boot catalog: the validation entry, then the default entry for its platform: the
    // BIOS loader (platform 0, loaded whole: 4 sectors at 0x7C00), then a final section
    // for UEFI (platform 0xEF) with the ESP; or, without BIOS, the ESP as the default.
    {
        let cat = &mut iso[block(CATALOG_LBA)];
        cat[0] = 1;
        cat[1] = if lkrn.is_some() { 0 } else { 0xef };
        cat[4..12].copy_from_slice(b"BOOTSIGN");
        cat[30] = 0x55;
        cat[31] = 0xaa;
        let sum = cat[..32].chunks(2).fold(0u16, |s, w| s.wrapping_add(u16::from_le_bytes([w[0], w[1]])));
        cat[28..30].copy_from_slice(&0u16.wrapping_sub(sum).to_le_bytes());
        let entry = |d: &mut [u8], sectors: u16, lba: usize| {
            d[0] = 0x88;
            d[6..8].copy_from_slice(&sectors.to_le_bytes());
            d[8..12].copy_from_slice(&(lba as u32).to_le_bytes());
        };
        let esp_sectors = u16::try_from(esp.len().div_ceil(512)).unwrap_or(u16::MAX);
        if lkrn.is_some() {
            entry(&mut cat[32..64], 4, loader_lba);
            let section = &mut cat[64..96];
            section[0] = 0x91;
            section[1] = 0xef;
            section[2..4].copy_from_slice(&1u16.to_le_bytes());
            section[4..12].copy_from_slice(b"BOOTSIGN");
            entry(&mut cat[96..128], esp_sectors, ESP_LBA);
        } else {
            entry(&mut cat[32..64], esp_sectors, ESP_LBA);
        }
    }
    iso[ESP_LBA * BLOCK..ESP_LBA * BLOCK + esp.len()].copy_from_slice(esp);
    if let (Some(l), Some(loader)) = (lkrn, &loader) {
        iso[block(loader_lba)].copy_from_slice(loader);
        iso[lkrn_lba * BLOCK..lkrn_lba * BLOCK + l.len()].copy_from_slice(l);
    }
    Ok(iso)
}
