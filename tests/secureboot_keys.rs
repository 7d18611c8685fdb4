//! `bootsign secureboot keys`: PK, KEK and db as efitools and virt-fw-vars take them.
//! The signature lists are byte-identical to `cert-to-efi-sig-list`'s, the signed
//! updates hold exactly what `sign-efi-sig-list` signs, and OpenSSL verifies their
//! signatures; virt-fw-vars enrols the certificates into an OVMF variable store.

mod common;

use std::process::Command;

use common::*;

const OWNER: &str = "4d1e5c3b-2a09-4f87-9e6d-5c4b3a291807";

fn run_tool(env: &Env, name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .current_dir(env.path(""))
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{name} {args:?}: {text}");
    text
}

#[test]
fn keys_come_in_every_form_enrolment_takes() {
    let env = Env::new();
    let out = env.run(&["secureboot", "keys", "-o", "sb", "--owner", OWNER, "--name", "Rack 7"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "--set-pk {OWNER} sb/PK.crt --add-kek {OWNER} sb/KEK.crt --add-db {OWNER} sb/db.crt"
        )),
        "{said}"
    );
    assert!(said.contains("bootsign build ... --sb-key sb/db.key --sb-cert sb/db.crt"), "{said}");
    for n in ["PK", "KEK", "db"] {
        assert_eq!(env.mode(&format!("sb/{n}.key")), 0o600, "{n}.key");
        let subject = env.openssl_ok(&["x509", "-in", &format!("sb/{n}.crt"), "-noout", "-subject"]);
        assert_eq!(subject.trim(), format!("subject=CN = Rack 7 {n}"));
        // The key belongs to the certificate.
        let a = env.openssl_ok(&["pkey", "-in", &format!("sb/{n}.key"), "-pubout"]);
        let b = env.openssl_ok(&["x509", "-in", &format!("sb/{n}.crt"), "-noout", "-pubkey"]);
        assert_eq!(a, b);
        // The signature list, as efitools makes it from the certificate.
        run_tool(
            &env,
            "cert-to-efi-sig-list",
            &["-g", OWNER, &format!("sb/{n}.crt"), &format!("{n}.ref.esl")],
        );
        assert_eq!(env.read(&format!("sb/{n}.esl")), env.read(&format!("{n}.ref.esl")), "{n}.esl");
        // The signed update: the same payload sign-efi-sig-list signs at that timestamp,
        // a signature OpenSSL verifies by the right key (PK for PK and KEK, KEK for db).
        let auth = env.read(&format!("sb/{n}.auth"));
        let stamp = auth_timestamp(&auth);
        run_tool(
            &env,
            "sign-efi-sig-list",
            &["-o", "-t", &stamp, "-g", OWNER, n, &format!("sb/{n}.esl"), "payload"],
        );
        let len = u32::from_le_bytes(auth[16..20].try_into().unwrap()) as usize;
        assert_eq!(&auth[20..24], [0x00, 0x02, 0xf1, 0x0e], "WIN_CERTIFICATE_UEFI_GUID, revision 2.0");
        let signature = &auth[40..16 + len];
        assert_eq!(&auth[16 + len..], env.read(&format!("sb/{n}.esl")), "the new contents follow");
        assert_eq!(auth_signature_cms(&auth)[..], signed_data_as_cms(signature)[..]);
        env.write("sig.der", signed_data_as_cms(signature));
        let signer = if n == "db" { "sb/KEK.crt" } else { "sb/PK.crt" };
        let out = env.openssl_cms_verify_with("sig.der", "payload", signer);
        assert!(out.status.success(), "{n}.auth: {}", String::from_utf8_lossy(&out.stderr));
        let wrong = if n == "db" { "sb/PK.crt" } else { "sb/KEK.crt" };
        let out = env.openssl_cms_verify_with("sig.der", "payload", wrong);
        assert!(!out.status.success(), "{n}.auth also verifies by {wrong}");
    }
    // db signs images that verify against it.
    env.write("unsigned.efi", bootsign::cmd::build::efi_image(&Default::default()).unwrap());
    env.ok(&["sign", "--authenticode", "--cert", "sb/db.crt", "--key", "sb/db.key", "unsigned.efi"]);
    env.ok(&["verify", "--authenticode", "unsigned.efi.signed", "--trust", "sb/db.crt"]);
    run_tool(&env, "sbverify", &["--cert", "sb/db.crt", "unsigned.efi.signed"]);
    // virt-fw-vars takes the certificates into an OVMF variable store with Secure Boot on.
    run_tool(
        &env,
        "virt-fw-vars",
        &[
            "-i",
            "/usr/share/OVMF/OVMF_VARS_4M.fd",
            "-o",
            "vars.fd",
            "--secure-boot",
            "--set-pk",
            OWNER,
            "sb/PK.crt",
            "--add-kek",
            OWNER,
            "sb/KEK.crt",
            "--add-db",
            OWNER,
            "sb/db.crt",
        ],
    );
    let printed = run_tool(&env, "virt-fw-vars", &["-i", "vars.fd", "--print", "--verbose"]);
    for n in ["PK", "KEK", "db"] {
        assert!(printed.contains(&format!("subject CN=Rack 7 {n}")), "{printed}");
    }
    assert!(printed.contains("name=SecureBootEnable") && printed.contains("bool: ON"), "{printed}");
    // Again without --force: refused, nothing changed.
    let before = env.snapshot();
    let err = env.fails(&["secureboot", "keys", "-o", "sb"]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(env.snapshot(), before);
    let err = env.fails(&["secureboot", "keys", "-o", "other", "--owner", "not-a-guid"]);
    assert!(err.contains("--owner 'not-a-guid' is not a GUID"), "{err}");
    let err = env.fails(&["secureboot", "keys", "-o", "other", "--key", "p256"]);
    assert!(err.contains("UEFI Secure Boot keys are RSA"), "{err}");
}
