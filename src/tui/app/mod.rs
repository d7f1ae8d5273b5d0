//! The App state machine: events in, state changes and [`Action`]s out. No terminal, no threads,
//! no files: the runner (`tui::run`) performs the actions, workers answer with [`WorkerMsg`]s,
//! and `tui::view` draws the state. Everything here is testable with plain values.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::explain::Explanation;
use crate::segment::Segmentation;
use crate::store::{Explain, Settings};
use crate::tagger::LabelScheme;

use super::input::LineEditor;

mod keys;
mod review;
mod slash;

/// Everything the App reacts to.
#[derive(Debug, Clone)]
pub enum Event {
    /// A key press.
    Key(KeyEvent),
    /// Pasted text (bracketed paste).
    Paste(String),
    /// The terminal's size (columns, rows): at start and whenever it changes. The App keeps the
    /// inspected word on screen with it.
    Resize(u16, u16),
    /// Time passed (spinner, notices).
    Tick,
    /// A worker reported.
    Worker(WorkerMsg),
}

/// Facts about the loaded model, for `/model` and the status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// Name as the user gave it (`default`, a path …).
    pub name: String,
    /// One-line description: layers × hidden, labels, vocabulary.
    pub summary: String,
    /// The label scheme, for alternatives.
    pub scheme: LabelScheme,
}

/// A segmented and explained sentence (see [`crate::annotate::Annotated`]).
pub type TurnData = crate::annotate::Annotated;

/// What workers send back.
#[derive(Debug, Clone)]
pub enum WorkerMsg {
    /// The model is ready.
    ModelLoaded(ModelInfo),
    /// The model could not be loaded.
    ModelFailed(String),
    /// The transcript was written to this file.
    Saved(PathBuf),
    /// `/save` was given a file that exists; nothing was written.
    SaveExists(PathBuf),
    /// A correction is on disk ([`DataAction::SaveCorrection`]): its turn, the words saved and
    /// the lines to show.
    CorrectionSaved {
        /// The turn it corrects.
        turn: u64,
        /// The words saved.
        words: Vec<String>,
        /// What to tell the user.
        lines: Vec<String>,
    },
    /// A message for the transcript (the outcome of a command the runner performed).
    Report {
        /// The lines.
        lines: Vec<String>,
        /// Whether it reports a failure.
        error: bool,
    },
    /// Training made progress.
    TrainProgress {
        /// Steps done.
        step: usize,
        /// Steps planned.
        total: usize,
        /// Loss of the last step.
        loss: f32,
    },
    /// A model file is downloading.
    Download {
        /// The file.
        file: String,
        /// Bytes so far.
        done: u64,
        /// Its size.
        total: u64,
    },
    /// Training ended (`Ok(lines)` to show, or an error).
    TrainDone(Result<Vec<String>, String>),
    /// Training was cancelled; the active model (named) did not change.
    TrainCancelled(String),
    /// The explanations of a corrected turn's words (answering [`Action::Explain`]).
    Explained {
        /// The turn.
        id: u64,
        /// One per word.
        explanations: Vec<Explanation>,
        /// Names and set phrases across words (see [`TurnData::names`]).
        names: Vec<(std::ops::Range<usize>, Explanation)>,
    },
    /// Example generation streamed text, finished or dropped an example.
    Example(crate::generate::ExampleEvent),
    /// Example generation ended: a summary line, or an error.
    ExamplesDone(Result<String, String>),
    /// A language model is loaded (its name, one line about it).
    LmLoaded {
        /// As the user named it.
        name: String,
        /// Architecture and size.
        summary: String,
    },
    /// Opening a text: sentences segmented so far, of all.
    DocProgress {
        /// Done.
        done: usize,
        /// All.
        total: usize,
    },
    /// A text is open (or why not; `"cancelled"` when the reader cancelled).
    DocOpened(Result<Box<DocOpened>, String>),
    /// Re-queuing the open text with a new model: sentences segmented so far, of all.
    RequeueProgress {
        /// Done.
        done: usize,
        /// All.
        total: usize,
    },
    /// The open text as the new model queues it (answering [`Action::Requeue`]), or why not
    /// (`"cancelled"` when the reader cancelled).
    Requeued(Result<Box<crate::document::Document>, String>),
    /// The segmenter's dictionary changed (`/dict add`, `/dict rm`): the open text is queued
    /// again with it.
    DictChanged,
    /// Corrections the active version was not trained on: said after every model load.
    Waiting(usize),
    /// One sentence of a job is done (or failed).
    Turn {
        /// The turn it answers.
        id: u64,
        /// The result (boxed: it is much larger than the other messages).
        result: Result<Box<TurnData>, String>,
    },
}

/// A text opened for review, as the worker answers `/open`.
#[derive(Debug, Clone, PartialEq)]
pub struct DocOpened {
    /// The document.
    pub doc: crate::document::Document,
    /// Whether it was saved before (the reader continues).
    pub resumed: bool,
    /// Corrections the active model was not trained on yet (`None` without a data directory).
    pub waiting: Option<usize>,
    /// Something the reader should know (e.g. it could not be saved).
    pub warning: Option<String>,
}

/// What the App asks the runner to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Leave the app.
    Quit,
    /// Segment these sentences, each answering the turn with that id.
    Segment(Vec<(u64, String)>),
    /// Cancel the running job.
    Cancel,
    /// Persist the settings.
    SaveSettings(Settings),
    /// Add a line to the persistent history.
    AppendHistory(String),
    /// Stop the training run.
    CancelTrain,
    /// Generate example sentences with the language model named `lm`.
    Examples {
        /// The word.
        word: String,
        /// How many.
        n: usize,
        /// The LM (`default`, a directory or a hub id).
        lm: String,
        /// Sampling settings.
        sampling: crate::generate::Sampling,
        /// Prefer sentences at or below this HSK level (`--level N`).
        level: Option<u8>,
    },
    /// Stop generating.
    CancelExamples,
    /// Load another language model for examples.
    LoadLm(String),
    /// Explain these words of turn `id` (after a correction changed them): the worker answers
    /// [`WorkerMsg::Explained`].
    Explain {
        /// The turn.
        id: u64,
        /// Its words.
        words: Vec<String>,
    },
    /// Work on the user's data directory (done through [`crate::service`]).
    Data(DataAction),
    /// Open a text for review (`/open`): the worker answers [`WorkerMsg::DocProgress`] and
    /// [`WorkerMsg::DocOpened`].
    OpenDocument(PathBuf),
    /// Save the open document (after the reader answered for a sentence).
    SaveDocument(Box<crate::document::Document>),
    /// Queue the open document's sentences not answered yet again with the loaded model: the
    /// worker answers [`WorkerMsg::RequeueProgress`] and [`WorkerMsg::Requeued`].
    Requeue(Box<crate::document::Document>),
    /// Write the transcript (`/save`): the runner answers [`WorkerMsg::Saved`],
    /// [`WorkerMsg::SaveExists`] or an error report.
    WriteFile {
        /// Where, as typed (`~/` is expanded by the runner).
        path: PathBuf,
        /// What.
        contents: String,
        /// Replace an existing file (`/save!`).
        overwrite: bool,
    },
}

/// What the App asks of the user's data: corrections, dictionary, training, versions.
#[derive(Debug, Clone, PartialEq)]
pub enum DataAction {
    /// Save a correction of a turn's sentence: answered by [`WorkerMsg::CorrectionSaved`], or
    /// an error report.
    SaveCorrection {
        /// The turn it corrects.
        turn: u64,
        /// The corrected words.
        words: Vec<String>,
        /// What the model said.
        model_output: Vec<String>,
    },
    /// List the stored corrections.
    ListCorrections,
    /// Change or list the user dictionary.
    Dict(DictOp),
    /// Start training on the corrections in the background.
    Train,
    /// Return to the previous model version.
    Undo,
    /// List the model versions.
    ListModels,
    /// Make a version (or `default`) the active model.
    SwitchModel(String),
}

/// A change to the user dictionary.
#[derive(Debug, Clone, PartialEq)]
pub enum DictOp {
    /// Show the words.
    List,
    /// Add every word, or none (see [`crate::service::Service::dict_add_words`]).
    Add {
        /// The words.
        words: Vec<String>,
        /// Add one-character words too (`/dict add!`).
        force: bool,
    },
    /// Remove words.
    Remove(Vec<String>),
}

/// What a turn shows.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnBody {
    /// Waiting for the worker.
    Pending,
    /// Segmented and explained.
    Done(Box<TurnData>),
    /// Cancelled before it ran.
    Cancelled,
    /// An error, in words that say what to do.
    Error(String),
    /// Output of a command (e.g. `/help`).
    Info(Vec<String>),
    /// A generated example still being written (its text is the turn's input).
    Streaming,
}

/// One exchange in the transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// Identifier (worker results carry it).
    pub id: u64,
    /// What the user typed.
    pub input: String,
    /// The answer.
    pub body: TurnBody,
    /// In teaching mode: how many words are revealed.
    pub revealed: Option<usize>,
}

/// Which part of the screen has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Mode {
    /// Typing sentences and commands.
    Normal,
    /// Selecting a word (turn index, word index).
    Inspect(usize, usize),
    /// A word's full dictionary entry is open.
    Detail(usize, usize),
    /// The boundary editor on a turn: cursor (char index) and, per char, whether a word
    /// starts there.
    Edit(usize, usize),
    /// A sentence of `/review` (its turn's id: turns can be removed while it waits) waits for
    /// the reader's answer.
    Review(u64),
}

/// The whole UI state.
#[derive(Debug, Clone)]
pub struct App {
    /// The transcript, oldest first.
    pub turns: Vec<Turn>,
    /// The input line.
    pub input: LineEditor,
    /// Persisted settings.
    pub settings: Settings,
    /// The loaded model, once ready.
    pub model: Option<ModelInfo>,
    /// Why the model failed to load.
    pub model_error: Option<String>,
    /// Keyboard focus.
    pub mode: Mode,
    /// Teaching mode.
    pub demo: bool,
    /// Lines scrolled up from the bottom of the transcript.
    pub scroll: usize,
    /// A short message in the status bar.
    pub notice: Option<String>,
    /// Ctrl-C was pressed once on an empty line.
    pub quit_armed: bool,
    /// Ticks seen (spinner).
    pub tick: u64,
    /// Candidates of the last Tab completion.
    pub completions: Vec<&'static str>,
    /// Set when `/quit` or Ctrl-C Ctrl-C asked to leave.
    pub quitting: bool,
    /// Training in the background: (step, total, loss).
    pub training: Option<(usize, usize, f32)>,
    /// Word starts per character of the turn in the boundary editor.
    pub edit_starts: Vec<bool>,
    /// A model download in progress: (file, bytes done, bytes total).
    pub download: Option<(String, u64, u64)>,
    /// Examples being generated: the header turn's id and the example turns so far.
    pub generating: Option<(u64, Vec<u64>)>,
    /// The language model for examples, once one is loaded (name, summary).
    pub lm: Option<(String, String)>,
    /// The terminal's size (columns, rows), once known.
    pub size: Option<(u16, u16)>,
    /// The turn of the command whose outcome the runner reports next (its `›` line shows the
    /// command, the report its result).
    reply_to: Option<u64>,
    /// The `/train` turn of the running training.
    train_turn: Option<u64>,
    /// The text open for review (`/open`).
    pub doc: Option<Box<crate::document::Document>>,
    /// A text being opened: (sentences segmented, of all).
    pub opening: Option<(usize, usize)>,
    /// The open text being re-queued with a new model: (sentences segmented, of all).
    pub requeuing: Option<(usize, usize)>,
    /// Corrections the active version was not trained on yet, once known (the worker says after
    /// every model load and at `/open`).
    pub waiting: Option<usize>,
    /// The sentence under review: its turn's id and its index in the document.
    reviewing: Option<(u64, usize)>,
    /// The last page `/doc` showed.
    doc_page: usize,
    next_id: u64,
}

fn ctrl(k: &KeyEvent, c: char) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char(c)
}

impl App {
    /// A fresh App with persisted settings and history.
    pub fn new(settings: Settings, history: Vec<String>) -> Self {
        Self {
            turns: Vec::new(),
            input: LineEditor::with_history(history),
            settings,
            model: None,
            model_error: None,
            mode: Mode::Normal,
            demo: false,
            scroll: 0,
            notice: None,
            quit_armed: false,
            tick: 0,
            completions: Vec::new(),
            quitting: false,
            training: None,
            edit_starts: Vec::new(),
            download: None,
            generating: None,
            lm: None,
            size: None,
            reply_to: None,
            train_turn: None,
            doc: None,
            opening: None,
            requeuing: None,
            waiting: None,
            reviewing: None,
            doc_page: 0,
            next_id: 1,
        }
    }

    /// Number of turns still waiting for the worker.
    pub fn pending(&self) -> usize {
        self.turns
            .iter()
            .filter(|t| t.body == TurnBody::Pending)
            .count()
    }

    fn push_turn(&mut self, input: String, body: TurnBody) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.turns.push(Turn {
            id,
            input,
            body,
            revealed: None,
        });
        self.scroll = 0;
        self.reply_to = None;
        id
    }

    /// Adds the turn of a command whose outcome the runner reports (see [`App::reply`]).
    fn command_turn(&mut self, line: &str, lines: Vec<String>) -> u64 {
        let id = self.push_turn(line.to_string(), TurnBody::Info(lines));
        self.reply_to = Some(id);
        id
    }

    /// Shows a command's outcome under the command (its turn from [`App::command_turn`]), or,
    /// when no command waits, as a turn of its own without a `›` line.
    fn reply(&mut self, lines: Vec<String>, error: bool) {
        if let Some(id) = self.reply_to.take() {
            if let Some(t) = self.turns.iter_mut().find(|t| t.id == id) {
                match (&mut t.body, error) {
                    (_, true) => t.body = TurnBody::Error(lines.join("\n")),
                    (TurnBody::Info(v), false) => v.extend(lines),
                    (b, false) => *b = TurnBody::Info(lines),
                }
                return;
            }
        }
        let body = if error {
            TurnBody::Error(lines.join("\n"))
        } else {
            TurnBody::Info(lines)
        };
        self.push_turn(String::new(), body);
    }

    /// Shows the end of training under `/train` when that is still the last turn, else as a
    /// turn of its own (so `/train` is not echoed twice).
    fn training_ended(&mut self, body: TurnBody) {
        let id = self.train_turn.take();
        let last = self.turns.last().map(|t| t.id);
        match id {
            Some(id) if last == Some(id) => {
                if let Some(t) = self.turns.last_mut() {
                    t.body = body;
                }
            }
            _ => {
                self.push_turn(String::new(), body);
            }
        }
    }

    /// Handles one event.
    pub fn update(&mut self, ev: Event) -> Vec<Action> {
        match ev {
            Event::Tick => {
                self.tick = self.tick.wrapping_add(1);
                vec![]
            }
            Event::Resize(w, h) => {
                self.size = Some((w, h));
                self.follow_selection();
                vec![]
            }
            Event::Paste(text) => self.paste(&text),
            Event::Worker(msg) => self.worker(msg),
            Event::Key(k) => self.key(k),
        }
    }

    fn worker(&mut self, msg: WorkerMsg) -> Vec<Action> {
        match msg {
            WorkerMsg::Example(ev) => return self.example_event(ev),
            WorkerMsg::ExamplesDone(r) => {
                self.download = None;
                if let Some((header, turns)) = self.generating.take() {
                    // Whatever was still being written when it stopped.
                    for id in turns {
                        if let Some(t) = self.turns.iter_mut().find(|t| t.id == id) {
                            if t.body == TurnBody::Streaming {
                                t.body = TurnBody::Cancelled;
                            }
                        }
                    }
                    if let Some(t) = self.turns.iter_mut().find(|t| t.id == header) {
                        match (&mut t.body, r) {
                            (TurnBody::Info(lines), Ok(summary)) => lines.push(summary),
                            (body, Err(e)) => *body = TurnBody::Error(e),
                            _ => {}
                        }
                    }
                } else if let Err(e) = r {
                    self.error("/examples", e);
                }
            }
            WorkerMsg::LmLoaded { name, summary } => {
                self.download = None;
                let changed = self.settings.lm != name;
                self.lm = Some((name.clone(), summary));
                if changed {
                    self.settings.lm = name;
                    return vec![Action::SaveSettings(self.settings.clone())];
                }
            }
            WorkerMsg::Download { file, done, total } => {
                self.download = Some((file, done, total));
            }
            WorkerMsg::ModelLoaded(info) => {
                self.download = None;
                let asked = self
                    .reply_to
                    .and_then(|id| self.turns.iter().find(|t| t.id == id))
                    .is_some_and(|t| t.input.starts_with("/model"));
                if asked {
                    // The answer to `/model ID`.
                    self.reply(
                        vec![format!("active model: {} · {}", info.name, info.summary)],
                        false,
                    );
                }
                self.model = Some(info);
                self.model_error = None;
                return self.requeue_if_stale();
            }
            WorkerMsg::ModelFailed(e) => {
                self.download = None;
                self.model_error = Some(e.clone());
                for t in self
                    .turns
                    .iter_mut()
                    .filter(|t| t.body == TurnBody::Pending)
                {
                    t.body = TurnBody::Error(e.clone());
                }
            }
            WorkerMsg::Saved(path) => {
                self.reply(
                    vec![format!("saved the transcript to {}", path.display())],
                    false,
                );
            }
            WorkerMsg::SaveExists(path) => {
                let p = path.display();
                self.reply(
                    vec![format!(
                        "{p} exists and was left as it is — /save! {p} replaces it"
                    )],
                    false,
                );
            }
            WorkerMsg::Report { lines, error } => {
                if error {
                    self.download = None;
                }
                self.reply(lines, error);
            }
            WorkerMsg::CorrectionSaved { turn, words, lines } => {
                self.reply(lines, false);
                // One more waits for /train; under /review it answers for the sentence; the
                // turn is redrawn with the saved words.
                if let Some(n) = &mut self.waiting {
                    *n += 1;
                }
                let answered = self.review_answer(turn, &words);
                let mut actions = self.show_correction(turn, words);
                actions.extend(answered);
                return actions;
            }
            WorkerMsg::TrainCancelled(parent) => {
                self.training = None;
                self.training_ended(TurnBody::Info(vec![format!(
                    "training cancelled; nothing changed (the active model is still {parent})"
                )]));
            }
            WorkerMsg::Explained {
                id,
                explanations,
                names,
            } => {
                if let Some(TurnBody::Done(d)) = self
                    .turns
                    .iter_mut()
                    .find(|t| t.id == id)
                    .map(|t| &mut t.body)
                {
                    let same = explanations.len() == d.seg.words.len()
                        && explanations
                            .iter()
                            .zip(&d.seg.words)
                            .all(|(e, w)| e.word == w.text);
                    if same {
                        d.explanations = explanations;
                        d.names = names;
                    }
                }
            }
            WorkerMsg::TrainProgress { step, total, loss } => {
                self.training = Some((step, total, loss));
            }
            WorkerMsg::TrainDone(r) => {
                // The corrections still waiting are counted once the new version is loaded
                // (WorkerMsg::Waiting).
                self.training = None;
                self.training_ended(match r {
                    Ok(lines) => TurnBody::Info(lines),
                    Err(e) => TurnBody::Error(e),
                });
            }
            WorkerMsg::DocProgress { done, total } => {
                if self.opening.is_some() {
                    self.opening = Some((done, total));
                }
            }
            WorkerMsg::DocOpened(r) => return self.doc_opened(r),
            WorkerMsg::RequeueProgress { done, total } => {
                if self.requeuing.is_some() {
                    self.requeuing = Some((done, total));
                }
            }
            WorkerMsg::Requeued(r) => return self.requeued(r),
            WorkerMsg::DictChanged => return self.requeue_for_dict(),
            WorkerMsg::Waiting(n) => self.waiting = Some(n),
            WorkerMsg::Turn { id, result } => {
                // Results for turns that no longer exist (after /clear) are dropped.
                if self.reviewing.is_some_and(|(r, _)| r == id) {
                    // The sentence under review is here: "still segmenting" is past.
                    self.notice = None;
                }
                if let Some(t) = self.turns.iter_mut().find(|t| t.id == id) {
                    if t.body == TurnBody::Pending {
                        t.body = match result {
                            Ok(d) => TurnBody::Done(d),
                            Err(e) if e == "cancelled" => TurnBody::Cancelled,
                            Err(e) => TurnBody::Error(e),
                        };
                        if self.demo {
                            t.revealed = Some(0);
                        }
                    }
                }
            }
        }
        vec![]
    }

    /// A streamed example: its text grows in its own turn; once complete it is segmented and
    /// explained like a typed sentence (and can be corrected the same way).
    fn example_event(&mut self, ev: crate::generate::ExampleEvent) -> Vec<Action> {
        use crate::generate::ExampleEvent as E;
        if self.generating.is_none() {
            return vec![];
        }
        match ev {
            E::Text { index, piece } => {
                let id = self.example_turn(index);
                if let Some(t) = self.turns.iter_mut().find(|t| t.id == id) {
                    t.input.push_str(&piece);
                }
                vec![]
            }
            E::Rejected { index } => {
                if let Some((_, v)) = &mut self.generating {
                    if index < v.len() {
                        let id = v.remove(index);
                        self.turns.retain(|t| t.id != id);
                    }
                }
                vec![]
            }
            ev @ E::Unsure { .. } => {
                // Said in the header turn, under the settings line.
                if let (Some((header, _)), Some(m)) = (&self.generating, ev.unsure_message()) {
                    let header = *header;
                    if let Some(t) = self.turns.iter_mut().find(|t| t.id == header) {
                        if let TurnBody::Info(lines) = &mut t.body {
                            lines.push(m);
                        }
                    }
                }
                vec![]
            }
            E::Done {
                index, sentence, ..
            } => {
                let id = self.example_turn(index);
                if let Some(t) = self.turns.iter_mut().find(|t| t.id == id) {
                    t.input = sentence.clone();
                    t.body = TurnBody::Pending;
                }
                vec![Action::Segment(vec![(id, sentence)])]
            }
        }
    }

    /// The turn of example `index` of the running generation, opened (streaming) if new.
    fn example_turn(&mut self, index: usize) -> u64 {
        if let Some(&id) = self.generating.as_ref().and_then(|(_, v)| v.get(index)) {
            return id;
        }
        let id = self.push_turn(String::new(), TurnBody::Streaming);
        if let Some((_, v)) = &mut self.generating {
            v.push(id);
        }
        id
    }

    /// Redraws turn `id` with the corrected `words` once the correction is saved; their
    /// explanations follow from the worker ([`Action::Explain`]).
    fn show_correction(&mut self, id: u64, words: Vec<String>) -> Vec<Action> {
        let Some(TurnBody::Done(d)) = self
            .turns
            .iter_mut()
            .find(|t| t.id == id)
            .map(|t| &mut t.body)
        else {
            return vec![];
        };
        let Some(seg) = corrected_segmentation(&d.seg, &words) else {
            return vec![];
        };
        let explanations = seg
            .words
            .iter()
            .map(|w| {
                d.seg
                    .words
                    .iter()
                    .position(|o| o.chars == w.chars)
                    .and_then(|k| d.explanations.get(k).cloned())
                    .unwrap_or_else(|| Explanation {
                        word: w.text.clone(),
                        pinyin: String::new(),
                        gloss: String::new(),
                        entries: vec![],
                        from_chars: false,
                        chars: vec![],
                        pos: None,
                        pos_unsure: false,
                        chosen: 0,
                        other_readings: vec![],
                        hsk: None,
                    })
            })
            .collect();
        let words: Vec<String> = seg.words.iter().map(|w| w.text.clone()).collect();
        **d = TurnData {
            seg,
            explanations,
            alternatives: vec![],
            names: vec![],
        };
        vec![Action::Explain { id, words }]
    }

    /// Adds an informational turn (the outcome of a command).
    pub fn info(&mut self, input: &str, lines: Vec<String>) {
        self.push_turn(input.to_string(), TurnBody::Info(lines));
    }

    /// Adds an error turn.
    pub fn error(&mut self, input: &str, msg: String) {
        self.push_turn(input.to_string(), TurnBody::Error(msg));
    }

    fn last_done(&self) -> Option<usize> {
        self.turns
            .iter()
            .rposition(|t| matches!(t.body, TurnBody::Done(_)))
    }

    fn turn_data(&self, t: usize) -> Option<&TurnData> {
        match self.turns.get(t).map(|t| &t.body) {
            Some(TurnBody::Done(d)) => Some(d),
            _ => None,
        }
    }

    /// The transcript as Markdown (for `/save`).
    pub fn markdown(&self) -> String {
        let mut out = String::from("# fenci transcript\n\n");
        for t in &self.turns {
            match &t.body {
                TurnBody::Done(d) => {
                    out.push_str(&format!("> {}\n\n", t.input));
                    out.push_str(&format!("**{}**\n\n", d.seg.word_strs().join(" / ")));
                    out.push_str("| word | pinyin | gloss |\n|---|---|---|\n");
                    for e in &d.explanations {
                        let gloss = if e.from_chars && !e.gloss.is_empty() {
                            format!("{} (from its characters)", e.gloss)
                        } else {
                            e.gloss.clone()
                        };
                        out.push_str(&format!(
                            "| {} | {} | {} |\n",
                            e.word,
                            e.pinyin,
                            gloss.replace('|', "\\|")
                        ));
                    }
                    for (r, e) in &d.names {
                        out.push_str(&format!(
                            "\n{} together: {} {}, {}\n",
                            d.seg
                                .word_strs()
                                .get(r.clone())
                                .map(|w| crate::explain::together_label(w, &e.word, " + "))
                                .unwrap_or_default(),
                            e.word,
                            e.pinyin,
                            e.gloss
                        ));
                    }
                    out.push('\n');
                }
                TurnBody::Info(lines) => {
                    // A report nobody typed a command for has no quoted input.
                    if !t.input.is_empty() {
                        out.push_str(&format!("> {}\n\n", t.input));
                    }
                    for l in lines {
                        out.push_str(&format!("    {l}\n"));
                    }
                    out.push('\n');
                }
                TurnBody::Error(e) if t.input.is_empty() => {
                    out.push_str(&format!("*error: {e}*\n\n"))
                }
                TurnBody::Error(e) => out.push_str(&format!("> {}\n\n*error: {e}*\n\n", t.input)),
                TurnBody::Pending | TurnBody::Cancelled | TurnBody::Streaming => {}
            }
        }
        out
    }
}

/// `seg` with its words replaced by the corrected `words` (the same characters, whitespace
/// aside): every boundary is the user's, certain and forced; `None` if the characters differ.
pub fn corrected_segmentation(seg: &Segmentation, words: &[String]) -> Option<Segmentation> {
    use crate::segment::Word;
    let chars: Vec<(usize, char)> = seg.text.char_indices().collect();
    let byte_at = |ci: usize| chars.get(ci).map(|&(b, _)| b).unwrap_or(seg.text.len());
    let mut out = Vec::new();
    let mut ci = 0;
    for w in words {
        let wanted: Vec<char> = w.chars().filter(|c| !c.is_whitespace()).collect();
        if wanted.is_empty() {
            continue;
        }
        while chars.get(ci).is_some_and(|(_, c)| c.is_whitespace()) {
            ci += 1;
        }
        let start = ci;
        let mut k = 0;
        while k < wanted.len() {
            let (_, c) = *chars.get(ci)?;
            if c.is_whitespace() {
                ci += 1;
                continue;
            }
            if c != wanted[k] {
                return None;
            }
            k += 1;
            ci += 1;
        }
        out.push(Word {
            text: seg.text[byte_at(start)..byte_at(ci)].to_string(),
            chars: start..ci,
            bytes: byte_at(start)..byte_at(ci),
        });
    }
    if chars[ci..].iter().any(|(_, c)| !c.is_whitespace()) {
        return None;
    }
    let starts: Vec<usize> = out.iter().map(|w| w.chars.start).collect();
    let out_len = out.len();
    let boundaries = seg
        .boundaries
        .iter()
        .map(|b| {
            let split = starts.contains(&b.at);
            crate::segment::Boundary {
                at: b.at,
                prob: if split { 1.0 } else { 0.0 },
                split,
                forced: true,
            }
        })
        .collect();
    Some(Segmentation {
        text: seg.text.clone(),
        words: out,
        boundaries,
        log_probs: seg.log_probs.clone(),
        units: seg.units.clone(),
        // The model tagged other words; the corrected ones have no tags.
        pos: vec![],
        // The user's own words: sure.
        word_probs: vec![1.0; out_len],
        temperature: seg.temperature,
        by_built_in: false,
    })
}
