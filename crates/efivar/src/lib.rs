//! The formats UEFI Secure Boot keeps its keys in, for making them on the host:
//!
//! - [`Guid`]: 128-bit identifiers in the UEFI byte order (the first three fields little
//!   endian), parsed from and printed as `8be4df61-93ca-11d2-aa0d-00e098032b8c`;
//! - EFI signature lists (UEFI 2.10 §32.4.1): what PK, KEK, db and dbx hold, one list per
//!   signature type, here X.509 certificates ([`x509_signature_list`]) and SHA-256 image
//!   hashes, read back by [`parse_signature_lists`];
//! - time-based authenticated variable updates (§8.2.2, `EFI_VARIABLE_AUTHENTICATION_2`):
//!   [`signed_update_payload`] gives the bytes a key signs for an update of a variable,
//!   [`authenticated_update`] assembles the `.auth` file from the timestamp, the PKCS#7
//!   signature over them and the new contents, as efitools' `sign-efi-sig-list` writes it
//!   and `efi-updatevar -f` or a firmware's key manager reads it.
//!
//! Sans-IO and `no_std`: the CLI signs with its own keys and writes the files.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use core::fmt;

/// A UEFI GUID, held in its on-disk (mixed-endian) byte order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// From its text form (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, either case).
    pub const fn parse(text: &str) -> Option<Self> {
        let t = text.as_bytes();
        if t.len() != 36 || t[8] != b'-' || t[13] != b'-' || t[18] != b'-' || t[23] != b'-' {
            return None;
        }
        // Hex digit positions in text order.
        let mut raw = [0u8; 16];
        let mut i = 0;
        let mut n = 0;
        while i < 36 {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                i += 1;
                continue;
            }
            let (Some(hi), Some(lo)) = (hex(t[i]), hex(t[i + 1])) else { return None };
            raw[n] = hi << 4 | lo;
            n += 1;
            i += 2;
        }
        // The first three fields are stored little endian.
        Some(Self([
            raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6], raw[8], raw[9], raw[10], raw[11],
            raw[12], raw[13], raw[14], raw[15],
        ]))
    }

    /// From 16 random bytes: a version 4 GUID.
    pub fn random_v4(mut bytes: [u8; 16]) -> Self {
        // Version in the high nibble of the third field (stored little endian: byte 7),
        // variant 10xx in byte 8.
        bytes[7] = (bytes[7] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Self(bytes)
    }
}

const fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            b[3],
            b[2],
            b[1],
            b[0],
            b[5],
            b[4],
            b[7],
            b[6],
            b[8],
            b[9],
            b[10],
            b[11],
            b[12],
            b[13],
            b[14],
            b[15]
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

const fn guid(text: &str) -> Guid {
    match Guid::parse(text) {
        Some(g) => g,
        None => panic!("bad GUID constant"),
    }
}

/// EFI_GLOBAL_VARIABLE: the vendor GUID of PK, KEK, SecureBoot, SetupMode.
pub const EFI_GLOBAL_VARIABLE: Guid = guid("8be4df61-93ca-11d2-aa0d-00e098032b8c");
/// EFI_IMAGE_SECURITY_DATABASE_GUID: the vendor GUID of db and dbx.
pub const EFI_IMAGE_SECURITY_DATABASE: Guid = guid("d719b2cb-3d3a-4596-a3bc-dad00e67656f");
/// EFI_CERT_X509_GUID: a signature list of DER X.509 certificates.
pub const EFI_CERT_X509: Guid = guid("a5c059a1-94e4-4aa7-87b5-ab155c2bf072");
/// EFI_CERT_SHA256_GUID: a signature list of SHA-256 image digests.
pub const EFI_CERT_SHA256: Guid = guid("c1c41626-504c-4092-aca9-41f936934328");
/// EFI_CERT_TYPE_PKCS7_GUID: the certificate type of an authenticated update.
pub const EFI_CERT_TYPE_PKCS7: Guid = guid("4aafd29d-68df-49ee-8aa9-347d375665a7");

/// NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS | TIME_BASED_AUTHENTICATED_WRITE_ACCESS:
/// the attributes of PK, KEK, db and dbx.
pub const SECURE_VARIABLE_ATTRIBUTES: u32 = 0x01 | 0x02 | 0x04 | 0x20;
/// EFI_VARIABLE_APPEND_WRITE: add to a variable instead of replacing it.
pub const APPEND_WRITE: u32 = 0x40;

/// WIN_CERT_TYPE_EFI_GUID.
const WIN_CERT_TYPE_EFI_GUID: u16 = 0x0ef1;

/// One signature in a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureData<'a> {
    /// Who put it there.
    pub owner: Guid,
    /// The certificate (DER) or hash.
    pub data: &'a [u8],
}

/// One EFI_SIGNATURE_LIST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureList<'a> {
    /// The type of every signature in it (e.g. [`EFI_CERT_X509`]).
    pub signature_type: Guid,
    /// The signatures.
    pub signatures: Vec<SignatureData<'a>>,
}

/// Why bytes are not signature lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EslError {
    /// A list header or size runs past the end.
    Truncated,
    /// A list's sizes do not add up (signature size smaller than its owner GUID, or a
    /// list size that is not header + a whole number of signatures).
    BadSizes,
}

impl fmt::Display for EslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "the EFI signature list is truncated",
            Self::BadSizes => "the EFI signature list's sizes do not add up",
        })
    }
}

impl core::error::Error for EslError {}

/// An EFI_SIGNATURE_LIST holding one X.509 certificate (DER), owned by `owner`, as
/// efitools' `cert-to-efi-sig-list` writes it.
pub fn x509_signature_list(owner: Guid, cert_der: &[u8]) -> Vec<u8> {
    signature_list(EFI_CERT_X509, owner, &[cert_der])
}

/// An EFI_SIGNATURE_LIST of `signature_type` holding `items` (all the same size), each
/// owned by `owner`.
///
/// # Panics
/// If the items differ in size or the list exceeds 4 GiB: a caller's bug.
pub fn signature_list(signature_type: Guid, owner: Guid, items: &[&[u8]]) -> Vec<u8> {
    let item = items.first().map_or(0, |i| i.len());
    assert!(items.iter().all(|i| i.len() == item), "one list holds signatures of one size");
    let signature_size = 16 + item;
    let total = 28 + signature_size * items.len();
    let u32_of = |n: usize| u32::try_from(n).expect("an EFI signature list is under 4 GiB");
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&signature_type.0);
    out.extend_from_slice(&u32_of(total).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&u32_of(signature_size).to_le_bytes());
    for i in items {
        out.extend_from_slice(&owner.0);
        out.extend_from_slice(i);
    }
    out
}

fn u32_at(b: &[u8], at: usize) -> Result<usize, EslError> {
    let s = b.get(at..at + 4).ok_or(EslError::Truncated)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

fn guid_at(b: &[u8], at: usize) -> Result<Guid, EslError> {
    Ok(Guid(b.get(at..at + 16).ok_or(EslError::Truncated)?.try_into().expect("16 bytes")))
}

/// Reads a sequence of EFI_SIGNATURE_LISTs (a variable's contents, or an `.esl` file).
pub fn parse_signature_lists(mut bytes: &[u8]) -> Result<Vec<SignatureList<'_>>, EslError> {
    let mut lists = Vec::new();
    while !bytes.is_empty() {
        let signature_type = guid_at(bytes, 0)?;
        let list_size = u32_at(bytes, 16)?;
        let header_size = u32_at(bytes, 20)?;
        let signature_size = u32_at(bytes, 24)?;
        if list_size > bytes.len() {
            return Err(EslError::Truncated);
        }
        let body =
            list_size.checked_sub(28).and_then(|n| n.checked_sub(header_size)).ok_or(EslError::BadSizes)?;
        if signature_size < 16 || body % signature_size != 0 {
            return Err(EslError::BadSizes);
        }
        let mut signatures = Vec::new();
        let start = 28 + header_size;
        for i in 0..body / signature_size {
            let at = start + i * signature_size;
            signatures.push(SignatureData {
                owner: guid_at(bytes, at)?,
                data: &bytes[at + 16..at + signature_size],
            });
        }
        lists.push(SignatureList { signature_type, signatures });
        bytes = &bytes[list_size..];
    }
    Ok(lists)
}

/// EFI_TIME as authenticated updates carry it: UTC, nanoseconds, time zone and daylight
/// zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EfiTime {
    /// 1900–9999.
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59.
    pub second: u8,
}

impl EfiTime {
    /// The UTC time `unix` seconds after 1970-01-01.
    pub fn from_unix(unix: u64) -> Self {
        let days = (unix / 86_400) as i64;
        let secs = unix % 86_400;
        // Civil date from days (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Self {
            year,
            month,
            day,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
        }
    }

    /// The 16-byte EFI_TIME.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..2].copy_from_slice(&self.year.to_le_bytes());
        b[2] = self.month;
        b[3] = self.day;
        b[4] = self.hour;
        b[5] = self.minute;
        b[6] = self.second;
        b
    }
}

/// The bytes a key signs to update variable `name` (of `vendor`) to `data` with
/// `attributes` at `time`: the variable name in UCS-2 without its terminator, the vendor
/// GUID, the attributes, the timestamp and the new contents.
pub fn signed_update_payload(
    name: &str,
    vendor: Guid,
    attributes: u32,
    time: EfiTime,
    data: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    for unit in name.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out.extend_from_slice(&vendor.0);
    out.extend_from_slice(&attributes.to_le_bytes());
    out.extend_from_slice(&time.to_bytes());
    out.extend_from_slice(data);
    out
}

/// An authenticated update (`.auth`): EFI_VARIABLE_AUTHENTICATION_2 (the timestamp and a
/// WIN_CERTIFICATE_UEFI_GUID holding `pkcs7`, a DER PKCS#7 SignedData over
/// [`signed_update_payload`]) followed by the new contents.
pub fn authenticated_update(time: EfiTime, pkcs7: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + 24 + pkcs7.len() + data.len());
    out.extend_from_slice(&time.to_bytes());
    let len = u32::try_from(24 + pkcs7.len()).expect("a signature is under 4 GiB");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&0x0200u16.to_le_bytes());
    out.extend_from_slice(&WIN_CERT_TYPE_EFI_GUID.to_le_bytes());
    out.extend_from_slice(&EFI_CERT_TYPE_PKCS7.0);
    out.extend_from_slice(pkcs7);
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn guids_round_trip_in_uefi_byte_order() {
        let g = EFI_GLOBAL_VARIABLE;
        assert_eq!(g.0[..4], [0x61, 0xdf, 0xe4, 0x8b], "first field little endian");
        assert_eq!(g.0[8..], [0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c]);
        assert_eq!(g.to_string(), "8be4df61-93ca-11d2-aa0d-00e098032b8c");
        assert_eq!(Guid::parse("8BE4DF61-93CA-11D2-AA0D-00E098032B8C"), Some(g));
        for bad in [
            "",
            "8be4df61-93ca-11d2-aa0d-00e098032b8",
            "8be4df61x93ca-11d2-aa0d-00e098032b8c",
            "zbe4df61-93ca-11d2-aa0d-00e098032b8c",
        ] {
            assert_eq!(Guid::parse(bad), None, "{bad}");
        }
        let v4 = Guid::random_v4([0xff; 16]);
        assert_eq!(&v4.to_string()[14..15], "4");
        assert!(matches!(&v4.to_string()[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn signature_lists_round_trip_and_damage_is_refused() {
        let owner = Guid::parse("11111111-2222-3333-4444-555555555555").unwrap();
        let esl = x509_signature_list(owner, &[0x30, 0x03, 1, 2, 3]);
        assert_eq!(esl.len(), 28 + 16 + 5);
        let lists = parse_signature_lists(&esl).unwrap();
        assert_eq!(
            lists,
            [SignatureList {
                signature_type: EFI_CERT_X509,
                signatures: alloc::vec![SignatureData { owner, data: &[0x30, 0x03, 1, 2, 3] }]
            }]
        );
        let two = [esl.clone(), signature_list(EFI_CERT_SHA256, owner, &[&[7; 32], &[8; 32]])].concat();
        let lists = parse_signature_lists(&two).unwrap();
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[1].signatures.len(), 2);
        assert_eq!(parse_signature_lists(&esl[..esl.len() - 1]), Err(EslError::Truncated));
        let mut bad = esl.clone();
        bad[24] = 7; // signature size 7 < 16
        assert_eq!(parse_signature_lists(&bad), Err(EslError::BadSizes));
        let mut bad = esl;
        bad[16] = 10; // list size smaller than its header
        assert_eq!(parse_signature_lists(&bad), Err(EslError::BadSizes));
    }

    #[test]
    fn times() {
        let t = EfiTime::from_unix(1_767_225_600); // 2026-01-01T00:00:00Z
        assert_eq!((t.year, t.month, t.day, t.hour, t.minute, t.second), (2026, 1, 1, 0, 0, 0));
        let t = EfiTime::from_unix(951_782_400 + 3661); // 2000-02-29T01:01:01Z
        assert_eq!((t.year, t.month, t.day, t.hour, t.minute, t.second), (2000, 2, 29, 1, 1, 1));
        assert_eq!(t.to_bytes()[..7], [0xd0, 0x07, 2, 29, 1, 1, 1]);
        assert_eq!(t.to_bytes()[7..], [0; 9]);
    }

    #[test]
    fn update_layout() {
        let t = EfiTime::from_unix(0);
        let payload =
            signed_update_payload("db", EFI_IMAGE_SECURITY_DATABASE, SECURE_VARIABLE_ATTRIBUTES, t, b"DATA");
        assert_eq!(&payload[..4], b"d\0b\0");
        assert_eq!(&payload[4..20], &EFI_IMAGE_SECURITY_DATABASE.0);
        assert_eq!(&payload[20..24], &0x27u32.to_le_bytes());
        assert_eq!(&payload[40..], b"DATA");
        let auth = authenticated_update(t, &[0x30, 0x00], b"DATA");
        assert_eq!(&auth[16..20], &26u32.to_le_bytes());
        assert_eq!(&auth[20..24], &[0x00, 0x02, 0xf1, 0x0e]);
        assert_eq!(&auth[24..40], &EFI_CERT_TYPE_PKCS7.0);
        assert_eq!(&auth[40..], [0x30, 0x00, b'D', b'A', b'T', b'A']);
    }
}
