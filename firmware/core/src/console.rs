//! Where the core's messages go: the platform's console, registered once at start-up
//! ([`set`]). The platform escapes control characters in what it shows (names, URLs and
//! script text come from images, servers and signatures).

use spin::Once;

/// A platform's console.
pub trait Console: Sync {
    /// Shows `text`, its control characters escaped, line breaks kept.
    fn print(&self, text: &str);
    /// Returns to the start of the line, for a progress line that redraws itself.
    fn rewind(&self);
}

static CONSOLE: Once<&'static dyn Console> = Once::new();

/// Makes `console` the one messages go to (the first call wins).
pub fn set(console: &'static dyn Console) {
    CONSOLE.call_once(|| console);
}

/// Shows `text` on the console (nothing before [`set`]).
pub fn print(text: &str) {
    if let Some(c) = CONSOLE.get() {
        c.print(text);
    }
}

/// Returns to the start of the line.
pub fn rewind() {
    if let Some(c) = CONSOLE.get() {
        c.rewind();
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
