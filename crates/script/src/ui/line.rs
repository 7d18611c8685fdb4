//! `prompt` (wait for a key), and `read` and `login` (edit a line), as iPXE's.

use alloc::string::String;

use super::Key;
use crate::interp::Machine;

/// Why a prompt or a line edit ended without an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unanswered {
    /// The time ran out.
    TimedOut,
    /// Another key than the one asked for, or Escape/Ctrl-C while reading a line.
    Cancelled,
    /// No timeout and no key will ever come.
    NoInput,
}

/// Shows `text` and waits up to `timeout_ms` (0: as long as it takes) for a key: any key,
/// or `key` when given (another key fails, as iPXE's `prompt --key`).
pub fn prompt<M: Machine + ?Sized>(
    machine: &mut M,
    text: &str,
    key: Option<Key>,
    timeout_ms: u64,
) -> Result<(), Unanswered> {
    machine.print(text);
    let got = machine.key((timeout_ms > 0).then_some(timeout_ms));
    machine.print("\n");
    match (got, key) {
        (None, _) if timeout_ms == 0 => Err(Unanswered::NoInput),
        (None, _) => Err(Unanswered::TimedOut),
        (Some(k), Some(want)) if k != want => Err(Unanswered::Cancelled),
        _ => Ok(()),
    }
}

/// Reads a line, starting from `initial` (shown, editable with Backspace); Enter ends
/// it. `timeout_ms` (0: none) bounds the wait for each key. A `secret` line (a password)
/// shows a `*` for each character.
pub fn read_line<M: Machine + ?Sized>(
    machine: &mut M,
    initial: &str,
    timeout_ms: u64,
    secret: bool,
) -> Result<String, Unanswered> {
    let mut line = String::from(initial);
    let mut shown = String::new();
    let mut show = |machine: &mut M, c: char| {
        shown.clear();
        shown.push(if secret { '*' } else { c });
        machine.print(&shown);
    };
    for c in line.chars() {
        show(machine, c);
    }
    loop {
        let Some(key) = machine.key((timeout_ms > 0).then_some(timeout_ms)) else {
            machine.print("\n");
            return Err(if timeout_ms == 0 { Unanswered::NoInput } else { Unanswered::TimedOut });
        };
        match key {
            k if k.is_enter() => {
                machine.print("\n");
                return Ok(line);
            }
            k if k.is_cancel() => {
                machine.print("\n");
                return Err(Unanswered::Cancelled);
            }
            Key::Char('\x08' | '\x7f') if line.pop().is_some() => machine.erase(1),
            Key::Char(c) if !c.is_control() => {
                line.push(c);
                show(machine, c);
            }
            _ => {}
        }
    }
}
