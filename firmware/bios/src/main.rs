//! The bootsign firmware on legacy BIOS: the platform layer that the shared core
//! (`crates/script` and the other `crates/`) runs on when there is no UEFI.
//!
//! This is the platform's first step: it boots as a Linux bzImage (`.lkrn`: QEMU's
//! `-kernel`, GRUB's `linux16`, SYSLINUX), enters long mode (`prefix.s`), takes its heap
//! from the BIOS memory map, reads the configuration `bootsign build` appended, and runs
//! the embedded script with the same interpreter and trust gate as the UEFI firmware. The
//! console is the screen (VGA text) and the serial port, with keys from the PS/2
//! keyboard and the serial line; scripts get SMBIOS, CPUID and the clock. Networking,
//! downloads, signature checks and booting Linux are the next steps (each says so when a
//! script asks for it).

#![no_std]
#![no_main]

extern crate alloc;

mod boot;
mod heap;
mod machine;
mod pci;
mod port;
mod ps2;
mod serial;
mod time;
mod traps;
mod vga;

use alloc::string::String;

use bootsign_script::{Interpreter, TrustPolicy};

core::arch::global_asm!(include_str!("prefix.s"), options(att_syntax));

/// The version marker `bootsign inspect` reads (as in the UEFI firmware).
#[used]
static VERSION_MARKER: &str = concat!("BOOTSIGN-FIRMWARE-VERSION=", env!("CARGO_PKG_VERSION"), "\0");

/// The script run when the build embedded none.
const DEFAULT_SCRIPT: &str = "#!ipxe\necho bootsign on BIOS: no script was embedded\n";

/// Entered from `prefix.s` in long mode with the setup part's linear address.
#[unsafe(no_mangle)]
extern "C" fn rust_main(setup_base: u32) -> ! {
    serial::init();
    traps::init();
    println!("bootsign firmware {} (BIOS)", env!("CARGO_PKG_VERSION"));
    let why = match run(setup_base) {
        Ok(()) => String::from("the script ended without booting anything"),
        Err(e) => e,
    };
    println!("bootsign: {why}");
    println!("bootsign: nothing was booted");
    machine::power_off()
}

fn run(setup_base: u32) -> Result<(), String> {
    // SAFETY: `prefix.s` passes the linear address of the setup part it ran from, which
    // holds the boot information it filled in and stays untouched below 1 MiB.
    let info = unsafe { boot::BootInfo::at(setup_base) };
    let heap = heap::init(&info)?;
    println!(
        "bootsign: {} MiB of memory ({} E820 entries), heap {} MiB at {:#x}",
        info.usable_bytes() >> 20,
        info.entries().len(),
        heap.1 >> 20,
        heap.0
    );
    let config = boot::config()?;
    let trust = config.policy().map_err(|e| alloc::format!("the embedded policy is unusable: {e}"))?;
    // As on UEFI: trust the build requires holds for the whole run.
    let policy = TrustPolicy::from(trust.require_signed);
    let script = config.script.unwrap_or(DEFAULT_SCRIPT);
    let mut interp = Interpreter::new(machine::Bios::new(&info), policy);
    match interp.run(script, None) {
        Ok(0) => Ok(()),
        Ok(rc) => Err(alloc::format!("the script exited with status {rc}")),
        Err(e) => Err(alloc::format!("script {e}")),
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    println!("bootsign: panic: {info}");
    machine::power_off()
}
