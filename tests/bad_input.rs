//! Bad input: each case gets a clear message naming the file and the fault, exit code 1,
//! and leaves every file exactly as it was.

mod common;

use common::*;

fn ca(env: &Env) {
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Bad Input CA"]);
}

#[test]
fn no_ca_directory() {
    let env = Env::new();
    refused(
        &env,
        &["--ca-dir", "nowhere", "issue", "--codesigning"],
        &["CA directory 'nowhere' does not exist", "bootsign ca init"],
    );
    refused(&env, &["--ca-dir", "nowhere", "list"], &["CA directory 'nowhere' does not exist"]);
    std::fs::create_dir(env.path("empty")).unwrap();
    refused(
        &env,
        &["--ca-dir", "empty", "issue", "--client"],
        &["'empty' is not a CA directory: it has no ca.crt"],
    );
}

#[test]
fn ca_key_does_not_match_certificate() {
    let env = Env::new();
    ca(&env);
    env.openssl_ok(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key"]);
    refused(
        &env,
        &["issue", "--codesigning", "--key", "p256"],
        &["the CA key 'ca.key' does not match the CA certificate 'ca.crt'"],
    );
}

#[test]
fn encrypted_key_without_or_with_wrong_passphrase() {
    let env = Env::new();
    env.write("pass", "right one\n");
    env.write("wrong", "wrong one\n");
    env.ok(&["ca", "init", "--key", "p256", "--encrypt", "--passphrase-file", "pass"]);
    refused(
        &env,
        &["issue", "--codesigning"],
        &["'ca.key' is encrypted and no passphrase was given", "--passphrase-file"],
    );
    refused(&env, &["--passphrase-file", "wrong", "issue", "--codesigning"], &["'ca.key': wrong passphrase"]);
    refused(
        &env,
        &["--passphrase-file", "missing", "issue", "--codesigning"],
        &["failed to read passphrase file 'missing'"],
    );
    // --encrypt with no terminal and no file.
    let other = Env::new();
    refused(&other, &["ca", "init", "--encrypt"], &["--encrypt needs a passphrase: use --passphrase-file"]);
}

#[test]
fn malformed_pem() {
    let env = Env::new();
    ca(&env);
    env.write("ca.crt", "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
    refused(&env, &["issue", "--codesigning", "--key", "p256"], &["'ca.crt': malformed PEM"]);
    env.write("garbage.crt", b"\x30\x03\x02\x01");
    refused(
        &env,
        &["fingerprint", "garbage.crt"],
        &["'garbage.crt' is not a certificate (expected PEM 'BEGIN CERTIFICATE' or DER X.509)"],
    );
    env.write("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    refused(
        &env,
        &["fingerprint", "key.pem"],
        &["'key.pem' holds no certificate (PEM blocks found: PRIVATE KEY)"],
    );
    env.write("empty.crt", "");
    refused(&env, &["fingerprint", "empty.crt"], &["'empty.crt' is empty"]);
    refused(&env, &["fingerprint", "absent.crt"], &["failed to read 'absent.crt'"]);
    // A garbled certificate inside good PEM framing.
    env.write("bad-der.crt", "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n");
    refused(&env, &["fingerprint", "bad-der.crt"], &["'bad-der.crt': certificate 1 is not valid X.509"]);
    // A broken ca.key.
    let env = Env::new();
    ca(&env);
    env.write("ca.key", "-----BEGIN PRIVATE KEY-----\nMAMCAQE=\n-----END PRIVATE KEY-----\n");
    refused(&env, &["issue", "--codesigning", "--key", "p256"], &["'ca.key': bad PKCS#8 private key"]);
}

#[test]
fn csr_with_bad_signature() {
    let env = Env::new();
    ca(&env);
    env.openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "web.key",
        "-out",
        "web.der",
        "-outform",
        "DER",
        "-subj",
        "/CN=web.example",
    ]);
    let mut der = env.read("web.der");
    let last = der.len() - 1;
    der[last] ^= 0x01;
    env.write("web.der", &der);
    refused(
        &env,
        &["issue", "--server", "--csr", "web.der", "-o", "web"],
        &["'web.der' is not a usable certificate request", "its signature is bad"],
    );
    env.write("notreq.pem", env.read("ca.crt"));
    refused(
        &env,
        &["issue", "--server", "--csr", "notreq.pem"],
        &["'notreq.pem' holds no CERTIFICATE REQUEST block"],
    );
}

#[test]
fn invalid_names() {
    let env = Env::new();
    ca(&env);
    refused(
        &env,
        &["issue", "--server", "--san", "good.example,bad_name"],
        &["'bad_name' is not a valid host name or IP address"],
    );
    refused(
        &env,
        &["issue", "--server", "--san", "10.0.2.300"],
        &["'10.0.2.300' is not a valid host name or IP address"],
    );
    refused(
        &env,
        &["issue", "--server", "--cn", "My Web Server"],
        &["--cn 'My Web Server' must be a host name or IP address"],
    );
    refused(&env, &["issue", "--server"], &["a server certificate needs a name: give --cn HOST or --san"]);
    refused(&env, &["issue", "--client", "--days", "0"], &["--days must be at least 1"]);
}

#[test]
fn existing_outputs_need_force() {
    let env = Env::new();
    ca(&env);
    env.write("server.key", "precious");
    refused(
        &env,
        &["issue", "--server", "--cn", "a.example"],
        &["refusing to overwrite 'server.key': it already exists (use --force"],
    );
    env.write("codesign.crt", "precious");
    refused(&env, &["issue", "--codesigning"], &["refusing to overwrite 'codesign.crt'"]);
    env.ok(&["issue", "--client", "--key", "p256"]);
    refused(
        &env,
        &["issue", "--client", "--key", "p256", "--chain"],
        &["refusing to overwrite 'client.crt'"],
    );
    env.write("x-full.crt", "precious");
    refused(
        &env,
        &["issue", "--client", "--key", "p256", "--chain", "-o", "x"],
        &["refusing to overwrite 'x-full.crt'"],
    );
    refused(&env, &["ca", "init"], &["already holds a CA", "use --force"]);
    // An output in a directory that does not exist.
    refused(
        &env,
        &["issue", "--client", "--key", "p256", "-o", "no/such/dir/c"],
        &["cannot write 'no/such/dir/c.crt': the directory 'no/such/dir' does not exist"],
    );
}

#[test]
fn cross_sign_refuses_a_non_root() {
    let env = Env::new();
    ca(&env);
    env.ok(&["issue", "--server", "--cn", "leaf.example", "--key", "p256"]);
    refused(
        &env,
        &["cross-sign", "server.crt"],
        &["'server.crt' is not a root CA: it was issued by \"/CN=Bad Input CA\""],
    );
    // Self-issued but with a signature that does not verify.
    let mut der = pem::parse(env.read("ca.crt")).unwrap().into_contents();
    let at = der.len() - 8;
    der[at] ^= 0x55;
    env.write("broken-root.der", &der);
    refused(
        &env,
        &["cross-sign", "broken-root.der"],
        &["'broken-root.der' is not a root CA: its self-signature does not verify"],
    );
    // A self-signed certificate that says CA:FALSE.
    env.openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ee.key",
        "-out",
        "ee.crt",
        "-subj",
        "/CN=self-signed leaf",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
    ]);
    refused(&env, &["cross-sign", "ee.crt"], &["'ee.crt' is not a CA: its basicConstraints say CA:FALSE"]);
    // Our own root.
    refused(&env, &["cross-sign", "ca.crt", "-o", "self.crt"], &["has this CA's own key"]);
}

#[test]
fn broken_database_is_not_rewritten() {
    let env = Env::new();
    ca(&env);
    env.write("ca.idx", "V\tnot-a-date\t\t01\tunknown\t/CN=x\n");
    refused(
        &env,
        &["issue", "--client", "--key", "p256"],
        &["'ca.idx' line 1: expiry 'not-a-date' is not a time"],
    );
    env.write("ca.idx", "");
    env.write("serial", "zz\n");
    refused(&env, &["issue", "--client", "--key", "p256"], &["bad serial file 'serial'"]);
    env.write("serial", "01\n");
    env.ok(&["issue", "--client", "--key", "p256"]);
    // The serial file falls behind the database (someone restored an old copy): the
    // serials with a record are skipped, never given twice.
    env.write("serial", "01\n");
    let out = env.run(&["issue", "--codesigning", "--key", "p256"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(
            "warning: 'serial' was behind the records (serial 01 is taken); this certificate gets serial 02"
        ),
        "{said}"
    );
    assert_eq!(env.read("serial"), b"03\n");
    // A key pasted into the serial file is not echoed.
    env.write("serial", "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n");
    refused(
        &env,
        &["issue", "--client", "--key", "p256", "-o", "c2"],
        &["bad serial file 'serial': its 76 characters are not a hexadecimal serial number"],
    );
    let err = env.fails(&["issue", "--client", "--key", "p256", "-o", "c2"]);
    assert!(!err.contains("MIGHAgEA"), "{err}");
}

#[test]
fn crl_refusals() {
    let env = Env::new();
    refused(
        &env,
        &["--ca-dir", "nowhere", "crl"],
        &["CA directory 'nowhere' does not exist", "bootsign ca init"],
    );
    ca(&env);
    env.ok(&["issue", "--client", "--key", "p256"]);
    env.ok(&["revoke", "01"]);
    env.ok(&["crl"]);
    // An existing output needs --force; nothing changes, not even crlnumber.
    refused(&env, &["crl"], &["refusing to overwrite 'ca.crl': it already exists (use --force"]);
    env.write("mine.crl", "precious");
    refused(&env, &["crl", "-o", "mine.crl", "--der"], &["refusing to overwrite 'mine.crl'"]);
    std::fs::create_dir(env.path("out")).unwrap();
    refused(
        &env,
        &["crl", "-o", "out", "--force"],
        &["refusing to write the CRL to 'out': it is a directory"],
    );
    std::os::unix::fs::symlink("ca.crl", env.path("link.crl")).unwrap();
    refused(&env, &["crl", "-o", "link.crl", "--force"], &["'link.crl': it is a symbolic link"]);
    refused(&env, &["crl", "-o", "no/such/x.crl"], &["the directory 'no/such' does not exist"]);
    for days in ["0", "36501", "4000000000"] {
        refused(&env, &["crl", "--force", "--days", days], &["--days must be between 1 and 36500"]);
    }
    // A damaged crlnumber is named and not repeated.
    env.write("crlnumber", "hunter2 and other secrets\n");
    let err = env.fails(&["crl", "--force"]);
    assert!(
        err.contains("bad CRL number file 'crlnumber'") && err.contains("not one hexadecimal number"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    refused(&env, &["crl", "--force"], &["bad CRL number file 'crlnumber'"]);
    env.write("crlnumber", "");
    refused(&env, &["crl", "--force"], &["bad CRL number file 'crlnumber': it is empty"]);
    env.write("crlnumber", "05\n");
    // A revocation reason the CRL cannot carry names the serial.
    let idx = String::from_utf8(env.read("ca.idx")).unwrap();
    let mut f: Vec<String> = idx.trim_end().split('\t').map(String::from).collect();
    f[2] = format!("{},removeFromCRL", f[2]);
    env.write("ca.idx", f.join("\t") + "\n");
    refused(
        &env,
        &["crl", "--force"],
        &["cannot make a CRL from 'ca.idx': serial 01 is revoked with reason 'removeFromCRL'"],
    );
    // A CA key that needs a passphrase and gets none.
    let enc = Env::new();
    enc.write("pass", "right one\n");
    enc.ok(&["ca", "init", "--key", "p256", "--encrypt", "--passphrase-file", "pass"]);
    refused(&enc, &["crl"], &["'ca.key' is encrypted and no passphrase was given"]);
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    for args in [
        &["issue"][..],
        &["issue", "--server", "--client"],
        &["issue", "--client", "--csr", "x", "--key", "p256"],
        &["ca", "init", "--key", "dsa"],
        &["crl", "--pem", "--der"],
        &["crl", "--days", "-1"],
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
}

#[test]
fn inputs_read_whole_have_a_size_limit() {
    let env = Env::new();
    ca(&env);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    env.write("f", "content");
    env.ok(&["sign", "f"]);
    // Sparse files: 33 MiB that cost nothing on disk.
    let big = |name: &str| {
        std::fs::File::create(env.path(name)).unwrap().set_len(33 << 20).unwrap();
    };
    big("big.crt");
    big("big.sig");
    big("big.csr");
    big("big.crl");
    big("big.ipxe");
    let limit = "is larger than 32 MiB, the most bootsign reads for it";
    for (args, expect) in [
        (&["fingerprint", "big.crt"][..], format!("error: 'big.crt' {limit}")),
        (&["fingerprint", "/dev/zero"][..], format!("error: '/dev/zero' {limit}")),
        (
            &["verify", "f", "--sig", "big.sig", "--trust", "ca.crt"][..],
            format!("the signature 'big.sig' {limit}"),
        ),
        (&["verify", "f", "--trust", "big.crt"][..], format!("'big.crt' {limit}")),
        (&["verify", "f", "--trust", "ca.crt", "--crl", "big.crl"][..], format!("the CRL 'big.crl' {limit}")),
        (&["issue", "--csr", "big.csr", "--client"][..], format!("'big.csr' {limit}")),
        (&["sign", "f", "--key", "big.crt", "-o", "g.sig"][..], format!("the key 'big.crt' {limit}")),
        (
            &["build", "--efi", "--trust", "ca.crt", "--embed", "big.ipxe"][..],
            format!("the script 'big.ipxe' {limit}"),
        ),
    ] {
        let started = std::time::Instant::now();
        let err = env.fails(args);
        assert!(err.contains(&expect), "{args:?}: {err}");
        assert!(started.elapsed().as_secs() < 20, "{args:?} took {:?}", started.elapsed());
    }
}
