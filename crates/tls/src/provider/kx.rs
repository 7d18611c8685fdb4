//! Key exchange groups: x25519, secp256r1 and secp384r1, ephemeral keys from the platform RNG.
//!
//! Offered in that order; x25519 is the first key share, and a server that wants another
//! group answers with a HelloRetryRequest, which rustls handles.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use p256::elliptic_curve::sec1::ToSec1Point;
use rustls::crypto::{ActiveKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::{Error, NamedGroup, PeerMisbehaved};
use zeroize::Zeroizing;

use crate::platform::RandomSource;

/// Which curve a [`KxGroup`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    /// X25519 (RFC 7748), from `x25519-dalek`.
    X25519,
    /// secp256r1, from `p256`.
    P256,
    /// secp384r1, from `p384`.
    P384,
}

/// One offered group, with the RNG its ephemeral keys come from. The provider makes one
/// of each; public so the key exchange can be tested through rustls's traits (with an
/// RNG that returns a known private key).
pub struct KxGroup {
    pub(crate) curve: Curve,
    pub(crate) rng: &'static dyn RandomSource,
}

impl KxGroup {
    /// The group on `curve`, drawing its ephemeral keys from `rng`.
    pub fn new(curve: Curve, rng: &'static dyn RandomSource) -> Self {
        Self { curve, rng }
    }
}

impl fmt::Debug for KxGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KxGroup({:?})", self.curve)
    }
}

fn random(rng: &dyn RandomSource, buf: &mut [u8]) -> Result<(), Error> {
    rng.fill(buf).map_err(|_| Error::FailedToGetRandomBytes)
}

/// An ephemeral private key; every variant zeroizes itself on drop.
enum Secret {
    /// x25519-dalek's `StaticSecret` only because it is the type made from bytes (ours
    /// come from the platform RNG); it is used for one exchange like any other here.
    X25519(x25519_dalek::StaticSecret),
    P256(p256::NonZeroScalar),
    P384(p384::NonZeroScalar),
}

struct Active {
    group: NamedGroup,
    secret: Secret,
    public: Vec<u8>,
}

impl SupportedKxGroup for KxGroup {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let (secret, public) = match self.curve {
            Curve::X25519 => {
                let mut k = Zeroizing::new([0u8; 32]);
                random(self.rng, &mut *k)?;
                let secret = x25519_dalek::StaticSecret::from(*k);
                let public = x25519_dalek::PublicKey::from(&secret).as_bytes().to_vec();
                (Secret::X25519(secret), public)
            }
            Curve::P256 => {
                // Rejection sampling: a 256-bit string is a valid scalar with overwhelming probability.
                let scalar = loop {
                    let mut b = p256::FieldBytes::default();
                    random(self.rng, &mut b)?;
                    if let Some(s) = Option::from(p256::NonZeroScalar::from_repr(b)) {
                        break s;
                    }
                };
                let public = p256::PublicKey::from_secret_scalar(&scalar).to_sec1_point(false);
                (Secret::P256(scalar), public.as_bytes().to_vec())
            }
            Curve::P384 => {
                let scalar = loop {
                    let mut b = p384::FieldBytes::default();
                    random(self.rng, &mut b)?;
                    if let Some(s) = Option::from(p384::NonZeroScalar::from_repr(b)) {
                        break s;
                    }
                };
                let public = p384::PublicKey::from_secret_scalar(&scalar).to_sec1_point(false);
                (Secret::P384(scalar), public.as_bytes().to_vec())
            }
        };
        Ok(Box::new(Active { group: self.name(), secret, public }))
    }

    fn name(&self) -> NamedGroup {
        match self.curve {
            Curve::X25519 => NamedGroup::X25519,
            Curve::P256 => NamedGroup::secp256r1,
            Curve::P384 => NamedGroup::secp384r1,
        }
    }
}

fn bad_share() -> Error {
    Error::PeerMisbehaved(PeerMisbehaved::InvalidKeyShare)
}

impl ActiveKeyExchange for Active {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        match &self.secret {
            Secret::X25519(k) => {
                let peer: [u8; 32] = peer.try_into().map_err(|_| bad_share())?;
                let shared = k.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
                // RFC 8446 §7.4.2: an all-zero result means a small-order peer point.
                if !shared.was_contributory() {
                    return Err(bad_share());
                }
                Ok(SharedSecret::from(&shared.as_bytes()[..]))
            }
            Secret::P256(k) => {
                // TLS allows only the uncompressed form (RFC 8446 §4.2.8.2).
                if peer.first() != Some(&4) {
                    return Err(bad_share());
                }
                let peer = p256::PublicKey::from_sec1_bytes(peer).map_err(|_| bad_share())?;
                let shared = p256::ecdh::diffie_hellman(k, peer.as_affine());
                Ok(SharedSecret::from(&shared.raw_secret_bytes()[..]))
            }
            Secret::P384(k) => {
                if peer.first() != Some(&4) {
                    return Err(bad_share());
                }
                let peer = p384::PublicKey::from_sec1_bytes(peer).map_err(|_| bad_share())?;
                let shared = p384::ecdh::diffie_hellman(k, peer.as_affine());
                Ok(SharedSecret::from(&shared.raw_secret_bytes()[..]))
            }
        }
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        self.group
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::RngError;

    /// Hands out one fixed private key.
    #[derive(Debug)]
    struct Fixed([u8; 32]);

    impl RandomSource for Fixed {
        fn fill(&self, buf: &mut [u8]) -> Result<(), RngError> {
            buf.copy_from_slice(&self.0);
            Ok(())
        }
    }

    fn hex32(s: &str) -> [u8; 32] {
        core::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
    }

    #[test]
    fn x25519_rfc7748_diffie_hellman() {
        // RFC 7748 §6.1: the key shares made from the private keys, and the shared secret
        // both sides reach (the Wycheproof vectors in tests/ cover `complete` only).
        let alice = hex32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let alice_pub = hex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        let bob = hex32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        let bob_pub = hex32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        let shared = hex32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        let start = |k| KxGroup::new(Curve::X25519, Box::leak(Box::new(Fixed(k)))).start().unwrap();
        let (a, b) = (start(alice), start(bob));
        assert_eq!(a.pub_key(), alice_pub);
        assert_eq!(b.pub_key(), bob_pub);
        assert_eq!(a.complete(&bob_pub).unwrap().secret_bytes(), shared);
        assert_eq!(b.complete(&alice_pub).unwrap().secret_bytes(), shared);
        // A share of the wrong length, and the zero point (small order: all-zero secret).
        assert!(start(alice).complete(&bob_pub[..31]).is_err());
        assert!(start(alice).complete(&[0; 32]).is_err());
    }
}
