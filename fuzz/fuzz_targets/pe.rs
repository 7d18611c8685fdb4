//! Arbitrary bytes as a PE image: parsing, section lookup, adding the configuration
//! section and laying the image out in memory (bootsign's own loader) must never panic,
//! and an added section must read back.
#![no_main]

use bootsign_pe::{CONFIG_SECTION, Pe, add_section};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(plan) = bootsign_pe::load::plan(data)
        && plan.size <= 1 << 24
    {
        let mut memory = vec![0u8; plan.size];
        let _ = bootsign_pe::load::load(data, &plan, &mut memory, 0x7f00_0000);
    }
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
