//! Settings as iPXE keeps them: raw bytes with a type, parsed from text when set and
//! formatted when read, so `${mac:hexhyp}` renders the same six bytes as `${mac}` with
//! hyphens, and `set i:int32 0` followed by `inc i` counts.
//!
//! Names are `[scope/]name[:type]`. A type given when reading overrides the stored one;
//! a setting stored without one is a string, except the predefined names ([`predefined`]:
//! `ip` is an IPv4 address, `mac` hex bytes, `uuid` a UUID, ...). Renderings follow
//! iPXE byte for byte: `hex` is `52:54:00:12:34:56`, `hexhyp` `52-54-00-12-34-56`,
//! `hexraw` `525400123456`, `intN` signed decimal, `uintN` `0x`-prefixed hex (`0` for
//! zero, as C's `%#lx`), `uristring` escapes everything but unreserved characters as
//! `%XX`, `base64` is standard with padding, `uuid` is `8-4-4-4-12` lowercase.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// How a setting's bytes are written and read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingType {
    /// Text as it is.
    String,
    /// Text, written with URI escapes (`%XX`).
    UriString,
    /// An IPv4 address, dotted.
    Ipv4,
    /// A signed integer of 1, 2 or 4 bytes.
    Int(u8),
    /// An unsigned integer of 1, 2 or 4 bytes, written in hex.
    Uint(u8),
    /// Bytes as hex pairs separated by `:`.
    Hex,
    /// Bytes as hex pairs separated by `-`.
    HexHyp,
    /// Bytes as hex pairs, unseparated.
    HexRaw,
    /// Bytes in base64.
    Base64,
    /// A UUID (16 bytes, big-endian fields).
    Uuid,
    /// A GUID: a UUID whose first three fields are stored little-endian.
    Guid,
    /// A PCI bus:device.function (read only).
    Busdevfn,
}

impl SettingType {
    /// The type called `name` (`int32`, `hexhyp`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "string" => Self::String,
            "uristring" => Self::UriString,
            "ipv4" => Self::Ipv4,
            "int8" => Self::Int(1),
            "int16" => Self::Int(2),
            "int32" => Self::Int(4),
            "uint8" => Self::Uint(1),
            "uint16" => Self::Uint(2),
            "uint32" => Self::Uint(4),
            "hex" => Self::Hex,
            "hexhyp" => Self::HexHyp,
            "hexraw" => Self::HexRaw,
            "base64" => Self::Base64,
            "uuid" => Self::Uuid,
            "guid" => Self::Guid,
            "busdevfn" => Self::Busdevfn,
            _ => return None,
        })
    }

    /// The type's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::UriString => "uristring",
            Self::Ipv4 => "ipv4",
            Self::Int(1) => "int8",
            Self::Int(2) => "int16",
            Self::Int(_) => "int32",
            Self::Uint(1) => "uint8",
            Self::Uint(2) => "uint16",
            Self::Uint(_) => "uint32",
            Self::Hex => "hex",
            Self::HexHyp => "hexhyp",
            Self::HexRaw => "hexraw",
            Self::Base64 => "base64",
            Self::Uuid => "uuid",
            Self::Guid => "guid",
            Self::Busdevfn => "busdevfn",
        }
    }

    /// The bytes `text` stands for.
    pub fn parse(self, text: &str) -> Result<Vec<u8>, String> {
        let bad = || format!("'{text}' is not a valid {} value", self.name());
        match self {
            Self::String => Ok(text.as_bytes().to_vec()),
            Self::UriString => Ok(uri_decode(text)),
            Self::Ipv4 => parse_ipv4(text).map(|a| a.to_vec()).ok_or_else(bad),
            Self::Int(width) | Self::Uint(width) => {
                let value = strtoul(text).ok_or_else(bad)?;
                Ok(value.to_be_bytes()[8 - usize::from(width)..].to_vec())
            }
            Self::Hex => hex_decode(text, Some(':'), false).ok_or_else(bad),
            Self::HexHyp => hex_decode(text, Some('-'), false).ok_or_else(bad),
            Self::HexRaw => hex_decode(text, None, false).ok_or_else(bad),
            Self::Base64 => base64_decode(text).ok_or_else(bad),
            Self::Uuid | Self::Guid => {
                let mut raw = hex_decode(text, Some('-'), true).filter(|r| r.len() == 16).ok_or_else(bad)?;
                if self == Self::Guid {
                    mangle(&mut raw);
                }
                Ok(raw)
            }
            Self::Busdevfn => Err(format!("{} settings cannot be set", self.name())),
        }
    }

    /// `raw` as text, or why it cannot be shown as this type.
    pub fn format(self, raw: &[u8]) -> Result<String, String> {
        let bad = || format!("{} bytes are not a {} value", raw.len(), self.name());
        match self {
            Self::String => Ok(String::from_utf8_lossy(raw).into_owned()),
            Self::UriString => Ok(uri_encode(raw)),
            Self::Ipv4 => match raw {
                [a, b, c, d, ..] => Ok(format!("{a}.{b}.{c}.{d}")),
                _ => Err(bad()),
            },
            Self::Int(_) => numeric(raw, true).map(|v| format!("{}", v as i64)).ok_or_else(bad),
            Self::Uint(_) => numeric(raw, false)
                .map(|v| if v == 0 { "0".to_string() } else { format!("{v:#x}") })
                .ok_or_else(bad),
            Self::Hex => Ok(hex_encode(raw, ":")),
            Self::HexHyp => Ok(hex_encode(raw, "-")),
            Self::HexRaw => Ok(hex_encode(raw, "")),
            Self::Base64 => Ok(base64_encode(raw)),
            Self::Uuid | Self::Guid => {
                let mut u: [u8; 16] = raw.try_into().map_err(|_| bad())?;
                if self == Self::Guid {
                    mangle(&mut u);
                }
                let h = |r: &[u8]| hex_encode(r, "");
                Ok(format!("{}-{}-{}-{}-{}", h(&u[..4]), h(&u[4..6]), h(&u[6..8]), h(&u[8..10]), h(&u[10..])))
            }
            Self::Busdevfn => {
                let v = numeric(raw, false).ok_or_else(bad)?;
                Ok(format!(
                    "{:04x}:{:02x}:{:02x}.{:x}",
                    (v >> 16) & 0xffff,
                    (v >> 8) & 0xff,
                    (v >> 3) & 0x1f,
                    v & 7
                ))
            }
        }
    }

    /// Whether values of this type are numbers (for `inc`).
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Int(_) | Self::Uint(_))
    }
}

/// The types iPXE gives its predefined settings; anything else defaults to a string.
pub fn predefined(name: &str) -> Option<SettingType> {
    Some(match name {
        "ip" | "netmask" | "gateway" | "dns" | "next-server" | "dhcp-server" | "ntp" | "syslog" => {
            SettingType::Ipv4
        }
        "mac" | "hwaddr" | "busid" => SettingType::Hex,
        "uuid" => SettingType::Uuid,
        "priority" | "keep-san" | "skip-san-boot" => SettingType::Int(1),
        "unixtime" | "busloc" => SettingType::Uint(4),
        _ => return None,
    })
}

/// `text` as the bytes setting `name` stores: parsed as `ty` (given, else the predefined
/// type, else string); the error says which setting refused it.
pub fn parse_value(
    name: &str,
    ty: Option<SettingType>,
    text: &str,
) -> Result<(Vec<u8>, SettingType), String> {
    let ty = ty.or_else(|| predefined(name)).unwrap_or(SettingType::String);
    let raw = ty.parse(text).map_err(|e| format!("cannot store \"{name}\": {e}"))?;
    Ok((raw, ty))
}

/// A stored setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    /// Its bytes.
    pub raw: Vec<u8>,
    /// How they are read when no type is asked for.
    pub ty: SettingType,
}

impl Value {
    /// The value as text in its own type.
    pub fn text(&self) -> String {
        self.ty.format(&self.raw).unwrap_or_default()
    }
}

/// A parsed setting name: `[scope/]name[:type]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name<'a> {
    /// The settings block (`net0`, `netX`, `smbios`, ...), if one was named.
    pub scope: Option<&'a str>,
    /// The setting.
    pub name: &'a str,
    /// The type, if one was given.
    pub ty: Option<SettingType>,
}

impl<'a> Name<'a> {
    /// Parses `text`; an unknown type is an error (iPXE treats such a reference as empty).
    pub fn parse(text: &'a str) -> Result<Self, String> {
        let (scope, rest) = match text.split_once('/') {
            Some((scope, rest)) => (Some(scope), rest),
            None => (None, text),
        };
        let (name, ty) = match rest.split_once(':') {
            Some((name, ty)) => (
                name,
                Some(SettingType::from_name(ty).ok_or_else(|| format!("unknown setting type '{ty}'"))?),
            ),
            None => (rest, None),
        };
        Ok(Self { scope, name, ty })
    }
}

/// The settings blocks: the global one and each scope's (`net0`, `smbios`, ...).
#[derive(Clone, Debug, Default)]
pub struct Settings {
    map: BTreeMap<String, Value>,
}

/// The key of `name` in `scope`.
fn key(scope: Option<&str>, name: &str) -> String {
    match scope {
        Some(s) => format!("{s}/{name}"),
        None => name.to_string(),
    }
}

impl Settings {
    /// The stored value of exactly `name` in `scope` (no fallback).
    pub fn get(&self, scope: Option<&str>, name: &str) -> Option<&Value> {
        self.map.get(&key(scope, name))
    }

    /// Stores `raw` with type `ty`; an empty value deletes the setting, as in iPXE.
    pub fn store(&mut self, scope: Option<&str>, name: &str, raw: Vec<u8>, ty: SettingType) {
        if raw.is_empty() {
            self.map.remove(&key(scope, name));
        } else {
            self.map.insert(key(scope, name), Value { raw, ty });
        }
    }

    /// Parses `text` as `ty` (given, else the predefined type, else string) and stores
    /// it; empty text deletes.
    pub fn store_text(
        &mut self,
        scope: Option<&str>,
        name: &str,
        ty: Option<SettingType>,
        text: &str,
    ) -> Result<(), String> {
        if text.is_empty() {
            self.map.remove(&key(scope, name));
            return Ok(());
        }
        let (raw, ty) = parse_value(name, ty, text)?;
        self.store(scope, name, raw, ty);
        Ok(())
    }

    /// Deletes a setting.
    pub fn remove(&mut self, scope: Option<&str>, name: &str) {
        self.map.remove(&key(scope, name));
    }

    /// Deletes every setting in `scope`.
    pub fn clear_scope(&mut self, scope: &str) {
        self.map.retain(|k, _| k.split_once('/').is_none_or(|(s, _)| s != scope));
    }

    /// Every stored setting, as `scope/name` keys in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// iPXE's `strtoul(text, &end, 0)` requiring the whole text: optional whitespace and
/// sign, then `0x` hex, a leading `0` octal, else decimal. As in iPXE, the digits may be
/// empty (`"0x"`, `"-"` and `" "` read as 0), an overflow wraps, and a minus negates
/// modulo 2^64.
pub fn strtoul(text: &str) -> Option<u64> {
    let t = text.trim_start_matches(crate::lex::is_space);
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (16, h)
    } else if let Some(o) = t.strip_prefix('0') {
        (8, o)
    } else {
        (10, t)
    };
    let mut value: u64 = 0;
    for c in digits.chars() {
        let digit = c.to_digit(radix)?;
        value = value.wrapping_mul(u64::from(radix)).wrapping_add(u64::from(digit));
    }
    Some(if negative { value.wrapping_neg() } else { value })
}

/// The number stored big-endian in `raw`, sign-extended when `signed`; `None` when it
/// does not fit in 64 bits.
fn numeric(raw: &[u8], signed: bool) -> Option<u64> {
    let negative = signed && raw.first().is_some_and(|b| b & 0x80 != 0);
    let pad = if negative { 0xff } else { 0 };
    let mut value: u64 = if negative { u64::MAX } else { 0 };
    for (i, &b) in raw.iter().enumerate() {
        if i + 8 < raw.len() && b != pad {
            return None;
        }
        value = (value << 8) | u64::from(b);
    }
    Some(value)
}

/// An integer as the bytes of a type `width` bytes wide (truncated, as iPXE does).
pub fn int_bytes(value: u64, width: u8) -> Vec<u8> {
    value.to_be_bytes()[8 - usize::from(width)..].to_vec()
}

/// The number a numeric setting holds.
pub fn number(value: &Value) -> Option<u64> {
    match value.ty {
        SettingType::Int(_) => numeric(&value.raw, true),
        SettingType::Uint(_) => numeric(&value.raw, false),
        _ => None,
    }
}

fn parse_ipv4(text: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = text.split('.');
    for o in &mut out {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn hex_encode(raw: &[u8], separator: &str) -> String {
    let mut s = String::with_capacity(raw.len() * 3);
    for (i, b) in raw.iter().enumerate() {
        if i > 0 {
            s.push_str(separator);
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Hex pairs, each after the first preceded by `separator` (required, or optional when
/// `optional`).
fn hex_decode(text: &str, separator: Option<char>, optional: bool) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        if let (false, Some(sep)) = (out.is_empty(), separator) {
            if chars.peek() == Some(&sep) {
                chars.next();
            } else if !optional {
                return None;
            }
        }
        let hi = chars.next()?.to_digit(16)?;
        let lo = chars.next()?.to_digit(16)?;
        out.push((hi << 4 | lo) as u8);
    }
    Some(out)
}

/// A GUID's first three fields are little-endian: swap them to and from a UUID's.
fn mangle(u: &mut [u8]) {
    u[..4].reverse();
    u[4..6].reverse();
    u[6..8].reverse();
}

/// iPXE's URI escaping for a setting (its "scheme" field: the strictest): control
/// characters, space, non-ASCII, `%` and `/#:@?=&+` become `%XX` (upper-case hex).
fn uri_encode(raw: &[u8]) -> String {
    let mut s = String::new();
    for &b in raw {
        if !(0x21..0x7f).contains(&b) || b"%/#:@?=&+".contains(&b) {
            s.push_str(&format!("%{b:02X}"));
        } else {
            s.push(char::from(b));
        }
    }
    s
}

/// `%XX` decoded; a `%` not followed by hex digits stays as it is.
fn uri_decode(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let digits: Vec<u32> =
                b[i + 1..].iter().take(2).map_while(|c| char::from(*c).to_digit(16)).collect();
            if !digits.is_empty() {
                out.push(digits.iter().fold(0, |v, d| v << 4 | d) as u8);
                i += 1 + digits.len();
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(raw: &[u8]) -> String {
    let mut s = String::new();
    for chunk in raw.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |v, (i, &b)| v | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(char::from(BASE64[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// iPXE's base64 decoding: whitespace ignored, at most two `=` and only at the end, and
/// a whole number of bytes.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits: u32 = 0;
    let mut nbits = 0u32;
    let mut out = Vec::new();
    let mut pad = 0;
    for c in text.bytes() {
        if crate::lex::is_space(char::from(c)) {
            continue;
        }
        if c == b'=' {
            pad += 1;
            if pad > 2 || nbits < 2 {
                return None;
            }
            nbits -= 2;
            continue;
        }
        if pad > 0 {
            return None;
        }
        let v = BASE64.iter().position(|&a| a == c)? as u32;
        bits = bits << 6 | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    (nbits == 0).then_some(out)
}

#[cfg(test)]
mod tests;
