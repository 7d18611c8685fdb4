//! SHA-256 fingerprints of DER certificates: how trust anchors are named.
//!
//! The text forms are the ones operators already know: OpenSSL's colon-separated
//! upper-case hex (`openssl x509 -fingerprint -sha256`) and plain hex. Parsing accepts
//! either, in any case, so a fingerprint can be pasted from either tool.

use core::fmt;
use sha2::{Digest, Sha256};

/// The SHA-256 digest of a certificate's DER encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

/// Why a text fingerprint could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FingerprintParseError {
    /// A character that is neither a hex digit nor a `:` separator, at this byte offset.
    BadCharacter(usize),
    /// The text does not hold exactly 32 bytes (64 hex digits); this many digits were found.
    WrongLength(usize),
}

impl fmt::Display for FingerprintParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadCharacter(at) => write!(f, "character {} is not a hex digit", at + 1),
            Self::WrongLength(n) => write!(f, "a SHA-256 fingerprint has 64 hex digits, this one has {n}"),
        }
    }
}

impl Fingerprint {
    /// Fingerprint of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// Parses `AB:CD:...` (OpenSSL) or `abcd...` (plain hex), case-insensitive.
    /// Colons may appear only between digit pairs.
    pub fn parse(text: &str) -> Result<Self, FingerprintParseError> {
        let mut out = [0u8; 32];
        let mut digits = 0usize;
        let mut pending_colon_ok = false;
        for (i, c) in text.bytes().enumerate() {
            if c == b':' {
                if !pending_colon_ok {
                    return Err(FingerprintParseError::BadCharacter(i));
                }
                pending_colon_ok = false;
                continue;
            }
            let v = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(FingerprintParseError::BadCharacter(i)),
            };
            if digits < 64 {
                out[digits / 2] |= if digits.is_multiple_of(2) { v << 4 } else { v };
            }
            digits += 1;
            pending_colon_ok = digits.is_multiple_of(2);
        }
        if digits != 64 || text.ends_with(':') {
            return Err(FingerprintParseError::WrongLength(digits));
        }
        Ok(Self(out))
    }

    /// The fingerprint as plain lower-case hex (64 characters), for scripts.
    pub fn hex(&self) -> HexDisplay<'_> {
        HexDisplay(&self.0)
    }
}

/// `AB:CD:...`, the form OpenSSL prints.
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.hex())
    }
}

/// Lower-case hex without separators; see [`Fingerprint::hex`].
pub struct HexDisplay<'a>(&'a [u8]);

impl fmt::Display for HexDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    // SHA-256("abc"), FIPS 180-2 test vector.
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn digest_and_both_text_forms() {
        let fp = Fingerprint::of_der(b"abc");
        assert_eq!(fp.hex().to_string(), ABC);
        let colon = fp.to_string();
        assert!(colon.starts_with("BA:78:16:BF:"));
        assert_eq!(colon.len(), 32 * 3 - 1);
        assert_eq!(Fingerprint::parse(&colon), Ok(fp));
        assert_eq!(Fingerprint::parse(ABC), Ok(fp));
        assert_eq!(Fingerprint::parse(&ABC.to_uppercase()), Ok(fp));
    }

    #[test]
    fn rejects_malformed_text() {
        assert_eq!(Fingerprint::parse(&ABC[..62]), Err(FingerprintParseError::WrongLength(62)));
        let mut long = ABC.to_string();
        long.push_str("00");
        assert_eq!(Fingerprint::parse(&long), Err(FingerprintParseError::WrongLength(66)));
        assert_eq!(Fingerprint::parse("zz"), Err(FingerprintParseError::BadCharacter(0)));
        // A colon splitting a byte, a leading colon and a trailing colon are refused.
        assert!(Fingerprint::parse(&["b", &ABC[1..]].join(":")).is_err());
        assert!(Fingerprint::parse(&[":", ABC].concat()).is_err());
        assert!(Fingerprint::parse(&[ABC, ":"].concat()).is_err());
    }
}
