//! The legacy BIOS firmware under SeaBIOS (QEMU's default firmware), as QEMU's `-kernel`
//! boots a Linux kernel image (`.lkrn`), on `-machine pc` and `q35`: the real-mode
//! prefix reads the memory map and enters long mode, the core takes its heap and the
//! configuration the builder appended, and the embedded script runs in the same
//! interpreter as on UEFI: `${platform}` is `pcbios`, CPUID and the SMBIOS table QEMU's
//! `-smbios` wrote are read, a key typed on the serial console answers `prompt`, and
//! what the platform does not do yet fails with a message saying so.

mod common;

use std::time::Duration;

use common::qemu::Qemu;

const SCRIPT: &str = "#!ipxe
echo marker: platform ${platform} ${buildarch}
cpuid --ext 29 && echo marker: 64-bit || echo marker: 32-bit
echo marker: serial ${serial} product ${product} uuid ${uuid}
prompt --key 0x02 --timeout 30000 Press Ctrl-B && echo marker: key ok || echo marker: no key
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
    for machine in ["pc", "q35"] {
        let mut q = Qemu::boot_bios_kernel(&lkrn, machine, &["-cpu", "max", "-smbios", &smbios]);
        q.wait_for(&["Press Ctrl-B", "nothing was booted"], Duration::from_secs(60));
        q.send(b"\x02");
        q.wait_for(&["marker: done", "nothing was booted"], Duration::from_secs(60));
        let out = q.output();
        for line in [
            "bootsign firmware ",
            "marker: platform pcbios x86_64\n",
            "marker: 64-bit\n",
            &format!("marker: serial SN-4711 product Box9000 uuid {UUID}\n"),
            "marker: key ok\n",
            "dhcp: the network is not available on the BIOS platform yet (boot the UEFI image for it)\nmarker: dhcp refused\n",
        ] {
            assert!(out.contains(line), "{machine}: {line:?} in:\n{out}");
        }
        // poweroff ends QEMU.
        assert!(q.wait_exit(Duration::from_secs(30)), "{machine}: QEMU still running:\n{out}");
    }
}
