//! The private CA end to end: what `ca init` and `issue` write, checked with the real
//! `openssl` CLI and by decoding the DER.

mod common;

use common::*;
use const_oid::db::rfc5280;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName};

#[test]
fn ca_init_writes_the_recipe_layout() {
    let env = Env::new();
    env.ok(&["ca", "init", "--cn", "Test Root"]);
    assert_eq!(env.mode("ca.key"), 0o600);
    assert_eq!(env.read("serial"), b"01\n");
    assert_eq!(env.read("ca.idx"), b"");
    assert!(env.path("bootsign.toml").is_file(), "a project file for `bootsign build`");
    assert!(env.path("signed").is_dir());
    let key = String::from_utf8(env.read("ca.key")).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8 like OpenSSL 3");

    let (_, root) = load_cert(&env.path("ca.crt"));
    assert_eq!(
        extension_list(&root),
        [(BASIC_CONSTRAINTS.into(), true), (KEY_USAGE.into(), true), (SUBJECT_KEY_ID.into(), false)]
    );
    let (_, bc) = root.tbs_certificate().get_extension::<BasicConstraints>().unwrap().unwrap();
    assert!(bc.ca);
    let (_, ku) = root.tbs_certificate().get_extension::<KeyUsage>().unwrap().unwrap();
    assert_eq!(ku.0, KeyUsages::KeyCertSign | KeyUsages::CRLSign);
    let text = env.openssl_ok(&["x509", "-in", "ca.crt", "-noout", "-subject", "-enddate"]);
    assert!(text.contains("subject=CN = Test Root"), "{text}");
    // 3650 days from now (the year is all that is stable to check).
    let year = 1970
        + (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
            + 3650 * 86400)
            / 31_556_952;
    assert!(text.contains(&format!(" {year} GMT")), "{text}");
    env.openssl_ok(&["verify", "-CAfile", "ca.crt", "ca.crt"]);
}

fn check_leaf(
    env: &Env,
    base: &str,
    purpose_oid: const_oid::ObjectIdentifier,
    expect_ku: KeyUsage,
    san: Option<Vec<GeneralName>>,
) {
    let (_, cert) = load_cert(&env.path(&format!("{base}.crt")));
    let mut expected = vec![
        (BASIC_CONSTRAINTS.to_string(), false),
        (KEY_USAGE.to_string(), true),
        (EXT_KEY_USAGE.to_string(), false),
    ];
    if san.is_some() {
        expected.push((SUBJECT_ALT_NAME.into(), false));
    }
    expected.push((SUBJECT_KEY_ID.into(), false));
    expected.push((AUTHORITY_KEY_ID.into(), false));
    assert_eq!(extension_list(&cert), expected, "{base}");
    let tbs = cert.tbs_certificate();
    assert!(!tbs.get_extension::<BasicConstraints>().unwrap().unwrap().1.ca);
    assert_eq!(tbs.get_extension::<KeyUsage>().unwrap().unwrap().1, expect_ku, "{base}");
    assert_eq!(tbs.get_extension::<ExtendedKeyUsage>().unwrap().unwrap().1.0, vec![purpose_oid]);
    if let Some(names) = san {
        assert_eq!(tbs.get_extension::<SubjectAltName>().unwrap().unwrap().1.0, names);
    }
    assert_eq!(env.mode(&format!("{base}.key")), 0o600);
}

fn issue_all_kinds(ca_key: &str, leaf_key: &str) {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", ca_key]);
    env.ok(&[
        "issue",
        "--server",
        "--cn",
        "boot.example.lan",
        "--san",
        "10.0.2.2,alt.example.lan",
        "--key",
        leaf_key,
    ]);
    env.ok(&["issue", "--client", "--cn", "node7", "--key", leaf_key]);
    env.ok(&["issue", "--codesigning", "--key", leaf_key]);

    env.openssl_ok(&["verify", "-CAfile", "ca.crt", "-purpose", "sslserver", "server.crt"]);
    env.openssl_ok(&["verify", "-CAfile", "ca.crt", "-purpose", "sslclient", "client.crt"]);
    env.openssl_ok(&["verify", "-CAfile", "ca.crt", "codesign.crt"]);

    let rsa = leaf_key.starts_with("rsa");
    let server_ku = KeyUsage(if rsa {
        KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment
    } else {
        KeyUsages::DigitalSignature.into()
    });
    let dns = |s: &str| GeneralName::DnsName(der::asn1::Ia5String::new(s).unwrap());
    let ip = GeneralName::IpAddress(der::asn1::OctetString::new([10, 0, 2, 2]).unwrap());
    check_leaf(
        &env,
        "server",
        rfc5280::ID_KP_SERVER_AUTH,
        server_ku,
        Some(vec![dns("boot.example.lan"), ip, dns("alt.example.lan")]),
    );
    check_leaf(
        &env,
        "client",
        rfc5280::ID_KP_CLIENT_AUTH,
        KeyUsage(KeyUsages::DigitalSignature.into()),
        None,
    );
    check_leaf(
        &env,
        "codesign",
        rfc5280::ID_KP_CODE_SIGNING,
        KeyUsage(KeyUsages::DigitalSignature.into()),
        None,
    );

    // The database, serial and signed/ copies advanced together.
    assert_eq!(env.read("serial"), b"04\n");
    let idx = String::from_utf8(env.read("ca.idx")).unwrap();
    let lines: Vec<&str> = idx.lines().collect();
    assert_eq!(lines.len(), 3);
    for (i, (line, subject)) in
        lines.iter().zip(["/CN=boot.example.lan", "/CN=node7", "/CN=bootsign code signing"]).enumerate()
    {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!((f[0], f[2], f[3], f[4], f[5]), ("V", "", &*format!("{:02X}", i + 1), "unknown", subject));
        assert_eq!(f[1].len(), 13);
        let copy = env.read(&format!("signed/{:02X}.pem", i + 1));
        let issued = env.read(["server.crt", "client.crt", "codesign.crt"][i]);
        assert_eq!(copy, issued);
    }
    let rows = list_rows(&env.ok(&["list"]));
    let summary: Vec<[&str; 4]> = rows.iter().map(|r| [&*r[0], &*r[1], &*r[3], &*r[4]]).collect();
    assert_eq!(
        summary,
        [
            ["01", "valid", "server", "/CN=boot.example.lan"],
            ["02", "valid", "client", "/CN=node7"],
            ["03", "valid", "codesigning", "/CN=bootsign code signing"]
        ]
    );
}

#[test]
fn rsa_ca_issues_rsa_leaves() {
    issue_all_kinds("rsa2048", "rsa2048");
}

#[test]
fn ec_ca_issues_ec_leaves() {
    issue_all_kinds("p256", "p256");
}

#[test]
fn p384_ca_issues_rsa3072_leaves() {
    issue_all_kinds("p384", "rsa3072");
}

#[test]
fn default_validity_periods() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    env.ok(&["issue", "--server", "--cn", "s.example", "--key", "p256"]);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    env.ok(&["issue", "--client", "--key", "p256", "--days", "7", "-o", "short"]);
    let days = |file: &str| {
        let (_, c) = load_cert(&env.path(file));
        let v = c.tbs_certificate().validity();
        (v.not_after.to_unix_duration().as_secs() - v.not_before.to_unix_duration().as_secs()) / 86400
    };
    // notBefore is set one day back for firmware clocks that run on local time.
    assert_eq!(days("server.crt"), 825 + 1);
    assert_eq!(days("codesign.crt"), 1825 + 1);
    assert_eq!(days("short.crt"), 7 + 1);
    assert_eq!(days("ca.crt"), 3650 + 1);
}

#[test]
fn chain_file_is_cert_then_ca() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    env.ok(&["issue", "--server", "--san", "boot.lan", "--key", "p256", "--chain", "-o", "web"]);
    let full = String::from_utf8(env.read("web-full.crt")).unwrap();
    let expected =
        String::from_utf8(env.read("web.crt")).unwrap() + &String::from_utf8(env.read("ca.crt")).unwrap();
    assert_eq!(full, expected);
    // A server given only --san takes its first name as CN.
    let subject = env.openssl_ok(&["x509", "-in", "web.crt", "-noout", "-subject"]);
    assert_eq!(subject.trim(), "subject=CN = boot.lan");
}

#[test]
fn csr_from_openssl_keeps_its_names_and_key() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    env.openssl_ec_csr(
        "web.key",
        "web.req",
        "/O=Example/CN=web.example",
        &["subjectAltName=DNS:alt.example,IP:10.0.0.5"],
    );
    let before_key = env.read("web.key");
    env.ok(&["issue", "--server", "--csr", "web.req", "-o", "web"]);
    assert_eq!(env.read("web.key"), before_key, "the CSR's key file is not touched");
    env.openssl_ok(&["verify", "-CAfile", "ca.crt", "-purpose", "sslserver", "web.crt"]);
    let text = env.openssl_ok(&["x509", "-in", "web.crt", "-noout", "-subject", "-ext", "subjectAltName"]);
    assert!(text.contains("subject=O = Example, CN = web.example"), "{text}");
    assert!(text.contains("DNS:web.example, DNS:alt.example, IP Address:10.0.0.5"), "{text}");
    // The certificate holds the request's key.
    let cert_pub = env.openssl_ok(&["x509", "-in", "web.crt", "-noout", "-pubkey"]);
    let key_pub = env.openssl_ok(&["pkey", "-in", "web.key", "-pubout"]);
    assert_eq!(cert_pub, key_pub);
}

#[test]
fn encrypted_ca_key_round_trip_with_openssl() {
    let env = Env::new();
    env.write("pass.txt", "correct horse\n");
    env.ok(&["ca", "init", "--encrypt", "--passphrase-file", "pass.txt"]);
    let key = String::from_utf8(env.read("ca.key")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    assert_eq!(env.mode("ca.key"), 0o600);
    // OpenSSL opens it with the same passphrase, and it is the CA certificate's key.
    let from_key = env.openssl_ok(&["pkey", "-in", "ca.key", "-passin", "file:pass.txt", "-pubout"]);
    let from_cert = env.openssl_ok(&["x509", "-in", "ca.crt", "-noout", "-pubkey"]);
    assert_eq!(from_key, from_cert);
    env.ok(&["--passphrase-file", "pass.txt", "issue", "--codesigning", "--key", "p256"]);
    env.openssl_ok(&["verify", "-CAfile", "ca.crt", "codesign.crt"]);
    // And openssl ca can keep issuing with it.
    env.write_recipe_cnf();
    env.openssl_ok(&[
        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "o.key", "-out", "o.req", "-subj", "/CN=o",
    ]);
    env.openssl_ok(&[
        "ca",
        "-batch",
        "-config",
        "ca.cnf",
        "-passin",
        "file:pass.txt",
        "-in",
        "o.req",
        "-out",
        "o.crt",
    ]);
    assert_eq!(env.read("serial"), b"03\n");
}

#[test]
fn revoke_marks_the_database_as_openssl_does() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    env.ok(&["issue", "--client", "--key", "p256"]);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    env.ok(&["revoke", "1", "--reason", "keyCompromise"]);
    let idx = String::from_utf8(env.read("ca.idx")).unwrap();
    let first: Vec<&str> = idx.lines().next().unwrap().split('\t').collect();
    assert_eq!(first[0], "R");
    assert!(first[2].ends_with("Z,keyCompromise") && first[2].len() == 13 + 14, "{}", first[2]);
    let rows = list_rows(&env.ok(&["list"]));
    assert_eq!((&*rows[0][0], &*rows[0][1]), ("01", "revoked"));
    assert_eq!((&*rows[1][0], &*rows[1][1]), ("02", "valid"));
    env.write_recipe_cnf();
    let status = env.openssl(&["ca", "-config", "ca.cnf", "-status", "01"]);
    assert!(String::from_utf8_lossy(&status.stderr).contains("01=Revoked (R)"), "{status:?}");
    let err = env.fails(&["revoke", "01"]);
    assert!(err.contains("serial 01 is already revoked"), "{err}");
    let err = env.fails(&["revoke", "7"]);
    assert!(err.contains("serial 07 is not in ca.idx"), "{err}");
}

#[test]
fn list_reports_expired_entries() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    env.ok(&["issue", "--client", "--key", "p256"]);
    // An entry whose expiry has passed (as an old database has) shows as expired.
    let idx = String::from_utf8(env.read("ca.idx")).unwrap();
    let mut f: Vec<String> = idx.trim_end().split('\t').map(String::from).collect();
    f[1] = "200101000000Z".into();
    env.write("ca.idx", f.join("\t") + "\n");
    let rows = list_rows(&env.ok(&["list"]));
    assert_eq!((&*rows[0][1], &*rows[0][2]), ("expired", "2020-01-01"));
}

#[test]
fn concurrent_issues_get_distinct_serials() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    let children: Vec<_> = (0..8)
        .map(|i| {
            env.cmd(&["issue", "--client", "--key", "p256", "--cn", &format!("n{i}"), "-o", &format!("n{i}")])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    assert_eq!(env.read("serial"), b"09\n");
    let idx = String::from_utf8(env.read("ca.idx")).unwrap();
    let mut serials: Vec<String> = idx.lines().map(|l| l.split('\t').nth(3).unwrap().to_string()).collect();
    assert_eq!(idx.lines().count(), 8, "{idx}");
    serials.sort();
    assert_eq!(serials, (1..=8).map(|i| format!("{i:02X}")).collect::<Vec<_>>());
    for i in 0..8 {
        let serial = env.openssl_ok(&["x509", "-in", &format!("n{i}.crt"), "-noout", "-serial"]);
        let serial = serial.trim().trim_start_matches("serial=");
        assert!(env.path(&format!("signed/{serial}.pem")).exists());
        assert!(idx.contains(&format!("\t{serial}\tunknown\t/CN=n{i}\n")), "{idx}");
    }
}

#[test]
fn force_replaces_outputs_and_ca_init_keeps_the_database() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    env.ok(&["issue", "--client", "--key", "p256"]);
    let old_crt = env.read("client.crt");
    env.ok(&["issue", "--client", "--key", "p256", "--force"]);
    assert_ne!(env.read("client.crt"), old_crt);
    assert_eq!(env.mode("client.key"), 0o600);

    let old_root = env.read("ca.crt");
    env.ok(&["ca", "init", "--key", "p256", "--force"]);
    assert_ne!(env.read("ca.crt"), old_root);
    assert_eq!(env.read("serial"), b"03\n", "serials never repeat after a forced re-init");
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    assert!(env.path("signed/03.pem").exists());
}

#[test]
fn ca_dir_from_flag_and_environment() {
    let env = Env::new();
    env.ok(&["--ca-dir", "my ca", "ca", "init", "--key", "p256"]);
    assert_eq!(env.mode("my ca"), 0o700, "a CA directory bootsign creates is private");
    env.ok(&["--ca-dir", "my ca", "issue", "--client", "--key", "p256"]);
    assert!(env.path("my ca/client.crt").exists(), "default outputs go to the CA directory");
    env.ok(&["--ca-dir", "my ca", "issue", "--client", "--key", "p256", "-o", "here"]);
    assert!(env.path("here.crt").exists(), "-o is relative to the current directory");
    let out = env
        .cmd(&["issue", "--codesigning", "--key", "p256"])
        .env("BOOTSIGN_CA_DIR", env.path("my ca"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(env.read("my ca/serial"), b"04\n");
}
