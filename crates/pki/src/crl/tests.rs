//! CRL parsing and issuer checks against the fixtures of `fixtures/make.sh`.

use alloc::string::ToString;

use super::*;
use crate::test_fixtures::{NOW, cert, der};

fn parse_crl(name: &str) -> Crl<'static> {
    Crl::parse(der(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn a_crl_is_read_field_by_field() {
    let crl = parse_crl("crl-revoked.der");
    assert_eq!(crl.issuer_text, "CN=Test Intermediate CA");
    assert_eq!(crl.issuer, cert("int.der").subject);
    assert_eq!(crl.this_update, 1_735_689_600);
    assert_eq!(crl.next_update, Some(4_070_908_800));
    assert_eq!(crl.number.as_deref(), Some(&[1][..]));
    assert_eq!(crl.authority_key_id, None);
    let revoked = cert("leaf-revoked.der");
    let [entry] = crl.entries() else { panic!("one entry expected") };
    assert_eq!(entry.serial, serial_magnitude(revoked.serial));
    assert_eq!(entry.date, 1_735_689_600);
    assert_eq!(entry.reason, Some(Reason::KeyCompromise));
    assert_eq!(crl.lookup(revoked.serial), Some(entry));
    assert_eq!(crl.lookup(cert("leaf.der").serial), None);
    assert!(!crl.is_stale(NOW));
}

#[test]
fn staleness_is_after_next_update() {
    let stale = parse_crl("crl-stale.der");
    assert_eq!(stale.next_update, Some(1_609_459_200));
    assert!(stale.entries().is_empty());
    assert!(!stale.is_stale(1_609_459_200));
    assert!(stale.is_stale(1_609_459_201));
}

#[test]
fn only_the_issuer_with_crl_sign_signed_it() {
    let crl = parse_crl("crl-revoked.der");
    assert_eq!(crl.check_signed_by(&cert("int.der")), Ok(()));
    assert_eq!(
        crl.check_signed_by(&cert("root.der")),
        Err(CrlError::WrongIssuer {
            crl_issuer: "CN=Test Intermediate CA".into(),
            cert: "CN=Test Root CA".into()
        })
    );
    // The same name on another key.
    assert_eq!(
        crl.check_signed_by(&cert("forger.der")),
        Err(CrlError::BadSignature { cert: "Test Intermediate CA".into(), error: SignatureError::Invalid })
    );
    assert_eq!(
        parse_crl("crl-nocrlsign.der").check_signed_by(&cert("int-nocrlsign.der")),
        Err(CrlError::NoCrlSign { cert: "No CRLSign CA".into() })
    );
}

#[test]
fn the_issuer_is_found_among_candidates() {
    let candidates = [cert("root.der"), cert("forger.der"), cert("int.der")];
    let crl = parse_crl("crl-revoked.der");
    assert_eq!(crl.find_issuer(&candidates).map(|c| c.display_name()), Ok("Test Intermediate CA"));
    // Without int, the error is about the candidate with the right name.
    assert!(matches!(crl.find_issuer(&candidates[..2]), Err(CrlError::BadSignature { .. })));
    assert!(matches!(crl.find_issuer(&candidates[..1]), Err(CrlError::WrongIssuer { .. })));
}

#[test]
fn framing_errors_are_refused() {
    let trailing = [der("crl-revoked.der"), &[0]].concat();
    assert_eq!(Crl::parse(&trailing).unwrap_err(), CrlError::Der(DerError::TrailingData));
    // A certificate is not a CRL.
    assert!(matches!(Crl::parse(der("leaf.der")), Err(CrlError::Malformed(_))));
}

#[test]
fn messages_name_the_certificates() {
    let e = CrlError::WrongIssuer { crl_issuer: "CN=A".into(), cert: "CN=B".into() };
    assert!(e.to_string().contains("CN=A") && e.to_string().contains("CN=B"));
    let e = CrlError::NoCrlSign { cert: "No CRLSign CA".into() };
    assert!(e.to_string().contains("No CRLSign CA"));
}
