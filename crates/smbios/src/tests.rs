use super::*;
use alloc::vec;

/// A type 1 structure with strings "ACME", "Box 9000", "1.0", "SN-42" and `uuid`.
fn system(uuid: [u8; 16]) -> Vec<u8> {
    let mut s = vec![1, 0x1b, 0x01, 0x00, 1, 2, 3, 4];
    s.extend(uuid);
    s.extend([6, 0, 0]);
    s.extend(b"ACME\0Box 9000\x001.0\0SN-42\0\0");
    s
}

fn table() -> Vec<u8> {
    let uuid =
        [0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
    let mut t = system(uuid);
    // Type 3 (enclosure) with asset tag string 1, no other strings used.
    t.extend([3, 0x09, 0x03, 0x00, 0, 0, 0, 0, 1]);
    t.extend(b"AT-7\0\0");
    // Type 2 (base board) with no strings at all.
    t.extend([2, 0x08, 0x04, 0x00, 0, 0, 0, 0, 0, 0]);
    t.extend([127, 4, 0xff, 0xff, 0, 0]);
    t
}

#[test]
fn named_settings_read_as_ipxe_reads_them() {
    let bytes = table();
    let t = Table::new(&bytes, (3, 0));
    let read = |name| {
        let (tag, uuid) = Tag::named(name).unwrap();
        t.read(tag, uuid)
    };
    assert_eq!(read("manufacturer"), Some((b"ACME".to_vec(), true)));
    assert_eq!(read("product"), Some((b"Box 9000".to_vec(), true)));
    assert_eq!(read("serial"), Some((b"SN-42".to_vec(), true)));
    assert_eq!(read("asset"), Some((b"AT-7".to_vec(), true)));
    // String number 0 means none.
    assert_eq!(read("board-serial"), None);
    // From 2.6 on the first three UUID fields are little-endian: swapped for iPXE's order.
    let (uuid, _) = read("uuid").unwrap();
    assert_eq!(
        uuid,
        [0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]
    );
    let old = Table::new(&bytes, (2, 5));
    assert_eq!(old.read(Tag::named("uuid").unwrap().0, true).unwrap().0[..4], [0x33, 0x22, 0x11, 0x00]);
}

#[test]
fn numbered_tags() {
    let bytes = table();
    let t = Table::new(&bytes, (3, 0));
    // TYPE.OFFSET.LENGTH: bytes; OFFSET 0: string LENGTH; LENGTH 0: string at OFFSET.
    assert_eq!(t.read(Tag::parse("1.0x18.1").unwrap(), false), Some((vec![6], false)));
    assert_eq!(t.read(Tag::parse("1.0.2").unwrap(), false), Some((b"Box 9000".to_vec(), true)));
    assert_eq!(t.read(Tag::parse("1.6.0").unwrap(), false), Some((b"1.0".to_vec(), true)));
    assert_eq!(t.read(Tag::parse("1.0.0").unwrap(), false).unwrap().0.len(), 0x1b);
    // Past the end: empty; a length running over is cut at the end.
    assert_eq!(t.read(Tag::parse("1.200.4").unwrap(), false), Some((vec![], false)));
    assert_eq!(t.read(Tag::parse("1.0x19.8").unwrap(), false), Some((vec![0, 0], false)));
    // INSTANCE.TYPE.OFFSET.LENGTH: a second type 1 does not exist.
    assert_eq!(t.read(Tag::parse("1.1.4.0").unwrap(), false), None);
    for bad in ["1.2", "1.2.3.4.5", "1.x.0", "256.1.0"] {
        assert_eq!(Tag::parse(bad), None, "{bad}");
    }
}

#[test]
fn a_cut_table_yields_only_whole_structures() {
    let bytes = table();
    for cut in 0..bytes.len() {
        let t = Table::new(&bytes[..cut], (3, 0));
        for s in t.structures() {
            assert!(s.formatted.len() >= 4);
        }
    }
    assert_eq!(Table::new(&bytes, (3, 0)).structures().len(), 4);
    assert_eq!(Table::new(&bytes[..10], (3, 0)).structures().len(), 0);
}

fn with_checksum(mut ep: Vec<u8>, at: usize, range: core::ops::Range<usize>) -> Vec<u8> {
    ep[at] = 0;
    let sum = ep[range].iter().fold(0u8, |a, b| a.wrapping_add(*b));
    ep[at] = sum.wrapping_neg();
    ep
}

#[test]
fn entry_points() {
    let mut ep3 = vec![0u8; 0x18];
    ep3[..5].copy_from_slice(b"_SM3_");
    ep3[6] = 0x18;
    ep3[7] = 3;
    ep3[8] = 4;
    ep3[0x0c..0x10].copy_from_slice(&0x1234u32.to_le_bytes());
    ep3[0x10..0x18].copy_from_slice(&0x7fe0_0000u64.to_le_bytes());
    let ep3 = with_checksum(ep3, 5, 0..0x18);
    assert_eq!(
        EntryPoint::parse(&ep3),
        Ok(EntryPoint { address: 0x7fe0_0000, length: 0x1234, version: (3, 4) })
    );
    let mut bad = ep3.clone();
    bad[0x10] ^= 1;
    assert_eq!(EntryPoint::parse(&bad), Err(Error::Checksum));
    assert_eq!(EntryPoint::parse(&ep3[..0x10]), Err(Error::Truncated));

    let mut ep2 = vec![0u8; 0x1f];
    ep2[..4].copy_from_slice(b"_SM_");
    ep2[5] = 0x1f;
    ep2[6] = 2;
    ep2[7] = 8;
    ep2[0x10..0x15].copy_from_slice(b"_DMI_");
    ep2[0x16..0x18].copy_from_slice(&0x200u16.to_le_bytes());
    ep2[0x18..0x1c].copy_from_slice(&0xf0000u32.to_le_bytes());
    let ep2 = with_checksum(ep2, 0x15, 0x10..0x1f);
    let ep2 = with_checksum(ep2, 4, 0..0x1f);
    assert_eq!(EntryPoint::parse(&ep2), Ok(EntryPoint { address: 0xf0000, length: 0x200, version: (2, 8) }));
    assert_eq!(EntryPoint::parse(b"_XX_ nothing"), Err(Error::NoAnchor));
    // SMBIOS 2.1's erroneous length 0x1e is taken, as dmidecode takes it.
    let mut short = ep2.clone();
    short[5] = 0x1e;
    let short = with_checksum(short, 4, 0..0x1e);
    assert_eq!(EntryPoint::parse(&short).map(|e| e.version), Ok((2, 8)));
    assert_eq!(EntryPoint::declared_len(&short[..7]), Some(0x1f));
    assert_eq!(EntryPoint::declared_len(&ep3[..7]), Some(0x18));
}
