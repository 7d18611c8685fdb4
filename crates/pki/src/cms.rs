//! CMS SignedData (RFC 5652): parsing and verifying detached signatures over content that
//! the caller hashes as it streams past.
//!
//! Accepted: DER (or PEM `CMS`/`PKCS7` around DER), a detached `id-data` content, signers
//! identified by issuer and serial number or by subject key identifier, with or without
//! signed attributes (when present, contentType must be id-data and messageDigest must
//! equal the content's digest), digests SHA-256/384/512 (SHA-1 is parsed, and refused at
//! verification with its own message), and signature algorithms
//! rsaEncryption, sha*WithRSAEncryption, RSASSA-PSS and ecdsa-with-SHA*. Each signer's
//! certificate must chain to a trusted fingerprint for code signing (see [`crate::path`]).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Decode;
use spki::AlgorithmIdentifierRef;

use crate::cert::{Cert, CertError};
use crate::crl::Revocation;
use crate::der_view::{DerError, TAG_INTEGER, TAG_SEQUENCE, Tlv, expect_tlv, read_tlv};
use crate::fingerprint::Fingerprint;
use crate::hash::{Digests, HashAlgorithm, MultiHasher};
use crate::names::cert_has_name;
use crate::path::{PathError, Policy, Purpose, verify_path};
use crate::signature::{PublicKey, SignatureAlgorithm, SignatureError};
use crate::text::escape;

/// Most certificates a signature may carry: real ones carry the signer and its chain, a
/// handful; thousands only make verification slow.
pub const MAX_CERTIFICATES: usize = 256;
/// Most signers a signature may have.
pub const MAX_SIGNERS: usize = 16;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

const TAG_SET: u8 = 0x31;
const TAG_OID: u8 = 0x06;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_CTX0_CONS: u8 = 0xa0;
const TAG_CTX1_CONS: u8 = 0xa1;
const TAG_CTX0_PRIM: u8 = 0x80;

/// Why a signature was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CmsError {
    /// Empty input.
    Empty,
    /// Not PEM-wrapped CMS or the PEM is damaged.
    BadPem(String),
    /// Indefinite-length (BER) encoding, which `openssl cms -stream` makes.
    NotDer,
    /// The structure is not a CMS SignedData, or it is truncated or damaged.
    Malformed(&'static str),
    /// It is a different kind of CMS object.
    NotSignedData(ObjectIdentifier),
    /// The signature carries the content instead of being detached.
    Attached,
    /// The signed content type is not id-data.
    ContentType(ObjectIdentifier),
    /// There is no signer.
    NoSigners,
    /// More certificates than [`MAX_CERTIFICATES`].
    TooManyCertificates(usize),
    /// More signers than [`MAX_SIGNERS`].
    TooManySigners(usize),
    /// A digest algorithm that is not supported.
    UnsupportedDigest(ObjectIdentifier),
    /// A certificate inside the signature is malformed.
    BadCertificate(CertError),
    /// The signer's certificate is neither inside the signature nor supplied.
    SignerCertificateMissing {
        /// Signer index, from 1.
        signer: usize,
    },
    /// The signed attributes lack a required attribute or hold a wrong one.
    BadSignedAttributes(&'static str),
    /// The signed attributes' messageDigest is not the content's digest: the content
    /// is not what was signed.
    MessageDigestMismatch {
        /// The signer.
        signer: String,
    },
    /// The signature value does not verify: the content (or signature) was changed, or it
    /// is a signature of another file.
    BadSignature {
        /// The signer.
        signer: String,
        /// Detail.
        error: SignatureError,
    },
    /// The signer's certificate does not chain to a trusted anchor or is not acceptable.
    Untrusted {
        /// The signer.
        signer: String,
        /// Which check failed on which certificate.
        error: PathError,
    },
    /// `--signer NAME` matched no signer.
    NoSignerNamed {
        /// The name asked for.
        name: String,
        /// The signers present.
        present: Vec<String>,
    },
    /// The caller did not supply the content digest this signer needs.
    DigestNotComputed(HashAlgorithm),
    /// The signer hashed the content with SHA-1, which is broken (chosen-prefix
    /// collisions): a signature over one file could be made to cover another.
    WeakDigest {
        /// The signer.
        signer: String,
    },
    /// Bytes checked against a [`Verified`] are not the content it verified: they changed
    /// after verification (or are another image's).
    ContentChanged {
        /// The digest compared.
        digest: HashAlgorithm,
    },
}

impl CmsError {
    /// Whether the failure is the signer's path failing on the validation time (see
    /// [`PathError::depends_on_the_clock`]).
    pub fn depends_on_the_clock(&self) -> bool {
        matches!(self, Self::Untrusted { error, .. } if error.depends_on_the_clock())
    }
}

impl fmt::Display for CmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the signature is empty"),
            Self::BadPem(e) => write!(f, "the signature is not valid PEM: {e}"),
            Self::NotDer => f.write_str(
                "the signature uses indefinite-length BER, not DER; make it with -outform DER and without -stream",
            ),
            Self::Malformed(what) => write!(f, "the signature is not a valid CMS SignedData ({what})"),
            Self::NotSignedData(oid) => write!(f, "the CMS object is {oid}, not SignedData"),
            Self::Attached => f.write_str("the signature carries its content (not detached); sign with a detached signature"),
            Self::ContentType(oid) => write!(f, "the signed content type is {oid}, not id-data"),
            Self::NoSigners => f.write_str("the signature has no signer"),
            Self::TooManyCertificates(n) => write!(
                f,
                "the signature carries {n} certificates; more than {MAX_CERTIFICATES} are refused (a signer and its chain need a few)"
            ),
            Self::TooManySigners(n) => {
                write!(f, "the signature has {n} signers; more than {MAX_SIGNERS} are refused")
            }
            Self::UnsupportedDigest(oid) => {
                write!(f, "unsupported digest algorithm {}", crate::signature::oid_name(oid))
            }
            Self::BadCertificate(e) => write!(f, "a certificate inside the signature is bad: {e}"),
            Self::SignerCertificateMissing { signer } => {
                write!(f, "the certificate of signer {signer} is not in the signature and was not supplied")
            }
            Self::BadSignedAttributes(what) => write!(f, "bad signed attributes: {what}"),
            Self::MessageDigestMismatch { signer } => write!(
                f,
                "the content does not match the signature by \"{signer}\" (messageDigest differs): \
                 the file was changed, or this is the signature of another file",
                signer = escape(signer)
            ),
            Self::BadSignature { signer, error } => write!(
                f,
                "the signature by \"{signer}\" does not verify ({error}): the file or the signature \
                 was changed, or this is the signature of another file",
                signer = escape(signer)
            ),
            Self::Untrusted { signer, error } => {
                write!(f, "signer \"{signer}\" is not trusted: {error}", signer = escape(signer))
            }
            Self::NoSignerNamed { name, present } => {
                let present: Vec<String> = present.iter().map(|p| escape(p).to_string()).collect();
                write!(f, "no signer is named \"{name}\" (signers: {})", present.join(", "), name = escape(name))
            }
            Self::DigestNotComputed(alg) => write!(f, "the content's {} digest was not computed", alg.name()),
            Self::WeakDigest { signer } => write!(
                f,
                "the signature by \"{signer}\" uses SHA-1, which is refused; sign again with SHA-256 \
                 (bootsign sign, or openssl cms -sign -md sha256)",
                signer = escape(signer)
            ),
            Self::ContentChanged { digest } => write!(
                f,
                "the bytes are not those whose signature verified ({} digest differs): \
                 they changed after verification",
                digest.name()
            ),
        }
    }
}

fn der_err(e: DerError) -> CmsError {
    match e {
        DerError::BadLength => CmsError::NotDer,
        _ => CmsError::Malformed("bad DER framing"),
    }
}

/// How a signer names its certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignerId<'a> {
    /// Issuer `Name` (raw DER) and serial number content octets.
    IssuerSerial {
        /// Raw issuer name.
        issuer: &'a [u8],
        /// Serial number INTEGER content.
        serial: &'a [u8],
    },
    /// subjectKeyIdentifier.
    SubjectKeyId(&'a [u8]),
}

impl SignerId<'_> {
    /// Whether `cert` is the certificate this identifier names.
    pub fn identifies(&self, cert: &Cert<'_>) -> bool {
        match *self {
            SignerId::IssuerSerial { issuer, serial } => cert.issuer == issuer && cert.serial == serial,
            SignerId::SubjectKeyId(ski) => cert.subject_key_id.as_deref() == Some(ski),
        }
    }
}

/// Signed attributes, checked for shape.
#[derive(Clone, Debug)]
pub struct SignedAttributes<'a> {
    /// The attributes re-tagged as the DER `SET OF` that was signed.
    pub signed_bytes: Vec<u8>,
    /// The messageDigest value.
    pub message_digest: &'a [u8],
}

/// One SignerInfo.
#[derive(Clone, Debug)]
pub struct SignerInfo<'a> {
    /// How the signer's certificate is identified.
    pub sid: SignerId<'a>,
    /// The content digest algorithm.
    pub digest: HashAlgorithm,
    /// Signed attributes, when present.
    pub signed_attributes: Option<SignedAttributes<'a>>,
    /// The signature algorithm, DER.
    pub signature_algorithm: &'a [u8],
    /// The signature value.
    pub signature: &'a [u8],
}

/// A parsed SignedData: with a detached id-data content ([`SignedData::parse`]), or with
/// the content it carries ([`SignedData::parse_attached`], as Authenticode signatures do).
#[derive(Clone, Debug)]
pub struct SignedData<'a> {
    /// The certificates carried in the signature (raw DER, in order).
    pub certificates: Vec<&'a [u8]>,
    /// The signers.
    pub signers: Vec<SignerInfo<'a>>,
    /// The encapsulated content (the `[0] EXPLICIT` element's DER), when attached.
    pub content: Option<&'a [u8]>,
}

/// Unwraps PEM (`CMS` or `PKCS7`) if `input` is PEM, else returns it as DER.
pub fn decode_pem_or_der(input: &[u8]) -> Result<alloc::borrow::Cow<'_, [u8]>, CmsError> {
    let trimmed = input.trim_ascii_start();
    if trimmed.is_empty() {
        return Err(CmsError::Empty);
    }
    if !trimmed.starts_with(b"-----BEGIN ") {
        return Ok(alloc::borrow::Cow::Borrowed(input));
    }
    let (label, der) = pem_rfc7468::decode_vec(trimmed).map_err(|e| CmsError::BadPem(e.to_string()))?;
    if label != "CMS" && label != "PKCS7" {
        return Err(CmsError::BadPem(alloc::format!("PEM label is {label}, expected CMS or PKCS7")));
    }
    Ok(alloc::borrow::Cow::Owned(der))
}

fn oid(tlv: &Tlv<'_>) -> Result<ObjectIdentifier, CmsError> {
    if tlv.tag != TAG_OID {
        return Err(CmsError::Malformed("expected an object identifier"));
    }
    ObjectIdentifier::from_bytes(tlv.value).map_err(|_| CmsError::Malformed("bad object identifier"))
}

fn digest_algorithm(raw: &[u8]) -> Result<HashAlgorithm, CmsError> {
    let alg =
        AlgorithmIdentifierRef::from_der(raw).map_err(|_| CmsError::Malformed("bad digest algorithm"))?;
    HashAlgorithm::from_oid(&alg.oid).ok_or(CmsError::UnsupportedDigest(alg.oid))
}

/// Iterates the elements of a constructed value.
fn elements(mut value: &[u8]) -> impl Iterator<Item = Result<Tlv<'_>, CmsError>> {
    core::iter::from_fn(move || {
        if value.is_empty() {
            return None;
        }
        Some(
            read_tlv(value)
                .map(|(tlv, rest)| {
                    value = rest;
                    tlv
                })
                .map_err(der_err),
        )
    })
}

impl<'a> SignedData<'a> {
    /// Parses a DER ContentInfo holding a detached SignedData over id-data.
    pub fn parse(der: &'a [u8]) -> Result<Self, CmsError> {
        Self::parse_typed(der, ID_DATA, false)
    }

    /// Parses a DER ContentInfo holding a SignedData that carries its content, of type
    /// `content_type` (which the signed attributes must name too).
    pub fn parse_attached(der: &'a [u8], content_type: ObjectIdentifier) -> Result<Self, CmsError> {
        Self::parse_typed(der, content_type, true)
    }

    fn parse_typed(der: &'a [u8], expected: ObjectIdentifier, attached: bool) -> Result<Self, CmsError> {
        if der.is_empty() {
            return Err(CmsError::Empty);
        }
        let (content_info, rest) = expect_tlv(der, TAG_SEQUENCE).map_err(der_err)?;
        if !rest.is_empty() {
            return Err(CmsError::Malformed("data after the signature"));
        }
        let (ctype, rest) = read_tlv(content_info.value).map_err(der_err)?;
        let ctype = oid(&ctype)?;
        if ctype != ID_SIGNED_DATA {
            return Err(CmsError::NotSignedData(ctype));
        }
        let (explicit, _) = expect_tlv(rest, TAG_CTX0_CONS).map_err(der_err)?;
        let (signed_data, _) = expect_tlv(explicit.value, TAG_SEQUENCE).map_err(der_err)?;

        let (_version, body) = expect_tlv(signed_data.value, TAG_INTEGER).map_err(der_err)?;
        let (digest_algs, body) = expect_tlv(body, TAG_SET).map_err(der_err)?;
        for alg in elements(digest_algs.value) {
            // Unknown algorithms listed here matter only if a signer uses one.
            let _ = alg?;
        }
        let (encap, mut body) = expect_tlv(body, TAG_SEQUENCE).map_err(der_err)?;
        let (etype, econtent) = read_tlv(encap.value).map_err(der_err)?;
        let etype = oid(&etype)?;
        let content = if attached {
            if econtent.is_empty() {
                return Err(CmsError::Malformed("the signed content is missing"));
            }
            let (explicit, rest) = expect_tlv(econtent, TAG_CTX0_CONS).map_err(der_err)?;
            if !rest.is_empty() {
                return Err(CmsError::Malformed("data after the signed content"));
            }
            Some(explicit.value)
        } else {
            if !econtent.is_empty() {
                return Err(CmsError::Attached);
            }
            None
        };
        if etype != expected {
            return Err(CmsError::ContentType(etype));
        }

        let mut certificates = Vec::new();
        let (mut next, mut after) = read_tlv(body).map_err(der_err)?;
        if next.tag == TAG_CTX0_CONS {
            let count = elements(next.value).take_while(Result::is_ok).count();
            if count > MAX_CERTIFICATES {
                return Err(CmsError::TooManyCertificates(count));
            }
            for cert in elements(next.value) {
                let cert = cert?;
                // Only plain certificates are taken; attribute certificates and other
                // choices carry nothing a signer can use.
                if cert.tag == TAG_SEQUENCE {
                    certificates.push(cert.raw);
                }
            }
            body = after;
            (next, after) = read_tlv(body).map_err(der_err)?;
        }
        if next.tag == TAG_CTX1_CONS {
            body = after;
            (next, after) = read_tlv(body).map_err(der_err)?;
        }
        if next.tag != TAG_SET {
            return Err(CmsError::Malformed("missing signerInfos"));
        }
        if !after.is_empty() {
            return Err(CmsError::Malformed("data after signerInfos"));
        }
        let count = elements(next.value).take_while(Result::is_ok).count();
        if count > MAX_SIGNERS {
            return Err(CmsError::TooManySigners(count));
        }
        let signers =
            elements(next.value).map(|s| Self::signer(s?, expected)).collect::<Result<Vec<_>, _>>()?;
        if signers.is_empty() {
            return Err(CmsError::NoSigners);
        }
        Ok(Self { certificates, signers, content })
    }

    fn signer(tlv: Tlv<'a>, content_type: ObjectIdentifier) -> Result<SignerInfo<'a>, CmsError> {
        if tlv.tag != TAG_SEQUENCE {
            return Err(CmsError::Malformed("signerInfo is not a SEQUENCE"));
        }
        let (_version, body) = expect_tlv(tlv.value, TAG_INTEGER).map_err(der_err)?;
        let (sid, body) = read_tlv(body).map_err(der_err)?;
        let sid = match sid.tag {
            TAG_SEQUENCE => {
                let (issuer, rest) = expect_tlv(sid.value, TAG_SEQUENCE).map_err(der_err)?;
                let (serial, rest) = expect_tlv(rest, TAG_INTEGER).map_err(der_err)?;
                if !rest.is_empty() {
                    return Err(CmsError::Malformed("bad issuerAndSerialNumber"));
                }
                SignerId::IssuerSerial { issuer: issuer.raw, serial: serial.value }
            }
            TAG_CTX0_PRIM => SignerId::SubjectKeyId(sid.value),
            _ => return Err(CmsError::Malformed("bad signer identifier")),
        };
        let (digest, body) = expect_tlv(body, TAG_SEQUENCE).map_err(der_err)?;
        let digest = digest_algorithm(digest.raw)?;
        let (mut next, mut body) = read_tlv(body).map_err(der_err)?;
        let mut signed_attributes = None;
        if next.tag == TAG_CTX0_CONS {
            signed_attributes = Some(Self::signed_attributes(next, content_type)?);
            (next, body) = read_tlv(body).map_err(der_err)?;
        }
        if next.tag != TAG_SEQUENCE {
            return Err(CmsError::Malformed("missing signatureAlgorithm"));
        }
        let signature_algorithm = next.raw;
        let (signature, rest) = expect_tlv(body, TAG_OCTET_STRING).map_err(der_err)?;
        if !rest.is_empty() {
            let (unsigned, rest) = expect_tlv(rest, TAG_CTX1_CONS).map_err(der_err)?;
            let _ = unsigned;
            if !rest.is_empty() {
                return Err(CmsError::Malformed("data after signerInfo"));
            }
        }
        Ok(SignerInfo { sid, digest, signed_attributes, signature_algorithm, signature: signature.value })
    }

    fn signed_attributes(tlv: Tlv<'a>, expected: ObjectIdentifier) -> Result<SignedAttributes<'a>, CmsError> {
        let mut content_type = None;
        let mut message_digest = None;
        for attr in elements(tlv.value) {
            let attr = attr?;
            if attr.tag != TAG_SEQUENCE {
                return Err(CmsError::Malformed("attribute is not a SEQUENCE"));
            }
            let (kind, rest) = read_tlv(attr.value).map_err(der_err)?;
            let kind = oid(&kind)?;
            let (values, _) = expect_tlv(rest, TAG_SET).map_err(der_err)?;
            let mut vals = elements(values.value);
            let first = vals.next().transpose()?;
            let single = first.filter(|_| vals.next().is_none());
            match kind {
                ID_CONTENT_TYPE => {
                    if content_type.is_some() {
                        return Err(CmsError::BadSignedAttributes("contentType appears twice"));
                    }
                    let v = single.ok_or(CmsError::BadSignedAttributes("contentType needs one value"))?;
                    content_type = Some(oid(&v)?);
                }
                ID_MESSAGE_DIGEST => {
                    if message_digest.is_some() {
                        return Err(CmsError::BadSignedAttributes("messageDigest appears twice"));
                    }
                    let v = single.ok_or(CmsError::BadSignedAttributes("messageDigest needs one value"))?;
                    if v.tag != TAG_OCTET_STRING {
                        return Err(CmsError::BadSignedAttributes("messageDigest is not an OCTET STRING"));
                    }
                    message_digest = Some(v.value);
                }
                _ => {}
            }
        }
        match content_type {
            Some(t) if t == expected => {}
            Some(_) if expected == ID_DATA => {
                return Err(CmsError::BadSignedAttributes("contentType is not id-data"));
            }
            Some(_) => {
                return Err(CmsError::BadSignedAttributes("contentType is not the signed content's type"));
            }
            None => return Err(CmsError::BadSignedAttributes("contentType is missing")),
        }
        let message_digest =
            message_digest.ok_or(CmsError::BadSignedAttributes("messageDigest is missing"))?;
        let mut signed_bytes = tlv.raw.to_vec();
        signed_bytes[0] = TAG_SET;
        Ok(SignedAttributes { signed_bytes, message_digest })
    }

    /// The digest algorithms the signers need over the content.
    pub fn digest_algorithms(&self) -> Vec<HashAlgorithm> {
        let mut out = Vec::new();
        for s in &self.signers {
            if !out.contains(&s.digest) {
                out.push(s.digest);
            }
        }
        out
    }
}

/// The signature scheme a SignerInfo uses, given its digest algorithm.
fn signer_scheme(raw: &[u8], digest: HashAlgorithm) -> Result<SignatureAlgorithm, SignatureError> {
    let alg = AlgorithmIdentifierRef::from_der(raw)
        .map_err(|_| SignatureError::BadParameters("malformed AlgorithmIdentifier"))?;
    let scheme = match alg.oid {
        // RFC 5652/3370: the digest comes from the SignerInfo.
        rfc5912::RSA_ENCRYPTION => SignatureAlgorithm::RsaPkcs1(digest),
        rfc5912::ID_EC_PUBLIC_KEY => SignatureAlgorithm::Ecdsa(digest),
        _ => SignatureAlgorithm::from_identifier(&alg)?,
    };
    if scheme.hash() != digest {
        return Err(SignatureError::BadParameters(
            "signature hash differs from the signer's digest algorithm",
        ));
    }
    Ok(scheme)
}

/// One certificate of a verified chain, for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainEntry {
    /// Subject, RFC 4514 text.
    pub subject: String,
    /// SHA-256 fingerprint.
    pub fingerprint: Fingerprint,
    /// notAfter.
    pub not_after: u64,
}

/// A signer whose signature and certificate path verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSigner {
    /// The signer's name (CN, else subject).
    pub name: String,
    /// The digest algorithm used.
    pub digest: HashAlgorithm,
    /// The path, signer first, trusted anchor last.
    pub chain: Vec<ChainEntry>,
}

/// Proof that a signature verified over particular content: only [`verify`] constructs
/// it, and it records the content's digest under each algorithm a verified signer used,
/// so whoever acts on the proof can check that the bytes in hand are still those bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    signers: Vec<VerifiedSigner>,
    /// (algorithm, digest of the content), one per algorithm, strongest first.
    content: Vec<(HashAlgorithm, Vec<u8>)>,
    covers: Covers,
}

/// What the digests a [`Verified`] records are digests of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Covers {
    /// The content's bytes, all of them (a detached CMS signature).
    Content,
    /// A PE image's Authenticode digest: its bytes without the checksum, the certificate
    /// table and the table's directory entry (`bootsign_pe::Pe::authenticode_ranges`).
    PeImage,
}

impl Verified {
    /// The signers that were checked and accepted.
    pub fn signers(&self) -> &[VerifiedSigner] {
        &self.signers
    }

    /// What the recorded digests cover.
    pub fn covers(&self) -> Covers {
        self.covers
    }

    /// The same proof, now about a PE image whose Authenticode digest under `algorithm` is
    /// `digest` (the signature covered that digest, inside its SpcIndirectDataContent).
    pub(crate) fn for_pe_image(self, algorithm: HashAlgorithm, digest: &[u8]) -> Self {
        Self {
            signers: self.signers,
            content: alloc::vec![(algorithm, digest.to_vec())],
            covers: Covers::PeImage,
        }
    }

    /// The digest algorithms the content was verified under, strongest first.
    pub fn content_algorithms(&self) -> impl Iterator<Item = HashAlgorithm> + '_ {
        self.content.iter().map(|(a, _)| *a)
    }

    /// The digest of the verified content under `alg`, if a verified signer used it.
    pub fn content_digest(&self, alg: HashAlgorithm) -> Option<&[u8]> {
        self.content.iter().find(|(a, _)| *a == alg).map(|(_, d)| d.as_slice())
    }

    /// Checks that `digests` (of the bytes about to be used) are those of the verified
    /// content, under every algorithm the verification used. A digest the caller did not
    /// compute is an error, not a pass.
    pub fn check_digests(&self, digests: &Digests) -> Result<(), CmsError> {
        for (alg, expected) in &self.content {
            let actual = digests.get(*alg).ok_or(CmsError::DigestNotComputed(*alg))?;
            if actual != expected.as_slice() {
                return Err(CmsError::ContentChanged { digest: *alg });
            }
        }
        Ok(())
    }

    /// Checks that `content` is the verified content (for a PE image, that its
    /// Authenticode digest is the signed one), hashing it in software.
    pub fn check_content(&self, content: &[u8]) -> Result<(), CmsError> {
        let mut hasher = MultiHasher::new(self.content_algorithms());
        match self.covers {
            Covers::Content => hasher.update(content),
            Covers::PeImage => {
                let ranges = bootsign_pe::Pe::parse(content)
                    .map_err(|_| CmsError::ContentChanged { digest: self.content[0].0 })?
                    .authenticode_ranges()
                    .map_err(|_| CmsError::ContentChanged { digest: self.content[0].0 })?;
                for r in ranges {
                    hasher.update(&content[r]);
                }
            }
        }
        self.check_digests(&hasher.finish())
    }
}

/// What a signature is checked against.
#[derive(Clone, Copy, Debug)]
pub struct Trust<'t> {
    /// Trusted certificate fingerprints.
    pub anchors: &'t [Fingerprint],
    /// Certificates that may complete a path (trusted ones included), besides those in
    /// the signature.
    pub extra_certs: &'t [&'t [u8]],
    /// The time to check validity at, seconds since the epoch.
    pub time: u64,
    /// The CRLs the signer's path is checked against.
    pub revocation: Revocation<'t>,
}

/// Verifies `sd` over content whose digests are `digests`. Without `signer_name`, every
/// signer must verify; with it, every signer carrying that name must, and there must be
/// at least one.
pub fn verify(
    sd: &SignedData<'_>,
    digests: &Digests,
    trust: &Trust<'_>,
    signer_name: Option<&str>,
) -> Result<Verified, CmsError> {
    // One copy of each certificate, found by its DER in a sorted set: linear in the
    // material, however much of it is repeated.
    let mut seen = alloc::collections::BTreeSet::new();
    let mut pool: Vec<Cert<'_>> = Vec::new();
    for der in sd.certificates.iter().chain(trust.extra_certs.iter()) {
        if seen.insert(*der) {
            pool.push(Cert::parse(der).map_err(CmsError::BadCertificate)?);
        }
    }
    let mut present = Vec::new();
    let mut verified = Vec::new();
    for (i, signer) in sd.signers.iter().enumerate() {
        let cert = pool
            .iter()
            .find(|c| signer.sid.identifies(c))
            .ok_or(CmsError::SignerCertificateMissing { signer: i + 1 })?;
        let name = cert.display_name().to_string();
        present.push(name.clone());
        if signer_name.is_some_and(|n| !cert_has_name(cert, n)) {
            continue;
        }
        if signer.digest == HashAlgorithm::Sha1 {
            return Err(CmsError::WeakDigest { signer: name });
        }
        let content_digest = digests.get(signer.digest).ok_or(CmsError::DigestNotComputed(signer.digest))?;
        let signed_digest = match &signer.signed_attributes {
            Some(attrs) => {
                if attrs.message_digest != content_digest {
                    return Err(CmsError::MessageDigestMismatch { signer: name });
                }
                signer.digest.digest(&attrs.signed_bytes)
            }
            None => content_digest.to_vec(),
        };
        let check = || -> Result<(), SignatureError> {
            let scheme = signer_scheme(signer.signature_algorithm, signer.digest)?;
            PublicKey::from_spki_der(cert.spki)?.verify_digest(scheme, &signed_digest, signer.signature)
        };
        check().map_err(|error| CmsError::BadSignature { signer: name.clone(), error })?;
        let policy = Policy {
            purpose: Purpose::CodeSigning,
            time: trust.time,
            server_name: None,
            revocation: trust.revocation,
        };
        let path = verify_path(cert, &pool, trust.anchors, &policy)
            .map_err(|error| CmsError::Untrusted { signer: name.clone(), error })?;
        verified.push(VerifiedSigner {
            name,
            digest: signer.digest,
            chain: path
                .chain()
                .iter()
                .map(|c| ChainEntry {
                    subject: c.subject_text.clone(),
                    fingerprint: c.fingerprint(),
                    not_after: c.not_after,
                })
                .collect(),
        });
    }
    if verified.is_empty() {
        return Err(CmsError::NoSignerNamed { name: signer_name.unwrap_or_default().to_string(), present });
    }
    let mut content: Vec<(HashAlgorithm, Vec<u8>)> = Vec::new();
    for s in &verified {
        if !content.iter().any(|(a, _)| *a == s.digest) {
            let digest = digests.get(s.digest).ok_or(CmsError::DigestNotComputed(s.digest))?;
            content.push((s.digest, digest.to_vec()));
        }
    }
    content.sort_by_key(|(a, _)| core::cmp::Reverse(a.output_len()));
    Ok(Verified { signers: verified, content, covers: Covers::Content })
}

#[cfg(test)]
mod tests;
