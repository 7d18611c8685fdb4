//! Certification path building and validation against SHA-256 fingerprint anchors.
//!
//! A path runs from the end-entity certificate through issuers found in the supplied
//! material (in any order, with extras) to a certificate whose fingerprint is trusted.
//! Where several certificates could be the issuer (a root and its cross-signed twin, an
//! old and a new intermediate with the same name), each is tried in turn, depth first,
//! before giving up; the error reported is the one from the path that got furthest.
//!
//! Checks, on every certificate of the path: validity at the given time, no critical
//! extension left unprocessed, no RSA key under 2048 bits, and the issuer's signature, which
//! must not use MD2, MD5 or SHA-1. On issuers: basicConstraints cA (an X.509 v1 certificate
//! is accepted as CA only when it is itself the anchor), keyCertSign where keyUsage is
//! present, pathLenConstraint, an extendedKeyUsage, when present, that allows the purpose,
//! and name constraints over every certificate below (see [`crate::constraints`]). On the
//! end entity: not a CA (unless it is pinned by its own fingerprint), the purpose (EKU and
//! keyUsage) and the name. The anchor is trusted for its key and name, but its validity,
//! key size and constraints are still checked, as OpenSSL does. Every certificate below the
//! anchor is looked up in its issuer's CRLs, when the policy carries any (see [`crate::crl`]).

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280;

use crate::cert::{Cert, key_usage};
use crate::constraints::{self, Budget, Violation};
use crate::crl::{CrlError, Revocation, Revoked, Status};
use crate::fingerprint::Fingerprint;
use crate::names::{ServerName, cert_matches_server, ip_text};
use crate::signature::{PublicKey, SignatureError, oid_name, weak_hash};
use crate::text::escape;

/// Longest path accepted, end entity and anchor included.
pub const MAX_DEPTH: usize = 8;
/// Most signature checks one search may make: a bound on the work a hostile bundle of
/// look-alike certificates can cause.
pub const MAX_SIGNATURE_CHECKS: usize = 128;
/// The smallest RSA modulus accepted anywhere in a path, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// What the end-entity certificate is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// TLS server authentication.
    ServerAuth,
    /// TLS client authentication.
    ClientAuth,
    /// Signing boot images.
    CodeSigning,
}

impl Purpose {
    /// The extendedKeyUsage OID of the purpose.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::ServerAuth => rfc5280::ID_KP_SERVER_AUTH,
            Self::ClientAuth => rfc5280::ID_KP_CLIENT_AUTH,
            Self::CodeSigning => rfc5280::ID_KP_CODE_SIGNING,
        }
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::ServerAuth => "TLS server (serverAuth)",
            Self::ClientAuth => "TLS client (clientAuth)",
            Self::CodeSigning => "code signing (codeSigning)",
        }
    }
}

/// What to validate a path for.
#[derive(Clone, Copy, Debug)]
pub struct Policy<'n> {
    /// The purpose of the end entity.
    pub purpose: Purpose,
    /// The time to check validity at, seconds since the epoch.
    pub time: u64,
    /// The server name the end entity must carry, if any.
    pub server_name: Option<ServerName<'n>>,
    /// The CRLs to consult.
    pub revocation: Revocation<'n>,
}

/// Why no acceptable path was found. Each variant names the certificate it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// The certificate expired before the validation time.
    Expired {
        /// The certificate.
        cert: String,
        /// Its notAfter.
        not_after: u64,
        /// The validation time.
        now: u64,
    },
    /// The certificate is not valid yet.
    NotYetValid {
        /// The certificate.
        cert: String,
        /// Its notBefore.
        not_before: u64,
        /// The validation time.
        now: u64,
    },
    /// A certificate that issued another is not a CA.
    NotCa {
        /// The would-be issuer.
        cert: String,
    },
    /// An issuer's keyUsage lacks keyCertSign.
    NoKeyCertSign {
        /// The issuer.
        cert: String,
    },
    /// An issuer's pathLenConstraint is smaller than the number of CAs below it.
    PathLenExceeded {
        /// The issuer.
        cert: String,
        /// Its pathLenConstraint.
        path_len: u8,
        /// Intermediate CAs below it.
        below: usize,
    },
    /// A critical extension bootsign does not process.
    UnknownCriticalExtension {
        /// The certificate.
        cert: String,
        /// The extension.
        oid: ObjectIdentifier,
    },
    /// The issuer's key did not make the certificate's signature.
    BadSignature {
        /// The certificate.
        cert: String,
        /// The issuer tried.
        issuer: String,
        /// Why the signature failed.
        error: SignatureError,
    },
    /// An extendedKeyUsage does not allow the purpose.
    WrongPurpose {
        /// The certificate.
        cert: String,
        /// The purpose required.
        purpose: Purpose,
    },
    /// The end entity's keyUsage lacks what the purpose needs.
    KeyUsage {
        /// The certificate.
        cert: String,
        /// The bit that is missing.
        needed: &'static str,
    },
    /// The end entity is not valid for the name.
    NameMismatch {
        /// The certificate.
        cert: String,
        /// The name asked for.
        name: String,
    },
    /// No certificate in the material is the issuer.
    UnknownIssuer {
        /// The certificate whose issuer is missing.
        cert: String,
        /// The missing issuer's name.
        issuer: String,
    },
    /// The path ends at a root that is not trusted.
    UntrustedRoot {
        /// The root.
        cert: String,
        /// Its fingerprint.
        fingerprint: Fingerprint,
    },
    /// Paths longer than [`MAX_DEPTH`] are not followed.
    TooLong {
        /// The certificate at the limit.
        cert: String,
    },
    /// The material offered so many candidate issuers that the search gave up.
    TooManyCandidates,
    /// A certificate's names are outside the name constraints of a CA above it.
    NameConstraints {
        /// The certificate.
        cert: String,
        /// The CA whose constraints it breaks.
        ca: String,
        /// Which name and why.
        violation: Violation,
    },
    /// A certificate's key is too weak (RSA under [`MIN_RSA_BITS`] bits).
    WeakKey {
        /// The certificate.
        cert: String,
        /// The RSA modulus size.
        bits: usize,
    },
    /// A certificate is signed with a broken hash (MD2, MD5 or SHA-1).
    WeakSignature {
        /// The certificate.
        cert: String,
        /// The algorithm's name.
        algorithm: &'static str,
    },
    /// A CA certificate (basicConstraints cA) is presented as the end entity.
    CaAsEndEntity {
        /// The certificate.
        cert: String,
    },
    /// The certificate is on its issuer's CRL.
    Revoked {
        /// The certificate.
        cert: String,
        /// Serial, date, reason and issuer.
        revoked: Revoked,
    },
    /// A certificate breaks a rule of the RFC 5280 profile that validation depends on.
    Profile {
        /// The certificate.
        cert: String,
        /// The rule.
        rule: &'static str,
    },
    /// A CRL from the issuer's key that cannot be used: it would fail open to ignore it.
    UnusableCrl {
        /// The certificate.
        cert: String,
        /// Why.
        error: Box<CrlError>,
    },
    /// The issuer's CRL is past its nextUpdate, and the policy requires fresh CRLs.
    StaleCrl {
        /// The certificate.
        cert: String,
        /// The CRL's issuer.
        issuer: String,
        /// Its nextUpdate.
        next_update: u64,
        /// The validation time.
        now: u64,
    },
}

fn when(secs: u64) -> String {
    match der::DateTime::from_unix_duration(core::time::Duration::from_secs(secs)) {
        Ok(dt) => alloc::format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minutes(),
            dt.seconds()
        ),
        Err(_) => alloc::format!("{secs} s after the epoch"),
    }
}

impl PathError {
    /// Whether the failure is about time: a certificate outside its validity period or a
    /// CRL past its nextUpdate, as judged by the validation time. With a wrong clock
    /// these are what fails, so a platform can say so (and how to set the clock).
    pub fn depends_on_the_clock(&self) -> bool {
        matches!(self, Self::Expired { .. } | Self::NotYetValid { .. } | Self::StaleCrl { .. })
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Expired { cert, not_after, now } => {
                write!(
                    f,
                    "certificate \"{cert}\" expired on {} (checked at {})",
                    when(*not_after),
                    when(*now),
                    cert = escape(cert)
                )
            }
            Self::NotYetValid { cert, not_before, now } => write!(
                f,
                "certificate \"{cert}\" is not valid until {} (checked at {}; is the clock right?)",
                when(*not_before),
                when(*now),
                cert = escape(cert)
            ),
            Self::NotCa { cert } => {
                write!(
                    f,
                    "certificate \"{cert}\" issued another certificate but is not a CA",
                    cert = escape(cert)
                )
            }
            Self::NoKeyCertSign { cert } => {
                write!(f, "CA certificate \"{cert}\" has a keyUsage without keyCertSign", cert = escape(cert))
            }
            Self::PathLenExceeded { cert, path_len, below } => write!(
                f,
                "CA certificate \"{cert}\" allows {path_len} intermediate CA(s) below it (pathLenConstraint) but the chain has {below}",
                cert = escape(cert)
            ),
            Self::UnknownCriticalExtension { cert, oid } => {
                write!(
                    f,
                    "certificate \"{cert}\" has an unsupported critical extension {}",
                    oid_name(oid),
                    cert = escape(cert)
                )
            }
            Self::BadSignature { cert, issuer, error } => {
                write!(
                    f,
                    "the signature on certificate \"{cert}\" by \"{issuer}\" is bad: {error}",
                    cert = escape(cert),
                    issuer = escape(issuer)
                )
            }
            Self::WrongPurpose { cert, purpose } => {
                write!(
                    f,
                    "certificate \"{cert}\" is not for {} (its extendedKeyUsage does not allow it)",
                    purpose.name(),
                    cert = escape(cert)
                )
            }
            Self::KeyUsage { cert, needed } => {
                write!(f, "certificate \"{cert}\" has a keyUsage without {needed}", cert = escape(cert))
            }
            Self::NameMismatch { cert, name } => {
                write!(
                    f,
                    "certificate \"{cert}\" is not valid for the name {name}",
                    cert = escape(cert),
                    name = escape(name)
                )
            }
            Self::UnknownIssuer { cert, issuer } => write!(
                f,
                "the issuer \"{issuer}\" of certificate \"{cert}\" is not trusted and was not supplied",
                cert = escape(cert),
                issuer = escape(issuer)
            ),
            Self::UntrustedRoot { cert, fingerprint } => {
                write!(f, "root \"{cert}\" is not trusted (SHA-256 {fingerprint})", cert = escape(cert))
            }
            Self::TooLong { cert } => {
                write!(
                    f,
                    "the chain above \"{cert}\" is longer than {MAX_DEPTH} certificates",
                    cert = escape(cert)
                )
            }
            Self::TooManyCandidates => write!(
                f,
                "gave up after {MAX_SIGNATURE_CHECKS} signature checks: the certificates offered form too many candidate paths"
            ),
            Self::NameConstraints { cert, ca, violation } => {
                write!(
                    f,
                    "certificate \"{cert}\" breaks the name constraints of CA \"{ca}\": {violation}",
                    cert = escape(cert),
                    ca = escape(ca)
                )
            }
            Self::WeakKey { cert, bits } => write!(
                f,
                "certificate \"{cert}\" has a {bits}-bit RSA key; RSA keys under {MIN_RSA_BITS} bits are refused",
                cert = escape(cert)
            ),
            Self::WeakSignature { cert, algorithm } => write!(
                f,
                "certificate \"{cert}\" is signed with {algorithm}, a broken hash; it must be re-issued with SHA-256 or better",
                cert = escape(cert)
            ),
            Self::Revoked { cert, revoked } => {
                write!(
                    f,
                    "certificate \"{cert}\" (serial {}) was revoked by \"{}\" on {}",
                    revoked.serial,
                    escape(&revoked.issuer),
                    when(revoked.date),
                    cert = escape(cert)
                )?;
                match revoked.reason {
                    Some(r) => write!(f, " (reason: {})", r.name()),
                    None => Ok(()),
                }
            }
            Self::Profile { cert, rule } => {
                write!(f, "certificate \"{cert}\" breaks RFC 5280: {rule}", cert = escape(cert))
            }
            Self::UnusableCrl { cert, error } => {
                write!(
                    f,
                    "the CRL for certificate \"{cert}\" cannot be used, so its status is unknown: {error}",
                    cert = escape(cert)
                )
            }
            Self::StaleCrl { cert, issuer, next_update, now } => write!(
                f,
                "the CRL of \"{issuer}\", which issued certificate \"{cert}\", expired on {} (checked at {}), \
                 and this image requires current CRLs; build it again with a new CRL (bootsign crl)",
                when(*next_update),
                when(*now),
                cert = escape(cert),
                issuer = escape(issuer)
            ),
            Self::CaAsEndEntity { cert } => write!(
                f,
                "certificate \"{cert}\" is a CA certificate (basicConstraints cA) and cannot be used as an end entity",
                cert = escape(cert)
            ),
        }
    }
}

/// A path that passed validation. Only this module constructs it.
#[derive(Debug)]
pub struct VerifiedPath<'p, 'a> {
    chain: Vec<&'p Cert<'a>>,
}

impl<'p, 'a> VerifiedPath<'p, 'a> {
    /// The path, end entity first, trusted anchor last.
    pub fn chain(&self) -> &[&'p Cert<'a>] {
        &self.chain
    }

    /// The end entity.
    pub fn end_entity(&self) -> &'p Cert<'a> {
        self.chain[0]
    }

    /// The trusted certificate the path ends at.
    pub fn anchor(&self) -> &'p Cert<'a> {
        self.chain[self.chain.len() - 1]
    }
}

fn check_validity(cert: &Cert<'_>, now: u64) -> Result<(), PathError> {
    if now < cert.not_before {
        return Err(PathError::NotYetValid { cert: name(cert), not_before: cert.not_before, now });
    }
    if now > cert.not_after {
        return Err(PathError::Expired { cert: name(cert), not_after: cert.not_after, now });
    }
    if let Some(oid) = cert.unknown_critical {
        return Err(PathError::UnknownCriticalExtension { cert: name(cert), oid });
    }
    if let Some(rule) = cert.profile_error {
        return Err(PathError::Profile { cert: name(cert), rule });
    }
    check_key_strength(cert)
}

/// RSA keys under [`MIN_RSA_BITS`] are refused wherever they are in a path, the trusted
/// anchor included. Keys of kinds this crate cannot use fail later, at the signature.
fn check_key_strength(cert: &Cert<'_>) -> Result<(), PathError> {
    if let Ok(key @ PublicKey::Rsa(_)) = PublicKey::from_spki_der(cert.spki)
        && key.bits() < MIN_RSA_BITS
    {
        return Err(PathError::WeakKey { cert: name(cert), bits: key.bits() });
    }
    Ok(())
}

fn name(cert: &Cert<'_>) -> String {
    cert.display_name().to_string()
}

fn check_end_entity(cert: &Cert<'_>, policy: &Policy<'_>, pinned: bool) -> Result<(), PathError> {
    check_validity(cert, policy.time)?;
    // A CA certificate signs certificates, not handshakes or images (as rustls-webpki; OpenSSL
    // lets it pass). A certificate trusted by its own fingerprint is a pin and may be one.
    if !pinned && matches!(cert.basic_constraints, Some((true, _))) {
        return Err(PathError::CaAsEndEntity { cert: name(cert) });
    }
    // RFC 5280 §4.2.1.3: keyCertSign only with cA; §4.2.1.10: nameConstraints only in CAs.
    if !pinned && cert.key_usage.is_some_and(|ku| ku & key_usage::KEY_CERT_SIGN != 0) {
        return Err(PathError::Profile { cert: name(cert), rule: "keyCertSign is set but it is not a CA" });
    }
    if !pinned && cert.name_constraints.is_some() {
        return Err(PathError::Profile {
            cert: name(cert),
            rule: "nameConstraints in a certificate that is not a CA",
        });
    }
    let purpose = policy.purpose;
    let eku_ok = match purpose {
        // A code-signing certificate must say so: an unrestricted certificate is not one.
        Purpose::CodeSigning => cert.ext_key_usage.as_ref().is_some_and(|l| l.contains(&purpose.oid())),
        _ => cert.eku_allows(purpose.oid()),
    };
    if !eku_ok {
        return Err(PathError::WrongPurpose { cert: name(cert), purpose });
    }
    let (bits, needed) = match purpose {
        // Either bit, as key exchange decides which one is used: a TLS server key signs the
        // handshake (ECDHE, TLS 1.3: digitalSignature) or decrypts the premaster secret
        // (static RSA: keyEncipherment). This is only the purpose-level minimum; each TLS
        // path checks the bit its key exchange needs (bootsign-tls: the handshake-signature
        // check requires digitalSignature, the legacy static-RSA engine keyEncipherment).
        Purpose::ServerAuth => (
            key_usage::DIGITAL_SIGNATURE | key_usage::KEY_ENCIPHERMENT,
            "digitalSignature or keyEncipherment",
        ),
        _ => (key_usage::DIGITAL_SIGNATURE, "digitalSignature"),
    };
    if !cert.key_usage_allows(bits) {
        return Err(PathError::KeyUsage { cert: name(cert), needed });
    }
    if let Some(server) = policy.server_name
        && !cert_matches_server(cert, server)
    {
        let shown = match server {
            ServerName::Dns(d) => d.to_string(),
            ServerName::Ip(ip) => ip_text(ip),
        };
        return Err(PathError::NameMismatch { cert: name(cert), name: shown });
    }
    Ok(())
}

/// Checks `issuer` as the CA at position `chain.len()` above `chain`.
fn check_issuer(
    issuer: &Cert<'_>,
    chain: &[&Cert<'_>],
    anchored: bool,
    policy: &Policy<'_>,
    budget: &mut Budget,
) -> Result<(), PathError> {
    check_validity(issuer, policy.time)?;
    // RFC 5280 §4.1.2.6: a CA's subject is a non-empty name.
    if issuer.subject == [0x30, 0x00] {
        return Err(PathError::Profile {
            cert: name(issuer),
            rule: "a CA certificate with an empty subject",
        });
    }
    match issuer.basic_constraints {
        Some((true, path_len)) => {
            if let Some(limit) = path_len {
                // Intermediate CAs between this issuer and the end entity; self-issued
                // certificates (key rollover) do not count (RFC 5280 §6.1.4 (l)).
                let below = chain.iter().skip(1).filter(|c| !c.is_self_issued()).count();
                if below > usize::from(limit) {
                    return Err(PathError::PathLenExceeded { cert: name(issuer), path_len: limit, below });
                }
            }
        }
        None if issuer.version == 1 && anchored => {}
        _ => return Err(PathError::NotCa { cert: name(issuer) }),
    }
    if !issuer.key_usage_allows(key_usage::KEY_CERT_SIGN) {
        return Err(PathError::NoKeyCertSign { cert: name(issuer) });
    }
    if !issuer.eku_allows(policy.purpose.oid()) {
        return Err(PathError::WrongPurpose { cert: name(issuer), purpose: policy.purpose });
    }
    // Its name constraints bind every certificate below it (RFC 5280 §6.1.3 (b), (c)).
    if let Some(nc) = &issuer.name_constraints {
        // Self-issued certificates other than the end entity are exempt (§6.1.3 (b)): key
        // rollover certificates must pass whatever their names.
        for (i, below) in chain.iter().enumerate().filter(|(i, c)| *i == 0 || !c.is_self_issued()) {
            constraints::check(nc, below, i == 0, budget).map_err(|violation| {
                PathError::NameConstraints { cert: name(below), ca: name(issuer), violation }
            })?;
        }
    }
    Ok(())
}

struct Search<'p, 'a, 'x> {
    pool: &'p [Cert<'a>],
    anchors: &'x [Fingerprint],
    policy: &'x Policy<'x>,
    best: Option<(usize, PathError)>,
    checks: usize,
    budget: Budget,
}

impl<'p, 'a> Search<'p, 'a, '_> {
    fn fail(&mut self, depth: usize, err: PathError) {
        if self.best.as_ref().is_none_or(|(d, _)| depth > *d) {
            self.best = Some((depth, err));
        }
    }

    fn extend(&mut self, chain: &mut Vec<&'p Cert<'a>>) -> bool {
        let current = chain[chain.len() - 1];
        let depth = chain.len();
        // A certificate already in the chain, or another with the same name and key,
        // would only lead around in a circle.
        let mut candidates: Vec<&'p Cert<'a>> = self
            .pool
            .iter()
            .filter(|c| {
                c.subject == current.issuer
                    && !chain
                        .iter()
                        .any(|seen| seen.der == c.der || (seen.subject == c.subject && seen.spki == c.spki))
            })
            .collect();
        // Issuers whose key identifier the certificate names come first.
        candidates.sort_by_key(|c| {
            !(current.authority_key_id.is_some() && current.authority_key_id == c.subject_key_id)
        });
        if candidates.is_empty() {
            let err = if current.is_self_issued() && current.check_signed_by(current).is_ok() {
                PathError::UntrustedRoot { cert: name(current), fingerprint: current.fingerprint() }
            } else {
                PathError::UnknownIssuer { cert: name(current), issuer: current.issuer_text.clone() }
            };
            self.fail(depth, err);
            return false;
        }
        for issuer in candidates {
            self.checks += 1;
            if self.checks > MAX_SIGNATURE_CHECKS {
                self.best = Some((usize::MAX, PathError::TooManyCandidates));
                return false;
            }
            if let Some(algorithm) = weak_hash(current.signature_algorithm) {
                self.fail(depth, PathError::WeakSignature { cert: name(current), algorithm });
                continue;
            }
            if let Err(error) = current.check_signed_by(issuer) {
                self.fail(
                    depth,
                    PathError::BadSignature { cert: name(current), issuer: name(issuer), error },
                );
                continue;
            }
            let anchored = self.anchors.contains(&issuer.fingerprint());
            if let Err(e) = check_issuer(issuer, chain, anchored, self.policy, &mut self.budget) {
                self.fail(depth + 1, e);
                continue;
            }
            match self.policy.revocation.status(current, issuer, self.policy.time) {
                Status::Good => {}
                Status::Revoked(revoked) => {
                    self.fail(depth + 1, PathError::Revoked { cert: name(current), revoked });
                    continue;
                }
                Status::Unusable(error) => {
                    let error = Box::new(error);
                    self.fail(depth + 1, PathError::UnusableCrl { cert: name(current), error });
                    continue;
                }
                Status::Stale { issuer, next_update } => {
                    let now = self.policy.time;
                    self.fail(depth, PathError::StaleCrl { cert: name(current), issuer, next_update, now });
                    continue;
                }
            }
            chain.push(issuer);
            if anchored {
                return true;
            }
            if chain.len() >= MAX_DEPTH {
                self.fail(depth + 1, PathError::TooLong { cert: name(issuer) });
            } else if self.extend(chain) {
                return true;
            }
            chain.pop();
        }
        false
    }
}

/// Finds and validates a path from `end_entity` to one of `anchors`, taking issuers from
/// `pool` (any order; unrelated certificates are ignored).
pub fn verify_path<'p, 'a>(
    end_entity: &'p Cert<'a>,
    pool: &'p [Cert<'a>],
    anchors: &[Fingerprint],
    policy: &Policy<'_>,
) -> Result<VerifiedPath<'p, 'a>, PathError> {
    let pinned = anchors.contains(&end_entity.fingerprint());
    check_end_entity(end_entity, policy, pinned)?;
    let mut chain = alloc::vec![end_entity];
    if pinned {
        return Ok(VerifiedPath { chain });
    }
    let mut search = Search { pool, anchors, policy, best: None, checks: 0, budget: Budget::default() };
    if search.extend(&mut chain) {
        return Ok(VerifiedPath { chain });
    }
    Err(search.best.map(|(_, e)| e).unwrap_or(PathError::UnknownIssuer {
        cert: name(end_entity),
        issuer: end_entity.issuer_text.clone(),
    }))
}

#[cfg(test)]
mod tests;
