//! Where passphrases come from: a file (`--passphrase-file`, first line) or the terminal.
//! Never from the command line, where other users could read it in the process list.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use crate::fsx::quote;

/// What `--passphrase-file` has been used for in this command: one file cannot be both
/// a key file's passphrase and a token's PIN (sending a passphrase to a token as its PIN
/// spends a login attempt, and shows the module the passphrase).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileUse {
    /// Not yet.
    Unused,
    /// A key file's passphrase.
    Passphrase,
    /// A token's PIN.
    Pin,
}

static FILE_USE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// What `--passphrase-file` was used for so far.
pub fn file_use() -> FileUse {
    match FILE_USE.load(std::sync::atomic::Ordering::Relaxed) {
        1 => FileUse::Passphrase,
        2 => FileUse::Pin,
        _ => FileUse::Unused,
    }
}

/// Records what `--passphrase-file` is used for.
pub fn set_file_use(what: FileUse) {
    let v = match what {
        FileUse::Unused => 0,
        FileUse::Passphrase => 1,
        FileUse::Pin => 2,
    };
    FILE_USE.store(v, std::sync::atomic::Ordering::Relaxed);
}

/// The user's choice of passphrase source.
#[derive(Clone, Debug, Default)]
pub struct Source {
    /// `--passphrase-file`.
    pub file: Option<PathBuf>,
}

impl Source {
    /// The passphrase to unlock `key`. Warnings about the file go to `warn`.
    pub fn unlock(&self, key: &Path, warn: &mut dyn Write) -> Result<Zeroizing<String>> {
        if let Some(file) = &self.file {
            if file_use() == FileUse::Pin {
                bail!(
                    "{} is encrypted, and --passphrase-file already gave a token's PIN in this command: give the \
                     PIN with --pin-file FILE (or pin-source=FILE in the URI) and keep --passphrase-file for the key",
                    quote(key)
                );
            }
            set_file_use(FileUse::Passphrase);
            return read_file(file, warn);
        }
        if !std::io::stdin().is_terminal() {
            bail!(
                "{} is encrypted and no passphrase was given: use --passphrase-file FILE \
                 (there is no terminal to ask on)",
                quote(key)
            );
        }
        let pass = rpassword::prompt_password(format!("Passphrase for {}: ", key.display()))
            .context("failed to read the passphrase from the terminal")?;
        Ok(Zeroizing::new(pass))
    }

    /// A new passphrase for `key`: from the file, or asked twice on the terminal. Warnings
    /// about the file go to `warn`.
    pub fn new_for(&self, key: &Path, warn: &mut dyn Write) -> Result<Zeroizing<String>> {
        let pass = match &self.file {
            Some(file) => read_file(file, warn)?,
            None => {
                if !std::io::stdin().is_terminal() {
                    bail!(
                        "--encrypt needs a passphrase: use --passphrase-file FILE \
                         (there is no terminal to ask on)"
                    );
                }
                let first = Zeroizing::new(
                    rpassword::prompt_password(format!("New passphrase for {}: ", key.display()))
                        .context("failed to read the passphrase from the terminal")?,
                );
                let again = Zeroizing::new(
                    rpassword::prompt_password("Repeat the passphrase: ")
                        .context("failed to read the passphrase from the terminal")?,
                );
                if first != again {
                    bail!("the passphrases do not match");
                }
                first
            }
        };
        if pass.len() < 4 {
            bail!("the passphrase is too short (at least 4 characters, as OpenSSL requires)");
        }
        Ok(pass)
    }
}

/// The first line of `file` (`what`, as messages name it; at most `limit` bytes read)
/// without its "\n": what a passphrase or PIN file holds. Empty is an error.
pub(crate) fn read_first_line(file: &Path, what: &str, limit: u64) -> Result<Zeroizing<String>> {
    let bytes = Zeroizing::new(crate::fsx::read_capped(file, limit, what)?);
    let text = std::str::from_utf8(&bytes).with_context(|| format!("{what} {} is not text", quote(file)))?;
    let line = text.split('\n').next().unwrap_or("");
    if line.is_empty() {
        bail!("{what} {} is empty", quote(file));
    }
    Ok(Zeroizing::new(line.to_string()))
}

fn read_file(file: &Path, warn: &mut dyn Write) -> Result<Zeroizing<String>> {
    // The first line without its "\n", as OpenSSL's `-passin file:` reads it: a "\r" before
    // it (a CRLF line end) stays part of the passphrase there too, so it does here.
    let line = read_first_line(file, "passphrase file", crate::fsx::MAX_INPUT)?;
    if line.ends_with('\r') {
        writeln!(
            warn,
            "warning: the passphrase in {} ends with a carriage return (a CRLF line end); it is part of the \
             passphrase, as OpenSSL reads the file too",
            quote(file)
        )?;
    }
    Ok(line)
}
