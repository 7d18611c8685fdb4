//! Subject alternative names given on the command line: DNS names and IP addresses,
//! checked before anything is generated or written.

use std::fmt;
use std::net::IpAddr;

use anyhow::{Result, bail};

/// Most subjectAltName entries a certificate may carry.
pub const MAX_NAMES: usize = 100;

/// One validated subject alternative name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum San {
    /// A DNS name, lower-cased; the left-most label may be `*`.
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
}

impl fmt::Display for San {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(d) => write!(f, "DNS:{d}"),
            Self::Ip(ip) => write!(f, "IP:{ip}"),
        }
    }
}

impl San {
    /// Parses a host name or an IP address (IPv6 with or without brackets).
    pub fn parse(text: &str) -> Result<Self> {
        let bare = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        match dns_name_problem(text) {
            // A trailing dot (an absolute name) is not part of a certificate's name.
            None => Ok(Self::Dns(text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase())),
            Some(why) => bail!("'{text}' is not a valid host name or IP address: {why}"),
        }
    }

    /// Fails when a certificate would carry more than [`MAX_NAMES`] names.
    pub fn check_count(count: usize, whence: &str) -> Result<()> {
        if count > MAX_NAMES {
            bail!(
                "{whence} asks for {count} names; a certificate takes at most {MAX_NAMES} (as public CAs allow)"
            );
        }
        Ok(())
    }

    /// Parses a comma-separated list, dropping duplicates.
    pub fn parse_list(items: &[String]) -> Result<Vec<Self>> {
        let mut out: Vec<Self> = Vec::new();
        for item in items.iter().flat_map(|s| s.split(',')).map(str::trim) {
            if item.is_empty() {
                bail!("empty name in --san list");
            }
            let san = Self::parse(item)?;
            if !out.contains(&san) {
                out.push(san);
                Self::check_count(out.len(), "--san")?;
            }
        }
        Ok(out)
    }
}

/// Why `name` is not an acceptable DNS name (RFC 1123 labels; one left-most wildcard).
fn dns_name_problem(name: &str) -> Option<&'static str> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.len() > 253 {
        return Some("it is longer than 253 characters");
    }
    let labels: Vec<&str> = name.split('.').collect();
    for (i, label) in labels.iter().enumerate() {
        if *label == "*" {
            if i != 0 {
                return Some("a wildcard may only be the whole left-most label");
            }
            if labels.len() < 3 {
                return Some("a wildcard needs at least two labels after it");
            }
            continue;
        }
        if label.is_empty() {
            return Some("it has an empty label");
        }
        if label.len() > 63 {
            return Some("a label is longer than 63 characters");
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Some("only letters, digits, '-' and '.' are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("a label starts or ends with '-'");
        }
    }
    if labels.last().is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit())) {
        return Some("the last label is all digits (a mistyped IP address?)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_hosts_wildcards_and_addresses() {
        let list = San::parse_list(&["Boot.Example.LAN,10.0.2.2".into(), "*.boot.lan,::1,[fe80::1]".into()])
            .unwrap();
        assert_eq!(
            list.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["DNS:boot.example.lan", "IP:10.0.2.2", "DNS:*.boot.lan", "IP:::1", "IP:fe80::1"]
        );
        assert_eq!(San::parse_list(&["a,a".into()]).unwrap().len(), 1);
        assert!(San::parse("localhost").is_ok());
    }

    #[test]
    fn rejects_bad_names() {
        for bad in ["", "a..b", "bad_name", "-a.b", "a.*.b", "*.lan", "10.0.2.300", "x y", "a.b-"] {
            assert!(San::parse(bad).is_err(), "{bad}");
        }
        assert!(San::parse_list(&["a,,b".into()]).is_err());
        let msg = San::parse("bad_name").unwrap_err().to_string();
        assert!(msg.contains("'bad_name' is not a valid host name or IP address"), "{msg}");
    }
}
