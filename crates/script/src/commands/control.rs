//! `echo`, `isset`, `iseq`, `goto`, `exit`, `sleep`, `cpuid`.

use alloc::format;
use alloc::string::{String, ToString};

use super::{Options, integer, operands};
use crate::interp::{Flow, Interpreter, Machine, Outcome};

impl<M: Machine> Interpreter<M> {
    pub(super) fn control(&mut self, name: &str, args: &[&str]) -> Outcome {
        match name {
            "echo" => {
                let o = Options::parse(args, &[("n", 'n', false)])?;
                let mut text = o.rest.join(" ");
                if !o.has("n") {
                    text.push('\n');
                }
                self.machine.print(&text);
                Ok(Flow::Next)
            }
            // Conditions fail with an empty message: nothing to report when `||` handles them.
            "isset" => {
                let o = Options::parse(args, &[])?;
                let [value] = operands(&o.rest, 1, 1, "isset VALUE")?[..] else { unreachable!() };
                if value.is_empty() { Err(String::new()) } else { Ok(Flow::Next) }
            }
            "iseq" => {
                let o = Options::parse(args, &[])?;
                let [a, b] = operands(&o.rest, 2, 2, "iseq VALUE VALUE")?[..] else { unreachable!() };
                if a == b { Ok(Flow::Next) } else { Err(String::new()) }
            }
            "goto" => {
                let o = Options::parse(args, &[])?;
                let [label] = operands(&o.rest, 1, 1, "goto LABEL")?[..] else { unreachable!() };
                // A missing label fails like any command, so `goto ${x} || goto menu` works.
                if !self.has_label(label) {
                    return Err(format!("no label ':{label}' in this script"));
                }
                Ok(Flow::Goto(label.to_string()))
            }
            "exit" => {
                let o = Options::parse(args, &[])?;
                let code = match operands(&o.rest, 0, 1, "exit [CODE]")?.first() {
                    Some(c) => integer(c, "exit")?,
                    None => 0,
                };
                Ok(Flow::Exit(code as i32))
            }
            "sleep" => {
                let o = Options::parse(args, &[])?;
                let [secs] = operands(&o.rest, 1, 1, "sleep SECONDS")?[..] else { unreachable!() };
                self.machine.sleep(integer(secs, "sleep")?);
                Ok(Flow::Next)
            }
            "cpuid" => self.cpuid(args),
            _ => unreachable!("dispatched by name"),
        }
    }

    /// `cpuid [--ext] [--ecx] BIT`: whether feature bit BIT is set in EDX (or ECX) of
    /// leaf 1, or with `--ext` (`--amd`) of leaf 0x80000001. `cpuid --ext 29` is the
    /// long-mode bit: a 64-bit CPU.
    fn cpuid(&mut self, args: &[&str]) -> Outcome {
        let o = Options::parse(args, &[("ext", 'e', false), ("amd", 'a', false), ("ecx", 'c', false)])?;
        let [bit] = operands(&o.rest, 1, 1, "cpuid [--ext] [--ecx] BIT")?[..] else { unreachable!() };
        let bit = integer(bit, "cpuid")?;
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
