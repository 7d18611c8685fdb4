//! Arbitrary bytes as the server's side of a TLS connection, delivered in pieces whose
//! size comes from the first byte: a fresh client must never panic, whatever the records
//! say, and once it has failed it must stay failed. Odd piece sizes are fed in place.
#![no_main]

#[path = "common/tls_drive.rs"]
mod tls_drive;

use std::sync::{Arc, OnceLock};

use bootsign_tls::{Client, Config, FixedTime, Fingerprint};
use libfuzzer_sys::fuzz_target;

/// One configuration for the whole run: building one allocates the provider for good.
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        Config::new(&[Fingerprint([0x42; 32])], &tls_drive::RNG, Arc::new(FixedTime(1_800_000_000)))
    })
}

fuzz_target!(|data: &[u8]| {
    tls_drive::drive!(data, Client::new(config(), "boot.example"), in_place);
});
