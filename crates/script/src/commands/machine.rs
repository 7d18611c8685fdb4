//! The network and machine commands: `dhcp`/`ifconf`, `ifopen`, `ifclose`, `ifstat`,
//! `ntp`, `reboot`, `poweroff`.

use alloc::format;
use alloc::string::ToString;

use super::Options;
use crate::interp::{Flow, Interpreter, Machine, Outcome};
use crate::settings::SettingType;

impl<M: Machine> Interpreter<M> {
    pub(super) fn machine_command(&mut self, command: &str, o: Options<'_>) -> Outcome {
        match command {
            "dhcp" | "ifconf" => {
                if let Some(c) = o.value("configurator").filter(|c| *c != "dhcp") {
                    return Err(format!("configurator '{c}' is not supported (only dhcp)"));
                }
                let (iface, learnt) = match o.rest.first() {
                    Some(iface) => (iface.to_string(), self.machine.dhcp(iface)?),
                    None => self.machine.dhcp_any()?,
                };
                for (name, value) in learnt {
                    // Typed as iPXE types them (ip is an address, mac bytes); a value the
                    // type does not fit is kept as text.
                    if self.settings.store_text(Some(&iface), &name, None, &value).is_err() {
                        self.settings.store(Some(&iface), &name, value.into_bytes(), SettingType::String);
                    }
                }
                self.netdev = iface;
                Ok(Flow::Next)
            }
            "ifopen" | "ifclose" | "ifstat" => {
                self.machine.interface(command, o.rest.first().copied().unwrap_or("net0"))?;
                Ok(Flow::Next)
            }
            "ntp" => {
                let said = self.machine.ntp(o.rest[0])?;
                self.machine.print(&format!("{said}\n"));
                Ok(Flow::Next)
            }
            "reboot" => Err(self.machine.reboot()),
            "poweroff" => Err(self.machine.poweroff()),
            _ => unreachable!("dispatched by name"),
        }
    }
}
