//! The commands, by concern: control flow and conditions ([`control`]), settings
//! ([`settings`]), images and trust ([`images`]), network and machine ([`machine`]),
//! menus and prompts ([`ui`]), and what shows the state ([`inspect`]).
//! Each follows the iPXE command of the same name: its options, its arguments and when
//! it fails. An unknown command or option fails loudly, never silently differently.

mod control;
mod images;
mod inspect;
mod machine;
mod san;
mod settings;
mod ui;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::interp::{Interpreter, Machine, Outcome};
use crate::settings::strtoul;

/// An option: long name, short letter, whether it takes a value.
pub type Opt = (&'static str, char, bool);

/// What a command accepts: its options (before the operands, as iPXE's getopt reads
/// them) and how many operands. The interpreter and the script checker both go by this
/// table, so they cannot disagree.
#[derive(Debug)]
pub struct Spec {
    /// The command's name.
    pub name: &'static str,
    /// Its options.
    pub options: &'static [Opt],
    /// The fewest operands.
    pub min: usize,
    /// The most operands.
    pub max: usize,
    /// Its usage line.
    pub usage: &'static str,
}

const ANY: usize = usize::MAX;
/// The single-image commands' options (`kernel`, `chain`, ...).
const SINGLE: &[Opt] = &[
    ("name", 'n', true),
    ("timeout", 't', true),
    ("autofree", 'a', false),
    ("replace", 'r', false),
    ("quiet", 'q', false),
];

/// The options of `sanboot` and `sanhook`, as iPXE's.
const SAN: &[Opt] = &[
    ("drive", 'd', true),
    ("no-describe", 'n', false),
    ("keep", 'k', false),
    ("filename", 'f', true),
    ("extra", 'e', true),
    ("label", 'l', true),
    ("uuid", 'u', true),
];

macro_rules! spec {
    ($name:literal, $options:expr, $min:expr, $max:expr, $usage:literal) => {
        Spec { name: $name, options: $options, min: $min, max: $max, usage: $usage }
    };
}

/// Every command the interpreter runs.
pub const SPECS: &[Spec] = &[
    spec!("echo", &[("n", 'n', false)], 0, ANY, "echo [-n] [TEXT...]"),
    spec!("set", &[], 1, ANY, "set NAME [VALUE...]"),
    spec!("clear", &[], 1, 1, "clear NAME"),
    spec!("inc", &[], 1, 2, "inc NAME [INCREMENT]"),
    spec!("isset", &[], 1, 1, "isset VALUE"),
    spec!("iseq", &[], 2, 2, "iseq VALUE VALUE"),
    spec!("goto", &[], 1, 1, "goto LABEL"),
    spec!("time", &[], 1, ANY, "time COMMAND [ARGUMENTS...]"),
    spec!("help", &[], 0, 0, "help"),
    spec!("exit", &[], 0, 1, "exit [CODE]"),
    spec!("sleep", &[], 1, 1, "sleep SECONDS"),
    spec!(
        "cpuid",
        &[("ext", 'e', false), ("amd", 'a', false), ("ecx", 'c', false)],
        1,
        1,
        "cpuid [--ext] [--ecx] BIT"
    ),
    spec!("dhcp", &[("configurator", 'c', true), ("timeout", 't', true)], 0, 1, "dhcp [INTERFACE]"),
    spec!("ifconf", &[("configurator", 'c', true), ("timeout", 't', true)], 0, 1, "ifconf [INTERFACE]"),
    spec!("ifopen", &[], 0, 1, "ifopen [INTERFACE]"),
    spec!("ifclose", &[], 0, 1, "ifclose [INTERFACE]"),
    spec!("ifstat", &[], 0, 1, "ifstat [INTERFACE]"),
    spec!("kernel", SINGLE, 0, ANY, "kernel [--name NAME] [--timeout MS] NAME|URI [ARGUMENTS...]"),
    spec!("imgselect", SINGLE, 0, ANY, "imgselect [--name NAME] [--timeout MS] NAME|URI [ARGUMENTS...]"),
    spec!("imgload", SINGLE, 0, ANY, "imgload [--name NAME] [--timeout MS] NAME|URI [ARGUMENTS...]"),
    spec!("imgfetch", SINGLE, 1, ANY, "imgfetch [--name NAME] [--timeout MS] URI [ARGUMENTS...]"),
    spec!("module", SINGLE, 1, ANY, "module [--name NAME] [--timeout MS] URI [ARGUMENTS...]"),
    spec!("initrd", SINGLE, 1, ANY, "initrd [--name NAME] [--timeout MS] URI [ARGUMENTS...]"),
    spec!(
        "chain",
        SINGLE,
        0,
        ANY,
        "chain [--name NAME] [--timeout MS] [--autofree] [--replace] NAME|URI [ARGUMENTS...]"
    ),
    spec!(
        "imgexec",
        SINGLE,
        0,
        ANY,
        "imgexec [--name NAME] [--timeout MS] [--autofree] [--replace] [NAME|URI [ARGUMENTS...]]"
    ),
    spec!(
        "boot",
        SINGLE,
        0,
        ANY,
        "boot [--name NAME] [--timeout MS] [--autofree] [--replace] [NAME|URI [ARGUMENTS...]]"
    ),
    spec!("imgargs", &[], 1, ANY, "imgargs IMAGE [ARGUMENTS...]"),
    spec!(
        "shim",
        &[
            ("timeout", 't', true),
            ("quiet", 'q', false),
            ("require-loader", 'l', false),
            ("allow-pxe", 'p', false),
            ("allow-sbat", 's', false)
        ],
        0,
        1,
        "shim [--timeout MS] [--require-loader] [--allow-pxe] [--allow-sbat] [NAME|URI]"
    ),
    spec!(
        "imgverify",
        &[("signer", 's', true), ("keep", 'k', false), ("timeout", 't', true)],
        1,
        2,
        "imgverify [--signer NAME] [--keep] [--timeout MS] IMAGE [SIGNATURE]"
    ),
    spec!(
        "imgtrust",
        &[("allow", 'a', false), ("permanent", 'p', false), ("all", 'A', false), ("initrd", 'i', false)],
        0,
        0,
        "imgtrust [--allow] [--permanent] [--all]"
    ),
    spec!("imgfree", &[], 0, ANY, "imgfree [NAME...]"),
    spec!("imgstat", &[], 0, ANY, "imgstat [NAME...]"),
    spec!("ntp", &[], 1, 1, "ntp SERVER[:PORT]"),
    spec!(
        "menu",
        &[("name", 'n', true), ("delete", 'd', false)],
        0,
        ANY,
        "menu [--name NAME] [--delete] [TITLE]"
    ),
    spec!(
        "item",
        &[
            ("menu", 'm', true),
            ("form", 'f', true),
            ("key", 'k', true),
            ("default", 'd', false),
            ("secret", 's', false),
            ("gap", 'g', false)
        ],
        0,
        ANY,
        "item [--menu NAME] [--key KEY] [--default] [--gap] [LABEL [TEXT]]"
    ),
    spec!(
        "choose",
        &[
            ("menu", 'm', true),
            ("default", 'd', true),
            ("timeout", 't', true),
            ("retimeout", 'r', true),
            ("keep", 'k', false)
        ],
        1,
        1,
        "choose [--menu NAME] [--default LABEL] [--timeout MS] [--keep] SETTING"
    ),
    spec!(
        "prompt",
        &[("key", 'k', true), ("timeout", 't', true)],
        0,
        ANY,
        "prompt [--key KEY] [--timeout MS] [TEXT]"
    ),
    spec!("read", &[("timeout", 't', true)], 1, 1, "read [--timeout MS] SETTING"),
    spec!("login", &[], 0, 0, "login"),
    spec!(
        "colour",
        &[("basic", 'b', true), ("rgb", 'r', true)],
        1,
        1,
        "colour [--basic N] [--rgb 0xRRGGBB] INDEX"
    ),
    spec!(
        "cpair",
        &[("foreground", 'f', true), ("background", 'b', true)],
        1,
        1,
        "cpair [--foreground COLOUR] [--background COLOUR] PAIR"
    ),
    spec!(
        "console",
        &[
            ("x", 'x', true),
            ("y", 'y', true),
            ("left", 'l', true),
            ("right", 'r', true),
            ("top", 't', true),
            ("bottom", 'b', true),
            ("depth", 'd', true),
            ("picture", 'p', true),
            ("keep", 'k', false)
        ],
        0,
        0,
        "console [--x WIDTH] [--y HEIGHT] [--left L] [--right R] [--top T] [--bottom B] [--depth BPP] [--picture URI] [--keep]"
    ),
    spec!("route", &[], 0, 0, "route"),
    spec!("md5sum", &[], 0, ANY, "md5sum [IMAGE...]"),
    spec!("sha1sum", &[], 0, ANY, "sha1sum [IMAGE...]"),
    spec!("sha256sum", &[], 0, ANY, "sha256sum [IMAGE...]"),
    spec!("shell", &[], 0, 0, "shell"),
    spec!("show", &[("quiet", 'q', false)], 1, 1, "show [--quiet] NAME"),
    spec!("iflinkwait", &[("timeout", 't', true)], 0, ANY, "iflinkwait [--timeout MS] [INTERFACE...]"),
    spec!("autoboot", &[], 0, ANY, "autoboot [INTERFACE...]"),
    spec!("pciscan", &[], 1, 1, "pciscan SETTING"),
    spec!("nslookup", &[], 2, 2, "nslookup SETTING HOST"),
    spec!(
        "ping",
        &[("size", 's', true), ("timeout", 't', true), ("count", 'c', true), ("quiet", 'q', false)],
        1,
        1,
        "ping [--size N] [--timeout MS] [--count N] [--quiet] HOST"
    ),
    spec!(
        "imgextract",
        &[("name", 'n', true), ("timeout", 't', true)],
        1,
        1,
        "imgextract [--name NAME] [--timeout MS] NAME|URI"
    ),
    spec!("params", &[("name", 'n', true), ("delete", 'd', false)], 0, 0, "params [--name NAME] [--delete]"),
    spec!(
        "param",
        &[("params", 'p', true), ("header", 'H', false)],
        1,
        ANY,
        "param [--params NAME] KEY [VALUE]"
    ),
    spec!("sanboot", SAN, 0, ANY, "sanboot [--drive N] [--filename PATH] [NAME|URI]"),
    spec!("sanhook", SAN, 1, ANY, "sanhook [--drive N] NAME|URI"),
    spec!("reboot", &[("warm", 'w', false)], 0, 0, "reboot"),
    spec!("poweroff", &[], 0, 0, "poweroff"),
];

/// iPXE commands bootsign does not run yet, with what iPXE does with them: a script
/// using one fails there, loudly, instead of going on differently.
pub const NOT_YET: &[(&str, &str)] = &[
    ("sanunhook", "detaches a network disk"),
    ("config", "opens the settings editor"),
    ("vcreate", "creates a VLAN interface"),
    ("vdestroy", "removes a VLAN interface"),
    ("imgdecrypt", "decrypts a CMS-encrypted image"),
    ("imgmem", "registers an image from memory"),
    ("certstat", "lists certificates"),
    ("certstore", "adds a certificate to the store"),
    ("certfree", "removes certificates from the store"),
    ("usbscan", "lists USB devices"),
    ("ipstat", "prints IP statistics"),
    ("nstat", "prints neighbour statistics"),
    ("ibstat", "prints Infiniband status"),
    ("iwlist", "lists wireless networks"),
    ("iwstat", "prints wireless status"),
    ("fcels", "sends a Fibre Channel ELS"),
    ("fcstat", "prints Fibre Channel status"),
    ("fdt", "selects a device tree"),
    ("form", "starts a form, which item adds fields to and present shows"),
    ("present", "shows a form"),
    ("gdbstub", "starts the GDB stub"),
    ("imgset", "sets an image's properties"),
    ("md4sum", "prints an image's MD4"),
    ("sha224sum", "prints an image's SHA-224"),
    ("sha384sum", "prints an image's SHA-384"),
    ("sha512sum", "prints an image's SHA-512"),
    ("profstat", "prints profiling statistics"),
    ("sync", "waits for background work to finish"),
    ("lotest", "runs a loopback test"),
    ("pxebs", "performs a PXE boot server discovery"),
    ("stoppxe", "stops the PXE base code"),
    ("startpxe", "starts the PXE base code"),
];

/// The spec of command `name`.
pub fn spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

/// Why command `name` cannot run here: not supported yet (and what iPXE does), or not an
/// iPXE command at all.
pub fn unknown(name: &str) -> String {
    match NOT_YET.iter().find(|(n, _)| *n == name) {
        Some((_, what)) => format!("{name}: not supported by bootsign yet (in iPXE it {what})"),
        None => format!("{name}: command not found"),
    }
}

/// Parses `args` by `spec`: options first, then between `min` and `max` operands.
pub fn parse<'a>(spec: &Spec, args: &[&'a str]) -> Result<Options<'a>, String> {
    let o = Options::parse(args, spec.options)?;
    if o.rest.len() < spec.min || o.rest.len() > spec.max {
        return Err(format!("usage: {}", spec.usage));
    }
    Ok(o)
}

impl<M: Machine> Interpreter<M> {
    /// Runs one command (its words expanded).
    pub(crate) fn command(&mut self, argv: &[String]) -> Outcome {
        let name = argv[0].as_str();
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        let spec = spec(name).ok_or_else(|| unknown(name))?;
        let o = parse(spec, &args)?;
        match name {
            "echo" | "isset" | "iseq" | "goto" | "exit" | "sleep" | "cpuid" | "time" | "help" => {
                self.control(name, o)
            }
            "set" | "clear" | "inc" => self.settings_command(name, o),
            "menu" | "item" | "choose" | "prompt" | "read" | "login" | "colour" | "cpair" | "console" => {
                self.ui_command(name, o)
            }
            "route" | "md5sum" | "sha1sum" | "sha256sum" | "shell" | "show" => self.inspect_command(name, o),
            "iflinkwait" | "autoboot" | "pciscan" | "nslookup" | "ping" => self.machine_command(name, o),
            "sanboot" | "sanhook" => self.san_command(name, o),
            "dhcp" | "ifconf" | "ifopen" | "ifclose" | "ifstat" | "ntp" | "reboot" | "poweroff" => {
                self.machine_command(name, o)
            }
            "imgextract" => self.imgextract(o),
            "params" | "param" => self.params_command(name, o),
            _ => self.image_command(name, o),
        }
    }
}

/// The last of `lists` (menus, parameter lists) named `name` (`""` the unnamed one), or
/// an error naming the `what` and the command (`maker`) that makes one.
pub(crate) fn named<T>(lists: &[(String, T)], name: &str, what: &str, maker: &str) -> Result<usize, String> {
    lists.iter().rposition(|(n, _)| n == name).ok_or_else(|| match name {
        "" => format!("no {what}: make one with {maker} first"),
        n => format!("no {what} named '{n}'"),
    })
}

/// `menu`/`params`: replaces the list named `name` with `fresh`, or with `--delete`
/// removes it.
pub(crate) fn renew<T>(lists: &mut Vec<(String, T)>, name: &str, delete: bool, fresh: T) {
    lists.retain(|(n, _)| n != name);
    if !delete {
        lists.push((name.into(), fresh));
    }
}

/// iPXE's `parse_integer`: a whole number as `strtoul` reads it (decimal, `0x` hex or
/// `0` octal, a minus wrapping) kept to 32 bits, as iPXE's `unsigned int` keeps it.
/// The interpreter and the script checker both read numbers through this.
pub fn integer(text: &str, what: &str) -> Result<u64, String> {
    strtoul(text)
        .filter(|_| !text.is_empty())
        .map(|v| v & u64::from(u32::MAX))
        .ok_or_else(|| format!("{what}: '{text}' is not a number"))
}

/// iPXE's `parse_timeout` for option `--NAME`: milliseconds, where 0 (or no option)
/// means no timeout.
pub fn timeout(o: &Options<'_>, name: &str) -> Result<Option<u64>, String> {
    match o.value(name) {
        Some(text) => integer(text, &format!("--{name}")).map(|ms| Some(ms).filter(|&ms| ms > 0)),
        None => Ok(None),
    }
}

/// The options before the first operand, as iPXE's getopt reads them: `--long`,
/// `--long=VALUE`, `--long VALUE`, `-s`, `-s VALUE`, and `--` ending them. `spec` lists
/// each option's long name, short letter and whether it takes a value. An option not in
/// `spec` is an error naming it.
pub struct Options<'a> {
    /// The options found, by long name, with their values.
    pub found: Vec<(&'static str, Option<&'a str>)>,
    /// The operands after them.
    pub rest: Vec<&'a str>,
}

impl<'a> Options<'a> {
    /// Reads the options in `args` by `spec`. Short flags may be grouped (`-ak`), and
    /// a short option taking a value takes the rest of its word or the next word.
    pub fn parse(args: &[&'a str], spec: &[Opt]) -> Result<Self, String> {
        let unknown = |a: &str| format!("unrecognised option '{a}'");
        let mut found = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            i += 1;
            if a == "--" {
                break;
            }
            if let Some(long) = a.strip_prefix("--") {
                let (n, inline) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (long, None),
                };
                let &(long, _, takes_value) =
                    spec.iter().find(|(l, _, _)| *l == n).ok_or_else(|| unknown(a))?;
                let value = match (takes_value, inline) {
                    (false, Some(_)) => return Err(format!("option '--{long}' takes no value")),
                    (false, None) => None,
                    (true, Some(v)) => Some(v),
                    (true, None) => Some(Self::next(args, &mut i, a)?),
                };
                found.push((long, value));
            } else if a.len() > 1 && a.starts_with('-') {
                // Each letter a flag, up to one that takes a value.
                for (at, c) in a[1..].char_indices() {
                    let &(long, _, takes_value) =
                        spec.iter().find(|(_, s, _)| *s == c).ok_or_else(|| unknown(&format!("-{c}")))?;
                    if !takes_value {
                        found.push((long, None));
                        continue;
                    }
                    let rest = &a[1 + at + c.len_utf8()..];
                    let value = if rest.is_empty() { Self::next(args, &mut i, a)? } else { rest };
                    found.push((long, Some(value)));
                    break;
                }
            } else {
                i -= 1;
                break;
            }
        }
        Ok(Self { found, rest: args[i.min(args.len())..].to_vec() })
    }

    /// The word after option `a`, its value.
    fn next(args: &[&'a str], i: &mut usize, a: &str) -> Result<&'a str, String> {
        let v = *args.get(*i).ok_or_else(|| format!("option '{a}' needs a value"))?;
        *i += 1;
        Ok(v)
    }

    /// Whether `long` was given.
    pub fn has(&self, long: &str) -> bool {
        self.found.iter().any(|(l, _)| *l == long)
    }

    /// The number given for `long` (read as [`integer`] reads it), else `default`.
    pub fn integer_or(&self, long: &str, default: u64) -> Result<u64, String> {
        self.value(long).map_or(Ok(default), |v| integer(v, &format!("--{long}")))
    }

    /// The last value given for `long`.
    pub fn value(&self, long: &str) -> Option<&'a str> {
        self.found.iter().rev().find(|(l, _)| *l == long).and_then(|(_, v)| *v)
    }
}
