//! ProxyDHCP on the firmware's interfaces (the protocol facts are in `bootsign_dhcp::proxy`).
//!
//! smoltcp's DHCP socket takes only offers with an address, so while DHCP runs a raw
//! socket sees a copy of every UDP packet, and a proxy offer among them is kept if it
//! answers the same DISCOVER (transaction id) as the lease offered to this client. Once
//! the lease is there, the firmware waits for a proxy offer until 2 s after the
//! discovery started, as iPXE does, unless one came, the lease says to ignore proxies, or
//! (an exception of ours, saving 2 s on every ordinary boot) the lease already names
//! a boot file. A proxy offer without a boot file or menu is followed by a request to
//! the proxy's port 4011; its answer, or the offer, becomes the `proxydhcp/...` settings.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use bootsign_dhcp::client::ClientArch;
use bootsign_dhcp::proxy::{self, ProxyOffer};
use smoltcp::socket::{raw, udp};
use smoltcp::wire::{IpProtocol, IpVersion, Ipv4Address, Ipv4Packet, UdpPacket};

use super::Net;

/// The ports DHCP replies come from: a server's or relay's, and a proxy's 4011.
const SERVER_PORTS: [u16; 2] = [67, proxy::PORT];

impl Net {
    /// Starts watching for ProxyDHCP offers (at the start of a DHCP exchange).
    pub(super) fn watch_proxies(&mut self) {
        self.stop_watching();
        let buffer = || raw::PacketBuffer::new(vec![raw::PacketMetadata::EMPTY; 8], vec![0u8; 8 * 1536]);
        let socket = raw::Socket::new(Some(IpVersion::Ipv4), Some(IpProtocol::Udp), buffer(), buffer());
        self.proxy_watch = Some(self.sockets.add(socket));
        self.proxy = None;
        self.proxy_offers.clear();
        self.lease_xids.clear();
        self.acks.clear();
    }

    pub(super) fn stop_watching(&mut self) {
        if let Some(h) = self.proxy_watch.take() {
            self.sockets.remove(h);
        }
    }

    /// Keeps the ProxyDHCP offers among the packets seen since the last call, and the
    /// transaction ids of the leases offered to this client: an offer counts only if it
    /// answers the same DISCOVER as a lease (as iPXE matches replies to its request).
    pub(super) fn look_for_proxies(&mut self) {
        let Some(handle) = self.proxy_watch else { return };
        let mac = self.dev.mac();
        while let Ok(packet) = self.sockets.get_mut::<raw::Socket>(handle).recv() {
            let Some((source, port, message)) = dhcp_reply(packet) else { continue };
            if port == 67
                && let Some(xid) = proxy::lease_xid(message, &mac)
                && !self.lease_xids.contains(&xid)
            {
                self.lease_xids.push(xid);
            }
            if port == 67
                && message.len() <= 1500
                && bootsign_dhcp::is_ack(message, &mac, message_yiaddr(message))
            {
                if self.acks.len() == 4 {
                    self.acks.remove(0);
                }
                self.acks.push(message.to_vec());
            }
            if self.proxy_offers.len() < 8
                && let Ok(Some(offer)) = proxy::offer(message, &mac, source)
                && let Some(xid) = proxy::xid(message)
            {
                self.proxy_offers.push((xid, offer, message.to_vec()));
            }
        }
        if self.proxy.is_none()
            && let Some(i) = self.proxy_offers.iter().position(|(xid, _, _)| self.lease_xids.contains(xid))
        {
            let (_, offer, message) = self.proxy_offers.swap_remove(i);
            self.proxy = Some((offer, message));
        }
    }

    /// Whether DHCP may end now that a lease is there: a proxy offer came, the lease says
    /// to ignore proxies or names a boot file, or the wait is over.
    pub(super) fn proxies_settled(&self, lease_names_a_file: bool, ignores: bool) -> bool {
        self.proxy.is_some()
            || ignores
            || lease_names_a_file
            || self.clock.now_ms() > self.dhcp_started + proxy::WAIT_MS
    }

    /// The `proxydhcp/...` settings of the offer kept, asking the proxy on port 4011
    /// when the offer names no boot file; nothing when there was no offer (or the proxy
    /// did not answer, which is said).
    pub(super) fn proxy_settings(
        &mut self,
        client_ip: Ipv4Address,
        user_class: &str,
    ) -> Vec<(String, String)> {
        self.stop_watching();
        let Some((offer, message)) = self.proxy.take() else { return Vec::new() };
        let message = if offer.has_pxe_options {
            message
        } else {
            match self.ask_proxy(&offer, client_ip, user_class) {
                Some(m) => m,
                None => {
                    crate::println!(
                        "ProxyDHCP: {} did not answer on port {} within {} s; going on without it",
                        Ipv4Address::from(offer.server),
                        proxy::PORT,
                        proxy::WAIT_MS / 1000
                    );
                    return Vec::new();
                }
            }
        };
        let Ok(settings) = bootsign_dhcp::settings(&message) else { return Vec::new() };
        settings
            .into_iter()
            .filter(|(name, value)| !(name == "mac" || (name == "ip" && value == "0.0.0.0")))
            .map(|(name, value)| (alloc::format!("proxydhcp/{name}"), value))
            .collect()
    }

    /// Sends the ProxyDHCPREQUEST to the proxy's port 4011 and waits for its answer.
    fn ask_proxy(&mut self, offer: &ProxyOffer, client_ip: Ipv4Address, user_class: &str) -> Option<Vec<u8>> {
        let mac = self.dev.mac();
        let xid = u32::from(self.next_port) << 16 | (self.clock.now_ms() as u32 & 0xffff);
        let request =
            proxy::request(&mac, xid, client_ip.octets(), offer.server, ClientArch::UEFI_X86_64, user_class);
        let buffer = || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4], vec![0u8; 4 * 1536]);
        let mut socket = udp::Socket::new(buffer(), buffer());
        socket.bind(68).ok()?;
        let handle = self.sockets.add(socket);
        let server = Ipv4Address::from(offer.server);
        let sent = self
            .sockets
            .get_mut::<udp::Socket>(handle)
            .send_slice(&request, (smoltcp::wire::IpAddress::Ipv4(server), proxy::PORT));
        let answer = sent.ok().and_then(|()| {
            self.wait(proxy::WAIT_MS, |net| {
                let socket = net.sockets.get_mut::<udp::Socket>(handle);
                let mut buf = vec![0u8; 1536];
                while let Ok((n, meta)) = socket.recv_slice(&mut buf) {
                    let smoltcp::wire::IpAddress::Ipv4(from) = meta.endpoint.addr;
                    if meta.endpoint.port == proxy::PORT
                        && proxy::is_answer(&buf[..n], &mac, xid, offer.server, from.octets())
                    {
                        return Some(buf[..n].to_vec());
                    }
                }
                None
            })
        });
        self.sockets.remove(handle);
        answer
    }
}

/// The address (yiaddr) a DHCP message of at least its fixed fields gives.
fn message_yiaddr(message: &[u8]) -> [u8; 4] {
    message.get(16..20).and_then(|a| a.try_into().ok()).unwrap_or([0; 4])
}

/// The source address and port and the DHCP message (at least its fixed fields) of an
/// IPv4 packet carrying a UDP datagram from a server port to the client port 68.
fn dhcp_reply(packet: &[u8]) -> Option<([u8; 4], u16, &[u8])> {
    let ip = Ipv4Packet::new_checked(packet).ok()?;
    if ip.next_header() != IpProtocol::Udp {
        return None;
    }
    let header = usize::from(ip.header_len());
    let total = usize::from(ip.total_len()).min(packet.len());
    let udp = UdpPacket::new_checked(packet.get(header..total)?).ok()?;
    if udp.dst_port() != 68 || !SERVER_PORTS.contains(&udp.src_port()) {
        return None;
    }
    let payload_len = usize::from(udp.len()).checked_sub(8)?;
    let payload = packet.get(header + 8..header + 8 + payload_len).filter(|p| p.len() >= 240)?;
    Some((ip.src_addr().octets(), udp.src_port(), payload))
}
