//! The boot settings a DHCP reply carries, named as iPXE scripts know them.
//!
//! smoltcp runs the DHCP exchange; this crate reads the accepted reply (a BOOTP message,
//! RFC 2131) and turns it into settings: `ip`, `netmask`, `gateway`, `dns`, `domain`,
//! `hostname`, `ntp` (option 42, the first NTP server, named as iPXE names it),
//! `next-server` (siaddr), `filename` (option 67, else the `file` field), `mac`. The
//! message is walked through a checked view: fixed fields only after the length is
//! known, options TLV by TLV, nothing read past the end.
//!
//! [`proxy`] recognises ProxyDHCP offers and makes the request a proxy answers on port
//! 4011; [`client`] is what a DHCP client says about itself (iPXE's vendor class,
//! architecture and network interface options), which DHCP and ProxyDHCP servers match on.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod client;
pub mod proxy;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Offset of the options, after the fixed BOOTP fields and the magic cookie.
const OPTIONS: usize = 240;
const COOKIE: [u8; 4] = [99, 130, 83, 99];

/// Why a DHCP message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DhcpError {
    /// Shorter than the fixed fields and cookie.
    Truncated,
    /// Not a BOOTP reply (op 2) for Ethernet, or the magic cookie is wrong.
    NotAReply,
    /// An option runs past the end of the message.
    BadOption(u8),
}

impl fmt::Display for DhcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("the DHCP reply is truncated"),
            Self::NotAReply => f.write_str("not a DHCP reply"),
            Self::BadOption(o) => write!(f, "DHCP option {o} runs past the end of the reply"),
        }
    }
}

fn ipv4(b: &[u8]) -> String {
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

/// Text of a NUL-padded field or option; `None` when empty or not UTF-8.
fn text(b: &[u8]) -> Option<String> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let s = core::str::from_utf8(&b[..end]).ok()?.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The fixed fields of a BOOTP reply for Ethernet, checked: at least 240 bytes, op 2,
/// htype 1, hlen 6 and the magic cookie.
fn reply(msg: &[u8]) -> Result<&[u8], DhcpError> {
    if msg.len() < OPTIONS {
        return Err(DhcpError::Truncated);
    }
    if msg[0] != 2 || msg[1] != 1 || msg[2] != 6 || msg[236..240] != COOKIE {
        return Err(DhcpError::NotAReply);
    }
    Ok(msg)
}

/// The options of a checked message, in order (pads skipped, up to the end option).
fn options(msg: &[u8]) -> Result<Vec<(u8, &[u8])>, DhcpError> {
    let mut out = Vec::new();
    let mut rest = &msg[OPTIONS..];
    while let Some((&code, after)) = rest.split_first() {
        match code {
            0 => {
                rest = after;
                continue;
            }
            255 => break,
            _ => {}
        }
        let (&len, after) = after.split_first().ok_or(DhcpError::BadOption(code))?;
        let len = usize::from(len);
        if after.len() < len {
            return Err(DhcpError::BadOption(code));
        }
        let (value, after) = after.split_at(len);
        out.push((code, value));
        rest = after;
    }
    Ok(out)
}

/// The DHCP message type (option 53) of a checked message, 0 for BOOTP.
pub(crate) fn message_type(opts: &[(u8, &[u8])]) -> u8 {
    opts.iter().find(|(c, v)| *c == 53 && v.len() == 1).map_or(0, |(_, v)| v[0])
}

/// Whether `msg` is the DHCPACK that gave the client with hardware address `mac` the
/// address `address`. A DHCP client that keeps "the last packet of its transaction"
/// can be left holding a ProxyDHCP offer that came after the ACK (same transaction, no
/// address); its settings must come from the ACK itself.
pub fn is_ack(msg: &[u8], mac: &[u8; 6], address: [u8; 4]) -> bool {
    let Ok(msg) = reply(msg) else { return false };
    msg[28..34] == mac[..]
        && msg[16..20] == address
        && address != [0; 4]
        && options(msg).is_ok_and(|opts| message_type(&opts) == 5)
}

/// Settings from a DHCP reply, in a stable order.
pub fn settings(msg: &[u8]) -> Result<Vec<(String, String)>, DhcpError> {
    let msg = reply(msg)?;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut put = |name: &str, value: String| {
        out.retain(|(n, _)| n != name);
        out.push((name.to_string(), value));
    };
    put("mac", msg[28..34].iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"));
    put("ip", ipv4(&msg[16..20]));
    if msg[20..24] != [0; 4] {
        put("next-server", ipv4(&msg[20..24]));
    }
    let mut filename = text(&msg[108..236]);
    for (code, value) in options(msg)? {
        let len = value.len();
        match code {
            1 if len == 4 => put("netmask", ipv4(value)),
            3 if len >= 4 => put("gateway", ipv4(&value[..4])),
            6 if len >= 4 => put("dns", ipv4(&value[..4])),
            42 if len >= 4 => put("ntp", ipv4(&value[..4])),
            54 if len == 4 => put("dhcp-server", ipv4(value)),
            17 => {
                if let Some(t) = text(value) {
                    put("root-path", t)
                }
            }
            12 => {
                if let Some(t) = text(value) {
                    put("hostname", t)
                }
            }
            15 => {
                if let Some(t) = text(value) {
                    put("domain", t)
                }
            }
            67 => filename = text(value).or(filename),
            _ => {}
        }
    }
    if let Some(f) = filename {
        put("filename", f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn reply(file: &[u8], options: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; OPTIONS];
        m[..4].copy_from_slice(&[2, 1, 6, 0]);
        m[16..20].copy_from_slice(&[10, 0, 2, 15]);
        m[20..24].copy_from_slice(&[10, 0, 2, 2]);
        m[28..34].copy_from_slice(&[0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        m[108..108 + file.len()].copy_from_slice(file);
        m[236..240].copy_from_slice(&COOKIE);
        m.extend_from_slice(options);
        m
    }

    fn get<'a>(s: &'a [(String, String)], name: &str) -> Option<&'a str> {
        s.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn reads_qemu_style_reply() {
        let opts = [53, 1, 5, 1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2, 6, 4, 10, 0, 2, 3, 0, 255];
        let s = settings(&reply(b"http://10.0.2.2:8080/boot.ipxe", &opts)).unwrap();
        assert_eq!(get(&s, "ip"), Some("10.0.2.15"));
        assert_eq!(get(&s, "next-server"), Some("10.0.2.2"));
        assert_eq!(get(&s, "netmask"), Some("255.255.255.0"));
        assert_eq!(get(&s, "gateway"), Some("10.0.2.2"));
        assert_eq!(get(&s, "dns"), Some("10.0.2.3"));
        assert_eq!(get(&s, "mac"), Some("52:54:00:12:34:56"));
        assert_eq!(get(&s, "filename"), Some("http://10.0.2.2:8080/boot.ipxe"));
    }

    #[test]
    fn server_identifier_and_root_path() {
        let mut opts = vec![53, 1, 5, 54, 4, 10, 0, 2, 2, 17];
        let root = b"iscsi:10.0.2.2::::iqn.2010-04.org.ipxe:disk";
        opts.push(root.len() as u8);
        opts.extend_from_slice(root);
        opts.push(255);
        let s = settings(&reply(b"", &opts)).unwrap();
        assert_eq!(get(&s, "dhcp-server"), Some("10.0.2.2"));
        assert_eq!(get(&s, "root-path"), Some("iscsi:10.0.2.2::::iqn.2010-04.org.ipxe:disk"));
    }

    #[test]
    fn option_42_names_the_ntp_server() {
        // Two servers: the first is the setting (iPXE's `ntp` is one IPv4 address).
        let opts = [53, 1, 5, 42, 8, 192, 168, 77, 1, 10, 0, 0, 9, 255];
        let s = settings(&reply(b"", &opts)).unwrap();
        assert_eq!(get(&s, "ntp"), Some("192.168.77.1"));
        // Shorter than an address: ignored, as for the router and name server.
        let s = settings(&reply(b"", &[42, 3, 1, 2, 3, 255])).unwrap();
        assert_eq!(get(&s, "ntp"), None);
        assert_eq!(settings(&reply(b"", &[42, 8, 1, 2, 3, 4])), Err(DhcpError::BadOption(42)));
    }

    #[test]
    fn option_67_overrides_the_file_field() {
        let mut opts = vec![67, 9];
        opts.extend_from_slice(b"boot.ipxe");
        opts.push(255);
        let s = settings(&reply(b"old", &opts)).unwrap();
        assert_eq!(get(&s, "filename"), Some("boot.ipxe"));
    }

    #[test]
    fn the_ack_is_told_from_a_proxy_offer_of_the_same_transaction() {
        let mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
        let ack = reply(b"", &[53, 1, 5, 54, 4, 10, 0, 2, 2, 255]);
        assert!(is_ack(&ack, &mac, [10, 0, 2, 15]));
        // Another address, another client, an OFFER rather than the ACK: not it.
        assert!(!is_ack(&ack, &mac, [10, 0, 2, 16]));
        assert!(!is_ack(&ack, &[0x52, 0x54, 0, 0x12, 0x34, 0x57], [10, 0, 2, 15]));
        assert!(!is_ack(&reply(b"", &[53, 1, 2, 255]), &mac, [10, 0, 2, 15]));
        // A ProxyDHCP offer: PXEClient, a boot file, no address.
        let mut proxy = reply(b"http://10.0.2.2/first.ipxe", &[53, 1, 2, 60, 9]);
        proxy.extend_from_slice(b"PXEClient");
        proxy.push(255);
        proxy[16..20].fill(0);
        assert!(!is_ack(&proxy, &mac, [10, 0, 2, 15]));
        assert!(!is_ack(&proxy, &mac, [0; 4]));
        // Unchecked bytes: never.
        assert!(!is_ack(&ack[..200], &mac, [10, 0, 2, 15]));
        assert!(!is_ack(&reply(b"", &[53, 1]), &mac, [10, 0, 2, 15]));
    }

    #[test]
    fn malformed() {
        assert_eq!(settings(&[2; 100]), Err(DhcpError::Truncated));
        let mut r = reply(b"", &[255]);
        r[0] = 1;
        assert_eq!(settings(&r), Err(DhcpError::NotAReply));
        assert_eq!(settings(&reply(b"", &[67, 50, b'x'])), Err(DhcpError::BadOption(67)));
        assert_eq!(settings(&reply(b"", &[3])), Err(DhcpError::BadOption(3)));
    }
}
