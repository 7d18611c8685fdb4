//! ProxyDHCP in QEMU + OVMF. The guest's NIC is on a hub joining QEMU's user network
//! (whose DHCP server gives the address and names no boot file) and a link to a
//! ProxyDHCP server (tests/common/proxydhcp.py, 10.0.2.99), as when dnsmasq in proxy
//! mode or pixiecore runs beside a DHCP server nobody may change:
//!
//! - the DISCOVER says what the client is as iPXE's does (vendor class
//!   `PXEClient:Arch:00007:UNDI:003010`, options 93, 94 and the SMBIOS UUID as 97), which
//!   the proxy answers;
//! - the proxy's offer becomes `${proxydhcp/...}`, and the unscoped `${filename}` falls
//!   back to it because the lease names none;
//! - a proxy offer without a boot file makes the firmware ask the proxy on port 4011, and
//!   `autoboot` chains the file its answer names.

mod common;

use std::time::Duration;

use common::http::FileServer;
use common::link::Link;
use common::qemu::{ImageConfig, Qemu, configured_efi};

// The firmware's own DHCP at start gets the first offer; autoboot's the second.
const SCRIPT: &str = "#!ipxe
echo marker: lease [${net0/filename}] proxy [${proxydhcp/filename}] [${proxydhcp/next-server}] [${proxydhcp/dhcp-server}]
chain ${filename}
autoboot
echo marker: proxy test done
";

/// What each DISCOVER says of the client, as iPXE's EFI build says it: the vendor class,
/// architecture 7, UNDI 3.10, and the SMBIOS UUID QEMU was given as option 97 (type 0, the
/// first three fields little-endian).
const DISCOVER: &str = "DISCOVER vendor class PXEClient:Arch:00007:UNDI:003010 arch 0007 ndi 01030a \
                        uuid 00a0c2e78c0e5a4d4f9a0b0123456789ab";

#[test]
fn proxydhcp_offers_and_port_4011_answers_name_the_boot_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = FileServer::start(dir.path().to_path_buf(), 0);
    let url = |name: &str| format!("http://10.0.2.2:{}/{name}", server.port);
    std::fs::write(dir.path().join("first.ipxe"), "#!ipxe\necho marker: first script\n").unwrap();
    std::fs::write(dir.path().join("second.ipxe"), "#!ipxe\necho marker: second script\n").unwrap();
    let proxy = Link::start("proxydhcp.py", &[&url("first.ipxe"), &url("second.ipxe")]);
    let efi = dir.path().join("proxy.efi");
    configured_efi(&efi, &ImageConfig { script: Some(SCRIPT), ..Default::default() });
    // The NIC on hub 0 with QEMU's user network (n0) and the link to the proxy.
    let link = proxy.netdev("p0");
    let args = [
        "-netdev",
        &link,
        "-netdev",
        "hubport,id=h0,hubid=0,netdev=n0",
        "-netdev",
        "hubport,id=h1,hubid=0,netdev=p0",
        "-netdev",
        "hubport,id=h2,hubid=0",
        "-smbios",
        "type=1,uuid=8ce7c2a0-5a0e-4f4d-9a0b-0123456789ab",
    ];
    let mut q = Qemu::boot_efi_with(&efi, "virtio-net-pci,netdev=h2,romfile=", &args);
    q.wait_for(&["marker: proxy test done", "nothing was booted"], Duration::from_secs(120));
    let out = q.output();
    let log = proxy.lines().join("\n");
    assert!(
        out.contains(&format!("marker: lease [] proxy [{}] [10.0.2.99] [10.0.2.99]", url("first.ipxe"))),
        "{out}\nproxy:\n{log}"
    );
    assert!(out.contains(&format!("ProxyDHCP 10.0.2.99: filename {}", url("first.ipxe"))), "{out}");
    assert!(out.contains("marker: first script"), "{out}\nproxy:\n{log}");
    assert!(out.contains("marker: second script"), "{out}\nproxy:\n{log}");
    assert!(out.contains("marker: proxy test done"), "{out}\nproxy:\n{log}");
    let lines = proxy.lines();
    assert_eq!(
        lines,
        [
            DISCOVER,
            "OFFER with a boot file",
            DISCOVER,
            "OFFER without a boot file",
            "REQUEST on 4011 from 10.0.2.15 naming 10.0.2.99",
            "ACK with a boot file",
        ],
        "{out}"
    );
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests, ["/first.ipxe", "/second.ipxe"], "{out}");
}
