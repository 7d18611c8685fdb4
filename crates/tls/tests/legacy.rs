//! The legacy engine against the real `openssl s_server` on 127.0.0.1: the four
//! static-RSA CBC suites at TLS 1.2, TLS 1.0/1.1 in legacy mode, with and without the
//! extended master secret, fragmented handshakes, full records, client certificates, the
//! certificate refusals of the shared verifier, and the fallback rule from the rustls
//! client.

mod support;

use bootsign_pki::{Cert, PathError};
use bootsign_tls::{
    CertificateFailure, Config, Connection, Error, LegacyClient, LegacyError, LegacyVersion, PeerState,
    TlsVersion,
};
use rustls::{AlertDescription, CipherSuite, ProtocolVersion};
use support::{Conn, Pki, Server, p, serve};

/// Handshake, a line each way (s_server -rev answers it reversed), clean close.
fn exchange(config: &Config, server: &Server, name: &str) -> Result<Conn<LegacyClient>, Error> {
    let mut conn = Conn::open_legacy(config, server.port, name)?;
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

fn start(args: &[String]) -> Server {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(&args)
}

fn run(config: &Config, args: &[String]) -> (Server, Result<Conn<LegacyClient>, Error>) {
    let server = start(args);
    let result = exchange(config, &server, "localhost");
    (server, result)
}

/// `s_server` arguments for the RSA leaf at `version` with the OpenSSL suite `suite`.
fn rsa_server(version: &str, suite: &str) -> Vec<String> {
    let mut args = serve("leaf-rsa", Some("chain.pem"));
    args.extend([version.into(), "-cipher".into(), suite.into()]);
    args
}

fn legacy_config(min: LegacyVersion) -> Config {
    let mut config = Pki::get().config();
    config.set_legacy_min(Some(min));
    config
}

const SUITES: [(&str, CipherSuite); 4] = [
    ("AES128-SHA", CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA),
    ("AES256-SHA", CipherSuite::TLS_RSA_WITH_AES_256_CBC_SHA),
    ("AES128-SHA256", CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA256),
    ("AES256-SHA256", CipherSuite::TLS_RSA_WITH_AES_256_CBC_SHA256),
];

#[test]
fn tls12_every_static_rsa_suite() {
    let config = Pki::get().config();
    for (name, suite) in SUITES {
        let (server, result) = run(&config, &rsa_server("-tls1_2", name));
        let conn = result.unwrap_or_else(|e| panic!("{name}: {e}\n{}", server.log()));
        let n = conn.client.negotiated().expect("negotiated after the handshake");
        assert_eq!((n.version, n.suite, n.group), (ProtocolVersion::TLSv1_2, suite, None), "{name}");
        assert_eq!(conn.client.extended_master_secret(), Some(true), "{name}: OpenSSL agrees to EMS");
    }
}

#[test]
fn tls10_and_tls11_in_legacy_mode() {
    let config = legacy_config(LegacyVersion::Tls10);
    for (flag, version) in [("-tls1", ProtocolVersion::TLSv1_0), ("-tls1_1", ProtocolVersion::TLSv1_1)] {
        for (name, suite) in &SUITES[..2] {
            let (server, result) = run(&config, &rsa_server(flag, &format!("{name}:@SECLEVEL=0")));
            let conn = result.unwrap_or_else(|e| panic!("{flag} {name}: {e}\n{}", server.log()));
            let n = conn.client.negotiated().unwrap();
            assert_eq!((n.version, n.suite), (version, *suite), "{flag} {name}");
            assert_eq!(conn.client.extended_master_secret(), Some(true));
        }
    }
}

#[test]
fn without_extended_master_secret() {
    // s_server has no flag for it: its SSL_CONF "Options" switch it off.
    let cnf = Pki::get().dir.join("no-ems.cnf");
    std::fs::write(
        &cnf,
        "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n[sys]\n\
         Options = -ExtendedMasterSecret\n",
    )
    .unwrap();
    let config = legacy_config(LegacyVersion::Tls10);
    for (flag, suite) in [("-tls1_2", "AES256-SHA256"), ("-tls1", "AES128-SHA:@SECLEVEL=0")] {
        let args = rsa_server(flag, suite);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let server = Server::start_with_env(&args, &[("OPENSSL_CONF", cnf.to_str().unwrap())]);
        let conn = exchange(&config, &server, "localhost")
            .unwrap_or_else(|e| panic!("{flag}: {e}\n{}", server.log()));
        assert_eq!(conn.client.extended_master_secret(), Some(false), "{flag}");
    }
}

#[test]
fn tls10_server_refused_unless_legacy_mode() {
    let args = rsa_server("-tls1", "ALL:@SECLEVEL=0");
    let config = Pki::get().config();
    let (server, result) = run(&config, &args);
    let e = result.err().expect("TLS 1.0 needs legacy mode");
    assert!(matches!(e, Error::LegacyProtocolOnly), "{e:?}\n{}", server.log());
    assert!(e.to_string().contains("only offers TLS 1.0/1.1"), "{e}");
    assert!(!e.wants_legacy_retry(&config), "nothing to gain from a retry without legacy mode");
    assert!(e.wants_legacy_retry(&legacy_config(LegacyVersion::Tls10)));

    // Legacy mode from TLS 1.1 still refuses a TLS 1.0 server, and says so.
    let (_server, result) = run(&legacy_config(LegacyVersion::Tls11), &args);
    let e = result.err().expect("TLS 1.0 is below the legacy minimum");
    assert!(
        matches!(
            e,
            Error::Legacy(LegacyError::VersionBelowLegacyMinimum {
                version: 0x0301,
                min: LegacyVersion::Tls11
            })
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("TLS 1.0"), "{e}");
}

#[test]
fn tls13_minimum_refuses_the_legacy_engine() {
    let mut config = Pki::get().config();
    config.set_min_version(TlsVersion::Tls13);
    let e = LegacyClient::new(&config, "localhost").unwrap_err();
    assert!(matches!(e, Error::VersionBelowMinimum { min: TlsVersion::Tls13 }), "{e:?}");
}

/// The rule the firmware follows: rustls first, the legacy engine on a new connection when
/// the server refused the hello.
fn connect_with_fallback(config: &Config, server: &Server) -> Result<Connection, Error> {
    let mut tcp = Conn::over_tcp(Connection::new(config, "localhost")?, server.port);
    let e = match tcp.handshake() {
        Ok(()) => return Ok(tcp.client),
        Err(e) => e,
    };
    let Some(retry) = Connection::retry_after(&e, config, "localhost") else { return Err(e) };
    let mut tcp = Conn::over_tcp(retry?, server.port);
    tcp.handshake()?;
    tcp.write(b"fallback\n")?;
    assert_eq!(tcp.read_exact(9)?, b"kcabllaf\n");
    tcp.close()?;
    Ok(tcp.client)
}

#[test]
fn fallback_from_rustls_to_static_rsa() {
    let config = Pki::get().config();
    let server = start(&rsa_server("-tls1_2", "AES128-SHA256"));
    // rustls alone: no suite in common.
    let mut first = Conn::open(&config, server.port, "localhost").unwrap();
    let e = first.handshake().expect_err("rustls has no static-RSA suite");
    assert!(matches!(e, Error::AlertReceived { alert: AlertDescription::HandshakeFailure, .. }), "{e:?}");
    assert!(e.wants_legacy_retry(&config));
    drop(first);
    let conn = connect_with_fallback(&config, &server).unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert!(conn.is_legacy());
    assert_eq!(conn.negotiated().unwrap().suite, CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA256);
}

#[test]
fn fallback_to_tls10_only_in_legacy_mode() {
    let server = start(&rsa_server("-tls1", "ALL:@SECLEVEL=0"));
    let e = connect_with_fallback(&Pki::get().config(), &server).expect_err("no legacy mode");
    assert!(matches!(e, Error::LegacyProtocolOnly), "{e:?}");
    let conn = connect_with_fallback(&legacy_config(LegacyVersion::Tls10), &server)
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(conn.negotiated().unwrap().version, ProtocolVersion::TLSv1_0);
}

/// Runs a TLS 1.2 static-RSA server that must be refused and returns the error.
fn refused(leaf: &str, chain: Option<&str>) -> Error {
    let mut args = serve(leaf, chain);
    args.extend(["-tls1_2".into(), "-cipher".into(), "AES128-SHA".into()]);
    let config = Pki::get().config();
    let (server, result) = run(&config, &args);
    let e = match result {
        Ok(_) => panic!("the connection to {leaf} was accepted; server log:\n{}", server.log()),
        Err(e) => e,
    };
    assert!(!e.wants_legacy_retry(&config), "a certificate refusal is never retried: {e:?}");
    e
}

fn path_error(e: &Error) -> &PathError {
    match e {
        Error::Certificate(CertificateFailure::Path(p)) => p,
        other => panic!("expected a path error, got {other:?} ({other})"),
    }
}

#[test]
fn refuses_untrusted_root() {
    let e = refused("leaf-root2-rsa", Some("chain-root2.pem"));
    assert!(matches!(path_error(&e), PathError::UntrustedRoot { cert, .. } if cert == "Other Root"), "{e}");
}

#[test]
fn refuses_wrong_host_name() {
    let e = refused("wronghost-rsa", Some("chain.pem"));
    assert!(
        matches!(path_error(&e), PathError::NameMismatch { cert, name } if cert == "wrong.example" && name == "localhost"),
        "{e}"
    );
}

#[test]
fn refuses_expired_certificate() {
    let e = refused("expired-rsa", Some("chain.pem"));
    assert!(matches!(path_error(&e), PathError::Expired { cert, .. } if cert == "localhost"), "{e}");
    assert!(e.to_string().contains("expired on 2020-03-01"), "{e}");
}

#[test]
fn missing_intermediate_names_the_issuer() {
    let e = refused("leaf-rsa", None);
    let dn = e.missing_issuer().unwrap_or_else(|| panic!("expected a missing issuer, got {e:?}"));
    assert_eq!(dn, Cert::parse(&Pki::get().der("int")).unwrap().subject);
    assert!(e.to_string().contains("Test Intermediate"), "{e}");
}

#[test]
fn refuses_ec_server_key() {
    // An EC certificate cannot do RSA key exchange: OpenSSL itself finds no suite.
    let mut args = serve("leaf-ec", Some("chain.pem"));
    args.extend(["-tls1_2".into(), "-cipher".into(), "AES128-SHA".into()]);
    let (_server, result) = run(&Pki::get().config(), &args);
    let e = result.err().expect("no static-RSA suite with an EC key");
    assert!(matches!(e, Error::AlertReceived { alert: AlertDescription::HandshakeFailure, .. }), "{e:?}");
}

#[test]
fn fragmented_handshake_messages() {
    let config = legacy_config(LegacyVersion::Tls10);
    for (flag, suite) in [("-tls1_2", "AES256-SHA256"), ("-tls1", "AES128-SHA:@SECLEVEL=0")] {
        let mut args = rsa_server(flag, suite);
        args.extend(["-max_send_frag".into(), "512".into()]);
        let (server, result) = run(&config, &args);
        result.unwrap_or_else(|e| panic!("{flag}: {e}\n{}", server.log()));
    }
}

#[test]
fn sixteen_kib_records_both_ways() {
    let config = legacy_config(LegacyVersion::Tls10);
    for (flag, suite) in [
        ("-tls1_2", "AES128-SHA256"),
        ("-tls1_1", "AES256-SHA:@SECLEVEL=0"),
        ("-tls1", "AES128-SHA:@SECLEVEL=0"),
    ] {
        let server = start(&rsa_server(flag, suite));
        let mut conn = Conn::open_legacy(&config, server.port, "localhost").unwrap();
        conn.handshake().unwrap_or_else(|e| panic!("{flag}: {e}\n{}", server.log()));
        // s_server -rev reads lines into a 16 KiB buffer: the longest line it reverses whole.
        let line: Vec<u8> = (0..16380).map(|i| b'a' + (i % 26) as u8).collect();
        let mut sent = line.clone();
        sent.push(b'\n');
        conn.write(&sent).unwrap();
        let got = conn.read_exact(sent.len()).unwrap();
        let mut want: Vec<u8> = line.iter().rev().copied().collect();
        want.push(b'\n');
        assert_eq!(got.len(), want.len(), "{flag}; server log:\n{}", server.log());
        assert!(got == want, "{flag}: the reversed 16 KiB line differs");
        conn.close().unwrap();
    }
}

#[test]
fn sni_names_the_server() {
    let mut args = rsa_server("-tls1_2", "AES128-SHA");
    // The second certificate is served for the name "localhost"; any other name is fatal.
    args.extend(
        [
            "-servername",
            "localhost",
            "-servername_fatal",
            "-cert2",
            &p("leaf-rsa.pem"),
            "-key2",
            &p("leaf-rsa.key"),
        ]
        .map(String::from),
    );
    // -cert_chain applies to the first context only: supply the intermediate ourselves.
    let mut config = Pki::get().config();
    config.add_certificates([Pki::get().der("int")]).unwrap();
    let server = start(&args);
    exchange(&config, &server, "localhost").unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    // An IP address is not sent as SNI (and the certificate has it).
    exchange(&config, &server, "127.0.0.1").unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    // Another name is, and this server refuses it before any certificate.
    let e = exchange(&config, &server, "other.localhost").err().expect("the server refuses other names");
    assert!(matches!(e, Error::AlertReceived { alert: AlertDescription::UnrecognisedName, .. }), "{e:?}");
}

fn mtls(chain: &[&str], key: &str, flag: &str, suite: &str) -> Result<Conn<LegacyClient>, Error> {
    let pki = Pki::get();
    let mut config = legacy_config(LegacyVersion::Tls10);
    if !chain.is_empty() {
        let chain: Vec<Vec<u8>> = chain.iter().map(|c| pki.der(c)).collect();
        config.set_client_auth(&chain, &pki.file(key)).unwrap();
    }
    let mut args = rsa_server(flag, suite);
    args.extend([
        "-Verify".into(),
        "1".into(),
        "-CAfile".into(),
        p("client-ca.pem"),
        "-verify_return_error".into(),
    ]);
    let (server, result) = run(&config, &args);
    if result.is_ok() {
        assert!(server.log_shows("Test Client"), "the server saw the client certificate:\n{}", server.log());
    }
    result
}

#[test]
fn client_certificate_rsa_and_ec_at_every_version() {
    for (flag, suite) in [
        ("-tls1_2", "AES128-SHA256"),
        ("-tls1_1", "AES128-SHA:@SECLEVEL=0"),
        ("-tls1", "AES256-SHA:@SECLEVEL=0"),
    ] {
        mtls(&["client-rsa", "int"], "client-rsa.pk8", flag, suite)
            .unwrap_or_else(|e| panic!("{flag} RSA: {e}"));
        mtls(&["client-ec", "int"], "client-ec.sec1", flag, suite)
            .unwrap_or_else(|e| panic!("{flag} EC: {e}"));
    }
}

#[test]
fn missing_client_certificate_names_the_alert() {
    for flag in ["-tls1_2", "-tls1"] {
        let e = mtls(&[], "", flag, "AES128-SHA:@SECLEVEL=0")
            .err()
            .expect("the server requires a client certificate");
        assert!(
            matches!(
                e,
                Error::AlertReceived { client_cert_requested: true, client_cert_configured: false, .. }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("none is configured"), "{e}");
        assert!(!e.wants_legacy_retry(&legacy_config(LegacyVersion::Tls10)), "the hello was accepted");
    }
}

#[test]
fn tampered_record_is_a_bad_record_mac() {
    let config = legacy_config(LegacyVersion::Tls10);
    for (flag, suite) in [("-tls1_2", "AES128-SHA256"), ("-tls1", "AES128-SHA:@SECLEVEL=0")] {
        let server = start(&rsa_server(flag, suite));
        let mut conn = Conn::open_legacy(&config, server.port, "localhost").unwrap();
        conn.handshake().unwrap();
        conn.write(b"tamper with me\n").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        // Flip a bit in the last byte: inside the last CBC block (padding and MAC).
        let e = conn
            .pump_tampered(|d| {
                let last = d.len() - 1;
                d[last] ^= 0x01;
            })
            .expect_err("a damaged record must be refused");
        assert!(matches!(e, Error::Legacy(LegacyError::BadRecordMac)), "{flag}: {e:?}");
        assert!(e.to_string().contains("bad_record_mac"), "{e}");
        // A fatal bad_record_mac alert (encrypted: 5-byte header and CBC blocks) is queued.
        let alert = conn.take_unsent();
        assert_eq!(alert[0], 21, "an alert record");
        assert!(conn.client.feed_incoming(b"more").is_err(), "a failed connection stays failed");
    }
}

#[test]
fn renegotiation_is_refused() {
    let args = rsa_server("-tls1_2", "AES128-SHA");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut server = Server::start_interactive(&args);
    let mut conn = Conn::open_legacy(&Pki::get().config(), server.port, "localhost").unwrap();
    conn.handshake().unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    conn.write(b"before\n").unwrap();
    assert!(server.log_shows("before"), "the server got the data:\n{}", server.log());
    // The server sends a HelloRequest; the client answers no_renegotiation (a warning),
    // which OpenSSL, having asked, turns into a fatal handshake_failure.
    server.command("r");
    let e = loop {
        match conn.pump() {
            Ok(true) => continue,
            Ok(false) => panic!("the server closed without an alert:\n{}", server.log()),
            Err(e) => break e,
        }
    };
    assert!(matches!(e, Error::AlertReceived { alert: AlertDescription::HandshakeFailure, .. }), "{e:?}");
    assert!(server.log_shows("no renegotiation"), "the server saw the refusal:\n{}", server.log());
}

#[test]
fn forced_fallback_to_an_ecdhe_server_is_refused() {
    // A TLS 1.2 server with ECDHE and static RSA: rustls would have connected, so a failure
    // of the first connection can only have been forged (here: a synthetic alert).
    let server = start(&rsa_server("-tls1_2", "ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"));
    let config = Pki::get().config();

    let mut conn = Conn::open_legacy(&config, server.port, "localhost").unwrap();
    let e = conn.handshake().expect_err("the legacy engine must not connect to an ECDHE server");
    assert!(
        matches!(e, Error::Legacy(LegacyError::EcdheAvailable { suite: 0xc02f })),
        "{e:?}\n{}",
        server.log()
    );
    assert!(e.to_string().contains("not genuine"), "{e}");
    assert!(!e.wants_legacy_retry(&config), "and nothing falls back further");

    let forged = Error::AlertReceived {
        alert: AlertDescription::HandshakeFailure,
        client_cert_requested: false,
        client_cert_configured: false,
    };
    let retry = Connection::retry_after(&forged, &config, "localhost").expect("the rule retries").unwrap();
    assert!(retry.is_legacy());
    let mut tcp = Conn::over_tcp(retry, server.port);
    let e = tcp.handshake().expect_err("the retry must be refused");
    assert!(matches!(e, Error::Legacy(LegacyError::EcdheAvailable { .. })), "{e:?}");
    assert!(tcp.client.negotiated().is_none());
}

#[test]
fn server_that_prefers_static_rsa_over_ecdhe_still_connects() {
    // The server's own choice (its preference order) is static RSA: the same answer a
    // single hello with every suite would get, so the legacy handshake goes on.
    let mut args = rsa_server("-tls1_2", "AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256");
    args.push("-serverpref".into());
    let (server, result) = run(&Pki::get().config(), &args);
    let conn = result.unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(conn.client.negotiated().unwrap().suite, CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA);
}

#[test]
fn key_encipherment_only_leaf_is_fine_for_static_rsa() {
    let mut args = serve("kenc-rsa", Some("chain.pem"));
    args.extend(["-tls1_2".into(), "-cipher".into(), "AES128-SHA256".into()]);
    let (server, result) = run(&Pki::get().config(), &args);
    result.unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
}

/// A TLS 1.2 ServerHello for TLS_RSA_WITH_AES_128_CBC_SHA with these extensions, as a record.
fn server_hello(exts: &[u8]) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]);
    body.extend_from_slice(&[0, 0x00, 0x2f, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(exts);
    let mut m = vec![2, 0, 0, body.len() as u8];
    m.extend_from_slice(&body);
    let mut r = vec![22, 3, 3, 0, m.len() as u8];
    r.extend_from_slice(&m);
    r
}

#[test]
fn client_certificate_requires_secure_renegotiation() {
    let pki = Pki::get();
    let mut config = pki.config();
    config.set_client_auth(&[pki.der("client-rsa"), pki.der("int")], &pki.file("client-rsa.pk8")).unwrap();
    let fresh = || {
        let mut c = LegacyClient::new(&config, "localhost").unwrap();
        c.take_outgoing(&mut Vec::new());
        c
    };
    let e = fresh().feed_incoming(&server_hello(&[0, 0x17, 0, 0])).unwrap_err();
    assert!(matches!(e, Error::Legacy(LegacyError::MissingRenegotiationInfo)), "{e:?}");
    assert!(e.to_string().contains("renegotiation"), "{e}");
    // With renegotiation_info, the handshake goes on to the Certificate.
    let mut c = fresh();
    c.feed_incoming(&server_hello(&[0xff, 1, 0, 1, 0])).unwrap();
    assert!(c.is_handshaking());
    // Without a client certificate, a server without it is still accepted.
    let mut c = LegacyClient::new(&pki.config(), "localhost").unwrap();
    c.feed_incoming(&server_hello(&[])).unwrap();
    assert!(c.is_handshaking());
}
