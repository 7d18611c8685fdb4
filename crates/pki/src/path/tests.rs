//! Path validation against the fixtures of `fixtures/make.sh`.
//!
//! Each `case_*` function validates real certificates, asserts the exact [`PathError`]
//! (fields included) and returns it. [`CASES`] lists them; one `#[test]` runs each, and
//! [`every_variant_is_produced_by_a_case`] checks that together they produce every variant
//! of [`PathError`]: a variant added without a case fails that test, and one added without
//! a name in [`path_variants!`] fails to compile (its `match` has no wildcard arm).

use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::*;
use crate::constraints::Violation;
use crate::crl::{Crl, Reason};
use crate::signature::SignatureError;
use crate::test_fixtures::{NOW, cert, certs, der, fingerprint};

/// Defines `variant_name`, an exhaustive `match` over [`PathError`], and `ALL_VARIANTS`,
/// from one list: the list must name every variant or the `match` does not compile.
macro_rules! path_variants {
    ($($variant:ident),* $(,)?) => {
        fn variant_name(e: &PathError) -> &'static str {
            match e {
                $(PathError::$variant { .. } => stringify!($variant),)*
            }
        }
        const ALL_VARIANTS: &[&str] = &[$(stringify!($variant)),*];
    };
}

path_variants![
    Expired,
    NotYetValid,
    NotCa,
    NoKeyCertSign,
    PathLenExceeded,
    UnknownCriticalExtension,
    BadSignature,
    WrongPurpose,
    KeyUsage,
    NameMismatch,
    UnknownIssuer,
    UntrustedRoot,
    TooLong,
    TooManyCandidates,
    NameConstraints,
    WeakKey,
    WeakSignature,
    CaAsEndEntity,
    Revoked,
    Profile,
    UnusableCrl,
    StaleCrl,
];

/// What each variant's message must name: the certificates (and signer, CA or issuer) it
/// is about. An exhaustive `match` too, so a new variant must say what it names.
fn must_mention(e: &PathError) -> Vec<String> {
    use PathError as P;
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
    match e {
        P::Expired { cert, .. } | P::NotYetValid { cert, .. } => v(&[cert, "certificate"]),
        P::NotCa { cert } | P::NoKeyCertSign { cert } | P::TooLong { cert } | P::CaAsEndEntity { cert } => {
            v(&[cert])
        }
        P::PathLenExceeded { cert, path_len, below } => {
            Vec::from([cert.clone(), path_len.to_string(), below.to_string()])
        }
        P::UnknownCriticalExtension { cert, oid } => Vec::from([cert.clone(), oid.to_string()]),
        P::BadSignature { cert, issuer, error } => {
            Vec::from([cert.clone(), issuer.clone(), error.to_string()])
        }
        P::WrongPurpose { cert, purpose } => v(&[cert, purpose.name()]),
        P::KeyUsage { cert, needed } => v(&[cert, needed]),
        P::NameMismatch { cert, name } => v(&[cert, name]),
        P::UnknownIssuer { cert, issuer } => v(&[cert, issuer]),
        P::UntrustedRoot { cert, fingerprint } => Vec::from([cert.clone(), fingerprint.to_string()]),
        P::TooManyCandidates => v(&["128 signature checks"]),
        P::NameConstraints { cert, ca, violation } => {
            Vec::from([cert.clone(), ca.clone(), violation.to_string()])
        }
        P::WeakKey { cert, bits } => Vec::from([cert.clone(), alloc::format!("{bits}-bit")]),
        P::WeakSignature { cert, algorithm } => v(&[cert, algorithm]),
        P::Revoked { cert, revoked } => {
            Vec::from([cert.clone(), revoked.serial.clone(), revoked.issuer.clone()])
        }
        P::Profile { cert, rule } => v(&[cert, rule]),
        P::UnusableCrl { cert, error } => Vec::from([cert.clone(), error.to_string()]),
        P::StaleCrl { cert, issuer, .. } => v(&[cert, issuer]),
    }
}

fn policy(purpose: Purpose) -> Policy<'static> {
    Policy { purpose, time: NOW, server_name: None, revocation: Revocation::NONE }
}

fn code_signing() -> Policy<'static> {
    policy(Purpose::CodeSigning)
}

/// Validates fixture `ee` with the certificates of `pool` and the fingerprints of
/// `anchors`, whose certificates join the pool (as the CLI and firmware supply them); on
/// success, the display names of the path.
fn check(ee: &str, pool: &[&str], anchors: &[&str], policy: &Policy<'_>) -> Result<Vec<String>, PathError> {
    let ee = cert(ee);
    let pool = certs(&[pool, anchors].concat());
    let anchors: Vec<Fingerprint> = anchors.iter().map(|a| fingerprint(a)).collect();
    verify_path(&ee, &pool, &anchors, policy)
        .map(|path| path.chain().iter().map(|c| c.display_name().to_string()).collect())
}

/// Like [`check`] with the CRLs of `crls`.
fn check_with_crls(
    ee: &str,
    pool: &[&str],
    crls: &[&str],
    require_fresh: bool,
) -> Result<Vec<String>, PathError> {
    let crls: Vec<Crl<'static>> = crls.iter().map(|c| Crl::parse(der(c)).unwrap()).collect();
    let policy = Policy { revocation: Revocation { crls: &crls, require_fresh }, ..code_signing() };
    check(ee, pool, &["root.der"], &policy)
}

fn s(x: &str) -> String {
    x.to_string()
}

fn names(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| s(x)).collect()
}

// The cases: each returns the error it asserted.

fn case_expired() -> PathError {
    let e = check("leaf-expired.der", &["int.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::Expired { cert: s("Expired Signer"), not_after: 1_262_304_000, now: NOW });
    e
}

fn case_not_yet_valid() -> PathError {
    let e = check("leaf-notyet.der", &["int.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::NotYetValid { cert: s("Future Signer"), not_before: 3_786_912_000, now: NOW });
    e
}

fn case_not_ca() -> PathError {
    let e = check("leaf-under-ee.der", &["ee-issuer.der", "int.der"], &["root.der"], &code_signing())
        .unwrap_err();
    assert_eq!(e, PathError::NotCa { cert: s("Non-CA Issuer") });
    e
}

fn case_no_key_cert_sign() -> PathError {
    let e = check("leaf-under-noks.der", &["int-noks.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::NoKeyCertSign { cert: s("No KeyCertSign CA") });
    e
}

fn case_path_len_exceeded() -> PathError {
    let e = check("leaf-under-sub.der", &["sub-int.der", "int-pathlen0.der"], &["root.der"], &code_signing())
        .unwrap_err();
    assert_eq!(e, PathError::PathLenExceeded { cert: s("PathLen0 CA"), path_len: 0, below: 1 });
    e
}

fn case_unknown_critical_extension() -> PathError {
    let e = check("leaf-critext.der", &["int.der"], &["root.der"], &code_signing()).unwrap_err();
    let certificate_policies = ObjectIdentifier::new_unwrap("2.5.29.32");
    assert_eq!(
        e,
        PathError::UnknownCriticalExtension { cert: s("Critical Policy Signer"), oid: certificate_policies }
    );
    e
}

fn case_bad_signature() -> PathError {
    // Issued by a CA with the intermediate's name and another key.
    let e = check("leaf-forged.der", &["int.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(
        e,
        PathError::BadSignature {
            cert: s("Forged Signer"),
            issuer: s("Test Intermediate CA"),
            error: SignatureError::Invalid,
        }
    );
    e
}

fn case_wrong_purpose() -> PathError {
    let e = check("leaf-server.der", &["int.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::WrongPurpose { cert: s("TLS Server"), purpose: Purpose::CodeSigning });
    e
}

fn case_wrong_purpose_of_issuer() -> PathError {
    let e =
        check("leaf-under-tlsca.der", &["int-serverauth.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::WrongPurpose { cert: s("TLS-only CA"), purpose: Purpose::CodeSigning });
    e
}

fn case_key_usage() -> PathError {
    let e = check("leaf-badku.der", &["int.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::KeyUsage { cert: s("Wrong KU Signer"), needed: "digitalSignature" });
    e
}

fn case_name_mismatch() -> PathError {
    let policy =
        Policy { server_name: Some(ServerName::Dns("other.example.test")), ..policy(Purpose::ServerAuth) };
    let e = check("leaf-server.der", &["int.der"], &["root.der"], &policy).unwrap_err();
    assert_eq!(e, PathError::NameMismatch { cert: s("TLS Server"), name: s("other.example.test") });
    e
}

fn case_unknown_issuer() -> PathError {
    let e = check("leaf.der", &[], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::UnknownIssuer { cert: s("Code Signer"), issuer: s("CN=Test Intermediate CA") });
    e
}

fn case_untrusted_root() -> PathError {
    let e = check("leaf.der", &["int.der", "root.der"], &["root2.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::UntrustedRoot { cert: s("Test Root CA"), fingerprint: fingerprint("root.der") });
    e
}

fn case_too_long() -> PathError {
    // Signer At Depth 9, Chain CA 7 .. Chain CA 1, Test Root CA: nine certificates.
    let e = check("leaf-long.der", &["long-chain.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::TooLong { cert: s("Chain CA 1") });
    e
}

fn case_too_many_candidates() -> PathError {
    // Three look-alike issuers at each of four levels: 81 paths, each ending at an
    // untrusted root, are more than MAX_SIGNATURE_CHECKS signature checks.
    let e = check("leaf-twins.der", &["twins.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::TooManyCandidates);
    e
}

fn case_name_constraints() -> PathError {
    let e =
        check("leaf-nc-bad.der", &["int-nc.der"], &["root.der"], &policy(Purpose::ServerAuth)).unwrap_err();
    assert_eq!(
        e,
        PathError::NameConstraints {
            cert: s("Outside Server"),
            ca: s("Constrained CA"),
            violation: Violation::NotPermitted(s("DNS:host.evil.test")),
        }
    );
    e
}

fn case_weak_key() -> PathError {
    let e = check("leaf-rsa1024.der", &["int.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::WeakKey { cert: s("Weak Key Signer"), bits: 1024 });
    e
}

fn case_weak_signature() -> PathError {
    let e = check("leaf-sha1.der", &["int.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::WeakSignature { cert: s("SHA-1 Signer"), algorithm: "ecdsa-with-SHA1" });
    e
}

fn case_ca_as_end_entity() -> PathError {
    let e = check("int.der", &["root.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(e, PathError::CaAsEndEntity { cert: s("Test Intermediate CA") });
    e
}

fn case_revoked() -> PathError {
    let e = check_with_crls("leaf-revoked.der", &["int.der"], &["crl-revoked.der"], false).unwrap_err();
    // The serial as `bootsign list` writes it: upper-case hex without leading zero bytes.
    let serial = cert("leaf-revoked.der").serial;
    let serial = &serial[usize::from(serial[0] == 0)..];
    let serial: String = serial.iter().map(|b| alloc::format!("{b:02X}")).collect();
    assert_eq!(
        e,
        PathError::Revoked {
            cert: s("Revoked Signer"),
            revoked: Revoked {
                serial,
                date: 1_735_689_600,
                reason: Some(Reason::KeyCompromise),
                issuer: s("Test Intermediate CA"),
            },
        }
    );
    e
}

fn case_profile() -> PathError {
    let e = check("leaf-kcs.der", &["int.der"], &["root.der"], &code_signing()).unwrap_err();
    assert_eq!(
        e,
        PathError::Profile { cert: s("KeyCertSign Signer"), rule: "keyCertSign is set but it is not a CA" }
    );
    e
}

fn case_unusable_crl() -> PathError {
    let e =
        check_with_crls("leaf-under-nocrlsign.der", &["int-nocrlsign.der"], &["crl-nocrlsign.der"], false)
            .unwrap_err();
    assert_eq!(
        e,
        PathError::UnusableCrl {
            cert: s("Signer Under No-CRLSign CA"),
            error: Box::new(CrlError::NoCrlSign { cert: s("No CRLSign CA") }),
        }
    );
    e
}

fn case_stale_crl() -> PathError {
    let e = check_with_crls("leaf.der", &["int.der"], &["crl-stale.der"], true).unwrap_err();
    assert_eq!(
        e,
        PathError::StaleCrl {
            cert: s("Code Signer"),
            issuer: s("Test Intermediate CA"),
            next_update: 1_609_459_200,
            now: NOW,
        }
    );
    e
}

/// A case run by the coverage tests.
type Case = (&'static str, fn() -> PathError);

/// One `#[test]` per case, so that a failure names its case, and `CASES`, every case.
macro_rules! case_tests {
    ($($test:ident => $case:ident),* $(,)?) => {
        $(#[test]
        fn $test() {
            let _ = $case();
        })*

        const CASES: &[Case] = &[$((stringify!($test), $case)),*];
    };
}

case_tests! {
    expired => case_expired,
    not_yet_valid => case_not_yet_valid,
    not_ca => case_not_ca,
    no_key_cert_sign => case_no_key_cert_sign,
    path_len_exceeded => case_path_len_exceeded,
    unknown_critical_extension => case_unknown_critical_extension,
    bad_signature => case_bad_signature,
    wrong_purpose => case_wrong_purpose,
    wrong_purpose_of_issuer => case_wrong_purpose_of_issuer,
    key_usage => case_key_usage,
    name_mismatch => case_name_mismatch,
    unknown_issuer => case_unknown_issuer,
    untrusted_root => case_untrusted_root,
    too_long => case_too_long,
    too_many_candidates => case_too_many_candidates,
    name_constraints => case_name_constraints,
    weak_key => case_weak_key,
    weak_signature => case_weak_signature,
    ca_as_end_entity => case_ca_as_end_entity,
    revoked => case_revoked,
    profile => case_profile,
    unusable_crl => case_unusable_crl,
    stale_crl => case_stale_crl,
}

#[test]
fn every_variant_is_produced_by_a_case() {
    let produced: BTreeSet<&str> = CASES.iter().map(|(_, case)| variant_name(&case())).collect();
    let all: BTreeSet<&str> = ALL_VARIANTS.iter().copied().collect();
    let missing: Vec<_> = all.difference(&produced).collect();
    assert!(missing.is_empty(), "PathError variants no fixture case produces: {missing:?}");
    assert_eq!(produced, all);
}

#[test]
fn every_message_names_what_it_is_about() {
    for (case, run) in CASES {
        let e = run();
        let text = e.to_string();
        assert!(!text.trim().is_empty(), "{case}: empty message");
        for needle in must_mention(&e) {
            assert!(text.contains(&needle), "{case}: {text:?} does not mention {needle:?}");
        }
    }
}

/// The clock predicate holds for exactly the failures a wrong clock causes, over every
/// case the fixtures produce.
#[test]
fn only_validity_period_failures_depend_on_the_clock() {
    for (case, run) in CASES {
        let e = run();
        let about_time = matches!(variant_name(&e), "Expired" | "NotYetValid" | "StaleCrl");
        assert_eq!(e.depends_on_the_clock(), about_time, "{case}: {e}");
    }
}

// What must pass, next to what must not: each failing case above has a passing twin, so a
// verifier that refused everything would fail here.

#[test]
fn a_valid_chain_verifies_from_any_order_with_extras() {
    let chain = names(&["Code Signer", "Test Intermediate CA", "Test Root CA"]);
    assert_eq!(check("leaf.der", &["int.der"], &["root.der"], &code_signing()), Ok(chain.clone()));
    let pool = ["root2.der", "root.der", "leaf-server.der", "int.der", "int2.der"];
    assert_eq!(check("leaf.der", &pool, &["root.der"], &code_signing()), Ok(chain));
}

#[test]
fn the_anchor_may_be_an_intermediate_and_the_end_entity_may_be_pinned() {
    let to_int = names(&["Code Signer", "Test Intermediate CA"]);
    assert_eq!(check("leaf.der", &["int.der"], &["int.der"], &code_signing()), Ok(to_int));
    assert_eq!(check("leaf.der", &[], &["leaf.der"], &code_signing()), Ok(names(&["Code Signer"])));
}

#[test]
fn validity_is_checked_at_the_policy_time_not_the_clock() {
    let at = |time| Policy { time, ..code_signing() };
    // In 2005 the expired signer was valid: it is its issuer that was not yet.
    assert_eq!(
        check("leaf-expired.der", &["int.der"], &["root.der"], &at(1_104_537_600)),
        Err(PathError::NotYetValid {
            cert: s("Test Intermediate CA"),
            not_before: crate::test_fixtures::Y2020,
            now: 1_104_537_600
        })
    );
    assert!(check("leaf-notyet.der", &["int.der"], &["root.der"], &at(3_786_912_000)).is_ok());
    // The fixtures' own window, to the second.
    assert!(check("leaf.der", &["int.der"], &["root.der"], &at(crate::test_fixtures::Y2020)).is_ok());
    assert!(matches!(
        check("leaf.der", &["int.der"], &["root.der"], &at(crate::test_fixtures::Y2020 - 1)),
        Err(PathError::NotYetValid { .. })
    ));
    assert!(check("leaf.der", &["int.der"], &["root.der"], &at(crate::test_fixtures::END_2099)).is_ok());
    assert!(matches!(
        check("leaf.der", &["int.der"], &["root.der"], &at(crate::test_fixtures::END_2099 + 1)),
        Err(PathError::Expired { .. })
    ));
}

#[test]
fn an_x509_v1_certificate_is_a_ca_only_as_the_anchor() {
    let v1root = check("leaf-under-v1root.der", &[], &["root-v1.der"], &code_signing());
    assert_eq!(v1root, Ok(names(&["Signer Under V1 Root", "V1 Root CA"])));
    // The same root, offered but not trusted, is not a CA.
    assert_eq!(
        check("leaf-under-v1root.der", &["root-v1.der"], &["root.der"], &code_signing()),
        Err(PathError::NotCa { cert: s("V1 Root CA") })
    );
    assert_eq!(
        check("leaf-under-v1int.der", &["int-v1.der"], &["root.der"], &code_signing()),
        Err(PathError::NotCa { cert: s("V1 Intermediate CA") })
    );
    assert_eq!(cert("int-v1.der").version, 1);
}

#[test]
fn path_len_zero_allows_an_end_entity_directly_below() {
    let path = check("leaf-under-pathlen0.der", &["int-pathlen0.der"], &["root.der"], &code_signing());
    assert_eq!(path, Ok(names(&["Signer Under PathLen0 CA", "PathLen0 CA", "Test Root CA"])));
}

#[test]
fn eight_certificates_are_not_too_long() {
    let path = check("leaf-depth8.der", &["long-chain.der"], &["root.der"], &code_signing()).unwrap();
    assert_eq!(path.len(), MAX_DEPTH);
    assert_eq!(path.last().map(String::as_str), Some("Test Root CA"));
}

#[test]
fn server_names_and_purposes() {
    let www =
        Policy { server_name: Some(ServerName::Dns("www.example.test")), ..policy(Purpose::ServerAuth) };
    assert!(check("leaf-server.der", &["int.der"], &["root.der"], &www).is_ok());
    // Client authentication is not in its extendedKeyUsage either.
    assert_eq!(
        check("leaf-server.der", &["int.der"], &["root.der"], &policy(Purpose::ClientAuth)),
        Err(PathError::WrongPurpose { cert: s("TLS Server"), purpose: Purpose::ClientAuth })
    );
    // The same host as an IP address is not a DNS name.
    let ip = Policy { server_name: Some(ServerName::Ip(&[192, 0, 2, 1])), ..policy(Purpose::ServerAuth) };
    assert_eq!(
        check("leaf-server.der", &["int.der"], &["root.der"], &ip),
        Err(PathError::NameMismatch { cert: s("TLS Server"), name: s("192.0.2.1") })
    );
}

#[test]
fn name_constraints_pass_names_inside_them() {
    let inside = check("leaf-nc-ok.der", &["int-nc.der"], &["root.der"], &policy(Purpose::ServerAuth));
    assert_eq!(inside, Ok(names(&["Inside Server", "Constrained CA", "Test Root CA"])));
}

#[test]
fn cross_signed_root_is_followed_to_either_anchor() {
    let pool = ["root2.der", "root2-cross.der", "int2.der", "root.der"];
    // Through the cross certificate to the first root: the self-signed twin, tried first
    // as it comes first in the pool, ends untrusted, and the search goes back.
    assert_eq!(
        check("leaf2.der", &pool, &["root.der"], &code_signing()),
        Ok(names(&["Cross Signer", "Second Intermediate CA", "Second Root CA", "Test Root CA"]))
    );
    // Or to the second root itself.
    let to_root2 = check("leaf2.der", &pool, &["root2.der"], &code_signing()).unwrap();
    assert_eq!(to_root2, names(&["Cross Signer", "Second Intermediate CA", "Second Root CA"]));
    // Neither trusted: the error is about the path that got furthest.
    assert_eq!(
        check("leaf2.der", &pool, &[], &code_signing()),
        Err(PathError::UntrustedRoot { cert: s("Test Root CA"), fingerprint: fingerprint("root.der") })
    );
}

#[test]
fn a_look_alike_issuer_is_skipped_for_the_real_one() {
    // The forger has the intermediate's name on another key; the leaf's authority key
    // identifier puts the real intermediate first, and in either order the path is found.
    for pool in [["forger.der", "int.der"], ["int.der", "forger.der"]] {
        let path = check("leaf.der", &pool, &["root.der"], &code_signing());
        assert_eq!(path, Ok(names(&["Code Signer", "Test Intermediate CA", "Test Root CA"])));
    }
    // And the forged leaf chains to the forger, which is not trusted.
    assert_eq!(
        check("leaf-forged.der", &["forger.der"], &["root.der"], &code_signing()),
        Err(PathError::UntrustedRoot {
            cert: s("Test Intermediate CA"),
            fingerprint: fingerprint("forger.der")
        })
    );
}

#[test]
fn other_algorithms_verify() {
    let pss = check("leaf-pss.der", &["int-rsa.der"], &["root.der"], &code_signing());
    assert_eq!(pss, Ok(names(&["PSS Signer", "RSA Intermediate CA", "Test Root CA"])));
    let p384 = check("leaf-p384.der", &["int-p384.der"], &["root.der"], &code_signing());
    assert_eq!(p384, Ok(names(&["P-384 Signer", "P-384 Intermediate CA", "Test Root CA"])));
}

#[test]
fn ed25519_signatures_are_not_supported() {
    let ed25519 = ObjectIdentifier::new_unwrap("1.3.101.112");
    assert_eq!(
        check("leaf-under-ed25519.der", &["int-ed25519.der"], &["root.der"], &code_signing()),
        Err(PathError::BadSignature {
            cert: s("Signer Under Ed25519 CA"),
            issuer: s("Ed25519 CA"),
            error: SignatureError::UnsupportedAlgorithm(ed25519),
        })
    );
    // An Ed25519 key is not refused in a path: it fails where it is used, at a signature
    // (see the cms tests), as the module says.
    assert!(check("leaf-ed25519key.der", &["int.der"], &["root.der"], &code_signing()).is_ok());
}

#[test]
fn crls_pass_what_they_do_not_list() {
    assert!(check_with_crls("leaf.der", &["int.der"], &["crl-revoked.der"], true).is_ok());
    // A stale CRL still revokes what it lists, but refuses the rest only when asked to.
    assert!(check_with_crls("leaf.der", &["int.der"], &["crl-stale.der"], false).is_ok());
    // A CRL from another issuer is not consulted.
    assert!(
        check_with_crls("leaf-under-nocrlsign.der", &["int-nocrlsign.der"], &["crl-revoked.der"], true)
            .is_ok()
    );
    // Without its CRL the certificate under the CA without cRLSign passes.
    assert!(check_with_crls("leaf-under-nocrlsign.der", &["int-nocrlsign.der"], &[], true).is_ok());
}

#[test]
fn a_revoked_intermediate_refuses_what_is_below_it() {
    let e = check_with_crls("leaf-under-revoked-ca.der", &["int-revoked.der"], &["crl-root.der"], false)
        .unwrap_err();
    let PathError::Revoked { cert, revoked } = &e else { panic!("{e:?}") };
    assert_eq!(cert, "Revoked CA");
    assert_eq!(revoked.issuer, "Test Root CA");
    assert_eq!(revoked.reason, Some(Reason::CaCompromise));
    // The root's CRL does not list the other intermediates.
    assert!(check_with_crls("leaf.der", &["int.der"], &["crl-root.der", "crl-revoked.der"], true).is_ok());
    // Without the CRL, the path is good.
    assert!(check_with_crls("leaf-under-revoked-ca.der", &["int-revoked.der"], &[], true).is_ok());
}

#[test]
fn a_revocation_message_gives_date_and_reason() {
    let e = case_revoked();
    let text = e.to_string();
    assert!(text.contains("2025-01-01 00:00:00 UTC"), "{text}");
    assert!(text.contains("(reason: keyCompromise)"), "{text}");
}

#[test]
fn validity_messages_give_both_times() {
    let text = case_expired().to_string();
    assert!(text.contains("2010-01-01 00:00:00 UTC") && text.contains("2030-01-01 00:00:00 UTC"), "{text}");
    let text = case_not_yet_valid().to_string();
    assert!(text.contains("2090-01-01 00:00:00 UTC") && text.contains("is the clock right?"), "{text}");
}
