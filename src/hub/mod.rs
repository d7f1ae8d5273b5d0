//! Models by name: `default` (built in), a local directory, or a Hugging Face hub repo id.
//!
//! [`ModelSpec::parse`] reads the name; [`resolve`] turns it into a loaded [`ModelFiles`] plus
//! the model's licence and origin. Hub repos (`owner/name[@revision]`) are fetched with hf-hub's
//! sync API into the standard cache layout (`models--owner--name/{blobs,refs,snapshots}`), so
//! Python tools share the files, and the standard environment is honoured: `HF_ENDPOINT`,
//! `HF_HOME` / `HF_HUB_CACHE`, `HF_TOKEN`, `HF_HUB_OFFLINE=1` (see [`HubOptions::from_env`]).
//!
//! What is fetched: `config.json` first (checked before anything large is downloaded, so another
//! architecture or a non-segmentation label set is refused at once), then `tokenizer.json` or
//! `vocab.txt`, the model card `README.md` (for the licence), and `model.safetensors` or
//! `pytorch_model.bin`. Files already in the cache for the repo's current commit are not fetched
//! again; with the hub unreachable (or failing) a complete cached snapshot is used instead.
//!
//! Robustness, on top of hf-hub 0.4.3:
//! * The download runs on a helper thread; the caller watches its progress events. With no
//!   progress for [`HubOptions::stall`] (default 15 s, `FENCI_HUB_STALL_SECS`) it returns
//!   [`HubError::Stalled`] — hf-hub has no read timeout, so a server that accepts and then stalls
//!   would otherwise hang forever. The stuck thread is told to stop and left behind.
//! * Cancel (an `AtomicBool`) is checked every 50 ms and inside every read of the body.
//! * hf-hub writes each file to `blobs/<etag>.part` and renames it only when the body is
//!   complete, so a cancelled, dropped or stalled download never appears as a cached file; the
//!   next attempt resumes the `.part` with a Range request. After each download the file size is
//!   checked against what the server announced, and a mismatching file is removed.

use std::cell::Cell;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hf_hub::api::sync::{ApiBuilder, ApiError, ApiRepo};
use hf_hub::{Cache, Repo, RepoType};

use crate::model::{BertConfig, ModelError, ModelFiles};

/// The public hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// How long a download may go without progress before it is abandoned.
pub const DEFAULT_STALL: Duration = Duration::from_secs(15);

/// What a `--model` argument names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSpec {
    /// The model built into the binary (`default`).
    Default,
    /// A model directory in the Hugging Face layout.
    Dir(PathBuf),
    /// A hub repo: `owner/name` at a branch, tag or commit (default `main`).
    Hub {
        /// `owner/name`.
        repo: String,
        /// Branch, tag or commit hash.
        revision: String,
    },
}

impl ModelSpec {
    /// Reads a model name: `default`; an existing directory, or anything that looks like a path
    /// (starts with `.`, `/` or `~`); else a hub id `owner/name[@revision]`.
    pub fn parse(spec: &str) -> Result<Self> {
        let s = spec.trim();
        let bad = |reason: &str| HubError::BadSpec {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        if s.is_empty() {
            return Err(bad("the name is empty"));
        }
        if s == "default" {
            return Ok(Self::Default);
        }
        let path = expand_tilde(s);
        let looks_like_path = s.starts_with('.')
            || s.starts_with('/')
            || s.starts_with('~')
            || (cfg!(windows) && (s.contains('\\') || s.get(1..2) == Some(":")));
        if looks_like_path || path.exists() {
            return Ok(Self::Dir(path));
        }
        let (repo, revision) = match s.split_once('@') {
            Some((r, rev)) => (r, rev),
            None => (s, "main"),
        };
        if let Err(why) = check_repo_id(repo) {
            return Err(bad(&format!(
                "there is no such directory, and it is not a hub id ({why})"
            )));
        }
        if revision.is_empty()
            || revision.contains("..")
            || revision.starts_with('/')
            || revision
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad(&format!("`{revision}` is not a valid revision")));
        }
        Ok(Self::Hub {
            repo: repo.to_string(),
            revision: revision.to_string(),
        })
    }
}

impl std::fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::Dir(p) => write!(f, "{}", p.display()),
            Self::Hub { repo, revision } if revision == "main" => f.write_str(repo),
            Self::Hub { repo, revision } => write!(f, "{repo}@{revision}"),
        }
    }
}

fn expand_tilde(s: &str) -> PathBuf {
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

/// Checks a hub repo id `owner/name` (the hub's own rules: letters, digits, `-`, `_`, `.`).
fn check_repo_id(id: &str) -> std::result::Result<(), String> {
    let parts: Vec<&str> = id.split('/').collect();
    if parts.len() != 2 {
        return Err("a hub id is `owner/name`".into());
    }
    for p in parts {
        let ok = !p.is_empty()
            && p.len() <= 96
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !p.starts_with(['-', '.'])
            && !p.ends_with(['-', '.'])
            && !p.contains("--")
            && !p.contains("..");
        if !ok {
            return Err(format!(
                "`{p}` may only hold letters, digits, `-`, `_` and `.`"
            ));
        }
    }
    Ok(())
}

/// Where and how to reach the hub.
#[derive(Debug, Clone)]
pub struct HubOptions {
    /// Base URL (`HF_ENDPOINT`, default `https://huggingface.co`).
    pub endpoint: String,
    /// The hub cache (`HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`).
    pub cache_dir: PathBuf,
    /// Access token (`HF_TOKEN`, else the token file `huggingface-cli login` writes).
    pub token: Option<String>,
    /// Use the cache only, never the network (`HF_HUB_OFFLINE=1`).
    pub offline: bool,
    /// Give up after this long without progress (`FENCI_HUB_STALL_SECS`, default 15 s).
    pub stall: Duration,
    /// What kind of model the repo must hold (decides which files are fetched and checked).
    pub kind: ModelKind,
}

/// What a hub repo is fetched as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelKind {
    /// A BERT token-classification segmenter: config.json, tokenizer.json or vocab.txt,
    /// model.safetensors or pytorch_model.bin.
    #[default]
    Tagger,
    /// A qwen2/qwen3 causal LM: config.json, tokenizer.json, tokenizer_config.json (optional,
    /// for the chat template), model.safetensors.
    Lm,
}

impl ModelKind {
    fn vocabs(self) -> &'static [&'static str] {
        match self {
            ModelKind::Tagger => &VOCABS,
            ModelKind::Lm => &["tokenizer.json"],
        }
    }

    fn weights(self) -> &'static [&'static str] {
        match self {
            ModelKind::Tagger => &WEIGHTS,
            ModelKind::Lm => &["model.safetensors"],
        }
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl HubOptions {
    /// Options for the public hub with a cache in `cache_dir`, no token, online.
    pub fn new(cache_dir: PathBuf) -> Self {
        Self {
            endpoint: DEFAULT_ENDPOINT.into(),
            cache_dir,
            token: None,
            offline: false,
            stall: DEFAULT_STALL,
            kind: ModelKind::Tagger,
        }
    }

    /// Options from the environment, as `huggingface_hub` reads it.
    pub fn from_env() -> Self {
        let home = env_nonempty("HF_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let cache = env_nonempty("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().join(".cache")))
                    .unwrap_or_else(|| PathBuf::from(".cache"));
                cache.join("huggingface")
            });
        let cache_dir = env_nonempty("HF_HUB_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join("hub"));
        let token = env_nonempty("HF_TOKEN").or_else(|| {
            let path = env_nonempty("HF_TOKEN_PATH")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join("token"));
            std::fs::read_to_string(path)
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        });
        let offline = env_nonempty("HF_HUB_OFFLINE").is_some_and(|v| {
            matches!(
                v.trim().to_ascii_uppercase().as_str(),
                "1" | "ON" | "YES" | "TRUE"
            )
        });
        let stall = env_nonempty("FENCI_HUB_STALL_SECS")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(DEFAULT_STALL);
        Self {
            endpoint: env_nonempty("HF_ENDPOINT")
                .map(|e| e.trim().trim_end_matches('/').to_string())
                .unwrap_or_else(|| DEFAULT_ENDPOINT.into()),
            cache_dir,
            token,
            offline,
            stall,
            kind: ModelKind::Tagger,
        }
    }
}

/// Errors of [`resolve`] and [`fetch`]. Every hub error names the repo and what to try.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// The name is neither `default`, a directory, nor a hub id.
    #[error("model `{spec}`: {reason}. Give `default`, a model directory, or a hub id such as `ckiplab/bert-tiny-chinese-ws` (optionally `@revision`)")]
    BadSpec {
        /// What was given.
        spec: String,
        /// Why it was refused.
        reason: String,
    },
    /// The built-in model or a local directory failed to load.
    #[error(transparent)]
    Local(#[from] ModelError),
    /// HTTP 404: no such repo, revision or file.
    #[error("{repo}: not found on {endpoint} (HTTP 404{detail}). Check the repo id and revision (and HF_ENDPOINT); a local model directory also works")]
    NotFound {
        /// The repo id (with revision).
        repo: String,
        /// The hub.
        endpoint: String,
        /// The server's explanation, if any.
        detail: String,
    },
    /// HTTP 401/403: private, gated, or a bad token.
    #[error("{repo}: access refused by {endpoint} (HTTP {status}): the repo does not exist or is private or gated{token_note}. Check the id; for a gated repo accept its terms on the hub and set HF_TOKEN to a token that may read it")]
    Unauthorized {
        /// The repo id.
        repo: String,
        /// The hub.
        endpoint: String,
        /// 401 or 403.
        status: u16,
        /// " (the token sent was not accepted)" or empty.
        token_note: String,
    },
    /// HTTP 5xx.
    #[error("{repo}: the hub at {endpoint} failed (HTTP {status}). Try again later, set HF_ENDPOINT to a mirror, or use HF_HUB_OFFLINE=1 if the model is cached")]
    Server {
        /// The repo id.
        repo: String,
        /// The hub.
        endpoint: String,
        /// The status.
        status: u16,
    },
    /// Another unexpected HTTP status.
    #[error("{repo}: unexpected HTTP {status} from {endpoint}{detail}. Check HF_ENDPOINT, or give a local model directory")]
    Http {
        /// The repo id.
        repo: String,
        /// The hub.
        endpoint: String,
        /// The status.
        status: u16,
        /// The server's explanation, if any.
        detail: String,
    },
    /// DNS failure, connection refused, bad URL, proxy failure.
    #[error("{repo}: cannot reach {endpoint}: {detail}. Check the network and HF_ENDPOINT; with the model cached, HF_HUB_OFFLINE=1 works without network; a local model directory also works")]
    Connect {
        /// The repo id.
        repo: String,
        /// The hub.
        endpoint: String,
        /// The transport error.
        detail: String,
    },
    /// The connection broke while a file was being transferred.
    #[error("{repo}: the connection dropped while downloading {file}: {detail}. Run again to resume (the partial file is kept aside and never used as complete), or set HF_ENDPOINT to a mirror")]
    Dropped {
        /// The repo id.
        repo: String,
        /// The file being downloaded.
        file: String,
        /// The error.
        detail: String,
    },
    /// No progress for longer than the stall limit.
    #[error("{repo}: no data from {endpoint} for {secs} s{while_}; gave up. Try again, set HF_ENDPOINT to a mirror, use HF_HUB_OFFLINE=1 if the model is cached, or give a local model directory")]
    Stalled {
        /// The repo id.
        repo: String,
        /// The hub.
        endpoint: String,
        /// The stall limit in seconds.
        secs: u64,
        /// " while downloading FILE" or empty.
        while_: String,
    },
    /// Offline (or unreachable) and not in the cache.
    #[error("{repo}@{revision} is not in the hub cache {cache}{why}. Run once with network (without HF_HUB_OFFLINE=1) to download it, or give a local model directory")]
    NotCached {
        /// The repo id.
        repo: String,
        /// The revision asked for.
        revision: String,
        /// The cache directory.
        cache: PathBuf,
        /// Why the network was not used.
        why: String,
    },
    /// The caller cancelled.
    #[error("{repo}: download cancelled (nothing partial is used; the next attempt resumes)")]
    Cancelled {
        /// The repo id.
        repo: String,
    },
    /// The repo lacks a file fenci needs.
    #[error("{repo}: the repo has no {what}. {expected}")]
    MissingFile {
        /// The repo id.
        repo: String,
        /// What is missing.
        what: String,
        /// What fenci runs, in words.
        expected: &'static str,
    },
    /// The repo's model is not one fenci can run (another architecture, a label set that is not
    /// word segmentation, bad weights).
    #[error("{repo}: {source}")]
    Model {
        /// The repo id.
        repo: String,
        /// What the loader said (it says what fenci supports).
        #[source]
        source: ModelError,
    },
    /// The repo's language model is not one fenci can run.
    #[error("{repo}: {message}")]
    Lm {
        /// The repo id.
        repo: String,
        /// What the loader said.
        message: String,
    },
    /// A downloaded file did not have the announced size; it was removed.
    #[error("{repo}: {file} arrived with {got} bytes but the hub announced {want}; removed it. Run again")]
    Incomplete {
        /// The repo id.
        repo: String,
        /// The file.
        file: String,
        /// Bytes on disk.
        got: u64,
        /// Bytes announced.
        want: u64,
    },
    /// The server does not answer like the hub.
    #[error("{repo}: {endpoint} does not answer like the Hugging Face hub ({detail}). Check HF_ENDPOINT")]
    Protocol {
        /// The repo id.
        repo: String,
        /// The hub.
        endpoint: String,
        /// What was wrong.
        detail: String,
    },
    /// Another download of the same file holds the cache lock.
    #[error("{repo}: another download holds the cache lock {}; wait for it to finish (or restart fenci) and try again", path.display())]
    Busy {
        /// The repo id.
        repo: String,
        /// The lock file.
        path: PathBuf,
    },
    /// The cache could not be written.
    #[error("{repo}: cannot write the hub cache {}: {source}. Check free space and permissions, or set HF_HOME / HF_HUB_CACHE", path.display())]
    Cache {
        /// The repo id.
        repo: String,
        /// The cache directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A bug: the download thread failed unexpectedly.
    #[error("{repo}: internal error while downloading: {detail}")]
    Internal {
        /// The repo id.
        repo: String,
        /// What happened.
        detail: String,
    },
}

/// Result type of this module.
pub type Result<T> = std::result::Result<T, HubError>;

/// What happens during [`fetch`], for progress displays.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DownloadEvent {
    /// Asking the hub about the repo.
    Connecting {
        /// The repo id.
        repo: String,
        /// The hub.
        endpoint: String,
    },
    /// A file is already in the cache: no download.
    Cached {
        /// The file name in the repo.
        file: String,
    },
    /// A download begins.
    Start {
        /// The file name in the repo.
        file: String,
        /// Its size in bytes.
        total: u64,
    },
    /// Bytes of the file on disk so far (resumed bytes included); at most ~10 a second.
    Progress {
        /// The file name in the repo.
        file: String,
        /// Bytes so far.
        done: u64,
        /// Its size in bytes.
        total: u64,
    },
    /// A file is complete.
    Finish {
        /// The file name in the repo.
        file: String,
    },
    /// The hub failed; a complete cached snapshot is used instead.
    UsingCache {
        /// Why the hub was not used.
        reason: String,
    },
}

/// Receives [`DownloadEvent`]s (a closure `FnMut(&DownloadEvent)` is one).
pub trait DownloadProgress {
    /// Called on the thread that called [`fetch`] / [`resolve`].
    fn event(&mut self, event: &DownloadEvent);
}

impl<F: FnMut(&DownloadEvent)> DownloadProgress for F {
    fn event(&mut self, event: &DownloadEvent) {
        self(event)
    }
}

/// Ignores progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl DownloadProgress for NoProgress {
    fn event(&mut self, _: &DownloadEvent) {}
}

/// Progress on stderr: an indicatif bar (bytes, rate, ETA) on a terminal, else one line per file.
pub struct TerminalProgress {
    bar: Option<indicatif::ProgressBar>,
    interactive: bool,
}

impl Default for TerminalProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl TerminalProgress {
    /// A progress display on stderr.
    pub fn new() -> Self {
        Self {
            bar: None,
            interactive: std::io::stderr().is_terminal(),
        }
    }
}

impl DownloadProgress for TerminalProgress {
    fn event(&mut self, event: &DownloadEvent) {
        match event {
            DownloadEvent::Start { file, total } => {
                if self.interactive {
                    let bar = indicatif::ProgressBar::new(*total);
                    bar.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{msg:>18} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
                        )
                        .expect("valid template")
                        .progress_chars("=> "),
                    );
                    bar.set_message(file.clone());
                    self.bar = Some(bar);
                } else {
                    eprintln!("downloading {file} ({})", indicatif::HumanBytes(*total));
                }
            }
            DownloadEvent::Progress { done, .. } => {
                if let Some(b) = &self.bar {
                    b.set_position(*done);
                }
            }
            DownloadEvent::Finish { .. } => {
                if let Some(b) = self.bar.take() {
                    b.finish_and_clear();
                }
            }
            DownloadEvent::UsingCache { reason } => {
                eprintln!("{reason}\nusing the cached copy instead");
            }
            _ => {}
        }
    }
}

impl Drop for TerminalProgress {
    fn drop(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// A complete model snapshot on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `…/models--owner--name/snapshots/<commit>`.
    pub dir: PathBuf,
    /// The commit hash.
    pub commit: String,
    /// The licence from the hub metadata or the model card, if stated.
    pub license: Option<String>,
    /// True when the network was not used (offline, or the hub failed).
    pub from_cache: bool,
}

/// A loaded model and where it came from.
#[derive(Debug, Clone)]
pub struct ResolvedModel {
    /// The model.
    pub files: ModelFiles,
    /// What was asked for.
    pub spec: ModelSpec,
    /// The licence, when known (hub models: from the card or metadata).
    pub license: Option<String>,
    /// For display: `default (built in)`, a path, or `owner/name@rev (commit abc1234)`.
    pub origin: String,
    /// The directory the files were read from (none for the built-in model).
    pub dir: Option<PathBuf>,
}

impl ResolvedModel {
    /// A one-line licence note for hub models (`None` for local ones).
    pub fn licence_note(&self) -> Option<String> {
        if !matches!(self.spec, ModelSpec::Hub { .. }) {
            return None;
        }
        Some(match &self.license {
            Some(l) => format!("model {}: licence {l}", self.origin),
            None => format!(
                "model {}: no licence stated in its model card; check before redistributing",
                self.origin
            ),
        })
    }
}

/// Resolves and loads a model named by `spec`, with options from the environment.
pub fn resolve(
    spec: &str,
    progress: &mut dyn DownloadProgress,
    cancel: &AtomicBool,
) -> Result<ResolvedModel> {
    resolve_with(spec, &HubOptions::from_env(), progress, cancel)
}

/// [`resolve`] with explicit options.
pub fn resolve_with(
    spec: &str,
    opts: &HubOptions,
    progress: &mut dyn DownloadProgress,
    cancel: &AtomicBool,
) -> Result<ResolvedModel> {
    let parsed = ModelSpec::parse(spec)?;
    match &parsed {
        ModelSpec::Default => Ok(ResolvedModel {
            files: ModelFiles::embedded()?,
            license: None,
            origin: "default (built in)".into(),
            dir: None,
            spec: parsed,
        }),
        ModelSpec::Dir(d) => Ok(ResolvedModel {
            files: ModelFiles::load_dir(d)?,
            license: None,
            origin: d.display().to_string(),
            dir: Some(d.clone()),
            spec: parsed,
        }),
        ModelSpec::Hub { repo, revision } => {
            let snap = fetch(repo, revision, opts, progress, cancel)?;
            let mut files = ModelFiles::load_dir(&snap.dir).map_err(|source| HubError::Model {
                repo: repo.clone(),
                source,
            })?;
            files.source = parsed.to_string();
            let short = &snap.commit[..snap.commit.len().min(7)];
            let origin = format!(
                "{parsed} (commit {short}{})",
                if snap.from_cache { ", cached" } else { "" }
            );
            Ok(ResolvedModel {
                files,
                license: snap.license,
                origin,
                dir: Some(snap.dir),
                spec: parsed,
            })
        }
    }
}

/// A language model named by `spec`: `default` (fenci's built-in LM), a directory, or a hub repo
/// (fetched as [`ModelKind::Lm`]). Returns the files and a name for display.
pub fn resolve_lm(
    spec: &str,
    opts: &HubOptions,
    progress: &mut dyn DownloadProgress,
    cancel: &AtomicBool,
) -> Result<(crate::lm::LmFiles, String)> {
    let parsed = ModelSpec::parse(spec)?;
    let lm_err = |repo: &str, e: crate::lm::LmError| HubError::Lm {
        repo: repo.to_string(),
        message: e.to_string(),
    };
    match &parsed {
        ModelSpec::Default => Ok((
            crate::lm::LmFiles::embedded().map_err(|e| lm_err("default", e))?,
            "default LM (built in)".into(),
        )),
        ModelSpec::Dir(d) => Ok((
            crate::lm::LmFiles::load_dir(d).map_err(|e| lm_err(&d.display().to_string(), e))?,
            d.display().to_string(),
        )),
        ModelSpec::Hub { repo, revision } => {
            let opts = HubOptions {
                kind: ModelKind::Lm,
                ..opts.clone()
            };
            let snap = fetch(repo, revision, &opts, progress, cancel)?;
            let mut files = crate::lm::LmFiles::load_dir(&snap.dir).map_err(|e| lm_err(repo, e))?;
            files.source = parsed.to_string();
            let short = &snap.commit[..snap.commit.len().min(7)];
            Ok((files, format!("{parsed} (commit {short})")))
        }
    }
}

/// The cache folder of a model repo (`models--owner--name`).
pub fn repo_folder(cache_dir: &Path, repo: &str) -> PathBuf {
    cache_dir.join(format!("models--{}", repo.replace('/', "--")))
}

fn is_commit_hash(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

const CONFIG: &str = "config.json";
const VOCABS: [&str; 2] = ["tokenizer.json", "vocab.txt"];
const WEIGHTS: [&str; 2] = ["model.safetensors", "pytorch_model.bin"];
const CARD: &str = "README.md";

fn snapshot_complete(dir: &Path, kind: ModelKind) -> bool {
    dir.join(CONFIG).is_file()
        && kind.vocabs().iter().any(|f| dir.join(f).is_file())
        && kind.weights().iter().any(|f| dir.join(f).is_file())
        && (kind != ModelKind::Tagger
            || dir.join(crate::model::WORDS_FILE).is_file()
            || !BertConfig::load(&dir.join(CONFIG)).is_ok_and(|c| c.has_word_features()))
}

/// The complete cached snapshot of `repo` at `revision`, if there is one.
pub fn cached_snapshot(cache_dir: &Path, repo: &str, revision: &str) -> Option<Snapshot> {
    cached_snapshot_of(cache_dir, repo, revision, ModelKind::Tagger)
}

/// [`cached_snapshot`] for a model of `kind`.
pub fn cached_snapshot_of(
    cache_dir: &Path,
    repo: &str,
    revision: &str,
    kind: ModelKind,
) -> Option<Snapshot> {
    let base = repo_folder(cache_dir, repo);
    let commit = match std::fs::read_to_string(base.join("refs").join(revision)) {
        Ok(c) => c.trim().to_string(),
        Err(_) if is_commit_hash(revision) => revision.to_string(),
        Err(_) => return None,
    };
    if commit.is_empty() || commit.contains(['/', '\\']) || commit.contains("..") {
        return None;
    }
    let dir = base.join("snapshots").join(&commit);
    if !snapshot_complete(&dir, kind) {
        return None;
    }
    let license = std::fs::read_to_string(dir.join(CARD))
        .ok()
        .and_then(|t| license_from_card(&t));
    Some(Snapshot {
        dir,
        commit,
        license,
        from_cache: true,
    })
}

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
            if let Ok(free) = crate::store::available_space(self.cache) {
                if let Err(e) = crate::store::check_free_space(self.cache, size as u64, free) {
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
struct Job {
    repo: String,
    revision: String,
    opts: HubOptions,
}

impl Job {
    fn display(&self) -> String {
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
                    if !has(crate::model::WORDS_FILE) {
                        return Err(missing(crate::model::WORDS_FILE));
                    }
                    self.get(&arepo, &snap, crate::model::WORDS_FILE, tx, abort)?;
                }
            }
            ModelKind::Lm => {
                let text = std::fs::read_to_string(&config).unwrap_or_default();
                crate::lm::LmConfig::from_json(&text, &format!("{}/config.json", self.display()))
                    .map_err(|e| HubError::Lm {
                    repo: self.display(),
                    message: e.to_string(),
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
    fn remove_parts(&self) {
        let blobs = repo_folder(&self.opts.cache_dir, &self.repo).join("blobs");
        if let Ok(rd) = std::fs::read_dir(&blobs) {
            for f in rd.flatten() {
                if f.path().extension().is_some_and(|x| x == "part") {
                    let _ = std::fs::remove_file(f.path());
                }
            }
        }
    }

    fn protocol(&self, detail: String) -> HubError {
        HubError::Protocol {
            repo: self.display(),
            endpoint: self.opts.endpoint.clone(),
            detail,
        }
    }

    fn dropped(&self, file: &str, detail: String) -> HubError {
        HubError::Dropped {
            repo: self.display(),
            file: file.to_string(),
            detail,
        }
    }

    fn classify(&self, e: ApiError, file: Option<&str>) -> HubError {
        let what = file.unwrap_or("the repo information");
        #[allow(unreachable_patterns)]
        match e {
            ApiError::RequestError(e) => self.classify_ureq(*e, file),
            ApiError::TooManyRetries(e) => self.classify(*e, file),
            ApiError::IoError(e) => {
                use std::io::ErrorKind as K;
                match e.kind() {
                    K::PermissionDenied
                    | K::StorageFull
                    | K::ReadOnlyFilesystem
                    | K::QuotaExceeded
                    | K::NotFound
                    | K::AlreadyExists
                    | K::IsADirectory
                    | K::NotADirectory
                    | K::FileTooLarge => HubError::Cache {
                        repo: self.display(),
                        path: self.opts.cache_dir.clone(),
                        source: e,
                    },
                    _ => self.dropped(what, e.to_string()),
                }
            }
            ApiError::MissingHeader(h) | ApiError::InvalidHeader(h) => {
                self.protocol(format!("{what}: no valid `{h}` header"))
            }
            ApiError::ParseIntError(e) => self.protocol(format!("{what}: bad size header ({e})")),
            ApiError::InvalidResume => {
                // A `.part` longer than the file: drop this repo's partial files so the next
                // attempt starts afresh.
                self.remove_parts();
                self.dropped(
                    what,
                    "a partial download did not match the file; removed it".into(),
                )
            }
            ApiError::LockAcquisition(path) => HubError::Busy {
                repo: self.display(),
                path,
            },
            other => self.protocol(other.to_string()),
        }
    }

    fn classify_ureq(&self, e: ureq::Error, file: Option<&str>) -> HubError {
        let endpoint = self.opts.endpoint.clone();
        match e {
            ureq::Error::Status(status, resp) => {
                let msg = resp
                    .header("x-error-message")
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                match status {
                    401 | 403 => HubError::Unauthorized {
                        repo: self.display(),
                        endpoint,
                        status,
                        token_note: if self.opts.token.is_some() {
                            " (the token sent was not accepted)".into()
                        } else {
                            " (no token was sent)".into()
                        },
                    },
                    404 => HubError::NotFound {
                        repo: self.display(),
                        endpoint,
                        detail: match file {
                            Some(f) => format!(", file {f}{msg}"),
                            None => msg,
                        },
                    },
                    500..=599 => HubError::Server {
                        repo: self.display(),
                        endpoint,
                        status,
                    },
                    _ => HubError::Http {
                        repo: self.display(),
                        endpoint,
                        status,
                        detail: msg,
                    },
                }
            }
            ureq::Error::Transport(t) => {
                use ureq::ErrorKind as K;
                match t.kind() {
                    K::Dns
                    | K::ConnectionFailed
                    | K::InvalidUrl
                    | K::UnknownScheme
                    | K::InsecureRequestHttpsOnly
                    | K::InvalidProxyUrl
                    | K::ProxyConnect
                    | K::ProxyUnauthorized => HubError::Connect {
                        repo: self.display(),
                        endpoint,
                        detail: t.to_string(),
                    },
                    K::TooManyRedirects => self.protocol(t.to_string()),
                    _ => self.dropped(file.unwrap_or("the repo information"), t.to_string()),
                }
            }
        }
    }
}

/// The licence in the hub's repo info (`cardData.license`, else a `license:` tag).
fn license_from_info(info: &serde_json::Value) -> Option<String> {
    let card = &info["cardData"];
    let from_card = match &card["license"] {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Array(a) => {
            let v: Vec<&str> = a.iter().filter_map(|x| x.as_str()).collect();
            (!v.is_empty()).then(|| v.join(", "))
        }
        _ => None,
    };
    let lic = from_card.or_else(|| {
        info["tags"].as_array().and_then(|tags| {
            tags.iter()
                .filter_map(|t| t.as_str())
                .find_map(|t| t.strip_prefix("license:").map(str::to_string))
        })
    })?;
    Some(match card["license_name"].as_str() {
        Some(name) if lic == "other" => format!("other ({name})"),
        _ => lic,
    })
}

/// The `license:` of a model card's YAML front matter (a value or a list).
pub fn license_from_card(text: &str) -> Option<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    if lines.next()?.trim_end() != "---" {
        return None;
    }
    let front: Vec<&str> = lines.take_while(|l| l.trim_end() != "---").collect();
    let unquote = |s: &str| s.trim().trim_matches(['"', '\'']).trim().to_string();
    let mut license = None;
    let mut name = None;
    for (i, line) in front.iter().enumerate() {
        if let Some(v) = line.strip_prefix("license:") {
            let v = unquote(v);
            license = if v.is_empty() {
                let items: Vec<String> = front[i + 1..]
                    .iter()
                    .map(|l| l.trim())
                    .take_while(|l| l.starts_with("- "))
                    .map(|l| unquote(&l[2..]))
                    .collect();
                (!items.is_empty()).then(|| items.join(", "))
            } else if v.starts_with('[') {
                Some(
                    v.trim_matches(['[', ']'])
                        .split(',')
                        .map(unquote)
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            } else {
                Some(v)
            };
        } else if let Some(v) = line.strip_prefix("license_name:") {
            name = Some(unquote(v));
        }
    }
    let lic = license.filter(|l| !l.is_empty())?;
    Some(match name {
        Some(n) if lic == "other" && !n.is_empty() => format!("other ({n})"),
        _ => lic,
    })
}

/// One repo in the hub cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedModel {
    /// `owner/name`.
    pub repo: String,
    /// `models--owner--name` in the cache.
    pub path: PathBuf,
    /// Refs (branch or tag → commit).
    pub refs: Vec<(String, String)>,
    /// Commits with a complete model snapshot.
    pub complete: Vec<String>,
    /// Commits whose snapshot lacks a file fenci needs.
    pub incomplete: Vec<String>,
    /// Bytes in `blobs/` (partial downloads included).
    pub bytes: u64,
}

/// Every model repo in the hub cache, sorted by id (an absent cache is empty).
pub fn cached_models(cache_dir: &Path) -> Vec<CachedModel> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(cache_dir) else {
        return out;
    };
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(id) = name.strip_prefix("models--") else {
            continue;
        };
        let path = entry.path();
        let mut refs = Vec::new();
        collect_refs(&path.join("refs"), "", &mut refs);
        refs.sort();
        let (mut complete, mut incomplete) = (Vec::new(), Vec::new());
        if let Ok(snaps) = std::fs::read_dir(path.join("snapshots")) {
            for s in snaps.flatten() {
                let commit = s.file_name().to_string_lossy().to_string();
                if snapshot_complete(&s.path(), ModelKind::Tagger) {
                    complete.push(commit);
                } else {
                    incomplete.push(commit);
                }
            }
        }
        complete.sort();
        incomplete.sort();
        let bytes = std::fs::read_dir(path.join("blobs"))
            .map(|rd| {
                rd.flatten()
                    .filter_map(|f| f.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        out.push(CachedModel {
            repo: id.replacen("--", "/", 1),
            path,
            refs,
            complete,
            incomplete,
            bytes,
        });
    }
    out.sort_by(|a, b| a.repo.cmp(&b.repo));
    out
}

fn collect_refs(dir: &Path, prefix: &str, out: &mut Vec<(String, String)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.path().is_dir() {
            collect_refs(&e.path(), &format!("{name}/"), out);
        } else if let Ok(c) = std::fs::read_to_string(e.path()) {
            out.push((name, c.trim().to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!(ModelSpec::parse("default").unwrap(), ModelSpec::Default);
        assert_eq!(
            ModelSpec::parse("ckiplab/bert-tiny-chinese-ws").unwrap(),
            ModelSpec::Hub {
                repo: "ckiplab/bert-tiny-chinese-ws".into(),
                revision: "main".into()
            }
        );
        assert_eq!(
            ModelSpec::parse("a/b@v1.0").unwrap(),
            ModelSpec::Hub {
                repo: "a/b".into(),
                revision: "v1.0".into()
            }
        );
        assert_eq!(
            ModelSpec::parse("./nope").unwrap(),
            ModelSpec::Dir("./nope".into())
        );
        assert!(matches!(
            ModelSpec::parse("/no/such/dir").unwrap(),
            ModelSpec::Dir(_)
        ));
        for bad in [
            "", "nope", "a/b/c", "a//b", "a/b@", "-a/b", "a/b c", "a--x/b",
        ] {
            let e = ModelSpec::parse(bad).unwrap_err().to_string();
            assert!(e.contains("hub id") || e.contains("empty"), "{bad}: {e}");
        }
        assert_eq!(ModelSpec::parse("a/b@dev").unwrap().to_string(), "a/b@dev");
        assert_eq!(ModelSpec::parse("a/b").unwrap().to_string(), "a/b");
    }

    #[test]
    fn licences_are_read() {
        let card = "---\nlanguage:\n- zh\nlicense: gpl-3.0\ntags:\n- pytorch\n---\n# x\n";
        assert_eq!(license_from_card(card).as_deref(), Some("gpl-3.0"));
        let card = "---\nlicense:\n  - mit\n  - apache-2.0\n---\n";
        assert_eq!(license_from_card(card).as_deref(), Some("mit, apache-2.0"));
        let card = "---\nlicense: other\nlicense_name: my-licence\n---\n";
        assert_eq!(
            license_from_card(card).as_deref(),
            Some("other (my-licence)")
        );
        assert_eq!(license_from_card("# no front matter\nlicense: mit\n"), None);
        let info = serde_json::json!({"cardData": {"license": "gpl-3.0"}, "tags": ["license:mit"]});
        assert_eq!(license_from_info(&info).as_deref(), Some("gpl-3.0"));
        let info = serde_json::json!({"tags": ["bert", "license:apache-2.0"]});
        assert_eq!(license_from_info(&info).as_deref(), Some("apache-2.0"));
        assert_eq!(license_from_info(&serde_json::json!({})), None);
    }
}
