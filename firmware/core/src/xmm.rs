//! Saving and restoring XMM registers around assembly. The UEFI target is soft-float, so
//! compiled code neither uses nor preserves vector registers; the assembly that does
//! leaves them as it found them, for the firmware and whatever else runs here.
//!
//! Both macros expand to asm template text; `$base` is a register or a `{operand}`.

/// Stores each listed xmm`n` at `[$base + 16 * n]`.
macro_rules! save_xmm {
    ($base:literal; $($n:literal),+) => {
        concat!($("movdqu [", $base, " + 16 * ", $n, "], xmm", $n, "\n"),+)
    };
}

/// Loads back what `save_xmm!` stored.
macro_rules! restore_xmm {
    ($base:literal; $($n:literal),+) => {
        concat!($("movdqu xmm", $n, ", [", $base, " + 16 * ", $n, "]\n"),+)
    };
}
