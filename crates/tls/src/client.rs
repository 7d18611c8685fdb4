//! The sans-IO client: bytes from the network in, bytes for the network and decrypted
//! data out. The platform layer owns the TCP socket and calls in.
//!
//! Internally this runs rustls's unbuffered state machine (`process_tls_records` until
//! it blocks) after every input and every request, so the caller never sees its
//! states: after any call, [`Client::take_outgoing`] has whatever must be sent and
//! [`Client::read_app`] whatever was received.
//!
//! A typical loop: send `take_outgoing`; read from TCP and `feed_incoming`; on TCP EOF
//! `feed_eof`; `write_app`/`read_app` for data; `close` to send close_notify.

use alloc::sync::Arc;
use alloc::vec::Vec;

use rustls::client::{ClientConnectionData, Resumption, UnbufferedClientConnection};
use rustls::pki_types::ServerName;
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncodeTlsData, EncryptError, UnbufferedStatus, WriteTraffic,
};
use rustls::{ClientConfig, PeerIncompatible};

use crate::app_buffers::AppBuffers;
use crate::config::{Config, TlsVersion};
use crate::error::Error;
use crate::verifier::Outcome;

/// What the peer did to its side of the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerState {
    /// Still open.
    Open,
    /// It sent close_notify: everything it sent has arrived.
    ClosedCleanly,
    /// TCP closed without close_notify: an attacker or a crash may have cut the data.
    Truncated,
}

/// What the handshake agreed on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Negotiated {
    /// The protocol version.
    pub version: rustls::ProtocolVersion,
    /// The cipher suite.
    pub suite: rustls::CipherSuite,
    /// The key exchange group.
    pub group: Option<rustls::NamedGroup>,
    /// Full, with a HelloRetryRequest, or resumed.
    pub kind: rustls::HandshakeKind,
}

impl Negotiated {
    /// Whether the handshake resumed an earlier session (no certificate exchange).
    pub fn resumed(&self) -> bool {
        self.kind == rustls::HandshakeKind::Resumed
    }
}

/// "TLS 1.3 TLS13_AES_256_GCM_SHA384 X25519": the IANA names, for logs and consoles.
impl core::fmt::Display for Negotiated {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use rustls::{CipherSuite, ProtocolVersion};
        match self.version {
            ProtocolVersion::TLSv1_3 => f.write_str("TLS 1.3")?,
            ProtocolVersion::TLSv1_2 => f.write_str("TLS 1.2")?,
            ProtocolVersion::TLSv1_1 => f.write_str("TLS 1.1")?,
            ProtocolVersion::TLSv1_0 => f.write_str("TLS 1.0")?,
            other => write!(f, "{other:?}")?,
        }
        // rustls names only the suites it implements; the legacy engine's are named here.
        let legacy = match u16::from(self.suite) {
            0x002F => Some("TLS_RSA_WITH_AES_128_CBC_SHA"),
            0x0035 => Some("TLS_RSA_WITH_AES_256_CBC_SHA"),
            0x003C => Some("TLS_RSA_WITH_AES_128_CBC_SHA256"),
            0x003D => Some("TLS_RSA_WITH_AES_256_CBC_SHA256"),
            _ => None,
        };
        match (legacy, self.suite) {
            (Some(name), _) => write!(f, " {name}")?,
            (None, CipherSuite::Unknown(v)) => write!(f, " suite 0x{v:04x}")?,
            (None, suite) => write!(f, " {suite:?}")?,
        }
        if let Some(group) = self.group {
            let name = match u16::from(group) {
                0x001D => "x25519",
                0x0017 => "P-256",
                0x0018 => "P-384",
                _ => return write!(f, " {group:?}"),
            };
            write!(f, " {name}")?;
        }
        Ok(())
    }
}

/// Where [`Client::feed_incoming_in_place`] hands each record's application data.
pub type Sink<'a> = &'a mut dyn FnMut(&[u8]);

/// One TLS client connection.
pub struct Client {
    conn: UnbufferedClientConnection,
    outcome: Arc<Outcome>,
    client_cert_configured: bool,
    min_version: TlsVersion,
    /// Received TLS bytes not yet consumed by rustls (partial records).
    incoming: Vec<u8>,
    /// TLS bytes for the platform to send.
    outgoing: Vec<u8>,
    handshaking: bool,
    /// Unsent and received application data, closing, and the failure.
    app: AppBuffers,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("handshaking", &self.handshaking)
            .field("peer", &self.app.peer)
            .field("close_sent", &self.app.close_sent)
            .field("error", &self.app.error)
            .finish()
    }
}

/// Writes the pending handshake record into `out`, growing it as needed.
fn encode(e: &mut EncodeTlsData<'_, ClientConnectionData>, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + 1024, 0);
    let written = match e.encode(&mut out[start..]) {
        Ok(n) => n,
        Err(EncodeError::InsufficientSize(s)) => {
            out.resize(start + s.required_size, 0);
            e.encode(&mut out[start..]).unwrap_or(0)
        }
        Err(EncodeError::AlreadyEncoded) => 0,
    };
    out.truncate(start + written);
}

/// Encrypts `data` (which may be empty) as application data records into `out`.
fn encrypt(
    w: &mut WriteTraffic<'_, ClientConnectionData>,
    data: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let start = out.len();
    // Records of up to 16 KiB, each with at most a few dozen bytes of framing and tag.
    out.resize(start + data.len() + 64 * (data.len() / 16384 + 1), 0);
    let written = match w.encrypt(data, &mut out[start..]) {
        Ok(n) => n,
        Err(EncryptError::InsufficientSize(s)) => {
            out.resize(start + s.required_size, 0);
            w.encrypt(data, &mut out[start..])
                .map_err(|e| Error::Protocol(rustls::Error::General(alloc::format!("{e}"))))?
        }
        Err(e) => {
            out.truncate(start);
            return Err(Error::Protocol(rustls::Error::General(alloc::format!("{e}"))));
        }
    };
    out.truncate(start + written);
    Ok(())
}

fn close_notify(w: &mut WriteTraffic<'_, ClientConnectionData>, out: &mut Vec<u8>) -> Result<(), Error> {
    let start = out.len();
    out.resize(start + 64, 0);
    let written = w
        .queue_close_notify(&mut out[start..])
        .map_err(|e| Error::Protocol(rustls::Error::General(alloc::format!("{e}"))))?;
    out.truncate(start + written);
    Ok(())
}

impl Client {
    /// Starts a connection to `server_name` (a DNS name, sent as SNI, or an IP address,
    /// which is not). The ClientHello is ready in [`take_outgoing`](Self::take_outgoing).
    pub fn new(config: &Config, server_name: &str) -> Result<Self, Error> {
        let name = ServerName::try_from(alloc::string::String::from(server_name))
            .map_err(|_| Error::InvalidServerName(server_name.into()))?;

        let versions: &[&'static rustls::SupportedProtocolVersion] = match config.min_version {
            TlsVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
            TlsVersion::Tls13 => &[&rustls::version::TLS13],
        };
        let (verifier, resolver, outcome) = config.handshake();
        let mut rustls_config =
            ClientConfig::builder_with_details(config.provider.clone(), config.time.clone())
                .with_protocol_versions(versions)
                .map_err(Error::Protocol)?
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_client_cert_resolver(resolver);
        // Later connections to a server resume the session of an earlier one (a TLS 1.3
        // ticket, a TLS 1.2 session ID or ticket): no certificate chain sent and checked again.
        rustls_config.resumption = Resumption::store(config.sessions.clone());
        let conn = UnbufferedClientConnection::new(Arc::new(rustls_config), name).map_err(Error::Protocol)?;
        let mut client = Self {
            conn,
            outcome,
            client_cert_configured: config.client_cert.is_some(),
            min_version: config.min_version,
            incoming: Vec::new(),
            outgoing: Vec::new(),
            handshaking: true,
            app: AppBuffers::new(),
        };
        client.drive(None)?;
        Ok(client)
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
        if self.app.peer == PeerState::ClosedCleanly {
            // Nothing after close_notify counts: do not let the peer grow the buffer.
            self.incoming = Vec::new();
            return Ok(());
        }
        self.incoming.extend_from_slice(data);
        self.drive(None)
    }

    /// As [`feed_incoming`](Self::feed_incoming), without copying the data first: whole
    /// records are decrypted where they lie in `data` (the platform's receive buffer,
    /// which this overwrites) and each record's application data goes to `sink` as soon
    /// as it is opened, instead of to the buffer [`read_app`](Self::read_app) reads. Only
    /// bytes that do not make a whole record are copied, and the next call first takes
    /// from its `data` just what completes that record. Data received earlier and not yet
    /// read is kept for `read_app` (the sink never sees data out of order).
    pub fn feed_incoming_in_place(&mut self, data: &mut [u8], sink: Sink<'_>) -> Result<(), Error> {
        self.app.check()?;
        if self.app.peer == PeerState::ClosedCleanly {
            self.incoming = Vec::new();
            return Ok(());
        }
        let mut data = data;
        // Complete the record held from the last call, header first.
        while !self.incoming.is_empty() && !data.is_empty() {
            let want = match self.incoming.get(3..5) {
                None => 5 - self.incoming.len(),
                Some(len) => (5 + usize::from(u16::from_be_bytes([len[0], len[1]])))
                    .saturating_sub(self.incoming.len()),
            };
            if want == 0 {
                // A whole record is held that rustls did not take yet: queue everything.
                self.incoming.extend_from_slice(data);
                return self.drive(Some(sink));
            }
            let (head, rest) = data.split_at_mut(want.min(data.len()));
            self.incoming.extend_from_slice(head);
            data = rest;
            self.drive(Some(sink))?;
        }
        if data.is_empty() {
            return Ok(());
        }
        let mut consumed = 0;
        let result = self.drive_from(data, &mut consumed, Some(sink));
        self.incoming.extend_from_slice(&data[consumed..]);
        result
    }

    /// Whether received bytes are held that do not yet make a whole record (a partial
    /// record waiting for its rest). Between two HTTP exchanges on a kept connection this
    /// must be false: leftover bytes would become the start of the next response.
    pub fn has_buffered_input(&self) -> bool {
        !self.incoming.is_empty()
    }

    /// Notes that the server closed TCP. Without a close_notify before it, the data is
    /// [`PeerState::Truncated`]; during the handshake, the connection has failed.
    pub fn feed_eof(&mut self) {
        self.app.feed_eof(self.handshaking);
    }

    /// Whether the handshake is still going on (and has not failed).
    pub fn is_handshaking(&self) -> bool {
        self.handshaking && self.app.error.is_none()
    }

    /// Queues application data; it is encrypted as soon as the handshake allows.
    pub fn write_app(&mut self, data: &[u8]) -> Result<(), Error> {
        self.app.write(data)?;
        self.drive(None)
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
        self.drive(None)
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

    /// The version, suite and group agreed on, once the handshake has finished.
    pub fn negotiated(&self) -> Option<Negotiated> {
        if self.handshaking {
            return None;
        }
        Some(Negotiated {
            version: self.conn.protocol_version()?,
            suite: self.conn.negotiated_cipher_suite()?.suite(),
            group: self.conn.negotiated_key_exchange_group().map(|g| g.name()),
            kind: self.conn.handshake_kind()?,
        })
    }

    fn translate(&self, e: rustls::Error) -> Error {
        if let Some(failure) = self.outcome.failure.get() {
            return Error::Certificate(failure.clone());
        }
        match e {
            // We offered TLS 1.2 and 1.3 (or 1.3 alone): a server refusing the version
            // speaks only older ones.
            rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion) if self.handshaking => {
                match self.min_version {
                    TlsVersion::Tls12 => Error::LegacyProtocolOnly,
                    min => Error::VersionBelowMinimum { min },
                }
            }
            rustls::Error::AlertReceived(alert) => Error::AlertReceived {
                alert,
                client_cert_requested: self.outcome.client_cert_requested(),
                client_cert_configured: self.client_cert_configured,
            },
            rustls::Error::PeerIncompatible(PeerIncompatible::ServerDoesNotSupportTls12Or13) => {
                Error::LegacyProtocolOnly
            }
            rustls::Error::PeerIncompatible(PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig) => {
                Error::VersionBelowMinimum { min: self.min_version }
            }
            other => Error::Protocol(other),
        }
    }

    /// Runs the rustls state machine until it needs more input, then drops the input it
    /// consumed.
    fn drive(&mut self, sink: Option<Sink<'_>>) -> Result<(), Error> {
        self.app.check()?;
        // rustls takes one record per round: the consumed bytes are dropped once at the
        // end, not after each record (with a large TCP window, shifting the rest of the
        // buffer down after every record would copy it over and over).
        let mut incoming = core::mem::take(&mut self.incoming);
        let mut consumed = 0;
        let result = self.drive_from(&mut incoming, &mut consumed, sink);
        incoming.drain(..consumed);
        self.incoming = incoming;
        result
    }

    /// Runs rustls over the records in `incoming` from `consumed` on, advancing
    /// `consumed`. Application data goes to `sink` when there is one and nothing read
    /// earlier is waiting, else to the buffer `read_app` reads.
    fn drive_from(
        &mut self,
        incoming: &mut [u8],
        consumed: &mut usize,
        mut sink: Option<Sink<'_>>,
    ) -> Result<(), Error> {
        loop {
            let UnbufferedStatus { mut discard, state } =
                self.conn.process_tls_records(&mut incoming[*consumed..]);
            let mut done = false;
            let mut failure = None;
            match state {
                Err(e) => failure = Some(e),
                Ok(ConnectionState::ReadTraffic(mut r)) => {
                    while let Some(record) = r.next_record() {
                        match record {
                            Ok(record) => {
                                discard += record.discard;
                                match sink.as_mut() {
                                    Some(sink) if self.app.received.is_empty() => sink(record.payload),
                                    _ => self.app.received.extend_from_slice(record.payload),
                                }
                            }
                            Err(e) => {
                                failure = Some(e);
                                break;
                            }
                        }
                    }
                }
                Ok(ConnectionState::EncodeTlsData(mut e)) => encode(&mut e, &mut self.outgoing),
                Ok(ConnectionState::TransmitTlsData(mut t)) => {
                    // Bytes are handed over through take_outgoing, so they count as sent now.
                    if let Some(mut w) = t.may_encrypt_app_data()
                        && !self.app.unsent.is_empty()
                    {
                        let data = core::mem::take(&mut self.app.unsent);
                        if let Err(e) = encrypt(&mut w, &data, &mut self.outgoing) {
                            return Err(self.app.fail(e));
                        }
                    }
                    t.done();
                }
                Ok(ConnectionState::WriteTraffic(mut w)) => {
                    self.handshaking = false;
                    let mut result = Ok(());
                    if !self.app.unsent.is_empty() {
                        let data = core::mem::take(&mut self.app.unsent);
                        result = encrypt(&mut w, &data, &mut self.outgoing);
                    }
                    if result.is_ok() && self.app.close_requested && !self.app.close_sent {
                        result = close_notify(&mut w, &mut self.outgoing);
                        self.app.close_sent = true;
                    }
                    if let Err(e) = result {
                        return Err(self.app.fail(e));
                    }
                    done = true;
                }
                Ok(ConnectionState::PeerClosed) => {
                    self.handshaking = false;
                    self.app.peer = PeerState::ClosedCleanly;
                }
                Ok(ConnectionState::Closed) => {
                    self.app.peer = PeerState::ClosedCleanly;
                    done = true;
                }
                Ok(ConnectionState::BlockedHandshake) => done = true,
                Ok(_) => done = true,
            }
            *consumed += discard;
            if let Some(e) = failure {
                let e = self.translate(e);
                // rustls may have queued an alert for the server; it is in `outgoing`.
                return Err(self.app.fail(e));
            }
            if done {
                return Ok(());
            }
        }
    }
}
