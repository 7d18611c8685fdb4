//! The rustls `CryptoProvider`, on RustCrypto crates and bootsign-pki.
//!
//! What it offers: the three TLS 1.3 suites; TLS 1.2 ECDHE_ECDSA and ECDHE_RSA with
//! AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305; groups x25519, secp256r1, secp384r1;
//! client keys RSA, P-256 and P-384. Random bytes come from the platform's
//! [`RandomSource`], and the AEADs from [`Aeads`], so the firmware can swap in hardware
//! AES-GCM.
//!
//! rustls keeps suites, groups and the RNG as `&'static dyn` references, and these
//! objects hold the platform's RNG and AEADs, so [`build`] allocates them once and never
//! frees them (about 1 KiB). Build one [`Config`](crate::Config) per boot, not one per
//! connection.

pub mod aead;
pub mod hash;
pub mod kx;
pub mod schemes;
pub mod sign;
pub mod verify;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use rustls::crypto::tls12::PrfUsingHmac;
use rustls::crypto::tls13::HkdfUsingHmac;
use rustls::crypto::{
    CipherSuiteCommon, CryptoProvider, GetRandomFailed, KeyExchangeAlgorithm, SecureRandom,
    WebPkiSupportedAlgorithms,
};
use rustls::{CipherSuite, SupportedCipherSuite, Tls12CipherSuite, Tls13CipherSuite};

use self::aead::{Aeads, Tls12Aead, Tls12Nonce, Tls13Aead};
use self::kx::{Curve, KxGroup};
use crate::platform::RandomSource;

/// rustls's source of random bytes (ClientHello random, TLS 1.2 explicit nonces ...).
#[derive(Debug)]
struct PlatformRandom(&'static dyn RandomSource);

impl SecureRandom for PlatformRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        self.0.fill(buf).map_err(|_| GetRandomFailed)
    }
}

/// Everything the provider references, allocated once.
struct Parts {
    random: PlatformRandom,
    keys: sign::KeyLoader,
    groups: [KxGroup; 3],
    tls13: [Tls13Aead; 3],
    tls12: [Tls12Aead; 3],
}

static HKDF_SHA256: HkdfUsingHmac<'static> = HkdfUsingHmac(&hash::HMAC_SHA256);
static HKDF_SHA384: HkdfUsingHmac<'static> = HkdfUsingHmac(&hash::HMAC_SHA384);
static PRF_SHA256: PrfUsingHmac<'static> = PrfUsingHmac(&hash::HMAC_SHA256);
static PRF_SHA384: PrfUsingHmac<'static> = PrfUsingHmac(&hash::HMAC_SHA384);

/// AES-GCM may be used for 2^24.5 full records per key (RFC 8446 §5.5); ChaCha20-Poly1305
/// has no practical limit.
const GCM_LIMIT: u64 = 1 << 24;

fn common(suite: CipherSuite, sha384: bool, gcm: bool) -> CipherSuiteCommon {
    CipherSuiteCommon {
        suite,
        hash_provider: if sha384 { &hash::SHA384 } else { &hash::SHA256 },
        confidentiality_limit: if gcm { GCM_LIMIT } else { u64::MAX },
    }
}

/// Builds the provider (see the module documentation for what is allocated).
pub(crate) fn build(rng: &'static dyn RandomSource, aeads: &Aeads) -> Arc<CryptoProvider> {
    let parts: &'static Parts = Box::leak(Box::new(Parts {
        random: PlatformRandom(rng),
        keys: sign::KeyLoader { rng },
        groups: [
            KxGroup { curve: Curve::X25519, rng },
            KxGroup { curve: Curve::P256, rng },
            KxGroup { curve: Curve::P384, rng },
        ],
        tls13: [
            Tls13Aead(aeads.aes_128_gcm),
            Tls13Aead(aeads.aes_256_gcm),
            Tls13Aead(aeads.chacha20_poly1305),
        ],
        tls12: [
            Tls12Aead(aeads.aes_128_gcm, Tls12Nonce::GcmExplicit),
            Tls12Aead(aeads.aes_256_gcm, Tls12Nonce::GcmExplicit),
            Tls12Aead(aeads.chacha20_poly1305, Tls12Nonce::Implicit),
        ],
    }));
    let [aes128, aes256, chacha] = &parts.tls13;
    let tls13: &'static [Tls13CipherSuite; 3] = Box::leak(Box::new([
        Tls13CipherSuite {
            common: common(CipherSuite::TLS13_AES_128_GCM_SHA256, false, true),
            hkdf_provider: &HKDF_SHA256,
            aead_alg: aes128,
            quic: None,
        },
        Tls13CipherSuite {
            common: common(CipherSuite::TLS13_AES_256_GCM_SHA384, true, true),
            hkdf_provider: &HKDF_SHA384,
            aead_alg: aes256,
            quic: None,
        },
        Tls13CipherSuite {
            common: common(CipherSuite::TLS13_CHACHA20_POLY1305_SHA256, false, false),
            hkdf_provider: &HKDF_SHA256,
            aead_alg: chacha,
            quic: None,
        },
    ]));
    let [aes128, aes256, chacha] = &parts.tls12;
    let suite12 = |suite, sha384, gcm, ecdsa: bool, aead_alg: &'static Tls12Aead| Tls12CipherSuite {
        common: common(suite, sha384, gcm),
        kx: KeyExchangeAlgorithm::ECDHE,
        sign: if ecdsa { &schemes::ECDSA_SCHEMES } else { &schemes::RSA_SCHEMES },
        aead_alg,
        prf_provider: if sha384 { &PRF_SHA384 } else { &PRF_SHA256 },
    };
    let tls12: &'static [Tls12CipherSuite; 6] = Box::leak(Box::new([
        suite12(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, false, true, true, aes128),
        suite12(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, false, true, false, aes128),
        suite12(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, true, true, true, aes256),
        suite12(CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, true, true, false, aes256),
        suite12(CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, false, false, true, chacha),
        suite12(CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, false, false, false, chacha),
    ]));
    // The client's preference: TLS 1.3 before 1.2, and within each the AES-GCM suites
    // first or, when `prefer_chacha20_poly1305`, the ChaCha20-Poly1305 ones.
    let chacha_first = |a: &SupportedCipherSuite, b: &SupportedCipherSuite| {
        let is_chacha = |s: &SupportedCipherSuite| {
            matches!(
                s.suite(),
                CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
                    | CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                    | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
            )
        };
        is_chacha(b).cmp(&is_chacha(a))
    };
    let mut cipher_suites: Vec<SupportedCipherSuite> =
        tls13.iter().map(SupportedCipherSuite::Tls13).collect();
    let mut suites12: Vec<SupportedCipherSuite> = tls12.iter().map(SupportedCipherSuite::Tls12).collect();
    if aeads.prefer_chacha20_poly1305 {
        // A stable sort keeps the order within each group.
        cipher_suites.sort_by(chacha_first);
        suites12.sort_by(chacha_first);
    }
    cipher_suites.extend(suites12);
    let [x25519, p256, p384] = &parts.groups;
    Arc::new(CryptoProvider {
        cipher_suites,
        kx_groups: vec![x25519, p256, p384],
        // Certificates and handshake signatures are verified by crate::verifier with
        // bootsign-pki, never by rustls's webpki verifier: leaving its algorithm list empty
        // makes any accidental use of it fail closed instead of verifying differently.
        signature_verification_algorithms: WebPkiSupportedAlgorithms { all: &[], mapping: &[] },
        secure_random: &parts.random,
        key_provider: &parts.keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::RngError;

    #[derive(Debug)]
    struct Unused;

    impl RandomSource for Unused {
        fn fill(&self, _: &mut [u8]) -> Result<(), RngError> {
            Err(RngError)
        }
    }

    static UNUSED: Unused = Unused;

    fn order(aeads: &Aeads) -> Vec<CipherSuite> {
        build(&UNUSED, aeads).cipher_suites.iter().map(|s| s.suite()).collect()
    }

    #[test]
    fn aes_gcm_first_unless_chacha20_is_preferred_and_tls13_always_before_tls12() {
        use CipherSuite::*;
        assert_eq!(
            order(&Aeads::default()),
            [
                TLS13_AES_128_GCM_SHA256,
                TLS13_AES_256_GCM_SHA384,
                TLS13_CHACHA20_POLY1305_SHA256,
                TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            ]
        );
        assert_eq!(
            order(&Aeads { prefer_chacha20_poly1305: true, ..Aeads::default() }),
            [
                TLS13_CHACHA20_POLY1305_SHA256,
                TLS13_AES_128_GCM_SHA256,
                TLS13_AES_256_GCM_SHA384,
                TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
                TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            ]
        );
    }
}
