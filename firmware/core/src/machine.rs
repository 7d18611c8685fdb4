//! The half of the script's machine that is the same on every platform: the network
//! (its interfaces, DHCP, DNS, NTP, ping), downloads over HTTP and HTTPS, and signature
//! checks with the embedded trust anchors. A platform's `bootsign_script::Machine` holds
//! a [`MachineCore`] and forwards these commands to it; printing, keys, PCI, SMBIOS,
//! booting and power stay with the platform.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use bootsign_config::{Config, Policy, TlsMin};
use bootsign_dhcp::client::ClientArch;
use bootsign_ntp::Utc;
use bootsign_pki::cms::{SignedData, Trust, decode_pem_or_der, verify};
use bootsign_pki::text::escape;
use bootsign_pki::{Crl, Fingerprint, HashAlgorithm, MultiHasher, Revocation};

use crate::clock::{BUILT, Clock};
use crate::hash::PartialSha256;
use crate::net::{Net, Nic};
use crate::proof::ImageProof;

/// How a platform finds its NICs: every one it has, in order (net0, net1, ...), or why
/// there is none.
pub type OpenNics = fn() -> Result<Vec<Nic>, String>;

/// The platform-independent machine.
pub struct MachineCore {
    clock: Clock,
    /// The architecture DHCP names.
    arch: ClientArch,
    open_nics: OpenNics,
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

impl MachineCore {
    /// The machine with its embedded configuration, on a platform whose DHCP
    /// architecture is `arch`, whose NICs `open_nics` finds (on first use) and whose
    /// SMBIOS UUID is `uuid`. Fails when an embedded CRL cannot be read: revocations must
    /// not be lost quietly.
    pub fn new(
        clock: Clock,
        config: Config<'static>,
        policy: Policy,
        arch: ClientArch,
        open_nics: OpenNics,
        uuid: Option<[u8; 16]>,
    ) -> Result<Self, String> {
        let anchors = config.anchors.iter().map(|a| Fingerprint(*a)).collect();
        let crls = config
            .crls
            .iter()
            .enumerate()
            .map(|(i, der)| Crl::parse(der).map_err(|e| alloc::format!("embedded CRL {}: {e}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            clock,
            arch,
            open_nics,
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
            uuid,
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
            let (clock, arch) = (self.clock, self.arch);
            let mut nets: Vec<Net> =
                (self.open_nics)()?.into_iter().map(|nic| Net::new(clock, arch, nic)).collect();
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
    pub fn current_net(&mut self) -> Result<&mut Net, String> {
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

    pub fn dhcp(&mut self, iface: &str) -> Result<Vec<(String, String)>, String> {
        let index = self.iface(iface)?;
        self.dhcp_on(index..index + 1).map(|(_, settings)| settings)
    }

    /// DHCP on every interface at once; the first to be configured is taken (iPXE tries
    /// them in turn, each with its own timeout).
    pub fn dhcp_any(&mut self) -> Result<(String, Vec<(String, String)>), String> {
        let count = self.nets()?.len();
        self.dhcp_on(0..count)
    }

    pub fn interface(&mut self, command: &str, iface: &str) -> Result<(), String> {
        let index = self.iface(iface)?;
        let net = &self.nets()?[index];
        if command == "ifstat" {
            crate::println!("{iface}: {} ({})", net.mac(), net.driver());
        }
        Ok(())
    }

    pub fn fetch(&mut self, uri: &str, timeout_ms: Option<u64>) -> Result<(Vec<u8>, PartialSha256), String> {
        self.download(uri, None, timeout_ms)
    }

    pub fn fetch_form(
        &mut self,
        uri: &str,
        form: &[u8],
        timeout_ms: Option<u64>,
    ) -> Result<(Vec<u8>, PartialSha256), String> {
        self.download(uri, Some(form), timeout_ms)
    }

    pub fn verify(
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

    pub fn verify_embedded(
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

    pub fn setting_changed(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
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

    pub fn ntp(&mut self, server: &str) -> Result<String, String> {
        self.sntp(server, None)
    }

    pub fn ping(
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

    pub fn resolve(&mut self, host: &str) -> Result<String, String> {
        self.current_net()?.resolve(host).map(|ip| ip.to_string())
    }

    /// Every interface's settings (`mac`, `chip`, `ifname`), by name.
    pub fn interfaces(&mut self) -> Vec<(String, Vec<(String, String)>)> {
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

    /// Gives the NICs up before a boot: idle connections are closed, each interface's
    /// configuration kept (the interfaces get it back if the started program returns, or
    /// when the boot fails), and every NIC the core drives stopped. The error names a NIC
    /// that did not confirm it stopped: it may still write to memory the started program
    /// will take for free, so nothing must be started.
    pub fn release_nics(&mut self) -> Result<(), String> {
        let mut running = Vec::new();
        if let Some(nets) = self.nets.as_mut() {
            self.pool.close_all(nets);
            self.leases = nets.iter().map(Net::lease).collect();
            for (i, net) in nets.iter_mut().enumerate() {
                if !net.stop() {
                    running.push(alloc::format!("net{i} ({})", net.driver()));
                }
            }
        }
        self.nets = None;
        match running.is_empty() {
            true => Ok(()),
            false => Err(alloc::format!(
                "{} did not stop when told to and may still write to memory: nothing is started",
                running.join(", ")
            )),
        }
    }

    /// The clock.
    pub fn clock(&self) -> Clock {
        self.clock
    }
}

/// The verified signers' names, escaped, for the console.
fn signer_names(verified: &bootsign_pki::cms::Verified) -> String {
    verified.signers().iter().map(|s| escape(&s.name).to_string()).collect::<Vec<_>>().join(", ")
}

/// The script run when the image embeds none: `examples/default.ipxe` (DHCP, then chain
/// the boot file DHCP names), which the script crate's tests run.
pub const DEFAULT_SCRIPT: &str = include_str!("../../../examples/default.ipxe");

/// The banner's line on what the build embedded, and which CPU instructions carry the
/// hashing and encryption.
pub fn trust_summary(cfg: &Config<'_>) -> String {
    alloc::format!(
        "{} trusted root(s), {} certificate(s){}{}{}",
        cfg.anchors.len(),
        cfg.certs.len(),
        match cfg.crls.len() {
            0 => String::new(),
            n => alloc::format!(", {n} CRL(s)"),
        },
        if cfg.key.is_some() { ", client key" } else { "" },
        match (crate::sha256_ni::supported(), crate::aes_gcm_ni::supported()) {
            (true, true) => ", SHA-256 and AES-GCM on the CPU's SHA and AES instructions",
            (true, false) => ", SHA-256 on the CPU's SHA extensions",
            (false, true) => ", AES-GCM on the CPU's AES instructions",
            (false, false) => "",
        }
    )
}

/// Runs the boot: like iPXE's autoboot, the network is configured first (unless the
/// build said not to), so scripts can use `${next-server}` and friends without a `dhcp`
/// line, then `script` runs with the trust the build demands, which no script can relax.
/// Returns only when nothing was booted, saying why.
pub fn run_script<M: bootsign_script::Machine>(machine: M, policy: Policy, script: &str) -> String {
    let mut interp =
        bootsign_script::Interpreter::new(machine, bootsign_script::TrustPolicy::from(policy.require_signed));
    if policy.autodhcp
        && let Err(e) = interp.run("dhcp\n", None)
    {
        crate::println!("bootsign: {}; continuing without a network configuration", e.message);
    }
    match interp.run(script, None) {
        Ok(0) => "the script ended without booting anything".into(),
        Ok(rc) => alloc::format!("the script exited with status {rc}"),
        Err(e) => alloc::format!("script {e}"),
    }
}

/// The `bootsign_script::Machine` methods a platform forwards to its [`MachineCore`]
/// (the field `$core`): the network, downloads and signature checks. Used inside the
/// platform's `impl Machine`, so both platforms answer these commands with the same code.
#[macro_export]
macro_rules! forward_to_core {
    ($core:ident) => {
        fn dhcp(
            &mut self,
            iface: &str,
        ) -> Result<alloc::vec::Vec<(alloc::string::String, alloc::string::String)>, alloc::string::String> {
            self.$core.dhcp(iface)
        }

        fn dhcp_any(
            &mut self,
        ) -> Result<
            (alloc::string::String, alloc::vec::Vec<(alloc::string::String, alloc::string::String)>),
            alloc::string::String,
        > {
            self.$core.dhcp_any()
        }

        fn interface(&mut self, command: &str, iface: &str) -> Result<(), alloc::string::String> {
            self.$core.interface(command, iface)
        }

        fn fetch(
            &mut self,
            uri: &str,
            timeout_ms: Option<u64>,
        ) -> Result<(alloc::vec::Vec<u8>, $crate::hash::PartialSha256), alloc::string::String> {
            self.$core.fetch(uri, timeout_ms)
        }

        fn fetch_form(
            &mut self,
            uri: &str,
            form: &[u8],
            timeout_ms: Option<u64>,
        ) -> Result<(alloc::vec::Vec<u8>, $crate::hash::PartialSha256), alloc::string::String> {
            self.$core.fetch_form(uri, form, timeout_ms)
        }

        fn verify(
            &mut self,
            data: &[u8],
            fetched: &$crate::hash::PartialSha256,
            signature: &[u8],
            signer: Option<&str>,
        ) -> Result<($crate::proof::ImageProof, alloc::string::String), alloc::string::String> {
            self.$core.verify(data, fetched, signature, signer)
        }

        fn verify_embedded(
            &mut self,
            data: &[u8],
            fetched: &$crate::hash::PartialSha256,
            signer: Option<&str>,
        ) -> Result<($crate::proof::ImageProof, alloc::string::String), alloc::string::String> {
            self.$core.verify_embedded(data, fetched, signer)
        }

        fn setting_changed(&mut self, name: &str, value: Option<&str>) -> Result<(), alloc::string::String> {
            self.$core.setting_changed(name, value)
        }

        fn ntp(&mut self, server: &str) -> Result<alloc::string::String, alloc::string::String> {
            self.$core.ntp(server)
        }

        fn ping(
            &mut self,
            host: &str,
            seq: u16,
            size: usize,
            timeout_ms: u64,
        ) -> Result<(alloc::string::String, usize, u64), alloc::string::String> {
            self.$core.ping(host, seq, size, timeout_ms)
        }

        fn resolve(&mut self, host: &str) -> Result<alloc::string::String, alloc::string::String> {
            self.$core.resolve(host)
        }

        fn interfaces(
            &mut self,
        ) -> alloc::vec::Vec<(
            alloc::string::String,
            alloc::vec::Vec<(alloc::string::String, alloc::string::String)>,
        )> {
            self.$core.interfaces()
        }

        fn unix_time(&self) -> Option<u64> {
            self.$core.clock().unix_time()
        }

        fn now_ms(&self) -> Option<u64> {
            Some(self.$core.clock().now_ms())
        }

        fn cpuid(&mut self, leaf: u32) -> Option<[u32; 4]> {
            // CPUID exists on every x86-64 processor.
            let r = core::arch::x86_64::__cpuid(leaf);
            Some([r.eax, r.ebx, r.ecx, r.edx])
        }
    };
}

/// The console's line before a boot: what is started, whether it was verified, its
/// initrds and command line.
pub fn boot_line(boot: &bootsign_script::Boot<'_, ImageProof, PartialSha256>) -> String {
    let image = boot.image().image();
    let initrds = boot.initrds().len();
    alloc::format!(
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
    )
}

/// The SMBIOS system UUID (`table`, of SMBIOS `version`) in network byte order (SMBIOS
/// 2.6 on stores its first three fields little-endian), unless it is absent, all zeros or
/// all ones ("not set"): what DHCP sends as option 97.
pub fn smbios_uuid(table: &[u8], version: (u8, u8)) -> Option<[u8; 16]> {
    let (tag, as_uuid) = bootsign_smbios::Tag::named("uuid")?;
    let (raw, _) = bootsign_smbios::Table::new(table, version).read(tag, as_uuid)?;
    let uuid: [u8; 16] = raw.try_into().ok()?;
    (uuid != [0; 16] && uuid != [0xff; 16]).then_some(uuid)
}
