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
    /// Whether `openssl verify` (at -auth_level 2) is expected to agree; where it is not,
    /// the case says why.
    openssl: bool,
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
    // Level 2: RSA keys of 2048 bits or more, no SHA-1 signatures (bootsign's policy).
    let mut theirs = vec!["verify", "-auth_level", "2", "-CAfile", c.trust, "-purpose", "sslserver"];
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
        openssl.status.success() == c.accept,
        c.openssl,
        "{}: openssl {}:\n{}{}",
        c.name,
        if c.openssl { "disagrees" } else { "was expected to disagree but agrees" },
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
        openssl: true,
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
        openssl: true,
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

/// An X.509 v1 certificate (no extensions), as `openssl x509 -req` makes without -extfile.
fn v1_cert(env: &Env, name: &str, issuer: (&str, &str), subject: &str) {
    let (key, req, crt) = (format!("{name}.key"), format!("{name}.req"), format!("{name}.crt"));
    env.openssl_ok(&[
        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &req, "-subj", subject,
    ]);
    env.openssl_ok(&[
        "x509",
        "-req",
        "-in",
        &req,
        "-CA",
        issuer.0,
        "-CAkey",
        issuer.1,
        "-set_serial",
        "4242",
        "-days",
        "30",
        "-out",
        &crt,
    ]);
    let text = env.openssl_ok(&["x509", "-in", &crt, "-noout", "-text"]);
    assert!(text.contains("Version: 1 (0x0)"), "{text}");
}

/// A refusal case without a name to match.
fn refuse<'a>(
    name: &'a str,
    leaf: &'a str,
    chain: &'a [&'a str],
    trust: &'a str,
    reason: &'a str,
) -> Case<'a> {
    Case {
        name,
        leaf,
        chain,
        trust,
        host: None,
        ip: None,
        at: None,
        accept: false,
        reason,
        webpki: true,
        openssl: true,
    }
}

fn accept<'a>(name: &'a str, leaf: &'a str, chain: &'a [&'a str], trust: &'a str) -> Case<'a> {
    Case { accept: true, ..refuse(name, leaf, chain, trust, "") }
}

fn server(sans: &str) -> String {
    format!("{SERVER_EXT}\nsubjectAltName={sans}")
}

#[test]
fn name_constraints_agree_with_openssl_and_webpki() {
    let env = Env::new();
    // On the root, critical, every form bootsign evaluates for DNS and IP; permitted and
    // excluded; an intermediate without constraints between.
    env.openssl_cert(
        "r1",
        None,
        "/CN=Root One",
        &format!(
            "{CA_EXT}\nnameConstraints=critical,permitted;DNS:example.com,permitted;IP:10.0.0.0/255.0.0.0,\
             excluded;DNS:bad.example.com,excluded;IP:10.0.9.0/255.255.255.0"
        ),
    );
    env.openssl_cert("i1", Some(("r1.crt", "r1.key")), "/CN=Int One", CA_EXT);
    let under_i1 = [
        ("l-ok", "DNS:boot.example.com,IP:10.0.2.2"),
        ("l-dns-out", "DNS:boot.example.com,DNS:evil.test"),
        ("l-dns-ex", "DNS:bad.example.com"),
        ("l-sub-ex", "DNS:x.bad.example.com"),
        ("l-wild", "DNS:*.example.com"),
        ("l-ip-out", "IP:192.168.1.1"),
        ("l-ip-ex", "IP:10.0.9.7"),
        ("l-ip6", "IP:fd00::1"),
    ];
    for (name, sans) in under_i1 {
        env.openssl_cert(name, Some(("i1.crt", "i1.key")), "/CN=leaf", &server(sans));
    }
    // The recipe's habit: an X.509 v1 server certificate with its name in the CN only.
    v1_cert(&env, "l-cn", ("i1.crt", "i1.key"), "/CN=evil.test");
    // A v3 certificate without subjectAltName has no host name at all.
    env.openssl_cert("l-cn3", Some(("i1.crt", "i1.key")), "/CN=boot.example.com", SERVER_EXT);

    // Non-critical, on an intermediate: the security bug this replaces.
    env.openssl_cert("r2", None, "/CN=Root Two", CA_EXT);
    env.openssl_cert(
        "i2",
        Some(("r2.crt", "r2.key")),
        "/CN=Int Two",
        &format!("{CA_EXT}\nnameConstraints=permitted;DNS:example.com"),
    );
    env.openssl_cert("l2-ok", Some(("i2.crt", "i2.key")), "/CN=leaf", &server("DNS:www.example.com"));
    env.openssl_cert("l2-evil", Some(("i2.crt", "i2.key")), "/CN=leaf", &server("DNS:evil.test"));

    // Split over two intermediates.
    env.openssl_cert("r3", None, "/CN=Root Three", CA_EXT);
    env.openssl_cert(
        "i3a",
        Some(("r3.crt", "r3.key")),
        "/CN=Int Three A",
        &format!("{CA_EXT}\nnameConstraints=critical,permitted;DNS:example.com"),
    );
    env.openssl_cert(
        "i3b",
        Some(("i3a.crt", "i3a.key")),
        "/CN=Int Three B",
        &format!("{CA_EXT}\nnameConstraints=critical,excluded;DNS:lab.example.com"),
    );
    for (name, sans) in
        [("l3-ok", "DNS:a.example.com"), ("l3-lab", "DNS:x.lab.example.com"), ("l3-evil", "DNS:evil.test")]
    {
        env.openssl_cert(name, Some(("i3b.crt", "i3b.key")), "/CN=leaf", &server(sans));
    }

    // directoryName on the root: the intermediate's subject is bound too.
    env.openssl_cert(
        "r4",
        None,
        "/C=US/O=Example/CN=Root Four",
        &format!(
            "{CA_EXT}\nnameConstraints=critical,permitted;dirName:dir_sect\n[dir_sect]\nC=US\nO=Example"
        ),
    );
    env.openssl_cert("i4", Some(("r4.crt", "r4.key")), "/C=US/O=Example/CN=Int Four", CA_EXT);
    env.openssl_cert("l4-ok", Some(("i4.crt", "i4.key")), "/C=US/O=Example/CN=leaf", &server("DNS:a.lan"));
    env.openssl_cert("l4-case", Some(("i4.crt", "i4.key")), "/C=US/O=EXAMPLE/CN=leaf", &server("DNS:a.lan"));
    env.openssl_cert("l4-out", Some(("i4.crt", "i4.key")), "/C=US/O=Other/CN=leaf", &server("DNS:a.lan"));

    // rfc822Name on an intermediate, in the SAN and in the subject's emailAddress.
    env.openssl_cert("r5", None, "/CN=Root Five", CA_EXT);
    env.openssl_cert(
        "i5",
        Some(("r5.crt", "r5.key")),
        "/CN=Int Five",
        &format!("{CA_EXT}\nnameConstraints=critical,permitted;email:example.com"),
    );
    env.openssl_cert(
        "l5-ok",
        Some(("i5.crt", "i5.key")),
        "/CN=leaf",
        &server("DNS:a.lan,email:ops@example.com"),
    );
    env.openssl_cert(
        "l5-out",
        Some(("i5.crt", "i5.key")),
        "/CN=leaf",
        &server("DNS:a.lan,email:ops@evil.test"),
    );
    env.openssl_cert(
        "l5-subj",
        Some(("i5.crt", "i5.key")),
        "/CN=leaf/emailAddress=ops@evil.test",
        &server("DNS:a.lan"),
    );

    // A form bootsign does not evaluate (URI): harmless without URI names, refusing with one.
    env.openssl_cert("r6", None, "/CN=Root Six", CA_EXT);
    env.openssl_cert(
        "i6",
        Some(("r6.crt", "r6.key")),
        "/CN=Int Six",
        &format!("{CA_EXT}\nnameConstraints=critical,permitted;URI:.example.com"),
    );
    env.openssl_cert("l6-dns", Some(("i6.crt", "i6.key")), "/CN=leaf", &server("DNS:a.lan"));
    env.openssl_cert(
        "l6-uri",
        Some(("i6.crt", "i6.key")),
        "/CN=leaf",
        &server("DNS:a.lan,URI:https://x.example.com/"),
    );

    let i1 = &["i1.crt"][..];
    let not_permitted =
        |n| format!("breaks the name constraints of CA \"Root One\": {n} is outside its permitted subtrees");
    let excluded = |ca: &str, n: &str| {
        format!("breaks the name constraints of CA \"{ca}\": {n} is in an excluded subtree")
    };
    let (dns_out, ip_out, ip6_out) = (
        not_permitted("DNS:evil.test"),
        not_permitted("IP:192.168.1.1"),
        not_permitted("IP:fd00:0:0:0:0:0:0:1"),
    );
    let (dns_ex, sub_ex, wild_ex, ip_ex) = (
        excluded("Root One", "DNS:bad.example.com"),
        excluded("Root One", "DNS:x.bad.example.com"),
        excluded("Root One", "DNS:*.example.com"),
        excluded("Root One", "IP:10.0.9.7"),
    );
    let lab_ex = excluded("Int Three B", "DNS:x.lab.example.com");
    let cases = [
        accept("root: DNS and IP inside", "l-ok.crt", i1, "r1.crt"),
        refuse("root: DNS outside", "l-dns-out.crt", i1, "r1.crt", &dns_out),
        refuse("root: DNS excluded", "l-dns-ex.crt", i1, "r1.crt", &dns_ex),
        refuse("root: DNS below an excluded name", "l-sub-ex.crt", i1, "r1.crt", &sub_ex),
        // A wildcard that could stand for an excluded name (as rustls-webpki since
        // CVE-2025-61727); OpenSSL 3.0 compares the wildcard as text and lets it pass.
        Case {
            openssl: false,
            ..refuse("root: wildcard over an excluded name", "l-wild.crt", i1, "r1.crt", &wild_ex)
        },
        refuse("root: IPv4 outside", "l-ip-out.crt", i1, "r1.crt", &ip_out),
        refuse("root: IPv4 excluded", "l-ip-ex.crt", i1, "r1.crt", &ip_ex),
        refuse("root: IPv6 under IPv4-only constraints", "l-ip6.crt", i1, "r1.crt", &ip6_out),
        // rustls-webpki never reads the CN (so it refuses for want of a name).
        Case {
            host: Some("evil.test"),
            webpki: false,
            ..refuse(
                "root: a v1 CN used as the host name",
                "l-cn.crt",
                i1,
                "r1.crt",
                "DNS:evil.test is outside its permitted subtrees",
            )
        },
        // OpenSSL falls back to the CN of any certificate without a DNS subjectAltName.
        Case {
            host: Some("boot.example.com"),
            openssl: false,
            ..refuse(
                "root: v3 without subjectAltName",
                "l-cn3.crt",
                i1,
                "r1.crt",
                "certificate \"boot.example.com\" is not valid for the name boot.example.com",
            )
        },
        accept("intermediate, non-critical: inside", "l2-ok.crt", &["i2.crt"][..], "r2.crt"),
        refuse(
            "intermediate, non-critical: outside",
            "l2-evil.crt",
            &["i2.crt"][..],
            "r2.crt",
            "breaks the name constraints of CA \"Int Two\": DNS:evil.test is outside its permitted subtrees",
        ),
        accept("two intermediates: inside both", "l3-ok.crt", &["i3a.crt", "i3b.crt"][..], "r3.crt"),
        refuse(
            "two intermediates: excluded below",
            "l3-lab.crt",
            &["i3b.crt", "i3a.crt"][..],
            "r3.crt",
            &lab_ex,
        ),
        refuse(
            "two intermediates: outside above",
            "l3-evil.crt",
            &["i3a.crt", "i3b.crt"][..],
            "r3.crt",
            "CA \"Int Three A\": DNS:evil.test is outside its permitted subtrees",
        ),
        // rustls-webpki refuses every directoryName constraint (not implemented there).
        Case { webpki: false, ..accept("directoryName: inside", "l4-ok.crt", &["i4.crt"][..], "r4.crt") },
        Case {
            webpki: false,
            ..accept("directoryName: case differs", "l4-case.crt", &["i4.crt"][..], "r4.crt")
        },
        refuse(
            "directoryName: outside",
            "l4-out.crt",
            &["i4.crt"][..],
            "r4.crt",
            "DirName:CN=leaf,O=Other,C=US is outside its permitted subtrees",
        ),
        // rustls-webpki refuses every rfc822Name constraint it meets a mailbox under.
        Case { webpki: false, ..accept("rfc822Name: inside", "l5-ok.crt", &["i5.crt"][..], "r5.crt") },
        refuse(
            "rfc822Name: outside",
            "l5-out.crt",
            &["i5.crt"][..],
            "r5.crt",
            "email:ops@evil.test is outside",
        ),
        // rustls-webpki does not read the subject's emailAddress.
        Case {
            webpki: false,
            ..refuse(
                "rfc822Name: subject emailAddress",
                "l5-subj.crt",
                &["i5.crt"][..],
                "r5.crt",
                "email:ops@evil.test is outside",
            )
        },
        accept("URI constraint, no URI name", "l6-dns.crt", &["i6.crt"][..], "r6.crt"),
        // OpenSSL evaluates URI constraints; bootsign and rustls-webpki refuse them.
        Case {
            openssl: false,
            ..refuse(
                "URI constraint, URI name",
                "l6-uri.crt",
                &["i6.crt"][..],
                "r6.crt",
                "is constrained by uniformResourceIdentifier subtrees, which bootsign does not evaluate",
            )
        },
    ];
    for c in &cases {
        judge(&env, c);
    }
}

#[test]
fn weak_keys_sha1_and_unenforced_critical_extensions_are_refused() {
    let env = Env::new();
    env.ok(&["ca", "init", "--cn", "Root CA"]);
    env.openssl_cert("int", Some(("ca.crt", "ca.key")), "/CN=Issuing CA", CA_EXT);
    let leaf = server("DNS:boot.example.lan");
    env.openssl_cert_with("sha1", Some(("int.crt", "int.key")), "/CN=sha1 leaf", &leaf, "rsa:2048", "sha1");
    env.openssl_cert_with(
        "small",
        Some(("int.crt", "int.key")),
        "/CN=small leaf",
        &leaf,
        "rsa:1024",
        "sha256",
    );
    env.openssl_cert_with(
        "small-int",
        Some(("ca.crt", "ca.key")),
        "/CN=Small CA",
        CA_EXT,
        "rsa:1024",
        "sha256",
    );
    env.openssl_cert("under-small", Some(("small-int.crt", "small-int.key")), "/CN=leaf", &leaf);
    env.openssl_cert_with("small-root", None, "/CN=Small Root", CA_EXT, "rsa:1024", "sha256");
    env.openssl_cert("under-small-root", Some(("small-root.crt", "small-root.key")), "/CN=leaf", &leaf);
    for (name, ext) in [
        ("crit-aia", "authorityInfoAccess=critical,OCSP;URI:http://ocsp.example.lan/"),
        ("crit-cp", "certificatePolicies=critical,1.3.6.1.4.1.99999.1"),
        ("crit-cdp", "crlDistributionPoints=critical,URI:http://ca.example.lan/ca.crl"),
        ("crit-ian", "issuerAltName=critical,DNS:ca.example.lan"),
    ] {
        env.openssl_cert(name, Some(("int.crt", "int.key")), "/CN=leaf", &format!("{leaf}\n{ext}"));
    }
    env.openssl_cert(
        "ca-leaf",
        Some(("int.crt", "int.key")),
        "/CN=ca as leaf",
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:boot.example.lan",
    );
    // A recipe-style certificate with an address as its CN and no SAN.
    env.openssl_cert("cn-ip", Some(("int.crt", "int.key")), "/CN=10.0.2.2", "basicConstraints=CA:FALSE");

    let int = &["int.crt"][..];
    let cases = [
        refuse(
            "SHA-1 signature",
            "sha1.crt",
            int,
            "ca.crt",
            "certificate \"sha1 leaf\" is signed with sha1WithRSAEncryption, a broken hash",
        ),
        // rustls-webpki bounds only the keys that verify signatures here (the leaf's key
        // is rustls's business at the handshake); bootsign refuses a weak key anywhere.
        Case {
            webpki: false,
            ..refuse(
                "1024-bit leaf",
                "small.crt",
                int,
                "ca.crt",
                "certificate \"small leaf\" has a 1024-bit RSA key; RSA keys under 2048 bits are refused",
            )
        },
        refuse(
            "1024-bit intermediate",
            "under-small.crt",
            &["small-int.crt"][..],
            "ca.crt",
            "certificate \"Small CA\" has a 1024-bit RSA key",
        ),
        refuse(
            "1024-bit root",
            "under-small-root.crt",
            &[][..],
            "small-root.crt",
            "certificate \"Small Root\" has a 1024-bit RSA key",
        ),
        // OpenSSL processes (or tolerates) these when critical; bootsign enforces none of
        // them, so it refuses, as rustls-webpki does.
        refuse(
            "critical authorityInfoAccess",
            "crit-aia.crt",
            int,
            "ca.crt",
            "unsupported critical extension id-pe-authorityInfoAccess (1.3.6.1.5.5.7.1.1)",
        ),
        Case {
            openssl: false,
            ..refuse(
                "critical certificatePolicies",
                "crit-cp.crt",
                int,
                "ca.crt",
                "unsupported critical extension id-ce-certificatePolicies",
            )
        },
        // rustls-webpki reads distribution points for its own CRL checks and lets a
        // critical one pass without CRLs; bootsign fetches no CRLs from them, so refuses.
        Case {
            webpki: false,
            openssl: false,
            ..refuse(
                "critical CRL distribution points",
                "crit-cdp.crt",
                int,
                "ca.crt",
                "unsupported critical extension id-ce-cRLDistributionPoints",
            )
        },
        refuse(
            "critical issuerAltName",
            "crit-ian.crt",
            int,
            "ca.crt",
            "unsupported critical extension id-ce-issuerAltName",
        ),
        // A CA certificate as a TLS server: rustls-webpki refuses, OpenSSL lets it pass.
        Case {
            openssl: false,
            host: Some("boot.example.lan"),
            ..refuse(
                "CA certificate as the server",
                "ca-leaf.crt",
                int,
                "ca.crt",
                "is a CA certificate (basicConstraints cA) and cannot be used as an end entity",
            )
        },
        Case {
            ip: Some("10.0.2.2"),
            webpki: false,
            ..refuse(
                "address in the CN only",
                "cn-ip.crt",
                int,
                "ca.crt",
                "is not valid for the name 10.0.2.2",
            )
        },
    ];
    for c in &cases {
        judge(&env, c);
    }
    // Pinned by its own fingerprint, a self-signed CA certificate may serve (a common
    // `openssl req -x509` server certificate).
    env.openssl_cert(
        "pinned",
        None,
        "/CN=boot.example.lan",
        "basicConstraints=critical,CA:TRUE\nsubjectAltName=DNS:boot.example.lan",
    );
    env.ok(&["verify-chain", "pinned.crt", "--trust", "pinned.crt", "--host", "boot.example.lan"]);
}

#[test]
fn at_takes_rfc3339_times() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Root CA"]);
    env.ok(&["issue", "--server", "--key", "p256", "--cn", "boot.example.lan"]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    // A few hours from now, written with an offset, fractions and lower case.
    let t = now + 3 * 3600;
    let (d, h, m) = ((t / 86_400) as i64, (t % 86_400) / 3600, (t % 3600) / 60);
    let civil = |days: i64| {
        // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        (yoe + era * 400 + i64::from(month <= 2), month, day)
    };
    let (y, mo, da) = civil(d);
    for at in [
        format!("{y:04}-{mo:02}-{da:02}T{h:02}:{m:02}:00Z"),
        format!("{y:04}-{mo:02}-{da:02}t{h:02}:{m:02}:00.250z"),
        format!("{y:04}-{mo:02}-{da:02}T{h:02}:{m:02}:00+00:00"),
    ] {
        env.ok(&["verify-chain", "server.crt", "--trust", "ca.crt", "--at", &at]);
    }
    // Before the CA existed, in another zone: refused as not yet valid.
    let err = env.fails(&[
        "verify-chain",
        "server.crt",
        "--trust",
        "ca.crt",
        "--at",
        "2001-02-03T04:05:06.7-08:00",
    ]);
    assert!(
        err.contains("is not valid until") && err.contains("(checked at 2001-02-03 12:05:06 UTC"),
        "{err}"
    );
    let err =
        env.fails(&["verify-chain", "server.crt", "--trust", "ca.crt", "--at", "2026-01-01T00:00:00+0200"]);
    assert!(err.contains("'2026-01-01T00:00:00+0200' is not a time: use YYYY-MM-DD, RFC 3339"), "{err}");
}
