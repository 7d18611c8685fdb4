//! The BIOS firmware a hybrid image carries beside its EFI program: the image's MBR boot
//! code is bootsign's BIOS loader (its first 440 bytes), whose parameters say where the
//! whole loader and the firmware (a bzImage, `.lkrn`) lie, in 512-byte units. The
//! loader's copy there must end with its signature and begin with the same boot code,
//! so a stray MBR is not taken for one.

use alloc::vec::Vec;

use crate::{Error, ReadAt, le32, read_vec};

const LOADER_LEN: u64 = 2048;
const MBR_CODE: usize = 440;
const SIGNATURE: &[u8; 4] = b"BSDB";

/// The BIOS firmware's bytes, when `head` (the image's first sector) is bootsign's
/// loader; `None` for any other boot code. A firmware over `limit` bytes is an error.
pub(crate) fn firmware<S: ReadAt + ?Sized>(
    image: &mut S,
    head: &[u8],
    limit: u64,
) -> Result<Option<Vec<u8>>, Error> {
    // A short jump over the parameters at 0x40, as the loader starts.
    if head.len() < 512 || head[0] != 0xeb || head[1] != 0x4c {
        return Ok(None);
    }
    let (lkrn_at, lkrn_len, self_at) =
        (u64::from(le32(head, 0x40)) * 512, u64::from(le32(head, 0x44)), u64::from(le32(head, 0x48)) * 512);
    if self_at == 0 || self_at.checked_add(LOADER_LEN).is_none_or(|end| end > image.len()) {
        return Ok(None);
    }
    let loader = read_vec(image, self_at, LOADER_LEN, "the BIOS loader")?;
    if !loader.ends_with(SIGNATURE) || loader[..MBR_CODE] != head[..MBR_CODE] {
        return Ok(None);
    }
    if lkrn_len > limit {
        return Err(Error::TooLarge { what: "the BIOS firmware", size: lkrn_len, limit });
    }
    let lkrn = read_vec(image, lkrn_at, lkrn_len, "the BIOS firmware")?;
    if lkrn.get(0x202..0x206) != Some(b"HdrS".as_slice()) {
        return Err(Error::Malformed("the BIOS loader points at something that is not a kernel image"));
    }
    Ok(Some(lkrn))
}
