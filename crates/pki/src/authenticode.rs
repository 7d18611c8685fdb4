//! Authenticode: the signatures embedded in PE images (EFI programs, kernels with an EFI
//! stub, unified kernel images), as UEFI Secure Boot, sbsigntools and osslsigncode
//! read them.
//!
//! Each WIN_CERTIFICATE entry of type PKCS_SIGNED_DATA holds a PKCS#7 SignedData whose
//! content is an `SpcIndirectDataContent`: `SEQUENCE { SEQUENCE { SPC_PE_IMAGE_DATA, ... },
//! DigestInfo { algorithm, image digest } }`. A signature holds for an image when its
//! DigestInfo is the image's Authenticode digest (`bootsign_pe` says which bytes) and
//! the SignedData verifies over the SpcIndirectDataContent's contents octets (its value
//! without tag and length: what the messageDigest attribute covers), with the signer's
//! path checked by [`crate::path`] as for any code signature. An image may carry several
//! signatures; it is accepted when one of them is.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use bootsign_pe::Pe;
use bootsign_pe::authenticode::{TableError, WIN_CERT_TYPE_PKCS_SIGNED_DATA};
use const_oid::ObjectIdentifier;
use der::Decode;
use spki::AlgorithmIdentifierRef;

use crate::cms::{CmsError, SignedData, Trust, Verified, verify};
use crate::der_view::{TAG_SEQUENCE, expect_tlv, read_tlv};
use crate::hash::{HashAlgorithm, MultiHasher};

/// SPC_INDIRECT_DATA_OBJID, the content type of Authenticode signatures.
pub const ID_SPC_INDIRECT_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.4");
/// SPC_PE_IMAGE_DATAOBJ: the signed data is a PE image's digest.
pub const ID_SPC_PE_IMAGE_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.15");

/// Why an image's Authenticode signature does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthenticodeError {
    /// The PE image or its certificate table is malformed.
    Image(TableError),
    /// The image carries no signature.
    Unsigned,
    /// A certificate table entry is not a PKCS#7 SignedData (another WIN_CERT type).
    UnsupportedEntry {
        /// The signature's number, from 1.
        index: usize,
        /// Its `wCertificateType`.
        certificate_type: u16,
    },
    /// The signature is not valid CMS, or does not verify, or its signer is not trusted.
    Cms {
        /// The signature's number, from 1.
        index: usize,
        /// Why.
        error: alloc::boxed::Box<CmsError>,
    },
    /// The signed content is not an SpcIndirectDataContent over PE image data.
    NotPeImageData {
        /// The signature's number, from 1.
        index: usize,
    },
    /// The SpcIndirectDataContent is malformed.
    Malformed {
        /// The signature's number, from 1.
        index: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The signature is over another image: the digest it carries is not this image's
    /// (the image was changed after signing).
    ImageDigestMismatch {
        /// The signature's number, from 1.
        index: usize,
        /// The digest algorithm.
        algorithm: HashAlgorithm,
    },
    /// The image digest uses SHA-1 (or another algorithm this code refuses).
    WeakImageDigest {
        /// The signature's number, from 1.
        index: usize,
    },
    /// Several signatures, none of which holds: each one's reason.
    NoneHolds(Vec<AuthenticodeError>),
}

impl AuthenticodeError {
    /// Whether the failure is a signer's path failing on the validation time (see
    /// [`PathError::depends_on_the_clock`](crate::PathError::depends_on_the_clock)); for
    /// several signatures, whether any did.
    pub fn depends_on_the_clock(&self) -> bool {
        match self {
            Self::Cms { error, .. } => error.depends_on_the_clock(),
            Self::NoneHolds(all) => all.iter().any(Self::depends_on_the_clock),
            _ => false,
        }
    }
}

impl fmt::Display for AuthenticodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Image(e) => write!(f, "{e}"),
            Self::Unsigned => f.write_str("the image carries no Authenticode signature"),
            Self::UnsupportedEntry { index, certificate_type } => write!(
                f,
                "signature {index}: certificate table entry of type {certificate_type:#06x}, not PKCS#7 SignedData"
            ),
            Self::Cms { index, error } => write!(f, "signature {index}: {error}"),
            Self::NotPeImageData { index } => {
                write!(f, "signature {index}: not an Authenticode signature of a PE image")
            }
            Self::Malformed { index, what } => {
                write!(f, "signature {index}: malformed SpcIndirectDataContent ({what})")
            }
            Self::ImageDigestMismatch { index, algorithm } => write!(
                f,
                "signature {index}: the image's {} digest is not the signed one: the image was changed after \
                 signing, or the signature belongs to another image",
                algorithm.name()
            ),
            Self::WeakImageDigest { index } => write!(
                f,
                "signature {index}: the image digest uses SHA-1, which is refused; sign again with SHA-256"
            ),
            Self::NoneHolds(errors) => {
                f.write_str("no signature holds: ")?;
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
        }
    }
}

impl core::error::Error for AuthenticodeError {}

impl From<TableError> for AuthenticodeError {
    fn from(e: TableError) -> Self {
        Self::Image(e)
    }
}

/// One parsed Authenticode signature.
#[derive(Clone, Debug)]
pub struct Signature<'a> {
    /// The SignedData.
    pub signed_data: SignedData<'a>,
    /// The algorithm of the image digest.
    pub digest_algorithm: HashAlgorithm,
    /// The image digest the signature carries.
    pub image_digest: &'a [u8],
    /// The SpcIndirectDataContent's contents octets: what the signers signed.
    pub signed_content: &'a [u8],
}

impl<'a> Signature<'a> {
    /// Parses the DER of one certificate table entry (`index` from 1, for messages). Zero
    /// padding after the DER, which the entry's length may include, is ignored.
    pub fn parse(entry: &'a [u8], index: usize) -> Result<Self, AuthenticodeError> {
        let cms = |error| AuthenticodeError::Cms { index, error: alloc::boxed::Box::new(error) };
        let malformed = |what| AuthenticodeError::Malformed { index, what };
        // The entry may be padded to 8 bytes: take exactly one DER element.
        let (outer, padding) = read_tlv(entry).map_err(|_| cms(CmsError::Malformed("bad DER framing")))?;
        if padding.iter().any(|&b| b != 0) {
            return Err(cms(CmsError::Malformed("data after the signature")));
        }
        let signed_data =
            SignedData::parse_attached(outer.raw, ID_SPC_INDIRECT_DATA).map_err(|e| match e {
                CmsError::ContentType(_) => AuthenticodeError::NotPeImageData { index },
                e => cms(e),
            })?;
        let content = signed_data.content.ok_or(malformed("no content"))?;
        // SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue,
        //                                        messageDigest DigestInfo }
        let (indirect, rest) = expect_tlv(content, TAG_SEQUENCE).map_err(|_| malformed("not a SEQUENCE"))?;
        if !rest.is_empty() {
            return Err(malformed("data after it"));
        }
        let (data, rest) = expect_tlv(indirect.value, TAG_SEQUENCE).map_err(|_| malformed("bad data"))?;
        let (kind, _) = read_tlv(data.value).map_err(|_| malformed("bad data type"))?;
        let kind = ObjectIdentifier::from_der(kind.raw).map_err(|_| malformed("bad data type"))?;
        if kind != ID_SPC_PE_IMAGE_DATA {
            return Err(AuthenticodeError::NotPeImageData { index });
        }
        let (digest_info, rest) = expect_tlv(rest, TAG_SEQUENCE).map_err(|_| malformed("bad DigestInfo"))?;
        if !rest.is_empty() {
            return Err(malformed("data after the DigestInfo"));
        }
        let (alg, rest) = read_tlv(digest_info.value).map_err(|_| malformed("bad DigestInfo"))?;
        let alg = AlgorithmIdentifierRef::from_der(alg.raw).map_err(|_| malformed("bad digest algorithm"))?;
        let digest_algorithm =
            HashAlgorithm::from_oid(&alg.oid).ok_or(cms(CmsError::UnsupportedDigest(alg.oid)))?;
        let (digest, rest) = expect_tlv(rest, 0x04).map_err(|_| malformed("bad digest"))?;
        if !rest.is_empty() || digest.value.len() != digest_algorithm.output_len() {
            return Err(malformed("the digest has the wrong length"));
        }
        Ok(Self { signed_data, digest_algorithm, image_digest: digest.value, signed_content: indirect.value })
    }
}

/// The Authenticode digest of the PE image `image` under `algorithm`.
pub fn image_digest(image: &[u8], algorithm: HashAlgorithm) -> Result<Vec<u8>, TableError> {
    let pe = Pe::parse(image)?;
    let mut hasher = MultiHasher::new([algorithm]);
    for r in pe.authenticode_ranges()? {
        hasher.update(&image[r]);
    }
    Ok(hasher.finish().get(algorithm).expect("computed").to_vec())
}

/// The signatures `image` carries, in table order (DER, each possibly followed by the
/// entry's zero padding).
pub fn signatures(image: &[u8]) -> Result<Vec<&[u8]>, AuthenticodeError> {
    let pe = Pe::parse(image).map_err(TableError::Pe)?;
    let entries = pe.certificates()?;
    if entries.is_empty() {
        return Err(AuthenticodeError::Unsigned);
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if e.certificate_type == WIN_CERT_TYPE_PKCS_SIGNED_DATA {
                Ok(e.data)
            } else {
                Err(AuthenticodeError::UnsupportedEntry {
                    index: i + 1,
                    certificate_type: e.certificate_type,
                })
            }
        })
        .collect()
}

/// Checks one parsed signature (number `index`) against the image digest and `trust`.
fn verify_one(
    image: &[u8],
    sig: &Signature<'_>,
    index: usize,
    trust: &Trust<'_>,
    signer: Option<&str>,
) -> Result<Verified, AuthenticodeError> {
    if sig.digest_algorithm == HashAlgorithm::Sha1 {
        return Err(AuthenticodeError::WeakImageDigest { index });
    }
    let actual = image_digest(image, sig.digest_algorithm)?;
    if actual != sig.image_digest {
        return Err(AuthenticodeError::ImageDigestMismatch { index, algorithm: sig.digest_algorithm });
    }
    let mut hasher = MultiHasher::new(sig.signed_data.digest_algorithms());
    hasher.update(sig.signed_content);
    let verified = verify(&sig.signed_data, &hasher.finish(), trust, signer)
        .map_err(|error| AuthenticodeError::Cms { index, error: alloc::boxed::Box::new(error) })?;
    Ok(verified.for_pe_image(sig.digest_algorithm, &actual))
}

/// Verifies the PE image `image` by its embedded signatures: the first that holds (its
/// digest is this image's, it verifies, and its signer chains to `trust` for code
/// signing; named `signer` if given) gives the proof, which covers the image's
/// Authenticode digest. Returns the proof and the signature's number (from 1).
pub fn verify_image(
    image: &[u8],
    trust: &Trust<'_>,
    signer: Option<&str>,
) -> Result<(Verified, usize), AuthenticodeError> {
    // Every entry must be a well-formed signature, whichever one holds: the table lies
    // outside the digest, and nothing unread may travel with a verified image.
    let parsed = signatures(image)?
        .into_iter()
        .enumerate()
        .map(|(i, der)| Signature::parse(der, i + 1))
        .collect::<Result<Vec<_>, _>>()?;
    let mut errors = Vec::new();
    for (i, sig) in parsed.iter().enumerate() {
        let index = i + 1;
        let result = verify_one(image, sig, index, trust, signer);
        match result {
            Ok(v) => return Ok((v, index)),
            Err(e) => errors.push(e),
        }
    }
    Err(if errors.len() == 1 { errors.pop().expect("one") } else { AuthenticodeError::NoneHolds(errors) })
}

/// A one-line description of each signature an image carries (signer subject, digest),
/// without checking trust: for `inspect`.
pub fn describe(image: &[u8]) -> Result<Vec<String>, AuthenticodeError> {
    let mut out = Vec::new();
    for (i, der) in signatures(image)?.into_iter().enumerate() {
        let index = i + 1;
        let sig = Signature::parse(der, index)?;
        let mut signers = Vec::new();
        for s in &sig.signed_data.signers {
            let name = sig
                .signed_data
                .certificates
                .iter()
                .filter_map(|d| crate::Cert::parse(d).ok())
                .find(|c| s.sid.identifies(c))
                .map(|c| alloc::string::ToString::to_string(&crate::text::escape(&c.subject_text)))
                .unwrap_or_else(|| String::from("(signer certificate not included)"));
            signers.push(name);
        }
        let matches =
            image_digest(image, sig.digest_algorithm).map(|d| d == sig.image_digest).unwrap_or(false);
        out.push(alloc::format!(
            "{} by {}{}",
            sig.digest_algorithm.name(),
            signers.join(", "),
            if matches { "" } else { " (does NOT match this image)" }
        ));
    }
    Ok(out)
}
