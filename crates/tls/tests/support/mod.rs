//! Test support: a test PKI made with the `openssl` CLI, `openssl s_server` processes, and
//! the sans-IO client driven over a real TCP socket.

#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bootsign_tls::{Client, Config, Error, Fingerprint, LegacyClient, PeerState, RandomSource, RngError};

/// The system RNG, for tests.
#[derive(Debug)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RngError> {
        fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf)).map_err(|_| RngError)
    }
}

pub static RNG: OsRandom = OsRandom;

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Runs `openssl` in `dir`, failing the test with its output when it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl (it is required by these tests): {e}"));
    assert!(
        out.status.success(),
        "openssl {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The test PKI, made once per test binary.
pub struct Pki {
    pub dir: PathBuf,
    _tmp: tempfile::TempDir,
}

#[derive(Clone, Copy)]
pub enum KeyKind {
    Rsa,
    P256,
}

const SERVER_EXT: &str = "basicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\n\
extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n";
const INT_EXT: &str = "basicConstraints = critical, CA:TRUE, pathlen:0\nkeyUsage = critical, keyCertSign, cRLSign\n\
subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n";
const CA_EXT: &str = "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n\
subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n";

impl Pki {
    pub fn get() -> &'static Pki {
        static PKI: OnceLock<Pki> = OnceLock::new();
        PKI.get_or_init(Pki::make)
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }

    fn write(&self, name: &str, text: &str) {
        fs::write(self.dir.join(name), text).unwrap();
    }

    fn key(&self, name: &str, kind: KeyKind) {
        let file = format!("{name}.key");
        match kind {
            KeyKind::Rsa => openssl(
                &self.dir,
                &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", &file],
            ),
            KeyKind::P256 => openssl(
                &self.dir,
                &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &file],
            ),
        }
    }

    /// A key, a CSR and a certificate `name.pem` for `cn`, signed by `issuer` (`None`:
    /// self-signed) with the extensions `ext` (`None`: an X.509 v1 certificate).
    fn cert(&self, name: &str, cn: &str, kind: KeyKind, issuer: Option<&str>, ext: Option<&str>) {
        self.key(name, kind);
        let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
        openssl(&self.dir, &["req", "-new", "-key", &key, "-subj", &format!("/CN={cn}"), "-out", &csr]);
        let serial = format!("{}", 1000 + self.dir.read_dir().unwrap().count());
        let mut args: Vec<String> =
            ["x509", "-req", "-in", &csr, "-days", "30", "-sha256", "-set_serial", &serial, "-out", &pem]
                .iter()
                .map(|s| s.to_string())
                .collect();
        match issuer {
            Some(i) => args.extend(["-CA".into(), format!("{i}.pem"), "-CAkey".into(), format!("{i}.key")]),
            None => args.extend(["-signkey".into(), key.clone()]),
        }
        if let Some(ext) = ext {
            let ext_file = format!("{name}.ext");
            self.write(&ext_file, ext);
            args.extend(["-extfile".into(), ext_file]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        openssl(&self.dir, &args);
        openssl(&self.dir, &["x509", "-in", &pem, "-outform", "DER", "-out", &format!("{name}.der")]);
    }

    /// A certificate with explicit validity dates, issued by `issuer` through `openssl ca`.
    fn dated_cert(&self, name: &str, kind: KeyKind, issuer: &str, start: &str, end: &str) {
        self.key(name, kind);
        let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
        openssl(&self.dir, &["req", "-new", "-key", &key, "-subj", "/CN=localhost", "-out", &csr]);
        let db = self.dir.join(format!("{name}.db"));
        fs::create_dir_all(db.join("new")).unwrap();
        fs::write(db.join("index.txt"), "").unwrap();
        fs::write(db.join("serial"), "1000\n").unwrap();
        let cnf = format!(
            "[ca]\ndefault_ca = d\n[d]\ndatabase = {db}/index.txt\nnew_certs_dir = {db}/new\nserial = {db}/serial\n\
             default_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n",
            db = db.display()
        );
        self.write(&format!("{name}.cnf"), &cnf);
        self.write(&format!("{name}.ext"), SERVER_EXT);
        openssl(
            &self.dir,
            &[
                "ca",
                "-batch",
                "-notext",
                "-config",
                &format!("{name}.cnf"),
                "-cert",
                &format!("{issuer}.pem"),
                "-keyfile",
                &format!("{issuer}.key"),
                "-in",
                &csr,
                "-out",
                &pem,
                "-startdate",
                start,
                "-enddate",
                end,
                "-extfile",
                &format!("{name}.ext"),
            ],
        );
        openssl(&self.dir, &["x509", "-in", &pem, "-outform", "DER", "-out", &format!("{name}.der")]);
    }

    /// Concatenates PEM files into `name`.
    fn bundle(&self, name: &str, parts: &[&str]) {
        let text: String =
            parts.iter().map(|p| fs::read_to_string(self.dir.join(format!("{p}.pem"))).unwrap()).collect();
        self.write(name, &text);
    }

    fn make() -> Pki {
        let tmp = tempfile::tempdir().unwrap();
        let pki = Pki { dir: tmp.path().to_path_buf(), _tmp: tmp };
        let server_cn_only = "basicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\n\
            extendedKeyUsage = serverAuth\nsubjectAltName = DNS:other.example\n";
        let client_ext =
            "basicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = clientAuth\n";

        pki.cert("root", "Test Root", KeyKind::Rsa, None, Some(CA_EXT));
        pki.cert("int", "Test Intermediate", KeyKind::P256, Some("root"), Some(INT_EXT));
        pki.cert("leaf-rsa", "localhost", KeyKind::Rsa, Some("int"), Some(SERVER_EXT));
        pki.cert("leaf-ec", "localhost", KeyKind::P256, Some("int"), Some(SERVER_EXT));
        pki.bundle("chain.pem", &["int"]);

        // Refusals.
        pki.dated_cert("expired", KeyKind::P256, "int", "20200101000000Z", "20200301000000Z");
        pki.dated_cert("future", KeyKind::P256, "int", "20990101000000Z", "20991231000000Z");
        pki.cert(
            "wronghost",
            "wrong.example",
            KeyKind::P256,
            Some("int"),
            Some(&SERVER_EXT.replace("DNS:localhost, IP:127.0.0.1", "DNS:wrong.example")),
        );
        pki.cert("cn-san", "localhost", KeyKind::P256, Some("int"), Some(server_cn_only));
        pki.cert("root2", "Other Root", KeyKind::P256, None, Some(CA_EXT));
        pki.cert("leaf-root2", "localhost", KeyKind::P256, Some("root2"), Some(SERVER_EXT));
        pki.bundle("chain-root2.pem", &["root2"]);
        pki.cert("selfsigned", "localhost", KeyKind::P256, None, Some(SERVER_EXT));
        // RSA-keyed refusals, for the static-RSA suites of the legacy engine.
        pki.dated_cert("expired-rsa", KeyKind::Rsa, "int", "20200101000000Z", "20200301000000Z");
        pki.cert(
            "wronghost-rsa",
            "wrong.example",
            KeyKind::Rsa,
            Some("int"),
            Some(&SERVER_EXT.replace("DNS:localhost, IP:127.0.0.1", "DNS:wrong.example")),
        );
        pki.cert("leaf-root2-rsa", "localhost", KeyKind::Rsa, Some("root2"), Some(SERVER_EXT));
        // keyUsage keyEncipherment only: fine for static RSA, not for a signed handshake.
        pki.cert(
            "kenc-rsa",
            "localhost",
            KeyKind::Rsa,
            Some("int"),
            Some(&SERVER_EXT.replace("digitalSignature, keyEncipherment", "keyEncipherment")),
        );
        // A tampered signature: flip a bit in the last byte of the DER (inside the signature).
        let mut der = fs::read(pki.dir.join("leaf-ec.der")).unwrap();
        let last = der.len() - 1;
        der[last] ^= 0x01;
        fs::write(pki.dir.join("tampered.der"), &der).unwrap();
        openssl(&pki.dir, &["x509", "-inform", "DER", "-in", "tampered.der", "-out", "tampered.pem"]);
        pki.cert(
            "notca",
            "Not A CA",
            KeyKind::P256,
            Some("root"),
            Some("basicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyCertSign\n"),
        );
        pki.cert("leaf-notca", "localhost", KeyKind::P256, Some("notca"), Some(SERVER_EXT));
        pki.bundle("chain-notca.pem", &["notca"]);
        // pathLen: int (pathlen:0) -> sub (CA) -> leaf: int may not have a CA below it.
        pki.cert("sub", "Test Sub CA", KeyKind::P256, Some("int"), Some(CA_EXT));
        pki.cert("leaf-sub", "localhost", KeyKind::P256, Some("sub"), Some(SERVER_EXT));
        pki.bundle("chain-sub.pem", &["sub", "int"]);
        pki.cert(
            "clientonly",
            "localhost",
            KeyKind::P256,
            Some("int"),
            Some(&SERVER_EXT.replace("serverAuth", "clientAuth")),
        );

        // Accepted: an X.509 v1 certificate with the name in the CN only.
        pki.cert("v1", "localhost", KeyKind::P256, Some("int"), None);

        // Client certificates, and their keys as DER: RSA as PKCS#8 and PKCS#1, EC as SEC1.
        pki.cert("client-rsa", "Test Client RSA", KeyKind::Rsa, Some("int"), Some(client_ext));
        pki.cert("client-ec", "Test Client EC", KeyKind::P256, Some("int"), Some(client_ext));
        openssl(&pki.dir, &["pkey", "-in", "client-rsa.key", "-outform", "DER", "-out", "client-rsa.pk8"]);
        openssl(
            &pki.dir,
            &["rsa", "-in", "client-rsa.key", "-traditional", "-outform", "DER", "-out", "client-rsa.pk1"],
        );
        openssl(&pki.dir, &["ec", "-in", "client-ec.key", "-outform", "DER", "-out", "client-ec.sec1"]);
        pki.bundle("client-ca.pem", &["int", "root"]);
        pki
    }

    pub fn der(&self, name: &str) -> Vec<u8> {
        fs::read(self.dir.join(format!("{name}.der"))).unwrap()
    }

    pub fn file(&self, name: &str) -> Vec<u8> {
        fs::read(self.dir.join(name)).unwrap()
    }

    pub fn root_anchor(&self) -> Fingerprint {
        Fingerprint::of_der(&self.der("root"))
    }

    /// A configuration trusting the test root by fingerprint, at the current time. The
    /// root certificate itself is supplied as an extra certificate, as the firmware's
    /// embedded certificates supply it (servers usually do not send their root).
    pub fn config(&self) -> Config {
        let mut config = Config::new(&[self.root_anchor()], &RNG, Arc::new(bootsign_tls::FixedTime(now())));
        config.add_certificates([self.der("root")]).unwrap();
        config
    }
}

/// A running `openssl s_server`, killed when dropped (also when a test fails).
pub struct Server {
    child: Child,
    pub port: u16,
    log: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Server {
    /// Starts `openssl s_server -rev` with `args` (certificate, key, versions ...) and
    /// waits until it listens.
    pub fn start(args: &[&str]) -> Server {
        Self::start_with_env(args, &[])
    }

    /// As [`Server::start`], with environment variables (`OPENSSL_CONF` for options that
    /// have no command-line flag).
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn(args, env, true)
    }

    /// `openssl s_server` without `-rev`, reading commands from [`Server::command`]
    /// (`r`: renegotiate) and printing what it receives.
    pub fn start_interactive(args: &[&str]) -> Server {
        Self::spawn(args, &[], false)
    }

    /// Sends a line to an interactive server's standard input.
    pub fn command(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("an interactive server");
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    fn spawn(args: &[&str], env: &[(&str, &str)], rev: bool) -> Server {
        for _attempt in 0..5 {
            let port = free_port();
            let accept = format!("127.0.0.1:{port}");
            let mode: &[&str] = if rev { &["-rev"] } else { &[] };
            let mut child = Command::new("openssl")
                .args(["s_server", "-accept", &accept])
                .args(mode)
                .args(args)
                .envs(env.iter().copied())
                .current_dir(&Pki::get().dir)
                .stdin(if rev { Stdio::null() } else { Stdio::piped() })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("cannot run openssl s_server (required by these tests)");
            let log = Arc::new(Mutex::new(String::new()));
            let (tx, rx) = mpsc::channel();
            for stream in [
                Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
                Box::new(child.stderr.take().unwrap()),
            ] {
                let log = log.clone();
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(stream).lines().map_while(Result::ok) {
                        if line.contains("ACCEPT") {
                            let _ = tx.send(true);
                        }
                        log.lock().unwrap().push_str(&format!("{line}\n"));
                    }
                    let _ = tx.send(false);
                });
            }
            let mut server = Server { child, port, log };
            // Two reader threads each end with `false`: ACCEPT or both ended.
            let mut ended = 0;
            let deadline = Instant::now() + Duration::from_secs(10);
            while ended < 2 {
                match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(true) => return server,
                    Ok(false) => ended += 1,
                    Err(_) => panic!(
                        "openssl s_server {} did not start listening:\n{}",
                        args.join(" "),
                        server.log()
                    ),
                }
            }
            // It exited: maybe the port was taken meanwhile; try another unless it is an argument error.
            let log = server.log();
            let _ = server.child.wait();
            if !log.contains("ddress already in use") {
                panic!("openssl s_server {} exited:\n{log}", args.join(" "));
            }
        }
        panic!("no free port for openssl s_server");
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Whether the server's output comes to contain `needle` within a few seconds (it
    /// prints on its own schedule, after our side of the connection is done).
    pub fn log_shows(&self, needle: &str) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }
}

/// What the tests drive over TCP: either engine, through the same method set.
pub trait Engine {
    fn take_outgoing(&mut self, out: &mut Vec<u8>) -> usize;
    fn feed_incoming(&mut self, data: &[u8]) -> Result<(), Error>;
    fn feed_eof(&mut self);
    fn is_handshaking(&self) -> bool;
    fn write_app(&mut self, data: &[u8]) -> Result<(), Error>;
    fn read_app(&mut self, out: &mut Vec<u8>) -> Result<usize, Error>;
    fn close(&mut self) -> Result<(), Error>;
    fn peer_state(&self) -> PeerState;
    fn error(&self) -> Option<&Error>;
}

macro_rules! engine {
    ($t:ty) => {
        impl Engine for $t {
            fn take_outgoing(&mut self, out: &mut Vec<u8>) -> usize {
                <$t>::take_outgoing(self, out)
            }
            fn feed_incoming(&mut self, data: &[u8]) -> Result<(), Error> {
                <$t>::feed_incoming(self, data)
            }
            fn feed_eof(&mut self) {
                <$t>::feed_eof(self)
            }
            fn is_handshaking(&self) -> bool {
                <$t>::is_handshaking(self)
            }
            fn write_app(&mut self, data: &[u8]) -> Result<(), Error> {
                <$t>::write_app(self, data)
            }
            fn read_app(&mut self, out: &mut Vec<u8>) -> Result<usize, Error> {
                <$t>::read_app(self, out)
            }
            fn close(&mut self) -> Result<(), Error> {
                <$t>::close(self)
            }
            fn peer_state(&self) -> PeerState {
                <$t>::peer_state(self)
            }
            fn error(&self) -> Option<&Error> {
                <$t>::error(self)
            }
        }
    };
}

engine!(Client);
engine!(LegacyClient);
engine!(bootsign_tls::Connection);

/// A client connection over TCP.
pub struct Conn<C = Client> {
    pub client: C,
    tcp: TcpStream,
    buf: Vec<u8>,
}

fn connect(port: u16) -> TcpStream {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp
}

impl Conn<Client> {
    pub fn open(config: &Config, port: u16, name: &str) -> Result<Conn, Error> {
        Ok(Conn::over_tcp(Client::new(config, name)?, port))
    }
}

impl Conn<LegacyClient> {
    pub fn open_legacy(config: &Config, port: u16, name: &str) -> Result<Conn<LegacyClient>, Error> {
        Ok(Conn::over_tcp(LegacyClient::new(config, name)?, port))
    }
}

impl<C: Engine> Conn<C> {
    /// `client` over a new TCP connection to `port`.
    pub fn over_tcp(client: C, port: u16) -> Conn<C> {
        Conn { client, tcp: connect(port), buf: vec![0; 32 * 1024] }
    }

    /// Sends what the client has queued.
    pub fn flush(&mut self) {
        let mut out = Vec::new();
        self.client.take_outgoing(&mut out);
        if !out.is_empty() {
            // The server may already have hung up after a fatal alert.
            let _ = self.tcp.write_all(&out);
        }
    }

    /// Reads once from TCP into the client. `Ok(false)` on EOF.
    pub fn pump(&mut self) -> Result<bool, Error> {
        let n = match self.tcp.read(&mut self.buf) {
            Ok(n) => n,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                panic!("timed out waiting for the server")
            }
            Err(_) => 0,
        };
        if n == 0 {
            self.client.feed_eof();
            return match self.client.error() {
                Some(e) => Err(e.clone()),
                None => Ok(false),
            };
        }
        let data = self.buf[..n].to_vec();
        let r = self.client.feed_incoming(&data);
        self.flush();
        r.map(|()| true)
    }

    /// Reads once from TCP and returns the bytes, without feeding them to the client.
    pub fn read_raw(&mut self) -> Vec<u8> {
        let n = self.tcp.read(&mut self.buf).expect("data from the server");
        assert!(n > 0, "the server closed the connection");
        self.buf[..n].to_vec()
    }

    /// Reads once from TCP, lets `tamper` change the bytes, and feeds them to the client.
    pub fn pump_tampered(&mut self, tamper: impl FnOnce(&mut Vec<u8>)) -> Result<(), Error> {
        let n = self.tcp.read(&mut self.buf).expect("data from the server");
        let mut data = self.buf[..n].to_vec();
        tamper(&mut data);
        self.client.feed_incoming(&data)
    }

    /// Takes what the client queued for the server, without sending it.
    pub fn take_unsent(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.client.take_outgoing(&mut out);
        out
    }

    /// Completes the handshake.
    pub fn handshake(&mut self) -> Result<(), Error> {
        self.flush();
        while self.client.is_handshaking() {
            self.pump()?;
        }
        match self.client.error() {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Sends `data`.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        self.client.write_app(data)?;
        self.flush();
        Ok(())
    }

    /// Reads until `len` bytes of application data have arrived.
    pub fn read_exact(&mut self, len: usize) -> Result<Vec<u8>, Error> {
        let mut got = Vec::new();
        loop {
            self.client.read_app(&mut got)?;
            if got.len() >= len {
                return Ok(got);
            }
            if !self.pump()? {
                self.client.read_app(&mut got)?;
                return Ok(got);
            }
        }
    }

    /// Sends close_notify and waits for the server's, or for EOF.
    pub fn close(&mut self) -> Result<(), Error> {
        self.client.close()?;
        self.flush();
        let mut rest = Vec::new();
        while self.client.peer_state() == PeerState::Open {
            if !self.pump()? {
                break;
            }
            self.client.read_app(&mut rest)?;
        }
        Ok(())
    }
}

/// The path of a file of the test PKI, for s_server arguments.
pub fn p(name: &str) -> String {
    Pki::get().path(name)
}

/// `s_server` arguments serving `leaf` (its key `leaf.key`) with the chain file `chain`.
pub fn serve(leaf: &str, chain: Option<&str>) -> Vec<String> {
    let mut v =
        vec!["-cert".to_string(), p(&format!("{leaf}.pem")), "-key".into(), p(&format!("{leaf}.key"))];
    if let Some(c) = chain {
        v.extend(["-cert_chain".into(), p(c)]);
    }
    v
}
