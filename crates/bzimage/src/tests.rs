use alloc::string::ToString;
use alloc::vec;

use super::*;

/// A bzImage of protocol `version` with `sects` setup sectors and `pm` bytes of
/// protected-mode part, as a 6.x kernel's header has it (relocatable, 2 MiB aligned,
/// 16 MiB preferred, `init` bytes to decompress into).
fn image(version: u16, sects: u8, pm: usize, init: u32) -> Vec<u8> {
    let setup = (usize::from(if sects == 0 { 4 } else { sects }) + 1) * 512;
    let mut b = vec![0u8; setup + pm];
    b[SETUP_SECTS] = sects;
    b[BOOT_FLAG..BOOT_FLAG + 2].copy_from_slice(&0xaa55u16.to_le_bytes());
    b[HEADER..HEADER + 4].copy_from_slice(b"HdrS");
    b[VERSION..VERSION + 2].copy_from_slice(&version.to_le_bytes());
    b[LOADFLAGS] = LOADED_HIGH;
    b[CODE32_START..CODE32_START + 4].copy_from_slice(&KERNEL_AT.to_le_bytes());
    b[INITRD_ADDR_MAX..INITRD_ADDR_MAX + 4].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    b[KERNEL_ALIGNMENT..KERNEL_ALIGNMENT + 4].copy_from_slice(&0x20_0000u32.to_le_bytes());
    b[RELOCATABLE] = 1;
    b[CMDLINE_SIZE..CMDLINE_SIZE + 4].copy_from_slice(&2047u32.to_le_bytes());
    b[PREF_ADDRESS..PREF_ADDRESS + 8].copy_from_slice(&0x100_0000u64.to_le_bytes());
    b[INIT_SIZE..INIT_SIZE + 4].copy_from_slice(&init.to_le_bytes());
    for (i, byte) in b[setup..].iter_mut().enumerate() {
        *byte = i as u8;
    }
    b
}

const FREE: Range<u64> = 0x10_0000..0x800_0000;

#[test]
fn reads_a_modern_header_and_splits_the_image() {
    let b = image(0x020f, 39, 0x7000, 0x3f9_8000);
    let k = Kernel::parse(&b).unwrap();
    assert_eq!(k.version(), 0x020f);
    assert_eq!(k.setup().len(), 40 * 512);
    assert_eq!(k.protected_mode().len(), 0x7000);
    assert_eq!(k.protected_mode()[..3], [0, 1, 2]);
    assert_eq!(k.cmdline_max(), 2047);
    assert_eq!(k.initrd_addr_max(), 0x7fff_ffff);
    // Relocatable, loaded at 1 MiB: decompressed at its preferred 16 MiB.
    assert_eq!(k.decompress_range(), 0x100_0000..0x100_0000 + 0x3f9_8000);
    assert_eq!(k.reserved(), 0x10_0000..0x100_0000 + 0x3f9_8000);
}

#[test]
fn zero_setup_sectors_means_four() {
    let b = image(0x020f, 0, 0x1000, 0x10_0000);
    assert_eq!(Kernel::parse(&b).unwrap().setup().len(), 5 * 512);
}

#[test]
fn the_plan_fills_in_the_header_as_the_16_bit_entry_needs() {
    let b = image(0x020f, 39, 0x7000, 0x100_0000);
    let k = Kernel::parse(&b).unwrap();
    let setup = k.plan("console=ttyS0 quiet", Some((0x900_0000, 0x1234)), 0x10_0000..0x200_0000).unwrap();
    assert_eq!(setup.len(), k.setup().len());
    assert_eq!(setup[TYPE_OF_LOADER], 0xff);
    assert_eq!(setup[LOADFLAGS], LOADED_HIGH | CAN_USE_HEAP);
    assert_eq!(u16_at(&setup, HEAP_END_PTR), 0xe000 - 0x200);
    assert_eq!(u32_at(&setup, CMD_LINE_PTR), 0x1e000);
    assert_eq!(u32_at(&setup, CODE32_START), 0x10_0000);
    assert_eq!(u32_at(&setup, RAMDISK_IMAGE), 0x900_0000);
    assert_eq!(u32_at(&setup, RAMDISK_SIZE), 0x1234);
    assert_eq!(u16_at(&setup, VID_MODE), 0xffff);
    // Everything else as it was.
    let changed: Vec<usize> = (0..setup.len()).filter(|&i| setup[i] != b[i]).collect();
    for i in changed {
        assert!(
            [VID_MODE, TYPE_OF_LOADER, LOADFLAGS, HEAP_END_PTR, CMD_LINE_PTR, RAMDISK_IMAGE, RAMDISK_SIZE]
                .iter()
                .any(|&f| (f..f + 4).contains(&i)),
            "byte {i:#x} changed"
        );
    }
    // No initrd: zeros.
    let setup = k.plan("", None, 0x10_0000..0x200_0000).unwrap();
    assert_eq!((u32_at(&setup, RAMDISK_IMAGE), u32_at(&setup, RAMDISK_SIZE)), (0, 0));
}

#[test]
fn vga_on_the_command_line_sets_the_video_mode() {
    for (cmdline, mode) in [
        ("vga=ask", 0xfffd),
        ("quiet vga=0x317", 0x317),
        ("vga=791 x", 791),
        ("vga=ext", 0xfffe),
        ("vga=ask vga=normal", 0xffff),
        ("novga=1", 0xffff),
        ("vga=junk", 0xffff),
    ] {
        assert_eq!(vid_mode(cmdline), mode, "{cmdline}");
    }
}

#[test]
fn refuses_what_it_cannot_boot_and_says_why() {
    assert_eq!(Kernel::parse(&[0; 100]).unwrap_err(), Error::Truncated { need: VERSION + 2, have: 100 });
    let mut b = image(0x020f, 39, 0x1000, 0x10_0000);
    b[HEADER] = b'X';
    assert_eq!(Kernel::parse(&b).unwrap_err(), Error::NotLinux);
    let b = image(0x0201, 4, 0x1000, 0);
    let e = Kernel::parse(&b).unwrap_err();
    assert_eq!(e, Error::TooOld { version: 0x0201 });
    assert!(e.to_string().contains("2.01 is older than 2.02"), "{e}");
    let mut b = image(0x020f, 39, 0x1000, 0x10_0000);
    b[LOADFLAGS] = 0;
    assert_eq!(Kernel::parse(&b).unwrap_err(), Error::NotBzImage);
    // The setup sectors run past the end of the file.
    let b = image(0x020f, 39, 0x1000, 0x10_0000);
    assert!(matches!(Kernel::parse(&b[..39 * 512]).unwrap_err(), Error::Truncated { .. }));
    // No protected-mode part at all.
    assert!(matches!(Kernel::parse(&b[..40 * 512]).unwrap_err(), Error::Truncated { .. }));
}

#[test]
fn refuses_placements_the_kernel_cannot_live_with() {
    let b = image(0x020f, 39, 0x7000, 0x3f9_8000);
    let k = Kernel::parse(&b).unwrap();
    let long = "x".repeat(2048);
    assert_eq!(k.plan(&long, None, FREE).unwrap_err(), Error::CmdlineTooLong { len: 2048, max: 2047 });
    assert!(k.plan(&long[..2047], None, FREE).is_ok());
    // In the decompression area.
    let e = k.plan("", Some((0x200_0000, 0x1000)), FREE).unwrap_err();
    assert!(e.to_string().contains("overlaps the memory the kernel decompresses into"), "{e}");
    // Ending above initrd_addr_max (its last byte may be at it, not past it).
    assert!(k.plan("", Some((0x7fff_f000, 0x1000)), FREE).is_ok());
    let e = k.plan("", Some((0x7fff_f000, 0x1001)), FREE).unwrap_err();
    assert!(e.to_string().contains("ends above the highest address"), "{e}");
    // The platform keeps memory the kernel needs.
    let e = k.plan("", None, 0x10_0000..0x400_0000).unwrap_err();
    assert_eq!(e, Error::KernelMemory { needed: 0x10_0000..0x4f9_8000, free: 0x10_0000..0x400_0000 });
    assert!(e.to_string().contains("from 0x100000 to 0x4f98000"), "{e}");
}

#[test]
fn older_protocols_have_older_defaults() {
    // 2.02: no initrd_addr_max, cmdline_size or init_size.
    let mut b = image(0x0202, 4, 0x1000, 0);
    for f in [INITRD_ADDR_MAX, CMDLINE_SIZE, INIT_SIZE] {
        b[f..f + 4].fill(0xee);
    }
    let k = Kernel::parse(&b).unwrap();
    assert_eq!(k.cmdline_max(), 255);
    assert_eq!(k.initrd_addr_max(), 0x37ff_ffff);
    assert_eq!(k.decompress_range(), 0x10_0000..0x10_4000);
}
