//! The hub cache on disk (`models--owner--name/{blobs,refs,snapshots}`): a repo's folder, its
//! complete [`Snapshot`]s, and the list of [`CachedModel`]s.

use std::path::{Path, PathBuf};

use super::licence::license_from_card;
use super::options::{ModelKind, CARD, CONFIG};
use crate::tagger::BertConfig;

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

/// The cache folder of a model repo (`models--owner--name`).
pub fn repo_folder(cache_dir: &Path, repo: &str) -> PathBuf {
    cache_dir.join(format!("models--{}", repo.replace('/', "--")))
}

pub(super) fn is_commit_hash(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn snapshot_complete(dir: &Path, kind: ModelKind) -> bool {
    dir.join(CONFIG).is_file()
        && kind.vocabs().iter().any(|f| dir.join(f).is_file())
        && kind.weights().iter().any(|f| dir.join(f).is_file())
        && (kind != ModelKind::Tagger
            || dir.join(crate::tagger::WORDS_FILE).is_file()
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
