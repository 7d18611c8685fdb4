//! Handshake messages: the ones the client writes (ClientHello, Certificate,
//! ClientKeyExchange, CertificateVerify, Finished), decoders for the ones the server sends,
//! and the reassembly of messages split across records or packed several to a record.

use alloc::vec::Vec;

use super::codec::{Reader, put_u16, put_u24, put_vec8, put_vec16, put_vec24};
use super::error::LegacyError;

/// Handshake message types (RFC 5246 §7.4).
pub(crate) mod typ {
    pub(crate) const HELLO_REQUEST: u8 = 0;
    pub(crate) const CLIENT_HELLO: u8 = 1;
    pub(crate) const SERVER_HELLO: u8 = 2;
    pub(crate) const CERTIFICATE: u8 = 11;
    pub(crate) const SERVER_KEY_EXCHANGE: u8 = 12;
    pub(crate) const CERTIFICATE_REQUEST: u8 = 13;
    pub(crate) const SERVER_HELLO_DONE: u8 = 14;
    pub(crate) const CERTIFICATE_VERIFY: u8 = 15;
    pub(crate) const CLIENT_KEY_EXCHANGE: u8 = 16;
    pub(crate) const FINISHED: u8 = 20;
}

/// The name of a handshake message type, for errors.
pub(crate) fn type_name(t: u8) -> &'static str {
    match t {
        typ::HELLO_REQUEST => "HelloRequest",
        typ::CLIENT_HELLO => "ClientHello",
        typ::SERVER_HELLO => "ServerHello",
        4 => "NewSessionTicket",
        typ::CERTIFICATE => "Certificate",
        typ::SERVER_KEY_EXCHANGE => "ServerKeyExchange",
        typ::CERTIFICATE_REQUEST => "CertificateRequest",
        typ::SERVER_HELLO_DONE => "ServerHelloDone",
        typ::CERTIFICATE_VERIFY => "CertificateVerify",
        typ::CLIENT_KEY_EXCHANGE => "ClientKeyExchange",
        typ::FINISHED => "Finished",
        _ => "an unknown handshake message",
    }
}

/// Extension codes used here.
pub(crate) mod ext {
    pub(crate) const SERVER_NAME: u16 = 0x0000;
    pub(crate) const SUPPORTED_GROUPS: u16 = 0x000a;
    pub(crate) const EC_POINT_FORMATS: u16 = 0x000b;
    pub(crate) const SIGNATURE_ALGORITHMS: u16 = 0x000d;
    pub(crate) const EXTENDED_MASTER_SECRET: u16 = 0x0017;
    pub(crate) const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// TLS_FALLBACK_SCSV (RFC 7507): this ClientHello is a retry with older versions.
const FALLBACK_SCSV: u16 = 0x5600;

/// The largest handshake message accepted (as rustls's default): room for long
/// certificate chains, and a bound on what the reassembly buffer holds.
pub(crate) const MAX_HANDSHAKE_MESSAGE: usize = 64 * 1024;

/// Wraps `body` as a handshake message of type `t`.
pub(crate) fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(4 + body.len());
    m.push(t);
    put_vec24(&mut m, body);
    m
}

/// What goes into the ClientHello.
pub(crate) struct ClientHello<'a> {
    pub(crate) random: [u8; 32],
    pub(crate) suites: &'a [u16],
    /// The named groups for the ECDHE suites among `suites` (supported_groups), sent with
    /// ec_point_formats (uncompressed only) when not empty.
    pub(crate) groups: &'a [u16],
    /// The DNS name for SNI (never an IP address).
    pub(crate) server_name: Option<&'a str>,
    pub(crate) signature_schemes: &'a [u16],
}

impl ClientHello<'_> {
    /// The encoded message, offering TLS 1.2 (and below, which the server may pick).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(256);
        put_u16(&mut b, 0x0303);
        b.extend_from_slice(&self.random);
        put_vec8(&mut b, &[]);
        let mut suites = Vec::new();
        for s in self.suites.iter().chain(&[FALLBACK_SCSV]) {
            put_u16(&mut suites, *s);
        }
        put_vec16(&mut b, &suites);
        put_vec8(&mut b, &[0]);

        let mut exts = Vec::new();
        if let Some(name) = self.server_name {
            let mut entry = alloc::vec![0u8];
            put_vec16(&mut entry, name.as_bytes());
            let mut list = Vec::new();
            put_vec16(&mut list, &entry);
            put_u16(&mut exts, ext::SERVER_NAME);
            put_vec16(&mut exts, &list);
        }
        if !self.groups.is_empty() {
            let mut groups = Vec::new();
            for g in self.groups {
                put_u16(&mut groups, *g);
            }
            let mut list = Vec::new();
            put_vec16(&mut list, &groups);
            put_u16(&mut exts, ext::SUPPORTED_GROUPS);
            put_vec16(&mut exts, &list);
            // ec_point_formats: one format, uncompressed (RFC 8422 §5.1.2).
            put_u16(&mut exts, ext::EC_POINT_FORMATS);
            put_vec16(&mut exts, &[1, 0]);
        }
        put_u16(&mut exts, ext::EXTENDED_MASTER_SECRET);
        put_vec16(&mut exts, &[]);
        // Empty renegotiated_connection: this is an initial handshake (RFC 5746 §3.4).
        put_u16(&mut exts, ext::RENEGOTIATION_INFO);
        put_vec16(&mut exts, &[0]);
        let mut schemes = Vec::new();
        for s in self.signature_schemes {
            put_u16(&mut schemes, *s);
        }
        let mut list = Vec::new();
        put_vec16(&mut list, &schemes);
        put_u16(&mut exts, ext::SIGNATURE_ALGORITHMS);
        put_vec16(&mut exts, &list);
        put_vec16(&mut b, &exts);
        handshake(typ::CLIENT_HELLO, &b)
    }
}

/// A decoded ServerHello.
#[derive(Debug)]
pub(crate) struct ServerHello<'a> {
    pub(crate) version: u16,
    pub(crate) random: [u8; 32],
    pub(crate) suite: u16,
    pub(crate) compression: u8,
    /// (type, data) in the order sent.
    pub(crate) extensions: Vec<(u16, &'a [u8])>,
}

impl<'a> ServerHello<'a> {
    pub(crate) fn decode(body: &'a [u8]) -> Result<Self, LegacyError> {
        let mut r = Reader::new(body, "ServerHello");
        let version = r.u16()?;
        let random = r.array::<32>()?;
        let session_id = r.vec8()?;
        if session_id.rest().len() > 32 {
            return Err(LegacyError::Decode { what: "ServerHello" });
        }
        let suite = r.u16()?;
        let compression = r.u8()?;
        let mut extensions = Vec::new();
        if !r.is_empty() {
            let mut list = r.vec16()?;
            while !list.is_empty() {
                let t = list.u16()?;
                let data = list.vec16()?.rest();
                extensions.push((t, data));
            }
        }
        r.end()?;
        Ok(Self { version, random, suite, compression, extensions })
    }
}

/// Decodes a Certificate message: the DER certificates, the server's first.
pub(crate) fn decode_certificates(body: &[u8]) -> Result<Vec<&[u8]>, LegacyError> {
    let mut r = Reader::new(body, "Certificate");
    let mut list = r.vec24()?;
    r.end()?;
    let mut certs = Vec::new();
    while !list.is_empty() {
        certs.push(list.vec24()?.rest());
    }
    Ok(certs)
}

/// A decoded CertificateRequest.
#[derive(Debug, Default)]
pub(crate) struct CertificateRequest {
    /// ClientCertificateType codes: 1 rsa_sign, 64 ecdsa_sign.
    pub(crate) types: Vec<u8>,
    /// TLS 1.2: the signature schemes the server accepts.
    pub(crate) schemes: Vec<u16>,
}

impl CertificateRequest {
    pub(crate) const RSA_SIGN: u8 = 1;
    pub(crate) const ECDSA_SIGN: u8 = 64;

    pub(crate) fn decode(body: &[u8], tls12: bool) -> Result<Self, LegacyError> {
        let mut r = Reader::new(body, "CertificateRequest");
        let types = r.vec8()?.rest().to_vec();
        let mut schemes = Vec::new();
        if tls12 {
            let mut list = r.vec16()?;
            while !list.is_empty() {
                schemes.push(list.u16()?);
            }
        }
        // The acceptable CA names: not used to choose (there is one configured chain).
        let mut names = r.vec16()?;
        while !names.is_empty() {
            names.vec16()?;
        }
        r.end()?;
        Ok(Self { types, schemes })
    }
}

/// The client's Certificate message (an empty list when it has nothing suitable).
pub(crate) fn certificate(chain: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in chain {
        put_vec24(&mut list, c);
    }
    let mut body = Vec::with_capacity(list.len() + 3);
    put_u24(&mut body, list.len());
    body.extend_from_slice(&list);
    handshake(typ::CERTIFICATE, &body)
}

/// ClientKeyExchange for RSA: the encrypted premaster secret, length-prefixed (TLS 1.0+).
pub(crate) fn client_key_exchange(encrypted: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    put_vec16(&mut body, encrypted);
    handshake(typ::CLIENT_KEY_EXCHANGE, &body)
}

/// CertificateVerify: TLS 1.2 names the scheme, older versions do not.
pub(crate) fn certificate_verify(scheme: Option<u16>, signature: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(s) = scheme {
        put_u16(&mut body, s);
    }
    put_vec16(&mut body, signature);
    handshake(typ::CERTIFICATE_VERIFY, &body)
}

/// Reassembles handshake messages from record payloads.
#[derive(Debug, Default)]
pub(crate) struct Joiner {
    buf: Vec<u8>,
}

/// One whole handshake message.
#[derive(Debug)]
pub(crate) struct Message {
    pub(crate) typ: u8,
    /// The message as sent, header included (what the transcript hashes).
    pub(crate) raw: Vec<u8>,
}

impl Message {
    pub(crate) fn body(&self) -> &[u8] {
        self.raw.get(4..).unwrap_or(&[])
    }
}

impl Joiner {
    pub(crate) fn push(&mut self, payload: &[u8]) {
        self.buf.extend_from_slice(payload);
    }

    /// The next whole message, if one has arrived.
    pub(crate) fn next_message(&mut self) -> Result<Option<Message>, LegacyError> {
        let mut r = Reader::new(&self.buf, "handshake message header");
        let (Ok(t), Ok(len)) = (r.u8(), r.u24()) else { return Ok(None) };
        if len > MAX_HANDSHAKE_MESSAGE {
            return Err(LegacyError::HandshakeMessageTooLong { len });
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let raw: Vec<u8> = self.buf.drain(..4 + len).collect();
        Ok(Some(Message { typ: t, raw }))
    }

    /// Whether no partial message is waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joiner_splits_and_joins() {
        let a = handshake(typ::SERVER_HELLO_DONE, &[]);
        let b = handshake(typ::FINISHED, &[7; 12]);
        let mut wire = a.clone();
        wire.extend_from_slice(&b);
        let mut j = Joiner::default();
        let mut got = Vec::new();
        for byte in &wire {
            j.push(core::slice::from_ref(byte));
            while let Some(m) = j.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].raw, a);
        assert_eq!((got[1].typ, got[1].body()), (typ::FINISHED, &[7u8; 12][..]));
        assert!(j.is_empty());
        j.push(&[11, 0xff, 0xff, 0xff]);
        assert!(matches!(j.next_message(), Err(LegacyError::HandshakeMessageTooLong { .. })));
        // 64 KiB is the limit: announced, it is waited for; one byte more is refused.
        let mut j = Joiner::default();
        j.push(&[11, 0x01, 0x00, 0x00]);
        assert!(j.next_message().unwrap().is_none());
        let mut j = Joiner::default();
        j.push(&[11, 0x01, 0x00, 0x01]);
        assert_eq!(j.next_message().unwrap_err(), LegacyError::HandshakeMessageTooLong { len: 65537 });
    }

    #[test]
    fn client_hello_has_sni_ems_and_renegotiation_info() {
        let hello = ClientHello {
            random: [1; 32],
            suites: &[0xc02f, 0x002f],
            groups: &[0x001d, 0x0017],
            server_name: Some("boot.example"),
            signature_schemes: &[0x0401],
        }
        .encode();
        assert_eq!(hello[0], typ::CLIENT_HELLO);
        let body = &hello[4..];
        assert_eq!(&body[..2], &[3, 3]);
        let find = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
        assert!(find(b"boot.example"));
        assert!(find(&[0x00, 0x17, 0x00, 0x00]), "extended_master_secret");
        assert!(find(&[0xff, 0x01, 0x00, 0x01, 0x00]), "renegotiation_info");
        assert!(find(&[0xc0, 0x2f, 0x00, 0x2f, 0x56, 0x00]), "the suites, then TLS_FALLBACK_SCSV");
        assert!(find(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]), "supported_groups");
        assert!(find(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]), "ec_point_formats: uncompressed");
    }

    #[test]
    fn server_hello_decodes_and_refuses_trailing_bytes() {
        let mut body = alloc::vec![3, 3];
        body.extend_from_slice(&[9; 32]);
        body.extend_from_slice(&[0, 0x00, 0x2f, 0]);
        body.extend_from_slice(&[0, 4, 0x00, 0x17, 0, 0]);
        let sh = ServerHello::decode(&body).unwrap();
        assert_eq!((sh.version, sh.suite, sh.compression), (0x0303, 0x002f, 0));
        assert_eq!(sh.extensions, [(0x0017, &[][..])]);
        body.push(0);
        assert!(ServerHello::decode(&body).is_err());
        assert!(ServerHello::decode(&body[..30]).is_err());
    }

    #[test]
    fn certificate_request_decodes_both_forms() {
        // TLS 1.2: types, schemes, one CA name.
        let body = [1, 1, 0, 2, 4, 1, 0, 5, 0, 3, 1, 2, 3];
        let req = CertificateRequest::decode(&body, true).unwrap();
        assert_eq!((req.types, req.schemes), (alloc::vec![1], alloc::vec![0x0401]));
        let req = CertificateRequest::decode(&[2, 1, 64, 0, 0], false).unwrap();
        assert_eq!(req.types, [1, 64]);
        assert!(CertificateRequest::decode(&[2, 1, 64, 0, 0], true).is_err());
    }
}
