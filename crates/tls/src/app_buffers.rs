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

    /// Hands the received data to `f` without copying it, then forgets it; see
    /// `Client::read_app_with`.
    pub(crate) fn read_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, Error> {
        if !self.received.is_empty() {
            let r = f(&self.received);
            self.received.clear();
            return Ok(Some(r));
        }
        self.check()?;
        if self.peer == PeerState::Truncated {
            return Err(Error::Truncated);
        }
        Ok(None)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_with_hands_out_the_data_once_then_reports_how_the_peer_closed() {
        let mut app = AppBuffers::new();
        assert_eq!(app.read_with(|d| d.len()).unwrap(), None, "nothing yet");
        app.received.extend_from_slice(b"hello ");
        app.received.extend_from_slice(b"world");
        assert_eq!(app.read_with(|d| d.to_vec()).unwrap().as_deref(), Some(&b"hello world"[..]));
        assert_eq!(app.read_with(|d| d.len()).unwrap(), None, "handed out once");
        // Data that arrived before a truncation is still delivered; then the truncation.
        app.received.extend_from_slice(b"tail");
        app.feed_eof(false);
        assert_eq!(app.read_with(|d| d.len()).unwrap(), Some(4));
        assert!(matches!(app.read_with(|d| d.len()), Err(Error::Truncated)));
    }

    #[test]
    fn read_with_reports_a_recorded_failure() {
        let mut app = AppBuffers::new();
        app.fail(Error::ClosedDuringHandshake);
        assert!(matches!(app.read_with(|d| d.len()), Err(Error::ClosedDuringHandshake)));
    }
}
