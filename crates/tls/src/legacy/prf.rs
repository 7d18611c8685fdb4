//! The TLS pseudo-random functions and what is derived with them: the master secret
//! (plain or extended, RFC 7627), the key block and the Finished values.
//!
//! TLS 1.2 uses P_SHA256 for all four suites (RFC 5246 §5); TLS 1.0 and 1.1 use P_MD5 of
//! the secret's first half XORed with P_SHA1 of its second half (RFC 2246 §5). The
//! handshake hash follows the PRF: SHA-256, or MD5 ‖ SHA-1.

use alloc::vec;
use alloc::vec::Vec;

use hmac::{KeyInit, Mac};
use sha2::Digest;
use zeroize::Zeroizing;

/// Which PRF (and handshake hash) the connection uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prf {
    /// TLS 1.0 and 1.1: MD5 and SHA-1 together.
    Md5Sha1,
    /// TLS 1.2: SHA-256.
    Sha256,
}

/// P_hash (RFC 5246 §5) with the HMAC `M`, XORed into `out`.
fn p_hash_xor<M: Mac + KeyInit + Clone>(secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    // HMAC accepts keys of any length: this cannot fail.
    let Ok(key) = <M as KeyInit>::new_from_slice(secret) else { return };
    // A(1) = HMAC(secret, label ‖ seed).
    let mut a = {
        let mut m = key.clone();
        m.update(label);
        m.update(seed);
        m.finalize().into_bytes()
    };
    for chunk in out.chunks_mut(a.len()) {
        let mut m = key.clone();
        m.update(&a);
        m.update(label);
        m.update(seed);
        let block = m.finalize().into_bytes();
        for (o, b) in chunk.iter_mut().zip(block.iter()) {
            *o ^= b;
        }
        let mut m = key.clone();
        m.update(&a);
        a = m.finalize().into_bytes();
    }
}

impl Prf {
    /// Fills `out` with PRF(secret, label, seed).
    pub(crate) fn derive(self, secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
        out.fill(0);
        match self {
            Self::Sha256 => p_hash_xor::<hmac::Hmac<sha2::Sha256>>(secret, label, seed, out),
            Self::Md5Sha1 => {
                // Two halves, sharing the middle byte when the length is odd.
                let half = secret.len().div_ceil(2);
                p_hash_xor::<hmac::Hmac<md5::Md5>>(&secret[..half], label, seed, out);
                p_hash_xor::<hmac::Hmac<sha1::Sha1>>(&secret[secret.len() - half..], label, seed, out);
            }
        }
    }

    /// The handshake hash of `transcript` (the handshake messages so far).
    pub(crate) fn transcript_hash(self, transcript: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => sha2::Sha256::digest(transcript).to_vec(),
            Self::Md5Sha1 => {
                let mut h = md5::Md5::digest(transcript).to_vec();
                h.extend_from_slice(&sha1::Sha1::digest(transcript));
                h
            }
        }
    }

    /// The 48-byte master secret: extended (bound to the handshake hash `session_hash`)
    /// when both sides agreed to RFC 7627, else from the two randoms.
    pub(crate) fn master_secret(
        self,
        premaster: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        session_hash: Option<&[u8]>,
    ) -> Zeroizing<[u8; 48]> {
        let mut master = Zeroizing::new([0u8; 48]);
        match session_hash {
            Some(hash) => self.derive(premaster, b"extended master secret", hash, &mut *master),
            None => {
                let mut seed = [0u8; 64];
                seed[..32].copy_from_slice(client_random);
                seed[32..].copy_from_slice(server_random);
                self.derive(premaster, b"master secret", &seed, &mut *master);
            }
        }
        master
    }

    /// The key block of `len` bytes (RFC 5246 §6.3): note the server random first.
    pub(crate) fn key_block(
        self,
        master: &[u8; 48],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        len: usize,
    ) -> Zeroizing<Vec<u8>> {
        let mut seed = [0u8; 64];
        seed[..32].copy_from_slice(server_random);
        seed[32..].copy_from_slice(client_random);
        let mut block = Zeroizing::new(vec![0u8; len]);
        self.derive(master, b"key expansion", &seed, &mut block);
        block
    }

    /// A Finished message's verify_data: 12 bytes over the handshake hash.
    pub(crate) fn verify_data(self, master: &[u8; 48], label: &[u8], transcript: &[u8]) -> [u8; 12] {
        let mut out = [0u8; 12];
        self.derive(master, label, &self.transcript_hash(transcript), &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors made with `openssl kdf -keylen 40 -kdfopt digest:SHA256 (or MD5-SHA1)
    /// -kdfopt hexsecret:... -kdfopt seed:'test labelseed bytes' TLS1-PRF`.
    #[test]
    fn matches_openssl_tls1_prf() {
        let secret: Vec<u8> = (0u8..16).collect();
        let mut out = [0u8; 40];
        Prf::Sha256.derive(&secret, b"test label", b"seed bytes", &mut out);
        let want = "2c4046385f747a118c8e81369e82847afa65068fd940e4b9a92f1742fd6e8edeca27d21507adde43";
        assert_eq!(hex(&out), want);

        // An odd-length secret: the two halves share its middle byte.
        let secret: Vec<u8> = (0u8..17).collect();
        Prf::Md5Sha1.derive(&secret, b"test label", b"seed bytes", &mut out);
        let want = "51d33e339ea21fe159630897ec3295566b845694089576945e963eaca5433cb86229bc501bde514d";
        assert_eq!(hex(&out), want);
    }

    #[test]
    fn transcript_hash_lengths() {
        assert_eq!(Prf::Sha256.transcript_hash(b"x").len(), 32);
        assert_eq!(Prf::Md5Sha1.transcript_hash(b"x").len(), 36);
    }

    fn hex(b: &[u8]) -> alloc::string::String {
        use core::fmt::Write;
        let mut s = alloc::string::String::new();
        for x in b {
            let _ = write!(s, "{x:02x}");
        }
        s
    }
}
