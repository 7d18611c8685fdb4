//! ChaCha20-Poly1305 in software, from the RustCrypto `chacha20poly1305` crate (RFC 8439).
//!
//! On the UEFI target the crates are built with their portable backends
//! (`chacha20_backend="soft"`, `poly1305_backend="soft"` in `.cargo/config.toml`): their
//! AVX2 code cannot be compiled for the soft-float target, and would never be selected
//! there anyway.

use alloc::boxed::Box;

use chacha20poly1305::KeyInit;

use super::{AeadAlgorithm, AeadCipher, RustCrypto};

/// ChaCha20-Poly1305 with a 256-bit key and 96-bit nonce.
#[derive(Debug)]
pub struct ChaCha20Poly1305;

/// The one instance.
pub static CHACHA20_POLY1305: ChaCha20Poly1305 = ChaCha20Poly1305;

impl AeadAlgorithm for ChaCha20Poly1305 {
    fn key_len(&self) -> usize {
        32
    }

    fn new_cipher(&self, key: &[u8]) -> Box<dyn AeadCipher> {
        let cipher =
            chacha20poly1305::ChaCha20Poly1305::new_from_slice(key).expect("ChaCha20-Poly1305 key length");
        Box::new(RustCrypto(cipher))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aead::OpenError;

    #[test]
    fn rfc8439_aead_vector() {
        // RFC 8439 §2.8.2.
        let key: alloc::vec::Vec<u8> = (0x80u8..0xa0).collect();
        let nonce = [0x07, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47];
        let aad = [0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7];
        let mut text = *b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let c = CHACHA20_POLY1305.new_cipher(&key);
        let t = c.seal(&nonce, &aad, &mut text);
        assert_eq!(&text[..8], &[0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb]);
        assert_eq!(
            t,
            [0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a, 0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60, 0x06, 0x91]
        );
        c.open(&nonce, &aad, &mut text, &t).unwrap();
        assert!(text.starts_with(b"Ladies and Gentlemen"));
        let mut bad = t;
        bad[0] ^= 1;
        let mut copy = text;
        c.seal(&nonce, &aad, &mut copy);
        assert_eq!(c.open(&nonce, &aad, &mut copy, &bad), Err(OpenError));
    }
}
