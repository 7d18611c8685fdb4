//! `bootsign ca init`: a new root CA in the CA directory.

use std::os::unix::fs::DirBuilderExt;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use super::{Ctx, Globals};
use crate::ca::files;
use crate::fsx::{FileSet, MODE_PUBLIC, MODE_SECRET, Overwrite, quote};
use crate::keys::{KeyType, Signer, SigningKey, parse_uri_arg};
use crate::pkcs11::TokenKey;
use crate::timefmt;
use crate::x509::build::{self_signed_by, validity_days};
use crate::x509::cert::Cert;
use crate::x509::profile;
use bootsign_pkcs11_uri::Pkcs11Uri;

/// CA management.
#[derive(Subcommand)]
pub enum CaCommand {
    /// Create a root CA: ca.crt, ca.key, ca.idx, serial and signed/ in the CA directory.
    #[command(after_help = "Examples:\n  bootsign ca init\n      \
                      a root CA \"bootsign CA <hostname>\" here, and bootsign.toml for builds\n  \
                      bootsign --ca-dir /srv/ca ca init --cn 'Rack boot CA' --key p256\n      \
                      the same in /srv/ca, with an ECDSA P-256 key\n  \
                      bootsign ca init --encrypt --passphrase-file pass.txt\n      \
                      ca.key encrypted under the first line of pass.txt\n  \
                      bootsign ca init --key-in 'pkcs11:token=ca;object=root;id=%01' \\\n          \
                      --pkcs11-module /usr/lib/softhsm/libsofthsm2.so\n      \
                      the root key made in (or taken from) a PKCS#11 token;\n      \
                      ca.key.uri names it")]
    Init(InitArgs),
}

/// `ca init` options.
#[derive(Args)]
pub struct InitArgs {
    /// Common name of the root [default: "bootsign CA <hostname>"].
    #[arg(long, value_name = "NAME")]
    pub cn: Option<String>,
    /// Key algorithm of the root.
    #[arg(long, value_enum, default_value = "rsa2048")]
    pub key: KeyType,
    /// Validity of the root in days.
    #[arg(long, default_value_t = 3650, value_name = "N")]
    pub days: u32,
    /// Encrypt ca.key with a passphrase (asked on the terminal, or --passphrase-file).
    #[arg(long)]
    pub encrypt: bool,
    /// Keep the root key in a PKCS#11 token: the key this RFC 7512 URI names, or, when the
    /// token has none, a new --key one made there (never extractable; name it by object=
    /// and id=). The CA directory records the URI (without a PIN) in ca.key.uri instead
    /// of holding ca.key, and every command signs with the token's key.
    #[arg(long, value_name = "PKCS11-URI", value_parser = parse_uri_arg, conflicts_with = "encrypt")]
    pub key_in: Option<Box<Pkcs11Uri>>,
    /// Replace an existing ca.crt and ca.key (ca.idx, serial and signed/ are kept, so
    /// serial numbers never repeat).
    #[arg(long)]
    pub force: bool,
}

/// Runs a `ca` subcommand.
pub fn run(ctx: &mut Ctx<'_>, g: &Globals, cmd: CaCommand) -> Result<()> {
    match cmd {
        CaCommand::Init(args) => init(ctx, g, args),
    }
}

fn default_cn() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("bootsign CA {host}")
}

fn init(ctx: &mut Ctx<'_>, g: &Globals, args: InitArgs) -> Result<()> {
    let dir = g.ca.root();
    let cert_path = g.ca.path(files::CERT);
    let key_path = g.ca.path(files::KEY);
    let uri_path = g.ca.path(files::KEY_URI);
    // A forced re-init replaces the root, but a key of the other kind is never deleted:
    // it is left for the user to remove.
    let other = if args.key_in.is_some() { &key_path } else { &uri_path };
    if args.force && other.exists() {
        bail!(
            "{} holds the current CA's key {}; this root's key goes {}: move that one away first",
            quote(dir),
            quote(other),
            if args.key_in.is_some() { "into the token" } else { "into ca.key" }
        );
    }
    if !args.force {
        for existing in [&cert_path, &key_path, &uri_path] {
            if existing.exists() {
                bail!(
                    "{} already holds a CA ({} exists); refusing to replace it \
                     (use --force to make a new root; ca.idx, serial and signed/ are kept)",
                    quote(dir),
                    quote(existing)
                );
            }
        }
    }
    if dir.exists() && !dir.is_dir() {
        bail!("{} is not a directory", quote(dir));
    }
    let cn = args.cn.unwrap_or_else(default_cn);
    if cn.trim().is_empty() {
        bail!("--cn must not be empty");
    }
    let (not_before, not_after) = validity_days(ctx.now(), args.days)?;
    let passphrase = if args.encrypt { Some(g.pass.new_for(&key_path, ctx.err)?) } else { None };

    // The key: a new file's, or the token's (found there, or made there now).
    let (key, key_file) = match &args.key_in {
        None => {
            let key = crate::keys::PrivateKey::generate(args.key)?;
            let pem = key.to_pem(passphrase.as_ref().map(|p| p.as_str()))?;
            (SigningKey::File(key), (key_path.clone(), pem.as_bytes().to_vec(), MODE_SECRET))
        }
        Some(uri) => {
            let key = TokenKey::open_or_generate(uri, &g.pkcs11, args.key)?;
            let record = key.record();
            (SigningKey::Token(Box::new(key)), (uri_path.clone(), record, MODE_PUBLIC))
        }
    };
    // From here a failure takes a key pair made in the token out again.
    let undo = |e: anyhow::Error| {
        key.discard_if_made();
        e
    };
    if let SigningKey::Token(token) = &key {
        writeln!(ctx.err, "{}", token.provenance()).map_err(|e| undo(e.into()))?;
    }
    let der = self_signed_by(&key, &cn, not_before, not_after, profile::root).map_err(undo)?;
    let cert = Cert::from_der(der).context("internal error: the new root does not decode").map_err(undo)?;

    let created_dir = !dir.exists();
    if created_dir {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("failed to create the CA directory {}", quote(dir)))
            .map_err(undo)?;
    }
    let replace = if args.force { Overwrite::Replace } else { Overwrite::Never };
    let project_path = g.ca.path(crate::project::FILE);
    let new_project = !project_path.exists();
    let mut out = FileSet::default();
    out.add(&key_file.0, key_file.1, key_file.2, replace);
    out.add(&cert_path, cert.to_pem().into_bytes(), MODE_PUBLIC, replace);
    // The database, serial and project file carry over a forced re-init; new ones start
    // empty, at 01, and building EFI and ISO images that trust this CA.
    for (name, content) in [
        (files::INDEX, ""),
        (files::INDEX_ATTR, "unique_subject = no\n"),
        (files::SERIAL, "01\n"),
        (crate::project::FILE, crate::project::TEMPLATE),
    ] {
        let path = g.ca.path(name);
        if !path.exists() {
            out.add(path, content.as_bytes().to_vec(), MODE_PUBLIC, Overwrite::Never);
        }
    }
    if let Err(e) = out.commit() {
        if created_dir {
            let _ = std::fs::remove_dir(dir);
        }
        return Err(undo(e));
    }
    let signed = g.ca.path(files::SIGNED);
    crate::fsx::create_dir(&signed)?;

    writeln!(ctx.err, "Created root CA \"{cn}\" ({}) in {}", key.describe(), quote(dir))?;
    writeln!(ctx.err, "  certificate  {}", cert_path.display())?;
    match &args.key_in {
        None => writeln!(
            ctx.err,
            "  key          {} (mode 0600{})",
            key_path.display(),
            if args.encrypt { ", encrypted" } else { ", keep it secret" }
        )?,
        Some(_) => writeln!(ctx.err, "  key          in the token, named by {}", uri_path.display())?,
    }
    writeln!(ctx.err, "  valid until  {} ({} days)", timefmt::date(not_after), args.days)?;
    writeln!(ctx.err, "  SHA-256      {}", cert.fingerprint())?;
    if new_project {
        writeln!(
            ctx.err,
            "  project      {}, the settings 'bootsign build' reads (EFI and ISO images that trust {})",
            project_path.display(),
            files::CERT
        )?;
    }
    writeln!(ctx.err, "Next: bootsign issue --codesigning, bootsign issue --server --cn HOST")?;
    Ok(())
}
