//! Arbitrary bytes as a signed PE image: the certificate table, the digest ranges and
//! every Authenticode signature in it are read without panicking; nothing is accepted
//! without a trust anchor; appending a signature keeps the digest and reads back.
#![no_main]

use bootsign_pe::Pe;
use bootsign_pe::authenticode::{append_signature, prepare_for_signing};
use bootsign_pki::authenticode::{Signature, describe, image_digest, signatures, verify_image};
use bootsign_pki::cms::Trust;
use bootsign_pki::{HashAlgorithm, Revocation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pe) = Pe::parse(data) else { return };
    let _ = pe.certificates();
    let ranges = pe.authenticode_ranges();
    if let Ok(ranges) = &ranges {
        for r in ranges {
            assert!(r.start <= r.end && r.end <= data.len(), "range {r:?} outside {} bytes", data.len());
        }
    }
    if let Ok(sigs) = signatures(data) {
        for (i, der) in sigs.into_iter().enumerate() {
            let _ = Signature::parse(der, i + 1);
        }
    }
    let _ = describe(data);
    let trust = Trust { anchors: &[], extra_certs: &[], time: 1_800_000_000, revocation: Revocation::NONE };
    assert!(verify_image(data, &trust, None).is_err(), "accepted with no trust anchor");
    // Appending a signature never changes what the digest covers.
    if data.len() < 1 << 20
        && let Ok(prepared) = prepare_for_signing(data)
        && let Ok(before) = image_digest(&prepared, HashAlgorithm::Sha256)
        && let Ok(signed) = append_signature(&prepared, &[0x30, 0x00])
    {
        assert_eq!(image_digest(&signed, HashAlgorithm::Sha256).ok(), Some(before));
        let pe = Pe::parse(&signed).expect("output parses");
        assert!(pe.certificates().expect("table reads").last().is_some_and(|c| c.data.starts_with(&[0x30, 0x00])));
    }
});
