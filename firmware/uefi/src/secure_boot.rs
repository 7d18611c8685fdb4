//! Whether the platform enforces Secure Boot, read from the UEFI global variables
//! `SecureBoot` and `SetupMode` (UEFI spec 2.10, 3.3 "Globally Defined Variables").

use core::fmt;

use uefi::runtime::{self, VariableVendor};
use uefi::{CStr16, cstr16};

/// The platform's Secure Boot state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// `SecureBoot` is 1: the platform verifies every image it starts.
    On,
    /// Secure Boot is not enforced (also when the variables are missing).
    Off,
    /// No platform key is enrolled (`SetupMode` 1): anything may change the keys.
    SetupMode,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::On => "on",
            Self::Off => "off",
            Self::SetupMode => "off (setup mode)",
        })
    }
}

/// A one-byte global variable, if the platform has it.
fn flag(name: &CStr16) -> Option<u8> {
    let mut buf = [0u8; 1];
    match runtime::get_variable(name, &VariableVendor::GLOBAL_VARIABLE, &mut buf) {
        Ok(([value], _)) => Some(*value),
        _ => None,
    }
}

/// Reads the platform's state now.
pub fn state() -> State {
    if flag(cstr16!("SecureBoot")) == Some(1) {
        State::On
    } else if flag(cstr16!("SetupMode")) == Some(1) {
        State::SetupMode
    } else {
        State::Off
    }
}
