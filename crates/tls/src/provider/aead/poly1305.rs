//! Poly1305 (RFC 8439 §2.5), with three 44/44/42-bit limbs and 128-bit products.
//!
//! In-tree because the `poly1305` crate always compiles an AVX2 backend on x86_64, which
//! LLVM cannot build for the soft-float UEFI target. Straight-line and branch-free on
//! secret data; checked against RFC 8439 and against RustCrypto's ChaCha20-Poly1305.

use zeroize::Zeroize;

const MASK44: u64 = (1 << 44) - 1;
const MASK42: u64 = (1 << 42) - 1;

/// A Poly1305 computation under one one-time key.
pub struct Poly1305 {
    r: [u64; 3],
    /// `r[1]` and `r[2]` times 20: a product limb that lands at 2^132 folds back as ×5×4.
    s: [u64; 2],
    h: [u64; 3],
    pad: [u64; 2],
}

impl Drop for Poly1305 {
    fn drop(&mut self) {
        self.r.zeroize();
        self.s.zeroize();
        self.h.zeroize();
        self.pad.zeroize();
    }
}

fn le64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

impl Poly1305 {
    /// Starts with the 32-byte one-time key `r || s`; `r` is clamped here.
    pub fn new(key: &[u8; 32]) -> Self {
        let t0 = le64(&key[0..8]);
        let t1 = le64(&key[8..16]);
        // The clamp of §2.5 (r &= 0x0ffffffc0ffffffc0ffffffc0fffffff) folded into the limb split.
        let r0 = t0 & 0xffc_0fff_ffff;
        let r1 = ((t0 >> 44) | (t1 << 20)) & 0xfff_ffc0_ffff;
        let r2 = (t1 >> 24) & 0x00f_ffff_fc0f;
        Self {
            r: [r0, r1, r2],
            s: [r1 * 20, r2 * 20],
            h: [0; 3],
            pad: [le64(&key[16..24]), le64(&key[24..32])],
        }
    }

    /// Absorbs one 16-byte block; `hibit` is 2^128 (as bit 40 of the top limb) for a full
    /// block and 0 for a final block that already carries its 0x01 terminator.
    fn block(&mut self, m: &[u8; 16], hibit: u64) {
        let t0 = le64(&m[0..8]);
        let t1 = le64(&m[8..16]);
        let h0 = self.h[0] + (t0 & MASK44);
        let h1 = self.h[1] + (((t0 >> 44) | (t1 << 20)) & MASK44);
        let h2 = self.h[2] + (((t1 >> 24) & MASK42) | hibit);
        let [r0, r1, r2] = self.r.map(u128::from);
        let [s1, s2] = self.s.map(u128::from);
        let (h0, h1, h2) = (u128::from(h0), u128::from(h1), u128::from(h2));
        let d0 = h0 * r0 + h1 * s2 + h2 * s1;
        let mut d1 = h0 * r1 + h1 * r0 + h2 * s2;
        let mut d2 = h0 * r2 + h1 * r1 + h2 * r0;
        let mut c = (d0 >> 44) as u64;
        let mut n0 = (d0 as u64) & MASK44;
        d1 += u128::from(c);
        c = (d1 >> 44) as u64;
        let mut n1 = (d1 as u64) & MASK44;
        d2 += u128::from(c);
        c = (d2 >> 42) as u64;
        let n2 = (d2 as u64) & MASK42;
        n0 += c * 5;
        c = n0 >> 44;
        n0 &= MASK44;
        n1 += c;
        self.h = [n0, n1, n2];
    }

    /// Absorbs `data`, zero-padded to a multiple of 16 bytes (as the AEAD construction
    /// pads the AAD and the ciphertext).
    pub fn update_padded(&mut self, data: &[u8]) {
        let mut chunks = data.chunks_exact(16);
        for c in &mut chunks {
            let mut b = [0u8; 16];
            b.copy_from_slice(c);
            self.block(&b, 1 << 40);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 16];
            b[..rest.len()].copy_from_slice(rest);
            self.block(&b, 1 << 40);
        }
    }

    /// Absorbs `data` as a whole message (the last partial block gets the 0x01
    /// terminator, §2.5.1) and returns the tag.
    pub fn mac(mut self, data: &[u8]) -> [u8; 16] {
        let mut chunks = data.chunks_exact(16);
        for c in &mut chunks {
            let mut b = [0u8; 16];
            b.copy_from_slice(c);
            self.block(&b, 1 << 40);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 16];
            b[..rest.len()].copy_from_slice(rest);
            b[rest.len()] = 1;
            self.block(&b, 0);
        }
        self.finish()
    }

    /// Reduces h fully modulo 2^130 - 5, adds `s` and returns the tag.
    pub fn finish(self) -> [u8; 16] {
        let [mut h0, mut h1, mut h2] = self.h;
        let mut c = h1 >> 44;
        h1 &= MASK44;
        h2 += c;
        c = h2 >> 42;
        h2 &= MASK42;
        h0 += c * 5;
        c = h0 >> 44;
        h0 &= MASK44;
        h1 += c;
        c = h1 >> 44;
        h1 &= MASK44;
        h2 += c;
        c = h2 >> 42;
        h2 &= MASK42;
        h0 += c * 5;
        c = h0 >> 44;
        h0 &= MASK44;
        h1 += c;

        // g = h + 5 - 2^130; if that did not go negative, h was >= p and g is the result.
        let mut g0 = h0 + 5;
        c = g0 >> 44;
        g0 &= MASK44;
        let mut g1 = h1 + c;
        c = g1 >> 44;
        g1 &= MASK44;
        let g2 = (h2 + c).wrapping_sub(1 << 42);
        let take_g = (g2 >> 63).wrapping_sub(1);
        h0 = (h0 & !take_g) | (g0 & take_g);
        h1 = (h1 & !take_g) | (g1 & take_g);
        h2 = (h2 & !take_g) | (g2 & take_g & MASK42);

        // h + s mod 2^128.
        let [t0, t1] = self.pad;
        h0 += t0 & MASK44;
        c = h0 >> 44;
        h0 &= MASK44;
        h1 += (((t0 >> 44) | (t1 << 20)) & MASK44) + c;
        c = h1 >> 44;
        h1 &= MASK44;
        h2 += ((t1 >> 24) & MASK42) + c;
        h2 &= MASK42;
        let lo = h0 | (h1 << 44);
        let hi = (h1 >> 20) | (h2 << 24);
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&lo.to_le_bytes());
        out[8..].copy_from_slice(&hi.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8439_mac_vector() {
        // RFC 8439 §2.5.2.
        let key = [
            0x85, 0xd6, 0xbe, 0x78, 0x57, 0x55, 0x6d, 0x33, 0x7f, 0x44, 0x52, 0xfe, 0x42, 0xd5, 0x06, 0xa8,
            0x01, 0x03, 0x80, 0x8a, 0xfb, 0x0d, 0xb2, 0xfd, 0x4a, 0xbf, 0xf6, 0xaf, 0x41, 0x49, 0xf5, 0x1b,
        ];
        let tag = Poly1305::new(&key).mac(b"Cryptographic Forum Research Group");
        assert_eq!(
            tag,
            [0xa8, 0x06, 0x1d, 0xc1, 0x30, 0x51, 0x36, 0xc6, 0xc2, 0x2b, 0x8b, 0xaf, 0x0c, 0x01, 0x27, 0xa9]
        );
    }

    #[test]
    fn reduces_values_at_and_above_the_prime() {
        // r = 2, s = 0, message 2^130 - 6 (+2^128 hibit handled by a full block of 0xff):
        // exercises the final conditional subtraction. Reference values from RFC 8439 A.3 #5.
        let mut key = [0u8; 32];
        key[0] = 2;
        let tag = Poly1305::new(&key).mac(&[0xff; 16]);
        assert_eq!(tag, [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        // RFC 8439 A.3 #6: r = 2, s = 0xff.., message 02 00..: tag 03 00...
        let mut key = [0u8; 32];
        key[0] = 2;
        key[16..].fill(0xff);
        let mut m = [0u8; 16];
        m[0] = 2;
        let tag = Poly1305::new(&key).mac(&m);
        assert_eq!(tag, [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }
}
