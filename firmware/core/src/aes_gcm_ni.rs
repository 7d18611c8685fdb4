//! AES-128-GCM and AES-256-GCM on AES-NI and PCLMULQDQ, for HTTPS record protection.
//!
//! The UEFI target is built soft-float, so the RustCrypto `aes-gcm` the TLS crate uses by
//! default runs its portable bitsliced AES and software GHASH there (a few MiB/s under
//! emulation, slower than iPXE). This module does the same AEAD with the hardware
//! instructions, written in assembly because neither `target_feature` nor the crates'
//! runtime detection can reach them on this target. It plugs into `bootsign_tls` through
//! [`AeadAlgorithm`]; use [`aeads`], which offers it only when CPUID reports the
//! instructions. The platform runs us with SSE enabled; every XMM register an assembly
//! block uses is saved and restored around it, since the code around it (ours and the
//! firmware's) is free to use them.
//!
//! Layout of the work, chosen so a 16 KiB record costs a handful of assembly calls (under
//! QEMU TCG each call's register save/restore is not free):
//!
//! - one call GHASHes the additional data;
//! - one call runs CTR mode and GHASH over all whole blocks of the record, eight blocks
//!   per iteration: eight counter blocks through AES side by side, then the eight
//!   ciphertext blocks multiplied by H^8..H^1 with Karatsuba and summed unreduced, one
//!   reduction;
//! - one call encrypts the pre-counter block J0 (for the tag) and the last partial
//!   block's counter, and one GHASHes the padded partial block and the length block.
//!
//! GHASH representation. GCM's field elements are bit-reflected: the first bit of a block
//! is the coefficient of x^0. Reversing the 16 bytes (PSHUFB) turns a block into a
//! 128-bit integer I whose bit 127 is that coefficient; reading such integers as
//! polynomials in y = 1/x, I is y^127 times the element, and PCLMULQDQ multiplies them
//! directly. With the hash key stored as y^128·H (`(I_H << 1) mod Q`, where
//! Q = y^128 + y^127 + y^126 + y^121 + 1 is x^128 + x^7 + x^2 + x + 1 seen in y), the
//! 256-bit product of I_X and that key is y^255·X·H, and dividing by y^128 (a two-step
//! Montgomery reduction by the constant 0xC2000000_00000000 in the high half of
//! 0xC200..0001) leaves y^127·X·H, the integer of X·H. The powers of H are computed
//! once per key in plain (constant-time) Rust.
//!
//! Register use in the record loop: xmm0-xmm7 the AES states, then the ciphertext for
//! GHASH; xmm8-xmm10 the Karatsuba low/high/middle sums, xmm11 scratch, xmm12 the GHASH
//! accumulator, xmm13 the next counter block and xmm14 its increment (see
//! `fast_counter`), xmm15 round keys and loaded data. The 32-bit counter itself is in a
//! general register.
//!
//! Byte order in the per-block loop is changed with scalar BSWAP, PINSR and PEXTR rather
//! than PSHUFB: under QEMU's TCG, where these images are tested and often run, PSHUFB
//! is a helper call costing several AES rounds, and it was the largest single cost of
//! decrypting a record; on hardware the difference is a few cycles per block.
//!
//! This file depends only on `core`, `alloc`, `bootsign_tls`, `subtle` and `zeroize`, so the host test suite
//! includes it and compares it with the software implementation.

use alloc::boxed::Box;
use core::arch::asm;
use core::arch::x86_64::__cpuid_count;

use bootsign_tls::Aeads;
use bootsign_tls::provider::aead::{AeadAlgorithm, AeadCipher, OpenError, TAG_LEN};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// Whether this CPU has the instructions the assembly uses: AES-NI, PCLMULQDQ, SSSE3
/// (PSHUFB) and SSE4.1 (PINSRD/PINSRQ/PEXTRQ). Everything else is SSE2, which x86-64
/// always has. (Every CPU with AES-NI has the other three.)
pub fn supported() -> bool {
    let leaf1 = __cpuid_count(1, 0);
    let pclmulqdq = leaf1.ecx & (1 << 1) != 0;
    let ssse3 = leaf1.ecx & (1 << 9) != 0;
    let sse41 = leaf1.ecx & (1 << 19) != 0;
    let aes = leaf1.ecx & (1 << 25) != 0;
    pclmulqdq && ssse3 && sse41 && aes
}

/// The AEADs for the TLS configuration: this module's AES-GCM when the CPU has the
/// instructions, with the software ChaCha20-Poly1305; `None` when it has not (keep
/// [`Aeads::default`] then).
pub fn aeads() -> Option<Aeads> {
    supported().then(|| Aeads {
        aes_128_gcm: &AES_128_GCM_NI,
        aes_256_gcm: &AES_256_GCM_NI,
        ..Aeads::default()
    })
}

/// AES-GCM with a 128- or 256-bit key on AES-NI + PCLMULQDQ. Use only when [`supported`].
#[derive(Debug)]
pub struct AesGcmNi {
    key_len: usize,
}

/// AES-128-GCM on AES-NI.
pub static AES_128_GCM_NI: AesGcmNi = AesGcmNi { key_len: 16 };
/// AES-256-GCM on AES-NI.
pub static AES_256_GCM_NI: AesGcmNi = AesGcmNi { key_len: 32 };

impl AeadAlgorithm for AesGcmNi {
    fn key_len(&self) -> usize {
        self.key_len
    }

    fn new_cipher(&self, key: &[u8]) -> Box<dyn AeadCipher> {
        // A clear panic instead of an invalid-opcode fault when handed out wrongly.
        assert!(supported(), "AES-GCM on AES-NI used on a CPU without AES-NI/PCLMULQDQ/SSSE3");
        assert_eq!(key.len(), self.key_len, "AES-GCM key length");
        Box::new(Cipher(Keys::new(key)))
    }
}

/// GCM's limit on the plaintext length (2^39 - 256 bits): the 32-bit block counter
/// must not wrap.
const MAX_DATA_LEN: u64 = (1 << 36) - 32;

/// Constants the assembly reads, 16-byte aligned for SSE memory operands.
#[repr(C, align(16))]
struct Consts {
    /// PSHUFB mask reversing all 16 bytes (offset 0).
    bswap: [u8; 16],
    /// 1 + y^121 + y^126 + y^127; its high half drives the reduction (offset 16).
    poly: [u64; 2],
}

static CONSTS: Consts = Consts {
    bswap: [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    poly: [1, 0xC200_0000_0000_0000],
};

/// The reduction constant as one integer (see the module documentation).
const POLY: u128 = 0xC200_0000_0000_0000_0000_0000_0000_0001;

/// Per-key material, 16-byte aligned for SSE memory operands.
#[repr(C, align(16))]
struct Keys {
    /// AES round keys; AES-128 uses the first 11.
    rk: [[u8; 16]; 15],
    /// y^128·H^k for k = 1..8 (offsets 0, 16, .., 112), then for each the XOR of its two
    /// 64-bit halves in the low half (offsets 128..240), Karatsuba's middle operand.
    h: [[u8; 16]; 16],
    /// The reduction constant again (`CONSTS.poly`), at offset 256 from `h`, so the
    /// record loop reaches it through the pointer it has for `h`.
    poly: [u64; 2],
    /// 10 or 14.
    rounds: usize,
}

impl Keys {
    fn new(key: &[u8]) -> Box<Self> {
        let mut keys = Box::new(Keys { rk: [[0; 16]; 15], h: [[0; 16]; 16], poly: CONSTS.poly, rounds: 10 });
        match key.len() {
            16 => {
                // SAFETY: callers checked `supported()`; the key is 16 bytes.
                unsafe { expand_128(&mut keys.rk, key.as_ptr()) };
            }
            32 => {
                keys.rounds = 14;
                // SAFETY: as above; the key is 32 bytes.
                unsafe { expand_256(&mut keys.rk, key.as_ptr()) };
            }
            _ => unreachable!("AES key length checked by the caller"),
        }
        let mut hblock = [[0u8; 16]];
        // SAFETY: the round keys are set; one block.
        unsafe { encrypt_blocks(&keys, hblock.as_mut_ptr(), 1) };
        let h = u128::from_be_bytes(hblock[0]);
        let mut power = h;
        for k in 0..8 {
            // Times y: shift, and fold an overflowing y^128 back in.
            let key = (power << 1) ^ (POLY & 0u128.wrapping_sub(power >> 127));
            keys.h[k] = key.to_le_bytes();
            keys.h[8 + k] = ((key as u64 ^ (key >> 64) as u64) as u128).to_le_bytes();
            power = gf_mul(power, h);
        }
        keys
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        self.rk.as_flattened_mut().zeroize();
        self.h.as_flattened_mut().zeroize();
    }
}

/// Multiplication in GCM's field, integers read from blocks big-endian (NIST SP 800-38D
/// algorithm 1), without data-dependent branches or indexing. Only for the key setup.
fn gf_mul(a: u128, b: u128) -> u128 {
    let mut z = 0u128;
    let mut v = b;
    for i in 0..128 {
        let bit = (a >> (127 - i)) & 1;
        z ^= v & 0u128.wrapping_sub(bit);
        v = (v >> 1) ^ ((0xE1u128 << 120) & 0u128.wrapping_sub(v & 1));
    }
    z
}

/// One keyed direction.
struct Cipher(Box<Keys>);

/// The counter block `nonce || counter` (big-endian).
fn counter_block(nonce: &[u8; 12], counter: u32) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..12].copy_from_slice(nonce);
    b[12..].copy_from_slice(&counter.to_be_bytes());
    b
}

/// GCM's final block: the bit lengths of the additional data and of the text.
fn lengths_block(aad_len: usize, data_len: usize) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(aad_len as u64).wrapping_mul(8).to_be_bytes());
    b[8..].copy_from_slice(&(data_len as u64).wrapping_mul(8).to_be_bytes());
    b
}

impl Cipher {
    /// GHASHes `bytes`, zero-padded to whole blocks, into `x`.
    fn ghash_padded(&self, x: &mut [u8; 16], bytes: &[u8]) {
        let full = bytes.len() / 16;
        // SAFETY: `supported()` was checked when the keys were made; `full * 16` bytes
        // are readable at `bytes`.
        unsafe { ghash(&self.0, x, bytes.as_ptr(), full) };
        let rest = &bytes[full * 16..];
        if !rest.is_empty() {
            let mut block = [0u8; 16];
            block[..rest.len()].copy_from_slice(rest);
            // SAFETY: as above; one block.
            unsafe { ghash(&self.0, x, block.as_ptr(), 1) };
        }
    }

    /// Encrypts J0 and, when there is a partial last block, its counter block.
    fn final_keystream(&self, nonce: &[u8; 12], full: usize, partial: bool) -> [[u8; 16]; 2] {
        // The data's counters start at 2; the partial block follows the whole ones.
        let mut ks = [counter_block(nonce, 1), counter_block(nonce, 2u32.wrapping_add(full as u32))];
        // SAFETY: `supported()` was checked when the keys were made; one or two blocks of
        // `ks`.
        unsafe { encrypt_blocks(&self.0, ks.as_mut_ptr(), if partial { 2 } else { 1 }) };
        ks
    }
}

/// The tag from the GHASH accumulator (integer form) and E(K, J0).
fn tag(x: [u8; 16], ek_j0: [u8; 16]) -> [u8; TAG_LEN] {
    (u128::from_le_bytes(x) ^ u128::from_be_bytes(ek_j0)).to_be_bytes()
}

impl AeadCipher for Cipher {
    fn seal(&self, nonce: &[u8; 12], aad: &[u8], data: &mut [u8]) -> [u8; TAG_LEN] {
        assert!(data.len() as u64 <= MAX_DATA_LEN, "AES-GCM input too long");
        let lengths = lengths_block(aad.len(), data.len());
        let mut x = [0u8; 16];
        self.ghash_padded(&mut x, aad);
        let full = data.len() / 16;
        let (head, tail) = data.split_at_mut(full * 16);
        // SAFETY: `supported()` was checked when the keys were made; `head` is `full`
        // blocks, read and written in place.
        unsafe { ctr_ghash::<false>(&self.0, &counter_block(nonce, 2), &mut x, head.as_mut_ptr(), full) };
        let ks = self.final_keystream(nonce, full, !tail.is_empty());
        let mut last = [[0u8; 16]; 2];
        for ((d, k), c) in tail.iter_mut().zip(ks[1]).zip(&mut last[0]) {
            *d ^= k;
            *c = *d;
        }
        last[1] = lengths;
        let fin = if tail.is_empty() { &last[1..] } else { &last[..] };
        // SAFETY: as above; `fin` is one or two blocks.
        unsafe { ghash(&self.0, &mut x, fin.as_ptr().cast(), fin.len()) };
        tag(x, ks[0])
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
        let lengths = lengths_block(aad.len(), data.len());
        let mut x = [0u8; 16];
        self.ghash_padded(&mut x, aad);
        let full = data.len() / 16;
        let (head, tail) = data.split_at_mut(full * 16);
        // SAFETY: as in `seal`.
        unsafe { ctr_ghash::<true>(&self.0, &counter_block(nonce, 2), &mut x, head.as_mut_ptr(), full) };
        let mut last = [[0u8; 16]; 2];
        last[0][..tail.len()].copy_from_slice(tail);
        last[1] = lengths;
        let fin = if tail.is_empty() { &last[1..] } else { &last[..] };
        // SAFETY: as in `seal`.
        unsafe { ghash(&self.0, &mut x, fin.as_ptr().cast(), fin.len()) };
        let ks = self.final_keystream(nonce, full, !tail.is_empty());
        for (d, k) in tail.iter_mut().zip(ks[1]) {
            *d ^= k;
        }
        if bool::from(tag(x, ks[0]).ct_eq(tag_in)) {
            Ok(())
        } else {
            // Decryption ran in the same pass as the check: leave no unauthenticated
            // plaintext behind.
            data.fill(0);
            Err(OpenError)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Assembly. Templates are built from the macros below; `{name}` are register operands.

/// One AES round (`$op`: pxor for the whitening, aesenc) on each register `$r`, with the
/// round key at byte offset `$k` loaded into `$t`.
macro_rules! round {
    ($op:literal, $k:literal, $t:literal; $($r:literal),+) => {
        concat!("movdqa ", $t, ", [{rk} + ", $k, "]\n", $($op, " ", $r, ", ", $t, "\n"),+)
    };
}

/// AES-128 or AES-256 (`{nr}` = 10 or 14, `{last}` its last round key) of the registers
/// `$r` side by side, with `$t` for the round keys.
macro_rules! aes {
    ($t:literal; $($r:literal),+) => {
        concat!(
            round!("pxor", "0", $t; $($r),+),
            round!("aesenc", "16", $t; $($r),+),
            round!("aesenc", "32", $t; $($r),+),
            round!("aesenc", "48", $t; $($r),+),
            round!("aesenc", "64", $t; $($r),+),
            round!("aesenc", "80", $t; $($r),+),
            round!("aesenc", "96", $t; $($r),+),
            round!("aesenc", "112", $t; $($r),+),
            round!("aesenc", "128", $t; $($r),+),
            round!("aesenc", "144", $t; $($r),+),
            "cmp {nr}, 10\n",
            "je 6f\n",
            round!("aesenc", "160", $t; $($r),+),
            round!("aesenc", "176", $t; $($r),+),
            round!("aesenc", "192", $t; $($r),+),
            round!("aesenc", "208", $t; $($r),+),
            "6:\n",
            "movdqa ", $t, ", [{last}]\n",
            $("aesenclast ", $r, ", ", $t, "\n"),+
        )
    };
}

/// The counter block for counter `{k}` into `$r`: the block at `{ctr}` (whose first 12
/// bytes are the nonce's) with `{k}` inserted big-endian; then `{k}` advances (modulo
/// 2^32, as GCM's inc32). Scalar BSWAP and PINSRD rather than a PSHUFB of a byte-reversed
/// counter: QEMU's TCG runs PSHUFB as a helper call that costs several times an AES round.
macro_rules! next_counter {
    ($r:literal) => {
        concat!(
            "movdqu ",
            $r,
            ", [{ctr}]\n",
            "mov {t:e}, {k:e}\n",
            "bswap {t:e}\n",
            "pinsrd ",
            $r,
            ", {t:e}, 3\n",
            "inc {k:e}\n",
        )
    };
}

/// The counter block in xmm13 into `$r`, and xmm13 advanced by adding xmm14 (1 in the
/// block's last byte). Only for runs of blocks in which the counter's low byte does not
/// wrap, which the record loop checks first: two instructions instead of five.
macro_rules! fast_counter {
    ($r:literal) => {
        concat!("movdqa ", $r, ", xmm13\n", "paddd xmm13, xmm14\n")
    };
}

/// Reverses the 16 bytes of `$r` (block order to GHASH's integer form) with two scalar
/// BSWAPs, for the same reason as in `next_counter`. Clobbers `{t}` and `{b}`.
macro_rules! reverse_bytes {
    ($r:literal) => {
        concat!(
            "movq {t}, ",
            $r,
            "\n",
            "pextrq {b}, ",
            $r,
            ", 1\n",
            "bswap {t}\n",
            "bswap {b}\n",
            "movq ",
            $r,
            ", {b}\n",
            "pinsrq ",
            $r,
            ", {t}, 1\n",
        )
    };
}

/// XORs keystream `$r` into the data block at offset `$off` in place (xmm15 holds the
/// loaded block). Leaves in `$r` the ciphertext, which GHASH reads: the output when
/// encrypting, the input when decrypting.
macro_rules! xor_store {
    (enc, $r:literal, $off:literal) => {
        concat!(
            "movdqu xmm15, [{p} + ",
            $off,
            "]\n",
            "pxor ",
            $r,
            ", xmm15\n",
            "movdqu [{p} + ",
            $off,
            "], ",
            $r,
            "\n",
        )
    };
    (dec, $r:literal, $off:literal) => {
        concat!(xor_store!(enc, $r, $off), "movdqa ", $r, ", xmm15\n")
    };
}

/// Karatsuba product of `$a` (integer form) and the hash-key power at offset `$h`, into
/// xmm8 (low), xmm9 (high) and xmm10 (middle), which it overwrites.
macro_rules! mul_first {
    ($a:literal, $h:literal) => {
        concat!(
            "movdqa xmm8, ",
            $a,
            "\n",
            "pclmulqdq xmm8, [{h} + ",
            $h,
            "], 0x00\n",
            "movdqa xmm9, ",
            $a,
            "\n",
            "pclmulqdq xmm9, [{h} + ",
            $h,
            "], 0x11\n",
            "pshufd xmm10, ",
            $a,
            ", 0x4e\n",
            "pxor xmm10, ",
            $a,
            "\n",
            "pclmulqdq xmm10, [{h} + 128 + ",
            $h,
            "], 0x00\n",
        )
    };
}

/// As `mul_first`, added to xmm8-xmm10. Clobbers `$a`.
macro_rules! mul_acc {
    ($a:literal, $h:literal) => {
        concat!(
            "movdqa xmm11, ",
            $a,
            "\n",
            "pclmulqdq xmm11, [{h} + ",
            $h,
            "], 0x00\n",
            "pxor xmm8, xmm11\n",
            "movdqa xmm11, ",
            $a,
            "\n",
            "pclmulqdq xmm11, [{h} + ",
            $h,
            "], 0x11\n",
            "pxor xmm9, xmm11\n",
            "pshufd xmm11, ",
            $a,
            ", 0x4e\n",
            "pxor ",
            $a,
            ", xmm11\n",
            "pclmulqdq ",
            $a,
            ", [{h} + 128 + ",
            $h,
            "], 0x00\n",
            "pxor xmm10, ",
            $a,
            "\n",
        )
    };
}

/// Combines the Karatsuba sums into 256 bits (xmm9:xmm8), divides by y^128 modulo Q in
/// two 64-bit Montgomery steps, and leaves the result in `$acc`. `$poly` addresses the
/// reduction constant (`Consts::poly`).
macro_rules! reduce {
    ($acc:literal, $poly:literal) => {
        concat!(
            "pxor xmm10, xmm8\n",
            "pxor xmm10, xmm9\n",
            "movdqa xmm11, xmm10\n",
            "pslldq xmm11, 8\n",
            "pxor xmm8, xmm11\n",
            "psrldq xmm10, 8\n",
            "pxor xmm9, xmm10\n",
            // Cancel the lowest 64 bits t0: add t0·Q, i.e. t0 at bit 0 (cancelling) and
            // bit 128, and t0·(y^57 + y^62 + y^63) at bit 64.
            "movdqa xmm11, xmm8\n",
            "pclmulqdq xmm11, [",
            $poly,
            "], 0x10\n",
            "pshufd xmm8, xmm8, 0x4e\n",
            "pxor xmm8, xmm11\n",
            // The same for the next 64 bits.
            "movdqa xmm11, xmm8\n",
            "pclmulqdq xmm11, [",
            $poly,
            "], 0x10\n",
            "pshufd xmm8, xmm8, 0x4e\n",
            "pxor xmm8, xmm11\n",
            "pxor xmm9, xmm8\n",
            "movdqa ",
            $acc,
            ", xmm9\n",
        )
    };
}

/// The counter block for `{k}` into xmm13 (see `fast_counter`).
macro_rules! sync_counter {
    () => {
        concat!("movdqu xmm13, [{ctr}]\n", "mov {t:e}, {k:e}\n", "bswap {t:e}\n", "pinsrd xmm13, {t:e}, 3\n")
    };
}

/// CTR encryption or decryption of whole blocks in place, with GHASH of the ciphertext.
/// Eight blocks an iteration (a 16 KiB record is 128): eight counter blocks through AES
/// side by side (each round key loaded once for all eight), the eight ciphertext blocks
/// multiplied by H^8..H^1 with Karatsuba and summed unreduced, one reduction. The last
/// one to seven blocks go one at a time.
macro_rules! ctr_ghash_asm {
    ($dir:ident) => {
        concat!(
            save_xmm!("{save}"; 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            "movdqu xmm12, [{x}]\n",
            "cmp {n}, 8\n",
            "jb 3f\n",
            sync_counter!(),
            "pxor xmm14, xmm14\n",
            "mov {t:e}, 0x1000000\n",
            "pinsrd xmm14, {t:e}, 3\n",
            "2:\n",
            // Eight counters whose low byte does not wrap come from xmm13 by PADDD; the
            // one iteration in 32 where it does builds them one by one.
            "mov {t:e}, {k:e}\n",
            "and {t:e}, 0xff\n",
            "cmp {t:e}, 0xf7\n",
            "ja 8f\n",
            fast_counter!("xmm0"),
            fast_counter!("xmm1"),
            fast_counter!("xmm2"),
            fast_counter!("xmm3"),
            fast_counter!("xmm4"),
            fast_counter!("xmm5"),
            fast_counter!("xmm6"),
            fast_counter!("xmm7"),
            "add {k:e}, 8\n",
            "jmp 9f\n",
            "8:\n",
            next_counter!("xmm0"),
            next_counter!("xmm1"),
            next_counter!("xmm2"),
            next_counter!("xmm3"),
            next_counter!("xmm4"),
            next_counter!("xmm5"),
            next_counter!("xmm6"),
            next_counter!("xmm7"),
            sync_counter!(),
            "9:\n",
            aes!("xmm15"; "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7"),
            xor_store!($dir, "xmm0", "0"),
            xor_store!($dir, "xmm1", "16"),
            xor_store!($dir, "xmm2", "32"),
            xor_store!($dir, "xmm3", "48"),
            xor_store!($dir, "xmm4", "64"),
            xor_store!($dir, "xmm5", "80"),
            xor_store!($dir, "xmm6", "96"),
            xor_store!($dir, "xmm7", "112"),
            reverse_bytes!("xmm0"),
            "pxor xmm0, xmm12\n",
            reverse_bytes!("xmm1"),
            reverse_bytes!("xmm2"),
            reverse_bytes!("xmm3"),
            reverse_bytes!("xmm4"),
            reverse_bytes!("xmm5"),
            reverse_bytes!("xmm6"),
            reverse_bytes!("xmm7"),
            mul_first!("xmm0", "112"),
            mul_acc!("xmm1", "96"),
            mul_acc!("xmm2", "80"),
            mul_acc!("xmm3", "64"),
            mul_acc!("xmm4", "48"),
            mul_acc!("xmm5", "32"),
            mul_acc!("xmm6", "16"),
            mul_acc!("xmm7", "0"),
            reduce!("xmm12", "{h} + 256"),
            "add {p}, 128\n",
            "sub {n}, 8\n",
            "cmp {n}, 8\n",
            "jae 2b\n",
            "3:\n",
            "test {n}, {n}\n",
            "jz 5f\n",
            "4:\n",
            next_counter!("xmm0"),
            aes!("xmm15"; "xmm0"),
            xor_store!($dir, "xmm0", "0"),
            reverse_bytes!("xmm0"),
            "pxor xmm0, xmm12\n",
            mul_first!("xmm0", "0"),
            reduce!("xmm12", "{h} + 256"),
            "add {p}, 16\n",
            "dec {n}\n",
            "jnz 4b\n",
            "5:\n",
            "movdqu [{x}], xmm12\n",
            restore_xmm!("{save}"; 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        )
    };
}

/// Runs CTR mode from counter block `ctr` over `blocks` whole blocks at `data`, in place,
/// and GHASHes the ciphertext into `x` (integer form). `DECRYPT` selects which side of
/// the XOR is the ciphertext.
///
/// # Safety
/// `supported()` must be true, and `data` must point to `blocks * 16` bytes readable and
/// writable.
unsafe fn ctr_ghash<const DECRYPT: bool>(
    keys: &Keys,
    ctr: &[u8; 16],
    x: &mut [u8; 16],
    data: *mut u8,
    blocks: usize,
) {
    if blocks == 0 {
        return;
    }
    let mut save = [0u128; 16];
    let rk = keys.rk.as_ptr();
    let last = keys.rk[keys.rounds].as_ptr();
    let h = keys.h.as_ptr();
    let save_ptr = save.as_mut_ptr();
    // The 32-bit block counter, big-endian in the last four bytes of the counter block.
    let counter = u64::from(u32::from_be_bytes([ctr[12], ctr[13], ctr[14], ctr[15]]));
    if DECRYPT {
        // SAFETY: the caller guarantees the CPU features and the data length. The asm
        // reads the key material (16-byte aligned, as the aligned SSE operands need; the
        // reduction constant is in it, 256 bytes past `h`), `ctr`, reads and writes `x`,
        // the `blocks * 16` bytes at `data` and `save`, its register save area; it
        // restores every XMM register.
        unsafe {
            asm!(
                ctr_ghash_asm!(dec),
                rk = in(reg) rk,
                last = in(reg) last,
                nr = in(reg) keys.rounds,
                h = in(reg) h,
                x = in(reg) x.as_mut_ptr(),
                ctr = in(reg) ctr.as_ptr(),
                p = inout(reg) data => _,
                n = inout(reg) blocks => _,
                save = in(reg) save_ptr,
                k = inout(reg) counter => _,
                t = out(reg) _,
                b = out(reg) _,
                options(nostack),
            );
        }
    } else {
        // SAFETY: as above.
        unsafe {
            asm!(
                ctr_ghash_asm!(enc),
                rk = in(reg) rk,
                last = in(reg) last,
                nr = in(reg) keys.rounds,
                h = in(reg) h,
                x = in(reg) x.as_mut_ptr(),
                ctr = in(reg) ctr.as_ptr(),
                p = inout(reg) data => _,
                n = inout(reg) blocks => _,
                save = in(reg) save_ptr,
                k = inout(reg) counter => _,
                t = out(reg) _,
                b = out(reg) _,
                options(nostack),
            );
        }
    }
}

/// GHASHes `blocks` whole blocks at `data` into `x` (integer form).
///
/// # Safety
/// `supported()` must be true, and `data` must point to `blocks * 16` readable bytes.
unsafe fn ghash(keys: &Keys, x: &mut [u8; 16], data: *const u8, blocks: usize) {
    if blocks == 0 {
        return;
    }
    let mut save = [0u128; 12];
    // SAFETY: the caller guarantees the CPU features and the data length. The asm reads
    // the hash-key powers and the constants (16-byte aligned), the `blocks * 16` bytes at
    // `data`, reads and writes `x` and `save`, and restores every XMM register it touches.
    unsafe {
        asm!(
            save_xmm!("{save}"; 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
            "movdqa xmm6, [{c}]",
            "movdqu xmm7, [{x}]",
            "cmp {n}, 4",
            "jb 3f",
            "2:",
            "movdqu xmm0, [{p}]",
            "pshufb xmm0, xmm6",
            "pxor xmm0, xmm7",
            "movdqu xmm1, [{p} + 16]",
            "pshufb xmm1, xmm6",
            "movdqu xmm2, [{p} + 32]",
            "pshufb xmm2, xmm6",
            "movdqu xmm3, [{p} + 48]",
            "pshufb xmm3, xmm6",
            mul_first!("xmm0", "48"),
            mul_acc!("xmm1", "32"),
            mul_acc!("xmm2", "16"),
            mul_acc!("xmm3", "0"),
            reduce!("xmm7", "{c} + 16"),
            "add {p}, 64",
            "sub {n}, 4",
            "cmp {n}, 4",
            "jae 2b",
            "3:",
            "test {n}, {n}",
            "jz 5f",
            "4:",
            "movdqu xmm0, [{p}]",
            "pshufb xmm0, xmm6",
            "pxor xmm0, xmm7",
            mul_first!("xmm0", "0"),
            reduce!("xmm7", "{c} + 16"),
            "add {p}, 16",
            "dec {n}",
            "jnz 4b",
            "5:",
            "movdqu [{x}], xmm7",
            restore_xmm!("{save}"; 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
            h = in(reg) keys.h.as_ptr(),
            c = in(reg) core::ptr::from_ref(&CONSTS),
            x = in(reg) x.as_mut_ptr(),
            p = inout(reg) data => _,
            n = inout(reg) blocks => _,
            save = in(reg) save.as_mut_ptr(),
            options(nostack),
        );
    }
}

/// Encrypts `blocks` single blocks at `data` in place (ECB; for H, J0 and the last
/// partial block's keystream).
///
/// # Safety
/// `supported()` must be true, the round keys set, and `data` must point to `blocks`
/// blocks.
unsafe fn encrypt_blocks(keys: &Keys, data: *mut [u8; 16], blocks: usize) {
    if blocks == 0 {
        return;
    }
    let mut save = [0u128; 2];
    // SAFETY: the caller guarantees the CPU features and the data length. The asm reads
    // the round keys (16-byte aligned), reads and writes the `blocks * 16` bytes at `data`
    // and `save`, and restores xmm0 and xmm4, the registers it touches.
    unsafe {
        asm!(
            "movdqu [{save}], xmm0",
            "movdqu [{save} + 16], xmm4",
            "2:",
            "movdqu xmm0, [{p}]",
            aes!("xmm4"; "xmm0"),
            "movdqu [{p}], xmm0",
            "add {p}, 16",
            "dec {n}",
            "jnz 2b",
            "movdqu xmm0, [{save}]",
            "movdqu xmm4, [{save} + 16]",
            rk = in(reg) keys.rk.as_ptr(),
            last = in(reg) keys.rk[keys.rounds].as_ptr(),
            nr = in(reg) keys.rounds,
            p = inout(reg) data => _,
            n = inout(reg) blocks => _,
            save = in(reg) save.as_mut_ptr(),
            options(nostack),
        );
    }
}

/// The AES key schedule's word recurrence: each word of xmm1 XORed with all the words
/// before it (shifting through xmm4), then with the broadcast assist word in xmm2. The
/// result is also stored as round key `$i`. For AES-256's odd round keys it runs on xmm3.
macro_rules! expand_step {
    ($r:literal, $i:literal) => {
        concat!(
            "movdqa xmm4, ",
            $r,
            "\n",
            "pslldq xmm4, 4\n",
            "pxor ",
            $r,
            ", xmm4\n",
            "pslldq xmm4, 4\n",
            "pxor ",
            $r,
            ", xmm4\n",
            "pslldq xmm4, 4\n",
            "pxor ",
            $r,
            ", xmm4\n",
            "pxor ",
            $r,
            ", xmm2\n",
            "movdqu [{rk} + ",
            $i,
            " * 16], ",
            $r,
            "\n",
        )
    };
}

/// AES-128 round key `$i` from the previous one (xmm1) and round constant `$rcon`.
macro_rules! expand128 {
    ($i:literal, $rcon:literal) => {
        concat!(
            "aeskeygenassist xmm2, xmm1, ",
            $rcon,
            "\n",
            "pshufd xmm2, xmm2, 0xff\n",
            expand_step!("xmm1", $i),
        )
    };
}

/// Expands a 16-byte AES key at `key` into 11 round keys.
///
/// # Safety
/// `supported()` must be true and `key` must point to 16 readable bytes.
unsafe fn expand_128(rk: &mut [[u8; 16]; 15], key: *const u8) {
    let mut save = [0u128; 5];
    // SAFETY: the caller guarantees the CPU features and the key length. The asm reads
    // 16 bytes at `key`, writes the first 11 round keys of `rk` and `save`, and restores
    // xmm1, xmm2 and xmm4, the registers it touches (xmm3 is saved with them, unused).
    unsafe {
        asm!(
            save_xmm!("{save}"; 1, 2, 3, 4),
            "movdqu xmm1, [{key}]",
            "movdqu [{rk}], xmm1",
            expand128!("1", "0x01"),
            expand128!("2", "0x02"),
            expand128!("3", "0x04"),
            expand128!("4", "0x08"),
            expand128!("5", "0x10"),
            expand128!("6", "0x20"),
            expand128!("7", "0x40"),
            expand128!("8", "0x80"),
            expand128!("9", "0x1b"),
            expand128!("10", "0x36"),
            restore_xmm!("{save}"; 1, 2, 3, 4),
            rk = in(reg) rk.as_mut_ptr(),
            key = in(reg) key,
            save = in(reg) save.as_mut_ptr(),
            options(nostack),
        );
    }
}

/// AES-256 round keys `$i` (from xmm1, with RotWord/SubWord of xmm3's last word and
/// `$rcon`) and `$i + 1` (from xmm3, with SubWord of the new key's last word).
macro_rules! expand256 {
    ($i:literal, $j:literal, $rcon:literal) => {
        concat!(
            "aeskeygenassist xmm2, xmm3, ",
            $rcon,
            "\n",
            "pshufd xmm2, xmm2, 0xff\n",
            expand_step!("xmm1", $i),
            "aeskeygenassist xmm2, xmm1, 0\n",
            "pshufd xmm2, xmm2, 0xaa\n",
            expand_step!("xmm3", $j),
        )
    };
}

/// Expands a 32-byte AES key at `key` into 15 round keys.
///
/// # Safety
/// `supported()` must be true and `key` must point to 32 readable bytes.
unsafe fn expand_256(rk: &mut [[u8; 16]; 15], key: *const u8) {
    let mut save = [0u128; 5];
    // SAFETY: the caller guarantees the CPU features and the key length. The asm reads
    // 32 bytes at `key`, writes the 15 round keys of `rk` and `save`, and restores
    // xmm1-xmm4, the registers it touches.
    unsafe {
        asm!(
            save_xmm!("{save}"; 1, 2, 3, 4),
            "movdqu xmm1, [{key}]",
            "movdqu xmm3, [{key} + 16]",
            "movdqu [{rk}], xmm1",
            "movdqu [{rk} + 16], xmm3",
            expand256!("2", "3", "0x01"),
            expand256!("4", "5", "0x02"),
            expand256!("6", "7", "0x04"),
            expand256!("8", "9", "0x08"),
            expand256!("10", "11", "0x10"),
            expand256!("12", "13", "0x20"),
            "aeskeygenassist xmm2, xmm3, 0x40",
            "pshufd xmm2, xmm2, 0xff",
            expand_step!("xmm1", "14"),
            restore_xmm!("{save}"; 1, 2, 3, 4),
            rk = in(reg) rk.as_mut_ptr(),
            key = in(reg) key,
            save = in(reg) save.as_mut_ptr(),
            options(nostack),
        );
    }
}
