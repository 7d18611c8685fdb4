//! `ca.idx`: OpenSSL's text database of issued certificates.
//!
//! One line per certificate, six tab-separated fields:
//! `status  expiry  revocation[,reason]  serial  filename  subject`, where status is
//! `V` (valid), `R` (revoked) or `E` (expired), times are `YYMMDDHHMMSSZ`, the serial is
//! upper-case hex, the filename is `unknown` and the subject is the `/CN=...` form.
//! bootsign reads and writes exactly that, so `openssl ca` and bootsign can take turns.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use super::serial::Serial;
use crate::fsx::quote;
use crate::x509::crl::{Reason, Revoked};

/// One database line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `V`, `R` or `E`.
    pub status: char,
    /// notAfter in `ca.idx` time form.
    pub expiry: String,
    /// Revocation time (and `,reason`), empty unless revoked.
    pub revocation: String,
    /// Serial, upper-case hex.
    pub serial: String,
    /// Certificate file name; OpenSSL writes `unknown`.
    pub file: String,
    /// Subject in `/CN=...` form.
    pub subject: String,
}

/// The whole database, in file order.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// Entries in file order.
    pub entries: Vec<Entry>,
}

impl Index {
    /// Parses the text of `path`; any malformed line is an error naming the line.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let at = || format!("{} line {}", quote(path), n + 1);
            if fields.len() != 6 {
                bail!("{}: expected 6 tab-separated fields, found {}", at(), fields.len());
            }
            let status = match fields[0] {
                "V" => 'V',
                "R" => 'R',
                "E" => 'E',
                other => bail!("{}: unknown status '{other}' (expected V, R or E)", at()),
            };
            if let Err(e) = Serial::parse(fields[3]) {
                bail!("{}: {e}", at());
            }
            if let Err(e) = crate::timefmt::parse_index_time(fields[1]) {
                bail!("{}: expiry {e}", at());
            }
            entries.push(Entry {
                status,
                expiry: fields[1].into(),
                revocation: fields[2].into(),
                serial: fields[3].into(),
                file: fields[4].into(),
                subject: fields[5].into(),
            });
        }
        Ok(Self { entries })
    }

    /// The text to write back.
    pub fn to_text(&self) -> String {
        self.entries
            .iter()
            .map(|e| {
                format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\n",
                    e.status, e.expiry, e.revocation, e.serial, e.file, e.subject
                )
            })
            .collect()
    }

    /// The entry for `serial`, compared numerically.
    pub fn find_mut(&mut self, serial: &Serial) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| Serial::parse(&e.serial).ok().as_ref() == Some(serial))
    }

    /// Every `R` entry as a CRL entry, in file order: the serial, the revocation time and
    /// the reason from the `YYMMDDHHMMSSZ[,reason]` field. A missing or malformed time,
    /// or a reason bootsign does not know (OpenSSL's removeFromCRL, holdInstruction,
    /// keyTime and CAkeyTime forms), is an error naming the serial.
    pub fn revoked(&self) -> Result<Vec<Revoked>> {
        let mut out = Vec::new();
        for e in self.entries.iter().filter(|e| e.status == 'R') {
            let (time, reason) = match e.revocation.split_once(',') {
                Some((time, reason)) => (time, Some(reason)),
                None => (e.revocation.as_str(), None),
            };
            let at = || format!("serial {} is revoked", e.serial);
            if time.is_empty() {
                bail!("{} but has no revocation time", at());
            }
            let date =
                crate::timefmt::parse_index_time(time).with_context(|| format!("{} at a bad time", at()))?;
            let reason = reason
                .map(|name| {
                    Reason::from_name(name).ok_or_else(|| {
                        let known: Vec<&str> = Reason::ALL.iter().map(|r| r.name()).collect();
                        anyhow!(
                            "{} with reason '{name}', which bootsign cannot put in a CRL (it knows {})",
                            at(),
                            known.join(", ")
                        )
                    })
                })
                .transpose()?;
            let serial = Serial::parse(&e.serial)?.bytes().to_vec();
            out.push(Revoked { serial, date, reason });
        }
        Ok(out)
    }

    /// Whether `serial` is already recorded.
    pub fn contains(&self, serial: &Serial) -> bool {
        self.entries.iter().any(|e| Serial::parse(&e.serial).ok().as_ref() == Some(serial))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENSSL_WRITTEN: &str = "V\t361122000000Z\t\t01\tunknown\t/CN=boot.example\n\
                                   R\t290101000000Z\t261125001500Z,keyCompromise\t02\tunknown\t/O=X/CN=old\n";

    #[test]
    fn round_trips_openssl_lines() {
        let idx = Index::parse(OPENSSL_WRITTEN, Path::new("ca.idx")).unwrap();
        assert_eq!(idx.entries.len(), 2);
        assert_eq!(idx.entries[1].revocation, "261125001500Z,keyCompromise");
        assert_eq!(idx.to_text(), OPENSSL_WRITTEN);
        assert!(idx.contains(&Serial::parse("2").unwrap()));
        assert!(!idx.contains(&Serial::parse("3").unwrap()));
    }

    #[test]
    fn revoked_entries_for_a_crl() {
        let text = format!(
            "{OPENSSL_WRITTEN}R\t290101000000Z\t20510102030405Z\t0A\tunknown\t/CN=x\n\
             R\t290101000000Z\t261125001500Z,unspecified\t0B\tunknown\t/CN=y\n\
             E\t200101000000Z\t\t0C\tunknown\t/CN=z\n"
        );
        let idx = Index::parse(&text, Path::new("ca.idx")).unwrap();
        let revoked = idx.revoked().unwrap();
        assert_eq!(
            revoked,
            [
                Revoked { serial: vec![2], date: 1_795_565_700, reason: Some(Reason::KeyCompromise) },
                Revoked { serial: vec![0x0a], date: 2_556_241_445, reason: None },
                Revoked { serial: vec![0x0b], date: 1_795_565_700, reason: Some(Reason::Unspecified) },
            ]
        );
        for (field, expect) in [
            ("", "serial 02 is revoked but has no revocation time"),
            ("261125001500Z,removeFromCRL", "serial 02 is revoked with reason 'removeFromCRL'"),
            ("261125001500Z,", "serial 02 is revoked with reason ''"),
            ("yesterday,keyCompromise", "serial 02 is revoked at a bad time"),
        ] {
            let bad = OPENSSL_WRITTEN.replace("261125001500Z,keyCompromise", field);
            let err = Index::parse(&bad, Path::new("ca.idx")).unwrap().revoked().unwrap_err();
            assert!(format!("{err:#}").starts_with(expect), "{err:#}");
        }
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let err = Index::parse("V\t361122000000Z\t\t01\tunknown\t/CN=a\nV\tbad\n", Path::new("ca.idx"))
            .unwrap_err();
        assert_eq!(err.to_string(), "'ca.idx' line 2: expected 6 tab-separated fields, found 2");
        let err = Index::parse("X\t361122000000Z\t\t01\tunknown\t/CN=a\n", Path::new("ca.idx")).unwrap_err();
        assert!(err.to_string().contains("unknown status 'X'"));
    }
}
