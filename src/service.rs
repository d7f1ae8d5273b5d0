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

    /// The data directory (`$FENCI_HOME`, else the platform's).
    pub fn open() -> Result<Self> {
        let dir = crate::store::data_dir().map_err(|source| ServiceError::Io {
            path: PathBuf::from("$FENCI_HOME"),
            source,
        })?;
        Ok(Self::new(&dir))
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

    /// Records a correction (`words`, with what model `version` said: `before`); fsynced
    /// before it returns.
    pub fn correct(
        &self,
        words: Vec<String>,
        before: Vec<String>,
        version: &str,
    ) -> Result<Correction> {
        let store = CorrectionStore::new(&self.dir);
        store
            .append(words, before, version)
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

    /// Removes a word from the user dictionary; false when it was not there.
    pub fn dict_remove(&self, word: &str) -> Result<bool> {
        UserDict::remove(&self.dir, word).map_err(self.io(self.dir.join("dict.txt")))
    }

    /// Makes the active version's parent active: (the version left, the version now active).
    pub fn undo(&self) -> Result<(String, String)> {
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

    /// Makes version `name` (or `default`) active.
    pub fn switch(&self, name: &str) -> Result<()> {
        Versions::new(&self.dir)
            .set_active(name)
            .map_err(self.io(self.dir.join("active")))
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
        train_on_corrections(&self.dir, cfg, keep, cancel, progress)
    }
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
    let records = store
        .load()
        .map_err(|source| ServiceError::Io {
            path: store.path().to_path_buf(),
            source,
        })?
        .records;
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
            secs: started.elapsed().as_secs_f64(),
            cancelled: true,
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
        secs: started.elapsed().as_secs_f64(),
        cancelled: false,
    })
}
