//! The EFI system partition: a FAT file system holding `EFI/BOOT/BOOTX64.EFI`, made in
//! memory with a fixed volume ID and timestamps (SOURCE_DATE_EPOCH when set, else
//! 1980-01-01, the first DOS date), so the same program gives the same bytes.

use std::io::{Cursor, Write};

use anyhow::{Context, Result};

/// Sector size of the file system.
pub const SECTOR: usize = 512;

/// File times for reproducible images.
#[derive(Debug)]
struct FixedTime(fatfs::DateTime);

impl fatfs::TimeProvider for FixedTime {
    fn get_current_date(&self) -> fatfs::Date {
        self.0.date
    }
    fn get_current_date_time(&self) -> fatfs::DateTime {
        self.0
    }
}

/// The time images record: SOURCE_DATE_EPOCH, else 1980-01-01 00:00:00 UTC.
pub fn image_time() -> crate::image::iso::IsoTime {
    let t = fixed_time().0;
    crate::image::iso::IsoTime {
        parts: [t.date.year, t.date.month, t.date.day, t.time.hour, t.time.min, t.time.sec],
    }
}

fn fixed_time() -> &'static FixedTime {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(315_532_800);
    // DOS dates run from 1980 to 2107, in two-second steps.
    let secs = secs.clamp(315_532_800, 4_354_819_198);
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .expect("clamped to DOS range");
    let time = fatfs::DateTime {
        date: fatfs::Date { year: dt.year(), month: u16::from(dt.month()), day: u16::from(dt.day()) },
        time: fatfs::Time {
            hour: u16::from(dt.hour()),
            min: u16::from(dt.minutes()),
            sec: u16::from(dt.seconds()) & !1,
            millis: 0,
        },
    };
    Box::leak(Box::new(FixedTime(time)))
}

/// A FAT image of at least `min_bytes`, holding `efi` as `EFI/BOOT/BOOTX64.EFI`.
pub fn esp_image(efi: &[u8], min_bytes: usize) -> Result<Vec<u8>> {
    // Room for the file, the FATs and directories, rounded up to whole MiB.
    let size = (efi.len() * 11 / 10 + 512 * 1024).max(min_bytes).div_ceil(1 << 20) << 20;
    let mut disk = Cursor::new(vec![0u8; size]);
    let options = fatfs::FormatVolumeOptions::new()
        .volume_id(0x4253_4954) // "BSIT": fixed, for reproducible images
        .volume_label(*b"BOOTSIGN   ")
        .total_sectors((size / SECTOR) as u32);
    fatfs::format_volume(&mut disk, options).context("cannot format the EFI system partition")?;
    {
        let fs = fatfs::FileSystem::new(&mut disk, fatfs::FsOptions::new().time_provider(fixed_time()))
            .context("cannot open the new EFI system partition")?;
        let boot = fs.root_dir().create_dir("EFI").and_then(|d| d.create_dir("BOOT"))?;
        let mut file = boot.create_file("BOOTX64.EFI")?;
        file.write_all(efi)?;
        file.flush()?;
    }
    Ok(disk.into_inner())
}
