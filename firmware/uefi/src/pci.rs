//! PCI devices through the UEFI PCI I/O protocol: configuration space, I/O-port and
//! memory BARs, and DMA memory that both the CPU and the device can reach. The uefi
//! crate has no binding for this protocol, so its table is declared here, following the
//! UEFI specification (section 14.4).

use core::ffi::c_void;
use core::ptr::{self, NonNull};

use uefi::boot::{self, ScopedProtocol, SearchType};
use uefi::proto::unsafe_protocol;
use uefi::{Handle, Identify, Status};

/// Access width, `EFI_PCI_IO_PROTOCOL_WIDTH`.
#[repr(u32)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
pub enum Width {
    U8 = 0,
    U16 = 1,
    U32 = 2,
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

    /// Reads a configuration-space register.
    pub fn config<T: IoValue>(&mut self, offset: u32) -> Result<T, Status> {
        let mut value = T::default();
        // SAFETY: the table comes from the opened protocol; the buffer holds one `T`, a
        // plain integer of the width passed.
        let status =
            unsafe { (self.0.pci_read)(self.table(), T::WIDTH, offset, 1, ptr::from_mut(&mut value).cast()) };
        status.is_success().then_some(value).ok_or(status)
    }

    /// One access of `T`'s width through `access` (a BAR accessor of the table) at
    /// `offset` in BAR `bar`, reading into or writing from `value`.
    fn bar_access<T: IoValue>(&mut self, access: AccessFn, bar: u8, offset: u64, value: &mut T) {
        // SAFETY: `access` comes from the opened protocol's table; the buffer holds one
        // `T`, a plain integer of the width passed. A failed access leaves `value` as it
        // was (reads then return the default, 0).
        let _ = unsafe { access(self.table(), T::WIDTH, bar, offset, 1, ptr::from_mut(value).cast()) };
    }

    /// Reads a register in memory BAR `bar`.
    pub fn mem_read<T: IoValue>(&mut self, bar: u8, offset: u64) -> T {
        let mut value = T::default();
        self.bar_access(self.0.mem_read, bar, offset, &mut value);
        value
    }

    /// Writes a register in memory BAR `bar`.
    pub fn mem_write<T: IoValue>(&mut self, bar: u8, offset: u64, mut value: T) {
        self.bar_access(self.0.mem_write, bar, offset, &mut value);
    }

    /// Reads an I/O-port register of BAR `bar`.
    pub fn io_read<T: IoValue>(&mut self, bar: u8, offset: u64) -> T {
        let mut value = T::default();
        self.bar_access(self.0.io_read, bar, offset, &mut value);
        value
    }

    /// Writes an I/O-port register of BAR `bar`.
    pub fn io_write<T: IoValue>(&mut self, bar: u8, offset: u64, mut value: T) {
        self.bar_access(self.0.io_write, bar, offset, &mut value);
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

/// Integer widths for I/O accesses.
pub trait IoValue: Default + Copy {
    #[doc(hidden)]
    const WIDTH: Width;
}
impl IoValue for u8 {
    const WIDTH: Width = Width::U8;
}
impl IoValue for u16 {
    const WIDTH: Width = Width::U16;
}
impl IoValue for u32 {
    const WIDTH: Width = Width::U32;
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
    pub device_addr: u64,
}

impl DmaBuffer {
    /// Allocates and maps `pages` 4 KiB pages (below 4 GiB, as the PCI I/O protocol
    /// allocates by default).
    pub fn new(pci: &mut ScopedProtocol<PciIo>, pages: usize) -> Result<Self, Status> {
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

    /// The buffer's first byte, for the CPU.
    pub fn ptr(&self) -> *mut u8 {
        self.host.as_ptr()
    }

    /// Its length in bytes (whole pages).
    pub fn len(&self) -> usize {
        self.pages * 4096
    }

    /// Keeps the memory mapped and allocated for good: for a device that could not be
    /// stopped and may still write to it.
    pub fn leak(&mut self) {
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
