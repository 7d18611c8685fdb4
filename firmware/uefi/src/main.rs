//! The bootsign firmware core: a UEFI program that brings up the network, runs the boot
//! script embedded by `bootsign build` (or the built-in default: DHCP, then chain the
//! DHCP boot file), verifies what it downloads against the embedded trust anchors and
//! boots it.
//!
//! This crate is the thin UEFI platform layer over the shared core (`../core`: the
//! network stack and drivers, downloads, verification). Everything that parses or decides (the
//! configuration format, HTTP, DHCP settings, the script language, X.509 and CMS) lives
//! in the no_std crates under `crates/`, tested on the host; `unsafe` appears only here,
//! in the modules that touch UEFI pointers, each block with its SAFETY comment.
#![no_std]
#![no_main]

extern crate alloc;

// The platform-independent part, shared with the BIOS firmware.
use bootsign_firmware_core::{hash, proof};

mod allocator;
mod clock;
mod config;
mod console;
mod driver;
mod fitness;
mod launch;
mod machine;
mod nics;
mod pci;
mod pe_loader;
mod rng;
mod san;
mod secure_boot;
mod security_override;
mod shim;
mod smbios;
mod snp;
mod tpm;

use alloc::string::String;
use uefi::prelude::*;

/// Lets `bootsign inspect` tell which firmware an image carries. The banner reads the
/// version from it, so the linker keeps it.
static VERSION_MARKER: &str = concat!("BOOTSIGN-FIRMWARE-VERSION=", env!("CARGO_PKG_VERSION"), "\0");

fn version() -> &'static str {
    // The prefix is skipped by length: spelling it out again would put a second copy in
    // the image.
    let marker = core::hint::black_box(VERSION_MARKER);
    marker.get(26..marker.len() - 1).unwrap_or("?")
}

#[entry]
fn main() -> Status {
    bootsign_firmware_core::console::set(&console::CONSOLE);
    if driver::loaded_as_driver() {
        // From an option ROM: stay resident and offer a boot option for the NIC.
        return driver::install();
    }
    banner();
    let Err(why) = run();
    println!("bootsign: {why}");
    println!("bootsign: nothing was booted");
    Status::LOAD_ERROR
}

/// Disarms the watchdog and says who is running, and whether Secure Boot is on.
fn banner() {
    // OVMF arms a five-minute watchdog before starting a boot option; a long download
    // must not reset the machine.
    let _ = boot::set_watchdog_timer(0, 0x10000, None);
    println!("bootsign firmware {}", version());
    println!("bootsign: Secure Boot {}", secure_boot::state());
}

/// The network boot: returns only when nothing was booted.
fn run() -> Result<core::convert::Infallible, String> {
    let clock = clock::calibrate();
    println!("bootsign: {}", bootsign_firmware_core::rng::init(&clock, rng::platform()).describe());
    let cfg = config::load()?;
    // An unknown policy name or value stops here: it may be a requirement this firmware
    // would otherwise not enforce.
    let policy = cfg.policy().map_err(|e| alloc::format!("the embedded configuration is unusable: {e}"))?;
    println!("bootsign: {}", bootsign_firmware_core::machine::trust_summary(&cfg));
    let script = cfg.script.unwrap_or(bootsign_firmware_core::machine::DEFAULT_SCRIPT);
    let machine = machine::Firmware::new(clock, cfg, policy)?;
    Err(bootsign_firmware_core::machine::run_script(machine, policy, script))
}
