//! PCI configuration space through the PC's configuration mechanism #1 (ports 0xCF8 and
//! 0xCFC), which every PC chipset has; devices by iPXE's `busdevfn` (bus << 8 | device
//! << 3 | function).

use crate::port::{inl, outl};

/// The configuration dword at `offset` (rounded down to 4) of function `busdevfn`.
fn dword(busdevfn: u16, offset: u8) -> u32 {
    outl(0xcf8, 0x8000_0000 | u32::from(busdevfn) << 8 | u32::from(offset & 0xfc));
    inl(0xcfc)
}

/// Whether a function answers at `busdevfn` (its vendor ID is not all ones or zeros).
pub fn present(busdevfn: u16) -> bool {
    let id = dword(busdevfn, 0);
    id != 0xffff_ffff && id != 0
}

/// `len` bytes of configuration space from `offset`, in the order they lie there (the
/// registers are little-endian); past the 256 bytes of standard space, 0xff.
pub fn read(busdevfn: u16, offset: u8, len: u8) -> alloc::vec::Vec<u8> {
    (0..u16::from(len))
        .map(|i| {
            let at = u16::from(offset) + i;
            match u8::try_from(at) {
                Ok(at) => (dword(busdevfn, at) >> (8 * (at & 3))) as u8,
                Err(_) => 0xff,
            }
        })
        .collect()
}
