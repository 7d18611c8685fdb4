//! Packaging the configured firmware as bootable media.

pub mod esp;
pub mod gpt;
pub mod iso;
pub mod rom;

/// The EFI program inside a disk image (GPT with an ESP holding EFI/BOOT/BOOTX64.EFI):
/// the format's name and the program's bytes.
pub fn find_efi(file: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    if let Some((driver, _)) = rom::driver_of(file) {
        return Some(("PCI expansion ROM", driver.to_vec()));
    }
    if let Some(esp) = iso::esp_of(file) {
        return Some(("hybrid ISO image", esp::read_boot_program(esp)?));
    }
    let esp = gpt::esp_of(file)?;
    Some(("USB disk image", esp::read_boot_program(esp)?))
}
