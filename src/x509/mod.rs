//! Host-side X.509: reading certificates and requests, building and signing new ones.

pub mod build;
pub mod cert;
pub mod cms;
pub mod csr;
pub mod name;
pub mod profile;
pub mod san;
