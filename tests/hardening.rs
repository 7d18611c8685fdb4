//! The CA and CLI hardening papercuts, each refused (or handled) with its message checked:
//! outputs that are not regular files, stdout output, repeated inputs, names and lifetimes
//! out of range, weak requested keys, empty subjects, umask, CRLF passphrase files, and
//! signatures padded with certificates.

mod common;

use std::process::Command;

use common::*;

fn ca(env: &Env) {
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Hardening CA"]);
}

#[test]
fn outputs_must_be_regular_files_and_stdout_is_one() {
    let env = Env::new();
    ca(&env);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    env.write("a", b"payload a");
    // A device stays a device, --force or not.
    refused(
        &env,
        &["sign", "a", "-o", "/dev/null", "--force"],
        &["refusing to write '/dev/null': it is a device, not a regular file"],
    );
    // A FIFO too.
    let fifo = env.path("a.sig");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // (Not `refused`: its snapshot of the directory would block reading the FIFO.)
    let err = env.fails(&["sign", "a", "--force"]);
    assert!(err.contains("refusing to write 'a.sig': it is a FIFO, not a regular file"), "{err}");
    std::fs::remove_file(&fifo).unwrap();
    // `-o -` writes the signature to standard output.
    let out = env.run(&["sign", "a", "-o", "-"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Signed a -> standard output"));
    env.write("stdout.sig", &out.stdout);
    env.ok(&["verify", "a", "--sig", "stdout.sig", "--trust", "ca.crt"]);
    // The same file twice.
    refused(&env, &["sign", "a", "./a"], &["'./a' is given twice"]);
    // A file where a directory should be, and a directory name for -o.
    env.write("plain", b"x");
    refused(
        &env,
        &["issue", "--client", "--key", "p256", "-o", "plain/c"],
        &["cannot write 'plain/c.crt': 'plain' is not a directory"],
    );
    std::fs::create_dir(env.path("out")).unwrap();
    env.ok(&["issue", "--client", "--key", "p256", "-o", "out/"]);
    assert!(env.path("out/client.crt").exists() && env.path("out/client.key").exists());
    assert!(!env.path("out/.crt").exists());
    // A file name as long as the file system allows is written (the temporary name is short).
    let long = "n".repeat(250);
    env.ok(&["issue", "--client", "--key", "p256", "-o", &long]);
    assert!(env.path(&format!("{long}.key")).exists());
}

#[test]
fn names_lifetimes_keys_and_subjects_out_of_range_are_refused() {
    let env = Env::new();
    ca(&env);
    refused(&env, &["issue", "--client", "--key", "p256", "--cn", ""], &["the common name is empty"]);
    let long = "x".repeat(65);
    refused(
        &env,
        &["issue", "--client", "--key", "p256", "--cn", &long],
        &["is 65 characters long; at most 64 are allowed"],
    );
    refused(
        &env,
        &["issue", "--client", "--key", "p256", "--days", "99999999"],
        &["--days 99999999 would end after 9999-12-31", "days from today"],
    );
    // A serial longer than RFC 5280's 20 octets.
    let serial = env.read("serial");
    env.write("serial", format!("{}\n", "7F".repeat(21)));
    refused(
        &env,
        &["issue", "--client", "--key", "p256", "-o", "big"],
        &["is longer than the 20 octets RFC 5280 allows"],
    );
    env.write("serial", serial);
    // A trailing dot is not part of the name.
    env.ok(&["issue", "--server", "--key", "p256", "--san", "a.lan.", "-o", "dot"]);
    let san = env.openssl_ok(&["x509", "-in", "dot.crt", "-noout", "-ext", "subjectAltName"]);
    assert!(san.contains("DNS:a.lan") && !san.contains("a.lan."), "{san}");
    // More names than a certificate takes.
    let many: Vec<String> = (0..101).map(|i| format!("h{i}.lan")).collect();
    refused(
        &env,
        &["issue", "--server", "--key", "p256", "--san", &many.join(",")],
        &["--san asks for 101 names; a certificate takes at most 100"],
    );
    // A request for a weak RSA key.
    env.openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "rsa:1024",
        "-nodes",
        "-keyout",
        "w.key",
        "-out",
        "w.csr",
        "-subj",
        "/CN=weak.lan",
    ]);
    refused(
        &env,
        &["issue", "--server", "--csr", "w.csr", "-o", "w"],
        &["'w.csr' requests a certificate for a 1024-bit RSA key"],
    );
    // An empty subject: the names are all there is, so subjectAltName is critical.
    env.openssl_ec_csr("e.key", "e.csr", "/", &["subjectAltName=DNS:anon.lan"]);
    env.ok(&["issue", "--server", "--csr", "e.csr", "-o", "e"]);
    let text = env.openssl_ok(&["x509", "-in", "e.crt", "-noout", "-text"]);
    assert!(text.contains("X509v3 Subject Alternative Name: critical"), "{text}");
}

#[test]
fn directories_ignore_the_umask_and_passphrase_files_read_as_openssl_reads_them() {
    let env = Env::new();
    // umask 000: the CA directory stays private and signed/ is not world-writable.
    let with_umask_000 = |args: &[&str]| {
        let out = Command::new("sh")
            .current_dir(env.path(""))
            .args(["-c", "umask 000 && exec \"$0\" \"$@\""])
            .arg(env!("CARGO_BIN_EXE_bootsign"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    with_umask_000(&["--ca-dir", "ca", "ca", "init", "--key", "p256"]);
    with_umask_000(&["--ca-dir", "ca", "issue", "--client", "--key", "p256"]);
    assert_eq!(env.mode("ca") & 0o777, 0o700);
    assert_eq!(env.mode("ca/signed") & 0o777, 0o755);
    assert_eq!(env.mode("ca/ca.key") & 0o777, 0o600);
    assert_eq!(env.mode("ca/client.key") & 0o777, 0o600);

    // A CRLF passphrase file: the CR is part of the passphrase, for OpenSSL and bootsign.
    env.write("pass", b"s3cret-pass\r\n");
    let out = env.run(&[
        "--ca-dir",
        "enc",
        "--passphrase-file",
        "pass",
        "ca",
        "init",
        "--key",
        "p256",
        "--encrypt",
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("ends with a carriage return (a CRLF line end); it is part of the passphrase"),
        "{said}"
    );
    env.openssl_ok(&["pkey", "-in", "enc/ca.key", "-passin", "file:pass", "-noout"]);
    env.write("pass-lf", b"s3cret-pass\n");
    let out = env.openssl(&["pkey", "-in", "enc/ca.key", "-passin", "file:pass-lf", "-noout"]);
    assert!(!out.status.success(), "without the CR OpenSSL does not open it either");
}

/// `sig` with `count` distinct copies of `cert` (DER) added to its certificates.
fn pad_signature(sig: &[u8], cert: &[u8], count: usize) -> Vec<u8> {
    use bootsign_pki::der_view::read_tlv;
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = content.len();
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let raw: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
            out.push(0x80 | raw.len() as u8);
            out.extend(raw);
        }
        out.extend_from_slice(content);
        out
    }
    let (ci, _) = read_tlv(sig).unwrap();
    let (oid, rest) = read_tlv(ci.value).unwrap();
    let (explicit, _) = read_tlv(rest).unwrap();
    let (sd, _) = read_tlv(explicit.value).unwrap();
    let mut body = sd.value;
    let mut out = Vec::new();
    while !body.is_empty() {
        let (t, rest) = read_tlv(body).unwrap();
        body = rest;
        if t.tag == 0xa0 {
            let mut content = t.value.to_vec();
            for i in 0..count {
                let mut copy = cert.to_vec();
                let at = copy.len() - 4;
                copy[at..].copy_from_slice(&(i as u32).to_be_bytes());
                content.extend(copy);
            }
            out.extend(tlv(0xa0, &content));
        } else {
            out.extend_from_slice(t.raw);
        }
    }
    tlv(0x30, &[oid.raw, &tlv(0xa0, &tlv(0x30, &out))].concat())
}

#[test]
fn signatures_padded_with_certificates_are_capped() {
    let env = Env::new();
    ca(&env);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    env.write("f", vec![7u8; 4096]);
    env.ok(&["sign", "f"]);
    let sig = env.read("f.sig");
    let cert = load_cert(&env.path("ca.crt")).0;
    // Under the cap: accepted, however many of the extras there are.
    env.write("some.sig", pad_signature(&sig, &cert, 200));
    env.ok(&["verify", "f", "--sig", "some.sig", "--trust", "ca.crt"]);
    env.write("many.sig", pad_signature(&sig, &cert, 5000));
    let started = std::time::Instant::now();
    let err = env.fails(&["verify", "f", "--sig", "many.sig", "--trust", "ca.crt"]);
    assert!(err.contains("the signature carries 5002 certificates; more than 256 are refused"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
