//! Arbitrary bytes as a DHCP reply: reading the boot settings must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bootsign_dhcp::settings(data);
});
