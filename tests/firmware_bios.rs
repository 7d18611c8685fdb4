//! The legacy BIOS firmware under SeaBIOS (QEMU's default firmware), as QEMU's `-kernel`
//! boots a Linux kernel image (`.lkrn`), on `-machine pc` and `q35`: the real-mode
//! prefix reads the memory map and enters long mode, the core takes its heap and the
//! configuration the builder appended, and the embedded script runs in the same
//! interpreter as on UEFI: `${platform}` is `pcbios`, CPUID and the SMBIOS table QEMU's
//! `-smbios` wrote are read, keys answer `prompt` and a menu (from the serial line on
//! `pc`; from the PS/2 keyboard on `q35`, where the console is also checked on the VGA
//! screen), and what the platform does not do yet fails with a message saying so.

mod common;

use std::time::Duration;

use common::qemu::{Qemu, monitor};

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
dhcp || echo marker: dhcp refused
echo marker: done
poweroff
";

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
        for line in [
            "bootsign firmware ",
            "marker: platform pcbios x86_64\n",
            "marker: 64-bit\n",
            &format!("marker: serial SN-4711 product Box9000 uuid {UUID}\n"),
            "marker: key ok\n",
            "marker: picked second\n",
            "dhcp: the network is not available on the BIOS platform yet (boot the UEFI image for it)\nmarker: dhcp refused\n",
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
