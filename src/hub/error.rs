//! [`HubError`], and how the download thread turns hf-hub's and ureq's errors into one (by HTTP
//! status, transport failure or cache trouble), naming the repo and what to try.

use std::path::PathBuf;

use hf_hub::api::sync::ApiError;

use super::fetch::Job;
use crate::tagger::ModelError;

/// Errors of [`resolve`] and [`fetch`]. Every hub error names the repo and what to try.
///
/// [`resolve`]: fn@super::resolve
/// [`fetch`]: fn@super::fetch
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
    #[error("{repo}: {source}")]
    Lm {
        /// The repo id.
        repo: String,
        /// What the loader said.
        #[source]
        source: crate::lm::LmError,
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

// Classification, on the download thread's job (it knows the repo, the hub and the token).
impl Job {
    pub(super) fn protocol(&self, detail: String) -> HubError {
        HubError::Protocol {
            repo: self.display(),
            endpoint: self.opts.endpoint.clone(),
            detail,
        }
    }

    pub(super) fn dropped(&self, file: &str, detail: String) -> HubError {
        HubError::Dropped {
            repo: self.display(),
            file: file.to_string(),
            detail,
        }
    }

    pub(super) fn classify(&self, e: ApiError, file: Option<&str>) -> HubError {
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

    pub(super) fn classify_ureq(&self, e: ureq::Error, file: Option<&str>) -> HubError {
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
