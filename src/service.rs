//! The user's operations, implemented once for the command line and the app: record a
//! correction, list the corrections, edit the user dictionary, train on the corrections, undo,
//! list and switch model versions, load the active model. Each front end formats what these
//! return in its own words; neither touches the data directory by itself.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::segment::Segmenter;
use crate::store::{Correction, CorrectionStore, UserDict, VersionMeta, Versions};
use crate::tagger::ModelFiles;
use crate::train::{
    adapt_with, evaluate, generated_sentences, read_gold, AdaptConfig, AdaptReport, BeforeAfter,
    Progress, TrainError, MINI_DEV,
};

/// Errors of the user's operations; each keeps its cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A file of the data directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Loading, training or running a model failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The built-in language model (for generated training sentences) failed.
    #[error(transparent)]
    Generate(#[from] crate::generate::GenError),
    /// A correction longer than [`MAX_CORRECTION_CHARS`].
    #[error("a correction is one sentence: {chars} characters is more than the {MAX_CORRECTION_CHARS} fenci takes (split it into sentences)")]
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// Another fenci process is training on this data directory.
    #[error(
        "training is already running on {0} (in another fenci); wait for it to finish, or stop it"
    )]
    TrainingRunning(PathBuf),
    /// `fenci export` was given a directory it must not write into.
    #[error("{path}: {reason}")]
    ExportTarget {
        /// The directory.
        path: PathBuf,
        /// Why not, and what to give instead.
        reason: String,
    },
    /// `fenci dict add` / `/dict add` of one-character words without being forced: each
    /// would split every longer word that contains it. Nothing was added.
    #[error("{} {} a single character: your dictionary keeps its words whole and apart from their neighbours, so every longer word containing {} would be split around it everywhere (nothing was added)", .words.join(" "), if .words.len() == 1 { "is" } else { "are each" }, if .words.len() == 1 { "it" } else { "one" })]
    SingleCharWord {
        /// The one-character words asked for.
        words: Vec<String>,
    },
    /// `/model vN` for a version that does not exist.
    #[error("no version {name}: {}", if .existing.is_empty() { "no version has been trained yet (/train or fenci train makes v1; default is the built-in model)".to_string() } else { format!("the versions are {} (and default, the built-in model)", .existing.join(", ")) })]
    NoSuchVersion {
        /// What was asked for.
        name: String,
        /// The versions there are.
        existing: Vec<String>,
    },
    /// A correction whose characters are not the sentence's.
    #[error("{0}")]
    FixMismatch(String),
    /// A correction whose words hold control or invisible characters (an escape sequence, a
    /// zero-width space): they would be trained on and printed back raw.
    #[error("a correction cannot hold control or invisible characters ({0}); type the sentence as it should read")]
    BadCharacters(String),
    /// There is nothing to train on.
    #[error("no corrections yet: correct a sentence first (/fix in the app, or fenci correct \"词 词 词\")")]
    NoCorrections,
}

impl From<crate::tagger::ModelError> for ServiceError {
    fn from(e: crate::tagger::ModelError) -> Self {
        ServiceError::Train(e.into())
    }
}

impl From<crate::segment::SegmentError> for ServiceError {
    fn from(e: crate::segment::SegmentError) -> Self {
        ServiceError::Train(e.into())
    }
}

/// The longest correction fenci keeps, in characters: a sentence, not a document (one
/// correction of a megabyte would cost thousands of training steps).
pub const MAX_CORRECTION_CHARS: usize = 2_000;

/// The file `fenci export` leaves in a directory it wrote: the files it wrote, so that a later
/// export replaces exactly those and refuses a directory holding anything else.
pub const EXPORT_MARKER: &str = "fenci-export.json";

/// The files an export written before [`EXPORT_MARKER`] existed can hold.
const OLDER_EXPORT_FILES: &[&str] = &[
    "config.json",
    "vocab.txt",
    "tokenizer.json",
    "model.safetensors",
    "lexicon.txt",
    "README.md",
];

/// `path` made absolute with links and `..` resolved, also when it (or more of it) does not
/// exist yet: the nearest existing ancestor is resolved and the rest appended.
pub(crate) fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let abs = std::path::absolute(path)?;
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Ok(out);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return Ok(abs),
        }
    }
}

/// Result type of this module.
pub type Result<T> = std::result::Result<T, ServiceError>;

/// The stored corrections, each marked trained or not, and lines that could not be read.
#[derive(Debug, Clone, Default)]
pub struct CorrectionList {
    /// (the correction, whether the active version or an ancestor was trained on it).
    pub records: Vec<(Correction, bool)>,
    /// Lines of the file that could not be read, with why.
    pub warnings: Vec<String>,
}

/// The user's data directory and the operations on it.
#[derive(Debug, Clone)]
pub struct Service {
    dir: PathBuf,
}

impl Service {
    /// The operations on data directory `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn io(&self, path: PathBuf) -> impl FnOnce(std::io::Error) -> ServiceError {
        move |source| ServiceError::Io { path, source }
    }

    /// The active model version's name and files.
    pub fn load_active(&self) -> Result<(String, ModelFiles)> {
        Ok(load_active(&self.dir)?)
    }

    /// The active model with the user dictionary forced, and its version's name.
    pub fn active_segmenter(&self) -> Result<(Segmenter, String)> {
        let (name, files) = self.load_active()?;
        let mut seg = Segmenter::new(&files)?;
        seg.set_dict(self.dict_words());
        Ok((seg, name))
    }

    /// Records a correction (`words`, with what model `version` said: `before`, empty when no
    /// model could be loaded); fsynced before it returns. Also returns warnings about lines of
    /// the corrections file that could not be read.
    pub fn correct(
        &self,
        words: Vec<String>,
        before: Vec<String>,
        version: &str,
    ) -> Result<(Correction, Vec<String>)> {
        let chars: usize = words.iter().map(|w| w.chars().count()).sum();
        if chars > MAX_CORRECTION_CHARS {
            return Err(ServiceError::TooLong { chars });
        }
        if let Some(c) = words
            .iter()
            .flat_map(|w| w.chars())
            .find(|&c| c.is_control() || crate::text::is_invisible(c))
        {
            return Err(ServiceError::BadCharacters(format!("U+{:04X}", c as u32)));
        }
        let store = CorrectionStore::new(&self.dir);
        store
            .append_checked(words, before, version)
            .map_err(self.io(store.path().to_path_buf()))
    }

    /// Every stored correction, marked trained or new.
    pub fn corrections(&self) -> Result<CorrectionList> {
        let store = CorrectionStore::new(&self.dir);
        let loaded = store.load().map_err(self.io(store.path().to_path_buf()))?;
        let trained = Versions::new(&self.dir).trained_ids();
        Ok(CorrectionList {
            records: loaded
                .records
                .into_iter()
                .map(|c| {
                    let t = trained.contains(&c.id);
                    (c, t)
                })
                .collect(),
            warnings: loaded.warnings,
        })
    }

    /// The user dictionary's words.
    pub fn dict_words(&self) -> Vec<String> {
        UserDict::load(&self.dir)
    }

    /// Adds a word to the user dictionary; false when it was there already.
    pub fn dict_add(&self, word: &str) -> Result<bool> {
        UserDict::add(&self.dir, word).map_err(self.io(self.dir.join("dict.txt")))
    }

    /// Adds every word to the user dictionary, or none: the one rule of `fenci dict add` and
    /// `/dict add`. A one-character word is refused ([`ServiceError::SingleCharWord`]) unless
    /// `force`: forced as a word it splits every longer word containing it (一 breaks 一起,
    /// 一定, 一直). Returns each word (once) and whether it was new.
    pub fn dict_add_words(&self, words: &[String], force: bool) -> Result<Vec<(String, bool)>> {
        let mut unique: Vec<&str> = Vec::new();
        for w in words.iter().map(|w| w.trim()) {
            if !unique.contains(&w) {
                unique.push(w);
            }
        }
        let single: Vec<String> = unique
            .iter()
            .filter(|w| is_single_char(w))
            .map(|w| w.to_string())
            .collect();
        if !single.is_empty() && !force {
            return Err(ServiceError::SingleCharWord { words: single });
        }
        let added =
            UserDict::add_all(&self.dir, &unique).map_err(self.io(self.dir.join("dict.txt")))?;
        Ok(unique.into_iter().map(str::to_string).zip(added).collect())
    }

    /// Removes a word from the user dictionary; false when it was not there.
    pub fn dict_remove(&self, word: &str) -> Result<bool> {
        UserDict::remove(&self.dir, word).map_err(self.io(self.dir.join("dict.txt")))
    }

    /// Makes the active version's parent active: (the version left, the version now active).
    pub fn undo(&self) -> Result<(String, String)> {
        // Not while a training run is writing a version: it would make its result active over
        // the undo (its parent is the version undone).
        let lock_path = self.dir.join("train.lock");
        let _lock = crate::fsio::try_lock(&lock_path)
            .map_err(self.io(lock_path))?
            .ok_or_else(|| ServiceError::TrainingRunning(self.dir.clone()))?;
        Versions::new(&self.dir)
            .undo()
            .map_err(self.io(self.dir.join("active")))
    }

    /// The active version's name.
    pub fn active(&self) -> String {
        Versions::new(&self.dir).active()
    }

    /// Every trained version with its metadata, oldest first.
    pub fn versions(&self) -> Vec<VersionMeta> {
        Versions::new(&self.dir).list()
    }

    /// The directory of every complete version (one holding a config.json), by name.
    pub fn version_dirs(&self) -> Vec<(String, PathBuf)> {
        Versions::new(&self.dir).dirs()
    }

    /// Whether `name` is `default` or a version of this data directory.
    pub fn is_version(&self, name: &str) -> bool {
        !name.contains('/')
            && (name == "default"
                || Versions::new(&self.dir)
                    .path(name)
                    .join("config.json")
                    .is_file())
    }

    /// Makes version `name` (or `default`) active; [`ServiceError::NoSuchVersion`] when there is
    /// no such version.
    pub fn switch(&self, name: &str) -> Result<()> {
        if !self.is_version(name) {
            return Err(ServiceError::NoSuchVersion {
                name: name.to_string(),
                existing: self.version_dirs().into_iter().map(|(n, _)| n).collect(),
            });
        }
        Versions::new(&self.dir)
            .set_active(name)
            .map_err(self.io(self.dir.join("active")))
    }

    /// Writes `files` to `dir` in the Hugging Face layout (with `extra` files such as a model
    /// card), atomically. `dir` must be new, empty, or an earlier export holding only what
    /// fenci wrote there; it must not be in the data directory (the user's versions live
    /// there), nor contain it. A refused directory is left exactly as it was.
    pub fn export(
        &self,
        files: &ModelFiles,
        dir: &Path,
        f16: bool,
        extra: &[(&str, &[u8])],
    ) -> Result<()> {
        let target = self.check_export_target(dir)?;
        // A model with fenci's own lookups gets a tokenizer.json beside its vocab.txt that
        // spells them out, so transformers' tokenizer yields the ids fenci feeds the model.
        let settings = files.tokenizer_settings();
        let lookup_json = match &files.vocab {
            crate::text::VocabSource::VocabTxt(v) if settings.is_fenci() => Some(
                crate::text::lookup_tokenizer_json(v, &settings)
                    .map_err(crate::segment::SegmentError::from)?,
            ),
            _ => None,
        };
        let mut extra: Vec<(&str, &[u8])> = extra.to_vec();
        if let Some(j) = &lookup_json {
            extra.push(("tokenizer.json", j.as_bytes()));
        }
        let extra = extra.as_slice();
        let bytes = files.file_bytes(f16)?;
        let mut names: Vec<&str> = bytes.iter().map(|(n, _)| *n).collect();
        names.extend(extra.iter().map(|(n, _)| *n));
        let marker = serde_json::to_string_pretty(&serde_json::json!({
            "written_by": format!("fenci {}", env!("CARGO_PKG_VERSION")),
            "source": files.source,
            "files": names,
        }))
        .expect("marker serializes");
        let mut all: Vec<(&str, &[u8])> = bytes.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        all.extend_from_slice(extra);
        all.push((EXPORT_MARKER, marker.as_bytes()));
        crate::fsio::write_dir_atomic(&target, &all).map_err(self.io(target.clone()))
    }

    /// Whether [`Service::export`] may write into `dir` (see there): the absolute path to write,
    /// or an error saying why not.
    pub fn check_export_target(&self, dir: &Path) -> Result<PathBuf> {
        let refuse = |reason: String| ServiceError::ExportTarget {
            path: dir.to_path_buf(),
            reason,
        };
        if dir.exists() && !dir.is_dir() {
            return Err(refuse(
                "is a file; give a directory to write the model to".into(),
            ));
        }
        let resolved = resolve(dir).map_err(self.io(dir.to_path_buf()))?;
        let data = resolve(&self.dir).unwrap_or_else(|_| self.dir.clone());
        if resolved.starts_with(&data) {
            return Err(refuse(format!(
                "is in fenci's data directory ({}); export to a directory of your own",
                data.display()
            )));
        }
        if data.starts_with(&resolved) {
            return Err(refuse(format!(
                "contains fenci's data directory ({}); export to a directory of your own",
                data.display()
            )));
        }
        if resolved.parent().is_none() {
            return Err(refuse("is the root directory".into()));
        }
        if resolved.is_dir() {
            let entries: Vec<String> = std::fs::read_dir(&resolved)
                .map_err(self.io(resolved.clone()))?
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            let marker = crate::fsio::read_file(&resolved.join(EXPORT_MARKER)).ok();
            let ours: Vec<String> = marker
                .as_deref()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
                .and_then(|v| {
                    v.get("files")?.as_array().map(|a| {
                        a.iter()
                            .filter_map(|f| f.as_str().map(str::to_string))
                            .collect()
                    })
                })
                .unwrap_or_default();
            let mut foreign: Vec<&String> = entries
                .iter()
                .filter(|e| e.as_str() != EXPORT_MARKER && !ours.contains(e))
                .collect();
            // An export by a fenci before fenci-export.json: exactly a model's files.
            let has = |n: &str| entries.iter().any(|e| e == n);
            let older_export = marker.is_none()
                && has("config.json")
                && has("model.safetensors")
                && (has("vocab.txt") || has("tokenizer.json"))
                && foreign
                    .iter()
                    .all(|e| OLDER_EXPORT_FILES.contains(&e.as_str()));
            if !foreign.is_empty() && !older_export {
                foreign.sort();
                let shown: Vec<&str> = foreign.iter().take(5).map(|s| s.as_str()).collect();
                return Err(refuse(format!(
                    "holds files fenci did not write ({}{}); give a new or empty directory",
                    shown.join(", "),
                    if foreign.len() > 5 { ", …" } else { "" }
                )));
            }
        }
        Ok(resolved)
    }

    /// Fine-tunes the active model on every stored correction, writes the result as a new
    /// version (atomically), makes it active and prunes old versions beyond `keep`.
    pub fn train(
        &self,
        cfg: &AdaptConfig,
        keep: usize,
        cancel: &AtomicBool,
        progress: impl FnMut(Progress),
    ) -> Result<AdaptReport> {
        let lock_path = self.dir.join("train.lock");
        let _lock = crate::fsio::try_lock(&lock_path)
            .map_err(self.io(lock_path))?
            .ok_or_else(|| ServiceError::TrainingRunning(self.dir.clone()))?;
        train_on_corrections(&self.dir, cfg, keep, cancel, progress)
    }
}

/// Whether `word` is one character (what [`Service::dict_add_words`] asks to be forced).
pub fn is_single_char(word: &str) -> bool {
    word.trim().chars().count() == 1
}

/// Whether `name` looks like the name of a trained version (`v` and a number, as `/model v3`
/// and `fenci` name them) rather than a hub id or a directory.
pub fn looks_like_version(name: &str) -> bool {
    name.strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Checks corrected `words` against `sentence` (whitespace ignored) and returns the words to
/// save: the same words, plus the sentence's punctuation the words leave out, each run of it a
/// word of its own (`/fix 这 本 书 我 已经 看 完 了` for 这本书我已经看完了。 saves
/// `这 本 书 我 已经 看 完 了 。`). Left-out punctuation must fall between words (or at either
/// end). Anything else that differs is refused, saying where.
pub fn fix_words(sentence: &str, words: &[String]) -> Result<Vec<String>> {
    let sent: Vec<char> = sentence.chars().filter(|c| !c.is_whitespace()).collect();
    let fix: Vec<char> = words
        .concat()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    // Character offsets in `fix` where a word of the fix ends.
    let mut ends = std::collections::BTreeSet::new();
    let mut acc = 0;
    for w in words {
        acc += w.chars().filter(|c| !c.is_whitespace()).count();
        ends.insert(acc);
    }
    let mut out: Vec<String> = Vec::new();
    let (mut i, mut j) = (0, 0);
    // Index into `words` and chars taken of it.
    let mut wi = 0;
    let mut taken = 0;
    let mut aligned = true;
    while i < sent.len() {
        if j < fix.len() && sent[i] == fix[j] {
            if taken == 0 {
                out.push(String::new());
            }
            if let Some(last) = out.last_mut() {
                last.push(sent[i]);
            }
            taken += 1;
            while wi < words.len()
                && taken >= words[wi].chars().filter(|c| !c.is_whitespace()).count()
            {
                wi += 1;
                taken = 0;
            }
            i += 1;
            j += 1;
        } else if is_punctuation(sent[i]) && (j == 0 || ends.contains(&j)) && taken == 0 {
            // A run of the same mark (…… ——) is one word; different marks are words each.
            let c = sent[i];
            let mut run = String::new();
            while i < sent.len() && sent[i] == c && !(j < fix.len() && fix[j] == c) {
                run.push(c);
                i += 1;
            }
            out.push(run);
        } else {
            aligned = false;
            break;
        }
    }
    if aligned && j == fix.len() {
        return Ok(out);
    }
    let joined: String = fix.iter().collect();
    let sentence: String = sent.iter().collect();
    let at = sent.iter().zip(&fix).take_while(|(x, y)| x == y).count();
    let what = match (sent.get(at), fix.get(at)) {
        (Some(x), Some(y)) => format!(
            "character {} is {x} in the sentence but {y} in the fix",
            at + 1
        ),
        (Some(_), None) => format!(
            "the fix stops after {} of {} characters",
            fix.len(),
            sent.len()
        ),
        (None, Some(_)) => format!(
            "the fix has {} characters, the sentence {}",
            fix.len(),
            sent.len()
        ),
        (None, None) => "punctuation left out must fall between words".to_string(),
    };
    Err(ServiceError::FixMismatch(format!(
        "refused: the words spell {joined} but the sentence is {sentence} — {what}"
    )))
}

/// Punctuation (Unicode categories P and the CJK symbols a sentence ends or is broken with).
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c,
            '\u{3000}'..='\u{3004}' | '\u{3008}'..='\u{3020}' | '\u{3030}' | '\u{303D}'..='\u{303F}'
            // CJK symbols and punctuation: 。、「」《》 (not 々 〆 〇, which are words)
            | '\u{FF01}'..='\u{FF0F}' | '\u{FF1A}'..='\u{FF20}' | '\u{FF3B}'..='\u{FF40}'
            | '\u{FF5B}'..='\u{FF65}' // full-width ！，．：；？ and brackets
            | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{205E}' // — … “ ” ‘ ’ ·
            | '\u{00B7}' | '\u{FE10}'..='\u{FE1F}' | '\u{FE30}'..='\u{FE4F}')
}

/// Loads the active model of data directory `dir`: its name and files.
fn load_active(dir: &Path) -> std::result::Result<(String, ModelFiles), TrainError> {
    let versions = Versions::new(dir);
    let name = versions.active();
    let files = if name == "default" {
        ModelFiles::embedded()?
    } else {
        ModelFiles::load_dir(&versions.path(&name))?
    };
    Ok((name, files))
}

/// Fine-tunes the active model of data directory `dir` on every stored correction, writes the
/// result as a new version (atomically), makes it active and prunes old versions beyond `keep`.
/// One code path for `/train` and `fenci train`.
fn train_on_corrections(
    dir: &Path,
    cfg: &AdaptConfig,
    keep: usize,
    cancel: &AtomicBool,
    progress: impl FnMut(Progress),
) -> Result<AdaptReport> {
    let started = Instant::now();
    let store = CorrectionStore::new(dir);
    let loaded = store.load().map_err(|source| ServiceError::Io {
        path: store.path().to_path_buf(),
        source,
    })?;
    let (records, warnings) = (loaded.records, loaded.warnings);
    if records.is_empty() {
        return Err(ServiceError::NoCorrections);
    }
    let (parent, base) = load_active(dir)?;
    let gold: Vec<Vec<String>> = records.iter().map(|c| c.words.clone()).collect();
    let dev = read_gold(MINI_DEV);
    let before_seg = Segmenter::new(&base)?;
    let outputs = |seg: &Segmenter| -> Result<Vec<Vec<String>>> {
        let lines: Vec<String> = gold.iter().map(|w| w.concat()).collect();
        Ok(seg
            .segment_batch(&lines)?
            .into_iter()
            .map(|s| s.word_strs().into_iter().map(str::to_string).collect())
            .collect())
    };
    let before = outputs(&before_seg)?;
    let f1_before = evaluate(&before_seg, &dev, None)?.f1();
    let extra = if cfg.generated > 0 {
        let mut g = crate::generate::Generator::embedded()?;
        generated_sentences(&before_seg, &mut g, &gold, cfg.generated, cfg.seed, cancel)?
    } else {
        Vec::new()
    };
    let summary = adapt_with(&base, &gold, &extra, cfg, cancel, progress)?;
    if summary.cancelled {
        return Ok(AdaptReport {
            version: String::new(),
            parent,
            corrections: gold.len(),
            exact_after: 0,
            exact_before: 0,
            diffs: vec![],
            dev_f1: (f1_before, f1_before),
            routed: None,
            rules: Vec::new(),
            secs: started.elapsed().as_secs_f64(),
            cancelled: true,
            warnings,
        });
    }
    let after_seg = Segmenter::new(&summary.model)?;
    let after = outputs(&after_seg)?;
    let f1_after = evaluate(&after_seg, &dev, None)?.f1();
    let versions = Versions::new(dir);
    let name = versions.next_name();
    let meta = VersionMeta {
        name: name.clone(),
        parent: parent.clone(),
        corrections: records.iter().map(|c| c.id).collect(),
        created: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        summary: format!(
            "{} corrections, {} steps, mini-dev F1 {:.2} → {:.2}",
            gold.len(),
            summary.steps,
            f1_before * 100.0,
            f1_after * 100.0
        ),
    };
    let meta_json = serde_json::to_string_pretty(&meta).expect("meta serializes");
    let io = |source| ServiceError::Io {
        path: versions.path(&name),
        source,
    };
    summary.model.save_dir_with(
        &versions.path(&name),
        false,
        &[("fenci.json", meta_json.as_bytes())],
    )?;
    versions.set_active(&name).map_err(io)?;
    versions.prune(keep).map_err(io)?;
    let diffs: Vec<BeforeAfter> = gold
        .iter()
        .zip(before)
        .zip(after)
        .map(|((g, b), a)| BeforeAfter {
            gold: g.clone(),
            before: b,
            after: a,
        })
        .collect();
    Ok(AdaptReport {
        version: name,
        parent,
        corrections: gold.len(),
        exact_after: diffs.iter().filter(|d| d.after == d.gold).count(),
        exact_before: diffs.iter().filter(|d| d.before == d.gold).count(),
        diffs,
        dev_f1: (f1_before, f1_after),
        routed: after_seg.is_routed().then(|| {
            dev.iter()
                .filter(|w| after_seg.routes_to_base(&w.concat()))
                .count()
        }),
        rules: summary
            .model
            .route
            .as_ref()
            .map(|r| r.rules.clone())
            .unwrap_or_default(),
        secs: started.elapsed().as_secs_f64(),
        cancelled: false,
        warnings,
    })
}
