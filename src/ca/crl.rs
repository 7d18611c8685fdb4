//! The CA directory's certificate revocation lists: every revoked entry of `ca.idx`,
//! numbered from the `crlnumber` file and signed by the CA, as `openssl ca -gencrl`
//! makes them when its configuration says `crlnumber = crlnumber`.
//!
//! `crlnumber` holds the number of the next CRL in OpenSSL's form (upper-case hex, an
//! even number of digits, a newline); when it is missing, numbering starts at 01. Under
//! the CA lock the number is reserved first (the file is advanced and synced to disk),
//! and only then is the CRL signed and handed to the caller to write: a crash can skip
//! a number, never use one twice, and bootsign and `openssl ca` keep counting from the
//! same file.

use anyhow::{Context, Result, anyhow, bail};

use super::serial::Serial;
use super::{CaDir, Issuer, files};
use crate::fsx::{FileSet, MODE_PUBLIC, Overwrite, quote};
use crate::x509::crl::CrlSpec;

/// RFC 5280 §5.2.3: CRL numbers are at most 20 octets long.
pub const MAX_NUMBER_OCTETS: usize = 20;

/// A signed CRL and what went into it.
pub struct Crl {
    /// The CRL, DER.
    pub der: Vec<u8>,
    /// Its cRLNumber.
    pub number: Serial,
    /// How many certificates it lists.
    pub revoked: usize,
    /// thisUpdate, seconds since the epoch.
    pub this_update: u64,
    /// nextUpdate, seconds since the epoch.
    pub next_update: u64,
}

/// Parses the text of a `crlnumber` file. Errors say what is wrong without repeating
/// the content, which may be anything.
pub fn parse_number(text: &[u8]) -> Result<Serial> {
    let text = std::str::from_utf8(text).unwrap_or("?").trim();
    if text.is_empty() {
        bail!("it is empty");
    }
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("it is not one hexadecimal number (OpenSSL writes hex digits and a newline, e.g. 01)");
    }
    let number = Serial::parse(text)?;
    if number.bytes().len() > MAX_NUMBER_OCTETS {
        bail!("the number is longer than {MAX_NUMBER_OCTETS} octets, which RFC 5280 does not allow");
    }
    Ok(number)
}

/// The `crlnumber` file's text for `number`, as OpenSSL writes it (`02\n`).
pub fn number_text(number: &Serial) -> String {
    format!("{}\n", number.hex())
}

impl CaDir {
    /// The number the next CRL gets: the `crlnumber` file's, or `None` without the file.
    pub fn crl_number(&self) -> Result<Option<Serial>> {
        let path = self.path(files::CRL_NUMBER);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("failed to read the CRL number file {}", quote(&path)));
            }
        };
        let number = parse_number(&bytes).map_err(|why| {
            anyhow!(
                "bad CRL number file {}: {why}; CRL numbers must keep increasing, so write a number above \
                 the last CRL's into it ('openssl crl -noout -crlnumber -in LAST.crl' shows that one)",
                quote(&path)
            )
        })?;
        Ok(Some(number))
    }

    /// Makes a CRL of every revoked entry in `ca.idx`, valid from `this_update` until
    /// `next_update`, under the CA lock: the number is reserved and `crlnumber` advanced
    /// first, then the CRL is signed and `write` (still under the lock, so CRLs land in
    /// number order) puts it where it goes. A database the CRL cannot be made from is
    /// refused before anything changes. Waiting for the lock is reported on `warn`.
    pub fn crl_with<F>(
        &self,
        warn: &mut dyn std::io::Write,
        issuer: &Issuer,
        this_update: u64,
        next_update: u64,
        write: F,
    ) -> Result<Crl>
    where
        F: FnOnce(&Crl) -> Result<()>,
    {
        let _lock = self.lock(warn)?;
        let revoked = self
            .index()?
            .revoked()
            .with_context(|| format!("cannot make a CRL from {}", quote(&self.path(files::INDEX))))?;
        let number = self.crl_number()?.unwrap_or_else(|| Serial::parse("01").expect("valid"));
        let mut reserve = FileSet::default();
        reserve.add(
            self.path(files::CRL_NUMBER),
            number_text(&number.next()).into_bytes(),
            MODE_PUBLIC,
            Overwrite::Replace,
        );
        reserve.commit()?;
        let der = CrlSpec {
            issuer: issuer.cert.fields().subject,
            issuer_key_id: &issuer.key_id,
            number: number.bytes(),
            this_update,
            next_update,
            revoked: &revoked,
        }
        .sign(&issuer.key)?;
        let crl = Crl { der, number, revoked: revoked.len(), this_update, next_update };
        write(&crl)?;
        Ok(crl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_file_forms() {
        assert_eq!(parse_number(b"01\n").unwrap().hex(), "01");
        assert_eq!(parse_number(b"1000\r\n").unwrap().hex(), "1000");
        assert_eq!(parse_number(b"00\n").unwrap().hex(), "00", "zero is a valid CRL number");
        assert_eq!(number_text(&parse_number(b"ff").unwrap().next()), "0100\n");
        let long = "01".repeat(21);
        for (bad, why) in [
            (&b""[..], "it is empty"),
            (b" \n", "it is empty"),
            (b"secret stuff\n", "it is not one hexadecimal number"),
            (b"01\n02\n", "it is not one hexadecimal number"),
            (b"\xff\xfe", "it is not one hexadecimal number"),
            (long.as_bytes(), "longer than 20 octets"),
        ] {
            let err = parse_number(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
            assert!(!err.contains("secret"), "{err}");
        }
    }
}
