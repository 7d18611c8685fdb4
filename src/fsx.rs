//! Atomic, all-or-nothing file output.
//!
//! Every file bootsign writes goes through a [`FileSet`]: each file is first written in
//! full to a temporary file beside its target (flushed to disk, with its final mode), and
//! only when all of them are ready are they moved into place. A failure before that point
//! removes the temporaries and leaves the targets as they were. Targets that must not be
//! overwritten are linked into place with `link(2)`, which fails if the name exists, so
//! a file that appears after our up-front check is still not clobbered.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Permissions for private keys.
pub const MODE_SECRET: u32 = 0o600;
/// Permissions for certificates and other public files.
pub const MODE_PUBLIC: u32 = 0o644;

/// Whether a staged file may replace an existing one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// The name must not exist yet.
    Never,
    /// Replace the existing file atomically.
    Replace,
}

struct Staged {
    target: PathBuf,
    temp: PathBuf,
    overwrite: Overwrite,
}

/// A set of files written together or not at all.
#[derive(Default)]
pub struct FileSet {
    staged: Vec<Staged>,
    pending: Vec<(PathBuf, Vec<u8>, u32, Overwrite)>,
}

/// Fails with a message that names `path` when it exists and `force` is off.
pub fn refuse_existing(path: &Path, force: bool) -> Result<()> {
    if !force && path.symlink_metadata().is_ok() {
        bail!("refusing to overwrite {}: it already exists (use --force to replace it)", quote(path));
    }
    Ok(())
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

impl FileSet {
    /// Adds a file to the set.
    pub fn add(&mut self, target: impl Into<PathBuf>, data: Vec<u8>, mode: u32, overwrite: Overwrite) {
        self.pending.push((target.into(), data, mode, overwrite));
    }

    /// Writes every file, then moves them all into place.
    pub fn commit(mut self) -> Result<()> {
        for (target, data, mode, overwrite) in std::mem::take(&mut self.pending) {
            if overwrite == Overwrite::Never && target.symlink_metadata().is_ok() {
                bail!(
                    "refusing to overwrite {}: it already exists (use --force to replace it)",
                    quote(&target)
                );
            }
            let temp = temp_name(&target);
            write_new(&temp, &data, mode).with_context(|| format!("failed to write {}", quote(&target)))?;
            self.staged.push(Staged { target, temp, overwrite });
        }
        let mut dirs = Vec::new();
        for s in std::mem::take(&mut self.staged) {
            let placed = match s.overwrite {
                Overwrite::Replace => fs::rename(&s.temp, &s.target),
                Overwrite::Never => fs::hard_link(&s.temp, &s.target).and_then(|()| fs::remove_file(&s.temp)),
            };
            if let Err(e) = placed {
                let _ = fs::remove_file(&s.temp);
                return Err(e).with_context(|| format!("failed to write {}", quote(&s.target)));
            }
            let dir = parent_dir(&s.target);
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        for dir in dirs {
            // Make the renames durable; a failure here loses nothing already written.
            if let Ok(d) = File::open(&dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for FileSet {
    fn drop(&mut self) {
        for s in &self.staged {
            let _ = fs::remove_file(&s.temp);
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn temp_name(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    parent_dir(target).join(format!(".{name}.bootsign-{}.tmp", std::process::id()))
}

fn write_new(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    let _ = fs::remove_file(path);
    let mut f = OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
    // The umask may have narrowed `mode`; public files should still be readable.
    f.set_permissions(fs::Permissions::from_mode(mode))?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporaries left");

        let mut set = FileSet::default();
        set.add(&a, b"new a".to_vec(), MODE_SECRET, Overwrite::Never);
        set.add(&b, b"new b".to_vec(), MODE_PUBLIC, Overwrite::Replace);
        set.commit().unwrap();
        assert_eq!(fs::read_to_string(&b).unwrap(), "new b");
        assert_eq!(fs::metadata(&a).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
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
