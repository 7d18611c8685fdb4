//! HTTPS in the firmware, in QEMU + OVMF against a real TLS server (Python's ssl on
//! OpenSSL) on 127.0.0.1: signed kernel and initrd fetched and booted over HTTPS; an
//! untrusted server refused with the reason; a missing issuer fetched from the
//! cross-certificate server; client certificates for a server that demands one.
//!
//! TLS needs randomness. The guests run on QEMU's default CPU model, which has no RDRAND,
//! with no RNG device, so OVMF offers no EFI_RNG_PROTOCOL: the firmware seeds its DRBG from
//! CPU timing jitter behind the SP 800-90B health tests (crates/entropy), and the banner
//! says so. The other two sources get one guest each: the untrusted-server test adds a
//! virtio-rng device (EFI_RNG_PROTOCOL), the CRL test runs with `-cpu max` (RDRAND). Under
//! `-icount` the guest's TSC counts instructions, the jitter is gone, and the health tests
//! refuse the source: HTTPS is refused with the failed test named.

mod common;

use common::http::FileServer;
use common::https::HttpsServer;
use common::qemu::{self, PLAIN_NIC};
use common::{Env, boot_lines, signed_boot_env, tlv};

fn setup() -> Env {
    signed_boot_env("HTTPS Boot CA")
}

fn kernel_script(port: u16) -> String {
    format!("#!ipxe\n{}", boot_lines(&format!("https://${{next-server}}:{port}")))
}

/// Builds an EFI image with `bootsign build` (the flags are the user's) and boots it.
fn build_and_boot(
    env: &Env,
    name: &str,
    script: &str,
    flags: &[&str],
    qemu_args: &[&str],
) -> (usize, String) {
    qemu::build_and_boot(env, name, script, flags, PLAIN_NIC, qemu_args)
}

#[test]
fn boots_a_signed_kernel_and_initrd_over_https() {
    let env = setup();
    // A server that takes the client's order of preference, as nginx does by default.
    let server = HttpsServer::start_client_order(
        &env.path("www"),
        &env.path("server-full.crt"),
        &env.path("server.key"),
    );
    // QEMU's default CPU model (no RDRAND, no AES instructions) and no RNG device: the
    // jitter source serves, and the firmware offers ChaCha20-Poly1305 first (ChaCha20 on
    // SSE2). First a file from a TLS 1.2 server offering only ChaCha20-Poly1305; then a 404
    // ends the first connection to the main server, and the next one resumes its TLS
    // session and carries the kernel, the initrd and both signatures.
    let chacha = HttpsServer::start_old(
        &env.path("www"),
        &env.path("server-full.crt"),
        &env.path("server.key"),
        None,
        Some("1.2"),
        Some("ECDHE-ECDSA-CHACHA20-POLY1305"),
    );
    let script = kernel_script(server.port).replacen(
        "#!ipxe\n",
        &format!(
            "#!ipxe\nimgfetch -n side https://${{next-server}}:{}/initrd.img.sig\nimgfree side\n\
             imgfetch https://${{next-server}}:{}/missing || echo marker: 404\n",
            chacha.port, server.port
        ),
        1,
    );
    let (which, out) = build_and_boot(&env, "https", &script, &["--trust", "ca.crt"], &[]);
    assert_eq!(which, 0, "{out}");
    assert!(
        out.contains("bootsign: randomness from CPU timing jitter (SP 800-90B health tests passed, "),
        "{out}"
    );
    assert!(out.contains("/missing: HTTP 404 File not found") && out.contains("marker: 404"), "{out}");
    assert!(out.contains(&format!("https://10.0.2.2:{}/vmlinuz ", server.port)), "{out}");
    assert!(
        out.contains("TLS 1.3 TLS13_CHACHA20_POLY1305_SHA256 x25519, session resumed, handshake"),
        "{out}"
    );
    // One TLS connection carried the kernel, the initrd and both signatures.
    assert_eq!(out.matches(", reused connection)").count(), 3, "{out}");
    assert_eq!(server.connections(), 2, "{}", server.log());
    assert_eq!(server.log().lines().filter(|l| l.starts_with("2 GET ")).count(), 4, "{}", server.log());
    let side = format!("https://10.0.2.2:{}/initrd.img.sig ", chacha.port);
    assert!(
        out.lines()
            .any(|l| l.contains(&side) && l.contains("TLS 1.2 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")),
        "{out}"
    );
    assert!(
        out.contains("vmlinuz: signature verified") && out.contains("initrd.img: signature verified"),
        "{out}"
    );
    assert!(out.contains("BOOTSIGN-INITRAMFS-OK cmdline: console=ttyS0 panic=-1 quiet"), "{out}");
}

#[test]
fn a_server_certificate_from_an_untrusted_ca_is_refused() {
    let env = setup();
    // Another CA's server certificate for the same address.
    let other = Env::new();
    other.ok(&["ca", "init", "--key", "p256", "--cn", "Stranger CA"]);
    other.ok(&["issue", "--server", "--cn", "10.0.2.2", "--san", "10.0.2.2", "--key", "p256", "--chain"]);
    let server =
        HttpsServer::start(&env.path("www"), &other.path("server-full.crt"), &other.path("server.key"), None);
    let script = kernel_script(server.port);
    // With an RNG device, OVMF offers EFI_RNG_PROTOCOL and the firmware uses it.
    let (which, out) =
        build_and_boot(&env, "untrusted", &script, &["--trust", "ca.crt"], &["-device", "virtio-rng-pci"]);
    assert_eq!(which, 1, "{out}");
    assert!(out.contains("bootsign: randomness from EFI_RNG_PROTOCOL"), "{out}");
    assert!(out.contains("server certificate refused"), "{out}");
    assert!(out.contains("Stranger CA"), "the refusal names the untrusted issuer: {out}");
    assert!(!out.contains("Booting"), "{out}");
    eprintln!("{out}");
}

#[test]
fn https_is_refused_when_the_timer_does_not_jitter() {
    let env = setup();
    let server =
        HttpsServer::start(&env.path("www"), &env.path("server-full.crt"), &env.path("server.key"), None);
    // QEMU's default CPU (no RDRAND), no RNG device, and `-icount`: the guest's TSC counts
    // executed instructions, so every round of the jitter workload takes exactly as long
    // as the last and the health tests must refuse the source.
    let (which, out) = build_and_boot(
        &env,
        "nojitter",
        &kernel_script(server.port),
        &["--trust", "ca.crt"],
        &["-icount", "shift=0,sleep=off"],
    );
    assert_eq!(which, 1, "{out}");
    // Constant differences: the Repetition Count Test is the first to reach its cutoff.
    let failed = "CPU timing jitter is unusable: the Repetition Count Test (SP 800-90B 4.4.1) failed: the timer \
                  difference";
    assert!(out.contains(&format!("bootsign: no randomness: {failed}")), "the banner says so: {out}");
    assert!(out.contains("HTTPS needs randomness"), "{out}");
    assert!(out.contains(failed), "the refusal names the test: {out}");
    assert!(out.contains("add a virtio-rng device"), "the refusal says what to do: {out}");
    eprintln!("{out}");
}

#[test]
fn a_missing_issuer_is_fetched_from_the_crosscert_server() {
    let env = setup();
    // The image knows the root only by fingerprint and the server sends only its own
    // certificate: the root must come from the cross-certificate server, as DER SET OF.
    let ca_der = der_of(&env, "ca.crt");
    let leaf_der = der_of(&env, "server.crt");
    let issuer = bootsign_pki::Cert::parse(&leaf_der).unwrap().issuer.to_vec();
    let path = bootsign_tls::crosscert::crosscert_path(&issuer);
    let file = path.split('?').next().unwrap().trim_start_matches('/').to_string();
    std::fs::create_dir_all(env.path("cross")).unwrap();
    std::fs::write(env.path(&format!("cross/{file}")), tlv(0x31, &ca_der)).unwrap();
    let cross = FileServer::start(env.path("cross"), 0);
    let server = HttpsServer::start(&env.path("www"), &env.path("server.crt"), &env.path("server.key"), None);
    let fingerprint = env.ok(&["fingerprint", "--raw", "ca.crt"]);
    let crosscert = format!("http://10.0.2.2:{}", cross.port);
    let flags = ["--trust", fingerprint.trim(), "--crosscert", &crosscert];
    let (which, out) = build_and_boot(&env, "cross", &kernel_script(server.port), &flags, &[]);
    assert_eq!(which, 0, "{out}");
    assert!(out.contains("fetching a missing issuer from http://10.0.2.2:"), "{out}");
    assert!(cross.requests.lock().unwrap().iter().any(|r| r.contains(&file)), "{out}");
    // Without the cross-certificate server the same image cannot complete the chain.
    let (which, out) =
        build_and_boot(&env, "nocross", &kernel_script(server.port), &["--trust", fingerprint.trim()], &[]);
    assert_eq!(which, 1, "{out}");
    assert!(out.contains("server certificate refused"), "{out}");
}

#[test]
fn a_server_demanding_a_client_certificate_gets_the_embedded_one() {
    let env = setup();
    env.ok(&["issue", "--client", "--cn", "boot-client", "--key", "p256", "-o", "boot-client"]);
    let server = HttpsServer::start(
        &env.path("www"),
        &env.path("server-full.crt"),
        &env.path("server.key"),
        Some(&env.path("ca.crt")),
    );
    let script = kernel_script(server.port);
    let client_crt = env.path("boot-client.crt");
    let client_key = env.path("boot-client.key");
    let mtls = [
        "--trust",
        "ca.crt",
        "--cert",
        client_crt.to_str().unwrap(),
        "--privkey",
        client_key.to_str().unwrap(),
    ];
    let (which, out) = build_and_boot(&env, "mtls", &script, &mtls, &[]);
    assert_eq!(which, 0, "{out}");
    assert!(out.contains("client key"), "{out}");
    // Without the client certificate the server ends the handshake, and the firmware says why.
    let (which, out) = build_and_boot(&env, "nocert", &script, &["--trust", "ca.crt"], &[]);
    assert_eq!(which, 1, "{out}");
    assert!(out.contains("client certificate"), "{out}");
    eprintln!("{out}");
}

/// A PEM certificate as DER, by the openssl CLI.
fn der_of(env: &Env, pem: &str) -> Vec<u8> {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(env.path(pem))
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

/// Fetches and verifies the initrd over HTTPS (no boot), then prints a marker.
fn fetch_script(port: u16) -> String {
    format!(
        "#!ipxe\nimgfetch https://${{next-server}}:{port}/initrd.img\n\
         imgverify initrd.img https://${{next-server}}:{port}/initrd.img.sig\n\
         echo BOOTSIGN-INITRAMFS-OK fetched\n"
    )
}

#[test]
fn a_server_with_only_static_rsa_suites_gets_the_fallback() {
    let env = setup();
    env.ok(&[
        "issue", "--server", "--cn", "10.0.2.2", "--san", "10.0.2.2", "--key", "rsa2048", "-o", "rsa",
        "--chain",
    ]);
    for (version, cipher, suite) in [
        ("1.2", "AES128-SHA256", "TLS 1.2 TLS_RSA_WITH_AES_128_CBC_SHA256"),
        ("1.2", "AES256-SHA", "TLS 1.2 TLS_RSA_WITH_AES_256_CBC_SHA"),
    ] {
        let server = HttpsServer::start_old(
            &env.path("www"),
            &env.path("rsa-full.crt"),
            &env.path("rsa.key"),
            None,
            Some(version),
            Some(cipher),
        );
        let (which, out) = build_and_boot(
            &env,
            "static-rsa",
            &fetch_script(server.port),
            &["--trust", "ca.crt", "--force"],
            &[],
        );
        assert_eq!(which, 0, "{cipher}: {out}");
        assert!(out.contains(suite), "{cipher}: {out}");
        assert!(out.contains("initrd.img: signature verified"), "{out}");
    }
}

#[test]
fn a_tls_1_0_server_needs_tls_min_1_0() {
    let env = setup();
    env.ok(&[
        "issue", "--server", "--cn", "10.0.2.2", "--san", "10.0.2.2", "--key", "rsa2048", "-o", "rsa",
        "--chain",
    ]);
    let server = HttpsServer::start_old(
        &env.path("www"),
        &env.path("rsa-full.crt"),
        &env.path("rsa.key"),
        None,
        Some("1.0"),
        Some("AES128-SHA:@SECLEVEL=0"),
    );
    let script = fetch_script(server.port);
    let (which, out) = build_and_boot(&env, "modern", &script, &["--trust", "ca.crt"], &[]);
    assert_eq!(which, 1, "{out}");
    assert!(out.contains("TLS 1.0/1.1"), "the refusal says the server is too old: {out}");
    eprintln!("{out}");
    let (which, out) =
        build_and_boot(&env, "legacy", &script, &["--trust", "ca.crt", "--tls-min", "1.0"], &[]);
    assert_eq!(which, 0, "{out}");
    assert!(out.contains("TLS 1.0 TLS_RSA_WITH_AES_128_CBC_SHA"), "{out}");
}

#[test]
fn revoked_signer_and_server_are_refused_by_the_embedded_crl_and_a_fresh_signer_boots() {
    let env = setup();
    // A code-signing certificate and a server certificate that the CA then revokes.
    env.ok(&["issue", "--codesigning", "--key", "p256", "--cn", "old signer", "-o", "old"]);
    env.ok(&["sign", "www/vmlinuz", "--cert", "old.crt", "--key", "old.key", "-o", "www/vmlinuz.old.sig"]);
    env.ok(&[
        "issue", "--server", "--cn", "10.0.2.2", "--san", "10.0.2.2", "--key", "p256", "--chain", "-o",
        "gone",
    ]);
    let serial = |crt: &str| {
        let out = env.openssl_ok(&["x509", "-in", crt, "-noout", "-serial"]);
        out.trim().trim_start_matches("serial=").to_string()
    };
    let (old_serial, gone_serial) = (serial("old.crt"), serial("gone.crt"));
    env.ok(&["revoke", &old_serial, "--reason", "keyCompromise"]);
    env.ok(&["revoke", &gone_serial, "--reason", "superseded"]);
    env.ok(&["crl"]);
    // The same verdicts on the host, through `verify --crl` and `verify-chain --crl`.
    let err = env.fails(&[
        "verify",
        "www/vmlinuz",
        "--sig",
        "www/vmlinuz.old.sig",
        "--trust",
        "ca.crt",
        "--crl",
        "ca.crl",
    ]);
    assert!(
        err.contains(&format!("\"old signer\" (serial {old_serial}) was revoked by \"HTTPS Boot CA\"")),
        "{err}"
    );
    assert!(err.contains("(reason: keyCompromise)"), "{err}");
    env.ok(&["verify", "www/vmlinuz", "--trust", "ca.crt", "--crl", "ca.crl"]);
    let err = env.fails(&[
        "verify-chain",
        "gone-full.crt",
        "--trust",
        "ca.crt",
        "--crl",
        "ca.crl",
        "--ip",
        "10.0.2.2",
    ]);
    assert!(
        err.contains(&format!("(serial {gone_serial}) was revoked")) && err.contains("(reason: superseded)"),
        "{err}"
    );

    let good =
        HttpsServer::start(&env.path("www"), &env.path("server-full.crt"), &env.path("server.key"), None);
    let revoked =
        HttpsServer::start(&env.path("www"), &env.path("gone-full.crt"), &env.path("gone.key"), None);
    let (port, rport) = (good.port, revoked.port);
    let script = format!(
        "#!ipxe\nimgtrust --permanent --all\n\
         imgfetch https://${{next-server}}:{rport}/vmlinuz.sig || echo marker: revoked server refused\n\
         kernel https://${{next-server}}:{port}/vmlinuz console=ttyS0 panic=-1 quiet\n\
         imgverify vmlinuz https://${{next-server}}:{port}/vmlinuz.old.sig || echo marker: revoked signer refused\n\
         initrd https://${{next-server}}:{port}/initrd.img\n\
         imgverify vmlinuz https://${{next-server}}:{port}/vmlinuz.sig\n\
         imgverify initrd.img https://${{next-server}}:{port}/initrd.img.sig\nboot\n"
    );
    let flags = ["--trust", "ca.crt", "--crl", "ca.crl"];
    // `-cpu max` has RDRAND, which the firmware prefers to timing jitter.
    let (which, out) = build_and_boot(&env, "crl", &script, &flags, &["-cpu", "max"]);
    assert_eq!(which, 0, "{out}");
    assert!(out.contains("bootsign: randomness from RDRAND"), "{out}");
    assert!(out.contains("1 CRL(s)"), "the banner counts the CRL: {out}");
    assert!(out.contains(&format!("(serial {gone_serial}) was revoked by \"HTTPS Boot CA\"")), "{out}");
    assert!(out.contains("marker: revoked server refused"), "{out}");
    assert!(out.contains(&format!("\"old signer\" (serial {old_serial}) was revoked")), "{out}");
    assert!(out.contains("marker: revoked signer refused"), "{out}");
    assert!(out.contains("vmlinuz: signature verified (signed by bootsign code signing"), "{out}");
    assert!(out.contains("BOOTSIGN-INITRAMFS-OK"), "{out}");
    // inspect shows what the image carries.
    let shown = env.ok(&["inspect", "crl.efi"]);
    assert!(shown.contains("crls         1"), "{shown}");
    assert!(shown.contains(&format!("serial {old_serial}")) && shown.contains("(keyCompromise)"), "{shown}");
}
