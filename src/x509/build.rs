//! Assembling and signing a certificate, and the signing step every signed X.509
//! object shares ([`sign_tbs`], also used for CRLs).
//!
//! Names and the public key are spliced in as the exact DER they arrived in (from the
//! CA certificate, a CSR, or another root), so chaining never depends on a decoder and
//! encoder agreeing; everything else is encoded here.

use anyhow::{Context, Result};
use der::asn1::{Any, BitString, Uint};
use der::{Decode, Encode, Sequence};
use sha1::Digest;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoRef};
use x509_cert::ext::Extension;
use x509_cert::time::Time;

use crate::keys::{PrivateKey, Signer};

#[derive(Sequence)]
struct Validity {
    not_before: Time,
    not_after: Time,
}

#[derive(Sequence)]
struct TbsCertificate {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: u8,
    serial: Uint,
    signature: AlgorithmIdentifierOwned,
    issuer: Any,
    validity: Validity,
    subject: Any,
    spki: Any,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

/// `SEQUENCE { toBeSigned, signatureAlgorithm, signatureValue }`: certificates and CRLs.
#[derive(Sequence)]
struct Signed {
    tbs: Any,
    algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

/// Everything that goes into a new certificate.
pub struct CertSpec<'a> {
    /// Serial number, big-endian magnitude.
    pub serial: &'a [u8],
    /// The issuer `Name`, DER (the CA certificate's subject bytes).
    pub issuer: &'a [u8],
    /// The subject `Name`, DER.
    pub subject: &'a [u8],
    /// The `SubjectPublicKeyInfo`, DER.
    pub spki: &'a [u8],
    /// notBefore, seconds since the epoch.
    pub not_before: u64,
    /// notAfter, seconds since the epoch.
    pub not_after: u64,
    /// Extensions in the order they are written.
    pub extensions: Vec<Extension>,
}

impl CertSpec<'_> {
    /// Encodes the certificate (X.509 v3) and signs it with `key`; returns DER.
    pub fn sign(&self, key: &dyn Signer) -> Result<Vec<u8>> {
        let tbs = TbsCertificate {
            version: 2,
            serial: Uint::new(self.serial).context("bad serial number")?,
            signature: key.signature_algorithm(),
            issuer: Any::from_der(self.issuer).context("bad issuer name")?,
            validity: Validity {
                not_before: crate::timefmt::x509_time(self.not_before)?,
                not_after: crate::timefmt::x509_time(self.not_after)?,
            },
            subject: Any::from_der(self.subject).context("bad subject name")?,
            spki: Any::from_der(self.spki).context("bad public key")?,
            extensions: (!self.extensions.is_empty()).then(|| self.extensions.clone()),
        }
        .to_der()
        .context("failed to encode the certificate")?;
        sign_tbs(&tbs, key)
    }
}

/// Signs the DER `tbs` (a TBSCertificate or TBSCertList whose `signature` field is
/// `key.signature_algorithm()`) and wraps it with that algorithm and the signature, as
/// X.509 certificates and CRLs are framed. Returns DER.
pub fn sign_tbs(tbs: &[u8], key: &dyn Signer) -> Result<Vec<u8>> {
    let signature = key.sign(tbs)?;
    let signed = Signed {
        tbs: Any::from_der(tbs).context("the to-be-signed part is not one DER element")?,
        algorithm: key.signature_algorithm(),
        signature: BitString::from_bytes(&signature)?,
    };
    signed.to_der().context("failed to encode the signature")
}

/// RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits.
pub fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der).context("malformed public key")?;
    Ok(sha1::Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec())
}

/// How far notBefore is set in the past. Many PCs keep the RTC in local time, so the
/// firmware's clock can lag UTC by up to 14 hours; a day's margin lets a certificate
/// issued just now verify at boot on such machines.
pub const BACKDATE_SECS: u64 = crate::timefmt::DAY;

/// (notBefore, notAfter) for a certificate valid `days` from `now`.
pub fn validity_days(now: u64, days: u32) -> Result<(u64, u64)> {
    if days == 0 {
        anyhow::bail!("--days must be at least 1");
    }
    // The last time X.509 can hold: 9999-12-31 23:59:59 UTC.
    const LAST: u64 = 253_402_300_799;
    let not_after = now + u64::from(days) * crate::timefmt::DAY;
    if not_after > LAST {
        anyhow::bail!(
            "--days {days} would end after 9999-12-31, the last date a certificate can hold; at most {} days from today",
            (LAST - now) / crate::timefmt::DAY
        );
    }
    Ok((now.saturating_sub(BACKDATE_SECS), not_after))
}

/// A random positive serial of 16 bytes, for certificates outside the `serial` sequence.
pub fn random_serial() -> Result<Vec<u8>> {
    let mut serial = vec![0u8; 16];
    crate::keys::random_bytes(&mut serial)?;
    serial[0] = (serial[0] & 0x7f) | 0x40;
    Ok(serial)
}

/// A new key of `kind` and its self-signed certificate (DER) for the common name `cn`,
/// valid from `not_before` to `not_after`, with the extensions `extensions` makes from the
/// key's identifier: a CA root, a Secure Boot key.
pub fn self_signed(
    kind: crate::keys::KeyType,
    cn: &str,
    not_before: u64,
    not_after: u64,
    extensions: impl FnOnce(&[u8]) -> Result<Vec<Extension>>,
) -> Result<(PrivateKey, Vec<u8>)> {
    let key = PrivateKey::generate(kind)?;
    let der = self_signed_by(&key, cn, not_before, not_after, extensions)?;
    Ok((key, der))
}

/// The self-signed certificate (DER) of `key` (a file's or a token's), as [`self_signed`]
/// makes it.
pub fn self_signed_by(
    key: &dyn Signer,
    cn: &str,
    not_before: u64,
    not_after: u64,
    extensions: impl FnOnce(&[u8]) -> Result<Vec<Extension>>,
) -> Result<Vec<u8>> {
    let spki = key.spki_der()?;
    let ski = key_identifier(&spki)?;
    let subject = crate::x509::name::common_name(cn)?.to_der()?;
    let serial = random_serial()?;
    CertSpec {
        serial: &serial,
        issuer: &subject,
        subject: &subject,
        spki: &spki,
        not_before,
        not_after,
        extensions: extensions(&ski)?,
    }
    .sign(key)
}
