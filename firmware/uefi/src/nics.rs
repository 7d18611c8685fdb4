//! Finding the NICs on UEFI: the core's own virtio-net driver takes virtio functions,
//! held exclusively so the platform's driver lets go; every other NIC is reached through
//! the platform's driver and SNP.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use bootsign_firmware_core::net::{Driver, Nic};
use bootsign_firmware_core::pci::Identity;
use uefi::Handle;
use uefi::boot::{self, OpenProtocolAttributes, OpenProtocolParams};

use crate::pci::{self, PciIo, Width};
use crate::snp::SnpDevice;

/// Connects every controller so the platform's PCI and NIC drivers bind (OVMF
/// enumerates devices and exposes network interfaces only after this when it starts a
/// program directly).
pub fn connect_all() {
    if let Ok(handles) = boot::locate_handle_buffer(boot::SearchType::AllHandles) {
        for h in handles.iter() {
            let _ = boot::connect_controller(*h, &[], None, true);
        }
    }
}

/// Which of the core's drivers, if any, runs the function `handle`.
fn core_driver(handle: Handle) -> Option<Driver> {
    // SAFETY: a non-exclusive look at configuration space; the protocol is closed again
    // before this returns and the handle stays valid meanwhile.
    let opened = unsafe {
        boot::open_protocol::<PciIo>(
            OpenProtocolParams { handle, agent: boot::image_handle(), controller: None },
            OpenProtocolAttributes::GetProtocol,
        )
    };
    let mut pci = opened.ok()?;
    let id = Identity::read(|off| pci.config_read(off, Width::U16).ok().map(|v| v as u16));
    // virtio-net only: the platform's virtio driver is slow (one frame per SNP call) and
    // the core's is the faster for it. Intel NICs keep their vendor's UEFI driver, which
    // knows the PHYs of real boards; the core's e1000 driver serves BIOS, where there is
    // no other.
    Driver::for_function(&id).filter(|d| matches!(d, Driver::Virtio(_)))
}

/// Every NIC, in PCI order: first those the core's own drivers run, then the platform's
/// through SNP. A function the core's driver cannot set up goes back to the platform's
/// driver (and is reached through SNP), with a message. The error says why there is none.
pub fn open_all() -> Result<Vec<Nic>, String> {
    if pci::handles().next().is_none() {
        // The platform may not have enumerated PCI yet when it started us directly.
        connect_all();
    }
    let found: Vec<(Handle, Driver)> = pci::handles().filter_map(|h| Some((h, core_driver(h)?))).collect();
    let mut nics = Vec::new();
    for (handle, driver) in found {
        let Some(function) = pci::Function::open(handle) else { continue };
        match Nic::open(driver, Box::new(function)) {
            Ok(nic) => nics.push(nic),
            Err(why) => crate::println!("bootsign: {why}; using the platform's driver"),
        }
    }
    match SnpDevice::open_all(nics.is_empty()) {
        Ok(snp) => nics.extend(snp.into_iter().map(|d| Nic::platform(Box::new(d)))),
        Err(why) if nics.is_empty() => return Err(why),
        Err(_) => {}
    }
    Ok(nics)
}
