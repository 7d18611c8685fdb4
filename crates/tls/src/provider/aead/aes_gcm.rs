//! AES-GCM in software, from the RustCrypto `aes-gcm` crate.
//!
//! On the UEFI target this is the portable bitsliced AES and a software GHASH (cpufeatures
//! never reports AES-NI there), a few MiB/s under emulation: it is the fallback that a
//! hardware implementation of [`AeadAlgorithm`] replaces.

use alloc::boxed::Box;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};

use super::{AeadAlgorithm, AeadCipher, OpenError, TAG_LEN};

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
            16 => Box::new(Keyed(Aes128Gcm::new_from_slice(key).expect("AES-128 key length"))),
            _ => Box::new(Keyed(Aes256Gcm::new_from_slice(key).expect("AES-256 key length"))),
        }
    }
}

struct Keyed<C>(C);

impl<C> AeadCipher for Keyed<C>
where
    C: AeadInOut<NonceSize = aes_gcm::aead::consts::U12, TagSize = aes_gcm::aead::consts::U16> + Send + Sync,
{
    fn seal(&self, nonce: &[u8; 12], aad: &[u8], data: &mut [u8]) -> [u8; TAG_LEN] {
        // Only fails for inputs longer than GCM allows (2^36 bytes), far above a TLS record.
        let tag =
            self.0.encrypt_inout_detached(nonce.into(), aad, data.into()).expect("record fits GCM limits");
        tag.into()
    }

    fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), OpenError> {
        self.0.decrypt_inout_detached(nonce.into(), aad, data.into(), tag.into()).map_err(|_| OpenError)
    }
}
