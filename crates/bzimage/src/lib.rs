//! Linux's x86 boot protocol (the kernel's `Documentation/arch/x86/boot.rst`) from the
//! boot loader's side, for the 16-bit entry that iPXE, ISOLINUX and GRUB's `linux16`
//! use: the kernel's real-mode setup code then asks the BIOS for the memory map, EDD and
//! the video mode itself, so there is no `boot_params` to build.
//!
//! [`Kernel::parse`] reads a bzImage's setup header through a checked view and refuses
//! what this loader cannot start (not a bzImage, a protocol older than 2.02, a kernel
//! that must load below 1 MiB). [`Kernel::plan`] decides where everything goes and
//! returns the real-mode part with its header filled in: where the command line and the
//! initrd are, the heap the setup code may use, the loader's type. Placing the bytes and
//! the jump into real mode are the platform's; nothing here touches memory.
//!
//! The layout, as iPXE's: the real-mode part at [`SETUP_AT`] (0x10000), its heap and
//! stack up to `SETUP_AT + 0xE000`, the command line right after, the protected-mode part
//! at 1 MiB ([`KERNEL_AT`]); the initrd wherever the platform put it, checked here
//! against the kernel's limits and the memory the kernel needs while it decompresses.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

/// Where the real-mode part (boot sector and setup code) is loaded.
pub const SETUP_AT: u32 = 0x1_0000;
/// The end of the setup code's heap and stack, relative to [`SETUP_AT`].
pub const STACK_TOP: u16 = 0xe000;
/// Where the command line goes: after the heap, below the EBDA.
pub const CMDLINE_AT: u32 = SETUP_AT + STACK_TOP as u32;
/// The longest command line this layout has room for (kernels declare 2,047 or 4,095).
pub const CMDLINE_MAX: usize = 0x7fff;
/// Where the protected-mode part is loaded (`code32_start`'s default).
pub const KERNEL_AT: u32 = 0x10_0000;
/// The loader type written to `type_of_loader`: 0xFF, "undefined", as iPXE registers
/// none either.
pub const LOADER_TYPE: u8 = 0xff;

// Setup header offsets (boot.rst).
const SETUP_SECTS: usize = 0x1f1;
const BOOT_FLAG: usize = 0x1fe;
const VID_MODE: usize = 0x1fa;
const HEADER: usize = 0x202;
const VERSION: usize = 0x206;
const TYPE_OF_LOADER: usize = 0x210;
const LOADFLAGS: usize = 0x211;
const CODE32_START: usize = 0x214;
const RAMDISK_IMAGE: usize = 0x218;
const RAMDISK_SIZE: usize = 0x21c;
const HEAP_END_PTR: usize = 0x224;
const CMD_LINE_PTR: usize = 0x228;
const INITRD_ADDR_MAX: usize = 0x22c;
const KERNEL_ALIGNMENT: usize = 0x230;
const RELOCATABLE: usize = 0x234;
const CMDLINE_SIZE: usize = 0x238;
const PREF_ADDRESS: usize = 0x258;
const INIT_SIZE: usize = 0x260;

const LOADED_HIGH: u8 = 0x01;
const CAN_USE_HEAP: u8 = 0x80;
/// `vid_mode`: "normal" (80x25), what iPXE asks for unless `vga=` says otherwise.
const VGA_NORMAL: u16 = 0xffff;
/// `vid_mode`: ask the user (`vga=ask`).
const VGA_ASK: u16 = 0xfffd;
/// `vid_mode`: the mode in effect (`vga=current`... `ext` and the like are left to the
/// kernel's own parsing when given as numbers).
const VGA_EXTENDED: u16 = 0xfffe;

/// Why a kernel cannot be booted this way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Shorter than its own header says, or than any bzImage.
    Truncated { need: usize, have: usize },
    /// No `HdrS` signature, or no 0xAA55 boot flag: not a Linux kernel image.
    NotLinux,
    /// A boot protocol older than 2.02 (Linux before 2.4), which cannot take a command
    /// line above 0x9000 or this layout.
    TooOld { version: u16 },
    /// A zImage (loaded below 1 MiB), not a bzImage.
    NotBzImage,
    /// The command line is longer than the kernel accepts.
    CmdlineTooLong { len: usize, max: usize },
    /// The initrd lies where the kernel may not read it, or where the kernel or its
    /// decompression goes.
    InitrdPlacement { at: u64, len: u64, why: &'static str },
    /// The kernel needs memory at `needed` that the platform keeps for itself.
    KernelMemory { needed: Range<u64>, free: Range<u64> },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { need, have } => {
                write!(f, "the kernel image is truncated: {have} bytes, its header needs {need}")
            }
            Self::NotLinux => f.write_str("not a Linux kernel image (no HdrS boot header)"),
            Self::TooOld { version } => write!(
                f,
                "the kernel's boot protocol {}.{:02} is older than 2.02 (Linux 2.4), which this loader needs",
                version >> 8,
                version & 0xff
            ),
            Self::NotBzImage => {
                f.write_str("a zImage (loaded below 1 MiB): only bzImage kernels are supported")
            }
            Self::CmdlineTooLong { len, max } => {
                write!(f, "the command line is {len} bytes long; this kernel accepts at most {max}")
            }
            Self::InitrdPlacement { at, len, why } => {
                write!(f, "the initrd ({len} bytes at {at:#x}) {why}")
            }
            Self::KernelMemory { needed, free } => write!(
                f,
                "the kernel needs the memory from {:#x} to {:#x} while it starts, and only {:#x} to {:#x} is free",
                needed.start, needed.end, free.start, free.end
            ),
        }
    }
}

/// A checked view of a bzImage.
#[derive(Clone, Copy, Debug)]
pub struct Kernel<'a> {
    bytes: &'a [u8],
    /// Length of the real-mode part: boot sector and setup sectors.
    setup_len: usize,
    version: u16,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | u64::from(u32_at(b, at + 4)) << 32
}

impl<'a> Kernel<'a> {
    /// Reads the setup header of `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        // The header up to `version` at least; fields of later versions are read only
        // when the version has them, and the real-mode part holds them.
        let need = VERSION + 2;
        if bytes.len() < need {
            return Err(Error::Truncated { need, have: bytes.len() });
        }
        if &bytes[HEADER..HEADER + 4] != b"HdrS" || u16_at(bytes, BOOT_FLAG) != 0xaa55 {
            return Err(Error::NotLinux);
        }
        let version = u16_at(bytes, VERSION);
        if version < 0x0202 {
            return Err(Error::TooOld { version });
        }
        let sects = match bytes[SETUP_SECTS] {
            0 => 4,
            n => usize::from(n),
        };
        let setup_len = (sects + 1) * 512;
        // The real-mode part must hold the whole header this protocol version defines,
        // and leave a protected-mode part after it.
        let header_end = if version >= 0x020a { INIT_SIZE + 4 } else { CMDLINE_SIZE + 4 };
        let need = setup_len.max(header_end) + 1;
        if bytes.len() < need {
            return Err(Error::Truncated { need, have: bytes.len() });
        }
        if bytes[LOADFLAGS] & LOADED_HIGH == 0 {
            return Err(Error::NotBzImage);
        }
        // 0xE000 of heap and stack plus the command line must fit below the EBDA.
        if setup_len > usize::from(STACK_TOP) - 0x200 {
            return Err(Error::Truncated { need: setup_len, have: usize::from(STACK_TOP) - 0x200 });
        }
        Ok(Self { bytes, setup_len, version })
    }

    /// The boot protocol version (0x020f: 2.15).
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The real-mode part as it is in the file.
    pub fn setup(&self) -> &'a [u8] {
        &self.bytes[..self.setup_len]
    }

    /// The protected-mode part, to be loaded at [`KERNEL_AT`].
    pub fn protected_mode(&self) -> &'a [u8] {
        &self.bytes[self.setup_len..]
    }

    /// The longest command line the kernel takes, without its NUL; never more than
    /// [`CMDLINE_MAX`], the room this layout leaves it.
    pub fn cmdline_max(&self) -> usize {
        let declared = if self.version >= 0x0206 { u32_at(self.bytes, CMDLINE_SIZE) as usize } else { 255 };
        declared.min(CMDLINE_MAX)
    }

    /// The highest address the initrd may occupy (its last byte).
    pub fn initrd_addr_max(&self) -> u64 {
        if self.version >= 0x0203 { u64::from(u32_at(self.bytes, INITRD_ADDR_MAX)) } else { 0x37ff_ffff }
    }

    /// Where the kernel decompresses itself and how much it needs there: from its
    /// preferred address (`pref_address`, for a relocatable kernel loaded below it; 16 MiB
    /// for older kernels) for `init_size` bytes. Older protocols did not say: then the
    /// protected-mode part's length, four times over, from 1 MiB (what 2.6-era kernels
    /// needed).
    pub fn decompress_range(&self) -> Range<u64> {
        let pm = self.protected_mode().len() as u64;
        if self.version >= 0x020a {
            let init = u64::from(u32_at(self.bytes, INIT_SIZE));
            let pref = u64_at(self.bytes, PREF_ADDRESS);
            let align = u64::from(u32_at(self.bytes, KERNEL_ALIGNMENT)).max(1);
            let relocatable = self.bytes[RELOCATABLE] != 0;
            // The decompressor runs at the load address rounded up to the alignment, but
            // never below its preferred address.
            let at = if relocatable { u64::from(KERNEL_AT).next_multiple_of(align).max(pref) } else { pref };
            at..at.saturating_add(init)
        } else {
            u64::from(KERNEL_AT)..u64::from(KERNEL_AT) + 4 * pm
        }
    }

    /// The memory the kernel uses before it reads the memory map: the protected-mode
    /// part at 1 MiB and its decompression.
    pub fn reserved(&self) -> Range<u64> {
        let load = u64::from(KERNEL_AT)..u64::from(KERNEL_AT) + self.protected_mode().len() as u64;
        let unpack = self.decompress_range();
        load.start.min(unpack.start)..load.end.max(unpack.end)
    }

    /// The real-mode part with its header filled in for `cmdline` at [`CMDLINE_AT`] and
    /// the initrd at `initrd` (address and length; `None` for no initrd), checked against
    /// the kernel's limits and [`Kernel::reserved`], and against `free`: the memory the
    /// platform leaves to the kernel from 1 MiB. The command line goes at [`CMDLINE_AT`]
    /// with a NUL after it; the protected-mode part at [`KERNEL_AT`].
    pub fn plan(
        &self,
        cmdline: &str,
        initrd: Option<(u64, u64)>,
        free: Range<u64>,
    ) -> Result<Vec<u8>, Error> {
        let max = self.cmdline_max();
        if cmdline.len() > max {
            return Err(Error::CmdlineTooLong { len: cmdline.len(), max });
        }
        let reserved = self.reserved();
        if reserved.start < free.start || reserved.end > free.end {
            return Err(Error::KernelMemory { needed: reserved, free });
        }
        if let Some((at, len)) = initrd {
            let end = at.checked_add(len).ok_or(Error::InitrdPlacement { at, len, why: "wraps around" })?;
            if len > 0 && end - 1 > self.initrd_addr_max() {
                return Err(Error::InitrdPlacement {
                    at,
                    len,
                    why: "ends above the highest address this kernel reads an initrd from",
                });
            }
            if at < reserved.end && end > reserved.start {
                return Err(Error::InitrdPlacement {
                    at,
                    len,
                    why: "overlaps the memory the kernel decompresses into",
                });
            }
            if at > u64::from(u32::MAX) || len > u64::from(u32::MAX) {
                return Err(Error::InitrdPlacement { at, len, why: "is above 4 GiB" });
            }
        }
        let mut setup = self.setup().to_vec();
        let mut put16 = |at: usize, v: u16| setup[at..at + 2].copy_from_slice(&v.to_le_bytes());
        put16(VID_MODE, vid_mode(cmdline));
        put16(HEAP_END_PTR, STACK_TOP - 0x200);
        let put32 =
            |setup: &mut Vec<u8>, at: usize, v: u32| setup[at..at + 4].copy_from_slice(&v.to_le_bytes());
        setup[TYPE_OF_LOADER] = LOADER_TYPE;
        setup[LOADFLAGS] |= CAN_USE_HEAP;
        put32(&mut setup, CODE32_START, KERNEL_AT);
        put32(&mut setup, CMD_LINE_PTR, CMDLINE_AT);
        let (at, len) = initrd.unwrap_or((0, 0));
        put32(&mut setup, RAMDISK_IMAGE, at as u32);
        put32(&mut setup, RAMDISK_SIZE, len as u32);
        Ok(setup)
    }
}

/// The `vid_mode` for `cmdline`'s `vga=` (the last one wins, as in the kernel): `normal`,
/// `ext`, `ask` or a number (decimal, or hex with 0x); without one, normal.
fn vid_mode(cmdline: &str) -> u16 {
    let mut mode = VGA_NORMAL;
    for word in cmdline.split(' ') {
        let Some(value) = word.strip_prefix("vga=") else { continue };
        mode = match value {
            "normal" => VGA_NORMAL,
            "ext" => VGA_EXTENDED,
            "ask" => VGA_ASK,
            v => match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
                Some(hex) => u16::from_str_radix(hex, 16).unwrap_or(mode),
                None => v.parse().unwrap_or(mode),
            },
        };
    }
    mode
}

#[cfg(test)]
mod tests;
