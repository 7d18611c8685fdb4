//! ACPI for powering a PC off from a firmware that has no ACPI interpreter, as iPXE and
//! small kernels do it: the RSDP the platform publishes, the root table (RSDT or XSDT)
//! it points at, the FADT (signature `FACP`) with the PM1 control blocks and the SMI
//! command that turns ACPI mode on, and the sleep types of S5 from the DSDT's `\_S5`
//! package (found by its name, the package decoded without running any AML).
//!
//! Sans-IO: the platform reads physical memory and ports; this crate only reads bytes,
//! through checked views (no field is read past its table's length, checksums are
//! verified), so a damaged or hostile table gives an error, never a wrong port.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use core::fmt;

/// What is wrong with a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Not the signature expected (`RSD PTR `, or the table's four letters).
    Signature,
    /// Shorter than its length field says, or than the format needs.
    Truncated,
    /// The bytes do not sum to zero.
    Checksum,
    /// The FADT names no PM1a control block.
    NoPm1Control,
    /// The DSDT has no `\_S5` package of sleep types.
    NoS5,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Signature => "an ACPI table has the wrong signature",
            Self::Truncated => "an ACPI table is cut short",
            Self::Checksum => "an ACPI table's checksum is wrong",
            Self::NoPm1Control => "the FADT names no PM1a control block",
            Self::NoS5 => "the DSDT has no \\_S5 sleep state",
        })
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn sums_to_zero(b: &[u8]) -> bool {
    b.iter().fold(0u8, |s, x| s.wrapping_add(*x)) == 0
}

/// The Root System Description Pointer: where the root table is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rsdp {
    /// The RSDT's physical address (32-bit entries).
    pub rsdt: u32,
    /// The XSDT's (64-bit entries), from ACPI 2.0 on, when not 0.
    pub xsdt: Option<u64>,
}

impl Rsdp {
    /// The RSDP at the start of `b` (20 bytes for ACPI 1.0, 36 from 2.0), checksums
    /// verified.
    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        if !b.starts_with(b"RSD PTR ") {
            return Err(Error::Signature);
        }
        let first = b.get(..20).ok_or(Error::Truncated)?;
        if !sums_to_zero(first) {
            return Err(Error::Checksum);
        }
        let rsdt = u32_at(b, 16).ok_or(Error::Truncated)?;
        if b[15] < 2 {
            return Ok(Self { rsdt, xsdt: None });
        }
        let len = u32_at(b, 20).ok_or(Error::Truncated)? as usize;
        let whole = b.get(..len.max(36)).ok_or(Error::Truncated)?;
        if !sums_to_zero(whole) {
            return Err(Error::Checksum);
        }
        let xsdt = u64_at(b, 24).ok_or(Error::Truncated)?;
        Ok(Self { rsdt, xsdt: (xsdt != 0).then_some(xsdt) })
    }
}

/// A system description table: the 36-byte header and what follows, within its length.
#[derive(Clone, Copy, Debug)]
pub struct Sdt<'a> {
    /// The whole table, header included, exactly as long as its length field says.
    pub bytes: &'a [u8],
}

/// The header's length.
pub const HEADER: usize = 36;

impl<'a> Sdt<'a> {
    /// The table's length from its header (the first 8 bytes suffice), to know how much
    /// to read.
    pub fn length(head: &[u8]) -> Result<usize, Error> {
        let len = u32_at(head, 4).ok_or(Error::Truncated)? as usize;
        if len < HEADER {
            return Err(Error::Truncated);
        }
        Ok(len)
    }

    /// The table at the start of `b` with signature `sig`, its checksum verified.
    pub fn parse(b: &'a [u8], sig: &[u8; 4]) -> Result<Self, Error> {
        if b.get(..4) != Some(&sig[..]) {
            return Err(Error::Signature);
        }
        let bytes = b.get(..Self::length(b)?).ok_or(Error::Truncated)?;
        if !sums_to_zero(bytes) {
            return Err(Error::Checksum);
        }
        Ok(Self { bytes })
    }

    /// The table addresses of a root table: 4-byte entries for the RSDT, 8 for the XSDT.
    pub fn entries(&self, width: usize) -> impl Iterator<Item = u64> + 'a {
        let body = &self.bytes[HEADER..];
        body.chunks_exact(width).map(move |c| {
            if width == 8 { u64_at(c, 0).unwrap_or(0) } else { u64::from(u32_at(c, 0).unwrap_or(0)) }
        })
    }
}

/// What the FADT says about powering off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fadt {
    /// The DSDT's physical address (X_DSDT when present and not 0).
    pub dsdt: u64,
    /// The PM1a control block's I/O port.
    pub pm1a_control: u16,
    /// The PM1b control block's, when there is one.
    pub pm1b_control: Option<u16>,
    /// The SMI command port and the value that turns ACPI mode on (0: always on).
    pub smi_command: u32,
    /// The value written to `smi_command` to enable ACPI.
    pub acpi_enable: u8,
    /// The RTC's CMOS century register, when the platform has one.
    pub century: Option<u8>,
}

impl Fadt {
    /// The FADT (`FACP`) in `t`.
    pub fn parse(t: &Sdt<'_>) -> Result<Self, Error> {
        let b = t.bytes;
        if &b[..4] != b"FACP" {
            return Err(Error::Signature);
        }
        let dsdt32 = u32_at(b, 40).ok_or(Error::Truncated)?;
        let x_dsdt = u64_at(b, 140).filter(|&a| a != 0);
        let smi_command = u32_at(b, 48).ok_or(Error::Truncated)?;
        let acpi_enable = *b.get(52).ok_or(Error::Truncated)?;
        let pm1a = u32_at(b, 64).ok_or(Error::Truncated)?;
        let pm1b = u32_at(b, 68).ok_or(Error::Truncated)?;
        // ACPI 2.0's X_PM1a_CNT_BLK, a generic address in system I/O space (1), when the
        // 32-bit field is 0.
        let x_pm1a = b.get(172..184).filter(|g| g[0] == 1).and_then(|g| u64_at(g, 4));
        let port = |a: u64| u16::try_from(a).ok().filter(|&p| p != 0);
        let pm1a_control =
            port(u64::from(pm1a)).or_else(|| x_pm1a.and_then(port)).ok_or(Error::NoPm1Control)?;
        let century = b.get(108).copied().filter(|&c| c != 0 && c < 128);
        Ok(Self {
            dsdt: x_dsdt.unwrap_or(u64::from(dsdt32)),
            pm1a_control,
            pm1b_control: port(u64::from(pm1b)),
            smi_command,
            acpi_enable,
            century,
        })
    }
}

/// The S5 (soft-off) sleep types for PM1a and PM1b from the DSDT's `\_S5` package:
/// `Name (_S5, Package () { a, b, ... })`, found by its name and decoded (the integers
/// as AML writes constants: Zero, One, Ones, or byte, word and dword constants).
pub fn s5_sleep_types(dsdt: &Sdt<'_>) -> Result<(u8, u8), Error> {
    let aml = &dsdt.bytes[HEADER..];
    let mut from = 0;
    while let Some(at) = aml.get(from..).and_then(|r| r.windows(4).position(|w| w == b"_S5_")) {
        let at = from + at;
        from = at + 1;
        // NameOp (0x08), optionally a root prefix, then the name; then PackageOp (0x12).
        let named =
            at >= 1 && (aml[at - 1] == 0x08 || (at >= 2 && aml[at - 1] == b'\\' && aml[at - 2] == 0x08));
        if !named || aml.get(at + 4) != Some(&0x12) {
            continue;
        }
        if let Some(types) = package_types(&aml[at + 5..]) {
            return Ok(types);
        }
    }
    Err(Error::NoS5)
}

/// The first two integers of a package whose PkgLength starts `b`.
fn package_types(b: &[u8]) -> Option<(u8, u8)> {
    // PkgLength: the top two bits of the first byte say how many bytes follow.
    let follow = usize::from(*b.first()? >> 6);
    let mut at = 1 + follow;
    let _elements = *b.get(at)?;
    at += 1;
    let mut int = || -> Option<u8> {
        let op = *b.get(at)?;
        let (value, len) = match op {
            0x00 => (0, 1),
            0x01 => (1, 1),
            0xff => (0xff, 1),
            0x0a => (u64::from(*b.get(at + 1)?), 2),
            0x0b => (u64::from(u16_at(b, at + 1)?), 3),
            0x0c => (u64::from(u32_at(b, at + 1)?), 5),
            _ => return None,
        };
        at += len;
        // SLP_TYP is a 3-bit field.
        Some((value & 7) as u8)
    };
    let a = int()?;
    let b_type = int().unwrap_or(0);
    Some((a, b_type))
}

/// Everything needed to power off: the ports, the values, and how to turn ACPI on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PowerOff {
    /// From the FADT.
    pub fadt: Fadt,
    /// S5's SLP_TYP for PM1a and PM1b.
    pub sleep_types: (u8, u8),
}

impl PowerOff {
    /// The PM1 control value that enters S5 with `sleep_type`: SLP_TYP in bits 10-12,
    /// SLP_EN (bit 13).
    pub fn control_value(sleep_type: u8) -> u16 {
        (u16::from(sleep_type & 7) << 10) | (1 << 13)
    }
}

/// Reads the table at `addr` with signature `sig` through `read`, whole and checked.
fn table<R>(read: &mut R, addr: u64, sig: &[u8; 4]) -> Result<Vec<u8>, Error>
where
    R: FnMut(u64, usize) -> Option<Vec<u8>>,
{
    let head = read(addr, 8).ok_or(Error::Truncated)?;
    let len = Sdt::length(&head)?;
    // Tables are small; one over 16 MiB is damage, not a table.
    if len > 16 << 20 {
        return Err(Error::Truncated);
    }
    let bytes = read(addr, len).ok_or(Error::Truncated)?;
    Sdt::parse(&bytes, sig)?;
    Ok(bytes)
}

/// Finds what powering off needs, reading tables through `read(address, length)` (the
/// platform's physical memory; `None` where it cannot read): from the RSDP bytes `rsdp`
/// through the XSDT (else the RSDT) to the FADT and the DSDT.
pub fn power_off<R>(rsdp: &[u8], mut read: R) -> Result<PowerOff, Error>
where
    R: FnMut(u64, usize) -> Option<Vec<u8>>,
{
    let rsdp = Rsdp::parse(rsdp)?;
    let (sig, addr, width) = match rsdp.xsdt {
        Some(x) => (b"XSDT", x, 8),
        None => (b"RSDT", u64::from(rsdp.rsdt), 4),
    };
    let root = table(&mut read, addr, sig)?;
    let root = Sdt::parse(&root, sig)?;
    let mut fadt = None;
    for addr in root.entries(width) {
        if read(addr, 4).as_deref() == Some(b"FACP") {
            let bytes = table(&mut read, addr, b"FACP")?;
            fadt = Some(Fadt::parse(&Sdt::parse(&bytes, b"FACP")?)?);
            break;
        }
    }
    let fadt = fadt.ok_or(Error::Signature)?;
    let dsdt = table(&mut read, fadt.dsdt, b"DSDT")?;
    let sleep_types = s5_sleep_types(&Sdt::parse(&dsdt, b"DSDT")?)?;
    Ok(PowerOff { fadt, sleep_types })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_checksum(mut t: Vec<u8>, at: usize) -> Vec<u8> {
        t[at] = 0;
        let sum = t.iter().fold(0u8, |s, x| s.wrapping_add(*x));
        t[at] = 0u8.wrapping_sub(sum);
        t
    }

    fn sdt(sig: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        t.extend_from_slice(sig);
        t.extend_from_slice(&((HEADER + body.len()) as u32).to_le_bytes());
        t.extend_from_slice(&[1, 0]);
        t.extend_from_slice(b"BOCHS BXPC    \x01\0\0\0BXPC\x01\0\0\0");
        assert_eq!(t.len(), HEADER);
        t.extend_from_slice(body);
        with_checksum(t, 9)
    }

    /// A small machine: RSDP (ACPI 1.0) -> RSDT -> FACP -> DSDT, as SeaBIOS lays them out
    /// for QEMU's pc (PM1a control at 0xb004, \_S5 = Package { 0, 0, 0, 0 } written
    /// with ZeroOp, the iASL way) and q35 (0x604, byte constants).
    fn machine(pm1a: u32, s5: &[u8]) -> (Vec<u8>, alloc::collections::BTreeMap<u64, Vec<u8>>) {
        let mut mem = alloc::collections::BTreeMap::new();
        let mut dsdt_body = Vec::from(&b"\x10\x05\\_SB_"[..]);
        dsdt_body.extend_from_slice(b"\x08_S5_\x12");
        dsdt_body.extend_from_slice(s5);
        mem.insert(0x3000u64, sdt(b"DSDT", &dsdt_body));
        let mut facp = alloc::vec![0u8; 116 - HEADER];
        facp[40 - HEADER..44 - HEADER].copy_from_slice(&0x3000u32.to_le_bytes());
        facp[48 - HEADER..52 - HEADER].copy_from_slice(&0xb2u32.to_le_bytes());
        facp[52 - HEADER] = 0xf1;
        facp[64 - HEADER..68 - HEADER].copy_from_slice(&pm1a.to_le_bytes());
        facp[108 - HEADER] = 0x32;
        mem.insert(0x2000, sdt(b"FACP", &facp));
        mem.insert(0x1000, sdt(b"RSDT", &[0x00, 0x20, 0, 0]));
        let mut rsdp = Vec::from(&b"RSD PTR \0BOCHS \0"[..]);
        rsdp.extend_from_slice(&0x1000u32.to_le_bytes());
        (with_checksum(rsdp, 8), mem)
    }

    fn reader(
        mem: &alloc::collections::BTreeMap<u64, Vec<u8>>,
    ) -> impl FnMut(u64, usize) -> Option<Vec<u8>> + '_ {
        move |addr, len| mem.get(&addr).and_then(|t| t.get(..len)).map(<[u8]>::to_vec)
    }

    #[test]
    fn finds_the_ports_and_sleep_types() {
        let (rsdp, mem) = machine(0xb004, &[0x06, 0x04, 0x00, 0x00, 0x00, 0x00]);
        let p = power_off(&rsdp, reader(&mem)).unwrap();
        assert_eq!((p.fadt.pm1a_control, p.fadt.pm1b_control, p.sleep_types), (0xb004, None, (0, 0)));
        assert_eq!((p.fadt.smi_command, p.fadt.acpi_enable, p.fadt.century), (0xb2, 0xf1, Some(0x32)));
        let (rsdp, mem) = machine(0x604, &[0x0a, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00]);
        let p = power_off(&rsdp, reader(&mem)).unwrap();
        assert_eq!((p.fadt.pm1a_control, p.sleep_types), (0x604, (5, 5)));
        assert_eq!(PowerOff::control_value(5), 0x3400);
        assert_eq!(PowerOff::control_value(0), 0x2000);
    }

    #[test]
    fn damage_is_an_error_not_a_port() {
        let (rsdp, mem) = machine(0xb004, &[0x06, 0x04, 0x00, 0x00, 0x00, 0x00]);
        let mut bad = rsdp.clone();
        bad[16] ^= 1;
        assert_eq!(power_off(&bad, reader(&mem)), Err(Error::Checksum));
        assert_eq!(power_off(b"RSD PTX \0", reader(&mem)), Err(Error::Signature));
        for (addr, what) in [(0x1000u64, "RSDT"), (0x2000, "FACP"), (0x3000, "DSDT")] {
            let mut m = mem.clone();
            let t = m.get_mut(&addr).unwrap();
            let last = t.len() - 1;
            t[last] ^= 0x40;
            assert_eq!(power_off(&rsdp, reader(&m)), Err(Error::Checksum), "{what}");
            let mut m = mem.clone();
            m.get_mut(&addr).unwrap().truncate(20);
            assert!(power_off(&rsdp, reader(&m)).is_err(), "{what} cut short");
        }
        let (rsdp, mem) = machine(0, &[0x06, 0x04, 0x00, 0x00, 0x00, 0x00]);
        assert_eq!(power_off(&rsdp, reader(&mem)), Err(Error::NoPm1Control));
        // A name that merely contains _S5_, or an _S5_ that is not a package.
        let (rsdp, mem) = machine(0xb004, &[0x01]);
        assert_eq!(power_off(&rsdp, reader(&mem)), Err(Error::NoS5));
    }
}
