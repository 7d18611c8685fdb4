//! Cross-certificate fetching, as iPXE does it: when a chain stops at an issuer nobody
//! supplied, the platform asks the crosscert server for certificates issued to that name.
//!
//! The request is `<base>/<crc32 of issuer DN, %08x>.der?subject=<base64 of issuer DN>`;
//! the answer is a DER `SET OF Certificate`. This module builds the URL and checks the
//! answer; the platform does the HTTP, adds the certificates with
//! [`Config::add_certificates`](crate::Config::add_certificates) and connects again.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use bootsign_pki::Cert;
use bootsign_pki::cert::CertError;
use der::{Decode, Encode, Header, Reader, SliceReader, Tag};

/// CRC-32 (IEEE 802.3, as zlib and iPXE compute it) of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

/// The path and query to fetch cross-certificates for the issuer with DER name
/// `issuer_dn`: `/<crc32 %08x>.der?subject=<base64>`. The base64 is the standard
/// alphabet with padding; `+`, `/` and `=` are percent-encoded so that the query
/// survives every URL parser (a server decoding the query gets the base64 back).
pub fn crosscert_path(issuer_dn: &[u8]) -> String {
    let b64 = base64ct::Base64::encode_string(issuer_dn);
    let mut out = alloc::format!("/{:08x}.der?subject=", crc32(issuer_dn));
    for c in b64.chars() {
        match c {
            '+' => out.push_str("%2B"),
            '/' => out.push_str("%2F"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
    out
}

/// The full URL under the crosscert `base` (a trailing `/` on the base is ignored).
pub fn crosscert_url(base: &str, issuer_dn: &[u8]) -> String {
    let mut url = String::from(base.trim_end_matches('/'));
    url.push_str(&crosscert_path(issuer_dn));
    url
}

use base64ct::Encoding as _;

/// Why a crosscert answer was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrossCertError {
    /// Not a DER SET (a single certificate, an HTML error page, PEM ...).
    NotASet,
    /// The DER framing is broken or bytes follow the SET.
    Malformed,
    /// An element of the SET is not a certificate.
    BadCertificate {
        /// Its position, from 0.
        index: usize,
        /// What is wrong with it.
        error: CertError,
    },
}

impl fmt::Display for CrossCertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotASet => f.write_str("the crosscert answer is not a DER SET OF Certificate"),
            Self::Malformed => f.write_str("the crosscert answer has broken DER framing or trailing bytes"),
            Self::BadCertificate { index, error } => {
                write!(f, "certificate {} in the crosscert answer is unreadable: {error}", index + 1)
            }
        }
    }
}

/// Splits a crosscert answer into its DER certificates (each checked to parse). An
/// empty SET is a valid answer: the server knows no cross-certificate.
pub fn parse_crosscert_response(der: &[u8]) -> Result<Vec<Vec<u8>>, CrossCertError> {
    let mut reader = SliceReader::new(der).map_err(|_| CrossCertError::Malformed)?;
    let header = Header::decode(&mut reader).map_err(|_| CrossCertError::Malformed)?;
    if header.tag() != Tag::Set {
        return Err(CrossCertError::NotASet);
    }
    let body = reader.read_slice(header.length()).map_err(|_| CrossCertError::Malformed)?;
    if !reader.is_finished() {
        return Err(CrossCertError::Malformed);
    }
    let mut inner = SliceReader::new(body).map_err(|_| CrossCertError::Malformed)?;
    let mut out = Vec::new();
    while !inner.is_finished() {
        let any = der::asn1::AnyRef::decode(&mut inner).map_err(|_| CrossCertError::Malformed)?;
        let tlv = any.to_der().map_err(|_| CrossCertError::Malformed)?;
        Cert::parse(&tlv).map_err(|error| CrossCertError::BadCertificate { index: out.len(), error })?;
        out.push(tlv);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn url_form() {
        let dn = [0x30, 0x03, 0xfb, 0xff, 0xfe];
        let url = crosscert_url("http://ca.example/crosscert/", &dn);
        assert_eq!(
            url,
            alloc::format!("http://ca.example/crosscert/{:08x}.der?subject=MAP7%2F%2F4%3D", crc32(&dn))
        );
    }

    #[test]
    fn refuses_what_is_not_a_set() {
        assert_eq!(parse_crosscert_response(&[0x30, 0x00]), Err(CrossCertError::NotASet));
        assert_eq!(parse_crosscert_response(&[0x31, 0x05, 0x00]), Err(CrossCertError::Malformed));
        assert_eq!(parse_crosscert_response(&[0x31, 0x00, 0x00]), Err(CrossCertError::Malformed));
        assert_eq!(parse_crosscert_response(&[0x31, 0x00]), Ok(Vec::new()));
        assert!(matches!(
            parse_crosscert_response(&[0x31, 0x02, 0x05, 0x00]),
            Err(CrossCertError::BadCertificate { index: 0, .. })
        ));
    }
}
