//! AES-GCM in software, from the RustCrypto `aes-gcm` crate.
//!
//! On the UEFI target this is the portable bitsliced AES and a software GHASH (the crates
//! are built with `aes_backend="soft"` and `polyval_backend="soft"`: cpufeatures never
//! reports AES-NI there), a few MiB/s under emulation: it is the fallback that a hardware
//! implementation of [`AeadAlgorithm`] replaces.

use alloc::boxed::Box;

use aes_gcm::aead::KeyInit;
use aes_gcm::{Aes128Gcm, Aes256Gcm};

use super::{AeadAlgorithm, AeadCipher, RustCrypto};

/// AES-GCM with a 128- or 256-bit key.
#[derive(Debug)]
pub struct AesGcm {
    key_len: usize,
}

/// AES-128-GCM.
pub static AES_128_GCM: AesGcm = AesGcm { key_len: 16 };
/// AES-256-GCM.
pub static AES_256_GCM: AesGcm = AesGcm { key_len: 32 };

impl AeadAlgorithm for AesGcm {
    fn key_len(&self) -> usize {
        self.key_len
    }

    fn new_cipher(&self, key: &[u8]) -> Box<dyn AeadCipher> {
        match self.key_len {
            16 => Box::new(RustCrypto(Aes128Gcm::new_from_slice(key).expect("AES-128 key length"))),
            _ => Box::new(RustCrypto(Aes256Gcm::new_from_slice(key).expect("AES-256 key length"))),
        }
    }
}
