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
use bootsign_pki::text::escape;
use bootsign_script::{Boot, Machine};
use uefi::boot;
use uefi::runtime::{self, ResetType};

use crate::hash::PartialSha256;
use crate::proof::ImageProof;

/// The machine the script runs on.
pub struct Firmware {
    core: MachineCore,
}

/// The SMBIOS system UUID in network byte order (SMBIOS 2.6 on stores its first three
/// fields little-endian), unless it is absent, all zeros or all ones ("not set").
fn smbios_uuid() -> Option<[u8; 16]> {
    let (table, version) = crate::smbios::table()?;
    let (tag, as_uuid) = bootsign_smbios::Tag::named("uuid")?;
    let (raw, _) = bootsign_smbios::Table::new(&table, version).read(tag, as_uuid)?;
    let uuid: [u8; 16] = raw.try_into().ok()?;
    (uuid != [0; 16] && uuid != [0xff; 16]).then_some(uuid)
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
            smbios_uuid(),
        )?;
        Ok(Self { core })
    }
}

impl Machine for Firmware {
    type Proof = ImageProof;
    type Meta = PartialSha256;

    fn print(&mut self, text: &str) {
        crate::console::print(text);
    }

    fn dhcp(&mut self, iface: &str) -> Result<Vec<(String, String)>, String> {
        self.core.dhcp(iface)
    }

    fn dhcp_any(&mut self) -> Result<(String, Vec<(String, String)>), String> {
        self.core.dhcp_any()
    }

    fn interface(&mut self, command: &str, iface: &str) -> Result<(), String> {
        self.core.interface(command, iface)
    }

    fn fetch(&mut self, uri: &str, timeout_ms: Option<u64>) -> Result<(Vec<u8>, PartialSha256), String> {
        self.core.fetch(uri, timeout_ms)
    }

    fn fetch_form(
        &mut self,
        uri: &str,
        form: &[u8],
        timeout_ms: Option<u64>,
    ) -> Result<(Vec<u8>, PartialSha256), String> {
        self.core.fetch_form(uri, form, timeout_ms)
    }

    fn verify(
        &mut self,
        data: &[u8],
        fetched: &PartialSha256,
        signature: &[u8],
        signer: Option<&str>,
    ) -> Result<(ImageProof, String), String> {
        self.core.verify(data, fetched, signature, signer)
    }

    fn verify_embedded(
        &mut self,
        data: &[u8],
        fetched: &PartialSha256,
        signer: Option<&str>,
    ) -> Result<(ImageProof, String), String> {
        self.core.verify_embedded(data, fetched, signer)
    }

    fn setting_changed(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
        self.core.setting_changed(name, value)
    }

    fn boot(&mut self, boot: Boot<'_, ImageProof, PartialSha256>) -> String {
        let image = boot.image().image();
        let initrds = boot.initrds().len();
        crate::println!(
            "Booting {} ({} bytes, {}){}{}",
            escape(image.name()),
            image.len(),
            if boot.image().is_verified() { "verified" } else { "not verified" },
            if initrds == 0 { String::new() } else { alloc::format!(" with {initrds} initrd(s)") },
            if image.cmdline().is_empty() {
                String::new()
            } else {
                alloc::format!(": {}", escape(image.cmdline()))
            }
        );
        // The started program gets the NICs (and the platform's network stack) back.
        if let Err(why) = self.core.release_nics() {
            return why;
        }
        crate::launch::start(&boot)
    }

    fn ntp(&mut self, server: &str) -> Result<String, String> {
        self.core.ntp(server)
    }

    fn ping(
        &mut self,
        host: &str,
        seq: u16,
        size: usize,
        timeout_ms: u64,
    ) -> Result<(String, usize, u64), String> {
        self.core.ping(host, seq, size, timeout_ms)
    }

    fn resolve(&mut self, host: &str) -> Result<String, String> {
        self.core.resolve(host)
    }

    fn unix_time(&self) -> Option<u64> {
        self.core.clock().unix_time()
    }

    fn now_ms(&self) -> Option<u64> {
        Some(self.core.clock().now_ms())
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

    fn cpuid(&mut self, leaf: u32) -> Option<[u32; 4]> {
        // CPUID exists on every x86-64 processor.
        let r = core::arch::x86_64::__cpuid(leaf);
        Some([r.eax, r.ebx, r.ecx, r.edx])
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

    fn interfaces(&mut self) -> Vec<(String, Vec<(String, String)>)> {
        self.core.interfaces()
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
