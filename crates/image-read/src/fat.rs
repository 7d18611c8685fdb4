//! FAT12, FAT16 and FAT32, read-only, for one path: the boot sector's geometry is
//! checked once (the FATs, root directory and data area inside the file system, the
//! file system inside its partition, the FAT large enough for every cluster), after
//! which every cluster number is range-checked before it is followed.
//!
//! Cluster chains are bounded: a chain longer than the file system's cluster count
//! must revisit a cluster, so it is reported as a damaged FAT, and so is a chain that
//! leaves the data area, hits a free or bad cluster, or holds less than its file's size.
//! Directories are read only as far as FAT allows them to grow (65536 entries), files
//! only up to the caller's limit.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::{Error, Part, ReadAt, le16, le32, read_vec};

/// A directory holds at most 65536 entries of 32 bytes.
const MAX_DIR_BYTES: u64 = 65536 * 32;
/// Larger clusters than any FAT implementation makes (64 KiB is the usual maximum).
const MAX_CLUSTER_BYTES: u64 = 256 * 1024;
const ATTR_DIRECTORY: u8 = 0x10;
const ATTR_VOLUME_ID: u8 = 0x08;
const ATTR_LONG_NAME: u8 = 0x0f;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Fat12,
    Fat16,
    Fat32,
}

/// Whether a boot sector looks like a FAT file system's (for images with no partition
/// table): a jump, a sector size, and "FAT" where FAT12/16 or FAT32 keep the type name.
pub(crate) fn looks_like_fat(sector: &[u8]) -> bool {
    sector.len() >= 512
        && matches!(sector[0], 0xeb | 0xe9)
        && matches!(le16(sector, 11), 512 | 1024 | 2048 | 4096)
        && sector[13].is_power_of_two()
        && (&sector[54..57] == b"FAT" || &sector[82..87] == b"FAT32")
}

/// The file at `path` (directory names, then the file's name) in the FAT file system
/// of `part`, at most `limit` bytes.
pub(crate) fn read_file<S: ReadAt + ?Sized>(
    image: &mut S,
    part: Part,
    path: &[&str],
    limit: u64,
) -> Result<Vec<u8>, Error> {
    let mut fs = Fs::open(image, part)?;
    let mut dir = Dir::Root;
    let mut shown = String::new();
    let (file, dirs) = path.split_last().expect("a path has a file name");
    for name in dirs {
        if !shown.is_empty() {
            shown.push('/');
        }
        shown.push_str(name);
        let entry = fs.find(dir, name, &shown)?.ok_or(Error::NoProgram(MISSING))?;
        if entry.attr & ATTR_DIRECTORY == 0 || entry.cluster < 2 {
            return Err(Error::NoProgram(MISSING));
        }
        dir = Dir::Cluster(entry.cluster);
    }
    shown.push('/');
    shown.push_str(file);
    let entry = fs.find(dir, file, &shown)?.ok_or(Error::NoProgram(MISSING))?;
    if entry.attr & ATTR_DIRECTORY != 0 {
        return Err(Error::NoProgram(MISSING));
    }
    fs.read(&entry, &shown, limit)
}

const MISSING: &str = "the EFI system partition holds no EFI/BOOT/BOOTX64.EFI";

#[derive(Clone, Copy)]
enum Dir {
    Root,
    Cluster(u32),
}

struct Entry {
    attr: u8,
    cluster: u32,
    size: u32,
}

struct Fs<'s, S: ReadAt + ?Sized> {
    image: &'s mut S,
    /// Where the file system starts in the image.
    base: u64,
    kind: Kind,
    cluster_bytes: u64,
    /// Byte offsets within the file system, and the first FAT's length.
    fat_at: u64,
    fat_bytes: u64,
    root_at: u64,
    root_bytes: u64,
    data_at: u64,
    /// Data clusters: valid cluster numbers are 2 ..= cluster_count + 1.
    cluster_count: u32,
    root_cluster: u32,
    /// A piece of the FAT, so walking a chain does not read the image per cluster.
    cache_at: u64,
    cache: Vec<u8>,
}

impl<'s, S: ReadAt + ?Sized> Fs<'s, S> {
    fn open(image: &'s mut S, part: Part) -> Result<Self, Error> {
        let boot = read_vec(image, part.start, 512, part.what)?;
        let bad = Error::Malformed;
        let sector = u64::from(le16(&boot, 11));
        if !matches!(sector, 512 | 1024 | 2048 | 4096) {
            return Err(bad("the EFI system partition is not a FAT file system (bad sector size)"));
        }
        let per_cluster = u64::from(boot[13]);
        if !boot[13].is_power_of_two() || sector * per_cluster > MAX_CLUSTER_BYTES {
            return Err(bad("the FAT boot sector's cluster size is not valid"));
        }
        let reserved = u64::from(le16(&boot, 14));
        let fats = u64::from(boot[16]);
        let root_entries = u64::from(le16(&boot, 17));
        let total = match le16(&boot, 19) {
            0 => u64::from(le32(&boot, 32)),
            n => u64::from(n),
        };
        let fat_sectors = match le16(&boot, 22) {
            0 => u64::from(le32(&boot, 36)),
            n => u64::from(n),
        };
        if reserved == 0 || fats == 0 || fat_sectors == 0 {
            return Err(bad("the FAT boot sector's layout is not valid"));
        }
        let root_sectors = (root_entries * 32).div_ceil(sector);
        let data_start = reserved + fats * fat_sectors + root_sectors;
        if data_start >= total {
            return Err(bad("the FAT boot sector's layout leaves no room for data"));
        }
        let cluster_count = (total - data_start) / per_cluster;
        // The FAT type follows from the cluster count alone (Microsoft's FAT specification).
        let kind = match cluster_count {
            0..4085 => Kind::Fat12,
            4085..65525 => Kind::Fat16,
            _ => Kind::Fat32,
        };
        let cluster_count = u32::try_from(cluster_count)
            .ok()
            .filter(|&n| n <= 0x0fff_fff5)
            .ok_or(bad("the FAT file system has more clusters than FAT32 can number"))?;
        let fs_bytes = total * sector;
        let end = part.start + fs_bytes;
        if end > image.len() {
            return Err(Error::Truncated { what: "the FAT file system", end, size: image.len() });
        }
        if fs_bytes > part.len {
            return Err(bad("the FAT file system is larger than its partition"));
        }
        // Each FAT must have an entry for every cluster, so any cluster number in range
        // can be looked up.
        let entry_bits = match kind {
            Kind::Fat12 => 12,
            Kind::Fat16 => 16,
            Kind::Fat32 => 32,
        };
        if fat_sectors * sector * 8 / entry_bits < u64::from(cluster_count) + 2 {
            return Err(bad("the FAT is too small for the file system's clusters"));
        }
        let root_cluster = if kind == Kind::Fat32 { le32(&boot, 44) & 0x0fff_ffff } else { 0 };
        if kind == Kind::Fat32 && root_entries != 0 {
            return Err(bad("a FAT32 boot sector declares a fixed root directory"));
        }
        Ok(Self {
            image,
            base: part.start,
            kind,
            cluster_bytes: sector * per_cluster,
            fat_at: reserved * sector,
            fat_bytes: fat_sectors * sector,
            root_at: (reserved + fats * fat_sectors) * sector,
            root_bytes: root_sectors * sector,
            data_at: data_start * sector,
            cluster_count,
            root_cluster,
            cache_at: 0,
            cache: Vec::new(),
        })
    }

    fn valid(&self, cluster: u32) -> bool {
        (2..=self.cluster_count + 1).contains(&cluster)
    }

    /// The FAT entry of `cluster` (which [`Fs::valid`] accepted).
    fn entry(&mut self, cluster: u32) -> Result<u32, Error> {
        let n = u64::from(cluster);
        let (at, len) = match self.kind {
            Kind::Fat12 => (n + n / 2, 2),
            Kind::Fat16 => (n * 2, 2),
            Kind::Fat32 => (n * 4, 4),
        };
        if at < self.cache_at || at + len > self.cache_at + self.cache.len() as u64 {
            // The first FAT has an entry for every valid cluster (checked at open), so
            // this read stays within it.
            let want = self.fat_bytes.saturating_sub(at).min(4096);
            if want < len {
                return Err(Error::Malformed("the FAT is too small for the file system's clusters"));
            }
            self.cache = read_vec(self.image, self.base + self.fat_at + at, want, "the FAT")?;
            self.cache_at = at;
        }
        let b = &self.cache[(at - self.cache_at) as usize..];
        Ok(match self.kind {
            Kind::Fat12 if cluster.is_multiple_of(2) => u32::from(le16(b, 0) & 0x0fff),
            Kind::Fat12 => u32::from(le16(b, 0) >> 4),
            Kind::Fat16 => u32::from(le16(b, 0)),
            Kind::Fat32 => le32(b, 0) & 0x0fff_ffff,
        })
    }

    fn is_end(&self, value: u32) -> bool {
        value
            >= match self.kind {
                Kind::Fat12 => 0xff8,
                Kind::Fat16 => 0xfff8,
                Kind::Fat32 => 0x0fff_fff8,
            }
    }

    /// The clusters of the chain starting at `first`, at most `max` of them. Returns the
    /// clusters and whether the chain went on past `max`.
    fn chain(&mut self, first: u32, max: u64, name: &str) -> Result<(Vec<u32>, bool), Error> {
        if !self.valid(first) {
            return Err(Error::DamagedFat(format!(
                "{name} starts at cluster {first}, outside the file system's {} clusters",
                self.cluster_count
            )));
        }
        let bound = max.min(u64::from(self.cluster_count));
        let mut clusters = Vec::new();
        let mut cluster = first;
        loop {
            if clusters.len() as u64 == bound {
                // A chain longer than the cluster count revisits a cluster; a shorter one
                // that repeats one loops just the same.
                let mut seen = clusters.clone();
                seen.push(cluster);
                seen.sort_unstable();
                if bound == u64::from(self.cluster_count) || seen.windows(2).any(|w| w[0] == w[1]) {
                    return Err(Error::DamagedFat(format!(
                        "the cluster chain of {name} loops (it is longer than the file system's {} clusters \
                         or comes back to a cluster)",
                        self.cluster_count
                    )));
                }
                return Ok((clusters, true));
            }
            clusters.push(cluster);
            let next = self.entry(cluster)?;
            if self.is_end(next) {
                return Ok((clusters, false));
            }
            if !self.valid(next) {
                let what = match next {
                    0 => String::from("a free cluster"),
                    n if n == self.bad_marker() => String::from("a cluster marked bad"),
                    n => format!("cluster {n}, outside the file system's {} clusters", self.cluster_count),
                };
                return Err(Error::DamagedFat(format!("the cluster chain of {name} leads to {what}")));
            }
            cluster = next;
        }
    }

    fn bad_marker(&self) -> u32 {
        match self.kind {
            Kind::Fat12 => 0xff7,
            Kind::Fat16 => 0xfff7,
            Kind::Fat32 => 0x0fff_fff7,
        }
    }

    fn read_cluster(&mut self, cluster: u32, len: u64) -> Result<Vec<u8>, Error> {
        let at = self.data_at + u64::from(cluster - 2) * self.cluster_bytes;
        read_vec(self.image, self.base + at, len, "the FAT file system")
    }

    /// The entry named `name` in `dir`, whose path is `shown`.
    fn find(&mut self, dir: Dir, name: &str, shown: &str) -> Result<Option<Entry>, Error> {
        let want = short_name(name);
        let parent = shown.rsplit_once('/').map_or("the root directory", |(p, _)| p);
        let blocks: Vec<(u64, u64)> = match (dir, self.kind) {
            (Dir::Root, Kind::Fat12 | Kind::Fat16) => alloc::vec![(self.root_at, self.root_bytes)],
            (Dir::Root, Kind::Fat32) => self.dir_clusters(self.root_cluster, "the root directory")?,
            (Dir::Cluster(c), _) => self.dir_clusters(c, parent)?,
        };
        for (at, len) in blocks {
            let data = read_vec(self.image, self.base + at, len, "the FAT file system")?;
            for e in data.chunks_exact(32) {
                match e[0] {
                    0 => return Ok(None),
                    0xe5 => continue,
                    _ => {}
                }
                let attr = e[11];
                if attr & ATTR_LONG_NAME == ATTR_LONG_NAME || attr & ATTR_VOLUME_ID != 0 {
                    continue;
                }
                if e[..11].eq_ignore_ascii_case(&want) {
                    let high = if self.kind == Kind::Fat32 { u32::from(le16(e, 20)) << 16 } else { 0 };
                    return Ok(Some(Entry {
                        attr,
                        cluster: high | u32::from(le16(e, 26)),
                        size: le32(e, 28),
                    }));
                }
            }
        }
        Ok(None)
    }

    /// Where a directory's clusters are: its whole chain is checked first.
    fn dir_clusters(&mut self, first: u32, name: &str) -> Result<Vec<(u64, u64)>, Error> {
        let max = MAX_DIR_BYTES.div_ceil(self.cluster_bytes);
        let (clusters, more) = self.chain(first, max, name)?;
        if more {
            return Err(Error::DamagedFat(format!(
                "the directory {name} is larger than FAT allows ({} entries)",
                MAX_DIR_BYTES / 32
            )));
        }
        Ok(clusters
            .iter()
            .map(|&c| (self.data_at + u64::from(c - 2) * self.cluster_bytes, self.cluster_bytes))
            .collect())
    }

    /// A file's contents, if its size is within `limit` and its chain holds it.
    fn read(&mut self, entry: &Entry, name: &str, limit: u64) -> Result<Vec<u8>, Error> {
        let size = u64::from(entry.size);
        if size == 0 {
            return Ok(Vec::new());
        }
        // The chain is walked (and checked for loops) before the size is trusted.
        let max = limit.div_ceil(self.cluster_bytes) + 1;
        let (clusters, more) = self.chain(entry.cluster, max, name)?;
        if size > limit {
            return Err(Error::TooLarge { what: "EFI/BOOT/BOOTX64.EFI", size, limit });
        }
        if more {
            return Err(Error::DamagedFat(format!(
                "the cluster chain of {name} is far longer than its {size} bytes need"
            )));
        }
        let holds = clusters.len() as u64 * self.cluster_bytes;
        if size > holds {
            return Err(Error::DamagedFat(format!(
                "{name} is {size} bytes, but its cluster chain holds only {holds}"
            )));
        }
        let mut out = Vec::with_capacity(size as usize);
        for &c in &clusters {
            let want = (size - out.len() as u64).min(self.cluster_bytes);
            if want == 0 {
                break;
            }
            out.extend_from_slice(&self.read_cluster(c, want)?);
        }
        Ok(out)
    }
}

/// `name` as an 8.3 directory entry stores it: upper case, padded with spaces.
fn short_name(name: &str) -> [u8; 11] {
    let mut out = [b' '; 11];
    let (base, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    for (o, b) in out[..8].iter_mut().zip(base.bytes()) {
        *o = b.to_ascii_uppercase();
    }
    for (o, b) in out[8..].iter_mut().zip(ext.bytes()) {
        *o = b.to_ascii_uppercase();
    }
    out
}

#[cfg(test)]
mod tests {
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;

    use crate::{Error, Format, read_boot_program};

    /// A 32 KiB FAT12 file system: 512-byte clusters, EFI (cluster 2), EFI/BOOT
    /// (cluster 3) and EFI/BOOT/BOOTX64.EFI (clusters 4, 5, 6; 1300 bytes).
    fn tiny() -> Vec<u8> {
        let mut img = vec![0u8; 64 * 512];
        let b = &mut img[..512];
        b[..3].copy_from_slice(&[0xeb, 0x3c, 0x90]);
        b[11..13].copy_from_slice(&512u16.to_le_bytes());
        b[13] = 1;
        b[14..16].copy_from_slice(&1u16.to_le_bytes());
        b[16] = 2;
        b[17..19].copy_from_slice(&16u16.to_le_bytes());
        b[19..21].copy_from_slice(&64u16.to_le_bytes());
        b[21] = 0xf8;
        b[22..24].copy_from_slice(&1u16.to_le_bytes());
        b[54..62].copy_from_slice(b"FAT12   ");
        b[510..512].copy_from_slice(&[0x55, 0xaa]);
        for (n, v) in [(0, 0xff8), (1, 0xfff), (2, 0xfff), (3, 0xfff), (4, 5), (5, 6), (6, 0xfff)] {
            set(&mut img, n, v);
        }
        let entry = |img: &mut [u8], at: usize, name: &[u8; 11], attr: u8, cluster: u16, size: u32| {
            img[at..at + 11].copy_from_slice(name);
            img[at + 11] = attr;
            img[at + 26..at + 28].copy_from_slice(&cluster.to_le_bytes());
            img[at + 28..at + 32].copy_from_slice(&size.to_le_bytes());
        };
        // Root directory at sector 3, data from sector 4 (cluster 2).
        entry(&mut img, 3 * 512, b"BOOTSIGN   ", 0x08, 0, 0);
        entry(&mut img, 3 * 512 + 32, b"EFI        ", 0x10, 2, 0);
        entry(&mut img, 4 * 512, b".          ", 0x10, 2, 0);
        entry(&mut img, 4 * 512 + 32, b"..         ", 0x10, 0, 0);
        entry(&mut img, 4 * 512 + 64, b"BOOT       ", 0x10, 3, 0);
        entry(&mut img, 5 * 512, b"BOOTX64 EFI", 0x20, 4, 1300);
        for (i, byte) in img[6 * 512..6 * 512 + 1536].iter_mut().enumerate() {
            *byte = (i % 251) as u8;
        }
        img
    }

    /// Sets FAT12 entry `n` in both FATs (sectors 1 and 2).
    fn set(img: &mut [u8], n: usize, v: u16) {
        for fat in [512, 1024] {
            let at = fat + n + n / 2;
            let old = u16::from_le_bytes([img[at], img[at + 1]]);
            let new = if n.is_multiple_of(2) { (old & 0xf000) | v } else { (old & 0x000f) | (v << 4) };
            img[at..at + 2].copy_from_slice(&new.to_le_bytes());
        }
    }

    fn program() -> Vec<u8> {
        (0..1300).map(|i| (i % 251) as u8).collect()
    }

    fn read(img: &[u8], limit: u64) -> Result<Vec<u8>, Error> {
        read_boot_program(&mut &img[..], limit).map(|found| {
            assert_eq!(found.format, Format::Fat);
            found.program
        })
    }

    fn damaged(img: &[u8]) -> String {
        match read(img, 1 << 20) {
            Err(Error::DamagedFat(why)) => why,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_the_program_of_a_fat12_image() {
        assert_eq!(read(&tiny(), 1 << 20).unwrap(), program());
        // Short names match whatever their case in the path.
        let mut lower = tiny();
        lower[5 * 512..5 * 512 + 11].copy_from_slice(b"bootx64 efi");
        assert_eq!(read(&lower, 1 << 20).unwrap(), program());
    }

    #[test]
    fn looping_chains_are_a_damaged_fat() {
        let mut img = tiny();
        set(&mut img, 2, 2);
        assert!(damaged(&img).starts_with("the cluster chain of EFI loops"), "{}", damaged(&img));
        let mut img = tiny();
        set(&mut img, 3, 40);
        set(&mut img, 40, 3);
        assert!(damaged(&img).starts_with("the cluster chain of EFI/BOOT loops"));
        // A file whose chain comes back to its start and whose size is 4 GiB - 1.
        let mut img = tiny();
        set(&mut img, 6, 4);
        img[5 * 512 + 28..5 * 512 + 32].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(damaged(&img).starts_with("the cluster chain of EFI/BOOT/BOOTX64.EFI loops"));
    }

    #[test]
    fn chains_must_stay_in_the_file_system_and_hold_the_file() {
        let mut img = tiny();
        set(&mut img, 5, 0);
        assert_eq!(damaged(&img), "the cluster chain of EFI/BOOT/BOOTX64.EFI leads to a free cluster");
        set(&mut img, 5, 0xff7);
        assert_eq!(damaged(&img), "the cluster chain of EFI/BOOT/BOOTX64.EFI leads to a cluster marked bad");
        set(&mut img, 5, 62);
        assert_eq!(
            damaged(&img),
            "the cluster chain of EFI/BOOT/BOOTX64.EFI leads to cluster 62, outside the file system's 60 clusters"
        );
        let mut img = tiny();
        img[5 * 512 + 26] = 99;
        assert_eq!(
            damaged(&img),
            "EFI/BOOT/BOOTX64.EFI starts at cluster 99, outside the file system's 60 clusters"
        );
        let mut img = tiny();
        img[5 * 512 + 28..5 * 512 + 32].copy_from_slice(&1537u32.to_le_bytes());
        assert_eq!(
            damaged(&img),
            "EFI/BOOT/BOOTX64.EFI is 1537 bytes, but its cluster chain holds only 1536"
        );
    }

    #[test]
    fn limits_and_truncation() {
        assert_eq!(
            read(&tiny(), 1000),
            Err(Error::TooLarge { what: "EFI/BOOT/BOOTX64.EFI", size: 1300, limit: 1000 })
        );
        assert_eq!(
            read(&tiny()[..20_000], 1 << 20),
            Err(Error::Truncated { what: "the FAT file system", end: 32768, size: 20_000 })
        );
        let mut img = tiny();
        img[5 * 512] = 0xe5;
        assert_eq!(read(&img, 1 << 20), Err(Error::NoProgram(super::MISSING)));
        // A FAT too small to number every cluster.
        let mut img = tiny();
        img[19..21].copy_from_slice(&4000u16.to_le_bytes());
        img.resize(4000 * 512, 0);
        assert_eq!(
            read(&img, 1 << 20),
            Err(Error::Malformed("the FAT is too small for the file system's clusters"))
        );
    }

    #[test]
    fn an_mbr_partition_of_type_0xef_is_the_esp() {
        let mut disk = vec![0u8; 512];
        disk[446 + 4] = 0xef;
        disk[446 + 8..446 + 12].copy_from_slice(&1u32.to_le_bytes());
        disk[446 + 12..446 + 16].copy_from_slice(&64u32.to_le_bytes());
        disk[510..512].copy_from_slice(&[0x55, 0xaa]);
        disk.extend_from_slice(&tiny());
        let found = read_boot_program(&mut &disk[..], 1 << 20).unwrap();
        assert_eq!((found.format, found.program), (Format::MbrDisk, program()));
        assert_eq!(
            read_boot_program(&mut &disk[..10_000], 1 << 20),
            Err(Error::Truncated { what: "the EFI system partition (MBR)", end: 33280, size: 10_000 })
        );
    }
}
