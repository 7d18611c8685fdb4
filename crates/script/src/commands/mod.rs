//! The commands, by concern: control flow and conditions ([`control`]), settings
//! ([`settings`]), images and trust ([`images`]), network and machine ([`machine`]).
//! Each follows the iPXE command of the same name: its options, its arguments and when
//! it fails. An unknown command or option fails loudly, never silently differently.

mod control;
mod images;
mod machine;
mod settings;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::interp::{Interpreter, Machine, Outcome};
use crate::settings::strtoul;

/// Every command the interpreter knows (for `help` and the script checker).
pub const COMMANDS: &[&str] = &[
    "echo",
    "set",
    "clear",
    "inc",
    "isset",
    "iseq",
    "goto",
    "exit",
    "sleep",
    "cpuid",
    "dhcp",
    "ifconf",
    "ifopen",
    "ifclose",
    "ifstat",
    "kernel",
    "imgselect",
    "imgload",
    "imgfetch",
    "module",
    "initrd",
    "chain",
    "imgexec",
    "boot",
    "imgargs",
    "imgverify",
    "imgtrust",
    "imgfree",
    "imgstat",
    "ntp",
    "reboot",
    "poweroff",
];

impl<M: Machine> Interpreter<M> {
    /// Runs one command (its words expanded).
    pub(crate) fn command(&mut self, argv: &[String]) -> Outcome {
        let name = argv[0].as_str();
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        match name {
            "echo" | "isset" | "iseq" | "goto" | "exit" | "sleep" | "cpuid" => self.control(name, &args),
            "set" | "clear" | "inc" => self.settings_command(name, &args),
            "kernel" | "imgselect" | "imgload" | "imgfetch" | "module" | "initrd" | "chain" | "imgexec"
            | "boot" | "imgargs" | "imgverify" | "imgtrust" | "imgfree" | "imgstat" => {
                self.image_command(name, &args)
            }
            "dhcp" | "ifconf" | "ifopen" | "ifclose" | "ifstat" | "ntp" | "reboot" | "poweroff" => {
                self.machine_command(name, &args)
            }
            other => Err(format!("{other}: command not found")),
        }
    }
}

/// iPXE's `parse_integer`: a whole unsigned number, decimal, `0x` hex or `0` octal.
pub(crate) fn integer(text: &str, what: &str) -> Result<u64, String> {
    strtoul(text)
        .filter(|_| !text.starts_with('-'))
        .ok_or_else(|| format!("{what}: '{text}' is not a number"))
}

/// The options before the first operand, as iPXE's getopt reads them: `--long`,
/// `--long=VALUE`, `--long VALUE`, `-s`, `-s VALUE`, and `--` ending them. `spec` lists
/// each option's long name, short letter and whether it takes a value. An option not in
/// `spec` is an error naming it.
pub(crate) struct Options<'a> {
    /// The options found, by long name, with their values.
    pub found: Vec<(&'static str, Option<&'a str>)>,
    /// The operands after them.
    pub rest: Vec<&'a str>,
}

impl<'a> Options<'a> {
    pub(crate) fn parse(args: &[&'a str], spec: &[(&'static str, char, bool)]) -> Result<Self, String> {
        let mut found = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            if a == "--" {
                i += 1;
                break;
            }
            let (opt, inline) = if let Some(long) = a.strip_prefix("--") {
                let (n, v) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (long, None),
                };
                (spec.iter().find(|(l, _, _)| *l == n), v)
            } else if a.len() > 1 && a.starts_with('-') {
                let mut chars = a[1..].chars();
                let c = chars.next().unwrap_or('-');
                let v = Some(chars.as_str()).filter(|s| !s.is_empty());
                (spec.iter().find(|(_, s, _)| *s == c), v)
            } else {
                break;
            };
            let Some(&(long, _, takes_value)) = opt else {
                return Err(format!("unrecognised option '{a}'"));
            };
            let value = if takes_value {
                match inline {
                    Some(v) => Some(v),
                    None => {
                        i += 1;
                        Some(*args.get(i).ok_or_else(|| format!("option '{a}' needs a value"))?)
                    }
                }
            } else {
                None
            };
            found.push((long, value));
            i += 1;
        }
        Ok(Self { found, rest: args[i.min(args.len())..].to_vec() })
    }

    /// Whether `long` was given.
    pub(crate) fn has(&self, long: &str) -> bool {
        self.found.iter().any(|(l, _)| *l == long)
    }

    /// The last value given for `long`.
    pub(crate) fn value(&self, long: &str) -> Option<&'a str> {
        self.found.iter().rev().find(|(l, _)| *l == long).and_then(|(_, v)| *v)
    }
}

/// Checks the number of operands: between `min` and `max`, else the usage.
pub(crate) fn operands<'a>(
    rest: &[&'a str],
    min: usize,
    max: usize,
    usage: &str,
) -> Result<Vec<&'a str>, String> {
    if rest.len() < min || rest.len() > max {
        return Err(format!("usage: {usage}"));
    }
    Ok(rest.to_vec())
}
