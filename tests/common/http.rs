//! A small HTTP/1.1 file server for tests: serves a directory on 127.0.0.1 with
//! persistent connections, logging every connection and request. Plain files come with
//! Content-Length and a strong ETag, and `Range: bytes=N-` (with `If-Range`) gets a 206.
//!
//! Test paths misbehave on purpose: `/redirect/X` answers 302 to `/X`, `/chunked/X` sends X
//! with chunked transfer coding, `/reset/X` closes after half of X (every time, no ETag),
//! `/drop/X` closes after half of X the first time only (with an ETag, so the rest can be
//! asked for), `/busy/X` answers `503` with `Retry-After: 1` the first two times, and
//! `/stall/X` never answers. [`Behaviour`] adds misbehaving connections: the first ones
//! reset, a cap on connections at once (the rest get 503), idle connections closed, a
//! kept connection closed just as it is reused.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server treats connections.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// The first this many connections are reset: accepted, then closed unread.
    pub reset_first: usize,
    /// At most this many connections at once; a request on any further one gets `503`
    /// with `Retry-After: 1` and the connection is closed.
    pub max_connections: Option<usize>,
    /// A connection idle this long between requests is closed.
    pub idle_close: Option<Duration>,
    /// No request is answered until this many connections have been accepted (or a
    /// minute has passed): clients that start at about the same time meet at the server
    /// however the machine running them schedules them.
    pub hold_until: Option<usize>,
    /// After this many requests on a connection, the next one is read and the connection
    /// closed without an answer (as when a server's keep-alive limit or idle timeout
    /// strikes just as the client reuses the connection).
    pub requests_per_connection: Option<usize>,
}

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    /// The connection it came on (numbered from 1 in order of acceptance).
    pub connection: usize,
    pub path: String,
    /// The Range header, if any.
    pub range: Option<String>,
    pub status: u16,
}

pub struct FileServer {
    pub port: u16,
    /// The paths asked for, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
    /// The bodies of the POSTs, in order.
    pub posts: Arc<Mutex<Vec<String>>>,
    /// Every request with its connection, Range and answer.
    pub log: Arc<Mutex<Vec<Logged>>>,
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
    /// Connections turned away by [`Behaviour::max_connections`].
    pub turned_away: Arc<AtomicUsize>,
}

struct Shared {
    root: PathBuf,
    behaviour: Behaviour,
    requests: Arc<Mutex<Vec<String>>>,
    posts: Arc<Mutex<Vec<String>>>,
    log: Arc<Mutex<Vec<Logged>>>,
    active: AtomicUsize,
    /// Connections accepted so far.
    accepted: Arc<AtomicUsize>,
    turned_away: Arc<AtomicUsize>,
    /// How often each misbehaving path was asked for.
    seen: Mutex<HashMap<String, usize>>,
}

struct Request {
    path: String,
    range: Option<String>,
    if_range: Option<String>,
    /// A POST's body (the form).
    body: Option<String>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let post = line.starts_with("POST ");
    let path = line.split_whitespace().nth(1)?.to_string();
    let (mut range, mut if_range, mut length) = (None, None, 0usize);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "range" => range = Some(value.trim().to_string()),
                "if-range" => if_range = Some(value.trim().to_string()),
                "content-length" => length = value.trim().parse().ok()?,
                _ => {}
            }
        }
    }
    let body = if post {
        let mut bytes = vec![0u8; length];
        std::io::Read::read_exact(reader, &mut bytes).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    } else {
        None
    };
    Some(Request { path, range, if_range, body })
}

/// Serves requests on one connection until the client closes it (or a test path does).
fn serve(stream: TcpStream, connection: usize, shared: &Shared) {
    if connection <= shared.behaviour.reset_first {
        // Let the request arrive, then close without reading it: the kernel answers the
        // unread data with a reset.
        std::thread::sleep(Duration::from_millis(300));
        drop(stream);
        return;
    }
    let _ = stream.set_read_timeout(shared.behaviour.idle_close);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    let over_limit =
        shared.behaviour.max_connections.is_some_and(|max| shared.active.load(Ordering::SeqCst) > max);
    let mut served = 0;
    while let Some(request) = read_request(&mut reader) {
        shared.requests.lock().unwrap().push(request.path.clone());
        if let Some(body) = &request.body {
            shared.posts.lock().unwrap().push(body.clone());
        }
        served += 1;
        let log = |status: u16| {
            shared.log.lock().unwrap().push(Logged {
                connection,
                path: request.path.clone(),
                range: request.range.clone(),
                status,
            })
        };
        if shared.behaviour.requests_per_connection.is_some_and(|max| served > max) {
            log(0);
            return;
        }
        if over_limit {
            shared.turned_away.fetch_add(1, Ordering::SeqCst);
            log(503);
            let _ = stream.write_all(
                b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return;
        }
        if served == 1
            && let Some(n) = shared.behaviour.hold_until
        {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while shared.accepted.load(Ordering::SeqCst) < n && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        match answer(&mut stream, &request, shared) {
            Some(status) => log(status),
            None => {
                log(0);
                return;
            }
        }
        let _ = stream.flush();
    }
}

/// Answers one request; the status, or `None` when the connection must end.
fn answer(stream: &mut TcpStream, request: &Request, shared: &Shared) -> Option<u16> {
    let path = &request.path;
    if let Some(rest) = path.strip_prefix("/redirect/") {
        let head = format!("HTTP/1.1 302 Found\r\nLocation: /{rest}\r\nContent-Length: 0\r\n\r\n");
        stream.write_all(head.as_bytes()).ok()?;
        return Some(302);
    }
    let (mode, name) = match path.split_once('/').map(|(_, p)| p).and_then(|p| p.split_once('/')) {
        Some((m @ ("chunked" | "reset" | "drop" | "busy" | "stall"), name)) => (m, name.to_string()),
        _ => ("plain", path.trim_start_matches('/').to_string()),
    };
    let times = {
        let mut seen = shared.seen.lock().unwrap();
        let n = seen.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    let file = shared.root.join(name.split('?').next().unwrap_or(""));
    if !file.is_file() {
        let body = b"not found\n";
        let head = format!("HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n", body.len());
        stream.write_all(head.as_bytes()).ok()?;
        stream.write_all(body).ok()?;
        return Some(404);
    }
    let meta = std::fs::metadata(&file).ok()?;
    let len = meta.len();
    let mtime = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    let etag = format!("\"{len:x}-{mtime:x}\"");
    match mode {
        "stall" => {
            // Keep the connection open and say nothing.
            std::thread::sleep(Duration::from_secs(120));
            None
        }
        "busy" if times <= 2 => {
            stream
                .write_all(
                    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 5\r\n\r\nbusy\n",
                )
                .ok()?;
            Some(503)
        }
        "chunked" => {
            let body = std::fs::read(&file).ok()?;
            stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").ok()?;
            for chunk in body.chunks(7000) {
                stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).ok()?;
                stream.write_all(chunk).ok()?;
                stream.write_all(b"\r\n").ok()?;
            }
            stream.write_all(b"0\r\n\r\n").ok()?;
            Some(200)
        }
        "reset" => {
            let body = std::fs::read(&file).ok()?;
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            stream.write_all(head.as_bytes()).ok()?;
            stream.write_all(&body[..body.len() / 2]).ok()?;
            let _ = stream.flush();
            // Close abruptly: the client must notice the body is incomplete.
            let _ = stream.shutdown(std::net::Shutdown::Both);
            None
        }
        "drop" if times == 1 => {
            let body = std::fs::read(&file).ok()?;
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nETag: {etag}\r\n\r\n");
            stream.write_all(head.as_bytes()).ok()?;
            stream.write_all(&body[..body.len() / 2]).ok()?;
            let _ = stream.flush();
            let _ = stream.shutdown(std::net::Shutdown::Both);
            None
        }
        _ => {
            // A plain file is streamed, its length from the metadata: a 4 GiB sparse file
            // must not be read into memory first.
            let from = request
                .range
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.strip_suffix('-'))
                .and_then(|n| n.parse::<u64>().ok())
                .filter(|&n| n < len && request.if_range.as_deref().is_none_or(|v| v == etag));
            let mut f = std::fs::File::open(&file).ok()?;
            let status = match from {
                Some(from) => {
                    use std::io::Seek;
                    f.seek(std::io::SeekFrom::Start(from)).ok()?;
                    let head = format!(
                        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {from}-{}/{len}\r\n\
                         ETag: {etag}\r\n\r\n",
                        len - from,
                        len - 1
                    );
                    stream.write_all(head.as_bytes()).ok()?;
                    206
                }
                None => {
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nETag: {etag}\r\n\r\n");
                    stream.write_all(head.as_bytes()).ok()?;
                    200
                }
            };
            std::io::copy(&mut f, stream).ok()?;
            Some(status)
        }
    }
}

impl FileServer {
    /// Serves `root` on 127.0.0.1:`port` (0 picks a free port).
    pub fn start(root: PathBuf, port: u16) -> Self {
        Self::start_with(root, port, Behaviour::default())
    }

    /// As [`FileServer::start`], treating connections as `behaviour` says.
    pub fn start_with(root: PathBuf, port: u16, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the test HTTP server");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let posts = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let turned_away = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Shared {
            root,
            behaviour,
            requests: requests.clone(),
            posts: posts.clone(),
            log: log.clone(),
            active: AtomicUsize::new(0),
            accepted: connections.clone(),
            turned_away: turned_away.clone(),
            seen: Mutex::new(HashMap::new()),
        });
        let counter = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let number = counter.fetch_add(1, Ordering::SeqCst) + 1;
                let shared = shared.clone();
                shared.active.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    serve(stream, number, &shared);
                    shared.active.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self { port, requests, posts, log, connections, turned_away }
    }

    /// The requests for paths ending in `suffix`.
    pub fn logged(&self, suffix: &str) -> Vec<Logged> {
        self.log.lock().unwrap().iter().filter(|l| l.path.ends_with(suffix)).cloned().collect()
    }
}
