//! Laying a PE32+ image out in memory as a loader does, without the platform's loader:
//! headers and sections copied to their virtual addresses, the rest zeroed, and the base
//! relocations applied for the address it was given. Behind shim, whose `LoadImage`
//! starts only images signed by a key it trusts, the firmware starts a kernel it verified
//! itself this way (as systemd's stub does); the platform layer allocates the memory,
//! installs the loaded-image protocol and jumps to the entry point.

use alloc::vec::Vec;
use core::ops::Range;

use crate::{Pe, PeError, u16_at, u32_at};

/// IMAGE_DIRECTORY_ENTRY_BASERELOC.
const RELOC_DIRECTORY: usize = 5;
/// IMAGE_REL_BASED_ABSOLUTE: padding, no change.
const REL_ABSOLUTE: u16 = 0;
/// IMAGE_REL_BASED_DIR64: a 64-bit address to move by the load delta.
const REL_DIR64: u16 = 10;
/// IMAGE_FILE_MACHINE_AMD64.
const MACHINE_X64: u16 = 0x8664;
/// Largest image this lays out (a kernel with an EFI stub is tens of MiB).
pub const MAX_IMAGE: usize = 1 << 30;

/// Why an image cannot be laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The headers are malformed.
    Pe(PeError),
    /// Not an x86-64 image.
    Machine(u16),
    /// Not an EFI application (subsystem 10).
    Subsystem(u16),
    /// The image is larger than [`MAX_IMAGE`] or its sections lie outside SizeOfImage.
    Size,
    /// The entry point lies outside the image.
    Entry,
    /// A base relocation block is malformed or points outside the image.
    Relocation,
    /// A relocation type this loader does not apply.
    RelocationType(u16),
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Pe(e) => write!(f, "{e}"),
            Self::Machine(m) => write!(f, "the image is for machine {m:#06x}, not x86-64"),
            Self::Subsystem(s) => write!(f, "the image's subsystem is {s}, not an EFI application (10)"),
            Self::Size => {
                f.write_str("the image's sections lie outside its declared size, or it is too large")
            }
            Self::Entry => f.write_str("the image's entry point lies outside it"),
            Self::Relocation => f.write_str("the image's base relocations are malformed"),
            Self::RelocationType(t) => write!(f, "the image uses relocation type {t}, which is not applied"),
        }
    }
}

impl From<PeError> for LoadError {
    fn from(e: PeError) -> Self {
        Self::Pe(e)
    }
}

/// Where everything goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    /// Bytes of memory the image needs (SizeOfImage).
    pub size: usize,
    /// The entry point, as an offset from the image's start in memory.
    pub entry: usize,
    /// The address the image was linked for.
    pub preferred_base: u64,
    /// (file range, memory offset) of the headers and each section with file data.
    copies: Vec<(Range<usize>, usize)>,
    /// The base relocation table, in memory.
    relocations: Range<usize>,
}

/// Plans the layout of the EFI application `file`.
pub fn plan(file: &[u8]) -> Result<LoadPlan, LoadError> {
    let pe = Pe::parse(file)?;
    if pe.machine != MACHINE_X64 {
        return Err(LoadError::Machine(pe.machine));
    }
    if pe.subsystem != 10 {
        return Err(LoadError::Subsystem(pe.subsystem));
    }
    let size = pe.size_of_image as usize;
    if size > MAX_IMAGE || size == 0 {
        return Err(LoadError::Size);
    }
    let headers = pe.size_of_headers as usize;
    if headers > size || headers > file.len() {
        return Err(LoadError::Size);
    }
    let mut copies = alloc::vec![(0..headers, 0)];
    for s in pe.sections() {
        let va = s.virtual_address as usize;
        let span = s.virtual_size.max(s.raw_size) as usize;
        if va < headers || va.checked_add(span).is_none_or(|end| end > size) {
            return Err(LoadError::Size);
        }
        let raw = s.raw_size.min(s.virtual_size.max(s.raw_size)) as usize;
        if raw > 0 {
            let start = s.raw_offset as usize;
            let end = start.checked_add(raw).filter(|&e| e <= file.len()).ok_or(LoadError::Size)?;
            // Only the section's declared memory size is filled from the file.
            let len = (end - start).min(if s.virtual_size == 0 { raw } else { s.virtual_size as usize });
            copies.push((start..start + len, va));
        }
    }
    let entry = u32_at(file, pe.opt + 16)? as usize;
    if entry == 0 || entry >= size {
        return Err(LoadError::Entry);
    }
    let preferred_base = u64::from(u32_at(file, pe.opt + 24)?) | u64::from(u32_at(file, pe.opt + 28)?) << 32;
    let (rva, len) = pe.directory(RELOC_DIRECTORY)?;
    let relocations = rva as usize..(rva as usize).saturating_add(len as usize);
    if relocations.end > size {
        return Err(LoadError::Relocation);
    }
    Ok(LoadPlan { size, entry, preferred_base, copies, relocations })
}

/// Lays `file` out into `memory` (at least `plan.size` bytes, which end up at address
/// `base`): zeroes it, copies the headers and sections, and applies the relocations.
pub fn load(file: &[u8], plan: &LoadPlan, memory: &mut [u8], base: u64) -> Result<(), LoadError> {
    let memory = memory.get_mut(..plan.size).ok_or(LoadError::Size)?;
    memory.fill(0);
    for (from, to) in &plan.copies {
        memory[*to..*to + from.len()].copy_from_slice(&file[from.clone()]);
    }
    let delta = base.wrapping_sub(plan.preferred_base);
    let mut at = plan.relocations.start;
    while at + 8 <= plan.relocations.end {
        let page = u32_at(memory, at).map_err(|_| LoadError::Relocation)? as usize;
        let block = u32_at(memory, at + 4).map_err(|_| LoadError::Relocation)? as usize;
        if block < 8 || at + block > plan.relocations.end {
            return Err(LoadError::Relocation);
        }
        for entry in (at + 8..at + block).step_by(2) {
            let word = u16_at(memory, entry).map_err(|_| LoadError::Relocation)?;
            let (kind, offset) = (word >> 12, usize::from(word & 0x0fff));
            match kind {
                REL_ABSOLUTE => {}
                REL_DIR64 => {
                    let target = page
                        .checked_add(offset)
                        .filter(|t| t + 8 <= plan.size)
                        .ok_or(LoadError::Relocation)?;
                    let old = u64::from_le_bytes(memory[target..target + 8].try_into().expect("8 bytes"));
                    memory[target..target + 8].copy_from_slice(&old.wrapping_add(delta).to_le_bytes());
                }
                other => return Err(LoadError::RelocationType(other)),
            }
        }
        at += block;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::put_u32;
    use crate::tests::tiny_pe;

    /// tiny_pe with an entry point, an image base and a relocation block in `.text`.
    fn relocatable() -> Vec<u8> {
        let mut f = tiny_pe();
        let opt = 0x84 + 20;
        put_u32(&mut f, opt + 16, 0x1004); // entry
        put_u32(&mut f, opt + 24, 0x40_0000); // image base (low)
        // A 64-bit pointer at RVA 0x1008 (file 0x408) to base + 0x1000.
        f[0x408..0x410].copy_from_slice(&(0x40_0000u64 + 0x1000).to_le_bytes());
        // The relocation block at RVA 0x1010 (file 0x410): page 0x1000, 12 bytes,
        // DIR64 at offset 8, then an ABSOLUTE pad.
        put_u32(&mut f, 0x410, 0x1000);
        put_u32(&mut f, 0x414, 12);
        f[0x418..0x41a].copy_from_slice(&(0xa000u16 | 8).to_le_bytes());
        f[0x41a..0x41c].copy_from_slice(&0u16.to_le_bytes());
        let dir = opt + 112 + 5 * 8;
        put_u32(&mut f, dir, 0x1010);
        put_u32(&mut f, dir + 4, 12);
        put_u32(&mut f, opt + 240 + 8, 0x20); // .text virtual size covers the block
        f
    }

    #[test]
    fn lays_out_and_relocates() {
        let f = relocatable();
        let plan = plan(&f).unwrap();
        assert_eq!((plan.size, plan.entry, plan.preferred_base), (0x2000, 0x1004, 0x40_0000));
        let mut mem = alloc::vec![0xffu8; 0x2000];
        load(&f, &plan, &mut mem, 0x7700_0000).unwrap();
        assert_eq!(&mem[..2], b"MZ", "the headers");
        assert_eq!(&mem[0x1000..0x1004], b"code", "the section at its virtual address");
        let moved = u64::from_le_bytes(mem[0x1008..0x1010].try_into().unwrap());
        assert_eq!(moved, 0x7700_0000 + 0x1000, "the pointer follows the image");
        assert!(mem[0x1020..].iter().all(|&b| b == 0), "beyond the section's virtual size, zeros");
        // At its preferred base nothing moves.
        load(&f, &plan, &mut mem, 0x40_0000).unwrap();
        assert_eq!(u64::from_le_bytes(mem[0x1008..0x1010].try_into().unwrap()), 0x40_1000);
    }

    #[test]
    fn bad_images_are_refused() {
        let opt = 0x84 + 20;
        let mut f = relocatable();
        f[0x84..0x86].copy_from_slice(&0x14cu16.to_le_bytes());
        assert_eq!(plan(&f), Err(LoadError::Machine(0x14c)));
        let mut f = relocatable();
        f[opt + 68..opt + 70].copy_from_slice(&11u16.to_le_bytes());
        assert_eq!(plan(&f), Err(LoadError::Subsystem(11)));
        let mut f = relocatable();
        put_u32(&mut f, opt + 16, 0x5000);
        assert_eq!(plan(&f), Err(LoadError::Entry));
        let mut f = relocatable();
        put_u32(&mut f, opt + 240 + 12, 0x1f00); // section past SizeOfImage
        assert_eq!(plan(&f), Err(LoadError::Size));
        // A relocation outside the image, a block shorter than its header, an unknown type.
        let mut f = relocatable();
        f[0x418..0x41a].copy_from_slice(&(0xa000u16 | 0xffc).to_le_bytes());
        put_u32(&mut f, 0x410, 0x1ff8);
        let p = plan(&f).unwrap();
        assert_eq!(load(&f, &p, &mut alloc::vec![0; 0x2000], 1), Err(LoadError::Relocation));
        let mut f = relocatable();
        put_u32(&mut f, 0x414, 4);
        let p = plan(&f).unwrap();
        assert_eq!(load(&f, &p, &mut alloc::vec![0; 0x2000], 1), Err(LoadError::Relocation));
        let mut f = relocatable();
        f[0x418..0x41a].copy_from_slice(&(0x3000u16 | 8).to_le_bytes());
        let p = plan(&f).unwrap();
        assert_eq!(load(&f, &p, &mut alloc::vec![0; 0x2000], 1), Err(LoadError::RelocationType(3)));
        assert_eq!(load(&f, &p, &mut alloc::vec![0; 0x100], 1), Err(LoadError::Size));
    }
}
