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
    /// `user[:password]` before the host, percent-encoded as written: the credentials
    /// answered to a server's 401 (see [`crate::auth`]).
    pub userinfo: Option<&'a str>,
    /// Port.
    pub port: u16,
    /// Path and query: starting with `/`, or with `?` for a query straight after the
    /// authority (`http://h?x`), which [`Url::target`] asks for as `/?x`.
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
    /// A character not allowed in a host.
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
        let (userinfo, authority) = match authority.rsplit_once('@') {
            Some((u, a)) => (Some(u), a),
            None => (None, authority),
        };
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
        Ok(Self { scheme, host, userinfo, port, path_and_query })
    }

    /// The request target: the path and query, `/` first when the URL has no path.
    pub fn target(&self) -> alloc::borrow::Cow<'a, str> {
        match self.path_and_query.starts_with('?') {
            true => alloc::format!("/{}", self.path_and_query).into(),
            false => self.path_and_query.into(),
        }
    }

    /// The credentials the URL carries.
    pub fn credentials(&self) -> Option<crate::auth::Credentials> {
        self.userinfo.map(crate::auth::Credentials::from_userinfo)
    }

    /// The absolute URL a `Location` header points to from this URL. A relative one
    /// keeps this URL's credentials (the same origin); an absolute one carries only its own.
    pub fn join(&self, location: &str) -> String {
        if strip_prefix_ci(location, "http://").is_some() || strip_prefix_ci(location, "https://").is_some() {
            return location.into();
        }
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        let host = if self.host.contains(':') { alloc::format!("[{}]", self.host) } else { self.host.into() };
        let host = match self.userinfo {
            Some(u) => alloc::format!("{u}@{host}"),
            None => host,
        };
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
        // The directory of the path (the root when the URL has none: `http://h?x`), so a
        // relative location can never be joined onto the host name.
        let path = self.path_and_query.split('?').next().unwrap_or("/");
        let dir = match path.rfind('/') {
            Some(i) => &path[..=i],
            None => "/",
        };
        alloc::format!("{scheme}://{authority}{dir}{location}")
    }
}

/// `uri` for a message or log: a password in it (`user:password@`) shown as `***`. The
/// user information ends at the last `@` before any `?` or `#` (a password may hold a
/// `/` its writer did not encode), so in doubt more is hidden, never less.
pub fn redact(uri: &str) -> alloc::borrow::Cow<'_, str> {
    let Some(scheme_end) = uri.find("://") else { return uri.into() };
    let start = scheme_end + 3;
    let rest = &uri[start..];
    let before_query = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    let Some(at) = before_query.rfind('@') else { return uri.into() };
    match before_query[..at].split_once(':') {
        Some((user, _)) => alloc::format!("{}{user}:***{}", &uri[..start], &rest[at..]).into(),
        None => uri.into(),
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
        let u = Url::parse("http://j%40x:p%3Aw@x:81/a").unwrap();
        assert_eq!((u.userinfo, u.host, u.port), (Some("j%40x:p%3Aw"), "x", 81));
        let c = u.credentials().unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("j@x", "p:w"));
        assert_eq!(Url::parse("http://u:p@/"), Err(UrlError::MissingHost));
        assert_eq!(Url::parse("http://a b/"), Err(UrlError::BadHost));
    }

    #[test]
    fn redirect_targets() {
        let u = Url::parse("http://h:8080/boot/dir/script.ipxe?q").unwrap();
        assert_eq!(u.join("https://other/x"), "https://other/x");
        assert_eq!(u.join("/abs"), "http://h:8080/abs");
        assert_eq!(u.join("rel.ipxe"), "http://h:8080/boot/dir/rel.ipxe");
        assert_eq!(u.join("//cdn/x"), "http://cdn/x");
        // Credentials go along to the same origin only.
        let u = Url::parse("http://me:pw@h/a/b").unwrap();
        assert_eq!(u.join("c"), "http://me:pw@h/a/c");
        assert_eq!(u.join("/d"), "http://me:pw@h/d");
        assert_eq!(u.join("http://other/x"), "http://other/x");
        // No path: relative locations start at the root, never after the host name.
        let u = Url::parse("http://me:pw@boot.example?x").unwrap();
        assert_eq!(u.target(), "/?x");
        assert_eq!(u.join(".attacker.net/"), "http://me:pw@boot.example/.attacker.net/");
    }

    #[test]
    fn passwords_are_redacted_in_messages() {
        assert_eq!(redact("http://me:s3cret@h/x?a@b"), "http://me:***@h/x?a@b");
        assert_eq!(redact("https://me@h/x"), "https://me@h/x");
        assert_eq!(redact("http://h/x?u=a:b@c"), "http://h/x?u=a:b@c");
        assert_eq!(redact("kernel"), "kernel");
        assert_eq!(redact("http://me:pa/ss@h/x"), "http://me:***@h/x");
    }
}
