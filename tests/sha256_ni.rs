//! The firmware's SHA-NI SHA-256 (firmware-template/src/sha256_ni.rs, plain `core`
//! code) against the `sha2` crate, on the host CPU. QEMU runs with `-cpu max` in
//! tests/firmware.rs exercise it inside the firmware too.

#[macro_use]
#[path = "../firmware-template/src/xmm.rs"]
mod xmm;

#[path = "../firmware-template/src/sha256_ni.rs"]
#[allow(dead_code)]
mod sha256_ni;

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
        // Without the instructions the firmware never makes this hasher (checked above);
        // QEMU's emulation of them is tested in tests/firmware.rs.
        return;
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
