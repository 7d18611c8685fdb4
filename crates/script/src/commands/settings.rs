//! `set`, `clear`, `inc`.

use alloc::format;
use alloc::string::String;

use super::{Options, integer};
use crate::interp::{Flow, Interpreter, Machine, Outcome};
use crate::settings::{Name, SettingType, int_bytes, number, parse_value};

impl<M: Machine> Interpreter<M> {
    pub(super) fn settings_command(&mut self, command: &str, o: Options<'_>) -> Outcome {
        match command {
            // `set NAME VALUE...`: the words joined by spaces, parsed as the name's type
            // (given, predefined, else string); no value deletes, as in iPXE.
            "set" => {
                let (reference, words) = o.rest.split_first().expect("the spec asks for a name");
                self.store(reference, &words.join(" "))
            }
            "clear" => self.store(o.rest[0], ""),
            "inc" => {
                let by = match o.rest.get(1) {
                    Some(n) => integer(n, "inc")?,
                    None => 1,
                };
                self.increment(o.rest[0], by)
            }
            _ => unreachable!("dispatched by name"),
        }
    }

    /// Stores `text` under `reference` and tells the machine.
    pub(super) fn store(&mut self, reference: &str, text: &str) -> Outcome {
        let name = Name::parse(reference)?;
        let scope = self.scope(name.scope).map(String::from);
        let value = (!text.is_empty()).then_some(text);
        // Parsed before the machine hears of it, so it never acts on a value not stored.
        let (raw, ty) = match value {
            Some(t) => parse_value(name.name, name.ty, t)?,
            None => (alloc::vec::Vec::new(), SettingType::String),
        };
        self.machine.setting_changed(name.name, value)?;
        self.settings.store(scope.as_deref(), name.name, raw, ty);
        Ok(Flow::Next)
    }

    /// `inc`: adds `by` to a numeric setting; one that does not exist counts from zero as
    /// an `int32` (or the type given).
    fn increment(&mut self, reference: &str, by: u64) -> Outcome {
        let name = Name::parse(reference)?;
        let scope = self.scope(name.scope).map(String::from);
        let (current, ty) = match self.settings.get(scope.as_deref(), name.name) {
            Some(v) => {
                let ty = name.ty.unwrap_or(v.ty);
                let read = crate::settings::Value { raw: v.raw.clone(), ty };
                let n = number(&read).ok_or_else(|| {
                    format!("\"{}\" is not a number (a {} setting)", name.name, v.ty.name())
                })?;
                (n, ty)
            }
            None => (0, name.ty.unwrap_or(SettingType::Int(4))),
        };
        let (SettingType::Int(width) | SettingType::Uint(width)) = ty else {
            return Err(format!("\"{}\" is not a number (a {} setting)", name.name, ty.name()));
        };
        let raw = int_bytes(current.wrapping_add(by), width);
        self.settings.store(scope.as_deref(), name.name, raw, ty);
        Ok(Flow::Next)
    }
}
