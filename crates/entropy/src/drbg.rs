//! HMAC_DRBG with HMAC-SHA-256 (SP 800-90A Rev. 1, §10.1.2), without prediction
//! resistance: the generator behind the firmware's random bytes when they come from
//! timing jitter. Tested against NIST's CAVP vectors.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

/// Requests between reseeds this crate's users should keep to: far below SP 800-90A's
/// limit of 2⁴⁸, so fresh jitter goes in every few TLS handshakes.
pub const RESEED_INTERVAL: u64 = 256;

/// The most bytes one request may ask for (SP 800-90A table 2: 2¹⁹ bits).
pub const MAX_REQUEST_BYTES: usize = 1 << 16;

/// The generator must be reseeded before it answers more requests (or the request was
/// larger than [`MAX_REQUEST_BYTES`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReseedRequired;

impl core::fmt::Display for ReseedRequired {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the DRBG must be reseeded before it generates more")
    }
}

impl core::error::Error for ReseedRequired {}

/// The working state of an HMAC_DRBG: key, value and reseed counter. Wiped when dropped.
pub struct HmacDrbg {
    k: [u8; 32],
    v: [u8; 32],
    reseed_counter: u64,
    reseed_interval: u64,
}

impl core::fmt::Debug for HmacDrbg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HmacDrbg").field("reseed_counter", &self.reseed_counter).finish_non_exhaustive()
    }
}

impl Drop for HmacDrbg {
    fn drop(&mut self) {
        self.k.zeroize();
        self.v.zeroize();
    }
}

fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

impl HmacDrbg {
    /// Instantiate (§10.1.2.3): `entropy` of at least 256 bits, a `nonce` (a timestamp
    /// will do, §8.6.7) and a personalization string. Reseeds are asked for after
    /// [`RESEED_INTERVAL`] requests.
    pub fn new(entropy: &[u8], nonce: &[u8], personalization: &[u8]) -> Self {
        let mut drbg = Self { k: [0; 32], v: [1; 32], reseed_counter: 1, reseed_interval: RESEED_INTERVAL };
        drbg.update(&[entropy, nonce, personalization]);
        drbg
    }

    /// Sets how many requests may come between reseeds (at most 2⁴⁸).
    pub fn set_reseed_interval(&mut self, requests: u64) {
        self.reseed_interval = requests.min(1 << 48);
    }

    /// The update function (§10.1.2.2) over the concatenation of `provided`.
    fn update(&mut self, provided: &[&[u8]]) {
        debug_assert!(provided.len() <= 3, "HMAC_DRBG takes at most three provided parts");
        let empty = provided.iter().all(|p| p.is_empty());
        for round in [0u8, 1] {
            if round == 1 && empty {
                break;
            }
            let mut parts: [&[u8]; 5] = [&self.v, &[round], &[], &[], &[]];
            for (slot, p) in parts[2..].iter_mut().zip(provided) {
                *slot = p;
            }
            let mut k = hmac(&self.k, &parts);
            self.k = k;
            k.zeroize();
            self.v = hmac(&self.k, &[&self.v]);
        }
    }

    /// Reseed (§10.1.2.4) with fresh `entropy` and optional additional input.
    pub fn reseed(&mut self, entropy: &[u8], additional: &[u8]) {
        self.update(&[entropy, additional]);
        self.reseed_counter = 1;
    }

    /// Whether the next request would be refused until a reseed.
    pub fn needs_reseed(&self) -> bool {
        self.reseed_counter > self.reseed_interval
    }

    /// Generate (§10.1.2.5): fills `out`, or refuses when a reseed is due.
    pub fn generate(&mut self, out: &mut [u8], additional: &[u8]) -> Result<(), ReseedRequired> {
        if self.needs_reseed() || out.len() > MAX_REQUEST_BYTES {
            return Err(ReseedRequired);
        }
        if !additional.is_empty() {
            self.update(&[additional]);
        }
        for chunk in out.chunks_mut(32) {
            self.v = hmac(&self.k, &[&self.v]);
            chunk.copy_from_slice(&self.v[..chunk.len()]);
        }
        self.update(&[additional]);
        self.reseed_counter += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> [u8; 128] {
        let mut out = [0u8; 128];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    fn bytes<const N: usize>(s: &str) -> [u8; N] {
        let mut out = [0u8; N];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    /// CAVP HMAC_DRBG.rsp, [SHA-256] [PredictionResistance = False]
    /// [EntropyInputLen = 256] [NonceLen = 128] [PersonalizationStringLen = 0]
    /// [AdditionalInputLen = 0] [ReturnedBitsLen = 1024], COUNT = 0 of the no-reseed file:
    /// instantiate, generate twice, the second output is ReturnedBits.
    #[test]
    fn cavp_no_reseed_count_0() {
        let mut drbg = HmacDrbg::new(
            &bytes::<32>("ca851911349384bffe89de1cbdc46e6831e44d34a4fb935ee285dd14b71a7488"),
            &bytes::<16>("659ba96c601dc69fc902940805ec0ca8"),
            &[],
        );
        let mut out = [0u8; 128];
        drbg.generate(&mut out, &[]).unwrap();
        drbg.generate(&mut out, &[]).unwrap();
        assert_eq!(
            out,
            hex(
                "e528e9abf2dece54d47c7e75e5fe302149f817ea9fb4bee6f4199697d04d5b89d54fbb978a15b5c443c9ec21036d2460\
                 b6f73ebad0dc2aba6e624abf07745bc107694bb7547bb0995f70de25d6b29e2d3011bb19d27676c07162c8b5ccde0668\
                 961df86803482cb37ed6d5c0bb8d50cf1f50d476aa0458bdaba806f48be9dcb8"
            )
        );
    }

    /// CAVP HMAC_DRBG.rsp (the reseed file), [SHA-256], COUNT = 0: instantiate, reseed,
    /// generate twice.
    #[test]
    fn cavp_reseed_count_0() {
        let mut drbg = HmacDrbg::new(
            &bytes::<32>("06032cd5eed33f39265f49ecb142c511da9aff2af71203bffaf34a9ca5bd9c0d"),
            &bytes::<16>("0e66f71edc43e42a45ad3c6fc6cdc4df"),
            &[],
        );
        drbg.reseed(&bytes::<32>("01920a4e669ed3a85ae8a33b35a74ad7fb2a6bb4cf395ce00334a9c9a5a5d552"), &[]);
        let mut out = [0u8; 128];
        drbg.generate(&mut out, &[]).unwrap();
        drbg.generate(&mut out, &[]).unwrap();
        assert_eq!(
            out,
            hex(
                "76fc79fe9b50beccc991a11b5635783a83536add03c157fb30645e611c2898bb2b1bc215000209208cd506cb28da2a51\
                 bdb03826aaf2bd2335d576d519160842e7158ad0949d1a9ec3e66ea1b1a064b005de914eac2e9d4f2d72a8616a802254\
                 22918250ff66a41bd2f864a6a38cc5b6499dc43f7f2bd09e1e0f8f5885935124"
            )
        );
    }

    #[test]
    fn a_reseed_is_required_after_the_interval_and_clears_it() {
        let mut drbg = HmacDrbg::new(&[7; 32], &[1; 16], b"test");
        drbg.set_reseed_interval(3);
        let mut out = [0u8; 16];
        for _ in 0..3 {
            drbg.generate(&mut out, &[]).unwrap();
        }
        assert_eq!(drbg.generate(&mut out, &[]), Err(ReseedRequired));
        drbg.reseed(&[9; 32], &[]);
        drbg.generate(&mut out, &[]).unwrap();
        let mut big = [0u8; MAX_REQUEST_BYTES + 1];
        assert_eq!(drbg.generate(&mut big, &[]), Err(ReseedRequired));
    }
}
