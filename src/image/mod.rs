//! Packaging the configured firmware as bootable media.

pub mod esp;
pub mod gpt;

/// The EFI program inside a disk image (GPT with an ESP holding EFI/BOOT/BOOTX64.EFI):
/// the format's name and the program's bytes.
pub fn find_efi(file: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    let esp = gpt::esp_of(file)?;
    let efi = esp::read_boot_program(esp)?;
    Some(("USB disk image", efi))
}
