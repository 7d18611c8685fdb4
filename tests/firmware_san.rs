//! `sanboot` in the firmware under QEMU + OVMF, in one boot: the local disk
//! (`sanboot --no-describe --drive 0x80`, a USB image `bootsign build` made on a
//! virtio disk), then under `imgtrust` the local disk refused (Secure Boot is off, so
//! nothing would check its program) and a CD image served over HTTP refused while
//! unverified, then booted from a RAM disk once its detached signature verified. Each disk
//! holds a bootsign firmware whose script says where it was started from.

mod common;

use std::time::Duration;

use common::Env;
use common::http::FileServer;
use common::qemu::Qemu;

/// A bootsign image in `format` (`--usb`, `--iso`) whose script prints `marker`.
fn inner(env: &Env, name: &str, format: &str, marker: &str) {
    env.write(&format!("{name}.ipxe"), format!("#!ipxe\necho {marker}\n"));
    let embed = format!("{name}.ipxe");
    env.ok(&["build", "--no-config", format, "--embed", &embed, "--output-name", name, "-o", "www"]);
}

#[test]
fn sanboot_boots_the_local_disk_and_a_verified_iso_over_http() {
    let env = Env::new();
    env.ok(&["ca", "init", "--key", "p256", "--cn", "SAN CA"]);
    env.ok(&["issue", "--codesigning", "--key", "p256"]);
    std::fs::create_dir_all(env.path("www")).unwrap();
    inner(&env, "localdisk", "--usb", "marker: started from the local disk");
    inner(&env, "cd", "--iso", "marker: started from the sanboot CD image");
    env.ok(&["sign", "www/cd.iso"]);
    let server = FileServer::start(env.path("www"), 0);
    let base = format!("http://${{next-server}}:{}", server.port);
    let script = format!(
        "#!ipxe\n\
         sanboot --no-describe --drive 0x80 || echo marker: back from the local disk\n\
         dhcp\nimgtrust --permanent\n\
         sanboot --drive 0x80 || echo marker: the local disk was refused under imgtrust\n\
         sanboot {base}/cd.iso || echo marker: the unverified CD image was refused\n\
         imgfetch {base}/cd.iso\nimgverify cd.iso {base}/cd.iso.sig\nsanboot cd.iso\n"
    );
    env.write("outer.ipxe", script);
    env.ok(&[
        "build",
        "--no-config",
        "--efi",
        "--trust",
        "ca.crt",
        "--embed",
        "outer.ipxe",
        "--output-name",
        "outer",
    ]);
    let disk = format!("if=none,id=local,format=raw,file={}", env.path("www/localdisk.usb").display());
    let mut q = Qemu::boot_efi_with(
        &env.path("outer.efi"),
        "virtio-net-pci,netdev=n0,romfile=",
        &["-drive", &disk, "-device", "virtio-blk-pci,drive=local"],
    );
    // The inner firmware says "nothing was booted" when its script ends, so only the CD
    // image's marker ends the wait (a failure shows as the timeout, with the console).
    q.wait_for(&["marker: started from the sanboot CD image"], Duration::from_secs(240));
    std::thread::sleep(Duration::from_millis(300));
    let out = q.output();
    let order = [
        "sanboot: starting \\EFI\\BOOT\\BOOTX64.EFI from ",
        "marker: started from the local disk",
        "marker: back from the local disk",
        "imgtrust is in force and Secure Boot is off: the local disk's boot program would start unverified",
        "marker: the local disk was refused under imgtrust",
        "disk image 'cd.iso' is not trusted: imgtrust requires a verified image",
        "marker: the unverified CD image was refused",
        "cd.iso: signature verified",
        "cd.iso: registered as a RAM disk",
        "marker: started from the sanboot CD image",
    ];
    let mut at = 0;
    for want in order {
        let found = out[at..].find(want).unwrap_or_else(|| panic!("{want:?} (in order) in:\n{out}"));
        at += found + want.len();
    }
}
