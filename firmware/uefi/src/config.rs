//! The configuration `bootsign build` embedded: the `.bscfg` section of this program's
//! own loaded image.

use alloc::string::String;

use bootsign_config::Config;
use bootsign_pe::{CONFIG_SECTION, Pe};
use uefi::boot;
use uefi::proto::loaded_image::LoadedImage;

/// The embedded configuration; an empty one when the image has none (the plain
/// template), which trusts nothing.
pub fn load() -> Result<Config<'static>, String> {
    let image = boot::open_protocol_exclusive::<LoadedImage>(boot::image_handle())
        .map_err(|e| alloc::format!("cannot read this program's own image: {e:?}"))?;
    let (base, size) = image.info();
    // SAFETY: the loader mapped `size` bytes at `base` for this image, and they stay
    // mapped, unchanged, for as long as this program runs.
    let bytes: &'static [u8] = unsafe { core::slice::from_raw_parts(base.cast::<u8>(), size as usize) };
    let pe = Pe::parse(bytes).map_err(|e| alloc::format!("this program's own image: {e}"))?;
    let Some(section) = pe.section(&CONFIG_SECTION) else {
        return Ok(Config::default());
    };
    let data = pe.memory_data(section).map_err(|e| alloc::format!("configuration section: {e}"))?;
    Config::decode(data).map_err(|e| alloc::format!("the embedded configuration is unusable: {e}"))
}
