//! Resuming a download: the `Range`/`If-Range` request headers and the check of what the
//! server answered.
//!
//! A download cut after `from` bytes asks for `Range: bytes=from-` with `If-Range` set to
//! the first response's validator: its ETag when that is strong, else its Last-Modified.
//! The server then sends either the rest (`206 Partial Content` with a `Content-Range`
//! that must start at `from` and end at the length first announced) or, when the file
//! changed, the whole new file (`200`), which means starting over. Without any validator
//! the download is not resumed: nothing would tell the old bytes from a different file's.

use alloc::string::String;
use core::fmt;

use crate::response::{Head, HttpError};

/// A parsed `Content-Range: bytes FIRST-LAST/LENGTH` (or `bytes */LENGTH`, `bytes FIRST-LAST/*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentRange {
    /// First and last byte positions (inclusive), or `None` for `*`.
    pub range: Option<(u64, u64)>,
    /// The complete length, or `None` for `*`.
    pub length: Option<u64>,
}

fn number(s: &str) -> Result<u64, HttpError> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HttpError::BadContentRange);
    }
    s.parse().map_err(|_| HttpError::BadContentRange)
}

impl ContentRange {
    /// Parses the header's value.
    pub fn parse(value: &str) -> Result<Self, HttpError> {
        let rest = value
            .get(..6)
            .filter(|unit| unit.eq_ignore_ascii_case("bytes "))
            .map(|_| value[6..].trim())
            .ok_or(HttpError::BadContentRange)?;
        let (range, length) = rest.split_once('/').ok_or(HttpError::BadContentRange)?;
        let length = if length == "*" { None } else { Some(number(length)?) };
        let range = if range == "*" {
            None
        } else {
            let (first, last) = range.split_once('-').ok_or(HttpError::BadContentRange)?;
            let (first, last) = (number(first)?, number(last)?);
            if last < first || length.is_some_and(|len| last >= len) {
                return Err(HttpError::BadContentRange);
            }
            Some((first, last))
        };
        if range.is_none() && length.is_none() {
            return Err(HttpError::BadContentRange);
        }
        Ok(Self { range, length })
    }
}

/// What identifies the version of a file a resumed download continues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Validator {
    /// A strong ETag, quotes included.
    ETag(String),
    /// A Last-Modified date, verbatim.
    LastModified(String),
}

impl Validator {
    /// The validator of a first response: its ETag if strong (a weak one, `W/"..."`, may
    /// not be used with If-Range), else its Last-Modified; `None` when it has neither.
    /// Values with control characters are not echoed back to the server.
    pub fn of(head: &Head) -> Option<Self> {
        let clean = |s: &String| s.bytes().all(|b| (0x20..0x7f).contains(&b));
        match (head.etag.as_ref().filter(|s| clean(s)), head.last_modified.as_ref().filter(|s| clean(s))) {
            (Some(tag), _) if tag.starts_with('"') && tag.len() >= 2 && tag.ends_with('"') => {
                Some(Self::ETag(tag.clone()))
            }
            (_, Some(date)) if !date.is_empty() => Some(Self::LastModified(date.clone())),
            _ => None,
        }
    }

    /// The value for If-Range.
    pub fn as_str(&self) -> &str {
        match self {
            Self::ETag(s) | Self::LastModified(s) => s,
        }
    }
}

/// Where a download stands when its connection was cut: what a resumed request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    /// Bytes already received (the first one asked for).
    pub from: u64,
    /// The complete length the first response announced, when it did.
    pub length: Option<u64>,
    /// The first response's validator.
    pub validator: Validator,
}

/// How to treat the answer to a resumed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeAnswer {
    /// 206 with the rest: append the body to what was received.
    Continue,
    /// 200: the file changed (or the server ignores ranges): discard what was received
    /// and take this body as the whole file.
    StartOver,
}

/// A 206 answer that does not continue the download.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RangeError {
    /// 206 without a (single-range) Content-Range.
    MissingContentRange,
    /// The range does not start at the byte asked for.
    WrongStart {
        /// The first byte asked for.
        asked: u64,
        /// The first byte sent.
        got: u64,
    },
    /// The complete length differs from the first response's.
    LengthChanged {
        /// Announced first.
        before: u64,
        /// Announced now (`None`: not given).
        now: Option<u64>,
    },
    /// The range stops before the end of the file.
    EndsEarly {
        /// The last byte sent.
        last: u64,
        /// The complete length.
        length: u64,
    },
    /// Content-Length disagrees with the range.
    LengthMismatch,
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingContentRange => {
                f.write_str("the server answered a range request with 206 but no single Content-Range")
            }
            Self::WrongStart { asked, got } => {
                write!(f, "the server resumed at byte {got} when asked for the rest from byte {asked}")
            }
            Self::LengthChanged { before, now: Some(now) } => {
                write!(f, "the file's length changed from {before} to {now} bytes while resuming")
            }
            Self::LengthChanged { before, now: None } => {
                write!(
                    f,
                    "the server no longer gives the file's length (it was {before} bytes) while resuming"
                )
            }
            Self::EndsEarly { last, length } => {
                write!(f, "the server's range ends at byte {last} of a {length}-byte file")
            }
            Self::LengthMismatch => {
                f.write_str("the server's Content-Length disagrees with its Content-Range")
            }
        }
    }
}

impl Resume {
    /// Checks the head of the answer to the resumed request (a success status: 2xx).
    pub fn check(&self, head: &Head) -> Result<RangeAnswer, RangeError> {
        if head.status != 206 {
            return Ok(RangeAnswer::StartOver);
        }
        let cr = head.content_range.ok_or(RangeError::MissingContentRange)?;
        let (first, last) = cr.range.ok_or(RangeError::MissingContentRange)?;
        if first != self.from {
            return Err(RangeError::WrongStart { asked: self.from, got: first });
        }
        if let Some(before) = self.length
            && cr.length != Some(before)
        {
            return Err(RangeError::LengthChanged { before, now: cr.length });
        }
        if let Some(length) = cr.length
            && last + 1 != length
        {
            return Err(RangeError::EndsEarly { last, length });
        }
        if head.content_length.is_some_and(|n| n != last - first + 1)
            || head.chunked && head.content_length.is_some()
        {
            return Err(RangeError::LengthMismatch);
        }
        Ok(RangeAnswer::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::ConnectionHeader;
    use alloc::string::ToString;

    fn head(status: u16) -> Head {
        Head {
            status,
            reason: String::new(),
            content_length: None,
            chunked: false,
            location: None,
            http10: false,
            connection: ConnectionHeader::Unspecified,
            etag: None,
            last_modified: None,
            date: None,
            retry_after: None,
            content_range: None,
        }
    }

    #[test]
    fn content_range_forms() {
        assert_eq!(
            ContentRange::parse("bytes 100-199/200").unwrap(),
            ContentRange { range: Some((100, 199)), length: Some(200) }
        );
        assert_eq!(ContentRange::parse("BYTES */5").unwrap(), ContentRange { range: None, length: Some(5) });
        assert_eq!(
            ContentRange::parse("bytes 0-0/*").unwrap(),
            ContentRange { range: Some((0, 0)), length: None }
        );
        for bad in [
            "bytes 5-4/10",
            "bytes 0-10/10",
            "bytes */*",
            "items 0-1/2",
            "bytes 0-1",
            "bytes -1-2/3",
            "bytes +1-2/3",
            "bytes 1-2/99999999999999999999",
            "",
            "bytes",
        ] {
            assert_eq!(ContentRange::parse(bad), Err(HttpError::BadContentRange), "{bad}");
        }
    }

    #[test]
    fn validators_prefer_a_strong_etag() {
        let mut h = head(200);
        assert_eq!(Validator::of(&h), None);
        h.last_modified = Some("Sat, 05 Dec 2026 10:00:00 GMT".into());
        assert_eq!(Validator::of(&h), Some(Validator::LastModified("Sat, 05 Dec 2026 10:00:00 GMT".into())));
        h.etag = Some("W/\"weak\"".into());
        assert!(matches!(Validator::of(&h), Some(Validator::LastModified(_))));
        h.etag = Some("\"strong\"".into());
        assert_eq!(Validator::of(&h).unwrap().as_str(), "\"strong\"");
        h.last_modified = None;
        h.etag = Some("W/\"weak\"".into());
        assert_eq!(Validator::of(&h), None);
        h.etag = Some("\"a\rb\"".into());
        assert_eq!(Validator::of(&h), None);
    }

    #[test]
    fn answers_to_a_resumed_request() {
        let resume = Resume { from: 100, length: Some(300), validator: Validator::ETag("\"x\"".into()) };
        assert_eq!(resume.check(&head(200)), Ok(RangeAnswer::StartOver));
        let mut h = head(206);
        assert_eq!(resume.check(&h), Err(RangeError::MissingContentRange));
        h.content_range = Some(ContentRange::parse("bytes 100-299/300").unwrap());
        h.content_length = Some(200);
        assert_eq!(resume.check(&h), Ok(RangeAnswer::Continue));
        h.content_length = Some(199);
        assert_eq!(resume.check(&h), Err(RangeError::LengthMismatch));
        h.content_length = None;
        h.content_range = Some(ContentRange::parse("bytes 0-299/300").unwrap());
        assert_eq!(resume.check(&h), Err(RangeError::WrongStart { asked: 100, got: 0 }));
        h.content_range = Some(ContentRange::parse("bytes 100-399/400").unwrap());
        assert_eq!(resume.check(&h), Err(RangeError::LengthChanged { before: 300, now: Some(400) }));
        h.content_range = Some(ContentRange::parse("bytes 100-199/300").unwrap());
        assert_eq!(resume.check(&h), Err(RangeError::EndsEarly { last: 199, length: 300 }));
        h.content_range = Some(ContentRange::parse("bytes */300").unwrap());
        assert_eq!(resume.check(&h), Err(RangeError::MissingContentRange));
        // A first response without a length (chunked): any complete length is taken.
        let open = Resume { length: None, ..resume };
        h.content_range = Some(ContentRange::parse("bytes 100-149/150").unwrap());
        assert_eq!(open.check(&h), Ok(RangeAnswer::Continue));
        assert!(RangeError::WrongStart { asked: 100, got: 0 }.to_string().contains("byte 0"));
    }
}
