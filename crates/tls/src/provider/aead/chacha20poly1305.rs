//! ChaCha20-Poly1305 (RFC 8439 §2.8): RustCrypto's ChaCha20 with the in-tree Poly1305.

use alloc::boxed::Box;

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::poly1305::Poly1305;
use super::{AeadAlgorithm, AeadCipher, OpenError, TAG_LEN};

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
        let mut k = [0u8; 32];
        k.copy_from_slice(key);
        Box::new(Keyed(k))
    }
}

struct Keyed([u8; 32]);

impl Drop for Keyed {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Keyed {
    /// The stream cipher positioned at block 1, and the one-time Poly1305 key made from
    /// block 0 (RFC 8439 §2.6).
    fn start(&self, nonce: &[u8; 12]) -> (ChaCha20, Poly1305) {
        let mut cipher = ChaCha20::new(&self.0.into(), nonce.into());
        let mut block0 = [0u8; 64];
        cipher.apply_keystream(&mut block0);
        let mut otk = [0u8; 32];
        otk.copy_from_slice(&block0[..32]);
        let mac = Poly1305::new(&otk);
        block0.zeroize();
        otk.zeroize();
        (cipher, mac)
    }
}

/// The MAC input of RFC 8439 §2.8: padded AAD, padded ciphertext, both lengths.
fn tag(mut mac: Poly1305, aad: &[u8], ciphertext: &[u8]) -> [u8; TAG_LEN] {
    mac.update_padded(aad);
    mac.update_padded(ciphertext);
    let mut lens = [0u8; 16];
    lens[..8].copy_from_slice(&(aad.len() as u64).to_le_bytes());
    lens[8..].copy_from_slice(&(ciphertext.len() as u64).to_le_bytes());
    mac.update_padded(&lens);
    mac.finish()
}

impl AeadCipher for Keyed {
    fn seal(&self, nonce: &[u8; 12], aad: &[u8], data: &mut [u8]) -> [u8; TAG_LEN] {
        let (mut cipher, mac) = self.start(nonce);
        cipher.apply_keystream(data);
        tag(mac, aad, data)
    }

    fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        expected: &[u8; TAG_LEN],
    ) -> Result<(), OpenError> {
        let (mut cipher, mac) = self.start(nonce);
        let actual = tag(mac, aad, data);
        if !bool::from(actual.ct_eq(expected)) {
            return Err(OpenError);
        }
        cipher.apply_keystream(data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use chacha20poly1305::aead::{AeadInOut, KeyInit};

    #[test]
    fn rfc8439_aead_vector() {
        // RFC 8439 §2.8.2.
        let key: Vec<u8> = (0x80u8..0xa0).collect();
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

    #[test]
    fn matches_rustcrypto_on_every_length() {
        let key = [0x42u8; 32];
        let theirs = chacha20poly1305::ChaCha20Poly1305::new_from_slice(&key).unwrap();
        let ours = CHACHA20_POLY1305.new_cipher(&key);
        for len in 0..300usize {
            let nonce = [len as u8; 12];
            let aad: Vec<u8> = (0..(len % 37)).map(|i| i as u8).collect();
            let plain: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let mut a = plain.clone();
            let tag_a = ours.seal(&nonce, &aad, &mut a);
            let mut b = plain.clone();
            let tag_b =
                theirs.encrypt_inout_detached((&nonce).into(), &aad, b.as_mut_slice().into()).unwrap();
            assert_eq!(a, b, "ciphertext, length {len}");
            assert_eq!(&tag_a[..], &tag_b[..], "tag, length {len}");
        }
    }
}
