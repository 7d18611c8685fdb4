//! `sanboot` and `sanhook` of a disk or CD image on BIOS, as iPXE and memdisk do it: the
//! downloaded image stays in RAM and becomes a BIOS drive through a small INT 13h
//! handler left resident at the top of conventional memory (`san16.s`), with an INT 15h
//! handler that takes the image's memory out of the memory map, so what boots does not
//! overwrite it. A CD image (ISO 9660) has 2,048-byte sectors and boots through its El
//! Torito no-emulation entry, loaded where the entry says; a disk image has 512-byte
//! sectors and boots from its first sector, read through the new drive as the BIOS
//! reads a boot sector. Either starts with DL the drive (0x80 unless `--drive` says).
//! The BIOS's own disk with that number moves to the next free one (iPXE's remapping).
//!
//! The image was admitted by the gate before it gets here: under `imgtrust` only one
//! whose every byte a signature covers, rechecked when its bytes were handed out.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use bootsign_firmware_core::hash::PartialSha256;
use bootsign_firmware_core::memmap::{self, MemoryRange, OldSizes};
use bootsign_firmware_core::proof::ImageProof;
use bootsign_image_read::BiosBoot;
use bootsign_script::Admitted;

use crate::thunk::{self, Regs};

core::arch::global_asm!(
    concat!(include_str!("start_bzimage.s"), include_str!("san16.s")),
    options(att_syntax)
);

unsafe extern "C" {
    static int13_start: u8;
    static int13_params: u8;
    static int13_params_end: u8;
    static int13_end: u8;
    static int13_entry: u8;
    static int15_entry: u8;
}

/// The parameters at `int13_params` in `san16.s` (the same layout).
#[repr(C, packed)]
#[derive(Clone, Copy, Default)]
struct Params {
    orig13: u32,
    orig15: u32,
    base: u32,
    sectors: u32,
    drive: u8,
    natural: u8,
    shift: u8,
    heads: u8,
    spt: u8,
    numhd: u8,
    cyls: u16,
    e820n: u16,
    e801lo: u16,
    e801hi: u16,
    ext88: u16,
    status: u8,
    old_sizes: u8,
}

/// The BIOS data area's base memory size (KiB) and hard disk count.
const BDA_BASE_KIB: usize = 0x413;
const BDA_DISKS: usize = 0x475;
/// The most memory map entries the handler carries.
const MAX_ENTRIES: usize = 64;
/// E820's signature, 'SMAP'.
const SMAP: u32 = 0x534d_4150;

/// A drive the handler serves: what was there before, to put back when the boot fails
/// before anything started.
struct Installed {
    vectors: [u32; 2],
    base_kib: u16,
    disks: u8,
    segment: u16,
    /// Where the handler's block starts (what conventional memory now ends at).
    linear: usize,
}

/// A disk or CD image in RAM.
struct Disk<'a> {
    name: &'a str,
    bytes: &'a [u8],
    /// Whether it is served as a CD (2,048-byte sectors): an ISO 9660 image.
    cd: bool,
}

impl<'a> Disk<'a> {
    /// A disk to boot: how a BIOS starts it, too.
    fn bootable(name: &'a str, bytes: &'a [u8]) -> Result<(Self, BiosBoot), String> {
        let boot = bootsign_image_read::bios_boot(&mut &*bytes)
            .map_err(|e| format!("the disk image '{name}' cannot be booted on BIOS: {e}"))?;
        Ok((Self { name, bytes, cd: matches!(boot, BiosBoot::Cd { .. }) }, boot))
    }

    /// A disk to attach (`sanhook`): any image, a CD when it is ISO 9660.
    fn any(name: &'a str, bytes: &'a [u8]) -> Self {
        Self { name, bytes, cd: bytes.get(0x8001..0x8006) == Some(b"CD001") }
    }

    fn shift(&self) -> u8 {
        if self.cd { 11 } else { 9 }
    }

    fn describe(&self) -> &'static str {
        if self.cd { "a CD image (2,048-byte sectors)" } else { "a disk image (512-byte sectors)" }
    }
}

/// `sanboot` of an image: returns only when it could not be started, saying why.
/// `release` stops the NICs first.
pub fn boot(
    disk: &Admitted<'_, ImageProof, PartialSha256>,
    drive: u32,
    release: impl FnOnce() -> Result<(), String>,
) -> String {
    let name = disk.image().name();
    let bytes = match disk.bytes() {
        Ok(b) => b.as_slice(),
        Err(e) => return e,
    };
    let (disk, boot) = match Disk::bootable(name, bytes) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let drive = match hard_disk_number(drive) {
        Ok(d) => d,
        Err(e) => return e,
    };
    // The load address of a CD's boot image, checked before anything changes.
    if let BiosBoot::Cd { load_segment, sectors, .. } = boot {
        let (start, len) = (usize::from(load_segment) << 4, usize::from(sectors.max(1)) * 512);
        let setup = usize::from(thunk::setup_segment()) << 4;
        if start < setup + 0xe000 && setup < start + len {
            return format!(
                "'{name}': its El Torito boot image ({len} bytes at {load_segment:04x}:0000) would overwrite \
                 this firmware's real-mode part at {setup:#x}"
            );
        }
    }
    if let Err(why) = release() {
        return why;
    }
    let installed = match install(&disk, drive) {
        Ok(i) => i,
        Err(e) => return e,
    };
    let why = start(&disk, boot, drive, &installed);
    if !uninstall(&installed) {
        // The program that returned left its own handler in front of this one, which
        // serves the script's copy of the image: the script could free it under them.
        crate::println!(
            "sanboot: {why}, leaving an INT 13h or INT 15h handler of its own in front of the disk's; \
             nothing can safely run after that: restart the machine"
        );
        loop {
            // SAFETY: halting with interrupts off ends this program.
            unsafe { core::arch::asm!("cli; hlt", options(nomem, nostack)) };
        }
    }
    why
}

/// `sanhook`: the image, copied where it stays, served as drive `drive` from now on.
pub fn hook(disk: &Admitted<'_, ImageProof, PartialSha256>, drive: u32) -> Result<String, String> {
    let name = disk.image().name();
    let drive = hard_disk_number(drive)?;
    // The script's image may be freed; the drive's bytes must outlive it.
    let kept: &'static [u8] = Vec::leak(disk.bytes()?.as_slice().to_vec());
    let disk = Disk::any(name, kept);
    install(&disk, drive)?;
    Ok(format!(
        "{name}: drive {drive:#04x}, {}, {} bytes in memory at {:#x}",
        disk.describe(),
        kept.len(),
        kept.as_ptr() as usize
    ))
}

/// `--drive` as a hard disk number: images are served as hard disks (0x80-0xFE), CDs too,
/// as iPXE serves them.
fn hard_disk_number(drive: u32) -> Result<u8, String> {
    match u8::try_from(drive) {
        Ok(d @ 0x80..=0xfe) => Ok(d),
        _ => Err(format!(
            "drive {drive:#x} is not a hard disk number (0x80-0xfe); floppy images are not served on BIOS"
        )),
    }
}

/// Starts the boot program of `disk`, served as `drive`: returns only if it could not.
fn start(disk: &Disk<'_>, boot: BiosBoot, drive: u8, installed: &Installed) -> String {
    match boot {
        BiosBoot::Cd { lba, sectors, load_segment } => {
            // El Torito: the boot image's 512-byte units from its first block, where its
            // entry says, entered at segment:0 with DL the drive (as SeaBIOS does).
            let from = (lba as usize) << 11;
            let len = usize::from(sectors.max(1)) * 512;
            let to = usize::from(load_segment) << 4;
            if to + len > installed.linear {
                return format!("'{}': its El Torito boot image does not fit below 640 KiB", disk.name);
            }
            crate::println!(
                "sanboot: {} as drive {drive:#04x}, {}; El Torito boot image at block {lba}, {len} bytes to \
                 {load_segment:04x}:0000",
                disk.name,
                disk.describe()
            );
            // SAFETY: `to..to + len` is conventional memory below the resident handler and
            // apart from the setup part (checked above and in `boot`), identity-mapped;
            // the source range was checked against the image by `bios_boot`.
            unsafe { core::ptr::copy(disk.bytes[from..from + len].as_ptr(), to as *mut u8, len) };
            let mut regs = Regs { edx: u32::from(drive), ..Regs::default() };
            thunk::call([0, load_segment], &mut regs);
            format!("the El Torito boot image of '{}' returned", disk.name)
        }
        _ => {
            crate::println!("sanboot: {} as drive {drive:#04x}, {}", disk.name, disk.describe());
            crate::disk::start_drive(drive)
        }
    }
}

/// Puts the handler in place for `disk` as `drive`: the code and the memory map below
/// the top of conventional memory, the BIOS data area's base memory and disk count, and
/// the two vectors.
fn install(disk: &Disk<'_>, drive: u8) -> Result<Installed, String> {
    let (base, len) = (disk.bytes.as_ptr() as u64, disk.bytes.len() as u64);
    if base + len > 1 << 32 {
        return Err(format!("'{}' lies above 4 GiB, out of a BIOS copy's reach", disk.name));
    }
    let sectors = u32::try_from(len >> disk.shift())
        .map_err(|_| format!("'{}' has more sectors than a BIOS drive here can have", disk.name))?;
    // SAFETY (all BDA and vector accesses below): the interrupt table and the BIOS data
    // area lie at linear 0-0x4FF, identity-mapped; the firmware runs alone, interrupts
    // off, so nothing changes them meanwhile.
    let base_kib = unsafe { core::ptr::read_volatile(BDA_BASE_KIB as *const u16) };
    let disks = unsafe { core::ptr::read_volatile(BDA_DISKS as *const u8) };
    let vectors = unsafe { [vector(0x13), vector(0x15)] };

    let code = code_range();
    let top = usize::from(base_kib) << 10;
    let setup_end = (usize::from(thunk::setup_segment()) << 4) + 0xe000;
    let no_room = || {
        format!(
            "no room below 640 KiB for the disk handler: the base memory ends at {base_kib} KiB, and this \
             firmware's real-mode part (with its stack) ends at {setup_end:#x}"
        )
    };
    // The last KiB is the scratch buffer of the memory map calls, and then the handler's.
    if top < setup_end + 1024 {
        return Err(no_room());
    }
    let hidden = (base & !0xfff)..(base + len).next_multiple_of(0x1000);
    let map = memmap::hide(&memory_map(top)?, hidden.clone());
    // The handler's own block is hidden too: one more range (it splits the RAM below
    // 640 KiB in two at most).
    let size = code.len() + (map.len() + 1) * 20;
    let kib = size.div_ceil(1024) as u16;
    let linear = usize::from(base_kib.checked_sub(kib).ok_or_else(no_room)?) << 10;
    if linear < setup_end {
        return Err(no_room());
    }
    let map = memmap::hide(&map, linear as u64..top as u64);
    if map.len() > MAX_ENTRIES {
        return Err(format!("the memory map has {} entries, more than {MAX_ENTRIES}", map.len()));
    }
    let (bios_sizes, old_sizes) = old_sizes();
    let sizes = OldSizes::of(&map, bios_sizes);
    // The offsets in the code are its link offsets in the setup part: CS makes them
    // address the copy.
    let segment = ((linear - code.start) >> 4) as u16;

    // The BIOS's disk with this number, if it has one, answers to the next free number.
    let natural = if drive & 0x7f >= disks { drive } else { 0x80 | disks };
    let numhd = disks.max((drive.max(natural) & 0x7f) + 1);
    let geometry = memmap::geometry(&disk.bytes[..disk.bytes.len().min(512)], u64::from(sectors));
    let params = Params {
        orig13: vectors[0],
        orig15: vectors[1],
        base: base as u32,
        sectors,
        drive,
        natural,
        shift: disk.shift(),
        heads: geometry.heads,
        spt: geometry.sectors,
        numhd,
        cyls: geometry.cylinders,
        e820n: map.len() as u16,
        e801lo: sizes.e801_low_kib,
        e801hi: sizes.e801_high_blocks,
        ext88: sizes.ext_kib,
        status: 0,
        old_sizes,
    };
    let params_offset = addr_of_link(&raw const int13_params) - code.start;
    assert_eq!(
        addr_of_link(&raw const int13_params_end) - addr_of_link(&raw const int13_params),
        core::mem::size_of::<Params>(),
        "san16.s and Params disagree"
    );
    let mut table = Vec::with_capacity(map.len() * 20);
    for r in &map {
        table.extend_from_slice(&r.base.to_le_bytes());
        table.extend_from_slice(&r.length.to_le_bytes());
        table.extend_from_slice(&r.kind.to_le_bytes());
    }
    let entry13 = addr_of_link(&raw const int13_entry) as u32;
    let entry15 = addr_of_link(&raw const int15_entry) as u32;
    let far = |offset: u32| offset | u32::from(segment) << 16;
    // SAFETY: `linear..linear + size` is conventional memory the BIOS data area still
    // counted as free (below its base memory size, above the setup part), identity-
    // mapped; the code is copied from the setup part, where it was linked. Lowering the
    // base memory size claims it before the vectors point into it.
    unsafe {
        core::ptr::copy_nonoverlapping(
            thunk::setup_address(code.start as *const u8) as *const u8,
            linear as *mut u8,
            code.len(),
        );
        core::ptr::write_unaligned((linear + params_offset) as *mut Params, params);
        core::ptr::copy_nonoverlapping(table.as_ptr(), (linear + code.len()) as *mut u8, table.len());
        core::ptr::write_volatile(BDA_BASE_KIB as *mut u16, base_kib - kib);
        core::ptr::write_volatile(BDA_DISKS as *mut u8, numhd);
        set_vector(0x13, far(entry13));
        set_vector(0x15, far(entry15));
    }
    crate::println!(
        "sanboot: drive {drive:#04x} served from {:#x}-{:#x} (hidden from the memory map), handler at {segment:04x}:{:04x}, {} KiB",
        hidden.start,
        hidden.end,
        entry13,
        kib
    );
    Ok(Installed { vectors, base_kib, disks, segment, linear })
}

/// Takes the handler out again; false when something hooked the vectors after it, so it
/// must stay.
fn uninstall(installed: &Installed) -> bool {
    let ours = |v: u32| (v >> 16) as u16 == installed.segment;
    // SAFETY: as in `install`.
    unsafe {
        if !(ours(vector(0x13)) && ours(vector(0x15))) {
            return false;
        }
        set_vector(0x13, installed.vectors[0]);
        set_vector(0x15, installed.vectors[1]);
        core::ptr::write_volatile(BDA_BASE_KIB as *mut u16, installed.base_kib);
        core::ptr::write_volatile(BDA_DISKS as *mut u8, installed.disks);
    }
    true
}

/// The handler's code and parameters: its link offsets in the setup part.
fn code_range() -> core::ops::Range<usize> {
    addr_of_link(&raw const int13_start)..addr_of_link(&raw const int13_end)
}

/// A symbol's link value: its offset in the setup part.
fn addr_of_link(sym: *const u8) -> usize {
    sym as usize
}

/// Interrupt `n`'s vector (segment in the high half).
///
/// # Safety
/// The interrupt table must be at linear 0 (identity-mapped).
unsafe fn vector(n: usize) -> u32 {
    // SAFETY: the caller's.
    unsafe { core::ptr::read_volatile((n * 4) as *const u32) }
}

/// # Safety
/// As [`vector`]; what it points at must be a handler.
unsafe fn set_vector(n: usize, far: u32) {
    // SAFETY: the caller's.
    unsafe { core::ptr::write_volatile((n * 4) as *mut u32, far) }
}

/// The memory map as the BIOS (and any handler before this one) gives it now, through
/// INT 15h E820; `scratch` is a free KiB of conventional memory below it, for the buffer.
fn memory_map(below: usize) -> Result<Vec<MemoryRange>, String> {
    let scratch = below - 1024;
    let mut map = Vec::new();
    let mut next = 0u32;
    for _ in 0..128 {
        // SAFETY: `scratch` is free conventional memory (below the base memory size).
        unsafe { core::ptr::write_volatile((scratch + 20) as *mut u32, 1) };
        let mut regs = Regs {
            eax: 0xe820,
            ebx: next,
            ecx: 24,
            edx: SMAP,
            edi: 0,
            es: (scratch >> 4) as u16,
            ..Regs::default()
        };
        thunk::int(0x15, &mut regs);
        if regs.eflags & 1 != 0 || regs.eax != SMAP {
            break;
        }
        // SAFETY: the BIOS wrote an entry there.
        let entry = unsafe { core::ptr::read_volatile(scratch as *const [u8; 24]) };
        let field = |at: usize| u64::from_le_bytes(entry[at..at + 8].try_into().expect("eight bytes"));
        let kind = u32::from_le_bytes(entry[16..20].try_into().expect("four bytes"));
        let attributes = u32::from_le_bytes(entry[20..24].try_into().expect("four bytes"));
        // ACPI 3.0: an entry without bit 0 of its attributes is to be ignored.
        if regs.ecx < 24 || attributes & 1 == 1 {
            map.push(MemoryRange { base: field(0), length: field(8), kind });
        }
        next = regs.ebx;
        if next == 0 {
            break;
        }
    }
    if map.is_empty() {
        return Err("the BIOS gives no memory map (INT 15h E820)".into());
    }
    Ok(map)
}

/// The BIOS's answers to E801h and 88h, and which it gives (bit 0 E801h, bit 1 88h):
/// the handler answers only those, and passes the others on.
fn old_sizes() -> (OldSizes, u8) {
    let mut known = 0;
    let mut e801 = Regs { eax: 0xe801, ..Regs::default() };
    thunk::int(0x15, &mut e801);
    let (low, high) = match e801.eflags & 1 {
        0 if e801.eax & 0xffff != 0 => (e801.eax as u16, e801.ebx as u16),
        0 => (e801.ecx as u16, e801.edx as u16),
        _ => (0, 0),
    };
    if e801.eflags & 1 == 0 {
        known |= 1;
    }
    let mut ext = Regs { eax: 0x8800, ..Regs::default() };
    thunk::int(0x15, &mut ext);
    let ext_kib = if ext.eflags & 1 == 0 {
        known |= 2;
        ext.eax as u16
    } else {
        0
    };
    (OldSizes { e801_low_kib: low, e801_high_blocks: high, ext_kib }, known)
}
