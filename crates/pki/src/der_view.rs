//! Checked views over signed DER objects.
//!
//! Certificates, certification requests and CRLs all have the shape
//! `SEQUENCE { toBeSigned, AlgorithmIdentifier, BIT STRING }`. A signature covers the
//! exact bytes of `toBeSigned` as they arrived, so they must be sliced out of the input
//! rather than re-encoded from a parsed structure. [`SignedObject::parse`] checks the
//! outer framing once (definite, minimal lengths; nothing trailing) and then hands out
//! slices that cannot go out of bounds.

use core::fmt;

/// One tag-length-value element: its tag byte, the whole encoding, and the content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet (only low-tag-number form is accepted).
    pub tag: u8,
    /// Tag, length and content together.
    pub raw: &'a [u8],
    /// The content octets.
    pub value: &'a [u8],
}

/// What was wrong with the framing of a DER object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DerError {
    /// The input ended inside an element.
    Truncated,
    /// A length in the indefinite or a non-minimal form, or wider than 4 bytes.
    BadLength,
    /// A tag in the high-tag-number form, which none of these structures use.
    UnsupportedTag,
    /// An element other than the one the structure requires, here is what was found.
    UnexpectedTag {
        /// The tag the structure requires.
        expected: u8,
        /// The tag found.
        found: u8,
    },
    /// Bytes left over after the object.
    TrailingData,
    /// A BIT STRING signature with unused bits.
    BadBitString,
}

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("DER data is truncated"),
            Self::BadLength => f.write_str("DER length is not in minimal definite form"),
            Self::UnsupportedTag => f.write_str("DER tag in high-tag-number form"),
            Self::UnexpectedTag { expected, found } => {
                write!(f, "expected DER tag 0x{expected:02x}, found 0x{found:02x}")
            }
            Self::TrailingData => f.write_str("data follows the end of the DER object"),
            Self::BadBitString => f.write_str("signature BIT STRING has unused bits"),
        }
    }
}

/// DER tag of a constructed SEQUENCE.
pub const TAG_SEQUENCE: u8 = 0x30;
/// DER tag of a BIT STRING.
pub const TAG_BIT_STRING: u8 = 0x03;

/// Reads one element from the front of `input`, returning it and the rest.
pub fn read_tlv(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let (&tag, rest) = input.split_first().ok_or(DerError::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(DerError::UnsupportedTag);
    }
    let (&first, mut rest) = rest.split_first().ok_or(DerError::Truncated)?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(if rest.len() < n { DerError::Truncated } else { DerError::BadLength });
        }
        let (bytes, after) = rest.split_at(n);
        rest = after;
        if bytes[0] == 0 {
            return Err(DerError::BadLength);
        }
        let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        if len < 0x80 {
            return Err(DerError::BadLength);
        }
        len
    };
    if rest.len() < len {
        return Err(DerError::Truncated);
    }
    let header = input.len() - rest.len();
    let (value, rest) = rest.split_at(len);
    Ok((Tlv { tag, raw: &input[..header + len], value }, rest))
}

/// Reads one element that must carry `tag`.
pub fn expect_tlv(input: &[u8], tag: u8) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let (tlv, rest) = read_tlv(input)?;
    if tlv.tag != tag {
        return Err(DerError::UnexpectedTag { expected: tag, found: tlv.tag });
    }
    Ok((tlv, rest))
}

/// A signed DER object split into what was signed, how, and the signature.
#[derive(Clone, Copy, Debug)]
pub struct SignedObject<'a> {
    /// The complete `toBeSigned` element, exactly as encoded in the input.
    pub tbs: &'a [u8],
    /// The complete outer `AlgorithmIdentifier` element.
    pub algorithm: &'a [u8],
    /// The signature bytes (the BIT STRING's content without its unused-bits octet).
    pub signature: &'a [u8],
}

impl<'a> SignedObject<'a> {
    /// Splits `der`, which must be exactly one signed object.
    pub fn parse(der: &'a [u8]) -> Result<Self, DerError> {
        let (outer, rest) = expect_tlv(der, TAG_SEQUENCE)?;
        if !rest.is_empty() {
            return Err(DerError::TrailingData);
        }
        let (tbs, rest) = expect_tlv(outer.value, TAG_SEQUENCE)?;
        let (algorithm, rest) = expect_tlv(rest, TAG_SEQUENCE)?;
        let (sig, rest) = expect_tlv(rest, TAG_BIT_STRING)?;
        if !rest.is_empty() {
            return Err(DerError::TrailingData);
        }
        match sig.value.split_first() {
            Some((0, bits)) => Ok(Self { tbs: tbs.raw, algorithm: algorithm.raw, signature: bits }),
            _ => Err(DerError::BadBitString),
        }
    }
}

/// Raw slices of the fields of a `TBSCertificate` that signatures and name chaining
/// compare byte for byte.
#[derive(Clone, Copy, Debug)]
pub struct TbsFields<'a> {
    /// The serial number's INTEGER content octets.
    pub serial: &'a [u8],
    /// The complete issuer `Name` element.
    pub issuer: &'a [u8],
    /// The complete subject `Name` element.
    pub subject: &'a [u8],
    /// The complete `SubjectPublicKeyInfo` element.
    pub spki: &'a [u8],
}

/// DER tag of an INTEGER.
pub const TAG_INTEGER: u8 = 0x02;
/// DER tag of the explicit `[0]` version field.
pub const TAG_VERSION: u8 = 0xa0;

impl<'a> TbsFields<'a> {
    /// Walks a complete `TBSCertificate` element (as [`SignedObject::tbs`] returns it).
    pub fn parse(tbs: &'a [u8]) -> Result<Self, DerError> {
        let (outer, rest) = expect_tlv(tbs, TAG_SEQUENCE)?;
        if !rest.is_empty() {
            return Err(DerError::TrailingData);
        }
        let mut body = outer.value;
        let (first, after) = read_tlv(body)?;
        if first.tag == TAG_VERSION {
            body = after;
        }
        let (serial, body) = expect_tlv(body, TAG_INTEGER)?;
        let (_signature, body) = expect_tlv(body, TAG_SEQUENCE)?;
        let (issuer, body) = expect_tlv(body, TAG_SEQUENCE)?;
        let (_validity, body) = expect_tlv(body, TAG_SEQUENCE)?;
        let (subject, body) = expect_tlv(body, TAG_SEQUENCE)?;
        let (spki, _extensions) = expect_tlv(body, TAG_SEQUENCE)?;
        Ok(Self { serial: serial.value, issuer: issuer.raw, subject: subject.raw, spki: spki.raw })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_short_and_long_form() {
        let (t, rest) = read_tlv(&[0x04, 0x02, 0xaa, 0xbb, 0xcc]).unwrap();
        assert_eq!((t.tag, t.value, rest), (0x04, &[0xaa, 0xbb][..], &[0xcc][..]));
        let mut long = [0u8; 3 + 0x80];
        long[..3].copy_from_slice(&[0x04, 0x81, 0x80]);
        let (t, rest) = read_tlv(&long).unwrap();
        assert_eq!((t.value.len(), t.raw.len(), rest.len()), (0x80, 0x83, 0));
    }

    #[test]
    fn rejects_non_minimal_indefinite_and_truncated() {
        assert_eq!(read_tlv(&[0x04, 0x81, 0x05, 0, 0, 0, 0, 0]), Err(DerError::BadLength));
        assert_eq!(read_tlv(&[0x04, 0x82, 0x00, 0x80]), Err(DerError::BadLength));
        assert_eq!(read_tlv(&[0x30, 0x80, 0, 0]), Err(DerError::BadLength));
        assert_eq!(read_tlv(&[0x04, 0x05, 0]), Err(DerError::Truncated));
        assert_eq!(read_tlv(&[0x04, 0x82, 0x01]), Err(DerError::Truncated));
        assert_eq!(read_tlv(&[]), Err(DerError::Truncated));
        assert_eq!(read_tlv(&[0x1f, 0x01, 0x00]), Err(DerError::UnsupportedTag));
    }

    #[test]
    fn signed_object_split_and_framing_errors() {
        // SEQUENCE { SEQUENCE {05 00}, SEQUENCE {06 01 2a}, BIT STRING {00 ff} }
        let obj = [0x30, 0x0d, 0x30, 0x02, 0x05, 0x00, 0x30, 0x03, 0x06, 0x01, 0x2a, 0x03, 0x02, 0x00, 0xff];
        let s = SignedObject::parse(&obj).unwrap();
        assert_eq!(s.tbs, &[0x30, 0x02, 0x05, 0x00]);
        assert_eq!(s.algorithm, &[0x30, 0x03, 0x06, 0x01, 0x2a]);
        assert_eq!(s.signature, &[0xff]);

        let mut trailing = obj.to_vec();
        trailing.push(0);
        assert_eq!(SignedObject::parse(&trailing).unwrap_err(), DerError::TrailingData);
        let mut unused_bits = obj;
        unused_bits[13] = 1;
        assert_eq!(SignedObject::parse(&unused_bits).unwrap_err(), DerError::BadBitString);
        assert!(SignedObject::parse(&obj[..10]).is_err());
    }
}
