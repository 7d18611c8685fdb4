//! Finding the boot program in an image: a PCI expansion ROM, a hybrid ISO (El Torito),
//! a GPT or MBR disk, or a bare FAT file system, each down to its EFI program; and, for a
//! legacy BIOS, how it boots a disk or CD image ([`bios_boot`]).
//!
//! The image is read through [`ReadAt`], a random-access source (a byte slice here, a
//! file or block device in the CLI), and only what the structures point at is read:
//! the headers, the partition table, the FAT entries and directory clusters on the way
//! to `EFI/BOOT/BOOTX64.EFI`, and that one file. What this guarantees, for any input:
//!
//! - every offset and length from the image is checked before use (against the image,
//!   and against the partition or file system it belongs to), so nothing panics, and a
//!   structure that runs past the end of the file is reported as truncation;
//! - every loop is bounded: FAT cluster chains by the file system's cluster count (a
//!   chain that loops or outgrows it is a damaged FAT), descriptor and catalog scans by
//!   their formats' limits;
//! - memory is bounded by the input: the program is allocated only after its size was
//!   checked against the caller's limit and against what its cluster chain holds.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

mod bios;
mod disk;
mod fat;
mod iso;
mod rom;
mod sanboot;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

pub use rom::PciId;
pub use sanboot::{BiosBoot, bios_boot};

/// A random-access image: the few reads the parsers need, at absolute offsets.
pub trait ReadAt {
    /// The image's length in bytes.
    fn len(&self) -> u64;

    /// Whether the image is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills `buf` with the bytes at `offset`. Callers only ask for ranges inside
    /// [`ReadAt::len`]; a failure to read them is an [`Error::Io`].
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error>;
}

impl ReadAt for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let start = usize::try_from(offset).map_err(|_| Error::Io("offset out of range".into()))?;
        let src = start
            .checked_add(buf.len())
            .and_then(|end| self.get(start..end))
            .ok_or_else(|| Error::Io("read past the end".into()))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// Why no program could be read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A structure runs past the end of the file.
    Truncated {
        /// What (its name, with "its"/"the").
        what: &'static str,
        /// Where it ends.
        end: u64,
        /// The file's length.
        size: u64,
    },
    /// A FAT cluster chain loops, runs out of the file system, or holds less than its
    /// file's size.
    DamagedFat(String),
    /// A structure is not what its format requires.
    Malformed(&'static str),
    /// The image's format is known, but it holds no boot program bootsign can start: no
    /// UEFI program ([`read_boot_program`]), or nothing a legacy BIOS boots ([`bios_boot`]).
    NoProgram(&'static str),
    /// The program (or, for a file that is no container, the file) is over the limit.
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// Its size in bytes.
        size: u64,
        /// The caller's limit.
        limit: u64,
    },
    /// Reading the image failed.
    Io(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { what, end, size } => write!(
                f,
                "the image is truncated: {what} ends at byte {end}, past the end of the file ({size} bytes)"
            ),
            Self::DamagedFat(why) => write!(f, "the FAT is damaged: {why}"),
            Self::Malformed(what) => f.write_str(what),
            Self::NoProgram(why) => f.write_str(why),
            Self::TooLarge { what, size, limit } => {
                write!(f, "{what} is {size} bytes, more than the {} limit", Size(*limit))
            }
            Self::Io(e) => write!(f, "cannot read the image: {e}"),
        }
    }
}

impl core::error::Error for Error {}

/// A byte count as people read it: whole MiB where it is one.
struct Size(u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >= 1 << 20 && self.0.is_multiple_of(1 << 20) {
            write!(f, "{} MiB", self.0 >> 20)
        } else {
            write!(f, "{} bytes", self.0)
        }
    }
}

/// The container a program came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A PCI expansion ROM holding an EFI driver.
    Rom,
    /// An ISO 9660 image with a UEFI El Torito entry; `hybrid` when its system area
    /// also holds a partition table, so it boots from a USB stick too.
    Iso {
        /// Whether it is also a disk image.
        hybrid: bool,
    },
    /// A disk with a GPT.
    GptDisk,
    /// A disk with an MBR partition table only.
    MbrDisk,
    /// A FAT file system without a partition table.
    Fat,
    /// A Linux kernel image (bzImage): the legacy BIOS firmware (`.lkrn`). The program
    /// is the whole file.
    Lkrn,
    /// No container: the file itself is the program.
    Program,
}

impl Format {
    /// How `inspect` names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rom => "PCI expansion ROM",
            Self::Iso { hybrid: true } => "hybrid ISO image",
            Self::Iso { hybrid: false } => "ISO image",
            Self::GptDisk => "USB disk image",
            Self::MbrDisk => "disk image (MBR)",
            Self::Fat => "FAT image",
            Self::Lkrn => "Linux kernel image (.lkrn), legacy BIOS",
            Self::Program => "EFI program",
        }
    }
}

/// The program an image boots, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootProgram {
    /// The container.
    pub format: Format,
    /// The program's bytes (a PE image, unless the image is damaged).
    pub program: Vec<u8>,
    /// The devices a ROM is for (empty for other formats).
    pub pci_ids: Vec<PciId>,
    /// The legacy BIOS firmware (a bzImage) a hybrid ISO or USB image carries beside the
    /// EFI program, found through its MBR boot code.
    pub bios: Option<Vec<u8>>,
}

/// The path of the program in the EFI system partition.
pub const BOOT_PATH: [&str; 3] = ["EFI", "BOOT", "BOOTX64.EFI"];

/// The boot program of `image`: the ROM's driver, the ESP's `EFI/BOOT/BOOTX64.EFI` in an
/// ISO, disk or FAT image, or else the whole file. A program over `limit` bytes is an
/// error, not an allocation.
pub fn read_boot_program<S: ReadAt + ?Sized>(image: &mut S, limit: u64) -> Result<BootProgram, Error> {
    let mut head = [0u8; 512];
    let head_len = image.len().min(512) as usize;
    image.read_at(0, &mut head[..head_len])?;
    let head = &head[..head_len];

    if rom::is_rom(head) {
        let rom = rom::read(image, limit)?;
        return Ok(BootProgram {
            format: Format::Rom,
            program: rom.driver,
            pci_ids: rom.ids,
            bios: rom.bios,
        });
    }
    let mbr = disk::Mbr::parse(head);
    if let Some(esp) = iso::esp(image)? {
        let program = fat::read_file(image, esp, &BOOT_PATH, limit)?;
        let hybrid = mbr.as_ref().is_some_and(|m| m.has_partitions());
        let bios = bios::firmware(image, head, limit)?;
        return Ok(BootProgram { format: Format::Iso { hybrid }, program, pci_ids: Vec::new(), bios });
    }
    if let Some(esp) = disk::gpt_esp(image)? {
        let program = fat::read_file(image, esp, &BOOT_PATH, limit)?;
        let bios = bios::firmware(image, head, limit)?;
        return Ok(BootProgram { format: Format::GptDisk, program, pci_ids: Vec::new(), bios });
    }
    if !head.starts_with(b"MZ") {
        if fat::looks_like_fat(head) {
            let whole = Part { start: 0, len: image.len(), what: "the FAT file system" };
            let program = fat::read_file(image, whole, &BOOT_PATH, limit)?;
            return Ok(BootProgram { format: Format::Fat, program, pci_ids: Vec::new(), bios: None });
        }
        if let Some(esp) = mbr.as_ref().map(|m| m.esp(image.len())).transpose()?.flatten() {
            let program = fat::read_file(image, esp, &BOOT_PATH, limit)?;
            return Ok(BootProgram { format: Format::MbrDisk, program, pci_ids: Vec::new(), bios: None });
        }
    }
    if is_bzimage(image)? {
        let size = image.len();
        if size > limit {
            return Err(Error::TooLarge { what: "the kernel image", size, limit });
        }
        let program = read_vec(image, 0, size, "the kernel image")?;
        return Ok(BootProgram { format: Format::Lkrn, program, pci_ids: Vec::new(), bios: None });
    }
    let size = image.len();
    if size > limit {
        return Err(Error::TooLarge {
            what: "the file (not a ROM, ISO, disk or FAT image, so it would have to be the EFI program)",
            size,
            limit,
        });
    }
    let program = read_vec(image, 0, size, "the file")?;
    Ok(BootProgram { format: Format::Program, program, pci_ids: Vec::new(), bios: None })
}

/// Whether the image is a Linux bzImage: the boot sector's signature and the `HdrS`
/// header of boot protocol 2 at 0x202.
fn is_bzimage<S: ReadAt + ?Sized>(image: &mut S) -> Result<bool, Error> {
    if image.len() < 0x240 {
        return Ok(false);
    }
    let mut header = [0u8; 0x240];
    image.read_at(0, &mut header)?;
    Ok(header[0x1fe..0x200] == [0x55, 0xaa] && &header[0x202..0x206] == b"HdrS")
}

/// A byte range of the image: a partition or a boot image. Only made by [`Part::new`]
/// after checking that the range lies within the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) start: u64,
    pub(crate) len: u64,
    /// How messages name it.
    pub(crate) what: &'static str,
}

impl Part {
    /// `start..start + len` of an image of `size` bytes, or the truncation error.
    pub(crate) fn new(start: u64, len: u64, size: u64, what: &'static str) -> Result<Self, Error> {
        let end = start.checked_add(len).ok_or(Error::Malformed("a partition's extent overflows"))?;
        if end > size {
            return Err(Error::Truncated { what, end, size });
        }
        Ok(Self { start, len, what })
    }
}

/// Reads `len` bytes at `offset` after checking them against the image, so a short
/// image is a truncation error that names `what`.
pub(crate) fn read_vec<S: ReadAt + ?Sized>(
    image: &mut S,
    offset: u64,
    len: u64,
    what: &'static str,
) -> Result<Vec<u8>, Error> {
    let end = offset.checked_add(len).ok_or(Error::Malformed("an offset overflows"))?;
    if end > image.len() {
        return Err(Error::Truncated { what, end, size: image.len() });
    }
    // In range of the image, so it fits in memory as the image does.
    let len = usize::try_from(len).map_err(|_| Error::Malformed("a length overflows"))?;
    let mut buf = alloc::vec![0u8; len];
    image.read_at(offset, &mut buf)?;
    Ok(buf)
}

pub(crate) fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn le64(b: &[u8], at: usize) -> u64 {
    u64::from(le32(b, at)) | u64::from(le32(b, at + 4)) << 32
}
