//! Arbitrary bytes as ACPI tables: the RSDP, a table with its checksum, the FADT and the
//! DSDT's `\_S5` package must never panic; a power-off plan read from memory made of the
//! input (each address maps to the input from that offset) names only what the tables
//! say, and sleep types are 3-bit values.
#![no_main]

use bootsign_acpi::{Fadt, Rsdp, Sdt, power_off, s5_sleep_types};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Rsdp::parse(data);
    for sig in [b"FACP", b"DSDT", b"RSDT", b"XSDT"] {
        if let Ok(t) = Sdt::parse(data, sig) {
            assert!(t.bytes.len() <= data.len());
            let _ = Fadt::parse(&t);
            if let Ok((a, b)) = s5_sleep_types(&t) {
                assert!(a < 8 && b < 8);
            }
            for _ in t.entries(4).chain(t.entries(8)) {}
        }
    }
    let read = |addr: u64, len: usize| {
        let at = usize::try_from(addr).ok()?;
        data.get(at..at.checked_add(len)?).map(<[u8]>::to_vec)
    };
    if let Ok(p) = power_off(data, read) {
        assert!(p.sleep_types.0 < 8 && p.sleep_types.1 < 8 && p.fadt.pm1a_control != 0);
    }
});
