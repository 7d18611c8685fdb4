//! The screen: VGA text mode (80 × 25 at 0xB8000, as the BIOS leaves it), written
//! directly, with the hardware cursor kept in step. Everything printed goes here and to
//! the serial port.

use crate::port::outb;
use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

const COLUMNS: usize = 80;
const ROWS: usize = 25;
const BUFFER: usize = 0xb8000;

static CURSOR: AtomicUsize = AtomicUsize::new(0);
/// The attribute written with each character: light grey on black.
static ATTRIBUTE: AtomicU8 = AtomicU8::new(0x07);

fn cell(index: usize) -> *mut u16 {
    (BUFFER as *mut u16).wrapping_add(index)
}

fn write_cell(index: usize, value: u16) {
    // SAFETY: index < COLUMNS * ROWS: within the text buffer, identity-mapped MMIO.
    unsafe { core::ptr::write_volatile(cell(index), value) };
}

fn read_cell(index: usize) -> u16 {
    // SAFETY: as `write_cell`.
    unsafe { core::ptr::read_volatile(cell(index)) }
}

fn blank() -> u16 {
    u16::from(ATTRIBUTE.load(Ordering::Relaxed)) << 8 | u16::from(b' ')
}

/// Moves the blinking cursor to the write position.
fn place_cursor(at: usize) {
    outb(0x3d4, 0x0f);
    outb(0x3d5, (at & 0xff) as u8);
    outb(0x3d4, 0x0e);
    outb(0x3d5, (at >> 8) as u8);
}

fn scroll() {
    for i in 0..COLUMNS * (ROWS - 1) {
        write_cell(i, read_cell(i + COLUMNS));
    }
    for i in COLUMNS * (ROWS - 1)..COLUMNS * ROWS {
        write_cell(i, blank());
    }
}

/// Writes `text` at the cursor: `\n` starts a line, `\r` returns to its start, `\x08`
/// steps back; a code point VGA cannot show is written as `?`.
pub fn write(text: &str) {
    let mut at = CURSOR.load(Ordering::Relaxed);
    for c in text.chars() {
        match c {
            '\n' => at = (at / COLUMNS + 1) * COLUMNS,
            '\r' => at -= at % COLUMNS,
            '\x08' => at = at.saturating_sub(1),
            c => {
                let byte = if c.is_ascii() && !c.is_ascii_control() { c as u8 } else { b'?' };
                write_cell(at, blank() & 0xff00 | u16::from(byte));
                at += 1;
            }
        }
        if at >= COLUMNS * ROWS {
            scroll();
            at -= COLUMNS;
        }
    }
    CURSOR.store(at, Ordering::Relaxed);
    place_cursor(at);
}

/// Clears the screen in the current colours.
pub fn clear() {
    for i in 0..COLUMNS * ROWS {
        write_cell(i, blank());
    }
    CURSOR.store(0, Ordering::Relaxed);
    place_cursor(0);
}

/// Sets the colours of what follows: basic colours in ANSI order (black, red, green,
/// yellow, blue, magenta, cyan, white), `None` the default (light grey on black).
pub fn colours(foreground: Option<u8>, background: Option<u8>) {
    // ANSI's order in VGA's palette.
    const VGA: [u8; 8] = [0, 4, 2, 6, 1, 5, 3, 7];
    let pick =
        |c: Option<u8>, default: u8| c.and_then(|c| VGA.get(usize::from(c)).copied()).unwrap_or(default);
    ATTRIBUTE.store(pick(background, 0) << 4 | pick(foreground, 7), Ordering::Relaxed);
}
