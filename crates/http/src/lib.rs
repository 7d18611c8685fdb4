//! Sans-IO HTTP/1.1 for the firmware's downloads: URL parsing, request encoding and a
//! response parser that takes bytes as they arrive and hands back events, resuming
//! ([`range`]) and the retry policy ([`retry`]).
//!
//! No sockets, no clock: the platform layer moves bytes between the TCP (or TLS)
//! connection and [`ResponseParser::feed`], which makes the code testable and fuzzable
//! on the host.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod auth;
pub mod date;
pub mod range;
pub mod response;
pub mod retry;
pub mod url;

pub use range::{ContentRange, RangeAnswer, RangeError, Resume, Validator};
pub use response::{ConnectionHeader, Event, Head, HttpError, ResponseParser, Status};
pub use retry::{Decision, Failure, GiveUp, Retries, RetryPolicy};
pub use url::{Scheme, Url, UrlError};

use alloc::string::String;
use alloc::vec::Vec;

/// A GET request for `url`, HTTP/1.1 with a persistent connection (the default in 1.1, so
/// no Connection header): the connection may carry the next download to the same origin.
/// With `resume`, only the rest of the file from `resume.from` on is asked for, and only
/// if it is still the version the validator names (`If-Range`; otherwise the server sends
/// the whole new file).
///
/// `authorization` is an `Authorization` header's value, sent only to answer a server's
/// challenge (see [`auth`]).
pub fn get_request(
    url: &Url<'_>,
    user_agent: &str,
    resume: Option<&Resume>,
    authorization: Option<&str>,
) -> Vec<u8> {
    let host = host_header(url, authorization);
    let range = match resume {
        Some(r) => alloc::format!("Range: bytes={}-\r\nIf-Range: {}\r\n", r.from, r.validator.as_str()),
        None => String::new(),
    };
    alloc::format!(
        "GET {} HTTP/1.1\r\n{host}User-Agent: {user_agent}\r\nAccept: */*\r\n{range}\r\n",
        url.target()
    )
    .into_bytes()
}

/// The Host header (the host, with the port when it is not the scheme's), then the
/// Authorization header when there is one.
fn host_header(url: &Url<'_>, authorization: Option<&str>) -> String {
    let host = if url.host.contains(':') { alloc::format!("[{}]", url.host) } else { String::from(url.host) };
    let mut out = if url.port == url.scheme.default_port() {
        alloc::format!("Host: {host}\r\n")
    } else {
        alloc::format!("Host: {host}:{}\r\n", url.port)
    };
    if let Some(a) = authorization {
        out.push_str("Authorization: ");
        out.push_str(a);
        out.push_str("\r\n");
    }
    out
}

/// A POST of `body` (of `content_type`) to `url`, with `authorization` as in
/// [`get_request`].
pub fn post_request(
    url: &Url<'_>,
    user_agent: &str,
    content_type: &str,
    body: &[u8],
    authorization: Option<&str>,
) -> Vec<u8> {
    let host = host_header(url, authorization);
    let mut request = alloc::format!(
        "POST {} HTTP/1.1\r\n{host}User-Agent: {user_agent}\r\nAccept: */*\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        url.target(),
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_bytes() {
        let url = Url::parse("https://boot.example/hw?id=1").unwrap();
        let req = post_request(&url, "b", "application/x-www-form-urlencoded", b"mac=52%3A54&x=1", None);
        assert_eq!(
            core::str::from_utf8(&req).unwrap(),
            "POST /hw?id=1 HTTP/1.1\r\nHost: boot.example\r\nUser-Agent: b\r\nAccept: */*\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 15\r\n\r\nmac=52%3A54&x=1"
        );
    }

    #[test]
    fn request_bytes() {
        let url = Url::parse("http://10.0.2.2:8080/boot/vmlinuz?x=1").unwrap();
        let req = get_request(&url, "bootsign/0.1", None, None);
        assert_eq!(
            core::str::from_utf8(&req).unwrap(),
            "GET /boot/vmlinuz?x=1 HTTP/1.1\r\nHost: 10.0.2.2:8080\r\nUser-Agent: bootsign/0.1\r\nAccept: */*\r\n\r\n"
        );
        let resume = Resume { from: 1000, length: Some(2000), validator: Validator::ETag("\"v1\"".into()) };
        assert_eq!(
            core::str::from_utf8(&get_request(&url, "b", Some(&resume), None)).unwrap(),
            "GET /boot/vmlinuz?x=1 HTTP/1.1\r\nHost: 10.0.2.2:8080\r\nUser-Agent: b\r\nAccept: */*\r\n\
             Range: bytes=1000-\r\nIf-Range: \"v1\"\r\n\r\n"
        );
        let url = Url::parse("https://boot.example").unwrap();
        assert!(
            core::str::from_utf8(&get_request(&url, "b", None, None))
                .unwrap()
                .starts_with("GET / HTTP/1.1\r\nHost: boot.example\r\n")
        );
        let url = Url::parse("http://u:p@[fe80::1]:81/x").unwrap();
        assert_eq!(
            core::str::from_utf8(&get_request(&url, "b", None, Some("Basic dTpw"))).unwrap(),
            "GET /x HTTP/1.1\r\nHost: [fe80::1]:81\r\nAuthorization: Basic dTpw\r\nUser-Agent: b\r\nAccept: */*\r\n\r\n"
        );
    }
}
