//! From a model name to loaded files: [`resolve`] / [`resolve_with`] for the segmenter,
//! [`resolve_lm`] for the language model, and the [`ResolvedModel`] they return.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use super::{fetch, DownloadProgress, HubError, HubOptions, ModelKind, ModelSpec, Result};
use crate::tagger::ModelFiles;

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
    let lm_err = |repo: &str, source: crate::lm::LmError| HubError::Lm {
        repo: repo.to_string(),
        source,
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
