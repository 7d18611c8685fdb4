//! Arbitrary bytes as a DHCP reply: reading the boot settings, telling a ProxyDHCP offer
//! apart (and whether it answers a 4011 request) and the lease's no-proxy flag must never
//! panic; a packet that is an offer is one whose settings read.
#![no_main]

use bootsign_dhcp::proxy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let settings = bootsign_dhcp::settings(data);
    let mac: [u8; 6] = data.get(28..34).and_then(|m| m.try_into().ok()).unwrap_or([0; 6]);
    if let Ok(Some(offer)) = proxy::offer(data, &mac, [10, 0, 2, 99]) {
        assert!(settings.is_ok(), "an offer whose settings do not read");
        assert_ne!(offer.server, [0; 4]);
    }
    let _ = proxy::is_answer(data, &mac, 1, [10, 0, 2, 99], [10, 0, 2, 99]);
    let _ = proxy::ignores_proxies(data);
    if let Some(xid) = proxy::lease_xid(data, &mac) {
        assert_eq!(proxy::xid(data), Some(xid));
    }
});
