//! What a BIOS disk emulation (a `sanboot` image held in RAM, as memdisk and iPXE keep
//! one) tells what it boots: the memory map with the image's memory taken out of the
//! usable RAM, the older memory-size answers (INT 15h E801h and 88h) from it, and the
//! CHS geometry the disk claims. Sans-IO: the platform layer reads the map from the BIOS
//! and installs the answers.

use alloc::vec::Vec;

/// An E820 memory range (type 1 is usable RAM, type 2 reserved).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRange {
    /// Its first byte.
    pub base: u64,
    /// Its length in bytes.
    pub length: u64,
    /// The E820 type.
    pub kind: u32,
}

/// Usable RAM.
pub const RAM: u32 = 1;
/// Reserved: what the hidden memory becomes.
pub const RESERVED: u32 = 2;

const MIB: u64 = 1 << 20;

impl MemoryRange {
    fn end(&self) -> u64 {
        self.base.saturating_add(self.length)
    }
}

/// `map` with the usable RAM in `hidden` (a range of addresses) made reserved: usable
/// ranges that overlap it are split around it, the rest kept as they are; in address
/// order.
pub fn hide(map: &[MemoryRange], hidden: core::ops::Range<u64>) -> Vec<MemoryRange> {
    let mut out = Vec::with_capacity(map.len() + 2);
    for r in map {
        if r.kind != RAM || r.end() <= hidden.start || r.base >= hidden.end || r.length == 0 {
            out.push(*r);
            continue;
        }
        let (mid_start, mid_end) = (r.base.max(hidden.start), r.end().min(hidden.end));
        let pieces = [(r.base, mid_start, RAM), (mid_start, mid_end, RESERVED), (mid_end, r.end(), RAM)];
        for (start, end, kind) in pieces {
            if end > start {
                out.push(MemoryRange { base: start, length: end - start, kind });
            }
        }
    }
    out.sort_by_key(|r| r.base);
    out
}

/// Where the usable RAM that runs on without a gap from `from` ends.
fn contiguous_from(map: &[MemoryRange], from: u64) -> u64 {
    let mut end = from;
    // Ranges may come in any order and touch; extend until nothing does.
    loop {
        let next = map
            .iter()
            .filter(|r| r.kind == RAM && r.base <= end && r.end() > end)
            .map(MemoryRange::end)
            .max();
        match next {
            Some(e) => end = e,
            None => return end,
        }
    }
}

/// The answers of the memory-size calls older programs make, from `map`, never more
/// than the BIOS's own (`bios`): E801h's KiB from 1 to 16 MiB and 64 KiB blocks from
/// 16 MiB (the RAM without a gap, below 4 GiB), and AH=88h's KiB from 1 MiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OldSizes {
    /// E801h AX/CX: KiB of RAM from 1 MiB up to 16 MiB.
    pub e801_low_kib: u16,
    /// E801h BX/DX: 64 KiB blocks of RAM from 16 MiB.
    pub e801_high_blocks: u16,
    /// AH=88h AX: KiB of RAM from 1 MiB.
    pub ext_kib: u16,
}

impl OldSizes {
    /// The sizes `map` gives, capped by the BIOS's answers `bios`.
    pub fn of(map: &[MemoryRange], bios: OldSizes) -> Self {
        let end = contiguous_from(map, MIB).min(4 << 30);
        let low = (end.min(16 * MIB).saturating_sub(MIB) / 1024) as u16;
        let high = if end >= 16 * MIB { ((end - 16 * MIB) >> 16).min(0xffff) as u16 } else { 0 };
        let ext = (end.saturating_sub(MIB) / 1024).min(0xffff) as u16;
        Self {
            e801_low_kib: low.min(bios.e801_low_kib),
            e801_high_blocks: high.min(bios.e801_high_blocks),
            ext_kib: ext.min(bios.ext_kib),
        }
    }
}

/// A disk's CHS geometry as a BIOS reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Cylinders (1-1024).
    pub cylinders: u16,
    /// Heads (1-255).
    pub heads: u8,
    /// Sectors per track (1-63).
    pub sectors: u8,
}

/// The geometry of a disk of `sectors` 512-byte sectors whose first sector is `mbr`:
/// the heads and sectors per track its partition table's CHS ends were written for (as
/// iPXE guesses it), else 255 and 63; the cylinders cover the disk, at most 1,024.
pub fn geometry(mbr: &[u8], sectors: u64) -> Geometry {
    let (mut heads, mut per_track) = (0u8, 0u8);
    if mbr.len() >= 512 && mbr[510..512] == [0x55, 0xaa] {
        for entry in mbr[446..510].chunks(16) {
            // The end's head, and sector (the low six bits); a type of 0 is unused.
            if entry[4] != 0 {
                heads = heads.max(entry[5]);
                per_track = per_track.max(entry[6] & 0x3f);
            }
        }
    }
    // An end at head 255 (a GPT's protective entry says FE FF FF) means "as many as
    // there can be": 255 heads, the most INT 13h can report.
    let (heads, per_track) = match (heads.saturating_add(1), per_track) {
        (h, s) if h > 1 && s > 0 => (h, s),
        _ => (255, 63),
    };
    let per_cylinder = u64::from(heads) * u64::from(per_track);
    let cylinders = sectors.div_ceil(per_cylinder).clamp(1, 1024) as u16;
    Geometry { cylinders, heads, sectors: per_track }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const fn r(base: u64, length: u64, kind: u32) -> MemoryRange {
        MemoryRange { base, length, kind }
    }

    /// QEMU's SeaBIOS map of a 512 MiB machine.
    const QEMU: [MemoryRange; 5] = [
        r(0, 0x9fc00, RAM),
        r(0x9fc00, 0x400, RESERVED),
        r(0xf0000, 0x10000, RESERVED),
        r(0x100000, 0x1fee0000, RAM),
        r(0x1ffe0000, 0x20000, RESERVED),
    ];

    const BIOS: OldSizes = OldSizes { e801_low_kib: 0x3c00, e801_high_blocks: 0x1efe, ext_kib: 0xfc00 };

    #[test]
    fn the_image_is_cut_out_of_the_ram_that_holds_it() {
        let map = hide(&QEMU, 0x1000_0000..0x1040_0000);
        assert_eq!(
            map,
            vec![
                QEMU[0],
                QEMU[1],
                QEMU[2],
                r(0x100000, 0x1000_0000 - 0x100000, RAM),
                r(0x1000_0000, 0x40_0000, RESERVED),
                r(0x1040_0000, 0x1ffe0000 - 0x1040_0000, RAM),
                QEMU[4],
            ]
        );
        // The RAM adds up to what it was, less the image.
        let ram = |m: &[MemoryRange]| m.iter().filter(|r| r.kind == RAM).map(|r| r.length).sum::<u64>();
        assert_eq!(ram(&map), ram(&QEMU) - 0x40_0000);
    }

    #[test]
    fn an_image_at_the_end_of_a_range_leaves_no_empty_range() {
        let map = hide(&QEMU, 0x1f000000..0x1ffe0000);
        assert_eq!(map.len(), 6);
        assert_eq!(map[4], r(0x1f000000, 0xfe0000, RESERVED));
        assert!(map.iter().all(|r| r.length > 0));
        // Memory that is no RAM is left alone.
        assert_eq!(hide(&QEMU, 0xf0000..0xf8000), QEMU.to_vec());
    }

    #[test]
    fn the_old_sizes_stop_at_the_image() {
        // The whole machine: the BIOS's own answers.
        assert_eq!(OldSizes::of(&QEMU, BIOS), BIOS);
        let map = hide(&QEMU, 0x1000_0000..0x1040_0000);
        let sizes = OldSizes::of(&map, BIOS);
        assert_eq!(sizes.e801_low_kib, 0x3c00);
        assert_eq!(sizes.e801_high_blocks, ((0x1000_0000 - (16 << 20)) >> 16) as u16);
        assert_eq!(sizes.ext_kib, 0xfc00);
        // An image below 16 MiB: the RAM from 1 MiB ends there.
        let map = hide(&QEMU, 0x80_0000..0x90_0000);
        let sizes = OldSizes::of(&map, BIOS);
        assert_eq!(sizes, OldSizes { e801_low_kib: 7 * 1024, e801_high_blocks: 0, ext_kib: 7 * 1024 });
    }

    #[test]
    fn geometry_from_the_partition_table_or_the_usual_one() {
        let mut mbr = vec![0u8; 512];
        mbr[510..512].copy_from_slice(&[0x55, 0xaa]);
        // No partitions: 255 heads, 63 sectors; a 64 MiB disk has 9 cylinders.
        assert_eq!(geometry(&mbr, 131072), Geometry { cylinders: 9, heads: 255, sectors: 63 });
        // A partition ending at head 63, sector 32: 64 heads, 32 sectors per track.
        mbr[446 + 4] = 0x0c;
        mbr[446 + 5] = 63;
        mbr[446 + 6] = 32 | 0xc0;
        assert_eq!(geometry(&mbr, 131072), Geometry { cylinders: 64, heads: 64, sectors: 32 });
        // A GPT's protective entry (ends at head 255, sector 63): 255 heads.
        mbr[446 + 4] = 0xee;
        mbr[446 + 5] = 0xff;
        mbr[446 + 6] = 0xff;
        assert_eq!(geometry(&mbr, 131072), Geometry { cylinders: 9, heads: 255, sectors: 63 });
        mbr[446 + 4] = 0x0c;
        mbr[446 + 5] = 63;
        mbr[446 + 6] = 32 | 0xc0;
        // Huge disks stop at 1,024 cylinders; no signature means no table.
        assert_eq!(geometry(&mbr, 1 << 32).cylinders, 1024);
        mbr[511] = 0;
        assert_eq!(geometry(&mbr, 131072).heads, 255);
        assert_eq!(geometry(&[], 1), Geometry { cylinders: 1, heads: 255, sectors: 63 });
    }
}
