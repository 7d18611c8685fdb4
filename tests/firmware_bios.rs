//! The legacy BIOS firmware under SeaBIOS (QEMU's default firmware), as QEMU's `-kernel`
//! boots a Linux kernel image (`.lkrn`), on `-machine pc` and `q35`: the real-mode
//! prefix reads the memory map and enters long mode, the core takes its heap and the
//! configuration the builder appended, and the embedded script runs in the same
//! interpreter as on UEFI: `${platform}` is `pcbios`, CPUID and the SMBIOS table QEMU's
//! `-smbios` wrote are read, keys answer `prompt` and a menu (from the serial line on
//! `pc`; on `q35` from the keyboard, read through the BIOS's INT 16h by a call into real
//! mode, and the console is also checked on the VGA screen).
//!
//! With a NIC, the core's network stack runs on the BIOS platform through the core's own
//! drivers (PCI through the configuration ports, DMA from the heap): DHCP, downloads over
//! HTTP and HTTPS, and the signature checks of the UEFI firmware, refusals included.

mod common;

use std::time::Duration;

use common::http::FileServer;
use common::https::HttpsServer;
use common::qemu::{Qemu, cdrom_media, monitor, usb_media};
use common::signed_boot_env;

const SCRIPT: &str = "#!ipxe
echo marker: platform ${platform} ${buildarch}
cpuid --ext 29 && echo marker: 64-bit || echo marker: 32-bit
echo marker: serial ${serial} product ${product} uuid ${uuid}
echo marker: unixtime ${unixtime:int32} as iPXE shows it ${unixtime}
:pci
pciscan loc || goto pci_done
echo marker: pci ${loc:busdevfn} ${pci/${loc}.0.2}:${pci/${loc}.2.2}
goto pci
:pci_done
prompt --key 0x02 --timeout 30000 Press Ctrl-B && echo marker: key ok || echo marker: no key
menu Pick one
item first First entry
item second Second entry
choose --default first picked && echo marker: picked ${picked} || echo marker: nothing picked
dhcp || echo marker: no dhcp
echo marker: done
poweroff
";

/// A script that boots the signed kernel, fetched over `scheme` from `port`, with the
/// initrd over `other` from `other_port`, both verified under `imgtrust --permanent`.
fn signed_boot_script(scheme: &str, port: u16, other: &str, other_port: u16) -> String {
    format!(
        "#!ipxe\n\
         imgtrust --permanent --all\n\
         set base {scheme}://${{next-server}}:{port}\n\
         set other {other}://${{next-server}}:{other_port}\n\
         kernel ${{base}}/vmlinuz console=ttyS0 quiet\n\
         initrd ${{other}}/initrd.img\n\
         imgverify vmlinuz ${{base}}/vmlinuz.sig\n\
         imgverify initrd.img ${{other}}/initrd.img.sig\n\
         boot\n"
    )
}

/// What every signed Linux boot here shows: the kernel fetched over `scheme` (over
/// HTTPS, with TLS 1.3) and the initrd over the other scheme (from `other_port`), both
/// verified, and Linux started with its command line, up to the initramfs marker.
fn assert_booted_linux(out: &str, scheme: &str, other_port: u16) {
    let other = if scheme == "http" { "https" } else { "http" };
    for line in [
        "vmlinuz: signature verified",
        "initrd.img: signature verified",
        &format!("{other}://10.0.2.2:{other_port}/initrd.img "),
        "Booting vmlinuz (8247232 bytes, verified) with 1 initrd(s): console=ttyS0 quiet\n",
        "BOOTSIGN-INITRAMFS-OK cmdline: console=ttyS0 quiet",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    if scheme == "https" {
        assert!(out.contains("/vmlinuz 8247232 bytes in ") && out.contains(", TLS 1.3 "), "{out}");
    }
}

const UUID: &str = "8ce7c2a0-5a0e-4f4d-9a0b-0123456789ab";

#[test]
fn the_bios_firmware_boots_as_a_kernel_image_and_runs_its_script() {
    let dir = tempfile::tempdir().unwrap();
    let lkrn = dir.path().join("bootsign.lkrn");
    let config = bootsign_config::Config { script: Some(SCRIPT), ..Default::default() };
    std::fs::write(&lkrn, bootsign::cmd::build::lkrn_image(&config).unwrap()).unwrap();
    let smbios = format!("type=1,product=Box9000,serial=SN-4711,uuid={UUID}");
    // The CMOS clock, read by the firmware as ${unixtime}: 2026-12-05 10:20:30 UTC.
    const RTC_BASE: u64 = 1_796_466_030;
    let socket = dir.path().join("monitor.sock");
    let monitor_arg = format!("unix:{},server=on,wait=off", socket.display());
    for machine in ["pc", "q35"] {
        let mut args = vec!["-cpu", "max", "-smbios", &smbios, "-rtc", "base=2026-12-05T10:20:30"];
        let keyboard = machine == "q35";
        if keyboard {
            args.extend(["-device", "VGA", "-monitor", &monitor_arg]);
        }
        let mut q = Qemu::boot_bios_kernel(&lkrn, machine, &args);
        q.wait_for(&["Press Ctrl-B", "nothing was booted"], Duration::from_secs(60));
        if keyboard {
            // The screen shows the console as the serial line does (VGA text memory:
            // a character, then its attribute).
            let text = dir.path().join("vga.bin");
            let said = monitor(&socket, &format!("pmemsave 0xb8000 4000 \"{}\"", text.display()));
            assert!(text.exists(), "{said}");
            let screen: String =
                std::fs::read(&text).unwrap().iter().step_by(2).map(|&b| char::from(b)).collect();
            assert!(screen.contains("marker: platform pcbios x86_64"), "{screen}");
            monitor(&socket, "sendkey ctrl-b");
            q.wait_for(&["Second entry", "nothing was booted"], Duration::from_secs(60));
            std::thread::sleep(Duration::from_millis(300));
            monitor(&socket, "sendkey down");
            monitor(&socket, "sendkey ret");
        } else {
            q.send(b"\x02");
            q.wait_for(&["Second entry", "nothing was booted"], Duration::from_secs(60));
            std::thread::sleep(Duration::from_millis(300));
            q.send(b"\x1b[B\r");
        }
        q.wait_for(&["marker: done", "nothing was booted"], Duration::from_secs(60));
        let out = q.output();
        // 1 GiB of RAM: the 3 GiB above it (the PCI hole among them) is mapped uncached,
        // and the last RAM page too where the RAM ends short of a 2 MiB boundary.
        let uncached: u64 = out
            .split(" MiB below 4 GiB uncached (not RAM)")
            .next()
            .and_then(|head| head.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{machine}: {out}"));
        assert!((3070..=3074).contains(&uncached), "{machine}: {uncached} MiB uncached");
        for line in [
            "bootsign firmware ",
            "marker: platform pcbios x86_64\n",
            "marker: 64-bit\n",
            &format!("marker: serial SN-4711 product Box9000 uuid {UUID}\n"),
            "marker: key ok\n",
            "marker: picked second\n",
            // No NIC (`-nodefaults`): said, before the script and by its `dhcp`.
            "bootsign: no network interface found; continuing without a network configuration\n",
            "dhcp: no network interface found\nmarker: no dhcp\n",
        ] {
            assert!(out.contains(line), "{machine}: {line:?} in:\n{out}");
        }
        let line = out.lines().find(|l| l.starts_with("marker: unixtime ")).expect(&out);
        let words: Vec<&str> = line.split_whitespace().collect();
        let seconds: u64 = words[2].parse().expect(line);
        assert!((RTC_BASE..RTC_BASE + 60).contains(&seconds), "{machine}: {line}");
        // As a uint32, as iPXE shows it: hex (read a moment later: the same second or the next).
        let hex = words[7].strip_prefix("0x").and_then(|h| u64::from_str_radix(h, 16).ok()).expect(line);
        assert!(hex == seconds || hex == seconds + 1, "{machine}: {line}");
        // The PCI functions, through the configuration ports: the chipset's host bridge
        // first (i440FX on pc, Q35's MCH on q35).
        let bridge = if machine == "pc" { "8086:1237" } else { "8086:29c0" };
        assert!(out.contains(&format!("marker: pci 0000:00:00.0 {bridge}\n")), "{machine}: {out}");
        // poweroff ends QEMU.
        assert!(q.wait_exit(Duration::from_secs(30)), "{machine}: QEMU still running:\n{out}");
    }
}

/// The network and Linux on BIOS: each guest runs DHCP, fetches the signed kernel and
/// initrd, verifies them and boots them through Linux's 16-bit boot protocol to the
/// initramfs marker. Before that, the refusals of the UEFI tests hold: a tampered kernel
/// fails `imgverify`, and under `imgtrust --permanent` cannot be started either; a
/// signature by another CA is refused; a kernel verified by an embedded Authenticode
/// signature is not started (it does not cover every byte a BIOS boot loads), and the
/// NICs, given up for that boot, come back for the next downloads. One guest per driver and machine, over HTTP and
/// HTTPS in turn: virtio-net through its legacy interface on `pc` with QEMU's default CPU
/// (no RDRAND: the jitter source serves), the e1000 on `pc` and the e1000e on `q35`
/// (QEMU's default NICs there), and virtio-net's modern interface (virtio 1.0, on a PCIe
/// root port, where QEMU turns legacy off) on `q35`.
#[test]
fn the_bios_firmware_downloads_verifies_and_boots_linux_over_its_own_nic_drivers() {
    let env = signed_boot_env("BIOS Boot CA");
    let www = env.path("www");
    // A kernel with one byte changed, beside the real kernel's signature; the kernel's
    // signature by another CA.
    let mut tampered = std::fs::read(www.join("vmlinuz")).unwrap();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 1;
    std::fs::write(www.join("tampered"), tampered).unwrap();
    // The kernel with an Authenticode signature by the same CA embedded: it verifies, but
    // a BIOS boot loads bytes such a signature does not cover.
    env.ok(&["issue", "--codesigning", "--key", "rsa2048", "-o", "pe-signing"]);
    let (cert, key) = ("--cert=pe-signing.crt", "--key=pe-signing.key");
    env.ok(&["sign", "--authenticode", cert, key, "www/vmlinuz", "-o", "www/vmlinuz-pe"]);
    let other = signed_boot_env("Another CA");
    std::fs::copy(other.path("www/vmlinuz.sig"), www.join("other.sig")).unwrap();
    let http = FileServer::start(www.clone(), 0);
    let https = HttpsServer::start(&www, &env.path("server-full.crt"), &env.path("server.key"), None);
    let cases: [(&str, &[&str], &str, &str, &str); 4] = [
        // A small machine too: 128 MiB, where the heap takes the top of memory and the
        // kernel the 79 MiB it decompresses into below it.
        (
            "pc",
            &["-m", "128", "-device", "virtio-net-pci,netdev=n0,romfile="],
            "virtio-net",
            "CPU timing jitter",
            "http",
        ),
        ("pc", &["-cpu", "max", "-device", "e1000,netdev=n0,romfile="], "e1000", "RDRAND", "https"),
        ("q35", &["-device", "e1000e,netdev=n0,romfile="], "e1000e", "CPU timing jitter", "http"),
        (
            "q35",
            &[
                "-cpu",
                "max",
                "-device",
                "pcie-root-port,id=rp1,bus=pcie.0,chassis=1",
                "-device",
                "virtio-net-pci,netdev=n0,bus=rp1,romfile=",
            ],
            "virtio-net 1.0",
            "RDRAND",
            "https",
        ),
    ];
    for (machine, nic, driver, randomness, scheme) in cases {
        let port = if scheme == "http" { http.port } else { https.port };
        // The initrd over the other scheme: each boot uses HTTP and HTTPS.
        let (other, other_port) = if scheme == "http" { ("https", https.port) } else { ("http", http.port) };
        let script = format!(
            "#!ipxe\n\
             echo marker: ${{net0/chip}} ${{net0/mac}} ip ${{ip}}\n\
             imgtrust --permanent --all\n\
             set base {scheme}://${{next-server}}:{port}\n\
             set other {other}://${{next-server}}:{other_port}\n\
             imgfetch -n tampered ${{base}}/tampered\n\
             imgverify tampered ${{base}}/vmlinuz.sig || echo marker: tampered refused\n\
             chain tampered || echo marker: unverified refused\n\
             imgfree tampered\n\
             imgfetch -n again ${{base}}/vmlinuz\n\
             imgverify again ${{base}}/other.sig || echo marker: untrusted refused\n\
             imgfree again\n\
             kernel -n pe ${{base}}/vmlinuz-pe\n\
             imgverify pe && echo marker: embedded verified\n\
             boot || echo marker: embedded refused\n\
             imgfree pe\n\
             kernel ${{base}}/vmlinuz console=ttyS0 quiet\n\
             initrd ${{other}}/initrd.img\n\
             imgverify vmlinuz ${{base}}/vmlinuz.sig && echo marker: kernel verified\n\
             imgverify initrd.img ${{other}}/initrd.img.sig && echo marker: initrd verified\n\
             boot\n"
        );
        // Built as a user builds it: `bootsign build --lkrn`.
        env.write("boot.ipxe", &script);
        env.ok(&["build", "--no-config", "--lkrn", "--force", "--trust", "ca.crt", "--embed", "boot.ipxe"]);
        let lkrn = env.path("bootsign.lkrn");
        let mut args = vec!["-netdev", "user,id=n0"];
        args.extend(nic);
        let mut q = Qemu::boot_bios_kernel(&lkrn, machine, &args);
        q.wait_for(&["BOOTSIGN-INITRAMFS-OK", "nothing was booted"], Duration::from_secs(240));
        let out = q.output();
        for line in [
            &format!("bootsign: randomness from {randomness}"),
            &format!(", {driver})... 10.0.2.15 gateway 10.0.2.2 next-server 10.0.2.2"),
            "marker: tampered refused\n",
            "image 'tampered' is not trusted: imgtrust requires a verified image (run imgverify first)\nmarker: unverified refused\n",
            "marker: untrusted refused\n",
            "marker: embedded verified\n",
            "'pe' was verified by a signature embedded in it, which does not cover every byte a BIOS boot loads; \
             sign it with a detached signature (bootsign sign) and imgverify it with that\nmarker: embedded refused\n",
            "vmlinuz: signature verified (signed by bootsign code signing",
            "marker: kernel verified\n",
            "marker: initrd verified\n",
        ] {
            assert!(out.contains(line), "{machine} {driver}: {line:?} in:\n{out}");
        }
        assert_booted_linux(&out, scheme, other_port);
    }
}

/// The hybrid images on BIOS: the ISO as a CD (its El Torito BIOS entry) and written to a
/// USB stick (its MBR boot code), and the USB image (MBR boot code and a BIOS boot
/// partition), each loading the BIOS firmware, which fetches the signed kernel and
/// initrd, verifies them and boots Linux. The UEFI half of the same images boots under
/// OVMF in tests/firmware.rs.
#[test]
fn the_hybrid_iso_and_usb_images_boot_linux_on_bios() {
    let env = signed_boot_env("Hybrid Boot CA");
    let www = env.path("www");
    let http = FileServer::start(www.clone(), 0);
    let https = HttpsServer::start(&www, &env.path("server-full.crt"), &env.path("server.key"), None);
    let script = |scheme: &str, port: u16| {
        let (other, other_port) = if scheme == "http" { ("https", https.port) } else { ("http", http.port) };
        signed_boot_script(scheme, port, other, other_port)
    };
    let build = |name: &str, scheme: &str, port: u16, format: &str| {
        env.write("boot.ipxe", script(scheme, port));
        let flags = [
            "build",
            "--no-config",
            format,
            "--trust",
            "ca.crt",
            "--embed",
            "boot.ipxe",
            "--output-name",
            name,
        ];
        env.ok(&flags);
        env.path(&format!("{name}.{}", &format[2..]))
    };
    let iso = build("hybrid-http", "http", http.port, "--iso");
    let iso_tls = build("hybrid-https", "https", https.port, "--iso");
    let usb = build("disk-https", "https", https.port, "--usb");
    let nic = ["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,romfile="];
    let cases = [
        ("pc", cdrom_media(&iso), "Booting from DVD/CD", "http"),
        ("q35", usb_media(&iso_tls), "Booting from Hard Disk", "https"),
        ("pc", usb_media(&usb), "Booting from Hard Disk", "https"),
    ];
    for (machine, media, seabios_says, scheme) in cases {
        let mut q = Qemu::boot_bios(machine, &media, &nic);
        q.wait_for(
            &["BOOTSIGN-INITRAMFS-OK", "nothing was booted", "bootsign: cannot"],
            Duration::from_secs(240),
        );
        let out = q.output();
        for line in [seabios_says, "bootsign firmware ", &format!("{scheme}://10.0.2.2:")] {
            assert!(out.contains(line), "{machine} {media:?}: {line:?} in:\n{out}");
        }
        let other_port = if scheme == "http" { https.port } else { http.port };
        assert_booted_linux(&out, scheme, other_port);
    }
}

/// The PXE boot (`bootsign build --kpxe`): SeaBIOS runs the NIC's PXE ROM (QEMU's iPXE
/// ROMs, as a machine's own ROM would), which loads `bootsign.kpxe` over TFTP as the DHCP
/// boot file; that fetches `bootsign.lkrn` from the same TFTP directory through the PXE
/// API, checks it is the one it was built with and starts it, and the firmware runs its
/// network over the ROM's UNDI driver: DHCP, HTTP and HTTPS, a tampered kernel refused,
/// the signed kernel and initrd verified and Linux booted. One NIC the firmware has no
/// driver of its own for (the RTL8139), and the e1000, which under PXE is the ROM's too.
/// Then the loader's refusals, each of which hands the machine back to the BIOS: no
/// `.lkrn` on the server, and a `.lkrn` from another build.
#[test]
fn the_kpxe_loads_the_firmware_over_tftp_and_boots_linux_through_the_pxe_roms_undi() {
    let env = signed_boot_env("PXE Boot CA");
    let www = env.path("www");
    let mut tampered = std::fs::read(www.join("vmlinuz")).unwrap();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 1;
    std::fs::write(www.join("tampered"), tampered).unwrap();
    let http = FileServer::start(www.clone(), 0);
    let https = HttpsServer::start(&www, &env.path("server-full.crt"), &env.path("server.key"), None);
    let tftp = env.path("tftp");
    std::fs::create_dir_all(&tftp).unwrap();
    let cases = [("pc", "rtl8139", "https", https.port), ("q35", "e1000e", "http", http.port)];
    for (machine, nic, scheme, port) in cases {
        let (other, other_port) = if scheme == "http" { ("https", https.port) } else { ("http", http.port) };
        let script = format!(
            "#!ipxe\n\
             echo marker: ${{net0/chip}} ${{net0/mac}} ip ${{ip}} boot file ${{filename}}\n\
             imgtrust --permanent --all\n\
             set base {scheme}://${{next-server}}:{port}\n\
             set other {other}://${{next-server}}:{other_port}\n\
             imgfetch -n tampered ${{base}}/tampered\n\
             imgverify tampered ${{base}}/vmlinuz.sig || echo marker: tampered refused\n\
             imgfree tampered\n\
             kernel ${{base}}/vmlinuz console=ttyS0 quiet\n\
             initrd ${{other}}/initrd.img\n\
             imgverify vmlinuz ${{base}}/vmlinuz.sig && echo marker: kernel verified\n\
             imgverify initrd.img ${{other}}/initrd.img.sig && echo marker: initrd verified\n\
             boot\n"
        );
        env.write("boot.ipxe", &script);
        env.ok(&[
            "build",
            "--no-config",
            "--kpxe",
            "--force",
            "--trust",
            "ca.crt",
            "--embed",
            "boot.ipxe",
            "-o",
            "tftp",
        ]);
        assert!(tftp.join("bootsign.lkrn").is_file() && tftp.join("bootsign.kpxe").is_file());
        let netdev = format!("user,id=n0,tftp={},bootfile=bootsign.kpxe", tftp.display());
        let device = format!("{nic},netdev=n0,bootindex=0");
        let mut q = Qemu::boot_bios(machine, &[], &["-netdev", &netdev, "-device", &device]);
        q.wait_for(
            &["BOOTSIGN-INITRAMFS-OK", "nothing was booted", "No bootable device"],
            Duration::from_secs(300),
        );
        let out = q.output();
        for line in [
            "bootsign.kpxe : 2",
            "bootsign PXE loader\nbootsign: loading bootsign.lkrn over TFTP\n",
            "bootsign: loaded over PXE; the network is the PXE ROM's, through its UNDI driver\n",
            "DHCP on net0 (52:54:00:12:34:56, PXE UNDI)... 10.0.2.15 gateway 10.0.2.2 next-server 10.0.2.2",
            "marker: PXE UNDI 52:54:00:12:34:56 ip 10.0.2.15 boot file bootsign.kpxe\n",
            "marker: tampered refused\n",
            "marker: kernel verified\n",
            "marker: initrd verified\n",
        ] {
            assert!(out.contains(line), "{machine} {nic}: {line:?} in:\n{out}");
        }
        assert_booted_linux(&out, scheme, other_port);
    }

    // The loader refuses a .lkrn built with another configuration, and fails when there
    // is none; either way the BIOS goes on to its next boot device.
    let kpxe = std::fs::read(tftp.join("bootsign.kpxe")).unwrap();
    env.ok(&["build", "--no-config", "--lkrn", "--force", "--trust", "ca.crt", "-o", "tftp"]);
    let missing = env.path("tftp-missing");
    std::fs::create_dir_all(&missing).unwrap();
    std::fs::write(missing.join("bootsign.kpxe"), &kpxe).unwrap();
    let cases = [
        (
            &tftp,
            "bootsign: bootsign.lkrn is from another build than this loader\n\
             bootsign: put the .lkrn written with this .kpxe beside it\n",
        ),
        (&missing, "bootsign: TFTP did not deliver the firmware (PXE status 0x"),
    ];
    for (dir, says) in cases {
        let netdev = format!("user,id=n0,tftp={},bootfile=bootsign.kpxe", dir.display());
        let mut q =
            Qemu::boot_bios("pc", &[], &["-netdev", &netdev, "-device", "e1000,netdev=n0,bootindex=0"]);
        q.wait_for(&["No bootable device", "bootsign firmware "], Duration::from_secs(120));
        let out = q.output();
        assert!(out.contains(says) && !out.contains("bootsign firmware "), "{says:?} in:\n{out}");
    }
}

/// The option ROM on BIOS (`bootsign build --rom`, the NIC's `romfile`): SeaBIOS copies
/// and runs its small legacy image and offers its boot entry, which loads the BIOS
/// firmware from the rest of the ROM and starts it; the firmware drives that NIC with its
/// own driver, verifies the kernel and initrd and boots Linux. virtio-net on `pc` over
/// HTTPS, the e1000 on `q35` over HTTP. The same ROM's EFI image boots under OVMF in
/// tests/firmware.rs.
#[test]
fn the_option_rom_boots_linux_on_bios() {
    let env = signed_boot_env("ROM Boot CA");
    let www = env.path("www");
    let http = FileServer::start(www.clone(), 0);
    let https = HttpsServer::start(&www, &env.path("server-full.crt"), &env.path("server.key"), None);
    let cases = [
        ("pc", "virtio-net-pci", "1af4:1000", "virtio-net", "https", https.port),
        ("q35", "e1000", "8086:100e", "e1000", "http", http.port),
    ];
    for (machine, nic, id, driver, scheme, port) in cases {
        let (other, other_port) = if scheme == "http" { ("https", https.port) } else { ("http", http.port) };
        env.write("boot.ipxe", signed_boot_script(scheme, port, other, other_port));
        env.ok(&[
            "build",
            "--no-config",
            "--rom",
            "--pci",
            id,
            "--force",
            "--trust",
            "ca.crt",
            "--embed",
            "boot.ipxe",
        ]);
        let device = format!("{nic},netdev=n0,romfile={},bootindex=0", env.path("bootsign.rom").display());
        let mut q = Qemu::boot_bios(machine, &[], &["-netdev", "user,id=n0", "-device", &device]);
        q.wait_for(
            &["BOOTSIGN-INITRAMFS-OK", "nothing was booted", "No bootable device"],
            Duration::from_secs(240),
        );
        let out = q.output();
        for line in [
            "Booting from ROM..",
            "bootsign firmware ",
            &format!("DHCP on net0 (52:54:00:12:34:56, {driver})... 10.0.2.15"),
        ] {
            assert!(out.contains(line), "{machine} {nic}: {line:?} in:\n{out}");
        }
        assert_booted_linux(&out, scheme, other_port);
    }
    // A script that boots nothing hands the machine back to the BIOS (INT 18h), which
    // goes on to its next boot device, as after iPXE.
    env.write("boot.ipxe", "#!ipxe\necho marker: nothing to boot\nexit\n");
    env.ok(&["build", "--no-config", "--lkrn", "--force", "--embed", "boot.ipxe"]);
    let mut q = Qemu::boot_bios_kernel(&env.path("bootsign.lkrn"), "pc", &[]);
    q.wait_for(&["No bootable device"], Duration::from_secs(60));
    let out = q.output();
    let handed = "marker: nothing to boot\nbootsign: the script ended without booting anything\n\
                  bootsign: nothing was booted\nbootsign: handing the machine back to the BIOS (its next boot device)\n";
    assert!(out.contains(handed) && out.contains("Booting from Hard Disk..."), "{out}");
}

/// A 1 MiB disk whose boot sector prints "BOOT-SECTOR-OK" with INT 10h, then halts.
fn marker_disk() -> Vec<u8> {
    let mut disk = vec![0u8; 1 << 20];
    let code = [
        0x31, 0xc0, 0x8e, 0xd8, 0xbe, 0x20, 0x7c, 0xac, 0x84, 0xc0, 0x74, 0x09, 0xb4, 0x0e, 0xbb, 0x07, 0x00,
        0xcd, 0x10, 0xeb, 0xf2, 0xf4, 0xeb, 0xfd,
    ];
    disk[..code.len()].copy_from_slice(&code);
    disk[0x20..0x20 + 17].copy_from_slice(b"BOOT-SECTOR-OK\r\n\0");
    disk[510..512].copy_from_slice(&[0x55, 0xaa]);
    disk
}

/// `sanboot --drive 0x80` on BIOS: the local disk's boot sector, read through INT 13h,
/// runs at 0x7C00 as the BIOS would run it (here one that prints a marker through INT
/// 10h). Refused first while `imgtrust` is in force (nothing checks a disk on BIOS), and
/// for a drive with no boot signature.
#[test]
fn sanboot_starts_the_local_disks_boot_sector_on_bios() {
    let env = common::Env::new();
    env.write("disk.img", marker_disk());
    env.write("blank.img", vec![0u8; 1 << 20]);
    env.write(
        "boot.ipxe",
        "#!ipxe\n\
         imgtrust\n\
         sanboot --no-describe --drive 0x80 || echo marker: refused under imgtrust\n\
         imgtrust --allow\n\
         sanboot --drive 0x81 || echo marker: no boot sector on 0x81\n\
         sanboot --no-describe --drive 0x80\n\
         echo marker: not reached\n",
    );
    env.ok(&["build", "--no-config", "--lkrn", "--embed", "boot.ipxe"]);
    let hd0 = format!("file={},format=raw,if=ide,index=0", env.path("disk.img").display());
    let hd1 = format!("file={},format=raw,if=ide,index=1", env.path("blank.img").display());
    let mut q = Qemu::boot_bios_kernel(&env.path("bootsign.lkrn"), "pc", &["-drive", &hd0, "-drive", &hd1]);
    q.wait_for(&["BOOT-SECTOR-OK", "nothing was booted", "not reached"], Duration::from_secs(60));
    let out = q.output();
    for line in [
        "sanboot: imgtrust is in force, and nothing checks what a disk boots on BIOS (there is no Secure Boot): \
         the local disk is not started\nmarker: refused under imgtrust\n",
        "sanboot: drive 0x81 has no boot sector (no 55 AA signature)\nmarker: no boot sector on 0x81\n",
        "Booting from drive 0x80\nBOOT-SECTOR-OK\n",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
}

/// The address range a line of `out` names after `prefix` as `0xSTART-0xEND`, or as
/// `N MiB at 0xSTART` (the firmware's heap).
fn range_after(out: &str, prefix: &str) -> std::ops::Range<u64> {
    let at = out.find(prefix).unwrap_or_else(|| panic!("{prefix:?} in:\n{out}")) + prefix.len();
    let text: String = out[at..].chars().take_while(|c| !matches!(c, ' ' | '\n' | ',' | '(')).collect();
    let hex = |t: &str| u64::from_str_radix(t.trim_start_matches("0x"), 16).unwrap();
    match text.split_once('-') {
        Some((a, b)) => hex(a)..hex(b),
        None => panic!("no range after {prefix:?}: {text:?}"),
    }
}

/// The heap a firmware's banner names: "heap N MiB at 0xBASE".
fn heaps(out: &str) -> Vec<std::ops::Range<u64>> {
    out.match_indices("MiB of memory (")
        .map(|(at, _)| {
            let line = out[at..].lines().next().unwrap();
            let heap = line.split("heap ").nth(1).unwrap();
            let mib: u64 = heap.split(' ').next().unwrap().parse().unwrap();
            let base = heap.split(" at ").nth(1).unwrap().split([',', ' ']).next().unwrap();
            let base = u64::from_str_radix(base.trim_start_matches("0x"), 16).unwrap();
            base..base + (mib << 20)
        })
        .collect()
}

/// A boot sector from `tests/bootsectors/NAME.s`, assembled with the system's `as` and
/// `objcopy` (binutils, which gcc brings).
fn assemble_boot_sector(name: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/bootsectors/{name}.s"));
    let (obj, bin) = (dir.path().join("x.o"), dir.path().join("x.bin"));
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(std::process::Command::new("as").arg("--32").arg("-o").arg(&obj).arg(&src));
    run(std::process::Command::new("objcopy").args(["-O", "binary", "-j", ".text"]).arg(&obj).arg(&bin));
    let code = std::fs::read(&bin).unwrap();
    assert_eq!(code.len(), 512, "{name}.s is one sector");
    code
}

/// `sanboot` and `sanhook` of images over the network on BIOS, as iPXE serves them: the
/// image stays in RAM as BIOS drive 0x80 behind a resident INT 13h handler, its memory
/// hidden from the memory map (INT 15h E820). One machine, four programs deep:
///
/// 1. the firmware (`-kernel`) fetches a signed hybrid ISO, verifies it under `imgtrust`
///    and `sanboot`s it as a CD: its El Torito boot image starts, reads the BIOS
///    firmware through the handler (2,048-byte sectors) and starts it;
/// 2. that one, whose heap must lie outside the hidden ISO, refuses an image with no boot
///    sector, then `sanhook`s a USB image (a disk, 512-byte sectors) over the first
///    handler and boots it with `sanboot --drive 0x80` (its boot sector read through
///    CHS, the rest through extended reads);
/// 3. that one, whose heap avoids both images, `sanboot`s a one-sector program from a
///    disk image (`tests/bootsectors/ext_read.s`), which checks the extensions of its
///    drive, reads its second sector with an extended read, then reads the machine's own
///    disk: the BIOS's 0x80, which the first handler moved to 0x81, through all three
///    handlers, each keeping the caller's drive number in DL.
#[test]
fn sanboot_serves_network_cd_and_disk_images_on_bios() {
    let env = common::Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "SAN Boot CA"]);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    env.write("disk.img", marker_disk());
    std::fs::create_dir_all(env.path("www")).unwrap();
    env.write("www/blank.img", vec![0u8; 64 << 10]);
    let mut ext = assemble_boot_sector("ext_read");
    ext.extend_from_slice(b"SAN-EXT-READ-OK\r\n\0");
    ext.resize(64 << 10, 0);
    env.write("www/ext.img", ext);
    let http = FileServer::start(env.path("www"), 0);
    let url = |name: &str| format!("http://10.0.2.2:{}/{name}", http.port);
    let build = |name: &str, format: &str, script: String| {
        env.write("boot.ipxe", script);
        env.ok(&["build", "--no-config", format, "--embed", "boot.ipxe", "--output-name", name]);
        let file = format!("{name}.{}", &format[2..]);
        std::fs::rename(env.path(&file), env.path(&format!("www/{file}"))).unwrap();
    };
    build(
        "third",
        "--usb",
        format!("#!ipxe\necho marker: third firmware, from the SAN disk\ndhcp\nsanboot {}\n", url("ext.img")),
    );
    build(
        "second",
        "--iso",
        format!(
            "#!ipxe\n\
             echo marker: second firmware, from the SAN CD\n\
             dhcp\n\
             sanboot {} || echo marker: no boot sector\n\
             sanhook --drive 0x80 {} || echo marker: sanhook failed\n\
             sanboot --no-describe --drive 0x80\n",
            url("blank.img"),
            url("third.usb")
        ),
    );
    env.ok(&["sign", "www/second.iso"]);
    env.write(
        "boot.ipxe",
        format!(
            "#!ipxe\n\
             dhcp\n\
             imgtrust\n\
             sanboot {} || echo marker: unsigned refused\n\
             imgfetch {}\n\
             imgverify second.iso {}\n\
             sanboot second.iso\n",
            url("blank.img"),
            url("second.iso"),
            url("second.iso.sig")
        ),
    );
    env.ok(&["build", "--no-config", "--lkrn", "--trust", "ca.crt", "--embed", "boot.ipxe"]);
    let hd0 = format!("file={},format=raw,if=ide,index=0", env.path("disk.img").display());
    let nic = ["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,romfile=", "-drive", &hd0];
    let mut q = Qemu::boot_bios_kernel(&env.path("bootsign.lkrn"), "pc", &nic);
    q.wait_for(&["BOOT-SECTOR-OK", "SAN-FAIL", "nothing was booted"], Duration::from_secs(120));
    let out = q.output();
    for line in [
        "marker: unsigned refused\n",
        "second.iso: signature verified",
        "sanboot: second.iso as drive 0x80, a CD image (2,048-byte sectors); El Torito boot image at block ",
        "marker: second firmware, from the SAN CD\n",
        "sanboot: the disk image 'blank.img' cannot be booted on BIOS: ",
        "marker: no boot sector\n",
        "third.usb: drive 0x80, a disk image (512-byte sectors), ",
        "Booting from drive 0x80\n",
        "marker: third firmware, from the SAN disk\n",
        "sanboot: ext.img as drive 0x80, a disk image (512-byte sectors)\n",
        "SAN-EXT-READ-OK\nBOOT-SECTOR-OK\n",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    // The first firmware's ISO and the second's USB image, hidden from each later
    // firmware's memory map: their heaps lie elsewhere.
    let served = "sanboot: drive 0x80 served from ";
    let iso = range_after(&out, served);
    let usb = range_after(&out[out.find("marker: second firmware").unwrap()..], served);
    let heaps = heaps(&out);
    assert_eq!(heaps.len(), 3, "{out}");
    let apart = |a: &std::ops::Range<u64>, b: &std::ops::Range<u64>| a.end <= b.start || b.end <= a.start;
    assert!(apart(&heaps[1], &iso), "{heaps:x?} {iso:x?}\n{out}");
    assert!(apart(&heaps[2], &iso) && apart(&heaps[2], &usb), "{heaps:x?} {iso:x?} {usb:x?}\n{out}");
    // Without the hiding, the later firmwares would take the same heap as the first.
    assert!(!apart(&heaps[0], &iso), "{heaps:x?} {iso:x?}");
}
