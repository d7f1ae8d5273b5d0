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
//!
//! [`ModelFiles`]: crate::tagger::ModelFiles

mod cache;
mod error;
mod fetch;
mod licence;
mod options;
mod progress;
mod resolve;
#[cfg(test)]
mod tests;

pub use cache::{
    cached_models, cached_snapshot, cached_snapshot_of, repo_folder, CachedModel, Snapshot,
};
pub use error::{HubError, Result};
pub use fetch::fetch;
pub use licence::license_from_card;
pub use options::{HubOptions, ModelKind, DEFAULT_ENDPOINT, DEFAULT_STALL};
pub use progress::{DownloadEvent, DownloadProgress, NoProgress, TerminalProgress};
pub use resolve::{resolve, resolve_lm, resolve_with, ResolvedModel};

use std::path::PathBuf;

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
        let path = crate::fsio::expand_tilde(s);
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
