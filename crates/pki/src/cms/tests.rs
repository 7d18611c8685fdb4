//! CMS parsing and verification against the signatures of `fixtures/make.sh`.
//!
//! As in the path tests, each `case_*` function asserts the exact [`CmsError`] and returns
//! it; [`every_variant_is_produced_by_a_case`] requires the cases to produce every variant,
//! and [`cms_variants!`] fails to compile if a variant is left out of its `match`.
//!
//! Most cases read an openssl-made signature as it is. A few change one thing in one:
//! bytes appended, one attribute's value, the number of certificates or signers. Those
//! changes are made here, on the parsed structure, so each test shows what it altered.

use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::*;
use crate::cert::CertError;
use crate::der_view::{Tlv, read_tlv};
use crate::hash::MultiHasher;
use crate::test_fixtures::{NOW, der, fingerprint};

macro_rules! cms_variants {
    ($($variant:ident),* $(,)?) => {
        fn variant_name(e: &CmsError) -> &'static str {
            match e {
                $(CmsError::$variant { .. } => stringify!($variant),)*
            }
        }
        const ALL_VARIANTS: &[&str] = &[$(stringify!($variant)),*];
    };
}

cms_variants![
    Empty,
    BadPem,
    NotDer,
    Malformed,
    NotSignedData,
    Attached,
    ContentType,
    NoSigners,
    TooManyCertificates,
    TooManySigners,
    UnsupportedDigest,
    BadCertificate,
    SignerCertificateMissing,
    BadSignedAttributes,
    MessageDigestMismatch,
    BadSignature,
    Untrusted,
    NoSignerNamed,
    DigestNotComputed,
    WeakDigest,
    ContentChanged,
];

/// What each variant's message must name (the signer, where there is one).
fn must_mention(e: &CmsError) -> Vec<String> {
    use CmsError as C;
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
    match e {
        C::Empty => v(&["empty"]),
        C::BadPem(why) => v(&["PEM", why]),
        C::NotDer => v(&["BER", "DER"]),
        C::Malformed(what) => v(&[what]),
        C::NotSignedData(oid) | C::ContentType(oid) | C::UnsupportedDigest(oid) => {
            Vec::from([oid.to_string()])
        }
        C::Attached => v(&["detached"]),
        C::NoSigners => v(&["no signer"]),
        C::TooManyCertificates(n) | C::TooManySigners(n) => Vec::from([n.to_string()]),
        C::BadCertificate(error) => Vec::from([error.to_string()]),
        C::SignerCertificateMissing { signer } => Vec::from([alloc::format!("signer {signer}")]),
        C::BadSignedAttributes(what) => v(&[what]),
        C::MessageDigestMismatch { signer } => v(&[signer, "messageDigest"]),
        C::BadSignature { signer, error } => Vec::from([signer.clone(), error.to_string()]),
        C::Untrusted { signer, error } => Vec::from([signer.clone(), error.to_string()]),
        C::NoSignerNamed { name, present } => [name].into_iter().chain(present).cloned().collect(),
        C::DigestNotComputed(alg) | C::ContentChanged { digest: alg } => v(&[alg.name()]),
        C::WeakDigest { signer } => v(&[signer, "SHA-1"]),
    }
}

fn content() -> &'static [u8] {
    der("content.bin")
}

fn digests(content: &[u8], algs: impl IntoIterator<Item = HashAlgorithm>) -> Digests {
    let mut hasher = MultiHasher::new(algs);
    hasher.update(content);
    hasher.finish()
}

/// What a signature is checked with; the default trusts the test root, supplied as an
/// extra certificate, at [`NOW`].
struct Setup<'s> {
    content: &'s [u8],
    /// Digest algorithms to compute; by default those the signers need.
    algorithms: Option<&'s [HashAlgorithm]>,
    extra: &'s [&'s str],
    anchors: &'s [&'s str],
    signer: Option<&'s str>,
}

impl Default for Setup<'_> {
    fn default() -> Self {
        Self {
            content: content(),
            algorithms: None,
            extra: &["root.der"],
            anchors: &["root.der"],
            signer: None,
        }
    }
}

/// Decodes, parses and verifies `signature` (PEM or DER bytes) as `setup` says.
fn run(signature: &[u8], setup: Setup<'_>) -> Result<Verified, CmsError> {
    let bytes = decode_pem_or_der(signature)?;
    let sd = SignedData::parse(&bytes)?;
    let algorithms = setup.algorithms.map_or_else(|| sd.digest_algorithms(), <[_]>::to_vec);
    let extra: Vec<&[u8]> = setup.extra.iter().map(|n| der(n)).collect();
    let anchors: Vec<Fingerprint> = setup.anchors.iter().map(|n| fingerprint(n)).collect();
    let trust = Trust { anchors: &anchors, extra_certs: &extra, time: NOW, revocation: Revocation::NONE };
    verify(&sd, &digests(setup.content, algorithms), &trust, setup.signer)
}

fn verify_fixture(name: &str) -> Result<Verified, CmsError> {
    run(der(name), Setup::default())
}

fn signer_names(v: &Verified) -> Vec<&str> {
    v.signers().iter().map(|s| s.name.as_str()).collect()
}

fn s(x: &str) -> String {
    x.to_string()
}

// A small DER writer, to rebuild a fixture's SignedData with one field changed.

fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::from([tag]);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

fn children(value: &[u8]) -> Vec<Tlv<'_>> {
    let mut rest = value;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (t, after) = read_tlv(rest).unwrap();
        out.push(t);
        rest = after;
    }
    out
}

/// The fields of a ContentInfo's SignedData, and its content type OID (raw).
fn signed_data_fields(ci: &[u8]) -> (Tlv<'_>, Vec<Tlv<'_>>) {
    let outer = children(read_tlv(ci).unwrap().0.value);
    let sd = read_tlv(outer[1].value).unwrap().0;
    (outer[0], children(sd.value))
}

/// `ci` with its certificates and/or signerInfos replaced.
fn rebuild(ci: &[u8], certificates: Option<&[&[u8]]>, signers: Option<&[&[u8]]>) -> Vec<u8> {
    let (content_type, fields) = signed_data_fields(ci);
    let last = fields.len() - 1;
    let fields: Vec<Vec<u8>> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| match (f.tag, certificates, signers) {
            (0xa0, Some(c), _) => tlv(0xa0, c),
            (0x31, _, Some(s)) if i == last => tlv(0x31, s),
            _ => f.raw.to_vec(),
        })
        .collect();
    let field_refs: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
    let sd = tlv(0x30, &field_refs);
    tlv(0x30, &[content_type.raw, &tlv(0xa0, &[&sd])])
}

/// The one SignerInfo of a fixture, raw.
fn signer_info(ci: &[u8]) -> &[u8] {
    let (_, fields) = signed_data_fields(ci);
    children(fields[fields.len() - 1].value)[0].raw
}

/// `bytes` with the one occurrence of `from` replaced by `to`.
fn replace_once(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at: Vec<usize> =
        (0..=bytes.len() - from.len()).filter(|&i| &bytes[i..i + from.len()] == from).collect();
    assert_eq!(at.len(), 1, "expected one occurrence");
    [&bytes[..at[0]], to, &bytes[at[0] + from.len()..]].concat()
}

/// DER of the contentType attribute holding id-data.
const CONTENT_TYPE_DATA: &[u8] = &hex_literal::hex!("06092a864886f70d010903 310b 06092a864886f70d010701");
/// DER of the messageDigest attribute's type.
const MESSAGE_DIGEST_OID: &[u8] = &hex_literal::hex!("06092a864886f70d010904");

#[test]
fn the_der_writer_rebuilds_a_fixture_unchanged() {
    let ci = der("cms-leaf.der");
    let (_, fields) = signed_data_fields(ci);
    let certs: Vec<&[u8]> = children(fields[3].value).iter().map(|c| c.raw).collect();
    assert_eq!(rebuild(ci, Some(&certs), Some(&[signer_info(ci)])), ci);
}

// The cases.

fn case_empty() -> CmsError {
    assert_eq!(SignedData::parse(&[]).unwrap_err(), CmsError::Empty);
    let e = decode_pem_or_der(b" \n\t").unwrap_err();
    assert_eq!(e, CmsError::Empty);
    e
}

fn case_bad_pem() -> CmsError {
    let pem = core::str::from_utf8(der("cms-leaf.pem")).unwrap();
    assert!(pem.starts_with("-----BEGIN CMS-----"));
    let relabelled = pem.replace(" CMS-----", " CERTIFICATE-----");
    let e = decode_pem_or_der(relabelled.as_bytes()).unwrap_err();
    assert_eq!(e, CmsError::BadPem(s("PEM label is CERTIFICATE, expected CMS or PKCS7")));
    // Damaged base64 is refused too (pem-rfc7468 words the reason).
    let damaged = pem.replacen('A', "*", 1);
    assert!(matches!(decode_pem_or_der(damaged.as_bytes()), Err(CmsError::BadPem(_))));
    e
}

fn case_not_der() -> CmsError {
    let e = SignedData::parse(der("cms-ber.der")).unwrap_err();
    assert_eq!(e, CmsError::NotDer);
    e
}

fn case_malformed() -> CmsError {
    let trailing = [der("cms-leaf.der"), &[0]].concat();
    let e = SignedData::parse(&trailing).unwrap_err();
    assert_eq!(e, CmsError::Malformed("data after the signature"));
    e
}

fn case_not_signed_data() -> CmsError {
    let e = SignedData::parse(der("cms-data.der")).unwrap_err();
    assert_eq!(e, CmsError::NotSignedData(ID_DATA));
    e
}

fn case_attached() -> CmsError {
    let e = SignedData::parse(der("cms-attached.der")).unwrap_err();
    assert_eq!(e, CmsError::Attached);
    e
}

fn case_content_type() -> CmsError {
    let e = SignedData::parse(der("cms-econtent.der")).unwrap_err();
    assert_eq!(e, CmsError::ContentType(ObjectIdentifier::new_unwrap("1.2.3.4")));
    e
}

fn case_no_signers() -> CmsError {
    let e = SignedData::parse(der("cms-certs-only.der")).unwrap_err();
    assert_eq!(e, CmsError::NoSigners);
    e
}

fn case_too_many_certificates() -> CmsError {
    let ci = der("cms-leaf.der");
    let leaf = der("leaf.der");
    let at_limit = rebuild(ci, Some(&[leaf; MAX_CERTIFICATES]), None);
    // At the limit the signature parses (and the repeated certificate is harmless).
    assert_eq!(SignedData::parse(&at_limit).unwrap().certificates.len(), MAX_CERTIFICATES);
    let over = rebuild(ci, Some(&[leaf; MAX_CERTIFICATES + 1]), None);
    let e = SignedData::parse(&over).unwrap_err();
    assert_eq!(e, CmsError::TooManyCertificates(MAX_CERTIFICATES + 1));
    e
}

fn case_too_many_signers() -> CmsError {
    let ci = der("cms-leaf.der");
    let one = signer_info(ci);
    let over = rebuild(ci, None, Some(&[one; MAX_SIGNERS + 1]));
    let e = SignedData::parse(&over).unwrap_err();
    assert_eq!(e, CmsError::TooManySigners(MAX_SIGNERS + 1));
    e
}

fn case_unsupported_digest() -> CmsError {
    let e = SignedData::parse(der("cms-sha224.der")).unwrap_err();
    assert_eq!(e, CmsError::UnsupportedDigest(ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4")));
    e
}

fn case_bad_certificate() -> CmsError {
    let e = verify_fixture("cms-badcert.der").unwrap_err();
    let key_usage = ObjectIdentifier::new_unwrap("2.5.29.15");
    assert_eq!(e, CmsError::BadCertificate(CertError::BadExtension(key_usage)));
    e
}

fn case_signer_certificate_missing() -> CmsError {
    let e = verify_fixture("cms-nocerts.der").unwrap_err();
    assert_eq!(e, CmsError::SignerCertificateMissing { signer: 1 });
    e
}

fn case_bad_signed_attributes() -> CmsError {
    // contentType names signedData (…7.2) instead of id-data (…7.1).
    let mut other = CONTENT_TYPE_DATA.to_vec();
    *other.last_mut().unwrap() = 2;
    let changed = replace_once(der("cms-leaf.der"), CONTENT_TYPE_DATA, &other);
    let e = SignedData::parse(&changed).unwrap_err();
    assert_eq!(e, CmsError::BadSignedAttributes("contentType is not id-data"));
    e
}

fn case_message_digest_mismatch() -> CmsError {
    let setup = Setup { content: b"another image", ..Setup::default() };
    let e = run(der("cms-leaf.der"), setup).unwrap_err();
    assert_eq!(e, CmsError::MessageDigestMismatch { signer: s("Code Signer") });
    e
}

fn case_bad_signature() -> CmsError {
    // Without signed attributes, other content shows as a signature that does not verify.
    let setup = Setup { content: b"another image", ..Setup::default() };
    let e = run(der("cms-noattr.der"), setup).unwrap_err();
    assert_eq!(e, CmsError::BadSignature { signer: s("Code Signer"), error: SignatureError::Invalid });
    e
}

fn case_untrusted() -> CmsError {
    let e = verify_fixture("cms-server.der").unwrap_err();
    assert_eq!(
        e,
        CmsError::Untrusted {
            signer: s("TLS Server"),
            error: PathError::WrongPurpose { cert: s("TLS Server"), purpose: Purpose::CodeSigning },
        }
    );
    e
}

fn case_no_signer_named() -> CmsError {
    let e = run(der("cms-two.der"), Setup { signer: Some("Nobody"), ..Setup::default() }).unwrap_err();
    assert_eq!(
        e,
        CmsError::NoSignerNamed {
            name: s("Nobody"),
            present: Vec::from([s("Code Signer"), s("P-384 Signer")])
        }
    );
    e
}

fn case_digest_not_computed() -> CmsError {
    let setup = Setup { algorithms: Some(&[HashAlgorithm::Sha384]), ..Setup::default() };
    let e = run(der("cms-leaf.der"), setup).unwrap_err();
    assert_eq!(e, CmsError::DigestNotComputed(HashAlgorithm::Sha256));
    e
}

fn case_weak_digest() -> CmsError {
    let e = verify_fixture("cms-sha1.der").unwrap_err();
    assert_eq!(e, CmsError::WeakDigest { signer: s("Code Signer") });
    e
}

fn case_content_changed() -> CmsError {
    let verified = verify_fixture("cms-leaf.der").unwrap();
    assert_eq!(verified.check_content(content()), Ok(()));
    let e =
        verified.check_content(b"bootsign unit-test image: the bytes the CMS fixtures sign!\n").unwrap_err();
    assert_eq!(e, CmsError::ContentChanged { digest: HashAlgorithm::Sha256 });
    e
}

/// A case run by the coverage tests.
type Case = (&'static str, fn() -> CmsError);

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
    empty => case_empty,
    bad_pem => case_bad_pem,
    not_der => case_not_der,
    malformed => case_malformed,
    not_signed_data => case_not_signed_data,
    attached => case_attached,
    content_type => case_content_type,
    no_signers => case_no_signers,
    too_many_certificates => case_too_many_certificates,
    too_many_signers => case_too_many_signers,
    unsupported_digest => case_unsupported_digest,
    bad_certificate => case_bad_certificate,
    signer_certificate_missing => case_signer_certificate_missing,
    bad_signed_attributes => case_bad_signed_attributes,
    message_digest_mismatch => case_message_digest_mismatch,
    bad_signature => case_bad_signature,
    untrusted => case_untrusted,
    no_signer_named => case_no_signer_named,
    digest_not_computed => case_digest_not_computed,
    weak_digest => case_weak_digest,
    content_changed => case_content_changed,
}

#[test]
fn every_variant_is_produced_by_a_case() {
    let produced: BTreeSet<&str> = CASES.iter().map(|(_, case)| variant_name(&case())).collect();
    let all: BTreeSet<&str> = ALL_VARIANTS.iter().copied().collect();
    let missing: Vec<_> = all.difference(&produced).collect();
    assert!(missing.is_empty(), "CmsError variants no fixture case produces: {missing:?}");
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

// What must verify.

#[test]
fn a_signature_with_signed_attributes_verifies_with_its_chain() {
    let verified = verify_fixture("cms-leaf.der").unwrap();
    let [signer] = verified.signers() else { panic!("one signer expected") };
    assert_eq!(signer.name, "Code Signer");
    assert_eq!(signer.digest, HashAlgorithm::Sha256);
    let subjects: Vec<&str> = signer.chain.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(subjects, ["CN=Code Signer", "CN=Test Intermediate CA", "CN=Test Root CA"]);
    assert_eq!(signer.chain[2].fingerprint, fingerprint("root.der"));
    assert_eq!(signer.chain[0].not_after, crate::test_fixtures::END_2099);
    assert_eq!(verified.content_algorithms().collect::<Vec<_>>(), [HashAlgorithm::Sha256]);
    assert_eq!(
        verified.content_digest(HashAlgorithm::Sha256),
        Some(&*HashAlgorithm::Sha256.digest(content()))
    );
    assert_eq!(verified.content_digest(HashAlgorithm::Sha384), None);
}

#[test]
fn pem_and_der_verify_alike() {
    let pem = run(der("cms-leaf.pem"), Setup::default()).unwrap();
    assert_eq!(signer_names(&pem), ["Code Signer"]);
    // Leading white space before the PEM is allowed.
    let spaced = [b"\n  ".as_slice(), der("cms-leaf.pem")].concat();
    assert!(run(&spaced, Setup::default()).is_ok());
}

#[test]
fn signers_named_by_key_identifier_verify() {
    let sd = SignedData::parse(der("cms-keyid.der")).unwrap();
    let ski = crate::test_fixtures::cert("leaf.der").subject_key_id.unwrap();
    assert_eq!(sd.signers[0].sid, SignerId::SubjectKeyId(&ski));
    assert_eq!(signer_names(&verify_fixture("cms-keyid.der").unwrap()), ["Code Signer"]);
}

#[test]
fn issuer_and_serial_signers_name_the_certificate() {
    let sd = SignedData::parse(der("cms-leaf.der")).unwrap();
    let leaf = crate::test_fixtures::cert("leaf.der");
    assert_eq!(sd.signers[0].sid, SignerId::IssuerSerial { issuer: leaf.issuer, serial: leaf.serial });
    assert!(sd.signers[0].signed_attributes.is_some());
    // The certificates in the order the signature holds them (a DER SET OF sorts them).
    let mut certificates = sd.certificates.clone();
    certificates.sort();
    let mut expected = [der("leaf.der"), der("int.der")];
    expected.sort();
    assert_eq!(certificates, expected);
}

#[test]
fn signatures_without_signed_attributes_verify() {
    let sd = SignedData::parse(der("cms-noattr.der")).unwrap();
    assert!(sd.signers[0].signed_attributes.is_none());
    assert_eq!(signer_names(&verify_fixture("cms-noattr.der").unwrap()), ["Code Signer"]);
}

#[test]
fn certificates_may_come_from_the_caller() {
    let setup = Setup { extra: &["leaf.der", "int.der", "root.der"], ..Setup::default() };
    assert_eq!(signer_names(&run(der("cms-nocerts.der"), setup).unwrap()), ["Code Signer"]);
}

#[test]
fn rsa_pss_pkcs1_and_p384_signers_verify() {
    for (name, signer, digest) in [
        ("cms-pss.der", "PSS Signer", HashAlgorithm::Sha256),
        ("cms-rsa.der", "PSS Signer", HashAlgorithm::Sha256),
        ("cms-p384.der", "P-384 Signer", HashAlgorithm::Sha384),
    ] {
        let verified = verify_fixture(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(signer_names(&verified), [signer], "{name}");
        assert_eq!(verified.signers()[0].digest, digest, "{name}");
        assert_eq!(verified.content_algorithms().collect::<Vec<_>>(), [digest], "{name}");
        // And each of them refuses other content.
        let other = Setup { content: b"other", ..Setup::default() };
        assert!(matches!(run(der(name), other), Err(CmsError::MessageDigestMismatch { .. })), "{name}");
    }
}

#[test]
fn the_pss_signer_info_names_rsassa_pss() {
    let sd = SignedData::parse(der("cms-pss.der")).unwrap();
    let scheme = signer_scheme(sd.signers[0].signature_algorithm, sd.signers[0].digest);
    assert_eq!(scheme, Ok(SignatureAlgorithm::RsaPss { hash: HashAlgorithm::Sha256, salt_len: 32 }));
    let sd = SignedData::parse(der("cms-rsa.der")).unwrap();
    let scheme = signer_scheme(sd.signers[0].signature_algorithm, sd.signers[0].digest);
    assert_eq!(scheme, Ok(SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256)));
    // rsaEncryption takes its hash from the SignerInfo's digest algorithm (RFC 3370)...
    assert_eq!(
        signer_scheme(sd.signers[0].signature_algorithm, HashAlgorithm::Sha384),
        Ok(SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha384))
    );
    // ...while RSASSA-PSS names its own, which must be the digest algorithm.
    let pss = SignedData::parse(der("cms-pss.der")).unwrap();
    assert_eq!(
        signer_scheme(pss.signers[0].signature_algorithm, HashAlgorithm::Sha384),
        Err(SignatureError::BadParameters("signature hash differs from the signer's digest algorithm"))
    );
}

#[test]
fn every_signer_must_verify_or_the_named_one() {
    let both = verify_fixture("cms-two.der").unwrap();
    assert_eq!(signer_names(&both), ["Code Signer", "P-384 Signer"]);
    let one = run(der("cms-two.der"), Setup { signer: Some("P-384 Signer"), ..Setup::default() }).unwrap();
    assert_eq!(signer_names(&one), ["P-384 Signer"]);
}

#[test]
fn sixteen_signers_are_allowed() {
    let ci = der("cms-leaf.der");
    let at_limit = rebuild(ci, None, Some(&[signer_info(ci); MAX_SIGNERS]));
    let verified = run(&at_limit, Setup::default()).unwrap();
    assert_eq!(verified.signers().len(), MAX_SIGNERS);
}

#[test]
fn signed_attributes_need_both_required_attributes() {
    // messageDigest's type changed to signingTime's (…9.5): messageDigest is then missing.
    let changed =
        replace_once(der("cms-leaf.der"), MESSAGE_DIGEST_OID, &hex_literal::hex!("06092a864886f70d010905"));
    assert_eq!(
        SignedData::parse(&changed).unwrap_err(),
        CmsError::BadSignedAttributes("messageDigest is missing")
    );
    // contentType's type changed likewise: contentType is then missing.
    let changed = replace_once(
        der("cms-leaf.der"),
        &CONTENT_TYPE_DATA[..11],
        &hex_literal::hex!("06092a864886f70d010905"),
    );
    assert_eq!(
        SignedData::parse(&changed).unwrap_err(),
        CmsError::BadSignedAttributes("contentType is missing")
    );
}

#[test]
fn a_verified_signature_checks_digests_it_recorded() {
    let verified = verify_fixture("cms-leaf.der").unwrap();
    assert_eq!(verified.check_digests(&digests(content(), [HashAlgorithm::Sha256])), Ok(()));
    // Extra digests do not matter; a missing one is an error, not a pass.
    let both = digests(content(), [HashAlgorithm::Sha384, HashAlgorithm::Sha256]);
    assert_eq!(verified.check_digests(&both), Ok(()));
    assert_eq!(
        verified.check_digests(&digests(content(), [HashAlgorithm::Sha384])),
        Err(CmsError::DigestNotComputed(HashAlgorithm::Sha256))
    );
    assert_eq!(
        verified.check_digests(&digests(b"changed", [HashAlgorithm::Sha256])),
        Err(CmsError::ContentChanged { digest: HashAlgorithm::Sha256 })
    );
    // The P-384 signer's proof is about its SHA-384 digest.
    let p384 = verify_fixture("cms-p384.der").unwrap();
    assert_eq!(p384.check_content(content()), Ok(()));
    assert_eq!(p384.check_content(b""), Err(CmsError::ContentChanged { digest: HashAlgorithm::Sha384 }));
}

#[test]
fn a_signature_from_an_untrusted_root_is_untrusted() {
    let setup = Setup { anchors: &["root2.der"], ..Setup::default() };
    assert_eq!(
        run(der("cms-leaf.der"), setup).unwrap_err(),
        CmsError::Untrusted {
            signer: s("Code Signer"),
            error: PathError::UntrustedRoot { cert: s("Test Root CA"), fingerprint: fingerprint("root.der") },
        }
    );
}
