//! What scripts show and ask on the console: menus ([`menu`]), `prompt`, `read` and
//! `login` ([`line`]), and the colours they are drawn in ([`colour`]). The logic is here, over the [`Machine`](crate::Machine)'s `key`, `print`
//! and `clear_screen`, so it is the same on a serial line and a graphical console and is
//! tested on the host; the firmware only reads keys and writes text.

pub mod colour;
pub mod line;
pub mod menu;

use alloc::format;
use alloc::string::String;

use crate::settings::strtoul;

/// Why a menu, prompt or shell cannot wait for a key: the machine has no console input.
pub const NO_INPUT: &str = "no key can arrive: this console has no input";

/// A key from the console. Control keys come as their characters: Enter `\r` (or
/// `\n`), Escape `\x1b`, Backspace `\x08`, Ctrl-C `\x03`, Ctrl-B `\x02`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A character, control characters included.
    Char(char),
    /// Cursor up.
    Up,
    /// Cursor down.
    Down,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Home.
    Home,
    /// End.
    End,
}

impl Key {
    /// Enter (`\r` or `\n`).
    pub fn is_enter(self) -> bool {
        matches!(self, Key::Char('\r' | '\n'))
    }

    /// Escape or Ctrl-C: cancel.
    pub fn is_cancel(self) -> bool {
        matches!(self, Key::Char('\x1b' | '\x03'))
    }
}

/// A `--key` value as iPXE reads it: a single character is that key; otherwise a number
/// (`0x02` is Ctrl-B, `0x0d` Enter).
pub fn parse_key(text: &str) -> Result<Key, String> {
    let mut chars = text.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Ok(Key::Char(c));
    }
    let bad = || format!("--key: '{text}' is neither one character nor a key code");
    let code = strtoul(text).filter(|_| !text.starts_with('-')).ok_or_else(bad)?;
    match u8::try_from(code) {
        Ok(b) if b.is_ascii() => Ok(Key::Char(char::from(b))),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_as_ipxe_reads_them() {
        assert_eq!(parse_key("d"), Ok(Key::Char('d')));
        assert_eq!(parse_key("0x02"), Ok(Key::Char('\x02')));
        assert_eq!(parse_key("13"), Ok(Key::Char('\r')));
        assert!(parse_key("0x1234").is_err());
        assert!(parse_key("dd").is_err());
        assert!(Key::Char('\n').is_enter() && Key::Char('\x03').is_cancel() && !Key::Up.is_enter());
    }
}
