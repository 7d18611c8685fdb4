//! Downloads over HTTP: the sans-IO parser from `bootsign-http` driven by a TCP
//! connection, with redirects, a progress line, and errors that name the URL.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use bootsign_http::{Event, Head, ResponseParser, Scheme, Status, Url, get_request};

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
pub fn fetch(net: &mut Net, uri: &str) -> Result<(Vec<u8>, PartialSha256), String> {
    let mut current = uri.to_string();
    for _ in 0..=MAX_REDIRECTS {
        match fetch_once(net, &current)? {
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
                    body.reserve(usize::try_from(len).unwrap_or(0).min(1 << 31));
                }
                *head = Some(h);
            }
            Some(Event::Body(b)) => {
                body.extend_from_slice(b);
            }
            Some(Event::End) => return Ok((used, Step::Done)),
            None if n == 0 => return Ok((used, Step::More)),
            None => {}
        }
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn fetch_once(net: &mut Net, uri: &str) -> Result<Fetched, String> {
    let url = Url::parse(uri).map_err(|e| e.to_string())?;
    if url.scheme == Scheme::Https {
        return Err("https:// needs TLS, which this firmware build does not include".into());
    }
    let ip = net.resolve(url.host)?;
    let handle = net.connect(ip, url.port)?;
    let result = transfer(net, handle, &url, uri);
    net.close(handle);
    result
}

fn transfer(
    net: &mut Net,
    handle: smoltcp::iface::SocketHandle,
    url: &Url<'_>,
    uri: &str,
) -> Result<Fetched, String> {
    let clock = net.clock();
    let request = get_request(url, USER_AGENT);
    let mut sent = 0;
    while sent < request.len() {
        net.poll();
        let socket = net.tcp(handle);
        if !socket.may_send() {
            return Err("the server closed the connection before the request was sent".into());
        }
        if socket.can_send() {
            sent += socket.send_slice(&request[sent..]).map_err(|e| alloc::format!("send failed: {e:?}"))?;
        }
    }

    let started = clock.now_ms();
    let mut parser = ResponseParser::new(false);
    let mut pending: Vec<u8> = Vec::new();
    let mut body: Vec<u8> = Vec::new();
    let mut hasher = PartialSha256::new();
    let mut head: Option<Head> = None;
    let mut last_data = started;
    let mut last_progress = started;
    loop {
        net.poll();
        let now = clock.now_ms();
        let socket = net.tcp(handle);
        let step = if socket.can_recv() {
            last_data = now;
            let outcome = socket.recv(|data| {
                let outcome = if pending.is_empty() {
                    drive(&mut parser, data, &mut body, &mut head, url).map(|(used, step)| {
                        pending.extend_from_slice(&data[used..]);
                        step
                    })
                } else {
                    pending.extend_from_slice(data);
                    drive(&mut parser, &pending, &mut body, &mut head, url).map(|(used, step)| {
                        pending.drain(..used);
                        step
                    })
                };
                (data.len(), outcome)
            });
            outcome.map_err(|e| alloc::format!("receive failed: {e:?}"))??
        } else if !socket.may_recv() {
            // The server closed the connection: a close-delimited body ends here.
            match parser.finish().map_err(|e| e.to_string())? {
                Some(Event::End) => Step::Done,
                _ => Step::Done,
            }
        } else if hasher.advance(&body, HASH_SLICE) {
            // Waiting for the network: hash what has arrived.
            Step::More
        } else {
            if now - last_data > IDLE_TIMEOUT_MS {
                return Err(alloc::format!("no data from the server for {} s", IDLE_TIMEOUT_MS / 1000));
            }
            Step::More
        };
        match step {
            Step::More => {}
            Step::Redirect(to) => {
                crate::println!("{uri}: redirected to {to}");
                return Ok(Fetched::Redirect(to));
            }
            Step::Done => break,
        }
        if now - last_progress >= 500 {
            last_progress = now;
            match head.as_ref().and_then(|h| h.content_length) {
                Some(total) => {
                    crate::print!("\r{uri} {:.1} / {:.1} MiB", mib(body.len()), mib(total as usize))
                }
                None => crate::print!("\r{uri} {:.1} MiB", mib(body.len())),
            }
        }
    }
    let ms = (clock.now_ms() - started).max(1);
    crate::println!(
        "\r{uri} {} bytes in {}.{:03} s ({:.1} MiB/s)",
        body.len(),
        ms / 1000,
        ms % 1000,
        mib(body.len()) * 1000.0 / ms as f64
    );
    Ok(Fetched::Body(body, hasher))
}
