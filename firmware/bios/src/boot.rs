//! What the real-mode prefix left for the core: the BIOS memory map (E820) and the
//! configuration `bootsign build` appended to the image.

use alloc::string::String;

use bootsign_config::Config;

/// One E820 entry: base, length, type (1 = usable RAM), extended attributes.
#[derive(Clone, Copy, Debug)]
#[repr(C, packed)]
pub struct E820 {
    pub base: u64,
    pub length: u64,
    pub kind: u32,
    pub attributes: u32,
}

impl E820 {
    /// Usable RAM (type 1, and not marked ignored by ACPI 3's attributes).
    pub fn usable(&self) -> bool {
        self.kind == 1 && self.attributes & 1 == 1
    }
}

/// `boot_info` in `prefix.s`.
#[repr(C, packed)]
struct Raw {
    setup_base: u32,
    count: u16,
    _pad: u16,
    pxe: u32,
    map: [E820; 64],
}

/// The boot information, read once.
pub struct BootInfo {
    entries: [E820; 64],
    count: usize,
    pxe: u32,
}

unsafe extern "C" {
    /// `boot_info`'s offset in the setup part (linked at 0).
    static boot_info: u8;
    /// Where `prefix.s` put the appended configuration, and its length (0: none).
    static config_addr: u32;
    static config_len: u32;
    /// The end of .bss (linker script).
    static bss_end: u8;
}

impl BootInfo {
    /// Reads the boot information in the setup part at `setup_base`.
    ///
    /// SAFETY (for callers): `setup_base` must be the linear address `prefix.s` passed.
    pub unsafe fn at(setup_base: u32) -> Self {
        let offset = (&raw const boot_info) as usize;
        // SAFETY: the setup part lies at `setup_base`, identity-mapped, with `boot_info`
        // at `offset`; the read is unaligned-safe.
        let raw = unsafe { core::ptr::read_unaligned((setup_base as usize + offset) as *const Raw) };
        Self { entries: raw.map, count: usize::from(raw.count).min(64), pxe: raw.pxe }
    }

    /// The PXE API's `!PXE` structure as a real-mode far pointer (offset, segment), when
    /// the PXE boot program (`pxeboot.s`) loaded this firmware.
    pub fn pxe(&self) -> Option<[u16; 2]> {
        (self.pxe != 0).then_some([self.pxe as u16, (self.pxe >> 16) as u16])
    }

    pub fn entries(&self) -> &[E820] {
        &self.entries[..self.count]
    }

    /// Bytes of usable RAM.
    pub fn usable_bytes(&self) -> u64 {
        self.entries().iter().filter(|e| e.usable()).map(|e| e.length).sum()
    }
}

/// The embedded configuration; an empty one (which trusts nothing) when there is none.
pub fn config() -> Result<Config<'static>, String> {
    // SAFETY: written once by `prefix.s` before any Rust ran.
    let (addr, len) = unsafe { (config_addr, config_len) };
    if len == 0 {
        return Ok(Config::default());
    }
    // SAFETY: `prefix.s` copied `len` bytes to `addr`, past .bss and below the heap
    // (heap.rs starts it after them), and nothing writes there again.
    let bytes: &'static [u8] =
        unsafe { core::slice::from_raw_parts(addr as usize as *const u8, len as usize) };
    Config::decode(bytes).map_err(|e| alloc::format!("the embedded configuration is unusable: {e}"))
}

/// The end of what the firmware occupies above 1 MiB: its image, its .bss, and the
/// configuration copied after them (the heap starts above).
pub fn image_top() -> u64 {
    // SAFETY: as in `config`; `bss_end` is a linker symbol, only its address is used.
    let (addr, len) = unsafe { (config_addr, config_len) };
    let bss = (&raw const bss_end) as u64;
    bss.max(u64::from(addr) + u64::from(len))
}
