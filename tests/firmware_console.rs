//! The console commands in the firmware under QEMU + OVMF, driven over the serial
//! console as an operator at a serial terminal would: a menu chosen with the arrow keys,
//! a menu whose countdown picks the default, `prompt --key`, `read`; and in the same boot
//! `cpuid --ext 29` on a 64-bit CPU and the SMBIOS settings QEMU's `-smbios` sets,
//! reaching a test server in a chained URL, with a form POSTed (`URI##params`).

mod common;

use std::time::Duration;

use common::http::FileServer;
use common::qemu::{ImageConfig, Qemu, configured_efi};

const UUID: &str = "8ce7c2a0-5a0e-4f4d-9a0b-0123456789ab";

const SCRIPT: &str = "#!ipxe
cpuid --ext 29 && echo marker: 64-bit || echo marker: 32-bit
echo marker: nic [${net0/chip}] [${net1/mac}]
menu Console test menu
item --gap Choices:
item first First entry
item --key s second Second entry
item third Third entry
choose --default first picked || echo marker: choose failed
echo marker: picked ${picked}
menu Timed menu
item a Entry A
item --default b Entry B
choose --timeout 3000 timed
echo marker: timed ${timed}
prompt --key 0x02 --timeout 60000 Press Ctrl-B now && echo marker: prompt ok || echo marker: prompt failed
set name node
echo -n Name:
read name
echo marker: read [${name}]
dhcp
params
param mac ${net0/mac}
param serial ${serial}
param note two words & more
chain http://${next-server}:PORT/boot.ipxe?uuid=${uuid}&serial=${serial}&maker=${manufacturer:uristring}&product=${smbios/product}&asset=${asset}&mac=${mac:hexhyp}&sn=${smbios/1.7.0}##params || echo marker: chained
";

#[test]
fn menus_prompt_and_read_over_the_serial_console() {
    let dir = tempfile::tempdir().unwrap();
    let efi = dir.path().join("console.efi");
    let server = FileServer::start(dir.path().to_path_buf(), 0);
    let script = SCRIPT.replace("PORT", &server.port.to_string());
    configured_efi(&efi, &ImageConfig { script: Some(&script), ..Default::default() });
    let smbios1 = format!("type=1,manufacturer=ACME Labs,product=Box9000,serial=SN-4711,uuid={UUID}");
    let args = ["-cpu", "max", "-smbios", &smbios1, "-smbios", "type=3,asset=AT-42"];
    let mut q = Qemu::boot_efi_with(&efi, "virtio-net-pci,netdev=n0,romfile=", &args);
    let wait = |q: &mut Qemu, what: &str| {
        q.wait_for(&[what, "nothing was booted"], Duration::from_secs(120));
    };
    wait(&mut q, "marker: 64-bit");
    wait(&mut q, "marker: nic [virtio-net] []");
    // The menu is drawn (its last entry shown): Down from the default, then Enter.
    wait(&mut q, "Third entry");
    q.send(b"\x1b[B");
    std::thread::sleep(Duration::from_millis(300));
    q.send(b"\r");
    let (which, _) = q.wait_for(&["marker: picked second", "marker: picked"], Duration::from_secs(60));
    assert_eq!(which, 0, "{}", q.output());
    // Nobody presses anything: the countdown runs down and the default is chosen.
    wait(&mut q, "marker: timed");
    let out = q.output();
    assert!(out.contains("marker: timed b"), "{out}");
    for left in ["> Entry B (3)", "> Entry B (2)", "> Entry B (1)"] {
        assert!(out.contains(left), "{left} in:\n{out}");
    }
    // prompt --key 0x02: Ctrl-B.
    wait(&mut q, "Press Ctrl-B now");
    q.send(b"\x02");
    wait(&mut q, "marker: prompt");
    assert!(q.output().contains("marker: prompt ok"), "{}", q.output());
    // read: the current value is there to edit; type, rub one out, Enter.
    wait(&mut q, "Name:node");
    q.send(b"-12\x7f3\r");
    wait(&mut q, "marker: read");
    assert!(q.output().contains("marker: read [node-13]"), "{}", q.output());
    // The SMBIOS values QEMU was given reach the server, as iPXE would send them, the URL's
    // form (`##params`) as the POST's body.
    wait(&mut q, "marker: chained");
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        [format!(
            "/boot.ipxe?uuid={UUID}&serial=SN-4711&maker=ACME%20Labs&product=Box9000&asset=AT-42\
             &mac=52-54-00-12-34-56&sn=SN-4711"
        )],
        "{}",
        q.output()
    );
    assert_eq!(
        *server.posts.lock().unwrap(),
        ["mac=52%3A54%3A00%3A12%3A34%3A56&serial=SN-4711&note=two%20words%20%26%20more"],
        "{}",
        q.output()
    );
}
