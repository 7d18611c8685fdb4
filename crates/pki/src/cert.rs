//! A checked view of one X.509 certificate.
//!
//! [`Cert::parse`] decodes the whole certificate once (strict DER, through `x509-cert`)
//! and keeps the raw slices that signatures and name chaining compare byte for byte.
//! Extensions are interpreted here; any critical extension this crate does not
//! enforce is recorded so that path validation can refuse the certificate. Enforced:
//! basicConstraints, keyUsage, extendedKeyUsage, subjectAltName, nameConstraints (and the
//! key identifiers, which only guide path building).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use const_oid::ObjectIdentifier;
use const_oid::db::{rfc4519, rfc5280};
use der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
    SubjectKeyIdentifier,
};

use crate::constraints::{NameConstraints, NameForm};
use crate::der_view::{DerError, SignedObject, TbsFields};
use crate::fingerprint::Fingerprint;
use crate::signature::{PublicKey, SignatureAlgorithm, SignatureError};

/// keyUsage bits (RFC 5280 §4.2.1.3), as `x509-cert` numbers them.
pub mod key_usage {
    /// digitalSignature.
    pub const DIGITAL_SIGNATURE: u16 = 1 << 0;
    /// keyEncipherment.
    pub const KEY_ENCIPHERMENT: u16 = 1 << 2;
    /// keyCertSign.
    pub const KEY_CERT_SIGN: u16 = 1 << 5;
    /// cRLSign.
    pub const CRL_SIGN: u16 = 1 << 6;
}

/// Why a certificate could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertError {
    /// The outer framing is broken.
    Der(DerError),
    /// The contents do not decode as an X.509 certificate.
    Malformed(String),
    /// An extension appears twice.
    DuplicateExtension(ObjectIdentifier),
    /// An extension's value does not decode.
    BadExtension(ObjectIdentifier),
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Der(e) => write!(f, "malformed certificate: {e}"),
            Self::Malformed(e) => write!(f, "malformed certificate: {e}"),
            Self::DuplicateExtension(oid) => write!(f, "certificate has extension {oid} twice"),
            Self::BadExtension(oid) => {
                write!(f, "certificate extension {} is malformed", crate::signature::oid_name(oid))
            }
        }
    }
}

/// A subjectAltName entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AltName {
    /// dNSName.
    Dns(String),
    /// iPAddress: 4 or 16 bytes.
    Ip(Vec<u8>),
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// directoryName.
    Directory(x509_cert::name::Name),
    /// Another form (otherName, ediPartyName, registeredID): never matched, but name
    /// constraints on its form refuse it.
    Unsupported(NameForm),
}

/// A parsed certificate borrowing its DER.
#[derive(Clone, Debug)]
pub struct Cert<'a> {
    /// The whole certificate.
    pub der: &'a [u8],
    /// The signed part, exactly as encoded.
    pub tbs: &'a [u8],
    /// The outer signature algorithm, DER.
    pub signature_algorithm: &'a [u8],
    /// The signature bits.
    pub signature: &'a [u8],
    /// Raw issuer `Name`.
    pub issuer: &'a [u8],
    /// Raw subject `Name`.
    pub subject: &'a [u8],
    /// Raw `SubjectPublicKeyInfo`.
    pub spki: &'a [u8],
    /// Serial number content octets.
    pub serial: &'a [u8],
    /// X.509 version: 1, 2 or 3.
    pub version: u8,
    /// notBefore, seconds since the epoch.
    pub not_before: u64,
    /// notAfter, seconds since the epoch.
    pub not_after: u64,
    /// basicConstraints: (cA, pathLenConstraint), when present.
    pub basic_constraints: Option<(bool, Option<u8>)>,
    /// keyUsage bits (see [`key_usage`]), when present.
    pub key_usage: Option<u16>,
    /// extendedKeyUsage purposes, when present.
    pub ext_key_usage: Option<Vec<ObjectIdentifier>>,
    /// subjectAltName entries, when present.
    pub alt_names: Option<Vec<AltName>>,
    /// subjectKeyIdentifier.
    pub subject_key_id: Option<Vec<u8>>,
    /// authorityKeyIdentifier keyIdentifier.
    pub authority_key_id: Option<Vec<u8>>,
    /// nameConstraints, when present (critical or not: both are enforced).
    pub name_constraints: Option<NameConstraints>,
    /// The first critical extension this crate does not process.
    pub unknown_critical: Option<ObjectIdentifier>,
    /// An RFC 5280 rule the certificate breaks in a way parsing tolerates but validation
    /// must not (a critical key identifier, say).
    pub profile_error: Option<&'static str>,
    /// Subject as RFC 4514 text, for messages.
    pub subject_text: String,
    /// Issuer as RFC 4514 text, for messages.
    pub issuer_text: String,
    /// The subject's last common name.
    pub common_name: Option<String>,
}

fn malformed(e: impl fmt::Display) -> CertError {
    CertError::Malformed(e.to_string())
}

impl<'a> Cert<'a> {
    /// Parses one DER certificate (nothing may follow it).
    pub fn parse(der: &'a [u8]) -> Result<Self, CertError> {
        let signed = SignedObject::parse(der).map_err(CertError::Der)?;
        let fields = TbsFields::parse(signed.tbs).map_err(CertError::Der)?;
        let cert = x509_cert::Certificate::from_der(der).map_err(malformed)?;
        let tbs = cert.tbs_certificate();
        // RFC 5280 §4.1.1.2: the signature algorithm outside must be the one signed inside.
        if tbs.signature() != cert.signature_algorithm() {
            return Err(CertError::Malformed("the outer and inner signature algorithms differ".into()));
        }
        let version = match tbs.version() {
            x509_cert::certificate::Version::V1 => 1,
            x509_cert::certificate::Version::V2 => 2,
            x509_cert::certificate::Version::V3 => 3,
        };
        let mut out = Self {
            der,
            tbs: signed.tbs,
            signature_algorithm: signed.algorithm,
            signature: signed.signature,
            issuer: fields.issuer,
            subject: fields.subject,
            spki: fields.spki,
            serial: fields.serial,
            version,
            not_before: tbs.validity().not_before.to_unix_duration().as_secs(),
            not_after: tbs.validity().not_after.to_unix_duration().as_secs(),
            basic_constraints: None,
            key_usage: None,
            ext_key_usage: None,
            alt_names: None,
            subject_key_id: None,
            authority_key_id: None,
            name_constraints: None,
            unknown_critical: None,
            profile_error: None,
            subject_text: tbs.subject().to_string(),
            issuer_text: tbs.issuer().to_string(),
            common_name: tbs
                .subject()
                .iter()
                .filter(|atv| atv.oid == rfc4519::CN)
                .last()
                .and_then(|atv| directory_string(&atv.value)),
        };
        let mut seen: Vec<ObjectIdentifier> = Vec::new();
        for ext in tbs.extensions().into_iter().flatten() {
            let oid = ext.extn_id;
            if seen.contains(&oid) {
                return Err(CertError::DuplicateExtension(oid));
            }
            seen.push(oid);
            let value = ext.extn_value.as_bytes();
            let bad = |_| CertError::BadExtension(oid);
            match oid {
                rfc5280::ID_CE_BASIC_CONSTRAINTS => {
                    let bc = BasicConstraints::from_der(value).map_err(bad)?;
                    out.basic_constraints = Some((bc.ca, bc.path_len_constraint));
                }
                rfc5280::ID_CE_KEY_USAGE => {
                    out.key_usage = Some(KeyUsage::from_der(value).map_err(bad)?.0.bits());
                }
                rfc5280::ID_CE_EXT_KEY_USAGE => {
                    out.ext_key_usage = Some(ExtendedKeyUsage::from_der(value).map_err(bad)?.0);
                }
                rfc5280::ID_CE_SUBJECT_ALT_NAME => {
                    let names = SubjectAltName::from_der(value).map_err(bad)?;
                    out.alt_names = Some(
                        names
                            .0
                            .iter()
                            .map(|n| match n {
                                GeneralName::DnsName(d) => AltName::Dns(d.as_str().to_string()),
                                GeneralName::IpAddress(ip) => AltName::Ip(ip.as_bytes().to_vec()),
                                GeneralName::Rfc822Name(m) => AltName::Email(m.as_str().to_string()),
                                GeneralName::UniformResourceIdentifier(u) => {
                                    AltName::Uri(u.as_str().to_string())
                                }
                                GeneralName::DirectoryName(n) => AltName::Directory(n.clone()),
                                GeneralName::OtherName(_) => AltName::Unsupported(NameForm::Other),
                                GeneralName::EdiPartyName(_) => AltName::Unsupported(NameForm::EdiParty),
                                GeneralName::RegisteredId(_) => AltName::Unsupported(NameForm::RegisteredId),
                            })
                            .collect(),
                    );
                }
                // RFC 5280 §4.2.1.1, §4.2.1.2: conforming CAs mark them non-critical.
                rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER | rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER
                    if ext.critical =>
                {
                    out.profile_error.get_or_insert("a key identifier extension is marked critical");
                }
                rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER => {
                    out.subject_key_id =
                        Some(SubjectKeyIdentifier::from_der(value).map_err(bad)?.0.as_bytes().to_vec());
                }
                rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER => {
                    let aki = AuthorityKeyIdentifier::from_der(value).map_err(bad)?;
                    out.authority_key_id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
                }
                rfc5280::ID_CE_NAME_CONSTRAINTS => {
                    out.name_constraints = Some(NameConstraints::from_der(value).map_err(bad)?);
                }
                // Anything else is information only: refused when marked critical, as
                // bootsign does not enforce it (certificatePolicies, CRL distribution
                // points, authorityInfoAccess, issuerAltName and the rest).
                _ => {
                    if ext.critical && out.unknown_critical.is_none() {
                        out.unknown_critical = Some(oid);
                    }
                }
            }
        }
        Ok(out)
    }

    /// SHA-256 fingerprint of the DER.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of_der(self.der)
    }

    /// Whether subject and issuer are the same name.
    pub fn is_self_issued(&self) -> bool {
        self.subject == self.issuer
    }

    /// Checks that `issuer`'s key made this certificate's signature.
    pub fn check_signed_by(&self, issuer: &Cert<'_>) -> Result<(), SignatureError> {
        let alg = SignatureAlgorithm::from_der(self.signature_algorithm)?;
        PublicKey::from_spki_der(issuer.spki)?.verify(alg, self.tbs, self.signature)
    }

    /// Whether the certificate's EKU (if any) allows `purpose`.
    pub fn eku_allows(&self, purpose: ObjectIdentifier) -> bool {
        match &self.ext_key_usage {
            None => true,
            Some(list) => list.contains(&purpose) || list.contains(&ANY_EXTENDED_KEY_USAGE),
        }
    }

    /// Whether keyUsage (if present) includes any of `bits`.
    pub fn key_usage_allows(&self, bits: u16) -> bool {
        self.key_usage.is_none_or(|ku| ku & bits != 0)
    }

    /// A short name for messages: the CN, or else the whole subject.
    pub fn display_name(&self) -> &str {
        self.common_name.as_deref().unwrap_or(&self.subject_text)
    }
}

/// anyExtendedKeyUsage (RFC 5280 §4.2.1.12).
pub const ANY_EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

/// The text of a DirectoryString value (UTF8String, PrintableString, IA5String,
/// TeletexString read as Latin-1, BMPString).
fn directory_string(value: &der::asn1::Any) -> Option<String> {
    use der::{Tag, Tagged};
    let bytes = value.value();
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String => {
            core::str::from_utf8(bytes).ok().map(String::from)
        }
        Tag::TeletexString => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            char::decode_utf16(units).collect::<Result<String, _>>().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
