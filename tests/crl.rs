//! `bootsign crl`: CRLs from the CA database, checked with the real `openssl` CLI (its
//! signature, fields and revocation checking) and by decoding the DER, and CRL numbers
//! shared with `openssl ca -gencrl` through the `crlnumber` file.

mod common;

use common::*;
use der::{Decode, Encode};
use x509_cert::crl::CertificateList;

/// The DER of a PEM or DER CRL file.
fn crl_der(env: &Env, rel: &str) -> Vec<u8> {
    let bytes = env.read(rel);
    if bytes.starts_with(b"-----BEGIN X509 CRL-----\n") {
        pem::parse(&bytes).unwrap().into_contents()
    } else {
        bytes
    }
}

/// `openssl crl -noout -crlnumber` of a file: `0x01` for number 01.
fn crl_number(env: &Env, rel: &str) -> String {
    let out = env.openssl_ok(&["crl", "-in", rel, "-noout", "-crlnumber"]);
    out.trim().strip_prefix("crlNumber=").unwrap_or_else(|| panic!("{out}")).to_string()
}

/// `openssl crl -CAfile ca.crt` checks the CRL's signature against the CA.
fn assert_crl_verifies(env: &Env, rel: &str, inform: &str) {
    let out = env.openssl(&["crl", "-in", rel, "-inform", inform, "-CAfile", "ca.crt", "-noout"]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("verify OK"), "{rel}: {said}");
}

/// `openssl verify -crl_check` of `cert` with `ca.crl`.
fn crl_check(env: &Env, cert: &str) -> (bool, String) {
    let out = env.openssl(&["verify", "-crl_check", "-CRLfile", "ca.crl", "-CAfile", "ca.crt", cert]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn revoke_two_and_check(ca_key: &str, algorithm: &str) {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", ca_key, "--cn", "CRL Test CA"]);
    for name in ["compromised", "retired", "good"] {
        env.ok(&["issue", "--client", "--key", "p256", "--cn", name, "-o", name]);
    }
    env.ok(&["revoke", "01", "--reason", "keyCompromise"]);
    env.ok(&["revoke", "02"]);
    let out = env.run(&["crl"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Wrote CRL number 01 with 2 revoked certificates"), "{said}");
    assert!(said.contains("ca.crl (PEM)") && said.contains("(30 days)"), "{said}");
    assert_eq!(env.read("crlnumber"), b"02\n", "the next number, as OpenSSL writes it");
    assert!(env.read("ca.crl").starts_with(b"-----BEGIN X509 CRL-----\n"));

    assert_crl_verifies(&env, "ca.crl", "PEM");
    let text = env.openssl_ok(&["crl", "-in", "ca.crl", "-noout", "-text"]);
    for expect in [
        "Version 2 (0x1)",
        &format!("Signature Algorithm: {algorithm}"),
        "Issuer: CN = CRL Test CA",
        "X509v3 Authority Key Identifier",
        "X509v3 CRL Number: \n                1\n",
        "Serial Number: 01\n        Revocation Date:",
        "CRL entry extensions:\n            X509v3 CRL Reason Code: \n                Key Compromise",
        "Serial Number: 02\n        Revocation Date:",
    ] {
        assert!(text.contains(expect), "{expect:?} in:\n{text}");
    }
    assert_eq!(text.matches("CRL Reason Code").count(), 1, "02 has no reason: {text}");
    assert!(!text.contains("Serial Number: 03"), "{text}");
    assert_eq!(crl_number(&env, "ca.crl"), "0x01");

    // The authority key identifier is the CA's subject key identifier; the issuer is
    // the CA certificate's subject, byte for byte.
    let ski = env.openssl_ok(&["x509", "-in", "ca.crt", "-noout", "-ext", "subjectKeyIdentifier"]);
    let ski = ski.lines().nth(1).unwrap().trim().to_string();
    assert!(text.contains(&ski), "AKI {ski} in:\n{text}");
    let der = crl_der(&env, "ca.crl");
    let (_, ca) = load_cert(&env.path("ca.crt"));
    let subject = ca.tbs_certificate().subject().to_der().unwrap();
    let crl: CertificateList = CertificateList::from_der(&der).unwrap();
    assert_eq!(crl.tbs_cert_list.issuer.to_der().unwrap(), subject);
    assert!(der.windows(subject.len()).any(|w| w == subject));

    // Revocation checking with the CRL: the revoked certificates fail, the other passes.
    for revoked in ["compromised.crt", "retired.crt"] {
        let (ok, said) = crl_check(&env, revoked);
        assert!(!ok && said.contains("certificate revoked"), "{revoked}: {said}");
    }
    let (ok, said) = crl_check(&env, "good.crt");
    assert!(ok && said.contains("good.crt: OK"), "{said}");
}

#[test]
fn rsa_ca_crl_verifies_and_revokes() {
    revoke_two_and_check("rsa2048", "sha256WithRSAEncryption");
}

#[test]
fn p256_ca_crl_verifies_and_revokes() {
    revoke_two_and_check("p256", "ecdsa-with-SHA256");
}

#[test]
fn p384_ca_crl_verifies_and_revokes() {
    revoke_two_and_check("p384", "ecdsa-with-SHA384");
}

#[test]
fn numbers_are_shared_with_openssl_ca() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Shared CA"]);
    env.ok(&["issue", "--client", "--key", "p256", "--cn", "one", "-o", "one"]);
    env.ok(&["issue", "--client", "--key", "p256", "--cn", "two", "-o", "two"]);
    env.write(
        "ca.cnf",
        RECIPE_CNF.replace(
            "unique_subject         = no\n",
            "unique_subject         = no\ncrlnumber              = crlnumber\ndefault_crl_days       = 30\n",
        ),
    );
    env.ok(&["revoke", "01", "--reason", "CACompromise"]);

    env.ok(&["crl"]);
    assert_eq!(crl_number(&env, "ca.crl"), "0x01");
    // openssl ca revokes one more, then makes CRL 02 from the file bootsign advanced.
    env.openssl_ok(&["ca", "-config", "ca.cnf", "-revoke", "signed/02.pem", "-crl_reason", "superseded"]);
    env.openssl_ok(&["ca", "-config", "ca.cnf", "-gencrl", "-out", "o.crl"]);
    assert_eq!(crl_number(&env, "o.crl"), "0x02");
    assert_eq!(env.read("crlnumber"), b"03\n");
    // And bootsign goes on from OpenSSL's 03, listing the entry openssl ca revoked.
    env.ok(&["crl", "--force"]);
    assert_eq!(crl_number(&env, "ca.crl"), "0x03");
    assert_eq!(env.read("crlnumber"), b"04\n");
    assert_crl_verifies(&env, "ca.crl", "PEM");
    let text = env.openssl_ok(&["crl", "-in", "ca.crl", "-noout", "-text"]);
    assert!(text.contains("CA Compromise") && text.contains("Serial Number: 02"), "{text}");
    assert!(text.contains("Superseded"), "openssl ca's reason: {text}");
    let (ok, said) = crl_check(&env, "two.crt");
    assert!(!ok && said.contains("certificate revoked"), "{said}");
}

#[test]
fn empty_crl_has_no_revoked_certificates_and_verifies() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    env.ok(&["issue", "--client", "--key", "p256"]);
    let out = env.run(&["crl", "--days", "7"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("Wrote CRL number 01 with 0 revoked certificates"), "{said}");
    assert!(said.contains("(7 days)"), "{said}");
    assert_crl_verifies(&env, "ca.crl", "PEM");
    let text = env.openssl_ok(&["crl", "-in", "ca.crl", "-noout", "-text"]);
    assert!(text.contains("No Revoked Certificates."), "{text}");
    let crl: CertificateList = CertificateList::from_der(&crl_der(&env, "ca.crl")).unwrap();
    assert!(crl.tbs_cert_list.revoked_certificates.is_none(), "the field is left out, not empty");
    let (this, next) = (&crl.tbs_cert_list.this_update, crl.tbs_cert_list.next_update.unwrap());
    assert_eq!(next.to_unix_duration() - this.to_unix_duration(), std::time::Duration::from_secs(7 * 86400));
    let (ok, said) = crl_check(&env, "client.crt");
    assert!(ok, "{said}");

    // DER to a file, PEM to stdout; each takes the next number.
    env.ok(&["crl", "--der", "-o", "empty.der"]);
    assert_crl_verifies(&env, "empty.der", "DER");
    assert_eq!(env.read("empty.der")[0], 0x30);
    let stdout = env.ok(&["crl", "-o", "-"]);
    assert!(stdout.starts_with("-----BEGIN X509 CRL-----\n"), "{stdout}");
    env.write("stdout.crl", &stdout);
    assert_eq!(crl_number(&env, "stdout.crl"), "0x03");
    assert_eq!(env.read("crlnumber"), b"04\n");
}

#[test]
fn encrypted_ca_key() {
    let env = Env::new();
    env.write("pass", "crl pass phrase\n");
    env.ok(&["ca", "init", "--key", "p256", "--encrypt", "--passphrase-file", "pass"]);
    env.ok(&["--passphrase-file", "pass", "crl"]);
    assert_crl_verifies(&env, "ca.crl", "PEM");
}

/// A CA with server certificates `a` (serial 01, revoked) and `b` (02), and ca.crl.
fn ca_with_revoked_server() -> Env {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Revoking CA"]);
    for name in ["a", "b"] {
        env.ok(&["issue", "--server", "--key", "p256", "--cn", &format!("{name}.example.lan"), "-o", name]);
    }
    env.ok(&["revoke", "01", "--reason", "keyCompromise"]);
    env.ok(&["crl", "--days", "7"]);
    env
}

#[test]
fn verify_chain_refuses_what_the_crl_lists_as_openssl_does() {
    let env = ca_with_revoked_server();
    let err = env.fails(&["verify-chain", "a.crt", "--trust", "ca.crt", "--crl", "ca.crl"]);
    assert!(
        err.contains("certificate \"a.example.lan\" (serial 01) was revoked by \"Revoking CA\" on ")
            && err.contains("(reason: keyCompromise)"),
        "{err}"
    );
    let (ok, said) = crl_check(&env, "a.crt");
    assert!(!ok && said.contains("certificate revoked"), "openssl agrees: {said}");
    env.ok(&["verify-chain", "b.crt", "--trust", "ca.crt", "--crl", "ca.crl"]);
    assert!(crl_check(&env, "b.crt").0);
    // Without the CRL, nothing is known of the revocation.
    env.ok(&["verify-chain", "a.crt", "--trust", "ca.crt"]);

    // A CRL that `openssl ca -gencrl` made from the same database (DER this time) counts too.
    env.write(
        "ca.cnf",
        RECIPE_CNF
            .replace("unique_subject         = no\n", "unique_subject         = no\ndefault_crl_days = 30\n"),
    );
    env.openssl_ok(&["ca", "-config", "ca.cnf", "-gencrl", "-out", "o.crl"]);
    env.openssl_ok(&["crl", "-in", "o.crl", "-outform", "DER", "-out", "o.der"]);
    let err = env.fails(&["verify-chain", "a.crt", "--trust", "ca.crt", "--crl", "o.der"]);
    assert!(err.contains("(serial 01) was revoked"), "{err}");
}

#[test]
fn stale_crls_revoke_what_they_list_and_fail_closed_on_request() {
    let env = ca_with_revoked_server();
    let later = "@".to_string() + &(common_now() + 10 * 86_400).to_string();
    // Past nextUpdate: a warning; a listed certificate is still refused, the other passes.
    let out = env.run(&["verify-chain", "b.crt", "--trust", "ca.crt", "--crl", "ca.crl", "--at", &later]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("warning: 'ca.crl' is past its nextUpdate"), "{said}");
    let err = env.fails(&["verify-chain", "a.crt", "--trust", "ca.crt", "--crl", "ca.crl", "--at", &later]);
    assert!(err.contains("was revoked"), "{err}");
    // --require-fresh-crl: everything the CA signed is refused once its CRL is stale.
    let err = env.fails(&[
        "verify-chain",
        "b.crt",
        "--trust",
        "ca.crt",
        "--crl",
        "ca.crl",
        "--at",
        &later,
        "--require-fresh-crl",
    ]);
    assert!(
        err.contains("the CRL of \"Revoking CA\", which issued certificate \"b.example.lan\", expired on")
            && err.contains("requires current CRLs"),
        "{err}"
    );
    env.ok(&["verify-chain", "b.crt", "--trust", "ca.crt", "--crl", "ca.crl", "--require-fresh-crl"]);
}

fn common_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn crls_that_cannot_be_trusted_are_refused_with_the_file_named() {
    let env = ca_with_revoked_server();
    // A damaged signature.
    let mut der = crl_der(&env, "ca.crl");
    let last = der.len() - 3;
    der[last] ^= 0x40;
    env.write("bad.crl", &der);
    let err = env.fails(&["verify-chain", "b.crt", "--trust", "ca.crt", "--crl", "bad.crl"]);
    assert!(
        err.contains("'bad.crl' is refused")
            && err.contains("the CRL's signature does not verify with the key of \"Revoking CA\""),
        "{err}"
    );
    // Another CA's CRL, whose issuer was not given.
    let other = Env::new();
    other.ok(&["ca", "init", "--key", "p256", "--cn", "Other CA"]);
    other.ok(&["crl"]);
    env.write("other.crl", other.read("ca.crl"));
    let err = env.fails(&["verify-chain", "b.crt", "--trust", "ca.crt", "--crl", "other.crl"]);
    assert!(
        err.contains("'other.crl': its issuer \"CN=Other CA\" is not among the certificates given"),
        "{err}"
    );
    // Not a CRL at all.
    let err = env.fails(&["verify-chain", "b.crt", "--trust", "ca.crt", "--crl", "ca.crt"]);
    assert!(err.contains("'ca.crt' holds no CRL (PEM blocks found: CERTIFICATE)"), "{err}");
    env.write("junk.crl", b"\x30\x03\x02\x01\x01");
    let err = env.fails(&["verify-chain", "b.crt", "--trust", "ca.crt", "--crl", "junk.crl"]);
    assert!(err.contains("'junk.crl' is not a usable CRL"), "{err}");

    // build: the same checks before anything is written; --require-fresh-crl needs a CRL.
    let err = env.fails(&["build", "--no-config", "--efi", "--trust", "ca.crt", "--crl", "other.crl"]);
    assert!(err.contains("is not among the certificates given"), "{err}");
    let err = env.fails(&["build", "--no-config", "--efi", "--trust", "ca.crt", "--require-fresh-crl"]);
    assert!(err.contains("--require-fresh-crl needs at least one --crl"), "{err}");
    assert!(!env.path("bootsign.efi").exists());
    // A good one is embedded and shown.
    let out = env.run(&[
        "build",
        "--no-config",
        "--efi",
        "--trust",
        "ca.crt",
        "--crl",
        "ca.crl",
        "--require-fresh-crl",
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("CRL          'ca.crl': 1 revoked, by \"CN=Revoking CA\", next update"), "{said}");
    let shown = env.ok(&["inspect", "bootsign.efi"]);
    assert!(shown.contains("crls         1\n  CN=Revoking CA  number 01, issued "), "{shown}");
    assert!(shown.contains("    serial 01  revoked ") && shown.contains("(keyCompromise)"), "{shown}");
    assert!(shown.contains("  crl-require-fresh  on\n"), "{shown}");
}
