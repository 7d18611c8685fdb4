//! The legacy BIOS firmware as a Linux kernel image (`.lkrn`, a bzImage: QEMU's
//! `-kernel`, GRUB's `linux16`, SYSLINUX/PXELINUX `KERNEL`): the prebuilt template with
//! the configuration appended to its protected-mode part, which every loader puts at
//! 1 MiB whole; the firmware finds it right after its own image there.

use anyhow::{Result, bail};

/// Offsets in the bzImage header (Linux `Documentation/arch/x86/boot.rst`).
const SETUP_SECTS: usize = 0x1f1;
const SYSSIZE: usize = 0x1f4;
const HEADER_MAGIC: usize = 0x202;

/// `template` (a bzImage) with `config` (an encoded configuration) after its
/// protected-mode part, padded to 16 bytes, and `syssize` saying so.
pub fn lkrn(template: &[u8], config: &[u8]) -> Result<Vec<u8>> {
    if template.len() < 0x240 || &template[HEADER_MAGIC..HEADER_MAGIC + 4] != b"HdrS" {
        bail!("the BIOS firmware template is not a bzImage (no HdrS header)");
    }
    let setup = (usize::from(template[SETUP_SECTS]) + 1) * 512;
    if setup >= template.len() {
        bail!("the BIOS firmware template has no protected-mode part");
    }
    let mut image = template.to_vec();
    image.extend_from_slice(config);
    image.resize(setup + (image.len() - setup).next_multiple_of(16), 0);
    let paragraphs = u32::try_from((image.len() - setup) / 16)?;
    image[SYSSIZE..SYSSIZE + 4].copy_from_slice(&paragraphs.to_le_bytes());
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_follows_the_core_and_syssize_covers_it() {
        let config = bootsign_config::Config { script: Some("#!ipxe\necho hi\n"), ..Default::default() };
        let blob = config.encode().unwrap();
        let t = crate::firmware::BIOS_TEMPLATE;
        let image = lkrn(t, &blob).unwrap();
        assert_eq!(&image[..SYSSIZE], &t[..SYSSIZE]);
        assert_eq!(&image[SYSSIZE + 4..t.len()], &t[SYSSIZE + 4..]);
        assert_eq!(&image[t.len()..t.len() + blob.len()], &blob[..]);
        let setup = (usize::from(image[SETUP_SECTS]) + 1) * 512;
        let syssize = u32::from_le_bytes(image[SYSSIZE..SYSSIZE + 4].try_into().unwrap()) as usize;
        assert_eq!(setup + syssize * 16, image.len());
        assert!(lkrn(b"not a kernel", &blob).is_err());
    }
}
