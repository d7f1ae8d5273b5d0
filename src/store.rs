//! fenci's data directory: what the user owns. Settings, history, corrections, the user
//! dictionary, trained model versions and the pointer to the active one.
//!
//! The data directory is `$FENCI_HOME` when set, else the platform's data dir (via the
//! `directories` crate, e.g. `~/.local/share/fenci`). Every write goes through
//! [`crate::fsio`]: a crash leaves either the old or the new version, never a torn one.

use std::fs::{self};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::fsio::temp_sibling;
pub use crate::fsio::{
    available_space, check_free_space, write_dir_atomic, write_dir_atomic_with, write_file_atomic,
    FREE_SPACE_MARGIN,
};

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

/// How much a turn explains (the `/explain` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Explain {
    /// Words with pinyin, English gloss, boundary confidence and alternatives.
    #[default]
    Full,
    /// Words with pinyin.
    Brief,
    /// Words only.
    Off,
}

impl Explain {
    /// The level named `full`, `brief` or `off`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "full" => Some(Self::Full),
            "brief" => Some(Self::Brief),
            "off" => Some(Self::Off),
            _ => None,
        }
    }

    /// Its name, as `/explain` and `settings.toml` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Brief => "brief",
            Self::Off => "off",
        }
    }
}

impl std::fmt::Display for Explain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
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
    pub explain: Explain,
    /// The active model (`default`, a directory, later a hub id).
    pub model: String,
    /// The language model for examples (`default`, a directory or a hub id).
    pub lm: String,
    /// Pinyin syllables in their tone's colour (`/tones on|off`; never under `NO_COLOR`).
    pub tone_colours: bool,
    /// Keys of a newer version of fenci, kept as they were.
    #[serde(flatten)]
    pub extra: toml::Table,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            temperature: 0.8,
            top_p: 0.95,
            seed: 42,
            explain: Explain::Full,
            model: "default".into(),
            lm: "default".into(),
            tone_colours: true,
            extra: toml::Table::new(),
        }
    }
}

impl Settings {
    /// Loads `settings.toml` from `dir`. Each key is read on its own: a bad value (a wrong
    /// type, NaN, out of range) keeps that setting's default and is named in the message, every
    /// other setting is kept, and keys this version does not know are kept for [`Settings::save`]
    /// (a newer fenci's settings survive a run of an older one). A missing file gives the
    /// defaults; an unreadable one the defaults and a message.
    pub fn load(dir: &Path) -> (Self, Option<String>) {
        let p = dir.join("settings.toml");
        let text = match fs::read_to_string(&p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return (Self::default(), None),
            Err(e) => {
                return (
                    Self::default(),
                    Some(format!("{}: {e}; using defaults", p.display())),
                )
            }
            Ok(t) => t,
        };
        let table: toml::Table = match toml::from_str(&text) {
            Ok(t) => t,
            Err(e) => {
                // Nothing in it can be read. Loading leaves it where it is; a later save keeps
                // it aside first (see [`Settings::save`]).
                return (
                    Self::default(),
                    Some(format!(
                        "{}: {e}; using defaults (the file is kept: a change of settings first \
                         moves it aside, to settings.toml.bad or the next free .bad.N)",
                        p.display()
                    )),
                );
            }
        };
        let mut s = Self::default();
        let mut bad = Vec::new();
        let number = |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
        for (key, value) in table {
            let ok = match key.as_str() {
                "temperature" => number(&value)
                    .filter(|t| t.is_finite() && (0.0..=2.0).contains(t))
                    .map(|t| s.temperature = t)
                    .ok_or("a number from 0 to 2"),
                "top_p" => number(&value)
                    .filter(|t| t.is_finite() && (0.0..=1.0).contains(t))
                    .map(|t| s.top_p = t)
                    .ok_or("a number from 0 to 1"),
                "seed" => value
                    .as_integer()
                    .filter(|&n| n >= 0)
                    .map(|n| s.seed = n as u64)
                    .ok_or("a whole number ≥ 0"),
                "explain" => value
                    .as_str()
                    .and_then(Explain::from_name)
                    .map(|e| s.explain = e)
                    .ok_or("\"full\", \"brief\" or \"off\""),
                "tone_colours" => value
                    .as_bool()
                    .map(|b| s.tone_colours = b)
                    .ok_or("true or false"),
                "model" | "lm" => value
                    .as_str()
                    .map(|v| match key.as_str() {
                        "model" => s.model = v.to_string(),
                        _ => s.lm = v.to_string(),
                    })
                    .ok_or("a name in quotes"),
                _ => {
                    s.extra.insert(key, value);
                    continue;
                }
            };
            if let Err(want) = ok {
                bad.push(format!("{key} = {value} (want {want})"));
            }
        }
        let msg = (!bad.is_empty()).then(|| {
            format!(
                "{}: {}: the default is used for {}; every other setting is kept",
                p.display(),
                bad.join(", "),
                if bad.len() == 1 { "it" } else { "each" }
            )
        });
        (s, msg)
    }

    /// Saves atomically to `dir/settings.toml`.
    ///
    /// A `settings.toml` that is not TOML at all (what [`Settings::load`] could not read) is
    /// first moved aside, to `settings.toml.bad` or the first free `settings.toml.bad.N`, so
    /// that what the user wrote is never overwritten; if it cannot be moved, nothing is saved.
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        let s = toml::to_string_pretty(self).map_err(io::Error::other)?;
        let p = dir.join("settings.toml");
        if let Ok(old) = fs::read(&p) {
            let parses = std::str::from_utf8(&old)
                .ok()
                .is_some_and(|t| toml::from_str::<toml::Table>(t).is_ok());
            if !parses {
                let aside = (0..1000)
                    .map(|n| match n {
                        0 => dir.join("settings.toml.bad"),
                        n => dir.join(format!("settings.toml.bad.{n}")),
                    })
                    .find(|a| !a.exists())
                    .ok_or_else(|| io::Error::other("too many settings.toml.bad files"))?;
                fs::rename(&p, &aside)?;
            }
        }
        write_file_atomic(&p, s.as_bytes())
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
    let text = String::from_utf8_lossy(text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text));
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
                format!(
                    "{}: line {} skipped ({e}); the file keeps it: delete or mend that line to \
                     stop this warning",
                    path.display(),
                    i + 1
                )
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
        self.append_checked(words, model_output, model_version)
            .map(|(c, _)| c)
    }

    /// [`CorrectionStore::append`], also returning the warnings about lines of the file that
    /// could not be read. A failed write (a full disk) leaves the file as it was.
    pub fn append_checked(
        &self,
        words: Vec<String>,
        model_output: Vec<String>,
        model_version: &str,
    ) -> io::Result<(Correction, Vec<String>)> {
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
        // Never an id a version was trained on: a correction deleted from the file (or the file
        // removed to start over) must not hand its id to a new one, which would then show as
        // trained.
        let trained = self
            .path
            .parent()
            .map(|d| {
                Versions::new(d)
                    .list()
                    .iter()
                    .flat_map(|m| m.corrections.iter().copied())
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        let id = loaded
            .records
            .iter()
            .map(|c| c.id)
            .max()
            .unwrap_or(0)
            .max(trained)
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
        crate::fsio::append_all(&mut f, existing.len() as u64, line.as_bytes())?;
        f.unlock()?;
        Ok((c, loaded.warnings))
    }
}

/// The user dictionary (`dict.txt`, one word a line): words forced at decode time. Lines that
/// start with `#` are the user's comments: kept as they are, never words. Every change happens
/// under a lock (`.dict.lock`), so two fenci processes editing it at once lose nothing.
pub struct UserDict;

impl UserDict {
    fn path(dir: &Path) -> PathBuf {
        dir.join("dict.txt")
    }

    /// The file's lines as they are (a `\r` of a CRLF file stays on its line); an error for a
    /// file that is not UTF-8, which fenci would otherwise damage by rewriting it.
    fn lines(dir: &Path) -> io::Result<Vec<String>> {
        let bytes = match fs::read(Self::path(dir)) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            let line = crate::fsio::invalid_utf8_line(&e);
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "line {line} is not UTF-8; save the file as UTF-8 so fenci can edit it without damaging it"
                ),
            )
        })?;
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        if text.ends_with('\n') {
            lines.pop();
        }
        Ok(lines)
    }

    fn word_of(line: &str) -> Option<&str> {
        // A byte-order mark an editor put at the start of the file is not part of the word.
        let w = line.trim_start_matches('\u{feff}').trim();
        (!w.is_empty() && !w.starts_with('#')).then_some(w)
    }

    /// What is wrong with `dict.txt` for [`UserDict::load`], which reads past it: a file that
    /// is not UTF-8 (its words are read with replacement characters) or cannot be read at all.
    /// `None` for a good or missing file.
    pub fn problem(dir: &Path) -> Option<String> {
        let p = Self::path(dir);
        match fs::read(&p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => Some(format!("{}: {e}; your dictionary is not used", p.display())),
            Ok(bytes) => String::from_utf8(bytes).err().map(|e| {
                format!(
                    "{}: line {} is not UTF-8, so its words do not match; save the file as UTF-8",
                    p.display(),
                    crate::fsio::invalid_utf8_line(&e)
                )
            }),
        }
    }

    /// The words (a missing file is empty; a file that is not UTF-8 is read lossily).
    pub fn load(dir: &Path) -> Vec<String> {
        let text = fs::read(Self::path(dir)).unwrap_or_default();
        String::from_utf8_lossy(&text)
            .lines()
            .filter_map(Self::word_of)
            .map(str::to_string)
            .collect()
    }

    fn save(dir: &Path, lines: &[String]) -> io::Result<()> {
        let mut s = lines.join("\n");
        s.push('\n');
        write_file_atomic(&Self::path(dir), s.as_bytes())
    }

    /// Adds a word; false if it was there already.
    pub fn add(dir: &Path, word: &str) -> io::Result<bool> {
        Ok(Self::add_all(dir, &[word])?
            .first()
            .copied()
            .unwrap_or(false))
    }

    /// Adds every word, in one write: all of them or (a word that cannot be one, an error)
    /// none. For each, false if it was there already.
    pub fn add_all(dir: &Path, words: &[&str]) -> io::Result<Vec<bool>> {
        let words: Vec<&str> = words.iter().map(|w| w.trim()).collect();
        for word in &words {
            if word.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "give the word to add (e.g. fenci dict add 性价比)",
                ));
            }
            if word.chars().any(char::is_whitespace) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{word:?}: a dictionary word is one word without spaces"),
                ));
            }
            if word
                .chars()
                .any(|c| c.is_control() || crate::text::is_invisible(c))
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{word:?}: a dictionary word cannot hold control or invisible characters"
                    ),
                ));
            }
            if word.starts_with('#') {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{word}: a dictionary word cannot start with # (lines starting with # are comments in dict.txt)"
                    ),
                ));
            }
        }
        let _lock = crate::fsio::lock(&dir.join(".dict.lock"))?;
        let mut lines = Self::lines(dir)?;
        let mut added = Vec::with_capacity(words.len());
        for word in words {
            let new = !lines.iter().any(|l| Self::word_of(l) == Some(word));
            if new {
                lines.push(word.to_string());
            }
            added.push(new);
        }
        if added.contains(&true) {
            Self::save(dir, &lines)?;
        }
        Ok(added)
    }

    /// Removes a word; false if it was not there. Comments and other lines stay as they were.
    pub fn remove(dir: &Path, word: &str) -> io::Result<bool> {
        let word = word.trim();
        let _lock = crate::fsio::lock(&dir.join(".dict.lock"))?;
        let mut lines = Self::lines(dir)?;
        let n = lines.len();
        lines.retain(|l| Self::word_of(l) != Some(word));
        if lines.len() == n {
            return Ok(false);
        }
        Self::save(dir, &lines)?;
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

/// Whether `name` can name a version: a plain directory name under `models/` (letters, digits,
/// `-`, `_`, `.` but not first), so an `active` file cannot point outside the data directory and
/// a temporary directory a crash left (`.v2.dir.PID.tmp`) is never taken for a version.
fn is_version_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
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
        if name.is_empty() || name == "default" || !is_version_name(&name) {
            return "default".into();
        }
        if self.path(&name).join("config.json").is_file() {
            name
        } else {
            "default".into()
        }
    }

    /// What is wrong with the `active` file when it names no usable version (a version deleted
    /// by hand, garbage): [`Versions::active`] then falls back to the built-in model, and the
    /// user should hear of it. `None` when the active model is what the file says.
    pub fn active_problem(&self) -> Option<String> {
        let name = fs::read_to_string(self.dir.join("active")).ok()?;
        let name = name.trim();
        if name.is_empty() || name == "default" || self.active() == name {
            return None;
        }
        let shown: String = name.chars().take(40).collect();
        Some(format!(
            "{}: names {shown:?}, which is not a model version here; using the built-in model \
             (`fenci models` lists the versions)",
            self.dir.join("active").display()
        ))
    }

    /// Makes `name` the active version (atomically).
    pub fn set_active(&self, name: &str) -> io::Result<()> {
        if name != "default"
            && !(is_version_name(name) && self.path(name).join("config.json").is_file())
        {
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
                let mut meta: VersionMeta = crate::fsio::read_file(&e.path().join("fenci.json"))
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or_default();
                // The directory names the version, whatever its record says (a copied or edited
                // fenci.json must not make prune act on another directory).
                meta.name = name;
                Some((n, meta))
            })
            .collect();
        v.sort_by_key(|(n, _)| *n);
        v.into_iter().map(|(_, m)| m).collect()
    }

    /// Every directory under `models/` that holds a config.json, by name, in version order
    /// (v2 before v10).
    pub fn dirs(&self) -> Vec<(String, PathBuf)> {
        let mut v: Vec<(String, PathBuf)> = fs::read_dir(self.dir.join("models"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                is_version_name(&e.file_name().to_string_lossy())
                    && e.path().join("config.json").is_file()
            })
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .collect();
        v.sort_by_key(|(name, _)| {
            let n: Option<u64> = name.strip_prefix('v').and_then(|d| d.parse().ok());
            (n.is_none(), n, name.clone())
        });
        v
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
