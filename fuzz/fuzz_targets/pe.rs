//! Arbitrary bytes as a PE image: parsing, section lookup and adding the configuration
//! section must never panic, and an added section must read back.
#![no_main]

use bootsign_pe::{CONFIG_SECTION, Pe, add_section};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pe) = Pe::parse(data) {
        for s in pe.sections() {
            let _ = pe.file_data(s);
            let _ = pe.memory_data(s);
        }
        if data.len() < 1 << 20 {
            if let Ok(out) = add_section(data, CONFIG_SECTION, b"payload") {
                let pe = Pe::parse(&out).expect("output parses");
                let s = pe.section(&CONFIG_SECTION).expect("section added");
                assert_eq!(pe.file_data(s).expect("in bounds"), b"payload");
            }
        }
    }
});
