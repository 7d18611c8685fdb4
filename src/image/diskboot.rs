//! The BIOS firmware's disk and CD loader ([`crate::firmware::BIOS_DISKBOOT`]) with its
//! parameters written in: where the `.lkrn` lies in the image and how long it is, and
//! where the loader itself lies (the MBR copy of its first 440 bytes reads the rest from
//! there). Offsets are in 512-byte units; the `.lkrn` starts on a 2,048-byte boundary so
//! a CD's sectors reach it too.

use anyhow::{Result, bail};

/// The loader's length: one CD sector, four disk sectors.
pub const LEN: usize = 2048;
/// The MBR boot code's length (the disk signature and partition table follow).
pub const MBR_CODE: usize = 440;

const LKRN_LBA: usize = 0x40;
const LKRN_LEN: usize = 0x44;
const SELF_LBA: usize = 0x48;

/// The loader for an image holding itself at byte `self_at` and the `.lkrn` (`lkrn_len`
/// bytes) at byte `lkrn_at`.
pub fn loader(self_at: u64, lkrn_at: u64, lkrn_len: usize) -> Result<Vec<u8>> {
    let mut l = crate::firmware::BIOS_DISKBOOT.to_vec();
    if l.len() != LEN || !l.ends_with(b"BSDB") {
        bail!("the BIOS disk loader in this build is damaged ({} bytes)", l.len());
    }
    if !self_at.is_multiple_of(512) || !lkrn_at.is_multiple_of(2048) {
        bail!("the BIOS loader and firmware are misplaced in the image ({self_at}, {lkrn_at})");
    }
    let sector = |at: u64| u32::try_from(at / 512).map_err(|_| anyhow::anyhow!("the image is too large"));
    l[LKRN_LBA..LKRN_LBA + 4].copy_from_slice(&sector(lkrn_at)?.to_le_bytes());
    l[LKRN_LEN..LKRN_LEN + 4].copy_from_slice(&u32::try_from(lkrn_len)?.to_le_bytes());
    l[SELF_LBA..SELF_LBA + 4].copy_from_slice(&sector(self_at)?.to_le_bytes());
    Ok(l)
}

/// Puts `loader`'s first 440 bytes in the MBR `mbr` as its boot code (the disk signature
/// and partition table stay as they are).
pub fn install_mbr(mbr: &mut [u8], loader: &[u8]) {
    mbr[..MBR_CODE].copy_from_slice(&loader[..MBR_CODE]);
}
