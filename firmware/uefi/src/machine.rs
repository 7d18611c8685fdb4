//! The UEFI platform's side of the script language: the console, keys, PCI, SMBIOS,
//! SAN, booting and power. The network, downloads and signature checks are the core's
//! [`MachineCore`], which this forwards to.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use bootsign_config::{Config, Policy};
use bootsign_dhcp::client::ClientArch;
use bootsign_firmware_core::clock::Clock;
use bootsign_firmware_core::machine::MachineCore;
use bootsign_script::{Boot, Machine};
use uefi::boot;
use uefi::runtime::{self, ResetType};

use crate::hash::PartialSha256;
use crate::proof::ImageProof;

/// The machine the script runs on.
pub struct Firmware {
    core: MachineCore,
}

impl Firmware {
    /// The firmware with its embedded configuration; the NICs are opened on first use.
    /// Fails when an embedded CRL cannot be read: revocations must not be lost quietly.
    pub fn new(clock: Clock, config: Config<'static>, policy: Policy) -> Result<Self, String> {
        let core = MachineCore::new(
            clock,
            config,
            policy,
            ClientArch::UEFI_X86_64,
            crate::nics::open_all,
            crate::smbios::table().and_then(|(t, v)| bootsign_firmware_core::machine::smbios_uuid(&t, v)),
        )?;
        Ok(Self { core })
    }
}

impl Machine for Firmware {
    type Proof = ImageProof;
    type Meta = PartialSha256;

    bootsign_firmware_core::forward_to_core!(core);

    fn print(&mut self, text: &str) {
        crate::console::print(text);
    }

    fn boot(&mut self, boot: Boot<'_, ImageProof, PartialSha256>) -> String {
        crate::println!("{}", bootsign_firmware_core::machine::boot_line(&boot));
        // The started program gets the NICs (and the platform's network stack) back.
        if let Err(why) = self.core.release_nics() {
            return why;
        }
        crate::launch::start(&boot)
    }

    fn pci_next(&self, from: u32) -> Option<u16> {
        let mut found: Option<u16> = None;
        crate::pci::each_function(|busdevfn, _| {
            if u32::from(busdevfn) >= from && found.is_none_or(|f| busdevfn < f) {
                found = Some(busdevfn);
            }
            None::<()>
        });
        found
    }

    fn pci_read(&self, busdevfn: u16, offset: u8, len: u8) -> Option<Vec<u8>> {
        crate::pci::each_function(|at, pci| {
            (at == busdevfn).then(|| {
                (0..len)
                    .map(|i| {
                        let at = u32::from(offset) + u32::from(i);
                        pci.config_read(at, crate::pci::Width::U8).map_or(0xff, |v| v as u8)
                    })
                    .collect()
            })
        })
    }

    fn sanboot(&mut self, san: bootsign_script::San<'_, ImageProof, PartialSha256>) -> String {
        crate::san::boot(&san)
    }

    fn sanhook(
        &mut self,
        san: bootsign_script::San<'_, ImageProof, PartialSha256>,
    ) -> Result<String, String> {
        crate::san::hook(&san)
    }

    fn smbios(&mut self) -> Option<(Vec<u8>, (u8, u8))> {
        crate::smbios::table()
    }

    fn key(&mut self, timeout_ms: Option<u64>) -> Option<bootsign_script::ui::Key> {
        crate::console::key(timeout_ms, &self.core.clock())
    }

    fn clear_screen(&mut self) {
        crate::console::clear();
    }

    fn erase(&mut self, count: usize) {
        crate::console::erase(count);
    }

    fn colours(&mut self, foreground: Option<u8>, background: Option<u8>) {
        crate::console::colours(foreground, background);
    }

    fn console_size(&mut self, width: u32, height: u32) -> Result<(), String> {
        let (columns, rows) = crate::console::set_size(width, height)?;
        crate::println!("console: {columns} x {rows} characters");
        Ok(())
    }

    fn sleep(&mut self, seconds: u64) {
        boot::stall(Duration::from_secs(seconds));
    }

    fn reboot(&mut self) -> String {
        runtime::reset(ResetType::COLD, uefi::Status::SUCCESS, None)
    }

    fn poweroff(&mut self) -> String {
        runtime::reset(ResetType::SHUTDOWN, uefi::Status::SUCCESS, None)
    }
}
