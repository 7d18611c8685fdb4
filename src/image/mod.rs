//! Packaging the configured firmware as bootable media, and opening an image file to
//! read its program back (the parsing is `bootsign_image_read`'s, over a [`FileImage`]).

pub mod diskboot;
pub mod esp;
pub mod gpt;
pub mod iso;
pub mod lkrn;
pub mod pxeboot;
pub mod rom;

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::{FileExt, FileTypeExt};
use std::path::Path;

use anyhow::{Context, Result, bail};
use bootsign_image_read::{Error, ReadAt};

use crate::fsx::quote;

/// The largest program `inspect` reads out of an image: some fifty times the firmware.
pub const MAX_PROGRAM: u64 = 64 << 20;

/// An image file or block device, read with positioned reads (nothing is read whole).
pub struct FileImage {
    file: File,
    len: u64,
}

impl FileImage {
    /// Opens a regular file or a block device. Anything else (a character device such
    /// as `/dev/zero`, a FIFO, a socket, a directory) is refused before it is opened, as
    /// it has no length to check the image's structures against.
    pub fn open(path: &Path) -> Result<Self> {
        let name = quote(path);
        let meta = std::fs::metadata(path).with_context(|| format!("failed to read {name}"))?;
        let kind = meta.file_type();
        let what = if kind.is_dir() {
            "a directory"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_fifo() {
            "a FIFO (named pipe)"
        } else if kind.is_socket() {
            "a socket"
        } else {
            ""
        };
        if !what.is_empty() {
            bail!(
                "{name} is {what}, not an image: give an image file (or a block device such as a USB stick)"
            );
        }
        let mut file = File::open(path).with_context(|| format!("failed to read {name}"))?;
        let len = if kind.is_block_device() {
            file.seek(SeekFrom::End(0)).with_context(|| format!("failed to read {name}"))?
        } else {
            meta.len()
        };
        Ok(Self { file, len })
    }
}

impl ReadAt for FileImage {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        self.file.read_exact_at(buf, offset).map_err(|e| Error::Io(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use bootsign_image_read::{Format, read_boot_program};

    use super::*;

    #[test]
    fn every_container_gives_its_program_back() {
        // Odd-sized, so the last cluster is partial.
        let program: Vec<u8> = (0..300_001u32).map(|i| (i * 7 + i / 509) as u8).collect();
        let fat = esp::esp_image(&program, 0).unwrap();
        let usb = gpt::disk_image(&fat, None).unwrap();
        let iso = iso::iso_image(&fat, None, esp::image_time()).unwrap();
        let rom = rom::rom_image(&program, &[rom::PciId::parse("8086:100e").unwrap()]).unwrap();
        for (image, format) in [
            (&fat, Format::Fat),
            (&usb, Format::GptDisk),
            (&iso, Format::Iso { hybrid: true }),
            (&program, Format::Program),
        ] {
            let found = read_boot_program(&mut &image[..], MAX_PROGRAM).unwrap();
            assert_eq!(found.format, format);
            assert!(found.program == program, "{format:?}");
        }
        let found = read_boot_program(&mut &rom[..], MAX_PROGRAM).unwrap();
        assert_eq!((found.format, &found.program[..program.len()]), (Format::Rom, &program[..]));
        // A limit below the program's size is an error, not an allocation.
        let err = read_boot_program(&mut &usb[..], 1000).unwrap_err();
        assert_eq!(err.to_string(), "EFI/BOOT/BOOTX64.EFI is 300001 bytes, more than the 1000 bytes limit");
    }
}
