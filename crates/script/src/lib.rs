//! The boot script language: iPXE's syntax and the commands people use, interpreted
//! over a [`Machine`] that the firmware implements (network, downloads, signature
//! checks, booting) and that tests replace with a recording double.
//!
//! Security decisions are types: an image carries the proof its signature verified
//! (`M::Proof`, which the firmware sets to the PKI crate's `cms::Verified`, a value only
//! the verifier can make, over these bytes), and [`Machine::boot`] receives a [`Boot`]
//! that only the trust gate ([`gate`]) constructs, after `imgtrust` has been honoured;
//! the bytes to start come out of it only re-checked against the proof.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod check;
pub mod commands;
pub mod expand;
pub mod extract;
pub mod gate;
pub mod image;
pub mod interp;
pub mod lex;
pub mod settings;
pub mod ui;

pub use gate::{Admitted, Boot, Checked, Decision, Proof, San, TrustPolicy};
pub use image::{Image, ImageKind};
pub use interp::{Interpreter, Machine, ScriptError, interface_index};
pub use settings::{SettingType, Settings};
