//! The firmware's side of the script language: network, downloads, signature checks
//! with the embedded trust anchors, and booting.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use bootsign_config::{Config, Policy, TlsMin};
use bootsign_ntp::Utc;
use bootsign_pki::cms::{SignedData, Trust, decode_pem_or_der, verify};
use bootsign_pki::text::escape;
use bootsign_pki::{Crl, Fingerprint, HashAlgorithm, MultiHasher, Revocation};
use bootsign_script::{Boot, Machine};
use uefi::boot;
use uefi::runtime::{self, ResetType};

use crate::clock::{BUILT, Clock};
use crate::hash::PartialSha256;
use crate::net::Net;
use crate::proof::ImageProof;

/// The machine the script runs on.
pub struct Firmware {
    clock: Clock,
    config: Config<'static>,
    anchors: Vec<Fingerprint>,
    /// The NICs, as net0, net1, ... (opened at the first use of any); downloads go
    /// through `current`, the interface DHCP configured last.
    nets: Option<Vec<Net>>,
    current: usize,
    /// Connections kept open between downloads.
    pool: crate::pool::Pool,
    /// Built at the first download; `Err` says why HTTPS cannot work on this machine.
    tls: Option<Result<bootsign_tls::Config, String>>,
    /// A name server the script set, applied to the network stack once it is open.
    dns_override: Option<smoltcp::wire::Ipv4Address>,
    /// The `user-class` setting (DHCP option 77; `iPXE` when unset).
    user_class: Option<String>,
    /// The embedded CRLs, parsed at start-up (a damaged one stops the boot there).
    crls: Vec<Crl<'static>>,
    /// What the build decided.
    policy: Policy,
    /// The NTP server DHCP named last (option 42), with the interface that learnt it.
    dhcp_ntp: Option<(usize, String)>,
    /// Each interface's configuration while the NICs are closed for a program that was
    /// started: when it returns, the reopened interfaces get them back.
    leases: Vec<Option<crate::net::Lease>>,
    /// The machine's SMBIOS UUID (as `${uuid}` shows it), which DHCP sends (option 97).
    uuid: Option<[u8; 16]>,
}

/// The SMBIOS system UUID in network byte order (SMBIOS 2.6 on stores its first three
/// fields little-endian), unless it is absent, all zeros or all ones ("not set").
fn smbios_uuid() -> Option<[u8; 16]> {
    let (table, version) = crate::smbios::table()?;
    let (tag, as_uuid) = bootsign_smbios::Tag::named("uuid")?;
    let (raw, _) = bootsign_smbios::Table::new(&table, version).read(tag, as_uuid)?;
    let uuid: [u8; 16] = raw.try_into().ok()?;
    (uuid != [0; 16] && uuid != [0xff; 16]).then_some(uuid)
}

impl Firmware {
    /// The firmware with its embedded configuration; the NIC is opened on first use.
    /// Fails when an embedded CRL cannot be read: revocations must not be lost quietly.
    pub fn new(clock: Clock, config: Config<'static>, policy: Policy) -> Result<Self, String> {
        let anchors = config.anchors.iter().map(|a| Fingerprint(*a)).collect();
        let crls = config
            .crls
            .iter()
            .enumerate()
            .map(|(i, der)| Crl::parse(der).map_err(|e| alloc::format!("embedded CRL {}: {e}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            clock,
            config,
            anchors,
            nets: None,
            current: 0,
            pool: crate::pool::Pool::default(),
            tls: None,
            dns_override: None,
            user_class: None,
            crls,
            policy,
            dhcp_ntp: None,
            leases: Vec::new(),
            uuid: smbios_uuid(),
        })
    }

    fn revocation(&self) -> Revocation<'_> {
        Revocation { crls: &self.crls, require_fresh: self.policy.crl_require_fresh }
    }

    /// What a signature is checked against now: the embedded anchors and certificates,
    /// the CRLs, at the platform clock's time.
    fn trust_now(&self) -> Result<Trust<'_>, String> {
        let time = self
            .clock
            .unix_time()
            .ok_or("the platform clock cannot be read, so certificate validity cannot be checked")?;
        Ok(Trust {
            anchors: &self.anchors,
            extra_certs: &self.config.certs,
            time,
            revocation: self.revocation(),
        })
    }

    /// Every interface, opened on first use.
    fn nets(&mut self) -> Result<&mut Vec<Net>, String> {
        if self.nets.is_none() {
            let mut nets = Net::open_all(self.clock)?;
            let leases = core::mem::take(&mut self.leases);
            for (i, net) in nets.iter_mut().enumerate() {
                if let Some(Some(lease)) = leases.get(i) {
                    net.restore(lease.clone());
                }
                net.set_dns_override(self.dns_override);
                net.set_identity(self.user_class.as_deref(), self.uuid.as_ref());
            }
            self.nets = Some(nets);
        }
        Ok(self.nets.as_mut().expect("just opened"))
    }

    /// A download on the current interface (a GET, or a POST of `form`), through the
    /// connection pool and the TLS configuration built on first use.
    fn download(
        &mut self,
        uri: &str,
        form: Option<&[u8]>,
        timeout_ms: Option<u64>,
    ) -> Result<(Vec<u8>, PartialSha256), String> {
        if self.tls.is_none() {
            self.tls = Some(self.tls_config());
        }
        let current = self.current;
        self.nets()?;
        let net = &mut self.nets.as_mut().expect("opened above")[current];
        let config = match self.tls.as_mut().expect("built above") {
            Ok(c) => Ok(c),
            Err(why) => Err(why.as_str()),
        };
        let mut tls = Some(crate::fetch::TlsContext { config, crosscert: self.config.crosscert });
        let mut session = crate::fetch::Session { net, index: current, pool: &mut self.pool };
        crate::fetch::fetch_with(&mut session, &mut tls, uri, form, timeout_ms)
    }

    /// The interface DHCP configured last.
    fn current_net(&mut self) -> Result<&mut Net, String> {
        let current = self.current;
        self.nets()?.get_mut(current).ok_or_else(|| String::from("no network interface"))
    }

    /// The index of the interface named `iface` (`netN`).
    fn iface(&mut self, iface: &str) -> Result<usize, String> {
        let count = self.nets()?.len();
        bootsign_script::interface_index(iface).filter(|&i| i < count).ok_or_else(|| match count {
            1 => alloc::format!("no interface {iface} (this machine has net0)"),
            n => alloc::format!("no interface {iface} (this machine has net0 to net{})", n - 1),
        })
    }

    /// DHCP on the interfaces `range` at once (one, or all); the first configured becomes
    /// the current one. Its name, and the settings learnt.
    fn dhcp_on(&mut self, range: core::ops::Range<usize>) -> Result<(String, Vec<(String, String)>), String> {
        let started = self.clock.now_ms();
        let nets = &mut self.nets()?[range.clone()];
        let names: Vec<String> = range
            .clone()
            .zip(nets.iter())
            .map(|(i, n)| alloc::format!("net{i} ({}, {})", n.mac(), n.driver()))
            .collect();
        crate::print!("DHCP on {}...", names.join(", "));
        let (offset, settings) = Net::dhcp_first(nets).inspect_err(|_| crate::println!(" failed"))?;
        let index = range.start + offset;
        self.current = index;
        if range.len() > 1 {
            crate::print!(" net{index}:");
        }
        let get = |n: &str| settings.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()).unwrap_or("-");
        crate::println!(
            " {} gateway {} next-server {} ({} ms)",
            get("ip"),
            get("gateway"),
            get("next-server"),
            self.clock.now_ms() - started
        );
        if let Some(proxy) = settings.iter().find(|(k, _)| k == "proxydhcp/dhcp-server").map(|(_, v)| v) {
            let file =
                settings.iter().find(|(k, _)| k == "proxydhcp/filename").map_or("-", |(_, v)| v.as_str());
            crate::println!("ProxyDHCP {proxy}: filename {}", escape(file));
        }
        if let Some(server) = settings.iter().find(|(k, _)| k == "ntp").map(|(_, v)| v.clone()) {
            self.dhcp_ntp = Some((index, server));
        }
        self.sync_if_clearly_wrong();
        Ok((alloc::format!("net{index}"), settings))
    }

    /// When the clock is earlier than this firmware's build date and DHCP named an NTP
    /// server, sets the clock from it, before any certificate is checked at a time that
    /// is certainly wrong. A failure is reported, not fatal: the checks then say the clock
    /// is wrong.
    fn sync_if_clearly_wrong(&mut self) {
        let Some((index, server)) = self.dhcp_ntp.clone() else { return };
        if self.clock.synced() || !self.clock.clearly_wrong() {
            return;
        }
        crate::println!(
            "bootsign: the clock says {}, before this firmware was built ({}): setting it from the DHCP server's NTP server {server}",
            crate::ntp::clock_text(&self.clock),
            Utc { unix: BUILT }.day()
        );
        match self.sntp(&server, Some(index)) {
            Ok(said) => crate::println!("{said}"),
            Err(e) => crate::println!("bootsign: ntp {server}: {e}"),
        }
    }

    /// Sets the clock by SNTP from `server` (`HOST` or `HOST:PORT`), through interface
    /// `via`, else the one whose subnet holds the server, else the current one.
    fn sntp(&mut self, server: &str, via: Option<usize>) -> Result<String, String> {
        let (host, port) = bootsign_ntp::split_server(server)?;
        let current = self.current;
        let clock = self.clock;
        let nets = self.nets()?;
        let ip = nets[via.unwrap_or(current)].resolve(host)?;
        let index = via.or_else(|| nets.iter().position(|n| n.on_link(ip))).unwrap_or(current);
        let net = &mut nets[index];
        if !net.configured() {
            return Err(alloc::format!("net{index} has no address: run dhcp first"));
        }
        let said = crate::ntp::sync(net, clock, host, ip, port)?;
        // What was checked at the old time is not carried over: kept connections and TLS
        // sessions whose certificates were accepted then go, and the next download
        // verifies afresh (a new TLS configuration has an empty session cache).
        if let Some(nets) = self.nets.as_mut() {
            self.pool.close_all(nets);
        }
        self.tls = None;
        Ok(said)
    }

    /// The TLS configuration: the embedded anchors and certificates, the client
    /// certificate and key, the platform's randomness and clock.
    fn tls_config(&self) -> Result<bootsign_tls::Config, String> {
        crate::rng::RNG.ready()?;
        if self.clock.unix_time().is_none() {
            return Err("the platform clock cannot be read, so certificate validity cannot be checked".into());
        }
        // AES-GCM on AES-NI and PCLMULQDQ where the CPU has them (ten times the software
        // speed), ChaCha20 on SSE2 always.
        let mut config = bootsign_tls::Config::with_aeads(
            &self.anchors,
            &crate::rng::RNG,
            alloc::sync::Arc::new(crate::clock::RtcClock(self.clock)),
            // ChaCha20 on SSE2 always; AES-GCM on AES-NI where the CPU has it, else in
            // software, and then ChaCha20 is offered first.
            &crate::chacha_sse2::aeads(crate::aes_gcm_ni::aeads().unwrap_or(bootsign_tls::Aeads {
                prefer_chacha20_poly1305: true,
                ..bootsign_tls::Aeads::default()
            })),
        );
        match self.policy.tls_min {
            TlsMin::Tls13 => config.set_min_version(bootsign_tls::TlsVersion::Tls13),
            TlsMin::Tls12 => {}
            TlsMin::Tls11 => config.set_legacy_min(Some(bootsign_tls::LegacyVersion::Tls11)),
            TlsMin::Tls10 => config.set_legacy_min(Some(bootsign_tls::LegacyVersion::Tls10)),
        }
        let certs: Vec<Vec<u8>> = self.config.certs.iter().map(|c| c.to_vec()).collect();
        config
            .add_certificates(certs.iter().cloned())
            .map_err(|e| alloc::format!("embedded certificates: {e}"))?;
        config
            .add_crls(self.config.crls.iter().map(|c| c.to_vec()), self.policy.crl_require_fresh)
            .map_err(|e| alloc::format!("embedded CRLs: {e}"))?;
        if let Some(key) = self.config.key {
            // The image format puts the key's own certificate first.
            config
                .set_client_auth(&certs, key)
                .map_err(|e| alloc::format!("the embedded client certificate: {e}"))?;
        }
        Ok(config)
    }
}

impl Machine for Firmware {
    type Proof = ImageProof;
    type Meta = PartialSha256;

    fn print(&mut self, text: &str) {
        crate::console::print(text);
    }

    fn dhcp(&mut self, iface: &str) -> Result<Vec<(String, String)>, String> {
        let index = self.iface(iface)?;
        self.dhcp_on(index..index + 1).map(|(_, settings)| settings)
    }

    /// DHCP on every interface at once; the first to be configured is taken (iPXE tries
    /// them in turn, each with its own timeout).
    fn dhcp_any(&mut self) -> Result<(String, Vec<(String, String)>), String> {
        let count = self.nets()?.len();
        self.dhcp_on(0..count)
    }

    fn interface(&mut self, command: &str, iface: &str) -> Result<(), String> {
        let index = self.iface(iface)?;
        let net = &self.nets()?[index];
        if command == "ifstat" {
            crate::println!("{iface}: {} ({})", net.mac(), net.driver());
        }
        Ok(())
    }

    fn fetch(&mut self, uri: &str, timeout_ms: Option<u64>) -> Result<(Vec<u8>, PartialSha256), String> {
        self.download(uri, None, timeout_ms)
    }

    fn fetch_form(
        &mut self,
        uri: &str,
        form: &[u8],
        timeout_ms: Option<u64>,
    ) -> Result<(Vec<u8>, PartialSha256), String> {
        self.download(uri, Some(form), timeout_ms)
    }

    fn verify(
        &mut self,
        data: &[u8],
        fetched: &PartialSha256,
        signature: &[u8],
        signer: Option<&str>,
    ) -> Result<(ImageProof, String), String> {
        let started = self.clock.now_ms();
        let trust = self.trust_now()?;
        let der = decode_pem_or_der(signature).map_err(|e| alloc::format!("{e}"))?;
        let sd = SignedData::parse(&der).map_err(|e| alloc::format!("{e}"))?;
        // The SHA-256 begun while downloading serves when it is the digest needed.
        let needed = sd.digest_algorithms();
        let digests = if needed.iter().all(|a| *a == HashAlgorithm::Sha256) {
            fetched.complete(data)
        } else {
            let mut hasher = MultiHasher::new(needed);
            hasher.update(data);
            hasher.finish()
        };
        let verified = verify(&sd, &digests, &trust, signer).map_err(|e| {
            crate::ntp::validity_hint(&self.clock, alloc::format!("{e}"), e.depends_on_the_clock())
        })?;
        let ms = self.clock.now_ms() - started;
        let who = signer_names(&verified);
        Ok((ImageProof(verified), alloc::format!("signed by {who}, {ms} ms")))
    }

    fn verify_embedded(
        &mut self,
        data: &[u8],
        _fetched: &PartialSha256,
        signer: Option<&str>,
    ) -> Result<(ImageProof, String), String> {
        let started = self.clock.now_ms();
        let trust = self.trust_now()?;
        let (verified, index) =
            bootsign_pki::authenticode::verify_image(data, &trust, signer).map_err(|e| {
                crate::ntp::validity_hint(&self.clock, alloc::format!("{e}"), e.depends_on_the_clock())
            })?;
        let ms = self.clock.now_ms() - started;
        let who = signer_names(&verified);
        Ok((ImageProof(verified), alloc::format!("Authenticode signature {index} by {who}, {ms} ms")))
    }

    fn setting_changed(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
        if name == "user-class" {
            self.user_class = value.map(String::from);
            for net in self.nets.iter_mut().flatten() {
                net.set_identity(value, self.uuid.as_ref());
            }
            return Ok(());
        }
        if name != "dns" {
            return Ok(());
        }
        self.dns_override = match value {
            Some(v) => Some(v.parse().map_err(|_| alloc::format!("dns: '{v}' is not an IPv4 address"))?),
            None => None,
        };
        for net in self.nets.iter_mut().flatten() {
            net.set_dns_override(self.dns_override);
        }
        Ok(())
    }

    fn boot(&mut self, boot: Boot<'_, ImageProof, PartialSha256>) -> String {
        let image = boot.image().image();
        let initrds = boot.initrds().len();
        crate::println!(
            "Booting {} ({} bytes, {}){}{}",
            escape(image.name()),
            image.len(),
            if boot.image().is_verified() { "verified" } else { "not verified" },
            if initrds == 0 { String::new() } else { alloc::format!(" with {initrds} initrd(s)") },
            if image.cmdline().is_empty() {
                String::new()
            } else {
                alloc::format!(": {}", escape(image.cmdline()))
            }
        );
        // The started program gets the NICs (and the platform's network stack) back.
        if let Some(nets) = self.nets.as_mut() {
            self.pool.close_all(nets);
            self.leases = nets.iter().map(Net::lease).collect();
        }
        self.nets = None;
        crate::launch::start(&boot)
    }

    fn ntp(&mut self, server: &str) -> Result<String, String> {
        self.sntp(server, None)
    }

    fn ping(
        &mut self,
        host: &str,
        seq: u16,
        size: usize,
        timeout_ms: u64,
    ) -> Result<(String, usize, u64), String> {
        let net = self.current_net()?;
        let to = net.resolve(host)?;
        let (len, ms) = net.ping(to, seq, size, timeout_ms)?;
        Ok((to.to_string(), len, ms))
    }

    fn resolve(&mut self, host: &str) -> Result<String, String> {
        self.current_net()?.resolve(host).map(|ip| ip.to_string())
    }

    fn unix_time(&self) -> Option<u64> {
        self.clock.unix_time()
    }

    fn now_ms(&self) -> Option<u64> {
        Some(self.clock.now_ms())
    }

    fn pci_next(&self, from: u32) -> Option<u16> {
        let mut found: Option<u16> = None;
        crate::pci::each_function(|busdevfn, _| {
            if u32::from(busdevfn) >= from && found.is_none_or(|f| busdevfn < f) {
                found = Some(busdevfn);
            }
            None::<()>
        });
        found
    }

    fn pci_read(&self, busdevfn: u16, offset: u8, len: u8) -> Option<Vec<u8>> {
        crate::pci::each_function(|at, pci| {
            (at == busdevfn).then(|| {
                (0..len).map(|i| pci.config::<u8>(u32::from(offset) + u32::from(i)).unwrap_or(0xff)).collect()
            })
        })
    }

    fn cpuid(&mut self, leaf: u32) -> Option<[u32; 4]> {
        // CPUID exists on every x86-64 processor.
        let r = core::arch::x86_64::__cpuid(leaf);
        Some([r.eax, r.ebx, r.ecx, r.edx])
    }

    fn sanboot(&mut self, san: bootsign_script::San<'_, ImageProof, PartialSha256>) -> String {
        crate::san::boot(&san)
    }

    fn sanhook(
        &mut self,
        san: bootsign_script::San<'_, ImageProof, PartialSha256>,
    ) -> Result<String, String> {
        crate::san::hook(&san)
    }

    fn interfaces(&mut self) -> Vec<(String, Vec<(String, String)>)> {
        let Ok(nets) = self.nets() else { return Vec::new() };
        nets.iter()
            .enumerate()
            .map(|(i, net)| {
                let name = alloc::format!("net{i}");
                let settings =
                    [("mac", net.mac()), ("chip", String::from(net.driver())), ("ifname", name.clone())];
                (name, settings.into_iter().map(|(k, v)| (String::from(k), v)).collect())
            })
            .collect()
    }

    fn smbios(&mut self) -> Option<(Vec<u8>, (u8, u8))> {
        crate::smbios::table()
    }

    fn key(&mut self, timeout_ms: Option<u64>) -> Option<bootsign_script::ui::Key> {
        crate::console::key(timeout_ms, &self.clock)
    }

    fn clear_screen(&mut self) {
        crate::console::clear();
    }

    fn erase(&mut self, count: usize) {
        crate::console::erase(count);
    }

    fn colours(&mut self, foreground: Option<u8>, background: Option<u8>) {
        crate::console::colours(foreground, background);
    }

    fn console_size(&mut self, width: u32, height: u32) -> Result<(), String> {
        let (columns, rows) = crate::console::set_size(width, height)?;
        crate::println!("console: {columns} x {rows} characters");
        Ok(())
    }

    fn sleep(&mut self, seconds: u64) {
        boot::stall(Duration::from_secs(seconds));
    }

    fn reboot(&mut self) -> String {
        runtime::reset(ResetType::COLD, uefi::Status::SUCCESS, None)
    }

    fn poweroff(&mut self) -> String {
        runtime::reset(ResetType::SHUTDOWN, uefi::Status::SUCCESS, None)
    }
}

/// The verified signers' names, escaped, for the console.
fn signer_names(verified: &bootsign_pki::cms::Verified) -> String {
    verified.signers().iter().map(|s| escape(&s.name).to_string()).collect::<Vec<_>>().join(", ")
}
