//! The network stack: smoltcp over a NIC (the core's own virtio-net and e1000 drivers,
//! or the platform's), with DHCP, DNS, TCP and UDP (for NTP) as the boot script and the
//! downloader need them. The stack never reads a clock itself; every poll gets the time
//! from [`Clock`].

pub mod e1000;
pub mod nic;
mod ping;
mod proxydhcp;
pub mod virtio;

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::{dhcpv4, dns, tcp, udp};
use smoltcp::time::Instant;
use smoltcp::wire::{DnsQueryType, EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address};

use bootsign_dhcp::client::ClientArch;

use crate::clock::Clock;
pub use nic::{Driver, FrameDevice, Nic};

/// How long DHCP may take before the command fails.
const DHCP_TIMEOUT_MS: u64 = 15_000;
/// How long a connection attempt may take.
const CONNECT_TIMEOUT_MS: u64 = 10_000;
/// How long a name lookup may take.
const DNS_TIMEOUT_MS: u64 = 5_000;
/// TCP receive buffer: large, so window scaling lets downloads run at link speed.
const TCP_RX: usize = 1 << 20;
const TCP_TX: usize = 16 * 1024;
/// What DHCP asks for: the subnet mask, router, name server, host and domain names, NTP
/// servers (option 42, for a clock that is wrong), TFTP server and boot file name.
/// Also the PXE vendor options (43), the vendor class (60, which tells a PXE-aware
/// server's answer apart) and iPXE's encapsulated options (175, no-pxedhcp among them).
const DHCP_PARAMETERS: &[u8] = &[1, 3, 6, 12, 15, 17, 42, 43, 60, 66, 67, 175];

/// The user class (option 77) sent unless the script sets `user-class`: iPXE's. DHCP
/// servers configured for iPXE hand a client that sends it the boot script's URL instead
/// of the network boot program again (the usual guard against a re-PXE loop).
const DEFAULT_USER_CLASS: &str = "iPXE";

/// The options every DHCP message carries, as iPXE's: the user class (option 77) `class`,
/// the client's architecture (93), network interface (94) and PXE vendor class (60),
/// which ProxyDHCP servers answer, and the machine's UUID (97) when SMBIOS gives one.
/// The socket keeps them for the life of the interface, so they are leaked (a few bytes,
/// once per change).
fn client_options(
    arch: ClientArch,
    class: &str,
    uuid: Option<&[u8; 16]>,
) -> &'static [smoltcp::wire::DhcpOption<'static>] {
    let leak = |bytes: Vec<u8>| -> &'static [u8] { Box::leak(bytes.into_boxed_slice()) };
    let mut options = vec![smoltcp::wire::DhcpOption { kind: 77, data: leak(class.as_bytes().to_vec()) }];
    for (kind, value) in arch.options() {
        options.push(smoltcp::wire::DhcpOption { kind, data: leak(value) });
    }
    if let Some(uuid) = uuid {
        options.push(smoltcp::wire::DhcpOption {
            kind: 97,
            data: leak(bootsign_dhcp::client::uuid_option(uuid)),
        });
    }
    Box::leak(options.into_boxed_slice())
}

/// The interface and its sockets.
pub struct Net {
    dev: Nic,
    iface: Interface,
    sockets: SocketSet<'static>,
    dhcp: SocketHandle,
    dns: Option<SocketHandle>,
    /// Name servers from DHCP, and one the script set (`set dns`), which wins.
    dhcp_dns: Vec<Ipv4Address>,
    dns_override: Option<Ipv4Address>,
    clock: Clock,
    /// The architecture DHCP names (option 93 and the vendor class).
    arch: ClientArch,
    next_port: u16,
    /// While DHCP runs: a raw socket that sees every UDP packet, for ProxyDHCP offers.
    proxy_watch: Option<SocketHandle>,
    /// The ProxyDHCP offer taken, and its message.
    proxy: Option<(bootsign_dhcp::proxy::ProxyOffer, Vec<u8>)>,
    /// ProxyDHCP offers seen (their transaction ids, a few at most), and the transaction
    /// ids of the leases offered to this client: an offer is taken when they match.
    proxy_offers: Vec<(u32, bootsign_dhcp::proxy::ProxyOffer, Vec<u8>)>,
    lease_xids: Vec<u32>,
    /// The last DHCPACKs to this client seen while DHCP ran, the lease's settings come
    /// from the one that gave the address (not from whatever packet of the transaction
    /// smoltcp kept last, which can be a ProxyDHCP offer that came after it).
    acks: Vec<Vec<u8>>,
    /// When the DHCP exchange started.
    dhcp_started: u64,
    /// The lease's settings, once there is one, while proxies may still answer; and
    /// whether the lease said to ignore them.
    pending: Option<(Vec<(String, String)>, bool)>,
    /// The user class DHCP sends.
    user_class: String,
    /// What DHCP configured last.
    lease: Option<Lease>,
}

/// An interface's configuration from DHCP: address and prefix, default route, name
/// servers.
#[derive(Clone, Debug)]
pub struct Lease {
    address: smoltcp::wire::Ipv4Cidr,
    router: Option<Ipv4Address>,
    dns: Vec<Ipv4Address>,
}

impl Net {
    /// An unconfigured interface on `dev`, which DHCP sends as architecture `arch`.
    pub fn new(clock: Clock, arch: ClientArch, mut dev: Nic) -> Self {
        let mac = dev.mac();
        let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
        // TCP initial sequence numbers, DHCP transaction IDs and local ports come from the
        // TLS random source where there is one, so an off-path host cannot predict them;
        // else from the time and the MAC address.
        let mut random = [0u8; 10];
        if bootsign_tls::RandomSource::fill(&crate::rng::RNG, &mut random).is_err() {
            let fallback = clock.now_ms()
                ^ u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0x5a, 0xa5]);
            random[..8].copy_from_slice(&fallback.to_le_bytes());
            random[8..].copy_from_slice(&(clock.now_ms() as u16).to_le_bytes());
        }
        config.random_seed = u64::from_le_bytes(random[..8].try_into().expect("eight bytes"));
        let iface = Interface::new(config, &mut dev, Instant::from_millis(clock.now_ms() as i64));
        let mut sockets = SocketSet::new(Vec::new());
        let mut dhcp = dhcpv4::Socket::new();
        // The whole reply is kept so the boot settings (next-server, filename) can be read.
        dhcp.set_receive_packet_buffer(Box::leak(vec![0u8; 1500].into_boxed_slice()));
        dhcp.set_parameter_request_list(DHCP_PARAMETERS);
        dhcp.set_outgoing_options(client_options(arch, DEFAULT_USER_CLASS, None));
        let dhcp = sockets.add(dhcp);
        let next_port = 49152 + u16::from_le_bytes([random[8], random[9]]) % 8192;
        Self {
            dev,
            iface,
            sockets,
            dhcp,
            dns: None,
            dhcp_dns: Vec::new(),
            dns_override: None,
            clock,
            arch,
            next_port,
            proxy_watch: None,
            proxy: None,
            proxy_offers: Vec::new(),
            lease_xids: Vec::new(),
            acks: Vec::new(),
            dhcp_started: 0,
            pending: None,
            user_class: DEFAULT_USER_CLASS.into(),
            lease: None,
        }
    }

    /// The MAC address, as iPXE prints it.
    pub fn mac(&self) -> String {
        self.dev.mac().iter().map(|b| alloc::format!("{b:02x}")).collect::<Vec<_>>().join(":")
    }

    /// Which driver runs the NIC.
    pub fn driver(&self) -> &'static str {
        self.dev.driver()
    }

    /// Stops the NIC's DMA (before a boot); whether it confirmed it stopped.
    pub fn stop(&mut self) -> bool {
        self.dev.stop()
    }

    /// Runs the stack once.
    pub fn poll(&mut self) {
        let now = Instant::from_millis(self.clock.now_ms() as i64);
        self.iface.poll(now, &mut self.dev, &mut self.sockets);
    }

    /// Polls until `ready` returns a value or `timeout_ms` passes.
    fn wait<R>(&mut self, timeout_ms: u64, mut ready: impl FnMut(&mut Self) -> Option<R>) -> Option<R> {
        let deadline = self.clock.now_ms() + timeout_ms;
        loop {
            self.poll();
            if let Some(r) = ready(self) {
                return Some(r);
            }
            if self.clock.now_ms() > deadline {
                return None;
            }
        }
    }

    /// Starts DHCP afresh; [`Net::dhcp_poll`] then runs it.
    fn dhcp_start(&mut self) {
        self.sockets.get_mut::<dhcpv4::Socket>(self.dhcp).reset();
        self.dhcp_started = self.clock.now_ms();
        self.pending = None;
        self.watch_proxies();
    }

    /// Runs the stack once; once DHCP has configured the interface (and ProxyDHCP has
    /// had its chance), the boot settings of the reply, with `proxydhcp/...` ones.
    fn dhcp_poll(&mut self) -> Option<Result<Vec<(String, String)>, String>> {
        self.poll();
        self.look_for_proxies();
        if self.pending.is_none() {
            let event = self.sockets.get_mut::<dhcpv4::Socket>(self.dhcp).poll()?;
            let dhcpv4::Event::Configured(cfg) = event else { return None };
            let (address, router) = (cfg.address, cfg.router);
            let dns_servers: Vec<Ipv4Address> = cfg.dns_servers.iter().copied().collect();
            let (mac, octets) = (self.dev.mac(), address.address().octets());
            let is_ack = |p: &&[u8]| bootsign_dhcp::is_ack(p, &mac, octets);
            let packet: Option<Vec<u8>> = cfg
                .packet
                .map(|p| p.into_inner())
                .filter(is_ack)
                .or_else(|| self.acks.iter().rev().map(Vec::as_slice).find(is_ack))
                .map(<[u8]>::to_vec);
            let settings = packet.as_deref().map(bootsign_dhcp::settings);
            let ignores = packet.as_deref().is_some_and(bootsign_dhcp::proxy::ignores_proxies);
            match self.configure(settings, address, router, dns_servers) {
                Ok(settings) => self.pending = Some((settings, ignores)),
                Err(e) => {
                    self.stop_watching();
                    return Some(Err(e));
                }
            }
        }
        let (settings, ignores) = self.pending.as_ref()?;
        let names_a_file = settings.iter().any(|(n, _)| n == "filename");
        if !self.proxies_settled(names_a_file, *ignores) {
            return None;
        }
        let (mut settings, ignores) = self.pending.take()?;
        if ignores {
            self.proxy = None;
        }
        let client_ip = settings
            .iter()
            .find(|(n, _)| n == "ip")
            .and_then(|(_, v)| v.parse::<Ipv4Address>().ok())
            .unwrap_or(Ipv4Address::UNSPECIFIED);
        let class = self.user_class.clone();
        settings.extend(self.proxy_settings(client_ip, &class));
        Some(Ok(settings))
    }

    /// Applies a DHCP lease.
    fn configure(
        &mut self,
        settings: Option<Result<Vec<(String, String)>, bootsign_dhcp::DhcpError>>,
        address: smoltcp::wire::Ipv4Cidr,
        router: Option<Ipv4Address>,
        dns_servers: Vec<Ipv4Address>,
    ) -> Result<Vec<(String, String)>, String> {
        self.apply(Lease { address, router, dns: dns_servers });
        let mut settings = match settings {
            Some(Ok(s)) => s,
            Some(Err(e)) => return Err(alloc::format!("the DHCP reply is unusable: {e}")),
            None => Vec::new(),
        };
        if !settings.iter().any(|(n, _)| n == "ip") {
            settings.push(("ip".into(), address.address().to_string()));
        }
        Ok(settings)
    }

    /// Gives the interface the address, route and name servers of `lease`.
    fn apply(&mut self, lease: Lease) {
        self.iface.update_ip_addrs(|addrs| {
            addrs.clear();
            let _ = addrs.push(IpCidr::Ipv4(lease.address));
        });
        match lease.router {
            Some(r) => {
                let _ = self.iface.routes_mut().add_default_ipv4_route(r);
            }
            None => {
                self.iface.routes_mut().remove_default_ipv4_route();
            }
        }
        self.dhcp_dns = lease.dns.clone();
        self.rebuild_dns();
        self.lease = Some(lease);
    }

    /// The configuration DHCP gave the interface, if any.
    pub fn lease(&self) -> Option<Lease> {
        self.lease.clone()
    }

    /// Configures a reopened interface as it was (after a program that was started
    /// returned, the script goes on with the network it had), without asking DHCP again.
    pub fn restore(&mut self, lease: Lease) {
        self.apply(lease);
    }

    /// Runs DHCP on every interface of `nets` at once and configures the first to get an
    /// answer: its position in `nets`, and the boot settings of the reply. `nets` is either
    /// one interface or all of them from net0 on, which errors name.
    pub fn dhcp_first(nets: &mut [Net]) -> Result<(usize, Vec<(String, String)>), String> {
        let count = nets.len();
        let clock = nets.first().ok_or("no network interface")?.clock;
        for net in nets.iter_mut() {
            net.dhcp_start();
        }
        let deadline = clock.now_ms() + DHCP_TIMEOUT_MS;
        loop {
            for (index, net) in nets.iter_mut().enumerate() {
                match net.dhcp_poll() {
                    None => {}
                    Some(Ok(settings)) => return Ok((index, settings)),
                    Some(Err(e)) if count == 1 => return Err(e),
                    Some(Err(e)) => return Err(alloc::format!("net{index}: {e}")),
                }
            }
            if clock.now_ms() > deadline {
                let secs = DHCP_TIMEOUT_MS / 1000;
                return Err(match count {
                    1 => alloc::format!("no DHCP reply within {secs} s"),
                    n => alloc::format!("no DHCP reply on any of {n} interfaces within {secs} s"),
                });
            }
        }
    }

    /// What the next DHCP says about the client: the user class (option 77: the
    /// `user-class` setting, or `iPXE` when it is unset) and the machine's UUID.
    pub fn set_identity(&mut self, class: Option<&str>, uuid: Option<&[u8; 16]>) {
        let class = class.filter(|c| !c.is_empty()).unwrap_or(DEFAULT_USER_CLASS);
        self.user_class = class.into();
        self.sockets
            .get_mut::<dhcpv4::Socket>(self.dhcp)
            .set_outgoing_options(client_options(self.arch, class, uuid));
    }

    /// Sets (or, with `None`, removes) a name server that takes precedence over DHCP's.
    pub fn set_dns_override(&mut self, server: Option<Ipv4Address>) {
        self.dns_override = server;
        self.rebuild_dns();
    }

    /// A fresh DNS socket for the servers in effect.
    fn rebuild_dns(&mut self) {
        if let Some(old) = self.dns.take() {
            self.sockets.remove(old);
        }
        let servers: Vec<IpAddress> = match self.dns_override {
            Some(s) => vec![IpAddress::Ipv4(s)],
            None => self.dhcp_dns.iter().map(|a| IpAddress::Ipv4(*a)).collect(),
        };
        if !servers.is_empty() {
            self.dns = Some(self.sockets.add(dns::Socket::new(&servers, vec![None])));
        }
    }

    /// The address of `host` (a dotted IPv4 address or a name looked up by DNS).
    pub fn resolve(&mut self, host: &str) -> Result<Ipv4Address, String> {
        if let Ok(ip) = host.parse::<Ipv4Address>() {
            return Ok(ip);
        }
        let handle = self
            .dns
            .ok_or_else(|| alloc::format!("cannot look up {host}: no DNS server (run dhcp, or set dns)"))?;
        let query = {
            let socket = self.sockets.get_mut::<dns::Socket>(handle);
            socket
                .start_query(self.iface.context(), host, DnsQueryType::A)
                .map_err(|e| alloc::format!("cannot look up {host}: {e:?}"))?
        };
        let answer = self.wait(DNS_TIMEOUT_MS, |net| {
            match net.sockets.get_mut::<dns::Socket>(handle).get_query_result(query) {
                Err(dns::GetQueryResultError::Pending) => None,
                other => Some(other),
            }
        });
        match answer {
            Some(Ok(addrs)) => addrs
                .iter()
                .find_map(|a| match a {
                    IpAddress::Ipv4(v4) => Some(*v4),
                    #[allow(unreachable_patterns)]
                    _ => None,
                })
                .ok_or_else(|| alloc::format!("{host} has no IPv4 address")),
            Some(Err(_)) => Err(alloc::format!("{host}: no such host")),
            None => Err(alloc::format!("looking up {host} timed out")),
        }
    }

    /// Opens a TCP connection, waiting at most `limit_ms` (or the usual connection
    /// timeout, whichever is shorter).
    pub fn connect(
        &mut self,
        ip: Ipv4Address,
        port: u16,
        limit_ms: Option<u64>,
    ) -> Result<SocketHandle, String> {
        let timeout = limit_ms.unwrap_or(CONNECT_TIMEOUT_MS).min(CONNECT_TIMEOUT_MS);
        let mut socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0u8; TCP_RX]),
            tcp::SocketBuffer::new(vec![0u8; TCP_TX]),
        );
        socket.set_nagle_enabled(false);
        let local = self.next_port;
        self.next_port = if self.next_port >= 65000 { 49152 } else { self.next_port + 1 };
        socket
            .connect(self.iface.context(), (IpAddress::Ipv4(ip), port), local)
            .map_err(|e| alloc::format!("cannot connect to {ip}:{port}: {e:?}"))?;
        let handle = self.sockets.add(socket);
        let state = self.wait(timeout, |net| {
            let s = net.sockets.get::<tcp::Socket>(handle);
            match s.state() {
                tcp::State::Established => Some(Ok(())),
                tcp::State::Closed => Some(Err(())),
                _ => None,
            }
        });
        match state {
            Some(Ok(())) => Ok(handle),
            Some(Err(())) => {
                self.sockets.remove(handle);
                Err(alloc::format!("connection to {ip}:{port} refused"))
            }
            None => {
                self.sockets.remove(handle);
                Err(alloc::format!("connecting to {ip}:{port} timed out after {} ms", timeout))
            }
        }
    }

    /// The TCP socket behind `handle`.
    pub fn tcp(&mut self, handle: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(handle)
    }

    /// Closes and forgets a connection.
    pub fn close(&mut self, handle: SocketHandle) {
        self.tcp(handle).abort();
        self.poll();
        self.sockets.remove(handle);
    }

    /// The clock the stack runs on.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Whether `ip` is on this interface's subnet (so reached through it directly).
    pub fn on_link(&self, ip: Ipv4Address) -> bool {
        self.iface.ip_addrs().iter().any(|cidr| match cidr {
            IpCidr::Ipv4(c) => c.contains_addr(&ip),
            #[allow(unreachable_patterns)]
            _ => false,
        })
    }

    /// Whether DHCP (or anything else) gave this interface an address.
    pub fn configured(&self) -> bool {
        !self.iface.ip_addrs().is_empty()
    }

    /// Sends one UDP datagram from a fresh local port to `to` and waits up to
    /// `timeout_ms` for a datagram from there that `accept` takes (others are dropped).
    /// Returns it with the milliseconds between sending and receiving it, or `None` on
    /// timeout. The socket is gone afterwards.
    pub fn udp_exchange(
        &mut self,
        to: (Ipv4Address, u16),
        payload: &[u8],
        timeout_ms: u64,
        mut accept: impl FnMut(&[u8]) -> bool,
    ) -> Result<Option<(Vec<u8>, u64)>, String> {
        let mut socket = udp::Socket::new(
            udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4], vec![0u8; 2048]),
            udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 1], vec![0u8; 512]),
        );
        let local = self.next_port;
        self.next_port = if self.next_port >= 65000 { 49152 } else { self.next_port + 1 };
        socket.bind(local).map_err(|e| alloc::format!("cannot open a UDP socket: {e:?}"))?;
        let handle = self.sockets.add(socket);
        let remote = smoltcp::wire::IpEndpoint::new(IpAddress::Ipv4(to.0), to.1);
        let sent = self
            .sockets
            .get_mut::<udp::Socket>(handle)
            .send_slice(payload, remote)
            .map_err(|e| alloc::format!("cannot send to {}:{}: {e:?}", to.0, to.1));
        let sent_at = self.clock.now_ms();
        let answer = match sent {
            Ok(()) => self.wait(timeout_ms, |net| {
                let socket = net.sockets.get_mut::<udp::Socket>(handle);
                while let Ok((data, meta)) = socket.recv() {
                    if meta.endpoint == remote && accept(data) {
                        return Some(data.to_vec());
                    }
                }
                None
            }),
            Err(e) => {
                self.sockets.remove(handle);
                return Err(e);
            }
        };
        let elapsed = self.clock.now_ms() - sent_at;
        self.sockets.remove(handle);
        Ok(answer.map(|data| (data, elapsed)))
    }
}
