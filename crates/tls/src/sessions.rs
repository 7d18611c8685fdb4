//! TLS session resumption: an in-memory, no_std [`ClientSessionStore`] that every
//! connection made from one [`Config`](crate::Config) shares, so the second connection to
//! a server resumes the first one's session (a TLS 1.3 ticket, or a TLS 1.2 session ID or
//! ticket) instead of a full handshake.
//!
//! rustls's own `ClientSessionMemoryCache` needs `std` or a platform mutex; this one
//! keeps a few servers in a `Vec` behind a spin lock (the firmware runs one thread, so
//! it is never contended). What it holds is key material: it lives in memory only and
//! goes with the configuration.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use rustls::NamedGroup;
use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;

/// Servers remembered; the least recently used is forgotten first.
const MAX_SERVERS: usize = 16;
/// TLS 1.3 tickets kept per server (each is used at most once).
const MAX_TICKETS: usize = 4;

#[derive(Debug, Default)]
struct ServerData {
    kx_hint: Option<NamedGroup>,
    tls12: Option<Tls12ClientSessionValue>,
    tls13: VecDeque<Tls13ClientSessionValue>,
}

/// The shared session cache.
#[derive(Debug, Default)]
pub struct SessionCache {
    servers: spin::Mutex<Vec<(ServerName<'static>, ServerData)>>,
}

impl SessionCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on the data for `name`, creating it (and moving it to the most recently
    /// used end) as needed.
    fn edit(&self, name: ServerName<'static>, f: impl FnOnce(&mut ServerData)) {
        let mut servers = self.servers.lock();
        let entry = match servers.iter().position(|(n, _)| *n == name) {
            Some(i) => servers.remove(i),
            None => {
                if servers.len() >= MAX_SERVERS {
                    servers.remove(0);
                }
                (name, ServerData::default())
            }
        };
        servers.push(entry);
        if let Some((_, data)) = servers.last_mut() {
            f(data);
        }
    }

    fn read<R>(&self, name: &ServerName<'_>, f: impl FnOnce(&mut ServerData) -> Option<R>) -> Option<R> {
        let mut servers = self.servers.lock();
        servers.iter_mut().find(|(n, _)| n == name).and_then(|(_, data)| f(data))
    }

    /// How many servers have something remembered.
    pub fn len(&self) -> usize {
        self.servers.lock().len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ClientSessionStore for SessionCache {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.edit(server_name, |d| d.kx_hint = Some(group));
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.read(server_name, |d| d.kx_hint)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.edit(server_name, |d| d.tls12 = Some(value));
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.read(server_name, |d| d.tls12.clone())
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.read(server_name, |d| d.tls12.take());
    }

    fn insert_tls13_ticket(&self, server_name: ServerName<'static>, value: Tls13ClientSessionValue) {
        self.edit(server_name, |d| {
            if d.tls13.len() >= MAX_TICKETS {
                d.tls13.pop_front();
            }
            d.tls13.push_back(value);
        });
    }

    fn take_tls13_ticket(&self, server_name: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        // The newest first; each ticket at most once, as the trait demands.
        self.read(server_name, |d| d.tls13.pop_back())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> ServerName<'static> {
        ServerName::try_from(alloc::string::String::from(s)).unwrap()
    }

    #[test]
    fn hints_per_server_and_least_recently_used_servers_go_first() {
        let cache = SessionCache::new();
        assert!(cache.is_empty());
        cache.set_kx_hint(name("a.example"), NamedGroup::X25519);
        cache.set_kx_hint(name("b.example"), NamedGroup::secp256r1);
        assert_eq!(cache.kx_hint(&name("a.example")), Some(NamedGroup::X25519));
        assert_eq!(cache.kx_hint(&name("b.example")), Some(NamedGroup::secp256r1));
        assert_eq!(cache.kx_hint(&name("c.example")), None);
        for i in 0..MAX_SERVERS {
            cache.set_kx_hint(name(&alloc::format!("s{i}.example")), NamedGroup::X25519);
        }
        assert_eq!(cache.len(), MAX_SERVERS);
        assert_eq!(cache.kx_hint(&name("a.example")), None);
        assert!(cache.tls12_session(&name("s0.example")).is_none());
        cache.remove_tls12_session(&name("nowhere.example"));
    }
}
