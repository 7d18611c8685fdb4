//! Console output through UEFI's ConOut (which OVMF also mirrors to the serial port).
//!
//! Everything printed passes [`print`], which shows control characters and Unicode
//! direction overrides as escapes (`\x1b`, `\u{202e}`): names, URLs and script text
//! come from images, servers and signatures, and must not be able to move the cursor or
//! redraw the screen. Line breaks stay; a progress line returns with [`rewind`].

use core::fmt::Write;

use bootsign_pki::text::escape_controls;

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
