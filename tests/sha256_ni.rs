//! The firmware's SHA-NI SHA-256 (firmware/core/src/sha256_ni.rs, plain `core`
//! code) on the host CPU: the FIPS 180-2 / NIST CSRC example messages (Wycheproof has no
//! plain hash vectors), and the `sha2` crate on every length up to nine blocks and on
//! long inputs split at every block boundary case. QEMU runs with `-cpu max` in
//! tests/firmware.rs exercise it inside the firmware too.

#[macro_use]
#[path = "../firmware/core/src/xmm.rs"]
mod xmm;

#[path = "../firmware/core/src/sha256_ni.rs"]
#[allow(dead_code)]
mod sha256_ni;

#[path = "common/emulated.rs"]
mod emulated;

use sha2::{Digest, Sha256};

fn host_has_sha_ni() -> bool {
    std::arch::is_x86_feature_detected!("sha")
        && std::arch::is_x86_feature_detected!("ssse3")
        && std::arch::is_x86_feature_detected!("sse4.1")
}

#[test]
fn detection_agrees_with_std() {
    assert_eq!(sha256_ni::supported(), host_has_sha_ni());
    assert_eq!(sha256_ni::Sha256::new().is_some(), host_has_sha_ni());
}

#[test]
fn digests_equal_sha2_for_every_length_and_split() {
    let Some(fresh) = sha256_ni::Sha256::new() else {
        return emulated::rerun_under_qemu("digests_equal_sha2_for_every_length_and_split");
    };
    let data: Vec<u8> = (0..70_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for len in [0usize, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 65_537, 70_000] {
        for split in [0usize, 1, 55, 63, 64, 65, 200, 4097] {
            let split = split.min(len);
            let mut h = fresh.clone();
            h.update(&data[..split]);
            h.update(&data[split..len]);
            assert_eq!(h.finish()[..], Sha256::digest(&data[..len])[..], "length {len}, split at {split}");
        }
    }
    // Many small updates.
    let mut h = fresh.clone();
    for b in data.chunks(7) {
        h.update(b);
    }
    assert_eq!(h.finish()[..], Sha256::digest(&data)[..]);
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn nist_examples() {
    let Some(fresh) = sha256_ni::Sha256::new() else {
        return emulated::rerun_under_qemu("nist_examples");
    };
    // FIPS 180-2 appendix B and the NIST CSRC SHA-256 examples: the empty message, one
    // block, two blocks (the padding spills into a second block), a 112-byte message, and
    // one million 'a's (FIPS 180-2 B.3) fed in uneven pieces.
    let million = vec![b'a'; 1_000_000];
    let cases: [(&[u8], &str); 5] = [
        (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
        (
            b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
        ),
        (&million, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    ];
    for (message, digest) in cases {
        let mut h = fresh.clone();
        for piece in message.chunks(999) {
            h.update(piece);
        }
        assert_eq!(h.finish()[..], hex(digest)[..], "message of {} bytes", message.len());
    }
}

#[test]
fn every_length_up_to_nine_blocks() {
    let Some(fresh) = sha256_ni::Sha256::new() else {
        return emulated::rerun_under_qemu("every_length_up_to_nine_blocks");
    };
    let data: Vec<u8> = (0..576u32).map(|i| (i.wrapping_mul(0x9E37_79B9) >> 24) as u8).collect();
    let mut checked = 0;
    for len in 0..=data.len() {
        let want = Sha256::digest(&data[..len]);
        let mut h = fresh.clone();
        h.update(&data[..len]);
        assert_eq!(h.finish()[..], want[..], "length {len}");
        // And split once, at a point that moves through the first block.
        let split = len.min(len * 7 % 67);
        let mut h = fresh.clone();
        h.update(&data[..split]);
        h.update(&data[split..len]);
        assert_eq!(h.finish()[..], want[..], "length {len}, split at {split}");
        checked += 1;
    }
    assert_eq!(checked, 577);
}
