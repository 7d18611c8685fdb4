//! SMBIOS for boot scripts: the entry point the platform publishes, the structure table
//! it points at, and the values iPXE's `smbios` settings read from it — `uuid`,
//! `manufacturer`, `product`, `serial`, `asset`, `board-serial`, and any field by number
//! (`smbios/TYPE.OFFSET.LENGTH`, with an optional leading instance number).
//!
//! Everything is a checked view over bytes that come from firmware tables (and, in the
//! fuzz target, from anywhere): no structure or string is read past its end, a table
//! that ends early simply has fewer structures, and checksums are verified.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use core::fmt;

/// What is wrong with an entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Neither `_SM_` nor `_SM3_`.
    NoAnchor,
    /// Shorter than its own length field says, or than the format needs.
    Truncated,
    /// The bytes do not sum to zero.
    Checksum,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoAnchor => "not an SMBIOS entry point (no _SM_ or _SM3_ anchor)",
            Self::Truncated => "the SMBIOS entry point is cut short",
            Self::Checksum => "the SMBIOS entry point's checksum is wrong",
        })
    }
}

/// Where the structure table is, from a 2.x (`_SM_`) or 3.x (`_SM3_`) entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryPoint {
    /// The table's physical address.
    pub address: u64,
    /// Its length (for 3.x, the most it may be).
    pub length: u32,
    /// The SMBIOS version (major, minor).
    pub version: (u8, u8),
}

fn checksum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b)) == 0
}

impl EntryPoint {
    /// How many bytes the entry point at `head` (its first 7 bytes or more) says it has,
    /// so a caller reading platform memory reads no further than that.
    pub fn declared_len(head: &[u8]) -> Option<usize> {
        if head.starts_with(b"_SM3_") {
            head.get(6).map(|l| usize::from(*l).max(0x18))
        } else if head.starts_with(b"_SM_") {
            head.get(5).map(|l| usize::from(*l).max(0x1f))
        } else {
            None
        }
    }

    /// Parses an entry point; `bytes` may run on past its end.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.starts_with(b"_SM3_") {
            let len = usize::from(*bytes.get(6).ok_or(Error::Truncated)?);
            let ep = bytes.get(..len.max(0x18)).ok_or(Error::Truncated)?;
            if len < 0x18 {
                return Err(Error::Truncated);
            }
            if !checksum_ok(&ep[..len]) {
                return Err(Error::Checksum);
            }
            return Ok(Self {
                address: u64::from_le_bytes(ep[0x10..0x18].try_into().expect("8 bytes")),
                length: u32::from_le_bytes(ep[0x0c..0x10].try_into().expect("4 bytes")),
                version: (ep[7], ep[8]),
            });
        }
        if bytes.starts_with(b"_SM_") {
            let len = usize::from(*bytes.get(5).ok_or(Error::Truncated)?);
            // 0x1f, or 0x1e as SMBIOS 2.1 once said in error (dmidecode takes it too).
            if len < 0x1e {
                return Err(Error::Truncated);
            }
            let ep = bytes.get(..len.max(0x1f)).ok_or(Error::Truncated)?;
            // The whole structure, and the intermediate one (`_DMI_`) at 0x10.
            if !checksum_ok(&ep[..len]) || !checksum_ok(&ep[0x10..0x1f]) {
                return Err(Error::Checksum);
            }
            return Ok(Self {
                address: u64::from(u32::from_le_bytes(ep[0x18..0x1c].try_into().expect("4 bytes"))),
                length: u32::from(u16::from_le_bytes([ep[0x16], ep[0x17]])),
                version: (ep[6], ep[7]),
            });
        }
        Err(Error::NoAnchor)
    }
}

/// One structure: its type, its formatted area (header included, as SMBIOS offsets count
/// from the header) and its strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Structure<'a> {
    /// The structure type (1 system, 2 base board, 3 enclosure, ...).
    pub ty: u8,
    /// The formatted area, from the header on.
    pub formatted: &'a [u8],
    /// The strings, numbered from 1.
    pub strings: Vec<&'a [u8]>,
}

impl Structure<'_> {
    /// String number `n` (from 1).
    pub fn string(&self, n: u8) -> Option<&[u8]> {
        self.strings.get(usize::from(n).checked_sub(1)?).copied()
    }
}

/// The structure table, with the SMBIOS version (which decides UUID byte order).
#[derive(Clone, Debug)]
pub struct Table<'a> {
    bytes: &'a [u8],
    version: (u8, u8),
}

impl<'a> Table<'a> {
    /// The table in `bytes`.
    pub fn new(bytes: &'a [u8], version: (u8, u8)) -> Self {
        Self { bytes, version }
    }

    /// The structures up to the end-of-table one (type 127) or the end of the bytes;
    /// a structure that runs past the end is not returned.
    pub fn structures(&self) -> Vec<Structure<'a>> {
        let mut out = Vec::new();
        let mut rest = self.bytes;
        while rest.len() >= 4 {
            let (ty, len) = (rest[0], usize::from(rest[1]));
            if len < 4 || len > rest.len() {
                break;
            }
            let (formatted, after) = rest.split_at(len);
            // The string set: NUL-terminated strings, ended by an empty one; a structure
            // without strings has two NULs.
            let Some(end) = after.windows(2).position(|w| w == [0, 0]) else { break };
            let strings = after[..end].split(|b| *b == 0).filter(|s| !s.is_empty()).collect();
            out.push(Structure { ty, formatted, strings });
            rest = &after[end + 2..];
            if ty == 127 {
                break;
            }
        }
        out
    }

    /// The `instance`th (from 0) structure of type `ty`.
    pub fn structure(&self, ty: u8, instance: u8) -> Option<Structure<'a>> {
        self.structures().into_iter().filter(|s| s.ty == ty).nth(usize::from(instance))
    }

    /// What iPXE's smbios settings give for `tag`: the value and whether it is a string
    /// (otherwise raw bytes). `as_uuid` asks for a UUID's bytes in iPXE's (big-endian)
    /// order: SMBIOS 2.6 and later store the first three fields little-endian.
    pub fn read(&self, tag: Tag, as_uuid: bool) -> Option<(Vec<u8>, bool)> {
        let s = self.structure(tag.ty, tag.instance)?;
        let src = s.formatted;
        let offset = usize::from(tag.offset);
        let (mut value, is_string) = if tag.offset == 0 && tag.length == 0 {
            (src.to_vec(), false)
        } else if tag.offset == 0 || tag.length == 0 {
            let n = if tag.length != 0 { tag.length } else { *src.get(offset)? };
            (s.string(n)?.to_vec(), true)
        } else if offset > src.len() {
            (Vec::new(), false)
        } else {
            let end = (offset + usize::from(tag.length)).min(src.len());
            (src[offset..end].to_vec(), false)
        };
        if as_uuid && value.len() == 16 && self.version >= (2, 6) {
            value[..4].reverse();
            value[4..6].reverse();
            value[6..8].reverse();
        }
        Some((value, is_string))
    }
}

/// Which bytes a setting reads: the `instance`th structure of type `ty`, at `offset`,
/// `length` bytes; a zero length means the byte at `offset` numbers a string, a zero
/// offset that `length` does, and both zero the whole structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag {
    /// Which structure of its type (from 0).
    pub instance: u8,
    /// The structure type.
    pub ty: u8,
    /// The byte offset from the header.
    pub offset: u8,
    /// The length, or 0 for a string.
    pub length: u8,
}

impl Tag {
    /// `[INSTANCE.]TYPE.OFFSET.LENGTH`, each a decimal or `0x` number under 256.
    pub fn parse(text: &str) -> Option<Self> {
        let mut v = [0u8; 4];
        let parts: Vec<&str> = text.split('.').collect();
        if !(3..=4).contains(&parts.len()) {
            return None;
        }
        let skip = 4 - parts.len();
        for (slot, p) in v[skip..].iter_mut().zip(&parts) {
            *slot = match p.strip_prefix("0x") {
                Some(h) => u8::from_str_radix(h, 16).ok()?,
                None => p.parse().ok()?,
            };
        }
        Some(Self { instance: v[0], ty: v[1], offset: v[2], length: v[3] })
    }

    /// The tag of a named setting, and whether it is a UUID.
    pub fn named(name: &str) -> Option<(Self, bool)> {
        let t = |ty, offset, length| Self { instance: 0, ty, offset, length };
        Some(match name {
            "uuid" => (t(1, 8, 16), true),
            "manufacturer" => (t(1, 4, 0), false),
            "product" => (t(1, 5, 0), false),
            "serial" => (t(1, 7, 0), false),
            "asset" => (t(3, 8, 0), false),
            "board-serial" => (t(2, 7, 0), false),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests;
