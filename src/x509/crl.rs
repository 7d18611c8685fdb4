//! Building and signing an X.509 v2 certificate revocation list (RFC 5280 §5), as
//! `openssl ca -gencrl` makes one.
//!
//! The issuer `Name` is spliced in as the exact DER of the CA certificate's subject, so
//! a verifier matches the two byte for byte; signing is the one certificates use
//! ([`super::build::sign_tbs`]), with the CA key's algorithm (sha256WithRSAEncryption,
//! ecdsa-with-SHA256 for P-256, ecdsa-with-SHA384 for P-384). Extensions come from
//! [`super::profile`]: authorityKeyIdentifier and cRLNumber on the list, reasonCode on
//! an entry. Times are UTCTime before 2050 and GeneralizedTime from 2050.

use anyhow::{Context, Result};
use clap::ValueEnum;
use der::asn1::{Any, Uint};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::CrlReason;
use x509_cert::time::Time;

use super::build::sign_tbs;
use super::profile;
use crate::keys::Signer;
use crate::timefmt::x509_time;

/// The PEM label `openssl ca -gencrl -out` and `openssl crl` write.
pub const PEM_LABEL: &str = "X509 CRL";

/// Why a certificate was revoked: the RFC 5280 CRLReason values bootsign records
/// (`revoke --reason`) and reads, spelled as OpenSSL writes them in `ca.idx`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "camelCase")]
pub enum Reason {
    /// No reason given (`openssl ca -crl_reason unspecified`); never recorded by `revoke`.
    #[value(skip)]
    Unspecified,
    /// The key leaked or may have.
    KeyCompromise,
    /// The CA's key leaked.
    #[value(name = "CACompromise")]
    CaCompromise,
    /// The subject's details changed.
    AffiliationChanged,
    /// Replaced by a new certificate.
    Superseded,
    /// No longer used.
    CessationOfOperation,
    /// Temporarily on hold.
    CertificateHold,
}

impl Reason {
    /// Every reason, in CRLReason code order.
    pub const ALL: [Self; 7] = [
        Self::Unspecified,
        Self::KeyCompromise,
        Self::CaCompromise,
        Self::AffiliationChanged,
        Self::Superseded,
        Self::CessationOfOperation,
        Self::CertificateHold,
    ];

    /// The `ca.idx` spelling (OpenSSL's), which is RFC 5280's name: the PKI crate's, which
    /// names every reason a CRL can carry.
    pub fn name(self) -> &'static str {
        bootsign_pki::crl::Reason::from_x509(self.code()).name()
    }

    /// The reason `ca.idx` spells `name`, compared as OpenSSL compares it (ignoring case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name().eq_ignore_ascii_case(name))
    }

    /// The RFC 5280 CRLReason value.
    pub fn code(self) -> CrlReason {
        match self {
            Self::Unspecified => CrlReason::Unspecified,
            Self::KeyCompromise => CrlReason::KeyCompromise,
            Self::CaCompromise => CrlReason::CaCompromise,
            Self::AffiliationChanged => CrlReason::AffiliationChanged,
            Self::Superseded => CrlReason::Superseded,
            Self::CessationOfOperation => CrlReason::CessationOfOperation,
            Self::CertificateHold => CrlReason::CertificateHold,
        }
    }
}

/// One revoked certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revoked {
    /// Its serial number, big-endian magnitude.
    pub serial: Vec<u8>,
    /// When it was revoked, seconds since the epoch.
    pub date: u64,
    /// The recorded reason, if any.
    pub reason: Option<Reason>,
}

/// Everything that goes into a CRL.
pub struct CrlSpec<'a> {
    /// The issuer `Name`, DER (the CA certificate's subject bytes).
    pub issuer: &'a [u8],
    /// The CA's key identifier (its subjectKeyIdentifier), for authorityKeyIdentifier.
    pub issuer_key_id: &'a [u8],
    /// The cRLNumber, big-endian magnitude.
    pub number: &'a [u8],
    /// thisUpdate, seconds since the epoch.
    pub this_update: u64,
    /// nextUpdate, seconds since the epoch.
    pub next_update: u64,
    /// The revoked certificates, in the order they are listed.
    pub revoked: &'a [Revoked],
}

#[derive(Sequence)]
struct RevokedCert {
    serial: Uint,
    date: Time,
    #[asn1(optional = "true")]
    extensions: Option<Vec<Extension>>,
}

#[derive(Sequence)]
struct TbsCertList {
    version: u8,
    signature: AlgorithmIdentifierOwned,
    issuer: Any,
    this_update: Time,
    next_update: Time,
    #[asn1(optional = "true")]
    revoked: Option<Vec<RevokedCert>>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    extensions: Vec<Extension>,
}

impl CrlSpec<'_> {
    /// Encodes the CRL (X.509 v2) and signs it with `key`; returns DER.
    ///
    /// revokedCertificates is left out when there are none (RFC 5280 §5.1.2.6). An
    /// entry's reasonCode is left out when no reason or `unspecified` was recorded
    /// (§5.3.1: "CRL issuers SHOULD omit the reasonCode entry extension" rather than
    /// use unspecified).
    pub fn sign(&self, key: &dyn Signer) -> Result<Vec<u8>> {
        let revoked = self
            .revoked
            .iter()
            .map(|r| {
                let reason = r.reason.filter(|&r| r != Reason::Unspecified);
                Ok(RevokedCert {
                    serial: Uint::new(&r.serial).context("bad serial number")?,
                    date: x509_time(r.date)?,
                    extensions: reason.map(|r| profile::crl_reason(r.code()).map(|e| vec![e])).transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let tbs = TbsCertList {
            version: 1, // v2
            signature: key.signature_algorithm(),
            issuer: Any::from_der(self.issuer).context("bad issuer name")?,
            this_update: x509_time(self.this_update)?,
            next_update: x509_time(self.next_update)?,
            revoked: (!revoked.is_empty()).then_some(revoked),
            extensions: profile::crl(self.issuer_key_id, self.number)?,
        }
        .to_der()
        .context("failed to encode the CRL")?;
        sign_tbs(&tbs, key)
    }
}

/// PEM text for a DER CRL (`X509 CRL`, 64-column base64, LF line ends), as OpenSSL writes it.
pub fn to_pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(PEM_LABEL, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyType, PrivateKey};
    use x509_cert::crl::CertificateList;
    use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber};

    fn name() -> Vec<u8> {
        crate::x509::name::common_name("CRL test CA").unwrap().to_der().unwrap()
    }

    #[test]
    fn reasons_match_the_command_line_and_openssl_spellings() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_name(r.name()), Some(r));
            if let Some(v) = r.to_possible_value() {
                assert_eq!(v.get_name(), r.name(), "revoke --reason and ca.idx spell it alike");
            }
        }
        assert!(Reason::Unspecified.to_possible_value().is_none(), "revoke does not offer it");
        assert_eq!(Reason::from_name("cacompromise"), Some(Reason::CaCompromise));
        assert_eq!(Reason::from_name("removeFromCRL"), None);
        assert_eq!(Reason::CertificateHold.code() as u32, 6);
    }

    #[test]
    fn encodes_what_rfc5280_asks_and_verifies() {
        let issuer = name();
        for kind in [KeyType::P256, KeyType::P384] {
            let key = PrivateKey::generate(kind).unwrap();
            let revoked = [
                Revoked { serial: vec![0x01], date: 1_795_565_700, reason: Some(Reason::KeyCompromise) },
                Revoked { serial: vec![0x80], date: 2_556_241_445, reason: None },
                Revoked { serial: vec![0x03], date: 1_795_565_700, reason: Some(Reason::Unspecified) },
            ];
            let der = CrlSpec {
                issuer: &issuer,
                issuer_key_id: &[7; 20],
                number: &[0x0a],
                this_update: 1_795_565_700,
                next_update: 2_556_241_445,
                revoked: &revoked,
            }
            .sign(&key)
            .unwrap();

            let crl: CertificateList = CertificateList::from_der(&der).unwrap();
            let tbs = &crl.tbs_cert_list;
            assert_eq!(tbs.version, x509_cert::Version::V2);
            assert_eq!(tbs.issuer.to_der().unwrap(), issuer, "issuer bytes kept");
            assert!(matches!(tbs.this_update, Time::UtcTime(_)));
            assert!(matches!(tbs.next_update, Some(Time::GeneralTime(_))), "GeneralizedTime from 2050");
            let entries = tbs.revoked_certificates.as_ref().unwrap();
            assert_eq!(entries.len(), 3, "in the order given");
            assert_eq!(entries[1].serial_number.as_bytes(), [0x00, 0x80], "a positive INTEGER");
            let reason = entries[0].crl_entry_extensions.as_ref().unwrap();
            assert_eq!(reason.len(), 1);
            assert_eq!(reason[0].extn_value.as_bytes(), [0x0a, 0x01, 0x01], "ENUMERATED keyCompromise");
            assert!(entries[1].crl_entry_extensions.is_none());
            assert!(entries[2].crl_entry_extensions.is_none(), "unspecified is left out");
            let exts = tbs.crl_extensions.as_ref().unwrap();
            let aki = AuthorityKeyIdentifier::from_der(exts[0].extn_value.as_bytes()).unwrap();
            assert_eq!(aki.key_identifier.unwrap().as_bytes(), [7; 20]);
            let number = CrlNumber::from_der(exts[1].extn_value.as_bytes()).unwrap();
            assert_eq!(number.0.as_bytes(), [0x0a]);
            assert!(exts.iter().all(|e| !e.critical));

            // The firmware's verifier accepts the signature.
            let signed = bootsign_pki::SignedObject::parse(&der).unwrap();
            let alg = bootsign_pki::SignatureAlgorithm::from_der(signed.algorithm).unwrap();
            let public = bootsign_pki::PublicKey::from_spki_der(&key.spki_der().unwrap()).unwrap();
            public.verify(alg, signed.tbs, signed.signature).unwrap();
        }
    }

    #[test]
    fn no_revoked_certificates_field_when_empty() {
        let issuer = name();
        let key = PrivateKey::generate(KeyType::P256).unwrap();
        let der = CrlSpec {
            issuer: &issuer,
            issuer_key_id: &[1; 20],
            number: &[0x01],
            this_update: 1_795_565_700,
            next_update: 1_795_565_700 + 30 * crate::timefmt::DAY,
            revoked: &[],
        }
        .sign(&key)
        .unwrap();
        let crl: CertificateList = CertificateList::from_der(&der).unwrap();
        assert!(crl.tbs_cert_list.revoked_certificates.is_none());
        assert!(to_pem(&der).starts_with("-----BEGIN X509 CRL-----\n"));
    }
}
