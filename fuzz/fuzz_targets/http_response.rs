//! Arbitrary bytes as an HTTP response, delivered in pieces whose sizes come from the
//! input too: the parser must never panic, never hand out more body than it was fed,
//! and give the same body however the bytes are split.
#![no_main]

use bootsign_http::{Event, ResponseParser};
use libfuzzer_sys::fuzz_target;

fn parse(data: &[u8], step: usize) -> Option<Vec<u8>> {
    let mut p = ResponseParser::new(false);
    let mut buf: Vec<u8> = Vec::new();
    let mut body = Vec::new();
    for piece in data.chunks(step) {
        buf.extend_from_slice(piece);
        loop {
            let (n, ev) = p.feed(&buf).ok()?;
            assert!(n <= buf.len());
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
    p.finish().ok()?;
    assert!(body.len() <= data.len());
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
