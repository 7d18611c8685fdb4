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

/// The configuration appended to a `.lkrn` (the last thing in it, padded to 16 bytes),
/// or `None` for the plain template.
pub fn config_of(image: &[u8]) -> Option<&[u8]> {
    let magic = &bootsign_config::MAGIC;
    // From the end: the configuration is last, and the core may hold the magic too.
    let tail_start = image.len().saturating_sub(16 << 20);
    let mut end = image.len();
    while let Some(at) = image[tail_start..end].windows(magic.len()).rposition(|w| w == magic) {
        let at = tail_start + at;
        let len = image.get(at + 12..at + 16).map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize);
        if let Some(total) = len.and_then(|l| l.checked_add(bootsign_config::HEADER_LEN))
            && let Some(stop) = at.checked_add(total)
            && stop <= image.len()
            && image.len() - stop < 16
        {
            return Some(&image[at..stop]);
        }
        end = at;
    }
    None
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
        assert_eq!(config_of(&image), Some(&blob[..]));
        assert_eq!(config_of(t), None, "the template's version marker is not a configuration");
    }
}
