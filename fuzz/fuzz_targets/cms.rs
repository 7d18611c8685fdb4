//! Arbitrary bytes as a CMS signature (PEM or DER): parsing and verification against a
//! fixed content digest must never panic, and must never accept without an anchor.
#![no_main]

use bootsign_pki::cms::{SignedData, Trust, decode_pem_or_der, verify};
use bootsign_pki::{HashAlgorithm, MultiHasher};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(der) = decode_pem_or_der(data) else { return };
    let Ok(sd) = SignedData::parse(&der) else { return };
    let mut hasher = MultiHasher::new([HashAlgorithm::Sha1, HashAlgorithm::Sha256, HashAlgorithm::Sha384, HashAlgorithm::Sha512]);
    hasher.update(b"content");
    let digests = hasher.finish();
    let trust =
        Trust { anchors: &[], extra_certs: &[], time: 1_800_000_000, revocation: bootsign_pki::Revocation::NONE };
    assert!(verify(&sd, &digests, &trust, None).is_err(), "accepted with no trust anchor");
    let _ = verify(&sd, &digests, &trust, Some("name"));
});
