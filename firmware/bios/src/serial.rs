//! The console: the first serial port (COM1, 115200 8N1), as iPXE's BIOS build uses
//! it, beside the screen ([`crate::vga`]); control characters from images and servers
//! are escaped as on UEFI.

use core::fmt::{self, Write};

use crate::port::{inb, outb};

const COM1: u16 = 0x3f8;

/// Sets the UART to 115200 8N1 with FIFOs.
pub fn init() {
    outb(COM1 + 1, 0);
    outb(COM1 + 3, 0x80);
    outb(COM1, 1);
    outb(COM1 + 1, 0);
    outb(COM1 + 3, 3);
    outb(COM1 + 2, 0xc7);
    outb(COM1 + 4, 0x0b);
}

fn put(byte: u8) {
    // Waits (bounded) for the transmit holding register.
    for _ in 0..100_000 {
        if inb(COM1 + 5) & 0x20 != 0 {
            break;
        }
    }
    outb(COM1, byte);
}

/// A byte from the serial line, if one is waiting.
pub fn read() -> Option<u8> {
    (inb(COM1 + 5) & 1 != 0).then(|| inb(COM1))
}

pub struct Serial;

impl Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if c == '\n' {
                put(b'\r');
            }
            let mut buf = [0u8; 4];
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                put(b);
            }
        }
        Ok(())
    }
}

/// The screen's half of the console.
struct Screen;

impl Write for Screen {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::vga::write(s);
        Ok(())
    }
}

/// Prints text as it is (the caller escapes what came from outside), on the serial line
/// and the screen.
pub fn print_raw(args: fmt::Arguments<'_>) {
    let _ = Serial.write_fmt(args);
    let _ = Screen.write_fmt(args);
}

/// The console the core's messages (and the script's) go to: the serial line and the
/// screen, each line's control characters escaped.
pub struct BiosConsole;

pub static CONSOLE: BiosConsole = BiosConsole;

impl bootsign_firmware_core::console::Console for BiosConsole {
    fn print(&self, text: &str) {
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                print_raw(format_args!("\n"));
            }
            print_raw(format_args!("{}", bootsign_pki::text::escape_controls(line)));
        }
    }

    fn rewind(&self) {
        print_raw(format_args!("\r"));
    }
}

/// Sends `bytes` to the serial line only (terminal control: colours, clearing).
pub fn control(bytes: &str) {
    let _ = Serial.write_str(bytes);
}

#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        $crate::serial::print_raw(format_args!($($arg)*));
        $crate::serial::print_raw(format_args!("\n"));
    }};
}
