//! SHA-256/384 and HMAC for rustls, on the RustCrypto `sha2` and `hmac` crates.
//!
//! rustls builds everything else it needs from these two: the TLS 1.3 key schedule
//! (`HkdfUsingHmac`) and the TLS 1.2 PRF (`PrfUsingHmac`), so no separate HKDF crate is linked.

use alloc::boxed::Box;

use hmac::{KeyInit, Mac};
use rustls::crypto::hash::{self, HashAlgorithm};
use rustls::crypto::hmac as rhmac;
use sha2::Digest;

/// A rustls hash over a RustCrypto digest.
pub(crate) struct Hash<D> {
    algorithm: HashAlgorithm,
    _digest: core::marker::PhantomData<fn() -> D>,
}

/// SHA-256.
pub(crate) static SHA256: Hash<sha2::Sha256> =
    Hash { algorithm: HashAlgorithm::SHA256, _digest: core::marker::PhantomData };
/// SHA-384.
pub(crate) static SHA384: Hash<sha2::Sha384> =
    Hash { algorithm: HashAlgorithm::SHA384, _digest: core::marker::PhantomData };

impl<D> hash::Hash for Hash<D>
where
    D: Digest + Clone + Send + Sync + 'static,
{
    fn start(&self) -> Box<dyn hash::Context> {
        Box::new(Context(D::new()))
    }

    fn hash(&self, data: &[u8]) -> hash::Output {
        hash::Output::new(&D::digest(data))
    }

    fn output_len(&self) -> usize {
        <D as Digest>::output_size()
    }

    fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }
}

struct Context<D>(D);

impl<D> hash::Context for Context<D>
where
    D: Digest + Clone + Send + Sync + 'static,
{
    fn fork_finish(&self) -> hash::Output {
        hash::Output::new(&self.0.clone().finalize())
    }

    fn fork(&self) -> Box<dyn hash::Context> {
        Box::new(Context(self.0.clone()))
    }

    fn finish(self: Box<Self>) -> hash::Output {
        hash::Output::new(&self.0.finalize())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
}

/// HMAC over a RustCrypto digest.
pub(crate) struct Hmac<D>(core::marker::PhantomData<fn() -> D>);

/// HMAC-SHA-256.
pub(crate) static HMAC_SHA256: Hmac<sha2::Sha256> = Hmac(core::marker::PhantomData);
/// HMAC-SHA-384.
pub(crate) static HMAC_SHA384: Hmac<sha2::Sha384> = Hmac(core::marker::PhantomData);

impl<D> rhmac::Hmac for Hmac<D>
where
    D: Digest + hmac::EagerHash + Send + Sync + 'static,
    hmac::Hmac<D>: KeyInit + Mac + Clone + Send + Sync + 'static,
{
    fn with_key(&self, key: &[u8]) -> Box<dyn rhmac::Key> {
        // HMAC takes keys of any length (long ones are hashed first), so this cannot fail.
        let mac = <hmac::Hmac<D> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
        Box::new(HmacKey(mac))
    }

    fn hash_output_len(&self) -> usize {
        <D as Digest>::output_size()
    }
}

struct HmacKey<M>(M);

impl<M> rhmac::Key for HmacKey<M>
where
    M: Mac + Clone + Send + Sync,
{
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> rhmac::Tag {
        let mut mac = self.0.clone();
        mac.update(first);
        for m in middle {
            mac.update(m);
        }
        mac.update(last);
        rhmac::Tag::new(&mac.finalize().into_bytes())
    }

    fn tag_len(&self) -> usize {
        <M as hmac::digest::OutputSizeUser>::output_size()
    }
}
