//! The interpreter against a recording machine: what scripts do, and what imgtrust refuses.

use std::collections::{HashMap, VecDeque};

use bootsign_script::ui::Key;
use bootsign_script::{Boot, Interpreter, Machine, Proof, TrustPolicy};

/// The test's proof: a copy of the bytes whose signature "verified".
struct Signed(Vec<u8>);

impl Proof for Signed {
    fn recheck(&self, bytes: &[u8]) -> Result<(), String> {
        if bytes == self.0 { Ok(()) } else { Err("the bytes differ".into()) }
    }
    fn covers_every_byte(&self) -> bool {
        true
    }
}

/// What a sanboot or sanhook was given: the disk image's name and bytes, and the drive.
type SanCall = (Option<(String, Vec<u8>)>, u32);

/// Records every call; serves files from a map; "verifies" a signature when it equals
/// `b"good signature of " + data`.
#[derive(Default)]
struct Recorder {
    files: HashMap<String, Vec<u8>>,
    out: String,
    booted: Vec<(String, String, Vec<String>)>,
    /// What each boot started: the program's bytes as the launch path took them.
    started: Vec<Vec<u8>>,
    /// Makes `verify` hand back a proof over other bytes, as if the image had changed
    /// between verification and launch.
    proof_of_other_bytes: bool,
    dhcp_calls: usize,
    changed: Vec<(String, Option<String>)>,
    /// The interface that answers a `dhcp` without one (None: the default, net0).
    answering: Option<&'static str>,
    /// The servers `ntp` was asked to use.
    ntp: Vec<String>,
    /// Each download's URI and `--timeout`.
    fetched: Vec<(String, Option<u64>)>,
    /// The CPUID leaves the machine answers (none: no CPUID).
    cpuid: HashMap<u32, [u32; 4]>,
    /// What the keyboard does at each wait: a key, or `None` for the wait running out.
    keys: VecDeque<Option<Key>>,
    /// Each wait for a key: its timeout.
    waits: Vec<Option<u64>>,
    /// How often the screen was cleared.
    clears: usize,
    /// Each sanboot/sanhook: the disk image's name and the bytes its gate check gave
    /// (`None`: the local disk), and the drive.
    san: Vec<SanCall>,
    /// How many interfaces the machine has (before any DHCP).
    nics: usize,
    /// Each POST: the URI and the form.
    posted: Vec<(String, String)>,
    /// For each sanboot: whether only the platform's check could stand for a proof.
    platform_checks: Vec<bool>,
    /// Each change of colours, and the text printed in them.
    colours: Vec<(Option<u8>, Option<u8>, String)>,
    /// The console sizes asked for.
    sizes: Vec<(u32, u32)>,
    /// What a ProxyDHCP server adds to each DHCP answer, and whether the lease itself
    /// names no boot file.
    proxy: Vec<(String, String)>,
    lease_without_file: bool,
    /// The shim each boot would go through.
    shims: Vec<Option<String>>,
}

impl Machine for Recorder {
    type Proof = Signed;
    type Meta = ();

    fn print(&mut self, text: &str) {
        self.out.push_str(text);
    }
    fn dhcp(&mut self, _iface: &str) -> Result<Vec<(String, String)>, String> {
        self.dhcp_calls += 1;
        let mut lease = vec![
            ("ip".into(), "10.0.2.15".into()),
            ("next-server".into(), "10.0.2.2".into()),
            ("filename".into(), "http://10.0.2.2/boot.ipxe".into()),
            ("mac".into(), "52:54:00:12:34:56".into()),
        ];
        if self.lease_without_file {
            lease.retain(|(n, _)| n != "filename");
        }
        lease.extend(self.proxy.iter().cloned());
        Ok(lease)
    }
    fn interface(&mut self, command: &str, iface: &str) -> Result<(), String> {
        self.out.push_str(&format!("{command} {iface}\n"));
        Ok(())
    }
    fn fetch(&mut self, uri: &str, timeout_ms: Option<u64>) -> Result<(Vec<u8>, ()), String> {
        self.fetched.push((uri.to_string(), timeout_ms));
        self.files.get(uri).cloned().map(|d| (d, ())).ok_or_else(|| "HTTP 404 Not Found".into())
    }
    fn fetch_form(
        &mut self,
        uri: &str,
        form: &[u8],
        timeout_ms: Option<u64>,
    ) -> Result<(Vec<u8>, ()), String> {
        self.posted.push((uri.to_string(), String::from_utf8_lossy(form).into_owned()));
        self.fetch(uri, timeout_ms)
    }
    fn verify(
        &mut self,
        data: &[u8],
        _meta: &(),
        signature: &[u8],
        _signer: Option<&str>,
    ) -> Result<(Signed, String), String> {
        if signature == [&b"good signature of "[..], data].concat() {
            let mut covered = data.to_vec();
            if self.proof_of_other_bytes {
                covered.push(0);
            }
            Ok((Signed(covered), "CN=test signer".into()))
        } else {
            Err("the signature does not verify".into())
        }
    }
    fn verify_embedded(
        &mut self,
        data: &[u8],
        _meta: &(),
        _signer: Option<&str>,
    ) -> Result<(Signed, String), String> {
        if data.ends_with(b"+embedded signature") {
            Ok((Signed(data.to_vec()), "CN=embedded signer".into()))
        } else {
            Err("the image carries no Authenticode signature".into())
        }
    }
    fn boot(&mut self, boot: Boot<'_, Signed>) -> String {
        // As the firmware's launcher: every image's bytes through the gate's re-check.
        let program = match boot.image().bytes() {
            Ok(b) => b.as_slice().to_vec(),
            Err(e) => return e,
        };
        for initrd in boot.initrds() {
            if let Err(e) = initrd.bytes() {
                return e;
            }
        }
        let initrds = boot.initrds().iter().map(|i| i.image().name().to_string()).collect();
        let image = boot.image().image();
        self.booted.push((image.name().to_string(), image.cmdline().to_string(), initrds));
        self.shims.push(boot.shim().map(|s| s.image().name().to_string()));
        self.started.push(program);
        "the kernel returned".into()
    }
    fn ntp(&mut self, server: &str) -> Result<String, String> {
        self.ntp.push(server.into());
        match server {
            "unreachable.example" => Err("no reply from unreachable.example:123".into()),
            _ => Ok(format!("ntp: {server}: clock set")),
        }
    }
    fn cpuid(&mut self, leaf: u32) -> Option<[u32; 4]> {
        self.cpuid.get(&leaf).copied()
    }
    fn unix_time(&self) -> Option<u64> {
        Some(1_796_466_030)
    }
    fn now_ms(&self) -> Option<u64> {
        Some(self.waits.len() as u64 * 1250)
    }
    fn ping(
        &mut self,
        host: &str,
        seq: u16,
        size: usize,
        _timeout_ms: u64,
    ) -> Result<(String, usize, u64), String> {
        match host {
            "10.0.2.2" if seq < 3 => Ok((host.into(), size, 1)),
            _ => Err("timed out".into()),
        }
    }
    fn resolve(&mut self, host: &str) -> Result<String, String> {
        match host {
            "boot.example" => Ok("10.0.2.2".into()),
            _ => Err("no such host".into()),
        }
    }
    fn pci_next(&self, from: u32) -> Option<u16> {
        PCI.iter().map(|&(at, _)| at).find(|&at| u32::from(at) >= from)
    }
    fn pci_read(&self, busdevfn: u16, offset: u8, len: u8) -> Option<Vec<u8>> {
        let (_, space) = PCI.iter().find(|&&(at, _)| at == busdevfn)?;
        Some(space[usize::from(offset)..usize::from(offset) + usize::from(len)].to_vec())
    }
    fn colours(&mut self, fg: Option<u8>, bg: Option<u8>) {
        self.colours.push((fg, bg, String::new()));
    }
    fn console_size(&mut self, width: u32, height: u32) -> Result<(), String> {
        self.sizes.push((width, height));
        match width <= 1280 && height <= 800 {
            true => Ok(()),
            false => Err("no console mode is 1920 x 1080 pixels or larger (the largest: 1280 x 800)".into()),
        }
    }
    fn key(&mut self, timeout_ms: Option<u64>) -> Option<Key> {
        self.waits.push(timeout_ms);
        self.keys.pop_front().flatten()
    }
    fn interfaces(&mut self) -> Vec<(String, Vec<(String, String)>)> {
        (0..self.nics)
            .map(|i| (format!("net{i}"), vec![("mac".to_string(), format!("52:54:00:12:34:5{}", 6 + i))]))
            .collect()
    }
    fn sanboot(&mut self, san: bootsign_script::San<'_, Signed>) -> String {
        let disk = match san
            .disk()
            .map(|d| d.bytes().map(|b| (d.image().name().to_string(), b.as_slice().to_vec())))
        {
            Some(Err(e)) => return e,
            Some(Ok(d)) => Some(d),
            None => None,
        };
        self.san.push((disk, san.drive));
        self.platform_checks.push(san.needs_platform_check);
        "the disk's boot program returned".into()
    }
    fn sanhook(&mut self, san: bootsign_script::San<'_, Signed>) -> Result<String, String> {
        let name = san.disk().map(|d| d.image().name().to_string()).unwrap_or_default();
        self.san
            .push((san.disk().map(|d| (name.clone(), d.image().len().to_le_bytes().to_vec())), san.drive));
        Ok(format!("{name}: attached"))
    }
    fn clear_screen(&mut self) {
        self.clears += 1;
        self.out.push_str("<clear>\n");
    }
    fn erase(&mut self, count: usize) {
        self.out.push_str(&format!("<erase {count}>"));
    }
    fn sleep(&mut self, _seconds: u64) {}
    fn reboot(&mut self) -> String {
        "reboot failed".into()
    }
    fn poweroff(&mut self) -> String {
        "poweroff failed".into()
    }
    fn dhcp_any(&mut self) -> Result<(String, Vec<(String, String)>), String> {
        let Some(iface) = self.answering else { return self.dhcp("net0").map(|s| ("net0".into(), s)) };
        self.dhcp_calls += 1;
        Ok((iface.into(), vec![("ip".into(), "10.0.3.15".into()), ("next-server".into(), "10.0.3.2".into())]))
    }

    fn setting_changed(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
        if name == "dns" && value.is_some_and(|v| v.parse::<std::net::Ipv4Addr>().is_err()) {
            return Err(format!("dns: '{}' is not an IPv4 address", value.unwrap()));
        }
        self.changed.push((name.into(), value.map(Into::into)));
        Ok(())
    }
}

fn machine(files: &[(&str, &[u8])]) -> Recorder {
    Recorder { files: files.iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect(), ..Default::default() }
}

fn signed(data: &[u8]) -> Vec<u8> {
    [&b"good signature of "[..], data].concat()
}

/// The seed's example script, unmodified.
const SEED: &str = include_str!("../../../examples/signed-boot.ipxe");
/// The built-in default script.
const DEFAULT: &str = include_str!("../../../examples/default.ipxe");

#[test]
fn seed_script_verifies_then_boots() {
    let kernel = b"MZ kernel".to_vec();
    let m = machine(&[
        ("http://10.0.2.2/boot/vmlinuz", &kernel),
        ("http://10.0.2.2/boot/vmlinuz.sig", &signed(&kernel)),
    ]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    i.set("net0/next-server", "10.0.2.2");
    let err = i.run(SEED, None).unwrap_err();
    assert_eq!(err.message, "the kernel returned");
    assert_eq!(err.line, 7);
    assert_eq!(i.machine.booted, vec![("vmlinuz".into(), "".into(), vec![])]);
    assert!(i.machine.out.contains("vmlinuz: signature verified (CN=test signer)"));
    assert_eq!(i.trust(), TrustPolicy { required: true, permanent: true, all_images: false });
}

#[test]
fn imgtrust_refuses_unverified_and_badly_signed_images() {
    let kernel = b"MZ kernel".to_vec();
    let m = machine(&[("http://s/vmlinuz", &kernel), ("http://s/bad.sig", b"forged")]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    let err = i.run("imgtrust --permanent\nkernel http://s/vmlinuz\nboot\n", None).unwrap_err();
    assert_eq!(err.line, 3);
    assert!(
        err.message.contains("image 'vmlinuz' is not trusted: imgtrust requires a verified image"),
        "{err}"
    );
    let err = i.run("imgverify vmlinuz http://s/bad.sig\n", None).unwrap_err();
    assert!(err.message.contains("image 'vmlinuz' was not verified: the signature does not verify"), "{err}");
    let err = i.run("imgtrust --allow\n", None).unwrap_err();
    assert!(err.message.contains("cannot be relaxed"), "{err}");
    assert!(i.machine.booted.is_empty());
}

#[test]
fn imgtrust_all_covers_initrds() {
    let (k, r) = (b"kernel".to_vec(), b"initrd".to_vec());
    let files: &[(&str, &[u8])] = &[
        ("http://s/k", &k),
        ("http://s/k.sig", &signed(&k)),
        ("http://s/r", &r),
        ("http://s/r.sig", &signed(&r)),
    ];
    let script = "imgtrust --all\nkernel http://s/k console=ttyS0\ninitrd http://s/r\nimgverify k http://s/k.sig\nboot\n";
    let mut i = Interpreter::new(machine(files), TrustPolicy::default());
    let err = i.run(script, None).unwrap_err();
    assert!(
        err.message.contains("initrd 'r' is not trusted: imgtrust --all requires every image to be verified"),
        "{err}"
    );
    assert!(i.machine.booted.is_empty());
    // Verified too, it boots with the initrd and the command line.
    let mut i = Interpreter::new(machine(files), TrustPolicy::default());
    let err = i.run(&script.replace("boot\n", "imgverify r http://s/r.sig\nboot\n"), None).unwrap_err();
    assert_eq!(err.message, "the kernel returned");
    assert_eq!(i.machine.booted, vec![("k".into(), "console=ttyS0".into(), vec!["r".into()])]);
    // Without --all, plain imgtrust leaves initrds alone (iPXE's behaviour).
    let mut i = Interpreter::new(machine(files), TrustPolicy::default());
    let err = i.run(&script.replace("imgtrust --all", "imgtrust"), None).unwrap_err();
    assert_eq!(err.message, "the kernel returned");
}

#[test]
fn the_launch_path_refuses_bytes_the_proof_does_not_cover() {
    let kernel = b"MZ kernel".to_vec();
    let files: &[(&str, &[u8])] = &[("http://s/k", &kernel), ("http://s/k.sig", &signed(&kernel))];
    let script = "kernel http://s/k\nimgverify k http://s/k.sig\nboot\n";
    // The proof is over other bytes than those the launcher is about to start.
    let mut m = machine(files);
    m.proof_of_other_bytes = true;
    let mut i = Interpreter::new(m, TrustPolicy::default());
    let err = i.run(script, None).unwrap_err();
    assert!(err.message.contains("image 'k' is not the image that was verified: the bytes differ"), "{err}");
    assert!(i.machine.started.is_empty());
    // With a proof over the same bytes, those bytes are what is started.
    let mut i = Interpreter::new(machine(files), TrustPolicy::default());
    assert_eq!(i.run(script, None).unwrap_err().message, "the kernel returned");
    assert_eq!(i.machine.started, vec![kernel]);
}

#[test]
fn imgverify_without_a_signature_checks_the_images_own() {
    let signed = b"MZ kernel+embedded signature".to_vec();
    let files: &[(&str, &[u8])] = &[("http://s/k", &signed), ("http://s/plain", b"MZ plain")];
    let mut i = Interpreter::new(machine(files), TrustPolicy::default());
    let err = i.run("imgtrust\nkernel http://s/k\nimgverify k\nboot\n", None).unwrap_err();
    assert_eq!(err.message, "the kernel returned");
    assert!(
        i.machine.out.contains("k: embedded signature verified (CN=embedded signer)"),
        "{}",
        i.machine.out
    );
    assert_eq!(i.machine.started, vec![signed.clone()]);
    let mut i = Interpreter::new(machine(files), TrustPolicy::default());
    let err = i.run("kernel http://s/plain\nimgverify plain\n", None).unwrap_err();
    assert!(
        err.message.contains("image 'plain' was not verified: the image carries no Authenticode signature"),
        "{err}"
    );
    let err = i.run("imgverify\n", None).unwrap_err();
    assert!(
        err.message.contains("usage: imgverify [--signer NAME] [--keep] [--timeout MS] IMAGE [SIGNATURE]"),
        "{err}"
    );
    // Only the selected program may be verified by an embedded signature.
    let mut i = Interpreter::new(machine(files), TrustPolicy::default());
    let err = i.run("initrd http://s/k\nimgverify k\n", None).unwrap_err();
    assert!(err.message.contains("image 'k' is not the selected kernel or program"), "{err}");
}

#[test]
fn trust_policy_from_the_build_applies_from_the_start() {
    let m = machine(&[("http://s/k", b"k")]);
    let mut i = Interpreter::new(m, TrustPolicy { required: true, permanent: true, all_images: true });
    let err = i.run("chain http://s/k\n", None).unwrap_err();
    assert!(err.message.contains("not trusted"), "{err}");
}

#[test]
fn default_dhcp_chain_runs_a_fetched_script_with_relative_uris() {
    let script = b"#!ipxe\necho from ${net0/ip} via ${next-server}\nkernel vmlinuz quiet\nboot\n".to_vec();
    let m = machine(&[("http://10.0.2.2/boot.ipxe", &script), ("http://10.0.2.2/vmlinuz", b"MZ")]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    let err = i.run(DEFAULT, None).unwrap_err();
    assert!(
        err.message.starts_with("in http://10.0.2.2/boot.ipxe: line 4: boot: the kernel returned"),
        "{err}"
    );
    assert_eq!(i.machine.out, "from 10.0.2.15 via 10.0.2.2\n");
    assert_eq!(i.machine.booted[0].1, "quiet");
    assert_eq!(i.setting("net0/mac").as_deref(), Some("52:54:00:12:34:56"));
}

#[test]
fn control_flow() {
    let script = "#!ipxe\n\
        set tries 0\n\
        :retry\n\
        iseq ${tries} 2 && goto done || echo try ${tries}\n\
        isset ${nothing} || echo nothing is unset\n\
        iseq ${tries} 0 && set tries 1 || set tries 2\n\
        goto retry\n\
        :done\n\
        echo -n done\n\
        exit 3\n\
        echo never\n";
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    assert_eq!(i.run(script, None), Ok(3));
    assert_eq!(i.machine.out, "try 0\nnothing is unset\ntry 1\nnothing is unset\ndone");
    // A condition that fails without || ends the script, as in iPXE.
    let err = i.run("iseq a b && echo same\necho never\n", None).unwrap_err();
    assert_eq!((err.line, err.message.as_str()), (1, "condition is false"));
}

#[test]
fn errors_name_the_line_command_and_uri() {
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    let err = i.run("echo ok\nkernel http://s/missing\n", None).unwrap_err();
    assert_eq!(err.to_string(), "line 2: kernel http://s/missing: http://s/missing: HTTP 404 Not Found");
    assert_eq!(i.run("goto nowhere\n", None).unwrap_err().message, "no label ':nowhere' in this script");
    assert_eq!(i.run("frobnicate\n", None).unwrap_err().message, "frobnicate: command not found");
    assert_eq!(
        i.run("boot\n", None).unwrap_err().message,
        "no image selected (load one with kernel or chain)"
    );
    assert_eq!(
        i.run("kernel --bogus http://s/k\n", None).unwrap_err().message,
        "unrecognised option '--bogus'"
    );
}

#[test]
fn timeouts_reach_every_fetch() {
    let kernel = b"MZ kernel".to_vec();
    let m = machine(&[("http://s/k", &kernel), ("http://s/i", b"i"), ("http://s/k.sig", &signed(&kernel))]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    i.run(
        "kernel --timeout 5000 http://s/k a=b
initrd http://s/i
imgfetch -t 7 --name x http://s/i
\
         imgverify --timeout 250 k http://s/k.sig
",
        None,
    )
    .unwrap();
    assert_eq!(
        i.machine.fetched,
        [
            ("http://s/k".to_string(), Some(5000)),
            ("http://s/i".to_string(), None),
            ("http://s/i".to_string(), Some(7)),
            ("http://s/k.sig".to_string(), Some(250)),
        ]
    );
    for bad in ["soon", "5s", ""] {
        let err = i.run(&format!("initrd --timeout={bad} http://s/i\n"), None).unwrap_err();
        assert_eq!(err.message, format!("--timeout: '{bad}' is not a number"));
    }
    assert_eq!(i.machine.fetched.len(), 4);
    // As iPXE's parse_timeout: 0 is no timeout, and a minus wraps in 32 bits.
    i.run("initrd --timeout 0 http://s/i\ninitrd --timeout -1 http://s/i\n", None).unwrap();
    assert_eq!(
        i.machine.fetched[4..],
        [("http://s/i".into(), None), ("http://s/i".into(), Some(0xffff_ffff))]
    );
}

#[test]
fn options_read_as_getopt_reads_them() {
    let m = machine(&[("http://s/k", b"MZ k"), ("http://s/i", b"i")]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    // Grouped flags, a value in the same word as its letter, `--` ending the options.
    i.run("imgfetch -qn first http://s/i\nimgfetch -qnsecond http://s/i\nimgfetch -- http://s/i\n", None)
        .unwrap();
    assert_eq!(i.images().iter().map(|im| im.name()).collect::<Vec<_>>(), ["first", "second", "i"]);
    for (line, message) in [
        ("imgfetch -qz http://s/i", "unrecognised option '-z'"),
        ("imgfetch -qn", "option '-qn' needs a value"),
        ("imgfetch --quiet=yes http://s/i", "option '--quiet' takes no value"),
    ] {
        assert_eq!(i.run(&format!("{line}\n"), None).unwrap_err().message, message, "{line}");
    }
}

#[test]
fn images_are_named_listed_and_freed() {
    let m = machine(&[("http://s/a/initrd.img?x=1", b"1234"), ("http://s/k", b"kk")]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    i.run("initrd http://s/a/initrd.img?x=1\nkernel --name linux http://s/k a=b\nimgstat\n", None).unwrap();
    assert_eq!(i.machine.out, "initrd.img : 4 bytes [INITRD] \nlinux : 2 bytes [SELECTED] a=b\n");
    i.run("imgfree initrd.img\n", None).unwrap();
    assert_eq!(i.images().len(), 1);
    i.run("imgfree\n", None).unwrap();
    assert!(i.images().is_empty());
}

#[test]
fn chained_scripts_are_bounded() {
    let loop_script = b"#!ipxe\nchain http://s/loop.ipxe\n".to_vec();
    let mut i = Interpreter::new(machine(&[("http://s/loop.ipxe", &loop_script)]), TrustPolicy::default());
    let err = i.run("chain http://s/loop.ipxe\n", None).unwrap_err();
    assert!(err.to_string().contains("scripts chained more than 8 deep"), "{err}");
}

#[test]
fn setting_values_cannot_inject_commands() {
    // A rogue DHCP server's boot file name, shaped to turn imgtrust off and boot its own
    // image: it must stay one argument.
    let evil = b"MZ evil".to_vec();
    let m = machine(&[("http://evil/b.efi", &evil)]);
    let mut i = Interpreter::new(m, TrustPolicy { required: true, permanent: false, all_images: false });
    i.set("net0/filename", "http://s/a.efi || imgtrust --allow && chain http://evil/b.efi");
    let err = i.run("#!ipxe\nchain ${filename}\n", None).unwrap_err();
    assert!(
        err.message.contains("http://s/a.efi || imgtrust --allow && chain http://evil/b.efi: HTTP 404"),
        "{err}"
    );
    assert!(i.machine.booted.is_empty());
    assert!(i.trust().required);
    // Operators are whole words: quotes and backslashes are ordinary characters (there
    // is no quoting in iPXE), so these are arguments.
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    i.run("echo a \"||\" b \\&& c||d\n", None).unwrap();
    assert_eq!(i.machine.out, "a \"||\" b \\&& c||d\n");
    // A value with spaces stays one argument; the kernel command line joins them anyway.
    let mut i = Interpreter::new(machine(&[("http://s/k", b"k")]), TrustPolicy::default());
    i.set("args", "console=ttyS0 quiet");
    let _ = i.run("kernel http://s/k ${args} panic=-1\nboot\n", None);
    assert_eq!(i.machine.booted[0].1, "console=ttyS0 quiet panic=-1");
}

#[test]
fn the_machine_hears_of_settings_the_script_changes() {
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    let script =
        "#!ipxe\nset dns 10.0.2.2\nset net0/dns 10.0.2.3\nclear dns\nset dns nonsense || echo refused\n";
    i.run(script, None).unwrap();
    let expected: Vec<(String, Option<String>)> = vec![
        ("dns".into(), Some("10.0.2.2".into())),
        ("dns".into(), Some("10.0.2.3".into())),
        ("dns".into(), None),
    ];
    assert_eq!(i.machine.changed, expected);
    // A refused value is not stored.
    assert!(i.machine.out.contains("refused"));
    assert_eq!(i.setting("dns"), Some("10.0.2.3".into()));
}

/// `dhcp` without an interface takes whichever one answered; unscoped names then mean
/// that interface's settings, and `netN/` scopes are stripped for the machine.
#[test]
fn dhcp_without_an_interface_uses_the_one_that_answered() {
    let mut m = machine(&[]);
    m.answering = Some("net1");
    let mut i = Interpreter::new(m, TrustPolicy::default());
    i.run("#!ipxe\ndhcp\necho ${next-server} ${ip} ${net1/ip}\nset net1/dns 10.0.3.3\n", None).unwrap();
    assert_eq!(i.machine.out, "10.0.3.2 10.0.3.15 10.0.3.15\n");
    assert_eq!(i.machine.changed, vec![("dns".to_string(), Some("10.0.3.3".to_string()))]);
    // An explicit interface still goes to that one.
    i.run("dhcp net0\necho ${next-server}\n", None).unwrap();
    assert_eq!(i.machine.out, "10.0.3.2 10.0.3.15 10.0.3.15\n10.0.2.2\n");
}

#[test]
fn ntp_asks_the_machine_and_reports() {
    let mut interp = Interpreter::new(machine(&[]), TrustPolicy::default());
    interp.set("net0/ntp", "10.0.2.2");
    let script = "#!ipxe\nntp ${ntp}\nntp 10.0.2.2:12323\nntp unreachable.example || echo fallback\nntp\n";
    let e = interp.run(script, None).unwrap_err();
    assert_eq!(interp.machine.ntp, ["10.0.2.2", "10.0.2.2:12323", "unreachable.example"]);
    assert_eq!(
        interp.machine.out,
        "ntp: 10.0.2.2: clock set\nntp: 10.0.2.2:12323: clock set\n\
         ntp: no reply from unreachable.example:123\nfallback\n"
    );
    assert_eq!((e.line, e.message.as_str()), (5, "usage: ntp SERVER[:PORT]"));
}

#[test]
fn ntp_is_refused_by_a_machine_without_a_clock() {
    struct NoClock;
    impl Machine for NoClock {
        type Proof = Signed;
        type Meta = ();
        fn print(&mut self, _: &str) {}
        fn dhcp(&mut self, _: &str) -> Result<Vec<(String, String)>, String> {
            Err("no network".into())
        }
        fn interface(&mut self, _: &str, _: &str) -> Result<(), String> {
            Ok(())
        }
        fn fetch(&mut self, _: &str, _: Option<u64>) -> Result<(Vec<u8>, ()), String> {
            Err("no network".into())
        }
        fn verify(
            &mut self,
            _: &[u8],
            _: &(),
            _: &[u8],
            _: Option<&str>,
        ) -> Result<(Signed, String), String> {
            Err("no".into())
        }
        fn boot(&mut self, _: Boot<'_, Signed>) -> String {
            "no".into()
        }
        fn sleep(&mut self, _: u64) {}
        fn reboot(&mut self) -> String {
            "no".into()
        }
        fn poweroff(&mut self) -> String {
            "no".into()
        }
    }
    let e = Interpreter::new(NoClock, TrustPolicy::default()).run("ntp pool.ntp.org\n", None).unwrap_err();
    assert_eq!(e.message, "this machine cannot set its clock");
}

/// iPXE's line syntax: `||` with nothing after it, `;`, `#` comments, `\` continuations,
/// a command after a label, and no quoting.
#[test]
fn ipxe_line_syntax() {
    let kernel = b"MZ kernel".to_vec();
    let mut i = Interpreter::new(machine(&[("http://s/k", &kernel)]), TrustPolicy::default());
    let script = "#!ipxe\n\
        imgfree nothing-loaded ||\n\
        echo one ; echo two # echo three\n\
        echo a#b\n\
        echo joined \\\n  line\n\
        goto skip\n\
        echo never\n\
        :skip echo after the label\n\
        kernel http://s/k nuke=\"dwipe --autonuke\" a\\ b\n\
        iseq a b || echo handled ; echo always\n";
    assert_eq!(i.run(script, None), Ok(0));
    assert_eq!(
        i.machine.out,
        "imgfree: no image named 'nothing-loaded' (see imgstat)\none\ntwo\na#b\njoined line\nafter the label\nhandled\nalways\n"
    );
    // Quotes and backslashes reach the kernel command line exactly as written.
    assert_eq!(i.images()[0].cmdline(), "nuke=\"dwipe --autonuke\" a\\ b");
    // The label's command runs when `goto` lands on it, as in iPXE.
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    i.run("set n:int32 0\n:loop inc n\niseq ${n} 3 || goto loop\necho ${n}\n", None).unwrap();
    assert_eq!(i.machine.out, "3\n");
}

/// The line's result is the last command that ran: `a && b` with `a` failing fails the
/// line (and the script); `a || b && c` runs `c` only when the last one that ran worked.
#[test]
fn separators_decide_as_ipxe_does() {
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    i.run("iseq 1 2 || echo or-ran && echo and-ran\niseq 1 1 || echo skipped && echo and-ran-2\n", None)
        .unwrap();
    assert_eq!(i.machine.out, "or-ran\nand-ran\nand-ran-2\n");
    let err = i.run("iseq 1 2 && echo never\necho not reached\n", None).unwrap_err();
    assert_eq!((err.line, err.message.as_str()), (1, "condition is false"));
    let err = i.run("echo ok ; iseq 1 2\n", None).unwrap_err();
    assert_eq!(err.message, "condition is false");
}

/// `goto` to a label that does not exist fails like any command, so the common menu
/// idiom falls back.
#[test]
fn goto_a_missing_label_fails_and_can_be_handled() {
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    let script = "set choice nowhere\ngoto ${choice} || goto main\necho skipped\n:main\necho main\n";
    assert_eq!(i.run(script, None), Ok(0));
    assert_eq!(i.machine.out, "goto: no label ':nowhere' in this script\nmain\n");
    let err = i.run("goto nowhere\n", None).unwrap_err();
    assert_eq!((err.line, err.message.as_str()), (1, "no label ':nowhere' in this script"));
}

/// Typed settings render as iPXE renders them, and nested references expand innermost
/// first.
#[test]
fn typed_settings_and_nested_references() {
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    i.run("dhcp net0\n", None).unwrap();
    let script = "set idx:int32 0\n\
        echo ${mac:hexhyp} ${mac:hexraw} ${net0/mac} ${netX/mac:hex}\n\
        echo ${ip} ${ip:hexraw} ${ip:uint32} ${net${idx}/ip}\n\
        inc idx\ninc idx 4\necho ${idx} ${idx:uint8} ${idx:hexraw}\n\
        set x:int8 127\ninc x\necho x=${x}\n\
        set u:uristring a b/c\necho ${u} ${u:string} ${u:base64}\n\
        set neg:int16 -2\necho neg ${neg} ${neg:uint16}\n\
        echo [${mac:nonsense}] [${unset}]\n\
        inc fresh\necho ${fresh}\n";
    i.run(script, None).unwrap();
    assert_eq!(
        i.machine.out,
        "52-54-00-12-34-56 525400123456 52:54:00:12:34:56 52:54:00:12:34:56\n\
         10.0.2.15 0a00020f 0xa00020f 10.0.2.15\n\
         5 0x5 00000005\n\
         x=-128\n\
         a%20b%2Fc a b/c YSBiL2M=\n\
         neg -2 0xfffe\n\
         [] []\n\
         1\n"
    );
    // A value the type refuses is an error naming it; `set NAME` alone deletes.
    let err = i.run("set ip 10.0.2\n", None).unwrap_err();
    assert_eq!(err.message, "cannot store \"ip\": '10.0.2' is not a valid ipv4 value");
    let err = i.run("set s text\ninc s\n", None).unwrap_err();
    assert_eq!(err.message, "\"s\" is not a number (a string setting)");
    i.run("set s\nisset ${s} || echo deleted\n", None).unwrap();
    assert!(i.machine.out.ends_with("deleted\n"));
}

/// `cpuid --ext 29` is the long-mode bit: 64-bit scripts pick x86_64 on a 64-bit CPU,
/// i386 without it, and a machine without CPUID says so.
#[test]
fn cpuid_picks_the_architecture() {
    let script = "cpuid --ext 29 && set arch x86_64 || set arch i386\ncpuid --ecx 0 && set sse3 yes || set sse3 no\necho ${arch} ${sse3}\n";
    let mut m = machine(&[]);
    m.cpuid.insert(0x8000_0000, [0x8000_0008, 0, 0, 0]);
    m.cpuid.insert(0x8000_0001, [0, 0, 0, 1 << 29]);
    m.cpuid.insert(1, [0, 0, 1, 0]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    i.run(script, None).unwrap();
    assert_eq!(i.machine.out, "x86_64 yes\n");
    let mut m = machine(&[]);
    m.cpuid.insert(0x8000_0000, [0x8000_0008, 0, 0, 0]);
    m.cpuid.insert(0x8000_0001, [0, 0, 0, 0]);
    m.cpuid.insert(1, [0, 0, 0, 0]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    i.run(script, None).unwrap();
    assert_eq!(i.machine.out, "i386 no\n");
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    assert_eq!(i.run("cpuid 1\n", None).unwrap_err().message, "this machine cannot run CPUID");
}

/// A name or URI names a loaded image first; `imgargs` replaces a command line.
#[test]
fn images_are_found_by_name_before_downloading() {
    let kernel = b"MZ kernel".to_vec();
    let mut i = Interpreter::new(
        machine(&[("http://s/vmlinuz", &kernel), ("http://s/initrd.img", b"i")]),
        TrustPolicy::default(),
    );
    i.run("imgfetch --name kernel http://s/vmlinuz\nimgload kernel\nimgargs kernel console=ttyS0 quiet\ninitrd http://s/initrd.img\nimgexec kernel\n", None)
        .unwrap_err();
    assert_eq!(i.machine.fetched.len(), 2, "{:?}", i.machine.fetched);
    assert_eq!(
        i.machine.booted,
        [("kernel".to_string(), "console=ttyS0 quiet".to_string(), vec!["initrd.img".to_string()])]
    );
    assert_eq!(
        i.run("imgargs nothing x\n", None).unwrap_err().message,
        "no image named 'nothing' (see imgstat)"
    );
}

/// An image fetched under `--name` is that name from the start: one already loaded under
/// the URI's last segment stays (and is handed to the kernel), as in iPXE.
#[test]
fn a_named_fetch_keeps_the_image_named_after_its_uri() {
    let mut i = Interpreter::new(
        machine(&[
            ("http://s/vmlinuz", b"MZ kernel"),
            ("http://s/initrd.img", b"i"),
            ("https://s/initrd.img", b"j"),
        ]),
        TrustPolicy::default(),
    );
    i.run("kernel http://s/vmlinuz\ninitrd http://s/initrd.img\nimgfetch -n copy https://s/initrd.img\nimgfree copy\nboot\n", None)
        .unwrap_err();
    assert_eq!(i.machine.booted, [("vmlinuz".to_string(), String::new(), vec!["initrd.img".to_string()])]);
}

fn keyed(keys: &[Option<Key>]) -> Recorder {
    Recorder { keys: keys.iter().copied().collect(), ..Default::default() }
}

const MENU: &str = "#!ipxe\n\
    menu Boot menu for ${buildarch}\n\
    item --gap -- Operating systems:\n\
    item --key d debian Debian 12\n\
    item --default fedora Fedora 41\n\
    item --gap\n\
    item --key s shell iPXE shell\n\
    item local Boot from the local disk\n";

fn choose(keys: &[Option<Key>], choose: &str) -> (Result<i32, bootsign_script::ScriptError>, Recorder) {
    let mut i = Interpreter::new(keyed(keys), TrustPolicy::default());
    let script = format!("{MENU}{choose}\necho chose ${{target}}\n");
    let r = i.run(&script, None);
    (r, i.machine)
}

/// Menus behave as iPXE's: default entry, arrows skipping gaps, shortcut keys, Enter,
/// Escape, and a countdown that picks the default.
#[test]
fn menus_choose_like_ipxe() {
    // Drawn whole: title centred, the default (`--default`) marked.
    let (r, m) = choose(&[Some(Key::Char('\r'))], "choose target");
    assert_eq!(r, Ok(0));
    assert!(m.out.starts_with("<clear>\n                              Boot menu for x86_64\n\n  Operating systems:\n  Debian 12\n> Fedora 41\n  \n  iPXE shell\n  Boot from the local disk\n"), "{}", m.out);
    assert!(m.out.ends_with("chose fedora\n"), "{}", m.out);
    assert_eq!(m.waits, [None], "no timeout: it waits as long as it takes");
    // Down skips the gap; Up stops at the first entry; End goes to the last.
    let (_, m) = choose(&[Some(Key::Down), Some(Key::Char('\r'))], "choose target");
    assert!(m.out.ends_with("chose shell\n"), "{}", m.out);
    let (_, m) =
        choose(&[Some(Key::Up), Some(Key::Up), Some(Key::Up), Some(Key::Char('\n'))], "choose target");
    assert!(m.out.ends_with("chose debian\n"), "{}", m.out);
    let (_, m) = choose(&[Some(Key::End), Some(Key::Char('\r'))], "choose target");
    assert!(m.out.ends_with("chose local\n"), "{}", m.out);
    // An entry's key chooses it at once; other keys do nothing.
    let (_, m) = choose(&[Some(Key::Char('x')), Some(Key::Char('d'))], "choose target");
    assert!(m.out.ends_with("chose debian\n"), "{}", m.out);
    // --default names the entry selected first.
    let (_, m) = choose(&[Some(Key::Char('\r'))], "choose --default local target");
    assert!(m.out.ends_with("chose local\n"), "{}", m.out);
    // Escape fails the command: the usual idiom handles it.
    let (r, m) = choose(&[Some(Key::Char('\x1b'))], "choose target || set target cancelled");
    assert_eq!(r, Ok(0));
    assert!(m.out.ends_with("choose: cancelled\nchose cancelled\n"), "{}", m.out);
    // The countdown: each second redrawn with the seconds left, then the default.
    let (r, m) = choose(&[None, None, None], "choose --timeout 2500 target");
    assert_eq!(r, Ok(0));
    assert_eq!(m.waits, [Some(500), Some(1000), Some(1000)]);
    for left in ["> Fedora 41 (3)\n", "> Fedora 41 (2)\n", "> Fedora 41 (1)\n"] {
        assert!(m.out.contains(left), "{left:?} in {}", m.out);
    }
    assert!(m.out.ends_with("chose fedora\n"), "{}", m.out);
    // A key stops the countdown.
    let (_, m) = choose(&[None, Some(Key::Down), Some(Key::Char('\r'))], "choose --timeout 5000 target");
    assert_eq!(m.waits, [Some(1000), Some(1000), None]);
    assert!(m.out.ends_with("chose shell\n"), "{}", m.out);
    // Without input and without a timeout, choose fails instead of waiting forever.
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    let err = i.run(&format!("{MENU}choose target\n"), None).unwrap_err();
    assert_eq!(err.message, "no key can arrive: this console has no input");
    // A menu is used up by choose unless --keep; item needs a menu.
    let mut i =
        Interpreter::new(keyed(&[Some(Key::Char('\r')), Some(Key::Char('\r'))]), TrustPolicy::default());
    i.run(&format!("{MENU}choose --keep a\nchoose b\necho ${{a}} ${{b}}\n"), None).unwrap();
    assert!(i.machine.out.ends_with("fedora fedora\n"));
    assert_eq!(
        i.run("choose c\n", None).unwrap_err().message,
        "no menu: make one with the menu command first"
    );
    assert_eq!(
        i.run("item x y\n", None).unwrap_err().message,
        "no menu: make one with the menu command first"
    );
    assert_eq!(
        i.run("menu\nitem --gap only text\nchoose c\n", None).unwrap_err().message,
        "the menu has no entry to choose"
    );
}

/// `prompt` waits for a key (a given one, with `--key`), failing when the time runs out.
#[test]
fn prompt_waits_for_a_key() {
    let script = "prompt --key 0x02 --timeout 2000 Press Ctrl-B for the shell... && set go shell || set go boot\necho ${go}\n";
    for (keys, want) in
        [(vec![Some(Key::Char('\x02'))], "shell"), (vec![Some(Key::Char('a'))], "boot"), (vec![None], "boot")]
    {
        let mut i = Interpreter::new(keyed(&keys), TrustPolicy::default());
        i.run(script, None).unwrap();
        assert_eq!(i.machine.out, format!("Press Ctrl-B for the shell...\n{want}\n"));
        assert_eq!(i.machine.waits, [Some(2000)]);
    }
    let mut i = Interpreter::new(keyed(&[Some(Key::Char(' '))]), TrustPolicy::default());
    i.run("prompt Press any key\n", None).unwrap();
    assert_eq!(i.machine.waits, [None]);
}

/// `read` edits a setting's value: typed characters, Backspace, Enter; Escape fails.
#[test]
fn read_edits_a_setting() {
    let keys: Vec<Option<Key>> = "ab\x08c\r".chars().map(|c| Some(Key::Char(c))).collect();
    let mut i = Interpreter::new(keyed(&keys), TrustPolicy::default());
    i.run("set hostname node\necho -n Host name: \nread hostname\necho [${hostname}]\n", None).unwrap();
    assert_eq!(i.machine.out, "Host name:nodeab<erase 1>c\n[nodeac]\n");
    let mut i = Interpreter::new(keyed(&[Some(Key::Char('\x1b'))]), TrustPolicy::default());
    assert_eq!(i.run("read x\n", None).unwrap_err().message, "cancelled");
}

/// `login` asks for a user name and a password (shown as `*`), starting from the
/// current values; the script then writes them into a URL, as iPXE's documentation does.
#[test]
fn login_sets_the_credentials() {
    let keys = typed("ops\rs3cr\x08et@\r");
    let m = Recorder {
        keys: keys.into_iter().collect(),
        ..machine(&[("http://ops:s3cet%40@s/boot", b"#!ipxe\necho in\n")])
    };
    let mut i = Interpreter::new(m, TrustPolicy::default());
    i.run("login\nchain http://${username:uristring}:${password:uristring}@s/boot\n", None).unwrap();
    assert_eq!(i.machine.out, "Username: ops\nPassword: ****<erase 1>***\nin\n");
    // A URL without a path: the image is not named after the host and credentials.
    i.machine.files.insert("http://ops:pw@s".into(), b"#!ipxe\n".to_vec());
    i.run("imgfetch http://ops:pw@s\n", None).unwrap();
    assert_eq!(i.images().last().unwrap().name(), "image");
    // The current values are where editing starts; Escape changes nothing and fails.
    let mut keys = typed("\x08\x08x\r\r");
    keys.push(Some(Key::Char('\x1b')));
    i.machine.keys = keys.into_iter().collect();
    i.machine.out.clear();
    i.run("login\nlogin || echo ${username} ${password}\n", None).unwrap();
    assert_eq!(
        i.machine.out,
        "Username: ops<erase 1><erase 1>x\nPassword: ******\nUsername: ox\nlogin: could not set credentials: cancelled\nox s3cet@\n"
    );
}

/// Menus draw in iPXE's colour pairs (1 entries, 2 the selection, 3 separators), which
/// `cpair` and `colour` redefine; `console` sets the size or fails loudly.
#[test]
fn menus_draw_in_the_colour_pairs() {
    let mut i =
        Interpreter::new(keyed(&[Some(Key::Char('\r')), Some(Key::Char('\r'))]), TrustPolicy::default());
    i.run(&format!("{MENU}choose target\n"), None).unwrap();
    let (white, blue, red, cyan, yellow, black) = (Some(7), Some(4), Some(1), Some(6), Some(3), Some(0));
    let drawn: Vec<_> = i.machine.colours.iter().map(|&(f, b, _)| (f, b)).collect();
    assert_eq!(
        drawn,
        [
            (white, blue), // clear, title
            (cyan, blue),  // "Operating systems:"
            (white, blue),
            (white, red), // Fedora, the default
            (white, blue),
            (cyan, blue), // the empty gap
            (white, blue),
            (None, None), // afterwards
        ]
    );
    i.machine.colours.clear();
    i.run(&format!("cpair --foreground 3 --background 0 2\ncolour --basic 0 4\n{MENU}choose target\n"), None)
        .unwrap();
    assert!(i.machine.colours.contains(&(yellow, black, String::new())), "{:?}", i.machine.colours);
    assert_eq!(i.machine.colours[0], (white, black, String::new()), "blue (4) is shown as black now");
    for (line, message) in [
        ("colour 8", "colour 8 is not from 0 to 7"),
        ("cpair -f 1 -b 2 8", "colour pair 8 is not from 0 to 7"),
        ("colour --rgb red 1", "--rgb: 'red' is not a number"),
        (
            "console --x 1920 --y 1080",
            "no console mode is 1920 x 1080 pixels or larger (the largest: 1280 x 800)",
        ),
        (
            "console --picture http://s/bg.png",
            "--picture: a background picture needs a framebuffer console, which bootsign does not draw (it uses the platform's text console)",
        ),
        ("console --left x", "--left: 'x' is not a number"),
    ] {
        assert_eq!(i.run(&format!("{line}\n"), None).unwrap_err().message, message, "{line}");
    }
    i.run("colour --rgb 0xffffff 7\nconsole --x 1024 --y 768 --left 32 --keep\nconsole\n", None).unwrap();
    assert_eq!(i.machine.sizes, [(1920, 1080), (1024, 768)]);
}

/// The recording machine's PCI functions: a host bridge at 00:00.0 and a virtio-net NIC
/// at 00:03.0 (busdevfn 0x18), their configuration space's first bytes little-endian.
const PCI: &[(u16, [u8; 4])] = &[(0x0000, [0x86, 0x80, 0x37, 0x12]), (0x0018, [0xf4, 0x1a, 0x00, 0x10])];

/// `pciscan` walks the PCI functions, and `${pci/BUSDEVFN.OFFSET.LENGTH}` reads their
/// configuration space as iPXE does (the usual NIC loop).
#[test]
fn pciscan_walks_the_bus_and_pci_settings_read_it() {
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    i.run(
        "#!ipxe\n:loop\npciscan loc || goto done\necho ${loc} ${pci/${loc}.0.2} ${pci/${loc}.2.2:uint16}\ngoto loop\n:done\n\
         pciscan at:busdevfn && echo ${at}\n",
        None,
    )
    .unwrap();
    assert_eq!(i.machine.out, "0 8086 0x1237\n0x18 1af4 0x1000\n0000:00:00.0\n");
    assert_eq!(i.run("pciscan\n", None).unwrap_err().message, "usage: pciscan SETTING");
}

/// `time` runs a command and says how long it took (its result is the command's);
/// `help` lists the commands.
#[test]
fn time_and_help() {
    let mut i = Interpreter::new(keyed(&[Some(Key::Char('x'))]), TrustPolicy::default());
    i.run("time prompt --timeout 5 Go\ntime iseq a b || echo differ\nhelp\n", None).unwrap();
    assert!(
        i.machine.out.starts_with("Go\nprompt: 1.250s\niseq: 0.000s\ndiffer\nAvailable commands:\n\n"),
        "{}",
        i.machine.out
    );
    assert!(i.machine.out.contains("  chain  ") && i.machine.out.contains("  time  "), "{}", i.machine.out);
}

/// `ping` sends echo requests, a line per reply, and fails at the first unanswered one.
#[test]
fn ping_reports_each_reply_and_fails_on_silence() {
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    i.run("ping --count 2 10.0.2.2\nping -q -c 1 -s 100 10.0.2.2\n", None).unwrap();
    assert_eq!(
        i.machine.out,
        "64 bytes from 10.0.2.2: seq=1 time=1 ms\n64 bytes from 10.0.2.2: seq=2 time=1 ms\n"
    );
    let err = i.run("ping --count 5 10.0.2.2\n", None).unwrap_err();
    assert_eq!(err.message, "10.0.2.2: timed out");
    assert!(i.machine.out.ends_with("seq=2 time=1 ms\n"), "{}", i.machine.out);
    assert_eq!(i.run("ping --size 9000 10.0.2.2\n", None).unwrap_err().message, "--size: at most 1400 bytes");
}

/// `nslookup` stores a host's address, typed ipv4 unless the setting has a type.
#[test]
fn nslookup_stores_the_address() {
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    i.run("nslookup srv boot.example\nnslookup raw:hex boot.example\necho ${srv} ${srv:hex} ${raw}\n", None)
        .unwrap();
    assert_eq!(i.machine.out, "10.0.2.2 0a:00:02:02 0a:00:02:02\n");
    let err = i.run("nslookup srv nowhere.example\n", None).unwrap_err();
    assert_eq!(err.message, "nowhere.example: no such host");
}

/// A ProxyDHCP server's answer is the `proxydhcp` settings; unscoped names find the
/// lease's values first, and autoboot takes the boot file and its server from one block.
#[test]
fn proxydhcp_settings_come_after_the_lease() {
    let proxy = |file: &str| {
        vec![
            ("proxydhcp/filename".to_string(), file.to_string()),
            ("proxydhcp/next-server".into(), "10.0.2.99".into()),
        ]
    };
    let m = Recorder {
        proxy: proxy("http://10.0.2.99/p.ipxe"),
        ..machine(&[("http://10.0.2.99/p.ipxe", b"#!ipxe\necho proxied\n")])
    };
    let mut i = Interpreter::new(m, TrustPolicy::default());
    i.run("dhcp\necho ${filename} ${proxydhcp/filename} ${next-server}\n", None).unwrap();
    assert_eq!(i.machine.out, "http://10.0.2.2/boot.ipxe http://10.0.2.99/p.ipxe 10.0.2.2\n");
    // Without a boot file in the lease, the proxy's is the one; autoboot chains it.
    i.machine.lease_without_file = true;
    i.machine.out.clear();
    i.run("dhcp\necho ${filename}\nautoboot\n", None).unwrap();
    assert_eq!(i.machine.out, "http://10.0.2.99/p.ipxe\nproxied\n");
    // A relative boot file goes to the proxy's server, not the lease's; a DHCP without
    // a proxy leaves no proxydhcp settings behind.
    i.machine.proxy = proxy("p.efi");
    let err = i.run("autoboot\n", None).unwrap_err();
    assert_eq!(i.machine.fetched.last().unwrap().0, "tftp://10.0.2.99/p.efi", "{err}");
    i.machine.proxy.clear();
    i.run("dhcp\nisset ${proxydhcp/filename} && echo stale || echo gone\n", None).unwrap();
    assert!(i.machine.out.ends_with("gone\n"), "{}", i.machine.out);
}

/// `shim` chooses the shim a refused EFI program is started through: it is not an
/// initrd, `shim` alone forgets it, and under imgtrust it must be verified like a program.
#[test]
fn shim_is_kept_for_the_boot_and_not_an_initrd() {
    let k = b"MZ kernel".to_vec();
    let m = machine(&[("http://s/k", &k), ("http://s/i", b"i"), ("http://s/shimx64.efi", b"MZ shim")]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    i.run(
        "kernel http://s/k\ninitrd http://s/i\nshim --allow-sbat http://s/shimx64.efi\nboot || echo\n",
        None,
    )
    .unwrap();
    assert_eq!(i.machine.booted[0].2, ["i"], "the shim is not an initrd");
    assert_eq!(i.machine.shims, [Some("shimx64.efi".to_string())]);
    i.run("imgstat\n", None).unwrap();
    assert!(i.machine.out.contains("shimx64.efi") && i.machine.out.contains("[SHIM]"), "{}", i.machine.out);
    // `shim` alone: no shim (the image stays, as any fetched image, and is an initrd again).
    i.run("shim\nboot k || echo\n", None).unwrap();
    assert_eq!(i.machine.shims[1], None);
    assert_eq!(i.machine.booted[1].2, ["i", "shimx64.efi"]);
    // Under imgtrust the shim is a program like any: unverified, nothing starts.
    let sig = signed(&k);
    let m = machine(&[("http://s/k", &k), ("http://s/k.sig", &sig), ("http://s/shimx64.efi", b"MZ shim")]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    let err = i
        .run(
            "imgtrust\nkernel http://s/k\nimgverify k http://s/k.sig\nshim http://s/shimx64.efi\nboot\n",
            None,
        )
        .unwrap_err();
    assert_eq!(
        err.message,
        "the shim: image 'shimx64.efi' is not trusted: imgtrust requires a verified image (run imgverify first)"
    );
    assert!(i.machine.booted.is_empty());
    assert_eq!(i.run("shim -x\n", None).unwrap_err().message, "unrecognised option '-x'");
}

/// `chain --replace` ends the calling script with the chained one's result; `--autofree`
/// frees the image once run, even when it failed.
#[test]
fn chain_replace_and_autofree() {
    let m = machine(&[("http://s/a.ipxe", b"#!ipxe\necho in a\n"), ("http://s/k", b"MZ k")]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    i.run("chain http://s/a.ipxe\necho back\nchain --replace http://s/a.ipxe\necho never\n", None).unwrap();
    assert_eq!(i.machine.out, "in a\nback\nin a\n");
    i.run("imgfetch http://s/k\nchain --autofree k || echo failed\nimgstat\n", None).unwrap();
    assert!(!i.images().iter().any(|im| im.name() == "k"), "{:?}", i.images());
    i.run("imgfetch http://s/k\nchain k || echo failed\n", None).unwrap();
    assert!(i.images().iter().any(|im| im.name() == "k"), "without --autofree the image stays");
}

/// `${unixtime}` is iPXE's built-in: the machine's clock as a uint32 (hex), any type on
/// request; a stored setting of that name wins, as in iPXE's settings order.
#[test]
fn unixtime_is_read_when_expanded() {
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    i.run("echo ${unixtime} ${unixtime:int32}\n", None).unwrap();
    assert_eq!(i.machine.out, "0x6b13e56e 1796466030\n");
    i.run("set unixtime 5\necho ${unixtime}\n", None).unwrap();
    assert!(i.machine.out.ends_with("\n0x5\n"), "{}", i.machine.out);
}

fn typed(text: &str) -> Vec<Option<Key>> {
    text.chars().map(|c| Some(Key::Char(c))).collect()
}

/// `shell` runs what is typed until `exit`, showing errors and going on.
#[test]
fn the_shell_runs_typed_lines_until_exit() {
    let mut i = Interpreter::new(
        keyed(&typed("echo hi ${buildarch}\rfrobnicate\rset x 1\rexit\r")),
        TrustPolicy::default(),
    );
    i.run("shell\necho after the shell ${x}\n", None).unwrap();
    assert_eq!(
        i.machine.out,
        "bootsign> echo hi ${buildarch}\nhi x86_64\nbootsign> frobnicate\nfrobnicate: command not found\n\
         bootsign> set x 1\nbootsign> exit\nafter the shell 1\n"
    );
    // Without input it does not spin.
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    assert_eq!(i.run("shell\n", None).unwrap_err().message, "no key can arrive: this console has no input");
}

/// `route`, the digest commands, `iflinkwait` and `autoboot`, as iPXE prints and does them.
#[test]
fn route_digests_iflinkwait_and_autoboot() {
    let script = b"#!ipxe\necho chained\n".to_vec();
    let m = machine(&[("http://s/abc", b"abc"), ("http://10.0.2.2/boot.ipxe", &script)]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    i.run("dhcp net0\nroute\nimgfetch http://s/abc\nmd5sum abc\nsha1sum\nsha256sum abc\niflinkwait -t 5000\nautoboot\n", None)
        .unwrap();
    assert_eq!(
        i.machine.out,
        "net0: 10.0.2.15/255.255.255.255\n\
         900150983cd24fb0d6963f7d28e17f72  abc\n\
         a9993e364706816aba3e25717850c26c9cd0d89d  abc\n\
         ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  abc\n\
         iflinkwait net0\n\
         chained\n"
    );
    assert_eq!(i.machine.dhcp_calls, 2);
    assert_eq!(
        i.run("md5sum nothing\n", None).unwrap_err().message,
        "no image named 'nothing' (see imgstat)"
    );
}

/// `sanboot` hands the machine a disk image the gate admitted (under imgtrust, only a
/// verified one), or the local disk; `sanhook` attaches; SAN protocols are refused.
#[test]
fn sanboot_admits_disk_images_like_programs() {
    let iso = b"CD001 an ISO image".to_vec();
    let m = machine(&[
        ("http://s/disk.iso", &iso),
        ("http://s/disk.iso.sig", &signed(&iso)),
        ("http://s/k", b"MZ k"),
    ]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    let err = i.run("sanboot --no-describe --drive 0x81\n", None).unwrap_err();
    assert_eq!(err.message, "the disk's boot program returned");
    assert_eq!(i.machine.san, [(None, 0x81)]);
    let err = i.run("imgtrust\nsanboot http://s/disk.iso\n", None).unwrap_err();
    assert!(
        err.message.starts_with("disk image 'disk.iso' is not trusted: imgtrust requires a verified image"),
        "{err}"
    );
    i.run(
        "imgverify disk.iso http://s/disk.iso.sig\nsanboot disk.iso || echo returned\nsanhook disk.iso\n",
        None,
    )
    .unwrap();
    assert_eq!(i.machine.san[1], (Some(("disk.iso".to_string(), iso.clone())), 0x80));
    assert!(i.machine.out.ends_with("returned\ndisk.iso: attached\n"), "{}", i.machine.out);
    // The local disk without imgtrust needs nothing; under imgtrust it needs the platform's
    // check (the firmware then demands Secure Boot); a verified image needs neither.
    i.run("sanboot || echo local\n", None).unwrap();
    assert_eq!(i.machine.platform_checks, [false, false, true]);
    // A disk stays the platform's: a kernel booted next is not handed it as an initrd.
    i.run("imgtrust --allow\nimgfetch http://s/disk.iso.sig\nkernel http://s/k\nboot\n", None).unwrap_err();
    assert!(i.images().iter().any(|im| im.name() == "disk.iso"), "the disk is still loaded");
    assert_eq!(i.machine.booted.last().unwrap().2, ["disk.iso.sig".to_string()]);
    for (line, want) in [
        (
            "sanboot iscsi:10.0.2.2::::iqn.2010-04.org.ipxe:disk\n",
            "iscsi: network disk protocols are not supported",
        ),
        ("sanboot --label boot\n", "sanboot --label is not supported by bootsign yet"),
        (
            "sanboot http://s/a http://s/b\n",
            "sanboot: several URIs (multipath) are not supported by bootsign",
        ),
        ("sanhook\n", "usage: sanhook [--drive N] NAME|URI"),
    ] {
        let err = i.run(line, None).unwrap_err();
        assert!(err.message.starts_with(want), "{line}: {err}");
    }
}

/// Every interface's own settings are there before any DHCP: the usual NIC loop works.
#[test]
fn interfaces_are_known_before_dhcp() {
    let mut m = machine(&[]);
    m.nics = 2;
    let mut i = Interpreter::new(m, TrustPolicy::default());
    let script = "set idx:int32 0\n:loop\nisset ${net${idx}/mac} || goto done\necho net${idx} ${net${idx}/mac:hexhyp}\ninc idx\ngoto loop\n:done\necho ${idx} interfaces\n";
    i.run(script, None).unwrap();
    assert_eq!(i.machine.out, "net0 52-54-00-12-34-56\nnet1 52-54-00-12-34-57\n2 interfaces\n");
    assert_eq!(i.machine.dhcp_calls, 0);
}

/// `imgextract` unpacks gzip into a new image (unverified: a signature over the
/// compressed bytes does not cover the unpacked ones); damage is reported.
#[test]
fn imgextract_unpacks_gzip() {
    let gz = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0x48,
        0xca, 0xcf, 0x2f, 0x29, 0xce, 0x4c, 0xcf, 0xe3, 0x02, 0x00, 0x2f, 0x70, 0x06, 0x5f, 0x0f, 0x00, 0x00,
        0x00,
    ];
    let mut damaged = gz.to_vec();
    damaged[27] ^= 1;
    let m = machine(&[
        ("http://s/overlay.img.gz", &gz),
        ("http://s/bad.gz", &damaged),
        ("http://s/plain", b"MZ"),
    ]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    // An unpacked image is not compressed again.
    let err = i
        .run("imgextract http://s/overlay.img.gz\nimgextract --name second overlay.img\n", None)
        .unwrap_err();
    assert_eq!(err.message, "overlay.img: not a gzip or zlib image");
    assert_eq!(i.run("imgextract http://s/overlay.img.gz\nimgstat\n", None), Ok(0));
    assert!(i.machine.out.ends_with("overlay.img : 15 bytes  \n"), "{}", i.machine.out);
    assert_eq!(i.images().iter().find(|im| im.name() == "overlay.img").unwrap().len(), 15);
    let err = i.run("imgextract http://s/bad.gz\n", None).unwrap_err();
    assert_eq!(err.message, "bad.gz: the gzip checksum or length does not match: the data is damaged");
    let err = i.run("imgextract http://s/plain\n", None).unwrap_err();
    assert_eq!(err.message, "plain: not a gzip or zlib image");
}

/// `params`/`param` and `URI##params[=NAME]` POST a form, as iPXE does.
#[test]
fn params_are_posted() {
    let script = b"#!ipxe\necho from the server\n".to_vec();
    let m = machine(&[("http://s/hw", &script), ("http://s/other", &script)]);
    let mut i = Interpreter::new(m, TrustPolicy::default());
    i.run(
        "params\nparam mac 52:54:00:12:34:56\nparam note a b&c=d\nparams --name second\nparam --params second k v\n\
         chain http://s/hw##params\nchain http://s/other##params=second\n",
        None,
    )
    .unwrap();
    assert_eq!(
        i.machine.posted,
        [
            ("http://s/hw".to_string(), "mac=52%3A54%3A00%3A12%3A34%3A56&note=a%20b%26c%3Dd".to_string()),
            ("http://s/other".to_string(), "k=v".to_string()),
        ]
    );
    assert_eq!(i.machine.out, "from the server\nfrom the server\n");
    assert_eq!(
        i.run("chain http://s/hw##params=none\n", None).unwrap_err().message,
        "no parameter list named 'none'"
    );
    assert_eq!(
        i.run("param --header X-A b\n", None).unwrap_err().message,
        "param --header (HTTP request headers) is not supported by bootsign yet"
    );
}

/// `show` prints where a setting is, its type and value, as iPXE's does.
#[test]
fn show_names_scope_type_and_value() {
    let mut i = Interpreter::new(machine(&[]), TrustPolicy::default());
    i.run("dhcp net0\nset n:int32 7\nshow ip\nshow n\nshow --quiet net0/mac\nshow mac:hexhyp\n", None)
        .unwrap();
    assert_eq!(
        i.machine.out,
        "net0/ip:ipv4 = 10.0.2.15\nn:int32 = 7\n52:54:00:12:34:56\nnet0/mac:hexhyp = 52-54-00-12-34-56\n"
    );
    assert_eq!(i.run("show nothing\n", None).unwrap_err().message, "Could not find \"nothing\"");
}
