//! Code signing end to end: `bootsign sign` against `openssl cms` in both directions,
//! and every refusal with the error a person sees.

mod common;

use common::*;

fn payload(env: &Env, name: &str, size: usize) {
    let data: Vec<u8> = (0..size).map(|i| (i * 7 + i / 251) as u8).collect();
    env.write(name, data);
}

fn signing_ca(env: &Env, ca_key: &str, signer_key: &str) {
    env.ok(&["ca", "init", "--key", ca_key, "--cn", "Signing CA"]);
    env.ok(&["issue", "--codesigning", "--key", signer_key]);
}

#[test]
fn rsa_signature_is_byte_identical_to_openssl_and_verifies_both_ways() {
    for ca_key in ["rsa2048", "p256"] {
        let env = Env::new();
        signing_ca(&env, ca_key, "rsa2048");
        payload(&env, "vmlinuz", 300_000);
        env.ok(&["sign", "vmlinuz"]);
        env.openssl_sign("vmlinuz", "openssl.sig", "codesign.crt", "codesign.key", Some("ca.crt"), true);
        assert_eq!(env.read("vmlinuz.sig"), env.read("openssl.sig"), "CA {ca_key}");
        env.openssl_cms_verify("vmlinuz.sig", "vmlinuz");
        let out = env.ok(&["verify", "vmlinuz", "--trust", "ca.crt"]);
        assert!(
            out.starts_with("vmlinuz: signature OK\n  signer  bootsign code signing (SHA-256)\n"),
            "{out}"
        );
        assert!(out.contains("CN=Signing CA") && out.contains("trusted)"), "{out}");
    }
}

#[test]
fn ec_signatures_verify_with_openssl() {
    let env = Env::new();
    signing_ca(&env, "p384", "p256");
    payload(&env, "initrd.img", 100_000);
    env.ok(&["sign", "initrd.img", "--pem"]);
    assert!(env.read("initrd.img.sig").starts_with(b"-----BEGIN CMS-----\n"));
    env.openssl_ok(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "PEM",
        "-in",
        "initrd.img.sig",
        "-content",
        "initrd.img",
        "-CAfile",
        "ca.crt",
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    ]);
    env.ok(&["verify", "initrd.img", "--trust", "ca.crt"]);
}

#[test]
fn openssl_signatures_verify_with_bootsign() {
    for signer_key in ["rsa2048", "p256"] {
        for noattr in [true, false] {
            let env = Env::new();
            signing_ca(&env, "rsa2048", signer_key);
            payload(&env, "boot.efi", 65_537);
            env.openssl_sign(
                "boot.efi",
                "boot.efi.sig",
                "codesign.crt",
                "codesign.key",
                Some("ca.crt"),
                noattr,
            );
            let out = env.ok(&["verify", "boot.efi", "--trust", "ca.crt"]);
            assert!(out.contains("signature OK"), "{signer_key} noattr={noattr}: {out}");
            // Trust given as a raw fingerprint, with the CA certificate found in the signature.
            let fp = env.ok(&["fingerprint", "--raw", "ca.crt"]);
            env.ok(&["verify", "boot.efi", "--trust", fp.trim()]);
        }
    }
    // OpenSSL's PEM output too.
    let env = Env::new();
    signing_ca(&env, "p256", "p256");
    payload(&env, "f", 1000);
    env.openssl_ok(&[
        "cms",
        "-sign",
        "-binary",
        "-in",
        "f",
        "-signer",
        "codesign.crt",
        "-inkey",
        "codesign.key",
        "-outform",
        "PEM",
        "-out",
        "f.sig",
    ]);
    env.ok(&["verify", "f", "--trust", "ca.crt"]);
}

#[test]
fn signer_name_selects_signers() {
    let env = Env::new();
    signing_ca(&env, "p256", "p256");
    payload(&env, "f", 1000);
    env.ok(&["sign", "f"]);
    env.ok(&["verify", "f", "--trust", "ca.crt", "--signer", "bootsign code signing"]);
    let err = env.fails(&["verify", "f", "--trust", "ca.crt", "--signer", "someone else"]);
    assert!(err.contains("no signer is named \"someone else\" (signers: bootsign code signing)"), "{err}");
}

fn refused(env: &Env, args: &[&str], expect: &str) {
    common::refused(env, args, &[expect]);
}

#[test]
fn tampered_content_is_refused() {
    let env = Env::new();
    signing_ca(&env, "p256", "rsa2048");
    payload(&env, "f", 5000);
    env.ok(&["sign", "f"]);
    let mut data = env.read("f");
    data[1234] ^= 1;
    env.write("f", data);
    refused(
        &env,
        &["verify", "f", "--trust", "ca.crt"],
        "'f': the signature by \"bootsign code signing\" does not match the file's contents: the file was \
         changed after signing, or 'f.sig' belongs to another file or was damaged",
    );
}

#[test]
fn tampered_signature_is_refused() {
    let env = Env::new();
    signing_ca(&env, "p256", "rsa2048");
    payload(&env, "f", 5000);
    env.ok(&["sign", "f"]);
    let mut sig = env.read("f.sig");
    let at = sig.len() - 10;
    sig[at] ^= 0x40;
    env.write("f.sig", sig);
    // Said once: the verifier's "signature does not verify" is not repeated in parentheses.
    let err = env.fails(&["verify", "f", "--trust", "ca.crt"]);
    assert!(err.contains("does not match the file's contents"), "{err}");
    assert!(!err.contains("does not verify"), "{err}");
}

#[test]
fn wrong_trust_anchor_is_refused() {
    let env = Env::new();
    signing_ca(&env, "p256", "p256");
    payload(&env, "f", 5000);
    env.ok(&["sign", "f"]);
    std::fs::create_dir(env.path("other")).unwrap();
    env.ok(&["--ca-dir", "other", "ca", "init", "--key", "p256", "--cn", "Other CA"]);
    refused(
        &env,
        &["verify", "f", "--trust", "other/ca.crt"],
        "root \"Signing CA\" is not trusted (SHA-256 ",
    );
}

#[test]
fn expired_and_not_yet_valid_signers_are_refused() {
    let env = Env::new();
    signing_ca(&env, "p256", "p256");
    payload(&env, "f", 5000);
    env.ok(&["sign", "f"]);
    refused(
        &env,
        &["verify", "f", "--trust", "ca.crt", "--at", "2035-01-01"],
        "certificate \"bootsign code signing\" expired on",
    );
    refused(
        &env,
        &["verify", "f", "--trust", "ca.crt", "--at", "2020-01-01"],
        "certificate \"bootsign code signing\" is not valid until",
    );
}

#[test]
fn signer_without_code_signing_eku_is_refused() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Signing CA"]);
    env.ok(&["issue", "--server", "--cn", "web.example", "--key", "p256"]);
    payload(&env, "f", 5000);
    // bootsign will not sign with it ...
    refused(
        &env,
        &["sign", "f", "--cert", "server.crt", "--key", "server.key"],
        "is not a code-signing certificate",
    );
    assert!(!env.path("f.sig").exists());
    // ... and refuses OpenSSL's signature made with it.
    env.openssl_sign("f", "f.sig", "server.crt", "server.key", None, true);
    refused(
        &env,
        &["verify", "f", "--trust", "ca.crt"],
        "certificate \"web.example\" is not for code signing (codeSigning)",
    );
}

#[test]
fn signer_without_digital_signature_is_refused() {
    let env = Env::new();
    env.ok(&["ca", "init", "--cn", "Signing CA"]);
    env.openssl_cert(
        "enc",
        Some(("ca.crt", "ca.key")),
        "/CN=encipher only",
        "keyUsage=critical,keyEncipherment\nextendedKeyUsage=codeSigning",
    );
    payload(&env, "f", 5000);
    refused(
        &env,
        &["sign", "f", "--cert", "enc.crt", "--key", "enc.key"],
        "has a keyUsage without digitalSignature",
    );
    env.openssl_sign("f", "f.sig", "enc.crt", "enc.key", None, true);
    refused(
        &env,
        &["verify", "f", "--trust", "ca.crt"],
        "certificate \"encipher only\" has a keyUsage without digitalSignature",
    );
}

#[test]
fn intermediate_that_is_not_a_ca_is_refused() {
    let env = Env::new();
    env.ok(&["ca", "init", "--cn", "Signing CA"]);
    env.openssl_cert(
        "int",
        Some(("ca.crt", "ca.key")),
        "/CN=not a CA",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyCertSign",
    );
    env.openssl_cert("leaf", Some(("int.crt", "int.key")), "/CN=leaf signer", CODESIGN_EXT);
    payload(&env, "f", 5000);
    env.openssl_sign("f", "f.sig", "leaf.crt", "leaf.key", Some("int.crt"), true);
    refused(
        &env,
        &["verify", "f", "--trust", "ca.crt"],
        "certificate \"not a CA\" issued another certificate but is not a CA",
    );
}

#[test]
fn path_length_violation_is_refused() {
    let env = Env::new();
    env.ok(&["ca", "init", "--cn", "Signing CA"]);
    env.openssl_cert(
        "int1",
        Some(("ca.crt", "ca.key")),
        "/CN=int one",
        &format!("{CA_EXT}\nbasicConstraints=critical,CA:TRUE,pathlen:0"),
    );
    env.openssl_cert("int2", Some(("int1.crt", "int1.key")), "/CN=int two", CA_EXT);
    env.openssl_cert("leaf", Some(("int2.crt", "int2.key")), "/CN=deep signer", CODESIGN_EXT);
    env.write("chain.pem", [env.read("int2.crt"), env.read("int1.crt")].concat());
    payload(&env, "f", 5000);
    env.openssl_sign("f", "f.sig", "leaf.crt", "leaf.key", Some("chain.pem"), true);
    refused(
        &env,
        &["verify", "f", "--trust", "ca.crt"],
        "CA certificate \"int one\" allows 0 intermediate CA(s) below it (pathLenConstraint) but the chain has 1",
    );
}

#[test]
fn unknown_critical_extension_is_refused() {
    let env = Env::new();
    env.ok(&["ca", "init", "--cn", "Signing CA"]);
    env.openssl_cert(
        "odd",
        Some(("ca.crt", "ca.key")),
        "/CN=odd signer",
        &format!("{CODESIGN_EXT}\n1.3.6.1.4.1.99999.1=critical,ASN1:NULL"),
    );
    payload(&env, "f", 5000);
    env.openssl_sign("f", "f.sig", "odd.crt", "odd.key", None, true);
    refused(
        &env,
        &["verify", "f", "--trust", "ca.crt"],
        "certificate \"odd signer\" has an unsupported critical extension 1.3.6.1.4.1.99999.1",
    );
}

#[test]
fn signed_attributes_with_wrong_message_digest_are_refused() {
    let env = Env::new();
    signing_ca(&env, "rsa2048", "rsa2048");
    payload(&env, "f", 5000);
    env.openssl_sign("f", "f.sig", "codesign.crt", "codesign.key", Some("ca.crt"), false);
    env.ok(&["verify", "f", "--trust", "ca.crt"]);
    payload(&env, "f", 5001);
    refused(
        &env,
        &["verify", "f", "--trust", "ca.crt"],
        "does not match the file's contents: the file was changed",
    );
}

#[test]
fn sign_bad_input_leaves_nothing_behind() {
    let env = Env::new();
    signing_ca(&env, "p256", "p256");
    env.write("empty", "");
    refused(&env, &["sign", "empty"], "'empty' is empty");
    assert!(!env.path("empty.sig").exists());
    refused(&env, &["sign", "missing"], "failed to open 'missing'");
    payload(&env, "f", 100);
    env.ok(&["issue", "--codesigning", "--key", "p256", "-o", "other"]);
    refused(
        &env,
        &["sign", "f", "--cert", "codesign.crt", "--key", "other.key"],
        "the key 'other.key' does not match the signer certificate 'codesign.crt'",
    );
    // Several files are signed all together or not at all.
    refused(&env, &["sign", "f", "empty"], "'empty' is empty");
    assert!(!env.path("f.sig").exists());
    env.ok(&["sign", "f"]);
    let first = env.read("f.sig");
    refused(&env, &["sign", "f"], "refusing to overwrite 'f.sig'");
    env.ok(&["sign", "f", "--force"]);
    assert_eq!(env.read("f.sig").len(), first.len());
    refused(&env, &["sign", "f", "empty", "-o", "x.sig"], "-o names one output file, but 2 files were given");
    let none = Env::new();
    refused(
        &none,
        &["sign", "f"],
        "no signer certificate: 'codesign.crt' does not exist; issue one with 'bootsign issue --codesigning'",
    );
}

#[test]
fn broken_signature_files_are_refused() {
    let env = Env::new();
    signing_ca(&env, "p256", "p256");
    payload(&env, "f", 100);
    payload(&env, "g", 200);
    env.ok(&["sign", "f", "g"]);
    let good = env.read("f.sig");
    env.write("trunc.sig", &good[..good.len() / 2]);
    refused(
        &env,
        &["verify", "f", "--sig", "trunc.sig", "--trust", "ca.crt"],
        "'trunc.sig': the signature is not a valid CMS SignedData",
    );
    env.write("garbage.sig", b"this is not a signature at all");
    refused(
        &env,
        &["verify", "f", "--sig", "garbage.sig", "--trust", "ca.crt"],
        "'garbage.sig' is not a signature (expected a detached CMS signature, DER or PEM, as 'bootsign sign' makes)",
    );
    env.write("pem.sig", "-----BEGIN CMS-----\nbm90IGEgc2lnbmF0dXJl\n-----END CMS-----\n");
    refused(
        &env,
        &["verify", "f", "--sig", "pem.sig", "--trust", "ca.crt"],
        "'pem.sig': the signature is not a valid CMS SignedData",
    );
    env.write("badpem.sig", "-----BEGIN CMS-----\n!!!!\n-----END CMS-----\n");
    refused(
        &env,
        &["verify", "f", "--sig", "badpem.sig", "--trust", "ca.crt"],
        "'badpem.sig': the signature is not valid PEM",
    );
    env.write("empty.sig", "");
    refused(
        &env,
        &["verify", "f", "--sig", "empty.sig", "--trust", "ca.crt"],
        "'empty.sig': the signature is empty",
    );
    // The signature of another file.
    refused(
        &env,
        &["verify", "f", "--sig", "g.sig", "--trust", "ca.crt"],
        "or 'g.sig' belongs to another file",
    );
    refused(
        &env,
        &["verify", "f", "--sig", "nope.sig", "--trust", "ca.crt"],
        "failed to read the signature 'nope.sig'",
    );
    refused(
        &env,
        &["verify", "f", "--trust", "nope.crt"],
        "--trust 'nope.crt': no such file, and not a SHA-256 fingerprint",
    );
    // BER from `openssl cms -sign -stream`.
    env.openssl_ok(&[
        "cms",
        "-sign",
        "-binary",
        "-stream",
        "-in",
        "f",
        "-signer",
        "codesign.crt",
        "-inkey",
        "codesign.key",
        "-outform",
        "DER",
        "-out",
        "ber.sig",
    ]);
    refused(&env, &["verify", "f", "--sig", "ber.sig", "--trust", "ca.crt"], "indefinite-length BER");
}

#[test]
fn openssl_variants_verify_rsa_pss_digests_and_key_identifiers() {
    let env = Env::new();
    signing_ca(&env, "rsa2048", "rsa2048");
    payload(&env, "f", 70_000);
    let base = [
        "cms",
        "-sign",
        "-binary",
        "-in",
        "f",
        "-signer",
        "codesign.crt",
        "-inkey",
        "codesign.key",
        "-certfile",
        "ca.crt",
        "-outform",
        "DER",
    ];
    let variants: [(&str, &[&str]); 7] = [
        ("pss.sig", &["-keyopt", "rsa_padding_mode:pss", "-noattr"]),
        ("pss-attr.sig", &["-keyopt", "rsa_padding_mode:pss", "-md", "sha384"]),
        ("sha384.sig", &["-md", "sha384", "-noattr"]),
        ("sha512.sig", &["-md", "sha512"]),
        ("sha1.sig", &["-md", "sha1", "-noattr"]),
        ("sha1-attr.sig", &["-md", "sha1"]),
        ("keyid.sig", &["-keyid", "-noattr"]),
    ];
    for (out, extra) in variants {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        args.extend(["-out", out]);
        env.openssl_ok(&args);
        if out.starts_with("sha1") {
            // SHA-1 content digests are refused (chosen-prefix collisions), with the fix.
            let err = env.fails(&["verify", "f", "--sig", out, "--trust", "ca.crt"]);
            assert!(err.contains("uses SHA-1, which is refused; sign again with SHA-256"), "{out}: {err}");
            continue;
        }
        let got = env.ok(&["verify", "f", "--sig", out, "--trust", "ca.crt"]);
        assert!(got.contains("signature OK"), "{out}: {got}");
    }
    assert!(env.ok(&["verify", "f", "--sig", "sha512.sig", "--trust", "ca.crt"]).contains("(SHA-512)"));
}

#[test]
fn rsa_pss_and_p384_certificate_chains_verify() {
    let env = Env::new();
    env.ok(&["ca", "init", "--cn", "Signing CA"]);
    // An intermediate signed with RSA-PSS, and a P-384 ECDSA signer under it.
    env.openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "int.key",
        "-out",
        "int.req",
        "-subj",
        "/CN=PSS CA",
    ]);
    env.write("int.ext", format!("[ext]\n{CA_EXT}\n"));
    env.openssl_ok(&[
        "x509",
        "-req",
        "-in",
        "int.req",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-set_serial",
        "9",
        "-days",
        "30",
        "-extfile",
        "int.ext",
        "-extensions",
        "ext",
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:32",
        "-out",
        "int.crt",
    ]);
    assert!(env.openssl_ok(&["x509", "-in", "int.crt", "-noout", "-text"]).contains("rsassaPss"));
    env.openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.req",
        "-subj",
        "/CN=P-384 signer",
    ]);
    env.write("leaf.ext", format!("[ext]\n{CODESIGN_EXT}\n"));
    env.openssl_ok(&[
        "x509",
        "-req",
        "-in",
        "leaf.req",
        "-CA",
        "int.crt",
        "-CAkey",
        "int.key",
        "-set_serial",
        "10",
        "-days",
        "30",
        "-extfile",
        "leaf.ext",
        "-extensions",
        "ext",
        "-out",
        "leaf.crt",
    ]);
    payload(&env, "f", 1000);
    env.ok(&["sign", "f", "--cert", "leaf.crt", "--key", "leaf.key", "--certfile", "int.crt"]);
    let out = env.ok(&["verify", "f", "--trust", "ca.crt"]);
    assert!(
        out.contains("CN=P-384 signer") && out.contains("CN=PSS CA") && out.contains("CN=Signing CA"),
        "{out}"
    );
    env.openssl_cms_verify("f.sig", "f");
}

#[test]
fn every_signer_must_verify_unless_one_is_named() {
    let env = Env::new();
    signing_ca(&env, "p256", "p256");
    std::fs::create_dir(env.path("other")).unwrap();
    env.ok(&["--ca-dir", "other", "ca", "init", "--key", "p256", "--cn", "Other CA"]);
    env.ok(&["--ca-dir", "other", "issue", "--codesigning", "--key", "p256", "--cn", "outsider"]);
    payload(&env, "f", 3000);
    env.openssl_ok(&[
        "cms",
        "-sign",
        "-binary",
        "-noattr",
        "-in",
        "f",
        "-signer",
        "codesign.crt",
        "-inkey",
        "codesign.key",
        "-signer",
        "other/codesign.crt",
        "-inkey",
        "other/codesign.key",
        "-outform",
        "DER",
        "-out",
        "f.sig",
    ]);
    refused(&env, &["verify", "f", "--trust", "ca.crt"], "signer \"outsider\" is not trusted");
    let out = env.ok(&["verify", "f", "--trust", "ca.crt", "--signer", "bootsign code signing"]);
    assert!(out.contains("signer  bootsign code signing") && !out.contains("outsider"), "{out}");
    let both = env.ok(&["verify", "f", "--trust", "ca.crt,other/ca.crt"]);
    assert!(both.contains("signer  bootsign code signing") && both.contains("signer  outsider"), "{both}");
}

/// A CN that clears the screen, homes the cursor and reverses the text after it.
const HOSTILE_CN: &str = "Evil\x1b[2J\x1b[1;1Hsignature OK\u{202e}gpj";
/// How `verify` shows it: every control character and the override as an escape.
const HOSTILE_CN_SHOWN: &str = "Evil\\x1b[2J\\x1b[1;1Hsignature OK\\u{202e}gpj";

#[test]
fn signer_names_with_control_characters_are_shown_escaped() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Signing CA"]);
    env.ok(&["issue", "--codesigning", "--key", "p256", "--cn", HOSTILE_CN]);
    payload(&env, "f", 1000);
    env.ok(&["sign", "f"]);
    let raw_free = |text: &str| !text.contains('\x1b') && !text.contains('\u{202e}');
    // Accepted: the signer line and the chain line show escapes, never the raw bytes.
    let out = env.ok(&["verify", "f", "--trust", "ca.crt"]);
    assert!(raw_free(&out), "{out:?}");
    assert!(out.contains(&format!("  signer  {HOSTILE_CN_SHOWN} (SHA-256)")), "{out}");
    // The chain line is the RFC 4514 subject, whose own escaping already covers C0.
    assert!(out.contains("  chain   CN=Evil\\1b[2J\\1b[1\\;1Hsignature OK\\u{202e}gpj  (SHA-256"), "{out}");
    // Refused: the error that names the signer is escaped too.
    std::fs::create_dir(env.path("other")).unwrap();
    env.ok(&["--ca-dir", "other", "ca", "init", "--key", "p256", "--cn", "Other CA"]);
    let err = env.fails(&["verify", "f", "--trust", "other/ca.crt"]);
    assert!(raw_free(&err), "{err:?}");
    assert!(err.contains(&format!("signer \"{HOSTILE_CN_SHOWN}\" is not trusted")), "{err}");
    let err = env.fails(&["verify", "f", "--trust", "ca.crt", "--signer", "x\x1b[0m"]);
    assert!(raw_free(&err), "{err:?}");
    assert!(
        err.contains(&format!("no signer is named \"x\\x1b[0m\" (signers: {HOSTILE_CN_SHOWN})")),
        "{err}"
    );
    let err = env.fails(&["verify", "f", "--trust", "ca.crt", "--at", "2099-01-01"]);
    assert!(err.contains(&format!("certificate \"{HOSTILE_CN_SHOWN}\" expired on")), "{err}");
    // The other commands that print subjects.
    for args in [
        &["fingerprint", "ca.crt", "codesign.crt"][..],
        &["list"][..],
        &["verify-chain", "codesign.crt", "--trust", "ca.crt", "--purpose", "codesigning"][..],
    ] {
        let out = env.ok(args);
        assert!(raw_free(&out) && out.contains("Evil"), "{args:?}: {out:?}");
    }
}
