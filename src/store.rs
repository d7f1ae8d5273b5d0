//! fenci's data directory and crash-safe writes.
//!
//! The data directory is `$FENCI_HOME` when set, else the platform's data dir (via the
//! `directories` crate, e.g. `~/.local/share/fenci`). Every write of user data or of a model goes
//! through [`write_file_atomic`] / [`write_dir_atomic`]: write to a temporary sibling, fsync, rename,
//! fsync the parent — a crash leaves either the old or the new version, never a torn one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The data directory (not created).
pub fn data_dir() -> io::Result<PathBuf> {
    if let Some(h) = std::env::var_os("FENCI_HOME") {
        if !h.is_empty() {
            return Ok(PathBuf::from(h));
        }
    }
    directories::ProjectDirs::from("", "", "fenci")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "no home directory found; set FENCI_HOME to a writable directory",
            )
        })
}

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

fn temp_sibling(path: &Path, tag: &str) -> io::Result<PathBuf> {
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

/// Settings that persist across sessions (`settings.toml`). Unknown keys are ignored and missing
/// ones take defaults, so files from older and newer versions both load.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Sampling temperature for generated examples (0 = greedy).
    pub temperature: f64,
    /// Nucleus sampling threshold.
    pub top_p: f64,
    /// Random seed for generation.
    pub seed: u64,
    /// How much explanation a turn shows: `full`, `brief` or `off`.
    pub explain: String,
    /// The active model (`default`, a directory, later a hub id).
    pub model: String,
    /// The language model for examples (`default`, a directory or a hub id).
    pub lm: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            temperature: 0.8,
            top_p: 0.95,
            seed: 42,
            explain: "full".into(),
            model: "default".into(),
            lm: "default".into(),
        }
    }
}

impl Settings {
    /// Loads `settings.toml` from `dir`; a missing or unreadable file gives the defaults (and a
    /// message saying why, for a damaged file).
    pub fn load(dir: &Path) -> (Self, Option<String>) {
        let p = dir.join("settings.toml");
        match fs::read_to_string(&p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => (Self::default(), None),
            Err(e) => (
                Self::default(),
                Some(format!("{}: {e}; using defaults", p.display())),
            ),
            Ok(s) => match toml::from_str(&s) {
                Ok(v) => (v, None),
                Err(e) => (
                    Self::default(),
                    Some(format!("{}: {e}; using defaults", p.display())),
                ),
            },
        }
    }

    /// Saves atomically to `dir/settings.toml`.
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        let s = toml::to_string_pretty(self).map_err(io::Error::other)?;
        write_file_atomic(&dir.join("settings.toml"), s.as_bytes())
    }
}

/// Input history (`history.txt`, one entry a line, newest last).
pub struct History;

impl History {
    /// Most this file keeps.
    pub const MAX: usize = 1000;

    /// Loads the last [`History::MAX`] entries; a missing file is empty.
    pub fn load(dir: &Path) -> Vec<String> {
        let text = fs::read(dir.join("history.txt")).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let v: Vec<String> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        v[v.len().saturating_sub(Self::MAX)..].to_vec()
    }

    /// Appends one entry (newlines folded to spaces).
    pub fn append(dir: &Path, entry: &str) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("history.txt"))?;
        writeln!(f, "{}", entry.replace(['\n', '\r'], " "))
    }
}

/// One correction: a sentence and the words the user says it has.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Correction {
    /// Sequential id within the store (1, 2, …).
    pub id: u64,
    /// Seconds since the Unix epoch.
    pub time: u64,
    /// The sentence (the words joined).
    pub sentence: String,
    /// The corrected words.
    pub words: Vec<String>,
    /// What the model said before the correction.
    #[serde(default)]
    pub model_output: Vec<String>,
    /// The model version that produced `model_output`.
    #[serde(default)]
    pub model_version: String,
}

/// The append-only corrections file (`corrections.jsonl`): one JSON record a line, each append
/// fsynced under an exclusive file lock, so two fenci processes never interleave and an
/// acknowledged correction survives a crash. A torn last line (a crash mid-write) is skipped
/// with a warning, never a failed start.
#[derive(Debug, Clone)]
pub struct CorrectionStore {
    path: PathBuf,
}

/// What loading the corrections found.
#[derive(Debug, Clone, Default)]
pub struct LoadedCorrections {
    /// The records, oldest first.
    pub records: Vec<Correction>,
    /// Lines that could not be read, with why.
    pub warnings: Vec<String>,
}

fn parse_corrections(text: &[u8], path: &Path) -> LoadedCorrections {
    let mut out = LoadedCorrections::default();
    let text = String::from_utf8_lossy(text);
    let n = text.lines().count();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Correction>(line) {
            Ok(c) => out.records.push(c),
            Err(e) => out.warnings.push(if i + 1 == n {
                format!(
                    "{}: the last line is incomplete (an interrupted write?) and was skipped",
                    path.display()
                )
            } else {
                format!("{}: line {} skipped: {e}", path.display(), i + 1)
            }),
        }
    }
    out
}

impl CorrectionStore {
    /// The store in data directory `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            path: dir.join("corrections.jsonl"),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads every record (a missing file is empty).
    pub fn load(&self) -> io::Result<LoadedCorrections> {
        match fs::read(&self.path) {
            Ok(b) => Ok(parse_corrections(&b, &self.path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(LoadedCorrections::default()),
            Err(e) => Err(e),
        }
    }

    /// Appends a correction (its id and time are assigned here) and fsyncs before returning.
    pub fn append(
        &self,
        words: Vec<String>,
        model_output: Vec<String>,
        model_version: &str,
    ) -> io::Result<Correction> {
        use std::io::{Read, Seek};
        if let Some(p) = self.path.parent() {
            fs::create_dir_all(p)?;
        }
        let mut f = fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)?;
        f.lock()?;
        let mut existing = Vec::new();
        f.seek(io::SeekFrom::Start(0))?;
        f.read_to_end(&mut existing)?;
        let loaded = parse_corrections(&existing, &self.path);
        let id = loaded
            .records
            .iter()
            .map(|c| c.id)
            .max()
            .unwrap_or(0)
            .checked_add(1)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{}: a record has the largest possible id, so no new id is left; fix or remove that line",
                        self.path.display()
                    ),
                )
            })?;
        let c = Correction {
            id,
            time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            sentence: words.concat(),
            words,
            model_output,
            model_version: model_version.to_string(),
        };
        let mut line = serde_json::to_string(&c).map_err(io::Error::other)?;
        line.push('\n');
        // A torn last line gets its own line ended, so the new record starts cleanly.
        if !existing.is_empty() && existing.last() != Some(&b'\n') {
            line.insert(0, '\n');
        }
        f.write_all(line.as_bytes())?;
        f.sync_all()?;
        f.unlock()?;
        Ok(c)
    }
}

/// The user dictionary (`dict.txt`, one word a line): words forced at decode time.
pub struct UserDict;

impl UserDict {
    /// The words (a missing file is empty).
    pub fn load(dir: &Path) -> Vec<String> {
        let text = fs::read(dir.join("dict.txt")).unwrap_or_default();
        String::from_utf8_lossy(&text)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    }

    fn save(dir: &Path, words: &[String]) -> io::Result<()> {
        let mut s = words.join("\n");
        s.push('\n');
        write_file_atomic(&dir.join("dict.txt"), s.as_bytes())
    }

    /// Adds a word; false if it was there already.
    pub fn add(dir: &Path, word: &str) -> io::Result<bool> {
        let word = word.trim();
        if word.is_empty() || word.chars().any(char::is_whitespace) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a dictionary word is one word without spaces",
            ));
        }
        let mut words = Self::load(dir);
        if words.iter().any(|w| w == word) {
            return Ok(false);
        }
        words.push(word.to_string());
        Self::save(dir, &words)?;
        Ok(true)
    }

    /// Removes a word; false if it was not there.
    pub fn remove(dir: &Path, word: &str) -> io::Result<bool> {
        let mut words = Self::load(dir);
        let n = words.len();
        words.retain(|w| w != word.trim());
        if words.len() == n {
            return Ok(false);
        }
        Self::save(dir, &words)?;
        Ok(true)
    }
}

/// Metadata of a model version written by training (`fenci.json` inside the version).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct VersionMeta {
    /// This version's name (`v1`, `v2`, …).
    pub name: String,
    /// The version it was trained from (`default` for the built-in model).
    pub parent: String,
    /// Ids of the corrections it was trained on.
    pub corrections: Vec<u64>,
    /// Seconds since the Unix epoch.
    pub created: u64,
    /// A one-line summary of the training run.
    pub summary: String,
}

/// Model versions under `models/` in the data directory and the pointer to the active one
/// (`active`, holding `default` or a version name). Every change is atomic.
pub struct Versions {
    dir: PathBuf,
}

impl Versions {
    /// Versions in data directory `data`.
    pub fn new(data: &Path) -> Self {
        Self {
            dir: data.to_path_buf(),
        }
    }

    /// The directory of version `name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join("models").join(name)
    }

    /// The active version's name (`default` when none was trained or the pointer is broken).
    pub fn active(&self) -> String {
        let name = fs::read_to_string(self.dir.join("active"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        if name.is_empty() || name == "default" {
            return "default".into();
        }
        if self.path(&name).join("config.json").is_file() {
            name
        } else {
            "default".into()
        }
    }

    /// Makes `name` the active version (atomically).
    pub fn set_active(&self, name: &str) -> io::Result<()> {
        if name != "default" && !self.path(name).join("config.json").is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no model version {name}"),
            ));
        }
        write_file_atomic(&self.dir.join("active"), format!("{name}\n").as_bytes())
    }

    /// Every complete version, oldest first, with its metadata.
    pub fn list(&self) -> Vec<VersionMeta> {
        let mut v: Vec<(u64, VersionMeta)> = fs::read_dir(self.dir.join("models"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let n: u64 = name.strip_prefix('v')?.parse().ok()?;
                if !e.path().join("config.json").is_file() {
                    return None;
                }
                let meta = fs::read_to_string(e.path().join("fenci.json"))
                    .ok()
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or(VersionMeta {
                        name: name.clone(),
                        ..Default::default()
                    });
                Some((n, meta))
            })
            .collect();
        v.sort_by_key(|(n, _)| *n);
        v.into_iter().map(|(_, m)| m).collect()
    }

    /// Metadata of one version.
    pub fn meta(&self, name: &str) -> Option<VersionMeta> {
        self.list().into_iter().find(|m| m.name == name)
    }

    /// The next version name: one past the highest number in use, by a version directory or as
    /// a version's parent. Pruning deletes the oldest versions; their names are never handed out
    /// again, so a parent link never points at a newer, unrelated model.
    pub fn next_name(&self) -> String {
        let num = |s: &str| s.strip_prefix('v').and_then(|n| n.parse::<u64>().ok());
        let dirs = fs::read_dir(self.dir.join("models"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| num(&e.file_name().to_string_lossy()));
        let parents = self.list().into_iter().filter_map(|m| num(&m.parent));
        let top = dirs.chain(parents).max().unwrap_or(0);
        format!("v{}", top + 1)
    }

    /// Ids of corrections the active version (and its ancestors) was trained on.
    pub fn trained_ids(&self) -> std::collections::HashSet<u64> {
        let mut ids = std::collections::HashSet::new();
        let mut cur = self.active();
        let mut guard = 0;
        while cur != "default" && guard < 10_000 {
            let Some(m) = self.meta(&cur) else { break };
            ids.extend(m.corrections.iter().copied());
            cur = m.parent.clone();
            guard += 1;
        }
        ids
    }

    /// Makes the active version's parent active again (the built-in model when the parent is
    /// gone). Returns (the version left, the version now active); an error when the built-in
    /// model is already active.
    pub fn undo(&self) -> io::Result<(String, String)> {
        let active = self.active();
        if active == "default" {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "nothing to undo: the built-in model is active",
            ));
        }
        let parent = self
            .meta(&active)
            .map(|m| m.parent)
            .filter(|p| p == "default" || self.path(p).join("config.json").is_file())
            .unwrap_or_else(|| "default".into());
        self.set_active(&parent)?;
        Ok((active, parent))
    }

    /// Deletes the oldest versions beyond `keep`, never the active one or its parent.
    pub fn prune(&self, keep: usize) -> io::Result<()> {
        let active = self.active();
        let parent = self.meta(&active).map(|m| m.parent).unwrap_or_default();
        let list = self.list();
        let excess = list.len().saturating_sub(keep.max(2));
        for m in list.into_iter().take(excess) {
            if m.name != active && m.name != parent {
                // Out of the listing in one rename, then deleted: a crash midway leaves a
                // temporary directory (swept by the next write), never a half-deleted version
                // that still looks complete.
                let path = self.path(&m.name);
                let doomed = temp_sibling(&path, "old")?;
                fs::rename(&path, &doomed)?;
                fs::remove_dir_all(&doomed)?;
            }
        }
        Ok(())
    }
}
