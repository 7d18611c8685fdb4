//! Downloads that survive, in QEMU + OVMF against real servers on 127.0.0.1 that
//! misbehave: a body cut halfway (resumed with Range, and the image still verifies), 503
//! with Retry-After, a reset first connection, a stall (--timeout), and one connection
//! per origin for a whole boot; then four guests booting at once from a server that
//! takes two connections at a time.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::http::{Behaviour, FileServer};
use common::qemu::{ImageConfig, Qemu, configured_efi};
use common::{Env, boot_lines, fixtures};

/// A CA with a code-signing certificate and www/ with the signed kernel and initrd (and
/// `extra` files, written and signed too); the CA's fingerprint.
fn signed_www(extra: &[(&str, Vec<u8>)]) -> (Env, [u8; 32]) {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Boot CA"]);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    std::fs::create_dir_all(env.path("www")).unwrap();
    let fx = fixtures();
    for f in ["vmlinuz", "initrd.img"] {
        std::fs::copy(fx.join(f), env.path(&format!("www/{f}"))).unwrap();
        env.ok(&["sign", &format!("www/{f}")]);
    }
    for (name, data) in extra {
        std::fs::write(env.path(&format!("www/{name}")), data).unwrap();
        env.ok(&["sign", &format!("www/{name}")]);
    }
    let anchor = env.ok(&["fingerprint", "--raw", "ca.crt"]);
    (env, bootsign_pki::Fingerprint::parse(anchor.trim()).unwrap().0)
}

fn kernel_script(port: u16) -> String {
    boot_lines(&format!("http://${{next-server}}:{port}"))
}

#[test]
fn downloads_survive_servers_that_drop_refuse_stall_and_are_busy() {
    // 64 MiB that does not compress or repeat.
    let mut big = vec![0u8; 64 << 20];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for chunk in big.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let (env, anchor) = signed_www(&[("big.bin", big), ("hello.txt", b"hello, again\n".to_vec())]);
    let flaky = FileServer::start(env.path("www"), 0);
    let refusing = FileServer::start_with(
        env.path("www"),
        0,
        Behaviour { reset_first: 1, requests_per_connection: Some(1), ..Default::default() },
    );
    let boot = FileServer::start(env.path("www"), 0);
    let (f, r) = (flaky.port, refusing.port);
    let script = format!(
        "#!ipxe\n\
         imgfetch --name big http://${{next-server}}:{f}/drop/big.bin\n\
         imgverify big http://${{next-server}}:{f}/big.bin.sig\n\
         imgfree big\n\
         imgfetch --name busy http://${{next-server}}:{f}/busy/hello.txt\n\
         imgfetch --name refused http://${{next-server}}:{r}/hello.txt\n\
         imgfetch --name again http://${{next-server}}:{r}/hello.txt\n\
         imgfetch --timeout 3000 http://${{next-server}}:{f}/stall/hello.txt || echo marker: stall reported\n\
         imgstat\n\
         echo marker: misbehaving servers done\n\
         imgfree\n{}",
        kernel_script(boot.port)
    );
    let efi = env.path("downloads.efi");
    configured_efi(&efi, &ImageConfig { anchors: vec![anchor], script: Some(&script), ..Default::default() });
    let mut qemu = Qemu::boot_efi(&efi, "");
    let (which, _) =
        qemu.wait_for(&["BOOTSIGN-INITRAMFS-OK", "nothing was booted"], Duration::from_secs(400));
    std::thread::sleep(Duration::from_millis(300));
    let out = qemu.output();
    assert_eq!(which, 0, "{out}");

    // The body cut halfway: resumed from where it stopped, only if still the same file,
    // and the whole image verifies.
    let url = format!("http://10.0.2.2:{f}/drop/big.bin");
    let half = 32 << 20;
    assert!(
        out.contains(&format!(
            "{url}: the connection closed after {half} of {} bytes; retrying in",
            64 << 20
        )) && out.contains(&format!("resuming at byte {half})")),
        "{out}"
    );
    assert!(
        out.contains(&format!("{url} {} bytes in", 64 << 20))
            && out.contains(&format!("resumed at byte {half}")),
        "{out}"
    );
    assert!(out.contains("big: signature verified (signed by"), "{out}");
    let drops = flaky.logged("/drop/big.bin");
    assert_eq!(drops.len(), 2, "{drops:?}");
    assert_eq!((drops[0].range.as_deref(), drops[0].status), (None, 0));
    assert_eq!((drops[1].range.as_deref(), drops[1].status), (Some(format!("bytes={half}-").as_str()), 206));

    // 503 with Retry-After: 1, twice, then the file.
    let busy = format!("http://10.0.2.2:{f}/busy/hello.txt");
    assert_eq!(
        out.matches(&format!("{busy}: HTTP 503 Service Unavailable; retrying in 1 s (as the server asked)"))
            .count(),
        2,
        "{out}"
    );
    assert_eq!(flaky.logged("/busy/hello.txt").iter().map(|l| l.status).collect::<Vec<_>>(), [503, 503, 200]);
    assert!(out.contains("busy : 13 bytes"), "{out}");

    // The first connection reset, then served on a new one.
    let refused = format!("http://10.0.2.2:{r}/hello.txt");
    assert!(
        out.contains(&format!("{refused}: the server reset the connection without answering; retrying in"))
            && out.contains("(attempt 2 of 5)"),
        "{out}"
    );
    assert!(out.contains("refused : 13 bytes"), "{out}");
    // The kept connection, closed by the server as it was reused: replaced by a new one
    // without a word (it is no failure).
    assert!(out.contains("again : 13 bytes"), "{out}");
    assert_eq!(out.matches(&format!("{refused}: ")).count(), 1, "{out}");
    assert_eq!(refusing.connections.load(Ordering::SeqCst), 3);
    let statuses: Vec<(usize, u16)> =
        refusing.logged("/hello.txt").iter().map(|l| (l.connection, l.status)).collect();
    assert_eq!(statuses, [(2, 200), (2, 0), (3, 200)]);

    // The stall: stopped by --timeout, the message naming the URL and the time waited.
    let stall = format!("http://10.0.2.2:{f}/stall/hello.txt");
    assert!(
        out.contains(&format!("{stall}: timed out after 3"))
            && out.contains(" s (--timeout 3000 ms): no response from the server"),
        "{out}"
    );
    assert!(out.contains("marker: stall reported"), "{out}");

    // The boot itself: kernel, initrd and two signatures over one connection.
    assert!(
        out.contains("vmlinuz: signature verified") && out.contains("initrd.img: signature verified"),
        "{out}"
    );
    assert!(out.matches(", reused connection)").count() >= 3, "{out}");
    assert_eq!(boot.connections.load(Ordering::SeqCst), 1, "{:?}", boot.log.lock().unwrap());
    assert_eq!(boot.requests.lock().unwrap().len(), 4);
    assert!(out.contains("BOOTSIGN-INITRAMFS-OK cmdline: console=ttyS0 panic=-1 quiet"), "{out}");
}

/// A boot storm: four guests at once against a server that serves two connections at a
/// time (the others get 503 with Retry-After) and closes idle connections quickly. The
/// server answers nothing until three guests have connected, so they meet there however
/// the host schedules four QEMUs.
#[test]
fn four_guests_boot_at_once_from_a_server_that_takes_two() {
    let (env, anchor) = signed_www(&[]);
    let server = FileServer::start_with(
        env.path("www"),
        0,
        Behaviour {
            max_connections: Some(2),
            idle_close: Some(Duration::from_millis(500)),
            hold_until: Some(3),
            ..Default::default()
        },
    );
    let script = format!("#!ipxe\n{}", kernel_script(server.port));
    let efi = env.path("storm.efi");
    configured_efi(&efi, &ImageConfig { anchors: vec![anchor], script: Some(&script), ..Default::default() });
    let mut guests: Vec<Qemu> = (0..4).map(|_| Qemu::boot_efi(&efi, "")).collect();
    let mut outs = Vec::new();
    for qemu in &mut guests {
        let (which, _) =
            qemu.wait_for(&["BOOTSIGN-INITRAMFS-OK", "nothing was booted"], Duration::from_secs(900));
        let out = qemu.output();
        assert_eq!(which, 0, "{out}");
        outs.push(out);
    }
    drop(guests);
    let turned_away = server.turned_away.load(Ordering::SeqCst);
    assert!(turned_away > 0, "the server never had to turn anyone away: {:?}", server.log.lock().unwrap());
    let waits: usize =
        outs.iter().map(|o| o.matches("HTTP 503 Service Unavailable; retrying in 1 s").count()).sum();
    assert_eq!(waits, turned_away, "{outs:#?}");
}
