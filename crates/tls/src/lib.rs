//! A sans-IO TLS 1.2/1.3 client for the bootsign firmware.
//!
//! rustls's unbuffered client does the protocol; this crate supplies what the firmware
//! cannot take from an operating system, all `no_std`:
//!
//! - [`provider`]: a rustls `CryptoProvider` on the RustCrypto crates (AES-GCM,
//!   ChaCha20-Poly1305, x25519/P-256/P-384, RSA and ECDSA), with swappable AEADs and the
//!   platform's RNG;
//! - [`verifier`]: server certificates checked by bootsign-pki against SHA-256
//!   fingerprint anchors (the one verifier of the project), with the missing issuer's
//!   name handed back for [`crosscert`] fetching;
//! - [`Client`]: bytes in, bytes out, the rustls state machine hidden;
//! - [`Error`]: what failed, named (certificate and check, server alert, TLS 1.0-only
//!   server, truncation).
//!
//! TLS 1.0/1.1 and the static-RSA CBC suites, which rustls refuses to implement, are done by
//! a small in-tree engine, [`legacy`] ([`LegacyClient`], same methods as [`Client`], same
//! certificate verifier). [`Connection`] holds either and documents the fallback rule from
//! one to the other ([`Error::wants_legacy_retry`]).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

mod app_buffers;
mod client;
mod client_auth;
mod config;
mod connection;
pub mod crosscert;
mod error;
pub mod legacy;
pub mod platform;
pub mod provider;
pub mod sessions;
pub mod verifier;

pub use bootsign_pki::Fingerprint;
pub use client::{Client, Negotiated, PeerState, Sink};
pub use config::{Config, LegacyVersion, TlsVersion};
pub use connection::Connection;
pub use error::{Error, alert_name};
pub use legacy::{LegacyClient, LegacyError};
pub use platform::{Clock, FixedTime, RandomSource, RngError};
pub use provider::aead::{AeadAlgorithm, AeadCipher, Aeads};
pub use verifier::CertificateFailure;
