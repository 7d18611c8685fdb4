//! Arbitrary bytes through the DER framing views and the fingerprint text parser.
#![no_main]

use bootsign_pki::{Fingerprint, SignedObject, TbsFields, SignatureAlgorithm, PublicKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(signed) = SignedObject::parse(data) {
        let _ = TbsFields::parse(signed.tbs);
        let _ = SignatureAlgorithm::from_der(signed.algorithm);
    }
    let _ = PublicKey::from_spki_der(data);
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = Fingerprint::parse(text);
    }
});
