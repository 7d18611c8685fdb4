//! Arbitrary bytes as a CRL: parsing, lookups, a signature check against a certificate,
//! and path validation with the CRL consulted must never panic.
#![no_main]

use bootsign_pki::{Cert, Crl, Policy, Purpose, Revocation, verify_path};
use libfuzzer_sys::fuzz_target;

/// A self-signed P-256 CA certificate to check signatures against and to revoke from.
const CA: &[u8] = include_bytes!("../seeds/crl-ca.der");

fuzz_target!(|data: &[u8]| {
    if let Ok(crl) = Crl::parse(data) {
        let _ = crl.lookup(&[1]);
        let _ = crl.lookup(data.get(..8).unwrap_or(&[]));
        let _ = crl.is_stale(1_800_000_000);
        let ca = Cert::parse(CA).expect("the seed certificate parses");
        let _ = crl.check_signed_by(&ca);
        let pool = [ca.clone()];
        let crls = [crl];
        let policy = Policy {
            purpose: Purpose::ClientAuth,
            time: 1_800_000_000,
            server_name: None,
            revocation: Revocation { crls: &crls, require_fresh: true },
        };
        let _ = verify_path(&ca, &pool, &[], &policy);
    }
});
