//! The console: output through UEFI's ConOut and keys from ConIn (which OVMF also
//! connects to the serial port, so menus work over a serial line as on a screen).
//!
//! Everything printed passes [`print`], which shows control characters and Unicode
//! direction overrides as escapes (`\x1b`, `\u{202e}`): names, URLs and script text
//! come from images, servers and signatures, and must not be able to move the cursor or
//! redraw the screen. Line breaks stay; a progress line returns with [`rewind`].

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::time::Duration;

use bootsign_pki::text::escape_controls;
use bootsign_script::ui::Key;
use uefi::boot;
use uefi::proto::console::text::{Key as UefiKey, ScanCode};

/// Writes `text` to the console, each line with its control characters escaped.
/// Untrusted parts should be escaped with `bootsign_pki::text::escape` as the message
/// is made (that also doubles their backslashes); this is the net under it.
pub fn print(text: &str) {
    uefi::system::with_stdout(|out| {
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                let _ = out.write_str("\n");
            }
            let _ = write!(out, "{}", escape_controls(line));
        }
    });
}

/// Returns to the start of the line, for a progress line that redraws itself.
pub fn rewind() {
    uefi::system::with_stdout(|out| {
        let _ = out.write_str("\r");
    });
}

/// The console the core's messages go to.
pub struct UefiConsole;

pub static CONSOLE: UefiConsole = UefiConsole;

impl bootsign_firmware_core::console::Console for UefiConsole {
    fn print(&self, text: &str) {
        print(text);
    }

    fn rewind(&self) {
        rewind();
    }
}

/// `print!` for the console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::print(&alloc::format!($($arg)*)) };
}

/// `println!` for the console.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => { $crate::console::print(&alloc::format!("{}\n", alloc::format!($($arg)*))) };
}

/// How often [`key`] looks for a key while it waits.
const KEY_POLL: Duration = Duration::from_millis(10);

/// Waits at most `timeout_ms` (`None`: as long as it takes) for a key.
pub fn key(timeout_ms: Option<u64>, clock: &bootsign_firmware_core::clock::Clock) -> Option<Key> {
    let deadline = timeout_ms.map(|t| clock.now_ms() + t);
    loop {
        if let Some(k) = uefi::system::with_stdin(|input| input.read_key().ok().flatten()).and_then(translate)
        {
            return Some(k);
        }
        if deadline.is_some_and(|d| clock.now_ms() >= d) {
            return None;
        }
        boot::stall(KEY_POLL);
    }
}

/// A UEFI key as the script's UI sees it (`None` for keys it has no use for).
fn translate(k: UefiKey) -> Option<Key> {
    match k {
        UefiKey::Printable(c) => Some(Key::Char(char::from(c))),
        UefiKey::Special(ScanCode::ESCAPE) => Some(Key::Char('\x1b')),
        UefiKey::Special(ScanCode::UP) => Some(Key::Up),
        UefiKey::Special(ScanCode::DOWN) => Some(Key::Down),
        UefiKey::Special(ScanCode::PAGE_UP) => Some(Key::PageUp),
        UefiKey::Special(ScanCode::PAGE_DOWN) => Some(Key::PageDown),
        UefiKey::Special(ScanCode::HOME) => Some(Key::Home),
        UefiKey::Special(ScanCode::END) => Some(Key::End),
        // A serial terminal's Backspace sends DEL, which OVMF's terminal reports as the
        // Delete key; at the end of the line being edited both rub out a character.
        UefiKey::Special(ScanCode::DELETE) => Some(Key::Char('\x7f')),
        UefiKey::Special(_) => None,
    }
}

/// Clears the screen (and, through OVMF's terminal, the serial console).
pub fn clear() {
    uefi::system::with_stdout(|out| {
        let _ = out.clear();
    });
}

/// Shows what follows in basic colours 0–7 (ANSI order: black, red, green, yellow,
/// blue, magenta, cyan, white), `None` being the console's default (light grey on black).
pub fn colours(foreground: Option<u8>, background: Option<u8>) {
    use uefi::proto::console::text::Color;
    // ANSI's order in UEFI's colours; "white" is UEFI's light grey, as in iPXE.
    const ANSI: [Color; 8] = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Brown,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::LightGray,
    ];
    let pick = |c: Option<u8>, default| c.and_then(|c| ANSI.get(usize::from(c)).copied()).unwrap_or(default);
    uefi::system::with_stdout(|out| {
        let _ = out.set_color(pick(foreground, Color::LightGray), pick(background, Color::Black));
    });
}

/// The pixels of one character in UEFI's graphics console (its 8 × 19 glyphs).
const GLYPH: (u32, u32) = (8, 19);

/// Sets the console to the smallest text mode at least `width` × `height` pixels (0:
/// any), as iPXE picks the smallest framebuffer mode that large; returns the mode's
/// columns and rows. A console with only a serial line has modes too, which count as
/// UEFI's graphics console would draw them.
pub fn set_size(width: u32, height: u32) -> Result<(usize, usize), String> {
    uefi::system::with_stdout(|out| {
        let pixels = |m: &uefi::proto::console::text::OutputMode| {
            (m.columns() as u32 * GLYPH.0, m.rows() as u32 * GLYPH.1)
        };
        let modes: Vec<_> = out.modes().collect();
        let fits = modes.iter().filter(|m| {
            let (w, h) = pixels(m);
            w >= width && h >= height
        });
        let Some(best) = fits.min_by_key(|m| {
            let (w, h) = pixels(m);
            u64::from(w) * u64::from(h)
        }) else {
            let (w, h) =
                modes.iter().map(pixels).max_by_key(|&(w, h)| u64::from(w) * u64::from(h)).unwrap_or((0, 0));
            return Err(alloc::format!(
                "no console mode is {width} x {height} pixels or larger (the largest: {w} x {h})"
            ));
        };
        let dims = (best.columns(), best.rows());
        out.set_mode(*best).map_err(|e| {
            alloc::format!("could not set the console to {} x {} characters: {e:?}", dims.0, dims.1)
        })?;
        Ok(dims)
    })
}

/// Erases `count` characters before the cursor.
pub fn erase(count: usize) {
    uefi::system::with_stdout(|out| {
        for _ in 0..count {
            let _ = out.write_str("\x08 \x08");
        }
    });
}
