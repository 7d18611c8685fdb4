//! The core's own driver for Intel's PRO/1000 NICs, as a smoltcp `phy::Device`: the PCI
//! 8254x family (82540, 82544, 82545, 82546; QEMU's `e1000`, the default NIC of
//! `-machine pc`, and its `e1000-82544gc` and `e1000-82545em`) and the PCIe 82574
//! (QEMU's `e1000e`, the default on q35). Both run the same programming model here:
//! registers in memory BAR 0, one ring of legacy descriptors each way, polling only.
//!
//! Why not the platform's driver (UEFI's SNP, the PXE ROM's UNDI): they hand over one
//! frame per firmware call, copied out of the driver's buffer, which under emulation
//! costs about as much as the rest of the stack's work per frame. Here the receive ring
//! holds a few hundred buffers, smoltcp reads each frame where the device wrote it, and
//! the receive tail is written once per burst rather than once per frame.
//!
//! Memory, one allocation per direction: the descriptor ring (16 bytes per descriptor,
//! rounded up to whole pages), then one 2 KiB buffer per descriptor, so no buffer
//! straddles a page.
//!
//! What QEMU's models need beyond the datasheets' sequence: the `e1000` model ignores
//! `CTRL.RST` (the bit only self-clears), and older QEMU's `e1000e` resets only its MAC
//! address there, so every register this driver relies on is written explicitly instead
//! of trusted to its reset value, and the receiver and transmitter are disabled by hand
//! before the reset. The `e1000` model also pauses reception for a second of virtual
//! time after each write of `RCTL` (frames are queued meanwhile, not lost), so `RCTL` is
//! written only while opening and stopping the device, never while it runs. The `e1000e`
//! model transmits only while `TARC0` bit 10 is set (it is after reset; it is set again
//! here in case an earlier driver cleared it).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use core::ptr;
use core::sync::atomic::{Ordering, fence};

use smoltcp::phy::{self, DeviceCapabilities};
use smoltcp::time::Instant;

use super::nic::FRAME;
use crate::pci::{DmaMemory, Identity, PciFunction};

const VENDOR_INTEL: u16 = 0x8086;

/// Which member of the family a function is, for the few places they differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Model {
    /// 82540EM/EP, 82545EM/GM: reads the EEPROM through `EERD` (done bit 4, address at
    /// bit 8).
    I8254x,
    /// 82546EB/GB: as `I8254x`, with two ports sharing one EEPROM, whose MAC address is
    /// port A's; port B's differs in bit 0 of the last byte.
    I82546,
    /// 82544GC/EI: no `EERD`; the EEPROM-loaded registers (the MAC address among them)
    /// are reloaded by hand (`CTRL_EXT.EE_RST`) after a reset.
    I82544,
    /// 82574L/LA (PCIe): `EERD` with the done bit at 1 and the address at bit 2; PCIe
    /// mastering is drained before a reset; the initialisation bits of the datasheet.
    I82574,
}

impl Model {
    /// The driver's name, for the console and in messages.
    fn name(self) -> &'static str {
        match self {
            Self::I82574 => "e1000e",
            Self::I8254x | Self::I82546 | Self::I82544 => "e1000",
        }
    }
}

/// The device IDs driven, copper parts only: fibre and SerDes ports need another link
/// setup, and the 82541/82547 (IGP PHY) a PHY initialisation script this driver does not
/// have.
const DEVICES: &[(u16, Model)] = &[
    (0x100e, Model::I8254x), // 82540EM (QEMU's e1000)
    (0x1015, Model::I8254x), // 82540EM LOM
    (0x1016, Model::I8254x), // 82540EP LOM
    (0x1017, Model::I8254x), // 82540EP
    (0x101e, Model::I8254x), // 82540EP LP
    (0x100f, Model::I8254x), // 82545EM copper (QEMU's e1000-82545em)
    (0x1026, Model::I8254x), // 82545GM copper
    (0x1010, Model::I82546), // 82546EB copper
    (0x1079, Model::I82546), // 82546GB copper
    (0x1008, Model::I82544), // 82544EI copper
    (0x100c, Model::I82544), // 82544GC copper (QEMU's e1000-82544gc)
    (0x100d, Model::I82544), // 82544GC LOM
    (0x10d3, Model::I82574), // 82574L (QEMU's e1000e)
    (0x10f6, Model::I82574), // 82574LA
];

fn model(device: u16) -> Option<Model> {
    DEVICES.iter().find(|&&(id, _)| id == device).map(|&(_, model)| model)
}

/// Whether this driver drives the function `id`: a supported Intel device whose BAR 0 is
/// a memory BAR (every register access goes through it).
pub fn matches(id: &Identity) -> bool {
    id.vendor == VENDOR_INTEL && model(id.device).is_some() && id.bar0 & 1 == 0
}

// PCI configuration space.
const PCI_VENDOR: u32 = 0x00;
const PCI_DEVICE: u32 = 0x02;
const PCI_BAR0: u32 = 0x10;

/// The registers' BAR.
const BAR: u8 = 0;

// Registers (8254x Software Developer's Manual, ch. 13; the 82574 datasheet's register chapter).
const CTRL: u64 = 0x0000;
const STATUS: u64 = 0x0008;
const EECD: u64 = 0x0010;
const EERD: u64 = 0x0014;
const CTRL_EXT: u64 = 0x0018;
const ICR: u64 = 0x00c0;
const IMC: u64 = 0x00d8;
const RCTL: u64 = 0x0100;
const TCTL: u64 = 0x0400;
const TIPG: u64 = 0x0410;
/// 82574: extended configuration control (its software MDIO-ownership semaphore).
const EXTCNF_CTRL: u64 = 0x0f00;
const RDBAL: u64 = 0x2800;
const RDBAH: u64 = 0x2804;
const RDLEN: u64 = 0x2808;
const RDH: u64 = 0x2810;
const RDT: u64 = 0x2818;
const TDBAL: u64 = 0x3800;
const TDBAH: u64 = 0x3804;
const TDLEN: u64 = 0x3808;
const TDH: u64 = 0x3810;
const TDT: u64 = 0x3818;
/// 82574: transmit descriptor control, queue 0.
const TXDCTL: u64 = 0x3828;
/// 82574: transmit arbitration control, queue 0.
const TARC0: u64 = 0x3840;
/// 82574: receive filter control (descriptor format).
const RFCTL: u64 = 0x5008;
/// Multicast table: 128 32-bit words.
const MTA: u64 = 0x5200;
const MTA_WORDS: u64 = 128;
/// Receive address `n`: RAL at `RAL0 + 8 n`, RAH at `RAH0 + 8 n`; 16 entries on all.
const RAL0: u64 = 0x5400;
const RAH0: u64 = 0x5404;
const RECEIVE_ADDRESSES: u64 = 16;
/// 82574: PCIe control, and its second register.
const GCR: u64 = 0x5b00;
const GCR2: u64 = 0x5b64;

// CTRL.
/// 82574: stop issuing PCIe master requests (STATUS.GIO_MASTER_ENABLE says when none is
/// outstanding).
const CTRL_GIO_MASTER_DISABLE: u32 = 1 << 2;
/// 8254x: link reset.
const CTRL_LRST: u32 = 1 << 3;
const CTRL_ASDE: u32 = 1 << 5;
const CTRL_SLU: u32 = 1 << 6;
const CTRL_ILOS: u32 = 1 << 7;
const CTRL_FRCSPD: u32 = 1 << 11;
const CTRL_FRCDPLX: u32 = 1 << 12;
const CTRL_RST: u32 = 1 << 26;
/// 82574: a bit its initialisation clears.
const CTRL_82574_CLEAR: u32 = 1 << 29;
const CTRL_VME: u32 = 1 << 30;
const CTRL_PHY_RST: u32 = 1 << 31;

// STATUS.
/// 82546: this function is port B.
const STATUS_FUNC_1: u32 = 1 << 2;
const STATUS_GIO_MASTER_ENABLE: u32 = 1 << 19;

// EECD and CTRL_EXT.
/// 82574: the EEPROM has been read after reset.
const EECD_AUTO_RD: u32 = 1 << 9;
/// 82544: reload the EEPROM-loaded registers.
const CTRL_EXT_EE_RST: u32 = 1 << 13;
/// 82574: its initialisation sets bit 22 and clears bit 23.
const CTRL_EXT_82574_SET: u32 = 1 << 22;
const CTRL_EXT_82574_CLEAR: u32 = 1 << 23;

// EERD.
const EERD_START: u32 = 1 << 0;
const EERD_DONE_8254X: u32 = 1 << 4;
const EERD_ADDR_SHIFT_8254X: u32 = 8;
const EERD_DONE_82574: u32 = 1 << 1;
const EERD_ADDR_SHIFT_82574: u32 = 2;
const EERD_DATA_SHIFT: u32 = 16;

// RCTL: receiver on, broadcasts accepted, 2048-byte buffers (BSIZE 00, BSEX 0), the CRC
// stripped; unicast to RAL0/RAH0 only, no multicast, no long frames, legacy descriptors.
const RCTL_EN: u32 = 1 << 1;
const RCTL_BAM: u32 = 1 << 15;
const RCTL_SECRC: u32 = 1 << 26;
const RCTL_VALUE: u32 = RCTL_EN | RCTL_BAM | RCTL_SECRC;
/// 82574: extended (not legacy) receive descriptors.
const RFCTL_EXTEN: u32 = 1 << 15;

// TCTL: transmitter on, short frames padded, collision threshold 15, collision distance
// 64 bytes (full duplex), as the manuals recommend.
const TCTL_EN: u32 = 1 << 1;
const TCTL_PSP: u32 = 1 << 3;
const TCTL_CT: u32 = 0xff << 4;
const TCTL_COLD: u32 = 0x3ff << 12;
const TCTL_VALUE: u32 = TCTL_EN | TCTL_PSP | (0x0f << 4) | (0x40 << 12);

/// Inter-packet gap for copper: IPGT, IPGR1 (bits 19:10), IPGR2 (29:20). The 8254x
/// manual recommends IPGT 10; the 82574 takes 8, its reset value and what Intel's
/// drivers write (a larger gap would only cost a little throughput).
const TIPG_8254X: u32 = 10 | (8 << 10) | (6 << 20);
const TIPG_82574: u32 = 8 | (8 << 10) | (6 << 20);

// 82574 initialisation bits, as Intel's drivers set them: GCR bit 22 (which the
// datasheet's initialisation asks for), GCR2 bit 0 (an erratum's workaround), TXDCTL
// bit 22, TARC0 bit 26 with bits 30:27 clear, and TARC0 bit 10 (queue enable, which
// QEMU's model requires to transmit at all).
const GCR_82574_SET: u32 = 1 << 22;
const GCR2_82574_SET: u32 = 1 << 0;
const TXDCTL_82574_SET: u32 = 1 << 22;
const TARC0_ENABLE: u32 = 1 << 10;
const TARC0_82574_SET: u32 = 1 << 26;
const TARC0_82574_CLEAR: u32 = 0xf << 27;
/// 82574: software owns the PHY's management interface (against the manageability
/// firmware, while the device resets).
const EXTCNF_CTRL_MDIO_SW_OWNERSHIP: u32 = 1 << 5;

// RAH.
const RAH_AV: u32 = 1 << 31;

// Legacy receive descriptor: status and errors.
const RXD_STAT_DD: u8 = 1 << 0;
const RXD_STAT_EOP: u8 = 1 << 1;
/// Errors that mean the frame itself is bad: CRC/alignment, symbol, sequence, carrier
/// extension, receive data error. Not the IP and TCP/UDP checksum errors (bits 5, 6):
/// the stack does not rely on receive checksum offload (see `nic::ethernet_capabilities`).
const RXD_ERR_FRAME: u8 = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 4) | (1 << 7);

// Legacy transmit descriptor: command and status.
const TXD_CMD_EOP: u8 = 1 << 0;
/// Insert the FCS.
const TXD_CMD_IFCS: u8 = 1 << 1;
/// Report status: the device sets DD when it is done with the descriptor.
const TXD_CMD_RS: u8 = 1 << 3;
const TXD_STAT_DD: u8 = 1 << 0;

/// Descriptors per ring. A multiple of 8 (the ring length must be a multiple of 128
/// bytes); one receive descriptor is always held back, so that a full ring is not
/// mistaken for an empty one.
const RX_DESCRIPTORS: u16 = 256;
const TX_DESCRIPTORS: u16 = 256;
/// Bytes per packet buffer: RCTL.BSIZE 2048.
const BUFFER: usize = 2048;
const PAGE: usize = 4096;
/// Receive descriptors handed back before the tail register is written anyway (it is
/// written whenever no frame is waiting, too).
const RX_PUBLISH_BATCH: u16 = 32;

const _: () = assert!(RX_DESCRIPTORS.is_multiple_of(8) && TX_DESCRIPTORS.is_multiple_of(8));
const _: () = assert!(FRAME <= BUFFER && PAGE.is_multiple_of(BUFFER));

// Waits, in microseconds.
/// After disabling the receiver and transmitter, for a frame in flight to finish its DMA.
const DRAIN_US: u64 = 10_000;
/// For the 82574's outstanding PCIe master requests to complete.
const GIO_MASTER_US: u64 = 80_000;
/// For the 82574's MDIO ownership.
const MDIO_OWNERSHIP_US: u64 = 100_000;
/// After setting CTRL.RST, before the first register read (the manuals ask for at least
/// a microsecond; the 82574 reloads its NVM meanwhile).
const RESET_SETTLE_US: u64 = 1_000;
/// For CTRL.RST to clear.
const RESET_US: u64 = 100_000;
/// For the EEPROM auto-read after a reset (8254x: 5 ms; 82544 reload: 2 ms; 82574: until
/// EECD.AUTO_RD, at most 10 ms).
const AUTO_READ_8254X_US: u64 = 5_000;
const EE_RELOAD_82544_US: u64 = 2_000;
const AUTO_READ_82574_US: u64 = 10_000;
/// For one EEPROM word through EERD.
const EERD_US: u64 = 10_000;

/// A legacy receive descriptor.
#[repr(C)]
#[derive(Clone, Copy)]
struct RxDescriptor {
    addr: u64,
    length: u16,
    checksum: u16,
    status: u8,
    errors: u8,
    special: u16,
}

/// A legacy transmit descriptor.
#[repr(C)]
#[derive(Clone, Copy)]
struct TxDescriptor {
    addr: u64,
    length: u16,
    cso: u8,
    cmd: u8,
    status: u8,
    css: u8,
    special: u16,
}

const _: () = assert!(size_of::<RxDescriptor>() == 16 && size_of::<TxDescriptor>() == 16);

/// What a receive descriptor says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RxVerdict {
    /// The device has not written it yet.
    Pending,
    /// A frame to drop: with errors, empty, or spanning descriptors (the device never
    /// splits one that fits the 2 KiB buffer; a longer one is not ours to take).
    Drop,
    /// A good frame of this many bytes (clamped to the buffer).
    Frame(usize),
}

fn rx_verdict(status: u8, errors: u8, length: u16) -> RxVerdict {
    if status & RXD_STAT_DD == 0 {
        RxVerdict::Pending
    } else if status & RXD_STAT_EOP == 0 || errors & RXD_ERR_FRAME != 0 || length == 0 {
        RxVerdict::Drop
    } else {
        RxVerdict::Frame(usize::from(length).min(BUFFER))
    }
}

/// The MAC address in receive-address registers RAL/RAH, if RAH says it is valid.
fn mac_from_ra(ral: u32, rah: u32) -> Option<[u8; 6]> {
    if rah & RAH_AV == 0 {
        return None;
    }
    let [a, b, c, d] = ral.to_le_bytes();
    let [e, f, _, _] = rah.to_le_bytes();
    Some([a, b, c, d, e, f])
}

/// RAL and RAH (valid, matching destination addresses) for `mac`.
fn ra_from_mac(mac: [u8; 6]) -> (u32, u32) {
    let ral = u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]);
    let rah = u32::from_le_bytes([mac[4], mac[5], 0, 0]) | RAH_AV;
    (ral, rah)
}

/// The MAC address in EEPROM words 0 to 2 (each little-endian).
fn mac_from_words(words: [u16; 3]) -> [u8; 6] {
    let [a, b] = words[0].to_le_bytes();
    let [c, d] = words[1].to_le_bytes();
    let [e, f] = words[2].to_le_bytes();
    [a, b, c, d, e, f]
}

/// A usable station address: not all zeros, not a group address (which all ones is).
fn valid_mac(mac: [u8; 6]) -> bool {
    mac != [0; 6] && mac[0] & 1 == 0
}

/// The EERD value that starts reading EEPROM word `word`, and the bit that says it is
/// done; `None` for a device without EERD.
fn eerd_request(model: Model, word: u8) -> Option<(u32, u32)> {
    let (shift, done) = match model {
        Model::I8254x | Model::I82546 => (EERD_ADDR_SHIFT_8254X, EERD_DONE_8254X),
        Model::I82574 => (EERD_ADDR_SHIFT_82574, EERD_DONE_82574),
        Model::I82544 => return None,
    };
    Some((EERD_START | (u32::from(word) << shift), done))
}

/// One direction's DMA memory: `size` descriptors from the start, then `size` packet
/// buffers of `BUFFER` bytes from `buffers_at`. Every index is checked against `size` in
/// all builds (an out-of-range index is a driver bug, and a panic beats writing DMA memory
/// that is not the ring's); descriptors are only read and written volatile, since the
/// device reads and writes them too.
struct DmaRing {
    mem: Box<dyn DmaMemory>,
    size: u16,
    buffers_at: usize,
}

impl DmaRing {
    /// Allocates a ring of `size` descriptors and their buffers (zeroed).
    fn new(pci: &mut dyn PciFunction, size: u16, model: Model, what: &str) -> Result<Self, String> {
        let n = usize::from(size);
        let buffers_at = (16 * n).next_multiple_of(PAGE);
        let bytes = buffers_at + n * BUFFER;
        let name = model.name();
        let mem = pci
            .alloc_dma(bytes.div_ceil(PAGE))
            .map_err(|e| format!("{name}: cannot allocate the {what} ring: {e}"))?;
        // The ring's base must be 16-byte aligned (128 for the best fetches); the trait
        // promises 4 KiB, and the length is checked rather than trusted too.
        if mem.len() < bytes || !mem.device_addr().is_multiple_of(128) {
            return Err(format!("{name}: the {what} ring's memory is too small or misaligned"));
        }
        Ok(Self { mem, size, buffers_at })
    }

    fn check(&self, i: u16) -> usize {
        assert!(i < self.size, "e1000: descriptor {i} out of range (ring of {})", self.size);
        usize::from(i)
    }

    /// Descriptor `i`'s address, for the CPU.
    fn descriptor(&self, i: u16) -> *mut u8 {
        let i = self.check(i);
        // SAFETY: `i < size`, and the allocation holds `size` 16-byte descriptors from its
        // start (its length was checked in `new`).
        unsafe { self.mem.ptr().add(16 * i) }
    }

    /// Buffer `i`, for the CPU: `BUFFER` bytes.
    fn buffer(&self, i: u16) -> *mut u8 {
        let i = self.check(i);
        // SAFETY: `i < size`, and the allocation holds `size` buffers from `buffers_at`
        // (its length was checked in `new`).
        unsafe { self.mem.ptr().add(self.buffers_at + i * BUFFER) }
    }

    /// Buffer `i`, for the device.
    fn buffer_addr(&self, i: u16) -> u64 {
        let i = self.check(i);
        self.mem.device_addr() + (self.buffers_at + i * BUFFER) as u64
    }

    /// The ring's base, for the device.
    fn base(&self) -> u64 {
        self.mem.device_addr()
    }

    /// The ring's length in bytes, for RDLEN/TDLEN.
    fn ring_bytes(&self) -> u32 {
        16 * u32::from(self.size)
    }
}

/// The receive side. The device owns the descriptors from its head up to the tail (RDT)
/// exclusive; the driver takes them back in order as their DD bit appears, and hands each
/// back (status cleared) once smoltcp is done with the frame in it.
struct Rx {
    ring: DmaRing,
    /// The next descriptor the device will complete.
    next: u16,
    /// The descriptor handed back last: the tail to publish.
    returned: u16,
    /// Descriptors handed back since the tail register was last written.
    unpublished: u16,
}

impl Rx {
    fn new(pci: &mut dyn PciFunction, model: Model) -> Result<Self, String> {
        let ring = DmaRing::new(pci, RX_DESCRIPTORS, model, "receive")?;
        let rx = Self { ring, next: 0, returned: RX_DESCRIPTORS - 1, unpublished: 0 };
        for i in 0..RX_DESCRIPTORS {
            rx.reset_descriptor(i);
        }
        Ok(rx)
    }

    fn descriptor(&self, i: u16) -> *mut RxDescriptor {
        self.ring.descriptor(i).cast()
    }

    /// Points descriptor `i` at its buffer, with status, errors and length cleared (the
    /// device leaves bits it does not write as they were).
    fn reset_descriptor(&self, i: u16) {
        let d = RxDescriptor {
            addr: self.ring.buffer_addr(i),
            length: 0,
            checksum: 0,
            status: 0,
            errors: 0,
            special: 0,
        };
        // SAFETY: `descriptor` checked the index; the pointer is 16-byte aligned (a 4 KiB
        // aligned base plus 16 i).
        unsafe { self.descriptor(i).write_volatile(d) };
    }

    /// What descriptor `next` holds.
    fn peek(&self) -> RxVerdict {
        let d = self.descriptor(self.next);
        // SAFETY: as in `reset_descriptor`.
        let status = unsafe { ptr::addr_of!((*d).status).read_volatile() };
        if status & RXD_STAT_DD == 0 {
            return RxVerdict::Pending;
        }
        // The device writes the descriptor (and the frame before it) before DD shows:
        // the rest is read only after DD was seen.
        fence(Ordering::Acquire);
        // SAFETY: as in `reset_descriptor`.
        let d = unsafe { d.read_volatile() };
        rx_verdict(d.status, d.errors, d.length)
    }

    /// Hands descriptor `i` (which must be `next`) back, to be published with the tail.
    fn give_back(&mut self, i: u16) {
        assert_eq!(i, self.next, "e1000: receive descriptors go back in order");
        self.reset_descriptor(i);
        self.next = (i + 1) % self.ring.size;
        self.returned = i;
        self.unpublished += 1;
    }
}

/// The transmit side. Descriptors from `clean` (the oldest in flight) up to `tail`
/// (exclusive) belong to the device until their DD bit appears.
struct Tx {
    ring: DmaRing,
    /// The next descriptor to fill: the tail published to the device.
    tail: u16,
    /// The oldest descriptor in flight.
    clean: u16,
    in_flight: u16,
}

impl Tx {
    fn new(pci: &mut dyn PciFunction, model: Model) -> Result<Self, String> {
        let ring = DmaRing::new(pci, TX_DESCRIPTORS, model, "transmit")?;
        Ok(Self { ring, tail: 0, clean: 0, in_flight: 0 })
    }

    fn descriptor(&self, i: u16) -> *mut TxDescriptor {
        self.ring.descriptor(i).cast()
    }

    /// Full: one descriptor short of the ring, so the tail never catches up with the
    /// head (which would read as an empty ring).
    fn is_full(&self) -> bool {
        self.in_flight >= self.ring.size - 1
    }

    /// Takes back the descriptors the device is done with.
    fn reclaim(&mut self) {
        while self.in_flight > 0 {
            let d = self.descriptor(self.clean);
            // SAFETY: `descriptor` checked the index; the pointer is 16-byte aligned.
            let status = unsafe { ptr::addr_of!((*d).status).read_volatile() };
            if status & TXD_STAT_DD == 0 {
                break;
            }
            // The buffer is reused only after the device said it has read it.
            fence(Ordering::Acquire);
            self.clean = (self.clean + 1) % self.ring.size;
            self.in_flight -= 1;
        }
    }

    /// Hands the frame of `len` bytes in buffer `tail` to the device (in memory; the tail
    /// register is the caller's to write).
    fn post(&mut self, len: usize) {
        assert!(!self.is_full() && len <= BUFFER, "e1000: transmit() checked a descriptor is free");
        let i = self.tail;
        let d = TxDescriptor {
            addr: self.ring.buffer_addr(i),
            length: len as u16,
            cso: 0,
            cmd: TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS,
            status: 0,
            css: 0,
            special: 0,
        };
        // SAFETY: `descriptor` checked the index; the pointer is 16-byte aligned.
        unsafe { self.descriptor(i).write_volatile(d) };
        self.tail = (i + 1) % self.ring.size;
        self.in_flight += 1;
    }
}

/// The PCI function, held exclusively: its registers, and which model it is. Dropping it
/// gives the function back to the platform.
struct Regs {
    pci: Box<dyn PciFunction>,
    model: Model,
}

impl Regs {
    fn pci(&mut self) -> &mut dyn PciFunction {
        &mut *self.pci
    }

    fn read(&mut self, reg: u64) -> u32 {
        self.pci().mem_read::<u32>(BAR, reg)
    }

    fn write(&mut self, reg: u64, value: u32) {
        self.pci().mem_write::<u32>(BAR, reg, value);
    }

    /// Clears the bits `clear` of a register and sets `set`.
    fn modify(&mut self, reg: u64, clear: u32, set: u32) {
        let value = self.read(reg);
        self.write(reg, (value & !clear) | set);
    }

    fn stall_us(&self, us: u64) {
        self.pci.stall_us(us);
    }

    /// Polls `done` every `step_us` until it holds or `timeout_us` has passed; whether it
    /// held.
    fn poll(&mut self, timeout_us: u64, step_us: u64, mut done: impl FnMut(&mut Self) -> bool) -> bool {
        let mut waited = 0;
        loop {
            if done(self) {
                return true;
            }
            if waited >= timeout_us {
                return false;
            }
            self.stall_us(step_us);
            waited += step_us;
        }
    }

    /// Stops all DMA and resets the MAC: interrupts masked, receiver and transmitter
    /// disabled (QEMU's e1000 model does nothing else on reset), on the 82574 PCIe
    /// mastering drained, then CTRL.RST. True when the device confirmed every step;
    /// false when it may still be running (a bit never cleared, or it reads as all ones,
    /// as a device that no longer answers does).
    fn stop(&mut self) -> bool {
        self.write(IMC, u32::MAX);
        self.modify(RCTL, RCTL_EN, 0);
        self.modify(TCTL, TCTL_EN, 0);
        // Reading a register pushes the posted writes out; a disabled unit stops after
        // the frame it is on, whose DMA is given time to finish.
        let _ = self.read(STATUS);
        self.stall_us(DRAIN_US);
        let mut quiet = true;
        let mut mdio_owned = false;
        if self.model == Model::I82574 {
            // No master request may be outstanding when the reset hits the PCIe link.
            self.modify(CTRL, 0, CTRL_GIO_MASTER_DISABLE);
            quiet = self.poll(GIO_MASTER_US, 100, |r| r.read(STATUS) & STATUS_GIO_MASTER_ENABLE == 0);
            // Keep the manageability firmware off the PHY while the MAC resets. Not
            // getting it is no reason not to stop the device: reset all the same.
            self.modify(EXTCNF_CTRL, 0, EXTCNF_CTRL_MDIO_SW_OWNERSHIP);
            mdio_owned = self
                .poll(MDIO_OWNERSHIP_US, 1_000, |r| r.read(EXTCNF_CTRL) & EXTCNF_CTRL_MDIO_SW_OWNERSHIP != 0);
        }
        let ctrl = self.read(CTRL);
        self.write(CTRL, ctrl | CTRL_RST);
        self.stall_us(RESET_SETTLE_US);
        let reset = self.poll(RESET_US, 100, |r| r.read(CTRL) & CTRL_RST == 0);
        if mdio_owned {
            self.modify(EXTCNF_CTRL, EXTCNF_CTRL_MDIO_SW_OWNERSHIP, 0);
        }
        let status = self.read(STATUS);
        let rctl = self.read(RCTL);
        let tctl = self.read(TCTL);
        quiet && reset && status != u32::MAX && rctl & RCTL_EN == 0 && tctl & TCTL_EN == 0
    }

    /// After a reset: waits for the EEPROM-loaded registers, masks interrupts again and
    /// clears any pending cause.
    fn after_reset(&mut self) {
        match self.model {
            Model::I8254x | Model::I82546 => self.stall_us(AUTO_READ_8254X_US),
            Model::I82544 => {
                self.modify(CTRL_EXT, 0, CTRL_EXT_EE_RST);
                let _ = self.read(STATUS);
                self.stall_us(EE_RELOAD_82544_US);
            }
            Model::I82574 => {
                // Not done in time is no error: EERD and RAL/RAH are checked later.
                let _ = self.poll(AUTO_READ_82574_US, 100, |r| r.read(EECD) & EECD_AUTO_RD != 0);
            }
        }
        self.write(IMC, u32::MAX);
        let _ = self.read(ICR);
    }

    /// Reads EEPROM word `word` through EERD; `None` without EERD or when the read never
    /// completes.
    fn eeprom_word(&mut self, word: u8) -> Option<u16> {
        let (request, done) = eerd_request(self.model, word)?;
        self.write(EERD, request);
        let mut value = 0;
        self.poll(EERD_US, 5, |r| {
            value = r.read(EERD);
            value & done != 0
        })
        .then_some((value >> EERD_DATA_SHIFT) as u16)
    }

    /// The station MAC address: from receive address 0, which the device loads from the
    /// EEPROM on reset (QEMU too), else from the EEPROM itself.
    fn read_mac(&mut self) -> Result<[u8; 6], String> {
        let name = self.model.name();
        let (ral, rah) = (self.read(RAL0), self.read(RAH0));
        if let Some(mac) = mac_from_ra(ral, rah).filter(|&mac| valid_mac(mac)) {
            return Ok(mac);
        }
        let mut words = [0u16; 3];
        for (i, word) in (0u8..).zip(words.iter_mut()) {
            *word = self.eeprom_word(i).ok_or_else(|| {
                format!(
                    "{name}: no MAC address in RAL0/RAH0 ({ral:08x}/{rah:08x}) and the EEPROM cannot be read"
                )
            })?;
        }
        let mut mac = mac_from_words(words);
        if self.model == Model::I82546 && self.read(STATUS) & STATUS_FUNC_1 != 0 {
            mac[5] ^= 1;
        }
        if valid_mac(mac) {
            Ok(mac)
        } else {
            Err(format!("{name}: no valid MAC address (RAL0/RAH0 {ral:08x}/{rah:08x}, EEPROM {mac:02x?})"))
        }
    }

    /// Programs the reset device: link, address filters, both rings, and the receiver
    /// and transmitter on.
    fn configure(&mut self, mac: [u8; 6], rx: &Rx, tx: &Tx) {
        let is_82574 = self.model == Model::I82574;

        // Link: the MAC follows the PHY's auto-negotiated speed and duplex; nothing
        // forced, no VLAN stripping.
        let mut clear =
            CTRL_LRST | CTRL_ILOS | CTRL_FRCSPD | CTRL_FRCDPLX | CTRL_VME | CTRL_PHY_RST | CTRL_RST;
        if is_82574 {
            clear |= CTRL_GIO_MASTER_DISABLE | CTRL_82574_CLEAR;
        }
        self.modify(CTRL, clear, CTRL_SLU | CTRL_ASDE);
        if is_82574 {
            self.modify(CTRL_EXT, CTRL_EXT_82574_CLEAR, CTRL_EXT_82574_SET);
            self.modify(GCR, 0, GCR_82574_SET);
            self.modify(GCR2, 0, GCR2_82574_SET);
            self.modify(RFCTL, RFCTL_EXTEN, 0);
        }

        // Address filters: our unicast address in entry 0, the other entries invalid, no
        // multicast hashes.
        let (ral, rah) = ra_from_mac(mac);
        self.write(RAL0, ral);
        self.write(RAH0, rah);
        for n in 1..RECEIVE_ADDRESSES {
            self.write(RAH0 + 8 * n, 0);
            self.write(RAL0 + 8 * n, 0);
        }
        for n in 0..MTA_WORDS {
            self.write(MTA + 4 * n, 0);
        }

        // Receive: every descriptor but the last is the device's.
        let base = rx.ring.base();
        self.write(RDBAL, base as u32);
        self.write(RDBAH, (base >> 32) as u32);
        self.write(RDLEN, rx.ring.ring_bytes());
        self.write(RDH, 0);
        self.write(RDT, 0);
        self.write(RCTL, RCTL_VALUE);
        self.write(RDT, u32::from(rx.returned));

        // Transmit: empty ring.
        let base = tx.ring.base();
        self.write(TDBAL, base as u32);
        self.write(TDBAH, (base >> 32) as u32);
        self.write(TDLEN, tx.ring.ring_bytes());
        self.write(TDH, 0);
        self.write(TDT, 0);
        if is_82574 {
            self.write(TIPG, TIPG_82574);
            self.modify(TXDCTL, 0, TXDCTL_82574_SET);
            self.modify(TARC0, TARC0_82574_CLEAR, TARC0_82574_SET | TARC0_ENABLE);
            // Its reserved TCTL bits keep their reset values.
            self.modify(TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD, TCTL_VALUE);
        } else {
            self.write(TIPG, TIPG_8254X);
            self.write(TCTL, TCTL_VALUE);
        }
    }
}

/// An Intel PRO/1000 NIC driven directly. Field order matters for drop: the rings' DMA
/// memory is released (after `drop` has stopped the device) before the PCI function
/// goes back to the platform.
pub struct E1000 {
    rx: Rx,
    tx: Tx,
    regs: Regs,
    mac: [u8; 6],
}

impl E1000 {
    /// Sets up the function `pci` (held exclusively; one [`matches`] accepted); an error
    /// says what failed (the function then goes back to the platform, stopped).
    pub fn open(mut pci: Box<dyn PciFunction>) -> Result<Self, String> {
        let vendor = pci.config::<u16>(PCI_VENDOR);
        let device = pci.config::<u16>(PCI_DEVICE);
        let model = match (vendor, device) {
            (Some(VENDOR_INTEL), Some(device)) => model(device),
            _ => None,
        }
        .ok_or_else(|| {
            let (vendor, device) = (vendor.unwrap_or(0xffff), device.unwrap_or(0xffff));
            format!("e1000: {vendor:04x}:{device:04x} is not a device this driver knows")
        })?;
        let name = model.name();
        if pci.config::<u32>(PCI_BAR0).is_none_or(|bar| bar & 1 != 0) {
            return Err(format!("{name}: BAR 0 is not a memory BAR"));
        }
        // Registers first; bus mastering only once the device is stopped, so one left
        // running (by a PXE ROM, say) cannot write to addresses it was given before.
        pci.enable(false, true, false).map_err(|e| format!("{name}: cannot enable the device: {e}"))?;
        let mut regs = Regs { pci, model };
        if !regs.stop() {
            return Err(format!("{name}: the device did not confirm its reset"));
        }
        regs.pci()
            .enable(false, true, true)
            .map_err(|e| format!("{name}: cannot enable bus mastering: {e}"))?;
        regs.after_reset();
        let mac = regs.read_mac()?;
        // Allocated only now: the device has been stopped and knows no address in them.
        let rx = Rx::new(regs.pci(), model)?;
        let tx = Tx::new(regs.pci(), model)?;
        regs.configure(mac, &rx, &tx);
        Ok(Self { rx, tx, regs, mac })
    }

    /// The station MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Which driver runs the NIC, for the console: "e1000" (8254x) or "e1000e" (82574).
    pub fn name(&self) -> &'static str {
        self.regs.model.name()
    }

    /// Writes the receive tail if descriptors were handed back since it was last written.
    fn publish_rx(&mut self) {
        if self.rx.unpublished > 0 {
            // The cleared descriptors must be visible before the tail that hands them over.
            fence(Ordering::Release);
            self.regs.write(RDT, u32::from(self.rx.returned));
            self.rx.unpublished = 0;
        }
    }
}

impl E1000 {
    /// Disables receive and transmit and resets the device, which stops all DMA; whether
    /// it confirmed it.
    pub fn stop(&mut self) -> bool {
        self.regs.stop()
    }
}

impl Drop for E1000 {
    /// Stops the device, which ends all DMA, before the rings' memory is freed.
    fn drop(&mut self) {
        if !self.regs.stop() {
            // The device may still write to the rings: never give their memory back.
            self.rx.ring.mem.leak();
            self.tx.ring.mem.leak();
        }
    }
}

/// A received frame, read in place; its descriptor goes back to the device when the
/// token is dropped (consumed or not).
pub struct RxToken<'a> {
    rx: &'a mut Rx,
    index: u16,
    len: usize,
}

/// Permission to send one frame: a free transmit descriptor.
pub struct TxToken<'a> {
    tx: &'a mut Tx,
    regs: &'a mut Regs,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        assert!(self.len <= BUFFER);
        let buf = self.rx.ring.buffer(self.index);
        // SAFETY: the device wrote the frame (DD was set) and no longer owns the buffer
        // until the token's drop hands the descriptor back; `len` is within the buffer.
        let frame = unsafe { core::slice::from_raw_parts(buf, self.len) };
        f(frame)
    }
}

impl Drop for RxToken<'_> {
    fn drop(&mut self) {
        self.rx.give_back(self.index);
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        assert!(!self.tx.is_full(), "e1000: transmit() checked a descriptor is free");
        let len = len.min(FRAME);
        let buf = self.tx.ring.buffer(self.tx.tail);
        // SAFETY: descriptor `tail` is not in flight (the ring is not full), so the device
        // does not read its buffer; `len <= FRAME <= BUFFER`.
        let frame = unsafe { core::slice::from_raw_parts_mut(buf, len) };
        let result = f(frame);
        if len > 0 {
            self.tx.post(len);
            // The descriptor and the frame must be visible before the tail that hands
            // them over.
            fence(Ordering::Release);
            self.regs.write(TDT, u32::from(self.tx.tail));
        }
        result
    }
}

impl phy::Device for E1000 {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        self.tx.reclaim();
        if self.rx.unpublished >= RX_PUBLISH_BATCH {
            self.publish_rx();
        }
        // Bad frames are handed back on the spot; at most a ring's worth per call.
        for _ in 0..self.rx.ring.size {
            match self.rx.peek() {
                RxVerdict::Pending => break,
                RxVerdict::Drop => {
                    let next = self.rx.next;
                    self.rx.give_back(next);
                }
                RxVerdict::Frame(len) => {
                    if self.tx.is_full() {
                        // Keep the frame for the next call; smoltcp needs a transmit
                        // token with it. Never drop data.
                        break;
                    }
                    let index = self.rx.next;
                    return Some((
                        RxToken { rx: &mut self.rx, index, len },
                        TxToken { tx: &mut self.tx, regs: &mut self.regs },
                    ));
                }
            }
        }
        // Nothing (more) to take now: give the device every descriptor handed back.
        self.publish_rx();
        None
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        self.tx.reclaim();
        if self.tx.is_full() {
            return None;
        }
        Some(TxToken { tx: &mut self.tx, regs: &mut self.regs })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        super::nic::ethernet_capabilities()
    }
}
