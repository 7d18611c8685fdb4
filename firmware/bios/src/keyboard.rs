//! The keyboard through the BIOS (INT 16h, its extended functions 10h and 11h): what the
//! BIOS reads from a PS/2 keyboard, or from a USB one through its legacy support, comes
//! here as the script UI's [`Key`]s. The BIOS's own keyboard interrupt buffers the keys;
//! it runs while a real-mode call is in progress, so [`read`] is also what lets it run.

use bootsign_script::ui::Key;

use crate::thunk::{Regs, int};

/// The next key the BIOS has buffered, if any.
pub fn read() -> Option<Key> {
    // AH=11h: is a key waiting (ZF clear)? Without removing it.
    let mut regs = Regs { eax: 0x1100, ..Regs::default() };
    int(0x16, &mut regs);
    if regs.zero() {
        return None;
    }
    // AH=10h: take it; AH = scan code, AL = its character (0 or 0xE0 for keys without one).
    let mut regs = Regs { eax: 0x1000, ..Regs::default() };
    int(0x16, &mut regs);
    let (scan, ascii) = ((regs.eax >> 8) as u8, regs.eax as u8);
    translate(scan, ascii)
}

/// A BIOS key (scan code and character) as the UI sees it; `None` for keys it has no
/// use for.
fn translate(scan: u8, ascii: u8) -> Option<Key> {
    Some(match (scan, ascii) {
        (0x48, 0 | 0xe0) => Key::Up,
        (0x50, 0 | 0xe0) => Key::Down,
        (0x49, 0 | 0xe0) => Key::PageUp,
        (0x51, 0 | 0xe0) => Key::PageDown,
        (0x47, 0 | 0xe0) => Key::Home,
        (0x4f, 0 | 0xe0) => Key::End,
        // Delete rubs out, as a terminal's DEL does.
        (0x53, 0 | 0xe0) => Key::Char('\x7f'),
        (_, 0 | 0xe0) => return None,
        (_, c) => Key::Char(char::from(c)),
    })
}
