//! `http://` and `https://` URLs as boot scripts write them, and redirect targets.

use alloc::string::String;
use core::fmt;

/// The URL scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }
}

/// A parsed absolute URL borrowing its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Url<'a> {
    /// http or https.
    pub scheme: Scheme,
    /// Host name or address (IPv6 without brackets).
    pub host: &'a str,
    /// Port.
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path_and_query: &'a str,
}

/// Why a URL was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// Not http:// or https:// (tftp://, ftp://, a relative path ...).
    UnsupportedScheme,
    /// No host after the scheme.
    MissingHost,
    /// The port is not a number from 1 to 65535.
    BadPort,
    /// User information (`user:pass@`) or a character not allowed in a host.
    BadHost,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnsupportedScheme => "only http:// and https:// URLs are supported",
            Self::MissingHost => "the URL has no host",
            Self::BadPort => "the URL's port is not a number from 1 to 65535",
            Self::BadHost => "the URL's host is not valid",
        })
    }
}

impl<'a> Url<'a> {
    /// Parses an absolute http(s) URL. A fragment is dropped.
    pub fn parse(text: &'a str) -> Result<Self, UrlError> {
        let text = text.split('#').next().unwrap_or("");
        let (scheme, rest) = if let Some(r) = strip_prefix_ci(text, "http://") {
            (Scheme::Http, r)
        } else if let Some(r) = strip_prefix_ci(text, "https://") {
            (Scheme::Https, r)
        } else {
            return Err(UrlError::UnsupportedScheme);
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.contains('@') {
            return Err(UrlError::BadHost);
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or(UrlError::BadHost)?;
            let port = &v6[end + 1..];
            (&v6[..end], port.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(UrlError::MissingHost);
        }
        if !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b)) {
            return Err(UrlError::BadHost);
        }
        let port = match port {
            None => scheme.default_port(),
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(UrlError::BadPort),
                Ok(n) => n,
            },
        };
        let path_and_query = if path.is_empty() { "/" } else { path };
        Ok(Self { scheme, host, port, path_and_query })
    }

    /// The absolute URL a `Location` header points to from this URL.
    pub fn join(&self, location: &str) -> String {
        if strip_prefix_ci(location, "http://").is_some() || strip_prefix_ci(location, "https://").is_some() {
            return location.into();
        }
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        let host = if self.host.contains(':') { alloc::format!("[{}]", self.host) } else { self.host.into() };
        let authority = if self.port == self.scheme.default_port() {
            host
        } else {
            alloc::format!("{host}:{}", self.port)
        };
        if let Some(rest) = location.strip_prefix("//") {
            return alloc::format!("{scheme}://{rest}");
        }
        if location.starts_with('/') {
            return alloc::format!("{scheme}://{authority}{location}");
        }
        let path = self.path_and_query.split('?').next().unwrap_or("/");
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        alloc::format!("{scheme}://{authority}{dir}{location}")
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    if text.len() >= prefix.len() && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes()) {
        Some(&text[prefix.len()..])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_scripts_use() {
        let u = Url::parse("http://10.0.2.2/boot/vmlinuz").unwrap();
        assert_eq!(
            (u.scheme, u.host, u.port, u.path_and_query),
            (Scheme::Http, "10.0.2.2", 80, "/boot/vmlinuz")
        );
        let u = Url::parse("HTTPS://boot.example:8443?x=y#frag").unwrap();
        assert_eq!(
            (u.scheme, u.host, u.port, u.path_and_query),
            (Scheme::Https, "boot.example", 8443, "?x=y")
        );
        let u = Url::parse("http://[fe80::1]:81/a").unwrap();
        assert_eq!((u.host, u.port), ("fe80::1", 81));
        assert_eq!(Url::parse("tftp://x/y"), Err(UrlError::UnsupportedScheme));
        assert_eq!(Url::parse("http:///x"), Err(UrlError::MissingHost));
        assert_eq!(Url::parse("http://x:0/"), Err(UrlError::BadPort));
        assert_eq!(Url::parse("http://x:99999/"), Err(UrlError::BadPort));
        assert_eq!(Url::parse("http://u:p@x/"), Err(UrlError::BadHost));
        assert_eq!(Url::parse("http://a b/"), Err(UrlError::BadHost));
    }

    #[test]
    fn redirect_targets() {
        let u = Url::parse("http://h:8080/boot/dir/script.ipxe?q").unwrap();
        assert_eq!(u.join("https://other/x"), "https://other/x");
        assert_eq!(u.join("/abs"), "http://h:8080/abs");
        assert_eq!(u.join("rel.ipxe"), "http://h:8080/boot/dir/rel.ipxe");
        assert_eq!(u.join("//cdn/x"), "http://cdn/x");
    }
}
