//! Client certificates: the chain and key from the configuration, offered when (and only
//! when) the server sends a CertificateRequest.
//!
//! The resolver also records that the server asked, so that a later refusal can be
//! reported as "the server wanted a client certificate" rather than a bare alert.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use bootsign_pki::Cert;
use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::CertificateDer;
use rustls::sign::CertifiedKey;

use crate::error::Error;
use crate::platform::RandomSource;
use crate::provider::sign::{ClientKey, Key};
use crate::verifier::OutcomeSlot;

/// Builds the certified key from a DER chain (client certificate first) and a DER key;
/// the key is also returned by itself for the legacy engine's TLS 1.0/1.1 signatures.
pub(crate) fn load(
    chain: &[Vec<u8>],
    key_der: &[u8],
    rng: &'static dyn RandomSource,
) -> Result<(Arc<CertifiedKey>, Arc<ClientKey>), Error> {
    if chain.is_empty() {
        return Err(Error::ClientCertificateMissing);
    }
    for (index, der) in chain.iter().enumerate() {
        Cert::parse(der).map_err(|error| Error::ClientCertificate { index, error })?;
    }
    let key = Arc::new(ClientKey::from_der(key_der).map_err(Error::ClientKey)?);
    let certs = chain.iter().map(|c| CertificateDer::from(c.clone())).collect();
    Ok((Arc::new(CertifiedKey::new(certs, Arc::new(Key::shared(key.clone(), rng)))), key))
}

/// Offers the configured certificate, if any, and notes the request.
pub(crate) struct Resolver {
    pub(crate) key: Option<Arc<CertifiedKey>>,
    pub(crate) outcome: Arc<OutcomeSlot>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Resolver(configured: {})", self.key.is_some())
    }
}

impl ResolvesClientCert for Resolver {
    fn resolve(&self, _root_hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.outcome.current().note_client_cert_request();
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}
