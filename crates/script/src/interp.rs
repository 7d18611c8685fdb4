//! The interpreter: runs a script's lines as iPXE does, over a [`Machine`].
//!
//! A line's commands run as iPXE's `system()` runs them: each command's words are
//! expanded when it runs; after `||` the next runs only if the last one that ran failed,
//! after `&&` only if it succeeded, after `;` always; an empty command succeeds; the
//! line's result is that of the last command that ran, and a failed line ends the script
//! with that command's error. `goto` and `exit` end the line. The commands themselves are
//! in [`crate::commands`].

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::expand::expand;
use crate::gate::{self, Boot, Proof, Role, TrustPolicy};
use crate::image::Image;
use crate::lex::{Then, commands, lines};
use crate::settings::{Name, SettingType, Settings};

/// Deepest nesting of chained scripts.
pub const MAX_DEPTH: usize = 8;

/// The error of a run stopped by [`Interpreter::limit_commands`].
pub const COMMAND_LIMIT: &str = "stopped: the command limit was reached";

/// What the firmware provides to scripts.
pub trait Machine {
    /// Proof that an image's signature verified over its bytes (the firmware uses the PKI
    /// crate's `cms::Verified`, which nothing else can construct); the launch path
    /// re-checks the bytes against it ([`gate::Admitted::bytes`]).
    type Proof: Proof;
    /// What the machine records about an image when it fetches it; the default is what
    /// an image made from other bytes (`imgextract`) starts with.
    type Meta: Default;
    /// The `${platform}` setting, as iPXE names its platforms: `efi` or `pcbios`.
    const PLATFORM: &'static str = "efi";

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
    /// As [`Machine::fetch`], POSTing `form` (`application/x-www-form-urlencoded`, already
    /// encoded) to `uri`: iPXE's `URI##params`.
    fn fetch_form(
        &mut self,
        uri: &str,
        form: &[u8],
        timeout_ms: Option<u64>,
    ) -> Result<(Vec<u8>, Self::Meta), String> {
        let _ = (uri, form, timeout_ms);
        Err("this machine cannot POST forms".into())
    }
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
    /// `sanboot`: boots from the disk or CD image in `san` (admitted by the trust gate;
    /// its bytes through [`gate::Admitted::bytes`]) or, without one, from the local disk.
    /// Returns only if that failed (or what it started returned), with why.
    fn sanboot(&mut self, san: gate::San<'_, Self::Proof, Self::Meta>) -> String {
        let _ = san;
        "this machine cannot boot from disks".into()
    }
    /// `sanhook`: attaches the disk image in `san` for what starts next; returns a line
    /// saying where it is.
    fn sanhook(&mut self, san: gate::San<'_, Self::Proof, Self::Meta>) -> Result<String, String> {
        let _ = san;
        Err("this machine cannot attach disks".into())
    }
    /// Sets the clock from the SNTP server `server`: a name or IPv4 address, optionally
    /// with `:PORT` (an extension of iPXE's `ntp SERVER`, so a server need not own port
    /// 123). Returns a line for the console: the server, the time set, the correction.
    fn ntp(&mut self, server: &str) -> Result<String, String> {
        let _ = server;
        Err("this machine cannot set its clock".into())
    }
    /// The CPUID leaf `leaf` (EAX, EBX, ECX, EDX), or `None` where there is no CPUID.
    fn cpuid(&mut self, leaf: u32) -> Option<[u32; 4]> {
        let _ = leaf;
        None
    }
    /// Each network interface (`net0`, `net1`, ...) with what is known of it before any
    /// DHCP: `mac`, `chip`, ... (unscoped names), so `isset ${net1/mac}` works as in iPXE.
    fn interfaces(&mut self) -> Vec<(String, Vec<(String, String)>)> {
        Vec::new()
    }
    /// The SMBIOS structure table and its version, for the `smbios` settings (`uuid`,
    /// `serial`, `smbios/1.4.0`, ...); `None` where there is none.
    fn smbios(&mut self) -> Option<(Vec<u8>, (u8, u8))> {
        None
    }
    /// Waits at most `timeout_ms` (`None`: as long as it takes) for a key on the console;
    /// `None` when none came. A machine without console input returns `None` at once,
    /// which menus and prompts without a timeout report as such.
    fn key(&mut self, timeout_ms: Option<u64>) -> Option<crate::ui::Key> {
        let _ = timeout_ms;
        None
    }
    /// Clears the console (a menu redraws itself whole).
    fn clear_screen(&mut self) {}
    /// Shows what follows (and what `clear_screen` clears to) in these basic colours
    /// (0–7: black, red, green, yellow, blue, magenta, cyan, white; `None`: the console's
    /// default). A console without colours ignores it.
    fn colours(&mut self, foreground: Option<u8>, background: Option<u8>) {
        let _ = (foreground, background);
    }
    /// `console --x W --y H`: makes the console at least `width` × `height` pixels,
    /// choosing the smallest mode that is (as iPXE picks a framebuffer mode). Fails
    /// with what the console offers when none is that large.
    fn console_size(&mut self, width: u32, height: u32) -> Result<(), String> {
        let _ = (width, height);
        Err("this console has no modes to choose from".into())
    }
    /// Erases the `count` characters before the cursor (line editing in `read`).
    fn erase(&mut self, count: usize) {
        let _ = count;
    }
    /// One ICMP echo to `host` (sequence `seq`, `size` bytes of data) answered within
    /// `timeout_ms`: the address that answered, the reply's data size and the round trip
    /// in milliseconds; an error says why not (`timed out`).
    fn ping(
        &mut self,
        host: &str,
        seq: u16,
        size: usize,
        timeout_ms: u64,
    ) -> Result<(String, usize, u64), String> {
        let _ = (host, seq, size, timeout_ms);
        Err("this machine cannot ping".into())
    }
    /// The IPv4 address of `host` (a name looked up by DNS on the current interface), for
    /// `nslookup`.
    fn resolve(&mut self, host: &str) -> Result<String, String> {
        let _ = host;
        Err("this machine cannot look up names".into())
    }
    /// The first PCI function at or after `from` (iPXE's `busdevfn`: bus << 8 | device
    /// << 3 | function), for `pciscan`; `None` when there is none (or no PCI).
    fn pci_next(&self, from: u32) -> Option<u16> {
        let _ = from;
        None
    }
    /// `len` bytes of PCI function `busdevfn`'s configuration space from `offset`, in
    /// the order they lie there, for `${pci/BUSDEVFN.OFFSET.LENGTH}`.
    fn pci_read(&self, busdevfn: u16, offset: u8, len: u8) -> Option<Vec<u8>> {
        let _ = (busdevfn, offset, len);
        None
    }
    /// Milliseconds from an arbitrary start, for `time`; `None` when the machine has no
    /// clock.
    fn now_ms(&self) -> Option<u64> {
        None
    }
    /// The time, in seconds since the Unix epoch, for iPXE's `${unixtime}`; `None` when
    /// the machine has no clock.
    fn unix_time(&self) -> Option<u64> {
        None
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

/// A setting found: the scope it is in (`None`: the global settings), its bytes, and
/// the type it is read as.
pub(crate) struct Located {
    pub(crate) scope: Option<String>,
    pub(crate) raw: Vec<u8>,
    pub(crate) ty: SettingType,
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

/// What a command asks of the line and script around it.
pub(crate) enum Flow {
    /// Go on.
    Next,
    /// Continue at this line index (the first line with the label, found by `goto`).
    Goto(usize),
    /// End the script with this status.
    Exit(i32),
}

/// A command's result: a failure carries its message (empty for a condition that is
/// simply false, which has nothing to report).
pub(crate) type Outcome = Result<Flow, String>;

/// Runs scripts against a [`Machine`].
pub struct Interpreter<M: Machine> {
    /// The machine.
    pub machine: M,
    pub(crate) settings: Settings,
    pub(crate) images: Vec<Image<M::Proof, M::Meta>>,
    pub(crate) trust: TrustPolicy,
    depth: usize,
    /// The interface DHCP last configured (`netX`): unscoped names fall back to its
    /// settings.
    pub(crate) netdev: String,
    /// The labels of the script running now, with their line indexes.
    labels: Vec<(String, usize)>,
    /// The parameter lists `params` made, by name (`""` for the unnamed one), for
    /// `URI##params[=NAME]`.
    pub(crate) params: Vec<(String, Vec<(String, String)>)>,
    /// The menus `menu` made, by name (`""` for the unnamed one).
    pub(crate) menus: Vec<(String, crate::ui::menu::Menu)>,
    /// The settings each interface's last DHCP stored, by interface (replaced whole by
    /// its next DHCP).
    pub(crate) leases: Vec<(String, Vec<String>)>,
    /// The colours `colour` and `cpair` defined.
    pub(crate) palette: crate::ui::colour::Palette,
    /// Whether the interfaces' own settings were asked for yet.
    interfaces_known: bool,
    /// The SMBIOS table and version the machine gave at the start.
    smbios: Option<(Vec<u8>, (u8, u8))>,
    /// Commands left before the run stops (`None`: no limit), for tests and fuzzing,
    /// where a script's menu loop would otherwise run for ever.
    budget: Option<usize>,
}

/// The number of an interface name (`net1` is 1), or `None` for anything else.
pub fn interface_index(name: &str) -> Option<usize> {
    let digits = name.strip_prefix("net")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl<M: Machine> Interpreter<M> {
    /// An interpreter with `trust` in force from the start.
    pub fn new(mut machine: M, trust: TrustPolicy) -> Self {
        let smbios = machine.smbios();
        let mut settings = Settings::default();
        for (name, value) in
            [("platform", M::PLATFORM), ("buildarch", "x86_64"), ("version", env!("CARGO_PKG_VERSION"))]
        {
            settings.store(None, name, value.as_bytes().to_vec(), SettingType::String);
        }
        Self {
            machine,
            settings,
            images: Vec::new(),
            trust,
            depth: 0,
            netdev: "net0".to_string(),
            labels: Vec::new(),
            palette: Default::default(),
            leases: Vec::new(),
            menus: Vec::new(),
            params: Vec::new(),
            smbios,
            interfaces_known: false,
            budget: None,
        }
    }

    /// Stops any run after `commands` more commands, with the error
    /// [`COMMAND_LIMIT`] (for tests and fuzzing: a menu loop never ends by itself).
    pub fn limit_commands(&mut self, commands: usize) {
        self.budget = Some(commands);
    }

    /// The current trust policy.
    pub fn trust(&self) -> TrustPolicy {
        self.trust
    }

    /// The scope a name's scope part means: `netX` is the interface last used.
    pub(crate) fn scope<'a>(&'a self, scope: Option<&'a str>) -> Option<&'a str> {
        match scope {
            Some("netX") => Some(self.netdev.as_str()),
            other => other,
        }
    }

    /// A setting's text, as `${reference}` expands: `[scope/]name[:type]`. An unscoped
    /// name is looked for among the global settings, then the interface last used,
    /// then every other scope in order, `proxydhcp` last (as iPXE searches its settings
    /// blocks).
    pub fn setting(&self, reference: &str) -> Option<String> {
        let name = Name::parse(reference).ok()?;
        let found = self.locate(&name)?;
        found.ty.format(&found.raw).ok()
    }

    /// Where a setting is found (see [`Self::setting`]), with its bytes and the type it
    /// is read as (asked for, else its own).
    pub(crate) fn locate(&self, name: &Name<'_>) -> Option<Located> {
        let stored = match self.scope(name.scope) {
            Some(scope) => self.settings.get(Some(scope), name.name).map(|v| (Some(String::from(scope)), v)),
            None => self
                .settings
                .get(None, name.name)
                .map(|v| (None, v))
                .or_else(|| {
                    self.settings.get(Some(&self.netdev), name.name).map(|v| (Some(self.netdev.clone()), v))
                })
                .or_else(|| {
                    // Every other scope in order, ProxyDHCP's last: iPXE registers the
                    // interfaces (with their DHCP leases) before the `proxydhcp` block.
                    let other = |proxy: bool| {
                        self.settings.iter().find_map(|(k, v)| match k.split_once('/') {
                            Some((scope, n)) if n == name.name && (scope == "proxydhcp") == proxy => {
                                Some((Some(String::from(scope)), v))
                            }
                            _ => None,
                        })
                    };
                    other(false).or_else(|| other(true))
                }),
        };
        match stored {
            Some((scope, value)) => {
                Some(Located { scope, raw: value.raw.clone(), ty: name.ty.unwrap_or(value.ty) })
            }
            // iPXE's built-in `unixtime`, read when it is expanded (a uint32, as there).
            None if name.scope.is_none() && name.name == "unixtime" => {
                let now = u32::try_from(self.machine.unix_time()?).ok()?;
                Some(Located {
                    scope: None,
                    raw: now.to_be_bytes().to_vec(),
                    ty: name.ty.unwrap_or(SettingType::Uint(4)),
                })
            }
            None if matches!(name.scope, None | Some("smbios")) => self.smbios_setting(name),
            None if name.scope == Some("pci") => self.pci_setting(name),
            None => None,
        }
    }

    /// `${pci/BUSDEVFN.OFFSET.LENGTH}`, as iPXE reads it: the dotted numbers make the tag
    /// `busdevfn << 16 | offset << 8 | length` (each part shifted in by 8 bits), and the
    /// bytes are read from configuration space last first, so a little-endian register
    /// reads as a number (`hexraw` unless a type is given: `${pci/${loc}.0.2}` is the
    /// vendor ID, `8086`).
    fn pci_setting(&self, name: &Name<'_>) -> Option<Located> {
        let mut tag: u64 = 0;
        for part in name.name.split('.') {
            tag = tag.checked_shl(8)? | crate::settings::strtoul(part).filter(|_| !part.is_empty())?;
        }
        let (busdevfn, offset, len) = ((tag >> 16) as u16, (tag >> 8) as u8, tag as u8);
        let mut raw = self.machine.pci_read(busdevfn, offset, len)?;
        raw.reverse();
        Some(Located { scope: Some("pci".into()), raw, ty: name.ty.unwrap_or(SettingType::HexRaw) })
    }

    /// An `smbios` setting, as iPXE reads it: a named one (`uuid`, `manufacturer`,
    /// `product`, `serial`, `asset`, `board-serial`), or with the `smbios/` scope a
    /// numbered field (`smbios/TYPE.OFFSET.LENGTH`).
    fn smbios_setting(&self, name: &Name<'_>) -> Option<Located> {
        let (table, version) = self.smbios.as_ref()?;
        let (tag, uuid) = match bootsign_smbios::Tag::named(name.name) {
            Some(named) => named,
            None if name.scope == Some("smbios") => (bootsign_smbios::Tag::parse(name.name)?, false),
            None => return None,
        };
        let default = if uuid { Some(SettingType::Uuid) } else { None };
        let wanted = name.ty.or(default);
        let table = bootsign_smbios::Table::new(table, *version);
        let (raw, is_string) =
            table.read(tag, matches!(wanted, Some(SettingType::Uuid | SettingType::Guid)))?;
        let ty = wanted.unwrap_or(if is_string { SettingType::String } else { SettingType::Hex });
        Some(Located { scope: Some("smbios".into()), raw, ty })
    }

    /// Sets `reference` (`[scope/]name[:type]`) from text, as `set` does; empty text
    /// deletes it.
    pub fn set(&mut self, reference: &str, value: &str) {
        if let Ok(name) = Name::parse(reference) {
            let scope = self.scope(name.scope).map(String::from);
            // A value the type refuses is kept as text rather than lost.
            if self.settings.store_text(scope.as_deref(), name.name, name.ty, value).is_err() {
                self.settings.store(
                    scope.as_deref(),
                    name.name,
                    value.as_bytes().to_vec(),
                    SettingType::String,
                );
            }
        }
    }

    /// Stores `raw` as setting `name` (its scope mapped, `netX` included), typed as the
    /// name says, else `default`.
    pub(crate) fn store_raw(&mut self, name: &Name<'_>, raw: Vec<u8>, default: SettingType) {
        let scope = self.scope(name.scope).map(String::from);
        self.settings.store(scope.as_deref(), name.name, raw, name.ty.unwrap_or(default));
    }

    /// The loaded images.
    pub fn images(&self) -> &[Image<M::Proof, M::Meta>] {
        &self.images
    }

    /// The index of the running script's first line labelled `name`, as iPXE searches
    /// from the start.
    pub(crate) fn label(&self, name: &str) -> Option<usize> {
        self.labels.iter().find(|(l, _)| l == name).map(|&(_, i)| i)
    }

    /// Runs a script. `uri` is where it came from (relative URIs resolve against it).
    /// Returns the `exit` code (0 when the script ran to its end).
    pub fn run(&mut self, script: &str, uri: Option<&str>) -> Result<i32, ScriptError> {
        if let Some(u) = uri {
            self.set("cwuri", u);
        }
        if !self.interfaces_known {
            self.interfaces_known = true;
            for (iface, settings) in self.machine.interfaces() {
                for (name, value) in settings {
                    if self.settings.get(Some(&iface), &name).is_none() {
                        self.set(&format!("{iface}/{name}"), &value);
                    }
                }
            }
        }
        let lines = lines(script);
        let labels =
            lines.iter().enumerate().filter_map(|(i, l)| l.label.clone().map(|label| (label, i))).collect();
        let outer = core::mem::replace(&mut self.labels, labels);
        let result = self.run_lines(&lines);
        self.labels = outer;
        result
    }

    fn run_lines(&mut self, lines: &[crate::lex::Line]) -> Result<i32, ScriptError> {
        let mut pc = 0;
        while let Some(line) = lines.get(pc) {
            let fail = |message: String| ScriptError {
                line: line.number,
                command: line.command.trim_matches(crate::lex::is_space).to_string(),
                message: if message.is_empty() { "condition is false".into() } else { message },
            };
            match self.line(&line.command).map_err(fail)? {
                Flow::Next => pc += 1,
                Flow::Exit(rc) => return Ok(rc),
                Flow::Goto(index) => pc = index,
            }
        }
        Ok(0)
    }

    /// Takes one command from the budget ([`Self::limit_commands`]).
    pub(crate) fn spend(&mut self) -> Result<(), String> {
        if let Some(left) = &mut self.budget {
            if *left == 0 {
                return Err(COMMAND_LIMIT.into());
            }
            *left -= 1;
        }
        Ok(())
    }

    /// Runs one line's commands.
    pub(crate) fn line(&mut self, text: &str) -> Outcome {
        let mut last: Outcome = Ok(Flow::Next);
        let mut run = true;
        for cmd in commands(text) {
            if run && !cmd.words.is_empty() {
                self.spend()?;
                // Expanded when it runs, so an earlier command's `set` counts.
                let argv: Vec<String> = cmd.words.iter().map(|w| expand(w, &|n| self.setting(n))).collect();
                last = self.command(&argv);
                // A failure handled by `||` is still reported; conditions fail silently.
                if let (Err(e), Some(Then::OnFailure)) = (&last, cmd.then)
                    && !e.is_empty()
                {
                    self.machine.print(&format!("{}: {e}\n", argv[0]));
                }
            } else if run {
                // An empty command succeeds.
                last = Ok(Flow::Next);
            }
            if matches!(last, Ok(Flow::Goto(_)) | Ok(Flow::Exit(_))) {
                return last;
            }
            run = match cmd.then {
                Some(Then::OnFailure) => last.is_err(),
                Some(Then::OnSuccess) => last.is_ok(),
                Some(Then::Always) => true,
                None => break,
            };
        }
        last
    }

    /// Resolves a possibly relative URI against the current script's.
    pub(crate) fn resolve(&self, uri: &str) -> String {
        if uri.contains("://") {
            return uri.to_string();
        }
        match self.setting("cwuri").as_deref().map(bootsign_http::Url::parse) {
            Some(Ok(base)) => base.join(uri),
            _ => uri.to_string(),
        }
    }

    /// Runs image `index`: a script is interpreted, anything else is booted. The trust
    /// gate decides both ([`gate::admit`], [`gate::boot`]).
    pub(crate) fn execute(&mut self, index: usize) -> Outcome {
        let img = &self.images[index];
        let admitted = gate::admit(&self.trust, img, Role::Program)?;
        if img.data.starts_with(b"#!ipxe") || img.data.starts_with(b"#!gpxe") {
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
                Err(e) => Err(format!("in {}: {e}", bootsign_http::url::redact(&uri))),
            };
        }
        let boot: Boot<'_, M::Proof, M::Meta> = gate::boot(&self.trust, &self.images[index], &self.images)?;
        Err(self.machine.boot(boot))
    }
}
