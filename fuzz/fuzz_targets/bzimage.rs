//! Arbitrary bytes as a Linux kernel image, with a command line and an initrd placement
//! taken from the input: reading the header and planning the 16-bit entry must never
//! panic; a plan keeps the real-mode part's length and honours the limits it checked.
#![no_main]

use bootsign_bzimage::Kernel;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, image)) = data.split_first() else { return };
    let Ok(kernel) = Kernel::parse(image) else { return };
    assert_eq!(kernel.setup().len() + kernel.protected_mode().len(), image.len());
    let _ = (kernel.initrd_addr_max(), kernel.decompress_range(), kernel.reserved());
    let cmdline = "console=ttyS0 vga=0x317 ".repeat(usize::from(knobs) * 4);
    let at = u64::from(knobs) << 24;
    let initrd = (knobs & 1 == 1).then_some((at, u64::from(knobs) << 12));
    let free = 0x10_0000..(u64::from(knobs) + 1) << 22;
    if let Ok(setup) = kernel.plan(&cmdline, initrd, free.clone()) {
        assert_eq!(setup.len(), kernel.setup().len());
        assert!(cmdline.len() <= kernel.cmdline_max());
        assert!(kernel.reserved().end <= free.end);
    }
});
