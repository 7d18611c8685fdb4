//! Arbitrary text as a PKCS#11 URI (the form a key is named by on the command line and
//! recorded in a CA directory): parsing never panics, and a URI written back (without
//! its PIN) reads as the same URI without the PIN.
#![no_main]

use bootsign_pkcs11_uri::Pkcs11Uri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    if let Ok(uri) = Pkcs11Uri::parse(text) {
        let again = Pkcs11Uri::parse(&uri.to_string()).expect("a written URI parses");
        assert_eq!(again, Pkcs11Uri { pin_value: None, ..uri });
    }
});
