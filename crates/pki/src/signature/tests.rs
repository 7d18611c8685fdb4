//! Signature algorithms and keys of the fixtures of `fixtures/make.sh`.

use alloc::string::ToString;

use super::*;
use crate::test_fixtures::{cert, der};

const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

fn algorithm(name: &str) -> Result<SignatureAlgorithm, SignatureError> {
    SignatureAlgorithm::from_der(cert(name).signature_algorithm)
}

fn key(name: &str) -> Result<PublicKey, SignatureError> {
    PublicKey::from_spki_der(cert(name).spki)
}

#[test]
fn algorithms_of_the_fixtures() {
    use HashAlgorithm::*;
    assert_eq!(algorithm("leaf.der"), Ok(SignatureAlgorithm::Ecdsa(Sha256)));
    assert_eq!(algorithm("leaf-p384.der"), Ok(SignatureAlgorithm::Ecdsa(Sha384)));
    assert_eq!(algorithm("int-rsa.der"), Ok(SignatureAlgorithm::Ecdsa(Sha256)));
    assert_eq!(algorithm("leaf-pss.der"), Ok(SignatureAlgorithm::RsaPss { hash: Sha256, salt_len: 32 }));
    // ecdsa-with-SHA1 is not verified at all; paths name it through weak_hash.
    let ecdsa_sha1 = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
    assert_eq!(algorithm("leaf-sha1.der"), Err(SignatureError::UnsupportedAlgorithm(ecdsa_sha1)));
    assert_eq!(algorithm("leaf-under-ed25519.der"), Err(SignatureError::UnsupportedAlgorithm(ED25519)));
}

#[test]
fn weak_hashes_are_named() {
    assert_eq!(weak_hash(cert("leaf-sha1.der").signature_algorithm), Some("ecdsa-with-SHA1"));
    for name in ["leaf.der", "leaf-pss.der", "leaf-p384.der", "leaf-under-ed25519.der"] {
        assert_eq!(weak_hash(cert(name).signature_algorithm), None, "{name}");
    }
}

#[test]
fn keys_of_the_fixtures() {
    let describe = |name| key(name).map(|k| (k.describe(), k.bits()));
    assert_eq!(describe("leaf.der"), Ok(("ECDSA P-256".to_string(), 256)));
    assert_eq!(describe("leaf-p384.der"), Ok(("ECDSA P-384".to_string(), 384)));
    assert_eq!(describe("leaf-pss.der"), Ok(("RSA 2048".to_string(), 2048)));
    assert_eq!(describe("leaf-rsa1024.der"), Ok(("RSA 1024".to_string(), 1024)));
    assert_eq!(describe("int-ed25519.der").unwrap_err(), SignatureError::UnsupportedKey(ED25519));
    assert_eq!(describe("leaf-ed25519key.der").unwrap_err(), SignatureError::UnsupportedKey(ED25519));
}

#[test]
fn verification_needs_the_right_key_kind_message_and_length() {
    let leaf = cert("leaf.der");
    let alg = SignatureAlgorithm::from_der(leaf.signature_algorithm).unwrap();
    let int_key = key("int.der").unwrap();
    assert_eq!(int_key.verify(alg, leaf.tbs, leaf.signature), Ok(()));
    let mut changed = leaf.tbs.to_vec();
    *changed.last_mut().unwrap() ^= 1;
    assert_eq!(int_key.verify(alg, &changed, leaf.signature), Err(SignatureError::Invalid));
    // A digest of the wrong length never verifies.
    assert_eq!(int_key.verify_digest(alg, &[0; 20], leaf.signature), Err(SignatureError::Invalid));
    // An RSA key asked to check an ECDSA signature.
    let rsa_key = key("int-rsa.der").unwrap();
    assert_eq!(rsa_key.verify(alg, leaf.tbs, leaf.signature), Err(SignatureError::KeyMismatch));
    // The same key, the PSS certificate it issued.
    let pss = cert("leaf-pss.der");
    let pss_alg = SignatureAlgorithm::from_der(pss.signature_algorithm).unwrap();
    assert_eq!(rsa_key.verify(pss_alg, pss.tbs, pss.signature), Ok(()));
    // PKCS #1 v1.5 is not PSS.
    let pkcs1 = SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256);
    assert_eq!(rsa_key.verify(pkcs1, pss.tbs, pss.signature), Err(SignatureError::Invalid));
}

#[test]
fn malformed_identifiers_and_keys() {
    assert_eq!(
        SignatureAlgorithm::from_der(&[0x30, 0x00]),
        Err(SignatureError::BadParameters("malformed AlgorithmIdentifier"))
    );
    assert_eq!(
        PublicKey::from_spki_der(der("leaf.der")).unwrap_err(),
        SignatureError::BadKey("malformed SubjectPublicKeyInfo")
    );
    // sha256WithRSAEncryption with parameters other than NULL.
    let bad = hex_literal::hex!("300f 06092a864886f70d01010b 0202 0000");
    assert_eq!(
        SignatureAlgorithm::from_der(&bad),
        Err(SignatureError::BadParameters("RSA parameters must be NULL"))
    );
}

#[test]
fn every_message_is_worded() {
    for e in [
        SignatureError::UnsupportedAlgorithm(ED25519),
        SignatureError::BadParameters("x"),
        SignatureError::UnsupportedKey(ED25519),
        SignatureError::BadKey("x"),
        SignatureError::KeyMismatch,
        SignatureError::Invalid,
        SignatureError::Der(DerError::Truncated),
    ] {
        assert!(!e.to_string().trim().is_empty(), "{e:?}");
    }
    assert!(SignatureError::UnsupportedKey(ED25519).to_string().contains("Ed25519"));
}
