//! The NIC the stack runs on: the core's own driver where it has one for the device
//! (virtio-net, e1000), else the platform's (UEFI's SNP, the PXE ROM's UNDI) through
//! [`FrameDevice`].

use alloc::boxed::Box;
use alloc::vec;

use smoltcp::phy::{self, Checksum, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use super::e1000::{self, E1000};
use super::virtio::{self, VirtioNet};
use crate::pci::{Identity, PciFunction};

/// Largest Ethernet frame without FCS.
pub const FRAME: usize = 1514;

/// What every driver offers smoltcp. Checksums are computed on transmit but not verified
/// on receive. They guard against corruption only (an attacker recomputes them), the NIC
/// has checked the Ethernet FCS, and what must be intact is checked end to end: by its
/// signature (imgverify) or, for HTTPS, by TLS. An unverified plain-HTTP download has no
/// protection against tampering either way. Verifying costs a pass over every byte, which
/// costs a fifth of the download speed on slow CPUs.
pub fn ethernet_capabilities() -> DeviceCapabilities {
    let mut caps = DeviceCapabilities::default();
    caps.medium = Medium::Ethernet;
    caps.max_transmission_unit = FRAME;
    caps.checksum.ipv4 = Checksum::Tx;
    caps.checksum.tcp = Checksum::Tx;
    caps.checksum.udp = Checksum::Tx;
    caps
}

/// A NIC the platform drives, one frame per call (UEFI's SNP, UNDI through the PXE API).
/// Those interfaces copy each frame anyway, so the core copies too rather than borrowing.
pub trait FrameDevice {
    /// The station MAC address.
    fn mac(&self) -> [u8; 6];
    /// Which driver runs the NIC, for the console.
    fn driver(&self) -> &'static str;
    /// Receives one frame into `buf` (at least [`FRAME`] bytes); its length, or `None`
    /// when none is waiting.
    fn receive(&mut self, buf: &mut [u8]) -> Option<usize>;
    /// Whether a frame can be sent now.
    fn can_send(&mut self) -> bool;
    /// Sends `frame`; when the NIC's queue is full it may be dropped (TCP resends), so
    /// [`FrameDevice::can_send`] is asked first where there is a choice.
    fn send(&mut self, frame: &[u8]);
    /// Stops the NIC before something else takes over the machine; whether it confirmed
    /// it stopped. Devices that stop when dropped keep this default.
    fn stop(&mut self) -> bool {
        true
    }
}

/// A platform driver with the core's frame buffers.
pub struct Framed {
    dev: Box<dyn FrameDevice>,
    rx: Box<[u8]>,
    tx: Box<[u8]>,
}

/// Which of the core's own drivers, if any, drives a PCI function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    Virtio(virtio::Interface),
    E1000,
}

impl Driver {
    /// The driver for a function with identity `id`.
    pub fn for_function(id: &Identity) -> Option<Self> {
        if let Some(interface) = virtio::interface(id) {
            Some(Self::Virtio(interface))
        } else if e1000::matches(id) {
            Some(Self::E1000)
        } else {
            None
        }
    }
}

/// Any driver, as one smoltcp device.
pub enum Nic {
    Virtio(Box<VirtioNet>),
    E1000(Box<E1000>),
    Platform(Framed),
}

impl Nic {
    /// Takes over the PCI function `pci` with `driver`; an error when it could not be
    /// set up (`pci` is dropped, giving the function back to the platform).
    pub fn open(driver: Driver, pci: Box<dyn PciFunction>) -> Result<Self, alloc::string::String> {
        Ok(match driver {
            Driver::Virtio(interface) => Self::Virtio(Box::new(VirtioNet::open(pci, interface)?)),
            Driver::E1000 => Self::E1000(Box::new(E1000::open(pci)?)),
        })
    }

    /// A NIC the platform drives.
    pub fn platform(dev: Box<dyn FrameDevice>) -> Self {
        // Receive room for a little more than a frame, as SNP's buffers had: a longer
        // frame (a VLAN tag) is cut to FRAME rather than overrunning.
        Self::Platform(Framed {
            dev,
            rx: vec![0; 2048].into_boxed_slice(),
            tx: vec![0; FRAME].into_boxed_slice(),
        })
    }

    /// The station MAC address.
    pub fn mac(&self) -> [u8; 6] {
        match self {
            Self::Virtio(d) => d.mac,
            Self::E1000(d) => d.mac(),
            Self::Platform(f) => f.dev.mac(),
        }
    }

    /// Which driver runs the NIC, for the console.
    pub fn driver(&self) -> &'static str {
        match self {
            Self::Virtio(d) => d.interface(),
            Self::E1000(d) => d.name(),
            Self::Platform(f) => f.dev.driver(),
        }
    }

    /// Stops the device's DMA; whether it confirmed it stopped. Dropping it stops it
    /// again.
    pub fn stop(&mut self) -> bool {
        match self {
            Self::Virtio(d) => d.stop(),
            Self::E1000(d) => d.stop(),
            Self::Platform(f) => f.dev.stop(),
        }
    }
}

pub enum RxToken<'a> {
    Virtio(virtio::RxToken<'a>),
    E1000(e1000::RxToken<'a>),
    Framed(&'a [u8]),
}

pub enum TxToken<'a> {
    Virtio(virtio::TxToken<'a>),
    E1000(e1000::TxToken<'a>),
    Framed { dev: &'a mut dyn FrameDevice, buf: &'a mut [u8] },
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        match self {
            Self::Virtio(t) => t.consume(f),
            Self::E1000(t) => t.consume(f),
            Self::Framed(frame) => f(frame),
        }
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        match self {
            Self::Virtio(t) => t.consume(len, f),
            Self::E1000(t) => t.consume(len, f),
            Self::Framed { dev, buf } => {
                let frame = &mut buf[..len.min(FRAME)];
                let r = f(frame);
                dev.send(frame);
                r
            }
        }
    }
}

impl phy::Device for Nic {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, timestamp: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        match self {
            Self::Virtio(d) => d.receive(timestamp).map(|(r, t)| (RxToken::Virtio(r), TxToken::Virtio(t))),
            Self::E1000(d) => d.receive(timestamp).map(|(r, t)| (RxToken::E1000(r), TxToken::E1000(t))),
            Self::Platform(f) => {
                let len = f.dev.receive(&mut f.rx)?;
                let dev: &mut dyn FrameDevice = &mut *f.dev;
                Some((RxToken::Framed(&f.rx[..len.min(FRAME)]), TxToken::Framed { dev, buf: &mut f.tx }))
            }
        }
    }

    fn transmit(&mut self, timestamp: Instant) -> Option<TxToken<'_>> {
        match self {
            Self::Virtio(d) => d.transmit(timestamp).map(TxToken::Virtio),
            Self::E1000(d) => d.transmit(timestamp).map(TxToken::E1000),
            Self::Platform(f) => {
                if !f.dev.can_send() {
                    return None;
                }
                let dev: &mut dyn FrameDevice = &mut *f.dev;
                Some(TxToken::Framed { dev, buf: &mut f.tx })
            }
        }
    }

    fn capabilities(&self) -> DeviceCapabilities {
        ethernet_capabilities()
    }
}
