//! Arbitrary bytes as an HTTP response, delivered in pieces whose sizes come from the
//! input too: the parser must never panic, never hand out more body than it was fed,
//! and give the same body however the bytes are split. The headers a resumed or retried
//! download reads (Content-Range, ETag, Last-Modified, Retry-After and Date) go through
//! the range check and the retry policy, which must not panic either, and a connection is
//! reusable only after a complete response. A 401's WWW-Authenticate challenges are
//! chosen from and answered, which must not panic, and the answer must be one header line.
#![no_main]

use bootsign_http::auth;
use bootsign_http::retry::retry_after_ms;
use bootsign_http::{Event, Failure, Head, ResponseParser, Resume, Retries, RetryPolicy, Validator};
use libfuzzer_sys::fuzz_target;

fn parse(data: &[u8], step: usize) -> Option<Vec<u8>> {
    let mut p = ResponseParser::new(false);
    let mut buf: Vec<u8> = Vec::new();
    let mut body = Vec::new();
    let mut head: Option<Head> = None;
    for piece in data.chunks(step) {
        buf.extend_from_slice(piece);
        loop {
            let (n, ev) = p.feed(&buf).ok()?;
            assert!(n <= buf.len());
            if let Some(Event::Head(h)) = &ev {
                head = Some(Head::clone(h));
            }
            if let Some(Event::Body(b)) = &ev {
                assert!(!b.is_empty() && b.len() <= n);
                body.extend_from_slice(b);
            }
            let stop = n == 0 && ev.is_none();
            buf.drain(..n);
            if stop {
                break;
            }
        }
    }
    if p.reusable() {
        assert!(p.is_done() || p.finish().is_ok(), "reusable before the response is complete");
    }
    p.finish().ok()?;
    assert!(body.len() <= data.len());
    if let Some(h) = head {
        if let Ok(challenge) = auth::choose(&h.www_authenticate) {
            assert!(auth::Credentials::from_userinfo("u%0a:p").authorization(&challenge, "GET", "/", "c").is_err());
            let answer = auth::Credentials::from_userinfo("u:p").authorization(&challenge, "GET", "/x", "c");
            assert!(!answer.unwrap().contains(['\r', '\n']), "the answer is one header line");
        }
        let after = retry_after_ms(&h);
        let _ = Retries::new(RetryPolicy::default()).after(Failure::from_head(&h), data.len() as u64, after);
        if let Some(validator) = Validator::of(&h) {
            assert!(validator.as_str().bytes().all(|b| (0x20..0x7f).contains(&b)));
            let resume = Resume { from: body.len() as u64, length: h.content_length, validator };
            let _ = resume.check(&h);
            let _ = resume.check_end(&h, body.len() as u64 * 2);
        }
    }
    Some(body)
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else { return };
    let whole = parse(data, data.len().max(1));
    let pieces = parse(data, usize::from(split % 17) + 1);
    if let (Some(a), Some(b)) = (whole, pieces) {
        assert_eq!(a, b, "the body depends on how the bytes were split");
    }
});
