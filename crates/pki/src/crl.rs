//! Certificate revocation lists (RFC 5280 §5): a checked view of one CRL, and the set of
//! CRLs path validation consults.
//!
//! [`Crl::parse`] decodes a DER CRL strictly and refuses what bootsign would otherwise
//! misread: delta CRLs, scoped (issuingDistributionPoint) and indirect (certificateIssuer)
//! CRLs, any other critical extension, and MD5/SHA-1 signatures. A CRL counts for a
//! certificate only when its issuer is the certificate's issuer in the path being
//! validated and its signature verifies with that issuer's key (which must allow cRLSign
//! where keyUsage is present). A listed serial is then refused with the date and reason.
//! A CRL past its nextUpdate still revokes what it lists; whether it also refuses
//! everything its issuer signed is [`Revocation::require_fresh`].

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use const_oid::db::rfc5280;
use der::{Decode, Encode};
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber};

use crate::cert::{Cert, key_usage};
use crate::der_view::{DerError, SignedObject};
use crate::signature::{PublicKey, SignatureAlgorithm, SignatureError, oid_name, weak_hash};
use crate::text::escape;

/// Most entries one CRL may list: a bound on memory and work for hostile input.
pub const MAX_ENTRIES: usize = 1_000_000;

/// Why a CRL was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrlError {
    /// The outer framing is broken.
    Der(DerError),
    /// The contents do not decode as an X.509 CRL.
    Malformed(String),
    /// A version 1 CRL with extensions, or a version other than 1 or 2.
    BadVersion,
    /// A critical extension bootsign does not process (delta CRL, issuing distribution
    /// point, ...), on the CRL or on one entry.
    UnsupportedCriticalExtension(const_oid::ObjectIdentifier),
    /// More entries than [`MAX_ENTRIES`].
    TooManyEntries(usize),
    /// Signed with MD2, MD5 or SHA-1.
    WeakSignature(&'static str),
    /// The CRL's issuer is not the certificate it was checked against.
    WrongIssuer {
        /// The CRL's issuer.
        crl_issuer: String,
        /// The certificate's subject.
        cert: String,
    },
    /// The issuer's keyUsage lacks cRLSign.
    NoCrlSign {
        /// The issuer.
        cert: String,
    },
    /// The signature does not verify with the issuer's key.
    BadSignature {
        /// The issuer.
        cert: String,
        /// Why.
        error: SignatureError,
    },
}

impl fmt::Display for CrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Der(e) => write!(f, "malformed CRL: {e}"),
            Self::Malformed(e) => write!(f, "malformed CRL: {e}"),
            Self::BadVersion => f.write_str("the CRL's version does not fit its contents"),
            Self::UnsupportedCriticalExtension(oid) => write!(
                f,
                "the CRL has an extension bootsign does not process: {} (delta, scoped and indirect CRLs are not supported)",
                oid_name(oid)
            ),
            Self::TooManyEntries(n) => write!(f, "the CRL lists {n} certificates, more than {MAX_ENTRIES}"),
            Self::WeakSignature(alg) => write!(f, "the CRL is signed with {alg}, a broken hash"),
            Self::WrongIssuer { crl_issuer, cert } => {
                write!(f, "the CRL was issued by \"{}\", not by \"{}\"", escape(crl_issuer), escape(cert))
            }
            Self::NoCrlSign { cert } => {
                write!(f, "\"{}\" may not sign CRLs (its keyUsage lacks cRLSign)", escape(cert))
            }
            Self::BadSignature { cert, error } => {
                write!(f, "the CRL's signature does not verify with the key of \"{}\": {error}", escape(cert))
            }
        }
    }
}

impl core::error::Error for CrlError {}

/// A revocation reason (RFC 5280 §5.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// unspecified (0).
    Unspecified,
    /// keyCompromise (1).
    KeyCompromise,
    /// cACompromise (2).
    CaCompromise,
    /// affiliationChanged (3).
    AffiliationChanged,
    /// superseded (4).
    Superseded,
    /// cessationOfOperation (5).
    CessationOfOperation,
    /// certificateHold (6).
    CertificateHold,
    /// removeFromCRL (8): only meaningful in delta CRLs; such an entry does not revoke.
    RemoveFromCrl,
    /// privilegeWithdrawn (9).
    PrivilegeWithdrawn,
    /// aACompromise (10).
    AaCompromise,
}

impl Reason {
    /// The name RFC 5280 and OpenSSL use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::CaCompromise => "CACompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::CertificateHold => "certificateHold",
            Self::RemoveFromCrl => "removeFromCRL",
            Self::PrivilegeWithdrawn => "privilegeWithdrawn",
            Self::AaCompromise => "AACompromise",
        }
    }

    /// The reason for an x509-cert `CrlReason` value.
    pub fn from_x509(r: CrlReason) -> Self {
        match r {
            CrlReason::Unspecified => Self::Unspecified,
            CrlReason::KeyCompromise => Self::KeyCompromise,
            CrlReason::CaCompromise => Self::CaCompromise,
            CrlReason::AffiliationChanged => Self::AffiliationChanged,
            CrlReason::Superseded => Self::Superseded,
            CrlReason::CessationOfOperation => Self::CessationOfOperation,
            CrlReason::CertificateHold => Self::CertificateHold,
            CrlReason::RemoveFromCRL => Self::RemoveFromCrl,
            CrlReason::PrivilegeWithdrawn => Self::PrivilegeWithdrawn,
            CrlReason::AaCompromise => Self::AaCompromise,
        }
    }
}

/// One revoked certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The serial number's magnitude, big-endian, without leading zero bytes.
    pub serial: Vec<u8>,
    /// revocationDate, seconds since the epoch.
    pub date: u64,
    /// reasonCode, when given.
    pub reason: Option<Reason>,
}

/// A parsed CRL borrowing its DER. Entries are kept sorted by serial for lookup.
#[derive(Clone, Debug)]
pub struct Crl<'a> {
    /// The whole CRL.
    pub der: &'a [u8],
    tbs: &'a [u8],
    signature_algorithm: &'a [u8],
    signature: &'a [u8],
    /// The issuer `Name`, DER.
    pub issuer: Vec<u8>,
    /// The issuer as RFC 4514 text, for messages.
    pub issuer_text: String,
    /// thisUpdate.
    pub this_update: u64,
    /// nextUpdate, when present.
    pub next_update: Option<u64>,
    /// cRLNumber, big-endian, when present.
    pub number: Option<Vec<u8>>,
    /// authorityKeyIdentifier keyIdentifier, when present.
    pub authority_key_id: Option<Vec<u8>>,
    entries: Vec<Entry>,
}

/// The magnitude of a serial number: the DER content octets without leading zero bytes.
pub fn serial_magnitude(content: &[u8]) -> &[u8] {
    let zeros = content.iter().take_while(|&&b| b == 0).count();
    &content[zeros.min(content.len().saturating_sub(1))..]
}

/// A serial number as `bootsign list` and `ca.idx` write it: upper-case hex, even length.
pub fn serial_hex(serial: &[u8]) -> String {
    serial_magnitude(serial).iter().map(|b| alloc::format!("{b:02X}")).collect()
}

fn malformed(e: impl fmt::Display) -> CrlError {
    CrlError::Malformed(e.to_string())
}

impl<'a> Crl<'a> {
    /// Parses one DER CRL (nothing may follow it).
    pub fn parse(der: &'a [u8]) -> Result<Self, CrlError> {
        let signed = SignedObject::parse(der).map_err(CrlError::Der)?;
        let list = CertificateList::<x509_cert::certificate::Rfc5280>::from_der(der).map_err(malformed)?;
        let tbs = &list.tbs_cert_list;
        if tbs.signature != list.signature_algorithm {
            return Err(CrlError::Malformed("the outer and inner signature algorithms differ".into()));
        }
        match (tbs.version, tbs.crl_extensions.is_some()) {
            (x509_cert::certificate::Version::V2, _) | (x509_cert::certificate::Version::V1, false) => {}
            _ => return Err(CrlError::BadVersion),
        }
        if let Some(alg) = weak_hash(signed.algorithm) {
            return Err(CrlError::WeakSignature(alg));
        }
        let revoked = tbs.revoked_certificates.as_deref().unwrap_or_default();
        if revoked.len() > MAX_ENTRIES {
            return Err(CrlError::TooManyEntries(revoked.len()));
        }
        let mut out = Self {
            der,
            tbs: signed.tbs,
            signature_algorithm: signed.algorithm,
            signature: signed.signature,
            issuer: tbs.issuer.to_der().map_err(malformed)?,
            issuer_text: tbs.issuer.to_string(),
            this_update: tbs.this_update.to_unix_duration().as_secs(),
            next_update: tbs.next_update.map(|t| t.to_unix_duration().as_secs()),
            number: None,
            authority_key_id: None,
            entries: Vec::with_capacity(revoked.len()),
        };
        for ext in tbs.crl_extensions.iter().flatten() {
            let value = ext.extn_value.as_bytes();
            match ext.extn_id {
                // RFC 5280 §5.2.3: non-critical.
                rfc5280::ID_CE_CRL_NUMBER if ext.critical => {
                    return Err(CrlError::UnsupportedCriticalExtension(rfc5280::ID_CE_CRL_NUMBER));
                }
                rfc5280::ID_CE_CRL_NUMBER => {
                    let n = CrlNumber::from_der(value).map_err(malformed)?;
                    out.number = Some(serial_magnitude(n.0.as_bytes()).to_vec());
                }
                rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER => {
                    let aki = AuthorityKeyIdentifier::from_der(value).map_err(malformed)?;
                    out.authority_key_id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
                }
                // A delta or scoped CRL is not a complete list, whatever its critical flag says:
                // read as one, it would pass what it does not cover.
                oid @ (rfc5280::ID_CE_DELTA_CRL_INDICATOR
                | rfc5280::ID_CE_ISSUING_DISTRIBUTION_POINT
                | rfc5280::ID_CE_FRESHEST_CRL) => return Err(CrlError::UnsupportedCriticalExtension(oid)),
                oid if ext.critical => return Err(CrlError::UnsupportedCriticalExtension(oid)),
                _ => {}
            }
        }
        for r in revoked {
            let mut entry = Entry {
                serial: serial_magnitude(r.serial_number.as_bytes()).to_vec(),
                date: r.revocation_date.to_unix_duration().as_secs(),
                reason: None,
            };
            for ext in r.crl_entry_extensions.iter().flatten() {
                match ext.extn_id {
                    rfc5280::ID_CE_CRL_REASONS => {
                        let reason = CrlReason::from_der(ext.extn_value.as_bytes()).map_err(malformed)?;
                        entry.reason = Some(Reason::from_x509(reason));
                    }
                    // An indirect CRL's entries belong to other issuers.
                    rfc5280::ID_CE_CERTIFICATE_ISSUER => {
                        return Err(CrlError::UnsupportedCriticalExtension(
                            rfc5280::ID_CE_CERTIFICATE_ISSUER,
                        ));
                    }
                    oid if ext.critical => return Err(CrlError::UnsupportedCriticalExtension(oid)),
                    _ => {}
                }
            }
            // removeFromCRL belongs to delta CRLs: it un-revokes, so it is not an entry.
            if entry.reason != Some(Reason::RemoveFromCrl) {
                out.entries.push(entry);
            }
        }
        out.entries.sort_by(|a, b| a.serial.cmp(&b.serial));
        Ok(out)
    }

    /// The revoked certificates, ordered by serial.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry for a certificate serial (DER INTEGER content octets), if listed.
    pub fn lookup(&self, serial: &[u8]) -> Option<&Entry> {
        let want = serial_magnitude(serial);
        self.entries.binary_search_by(|e| e.serial.as_slice().cmp(want)).ok().map(|i| &self.entries[i])
    }

    /// Whether `now` is past nextUpdate.
    pub fn is_stale(&self, now: u64) -> bool {
        self.next_update.is_some_and(|n| now > n)
    }

    /// Checks that `issuer` issued this CRL: same name, cRLSign where keyUsage is present,
    /// and a signature that verifies with its key.
    pub fn check_signed_by(&self, issuer: &Cert<'_>) -> Result<(), CrlError> {
        if issuer.subject != self.issuer.as_slice() {
            return Err(CrlError::WrongIssuer {
                crl_issuer: self.issuer_text.clone(),
                cert: issuer.subject_text.clone(),
            });
        }
        if !issuer.key_usage_allows(key_usage::CRL_SIGN) {
            return Err(CrlError::NoCrlSign { cert: issuer.display_name().to_string() });
        }
        let check = || -> Result<(), SignatureError> {
            let alg = SignatureAlgorithm::from_der(self.signature_algorithm)?;
            PublicKey::from_spki_der(issuer.spki)?.verify(alg, self.tbs, self.signature)
        };
        check().map_err(|error| CrlError::BadSignature { cert: issuer.display_name().to_string(), error })
    }

    /// Whether the signature verifies with `issuer`'s key, whatever its keyUsage says.
    fn signature_verifies(&self, issuer: &Cert<'_>) -> bool {
        SignatureAlgorithm::from_der(self.signature_algorithm)
            .and_then(|alg| PublicKey::from_spki_der(issuer.spki)?.verify(alg, self.tbs, self.signature))
            .is_ok()
    }

    /// The first certificate among `candidates` that issued this CRL, or why none did (the
    /// error about the first candidate with the right name, if there is one).
    pub fn find_issuer<'c, 'd>(&self, candidates: &'c [Cert<'d>]) -> Result<&'c Cert<'d>, CrlError> {
        let mut first_error = None;
        for c in candidates {
            match self.check_signed_by(c) {
                Ok(()) => return Ok(c),
                Err(e @ CrlError::WrongIssuer { .. }) => {
                    first_error.get_or_insert(e);
                }
                Err(e) => {
                    if matches!(first_error, None | Some(CrlError::WrongIssuer { .. })) {
                        first_error = Some(e);
                    }
                }
            }
        }
        Err(first_error.unwrap_or(CrlError::WrongIssuer {
            crl_issuer: self.issuer_text.clone(),
            cert: "no certificate".into(),
        }))
    }
}

/// The CRLs path validation consults, and what a stale one means.
#[derive(Clone, Copy, Debug, Default)]
pub struct Revocation<'r> {
    /// The CRLs (each is checked against the issuer in the path before it is used).
    pub crls: &'r [Crl<'r>],
    /// Refuse every certificate whose issuer's CRL is past its nextUpdate (fail closed),
    /// rather than only the certificates it lists.
    pub require_fresh: bool,
}

impl Revocation<'_> {
    /// No CRLs.
    pub const NONE: Revocation<'static> = Revocation { crls: &[], require_fresh: false };
}

/// Why a certificate is refused by a CRL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revoked {
    /// The serial, as `bootsign list` shows it.
    pub serial: String,
    /// revocationDate.
    pub date: u64,
    /// reasonCode.
    pub reason: Option<Reason>,
    /// The CRL's issuer.
    pub issuer: String,
}

/// What the CRLs say about `cert`, issued by `issuer` (already known to have signed it).
pub(crate) enum Status {
    Good,
    Revoked(Revoked),
    /// A CRL signed by the issuer's key that must not be used (no cRLSign): ignoring it
    /// would fail open.
    Unusable(CrlError),
    Stale {
        issuer: String,
        next_update: u64,
    },
}

impl Revocation<'_> {
    pub(crate) fn status(&self, cert: &Cert<'_>, issuer: &Cert<'_>, now: u64) -> Status {
        let mut stale = None;
        for crl in self.crls.iter().filter(|c| c.issuer.as_slice() == issuer.subject) {
            match crl.check_signed_by(issuer) {
                Ok(()) => {}
                // Its key made the CRL, but may not sign CRLs: refuse rather than ignore.
                Err(e @ CrlError::NoCrlSign { .. }) if crl.signature_verifies(issuer) => {
                    return Status::Unusable(e);
                }
                // The same name on another key: not this issuer's CRL.
                Err(_) => continue,
            }
            if let Some(e) = crl.lookup(cert.serial) {
                return Status::Revoked(Revoked {
                    serial: serial_hex(cert.serial),
                    date: e.date,
                    reason: e.reason,
                    issuer: issuer.display_name().to_string(),
                });
            }
            if self.require_fresh && crl.is_stale(now) {
                stale = crl.next_update.map(|n| (issuer.display_name().to_string(), n));
            }
        }
        match stale {
            Some((issuer, next_update)) => Status::Stale { issuer, next_update },
            None => Status::Good,
        }
    }
}

#[cfg(test)]
mod tests;
