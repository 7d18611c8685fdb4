//! Arbitrary bytes as the server's side of a connection by the legacy engine (static-RSA
//! CBC suites, TLS 1.0-1.2 in legacy mode), delivered in pieces whose size comes from the
//! first byte: a fresh client must never panic, whatever the records say, and once it has
//! failed it must stay failed.
#![no_main]

#[path = "common/tls_drive.rs"]
mod tls_drive;

use std::sync::{Arc, OnceLock};

use bootsign_tls::{Config, FixedTime, Fingerprint, LegacyClient, LegacyVersion};
use libfuzzer_sys::fuzz_target;

/// One configuration for the whole run (building one allocates the provider for good),
/// with legacy mode on so that every version's code is reachable.
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let mut config =
            Config::new(&[Fingerprint([0x42; 32])], &tls_drive::RNG, Arc::new(FixedTime(1_800_000_000)));
        config.set_legacy_min(Some(LegacyVersion::Tls10));
        config
    })
}

fuzz_target!(|data: &[u8]| {
    tls_drive::drive!(data, LegacyClient::new(config(), "boot.example"));
});
