//! AEAD ciphers behind one small trait, and the adapters that turn them into TLS 1.2 and
//! TLS 1.3 record protection for rustls.
//!
//! The trait is what makes the ciphers swappable: the software implementations here
//! (RustCrypto's `aes-gcm` and `chacha20poly1305`) are the defaults, and the
//! firmware can hand [`Aeads`] its own AES-GCM (AES-NI + PCLMULQDQ assembly behind a
//! CPUID check) without this crate knowing about it. An implementation only seals and
//! opens a buffer in place with a detached 16-byte tag; nonces, additional data, record
//! framing and sequence numbers are handled here, once, for every cipher.

pub mod aes_gcm;
pub mod chacha20poly1305;

use alloc::boxed::Box;
use core::fmt;

use rustls::crypto::cipher::{
    self, AeadKey, InboundOpaqueMessage, InboundPlainMessage, Iv, KeyBlockShape, MessageDecrypter,
    MessageEncrypter, NONCE_LEN, Nonce, OutboundOpaqueMessage, OutboundPlainMessage, PrefixedPayload,
    UnsupportedOperationError,
};
use rustls::{ConnectionTrafficSecrets, ContentType, Error, ProtocolVersion};

/// Length of the authentication tag of every AEAD used by TLS here.
pub const TAG_LEN: usize = 16;

/// The tag did not verify: the record was changed, or the key is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenError;

/// One keyed AEAD instance (a record-protection direction of one connection).
pub trait AeadCipher: Send + Sync {
    /// Encrypts `data` in place and returns the tag over `aad` and the ciphertext.
    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], data: &mut [u8]) -> [u8; TAG_LEN];
    /// Checks `tag` and decrypts `data` in place. On failure `data` must not be used.
    fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), OpenError>;
}

/// An AEAD algorithm: makes keyed [`AeadCipher`]s.
pub trait AeadAlgorithm: Send + Sync + fmt::Debug {
    /// Key length in bytes.
    fn key_len(&self) -> usize;
    /// A cipher for `key`, which is exactly [`key_len`](Self::key_len) bytes long.
    fn new_cipher(&self, key: &[u8]) -> Box<dyn AeadCipher>;
}

/// The AEAD implementations the TLS suites use, and which the client offers first.
/// [`Aeads::default`] is all software, AES-GCM first.
#[derive(Clone, Copy, Debug)]
pub struct Aeads {
    /// AES-128-GCM (TLS_AES_128_GCM_SHA256, ECDHE_*_WITH_AES_128_GCM_SHA256).
    pub aes_128_gcm: &'static dyn AeadAlgorithm,
    /// AES-256-GCM (TLS_AES_256_GCM_SHA384, ECDHE_*_WITH_AES_256_GCM_SHA384).
    pub aes_256_gcm: &'static dyn AeadAlgorithm,
    /// ChaCha20-Poly1305 (RFC 8439).
    pub chacha20_poly1305: &'static dyn AeadAlgorithm,
    /// Offer the ChaCha20-Poly1305 suites before the AES-GCM ones: right where AES runs
    /// in software (no AES instructions), where ChaCha20 is both faster and free of
    /// table look-ups, as browsers and BoringSSL clients decide it. Servers that honour
    /// the client's order (nginx's default) then pick it.
    pub prefer_chacha20_poly1305: bool,
}

/// A RustCrypto AEAD (`aead` 0.6 in-place API) as an [`AeadCipher`].
struct RustCrypto<C>(C);

impl<C> AeadCipher for RustCrypto<C>
where
    C: ::aes_gcm::aead::AeadInOut<
            NonceSize = ::aes_gcm::aead::consts::U12,
            TagSize = ::aes_gcm::aead::consts::U16,
        > + Send
        + Sync,
{
    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], data: &mut [u8]) -> [u8; TAG_LEN] {
        // Only fails for inputs longer than the cipher allows (2^36 bytes for GCM, 2^38 for
        // ChaCha20-Poly1305), far above a TLS record.
        let tag =
            self.0.encrypt_inout_detached(nonce.into(), aad, data.into()).expect("record fits AEAD limits");
        tag.into()
    }

    fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), OpenError> {
        self.0.decrypt_inout_detached(nonce.into(), aad, data.into(), tag.into()).map_err(|_| OpenError)
    }
}

impl Default for Aeads {
    fn default() -> Self {
        Self {
            aes_128_gcm: &aes_gcm::AES_128_GCM,
            aes_256_gcm: &aes_gcm::AES_256_GCM,
            chacha20_poly1305: &chacha20poly1305::CHACHA20_POLY1305,
            prefer_chacha20_poly1305: false,
        }
    }
}

fn decrypt_error() -> Error {
    Error::DecryptError
}

/// The largest plaintext of a record (RFC 5246 §6.2.1, RFC 8446 §5.1).
const MAX_FRAGMENT_LEN: usize = 16384;
/// TLS 1.3: the most the content type and padding may add to a record's plaintext
/// (RFC 8446 §5.2: at most 2^14 + 256 bytes of ciphertext, tag included).
const TLS13_MAX_OVERHEAD: usize = 256;

/// TLS 1.3 record protection (RFC 8446 §5.2) with any [`AeadAlgorithm`].
pub(crate) struct Tls13Aead(pub(crate) &'static dyn AeadAlgorithm);

impl cipher::Tls13AeadAlgorithm for Tls13Aead {
    fn encrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageEncrypter> {
        Box::new(Tls13Record { cipher: self.0.new_cipher(key.as_ref()), iv })
    }

    fn decrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageDecrypter> {
        Box::new(Tls13Record { cipher: self.0.new_cipher(key.as_ref()), iv })
    }

    fn key_len(&self) -> usize {
        self.0.key_len()
    }

    fn extract_keys(&self, _: AeadKey, _: Iv) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        // Only for kernel TLS offload, which the firmware does not have.
        Err(UnsupportedOperationError)
    }
}

struct Tls13Record {
    cipher: Box<dyn AeadCipher>,
    iv: Iv,
}

impl MessageEncrypter for Tls13Record {
    fn encrypt(&mut self, msg: OutboundPlainMessage<'_>, seq: u64) -> Result<OutboundOpaqueMessage, Error> {
        let total = self.encrypted_payload_len(msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total);
        payload.extend_from_chunks(&msg.payload);
        // TLSInnerPlaintext: the real content type goes inside, after the content.
        payload.extend_from_slice(&msg.typ.to_array());
        let nonce = Nonce::new(&self.iv, seq).0;
        let aad = cipher::make_tls13_aad(total);
        let tag = self.cipher.seal(&nonce, &aad, payload.as_mut());
        payload.extend_from_slice(&tag);
        Ok(OutboundOpaqueMessage::new(ContentType::ApplicationData, ProtocolVersion::TLSv1_2, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + 1 + TAG_LEN
    }
}

impl MessageDecrypter for Tls13Record {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let len = msg.payload.len();
        if len < TAG_LEN {
            return Err(decrypt_error());
        }
        if len > MAX_FRAGMENT_LEN + TLS13_MAX_OVERHEAD {
            return Err(Error::PeerSentOversizedRecord);
        }
        let aad = cipher::make_tls13_aad(len);
        let nonce = Nonce::new(&self.iv, seq).0;
        let (data, tag) = msg.payload.split_at_mut(len - TAG_LEN);
        let tag: [u8; TAG_LEN] = (&*tag).try_into().map_err(|_| decrypt_error())?;
        self.cipher.open(&nonce, &aad, data, &tag).map_err(|_| decrypt_error())?;
        msg.payload.truncate(len - TAG_LEN);
        let plain = msg.into_tls13_unpadded_message()?;
        if plain.payload.len() > MAX_FRAGMENT_LEN {
            return Err(Error::PeerSentOversizedRecord);
        }
        Ok(plain)
    }
}

/// How a TLS 1.2 suite builds its per-record nonce.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Tls12Nonce {
    /// AES-GCM (RFC 5288): a 4-byte salt from the key block, and an 8-byte explicit
    /// nonce sent in front of every record.
    GcmExplicit,
    /// ChaCha20-Poly1305 (RFC 7905): a 12-byte IV from the key block XORed with the
    /// sequence number, nothing sent.
    Implicit,
}

/// TLS 1.2 record protection (RFC 5246 §6.2.3.3) with any [`AeadAlgorithm`].
pub(crate) struct Tls12Aead(pub(crate) &'static dyn AeadAlgorithm, pub(crate) Tls12Nonce);

const GCM_SALT_LEN: usize = 4;
const GCM_EXPLICIT_LEN: usize = 8;

impl cipher::Tls12AeadAlgorithm for Tls12Aead {
    fn encrypter(&self, key: AeadKey, iv: &[u8], extra: &[u8]) -> Box<dyn MessageEncrypter> {
        let cipher = self.0.new_cipher(key.as_ref());
        let mut full = [0u8; NONCE_LEN];
        match self.1 {
            Tls12Nonce::GcmExplicit => {
                // The explicit part starts from random key-block bytes and then counts with
                // the sequence number, so a nonce is never repeated under one key.
                full[..GCM_SALT_LEN].copy_from_slice(iv);
                full[GCM_SALT_LEN..].copy_from_slice(extra);
            }
            Tls12Nonce::Implicit => full.copy_from_slice(iv),
        }
        Box::new(Tls12Record { cipher, iv: Iv::new(full), nonce: self.1 })
    }

    fn decrypter(&self, key: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        let cipher = self.0.new_cipher(key.as_ref());
        let mut full = [0u8; NONCE_LEN];
        match self.1 {
            Tls12Nonce::GcmExplicit => full[..GCM_SALT_LEN].copy_from_slice(iv),
            Tls12Nonce::Implicit => full.copy_from_slice(iv),
        }
        Box::new(Tls12Record { cipher, iv: Iv::new(full), nonce: self.1 })
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        match self.1 {
            Tls12Nonce::GcmExplicit => KeyBlockShape {
                enc_key_len: self.0.key_len(),
                fixed_iv_len: GCM_SALT_LEN,
                explicit_nonce_len: GCM_EXPLICIT_LEN,
            },
            Tls12Nonce::Implicit => KeyBlockShape {
                enc_key_len: self.0.key_len(),
                fixed_iv_len: NONCE_LEN,
                explicit_nonce_len: 0,
            },
        }
    }

    fn extract_keys(
        &self,
        _: AeadKey,
        _: &[u8],
        _: &[u8],
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Err(UnsupportedOperationError)
    }
}

struct Tls12Record {
    cipher: Box<dyn AeadCipher>,
    iv: Iv,
    nonce: Tls12Nonce,
}

impl Tls12Record {
    fn explicit_len(&self) -> usize {
        match self.nonce {
            Tls12Nonce::GcmExplicit => GCM_EXPLICIT_LEN,
            Tls12Nonce::Implicit => 0,
        }
    }
}

impl MessageEncrypter for Tls12Record {
    fn encrypt(&mut self, msg: OutboundPlainMessage<'_>, seq: u64) -> Result<OutboundOpaqueMessage, Error> {
        let total = self.encrypted_payload_len(msg.payload.len());
        let explicit = self.explicit_len();
        let nonce = Nonce::new(&self.iv, seq).0;
        let mut payload = PrefixedPayload::with_capacity(total);
        payload.extend_from_slice(&nonce[NONCE_LEN - explicit..]);
        payload.extend_from_chunks(&msg.payload);
        let aad = cipher::make_tls12_aad(seq, msg.typ, msg.version, msg.payload.len());
        let tag = self.cipher.seal(&nonce, &aad, &mut payload.as_mut()[explicit..]);
        payload.extend_from_slice(&tag);
        Ok(OutboundOpaqueMessage::new(msg.typ, msg.version, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        self.explicit_len() + payload_len + TAG_LEN
    }
}

impl MessageDecrypter for Tls12Record {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let explicit = self.explicit_len();
        let len = msg.payload.len();
        if len < explicit + TAG_LEN {
            return Err(decrypt_error());
        }
        let mut nonce = Nonce::new(&self.iv, seq).0;
        if explicit > 0 {
            nonce[NONCE_LEN - explicit..].copy_from_slice(&msg.payload[..explicit]);
        }
        let plain_len = len - explicit - TAG_LEN;
        if plain_len > MAX_FRAGMENT_LEN {
            return Err(Error::PeerSentOversizedRecord);
        }
        let aad = cipher::make_tls12_aad(seq, msg.typ, msg.version, plain_len);
        let (head, tag) = msg.payload.split_at_mut(len - TAG_LEN);
        let tag: [u8; TAG_LEN] = (&*tag).try_into().map_err(|_| decrypt_error())?;
        self.cipher.open(&nonce, &aad, &mut head[explicit..], &tag).map_err(|_| decrypt_error())?;
        Ok(msg.into_plain_message_range(explicit..explicit + plain_len))
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use rustls::crypto::cipher::{OutboundChunks, Tls12AeadAlgorithm, Tls13AeadAlgorithm};

    use super::*;

    fn key() -> AeadKey {
        AeadKey::from([7u8; 32])
    }

    #[test]
    fn tls12_refuses_oversized_plaintext() {
        let alg = Tls12Aead(&aes_gcm::AES_256_GCM, Tls12Nonce::GcmExplicit);
        let decrypt = |plain_len: usize| {
            let mut payload = vec![0u8; GCM_EXPLICIT_LEN + plain_len + TAG_LEN];
            let msg = InboundOpaqueMessage::new(
                ContentType::ApplicationData,
                ProtocolVersion::TLSv1_2,
                &mut payload,
            );
            alg.decrypter(key(), &[1; 4]).decrypt(msg, 0).map(|_| ()).unwrap_err()
        };
        assert_eq!(decrypt(MAX_FRAGMENT_LEN + 1), Error::PeerSentOversizedRecord);
        assert_eq!(decrypt(MAX_FRAGMENT_LEN), Error::DecryptError, "the limit itself is allowed");
    }

    #[test]
    fn tls13_refuses_oversized_plaintext() {
        let alg = Tls13Aead(&aes_gcm::AES_256_GCM);
        let iv = || Iv::new([3; NONCE_LEN]);
        let round_trip = |len: usize| {
            let data = vec![b'x'; len];
            let plain = OutboundPlainMessage {
                typ: ContentType::ApplicationData,
                version: ProtocolVersion::TLSv1_2,
                payload: OutboundChunks::Single(&data),
            };
            let sealed = alg.encrypter(key(), iv()).encrypt(plain, 5).unwrap();
            let mut wire = sealed.encode();
            let msg = InboundOpaqueMessage::new(
                ContentType::ApplicationData,
                ProtocolVersion::TLSv1_2,
                &mut wire[5..],
            );
            alg.decrypter(key(), iv()).decrypt(msg, 5).map(|m| m.payload.len())
        };
        assert_eq!(round_trip(MAX_FRAGMENT_LEN), Ok(MAX_FRAGMENT_LEN));
        assert_eq!(round_trip(MAX_FRAGMENT_LEN + 1), Err(Error::PeerSentOversizedRecord));
        let mut payload = vec![0u8; MAX_FRAGMENT_LEN + TLS13_MAX_OVERHEAD + 1];
        let msg =
            InboundOpaqueMessage::new(ContentType::ApplicationData, ProtocolVersion::TLSv1_2, &mut payload);
        let e = alg.decrypter(key(), iv()).decrypt(msg, 0).map(|_| ()).unwrap_err();
        assert_eq!(e, Error::PeerSentOversizedRecord);
    }
}
