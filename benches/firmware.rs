//! Boot benchmark, side by side in one run under QEMU TCG:
//!
//! - seconds from QEMU start to the initramfs marker, booting the signed kernel and
//!   initrd over HTTP through the firmware (imgtrust, imgverify, boot);
//! - the same for a direct `-kernel/-initrd` boot (OVMF loading Linux itself);
//! - their difference (the firmware's overhead);
//! - 64 MiB over HTTP through the firmware, and imgverify of that 64 MiB file; the
//!   download again through a virtio device's modern (1.0) interface;
//! - with `-cpu max` (SHA, AES and PCLMUL instructions, RDRAND): the same, 64 MiB over
//!   HTTPS, and the TLS handshake time with and without a client certificate;
//! - on the default CPU (no RDRAND, no RNG device), how long seeding from CPU timing jitter
//!   takes, as the firmware's banner reports it;
//! - on legacy BIOS (SeaBIOS, `-machine pc`): the signed boot through `bootsign.lkrn`
//!   against a direct `-kernel/-initrd` boot by SeaBIOS, 64 MiB over HTTP and HTTPS
//!   (`-cpu max`), the same boot over PXE (`bootsign.kpxe`, the ROM's UNDI driver), and
//!   the sizes of the BIOS images beside iPXE's.
//!
//! Run with `cargo bench --bench firmware` (scripts/setup.sh first). Medians of 3.

#[path = "../tests/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Env;
use common::http::FileServer;
use common::https::HttpsServer;
use common::qemu::{ImageConfig, Qemu, configured_efi};

const RUNS: usize = 3;

/// `BENCH_LOG=1` prints the firmware's console of every run (to see where time goes).
fn show(what: &str, out: &str) {
    if std::env::var_os("BENCH_LOG").is_some() {
        eprintln!("----- {what} -----\n{out}");
    }
}
const MARKER: &str = "BOOTSIGN-INITRAMFS-OK";

/// QEMU's default virtio NIC, without an option ROM.
const NIC: &str = "virtio-net-pci,netdev=n0,romfile=";

/// Runs `efi` with `nic` and `extra` QEMU arguments until its script prints BENCH-DONE;
/// the console (shown under `BENCH_LOG` as `what`).
fn run_to_done(efi: &std::path::Path, nic: &str, extra: &[&str], what: &str) -> String {
    let mut q = Qemu::boot_efi_with(efi, nic, extra);
    let (which, _) = q.wait_for(&["BENCH-DONE", "nothing was booted"], Duration::from_secs(300));
    let out = q.output();
    assert_eq!(which, 0, "{out}");
    show(what, &out);
    out
}

/// Samples and milliseconds of the jitter seeding, from the banner line
/// `randomness from CPU timing jitter (SP 800-90B health tests passed, N samples, M ms)`.
fn jitter_seeding(out: &str) -> (f64, f64) {
    let line = out
        .lines()
        .map(str::trim_end)
        .find(|l| l.contains("randomness from CPU timing jitter"))
        .unwrap_or_else(|| panic!("no jitter seeding on the banner: {out}"));
    let inner = line.rsplit_once('(').and_then(|(_, r)| r.strip_suffix(')')).expect(line);
    let mut parts = inner.split(", ").skip(1);
    let mut number = |unit: &str| -> f64 {
        parts.next().and_then(|p| p.strip_suffix(unit)).and_then(|n| n.trim().parse().ok()).expect(line)
    };
    (number(" samples"), number(" ms"))
}

/// The median, or NaN for a group that was not run (`BENCH_ONLY`).
fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn fixtures() -> std::path::PathBuf {
    let out = Command::new("scripts/fixtures.sh").output().expect("scripts/fixtures.sh");
    assert!(out.status.success(), "scripts/fixtures.sh failed");
    std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Seconds from QEMU start to the marker for a direct Linux boot.
/// Seconds from QEMU's start to the marker when the platform's firmware boots the kernel
/// and initrd itself: OVMF on q35, or with `bios` SeaBIOS on pc.
fn direct_boot(fx: &std::path::Path, bios: bool) -> f64 {
    let vars = tempfile::tempdir().unwrap();
    std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", vars.path().join("vars.fd")).unwrap();
    let firmware: Vec<String> = if bios {
        Vec::new()
    } else {
        vec![
            "-drive".into(),
            "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd".into(),
            "-drive".into(),
            format!("if=pflash,format=raw,unit=1,file={}", vars.path().join("vars.fd").display()),
        ]
    };
    let start = Instant::now();
    let mut child = Command::new("qemu-system-x86_64")
        .args([
            "-machine",
            if bios { "pc" } else { "q35" },
            "-accel",
            "tcg",
            "-m",
            "1024",
            "-nographic",
            "-monitor",
            "none",
            "-no-reboot",
        ])
        .args(["-serial", "stdio", "-nodefaults"])
        .args(&firmware)
        .arg("-kernel")
        .arg(fx.join("vmlinuz"))
        .arg("-initrd")
        .arg(fx.join("initrd.img"))
        .args(["-append", "console=ttyS0 panic=-1 quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Read;
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let mut at = None;
    while let Ok(n) = stdout.read(&mut buf) {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&seen).contains(MARKER) {
            at = Some(start.elapsed().as_secs_f64());
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    at.expect("the direct boot never reached the marker")
}

/// Pulls "N ms" out of a line like "big.bin: signature verified (signed by X, N ms)".
fn verify_ms(out: &str, name: &str) -> f64 {
    let line =
        out.lines().find(|l| l.starts_with(&format!("{name}: signature verified"))).expect("verify line");
    let ms = line.rsplit(", ").next().unwrap().trim_end_matches(" ms)");
    ms.parse().unwrap()
}

/// MiB/s from the firmware's download line for `name`.
fn download_rate(out: &str, name: &str) -> f64 {
    let needle = format!("/{name} ");
    let line = out.lines().rev().find(|l| l.contains(&needle) && l.contains("MiB/s")).expect("download line");
    let rate = line.rsplit(" (").next().unwrap().split(" MiB/s").next().unwrap();
    rate.parse().unwrap()
}

/// The TLS handshake time from the download line of `url` ("..., handshake N ms)").
fn handshake_ms(out: &str, url: &str) -> f64 {
    let line = out.lines().rev().find(|l| l.starts_with(url) && l.contains("handshake")).expect("HTTPS line");
    line.rsplit("handshake ").next().unwrap().trim_end_matches(" ms)").parse().unwrap()
}

/// The suite of the download line of `url`.
fn suite(out: &str, url: &str) -> String {
    let line = out.lines().rev().find(|l| l.starts_with(url) && l.contains("handshake")).expect("HTTPS line");
    line.split(" MiB/s, ").nth(1).unwrap().split(", handshake").next().unwrap().to_string()
}

fn main() {
    let fx = fixtures();
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "Bench CA"]);
    env.ok(&["issue", "--codesigning", "--key", "rsa2048"]);
    std::fs::create_dir_all(env.path("www")).unwrap();
    for f in ["vmlinuz", "initrd.img"] {
        std::fs::copy(fx.join(f), env.path(&format!("www/{f}"))).unwrap();
    }
    let big: Vec<u8> = (0..64u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(env.path("www/big.bin"), big).unwrap();
    env.ok(&["sign", "www/vmlinuz", "www/initrd.img", "www/big.bin"]);
    let anchor =
        bootsign_pki::Fingerprint::parse(env.ok(&["fingerprint", "--raw", "ca.crt"]).trim()).unwrap().0;
    let server = FileServer::start(env.path("www"), 0);
    let p = server.port;
    let boot_script = format!(
        "#!ipxe\nimgtrust --permanent --all\n\
         kernel http://${{next-server}}:{p}/vmlinuz console=ttyS0 panic=-1 quiet\n\
         initrd http://${{next-server}}:{p}/initrd.img\n\
         imgverify vmlinuz http://${{next-server}}:{p}/vmlinuz.sig\n\
         imgverify initrd.img http://${{next-server}}:{p}/initrd.img.sig\nboot\n"
    );
    let big_script = format!(
        "#!ipxe\nimgfetch http://${{next-server}}:{p}/big.bin\n\
         imgverify big.bin http://${{next-server}}:{p}/big.bin.sig\necho BENCH-DONE\n"
    );
    // HTTPS: a server certificate for the host as the guest sees it, a default TLS
    // server (Python's ssl on OpenSSL; it picks the suite by the client's preference, as
    // nginx does) and one demanding a client certificate.
    env.ok(&["issue", "--server", "--cn", "10.0.2.2", "--san", "10.0.2.2", "--key", "p256", "--chain"]);
    env.ok(&["issue", "--client", "--cn", "bench-client", "--key", "p256", "-o", "client"]);
    std::fs::write(env.path("www/small.bin"), b"x").unwrap();
    let (www, chain, key, ca) =
        (env.path("www"), env.path("server-full.crt"), env.path("server.key"), env.path("ca.crt"));
    let tls = HttpsServer::start_client_order(&www, &chain, &key);
    let mtls = HttpsServer::start(&www, &chain, &key, Some(&ca));
    let (t, m) = (tls.port, mtls.port);
    // The signed boot again over HTTPS, on QEMU's default CPU: randomness from CPU timing
    // jitter, no AES instructions (ChaCha20-Poly1305 is offered first).
    let https_boot_script = boot_script
        .replace("http://${next-server}:", "https://${next-server}:")
        .replace(&format!("${{next-server}}:{p}/"), &format!("${{next-server}}:{t}/"));
    let https_boot_efi = env.path("https-boot.efi");
    configured_efi(
        &https_boot_efi,
        &ImageConfig { anchors: vec![anchor], script: Some(&https_boot_script), ..Default::default() },
    );
    let boot_efi = env.path("boot.efi");
    configured_efi(
        &boot_efi,
        &ImageConfig { anchors: vec![anchor], script: Some(&boot_script), ..Default::default() },
    );
    let big_efi = env.path("big.efi");
    configured_efi(
        &big_efi,
        &ImageConfig { anchors: vec![anchor], script: Some(&big_script), ..Default::default() },
    );

    // One image (with the client certificate) downloads 64 MiB over HTTP and then HTTPS
    // in the same run, then makes a second connection to the same server (the 404 ends
    // the first), which resumes the TLS session, and one to the server demanding a client
    // certificate; guests run with -cpu max (SHA and AES instructions, RDRAND).
    // A TLS 1.2 server that only offers ChaCha20-Poly1305 (ChaCha20 on SSE2 in the firmware).
    let chacha =
        HttpsServer::start_old(&www, &chain, &key, None, Some("1.2"), Some("ECDHE-ECDSA-CHACHA20-POLY1305"));
    let c = chacha.port;
    let https_script = format!(
        "#!ipxe\nimgfetch http://${{next-server}}:{p}/big.bin\n\
         imgverify big.bin http://${{next-server}}:{p}/big.bin.sig\nimgfree big.bin\n\
         imgfetch https://${{next-server}}:{t}/big.bin\nimgfree big.bin\n\
         imgfetch https://${{next-server}}:{c}/big.bin\nimgfree big.bin\n\
         imgfetch https://${{next-server}}:{t}/missing || echo 404 ends the connection\n\
         imgfetch https://${{next-server}}:{t}/small.bin\nimgfetch https://${{next-server}}:{m}/small.bin\n\
         echo BENCH-DONE\n"
    );
    std::fs::write(env.path("https.ipxe"), https_script).unwrap();
    env.ok(&[
        "build",
        "--no-config",
        "--efi",
        "--embed",
        "https.ipxe",
        "--trust",
        "ca.crt",
        "--cert",
        "client.crt",
        "--privkey",
        "client.key",
        "--output-name",
        "https",
        "-o",
        ".",
    ]);
    let https_efi = env.path("https.efi");

    // Legacy BIOS: the signed boot through bootsign.lkrn, and 64 MiB over HTTP then
    // HTTPS in one run.
    std::fs::write(env.path("bios-boot.ipxe"), &boot_script).unwrap();
    let bios_big = format!(
        "#!ipxe\nimgfetch http://${{next-server}}:{p}/big.bin\n\
         imgverify big.bin http://${{next-server}}:{p}/big.bin.sig\nimgfree big.bin\n\
         imgfetch https://${{next-server}}:{t}/big.bin\nimgfree big.bin\necho BENCH-DONE\npoweroff\n"
    );
    std::fs::write(env.path("bios-big.ipxe"), bios_big).unwrap();
    for (name, script) in [("bios-boot", "bios-boot.ipxe"), ("bios-big", "bios-big.ipxe")] {
        let flags =
            ["build", "--no-config", "--lkrn", "--embed", script, "--trust", "ca.crt", "--output-name", name];
        env.ok(&flags);
    }
    // The same boot through PXE: the NIC's PXE ROM loads bootsign.kpxe over TFTP, which
    // loads bootsign.lkrn, which runs on the ROM's UNDI driver.
    std::fs::create_dir_all(env.path("tftp")).unwrap();
    env.ok(&[
        "build",
        "--no-config",
        "--kpxe",
        "--embed",
        "bios-boot.ipxe",
        "--trust",
        "ca.crt",
        "-o",
        "tftp",
    ]);
    let pxe_netdev = format!("user,id=n0,tftp={},bootfile=bootsign.kpxe", env.path("tftp").display());
    let pxe_nic = ["-netdev", pxe_netdev.as_str(), "-device", "virtio-net-pci,netdev=n0,bootindex=0"];
    let pxe_size = std::fs::metadata(env.path("tftp/bootsign.kpxe")).unwrap().len();
    // The image sizes, built as a user builds them (one configuration, every format).
    env.ok(&[
        "build",
        "--no-config",
        "--lkrn",
        "--iso",
        "--usb",
        "--efi",
        "--rom",
        "--pci",
        "1af4:1000",
        "--trust",
        "ca.crt",
        "--output-name",
        "sizes",
    ]);
    let size = |ext: &str| std::fs::metadata(env.path(&format!("sizes.{ext}"))).unwrap().len();
    let bios_nic = ["-netdev", "user,id=n0", "-device", NIC];
    let (mut bios_ours, mut bios_direct, mut bios_http, mut bios_https) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut pxe_boot, mut pxe_rate) = (Vec::new(), Vec::new());

    let (mut ours, mut direct, mut rates, mut verifies) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut modern_rates, mut seed_ms, mut seed_samples) = (Vec::new(), Vec::new(), Vec::new());
    let (mut max_rates, mut max_verifies, mut tls_rates, mut hs, mut hs_cert) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut ratios, mut hs_resumed, mut https_boot) = (Vec::new(), Vec::new(), Vec::new());
    let mut tls_suite = String::new();
    let mut chacha_rates = Vec::new();
    // `BENCH_QEMU_ARGS` adds QEMU arguments to the download groups (`-perfmap` to profile).
    let extra_args = std::env::var("BENCH_QEMU_ARGS").unwrap_or_default();
    let extra: Vec<&str> = extra_args.split_whitespace().collect();
    let runs = std::env::var("BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(RUNS);
    // `BENCH_ONLY=boot|http|max` runs one group (the others print as not measured).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let run = |group: &str| only.is_empty() || only == group;
    for _ in 0..runs {
        if run("boot") {
            let mut q = Qemu::boot_efi(&boot_efi, "");
            let (which, at) = q.wait_for(&[MARKER, "nothing was booted"], Duration::from_secs(300));
            assert_eq!(which, 0, "{}", q.output());
            show("boot over HTTP", &q.output());
            let (samples, ms) = jitter_seeding(&q.output());
            seed_samples.push(samples);
            seed_ms.push(ms);
            ours.push(at.as_secs_f64());
            drop(q);
            direct.push(direct_boot(&fx, false));
            let mut q = Qemu::boot_efi(&https_boot_efi, "");
            let (which, at) = q.wait_for(&[MARKER, "nothing was booted"], Duration::from_secs(300));
            assert_eq!(which, 0, "{}", q.output());
            show("boot over HTTPS, default CPU", &q.output());
            https_boot.push(at.as_secs_f64());
        }
        if run("http") {
            let out = run_to_done(&big_efi, NIC, &extra, "64 MiB download");
            rates.push(download_rate(&out, "big.bin"));
            verifies.push(verify_ms(&out, "big.bin") / 1000.0);
            // A virtio device without the legacy interface (as on a PCIe port).
            let nic = "virtio-net-pci,netdev=n0,romfile=,disable-legacy=on";
            let out = run_to_done(&big_efi, nic, &extra, "64 MiB download, virtio 1.0");
            assert!(out.contains(", virtio-net 1.0)"), "{out}");
            modern_rates.push(download_rate(&out, "big.bin"));
        }
        if run("bios") {
            let mut q = Qemu::boot_bios_kernel(&env.path("bios-boot.lkrn"), "pc", &bios_nic);
            let (which, at) = q.wait_for(&[MARKER, "nothing was booted"], Duration::from_secs(300));
            assert_eq!(which, 0, "{}", q.output());
            show("BIOS: boot over HTTP", &q.output());
            bios_ours.push(at.as_secs_f64());
            drop(q);
            bios_direct.push(direct_boot(&fx, true));
            let max: Vec<&str> = bios_nic.iter().copied().chain(["-cpu", "max"]).collect();
            let mut q = Qemu::boot_bios_kernel(&env.path("bios-big.lkrn"), "pc", &max);
            let (which, _) = q.wait_for(&["BENCH-DONE", "nothing was booted"], Duration::from_secs(300));
            let out = q.output();
            assert_eq!(which, 0, "{out}");
            show("BIOS: 64 MiB over HTTP and HTTPS", &out);
            let big_tls = format!("https://10.0.2.2:{t}/big.bin");
            let (plain_part, tls_part) = out.split_at(out.find(&big_tls).expect("the HTTPS download"));
            bios_http.push(download_rate(plain_part, "big.bin"));
            bios_https.push(download_rate(tls_part, "big.bin"));
            drop(q);
            let mut q = Qemu::boot_bios("pc", &[], &pxe_nic);
            let (which, at) = q.wait_for(&[MARKER, "nothing was booted"], Duration::from_secs(300));
            let out = q.output();
            assert_eq!(which, 0, "{out}");
            assert!(out.contains("PXE UNDI)"), "{out}");
            show("BIOS: boot over PXE (UNDI)", &out);
            pxe_boot.push(at.as_secs_f64());
            pxe_rate.push(download_rate(&out, "vmlinuz"));
        }
        if !run("max") {
            continue;
        }
        let max: Vec<&str> = extra.iter().copied().chain(["-cpu", "max"]).collect();
        let out = run_to_done(&https_efi, NIC, &max, "-cpu max: HTTP and HTTPS");
        let big_tls = format!("https://10.0.2.2:{t}/big.bin");
        let (plain_part, tls_part) = out.split_at(out.find(&big_tls).expect("the HTTPS download"));
        let http_rate = download_rate(plain_part, "big.bin");
        max_rates.push(http_rate);
        max_verifies.push(verify_ms(&out, "big.bin") / 1000.0);
        let big_chacha = format!("https://10.0.2.2:{c}/big.bin");
        let (tls_part, chacha_part) =
            tls_part.split_at(tls_part.find(&big_chacha).expect("ChaCha20 download"));
        let https_rate = download_rate(tls_part, "big.bin");
        tls_rates.push(https_rate);
        ratios.push(https_rate / http_rate);
        assert!(suite(&out, &big_chacha).contains("CHACHA20_POLY1305"), "{out}");
        chacha_rates.push(download_rate(chacha_part, "big.bin"));
        tls_suite = suite(&out, &big_tls);
        hs.push(handshake_ms(&out, &big_tls));
        let small = format!("https://10.0.2.2:{t}/small.bin");
        assert!(out.lines().any(|l| l.starts_with(&small) && l.contains("session resumed")), "{out}");
        hs_resumed.push(handshake_ms(&out, &small));
        hs_cert.push(handshake_ms(&out, &format!("https://10.0.2.2:{m}/small.bin")));
    }
    let (o, d) = (median(ours), median(direct));
    let runs_text = format!("median of {runs}");
    println!("{:<58}{:>10}{:>12}", format!("measurement (QEMU TCG, {runs_text})"), "result", "target");
    println!("{:<58}{:>9.2}s{:>12}", "signed kernel+initrd over HTTP via bootsign, to marker", o, "");
    println!("{:<58}{:>9.2}s{:>12}", "direct -kernel/-initrd boot, to marker", d, "");
    println!("{:<58}{:>9.2}s{:>12}", "bootsign overhead over the direct boot", o - d, "<= 1.5 s");
    println!(
        "{:<58}{:>9.2}s{:>12}",
        "the same over HTTPS, default CPU (jitter, no AES-NI), to marker",
        median(https_boot),
        ""
    );
    println!(
        "{:<58}{:>7.0} ms{:>12}",
        format!("seeding from CPU timing jitter ({} samples)", median(seed_samples)),
        median(seed_ms),
        "< 100 ms"
    );
    println!("{:<58}{:>6.1} MiB/s{:>8}", "64 MiB download over HTTP", median(rates), ">= 120");
    println!("{:<58}{:>9.2}s{:>12}", "imgverify of 64 MiB", median(verifies), "< 0.9 s");
    println!(
        "{:<58}{:>6.1} MiB/s{:>8}",
        "64 MiB over HTTP, virtio 1.0 only (disable-legacy=on)",
        median(modern_rates),
        ">= 120"
    );
    println!("{:<58}{:>6.1} MiB/s{:>8}", "-cpu max: 64 MiB download over HTTP", median(max_rates), ">= 120");
    println!(
        "{:<58}{:>9.2}s{:>12}",
        "-cpu max: imgverify of 64 MiB (SHA extensions)",
        median(max_verifies),
        "< 0.9 s"
    );
    let tls_rate = median(tls_rates);
    println!("{:<58}{:>6.1} MiB/s{:>8}", "-cpu max: 64 MiB download over HTTPS, same run", tls_rate, "");
    println!("    suite: {tls_suite}");
    println!("{:<58}{:>10.2}{:>12}", "-cpu max: HTTPS / HTTP throughput, same run", median(ratios), ">= 0.5");
    let chacha_rate = median(chacha_rates);
    println!(
        "{:<58}{:>6.1} MiB/s{:>8}",
        "-cpu max: 64 MiB over HTTPS, TLS 1.2 ChaCha20-Poly1305", chacha_rate, ""
    );
    let (h, hc) = (median(hs), median(hs_cert));
    println!("{:<58}{:>7.0} ms{:>12}", "-cpu max: TLS handshake (P-256 server), no client cert", h, "");
    println!("{:<58}{:>7.0} ms{:>12}", "-cpu max: the same, session resumed", median(hs_resumed), "");
    println!("{:<58}{:>7.0} ms{:>12}", "-cpu max: TLS handshake with a P-256 client certificate", hc, "");
    println!("{:<58}{:>7.0} ms{:>12}", "client certificate overhead", hc - h, "< 100 ms");
    let (bo, bd) = (median(bios_ours), median(bios_direct));
    println!("{:<58}{:>9.2}s{:>12}", "BIOS: signed kernel+initrd over HTTP via bootsign.lkrn", bo, "");
    println!("{:<58}{:>9.2}s{:>12}", "BIOS: direct -kernel/-initrd boot by SeaBIOS", bd, "");
    println!("{:<58}{:>9.2}s{:>12}", "BIOS: bootsign overhead over the direct boot", bo - bd, "<= 1.5 s");
    println!(
        "{:<58}{:>6.1} MiB/s{:>8}",
        "BIOS, -cpu max: 64 MiB download over HTTP",
        median(bios_http),
        ">= 120"
    );
    println!(
        "{:<58}{:>6.1} MiB/s{:>8}",
        "BIOS, -cpu max: 64 MiB over HTTPS, same run",
        median(bios_https),
        ""
    );
    println!(
        "{:<58}{:>9.2}s{:>12}",
        "BIOS: the same boot over PXE (ROM -> .kpxe -> .lkrn, UNDI)",
        median(pxe_boot),
        ""
    );
    println!("{:<58}{:>6.1} MiB/s{:>8}", "BIOS: 8 MiB kernel over HTTP through UNDI", median(pxe_rate), "");
    println!(
        "{:<58}{:>6} B{:>16}",
        "size: bootsign.kpxe, + the .lkrn (undionly.kpxe)", pxe_size, "iPXE 71717 B"
    );
    // iPXE's, from shared/reference/bios.md (current master builds).
    for (what, ext, ipxe) in [
        ("bootsign.lkrn (ipxe.lkrn)", "lkrn", 396_176u64),
        ("bootsign.iso, BIOS + UEFI (ipxe.iso, BIOS only)", "iso", 935_936),
        ("bootsign.usb, BIOS + UEFI", "usb", 0),
        ("bootsign.rom, BIOS + UEFI (Debian's efi-virtio.rom, both)", "rom", 249_344),
        ("bootsign.efi (ipxe.efi not measured here)", "efi", 0),
    ] {
        let theirs = if ipxe == 0 { String::from("-") } else { format!("iPXE {} KiB", ipxe / 1024) };
        println!("{:<58}{:>6} KiB{:>16}", format!("size: {what}"), size(ext) / 1024, theirs);
    }
}
