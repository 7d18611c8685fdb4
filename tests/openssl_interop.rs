//! Interop with the OpenSSL recipe and tools in both directions: a recipe-made CA used
//! by bootsign and back, a real TLS handshake with the issued certificates, a
//! cross-signed root, and fingerprints.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A CA made exactly as the OpenSSL recipe makes it.
fn recipe_ca(env: &Env) {
    env.openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "3650",
        "-subj",
        "/CN=Recipe CA",
    ]);
    env.write("serial", "01\n");
    env.write("ca.idx", "");
    std::fs::create_dir(env.path("signed")).unwrap();
    env.write_recipe_cnf();
}

fn openssl_ca_issue(env: &Env, name: &str, extensions: Option<&str>) {
    env.openssl_ok(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &format!("{name}.key"),
        "-out",
        &format!("{name}.req"),
        "-subj",
        &format!("/CN={name}"),
    ]);
    let req = format!("{name}.req");
    let crt = format!("{name}.crt");
    let mut args = vec!["ca", "-batch", "-config", "ca.cnf", "-in", req.as_str(), "-out", crt.as_str()];
    if let Some(ext) = extensions {
        args.extend(["-extensions", ext]);
    }
    env.openssl_ok(&args);
}

fn serials_in_index(env: &Env) -> Vec<String> {
    String::from_utf8(env.read("ca.idx"))
        .unwrap()
        .lines()
        .map(|l| l.split('\t').nth(3).unwrap().to_string())
        .collect()
}

#[test]
fn recipe_ca_works_with_bootsign_and_openssl_continues() {
    let env = Env::new();
    recipe_ca(&env);
    openssl_ca_issue(&env, "old-server", None);
    env.ok(&["issue", "--codesigning"]);
    env.ok(&["issue", "--server", "--cn", "new.example", "--key", "p256"]);
    openssl_ca_issue(&env, "later", Some("codesigning"));
    assert_eq!(serials_in_index(&env), ["01", "02", "03", "04"]);
    assert_eq!(env.read("serial"), b"05\n");
    for f in ["old-server.crt", "codesign.crt", "server.crt", "later.crt"] {
        env.openssl_ok(&["verify", "-CAfile", "ca.crt", f]);
    }
    for s in ["01", "02", "03", "04"] {
        assert!(env.path(&format!("signed/{s}.pem")).exists(), "signed/{s}.pem");
        let status = env.openssl(&["ca", "-config", "ca.cnf", "-status", s]);
        assert!(String::from_utf8_lossy(&status.stderr).contains(&format!("{s}=Valid (V)")), "{status:?}");
    }
    let kinds: Vec<[String; 2]> =
        list_rows(&env.ok(&["list"])).into_iter().map(|r| [r[3].clone(), r[4].clone()]).collect();
    assert_eq!(
        kinds,
        [
            ["any".to_string(), "/CN=old-server".to_string()],
            ["codesigning".into(), "/CN=bootsign code signing".into()],
            ["server".into(), "/CN=new.example".into()],
            ["codesigning".into(), "/CN=later".into()]
        ]
    );
    // bootsign's certificates and OpenSSL's name the issuer identically.
    let a = env.openssl_ok(&["x509", "-in", "codesign.crt", "-noout", "-issuer"]);
    let b = env.openssl_ok(&["x509", "-in", "old-server.crt", "-noout", "-issuer"]);
    assert_eq!(a, b);
}

#[test]
fn recipe_ca_with_encrypted_key() {
    let env = Env::new();
    env.write("pass.txt", "recipe-pass\n");
    env.openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-passout",
        "file:pass.txt",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "3650",
        "-subj",
        "/CN=Encrypted Recipe CA",
    ]);
    env.write("serial", "01\n");
    env.write("ca.idx", "");
    let err = env.fails(&["issue", "--codesigning"]);
    assert!(
        err.contains("'ca.key' is encrypted and no passphrase was given: use --passphrase-file"),
        "{err}"
    );
    env.ok(&["--passphrase-file", "pass.txt", "issue", "--codesigning"]);
    env.openssl_ok(&["verify", "-CAfile", "ca.crt", "codesign.crt"]);
}

#[test]
fn bootsign_ca_continues_with_openssl_ca() {
    let env = Env::new();
    env.ok(&["ca", "init", "--cn", "bootsign made"]);
    env.write_recipe_cnf();
    env.ok(&["issue", "--server", "--cn", "first.example"]);
    openssl_ca_issue(&env, "by-openssl", Some("codesigning"));
    env.ok(&["issue", "--client", "--cn", "third"]);
    assert_eq!(serials_in_index(&env), ["01", "02", "03"]);
    env.openssl_ok(&["verify", "-CAfile", "ca.crt", "by-openssl.crt"]);
    let serial = env.openssl_ok(&["x509", "-in", "client.crt", "-noout", "-serial"]);
    assert_eq!(serial.trim(), "serial=03");
    // `openssl ca -updatedb` parses every line bootsign wrote.
    env.openssl_ok(&["ca", "-config", "ca.cnf", "-updatedb"]);
    assert_eq!(serials_in_index(&env), ["01", "02", "03"]);
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn tls_handshake_with_issued_server_and_client_certificates() {
    let env = Env::new();
    env.ok(&["ca", "init"]);
    env.ok(&["issue", "--server", "--cn", "boot.example.lan", "--san", "127.0.0.1"]);
    env.ok(&["issue", "--client", "--cn", "node1", "--key", "p256"]);

    let port = free_port();
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
            "server.crt",
            "-key",
            "server.key",
        ])
        .args(["-CAfile", "ca.crt", "-Verify", "1", "-verify_return_error", "-naccept", "1"])
        .current_dir(env.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // s_server prints ACCEPT once it listens; a probe connection would use up -naccept.
    let mut reader = BufReader::new(server.stdout.take().unwrap());
    let mut server_out = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server_out.contains("ACCEPT") {
        assert!(Instant::now() < deadline, "s_server did not start: {server_out}");
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            panic!("s_server exited: {server_out}");
        }
        server_out.push_str(&line);
    }
    let mut client = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}"), "-servername", "boot.example.lan"])
        .args(["-CAfile", "ca.crt", "-verify_return_error", "-verify_hostname", "boot.example.lan"])
        .args(["-cert", "client.crt", "-key", "client.key"])
        .current_dir(env.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    client.stdin.take().unwrap().write_all(b"hello from the client\n").unwrap();
    let out = client.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "s_client failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Verify return code: 0 (ok)"), "{stdout}");
    assert!(stdout.contains("Verified peername: boot.example.lan"), "{stdout}");

    let _ = server.stdin.take();
    for line in reader.lines().map_while(Result::ok) {
        server_out.push_str(&line);
        server_out.push('\n');
    }
    let _ = server.kill();
    let _ = server.wait();
    assert!(server_out.contains("hello from the client"), "server saw:\n{server_out}");
    assert!(server_out.contains("subject=CN = node1"), "client certificate not presented:\n{server_out}");
}

#[test]
fn cross_signed_root_leads_to_our_root() {
    let env = Env::new();
    std::fs::create_dir(env.path("ours")).unwrap();
    env.ok(&["--ca-dir", "ours", "ca", "init", "--cn", "Our Root"]);
    // Another organisation's root and a server certificate it issued.
    env.openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "other.key",
        "-out",
        "other.crt",
        "-days",
        "365",
        "-subj",
        "/O=Other/CN=Other Root",
    ]);
    env.openssl_ok(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.req",
        "-subj",
        "/CN=leaf.other",
    ]);
    env.openssl_ok(&[
        "x509",
        "-req",
        "-in",
        "leaf.req",
        "-CA",
        "other.crt",
        "-CAkey",
        "other.key",
        "-out",
        "leaf.crt",
        "-days",
        "30",
    ]);

    let untrusted = env.openssl(&["verify", "-CAfile", "ours/ca.crt", "leaf.crt"]);
    assert!(!untrusted.status.success(), "without the cross-certificate the leaf must not verify");

    env.ok(&["--ca-dir", "ours", "cross-sign", "other.crt", "-o", "other-cross.crt"]);
    env.openssl_ok(&["verify", "-CAfile", "ours/ca.crt", "-untrusted", "other-cross.crt", "leaf.crt"]);

    let (_, cross) = load_cert(&env.path("other-cross.crt"));
    assert_eq!(
        extension_list(&cross),
        [
            (BASIC_CONSTRAINTS.into(), true),
            (KEY_USAGE.into(), true),
            (SUBJECT_KEY_ID.into(), false),
            (AUTHORITY_KEY_ID.into(), false)
        ]
    );
    let text = env.openssl_ok(&["x509", "-in", "other-cross.crt", "-noout", "-text"]);
    assert!(text.contains("CA:TRUE") && text.contains("Certificate Sign, CRL Sign"), "{text}");
    // Subject and key are the other root's, byte for byte; the issuer is ours.
    let subj = |f: &str| env.openssl_ok(&["x509", "-in", f, "-noout", "-subject", "-pubkey"]);
    assert_eq!(subj("other-cross.crt"), subj("other.crt"));
    let issuer = env.openssl_ok(&["x509", "-in", "other-cross.crt", "-noout", "-issuer"]);
    assert_eq!(issuer.trim(), "issuer=CN = Our Root");
    assert!(env.read("ours/ca.idx").starts_with(b"V\t"));
    assert!(env.path("ours/signed/01.pem").exists());
}

#[test]
fn fingerprints_match_openssl() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "rsa2048"]);
    env.ok(&["issue", "--server", "--cn", "ec.example", "--key", "p384"]);
    for f in ["ca.crt", "server.crt"] {
        let ours = env.ok(&["fingerprint", f]);
        let theirs = env.openssl_ok(&["x509", "-in", f, "-noout", "-fingerprint", "-sha256"]);
        assert_eq!(ours, theirs, "{f}");
        let raw = env.ok(&["fingerprint", "--raw", f]);
        let expected: String = theirs.trim().rsplit('=').next().unwrap().replace(':', "").to_lowercase();
        assert_eq!(raw.trim(), expected);
    }
    // DER input, and a bundle holding both.
    env.openssl_ok(&["x509", "-in", "server.crt", "-outform", "DER", "-out", "server.der"]);
    assert_eq!(env.ok(&["fingerprint", "server.der"]), env.ok(&["fingerprint", "server.crt"]));
    let bundle = [env.read("server.crt"), env.read("ca.crt")].concat();
    env.write("bundle.pem", bundle);
    let raw = env.ok(&["fingerprint", "--raw", "bundle.pem"]);
    assert_eq!(raw, env.ok(&["fingerprint", "--raw", "server.crt", "ca.crt"]));
    let labelled = env.ok(&["fingerprint", "bundle.pem"]);
    assert!(labelled.contains("# bundle.pem: /CN=ec.example\nsha256 Fingerprint="), "{labelled}");
    assert_eq!(labelled.lines().filter(|l| l.starts_with("sha256 Fingerprint=")).count(), 2);
}

#[test]
fn traditional_key_formats_from_openssl() {
    // PKCS#1 "RSA PRIVATE KEY" and SEC1 "EC PRIVATE KEY" (with its EC PARAMETERS block).
    for (genkey, label) in [
        (&["genrsa", "-traditional", "-out", "ca.key", "2048"][..], "-----BEGIN RSA PRIVATE KEY-----"),
        (
            &["ecparam", "-name", "prime256v1", "-genkey", "-out", "ca.key"][..],
            "-----BEGIN EC PARAMETERS-----",
        ),
    ] {
        let env = Env::new();
        env.openssl_ok(genkey);
        assert!(String::from_utf8(env.read("ca.key")).unwrap().starts_with(label));
        env.openssl_ok(&[
            "req",
            "-x509",
            "-key",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "30",
            "-subj",
            "/CN=Old CA",
        ]);
        env.write("serial", "01\n");
        env.write("ca.idx", "");
        env.ok(&["issue", "--codesigning", "--key", "p256"]);
        env.openssl_ok(&["verify", "-CAfile", "ca.crt", "codesign.crt"]);
    }
    // The legacy encrypted PEM form is refused with the command that converts it.
    let env = Env::new();
    env.write("pass", "legacy-pass\n");
    env.openssl_ok(&["genrsa", "-traditional", "-aes256", "-passout", "file:pass", "-out", "ca.key", "2048"]);
    env.openssl_ok(&[
        "req",
        "-x509",
        "-key",
        "ca.key",
        "-passin",
        "file:pass",
        "-out",
        "ca.crt",
        "-days",
        "30",
        "-subj",
        "/CN=Old CA",
    ]);
    env.write("serial", "01\n");
    env.write("ca.idx", "");
    let err = env.fails(&["--passphrase-file", "pass", "issue", "--codesigning"]);
    assert!(
        err.contains("legacy OpenSSL PEM encryption") && err.contains("openssl pkey -in ca.key -aes256"),
        "{err}"
    );
}
