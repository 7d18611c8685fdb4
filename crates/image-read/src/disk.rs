//! Partitioned disks: the GPT (at LBA 1 of 512-byte sectors) and its EFI system
//! partition, or an MBR whose partition of type 0xEF is the ESP (hybrid ISOs and older
//! tools). Checksums are not checked: `inspect` reads what the image holds, and a
//! firmware would fall back to the backup table.

use crate::{Error, Part, ReadAt, le32, le64, read_vec};

const LBA: u64 = 512;
/// C12A7328-F81F-11D2-BA4B-00A0C93EC93B, in on-disk byte order.
const ESP_TYPE: [u8; 16] =
    [0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b];
/// More entries than any partitioning tool makes (the default is 128).
const MAX_ENTRIES: u32 = 1024;
const MBR_ESP: u8 = 0xef;
const MBR_PROTECTIVE: u8 = 0xee;

/// The EFI system partition of a GPT disk; `None` when the image has no GPT header.
pub(crate) fn gpt_esp<S: ReadAt + ?Sized>(image: &mut S) -> Result<Option<Part>, Error> {
    if image.len() < 2 * LBA {
        return Ok(None);
    }
    let header = read_vec(image, LBA, 92, "the GPT header")?;
    if &header[..8] != b"EFI PART" {
        return Ok(None);
    }
    let size = image.len();
    // The backup header sits at the disk's last LBA: a file that ends before it was cut.
    let backup = le64(&header, 32);
    let backup_end = backup.checked_add(1).and_then(|b| b.checked_mul(LBA));
    match backup_end {
        Some(end) if end > size => return Err(Error::Truncated { what: "the backup GPT header", end, size }),
        None => return Err(Error::Malformed("the GPT header's backup LBA is out of range")),
        Some(_) => {}
    }
    let entries_at = le64(&header, 72)
        .checked_mul(LBA)
        .ok_or(Error::Malformed("the GPT's partition entries are out of range"))?;
    let count = le32(&header, 80);
    let entry_size = u64::from(le32(&header, 84));
    if count > MAX_ENTRIES || !(128..=4096).contains(&entry_size) || !entry_size.is_multiple_of(8) {
        return Err(Error::Malformed("the GPT header's partition entry count or size is not valid"));
    }
    for i in 0..u64::from(count) {
        let at = entries_at + i * entry_size;
        let entry = read_vec(image, at, 56, "the GPT partition entries")?;
        if entry[..16] != ESP_TYPE {
            continue;
        }
        let (first, last) = (le64(&entry, 32), le64(&entry, 40));
        if first == 0 || last < first {
            return Err(Error::Malformed("the EFI system partition's GPT entry has no valid extent"));
        }
        let start = first.checked_mul(LBA);
        let len = (last - first).checked_add(1).and_then(|n| n.checked_mul(LBA));
        let (Some(start), Some(len)) = (start, len) else {
            return Err(Error::Malformed("the EFI system partition's GPT entry is out of range"));
        };
        return Part::new(start, len, size, "the EFI system partition").map(Some);
    }
    Err(Error::NoProgram("the GPT disk has no EFI system partition"))
}

/// A master boot record's partition table.
pub(crate) struct Mbr {
    entries: [(u8, u32, u32); 4],
}

impl Mbr {
    /// The table of a first sector ending in 0x55AA.
    pub(crate) fn parse(sector: &[u8]) -> Option<Self> {
        if sector.len() < 512 || sector[510..512] != [0x55, 0xaa] {
            return None;
        }
        let mut entries = [(0, 0, 0); 4];
        for (i, e) in entries.iter_mut().enumerate() {
            let at = 446 + 16 * i;
            *e = (sector[at + 4], le32(sector, at + 8), le32(sector, at + 12));
        }
        // The boot indicator is 0x00 or 0x80 in a partition table; anything else means
        // these bytes are boot code.
        if (0..4).any(|i| sector[446 + 16 * i] & 0x7f != 0) {
            return None;
        }
        Some(Self { entries })
    }

    /// Whether any partition is defined.
    pub(crate) fn has_partitions(&self) -> bool {
        self.entries.iter().any(|&(kind, _, count)| kind != 0 && count != 0)
    }

    /// The first partition of type 0xEF, checked against an image of `size` bytes.
    pub(crate) fn esp(&self, size: u64) -> Result<Option<Part>, Error> {
        if self.entries.iter().any(|&(kind, _, _)| kind == MBR_PROTECTIVE)
            && !self.entries.iter().any(|&(kind, _, _)| kind == MBR_ESP)
        {
            return Err(Error::Malformed("the disk has a protective MBR but no GPT header at LBA 1"));
        }
        let Some(&(_, start, count)) =
            self.entries.iter().find(|&&(kind, start, count)| kind == MBR_ESP && start != 0 && count != 0)
        else {
            return Ok(None);
        };
        Part::new(u64::from(start) * LBA, u64::from(count) * LBA, size, "the EFI system partition (MBR)")
            .map(Some)
    }
}
