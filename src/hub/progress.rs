//! Progress of a download: the [`DownloadEvent`]s a fetch reports, the [`DownloadProgress`] trait
//! that receives them, and two receivers ([`NoProgress`], [`TerminalProgress`]).

use std::io::IsTerminal;

/// What happens during [`fetch`], for progress displays.
///
/// [`fetch`]: fn@super::fetch
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
    ///
    /// [`fetch`]: fn@super::fetch
    /// [`resolve`]: fn@super::resolve
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
