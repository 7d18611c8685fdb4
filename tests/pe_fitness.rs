//! The firmware template, and an image `bootsign build` makes from it, are fit to be
//! signed for Secure Boot: shim's SBAT section with exactly bootsign's two lines, NX
//! compatibility, no section both writable and executable, 4 KiB section alignment, and
//! no section whose file data would lie inside the headers (which shim refuses).
//! The checker itself is shown to catch each problem in a damaged copy.

mod common;

use bootsign::firmware::TEMPLATE;
use bootsign_pe::{DLL_NX_COMPAT, Pe, SCN_CNT_UNINITIALIZED_DATA, SCN_MEM_EXECUTE, SCN_MEM_WRITE};
use common::qemu::{ImageConfig, configured_efi};

include!("../firmware/uefi/src/sbat_generation.rs");

const SBAT_SECTION: [u8; 8] = *b".sbat\0\0\0";

/// The `.sbat` text the firmware must carry: the SBAT header, then bootsign's line.
fn expected_sbat() -> String {
    format!(
        "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n\
         bootsign,{},bootsign,bootsign,{},https://github.com/bootsign/bootsign\n",
        sbat_generation!(),
        env!("CARGO_PKG_VERSION")
    )
}

/// Everything that makes `image` unfit for signing, one line each.
fn problems(image: &[u8]) -> Vec<String> {
    let pe = match Pe::parse(image) {
        Ok(pe) => pe,
        Err(e) => return vec![format!("not a PE image: {e}")],
    };
    let mut found = Vec::new();
    match pe.section(&SBAT_SECTION) {
        None => found.push("no .sbat section".to_string()),
        Some(s) => {
            let text = pe.file_data(s).map(String::from_utf8_lossy).unwrap_or_default();
            if text != expected_sbat() {
                found.push(format!(".sbat holds {text:?}, not {:?}", expected_sbat()));
            }
        }
    }
    if pe.dll_characteristics & DLL_NX_COMPAT == 0 {
        found.push(format!("NX_COMPAT is not set (DllCharacteristics {:#06x})", pe.dll_characteristics));
    }
    if pe.section_alignment != 4096 {
        found.push(format!("section alignment {:#x}, not 4 KiB", pe.section_alignment));
    }
    for s in pe.sections() {
        let name = String::from_utf8_lossy(&s.name).trim_end_matches('\0').to_string();
        if s.characteristics & SCN_MEM_WRITE != 0 && s.characteristics & SCN_MEM_EXECUTE != 0 {
            found.push(format!("{name} is writable and executable"));
        }
        if s.characteristics & SCN_CNT_UNINITIALIZED_DATA == 0 && s.raw_offset < pe.size_of_headers {
            found.push(format!("{name} has its file data at {:#x}, inside the headers", s.raw_offset));
        }
    }
    found
}

#[test]
fn the_template_is_fit_for_signing() {
    assert_eq!(problems(TEMPLATE), Vec::<String>::new());
}

#[test]
fn a_built_image_is_fit_for_signing() {
    let dir = tempfile::tempdir().unwrap();
    let efi = dir.path().join("x.efi");
    let cfg = ImageConfig { script: Some("#!ipxe\necho hello\n"), ..Default::default() };
    configured_efi(&efi, &cfg);
    let image = std::fs::read(&efi).unwrap();
    assert!(Pe::parse(&image).unwrap().section(&bootsign_pe::CONFIG_SECTION).is_some());
    assert_eq!(problems(&image), Vec::<String>::new());
}

/// Offsets of the fields the damaged copies change.
struct Layout {
    dll_characteristics: usize,
    section_alignment: usize,
    table: usize,
}

fn layout(image: &[u8]) -> Layout {
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([image[at], image[at + 1]]));
    let pe = u32::from_le_bytes(image[0x3c..0x40].try_into().unwrap()) as usize;
    let opt = pe + 24;
    Layout { dll_characteristics: opt + 70, section_alignment: opt + 32, table: opt + u16_at(pe + 20) }
}

/// The index of section `name` in the template.
fn index_of(name: &[u8; 8]) -> usize {
    Pe::parse(TEMPLATE).unwrap().sections().iter().position(|s| &s.name == name).unwrap()
}

#[test]
fn the_checker_finds_each_problem() {
    let at = layout(TEMPLATE);
    let damaged = |change: &dyn Fn(&mut Vec<u8>)| {
        let mut copy = TEMPLATE.to_vec();
        change(&mut copy);
        problems(&copy)
    };
    let one = |found: Vec<String>, expect: &str| {
        assert!(found.len() == 1 && found[0].contains(expect), "expected only {expect:?}, found {found:?}");
    };

    let sbat = at.table + 40 * index_of(&SBAT_SECTION);
    one(damaged(&|f| f[sbat + 1] = b'x'), "no .sbat section");
    let sbat_data = Pe::parse(TEMPLATE).unwrap().section(&SBAT_SECTION).unwrap().raw_offset as usize;
    // The generation digit of bootsign's line.
    let generation = sbat_data + expected_sbat().find("bootsign,").unwrap() + "bootsign,".len();
    one(damaged(&|f| f[generation] = b'0'), ".sbat holds");

    one(damaged(&|f| f[at.dll_characteristics + 1] &= !(DLL_NX_COMPAT >> 8) as u8), "NX_COMPAT is not set");
    one(damaged(&|f| f[at.section_alignment..][..4].copy_from_slice(&0x200u32.to_le_bytes())), "alignment");

    let text = at.table + 40 * index_of(b".text\0\0\0");
    one(damaged(&|f| f[text + 39] |= (SCN_MEM_WRITE >> 24) as u8), ".text is writable and executable");
    // What lld-link does to a `.data` of zero-initialised statics: file offset 0.
    let data = at.table + 40 * index_of(b".data\0\0\0");
    one(damaged(&|f| f[data + 20..data + 24].fill(0)), ".data has its file data at 0x0, inside the headers");
}
