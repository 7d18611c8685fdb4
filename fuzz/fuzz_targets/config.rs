//! Arbitrary bytes as an embedded configuration: decoding must never panic, and whatever
//! decodes must re-encode to the same bytes.
#![no_main]

use bootsign_config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cfg) = Config::decode(data) {
        let again = cfg.encode().expect("a decoded configuration encodes");
        assert_eq!(again, data);
    }
});
