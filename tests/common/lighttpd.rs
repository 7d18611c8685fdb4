//! A real web server with HTTP authentication for firmware tests: lighttpd (extracted by
//! scripts/fixtures.sh) on 127.0.0.1 at a free port, serving a directory whose `basic/`
//! asks for Basic and `digest/` for Digest (MD5, qop=auth) authentication, realm `Boot`,
//! one user. Its access log records each request's path, status and user.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Lighttpd {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Lighttpd {
    /// Serves `root` (which must hold `basic/` and `digest/`), with `user`:`password`.
    pub fn start(root: &Path, user: &str, password: &str) -> Self {
        let bin = super::fixtures_dir().join("lighttpd");
        assert!(
            bin.join("lighttpd").is_file(),
            "{} lacks lighttpd: run scripts/setup.sh (scripts/fixtures.sh extracts it)",
            bin.display()
        );
        let dir = root.join(".lighttpd");
        std::fs::create_dir_all(&dir).unwrap();
        let digest = md5_hex(&format!("{user}:Boot:{password}"));
        std::fs::write(dir.join("htdigest"), format!("{user}:Boot:{digest}\n")).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = dir.join("access.log");
        let conf = dir.join("lighttpd.conf");
        std::fs::write(
            &conf,
            format!(
                "server.document-root = \"{root}\"\nserver.port = {port}\nserver.bind = \"127.0.0.1\"\n\
                 server.modules = (\"mod_auth\", \"mod_authn_file\", \"mod_accesslog\")\n\
                 server.errorlog = \"{d}/error.log\"\naccesslog.filename = \"{log}\"\n\
                 accesslog.format = \"%U %>s %u\"\n\
                 auth.backend = \"htdigest\"\nauth.backend.htdigest.userfile = \"{d}/htdigest\"\n\
                 auth.require = ( \"/basic/\" => ( \"method\" => \"basic\", \"realm\" => \"Boot\", \"require\" => \"valid-user\" ),\n\
                 \"/digest/\" => ( \"method\" => \"digest\", \"realm\" => \"Boot\", \"require\" => \"valid-user\", \"algorithm\" => \"MD5\" ) )\n",
                root = root.display(),
                d = dir.display(),
                log = log.display(),
            ),
        )
        .unwrap();
        let child = Command::new(bin.join("lighttpd"))
            .arg("-D")
            .arg("-m")
            .arg(&bin)
            .arg("-f")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("lighttpd from scripts/fixtures.sh");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "lighttpd did not start; see {}/error.log", dir.display());
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port, log }
    }

    /// Each request so far, `path status user` (`-` for no user), once there are at
    /// least `count` (lighttpd writes its log a moment later), or after 5 s what there is.
    pub fn requests(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let lines: Vec<String> =
                std::fs::read_to_string(&self.log).unwrap_or_default().lines().map(str::to_string).collect();
            if lines.len() >= count || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Lighttpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn md5_hex(text: &str) -> String {
    let out = Command::new("openssl")
        .args(["dgst", "-md5", "-r"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(text.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}
