//! `bootsign inspect`: what trust, certificates, key and script an image carries.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use bootsign_config::Config;
use bootsign_image_read::Format;
use bootsign_pe::{CONFIG_SECTION, Pe};
use bootsign_pki::text::{escape, escape_controls};
use bootsign_pki::{Cert, Fingerprint};
use clap::Args as ClapArgs;

use super::Ctx;
use crate::fsx::quote;
use crate::image::{FileImage, MAX_PROGRAM};

/// `inspect` options.
#[derive(ClapArgs)]
pub struct Args {
    /// The image: a bootsign EFI program, an ISO, USB disk or ROM image holding one, a
    /// legacy BIOS kernel image (.lkrn), or a PXE boot program (.kpxe).
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,
}

/// A PXE boot program (`.kpxe`): which `.lkrn` it fetches, and whether the one beside it
/// is that one (the program refuses any other). Returns the `.lkrn` to describe next,
/// when it is there and matches; `None` when `path` is not a `.kpxe`.
fn inspect_kpxe(ctx: &mut Ctx<'_>, path: &std::path::Path) -> Result<Option<PathBuf>> {
    let small = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= 8192);
    let Some((lkrn, len, crc)) =
        small.then(|| std::fs::read(path).ok()).flatten().and_then(|b| crate::image::pxeboot::describe(&b))
    else {
        return Ok(None);
    };
    writeln!(ctx.out, "image        {} (PXE boot program (.kpxe), legacy BIOS)", path.display())?;
    writeln!(
        ctx.out,
        "loads        {lkrn} over TFTP, from its own directory ({len} bytes, CRC-32 {crc:08x})"
    )?;
    let beside = path.with_file_name(&lkrn);
    let found = std::fs::read(&beside);
    let verdict = match &found {
        Ok(b) if b.len() == len as usize && bootsign_config::crc32(b) == crc => "matches",
        Ok(_) => "is from another build: the .kpxe will refuse it",
        Err(_) => "is missing",
    };
    writeln!(ctx.out, "beside it    {} {verdict}", beside.display())?;
    match verdict {
        "matches" => Ok(Some(beside)),
        _ => Err(anyhow!("{}: the .lkrn it loads, {}, {verdict}", quote(path), quote(&beside))),
    }
}

/// Runs `inspect`.
pub fn run(ctx: &mut Ctx<'_>, args: Args) -> Result<()> {
    let name = quote(&args.image);
    if let Some(lkrn) = inspect_kpxe(ctx, &args.image)? {
        // What the PXE boot program loads, described in its place.
        return run(ctx, Args { image: lkrn });
    }
    // Only the structures on the way to the program are read, never the whole file.
    let mut image = FileImage::open(&args.image)?;
    let found = bootsign_image_read::read_boot_program(&mut image, MAX_PROGRAM)
        .map_err(|e| anyhow!("{name}: {e}"))?;
    let bytes = found.program;
    if found.format == Format::Lkrn {
        // The legacy BIOS firmware: no PE, no Authenticode; the configuration appended.
        let version = crate::firmware::version_of(&bytes)
            .ok_or_else(|| anyhow!("{name} is not a bootsign image: it holds no bootsign firmware"))?;
        writeln!(
            ctx.out,
            "image        {} ({}, x86-64, {} bytes)",
            args.image.display(),
            found.format.name(),
            bytes.len()
        )?;
        writeln!(ctx.out, "firmware     bootsign {version}")?;
        writeln!(ctx.out, "signatures   none (a BIOS image; Secure Boot is UEFI's)")?;
        return describe_config(ctx, &name, crate::image::lkrn::config_of(&bytes));
    }
    let pe = Pe::parse(&bytes).map_err(|e| anyhow!("{name} is not a bootsign image: {e}"))?;
    let version = crate::firmware::version_of(&bytes)
        .ok_or_else(|| anyhow!("{name} is not a bootsign image: it holds no bootsign firmware"))?;
    let kind = match pe.subsystem {
        10 => "EFI application",
        11 => "EFI boot-service driver",
        _ => "EFI image",
    };
    writeln!(
        ctx.out,
        "image        {} ({}: {kind}, x86-64, {} bytes)",
        args.image.display(),
        found.format.name(),
        bytes.len()
    )?;
    if found.format == Format::Rom {
        let ids: Vec<String> =
            found.pci_ids.iter().map(|i| format!("{:04x}:{:04x}", i.vendor, i.device)).collect();
        writeln!(ctx.out, "pci          {}", ids.join(", "))?;
    }
    writeln!(ctx.out, "firmware     bootsign {version}")?;
    // Authenticode signatures, as the platform's Secure Boot reads them (not checked
    // against any trust here: `bootsign verify --authenticode` does that).
    match bootsign_pki::authenticode::describe(&bytes) {
        Ok(sigs) => {
            writeln!(ctx.out, "signatures   {}", sigs.len())?;
            for (i, s) in sigs.iter().enumerate() {
                writeln!(ctx.out, "  {}  {}", i + 1, escape_controls(s))?;
            }
        }
        Err(bootsign_pki::authenticode::AuthenticodeError::Unsigned) => {
            writeln!(ctx.out, "signatures   none (Secure Boot refuses an unsigned image)")?
        }
        Err(e) => writeln!(ctx.out, "signatures   unreadable: {}", escape_controls(&e.to_string()))?,
    }
    let data = match pe.section(&CONFIG_SECTION) {
        Some(section) => Some(pe.file_data(section).map_err(|e| anyhow!("{name}: {e}"))?),
        None => None,
    };
    if let Some(bios) = &found.bios {
        describe_bios(ctx, &name, bios, data)?;
    }
    describe_config(ctx, &name, data)
}

/// The legacy BIOS firmware of a hybrid image, and whether it carries the same
/// configuration as the EFI program (`efi_config`): `build` writes both from one, so a
/// difference means the image was changed since.
fn describe_bios(ctx: &mut Ctx<'_>, name: &str, bios: &[u8], efi_config: Option<&[u8]>) -> Result<()> {
    let version = crate::firmware::version_of(bios).ok_or_else(|| {
        anyhow!("{name}: its BIOS loader points at something that is not bootsign firmware")
    })?;
    fn decode(d: Option<&[u8]>) -> Option<Option<Config<'_>>> {
        d.map(Config::decode).transpose().ok()
    }
    let same = match (decode(crate::image::lkrn::config_of(bios)), decode(efi_config)) {
        (Some(b), Some(e)) => b == e,
        _ => false,
    };
    writeln!(
        ctx.out,
        "bios         bootsign {version} for legacy BIOS ({} bytes), {}",
        bios.len(),
        if same {
            "with the same configuration as the EFI program"
        } else {
            "with a DIFFERENT configuration from the EFI program's: the image was changed after it was built"
        }
    )?;
    if !same {
        anyhow::bail!("{name}: the BIOS and EFI halves of the image carry different configurations");
    }
    Ok(())
}

/// The embedded configuration's part of the report (`None`: the plain template).
fn describe_config(ctx: &mut Ctx<'_>, name: &str, data: Option<&[u8]>) -> Result<()> {
    let Some(data) = data else {
        writeln!(ctx.out, "config       none (the plain template: trusts nothing, runs the default script)")?;
        return Ok(());
    };
    let cfg = Config::decode(data).map_err(|e| anyhow!("{name}: {e}"))?;
    let certs: Vec<Cert<'_>> = cfg
        .certs
        .iter()
        .map(|d| Cert::parse(d))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow!("{name}: {e}"))?;
    writeln!(ctx.out, "trusted      {} root(s)", cfg.anchors.len())?;
    for a in &cfg.anchors {
        let fp = Fingerprint(*a);
        match certs.iter().find(|c| c.fingerprint() == fp) {
            Some(c) => writeln!(ctx.out, "  {fp}  {}", escape_controls(&c.subject_text))?,
            None => writeln!(ctx.out, "  {fp}  (certificate not embedded)")?,
        }
    }
    writeln!(ctx.out, "certificates {}", certs.len())?;
    for c in &certs {
        writeln!(ctx.out, "  {}  (SHA-256 {})", escape_controls(&c.subject_text), c.fingerprint())?;
    }
    writeln!(ctx.out, "client key   {}", if cfg.key.is_some() { "present (not shown)" } else { "none" })?;
    writeln!(
        ctx.out,
        "crosscert    {}",
        cfg.crosscert.map(escape).map(|e| e.to_string()).unwrap_or("none".into())
    )?;
    writeln!(ctx.out, "crls         {}", cfg.crls.len())?;
    for der in &cfg.crls {
        let crl = bootsign_pki::Crl::parse(der).map_err(|e| anyhow!("{name}: embedded CRL: {e}"))?;
        let signer = certs.iter().find(|c| crl.check_signed_by(c).is_ok());
        writeln!(
            ctx.out,
            "  {}  number {}, issued {}, next update {}, {} revoked{}",
            escape_controls(&crl.issuer_text),
            crl.number.as_deref().map(bootsign_pki::crl::serial_hex).unwrap_or_else(|| "none".into()),
            crate::timefmt::date(crl.this_update),
            crl.next_update.map(crate::timefmt::date).unwrap_or_else(|| "none".into()),
            crl.entries().len(),
            if signer.is_some() { "" } else { " (its issuer's certificate is not embedded)" }
        )?;
        for e in crl.entries() {
            writeln!(
                ctx.out,
                "    serial {}  revoked {}{}",
                bootsign_pki::crl::serial_hex(&e.serial),
                crate::timefmt::date(e.date),
                e.reason.map(|r| format!(" ({})", r.name())).unwrap_or_default()
            )?;
        }
    }
    // The policy as the firmware reads it; one it cannot read stops the boot.
    let policy = cfg.policy();
    match &policy {
        Ok(p) => {
            writeln!(ctx.out, "policy")?;
            for (n, v) in p.entries() {
                writeln!(ctx.out, "  {n:<18} {v}")?;
            }
        }
        Err(e) => {
            writeln!(ctx.out, "policy       unusable: {}", escape(&e.to_string()))?;
            for (n, v) in &cfg.settings {
                writeln!(ctx.out, "  {}={}", escape(n), escape(v))?;
            }
        }
    }
    match cfg.script {
        None => writeln!(ctx.out, "script       default (dhcp, then chain ${{filename}})")?,
        Some(s) => {
            writeln!(ctx.out, "script")?;
            // One output line per script line, whatever the line holds.
            for line in s.lines() {
                writeln!(ctx.out, "  {}", escape(line))?;
            }
        }
    }
    if let Err(e) = policy {
        anyhow::bail!("{name}: the firmware will refuse to boot this image: {}", escape(&e.to_string()));
    }
    Ok(())
}
