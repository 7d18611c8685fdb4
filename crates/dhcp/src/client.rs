//! What the client says about itself in every DHCP message, as iPXE does: its
//! architecture (option 93), network interface (option 94), the PXE vendor class
//! (option 60, `PXEClient:Arch:AAAAA:UNDI:MMMmmm`) and its machine's UUID (option 97). DHCP servers choose boot files by
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

/// Option 97 (client machine identifier) for the SMBIOS UUID `uuid` (as `${uuid}` shows
/// it, network byte order): type 0, then the UUID with its first three fields
/// little-endian, as iPXE sends it (RFC 4578 follows the EFI layout).
pub fn uuid_option(uuid: &[u8; 16]) -> Vec<u8> {
    let mut out = alloc::vec![0u8];
    out.extend_from_slice(uuid);
    out[1..5].reverse();
    out[5..7].reverse();
    out[7..9].reverse();
    out
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

    #[test]
    fn the_uuid_as_ipxe_sends_it() {
        // 8ce7c2a0-5a0e-4f4d-9a0b-0123456789ab
        let uuid =
            [0x8c, 0xe7, 0xc2, 0xa0, 0x5a, 0x0e, 0x4f, 0x4d, 0x9a, 0x0b, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab];
        assert_eq!(
            uuid_option(&uuid),
            [
                0, 0xa0, 0xc2, 0xe7, 0x8c, 0x0e, 0x5a, 0x4d, 0x4f, 0x9a, 0x0b, 0x01, 0x23, 0x45, 0x67, 0x89,
                0xab
            ]
        );
    }
}
