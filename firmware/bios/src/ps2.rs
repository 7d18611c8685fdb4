//! The keyboard on the PS/2 controller (ports 0x60 and 0x64), polled; the BIOS leaves
//! it translating to scan code set 1, and USB keyboards appear here too through the
//! BIOS's legacy emulation. Keys come as the script UI's [`Key`]s.

use core::sync::atomic::{AtomicBool, Ordering};

use bootsign_script::ui::Key;

use crate::port::inb;

static CTRL: AtomicBool = AtomicBool::new(false);
static SHIFT: AtomicBool = AtomicBool::new(false);
static EXTENDED: AtomicBool = AtomicBool::new(false);

/// Set 1 make codes 0x00–0x39 as characters, unshifted and shifted (0: not a character).
const PLAIN: &[u8; 0x3a] = b"\0\x001234567890-=\x08\tqwertyuiop[]\r\0asdfghjkl;'`\0\\zxcvbnm,./\0*\0 ";
const SHIFTED: &[u8; 0x3a] = b"\0\0!@#$%^&*()_+\x08\tQWERTYUIOP{}\r\0ASDFGHJKL:\"~\0|ZXCVBNM<>?\0*\0 ";

/// The next key pressed, if the controller has one (mouse bytes are skipped).
pub fn read() -> Option<Key> {
    loop {
        let status = inb(0x64);
        if status & 1 == 0 {
            return None;
        }
        let code = inb(0x60);
        if status & 0x20 != 0 {
            continue; // from the mouse
        }
        if code == 0xe0 {
            EXTENDED.store(true, Ordering::Relaxed);
            continue;
        }
        let extended = EXTENDED.swap(false, Ordering::Relaxed);
        let released = code & 0x80 != 0;
        let make = code & 0x7f;
        match make {
            0x1d => CTRL.store(!released, Ordering::Relaxed),
            0x2a | 0x36 => SHIFT.store(!released, Ordering::Relaxed),
            _ if released => {}
            0x01 => return Some(Key::Char('\x1b')),
            0x48 if extended => return Some(Key::Up),
            0x50 if extended => return Some(Key::Down),
            0x49 if extended => return Some(Key::PageUp),
            0x51 if extended => return Some(Key::PageDown),
            0x47 if extended => return Some(Key::Home),
            0x4f if extended => return Some(Key::End),
            0x53 if extended => return Some(Key::Char('\x7f')),
            _ => {
                let table = if SHIFT.load(Ordering::Relaxed) { SHIFTED } else { PLAIN };
                let Some(&c) = table.get(usize::from(make)).filter(|&&c| c != 0) else { continue };
                if CTRL.load(Ordering::Relaxed) && c.is_ascii_alphabetic() {
                    return Some(Key::Char(char::from(c.to_ascii_lowercase() - b'a' + 1)));
                }
                return Some(Key::Char(char::from(c)));
            }
        }
    }
}
