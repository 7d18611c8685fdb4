//! Where passphrases come from: a file (`--passphrase-file`, first line) or the terminal.
//! Never from the command line, where other users could read it in the process list.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use crate::fsx::quote;

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

fn read_file(file: &Path, warn: &mut dyn Write) -> Result<Zeroizing<String>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(file)
            .with_context(|| format!("failed to read passphrase file {}", quote(file)))?,
    );
    // The first line without its "\n", as OpenSSL's `-passin file:` reads it: a "\r" before
    // it (a CRLF line end) stays part of the passphrase there too, so it does here.
    let line = text.split('\n').next().unwrap_or("");
    if line.is_empty() {
        bail!("passphrase file {} is empty", quote(file));
    }
    if line.ends_with('\r') {
        writeln!(
            warn,
            "warning: the passphrase in {} ends with a carriage return (a CRLF line end); it is part of the \
             passphrase, as OpenSSL reads the file too",
            quote(file)
        )?;
    }
    Ok(Zeroizing::new(line.to_string()))
}
