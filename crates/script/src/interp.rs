//! The interpreter: settings, the image list, `imgtrust`, and the commands.
//!
//! Commands: `echo [-n]`, `set`, `clear`, `isset`, `iseq`, `goto`, `exit`, `sleep`,
//! `dhcp`/`ifconf`, `ifopen`, `ifclose`, `ifstat`, `kernel`/`imgselect`,
//! `imgfetch`/`module`, `initrd`, `chain`/`imgexec`, `boot`, `imgverify`, `imgtrust`,
//! `imgfree`, `imgstat`, `ntp`, `reboot`, `poweroff`. A failing command ends the script with
//! its error unless `||` follows it; `&&` runs the next command only after a success.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::gate::{self, Boot, Proof, Role, TrustPolicy};
use crate::image::{Image, ImageKind};
use crate::lex::{Line, expand, lines, tokens};

/// Deepest nesting of chained scripts.
pub const MAX_DEPTH: usize = 8;

/// What the firmware provides to scripts.
pub trait Machine {
    /// Proof that an image's signature verified over its bytes (the firmware uses the PKI
    /// crate's `cms::Verified`, which nothing else can construct); the launch path
    /// re-checks the bytes against it ([`gate::Admitted::bytes`]).
    type Proof: Proof;
    /// What the machine records about an image when it fetches it.
    type Meta;

    /// Writes text to the console (no newline added).
    fn print(&mut self, text: &str);
    /// Configures `iface` by DHCP; returns the settings learnt (`ip`, `netmask`,
    /// `gateway`, `dns`, `next-server`, `filename`, `mac`, ...), unscoped names.
    fn dhcp(&mut self, iface: &str) -> Result<Vec<(String, String)>, String>;
    /// `dhcp` without an interface: configures the first interface that gets an answer
    /// (iPXE tries them all) and returns its name with the settings. By default, net0.
    fn dhcp_any(&mut self) -> Result<(String, Vec<(String, String)>), String> {
        self.dhcp("net0").map(|settings| ("net0".to_string(), settings))
    }
    /// Opens, closes or describes an interface.
    fn interface(&mut self, command: &str, iface: &str) -> Result<(), String>;
    /// Downloads `uri` completely, within `timeout_ms` if given (`--timeout`, as in iPXE:
    /// the whole download, retries included). The metadata travels with the image (the
    /// firmware keeps the digests it computed while the bytes arrived).
    fn fetch(&mut self, uri: &str, timeout_ms: Option<u64>) -> Result<(Vec<u8>, Self::Meta), String>;
    /// Verifies a detached signature over `data` (fetched with `meta`), for a signer
    /// named `signer` if given. Returns the proof and a one-line description of the signer.
    fn verify(
        &mut self,
        data: &[u8],
        meta: &Self::Meta,
        signature: &[u8],
        signer: Option<&str>,
    ) -> Result<(Self::Proof, String), String>;
    /// Verifies the signature `data` carries itself (Authenticode, for a PE image: a
    /// kernel or UKI signed once for Secure Boot and for this check), for a signer named
    /// `signer` if given. Returns the proof (over `data`) and a description of the signer.
    fn verify_embedded(
        &mut self,
        data: &[u8],
        meta: &Self::Meta,
        signer: Option<&str>,
    ) -> Result<(Self::Proof, String), String> {
        let _ = (data, meta, signer);
        Err("this machine cannot check signatures embedded in images".into())
    }
    /// Starts `boot.image` (an EFI program or Linux kernel) with its command line and
    /// initrds, taking each one's bytes through [`gate::Admitted::bytes`]. Returns only
    /// if starting failed (or the program returned), with why.
    fn boot(&mut self, boot: Boot<'_, Self::Proof, Self::Meta>) -> String;
    /// Sets the clock from the SNTP server `server`: a name or IPv4 address, optionally
    /// with `:PORT` (an extension of iPXE's `ntp SERVER`, so a server need not own port
    /// 123). Returns a line for the console: the server, the time set, the correction.
    fn ntp(&mut self, server: &str) -> Result<String, String> {
        let _ = server;
        Err("this machine cannot set its clock".into())
    }
    /// Waits.
    fn sleep(&mut self, seconds: u64);
    /// Resets the machine; returns only on failure.
    fn reboot(&mut self) -> String;
    /// Powers off; returns only on failure.
    fn poweroff(&mut self) -> String;
    /// The script set (`Some`) or cleared (`None`) a setting the machine may act on,
    /// such as `dns` (the name server for later lookups). Names come unscoped
    /// (`net0/dns` arrives as `dns`, as does `net1/dns`). An error is the command's error.
    fn setting_changed(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
        let _ = (name, value);
        Ok(())
    }
}

/// A script failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    /// Line number (from 1) in the script that failed.
    pub line: usize,
    /// The command, as written.
    pub command: String,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.command, self.message)
    }
}

/// A word of a line after splitting: an argument (settings expanded) or an operator.
enum Word {
    Arg(String),
    Or,
    And,
}

enum Flow {
    Next,
    Goto(String),
    Exit(i32),
}

type Outcome = Result<Flow, String>;

/// Runs scripts against a [`Machine`].
pub struct Interpreter<M: Machine> {
    /// The machine.
    pub machine: M,
    settings: BTreeMap<String, String>,
    images: Vec<Image<M::Proof, M::Meta>>,
    trust: TrustPolicy,
    depth: usize,
    /// The interface DHCP last configured: unscoped names fall back to its settings.
    netdev: String,
}

/// The number of an interface name (`net1` is 1), or `None` for anything else.
pub fn interface_index(name: &str) -> Option<usize> {
    let digits = name.strip_prefix("net")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `name` without an interface scope (`net0/dns` is `dns`).
fn unscoped(name: &str) -> &str {
    match name.split_once('/') {
        Some((scope, rest)) if interface_index(scope).is_some() => rest,
        _ => name,
    }
}

/// The last path segment of a URI, the default image name.
/// The value of `--timeout`: milliseconds, more than zero.
fn timeout_ms(value: &str) -> Result<u64, String> {
    value
        .parse::<u64>()
        .ok()
        .filter(|&ms| ms > 0)
        .ok_or_else(|| format!("--timeout: '{value}' is not a number of milliseconds"))
}

fn basename(uri: &str) -> String {
    let path = uri.split(['?', '#']).next().unwrap_or(uri);
    let name = path.trim_end_matches('/').rsplit('/').next().unwrap_or(path);
    if name.is_empty() { "image".into() } else { name.into() }
}

impl<M: Machine> Interpreter<M> {
    /// An interpreter with `trust` in force from the start.
    pub fn new(machine: M, trust: TrustPolicy) -> Self {
        let mut settings = BTreeMap::new();
        settings.insert("platform".to_string(), "efi".to_string());
        settings.insert("buildarch".to_string(), "x86_64".to_string());
        Self { machine, settings, images: Vec::new(), trust, depth: 0, netdev: "net0".to_string() }
    }

    /// The current trust policy.
    pub fn trust(&self) -> TrustPolicy {
        self.trust
    }

    /// A setting: `name` as given, else that of the interface DHCP last configured
    /// (`net0/name` until then).
    pub fn setting(&self, name: &str) -> Option<String> {
        self.settings.get(name).or_else(|| self.settings.get(&format!("{}/{name}", self.netdev))).cloned()
    }

    /// Sets a setting.
    pub fn set(&mut self, name: &str, value: &str) {
        self.settings.insert(name.to_string(), value.to_string());
    }

    /// The loaded images.
    pub fn images(&self) -> &[Image<M::Proof, M::Meta>] {
        &self.images
    }

    /// Runs a script. `uri` is where it came from (relative URIs resolve against it).
    /// Returns the `exit` code (0 when the script ran to its end).
    pub fn run(&mut self, script: &str, uri: Option<&str>) -> Result<i32, ScriptError> {
        if let Some(u) = uri {
            self.set("cwuri", u);
        }
        let lines = lines(script);
        let mut pc = 0;
        while pc < lines.len() {
            let Line::Command(raw) = lines[pc] else {
                pc += 1;
                continue;
            };
            let fail = |message: String| ScriptError {
                line: pc + 1,
                command: raw.to_string(),
                message: if message.is_empty() { "condition is false".into() } else { message },
            };
            // Split first, expand after: a setting's value is never parsed as syntax.
            let words: Vec<Word> = tokens(raw)
                .map_err(|_| fail("unclosed quote".into()))?
                .into_iter()
                .map(|t| match (t.quoted, t.text.as_str()) {
                    (false, "||") => Word::Or,
                    (false, "&&") => Word::And,
                    _ => Word::Arg(expand(&t.text, &|n| self.setting(n))),
                })
                .collect();
            match self.line(&words).map_err(fail)? {
                Flow::Next => pc += 1,
                Flow::Exit(rc) => return Ok(rc),
                Flow::Goto(label) => {
                    pc = lines
                        .iter()
                        .position(|l| *l == Line::Label(&label))
                        .ok_or_else(|| fail(format!("no label ':{label}' in this script")))?;
                }
            }
        }
        Ok(0)
    }

    /// Runs one line's commands joined by `||` and `&&`.
    fn line(&mut self, words: &[Word]) -> Outcome {
        let mut commands: Vec<(Vec<String>, Option<&str>)> = Vec::new();
        let mut argv = Vec::new();
        for w in words {
            match w {
                Word::Arg(a) => argv.push(a.clone()),
                Word::Or => commands.push((core::mem::take(&mut argv), Some("||"))),
                Word::And => commands.push((core::mem::take(&mut argv), Some("&&"))),
            }
        }
        commands.push((argv, None));
        if commands.len() > 1 && commands.iter().any(|(argv, _)| argv.is_empty()) {
            return Err("missing command around || or &&".into());
        }
        let mut last: Outcome = Ok(Flow::Next);
        let mut run_next = true;
        for (argv, op) in commands {
            if run_next && !argv.is_empty() {
                last = self.command(&argv);
                // A handled failure is still reported; conditions fail silently.
                if let (Err(e), Some("||")) = (&last, op)
                    && !e.is_empty()
                {
                    self.machine.print(&format!("{}: {e}\n", argv[0]));
                }
            }
            if matches!(last, Ok(Flow::Goto(_)) | Ok(Flow::Exit(_))) {
                return last;
            }
            run_next = match op {
                Some("||") => last.is_err(),
                Some("&&") => last.is_ok(),
                _ => false,
            };
            if op == Some("||") && last.is_err() {
                last = Ok(Flow::Next);
            }
        }
        last
    }

    fn command(&mut self, argv: &[String]) -> Outcome {
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        match argv[0].as_str() {
            "echo" => {
                let (newline, words) = match args.first() {
                    Some(&"-n") => (false, &args[1..]),
                    _ => (true, &args[..]),
                };
                let mut text = words.join(" ");
                if newline {
                    text.push('\n');
                }
                self.machine.print(&text);
                Ok(Flow::Next)
            }
            "set" => {
                let name = args.first().ok_or("usage: set NAME VALUE")?;
                let value = args[1..].join(" ");
                self.machine.setting_changed(unscoped(name), Some(&value))?;
                self.set(name, &value);
                Ok(Flow::Next)
            }
            "clear" => {
                let name = args.first().ok_or("usage: clear NAME")?;
                self.machine.setting_changed(unscoped(name), None)?;
                self.settings.remove(*name);
                Ok(Flow::Next)
            }
            // Conditions fail with an empty message: nothing to report when `||` handles them.
            "isset" => match args.first() {
                Some(v) if !v.is_empty() => Ok(Flow::Next),
                _ => Err(String::new()),
            },
            "iseq" => match args.as_slice() {
                [a, b] if a == b => Ok(Flow::Next),
                [_, _] => Err(String::new()),
                _ => Err("usage: iseq VALUE VALUE".into()),
            },
            "goto" => Ok(Flow::Goto(args.first().ok_or("usage: goto LABEL")?.to_string())),
            "exit" => {
                Ok(Flow::Exit(args.first().map_or(Ok(0), |c| c.parse().map_err(|_| "usage: exit [CODE]"))?))
            }
            "sleep" => {
                let secs = args.first().and_then(|s| s.parse().ok()).ok_or("usage: sleep SECONDS")?;
                self.machine.sleep(secs);
                Ok(Flow::Next)
            }
            "dhcp" | "ifconf" => {
                let (iface, learnt) = match args.iter().find(|a| !a.starts_with('-')) {
                    Some(iface) => (iface.to_string(), self.machine.dhcp(iface)?),
                    None => self.machine.dhcp_any()?,
                };
                for (name, value) in learnt {
                    self.set(&format!("{iface}/{name}"), &value);
                }
                self.netdev = iface;
                Ok(Flow::Next)
            }
            "ifopen" | "ifclose" | "ifstat" => {
                let iface = args.first().copied().unwrap_or("net0");
                self.machine.interface(&argv[0], iface)?;
                Ok(Flow::Next)
            }
            "kernel" | "imgselect" | "imgload" => self.load(&args, ImageKind::Executable).map(|_| Flow::Next),
            "imgfetch" | "module" => {
                let kind = if argv[0] == "module" { ImageKind::Module } else { ImageKind::Other };
                self.load(&args, kind).map(|_| Flow::Next)
            }
            "initrd" => self.load(&args, ImageKind::Initrd).map(|_| Flow::Next),
            "chain" | "imgexec" => {
                let index = self.load(&args, ImageKind::Executable)?;
                self.execute(index)
            }
            "boot" => {
                let index = match args.iter().find(|a| !a.starts_with('-')) {
                    Some(name) => self.find(name)?,
                    None => self
                        .images
                        .iter()
                        .rposition(|i| i.kind == ImageKind::Executable)
                        .ok_or("no kernel or executable image loaded")?,
                };
                self.execute(index)
            }
            "imgverify" => self.imgverify(&args),
            "imgtrust" => self.imgtrust(&args),
            "imgfree" => {
                match args.first() {
                    Some(name) => {
                        let i = self.find(name)?;
                        self.images.remove(i);
                    }
                    None => self.images.clear(),
                }
                Ok(Flow::Next)
            }
            "imgstat" => {
                let mut text = String::new();
                for img in &self.images {
                    let kind = match img.kind {
                        ImageKind::Executable => "[SELECTED]",
                        ImageKind::Initrd => "[INITRD]",
                        ImageKind::Module => "[MODULE]",
                        ImageKind::Other => "",
                    };
                    let trust = if img.proof.is_some() { "[VERIFIED]" } else { "" };
                    text.push_str(&format!(
                        "{} : {} bytes {kind}{trust} {}\n",
                        img.name,
                        img.data.len(),
                        img.cmdline
                    ));
                }
                self.machine.print(&text);
                Ok(Flow::Next)
            }
            "ntp" => {
                let [server] = args.as_slice() else { return Err("usage: ntp SERVER[:PORT]".into()) };
                let said = self.machine.ntp(server)?;
                self.machine.print(&format!("{said}\n"));
                Ok(Flow::Next)
            }
            "reboot" => Err(self.machine.reboot()),
            "poweroff" => Err(self.machine.poweroff()),
            other => Err(format!("unknown command '{other}'")),
        }
    }

    /// Resolves a possibly relative URI against the current script's.
    fn resolve(&self, uri: &str) -> String {
        if uri.contains("://") {
            return uri.to_string();
        }
        match self.setting("cwuri").as_deref().map(bootsign_http::Url::parse) {
            Some(Ok(base)) => base.join(uri),
            _ => uri.to_string(),
        }
    }

    fn find(&self, name: &str) -> Result<usize, String> {
        self.images
            .iter()
            .rposition(|i| i.name == name)
            .ok_or_else(|| format!("no image named '{name}' (see imgstat)"))
    }

    /// `kernel`, `initrd`, ...: `[--name NAME] [--autofree] [--timeout MS] URI [ARGS...]`;
    /// `--timeout` bounds the whole download.
    fn load(&mut self, args: &[&str], kind: ImageKind) -> Result<usize, String> {
        let mut name = None;
        let mut timeout = None;
        let mut rest = args;
        loop {
            match rest {
                ["--name" | "-n", n, tail @ ..] => {
                    name = Some(n.to_string());
                    rest = tail;
                }
                ["--timeout" | "-t", ms, tail @ ..] => {
                    timeout = Some(timeout_ms(ms)?);
                    rest = tail;
                }
                ["--autofree" | "-a" | "--replace" | "-r", tail @ ..] => rest = tail,
                _ => break,
            }
        }
        let (uri, cmdline) = rest.split_first().ok_or("usage: URI [ARGUMENTS...]")?;
        let uri = self.resolve(uri);
        let (data, meta) = self.machine.fetch(&uri, timeout).map_err(|e| format!("{uri}: {e}"))?;
        let name = name.unwrap_or_else(|| basename(&uri));
        if kind == ImageKind::Executable {
            // Selecting a new image to boot demotes the previous one.
            for img in self.images.iter_mut().filter(|i| i.kind == ImageKind::Executable) {
                img.kind = ImageKind::Other;
            }
        }
        self.images.retain(|i| i.name != name);
        self.images.push(Image { name, uri, data, cmdline: cmdline.join(" "), kind, proof: None, meta });
        Ok(self.images.len() - 1)
    }

    /// `imgverify [--signer NAME] [--keep] IMAGE SIGNATURE`.
    fn imgverify(&mut self, args: &[&str]) -> Outcome {
        let mut signer = None;
        let mut timeout = None;
        let mut keep = false;
        let mut rest = args;
        loop {
            match rest {
                ["--signer" | "-s", n, tail @ ..] => {
                    signer = Some(*n);
                    rest = tail;
                }
                ["--timeout" | "-t", ms, tail @ ..] => {
                    timeout = Some(timeout_ms(ms)?);
                    rest = tail;
                }
                ["--keep" | "-k", tail @ ..] => {
                    keep = true;
                    rest = tail;
                }
                _ => break,
            }
        }
        let (image, signature) = match rest {
            [image, signature] => (*image, Some(*signature)),
            // The image's own (Authenticode) signature.
            [image] => (*image, None),
            _ => return Err("usage: imgverify [--signer NAME] IMAGE [SIGNATURE]".into()),
        };
        let Some(signature) = signature else {
            let index = self.find(image)?;
            // An embedded signature vouches for a program (what a PE loader runs), not for
            // bytes handed over whole.
            if self.images[index].kind != ImageKind::Executable {
                return Err(format!(
                    "image '{image}' is not the selected kernel or program: only that can be verified by its \
                     embedded signature; give a detached signature (imgverify {image} SIGNATURE)"
                ));
            }
            let (proof, who) = self
                .machine
                .verify_embedded(&self.images[index].data, &self.images[index].meta, signer)
                .map_err(|e| format!("image '{image}' was not verified: {e}"))?;
            self.machine.print(&format!("{image}: embedded signature verified ({who})\n"));
            self.images[index].proof = Some(proof);
            return Ok(Flow::Next);
        };
        let index = self.find(image)?;
        let sig_data = match self.find(signature) {
            Ok(i) if keep => self.images[i].data.clone(),
            Ok(i) => self.images.remove(i).data,
            Err(_) => {
                let uri = self.resolve(signature);
                self.machine.fetch(&uri, timeout).map_err(|e| format!("{uri}: {e}"))?.0
            }
        };
        // Removing a signature image may have moved the image.
        let index = if index < self.images.len() && self.images[index].name == image {
            index
        } else {
            self.find(image)?
        };
        let (proof, who) = self
            .machine
            .verify(&self.images[index].data, &self.images[index].meta, &sig_data, signer)
            .map_err(|e| format!("image '{image}' was not verified: {e}"))?;
        self.machine.print(&format!("{image}: signature verified ({who})\n"));
        self.images[index].proof = Some(proof);
        Ok(Flow::Next)
    }

    /// `imgtrust [--allow] [--permanent] [--all]`.
    fn imgtrust(&mut self, args: &[&str]) -> Outcome {
        let mut allow = false;
        for a in args {
            match *a {
                "--allow" | "-a" => allow = true,
                "--permanent" | "-p" => self.trust.permanent = true,
                "--all" | "--initrd" => self.trust.all_images = true,
                other => return Err(format!("unknown option '{other}'")),
            }
        }
        if allow {
            if self.trust.permanent {
                return Err("image trust requirements were made permanent and cannot be relaxed".into());
            }
            self.trust.required = false;
            self.trust.all_images = false;
        } else {
            self.trust.required = true;
        }
        Ok(Flow::Next)
    }

    /// Runs image `index`: a script is interpreted, anything else is booted. The trust
    /// gate decides both ([`gate::admit`], [`gate::boot`]).
    fn execute(&mut self, index: usize) -> Outcome {
        let img = &self.images[index];
        let admitted = gate::admit(&self.trust, img, Role::Program)?;
        if img.data.starts_with(b"#!ipxe") {
            if self.depth >= MAX_DEPTH {
                return Err(format!("scripts chained more than {MAX_DEPTH} deep"));
            }
            let text = core::str::from_utf8(admitted.bytes()?.as_slice())
                .map_err(|_| "the script is not UTF-8 text")?
                .to_string();
            let uri = img.uri.clone();
            self.images.remove(index);
            self.depth += 1;
            let result = self.run(&text, Some(&uri));
            self.depth -= 1;
            return match result {
                Ok(0) => Ok(Flow::Next),
                Ok(rc) => Ok(Flow::Exit(rc)),
                Err(e) => Err(format!("in {uri}: {e}")),
            };
        }
        let boot: Boot<'_, M::Proof, M::Meta> = gate::boot(&self.trust, &self.images[index], &self.images)?;
        Err(self.machine.boot(boot))
    }
}
