//! A small HTTP/1.1 file server for tests: serves a directory on 127.0.0.1, one request
//! per connection, with a log of the paths asked for. Besides plain files (with
//! Content-Length) it has test paths: `/redirect/X` answers 302 to `/X`, `/chunked/X`
//! sends X with chunked transfer coding, `/reset/X` closes after half of X.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct FileServer {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<String>>>,
}

fn serve(mut stream: TcpStream, root: &Path, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    log.lock().unwrap().push(path.clone());
    if let Some(rest) = path.strip_prefix("/redirect/") {
        let head = format!(
            "HTTP/1.1 302 Found\r\nLocation: /{rest}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let _ = stream.write_all(head.as_bytes());
        return;
    }
    let (mode, name) = match path.split_once('/').map(|(_, p)| p).and_then(|p| p.split_once('/')) {
        Some(("chunked", name)) => ("chunked", name.to_string()),
        Some(("reset", name)) => ("reset", name.to_string()),
        _ => ("plain", path.trim_start_matches('/').to_string()),
    };
    let file = root.join(name.split('?').next().unwrap_or(""));
    // A plain file is streamed, its length from the metadata: a 4 GiB sparse file must not
    // be read into memory first (under load that alone outlasted the firmware's timeout).
    if mode == "plain"
        && file.is_file()
        && let Ok(mut f) = std::fs::File::open(&file)
    {
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
        let _ = stream.write_all(head.as_bytes());
        let _ = std::io::copy(&mut f, &mut stream);
        let _ = stream.flush();
        return;
    }
    match std::fs::read(&file) {
        Ok(body) if file.is_file() && mode == "chunked" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
            for chunk in body.chunks(7000) {
                let _ = stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
                let _ = stream.write_all(chunk);
                let _ = stream.write_all(b"\r\n");
            }
            let _ = stream.write_all(b"0\r\n\r\n");
        }
        Ok(body) if file.is_file() && mode == "reset" => {
            let head =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..body.len() / 2]);
            let _ = stream.flush();
            // Close abruptly: the client must notice the body is incomplete.
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
        Ok(body) if file.is_file() => {
            let head =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
        _ => {
            let body = b"not found\n";
            let head = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
    }
    let _ = stream.flush();
}

impl FileServer {
    /// Serves `root` on 127.0.0.1:`port` (0 picks a free port).
    pub fn start(root: PathBuf, port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the test HTTP server");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                let log = log.clone();
                std::thread::spawn(move || serve(stream, &root, &log));
            }
        });
        Self { port, requests }
    }
}
