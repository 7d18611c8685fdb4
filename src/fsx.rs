//! Atomic, all-or-nothing file output that survives a crash at any instant.
//!
//! Every file bootsign writes goes through a [`FileSet`]:
//!
//! 1. each file is written in full to a temporary file beside its target (synced, with
//!    its final mode); the temporary's name is short and fixed-length, so any target name
//!    the file system allows can be written;
//! 2. a journal beside the first target lists every temporary, target and backup (synced);
//! 3. the targets are placed: a new name without replacing anything (`renameat2` with
//!    `RENAME_NOREPLACE`, else `link(2)`, so a file that appeared after our check is never
//!    clobbered), an existing file only with `Overwrite::Replace`, after a hard link (or
//!    rename) of it to a backup;
//! 4. the journal is removed: this is the commit point; backups are then removed.
//!
//! A failure before the commit point puts everything back as it was. So does the next
//! bootsign run after a crash (`kill -9`, power loss): [`recover`] finds the journal of a
//! process that no longer runs and rolls its placements back, and removes the temporary
//! files such a process left. Callers recover in a directory under its lock before they
//! write there (the CA commands), and every commit recovers its targets' directories.
//!
//! Only regular files are ever replaced: a device node, FIFO, socket, directory or
//! symbolic link in a target's place is refused, `--force` or not.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result, bail};

/// Permissions for private keys.
pub const MODE_SECRET: u32 = 0o600;
/// Permissions for certificates and other public files.
pub const MODE_PUBLIC: u32 = 0o644;
/// Permissions for directories bootsign creates (not narrowed or widened by the umask).
pub const MODE_DIR: u32 = 0o755;

const TEMP_PREFIX: &str = ".bootsign-";
const JOURNAL_PREFIX: &str = ".bootsign-journal-";

/// Whether a staged file may replace an existing one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// The name must not exist yet.
    Never,
    /// Replace the existing file atomically.
    Replace,
}

/// A set of files written together or not at all.
#[derive(Default)]
pub struct FileSet {
    pending: Vec<(PathBuf, Vec<u8>, u32, Overwrite)>,
}

/// Fails with a message that names `path` when it cannot be written as a new file: its
/// directory is missing or not a directory, it exists and `force` is off, or it is there
/// but is not a regular file.
pub fn refuse_existing(path: &Path, force: bool) -> Result<()> {
    let dir = parent_dir(path);
    match dir.metadata() {
        // What a crashed run left there is put back first: its outputs are not ours to
        // refuse over.
        Ok(m) if m.is_dir() => recover(&dir),
        Ok(_) => bail!("cannot write {}: {} is not a directory", quote(path), quote(&dir)),
        Err(_) => bail!("cannot write {}: the directory {} does not exist", quote(path), quote(&dir)),
    }
    match path.symlink_metadata() {
        Err(_) => Ok(()),
        Ok(m) if !m.file_type().is_file() => {
            bail!("refusing to write {}: it is {}, not a regular file", quote(path), describe_type(&m))
        }
        Ok(_) if !force => {
            bail!("refusing to overwrite {}: it already exists (use --force to replace it)", quote(path))
        }
        Ok(_) => Ok(()),
    }
}

fn describe_type(m: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "something other than a file"
    }
}

/// `path` with `suffix` appended to its file name: `vmlinuz` -> `vmlinuz.sig`.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// `'path'`, as user-supplied paths are shown in messages.
pub fn quote(path: &Path) -> String {
    format!("'{}'", path.display())
}

/// Creates `dir` (and its parents) with [`MODE_DIR`] whatever the umask.
pub fn create_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).with_context(|| format!("failed to create {}", quote(dir)))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(MODE_DIR))
        .with_context(|| format!("failed to set the permissions of {}", quote(dir)))
}

/// One placement, as the journal records it (absolute paths, so any later run can use it).
struct Entry {
    temp: PathBuf,
    target: PathBuf,
    /// The target as the user named it, for messages (not journalled).
    shown: PathBuf,
    /// The temporary's inode: a target with this inode is ours to remove on roll-back.
    inode: u64,
    /// Where the replaced file was kept, when there was one.
    backup: Option<PathBuf>,
}

impl Entry {
    fn line(&self) -> String {
        let backup = self.backup.as_deref().map(|b| b.display().to_string()).unwrap_or_default();
        format!("{}\t{}\t{}\t{}\n", self.inode, self.temp.display(), self.target.display(), backup)
    }

    fn parse(line: &str) -> Option<Self> {
        let mut parts = line.split('\t');
        let inode = parts.next()?.parse().ok()?;
        let temp = PathBuf::from(parts.next()?);
        let target = PathBuf::from(parts.next()?);
        let backup = parts.next().filter(|b| !b.is_empty()).map(PathBuf::from);
        Some(Self { temp, shown: target.clone(), target, inode, backup })
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh hidden name in `dir` for this process.
fn hidden_name(dir: &Path, prefix: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("{prefix}{}-{n}", std::process::id()))
}

impl FileSet {
    /// Adds a file to the set.
    pub fn add(&mut self, target: impl Into<PathBuf>, data: Vec<u8>, mode: u32, overwrite: Overwrite) {
        self.pending.push((target.into(), data, mode, overwrite));
    }

    /// Adds every file of `other` after this set's own.
    pub fn append(&mut self, mut other: FileSet) {
        self.pending.append(&mut other.pending);
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Writes every file, then moves them all into place, or none of them.
    pub fn commit(self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut dirs: Vec<PathBuf> = Vec::new();
        for (target, ..) in &self.pending {
            let dir = parent_dir(target);
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        // `refuse_existing` first recovers each target's directory.
        for (target, _, _, overwrite) in &self.pending {
            refuse_existing(target, *overwrite == Overwrite::Replace)?;
            // The journal holds one path a line, tab-separated: a name it cannot hold
            // exactly is not written.
            match target.to_str() {
                Some(t) if !t.contains(['\t', '\n', '\r']) => {}
                _ => bail!(
                    "cannot write {}: bootsign does not write file names with tabs, line breaks or bytes that are not UTF-8",
                    quote(target)
                ),
            }
        }
        let absolute_dirs =
            dirs.iter().map(|d| std::path::absolute(d).unwrap_or_else(|_| d.clone())).collect();
        let mut tx =
            Transaction { entries: Vec::new(), journal: None, placed: 0, backed_up: 0, dirs: absolute_dirs };
        for (target, data, mode, _) in &self.pending {
            let absolute =
                std::path::absolute(target).with_context(|| format!("failed to write {}", quote(target)))?;
            let temp = hidden_name(&parent_dir(&absolute), TEMP_PREFIX);
            let inode = write_new(&temp, data, *mode)
                .with_context(|| format!("failed to write {}", quote(target)))?;
            tx.entries.push(Entry { temp, target: absolute, shown: target.clone(), inode, backup: None });
        }
        // Backups are named before the journal is written, so it knows them all.
        for (e, (_, _, _, overwrite)) in tx.entries.iter_mut().zip(&self.pending) {
            if *overwrite == Overwrite::Replace && e.target.symlink_metadata().is_ok() {
                e.backup = Some(hidden_name(&parent_dir(&e.target), TEMP_PREFIX));
            }
        }
        tx.write_journal()?;
        tx.place()?;
        tx.commit();
        Ok(())
    }
}

/// A commit in progress; dropped before [`Transaction::commit`], it rolls back.
struct Transaction {
    entries: Vec<Entry>,
    /// The journal's file name; a copy is in each of `dirs`.
    journal: Option<String>,
    placed: usize,
    /// Entries up to this one have had their backup made.
    backed_up: usize,
    dirs: Vec<PathBuf>,
}

/// A journal starts with its state: pending (roll back) or committed (roll forward).
const PENDING: &[u8] = b"P\n";
const COMMITTED: u8 = b'C';

impl Transaction {
    /// Writes the journal into every directory a target is in, so that whichever of them
    /// a later run recovers first, it sees the whole transaction before removing anything.
    fn write_journal(&mut self) -> Result<()> {
        let name = hidden_name(Path::new(""), JOURNAL_PREFIX).display().to_string();
        let mut text = PENDING.to_vec();
        text.extend(self.entries.iter().map(Entry::line).collect::<String>().into_bytes());
        self.journal = Some(name.clone());
        for dir in &self.dirs {
            let path = std::path::absolute(dir.join(&name)).unwrap_or_else(|_| dir.join(&name));
            write_new(&path, &text, MODE_SECRET)
                .with_context(|| format!("failed to write a journal in {}", quote(dir)))?;
            sync_dir(dir);
        }
        Ok(())
    }

    fn place(&mut self) -> Result<()> {
        for i in 0..self.entries.len() {
            let result = {
                let e = &self.entries[i];
                match &e.backup {
                    Some(backup) => keep_backup(&e.target, backup).and_then(|()| {
                        // From here the backup is this process's to put back.
                        self.backed_up = i + 1;
                        fs::rename(&e.temp, &e.target)
                    }),
                    None => place_new(&e.temp, &e.target),
                }
            };
            if let Err(err) = result {
                let e = &self.entries[i];
                let msg = if err.kind() == std::io::ErrorKind::AlreadyExists {
                    format!(
                        "refusing to overwrite {}: it already exists (use --force to replace it)",
                        quote(&e.shown)
                    )
                } else {
                    format!("failed to write {}: {err}", quote(&e.shown))
                };
                bail!(msg);
            }
            self.placed += 1;
        }
        for dir in &self.dirs {
            sync_dir(dir);
        }
        Ok(())
    }

    /// The commit point: every journal copy is marked committed (from the first mark on,
    /// recovery rolls forward), then the leftovers and the journal go.
    fn commit(mut self) {
        let Some(name) = self.journal.take() else { return };
        for dir in &self.dirs {
            mark_committed(&dir.join(&name));
        }
        remove_leftovers(&self.entries);
        for dir in &self.dirs {
            let _ = fs::remove_file(dir.join(&name));
            sync_dir(dir);
        }
        self.entries.clear();
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        // Only what this process did is undone: placed entries, and a backup it made for
        // the one in progress; a file that merely has a backup's name is not ours.
        let done = self.placed.max(self.backed_up).min(self.entries.len());
        let (touched, untouched) = self.entries.split_at(done);
        roll_back(touched, true);
        for e in untouched {
            let _ = fs::remove_file(&e.temp);
        }
        if let Some(name) = &self.journal {
            for dir in &self.dirs {
                let _ = fs::remove_file(dir.join(name));
            }
        }
    }
}

fn mark_committed(journal: &Path) {
    use std::os::unix::fs::FileExt;
    if let Ok(f) = OpenOptions::new().write(true).open(journal) {
        let _ = f.write_all_at(&[COMMITTED], 0);
        let _ = f.sync_all();
    }
}

fn is_committed(journal: &Path) -> bool {
    use std::io::Read;
    let mut first = [0u8; 1];
    File::open(journal).and_then(|mut f| f.read_exact(&mut first)).is_ok() && first[0] == COMMITTED
}

/// Removes the temporaries and backups of a committed transaction.
fn remove_leftovers(entries: &[Entry]) {
    for e in entries {
        let _ = fs::remove_file(&e.temp);
        if let Some(b) = &e.backup {
            let _ = fs::remove_file(b);
        }
    }
}

/// Undoes the placements of `entries` (in reverse) and removes their temporaries. A backup
/// is put back when `own_backups` (this process made them) or when this user owns it.
fn roll_back(entries: &[Entry], own_backups: bool) {
    for e in entries.iter().rev() {
        match &e.backup {
            // Only a backup this user made: a file someone else put at a backup's name
            // (before the crashed process made its own) is not moved anywhere.
            Some(backup) if backup.symlink_metadata().is_ok_and(|m| own_backups || made_by_me(&m)) => {
                let _ = fs::rename(backup, &e.target);
            }
            // A replaced file whose backup is gone cannot be put back; the new one stays
            // rather than leaving nothing.
            Some(_) => {}
            None => {
                // Ours if it is the temporary's inode; anything else is not touched.
                if e.target.symlink_metadata().is_ok_and(|m| m.ino() == e.inode) {
                    let _ = fs::remove_file(&e.target);
                }
            }
        }
        let _ = fs::remove_file(&e.temp);
    }
}

/// Puts back what a crashed bootsign process left half done in `dir`: each of its journals
/// is rolled back, or forward when the process had reached the commit point, across every
/// directory it names; then its temporary files here are removed. Processes still running
/// are left alone.
///
/// Output directories may be shared (`/tmp`, a web root), so nothing found there is trusted
/// on its name alone: a journal is followed only when it is a regular file that this user
/// owns and nobody else may write, when a copy like it stands in every directory it names,
/// and when every temporary and backup it names is one of that process's own hidden names
/// beside its target. Anything else is left where it is.
pub fn recover(dir: &Path) {
    let Ok(list) = fs::read_dir(dir) else { return };
    let mut journals = Vec::new();
    let mut temps = Vec::new();
    for entry in list.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = owner_pid(&name) else { continue };
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        if !entry.path().symlink_metadata().is_ok_and(|m| ours(&m)) {
            continue;
        }
        if name.starts_with(JOURNAL_PREFIX) {
            journals.push((name, pid));
        } else {
            temps.push((entry.path(), pid));
        }
    }
    let mut kept = Vec::new();
    for (name, pid) in journals {
        let here = dir.join(&name);
        let Ok(text) = fs::read_to_string(&here) else { continue };
        let entries: Vec<Entry> = text.lines().skip(1).filter_map(Entry::parse).collect();
        let mut dirs: Vec<PathBuf> = entries.iter().map(|e| parent_dir(&e.target)).collect();
        dirs.sort();
        dirs.dedup();
        let copy_ok = |d: &Path| d.join(&name).symlink_metadata().is_ok_and(|m| ours(&m));
        let valid = entries.iter().all(|e| {
            let beside = |p: &Path| {
                parent_dir(p) == parent_dir(&e.target)
                    && p.file_name().and_then(|n| n.to_str()).and_then(owner_pid) == Some(pid)
                    && p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with(JOURNAL_PREFIX))
            };
            e.target.is_absolute() && beside(&e.temp) && e.backup.as_deref().is_none_or(beside)
        });
        if !valid {
            // Its files stay too: a backup it names may be the only copy of a file.
            kept.push(pid);
            continue;
        }
        // Every copy is written before anything is placed: with one missing, the process
        // died writing them, and there is nothing to undo but the copies themselves.
        if dirs.iter().all(|d| copy_ok(d)) {
            if dirs.iter().any(|d| is_committed(&d.join(&name))) {
                remove_leftovers(&entries);
            } else {
                roll_back(&entries, false);
            }
        }
        dirs.push(dir.to_path_buf());
        for d in &dirs {
            if copy_ok(d) {
                let _ = fs::remove_file(d.join(&name));
                sync_dir(d);
            }
        }
    }
    for (temp, pid) in temps {
        if !kept.contains(&pid) {
            let _ = fs::remove_file(&temp);
        }
    }
    sync_dir(dir);
}

/// A regular file this user owns (a backup is a link to the replaced file, whose mode is
/// what it was).
fn made_by_me(meta: &fs::Metadata) -> bool {
    meta.file_type().is_file() && meta.uid() == rustix::process::geteuid().as_raw()
}

/// A regular file of this user's that nobody else may write.
fn ours(meta: &fs::Metadata) -> bool {
    meta.file_type().is_file()
        && meta.uid() == rustix::process::geteuid().as_raw()
        && meta.mode() & 0o022 == 0
}

/// The pid in a name of ours: `.bootsign-PID-N` or `.bootsign-journal-PID-N`.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(JOURNAL_PREFIX).or_else(|| name.strip_prefix(TEMP_PREFIX))?;
    let (pid, n) = rest.split_once('-')?;
    n.parse::<u32>().ok()?;
    pid.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Places `temp` at the new name `target`, never replacing anything there.
fn place_new(temp: &Path, target: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, temp, CWD, target, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        // The file system cannot rename without replacing: a hard link fails just as well
        // when the name exists.
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
            match fs::hard_link(temp, target) {
                Ok(()) => fs::remove_file(temp),
                // No hard links either (vfat, exFAT): check, then rename. Only a file
                // created between the two by another program could be replaced.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EOPNOTSUPP)) => {
                    if target.symlink_metadata().is_ok() {
                        return Err(std::io::ErrorKind::AlreadyExists.into());
                    }
                    fs::rename(temp, target)
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Keeps the file at `target` as `backup` (a hard link, else a rename).
fn keep_backup(target: &Path, backup: &Path) -> std::io::Result<()> {
    match fs::hard_link(target, backup) {
        Ok(()) => Ok(()),
        Err(_) => fs::rename(target, backup),
    }
}

fn sync_dir(dir: &Path) {
    // Makes the renames durable; a failure here loses nothing already written.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes a new file (which must not exist) and returns its inode.
fn write_new(path: &Path, data: &[u8], mode: u32) -> std::io::Result<u64> {
    let mut f = OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
    let done = (|| {
        // The umask may have narrowed `mode`; public files should still be readable.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(data)?;
        f.sync_all()?;
        Ok(f.metadata()?.ino())
    })();
    if done.is_err() {
        let _ = fs::remove_file(path);
    }
    done
}

/// Writes one file atomically and durably (temporary, sync, rename, sync the directory),
/// replacing what is there: for state that must be on disk before anything else happens,
/// such as a reserved serial number.
pub fn write_durable(target: &Path, data: &[u8], mode: u32) -> Result<()> {
    refuse_existing(target, true)?;
    let temp = hidden_name(&parent_dir(target), TEMP_PREFIX);
    write_new(&temp, data, mode).with_context(|| format!("failed to write {}", quote(target)))?;
    if let Err(e) = fs::rename(&temp, target) {
        let _ = fs::remove_file(&temp);
        return Err(e).with_context(|| format!("failed to write {}", quote(target)));
    }
    sync_dir(&parent_dir(target));
    Ok(())
}

/// The most bootsign reads of a file it holds whole in memory (certificates and bundles,
/// requests, keys, signatures, CRLs, scripts): far beyond what such files hold (every
/// public root CA together is under 1 MiB of PEM), and a bound on what a wrong path (a
/// disk image, `/dev/zero`) can cost.
pub const MAX_INPUT: u64 = 32 << 20;

/// All of `path`, or an error naming it if it holds more than `limit` bytes. At most
/// `limit + 1` bytes are ever read, so a huge file or an endless device costs no more
/// than the limit. `what` is how messages name it ("the signature"), or empty.
pub fn read_capped(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let name = if what.is_empty() { quote(path) } else { format!("{what} {}", quote(path)) };
    let file = File::open(path).with_context(|| format!("failed to read {name}"))?;
    let mut data = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .with_context(|| format!("failed to read {name}"))?;
    if data.len() as u64 > limit {
        let size = if limit >= 1 << 20 { format!("{} MiB", limit >> 20) } else { format!("{limit} bytes") };
        bail!("{name} is larger than {size}, the most bootsign reads for it; is it the right file?");
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        fs::write(&b, "old").unwrap();
        let mut set = FileSet::default();
        set.add(&a, b"new a".to_vec(), MODE_SECRET, Overwrite::Never);
        set.add(&b, b"new b".to_vec(), MODE_PUBLIC, Overwrite::Never);
        assert!(set.commit().is_err());
        assert!(!a.exists(), "nothing written when one target is refused");
        assert_eq!(fs::read_to_string(&b).unwrap(), "old");
        assert_eq!(names(dir.path()), ["b"], "no temporaries left");

        let mut set = FileSet::default();
        set.add(&a, b"new a".to_vec(), MODE_SECRET, Overwrite::Never);
        set.add(&b, b"new b".to_vec(), MODE_PUBLIC, Overwrite::Replace);
        set.commit().unwrap();
        assert_eq!(fs::read_to_string(&b).unwrap(), "new b");
        assert_eq!(fs::metadata(&a).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(names(dir.path()), ["a", "b"]);
    }

    #[test]
    fn a_failure_while_staging_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("sub/b"));
        fs::write(&a, "old a").unwrap();
        let mut set = FileSet::default();
        set.add(&a, b"new a".to_vec(), MODE_PUBLIC, Overwrite::Replace);
        // Placing into a directory that does not exist fails after `a` is staged.
        set.add(&b, b"new b".to_vec(), MODE_PUBLIC, Overwrite::Replace);
        assert!(set.commit().is_err());
        assert_eq!(fs::read_to_string(&a).unwrap(), "old a");
        assert_eq!(names(dir.path()), ["a"]);
    }

    #[test]
    fn a_crashed_commit_is_rolled_back_by_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
        fs::write(&b, "old b").unwrap();
        // What a process killed after placing `a` and replacing `b` leaves behind.
        let dead = 0x7fff_fff0u32;
        let t_a = dir.path().join(format!(".bootsign-{dead}-0"));
        let t_b = dir.path().join(format!(".bootsign-{dead}-1"));
        let bak = dir.path().join(format!(".bootsign-{dead}-2"));
        let ino_a = write_new(&t_a, b"new a", MODE_PUBLIC).unwrap();
        let ino_b = write_new(&t_b, b"new b", MODE_PUBLIC).unwrap();
        let journal = [
            Entry { temp: t_a.clone(), target: a.clone(), shown: a.clone(), inode: ino_a, backup: None },
            Entry {
                temp: t_b.clone(),
                target: b.clone(),
                shown: b.clone(),
                inode: ino_b,
                backup: Some(bak.clone()),
            },
        ];
        let text: String = journal.iter().map(Entry::line).collect();
        fs::write(dir.path().join(format!(".bootsign-journal-{dead}-3")), format!("P\n{text}")).unwrap();
        fs::hard_link(&t_a, &a).unwrap();
        fs::remove_file(&t_a).unwrap();
        fs::hard_link(&b, &bak).unwrap();
        fs::rename(&t_b, &b).unwrap();
        fs::write(dir.path().join(format!(".bootsign-{dead}-9")), "stray").unwrap();

        let mut set = FileSet::default();
        set.add(&c, b"c".to_vec(), MODE_PUBLIC, Overwrite::Never);
        set.commit().unwrap();
        assert!(!a.exists(), "the crashed run's new file is gone");
        assert_eq!(fs::read_to_string(&b).unwrap(), "old b", "the replaced file is back");
        assert_eq!(names(dir.path()), ["b", "c"]);
    }

    #[test]
    fn a_journal_that_is_not_ours_or_names_other_files_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "keep").unwrap();
        let dead = 0x7fff_fff1u32;
        // A journal asking to move someone's file over the victim, and one asking to remove
        // the victim by its inode: neither names one of the process's own hidden files.
        let other = dir.path().join("other");
        fs::write(&other, "planted").unwrap();
        let ino = fs::metadata(&victim).unwrap().ino();
        let text = format!("P\n{ino}\t{}\t{}\t{}\n", other.display(), victim.display(), other.display());
        let journal = dir.path().join(format!(".bootsign-journal-{dead}-0"));
        fs::write(&journal, &text).unwrap();
        fs::set_permissions(&journal, fs::Permissions::from_mode(0o600)).unwrap();
        recover(dir.path());
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(fs::read_to_string(&other).unwrap(), "planted");
        // A well-formed journal that others may write is not followed either.
        let t = dir.path().join(format!(".bootsign-{dead}-1"));
        write_new(&t, b"x", MODE_PUBLIC).unwrap();
        let text = format!("P\n{ino}\t{}\t{}\t\n", t.display(), victim.display());
        fs::write(&journal, &text).unwrap();
        fs::set_permissions(&journal, fs::Permissions::from_mode(0o666)).unwrap();
        recover(dir.path());
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert!(journal.exists(), "a journal that is not ours is left alone");
    }

    #[test]
    fn special_files_are_never_replaced_and_long_names_work() {
        let dir = tempfile::tempdir().unwrap();
        let err = format!("{:#}", refuse_existing(Path::new("/dev/null"), true).unwrap_err());
        assert!(err.contains("'/dev/null': it is a device, not a regular file"), "{err}");
        let long = dir.path().join("x".repeat(255));
        let mut set = FileSet::default();
        set.add(&long, b"ok".to_vec(), MODE_PUBLIC, Overwrite::Never);
        set.commit().unwrap();
        assert_eq!(fs::read(&long).unwrap(), b"ok");
    }

    #[test]
    fn missing_directory_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("nope/x.crt");
        let mut set = FileSet::default();
        set.add(&target, vec![1], MODE_PUBLIC, Overwrite::Never);
        let err = format!("{:#}", set.commit().unwrap_err());
        assert!(err.contains("nope/x.crt"), "{err}");
    }
}
