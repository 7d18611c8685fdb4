//! The firmware's clock, in QEMU + OVMF with the RTC in 2001 (`-rtc base=2001-01-01`,
//! as on a board with a dead CMOS battery), against a real NTP server (chronyd) on
//! 127.0.0.1 and a CA whose certificates start today:
//!
//! - certificate checks refuse, naming the clock's time and suggesting `ntp`, for the
//!   TLS server and for the CMS signer; `ntp` against a port where nothing answers fails
//!   with what it tried; after `ntp 10.0.2.2:PORT` the same kernel and initrd are fetched
//!   over HTTPS, verified and booted;
//! - with no `ntp` line, a DHCP server that names the NTP server (option 42) is enough:
//!   the firmware sees the clock is earlier than its own build and sets it. QEMU's user
//!   network cannot send option 42, so the guest has a second NIC on a `dgram` link to
//!   a small responder (tests/common/ntp_link.py) that answers DHCP and relays NTP to
//!   chronyd.

mod common;

use common::http::FileServer;
use common::https::HttpsServer;
use common::link::Link;
use common::ntp::{Chrony, free_udp_port};
use common::qemu;
use common::{Env, boot_lines, signed_boot_env};

/// The RTC of a board whose CMOS battery died.
const RTC: &[&str] = &["-rtc", "base=2001-01-01", "-cpu", "max"];

/// A CA (its certificates valid from now), a server certificate for 10.0.2.2, and www/
/// with the signed kernel and initrd.
fn setup() -> Env {
    signed_boot_env("Clock CA")
}

/// Builds an EFI image embedding `script` and trusting the CA, and boots it with the NIC
/// on QEMU's user network (net0, its MAC fixed as the assertions name it) and `qemu_args`.
fn build_and_boot(
    env: &Env,
    name: &str,
    script: &str,
    flags: &[&str],
    qemu_args: &[&str],
) -> (usize, String) {
    let mut flags = flags.to_vec();
    flags.extend(["--trust", "ca.crt"]);
    let nic = "virtio-net-pci,netdev=n0,romfile=,mac=52:54:00:12:34:56";
    qemu::build_and_boot(env, name, script, &flags, nic, qemu_args)
}

#[test]
fn a_wrong_clock_is_named_then_set_by_ntp_and_the_signed_boot_succeeds() {
    let env = setup();
    let https =
        HttpsServer::start(&env.path("www"), &env.path("server-full.crt"), &env.path("server.key"), None);
    let http = FileServer::start(env.path("www"), 0);
    let chrony = Chrony::start();
    let secure = format!("https://10.0.2.2:{}", https.port);
    let plain = format!("http://10.0.2.2:{}", http.port);
    // A port where nothing answers: three requests time out.
    let silent = free_udp_port();
    // No NTP server is known at first (QEMU's DHCP names none): both checks refuse.
    let script = format!(
        "#!ipxe\n\
         kernel {secure}/vmlinuz || echo TLS-REFUSED\n\
         kernel {plain}/vmlinuz\n\
         imgverify vmlinuz {plain}/vmlinuz.sig || echo CMS-REFUSED\n\
         ntp 10.0.2.2:{silent} || echo NTP-FAILED\n\
         ntp 10.0.2.2:{ntp}\nntp 10.0.2.2:{ntp}\n{boot}",
        silent = silent,
        ntp = chrony.port,
        boot = boot_lines(&secure)
    );
    let (which, out) = build_and_boot(&env, "ntp", &script, &[], RTC);
    assert_eq!(which, 0, "{out}");
    // The refusals: the TLS server's certificate and the CMS signer's, each naming the
    // clock and the fix.
    let hint = "the clock says 2001-01-01 00:0";
    let fix = "before this firmware was built (20";
    let suggestion = "set it with `ntp SERVER`";
    let tls = out.lines().find(|l| l.starts_with(&format!("kernel: {secure}/vmlinuz: "))).expect(&out);
    assert!(tls.contains("is not valid until") && tls.contains(hint), "{out}");
    assert!(tls.contains(fix) && tls.contains(suggestion), "{out}");
    let cms = out.lines().find(|l| l.starts_with("imgverify: ")).expect(&out);
    assert!(cms.contains("is not valid until") && cms.contains(hint), "{out}");
    assert!(cms.contains(fix) && cms.contains(suggestion), "{out}");
    assert!(out.contains("TLS-REFUSED") && out.contains("CMS-REFUSED"), "{out}");
    assert!(
        out.contains(&format!(
            "ntp: no reply from 10.0.2.2:{silent} (10.0.2.2) to 3 NTP requests, 2 s each\nNTP-FAILED"
        )),
        "{out}"
    );
    // ntp: the server, the time before and after, the correction, the RTC.
    let line = out.lines().find(|l| l.starts_with("ntp: 10.0.2.2:") && l.contains("stratum")).expect(&out);
    assert!(line.starts_with(&format!("ntp: 10.0.2.2:{} (10.0.2.2, stratum 3, ", chrony.port)), "{line}");
    assert!(line.contains("the clock was 2001-01-01 00:0"), "{line}");
    let year = line.split("is now ").nth(1).expect(line);
    assert!(year.starts_with("20") && !year.starts_with("2001"), "{line}");
    assert!(line.contains("(corrected by +") && line.contains(" days "), "{line}");
    assert!(line.ends_with("the RTC is set"), "{line}");
    // Asked again, the RTC now reads a plausible time: only the firmware's clock moves.
    let again = out.lines().filter(|l| l.starts_with("ntp: 10.0.2.2:") && l.contains("stratum")).nth(1);
    let again = again.expect(&out);
    assert!(
        again.ends_with(
            "the RTC is left as it was (only one earlier than this firmware's build is rewritten)"
        ),
        "{again}"
    );
    assert!(
        out.contains("vmlinuz: signature verified") && out.contains("initrd.img: signature verified"),
        "{out}"
    );
    assert!(out.contains("BOOTSIGN-INITRAMFS-OK"), "{out}");
    eprintln!("{out}");
}

#[test]
fn dhcp_option_42_sets_a_clearly_wrong_clock_before_the_first_certificate_check() {
    let env = setup();
    let https =
        HttpsServer::start(&env.path("www"), &env.path("server-full.crt"), &env.path("server.key"), None);
    let chrony = Chrony::start();
    let link = Link::start("ntp_link.py", &[&chrony.port.to_string()]);
    let secure = format!("https://10.0.2.2:{}", https.port);
    // net1 is the link whose DHCP names the NTP server; net0 (QEMU's) serves the files.
    let script = format!(
        "#!ipxe\ndhcp net1\necho net1/ntp=${{net1/ntp}}\nset user-class bootsign-test\ndhcp net1\n\
         dhcp net0\necho ntp=${{ntp}} net1/ntp=${{net1/ntp}}\n{}",
        boot_lines(&secure)
    );
    let dgram = link.netdev("n1");
    let mut args = RTC.to_vec();
    args.extend(["-netdev", &dgram, "-device", "virtio-net-pci,netdev=n1,romfile=,mac=52:54:00:12:34:57"]);
    let (which, out) = build_and_boot(&env, "option42", &script, &["--no-autodhcp"], &args);
    let log = link.log.lock().unwrap().join("\n");
    assert_eq!(which, 0, "{out}\nlink:\n{log}");
    assert!(out.contains("DHCP on net1 (52:54:00:12:34:57, "), "{out}");
    assert!(out.contains(" 192.168.77.10 gateway - next-server - "), "{out}");
    assert!(out.contains("net1/ntp=192.168.77.1\n"), "{out}");
    assert!(
        out.contains("bootsign: the clock says 2001-01-01 00:0")
            && out.contains("before this firmware was built (20")
            && out.contains("): setting it from the DHCP server's NTP server 192.168.77.1\n"),
        "{out}"
    );
    let line = out.lines().find(|l| l.starts_with("ntp: ")).expect(&out);
    assert!(line.starts_with("ntp: 192.168.77.1:123 (192.168.77.1, stratum 3, "), "{line}");
    assert!(line.contains("the clock was 2001-01-01") && line.ends_with("the RTC is set"), "{line}");
    // The second DHCP (QEMU's, without option 42) leaves what net1 learnt in place, and
    // an unscoped name not in net0's settings is found in net1's, as iPXE searches every
    // interface's settings.
    assert!(out.contains("ntp=192.168.77.1 net1/ntp=192.168.77.1\n"), "{out}");
    assert!(log.contains("DHCP ACK with option 42") && log.contains("NTP reply to 192.168.77.10"), "{log}");
    // DHCP identifies the client as iPXE does (user class "iPXE", so servers set up for
    // iPXE answer with the script, not the boot program again), or as `user-class` says.
    let first = log.find("DHCP DISCOVER with user class iPXE\n").expect(&log);
    assert!(log[first..].contains("DHCP DISCOVER with user class bootsign-test"), "{log}");
    assert!(
        out.contains("vmlinuz: signature verified") && out.contains("initrd.img: signature verified"),
        "{out}"
    );
    assert!(out.contains("BOOTSIGN-INITRAMFS-OK"), "{out}");
    eprintln!("{out}");
}
