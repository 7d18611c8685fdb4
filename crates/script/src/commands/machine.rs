//! The network and machine commands: `dhcp`/`ifconf`, `ifopen`, `ifclose`, `ifstat`,
//! `ntp`, `reboot`, `poweroff`.

use alloc::format;
use alloc::string::{String, ToString};

use super::Options;
use crate::interp::{Flow, Interpreter, Machine, Outcome};
use crate::settings::{Name, SettingType, int_bytes};

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
                self.learn(&iface, learnt);
                Ok(Flow::Next)
            }
            "ifopen" | "ifclose" | "ifstat" => {
                self.machine.interface(command, o.rest.first().copied().unwrap_or("net0"))?;
                Ok(Flow::Next)
            }
            // `iflinkwait [--timeout MS] [INTERFACE...]`: the interfaces opened with a link.
            "iflinkwait" => {
                let ifaces = if o.rest.is_empty() { alloc::vec!["net0"] } else { o.rest.clone() };
                for iface in ifaces {
                    self.machine.interface("iflinkwait", iface)?;
                }
                Ok(Flow::Next)
            }
            // `pciscan SETTING`: the next PCI function after the setting's value (from
            // 00:00.0 when it is unset), stored as a uint16 unless the setting has a type;
            // fails, quietly, after the last one (so `pciscan loc || goto done` loops).
            "pciscan" => {
                let name = Name::parse(o.rest[0])?;
                let from = match self.locate(&name) {
                    None => 0,
                    Some(found) if found.raw.len() <= 4 => found
                        .raw
                        .iter()
                        .fold(0u32, |v, &b| v << 8 | u32::from(b))
                        .checked_add(1)
                        .ok_or_else(String::new)?,
                    Some(_) => return Err(format!("{}: not a PCI location", o.rest[0])),
                };
                let next = self.machine.pci_next(from).ok_or_else(String::new)?;
                self.store_raw(&name, int_bytes(u64::from(next), 2), SettingType::Uint(2));
                Ok(Flow::Next)
            }
            // `nslookup SETTING HOST`: the host's IPv4 address (DNS), its four bytes stored
            // as an ipv4 unless the setting has a type, as iPXE stores them.
            "nslookup" => {
                let name = Name::parse(o.rest[0])?;
                let ip = self.machine.resolve(o.rest[1]).map_err(|e| format!("{}: {e}", o.rest[1]))?;
                // The address's four bytes, read as the setting's type if it has one.
                let (raw, _) = crate::settings::parse_value("ip", Some(SettingType::Ipv4), &ip)?;
                self.store_raw(&name, raw, SettingType::Ipv4);
                Ok(Flow::Next)
            }
            // `ping [--size N] [--timeout MS] [--count N] [--quiet] HOST`: echo requests a
            // second apart (until a key is pressed when no count is given), a line per
            // reply; fails at the first that goes unanswered.
            "ping" => {
                let size = o.integer_or("size", 56)?;
                let size =
                    usize::try_from(size).ok().filter(|&s| s <= 1400).ok_or("--size: at most 1400 bytes")?;
                let wait = super::timeout(&o, "timeout")?.unwrap_or(1000);
                let count = o.integer_or("count", 0)?;
                let host = o.rest[0];
                for seq in 1u64.. {
                    let seq16 = seq as u16;
                    let (from, len, ms) =
                        self.machine.ping(host, seq16, size, wait).map_err(|e| format!("{host}: {e}"))?;
                    if !o.has("quiet") {
                        self.machine
                            .print(&format!("{} bytes from {from}: seq={seq16} time={ms} ms\n", len + 8));
                    }
                    if count != 0 && seq >= count {
                        break;
                    }
                    // A second apart; with no count, a key ends it (as Ctrl-C does in iPXE).
                    if self.machine.key(Some(1000)).is_some() && count == 0 {
                        break;
                    }
                }
                Ok(Flow::Next)
            }
            // `autoboot [INTERFACE...]`: DHCP, then chain the boot file it names, on each
            // interface in turn (the first that answers, when none is named).
            "autoboot" => {
                let mut last = String::from("no interface answered DHCP");
                let ifaces: alloc::vec::Vec<Option<&str>> = if o.rest.is_empty() {
                    alloc::vec![None]
                } else {
                    o.rest.iter().map(|i| Some(*i)).collect()
                };
                for iface in ifaces {
                    match self.autoboot(iface) {
                        Ok(flow) => return Ok(flow),
                        Err(e) => last = e,
                    }
                }
                Err(last)
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

    /// DHCP on `iface` (the first to answer when `None`), then the boot file it named.
    fn autoboot(&mut self, iface: Option<&str>) -> Outcome {
        let (iface, learnt) = match iface {
            Some(i) => (i.to_string(), self.machine.dhcp(i)?),
            None => self.machine.dhcp_any()?,
        };
        self.learn(&iface, learnt);
        // As iPXE: the first settings block with a boot file (the interface's DHCP
        // lease, else ProxyDHCP's), and the server from that same block.
        let (scope, filename) = [iface.as_str(), "proxydhcp"]
            .into_iter()
            .find_map(|scope| {
                Some((scope, self.setting(&format!("{scope}/filename")).filter(|f| !f.is_empty())?))
            })
            .ok_or_else(|| format!("{iface}: DHCP named no boot file"))?;
        let uri = if filename.contains("://") {
            filename
        } else {
            let server = self
                .setting(&format!("{scope}/next-server"))
                .ok_or_else(|| format!("{iface}: DHCP named no server for {filename}"))?;
            format!("tftp://{server}/{}", filename.trim_start_matches('/'))
        };
        let index = self.download(&uri, None)?;
        self.execute(index)
    }

    /// Stores what DHCP on `iface` learnt, typed as iPXE types it (ip is an address, mac
    /// bytes; a value the type does not fit is kept as text), and makes `iface` the one
    /// unscoped names mean. Names with a scope of their own (`proxydhcp/filename`, from a
    /// ProxyDHCP server) are stored as named, replacing what an earlier DHCP left there.
    ///
    /// As iPXE replaces an interface's DHCP settings block whole, what the last DHCP on
    /// `iface` stored goes first (what the script set there stays).
    fn learn(&mut self, iface: &str, learnt: alloc::vec::Vec<(String, String)>) {
        self.settings.clear_scope("proxydhcp");
        if let Some(i) = self.leases.iter().position(|(n, _)| n == iface) {
            for name in self.leases.remove(i).1 {
                self.settings.remove(Some(iface), &name);
            }
        }
        let mut names = alloc::vec::Vec::new();
        for (name, value) in learnt {
            if name.contains('/') {
                self.set(&name, &value);
            } else {
                self.set(&format!("{iface}/{name}"), &value);
                names.push(name);
            }
        }
        self.leases.push((iface.to_string(), names));
        self.netdev = iface.to_string();
    }
}
