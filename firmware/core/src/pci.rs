//! What the core's own NIC drivers need of a PCI function, whatever platform reaches it:
//! configuration space, I/O-port and memory BARs, decoding and bus mastering, and DMA
//! memory the device can reach. UEFI gives these through the PCI I/O protocol (which
//! maps DMA memory through an IOMMU where there is one); legacy BIOS through ports
//! 0xCF8/0xCFC, the BARs' addresses and identity-mapped heap pages.
//!
//! The traits are object-safe so one driver serves both platforms without a copy of it
//! per platform; the typed accessors (`config::<u16>`, `mem_read::<u32>`) are on
//! `dyn PciFunction`.

use alloc::boxed::Box;
use alloc::string::String;

/// An access width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    U8,
    U16,
    U32,
}

/// Which kind of BAR an access goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// I/O ports (a BAR with bit 0 set).
    Io,
    /// Memory-mapped registers.
    Memory,
}

/// One PCI function, held by one driver. Dropping it gives the function back to the
/// platform (on UEFI: its saved attributes restored and its own driver reconnected); the
/// driver must have stopped the device's DMA before then.
pub trait PciFunction {
    /// The function's bus:device.function, as iPXE's 16-bit `busdevfn`.
    fn busdevfn(&self) -> u16;

    /// Reads a configuration-space register of `width` at `offset` (zero-extended);
    /// `None` when it cannot be read.
    fn config_read(&mut self, offset: u32, width: Width) -> Option<u32>;

    /// Writes a configuration-space register.
    fn config_write(&mut self, offset: u32, width: Width, value: u32);

    /// Reads a register of `width` at `offset` in BAR `bar` (0–5). A failed access
    /// reads as 0.
    fn bar_read(&mut self, space: Space, bar: u8, offset: u64, width: Width) -> u32;

    /// Writes a register in BAR `bar`.
    fn bar_write(&mut self, space: Space, bar: u8, offset: u64, width: Width, value: u32);

    /// Turns on I/O decoding, memory decoding and bus mastering as asked (in addition to
    /// what is on).
    fn enable(&mut self, io: bool, memory: bool, bus_master: bool) -> Result<(), String>;

    /// `pages` zeroed 4 KiB pages the device can reach by DMA, below 4 GiB.
    fn alloc_dma(&mut self, pages: usize) -> Result<Box<dyn DmaMemory>, String>;

    /// Waits `us` microseconds (device resets are timed).
    fn stall_us(&self, us: u64);
}

/// Memory shared by the CPU and a device. Freed (and unmapped) on drop, unless leaked.
///
/// # Safety
/// An implementer promises that [`DmaMemory::ptr`] points at [`DmaMemory::len`] bytes,
/// 4 KiB-aligned, that stay valid and are used by nothing else until the value is dropped
/// (or forever, after [`DmaMemory::leak`]), and that the device reaches the first of them
/// at [`DmaMemory::device_addr`] and the rest contiguously after it.
pub unsafe trait DmaMemory {
    /// The first byte, for the CPU.
    fn ptr(&self) -> *mut u8;
    /// The length in bytes (whole pages).
    fn len(&self) -> usize;
    /// Whether it is empty (never, for memory from [`PciFunction::alloc_dma`]).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The address the device uses for the first byte.
    fn device_addr(&self) -> u64;
    /// Keeps the memory for good: for a device that could not be stopped and may still
    /// write to it.
    fn leak(&mut self);
}

/// Integer widths for typed accesses.
pub trait IoValue: Copy {
    #[doc(hidden)]
    const WIDTH: Width;
    #[doc(hidden)]
    fn from_u32(v: u32) -> Self;
    #[doc(hidden)]
    fn to_u32(self) -> u32;
}

impl IoValue for u8 {
    const WIDTH: Width = Width::U8;
    fn from_u32(v: u32) -> Self {
        v as u8
    }
    fn to_u32(self) -> u32 {
        u32::from(self)
    }
}

impl IoValue for u16 {
    const WIDTH: Width = Width::U16;
    fn from_u32(v: u32) -> Self {
        v as u16
    }
    fn to_u32(self) -> u32 {
        u32::from(self)
    }
}

impl IoValue for u32 {
    const WIDTH: Width = Width::U32;
    fn from_u32(v: u32) -> Self {
        v
    }
    fn to_u32(self) -> u32 {
        self
    }
}

impl dyn PciFunction + '_ {
    /// Reads a configuration-space register.
    pub fn config<T: IoValue>(&mut self, offset: u32) -> Option<T> {
        self.config_read(offset, T::WIDTH).map(T::from_u32)
    }

    /// Reads a register in memory BAR `bar`.
    pub fn mem_read<T: IoValue>(&mut self, bar: u8, offset: u64) -> T {
        T::from_u32(self.bar_read(Space::Memory, bar, offset, T::WIDTH))
    }

    /// Writes a register in memory BAR `bar`.
    pub fn mem_write<T: IoValue>(&mut self, bar: u8, offset: u64, value: T) {
        self.bar_write(Space::Memory, bar, offset, T::WIDTH, value.to_u32());
    }

    /// Reads an I/O-port register of BAR `bar`.
    pub fn io_read<T: IoValue>(&mut self, bar: u8, offset: u64) -> T {
        T::from_u32(self.bar_read(Space::Io, bar, offset, T::WIDTH))
    }

    /// Writes an I/O-port register of BAR `bar`.
    pub fn io_write<T: IoValue>(&mut self, bar: u8, offset: u64, value: T) {
        self.bar_write(Space::Io, bar, offset, T::WIDTH, value.to_u32());
    }
}

/// What identifies a function to the drivers: read from configuration space before a
/// driver takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub vendor: u16,
    pub device: u16,
    pub subsystem: u16,
    /// The low 16 bits of BAR 0 (bit 0: an I/O BAR).
    pub bar0: u16,
}

impl Identity {
    /// Reads the identity through `read` (a 16-bit configuration read at an offset).
    pub fn read(mut read: impl FnMut(u32) -> Option<u16>) -> Self {
        let mut at = |off| read(off).unwrap_or(0xffff);
        Self { vendor: at(0x00), device: at(0x02), subsystem: at(0x2e), bar0: at(0x10) }
    }
}
