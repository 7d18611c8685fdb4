//! `sanboot` of the local disk on BIOS, as iPXE's `sanboot --drive 0x80` does: the
//! drive's first sector, read through the BIOS (INT 13h), is started at 0x7C00 in real
//! mode with the drive number in DL, as the BIOS itself starts a boot sector. Nothing of
//! this firmware is needed after that; the NICs are stopped first.
//!
//! A disk or CD image (`sanboot URI`) becomes a drive first, served from RAM by the
//! resident handler of `san.rs`, and boots the same way (a CD through El Torito).

use alloc::string::String;

use bootsign_firmware_core::hash::PartialSha256;
use bootsign_firmware_core::proof::ImageProof;
use bootsign_script::San;

use crate::thunk::{self, Regs};

/// Where the boot sector goes, and is started.
const BOOT_SECTOR: usize = 0x7c00;
/// Tries of the read: floppy drives may need the motor to spin up.
const TRIES: u32 = 3;

/// Boots from the local disk `san` names; returns only when that cannot be done, saying
/// why. `release` stops the NICs first.
pub fn boot(
    san: &San<'_, ImageProof, PartialSha256>,
    release: impl FnOnce() -> Result<(), String>,
) -> String {
    if let Some(disk) = san.disk() {
        return crate::san::boot(disk, san.drive, release);
    }
    if san.needs_platform_check {
        return String::from(
            "imgtrust is in force, and nothing checks what a disk boots on BIOS (there is no Secure Boot): \
             the local disk is not started",
        );
    }
    if san.filename.is_some() {
        return String::from(
            "--filename names a file on an EFI system partition; a BIOS starts the disk's boot sector",
        );
    }
    let Ok(drive) = u8::try_from(san.drive) else {
        return alloc::format!("drive {:#x} is not a BIOS drive number (0x00-0xff)", san.drive);
    };
    if let Err(why) = release() {
        return why;
    }
    start_drive(drive)
}

/// Reads the first sector of BIOS drive `drive` to 0x7C00 and starts it there; returns
/// only when that cannot be done, saying why.
pub fn start_drive(drive: u8) -> String {
    let mut last = 0;
    for _ in 0..TRIES {
        // INT 13h AH=02h: one sector, cylinder 0, head 0, sector 1, to 0000:7C00; every
        // BIOS drive (floppy, disk, CD in emulation) answers it.
        let mut regs = Regs {
            eax: 0x0201,
            ecx: 0x0001,
            edx: u32::from(drive),
            ebx: BOOT_SECTOR as u32,
            ..Regs::default()
        };
        thunk::int(0x13, &mut regs);
        if regs.eflags & 1 == 0 {
            last = 0;
            break;
        }
        last = (regs.eax >> 8) & 0xff;
        // Reset the drive before trying again.
        thunk::int(0x13, &mut Regs { edx: u32::from(drive), ..Regs::default() });
    }
    if last != 0 {
        return alloc::format!(
            "cannot read the first sector of drive {drive:#04x} (INT 13h error {last:#04x})"
        );
    }
    // SAFETY: 0x7C00-0x7DFF is conventional memory the BIOS read into (identity-mapped).
    let signature = unsafe { core::ptr::read_volatile((BOOT_SECTOR + 510) as *const [u8; 2]) };
    if signature != [0x55, 0xaa] {
        return alloc::format!("drive {drive:#04x} has no boot sector (no 55 AA signature)");
    }
    crate::println!("Booting from drive {drive:#04x}");
    // The boot sector is entered as the BIOS enters it: real mode at 0000:7C00, DL the
    // drive; it does not come back.
    let mut regs = Regs { edx: u32::from(drive), ..Regs::default() };
    thunk::call([BOOT_SECTOR as u16, 0], &mut regs);
    alloc::format!("the boot sector of drive {drive:#04x} returned")
}
