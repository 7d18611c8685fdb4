//! `bootsign secureboot keys`: the platform's own Secure Boot keys (PK, KEK, db), made
//! with the CA machinery, in every form enrolling them takes: PEM certificates (for
//! `virt-fw-vars` and firmware setup screens), EFI signature lists (`.esl`, for
//! `efi-updatevar -e` in setup mode) and signed updates (`.auth`: PK and KEK signed by
//! PK, db by KEK, for `efi-updatevar -f` and key managers), as efitools writes them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bootsign_efivar::{
    EFI_GLOBAL_VARIABLE, EFI_IMAGE_SECURITY_DATABASE, EfiTime, Guid, SECURE_VARIABLE_ATTRIBUTES,
    authenticated_update, signed_update_payload, x509_signature_list,
};
use clap::{Args, Subcommand};

use super::{Ctx, Globals};
use crate::fsx::{FileSet, MODE_PUBLIC, MODE_SECRET, Overwrite, quote, refuse_existing};
use crate::keys::{KeyType, PrivateKey, Signer, SigningKey, parse_uri_arg};
use crate::pkcs11::TokenKey;
use crate::x509::build::{self_signed_by, validity_days};
use crate::x509::cert::Cert;
use crate::x509::profile;
use bootsign_pkcs11_uri::Pkcs11Uri;

/// `secureboot` subcommands.
#[derive(Subcommand)]
pub enum SecureBootCommand {
    /// Make this platform's Secure Boot keys: PK, KEK and db, each a key, a certificate, an
    /// EFI signature list and a signed update; and say how to enrol them.
    #[command(after_help = "Examples:\n  bootsign secureboot keys\n      \
                      PK, KEK and db in ./secureboot/ (of the CA directory), owner GUID random\n  \
                      bootsign secureboot keys -o /srv/sb --name 'Rack 7'\n      \
                      certificates \"Rack 7 PK\", \"Rack 7 KEK\", \"Rack 7 db\" in /srv/sb\n  \
                      bootsign build --efi --sb-key secureboot/db.key --sb-cert secureboot/db.crt\n      \
                      then: an image the platform boots with those keys enrolled")]
    Keys(KeysArgs),
}

/// `secureboot keys` options.
#[derive(Args)]
pub struct KeysArgs {
    /// Where to write them [default: secureboot/ in the CA directory].
    #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// The name in the certificates: "NAME PK", "NAME KEK", "NAME db".
    #[arg(long, value_name = "NAME", default_value = "bootsign")]
    pub name: String,
    /// The signature owner GUID written into the lists [default: a random one].
    #[arg(long, value_name = "GUID")]
    pub owner: Option<String>,
    /// Key algorithm: rsa2048 (what every firmware takes), rsa3072 or rsa4096.
    #[arg(long, value_enum, default_value = "rsa2048")]
    pub key: KeyType,
    /// Validity in days (firmware does not check it; tools that verify signatures do).
    #[arg(long, default_value_t = 3650)]
    pub days: u32,
    /// Keep the three keys in a PKCS#11 token: this RFC 7512 URI names the token (and how
    /// to reach it); the keys are "NAME PK", "NAME KEK" and "NAME db" there, used if they
    /// exist, else made there (never extractable). NAME.key.uri files name them instead
    /// of NAME.key, and `build --sb-key DIR/db.key` finds the token's db key through them.
    #[arg(long, value_name = "PKCS11-URI", value_parser = parse_uri_arg)]
    pub key_in: Option<Box<Pkcs11Uri>>,
    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
}

/// Runs a `secureboot` command.
pub fn run(ctx: &mut Ctx<'_>, g: &Globals, cmd: SecureBootCommand) -> Result<()> {
    match cmd {
        SecureBootCommand::Keys(args) => keys(ctx, g, args),
    }
}

/// One of the three keys' certificate and files; its key is at the same place in the
/// keys made.
struct Made {
    var: &'static str,
    vendor: Guid,
    /// What is written for the key: NAME.key (PEM) or NAME.key.uri, and its mode.
    key_file: (&'static str, Vec<u8>, u32),
    cert: Cert,
}

fn keys(ctx: &mut Ctx<'_>, g: &Globals, args: KeysArgs) -> Result<()> {
    if !matches!(args.key, KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096) {
        bail!("--key {:?}: UEFI Secure Boot keys are RSA (rsa2048, rsa3072 or rsa4096)", args.key);
    }
    if args.name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    let dir = args.out_dir.clone().unwrap_or_else(|| g.ca.path("secureboot"));
    if dir.exists() && !dir.is_dir() {
        bail!("{} is not a directory", quote(&dir));
    }
    let owner = match &args.owner {
        Some(text) => Guid::parse(text).with_context(|| {
            format!("--owner '{text}' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
        })?,
        None => {
            let mut bytes = [0u8; 16];
            crate::keys::random_bytes(&mut bytes)?;
            Guid::random_v4(bytes)
        }
    };
    let names = ["PK", "KEK", "db"];
    let key_ext = if args.key_in.is_some() { "key.uri" } else { "key" };
    let outputs: Vec<PathBuf> = names
        .iter()
        .flat_map(|n| [key_ext, "crt", "esl", "auth"].map(|ext| dir.join(format!("{n}.{ext}"))))
        .chain([dir.join("owner.guid")])
        .collect();
    // A new directory is made for the check of the outputs, and taken away again if
    // anything fails before they are written.
    let created = !dir.exists();
    if created {
        crate::fsx::create_dir(&dir)?;
    }
    let result = write_keys(ctx, g, &args, &dir, owner, &outputs);
    if result.is_err() && created {
        let _ = std::fs::remove_dir(&dir);
    }
    result
}

fn write_keys(
    ctx: &mut Ctx<'_>,
    g: &Globals,
    args: &KeysArgs,
    dir: &Path,
    owner: Guid,
    outputs: &[PathBuf],
) -> Result<()> {
    for out in outputs {
        refuse_existing(out, args.force)?;
    }
    let mut keys = Vec::new();
    let result = make_and_write(ctx, g, args, dir, owner, &mut keys);
    // Key pairs made in the token for files that were not written go again.
    if result.is_err() {
        for key in &keys {
            key.discard_if_made();
        }
    }
    result
}

/// Makes (or, in a token, finds) the three keys into `keys`, then their certificates and
/// files, and writes them.
fn make_and_write(
    ctx: &mut Ctx<'_>,
    g: &Globals,
    args: &KeysArgs,
    dir: &Path,
    owner: Guid,
    keys: &mut Vec<SigningKey>,
) -> Result<()> {
    let now = ctx.now();
    let (not_before, not_after) = validity_days(now, args.days)?;
    let mut made = Vec::new();
    for (var, vendor) in
        [("PK", EFI_GLOBAL_VARIABLE), ("KEK", EFI_GLOBAL_VARIABLE), ("db", EFI_IMAGE_SECURITY_DATABASE)]
    {
        let cn = format!("{} {var}", args.name);
        let key_file = match &args.key_in {
            None => {
                let key = PrivateKey::generate(args.key)?;
                let pem = key.to_pem(None)?.as_bytes().to_vec();
                keys.push(SigningKey::File(key));
                ("key", pem, MODE_SECRET)
            }
            Some(token) => {
                // Labelled by the certificate's name, identified by a hash of it, so a run
                // again finds the same keys.
                let id = <sha2::Sha256 as sha2::Digest>::digest(cn.as_bytes())[..8].to_vec();
                let uri = Pkcs11Uri { object: Some(cn.clone()), id: Some(id), ..(**token).clone() };
                let key = TokenKey::open_or_generate(&uri, &g.pkcs11, args.key)?;
                let record = key.record();
                keys.push(SigningKey::Token(Box::new(key)));
                if let Some(SigningKey::Token(key)) = keys.last() {
                    writeln!(ctx.err, "{}", key.provenance())?;
                }
                ("key.uri", record, MODE_PUBLIC)
            }
        };
        let key = keys.last().expect("the key was just pushed");
        let der =
            self_signed_by(key, &cn, not_before, not_after, |ski| profile::secure_boot(ski, var == "db"))?;
        let cert = Cert::from_der(der).context("internal error: a new certificate does not decode")?;
        made.push(Made { var, vendor, key_file, cert });
    }
    // Signed updates: PK signs itself and KEK, KEK signs db (what each variable's update
    // must be signed by once PK is set).
    let time = EfiTime::from_unix(now);
    let mut files = FileSet::default();
    let replace = if args.force { Overwrite::Replace } else { Overwrite::Never };
    for (i, m) in made.iter().enumerate() {
        let signer = if i == 2 { 1 } else { 0 };
        let (signer, signer_key) = (&made[signer], &keys[signer]);
        let esl = x509_signature_list(owner, &m.cert.der);
        let payload = signed_update_payload(m.var, m.vendor, SECURE_VARIABLE_ATTRIBUTES, time, &esl);
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&payload);
        // UEFI's authenticated variables carry the SignedData itself (as efitools writes it).
        let pkcs7 = crate::x509::cms::signed_data_detached(&digest, &signer.cert, signer_key, &[])?;
        let auth = authenticated_update(time, &pkcs7, &esl);
        let path = |ext: &str| dir.join(format!("{}.{ext}", m.var));
        files.add(path(m.key_file.0), m.key_file.1.clone(), m.key_file.2, replace);
        files.add(path("crt"), m.cert.to_pem().into_bytes(), MODE_PUBLIC, replace);
        files.add(path("esl"), esl, MODE_PUBLIC, replace);
        files.add(path("auth"), auth, MODE_PUBLIC, replace);
    }
    files.add(dir.join("owner.guid"), format!("{owner}\n").into_bytes(), MODE_PUBLIC, replace);
    files.commit()?;

    let d = |n: &str| shown(&dir.join(n));
    writeln!(ctx.err, "Made Secure Boot keys in {} ({}, owner {owner})", quote(dir), keys[0].describe())?;
    for m in &made {
        writeln!(
            ctx.err,
            "  {:<4} \"{}\"  SHA-256 {}",
            m.var,
            m.cert.subject_oneline().trim_start_matches("/CN="),
            m.cert.fingerprint()
        )?;
    }
    writeln!(
        ctx.err,
        "  files        {}, NAME.crt, NAME.esl, NAME.auth for PK, KEK, db; owner.guid",
        if args.key_in.is_some() {
            "NAME.key.uri (the keys are in the token)"
        } else {
            "NAME.key (mode 0600)"
        }
    )?;
    writeln!(ctx.err, "Enrol them:")?;
    writeln!(
        ctx.err,
        "  a VM (OVMF): virt-fw-vars -i /usr/share/OVMF/OVMF_VARS_4M.fd -o vars.fd --secure-boot \\"
    )?;
    writeln!(
        ctx.err,
        "      --set-pk {owner} {} --add-kek {owner} {} --add-db {owner} {}",
        d("PK.crt"),
        d("KEK.crt"),
        d("db.crt")
    )?;
    writeln!(ctx.err, "  a machine in setup mode (clear the keys in its firmware setup first):")?;
    writeln!(
        ctx.err,
        "      efi-updatevar -f {} db && efi-updatevar -f {} KEK && efi-updatevar -f {} PK",
        d("db.auth"),
        d("KEK.auth"),
        d("PK.auth")
    )?;
    writeln!(ctx.err, "      (or the .crt/.esl files through the firmware's own key manager; PK last)")?;
    writeln!(
        ctx.err,
        "  keeping Microsoft's keys: enrol {} as a MOK instead (mokutil --import), and boot",
        d("db.crt")
    )?;
    writeln!(
        ctx.err,
        "      the distribution's signed shim with the image as its second stage (README: Secure Boot)"
    )?;
    writeln!(ctx.err, "Sign images: bootsign build ... --sb-key {} --sb-cert {}", d("db.key"), d("db.crt"))?;
    Ok(())
}

fn shown(p: &Path) -> String {
    let text = p.display().to_string();
    if text.contains([' ', '\'', '"', '\\', '$']) {
        format!("'{}'", text.replace('\'', "'\\''"))
    } else {
        text
    }
}
