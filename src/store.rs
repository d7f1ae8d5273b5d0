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

/// Writes a directory of files atomically: all files go to a temporary sibling directory, are
/// fsynced, then the directory replaces `dir` by rename. An existing `dir` is moved aside first
/// and removed only after the new one is in place.
pub fn write_dir_atomic(dir: &Path, files: &[(&str, &[u8])]) -> io::Result<()> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    fs::create_dir_all(&parent)?;
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
        let old = temp_sibling(dir, "old")?;
        let had_old = dir.exists();
        if had_old {
            let _ = fs::remove_dir_all(&old);
            fs::rename(dir, &old)?;
        }
        fs::rename(&tmp, dir)?;
        sync_dir(&parent)?;
        if had_old {
            let _ = fs::remove_dir_all(&old);
        }
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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            temperature: 0.8,
            top_p: 0.95,
            seed: 42,
            explain: "full".into(),
            model: "default".into(),
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
