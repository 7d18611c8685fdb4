//! The part of the bootsign firmware that is the same on every platform it runs on, UEFI
//! (`firmware/uefi`) and legacy BIOS (`firmware/bios`). Nothing here calls a platform's
//! services: what it needs of one comes through small interfaces a platform implements
//! ([`clock::Rtc`], [`console::Console`], [`pci::PciFunction`], [`net::FrameDevice`],
//! [`rng::PlatformRandom`]).
//!
//! - [`machine`]: the script's machine, less what is the platform's: the network
//!   interfaces ([`net`], smoltcp with DHCP and ProxyDHCP, DNS, ping), downloads over HTTP
//!   and HTTPS ([`fetch`], [`conn`], [`pool`]), NTP ([`ntp`]), signature checks and the
//!   proof they leave on an image ([`proof`]);
//! - the core's own NIC drivers, over [`pci::PciFunction`]: virtio-net (legacy and 1.0)
//!   and e1000/e1000e ([`net::virtio`], [`net::e1000`]);
//! - [`clock`] and [`rng`]: the TSC clock with the NTP correction and the build-date
//!   check, and randomness (the platform's, RDRAND, or health-tested CPU jitter);
//! - [`sha256_ni`], [`aes_gcm_ni`], [`chacha_sse2`]: SHA-256 on the SHA extensions,
//!   AES-GCM on AES-NI and PCLMULQDQ, ChaCha20-Poly1305 on SSE2, as TLS providers and
//!   for image hashing (checked against the software implementations and the Wycheproof
//!   vectors on the host, in `tests/`); [`hash`]: the digests of a download, computed
//!   while it arrives.
//!
//! The protocol cores (`crates/`: PKI, TLS, HTTP, DHCP, NTP, the script interpreter) are
//! shared the same way; the platform layers are thin around them.

#![no_std]

extern crate alloc;

#[macro_use]
mod xmm;
#[macro_use]
pub mod console;

pub mod aes_gcm_ni;
pub mod chacha_sse2;
pub mod clock;
pub mod conn;
pub mod fetch;
pub mod hash;
pub mod initrd;
pub mod machine;
pub mod memmap;
pub mod net;
pub mod ntp;
pub mod pci;
pub mod pool;
pub mod proof;
pub mod rng;
pub mod sha256_ni;
