//! Distinguished names: building the simple ones bootsign issues, and printing any of
//! them the way OpenSSL's `ca.idx` does (`/C=DE/O=Example/CN=boot`).

use der::asn1::{Any, SetOfVec};
use der::{Decode, Encode, Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

/// A name with a single common name, encoded as UTF8String (as `openssl req` does).
pub fn common_name(cn: &str) -> anyhow::Result<Name> {
    if cn.trim().is_empty() {
        anyhow::bail!("the common name is empty; give a name with --cn");
    }
    // RFC 5280's upper bound (ub-common-name); OpenSSL refuses longer ones too.
    if cn.chars().count() > 64 {
        anyhow::bail!(
            "the common name '{cn}' is {} characters long; at most 64 are allowed",
            cn.chars().count()
        );
    }
    let value = Any::new(Tag::Utf8String, cn.as_bytes())?;
    let atv = AttributeTypeAndValue { oid: const_oid::db::rfc4519::CN, value };
    let mut set = SetOfVec::new();
    set.insert(atv)?;
    let rdn = RelativeDistinguishedName::from(set);
    let mut seq = RdnSequence::default();
    seq.push(rdn);
    // Round-trip through DER so the value is exactly what a decoder would produce.
    Ok(Name::from_der(&seq.to_der()?)?)
}

/// OpenSSL's short names for the attributes its `X509_NAME_oneline` abbreviates.
fn short_name(oid: &const_oid::ObjectIdentifier) -> Option<&'static str> {
    use const_oid::db::{rfc3280, rfc4519};
    Some(match *oid {
        rfc4519::CN => "CN",
        rfc4519::C => "C",
        rfc4519::L => "L",
        rfc4519::ST => "ST",
        rfc4519::O => "O",
        rfc4519::OU => "OU",
        rfc4519::SERIAL_NUMBER => "serialNumber",
        rfc4519::DC => "DC",
        rfc4519::UID => "UID",
        rfc4519::SN => "SN",
        rfc4519::GIVEN_NAME => "GN",
        rfc4519::TITLE => "title",
        rfc4519::STREET => "street",
        rfc3280::EMAIL_ADDRESS => "emailAddress",
        _ => return None,
    })
}

/// The text of an attribute value, decoded from whichever string type it uses.
/// Bytes outside printable ASCII are written `\xHH`, as OpenSSL does.
fn value_text(value: &Any) -> String {
    let bytes = value.value();
    let text: String = match value.tag() {
        Tag::BmpString => {
            let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    };
    let mut out = String::new();
    for b in text.bytes() {
        if (0x20..0x7f).contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// `/C=DE/O=Example/CN=boot`: the subject column of `ca.idx`.
pub fn oneline(name: &Name) -> String {
    let mut out = String::new();
    for rdn in name.iter_rdn() {
        for (i, atv) in rdn.iter().enumerate() {
            out.push(if i == 0 { '/' } else { '+' });
            match short_name(&atv.oid) {
                Some(s) => out.push_str(s),
                None => out.push_str(&atv.oid.to_string()),
            }
            out.push('=');
            out.push_str(&value_text(&atv.value));
        }
    }
    out
}

/// The common name, if the name has one.
pub fn cn(name: &Name) -> Option<String> {
    name.iter().filter(|atv| atv.oid == const_oid::db::rfc4519::CN).last().map(|atv| value_text(&atv.value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn oneline_matches_openssl() {
        let name = Name::from_str("CN=boot server,O=Example,C=DE").unwrap();
        assert_eq!(oneline(&name), "/C=DE/O=Example/CN=boot server");
        assert_eq!(cn(&name).as_deref(), Some("boot server"));
        let built = common_name("Grüße").unwrap();
        assert_eq!(oneline(&built), "/CN=Gr\\xC3\\xBC\\xC3\\x9Fe");
    }
}
