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

use app::{Action, App, Event, ModelInfo, TurnData, WorkerMsg};

/// Work for the segmentation worker.
#[derive(Debug)]
pub enum Job {
    /// Segment and explain these sentences (turn id, text).
    Segment(Vec<(u64, String)>),
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
    Ok(TurnData {
        seg: s,
        explanations,
        alternatives,
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

/// The worker: loads the model (then the dictionary), then serves jobs until the channel closes.
/// `cancel` makes it answer the queued sentences with "cancelled".
pub fn worker(spec: String, jobs: Receiver<Job>, tx: Sender<Event>, cancel: Arc<AtomicBool>) {
    let loaded = crate::model::resolve(&spec)
        .map_err(|e| format!("{e}"))
        .and_then(|files| {
            let seg = Segmenter::new(&files).map_err(|e| e.to_string())?;
            Ok((files, seg))
        });
    let seg = match loaded {
        Ok((files, seg)) => {
            let _ = tx.send(Event::Worker(WorkerMsg::ModelLoaded(ModelInfo {
                name: spec.clone(),
                summary: model_summary(&files),
                scheme: seg.model().labels().clone(),
            })));
            seg
        }
        Err(e) => {
            let _ = tx.send(Event::Worker(WorkerMsg::ModelFailed(format!(
                "cannot load model `{spec}`: {e}"
            ))));
            return;
        }
    };
    let dict = Dictionary::embedded();
    while let Ok(job) = jobs.recv() {
        match job {
            Job::Segment(lines) => {
                for (id, text) in lines {
                    let result = if cancel.load(Ordering::SeqCst) {
                        Err("cancelled".to_string())
                    } else {
                        analyse(&seg, dict, &text)
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
    {
        let (tx, cancel, spec) = (tx.clone(), cancel.clone(), settings.model.clone());
        std::thread::Builder::new()
            .name("fenci-worker".into())
            .spawn(move || worker(spec, job_rx, tx, cancel))?;
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
                }
            }
        }
        if app.quitting {
            break;
        }
    }
    Ok(())
}
