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
use crate::keys::{KeyType, PrivateKey, Signer};
use crate::x509::build::{self_signed, validity_days};
use crate::x509::cert::Cert;
use crate::x509::profile;

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

/// One of the three keys.
struct Made {
    var: &'static str,
    vendor: Guid,
    key: PrivateKey,
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
    let outputs: Vec<PathBuf> = names
        .iter()
        .flat_map(|n| ["key", "crt", "esl", "auth"].map(|ext| dir.join(format!("{n}.{ext}"))))
        .chain([dir.join("owner.guid")])
        .collect();
    // A new directory is made for the check of the outputs, and taken away again if
    // anything fails before they are written.
    let created = !dir.exists();
    if created {
        crate::fsx::create_dir(&dir)?;
    }
    let result = write_keys(ctx, &args, &dir, owner, &outputs);
    if result.is_err() && created {
        let _ = std::fs::remove_dir(&dir);
    }
    result
}

fn write_keys(
    ctx: &mut Ctx<'_>,
    args: &KeysArgs,
    dir: &Path,
    owner: Guid,
    outputs: &[PathBuf],
) -> Result<()> {
    for out in outputs {
        refuse_existing(out, args.force)?;
    }
    let now = ctx.now();
    let (not_before, not_after) = validity_days(now, args.days)?;
    let mut made = Vec::new();
    for (var, vendor) in
        [("PK", EFI_GLOBAL_VARIABLE), ("KEK", EFI_GLOBAL_VARIABLE), ("db", EFI_IMAGE_SECURITY_DATABASE)]
    {
        let (key, der) =
            self_signed(args.key, &format!("{} {var}", args.name), not_before, not_after, |ski| {
                profile::secure_boot(ski, var == "db")
            })?;
        let cert = Cert::from_der(der).context("internal error: a new certificate does not decode")?;
        made.push(Made { var, vendor, key, cert });
    }
    // Signed updates: PK signs itself and KEK, KEK signs db (what each variable's update
    // must be signed by once PK is set).
    let time = EfiTime::from_unix(now);
    let mut files = FileSet::default();
    let replace = if args.force { Overwrite::Replace } else { Overwrite::Never };
    for (i, m) in made.iter().enumerate() {
        let signer = &made[if i == 2 { 1 } else { 0 }];
        let esl = x509_signature_list(owner, &m.cert.der);
        let payload = signed_update_payload(m.var, m.vendor, SECURE_VARIABLE_ATTRIBUTES, time, &esl);
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&payload);
        // UEFI's authenticated variables carry the SignedData itself (as efitools writes it).
        let pkcs7 = crate::x509::cms::signed_data_detached(&digest, &signer.cert, &signer.key, &[])?;
        let auth = authenticated_update(time, &pkcs7, &esl);
        let path = |ext: &str| dir.join(format!("{}.{ext}", m.var));
        files.add(path("key"), m.key.to_pem(None)?.as_bytes().to_vec(), MODE_SECRET, replace);
        files.add(path("crt"), m.cert.to_pem().into_bytes(), MODE_PUBLIC, replace);
        files.add(path("esl"), esl, MODE_PUBLIC, replace);
        files.add(path("auth"), auth, MODE_PUBLIC, replace);
    }
    files.add(dir.join("owner.guid"), format!("{owner}\n").into_bytes(), MODE_PUBLIC, replace);
    files.commit()?;

    let d = |n: &str| shown(&dir.join(n));
    writeln!(ctx.err, "Made Secure Boot keys in {} ({}, owner {owner})", quote(dir), made[0].key.describe())?;
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
        "  files        NAME.key (mode 0600), NAME.crt, NAME.esl, NAME.auth for PK, KEK, db; owner.guid"
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
