//! Atomic, private file writes.
//!
//! Records hold encrypted keys and the only copy of a smart account's bookkeeping, so a
//! crash or a full disk must never leave a half-written file behind, and nothing here
//! should be readable by other users. Every write therefore goes to a fresh temporary file
//! in the target's directory (mode 0600, opened with `O_CREAT | O_EXCL` so nobody else's
//! file is reused), is flushed with `fsync`, and only then takes the target's name in one
//! atomic step; the directory is synced so the new name survives a power loss. Directories
//! this module creates are mode 0700.
//!
//! If a step fails before the rename, the temporary file is removed and the target is left
//! exactly as it was.
//!
//! ```
//! use namera_store::fs::{create_new_atomic, write_atomic};
//! use std::io::ErrorKind;
//!
//! # let dir = std::env::temp_dir().join(format!("namera-fs-doc-{}", std::process::id()));
//! let path = dir.join("nested/record.json");
//! create_new_atomic(&path, b"first")?; // creates `nested/` as 0700
//! let again = create_new_atomic(&path, b"second").unwrap_err();
//! assert_eq!(again.kind(), ErrorKind::AlreadyExists);
//! write_atomic(&path, b"third")?;
//! assert_eq!(std::fs::read(&path)?, b"third");
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of files written here: owner read/write only.
pub const FILE_MODE: u32 = 0o600;
/// Mode of directories created here: owner only.
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` and any missing parents with mode 0700. Existing directories keep their
/// mode (the user may have chosen it).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Replaces (or creates) `path` with `bytes`, atomically: readers see the old content or
/// the new, never a mix, and a failure leaves the old content in place.
///
/// The final directory sync happens after the rename; if only that fails, the error is
/// returned although the new content is already in place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = TempFile::write(path, bytes)?;
    fs::rename(&temp.path, path)?;
    temp.disarm();
    sync_dir(parent(path))
}

/// Creates `path` with `bytes` only if nothing exists there, atomically; fails with
/// [`io::ErrorKind::AlreadyExists`] otherwise, leaving the existing file untouched.
///
/// Free of races: the content is written to a temporary file first, then linked to the
/// target name with `link(2)`, which refuses an existing name. The check and the creation
/// are one system call, and the target never exists with partial content.
pub fn create_new_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = TempFile::write(path, bytes)?;
    fs::hard_link(&temp.path, path)?;
    // The temp name is removed when `temp` drops; the content lives on under `path`.
    drop(temp);
    sync_dir(parent(path))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes directory entries (creations, renames) durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// How old a temporary file must be to count as left behind: a write takes well under a
/// second, so one this old belongs to a writer that was killed mid-write.
pub const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(300);

/// Removes the temporary files (`.<name>.<random>.tmp`) in `dir` that a killed writer
/// left behind (older than [`STALE_TEMP_AGE`]); best effort, errors are ignored. Called
/// before every write and when a collection is listed, so they do not pile up forever.
pub fn sweep_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with('.') && name.ends_with(".tmp")) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= STALE_TEMP_AGE);
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// A temporary sibling of the target that is removed on drop unless disarmed.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    /// Writes `bytes` to a new private temporary file next to `target` and syncs it.
    fn write(target: &Path, bytes: &[u8]) -> io::Result<Self> {
        let dir = parent(target);
        create_private_dir(dir)?;
        let name = target.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "the target path has no file name")
        })?;
        sweep_stale_temps(dir);
        let (path, mut file) = Self::open(dir, &name.to_string_lossy())?;
        let temp = Self { path, armed: true };
        // Enforce 0600 even under an unusual umask.
        file.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        Ok(temp)
    }

    /// Opens a fresh file named `.<target>.<random>.tmp`; retries on the (unlikely) clash.
    fn open(dir: &Path, target_name: &str) -> io::Result<(PathBuf, File)> {
        let mut last = None;
        for _ in 0..8 {
            let mut random = [0u8; 8];
            getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
            let path =
                dir.join(format!(".{target_name}.{}.tmp", alloy_primitives::hex::encode(random)));
            match OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(&path) {
                Ok(file) => return Ok((path, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("could not create a temporary file")))
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: the error that got us here matters more than this one.
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn write_atomic_creates_private_file_and_dirs() {
        let t = TestDir::new("fs-write");
        let path = t.path().join("a/b/file.json");
        write_atomic(&path, b"one").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&t.path().join("a")), 0o700);
        assert_eq!(mode(&t.path().join("a/b")), 0o700);
        // Replaces, and leaves no temporary file behind.
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(entries(&t.path().join("a/b")), ["file.json"]);
    }

    #[test]
    fn write_atomic_replaces_a_world_readable_file_with_a_private_one() {
        let t = TestDir::new("fs-mode");
        let path = t.path().join("file");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn create_new_refuses_existing_and_keeps_it() {
        let t = TestDir::new("fs-create");
        let path = t.path().join("file");
        create_new_atomic(&path, b"first").unwrap();
        assert_eq!(mode(&path), 0o600);
        let err = create_new_atomic(&path, b"second").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert_eq!(entries(t.path()), ["file"]);
    }

    #[test]
    fn failed_write_leaves_target_and_no_temp() {
        let t = TestDir::new("fs-fail");
        // The target is a non-empty directory: rename over it fails after the temp file
        // has been fully written.
        let target = t.path().join("target");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), b"x").unwrap();
        assert!(write_atomic(&target, b"data").is_err());
        assert_eq!(entries(t.path()), ["target"]);
        assert_eq!(entries(&target), ["inside"]);
    }

    #[test]
    fn concurrent_creates_have_exactly_one_winner() {
        let t = TestDir::new("fs-race");
        let path = t.path().join("file");
        let winners: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8u8)
                .map(|i| {
                    let path = &path;
                    s.spawn(move || create_new_atomic(path, &[i; 16]).is_ok() as usize)
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(winners, 1);
        let content = fs::read(&path).unwrap();
        assert_eq!(content.len(), 16);
        assert!(content.iter().all(|&b| b == content[0]));
        assert_eq!(entries(t.path()), ["file"]);
    }

    #[test]
    fn temporary_files_left_by_a_killed_writer_are_swept() {
        let t = TestDir::new("fs-sweep");
        let stale = t.path().join(".acc.json.0011223344556677.tmp");
        let fresh = t.path().join(".acc.json.8899aabbccddeeff.tmp");
        let note = t.path().join("notes.tmp");
        for p in [&stale, &fresh, &note] {
            fs::write(p, b"{\"half").unwrap();
        }
        let long_ago = std::time::SystemTime::now() - STALE_TEMP_AGE * 2;
        File::options().write(true).open(&stale).unwrap().set_modified(long_ago).unwrap();
        File::options().write(true).open(&note).unwrap().set_modified(long_ago).unwrap();
        write_atomic(&t.path().join("acc.json"), b"{}").unwrap();
        // The stale temp is gone; one that may belong to a live writer stays, and so do
        // files that are not ours.
        assert_eq!(entries(t.path()), [".acc.json.8899aabbccddeeff.tmp", "acc.json", "notes.tmp"]);
    }
}
