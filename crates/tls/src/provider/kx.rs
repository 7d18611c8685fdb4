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
use zeroize::Zeroize;

use super::x25519::{BASE_POINT, x25519};
use crate::platform::RandomSource;

/// Which curve a [`KxGroup`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    X25519,
    P256,
    P384,
}

/// One offered group, with the RNG its ephemeral keys come from.
pub(crate) struct KxGroup {
    pub(crate) curve: Curve,
    pub(crate) rng: &'static dyn RandomSource,
}

impl fmt::Debug for KxGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KxGroup({:?})", self.curve)
    }
}

fn random(rng: &dyn RandomSource, buf: &mut [u8]) -> Result<(), Error> {
    rng.fill(buf).map_err(|_| Error::FailedToGetRandomBytes)
}

enum Secret {
    X25519([u8; 32]),
    P256(p256::NonZeroScalar),
    P384(p384::NonZeroScalar),
}

impl Drop for Secret {
    fn drop(&mut self) {
        if let Self::X25519(k) = self {
            k.zeroize();
        }
        // The NIST scalars zeroize themselves on drop.
    }
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
                let mut k = [0u8; 32];
                random(self.rng, &mut k)?;
                let public = x25519(&k, &BASE_POINT).to_vec();
                (Secret::X25519(k), public)
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
                let peer: &[u8; 32] = peer.try_into().map_err(|_| bad_share())?;
                let shared = x25519(k, peer);
                // RFC 8446 §7.4.2: an all-zero result means a small-order peer point.
                if shared.iter().all(|b| *b == 0) {
                    return Err(bad_share());
                }
                Ok(SharedSecret::from(&shared[..]))
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
