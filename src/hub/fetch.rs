//! Downloading a snapshot: [`fetch`] (offline, cached, or online with a fallback to the cache),
//! the helper thread that runs hf-hub and is watched for progress, stalls and cancel, and the
//! per-file download with its size check.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hf_hub::api::sync::{ApiBuilder, ApiError, ApiRepo};
use hf_hub::{Cache, Repo, RepoType};

use super::cache::{cached_snapshot_of, is_commit_hash, repo_folder, Snapshot};
use super::licence::{license_from_card, license_from_info};
use super::options::{ModelKind, CARD, CONFIG};
use super::{DownloadEvent, DownloadProgress, HubError, HubOptions, Result};
use crate::tagger::BertConfig;

/// Makes sure a complete snapshot of `repo` at `revision` is in the cache and returns it.
/// Offline: the cache only. Online: asks the hub for the revision's commit and files, downloads
/// what is missing; if the hub cannot be reached, stalls or fails with 5xx, a complete cached
/// snapshot is used (reported as [`DownloadEvent::UsingCache`]).
pub fn fetch(
    repo: &str,
    revision: &str,
    opts: &HubOptions,
    progress: &mut dyn DownloadProgress,
    cancel: &AtomicBool,
) -> Result<Snapshot> {
    let not_cached = |why: &str| HubError::NotCached {
        repo: repo.to_string(),
        revision: revision.to_string(),
        cache: opts.cache_dir.clone(),
        why: why.to_string(),
    };
    if opts.offline {
        return cached_snapshot_of(&opts.cache_dir, repo, revision, opts.kind)
            .ok_or_else(|| not_cached(" and HF_HUB_OFFLINE is set"));
    }
    if is_commit_hash(revision) {
        // A commit never changes: a complete snapshot needs no network.
        if let Some(s) = cached_snapshot_of(&opts.cache_dir, repo, revision, opts.kind) {
            return Ok(s);
        }
    }
    match fetch_watched(repo, revision, opts, progress, cancel) {
        Ok(s) => Ok(s),
        Err(
            e @ (HubError::Connect { .. } | HubError::Server { .. } | HubError::Stalled { .. }),
        ) => match cached_snapshot_of(&opts.cache_dir, repo, revision, opts.kind) {
            Some(s) => {
                progress.event(&DownloadEvent::UsingCache {
                    reason: e.to_string(),
                });
                Ok(s)
            }
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// Messages from the download thread.
enum Msg {
    Event(DownloadEvent),
    Done(Result<Snapshot>),
}

/// The panic payload that unwinds an abandoned download thread out of hf-hub.
struct Abort;

/// Unwinding payload: the disk has no room for the file about to download.
struct NoSpace(PathBuf, std::io::Error);

/// Runs [`fetch_online`] on a helper thread and watches it for progress, stalls and cancel.
fn fetch_watched(
    repo: &str,
    revision: &str,
    opts: &HubOptions,
    progress: &mut dyn DownloadProgress,
    cancel: &AtomicBool,
) -> Result<Snapshot> {
    let (tx, rx) = mpsc::channel::<Msg>();
    let abort = Arc::new(AtomicBool::new(false));
    let job = Job {
        repo: repo.to_string(),
        revision: revision.to_string(),
        opts: opts.clone(),
    };
    let thread_abort = abort.clone();
    let spawned = std::thread::Builder::new()
        .name("fenci-hub".into())
        .spawn(move || {
            let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                job.fetch_online(&tx, &thread_abort)
            }));
            let res = match res {
                Ok(r) => r,
                Err(p) if p.is::<Abort>() => Err(HubError::Cancelled {
                    repo: job.repo.clone(),
                }),
                Err(p) if p.is::<NoSpace>() => {
                    // Nothing of the file was written; drop its empty `.part` too.
                    job.remove_parts();
                    let NoSpace(path, source) = *p.downcast::<NoSpace>().expect("checked");
                    Err(HubError::Cache {
                        repo: job.repo.clone(),
                        path,
                        source,
                    })
                }
                Err(p) => Err(HubError::Internal {
                    repo: job.repo.clone(),
                    detail: p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panic".into()),
                }),
            };
            let _ = tx.send(Msg::Done(res));
        });
    if let Err(e) = spawned {
        return Err(HubError::Internal {
            repo: repo.to_string(),
            detail: format!("cannot start the download thread: {e}"),
        });
    }
    let mut last_activity = Instant::now();
    let mut last_progress = Instant::now() - Duration::from_secs(1);
    let mut current: Option<String> = None;
    loop {
        if cancel.load(Ordering::SeqCst) {
            abort.store(true, Ordering::SeqCst);
            // Give the thread a moment to unwind out of its read (releasing its file lock).
            let until = Instant::now() + Duration::from_secs(1);
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                match rx.recv_timeout(left) {
                    Ok(Msg::Done(_)) | Err(_) => break,
                    Ok(Msg::Event(_)) => {}
                }
            }
            return Err(HubError::Cancelled {
                repo: repo.to_string(),
            });
        }
        let idle = last_activity.elapsed();
        if idle >= opts.stall {
            abort.store(true, Ordering::SeqCst);
            return Err(HubError::Stalled {
                repo: repo.to_string(),
                endpoint: opts.endpoint.clone(),
                secs: opts.stall.as_secs_f64().round() as u64,
                while_: current
                    .map(|f| format!(" while downloading {f}"))
                    .unwrap_or_default(),
            });
        }
        let wait = (opts.stall - idle).min(Duration::from_millis(50));
        match rx.recv_timeout(wait) {
            Ok(Msg::Event(e)) => {
                last_activity = Instant::now();
                match &e {
                    DownloadEvent::Start { file, .. } => current = Some(file.clone()),
                    DownloadEvent::Finish { .. } => current = None,
                    DownloadEvent::Progress { done, total, .. } => {
                        if done < total && last_progress.elapsed() < Duration::from_millis(100) {
                            continue;
                        }
                        last_progress = Instant::now();
                    }
                    _ => {}
                }
                progress.event(&e);
            }
            Ok(Msg::Done(r)) => return r,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(HubError::Internal {
                    repo: repo.to_string(),
                    detail: "the download thread ended without a result".into(),
                })
            }
        }
    }
}

/// Adapts hf-hub's progress callbacks to [`Msg`]s; unwinds the thread once it is abandoned.
struct Relay<'a> {
    tx: &'a Sender<Msg>,
    abort: &'a AtomicBool,
    /// The cache directory, whose free space must hold the file.
    cache: &'a Path,
    file: String,
    done: u64,
    total: Rc<Cell<u64>>,
    started: bool,
}

impl hf_hub::api::Progress for Relay<'_> {
    fn init(&mut self, size: usize, _filename: &str) {
        // hf-hub calls init twice per download; report one Start.
        self.total.set(size as u64);
        self.done = 0;
        if !self.started {
            // Refuse to fill the disk: the file plus fenci's margin must fit.
            if let Ok(free) = crate::fsio::available_space(self.cache) {
                if let Err(e) = crate::fsio::check_free_space(self.cache, size as u64, free) {
                    std::panic::resume_unwind(Box::new(NoSpace(self.cache.to_path_buf(), e)));
                }
            }
            self.started = true;
            let _ = self.tx.send(Msg::Event(DownloadEvent::Start {
                file: self.file.clone(),
                total: size as u64,
            }));
        }
    }

    fn update(&mut self, size: usize) {
        // Not on the final zero-byte read: a body that has fully arrived is kept.
        if size > 0 && self.abort.load(Ordering::SeqCst) {
            // Cancelled or stalled: leave hf-hub before this chunk is written. resume_unwind
            // skips the panic hook (nothing is printed); the .part file keeps a valid prefix.
            std::panic::resume_unwind(Box::new(Abort));
        }
        self.done += size as u64;
        let _ = self.tx.send(Msg::Event(DownloadEvent::Progress {
            file: self.file.clone(),
            done: self.done,
            total: self.total.get(),
        }));
    }

    fn finish(&mut self) {
        let _ = self.tx.send(Msg::Event(DownloadEvent::Finish {
            file: self.file.clone(),
        }));
    }
}

/// One fetch, owned by the download thread.
pub(super) struct Job {
    repo: String,
    revision: String,
    pub(super) opts: HubOptions,
}

impl Job {
    pub(super) fn display(&self) -> String {
        if self.revision == "main" {
            self.repo.clone()
        } else {
            format!("{}@{}", self.repo, self.revision)
        }
    }

    fn send(tx: &Sender<Msg>, e: DownloadEvent) {
        let _ = tx.send(Msg::Event(e));
    }

    fn fetch_online(&self, tx: &Sender<Msg>, abort: &AtomicBool) -> Result<Snapshot> {
        let api = ApiBuilder::from_cache(Cache::new(self.opts.cache_dir.clone()))
            .with_endpoint(self.opts.endpoint.clone())
            .with_token(self.opts.token.clone())
            .with_progress(false)
            .with_user_agent("fenci", env!("CARGO_PKG_VERSION"))
            .build()
            .map_err(|e| self.classify(e, None))?;
        let arepo = api.repo(Repo::with_revision(
            self.repo.clone(),
            RepoType::Model,
            self.revision.clone(),
        ));
        Self::send(
            tx,
            DownloadEvent::Connecting {
                repo: self.display(),
                endpoint: self.opts.endpoint.clone(),
            },
        );
        let text = arepo
            .info_request()
            .call()
            .map_err(|e| self.classify_ureq(e, None))?
            .into_string()
            .map_err(|e| self.dropped("the repo information", e.to_string()))?;
        let info: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| self.protocol(format!("repo info: {e}")))?;
        let commit = info["sha"]
            .as_str()
            .filter(|s| !s.is_empty() && !s.contains(['/', '\\']) && !s.contains(".."))
            .ok_or_else(|| self.protocol("repo info has no commit `sha`".into()))?
            .to_string();
        let files: Vec<&str> = info["siblings"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s["rfilename"].as_str()).collect())
            .unwrap_or_default();
        let has = |f: &str| files.contains(&f);
        let missing = |what: &str| {
            HubError::MissingFile {
            repo: self.display(),
            what: what.to_string(),
            expected: match self.opts.kind {
                ModelKind::Tagger => "fenci runs BertForTokenClassification word segmenters in the Hugging Face layout: config.json, vocab.txt or tokenizer.json, and model.safetensors or pytorch_model.bin",
                ModelKind::Lm => "fenci runs qwen2/qwen3 causal LMs in the Hugging Face layout: config.json, tokenizer.json and a single model.safetensors",
            },
        }
        };
        if !has(CONFIG) {
            return Err(missing("config.json"));
        }
        let snap = repo_folder(&self.opts.cache_dir, &self.repo)
            .join("snapshots")
            .join(&commit);

        // config.json first: refuse an unsupported model before fetching anything large.
        let kind = self.opts.kind;
        let config = self.get(&arepo, &snap, CONFIG, tx, abort)?;
        match kind {
            ModelKind::Tagger => {
                let cfg = BertConfig::load(&config).map_err(|source| HubError::Model {
                    repo: self.display(),
                    source,
                })?;
                if cfg.has_word_features() {
                    // A model trained with dictionary features needs its word list.
                    if !has(crate::tagger::WORDS_FILE) {
                        return Err(missing(crate::tagger::WORDS_FILE));
                    }
                    self.get(&arepo, &snap, crate::tagger::WORDS_FILE, tx, abort)?;
                }
            }
            ModelKind::Lm => {
                let text = std::fs::read_to_string(&config).unwrap_or_default();
                crate::lm::LmConfig::from_json(&text, &format!("{}/config.json", self.display()))
                    .map_err(|source| HubError::Lm {
                    repo: self.display(),
                    source,
                })?;
                if has("tokenizer_config.json") {
                    // Optional: only the chat template is read from it.
                    let _ = self.get(&arepo, &snap, "tokenizer_config.json", tx, abort);
                }
            }
        }
        let vocab = kind
            .vocabs()
            .iter()
            .copied()
            .find(|f| has(f))
            .ok_or_else(|| missing(&kind.vocabs().join(" or ")))?;
        if kind == ModelKind::Tagger && vocab == "vocab.txt" && has(crate::tagger::TOKENIZER_CONFIG)
        {
            // BertTokenizer's settings for the vocab.txt (do_lower_case, …); without it,
            // transformers' defaults.
            self.get(&arepo, &snap, crate::tagger::TOKENIZER_CONFIG, tx, abort)?;
        }
        let weights = kind
            .weights()
            .iter()
            .copied()
            .find(|f| has(f))
            .ok_or_else(|| {
                if files.iter().any(|f| f.ends_with(".index.json")) {
                    missing("single weights file (sharded checkpoints are not supported)")
                } else {
                    missing(&kind.weights().join(" or "))
                }
            })?;
        self.get(&arepo, &snap, vocab, tx, abort)?;
        let mut license = license_from_info(&info);
        if has(CARD) {
            // The card is optional: a failure here only loses the licence text.
            if let Ok(p) = self.get(&arepo, &snap, CARD, tx, abort) {
                if license.is_none() {
                    license = std::fs::read_to_string(p)
                        .ok()
                        .and_then(|t| license_from_card(&t));
                }
            }
        }
        self.get(&arepo, &snap, weights, tx, abort)?;
        Ok(Snapshot {
            dir: snap,
            commit,
            license,
            from_cache: false,
        })
    }

    /// Downloads `file` into the snapshot unless it is there already; checks its size.
    fn get(
        &self,
        arepo: &ApiRepo,
        snap: &Path,
        file: &str,
        tx: &Sender<Msg>,
        abort: &AtomicBool,
    ) -> Result<PathBuf> {
        let target = snap.join(file);
        if target.is_file() {
            Self::send(
                tx,
                DownloadEvent::Cached {
                    file: file.to_string(),
                },
            );
            return Ok(target);
        }
        let total = Rc::new(Cell::new(0u64));
        let mut retried = false;
        let path = loop {
            let relay = Relay {
                tx,
                abort,
                cache: &self.opts.cache_dir,
                file: file.to_string(),
                done: 0,
                total: total.clone(),
                started: false,
            };
            match arepo.download_with_progress(file, relay) {
                Ok(p) => break p,
                Err(ApiError::RequestError(e))
                    if !retried && matches!(*e, ureq::Error::Status(416, _)) =>
                {
                    // A `.part` holding the whole file that was never renamed (stopped right at
                    // its end): there is nothing after it to fetch. Start the file afresh.
                    self.remove_parts();
                    retried = true;
                }
                Err(e) => return Err(self.classify(e, Some(file))),
            }
        };
        let got = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if got != total.get() {
            // Never leave a wrong-sized file where it would be taken as complete.
            if let Ok(blob) = std::fs::canonicalize(&path) {
                let _ = std::fs::remove_file(blob);
            }
            let _ = std::fs::remove_file(&path);
            return Err(HubError::Incomplete {
                repo: self.display(),
                file: file.to_string(),
                got,
                want: total.get(),
            });
        }
        if path != target {
            // The branch moved on between the repo info and this file: the files would mix
            // two commits. Asking again gives one consistent snapshot.
            return Err(HubError::Protocol {
                repo: self.display(),
                endpoint: self.opts.endpoint.clone(),
                detail: format!(
                    "{file} came from another commit than the repo info ({}); the repo changed during the download — run again",
                    path.display()
                ),
            });
        }
        Ok(path)
    }

    /// Removes this repo's partial downloads (`blobs/*.part`).
    pub(super) fn remove_parts(&self) {
        let blobs = repo_folder(&self.opts.cache_dir, &self.repo).join("blobs");
        if let Ok(rd) = std::fs::read_dir(&blobs) {
            for f in rd.flatten() {
                if f.path().extension().is_some_and(|x| x == "part") {
                    let _ = std::fs::remove_file(f.path());
                }
            }
        }
    }
}
