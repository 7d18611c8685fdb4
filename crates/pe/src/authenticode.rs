//! Authenticode's view of a PE32+ image: the bytes the image digest covers, the
//! attribute certificate table that carries signatures, and appending one.
//!
//! The digest covers, in order (as EDK2's `HashPeImage`, sbsigntools and osslsigncode
//! compute it): the headers without the CheckSum field and without the certificate
//! table's data-directory entry, every section with raw data in file order, and whatever
//! follows the sections up to the certificate table. The table (WIN_CERTIFICATE entries,
//! each 8-aligned) must be the last thing in the file; its data-directory entry holds a
//! file offset, not an RVA. An unsigned image is padded with zeros to a multiple of 8
//! before it is hashed and signed ([`prepare_for_signing`]), which makes every tool agree
//! on the digest.

use alloc::vec::Vec;
use core::ops::Range;

#[cfg(test)]
use crate::put_u16;
use crate::{Pe, PeError, opt, put_u32, u16_at, u32_at};

/// WIN_CERTIFICATE revision 2.0.
pub const WIN_CERT_REVISION_2_0: u16 = 0x0200;
/// WIN_CERT_TYPE_PKCS_SIGNED_DATA: the entry holds a DER PKCS#7 SignedData.
pub const WIN_CERT_TYPE_PKCS_SIGNED_DATA: u16 = 0x0002;
/// Most signatures an image may carry; more is refused as damage, not read.
pub const MAX_SIGNATURES: usize = 16;

/// One entry of the attribute certificate table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WinCertificate<'a> {
    /// The entry's file offset.
    pub offset: usize,
    /// `wRevision`.
    pub revision: u16,
    /// `wCertificateType`.
    pub certificate_type: u16,
    /// The certificate data (for PKCS_SIGNED_DATA, the DER SignedData, possibly followed
    /// by padding the entry's length includes).
    pub data: &'a [u8],
}

/// Why an image's signatures cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// The PE image itself is malformed.
    Pe(PeError),
    /// The image has fewer than five data directories, so no certificate table entry.
    NoSecurityDirectory,
    /// The certificate table lies outside the file or inside the headers or sections.
    TableOutOfBounds,
    /// The certificate table is not the last thing in the file.
    TableNotAtEnd,
    /// An entry's length is shorter than its header or runs past the table.
    BadEntryLength {
        /// The entry's file offset.
        offset: usize,
    },
    /// More entries than [`MAX_SIGNATURES`].
    TooManyEntries,
    /// The sections overlap the headers or run past the end of the file.
    BadSections,
}

impl core::fmt::Display for TableError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Pe(e) => write!(f, "{e}"),
            Self::NoSecurityDirectory => f.write_str("the PE image has no certificate table directory entry"),
            Self::TableOutOfBounds => {
                f.write_str("the certificate table lies outside the file (the image is truncated or damaged)")
            }
            Self::TableNotAtEnd => f.write_str("the certificate table is not at the end of the file"),
            Self::BadEntryLength { offset } => {
                write!(f, "the certificate table entry at offset {offset:#x} has a bad length")
            }
            Self::TooManyEntries => {
                write!(f, "the certificate table holds more than {MAX_SIGNATURES} entries")
            }
            Self::BadSections => {
                f.write_str("the PE sections overlap the headers or run past the end of the file")
            }
        }
    }
}

impl core::error::Error for TableError {}

impl From<PeError> for TableError {
    fn from(e: PeError) -> Self {
        Self::Pe(e)
    }
}

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

impl<'a> Pe<'a> {
    /// The file offset of the certificate table's data-directory entry.
    fn security_directory_at(&self) -> Result<usize, TableError> {
        let count = u32_at(self.bytes, self.opt + opt::NUMBER_OF_RVA_AND_SIZES)? as usize;
        if count <= opt::SECURITY_DIRECTORY {
            return Err(TableError::NoSecurityDirectory);
        }
        let at = self.opt + opt::DATA_DIRECTORIES + opt::SECURITY_DIRECTORY * 8;
        if at + 8 > self.size_of_headers as usize || at + 8 > self.bytes.len() {
            return Err(TableError::Pe(PeError::Truncated));
        }
        Ok(at)
    }

    /// The certificate table's byte range in the file; empty at the end of the file when
    /// the image is unsigned.
    pub fn certificate_table(&self) -> Result<Range<usize>, TableError> {
        let at = self.security_directory_at()?;
        let (offset, size) = (u32_at(self.bytes, at)? as usize, u32_at(self.bytes, at + 4)? as usize);
        if size == 0 {
            return Ok(self.bytes.len()..self.bytes.len());
        }
        let end = offset.checked_add(size).ok_or(TableError::TableOutOfBounds)?;
        if offset < self.size_of_headers as usize || end > self.bytes.len() {
            return Err(TableError::TableOutOfBounds);
        }
        if end != self.bytes.len() {
            return Err(TableError::TableNotAtEnd);
        }
        Ok(offset..end)
    }

    /// The entries of the certificate table, in order.
    pub fn certificates(&self) -> Result<Vec<WinCertificate<'a>>, TableError> {
        let table = self.certificate_table()?;
        let mut out = Vec::new();
        let mut pos = table.start;
        while pos + 8 <= table.end {
            if out.len() == MAX_SIGNATURES {
                return Err(TableError::TooManyEntries);
            }
            let len = u32_at(self.bytes, pos)? as usize;
            if len < 8 || len > table.end - pos {
                return Err(TableError::BadEntryLength { offset: pos });
            }
            out.push(WinCertificate {
                offset: pos,
                revision: u16_at(self.bytes, pos + 4)?,
                certificate_type: u16_at(self.bytes, pos + 6)?,
                data: &self.bytes[pos + 8..pos + len],
            });
            pos += align8(len);
        }
        Ok(out)
    }

    /// The byte ranges the Authenticode digest covers, in order.
    pub fn authenticode_ranges(&self) -> Result<Vec<Range<usize>>, TableError> {
        let dir = self.security_directory_at()?;
        let table = self.certificate_table()?;
        let headers = self.size_of_headers as usize;
        let checksum = self.checksum_range();
        if headers > table.start || dir + 8 > headers {
            return Err(TableError::BadSections);
        }
        // The layout EDK2's loader insists on, so that what the digest leaves out is only
        // the checksum, the directory entry and the table: the optional header exactly as
        // long as its data directories, and the section table inside the headers.
        let count = u32_at(self.bytes, self.opt + opt::NUMBER_OF_RVA_AND_SIZES)? as usize;
        if self.table - self.opt != opt::DATA_DIRECTORIES + 8 * count
            || self.table + 40 * self.sections.len() > headers
        {
            return Err(TableError::BadSections);
        }
        let mut ranges = alloc::vec![0..checksum.start, checksum.end..dir, dir + 8..headers];
        let mut sections: Vec<Range<usize>> = self
            .sections
            .iter()
            .filter(|s| s.raw_size != 0)
            .map(|s| s.raw_offset as usize..s.raw_offset as usize + s.raw_size as usize)
            .collect();
        sections.sort_by_key(|r| r.start);
        let mut hashed = headers;
        let mut end = headers;
        for r in sections {
            // Inside the file before the table, after the headers and the section before.
            if r.start < end || r.end > table.start {
                return Err(TableError::BadSections);
            }
            end = r.end;
            hashed += r.len();
            ranges.push(r);
        }
        // What follows the sections (padding, debug data), up to the certificate table.
        if hashed < table.start {
            ranges.push(hashed..table.start);
        }
        Ok(ranges)
    }
}

/// `file` ready to be hashed and signed: an unsigned image padded with zeros to a
/// multiple of 8 (where the certificate table will start); a signed one unchanged, so
/// another signature can be appended over the same digest.
pub fn prepare_for_signing(file: &[u8]) -> Result<Vec<u8>, TableError> {
    let pe = Pe::parse(file)?;
    let table = pe.certificate_table()?;
    let mut out = file.to_vec();
    if table.is_empty() {
        out.resize(align8(out.len()), 0);
    }
    Ok(out)
}

/// Appends `signed_data` (a DER PKCS#7 SignedData) as a new WIN_CERTIFICATE entry to
/// `file` (as returned by [`prepare_for_signing`]), after any signatures it has, updates
/// the certificate table's directory entry and the PE checksum.
pub fn append_signature(file: &[u8], signed_data: &[u8]) -> Result<Vec<u8>, TableError> {
    append_signature_aligned(file, signed_data, 0, 8)
}

/// [`append_signature`], with the new entry padded (zeros its length includes, as
/// osslsigncode pads) until `base` plus the file's length is a multiple of `align` (a
/// multiple of 8): for an image that will sit at `base` in a container that hands the
/// loader everything up to a boundary, such as a PCI option ROM, so that the certificate
/// table still ends where the image the loader sees does.
pub fn append_signature_aligned(
    file: &[u8],
    signed_data: &[u8],
    base: usize,
    align: usize,
) -> Result<Vec<u8>, TableError> {
    if align == 0 || !align.is_multiple_of(8) || !base.is_multiple_of(8) {
        return Err(TableError::Pe(PeError::BadAlignment));
    }
    let pe = Pe::parse(file)?;
    let dir = pe.security_directory_at()?;
    let table = pe.certificate_table()?;
    if table.is_empty() && !file.len().is_multiple_of(8) {
        // The digest was computed over the padded image; appending here would change it.
        return Err(TableError::TableOutOfBounds);
    }
    let mut out = file.to_vec();
    // Entries start 8-aligned.
    out.resize(align8(out.len()), 0);
    let entry_at = out.len();
    let end = (base + entry_at + 8 + signed_data.len()).div_ceil(align) * align - base;
    let entry_len = if align == 8 { 8 + signed_data.len() } else { end - entry_at };
    let entry_len32 = u32::try_from(entry_len).map_err(|_| TableError::Pe(PeError::BadLayout))?;
    out.extend_from_slice(&entry_len32.to_le_bytes());
    out.extend_from_slice(&WIN_CERT_REVISION_2_0.to_le_bytes());
    out.extend_from_slice(&WIN_CERT_TYPE_PKCS_SIGNED_DATA.to_le_bytes());
    out.extend_from_slice(signed_data);
    out.resize(end, 0);
    let start = if table.is_empty() { file.len() } else { table.start };
    let size = u32::try_from(out.len() - start).map_err(|_| TableError::Pe(PeError::BadLayout))?;
    let start32 = u32::try_from(start).map_err(|_| TableError::Pe(PeError::BadLayout))?;
    put_u32(&mut out, dir, start32);
    put_u32(&mut out, dir + 4, size);
    let field = pe.checksum_range();
    let sum = crate::pe_checksum(&out, field.clone());
    out[field].copy_from_slice(&sum.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::tiny_pe;

    /// The digest input, as one buffer.
    fn hashed(file: &[u8]) -> Vec<u8> {
        let pe = Pe::parse(file).unwrap();
        pe.authenticode_ranges().unwrap().into_iter().flat_map(|r| file[r].to_vec()).collect()
    }

    #[test]
    fn ranges_skip_the_checksum_and_directory_and_stop_at_the_table() {
        let mut f = tiny_pe();
        f.extend_from_slice(b"trailer"); // 0x607 bytes: not 8-aligned
        let prepared = prepare_for_signing(&f).unwrap();
        assert_eq!(prepared.len(), 0x608);
        let pe = Pe::parse(&prepared).unwrap();
        let ranges = pe.authenticode_ranges().unwrap();
        let opt = 0x84 + 20;
        let dir = opt + opt::DATA_DIRECTORIES + 32;
        assert_eq!(
            ranges,
            [0..opt + 64, opt + 68..dir, dir + 8..0x400, 0x400..0x600, 0x600..0x608],
            "headers in three parts, the section, the tail"
        );
        let unsigned_digest_input = hashed(&prepared);
        // Signing changes the checksum, the directory and appends the table: none of it
        // is hashed, so the digest input is the same, and so after a second signature.
        let once = append_signature(&prepared, &[0x30, 0x03, 0x02, 0x01, 0x01]).unwrap();
        assert_eq!(hashed(&once), unsigned_digest_input);
        let twice = append_signature(&once, &[0x30, 0x00]).unwrap();
        assert_eq!(hashed(&twice), unsigned_digest_input);
        let pe = Pe::parse(&twice).unwrap();
        assert_eq!(pe.checksum().unwrap(), crate::pe_checksum(&twice, pe.checksum_range()));
        let certs = pe.certificates().unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(certs[0].offset, 0x608);
        assert_eq!((certs[0].revision, certs[0].certificate_type), (0x0200, 2));
        assert_eq!(certs[0].data, [0x30, 0x03, 0x02, 0x01, 0x01]);
        assert_eq!(certs[1].offset, 0x608 + 16);
        assert_eq!(certs[1].data, [0x30, 0x00]);
        assert_eq!(pe.certificate_table().unwrap(), 0x608..twice.len());
        assert_eq!(twice.len() % 8, 0);
    }

    #[test]
    fn damaged_tables_are_refused() {
        let prepared = prepare_for_signing(&tiny_pe()).unwrap();
        let signed = append_signature(&prepared, &[0x30, 0x00]).unwrap();
        let dir = 0x84 + 20 + opt::DATA_DIRECTORIES + 32;
        // Truncated: the table runs past the end.
        assert_eq!(
            Pe::parse(&signed[..signed.len() - 1]).unwrap().certificates(),
            Err(TableError::TableOutOfBounds)
        );
        // Not at the end.
        let mut longer = signed.clone();
        longer.extend_from_slice(&[0; 8]);
        assert_eq!(Pe::parse(&longer).unwrap().certificates(), Err(TableError::TableNotAtEnd));
        // An entry length shorter than its header, or longer than the table.
        for bad in [4u32, 0x100] {
            let mut f = signed.clone();
            put_u32(&mut f, 0x600, bad);
            assert_eq!(
                Pe::parse(&f).unwrap().certificates(),
                Err(TableError::BadEntryLength { offset: 0x600 })
            );
        }
        // A table inside the headers.
        let mut f = signed.clone();
        put_u32(&mut f, dir, 0x10);
        put_u32(&mut f, dir + 4, (signed.len() - 0x10) as u32);
        assert_eq!(Pe::parse(&f).unwrap().certificates(), Err(TableError::TableOutOfBounds));
        // Too few data directories.
        let mut f = signed;
        put_u32(&mut f, 0x84 + 20 + opt::NUMBER_OF_RVA_AND_SIZES, 4);
        assert_eq!(Pe::parse(&f).unwrap().authenticode_ranges(), Err(TableError::NoSecurityDirectory));
        // Appending to an unsigned image that was not padded is refused.
        let mut odd = tiny_pe();
        odd.push(1);
        assert_eq!(append_signature(&odd, &[0x30, 0x00]), Err(TableError::TableOutOfBounds));
    }

    #[test]
    fn an_aligned_signature_ends_on_the_boundary() {
        let prepared = prepare_for_signing(&tiny_pe()).unwrap();
        let out = append_signature_aligned(&prepared, &[0x30, 0x00], 0x40, 512).unwrap();
        assert_eq!((0x40 + out.len()) % 512, 0);
        let pe = Pe::parse(&out).unwrap();
        let certs = pe.certificates().unwrap();
        assert_eq!(certs.len(), 1, "one entry, its padding inside it");
        assert_eq!(certs[0].offset + 8 + certs[0].data.len(), out.len());
        assert_eq!(&certs[0].data[..2], [0x30, 0x00]);
        assert!(certs[0].data[2..].iter().all(|&b| b == 0));
        assert_eq!(hashed(&out), hashed(&prepared));
        assert_eq!(
            append_signature_aligned(&prepared, &[0x30, 0x00], 0x40, 500),
            Err(TableError::Pe(PeError::BadAlignment))
        );
    }

    #[test]
    fn many_entries_are_refused() {
        let mut f = prepare_for_signing(&tiny_pe()).unwrap();
        for _ in 0..MAX_SIGNATURES {
            f = append_signature(&f, &[0x30, 0x00]).unwrap();
        }
        assert_eq!(Pe::parse(&f).unwrap().certificates().unwrap().len(), MAX_SIGNATURES);
        let f = append_signature(&f, &[0x30, 0x00]).unwrap();
        assert_eq!(Pe::parse(&f).unwrap().certificates(), Err(TableError::TooManyEntries));
    }

    #[test]
    fn layouts_edk2_refuses_are_refused() {
        let opt_at = 0x84 + 20;
        // An optional header shorter than its data directories (they would overlap the
        // section table, which the digest would then partly skip).
        let mut f = tiny_pe();
        put_u16(&mut f, 0x84 + 16, 112);
        assert_eq!(Pe::parse(&f).unwrap().authenticode_ranges(), Err(TableError::BadSections));
        // Overlapping sections.
        let mut f = tiny_pe();
        put_u16(&mut f, 0x84 + 2, 2);
        let sec2 = opt_at + 240 + 40;
        f[sec2..sec2 + 8].copy_from_slice(b".two\0\0\0\0");
        put_u32(&mut f, sec2 + 16, 0x100);
        put_u32(&mut f, sec2 + 20, 0x500);
        assert_eq!(Pe::parse(&f).unwrap().authenticode_ranges(), Err(TableError::BadSections));
        put_u32(&mut f, sec2 + 20, 0x600);
        f.resize(0x700, 0);
        assert!(Pe::parse(&f).unwrap().authenticode_ranges().is_ok(), "adjacent, not overlapping");
        // A section table running past the headers.
        let mut f = tiny_pe();
        put_u32(&mut f, opt_at + opt::SIZE_OF_HEADERS, 0x180);
        put_u32(&mut f, opt_at + 240 + 20, 0x180);
        assert_eq!(Pe::parse(&f).unwrap().authenticode_ranges(), Err(TableError::BadSections));
    }

    #[test]
    fn sections_outside_the_file_are_refused() {
        let mut f = tiny_pe();
        let sec = 0x84 + 20 + 240;
        put_u32(&mut f, sec + 20, 0x100); // raw data inside the headers
        assert_eq!(Pe::parse(&f).unwrap().authenticode_ranges(), Err(TableError::BadSections));
        let mut f = tiny_pe();
        put_u32(&mut f, sec + 16, 0x1000); // runs past the end
        assert_eq!(Pe::parse(&f).unwrap().authenticode_ranges(), Err(TableError::BadSections));
    }
}
