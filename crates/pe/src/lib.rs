//! PE32+ (EFI) images: a checked view of the headers and sections, and adding a section
//! to a linked image.
//!
//! The firmware is linked once; `bootsign build` then appends the configuration as its
//! own section (`.bscfg`), so its size is not fixed in advance, and the firmware finds it
//! in its own loaded image. [`Pe::parse`] validates every offset once; afterwards the
//! accessors cannot read out of bounds. The same view works on a file (sections at
//! their raw file offsets) and on an image loaded in memory (sections at their virtual
//! addresses).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod authenticode;
pub mod load;

use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

/// The section the configuration travels in.
pub const CONFIG_SECTION: [u8; 8] = *b".bscfg\0\0";

/// Initialized, readable data.
pub const SCN_INITIALIZED_READ: u32 = 0x4000_0040;

/// Section flag: the section holds uninitialized data (no bytes in the file).
pub const SCN_CNT_UNINITIALIZED_DATA: u32 = 0x0000_0080;
/// Section flag: the section can be executed.
pub const SCN_MEM_EXECUTE: u32 = 0x2000_0000;
/// Section flag: the section can be written.
pub const SCN_MEM_WRITE: u32 = 0x8000_0000;

/// DLL characteristic: the image runs with non-executable data (NX_COMPAT).
pub const DLL_NX_COMPAT: u16 = 0x0100;

/// Why bytes are not a usable PE32+ image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeError {
    /// No `MZ` header.
    NotMz,
    /// No `PE\0\0` signature where the DOS header points.
    NotPe,
    /// Not a PE32+ (64-bit) optional header.
    NotPe32Plus,
    /// A header or section lies outside the data.
    Truncated,
    /// No room in the headers for another section entry.
    NoRoomForSection,
    /// The image is already signed (Authenticode); changing it would break the signature.
    Signed,
    /// The section to add already exists.
    SectionExists,
    /// Alignment values that are not powers of two.
    BadAlignment,
    /// Section addresses or sizes out of the range a PE32+ image can hold.
    BadLayout,
}

impl fmt::Display for PeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotMz => "not a PE image (no MZ header)",
            Self::NotPe => "not a PE image (no PE signature)",
            Self::NotPe32Plus => "not a 64-bit (PE32+) image",
            Self::Truncated => "the PE image is truncated",
            Self::NoRoomForSection => "no room in the PE headers for another section",
            Self::Signed => "the PE image is already signed; add the configuration before signing",
            Self::SectionExists => "the image already has a configuration section",
            Self::BadAlignment => {
                "the PE image has invalid alignment values (not powers of two, or a file alignment over 64 KiB)"
            }
            Self::BadLayout => "the PE image's section addresses or sizes are out of range",
        })
    }
}

impl core::error::Error for PeError {}

/// The largest file alignment the PE format allows.
const MAX_FILE_ALIGNMENT: u32 = 64 * 1024;

/// One section header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// Name, NUL-padded.
    pub name: [u8; 8],
    /// Size in memory.
    pub virtual_size: u32,
    /// Address relative to the image base.
    pub virtual_address: u32,
    /// Size in the file.
    pub raw_size: u32,
    /// Offset in the file.
    pub raw_offset: u32,
    /// Flags.
    pub characteristics: u32,
}

/// A validated PE32+ header view.
#[derive(Clone, Debug)]
pub struct Pe<'a> {
    bytes: &'a [u8],
    /// Offset of the COFF header (after `PE\0\0`).
    coff: usize,
    /// Offset of the optional header.
    opt: usize,
    /// Offset of the section table.
    table: usize,
    sections: Vec<Section>,
    /// Machine type (0x8664 for x86-64).
    pub machine: u16,
    /// Subsystem (10 application, 11 boot-service driver, 12 runtime driver).
    pub subsystem: u16,
    /// DllCharacteristics flags (e.g. [`DLL_NX_COMPAT`]).
    pub dll_characteristics: u16,
    /// Section alignment in memory.
    pub section_alignment: u32,
    /// Section alignment in the file.
    pub file_alignment: u32,
    /// Size of all headers in the file.
    pub size_of_headers: u32,
    /// Size of the image in memory.
    pub size_of_image: u32,
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, PeError> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]])).ok_or(PeError::Truncated)
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, PeError> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]])).ok_or(PeError::Truncated)
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Offsets within the PE32+ optional header.
mod opt {
    pub const MAGIC: usize = 0;
    pub const SIZE_OF_INITIALIZED_DATA: usize = 8;
    pub const SECTION_ALIGNMENT: usize = 32;
    pub const FILE_ALIGNMENT: usize = 36;
    pub const SIZE_OF_IMAGE: usize = 56;
    pub const SIZE_OF_HEADERS: usize = 60;
    pub const CHECKSUM: usize = 64;
    pub const SUBSYSTEM: usize = 68;
    pub const DLL_CHARACTERISTICS: usize = 70;
    pub const NUMBER_OF_RVA_AND_SIZES: usize = 108;
    pub const DATA_DIRECTORIES: usize = 112;
    /// Index of the certificate table (Authenticode signatures).
    pub const SECURITY_DIRECTORY: usize = 4;
}

impl<'a> Pe<'a> {
    /// Validates the headers of a PE32+ image (a file, or an image loaded in memory).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, PeError> {
        if bytes.get(..2) != Some(b"MZ") {
            return Err(PeError::NotMz);
        }
        let pe = u32_at(bytes, 0x3c)? as usize;
        if bytes.get(pe..pe + 4) != Some(b"PE\0\0") {
            return Err(PeError::NotPe);
        }
        let coff = pe + 4;
        let machine = u16_at(bytes, coff)?;
        let count = usize::from(u16_at(bytes, coff + 2)?);
        let opt_size = usize::from(u16_at(bytes, coff + 16)?);
        let opt = coff + 20;
        if u16_at(bytes, opt + opt::MAGIC)? != 0x20b {
            return Err(PeError::NotPe32Plus);
        }
        if opt_size < opt::DATA_DIRECTORIES {
            return Err(PeError::Truncated);
        }
        let table = opt + opt_size;
        let mut sections = Vec::with_capacity(count);
        for i in 0..count {
            let at = table + i * 40;
            let name: [u8; 8] = bytes.get(at..at + 8).ok_or(PeError::Truncated)?.try_into().expect("8 bytes");
            sections.push(Section {
                name,
                virtual_size: u32_at(bytes, at + 8)?,
                virtual_address: u32_at(bytes, at + 12)?,
                raw_size: u32_at(bytes, at + 16)?,
                raw_offset: u32_at(bytes, at + 20)?,
                characteristics: u32_at(bytes, at + 36)?,
            });
        }
        let section_alignment = u32_at(bytes, opt + opt::SECTION_ALIGNMENT)?;
        let file_alignment = u32_at(bytes, opt + opt::FILE_ALIGNMENT)?;
        // The format caps the file alignment at 64 KiB; a larger one would make adding a
        // section pad the file by as much (a 1 GiB alignment exhausted memory: found by
        // fuzzing).
        if !section_alignment.is_power_of_two()
            || !file_alignment.is_power_of_two()
            || file_alignment > MAX_FILE_ALIGNMENT
        {
            return Err(PeError::BadAlignment);
        }
        Ok(Self {
            bytes,
            coff,
            opt,
            table,
            sections,
            machine,
            subsystem: u16_at(bytes, opt + opt::SUBSYSTEM)?,
            dll_characteristics: u16_at(bytes, opt + opt::DLL_CHARACTERISTICS)?,
            section_alignment,
            file_alignment,
            size_of_headers: u32_at(bytes, opt + opt::SIZE_OF_HEADERS)?,
            size_of_image: u32_at(bytes, opt + opt::SIZE_OF_IMAGE)?,
        })
    }

    /// The section headers.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The section called `name` (NUL-padded to 8 bytes).
    pub fn section(&self, name: &[u8; 8]) -> Option<&Section> {
        self.sections.iter().find(|s| &s.name == name)
    }

    /// A section's contents in a file.
    pub fn file_data(&self, s: &Section) -> Result<&'a [u8], PeError> {
        let start = s.raw_offset as usize;
        let len = s.raw_size.min(s.virtual_size) as usize;
        self.bytes.get(start..start + len).ok_or(PeError::Truncated)
    }

    /// A section's contents in an image loaded in memory.
    pub fn memory_data(&self, s: &Section) -> Result<&'a [u8], PeError> {
        let start = s.virtual_address as usize;
        self.bytes.get(start..start + s.virtual_size as usize).ok_or(PeError::Truncated)
    }

    pub(crate) fn directory(&self, index: usize) -> Result<(u32, u32), PeError> {
        let count = u32_at(self.bytes, self.opt + opt::NUMBER_OF_RVA_AND_SIZES)? as usize;
        if index >= count {
            return Ok((0, 0));
        }
        let at = self.opt + opt::DATA_DIRECTORIES + index * 8;
        Ok((u32_at(self.bytes, at)?, u32_at(self.bytes, at + 4)?))
    }

    /// Whether an Authenticode signature is attached.
    pub fn is_signed(&self) -> Result<bool, PeError> {
        Ok(self.directory(opt::SECURITY_DIRECTORY)?.1 != 0)
    }

    /// The stored checksum.
    pub fn checksum(&self) -> Result<u32, PeError> {
        u32_at(self.bytes, self.opt + opt::CHECKSUM)
    }

    /// Byte range of the checksum field in the file.
    pub fn checksum_range(&self) -> Range<usize> {
        self.opt + opt::CHECKSUM..self.opt + opt::CHECKSUM + 4
    }
}

/// The PE checksum (as `CheckSumMappedFile` computes it) of a file whose checksum field
/// is at `field`.
pub fn pe_checksum(file: &[u8], field: Range<usize>) -> u32 {
    let mut sum: u64 = 0;
    let mut i = 0;
    while i < file.len() {
        let word = if field.contains(&i) {
            0
        } else {
            let lo = file[i];
            let hi = if i + 1 < file.len() && !field.contains(&(i + 1)) { file[i + 1] } else { 0 };
            u64::from(u16::from_le_bytes([lo, hi]))
        };
        sum += word;
        sum = (sum & 0xffff) + (sum >> 16);
        i += 2;
    }
    sum = (sum & 0xffff) + (sum >> 16);
    (sum as u32) + file.len() as u32
}

/// Returns a copy of the PE file `file` with a new initialized-data section `name`
/// holding `data`, and the image size, data size and checksum updated.
pub fn add_section(file: &[u8], name: [u8; 8], data: &[u8]) -> Result<Vec<u8>, PeError> {
    let pe = Pe::parse(file)?;
    if pe.is_signed()? {
        return Err(PeError::Signed);
    }
    if pe.section(&name).is_some() {
        return Err(PeError::SectionExists);
    }
    let count = pe.sections.len();
    let entry = pe.table + count * 40;
    let first_raw =
        pe.sections.iter().map(|s| s.raw_offset).filter(|&o| o != 0).min().unwrap_or(pe.size_of_headers);
    // The new header must fit in the headers as declared and as present in the file (a
    // declared SizeOfHeaders can exceed the file: found by fuzzing).
    if entry + 40 > (pe.size_of_headers.min(first_raw) as usize).min(file.len()) {
        return Err(PeError::NoRoomForSection);
    }
    // All arithmetic in u64, every result checked to fit the u32 fields it goes into:
    // section headers are untrusted input.
    let fit = |v: u64| u32::try_from(v).map_err(|_| PeError::BadLayout);
    let up = |v: u64, a: u32| v.div_ceil(u64::from(a)) * u64::from(a);
    let len = u64::try_from(data.len()).map_err(|_| PeError::BadLayout)?;
    for s in &pe.sections {
        if s.raw_size != 0 && u64::from(s.raw_offset) + u64::from(s.raw_size) > file.len() as u64 {
            return Err(PeError::Truncated);
        }
    }
    let end_va = pe
        .sections
        .iter()
        .map(|s| u64::from(s.virtual_address) + u64::from(s.virtual_size.max(s.raw_size)))
        .max()
        .unwrap_or(0);
    let va = fit(up(end_va.max(u64::from(pe.size_of_headers)), pe.section_alignment))?;
    let raw_offset = fit(up(file.len() as u64, pe.file_alignment))?;
    let raw_size = fit(up(len, pe.file_alignment))?;
    let image_size = fit(up(u64::from(va) + len, pe.section_alignment))?;
    fit(u64::from(raw_offset) + u64::from(raw_size))?;
    let len = fit(len)?;

    let mut out = file.to_vec();
    out.resize(raw_offset as usize, 0);
    out.extend_from_slice(data);
    out.resize((raw_offset + raw_size) as usize, 0);

    let s = &mut out[entry..entry + 40];
    s.fill(0);
    s[..8].copy_from_slice(&name);
    put_u32(s, 8, len);
    put_u32(s, 12, va);
    put_u32(s, 16, raw_size);
    put_u32(s, 20, raw_offset);
    put_u32(s, 36, SCN_INITIALIZED_READ);
    put_u16(&mut out, pe.coff + 2, (count + 1) as u16);
    put_u32(&mut out, pe.opt + opt::SIZE_OF_IMAGE, image_size);
    let init = u32_at(&out, pe.opt + opt::SIZE_OF_INITIALIZED_DATA)?;
    put_u32(&mut out, pe.opt + opt::SIZE_OF_INITIALIZED_DATA, init.saturating_add(raw_size));
    let field = pe.checksum_range();
    let sum = pe_checksum(&out, field.clone());
    out[field].copy_from_slice(&sum.to_le_bytes());
    Ok(out)
}

/// Returns a copy of `file` with the subsystem set (10 application, 11 boot-service
/// driver) and the checksum recomputed.
pub fn with_subsystem(file: &[u8], subsystem: u16) -> Result<Vec<u8>, PeError> {
    let pe = Pe::parse(file)?;
    if pe.is_signed()? {
        return Err(PeError::Signed);
    }
    let mut out = file.to_vec();
    put_u16(&mut out, pe.opt + opt::SUBSYSTEM, subsystem);
    let field = pe.checksum_range();
    let sum = pe_checksum(&out, field.clone());
    out[field].copy_from_slice(&sum.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::vec;

    /// A minimal PE32+ file: headers in 0x400 bytes, one `.text` section.
    pub(crate) fn tiny_pe() -> Vec<u8> {
        let mut f = vec![0u8; 0x600];
        f[..2].copy_from_slice(b"MZ");
        put_u32(&mut f, 0x3c, 0x80);
        f[0x80..0x84].copy_from_slice(b"PE\0\0");
        let coff = 0x84;
        put_u16(&mut f, coff, 0x8664);
        put_u16(&mut f, coff + 2, 1);
        put_u16(&mut f, coff + 16, 240);
        let opt = coff + 20;
        put_u16(&mut f, opt, 0x20b);
        put_u32(&mut f, opt + opt::SECTION_ALIGNMENT, 0x1000);
        put_u32(&mut f, opt + opt::FILE_ALIGNMENT, 0x200);
        put_u32(&mut f, opt + opt::SIZE_OF_IMAGE, 0x2000);
        put_u32(&mut f, opt + opt::SIZE_OF_HEADERS, 0x400);
        put_u16(&mut f, opt + opt::SUBSYSTEM, 10);
        put_u16(&mut f, opt + opt::DLL_CHARACTERISTICS, DLL_NX_COMPAT | 0x0040);
        put_u32(&mut f, opt + opt::NUMBER_OF_RVA_AND_SIZES, 16);
        let sec = opt + 240;
        f[sec..sec + 8].copy_from_slice(b".text\0\0\0");
        put_u32(&mut f, sec + 8, 0x10);
        put_u32(&mut f, sec + 12, 0x1000);
        put_u32(&mut f, sec + 16, 0x200);
        put_u32(&mut f, sec + 20, 0x400);
        f[0x400..0x410].copy_from_slice(b"code code code!!");
        f
    }

    #[test]
    fn refuses_alignments_the_format_does_not_allow() {
        let mut f = tiny_pe();
        let opt = 0x84 + 20;
        put_u32(&mut f, opt + opt::FILE_ALIGNMENT, 0x4000_0000);
        assert_eq!(Pe::parse(&f).err(), Some(PeError::BadAlignment));
        assert_eq!(add_section(&f, CONFIG_SECTION, b"x").err(), Some(PeError::BadAlignment));
        put_u32(&mut f, opt + opt::FILE_ALIGNMENT, 0x1_0000);
        assert!(add_section(&f, CONFIG_SECTION, b"x").is_ok());
        put_u32(&mut f, opt + opt::FILE_ALIGNMENT, 0x300);
        assert_eq!(Pe::parse(&f).err(), Some(PeError::BadAlignment));
    }

    #[test]
    fn adds_and_finds_a_section() {
        let f = tiny_pe();
        let out = add_section(&f, CONFIG_SECTION, b"config bytes").unwrap();
        let pe = Pe::parse(&out).unwrap();
        assert_eq!(pe.sections().len(), 2);
        let s = *pe.section(&CONFIG_SECTION).unwrap();
        assert_eq!((s.virtual_address, s.virtual_size, s.raw_offset, s.raw_size), (0x2000, 12, 0x600, 0x200));
        assert_eq!(pe.file_data(&s).unwrap(), b"config bytes");
        assert_eq!(pe.size_of_image, 0x3000);
        assert_eq!(pe.checksum().unwrap(), pe_checksum(&out, pe.checksum_range()));
        assert_eq!(out.len(), 0x800);
        // The untouched section is still there, and the same name cannot be added twice.
        assert_eq!(pe.file_data(pe.section(b".text\0\0\0").unwrap()).unwrap(), b"code code code!!");
        assert_eq!(add_section(&out, CONFIG_SECTION, b"x"), Err(PeError::SectionExists));
        let driver = with_subsystem(&out, 11).unwrap();
        let pe = Pe::parse(&driver).unwrap();
        assert_eq!(pe.subsystem, 11);
        assert_eq!(pe.dll_characteristics, DLL_NX_COMPAT | 0x0040, "the flags next to the subsystem stay");
        assert_eq!(pe.checksum().unwrap(), pe_checksum(&driver, pe.checksum_range()));
    }

    /// Found by fuzzing: section fields near the top of the address space overflowed.
    #[test]
    fn out_of_range_sections_are_refused_not_overflowed() {
        let mut f = tiny_pe();
        let sec = 0x84 + 20 + 240;
        put_u32(&mut f, sec + 12, 0xffff_f000);
        put_u32(&mut f, sec + 8, 0x2000);
        assert_eq!(add_section(&f, CONFIG_SECTION, b"x"), Err(PeError::BadLayout));
        let mut f = tiny_pe();
        put_u32(&mut f, sec + 20, 0xffff_ff00);
        assert_eq!(add_section(&f, CONFIG_SECTION, b"x"), Err(PeError::Truncated));
    }

    /// Found by fuzzing: a section table declared past the end of the file.
    #[test]
    fn a_section_table_beyond_the_file_is_refused() {
        let mut f = tiny_pe();
        let (coff, opt) = (0x84, 0x84 + 20);
        put_u16(&mut f, coff + 2, 0);
        put_u16(&mut f, coff + 16, 0xf000);
        put_u32(&mut f, opt + opt::SIZE_OF_HEADERS, 0x10000);
        assert!(Pe::parse(&f).is_ok());
        assert_eq!(add_section(&f, CONFIG_SECTION, b"x"), Err(PeError::NoRoomForSection));
    }

    #[test]
    fn loaded_layout() {
        // Lay the file out as a loader would and find the section by virtual address.
        let out = add_section(&tiny_pe(), CONFIG_SECTION, b"cfg").unwrap();
        let pe = Pe::parse(&out).unwrap();
        let mut mem = vec![0u8; pe.size_of_image as usize];
        mem[..0x400].copy_from_slice(&out[..0x400]);
        for s in pe.sections() {
            let data = pe.file_data(s).unwrap();
            mem[s.virtual_address as usize..][..data.len()].copy_from_slice(data);
        }
        let loaded = Pe::parse(&mem).unwrap();
        assert_eq!(loaded.memory_data(loaded.section(&CONFIG_SECTION).unwrap()).unwrap(), b"cfg");
    }

    #[test]
    fn refusals() {
        assert_eq!(Pe::parse(b"hello").unwrap_err(), PeError::NotMz);
        let mut f = tiny_pe();
        f[0x80] = b'X';
        assert_eq!(Pe::parse(&f).unwrap_err(), PeError::NotPe);
        let mut signed = tiny_pe();
        let dir = 0x84 + 20 + opt::DATA_DIRECTORIES + opt::SECURITY_DIRECTORY * 8;
        put_u32(&mut signed, dir, 0x600);
        put_u32(&mut signed, dir + 4, 0x100);
        assert_eq!(add_section(&signed, CONFIG_SECTION, b"x"), Err(PeError::Signed));
        assert_eq!(Pe::parse(&tiny_pe()[..0x100]).unwrap_err(), PeError::Truncated);
    }
}
