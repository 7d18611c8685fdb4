//! X25519 (RFC 7748 §5): the Montgomery ladder over fiat-crypto's verified field arithmetic.
//!
//! In-tree because `curve25519-dalek` selects its AVX2 backend on every x86_64 target,
//! which LLVM cannot compile for the soft-float UEFI target. The field operations are
//! fiat-crypto's formally verified, constant-time code; this file only sequences them.
//! The ladder does the same operations whatever the scalar, swapping with masks.

use fiat_crypto::curve25519_64::{
    fiat_25519_add, fiat_25519_carry, fiat_25519_carry_mul, fiat_25519_carry_scmul_121666,
    fiat_25519_carry_square, fiat_25519_from_bytes, fiat_25519_loose_field_element as Loose,
    fiat_25519_relax, fiat_25519_selectznz, fiat_25519_sub, fiat_25519_tight_field_element as Tight,
    fiat_25519_to_bytes,
};
use zeroize::Zeroize;

fn relax(a: &Tight) -> Loose {
    let mut out = Loose([0; 5]);
    fiat_25519_relax(&mut out, a);
    out
}

fn mul(a: &Tight, b: &Tight) -> Tight {
    let mut out = Tight([0; 5]);
    fiat_25519_carry_mul(&mut out, &relax(a), &relax(b));
    out
}

fn mul_loose(a: &Loose, b: &Loose) -> Tight {
    let mut out = Tight([0; 5]);
    fiat_25519_carry_mul(&mut out, a, b);
    out
}

fn square(a: &Tight) -> Tight {
    let mut out = Tight([0; 5]);
    fiat_25519_carry_square(&mut out, &relax(a));
    out
}

fn square_loose(a: &Loose) -> Tight {
    let mut out = Tight([0; 5]);
    fiat_25519_carry_square(&mut out, a);
    out
}

fn add(a: &Tight, b: &Tight) -> Loose {
    let mut out = Loose([0; 5]);
    fiat_25519_add(&mut out, a, b);
    out
}

fn sub(a: &Tight, b: &Tight) -> Loose {
    let mut out = Loose([0; 5]);
    fiat_25519_sub(&mut out, a, b);
    out
}

fn carry(a: &Loose) -> Tight {
    let mut out = Tight([0; 5]);
    fiat_25519_carry(&mut out, a);
    out
}

/// Swaps `a` and `b` when `swap` is 1, without a branch.
fn cswap(swap: u8, a: &mut Tight, b: &mut Tight) {
    let (mut na, mut nb) = ([0u64; 5], [0u64; 5]);
    fiat_25519_selectznz(&mut na, swap, &a.0, &b.0);
    fiat_25519_selectznz(&mut nb, swap, &b.0, &a.0);
    a.0 = na;
    b.0 = nb;
}

/// `z^(p-2) = z^-1` (zero maps to zero). The exponent is public, so plain
/// square-and-multiply over its bits is fine.
fn invert(z: &Tight) -> Tight {
    // p - 2 = 2^255 - 21, little-endian.
    let mut exp = [0xffu8; 32];
    exp[0] = 0xeb;
    exp[31] = 0x7f;
    let mut acc = Tight([1, 0, 0, 0, 0]);
    for bit in (0..255).rev() {
        acc = square(&acc);
        if (exp[bit / 8] >> (bit % 8)) & 1 == 1 {
            acc = mul(&acc, z);
        }
    }
    acc
}

/// The X25519 function: `scalar` (clamped here) times the point with u-coordinate `u`.
pub fn x25519(scalar: &[u8; 32], u: &[u8; 32]) -> [u8; 32] {
    let mut k = *scalar;
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    let mut u = *u;
    // §5: the most significant bit of the u-coordinate is ignored.
    u[31] &= 0x7f;
    let mut x1 = Tight([0; 5]);
    fiat_25519_from_bytes(&mut x1, &u);

    let mut x2 = Tight([1, 0, 0, 0, 0]);
    let mut z2 = Tight([0; 5]);
    let mut x3 = x1;
    let mut z3 = Tight([1, 0, 0, 0, 0]);
    let mut swap = 0u8;
    for t in (0..255).rev() {
        let bit = (k[t / 8] >> (t % 8)) & 1;
        swap ^= bit;
        cswap(swap, &mut x2, &mut x3);
        cswap(swap, &mut z2, &mut z3);
        swap = bit;

        let a = add(&x2, &z2);
        let aa = square_loose(&a);
        let b = sub(&x2, &z2);
        let bb = square_loose(&b);
        let e = sub(&aa, &bb);
        let c = add(&x3, &z3);
        let d = sub(&x3, &z3);
        let da = mul_loose(&d, &a);
        let cb = mul_loose(&c, &b);
        x3 = square_loose(&add(&da, &cb));
        z3 = mul(&x1, &square_loose(&sub(&da, &cb)));
        x2 = mul(&aa, &bb);
        // z2 = E * (AA + 121665 E) = E * (BB + 121666 E), since E = AA - BB.
        let mut e121666 = Tight([0; 5]);
        fiat_25519_carry_scmul_121666(&mut e121666, &e);
        z2 = mul_loose(&e, &add(&bb, &e121666));
    }
    cswap(swap, &mut x2, &mut x3);
    cswap(swap, &mut z2, &mut z3);
    let result = mul(&x2, &invert(&z2));
    let mut out = [0u8; 32];
    fiat_25519_to_bytes(&mut out, &carry(&relax(&result)));
    k.zeroize();
    out
}

/// The u-coordinate of the base point.
pub const BASE_POINT: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 9;
    b
};

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn rfc7748_vectors() {
        // §5.2, first test vector.
        let k = hex32("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
        let u = hex32("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
        let want = hex32("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
        assert_eq!(x25519(&k, &u), want);
        // §6.1 Diffie-Hellman.
        let a = hex32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let a_pub = hex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        let b = hex32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        let b_pub = hex32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        let shared = hex32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        assert_eq!(x25519(&a, &BASE_POINT), a_pub);
        assert_eq!(x25519(&b, &BASE_POINT), b_pub);
        assert_eq!(x25519(&a, &b_pub), shared);
        assert_eq!(x25519(&b, &a_pub), shared);
    }

    #[test]
    fn matches_x25519_dalek() {
        let mut seed = [7u8; 32];
        for round in 0..64u8 {
            seed[0] = round;
            seed[31] = round.wrapping_mul(37);
            let peer = x25519_dalek::StaticSecret::from([round ^ 0x5a; 32]);
            let peer_pub = x25519_dalek::PublicKey::from(&peer);
            let ours = x25519(&seed, peer_pub.as_bytes());
            let theirs = x25519_dalek::StaticSecret::from(seed).diffie_hellman(&peer_pub);
            assert_eq!(&ours, theirs.as_bytes(), "round {round}");
            assert_eq!(
                x25519(&seed, &BASE_POINT),
                *x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(seed)).as_bytes()
            );
        }
    }
}
