//! The application-data and closing bookkeeping shared by [`Client`](crate::Client) and
//! [`LegacyClient`](crate::LegacyClient): what was written but not yet sent, what was
//! received but not yet read, how the peer closed, whether close_notify was asked for and
//! sent, and the failure that ended the connection. Each client embeds one and delegates
//! its public methods here; the record-level work stays in the client.

use alloc::vec::Vec;

use crate::client::PeerState;
use crate::error::Error;

/// The per-connection state both clients keep around their protocol engine.
#[derive(Debug)]
pub(crate) struct AppBuffers {
    /// Application data written before the handshake allowed sending it.
    pub(crate) unsent: Vec<u8>,
    /// Decrypted application data not yet read.
    pub(crate) received: Vec<u8>,
    pub(crate) close_requested: bool,
    pub(crate) close_sent: bool,
    pub(crate) peer: PeerState,
    pub(crate) error: Option<Error>,
}

impl AppBuffers {
    pub(crate) fn new() -> Self {
        Self {
            unsent: Vec::new(),
            received: Vec::new(),
            close_requested: false,
            close_sent: false,
            peer: PeerState::Open,
            error: None,
        }
    }

    /// The recorded failure, if any, as an `Err`.
    pub(crate) fn check(&self) -> Result<(), Error> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Records `e` as the failure that ended the connection and hands it back.
    pub(crate) fn fail(&mut self, e: Error) -> Error {
        self.error = Some(e.clone());
        e
    }

    /// The server closed TCP: during the handshake the connection has failed; after it,
    /// without close_notify, the data is truncated.
    pub(crate) fn feed_eof(&mut self, handshaking: bool) {
        if self.error.is_some() {
            return;
        }
        if handshaking {
            self.error = Some(Error::ClosedDuringHandshake);
        } else if self.peer == PeerState::Open {
            self.peer = PeerState::Truncated;
        }
    }

    /// Queues `data` for sending (the caller then drives its engine).
    pub(crate) fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        self.check()?;
        if self.close_requested {
            return Err(Error::WriteAfterClose);
        }
        self.unsent.extend_from_slice(data);
        Ok(())
    }

    /// Moves the received data to the end of `out`; see `Client::read_app`.
    pub(crate) fn read(&mut self, out: &mut Vec<u8>) -> Result<usize, Error> {
        let n = self.received.len();
        if n > 0 {
            out.append(&mut self.received);
            return Ok(n);
        }
        self.check()?;
        if self.peer == PeerState::Truncated {
            return Err(Error::Truncated);
        }
        Ok(0)
    }

    /// Asks for close_notify (the caller then drives its engine).
    pub(crate) fn request_close(&mut self) -> Result<(), Error> {
        self.check()?;
        self.close_requested = true;
        Ok(())
    }

    /// Whether both sides have sent close_notify.
    pub(crate) fn is_closed(&self) -> bool {
        self.close_sent && self.peer == PeerState::ClosedCleanly
    }
}
