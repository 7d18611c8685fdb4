//! PKCS#10 certification requests (`--csr`): the signature is checked before anything
//! from the request is used, and requested subject alternative names are carried over
//! (the OpenSSL recipe silently drops them).

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use bootsign_pki::der_view::{TAG_INTEGER, TAG_SEQUENCE, expect_tlv};
use bootsign_pki::{PublicKey, SignatureAlgorithm, SignedObject};
use const_oid::AssociatedOid;
use der::Decode;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::request::{CertReq, ExtensionReq};

use super::san::San;
use crate::fsx::quote;

/// A certification request whose signature verified.
pub struct Csr {
    /// The requested subject, DER exactly as in the request.
    pub subject: Vec<u8>,
    /// The public key, DER.
    pub spki: Vec<u8>,
    /// DNS and IP subject alternative names requested.
    pub sans: Vec<San>,
    /// Requested names of other types, which bootsign does not issue.
    pub ignored_names: Vec<String>,
    /// The decoded request.
    pub parsed: CertReq,
    /// The key, for describing it.
    pub key: PublicKey,
}

impl Csr {
    /// Reads and verifies a CSR file (PEM or DER).
    pub fn read(path: &Path) -> Result<Self> {
        let name = quote(path);
        let bytes = crate::fsx::read_capped(path, crate::fsx::MAX_INPUT, "")?;
        if bytes.is_empty() {
            bail!("{name} is empty");
        }
        let der = if super::looks_like_pem(&bytes) {
            let blocks = pem::parse_many(&bytes).with_context(|| format!("{name}: malformed PEM"))?;
            blocks
                .into_iter()
                .find(|b| b.tag() == "CERTIFICATE REQUEST" || b.tag() == "NEW CERTIFICATE REQUEST")
                .ok_or_else(|| anyhow!("{name} holds no CERTIFICATE REQUEST block"))?
                .into_contents()
        } else if super::looks_like_der(&bytes) {
            bytes
        } else {
            bail!(
                "{name} is not a certificate request (expected PEM 'BEGIN CERTIFICATE REQUEST' or DER PKCS#10)"
            );
        };
        Self::from_der(&der).with_context(|| format!("{name} is not a usable certificate request"))
    }

    fn from_der(der: &[u8]) -> Result<Self> {
        let signed = SignedObject::parse(der).map_err(|e| anyhow!("malformed request: {e}"))?;
        let parsed = CertReq::from_der(der).map_err(|e| anyhow!("malformed request: {e}"))?;
        // CertificationRequestInfo ::= SEQUENCE { version, subject Name, subjectPKInfo, [0] attributes }
        let (info, _) = expect_tlv(signed.tbs, TAG_SEQUENCE).map_err(|e| anyhow!("{e}"))?;
        let (_version, rest) = expect_tlv(info.value, TAG_INTEGER).map_err(|e| anyhow!("{e}"))?;
        let (subject, rest) = expect_tlv(rest, TAG_SEQUENCE).map_err(|e| anyhow!("{e}"))?;
        let (spki, _) = expect_tlv(rest, TAG_SEQUENCE).map_err(|e| anyhow!("{e}"))?;

        let key = PublicKey::from_spki_der(spki.raw).map_err(|e| anyhow!("its public key: {e}"))?;
        let alg = SignatureAlgorithm::from_der(signed.algorithm).map_err(|e| anyhow!("{e}"))?;
        key.verify(alg, signed.tbs, signed.signature).map_err(|e| {
            anyhow!("its signature is bad ({e}): the request was altered or not made with this key")
        })?;

        let mut sans = Vec::new();
        let mut ignored_names = Vec::new();
        for attr in parsed.info.attributes.iter() {
            if attr.oid != ExtensionReq::OID {
                continue;
            }
            for value in attr.values.iter() {
                let req: ExtensionReq =
                    value.decode_as().map_err(|e| anyhow!("bad extension request: {e}"))?;
                for ext in req.0.iter().filter(|e| e.extn_id == SubjectAltName::OID) {
                    let names = SubjectAltName::from_der(ext.extn_value.as_bytes())
                        .map_err(|e| anyhow!("bad subjectAltName request: {e}"))?;
                    San::check_count(names.0.len() + sans.len(), "the request")?;
                    for name in names.0 {
                        match name {
                            GeneralName::DnsName(d) => sans.push(San::parse(d.as_str())?),
                            GeneralName::IpAddress(ip) => sans.push(ip_san(ip.as_bytes())?),
                            other => ignored_names.push(format!("{other:?}")),
                        }
                    }
                }
            }
        }
        Ok(Self { subject: subject.raw.to_vec(), spki: spki.raw.to_vec(), sans, ignored_names, parsed, key })
    }
}

fn ip_san(bytes: &[u8]) -> Result<San> {
    match bytes.len() {
        4 => Ok(San::Ip(<[u8; 4]>::try_from(bytes).expect("length checked").into())),
        16 => Ok(San::Ip(<[u8; 16]>::try_from(bytes).expect("length checked").into())),
        n => bail!("requested IP address has {n} bytes"),
    }
}
