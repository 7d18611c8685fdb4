//! The firmware in QEMU + OVMF: it starts, reads its embedded configuration, brings up
//! the network, fetches over HTTP, verifies, and boots (or refuses, saying why).

mod common;

use std::time::Duration;

use common::http::FileServer;
use common::qemu::{ImageConfig, Qemu, configured_efi};

#[test]
fn runs_its_embedded_script_and_fetches_over_http() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), b"hello from the host\n").unwrap();
    let server = FileServer::start(dir.path().to_path_buf(), 0);
    let script = format!(
        "#!ipxe\necho marker: script started\ndhcp\necho marker: ip ${{ip}} next-server ${{next-server}}\n\
         imgfetch http://${{next-server}}:{}/hello.txt\nimgstat\nimgfetch http://${{next-server}}:{}/missing || echo marker: 404 handled\n\
         echo marker: done\n",
        server.port, server.port
    );
    let efi = dir.path().join("test.efi");
    configured_efi(&efi, &ImageConfig { script: Some(&script), ..Default::default() });
    let mut qemu = Qemu::boot_efi(&efi, "");
    qemu.wait_for(&["marker: done", "nothing was booted"], Duration::from_secs(120));
    let out = qemu.output();
    assert!(out.contains("bootsign firmware 0.1.0"), "{out}");
    assert!(out.contains("marker: script started"), "{out}");
    assert!(out.contains("marker: ip 10.0.2.15 next-server 10.0.2.2"), "{out}");
    assert!(out.contains("hello.txt : 20 bytes"), "{out}");
    assert!(out.contains("HTTP 404 Not Found"), "{out}");
    assert!(out.contains("marker: 404 handled"), "{out}");
    assert!(out.contains("marker: done"), "{out}");
    assert_eq!(*server.requests.lock().unwrap(), ["/hello.txt", "/missing"]);
    eprintln!("{out}");
}
