//! The bootsign CLI as a library: the `bootsign` binary is a thin `main` over [`cmd`], and
//! tests and benchmarks use the same modules directly.

pub mod ca;
pub mod clock;
pub mod cmd;
pub mod firmware;
pub mod fsx;
pub mod image;
pub mod keys;
pub mod passphrase;
pub mod pkcs11;
pub mod project;
pub mod stream;
pub mod timefmt;
pub mod trust;
pub mod x509;
