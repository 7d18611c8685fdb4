//! A Python responder at the far end of a guest NIC on QEMU's `-netdev dgram` backend
//! (tests/common/*.py: Ethernet frames in UDP datagrams on 127.0.0.1). It prints
//! `PORT n` (where QEMU must send) first, then a line per thing it did, kept in `log`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

pub struct Link {
    child: Child,
    /// Where QEMU sends the guest's frames.
    pub port: u16,
    /// What the responder said it did.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Link {
    /// Starts `tests/common/{script}` with `args`.
    pub fn start(script: &str, args: &[&str]) -> Self {
        let path = format!("{}/tests/common/{script}", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new("python3")
            .arg(&path)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the link responder");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let port = first.strip_prefix("PORT ").and_then(|p| p.parse().ok()).expect(&first);
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, port, log }
    }

    /// QEMU's `-netdev` value for a `dgram` backend `id` linked to this responder.
    pub fn netdev(&self, id: &str) -> String {
        let local = super::ntp::free_udp_port();
        format!(
            "dgram,id={id},local.type=inet,local.host=127.0.0.1,local.port={local},\
             remote.type=inet,remote.host=127.0.0.1,remote.port={}",
            self.port
        )
    }

    /// The log so far, one line each.
    pub fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
