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
    let key = PrivateKey::read(&env.path(&format!("{name}.key")), &Source::default()).unwrap();
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
