//! Certificates read from files: PEM bundles or DER, with the accessors the CA
//! commands need (raw names and key for byte-exact chaining, extensions, kind).

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use bootsign_pki::{Fingerprint, PublicKey, SignatureAlgorithm, SignedObject, TbsFields};
use const_oid::AssociatedOid;
use const_oid::db::rfc5280;
use der::Decode;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectKeyIdentifier};

use crate::fsx::quote;
use crate::timefmt;

/// A certificate with its exact DER encoding.
pub struct Cert {
    /// The DER bytes as read (fingerprints and chaining use these, never a re-encoding).
    pub der: Vec<u8>,
    /// The decoded certificate.
    pub parsed: Certificate,
}

/// What a certificate is for, as `bootsign list` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A self-signed CA certificate.
    Root,
    /// A CA certificate issued by another CA (a cross-signed root or an intermediate).
    Ca,
    /// TLS server.
    Server,
    /// TLS client.
    Client,
    /// Code signing.
    CodeSigning,
    /// X.509 v1 or no purpose restriction (what the OpenSSL recipe issues).
    Unrestricted,
}

impl Kind {
    /// The word `bootsign list` prints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::Ca => "ca",
            Self::Server => "server",
            Self::Client => "client",
            Self::CodeSigning => "codesigning",
            Self::Unrestricted => "any",
        }
    }
}

impl Cert {
    /// Decodes DER.
    pub fn from_der(der: Vec<u8>) -> Result<Self, der::Error> {
        let parsed = Certificate::from_der(&der)?;
        Ok(Self { der, parsed })
    }

    /// Every certificate in a file: a PEM bundle (other PEM blocks are skipped) or one DER
    /// certificate. A file with none is an error that names it.
    pub fn read_all(path: &Path) -> Result<Vec<Self>> {
        let bytes = crate::fsx::read_capped(path, crate::fsx::MAX_INPUT, "")?;
        Self::parse_all(&bytes, path)
    }

    /// As [`Self::read_all`], from bytes already read.
    pub fn parse_all(bytes: &[u8], path: &Path) -> Result<Vec<Self>> {
        let name = quote(path);
        if bytes.is_empty() {
            bail!("{name} is empty");
        }
        if super::looks_like_pem(bytes) {
            let blocks = pem::parse_many(bytes).with_context(|| format!("{name}: malformed PEM"))?;
            let mut certs = Vec::new();
            for block in &blocks {
                if block.tag() == "CERTIFICATE" || block.tag() == "X509 CERTIFICATE" {
                    let n = certs.len() + 1;
                    // The decoder's complaint (a tag or length at some offset) tells a person
                    // nothing they can act on.
                    let cert = Self::from_der(block.contents().to_vec()).map_err(|_| {
                        anyhow!("{name}: certificate {n} is not valid X.509 (its PEM block is damaged or holds something else)")
                    })?;
                    certs.push(cert);
                }
            }
            if certs.is_empty() {
                let tags: Vec<_> = blocks.iter().map(|b| b.tag().to_string()).collect();
                bail!(
                    "{name} holds no certificate (PEM blocks found: {})",
                    if tags.is_empty() { "none".into() } else { tags.join(", ") }
                );
            }
            return Ok(certs);
        }
        let cert = Self::from_der(bytes.to_vec()).map_err(|_| {
            anyhow!("{name} is not a certificate (expected PEM 'BEGIN CERTIFICATE' or DER X.509)")
        })?;
        Ok(vec![cert])
    }

    /// Exactly one certificate from a file.
    pub fn read_one(path: &Path) -> Result<Self> {
        let mut certs = Self::read_all(path)?;
        if certs.len() != 1 {
            bail!("{} holds {} certificates; expected exactly one", quote(path), certs.len());
        }
        Ok(certs.remove(0))
    }

    /// PEM text of this certificate.
    pub fn to_pem(&self) -> String {
        pem_certificate(&self.der)
    }

    /// SHA-256 fingerprint of the DER.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of_der(&self.der)
    }

    /// Raw TBS fields (name and key bytes exactly as encoded).
    pub fn fields(&self) -> TbsFields<'_> {
        let signed = SignedObject::parse(&self.der).expect("decoded certificates have valid framing");
        TbsFields::parse(signed.tbs).expect("decoded certificates have valid framing")
    }

    /// The subject as `ca.idx` writes it.
    pub fn subject_oneline(&self) -> String {
        super::name::oneline(self.parsed.tbs_certificate().subject())
    }

    /// notAfter, in seconds since the epoch.
    pub fn not_after(&self) -> u64 {
        timefmt::from_x509_time(&self.parsed.tbs_certificate().validity().not_after)
    }

    /// A decoded extension and its critical flag.
    pub fn extension<'a, T: Decode<'a> + AssociatedOid>(&'a self) -> Result<Option<(bool, T)>> {
        self.parsed
            .tbs_certificate()
            .get_extension::<T>()
            .map_err(|e| anyhow!("malformed {} extension: {e}", T::OID))
    }

    /// basicConstraints cA, when the extension is present.
    pub fn is_ca(&self) -> Result<Option<bool>> {
        Ok(self.extension::<BasicConstraints>()?.map(|(_, bc)| bc.ca))
    }

    /// The subject key identifier: the extension's value, or else the SHA-1 of the
    /// public key bits (RFC 5280 method 1, what OpenSSL computes).
    pub fn key_identifier(&self) -> Result<Vec<u8>> {
        if let Some((_, ski)) = self.extension::<SubjectKeyIdentifier>()? {
            return Ok(ski.0.as_bytes().to_vec());
        }
        super::build::key_identifier(self.fields().spki)
    }

    /// Whether issuer and subject are the same name.
    pub fn is_self_issued(&self) -> bool {
        let f = self.fields();
        f.issuer == f.subject
    }

    /// Checks this certificate's signature against `issuer_spki` (DER).
    pub fn check_signed_by(&self, issuer_spki: &[u8]) -> Result<(), bootsign_pki::SignatureError> {
        let signed = SignedObject::parse(&self.der)?;
        let alg = SignatureAlgorithm::from_der(signed.algorithm)?;
        PublicKey::from_spki_der(issuer_spki)?.verify(alg, signed.tbs, signed.signature)
    }

    /// What the certificate is for.
    pub fn kind(&self) -> Kind {
        if self.is_ca().ok().flatten() == Some(true) {
            return if self.is_self_issued() { Kind::Root } else { Kind::Ca };
        }
        let eku = self.extension::<ExtendedKeyUsage>().ok().flatten().map(|(_, e)| e.0).unwrap_or_default();
        if eku.contains(&rfc5280::ID_KP_CODE_SIGNING) {
            Kind::CodeSigning
        } else if eku.contains(&rfc5280::ID_KP_SERVER_AUTH) {
            Kind::Server
        } else if eku.contains(&rfc5280::ID_KP_CLIENT_AUTH) {
            Kind::Client
        } else if self.parsed.tbs_certificate().extensions().is_none() && self.is_self_issued() {
            Kind::Root
        } else {
            Kind::Unrestricted
        }
    }
}

/// PEM text for DER certificate bytes (64-column base64, LF line ends).
pub fn pem_certificate(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}
