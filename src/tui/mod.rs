//! The interactive app: `fenci` with no subcommand.
//!
//! One UI thread owns the terminal and the [`app::App`]; an input thread forwards key and paste
//! events; a worker thread loads the model and the dictionary and segments sentences, reporting
//! back over the same channel. The UI never blocks on the model. See `app` (state machine),
//! `view` (drawing), `input` (line editor) and `commands` (slash commands).

pub mod app;
pub mod commands;
pub mod input;
pub mod view;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{self as cev, KeyEventKind};

use crate::explain::{self, Dictionary};
use crate::model::ModelFiles;
use crate::segment::Segmenter;
use crate::store::{self, History, Settings};

use app::{Action, App, DictOp, Event, ModelInfo, TurnData, WorkerMsg};

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
}

/// Segments and explains one sentence: what a turn shows.
pub fn analyse(seg: &Segmenter, dict: &Dictionary, text: &str) -> Result<TurnData, String> {
    let s = seg.segment(text).map_err(|e| e.to_string())?;
    let explanations = s
        .words
        .iter()
        .map(|w| explain::explain(dict, &w.text))
        .collect();
    let alternatives = s.alternatives(seg.model().labels(), 2);
    let names = explain::names_across(dict, &s.word_strs());
    Ok(TurnData {
        seg: s,
        explanations,
        alternatives,
        names,
    })
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
) -> Result<(Segmenter, ModelInfo), String> {
    let (name, files, dict) = match (spec, dir) {
        (Some(s), _) => {
            let mut relay = download_relay(tx);
            let r = crate::hub::resolve_with(s, opts, &mut relay, cancel)
                .map_err(|e| format!("cannot load model `{s}`: {e}"))?;
            if let Some(note) = r.licence_note() {
                let _ = tx.send(Event::Worker(WorkerMsg::Report {
                    lines: vec![note],
                    error: false,
                }));
            }
            (s.to_string(), r.files, vec![])
        }
        (None, Some(d)) => {
            let (name, files) = crate::train::load_active(d).map_err(|e| {
                format!("cannot load the active model version: {e} (/model default switches back)")
            })?;
            (name, files, store::UserDict::load(d))
        }
        (None, None) => (
            "default".to_string(),
            ModelFiles::embedded().map_err(|e| e.to_string())?,
            vec![],
        ),
    };
    let mut seg = Segmenter::new(&files).map_err(|e| format!("cannot load model `{name}`: {e}"))?;
    seg.set_dict(dict);
    let info = ModelInfo {
        name,
        summary: model_summary(&files),
        scheme: seg.model().labels().clone(),
    };
    Ok((seg, info))
}

/// The worker: loads the model (then the dictionary), then serves jobs until the channel closes.
/// `cancel` makes it answer the queued sentences with "cancelled" and stops a download.
pub fn worker(
    spec: Option<String>,
    dir: Option<PathBuf>,
    opts: crate::hub::HubOptions,
    jobs: Receiver<Job>,
    tx: Sender<Event>,
    cancel: Arc<AtomicBool>,
) {
    let mut spec = spec;
    let load = |spec: Option<&str>| load_segmenter(spec, dir.as_deref(), &opts, &tx, &cancel);
    let mut seg = match load(spec.as_deref()) {
        Ok((seg, info)) => {
            let _ = tx.send(Event::Worker(WorkerMsg::ModelLoaded(info)));
            Some(seg)
        }
        Err(e) => {
            let _ = tx.send(Event::Worker(WorkerMsg::ModelFailed(e)));
            None
        }
    };
    let dict = Dictionary::embedded();
    while let Ok(job) = jobs.recv() {
        match job {
            Job::Reload | Job::Load(_) => {
                let target = match job {
                    Job::Load(s) => Some(s),
                    _ => None,
                };
                match load(target.as_deref()) {
                    Ok((s, info)) => {
                        seg = Some(s);
                        spec = target;
                        let _ = tx.send(Event::Worker(WorkerMsg::ModelLoaded(info)));
                    }
                    Err(e) => {
                        let _ = tx.send(Event::Worker(WorkerMsg::Report {
                            lines: vec![format!("{e} — the current model stays active")],
                            error: true,
                        }));
                    }
                }
                let _ = &spec;
            }
            Job::SetDict(words) => {
                if let Some(s) = seg.as_mut() {
                    s.set_dict(words);
                }
            }
            Job::Segment(lines) => {
                for (id, text) in lines {
                    let result = match &seg {
                        _ if cancel.load(Ordering::SeqCst) => Err("cancelled".to_string()),
                        Some(s) => analyse(s, dict, &text).map(Box::new),
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
        // Once the queue is drained, a cancel has done its work.
        if matches!(jobs.try_recv(), Err(mpsc::TryRecvError::Empty)) {
            cancel.store(false, Ordering::SeqCst);
        }
    }
}

/// Performs the actions that touch the data directory (corrections, dictionary, versions),
/// reporting the outcome as a worker message. Training runs on a thread of its own.
fn perform(
    action: Action,
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
    match action {
        Action::SaveCorrection {
            words,
            model_output,
        } => match store::CorrectionStore::new(dir).append(words, model_output, model_name) {
            Ok(c) => report(
                vec![format!(
                    "correction #{} saved: {} — /train teaches it to the model",
                    c.id,
                    c.words.join(" ")
                )],
                false,
            ),
            Err(e) => report(vec![format!("could not save the correction: {e}")], true),
        },
        Action::ListCorrections => match store::CorrectionStore::new(dir).load() {
            Ok(l) => {
                let trained = store::Versions::new(dir).trained_ids();
                let mut lines: Vec<String> = l
                    .records
                    .iter()
                    .map(|c| {
                        let mark = if trained.contains(&c.id) {
                            "trained"
                        } else {
                            "new    "
                        };
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
        Action::Dict(op) => {
            let res = match &op {
                DictOp::List => Ok(String::new()),
                DictOp::Add(w) => store::UserDict::add(dir, w).map(|new| {
                    if new {
                        format!("added {w}")
                    } else {
                        format!("{w} is already in your dictionary")
                    }
                }),
                DictOp::Remove(w) => store::UserDict::remove(dir, w).map(|had| {
                    if had {
                        format!("removed {w}")
                    } else {
                        format!("{w} is not in your dictionary")
                    }
                }),
            };
            match res {
                Ok(msg) => {
                    let words = store::UserDict::load(dir);
                    let mut lines = Vec::new();
                    if !msg.is_empty() {
                        lines.push(msg);
                    }
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
        Action::Train => {
            train_cancel.store(false, Ordering::SeqCst);
            let (ttx, jobs, cancel, dir) = (
                tx.clone(),
                jobs.clone(),
                train_cancel.clone(),
                dir.to_path_buf(),
            );
            let spawned = std::thread::Builder::new()
                .name("fenci-train".into())
                .spawn(move || {
                    let progress_tx = ttx.clone();
                    let r = crate::train::train_on_corrections(
                        &dir,
                        &crate::train::AdaptConfig::default(),
                        5,
                        &cancel,
                        |p| {
                            if let crate::train::Progress::Step {
                                step, total, loss, ..
                            } = p
                            {
                                let _ = progress_tx.send(Event::Worker(WorkerMsg::TrainProgress {
                                    step,
                                    total,
                                    loss,
                                }));
                            }
                        },
                    );
                    let msg = match r {
                        Ok(rep) if rep.cancelled => Err(format!(
                            "training cancelled: the active model is still {}",
                            rep.parent
                        )),
                        Ok(rep) => {
                            let _ = jobs.send(Job::Reload);
                            let mut lines = rep.lines();
                            lines.push(format!("/undo returns to {}", rep.parent));
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
        Action::Undo => match store::Versions::new(dir).undo() {
            Ok((was, now)) => {
                report(vec![format!("active model: {now} (was {was})")], false);
                let _ = jobs.send(Job::Reload);
            }
            Err(e) => report(vec![format!("cannot undo: {e}")], true),
        },
        Action::ListModels => {
            let v = store::Versions::new(dir);
            let active = v.active();
            let mut lines = vec![format!(
                "{} default — the built-in model",
                if active == "default" { "*" } else { " " }
            )];
            for m in v.list() {
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
        Action::SwitchModel(name) => {
            let versions = store::Versions::new(dir);
            let is_version =
                name == "default" || versions.path(&name).join("config.json").is_file();
            if is_version && !name.contains('/') {
                match versions.set_active(&name) {
                    Ok(()) => {
                        report(vec![format!("active model: {name}")], false);
                        let _ = jobs.send(Job::Reload);
                    }
                    Err(e) => report(vec![format!("{e} (/model lists the versions)")], true),
                }
            } else {
                // A hub id or a directory: the worker loads it (downloading with progress).
                let _ = jobs.send(Job::Load(name));
            }
        }
        _ => {}
    }
}

/// The language model for examples, loaded on first use and kept: (name, generator).
type LmSlot = Arc<std::sync::Mutex<Option<(String, crate::generate::Generator)>>>;

/// Makes sure `slot` holds the LM `spec` (downloading with progress to `tx`).
fn ensure_lm(
    slot: &mut Option<(String, crate::generate::Generator)>,
    spec: &str,
    tx: &Sender<Event>,
    cancel: &AtomicBool,
) -> Result<(), String> {
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
    .map_err(|e| format!("cannot load the language model `{spec}`: {e}"))?;
    let summary = files.config.summary();
    let g = crate::generate::Generator::new(files)
        .map_err(|e| format!("cannot load the language model `{spec}`: {e}"))?;
    *slot = Some((spec.to_string(), g));
    let _ = tx.send(Event::Worker(WorkerMsg::LmLoaded {
        name: spec.to_string(),
        summary,
    }));
    Ok(())
}

/// Runs `/examples` (and `/lm`) on a thread of its own, streaming to `tx`.
fn spawn_lm_job(
    action: Action,
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
            match action {
                Action::LoadLm(spec) => {
                    if let Err(e) = ensure_lm(&mut guard, &spec, &tx, &cancel) {
                        let _ = tx.send(Event::Worker(WorkerMsg::Report {
                            lines: vec![e],
                            error: true,
                        }));
                    }
                }
                Action::Examples {
                    word,
                    n,
                    lm,
                    sampling,
                } => {
                    let r = ensure_lm(&mut guard, &lm, &tx, &cancel).and_then(|()| {
                        let (_, g) = guard.as_mut().expect("loaded");
                        let ex_tx = tx.clone();
                        g.examples(&crate::generate::Ask::new(&word, n).prompts(dir.as_deref()), &sampling, &cancel, |ev| {
                                let _ = ex_tx.send(Event::Worker(WorkerMsg::Example(ev)));
                            },
                        )
                        .map_err(|e| e.to_string())
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
                _ => {}
            }
        });
    if spawned.is_err() {
        let _ = done_tx.send(Event::Worker(WorkerMsg::ExamplesDone(Err(
            "could not start the generation thread".into(),
        ))));
    }
}

/// Restores the terminal even when the app panics.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = ratatui::crossterm::execute!(std::io::stdout(), cev::DisableBracketedPaste);
        ratatui::restore();
    }
}

/// Runs the interactive app until the user quits. `model` overrides the saved model setting.
pub fn run(model: Option<String>) -> anyhow::Result<()> {
    let dir: Option<PathBuf> = store::data_dir().ok();
    let (mut settings, warning) = match &dir {
        Some(d) => Settings::load(d),
        None => (Settings::default(), None),
    };
    let spec = model.clone();
    if let Some(m) = model {
        settings.model = m;
    }
    let history = dir.as_deref().map(History::load).unwrap_or_default();
    let mut app = App::new(settings.clone(), history);
    app.notice = warning.or_else(|| {
        dir.is_none().then(|| {
            "no data directory (set FENCI_HOME): history and settings are not saved".into()
        })
    });

    let (tx, rx) = mpsc::channel::<Event>();
    let (job_tx, job_rx) = mpsc::channel::<Job>();
    let cancel = Arc::new(AtomicBool::new(false));
    let train_cancel = Arc::new(AtomicBool::new(false));
    let lm_cancel = Arc::new(AtomicBool::new(false));
    let lm_slot: LmSlot = Arc::default();
    {
        let (tx, cancel, spec, dir) = (tx.clone(), cancel.clone(), spec, dir.clone());
        std::thread::Builder::new()
            .name("fenci-worker".into())
            .spawn(move || {
                worker(
                    spec,
                    dir,
                    crate::hub::HubOptions::from_env(),
                    job_rx,
                    tx,
                    cancel,
                )
            })?;
    }
    let mut terminal = ratatui::init();
    let _guard = TerminalGuard;
    ratatui::crossterm::execute!(std::io::stdout(), cev::EnableBracketedPaste)?;
    {
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("fenci-input".into())
            .spawn(move || loop {
                let ev = match cev::read() {
                    Ok(cev::Event::Key(k)) if k.kind != KeyEventKind::Release => Event::Key(k),
                    Ok(cev::Event::Paste(s)) => Event::Paste(s),
                    Ok(cev::Event::Resize(..)) => Event::Resize,
                    Ok(_) => continue,
                    Err(_) => return,
                };
                if tx.send(ev).is_err() {
                    return;
                }
            })?;
    }
    let theme = view::Theme::from_env();
    loop {
        terminal.draw(|f| view::render(&app, f, &theme))?;
        let first = match rx.recv_timeout(Duration::from_millis(120)) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => Event::Tick,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        // Handle everything already queued before drawing again.
        let mut events = vec![first];
        events.extend(rx.try_iter());
        for ev in events {
            for action in app.update(ev) {
                match action {
                    Action::Quit => {}
                    Action::Segment(lines) => {
                        if job_tx.send(Job::Segment(lines)).is_err() {
                            app.notice = Some("the worker stopped; restart fenci".into());
                        }
                    }
                    Action::Cancel => cancel.store(true, Ordering::SeqCst),
                    Action::SaveSettings(s) => {
                        if let Some(d) = &dir {
                            if let Err(e) = s.save(d) {
                                app.notice = Some(format!("could not save settings: {e}"));
                            }
                        }
                    }
                    Action::AppendHistory(l) => {
                        if let Some(d) = &dir {
                            let _ = History::append(d, &l);
                        }
                    }
                    Action::WriteFile { path, contents } => {
                        if let Err(e) = store::write_file_atomic(&path, contents.as_bytes()) {
                            app.notice = Some(format!("could not write {}: {e}", path.display()));
                        }
                    }
                    Action::CancelTrain => train_cancel.store(true, Ordering::SeqCst),
                    Action::CancelExamples => lm_cancel.store(true, Ordering::SeqCst),
                    a @ (Action::Examples { .. } | Action::LoadLm(_)) => {
                        spawn_lm_job(a, &lm_slot, dir.clone(), &tx, &lm_cancel)
                    }
                    other => {
                        let name = app
                            .model
                            .as_ref()
                            .map(|m| m.name.clone())
                            .unwrap_or_default();
                        perform(other, dir.as_deref(), &name, &tx, &job_tx, &train_cancel);
                    }
                }
            }
        }
        if app.quitting {
            break;
        }
    }
    Ok(())
}
