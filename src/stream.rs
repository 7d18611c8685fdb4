//! Reading a file once, in constant memory, feeding every chunk to a set of digests,
//! with a progress bar on large files when stderr is a terminal.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::{Context, Result, bail};
use bootsign_pki::{Digests, HashAlgorithm, MultiHasher};

use crate::fsx::quote;

const CHUNK: usize = 1 << 20;
const PROGRESS_FROM: u64 = 64 << 20;

/// Digests of the whole file under `algs`. An empty or unreadable file is an error.
pub fn digest_file(path: &Path, algs: &[HashAlgorithm]) -> Result<Digests> {
    let mut file = File::open(path).with_context(|| format!("failed to open {}", quote(path)))?;
    let meta = file.metadata().with_context(|| format!("failed to read {}", quote(path)))?;
    if meta.is_dir() {
        bail!("{} is a directory, not a file", quote(path));
    }
    let size = meta.len();
    let bar = (size >= PROGRESS_FROM && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(path.display().to_string());
        bar
    });
    let mut hasher = MultiHasher::new(algs.iter().copied());
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).with_context(|| format!("failed to read {}", quote(path)))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
        if let Some(b) = &bar {
            b.set_position(total);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if total == 0 {
        bail!("{} is empty; there is nothing to sign or verify", quote(path));
    }
    Ok(hasher.finish())
}
