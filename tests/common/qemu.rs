//! QEMU + OVMF for firmware tests: writes a configuration into the firmware template
//! (with the same code as `bootsign build --efi`), boots it under TCG with a virtio NIC
//! on QEMU's user network (or, for Secure Boot, OVMF's SMM build from an EFI system
//! partition: `secureboot.rs`), and watches the serial console for markers.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";
/// OVMF built with Secure Boot support; it needs SMM (`smm=on`, else no output at all).
pub const OVMF_CODE_SECBOOT: &str = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd";

/// What goes into a test image's configuration.
#[derive(Default)]
pub struct ImageConfig<'a> {
    pub anchors: Vec<[u8; 32]>,
    pub certs: Vec<Vec<u8>>,
    pub script: Option<&'a str>,
    pub settings: Vec<(&'a str, &'a str)>,
}

/// Writes the firmware with `cfg` in its `.bscfg` section to `out`.
pub fn configured_efi(out: &Path, cfg: &ImageConfig) {
    let certs: Vec<&[u8]> = cfg.certs.iter().map(Vec::as_slice).collect();
    let config = bootsign_config::Config {
        anchors: cfg.anchors.clone(),
        certs,
        key: None,
        script: cfg.script,
        settings: cfg.settings.clone(),
        crosscert: None,
        crls: Vec::new(),
    };
    std::fs::write(out, bootsign::cmd::build::efi_image(&config).unwrap()).unwrap();
}

/// A running guest.
pub struct Qemu {
    child: Child,
    /// The serial console's input.
    stdin: Option<ChildStdin>,
    output: Arc<Mutex<String>>,
    /// The serial output as it came, escape sequences included.
    raw_output: Arc<Mutex<Vec<u8>>>,
    _vars: tempfile::TempDir,
    pub started: Instant,
}

/// Strips carriage returns and ANSI escape sequences from console output.
fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {}
            '\u{1b}' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    while let Some(&n) = chars.peek() {
                        chars.next();
                        if n.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

impl Qemu {
    /// Boots `efi` directly (`-kernel`), with the user network; `netdev_extra` is
    /// appended to the `-netdev user` options (e.g. `,bootfile=...`).
    pub fn boot_efi(efi: &Path, netdev_extra: &str) -> Self {
        Self::start(&["-kernel".into(), efi.display().to_string()], netdev_extra)
    }

    /// Boots `efi` directly with the NIC given as a QEMU `-device` (netdev `n0`) and
    /// further QEMU arguments (e.g. `-cpu max`).
    pub fn boot_efi_with(efi: &Path, nic: &str, extra: &[&str]) -> Self {
        let mut media = vec!["-kernel".to_string(), efi.display().to_string()];
        media.extend(extra.iter().map(|a| a.to_string()));
        Self::launch(&media, nic, "")
    }

    /// Boots a raw disk image attached as a USB stick.
    pub fn boot_usb(disk: &Path) -> Self {
        Self::start(&usb_media(disk), "")
    }

    /// Boots an ISO image as a CD-ROM.
    pub fn boot_cdrom(iso: &Path) -> Self {
        Self::start(&cdrom_media(iso), "")
    }

    /// Boots from a virtio NIC carrying `rom` as its option ROM.
    pub fn boot_rom(rom: &Path) -> Self {
        Self::launch(&[], &format!("virtio-net-pci,netdev=n0,romfile={},bootindex=0", rom.display()), "")
    }

    /// Starts OVMF with `media` arguments and a virtio NIC on the user network.
    pub fn start(media: &[String], netdev_extra: &str) -> Self {
        Self::launch(media, "virtio-net-pci,netdev=n0,romfile=", netdev_extra)
    }

    fn launch(media: &[String], nic: &str, netdev_extra: &str) -> Self {
        let mut args = vec![
            "-machine".to_string(),
            "q35".into(),
            "-netdev".into(),
            format!("user,id=n0{netdev_extra}"),
            "-device".into(),
            nic.into(),
        ];
        args.extend(media.iter().cloned());
        Self::spawn(OVMF_CODE, Path::new(OVMF_VARS), &args)
    }

    /// Boots OVMF's Secure Boot build with a copy of the varstore `vars` (which decides
    /// whether Secure Boot is on, and with which keys) from the EFI system partition
    /// `esp`, a directory (EFI/BOOT/BOOTX64.EFI) given to the guest as a virtio disk, so
    /// the platform's boot manager loads and checks the image: `-kernel` would bypass
    /// the checks. No network.
    pub fn boot_secure(esp: &Path, vars: &Path) -> Self {
        Self::boot_secure_media(&esp_media(esp), vars, None)
    }

    /// [`Qemu::boot_secure`] from any boot `media` ([`esp_media`], [`cdrom_media`],
    /// [`usb_media`]), with the user network (netdev `n0`) and the NIC `nic` (a QEMU
    /// `-device`, e.g. [`PLAIN_NIC`]) when given.
    pub fn boot_secure_media(media: &[String], vars: &Path, nic: Option<&str>) -> Self {
        Self::boot_secure_media_with(media, vars, nic, &[])
    }

    /// [`Qemu::boot_secure_media`] with further QEMU arguments (e.g. a TPM).
    pub fn boot_secure_media_with(
        media: &[String],
        vars: &Path,
        nic: Option<&str>,
        extra: &[String],
    ) -> Self {
        let mut args = vec![
            "-machine".to_string(),
            "q35,smm=on".into(),
            // The varstore can then be written only from SMM, as Secure Boot requires.
            "-global".into(),
            "driver=cfi.pflash01,property=secure,value=on".into(),
        ];
        if let Some(nic) = nic {
            args.extend(["-netdev".into(), "user,id=n0".into(), "-device".into(), nic.into()]);
        }
        args.extend(media.iter().cloned());
        args.extend(extra.iter().cloned());
        Self::spawn(OVMF_CODE_SECBOOT, vars, &args)
    }

    /// Starts OVMF (`code`) with a per-run copy of the varstore `vars` and the machine,
    /// device and media arguments `args`.
    fn spawn(code: &str, vars: &Path, args: &[String]) -> Self {
        let vars_dir = tempfile::tempdir().unwrap();
        let vars_file = vars_dir.path().join("vars.fd");
        std::fs::copy(vars, &vars_file).unwrap_or_else(|e| panic!("{}: {e}", vars.display()));
        let mut firmware = vec![
            "-drive".to_string(),
            format!("if=pflash,format=raw,unit=0,readonly=on,file={code}"),
            "-drive".into(),
            format!("if=pflash,format=raw,unit=1,file={}", vars_file.display()),
        ];
        firmware.extend(args.iter().cloned());
        Self::run(&firmware, vars_dir)
    }

    /// Boots the legacy BIOS firmware image `lkrn` as QEMU's `-kernel` under SeaBIOS
    /// (QEMU's default firmware) on `machine` (`pc` or `q35`), with `extra` arguments.
    pub fn boot_bios_kernel(lkrn: &Path, machine: &str, extra: &[&str]) -> Self {
        let media = ["-kernel".to_string(), lkrn.display().to_string()];
        Self::boot_bios(machine, &media, extra)
    }

    /// Boots SeaBIOS (QEMU's default firmware) on `machine` from `media` (e.g.
    /// [`cdrom_media`], [`usb_media`]), with further QEMU arguments.
    pub fn boot_bios(machine: &str, media: &[String], extra: &[&str]) -> Self {
        let mut args = vec!["-machine".to_string(), machine.into()];
        args.extend(media.iter().cloned());
        args.extend(extra.iter().map(|a| a.to_string()));
        Self::run(&args, tempfile::tempdir().unwrap())
    }

    /// Starts QEMU with `args` after the common ones (serial console on stdio).
    fn run(args: &[String], vars_dir: tempfile::TempDir) -> Self {
        let mut child = Command::new("qemu-system-x86_64")
            .args(["-accel", "tcg", "-m", "1024", "-nographic", "-monitor", "none"])
            .args(["-no-reboot", "-serial", "stdio", "-nodefaults"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("qemu-system-x86_64 must be installed (scripts/setup.sh installs it)");
        let output = Arc::new(Mutex::new(String::new()));
        let raw_output = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().unwrap();
        let (sink, raw_sink) = (output.clone(), raw_output.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut raw = raw_sink.lock().unwrap();
                raw.extend_from_slice(&buf[..n]);
                *sink.lock().unwrap() = clean(&raw);
            }
        });
        let stdin = child.stdin.take();
        Self { child, stdin, output, raw_output, _vars: vars_dir, started: Instant::now() }
    }

    /// Types `bytes` on the serial console (an arrow key is `\x1b[A`..`\x1b[D`).
    pub fn send(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("the serial console's input");
        stdin.write_all(bytes).and_then(|()| stdin.flush()).expect("typing on the serial console");
    }

    /// The console output so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// The serial output as it came, ANSI escape sequences included.
    pub fn raw_output(&self) -> Vec<u8> {
        self.raw_output.lock().unwrap().clone()
    }

    /// Waits until one of `markers` appears and the console line it is on has ended;
    /// returns the one that appeared first and when it appeared (since start). Panics with the console output on timeout or when QEMU exits
    /// first.
    pub fn wait_for(&mut self, markers: &[&str], timeout: Duration) -> (usize, Duration) {
        // The first marker seen, and whether the line it is on has ended (the serial port
        // delivers a line in pieces, and callers read what follows the marker).
        let first = |out: &str| {
            markers
                .iter()
                .enumerate()
                .filter_map(|(i, m)| out.find(m).map(|at| (at, i, out[at + m.len()..].contains('\n'))))
                .min()
                .map(|(_, i, ended)| (i, ended))
        };
        let deadline = Instant::now() + timeout;
        // When a marker was first seen: that is the time returned.
        let mut seen: Option<(Instant, Duration)> = None;
        loop {
            let out = self.output();
            if let Some((i, ended)) = first(&out) {
                let (at, since_start) = *seen.get_or_insert((Instant::now(), self.started.elapsed()));
                // A marker with no line end after it (a prompt) counts after a second.
                if ended || at.elapsed() > Duration::from_secs(1) {
                    return (i, since_start);
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(200));
                let out = self.output();
                if let Some((i, _)) = first(&out) {
                    return (i, self.started.elapsed());
                }
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("QEMU exited ({status}) before any of {markers:?}:\n{out}\n{err}");
            }
            if Instant::now() > deadline {
                panic!("none of {markers:?} within {timeout:?}:\n{out}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether QEMU exits (the guest powered off) within `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory as an EFI system partition on a virtio disk (the first boot device).
pub fn esp_media(esp: &Path) -> Vec<String> {
    vec![
        "-drive".into(),
        format!("file=fat:rw:{},format=raw,if=none,id=esp", esp.display()),
        "-device".into(),
        "virtio-blk-pci,drive=esp,bootindex=0".into(),
    ]
}

/// A raw disk image as a USB stick (the first boot device).
pub fn usb_media(disk: &Path) -> Vec<String> {
    vec![
        "-drive".into(),
        format!("if=none,id=stick,format=raw,file={}", disk.display()),
        "-device".into(),
        "qemu-xhci".into(),
        "-device".into(),
        "usb-storage,drive=stick,bootindex=0".into(),
    ]
}

/// An ISO image as a CD-ROM (the first boot device).
pub fn cdrom_media(iso: &Path) -> Vec<String> {
    vec![
        "-drive".into(),
        format!("if=none,id=cd,format=raw,media=cdrom,readonly=on,file={}", iso.display()),
        "-device".into(),
        "ide-cd,drive=cd,bootindex=0".into(),
    ]
}

/// A virtio NIC on netdev `n0` without an option ROM.
pub const PLAIN_NIC: &str = "virtio-net-pci,netdev=n0,romfile=";

/// What the test initramfs prints once Linux runs it.
pub const MARKER: &str = "BOOTSIGN-INITRAMFS-OK";
/// What the firmware prints when it gives up.
pub const REFUSED: &str = "nothing was booted";

/// Builds `NAME.efi` in `env` with `bootsign build` embedding `script` (`flags` are the
/// user's), boots it directly with `nic` (netdev `n0`) and `qemu_args`, and waits for the
/// initramfs marker (0) or the firmware's refusal (1); the console.
pub fn build_and_boot(
    env: &super::Env,
    name: &str,
    script: &str,
    flags: &[&str],
    nic: &str,
    qemu_args: &[&str],
) -> (usize, String) {
    std::fs::write(env.path(&format!("{name}.ipxe")), script).unwrap();
    let embed = format!("{name}.ipxe");
    let mut args = vec!["build", "--no-config", "--efi", "--embed", &embed, "--output-name", name, "-o", "."];
    args.extend_from_slice(flags);
    env.ok(&args);
    let mut qemu = Qemu::boot_efi_with(&env.path(&format!("{name}.efi")), nic, qemu_args);
    let (which, _) = qemu.wait_for(&[MARKER, REFUSED], Duration::from_secs(300));
    std::thread::sleep(Duration::from_millis(200));
    (which, qemu.output())
}

/// A software TPM 2.0 (swtpm) for one guest: its socket, and the process, killed on drop.
pub struct SoftTpm {
    child: Child,
    dir: tempfile::TempDir,
}

impl SoftTpm {
    /// Starts swtpm with a fresh state.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--tpmstate"])
            .arg(format!("dir={}", dir.path().display()))
            .arg("--ctrl")
            .arg(format!("type=unixio,path={}", dir.path().join("sock").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("swtpm must be installed (scripts/setup.sh installs it)");
        let sock = dir.path().join("sock");
        let start = Instant::now();
        while !sock.exists() && start.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(sock.exists(), "swtpm did not create its socket");
        Self { child, dir }
    }

    /// The QEMU arguments that attach it as a TIS TPM.
    pub fn qemu_args(&self) -> Vec<String> {
        vec![
            "-chardev".into(),
            format!("socket,id=chrtpm,path={}", self.dir.path().join("sock").display()),
            "-tpmdev".into(),
            "emulator,id=tpm0,chardev=chrtpm".into(),
            "-device".into(),
            "tpm-tis,tpmdev=tpm0".into(),
        ]
    }
}

impl Drop for SoftTpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a human monitor command on the QEMU monitor at `socket` (started with
/// `-monitor unix:SOCKET,server=on,wait=off`) and returns what it printed.
pub fn monitor(socket: &Path, command: &str) -> String {
    use std::os::unix::net::UnixStream;
    let mut s = UnixStream::connect(socket).expect("the QEMU monitor socket");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    // The banner and the first prompt, then the command and its prompt.
    for send in [None, Some(command)] {
        if let Some(c) = send {
            s.write_all(format!("{c}\n").as_bytes()).unwrap();
        }
        let start = out.len();
        while !String::from_utf8_lossy(&out[start..]).contains("(qemu)") {
            let n = s.read(&mut buf).expect("the QEMU monitor answers");
            assert!(n > 0, "the QEMU monitor closed");
            out.extend_from_slice(&buf[..n]);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
