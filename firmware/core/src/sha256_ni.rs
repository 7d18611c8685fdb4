//! SHA-256 with the x86 SHA extensions (SHA-NI), for hashing downloads as they arrive.
//!
//! The UEFI target is built soft-float, so neither the `sha2` crate's runtime detection
//! nor `target_feature` can reach these instructions; the block function is written in
//! assembly instead, called only after CPUID reports SHA, SSSE3 and SSE4.1. The platform
//! runs us with SSE enabled; the XMM registers the assembly uses are saved and restored
//! around it, since the code around it (ours and the firmware's) is free to use them.
//!
//! Register use in `compress`: xmm0 the message words plus round constants (the implicit
//! operand of SHA256RNDS2), xmm1/xmm2 the state as ABEF/CDGH, xmm3-xmm6 the message
//! schedule (four words each), xmm7 scratch, xmm8 the byte-swap mask, xmm9/xmm10 the state
//! at the start of the block.
//!
//! This file has no dependencies beyond `core` so the host test suite can include it and
//! compare it with the `sha2` crate.

use core::arch::asm;
use core::arch::x86_64::__cpuid_count;

/// Round constants, then the mask that turns big-endian message words into lanes.
#[repr(C, align(16))]
struct Tables {
    k: [u32; 64],
    bswap: [u8; 16],
}

static TABLES: Tables = Tables {
    k: [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ],
    // Reverses the bytes within each 32-bit lane.
    bswap: [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12],
};

const H0: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// Whether this CPU has the instructions `compress` uses.
pub fn supported() -> bool {
    // Leaf 7 is read only when the maximum leaf reaches it.
    let max = __cpuid_count(0, 0).eax;
    let leaf1 = __cpuid_count(1, 0);
    let ssse3 = leaf1.ecx & (1 << 9) != 0;
    let sse41 = leaf1.ecx & (1 << 19) != 0;
    let sha = max >= 7 && __cpuid_count(7, 0).ebx & (1 << 29) != 0;
    ssse3 && sse41 && sha
}

// Four rounds with message register $m (words i..i+4) and constants at byte offset $k.
macro_rules! rounds4 {
    ($m:literal, $k:literal) => {
        concat!(
            "movdqa xmm0, ",
            $m,
            "\n",
            "paddd xmm0, [rdx + ",
            $k,
            "]\n",
            "sha256rnds2 xmm2, xmm1\n",
            "pshufd xmm0, xmm0, 0x0E\n",
            "sha256rnds2 xmm1, xmm2\n",
        )
    };
}

// The next four message words into $m0 (which holds the oldest four), from the four
// registers in age order $m0..$m3.
macro_rules! schedule {
    ($m0:literal, $m1:literal, $m2:literal, $m3:literal) => {
        concat!(
            "sha256msg1 ",
            $m0,
            ", ",
            $m1,
            "\n",
            "movdqa xmm7, ",
            $m3,
            "\n",
            "palignr xmm7, ",
            $m2,
            ", 4\n",
            "paddd ",
            $m0,
            ", xmm7\n",
            "sha256msg2 ",
            $m0,
            ", ",
            $m3,
            "\n",
        )
    };
}

/// Hashes `blocks` 64-byte blocks at `data` into `state`.
///
/// # Safety
/// `supported()` must be true, and `data` must point to `blocks * 64` readable bytes.
unsafe fn compress(state: &mut [u32; 8], data: *const u8, blocks: usize) {
    if blocks == 0 {
        return;
    }
    let mut save = [0u128; 11];
    // SAFETY: the caller guarantees the CPU features and the input length; the asm
    // reads `blocks * 64` bytes at `data`, the tables, and reads and writes `state` and
    // `save` (its own register save area), and restores every XMM register it touches.
    unsafe {
        asm!(
            save_xmm!("rcx"; 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
            // State words a..h into ABEF (xmm1) and CDGH (xmm2).
            "movdqu xmm7, [rdi]",
            "movdqu xmm2, [rdi + 16]",
            "pshufd xmm7, xmm7, 0xB1",
            "pshufd xmm2, xmm2, 0x1B",
            "movdqa xmm1, xmm7",
            "palignr xmm1, xmm2, 8",
            "pblendw xmm2, xmm7, 0xF0",
            "movdqa xmm8, [rdx + 256]",
            "2:",
            "movdqa xmm9, xmm1",
            "movdqa xmm10, xmm2",
            "movdqu xmm3, [rsi]",
            "pshufb xmm3, xmm8",
            "movdqu xmm4, [rsi + 16]",
            "pshufb xmm4, xmm8",
            "movdqu xmm5, [rsi + 32]",
            "pshufb xmm5, xmm8",
            "movdqu xmm6, [rsi + 48]",
            "pshufb xmm6, xmm8",
            rounds4!("xmm3", "0"),
            rounds4!("xmm4", "16"),
            rounds4!("xmm5", "32"),
            rounds4!("xmm6", "48"),
            schedule!("xmm3", "xmm4", "xmm5", "xmm6"),
            rounds4!("xmm3", "64"),
            schedule!("xmm4", "xmm5", "xmm6", "xmm3"),
            rounds4!("xmm4", "80"),
            schedule!("xmm5", "xmm6", "xmm3", "xmm4"),
            rounds4!("xmm5", "96"),
            schedule!("xmm6", "xmm3", "xmm4", "xmm5"),
            rounds4!("xmm6", "112"),
            schedule!("xmm3", "xmm4", "xmm5", "xmm6"),
            rounds4!("xmm3", "128"),
            schedule!("xmm4", "xmm5", "xmm6", "xmm3"),
            rounds4!("xmm4", "144"),
            schedule!("xmm5", "xmm6", "xmm3", "xmm4"),
            rounds4!("xmm5", "160"),
            schedule!("xmm6", "xmm3", "xmm4", "xmm5"),
            rounds4!("xmm6", "176"),
            schedule!("xmm3", "xmm4", "xmm5", "xmm6"),
            rounds4!("xmm3", "192"),
            schedule!("xmm4", "xmm5", "xmm6", "xmm3"),
            rounds4!("xmm4", "208"),
            schedule!("xmm5", "xmm6", "xmm3", "xmm4"),
            rounds4!("xmm5", "224"),
            schedule!("xmm6", "xmm3", "xmm4", "xmm5"),
            rounds4!("xmm6", "240"),
            "paddd xmm1, xmm9",
            "paddd xmm2, xmm10",
            "add rsi, 64",
            "dec r8",
            "jnz 2b",
            // ABEF/CDGH back to a..h.
            "pshufd xmm1, xmm1, 0x1B",
            "pshufd xmm2, xmm2, 0xB1",
            "movdqa xmm7, xmm1",
            "pblendw xmm1, xmm2, 0xF0",
            "palignr xmm2, xmm7, 8",
            "movdqu [rdi], xmm1",
            "movdqu [rdi + 16], xmm2",
            restore_xmm!("rcx"; 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
            in("rdi") state.as_mut_ptr(),
            inout("rsi") data => _,
            in("rdx") core::ptr::from_ref(&TABLES),
            in("rcx") save.as_mut_ptr(),
            inout("r8") blocks => _,
            options(nostack),
        );
    }
}

/// An incremental SHA-256 on SHA-NI. Make one only when [`supported`] is true.
#[derive(Clone)]
pub struct Sha256 {
    state: [u32; 8],
    buf: [u8; 64],
    buffered: usize,
    total: u64,
}

impl Sha256 {
    /// A fresh hash, or `None` when the CPU lacks the instructions.
    pub fn new() -> Option<Self> {
        supported().then_some(Self { state: H0, buf: [0; 64], buffered: 0, total: 0 })
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.buffered > 0 {
            let take = (64 - self.buffered).min(data.len());
            self.buf[self.buffered..self.buffered + take].copy_from_slice(&data[..take]);
            self.buffered += take;
            data = &data[take..];
            if self.buffered < 64 {
                return;
            }
            // SAFETY: `new` checked the CPU; the buffer is one whole block.
            unsafe { compress(&mut self.state, self.buf.as_ptr(), 1) };
            self.buffered = 0;
        }
        let blocks = data.len() / 64;
        // SAFETY: as above; `blocks * 64 <= data.len()`.
        unsafe { compress(&mut self.state, data.as_ptr(), blocks) };
        let rest = &data[blocks * 64..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buffered = rest.len();
    }

    pub fn finish(mut self) -> [u8; 32] {
        let bits = self.total.wrapping_mul(8);
        let mut pad = [0u8; 72];
        pad[0] = 0x80;
        let pad_len = if self.buffered < 56 { 56 - self.buffered } else { 120 - self.buffered };
        pad[pad_len..pad_len + 8].copy_from_slice(&bits.to_be_bytes());
        self.update(&pad[..pad_len + 8]);
        debug_assert_eq!(self.buffered, 0);
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}
