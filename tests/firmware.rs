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
    // OVMF's plain build with an empty varstore: no platform key, no enforcement.
    assert!(out.contains("bootsign: Secure Boot off"), "{out}");
    assert!(out.contains("marker: script started"), "{out}");
    assert!(out.contains("marker: ip 10.0.2.15 next-server 10.0.2.2"), "{out}");
    assert!(out.contains("hello.txt : 20 bytes"), "{out}");
    assert!(out.contains("HTTP 404 Not Found"), "{out}");
    assert!(out.contains("marker: 404 handled"), "{out}");
    assert!(out.contains("marker: done"), "{out}");
    assert_eq!(*server.requests.lock().unwrap(), ["/hello.txt", "/missing"]);
    eprintln!("{out}");
}

use common::{Env, fixtures};
use std::sync::Mutex;

/// A CA with a code-signing certificate, and a web root holding `files` (copied from
/// the fixtures) signed by it.
struct Signed {
    env: Env,
    anchor: [u8; 32],
}

fn anchor_of(env: &Env, cert: &str) -> [u8; 32] {
    bootsign_pki::Fingerprint::parse(env.ok(&["fingerprint", "--raw", cert]).trim()).unwrap().0
}

fn signed_www(files: &[(&str, &str)]) -> Signed {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Boot CA"]);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    let fx = fixtures();
    for (from, to) in files {
        let dest = env.path(&format!("www/{to}"));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(fx.join(from), &dest).unwrap();
        env.ok(&["sign", dest.to_str().unwrap()]);
    }
    let anchor = anchor_of(&env, "ca.crt");
    Signed { env, anchor }
}

/// Writes `boot.efi`: `script` embedded, `settings`, and `signed`'s CA trusted.
fn boot_image(signed: &Signed, script: &str, settings: Vec<(&str, &str)>) -> std::path::PathBuf {
    let efi = signed.env.path("boot.efi");
    configured_efi(
        &efi,
        &ImageConfig { anchors: vec![signed.anchor], script: Some(script), settings, ..Default::default() },
    );
    efi
}

/// Runs `efi` with `nic` and the `extra` QEMU arguments until the initramfs marker,
/// which it must reach; the console.
fn boots_to_marker(efi: &std::path::Path, nic: &str, extra: &[&str]) -> String {
    let mut qemu = Qemu::boot_efi_with(efi, nic, extra);
    let (which, _) =
        qemu.wait_for(&["BOOTSIGN-INITRAMFS-OK", "nothing was booted"], Duration::from_secs(240));
    let out = qemu.output();
    assert_eq!(which, 0, "{nic} {extra:?}: {out}");
    out
}

/// Boots an image whose embedded script is `script` and waits for `ok` or a refusal.
fn boot(signed: &Signed, script: &str, settings: Vec<(&str, &str)>) -> (bool, String, Duration) {
    let efi = boot_image(signed, script, settings);
    let mut qemu = Qemu::boot_efi(&efi, "");
    let (which, at) = qemu.wait_for(
        &["BOOTSIGN-INITRAMFS-OK", "nothing was booted", "SEED-CHAIN-OK"],
        Duration::from_secs(240),
    );
    std::thread::sleep(Duration::from_millis(300));
    (which != 1, qemu.output(), at)
}

fn kernel_script(port: u16, extra: &str) -> String {
    format!(
        "#!ipxe\n{extra}\
         kernel http://${{next-server}}:{port}/vmlinuz console=ttyS0 panic=-1 quiet\n\
         initrd http://${{next-server}}:{port}/initrd.img\n\
         imgverify vmlinuz http://${{next-server}}:{port}/vmlinuz.sig\n\
         imgverify initrd.img http://${{next-server}}:{port}/initrd.img.sig\n\
         boot\n"
    )
}

#[test]
fn boots_a_signed_linux_kernel_and_initrd() {
    let signed = signed_www(&[("vmlinuz", "vmlinuz"), ("initrd.img", "initrd.img")]);
    let server = FileServer::start(signed.env.path("www"), 0);
    let (ok, out, at) = boot(&signed, &kernel_script(server.port, "imgtrust --permanent --all\n"), vec![]);
    assert!(ok, "{out}");
    assert!(out.contains("vmlinuz: signature verified (signed by bootsign code signing"), "{out}");
    assert!(out.contains("initrd.img: signature verified"), "{out}");
    assert!(
        out.contains("Booting vmlinuz (") && out.contains("with 1 initrd(s): console=ttyS0 panic=-1 quiet"),
        "{out}"
    );
    assert!(out.contains("BOOTSIGN-INITRAMFS-OK cmdline: console=ttyS0 panic=-1 quiet"), "{out}");
    // QEMU's transitional virtio NIC is driven by the core's own driver.
    assert!(out.contains(", virtio-net)..."), "{out}");
    eprintln!("booted to the initramfs marker {:.1} s after QEMU started", at.as_secs_f64());
}

/// The core's virtio driver runs a device without the legacy interface through the
/// modern one (virtio 1.0): here one on a PCIe root port, where QEMU turns legacy off by
/// itself, as in libvirt's q35 machines, and which insists on VIRTIO_F_ACCESS_PLATFORM
/// (`iommu_platform=on`, as for encrypted guests); an e1000 (whose driver comes from
/// QEMU's iPXE option ROM: on UEFI the core leaves Intel NICs to their vendor's driver)
/// through the platform's driver and SNP. With
/// `-cpu max` downloads are hashed on the SHA extensions, and the signature checks depend
/// on those digests.
#[test]
fn boots_through_each_nic_interface_and_with_sha_extensions() {
    let signed = signed_www(&[("vmlinuz", "vmlinuz"), ("initrd.img", "initrd.img")]);
    let server = FileServer::start(signed.env.path("www"), 0);
    let efi = boot_image(&signed, &kernel_script(server.port, "imgtrust --permanent --all\n"), vec![]);
    let cases: [(&str, &[&str], &str, bool); 3] = [
        // (The first `-device` is the root port; the NIC follows among the extra arguments.)
        (
            "pcie-root-port,id=rp1,bus=pcie.0,chassis=1",
            &["-device", "virtio-net-pci,netdev=n0,bus=rp1,romfile=,iommu_platform=on"],
            "virtio-net 1.0",
            false,
        ),
        ("e1000,netdev=n0", &[], "UEFI SNP", false),
        ("virtio-net-pci,netdev=n0,romfile=", &["-cpu", "max"], "virtio-net", true),
    ];
    for (nic, extra, driver, sha_ni) in cases {
        let out = boots_to_marker(&efi, nic, extra);
        assert!(out.contains(&format!(", {driver})...")), "{nic}: {out}");
        let accelerated = "SHA-256 and AES-GCM on the CPU's SHA and AES instructions";
        assert_eq!(out.contains(accelerated), sha_ni, "{extra:?}: {out}");
        assert!(
            out.contains("vmlinuz: signature verified") && out.contains("initrd.img: signature verified")
        );
    }
}

/// With two NICs, DHCP runs on both and the first to get an answer is configured: here
/// the second, the first being on a network without a DHCP server (a QEMU hub with
/// nothing else on it). `${next-server}` and the downloads then use it, as iPXE's `dhcp`
/// without an interface does.
#[test]
fn dhcp_takes_whichever_interface_answers() {
    let signed = signed_www(&[("vmlinuz", "vmlinuz"), ("initrd.img", "initrd.img")]);
    let server = FileServer::start(signed.env.path("www"), 0);
    let efi =
        boot_image(&signed, &kernel_script(server.port, "ifstat net1\nimgtrust --permanent --all\n"), vec![]);
    let out = boots_to_marker(
        &efi,
        "virtio-net-pci,netdev=dead,romfile=,mac=52:54:00:00:00:01",
        &[
            "-netdev",
            "hubport,id=dead,hubid=7",
            "-device",
            "virtio-net-pci,netdev=n0,romfile=,mac=52:54:00:00:00:02",
        ],
    );
    assert!(
        out.contains("DHCP on net0 (52:54:00:00:00:01, virtio-net), net1 (52:54:00:00:00:02, virtio-net)..."),
        "{out}"
    );
    assert!(out.contains(" net1: 10.0.2.15 gateway 10.0.2.2 next-server 10.0.2.2"), "{out}");
    assert!(out.contains("net1: 52:54:00:00:00:02 (virtio-net)"), "{out}");
    assert!(out.contains("vmlinuz: signature verified") && out.contains("initrd.img: signature verified"));
}

#[test]
fn a_tampered_kernel_is_refused() {
    let signed = signed_www(&[("vmlinuz", "vmlinuz"), ("initrd.img", "initrd.img")]);
    let path = signed.env.path("www/vmlinuz");
    let mut kernel = std::fs::read(&path).unwrap();
    kernel[4096] ^= 0x20;
    std::fs::write(&path, kernel).unwrap();
    let server = FileServer::start(signed.env.path("www"), 0);
    let (ok, out, _) = boot(&signed, &kernel_script(server.port, "imgtrust --permanent\n"), vec![]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(
            "image 'vmlinuz' was not verified: the signature by \"bootsign code signing\" does not verify"
        ),
        "{out}"
    );
    assert!(!out.contains("Booting"), "{out}");
}

#[test]
fn a_signature_from_an_untrusted_ca_is_refused() {
    let signed = signed_www(&[("vmlinuz", "vmlinuz"), ("initrd.img", "initrd.img")]);
    // The image trusts another CA.
    let other = Env::new();
    other.ok(&["ca", "init", "--key", "p256", "--cn", "Other CA"]);
    let untrusting = Signed { env: signed.env, anchor: anchor_of(&other, "ca.crt") };
    let server = FileServer::start(untrusting.env.path("www"), 0);
    let (ok, out, _) = boot(&untrusting, &kernel_script(server.port, ""), vec![]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(
            "signer \"bootsign code signing\" is not trusted: root \"Boot CA\" is not trusted (SHA-256"
        ),
        "{out}"
    );
}

#[test]
fn an_unverified_image_is_refused_after_imgtrust() {
    let signed = signed_www(&[("vmlinuz", "vmlinuz")]);
    let server = FileServer::start(signed.env.path("www"), 0);
    let script = format!(
        "#!ipxe\nimgtrust --permanent\nkernel http://${{next-server}}:{}/vmlinuz\nboot\n",
        server.port
    );
    let (ok, out, _) = boot(&signed, &script, vec![]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(
            "image 'vmlinuz' is not trusted: imgtrust requires a verified image (run imgverify first)"
        ),
        "{out}"
    );
}

#[test]
fn an_unverified_initrd_is_refused_with_imgtrust_all() {
    let signed = signed_www(&[("vmlinuz", "vmlinuz"), ("initrd.img", "initrd.img")]);
    let server = FileServer::start(signed.env.path("www"), 0);
    let script = kernel_script(server.port, "imgtrust --permanent --all\n")
        .replace("imgverify initrd.img", "echo skipping");
    let (ok, out, _) = boot(&signed, &script, vec![]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(
            "initrd 'initrd.img' is not trusted: imgtrust --all requires every image to be verified"
        ),
        "{out}"
    );
    // The build can demand the same without the script saying so.
    let script = kernel_script(server.port, "").replace("imgverify initrd.img", "echo skipping");
    let (ok, out, _) = boot(&signed, &script, vec![("require-signed", "all")]);
    assert!(!ok, "{out}");
    assert!(out.contains("initrd 'initrd.img' is not trusted"), "{out}");
}

#[test]
fn an_unknown_policy_setting_stops_the_boot_and_is_named() {
    // A setting the firmware does not know may be a requirement it would not enforce (a
    // newer bootsign's, or a misspelling): it refuses the image before anything runs.
    let signed = signed_www(&[]);
    let script = "#!ipxe\necho SCRIPT-RAN\n";
    let (ok, out, _) =
        boot(&signed, script, vec![("require-signed", "all"), ("require-signed-initrds", "on")]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(
            "bootsign: the embedded configuration is unusable: the policy setting 'require-signed-initrds' \
             is not one this firmware knows"
        ),
        "{out}"
    );
    assert!(!out.contains("SCRIPT-RAN") && !out.contains("DHCP"), "{out}");
}

/// Only this test serves on port 80 (the seed script's URLs have no port).
static PORT_80: Mutex<()> = Mutex::new(());

#[test]
fn the_seed_example_script_runs_unmodified() {
    let _port = PORT_80.lock().unwrap();
    let signed = signed_www(&[]);
    // What the script boots: an EFI program that prints a marker (this firmware with a
    // one-line script), signed like a kernel.
    std::fs::create_dir_all(signed.env.path("www/boot")).unwrap();
    let payload = signed.env.path("www/boot/vmlinuz");
    configured_efi(
        &payload,
        &ImageConfig {
            script: Some("#!ipxe\necho SEED-CHAIN-OK\n"),
            settings: vec![("autodhcp", "off")],
            ..Default::default()
        },
    );
    signed.env.ok(&["sign", payload.to_str().unwrap()]);
    let _server = FileServer::start(signed.env.path("www"), 80);
    let seed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/signed-boot.ipxe")).unwrap();
    let (ok, out, _) = boot(&signed, &seed, vec![]);
    assert!(ok, "{out}");
    assert!(out.contains("vmlinuz: signature verified"), "{out}");
    assert!(out.contains("SEED-CHAIN-OK"), "{out}");
}

#[test]
fn trust_comes_from_the_build() {
    // One template, two builds with different --trust: a kernel signed under CA 1 boots
    // with the first image and is refused by the second.
    let signed = signed_www(&[("vmlinuz", "vmlinuz"), ("initrd.img", "initrd.img")]);
    let server = FileServer::start(signed.env.path("www"), 0);
    signed.env.write("boot.ipxe", kernel_script(server.port, ""));
    std::fs::create_dir(signed.env.path("other")).unwrap();
    signed.env.ok(&["--ca-dir", "other", "ca", "init", "--key", "p256", "--cn", "Other CA"]);
    let build = |trust: &str, name: &str| {
        signed.env.ok(&[
            "build",
            "--no-config",
            "--efi",
            "--trust",
            trust,
            "--embed",
            "boot.ipxe",
            "--require-signed-initrd",
            "--output-name",
            name,
        ]);
    };
    build("ca.crt", "one");
    build("other/ca.crt", "two");

    let markers = ["BOOTSIGN-INITRAMFS-OK", "nothing was booted"];
    let mut one = Qemu::boot_efi(&signed.env.path("one.efi"), "");
    let (which, _) = one.wait_for(&markers, Duration::from_secs(240));
    assert_eq!(which, 0, "{}", one.output());
    drop(one);
    let mut two = Qemu::boot_efi(&signed.env.path("two.efi"), "");
    let (which, _) = two.wait_for(&markers, Duration::from_secs(120));
    let out = two.output();
    assert_eq!(which, 1, "{out}");
    assert!(out.contains("image 'vmlinuz' was not verified: signer \"bootsign code signing\" is not trusted: root \"Boot CA\" is not trusted"), "{out}");
}

#[test]
fn the_usb_image_boots_from_a_usb_stick() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    env.write("boot.ipxe", "#!ipxe\necho USB-IMAGE-OK from ${net0/ip}\n");
    env.ok(&["build", "--usb", "--trust", "ca.crt", "--embed", "boot.ipxe"]);
    let mut qemu = Qemu::boot_usb(&env.path("bootsign.usb"));
    let (which, _) = qemu.wait_for(&["USB-IMAGE-OK", "nothing was booted"], Duration::from_secs(120));
    let out = qemu.output();
    assert_eq!(which, 0, "{out}");
    assert!(out.contains("USB-IMAGE-OK from 10.0.2.15"), "{out}");
}

#[test]
fn the_iso_image_boots_as_a_cd_and_as_a_usb_stick() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    env.write("boot.ipxe", "#!ipxe\necho ISO-IMAGE-OK\n");
    env.ok(&["build", "--iso", "--trust", "ca.crt", "--embed", "boot.ipxe"]);
    // One after the other: both would lock the same file.
    let boots: [fn(&std::path::Path) -> Qemu; 2] = [Qemu::boot_cdrom, Qemu::boot_usb];
    for boot in boots {
        let mut qemu = boot(&env.path("bootsign.iso"));
        let (which, _) = qemu.wait_for(&["ISO-IMAGE-OK", "nothing was booted"], Duration::from_secs(120));
        assert_eq!(which, 0, "{}", qemu.output());
    }
}

#[test]
fn the_option_rom_adds_a_network_boot_option_for_its_nic() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256"]);
    env.write("boot.ipxe", "#!ipxe\necho ROM-IMAGE-OK from ${net0/ip}\n");
    env.ok(&["build", "--rom", "--pci", "1af4:1000", "--trust", "ca.crt", "--embed", "boot.ipxe"]);
    let mut qemu = Qemu::boot_rom(&env.path("bootsign.rom"));
    let (which, _) = qemu.wait_for(&["ROM-IMAGE-OK", "nothing was booted"], Duration::from_secs(120));
    let out = qemu.output();
    assert_eq!(which, 0, "{out}");
    assert!(out.contains("ROM-IMAGE-OK from 10.0.2.15"), "{out}");
}

#[test]
fn http_redirects_chunked_bodies_and_errors_name_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(dir.path().join("data.bin"), &data).unwrap();
    // 4 GiB (sparse): more than the guest's memory.
    std::fs::File::create(dir.path().join("huge.bin")).unwrap().set_len(4 << 30).unwrap();
    let server = FileServer::start(dir.path().to_path_buf(), 0);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let p = server.port;
    let script = format!(
        "#!ipxe\n\
         imgfetch --name redirected http://${{next-server}}:{p}/redirect/data.bin\n\
         imgfetch --name chunked http://${{next-server}}:{p}/chunked/data.bin\n\
         imgstat\n\
         imgfetch http://${{next-server}}:{p}/reset/data.bin || echo marker: reset reported\n\
         imgfetch http://${{next-server}}:{closed}/data.bin || echo marker: refused reported\n\
         imgfetch http://${{next-server}}:{p}/missing.bin || echo marker: 404 reported\n\
         imgfetch http://${{next-server}}:{p}/huge.bin || echo marker: huge reported\n\
         echo marker: done\n"
    );
    let efi = dir.path().join("http.efi");
    configured_efi(&efi, &ImageConfig { script: Some(&script), ..Default::default() });
    let mut qemu = Qemu::boot_efi(&efi, "");
    qemu.wait_for(&["marker: done", "nothing was booted"], Duration::from_secs(120));
    let out = qemu.output();
    assert!(
        out.contains("redirected to http://10.0.2.2:") && out.contains("redirected : 300000 bytes"),
        "{out}"
    );
    assert!(out.contains("chunked : 300000 bytes"), "{out}");
    assert!(out.contains("reset/data.bin: the connection closed after 150000 of 300000 bytes"), "{out}");
    assert!(out.contains("marker: reset reported"), "{out}");
    assert!(out.contains(&format!("data.bin: connection to 10.0.2.2:{closed} refused")), "{out}");
    assert!(out.contains("missing.bin: HTTP 404 Not Found") && out.contains("marker: 404 reported"), "{out}");
    assert!(
        out.contains(
            "huge.bin: the response is 4294967296 bytes (4096.0 MiB), more than this machine has memory for"
        ) && out.contains("marker: huge reported"),
        "{out}"
    );
    assert!(out.contains("marker: done"), "{out}");
}

/// Names are looked up by DNS: a real (if tiny) name server on the host, chosen by the
/// script with `set dns` (QEMU's own resolver forwards to the host's, which knows no
/// test names), answers for one name and says NXDOMAIN for another.
#[test]
fn fetches_by_host_name_through_dns() {
    let _port = PORT_53.lock().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), b"hello by name\n").unwrap();
    let server = FileServer::start(dir.path().to_path_buf(), 0);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/dns_server.py");
    let mut dns = std::process::Command::new("python3")
        .args([script, "53", "boot.bootsign.test=10.0.2.2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(dns.stdout.take().unwrap()), &mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "READY", "the DNS server did not start");
    let p = server.port;
    let script = format!(
        "#!ipxe\nset dns 10.0.2.2\nimgfetch http://boot.bootsign.test:{p}/hello.txt\nimgstat\n\
         nslookup srv boot.bootsign.test && echo marker: nslookup ${{srv}}\n\
         nslookup srv nowhere.bootsign.test || echo marker: nslookup refused\n\
         imgfetch http://nowhere.bootsign.test:{p}/hello.txt || echo marker: nxdomain handled\n\
         set dns not-an-address || echo marker: bad dns refused\necho marker: done\n"
    );
    let efi = dir.path().join("dns.efi");
    configured_efi(&efi, &ImageConfig { script: Some(&script), ..Default::default() });
    let mut qemu = Qemu::boot_efi(&efi, "");
    qemu.wait_for(&["marker: done", "nothing was booted"], Duration::from_secs(120));
    let out = qemu.output();
    let _ = dns.kill();
    let _ = dns.wait();
    assert!(out.contains("http://boot.bootsign.test:"), "{out}");
    assert!(out.contains("hello.txt : 14 bytes"), "{out}");
    assert!(out.contains("nowhere.bootsign.test: no such host"), "{out}");
    assert!(out.contains("marker: nxdomain handled"), "{out}");
    assert!(out.contains("marker: nslookup 10.0.2.2\n"), "{out}");
    assert!(
        out.contains(
            "nslookup: nowhere.bootsign.test: nowhere.bootsign.test: no such host\nmarker: nslookup refused"
        ),
        "{out}"
    );
    assert!(
        out.contains("cannot store \"dns\": 'not-an-address' is not a valid ipv4 value")
            && out.contains("marker: bad dns refused"),
        "{out}"
    );
    assert!(out.contains("marker: done"), "{out}");
    assert_eq!(*server.requests.lock().unwrap(), ["/hello.txt"]);
}

/// Only this test serves DNS on port 53.
static PORT_53: Mutex<()> = Mutex::new(());
