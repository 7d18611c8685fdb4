//! Each type against iPXE's renderings and parsers (src/core/settings.c, base16.c,
//! base64.c, uri.c, uuid.c), byte for byte.

use super::*;
use alloc::vec;

fn fmt(ty: &str, raw: &[u8]) -> String {
    SettingType::from_name(ty).unwrap().format(raw).unwrap()
}

fn parse(ty: &str, text: &str) -> Result<Vec<u8>, String> {
    SettingType::from_name(ty).unwrap().parse(text)
}

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0xab];

#[test]
fn hex_renderings() {
    assert_eq!(fmt("hex", &MAC), "52:54:00:12:34:ab");
    assert_eq!(fmt("hexhyp", &MAC), "52-54-00-12-34-ab");
    assert_eq!(fmt("hexraw", &MAC), "5254001234ab");
    assert_eq!(fmt("hex", &[]), "");
    assert_eq!(parse("hex", "52:54:00:12:34:AB").unwrap(), MAC);
    assert_eq!(parse("hexhyp", "52-54-00-12-34-ab").unwrap(), MAC);
    assert_eq!(parse("hexraw", "5254001234ab").unwrap(), MAC);
    // The separator is required between pairs; odd digits are refused.
    assert!(parse("hex", "5254").is_err());
    assert!(parse("hex", "52:5").is_err());
    assert!(parse("hexhyp", "52:54").is_err());
}

#[test]
fn integer_renderings() {
    assert_eq!(parse("int32", "0").unwrap(), [0, 0, 0, 0]);
    assert_eq!(fmt("int32", &[0, 0, 0, 7]), "7");
    assert_eq!(fmt("int32", &[0xff, 0xff, 0xff, 0xff]), "-1");
    assert_eq!(fmt("int8", &[0x80]), "-128");
    assert_eq!(fmt("uint8", &[0x80]), "0x80");
    assert_eq!(fmt("uint32", &[0, 0, 0, 0]), "0");
    assert_eq!(fmt("uint16", &[0x12, 0x34]), "0x1234");
    // strtoul(…, 0): hex, octal, decimal, a sign; the width truncates.
    assert_eq!(parse("int32", "0x10").unwrap(), [0, 0, 0, 16]);
    assert_eq!(parse("int32", "010").unwrap(), [0, 0, 0, 8]);
    assert_eq!(parse("int32", "-1").unwrap(), [0xff; 4]);
    assert_eq!(parse("uint8", "300").unwrap(), [44]);
    assert_eq!(parse("int16", " +5").unwrap(), [0, 5]);
    for bad in ["five", "12a", "08", "0x1g"] {
        assert!(parse("int32", bad).is_err(), "{bad}");
    }
    // As iPXE's strtoul: empty digits read as 0 and an overflow wraps.
    assert_eq!(parse("int32", "0x").unwrap(), [0; 4]);
    assert_eq!(parse("int32", "-").unwrap(), [0; 4]);
    assert_eq!(parse("uint8", "0x10000000000000001").unwrap(), [1]);
    // Any width reads back; more than 8 significant bytes does not.
    assert_eq!(fmt("int32", &[1, 0]), "256");
    assert!(SettingType::Int(4).format(&[1, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
}

#[test]
fn ipv4_uuid_and_busdevfn() {
    assert_eq!(fmt("ipv4", &[10, 0, 2, 15]), "10.0.2.15");
    assert_eq!(parse("ipv4", "10.0.2.15").unwrap(), [10, 0, 2, 15]);
    for bad in ["10.0.2", "10.0.2.256", "a.b.c.d", "10.0.2.15.1", ""] {
        assert!(parse("ipv4", bad).is_err(), "{bad}");
    }
    assert!(SettingType::Ipv4.format(&[1, 2]).is_err());
    let uuid = "8ce7c2a0-5a0e-4f4d-9a0b-0123456789ab";
    let raw = parse("uuid", uuid).unwrap();
    assert_eq!(raw[..4], [0x8c, 0xe7, 0xc2, 0xa0]);
    assert_eq!(fmt("uuid", &raw), uuid);
    // Hyphens are optional when parsing, as in uuid_aton.
    assert_eq!(parse("uuid", "8ce7c2a05a0e4f4d9a0b0123456789AB").unwrap(), raw);
    assert!(parse("uuid", "8ce7c2a0").is_err());
    // A GUID keeps its first three fields little-endian.
    assert_eq!(fmt("guid", &raw), "a0c2e78c-0e5a-4d4f-9a0b-0123456789ab");
    assert_eq!(parse("guid", "a0c2e78c-0e5a-4d4f-9a0b-0123456789ab").unwrap(), raw);
    assert_eq!(fmt("busdevfn", &[0x00, 0x00, 0x00, 0x18]), "0000:00:03.0");
    assert_eq!(fmt("busdevfn", &[0x00, 0x01, 0x02, 0x1d]), "0001:02:03.5");
}

#[test]
fn uristring_and_base64() {
    assert_eq!(
        fmt("uristring", b"a b/c?d=e&f+g%h:i@j#k~l-m_n.o!"),
        "a%20b%2Fc%3Fd%3De%26f%2Bg%25h%3Ai%40j%23k~l-m_n.o!"
    );
    assert_eq!(fmt("uristring", &[0x0a, 0xc3, 0xa9]), "%0A%C3%A9");
    assert_eq!(parse("uristring", "a%20b%2fc%zz%4").unwrap(), b"a b/c%zz\x04");
    assert_eq!(fmt("base64", b""), "");
    assert_eq!(fmt("base64", b"f"), "Zg==");
    assert_eq!(fmt("base64", b"fo"), "Zm8=");
    assert_eq!(fmt("base64", b"foobar"), "Zm9vYmFy");
    assert_eq!(parse("base64", "Zm9v YmE=").unwrap(), b"fooba");
    for bad in ["Zg", "Zg=", "Zg===", "Z=g=", "Zm9v!"] {
        assert!(parse("base64", bad).is_err(), "{bad}");
    }
}

#[test]
fn names_and_the_store() {
    assert_eq!(
        Name::parse("net0/mac:hexhyp").unwrap(),
        Name { scope: Some("net0"), name: "mac", ty: Some(SettingType::HexHyp) }
    );
    assert_eq!(Name::parse("filename").unwrap(), Name { scope: None, name: "filename", ty: None });
    assert!(Name::parse("mac:nonsense").is_err());
    let mut s = Settings::default();
    // Predefined names take their type; others are strings; empty deletes.
    s.store_text(Some("net0"), "mac", None, "52:54:00:12:34:ab").unwrap();
    assert_eq!(s.get(Some("net0"), "mac").unwrap().raw, MAC);
    assert!(s.store_text(None, "ip", None, "not-an-address").is_err());
    s.store_text(None, "i", Some(SettingType::Int(4)), "41").unwrap();
    assert_eq!(number(s.get(None, "i").unwrap()), Some(41));
    s.store_text(None, "name", None, "value with spaces").unwrap();
    assert_eq!(s.get(None, "name").unwrap().text(), "value with spaces");
    s.store_text(None, "name", None, "").unwrap();
    assert!(s.get(None, "name").is_none());
    assert_eq!(vec!["i", "net0/mac"], s.iter().map(|(k, _)| k).collect::<Vec<_>>());
}
