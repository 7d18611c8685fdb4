//! Host tests: the driver against a register-level model of the device (8254x or 82574),
//! through its public API only (`matches`, `E1000::open`, smoltcp's `Device`).

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use smoltcp::phy::{Device, RxToken, TxToken};
use smoltcp::time::Instant;

use bootsign_firmware_core::net::e1000::{self, E1000};
use bootsign_firmware_core::pci::{DmaMemory, Identity, PciFunction, Space, Width};

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
const TXDCTL: u64 = 0x3828;
const TARC0: u64 = 0x3840;
const RFCTL: u64 = 0x5008;
const MTA: u64 = 0x5200;
const RAL0: u64 = 0x5400;
const RAH0: u64 = 0x5404;
const GCR: u64 = 0x5b00;
const GCR2: u64 = 0x5b64;

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

fn now() -> Instant {
    Instant::from_millis(0)
}

#[derive(Default)]
struct Dev {
    e1000e: bool,
    regs: HashMap<u64, u32>,
    eeprom: Vec<u16>,
    /// Whether CTRL.RST resets registers (real hardware, QEMU's e1000e) or does nothing
    /// else than self-clear (QEMU's e1000).
    honours_reset: bool,
    /// Whether a reset loads the EEPROM's MAC address into RAL0/RAH0.
    reset_loads_ra: bool,
    /// CTRL.RST never clears (a wedged device).
    rst_sticks: bool,
    /// The transmitter does not process descriptors.
    tx_stalled: bool,
    sent: Vec<Vec<u8>>,
    resets: usize,
    rdt_writes: usize,
    frees: usize,
    leaks: usize,
    bus_master: bool,
    memory: bool,
    /// RCTL and TCTL as they were when RDBAL was written (the rings must be programmed
    /// with both units off).
    enables_at_ring_setup: Vec<u32>,
}

impl Dev {
    fn reg(&self, r: u64) -> u32 {
        self.regs.get(&r).copied().unwrap_or(0)
    }

    fn reset(&mut self) {
        self.resets += 1;
        if self.honours_reset {
            self.regs.clear();
            if self.e1000e {
                self.regs.insert(TARC0, 0x403);
                self.regs.insert(EECD, 1 << 9);
                self.regs.insert(TXDCTL, 1 << 24);
                self.regs.insert(TCTL, 0x3103_f0f8 & !2);
            }
        }
        if self.reset_loads_ra {
            let w = &self.eeprom;
            self.regs.insert(RAL0, u32::from(w[0]) | (u32::from(w[1]) << 16));
            self.regs.insert(RAH0, u32::from(w[2]) | (1 << 31));
        }
    }

    fn read(&mut self, r: u64) -> u32 {
        match r {
            STATUS => {
                let mut s = 1 << 1 | 1;
                if !self.e1000e || self.reg(CTRL) & (1 << 2) == 0 {
                    s |= 1 << 19;
                }
                s
            }
            ICR => self.regs.insert(ICR, 0).unwrap_or(0),
            _ => self.reg(r),
        }
    }

    fn write(&mut self, r: u64, v: u32) {
        match r {
            CTRL => {
                if v & (1 << 26) != 0 {
                    self.reset();
                }
                let v = if self.rst_sticks { v } else { v & !(1 << 26) };
                self.regs.insert(CTRL, v);
            }
            EERD => {
                let (addr, done) =
                    if self.e1000e { ((v >> 2) & 0x3fff, 1 << 1) } else { ((v >> 8) & 0xff, 1 << 4) };
                let value = if v & 1 != 0 && (addr as usize) < self.eeprom.len() {
                    done | (u32::from(self.eeprom[addr as usize]) << 16)
                } else {
                    0
                };
                self.regs.insert(EERD, value);
            }
            RDBAL => {
                self.enables_at_ring_setup.push(self.reg(RCTL) & 2 | self.reg(TCTL) & 2);
                self.regs.insert(r, v);
            }
            RDT => {
                self.rdt_writes += 1;
                self.regs.insert(r, v & 0xffff);
            }
            TDT | TCTL => {
                self.regs.insert(r, if r == TDT { v & 0xffff } else { v });
                self.process_tx();
            }
            _ => {
                self.regs.insert(r, v);
            }
        }
    }

    fn process_tx(&mut self) {
        let enabled = self.reg(TCTL) & 2 != 0 && (!self.e1000e || self.reg(TARC0) & (1 << 10) != 0);
        if !enabled || self.tx_stalled {
            return;
        }
        let n = self.reg(TDLEN) / 16;
        let base = u64::from(self.reg(TDBAL)) | u64::from(self.reg(TDBAH)) << 32;
        while self.reg(TDH) != self.reg(TDT) {
            let desc = (base + 16 * u64::from(self.reg(TDH))) as *mut u8;
            // SAFETY: test memory: device addresses are host addresses.
            let (addr, len, cmd) = unsafe {
                (
                    desc.cast::<u64>().read_volatile(),
                    desc.add(8).cast::<u16>().read_volatile(),
                    desc.add(11).read_volatile(),
                )
            };
            assert_eq!(cmd, 0b1011, "EOP | IFCS | RS");
            // SAFETY: as above.
            let frame = unsafe { std::slice::from_raw_parts(addr as *const u8, usize::from(len)) };
            self.sent.push(frame.to_vec());
            // SAFETY: as above.
            unsafe { desc.add(12).write_volatile(1) };
            let next = (self.reg(TDH) + 1) % n;
            self.regs.insert(TDH, next);
        }
    }

    /// Delivers a frame into the next receive descriptor; false when the ring is full or
    /// the receiver is off.
    fn inject(&mut self, frame: &[u8], status: u8, errors: u8) -> bool {
        if self.reg(RCTL) & 2 == 0 || self.reg(RDH) == self.reg(RDT) {
            return false;
        }
        assert!(frame.len() <= 2048);
        let n = self.reg(RDLEN) / 16;
        let base = u64::from(self.reg(RDBAL)) | u64::from(self.reg(RDBAH)) << 32;
        let desc = (base + 16 * u64::from(self.reg(RDH))) as *mut u8;
        // SAFETY: test memory: device addresses are host addresses.
        unsafe {
            assert_eq!(desc.add(12).read_volatile(), 0, "the driver cleared the status");
            let addr = desc.cast::<u64>().read_volatile() as *mut u8;
            std::ptr::copy_nonoverlapping(frame.as_ptr(), addr, frame.len());
            desc.add(8).cast::<u16>().write_volatile(frame.len() as u16);
            desc.add(13).write_volatile(errors);
            desc.add(12).write_volatile(status);
        }
        let next = (self.reg(RDH) + 1) % n;
        self.regs.insert(RDH, next);
        true
    }
}

struct Mem {
    ptr: *mut u8,
    len: usize,
    leaked: bool,
    dev: Rc<RefCell<Dev>>,
}

// SAFETY: a zeroed, 4 KiB-aligned heap allocation of `len` bytes, owned by this value;
// the model uses host addresses as device addresses.
unsafe impl DmaMemory for Mem {
    fn ptr(&self) -> *mut u8 {
        self.ptr
    }
    fn len(&self) -> usize {
        self.len
    }
    fn device_addr(&self) -> u64 {
        self.ptr as u64
    }
    fn leak(&mut self) {
        self.leaked = true;
    }
}

impl Drop for Mem {
    fn drop(&mut self) {
        if self.leaked {
            self.dev.borrow_mut().leaks += 1;
        } else {
            // SAFETY: allocated in `alloc_dma` with this layout.
            unsafe { dealloc(self.ptr, Layout::from_size_align(self.len, 4096).unwrap()) };
            self.dev.borrow_mut().frees += 1;
        }
    }
}

struct Func {
    dev: Rc<RefCell<Dev>>,
    device: u16,
    bar0: u32,
}

impl PciFunction for Func {
    fn busdevfn(&self) -> u16 {
        0x18
    }
    fn config_read(&mut self, offset: u32, width: Width) -> Option<u32> {
        let dword = match offset & !3 {
            0x00 => 0x8086 | u32::from(self.device) << 16,
            0x10 => self.bar0,
            _ => 0,
        };
        let shifted = dword >> (8 * (offset & 3));
        Some(match width {
            Width::U8 => shifted & 0xff,
            Width::U16 => shifted & 0xffff,
            Width::U32 => shifted,
        })
    }
    fn config_write(&mut self, _offset: u32, _width: Width, _value: u32) {}
    fn bar_read(&mut self, space: Space, bar: u8, offset: u64, width: Width) -> u32 {
        assert_eq!((space, bar, width), (Space::Memory, 0, Width::U32));
        self.dev.borrow_mut().read(offset)
    }
    fn bar_write(&mut self, space: Space, bar: u8, offset: u64, width: Width, value: u32) {
        assert_eq!((space, bar, width), (Space::Memory, 0, Width::U32));
        self.dev.borrow_mut().write(offset, value);
    }
    fn enable(&mut self, io: bool, memory: bool, bus_master: bool) -> Result<(), String> {
        assert!(!io);
        let mut d = self.dev.borrow_mut();
        d.memory |= memory;
        d.bus_master |= bus_master;
        Ok(())
    }
    fn alloc_dma(&mut self, pages: usize) -> Result<Box<dyn DmaMemory>, String> {
        let len = pages * 4096;
        // SAFETY: a non-zero size.
        let ptr = unsafe { alloc_zeroed(Layout::from_size_align(len, 4096).unwrap()) };
        assert!(!ptr.is_null());
        Ok(Box::new(Mem { ptr, len, leaked: false, dev: self.dev.clone() }))
    }
    fn stall_us(&self, _us: u64) {}
}

fn eeprom_with_mac(mac: [u8; 6]) -> Vec<u16> {
    let mut e = vec![0u16; 64];
    for i in 0..3 {
        e[i] = u16::from_le_bytes([mac[2 * i], mac[2 * i + 1]]);
    }
    e
}

/// A model of device `device` (QEMU-like: its e1000 ignores resets, its e1000e honours them).
fn model(device: u16) -> Rc<RefCell<Dev>> {
    let e1000e = device == 0x10d3;
    Rc::new(RefCell::new(Dev {
        e1000e,
        eeprom: eeprom_with_mac(MAC),
        honours_reset: e1000e,
        reset_loads_ra: true,
        ..Dev::default()
    }))
}

fn open(dev: &Rc<RefCell<Dev>>, device: u16) -> Result<E1000, String> {
    E1000::open(Box::new(Func { dev: dev.clone(), device, bar0: 0xfebc_0000 }))
}

fn frame(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|b| (i * 7 + b) as u8).collect()
}

fn send(nic: &mut E1000, data: &[u8]) -> bool {
    match nic.transmit(now()) {
        Some(t) => {
            t.consume(data.len(), |buf| buf.copy_from_slice(data));
            true
        }
        None => false,
    }
}

fn recv(nic: &mut E1000) -> Option<Vec<u8>> {
    let (rx, _tx) = nic.receive(now())?;
    Some(rx.consume(|f| f.to_vec()))
}

#[test]
fn matches_supported_ids_with_memory_bar() {
    let id = |device, bar0| Identity { vendor: 0x8086, device, subsystem: 0, bar0 };
    for device in [0x100e, 0x100c, 0x100f, 0x10d3, 0x1010, 0x1026, 0x10f6] {
        assert!(e1000::matches(&id(device, 0x0000)), "{device:04x}");
        assert!(!e1000::matches(&id(device, 0xc001)), "{device:04x} with an I/O BAR 0");
    }
    for device in [0x1000, 0x1011, 0x1013, 0x1075, 0x10d5, 0x1041] {
        assert!(!e1000::matches(&id(device, 0)), "{device:04x}");
    }
    assert!(!e1000::matches(&Identity { vendor: 0x1af4, device: 0x100e, subsystem: 0, bar0: 0 }));
}

#[test]
fn open_e1000_programs_the_device() {
    let dev = model(0x100e);
    {
        // An earlier driver's state: running, garbage in the multicast table.
        let mut d = dev.borrow_mut();
        d.reset();
        d.regs.insert(RCTL, 0x0400_8002);
        d.regs.insert(TCTL, 0x0004_010a);
        d.regs.insert(MTA + 4 * 7, 0xdead_beef);
    }
    let nic = open(&dev, 0x100e).unwrap();
    assert_eq!(nic.mac(), MAC);
    assert_eq!(nic.name(), "e1000");
    let d = dev.borrow();
    assert!(d.bus_master && d.memory);
    assert_eq!(d.enables_at_ring_setup, [0], "rings programmed with RX and TX off");
    assert_eq!(d.reg(RCTL), (1 << 1) | (1 << 15) | (1 << 26));
    assert_eq!(d.reg(TCTL), (1 << 1) | (1 << 3) | (0x0f << 4) | (0x40 << 12));
    assert_eq!(d.reg(TIPG), 10 | (8 << 10) | (6 << 20));
    assert_eq!(d.reg(RDLEN), 4096);
    assert_eq!(d.reg(TDLEN), 4096);
    assert_eq!((d.reg(RDH), d.reg(RDT), d.reg(TDH), d.reg(TDT)), (0, 255, 0, 0));
    assert_eq!(d.reg(RDBAL) % 4096, 0);
    assert_eq!(d.reg(RAL0), 0x1200_5452);
    assert_eq!(d.reg(RAH0), 0x8000_5634);
    assert_eq!(d.reg(MTA + 4 * 7), 0);
    assert_eq!(d.reg(IMC), u32::MAX);
    let ctrl = d.reg(CTRL);
    assert_eq!(ctrl & ((1 << 6) | (1 << 5)), (1 << 6) | (1 << 5), "SLU, ASDE");
    assert_eq!(ctrl & ((1 << 3) | (1 << 31) | (1 << 26)), 0, "no LRST, PHY_RST, RST");
}

#[test]
fn open_e1000e_sets_its_extras() {
    let dev = model(0x10d3);
    dev.borrow_mut().regs.insert(CTRL_EXT, 1 << 23);
    dev.borrow_mut().honours_reset = false; // so the values set before open survive
    {
        let mut d = dev.borrow_mut();
        d.reset();
        d.regs.insert(TARC0, 0x7800_0003);
        d.regs.insert(RFCTL, 1 << 15);
    }
    let nic = open(&dev, 0x10d3).unwrap();
    assert_eq!(nic.name(), "e1000e");
    assert_eq!(nic.mac(), MAC);
    let d = dev.borrow();
    assert_eq!(d.reg(TARC0), 0x0400_0403, "enable bit 10 and bit 26 set, 30:27 clear");
    assert_eq!(d.reg(TXDCTL) & (1 << 22), 1 << 22);
    assert_eq!(d.reg(GCR) & (1 << 22), 1 << 22);
    assert_eq!(d.reg(GCR2) & 1, 1);
    assert_eq!(d.reg(CTRL_EXT) & (3 << 22), 1 << 22);
    assert_eq!(d.reg(RFCTL) & (1 << 15), 0, "legacy descriptors");
    assert_eq!(d.reg(TIPG), 8 | (8 << 10) | (6 << 20));
    assert_eq!(d.reg(CTRL) & (1 << 2), 0, "GIO master enabled again");
    assert_eq!(d.reg(TCTL) & 0x3ff_ffa, (1 << 1) | (1 << 3) | (0x0f << 4) | (0x40 << 12));
}

#[test]
fn e1000e_transmits_with_reset_values() {
    let dev = model(0x10d3);
    let mut nic = open(&dev, 0x10d3).unwrap();
    let d = dev.borrow();
    assert_eq!(d.reg(TXDCTL), (1 << 24) | (1 << 22));
    assert_eq!(d.reg(TCTL) & 0xf000_0000, 0x3000_0000, "reserved TCTL bits kept");
    drop(d);
    assert!(send(&mut nic, &frame(1, 60)));
    assert_eq!(dev.borrow().sent, [frame(1, 60)]);
}

#[test]
fn mac_from_eeprom_in_both_eerd_layouts() {
    for device in [0x100e, 0x10d3, 0x1010] {
        let dev = model(device);
        dev.borrow_mut().reset_loads_ra = false;
        let nic = open(&dev, device).unwrap();
        assert_eq!(nic.mac(), MAC, "{device:04x}");
        assert_eq!(dev.borrow().reg(RAH0) >> 31, 1);
    }
}

#[test]
fn no_mac_without_eerd_or_valid_eeprom() {
    let dev = model(0x100c);
    dev.borrow_mut().reset_loads_ra = false;
    let err = open(&dev, 0x100c).err().unwrap();
    assert!(err.starts_with("e1000: no MAC address"), "{err}");

    let dev = model(0x100e);
    dev.borrow_mut().reset_loads_ra = false;
    dev.borrow_mut().eeprom = eeprom_with_mac([0xff; 6]);
    let err = open(&dev, 0x100e).err().unwrap();
    assert!(err.contains("no valid MAC address"), "{err}");
    assert_eq!(dev.borrow().frees, 0, "nothing allocated before the MAC is known");
}

#[test]
fn open_fails_when_reset_never_completes() {
    let dev = model(0x100e);
    dev.borrow_mut().rst_sticks = true;
    let err = open(&dev, 0x100e).err().unwrap();
    assert_eq!(err, "e1000: the device did not confirm its reset");
}

#[test]
fn transmits_many_frames_and_reclaims() {
    let dev = model(0x100e);
    let mut nic = open(&dev, 0x100e).unwrap();
    for i in 0..1000 {
        assert!(send(&mut nic, &frame(i, 60 + i % 1455)));
    }
    let d = dev.borrow();
    assert_eq!(d.sent.len(), 1000);
    for (i, f) in d.sent.iter().enumerate() {
        assert_eq!(*f, frame(i, 60 + i % 1455));
    }
}

#[test]
fn transmit_clamps_to_a_frame() {
    let dev = model(0x100e);
    let mut nic = open(&dev, 0x100e).unwrap();
    let t = nic.transmit(now()).unwrap();
    t.consume(4000, |buf| {
        assert_eq!(buf.len(), 1514);
        buf.fill(0xab);
    });
    assert_eq!(dev.borrow().sent, [vec![0xab; 1514]]);
}

#[test]
fn full_transmit_ring_returns_none_until_reclaimed() {
    let dev = model(0x100e);
    let mut nic = open(&dev, 0x100e).unwrap();
    dev.borrow_mut().tx_stalled = true;
    let mut queued = 0;
    while send(&mut nic, &frame(queued, 64)) {
        queued += 1;
        assert!(queued < 1000);
    }
    assert_eq!(queued, 255);
    {
        let mut d = dev.borrow_mut();
        d.tx_stalled = false;
        d.process_tx();
        assert_eq!(d.sent.len(), 255);
    }
    assert!(send(&mut nic, &frame(999, 64)));
    assert_eq!(dev.borrow().sent.last().unwrap(), &frame(999, 64));
}

#[test]
fn receives_in_place_across_many_ring_wraps() {
    let dev = model(0x100e);
    let mut nic = open(&dev, 0x100e).unwrap();
    let mut next_in = 0;
    let mut next_out = 0;
    while next_out < 2000 {
        // The device fills what it owns; the driver takes all of it.
        while next_in < 2000 && dev.borrow_mut().inject(&frame(next_in, 60 + next_in % 1455), 3, 0) {
            next_in += 1;
        }
        while let Some(f) = recv(&mut nic) {
            assert_eq!(f, frame(next_out, 60 + next_out % 1455));
            next_out += 1;
        }
        assert_eq!(next_out, next_in);
    }
    // Everything handed back was published: the device owns all but one descriptor.
    let d = dev.borrow();
    assert_eq!((d.reg(RDT) + 1) % 256, d.reg(RDH));
    // Batched: far fewer tail writes than frames.
    assert!(d.rdt_writes < 200, "{} RDT writes", d.rdt_writes);
}

#[test]
fn drops_bad_frames_and_gives_them_back() {
    let dev = model(0x100e);
    let mut nic = open(&dev, 0x100e).unwrap();
    {
        let mut d = dev.borrow_mut();
        assert!(d.inject(&frame(0, 100), 3, 0));
        assert!(d.inject(&frame(1, 100), 3, 0x01)); // CRC error
        assert!(d.inject(&frame(2, 100), 1, 0)); // no EOP: spans descriptors
        assert!(d.inject(&frame(3, 100), 3, 0x80)); // RX data error
        assert!(d.inject(&frame(4, 100), 3, 0x60)); // checksum errors only: kept
        assert!(d.inject(&[], 3, 0)); // empty
        assert!(d.inject(&frame(6, 100), 3 | 0x04, 0)); // IXSM and others: kept
    }
    assert_eq!(recv(&mut nic).unwrap(), frame(0, 100));
    assert_eq!(recv(&mut nic).unwrap(), frame(4, 100));
    assert_eq!(recv(&mut nic).unwrap(), frame(6, 100));
    assert_eq!(recv(&mut nic), None);
    let d = dev.borrow();
    assert_eq!((d.reg(RDT) + 1) % 256, d.reg(RDH));
}

#[test]
fn clamps_device_length_to_the_buffer() {
    let dev = model(0x100e);
    let mut nic = open(&dev, 0x100e).unwrap();
    {
        let mut d = dev.borrow_mut();
        assert!(d.inject(&frame(0, 64), 3, 0));
        // A device claiming more than the buffer holds.
        let base = u64::from(d.reg(RDBAL)) | u64::from(d.reg(RDBAH)) << 32;
        // SAFETY: test memory.
        unsafe { ((base + 8) as *mut u16).write_volatile(9000) };
    }
    assert_eq!(recv(&mut nic).unwrap().len(), 2048);
}

#[test]
fn keeps_a_frame_while_no_transmit_descriptor_is_free() {
    let dev = model(0x100e);
    let mut nic = open(&dev, 0x100e).unwrap();
    dev.borrow_mut().tx_stalled = true;
    while send(&mut nic, &frame(0, 64)) {}
    assert!(dev.borrow_mut().inject(&frame(42, 80), 3, 0));
    assert!(nic.receive(now()).is_none());
    assert!(nic.receive(now()).is_none());
    {
        let mut d = dev.borrow_mut();
        d.tx_stalled = false;
        d.process_tx();
    }
    assert_eq!(recv(&mut nic).unwrap(), frame(42, 80));
}

#[test]
fn unconsumed_rx_token_gives_the_descriptor_back() {
    let dev = model(0x100e);
    let mut nic = open(&dev, 0x100e).unwrap();
    assert!(dev.borrow_mut().inject(&frame(1, 64), 3, 0));
    assert!(dev.borrow_mut().inject(&frame(2, 64), 3, 0));
    drop(nic.receive(now()).unwrap());
    assert_eq!(recv(&mut nic).unwrap(), frame(2, 64));
    assert_eq!(recv(&mut nic), None);
}

#[test]
fn reply_through_the_paired_tx_token() {
    let dev = model(0x10d3);
    let mut nic = open(&dev, 0x10d3).unwrap();
    assert!(dev.borrow_mut().inject(&frame(5, 98), 3, 0));
    let (rx, tx) = nic.receive(now()).unwrap();
    let got = rx.consume(|f| f.to_vec());
    tx.consume(got.len(), |buf| buf.copy_from_slice(&got));
    assert_eq!(dev.borrow().sent, [frame(5, 98)]);
}

#[test]
fn drop_stops_resets_and_frees() {
    for device in [0x100e, 0x10d3] {
        let dev = model(device);
        let nic = open(&dev, device).unwrap();
        let resets = dev.borrow().resets;
        drop(nic);
        let d = dev.borrow();
        assert_eq!(d.resets, resets + 1);
        assert_eq!(d.reg(RCTL) & 2, 0);
        assert_eq!(d.reg(TCTL) & 2, 0);
        assert_eq!((d.frees, d.leaks), (2, 0));
    }
}

#[test]
fn drop_leaks_memory_of_a_device_that_does_not_stop() {
    let dev = model(0x100e);
    let nic = open(&dev, 0x100e).unwrap();
    dev.borrow_mut().rst_sticks = true;
    drop(nic);
    let d = dev.borrow();
    assert_eq!((d.frees, d.leaks), (0, 2));
}

#[test]
fn smoltcp_answers_arp_and_ping_through_the_driver() {
    use smoltcp::iface::{Config, Interface, SocketSet};
    use smoltcp::wire::{
        ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr,
        HardwareAddress, Icmpv4Packet, Icmpv4Repr, IpAddress, IpCidr, IpProtocol, Ipv4Address, Ipv4Packet,
        Ipv4Repr,
    };

    for device in [0x100e, 0x10d3] {
        let dev = model(device);
        let mut nic = open(&dev, device).unwrap();
        let ours = EthernetAddress(nic.mac());
        let peer = EthernetAddress([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);
        let (our_ip, peer_ip) = (Ipv4Address::new(10, 0, 2, 15), Ipv4Address::new(10, 0, 2, 2));
        let mut iface = Interface::new(Config::new(HardwareAddress::Ethernet(ours)), &mut nic, now());
        iface.update_ip_addrs(|a| a.push(IpCidr::new(IpAddress::Ipv4(our_ip), 24)).unwrap());
        let mut sockets = SocketSet::new(Vec::new());

        // ARP request, broadcast.
        let arp = ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Request,
            source_hardware_addr: peer,
            source_protocol_addr: peer_ip,
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: our_ip,
        };
        let eth = EthernetRepr {
            src_addr: peer,
            dst_addr: EthernetAddress::BROADCAST,
            ethertype: EthernetProtocol::Arp,
        };
        let mut buf = vec![0u8; 14 + arp.buffer_len()];
        let mut f = EthernetFrame::new_unchecked(&mut buf);
        eth.emit(&mut f);
        arp.emit(&mut ArpPacket::new_unchecked(f.payload_mut()));
        buf.resize(60, 0);
        assert!(dev.borrow_mut().inject(&buf, 3, 0));
        iface.poll(now(), &mut nic, &mut sockets);
        {
            let d = dev.borrow();
            let reply = d.sent.last().expect("an ARP reply");
            let f = EthernetFrame::new_checked(&reply[..]).unwrap();
            assert_eq!((f.dst_addr(), f.src_addr(), f.ethertype()), (peer, ours, EthernetProtocol::Arp));
            let r = ArpRepr::parse(&ArpPacket::new_checked(f.payload()).unwrap()).unwrap();
            assert!(matches!(r, ArpRepr::EthernetIpv4 { operation: ArpOperation::Reply, .. }));
        }

        // ICMP echo request, unicast to us.
        let data = [7u8; 56];
        let icmp = Icmpv4Repr::EchoRequest { ident: 0x1234, seq_no: 1, data: &data };
        let ip = Ipv4Repr {
            src_addr: peer_ip,
            dst_addr: our_ip,
            next_header: IpProtocol::Icmp,
            payload_len: icmp.buffer_len(),
            hop_limit: 64,
        };
        let eth = EthernetRepr { src_addr: peer, dst_addr: ours, ethertype: EthernetProtocol::Ipv4 };
        let mut buf = vec![0u8; 14 + ip.buffer_len() + icmp.buffer_len()];
        let mut f = EthernetFrame::new_unchecked(&mut buf);
        eth.emit(&mut f);
        let caps = smoltcp::phy::ChecksumCapabilities::default();
        let mut p = Ipv4Packet::new_unchecked(f.payload_mut());
        ip.emit(&mut p, &caps);
        icmp.emit(&mut Icmpv4Packet::new_unchecked(p.payload_mut()), &caps);
        assert!(dev.borrow_mut().inject(&buf, 3, 0));
        iface.poll(now(), &mut nic, &mut sockets);
        let d = dev.borrow();
        let reply = d.sent.last().unwrap();
        let f = EthernetFrame::new_checked(&reply[..]).unwrap();
        assert_eq!(f.dst_addr(), peer);
        let p = Ipv4Packet::new_checked(f.payload()).unwrap();
        assert!(p.verify_checksum());
        let r = Icmpv4Repr::parse(&Icmpv4Packet::new_checked(p.payload()).unwrap(), &caps).unwrap();
        assert_eq!(r, Icmpv4Repr::EchoReply { ident: 0x1234, seq_no: 1, data: &data });
        assert_eq!(d.sent.len(), 2, "{device:04x}");
    }
}
