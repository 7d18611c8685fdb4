//! The boot script language: iPXE's syntax and the commands people use, interpreted
//! over a [`Machine`] that the firmware implements (network, downloads, signature
//! checks, booting) and that tests replace with a recording double.
//!
//! Security decisions are types: an image carries the proof its signature verified
//! (`M::Proof`, which the firmware sets to the PKI crate's `cms::Verified`, a value only
//! the verifier can make), and [`Machine::boot`] receives a [`Boot`] that only the trust
//! gate in this crate constructs, after `imgtrust` has been honoured.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod interp;
pub mod lex;

pub use interp::{Boot, Image, ImageKind, Interpreter, Machine, ScriptError, TrustPolicy, interface_index};
