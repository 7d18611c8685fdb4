//! One type for either engine, and the fallback rule between them.
//!
//! The firmware connects with [`Connection::new`] (the rustls [`Client`]: TLS 1.3 and
//! 1.2 with ECDHE). If that connection fails and [`Connection::retry_after`] says so — the
//! server refused the hello itself (handshake_failure / insufficient_security before any
//! client certificate was asked for, or, in legacy mode, protocol_version /
//! [`Error::LegacyProtocolOnly`]), see [`Error::wants_legacy_retry`] — it opens a **new
//! TCP connection** and drives the [`LegacyClient`] it returns: the static-RSA CBC suites
//! at TLS 1.2, and TLS 1.0/1.1 when enabled. Certificate failures are never retried: both
//! engines check certificates with the same verifier, so the answer would be the same.
//!
//! The failure that triggers the retry is not authenticated (anyone in between can forge
//! an alert), so the legacy hello also offers the TLS 1.2 ECDHE suites of the first one:
//! a server that picks one of them refuses the fallback
//! ([`LegacyError::EcdheAvailable`](crate::LegacyError::EcdheAvailable)), and a
//! TLS 1.3-capable one answers TLS_FALLBACK_SCSV with inappropriate_fallback.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::client::{Client, Negotiated, PeerState, Sink};
use crate::config::Config;
use crate::error::Error;
use crate::legacy::LegacyClient;

/// A TLS client connection by the rustls engine or, as a fallback, the legacy one (each
/// boxed: a connection is made once and moved around, and the two differ in size).
#[derive(Debug)]
pub enum Connection {
    /// rustls: TLS 1.3 and 1.2 ECDHE.
    Modern(Box<Client>),
    /// The legacy engine: static-RSA CBC suites, TLS 1.0/1.1 in legacy mode.
    Legacy(Box<LegacyClient>),
}

macro_rules! either {
    ($self:expr, $c:ident => $e:expr) => {
        match $self {
            Connection::Modern($c) => $e,
            Connection::Legacy($c) => $e,
        }
    };
}

impl Connection {
    /// The first attempt: the rustls client.
    pub fn new(config: &Config, server_name: &str) -> Result<Self, Error> {
        Client::new(config, server_name).map(|c| Self::Modern(Box::new(c)))
    }

    /// After the first attempt failed with `error`: the legacy client to try on a new TCP
    /// connection, or `None` when the fallback rule says a retry cannot help.
    pub fn retry_after(error: &Error, config: &Config, server_name: &str) -> Option<Result<Self, Error>> {
        error
            .wants_legacy_retry(config)
            .then(|| LegacyClient::new(config, server_name).map(|c| Self::Legacy(Box::new(c))))
    }

    /// Whether this is the legacy engine's connection.
    pub fn is_legacy(&self) -> bool {
        matches!(self, Self::Legacy(_))
    }

    /// See [`Client::take_outgoing`].
    pub fn take_outgoing(&mut self, out: &mut Vec<u8>) -> usize {
        either!(self, c => c.take_outgoing(out))
    }

    /// See [`Client::wants_write`].
    pub fn wants_write(&self) -> bool {
        either!(self, c => c.wants_write())
    }

    /// See [`Client::feed_incoming`].
    pub fn feed_incoming(&mut self, data: &[u8]) -> Result<(), Error> {
        either!(self, c => c.feed_incoming(data))
    }

    /// See [`Client::feed_incoming_in_place`]. The legacy engine copies the data in and
    /// hands what it decrypted to `sink` afterwards.
    pub fn feed_incoming_in_place(&mut self, data: &mut [u8], sink: Sink<'_>) -> Result<(), Error> {
        match self {
            Self::Modern(c) => c.feed_incoming_in_place(data, sink),
            Self::Legacy(c) => {
                c.feed_incoming(data)?;
                c.read_app_with(|d| sink(d)).map(|_| ())
            }
        }
    }

    /// See [`Client::has_buffered_input`] and [`LegacyClient::has_buffered_input`].
    pub fn has_buffered_input(&self) -> bool {
        either!(self, c => c.has_buffered_input())
    }

    /// See [`Client::feed_eof`].
    pub fn feed_eof(&mut self) {
        either!(self, c => c.feed_eof())
    }

    /// See [`Client::is_handshaking`].
    pub fn is_handshaking(&self) -> bool {
        either!(self, c => c.is_handshaking())
    }

    /// See [`Client::write_app`].
    pub fn write_app(&mut self, data: &[u8]) -> Result<(), Error> {
        either!(self, c => c.write_app(data))
    }

    /// See [`Client::read_app`].
    pub fn read_app(&mut self, out: &mut Vec<u8>) -> Result<usize, Error> {
        either!(self, c => c.read_app(out))
    }

    /// See [`Client::read_app_with`].
    pub fn read_app_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, Error> {
        either!(self, c => c.read_app_with(f))
    }

    /// See [`Client::close`].
    pub fn close(&mut self) -> Result<(), Error> {
        either!(self, c => c.close())
    }

    /// See [`Client::peer_state`].
    pub fn peer_state(&self) -> PeerState {
        either!(self, c => c.peer_state())
    }

    /// See [`Client::is_closed`].
    pub fn is_closed(&self) -> bool {
        either!(self, c => c.is_closed())
    }

    /// See [`Client::error`].
    pub fn error(&self) -> Option<&Error> {
        either!(self, c => c.error())
    }

    /// See [`Client::negotiated`].
    pub fn negotiated(&self) -> Option<Negotiated> {
        either!(self, c => c.negotiated())
    }
}
