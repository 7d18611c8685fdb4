//! Arbitrary bytes as an X.509 certificate: parsing, fingerprinting, a self-signature
//! check and path validation of the certificate against itself must never panic.
#![no_main]

use bootsign_pki::{Cert, Policy, Purpose, verify_path};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = Cert::parse(data) {
        let fp = cert.fingerprint();
        let _ = cert.check_signed_by(&cert);
        let pool = [cert.clone()];
        let policy = Policy {
            purpose: Purpose::ServerAuth,
            time: 1_800_000_000,
            server_name: None,
            revocation: bootsign_pki::Revocation::NONE,
        };
        let _ = verify_path(&cert, &pool, &[fp], &policy);
        let _ = verify_path(&cert, &pool, &[], &policy);
    }
});
