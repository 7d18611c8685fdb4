//! Commands that show what is there: `route`, `md5sum`/`sha1sum`/`sha256sum`, and
//! `shell`, the interactive command line.

use alloc::format;
use alloc::string::String;

use sha2::Digest;

use super::Options;
use crate::interp::{Flow, Interpreter, Machine, Outcome};
use crate::settings::SettingType;
use crate::ui::line::{Unanswered, read_line};

/// The shell's prompt.
const PROMPT: &str = "bootsign> ";

impl<M: Machine> Interpreter<M> {
    pub(super) fn inspect_command(&mut self, command: &str, o: Options<'_>) -> Outcome {
        match command {
            // `route`: each configured interface's address, netmask and gateway, as
            // iPXE prints its IPv4 routes.
            "route" => {
                let mut text = String::new();
                for index in 0.. {
                    let iface = format!("net{index}");
                    let get = |name: &str| {
                        self.settings
                            .get(Some(&iface), name)
                            .and_then(|v| SettingType::Ipv4.format(&v.raw).ok())
                    };
                    let Some(ip) = get("ip") else {
                        if index > 8 {
                            break;
                        }
                        continue;
                    };
                    text.push_str(&format!(
                        "{iface}: {ip}/{}",
                        get("netmask").unwrap_or_else(|| "255.255.255.255".into())
                    ));
                    if let Some(gw) = get("gateway") {
                        text.push_str(&format!(" gw {gw}"));
                    }
                    text.push('\n');
                }
                self.machine.print(&text);
                Ok(Flow::Next)
            }
            // `md5sum`/`sha1sum`/`sha256sum [IMAGE...]`: `HEX  NAME` for each image (all
            // of them when none is named), as iPXE prints them.
            "md5sum" | "sha1sum" | "sha256sum" => {
                let mut text = String::new();
                let names: alloc::vec::Vec<String> = if o.rest.is_empty() {
                    self.images.iter().map(|i| i.name.clone()).collect()
                } else {
                    o.rest.iter().map(|n| String::from(*n)).collect()
                };
                for name in names {
                    let data = &self.images[self.find(&name)?].data;
                    let digest: alloc::vec::Vec<u8> = match command {
                        "md5sum" => md5::Md5::digest(data).to_vec(),
                        "sha1sum" => sha1::Sha1::digest(data).to_vec(),
                        _ => sha2::Sha256::digest(data).to_vec(),
                    };
                    text.push_str(&format!(
                        "{}  {name}\n",
                        SettingType::HexRaw.format(&digest).unwrap_or_default()
                    ));
                }
                self.machine.print(&text);
                Ok(Flow::Next)
            }
            "shell" => self.shell(),
            // `show [--quiet] NAME`: `scope/name:type = value`, as iPXE prints it (the
            // scope is the settings block it was found in).
            "show" => {
                let reference = o.rest[0];
                let name = crate::settings::Name::parse(reference)?;
                let found = self.locate(&name).ok_or_else(|| format!("Could not find \"{}\"", name.name))?;
                let value = found.ty.format(&found.raw)?;
                let text = if o.has("quiet") {
                    format!("{value}\n")
                } else {
                    let scope = found.scope.map(|s| format!("{s}/")).unwrap_or_default();
                    format!("{scope}{}:{} = {value}\n", name.name, found.ty.name())
                };
                self.machine.print(&text);
                Ok(Flow::Next)
            }
            _ => unreachable!("dispatched by name"),
        }
    }

    /// The interactive command line: reads a line, runs it, until `exit` (which leaves
    /// the shell, not the script) or Ctrl-C/Escape on an empty line... iPXE's shell ends
    /// only with `exit`; so does this one. Errors are shown and the shell goes on.
    fn shell(&mut self) -> Outcome {
        loop {
            self.spend()?;
            self.machine.print(PROMPT);
            let line = match read_line(&mut self.machine, "", 0, false) {
                Ok(line) => line,
                Err(Unanswered::NoInput) => return Err(crate::ui::NO_INPUT.into()),
                Err(_) => continue,
            };
            match self.line(&line) {
                Ok(Flow::Exit(_)) => return Ok(Flow::Next),
                Ok(Flow::Goto(_)) => self.machine.print("goto: only a script has labels\n"),
                Ok(Flow::Next) => {}
                Err(e) if e.is_empty() => {}
                Err(e) => self.machine.print(&format!("{e}\n")),
            }
        }
    }
}
