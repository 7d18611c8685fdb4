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

use crate::port::{device, inl, outl};

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
    (0..u16::from(len))
        .map(|i| {
            let at = u16::from(offset) + i;
            match u8::try_from(at) {
                Ok(at) => (dword(busdevfn, at) >> (8 * (at & 3))) as u8,
                Err(_) => 0xff,
            }
        })
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

/// Writes a configuration register (read-modify-write of its dword for narrower widths).
fn config_write(busdevfn: u16, offset: u32, width: Width, value: u32) {
    let Ok(offset) = u8::try_from(offset) else { return };
    let shift = 8 * u32::from(offset & 3);
    let mask = match width {
        Width::U8 => 0xff,
        Width::U16 => 0xffff,
        Width::U32 => u32::MAX,
    } << shift;
    let old = if mask == u32::MAX { 0 } else { dword(busdevfn, offset) };
    select(busdevfn, offset);
    outl(0xcfc, (old & !mask) | ((value << shift) & mask));
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

/// A PCI function driven by one of the core's drivers; its command register is put back
/// as it was on drop (the driver has stopped the device by then).
pub struct Function {
    busdevfn: u16,
    saved_command: u32,
}

impl Function {
    fn new(busdevfn: u16) -> Self {
        let saved_command = config_read(busdevfn, COMMAND, Width::U16).unwrap_or(0);
        Self { busdevfn, saved_command }
    }

    /// BAR `bar`'s base address, checked to be of kind `space`; `None` when it is not
    /// (or is unassigned, or above what is mapped).
    fn bar(&self, space: Space, bar: u8) -> Option<u64> {
        if bar > 5 {
            return None;
        }
        let offset = 0x10 + 4 * u32::from(bar);
        let low = config_read(self.busdevfn, offset, Width::U32)?;
        match space {
            Space::Io => (low & 1 == 1).then_some(u64::from(low & !3)).filter(|&a| a != 0 && a < 0x1_0000),
            Space::Memory => {
                if low & 1 == 1 {
                    return None;
                }
                let mut base = u64::from(low & !0xf);
                if (low >> 1) & 3 == 2 {
                    let high = config_read(self.busdevfn, offset + 4, Width::U32)?;
                    base |= u64::from(high) << 32;
                }
                // prefix.s maps the first 4 GiB only.
                (base != 0 && base < 4 << 30).then_some(base)
            }
        }
    }
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
        let Some(base) = self.bar(space, bar) else { return 0 };
        match space {
            Space::Io => device::read((base + offset) as u16, width),
            Space::Memory => {
                let at = (base + offset) as usize;
                // SAFETY: a register of the function's memory BAR, below 4 GiB and so
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
        let Some(base) = self.bar(space, bar) else { return };
        match space {
            Space::Io => device::write((base + offset) as u16, width, value),
            Space::Memory => {
                let at = (base + offset) as usize;
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
        config_write(self.busdevfn, COMMAND, Width::U16, self.saved_command);
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
