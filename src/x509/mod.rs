//! Host-side X.509: reading certificates and requests, building and signing new
//! certificates and CRLs.

pub mod authenticode;
pub mod build;
pub mod cert;
pub mod cms;
pub mod crl;
pub mod csr;
pub mod name;
pub mod profile;
pub mod san;

/// Whether a file's bytes hold PEM (a `-----BEGIN` line anywhere, as after a comment).
pub fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(10).any(|w| w == b"-----BEGIN")
}

/// Whether a file's bytes could be DER of a certificate, CRL, request, key or signature:
/// each is a SEQUENCE. Text and other files are told apart by this before the parser
/// runs, so the message names what was expected instead of the parser's first complaint.
pub fn looks_like_der(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x30)
}
