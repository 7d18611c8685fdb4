//! A real NTP server for firmware tests: chronyd serving its own clock (`local stratum
//! 3`) on 127.0.0.1 at a free port, without touching the host's clock (`-x`).

use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Chrony {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// chronyd's path: /usr/sbin is not on every user's PATH.
fn chronyd() -> &'static str {
    if Path::new("/usr/sbin/chronyd").exists() { "/usr/sbin/chronyd" } else { "chronyd" }
}

/// A UDP port free a moment ago.
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Chrony {
    /// Starts chronyd and waits until it answers an SNTP request.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_udp_port();
        let conf = dir.path().join("chrony.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbindaddress 127.0.0.1\nlocal stratum 3\nallow 127.0.0.1\ncmdport 0\n\
                 pidfile {d}/chronyd.pid\ndriftfile {d}/drift\n",
                d = dir.path().display()
            ),
        )
        .unwrap();
        let child = Command::new(chronyd())
            .args(["-d", "-x", "-u", "root", "-f"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chronyd (installed by scripts/setup.sh) is the NTP test server");
        let server = Self { child, port, _dir: dir };
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut request = [0u8; 48];
        request[0] = 0x23;
        request[47] = 1;
        let mut reply = [0u8; 100];
        loop {
            socket.send_to(&request, ("127.0.0.1", port)).unwrap();
            if let Ok(n) = socket.recv(&mut reply)
                && n >= 48
            {
                return server;
            }
            assert!(Instant::now() < deadline, "chronyd did not answer on 127.0.0.1:{port}");
        }
    }
}

impl Drop for Chrony {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
