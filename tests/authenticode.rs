//! Authenticode against the real tools, both ways: what bootsign signs, `sbverify` and
//! `osslsigncode verify` accept; what `sbsign` and `osslsigncode sign` make, bootsign's
//! verifier (the PKI crate, shared with the firmware) accepts; a changed image is
//! refused by all of them; a second signature is appended, not swapped in.

mod common;

use std::process::Command;

use bootsign::keys::PrivateKey;
use bootsign::passphrase::Source;
use bootsign::x509::cert::Cert;
use bootsign_pki::authenticode::{AuthenticodeError, verify_image};
use bootsign_pki::cms::{Covers, Trust};
use bootsign_pki::{Fingerprint, Revocation};
use common::*;

const DB_EXT: &str =
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning";

fn tool(name: &str, args: &[&str], dir: &std::path::Path) -> (bool, String) {
    let out =
        Command::new(name).args(args).current_dir(dir).output().unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn load(env: &Env, name: &str) -> (Cert, PrivateKey) {
    let cert = Cert::read_one(&env.path(&format!("{name}.crt"))).unwrap();
    let key = PrivateKey::read(&env.path(&format!("{name}.key")), &Source::default(), &mut std::io::sink())
        .unwrap();
    (cert, key)
}

fn trust_in(anchor: &Cert) -> Vec<Fingerprint> {
    vec![anchor.fingerprint()]
}

fn verify_with(image: &[u8], anchor: &Cert) -> Result<usize, AuthenticodeError> {
    let anchors = trust_in(anchor);
    let extra = [anchor.der.as_slice()];
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let trust = Trust { anchors: &anchors, extra_certs: &extra, time: now, revocation: Revocation::NONE };
    verify_image(image, &trust, None).map(|(v, i)| {
        assert_eq!(v.covers(), Covers::PeImage);
        v.check_content(image).expect("the proof covers the image it came from");
        i
    })
}

/// The firmware image with a configuration, as `bootsign build` writes it.
fn unsigned_image() -> Vec<u8> {
    let cfg = bootsign_config::Config { script: Some("#!ipxe\necho hello\n"), ..Default::default() };
    bootsign::cmd::build::efi_image(&cfg).unwrap()
}

#[test]
fn bootsign_signatures_satisfy_sbverify_and_osslsigncode() {
    let env = Env::new();
    env.openssl_cert("db", None, "/CN=bootsign test db", DB_EXT);
    let (cert, key) = load(&env, "db");
    let signed = bootsign::x509::authenticode::sign_image(&unsigned_image(), &cert, &key, &[]).unwrap();
    env.write("signed.efi", &signed);
    // EDK2's fixed-offset reads: byte 1 is 0x82, the digest OID at byte 32.
    let pe = bootsign_pe::Pe::parse(&signed).unwrap();
    let entry = pe.certificates().unwrap()[0];
    assert_eq!(entry.data[1], 0x82);
    assert_eq!(
        entry.data[30..43],
        [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00]
    );
    assert_eq!(entry.offset % 8, 0);
    let (ok, out) = tool("sbverify", &["--cert", "db.crt", "signed.efi"], &env.path(""));
    assert!(ok && out.contains("Signature verification OK"), "{out}");
    let (ok, out) =
        tool("osslsigncode", &["verify", "-CAfile", "db.crt", "-in", "signed.efi"], &env.path(""));
    assert!(ok && out.contains("Succeeded"), "{out}");
    assert_eq!(verify_with(&signed, &cert).unwrap(), 1);
    // Signed twice with the same inputs: the same bytes (no signing time).
    let again = bootsign::x509::authenticode::sign_image(&unsigned_image(), &cert, &key, &[]).unwrap();
    assert_eq!(again, signed);
    // Another key is not trusted by this certificate.
    env.openssl_cert("other", None, "/CN=other", DB_EXT);
    let (other, _) = load(&env, "other");
    let err = verify_with(&signed, &other).unwrap_err();
    assert!(err.to_string().contains("signature 1: signer \"bootsign test db\" is not trusted"), "{err}");
    let (ok, _) = tool("sbverify", &["--cert", "other.crt", "signed.efi"], &env.path(""));
    assert!(!ok);
}

#[test]
fn sbsign_and_osslsigncode_signatures_satisfy_bootsign() {
    let env = Env::new();
    env.openssl_cert("db", None, "/CN=bootsign test db", DB_EXT);
    let (cert, _) = load(&env, "db");
    env.write("unsigned.efi", unsigned_image());
    let (ok, out) = tool(
        "sbsign",
        &["--key", "db.key", "--cert", "db.crt", "--output", "sb.efi", "unsigned.efi"],
        &env.path(""),
    );
    assert!(ok, "{out}");
    assert_eq!(verify_with(&env.read("sb.efi"), &cert).unwrap(), 1);
    let (ok, out) = tool(
        "osslsigncode",
        &[
            "sign",
            "-certs",
            "db.crt",
            "-key",
            "db.key",
            "-h",
            "sha256",
            "-in",
            "unsigned.efi",
            "-out",
            "ossl.efi",
        ],
        &env.path(""),
    );
    assert!(ok, "{out}");
    assert_eq!(verify_with(&env.read("ossl.efi"), &cert).unwrap(), 1);
}

#[test]
fn a_second_signature_is_appended_and_either_one_serves() {
    let env = Env::new();
    env.openssl_cert("first", None, "/CN=first signer", DB_EXT);
    env.openssl_cert("second", None, "/CN=second signer", DB_EXT);
    let (first, first_key) = load(&env, "first");
    let (second, second_key) = load(&env, "second");
    env.write("unsigned.efi", unsigned_image());
    // First by sbsign, then bootsign appends its own.
    let (ok, out) = tool(
        "sbsign",
        &["--key", "first.key", "--cert", "first.crt", "--output", "one.efi", "unsigned.efi"],
        &env.path(""),
    );
    assert!(ok, "{out}");
    let twice =
        bootsign::x509::authenticode::sign_image(&env.read("one.efi"), &second, &second_key, &[]).unwrap();
    env.write("two.efi", &twice);
    let pe = bootsign_pe::Pe::parse(&twice).unwrap();
    assert_eq!(pe.certificates().unwrap().len(), 2);
    assert_eq!(verify_with(&twice, &first).unwrap(), 1);
    assert_eq!(verify_with(&twice, &second).unwrap(), 2);
    // sbsign's own layout for a second signature: another table entry, which sbverify
    // reads. (osslsigncode reads one entry only and nests further signatures instead.)
    let (ok, out) = tool("sbverify", &["--cert", "second.crt", "two.efi"], &env.path(""));
    assert!(ok, "{out}");
    let (ok, out) = tool("sbverify", &["--list", "two.efi"], &env.path(""));
    assert!(ok && out.contains("signature 2") && out.contains("/CN=second signer"), "{out}");
    // And bootsign's signature over an unsigned image, then a second of its own.
    let once = bootsign::x509::authenticode::sign_image(&unsigned_image(), &first, &first_key, &[]).unwrap();
    let twice = bootsign::x509::authenticode::sign_image(&once, &second, &second_key, &[]).unwrap();
    env.write("ours.efi", &twice);
    let (ok, out) = tool("sbverify", &["--cert", "first.crt", "ours.efi"], &env.path(""));
    assert!(ok, "{out}");
    assert_eq!(verify_with(&twice, &second).unwrap(), 2);
}

#[test]
fn a_changed_image_is_refused_by_everyone() {
    let env = Env::new();
    env.openssl_cert("db", None, "/CN=bootsign test db", DB_EXT);
    let (cert, key) = load(&env, "db");
    let mut signed = bootsign::x509::authenticode::sign_image(&unsigned_image(), &cert, &key, &[]).unwrap();
    // One byte in the first section's data.
    let at = {
        let pe = bootsign_pe::Pe::parse(&signed).unwrap();
        pe.sections()[0].raw_offset as usize + 100
    };
    signed[at] ^= 1;
    env.write("changed.efi", &signed);
    let err = verify_with(&signed, &cert).unwrap_err();
    assert!(matches!(err, AuthenticodeError::ImageDigestMismatch { index: 1, .. }), "{err:?}");
    assert!(err.to_string().contains("the image was changed after signing"), "{err}");
    let (ok, _) = tool("sbverify", &["--cert", "db.crt", "changed.efi"], &env.path(""));
    assert!(!ok);
    let (ok, _) = tool("osslsigncode", &["verify", "-CAfile", "db.crt", "-in", "changed.efi"], &env.path(""));
    assert!(!ok);
    // Unsigned and truncated images.
    assert_eq!(verify_with(&unsigned_image(), &cert).unwrap_err(), AuthenticodeError::Unsigned);
    let cut = &signed[..signed.len() - 10];
    assert!(matches!(verify_with(cut, &cert).unwrap_err(), AuthenticodeError::Image(_)));
    // An EC key is refused for Authenticode, with the reason.
    let ec = PrivateKey::generate(bootsign::keys::KeyType::P256).unwrap();
    let err = bootsign::x509::authenticode::sign_image(&unsigned_image(), &cert, &ec, &[]).unwrap_err();
    assert!(err.to_string().contains("UEFI Secure Boot verifies RSA signatures only"), "{err}");
}

/// The same, through the command line: `sign --authenticode`, `verify --authenticode`,
/// `inspect`, and `build --sb-key/--sb-cert` in all four formats.
#[test]
fn the_cli_signs_verifies_and_builds_signed_images() {
    let env = Env::new();
    env.openssl_cert("db", None, "/CN=bootsign test db", DB_EXT);
    env.write("unsigned.efi", unsigned_image());
    let out = env.run(&["sign", "--authenticode", "--cert", "db.crt", "--key", "db.key", "unsigned.efi"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("-> unsigned.efi.signed (Authenticode, CN=bootsign test db")
    );
    let (ok, out) = tool("sbverify", &["--cert", "db.crt", "unsigned.efi.signed"], &env.path(""));
    assert!(ok, "{out}");
    let shown = env.ok(&["verify", "--authenticode", "unsigned.efi.signed", "--trust", "db.crt"]);
    assert!(
        shown.starts_with("unsigned.efi.signed: Authenticode signature 1 OK\n  image   SHA-256 "),
        "{shown}"
    );
    assert!(shown.contains("signer  bootsign test db (SHA-256)"), "{shown}");
    // sbsign's output, checked by the CLI.
    let (ok, out) = tool(
        "sbsign",
        &["--key", "db.key", "--cert", "db.crt", "--output", "sb.efi", "unsigned.efi"],
        &env.path(""),
    );
    assert!(ok, "{out}");
    env.ok(&["verify", "--authenticode", "sb.efi", "--trust", "db.crt"]);
    // A second signature by bootsign on top of sbsign's.
    env.openssl_cert("second", None, "/CN=second signer", DB_EXT);
    env.ok(&[
        "sign",
        "--authenticode",
        "--cert",
        "second.crt",
        "--key",
        "second.key",
        "sb.efi",
        "-o",
        "two.efi",
    ]);
    let shown = env.ok(&["verify", "--authenticode", "two.efi", "--trust", "second.crt"]);
    assert!(shown.starts_with("two.efi: Authenticode signature 2 OK"), "{shown}");
    env.ok(&["verify", "--authenticode", "two.efi", "--trust", "db.crt"]);

    // build: every output carries the signed program; the ROM's driver is signed too.
    env.write("boot.ipxe", "#!ipxe\necho signed\n");
    let out = env.run(&[
        "build",
        "--efi",
        "--iso",
        "--usb",
        "--rom",
        "--pci",
        "1af4:1000",
        "--trust",
        "db.crt",
        "--embed",
        "boot.ipxe",
        "--sb-key",
        "db.key",
        "--sb-cert",
        "db.crt",
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("Secure Boot  signed by \"CN=bootsign test db\" (db.crt; Authenticode, SHA-256)"),
        "{said}"
    );
    env.ok(&["verify", "--authenticode", "bootsign.efi", "--trust", "db.crt"]);
    let (ok, out) = tool("sbverify", &["--cert", "db.crt", "bootsign.efi"], &env.path(""));
    assert!(ok, "{out}");
    for image in ["bootsign.efi", "bootsign.iso", "bootsign.usb", "bootsign.rom"] {
        let shown = env.ok(&["inspect", image]);
        assert!(
            shown.contains("\nsignatures   1\n  1  SHA-256 by CN=bootsign test db\n"),
            "{image}: {shown}"
        );
        // The program inside, taken out as the platform finds it, verifies.
        let mut file = bootsign::image::FileImage::open(&env.path(image)).unwrap();
        let found = bootsign_image_read::read_boot_program(&mut file, bootsign::image::MAX_PROGRAM).unwrap();
        let (cert, _) = load(&env, "db");
        assert_eq!(verify_with(&found.program, &cert).unwrap(), 1, "{image}");
        if image == "bootsign.rom" {
            assert_eq!(bootsign_pe::Pe::parse(&found.program).unwrap().subsystem, 11, "the driver");
        }
    }
    // Unsigned builds say so.
    env.ok(&["build", "--efi", "--trust", "db.crt", "--output-name", "plain"]);
    assert!(
        env.ok(&["inspect", "plain.efi"])
            .contains("\nsignatures   none (Secure Boot refuses an unsigned image)\n")
    );
}

#[test]
fn bad_authenticode_input_is_refused_and_nothing_written() {
    let env = Env::new();
    env.openssl_cert("db", None, "/CN=bootsign test db", DB_EXT);
    env.openssl_cert("other", None, "/CN=other", DB_EXT);
    env.write("unsigned.efi", unsigned_image());
    env.write("notes.txt", "not a program\n");
    let before = env.snapshot();
    // A key that does not match the certificate.
    let err =
        env.fails(&["sign", "--authenticode", "--cert", "db.crt", "--key", "other.key", "unsigned.efi"]);
    assert!(err.contains("does not match the signer certificate"), "{err}");
    let err =
        env.fails(&["build", "--efi", "--trust", "db.crt", "--sb-key", "other.key", "--sb-cert", "db.crt"]);
    assert!(
        err.contains("the Secure Boot key 'other.key' does not belong to the certificate 'db.crt'"),
        "{err}"
    );
    // Not a PE image.
    let err = env.fails(&["sign", "--authenticode", "--cert", "db.crt", "--key", "db.key", "notes.txt"]);
    assert!(err.contains("'notes.txt' cannot be signed: not a PE image (no MZ header)"), "{err}");
    // One of several inputs bad: nothing is written for the good one either.
    let err = env.fails(&[
        "sign",
        "--authenticode",
        "--cert",
        "db.crt",
        "--key",
        "db.key",
        "unsigned.efi",
        "notes.txt",
    ]);
    assert!(err.contains("'notes.txt' cannot be signed"), "{err}");
    assert_eq!(env.snapshot(), before, "nothing was written");
    // A truncated certificate table.
    env.ok(&["sign", "--authenticode", "--cert", "db.crt", "--key", "db.key", "unsigned.efi"]);
    let signed = env.read("unsigned.efi.signed");
    env.write("cut.efi", &signed[..signed.len() - 100]);
    let err = env.fails(&["verify", "--authenticode", "cut.efi", "--trust", "db.crt"]);
    assert!(err.contains("'cut.efi': the certificate table lies outside the file"), "{err}");
    let err = env.fails(&["verify", "--authenticode", "unsigned.efi", "--trust", "db.crt"]);
    assert!(
        err.contains("'unsigned.efi' is not accepted: the image carries no Authenticode signature"),
        "{err}"
    );
    let err = env.fails(&["verify", "--authenticode", "unsigned.efi.signed", "--trust", "other.crt"]);
    assert!(err.contains("signature 1: signer \"bootsign test db\" is not trusted"), "{err}");
}
