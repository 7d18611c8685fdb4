//! ChaCha20-Poly1305 (RFC 8439) with ChaCha20 on SSE2, for HTTPS record protection.
//!
//! The UEFI target is built soft-float, so the RustCrypto `chacha20poly1305` the TLS crate
//! uses by default runs its portable scalar ChaCha20 there. This module computes ChaCha20
//! with SSE2 in assembly (neither `target_feature` nor the crate's runtime detection can
//! reach vector instructions on this target) and keeps RustCrypto's `poly1305` for the
//! MAC: under QEMU's TCG, ChaCha20 on SSE2 still costs about three times Poly1305, and
//! a 64-bit-limb Poly1305 written for this module was no faster there than the crate's
//! portable one. It plugs into `bootsign_tls` through [`AeadAlgorithm`]; use [`aeads`].
//! SSE2 is part of x86-64, so there is nothing to detect; the platform runs us with SSE
//! enabled (the AES-NI module relies on the same). Every XMM register an assembly block
//! uses is saved and restored around it, since the code around it (ours and the
//! firmware's) is free to use them.
//!
//! ChaCha20 layout ("vertical"): four blocks at a time, each XMM register holding the same
//! state word of the four blocks, so a quarter round is the same lane-wise additions,
//! XORs and rotations on four registers and the rounds need no shuffles. Rotations are
//! shift, shift and OR (PSLLD, PSRLD, POR): under QEMU's TCG, where these images are
//! tested and often run, byte shuffles (PSHUFB, PSHUFD) are helper calls that cost many
//! times an inline PADDD or PXOR. The 16 state words and one temporary are one more than
//! the 16 XMM registers, so x12 and x15 share xmm12 and take turns in memory: x15 is
//! loaded for the last column round and the first diagonal round, x12 for the rest (two
//! stores and two loads per double round). Only the final transposition, from one word
//! of four blocks per register to four words of one block, uses unpack instructions
//! (thirty-two per four blocks).
//!
//! One assembly call runs the whole record (a TLS record is at most 16 KiB) and then up to
//! two extra groups of four blocks in a buffer: the record's last partial group, and
//! block 0, whose first 32 bytes are the one-time Poly1305 key (in the same group as the
//! tail when that is three blocks or fewer). Sealing is one call; opening is two, since
//! the tag is checked on the ciphertext before anything is decrypted, so a refused record
//! leaves no plaintext behind.
//!
//! This file depends only on `core`, `alloc`, `bootsign_tls`, `poly1305`, `subtle` and `zeroize`, so the host
//! test suite includes it and compares it with the software implementation.

use alloc::boxed::Box;
use core::arch::asm;

use bootsign_tls::Aeads;
use bootsign_tls::provider::aead::{AeadAlgorithm, AeadCipher, OpenError, TAG_LEN};
use poly1305::Poly1305;
use poly1305::universal_hash::{KeyInit, UniversalHash};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// `base` with this module's ChaCha20-Poly1305 in place of its own (keeping its AES-GCM).
pub fn aeads(base: Aeads) -> Aeads {
    Aeads { chacha20_poly1305: &CHACHA20_POLY1305_SSE2, ..base }
}

/// ChaCha20-Poly1305 with ChaCha20 on SSE2.
#[derive(Debug)]
pub struct ChaCha20Poly1305Sse2;

/// The one instance.
pub static CHACHA20_POLY1305_SSE2: ChaCha20Poly1305Sse2 = ChaCha20Poly1305Sse2;

impl AeadAlgorithm for ChaCha20Poly1305Sse2 {
    fn key_len(&self) -> usize {
        32
    }

    fn new_cipher(&self, key: &[u8]) -> Box<dyn AeadCipher> {
        assert_eq!(key.len(), 32, "ChaCha20-Poly1305 key length");
        let mut words = [0u32; 8];
        for (w, b) in words.iter_mut().zip(key.chunks_exact(4)) {
            *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        Box::new(Cipher { key: words })
    }
}

/// The most a message may hold: block counters 1 to 2^32 - 1 (RFC 8439 §2.8).
const MAX_DATA_LEN: u64 = ((1 << 32) - 1) * 64;

/// Bytes of one group of four blocks.
const GROUP: usize = 256;

/// "expand 32-byte k".
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// The ChaCha20 input state of four blocks, word `i` of block `j` at `[i][j]`: the same
/// for every block except the counter, word 12. 16-byte aligned for SSE memory operands.
#[repr(C, align(16))]
struct Vertical([[u32; 4]; 16]);

/// What the assembly adds to the counters after each group.
#[repr(C, align(16))]
struct Step([u32; 4]);

static FOUR: Step = Step([4; 4]);

/// The counter words of the extra groups (see [`chacha_groups`]).
#[repr(C, align(16))]
struct ExtraCounters([[u32; 4]; 2]);

/// The assembly's register save area (offsets 0..256) and the memory slots of x12 and x15
/// (256 and 272). 16-byte aligned for MOVDQA.
#[repr(C, align(16))]
struct Scratch([[u8; 16]; 18]);

/// One keyed direction.
struct Cipher {
    key: [u32; 8],
}

impl Drop for Cipher {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl Cipher {
    /// The input state for `nonce`, with block counters `first..first + 4`.
    fn state(&self, nonce: &[u8; 12], first: u32) -> Vertical {
        let mut words = [0u32; 16];
        words[..4].copy_from_slice(&SIGMA);
        words[4..12].copy_from_slice(&self.key);
        for (w, b) in words[13..].iter_mut().zip(nonce.chunks_exact(4)) {
            *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        let mut v = Vertical([[0; 4]; 16]);
        for (lanes, w) in v.0.iter_mut().zip(words) {
            *lanes = [w; 4];
        }
        v.0[12] = core::array::from_fn(|j| first.wrapping_add(j as u32));
        words.zeroize();
        v
    }

    /// XORs the key stream from block 1 on into `data` (RFC 8439 §2.8: block 0 is for the
    /// one-time key). With `poly_key`, also returns the first 32 bytes of block 0.
    fn crypt(&self, nonce: &[u8; 12], data: &mut [u8], poly_key: bool) -> [u8; 32] {
        let groups = data.len() / GROUP;
        let (head, tail) = data.split_at_mut(groups * GROUP);
        let mut state = self.state(nonce, 1);
        // The counter of the tail's first block; wrapping only reaches lanes past the
        // end of the data, whose output is dropped (the length limit keeps real blocks
        // below 2^32).
        let base = 1u32.wrapping_add((groups as u32).wrapping_mul(4));
        let lanes = |c: u32| core::array::from_fn::<u32, 4, _>(|j| c.wrapping_add(j as u32));
        let mut extra = [[0u8; GROUP]; 2];
        let mut counters = ExtraCounters([[0; 4]; 2]);
        // Where the tail and block 0 go in `extra`, and how many groups it holds.
        let (tail_at, key_at, n_extra) = if poly_key && tail.len() <= GROUP - 64 {
            counters.0[0] = [0, base, base.wrapping_add(1), base.wrapping_add(2)];
            (64, Some(0), 1)
        } else if poly_key {
            counters.0[0] = lanes(base);
            (0, Some(GROUP), 2)
        } else {
            counters.0[0] = lanes(base);
            (0, None, usize::from(!tail.is_empty()))
        };
        let flat = extra.as_flattened_mut();
        flat[tail_at..tail_at + tail.len()].copy_from_slice(tail);
        // SAFETY: `head` is `groups` whole groups, read and written in place; `extra` holds
        // `n_extra` groups and `counters` as many counter words.
        unsafe {
            chacha_groups(&mut state, head.as_mut_ptr(), groups, flat.as_mut_ptr(), &counters, n_extra)
        };
        tail.copy_from_slice(&flat[tail_at..tail_at + tail.len()]);
        let mut key = [0u8; 32];
        if let Some(at) = key_at {
            key.copy_from_slice(&flat[at..at + 32]);
        }
        flat[..n_extra * GROUP].zeroize();
        state.0.as_flattened_mut().zeroize();
        key
    }
}

/// The Poly1305 tag of the AEAD's MAC input: `aad` and `ciphertext` each padded with zeros
/// to 16 bytes, then both lengths (RFC 8439 §2.8).
fn aead_tag(key: &[u8; 32], aad: &[u8], ciphertext: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = Poly1305::new(key.into());
    mac.update_padded(aad);
    mac.update_padded(ciphertext);
    let mut lengths = [0u8; 16];
    lengths[..8].copy_from_slice(&(aad.len() as u64).to_le_bytes());
    lengths[8..].copy_from_slice(&(ciphertext.len() as u64).to_le_bytes());
    mac.update_padded(&lengths);
    mac.finalize().into()
}

impl AeadCipher for Cipher {
    fn seal(&self, nonce: &[u8; 12], aad: &[u8], data: &mut [u8]) -> [u8; TAG_LEN] {
        assert!(data.len() as u64 <= MAX_DATA_LEN, "ChaCha20-Poly1305 input too long");
        let mut key = self.crypt(nonce, data, true);
        let tag = aead_tag(&key, aad, data);
        key.zeroize();
        tag
    }

    fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag_in: &[u8; TAG_LEN],
    ) -> Result<(), OpenError> {
        if data.len() as u64 > MAX_DATA_LEN {
            return Err(OpenError);
        }
        let mut key = self.crypt(nonce, &mut [], true);
        let tag = aead_tag(&key, aad, data);
        key.zeroize();
        if !bool::from(tag.ct_eq(tag_in)) {
            // Nothing was decrypted: `data` is still the ciphertext.
            return Err(OpenError);
        }
        self.crypt(nonce, data, false);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Assembly. Templates are built from the macros below; `{name}` are register operands.

/// Rotates each 32-bit lane of `$r` left by `$n` (`$m` = 32 - `$n`), through xmm15.
macro_rules! rotl {
    ($r:literal, $n:literal, $m:literal) => {
        concat!(
            "movdqa xmm15, ",
            $r,
            "\n",
            "pslld ",
            $r,
            ", ",
            $n,
            "\n",
            "psrld xmm15, ",
            $m,
            "\n",
            "por ",
            $r,
            ", xmm15\n",
        )
    };
}

/// The quarter round (RFC 8439 §2.1) on four registers, four blocks at once.
macro_rules! quarter {
    ($a:literal, $b:literal, $c:literal, $d:literal) => {
        concat!(
            "paddd ",
            $a,
            ", ",
            $b,
            "\n",
            "pxor ",
            $d,
            ", ",
            $a,
            "\n",
            rotl!($d, "16", "16"),
            "paddd ",
            $c,
            ", ",
            $d,
            "\n",
            "pxor ",
            $b,
            ", ",
            $c,
            "\n",
            rotl!($b, "12", "20"),
            "paddd ",
            $a,
            ", ",
            $b,
            "\n",
            "pxor ",
            $d,
            ", ",
            $a,
            "\n",
            rotl!($d, "8", "24"),
            "paddd ",
            $c,
            ", ",
            $d,
            "\n",
            "pxor ",
            $b,
            ", ",
            $c,
            "\n",
            rotl!($b, "7", "25"),
        )
    };
}

/// A column round and a diagonal round. x0-x11, x13 and x14 live in the register of
/// their number; xmm12 holds x12 on entry and exit, and x15 for the two quarter rounds
/// that use it, the other of the two waiting in its slot of `{s}`.
macro_rules! double_round {
    () => {
        concat!(
            quarter!("xmm0", "xmm4", "xmm8", "xmm12"),
            quarter!("xmm1", "xmm5", "xmm9", "xmm13"),
            quarter!("xmm2", "xmm6", "xmm10", "xmm14"),
            "movdqa [{s} + 256], xmm12\n",
            "movdqa xmm12, [{s} + 272]\n",
            quarter!("xmm3", "xmm7", "xmm11", "xmm12"),
            quarter!("xmm0", "xmm5", "xmm10", "xmm12"),
            "movdqa [{s} + 272], xmm12\n",
            "movdqa xmm12, [{s} + 256]\n",
            quarter!("xmm1", "xmm6", "xmm11", "xmm12"),
            quarter!("xmm2", "xmm7", "xmm8", "xmm13"),
            quarter!("xmm3", "xmm4", "xmm9", "xmm14"),
        )
    };
}

/// Transposes the words `$a`, `$b`, `$c`, `$d` (word k..k+3, one block per lane) into
/// rows (four words of one block): block 0 in `$a`, 1 in `$d`, 2 in `$c`, 3 in `$t`.
/// `$b` is free afterwards.
macro_rules! transpose {
    ($a:literal, $b:literal, $c:literal, $d:literal, $t:literal) => {
        concat!(
            "movdqa ",
            $t,
            ", ",
            $a,
            "\n",
            "punpckldq ",
            $a,
            ", ",
            $b,
            "\n",
            "punpckhdq ",
            $t,
            ", ",
            $b,
            "\n",
            "movdqa ",
            $b,
            ", ",
            $c,
            "\n",
            "punpckldq ",
            $c,
            ", ",
            $d,
            "\n",
            "punpckhdq ",
            $b,
            ", ",
            $d,
            "\n",
            "movdqa ",
            $d,
            ", ",
            $a,
            "\n",
            "punpcklqdq ",
            $a,
            ", ",
            $c,
            "\n",
            "punpckhqdq ",
            $d,
            ", ",
            $c,
            "\n",
            "movdqa ",
            $c,
            ", ",
            $t,
            "\n",
            "punpcklqdq ",
            $c,
            ", ",
            $b,
            "\n",
            "punpckhqdq ",
            $t,
            ", ",
            $b,
            "\n",
        )
    };
}

/// XORs row `$r` into the 16 data bytes at offset `$blk` + `$g`, through `$x`.
macro_rules! xor_out {
    ($x:literal, $r:literal, $blk:literal, $g:literal) => {
        concat!(
            "movdqu ",
            $x,
            ", [{p} + ",
            $blk,
            " + ",
            $g,
            "]\n",
            "pxor ",
            $x,
            ", ",
            $r,
            "\n",
            "movdqu [{p} + ",
            $blk,
            " + ",
            $g,
            "], ",
            $x,
            "\n",
        )
    };
}

/// Words `$k`..`$k`+3 (in `$a`..`$d`, the input already added) of the four blocks, XORed
/// into the group at `{p}`; `$g` is the byte offset of those words in a block.
macro_rules! output4 {
    ($a:literal, $b:literal, $c:literal, $d:literal, $t:literal, $g:literal) => {
        concat!(
            transpose!($a, $b, $c, $d, $t),
            xor_out!($b, $a, "0", $g),
            xor_out!($b, $d, "64", $g),
            xor_out!($b, $c, "128", $g),
            xor_out!($b, $t, "192", $g),
        )
    };
}

/// Adds input word `$i` (at `{st}` + 16·`$i`) to register `$r`.
macro_rules! add_input {
    ($r:literal, $i:literal) => {
        concat!("paddd ", $r, ", [{st} + 16 * ", $i, "]\n")
    };
}

/// Runs ChaCha20 on `groups` groups of four blocks at `data` (XORing the key stream in
/// place), the block counters starting from `state`'s word 12 and advancing by four per
/// group; then on `n_extra` groups at `extra`, group k with the counter words
/// `counters[k]`. `state` is changed (its counters).
///
/// # Safety
/// `data` must point to `groups * 256` bytes and `extra` to `n_extra * 256` bytes, both
/// readable and writable; `n_extra` is at most 2.
unsafe fn chacha_groups(
    state: &mut Vertical,
    data: *mut u8,
    groups: usize,
    extra: *mut u8,
    counters: &ExtraCounters,
    n_extra: usize,
) {
    assert!(n_extra <= counters.0.len());
    if groups == 0 && n_extra == 0 {
        return;
    }
    let mut scratch = Scratch([[0; 16]; 18]);
    // SAFETY: the caller guarantees the lengths. The asm reads and writes `state`, the
    // `groups * 256` bytes at `data`, the `n_extra * 256` bytes at `extra` and `scratch`
    // (all aligned as MOVDQA needs: `Vertical`, `Step`, `ExtraCounters` and `Scratch` are
    // 16-byte aligned), reads `counters` and `FOUR`, and restores every XMM register.
    // SSE2 is part of x86-64.
    unsafe {
        asm!(
            save_xmm!("{s}"; 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            "test {n}, {n}",
            "jz 8f",
            "2:",
            "movdqa xmm0, [{st}]",
            "movdqa xmm1, [{st} + 16]",
            "movdqa xmm2, [{st} + 32]",
            "movdqa xmm3, [{st} + 48]",
            "movdqa xmm4, [{st} + 64]",
            "movdqa xmm5, [{st} + 80]",
            "movdqa xmm6, [{st} + 96]",
            "movdqa xmm7, [{st} + 112]",
            "movdqa xmm8, [{st} + 128]",
            "movdqa xmm9, [{st} + 144]",
            "movdqa xmm10, [{st} + 160]",
            "movdqa xmm11, [{st} + 176]",
            "movdqa xmm12, [{st} + 192]",
            "movdqa xmm13, [{st} + 208]",
            "movdqa xmm14, [{st} + 224]",
            "movdqa xmm15, [{st} + 240]",
            "movdqa [{s} + 272], xmm15",
            "mov {r:e}, 10",
            "3:",
            double_round!(),
            "dec {r:e}",
            "jnz 3b",
            add_input!("xmm0", "0"),
            add_input!("xmm1", "1"),
            add_input!("xmm2", "2"),
            add_input!("xmm3", "3"),
            add_input!("xmm4", "4"),
            add_input!("xmm5", "5"),
            add_input!("xmm6", "6"),
            add_input!("xmm7", "7"),
            add_input!("xmm8", "8"),
            add_input!("xmm9", "9"),
            add_input!("xmm10", "10"),
            add_input!("xmm11", "11"),
            add_input!("xmm12", "12"),
            add_input!("xmm13", "13"),
            add_input!("xmm14", "14"),
            output4!("xmm0", "xmm1", "xmm2", "xmm3", "xmm15", "0"),
            output4!("xmm4", "xmm5", "xmm6", "xmm7", "xmm0", "16"),
            output4!("xmm8", "xmm9", "xmm10", "xmm11", "xmm0", "32"),
            "movdqa xmm15, [{s} + 272]",
            add_input!("xmm15", "15"),
            output4!("xmm12", "xmm13", "xmm14", "xmm15", "xmm0", "48"),
            "movdqa xmm0, [{st} + 192]",
            "paddd xmm0, [{four}]",
            "movdqa [{st} + 192], xmm0",
            "add {p}, 256",
            "dec {n}",
            "jnz 2b",
            // The extra groups, each with its own counters.
            "8:",
            "test {m}, {m}",
            "jz 9f",
            "movdqa xmm0, [{cv}]",
            "movdqa [{st} + 192], xmm0",
            "add {cv}, 16",
            "mov {p}, {q}",
            "add {q}, 256",
            "dec {m}",
            "mov {n}, 1",
            "jmp 2b",
            "9:",
            restore_xmm!("{s}"; 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            st = in(reg) core::ptr::from_mut(state),
            s = in(reg) scratch.0.as_mut_ptr(),
            four = in(reg) core::ptr::from_ref(&FOUR),
            p = inout(reg) data => _,
            n = inout(reg) groups => _,
            q = inout(reg) extra => _,
            cv = inout(reg) counters.0.as_ptr() => _,
            m = inout(reg) n_extra => _,
            r = out(reg) _,
            options(nostack),
        );
    }
}
