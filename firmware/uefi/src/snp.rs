//! The NIC through UEFI's Simple Network Protocol, as the core's `FrameDevice`.
//!
//! SNP transmits asynchronously: a frame's buffer belongs to the NIC until
//! `GetStatus` hands it back as recycled, so transmit buffers are owned here, lent to
//! the NIC, and taken back only when recycled.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use bootsign_firmware_core::net::FrameDevice;
use uefi::boot::{self, ScopedProtocol, SearchType};
use uefi::proto::network::snp::{NetworkState, ReceiveFlags, SimpleNetwork};
use uefi::{Handle, Identify};

/// Frames the NIC may hold before transmit waits.
const MAX_IN_FLIGHT: usize = 64;

/// The transmit side: the protocol and the buffers.
pub struct Tx {
    snp: Option<ScopedProtocol<SimpleNetwork>>,
    free: Vec<Box<[u8]>>,
    in_flight: Vec<Box<[u8]>>,
}

/// An SNP network interface.
pub struct SnpDevice {
    handle: Handle,
    tx: Tx,
    mac: [u8; 6],
}

impl SnpDevice {
    /// Opens and initialises every network interface the platform drives. The error
    /// says why none could be had. With `connect`, when there is none, every controller
    /// is connected first (the platform may not have bound its drivers yet); the caller
    /// skips that when it already has NICs of its own, as it takes a while.
    pub fn open_all(connect: bool) -> Result<Vec<Self>, String> {
        let find = || boot::locate_handle_buffer(SearchType::ByProtocol(&SimpleNetwork::GUID)).ok();
        let handles = match find() {
            Some(h) if !h.is_empty() => h,
            _ if !connect => return Err("no network interface found".into()),
            _ => {
                crate::nics::connect_all();
                find()
                    .filter(|h| !h.is_empty())
                    .ok_or("no network interface found (no UEFI Simple Network Protocol)")?
            }
        };
        let mut nics = Vec::new();
        let mut last = String::new();
        for h in handles.iter() {
            match Self::open(*h) {
                Ok(nic) => nics.push(nic),
                Err(why) => last = why,
            }
        }
        if nics.is_empty() {
            return Err(last);
        }
        Ok(nics)
    }

    /// Opens and initialises the interface on `handle`.
    fn open(handle: Handle) -> Result<Self, String> {
        // Exclusive: the platform's own network stack (MNP) lets go of the NIC, so it
        // does not poll away our frames.
        let mut snp = boot::open_protocol_exclusive::<SimpleNetwork>(handle)
            .map_err(|e| alloc::format!("cannot open the network interface: {:?}", e.status()))?;
        if snp.mode().state == NetworkState::STOPPED {
            snp.start().map_err(|e| alloc::format!("cannot start the NIC: {:?}", e.status()))?;
        }
        if snp.mode().state == NetworkState::STARTED {
            snp.initialize(0, 0)
                .map_err(|e| alloc::format!("cannot initialise the NIC: {:?}", e.status()))?;
        }
        let wanted = ReceiveFlags::UNICAST | ReceiveFlags::BROADCAST;
        let _ = snp.receive_filters(wanted, ReceiveFlags::empty(), false, None);
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&snp.mode().current_address.0[..6]);
        Ok(Self { handle, tx: Tx { snp: Some(snp), free: Vec::new(), in_flight: Vec::new() }, mac })
    }
}

impl Tx {
    fn snp(&mut self) -> &mut ScopedProtocol<SimpleNetwork> {
        self.snp.as_mut().expect("open until dropped")
    }

    /// Takes back the buffers the NIC has finished with.
    fn recycle(&mut self) {
        while let Ok(Some(done)) = self.snp().get_recycled_transmit_buffer_status() {
            if let Some(i) = self.in_flight.iter().position(|b| b.as_ptr() == done.as_ptr().cast_const()) {
                let buf = self.in_flight.swap_remove(i);
                self.free.push(buf);
            }
        }
    }
}

impl Drop for SnpDevice {
    /// Hands the NIC back to the platform: closing our exclusive open and reconnecting
    /// the controller lets the platform's own network drivers bind again, so a program
    /// we start (another boot loader) can use the network.
    fn drop(&mut self) {
        // Frames still in flight must stay valid while the NIC may touch them.
        for _ in 0..100 {
            self.tx.recycle();
            if self.tx.in_flight.is_empty() {
                break;
            }
            boot::stall(core::time::Duration::from_micros(100));
        }
        if !self.tx.in_flight.is_empty() {
            // Leak rather than free memory the NIC may still read.
            core::mem::forget(core::mem::take(&mut self.tx.in_flight));
        }
        drop(self.tx.snp.take());
        let _ = boot::connect_controller(self.handle, &[], None, true);
    }
}

impl FrameDevice for SnpDevice {
    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn driver(&self) -> &'static str {
        "UEFI SNP"
    }

    fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.tx.snp().receive(buf, None, None, None, None).ok()
    }

    fn can_send(&mut self) -> bool {
        // Recycling asks the NIC (a firmware call): only when buffers are running low.
        if self.tx.in_flight.len() >= MAX_IN_FLIGHT / 2 {
            self.tx.recycle();
        }
        self.tx.in_flight.len() < MAX_IN_FLIGHT
    }

    fn send(&mut self, frame: &[u8]) {
        let tx = &mut self.tx;
        if tx.in_flight.len() >= MAX_IN_FLIGHT {
            tx.recycle();
        }
        if tx.in_flight.len() >= MAX_IN_FLIGHT {
            // The NIC holds every buffer we allow it: drop this frame (TCP resends)
            // rather than let the buffers grow without bound.
            return;
        }
        // SNP keeps the buffer until it reports it recycled: a copy it owns meanwhile.
        let mut buf = tx.free.pop().unwrap_or_else(|| vec![0u8; 2048].into_boxed_slice());
        buf[..frame.len()].copy_from_slice(frame);
        match tx.snp().transmit(0, &mut buf[..frame.len()], None, None, None) {
            Ok(()) => tx.in_flight.push(buf),
            // The NIC's queue is full: the frame is dropped, and TCP will resend it.
            Err(_) => tx.free.push(buf),
        }
    }
}
