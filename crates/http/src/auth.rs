//! HTTP authentication as iPXE does it: the credentials come only from the URL
//! (`http://user:password@host/...`, which scripts write as
//! `${username:uristring}:${password:uristring}@` after `login`), and they are sent only
//! when the server asks for them: a 401 answer's `WWW-Authenticate` challenge, answered
//! once. Basic (RFC 7617) and Digest with MD5 (RFC 7616, `qop=auth` or RFC 2069 without
//! `qop`) are spoken; Digest is preferred when a server offers both.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write;

use md5::{Digest as _, Md5};

/// The user name and password of a URL's `user:password@`, percent-decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub user: String,
    /// The password (empty when the URL gives none).
    pub password: String,
}

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).finish_non_exhaustive()
    }
}

/// A Digest challenge's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestChallenge {
    /// The protection space.
    pub realm: String,
    /// The server's nonce.
    pub nonce: String,
    /// Returned as given.
    pub opaque: Option<String>,
    /// Whether the server offered `qop=auth` (else the RFC 2069 form is used).
    pub qop_auth: bool,
}

/// A challenge bootsign can answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="..."`.
    Basic,
    /// `Digest realm="...", nonce="..."` with MD5.
    Digest(DigestChallenge),
}

/// Why a 401 cannot be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// The URL carries no `user@`.
    NoCredentials,
    /// The server asked only for schemes (or Digest algorithms) bootsign lacks; their
    /// names as the server gave them.
    Unsupported(String),
    /// The 401 named no scheme at all.
    NoChallenge,
    /// The user name holds a control character, which a Digest answer would carry into
    /// the request's headers.
    ControlInUser,
}

impl core::fmt::Display for AuthError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoCredentials => f.write_str(
                "the server asks for a user name and password, and the URL has none \
                 (write them as http://${username:uristring}:${password:uristring}@host/...)",
            ),
            Self::Unsupported(schemes) => write!(
                f,
                "the server asks for authentication bootsign does not speak ({schemes}); \
                 Basic and Digest with MD5 are supported"
            ),
            Self::NoChallenge => f.write_str("the server answered 401 without a WWW-Authenticate challenge"),
            Self::ControlInUser => f.write_str("the user name in the URL holds a control character"),
        }
    }
}

impl Credentials {
    /// The credentials in a URL's user information (`user[:password]`, percent-encoded).
    pub fn from_userinfo(userinfo: &str) -> Self {
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        Self { user: percent_decode(user), password: percent_decode(password) }
    }

    /// The `Authorization` header's value answering `challenge` for a `method` request of
    /// `uri` (the request target, path and query). `cnonce` is the client's nonce for
    /// Digest: random, made of token characters. The answer is one header line: a user
    /// name with a control character in it is refused.
    pub fn authorization(
        &self,
        challenge: &Challenge,
        method: &str,
        uri: &str,
        cnonce: &str,
    ) -> Result<String, AuthError> {
        if self.user.chars().any(char::is_control) {
            return Err(AuthError::ControlInUser);
        }
        Ok(match challenge {
            Challenge::Basic => {
                let pair = format!("{}:{}", self.user, self.password);
                format!("Basic {}", base64(pair.as_bytes()))
            }
            Challenge::Digest(d) => {
                let ha1 = md5_hex(&format!("{}:{}:{}", self.user, d.realm, self.password));
                let ha2 = md5_hex(&format!("{method}:{uri}"));
                let mut header = format!(
                    "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", algorithm=MD5",
                    quote(&self.user),
                    quote(&d.realm),
                    quote(&d.nonce),
                    quote(uri)
                );
                let response = if d.qop_auth {
                    const NC: &str = "00000001";
                    let _ = write!(header, ", qop=auth, nc={NC}, cnonce=\"{}\"", quote(cnonce));
                    md5_hex(&format!("{ha1}:{}:{NC}:{cnonce}:auth:{ha2}", d.nonce))
                } else {
                    md5_hex(&format!("{ha1}:{}:{ha2}", d.nonce))
                };
                let _ = write!(header, ", response=\"{response}\"");
                if let Some(o) = &d.opaque {
                    let _ = write!(header, ", opaque=\"{}\"", quote(o));
                }
                header
            }
        })
    }
}

/// The challenge to answer among a 401's `WWW-Authenticate` values: Digest (MD5) before
/// Basic. An error says what the server asked for instead.
pub fn choose(headers: &[String]) -> Result<Challenge, AuthError> {
    let mut found = Vec::new();
    let mut others = Vec::new();
    for value in headers {
        for (scheme, params) in challenges(value) {
            if scheme.eq_ignore_ascii_case("basic") {
                found.push(Challenge::Basic);
            } else if scheme.eq_ignore_ascii_case("digest") {
                match digest(&params) {
                    Ok(d) => found.push(Challenge::Digest(d)),
                    Err(why) => others.push(format!("Digest {why}")),
                }
            } else {
                others.push(scheme.to_string());
            }
        }
    }
    if let Some(d) = found.iter().find(|c| matches!(c, Challenge::Digest(_))) {
        return Ok(d.clone());
    }
    match found.into_iter().next() {
        Some(c) => Ok(c),
        None if others.is_empty() => Err(AuthError::NoChallenge),
        None => Err(AuthError::Unsupported(others.join(", "))),
    }
}

/// A Digest challenge bootsign can answer: MD5 (or no algorithm named), a nonce, and
/// either no `qop` or one offering `auth`; else what it asks for instead.
fn digest(params: &[(String, String)]) -> Result<DigestChallenge, String> {
    if let Some(a) = param(params, "algorithm").filter(|a| !a.eq_ignore_ascii_case("md5")) {
        return Err(a.into());
    }
    let qop = param(params, "qop");
    let qop_auth = qop.is_some_and(|q| q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")));
    if let Some(q) = qop.filter(|_| !qop_auth) {
        return Err(format!("qop={q}"));
    }
    // What is echoed into the Authorization header must stay one header line.
    if params.iter().any(|(_, v)| v.chars().any(char::is_control)) {
        return Err("with a control character in a parameter".into());
    }
    Ok(DigestChallenge {
        realm: param(params, "realm").unwrap_or("").into(),
        nonce: param(params, "nonce").ok_or("without a nonce")?.into(),
        opaque: param(params, "opaque").map(Into::into),
        qop_auth,
    })
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// The challenges in one `WWW-Authenticate` value (RFC 9110 §11.6.1): each a scheme
/// followed by comma-separated `name=value` parameters (a token or a quoted string), a
/// new challenge starting at a scheme name followed by a space.
fn challenges(value: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut rest = value.trim_start();
    while !rest.is_empty() {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        let end = rest.find(|c: char| !is_tchar(c)).unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        let (token, after) = rest.split_at(end);
        let after_ws = after.trim_start_matches([' ', '\t']);
        if let Some(v) = after_ws.strip_prefix('=').filter(|_| !out.is_empty()) {
            // A parameter of the current challenge (a token68 ends in `=` too, but
            // neither scheme spoken here uses one).
            let v = v.trim_start_matches([' ', '\t']);
            let (value, left) = match v.strip_prefix('"') {
                Some(q) => quoted(q),
                None => {
                    let e = v.find([',', ' ', '\t']).unwrap_or(v.len());
                    (v[..e].to_string(), &v[e..])
                }
            };
            if let Some(last) = out.last_mut() {
                last.1.push((token.to_string(), value));
            }
            rest = left;
        } else {
            out.push((token.to_string(), Vec::new()));
            rest = after;
        }
    }
    out
}

/// A quoted string's value (after its opening quote) and what follows its closing one.
fn quoted(text: &str) -> (String, &str) {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (value, &text[i + 1..]),
            '\\' => {
                if let Some((_, e)) = chars.next() {
                    value.push(e);
                }
            }
            c => value.push(c),
        }
    }
    (value, "")
}

/// RFC 9110's token characters.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// `text` with `"` and `\` escaped for a quoted string.
fn quote(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn md5_hex(text: &str) -> String {
    let mut out = String::with_capacity(32);
    for b in Md5::digest(text.as_bytes()) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Standard base64 with padding.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

/// `%XX` decoded (a malformed escape stays as written), as UTF-8 with replacement.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| core::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn basic_is_rfc_7617s_example() {
        let c = Credentials::from_userinfo("Aladdin:open%20sesame");
        assert_eq!(c.password, "open sesame");
        let header =
            c.authorization(&choose(&s(&["Basic realm=\"WallyWorld\""])).unwrap(), "GET", "/", "x").unwrap();
        assert_eq!(header, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }

    #[test]
    fn digest_is_rfc_2617s_example() {
        // RFC 2617 §3.5.
        let challenge = choose(&s(&[r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#]))
        .unwrap();
        let c = Credentials::from_userinfo("Mufasa:Circle%20Of%20Life");
        let header = c.authorization(&challenge, "GET", "/dir/index.html", "0a4f113b").unwrap();
        assert_eq!(
            header,
            "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", algorithm=MD5, \
             qop=auth, nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""
        );
        // RFC 2069 (no qop): MD5(HA1:nonce:HA2).
        let old = choose(&s(&["Digest realm=\"r\", nonce=\"n\""])).unwrap();
        let header = c.authorization(&old, "GET", "/", "x").unwrap();
        let ha1 = md5_hex("Mufasa:r:Circle Of Life");
        let expected = md5_hex(&format!("{ha1}:n:{}", md5_hex("GET:/")));
        assert!(header.ends_with(&format!("response=\"{expected}\"")), "{header}");
    }

    #[test]
    fn digest_wins_and_what_cannot_be_answered_is_named() {
        let both = s(&["Basic realm=\"a\"", "Digest realm=\"a\", nonce=\"n\", qop=auth"]);
        assert!(matches!(choose(&both).unwrap(), Challenge::Digest(d) if d.qop_auth && d.nonce == "n"));
        // Two challenges in one header.
        let one = s(&["Negotiate, Basic realm=\"x, y\", charset=\"UTF-8\""]);
        assert_eq!(choose(&one).unwrap(), Challenge::Basic);
        assert_eq!(
            choose(&s(&["Digest realm=\"a\", nonce=\"n\", algorithm=SHA-256", "NTLM"])).unwrap_err(),
            AuthError::Unsupported("Digest SHA-256, NTLM".into())
        );
        assert_eq!(
            choose(&s(&["Digest realm=\"a\", nonce=\"n\", qop=\"auth-int\"", "Digest realm=\"a\""]))
                .unwrap_err(),
            AuthError::Unsupported("Digest qop=auth-int, Digest without a nonce".into())
        );
        assert_eq!(choose(&[]).unwrap_err(), AuthError::NoChallenge);
        // A control character in a parameter (a bare CR survives header parsing).
        assert_eq!(
            choose(&s(&["Digest realm=\"a\rX-Evil: 1\", nonce=\"n\""])).unwrap_err(),
            AuthError::Unsupported("Digest with a control character in a parameter".into())
        );
        // Escapes inside quoted strings.
        let q = choose(&s(&[r#"Digest realm="a \"b\"", nonce="n\\m""#])).unwrap();
        assert!(matches!(q, Challenge::Digest(d) if d.realm == "a \"b\"" && d.nonce == "n\\m"));
    }

    #[test]
    fn credentials_never_print_the_password() {
        let c = Credentials::from_userinfo("u:secret");
        assert!(!format!("{c:?}").contains("secret"));
        assert_eq!(Credentials::from_userinfo("only").password, "");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        // A decoded line break cannot reach the headers.
        let evil = Credentials::from_userinfo("a%0d%0aX-Evil:%201:p");
        assert_eq!(evil.authorization(&Challenge::Basic, "GET", "/", "c"), Err(AuthError::ControlInUser));
    }
}
