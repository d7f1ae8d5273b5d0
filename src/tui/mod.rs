//! The interactive app: `fenci` with no subcommand.
//!
//! One UI thread owns the terminal and the [`app::App`]; an input thread forwards key and paste
//! events; a worker thread loads the model and the dictionary and segments sentences, reporting
//! back over the same channel. The UI never blocks on the model. See `app` (state machine),
//! `view` (drawing), `input` (line editor) and `commands` (slash commands).

pub mod app;
pub mod commands;
pub mod input;
pub mod tones;
pub mod view;

pub mod worker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{self as cev, KeyEventKind};

use crate::store::{self, History, Settings};

use app::{Action, App, Event, WorkerMsg};

pub use worker::{
    analyse, load_segmenter, model_summary, save_transcript, worker, Job, LmJob, LoadError,
    SaveError,
};
use worker::{perform, spawn_lm_job, LmSlot};

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
    let warning = warning.or_else(|| {
        dir.as_deref()
            .and_then(|d| store::Versions::new(d).active_problem())
    });
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
                    Ok(cev::Event::Resize(w, h)) => Event::Resize(w, h),
                    Ok(_) => continue,
                    Err(_) => return,
                };
                if tx.send(ev).is_err() {
                    return;
                }
            })?;
    }
    let theme = view::Theme::from_env();
    if let Ok(size) = terminal.size() {
        app.update(Event::Resize(size.width, size.height));
    }
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
                    Action::Explain { id, words } => {
                        let _ = job_tx.send(Job::Explain { id, words });
                    }
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
                    Action::WriteFile {
                        path,
                        contents,
                        overwrite,
                    } => {
                        let msg = match save_transcript(
                            &path.to_string_lossy(),
                            &contents,
                            dir.as_deref(),
                            overwrite,
                        ) {
                            Ok(p) => WorkerMsg::Saved(p),
                            Err(SaveError::Exists(p)) => WorkerMsg::SaveExists(p),
                            Err(e) => WorkerMsg::Report {
                                lines: vec![format!("nothing was saved: {e}")],
                                error: true,
                            },
                        };
                        let _ = tx.send(Event::Worker(msg));
                    }
                    Action::CancelTrain => train_cancel.store(true, Ordering::SeqCst),
                    Action::CancelExamples => lm_cancel.store(true, Ordering::SeqCst),
                    Action::LoadLm(spec) => {
                        spawn_lm_job(LmJob::Load(spec), &lm_slot, dir.clone(), &tx, &lm_cancel)
                    }
                    Action::Examples {
                        word,
                        n,
                        lm,
                        sampling,
                        level,
                    } => spawn_lm_job(
                        LmJob::Examples {
                            word,
                            n,
                            lm,
                            sampling,
                            level,
                        },
                        &lm_slot,
                        dir.clone(),
                        &tx,
                        &lm_cancel,
                    ),
                    Action::OpenDocument(path) => {
                        if job_tx.send(Job::Open(path)).is_err() {
                            // No answer will come: no progress to show.
                            app.opening = None;
                            app.notice = Some("the worker stopped; restart fenci".into());
                        }
                    }
                    Action::SaveDocument(doc) => {
                        let _ = job_tx.send(Job::SaveDocument(doc));
                    }
                    Action::Requeue(doc) => {
                        if job_tx.send(Job::Requeue(doc)).is_err() {
                            app.requeuing = None;
                            app.notice = Some("the worker stopped; restart fenci".into());
                        }
                    }
                    Action::Data(data) => {
                        let name = app
                            .model
                            .as_ref()
                            .map(|m| m.name.clone())
                            .unwrap_or_default();
                        perform(data, dir.as_deref(), &name, &tx, &job_tx, &train_cancel);
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
