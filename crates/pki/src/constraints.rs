//! Name constraints (RFC 5280 §4.2.1.10), enforced whether the extension is critical or not.
//!
//! A CA certificate's nameConstraints limit the names every certificate below it in a path
//! may carry. Constraints of one form only limit names of the same form:
//!
//! - **dNSName**: `example.com` covers `example.com` and every name made by adding labels on
//!   the left; `.example.com` only the latter; an empty constraint covers everything. A
//!   wildcard name (`*.example.com`) is inside a permitted subtree when its fixed part is,
//!   and hits an excluded subtree when any name it could stand for would.
//! - **iPAddress**: an address and a contiguous mask (8 bytes for IPv4, 32 for IPv6); an
//!   address is covered when it agrees with the constraint on the mask's bits.
//! - **directoryName**: a name is covered when the constraint's RDNs are its leading RDNs,
//!   compared as RFC 5280 §7.1 asks (string values without regard to case or to leading,
//!   trailing and repeated white space).
//! - **rfc822Name**: `user@host` covers that mailbox, `host` every mailbox at that host and
//!   `.host` every mailbox at a host below it. Subject `emailAddress` attributes count as
//!   rfc822Names too.
//!
//! Names checked: every subjectAltName entry, the subject (except on self-issued
//! intermediates, §6.1.3 (b)), and the end entity's common name as a DNS name when it has
//! no subjectAltName (the only case in which bootsign reads the CN as a host name).
//! Constraints of a form this module does not evaluate (URI, otherName, x400Address,
//! ediPartyName, registeredID) refuse any certificate below them that carries a name of
//! that form; a malformed constraint, or one using `minimum`/`maximum`, refuses everything
//! below it. Fail closed, always.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use const_oid::ObjectIdentifier;
use der::{Decode, Tag, Tagged};
use x509_cert::ext::pkix::constraints::name::{GeneralSubtree, NameConstraints as RawConstraints};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::{Name, RelativeDistinguishedName};

use crate::cert::{AltName, Cert};
use crate::text::escape;

/// The emailAddress attribute (PKCS #9), which RFC 5280 treats as an rfc822Name.
pub const EMAIL_ADDRESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");

/// Most name-against-constraint comparisons one path search may make.
pub const MAX_COMPARISONS: usize = 250_000;

/// One subtree of a nameConstraints extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subtree {
    /// dNSName subtree, as written.
    Dns(String),
    /// iPAddress subtree: address and mask of equal length (4 or 16 bytes).
    Ip {
        /// Network address.
        addr: Vec<u8>,
        /// Contiguous mask.
        mask: Vec<u8>,
    },
    /// directoryName subtree.
    Directory(Name),
    /// rfc822Name subtree: a mailbox, a host or `.domain`.
    Email(String),
    /// A form bootsign does not evaluate: names of this form below it are refused.
    Unsupported(NameForm),
}

/// The forms of GeneralName, for messages and for matching unsupported constraints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameForm {
    /// otherName.
    Other,
    /// rfc822Name.
    Email,
    /// dNSName.
    Dns,
    /// x400Address.
    X400,
    /// directoryName.
    Directory,
    /// ediPartyName.
    EdiParty,
    /// uniformResourceIdentifier.
    Uri,
    /// iPAddress.
    Ip,
    /// registeredID.
    RegisteredId,
}

impl NameForm {
    /// The ASN.1 name of the form.
    pub fn name(self) -> &'static str {
        match self {
            Self::Other => "otherName",
            Self::Email => "rfc822Name",
            Self::Dns => "dNSName",
            Self::X400 => "x400Address",
            Self::Directory => "directoryName",
            Self::EdiParty => "ediPartyName",
            Self::Uri => "uniformResourceIdentifier",
            Self::Ip => "iPAddress",
            Self::RegisteredId => "registeredID",
        }
    }
}

/// A CA's name constraints, checked for shape when the certificate is parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameConstraints {
    /// permittedSubtrees; `None` when absent.
    pub permitted: Option<Vec<Subtree>>,
    /// excludedSubtrees.
    pub excluded: Vec<Subtree>,
    /// Why the extension cannot be used, when it is malformed or uses what RFC 5280 forbids:
    /// it then refuses every certificate below it.
    pub invalid: Option<&'static str>,
}

impl NameConstraints {
    /// Decodes the extension's value. Only a value that is not DER at all is an error;
    /// constraints that decode but cannot be honoured are kept with `invalid` set.
    pub fn from_der(value: &[u8]) -> Result<Self, der::Error> {
        let raw = RawConstraints::from_der(value)?;
        let mut out = Self { permitted: None, excluded: Vec::new(), invalid: None };
        if raw.permitted_subtrees.is_none() && raw.excluded_subtrees.is_none() {
            // RFC 5280: "Conforming CAs MUST NOT issue certificates where name constraints
            // is an empty sequence."
            out.invalid = Some("it is empty");
        }
        // GeneralSubtrees ::= SEQUENCE SIZE (1..MAX): an empty list is malformed.
        if raw.permitted_subtrees.as_ref().is_some_and(|l| l.is_empty())
            || raw.excluded_subtrees.as_ref().is_some_and(|l| l.is_empty())
        {
            out.invalid = Some("a subtree list is empty");
        }
        if let Some(list) = &raw.permitted_subtrees {
            out.permitted = Some(list.iter().map(|s| out.subtree(s)).collect());
        }
        if let Some(list) = &raw.excluded_subtrees {
            out.excluded = list.iter().map(|s| out.subtree(s)).collect();
        }
        Ok(out)
    }

    fn subtree(&mut self, s: &GeneralSubtree) -> Subtree {
        if s.minimum != 0 || s.maximum.is_some() {
            self.invalid = Some("a subtree sets minimum or maximum, which RFC 5280 forbids");
        }
        match &s.base {
            GeneralName::DnsName(d) => {
                let d = d.as_str();
                if !valid_dns_constraint(d) {
                    self.invalid = Some("a dNSName subtree is not a valid DNS name");
                }
                Subtree::Dns(d.to_string())
            }
            GeneralName::IpAddress(ip) => {
                let b = ip.as_bytes();
                if (b.len() != 8 && b.len() != 32) || !contiguous(&b[b.len() / 2..]) {
                    self.invalid = Some("an iPAddress subtree is not an address with a contiguous mask");
                }
                let (addr, mask) = b.split_at(b.len() / 2);
                Subtree::Ip { addr: addr.to_vec(), mask: mask.to_vec() }
            }
            GeneralName::DirectoryName(n) => Subtree::Directory(n.clone()),
            GeneralName::Rfc822Name(m) => {
                let m = m.as_str();
                if m.is_empty() || m.matches('@').count() > 1 {
                    self.invalid = Some("an rfc822Name subtree is not a mailbox, host or domain");
                }
                Subtree::Email(m.to_string())
            }
            GeneralName::UniformResourceIdentifier(_) => Subtree::Unsupported(NameForm::Uri),
            GeneralName::OtherName(_) => Subtree::Unsupported(NameForm::Other),
            GeneralName::EdiPartyName(_) => Subtree::Unsupported(NameForm::EdiParty),
            GeneralName::RegisteredId(_) => Subtree::Unsupported(NameForm::RegisteredId),
        }
    }
}

fn contiguous(mask: &[u8]) -> bool {
    let mut ended = false;
    for &b in mask {
        for bit in (0..8).rev() {
            let set = b >> bit & 1 == 1;
            if set && ended {
                return false;
            }
            if !set {
                ended = true;
            }
        }
    }
    true
}

fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// A dNSName constraint: empty, or labels with an optional leading dot.
fn valid_dns_constraint(d: &str) -> bool {
    let body = d.strip_prefix('.').unwrap_or(d);
    d.is_empty() || (d.len() <= 253 && body.split('.').all(valid_label))
}

/// A presented DNS name: labels, the left-most of which may be a lone `*`.
pub fn valid_dns_name(d: &str) -> bool {
    let body = d.strip_prefix("*.").unwrap_or(d);
    !body.is_empty() && d.len() <= 253 && body.split('.').all(valid_label)
}

/// Why a certificate is outside a CA's name constraints.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A name is in none of the permitted subtrees of its form.
    NotPermitted(String),
    /// A name is in an excluded subtree.
    Excluded(String),
    /// A name of a form whose constraints bootsign does not evaluate.
    UnsupportedForm(NameForm, String),
    /// The constraints themselves cannot be used.
    Invalid(&'static str),
    /// A name is not well formed, so it cannot be placed.
    MalformedName(String),
    /// Too many comparisons: [`MAX_COMPARISONS`].
    TooManyComparisons,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPermitted(n) => write!(f, "{} is outside its permitted subtrees", escape(n)),
            Self::Excluded(n) => write!(f, "{} is in an excluded subtree", escape(n)),
            Self::UnsupportedForm(form, n) => write!(
                f,
                "{} is constrained by {} subtrees, which bootsign does not evaluate",
                escape(n),
                form.name()
            ),
            Self::Invalid(why) => write!(f, "the constraints cannot be used: {why}"),
            Self::MalformedName(n) => write!(f, "{} is not a well-formed name", escape(n)),
            Self::TooManyComparisons => {
                write!(f, "more than {MAX_COMPARISONS} name comparisons; the certificates are too large")
            }
        }
    }
}

/// A name presented by a certificate, as the constraint check sees it.
enum Presented<'c> {
    Dns(&'c str),
    Ip(&'c [u8]),
    Directory(&'c Name),
    Email(&'c str),
    Other(NameForm),
}

impl Presented<'_> {
    fn form(&self) -> NameForm {
        match self {
            Self::Dns(_) => NameForm::Dns,
            Self::Ip(_) => NameForm::Ip,
            Self::Directory(_) => NameForm::Directory,
            Self::Email(_) => NameForm::Email,
            Self::Other(f) => *f,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Dns(d) => alloc::format!("DNS:{d}"),
            Self::Ip(ip) => alloc::format!("IP:{}", crate::names::ip_text(ip)),
            Self::Directory(n) => alloc::format!("DirName:{n}"),
            Self::Email(m) => alloc::format!("email:{m}"),
            Self::Other(f) => alloc::format!("a name of form {}", f.name()),
        }
    }
}

/// Comparison counter shared by every check of one path search.
#[derive(Debug, Default)]
pub struct Budget {
    used: usize,
}

impl Budget {
    fn spend(&mut self) -> Result<(), Violation> {
        self.used += 1;
        if self.used > MAX_COMPARISONS { Err(Violation::TooManyComparisons) } else { Ok(()) }
    }
}

/// Checks every name of `cert` against `nc`. `is_end_entity` says whether `cert` ends the
/// path (its CN may then be a host name, and its subject is checked even when self-issued).
pub fn check(
    nc: &NameConstraints,
    cert: &Cert<'_>,
    is_end_entity: bool,
    budget: &mut Budget,
) -> Result<(), Violation> {
    if let Some(why) = nc.invalid {
        return Err(Violation::Invalid(why));
    }
    let subject = Name::from_der(cert.subject).map_err(|_| Violation::MalformedName("the subject".into()))?;
    let mut names: Vec<Presented<'_>> = Vec::new();
    if !subject.is_empty() && (is_end_entity || !cert.is_self_issued()) {
        names.push(Presented::Directory(&subject));
    }
    let mut emails: Vec<String> = Vec::new();
    for atv in subject.iter().filter(|a| a.oid == EMAIL_ADDRESS) {
        let text = core::str::from_utf8(atv.value.value())
            .map_err(|_| Violation::MalformedName("the subject's emailAddress".into()))?;
        emails.push(text.to_string());
    }
    names.extend(emails.iter().map(|e| Presented::Email(e)));
    match &cert.alt_names {
        Some(list) => names.extend(list.iter().map(|n| match n {
            AltName::Dns(d) => Presented::Dns(d),
            AltName::Ip(ip) => Presented::Ip(ip),
            AltName::Email(m) => Presented::Email(m),
            AltName::Directory(n) => Presented::Directory(n),
            AltName::Uri(_) => Presented::Other(NameForm::Uri),
            AltName::Unsupported(f) => Presented::Other(*f),
        })),
        None => {
            // The CN is a host name only for an end entity without subjectAltName.
            // A trailing dot is dropped here as the host-name match drops it. A CN that is not
            // a DNS name cannot match a host, but where dNSName subtrees bind it, it is
            // refused rather than let through unchecked.
            if is_end_entity && let Some(cn) = cert.common_name.as_deref() {
                let bare = cn.strip_suffix('.').unwrap_or(cn);
                let dns_bound =
                    nc.permitted.iter().flatten().chain(&nc.excluded).any(|s| matches!(s, Subtree::Dns(_)));
                if valid_dns_name(bare) {
                    names.push(Presented::Dns(bare));
                } else if dns_bound && cert.version == 1 {
                    return Err(Violation::MalformedName(alloc::format!("CN:{cn}")));
                }
            }
        }
    }
    for name in &names {
        check_name(nc, name, budget)?;
    }
    Ok(())
}

fn check_name(nc: &NameConstraints, name: &Presented<'_>, budget: &mut Budget) -> Result<(), Violation> {
    let form = name.form();
    if let Presented::Dns(d) = name
        && !valid_dns_name(d)
    {
        return Err(Violation::MalformedName(name.describe()));
    }
    if let Presented::Ip(ip) = name
        && ip.len() != 4
        && ip.len() != 16
    {
        return Err(Violation::MalformedName(name.describe()));
    }
    let all = nc.permitted.iter().flatten().chain(nc.excluded.iter());
    if all.clone().any(|s| matches!(s, Subtree::Unsupported(f) if *f == form)) {
        return Err(Violation::UnsupportedForm(form, name.describe()));
    }
    for subtree in &nc.excluded {
        budget.spend()?;
        if matches(subtree, name, false)? {
            return Err(Violation::Excluded(name.describe()));
        }
    }
    if let Some(permitted) = &nc.permitted {
        let mut of_form = false;
        for subtree in permitted {
            budget.spend()?;
            match matches(subtree, name, true)? {
                true => return Ok(()),
                false => of_form |= same_form(subtree, form),
            }
        }
        if of_form {
            return Err(Violation::NotPermitted(name.describe()));
        }
    }
    Ok(())
}

fn same_form(s: &Subtree, form: NameForm) -> bool {
    matches!(
        (s, form),
        (Subtree::Dns(_), NameForm::Dns)
            | (Subtree::Ip { .. }, NameForm::Ip)
            | (Subtree::Directory(_), NameForm::Directory)
            | (Subtree::Email(_), NameForm::Email)
    )
}

/// Whether `name` is inside `subtree` (false when the forms differ).
fn matches(subtree: &Subtree, name: &Presented<'_>, permitted: bool) -> Result<bool, Violation> {
    Ok(match (subtree, name) {
        (Subtree::Dns(c), Presented::Dns(d)) => dns_within(d, c, permitted),
        (Subtree::Ip { addr, mask }, Presented::Ip(ip)) => {
            // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address for IPv4
            // subtrees, so it cannot slip past one.
            let v4 = match ip.len() {
                16 if ip[..10].iter().all(|b| *b == 0) && ip[10..12] == [0xff, 0xff] => &ip[12..],
                _ => ip,
            };
            let ip = if addr.len() == 4 { v4 } else { ip };
            ip.len() == addr.len() && ip.iter().zip(addr).zip(mask).all(|((a, b), m)| a & m == b & m)
        }
        (Subtree::Directory(c), Presented::Directory(n)) => directory_within(n, c),
        (Subtree::Email(c), Presented::Email(m)) => email_within(m, c)?,
        _ => false,
    })
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Whether the DNS name `d` is in the subtree `c`. In a permitted subtree a wildcard label
/// is an ordinary label (its other labels must be inside); in an excluded one it stands for
/// any label, so `*.example.com` hits `host.example.com`.
fn dns_within(d: &str, c: &str, permitted: bool) -> bool {
    let d = d.strip_suffix('.').unwrap_or(d);
    if c.is_empty() {
        return true;
    }
    let inside = |name: &str| match c.strip_prefix('.') {
        Some(_) => name.len() > c.len() && ends_with_ignore_case(name, c),
        None => {
            name.eq_ignore_ascii_case(c)
                || (name.len() > c.len()
                    && ends_with_ignore_case(name, c)
                    && name.as_bytes()[name.len() - c.len() - 1] == b'.')
        }
    };
    if inside(d) {
        return true;
    }
    match d.strip_prefix("*.") {
        // One label in place of `*` could make a name inside `c`: c is `label.rest` itself.
        Some(rest) if !permitted => {
            let body = c.strip_prefix('.').unwrap_or(c);
            match body.split_once('.') {
                Some((label, tail)) => {
                    !label.is_empty() && tail.eq_ignore_ascii_case(rest) && !c.starts_with('.')
                }
                None => false,
            }
        }
        _ => false,
    }
}

fn email_within(m: &str, c: &str) -> Result<bool, Violation> {
    let (local, host) =
        m.rsplit_once('@').ok_or_else(|| Violation::MalformedName(alloc::format!("email:{m}")))?;
    // An absolute host (trailing dot) is the same host.
    let host = host.strip_suffix('.').unwrap_or(host);
    if local.is_empty() || host.is_empty() {
        return Err(Violation::MalformedName(alloc::format!("email:{m}")));
    }
    Ok(match c.split_once('@') {
        // A whole mailbox: the local part exactly, the host without regard to case.
        Some((cl, ch)) => cl == local && ch.eq_ignore_ascii_case(host),
        None => match c.strip_prefix('.') {
            Some(_) => host.len() > c.len() && ends_with_ignore_case(host, c),
            None => host.eq_ignore_ascii_case(c),
        },
    })
}

/// Whether the constraint's RDNs begin `name`'s.
fn directory_within(name: &Name, c: &Name) -> bool {
    let mut rdns = name.iter_rdn();
    c.iter_rdn().all(|want| rdns.next().is_some_and(|have| rdn_equal(have, want)))
}

fn rdn_equal(a: &RelativeDistinguishedName, b: &RelativeDistinguishedName) -> bool {
    a.len() == b.len()
        && a.iter().all(|x| b.iter().any(|y| x.oid == y.oid && value_equal(&x.value, &y.value)))
}

/// RFC 5280 §7.1 for the string types: case and runs of white space do not matter.
fn value_equal(a: &der::Any, b: &der::Any) -> bool {
    let text = |v: &der::Any| -> Option<String> {
        match v.tag() {
            Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString => {
                core::str::from_utf8(v.value()).ok().map(fold)
            }
            Tag::BmpString => {
                let units = v.value().chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                char::decode_utf16(units).collect::<Result<String, _>>().ok().map(|s| fold(&s))
            }
            _ => None,
        }
    };
    match (text(a), text(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_subtrees() {
        assert!(dns_within("example.com", "example.com", true));
        assert!(dns_within("a.b.EXAMPLE.com", "example.com", true));
        assert!(!dns_within("badexample.com", "example.com", true));
        assert!(!dns_within("example.com", ".example.com", true));
        assert!(dns_within("a.example.com", ".example.com", true));
        assert!(dns_within("anything.test", "", true));
        assert!(!dns_within("evil.test", "example.com", true));
        // Wildcards: inside a permitted subtree by their fixed part; in an excluded one by
        // any name they could stand for.
        assert!(dns_within("*.example.com", "example.com", true));
        assert!(!dns_within("*.example.com", "host.example.com", true));
        assert!(dns_within("*.example.com", "host.example.com", false));
        assert!(!dns_within("*.example.com", "a.host.example.com", false));
        assert!(dns_within("*.host.example.com", "example.com", false));
    }

    #[test]
    fn ipv4_mapped_addresses_meet_ipv4_subtrees() {
        let ten = Subtree::Ip { addr: alloc::vec![10, 0, 0, 0], mask: alloc::vec![255, 0, 0, 0] };
        let mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3];
        assert!(matches(&ten, &Presented::Ip(&mapped), false).unwrap());
        assert!(matches(&ten, &Presented::Ip(&[10, 9, 9, 9]), false).unwrap());
        assert!(!matches(&ten, &Presented::Ip(&[11, 0, 0, 1]), false).unwrap());
        let other = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 10, 1, 2, 3];
        assert!(!matches(&ten, &Presented::Ip(&other), false).unwrap());
    }

    #[test]
    fn masks_and_email() {
        assert!(contiguous(&[255, 255, 0, 0]));
        assert!(contiguous(&[255, 254, 0, 0]));
        assert!(!contiguous(&[255, 0, 255, 0]));
        assert!(email_within("a@example.com", "example.com").unwrap());
        assert!(!email_within("a@x.example.com", "example.com").unwrap());
        assert!(email_within("a@x.example.com", ".example.com").unwrap());
        assert!(email_within("a@EXAMPLE.com", "a@example.com").unwrap());
        assert!(!email_within("b@example.com", "a@example.com").unwrap());
        assert!(email_within("nobody", "example.com").is_err());
        assert!(email_within("a@evil.com.", "evil.com").unwrap(), "a trailing dot is the same host");
    }

    #[test]
    fn directory_prefixes() {
        use core::str::FromStr;
        let name = Name::from_str("CN=leaf,O=Example  Corp,C=US").unwrap();
        assert!(directory_within(&name, &Name::from_str("O=example corp,C=US").unwrap()));
        assert!(!directory_within(&name, &Name::from_str("O=Other,C=US").unwrap()));
        assert!(directory_within(&name, &Name::from_str("C=us").unwrap()));
        assert!(!directory_within(&Name::from_str("C=US").unwrap(), &name));
    }
}
