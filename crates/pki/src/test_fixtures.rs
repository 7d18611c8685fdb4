//! The fixtures `fixtures/make.sh` generates, for the unit tests of this crate.
//!
//! Every fixture is compiled in with `include_bytes!`; tests name them by file name. The
//! validation time is fixed ([`NOW`]): the fixtures are valid from 2020 to 2099 unless
//! they are about validity, so the tests do not depend on the clock.

use alloc::vec::Vec;

use crate::cert::Cert;
use crate::der_view::read_tlv;
use crate::fingerprint::Fingerprint;

/// The validation time of every test: 2030-01-01 00:00:00 UTC.
pub const NOW: u64 = 1_893_456_000;
/// 2020-01-01 00:00:00 UTC, the notBefore of the fixtures.
pub const Y2020: u64 = 1_577_836_800;
/// 2099-12-31 23:59:59 UTC, the notAfter of the fixtures.
pub const END_2099: u64 = 4_102_444_799;

macro_rules! files {
    ($($name:literal,)*) => {
        /// Every fixture, by file name.
        const FILES: &[(&str, &[u8])] =
            &[$(($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/", $name)))),*];
    };
}

files! {
    "badext.der",
    "cms-attached.der",
    "cms-badcert.der",
    "cms-ber.der",
    "cms-certs-only.der",
    "cms-data.der",
    "cms-econtent.der",
    "cms-keyid.der",
    "cms-leaf.der",
    "cms-leaf.pem",
    "cms-noattr.der",
    "cms-nocerts.der",
    "cms-p384.der",
    "cms-pss.der",
    "cms-rsa.der",
    "cms-server.der",
    "cms-sha1.der",
    "cms-sha224.der",
    "cms-two.der",
    "content.bin",
    "crl-nocrlsign.der",
    "crl-revoked.der",
    "crl-root.der",
    "crl-stale.der",
    "ee-issuer.der",
    "forger.der",
    "int-ed25519.der",
    "int-nc.der",
    "int-nocrlsign.der",
    "int-noks.der",
    "int-p384.der",
    "int-pathlen0.der",
    "int-revoked.der",
    "int-rsa.der",
    "int-serverauth.der",
    "int-v1.der",
    "int.der",
    "int2.der",
    "leaf-badku.der",
    "leaf-critext.der",
    "leaf-depth8.der",
    "leaf-ed25519key.der",
    "leaf-expired.der",
    "leaf-forged.der",
    "leaf-kcs.der",
    "leaf-long.der",
    "leaf-nc-bad.der",
    "leaf-nc-ok.der",
    "leaf-notyet.der",
    "leaf-p384.der",
    "leaf-pss.der",
    "leaf-revoked.der",
    "leaf-rsa1024.der",
    "leaf-server.der",
    "leaf-sha1.der",
    "leaf-twins.der",
    "leaf-under-ed25519.der",
    "leaf-under-ee.der",
    "leaf-under-nocrlsign.der",
    "leaf-under-noks.der",
    "leaf-under-pathlen0.der",
    "leaf-under-revoked-ca.der",
    "leaf-under-sub.der",
    "leaf-under-tlsca.der",
    "leaf-under-v1int.der",
    "leaf-under-v1root.der",
    "leaf.der",
    "leaf2.der",
    "long-chain.der",
    "root-v1.der",
    "root.der",
    "root2-cross.der",
    "root2.der",
    "sub-int.der",
    "twins.der",
}

/// The bytes of a fixture.
pub fn der(name: &str) -> &'static [u8] {
    match FILES.iter().find(|(n, _)| *n == name) {
        Some((_, bytes)) => bytes,
        None => panic!("no fixture {name}; run fixtures/make.sh"),
    }
}

/// A fixture's certificate, parsed.
pub fn cert(name: &str) -> Cert<'static> {
    Cert::parse(der(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The DER elements of a fixture made of concatenated objects.
pub fn split(name: &str) -> Vec<&'static [u8]> {
    let mut rest = der(name);
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (tlv, after) = read_tlv(rest).unwrap();
        out.push(tlv.raw);
        rest = after;
    }
    out
}

/// The certificates of several fixtures (bundles are split).
pub fn certs(names: &[&str]) -> Vec<Cert<'static>> {
    names.iter().flat_map(|n| split(n)).map(|d| Cert::parse(d).unwrap()).collect()
}

/// The SHA-256 fingerprint of a fixture.
pub fn fingerprint(name: &str) -> Fingerprint {
    Fingerprint::of_der(der(name))
}

#[test]
fn make_sh_lists_every_fixture_it_makes() {
    let script = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/make.sh"));
    for (name, bytes) in FILES {
        assert!(!bytes.is_empty(), "{name} is empty");
        assert!(script.contains(&alloc::format!("#   {name}")), "make.sh does not describe {name}");
    }
    // And the other way: every fixture the header describes is compiled in here.
    let described = script
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("#   ")?.split_whitespace().next())
        .filter(|w| [".der", ".pem", ".bin"].iter().any(|ext| w.ends_with(ext)));
    for name in described {
        assert!(FILES.iter().any(|(n, _)| *n == name), "{name} is described in make.sh but not in FILES");
    }
}
