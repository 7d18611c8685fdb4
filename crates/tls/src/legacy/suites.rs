//! The four static-RSA CBC cipher suites of the legacy engine, in order of preference,
//! with the key sizes and MAC each needs.
//!
//! All four exchange keys by encrypting the premaster secret to the server's RSA key;
//! they differ in AES key size and record MAC. The SHA-256 ones exist only in TLS 1.2,
//! and every one uses the SHA-256 PRF there (RFC 5246 §5).

use rustls::CipherSuite;

/// The record MAC of a suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MacAlgorithm {
    /// HMAC-SHA-1, 20-byte tags and keys.
    Sha1,
    /// HMAC-SHA-256, 32-byte tags and keys.
    Sha256,
}

impl MacAlgorithm {
    pub(crate) fn len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }
}

/// One suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Suite {
    /// The wire code.
    pub(crate) id: u16,
    /// AES key length in bytes: 16 or 32.
    pub(crate) key_len: usize,
    pub(crate) mac: MacAlgorithm,
    /// Only in TLS 1.2 (the SHA-256 MAC suites).
    pub(crate) tls12_only: bool,
}

impl Suite {
    /// The rustls name of the suite, for [`Negotiated`](crate::Negotiated).
    pub(crate) fn name(&self) -> CipherSuite {
        CipherSuite::from(self.id)
    }

    /// Whether the suite may be used at the wire version `version`.
    pub(crate) fn usable_at(&self, version: u16) -> bool {
        !self.tls12_only || version >= 0x0303
    }
}

/// The suites offered, most preferred first: SHA-256 MACs before SHA-1, AES-128 before
/// AES-256 within each (both are far beyond what RSA key exchange gives anyway).
pub(crate) const SUITES: [Suite; 4] = [
    Suite { id: 0x003c, key_len: 16, mac: MacAlgorithm::Sha256, tls12_only: true },
    Suite { id: 0x003d, key_len: 32, mac: MacAlgorithm::Sha256, tls12_only: true },
    Suite { id: 0x002f, key_len: 16, mac: MacAlgorithm::Sha1, tls12_only: false },
    Suite { id: 0x0035, key_len: 32, mac: MacAlgorithm::Sha1, tls12_only: false },
];

/// The suite with code `id`, if it is one of [`SUITES`].
pub(crate) fn find(id: u16) -> Option<Suite> {
    SUITES.into_iter().find(|s| s.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_rustls() {
        assert_eq!(find(0x002f).unwrap().name(), CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA);
        assert_eq!(find(0x0035).unwrap().name(), CipherSuite::TLS_RSA_WITH_AES_256_CBC_SHA);
        assert_eq!(find(0x003c).unwrap().name(), CipherSuite::TLS_RSA_WITH_AES_128_CBC_SHA256);
        assert_eq!(find(0x003d).unwrap().name(), CipherSuite::TLS_RSA_WITH_AES_256_CBC_SHA256);
        assert!(!find(0x003c).unwrap().usable_at(0x0302));
        assert!(find(0x002f).unwrap().usable_at(0x0301));
        assert!(find(0x1301).is_none());
    }
}
