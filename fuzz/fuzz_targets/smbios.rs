//! Arbitrary bytes as an SMBIOS entry point and as a structure table: parsing, walking
//! the structures and reading every named setting and a tag from the input must never
//! panic, and what is read lies within the structure it came from.
#![no_main]

use bootsign_smbios::{EntryPoint, Table, Tag};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = EntryPoint::parse(data);
    let Some((&version, rest)) = data.split_first() else { return };
    let table = Table::new(rest, (version >> 4, version & 15));
    for s in table.structures() {
        assert!(s.formatted.len() >= 4 && s.formatted.len() <= rest.len());
    }
    for name in ["uuid", "manufacturer", "product", "serial", "asset", "board-serial"] {
        let (tag, uuid) = Tag::named(name).unwrap();
        let _ = table.read(tag, uuid);
    }
    if let [a, b, c, d, ..] = *rest {
        let tag = Tag { instance: a & 3, ty: b, offset: c, length: d };
        if let Some((value, _)) = table.read(tag, true) {
            assert!(value.len() <= rest.len());
        }
    }
});
