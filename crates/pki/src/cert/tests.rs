//! Certificate parsing against the fixtures of `fixtures/make.sh`.

use alloc::string::ToString;

use super::*;
use crate::test_fixtures::{END_2099, Y2020, cert, der};

const CODE_SIGNING: ObjectIdentifier = rfc5280::ID_KP_CODE_SIGNING;

#[test]
fn an_end_entity_is_read_field_by_field() {
    let leaf = cert("leaf.der");
    let int = cert("int.der");
    assert_eq!(leaf.der, der("leaf.der"));
    assert_eq!(leaf.version, 3);
    assert_eq!((leaf.not_before, leaf.not_after), (Y2020, END_2099));
    assert_eq!(leaf.basic_constraints, Some((false, None)));
    assert_eq!(leaf.key_usage, Some(key_usage::DIGITAL_SIGNATURE));
    assert_eq!(leaf.ext_key_usage, Some(Vec::from([CODE_SIGNING])));
    assert_eq!(leaf.alt_names, None);
    assert_eq!(leaf.name_constraints, None);
    assert_eq!((leaf.unknown_critical, leaf.profile_error), (None, None));
    assert_eq!(leaf.subject_text, "CN=Code Signer");
    assert_eq!(leaf.issuer_text, "CN=Test Intermediate CA");
    assert_eq!(leaf.common_name.as_deref(), Some("Code Signer"));
    assert_eq!(leaf.display_name(), "Code Signer");
    assert_eq!(leaf.issuer, int.subject);
    // openssl's serials are 20 random bytes; the content octets keep a leading zero.
    assert!((20..=21).contains(&leaf.serial.len()));
    assert_eq!(leaf.subject_key_id.as_ref().map(Vec::len), Some(20));
    assert_eq!(leaf.authority_key_id, int.subject_key_id);
    assert!(!leaf.is_self_issued());
}

#[test]
fn ca_fields() {
    let root = cert("root.der");
    assert!(root.is_self_issued());
    assert_eq!(root.basic_constraints, Some((true, None)));
    assert_eq!(root.key_usage, Some(key_usage::KEY_CERT_SIGN | key_usage::CRL_SIGN));
    assert_eq!(root.authority_key_id, None);
    assert_eq!(cert("int-pathlen0.der").basic_constraints, Some((true, Some(0))));
    assert!(cert("int-nc.der").name_constraints.is_some());
    assert_eq!(cert("int-serverauth.der").ext_key_usage, Some(Vec::from([rfc5280::ID_KP_SERVER_AUTH])));
}

#[test]
fn alt_names_are_read() {
    let server = cert("leaf-server.der");
    assert_eq!(server.alt_names, Some(Vec::from([AltName::Dns("www.example.test".to_string())])));
}

#[test]
fn signatures_chain_to_the_right_issuer_only() {
    let leaf = cert("leaf.der");
    assert_eq!(leaf.check_signed_by(&cert("int.der")), Ok(()));
    assert_eq!(leaf.check_signed_by(&cert("root.der")), Err(SignatureError::Invalid));
    assert_eq!(cert("leaf-forged.der").check_signed_by(&cert("int.der")), Err(SignatureError::Invalid));
    assert_eq!(cert("leaf-forged.der").check_signed_by(&cert("forger.der")), Ok(()));
    assert_eq!(cert("root.der").check_signed_by(&cert("root.der")), Ok(()));
    assert_eq!(cert("root2-cross.der").check_signed_by(&cert("root.der")), Ok(()));
    assert_eq!(cert("leaf-pss.der").check_signed_by(&cert("int-rsa.der")), Ok(()));
    assert_eq!(cert("leaf-p384.der").check_signed_by(&cert("int-p384.der")), Ok(()));
}

#[test]
fn eku_and_key_usage_queries() {
    let leaf = cert("leaf.der");
    assert!(leaf.eku_allows(CODE_SIGNING));
    assert!(!leaf.eku_allows(rfc5280::ID_KP_SERVER_AUTH));
    // No extendedKeyUsage: anything.
    assert!(cert("int.der").eku_allows(rfc5280::ID_KP_SERVER_AUTH));
    assert!(leaf.key_usage_allows(key_usage::DIGITAL_SIGNATURE | key_usage::KEY_ENCIPHERMENT));
    assert!(!leaf.key_usage_allows(key_usage::KEY_CERT_SIGN));
    let badku = cert("leaf-badku.der");
    assert_eq!(badku.key_usage, Some(key_usage::KEY_ENCIPHERMENT));
    assert!(!badku.key_usage_allows(key_usage::DIGITAL_SIGNATURE));
}

#[test]
fn unprocessed_critical_extensions_are_recorded() {
    let certificate_policies = ObjectIdentifier::new_unwrap("2.5.29.32");
    assert_eq!(cert("leaf-critext.der").unknown_critical, Some(certificate_policies));
}

#[test]
fn a_malformed_extension_is_refused() {
    let key_usage = ObjectIdentifier::new_unwrap("2.5.29.15");
    let e = Cert::parse(der("badext.der")).unwrap_err();
    assert_eq!(e, CertError::BadExtension(key_usage));
    assert!(e.to_string().contains("keyUsage (2.5.29.15)"), "{e}");
}

#[test]
fn framing_errors_are_refused() {
    let trailing = [der("leaf.der"), &[0]].concat();
    assert_eq!(Cert::parse(&trailing).unwrap_err(), CertError::Der(DerError::TrailingData));
    let leaf = der("leaf.der");
    assert_eq!(Cert::parse(&leaf[..leaf.len() - 1]).unwrap_err(), CertError::Der(DerError::Truncated));
}
