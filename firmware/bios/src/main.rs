//! The bootsign firmware on legacy BIOS: the platform layer that the shared core
//! (`crates/script` and the other `crates/`) runs on when there is no UEFI.
//!
//! It boots as a Linux bzImage (`.lkrn`: QEMU's `-kernel`, GRUB's `linux16`, SYSLINUX),
//! enters long mode (`prefix.s`), takes its heap from the BIOS memory map, reads the
//! configuration `bootsign build` appended, and runs the embedded script with the same
//! interpreter, trust gate, network stack, downloads and signature checks as the UEFI
//! firmware (the core, `../core`). The console is the screen (VGA text) and the serial
//! port, with keys from the BIOS (INT 16h, through a call into real mode: `thunk.rs`)
//! and the serial line; scripts get SMBIOS, CPUID, PCI and the clock; NICs are driven by
//! the core's own drivers (virtio-net, e1000) through PCI configuration ports, or, when
//! it was loaded over PXE (`.kpxe`, `pxeboot.s`), by the PXE ROM's UNDI driver
//! (`undi.rs`); Linux starts through its 16-bit boot protocol (`linux.rs`).

#![no_std]
#![no_main]

extern crate alloc;

mod boot;
mod disk;
mod heap;
mod keyboard;
mod linux;
mod machine;
mod paging;
mod pci;
mod port;
mod san;
mod serial;
mod thunk;
mod time;
mod traps;
mod undi;
mod vga;

use alloc::string::String;

core::arch::global_asm!(include_str!("prefix.s"), options(att_syntax));
// The loader for disk and CD images (the hybrid ISO, the USB image); not part of the
// bzImage itself, the CLI's build.rs extracts it.
core::arch::global_asm!(
    concat!(include_str!("start_bzimage.s"), include_str!("diskboot.s")),
    options(att_syntax)
);
// The PXE network boot program (.kpxe), which fetches this firmware over TFTP; extracted
// by the CLI's build.rs too.
core::arch::global_asm!(
    concat!(include_str!("start_bzimage.s"), include_str!("pxeboot.s")),
    options(att_syntax)
);
// The legacy image of the option ROM, which loads this firmware from the rest of the ROM;
// extracted by the CLI's build.rs too.
core::arch::global_asm!(
    concat!(include_str!("start_bzimage.s"), include_str!("romboot.s")),
    options(att_syntax)
);

/// The version marker `bootsign inspect` reads (as in the UEFI firmware).
#[used]
static VERSION_MARKER: &str = concat!("BOOTSIGN-FIRMWARE-VERSION=", env!("CARGO_PKG_VERSION"), "\0");

/// Entered from `prefix.s` in long mode with the setup part's linear address.
#[unsafe(no_mangle)]
extern "C" fn rust_main(setup_base: u32) -> ! {
    serial::init();
    traps::init();
    bootsign_firmware_core::console::set(&serial::CONSOLE);
    println!("bootsign firmware {} (BIOS)", env!("CARGO_PKG_VERSION"));
    let Err(why) = run(setup_base);
    println!("bootsign: {why}");
    println!("bootsign: nothing was booted");
    machine::give_back()
}

/// The network boot: returns only when nothing was booted, saying why.
fn run(setup_base: u32) -> Result<core::convert::Infallible, String> {
    // SAFETY: `prefix.s` passes the linear address of the setup part it ran from, which
    // holds the boot information it filled in and stays untouched below 1 MiB.
    let info = unsafe { boot::BootInfo::at(setup_base) };
    thunk::init(setup_base);
    if let Some(pxe) = info.pxe() {
        // Without a usable PXE API the NICs are the core's own drivers' (which reset them).
        match undi::init(pxe) {
            Ok(()) => {
                println!("bootsign: loaded over PXE; the network is the PXE ROM's, through its UNDI driver")
            }
            Err(why) => {
                println!("bootsign: loaded over PXE, but {why}: using this firmware's own NIC drivers")
            }
        }
    }
    let heap = heap::init(&info)?;
    let uncached = paging::uncache_devices(&info);
    println!(
        "bootsign: {} MiB of memory ({} E820 entries), heap {} MiB at {:#x}, {} MiB below 4 GiB uncached (not RAM)",
        info.usable_bytes() >> 20,
        info.entries().len(),
        heap.1 >> 20,
        heap.0,
        uncached * 2
    );
    let clock = time::clock();
    println!("bootsign: {}", bootsign_firmware_core::rng::init(&clock, None).describe());
    let config = boot::config()?;
    let policy = config.policy().map_err(|e| alloc::format!("the embedded policy is unusable: {e}"))?;
    println!("bootsign: {}", bootsign_firmware_core::machine::trust_summary(&config));
    let script = config.script.unwrap_or(bootsign_firmware_core::machine::DEFAULT_SCRIPT);
    let machine = machine::Bios::new(config, policy)?;
    Err(bootsign_firmware_core::machine::run_script(machine, policy, script))
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    println!("bootsign: panic: {info}");
    machine::power_off()
}
