//! File-system I/O every layer shares. Crash-safe writes of files and directories: write to a
//! temporary sibling, fsync, rename, fsync the parent; a crash leaves either the old or the new
//! version, never a torn one. Used for models (any layer may save one) and, through
//! [`crate::store`], for the user's data; locks and appends that roll back. And [`read_file`],
//! the one way model files are read, with checks on what a model file can be.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

fn sync_dir(dir: &Path) -> io::Result<()> {
    // Directories can be opened and fsynced on Unix; elsewhere this is a no-op.
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// `~` and a leading `~/` as the user's home directory (paths typed by the user: a model
/// directory, a `/save` file); anything else as it is.
pub fn expand_tilde(s: &str) -> PathBuf {
    if s == "~" || s.starts_with("~/") {
        if let Some(home) = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()) {
            return match s.strip_prefix("~/") {
                Some(rest) => home.join(rest),
                None => home,
            };
        }
    }
    PathBuf::from(s)
}

/// The largest file of each name a model may have: generous for every real model, small enough
/// that a wrong file (a disk image named vocab.txt, a link to /dev/zero) is refused at once
/// instead of filling memory. Weights (any other name) have no limit of their own.
pub fn model_file_limit(name: &str) -> u64 {
    match name {
        "config.json"
        | "tokenizer_config.json"
        | "generation_config.json"
        | "special_tokens_map.json"
        | "fenci.json" => 4 << 20,
        "vocab.txt" | "lexicon.txt" | "pos_lexicon.txt" | "merges.txt" | "route.json" => 64 << 20,
        "tokenizer.json" | "vocab.json" => 256 << 20,
        _ => u64::MAX,
    }
}

/// Whether `a` and `b` name the same existing file (through links and `..`): writing one
/// would destroy the other.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Reads a file of a model (a tagger's or a language model's): the one place such reads happen,
/// so every model gets the same checks. It must be a regular file (a FIFO would block the read
/// forever, a device never ends) of at most [`model_file_limit`] bytes for its name.
pub fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    read_limited(path, model_file_limit(&name))
}

/// Reads a regular file of at most `limit` bytes (checked before it is opened, and again while
/// reading, so a file that grows meanwhile cannot exceed it).
pub fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a directory, FIFO or device?); a model's files are plain files",
        ));
    }
    let too_big = |size: u64| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is larger than any real file of this kind (limit {}); is it the right file?",
                mb(size),
                mb(limit)
            ),
        )
    };
    if meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// An exclusive lock on a lock file, held until this is dropped (or the process ends, however
/// it ends: the operating system releases it).
#[derive(Debug)]
pub struct Lock {
    file: File,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    if let Some(p) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(p)?;
    }
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

/// Waits for the exclusive lock on `path` (created if missing).
pub fn lock(path: &Path) -> io::Result<Lock> {
    let file = open_lock_file(path)?;
    file.lock()?;
    Ok(Lock { file })
}

/// Takes the exclusive lock on `path` (created if missing), or `None` at once when another
/// process holds it.
pub fn try_lock(path: &Path) -> io::Result<Option<Lock>> {
    let file = open_lock_file(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(Lock { file })),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Appends `bytes` to `f` (opened for appending, `old_len` bytes long) and fsyncs; when any of
/// it fails (a full disk, a file-size limit) the file is cut back to `old_len`, so a failed
/// append leaves no torn record behind.
pub fn append_all(f: &mut File, old_len: u64, bytes: &[u8]) -> io::Result<()> {
    let res = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = res {
        let _ = f.set_len(old_len).and_then(|()| f.sync_all());
        return Err(e);
    }
    Ok(())
}

pub(crate) fn temp_sibling(path: &Path, tag: &str) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let parent = path.parent().unwrap_or(Path::new("."));
    Ok(parent.join(format!(
        ".{}.{tag}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// The line (1-based) holding the first byte that is not UTF-8.
pub fn invalid_utf8_line(e: &std::string::FromUtf8Error) -> usize {
    e.as_bytes()[..e.utf8_error().valid_up_to()]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A text file as a string: `.gz` read compressed, a UTF-8 byte-order mark dropped; errors name
/// the file (and the first line that is not UTF-8).
pub fn read_text(p: &Path) -> io::Result<String> {
    let mut bytes = fs::read(p)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot read {}: {e}", p.display())))?;
    if p.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut out)
            .map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: not a readable gzip file: {e}", p.display()),
                )
            })?;
        bytes = out;
    }
    let s = String::from_utf8(bytes).map_err(|e| {
        let line = invalid_utf8_line(&e);
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: line {line} is not valid UTF-8 (convert it first, e.g. `iconv -f GBK -t UTF-8`)",
                p.display()
            ),
        )
    })?;
    Ok(s.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(s))
}

/// Standard input as a string, as [`read_text`] reads a file: a byte-order mark dropped, the
/// first line that is not UTF-8 named.
pub fn read_stdin_text() -> io::Result<String> {
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut io::stdin().lock(), &mut bytes)?;
    let s = String::from_utf8(bytes).map_err(|e| {
        let line = invalid_utf8_line(&e);
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "standard input: line {line} is not valid UTF-8 (convert it first, e.g. `iconv -f GBK -t UTF-8`)"
            ),
        )
    })?;
    Ok(s.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(s))
}

/// Writes `bytes` to `path` atomically (temp file, fsync, rename, fsync parent).
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(p) = parent {
        fs::create_dir_all(p)?;
    }
    let tmp = temp_sibling(path, "file")?;
    let res = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        sync_dir(parent.unwrap_or(Path::new(".")))
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

/// Space kept free on top of what a model write needs, so that writing a model never fills the
/// disk (the user's other programs, logs and the next correction still have room).
pub const FREE_SPACE_MARGIN: u64 = 32 << 20;

/// Bytes an unprivileged writer may still use on the filesystem holding `path` (asked of the
/// nearest existing ancestor when `path` does not exist yet). `u64::MAX` where the platform
/// cannot tell.
pub fn available_space(path: &Path) -> io::Result<u64> {
    let mut p = path;
    while !p.exists() {
        match p.parent() {
            Some(q) if !q.as_os_str().is_empty() => p = q,
            _ => {
                p = Path::new(".");
                break;
            }
        }
    }
    #[cfg(unix)]
    {
        let st = rustix::fs::statvfs(p)?;
        Ok(st.f_bavail.saturating_mul(st.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = p;
        Ok(u64::MAX)
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Refuses (with [`io::ErrorKind::StorageFull`] and a message saying how much is needed and
/// free) to write `needed` bytes under `dir` when that would leave less than
/// [`FREE_SPACE_MARGIN`] free. `available` is the free space there (see [`available_space`]).
pub fn check_free_space(dir: &Path, needed: u64, available: u64) -> io::Result<()> {
    if available >= needed.saturating_add(FREE_SPACE_MARGIN) {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::StorageFull,
        format!(
            "not enough free space to write {}: it needs {} and fenci keeps {} free, but only {} are free there; free some space and try again",
            dir.display(),
            mb(needed),
            mb(FREE_SPACE_MARGIN),
            mb(available)
        ),
    ))
}

/// Swaps two paths atomically where the platform can (Linux `renameat2(RENAME_EXCHANGE)`);
/// `Ok(false)` where it cannot, so the caller falls back to two renames.
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        use rustix::io::Errno;
        match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
            Ok(()) => Ok(true),
            Err(e) if e == Errno::INVAL || e == Errno::NOSYS || e == Errno::NOTSUP => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = (a, b);
        Ok(false)
    }
}

/// Removes from `parent` the temporary directories that writers killed mid-write left there
/// (`.NAME.dir.PID.tmp`, `.NAME.old.PID.tmp`, as [`write_dir_atomic`] names them) — only those
/// whose process is gone.
fn remove_stale_temps(parent: &Path) {
    #[cfg(target_os = "linux")]
    {
        let Ok(entries) = fs::read_dir(parent) else {
            return;
        };
        for e in entries.flatten() {
            let f = e.file_name();
            let f = f.to_string_lossy();
            let Some(rest) = f.strip_prefix('.').and_then(|r| r.strip_suffix(".tmp")) else {
                continue;
            };
            let Some((rest, pid)) = rest.rsplit_once('.') else {
                continue;
            };
            let Ok(pid) = pid.parse::<u32>() else {
                continue;
            };
            if (rest.ends_with(".dir") || rest.ends_with(".old"))
                && pid != std::process::id()
                && e.file_type().is_ok_and(|t| t.is_dir())
                && !Path::new("/proc").join(pid.to_string()).exists()
            {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
}

/// Writes a directory of files atomically: all files go to a temporary sibling directory, are
/// fsynced, then the directory replaces `dir` — by an atomic exchange where the platform has
/// one, else by moving the old `dir` aside first (and back if the second rename fails). A crash
/// at any point leaves `dir` either complete and old or complete and new. Refuses to start when
/// the files would leave less than [`FREE_SPACE_MARGIN`] free; on any error the temporary
/// directory is removed. Temporary siblings left by killed processes are removed first.
pub fn write_dir_atomic(dir: &Path, files: &[(&str, &[u8])]) -> io::Result<()> {
    write_dir_atomic_with(dir, files, available_space)
}

/// [`write_dir_atomic`] with the free-space probe given (tests inject a full disk with it).
pub fn write_dir_atomic_with(
    dir: &Path,
    files: &[(&str, &[u8])],
    available: impl Fn(&Path) -> io::Result<u64>,
) -> io::Result<()> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    fs::create_dir_all(&parent)?;
    remove_stale_temps(&parent);
    let needed: u64 = files.iter().map(|(_, b)| b.len() as u64 + 4096).sum();
    // A probe that fails (an exotic filesystem) does not block the write.
    if let Ok(free) = available(&parent) {
        check_free_space(dir, needed, free)?;
    }
    let tmp = temp_sibling(dir, "dir")?;
    let _ = fs::remove_dir_all(&tmp);
    let res = (|| {
        fs::create_dir_all(&tmp)?;
        for (name, bytes) in files {
            let mut f = File::create(tmp.join(name))?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        sync_dir(&tmp)?;
        if !dir.exists() {
            fs::rename(&tmp, dir)?;
            return sync_dir(&parent);
        }
        if exchange(&tmp, dir)? {
            // `tmp` now holds the old version.
            sync_dir(&parent)?;
            let _ = fs::remove_dir_all(&tmp);
            return Ok(());
        }
        let old = temp_sibling(dir, "old")?;
        let _ = fs::remove_dir_all(&old);
        fs::rename(dir, &old)?;
        if let Err(e) = fs::rename(&tmp, dir) {
            let _ = fs::rename(&old, dir);
            return Err(e);
        }
        sync_dir(&parent)?;
        let _ = fs::remove_dir_all(&old);
        Ok(())
    })();
    if res.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    res
}
