//! The BIOS machine the script interpreter runs on: the console (screen and serial line;
//! keys from both), CPUID, the SMBIOS table the BIOS publishes in its F-segment, PCI,
//! the clock and the CMOS date, power off. The network, downloads and signature checks
//! are the core's [`MachineCore`], over the core's own NIC drivers; Linux starts through
//! its 16-bit boot protocol (`linux.rs`).

use alloc::string::String;
use alloc::vec::Vec;

use bootsign_config::{Config, Policy};
use bootsign_dhcp::client::ClientArch;
use bootsign_firmware_core::console::Console;
use bootsign_firmware_core::hash::PartialSha256;
use bootsign_firmware_core::machine::MachineCore;
use bootsign_firmware_core::net::Nic;
use bootsign_firmware_core::pci::Width;
use bootsign_firmware_core::proof::ImageProof;
use bootsign_script::ui::Key;
use bootsign_script::{Boot, Machine};

use crate::port::{outb, outw};

/// A key from the serial line: a character, or a terminal's arrow and paging keys
/// (`ESC [ A`, ... `ESC [ 5 ~`), read with a short wait for the rest of the sequence.
fn serial_key() -> Option<Key> {
    let first = crate::serial::read()?;
    if first != 0x1b {
        return Some(Key::Char(char::from(first)));
    }
    let next = |ms: u64| {
        let until = crate::time::now_ms() + ms;
        loop {
            if let Some(b) = crate::serial::read() {
                return Some(b);
            }
            if crate::time::now_ms() >= until {
                return None;
            }
        }
    };
    if next(30) != Some(b'[') {
        return Some(Key::Char('\x1b'));
    }
    Some(match next(30)? {
        b'A' => Key::Up,
        b'B' => Key::Down,
        b'H' => Key::Home,
        b'F' => Key::End,
        b @ (b'5' | b'6') => {
            let _tilde = next(30);
            if b == b'5' { Key::PageUp } else { Key::PageDown }
        }
        _ => return None,
    })
}

pub struct Bios {
    core: MachineCore,
}

impl Bios {
    /// The machine with its embedded configuration; the NICs are opened on first use.
    /// Fails when an embedded CRL cannot be read.
    pub fn new(config: Config<'static>, policy: Policy) -> Result<Self, String> {
        let core = MachineCore::new(
            crate::time::clock(),
            config,
            policy,
            ClientArch::BIOS_X86,
            open_nics,
            smbios_table().and_then(|(t, v)| bootsign_firmware_core::machine::smbios_uuid(&t, v)),
        )?;
        Ok(Self { core })
    }
}

/// The NICs: the PXE ROM's, through its UNDI driver, when the firmware was loaded over
/// PXE (that NIC is the ROM's; undionly.kpxe also drives only it); else every NIC the
/// core's own drivers run.
fn open_nics() -> Result<Vec<Nic>, String> {
    if crate::undi::present() {
        let undi = crate::undi::Undi::open()?;
        return Ok(alloc::vec![Nic::platform(alloc::boxed::Box::new(undi))]);
    }
    crate::pci::open_nics()
}

/// Hands the machine back to the BIOS, as a boot loader that found nothing to boot does:
/// INT 18h, on which the BIOS tries its next boot device (the NICs were stopped when the
/// script machine was dropped). Powers off if the BIOS comes back.
pub fn give_back() -> ! {
    if crate::thunk::ready() {
        crate::println!("bootsign: handing the machine back to the BIOS (its next boot device)");
        crate::thunk::int(0x18, &mut crate::thunk::Regs::default());
    }
    power_off()
}

/// Powers the machine off through ACPI (S5, with the ports and sleep types the
/// platform's FADT and DSDT give); says why not and halts when it cannot.
pub fn power_off() -> ! {
    let why = acpi_power_off().err().unwrap_or_else(|| String::from("the machine did not power off"));
    crate::println!("bootsign: {why}; halting");
    loop {
        // SAFETY: halting with interrupts off ends this program.
        unsafe { core::arch::asm!("cli; hlt", options(nomem, nostack)) };
    }
}

/// Enters S5; returns only when that failed.
fn acpi_power_off() -> Result<(), String> {
    let rsdp = find_rsdp().ok_or("cannot power off: the BIOS publishes no ACPI tables (no RSDP)")?;
    let acpi = bootsign_acpi::power_off(&rsdp, read_physical)
        .map_err(|e| alloc::format!("cannot power off: {e}"))?;
    let fadt = acpi.fadt;
    // ACPI mode first, when the firmware left it off (SCI_EN clear) and says how.
    let port = fadt.pm1a_control;
    if crate::port::device::read(port, Width::U16) & 1 == 0
        && fadt.acpi_enable != 0
        && let Ok(smi @ 1..) = u16::try_from(fadt.smi_command)
    {
        outb(smi, fadt.acpi_enable);
        let until = crate::time::now_ms() + 3000;
        while crate::port::device::read(port, Width::U16) & 1 == 0 && crate::time::now_ms() < until {
            crate::time::sleep_ms(10);
        }
    }
    let (a, b) = acpi.sleep_types;
    outw(port, bootsign_acpi::PowerOff::control_value(a));
    if let Some(pm1b) = fadt.pm1b_control {
        outw(pm1b, bootsign_acpi::PowerOff::control_value(b));
    }
    crate::time::sleep_ms(1000);
    Err(String::from("the machine did not power off (ACPI S5)"))
}

/// The ACPI RSDP: in the first KiB of the EBDA, else in E0000-FFFFF, on 16-byte
/// boundaries, as the BIOS publishes it.
fn find_rsdp() -> Option<Vec<u8>> {
    // SAFETY: the BIOS data area word at 0x40E (the EBDA's segment), identity-mapped.
    let ebda = usize::from(unsafe { core::ptr::read_volatile(0x40e as *const u16) }) << 4;
    let ebda = (0x8_0000..0xa_0000).contains(&ebda).then_some(ebda..ebda + 1024);
    for range in ebda.into_iter().chain(core::iter::once(0xe_0000..0x10_0000)) {
        for at in range.step_by(16) {
            let bytes = read_physical(at as u64, 36)?;
            if bootsign_acpi::Rsdp::parse(&bytes).is_ok() {
                return Some(bytes);
            }
        }
    }
    None
}

/// `len` bytes of physical memory at `addr`, below 4 GiB (what the page tables map).
fn read_physical(addr: u64, len: usize) -> Option<Vec<u8>> {
    let end = addr.checked_add(len as u64)?;
    if addr == 0 || end > 1 << 32 {
        return None;
    }
    // SAFETY: the first 4 GiB are identity-mapped (prefix.s), device pages uncached
    // (paging.rs); ACPI tables and the BIOS areas are readable memory there.
    Some(unsafe { core::slice::from_raw_parts(addr as usize as *const u8, len) }.to_vec())
}

/// The SMBIOS entry point the BIOS leaves on a 16-byte boundary in 0xF0000–0xFFFFF
/// (SMBIOS 3 `_SM3_` first, then 2.x `_SM_`), checked, and its table copied.
fn smbios_table() -> Option<(Vec<u8>, (u8, u8))> {
    for anchor in [&b"_SM3_"[..], &b"_SM_"[..]] {
        for at in (0xf_0000usize..0x10_0000).step_by(16) {
            // SAFETY: the BIOS area is identity-mapped ROM/RAM, readable; 32 bytes fit
            // before 1 MiB at every 16-byte step but the last, which is skipped.
            if at + 32 > 0x10_0000 {
                break;
            }
            let head = unsafe { core::slice::from_raw_parts(at as *const u8, 32) };
            if !head.starts_with(anchor) {
                continue;
            }
            let Some(len) = bootsign_smbios::EntryPoint::declared_len(head) else { continue };
            // SAFETY: as above; the parser checks the length and checksum.
            let whole = unsafe { core::slice::from_raw_parts(at as *const u8, len.min(0x10_0000 - at)) };
            let Ok(ep) = bootsign_smbios::EntryPoint::parse(whole) else { continue };
            let len = ep.length.min(1 << 20) as usize;
            if ep.address == 0 || len == 0 || ep.address >= 4 << 30 {
                continue;
            }
            // SAFETY: the checked entry point names the table in memory the BIOS
            // reserved, below 4 GiB (identity-mapped); it is copied at once.
            let table = unsafe { core::slice::from_raw_parts(ep.address as usize as *const u8, len) };
            return Some((table.to_vec(), ep.version));
        }
    }
    None
}

impl Machine for Bios {
    type Proof = ImageProof;
    type Meta = PartialSha256;
    const PLATFORM: &'static str = "pcbios";

    bootsign_firmware_core::forward_to_core!(core);

    fn print(&mut self, text: &str) {
        crate::serial::CONSOLE.print(text);
    }

    fn boot(&mut self, boot: Boot<'_, ImageProof, PartialSha256>) -> String {
        crate::println!("{}", bootsign_firmware_core::machine::boot_line(&boot));
        let core = &mut self.core;
        crate::linux::boot(&boot, || core.release_nics())
    }

    fn sanboot(&mut self, san: bootsign_script::San<'_, ImageProof, PartialSha256>) -> String {
        let core = &mut self.core;
        crate::disk::boot(&san, || core.release_nics())
    }

    fn sanhook(
        &mut self,
        san: bootsign_script::San<'_, ImageProof, PartialSha256>,
    ) -> Result<String, String> {
        let disk = san.disk().ok_or("sanhook needs a disk image (a name or URI)")?;
        crate::san::hook(disk, san.drive)
    }

    fn pci_next(&self, from: u32) -> Option<u16> {
        (from..=0xffff).map(|b| b as u16).find(|&busdevfn| crate::pci::present(busdevfn))
    }

    fn pci_read(&self, busdevfn: u16, offset: u8, len: u8) -> Option<Vec<u8>> {
        crate::pci::present(busdevfn).then(|| crate::pci::read(busdevfn, offset, len))
    }

    fn smbios(&mut self) -> Option<(Vec<u8>, (u8, u8))> {
        smbios_table()
    }

    fn key(&mut self, timeout_ms: Option<u64>) -> Option<Key> {
        let until = timeout_ms.map(|t| crate::time::now_ms() + t);
        loop {
            if let Some(key) = crate::keyboard::read().or_else(serial_key) {
                return Some(key);
            }
            match until {
                Some(u) if crate::time::now_ms() >= u => return None,
                // Each look at the keyboard is a trip to real mode: a few a second
                // hundred times over is plenty for typing.
                _ => crate::time::sleep_ms(5),
            }
        }
    }

    fn clear_screen(&mut self) {
        crate::vga::clear();
        crate::serial::control("\x1b[2J\x1b[H");
    }

    fn colours(&mut self, foreground: Option<u8>, background: Option<u8>) {
        crate::vga::colours(foreground, background);
        match (foreground, background) {
            (None, None) => crate::serial::control("\x1b[0m"),
            (f, b) => {
                let fg = f.map_or(39, |c| 30 + u32::from(c.min(7)));
                let bg = b.map_or(49, |c| 40 + u32::from(c.min(7)));
                crate::serial::control(&alloc::format!("\x1b[{fg};{bg}m"));
            }
        }
    }

    fn erase(&mut self, count: usize) {
        for _ in 0..count {
            crate::serial::print_raw(format_args!("\x08 \x08"));
        }
    }

    fn sleep(&mut self, seconds: u64) {
        crate::time::sleep_ms(seconds.saturating_mul(1000));
    }

    fn reboot(&mut self) -> String {
        // The reset control register of PC chipsets: a hard reset.
        outb(0xcf9, 0x02);
        outb(0xcf9, 0x06);
        String::from("the machine did not reset")
    }

    fn poweroff(&mut self) -> String {
        power_off()
    }
}
