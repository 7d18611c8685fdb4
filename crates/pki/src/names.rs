//! Matching a certificate to the name it is used for: a TLS server's host name or IP
//! address, or the `--signer` name of a code-signing certificate.
//!
//! Host names match subjectAltName dNSName entries case-insensitively, with a `*` allowed
//! only as the whole left-most label and matching exactly one label. IP addresses match
//! iPAddress entries. The subject CN is consulted only for host names and only on X.509 v1
//! certificates, which cannot have a subjectAltName: the OpenSSL recipe issues v1 server
//! certificates that carry their name in the CN alone, and they must keep working. An IP
//! address is never matched against a CN (as OpenSSL and rustls-webpki).

use alloc::string::String;
use alloc::vec::Vec;

use crate::cert::{AltName, Cert};

/// What a certificate must be valid for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerName<'a> {
    /// A DNS host name.
    Dns(&'a str),
    /// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
    Ip(&'a [u8]),
}

/// Whether the DNS `pattern` from a certificate covers `host`.
pub fn dns_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() || pattern.is_empty() {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(rest) => {
            // The wildcard covers exactly one non-empty label, and needs two labels after it.
            if rest.split('.').count() < 2 || rest.contains('*') {
                return false;
            }
            match host.split_once('.') {
                Some((first, host_rest)) => !first.is_empty() && host_rest.eq_ignore_ascii_case(rest),
                None => false,
            }
        }
        None => !pattern.contains('*') && pattern.eq_ignore_ascii_case(host),
    }
}

/// An IP address as text: dotted quad, or eight groups of hex for IPv6.
pub fn ip_text(ip: &[u8]) -> String {
    match ip.len() {
        4 => alloc::format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]),
        _ => ip
            .chunks(2)
            .map(|c| alloc::format!("{:x}", u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
            .collect::<Vec<_>>()
            .join(":"),
    }
}

/// Whether `cert` is valid for `name`.
pub fn cert_matches_server(cert: &Cert<'_>, name: ServerName<'_>) -> bool {
    match (&cert.alt_names, name) {
        (Some(names), ServerName::Dns(host)) => {
            names.iter().any(|n| matches!(n, AltName::Dns(p) if dns_matches(p, host)))
        }
        (Some(names), ServerName::Ip(ip)) => names.iter().any(|n| matches!(n, AltName::Ip(a) if a == ip)),
        // The CN is a host name only on an X.509 v1 certificate (the OpenSSL recipe's server
        // certificates), which cannot carry a subjectAltName; a v3 certificate without one
        // has no name (as rustls-webpki and the CA/Browser Forum rules).
        (None, ServerName::Dns(host)) => {
            cert.version == 1 && cert.common_name.as_deref().is_some_and(|cn| dns_matches(cn, host))
        }
        // An address is never matched against the CN (as OpenSSL and rustls-webpki).
        (None, ServerName::Ip(_)) => false,
    }
}

/// Whether a code-signing certificate carries `name` (iPXE's `imgverify --signer`): its
/// common name, or one of its subjectAltName DNS names.
pub fn cert_has_name(cert: &Cert<'_>, name: &str) -> bool {
    cert.common_name.as_deref().is_some_and(|cn| cn == name)
        || cert.alt_names.iter().flatten().any(|n| matches!(n, AltName::Dns(p) if dns_matches(p, name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_left_most_label() {
        assert!(dns_matches("boot.example.lan", "BOOT.example.lan"));
        assert!(dns_matches("*.example.lan", "boot.example.lan"));
        assert!(!dns_matches("*.example.lan", "a.boot.example.lan"));
        assert!(!dns_matches("*.example.lan", "example.lan"));
        assert!(!dns_matches("*.lan", "example.lan"), "too broad");
        assert!(!dns_matches("b*.example.lan", "boot.example.lan"));
        assert!(!dns_matches("boot.*.lan", "boot.example.lan"));
        assert!(dns_matches("boot.example.lan.", "boot.example.lan"));
        assert!(!dns_matches("", ""));
    }

    #[test]
    fn ip_texts() {
        assert_eq!(ip_text(&[10, 0, 2, 2]), "10.0.2.2");
        assert_eq!(
            ip_text(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            "2001:db8:0:0:0:0:0:1"
        );
    }
}
