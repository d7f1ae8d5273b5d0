//! The worker side of the app: loads the model (a hub id with download progress, a directory,
//! the active version), segments and explains sentences, opens and re-queues texts for review,
//! and performs the actions on the user's data through [`crate::service`], answering the App
//! over the event channel. Nothing here draws.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

use crate::explain::{self, Dictionary};
use crate::segment::Segmenter;
use crate::tagger::ModelFiles;

use super::app::{DataAction, DictOp, Event, ModelInfo, TurnData, WorkerMsg};
use crate::service::Service;
use crate::train::{AdaptConfig, Progress};

mod docs;
pub use docs::{open_document, requeue_document};
use docs::{start_open, Background, Opening};

/// Work for the segmentation worker.
#[derive(Debug)]
pub enum Job {
    /// Segment and explain these sentences (turn id, text).
    Segment(Vec<(u64, String)>),
    /// Load the model again (after training, undo or a switch).
    Reload,
    /// Load another model: a hub id (downloaded with progress), a directory or `default`.
    Load(String),
    /// Replace the user dictionary's forced words.
    SetDict(Vec<String>),
    /// Open a text for review (answered with [`WorkerMsg::DocProgress`] and
    /// [`WorkerMsg::DocOpened`]).
    Open(PathBuf),
    /// Save the open document (in order with the other jobs, off the UI thread; a text being
    /// opened or re-queued does not hold it up).
    SaveDocument(Box<crate::document::Document>),
    /// Queue the open document again with the loaded model (answered with
    /// [`WorkerMsg::RequeueProgress`] and [`WorkerMsg::Requeued`]).
    Requeue(Box<crate::document::Document>),
    /// Explain the words of a corrected turn (answered with [`WorkerMsg::Explained`]).
    Explain {
        /// The turn.
        id: u64,
        /// Its words.
        words: Vec<String>,
    },
}

/// Why the app could not load a model or a language model; each keeps its cause. The worker
/// reports it to the App as text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A model named by the user (hub id, directory, `default`) could not be resolved.
    #[error("cannot load model `{name}`: {source}")]
    Resolve {
        /// What the user named.
        name: String,
        /// The cause.
        #[source]
        source: Box<crate::hub::HubError>,
    },
    /// The active version of the data directory does not load.
    #[error("cannot load the active model version: {0} (/model default switches back)")]
    Active(#[source] Box<crate::service::ServiceError>),
    /// The built-in model does not load (a damaged build).
    #[error(transparent)]
    Builtin(#[from] crate::tagger::ModelError),
    /// The model's files load but do not make a segmenter (e.g. a vocabulary that does not fit).
    #[error("cannot load model `{name}`: {source}")]
    Segmenter {
        /// The model.
        name: String,
        /// The cause.
        #[source]
        source: crate::segment::SegmentError,
    },
    /// The language model could not be resolved.
    #[error("cannot load the language model `{name}`: {source}")]
    LmResolve {
        /// What the user named.
        name: String,
        /// The cause.
        #[source]
        source: Box<crate::hub::HubError>,
    },
    /// The language model's files do not make a generator.
    #[error("cannot load the language model `{name}`: {source}")]
    Lm {
        /// The LM.
        name: String,
        /// The cause.
        #[source]
        source: Box<crate::generate::GenError>,
    },
}

/// Why `/save` wrote nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// The file exists and `/save!` was not used.
    #[error("{0} exists")]
    Exists(PathBuf),
    /// The file is in fenci's data directory (the user's corrections, models, settings).
    #[error("{0} is in fenci's data directory; save the transcript somewhere of your own")]
    InDataDir(PathBuf),
    /// The directory to write into does not exist (it is not created).
    #[error("{0}: no such directory (it is not created for you)")]
    NoParent(PathBuf),
    /// The write failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Writes the transcript for `/save`: `~/` expands to the home directory; an existing file is
/// replaced only with `overwrite`; nothing is written into `data_dir`, and no directory is
/// created. Returns the path written (atomically).
pub fn save_transcript(
    path: &str,
    contents: &str,
    data_dir: Option<&std::path::Path>,
    overwrite: bool,
) -> Result<PathBuf, SaveError> {
    let path = crate::fsio::expand_tilde(path);
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(real_parent) = parent.canonicalize() else {
        return Err(SaveError::NoParent(parent));
    };
    if !real_parent.is_dir() {
        return Err(SaveError::NoParent(parent));
    }
    if let Some(data) = data_dir.and_then(|d| d.canonicalize().ok()) {
        if real_parent.starts_with(&data) {
            return Err(SaveError::InDataDir(path));
        }
    }
    if path.is_dir() {
        return Err(SaveError::Io {
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
            path,
        });
    }
    if path.exists() && !overwrite {
        return Err(SaveError::Exists(path));
    }
    match crate::fsio::write_file_atomic(&path, contents.as_bytes()) {
        Ok(()) => Ok(path),
        Err(source) => Err(SaveError::Io { path, source }),
    }
}

/// Work for the language-model thread.
#[derive(Debug, Clone, PartialEq)]
pub enum LmJob {
    /// Load (and keep) a language model.
    Load(String),
    /// Write example sentences with the language model named `lm`.
    Examples {
        /// The word.
        word: String,
        /// How many.
        n: usize,
        /// The LM (`default`, a directory or a hub id).
        lm: String,
        /// Sampling settings.
        sampling: crate::generate::Sampling,
        /// Prefer sentences at or below this HSK level.
        level: Option<u8>,
    },
}

/// Segments and explains one sentence: what a turn shows.
pub fn analyse(
    seg: &Segmenter,
    dict: &Dictionary,
    text: &str,
) -> Result<TurnData, crate::segment::SegmentError> {
    crate::annotate::annotate(seg, dict, text)
}

/// The explanations of `words` and the names and set phrases across them: what a corrected
/// turn shows.
pub fn explain_words(
    dict: &Dictionary,
    words: &[String],
) -> (
    Vec<explain::Explanation>,
    Vec<(std::ops::Range<usize>, explain::Explanation)>,
) {
    let strs: Vec<&str> = words.iter().map(String::as_str).collect();
    // A corrected segmentation has no tags from the model: readings from the neighbours alone.
    let mut explanations = explain::explain_in_context(dict, &strs, &vec![None; strs.len()]);
    let together = explain::together(dict, &strs);
    explain::settle_halves(dict, &strs, &mut explanations, &together);
    (explanations, together)
}

/// A failed `/examples` in the app's words: what the library says, with the app's command
/// where it names the command line's flag (`--lm` → `/lm`).
pub fn examples_error(e: &crate::generate::GenError) -> String {
    match e {
        crate::generate::GenError::UnknownChars { word, chars } => format!(
            "the language model does not know {chars} in {word:?}; try another word, or another language model: /lm Qwen/Qwen2.5-0.5B-Instruct"
        ),
        e => e.to_string(),
    }
}

/// One line describing a model.
pub fn model_summary(files: &ModelFiles) -> String {
    let c = &files.config;
    let labels = c
        .labels("config.json")
        .map(|l| l.names().join(""))
        .unwrap_or_default();
    format!(
        "{}×{} {} · vocab {}",
        c.num_hidden_layers, c.hidden_size, labels, c.vocab_size
    )
}

/// Forwards a download's progress to the app as [`WorkerMsg::Download`].
fn download_relay(tx: &Sender<Event>) -> impl FnMut(&crate::hub::DownloadEvent) + '_ {
    move |e| {
        use crate::hub::DownloadEvent as D;
        let msg = match e {
            D::Start { file, total } => Some((file.clone(), 0, *total)),
            D::Progress { file, done, total } => Some((file.clone(), *done, *total)),
            _ => None,
        };
        if let Some((file, done, total)) = msg {
            let _ = tx.send(Event::Worker(WorkerMsg::Download { file, done, total }));
        }
    }
}

/// Loads the model the app runs: `spec` as given (a hub id is downloaded, reporting progress
/// to `tx`; `cancel` stops it), else the active version of data directory `dir` with the user
/// dictionary.
pub fn load_segmenter(
    spec: Option<&str>,
    dir: Option<&std::path::Path>,
    opts: &crate::hub::HubOptions,
    tx: &Sender<Event>,
    cancel: &AtomicBool,
) -> Result<(Segmenter, ModelInfo), LoadError> {
    let (name, files, dict) = match (spec, dir) {
        (Some(s), _) => {
            let mut relay = download_relay(tx);
            let r = crate::hub::resolve_with(s, opts, &mut relay, cancel).map_err(|source| {
                LoadError::Resolve {
                    name: s.to_string(),
                    source: Box::new(source),
                }
            })?;
            if let Some(note) = r.licence_note() {
                let _ = tx.send(Event::Worker(WorkerMsg::Report {
                    lines: vec![note],
                    error: false,
                }));
            }
            (s.to_string(), r.files, vec![])
        }
        (None, Some(d)) => {
            let svc = Service::new(d);
            let (name, files) = svc
                .load_active()
                .map_err(|e| LoadError::Active(Box::new(e)))?;
            (name, files, svc.dict_words())
        }
        (None, None) => ("default".to_string(), ModelFiles::embedded()?, vec![]),
    };
    let mut seg = match Segmenter::new(&files) {
        Ok(s) => s,
        Err(source) => return Err(LoadError::Segmenter { name, source }),
    };
    seg.set_dict(dict);
    // Parts of speech choose readings and senses; a model without a POS head goes without.
    seg.set_pos(true);
    let info = ModelInfo {
        name,
        summary: model_summary(&files),
        scheme: seg.model().labels().clone(),
    };
    Ok((seg, info))
}

/// The worker: loads the model (then the dictionary), then serves jobs until the channel closes,
/// in order; texts being opened or re-queued ([`Job::Open`], [`Job::Requeue`]) advance a batch
/// at a time whenever no job waits. `cancel` (Esc) cancels what was asked before it: queued
/// sentences are answered "cancelled", texts are not opened or re-queued, a download stops
/// (see `take_cancel`).
pub fn worker(
    spec: Option<String>,
    dir: Option<PathBuf>,
    opts: crate::hub::HubOptions,
    jobs: Receiver<Job>,
    tx: Sender<Event>,
    cancel: Arc<AtomicBool>,
) {
    let mut spec = spec;
    // `stop` stops a download: the Esc flag itself, or a set flag for a load queued before an
    // Esc (see `take_cancel`).
    let load = |spec: Option<&str>, stop: &AtomicBool| {
        load_segmenter(spec, dir.as_deref(), &opts, &tx, stop)
    };
    // The loaded model's name as the status bar shows it (recorded in an opened document).
    let mut model_name = String::new();
    let mut seg = match load(spec.as_deref(), &cancel) {
        Ok((seg, info)) => {
            model_name = info.name.clone();
            let _ = tx.send(Event::Worker(WorkerMsg::ModelLoaded(info)));
            Some(seg)
        }
        Err(e) => {
            let _ = tx.send(Event::Worker(WorkerMsg::ModelFailed(e.to_string())));
            None
        }
    };
    // After every load: the corrections the active version was not trained on (an /undo or a
    // /train changed which).
    let report_waiting = || {
        if let Some(n) = waiting(dir.as_deref()) {
            let _ = tx.send(Event::Worker(WorkerMsg::Waiting(n)));
        }
    };
    report_waiting();
    let dict = Dictionary::embedded();
    let send = |answers: Vec<WorkerMsg>| {
        for a in answers {
            let _ = tx.send(Event::Worker(a));
        }
    };
    // Jobs taken off the channel when an Esc was seen, each marked cancelled, done first.
    let mut backlog: VecDeque<(Job, bool)> = VecDeque::new();
    // Texts being opened or re-queued: a batch at a time, when no job waits.
    let mut background = Background::default();
    loop {
        let (job, cancelled) = match backlog.pop_front() {
            Some(j) => j,
            None if !background.is_empty() => match jobs.try_recv() {
                Ok(j) => (j, false),
                Err(mpsc::TryRecvError::Empty) => {
                    let mut answers =
                        take_cancel(&cancel, &jobs, &mut backlog, &mut background, &dir);
                    if answers.is_empty() {
                        answers = background.step(seg.as_ref(), dir.as_deref(), &tx);
                    }
                    send(answers);
                    continue;
                }
                Err(mpsc::TryRecvError::Disconnected) => return,
            },
            None => match jobs.recv() {
                Ok(j) => (j, false),
                Err(_) => return,
            },
        };
        match job {
            Job::Reload | Job::Load(_) => {
                let target = match job {
                    Job::Load(s) => Some(s),
                    _ => None,
                };
                let stop = AtomicBool::new(cancelled);
                match load(target.as_deref(), if cancelled { &stop } else { &cancel }) {
                    Ok((s, info)) => {
                        seg = Some(s);
                        spec = target;
                        model_name = info.name.clone();
                        background.restart(&model_name, &tx);
                        let _ = tx.send(Event::Worker(WorkerMsg::ModelLoaded(info)));
                    }
                    Err(e) => {
                        let _ = tx.send(Event::Worker(WorkerMsg::Report {
                            lines: vec![format!("{e} — the current model stays active")],
                            error: true,
                        }));
                    }
                }
                report_waiting();
                let _ = &spec;
            }
            Job::SetDict(words) => {
                if let Some(s) = seg.as_mut().filter(|s| s.dict() != words.as_slice()) {
                    s.set_dict(words);
                    background.restart(&model_name, &tx);
                    let _ = tx.send(Event::Worker(WorkerMsg::DictChanged));
                }
            }
            Job::Explain { id, words } => {
                let (explanations, names) = explain_words(dict, &words);
                let _ = tx.send(Event::Worker(WorkerMsg::Explained {
                    id,
                    explanations,
                    names,
                }));
            }
            Job::Open(_) if cancelled => {
                let _ = tx.send(Event::Worker(WorkerMsg::DocOpened(Err("cancelled".into()))));
            }
            Job::Open(path) => {
                let r = match start_open(&path, dir.as_deref(), seg.as_ref(), &model_name) {
                    Ok(Opening::Segment(pending)) => {
                        background.open(pending, &tx);
                        continue;
                    }
                    Ok(Opening::Ready(o)) => Ok(Box::new(o)),
                    Err(e) => Err(e),
                };
                let _ = tx.send(Event::Worker(WorkerMsg::DocOpened(r)));
            }
            Job::Requeue(_) if cancelled => {
                let _ = tx.send(Event::Worker(WorkerMsg::Requeued(Err("cancelled".into()))));
            }
            Job::Requeue(doc) => match seg {
                Some(_) => background.requeue(*doc, &model_name, &tx),
                None => {
                    let e = "no model is loaded (/model says why)".to_string();
                    let _ = tx.send(Event::Worker(WorkerMsg::Requeued(Err(e))));
                }
            },
            Job::SaveDocument(doc) => {
                if let Some(d) = &dir {
                    if let Err(e) = doc.save(d) {
                        let _ = tx.send(Event::Worker(WorkerMsg::Report {
                            lines: vec![format!(
                                "could not save your review of {} ({e}); your answers stay in this session and go to disk with the next answer that saves — free some space or check {}",
                                doc.source,
                                d.display()
                            )],
                            error: true,
                        }));
                    }
                }
            }
            Job::Segment(lines) => {
                let mut cancelled = cancelled;
                for (id, text) in lines {
                    if !cancelled && cancel.load(Ordering::SeqCst) {
                        send(take_cancel(
                            &cancel,
                            &jobs,
                            &mut backlog,
                            &mut background,
                            &dir,
                        ));
                        cancelled = true;
                    }
                    let result = match &seg {
                        _ if cancelled => Err("cancelled".to_string()),
                        Some(s) => analyse(s, dict, &text)
                            .map(Box::new)
                            .map_err(|e| e.to_string()),
                        None => Err("no model is loaded (/model says why)".to_string()),
                    };
                    if tx
                        .send(Event::Worker(WorkerMsg::Turn { id, result }))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        send(take_cancel(
            &cancel,
            &jobs,
            &mut backlog,
            &mut background,
            &dir,
        ));
    }
}

/// An Esc (`cancel` set) seen by the worker: it clears the flag and cancels everything asked
/// before it: the jobs queued so far (moved to `backlog`, marked cancelled: sentences are
/// answered "cancelled", a text is not opened or re-queued, a download stops) and the texts
/// being opened or re-queued, whose answers it returns. A job sent after this is not
/// cancelled. (An Esc the app sends just as the worker finishes its last job still cancels
/// the next one.)
fn take_cancel(
    cancel: &AtomicBool,
    jobs: &Receiver<Job>,
    backlog: &mut VecDeque<(Job, bool)>,
    background: &mut Background,
    dir: &Option<PathBuf>,
) -> Vec<WorkerMsg> {
    if !cancel.swap(false, Ordering::SeqCst) {
        return vec![];
    }
    for (_, c) in backlog.iter_mut() {
        *c = true;
    }
    backlog.extend(jobs.try_iter().map(|j| (j, true)));
    background.cancel(dir.as_deref())
}

/// Corrections the active version of data directory `dir` was not trained on (`None` without
/// one, or when they cannot be read).
fn waiting(dir: Option<&Path>) -> Option<usize> {
    let list = Service::new(dir?).corrections().ok()?;
    Some(list.records.iter().filter(|(_, trained)| !trained).count())
}

/// Performs the actions that touch the data directory (corrections, dictionary, versions),
/// reporting the outcome as a worker message. Training runs on a thread of its own.
pub(super) fn perform(
    action: DataAction,
    dir: Option<&std::path::Path>,
    model_name: &str,
    tx: &Sender<Event>,
    jobs: &Sender<Job>,
    train_cancel: &Arc<AtomicBool>,
) {
    let report = |lines: Vec<String>, error: bool| {
        let _ = tx.send(Event::Worker(WorkerMsg::Report { lines, error }));
    };
    let Some(dir) = dir else {
        report(
            vec!["no data directory: set FENCI_HOME to a writable directory".into()],
            true,
        );
        return;
    };
    let svc = Service::new(dir);
    match action {
        DataAction::SaveCorrection {
            turn,
            words,
            model_output,
        } => match svc.correct(words, model_output, model_name) {
            Ok((c, warnings)) => {
                let mut lines = vec![format!(
                    "correction #{} saved: {} — /train teaches it to the model",
                    c.id,
                    c.words.join(" ")
                )];
                lines.extend(warnings);
                let _ = tx.send(Event::Worker(WorkerMsg::CorrectionSaved {
                    turn,
                    words: c.words,
                    lines,
                }));
            }
            Err(e) => report(vec![format!("could not save the correction: {e}")], true),
        },
        DataAction::ListCorrections => match svc.corrections() {
            Ok(l) => {
                let mut lines: Vec<String> = l
                    .records
                    .iter()
                    .map(|(c, trained)| {
                        let mark = if *trained { "trained" } else { "new    " };
                        format!("#{:<3} {mark} {}", c.id, c.words.join(" "))
                    })
                    .collect();
                if lines.is_empty() {
                    lines.push("no corrections yet: /fix or e (in inspect mode) adds one".into());
                }
                lines.extend(l.warnings);
                report(lines, false);
            }
            Err(e) => report(vec![format!("cannot read the corrections: {e}")], true),
        },
        DataAction::Dict(op) => {
            let res: Result<Vec<String>, crate::service::ServiceError> = match &op {
                DictOp::List => Ok(vec![]),
                DictOp::Add { words, force } => svc.dict_add_words(words, *force).map(|added| {
                    added
                        .into_iter()
                        .map(|(w, new)| {
                            if new {
                                format!("added {w}")
                            } else {
                                format!("{w} is already in your dictionary")
                            }
                        })
                        .collect()
                }),
                DictOp::Remove(words) => words
                    .iter()
                    .map(|w| {
                        svc.dict_remove(w).map(|had| {
                            if had {
                                format!("removed {w}")
                            } else {
                                format!("{w} is not in your dictionary")
                            }
                        })
                    })
                    .collect(),
            };
            match res {
                Err(crate::service::ServiceError::SingleCharWord { words }) => {
                    let e = crate::service::ServiceError::SingleCharWord {
                        words: words.clone(),
                    };
                    let all = match &op {
                        DictOp::Add { words, .. } => words.join(" "),
                        _ => words.join(" "),
                    };
                    report(vec![format!("{e} — /dict add! {all} adds it anyway")], true);
                }
                Ok(msgs) => {
                    let words = svc.dict_words();
                    let mut lines = msgs;
                    lines.push(if words.is_empty() {
                        "your dictionary is empty (/dict add WORD)".into()
                    } else {
                        format!("your dictionary: {}", words.join(" "))
                    });
                    report(lines, false);
                    let _ = jobs.send(Job::SetDict(words));
                }
                Err(e) => report(vec![e.to_string()], true),
            }
        }
        DataAction::Train => {
            train_cancel.store(false, Ordering::SeqCst);
            let (ttx, jobs, cancel) = (tx.clone(), jobs.clone(), train_cancel.clone());
            let spawned = std::thread::Builder::new()
                .name("fenci-train".into())
                .spawn(move || {
                    let progress_tx = ttx.clone();
                    let r = svc.train(&AdaptConfig::default(), 5, &cancel, |p| {
                        if let Progress::Step {
                            step, total, loss, ..
                        } = p
                        {
                            let _ = progress_tx.send(Event::Worker(WorkerMsg::TrainProgress {
                                step,
                                total,
                                loss,
                            }));
                        }
                    });
                    let msg = match r {
                        Ok(rep) if rep.cancelled => {
                            let _ = ttx.send(Event::Worker(WorkerMsg::TrainCancelled(rep.parent)));
                            return;
                        }
                        Ok(rep) => {
                            let _ = jobs.send(Job::Reload);
                            let mut lines = rep.lines();
                            lines.push(format!("/undo returns to {}", rep.parent));
                            lines.extend(rep.warnings.iter().map(|w| format!("warning: {w}")));
                            Ok(lines)
                        }
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = ttx.send(Event::Worker(WorkerMsg::TrainDone(msg)));
                });
            if let Err(e) = spawned {
                let _ = tx.send(Event::Worker(WorkerMsg::TrainDone(Err(e.to_string()))));
            }
        }
        DataAction::Undo => match svc.undo() {
            Ok((was, now)) => {
                report(vec![format!("active model: {now} (was {was})")], false);
                let _ = jobs.send(Job::Reload);
            }
            Err(e) => report(vec![format!("cannot undo: {e}")], true),
        },
        DataAction::ListModels => {
            let active = svc.active();
            let mut lines = vec![format!(
                "{} default — the built-in model",
                if active == "default" { "*" } else { " " }
            )];
            for m in svc.versions() {
                lines.push(format!(
                    "{} {} — from {}: {}",
                    if m.name == active { "*" } else { " " },
                    m.name,
                    m.parent,
                    m.summary
                ));
            }
            lines.push("/model VERSION switches".into());
            report(lines, false);
        }
        DataAction::SwitchModel(name) => {
            // `v9` is a version's name: say there is no such version (not "not a hub id").
            if svc.is_version(&name) || crate::service::looks_like_version(&name) {
                match svc.switch(&name) {
                    Ok(()) => {
                        report(vec![format!("active model: {name}")], false);
                        let _ = jobs.send(Job::Reload);
                    }
                    Err(e @ crate::service::ServiceError::NoSuchVersion { .. }) => {
                        report(vec![e.to_string()], true)
                    }
                    Err(e) => report(vec![format!("{e} (/model lists the versions)")], true),
                }
            } else {
                // A hub id or a directory: the worker loads it (downloading with progress).
                let _ = jobs.send(Job::Load(name));
            }
        }
    }
}

/// The language model for examples, loaded on first use and kept: (name, generator).
pub(super) type LmSlot = Arc<std::sync::Mutex<Option<(String, crate::generate::Generator)>>>;

/// Makes sure `slot` holds the LM `spec` (downloading with progress to `tx`).
fn ensure_lm(
    slot: &mut Option<(String, crate::generate::Generator)>,
    spec: &str,
    tx: &Sender<Event>,
    cancel: &AtomicBool,
) -> Result<(), LoadError> {
    if slot.as_ref().is_some_and(|(n, _)| n == spec) {
        return Ok(());
    }
    let mut relay = download_relay(tx);
    let (files, _) = crate::hub::resolve_lm(
        spec,
        &crate::hub::HubOptions::from_env(),
        &mut relay,
        cancel,
    )
    .map_err(|source| LoadError::LmResolve {
        name: spec.to_string(),
        source: Box::new(source),
    })?;
    let summary = files.config.summary();
    let g = crate::generate::Generator::new(files).map_err(|source| LoadError::Lm {
        name: spec.to_string(),
        source: Box::new(source),
    })?;
    *slot = Some((spec.to_string(), g));
    let _ = tx.send(Event::Worker(WorkerMsg::LmLoaded {
        name: spec.to_string(),
        summary,
    }));
    Ok(())
}

/// Runs `/examples` (and `/lm`) on a thread of its own, streaming to `tx`.
pub(super) fn spawn_lm_job(
    job: LmJob,
    slot: &LmSlot,
    dir: Option<PathBuf>,
    tx: &Sender<Event>,
    cancel: &Arc<AtomicBool>,
) {
    cancel.store(false, Ordering::SeqCst);
    let (slot, tx, cancel) = (slot.clone(), tx.clone(), cancel.clone());
    let done_tx = tx.clone();
    let spawned = std::thread::Builder::new()
        .name("fenci-lm".into())
        .spawn(move || {
            let mut guard = match slot.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            match job {
                LmJob::Load(spec) => {
                    if let Err(e) = ensure_lm(&mut guard, &spec, &tx, &cancel) {
                        let _ = tx.send(Event::Worker(WorkerMsg::Report {
                            lines: vec![e.to_string()],
                            error: true,
                        }));
                    }
                }
                LmJob::Examples {
                    word,
                    n,
                    lm,
                    sampling,
                    level,
                } => {
                    let r = ensure_lm(&mut guard, &lm, &tx, &cancel)
                        .map_err(|e| e.to_string())
                        .and_then(|()| {
                            let Some((_, g)) = guard.as_mut() else {
                                return Err("the language model is not loaded".to_string());
                            };
                            let ex_tx = tx.clone();
                            let seg = crate::annotate::builtin_segmenter()?;
                            let judge = crate::annotate::ExampleJudge::new(
                                seg,
                                Dictionary::embedded(),
                                level,
                            );
                            let level_text = level.map(|l| format!("HSK {l}"));
                            let mut ask = crate::generate::Ask::new(&word, n).prompts(dir.as_deref());
                            if let Some(l) = &level_text {
                                ask = ask.level(l);
                            }
                            g.examples_judged(
                                &ask,
                                &sampling,
                                &judge,
                                &cancel,
                                |ev| {
                                    let _ = ex_tx.send(Event::Worker(WorkerMsg::Example(ev)));
                                },
                            )
                            .map_err(|e| examples_error(&e))
                        });
                    let msg = r.map(|(sentences, st)| {
                        let stopped = if cancel.load(Ordering::Relaxed) {
                            " (stopped)"
                        } else {
                            ""
                        };
                        format!(
                            "{} sentence{}{stopped} · {} tokens · first token {:.0} ms · {:.0} tokens/s",
                            sentences.len(),
                            if sentences.len() == 1 { "" } else { "s" },
                            st.tokens,
                            st.first_token_s * 1000.0,
                            st.tokens_per_s()
                        )
                    });
                    let _ = tx.send(Event::Worker(WorkerMsg::ExamplesDone(msg)));
                }
            }
        });
    if spawned.is_err() {
        let _ = done_tx.send(Event::Worker(WorkerMsg::ExamplesDone(Err(
            "could not start the generation thread".into(),
        ))));
    }
}
