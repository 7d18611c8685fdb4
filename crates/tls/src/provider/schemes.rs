//! The signature schemes bootsign speaks, written once: what the handshake offers and
//! verifies, what the cipher suites sign with, and what a client key chooses from.

use rustls::SignatureScheme;

/// ECDSA schemes (TLS 1.3 binds each to its curve), preferred first.
pub const ECDSA_SCHEMES: [SignatureScheme; 2] =
    [SignatureScheme::ECDSA_NISTP256_SHA256, SignatureScheme::ECDSA_NISTP384_SHA384];

/// RSA schemes in order of preference; TLS 1.3 allows only the PSS ones.
pub const RSA_SCHEMES: [SignatureScheme; 6] = [
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA512,
];

/// The schemes offered in signature_algorithms, most preferred first: ECDSA, then RSA.
pub const SUPPORTED_SCHEMES: [SignatureScheme; 8] = {
    let mut all = [SignatureScheme::ECDSA_NISTP256_SHA256; 8];
    let mut i = 0;
    while i < ECDSA_SCHEMES.len() {
        all[i] = ECDSA_SCHEMES[i];
        i += 1;
    }
    let mut j = 0;
    while j < RSA_SCHEMES.len() {
        all[ECDSA_SCHEMES.len() + j] = RSA_SCHEMES[j];
        j += 1;
    }
    all
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_is_ecdsa_then_rsa() {
        assert_eq!(SUPPORTED_SCHEMES[..2], ECDSA_SCHEMES);
        assert_eq!(SUPPORTED_SCHEMES[2..], RSA_SCHEMES);
    }
}
