//! The NIC through the PXE ROM's UNDI driver, as the core's `FrameDevice`: the `.kpxe`
//! boot, where the PXE boot program (`pxeboot.s`) loaded this firmware over TFTP and left
//! the ROM's PXE stack in base memory, as iPXE's undionly.kpxe does. This drives NICs the
//! firmware has no driver of its own for.
//!
//! Every call goes down to real mode (`thunk.rs`) into the ROM's `!PXE` entry point,
//! through `pxe_tramp` in `prefix.s`, with the parameter block, the destination address
//! and the frame being sent in base memory (`pxe_low`, in the setup part). The NIC is
//! polled, as undionly polls a NIC whose interrupt it does not use: the interrupt is
//! masked at the PIC, and frames are collected with UNDI_ISR's PROCESS and GET_NEXT.
//! Calls cost a switch to real mode and back each (shared/reference/bios.md), so received
//! frames are taken a few at a time and queued.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use bootsign_firmware_core::net::FrameDevice;

use crate::port::{inb, outb};
use crate::thunk::{self, Regs};

unsafe extern "C" {
    /// Linked into the setup part (at their offsets in it): the trampoline that calls
    /// the PXE API, the entry point it calls, and the base-memory blocks.
    static pxe_tramp: u8;
    static pxe_entry: [u16; 2];
    static pxe_low: [u8; 2048];
}

// The PXE 2.1 API's opcodes (UNDI and the base code's unload).
const UNDI_STARTUP: u16 = 0x01;
const UNDI_INITIALIZE: u16 = 0x03;
const UNDI_SHUTDOWN: u16 = 0x05;
const UNDI_OPEN: u16 = 0x06;
const UNDI_CLOSE: u16 = 0x07;
const UNDI_TRANSMIT: u16 = 0x08;
const UNDI_SET_STATION_ADDRESS: u16 = 0x0a;
const UNDI_GET_INFORMATION: u16 = 0x0c;
const UNDI_ISR: u16 = 0x14;
const UNLOAD_STACK: u16 = 0x70;

// UNDI_ISR's function flags, in and out.
const ISR_IN_PROCESS: u16 = 2;
const ISR_IN_GET_NEXT: u16 = 3;
const ISR_OUT_TRANSMIT: u16 = 2;
const ISR_OUT_RECEIVE: u16 = 3;

/// UNDI_OPEN's packet filter: frames to this station and broadcasts.
const FILTER_DIRECTED_BROADCAST: u16 = 0x01 | 0x02;

// Where things lie in `pxe_low`.
const BLOCK: usize = 0;
const BLOCK_LEN: usize = 256;
const DEST: usize = 256;
const TBD: usize = 272;
const FRAME_AT: usize = 512;
const FRAME_ROOM: usize = 1536;

/// Frames taken from the ROM per poll, as undionly takes them.
const RX_QUOTA: usize = 4;
/// UNDI_INITIALIZE may fail while the link comes up: tries, and the wait between them.
const INITIALIZE_TRIES: u32 = 10;
const INITIALIZE_RETRY_MS: u64 = 200;

/// The `!PXE` structure's far pointer (segment << 16 | offset), 0 when there is none.
static PXE: AtomicU32 = AtomicU32::new(0);
/// Whether this firmware has taken the UNDI stack over from the ROM's base code (shut
/// the NIC down, unloaded the base code, started UNDI again). Done once.
static TAKEN_OVER: AtomicBool = AtomicBool::new(false);

/// Records the PXE API the boot program found, checked: `!PXE`, its length and checksum.
pub fn init(bang_pxe: [u16; 2]) -> Result<(), String> {
    let at = usize::from(bang_pxe[1]) * 16 + usize::from(bang_pxe[0]);
    // SAFETY: a real-mode far pointer reaches below 0x10FFF0, identity-mapped memory;
    // 0x58 bytes (the largest !PXE) are read from it.
    let bytes = unsafe { core::slice::from_raw_parts(at as *const u8, 0x58) };
    let len = usize::from(bytes[4]);
    if &bytes[..4] != b"!PXE" || !(0x20..=0x58).contains(&len) {
        return Err(alloc::format!(
            "the PXE ROM's !PXE structure at {:04x}:{:04x} is not valid",
            bang_pxe[1],
            bang_pxe[0]
        ));
    }
    if bytes[..len].iter().fold(0u8, |s, b| s.wrapping_add(*b)) != 0 {
        return Err(String::from("the PXE ROM's !PXE structure has a bad checksum"));
    }
    let entry =
        [u16::from_le_bytes([bytes[0x10], bytes[0x11]]), u16::from_le_bytes([bytes[0x12], bytes[0x13]])];
    // SAFETY: `pxe_entry` lies in the setup part at its link offset, low memory only the
    // trampoline reads.
    unsafe { core::ptr::write_volatile(thunk::setup_address(&raw const pxe_entry) as *mut [u16; 2], entry) };
    PXE.store(u32::from(bang_pxe[1]) << 16 | u32::from(bang_pxe[0]), Ordering::Relaxed);
    Ok(())
}

/// Whether the firmware came through PXE with a usable API.
pub fn present() -> bool {
    PXE.load(Ordering::Relaxed) != 0
}

/// A parameter block: its bytes, read and written little-endian at offsets.
struct Block([u8; BLOCK_LEN]);

impl Block {
    fn new() -> Self {
        Self([0; BLOCK_LEN])
    }
    fn u16(&self, at: usize) -> u16 {
        u16::from_le_bytes([self.0[at], self.0[at + 1]])
    }
    fn set_u16(&mut self, at: usize, v: u16) {
        self.0[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }
    /// The status the API left in the block's first word.
    fn status(&self) -> u16 {
        self.u16(0)
    }
}

/// The linear address of `pxe_low` + `offset`, and its real-mode offset in the setup
/// segment.
fn low(offset: usize) -> (usize, u16) {
    let sym = &raw const pxe_low as usize;
    (thunk::setup_address(&raw const pxe_low) + offset, (sym + offset) as u16)
}

/// Calls the PXE API with `opcode` and `block`; the status code when it failed.
fn call(opcode: u16, block: &mut Block) -> Result<(), u16> {
    let (linear, offset) = low(BLOCK);
    // SAFETY: `pxe_low` is 2,048 bytes of base memory in the setup part that only this
    // module uses, on one processor with interrupts off; the block fits at its start.
    unsafe { core::ptr::copy_nonoverlapping(block.0.as_ptr(), linear as *mut u8, BLOCK_LEN) };
    let segment = thunk::setup_segment();
    let mut regs = Regs { ebx: opcode.into(), edi: offset.into(), es: segment, ..Regs::default() };
    thunk::call([&raw const pxe_tramp as usize as u16, segment], &mut regs);
    // SAFETY: as above; the API wrote its results into the block.
    unsafe { core::ptr::copy_nonoverlapping(linear as *const u8, block.0.as_mut_ptr(), BLOCK_LEN) };
    match regs.eax as u16 {
        0 => Ok(()),
        _ => Err(block.status()),
    }
}

/// Calls `opcode` with an empty block.
fn simple(opcode: u16) -> Result<(), u16> {
    call(opcode, &mut Block::new())
}

/// Masks interrupt line `irq` at the PIC: the NIC is polled. IRQ 2 is the cascade, which
/// on a PC is wired to IRQ 9.
fn mask_irq(irq: u16) {
    match irq {
        2 => mask_irq(9),
        1..=7 => outb(0x21, inb(0x21) | 1 << irq),
        8..=15 => outb(0xa1, inb(0xa1) | 1 << (irq - 8)),
        _ => {}
    }
}

/// The ROM's NIC through UNDI.
pub struct Undi {
    mac: [u8; 6],
    open: bool,
    /// Inside an UNDI_ISR sequence: the next call is GET_NEXT.
    processing: bool,
    /// Frames taken from the ROM, not yet handed to the stack.
    queue: VecDeque<Vec<u8>>,
}

impl Undi {
    /// Takes the NIC over from the ROM and opens it. The first time, as undionly does:
    /// the NIC the base code used is shut down and the base code unloaded (it is done
    /// with), then UNDI is started again; each time the NIC is initialised and opened.
    pub fn open() -> Result<Self, String> {
        let fail = |what: &str, status: u16| {
            alloc::format!("the PXE ROM's UNDI driver failed {what} (PXE status {status:#06x})")
        };
        let mut info = Block::new();
        call(UNDI_GET_INFORMATION, &mut info).map_err(|s| fail("to describe the NIC", s))?;
        mask_irq(info.u16(4));
        if !TAKEN_OVER.swap(true, Ordering::Relaxed) {
            let _ = simple(UNDI_SHUTDOWN);
            let _ = simple(UNLOAD_STACK);
            simple(UNDI_STARTUP).map_err(|s| fail("to start", s))?;
        }
        let mut tries = 0;
        loop {
            match simple(UNDI_INITIALIZE) {
                Ok(()) => break,
                Err(s) if tries + 1 >= INITIALIZE_TRIES => return Err(fail("to initialise the NIC", s)),
                Err(_) => {
                    tries += 1;
                    crate::time::sleep_ms(INITIALIZE_RETRY_MS);
                }
            }
        }
        let mut info = Block::new();
        call(UNDI_GET_INFORMATION, &mut info).map_err(|s| fail("to describe the NIC", s))?;
        mask_irq(info.u16(4));
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&info.0[12..18]);
        // Some stacks need the address set, others fail to; it is the NIC's own anyway.
        let mut station = Block::new();
        station.0[2..8].copy_from_slice(&mac);
        let _ = call(UNDI_SET_STATION_ADDRESS, &mut station);
        let mut open = Block::new();
        open.set_u16(4, FILTER_DIRECTED_BROADCAST);
        if let Err(s) = call(UNDI_OPEN, &mut open) {
            let _ = simple(UNDI_SHUTDOWN);
            return Err(fail("to open the NIC", s));
        }
        Ok(Self { mac, open: true, processing: false, queue: VecDeque::new() })
    }

    /// Takes up to [`RX_QUOTA`] frames from the ROM into the queue.
    fn poll(&mut self) {
        let mut flag = if self.processing { ISR_IN_GET_NEXT } else { ISR_IN_PROCESS };
        self.processing = true;
        let mut partial: Vec<u8> = Vec::new();
        let mut taken = 0;
        while taken < RX_QUOTA {
            let mut isr = Block::new();
            isr.set_u16(2, flag);
            if call(UNDI_ISR, &mut isr).is_err() {
                self.processing = false;
                return;
            }
            match isr.u16(2) {
                ISR_OUT_TRANSMIT => {}
                ISR_OUT_RECEIVE => {
                    let (piece, whole) = (usize::from(isr.u16(4)), usize::from(isr.u16(6)));
                    let at = usize::from(isr.u16(12)) * 16 + usize::from(isr.u16(10));
                    // A frame may come in pieces; a piece longer than its frame is nonsense.
                    if whole == 0 || piece > whole || partial.len() + piece > whole {
                        partial.clear();
                    } else {
                        // SAFETY: the ROM's receive buffer, a real-mode far pointer
                        // (below 0x10FFF0, identity-mapped) to `piece` bytes it filled.
                        let bytes = unsafe { core::slice::from_raw_parts(at as *const u8, piece) };
                        partial.extend_from_slice(bytes);
                        if partial.len() == whole {
                            self.queue.push_back(core::mem::take(&mut partial));
                            taken += 1;
                        }
                    }
                }
                // Done (ISR_OUT_DONE), or what some stacks return instead (busy,
                // nonsense): the sequence is over.
                _ => {
                    self.processing = false;
                    return;
                }
            }
            flag = ISR_IN_GET_NEXT;
        }
    }

    /// Closes and shuts the NIC down; whether the ROM confirmed the shutdown.
    fn close(&mut self) -> bool {
        if !self.open {
            return true;
        }
        // Finish an ISR sequence in progress before closing.
        while self.processing {
            let mut isr = Block::new();
            isr.set_u16(2, ISR_IN_GET_NEXT);
            let more =
                call(UNDI_ISR, &mut isr).is_ok() && matches!(isr.u16(2), ISR_OUT_TRANSMIT | ISR_OUT_RECEIVE);
            self.processing = more;
        }
        self.queue.clear();
        let _ = simple(UNDI_CLOSE);
        self.open = false;
        simple(UNDI_SHUTDOWN).is_ok()
    }
}

impl FrameDevice for Undi {
    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn driver(&self) -> &'static str {
        "PXE UNDI"
    }

    fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        if self.queue.is_empty() && self.open {
            self.poll();
        }
        let frame = self.queue.pop_front()?;
        let n = frame.len().min(buf.len());
        buf[..n].copy_from_slice(&frame[..n]);
        Some(n)
    }

    fn can_send(&mut self) -> bool {
        self.open
    }

    /// Sends from one base-memory buffer and does not wait for the completion (many PXE
    /// stacks never report one; the next call comes after this one returned). IP, ARP
    /// and RARP frames go without their Ethernet header, which the ROM builds (some
    /// stacks always prepend one); others go whole.
    fn send(&mut self, frame: &[u8]) {
        if !self.open || frame.len() < 14 {
            return;
        }
        let (protocol, header) = match u16::from_be_bytes([frame[12], frame[13]]) {
            0x0800 => (1u8, 14),
            0x0806 => (2, 14),
            0x8035 => (3, 14),
            _ => (0, 0),
        };
        // Padded to the Ethernet minimum, which some drivers do not do themselves.
        let padded = frame.len().clamp(60, FRAME_ROOM);
        let payload = padded - header;
        let (dest, dest_off) = low(DEST);
        let (tbd, tbd_off) = low(TBD);
        let (buf, buf_off) = low(FRAME_AT);
        let segment = thunk::setup_segment();
        let mut descriptor = [0u8; 8];
        descriptor[0..2].copy_from_slice(&(payload as u16).to_le_bytes());
        descriptor[2..4].copy_from_slice(&buf_off.to_le_bytes());
        descriptor[4..6].copy_from_slice(&segment.to_le_bytes());
        // SAFETY: the destination, descriptor and frame areas of `pxe_low` (base memory
        // only this module uses) hold 16, 16 and FRAME_ROOM bytes.
        unsafe {
            core::ptr::copy_nonoverlapping(frame.as_ptr(), dest as *mut u8, 6);
            core::ptr::copy_nonoverlapping(descriptor.as_ptr(), tbd as *mut u8, descriptor.len());
            core::ptr::write_bytes(buf as *mut u8, 0, payload);
            let n = frame.len().min(FRAME_ROOM) - header;
            core::ptr::copy_nonoverlapping(frame[header..].as_ptr(), buf as *mut u8, n);
        }
        let mut tx = Block::new();
        tx.0[2] = protocol;
        tx.0[3] = u8::from(frame[..6] == [0xff; 6]);
        tx.set_u16(4, dest_off);
        tx.set_u16(6, segment);
        tx.set_u16(8, tbd_off);
        tx.set_u16(10, segment);
        let _ = call(UNDI_TRANSMIT, &mut tx);
    }

    fn stop(&mut self) -> bool {
        self.close()
    }
}

impl Drop for Undi {
    fn drop(&mut self) {
        self.close();
    }
}
