//! Reads a script as the firmware reads it and reports every line it would refuse or
//! cannot run, before the script ever reaches a machine: `bootsign script check` and
//! `bootsign build --embed` use it. It goes by the interpreter's own syntax
//! ([`crate::lex`]) and command table ([`crate::commands::SPECS`]), so the two cannot
//! disagree about what is a command, an option or an operand.
//!
//! What it reports: a script without the `#!ipxe` line; a command that does not exist or
//! is not supported yet (with what iPXE does with it); options and operand counts the
//! command refuses; `goto` to a label the script does not have; `${name:type}` with an
//! unknown type (iPXE silently expands it to nothing); a literal value a typed `set`
//! refuses; numbers that are not numbers. Words that contain `${...}` are what they
//! expand to at run time, so only their shape is checked (a command name built from a
//! setting is not checked at all).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::commands::{NOT_YET, Options, integer, parse, spec, timeout, unknown};
use crate::expand::expand;
use crate::lex::{commands, is_space, lines};
use crate::settings::{Name, parse_value};

/// A line the firmware would refuse or cannot run, or may not run as meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The line number (from 1).
    pub line: usize,
    /// The line's command text.
    pub text: String,
    /// What is wrong.
    pub problem: String,
    /// Whose problem it is.
    pub kind: Kind,
}

/// Whose problem a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// iPXE runs the line; bootsign does not (yet).
    Unsupported,
    /// iPXE refuses the line too: an unknown command, a bad number or operand count, a
    /// missing label, a missing `#!ipxe`.
    Broken,
    /// Both run it, probably not as meant (a reference that expands to nothing).
    Suspicious,
}

impl Finding {
    /// Whether the line cannot run (as opposed to a warning).
    pub fn stops(&self) -> bool {
        self.kind != Kind::Suspicious
    }
}

/// Checks `script`; no findings means every line can run.
pub fn check(script: &str) -> Vec<Finding> {
    let lines = lines(script);
    let labels: Vec<&str> = lines.iter().filter_map(|l| l.label.as_deref()).collect();
    let mut out = Vec::new();
    let magic = script.trim_start_matches('\u{feff}');
    if !(magic.starts_with("#!ipxe") || magic.starts_with("#!gpxe")) {
        out.push(Finding {
            line: 1,
            text: lines.first().map(|l| l.command.clone()).unwrap_or_default(),
            problem:
                "the script does not start with #!ipxe: chained, it would be taken for a program to boot \
                      (iPXE does not run it as a script either)"
                    .into(),
            kind: Kind::Broken,
        });
    }
    for line in &lines {
        let mut report = |problem: String, kind: Kind| {
            out.push(Finding {
                line: line.number,
                text: line.command.trim_matches(is_space).to_string(),
                problem,
                kind,
            })
        };
        for cmd in commands(&line.command) {
            for word in &cmd.words {
                for problem in reference_problems(word) {
                    report(problem, Kind::Suspicious);
                }
            }
            let Some((&name, args)) = cmd.words.split_first() else { continue };
            if name.contains("${") {
                continue;
            }
            let Some(spec) = spec(name) else {
                let kind =
                    if NOT_YET.iter().any(|(n, _)| *n == name) { Kind::Unsupported } else { Kind::Broken };
                report(unknown(name), kind);
                continue;
            };
            match parse(spec, args) {
                Ok(o) => {
                    if let Err(problem) = command_problem(name, &o, &labels) {
                        report(format!("{name}: {problem}"), Kind::Broken);
                    }
                }
                // An option iPXE has that bootsign lacks would be ours; operand counts
                // follow iPXE's.
                Err(e) if e.starts_with("usage:") => report(format!("{name}: {e}"), Kind::Broken),
                Err(e) => report(format!("{name}: {e}"), Kind::Unsupported),
            }
        }
    }
    out
}

/// Whether `word` is literal: it holds no `${...}` to expand at run time.
fn literal(word: &str) -> bool {
    !word.contains("${")
}

/// The references in `word` whose type is unknown (they expand to nothing).
fn reference_problems(word: &str) -> Vec<String> {
    let found = RefCell::new(Vec::new());
    expand(word, &|name| {
        if let Err(e) = Name::parse(name) {
            found.borrow_mut().push(format!("${{{name}}}: {e}, so it expands to nothing"));
        }
        None
    });
    found.into_inner()
}

/// The checks a command's literal operands allow.
fn command_problem(name: &str, o: &Options<'_>, labels: &[&str]) -> Result<(), String> {
    // The interpreter's own reading decides; the message leaves out the command name,
    // which the report puts first.
    let number = |text: &str| match literal(text) {
        true => integer(text, name).map(|_| ()).map_err(|_| format!("'{text}' is not a number")),
        false => Ok(()),
    };
    for option in ["timeout", "retimeout"] {
        if o.value(option).is_some_and(literal) {
            timeout(o, option)?;
        }
    }
    if let Some(k) = o.value("key").filter(|k| literal(k)) {
        crate::ui::parse_key(k)?;
    }
    match name {
        "goto" => {
            let label = o.rest[0];
            if literal(label) && !labels.contains(&label) {
                return Err(format!("no label ':{label}' in this script"));
            }
        }
        "sleep" | "exit" | "cpuid" => {
            if let Some(n) = o.rest.first() {
                number(n)?;
            }
        }
        "inc" => {
            Name::parse(o.rest[0])?;
            if let Some(n) = o.rest.get(1) {
                number(n)?;
            }
        }
        "set" | "clear" => {
            let setting = Name::parse(o.rest[0])?;
            let value = o.rest[1..].join(" ");
            if !value.is_empty() && literal(&value) {
                parse_value(setting.name, setting.ty, &value)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn problems(script: &str) -> Vec<(usize, String)> {
        check(script).into_iter().map(|f| (f.line, f.problem)).collect()
    }

    fn kinds(script: &str) -> Vec<Kind> {
        check(script).into_iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_script_that_can_run_has_no_findings() {
        let script = "#!ipxe\n:retry\ndhcp || goto retry\nset i:int32 0\ninc i\n\
                      kernel --name k http://${next-server}/vmlinuz initrd=initrd.img quiet\n\
                      initrd http://${next-server}/initrd.img\nimgverify k ${base}/k.sig\n\
                      goto ${target} || goto retry\nboot || shell_that_is_dynamic${x}\n";
        assert_eq!(problems(script), vec![]);
    }

    #[test]
    fn every_kind_of_problem_is_reported_with_its_line() {
        let script = "echo no magic\n\
                      vcreate --tag 5 net0\n\
                      frobnicate\n\
                      kernel --bogus http://s/k\n\
                      goto nowhere\n\
                      set ip 10.0.2\n\
                      echo ${mac:nonsense}\n\
                      sleep soon\n\
                      iseq a\n";
        assert_eq!(
            problems(script),
            vec![
                (1, "the script does not start with #!ipxe: chained, it would be taken for a program to boot (iPXE does not run it as a script either)".to_string()),
                (2, "vcreate: not supported by bootsign yet (in iPXE it creates a VLAN interface)".into()),
                (3, "frobnicate: command not found".into()),
                (4, "kernel: unrecognised option '--bogus'".into()),
                (5, "goto: no label ':nowhere' in this script".into()),
                (6, "set: cannot store \"ip\": '10.0.2' is not a valid ipv4 value".into()),
                (7, "${mac:nonsense}: unknown setting type 'nonsense', so it expands to nothing".into()),
                (8, "sleep: 'soon' is not a number".into()),
                (9, "iseq: usage: iseq VALUE VALUE".into()),
            ]
        );
        use Kind::*;
        assert_eq!(
            kinds(script),
            [Broken, Unsupported, Broken, Unsupported, Broken, Broken, Suspicious, Broken, Broken]
        );
    }
}
