//! Downloads over HTTP and HTTPS: the sans-IO parser from `bootsign-http` driven by a
//! connection (plain TCP or TLS), with redirects, missing issuers fetched from the
//! cross-certificate server, a progress line, and errors that name the URL.
//!
//! Downloads survive what busy servers do: connections are kept open and reused for the
//! next download from the same origin ([`crate::pool`]); a failed attempt is retried by
//! `bootsign_http::retry`'s policy (backoff with jitter, `Retry-After`), saying so on
//! the console; a body cut short is resumed with `Range`/`If-Range` where the server
//! named a validator, the SHA-256 carrying on over the bytes already received; and a
//! `--timeout` bounds the whole download, retries included.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use bootsign_http::auth::{self, AuthError};
use bootsign_http::{
    Decision, Event, Failure, GiveUp, Head, RangeAnswer, ResponseParser, Resume, Retries, RetryPolicy,
    Scheme, Status, Url, Validator, get_request, post_request,
};
use bootsign_pki::text::escape;

use bootsign_tls::{Config, Connection};

use crate::conn::{Conn, Pumped};
use crate::hash::PartialSha256;
use crate::net::Net;
use crate::pool::{Origin, Pool};

const MAX_REDIRECTS: usize = 5;
/// How long a download may go without receiving anything before the attempt counts as
/// interrupted (and is retried).
const IDLE_TIMEOUT_MS: u64 = 20_000;
/// Bytes hashed per wait for the network: small enough that arriving data waits at most
/// a fraction of a millisecond (the TCP window absorbs that), large enough to amortise.
const HASH_SLICE: usize = 4 * 1024;
const USER_AGENT: &str = concat!("bootsign/", env!("CARGO_PKG_VERSION"));
/// The content type of a POSTed form (`URI##params`), as iPXE sends it.
const FORM: &str = "application/x-www-form-urlencoded";

/// The interface downloads go through and the connections kept open on it.
pub struct Session<'a> {
    pub net: &'a mut Net,
    /// The interface's index (net0, net1, ...), which pooled connections are tied to.
    pub index: usize,
    pub pool: &'a mut Pool,
}

/// What `fetch` needs for `https://`: the TLS configuration (built once per boot, when
/// the platform can supply randomness and the time) and the cross-certificate server.
pub struct TlsContext<'a> {
    pub config: Result<&'a mut Config, &'a str>,
    pub crosscert: Option<&'a str>,
}

/// At most this many missing issuers are fetched for one connection.
const MAX_CROSSCERTS: usize = 4;

/// The time limit of one download (`--timeout`).
#[derive(Clone, Copy)]
struct Limit {
    started: u64,
    timeout_ms: Option<u64>,
}

impl Limit {
    fn deadline(&self) -> Option<u64> {
        self.timeout_ms.map(|t| self.started + t)
    }

    /// Milliseconds left, if there is a limit.
    fn remaining(&self, now: u64) -> Option<u64> {
        self.deadline().map(|d| d.saturating_sub(now))
    }

    fn passed(&self, now: u64) -> bool {
        self.deadline().is_some_and(|d| now >= d)
    }

    /// The message for a download stopped by its limit.
    fn message(&self, now: u64, what: &str) -> String {
        alloc::format!(
            "timed out after {} (--timeout {} ms): {what}",
            secs(now - self.started),
            self.timeout_ms.unwrap_or(0)
        )
    }
}

/// "1.5 s", "250 ms".
fn secs(ms: u64) -> String {
    if ms < 1000 {
        alloc::format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        alloc::format!("{} s", ms / 1000)
    } else {
        alloc::format!("{}.{} s", ms / 1000, ms % 1000 / 100)
    }
}

/// What arrived of a download before its connection failed.
struct Partial {
    body: Vec<u8>,
    hasher: PartialSha256,
    /// How to ask for the rest.
    resume: Resume,
}

/// A failed attempt: what happened, how the retry policy sees it, and what to keep.
struct Failed {
    message: String,
    failure: Failure,
    partial: Option<Box<Partial>>,
}

impl Failed {
    fn new(message: String, failure: Failure, partial: Option<Box<Partial>>) -> Self {
        Self { message, failure, partial }
    }
}

enum Outcome {
    Body(Vec<u8>, PartialSha256),
    Redirect(String),
    /// A 401: the server's WWW-Authenticate challenges.
    Challenged(Vec<String>),
}

/// `uri` for the console: controls escaped, a password hidden.
fn display(uri: &str) -> String {
    escape(&bootsign_http::url::redact(uri)).to_string()
}

/// A number for the backoff's jitter: from the platform's random source, else from the
/// MAC address and the time, which still spread a fleet's machines apart.
fn jitter(net: &Net) -> u64 {
    let mut bytes = [0u8; 8];
    if bootsign_tls::RandomSource::fill(&crate::rng::RNG, &mut bytes).is_ok() {
        return u64::from_le_bytes(bytes);
    }
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ net.clock().now_ms();
    for b in net.mac().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Downloads `uri` completely, within `timeout_ms` if given (iPXE's `--timeout`: the
/// whole download, retries included). The SHA-256 of the content is computed while the
/// network keeps the downloader waiting, so `imgverify` has little or nothing left to hash.
pub fn fetch(
    s: &mut Session<'_>,
    tls: &mut Option<TlsContext<'_>>,
    uri: &str,
    timeout_ms: Option<u64>,
) -> Result<(Vec<u8>, PartialSha256), String> {
    fetch_with(s, tls, uri, None, timeout_ms)
}

/// [`fetch`], with `form` (`application/x-www-form-urlencoded`) POSTed to `uri` when given
/// (iPXE's `URI##params`). A POST's answer is not resumed with Range: a retry asks again
/// from the start; a redirect is followed with GET.
pub fn fetch_with(
    s: &mut Session<'_>,
    tls: &mut Option<TlsContext<'_>>,
    uri: &str,
    mut form: Option<&[u8]>,
    timeout_ms: Option<u64>,
) -> Result<(Vec<u8>, PartialSha256), String> {
    let clock = s.net.clock();
    let limit = Limit { started: clock.now_ms(), timeout_ms };
    let mut retries = Retries::new(RetryPolicy::default());
    let mut current = uri.to_string();
    let mut redirects = 0;
    let mut partial = None;
    // The answer to the server's challenge, once it asked (as iPXE: never unasked).
    let mut authorization: Option<String> = None;
    loop {
        match attempt(s, tls, &current, form, authorization.as_deref(), partial.take(), limit) {
            Ok(Outcome::Body(body, hasher)) => return Ok((body, hasher)),
            Ok(Outcome::Challenged(challenges)) => {
                let refused = |why: &dyn core::fmt::Display| alloc::format!("HTTP 401 Unauthorized: {why}");
                if authorization.is_some() {
                    return Err(refused(&"the server refused the user name and password in the URL"));
                }
                let url = Url::parse(&current).map_err(|e| e.to_string())?;
                let credentials = url.credentials().ok_or_else(|| refused(&AuthError::NoCredentials))?;
                let challenge = auth::choose(&challenges).map_err(|e| refused(&e))?;
                let method = if form.is_some() { "POST" } else { "GET" };
                let cnonce = alloc::format!("{:016x}", jitter(s.net));
                let answer = credentials.authorization(&challenge, method, &url.target(), &cnonce);
                authorization = Some(answer.map_err(|e| refused(&e))?);
            }
            Ok(Outcome::Redirect(next)) => {
                form = None;
                authorization = None;
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(alloc::format!("more than {MAX_REDIRECTS} redirects"));
                }
                current = next;
            }
            Err(Failed { message, failure, partial: kept }) => {
                let now = clock.now_ms();
                match retries.after(failure, jitter(s.net), limit.remaining(now)) {
                    Decision::Retry { delay_ms, attempt } => {
                        let which = match attempt {
                            Some(n) => alloc::format!("attempt {n} of {}", retries.policy().max_attempts),
                            None => "as the server asked".into(),
                        };
                        let resume = match &kept {
                            Some(p) if p.resume.from > 0 => {
                                alloc::format!(", resuming at byte {}", p.resume.from)
                            }
                            _ => String::new(),
                        };
                        crate::console::rewind();
                        crate::println!(
                            "{}: {message}; retrying in {} ({which}{resume})",
                            display(&current),
                            secs(delay_ms)
                        );
                        let until = clock.now_ms() + delay_ms;
                        while clock.now_ms() < until {
                            // Keeps the stack (and pooled connections) answering meanwhile.
                            s.net.poll();
                        }
                        // A POST is asked again whole.
                        partial = kept.filter(|_| form.is_none());
                    }
                    Decision::GiveUp(why) => {
                        return Err(match why {
                            GiveUp::NotRetryable => message,
                            GiveUp::Attempts(n) => alloc::format!("{message} (gave up after {n} attempts)"),
                            GiveUp::TimeLimit => alloc::format!(
                                "{message}; gave up after {}: another attempt would pass --timeout {} ms",
                                secs(now - limit.started),
                                timeout_ms.unwrap_or(0)
                            ),
                            GiveUp::Busy { answers, waited_ms } => alloc::format!(
                                "{message} (the server stayed busy: {answers} answers asking to call back, {} waited)",
                                secs(waited_ms)
                            ),
                        });
                    }
                }
            }
        }
    }
}

/// One attempt: a connection (pooled, or new) and one request on it. A pooled connection
/// the server closed before answering is replaced by a new one without counting as a
/// failure (servers close idle connections whenever they like).
fn attempt(
    s: &mut Session<'_>,
    tls: &mut Option<TlsContext<'_>>,
    uri: &str,
    form: Option<&[u8]>,
    authorization: Option<&str>,
    mut partial: Option<Box<Partial>>,
    limit: Limit,
) -> Result<Outcome, Failed> {
    let url = match Url::parse(uri) {
        Ok(u) => u,
        Err(e) => return Err(Failed::new(e.to_string(), Failure::Permanent, None)),
    };
    let origin = Origin::of(&url, s.index);
    loop {
        let (mut conn, reused) = match s.pool.take(s.net, &origin) {
            Some(c) => (c, true),
            None => match connect(s, tls, &url, uri, limit) {
                Ok(c) => (c, false),
                Err((message, failure)) => return Err(Failed::new(message, failure, partial)),
            },
        };
        let target = Target { url: &url, uri, form, authorization };
        match transfer(s.net, &mut conn, &target, partial, limit, reused) {
            Ok((outcome, reusable)) => {
                if reusable {
                    s.pool.put(s.net, origin, conn);
                } else {
                    conn.close(s.net);
                }
                return Ok(outcome);
            }
            Err(Transfer::Stale(kept)) => {
                conn.close(s.net);
                partial = kept;
            }
            Err(Transfer::Failed(f)) => {
                conn.close(s.net);
                return Err(f);
            }
        }
    }
}

/// A new connection to `url`'s origin, through TLS for `https://`. On failure, the
/// message and how the retry policy sees it.
fn connect(
    s: &mut Session<'_>,
    tls: &mut Option<TlsContext<'_>>,
    url: &Url<'_>,
    uri: &str,
    limit: Limit,
) -> Result<Conn, (String, Failure)> {
    let clock = s.net.clock();
    let ip = s.net.resolve(url.host).map_err(|e| (e, Failure::Permanent))?;
    let mut fetched_issuers = 0;
    let mut legacy_retry: Option<Connection> = None;
    let mut retried = false;
    loop {
        let remaining = limit.remaining(clock.now_ms());
        if remaining == Some(0) {
            return Err((
                limit.message(clock.now_ms(), "no connection to the server yet"),
                Failure::Permanent,
            ));
        }
        let handle = s.net.connect(ip, url.port, remaining).map_err(|e| (e, Failure::Connect))?;
        if url.scheme != Scheme::Https {
            return Ok(Conn::plain(handle));
        }
        let Some(ctx) = tls.as_mut() else {
            s.net.close(handle);
            return Err(("https:// is not available here".into(), Failure::Permanent));
        };
        let config = match &mut ctx.config {
            Ok(c) => &mut **c,
            Err(why) => {
                s.net.close(handle);
                return Err((alloc::format!("cannot use https://: {why}"), Failure::Permanent));
            }
        };
        let client = match legacy_retry.take() {
            Some(c) => c,
            None => {
                Connection::new(config, url.host).map_err(|e| (alloc::format!("{e}"), Failure::Permanent))?
            }
        };
        let e = match Conn::tls(s.net, handle, client, limit.remaining(clock.now_ms())) {
            Ok(c) => return Ok(c),
            Err(e) => e,
        };
        s.net.close(handle);
        let Some(err) = e.tls else {
            // The handshake timed out: the server may be overloaded.
            return Err((e.message, Failure::Connect));
        };
        // A chain that stops short of a trusted root: ask the cross-certificate server
        // for the missing issuer, then try again. What it sends is validated like
        // everything else; it only completes paths.
        if let (Some(dn), Some(base)) = (err.missing_issuer(), ctx.crosscert)
            && fetched_issuers < MAX_CROSSCERTS
        {
            fetched_issuers += 1;
            let cross_url = bootsign_tls::crosscert::crosscert_url(base, dn);
            crate::println!("{}: fetching a missing issuer from {}", display(uri), display(&cross_url));
            let remaining = limit.remaining(clock.now_ms());
            let (answer, _) = fetch(s, &mut None, &cross_url, remaining).map_err(|f| {
                (alloc::format!("{}; fetching its issuer failed: {f}", e.message), Failure::Permanent)
            })?;
            let certs = bootsign_tls::crosscert::parse_crosscert_response(&answer).map_err(|f| {
                (
                    alloc::format!("{}; {cross_url} sent no usable certificates: {f}", e.message),
                    Failure::Permanent,
                )
            })?;
            // The cross-certificate download borrowed the session; the configuration is
            // looked up again.
            let Some(Ok(config)) = tls.as_mut().map(|c| c.config.as_mut()) else { unreachable!() };
            config
                .add_certificates(certs)
                .map_err(|f| (alloc::format!("{cross_url}: {f}"), Failure::Permanent))?;
            continue;
        }
        // The server refused everything TLS 1.3/1.2-with-ECDHE offers: try the
        // static-RSA suites (and TLS 1.0/1.1 if the build allows them) once.
        if !retried && let Some(next) = Connection::retry_after(&err, config, url.host) {
            retried = true;
            legacy_retry = Some(next.map_err(|f| (alloc::format!("{f}"), Failure::Permanent))?);
            continue;
        }
        // The server hung up in the middle of the handshake: worth another try. Anything
        // else TLS decided (a certificate refused, no common suite) stays decided.
        let failure = match err {
            bootsign_tls::Error::ClosedDuringHandshake => Failure::Connect,
            _ => Failure::Permanent,
        };
        return Err((crate::ntp::validity_hint(&clock, e.message, err.depends_on_the_clock()), failure));
    }
}

/// Why the parser's sink stopped a transfer.
enum Stop {
    /// The response cannot be used and asking again will not change that.
    Permanent(String),
    /// An error status.
    Status(Box<Head>),
    /// The answer to a range request did not continue the download: start over.
    BadRange(String),
    /// The connection failed (from [`Conn::pump`]).
    Io(String),
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Self::Io(message)
    }
}

enum Step {
    More,
    Done,
    Redirect(String),
    Challenged(Vec<String>),
}

/// The response parser and what it has produced so far.
struct Receiver<'u> {
    parser: ResponseParser,
    pending: Vec<u8>,
    body: Vec<u8>,
    hasher: PartialSha256,
    head: Option<Head>,
    url: &'u Url<'u>,
    step: Step,
    /// What this attempt asked to resume, and how the answer was taken.
    resume: Option<Resume>,
    /// The validator and complete length of the file being received, for a later resume.
    validator: Option<Validator>,
    total: Option<u64>,
    /// Where this attempt's bytes start in `body` (non-zero when resumed).
    resumed_at: Option<u64>,
    /// Whether any response byte arrived.
    got_any: bool,
}

impl Receiver<'_> {
    /// Consumes all of `data`: what the parser cannot take yet waits in `pending`.
    fn feed(&mut self, data: &[u8]) -> Result<(), Stop> {
        self.got_any |= !data.is_empty();
        if !matches!(self.step, Step::More) {
            // Bytes past the end of the answer (nothing was asked for them): kept, so the
            // connection is not reused with them in the way.
            self.pending.extend_from_slice(data);
            return Ok(());
        }
        let mut pending = core::mem::take(&mut self.pending);
        let used = if pending.is_empty() {
            let used = self.drive(data)?;
            pending.extend_from_slice(&data[used..]);
            0
        } else {
            pending.extend_from_slice(data);
            self.drive(&pending)?
        };
        pending.drain(..used);
        self.pending = pending;
        Ok(())
    }

    /// Feeds `input` to the parser until it needs more; returns the bytes used.
    fn drive(&mut self, input: &[u8]) -> Result<usize, Stop> {
        let mut used = 0;
        loop {
            let (n, event) = self.parser.feed(&input[used..]).map_err(|e| Stop::Permanent(e.to_string()))?;
            used += n;
            match event {
                Some(Event::Head(h)) => {
                    match h.classify() {
                        Status::Success => {}
                        Status::Redirect => {
                            let to = self.url.join(h.location.as_deref().unwrap_or("/"));
                            self.step = Step::Redirect(to);
                            return Ok(used);
                        }
                        Status::Failure if h.status == 401 => {
                            self.step = Step::Challenged(h.www_authenticate);
                            return Ok(used);
                        }
                        Status::Failure => return Err(Stop::Status(h)),
                    }
                    self.accept(&h)?;
                    if let Some(len) = h.content_length {
                        // The whole body at once: one allocation, and a clear error up
                        // front when it cannot fit.
                        usize::try_from(len)
                            .ok()
                            .and_then(|n| self.body.try_reserve_exact(n).ok())
                            .ok_or_else(|| Stop::Permanent(too_large(self.body.len() as u64 + len)))?;
                    }
                    self.head = Some(*h);
                }
                Some(Event::Body(b)) => {
                    // Growing by doubling needs the old and the new block at once; when
                    // that fails, growing by just enough may still fit.
                    self.body
                        .try_reserve(b.len())
                        .or_else(|_| self.body.try_reserve_exact(b.len()))
                        .map_err(|_| Stop::Permanent(too_large((self.body.len() + b.len()) as u64)))?;
                    self.body.extend_from_slice(b);
                }
                Some(Event::End) => {
                    self.step = Step::Done;
                    return Ok(used);
                }
                None if n == 0 => return Ok(used),
                None => {}
            }
        }
    }

    /// Takes a success head: continues a resumed download or starts (over) with it.
    fn accept(&mut self, h: &Head) -> Result<(), Stop> {
        if let Some(resume) = &self.resume {
            match resume.check(h) {
                Ok(RangeAnswer::Continue) => {
                    self.resumed_at = Some(resume.from);
                    self.validator = Some(resume.validator.clone());
                    self.total = resume.length.or(h.content_range.and_then(|c| c.length));
                    return Ok(());
                }
                Ok(RangeAnswer::StartOver) => {
                    // The file changed (or the server ignores ranges): this is all of it.
                    self.body.clear();
                    self.hasher = PartialSha256::new();
                }
                Err(e) => return Err(Stop::BadRange(e.to_string())),
            }
        }
        self.validator = Validator::of(h);
        self.total = h.content_length.filter(|_| !h.chunked);
        Ok(())
    }

    /// What to keep after the connection failed: the bytes so far and how to ask for the
    /// rest. Nothing when the server named no validator (the next attempt starts over);
    /// when this attempt got no usable head, what the previous one kept still stands.
    fn into_partial(self) -> Option<Box<Partial>> {
        let resume = if self.head.is_some() {
            Resume { from: self.body.len() as u64, length: self.total, validator: self.validator? }
        } else {
            self.resume?
        };
        Some(Box::new(Partial { body: self.body, hasher: self.hasher, resume }))
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

/// How a transfer failed.
enum Transfer {
    /// A reused connection that the server had closed: nothing was answered.
    Stale(Option<Box<Partial>>),
    Failed(Failed),
}

/// What a request asks for: the URL (parsed, and as given) and a form to POST.
struct Target<'a> {
    url: &'a Url<'a>,
    uri: &'a str,
    form: Option<&'a [u8]>,
    /// The Authorization header answering the server's challenge.
    authorization: Option<&'a str>,
}

/// Sends the request on `conn` and receives the answer. On success, the outcome and
/// whether the connection may carry another request.
fn transfer(
    net: &mut Net,
    conn: &mut Conn,
    target: &Target<'_>,
    partial: Option<Box<Partial>>,
    limit: Limit,
    reused: bool,
) -> Result<(Outcome, bool), Transfer> {
    let (url, uri) = (target.url, target.uri);
    let clock = net.clock();
    let (body, hasher, resume) = match partial {
        Some(p) => {
            let p = *p;
            (p.body, p.hasher, Some(p.resume))
        }
        None => (Vec::new(), PartialSha256::new(), None),
    };
    let mut rx = Receiver {
        parser: ResponseParser::new(false),
        pending: Vec::new(),
        body,
        hasher,
        head: None,
        url,
        step: Step::More,
        resume,
        validator: None,
        total: None,
        resumed_at: None,
        got_any: false,
    };
    let request = match target.form {
        Some(form) => post_request(url, USER_AGENT, FORM, form, target.authorization),
        None => get_request(url, USER_AGENT, rx.resume.as_ref(), target.authorization),
    };
    if let Err(e) = conn.send(net, &request) {
        if reused {
            return Err(Transfer::Stale(rx.into_partial()));
        }
        return Err(Transfer::Failed(Failed::new(e, Failure::Interrupted, rx.into_partial())));
    }

    let started = clock.now_ms();
    let mut last_data = started;
    let mut last_progress = started;
    let mut shown = false;
    loop {
        let pumped = conn.pump(net, &mut |data: &[u8]| rx.feed(data));
        let now = clock.now_ms();
        let failed = |rx: Receiver<'_>, message: String, failure: Failure| {
            if shown {
                // Ends the progress line: what comes next has a line of its own.
                crate::print!("\n");
            }
            Err(Transfer::Failed(Failed::new(message, failure, rx.into_partial())))
        };
        match pumped {
            Ok(Pumped::Data) => last_data = now,
            Ok(Pumped::Closed { clean }) => {
                if matches!(rx.step, Step::More) {
                    if reused && !rx.got_any {
                        return Err(Transfer::Stale(rx.into_partial()));
                    }
                    // A close-delimited body ends here; a short one is reported by the parser.
                    if let Err(e) = rx.parser.finish() {
                        let how = if conn.was_reset(net) { "reset" } else { "closed" };
                        let message = match e {
                            bootsign_http::HttpError::BadStatusLine if !rx.got_any => {
                                alloc::format!("the server {how} the connection without answering")
                            }
                            e => e.to_string(),
                        };
                        return failed(rx, message, Failure::Interrupted);
                    }
                    if !clean {
                        return failed(
                            rx,
                            "the server closed the connection without TLS close_notify, so the end of the \
                             response cannot be trusted"
                                .into(),
                            Failure::Interrupted,
                        );
                    }
                    rx.step = Step::Done;
                }
            }
            Ok(Pumped::Idle) => {
                // Waiting for the network: hash what has arrived.
                if !rx.hasher.advance(&rx.body, HASH_SLICE) && now - last_data > IDLE_TIMEOUT_MS {
                    let message = alloc::format!("no data from the server for {}", secs(now - last_data));
                    return failed(rx, message, Failure::Interrupted);
                }
            }
            Err(Stop::Io(message)) => return failed(rx, message, Failure::Interrupted),
            Err(Stop::Permanent(message)) => return failed(rx, message, Failure::Permanent),
            Err(Stop::Status(h)) if h.status == 416 && rx.resume.is_some() => {
                // The range asked for is past the end: the file changed; start over.
                rx.resume = None;
                let message = alloc::format!("HTTP 416 {} when resuming; starting over", escape(&h.reason));
                return failed(rx, message, Failure::Interrupted);
            }
            Err(Stop::Status(h)) => {
                let message = alloc::format!("HTTP {} {}", h.status, escape(&h.reason));
                return failed(rx, message, Failure::from_head(&h));
            }
            Err(Stop::BadRange(message)) => {
                // Asking for the whole file again is all that is left.
                rx.resume = None;
                rx.validator = None;
                return failed(rx, alloc::format!("{message}; starting over"), Failure::Interrupted);
            }
        }
        match core::mem::replace(&mut rx.step, Step::More) {
            Step::More => {}
            Step::Redirect(to) => {
                crate::println!("{}: redirected to {}", display(uri), display(&to));
                return Ok((Outcome::Redirect(to), false));
            }
            Step::Challenged(challenges) => return Ok((Outcome::Challenged(challenges), false)),
            Step::Done => break,
        }
        if limit.passed(now) {
            let what = match (rx.head.is_some(), rx.total) {
                (false, _) => String::from("no response from the server"),
                (true, Some(total)) => alloc::format!("{} of {total} bytes received", rx.body.len()),
                (true, None) => alloc::format!("{} bytes received", rx.body.len()),
            };
            return failed(rx, limit.message(now, &what), Failure::Permanent);
        }
        if rx.head.is_some() && now - last_progress >= 500 {
            last_progress = now;
            shown = true;
            let got = mib(rx.body.len());
            crate::console::rewind();
            match rx.total {
                Some(total) => crate::print!("{} {got:.1} / {:.1} MiB", display(uri), mib(total as usize)),
                None => crate::print!("{} {got:.1} MiB", display(uri)),
            }
        }
    }
    // A resumed body that is chunked or ends with the connection was held to no length
    // by the parser: it must end where the 206's range said, or the file would be spliced
    // from what two answers said it was.
    if let (Some(resume), Some(head)) = (&rx.resume, &rx.head)
        && rx.resumed_at.is_some()
        && let Err(e) = resume.check_end(head, rx.body.len() as u64)
    {
        if shown {
            crate::print!("\n");
        }
        let message = alloc::format!("{e}; starting over");
        return Err(Transfer::Failed(Failed::new(message, Failure::Interrupted, None)));
    }
    let reusable = rx.parser.reusable() && rx.pending.is_empty();
    let ms = (clock.now_ms() - started).max(1);
    let received = rx.body.len() - rx.resumed_at.unwrap_or(0) as usize;
    let mut notes = String::new();
    if let Some(at) = rx.resumed_at {
        notes.push_str(&alloc::format!(", resumed at byte {at}"));
    }
    if reused {
        notes.push_str(", reused connection");
    } else if let Some(t) = conn.tls_summary.as_deref() {
        notes.push_str(&alloc::format!(", {t}"));
    }
    crate::console::rewind();
    crate::println!(
        "{} {} bytes in {}.{:03} s ({:.1} MiB/s{notes})",
        display(uri),
        rx.body.len(),
        ms / 1000,
        ms % 1000,
        mib(received) * 1000.0 / ms as f64
    );
    Ok((Outcome::Body(rx.body, rx.hasher), reusable))
}
