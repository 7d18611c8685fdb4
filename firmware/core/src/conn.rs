//! A byte stream to a server: a TCP connection, plain or through the sans-IO TLS client.
//! The downloader sees the same interface either way.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use bootsign_tls::{Connection, Error as TlsError, PeerState};
use smoltcp::iface::SocketHandle;

use crate::net::Net;

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT_MS: u64 = 20_000;

enum Link {
    Plain,
    Tls { client: Box<Connection>, out: Vec<u8> },
}

/// What a [`Conn::pump`] produced.
pub enum Pumped {
    /// Application bytes were handed to the sink.
    Data,
    /// Nothing arrived.
    Idle,
    /// The server ended the stream. `clean` is false for a TLS stream cut without
    /// close_notify (a plain TCP close is always clean).
    Closed { clean: bool },
}

/// A connection; the socket is aborted and forgotten on [`Conn::close`].
pub struct Conn {
    handle: SocketHandle,
    link: Link,
    /// For TLS: the version, suite and group negotiated, and the handshake time.
    pub tls_summary: Option<String>,
}

/// A failed TLS handshake: the error and the TLS client's own error value, so the
/// caller can react (fetch a missing issuer, say).
pub struct HandshakeError {
    pub message: String,
    pub tls: Option<TlsError>,
}

impl From<String> for HandshakeError {
    fn from(message: String) -> Self {
        Self { message, tls: None }
    }
}

impl Conn {
    /// A plain TCP connection.
    pub fn plain(handle: SocketHandle) -> Self {
        Self { handle, link: Link::Plain, tls_summary: None }
    }

    /// Runs the TLS handshake of `client` over the connected socket `handle`, for at most
    /// `limit_ms` (or the usual handshake timeout, whichever is shorter).
    pub fn tls(
        net: &mut Net,
        handle: SocketHandle,
        client: Connection,
        limit_ms: Option<u64>,
    ) -> Result<Self, HandshakeError> {
        let mut conn =
            Self { handle, link: Link::Tls { client: Box::new(client), out: Vec::new() }, tls_summary: None };
        let clock = net.clock();
        let started = clock.now_ms();
        let timeout = limit_ms.unwrap_or(HANDSHAKE_TIMEOUT_MS).min(HANDSHAKE_TIMEOUT_MS);
        let deadline = started + timeout;
        loop {
            conn.flush(net)?;
            let Link::Tls { client, .. } = &mut conn.link else { unreachable!() };
            if let Some(e) = client.error() {
                return Err(HandshakeError { message: alloc::format!("{e}"), tls: Some(e.clone()) });
            }
            if !client.is_handshaking() {
                break;
            }
            match conn.receive_tls(net, None) {
                Ok(Pumped::Closed { .. }) => {
                    let Link::Tls { client, .. } = &mut conn.link else { unreachable!() };
                    let e = client.error().cloned().unwrap_or(TlsError::ClosedDuringHandshake);
                    return Err(HandshakeError { message: alloc::format!("{e}"), tls: Some(e) });
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
            if clock.now_ms() > deadline {
                return Err(HandshakeError {
                    message: alloc::format!(
                        "the TLS handshake did not finish within {}.{:03} s",
                        timeout / 1000,
                        timeout % 1000
                    ),
                    tls: None,
                });
            }
        }
        conn.flush(net)?;
        let Link::Tls { client, .. } = &conn.link else { unreachable!() };
        let ms = clock.now_ms() - started;
        conn.tls_summary = Some(match client.negotiated() {
            Some(n) if n.resumed() => {
                alloc::format!("{n}, session resumed, handshake {ms} ms")
            }
            Some(n) => alloc::format!("{n}, handshake {ms} ms"),
            None => alloc::format!("TLS, handshake {ms} ms"),
        });
        Ok(conn)
    }

    /// Moves the TLS client's pending records into the socket, polling until they fit.
    fn flush(&mut self, net: &mut Net) -> Result<(), String> {
        let Link::Tls { client, out, .. } = &mut self.link else { return Ok(()) };
        client.take_outgoing(out);
        if out.is_empty() {
            // Nothing to send (the usual case while downloading): no extra poll of the
            // stack, which would cost a pass over the NIC per received batch.
            return Ok(());
        }
        let mut sent = 0;
        while sent < out.len() {
            let socket = net.tcp(self.handle);
            if !socket.may_send() {
                return Err("the server closed the connection".into());
            }
            if socket.can_send() {
                sent += socket.send_slice(&out[sent..]).map_err(|e| alloc::format!("send failed: {e:?}"))?;
            }
            if sent < out.len() {
                net.poll();
            }
        }
        out.clear();
        net.poll();
        Ok(())
    }

    /// Feeds what the socket holds to the TLS client. With a `sink`, records are
    /// decrypted in the socket's receive buffer and their data goes straight to it (see
    /// `feed_incoming_in_place`); without, the client keeps the data for `read_app`.
    fn receive_tls(
        &mut self,
        net: &mut Net,
        sink: Option<bootsign_tls::Sink<'_>>,
    ) -> Result<Pumped, HandshakeError> {
        net.poll();
        let Link::Tls { client, .. } = &mut self.link else { unreachable!() };
        let socket = net.tcp(self.handle);
        if socket.can_recv() {
            let fed = socket
                .recv(|data| {
                    let fed = match sink {
                        Some(sink) => client.feed_incoming_in_place(data, sink),
                        None => client.feed_incoming(data),
                    };
                    (data.len(), fed)
                })
                .map_err(|e| alloc::format!("receive failed: {e:?}"))?;
            fed.map_err(|e| HandshakeError { message: alloc::format!("{e}"), tls: Some(e) })?;
            Ok(Pumped::Data)
        } else if !socket.may_recv() {
            client.feed_eof();
            Ok(Pumped::Closed { clean: client.peer_state() == PeerState::ClosedCleanly })
        } else {
            Ok(Pumped::Idle)
        }
    }

    /// Sends `data` (the request).
    pub fn send(&mut self, net: &mut Net, data: &[u8]) -> Result<(), String> {
        match &mut self.link {
            Link::Plain => {
                let mut sent = 0;
                while sent < data.len() {
                    net.poll();
                    let socket = net.tcp(self.handle);
                    if !socket.may_send() {
                        return Err("the server closed the connection before the request was sent".into());
                    }
                    if socket.can_send() {
                        sent += socket
                            .send_slice(&data[sent..])
                            .map_err(|e| alloc::format!("send failed: {e:?}"))?;
                    }
                }
                Ok(())
            }
            Link::Tls { client, .. } => {
                client.write_app(data).map_err(|e| alloc::format!("{e}"))?;
                self.flush(net)
            }
        }
    }

    /// Polls the network once and hands whatever application bytes arrived to `sink`,
    /// which consumes all it is given.
    pub fn pump<E>(
        &mut self,
        net: &mut Net,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<Pumped, E>
    where
        E: From<String>,
    {
        match &mut self.link {
            Link::Plain => {
                net.poll();
                let socket = net.tcp(self.handle);
                if socket.can_recv() {
                    socket
                        .recv(|data| (data.len(), sink(data)))
                        .map_err(|e| E::from(alloc::format!("receive failed: {e:?}")))??;
                    Ok(Pumped::Data)
                } else if !socket.may_recv() {
                    Ok(Pumped::Closed { clean: true })
                } else {
                    Ok(Pumped::Idle)
                }
            }
            Link::Tls { .. } => {
                // Records are decrypted in the socket's buffer and their data goes to the
                // sink from there; the sink's first error ends the pump.
                let (mut delivered, mut failed) = (false, None);
                let mut deliver = |data: &[u8]| {
                    delivered = true;
                    if failed.is_none()
                        && let Err(e) = sink(data)
                    {
                        failed = Some(e);
                    }
                };
                let got = self.receive_tls(net, Some(&mut deliver)).map_err(|e| E::from(e.message))?;
                if let Some(e) = failed {
                    return Err(e);
                }
                self.flush(net).map_err(E::from)?;
                let Link::Tls { client, .. } = &mut self.link else { unreachable!() };
                // Data the client kept (received before, or by the legacy engine).
                if let Some(fed) =
                    client.read_app_with(|data| sink(data)).map_err(|e| E::from(alloc::format!("{e}")))?
                {
                    fed?;
                    return Ok(Pumped::Data);
                }
                if delivered {
                    return Ok(Pumped::Data);
                }
                if let Some(e) = client.error() {
                    return Err(E::from(alloc::format!("{e}")));
                }
                Ok(match got {
                    Pumped::Data => Pumped::Idle,
                    other => other,
                })
            }
        }
    }

    /// Whether the connection, idle between downloads, can carry another request: TCP is
    /// established both ways and nothing arrived unasked. For TLS, records that came in
    /// meanwhile are taken first: a late session ticket leaves the connection usable, a
    /// close_notify, an alert or application data does not, and neither does part of a
    /// record (its rest would be read as the start of the next response).
    pub fn is_idle_and_open(&mut self, net: &mut Net) -> bool {
        let socket = net.tcp(self.handle);
        if socket.state() != smoltcp::socket::tcp::State::Established
            || !socket.may_recv()
            || !socket.may_send()
        {
            return false;
        }
        match &mut self.link {
            Link::Plain => !socket.can_recv(),
            Link::Tls { client, .. } => {
                if socket.can_recv()
                    && !matches!(socket.recv(|data| (data.len(), client.feed_incoming(data))), Ok(Ok(())))
                {
                    return false;
                }
                client.error().is_none()
                    && client.peer_state() == PeerState::Open
                    && !client.has_buffered_input()
                    && matches!(client.read_app_with(|_| ()), Ok(None))
            }
        }
    }

    /// Whether the server reset the connection (TCP RST) rather than closing it in order.
    pub fn was_reset(&self, net: &mut Net) -> bool {
        net.tcp(self.handle).state() == smoltcp::socket::tcp::State::Closed
    }

    /// Ends the connection: close_notify for TLS (best effort), then the socket goes.
    pub fn close(mut self, net: &mut Net) {
        if let Link::Tls { client, .. } = &mut self.link
            && client.close().is_ok()
        {
            let _ = self.flush(net);
        }
        net.close(self.handle);
    }
}
