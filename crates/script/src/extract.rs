//! `imgextract`'s formats: gzip (RFC 1952) and zlib (RFC 1950) around deflate, checked
//! whole (the trailer's CRC-32 and length, or Adler-32) and bounded in size, so a
//! compressed image from the network cannot grow without limit.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use miniz_oxide::inflate::{self, TINFLStatus};

/// The most bytes an extracted image may have (the decompressor's buffer doubles as it
/// grows, so the peak is about twice this).
pub const MAX_EXTRACTED: usize = 256 << 20;

/// Decompresses `data` (gzip or zlib); `None` when it is neither.
pub fn extract(data: &[u8]) -> Option<Result<Vec<u8>, String>> {
    match data {
        [0x1f, 0x8b, ..] => Some(gunzip(data)),
        [cmf, flg, ..] if cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0 => Some(
            inflate::decompress_to_vec_zlib_with_limit(data, MAX_EXTRACTED)
                .map_err(|e| failure("zlib", e.status)),
        ),
        _ => None,
    }
}

fn failure(what: &str, status: TINFLStatus) -> String {
    match status {
        TINFLStatus::HasMoreOutput => format!("the {what} data unpacks to more than {MAX_EXTRACTED} bytes"),
        TINFLStatus::Adler32Mismatch => format!("the {what} checksum does not match: the data is damaged"),
        _ => format!("the {what} data is damaged or cut short ({status:?})"),
    }
}

/// A gzip member: the header's optional fields skipped, deflate, then CRC-32 and the
/// length modulo 2^32 checked.
fn gunzip(data: &[u8]) -> Result<Vec<u8>, String> {
    let short = || String::from("the gzip header is cut short");
    let header = data.get(..10).ok_or_else(short)?;
    if header[2] != 8 {
        return Err(format!("gzip compression method {} is not deflate", header[2]));
    }
    let flags = header[3];
    let mut at = 10;
    if flags & 0x04 != 0 {
        let len = usize::from(u16::from_le_bytes([
            *data.get(at).ok_or_else(short)?,
            *data.get(at + 1).ok_or_else(short)?,
        ]));
        at += 2 + len;
    }
    for bit in [0x08, 0x10] {
        if flags & bit != 0 {
            let end = data.get(at..).and_then(|r| r.iter().position(|b| *b == 0)).ok_or_else(short)?;
            at += end + 1;
        }
    }
    if flags & 0x02 != 0 {
        at += 2;
    }
    let body = data.get(at..).ok_or_else(short)?;
    if body.len() < 8 {
        return Err("the gzip data is cut short".into());
    }
    let (deflated, trailer) = body.split_at(body.len() - 8);
    let out = inflate::decompress_to_vec_with_limit(deflated, MAX_EXTRACTED)
        .map_err(|e| failure("gzip", e.status))?;
    let crc = u32::from_le_bytes(trailer[..4].try_into().expect("4 bytes"));
    let size = u32::from_le_bytes(trailer[4..].try_into().expect("4 bytes"));
    if crc32fast::hash(&out) != crc || out.len() as u32 != size {
        return Err("the gzip checksum or length does not match: the data is damaged".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `printf 'hello bootsign\n' | gzip -n -9 | xxd -i`.
    const GZ: &[u8] = &[
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0x48,
        0xca, 0xcf, 0x2f, 0x29, 0xce, 0x4c, 0xcf, 0xe3, 0x02, 0x00, 0x2f, 0x70, 0x06, 0x5f, 0x0f, 0x00, 0x00,
        0x00,
    ];

    #[test]
    fn gzip_zlib_and_damage() {
        assert_eq!(extract(GZ), Some(Ok(b"hello bootsign\n".to_vec())));
        let zlib = miniz_oxide::deflate::compress_to_vec_zlib(b"hello zlib", 6);
        assert_eq!(extract(&zlib), Some(Ok(b"hello zlib".to_vec())));
        let mut bad = GZ.to_vec();
        bad[GZ.len() - 6] ^= 1;
        assert!(extract(&bad).unwrap().unwrap_err().contains("checksum or length"));
        assert!(extract(&GZ[..GZ.len() - 3]).unwrap().is_err());
        assert!(extract(&GZ[..5]).unwrap().is_err());
        assert_eq!(extract(b"MZ not compressed"), None);
    }
}
