//! `bootsign.toml`: the project file that makes a repeatable build just `bootsign build`.
//!
//! ```toml
//! [build]
//! formats = ["efi", "iso"]          # efi, iso, usb, rom, lkrn, kpxe
//! trust = ["ca.crt"]                # files or SHA-256 fingerprints
//! cert = ["client.crt"]
//! privkey = "client.key"
//! embed = "boot.ipxe"
//! crosscert = "http://ca.example/auto"
//! tls-min = "1.2"                   # 1.0, 1.1 (legacy servers), 1.2, 1.3
//! pci = ["1af4:1000"]
//! require-signed = true
//! require-signed-initrd = false
//! crl = ["ca.crl"]                  # revocation lists (bootsign crl)
//! require-fresh-crl = false         # refuse all an issuer signed once its CRL is past nextUpdate
//! out-dir = "images"
//! output-name = "bootsign"
//! ```
//!
//! Paths are relative to the file's directory. Command-line flags override the file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::fsx::quote;

/// The project file's name.
pub const FILE: &str = "bootsign.toml";

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// `[build]`.
    #[serde(default)]
    pub build: BuildSection,
}

/// `[build]`: the defaults for `bootsign build`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildSection {
    /// Output formats.
    #[serde(default)]
    pub formats: Vec<String>,
    /// `--trust`.
    #[serde(default)]
    pub trust: Vec<String>,
    /// `--cert`.
    #[serde(default)]
    pub cert: Vec<String>,
    /// `--privkey`.
    pub privkey: Option<PathBuf>,
    /// `--embed`.
    pub embed: Option<PathBuf>,
    /// `--crosscert`.
    pub crosscert: Option<String>,
    /// `--tls-min`.
    pub tls_min: Option<String>,
    /// `--pci`.
    #[serde(default)]
    pub pci: Vec<String>,
    /// `--require-signed`.
    #[serde(default)]
    pub require_signed: bool,
    /// `--require-signed-initrd`.
    #[serde(default)]
    pub require_signed_initrd: bool,
    /// `--crl`.
    #[serde(default)]
    pub crl: Vec<PathBuf>,
    /// `--require-fresh-crl`.
    #[serde(default)]
    pub require_fresh_crl: bool,
    /// `--no-autodhcp`.
    #[serde(default)]
    pub no_autodhcp: bool,
    /// `--sb-key`.
    pub sb_key: Option<PathBuf>,
    /// `--sb-cert`.
    pub sb_cert: Option<PathBuf>,
    /// `-o`.
    pub out_dir: Option<PathBuf>,
    /// `--output-name`.
    pub output_name: Option<String>,
}

impl Project {
    /// Reads `path`, resolving relative paths against its directory.
    pub fn read(path: &Path) -> Result<Self> {
        // The file decides what goes into boot images (trust, keys, scripts): one that
        // someone else could have planted or changed is not followed.
        let meta = std::fs::metadata(path).with_context(|| format!("failed to read {}", quote(path)))?;
        {
            use std::os::unix::fs::MetadataExt;
            let me = rustix::process::geteuid().as_raw();
            if meta.uid() != me && meta.uid() != 0 {
                bail!(
                    "refusing to use the project file {}: it belongs to another user (uid {}); use --no-config, \
                     or --config with your own file",
                    quote(path),
                    meta.uid()
                );
            }
            if meta.mode() & 0o022 != 0 {
                bail!(
                    "refusing to use the project file {}: others may write to it (mode {:o}); chmod go-w it, or use --no-config",
                    quote(path),
                    meta.mode() & 0o777
                );
            }
        }
        let bytes = crate::fsx::read_capped(path, crate::fsx::MAX_INPUT, "")?;
        let text = String::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!("{} is not a valid project file: it is not UTF-8 text", quote(path))
        })?;
        let mut project: Project =
            toml::from_str(&text).with_context(|| format!("{} is not a valid project file", quote(path)))?;
        let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let rel =
            |p: &Path| if p.is_absolute() || base == Path::new(".") { p.to_path_buf() } else { base.join(p) };
        let b = &mut project.build;
        let rel_item = |s: &String| -> String {
            // Fingerprints stay as they are; anything that exists relative to the file is a path.
            let candidate = rel(Path::new(s));
            if candidate.exists() { candidate.display().to_string() } else { s.clone() }
        };
        b.trust = b.trust.iter().map(rel_item).collect();
        b.cert = b.cert.iter().map(rel_item).collect();
        b.privkey = b.privkey.as_deref().map(rel);
        // A key in a token is a pkcs11: URI, not a path.
        b.sb_key = b.sb_key.as_deref().map(|k| {
            if k.to_str().is_some_and(bootsign_pkcs11_uri::Pkcs11Uri::is_uri) {
                k.to_path_buf()
            } else {
                rel(k)
            }
        });
        b.sb_cert = b.sb_cert.as_deref().map(rel);
        b.embed = b.embed.as_deref().map(rel);
        b.crl = b.crl.iter().map(|p| rel(p)).collect();
        b.out_dir = b.out_dir.as_deref().map(rel);
        Ok(project)
    }

    /// The project file to use: `explicit`, else `./bootsign.toml`, else the CA
    /// directory's, when they exist.
    pub fn find(explicit: Option<&Path>, ca_dir: &Path) -> Result<Option<(PathBuf, Self)>> {
        if let Some(p) = explicit {
            return Ok(Some((p.to_path_buf(), Self::read(p)?)));
        }
        for candidate in [PathBuf::from(FILE), ca_dir.join(FILE)] {
            if candidate.is_file() {
                let project = Self::read(&candidate)?;
                return Ok(Some((candidate, project)));
            }
        }
        Ok(None)
    }
}

/// What `ca init` writes: a project file that builds EFI and ISO images trusting the new CA.
pub const TEMPLATE: &str = "\
# bootsign project file: `bootsign build` reads it (flags override it).
[build]
formats = [\"efi\", \"iso\"]   # efi, iso, usb, rom (rom needs pci = [\"VENDOR:DEVICE\"]), lkrn, kpxe
trust = [\"ca.crt\"]          # certificate files or SHA-256 fingerprints
# cert = [\"client.crt\"]     # chain material and the TLS client certificate
# privkey = \"client.key\"    # the client key (the images must then be kept confidential)
# embed = \"boot.ipxe\"       # the boot script; default: dhcp, then chain the DHCP boot file
# require-signed = true      # nothing unverified ever boots
# crl = [\"ca.crl\"]          # revocation lists to embed (bootsign crl makes ca.crl)
# out-dir = \"images\"        # where images go (the directory must exist); default: .
";
