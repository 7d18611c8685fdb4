//! Keys in PKCS#11 tokens, against SoftHSM2 (a fresh token per test, in its own
//! configuration directory) and the other tools that sign with token keys: a signature
//! from a token key is the one `openssl cms -sign` makes through pkcs11-provider with the
//! same key (RSA, byte for byte) and the one the key's file makes; ECDSA ones verify with
//! `openssl cms -verify`; an Authenticode signature by a token key satisfies `sbverify`.
//! And the errors: no module, no such module, no such token, a wrong PIN (tried once),
//! no such key, a key that does not match the certificate, a bad URI.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::*;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PROVIDER: &str = "/usr/lib/x86_64-linux-gnu/ossl-modules/pkcs11.so";

/// A CA directory and a SoftHSM2 token "bootsign" (user PIN 1234) of its own.
struct Token {
    env: Env,
    conf: PathBuf,
}

impl Token {
    fn new() -> Self {
        let env = Env::new();
        std::fs::create_dir_all(env.path("tokens")).unwrap();
        let conf = env.path("softhsm2.conf");
        std::fs::write(
            &conf,
            format!("directories.tokendir = {}\nobjectstore.backend = file\n", env.path("tokens").display()),
        )
        .unwrap();
        let token = Self { env, conf };
        token.tool(
            "softhsm2-util",
            &["--init-token", "--free", "--label", "bootsign", "--pin", "1234", "--so-pin", "5678"],
        );
        token
    }

    fn with_conf(&self, mut c: Command) -> Command {
        c.env("SOFTHSM2_CONF", &self.conf).env_remove("BOOTSIGN_PKCS11_MODULE");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.with_conf(self.env.cmd(args)).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "bootsign {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs bootsign, which must fail with exit 1; its standard error.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "bootsign {args:?} should fail:\n{err}");
        err
    }

    fn tool(&self, name: &str, args: &[&str]) -> String {
        let mut c = Command::new(name);
        c.args(args).current_dir(self.env.path("")).stdin(Stdio::null());
        let out = self.with_conf(c).output().unwrap_or_else(|e| panic!("{name}: {e}"));
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{name} {args:?}:\n{text}");
        text
    }

    /// Puts the key file `key` (PKCS#8 PEM) into the token as `label`, with ID `id`,
    /// as an administrator would import an existing key.
    fn import(&self, key: &str, label: &str, id: &str) {
        self.tool(
            "softhsm2-util",
            &["--import", key, "--token", "bootsign", "--label", label, "--id", id, "--pin", "1234"],
        );
    }

    /// `openssl cms -sign` through pkcs11-provider (its no-deinit quirk: SoftHSM2's
    /// C_Finalize crashes in OpenSSL's teardown otherwise), with the token key `uri`.
    fn openssl_cms_sign(&self, input: &str, cert: &str, uri: &str, out: &str) {
        let conf = self.env.path("openssl-pkcs11.cnf");
        std::fs::write(
            &conf,
            format!(
                "openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n[provider_sect]\n\
                 default = default_sect\npkcs11 = pkcs11_sect\n[default_sect]\nactivate = 1\n[pkcs11_sect]\n\
                 module = {PROVIDER}\npkcs11-module-path = {MODULE}\npkcs11-module-quirks = no-deinit\nactivate = 1\n"
            ),
        )
        .unwrap();
        let mut c = Command::new("openssl");
        c.args(["cms", "-sign", "-binary", "-noattr", "-md", "sha256", "-inkey", uri, "-signer", cert])
            .args(["-certfile", "ca.crt", "-in", input, "-outform", "DER", "-out", out])
            .env("OPENSSL_CONF", &conf)
            .current_dir(self.env.path(""));
        let out = self.with_conf(c).output().unwrap();
        assert!(out.status.success(), "openssl cms -sign: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// A token with a CA directory beside it and a code-signing key of `kind` (certificate
/// codesign.crt) imported into the token as "codesign", ID 01.
fn token_with_codesigning(kind: &str) -> Token {
    let t = Token::new();
    t.ok(&["ca", "init", "--cn", "Token CA"]);
    t.ok(&["issue", "--codesigning", "--key", kind]);
    t.import("codesign.key", "codesign", "01");
    t
}

/// Builds NAME.efi signed for Secure Boot with `key` and `cert` (bootsign's --sb-key and
/// --sb-cert), which sbverify must accept by `trust`.
fn build_signed_efi(t: &Token, name: &str, key: &str, cert: &str, trust: &str) {
    t.ok(&["build", "--no-config", "--efi", "--sb-key", key, "--sb-cert", cert, "--output-name", name]);
    let out = t.tool("sbverify", &["--cert", trust, &format!("{name}.efi")]);
    assert!(out.contains("Signature verification OK"), "{out}");
}

/// A token key's URI with the module and PIN in it.
fn uri(path: &str) -> String {
    format!("pkcs11:token=bootsign;{path}?pin-value=1234&module-path={MODULE}")
}

#[test]
fn a_token_rsa_key_signs_as_openssl_does_through_pkcs11_provider() {
    let t = token_with_codesigning("rsa2048");
    t.env.write("vmlinuz", vec![0x5a; 300_000]);
    // By label, and by ID.
    t.ok(&["sign", "--key", &uri("object=codesign"), "vmlinuz", "-o", "token.sig"]);
    t.ok(&["sign", "--key", &uri("id=%01;type=private"), "vmlinuz", "-o", "token-id.sig"]);
    t.ok(&["sign", "vmlinuz", "-o", "file.sig"]);
    t.openssl_cms_sign(
        "vmlinuz",
        "codesign.crt",
        "pkcs11:token=bootsign;object=codesign;type=private?pin-value=1234",
        "openssl.sig",
    );
    let token = t.env.read("token.sig");
    assert_eq!(token, t.env.read("openssl.sig"), "bootsign and openssl through pkcs11-provider");
    assert_eq!(token, t.env.read("token-id.sig"));
    assert_eq!(token, t.env.read("file.sig"), "the token key and its file sign alike");
    t.env.openssl_cms_verify("token.sig", "vmlinuz");
    let out = t.ok(&["verify", "vmlinuz", "--sig", "token.sig", "--trust", "ca.crt"]);
    assert!(out.starts_with("vmlinuz: signature OK\n"), "{out}");
}

#[test]
fn token_ec_keys_sign_what_openssl_verifies() {
    let t = Token::new();
    t.ok(&["ca", "init", "--cn", "Token CA", "--key", "p384"]);
    for (kind, id) in [("p256", "02"), ("p384", "03")] {
        t.ok(&[
            "issue",
            "--codesigning",
            "--key",
            kind,
            "--cn",
            &format!("signer {kind}"),
            "-o",
            kind,
            "--force",
        ]);
        t.import(&format!("{kind}.key"), kind, id);
        t.env.write("initrd.img", vec![7u8; 100_000]);
        let cert = format!("{kind}.crt");
        t.ok(&["sign", "--key", &uri(&format!("object={kind}")), "--cert", &cert, "initrd.img", "--force"]);
        t.env.openssl_cms_verify("initrd.img.sig", "initrd.img");
        let out = t.ok(&["verify", "initrd.img", "--trust", "ca.crt"]);
        assert!(out.contains(&format!("signer  signer {kind}")), "{out}");
    }
}

#[test]
fn an_authenticode_signature_by_a_token_key_satisfies_sbverify() {
    let t = Token::new();
    t.ok(&["ca", "init", "--cn", "Token CA"]);
    t.ok(&["issue", "--codesigning", "--key", "rsa2048", "--cn", "db", "-o", "db"]);
    t.import("db.key", "db", "04");
    t.ok(&["build", "--no-config", "--efi", "--output-name", "boot"]);
    t.ok(&["sign", "--authenticode", "--key", &uri("object=db"), "--cert", "db.crt", "boot.efi"]);
    let out = t.tool("sbverify", &["--cert", "ca.crt", "boot.efi.signed"]);
    assert!(out.contains("Signature verification OK"), "{out}");
    // The same bytes as with the key's file.
    t.ok(&["sign", "--authenticode", "--key", "db.key", "--cert", "db.crt", "boot.efi", "-o", "file.efi"]);
    assert_eq!(t.env.read("boot.efi.signed"), t.env.read("file.efi"));
}

#[test]
fn token_errors_say_what_is_wrong() {
    let t = token_with_codesigning("p256");
    t.ok(&["issue", "--codesigning", "--key", "p256", "--cn", "other", "-o", "other"]);
    t.env.write("k", b"kernel");
    let sign = |key: &str| t.fails(&["sign", "--key", key, "k", "--force"]);

    let err = sign("pkcs11:token=bootsign;object=codesign?pin-value=1234");
    assert!(
        err.contains(
            "no PKCS#11 module for pkcs11:token=bootsign;object=codesign: name the token vendor's library"
        ),
        "{err}"
    );
    assert!(!err.contains("1234"), "the PIN is never shown: {err}");
    let err =
        sign("pkcs11:token=bootsign;object=codesign?pin-value=1234&module-path=/nonexistent/libnone.so");
    assert!(err.contains("the PKCS#11 module '/nonexistent/libnone.so' does not exist"), "{err}");
    let err = sign("pkcs11:token=bootsign;object=codesign?pin-value=1234&module-path=/etc/hostname");
    assert!(err.contains("cannot load '/etc/hostname' as a PKCS#11 module"), "{err}");
    let err = sign(&format!("pkcs11:token=nosuch;object=codesign?pin-value=1234&module-path={MODULE}"));
    assert!(err.contains("no token matches pkcs11:token=nosuch;object=codesign?module-path="), "{err}");
    assert!(err.contains("it has 'bootsign' (slot "), "{err}");
    let err = sign(&uri("object=nosuch"));
    assert!(err.contains("the token has no private key pkcs11:token=bootsign;object=nosuch"), "{err}");
    let err = sign(&format!("pkcs11:token=bootsign;object=codesign?pin-value=9999&module-path={MODULE}"));
    assert!(err.contains("wrong PIN for token 'bootsign'") && err.contains("does not retry"), "{err}");
    // Tried once: the right PIN still works (the token counted one failure, no more).
    t.ok(&["sign", "--key", &uri("object=codesign"), "k"]);
    let err = t.fails(&["sign", "--key", &uri("object=codesign"), "--cert", "other.crt", "k", "--force"]);
    assert!(err.contains("does not match the signer certificate 'other.crt'"), "{err}");
    let err = sign(&format!("pkcs11:token=bootsign?pin-value=1234&module-path={MODULE}"));
    assert!(err.contains("names no key: add object=LABEL or id=%HEX"), "{err}");
    // The PIN from a file (--passphrase-file, or pin-source in the URI); none and no terminal.
    t.env.write("pin.txt", "1234\n");
    t.ok(&[
        "sign",
        "--key",
        &format!("pkcs11:token=bootsign;object=codesign?module-path={MODULE}"),
        "--passphrase-file",
        "pin.txt",
        "k",
        "--force",
    ]);
    t.ok(&[
        "sign",
        "--key",
        &format!("pkcs11:token=bootsign;object=codesign?pin-source=file:pin.txt&module-path={MODULE}"),
        "k",
        "--force",
    ]);
    let err = t.fails(&[
        "sign",
        "--key",
        &format!("pkcs11:token=bootsign;object=codesign?module-path={MODULE}"),
        "k",
        "--force",
    ]);
    assert!(
        err.contains(
            "the token 'bootsign' needs its user PIN: give pin-source=FILE in the URI or --pin-file FILE"
        ),
        "{err}"
    );
    // The module from --pkcs11-module or the environment.
    t.ok(&[
        "sign",
        "--pkcs11-module",
        MODULE,
        "--key",
        "pkcs11:token=bootsign;object=codesign?pin-value=1234",
        "k",
        "--force",
    ]);
    let out = t
        .with_conf(t.env.cmd(&["sign", "--key", "pkcs11:object=codesign?pin-value=1234", "k", "--force"]))
        .env("BOOTSIGN_PKCS11_MODULE", MODULE)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A URI that is none: clap's usage error names it.
    let out = t.run(&["sign", "--key", "pkcs11:token=a;token=b?pin-value=S3cret", "k"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("the PKCS#11 URI gives the attribute 'token' more than once"), "{err}");
    assert!(err.contains("pin-value=***") && !err.contains("S3cret"), "the PIN is not repeated: {err}");
}

/// A URI that names a key in the test token and reads the PIN from pin.txt.
fn keyed(path: &str) -> String {
    format!("pkcs11:token=bootsign;{path}?pin-source=pin.txt&module-path={MODULE}")
}

/// The whole CA flow with its keys in the token: the root made there (P-384, never
/// extractable), certificates of each kind issued by it (the code-signing key made in
/// the token too), a cross-certificate, a revocation and a CRL; OpenSSL accepts all of
/// them, and `bootsign sign` finds the code-signing key through codesign.key.uri.
#[test]
fn a_ca_whose_keys_live_in_a_token_issues_cross_signs_and_revokes() {
    let t = Token::new();
    t.env.write("pin.txt", "1234\n");
    let out = t.run(&[
        "ca",
        "init",
        "--cn",
        "Token Root",
        "--key",
        "p384",
        "--key-in",
        &keyed("object=root;id=%01"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Made an ECDSA P-384 key pkcs11:token=bootsign;object=root;id=%01"), "{err}");
    assert!(!t.env.path("ca.key").exists());
    let recorded = String::from_utf8(t.env.read("ca.key.uri")).unwrap();
    let pin_file = t.env.path("pin.txt");
    assert_eq!(
        recorded,
        format!(
            "pkcs11:token=bootsign;object=root;id=%01?pin-source={}&module-path={MODULE}\n",
            pin_file.display()
        )
    );
    let objects = t.tool(
        "pkcs11-tool",
        &["--module", MODULE, "--token-label", "bootsign", "--login", "--pin", "1234", "-O"],
    );
    assert!(objects.contains("never extractable"), "{objects}");

    t.ok(&["issue", "--server", "--cn", "boot.lan"]);
    t.ok(&["issue", "--client", "--cn", "rack7"]);
    let out =
        t.run(&["issue", "--codesigning", "--key", "p256", "--key-in", &keyed("object=codesign;id=%02")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!t.env.path("codesign.key").exists() && t.env.path("codesign.key.uri").exists());
    std::fs::create_dir(t.env.path("other")).unwrap();
    t.ok(&["--ca-dir", "other", "ca", "init", "--cn", "Other Root", "--key", "p256"]);
    t.ok(&["cross-sign", "other/ca.crt", "-o", "cross.crt"]);
    let out = t.env.openssl_ok(&[
        "verify",
        "-CAfile",
        "ca.crt",
        "server.crt",
        "client.crt",
        "codesign.crt",
        "cross.crt",
    ]);
    assert_eq!(out.matches(": OK").count(), 4, "{out}");

    t.ok(&["revoke", "01", "--reason", "keyCompromise"]);
    t.ok(&["crl"]);
    let out = t.env.openssl(&["crl", "-in", "ca.crl", "-CAfile", "ca.crt", "-noout", "-text"]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success() && text.contains("verify OK") && text.contains("Serial Number: 01"),
        "{text}"
    );

    // `sign` finds the token's code-signing key through codesign.key.uri.
    t.env.write("vmlinuz", vec![1u8; 50_000]);
    t.ok(&["sign", "vmlinuz"]);
    t.env.openssl_cms_verify("vmlinuz.sig", "vmlinuz");

    // A key file beside the URI: which is the CA's? Refused.
    t.env.write("ca.key", "not used");
    let err = t.fails(&["issue", "--server", "--cn", "x.lan", "-o", "x"]);
    assert!(err.contains("both 'ca.key' and 'ca.key.uri' exist"), "{err}");
    std::fs::remove_file(t.env.path("ca.key")).unwrap();
    // A root re-made over a token CA does not delete the token's key file record silently.
    let err = t.fails(&["ca", "init", "--force", "--cn", "File Root"]);
    assert!(
        err.contains("holds the current CA's key './ca.key.uri'")
            || err.contains("holds the current CA's key 'ca.key.uri'"),
        "{err}"
    );
    // A key to be made needs both its label and ID.
    let err = t.fails(&["issue", "--client", "-o", "y", "--key-in", &keyed("object=nolabel")]);
    assert!(err.contains("to make one there, name it by both object=LABEL and id=%HEX"), "{err}");
}

/// The firmware image signed for Secure Boot with a db key in the token (`build
/// --sb-key pkcs11:...`), as sbverify checks it; and, in QEMU under OVMF, the firmware
/// verifying and booting a kernel and initrd signed by a token key.
#[test]
fn token_keys_sign_the_firmware_and_the_kernel_it_boots() {
    let t = Token::new();
    t.env.write("pin.txt", "1234\n");
    t.ok(&["ca", "init", "--cn", "Boot Root", "--key", "p256", "--key-in", &keyed("object=root;id=%01")]);
    t.ok(&["issue", "--codesigning", "--key", "rsa2048", "--key-in", &keyed("object=codesign;id=%02")]);
    t.ok(&[
        "issue",
        "--codesigning",
        "--key",
        "rsa2048",
        "--cn",
        "db",
        "-o",
        "db",
        "--key-in",
        &keyed("object=db;id=%03"),
    ]);
    build_signed_efi(&t, "signed", &keyed("object=db"), "db.crt", "ca.crt");

    let www = t.env.path("www");
    std::fs::create_dir_all(&www).unwrap();
    for f in ["vmlinuz", "initrd.img"] {
        std::fs::copy(fixtures().join(f), www.join(f)).unwrap();
        t.ok(&["sign", &format!("www/{f}")]);
    }
    let server = common::http::FileServer::start(www, 0);
    t.env.write(
        "boot.ipxe",
        format!("#!ipxe\n{}", boot_lines(&format!("http://${{next-server}}:{}", server.port))),
    );
    t.ok(&[
        "build",
        "--no-config",
        "--efi",
        "--trust",
        "ca.crt",
        "--embed",
        "boot.ipxe",
        "--output-name",
        "boot",
    ]);
    let mut q = common::qemu::Qemu::boot_efi(&t.env.path("boot.efi"), "");
    q.wait_for(&["BOOTSIGN-INITRAMFS-OK", "nothing was booted"], std::time::Duration::from_secs(240));
    let out = q.output();
    assert!(out.contains("vmlinuz: signature verified (signed by bootsign code signing"), "{out}");
    assert!(out.contains("initrd.img: signature verified"), "{out}");
    assert!(out.contains("BOOTSIGN-INITRAMFS-OK"), "{out}");
}

/// `secureboot keys --key-in`: PK, KEK and db made in the token (found there again on a
/// second run), NAME.key.uri beside the certificates, the signed updates verifying by the
/// token's keys, and `build --sb-key sb/db.key` signing with the token's db key.
#[test]
fn secure_boot_keys_in_a_token() {
    let t = Token::new();
    t.env.write("pin.txt", "1234\n");
    let token = format!("pkcs11:token=bootsign?pin-source=pin.txt&module-path={MODULE}");
    let owner = "4d1e5c3b-2a09-4f87-9e6d-5c4b3a291807";
    let out = t.run(&["secureboot", "keys", "-o", "sb", "--owner", owner, "--key-in", &token]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert_eq!(
        said.matches("Made an RSA 2048 key pkcs11:token=bootsign;object=bootsign%20").count(),
        3,
        "{said}"
    );
    for n in ["PK", "KEK", "db"] {
        assert!(!t.env.path(&format!("sb/{n}.key")).exists(), "{n}.key");
        let uri = String::from_utf8(t.env.read(&format!("sb/{n}.key.uri"))).unwrap();
        assert!(uri.starts_with(&format!("pkcs11:token=bootsign;object=bootsign%20{n};id=%")), "{uri}");
        // Each update verifies by its signer's certificate (PK for PK and KEK, KEK for db)
        // over what sign-efi-sig-list signs, and not by the other.
        let auth = t.env.read(&format!("sb/{n}.auth"));
        let esl = format!("sb/{n}.esl");
        t.tool("sign-efi-sig-list", &["-o", "-t", &auth_timestamp(&auth), "-g", owner, n, &esl, "payload"]);
        t.env.write("sig.der", auth_signature_cms(&auth));
        let verify = |ca: &str| t.env.openssl_cms_verify_with("sig.der", "payload", ca);
        let (right, wrong) =
            if n == "db" { ("sb/KEK.crt", "sb/PK.crt") } else { ("sb/PK.crt", "sb/KEK.crt") };
        let out = verify(right);
        assert!(out.status.success(), "{n}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!verify(wrong).status.success(), "{n}.auth also verifies by {wrong}");
    }
    // Again: the token's keys are found and used, the same public keys certified.
    let before = t.env.openssl_ok(&["x509", "-in", "sb/db.crt", "-noout", "-pubkey"]);
    let out = t.run(&["secureboot", "keys", "-o", "sb", "--force", "--key-in", &token]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.matches("Using the token's RSA 2048 key").count() == 3, "{said}");
    assert_eq!(t.env.openssl_ok(&["x509", "-in", "sb/db.crt", "-noout", "-pubkey"]), before);
    // The db key signs the firmware through its .uri record.
    build_signed_efi(&t, "sb", "sb/db.key", "sb/db.crt", "sb/db.crt");
    // The other way: sbsign, through OpenSSL's pkcs11 engine, signs with the db key
    // bootsign made in the token, and bootsign's verifier accepts it.
    t.ok(&["build", "--no-config", "--efi", "--output-name", "plain"]);
    let recorded = String::from_utf8(t.env.read("sb/db.key.uri")).unwrap();
    let path = recorded.trim().split('?').next().unwrap();
    let key = format!("{path};type=private?pin-value=1234");
    t.tool(
        "sbsign",
        &["--engine", "pkcs11", "--key", &key, "--cert", "sb/db.crt", "--output", "sbsign.efi", "plain.efi"],
    );
    let out = t.ok(&["verify", "--authenticode", "sbsign.efi", "--trust", "sb/db.crt"]);
    assert!(out.contains("Authenticode signature 1 OK") && out.contains("signer  bootsign db"), "{out}");
}

/// A token without the mechanism a key signs with: refused before anything is signed,
/// with the mechanism named. SoftHSM2 has them all, so the module is SoftHSM2 behind a
/// small shim (tests/pkcs11/hide_mechanism.c, built here) that leaves one out of its list.
#[test]
fn a_token_that_lacks_the_signing_mechanism_is_refused() {
    let t = Token::new();
    t.ok(&["ca", "init", "--cn", "Token CA"]);
    t.ok(&["issue", "--codesigning", "--key", "rsa2048"]);
    t.ok(&["issue", "--codesigning", "--key", "p256", "--cn", "ec", "-o", "ec"]);
    t.import("codesign.key", "rsa", "01");
    t.import("ec.key", "ec", "02");
    let shim = t.env.path("hide_mechanism.so");
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pkcs11/hide_mechanism.c");
    let out = Command::new("gcc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&shim)
        .arg(&src)
        .arg("-ldl")
        .output()
        .unwrap();
    assert!(out.status.success(), "gcc: {}", String::from_utf8_lossy(&out.stderr));
    t.env.write("k", b"kernel");
    let key = |object: &str| {
        format!("pkcs11:token=bootsign;object={object}?pin-value=1234&module-path={}", shim.display())
    };
    let sign = |object: &str, cert: &str, hide: &str| {
        let mut c = t.with_conf(t.env.cmd(&["sign", "--key", &key(object), "--cert", cert, "k", "--force"]));
        c.env("PKCS11_SHIM_HIDE", hide).output().unwrap()
    };
    // Through the shim, hiding nothing, both sign.
    assert!(sign("rsa", "codesign.crt", "0").status.success());
    assert!(sign("ec", "ec.crt", "0").status.success());
    for (object, cert, hide, name) in
        [("rsa", "codesign.crt", "0x1", "CKM_RSA_PKCS"), ("ec", "ec.crt", "0x1041", "CKM_ECDSA")]
    {
        let out = sign(object, cert, hide);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!("the token cannot sign with pkcs11:token=bootsign;object={object}")),
            "{err}"
        );
        assert!(err.contains(&format!("it lacks the {name} mechanism")), "{err}");
    }
}

/// Nothing half-made: when `ca init --key-in` cannot write the CA (here `ca.crt` is a
/// directory), the key pair it made in the token is taken out again.
#[test]
fn a_failed_ca_init_leaves_no_key_in_the_token() {
    let t = Token::new();
    t.env.write("pin.txt", "1234\n");
    std::fs::create_dir_all(t.env.path("ca.crt/in-the-way")).unwrap();
    let err = t.fails(&[
        "ca",
        "init",
        "--force",
        "--cn",
        "Root",
        "--key",
        "p256",
        "--key-in",
        &keyed("object=root;id=%01"),
    ]);
    assert!(err.contains("ca.crt"), "{err}");
    let objects = t.tool(
        "pkcs11-tool",
        &["--module", MODULE, "--token-label", "bootsign", "--login", "--pin", "1234", "-O"],
    );
    assert!(!objects.contains("root"), "the made key stayed:\n{objects}");
    assert!(!t.env.path("ca.key.uri").exists());
    // The same with the way clear: the key is made, and stays.
    std::fs::remove_dir_all(t.env.path("ca.crt")).unwrap();
    t.ok(&["ca", "init", "--cn", "Root", "--key", "p256", "--key-in", &keyed("object=root;id=%01")]);
    let objects = t.tool(
        "pkcs11-tool",
        &["--module", MODULE, "--token-label", "bootsign", "--login", "--pin", "1234", "-O"],
    );
    assert!(objects.contains("label:      root"), "{objects}");
}

/// Without a PIN in the URI or a file, it is asked on the terminal (here a pseudo-terminal
/// from util-linux's `script`), once.
#[test]
fn the_pin_is_asked_on_the_terminal() {
    use std::io::Write;
    let t = token_with_codesigning("p256");
    t.env.write("k", b"kernel");
    let command = format!(
        "{} sign --key 'pkcs11:token=bootsign;object=codesign?module-path={MODULE}' k",
        env!("CARGO_BIN_EXE_bootsign")
    );
    let mut c = Command::new("script");
    c.args(["-qec", &command, "/dev/null"])
        .current_dir(t.env.path(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = t.with_conf(c).spawn().unwrap();
    // The PIN goes in once the prompt is there.
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("PIN for token") {
        let n = std::io::Read::read(&mut stdout, &mut buf).unwrap();
        assert!(n > 0, "no prompt: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    child.stdin.take().unwrap().write_all(b"1234\n").unwrap();
    std::io::Read::read_to_end(&mut stdout, &mut seen).unwrap();
    let status = child.wait().unwrap();
    let text = String::from_utf8_lossy(&seen);
    assert!(status.success(), "{text}");
    assert!(text.contains("PIN for token 'bootsign': "), "{text}");
    t.env.openssl_cms_verify("k.sig", "k");
}

/// Public objects need no PIN to be made: a public key planted beside a token key (with
/// its ID and label) must not become the key's public half. bootsign takes only a public
/// key the private key signs for, so nothing is signed or issued for the planted one.
#[test]
fn a_planted_public_key_is_not_taken_for_the_keys() {
    let t = Token::new();
    t.ok(&["ca", "init", "--cn", "Token CA"]);
    t.ok(&["issue", "--codesigning", "--key", "p256"]);
    t.ok(&["issue", "--codesigning", "--key", "p256", "--cn", "planted", "-o", "planted"]);
    t.import("codesign.key", "codesign", "01");
    // Without logging in: the real public key out, the planted one in, same ID and label.
    let planted = t.env.openssl_ok(&["pkey", "-in", "planted.key", "-pubout"]);
    t.env.write("planted.pub.pem", planted);
    t.env.openssl_ok(&[
        "pkey",
        "-pubin",
        "-in",
        "planted.pub.pem",
        "-outform",
        "DER",
        "-out",
        "planted.pub.der",
    ]);
    t.tool(
        "pkcs11-tool",
        &[
            "--module",
            MODULE,
            "--token-label",
            "bootsign",
            "--delete-object",
            "--type",
            "pubkey",
            "--id",
            "01",
        ],
    );
    t.tool(
        "pkcs11-tool",
        &[
            "--module",
            MODULE,
            "--token-label",
            "bootsign",
            "--write-object",
            "planted.pub.der",
            "--type",
            "pubkey",
            "--id",
            "01",
            "--label",
            "codesign",
        ],
    );
    t.env.write("k", b"kernel");
    let err = t.fails(&["sign", "--key", &uri("object=codesign"), "--cert", "planted.crt", "k"]);
    assert!(
        err.contains(
            "none of the 1 public key(s) and certificate(s) beside pkcs11:token=bootsign;object=codesign"
        ),
        "{err}"
    );
    assert!(!t.env.path("k.sig").exists());
    let err = t.fails(&["issue", "--client", "-o", "stolen", "--key-in", &uri("object=codesign;id=%01")]);
    assert!(err.contains("belongs to it"), "{err}");
    assert!(!t.env.path("stolen.crt").exists());
}

/// One --passphrase-file is a key file's passphrase or a token's PIN in a command, never
/// both (the passphrase would go to the token as a wrong PIN); --pin-file is the PIN's.
#[test]
fn the_pin_and_a_key_passphrase_come_from_different_files() {
    let t = Token::new();
    t.env.write("pass.txt", "correct horse\n");
    t.env.write("pin.txt", "1234\n");
    t.ok(&["ca", "init", "--cn", "Token CA", "--encrypt", "--passphrase-file", "pass.txt"]);
    let key = format!("pkcs11:token=bootsign;object=cs;id=%05?module-path={MODULE}");
    let err = t.fails(&["issue", "--codesigning", "--passphrase-file", "pass.txt", "--key-in", &key]);
    assert!(err.contains("--passphrase-file already gave the passphrase of a key file in this command: give the PIN with --pin-file FILE"), "{err}");
    let objects = t.tool(
        "pkcs11-tool",
        &["--module", MODULE, "--token-label", "bootsign", "--login", "--pin", "1234", "-O"],
    );
    assert!(!objects.contains("label:      cs"), "no key made: {objects}");
    t.ok(&[
        "issue",
        "--codesigning",
        "--passphrase-file",
        "pass.txt",
        "--pin-file",
        "pin.txt",
        "--key-in",
        &key,
    ]);
    // The key made for it signs and decrypts nothing else.
    let objects = t.tool(
        "pkcs11-tool",
        &["--module", MODULE, "--token-label", "bootsign", "--login", "--pin", "1234", "-O"],
    );
    let private = objects.split("Private Key Object").nth(1).unwrap_or("");
    let usage = private.lines().find(|l| l.trim_start().starts_with("Usage:")).unwrap_or("");
    assert_eq!(usage.trim(), "Usage:      sign", "{objects}");
}
