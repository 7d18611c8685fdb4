//! Record protection for the CBC suites: HMAC, then padding, then AES-CBC
//! (MAC-then-encrypt, RFC 5246 §6.2.3.2).
//!
//! TLS 1.1 and 1.2 put a fresh random IV in front of every record; TLS 1.0 chains the last
//! ciphertext block of one record into the next. Decryption checks the padding and the
//! MAC without returning early, and reports both failures as the same `bad_record_mac`.
//!
//! Lucky Thirteen (CVE-2013-0169): the MAC covers the content, whose length depends on
//! the (secret) padding length, so a plain HMAC takes a number of hash compressions that
//! leaks it. After the real MAC, `open` runs dummy compressions on a throwaway hasher so
//! that every record of a given length costs as many compressions as the one with the
//! least padding, whatever its padding byte says or whether it is valid. This equalises
//! the dominant cost only: it is not a constant-time implementation in the strict sense
//! (the slices hashed and the loop bounds still depend on the padding length, and memory
//! access patterns and caches are not controlled), so a small timing difference may remain.

use alloc::vec::Vec;

use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use hmac::Mac;
use sha2::Digest;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, ConstantTimeGreater};
use zeroize::Zeroizing;

use super::error::LegacyError;
use super::record::MAX_FRAGMENT;
use super::suites::MacAlgorithm;
use crate::platform::RandomSource;

const BLOCK: usize = 16;

/// The block size of SHA-1 and SHA-256, the record MACs' hashes.
const HASH_BLOCK: usize = 64;
/// What the MAC covers besides the content: sequence number, type, version, length.
const MAC_HEADER: usize = 13;

/// Compression-function calls the inner HMAC hash makes over a record of `content_len`
/// bytes beyond those every record costs (the key block, the outer hash): the header, the
/// content and the hash padding (at least 9 bytes for SHA-1 and SHA-256).
fn mac_data_blocks(content_len: usize) -> usize {
    (MAC_HEADER + content_len + 9).div_ceil(HASH_BLOCK)
}

enum Aes {
    Aes128(aes::Aes128),
    Aes256(aes::Aes256),
}

impl Aes {
    /// The cipher for a 16- or 32-byte key.
    fn new(key: &[u8]) -> Option<Self> {
        match key.len() {
            16 => aes::Aes128::new_from_slice(key).ok().map(Self::Aes128),
            32 => aes::Aes256::new_from_slice(key).ok().map(Self::Aes256),
            _ => None,
        }
    }

    fn encrypt(&self, block: &mut [u8; BLOCK]) {
        let b: &mut aes::Block = block.into();
        match self {
            Self::Aes128(k) => k.encrypt_block(b),
            Self::Aes256(k) => k.encrypt_block(b),
        }
    }

    fn decrypt(&self, block: &mut [u8; BLOCK]) {
        let b: &mut aes::Block = block.into();
        match self {
            Self::Aes128(k) => k.decrypt_block(b),
            Self::Aes256(k) => k.decrypt_block(b),
        }
    }
}

/// The keys and state of one direction of a connection.
pub(crate) struct CbcProtection {
    aes: Aes,
    mac: MacAlgorithm,
    mac_key: Zeroizing<Vec<u8>>,
    /// TLS 1.0: the IV of the next record. TLS 1.1+ (`None`): each record carries its own.
    chained_iv: Option<[u8; BLOCK]>,
    seq: u64,
}

fn hmac_parts<M: Mac + hmac::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let Ok(mut m) = <M as hmac::KeyInit>::new_from_slice(key) else { return Vec::new() };
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

impl CbcProtection {
    /// One direction's protection; `iv` is TLS 1.0's first IV (`None` for TLS 1.1+, whose
    /// records carry their own). `None` if `key` is not an AES-128 or AES-256 key.
    pub(crate) fn new(
        mac: MacAlgorithm,
        mac_key: &[u8],
        key: &[u8],
        iv: Option<[u8; BLOCK]>,
    ) -> Option<Self> {
        let aes = Aes::new(key)?;
        Some(Self { aes, mac, mac_key: Zeroizing::new(mac_key.to_vec()), chained_iv: iv, seq: 0 })
    }

    fn mac(&self, seq: u64, typ: u8, version: u16, content: &[u8]) -> Vec<u8> {
        let len = (content.len() as u16).to_be_bytes();
        let parts: [&[u8]; 5] = [&seq.to_be_bytes(), &[typ], &version.to_be_bytes(), &len, content];
        match self.mac {
            MacAlgorithm::Sha1 => hmac_parts::<hmac::Hmac<sha1::Sha1>>(&self.mac_key, &parts),
            MacAlgorithm::Sha256 => hmac_parts::<hmac::Hmac<sha2::Sha256>>(&self.mac_key, &parts),
        }
    }

    /// Runs `blocks` compression-function calls (and one finalisation) on a throwaway
    /// hasher of the MAC's hash, whose result is discarded.
    fn dummy_compressions(&self, blocks: usize) {
        let zero = [0u8; HASH_BLOCK];
        match self.mac {
            MacAlgorithm::Sha1 => {
                let mut h = sha1::Sha1::new();
                for _ in 0..blocks {
                    h.update(zero);
                }
                core::hint::black_box(h.finalize());
            }
            MacAlgorithm::Sha256 => {
                let mut h = sha2::Sha256::new();
                for _ in 0..blocks {
                    h.update(zero);
                }
                core::hint::black_box(h.finalize());
            }
        }
    }

    fn next_seq(&mut self) -> Result<u64, LegacyError> {
        let seq = self.seq;
        self.seq = seq.checked_add(1).ok_or(LegacyError::SequenceExhausted)?;
        Ok(seq)
    }

    /// Protects one record's content (at most 16 KiB) of type `typ`; `version` is the
    /// record header's.
    pub(crate) fn seal(
        &mut self,
        typ: u8,
        version: u16,
        content: &[u8],
        rng: &dyn RandomSource,
    ) -> Result<Vec<u8>, LegacyError> {
        let seq = self.next_seq()?;
        let mut data = Zeroizing::new(Vec::with_capacity(content.len() + 64));
        data.extend_from_slice(content);
        data.extend_from_slice(&self.mac(seq, typ, version, content));
        let pad = (BLOCK - (data.len() + 1) % BLOCK) % BLOCK;
        let padded = data.len() + pad + 1;
        data.resize(padded, pad as u8);
        let mut iv = [0u8; BLOCK];
        let mut out = Vec::with_capacity(BLOCK + data.len());
        match self.chained_iv {
            Some(chained) => iv = chained,
            None => {
                rng.fill(&mut iv).map_err(|_| LegacyError::Random)?;
                out.extend_from_slice(&iv);
            }
        }
        let mut prev = iv;
        for chunk in data.chunks_exact(BLOCK) {
            let mut block = [0u8; BLOCK];
            for ((b, p), c) in block.iter_mut().zip(prev.iter()).zip(chunk) {
                *b = p ^ c;
            }
            self.aes.encrypt(&mut block);
            out.extend_from_slice(&block);
            prev = block;
        }
        if self.chained_iv.is_some() {
            self.chained_iv = Some(prev);
        }
        Ok(out)
    }

    /// Decrypts and checks one record's fragment, returning its content.
    pub(crate) fn open(&mut self, typ: u8, version: u16, fragment: &[u8]) -> Result<Vec<u8>, LegacyError> {
        let mac_len = self.mac.len();
        let (iv, body) = match self.chained_iv {
            Some(chained) => (chained, fragment),
            None => {
                if fragment.len() < BLOCK {
                    return Err(LegacyError::BadRecordMac);
                }
                let (iv, body) = fragment.split_at(BLOCK);
                let mut v = [0u8; BLOCK];
                v.copy_from_slice(iv);
                (v, body)
            }
        };
        // Public facts about the length, checked before any secret-dependent work.
        if body.is_empty() || body.len() % BLOCK != 0 || body.len() < mac_len + 1 {
            return Err(LegacyError::BadRecordMac);
        }
        let mut plain = Zeroizing::new(Vec::with_capacity(body.len()));
        let mut prev = iv;
        for chunk in body.chunks_exact(BLOCK) {
            let mut block = [0u8; BLOCK];
            block.copy_from_slice(chunk);
            self.aes.decrypt(&mut block);
            for (b, p) in block.iter_mut().zip(prev.iter()) {
                *b ^= p;
            }
            plain.extend_from_slice(&block);
            prev.copy_from_slice(chunk);
        }
        if self.chained_iv.is_some() {
            self.chained_iv = Some(prev);
        }
        let seq = self.next_seq()?;

        let n = plain.len();
        let pad = plain[n - 1];
        // The padding fits: pad + 1 + mac_len <= n.
        let room = (n - 1 - mac_len) as u32;
        let mut good = !u32::from(pad).ct_gt(&room);
        // Every padding byte equals `pad`: look at the last 256 bytes (or all there are),
        // masking out the ones past the padding.
        for i in 1..=core::cmp::min(255, n - 1) {
            let in_padding = !(i as u32).ct_gt(&u32::from(pad));
            let matches = plain[n - 1 - i].ct_eq(&pad);
            good &= !in_padding | matches;
        }
        // With bad padding, still compute a MAC (as if there were none) before failing.
        let pad_len = usize::from(u8::conditional_select(&0, &pad, good)) + 1;
        let pad_len = if pad_len + mac_len > n { 1 } else { pad_len };
        let content_len = n - pad_len - mac_len;
        let expected = self.mac(seq, typ, version, &plain[..content_len]);
        // Lucky Thirteen: make up the compressions the padding saved, so that the total is
        // that of the longest content this record can hold (padding of one byte).
        let max_content_len = n - 1 - mac_len;
        self.dummy_compressions(mac_data_blocks(max_content_len) - mac_data_blocks(content_len));
        let tag = &plain[content_len..content_len + mac_len];
        let mac_ok: Choice = expected.as_slice().ct_eq(tag);
        if !bool::from(good & mac_ok) {
            return Err(LegacyError::BadRecordMac);
        }
        if content_len > MAX_FRAGMENT {
            return Err(LegacyError::RecordOverflow { len: content_len });
        }
        Ok(plain[..content_len].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Counter;
    impl RandomSource for Counter {
        fn fill(&self, buf: &mut [u8]) -> Result<(), crate::RngError> {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = i as u8;
            }
            Ok(())
        }
    }

    fn pair(mac: MacAlgorithm, key_len: usize, tls10: bool) -> (CbcProtection, CbcProtection) {
        let key = alloc::vec![7u8; key_len];
        let mac_key = alloc::vec![9u8; mac.len()];
        let iv = tls10.then_some([3u8; BLOCK]);
        let make = || CbcProtection::new(mac, &mac_key, &key, iv).unwrap();
        (make(), make())
    }

    #[test]
    fn round_trips_every_variant_and_length() {
        for (mac, key_len, tls10) in [
            (MacAlgorithm::Sha1, 16, true),
            (MacAlgorithm::Sha1, 32, false),
            (MacAlgorithm::Sha256, 16, false),
            (MacAlgorithm::Sha256, 32, false),
        ] {
            let (mut tx, mut rx) = pair(mac, key_len, tls10);
            for len in [0usize, 1, 15, 16, 17, 100, MAX_FRAGMENT] {
                let content: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let sealed = tx.seal(23, 0x0303, &content, &Counter).unwrap();
                assert_eq!(sealed.len() % BLOCK, 0);
                assert_eq!(rx.open(23, 0x0303, &sealed).unwrap(), content, "{mac:?} {key_len} {len}");
            }
        }
    }

    #[test]
    fn any_flipped_bit_is_a_bad_record_mac() {
        for tls10 in [false, true] {
            let (mut tx, _) = pair(MacAlgorithm::Sha1, 16, tls10);
            let sealed = tx.seal(23, 0x0302, b"attack at dawn, attack at dawn!!", &Counter).unwrap();
            for i in 0..sealed.len() {
                let (_, mut rx) = pair(MacAlgorithm::Sha1, 16, tls10);
                let mut bad = sealed.clone();
                bad[i] ^= 0x01;
                assert_eq!(rx.open(23, 0x0302, &bad), Err(LegacyError::BadRecordMac), "byte {i}");
            }
        }
    }

    #[test]
    fn any_flipped_byte_is_a_bad_record_mac() {
        for (mac, tls10) in [(MacAlgorithm::Sha1, true), (MacAlgorithm::Sha256, false)] {
            let (mut tx, _) = pair(mac, 16, tls10);
            // 100 bytes: several padding bytes, and a MAC spanning CBC blocks.
            let content: Vec<u8> = (0..100).collect();
            let sealed = tx.seal(23, 0x0303, &content, &Counter).unwrap();
            for i in 0..sealed.len() {
                for flip in [0x01u8, 0x80, 0xff] {
                    let (_, mut rx) = pair(mac, 16, tls10);
                    let mut bad = sealed.clone();
                    bad[i] ^= flip;
                    assert_eq!(rx.open(23, 0x0303, &bad), Err(LegacyError::BadRecordMac), "{mac:?} byte {i}");
                }
            }
        }
    }

    #[test]
    fn mac_compressions_do_not_depend_on_the_padding() {
        // For every record size and padding length the engine may see, the real MAC's
        // blocks plus the dummy ones are those of the one-byte-padding case.
        for mac_len in [20usize, 32] {
            for n in (BLOCK..=MAX_FRAGMENT + 2048).step_by(BLOCK).filter(|n| *n > mac_len) {
                let max = n - 1 - mac_len;
                let want = mac_data_blocks(max);
                for pad_len in 1..=core::cmp::min(256, n - mac_len) {
                    let content_len = n - pad_len - mac_len;
                    let real = mac_data_blocks(content_len);
                    assert!(real <= want);
                    assert_eq!(real + (want - real), want);
                }
            }
        }
        // And the block count is what SHA-1/SHA-256 compress: 13 + len + 9 bytes, rounded up.
        assert_eq!(mac_data_blocks(0), 1);
        assert_eq!(mac_data_blocks(42), 1);
        assert_eq!(mac_data_blocks(43), 2);
    }

    #[test]
    fn header_fields_are_authenticated() {
        let (mut tx, _) = pair(MacAlgorithm::Sha256, 16, false);
        let sealed = tx.seal(23, 0x0303, b"data", &Counter).unwrap();
        let (_, mut rx) = pair(MacAlgorithm::Sha256, 16, false);
        assert_eq!(rx.open(22, 0x0303, &sealed), Err(LegacyError::BadRecordMac), "content type");
        let (_, mut rx) = pair(MacAlgorithm::Sha256, 16, false);
        let _ = rx.next_seq();
        assert_eq!(rx.open(23, 0x0303, &sealed), Err(LegacyError::BadRecordMac), "sequence number");
    }

    #[test]
    fn short_or_ragged_fragments_are_refused() {
        let (_, mut rx) = pair(MacAlgorithm::Sha1, 16, false);
        for len in [0usize, 15, 16, 17, 31, 32] {
            assert_eq!(rx.open(23, 0x0303, &alloc::vec![0u8; len]), Err(LegacyError::BadRecordMac), "{len}");
        }
    }
}
