//! Initrds as Linux reads them: several archives one after another, each starting on a
//! 4-byte boundary (zero padding between them), as iPXE lays them out. Both platforms
//! hand the kernel this one buffer (UEFI through the LoadFile2 initrd protocol, BIOS at
//! the address the boot protocol's header names).

use alloc::vec::Vec;

/// The initrds, concatenated.
pub fn concatenate(initrds: &[&[u8]]) -> Vec<u8> {
    let mut all = Vec::with_capacity(initrds.iter().map(|i| i.len() + 3).sum());
    for initrd in initrds {
        all.resize(all.len().next_multiple_of(4), 0);
        all.extend_from_slice(initrd);
    }
    all
}
