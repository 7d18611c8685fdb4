//! Sans-IO HTTP/1.1 for the firmware's downloads: URL parsing, request encoding and a
//! response parser that takes bytes as they arrive and hands back events.
//!
//! No sockets, no clock: the platform layer moves bytes between the TCP (or TLS)
//! connection and [`ResponseParser::feed`], which makes the code testable and fuzzable
//! on the host.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod response;
pub mod url;

pub use response::{Event, Head, HttpError, ResponseParser, Status};
pub use url::{Scheme, Url, UrlError};

use alloc::string::String;
use alloc::vec::Vec;

/// A GET request for `url`, HTTP/1.1, asking the server to close the connection after
/// the response (one download per connection keeps the state machine simple).
pub fn get_request(url: &Url<'_>, user_agent: &str) -> Vec<u8> {
    let mut host = String::from(url.host);
    if url.port != url.scheme.default_port() {
        host = alloc::format!("{host}:{}", url.port);
    }
    alloc::format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path_and_query
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes() {
        let url = Url::parse("http://10.0.2.2:8080/boot/vmlinuz?x=1").unwrap();
        let req = get_request(&url, "bootsign/0.1");
        assert_eq!(
            core::str::from_utf8(&req).unwrap(),
            "GET /boot/vmlinuz?x=1 HTTP/1.1\r\nHost: 10.0.2.2:8080\r\nUser-Agent: bootsign/0.1\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        );
        let url = Url::parse("https://boot.example").unwrap();
        assert!(
            core::str::from_utf8(&get_request(&url, "b"))
                .unwrap()
                .starts_with("GET / HTTP/1.1\r\nHost: boot.example\r\n")
        );
    }
}
