//! The PKI core shared by the bootsign CLI and the firmware.
//!
//! `no_std` + `alloc`, no I/O: callers hand in bytes and a time and get typed answers.
//! Everything both halves must agree on bit for bit lives here: SHA-256 certificate
//! fingerprints (the trust anchors), checked views over signed DER, signature checks by
//! algorithm identifier, certification path validation, and CMS signature verification.
//! `bootsign verify` on the host and `imgverify` in the firmware run this same code.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod authenticode;
pub mod cert;
pub mod cms;
pub mod constraints;
pub mod crl;
pub mod der_view;
pub mod fingerprint;
pub mod hash;
pub mod names;
pub mod path;
pub mod signature;
pub mod text;

#[cfg(test)]
mod test_fixtures;

pub use cert::Cert;
pub use crl::{Crl, CrlError, Revocation};
pub use der_view::{SignedObject, TbsFields};
pub use fingerprint::Fingerprint;
pub use hash::{Digests, HashAlgorithm, MultiHasher};
pub use names::ServerName;
pub use path::{PathError, Policy, Purpose, VerifiedPath, verify_path};
pub use signature::{PublicKey, SignatureAlgorithm, SignatureError};
