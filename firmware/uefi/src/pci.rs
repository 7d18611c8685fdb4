//! PCI devices through the UEFI PCI I/O protocol: configuration space, I/O-port and
//! memory BARs, and DMA memory that both the CPU and the device can reach (mapped
//! through an IOMMU where there is one), as the core's drivers need them
//! ([`PciFunction`]). The uefi crate has no binding for this protocol, so its table is
//! declared here, following the UEFI specification (section 14.4).

use alloc::boxed::Box;
use alloc::string::String;
use core::ffi::c_void;
use core::ptr::{self, NonNull};
use core::time::Duration;

use bootsign_firmware_core::pci::{self as core_pci, DmaMemory, PciFunction, Space};
use uefi::boot::{self, ScopedProtocol, SearchType};
use uefi::proto::unsafe_protocol;
use uefi::{Handle, Identify, Status};

/// Access width, `EFI_PCI_IO_PROTOCOL_WIDTH`.
#[repr(u32)]
#[derive(Clone, Copy)]
pub enum Width {
    U8 = 0,
    U16 = 1,
    U32 = 2,
}

impl From<core_pci::Width> for Width {
    fn from(w: core_pci::Width) -> Self {
        match w {
            core_pci::Width::U8 => Self::U8,
            core_pci::Width::U16 => Self::U16,
            core_pci::Width::U32 => Self::U32,
        }
    }
}

type AccessFn = unsafe extern "efiapi" fn(
    this: *mut PciIoTable,
    width: Width,
    bar: u8,
    offset: u64,
    count: usize,
    buffer: *mut c_void,
) -> Status;
type ConfigFn = unsafe extern "efiapi" fn(
    this: *mut PciIoTable,
    width: Width,
    offset: u32,
    count: usize,
    buffer: *mut c_void,
) -> Status;

/// `EFI_PCI_IO_PROTOCOL`.
#[repr(C)]
pub struct PciIoTable {
    poll_mem: *const c_void,
    poll_io: *const c_void,
    mem_read: AccessFn,
    mem_write: AccessFn,
    io_read: AccessFn,
    io_write: AccessFn,
    pci_read: ConfigFn,
    pci_write: ConfigFn,
    copy_mem: *const c_void,
    map: unsafe extern "efiapi" fn(
        this: *mut PciIoTable,
        operation: u32,
        host: *mut c_void,
        bytes: *mut usize,
        device: *mut u64,
        mapping: *mut *mut c_void,
    ) -> Status,
    unmap: unsafe extern "efiapi" fn(this: *mut PciIoTable, mapping: *mut c_void) -> Status,
    allocate_buffer: unsafe extern "efiapi" fn(
        this: *mut PciIoTable,
        kind: u32,
        memory_type: u32,
        pages: usize,
        host: *mut *mut c_void,
        attributes: u64,
    ) -> Status,
    free_buffer: unsafe extern "efiapi" fn(this: *mut PciIoTable, pages: usize, host: *mut c_void) -> Status,
    flush: *const c_void,
    get_location: unsafe extern "efiapi" fn(
        this: *mut PciIoTable,
        segment: *mut usize,
        bus: *mut usize,
        device: *mut usize,
        function: *mut usize,
    ) -> Status,
    attributes: unsafe extern "efiapi" fn(
        this: *mut PciIoTable,
        operation: u32,
        attributes: u64,
        result: *mut u64,
    ) -> Status,
    get_bar_attributes: *const c_void,
    set_bar_attributes: *const c_void,
    rom_size: u64,
    rom_image: *const c_void,
}

/// The PCI I/O protocol of one device.
#[repr(transparent)]
#[unsafe_protocol("4cf5b200-68b8-4ca5-9eec-b23e3f50029a")]
pub struct PciIo(PciIoTable);

/// `EFI_PCI_IO_ATTRIBUTE_*`
pub const ATTR_IO: u64 = 0x0100;
pub const ATTR_MEMORY: u64 = 0x0200;
pub const ATTR_BUS_MASTER: u64 = 0x0400;

const ATTR_OP_GET: u32 = 0;
const ATTR_OP_SET: u32 = 1;
const ATTR_OP_ENABLE: u32 = 2;

/// `AllocateAnyPages` and `EfiBootServicesData`.
const ALLOCATE_ANY_PAGES: u32 = 0;
const BOOT_SERVICES_DATA: u32 = 4;

/// `EfiPciIoOperationBusMasterCommonBuffer`: memory the CPU and the device share.
const OP_COMMON_BUFFER: u32 = 2;

/// Handles of every PCI function the platform enumerated.
pub fn handles() -> impl Iterator<Item = Handle> {
    boot::locate_handle_buffer(SearchType::ByProtocol(&PciIo::GUID))
        .map(|h| h.iter().copied().collect::<alloc::vec::Vec<_>>())
        .unwrap_or_default()
        .into_iter()
}

impl PciIo {
    fn table(&mut self) -> *mut PciIoTable {
        &mut self.0
    }

    /// The device's bus:device.function on segment 0, as iPXE's 16-bit `busdevfn`
    /// (bus << 8 | device << 3 | function); `None` on another segment.
    pub fn busdevfn(&mut self) -> Option<u16> {
        let (mut segment, mut bus, mut device, mut function) = (0, 0, 0, 0);
        // SAFETY: the table comes from the opened protocol; the four outputs are ours.
        let status = unsafe {
            (self.0.get_location)(self.table(), &mut segment, &mut bus, &mut device, &mut function)
        };
        (status.is_success() && segment == 0 && bus < 256 && device < 32 && function < 8)
            .then_some((bus << 8 | device << 3 | function) as u16)
    }

    /// Reads a configuration-space register of `width` (zero-extended).
    pub fn config_read(&mut self, offset: u32, width: Width) -> Result<u32, Status> {
        let mut value = 0u32;
        // SAFETY: the table comes from the opened protocol; the buffer is a u32, which
        // holds one item of any width passed, in its low bytes (x86 is little-endian).
        let status =
            unsafe { (self.0.pci_read)(self.table(), width, offset, 1, ptr::from_mut(&mut value).cast()) };
        status.is_success().then_some(value).ok_or(status)
    }

    /// Writes a configuration-space register of `width`.
    pub fn config_write(&mut self, offset: u32, width: Width, mut value: u32) {
        // SAFETY: as in `config_read`.
        let _ =
            unsafe { (self.0.pci_write)(self.table(), width, offset, 1, ptr::from_mut(&mut value).cast()) };
    }

    /// One access of `width` in `space` at `offset` in BAR `bar`, reading into or writing
    /// from `value`.
    fn bar_access(&mut self, space: Space, write: bool, bar: u8, offset: u64, width: Width, value: &mut u32) {
        let access = match (space, write) {
            (Space::Memory, false) => self.0.mem_read,
            (Space::Memory, true) => self.0.mem_write,
            (Space::Io, false) => self.0.io_read,
            (Space::Io, true) => self.0.io_write,
        };
        // SAFETY: `access` comes from the opened protocol's table; the buffer is a u32,
        // which holds one item of any width in its low bytes. A failed access leaves
        // `value` as it was (reads then return 0).
        let _ = unsafe { access(self.table(), width, bar, offset, 1, ptr::from_mut(value).cast()) };
    }

    /// The device's current attributes (decoding, bus mastering).
    pub fn attributes(&mut self) -> u64 {
        let mut current = 0u64;
        // SAFETY: `current` receives the result.
        let _ = unsafe { (self.0.attributes)(self.table(), ATTR_OP_GET, 0, &mut current) };
        current
    }

    /// Turns on `attributes` in addition to the current ones.
    pub fn enable(&mut self, attributes: u64) -> Result<(), Status> {
        // SAFETY: no result pointer is needed for this operation.
        let status =
            unsafe { (self.0.attributes)(self.table(), ATTR_OP_ENABLE, attributes, ptr::null_mut()) };
        status.is_success().then_some(()).ok_or(status)
    }

    /// Restores attributes saved by [`PciIo::attributes`].
    pub fn set_attributes(&mut self, attributes: u64) {
        // SAFETY: as above.
        let _ = unsafe { (self.0.attributes)(self.table(), ATTR_OP_SET, attributes, ptr::null_mut()) };
    }
}

/// Zeroed memory shared by the CPU and a device, mapped for bus-master access.
/// Unmapped and freed on drop; the owner must stop the device's DMA first.
pub struct DmaBuffer {
    pci: NonNull<PciIoTable>,
    /// Never freed (see [`DmaBuffer::leak`]).
    leaked: bool,
    host: NonNull<u8>,
    pages: usize,
    mapping: *mut c_void,
    /// The address the device uses for the buffer's first byte.
    device_addr: u64,
}

impl DmaBuffer {
    /// Allocates and maps `pages` 4 KiB pages (below 4 GiB, as the PCI I/O protocol
    /// allocates by default).
    pub fn new(pci: &mut PciIo, pages: usize) -> Result<Self, Status> {
        let table = pci.table();
        let mut host: *mut c_void = ptr::null_mut();
        // SAFETY: `table` is the opened protocol; `host` receives the allocation.
        let status = unsafe {
            ((*table).allocate_buffer)(table, ALLOCATE_ANY_PAGES, BOOT_SERVICES_DATA, pages, &mut host, 0)
        };
        if !status.is_success() {
            return Err(status);
        }
        let host = NonNull::new(host.cast::<u8>()).ok_or(Status::OUT_OF_RESOURCES)?;
        // SAFETY: the allocation is `pages` pages long and ours.
        unsafe { ptr::write_bytes(host.as_ptr(), 0, pages * 4096) };
        let mut bytes = pages * 4096;
        let mut device_addr = 0u64;
        let mut mapping: *mut c_void = ptr::null_mut();
        // SAFETY: maps the whole allocation; the out-pointers are valid.
        let status = unsafe {
            ((*table).map)(
                table,
                OP_COMMON_BUFFER,
                host.as_ptr().cast(),
                &mut bytes,
                &mut device_addr,
                &mut mapping,
            )
        };
        if !status.is_success() || bytes != pages * 4096 {
            // SAFETY: the buffer was allocated above and is not mapped.
            let _ = unsafe { ((*table).free_buffer)(table, pages, host.as_ptr().cast()) };
            return Err(if status.is_success() { Status::OUT_OF_RESOURCES } else { status });
        }
        Ok(Self {
            pci: NonNull::new(table).expect("protocol table"),
            leaked: false,
            host,
            pages,
            mapping,
            device_addr,
        })
    }
}

// SAFETY: `host` is `pages` pages, page-aligned (the protocol allocates whole pages),
// owned by this value until drop (or for good once leaked), and mapped as one common
// buffer starting at `device_addr` (the mapping covered all of it, checked in `new`).
unsafe impl DmaMemory for DmaBuffer {
    fn ptr(&self) -> *mut u8 {
        self.host.as_ptr()
    }

    fn len(&self) -> usize {
        self.pages * 4096
    }

    fn device_addr(&self) -> u64 {
        self.device_addr
    }

    fn leak(&mut self) {
        self.leaked = true;
    }
}

impl Drop for DmaBuffer {
    fn drop(&mut self) {
        if self.leaked {
            return;
        }
        let table = self.pci.as_ptr();
        // SAFETY: the protocol outlives its buffers (the device owner drops buffers
        // before closing the protocol), and the device no longer uses this memory.
        unsafe {
            let _ = ((*table).unmap)(table, self.mapping);
            let _ = ((*table).free_buffer)(table, self.pages, self.host.as_ptr().cast());
        }
    }
}

/// Every PCI function the platform enumerated, by `busdevfn`, with a look at its PCI
/// I/O protocol (not exclusive: drivers may hold it) for `each`.
pub fn each_function<R>(mut each: impl FnMut(u16, &mut PciIo) -> Option<R>) -> Option<R> {
    for handle in handles() {
        // SAFETY: a non-exclusive look, closed when `pci` drops at the end of the loop
        // body; nothing is changed on the device.
        let pci = unsafe {
            boot::open_protocol::<PciIo>(
                uefi::boot::OpenProtocolParams { handle, agent: boot::image_handle(), controller: None },
                uefi::boot::OpenProtocolAttributes::GetProtocol,
            )
        };
        let Ok(mut pci) = pci else { continue };
        if let Some(busdevfn) = pci.busdevfn()
            && let Some(r) = each(busdevfn, &mut pci)
        {
            return Some(r);
        }
    }
    None
}

/// A PCI function held exclusively by one of the core's drivers: the platform's own
/// driver is disconnected while it is held. On drop the function's attributes are
/// restored and the platform's drivers connected to it again.
pub struct Function {
    handle: Handle,
    pci: Option<ScopedProtocol<PciIo>>,
    saved_attributes: u64,
    busdevfn: u16,
}

impl Function {
    /// Takes `handle`'s function exclusively; `None` when another driver holds it and
    /// will not let go.
    pub fn open(handle: Handle) -> Option<Self> {
        let Ok(mut pci) = boot::open_protocol_exclusive::<PciIo>(handle) else {
            // The attempt may have disconnected drivers already: give them the device back.
            let _ = boot::connect_controller(handle, &[], None, true);
            return None;
        };
        let saved_attributes = pci.attributes();
        let busdevfn = pci.busdevfn().unwrap_or(0xffff);
        Some(Self { handle, pci: Some(pci), saved_attributes, busdevfn })
    }

    fn pci(&mut self) -> &mut ScopedProtocol<PciIo> {
        self.pci.as_mut().expect("open until dropped")
    }
}

impl PciFunction for Function {
    fn busdevfn(&self) -> u16 {
        self.busdevfn
    }

    fn config_read(&mut self, offset: u32, width: core_pci::Width) -> Option<u32> {
        self.pci().config_read(offset, width.into()).ok()
    }

    fn config_write(&mut self, offset: u32, width: core_pci::Width, value: u32) {
        self.pci().config_write(offset, width.into(), value);
    }

    fn bar_read(&mut self, space: Space, bar: u8, offset: u64, width: core_pci::Width) -> u32 {
        let mut value = 0;
        self.pci().bar_access(space, false, bar, offset, width.into(), &mut value);
        value
    }

    fn bar_write(&mut self, space: Space, bar: u8, offset: u64, width: core_pci::Width, mut value: u32) {
        self.pci().bar_access(space, true, bar, offset, width.into(), &mut value);
    }

    fn enable(&mut self, io: bool, memory: bool, bus_master: bool) -> Result<(), String> {
        let attributes = if io { ATTR_IO } else { 0 }
            | if memory { ATTR_MEMORY } else { 0 }
            | if bus_master { ATTR_BUS_MASTER } else { 0 };
        self.pci().enable(attributes).map_err(|e| alloc::format!("{e:?}"))
    }

    fn alloc_dma(&mut self, pages: usize) -> Result<Box<dyn DmaMemory>, String> {
        let buffer = DmaBuffer::new(self.pci(), pages).map_err(|e| alloc::format!("{e:?}"))?;
        Ok(Box::new(buffer))
    }

    fn stall_us(&self, us: u64) {
        boot::stall(Duration::from_micros(us));
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let saved = self.saved_attributes;
        self.pci().set_attributes(saved);
        drop(self.pci.take());
        let _ = boot::connect_controller(self.handle, &[], None, true);
    }
}
