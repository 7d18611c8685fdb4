//! The bootsign firmware core: a UEFI program that brings up the network, runs the boot
//! script embedded by `bootsign build` (or the built-in default: DHCP, then chain the
//! DHCP boot file), verifies what it downloads against the embedded trust anchors and
//! boots it.
//!
//! This crate is the thin platform layer. Everything that parses or decides (the
//! configuration format, HTTP, DHCP settings, the script language, X.509 and CMS) lives
//! in the no_std crates under `crates/`, tested on the host; `unsafe` appears only here,
//! in the modules that touch UEFI pointers, each block with its SAFETY comment.
#![no_std]
#![no_main]

extern crate alloc;

// The platform-independent part, shared with the BIOS firmware.
use bootsign_firmware_core::{aes_gcm_ni, chacha_sse2, hash, sha256_ni};

mod allocator;
mod clock;
mod config;
mod conn;
mod console;
mod driver;
mod fetch;
mod fitness;
mod launch;
mod machine;
mod net;
mod ntp;
mod pci;
mod pe_loader;
mod pool;
mod proof;
mod rng;
mod san;
mod secure_boot;
mod security_override;
mod shim;
mod smbios;
mod tpm;

use alloc::string::String;
use uefi::prelude::*;

use bootsign_script::{Interpreter, TrustPolicy};

/// Lets `bootsign inspect` tell which firmware an image carries. The banner reads the
/// version from it, so the linker keeps it.
static VERSION_MARKER: &str = concat!("BOOTSIGN-FIRMWARE-VERSION=", env!("CARGO_PKG_VERSION"), "\0");

fn version() -> &'static str {
    // The prefix is skipped by length: spelling it out again would put a second copy in
    // the image.
    let marker = core::hint::black_box(VERSION_MARKER);
    marker.get(26..marker.len() - 1).unwrap_or("?")
}

/// The script run when the image embeds none: `examples/default.ipxe`, which the script
/// crate's tests run.
const DEFAULT_SCRIPT: &str = include_str!("../../../examples/default.ipxe");

#[entry]
fn main() -> Status {
    if driver::loaded_as_driver() {
        // From an option ROM: stay resident and offer a boot option for the NIC.
        return driver::install();
    }
    banner();
    match run() {
        Ok(()) => Status::SUCCESS,
        Err(why) => {
            println!("bootsign: {why}");
            println!("bootsign: nothing was booted");
            Status::LOAD_ERROR
        }
    }
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
fn run() -> Result<(), String> {
    let clock = clock::Clock::calibrate();
    println!("bootsign: {}", rng::init(&clock).describe());
    let cfg = config::load()?;
    // An unknown policy name or value stops here: it may be a requirement this firmware
    // would otherwise not enforce.
    let policy = cfg.policy().map_err(|e| alloc::format!("the embedded configuration is unusable: {e}"))?;
    // Trust the build demands can never be relaxed by a script.
    let trust = TrustPolicy::from(policy.require_signed);
    println!(
        "bootsign: {} trusted root(s), {} certificate(s){}{}{}",
        cfg.anchors.len(),
        cfg.certs.len(),
        match cfg.crls.len() {
            0 => String::new(),
            n => alloc::format!(", {n} CRL(s)"),
        },
        if cfg.key.is_some() { ", client key" } else { "" },
        match (sha256_ni::supported(), aes_gcm_ni::supported()) {
            (true, true) => ", SHA-256 and AES-GCM on the CPU's SHA and AES instructions",
            (true, false) => ", SHA-256 on the CPU's SHA extensions",
            (false, true) => ", AES-GCM on the CPU's AES instructions",
            (false, false) => "",
        }
    );
    let script = cfg.script.unwrap_or(DEFAULT_SCRIPT);
    let machine = machine::Firmware::new(clock, cfg, policy)?;
    let mut interp = Interpreter::new(machine, trust);
    // Like iPXE's autoboot, configure the network first, so scripts can use
    // ${next-server} and friends without a `dhcp` line; a script's own `dhcp` renews.
    if policy.autodhcp
        && let Err(e) = interp.run("dhcp\n", None)
    {
        println!("bootsign: {}; continuing without a network configuration", e.message);
    }
    match interp.run(script, None) {
        Ok(0) => Err("the script ended without booting anything".into()),
        Ok(rc) => Err(alloc::format!("the script exited with status {rc}")),
        Err(e) => Err(alloc::format!("script {e}")),
    }
}
