//! The client handshake for RSA key exchange, one struct per state, each consumed by the
//! message it waits for to make the next (a skipped or reordered message is an error, not
//! a silently different path).
//!
//! ```text
//! ClientHello ->
//!          <- ServerHello                 ExpectServerHello
//!          <- Certificate                 ExpectCertificate (checked by crate::verifier)
//!          <- [CertificateRequest]        ExpectServerHelloDone
//!          <- ServerHelloDone
//! [Certificate] ClientKeyExchange [CertificateVerify] ChangeCipherSpec Finished ->
//!          <- ChangeCipherSpec            ExpectChangeCipherSpec
//!          <- Finished                    ExpectFinished
//! ```
//!
//! The server certificate goes through [`verify_server_chain`], the same check as the
//! rustls path; its result is a token without which the key exchange cannot be built.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use bootsign_pki::cert::key_usage;
use bootsign_pki::{Cert, PublicKey};
use rustls::SignatureScheme;
use rustls::pki_types::ServerName;
use rustls::sign::{CertifiedKey, Signer};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::cipher::CbcProtection;
use super::error::LegacyError;
use super::messages::{self, CertificateRequest, ClientHello, Message, ServerHello, ext, typ};
use super::prf::Prf;
use super::record::{ContentType, RecordLayer};
use super::suites::{self, SUITES, Suite};
use crate::config::LegacyVersion;
use crate::error::Error;
use crate::platform::{CoreRng, RandomSource};
use crate::provider::sign::{ClientKey, sign_tls10};
use crate::provider::verify::SUPPORTED_SCHEMES;
use crate::verifier::{CertificateFailure, ServerChainVerified, Trust, verify_server_chain};

pub(crate) const TLS10: u16 = 0x0301;
pub(crate) const TLS11: u16 = 0x0302;
pub(crate) const TLS12: u16 = 0x0303;

/// The last 8 bytes of a TLS 1.3-capable server's random when it picks TLS 1.2, and of a
/// TLS 1.2-capable one's when it picks 1.1 or 1.0 (RFC 8446 §4.1.3).
const DOWNGRADE_TLS12: [u8; 8] = *b"DOWNGRD\x01";
const DOWNGRADE_TLS11: [u8; 8] = *b"DOWNGRD\x00";

/// What the connection was configured with.
pub(crate) struct Params {
    pub(crate) trust: Arc<Trust>,
    pub(crate) name: ServerName<'static>,
    /// Unix seconds, for certificate validity.
    pub(crate) now: u64,
    pub(crate) rng: &'static dyn RandomSource,
    pub(crate) legacy_min: Option<LegacyVersion>,
    pub(crate) client_cert: Option<Arc<CertifiedKey>>,
    pub(crate) client_key: Option<Arc<ClientKey>>,
    /// The TLS 1.2 ECDHE suites the rustls path offers, offered here too (ahead of the
    /// static-RSA ones) so that the server's choice is the one a single hello with every
    /// suite would get; a server picking one of them ends the fallback.
    pub(crate) ecdhe_suites: Vec<u16>,
    /// The key exchange groups of the rustls path, for supported_groups.
    pub(crate) ecdhe_groups: Vec<u16>,
}

impl Params {
    fn min_version(&self) -> u16 {
        match self.legacy_min {
            None => TLS12,
            Some(LegacyVersion::Tls11) => TLS11,
            Some(LegacyVersion::Tls10) => TLS10,
        }
    }
}

/// Where the handshake writes.
pub(crate) struct Io<'a> {
    pub(crate) records: &'a mut RecordLayer,
    pub(crate) out: &'a mut Vec<u8>,
}

impl Io<'_> {
    /// Sends a handshake message and adds it to the transcript.
    fn send(&mut self, message: &[u8], transcript: &mut Vec<u8>) -> Result<(), Error> {
        transcript.extend_from_slice(message);
        self.records.write(ContentType::Handshake, message, self.out).map_err(Error::Legacy)
    }
}

/// An input to the handshake.
#[derive(Clone, Copy)]
pub(crate) enum Event<'a> {
    Message(&'a Message),
    ChangeCipherSpec,
}

/// What the server picked in its ServerHello.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Chosen {
    pub(crate) version: u16,
    pub(crate) suite: Suite,
    /// Extended master secret (RFC 7627) agreed.
    pub(crate) ems: bool,
    server_random: [u8; 32],
}

impl Chosen {
    fn prf(&self) -> Prf {
        if self.version >= TLS12 { Prf::Sha256 } else { Prf::Md5Sha1 }
    }

    /// A finished handshake's parameters, for tests past the handshake.
    #[cfg(test)]
    pub(crate) fn for_test() -> Self {
        Self { version: TLS12, suite: SUITES[0], ems: true, server_random: [0; 32] }
    }
}

/// The handshake so far, carried from state to state until the keys exist.
struct Common {
    params: Params,
    client_random: [u8; 32],
    /// Every handshake message sent and received, in order, headers included.
    transcript: Vec<u8>,
}

pub(crate) struct ExpectServerHello {
    c: Common,
}

pub(crate) struct ExpectCertificate {
    c: Common,
    chosen: Chosen,
}

/// The server's RSA key, from a chain [`verify_server_chain`] accepted.
struct ServerKey {
    key: rsa::PublicKey,
    _verified: ServerChainVerified,
}

pub(crate) struct ExpectServerHelloDone {
    c: Common,
    chosen: Chosen,
    server: ServerKey,
    request: Option<CertificateRequest>,
}

pub(crate) struct ExpectChangeCipherSpec {
    chosen: Chosen,
    master: Zeroizing<[u8; 48]>,
    transcript: Vec<u8>,
    read: Box<CbcProtection>,
}

pub(crate) struct ExpectFinished {
    chosen: Chosen,
    master: Zeroizing<[u8; 48]>,
    transcript: Vec<u8>,
}

/// The handshake's state.
pub(crate) enum State {
    ServerHello(ExpectServerHello),
    Certificate(ExpectCertificate),
    ServerHelloDone(ExpectServerHelloDone),
    ChangeCipherSpec(ExpectChangeCipherSpec),
    Finished(ExpectFinished),
    /// Finished: application data flows.
    Done(Chosen),
}

fn unexpected(expected: &'static str, event: Event<'_>) -> Error {
    let got = match event {
        Event::Message(m) => messages::type_name(m.typ),
        Event::ChangeCipherSpec => "ChangeCipherSpec",
    };
    Error::Legacy(LegacyError::UnexpectedMessage { expected, got })
}

impl State {
    /// Sends the ClientHello.
    pub(crate) fn start(params: Params, io: &mut Io<'_>) -> Result<Self, Error> {
        let mut client_random = [0u8; 32];
        params.rng.fill(&mut client_random).map_err(|_| Error::Legacy(LegacyError::Random))?;
        // The ECDHE suites first: a server that supports them must pick one (and so reveal
        // that the first connection's failure was not genuine).
        let suites: Vec<u16> =
            params.ecdhe_suites.iter().copied().chain(SUITES.iter().map(|s| s.id)).collect();
        let schemes: Vec<u16> = SUPPORTED_SCHEMES.iter().map(|s| u16::from(*s)).collect();
        let server_name = match &params.name {
            ServerName::DnsName(d) => Some(d.as_ref()),
            _ => None,
        };
        let hello = ClientHello {
            random: client_random,
            suites: &suites,
            groups: &params.ecdhe_groups,
            server_name,
            signature_schemes: &schemes,
        }
        .encode();
        let mut c = Common { params, client_random, transcript: Vec::new() };
        io.send(&hello, &mut c.transcript)?;
        Ok(Self::ServerHello(ExpectServerHello { c }))
    }

    /// What the state waits for, for errors.
    pub(crate) fn expecting(&self) -> &'static str {
        match self {
            Self::ServerHello(_) => "ServerHello",
            Self::Certificate(_) => "Certificate",
            Self::ServerHelloDone(_) => "ServerHelloDone",
            Self::ChangeCipherSpec(_) => "ChangeCipherSpec",
            Self::Finished(_) => "Finished",
            Self::Done(_) => "application data",
        }
    }

    /// Takes the next message (or ChangeCipherSpec) from the server.
    pub(crate) fn handle(self, event: Event<'_>, io: &mut Io<'_>) -> Result<Self, Error> {
        let expected = self.expecting();
        match (self, event) {
            (Self::ServerHello(s), Event::Message(m)) if m.typ == typ::SERVER_HELLO => s.handle(m, io),
            (Self::Certificate(s), Event::Message(m)) if m.typ == typ::CERTIFICATE => s.handle(m),
            (Self::ServerHelloDone(s), Event::Message(m))
                if m.typ == typ::CERTIFICATE_REQUEST && s.request.is_none() =>
            {
                s.request(m)
            }
            (Self::ServerHelloDone(s), Event::Message(m)) if m.typ == typ::SERVER_HELLO_DONE => s.done(m, io),
            (Self::ChangeCipherSpec(s), Event::ChangeCipherSpec) => {
                io.records.set_read(s.read);
                Ok(Self::Finished(ExpectFinished {
                    chosen: s.chosen,
                    master: s.master,
                    transcript: s.transcript,
                }))
            }
            (Self::Finished(s), Event::Message(m)) if m.typ == typ::FINISHED => s.handle(m),
            (_, event) => Err(unexpected(expected, event)),
        }
    }
}

impl ExpectServerHello {
    fn handle(mut self, m: &Message, io: &mut Io<'_>) -> Result<State, Error> {
        let legacy = |e| Error::Legacy(e);
        let hello = ServerHello::decode(m.body()).map_err(legacy)?;
        let version = hello.version;
        if version > TLS12 {
            return Err(legacy(LegacyError::VersionNotOffered(version)));
        }
        if version < self.c.params.min_version() {
            return Err(match self.c.params.legacy_min {
                None => Error::LegacyProtocolOnly,
                Some(min) => legacy(LegacyError::VersionBelowLegacyMinimum { version, min }),
            });
        }
        let tail = &hello.random[24..];
        if tail == DOWNGRADE_TLS12 || (version < TLS12 && tail == DOWNGRADE_TLS11) {
            return Err(legacy(LegacyError::Downgrade));
        }
        if self.c.params.ecdhe_suites.contains(&hello.suite) {
            return Err(legacy(LegacyError::EcdheAvailable { suite: hello.suite }));
        }
        let suite = suites::find(hello.suite)
            .filter(|s| s.usable_at(version))
            .ok_or(legacy(LegacyError::SuiteNotOffered(hello.suite)))?;
        if hello.compression != 0 {
            return Err(legacy(LegacyError::CompressionNotOffered(hello.compression)));
        }
        let sni_sent = matches!(self.c.params.name, ServerName::DnsName(_));
        let mut seen: Vec<u16> = Vec::new();
        let mut ems = false;
        let mut secure_renegotiation = false;
        for (t, data) in &hello.extensions {
            if seen.contains(t) {
                return Err(legacy(LegacyError::DuplicateExtension(*t)));
            }
            seen.push(*t);
            match *t {
                ext::SERVER_NAME if sni_sent && data.is_empty() => {}
                ext::EXTENDED_MASTER_SECRET if data.is_empty() => ems = true,
                ext::RENEGOTIATION_INFO if *data == [0] => secure_renegotiation = true,
                ext::RENEGOTIATION_INFO => return Err(legacy(LegacyError::BadRenegotiationInfo)),
                // Offered with the ECDHE suites; a server may send it whatever it picks
                // (RFC 8422 §5.2), and nothing here uses it.
                ext::EC_POINT_FORMATS if !self.c.params.ecdhe_suites.is_empty() => {
                    if data.first().map(|&n| usize::from(n) + 1) != Some(data.len()) || data.len() < 2 {
                        return Err(legacy(LegacyError::Decode { what: "ServerHello ec_point_formats" }));
                    }
                }
                ext::SERVER_NAME | ext::EXTENDED_MASTER_SECRET => {
                    return Err(legacy(LegacyError::Decode { what: "ServerHello extension" }));
                }
                other => return Err(legacy(LegacyError::ExtensionNotOffered(other))),
            }
        }
        // With a client certificate, the server must support secure renegotiation: otherwise
        // an attacker could splice its own traffic in front of an authenticated session
        // (CVE-2009-3555), whether or not this client ever renegotiates.
        if self.c.params.client_cert.is_some() && !secure_renegotiation {
            return Err(legacy(LegacyError::MissingRenegotiationInfo));
        }
        io.records.version = version;
        self.c.transcript.extend_from_slice(&m.raw);
        let chosen = Chosen { version, suite, ems, server_random: hello.random };
        Ok(State::Certificate(ExpectCertificate { c: self.c, chosen }))
    }
}

impl ExpectCertificate {
    fn handle(mut self, m: &Message) -> Result<State, Error> {
        let certs = messages::decode_certificates(m.body()).map_err(Error::Legacy)?;
        let (leaf, intermediates) =
            certs.split_first().ok_or(Error::Certificate(CertificateFailure::Missing))?;
        let p = &self.c.params;
        let verified =
            verify_server_chain(&p.trust, leaf, intermediates, &p.name, p.now).map_err(Error::Certificate)?;
        let cert = Cert::parse(leaf)
            .map_err(|error| Error::Certificate(CertificateFailure::Malformed { index: 0, error }))?;
        let key = match PublicKey::from_spki_der(cert.spki) {
            Ok(PublicKey::Rsa(k)) => k,
            Ok(other) => return Err(Error::Legacy(LegacyError::ServerKeyNotRsa { key: other.describe() })),
            Err(_) => return Err(Error::Legacy(LegacyError::ServerKeyNotRsa { key: "unreadable".into() })),
        };
        if !cert.key_usage_allows(key_usage::KEY_ENCIPHERMENT) {
            return Err(Error::Legacy(LegacyError::ServerKeyNotForEncryption {
                cert: cert.display_name().into(),
            }));
        }
        self.c.transcript.extend_from_slice(&m.raw);
        Ok(State::ServerHelloDone(ExpectServerHelloDone {
            c: self.c,
            chosen: self.chosen,
            server: ServerKey { key, _verified: verified },
            request: None,
        }))
    }
}

/// How the client answers a CertificateRequest.
enum ClientAuth {
    /// Not asked.
    NotRequested,
    /// Asked, but nothing suitable is configured: an empty Certificate.
    Empty,
    /// TLS 1.2: the chain, and a signer for a scheme the server accepts.
    Tls12 { cert: Arc<CertifiedKey>, signer: Box<dyn Signer> },
    /// TLS 1.0/1.1: the chain and the key (MD5+SHA-1 RSA or SHA-1 ECDSA signatures).
    Tls10 { cert: Arc<CertifiedKey>, key: Arc<ClientKey> },
}

impl ExpectServerHelloDone {
    fn request(mut self, m: &Message) -> Result<State, Error> {
        let tls12 = self.chosen.version >= TLS12;
        self.request = Some(CertificateRequest::decode(m.body(), tls12).map_err(Error::Legacy)?);
        self.c.transcript.extend_from_slice(&m.raw);
        Ok(State::ServerHelloDone(self))
    }

    fn client_auth(&self) -> ClientAuth {
        let Some(request) = &self.request else { return ClientAuth::NotRequested };
        let p = &self.c.params;
        let (Some(cert), Some(key)) = (&p.client_cert, &p.client_key) else { return ClientAuth::Empty };
        let wanted = if key.is_rsa() { CertificateRequest::RSA_SIGN } else { CertificateRequest::ECDSA_SIGN };
        if !request.types.contains(&wanted) {
            return ClientAuth::Empty;
        }
        if self.chosen.version >= TLS12 {
            let offered: Vec<SignatureScheme> =
                request.schemes.iter().map(|s| SignatureScheme::from(*s)).collect();
            match cert.key.choose_scheme(&offered) {
                Some(signer) => ClientAuth::Tls12 { cert: cert.clone(), signer },
                None => ClientAuth::Empty,
            }
        } else {
            ClientAuth::Tls10 { cert: cert.clone(), key: key.clone() }
        }
    }

    /// The server's flight is complete: sends the client's, up to its Finished.
    fn done(mut self, m: &Message, io: &mut Io<'_>) -> Result<State, Error> {
        if !m.body().is_empty() {
            return Err(Error::Legacy(LegacyError::Decode { what: "ServerHelloDone" }));
        }
        self.c.transcript.extend_from_slice(&m.raw);
        let auth = self.client_auth();
        let Self { c: Common { params, client_random, mut transcript }, chosen, server, .. } = self;
        let prf = chosen.prf();

        match &auth {
            ClientAuth::NotRequested => {}
            ClientAuth::Empty => io.send(&messages::certificate(&[]), &mut transcript)?,
            ClientAuth::Tls12 { cert, .. } | ClientAuth::Tls10 { cert, .. } => {
                let chain: Vec<&[u8]> = cert.cert.iter().map(|c| c.as_ref()).collect();
                io.send(&messages::certificate(&chain), &mut transcript)?;
            }
        }

        // The premaster secret carries the version offered, not the one picked (RFC 5246 §7.4.7.1).
        let mut premaster = Zeroizing::new([0u8; 48]);
        premaster[..2].copy_from_slice(&TLS12.to_be_bytes());
        params.rng.fill(&mut premaster[2..]).map_err(|_| Error::Legacy(LegacyError::Random))?;
        let encrypted = server
            .key
            .encrypt(&mut CoreRng(params.rng), rsa::Pkcs1v15Encrypt, &premaster[..])
            .map_err(|_| Error::Legacy(LegacyError::KeyExchange))?;
        io.send(&messages::client_key_exchange(&encrypted), &mut transcript)?;

        let session_hash = chosen.ems.then(|| prf.transcript_hash(&transcript));
        let master =
            prf.master_secret(&premaster[..], &client_random, &chosen.server_random, session_hash.as_deref());

        match auth {
            ClientAuth::Tls12 { signer, .. } => {
                let signature = signer.sign(&transcript).map_err(|_| {
                    Error::Legacy(LegacyError::ClientSignature("the signing operation failed"))
                })?;
                let scheme = u16::from(signer.scheme());
                io.send(&messages::certificate_verify(Some(scheme), &signature), &mut transcript)?;
            }
            ClientAuth::Tls10 { key, .. } => {
                let hash = Prf::Md5Sha1.transcript_hash(&transcript);
                let mut md5_sha1 = [0u8; 36];
                md5_sha1.copy_from_slice(&hash);
                let signature = sign_tls10(&key, params.rng, &md5_sha1)
                    .map_err(|why| Error::Legacy(LegacyError::ClientSignature(why)))?;
                io.send(&messages::certificate_verify(None, &signature), &mut transcript)?;
            }
            ClientAuth::NotRequested | ClientAuth::Empty => {}
        }

        // Keys: MAC keys, then encryption keys, then (TLS 1.0 only) IVs; client's first.
        let (mac_len, key_len) = (chosen.suite.mac.len(), chosen.suite.key_len);
        let iv_len = if chosen.version == TLS10 { 16 } else { 0 };
        let block =
            prf.key_block(&master, &client_random, &chosen.server_random, 2 * (mac_len + key_len + iv_len));
        let (client_mac, rest) = block.split_at(mac_len);
        let (server_mac, rest) = rest.split_at(mac_len);
        let (client_key, rest) = rest.split_at(key_len);
        let (server_key, rest) = rest.split_at(key_len);
        let iv = |bytes: &[u8]| {
            let mut v = [0u8; 16];
            v.copy_from_slice(bytes.get(..16)?);
            Some(v)
        };
        let (client_iv, server_iv) = (iv(rest), rest.get(16..).and_then(iv));
        let mac = chosen.suite.mac;

        let keys_error = Error::Legacy(LegacyError::KeyExchange);
        let write = CbcProtection::new(mac, client_mac, client_key, client_iv).ok_or(keys_error.clone())?;
        let read = CbcProtection::new(mac, server_mac, server_key, server_iv).ok_or(keys_error)?;
        let (write, read) = (Box::new(write), Box::new(read));
        io.records.write(ContentType::ChangeCipherSpec, &[1], io.out).map_err(Error::Legacy)?;
        io.records.set_write(write);
        let verify_data = prf.verify_data(&master, b"client finished", &transcript);
        io.send(&messages::handshake(typ::FINISHED, &verify_data), &mut transcript)?;

        Ok(State::ChangeCipherSpec(ExpectChangeCipherSpec { chosen, master, transcript, read }))
    }
}

impl ExpectFinished {
    fn handle(self, m: &Message) -> Result<State, Error> {
        let expected = self.chosen.prf().verify_data(&self.master, b"server finished", &self.transcript);
        if !bool::from(m.body().ct_eq(&expected[..])) {
            return Err(Error::Legacy(LegacyError::BadFinished));
        }
        Ok(State::Done(self.chosen))
    }
}
