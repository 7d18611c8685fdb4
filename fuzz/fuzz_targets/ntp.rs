//! Arbitrary bytes as an SNTP reply: the first 8 are the request's nonce, the rest the
//! reply. Checking it and computing the time from it must never panic, whatever the
//! timestamps, round trip or pivot.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((nonce, reply)) = data.split_first_chunk::<8>() else { return };
    let request = bootsign_ntp::Request::new(*nonce);
    if let Ok(r) = request.check(reply) {
        let tail = reply.get(48..56).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()));
        let _ = r.unix_millis(tail % 1_000_000, tail >> 30);
        let _ = r.unix_millis(tail, tail);
        let _ = bootsign_ntp::Utc { unix: r.transmit.unix_millis(tail) / 1000 }.to_string();
    }
});
