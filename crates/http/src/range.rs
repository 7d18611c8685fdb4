//! Resuming a download: the `Range`/`If-Range` request headers and the check of what the
//! server answered.
//!
//! A download cut after `from` bytes asks for `Range: bytes=from-` with `If-Range` set to
//! the first response's validator: its ETag when that is strong, else — only when it has
//! no ETag at all — its Last-Modified when that is strong too (RFC 9110 §13.1.5: at least
//! one second before the response's own `Date`). The server then sends either the rest
//! (`206 Partial Content` with a `Content-Range` that must start at `from` and end at the
//! length first announced, and the same ETag or Last-Modified as the first response) or,
//! when the file changed, the whole new file (`200`), which means starting over. Without a
//! usable validator the download is not resumed: nothing would tell the old bytes from a
//! different file's.
//!
//! A server or proxy that honours `Range` but ignores `If-Range` would send a 206 of the
//! changed file; its own validator gives it away ([`RangeError::OtherVersion`]). And a
//! 206 whose body is chunked or ends with the connection has no Content-Length for the
//! parser to hold it to: [`Resume::check_end`] checks the bytes received, at the end.

use alloc::string::String;
use core::fmt;

use crate::date::parse_http_date;
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
    /// The validator of a first response, for If-Range (RFC 9110 §13.1.5, which allows
    /// only strong validators there):
    /// - its ETag if strong; a weak one (`W/"..."`) means no validator at all (Last-Modified
    ///   may not stand in for an ETag);
    /// - with no ETag, its Last-Modified if strong: at least one second before the
    ///   response's `Date` (a file changed twice within that second would show the same
    ///   date); without a `Date`, or when either does not parse, it is not.
    ///
    /// `None`: the download cannot be resumed. Values with control characters are not
    /// echoed back to the server.
    pub fn of(head: &Head) -> Option<Self> {
        let clean = |s: &str| s.bytes().all(|b| (0x20..0x7f).contains(&b));
        if let Some(tag) = &head.etag {
            let strong = tag.starts_with('"') && tag.len() >= 2 && tag.ends_with('"');
            return (strong && clean(tag)).then(|| Self::ETag(tag.clone()));
        }
        let date = head.last_modified.as_ref().filter(|d| clean(d))?;
        let modified = parse_http_date(date)?;
        let now = parse_http_date(head.date.as_deref()?)?;
        // Whole seconds: "at least one second before" is "before".
        (now > modified).then(|| Self::LastModified(date.clone()))
    }

    /// Whether `head` (the answer to a resumed request) names this version of the file:
    /// the same strong ETag, or the same Last-Modified date.
    pub fn matches(&self, head: &Head) -> bool {
        match self {
            Self::ETag(tag) => head.etag.as_deref() == Some(tag.as_str()),
            Self::LastModified(date) => head
                .last_modified
                .as_deref()
                .and_then(parse_http_date)
                .is_some_and(|now| Some(now) == parse_http_date(date)),
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
    /// The 206 is of another version of the file than the bytes already received: its
    /// ETag or Last-Modified (`now`, shown only when printable) differs from the first
    /// response's (`before`), or is missing.
    OtherVersion {
        /// The first response's validator.
        before: Validator,
        /// What the 206 said instead (`None`: nothing).
        now: Option<String>,
    },
    /// The 206's body ended at a length other than the range announced: the download
    /// would be `got` bytes long, not `expected`.
    WrongTotal {
        /// The length the range announced (its last byte + 1).
        expected: u64,
        /// The length received in all.
        got: u64,
    },
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
            Self::OtherVersion { before, now } => {
                let (what, was) = match before {
                    Validator::ETag(t) => ("ETag", t),
                    Validator::LastModified(d) => ("Last-Modified", d),
                };
                match now
                    .as_deref()
                    .filter(|s| s.len() <= 200 && s.bytes().all(|b| (0x20..0x7f).contains(&b)))
                {
                    Some(now) => write!(
                        f,
                        "the server resumed another version of the file ({what} {now}, not {was} as at first)"
                    ),
                    None if now.is_some() => write!(
                        f,
                        "the server resumed another version of the file (its {what} is not {was} as at first)"
                    ),
                    None => write!(
                        f,
                        "the server resumed without naming the file's version ({what} {was} at first)"
                    ),
                }
            }
            Self::WrongTotal { expected, got } => {
                write!(
                    f,
                    "the resumed download is {got} bytes long, not the {expected} bytes its range announced"
                )
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
        if !self.validator.matches(head) {
            let now = match self.validator {
                Validator::ETag(_) => head.etag.clone(),
                Validator::LastModified(_) => head.last_modified.clone(),
            };
            return Err(RangeError::OtherVersion { before: self.validator.clone(), now });
        }
        Ok(RangeAnswer::Continue)
    }

    /// Checks a resumed download once its answer has ended: `head` is the 206 that
    /// [`check`](Self::check) took and `total` the length of the whole body (the bytes kept
    /// plus the ones this answer brought). A chunked or close-delimited body has no
    /// Content-Length for the parser to hold it to, so this is where a 206 that sent more
    /// or fewer bytes than its range is caught. Anything but a 206 passes (a 200 is a whole
    /// file, checked by the parser).
    pub fn check_end(&self, head: &Head, total: u64) -> Result<(), RangeError> {
        if head.status != 206 {
            return Ok(());
        }
        let (_, last) = head.content_range.and_then(|c| c.range).ok_or(RangeError::MissingContentRange)?;
        let expected = last + 1;
        if total != expected {
            return Err(RangeError::WrongTotal { expected, got: total });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn head(status: u16) -> Head {
        Head { status, ..Head::default() }
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

    const DATE: &str = "Sat, 05 Dec 2026 10:00:00 GMT";

    #[test]
    fn validators_prefer_a_strong_etag() {
        let mut h = head(200);
        assert_eq!(Validator::of(&h), None);
        h.etag = Some("\"strong\"".into());
        assert_eq!(Validator::of(&h).unwrap().as_str(), "\"strong\"");
        h.last_modified = Some("Sat, 05 Dec 2026 09:00:00 GMT".into());
        h.date = Some(DATE.into());
        assert_eq!(Validator::of(&h), Some(Validator::ETag("\"strong\"".into())));
        h.etag = Some("\"a\rb\"".into());
        assert_eq!(Validator::of(&h), None);
    }

    /// RFC 9110 §13.1.5: a weak ETag may not be used with If-Range, and Last-Modified may
    /// not stand in for it; Last-Modified is used only when it is strong (a second or more
    /// before the response's Date).
    #[test]
    fn only_strong_validators() {
        let mut h = head(200);
        h.last_modified = Some("Sat, 05 Dec 2026 09:59:59 GMT".into());
        h.date = Some(DATE.into());
        assert_eq!(Validator::of(&h), Some(Validator::LastModified("Sat, 05 Dec 2026 09:59:59 GMT".into())));
        // A weak ETag: nothing, though Last-Modified would do on its own.
        h.etag = Some("W/\"weak\"".into());
        assert_eq!(Validator::of(&h), None);
        // An ETag that is not a quoted string is not a strong one either.
        h.etag = Some("bare".into());
        assert_eq!(Validator::of(&h), None);
        h.etag = None;
        // Modified within the second of the Date, or after it: weak.
        h.last_modified = Some(DATE.into());
        assert_eq!(Validator::of(&h), None);
        h.last_modified = Some("Sat, 05 Dec 2026 10:00:05 GMT".into());
        assert_eq!(Validator::of(&h), None);
        // No Date, or dates that do not parse: not known to be strong.
        h.last_modified = Some("Sat, 05 Dec 2026 09:00:00 GMT".into());
        h.date = None;
        assert_eq!(Validator::of(&h), None);
        h.date = Some("yesterday".into());
        assert_eq!(Validator::of(&h), None);
        h.date = Some(DATE.into());
        h.last_modified = Some("last week".into());
        assert_eq!(Validator::of(&h), None);
    }

    /// A 206 must carry the validator the download began with: a server or proxy that
    /// honours Range but ignores If-Range sends the changed file's bytes.
    #[test]
    fn a_206_of_another_version_is_refused() {
        let mut h = head(206);
        h.content_range = Some(ContentRange::parse("bytes 100-299/300").unwrap());
        h.content_length = Some(200);
        let by_tag = Resume { from: 100, length: Some(300), validator: Validator::ETag("\"v1\"".into()) };
        h.etag = Some("\"v1\"".into());
        assert_eq!(by_tag.check(&h), Ok(RangeAnswer::Continue));
        for (other, now) in
            [(Some("\"v2\""), Some("\"v2\"")), (Some("W/\"v1\""), Some("W/\"v1\"")), (None, None)]
        {
            h.etag = other.map(String::from);
            assert_eq!(
                by_tag.check(&h),
                Err(RangeError::OtherVersion {
                    before: by_tag.validator.clone(),
                    now: now.map(String::from)
                }),
                "{other:?}"
            );
        }
        let e = by_tag.check(&head_with_etag(&h, "\"v2\"")).unwrap_err().to_string();
        assert!(e.contains("\"v2\"") && e.contains("\"v1\""), "{e}");

        h.etag = None;
        let by_date = Resume {
            validator: Validator::LastModified("Sat, 05 Dec 2026 09:00:00 GMT".into()),
            ..by_tag.clone()
        };
        h.last_modified = Some("Sat, 05 Dec 2026 09:00:00 GMT".into());
        assert_eq!(by_date.check(&h), Ok(RangeAnswer::Continue));
        for other in [Some("Sat, 05 Dec 2026 09:00:01 GMT"), Some("garbage"), None] {
            h.last_modified = other.map(String::from);
            assert!(matches!(by_date.check(&h), Err(RangeError::OtherVersion { .. })), "{other:?}");
        }
        // A 200 is the whole (new) file: no validator to compare.
        assert_eq!(by_date.check(&head(200)), Ok(RangeAnswer::StartOver));
        // What the server sent is not echoed when it is not printable.
        h.last_modified = Some("\u{1b}[2J".into());
        let e = by_date.check(&h).unwrap_err().to_string();
        assert!(!e.contains('\u{1b}'), "{e}");
    }

    fn head_with_etag(h: &Head, etag: &str) -> Head {
        Head { etag: Some(etag.into()), ..h.clone() }
    }

    /// A chunked or close-delimited 206 has no Content-Length: the length is checked at the end.
    #[test]
    fn a_resumed_body_must_end_where_its_range_does() {
        let resume = Resume { from: 100, length: None, validator: Validator::ETag("\"x\"".into()) };
        let mut h = head(206);
        h.etag = Some("\"x\"".into());
        h.chunked = true;
        h.content_range = Some(ContentRange::parse("bytes 100-299/300").unwrap());
        assert_eq!(resume.check(&h), Ok(RangeAnswer::Continue));
        assert_eq!(resume.check_end(&h, 300), Ok(()));
        assert_eq!(resume.check_end(&h, 299), Err(RangeError::WrongTotal { expected: 300, got: 299 }));
        assert_eq!(resume.check_end(&h, 301), Err(RangeError::WrongTotal { expected: 300, got: 301 }));
        // An unknown complete length: the range's end is the file's.
        h.content_range = Some(ContentRange::parse("bytes 100-149/*").unwrap());
        assert_eq!(resume.check(&h), Ok(RangeAnswer::Continue));
        assert_eq!(resume.check_end(&h, 150), Ok(()));
        assert!(resume.check_end(&h, 400).unwrap_err().to_string().contains("400 bytes long, not the 150"));
        // A 200 that started over is held to its length by the parser.
        assert_eq!(resume.check_end(&head(200), 12), Ok(()));
    }

    #[test]
    fn answers_to_a_resumed_request() {
        let resume = Resume { from: 100, length: Some(300), validator: Validator::ETag("\"x\"".into()) };
        assert_eq!(resume.check(&head(200)), Ok(RangeAnswer::StartOver));
        let mut h = head(206);
        h.etag = Some("\"x\"".into());
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
