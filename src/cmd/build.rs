//! `bootsign build`: boot images from the prebuilt firmware template, with the trust
//! anchors, certificates, client key, script and settings written into it. No compiler
//! runs; the same inputs give byte-identical images.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use bootsign_config::{Config, Policy, RequireSigned, TlsMin};
use clap::Args as ClapArgs;

use super::{Ctx, Globals};
use crate::firmware::TEMPLATE;
use crate::fsx::{FileSet, MODE_PUBLIC, MODE_SECRET, Overwrite, quote, refuse_existing};
use crate::keys::{KeyRef, PrivateKey, Signer, SigningKey};
use crate::trust::Anchors;
use crate::x509::cert::Cert;

const EXAMPLES: &str = "\
Examples:
  bootsign build --efi --trust ca.crt --embed boot.ipxe
      bootsign.efi: trusts ca.crt, runs boot.ipxe
      (iPXE: make bin-x86_64-efi/ipxe.efi TRUST=ca.crt EMBED=boot.ipxe)
  bootsign build --efi --trust ca.crt --cert client.crt,ca.crt \\
                 --privkey client.key -o out/
      out/bootsign.efi with a TLS client certificate
      (iPXE: CERT=client.crt,ca.crt PRIVKEY=client.key)
  bootsign build --efi --trust 3F:A1:...:9C --require-signed
      trusts a fingerprint; nothing unverified ever boots
  bootsign build --efi --trust ca.crt --crl ca.crl --require-signed
      as above, and refuses signers and servers that ca.crl revokes
  bootsign build --lkrn --trust ca.crt --embed boot.ipxe
      bootsign.lkrn for legacy BIOS: QEMU -kernel, GRUB linux16, SYSLINUX
      (iPXE: make bin/ipxe.lkrn TRUST=ca.crt EMBED=boot.ipxe)
  bootsign build --kpxe --trust ca.crt --embed boot.ipxe
      bootsign.kpxe and bootsign.lkrn for a BIOS PXE boot: put both in the
      TFTP directory and give bootsign.kpxe as the DHCP boot file
      (iPXE: make bin/undionly.kpxe TRUST=ca.crt EMBED=boot.ipxe)";

/// `build` options.
#[derive(ClapArgs)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Write an EFI program (BOOTX64.EFI): DIR/NAME.efi.
    #[arg(long)]
    pub efi: bool,
    /// Write a hybrid ISO image that boots on BIOS and UEFI (El Torito BIOS and UEFI
    /// entries; also boots written to a USB stick): DIR/NAME.iso.
    #[arg(long)]
    pub iso: bool,
    /// Write a PCI expansion ROM for BIOS and UEFI: DIR/NAME.rom. Needs --pci. On UEFI
    /// the firmware is a boot-service driver that adds a network boot option for its
    /// NIC; on BIOS a small legacy image offers a boot entry that loads the BIOS firmware
    /// from the rest of the ROM (iPXE's .rom/.mrom and EFI images in one).
    #[arg(long)]
    pub rom: bool,
    /// The NIC(s) the ROM is for, as VENDOR:DEVICE in hex (e.g. 1af4:1000 for virtio-net).
    #[arg(long, value_name = "VENDOR:DEVICE,...")]
    pub pci: Vec<String>,
    /// Write a USB disk image that boots on BIOS and UEFI (GPT: an EFI system partition
    /// with EFI/BOOT/BOOTX64.EFI, a BIOS boot partition, MBR boot code): DIR/NAME.usb,
    /// for dd to a stick.
    #[arg(long)]
    pub usb: bool,
    /// Write the legacy BIOS firmware as a Linux kernel image: DIR/NAME.lkrn, for QEMU's
    /// -kernel, GRUB's linux16 and SYSLINUX (iPXE's ipxe.lkrn).
    #[arg(long)]
    pub lkrn: bool,
    /// Write a PXE network boot program for legacy BIOS: DIR/NAME.kpxe, with DIR/NAME.lkrn
    /// beside it. The PXE ROM loads the .kpxe (the DHCP boot file), which fetches the
    /// .lkrn from the same TFTP directory and runs it on the ROM's UNDI driver (iPXE's
    /// undionly.kpxe). The .kpxe accepts only the .lkrn written with it (its length and
    /// CRC-32: a guard against mix-ups, not a signature; a BIOS cannot verify what PXE
    /// loads, and trust starts with the .lkrn's embedded roots).
    #[arg(long)]
    pub kpxe: bool,
    /// Trusted roots: certificate files (PEM bundles or DER) or SHA-256 fingerprints,
    /// comma-separated (iPXE's TRUST=). Certificates given as files are embedded too, so
    /// chains can be completed.
    #[arg(long, value_name = "CERT|SHA256,...")]
    pub trust: Vec<String>,
    /// Certificates to embed: chain material and the client certificate; not trusted by
    /// themselves (iPXE's CERT=).
    #[arg(long, value_name = "CERT,...")]
    pub cert: Vec<String>,
    /// The TLS client key (iPXE's PRIVKEY=); must belong to one of the --cert certificates.
    /// The image then holds a private key and must be kept confidential.
    #[arg(long, value_name = "KEY")]
    pub privkey: Option<PathBuf>,
    /// The boot script to run (iPXE's EMBED=) [default: dhcp, then chain the DHCP boot file].
    #[arg(long, value_name = "SCRIPT")]
    pub embed: Option<PathBuf>,
    /// Base URL of a cross-certificate server for missing issuers.
    #[arg(long, value_name = "URL")]
    pub crosscert: Option<String>,
    /// Lowest TLS version the firmware accepts: 1.2 (default), 1.3, or 1.1/1.0 for old
    /// servers (legacy mode: TLS 1.0/1.1 with the static-RSA CBC suites).
    #[arg(long, value_name = "VERSION", value_parser = ["1.0", "1.1", "1.2", "1.3"])]
    pub tls_min: Option<String>,
    /// Certificate revocation lists to embed (PEM or DER, e.g. ca.crl from `bootsign crl`):
    /// a signer or server whose certificate is listed is refused. Each CRL's issuer must be
    /// among the --trust/--cert certificates, and its signature is checked.
    #[arg(long, value_name = "FILE,...", value_delimiter = ',')]
    pub crl: Vec<PathBuf>,
    /// Fail closed on stale CRLs: once a CRL is past its nextUpdate (by the machine's
    /// clock), refuse everything its issuer signed, not only what it lists.
    #[arg(long)]
    pub require_fresh_crl: bool,
    /// Refuse to boot anything unverified, from the start (imgtrust --permanent).
    #[arg(long)]
    pub require_signed: bool,
    /// Also require every initrd and module to be verified (implies --require-signed).
    #[arg(long)]
    pub require_signed_initrd: bool,
    /// Do not configure the network by DHCP before the script runs (the script's own
    /// `dhcp` or `ifconf` does it).
    #[arg(long)]
    pub no_autodhcp: bool,
    /// Authenticode-sign the firmware in every output for UEFI Secure Boot with this RSA
    /// key (the db key of `bootsign secureboot keys`, or one whose certificate is in db
    /// or enrolled as a MOK): a file, or a key in a PKCS#11 token (pkcs11:...). Needs
    /// --sb-cert.
    #[arg(long, value_name = "KEY", requires = "sb_cert", value_parser = KeyRef::parse_arg)]
    pub sb_key: Option<KeyRef>,
    /// The certificate of --sb-key.
    #[arg(long, value_name = "CERT", requires = "sb_key")]
    pub sb_cert: Option<PathBuf>,
    /// Output directory [default: the project file's out-dir, else .].
    #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Output base name: NAME.efi, ... [default: bootsign].
    #[arg(long, value_name = "NAME")]
    pub output_name: Option<String>,
    /// The project file [default: ./bootsign.toml, else the CA directory's].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore any project file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Replace existing images, and embed a script even when `bootsign script check` finds
    /// lines the firmware cannot run.
    #[arg(long)]
    pub force: bool,
}

/// Most certificates an image may embed.
pub const MAX_EMBEDDED_CERTS: usize = 1000;

/// Everything that goes into the configuration section, read and checked.
struct Inputs {
    anchors: Vec<[u8; 32]>,
    certs: Vec<Vec<u8>>,
    key: Option<Vec<u8>>,
    script: Option<String>,
    policy: Policy,
    crls: Vec<crate::trust::CrlFile>,
    /// The subject of the client key's certificate, for the summary.
    key_subject: String,
}

/// The script to embed. It must be one the firmware can run (`bootsign script check`);
/// `force` builds with one it cannot, after saying which lines.
fn read_script(ctx: &mut Ctx<'_>, path: &Path, force: bool) -> Result<String> {
    let text = super::script::read(path)?;
    if text.trim().is_empty() {
        bail!("the script {} is empty", quote(path));
    }
    if !text.starts_with("#!ipxe") && !text.starts_with("#!gpxe") {
        bail!("{} is not a boot script: its first line must be #!ipxe", quote(path));
    }
    let findings = bootsign_script::check::check(&text);
    if !findings.is_empty() {
        let report = super::script::report(path, &findings);
        if !findings.iter().any(bootsign_script::check::Finding::stops) {
            write!(ctx.err, "warning: in {}:\n{report}", quote(path))?;
            return Ok(text);
        }
        if !force {
            bail!(
                "the firmware cannot run every line of {}:\n{}(build with --force to embed it anyway)",
                quote(path),
                report.trim_end()
            );
        }
        write!(
            ctx.err,
            "warning: embedding {} although the firmware cannot run every line:\n{report}",
            quote(path)
        )?;
    }
    Ok(text)
}

fn gather(ctx: &mut Ctx<'_>, g: &Globals, args: &Args) -> Result<Inputs> {
    let mut anchors = Vec::new();
    let mut certs: Vec<Vec<u8>> = Vec::new();
    let mut cert_objs: Vec<Cert> = Vec::new();
    // Each certificate once, in the order given (a set of fingerprints keeps this linear).
    let mut seen = std::collections::HashSet::new();
    if !args.trust.is_empty() {
        let trusted = Anchors::from_args(&args.trust)?;
        anchors.extend(trusted.fingerprints.iter().map(|f| f.0));
        for c in trusted.certs {
            if seen.insert(c.fingerprint().0) {
                certs.push(c.der.clone());
            }
        }
    }
    for item in args.cert.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        for c in Cert::read_all(Path::new(item))? {
            if seen.insert(c.fingerprint().0) {
                certs.push(c.der.clone());
            }
            cert_objs.push(c);
        }
    }
    if certs.len() > MAX_EMBEDDED_CERTS {
        bail!(
            "{} certificates to embed; more than {MAX_EMBEDDED_CERTS} are refused (the firmware searches them on every \
             connection and signature): give the roots with --trust and only the chain material the servers and \
             signers need with --cert",
            certs.len()
        );
    }
    let mut key_subject = String::new();
    let key = match &args.privkey {
        None => None,
        Some(path) => {
            let key = PrivateKey::read(path, &g.pass, ctx.err)?;
            let Some(mine) = cert_objs.iter().find(|c| key.matches_spki(c.fields().spki)) else {
                bail!(
                    "the key {} matches none of the --cert certificates; give the client certificate with --cert",
                    quote(path)
                );
            };
            check_client_key(g, path, &key, mine)?;
            key_subject = mine.subject_oneline();
            // The format's rule: with a key, the first certificate is the key's own.
            certs.retain(|d| *d != mine.der);
            certs.insert(0, mine.der.clone());
            Some(key.pkcs8_der()?.as_bytes().to_vec())
        }
    };
    let script = args.embed.as_deref().map(|p| read_script(ctx, p, args.force)).transpose()?;
    let mut policy = Policy {
        require_signed: if args.require_signed_initrd {
            RequireSigned::All
        } else if args.require_signed {
            RequireSigned::Program
        } else {
            RequireSigned::Off
        },
        autodhcp: !args.no_autodhcp,
        ..Policy::DEFAULT
    };
    if let Some(v) = &args.tls_min {
        policy.tls_min = TlsMin::parse(v)
            .ok_or_else(|| anyhow::anyhow!("--tls-min '{v}' is not a TLS version (1.0, 1.1, 1.2 or 1.3)"))?;
    }
    if let Some(url) = &args.crosscert
        && let Err(e) = bootsign_http::Url::parse(url)
    {
        bail!("--crosscert '{url}' is not usable: {e}");
    }
    let crls = crate::trust::read_crls(&args.crl)?;
    let cert_ders: Vec<&[u8]> = certs.iter().map(Vec::as_slice).collect();
    crate::trust::check_crl_issuers(&crls, &cert_ders, ctx.now(), ctx.err)?;
    if args.require_fresh_crl {
        if crls.is_empty() {
            bail!("--require-fresh-crl needs at least one --crl");
        }
        policy.crl_require_fresh = true;
    }
    Ok(Inputs { anchors, certs, key, script, policy, crls, key_subject })
}

/// The embedded key is copied into every image, which then goes to TFTP and HTTP servers:
/// only a TLS client key may go there, never a CA's or a code-signing key.
fn check_client_key(g: &Globals, path: &Path, key: &PrivateKey, cert: &Cert) -> Result<()> {
    let refuse = |what: &str| -> Result<()> {
        bail!(
            "refusing to embed {} in the images: it is {what}, and anyone holding an image could use it; \
             --privkey takes a TLS client key (bootsign issue --client)",
            quote(path)
        )
    };
    if let Ok(ca) = g.ca.cert()
        && key.matches_spki(ca.fields().spki)
    {
        return refuse("the key of the CA in this CA directory");
    }
    if cert.is_ca().ok().flatten() == Some(true) {
        return refuse(&format!("the key of CA certificate \"{}\"", cert.subject_oneline()));
    }
    if cert.is_self_issued() {
        return refuse(&format!(
            "the key of self-signed certificate \"{}\" (a root)",
            cert.subject_oneline()
        ));
    }
    let eku = cert.extension::<x509_cert::ext::pkix::ExtendedKeyUsage>()?.map(|(_, e)| e.0);
    if let Some(eku) = eku {
        if eku.contains(&const_oid::db::rfc5280::ID_KP_CODE_SIGNING) {
            return refuse(&format!("a code-signing key (\"{}\")", cert.subject_oneline()));
        }
        if !eku.contains(&const_oid::db::rfc5280::ID_KP_CLIENT_AUTH) {
            return refuse(&format!(
                "the key of \"{}\", whose certificate is not for TLS clients (no clientAuth)",
                cert.subject_oneline()
            ));
        }
    }
    Ok(())
}

/// The EFI program: the template with the configuration section.
pub fn efi_image(config: &Config<'_>) -> Result<Vec<u8>> {
    let blob = config.encode().map_err(|e| anyhow::anyhow!("cannot encode the configuration: {e}"))?;
    bootsign_pe::add_section(TEMPLATE, bootsign_pe::CONFIG_SECTION, &blob)
        .map_err(|e| anyhow::anyhow!("cannot add the configuration to the firmware: {e}"))
}

/// The legacy BIOS firmware with `config` appended, as a Linux kernel image (`.lkrn`).
pub fn lkrn_image(config: &Config<'_>) -> Result<Vec<u8>> {
    let blob = config.encode().map_err(|e| anyhow::anyhow!("cannot encode the configuration: {e}"))?;
    crate::image::lkrn::lkrn(crate::firmware::BIOS_TEMPLATE, &blob)
}

/// The project file a build used, and the names of the settings it supplied.
type ProjectUse = (PathBuf, Vec<&'static str>);

/// Fills what the command line left open from the project file; also returns the file and
/// the names of the settings it supplied.
fn apply_project(g: &Globals, mut args: Args) -> Result<(Args, Option<ProjectUse>)> {
    if args.no_config {
        return Ok((args, None));
    }
    let Some((path, project)) = crate::project::Project::find(args.config.as_deref(), g.ca.root())? else {
        return Ok((args, None));
    };
    let b = project.build;
    let mut used: Vec<&'static str> = Vec::new();
    if !(args.efi || args.iso || args.usb || args.rom || args.lkrn || args.kpxe || b.formats.is_empty()) {
        used.push("formats");
        for f in &b.formats {
            match f.as_str() {
                "efi" => args.efi = true,
                "iso" => args.iso = true,
                "usb" => args.usb = true,
                "rom" => args.rom = true,
                "lkrn" => args.lkrn = true,
                "kpxe" => args.kpxe = true,
                other => bail!("{}: unknown format '{other}' (efi, iso, usb, rom, lkrn, kpxe)", quote(&path)),
            }
        }
    }
    fn list<T>(used: &mut Vec<&'static str>, name: &'static str, flag: &mut Vec<T>, file: Vec<T>) {
        if flag.is_empty() && !file.is_empty() {
            *flag = file;
            used.push(name);
        }
    }
    fn one<T>(used: &mut Vec<&'static str>, name: &'static str, flag: &mut Option<T>, file: Option<T>) {
        if flag.is_none() && file.is_some() {
            *flag = file;
            used.push(name);
        }
    }
    fn on(used: &mut Vec<&'static str>, name: &'static str, flag: &mut bool, file: bool) {
        if !*flag && file {
            *flag = true;
            used.push(name);
        }
    }
    list(&mut used, "trust", &mut args.trust, b.trust);
    list(&mut used, "cert", &mut args.cert, b.cert);
    list(&mut used, "pci", &mut args.pci, b.pci);
    list(&mut used, "crl", &mut args.crl, b.crl);
    one(&mut used, "privkey", &mut args.privkey, b.privkey);
    let sb_key = b.sb_key.map(|k| KeyRef::parse_arg(&k.to_string_lossy())).transpose();
    let sb_key = sb_key.map_err(|e| anyhow::anyhow!("{}: sb-key: {e}", quote(&path)))?;
    one(&mut used, "sb-key", &mut args.sb_key, sb_key);
    one(&mut used, "sb-cert", &mut args.sb_cert, b.sb_cert);
    one(&mut used, "embed", &mut args.embed, b.embed);
    one(&mut used, "crosscert", &mut args.crosscert, b.crosscert);
    one(&mut used, "tls-min", &mut args.tls_min, b.tls_min);
    one(&mut used, "out-dir", &mut args.out_dir, b.out_dir);
    one(&mut used, "output-name", &mut args.output_name, b.output_name);
    on(&mut used, "require-signed", &mut args.require_signed, b.require_signed);
    on(&mut used, "require-signed-initrd", &mut args.require_signed_initrd, b.require_signed_initrd);
    on(&mut used, "require-fresh-crl", &mut args.require_fresh_crl, b.require_fresh_crl);
    on(&mut used, "no-autodhcp", &mut args.no_autodhcp, b.no_autodhcp);
    Ok((args, Some((path, used))))
}

/// Runs `build`.
pub fn run(ctx: &mut Ctx<'_>, g: &Globals, args: Args) -> Result<()> {
    let (args, project) = apply_project(g, args)?;
    let out_dir = args.out_dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let output_name = args.output_name.clone().unwrap_or_else(|| "bootsign".into());
    if !args.efi && !args.usb && !args.iso && !args.rom && !args.lkrn && !args.kpxe {
        bail!("choose an output format: --efi, --iso, --usb, --rom, --lkrn, --kpxe");
    }
    let pci: Vec<crate::image::rom::PciId> = args
        .pci
        .iter()
        .flat_map(|s| s.split(','))
        .map(crate::image::rom::PciId::parse)
        .collect::<Result<_>>()?;
    if args.rom && pci.is_empty() {
        bail!("--rom needs the NIC's PCI IDs: --pci VENDOR:DEVICE (e.g. 1af4:1000 for virtio-net)");
    }
    if !out_dir.is_dir() {
        bail!("the output directory {} does not exist", quote(&out_dir));
    }
    let output = |ext: &str| {
        let name = format!("{output_name}.{ext}");
        if out_dir == Path::new(".") { PathBuf::from(name) } else { out_dir.join(name) }
    };
    let efi_path = output("efi");
    let usb_path = output("usb");
    let iso_path = output("iso");
    let rom_path = output("rom");
    let lkrn_path = output("lkrn");
    let kpxe_path = output("kpxe");
    let wanted: Vec<&PathBuf> = [
        (args.efi, &efi_path),
        (args.iso, &iso_path),
        (args.usb, &usb_path),
        (args.rom, &rom_path),
        (args.lkrn || args.kpxe, &lkrn_path),
        (args.kpxe, &kpxe_path),
    ]
    .into_iter()
    .filter_map(|(on, p)| on.then_some(p))
    .collect();
    for path in &wanted {
        refuse_existing(path, args.force)?;
    }
    let inputs = gather(ctx, g, &args)?;
    let sb = secure_boot_signer(ctx, g, &args)?;
    let sign = |pe: Vec<u8>| -> Result<Vec<u8>> {
        match &sb {
            Some((cert, key)) => crate::x509::authenticode::sign_image(&pe, cert, key, &[]),
            None => Ok(pe),
        }
    };
    let config = Config {
        anchors: inputs.anchors.clone(),
        certs: inputs.certs.iter().map(Vec::as_slice).collect(),
        key: inputs.key.as_deref(),
        script: inputs.script.as_deref(),
        settings: inputs.policy.settings(),
        crosscert: args.crosscert.as_deref(),
        crls: inputs.crls.iter().map(|c| c.der.as_slice()).collect(),
    };
    let unsigned = efi_image(&config)?;
    let efi = sign(unsigned.clone())?;
    let mode = if inputs.key.is_some() { MODE_SECRET } else { MODE_PUBLIC };
    let overwrite = if args.force { Overwrite::Replace } else { Overwrite::Never };
    let mut files = FileSet::default();
    if args.efi {
        files.add(&efi_path, efi.clone(), mode, overwrite);
    }
    // The BIOS firmware with the same configuration: the .lkrn, and the BIOS half of the
    // ROM and of the ISO and USB images (legacy BIOS has no Secure Boot: it is not signed).
    let lkrn = if args.lkrn || args.kpxe || args.usb || args.iso || args.rom {
        Some(lkrn_image(&config)?)
    } else {
        None
    };
    if args.usb || args.iso {
        let esp = crate::image::esp::esp_image(&efi, 0)?;
        if args.iso {
            let iso = crate::image::iso::iso_image(&esp, lkrn.as_deref(), crate::image::esp::image_time())?;
            files.add(&iso_path, iso, mode, overwrite);
        }
        if args.usb {
            files.add(&usb_path, crate::image::gpt::disk_image(&esp, lkrn.as_deref())?, mode, overwrite);
        }
    }
    if let (true, Some(lkrn)) = (args.kpxe, lkrn.as_deref()) {
        // The .kpxe holds nothing secret: the configuration is in the .lkrn.
        let name = format!("{output_name}.lkrn");
        files.add(&kpxe_path, crate::image::pxeboot::program(&name, lkrn)?, MODE_PUBLIC, overwrite);
    }
    if let (true, Some(lkrn)) = (args.lkrn || args.kpxe, lkrn.clone()) {
        files.add(&lkrn_path, lkrn, mode, overwrite);
    }
    if args.rom {
        // The driver differs from the program in its subsystem, so it is signed on its
        // own, before the ROM is made (the platform checks the PE it loads from it).
        let driver = bootsign_pe::with_subsystem(&unsigned, 11)
            .map_err(|e| anyhow::anyhow!("cannot make the driver: {e}"))?;
        let driver = match &sb {
            // Its certificate table reaches the end of the ROM image, which is what the
            // platform hands the loader.
            Some((cert, key)) => crate::x509::authenticode::sign_image_aligned(
                &driver,
                cert,
                key,
                &[],
                crate::image::rom::driver_offset(&pci),
                512,
            )?,
            None => driver,
        };
        // For BIOS too: the legacy image and the BIOS firmware come first.
        let lkrn = lkrn.as_deref().expect("made for --rom above");
        let rom = crate::image::rom::hybrid_rom_image(lkrn, &driver, &pci)?;
        files.add(&rom_path, rom, mode, overwrite);
    }
    files.commit()?;

    if inputs.anchors.is_empty() {
        writeln!(
            ctx.err,
            "warning: no --trust given: the image trusts nothing, so every imgverify will fail"
        )?;
    }
    let names: Vec<String> = wanted.iter().map(|p| p.display().to_string()).collect();
    writeln!(
        ctx.err,
        "Built {} (firmware {} bytes): {} trusted root(s), {} certificate(s){}, {}",
        names.join(", "),
        efi.len(),
        inputs.anchors.len(),
        inputs.certs.len(),
        if inputs.key.is_some() { ", a client key" } else { "" },
        if inputs.script.is_some() {
            "embedded script"
        } else {
            "default script (dhcp, chain the boot file)"
        }
    )?;
    writeln!(ctx.err, "  SHA-256      {} (the EFI program)", bootsign_pki::Fingerprint::of_der(&efi).hex())?;
    if let (Some((cert, _)), Some(path)) = (&sb, &args.sb_cert) {
        writeln!(
            ctx.err,
            "  Secure Boot  signed by \"{}\" ({}; Authenticode, SHA-256)",
            bootsign_pki::text::escape_controls(&cert.parsed.tbs_certificate().subject().to_string()),
            path.display()
        )?;
    }
    let policy: Vec<String> = inputs.policy.settings().iter().map(|(n, v)| format!("{n} {v}")).collect();
    writeln!(
        ctx.err,
        "  policy       {}",
        if policy.is_empty() { "the defaults (see bootsign inspect)".to_string() } else { policy.join(", ") }
    )?;
    for file in &inputs.crls {
        let crl = file.parse()?;
        writeln!(
            ctx.err,
            "  CRL          {}: {} revoked, by \"{}\", next update {}{}",
            file.name(),
            crl.entries().len(),
            crl.issuer_text,
            crl.next_update.map(crate::timefmt::date).unwrap_or_else(|| "none".into()),
            if args.require_fresh_crl { " (refuses everything its issuer signed after that)" } else { "" }
        )?;
    }
    if let Some(key) = &args.privkey {
        writeln!(ctx.err, "  client key   {} (for \"{}\")", key.display(), inputs.key_subject)?;
    }
    if let Some((p, used)) = &project {
        let what =
            if used.is_empty() { "nothing (the command line decides)".to_string() } else { used.join(", ") };
        writeln!(ctx.err, "  from {}: {what}", p.display())?;
    }
    if inputs.key.is_some() {
        writeln!(
            ctx.err,
            "warning: {} hold(s) a private key (mode 0600): keep the images confidential, and give them only to the \
             machines they are for",
            names.join(", ")
        )?;
    }
    Ok(())
}

/// The Secure Boot signer from --sb-cert and --sb-key, checked before anything is
/// built: the key is RSA of 2048 bits or more, and belongs to the certificate.
fn secure_boot_signer(ctx: &mut Ctx<'_>, g: &Globals, args: &Args) -> Result<Option<(Cert, SigningKey)>> {
    let (Some(key_path), Some(cert_path)) = (&args.sb_key, &args.sb_cert) else {
        if args.sb_key.is_some() != args.sb_cert.is_some() {
            bail!("--sb-key and --sb-cert go together (the project file gave only one of them)");
        }
        return Ok(None);
    };
    let cert = Cert::read_one(cert_path)?;
    let key = g.signer(key_path, ctx.err)?;
    if !key.matches_spki(cert.fields().spki) {
        bail!(
            "the Secure Boot key {} does not belong to the certificate {}",
            key_path.describe(),
            quote(cert_path)
        );
    }
    if !key.is_rsa() {
        bail!(
            "the Secure Boot key {} is {}: UEFI Secure Boot verifies RSA signatures only",
            key_path.describe(),
            key.describe()
        );
    }
    let bits = bootsign_pki::PublicKey::from_spki_der(cert.fields().spki).map(|k| k.bits()).unwrap_or(0);
    if bits < 2048 {
        bail!("the Secure Boot key {} has {bits} bits; 2048 at least", key_path.describe());
    }
    Ok(Some((cert, key)))
}
