//! The firmware under Secure Boot (QEMU, OVMF's Secure Boot build, keys enrolled): the
//! platform starts it only when it is signed by a key in db, or, behind Debian's shim,
//! by a key in MokList and with its `.sbat` section; and its banner says Secure Boot is on.
//!
//! Every refusal is the platform's or shim's own message, and the banner never appears.
//! The images boot from an EFI system partition on a virtio disk, through the boot
//! manager's checks (never `-kernel`, which skips them). Rig: `tests/common/secureboot.rs`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::http::FileServer;
use common::qemu::{PLAIN_NIC, Qemu, SoftTpm, cdrom_media, esp_media, usb_media};
use common::secureboot::{esp, marker_efi, rename_section, rig, setup_mode_vars, shim, sign_efi_for_test};
use common::{Env, fixtures};

const TIMEOUT: Duration = Duration::from_secs(120);
const BANNER: &str = "bootsign firmware ";
/// OVMF's boot manager refusing the image (DxeImageVerificationLib said no).
const PLATFORM_REFUSED: &str = "Access Denied";
/// Shim refusing the image it was to start.
const SHIM_REFUSED: &str = "Verification failed";

/// Boots `esp` with the varstore `vars`; requires the image's script to print `marker`.
/// Returns the console.
fn boots(esp: &Path, vars: &Path, marker: &str) -> String {
    let mut qemu = Qemu::boot_secure(esp, vars);
    let (which, took) = qemu.wait_for(&[marker, PLATFORM_REFUSED, SHIM_REFUSED], TIMEOUT);
    let out = qemu.output();
    assert_eq!(which, 0, "expected {marker:?}:\n{out}");
    eprintln!("{marker}: reached in {took:.1?}");
    out
}

/// Boots `esp` with `vars`, which must end with `refusal` (after which the platform has
/// nothing left to start) and never show the banner. Returns the console.
fn refused(esp: &Path, vars: &Path, refusal: &str, end: &str) -> String {
    let mut qemu = Qemu::boot_secure(esp, vars);
    let (which, took) = qemu.wait_for(&[end, BANNER], TIMEOUT);
    let out = qemu.output();
    assert_eq!(which, 0, "expected {end:?} and no banner:\n{out}");
    assert!(out.contains(refusal), "expected {refusal:?}:\n{out}");
    assert!(!out.contains(BANNER), "{out}");
    eprintln!("refused ({refusal:?}), {end:?} in {took:.1?}");
    out
}

/// What OVMF prints when no boot option is left: the image was refused, and so was the
/// built-in shell (not signed by our keys).
const NOTHING_LEFT: &str = "No bootable option or device was found";

#[test]
fn an_unsigned_image_is_refused_by_the_platform() {
    let dir = tempfile::tempdir().unwrap();
    let efi = marker_efi(dir.path(), "unsigned", "SB-MARKER unsigned");
    let esp = esp(&[("BOOTX64.EFI", &efi)]);
    let out = refused(esp.path(), rig().own_vars(), PLATFORM_REFUSED, NOTHING_LEFT);
    let line = out.lines().find(|l| l.contains(PLATFORM_REFUSED)).unwrap();
    assert!(line.contains("failed to load") && line.contains("UEFI Misc Device"), "{line}");
    assert!(!out.contains("SB-MARKER"), "{out}");
}

#[test]
fn an_image_signed_with_the_enrolled_db_key_boots_with_secure_boot_on() {
    let dir = tempfile::tempdir().unwrap();
    let rig = rig();
    let (key, cert) = rig.key_pair("db");
    let efi = sign_efi_for_test(&marker_efi(dir.path(), "db", "SB-MARKER db-signed"), &key, &cert);
    let esp = esp(&[("BOOTX64.EFI", &efi)]);
    let out = boots(esp.path(), rig.own_vars(), "SB-MARKER db-signed");
    assert!(out.contains("bootsign: Secure Boot on\n"), "{out}");
}

#[test]
fn an_image_signed_by_a_key_not_enrolled_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rig = rig();
    let (key, cert) = rig.key_pair("other");
    let efi = sign_efi_for_test(&marker_efi(dir.path(), "other", "SB-MARKER other"), &key, &cert);
    let esp = esp(&[("BOOTX64.EFI", &efi)]);
    refused(esp.path(), rig.own_vars(), PLATFORM_REFUSED, NOTHING_LEFT);
}

#[test]
fn without_a_platform_key_the_banner_says_setup_mode() {
    // The control for the tests above: the same Secure Boot firmware with no keys
    // enrolled starts an unsigned image, and the banner tells.
    let dir = tempfile::tempdir().unwrap();
    let efi = marker_efi(dir.path(), "setup", "SB-MARKER setup mode");
    let esp = esp(&[("BOOTX64.EFI", &efi)]);
    let out = boots(esp.path(), setup_mode_vars(), "SB-MARKER setup mode");
    assert!(out.contains("bootsign: Secure Boot off (setup mode)\n"), "{out}");
}

#[test]
fn behind_shim_an_image_signed_by_a_mok_key_boots() {
    let dir = tempfile::tempdir().unwrap();
    let rig = rig();
    let (key, cert) = rig.key_pair("db");
    let efi = sign_efi_for_test(&marker_efi(dir.path(), "mok", "SB-MARKER behind shim"), &key, &cert);
    // Shim (signed by Microsoft, trusted by the varstore's db) starts grubx64.efi from its
    // own directory, checking it against MokList and its SBAT.
    let esp = esp(&[("BOOTX64.EFI", &shim()), ("grubx64.efi", &efi)]);
    let out = boots(esp.path(), rig.shim_vars(), "SB-MARKER behind shim");
    assert!(out.contains("bootsign: Secure Boot on\n"), "{out}");
}

#[test]
fn behind_shim_an_image_without_sbat_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rig = rig();
    let (key, cert) = rig.key_pair("db");
    let efi = marker_efi(dir.path(), "nosbat", "SB-MARKER no sbat");
    // One byte differs from the image the test above boots: shim finds no `.sbat`.
    let renamed = dir.path().join("renamed.efi");
    rename_section(&efi, b".sbat\0\0\0", b".xbat\0\0\0", &renamed);
    let efi = sign_efi_for_test(&renamed, &key, &cert);
    let esp = esp(&[("BOOTX64.EFI", &shim()), ("grubx64.efi", &efi)]);
    let out = refused(esp.path(), rig.shim_vars(), SHIM_REFUSED, SHIM_REFUSED);
    assert!(!out.contains("SB-MARKER"), "{out}");
}

/// A CA whose code-signing key signed the fixture kernel and initramfs (detached CMS),
/// served over HTTP; `script_for(port)` embedded in images built and Authenticode-signed
/// by `bootsign build --sb-key` with the enrolled db key.
struct KernelSite {
    env: Env,
    _server: FileServer,
}

/// `bootsign build` of `formats` (with their options) trusting `ca.crt`, embedding
/// `boot.ipxe`, signed for Secure Boot with the rig's db key.
fn build_db_signed(env: &Env, formats: &[&str]) {
    let (key, cert) = rig().key_pair("db");
    let (key, cert) = (key.display().to_string(), cert.display().to_string());
    let mut args = vec!["build"];
    args.extend_from_slice(formats);
    args.extend(["--trust", "ca.crt", "--embed", "boot.ipxe", "--sb-key", &key, "--sb-cert", &cert]);
    env.ok(&args);
}

fn kernel_site(script_for: impl Fn(u16) -> String, formats: &[&str]) -> KernelSite {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Boot CA"]);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    std::fs::create_dir(env.path("www")).unwrap();
    for f in ["vmlinuz", "initrd.img"] {
        std::fs::copy(fixtures().join(f), env.path(&format!("www/{f}"))).unwrap();
        env.ok(&["sign", &format!("www/{f}")]);
    }
    let server = FileServer::start(env.path("www"), 0);
    env.write("boot.ipxe", script_for(server.port));
    build_db_signed(&env, formats);
    KernelSite { env, _server: server }
}

/// Fetches, verifies and boots the kernel and initramfs; no `quiet`, so the kernel's own
/// report of Secure Boot shows.
fn verified_kernel_script(port: u16) -> String {
    format!(
        "#!ipxe\n\
         kernel http://${{next-server}}:{port}/vmlinuz console=ttyS0 panic=-1\n\
         initrd http://${{next-server}}:{port}/initrd.img\n\
         imgverify vmlinuz http://${{next-server}}:{port}/vmlinuz.sig\n\
         imgverify initrd.img http://${{next-server}}:{port}/initrd.img.sig\n\
         boot\n"
    )
}

const KERNEL_TIMEOUT: Duration = Duration::from_secs(240);

#[test]
fn a_kernel_bootsign_verified_boots_under_secure_boot_from_each_signed_format() {
    // The kernel is signed by Debian, whose key is not in this platform's db: it boots
    // because bootsign verified its CMS signature against the image's own CA.
    let site = kernel_site(verified_kernel_script, &["--efi", "--iso", "--usb"]);
    let env = &site.env;
    let esp_dir = esp(&[("BOOTX64.EFI", &env.path("bootsign.efi"))]);
    let media = [
        ("EFI", esp_media(esp_dir.path())),
        ("ISO", cdrom_media(&env.path("bootsign.iso"))),
        ("USB", usb_media(&env.path("bootsign.usb"))),
    ];
    for (format, media) in media {
        let mut qemu = Qemu::boot_secure_media(&media, rig().own_vars(), Some(PLAIN_NIC));
        let (which, took) = qemu.wait_for(
            &["BOOTSIGN-INITRAMFS-OK", "nothing was booted", PLATFORM_REFUSED, "Kernel panic"],
            KERNEL_TIMEOUT,
        );
        let out = qemu.output();
        assert_eq!(which, 0, "{format}: {out}");
        assert!(out.contains("bootsign: Secure Boot on\n"), "{format}: {out}");
        assert!(
            out.contains("vmlinuz: signature verified") && out.contains("initrd.img: signature verified"),
            "{format}: {out}"
        );
        assert!(out.contains("Booting vmlinuz (") && out.contains(", verified)"), "{format}: {out}");
        // The kernel itself found Secure Boot on.
        assert!(out.contains("Secure boot enabled"), "{format}: {out}");
        eprintln!("{format}: booted the verified kernel under Secure Boot in {took:.1?}");
    }
}

#[test]
fn under_secure_boot_a_kernel_the_script_did_not_verify_is_refused_with_the_reason() {
    let site = kernel_site(
        |port| {
            format!("#!ipxe\nkernel http://${{next-server}}:{port}/vmlinuz console=ttyS0 panic=-1\nboot\n")
        },
        &["--efi"],
    );
    let esp_dir = esp(&[("BOOTX64.EFI", &site.env.path("bootsign.efi"))]);
    let mut qemu = Qemu::boot_secure_media(&esp_media(esp_dir.path()), rig().own_vars(), Some(PLAIN_NIC));
    let (which, _) = qemu.wait_for(&["nothing was booted", "Linux version"], KERNEL_TIMEOUT);
    let out = qemu.output();
    assert_eq!(which, 0, "{out}");
    assert!(
        out.contains(
            "Secure Boot refused 'vmlinuz': the platform does not trust its signer and bootsign did not verify it"
        ),
        "{out}"
    );
}

#[test]
fn a_kernel_with_bootsigns_authenticode_signature_needs_no_sig_file() {
    // Signed once, embedded: the kernel (already signed by Debian) gets a second
    // Authenticode signature by the CA's RSA code-signing key, and `imgverify vmlinuz`
    // with no signature file checks it. Under Secure Boot, where Debian's key is not in db.
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "rsa2048", "--cn", "Boot CA"]);
    env.ok(&["issue", "--codesigning", "--key", "rsa2048"]);
    std::fs::create_dir(env.path("www")).unwrap();
    let said = env.run(&[
        "sign",
        "--authenticode",
        fixtures().join("vmlinuz").to_str().unwrap(),
        "-o",
        "www/vmlinuz",
    ]);
    let said = String::from_utf8_lossy(&said.stderr).to_string();
    assert!(said.contains("signature 2"), "{said}");
    std::fs::copy(fixtures().join("initrd.img"), env.path("www/initrd.img")).unwrap();
    env.ok(&["sign", "www/initrd.img"]);
    let server = FileServer::start(env.path("www"), 0);
    let port = server.port;
    env.write(
        "boot.ipxe",
        format!(
            "#!ipxe\nimgtrust --permanent --all\n\
             kernel http://${{next-server}}:{port}/vmlinuz console=ttyS0 panic=-1 quiet\n\
             initrd http://${{next-server}}:{port}/initrd.img\n\
             imgverify vmlinuz\n\
             imgverify initrd.img http://${{next-server}}:{port}/initrd.img.sig\n\
             boot\n"
        ),
    );
    build_db_signed(&env, &["--efi"]);
    let esp_dir = esp(&[("BOOTX64.EFI", &env.path("bootsign.efi"))]);
    let mut qemu = Qemu::boot_secure_media(&esp_media(esp_dir.path()), rig().own_vars(), Some(PLAIN_NIC));
    let (which, _) =
        qemu.wait_for(&["BOOTSIGN-INITRAMFS-OK", "nothing was booted", PLATFORM_REFUSED], KERNEL_TIMEOUT);
    let out = qemu.output();
    assert_eq!(which, 0, "{out}");
    assert!(
        out.contains(
            "vmlinuz: embedded signature verified (Authenticode signature 2 by bootsign code signing"
        ),
        "{out}"
    );
}

#[test]
fn behind_shim_the_signed_image_boots_a_verified_distribution_kernel() {
    // Microsoft's keys, our certificate as a MOK: shim starts the signed image, which
    // verifies Debian's kernel with imgverify; shim's own LoadImage lets the kernel in
    // (Debian signed it, and shim trusts Debian's key).
    let site = kernel_site(verified_kernel_script, &["--efi"]);
    let esp_dir = esp(&[("BOOTX64.EFI", &shim()), ("grubx64.efi", &site.env.path("bootsign.efi"))]);
    let mut qemu = Qemu::boot_secure_media(&esp_media(esp_dir.path()), rig().shim_vars(), Some(PLAIN_NIC));
    let (which, _) = qemu.wait_for(
        &["BOOTSIGN-INITRAMFS-OK", "nothing was booted", SHIM_REFUSED, "Kernel panic"],
        KERNEL_TIMEOUT,
    );
    let out = qemu.output();
    assert_eq!(which, 0, "{out}");
    assert!(out.contains("bootsign: Secure Boot on\n"), "{out}");
    assert!(out.contains("vmlinuz: signature verified") && out.contains("Secure boot enabled"), "{out}");
}

#[test]
fn the_shim_command_starts_what_the_platform_refuses_through_a_distribution_shim() {
    // Microsoft's keys and ours in db, `other` in MokList. bootsign (db-signed) starts;
    // its script chooses Debian's shim (Microsoft-signed) and chains two programs the
    // platform refuses: one nobody signed, which shim refuses too, and one `other`
    // signed, which shim checks against MokList and starts.
    let rig = rig();
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    std::fs::create_dir(env.path("www")).unwrap();
    std::fs::copy(shim(), env.path("www/shimx64.efi")).unwrap();
    let (other_key, other_cert) = rig.key_pair("other");
    let second = sign_efi_for_test(
        &marker_efi(&env.path("www"), "second", "SHIM-SECOND-STAGE-OK"),
        &other_key,
        &other_cert,
    );
    std::fs::rename(second, env.path("www/second.efi")).unwrap();
    marker_efi(&env.path("www"), "unsigned", "UNSIGNED-RAN");
    let server = FileServer::start(env.path("www"), 0);
    let url = format!("http://${{next-server}}:{}", server.port);
    env.write(
        "boot.ipxe",
        format!(
            "#!ipxe\nshim {url}/shimx64.efi\nchain {url}/unsigned.efi || echo SHIM-REFUSED-UNSIGNED\n\
             chain {url}/second.efi\n"
        ),
    );
    build_db_signed(&env, &["--efi"]);
    let esp_dir = esp(&[("BOOTX64.EFI", &env.path("bootsign.efi"))]);
    let mut qemu =
        Qemu::boot_secure_media(&esp_media(esp_dir.path()), rig.db_and_mok_vars(), Some(PLAIN_NIC));
    // Shim shows its refusal in a box and waits for a key, as on a console.
    qemu.wait_for(&["Verification failed: (0x1A) Security Violation", "nothing was booted"], TIMEOUT);
    let markers = ["SHIM-SECOND-STAGE-OK", "nothing was booted", "UNSIGNED-RAN"];
    for _ in 0..30 {
        std::thread::sleep(Duration::from_secs(2));
        let out = qemu.output();
        if out.contains("bootsign: starting 'second.efi'") || markers.iter().any(|m| out.contains(m)) {
            break;
        }
        qemu.send(b"\r");
    }
    let (which, _) = qemu.wait_for(&markers, TIMEOUT);
    let out = qemu.output();
    assert_eq!(which, 0, "{out}");
    assert!(out.contains("bootsign: Secure Boot on\n"), "{out}");
    assert!(out.contains("bootsign: starting 'unsigned.efi' through the shim 'shimx64.efi'"), "{out}");
    assert!(out.contains("the shim 'shimx64.efi' did not start 'unsigned.efi'"), "{out}");
    assert!(out.contains("SHIM-REFUSED-UNSIGNED"), "{out}");
    assert!(out.contains("bootsign: starting 'second.efi' through the shim 'shimx64.efi'"), "{out}");
}

#[test]
fn a_signed_option_rom_still_loads_under_secure_boot() {
    // OVMF runs option-ROM drivers whatever their signature (its policy for ROMs), so
    // this shows the signed ROM is intact and works; tests/authenticode.rs checks the
    // driver's signature taken out of the ROM as the platform sees it.
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    env.write("boot.ipxe", "#!ipxe\necho SIGNED-ROM-OK\n");
    build_db_signed(&env, &["--rom", "--pci", "1af4:1000"]);
    let nic = format!("virtio-net-pci,netdev=n0,romfile={},bootindex=0", env.path("bootsign.rom").display());
    let mut qemu = Qemu::boot_secure_media(&[], rig().own_vars(), Some(&nic));
    let (which, _) = qemu.wait_for(&["SIGNED-ROM-OK", "nothing was booted", NOTHING_LEFT], TIMEOUT);
    let out = qemu.output();
    assert_eq!(which, 0, "{out}");
    assert!(out.contains("bootsign: Secure Boot on\n"), "{out}");
}

#[test]
fn a_verified_kernel_the_platforms_dbx_forbids_is_not_started() {
    // The platform owner forbade this kernel by its Authenticode digest in dbx: bootsign
    // verified it, but does not vouch for it to the platform.
    let site = kernel_site(verified_kernel_script, &["--efi"]);
    let kernel = std::fs::read(fixtures().join("vmlinuz")).unwrap();
    let digest =
        bootsign_pki::authenticode::image_digest(&kernel, bootsign_pki::HashAlgorithm::Sha256).unwrap();
    let owner = bootsign_efivar::Guid::parse("b0075164-0000-4000-8000-5ecb00700000").unwrap();
    let esl = bootsign_efivar::signature_list(bootsign_efivar::EFI_CERT_SHA256, owner, &[&digest]);
    // virt-fw-vars takes a dbx update as a signed update; it reads past the signature.
    let update = bootsign_efivar::authenticated_update(
        bootsign_efivar::EfiTime::from_unix(1_767_225_600),
        &[0x30, 0x00],
        &esl,
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dbx.auth"), &update).unwrap();
    let vars = dir.path().join("dbx-vars.fd");
    let out = std::process::Command::new("virt-fw-vars")
        .arg("-i")
        .arg(rig().own_vars())
        .arg("-o")
        .arg(&vars)
        .arg("--set-dbx")
        .arg(dir.path().join("dbx.auth"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let esp_dir = esp(&[("BOOTX64.EFI", &site.env.path("bootsign.efi"))]);
    let mut qemu = Qemu::boot_secure_media(&esp_media(esp_dir.path()), &vars, Some(PLAIN_NIC));
    let (which, _) = qemu.wait_for(&["nothing was booted", "BOOTSIGN-INITRAMFS-OK"], KERNEL_TIMEOUT);
    let out = qemu.output();
    assert_eq!(which, 0, "{out}");
    assert!(out.contains("vmlinuz: signature verified"), "{out}");
    assert!(
        out.contains(
            "'vmlinuz' is not started: the platform's forbidden database (dbx) lists this image's digest"
        ),
        "{out}"
    );
}

/// A copy of the PE image `signed` without its signatures (the certificate table cut off
/// and its directory entry cleared): a kernel no key vouches for.
fn strip_signatures(signed: &[u8]) -> Vec<u8> {
    let pe = bootsign_pe::Pe::parse(signed).unwrap();
    let table = pe.certificate_table().unwrap();
    let mut out = signed[..table.start].to_vec();
    let coff = u32::from_le_bytes(out[0x3c..0x40].try_into().unwrap()) as usize + 4;
    let dir = coff + 20 + 112 + 4 * 8;
    out[dir..dir + 8].fill(0);
    out
}

#[test]
fn behind_shim_a_kernel_only_bootsign_verified_is_started_by_bootsign_itself() {
    // Shim's LoadImage starts only what a key it trusts signed, and never asks the
    // platform's Security2: a kernel with no signature but bootsign's CMS one is laid out
    // and started by bootsign's own PE loader.
    let site = kernel_site(verified_kernel_script, &["--efi"]);
    let www = site.env.path("www");
    let unsigned = strip_signatures(&std::fs::read(www.join("vmlinuz")).unwrap());
    assert!(bootsign_pki::authenticode::signatures(&unsigned).is_err(), "no signature left");
    std::fs::write(www.join("vmlinuz"), &unsigned).unwrap();
    site.env.ok(&["sign", "--force", "www/vmlinuz"]);
    let esp_dir = esp(&[("BOOTX64.EFI", &shim()), ("grubx64.efi", &site.env.path("bootsign.efi"))]);
    let mut qemu = Qemu::boot_secure_media(&esp_media(esp_dir.path()), rig().shim_vars(), Some(PLAIN_NIC));
    let (which, _) =
        qemu.wait_for(&["BOOTSIGN-INITRAMFS-OK", "nothing was booted", "Kernel panic"], KERNEL_TIMEOUT);
    let out = qemu.output();
    assert_eq!(which, 0, "{out}");
    assert!(out.contains("bootsign starts the verified image itself"), "{out}");
    assert!(out.contains("Secure boot enabled"), "{out}");
}

#[test]
fn a_kernel_bootsign_vouches_for_is_measured_into_the_tpm() {
    // The platform's Security2 handlers would have measured the kernel into PCR 4; with
    // bootsign standing in for them, bootsign measures it (a software TPM, swtpm).
    let site = kernel_site(verified_kernel_script, &["--efi"]);
    let esp_dir = esp(&[("BOOTX64.EFI", &site.env.path("bootsign.efi"))]);
    let tpm = SoftTpm::start();
    let mut qemu = Qemu::boot_secure_media_with(
        &esp_media(esp_dir.path()),
        rig().own_vars(),
        Some(PLAIN_NIC),
        &tpm.qemu_args(),
    );
    let (which, _) =
        qemu.wait_for(&["BOOTSIGN-INITRAMFS-OK", "nothing was booted", "Kernel panic"], KERNEL_TIMEOUT);
    let out = qemu.output();
    assert_eq!(which, 0, "{out}");
    assert!(out.contains("bootsign: measured into TPM PCR 4"), "{out}");
    let measured = out.find("measured into TPM PCR 4").unwrap();
    assert!(out[..measured].contains("vmlinuz: signature verified"), "{out}");
}
