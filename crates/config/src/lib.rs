//! The embedded configuration: what `bootsign build` writes into the firmware image and
//! the firmware reads back at start-up: trusted fingerprints, certificates, the client
//! key, the boot script and settings.
//!
//! One versioned binary format, encoded and decoded by this crate on both sides:
//!
//! ```text
//! magic    8 bytes  "BOOTSIGN"
//! version  u16 LE   1
//! reserved u16 LE   0
//! length   u32 LE   byte length of the records that follow
//! crc32    u32 LE   CRC-32 (IEEE) of those records
//! records  { type u8, length u32 LE, value }*
//! ```
//!
//! Record types: 1 trust anchor (32-byte SHA-256 fingerprint), 2 certificate (DER),
//! 3 private key (PKCS#8 DER, at most one), 4 script (UTF-8, at most one), 5 policy
//! setting (`name` NUL `value`, UTF-8; names and values are owned by [`policy`] and read
//! with [`Config::policy`]), 6 cross-certificate base URL (at most one), 7 CRL (DER).
//! Decoding
//! checks every length before use and rejects unknown types, duplicates of single
//! records, records out of order (so every configuration has exactly one encoding),
//! trailing bytes and a bad checksum, so a damaged image fails closed.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod policy;

use alloc::vec::Vec;
use core::fmt;

pub use policy::{Policy, PolicyError, RequireSigned, TlsMin};

/// The format's magic bytes.
pub const MAGIC: [u8; 8] = *b"BOOTSIGN";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 20;

const T_ANCHOR: u8 = 1;
const T_CERT: u8 = 2;
const T_KEY: u8 = 3;
const T_SCRIPT: u8 = 4;
const T_SETTING: u8 = 5;
const T_CROSSCERT: u8 = 6;
const T_CRL: u8 = 7;

/// The configuration, borrowing from the encoded bytes when decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config<'a> {
    /// SHA-256 fingerprints of trusted certificates.
    pub anchors: Vec<[u8; 32]>,
    /// Certificates (DER): chain material and the client certificate; not trusted by themselves.
    pub certs: Vec<&'a [u8]>,
    /// The client private key (PKCS#8 DER). When present, `certs[0]` is its certificate.
    pub key: Option<&'a [u8]>,
    /// The embedded boot script.
    pub script: Option<&'a str>,
    /// The policy's setting records (`name`, `value`) as stored: write them with
    /// [`Policy::settings`] and read them with [`Config::policy`], never by name.
    pub settings: Vec<(&'a str, &'a str)>,
    /// Base URL of the cross-certificate server.
    pub crosscert: Option<&'a str>,
    /// Certificate revocation lists (DER), checked against their issuers at use.
    pub crls: Vec<&'a [u8]>,
}

/// Why bytes are not a valid configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// Shorter than the header, or a record runs past the end.
    Truncated,
    /// The magic bytes are wrong: this is not a bootsign configuration.
    BadMagic,
    /// A version this firmware does not read.
    UnsupportedVersion(u16),
    /// The checksum does not match: the image is damaged.
    BadChecksum,
    /// Bytes after the last record.
    TrailingData,
    /// A record type this firmware does not know.
    UnknownRecord(u8),
    /// A record that may appear once appears again.
    Duplicate(u8),
    /// A record's value is malformed (wrong length, not UTF-8, no NUL in a setting).
    BadRecord(u8),
    /// A value too large to encode.
    TooLarge,
    /// The reserved header field is not zero.
    Reserved,
    /// Records are not in canonical order (by type, as [`Config::encode`] writes them).
    OutOfOrder(u8),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("the configuration is truncated"),
            Self::BadMagic => f.write_str("no bootsign configuration (bad magic)"),
            Self::UnsupportedVersion(v) => {
                write!(f, "configuration version {v} is not supported (this reads {VERSION})")
            }
            Self::BadChecksum => {
                f.write_str("the configuration checksum does not match: the image is damaged")
            }
            Self::TrailingData => f.write_str("data after the configuration records"),
            Self::UnknownRecord(t) => write!(f, "unknown configuration record type {t}"),
            Self::Duplicate(t) => write!(f, "configuration record type {t} appears twice"),
            Self::BadRecord(t) => write!(f, "malformed configuration record of type {t}"),
            Self::TooLarge => f.write_str("a configuration value is larger than 4 GiB"),
            Self::Reserved => f.write_str("the configuration header's reserved field is not zero"),
            Self::OutOfOrder(t) => write!(f, "configuration record type {t} is out of order"),
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl<'a> Config<'a> {
    /// Decodes a configuration; `bytes` must hold exactly one.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, ConfigError> {
        if bytes.len() < HEADER_LEN {
            return Err(ConfigError::Truncated);
        }
        if bytes[..8] != MAGIC {
            return Err(ConfigError::BadMagic);
        }
        let version = u16_at(bytes, 8);
        if version != VERSION {
            return Err(ConfigError::UnsupportedVersion(version));
        }
        if u16_at(bytes, 10) != 0 {
            return Err(ConfigError::Reserved);
        }
        let len = u32_at(bytes, 12) as usize;
        let body = &bytes[HEADER_LEN..];
        if body.len() < len {
            return Err(ConfigError::Truncated);
        }
        if body.len() > len {
            return Err(ConfigError::TrailingData);
        }
        if crc32(body) != u32_at(bytes, 16) {
            return Err(ConfigError::BadChecksum);
        }
        let mut cfg = Config::default();
        let mut rest = body;
        let mut last_kind = 0u8;
        while !rest.is_empty() {
            if rest.len() < 5 {
                return Err(ConfigError::Truncated);
            }
            let kind = rest[0];
            let n = u32_at(rest, 1) as usize;
            let after = &rest[5..];
            if after.len() < n {
                return Err(ConfigError::Truncated);
            }
            let (value, next) = after.split_at(n);
            rest = next;
            if kind < last_kind {
                return Err(ConfigError::OutOfOrder(kind));
            }
            last_kind = kind;
            let text = || core::str::from_utf8(value).map_err(|_| ConfigError::BadRecord(kind));
            match kind {
                T_ANCHOR => cfg.anchors.push(value.try_into().map_err(|_| ConfigError::BadRecord(kind))?),
                T_CERT => cfg.certs.push(value),
                T_KEY => set_once(&mut cfg.key, value, kind)?,
                T_SCRIPT => set_once(&mut cfg.script, text()?, kind)?,
                T_SETTING => {
                    let (name, val) = text()?.split_once('\0').ok_or(ConfigError::BadRecord(kind))?;
                    if name.is_empty() {
                        return Err(ConfigError::BadRecord(kind));
                    }
                    cfg.settings.push((name, val));
                }
                T_CROSSCERT => set_once(&mut cfg.crosscert, text()?, kind)?,
                T_CRL => cfg.crls.push(value),
                other => return Err(ConfigError::UnknownRecord(other)),
            }
        }
        Ok(cfg)
    }

    /// Encodes the configuration.
    pub fn encode(&self) -> Result<Vec<u8>, ConfigError> {
        let mut body = Vec::new();
        let mut record = |kind: u8, parts: &[&[u8]]| -> Result<(), ConfigError> {
            let n: usize = parts.iter().map(|p| p.len()).sum();
            let n = u32::try_from(n).map_err(|_| ConfigError::TooLarge)?;
            body.push(kind);
            body.extend_from_slice(&n.to_le_bytes());
            parts.iter().for_each(|p| body.extend_from_slice(p));
            Ok(())
        };
        for a in &self.anchors {
            record(T_ANCHOR, &[a])?;
        }
        for c in &self.certs {
            record(T_CERT, &[c])?;
        }
        if let Some(k) = self.key {
            record(T_KEY, &[k])?;
        }
        if let Some(s) = self.script {
            record(T_SCRIPT, &[s.as_bytes()])?;
        }
        for (name, value) in &self.settings {
            if name.is_empty() || name.contains('\0') {
                return Err(ConfigError::BadRecord(T_SETTING));
            }
            record(T_SETTING, &[name.as_bytes(), b"\0", value.as_bytes()])?;
        }
        if let Some(u) = self.crosscert {
            record(T_CROSSCERT, &[u.as_bytes()])?;
        }
        for c in &self.crls {
            record(T_CRL, &[c])?;
        }
        let len = u32::try_from(body.len()).map_err(|_| ConfigError::TooLarge)?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&crc32(&body).to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// The policy the setting records make; an unknown name or value is an error.
    pub fn policy(&self) -> Result<Policy, PolicyError> {
        Policy::from_settings(&self.settings)
    }

    /// Replaces the setting records with those of `policy`.
    pub fn set_policy(&mut self, policy: &Policy) {
        self.settings = policy.settings();
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, kind: u8) -> Result<(), ConfigError> {
    if slot.is_some() {
        return Err(ConfigError::Duplicate(kind));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Config<'static> {
        Config {
            anchors: alloc::vec![[7u8; 32], [9u8; 32]],
            certs: alloc::vec![&b"\x30\x03\x02\x01\x01"[..]],
            key: Some(b"\x30\x00"),
            script: Some("#!ipxe\ndhcp\nchain http://${next-server}/boot.ipxe\n"),
            settings: alloc::vec![("require-signed", "all"), ("tls-min", "1.3")],
            crosscert: Some("http://ca.example/auto"),
            crls: alloc::vec![&b"\x30\x03\x02\x01\x02"[..]],
        }
    }

    #[test]
    fn round_trip() {
        let cfg = sample();
        let bytes = cfg.encode().unwrap();
        assert_eq!(&bytes[..8], b"BOOTSIGN");
        assert_eq!(Config::decode(&bytes).unwrap(), cfg);
        let policy = Config::decode(&bytes).unwrap().policy().unwrap();
        assert_eq!(policy.tls_min, TlsMin::Tls13);
        assert_eq!(policy.require_signed, RequireSigned::All);
        let empty = Config::default().encode().unwrap();
        assert_eq!(empty.len(), HEADER_LEN);
        assert_eq!(Config::decode(&empty).unwrap(), Config::default());
    }

    #[test]
    fn crc_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn damage_is_detected() {
        let bytes = sample().encode().unwrap();
        assert_eq!(Config::decode(&bytes[..bytes.len() - 1]), Err(ConfigError::Truncated));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Config::decode(&longer), Err(ConfigError::TrailingData));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 1;
        assert_eq!(Config::decode(&flipped), Err(ConfigError::BadChecksum));
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert_eq!(Config::decode(&magic), Err(ConfigError::BadMagic));
        let mut version = bytes;
        version[8] = 2;
        assert_eq!(Config::decode(&version), Err(ConfigError::UnsupportedVersion(2)));
        assert_eq!(Config::decode(b"BOOT"), Err(ConfigError::Truncated));
    }

    /// Re-frames hand-made records with a correct header, to test record checks.
    fn framed(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32(body).to_le_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn bad_records() {
        assert_eq!(Config::decode(&framed(&[9, 0, 0, 0, 0])), Err(ConfigError::UnknownRecord(9)));
        assert_eq!(Config::decode(&framed(&[1, 3, 0, 0, 0, 1, 2, 3])), Err(ConfigError::BadRecord(1)));
        assert_eq!(Config::decode(&framed(&[4, 1, 0, 0, 0, 0xff])), Err(ConfigError::BadRecord(4)));
        assert_eq!(Config::decode(&framed(&[5, 1, 0, 0, 0, b'x'])), Err(ConfigError::BadRecord(5)));
        assert_eq!(Config::decode(&framed(&[3, 0, 0, 0, 0, 3, 0, 0, 0, 0])), Err(ConfigError::Duplicate(3)));
        assert_eq!(Config::decode(&framed(&[2, 9, 0, 0, 0, 1])), Err(ConfigError::Truncated));
        assert_eq!(Config::decode(&framed(&[2, 0, 0])), Err(ConfigError::Truncated));
        assert_eq!(Config::decode(&framed(&[4, 0, 0, 0, 0, 2, 0, 0, 0, 0])), Err(ConfigError::OutOfOrder(2)));
        let mut reserved = framed(&[]);
        reserved[11] = 1;
        assert_eq!(Config::decode(&reserved), Err(ConfigError::Reserved));
    }
}
