//! The core's own virtio-net driver (the legacy interface that QEMU's transitional
//! `virtio-net-pci` offers), as a smoltcp `phy::Device`.
//!
//! Why not the platform's driver through SNP: SNP hands over one frame per firmware
//! call, each copied out of the driver's buffer and followed by a doorbell write, which
//! under emulation costs about as much as the rest of the stack's work per frame. Here
//! the receive ring holds a few hundred buffers, smoltcp reads frames where the device
//! wrote them, and the device is notified only when it asks to be (it clears the
//! `NO_NOTIFY` flag when it runs out of buffers or transmit work).
//!
//! Memory layout of a legacy virtqueue of N entries (virtio 0.9.5, 4 KiB alignment):
//! descriptors (16 N bytes), then the available ring (flags, idx, N entries, used_event),
//! then, at the next 4 KiB boundary, the used ring (flags, idx, N {id, len} entries).

use alloc::string::String;
use alloc::vec::Vec;
use core::ptr;
use core::sync::atomic::{Ordering, fence};

use smoltcp::phy::{self, DeviceCapabilities};
use smoltcp::time::Instant;
use uefi::Handle;
use uefi::boot::{self, OpenProtocolAttributes, OpenProtocolParams, ScopedProtocol};

use super::nic::FRAME;
use crate::pci::{self, ATTR_BUS_MASTER, ATTR_IO, DmaBuffer, PciIo};

const VENDOR_VIRTIO: u16 = 0x1af4;
/// Transitional virtio device IDs are 0x1000..=0x103f; the subsystem ID says which kind.
const DEVICE_TRANSITIONAL: core::ops::RangeInclusive<u16> = 0x1000..=0x103f;
const SUBSYSTEM_NET: u16 = 1;

// Legacy registers, in I/O BAR 0.
const BAR: u8 = 0;
const REG_DEVICE_FEATURES: u64 = 0x00;
const REG_GUEST_FEATURES: u64 = 0x04;
const REG_QUEUE_PFN: u64 = 0x08;
const REG_QUEUE_SIZE: u64 = 0x0c;
const REG_QUEUE_SELECT: u64 = 0x0e;
const REG_QUEUE_NOTIFY: u64 = 0x10;
const REG_STATUS: u64 = 0x12;
/// Device-specific configuration (the MAC address) while MSI-X is off.
const REG_MAC: u64 = 0x14;

const STATUS_ACKNOWLEDGE: u8 = 1;
const STATUS_DRIVER: u8 = 2;
const STATUS_DRIVER_OK: u8 = 4;

const F_NET_MAC: u32 = 1 << 5;
const F_ANY_LAYOUT: u32 = 1 << 27;

const DESC_F_WRITE: u16 = 2;
/// In the used ring's flags: the device does not need a notification now.
const USED_F_NO_NOTIFY: u16 = 1;

const RX_QUEUE: u16 = 0;
const TX_QUEUE: u16 = 1;

/// `virtio_net_hdr` without mergeable receive buffers: all zero on transmit (no
/// offloads), ignored on receive.
const NET_HDR: usize = 10;
/// Bytes per packet buffer (header + frame, rounded so buffers never straddle pages).
const SLOT: usize = 2048;
const PAGE: usize = 4096;

/// One virtqueue in DMA memory, and the driver's view of its indices.
struct Queue {
    index: u16,
    size: u16,
    ring: DmaBuffer,
    used_offset: usize,
    /// Packet buffers, `SLOT` bytes per descriptor.
    buffers: DmaBuffer,
    /// The next available-ring index to publish.
    avail_idx: u16,
    /// The next used-ring index to consume.
    used_seen: u16,
}

impl Queue {
    /// Selects queue `index`, allocates its ring and buffers, and gives the device the
    /// ring's address.
    fn new(pci: &mut ScopedProtocol<PciIo>, index: u16) -> Result<Self, String> {
        pci.io_write::<u16>(BAR, REG_QUEUE_SELECT, index);
        let size = pci.io_read::<u16>(BAR, REG_QUEUE_SIZE);
        if size == 0 || !size.is_power_of_two() || size > 1024 {
            return Err(alloc::format!("virtio-net: queue {index} has unusable size {size}"));
        }
        let n = usize::from(size);
        let used_offset = (16 * n + 6 + 2 * n).next_multiple_of(PAGE);
        let ring_pages = (used_offset + 6 + 8 * n).div_ceil(PAGE);
        let dma_err =
            |what: &str, e: uefi::Status| alloc::format!("virtio-net: cannot allocate {what}: {e:?}");
        let ring = DmaBuffer::new(pci, ring_pages).map_err(|e| dma_err("a queue", e))?;
        let buffers = DmaBuffer::new(pci, n * SLOT / PAGE).map_err(|e| dma_err("packet buffers", e))?;
        let pfn = u32::try_from(ring.device_addr / PAGE as u64)
            .map_err(|_| String::from("virtio-net: queue memory above the legacy interface's reach"))?;
        let queue = Self { index, size, ring, used_offset, buffers, avail_idx: 0, used_seen: 0 };
        for i in 0..size {
            queue.set_desc(i, queue.buffers.device_addr + u64::from(i) * SLOT as u64, SLOT as u32, 0);
        }
        pci.io_write::<u32>(BAR, REG_QUEUE_PFN, pfn);
        Ok(queue)
    }

    fn base(&self) -> *mut u8 {
        self.ring.ptr()
    }

    fn set_desc(&self, i: u16, addr: u64, len: u32, flags: u16) {
        debug_assert!(i < self.size);
        // SAFETY: descriptor `i` lies in the ring allocation (16 bytes each, `size` of
        // them at offset 0); volatile because the device reads it.
        unsafe {
            let d = self.base().add(16 * usize::from(i));
            ptr::write_volatile(d.cast::<u64>(), addr);
            ptr::write_volatile(d.add(8).cast::<u32>(), len);
            ptr::write_volatile(d.add(12).cast::<u16>(), flags);
            ptr::write_volatile(d.add(14).cast::<u16>(), 0);
        }
    }

    fn set_desc_len(&self, i: u16, len: u32) {
        // SAFETY: as in `set_desc`.
        unsafe { ptr::write_volatile(self.base().add(16 * usize::from(i) + 8).cast::<u32>(), len) };
    }

    /// Puts descriptor `id` in the available ring and publishes it.
    fn offer(&mut self, id: u16) {
        let avail = 16 * usize::from(self.size);
        let slot = usize::from(self.avail_idx % self.size);
        // SAFETY: the available ring follows the descriptors: flags, idx, then `size`
        // u16 entries, all inside the ring allocation.
        unsafe {
            ptr::write_volatile(self.base().add(avail + 4 + 2 * slot).cast::<u16>(), id);
            self.avail_idx = self.avail_idx.wrapping_add(1);
            // The entry must be visible before the index that publishes it.
            fence(Ordering::Release);
            ptr::write_volatile(self.base().add(avail + 2).cast::<u16>(), self.avail_idx);
        }
    }

    /// The next buffer the device has finished with: descriptor id and bytes written.
    fn take_used(&mut self) -> Option<(u16, u32)> {
        // SAFETY: the used ring (flags, idx, `size` {u32 id, u32 len}) lies at
        // `used_offset` inside the ring allocation; the device writes it, hence volatile.
        unsafe {
            let used = self.base().add(self.used_offset);
            let idx = ptr::read_volatile(used.add(2).cast::<u16>());
            if idx == self.used_seen {
                return None;
            }
            // The entry is read only after the index that announced it.
            fence(Ordering::Acquire);
            let slot = usize::from(self.used_seen % self.size);
            let id = ptr::read_volatile(used.add(4 + 8 * slot).cast::<u32>());
            let len = ptr::read_volatile(used.add(8 + 8 * slot).cast::<u32>());
            self.used_seen = self.used_seen.wrapping_add(1);
            let id = u16::try_from(id).ok().filter(|&i| i < self.size)?;
            Some((id, len))
        }
    }

    /// Whether the device asked to be notified of new buffers.
    fn wants_notify(&self) -> bool {
        // Our index update must be visible before we read the device's flag, or both
        // sides could each wait for the other (virtio's required full barrier).
        fence(Ordering::SeqCst);
        // SAFETY: the used ring's flags field, inside the ring allocation.
        let flags = unsafe { ptr::read_volatile(self.base().add(self.used_offset).cast::<u16>()) };
        flags & USED_F_NO_NOTIFY == 0
    }

    fn buffer(&self, id: u16) -> *mut u8 {
        // SAFETY: `id < size`, and the buffer area holds `size` slots.
        unsafe { self.buffers.ptr().add(usize::from(id) * SLOT) }
    }
}

/// The receive side: every buffer is offered to the device except the one smoltcp is
/// reading.
struct Rx {
    queue: Queue,
    /// Buffers offered since the device was last notified.
    unnotified: u16,
}

/// The transmit side.
struct Tx {
    queue: Queue,
    free: Vec<u16>,
}

/// The PCI function, held exclusively; on drop its attributes are restored and the
/// platform's driver may bind again.
struct Device {
    handle: Handle,
    pci: Option<ScopedProtocol<PciIo>>,
    saved_attributes: u64,
}

impl Device {
    fn pci(&mut self) -> &mut ScopedProtocol<PciIo> {
        self.pci.as_mut().expect("open until dropped")
    }

    fn notify(&mut self, queue: u16) {
        self.pci().io_write::<u16>(BAR, REG_QUEUE_NOTIFY, queue);
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        let saved = self.saved_attributes;
        self.pci().set_attributes(saved);
        drop(self.pci.take());
        let _ = boot::connect_controller(self.handle, &[], None, true);
    }
}

/// A virtio-net NIC driven directly. Field order matters for drop: the queues' DMA
/// memory is released (after `drop` has reset the device) before the device is closed.
pub struct VirtioNet {
    rx: Rx,
    tx: Tx,
    dev: Device,
    /// The station MAC address.
    pub mac: [u8; 6],
}

/// Whether `handle` is a virtio-net function with the legacy interface.
fn is_legacy_virtio_net(handle: Handle) -> bool {
    // SAFETY: a non-exclusive look at configuration space; the protocol is closed again
    // before this returns and the handle stays valid meanwhile.
    let opened = unsafe {
        boot::open_protocol::<PciIo>(
            OpenProtocolParams { handle, agent: boot::image_handle(), controller: None },
            OpenProtocolAttributes::GetProtocol,
        )
    };
    let Ok(mut pci) = opened else { return false };
    let read = |pci: &mut ScopedProtocol<PciIo>, off| pci.config_u16(off).unwrap_or(0xffff);
    let vendor = read(&mut pci, 0x00);
    let device = read(&mut pci, 0x02);
    let subsystem = read(&mut pci, 0x2e);
    let bar0_is_io = read(&mut pci, 0x10) & 1 == 1;
    vendor == VENDOR_VIRTIO
        && DEVICE_TRANSITIONAL.contains(&device)
        && subsystem == SUBSYSTEM_NET
        && bar0_is_io
}

impl VirtioNet {
    /// Takes over the first virtio-net device with the legacy interface. `Ok(None)` when
    /// there is none (the caller then uses the platform's driver through SNP).
    pub fn open() -> Result<Option<Self>, String> {
        if pci::handles().next().is_none() {
            // The platform may not have enumerated PCI yet when it started us directly.
            super::connect_all();
        }
        let Some(handle) = pci::handles().find(|h| is_legacy_virtio_net(*h)) else {
            return Ok(None);
        };
        // Exclusive: the platform's virtio-net driver (and the network stack above it)
        // is stopped, so nothing else touches the device while we drive it.
        let Ok(pci) = boot::open_protocol_exclusive::<PciIo>(handle) else {
            return Ok(None);
        };
        let mut dev = Device { handle, pci: Some(pci), saved_attributes: 0 };
        dev.saved_attributes = dev.pci().attributes();
        dev.pci()
            .enable(ATTR_IO | ATTR_BUS_MASTER)
            .map_err(|e| alloc::format!("virtio-net: cannot enable the device: {e:?}"))?;
        let pci = dev.pci();
        pci.io_write::<u8>(BAR, REG_STATUS, 0);
        pci.io_write::<u8>(BAR, REG_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        let offered = pci.io_read::<u32>(BAR, REG_DEVICE_FEATURES);
        pci.io_write::<u32>(BAR, REG_GUEST_FEATURES, offered & (F_NET_MAC | F_ANY_LAYOUT));
        let mut mac = [0u8; 6];
        if offered & F_NET_MAC != 0 {
            for (i, b) in mac.iter_mut().enumerate() {
                *b = pci.io_read::<u8>(BAR, REG_MAC + i as u64);
            }
        } else {
            return Err("virtio-net: the device has no MAC address".into());
        }
        let rx = Queue::new(pci, RX_QUEUE)?;
        let tx = Queue::new(pci, TX_QUEUE)?;
        let free = (0..tx.size).collect();
        let mut net = Self { rx: Rx { queue: rx, unnotified: 0 }, tx: Tx { queue: tx, free }, dev, mac };
        for i in 0..net.rx.queue.size {
            net.rx.queue.set_desc(
                i,
                net.rx.queue.buffers.device_addr + u64::from(i) * SLOT as u64,
                SLOT as u32,
                DESC_F_WRITE,
            );
            net.rx.queue.offer(i);
        }
        let status = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK;
        net.dev.pci().io_write::<u8>(BAR, REG_STATUS, status);
        net.dev.notify(RX_QUEUE);
        Ok(Some(net))
    }
}

impl Drop for VirtioNet {
    /// Resets the device, which stops all DMA, before the queues' memory is freed.
    fn drop(&mut self) {
        self.dev.pci().io_write::<u8>(BAR, REG_STATUS, 0);
        // A read back makes sure the reset reached the device.
        let _ = self.dev.pci().io_read::<u8>(BAR, REG_STATUS);
    }
}

/// A received frame, read in place; its buffer goes back to the device afterwards.
pub struct RxToken<'a> {
    rx: &'a mut Rx,
    id: u16,
    len: usize,
}

/// Permission to send one frame.
pub struct TxToken<'a> {
    tx: &'a mut Tx,
    dev: &'a mut Device,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let buf = self.rx.queue.buffer(self.id);
        // SAFETY: the device wrote `len` bytes (checked against the slot size when the
        // token was made) and no longer owns the buffer until it is offered again below.
        let frame = unsafe { core::slice::from_raw_parts(buf.add(NET_HDR), self.len) };
        let result = f(frame);
        self.rx.queue.offer(self.id);
        self.rx.unnotified += 1;
        result
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let id = self.tx.free.pop().expect("transmit() checked a buffer is free");
        let len = len.min(FRAME);
        let buf = self.tx.queue.buffer(id);
        // SAFETY: buffer `id` is free (not offered to the device) and SLOT >= NET_HDR +
        // FRAME bytes long.
        let (header, frame) = unsafe {
            (
                core::slice::from_raw_parts_mut(buf, NET_HDR),
                core::slice::from_raw_parts_mut(buf.add(NET_HDR), len),
            )
        };
        header.fill(0);
        let result = f(frame);
        self.tx.queue.set_desc_len(id, (NET_HDR + len) as u32);
        self.tx.queue.offer(id);
        if self.tx.queue.wants_notify() {
            self.dev.notify(self.tx.queue.index);
        }
        result
    }
}

impl VirtioNet {
    fn reclaim_tx(&mut self) {
        while let Some((id, _)) = self.tx.queue.take_used() {
            self.tx.free.push(id);
        }
    }

    fn notify_rx(&mut self) {
        if self.rx.unnotified > 0 && self.rx.queue.wants_notify() {
            self.rx.unnotified = 0;
            self.dev.notify(RX_QUEUE);
        }
    }
}

impl phy::Device for VirtioNet {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        self.reclaim_tx();
        let Some((id, written)) = self.rx.queue.take_used() else {
            self.notify_rx();
            return None;
        };
        if self.tx.free.is_empty() {
            // Keep the frame for the next call; smoltcp needs a transmit token with it.
            // Not reachable in practice (ACKs are reclaimed above), but never drop data.
            self.rx.queue.used_seen = self.rx.queue.used_seen.wrapping_sub(1);
            return None;
        }
        let len = (written as usize).saturating_sub(NET_HDR).min(SLOT - NET_HDR);
        Some((RxToken { rx: &mut self.rx, id, len }, TxToken { tx: &mut self.tx, dev: &mut self.dev }))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        if self.tx.free.is_empty() {
            self.reclaim_tx();
        }
        if self.tx.free.is_empty() {
            return None;
        }
        Some(TxToken { tx: &mut self.tx, dev: &mut self.dev })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        super::nic::ethernet_capabilities()
    }
}
