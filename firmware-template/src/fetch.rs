//! Downloads over HTTP and HTTPS: the sans-IO parser from `bootsign-http` driven by a
//! connection (plain TCP or TLS), with redirects, missing issuers fetched from the
//! cross-certificate server, a progress line, and errors that name the URL.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use bootsign_http::{Event, Head, ResponseParser, Scheme, Status, Url, get_request};
use bootsign_pki::text::escape;

use bootsign_tls::{Config, Connection};

use crate::conn::{Conn, Pumped};
use crate::hash::PartialSha256;
use crate::net::Net;

const MAX_REDIRECTS: usize = 5;
/// How long a download may go without receiving anything.
const IDLE_TIMEOUT_MS: u64 = 20_000;
/// Bytes hashed per wait for the network: small enough that arriving data waits at most
/// a fraction of a millisecond (the TCP window absorbs that), large enough to amortise.
const HASH_SLICE: usize = 4 * 1024;
const USER_AGENT: &str = concat!("bootsign/", env!("CARGO_PKG_VERSION"));

enum Fetched {
    Body(Vec<u8>, PartialSha256),
    Redirect(String),
}

/// Downloads `uri` completely. The SHA-256 of the content is computed while the network
/// keeps the downloader waiting, so `imgverify` has little or nothing left to hash.
pub fn fetch(
    net: &mut Net,
    tls: &mut Option<TlsContext<'_>>,
    uri: &str,
) -> Result<(Vec<u8>, PartialSha256), String> {
    let mut current = uri.to_string();
    for _ in 0..=MAX_REDIRECTS {
        match fetch_once(net, tls, &current)? {
            Fetched::Body(b, d) => return Ok((b, d)),
            Fetched::Redirect(next) => current = next,
        }
    }
    Err(alloc::format!("more than {MAX_REDIRECTS} redirects"))
}

enum Step {
    More,
    Done,
    Redirect(String),
}

/// Feeds `input` to the parser until it needs more; returns the bytes used.
fn drive(
    parser: &mut ResponseParser,
    input: &[u8],
    body: &mut Vec<u8>,
    head: &mut Option<Head>,
    url: &Url<'_>,
) -> Result<(usize, Step), String> {
    let mut used = 0;
    loop {
        let (n, event) = parser.feed(&input[used..]).map_err(|e| e.to_string())?;
        used += n;
        match event {
            Some(Event::Head(h)) => {
                match h.classify() {
                    Status::Success => {}
                    Status::Redirect => {
                        let to = url.join(h.location.as_deref().unwrap_or("/"));
                        return Ok((used, Step::Redirect(to)));
                    }
                    Status::Failure => return Err(alloc::format!("HTTP {} {}", h.status, h.reason)),
                }
                if let Some(len) = h.content_length {
                    // The whole body at once: one allocation, and a clear error up front
                    // when it cannot fit.
                    usize::try_from(len)
                        .ok()
                        .and_then(|n| body.try_reserve_exact(n).ok())
                        .ok_or_else(|| too_large(len))?;
                }
                *head = Some(h);
            }
            Some(Event::Body(b)) => {
                // Growing by doubling needs the old and the new block at once; when that
                // fails, growing by just enough may still fit.
                body.try_reserve(b.len())
                    .or_else(|_| body.try_reserve_exact(b.len()))
                    .map_err(|_| too_large((body.len() + b.len()) as u64))?;
                body.extend_from_slice(b);
            }
            Some(Event::End) => return Ok((used, Step::Done)),
            None if n == 0 => return Ok((used, Step::More)),
            None => {}
        }
    }
}

/// The error for a body that does not fit in memory.
fn too_large(bytes: u64) -> String {
    alloc::format!(
        "the response is {bytes} bytes ({:.1} MiB), more than this machine has memory for",
        bytes as f64 / (1024.0 * 1024.0)
    )
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// What `fetch` needs for `https://`: the TLS configuration (built once per boot, when
/// the platform can supply randomness and the time) and the cross-certificate server.
pub struct TlsContext<'a> {
    pub config: Result<&'a mut Config, &'a str>,
    pub crosscert: Option<&'a str>,
}

/// At most this many missing issuers are fetched for one connection.
const MAX_CROSSCERTS: usize = 4;

fn fetch_once(net: &mut Net, tls: &mut Option<TlsContext<'_>>, uri: &str) -> Result<Fetched, String> {
    let url = Url::parse(uri).map_err(|e| e.to_string())?;
    let ip = net.resolve(url.host)?;
    let mut fetched_issuers = 0;
    let mut legacy_retry: Option<Connection> = None;
    let mut retried = false;
    loop {
        let handle = net.connect(ip, url.port)?;
        let conn = if url.scheme == Scheme::Https {
            let Some(ctx) = tls.as_mut() else {
                net.close(handle);
                return Err("https:// is not available here".into());
            };
            let config = match &mut ctx.config {
                Ok(c) => &mut **c,
                Err(why) => {
                    net.close(handle);
                    return Err(alloc::format!("cannot use https://: {why}"));
                }
            };
            let client = match legacy_retry.take() {
                Some(c) => c,
                None => Connection::new(config, url.host).map_err(|e| alloc::format!("{e}"))?,
            };
            match Conn::tls(net, handle, client) {
                Ok(c) => c,
                Err(e) => {
                    net.close(handle);
                    let Some(err) = e.tls else { return Err(e.message) };
                    // A chain that stops short of a trusted root: ask the cross-certificate
                    // server for the missing issuer, then try again. What it sends is
                    // validated like everything else; it only completes paths.
                    if let (Some(dn), Some(base)) = (err.missing_issuer(), ctx.crosscert)
                        && fetched_issuers < MAX_CROSSCERTS
                    {
                        fetched_issuers += 1;
                        let cross_url = bootsign_tls::crosscert::crosscert_url(base, dn);
                        crate::println!(
                            "{}: fetching a missing issuer from {}",
                            escape(uri),
                            escape(&cross_url)
                        );
                        let (answer, _) = fetch(net, &mut None, &cross_url)
                            .map_err(|f| alloc::format!("{}; fetching its issuer failed: {f}", e.message))?;
                        let certs =
                            bootsign_tls::crosscert::parse_crosscert_response(&answer).map_err(|f| {
                                alloc::format!("{}; {cross_url} sent no usable certificates: {f}", e.message)
                            })?;
                        config.add_certificates(certs).map_err(|f| alloc::format!("{cross_url}: {f}"))?;
                        continue;
                    }
                    // The server refused everything TLS 1.3/1.2-with-ECDHE offers: try the
                    // static-RSA suites (and TLS 1.0/1.1 if the build allows them) once.
                    if !retried && let Some(next) = Connection::retry_after(&err, config, url.host) {
                        retried = true;
                        legacy_retry = Some(next.map_err(|f| alloc::format!("{f}"))?);
                        continue;
                    }
                    return Err(e.message);
                }
            }
        } else {
            Conn::plain(handle)
        };
        let mut conn = conn;
        let result = transfer(net, &mut conn, &url, uri);
        conn.close(net);
        return result;
    }
}

/// The response parser and what it has produced so far.
struct Receiver<'u> {
    parser: ResponseParser,
    pending: Vec<u8>,
    body: Vec<u8>,
    head: Option<Head>,
    url: &'u Url<'u>,
    step: Step,
}

impl Receiver<'_> {
    /// Consumes all of `data`: what the parser cannot take yet waits in `pending`.
    fn feed(&mut self, data: &[u8]) -> Result<(), String> {
        if !matches!(self.step, Step::More) {
            return Ok(());
        }
        self.step = if self.pending.is_empty() {
            let (used, step) = drive(&mut self.parser, data, &mut self.body, &mut self.head, self.url)?;
            self.pending.extend_from_slice(&data[used..]);
            step
        } else {
            self.pending.extend_from_slice(data);
            let pending = core::mem::take(&mut self.pending);
            let (used, step) = drive(&mut self.parser, &pending, &mut self.body, &mut self.head, self.url)?;
            self.pending = pending;
            self.pending.drain(..used);
            step
        };
        Ok(())
    }
}

fn transfer(net: &mut Net, conn: &mut Conn, url: &Url<'_>, uri: &str) -> Result<Fetched, String> {
    let clock = net.clock();
    conn.send(net, &get_request(url, USER_AGENT, None))?;

    let started = clock.now_ms();
    let mut rx = Receiver {
        parser: ResponseParser::new(false),
        pending: Vec::new(),
        body: Vec::new(),
        head: None,
        url,
        step: Step::More,
    };
    let mut hasher = PartialSha256::new();
    let mut last_data = started;
    let mut last_progress = started;
    loop {
        let pumped = conn.pump(net, &mut |data: &[u8]| rx.feed(data))?;
        let now = clock.now_ms();
        match pumped {
            Pumped::Data => last_data = now,
            Pumped::Closed { clean } => {
                if matches!(rx.step, Step::More) {
                    // A close-delimited body ends here; a short one is reported by the parser.
                    rx.parser.finish().map_err(|e| e.to_string())?;
                    if !clean {
                        return Err(alloc::format!(
                            "{uri}: the server closed the connection without TLS close_notify, so the end of the \
                             response cannot be trusted"
                        ));
                    }
                    rx.step = Step::Done;
                }
            }
            Pumped::Idle => {
                // Waiting for the network: hash what has arrived.
                if !hasher.advance(&rx.body, HASH_SLICE) && now - last_data > IDLE_TIMEOUT_MS {
                    return Err(alloc::format!("no data from the server for {} s", IDLE_TIMEOUT_MS / 1000));
                }
            }
        }
        match core::mem::replace(&mut rx.step, Step::More) {
            Step::More => {}
            Step::Redirect(to) => {
                crate::println!("{}: redirected to {}", escape(uri), escape(&to));
                return Ok(Fetched::Redirect(to));
            }
            Step::Done => break,
        }
        if now - last_progress >= 500 {
            last_progress = now;
            let got = mib(rx.body.len());
            crate::console::rewind();
            match rx.head.as_ref().and_then(|h| h.content_length) {
                Some(total) => crate::print!("{} {got:.1} / {:.1} MiB", escape(uri), mib(total as usize)),
                None => crate::print!("{} {got:.1} MiB", escape(uri)),
            }
        }
    }
    let ms = (clock.now_ms() - started).max(1);
    let body = rx.body;
    let tls = conn.tls_summary.as_deref().map(|t| alloc::format!(", {t}")).unwrap_or_default();
    crate::console::rewind();
    crate::println!(
        "{} {} bytes in {}.{:03} s ({:.1} MiB/s{tls})",
        escape(uri),
        body.len(),
        ms / 1000,
        ms % 1000,
        mib(body.len()) * 1000.0 / ms as f64
    );
    Ok(Fetched::Body(body, hasher))
}
