//! `echo`, `isset`, `iseq`, `goto`, `exit`, `sleep`, `cpuid`.

use alloc::format;
use alloc::string::{String, ToString};

use super::{Options, integer};
use crate::interp::{Flow, Interpreter, Machine, Outcome};

impl<M: Machine> Interpreter<M> {
    pub(super) fn control(&mut self, name: &str, o: Options<'_>) -> Outcome {
        match name {
            "echo" => {
                let mut text = o.rest.join(" ");
                if !o.has("n") {
                    text.push('\n');
                }
                self.machine.print(&text);
                Ok(Flow::Next)
            }
            // Conditions fail with an empty message: nothing to report when `||` handles them.
            "isset" => {
                if o.rest[0].is_empty() {
                    Err(String::new())
                } else {
                    Ok(Flow::Next)
                }
            }
            "iseq" => {
                if o.rest[0] == o.rest[1] {
                    Ok(Flow::Next)
                } else {
                    Err(String::new())
                }
            }
            "goto" => {
                let label = o.rest[0];
                // A missing label fails like any command, so `goto ${x} || goto menu` works.
                let index = self.label(label).ok_or_else(|| format!("no label ':{label}' in this script"))?;
                Ok(Flow::Goto(index))
            }
            // `time COMMAND [ARGS...]`: runs the command and says how long it took; its
            // result is the command's.
            "time" => {
                let start = self.machine.now_ms().ok_or("this machine has no clock")?;
                let argv: alloc::vec::Vec<String> = o.rest.iter().map(|w| w.to_string()).collect();
                let result = self.command(&argv);
                let ms = self.machine.now_ms().unwrap_or(start).saturating_sub(start);
                self.machine.print(&format!("{}: {}.{:03}s\n", argv[0], ms / 1000, ms % 1000));
                result
            }
            // `help`: the commands there are.
            "help" => {
                let mut names: alloc::vec::Vec<&str> = super::SPECS.iter().map(|s| s.name).collect();
                names.sort_unstable();
                let mut text = String::from("Available commands:\n\n");
                for row in names.chunks(6) {
                    for name in row {
                        text.push_str(&format!("  {name:<11}"));
                    }
                    text.push('\n');
                }
                self.machine.print(&text);
                Ok(Flow::Next)
            }
            "exit" => {
                let code = match o.rest.first() {
                    Some(c) => integer(c, "exit")?,
                    None => 0,
                };
                Ok(Flow::Exit(code as i32))
            }
            "sleep" => {
                self.machine.sleep(integer(o.rest[0], "sleep")?);
                Ok(Flow::Next)
            }
            "cpuid" => self.cpuid(&o),
            _ => unreachable!("dispatched by name"),
        }
    }

    /// `cpuid [--ext] [--ecx] BIT`: whether feature bit BIT is set in EDX (or ECX) of
    /// leaf 1, or with `--ext` (`--amd`) of leaf 0x80000001. `cpuid --ext 29` is the
    /// long-mode bit: a 64-bit CPU.
    fn cpuid(&mut self, o: &Options<'_>) -> Outcome {
        let bit = integer(o.rest[0], "cpuid")?;
        let leaf = if o.has("ext") || o.has("amd") { 0x8000_0001 } else { 1 };
        let unavailable = || "this machine cannot run CPUID".to_string();
        if leaf == 0x8000_0001 {
            // The extended leaves exist only when leaf 0x80000000 says so.
            let [max, ..] = self.machine.cpuid(0x8000_0000).ok_or_else(unavailable)?;
            if max & 0xffff_0000 != 0x8000_0000 || max < leaf {
                return Err(String::new());
            }
        }
        let [_, _, ecx, edx] = self.machine.cpuid(leaf).ok_or_else(unavailable)?;
        let reg = if o.has("ecx") { ecx } else { edx };
        if bit < 32 && reg & (1 << bit) != 0 { Ok(Flow::Next) } else { Err(String::new()) }
    }
}
