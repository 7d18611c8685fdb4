//! PCI through the PC's configuration mechanism #1 (ports 0xCF8 and 0xCFC), which every
//! PC chipset has; devices by iPXE's `busdevfn` (bus << 8 | device << 3 | function). A
//! function the core's drivers take is reached through its BARs (port I/O, or memory
//! below 4 GiB, identity-mapped by `prefix.s`), with DMA memory from the heap, whose
//! addresses are the bus addresses (no IOMMU is set up here).

use alloc::alloc::{Layout, alloc_zeroed, dealloc};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use bootsign_firmware_core::net::{Driver, Nic};
use bootsign_firmware_core::pci::{DmaMemory, Identity, PciFunction, Space, Width};

use crate::port::{device, inl, outb, outl, outw};

/// Selects the configuration dword at `offset` (rounded down to 4) of `busdevfn`.
fn select(busdevfn: u16, offset: u8) {
    outl(0xcf8, 0x8000_0000 | u32::from(busdevfn) << 8 | u32::from(offset & 0xfc));
}

/// The configuration dword at `offset` (rounded down to 4) of function `busdevfn`.
fn dword(busdevfn: u16, offset: u8) -> u32 {
    select(busdevfn, offset);
    inl(0xcfc)
}

/// Whether a function answers at `busdevfn` (its vendor ID is not all ones or zeros).
pub fn present(busdevfn: u16) -> bool {
    let id = dword(busdevfn, 0);
    id != 0xffff_ffff && id != 0
}

/// `len` bytes of configuration space from `offset`, in the order they lie there (the
/// registers are little-endian); past the 256 bytes of standard space, 0xff.
pub fn read(busdevfn: u16, offset: u8, len: u8) -> Vec<u8> {
    (0..u32::from(len))
        .map(|i| config_read(busdevfn, u32::from(offset) + i, Width::U8).map_or(0xff, |v| v as u8))
        .collect()
}

/// A configuration register of `width` at `offset` (in the standard 256 bytes).
fn config_read(busdevfn: u16, offset: u32, width: Width) -> Option<u32> {
    let offset = u8::try_from(offset).ok()?;
    let shift = 8 * u32::from(offset & 3);
    let v = dword(busdevfn, offset) >> shift;
    Some(match width {
        Width::U8 => v & 0xff,
        Width::U16 => v & 0xffff,
        Width::U32 => v,
    })
}

/// Writes a configuration register with an access of its own width at its own byte
/// (0xCFC + offset % 4), so the neighbouring bytes (the status register's write-1-to-clear
/// bits beside the command register) are not written.
fn config_write(busdevfn: u16, offset: u32, width: Width, value: u32) {
    let Ok(offset) = u8::try_from(offset) else { return };
    select(busdevfn, offset);
    let port = 0xcfc + u16::from(offset & 3);
    match width {
        Width::U8 => outb(port, value as u8),
        Width::U16 => outw(port, value as u16),
        Width::U32 => outl(0xcfc, value),
    }
}

/// Every function present, in bus order (functions 1–7 only of multi-function devices).
fn functions() -> impl Iterator<Item = u16> {
    (0..=0xffffu32).map(|b| b as u16).filter(|&busdevfn| {
        let function = busdevfn & 7;
        if function != 0 {
            // Header type bit 7 of function 0: a multi-function device.
            let head = dword(busdevfn & !7, 0x0c);
            if (head >> 16) & 0x80 == 0 {
                return false;
            }
        }
        present(busdevfn)
    })
}

/// The PCI command register's bits.
const COMMAND: u32 = 0x04;
const COMMAND_IO: u32 = 1;
const COMMAND_MEMORY: u32 = 2;
const COMMAND_BUS_MASTER: u32 = 4;

/// One of a function's BARs, as the BIOS assigned it.
#[derive(Clone, Copy)]
struct Bar {
    space: Space,
    base: u64,
    size: u64,
}

/// A PCI function driven by one of the core's drivers. On drop its command register is
/// put back as it was, less bus mastering: the driver has stopped the device, and the
/// next owner (the booted kernel) turns it on when it is ready for it.
pub struct Function {
    busdevfn: u16,
    saved_command: u32,
    /// BARs 0-5 (`None`: unassigned, the upper half of a 64-bit BAR, or beyond the
    /// mapped 4 GiB).
    bars: [Option<Bar>; 6],
}

impl Function {
    fn new(busdevfn: u16) -> Self {
        let saved_command = config_read(busdevfn, COMMAND, Width::U16).unwrap_or(0);
        // Sizing a BAR moves it for a moment: decoding is off meanwhile.
        config_write(busdevfn, COMMAND, Width::U16, saved_command & !(COMMAND_IO | COMMAND_MEMORY));
        let mut bars = [None; 6];
        let mut index = 0;
        while index < 6 {
            let offset = 0x10 + 4 * index as u32;
            let (bar, next) = size_bar(busdevfn, offset, index < 5);
            bars[index] = bar;
            index += next;
        }
        config_write(busdevfn, COMMAND, Width::U16, saved_command);
        Self { busdevfn, saved_command, bars }
    }

    /// Where an access of `width` at `offset` in BAR `bar` of kind `space` goes; `None`
    /// when it would leave the BAR (the offsets come from the device's own capabilities).
    fn target(&self, space: Space, bar: u8, offset: u64, width: Width) -> Option<u64> {
        let b = (*self.bars.get(usize::from(bar))?)?;
        let bytes = match width {
            Width::U8 => 1,
            Width::U16 => 2,
            Width::U32 => 4,
        };
        (b.space == space && offset.checked_add(bytes)? <= b.size).then_some(b.base + offset)
    }
}

/// Reads and sizes the BAR at configuration `offset` (write all ones, read the size mask
/// back, restore); with how many BAR slots it takes (2 for a 64-bit memory BAR, when
/// `may_be_64` allows one).
fn size_bar(busdevfn: u16, offset: u32, may_be_64: bool) -> (Option<Bar>, usize) {
    let probe = |offset: u32| {
        let old = config_read(busdevfn, offset, Width::U32).unwrap_or(0);
        config_write(busdevfn, offset, Width::U32, u32::MAX);
        let mask = config_read(busdevfn, offset, Width::U32).unwrap_or(0);
        config_write(busdevfn, offset, Width::U32, old);
        (old, mask)
    };
    let (low, low_mask) = probe(offset);
    if low & 1 == 1 {
        let size = u64::from(!(low_mask & !3) & 0xffff).wrapping_add(1);
        let base = u64::from(low & !3);
        let ok = base != 0 && low_mask & !3 != 0 && base + size <= 0x1_0000;
        return (ok.then_some(Bar { space: Space::Io, base, size }), 1);
    }
    let wide = (low >> 1) & 3 == 2 && may_be_64;
    let (base, mask) = if wide {
        let (high, high_mask) = probe(offset + 4);
        (
            u64::from(high) << 32 | u64::from(low & !0xf),
            u64::from(high_mask) << 32 | u64::from(low_mask & !0xf),
        )
    } else {
        (u64::from(low & !0xf), 0xffff_ffff_0000_0000 | u64::from(low_mask & !0xf))
    };
    let size = (!mask).wrapping_add(1);
    // prefix.s maps the first 4 GiB only.
    let ok = base != 0 && mask & 0xffff_fff0 != 0 && base.checked_add(size).is_some_and(|end| end <= 4 << 30);
    (ok.then_some(Bar { space: Space::Memory, base, size }), if wide { 2 } else { 1 })
}

impl PciFunction for Function {
    fn busdevfn(&self) -> u16 {
        self.busdevfn
    }

    fn config_read(&mut self, offset: u32, width: Width) -> Option<u32> {
        config_read(self.busdevfn, offset, width)
    }

    fn config_write(&mut self, offset: u32, width: Width, value: u32) {
        config_write(self.busdevfn, offset, width, value);
    }

    fn bar_read(&mut self, space: Space, bar: u8, offset: u64, width: Width) -> u32 {
        let Some(at) = self.target(space, bar, offset, width) else { return 0 };
        match space {
            Space::Io => device::read(at as u16, width),
            Space::Memory => {
                let at = at as usize;
                // SAFETY: a register inside the function's memory BAR (bounds checked by
                // `target` against the size the BAR decodes), below 4 GiB and so
                // identity-mapped (uncached: the BIOS's MTRRs make the PCI hole UC, which
                // wins over the page tables' write-back), read with one access of the
                // device's width.
                unsafe {
                    match width {
                        Width::U8 => u32::from((at as *const u8).read_volatile()),
                        Width::U16 => u32::from((at as *const u16).read_volatile()),
                        Width::U32 => (at as *const u32).read_volatile(),
                    }
                }
            }
        }
    }

    fn bar_write(&mut self, space: Space, bar: u8, offset: u64, width: Width, value: u32) {
        let Some(at) = self.target(space, bar, offset, width) else { return };
        match space {
            Space::Io => device::write(at as u16, width, value),
            Space::Memory => {
                let at = at as usize;
                // SAFETY: as in `bar_read`, a write of the device's width.
                unsafe {
                    match width {
                        Width::U8 => (at as *mut u8).write_volatile(value as u8),
                        Width::U16 => (at as *mut u16).write_volatile(value as u16),
                        Width::U32 => (at as *mut u32).write_volatile(value),
                    }
                }
            }
        }
    }

    fn enable(&mut self, io: bool, memory: bool, bus_master: bool) -> Result<(), String> {
        let command = config_read(self.busdevfn, COMMAND, Width::U16).unwrap_or(0)
            | if io { COMMAND_IO } else { 0 }
            | if memory { COMMAND_MEMORY } else { 0 }
            | if bus_master { COMMAND_BUS_MASTER } else { 0 };
        config_write(self.busdevfn, COMMAND, Width::U16, command);
        Ok(())
    }

    fn alloc_dma(&mut self, pages: usize) -> Result<Box<dyn DmaMemory>, String> {
        Ok(Box::new(HeapDma::new(pages)?))
    }

    fn stall_us(&self, us: u64) {
        crate::time::sleep_us(us);
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        config_write(self.busdevfn, COMMAND, Width::U16, self.saved_command & !COMMAND_BUS_MASTER);
    }
}

/// Zeroed, page-aligned heap memory for DMA: the heap lies below 4 GiB, identity-mapped,
/// and no IOMMU translates, so its addresses are what the device uses.
struct HeapDma {
    ptr: *mut u8,
    layout: Layout,
    leaked: bool,
}

impl HeapDma {
    fn new(pages: usize) -> Result<Self, String> {
        let layout = Layout::from_size_align(pages.max(1) * 4096, 4096)
            .map_err(|_| String::from("DMA memory: size out of range"))?;
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            return Err(alloc::format!("out of memory for {pages} pages of DMA memory"));
        }
        Ok(Self { ptr, layout, leaked: false })
    }
}

// SAFETY: the allocation is `layout.size()` bytes, 4 KiB-aligned, owned by this value
// until drop (or for good once leaked); identity-mapped below 4 GiB, so the device sees
// it at the same address, contiguously.
unsafe impl DmaMemory for HeapDma {
    fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    fn len(&self) -> usize {
        self.layout.size()
    }

    fn device_addr(&self) -> u64 {
        self.ptr as u64
    }

    fn leak(&mut self) {
        self.leaked = true;
    }
}

impl Drop for HeapDma {
    fn drop(&mut self) {
        if !self.leaked {
            // SAFETY: allocated in `new` with this layout, freed once.
            unsafe { dealloc(self.ptr, self.layout) };
        }
    }
}

/// Every NIC one of the core's drivers runs, in PCI order. One that cannot be set up is
/// skipped with a message; the error says why there is none.
pub fn open_nics() -> Result<Vec<Nic>, String> {
    let mut nics = Vec::new();
    let mut seen = 0;
    for busdevfn in functions() {
        let id = Identity::read(|off| config_read(busdevfn, off, Width::U16).map(|v| v as u16));
        let class = config_read(busdevfn, 0x08, Width::U32).unwrap_or(0) >> 16;
        if class == 0x0200 {
            seen += 1;
        }
        let Some(driver) = Driver::for_function(&id) else { continue };
        match Nic::open(driver, Box::new(Function::new(busdevfn))) {
            Ok(nic) => nics.push(nic),
            Err(why) => crate::println!("bootsign: {why}"),
        }
    }
    if nics.is_empty() {
        return Err(match seen {
            0 => String::from("no network interface found"),
            n => alloc::format!(
                "no network interface this firmware can drive ({n} Ethernet controller(s) found; \
                 the BIOS platform drives virtio-net and e1000/e1000e)"
            ),
        });
    }
    Ok(nics)
}
