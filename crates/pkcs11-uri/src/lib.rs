//! RFC 7512 PKCS#11 URIs, as `p11tool`, OpenSSL's pkcs11-provider, sbsign's engine and
//! step-cli take them: `pkcs11:token=boot;object=ca;type=private?pin-source=file:/pin`.
//!
//! The path (before `?`, attributes separated by `;`) names the token, slot and object;
//! the query (after `?`, separated by `&`) says how to reach it: the module, and the PIN.
//! Values are percent-decoded (`id=%01%a2` is two bytes). What is refused, each with the
//! attribute named: an attribute given twice, one this parser does not know (a vendor's
//! `x-` attribute too: it might narrow the match in a way bootsign would ignore), a bad
//! percent-encoding, a `type` or `slot-id` that is not one, and text that is no
//! PKCS#11 URI. [`Pkcs11Uri`]'s `Display` writes the URI back without `pin-value`, so it
//! can be recorded or shown.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The object class a URI's `type` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectType {
    /// `private`: a private key.
    Private,
    /// `public`: a public key.
    Public,
    /// `cert`: a certificate.
    Cert,
    /// `data`: a data object.
    Data,
    /// `secret-key`: a secret (symmetric) key.
    SecretKey,
}

impl ObjectType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "private" => Self::Private,
            "public" => Self::Public,
            "cert" => Self::Cert,
            "data" => Self::Data,
            "secret-key" => Self::SecretKey,
            _ => return None,
        })
    }

    /// The URI's word for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Public => "public",
            Self::Cert => "cert",
            Self::Data => "data",
            Self::SecretKey => "secret-key",
        }
    }
}

/// A PIN from a URI's `pin-value`: never shown (its `Debug` hides it), and wiped from
/// memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Pin {
    /// The PIN itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(***)")
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// A parsed PKCS#11 URI. Every attribute is optional; an absent one matches anything.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `token`: the token's label.
    pub token: Option<String>,
    /// `manufacturer`: the token's manufacturer.
    pub manufacturer: Option<String>,
    /// `serial`: the token's serial number.
    pub serial: Option<String>,
    /// `model`: the token's model.
    pub model: Option<String>,
    /// `object`: the object's label.
    pub object: Option<String>,
    /// `id`: the object's ID (bytes).
    pub id: Option<Vec<u8>>,
    /// `type`: the object's class.
    pub object_type: Option<ObjectType>,
    /// `slot-id`: the slot's number.
    pub slot_id: Option<u64>,
    /// `slot-description`.
    pub slot_description: Option<String>,
    /// `slot-manufacturer`.
    pub slot_manufacturer: Option<String>,
    /// `library-manufacturer`: the module's manufacturer.
    pub library_manufacturer: Option<String>,
    /// `library-description`: the module's description.
    pub library_description: Option<String>,
    /// `library-version`: the module's version, `M` or `M.m`.
    pub library_version: Option<String>,
    /// `pin-value` (query): the PIN itself.
    pub pin_value: Option<Pin>,
    /// `pin-source` (query): where to read the PIN (a file path or `file:` URI).
    pub pin_source: Option<String>,
    /// `module-name` (query): the module's name, without path or suffix.
    pub module_name: Option<String>,
    /// `module-path` (query; step-cli also puts it in the path): the module's file.
    pub module_path: Option<String>,
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The PIN stays out of logs and test output.
        write!(f, "Pkcs11Uri({self}")?;
        if self.pin_value.is_some() {
            f.write_str(" with pin-value")?;
        }
        f.write_str(")")
    }
}

/// Why a string is not a usable PKCS#11 URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UriError {
    /// It does not start with `pkcs11:`.
    NotPkcs11,
    /// An attribute without `=` (only its name, up to a `:`, is kept: the text after it
    /// may be a mistyped PIN).
    NoValue(String),
    /// An attribute this parser does not know.
    Unknown(String),
    /// An attribute given twice.
    Repeated(String),
    /// A `%` not followed by two hex digits, or a value that is not UTF-8 where text is
    /// expected.
    BadEncoding(String),
    /// A `type` that is none of private, public, cert, data, secret-key.
    BadType(String),
    /// A `slot-id` that is not a number.
    BadSlotId(String),
    /// An empty `pin-value` (an unset shell variable, most likely): it would spend a login
    /// attempt.
    EmptyPin,
    /// Both `pin-value` and `pin-source`: which is the PIN?
    TwoPins,
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPkcs11 => f.write_str("not a PKCS#11 URI (RFC 7512: it starts with pkcs11:)"),
            Self::NoValue(a) => write!(f, "the PKCS#11 URI attribute '{a}' has no value (name=value)"),
            Self::Unknown(a) => {
                write!(f, "the PKCS#11 URI attribute '{a}' is not one bootsign knows (RFC 7512)")
            }
            Self::Repeated(a) => write!(f, "the PKCS#11 URI gives the attribute '{a}' more than once"),
            Self::BadEncoding(a) => write!(
                f,
                "the PKCS#11 URI attribute '{a}' has a bad percent-encoding (a % must be followed by two hex digits, \
                 and text must be UTF-8)"
            ),
            Self::BadType(v) => {
                write!(f, "the PKCS#11 URI's type '{v}' is none of private, public, cert, data, secret-key")
            }
            Self::BadSlotId(v) => write!(f, "the PKCS#11 URI's slot-id '{v}' is not a number"),
            Self::EmptyPin => f.write_str("the PKCS#11 URI's pin-value is empty"),
            Self::TwoPins => f.write_str("the PKCS#11 URI gives both pin-value and pin-source; give one"),
        }
    }
}

impl core::error::Error for UriError {}

/// Percent-decodes `value` (of attribute `name`).
fn decode(name: &str, value: &str) -> Result<Vec<u8>, UriError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: u8| (b as char).to_digit(16);
            let (Some(hi), Some(lo)) =
                (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex))
            else {
                return Err(UriError::BadEncoding(name.into()));
            };
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text(name: &str, value: &str) -> Result<String, UriError> {
    String::from_utf8(decode(name, value)?).map_err(|_| UriError::BadEncoding(name.into()))
}

/// An attribute's name as an error may show it: up to a `:` (where a mistyped
/// `pin-value:1234` would give the PIN away).
fn name_only(attr: &str) -> String {
    attr.split(':').next().unwrap_or("").into()
}

fn set<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), UriError> {
    if slot.is_some() {
        return Err(UriError::Repeated(name.into()));
    }
    *slot = Some(value);
    Ok(())
}

impl Pkcs11Uri {
    /// Whether `s` is meant as a PKCS#11 URI (starts with `pkcs11:`, in any case).
    pub fn is_uri(s: &str) -> bool {
        s.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("pkcs11:"))
    }

    /// Parses `s`.
    pub fn parse(s: &str) -> Result<Self, UriError> {
        if !Self::is_uri(s) {
            return Err(UriError::NotPkcs11);
        }
        let rest = &s[7..];
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = Self::default();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr.split_once('=').ok_or_else(|| UriError::NoValue(name_only(attr)))?;
            match name {
                "token" => set(&mut uri.token, name, text(name, value)?)?,
                "manufacturer" => set(&mut uri.manufacturer, name, text(name, value)?)?,
                "serial" => set(&mut uri.serial, name, text(name, value)?)?,
                "model" => set(&mut uri.model, name, text(name, value)?)?,
                "object" => set(&mut uri.object, name, text(name, value)?)?,
                "id" => set(&mut uri.id, name, decode(name, value)?)?,
                "type" => {
                    let v = text(name, value)?;
                    let t = ObjectType::parse(&v).ok_or(UriError::BadType(v))?;
                    set(&mut uri.object_type, name, t)?
                }
                "slot-id" => {
                    let v = text(name, value)?;
                    let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
                    let n = v.parse().ok().filter(|_| digits).ok_or(UriError::BadSlotId(v))?;
                    set(&mut uri.slot_id, name, n)?
                }
                "slot-description" => set(&mut uri.slot_description, name, text(name, value)?)?,
                "slot-manufacturer" => set(&mut uri.slot_manufacturer, name, text(name, value)?)?,
                "library-manufacturer" => set(&mut uri.library_manufacturer, name, text(name, value)?)?,
                "library-description" => set(&mut uri.library_description, name, text(name, value)?)?,
                "library-version" => set(&mut uri.library_version, name, text(name, value)?)?,
                // step-cli writes the module in the path.
                "module-path" => set(&mut uri.module_path, name, text(name, value)?)?,
                _ => return Err(UriError::Unknown(name.into())),
            }
        }
        for attr in query.split('&').filter(|a| !a.is_empty()) {
            let (name, value) = attr.split_once('=').ok_or_else(|| UriError::NoValue(name_only(attr)))?;
            match name {
                "pin-value" => {
                    let pin = Pin(text(name, value)?);
                    if pin.0.is_empty() {
                        return Err(UriError::EmptyPin);
                    }
                    set(&mut uri.pin_value, name, pin)?
                }
                "pin-source" => set(&mut uri.pin_source, name, text(name, value)?)?,
                "module-name" => set(&mut uri.module_name, name, text(name, value)?)?,
                "module-path" => set(&mut uri.module_path, name, text(name, value)?)?,
                _ => return Err(UriError::Unknown(name.into())),
            }
        }
        if uri.pin_value.is_some() && uri.pin_source.is_some() {
            return Err(UriError::TwoPins);
        }
        Ok(uri)
    }

    /// The same URI with the attributes `other` has and this one lacks (a key's URI
    /// completed by a module URI given apart, as step-cli's `--kms`).
    pub fn or(mut self, other: &Self) -> Self {
        macro_rules! fill {
            ($($field:ident),*) => { $( if self.$field.is_none() { self.$field = other.$field.clone(); } )* };
        }
        fill!(
            token,
            manufacturer,
            serial,
            model,
            object,
            id,
            object_type,
            slot_id,
            slot_description,
            slot_manufacturer,
            library_manufacturer,
            library_description,
            library_version,
            pin_value,
            pin_source,
            module_name,
            module_path
        );
        self
    }
}

/// How a value is written: every byte encoded (`id`), a path attribute's text, or a
/// query attribute's (where `/` may stand as it is).
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Bytes,
    Path,
    Query,
}

/// Percent-encodes `bytes` for a value: unreserved characters as they are (and, for
/// text, the few others RFC 7512 allows unencoded there), the rest as `%XX`.
fn encode(f: &mut fmt::Formatter<'_>, bytes: &[u8], part: Part) -> fmt::Result {
    for &b in bytes {
        let plain = part != Part::Bytes
            && (b.is_ascii_alphanumeric()
                || b"-._~:[]@!$'()*+,".contains(&b)
                || (b == b'/' && part == Part::Query));
        if plain {
            write!(f, "{}", b as char)?;
        } else {
            write!(f, "%{b:02x}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Pkcs11Uri {
    /// The URI without its `pin-value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pkcs11:")?;
        let mut first = true;
        let mut attr = |f: &mut fmt::Formatter<'_>, name: &str, value: &[u8], part: Part| -> fmt::Result {
            if !first {
                f.write_str(";")?;
            }
            first = false;
            write!(f, "{name}=")?;
            encode(f, value, part)
        };
        let texts = [
            ("token", &self.token),
            ("manufacturer", &self.manufacturer),
            ("serial", &self.serial),
            ("model", &self.model),
            ("slot-description", &self.slot_description),
            ("slot-manufacturer", &self.slot_manufacturer),
            ("library-manufacturer", &self.library_manufacturer),
            ("library-description", &self.library_description),
            ("library-version", &self.library_version),
            ("object", &self.object),
        ];
        for (name, value) in texts {
            if let Some(v) = value {
                attr(f, name, v.as_bytes(), Part::Path)?;
            }
        }
        if let Some(n) = self.slot_id {
            attr(f, "slot-id", alloc::format!("{n}").as_bytes(), Part::Path)?;
        }
        if let Some(id) = &self.id {
            attr(f, "id", id, Part::Bytes)?;
        }
        if let Some(t) = self.object_type {
            attr(f, "type", t.name().as_bytes(), Part::Path)?;
        }
        let mut sep = '?';
        for (name, value) in [
            ("pin-source", &self.pin_source),
            ("module-name", &self.module_name),
            ("module-path", &self.module_path),
        ] {
            if let Some(v) = value {
                write!(f, "{sep}{name}=")?;
                encode(f, v.as_bytes(), Part::Query)?;
                sep = '&';
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn the_usual_forms() {
        let u = Pkcs11Uri::parse("pkcs11:token=bootsign;object=dbkey;type=private?pin-value=1234").unwrap();
        assert_eq!(u.token.as_deref(), Some("bootsign"));
        assert_eq!(u.object.as_deref(), Some("dbkey"));
        assert_eq!(u.object_type, Some(ObjectType::Private));
        assert_eq!(u.pin_value.as_ref().map(Pin::expose), Some("1234"));
        // The PIN is never written back, nor shown.
        assert_eq!(u.to_string(), "pkcs11:token=bootsign;object=dbkey;type=private");
        assert_eq!(
            alloc::format!("{u:?}"),
            "Pkcs11Uri(pkcs11:token=bootsign;object=dbkey;type=private with pin-value)"
        );

        let u = Pkcs11Uri::parse("pkcs11:token=bootsign;id=%01;type=private").unwrap();
        assert_eq!(u.id, Some(vec![1]));
        assert_eq!(u.to_string(), "pkcs11:token=bootsign;id=%01;type=private");

        // step-cli: the module in the path; OpenSC's p11tool style: spaces encoded.
        let u = Pkcs11Uri::parse(
            "pkcs11:module-path=/usr/lib/softhsm/libsofthsm2.so;token=smallstep?pin-value=password",
        )
        .unwrap();
        assert_eq!(u.module_path.as_deref(), Some("/usr/lib/softhsm/libsofthsm2.so"));
        let u = Pkcs11Uri::parse(
            "PKCS11:token=My%20Token;slot-id=3?module-name=softhsm2&pin-source=file:/run/pin",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("My Token"));
        assert_eq!(u.slot_id, Some(3));
        assert_eq!(
            u.to_string(),
            "pkcs11:token=My%20Token;slot-id=3?pin-source=file:/run/pin&module-name=softhsm2"
        );
        assert_eq!(Pkcs11Uri::parse("pkcs11:").unwrap(), Pkcs11Uri::default());
    }

    #[test]
    fn written_back_it_reads_the_same() {
        let s = "pkcs11:token=a%3bb%3fc%26d;object=%c3%a9t%c3%a9;id=%00%ff%7f;type=cert?module-path=/opt/x%20y.so";
        let u = Pkcs11Uri::parse(s).unwrap();
        assert_eq!(u.token.as_deref(), Some("a;b?c&d"));
        assert_eq!(u.object.as_deref(), Some("été"));
        assert_eq!(u.id, Some(vec![0, 0xff, 0x7f]));
        assert_eq!(Pkcs11Uri::parse(&u.to_string()).unwrap(), u);
    }

    #[test]
    fn refusals_name_the_attribute() {
        let err = |s: &str| Pkcs11Uri::parse(s).unwrap_err();
        assert_eq!(err("/etc/ca.key"), UriError::NotPkcs11);
        assert_eq!(err("pkcs11:token"), UriError::NoValue("token".into()));
        assert_eq!(err("pkcs11:token=a;token=b"), UriError::Repeated("token".into()));
        assert_eq!(err("pkcs11:module-path=/a?module-path=/b"), UriError::Repeated("module-path".into()));
        assert_eq!(err("pkcs11:x-vendor=1"), UriError::Unknown("x-vendor".into()));
        assert_eq!(err("pkcs11:token=a?pin=1"), UriError::Unknown("pin".into()));
        assert_eq!(err("pkcs11:id=%0"), UriError::BadEncoding("id".into()));
        assert_eq!(err("pkcs11:id=%zz"), UriError::BadEncoding("id".into()));
        assert_eq!(err("pkcs11:object=%ff"), UriError::BadEncoding("object".into()));
        assert_eq!(err("pkcs11:type=key"), UriError::BadType("key".into()));
        assert_eq!(err("pkcs11:slot-id=one"), UriError::BadSlotId("one".into()));
        assert_eq!(err("pkcs11:slot-id=+1"), UriError::BadSlotId("+1".into()));
        // A mistyped PIN attribute is not shown; an empty one, or two PINs, are refused.
        assert_eq!(err("pkcs11:token=t?pin-value:1234"), UriError::NoValue("pin-value".into()));
        assert_eq!(err("pkcs11:token=t?pin-value="), UriError::EmptyPin);
        assert_eq!(err("pkcs11:token=t?pin-value=1&pin-source=/p"), UriError::TwoPins);
        assert!(
            !alloc::format!("{:?}", Pkcs11Uri::parse("pkcs11:?pin-value=S3cret").unwrap()).contains("S3cret")
        );
        assert!(err("pkcs11:type=key").to_string().contains("none of private, public, cert"));
    }

    #[test]
    fn a_module_uri_completes_a_key_uri() {
        let module = Pkcs11Uri::parse("pkcs11:token=t?module-path=/m.so&pin-value=1").unwrap();
        let key = Pkcs11Uri::parse("pkcs11:id=%40").unwrap().or(&module);
        assert_eq!(key.token.as_deref(), Some("t"));
        assert_eq!(key.module_path.as_deref(), Some("/m.so"));
        assert_eq!(key.pin_value.as_ref().map(Pin::expose), Some("1"));
        assert_eq!(key.id, Some(vec![0x40]));
        // The key's own attributes win.
        let key = Pkcs11Uri::parse("pkcs11:token=u").unwrap().or(&module);
        assert_eq!(key.token.as_deref(), Some("u"));
    }
}
