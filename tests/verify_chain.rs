//! Path validation against independent validators: every generated chain is judged by
//! `bootsign verify-chain` (the firmware's code), by `openssl verify`, and, where its
//! X.509-v3-only, no-CN policy applies, by rustls-webpki; they must all agree with each
//! other and with the expected verdict.

mod common;

use common::*;

const SERVER_EXT: &str = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth";

struct Case<'a> {
    name: &'a str,
    leaf: &'a str,
    chain: &'a [&'a str],
    trust: &'a str,
    host: Option<&'a str>,
    ip: Option<&'a str>,
    at: Option<u64>,
    accept: bool,
    /// Whether rustls-webpki's policy covers the case (it never reads the CN and
    /// requires X.509 v3).
    webpki: bool,
    /// Part of bootsign's message when it refuses.
    reason: &'a str,
}

/// The certificates of a PEM bundle, or the one DER certificate.
fn pem_ders(bytes: &[u8]) -> Vec<Vec<u8>> {
    if !bytes.starts_with(b"-----") {
        return vec![bytes.to_vec()];
    }
    pem::parse_many(bytes).unwrap().into_iter().map(|p| p.into_contents()).collect()
}

/// rustls-webpki's verdict on the same material.
fn webpki_verdict(env: &Env, c: &Case) -> Result<(), String> {
    use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
    let leaf = pem_ders(&env.read(c.leaf)).remove(0);
    let intermediates: Vec<CertificateDer> =
        c.chain.iter().flat_map(|f| pem_ders(&env.read(f))).map(CertificateDer::from).collect();
    let anchor_der = CertificateDer::from(pem_ders(&env.read(c.trust)).remove(0));
    let anchor = webpki::anchor_from_trusted_cert(&anchor_der).map_err(|e| e.to_string())?;
    let leaf_der = CertificateDer::from(leaf);
    let ee = webpki::EndEntityCert::try_from(&leaf_der).map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(c.at.unwrap_or(now)));
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &intermediates,
        time,
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .map_err(|e| format!("{e:?}"))?;
    let name = match (c.host, c.ip) {
        (Some(h), _) => ServerName::try_from(h.to_string()).unwrap(),
        (None, Some(ip)) => ServerName::IpAddress(ip.parse::<std::net::IpAddr>().unwrap().into()),
        (None, None) => return Ok(()),
    };
    ee.verify_is_valid_for_subject_name(&name).map_err(|e| format!("{e:?}"))
}

fn judge(env: &Env, c: &Case) {
    let chain_file = format!("{}-chain.pem", c.name);
    let chain: Vec<u8> = c.chain.iter().flat_map(|f| env.read(f)).collect();
    env.write(&chain_file, &chain);

    let mut ours = vec!["verify-chain", c.leaf, "--trust", c.trust];
    let mut theirs = vec!["verify", "-CAfile", c.trust, "-purpose", "sslserver"];
    if !c.chain.is_empty() {
        ours.extend(["--untrusted", &chain_file]);
        theirs.extend(["-untrusted", &chain_file]);
    }
    if let Some(h) = c.host {
        ours.extend(["--host", h]);
        theirs.extend(["-verify_hostname", h]);
    }
    if let Some(ip) = c.ip {
        ours.extend(["--ip", ip]);
        theirs.extend(["-verify_ip", ip]);
    }
    let at = c.at.map(|t| t.to_string());
    let at_ours = c.at.map(|t| format!("@{t}"));
    if let (Some(a), Some(b)) = (&at, &at_ours) {
        ours.extend(["--at", b]);
        theirs.extend(["-attime", a]);
    }
    theirs.push(c.leaf);
    let out = env.run(&ours);
    let openssl = env.openssl(&theirs);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.success(),
        c.accept,
        "{}: bootsign said:\n{}{stderr}",
        c.name,
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        openssl.status.success(),
        c.accept,
        "{}: openssl disagrees:\n{}{}",
        c.name,
        String::from_utf8_lossy(&openssl.stdout),
        String::from_utf8_lossy(&openssl.stderr)
    );
    if !c.accept {
        assert!(stderr.contains(c.reason), "{}: expected {:?} in:\n{stderr}", c.name, c.reason);
    }
    if c.webpki {
        let verdict = webpki_verdict(env, c);
        assert_eq!(verdict.is_ok(), c.accept, "{}: rustls-webpki disagrees: {verdict:?}", c.name);
    }
}

#[test]
fn bootsign_and_openssl_agree_on_generated_chains() {
    let env = Env::new();
    env.ok(&["ca", "init", "--cn", "Root CA"]);
    env.openssl_cert("int", Some(("ca.crt", "ca.key")), "/CN=Issuing CA", CA_EXT);
    env.openssl_cert(
        "good",
        Some(("int.crt", "int.key")),
        "/CN=boot.example.lan",
        &format!("{SERVER_EXT}\nsubjectAltName=DNS:boot.example.lan,IP:10.0.2.2"),
    );
    env.openssl_cert(
        "wild",
        Some(("int.crt", "int.key")),
        "/CN=wildcard",
        &format!("{SERVER_EXT}\nsubjectAltName=DNS:*.example.lan"),
    );
    env.openssl_cert(
        "client",
        Some(("int.crt", "int.key")),
        "/CN=boot.example.lan",
        "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:boot.example.lan",
    );
    env.openssl_cert(
        "odd",
        Some(("int.crt", "int.key")),
        "/CN=boot.example.lan",
        &format!("{SERVER_EXT}\nsubjectAltName=DNS:boot.example.lan\n1.3.6.1.4.1.99999.7=critical,ASN1:NULL"),
    );
    env.openssl_cert(
        "sanother",
        Some(("int.crt", "int.key")),
        "/CN=boot.example.lan",
        &format!("{SERVER_EXT}\nsubjectAltName=DNS:other.example.lan"),
    );
    env.openssl_cert(
        "notca",
        Some(("ca.crt", "ca.key")),
        "/CN=Not A CA",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyCertSign",
    );
    env.openssl_cert(
        "under-notca",
        Some(("notca.crt", "notca.key")),
        "/CN=boot.example.lan",
        &format!("{SERVER_EXT}\nsubjectAltName=DNS:boot.example.lan"),
    );
    env.openssl_cert(
        "nosign",
        Some(("ca.crt", "ca.key")),
        "/CN=No CertSign CA",
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature",
    );
    env.openssl_cert(
        "under-nosign",
        Some(("nosign.crt", "nosign.key")),
        "/CN=boot.example.lan",
        &format!("{SERVER_EXT}\nsubjectAltName=DNS:boot.example.lan"),
    );
    env.openssl_cert(
        "pl0",
        Some(("ca.crt", "ca.key")),
        "/CN=PathLen Zero CA",
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign",
    );
    env.openssl_cert("pl-int", Some(("pl0.crt", "pl0.key")), "/CN=Below PathLen CA", CA_EXT);
    env.openssl_cert(
        "deep",
        Some(("pl-int.crt", "pl-int.key")),
        "/CN=boot.example.lan",
        &format!("{SERVER_EXT}\nsubjectAltName=DNS:boot.example.lan"),
    );
    // The recipe's server certificate: X.509 v1, name in the CN only.
    env.openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "v1.key",
        "-out",
        "v1.req",
        "-subj",
        "/CN=boot.example.lan",
    ]);
    env.openssl_ok(&[
        "x509",
        "-req",
        "-in",
        "v1.req",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-set_serial",
        "77",
        "-days",
        "30",
        "-out",
        "v1.crt",
    ]);
    // An unrelated certificate to pad the chain material.
    env.openssl_cert("stray", None, "/CN=Stray Root", CA_EXT);
    // A leaf whose signature was damaged.
    let mut bad = pem::parse(env.read("good.crt")).unwrap().into_contents();
    let at = bad.len() - 5;
    bad[at] ^= 1;
    env.write("badsig.crt", &bad);
    // Another organisation's root, a server under it, and our cross-certificate for it.
    env.openssl_cert("other", None, "/CN=Other Root", CA_EXT);
    env.openssl_cert(
        "other-leaf",
        Some(("other.crt", "other.key")),
        "/CN=boot.example.lan",
        &format!("{SERVER_EXT}\nsubjectAltName=DNS:boot.example.lan"),
    );
    env.ok(&["cross-sign", "other.crt", "-o", "other-cross.crt"]);

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let host = Some("boot.example.lan");
    let ok = |name, leaf, chain| Case {
        name,
        leaf,
        chain,
        trust: "ca.crt",
        host,
        ip: None,
        at: None,
        accept: true,
        reason: "",
        webpki: true,
    };
    let no = |name, leaf, chain, reason| Case {
        name,
        leaf,
        chain,
        trust: "ca.crt",
        host,
        ip: None,
        at: None,
        accept: false,
        reason,
        webpki: true,
    };
    let cases = [
        ok("good", "good.crt", &["int.crt"][..]),
        ok("out of order with extras", "good.crt", &["stray.crt", "other.crt", "int.crt"][..]),
        ok("wildcard", "wild.crt", &["int.crt"][..]),
        Case { webpki: false, ..ok("recipe v1 CN only", "v1.crt", &[][..]) },
        ok("cross-signed root", "other-leaf.crt", &["other-cross.crt"][..]),
        Case { ip: Some("10.0.2.2"), host: None, ..ok("ip", "good.crt", &["int.crt"][..]) },
        no("wrong host", "good.crt", &["int.crt"][..], "is not valid for the name wrong.example.lan"),
        no(
            "SAN mismatch with matching CN",
            "sanother.crt",
            &["int.crt"][..],
            "is not valid for the name boot.example.lan",
        ),
        no(
            "missing intermediate",
            "good.crt",
            &[][..],
            "the issuer \"CN=Issuing CA\" of certificate \"boot.example.lan\" is not trusted and was not supplied",
        ),
        no("client EKU", "client.crt", &["int.crt"][..], "is not for TLS server (serverAuth)"),
        no(
            "unknown critical",
            "odd.crt",
            &["int.crt"][..],
            "has an unsupported critical extension 1.3.6.1.4.1.99999.7",
        ),
        no(
            "intermediate CA:FALSE",
            "under-notca.crt",
            &["notca.crt"][..],
            "\"Not A CA\" issued another certificate but is not a CA",
        ),
        // rustls-webpki does not check keyUsage on CA certificates; OpenSSL and bootsign do.
        Case {
            webpki: false,
            ..no(
                "intermediate without keyCertSign",
                "under-nosign.crt",
                &["nosign.crt"][..],
                "\"No CertSign CA\" has a keyUsage without keyCertSign",
            )
        },
        no(
            "pathLen",
            "deep.crt",
            &["pl-int.crt", "pl0.crt"][..],
            "\"PathLen Zero CA\" allows 0 intermediate CA(s)",
        ),
        no(
            "bad signature",
            "badsig.crt",
            &["int.crt"][..],
            "the signature on certificate \"boot.example.lan\" by \"Issuing CA\" is bad",
        ),
        no(
            "cross-certificate withheld",
            "other-leaf.crt",
            &["other.crt"][..],
            "root \"Other Root\" is not trusted",
        ),
        Case {
            trust: "other.crt",
            ..no("untrusted root", "good.crt", &["int.crt", "ca.crt"][..], "root \"Root CA\" is not trusted")
        },
        Case {
            at: Some(now + 400 * 86400),
            ..no("expired", "good.crt", &["int.crt"][..], "certificate \"boot.example.lan\" expired on")
        },
        Case {
            at: Some(now - 3 * 86400),
            ..no(
                "not yet valid",
                "good.crt",
                &["int.crt"][..],
                "certificate \"boot.example.lan\" is not valid until",
            )
        },
    ];
    let mut cases = cases.into_iter().collect::<Vec<_>>();
    cases[6].host = Some("wrong.example.lan");
    for c in &cases {
        judge(&env, c);
    }

    // Beyond OpenSSL: with the other root itself also in the material, `openssl verify`
    // stops at that self-signed (untrusted) root; bootsign backtracks to the
    // cross-certificate and finds the path to the trusted root.
    env.write("both.pem", [env.read("other.crt"), env.read("other-cross.crt")].concat());
    let out = env.ok(&[
        "verify-chain",
        "other-leaf.crt",
        "--untrusted",
        "both.pem",
        "--trust",
        "ca.crt",
        "--host",
        "boot.example.lan",
    ]);
    assert!(out.contains("CN=Other Root") && out.contains("CN=Root CA"), "{out}");
    // rustls-webpki builds paths the same way and agrees.
    let both =
        ok("cross with the other root present", "other-leaf.crt", &["other.crt", "other-cross.crt"][..]);
    assert_eq!(webpki_verdict(&env, &both), Ok(()));
}

#[test]
fn prints_the_path_taken() {
    let env = Env::new();
    env.ok(&["ca", "init", "--cn", "Root CA", "--key", "p256"]);
    env.ok(&["issue", "--server", "--cn", "boot.example.lan", "--key", "p256", "--chain"]);
    let out = env.ok(&["verify-chain", "server-full.crt", "--trust", "ca.crt", "--host", "boot.example.lan"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "server-full.crt: OK for TLS server (serverAuth)");
    assert!(lines[1].starts_with("  CN=boot.example.lan  (SHA-256 "), "{out}");
    assert!(lines[2].starts_with("    CN=Root CA  (SHA-256 ") && lines[2].ends_with(", trusted)"), "{out}");
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    env.ok(&["verify-chain", "codesign.crt", "--trust", "ca.crt", "--purpose", "codesigning"]);
}

#[test]
fn look_alike_issuers_cannot_make_the_search_explode() {
    // Many certificates with one name and one key (different serials), each a possible
    // issuer of every other: the search must end quickly with a clear refusal.
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Real Root"]);
    env.openssl_ok(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "loop.key",
    ]);
    env.write("ca.ext", format!("[ext]\n{CA_EXT}\n"));
    let mut bundle = Vec::new();
    for i in 0..14 {
        let crt = format!("loop{i}.crt");
        env.openssl_ok(&[
            "req",
            "-x509",
            "-key",
            "loop.key",
            "-subj",
            "/CN=Loop CA",
            "-set_serial",
            &(100 + i).to_string(),
            "-days",
            "30",
            "-config",
            "ca.ext",
            "-extensions",
            "ext",
            "-out",
            &crt,
        ]);
        bundle.extend(env.read(&crt));
    }
    env.write("loops.pem", &bundle);
    env.openssl_cert("leaf", Some(("loop0.crt", "loop.key")), "/CN=looped signer", CODESIGN_EXT);
    let started = std::time::Instant::now();
    let err = env.fails(&[
        "verify-chain",
        "leaf.crt",
        "--untrusted",
        "loops.pem",
        "--trust",
        "ca.crt",
        "--purpose",
        "codesigning",
    ]);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(err.contains("root \"Loop CA\" is not trusted"), "{err}");
}
