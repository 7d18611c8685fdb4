//! The HTTP/1.1 response parser: status line and headers, then a body framed by
//! Content-Length, chunked transfer coding, or the end of the connection.
//!
//! [`ResponseParser::feed`] takes whatever bytes have arrived and returns how many it
//! consumed plus at most one [`Event`]; body bytes are handed out as slices of the input,
//! never copied. `(0, None)` means "call again with more bytes". At end of stream the
//! caller calls [`ResponseParser::finish`], which tells a complete close-delimited body
//! from a truncated one.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

pub use crate::range::ContentRange;

/// The longest status line plus headers accepted.
pub const MAX_HEAD: usize = 16 * 1024;

/// What went wrong with a response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    /// The status line is not `HTTP/1.x NNN reason`.
    BadStatusLine,
    /// A header line without a colon, or with bytes that are not text.
    BadHeader,
    /// The head is larger than [`MAX_HEAD`].
    HeadTooLarge,
    /// Content-Length is not a number, or two differ.
    BadContentLength,
    /// A transfer coding other than chunked.
    UnsupportedTransferEncoding(String),
    /// A malformed chunk size line or chunk terminator.
    BadChunk,
    /// The connection ended before the body was complete.
    Truncated {
        /// Body bytes received.
        received: u64,
        /// Body bytes announced, when known.
        expected: Option<u64>,
    },
    /// Bytes after the end of the response.
    TrailingData,
    /// A Content-Range that is not `bytes FIRST-LAST/LENGTH` (or `bytes */LENGTH`).
    BadContentRange,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadStatusLine => f.write_str("the server's response is not HTTP (bad status line)"),
            Self::BadHeader => f.write_str("the server sent a malformed header"),
            Self::HeadTooLarge => write!(f, "the server's response headers exceed {MAX_HEAD} bytes"),
            Self::BadContentLength => f.write_str("the server sent a bad Content-Length"),
            Self::UnsupportedTransferEncoding(te) => write!(f, "unsupported Transfer-Encoding '{te}'"),
            Self::BadChunk => f.write_str("the server sent a malformed chunk"),
            Self::Truncated { received, expected: Some(e) } => {
                write!(f, "the connection closed after {received} of {e} bytes")
            }
            Self::Truncated { received, expected: None } => {
                write!(f, "the connection closed in the middle of a chunk after {received} bytes")
            }
            Self::TrailingData => f.write_str("the server sent data after the end of the response"),
            Self::BadContentRange => f.write_str("the server sent a malformed Content-Range"),
        }
    }
}

/// What the status code means for a download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 2xx.
    Success,
    /// 301, 302, 303, 307, 308 with a Location.
    Redirect,
    /// Anything else: an error to report.
    Failure,
}

/// The status line and the headers the client uses. (`Default` is an empty head with
/// status 0: the parser and tests fill in what they have.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Head {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Content-Length, when given.
    pub content_length: Option<u64>,
    /// Whether the body is chunked.
    pub chunked: bool,
    /// Location, for redirects.
    pub location: Option<String>,
    /// Whether the status line said HTTP/1.0 (no persistent connections unless asked).
    pub http10: bool,
    /// What the Connection header said: `close`, `keep-alive`, or nothing.
    pub connection: ConnectionHeader,
    /// ETag, verbatim (`"abc"` or `W/"abc"`).
    pub etag: Option<String>,
    /// Last-Modified, verbatim.
    pub last_modified: Option<String>,
    /// Date, verbatim (for a Retry-After given as a date).
    pub date: Option<String>,
    /// Retry-After, verbatim (delta-seconds or an HTTP-date); see [`crate::retry::retry_after_ms`].
    pub retry_after: Option<String>,
    /// Content-Range, parsed (a 206 answer, or a 416 with `bytes */len`).
    pub content_range: Option<ContentRange>,
    /// Each WWW-Authenticate header's value (a 401's challenges).
    pub www_authenticate: Vec<String>,
}

/// The Connection header's say on persistence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConnectionHeader {
    /// No Connection header (or one naming neither option).
    #[default]
    Unspecified,
    /// `Connection: close`.
    Close,
    /// `Connection: keep-alive`.
    KeepAlive,
}

impl Head {
    /// How a download should treat this response.
    pub fn classify(&self) -> Status {
        match self.status {
            200..=299 => Status::Success,
            301 | 302 | 303 | 307 | 308 if self.location.is_some() => Status::Redirect,
            _ => Status::Failure,
        }
    }
}

/// A parser event.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// The head arrived.
    Head(Box<Head>),
    /// Body bytes (a slice of the input).
    Body(&'a [u8]),
    /// The body is complete.
    End,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Head,
    Body { remaining: u64 },
    UntilClose,
    ChunkSize,
    ChunkData { remaining: u64 },
    ChunkEnd,
    Trailers,
    Complete,
    Done,
}

/// An incremental response parser.
#[derive(Clone, Debug)]
pub struct ResponseParser {
    state: State,
    head_request: bool,
    received: u64,
    expected: Option<u64>,
    persistent: bool,
}

fn find_line(input: &[u8]) -> Option<(usize, usize)> {
    let nl = input.iter().position(|&b| b == b'\n')?;
    let end = if nl > 0 && input[nl - 1] == b'\r' { nl - 1 } else { nl };
    Some((end, nl + 1))
}

fn find_head_end(input: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let (end, next) = find_line(&input[at..])?;
        if end == 0 {
            return Some(at + next);
        }
        at += next;
    }
}

impl ResponseParser {
    /// A parser for the response to a GET (`head_request` false) or a HEAD request.
    pub fn new(head_request: bool) -> Self {
        Self { state: State::Head, head_request, received: 0, expected: None, persistent: false }
    }

    /// Body bytes delivered so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether the whole response has been parsed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether the connection may carry another request: the response is complete, its
    /// body was framed by length or chunks (not by the end of the connection), and neither
    /// `Connection: close` nor HTTP/1.0 without `Connection: keep-alive` ruled it out.
    pub fn reusable(&self) -> bool {
        self.persistent && matches!(self.state, State::Complete | State::Done)
    }

    /// Consumes bytes from `input`; see the module documentation.
    pub fn feed<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Option<Event<'a>>), HttpError> {
        match self.state {
            State::Head => self.head(input),
            State::Body { remaining } => {
                if input.is_empty() {
                    return Ok((0, None));
                }
                let n = usize::try_from(remaining).unwrap_or(usize::MAX).min(input.len());
                self.received += n as u64;
                let left = remaining - n as u64;
                self.state = if left == 0 { State::Complete } else { State::Body { remaining: left } };
                Ok((n, Some(Event::Body(&input[..n]))))
            }
            State::UntilClose => {
                if input.is_empty() {
                    return Ok((0, None));
                }
                self.received += input.len() as u64;
                Ok((input.len(), Some(Event::Body(input))))
            }
            State::ChunkSize => {
                let Some((end, next)) = find_line(input) else {
                    return if input.len() > 1024 { Err(HttpError::BadChunk) } else { Ok((0, None)) };
                };
                let line = &input[..end];
                let digits = line.split(|&b| b == b';').next().unwrap_or(&[]);
                let digits = trim(digits);
                if digits.is_empty() || digits.len() > 15 {
                    return Err(HttpError::BadChunk);
                }
                let mut size = 0u64;
                for &d in digits {
                    let v = (d as char).to_digit(16).ok_or(HttpError::BadChunk)?;
                    size = (size << 4) | u64::from(v);
                }
                self.state = if size == 0 { State::Trailers } else { State::ChunkData { remaining: size } };
                Ok((next, None))
            }
            State::ChunkData { remaining } => {
                if input.is_empty() {
                    return Ok((0, None));
                }
                let n = usize::try_from(remaining).unwrap_or(usize::MAX).min(input.len());
                self.received += n as u64;
                let left = remaining - n as u64;
                self.state = if left == 0 { State::ChunkEnd } else { State::ChunkData { remaining: left } };
                Ok((n, Some(Event::Body(&input[..n]))))
            }
            State::ChunkEnd => match input {
                [b'\r', b'\n', ..] => {
                    self.state = State::ChunkSize;
                    Ok((2, None))
                }
                [b'\n', ..] => {
                    self.state = State::ChunkSize;
                    Ok((1, None))
                }
                [] | [b'\r'] => Ok((0, None)),
                _ => Err(HttpError::BadChunk),
            },
            State::Trailers => {
                let Some((end, next)) = find_line(input) else {
                    return if input.len() > MAX_HEAD { Err(HttpError::HeadTooLarge) } else { Ok((0, None)) };
                };
                if end == 0 {
                    self.state = State::Complete;
                }
                Ok((next, None))
            }
            State::Complete => {
                self.state = State::Done;
                Ok((0, Some(Event::End)))
            }
            State::Done => {
                if input.is_empty() {
                    Ok((0, None))
                } else {
                    Err(HttpError::TrailingData)
                }
            }
        }
    }

    /// The connection ended: returns the final [`Event::End`] for a close-delimited body,
    /// or an error if the response was cut short.
    pub fn finish(&mut self) -> Result<Option<Event<'static>>, HttpError> {
        match self.state {
            State::UntilClose | State::Complete => {
                self.state = State::Done;
                Ok(Some(Event::End))
            }
            State::Done => Ok(None),
            State::Head => Err(HttpError::BadStatusLine),
            _ => Err(HttpError::Truncated { received: self.received, expected: self.expected }),
        }
    }

    fn head<'a>(&mut self, input: &'a [u8]) -> Result<(usize, Option<Event<'a>>), HttpError> {
        let Some(len) = find_head_end(input) else {
            return if input.len() > MAX_HEAD { Err(HttpError::HeadTooLarge) } else { Ok((0, None)) };
        };
        if len > MAX_HEAD {
            return Err(HttpError::HeadTooLarge);
        }
        let text = core::str::from_utf8(&input[..len]).map_err(|_| HttpError::BadHeader)?;
        let mut lines = text.lines();
        let status_line = lines.next().ok_or(HttpError::BadStatusLine)?;
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        if !(version == "HTTP/1.1" || version == "HTTP/1.0") {
            return Err(HttpError::BadStatusLine);
        }
        let code = parts.next().unwrap_or("");
        if code.len() != 3 {
            return Err(HttpError::BadStatusLine);
        }
        let status: u16 = code.parse().map_err(|_| HttpError::BadStatusLine)?;
        if !(100..=599).contains(&status) {
            return Err(HttpError::BadStatusLine);
        }
        let mut head = Head {
            status,
            reason: parts.next().unwrap_or("").trim().to_string(),
            http10: version == "HTTP/1.0",
            ..Head::default()
        };
        for line in lines {
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').ok_or(HttpError::BadHeader)?;
            if name.is_empty() || name.bytes().any(|b| b == b' ' || b == b'\t') {
                return Err(HttpError::BadHeader);
            }
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                let n: u64 = value.parse().map_err(|_| HttpError::BadContentLength)?;
                if head.content_length.is_some_and(|old| old != n) {
                    return Err(HttpError::BadContentLength);
                }
                head.content_length = Some(n);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                for coding in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    if coding.eq_ignore_ascii_case("chunked") {
                        head.chunked = true;
                    } else if !coding.eq_ignore_ascii_case("identity") {
                        return Err(HttpError::UnsupportedTransferEncoding(coding.to_string()));
                    }
                }
            } else if name.eq_ignore_ascii_case("location") {
                head.location = Some(value.to_string());
            } else if name.eq_ignore_ascii_case("connection") {
                // A list of options; `close` wins over anything else named with it.
                for option in value.split(',').map(str::trim) {
                    if option.eq_ignore_ascii_case("close") {
                        head.connection = ConnectionHeader::Close;
                    } else if option.eq_ignore_ascii_case("keep-alive")
                        && head.connection != ConnectionHeader::Close
                    {
                        head.connection = ConnectionHeader::KeepAlive;
                    }
                }
            } else if name.eq_ignore_ascii_case("etag") {
                head.etag = Some(value.to_string());
            } else if name.eq_ignore_ascii_case("last-modified") {
                head.last_modified = Some(value.to_string());
            } else if name.eq_ignore_ascii_case("date") {
                head.date = Some(value.to_string());
            } else if name.eq_ignore_ascii_case("retry-after") {
                head.retry_after = Some(value.to_string());
            } else if name.eq_ignore_ascii_case("www-authenticate") {
                head.www_authenticate.push(value.to_string());
            } else if name.eq_ignore_ascii_case("content-range") {
                head.content_range = Some(ContentRange::parse(value)?);
            }
        }
        if (100..200).contains(&status) {
            // 100 Continue and friends: the real response follows.
            return Ok((len, None));
        }
        self.persistent = match head.connection {
            ConnectionHeader::Close => false,
            ConnectionHeader::KeepAlive => true,
            ConnectionHeader::Unspecified => !head.http10,
        };
        let no_body = self.head_request || status == 204 || status == 304;
        self.state = if no_body {
            State::Complete
        } else if head.chunked {
            State::ChunkSize
        } else {
            match head.content_length {
                Some(0) => State::Complete,
                Some(n) => {
                    self.expected = Some(n);
                    State::Body { remaining: n }
                }
                None => {
                    // Only the end of the connection ends this body.
                    self.persistent = false;
                    State::UntilClose
                }
            }
        };
        Ok((len, Some(Event::Head(Box::new(head)))))
    }
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if !first.is_ascii_whitespace() {
            break;
        }
        b = rest;
    }
    while let [rest @ .., last] = b {
        if !last.is_ascii_whitespace() {
            break;
        }
        b = rest;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Feeds `input` in pieces of `step` bytes, as a socket might deliver it, and
    /// collects the head, the body and whether End was seen.
    fn run(input: &[u8], step: usize, eof: bool) -> Result<(Head, Vec<u8>, bool), HttpError> {
        let mut p = ResponseParser::new(false);
        let mut buf: Vec<u8> = Vec::new();
        let mut head = None;
        let mut body = Vec::new();
        let mut ended = false;
        for piece in input.chunks(step.max(1)) {
            buf.extend_from_slice(piece);
            loop {
                let (n, ev) = p.feed(&buf)?;
                match ev {
                    Some(Event::Head(h)) => head = Some(*h),
                    Some(Event::Body(b)) => body.extend_from_slice(b),
                    Some(Event::End) => ended = true,
                    None if n == 0 => break,
                    None => {}
                }
                buf.drain(..n);
            }
        }
        if eof && let Some(Event::End) = p.finish()? {
            ended = true;
        }
        Ok((head.ok_or(HttpError::BadStatusLine)?, body, ended))
    }

    #[test]
    fn content_length_in_any_pieces() {
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX: y\r\n\r\nhello world";
        for step in [1, 2, 7, 100] {
            let (head, body, ended) = run(resp, step, false).unwrap();
            assert_eq!((head.status, head.reason.as_str(), head.content_length), (200, "OK", Some(11)));
            assert_eq!(body, b"hello world");
            assert!(ended, "step {step}");
        }
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=v\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
        for step in [1, 3, 64] {
            let (head, body, ended) = run(resp, step, false).unwrap();
            assert!(head.chunked);
            assert_eq!(body, b"hello world");
            assert!(ended);
        }
    }

    #[test]
    fn close_delimited_and_truncated_bodies() {
        let (_, body, ended) = run(b"HTTP/1.0 200 OK\r\n\r\nuntil the end", 4, true).unwrap();
        assert_eq!((body.as_slice(), ended), (&b"until the end"[..], true));
        assert_eq!(
            run(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 4, true).unwrap_err(),
            HttpError::Truncated { received: 5, expected: Some(10) }
        );
        assert!(matches!(
            run(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", 4, true).unwrap_err(),
            HttpError::Truncated { .. }
        ));
    }

    #[test]
    fn statuses_redirects_and_continue() {
        let (h, _, _) = run(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
            5,
            false,
        )
        .unwrap();
        assert_eq!((h.status, h.classify(), h.location.as_deref()), (302, Status::Redirect, Some("/x")));
        let (h, body, _) =
            run(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", 50, false).unwrap();
        assert_eq!((h.classify(), h.reason.as_str(), body.len()), (Status::Failure, "Not Found", 9));
        let (h, _, ended) = run(b"HTTP/1.1 204 No Content\r\n\r\n", 50, false).unwrap();
        assert_eq!((h.classify(), ended), (Status::Success, true));
        // LF-only line ends are tolerated.
        let (h, body, _) = run(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 3, false).unwrap();
        assert_eq!((h.status, body.as_slice()), (200, &b"ok"[..]));
    }

    /// Feeds a whole response and says whether its connection may be reused.
    fn reusable(input: &[u8]) -> bool {
        let mut p = ResponseParser::new(false);
        let mut at = 0;
        while at < input.len() {
            let (n, ev) = p.feed(&input[at..]).unwrap();
            at += n;
            if n == 0 && ev.is_none() {
                break;
            }
        }
        let _ = p.feed(&[]).unwrap();
        p.reusable()
    }

    #[test]
    fn which_connections_may_be_reused() {
        assert!(reusable(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        assert!(reusable(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
        assert!(reusable(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"));
        assert!(reusable(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok"));
        assert!(!reusable(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        assert!(!reusable(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"));
        assert!(!reusable(
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok"
        ));
        // Close-delimited: only the end of the connection ends the body.
        assert!(!reusable(b"HTTP/1.1 200 OK\r\n\r\nuntil the end"));
        // Not yet complete.
        assert!(!reusable(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok"));
    }

    #[test]
    fn resume_and_retry_headers() {
        let (h, body, _) = run(
            b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 2-3/4\r\nContent-Length: 2\r\n\
              ETag: \"abc\"\r\nLast-Modified: Sat, 05 Dec 2026 10:00:00 GMT\r\nRetry-After: 3\r\n\
              Date: Sat, 05 Dec 2026 10:00:01 GMT\r\n\r\ncd",
            4,
            false,
        )
        .unwrap();
        assert_eq!(h.content_range, Some(ContentRange { range: Some((2, 3)), length: Some(4) }));
        assert_eq!(h.etag.as_deref(), Some("\"abc\""));
        assert_eq!(h.last_modified.as_deref(), Some("Sat, 05 Dec 2026 10:00:00 GMT"));
        assert_eq!(h.date.as_deref(), Some("Sat, 05 Dec 2026 10:00:01 GMT"));
        assert_eq!(h.retry_after.as_deref(), Some("3"));
        assert_eq!(body, b"cd");
        assert_eq!(
            run(b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 3-2/4\r\n\r\n", 100, false)
                .unwrap_err(),
            HttpError::BadContentRange
        );
    }

    #[test]
    fn malformed_responses() {
        let bad = |r: &[u8]| run(r, 1000, true).unwrap_err();
        assert_eq!(bad(b"SSH-2.0-OpenSSH\r\n\r\n"), HttpError::BadStatusLine);
        assert_eq!(bad(b"HTTP/1.1 2000 OK\r\n\r\n"), HttpError::BadStatusLine);
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"), HttpError::BadHeader);
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), HttpError::BadContentLength);
        assert_eq!(
            bad(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            HttpError::BadContentLength
        );
        assert_eq!(
            bad(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
            HttpError::UnsupportedTransferEncoding("gzip".into())
        );
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), HttpError::BadChunk);
        assert_eq!(
            bad(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX"),
            HttpError::BadChunk
        );
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab"), HttpError::TrailingData);
        let mut huge = Vec::from(&b"HTTP/1.1 200 OK\r\n"[..]);
        huge.resize(MAX_HEAD + 10, b'a');
        assert_eq!(bad(&huge), HttpError::HeadTooLarge);
        assert_eq!(ResponseParser::new(false).finish().unwrap_err(), HttpError::BadStatusLine);
    }
}
