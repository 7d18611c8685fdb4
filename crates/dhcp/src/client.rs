//! What the client says about itself in every DHCP message, as iPXE does: its
//! architecture (option 93), network interface (option 94) and the PXE vendor class
//! (option 60, `PXEClient:Arch:AAAAA:UNDI:MMMmmm`). DHCP servers choose boot files by
//! them, and ProxyDHCP servers answer only clients whose vendor class starts with
//! `PXEClient`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// A client's architecture (RFC 4578 option 93, in iPXE's numbering) and network
/// interface identifier (option 94: type 1 = UNDI, major, minor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientArch {
    /// Option 93.
    pub arch: u16,
    /// Option 94.
    pub ndi: [u8; 3],
}

impl ClientArch {
    /// x86-64 UEFI, as iPXE's EFI build says it (architecture 7, UNDI 3.10).
    pub const UEFI_X86_64: Self = Self { arch: 0x0007, ndi: [1, 3, 10] };
    /// x86 BIOS, as iPXE's PC BIOS build says it (architecture 0, UNDI 2.1).
    pub const BIOS_X86: Self = Self { arch: 0x0000, ndi: [1, 2, 1] };

    /// Option 60: `PXEClient:Arch:00007:UNDI:003010`.
    pub fn vendor_class(&self) -> String {
        format!("PXEClient:Arch:{:05}:UNDI:{:03}{:03}", self.arch, self.ndi[1], self.ndi[2])
    }

    /// Options 93, 94 and 60 as (code, value) pairs.
    pub fn options(&self) -> Vec<(u8, Vec<u8>)> {
        alloc::vec![
            (93, self.arch.to_be_bytes().to_vec()),
            (94, self.ndi.to_vec()),
            (60, self.vendor_class().into_bytes()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn as_ipxe_says_it() {
        assert_eq!(ClientArch::UEFI_X86_64.vendor_class(), "PXEClient:Arch:00007:UNDI:003010");
        assert_eq!(ClientArch::BIOS_X86.vendor_class(), "PXEClient:Arch:00000:UNDI:002001");
        let o = ClientArch::UEFI_X86_64.options();
        assert_eq!(o[0], (93, vec![0, 7]));
        assert_eq!(o[1], (94, vec![1, 3, 10]));
    }
}
