//! The console commands in the firmware under QEMU + OVMF, driven over the serial
//! console as an operator at a serial terminal would: a menu chosen with the arrow keys,
//! a menu whose countdown picks the default, `prompt --key`, `read`; and in the same boot
//! `cpuid --ext 29` on a 64-bit CPU and the SMBIOS settings QEMU's `-smbios` sets,
//! reaching a test server in a chained URL, with a form POSTed (`URI##params`); `login`
//! typed in, its credentials answering a real server's (lighttpd) Digest and Basic
//! challenges and a wrong password refused; `cpair` colouring a menu; `console --x --y`.

mod common;

use std::time::Duration;

use common::http::FileServer;
use common::lighttpd::Lighttpd;
use common::qemu::{ImageConfig, Qemu, configured_efi};

const UUID: &str = "8ce7c2a0-5a0e-4f4d-9a0b-0123456789ab";

const SCRIPT: &str = "#!ipxe
cpuid --ext 29 && echo marker: 64-bit || echo marker: 32-bit
echo marker: nic [${net0/chip}] [${net1/mac}]
echo marker: unixtime ${unixtime:int32}
:pci
pciscan loc || goto pci_done
echo marker: pci ${loc:busdevfn} ${pci/${loc}.0.2}:${pci/${loc}.2.2}
goto pci
:pci_done
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
ping --count 2 ${next-server} && echo marker: pinged || echo marker: ping failed
login
chain http://${username:uristring}:${password:uristring}@${next-server}:LPORT/digest/next.ipxe || echo marker: digest failed
chain http://${username:uristring}:wrong@${next-server}:LPORT/basic/last.ipxe || echo marker: wrong password refused
console --x 1920 --y 1080 || echo marker: no such console mode
console --x 800 --y 480 && echo marker: console set || echo marker: console failed
cpair --foreground 0 --background 6 2
menu Coloured menu
item x Entry X
choose coloured
echo marker: coloured ${coloured}
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
    let www = dir.path().join("auth");
    for sub in ["basic", "digest"] {
        std::fs::create_dir_all(www.join(sub)).unwrap();
    }
    let auth = Lighttpd::start(&www, "ops", "p@ss:1");
    std::fs::write(
        www.join("digest/next.ipxe"),
        format!(
            "#!ipxe\necho marker: digest ok\n\
             chain http://${{username:uristring}}:${{password:uristring}}@${{next-server}}:{}/basic/last.ipxe\n",
            auth.port
        ),
    )
    .unwrap();
    std::fs::write(www.join("basic/last.ipxe"), "#!ipxe\necho marker: basic ok\n").unwrap();
    let script = SCRIPT.replace("LPORT", &auth.port.to_string()).replace("PORT", &server.port.to_string());
    configured_efi(&efi, &ImageConfig { script: Some(&script), ..Default::default() });
    let smbios1 = format!("type=1,manufacturer=ACME Labs,product=Box9000,serial=SN-4711,uuid={UUID}");
    // A graphics card too: the menus are drawn on its console as on the serial line.
    let monitor = dir.path().join("monitor.sock");
    let monitor_arg = format!("unix:{},server=on,wait=off", monitor.display());
    let args = [
        "-cpu",
        "max",
        "-smbios",
        &smbios1,
        "-smbios",
        "type=3,asset=AT-42",
        "-device",
        "VGA",
        "-monitor",
        &monitor_arg,
    ];
    let mut q = Qemu::boot_efi_with(&efi, "virtio-net-pci,netdev=n0,romfile=", &args);
    let wait = |q: &mut Qemu, what: &str| {
        q.wait_for(&[what, "nothing was booted"], Duration::from_secs(120));
    };
    wait(&mut q, "marker: 64-bit");
    wait(&mut q, "marker: nic [virtio-net] []");
    // ${unixtime}: the platform's clock (QEMU's RTC starts at the host's time).
    wait(&mut q, "marker: pci ");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let out = q.output();
    let line = out.lines().find(|l| l.starts_with("marker: unixtime ")).expect(&out);
    let unixtime: u64 = line["marker: unixtime ".len()..].trim().parse().expect(line);
    assert!(unixtime.abs_diff(now) < 300, "{line}, host {now}");
    // pciscan walks the functions the platform enumerated: q35's host bridge, the NIC.
    wait(&mut q, "Third entry");
    let out = q.output();
    assert!(out.contains("marker: pci 0000:00:00.0 8086:29c0\n"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("marker: pci ") && l.ends_with(" 1af4:1000")), "{out}");
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
    // ping: QEMU's user network answers for the host.
    wait(&mut q, "marker: ping");
    let out = q.output();
    assert!(out.contains("64 bytes from 10.0.2.2: seq=2 time=") && out.contains("marker: pinged"), "{out}");
    // login: typed in, the password shown as stars; the credentials go into URLs.
    wait(&mut q, "Username: ");
    q.send(b"ops\r");
    wait(&mut q, "Password: ");
    q.send(b"p@ss:1\r");
    wait(&mut q, "marker: wrong password refused");
    let out = q.output();
    assert!(out.contains("Password: ******"), "{out}");
    assert!(!out.contains("p@ss"), "the password is never shown:\n{out}");
    assert!(out.contains("marker: digest ok") && out.contains("marker: basic ok"), "{out}");
    assert!(
        out.contains("HTTP 401 Unauthorized: the server refused the user name and password in the URL"),
        "{out}"
    );
    assert_eq!(
        auth.requests(6),
        [
            "/digest/next.ipxe 401 -",
            "/digest/next.ipxe 200 ops",
            "/basic/last.ipxe 401 -",
            "/basic/last.ipxe 200 ops",
            "/basic/last.ipxe 401 -",
            "/basic/last.ipxe 401 -", // answered with the wrong password
        ],
        "{out}"
    );
    // The coloured menu, on the screen: white on blue, the selected entry black on cyan
    // (cpair 2 redefined); on the serial line the same as ANSI colours.
    wait(&mut q, "Entry X");
    std::thread::sleep(Duration::from_millis(500));
    let shot = dir.path().join("menu.ppm");
    common::qemu::monitor(&monitor, &format!("screendump {}", shot.display()));
    let (blue, cyan, total) = colour_counts(&std::fs::read(&shot).unwrap());
    assert!(blue > total / 2, "the screen is cleared to blue: {blue} of {total} pixels");
    // "> Entry X": 9 cells of 8 x 19 pixels, their background cyan.
    assert!(cyan >= 9 * 8 * 19 * 3 / 4, "the selected entry is on cyan: {cyan} pixels");
    let raw = String::from_utf8_lossy(&q.raw_output()).into_owned();
    assert!(raw.contains("\x1b[30m\x1b[46m> Entry X") || raw.contains("\x1b[30;46m> Entry X"), "{raw:?}");
    q.send(b"\r");
    // console: the smallest text mode at least that many pixels (8 x 19 a character);
    // one too large fails, naming what the console has.
    wait(&mut q, "marker: coloured x");
    let out = q.output();
    assert!(out.contains("console: 100 x 31 characters\nmarker: console set"), "{out}");
    assert!(
        out.contains("console: no console mode is 1920 x 1080 pixels or larger (the largest: 800 x 589)\nmarker: no such console mode"),
        "{out}"
    );
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

/// How many of a screenshot's (binary PPM) pixels are UEFI's blue and cyan, and of all.
fn colour_counts(ppm: &[u8]) -> (usize, usize, usize) {
    // "P6\n<width> <height>\n255\n", then RGB.
    let mut fields = 0;
    let mut at = 0;
    let mut in_token = false;
    while fields < 4 {
        let white = ppm[at].is_ascii_whitespace();
        if in_token && white {
            fields += 1;
        }
        in_token = !white;
        at += 1;
    }
    let near = |p: &[u8], rgb: [u8; 3]| p.iter().zip(rgb).all(|(&a, b)| a.abs_diff(b) < 0x20);
    let count = |rgb| ppm[at..].chunks_exact(3).filter(|p| near(p, rgb)).count();
    (count([0, 0, 0x98]), count([0, 0x98, 0x98]), ppm[at..].len() / 3)
}
