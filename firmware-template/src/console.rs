//! Console output through UEFI's ConOut (which OVMF also mirrors to the serial port).

use core::fmt::Write;

/// Writes `text` to the console.
pub fn print(text: &str) {
    uefi::system::with_stdout(|out| {
        let _ = out.write_str(text);
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
