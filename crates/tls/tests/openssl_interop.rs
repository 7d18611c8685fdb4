//! The client against the real `openssl s_server` on 127.0.0.1: every version, suite and
//! group with RSA and ECDSA server keys, HelloRetryRequest, fragmented handshakes, full
//! records, each certificate refusal, cross-certificates and client certificates.

mod support;

use bootsign_pki::{Cert, PathError};
use bootsign_tls::crosscert::{crc32, crosscert_url, parse_crosscert_response};
use bootsign_tls::{CertificateFailure, Config, Error, PeerState, TlsVersion};
use rustls::{CipherSuite, NamedGroup, ProtocolVersion};
use support::{Conn, Pki, Server, serve};

/// Handshake, a line each way (s_server -rev answers it reversed), clean close.
fn exchange(config: &Config, server: &Server, name: &str) -> Result<Conn, Error> {
    let mut conn = Conn::open(config, server.port, name)?;
    conn.handshake()?;
    conn.write(b"hello bootsign\n")?;
    let got = conn.read_exact(15)?;
    assert_eq!(got, b"ngistoob olleh\n", "reversed line; server log:\n{}", server.log());
    conn.close()?;
    assert_eq!(conn.client.peer_state(), PeerState::ClosedCleanly, "server log:\n{}", server.log());
    assert!(conn.client.is_closed());
    // After close_notify, what the server sends is dropped: not buffered, not an error.
    conn.client.feed_incoming(&[23, 3, 3, 0x40, 0]).unwrap();
    conn.client.feed_incoming(&[0x55; 4096]).unwrap();
    assert_eq!(conn.client.read_app(&mut Vec::new()).unwrap(), 0);
    Ok(conn)
}

fn run(config: &Config, args: &[String]) -> (Server, Result<Conn, Error>) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&args);
    let result = exchange(config, &server, "localhost");
    (server, result)
}

const GROUPS: [(&str, NamedGroup); 3] =
    [("X25519", NamedGroup::X25519), ("P-256", NamedGroup::secp256r1), ("P-384", NamedGroup::secp384r1)];

fn matrix(version: &str, leaf: &str, suites: &[(&str, CipherSuite)]) {
    let pki = Pki::get();
    let config = pki.config();
    let mut failures = Vec::new();
    for (suite_name, suite) in suites {
        for (group_name, group) in GROUPS {
            let mut args = serve(leaf, Some("chain.pem"));
            let suite_flag = if version == "-tls1_3" { "-ciphersuites" } else { "-cipher" };
            args.extend([
                version.into(),
                suite_flag.into(),
                suite_name.to_string(),
                "-groups".into(),
                group_name.into(),
            ]);
            let (server, result) = run(&config, &args);
            match result {
                Ok(conn) => {
                    let n = conn.client.negotiated().expect("negotiated after the handshake");
                    let want_version = if version == "-tls1_3" {
                        ProtocolVersion::TLSv1_3
                    } else {
                        ProtocolVersion::TLSv1_2
                    };
                    if n.version != want_version || n.suite != *suite || n.group != Some(group) {
                        failures.push(format!("{suite_name}/{group_name}: negotiated {n:?}"));
                    }
                }
                Err(e) => failures.push(format!("{suite_name}/{group_name}: {e}\n{}", server.log())),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        suites.len() * 3,
        failures.join("\n")
    );
}

const TLS13_SUITES: [(&str, CipherSuite); 3] = [
    ("TLS_AES_128_GCM_SHA256", CipherSuite::TLS13_AES_128_GCM_SHA256),
    ("TLS_AES_256_GCM_SHA384", CipherSuite::TLS13_AES_256_GCM_SHA384),
    ("TLS_CHACHA20_POLY1305_SHA256", CipherSuite::TLS13_CHACHA20_POLY1305_SHA256),
];

/// A second connection from the same configuration (or a clone) resumes the first one's
/// session: a TLS 1.3 ticket (stateless, or with `-no_ticket` one the server keeps), a TLS
/// 1.2 ticket or, with `-no_ticket`, session ID. Another configuration (another cache)
/// makes a full handshake, and so does one whose trust changed since.
#[test]
fn later_connections_resume_the_session() {
    let pki = Pki::get();
    for version in ["-tls1_2", "-tls1_3"] {
        for tickets in [true, false] {
            let config = pki.config();
            let mut args = serve("leaf-ec", Some("chain.pem"));
            args.push(version.into());
            if !tickets {
                args.push("-no_ticket".into());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let server = Server::start(&args);
            let kind = |config: &Config| {
                let conn = exchange(config, &server, "localhost")
                    .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
                conn.client.negotiated().unwrap().resumed()
            };
            assert!(!kind(&config), "{version}: the first connection is a full handshake");
            let resumes = true;
            assert_eq!(kind(&config), resumes, "{version} tickets {tickets}: the second connection");
            assert_eq!(
                kind(&config.clone()),
                resumes,
                "{version} tickets {tickets}: a clone shares the cache"
            );
            assert!(!kind(&pki.config()), "{version}: another configuration has no session to resume");
            let mut changed = config.clone();
            changed.add_certificates([pki.der("leaf-rsa")]).unwrap();
            assert!(!kind(&changed), "{version}: sessions verified under other trust are not resumed");
            assert!(kind(&changed), "{version}: ... and the new trust's session is");
        }
    }
}

#[test]
fn tls13_every_suite_and_group_rsa_key() {
    matrix("-tls1_3", "leaf-rsa", &TLS13_SUITES);
}

#[test]
fn tls13_every_suite_and_group_ecdsa_key() {
    matrix("-tls1_3", "leaf-ec", &TLS13_SUITES);
}

#[test]
fn tls12_ecdhe_rsa_every_suite_and_group() {
    matrix(
        "-tls1_2",
        "leaf-rsa",
        &[
            ("ECDHE-RSA-AES128-GCM-SHA256", CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
            ("ECDHE-RSA-AES256-GCM-SHA384", CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
            ("ECDHE-RSA-CHACHA20-POLY1305", CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256),
        ],
    );
}

#[test]
fn tls12_ecdhe_ecdsa_every_suite_and_group() {
    matrix(
        "-tls1_2",
        "leaf-ec",
        &[
            ("ECDHE-ECDSA-AES128-GCM-SHA256", CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
            ("ECDHE-ECDSA-AES256-GCM-SHA384", CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
            ("ECDHE-ECDSA-CHACHA20-POLY1305", CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256),
        ],
    );
}

#[test]
fn hello_retry_request_to_p384() {
    let mut args = serve("leaf-ec", Some("chain.pem"));
    args.extend(["-tls1_3".into(), "-groups".into(), "P-384".into()]);
    let (server, result) = run(&Pki::get().config(), &args);
    let conn = result.unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    let n = conn.client.negotiated().unwrap();
    assert_eq!(n.group, Some(NamedGroup::secp384r1));
    assert_eq!(n.kind, rustls::HandshakeKind::FullWithHelloRetryRequest);
}

#[test]
fn fragmented_handshake_messages() {
    for version in ["-tls1_3", "-tls1_2"] {
        let mut args = serve("leaf-rsa", Some("chain.pem"));
        args.extend([version.into(), "-max_send_frag".into(), "512".into()]);
        let (server, result) = run(&Pki::get().config(), &args);
        result.unwrap_or_else(|e| panic!("{version}: {e}\n{}", server.log()));
    }
}

/// An `s_server -rev` (it answers each line reversed) at `version` with the EC leaf and
/// its chain, and a client connection to it with the handshake done.
fn reversing_session(version: &str) -> (Server, Conn) {
    let mut args = serve("leaf-ec", Some("chain.pem"));
    args.push(version.into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&args);
    let mut conn = Conn::open(&Pki::get().config(), server.port, "localhost").unwrap();
    conn.handshake().unwrap();
    (server, conn)
}

#[test]
fn sixteen_kib_records_both_ways() {
    for version in ["-tls1_3", "-tls1_2"] {
        let (server, mut conn) = reversing_session(version);
        // s_server -rev reads lines into a 16 KiB buffer: the longest line it reverses whole.
        let line: Vec<u8> = (0..16380).map(|i| b'a' + (i % 26) as u8).collect();
        let mut sent = line.clone();
        sent.push(b'\n');
        conn.write(&sent).unwrap();
        let got = conn.read_exact(sent.len()).unwrap();
        let mut want: Vec<u8> = line.iter().rev().copied().collect();
        want.push(b'\n');
        assert_eq!(got.len(), want.len(), "{version}; server log:\n{}", server.log());
        assert!(got == want, "{version}: the reversed 16 KiB line differs");
        conn.close().unwrap();
    }
}

/// A record cut anywhere is held as buffered input until its last byte arrives (the
/// firmware keeps a connection for the next download only when none is held), through
/// the [`bootsign_tls::Connection`] the firmware uses as well.
#[test]
fn partial_records_are_buffered_input() {
    for version in ["-tls1_3", "-tls1_2"] {
        let (server, mut conn) = reversing_session(version);
        assert!(!conn.client.has_buffered_input(), "{version}");
        conn.write(b"hello bootsign\n").unwrap();
        let mut got = Vec::new();
        while got.len() < 15 {
            let data = conn.read_raw();
            let (most, last) = data.split_at(data.len() - 1);
            conn.client.feed_incoming(most).unwrap();
            assert!(conn.client.has_buffered_input(), "{version}: a record short of its last byte");
            conn.client.feed_incoming(last).unwrap();
            conn.client.read_app(&mut got).unwrap();
        }
        assert_eq!(got, b"ngistoob olleh\n", "{version}; server log:\n{}", server.log());
        assert!(!conn.client.has_buffered_input(), "{version}: the reply's records were whole");
        // The same through the engine-neutral Connection: a header's worth is held.
        let mut either = bootsign_tls::Connection::Modern(Box::new(conn.client));
        either.feed_incoming(&[23, 3, 3]).unwrap();
        assert!(either.has_buffered_input(), "{version}");
    }
}

/// Records fed in place, cut at every kind of place (inside the header, inside the body,
/// several records at once), reach the sink whole and in order, for both versions.
#[test]
fn records_fed_in_place_reach_the_sink_in_order() {
    for version in ["-tls1_3", "-tls1_2"] {
        let (server, mut conn) = reversing_session(version);
        let mut want = Vec::new();
        for n in 0..3u8 {
            let line: Vec<u8> = (0..16380).map(|i| b'a' + ((i + usize::from(n)) % 26) as u8).collect();
            let mut sent = line.clone();
            sent.push(b'\n');
            conn.write(&sent).unwrap();
            want.extend(line.iter().rev());
            want.push(b'\n');
        }
        let (mut got, mut cuts) = (Vec::new(), [1usize, 4, 700, 16_389, 3, 40_000].into_iter().cycle());
        while got.len() < want.len() {
            let mut data = conn.read_raw();
            let mut rest = &mut data[..];
            while !rest.is_empty() {
                let (piece, tail) = rest.split_at_mut(cuts.next().unwrap().min(rest.len()));
                conn.client.feed_incoming_in_place(piece, &mut |d| got.extend_from_slice(d)).unwrap();
                rest = tail;
            }
            assert_eq!(conn.client.read_app(&mut got).unwrap(), 0, "{version}: data kept back from the sink");
        }
        assert_eq!(got.len(), want.len(), "{version}; server log:\n{}", server.log());
        assert!(got == want, "{version}: the data fed in place differs");
        assert!(!conn.client.has_buffered_input(), "{version}");
    }
}

#[test]
fn ip_address_name_without_sni() {
    let mut args = serve("leaf-ec", Some("chain.pem"));
    args.push("-tls1_3".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&args);
    exchange(&Pki::get().config(), &server, "127.0.0.1").unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
}

#[test]
fn tls13_only_client_refuses_tls12_server() {
    let mut args = serve("leaf-ec", Some("chain.pem"));
    args.push("-tls1_2".into());
    let mut config = Pki::get().config();
    config.set_min_version(TlsVersion::Tls13);
    let (_server, result) = run(&config, &args);
    let err = result.err().expect("a TLS 1.2 server must be refused by a TLS 1.3-only client");
    assert!(matches!(err, Error::VersionBelowMinimum { min: TlsVersion::Tls13 }), "{err:?}");
    assert!(err.to_string().contains("does not speak TLS 1.3"), "{err}");
}

/// Runs a server that must be refused and returns the error.
fn refused(leaf: &str, chain: Option<&str>, version: &str) -> Error {
    let mut args = serve(leaf, chain);
    args.push(version.into());
    let (server, result) = run(&Pki::get().config(), &args);
    match result {
        Ok(_) => panic!("the connection to {leaf} was accepted; server log:\n{}", server.log()),
        Err(e) => e,
    }
}

fn path_error(e: &Error) -> &PathError {
    match e {
        Error::Certificate(CertificateFailure::Path(p)) => p,
        other => panic!("expected a path error, got {other:?} ({other})"),
    }
}

#[test]
fn refuses_expired_certificate() {
    for version in ["-tls1_3", "-tls1_2"] {
        let e = refused("expired", Some("chain.pem"), version);
        assert!(matches!(path_error(&e), PathError::Expired { cert, .. } if cert == "localhost"), "{e}");
        assert!(e.to_string().contains("expired on 2020-03-01"), "{e}");
    }
}

#[test]
fn refuses_certificate_not_yet_valid() {
    let e = refused("future", Some("chain.pem"), "-tls1_3");
    assert!(matches!(path_error(&e), PathError::NotYetValid { .. }), "{e}");
    assert!(e.to_string().contains("not valid until 2099-01-01"), "{e}");
}

#[test]
fn refuses_wrong_host_name() {
    let e = refused("wronghost", Some("chain.pem"), "-tls1_3");
    assert!(
        matches!(path_error(&e), PathError::NameMismatch { cert, name } if cert == "wrong.example" && name == "localhost"),
        "{e}"
    );
}

#[test]
fn refuses_san_mismatch_even_when_cn_matches() {
    let e = refused("cn-san", Some("chain.pem"), "-tls1_2");
    assert!(matches!(path_error(&e), PathError::NameMismatch { .. }), "{e}");
}

#[test]
fn refuses_untrusted_root() {
    let e = refused("leaf-root2", Some("chain-root2.pem"), "-tls1_3");
    assert!(matches!(path_error(&e), PathError::UntrustedRoot { cert, .. } if cert == "Other Root"), "{e}");
}

#[test]
fn refuses_self_signed_leaf() {
    let e = refused("selfsigned", None, "-tls1_3");
    assert!(matches!(path_error(&e), PathError::UntrustedRoot { cert, .. } if cert == "localhost"), "{e}");
}

#[test]
fn refuses_tampered_signature() {
    let mut args =
        vec!["-cert".to_string(), support::p("tampered.pem"), "-key".into(), support::p("leaf-ec.key")];
    args.extend(["-cert_chain".into(), support::p("chain.pem"), "-tls1_3".into()]);
    let (_server, result) = run(&Pki::get().config(), &args);
    let e = result.err().expect("a certificate with a broken signature must be refused");
    assert!(
        matches!(path_error(&e), PathError::BadSignature { cert, issuer, .. } if cert == "localhost" && issuer == "Test Intermediate"),
        "{e}"
    );
}

#[test]
fn refuses_issuer_that_is_not_a_ca() {
    let e = refused("leaf-notca", Some("chain-notca.pem"), "-tls1_3");
    assert!(matches!(path_error(&e), PathError::NotCa { cert } if cert == "Not A CA"), "{e}");
}

#[test]
fn refuses_path_length_violation() {
    let e = refused("leaf-sub", Some("chain-sub.pem"), "-tls1_3");
    assert!(
        matches!(path_error(&e), PathError::PathLenExceeded { cert, path_len: 0, below: 1 } if cert == "Test Intermediate"),
        "{e}"
    );
}

#[test]
fn refuses_signing_with_a_key_encipherment_only_leaf() {
    // The path check accepts keyEncipherment for a TLS server; an ECDHE or TLS 1.3
    // handshake is signed with the key, which needs digitalSignature.
    for (version, suite) in
        [("-tls1_2", "ECDHE-RSA-AES128-GCM-SHA256"), ("-tls1_3", "ECDHE-RSA-AES128-GCM-SHA256")]
    {
        let mut args = serve("kenc-rsa", Some("chain.pem"));
        args.extend([version.into(), "-cipher".into(), suite.into()]);
        let (server, result) = run(&Pki::get().config(), &args);
        let e = result.err().unwrap_or_else(|| panic!("{version}: accepted; server log:\n{}", server.log()));
        assert!(
            matches!(path_error(&e), PathError::KeyUsage { cert, needed } if cert == "localhost" && needed.starts_with("digitalSignature")),
            "{version}: {e}"
        );
        assert!(e.to_string().contains("keyUsage without digitalSignature"), "{e}");
    }
}

#[test]
fn refuses_leaf_without_server_auth() {
    let e = refused("clientonly", Some("chain.pem"), "-tls1_2");
    assert!(matches!(path_error(&e), PathError::WrongPurpose { .. }), "{e}");
    assert!(e.to_string().contains("serverAuth"), "{e}");
}

#[test]
fn tls10_only_server_is_reported_as_such() {
    let mut args = serve("leaf-rsa", Some("chain.pem"));
    args.extend(["-tls1".into(), "-cipher".into(), "ALL:@SECLEVEL=0".into()]);
    let (server, result) = run(&Pki::get().config(), &args);
    let e = result.err().expect("a TLS 1.0-only server cannot be spoken to");
    // OpenSSL answers a ClientHello offering only TLS 1.2/1.3 with a protocol_version alert.
    assert!(matches!(e, Error::LegacyProtocolOnly), "{e:?}\n{}", server.log());
    assert!(e.to_string().contains("only offers TLS 1.0/1.1"), "{e}");
}

#[test]
fn accepts_x509_v1_certificate_named_by_cn() {
    assert_eq!(Cert::parse(&Pki::get().der("v1")).unwrap().version, 1, "the fixture must be X.509 v1");
    let mut args = serve("v1", Some("chain.pem"));
    args.push("-tls1_2".into());
    let (server, result) = run(&Pki::get().config(), &args);
    result.unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
}

#[test]
fn missing_intermediate_is_fetched_as_a_cross_certificate() {
    let pki = Pki::get();
    let mut config = pki.config();
    let mut args = serve("leaf-ec", None);
    args.push("-tls1_3".into());
    let (_s1, first) = run(&config, &args);
    let e = first.err().expect("without the intermediate the chain cannot be built");
    let dn = e.missing_issuer().unwrap_or_else(|| panic!("expected a missing issuer, got {e:?}")).to_vec();
    let int_der = pki.der("int");
    assert_eq!(dn, Cert::parse(&int_der).unwrap().subject, "the missing issuer is the intermediate");
    assert!(e.to_string().contains("Test Intermediate"), "{e}");

    let url = crosscert_url("http://10.0.2.2:8080/crosscert", &dn);
    let prefix = format!("http://10.0.2.2:8080/crosscert/{:08x}.der?subject=", crc32(&dn));
    assert!(url.starts_with(&prefix), "{url}");
    assert!(!url[prefix.len()..].contains(['+', '/', '=']), "the query is URL-safe: {url}");

    // The crosscert server's answer: SET OF Certificate holding the intermediate.
    let mut answer = vec![0x31, 0x82, (int_der.len() >> 8) as u8, int_der.len() as u8];
    answer.extend_from_slice(&int_der);
    let certs = parse_crosscert_response(&answer).unwrap();
    assert_eq!(certs, vec![int_der]);
    config.add_certificates(certs).unwrap();
    let (server, second) = run(&config, &args);
    second.unwrap_or_else(|e| panic!("with the cross-certificate: {e}\n{}", server.log()));
}

fn mtls(chain: &[&str], key: &str, version: &str) -> Result<Conn, Error> {
    let pki = Pki::get();
    let mut config = pki.config();
    if !chain.is_empty() {
        let chain: Vec<Vec<u8>> = chain.iter().map(|c| pki.der(c)).collect();
        config.set_client_auth(&chain, &pki.file(key)).unwrap();
    }
    let mut args = serve("leaf-ec", Some("chain.pem"));
    args.extend([
        version.into(),
        "-Verify".into(),
        "1".into(),
        "-CAfile".into(),
        support::p("client-ca.pem"),
    ]);
    args.push("-verify_return_error".into());
    let (server, result) = run(&config, &args);
    if result.is_ok() {
        assert!(server.log_shows("Test Client"), "the server saw the client certificate:\n{}", server.log());
    }
    result
}

#[test]
fn client_certificate_rsa_pkcs8_and_pkcs1() {
    for version in ["-tls1_3", "-tls1_2"] {
        mtls(&["client-rsa", "int"], "client-rsa.pk8", version)
            .unwrap_or_else(|e| panic!("{version} PKCS#8: {e}"));
        mtls(&["client-rsa", "int"], "client-rsa.pk1", version)
            .unwrap_or_else(|e| panic!("{version} PKCS#1: {e}"));
    }
}

#[test]
fn client_certificate_ec_sec1() {
    for version in ["-tls1_3", "-tls1_2"] {
        mtls(&["client-ec", "int"], "client-ec.sec1", version).unwrap_or_else(|e| panic!("{version}: {e}"));
    }
}

#[test]
fn missing_client_certificate_names_the_alert() {
    let e = mtls(&[], "", "-tls1_3").err().expect("the server requires a client certificate");
    assert!(
        matches!(
            e,
            Error::AlertReceived {
                alert: rustls::AlertDescription::CertificateRequired,
                client_cert_requested: true,
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(text.contains("certificate_required") && text.contains("none is configured"), "{text}");

    let e = mtls(&[], "", "-tls1_2").err().expect("the server requires a client certificate");
    assert!(matches!(e, Error::AlertReceived { client_cert_requested: true, .. }), "{e:?}");
    assert!(e.to_string().contains("none is configured"), "{e}");
}

#[test]
fn bad_client_key_is_refused_at_configuration() {
    let pki = Pki::get();
    let mut config = pki.config();
    let e = config.set_client_auth(&[pki.der("client-ec")], b"not a key").unwrap_err();
    assert!(e.to_string().contains("client private key"), "{e}");
    let e = config.add_certificates([b"junk".to_vec()]).unwrap_err();
    assert!(matches!(e, Error::ExtraCertificate { index: 0, .. }), "{e:?}");
}
