//! What makes this program's PE image fit to be signed for Secure Boot, beyond what the
//! linker does by default (4 KiB section alignment, no section both writable and
//! executable, NX compatibility, which `.cargo/config.toml` also asks for by name):
//!
//! - an `.sbat` section, which shim requires of every image it starts (rhboot/shim
//!   `SBAT.md`): the SBAT header line, then bootsign's line with its generation
//!   (`sbat_generation.rs`) and version;
//! - a `.data` section that is never empty on disk. lld-link gives a `.data` of only
//!   zero-initialised statics the file offset 0, inside the headers, and shim refuses
//!   such an image ("Section 2 is inside image headers").
//!
//! `tests/pe_fitness.rs` checks all of it on the built template.

use core::sync::atomic::AtomicU8;

include!("sbat_generation.rs");

/// The `.sbat` section's text: CSV, one line per component.
const SBAT_CSV: &str = concat!(
    "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n",
    "bootsign,",
    sbat_generation!(),
    ",bootsign,bootsign,",
    env!("CARGO_PKG_VERSION"),
    ",https://github.com/bootsign/bootsign\n",
);

/// The `.sbat` section. Nothing reads it at run time: `#[used]` keeps it in the image.
#[used]
#[unsafe(link_section = ".sbat")]
static SBAT: [u8; SBAT_CSV.len()] = match SBAT_CSV.as_bytes().first_chunk() {
    Some(bytes) => *bytes,
    None => panic!("the SBAT text has the array's length"),
};

/// A non-zero, mutable static: it keeps `.data` on disk whatever else the program's
/// writable statics hold (see the module comment). Named into `.data` explicitly: a
/// `#[used]` static in a section of its own choosing would be dropped by the linker's
/// garbage collection, as nothing refers to it.
#[used]
#[unsafe(link_section = ".data")]
static KEEP_DATA_ON_DISK: AtomicU8 = AtomicU8::new(0xbd);
