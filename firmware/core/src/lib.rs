//! The part of the bootsign firmware that is the same on every platform it runs on, UEFI
//! (`firmware/uefi`) and legacy BIOS (`firmware/bios`): nothing here calls the platform.
//!
//! - [`sha256_ni`], [`aes_gcm_ni`], [`chacha_sse2`]: SHA-256 on the SHA extensions,
//!   AES-GCM on AES-NI and PCLMULQDQ, ChaCha20-Poly1305 on SSE2, as TLS providers and
//!   for image hashing (checked against the software implementations and the Wycheproof
//!   vectors on the host, in `tests/`);
//! - [`hash`]: the digests of a download, computed while it arrives.
//!
//! The protocol cores (`crates/`: PKI, TLS, HTTP, DHCP, NTP, the script interpreter) are
//! shared the same way; the platform layers are thin around them.

#![no_std]

extern crate alloc;

#[macro_use]
mod xmm;

pub mod aes_gcm_ni;
pub mod chacha_sse2;
pub mod hash;
pub mod sha256_ni;
