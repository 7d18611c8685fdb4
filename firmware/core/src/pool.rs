//! Idle connections kept for the next download from the same origin (scheme, host, port):
//! after a complete response on a connection the server lets stay open, the TCP
//! connection, and the TLS session on it, carry the next request instead of a new
//! handshake.

use alloc::string::String;
use alloc::vec::Vec;

use bootsign_http::{Scheme, Url};

use crate::conn::Conn;
use crate::net::Net;

/// At most this many idle connections are kept; the oldest goes first.
const MAX_IDLE: usize = 4;

/// Where a connection goes: what must match for it to be reused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    https: bool,
    host: String,
    port: u16,
    /// The interface the connection runs on.
    net: usize,
}

impl Origin {
    /// The origin of `url`, reached through interface `net`.
    pub fn of(url: &Url<'_>, net: usize) -> Self {
        Self { https: url.scheme == Scheme::Https, host: url.host.to_ascii_lowercase(), port: url.port, net }
    }
}

/// The idle connections.
#[derive(Default)]
pub struct Pool {
    idle: Vec<(Origin, Conn)>,
}

impl Pool {
    /// An idle connection to `origin` that is still open, if there is one. Connections
    /// the server closed meanwhile are closed and forgotten.
    pub fn take(&mut self, net: &mut Net, origin: &Origin) -> Option<Conn> {
        net.poll();
        while let Some(i) = self.idle.iter().position(|(o, _)| o == origin) {
            let (_, mut conn) = self.idle.remove(i);
            if conn.is_idle_and_open(net) {
                return Some(conn);
            }
            conn.close(net);
        }
        None
    }

    /// Keeps `conn` for the next download from `origin`.
    pub fn put(&mut self, net: &mut Net, origin: Origin, conn: Conn) {
        if self.idle.len() >= MAX_IDLE {
            let (_, oldest) = self.idle.remove(0);
            oldest.close(net);
        }
        self.idle.push((origin, conn));
    }

    /// Closes every idle connection (before a boot, when the network goes to the started
    /// program).
    pub fn close_all(&mut self, nets: &mut [Net]) {
        for (origin, conn) in self.idle.drain(..) {
            if let Some(net) = nets.get_mut(origin.net) {
                conn.close(net);
            }
        }
    }
}
