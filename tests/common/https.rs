//! A real HTTPS server for firmware tests: Python's `http.server` behind its `ssl`
//! module (OpenSSL), serving a directory, optionally demanding a client certificate.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct HttpsServer {
    child: Child,
    pub port: u16,
    /// Where the server logs connections and requests.
    log: tempfile::NamedTempFile,
}

impl HttpsServer {
    /// Serves `root` with the certificate chain `cert` and key `key`; with `client_ca`,
    /// only clients with a certificate it issued get through the handshake.
    pub fn start(root: &Path, cert: &Path, key: &Path, client_ca: Option<&Path>) -> Self {
        Self::start_old(root, cert, key, client_ca, None, None)
    }

    /// As [`HttpsServer::start`], playing an old server: at most TLS `max_version`
    /// ("1.0", "1.1", "1.2") and only OpenSSL's `ciphers`.
    pub fn start_old(
        root: &Path,
        cert: &Path,
        key: &Path,
        client_ca: Option<&Path>,
        max_version: Option<&str>,
        ciphers: Option<&str>,
    ) -> Self {
        let mut env = Vec::new();
        if let Some(v) = max_version {
            env.push(("TLS_MAX", v));
        }
        if let Some(c) = ciphers {
            env.push(("TLS_CIPHERS", c));
        }
        Self::spawn(root, cert, key, client_ca, &env)
    }

    /// As [`HttpsServer::start`], picking the cipher suite by the client's order of
    /// preference rather than its own, as nginx does by default.
    pub fn start_client_order(root: &Path, cert: &Path, key: &Path) -> Self {
        Self::spawn(root, cert, key, None, &[("TLS_CLIENT_ORDER", "1")])
    }

    fn spawn(root: &Path, cert: &Path, key: &Path, client_ca: Option<&Path>, env: &[(&str, &str)]) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/https_server.py");
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(script).arg(root).arg(cert).arg(key).env("CONN_LOG", log.path());
        if let Some(ca) = client_ca {
            cmd.arg(ca);
        }
        cmd.envs(env.iter().copied());
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 (installed by scripts/setup.sh) runs the HTTPS test server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the HTTPS server did not start: {line:?}"));
        Self { child, port, log }
    }

    /// The log: "connection N" for each connection, "N GET /path HTTP/1.1 200" for each
    /// request on connection N.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// How many TCP connections (with a completed TLS handshake) the server took.
    pub fn connections(&self) -> usize {
        self.log().lines().filter(|l| l.starts_with("connection ")).count()
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
