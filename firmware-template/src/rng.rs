//! Randomness for TLS: the platform's EFI_RNG_PROTOCOL where it has one, else the CPU's
//! RDRAND. Never a fixed or time-derived seed, and no entropy-gathering wait: without
//! either source, HTTPS is refused with a message saying so.

use uefi::boot;
use uefi::proto::rng::Rng;

use bootsign_tls::{RandomSource, RngError};

/// The firmware's random source (a unit type: the protocol is found on each use, so
/// nothing platform-owned is kept in a static).
#[derive(Debug)]
pub struct FirmwareRng;

pub static RNG: FirmwareRng = FirmwareRng;

fn rdrand_supported() -> bool {
    core::arch::x86_64::__cpuid_count(1, 0).ecx & (1 << 30) != 0
}

fn rdrand64() -> Option<u64> {
    // Intel's guidance: retry a few times; a persistent failure means a broken RNG.
    for _ in 0..10 {
        let (value, ok): (u64, u8);
        // SAFETY: RDRAND is present (checked by the caller via CPUID); it only writes
        // the output register and the carry flag.
        unsafe {
            core::arch::asm!("rdrand {v}", "setc {ok}", v = out(reg) value, ok = out(reg_byte) ok, options(nomem, nostack));
        }
        if ok == 1 {
            return Some(value);
        }
    }
    None
}

fn from_protocol(buf: &mut [u8]) -> Option<()> {
    let handle = boot::get_handle_for_protocol::<Rng>().ok()?;
    let mut rng = boot::open_protocol_exclusive::<Rng>(handle).ok()?;
    rng.get_rng(None, buf).ok()
}

impl FirmwareRng {
    /// Which source serves, or `None` when there is none.
    pub fn source(&self) -> Option<&'static str> {
        if boot::get_handle_for_protocol::<Rng>().is_ok() {
            Some("EFI_RNG_PROTOCOL")
        } else if rdrand_supported() {
            Some("RDRAND")
        } else {
            None
        }
    }
}

impl RandomSource for FirmwareRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RngError> {
        if from_protocol(buf).is_some() {
            return Ok(());
        }
        if !rdrand_supported() {
            return Err(RngError);
        }
        for chunk in buf.chunks_mut(8) {
            let v = rdrand64().ok_or(RngError)?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}
