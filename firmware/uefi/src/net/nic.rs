//! The NIC the stack runs on: the core's own driver where it has one for the device,
//! else the platform's driver through SNP.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use smoltcp::phy::{self, Checksum, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use super::snp::{self, SnpDevice};
use super::virtio::{self, VirtioNet};

/// Largest Ethernet frame without FCS.
pub const FRAME: usize = 1514;

/// What both drivers offer smoltcp. Checksums are computed on transmit but not verified
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

/// Either driver, as one smoltcp device.
pub enum Nic {
    Virtio(Box<VirtioNet>),
    Snp(SnpDevice),
}

impl Nic {
    /// Opens every NIC: first those the core's own driver runs, then the platform's
    /// through SNP. The error says why there is none.
    pub fn open_all() -> Result<Vec<Self>, String> {
        let mut nics: Vec<Self> =
            VirtioNet::open_all().into_iter().map(|v| Self::Virtio(Box::new(v))).collect();
        match SnpDevice::open_all(nics.is_empty()) {
            Ok(snp) => nics.extend(snp.into_iter().map(Self::Snp)),
            Err(why) if nics.is_empty() => return Err(why),
            Err(_) => {}
        }
        Ok(nics)
    }

    /// The station MAC address.
    pub fn mac(&self) -> [u8; 6] {
        match self {
            Self::Virtio(d) => d.mac,
            Self::Snp(d) => d.mac,
        }
    }

    /// Which driver runs the NIC, for the console.
    pub fn driver(&self) -> &'static str {
        match self {
            Self::Virtio(d) => d.interface(),
            Self::Snp(_) => "UEFI SNP",
        }
    }
}

pub enum RxToken<'a> {
    Virtio(virtio::RxToken<'a>),
    Snp(snp::RxToken<'a>),
}

pub enum TxToken<'a> {
    Virtio(virtio::TxToken<'a>),
    Snp(snp::TxToken<'a>),
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        match self {
            Self::Virtio(t) => t.consume(f),
            Self::Snp(t) => t.consume(f),
        }
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        match self {
            Self::Virtio(t) => t.consume(len, f),
            Self::Snp(t) => t.consume(len, f),
        }
    }
}

impl phy::Device for Nic {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, timestamp: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        match self {
            Self::Virtio(d) => d.receive(timestamp).map(|(r, t)| (RxToken::Virtio(r), TxToken::Virtio(t))),
            Self::Snp(d) => d.receive(timestamp).map(|(r, t)| (RxToken::Snp(r), TxToken::Snp(t))),
        }
    }

    fn transmit(&mut self, timestamp: Instant) -> Option<TxToken<'_>> {
        match self {
            Self::Virtio(d) => d.transmit(timestamp).map(TxToken::Virtio),
            Self::Snp(d) => d.transmit(timestamp).map(TxToken::Snp),
        }
    }

    fn capabilities(&self) -> DeviceCapabilities {
        match self {
            Self::Virtio(d) => d.capabilities(),
            Self::Snp(d) => d.capabilities(),
        }
    }
}
