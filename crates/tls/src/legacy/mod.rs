//! The legacy engine: a small sans-IO TLS client for what rustls refuses to implement —
//! the static-RSA CBC suites (`TLS_RSA_WITH_AES_{128,256}_CBC_SHA{,256}`) and, in legacy
//! mode ([`Config::set_legacy_min`]), TLS 1.0 and 1.1.
//!
//! [`LegacyClient`] has the method set and semantics of [`Client`](crate::Client), and
//! checks the server's certificate with the same verifier. It is meant as a fallback
//! only, tried on a new TCP connection when the rustls client fails in a way
//! [`Error::wants_legacy_retry`] accepts (see [`Connection`](crate::Connection)).
//!
//! That failure is not authenticated: an attacker in between can forge the alert that
//! ends the first connection, and so make the firmware try this engine against a server
//! that would have used ECDHE, to get a static-RSA session (no forward secrecy, CBC). The
//! fallback hello therefore limits what a forced fallback gains:
//!
//! - it carries TLS_FALLBACK_SCSV (RFC 7507), which a server supporting something newer
//!   answers with inappropriate_fallback;
//! - a server random showing a newer version than the one picked aborts it (RFC 8446
//!   §4.1.3);
//! - it also offers the TLS 1.2 ECDHE suites (with supported_groups and ec_point_formats)
//!   of the rustls path, ahead of the static-RSA ones, so the server makes the choice a
//!   single hello with every suite would get. If it picks an ECDHE suite, which this
//!   engine cannot run, the first failure was not genuine and the connection is refused
//!   with [`LegacyError::EcdheAvailable`]; the handshake goes on only when the server
//!   itself picks a static-RSA suite.
//!
//! What remains is a server that prefers static RSA over ECDHE (or has no ECDHE at all):
//! there the forced fallback gives the attacker the session the server would choose anyway.
//!
//! What it does: TLS 1.2 (1.1, 1.0 when enabled) with RSA key exchange; SNI for DNS
//! names; extended master secret (RFC 7627) offered and used when the server agrees;
//! renegotiation_info offered empty, required from the server when a client certificate
//! is configured, and renegotiation refused (a HelloRequest gets a no_renegotiation
//! warning); handshake messages split across records or packed
//! several to one (up to 64 KiB each); records up to 16 KiB; client certificates (RSA and ECDSA); TLS 1.0
//! application data split 1/n-1 against BEAST. No session resumption.
//!
//! The layers, one file each (private): `record` framing and `cipher` CBC protection,
//! `messages` and `codec`, the `prf`, the `suites`, and the `handshake` states.

mod cipher;
mod codec;
mod error;
mod handshake;
mod messages;
mod prf;
mod record;
mod suites;

use alloc::string::String;
use alloc::vec::Vec;

use rustls::pki_types::ServerName;
use rustls::{AlertDescription, HandshakeKind, ProtocolVersion, SupportedCipherSuite};

pub use self::error::LegacyError;
use self::handshake::{Chosen, Event, Io, Params, State, TLS10};
use self::messages::{Joiner, Message, typ};
use self::record::{ContentType, RecordLayer};
use crate::app_buffers::AppBuffers;
use crate::client::{Negotiated, PeerState};
use crate::config::{Config, TlsVersion};
use crate::error::Error;
use crate::verifier::failure_alert;

const WARNING: u8 = 1;
const FATAL: u8 = 2;

/// One TLS connection by the legacy engine.
pub struct LegacyClient {
    /// `None` only after a failure.
    state: Option<State>,
    records: RecordLayer,
    joiner: Joiner,
    /// Received bytes not yet forming a whole record.
    incoming: Vec<u8>,
    /// TLS bytes for the platform to send.
    outgoing: Vec<u8>,
    /// What the handshake agreed, once it has finished.
    done: Option<Chosen>,
    client_cert_requested: bool,
    client_cert_configured: bool,
    /// Unsent and received application data, closing, and the failure.
    app: AppBuffers,
}

impl core::fmt::Debug for LegacyClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LegacyClient")
            .field("handshaking", &self.is_handshaking())
            .field("negotiated", &self.negotiated())
            .field("peer", &self.app.peer)
            .field("close_sent", &self.app.close_sent)
            .field("error", &self.app.error)
            .finish()
    }
}

impl LegacyClient {
    /// Starts a connection to `server_name` (a DNS name, sent as SNI, or an IP address,
    /// which is not). The ClientHello is ready in [`take_outgoing`](Self::take_outgoing).
    ///
    /// Fails with [`Error::VersionBelowMinimum`] when the configuration requires TLS 1.3,
    /// which this engine does not speak.
    pub fn new(config: &Config, server_name: &str) -> Result<Self, Error> {
        if config.min_version == TlsVersion::Tls13 {
            return Err(Error::VersionBelowMinimum { min: TlsVersion::Tls13 });
        }
        let name = ServerName::try_from(String::from(server_name))
            .map_err(|_| Error::InvalidServerName(server_name.into()))?;
        let params = Params {
            trust: config.trust.clone(),
            name,
            now: config.clock.unix_time(),
            rng: config.rng,
            legacy_min: config.legacy_min,
            client_cert: config.client_cert.clone(),
            client_key: config.client_key.clone(),
            ecdhe_suites: config
                .provider
                .cipher_suites
                .iter()
                .filter(|s| matches!(s, SupportedCipherSuite::Tls12(_)))
                .map(|s| u16::from(s.suite()))
                .collect(),
            ecdhe_groups: config.provider.kx_groups.iter().map(|g| u16::from(g.name())).collect(),
        };
        let mut records = RecordLayer::new(config.rng);
        let mut outgoing = Vec::new();
        let state = State::start(params, &mut Io { records: &mut records, out: &mut outgoing })?;
        Ok(Self {
            state: Some(state),
            records,
            joiner: Joiner::default(),
            incoming: Vec::new(),
            outgoing,
            done: None,
            client_cert_requested: false,
            client_cert_configured: config.client_cert.is_some(),
            app: AppBuffers::new(),
        })
    }

    /// Moves the TLS bytes waiting to be sent to the end of `out`; returns how many.
    pub fn take_outgoing(&mut self, out: &mut Vec<u8>) -> usize {
        let n = self.outgoing.len();
        out.append(&mut self.outgoing);
        n
    }

    /// Whether TLS bytes are waiting to be sent.
    pub fn wants_write(&self) -> bool {
        !self.outgoing.is_empty()
    }

    /// Takes bytes received from the server (all of them; partial records are kept).
    /// Fails when the connection failed, now or before. After the server's close_notify,
    /// whatever it sends is dropped unread.
    pub fn feed_incoming(&mut self, data: &[u8]) -> Result<(), Error> {
        self.app.check()?;
        if self.app.peer == PeerState::Open {
            self.incoming.extend_from_slice(data);
        }
        self.run()
    }

    /// Whether received bytes are held that do not yet make a whole record, or a whole
    /// handshake message (a partial record, or part of a message split across records).
    /// Between two HTTP exchanges on a kept connection this must be false: leftover bytes
    /// would become the start of the next response.
    pub fn has_buffered_input(&self) -> bool {
        !self.incoming.is_empty() || !self.joiner.is_empty()
    }

    /// Notes that the server closed TCP. Without a close_notify before it, the data is
    /// [`PeerState::Truncated`]; during the handshake, the connection has failed.
    pub fn feed_eof(&mut self) {
        self.app.feed_eof(self.done.is_none());
    }

    /// Whether the handshake is still going on (and has not failed).
    pub fn is_handshaking(&self) -> bool {
        self.done.is_none() && self.app.error.is_none()
    }

    /// Queues application data; it is encrypted as soon as the handshake allows.
    pub fn write_app(&mut self, data: &[u8]) -> Result<(), Error> {
        self.app.write(data)?;
        self.run()
    }

    /// Moves the decrypted data received so far to the end of `out`; returns how many
    /// bytes. `Ok(0)` means nothing new: see [`peer_state`](Self::peer_state) for whether
    /// more can come. After a truncation, once the data is read, reports
    /// [`Error::Truncated`].
    pub fn read_app(&mut self, out: &mut Vec<u8>) -> Result<usize, Error> {
        self.app.read(out)
    }

    /// Hands the decrypted data received so far to `f` (one call, without copying it into
    /// a buffer of the caller's first) and returns what `f` returned. `Ok(None)` means
    /// nothing new; errors as for [`read_app`](Self::read_app).
    pub fn read_app_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, Error> {
        self.app.read_with(f)
    }

    /// Sends close_notify (after the handshake, if it is still going on). Data written
    /// before is sent first; nothing can be written after.
    pub fn close(&mut self) -> Result<(), Error> {
        self.app.request_close()?;
        self.run()
    }

    /// What the server did to its side of the connection.
    pub fn peer_state(&self) -> PeerState {
        self.app.peer
    }

    /// Whether both sides have sent close_notify.
    pub fn is_closed(&self) -> bool {
        self.app.is_closed()
    }

    /// The failure that ended the connection, if any.
    pub fn error(&self) -> Option<&Error> {
        self.app.error.as_ref()
    }

    /// The version and suite agreed on, once the handshake has finished (`group` is
    /// always `None`: RSA key exchange has none; `kind` always full).
    pub fn negotiated(&self) -> Option<Negotiated> {
        let chosen = self.done?;
        Some(Negotiated {
            version: ProtocolVersion::from(chosen.version),
            suite: chosen.suite.name(),
            group: None,
            kind: HandshakeKind::Full,
        })
    }

    /// Whether the extended master secret (RFC 7627) is in use, once the handshake has
    /// finished. Without it, the session is open to triple-handshake attacks; the engine
    /// always offers it.
    pub fn extended_master_secret(&self) -> Option<bool> {
        self.done.map(|c| c.ems)
    }

    /// Processes what has arrived and sends what can be sent; a failure is recorded, an
    /// alert queued for the server, and the error returned.
    fn run(&mut self) -> Result<(), Error> {
        self.app.check()?;
        match self.process().and_then(|()| self.flush()) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.fail(e.clone());
                Err(e)
            }
        }
    }

    fn fail(&mut self, e: Error) {
        let alert = match &e {
            Error::Legacy(l) => Some(l.alert()),
            Error::Certificate(f) => Some(failure_alert(f)),
            Error::LegacyProtocolOnly => Some(AlertDescription::ProtocolVersion),
            _ => None,
        };
        if let Some(alert) = alert {
            let _ = self.records.write(ContentType::Alert, &[FATAL, u8::from(alert)], &mut self.outgoing);
        }
        self.state = None;
        self.app.error = Some(e);
    }

    /// Handles every whole record received. Once the server has sent close_notify, what
    /// follows is dropped.
    fn process(&mut self) -> Result<(), Error> {
        if self.app.peer != PeerState::Open {
            self.incoming = Vec::new();
        }
        while self.app.peer == PeerState::Open {
            let Some(record) = self.records.next_record(&mut self.incoming).map_err(Error::Legacy)? else {
                break;
            };
            match record.typ {
                ContentType::Alert => self.alert(&record.payload)?,
                ContentType::ChangeCipherSpec => {
                    if record.payload != [1] {
                        return Err(Error::Legacy(LegacyError::Decode { what: "ChangeCipherSpec" }));
                    }
                    if !self.joiner.is_empty() {
                        return Err(Error::Legacy(LegacyError::SplitChangeCipherSpec));
                    }
                    self.step(Event::ChangeCipherSpec)?;
                }
                ContentType::Handshake => {
                    self.joiner.push(&record.payload);
                    while let Some(m) = self.joiner.next_message().map_err(Error::Legacy)? {
                        self.message(&m)?;
                    }
                }
                ContentType::ApplicationData => {
                    if self.done.is_none() {
                        let expected = self.state.as_ref().map_or("nothing", State::expecting);
                        return Err(Error::Legacy(LegacyError::UnexpectedMessage {
                            expected,
                            got: "application data",
                        }));
                    }
                    self.app.received.extend_from_slice(&record.payload);
                }
            }
        }
        if self.app.peer != PeerState::Open {
            self.incoming = Vec::new();
        }
        Ok(())
    }

    fn alert(&mut self, payload: &[u8]) -> Result<(), Error> {
        let &[level, description] = payload else {
            return Err(Error::Legacy(LegacyError::Decode { what: "alert" }));
        };
        let alert = AlertDescription::from(description);
        if alert == AlertDescription::CloseNotify {
            if self.done.is_none() {
                return Err(Error::ClosedDuringHandshake);
            }
            self.app.peer = PeerState::ClosedCleanly;
            return Ok(());
        }
        if level == WARNING {
            // no_renegotiation, user_canceled ...: nothing to do.
            return Ok(());
        }
        Err(Error::AlertReceived {
            alert,
            client_cert_requested: self.client_cert_requested,
            client_cert_configured: self.client_cert_configured,
        })
    }

    fn message(&mut self, m: &Message) -> Result<(), Error> {
        if m.typ == typ::HELLO_REQUEST {
            if !m.body().is_empty() {
                return Err(Error::Legacy(LegacyError::Decode { what: "HelloRequest" }));
            }
            // Ignored during a handshake (RFC 5246 §7.4.1.1); refused after one.
            if self.done.is_some() {
                let no_renegotiation = u8::from(AlertDescription::NoRenegotiation);
                self.records
                    .write(ContentType::Alert, &[WARNING, no_renegotiation], &mut self.outgoing)
                    .map_err(Error::Legacy)?;
            }
            return Ok(());
        }
        if m.typ == typ::CERTIFICATE_REQUEST {
            self.client_cert_requested = true;
        }
        self.step(Event::Message(m))
    }

    fn step(&mut self, event: Event<'_>) -> Result<(), Error> {
        let Some(state) = self.state.take() else {
            return Err(Error::Legacy(LegacyError::UnexpectedMessage {
                expected: "nothing",
                got: "a message",
            }));
        };
        let state = state.handle(event, &mut Io { records: &mut self.records, out: &mut self.outgoing })?;
        if let State::Done(chosen) = &state {
            self.done = Some(*chosen);
        }
        self.state = Some(state);
        Ok(())
    }

    /// Once the handshake is done: sends queued data, then close_notify if asked.
    fn flush(&mut self) -> Result<(), Error> {
        let Some(chosen) = self.done else { return Ok(()) };
        if !self.app.unsent.is_empty() {
            let data = core::mem::take(&mut self.app.unsent);
            let app = ContentType::ApplicationData;
            // TLS 1.0 chains IVs across records: a one-byte record first randomises the IV
            // of the rest (the 1/n-1 split against BEAST).
            let split = if chosen.version == TLS10 && data.len() > 1 { 1 } else { 0 };
            if split > 0 {
                self.records.write(app, &data[..split], &mut self.outgoing).map_err(Error::Legacy)?;
            }
            self.records.write(app, &data[split..], &mut self.outgoing).map_err(Error::Legacy)?;
        }
        if self.app.close_requested && !self.app.close_sent {
            let close_notify = u8::from(AlertDescription::CloseNotify);
            self.records
                .write(ContentType::Alert, &[WARNING, close_notify], &mut self.outgoing)
                .map_err(Error::Legacy)?;
            self.app.close_sent = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use alloc::sync::Arc;
    use alloc::vec;

    use super::*;
    use crate::{Fingerprint, FixedTime, RandomSource, RngError};

    #[derive(Debug)]
    struct Counter;
    impl RandomSource for Counter {
        fn fill(&self, buf: &mut [u8]) -> Result<(), RngError> {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = i as u8;
            }
            Ok(())
        }
    }
    static RNG: Counter = Counter;

    fn client() -> LegacyClient {
        let config = Config::new(&[Fingerprint([1; 32])], &RNG, Arc::new(FixedTime(1_700_000_000)));
        let mut c = LegacyClient::new(&config, "boot.example").unwrap();
        let mut hello = Vec::new();
        c.take_outgoing(&mut hello);
        assert_eq!(&hello[..3], &[22, 3, 1], "a handshake record, TLS 1.0 header version");
        c
    }

    fn record(typ: u8, payload: &[u8]) -> Vec<u8> {
        let mut r = vec![typ, 3, 3, 0, payload.len() as u8];
        r.extend_from_slice(payload);
        r
    }

    #[test]
    fn hello_request_during_the_handshake_is_ignored() {
        let mut c = client();
        c.feed_incoming(&record(22, &[0, 0, 0, 0])).unwrap();
        assert!(c.is_handshaking() && !c.wants_write());
        let e = c.feed_incoming(&record(22, &[0, 0, 0, 1, 9])).unwrap_err();
        assert!(matches!(e, Error::Legacy(LegacyError::Decode { what: "HelloRequest" })), "{e:?}");
    }

    #[test]
    fn out_of_order_input_fails_with_an_alert() {
        for (input, want) in [
            (record(20, &[1]), "ChangeCipherSpec where ServerHello"),
            (record(23, b"early"), "application data where ServerHello"),
            (record(22, &[20, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), "Finished where ServerHello"),
            (record(21, &[2]), "alert is malformed"),
        ] {
            let mut c = client();
            let e = c.feed_incoming(&input).unwrap_err();
            assert!(alloc::format!("{e}").contains(want), "{e}");
            let mut alert = Vec::new();
            c.take_outgoing(&mut alert);
            assert_eq!(&alert[..1], &[21], "a fatal alert is queued for {want}");
            assert!(c.feed_incoming(&[]).is_err(), "and the failure is final");
        }
    }

    #[test]
    fn fatal_alert_and_close_during_handshake() {
        let mut c = client();
        let e = c.feed_incoming(&record(21, &[2, 40])).unwrap_err();
        assert!(matches!(e, Error::AlertReceived { alert: AlertDescription::HandshakeFailure, .. }), "{e:?}");
        let mut c = client();
        assert!(matches!(c.feed_incoming(&record(21, &[1, 0])), Err(Error::ClosedDuringHandshake)));
        let mut c = client();
        c.feed_eof();
        assert!(matches!(c.error(), Some(Error::ClosedDuringHandshake)));
    }

    #[test]
    fn server_hello_checks() {
        let hello = |version: [u8; 2], suite: [u8; 2], exts: &[u8]| {
            let mut body = version.to_vec();
            body.extend_from_slice(&[7; 32]);
            body.extend_from_slice(&[0, suite[0], suite[1], 0]);
            body.extend_from_slice(&[0, exts.len() as u8]);
            body.extend_from_slice(exts);
            let mut m = vec![2, 0, 0, body.len() as u8];
            m.extend_from_slice(&body);
            record(22, &m)
        };
        let fails = |input: Vec<u8>| client().feed_incoming(&input).unwrap_err();
        assert!(matches!(fails(hello([3, 1], [0, 0x2f], &[])), Error::LegacyProtocolOnly));
        assert!(matches!(
            fails(hello([3, 4], [0, 0x2f], &[])),
            Error::Legacy(LegacyError::VersionNotOffered(0x0304))
        ));
        assert!(matches!(
            fails(hello([3, 3], [0, 0x9c], &[])),
            Error::Legacy(LegacyError::SuiteNotOffered(0x9c))
        ));
        // An ECDHE suite of the rustls path, offered in the fallback hello: refused as a
        // sign that the first connection's failure was forged.
        for suite in [[0xc0, 0x2f], [0xc0, 0x2b], [0xcc, 0xa8]] {
            let e = fails(hello([3, 3], suite, &[0xff, 1, 0, 1, 0]));
            let want = u16::from_be_bytes(suite);
            assert!(
                matches!(e, Error::Legacy(LegacyError::EcdheAvailable { suite }) if suite == want),
                "{e:?}"
            );
            assert!(alloc::format!("{e}").contains("not genuine"), "{e}");
        }
        assert!(matches!(
            fails(hello([3, 3], [0, 0x2f], &[0, 0x23, 0, 0])),
            Error::Legacy(LegacyError::ExtensionNotOffered(0x23))
        ));
        assert!(matches!(
            fails(hello([3, 3], [0, 0x2f], &[0, 0x17, 0, 0, 0, 0x17, 0, 0])),
            Error::Legacy(LegacyError::DuplicateExtension(0x17))
        ));
        assert!(matches!(
            fails(hello([3, 3], [0, 0x2f], &[0xff, 1, 0, 2, 1, 0])),
            Error::Legacy(LegacyError::BadRenegotiationInfo)
        ));
        // Accepted: the handshake goes on to the Certificate.
        let mut c = client();
        c.feed_incoming(&hello([3, 3], [0, 0x3d], &[0, 0x17, 0, 0, 0xff, 1, 0, 1, 0])).unwrap();
        assert!(c.is_handshaking());
    }

    #[test]
    fn hello_offers_the_ecdhe_suites_and_groups_first() {
        let config = Config::new(&[Fingerprint([1; 32])], &RNG, Arc::new(FixedTime(1_700_000_000)));
        let mut c = LegacyClient::new(&config, "boot.example").unwrap();
        let mut hello = Vec::new();
        c.take_outgoing(&mut hello);
        let find = |needle: &[u8]| hello.windows(needle.len()).position(|w| w == needle);
        // The six ECDHE suites of the rustls path, then the four static-RSA ones, then SCSV.
        let suites = [
            0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0x00, 0x3c, 0x00, 0x3d,
            0x00, 0x2f, 0x00, 0x35, 0x56, 0x00,
        ];
        assert!(find(&suites).is_some(), "{hello:02x?}");
        assert!(find(&[0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]).is_some());
        assert!(find(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]).is_some());
    }

    #[test]
    fn partial_records_and_messages_are_buffered_input() {
        let mut c = client();
        c.done = Some(Chosen::for_test());
        assert!(!c.has_buffered_input());
        // An application data record in two pieces: held until whole.
        c.feed_incoming(&[23, 3, 3, 0, 5, 1, 2]).unwrap();
        assert!(c.has_buffered_input());
        let mut got = Vec::new();
        assert_eq!(c.read_app(&mut got).unwrap(), 0);
        c.feed_incoming(&[3, 4, 5]).unwrap();
        assert!(!c.has_buffered_input());
        assert_eq!(c.read_app(&mut got).unwrap(), 5);
        assert_eq!(got, [1, 2, 3, 4, 5]);
        // Just a header's worth.
        c.feed_incoming(&[23, 3]).unwrap();
        assert!(c.has_buffered_input());
        c.feed_incoming(&[3, 0, 1, 9]).unwrap();
        assert!(!c.has_buffered_input());
        // A whole record holding part of a handshake message: held by the joiner.
        let mut c = client();
        c.feed_incoming(&record(22, &[0, 0, 0])).unwrap();
        assert!(c.has_buffered_input());
        c.feed_incoming(&record(22, &[0])).unwrap();
        assert!(!c.has_buffered_input(), "the HelloRequest is whole, and ignored");
        assert!(c.is_handshaking());
    }

    #[test]
    fn data_after_close_notify_is_not_buffered() {
        let mut c = client();
        c.done = Some(Chosen::for_test());
        let mut input = record(21, &[1, 0]);
        input.extend_from_slice(&[23, 3, 3, 0, 9, 1]);
        c.feed_incoming(&input).unwrap();
        assert_eq!(c.peer_state(), PeerState::ClosedCleanly);
        assert!(c.incoming.is_empty(), "what followed close_notify was dropped");
        c.feed_incoming(&[23, 3, 3, 0, 5, 1, 2]).unwrap();
        c.feed_incoming(&[0; 4096]).unwrap();
        assert!(c.incoming.is_empty());
    }

    #[test]
    fn downgrade_sentinel_aborts() {
        let mut body = vec![3, 3];
        let mut random = [7u8; 32];
        random[24..].copy_from_slice(b"DOWNGRD\x01");
        body.extend_from_slice(&random);
        body.extend_from_slice(&[0, 0, 0x2f, 0]);
        let mut m = vec![2, 0, 0, body.len() as u8];
        m.extend_from_slice(&body);
        let e = client().feed_incoming(&record(22, &m)).unwrap_err();
        assert!(matches!(e, Error::Legacy(LegacyError::Downgrade)), "{e:?}");
    }
}
