//! Arbitrary bytes as the server's side of a connection by the legacy engine (static-RSA
//! CBC suites, TLS 1.0-1.2 in legacy mode), delivered in pieces whose size comes from the
//! first byte: a fresh client must never panic, whatever the records say, and once it has
//! failed it must stay failed.
#![no_main]

use std::sync::{Arc, OnceLock};

use bootsign_tls::{Config, FixedTime, Fingerprint, LegacyClient, LegacyVersion, RandomSource, RngError};
use libfuzzer_sys::fuzz_target;

/// A fixed "random" source: reproducible runs matter more here than secrecy.
#[derive(Debug)]
struct FixedRng;

impl RandomSource for FixedRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RngError> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(7);
        }
        Ok(())
    }
}

static RNG: FixedRng = FixedRng;

/// One configuration for the whole run (building one allocates the provider for good),
/// with legacy mode on so that every version's code is reachable.
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let mut config = Config::new(&[Fingerprint([0x42; 32])], &RNG, Arc::new(FixedTime(1_800_000_000)));
        config.set_legacy_min(Some(LegacyVersion::Tls10));
        config
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, records)) = data.split_first() else { return };
    let step = usize::from(step).max(1) * 8;
    let mut client = LegacyClient::new(config(), "boot.example").expect("a valid name");
    let mut out = Vec::new();
    client.take_outgoing(&mut out);
    assert!(!out.is_empty(), "the ClientHello is ready at once");
    let _ = client.write_app(b"GET / HTTP/1.1\r\n\r\n");
    let mut failed = false;
    for piece in records.chunks(step) {
        let result = client.feed_incoming(piece);
        client.take_outgoing(&mut out);
        let mut app = Vec::new();
        let _ = client.read_app(&mut app);
        if failed {
            assert!(result.is_err(), "a failed connection must stay failed");
        }
        if result.is_err() {
            failed = true;
            // A failure is final and explained.
            assert!(client.error().is_some());
            assert!(!client.is_handshaking());
        }
    }
    client.feed_eof();
    let _ = client.close();
});
