//! The CA directory, laid out as the OpenSSL recipe lays it out:
//!
//! ```text
//! ca.crt        the root certificate (PEM)
//! ca.key        its private key (PEM, mode 0600, optionally encrypted), or
//! ca.key.uri    the PKCS#11 URI of the key in a token, when it lives there (no PIN)
//! ca.idx        the certificate database (OpenSSL index.txt format)
//! ca.idx.attr   database attributes (unique_subject = no)
//! serial        the next serial number (hex)
//! signed/       a copy of every issued certificate, as SERIAL.pem
//! crlnumber     the number of the next CRL (hex; made by the first `bootsign crl`)
//! ca.crl        the latest CRL, unless written elsewhere (PEM)
//! ```
//!
//! Issuing takes an exclusive lock on the directory, reads the serial
//! and database, and writes the new certificate, database and serial together (see
//! [`crate::fsx::FileSet`]), so concurrent runs get distinct serials and a failed run
//! changes nothing.

pub mod crl;
pub mod index;
pub mod serial;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::fsx::{FileSet, MODE_PUBLIC, Overwrite, quote};
use crate::keys::{KeyRef, PrivateKey, Signer, SigningKey};
use crate::passphrase;
use crate::timefmt;
use crate::x509::cert::Cert;
use index::{Entry, Index};
use serial::Serial;

/// File names inside the CA directory.
pub mod files {
    /// Root certificate.
    pub const CERT: &str = "ca.crt";
    /// Root private key.
    pub const KEY: &str = "ca.key";
    /// The root key's PKCS#11 URI, when the key is in a token (instead of [`KEY`]).
    pub const KEY_URI: &str = "ca.key.uri";
    /// Certificate database.
    pub const INDEX: &str = "ca.idx";
    /// Database attributes (read by `openssl ca`).
    pub const INDEX_ATTR: &str = "ca.idx.attr";
    /// Next serial number.
    pub const SERIAL: &str = "serial";
    /// Issued certificates.
    pub const SIGNED: &str = "signed";
    /// Number of the next CRL (OpenSSL's `crlnumber = crlnumber`).
    pub const CRL_NUMBER: &str = "crlnumber";
    /// Default CRL output.
    pub const CRL: &str = "ca.crl";
}

/// A CA directory (which may not exist yet).
pub struct CaDir {
    root: PathBuf,
}

/// The CA's certificate and key, known to match.
pub struct Issuer {
    /// The root certificate.
    pub cert: Cert,
    /// Its private key (a file's, or a token's).
    pub key: SigningKey,
    /// Its key identifier (for authorityKeyIdentifier).
    pub key_id: Vec<u8>,
}

/// Holds the CA lock until dropped.
pub struct Lock(#[allow(dead_code)] File);

impl CaDir {
    /// The CA directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// A file inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        // Files of a CA in the current directory are shown as `ca.key`, not `./ca.key`.
        if self.root == Path::new(".") { PathBuf::from(name) } else { self.root.join(name) }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Fails unless the directory holds a CA certificate.
    pub fn require(&self) -> Result<()> {
        if !self.root.is_dir() {
            bail!(
                "CA directory {} does not exist; create a CA with 'bootsign ca init', \
                 or point --ca-dir (or BOOTSIGN_CA_DIR) at an existing one",
                quote(&self.root)
            );
        }
        let cert = self.path(files::CERT);
        if !cert.exists() {
            bail!(
                "{} is not a CA directory: it has no {}; create a CA with 'bootsign ca init'",
                quote(&self.root),
                files::CERT
            );
        }
        Ok(())
    }

    /// Takes the exclusive CA lock (waits for other bootsign processes), then puts back
    /// whatever a crashed run left half written ([`crate::fsx::recover`]) before anything
    /// is read. The lock is an advisory `flock` on the directory itself, so it leaves no
    /// file behind. When another process holds it, this says so on `warn` while waiting.
    pub fn lock(&self, warn: &mut dyn Write) -> Result<Lock> {
        let dir = File::open(&self.root)
            .with_context(|| format!("failed to open the CA directory {}", quote(&self.root)))?;
        match dir.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                writeln!(
                    warn,
                    "waiting for the lock on the CA directory {} (another bootsign, or a process holding it open, has it)",
                    quote(&self.root)
                )?;
                dir.lock()
                    .with_context(|| format!("failed to lock the CA directory {}", quote(&self.root)))?;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e)
                    .with_context(|| format!("failed to lock the CA directory {}", quote(&self.root)));
            }
        }
        crate::fsx::recover(&self.root);
        crate::fsx::recover(&self.path(files::SIGNED));
        Ok(Lock(dir))
    }

    /// The CA certificate.
    pub fn cert(&self) -> Result<Cert> {
        self.require()?;
        Cert::read_one(&self.path(files::CERT))
    }

    /// Where the CA key is: `ca.key`, or the token `ca.key.uri` names.
    pub fn key_ref(&self) -> Result<KeyRef> {
        KeyRef::at(&self.path(files::KEY))
    }

    /// The CA certificate and its key (a file's or a token's), checked to belong
    /// together. Warnings about the passphrase file go to `warn`.
    pub fn issuer(
        &self,
        pass: &passphrase::Source,
        access: &crate::pkcs11::Access,
        warn: &mut dyn Write,
    ) -> Result<Issuer> {
        let cert = self.cert()?;
        let key_ref = self.key_ref()?;
        let key = match &key_ref {
            KeyRef::File(key_path) => {
                let bytes = crate::fsx::read_capped(key_path, crate::fsx::MAX_INPUT, "the CA key")?;
                SigningKey::File(PrivateKey::from_file_bytes(&bytes, key_path, &mut || {
                    pass.unlock(key_path, &mut *warn)
                })?)
            }
            KeyRef::Token(uri) => SigningKey::Token(Box::new(crate::pkcs11::TokenKey::open(uri, access)?)),
        };
        if !key.matches_spki(cert.fields().spki) {
            bail!(
                "the CA key {} does not match the CA certificate {}: they are from different key pairs",
                key_ref.describe(),
                quote(&self.path(files::CERT))
            );
        }
        let key_id = cert.key_identifier()?;
        Ok(Issuer { cert, key, key_id })
    }

    /// The certificate database.
    pub fn index(&self) -> Result<Index> {
        let path = self.path(files::INDEX);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("failed to read the certificate database {} (a CA directory needs one; 'touch' it if it is new)", quote(&path))
        })?;
        Index::parse(&text, &path)
    }

    /// The next serial number.
    pub fn serial(&self) -> Result<Serial> {
        let path = self.path(files::SERIAL);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("failed to read the serial file {} (start one with: echo 01 > serial)", quote(&path))
        })?;
        let serial = Serial::parse(&text).with_context(|| format!("bad serial file {}", quote(&path)))?;
        if serial.is_zero() {
            bail!("bad serial file {}: serial numbers must be positive", quote(&path));
        }
        Ok(serial)
    }

    /// Issues one certificate under the lock, in an order that survives a crash at any
    /// instant: whatever a crashed run left half done is rolled back first
    /// ([`crate::fsx::recover`]); the serial is chosen past any that already has a record
    /// (`ca.idx` or `signed/`) and reserved by advancing and syncing `serial` before
    /// anything is signed (a burned serial harms nothing; a serial given twice would);
    /// then `build` receives it and returns the signed certificate plus the caller's own
    /// files, which are committed together with `signed/SERIAL.pem` and `ca.idx`, all or
    /// nothing. Warnings (waiting for the lock, a serial file behind) go to `warn`.
    pub fn issue_with<F>(&self, warn: &mut dyn Write, build: F) -> Result<(Cert, Serial)>
    where
        F: FnOnce(&Serial) -> Result<(Cert, FileSet)>,
    {
        let _lock = self.lock(warn)?;
        let signed_dir = self.path(files::SIGNED);
        let mut serial = self.serial()?;
        let mut index = self.index()?;
        let signed_file = |s: &Serial| signed_dir.join(format!("{}.pem", s.hex()));
        let first = serial.clone();
        while index.contains(&serial) || signed_file(&serial).symlink_metadata().is_ok() {
            serial = serial.next();
        }
        if serial != first {
            writeln!(
                warn,
                "warning: {} was behind the records (serial {} is taken); this certificate gets serial {}",
                quote(&self.path(files::SERIAL)),
                first.hex(),
                serial.hex()
            )?;
        }
        if serial.bytes().len() > 20 || (serial.bytes().len() == 20 && serial.bytes()[0] & 0x80 != 0) {
            bail!(
                "serial {} is longer than the 20 octets RFC 5280 allows; reset {} to a smaller number",
                serial.hex(),
                quote(&self.path(files::SERIAL))
            );
        }
        crate::fsx::write_durable(
            &self.path(files::SERIAL),
            format!("{}\n", serial.next().hex()).as_bytes(),
            MODE_PUBLIC,
        )?;
        let (cert, caller_files) = build(&serial)?;
        crate::fsx::create_dir(&signed_dir)?;
        index.entries.push(Entry {
            status: 'V',
            expiry: timefmt::index_time(cert.not_after())?,
            revocation: String::new(),
            serial: serial.hex(),
            file: "unknown".into(),
            subject: cert.subject_oneline(),
        });
        // The CA's records come first: were the set ever placed without the journal's
        // roll-back (another tool writing here after a crash), a recorded certificate that
        // was never handed out is harmless, an unrecorded one that was is not.
        let mut files = FileSet::default();
        files.add(signed_file(&serial), cert.to_pem().into_bytes(), MODE_PUBLIC, Overwrite::Never);
        files.add(self.path(files::INDEX), index.to_text().into_bytes(), MODE_PUBLIC, Overwrite::Replace);
        files.append(caller_files);
        files.commit()?;
        Ok((cert, serial))
    }
}
