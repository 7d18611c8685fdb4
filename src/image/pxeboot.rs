//! The BIOS firmware's PXE network boot program ([`crate::firmware::BIOS_PXEBOOT`],
//! `.kpxe`) with its parameters written in: the `.lkrn` it fetches over TFTP (its name,
//! relative to the directory of the boot file the PXE ROM loaded), its length and its
//! CRC-32, so that a `.lkrn` from another build is refused rather than started.

use anyhow::{Result, bail};

const LKRN_LEN: usize = 0x40;
const LKRN_CRC: usize = 0x44;
const LKRN_NAME: usize = 0x48;
/// Room for the name with its NUL.
const NAME_ROOM: usize = 128;

/// The boot program for `lkrn`, fetched as `name`.
pub fn program(name: &str, lkrn: &[u8]) -> Result<Vec<u8>> {
    let mut p = crate::firmware::BIOS_PXEBOOT.to_vec();
    if !p.ends_with(b"BSPX") || p.len() < LKRN_NAME + NAME_ROOM {
        bail!("the PXE boot program in this build is damaged ({} bytes)", p.len());
    }
    // TFTP file names are plain text; the program appends this to the boot file's
    // directory and sends it as it is.
    if name.is_empty() || name.len() >= NAME_ROOM || !name.bytes().all(|b| b.is_ascii_graphic()) {
        bail!("'{name}' cannot be fetched over TFTP by the PXE boot program (printable ASCII, 1-127 bytes)");
    }
    p[LKRN_LEN..LKRN_LEN + 4].copy_from_slice(&u32::try_from(lkrn.len())?.to_le_bytes());
    p[LKRN_CRC..LKRN_CRC + 4].copy_from_slice(&bootsign_config::crc32(lkrn).to_le_bytes());
    p[LKRN_NAME..LKRN_NAME + NAME_ROOM].fill(0);
    p[LKRN_NAME..LKRN_NAME + name.len()].copy_from_slice(name.as_bytes());
    Ok(p)
}

/// What a boot program fetches: the `.lkrn`'s name, length and CRC-32; `None` when
/// `bytes` is not one.
pub fn describe(bytes: &[u8]) -> Option<(String, u32, u32)> {
    let template = crate::firmware::BIOS_PXEBOOT;
    if bytes.len() != template.len() || !bytes.ends_with(b"BSPX") || bytes[..LKRN_LEN] != template[..LKRN_LEN]
    {
        return None;
    }
    let field = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let name = &bytes[LKRN_NAME..LKRN_NAME + NAME_ROOM];
    let name = &name[..name.iter().position(|&b| b == 0).filter(|&n| n > 0)?];
    Some((String::from_utf8_lossy(name).into_owned(), field(LKRN_LEN), field(LKRN_CRC)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_program_names_the_lkrn_with_its_length_and_crc() {
        let lkrn = b"not really a kernel";
        let p = super::program("bootsign.lkrn", lkrn).unwrap();
        assert!(p.len() < 4096, "{} bytes", p.len());
        let (name, len, crc) = super::describe(&p).unwrap();
        assert_eq!((name.as_str(), len), ("bootsign.lkrn", lkrn.len() as u32));
        assert_eq!(crc, bootsign_config::crc32(lkrn));
        assert!(super::describe(crate::firmware::BIOS_PXEBOOT).is_none());
        for bad in ["", "with space.lkrn", &"x".repeat(128)] {
            assert!(super::program(bad, lkrn).is_err(), "{bad:?}");
        }
    }
}
