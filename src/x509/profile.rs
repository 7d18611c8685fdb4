//! Certificate profiles: the extensions each kind of certificate carries.
//!
//! | kind        | basicConstraints   | keyUsage                                   | extendedKeyUsage |
//! |-------------|--------------------|--------------------------------------------|------------------|
//! | root, cross | critical, CA:TRUE  | critical, keyCertSign, cRLSign             | —                |
//! | server      | CA:FALSE           | critical, digitalSignature (+keyEncipherment for RSA) | serverAuth |
//! | client      | CA:FALSE           | critical, digitalSignature                 | clientAuth       |
//! | codesigning | CA:FALSE           | critical, digitalSignature                 | codeSigning      |
//!
//! A CRL carries the issuer's key identifier and its cRLNumber; an entry carries a
//! reasonCode when a reason other than unspecified was recorded.
//!
//! Every certificate carries a subject key identifier; every certificate but a
//! self-signed root carries the issuer's key identifier (RFC 5280 §4.2.1.1-2), which is
//! what lets path building tell a cross-signed root from the original. Servers get a
//! subjectAltName with every name given. keyEncipherment is only meaningful for RSA
//! keys (static-RSA TLS key exchange), so EC server keys do not claim it.

use anyhow::Result;
use const_oid::AssociatedOid;
use const_oid::db::rfc5280;
use der::Encode;
use der::asn1::{Ia5String, OctetString, Uint};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlNumber, CrlReason, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};

use super::san::San;

/// The purpose of an end-entity certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafKind {
    /// TLS server (HTTPS boot servers).
    Server,
    /// TLS client (the firmware's client certificate).
    Client,
    /// Code signing (kernels, initrds, scripts).
    CodeSigning,
}

impl LeafKind {
    /// The word used in messages and `ca.idx`-adjacent output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Client => "client",
            Self::CodeSigning => "code-signing",
        }
    }
}

fn ext<T: Encode + AssociatedOid>(critical: bool, value: &T) -> Result<Extension> {
    Ok(Extension { extn_id: T::OID, critical, extn_value: OctetString::new(value.to_der()?)? })
}

fn ca_constraints(ski: &[u8]) -> Result<Vec<Extension>> {
    Ok(vec![
        ext(true, &BasicConstraints { ca: true, path_len_constraint: None })?,
        ext(true, &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign))?,
        ext(false, &SubjectKeyIdentifier(OctetString::new(ski)?))?,
    ])
}

fn authority_key_id(issuer_ski: &[u8]) -> Result<Extension> {
    ext(
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(issuer_ski)?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
    )
}

/// A UEFI Secure Boot key's self-signed certificate (PK, KEK, db): not a CA,
/// digitalSignature, SKI; db's also codeSigning, since it signs boot images.
pub fn secure_boot(ski: &[u8], code_signing: bool) -> Result<Vec<Extension>> {
    let mut exts = vec![
        ext(true, &BasicConstraints { ca: false, path_len_constraint: None })?,
        ext(true, &KeyUsage(KeyUsages::DigitalSignature.into()))?,
        ext(false, &SubjectKeyIdentifier(OctetString::new(ski)?))?,
    ];
    if code_signing {
        exts.push(ext(false, &ExtendedKeyUsage(vec![rfc5280::ID_KP_CODE_SIGNING]))?);
    }
    Ok(exts)
}

/// A self-signed root: basicConstraints and keyUsage (both critical), SKI.
pub fn root(ski: &[u8]) -> Result<Vec<Extension>> {
    ca_constraints(ski)
}

/// A cross-certificate for another root: as a root, keeping that root's key identifier,
/// plus the identifier of our CA's key.
pub fn cross(subject_ski: &[u8], issuer_ski: &[u8]) -> Result<Vec<Extension>> {
    let mut exts = ca_constraints(subject_ski)?;
    exts.push(authority_key_id(issuer_ski)?);
    Ok(exts)
}

/// An end-entity certificate of `kind`.
pub fn leaf(
    kind: LeafKind,
    rsa_key: bool,
    sans: &[San],
    ski: &[u8],
    issuer_ski: &[u8],
    empty_subject: bool,
) -> Result<Vec<Extension>> {
    let mut usage = KeyUsage(KeyUsages::DigitalSignature.into());
    if kind == LeafKind::Server && rsa_key {
        usage = KeyUsage(KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment);
    }
    let purpose = match kind {
        LeafKind::Server => rfc5280::ID_KP_SERVER_AUTH,
        LeafKind::Client => rfc5280::ID_KP_CLIENT_AUTH,
        LeafKind::CodeSigning => rfc5280::ID_KP_CODE_SIGNING,
    };
    let mut exts = vec![
        ext(false, &BasicConstraints { ca: false, path_len_constraint: None })?,
        ext(true, &usage)?,
        ext(false, &ExtendedKeyUsage(vec![purpose]))?,
    ];
    if !sans.is_empty() {
        let names = sans
            .iter()
            .map(|san| {
                Ok(match san {
                    San::Dns(d) => GeneralName::DnsName(Ia5String::new(d)?),
                    San::Ip(std::net::IpAddr::V4(a)) => GeneralName::IpAddress(OctetString::new(a.octets())?),
                    San::Ip(std::net::IpAddr::V6(a)) => GeneralName::IpAddress(OctetString::new(a.octets())?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // RFC 5280 §4.2.1.6: with an empty subject the names are all there is, and the
        // extension is critical.
        exts.push(ext(empty_subject, &SubjectAltName(names))?);
    }
    exts.push(ext(false, &SubjectKeyIdentifier(OctetString::new(ski)?))?);
    exts.push(authority_key_id(issuer_ski)?);
    Ok(exts)
}

/// The extensions of a CRL: authorityKeyIdentifier (the issuer's key identifier, as its
/// certificates carry) and cRLNumber (`number`, big-endian magnitude), both non-critical.
pub fn crl(issuer_ski: &[u8], number: &[u8]) -> Result<Vec<Extension>> {
    Ok(vec![authority_key_id(issuer_ski)?, ext(false, &CrlNumber(Uint::new(number)?))?])
}

/// The reasonCode entry extension (non-critical).
pub fn crl_reason(reason: CrlReason) -> Result<Extension> {
    ext(false, &reason)
}
