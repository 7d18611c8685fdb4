//! The platform's SMBIOS table, for the scripts' `smbios` settings (`${uuid}`,
//! `${serial}`, ...): found through the SMBIOS 3.x or 2.x entry point in the UEFI
//! configuration table, checked by `bootsign_smbios`, and copied.

use alloc::vec::Vec;

use uefi::table::cfg::ConfigTableEntry;

/// Most bytes of a structure table this copies (a real one is a few KiB).
const MAX_TABLE: u32 = 1 << 20;

/// The structure table and the SMBIOS version, or `None` when the platform publishes no
/// valid entry point.
pub fn table() -> Option<(Vec<u8>, (u8, u8))> {
    let entry = uefi::system::with_config_table(|entries| {
        [ConfigTableEntry::SMBIOS3_GUID, ConfigTableEntry::SMBIOS_GUID]
            .iter()
            .find_map(|guid| entries.iter().find(|e| e.guid == *guid).map(|e| e.address as usize))
    })?;
    // SAFETY: the configuration table entry points at the entry point structure the
    // platform publishes for the life of boot services; UEFI maps memory one to one. Its
    // first 7 bytes hold the anchor and the length in both formats.
    let head = unsafe { core::slice::from_raw_parts(entry as *const u8, 7) };
    let len = bootsign_smbios::EntryPoint::declared_len(head)?;
    // SAFETY: as above, reading the length the structure declares (at most 255 bytes);
    // the parser checks it and the checksum before anything it says is used.
    let whole = unsafe { core::slice::from_raw_parts(entry as *const u8, len) };
    let ep = bootsign_smbios::EntryPoint::parse(whole).ok()?;
    let len = ep.length.min(MAX_TABLE) as usize;
    if ep.address == 0 || len == 0 || ep.address.checked_add(len as u64).is_none() {
        return None;
    }
    // SAFETY: the checked entry point gives the table's address and (maximum) length in
    // memory the platform reserved for it; it is only read, and copied at once.
    let bytes = unsafe { core::slice::from_raw_parts(ep.address as usize as *const u8, len) };
    Some((bytes.to_vec(), ep.version))
}
