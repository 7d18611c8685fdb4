//! The UEFI platform's own random source for the core's `rng`: EFI_RNG_PROTOCOL, where
//! the platform has one (OVMF with a virtio-rng device, most real machines).

use bootsign_firmware_core::rng::PlatformRandom;
use uefi::boot;
use uefi::proto::rng::Rng;

/// EFI_RNG_PROTOCOL.
pub struct EfiRng;

static EFI_RNG: EfiRng = EfiRng;

impl PlatformRandom for EfiRng {
    fn name(&self) -> &'static str {
        "EFI_RNG_PROTOCOL"
    }

    fn fill(&self, buf: &mut [u8]) -> bool {
        let Ok(handle) = boot::get_handle_for_protocol::<Rng>() else { return false };
        let Ok(mut rng) = boot::open_protocol_exclusive::<Rng>(handle) else { return false };
        rng.get_rng(None, buf).is_ok()
    }
}

/// The platform's source, when it has one.
pub fn platform() -> Option<&'static dyn PlatformRandom> {
    boot::get_handle_for_protocol::<Rng>().is_ok().then_some(&EFI_RNG as &dyn PlatformRandom)
}
