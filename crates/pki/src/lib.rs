//! The PKI core shared by the bootsign CLI and the firmware.
//!
//! `no_std` + `alloc`, no I/O: callers hand in bytes and get typed answers. This crate
//! holds the pieces both halves must agree on bit for bit: SHA-256 certificate
//! fingerprints (the trust anchors), splitting signed DER objects into the bytes that
//! were signed, and verifying signatures by their X.509 algorithm identifier.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod der_view;
pub mod fingerprint;
pub mod hash;
pub mod signature;

pub use der_view::{SignedObject, TbsFields};
pub use fingerprint::Fingerprint;
pub use hash::HashAlgorithm;
pub use signature::{PublicKey, SignatureAlgorithm, SignatureError};
