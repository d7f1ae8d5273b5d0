//! The App state machine: events in, state changes and [`Action`]s out. No terminal, no threads,
//! no files: the runner (`tui::run`) performs the actions, workers answer with [`WorkerMsg`]s,
//! and `tui::view` draws the state. Everything here is testable with plain values.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::explain::Explanation;
use crate::model::LabelScheme;
use crate::segment::Segmentation;
use crate::store::Settings;

use super::commands::{self, COMMANDS};
use super::input::LineEditor;

/// Everything the App reacts to.
#[derive(Debug, Clone)]
pub enum Event {
    /// A key press.
    Key(KeyEvent),
    /// Pasted text (bracketed paste).
    Paste(String),
    /// The terminal was resized.
    Resize,
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

/// A segmented and explained sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnData {
    /// The segmentation.
    pub seg: Segmentation,
    /// One explanation per word.
    pub explanations: Vec<Explanation>,
    /// The next-best segmentations with their probability.
    pub alternatives: Vec<(Vec<String>, f32)>,
    /// Adjacent words that together are a listed personal name (习 近平 → 习近平), with the
    /// name's explanation (see [`crate::explain::names_across`]).
    pub names: Vec<(std::ops::Range<usize>, Explanation)>,
}

/// What workers send back.
#[derive(Debug, Clone)]
pub enum WorkerMsg {
    /// The model is ready.
    ModelLoaded(ModelInfo),
    /// The model could not be loaded.
    ModelFailed(String),
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
    /// One sentence of a job is done (or failed).
    Turn {
        /// The turn it answers.
        id: u64,
        /// The result (boxed: it is much larger than the other messages).
        result: Result<Box<TurnData>, String>,
    },
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
    /// Save a correction of a turn's sentence.
    SaveCorrection {
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
    },
    /// Stop generating.
    CancelExamples,
    /// Load another language model for examples.
    LoadLm(String),
    /// Return to the previous model version.
    Undo,
    /// List the model versions.
    ListModels,
    /// Make a version (or `default`) the active model.
    SwitchModel(String),
    /// Write a file (e.g. `/save`); the runner reports failure as a notice.
    WriteFile {
        /// Where.
        path: PathBuf,
        /// What.
        contents: String,
    },
}

/// A change to the user dictionary.
#[derive(Debug, Clone, PartialEq)]
pub enum DictOp {
    /// Show the words.
    List,
    /// Add a word.
    Add(String),
    /// Remove a word.
    Remove(String),
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
        id
    }

    /// Handles one event.
    pub fn update(&mut self, ev: Event) -> Vec<Action> {
        match ev {
            Event::Tick => {
                self.tick = self.tick.wrapping_add(1);
                vec![]
            }
            Event::Resize => vec![],
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
                self.model = Some(info);
                self.model_error = None;
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
            WorkerMsg::Report { lines, error } => {
                if error {
                    self.download = None;
                    self.error("", lines.join("\n"));
                } else {
                    self.info("", lines);
                }
            }
            WorkerMsg::TrainProgress { step, total, loss } => {
                self.training = Some((step, total, loss));
            }
            WorkerMsg::TrainDone(r) => {
                self.training = None;
                match r {
                    Ok(lines) => self.info("/train", lines),
                    Err(e) => self.error("/train", e),
                }
            }
            WorkerMsg::Turn { id, result } => {
                // Results for turns that no longer exist (after /clear) are dropped.
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
            E::Done { index, sentence } => {
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

    fn paste(&mut self, text: &str) -> Vec<Action> {
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.len() <= 1 && !text.contains('\n') {
            self.input.insert(text);
            return vec![];
        }
        // Multi-line paste: each line is a sentence of its own.
        let mut jobs = Vec::new();
        for l in lines {
            let id = self.push_turn(l.to_string(), TurnBody::Pending);
            jobs.push((id, l.to_string()));
        }
        if jobs.is_empty() {
            vec![]
        } else {
            vec![Action::Segment(jobs)]
        }
    }

    fn key(&mut self, k: KeyEvent) -> Vec<Action> {
        // Ctrl-C: cancel a job, else clear the line, else (twice) quit.
        if ctrl(&k, 'c') {
            if self.pending() > 0 || self.training.is_some() || self.download.is_some() {
                self.notice = Some("cancelled".into());
                self.quit_armed = false;
                return self.cancel_actions();
            }
            if !self.input.is_empty() {
                self.input.clear();
                self.quit_armed = false;
                return vec![];
            }
            if self.quit_armed {
                self.quitting = true;
                return vec![Action::Quit];
            }
            self.quit_armed = true;
            self.notice = Some("press Ctrl-C again to quit".into());
            return vec![];
        }
        self.quit_armed = false;
        if !matches!(k.code, KeyCode::Tab) {
            self.completions.clear();
        }
        match self.mode {
            Mode::Edit(t, c) => self.edit_key(k, t, c),
            Mode::Detail(t, w) => {
                if matches!(k.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                    self.mode = Mode::Inspect(t, w);
                }
                vec![]
            }
            Mode::Inspect(t, w) => {
                self.inspect_key(k, t, w);
                vec![]
            }
            Mode::Normal => self.normal_key(k),
        }
    }

    fn words_in(&self, turn: usize) -> usize {
        match self.turns.get(turn).map(|t| &t.body) {
            Some(TurnBody::Done(d)) => d.seg.words.len(),
            _ => 0,
        }
    }

    fn inspectable(&self) -> Vec<usize> {
        (0..self.turns.len())
            .filter(|&i| self.words_in(i) > 0)
            .collect()
    }

    fn inspect_key(&mut self, k: KeyEvent, t: usize, w: usize) {
        let n = self.words_in(t);
        let turns = self.inspectable();
        let pos = turns.iter().position(|&x| x == t).unwrap_or(0);
        match k.code {
            KeyCode::Esc => self.mode = Mode::Normal,
            KeyCode::Enter => self.mode = Mode::Detail(t, w),
            KeyCode::Char('e') => self.start_edit(t),
            KeyCode::Right | KeyCode::Tab | KeyCode::Char('l') if n > 0 => {
                self.mode = Mode::Inspect(t, (w + 1) % n)
            }
            KeyCode::Left | KeyCode::BackTab | KeyCode::Char('h') if n > 0 => {
                self.mode = Mode::Inspect(t, (w + n - 1) % n)
            }
            KeyCode::Up | KeyCode::Char('k') if pos > 0 => {
                let nt = turns[pos - 1];
                self.mode = Mode::Inspect(nt, w.min(self.words_in(nt) - 1));
            }
            KeyCode::Down | KeyCode::Char('j') if pos + 1 < turns.len() => {
                let nt = turns[pos + 1];
                self.mode = Mode::Inspect(nt, w.min(self.words_in(nt) - 1));
            }
            _ => {}
        }
    }

    fn normal_key(&mut self, k: KeyEvent) -> Vec<Action> {
        let alt = k.modifiers.contains(KeyModifiers::ALT);
        let ctl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Enter => return self.submit(),
            KeyCode::Esc => {
                self.notice = None;
                if self.pending() > 0
                    || self.training.is_some()
                    || self.download.is_some()
                    || self.generating.is_some()
                {
                    return self.cancel_actions();
                }
            }
            KeyCode::Tab => self.tab(),
            KeyCode::BackTab => {}
            KeyCode::Up => self.input.history_prev(),
            KeyCode::Down => self.input.history_next(),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_add(10),
            KeyCode::PageDown => self.scroll = self.scroll.saturating_sub(10),
            KeyCode::Left if self.demo && self.input.is_empty() => {}
            KeyCode::Right if self.demo && self.input.is_empty() => self.reveal_next(),
            KeyCode::Char(' ') if self.demo && self.input.is_empty() => self.reveal_next(),
            KeyCode::Left => self.input.left(),
            KeyCode::Right => self.input.right(),
            KeyCode::Home => self.input.home(),
            KeyCode::End => self.input.end(),
            KeyCode::Backspace => self.input.backspace(),
            KeyCode::Delete => self.input.delete(),
            KeyCode::Char(c) if ctl => match c {
                'a' => self.input.home(),
                'e' => self.input.end(),
                'b' => self.input.left(),
                'f' => self.input.right(),
                'k' => self.input.kill_to_end(),
                'u' => self.input.kill_to_start(),
                'w' => self.input.kill_word_back(),
                'd' => self.input.delete(),
                'h' => self.input.backspace(),
                'p' => self.input.history_prev(),
                'n' => self.input.history_next(),
                'l' => self.scroll = 0,
                _ => {}
            },
            KeyCode::Char(_) if alt => {}
            KeyCode::Char(c) => {
                self.input.insert(&c.to_string());
                self.notice = None;
            }
            _ => {}
        }
        vec![]
    }

    fn tab(&mut self) {
        let line = self.input.text();
        if line.starts_with('/') {
            let (completed, cands) = commands::complete(&line);
            if cands.is_empty() {
                self.notice = Some(format!("no command starts with {line}"));
            }
            if let Some(c) = completed {
                self.input.set(&c);
            }
            self.completions = if cands.len() > 1 { cands } else { vec![] };
            return;
        }
        if let Some(&last) = self.inspectable().last() {
            self.mode = Mode::Inspect(last, 0);
        } else {
            self.notice = Some("nothing to inspect yet: type a sentence first".into());
        }
    }

    fn reveal_next(&mut self) {
        if let Some(t) = self
            .turns
            .iter_mut()
            .rev()
            .find(|t| matches!(t.body, TurnBody::Done(_)))
        {
            let n = match &t.body {
                TurnBody::Done(d) => d.seg.words.len(),
                _ => 0,
            };
            let r = t.revealed.unwrap_or(n);
            t.revealed = Some((r + 1).min(n));
        }
    }

    fn submit(&mut self) -> Vec<Action> {
        let line = self.input.submit();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            if self.demo {
                self.reveal_next();
            }
            return vec![];
        }
        let mut actions = vec![Action::AppendHistory(line.clone())];
        if trimmed.starts_with('/') {
            actions.extend(self.command(trimmed));
        } else {
            let id = self.push_turn(trimmed.to_string(), TurnBody::Pending);
            actions.push(Action::Segment(vec![(id, trimmed.to_string())]));
        }
        actions
    }

    /// Adds an informational turn (the outcome of a command).
    pub fn info(&mut self, input: &str, lines: Vec<String>) {
        self.push_turn(input.to_string(), TurnBody::Info(lines));
    }

    /// Adds an error turn.
    pub fn error(&mut self, input: &str, msg: String) {
        self.push_turn(input.to_string(), TurnBody::Error(msg));
    }

    fn command(&mut self, line: &str) -> Vec<Action> {
        let parsed = match commands::parse(line) {
            Ok(p) => p,
            Err(e) => {
                self.error(line, e.to_string());
                return vec![];
            }
        };
        let name = parsed.spec.name;
        let arg = parsed.args.first().map(String::as_str);
        if !parsed.spec.available {
            self.error(
                line,
                format!("/{name} is not available yet — {}", parsed.spec.summary),
            );
            return vec![];
        }
        match name {
            "help" => {
                let lines = match arg {
                    None => {
                        let mut v: Vec<String> = COMMANDS
                            .iter()
                            .map(|c| {
                                let sig = format!("/{} {}", c.name, c.args);
                                let soon = if c.available { "" } else { " (coming)" };
                                format!("{sig:<22} {}{soon}", c.summary)
                            })
                            .collect();
                        v.push(String::new());
                        v.push("Type a sentence to segment it. Tab: inspect words (←/→, Enter for the dictionary entry). ↑/↓: history. PgUp/PgDn: scroll. Ctrl-C: cancel / clear / quit.".into());
                        v
                    }
                    Some(a) => match commands::find(a.trim_start_matches('/')) {
                        Some(c) => vec![format!("/{} {}", c.name, c.args), c.detail.to_string()],
                        None => {
                            self.error(
                                line,
                                commands::ParseError::Unknown {
                                    name: a.trim_start_matches('/').to_string(),
                                    suggestions: commands::suggest(a.trim_start_matches('/')),
                                }
                                .to_string(),
                            );
                            return vec![];
                        }
                    },
                };
                self.info(line, lines);
                vec![]
            }
            "model" if arg.is_some() => {
                let target = arg.unwrap_or_default().to_string();
                self.info(
                    line,
                    vec![format!("switching to {target}… (Esc cancels a download)")],
                );
                vec![Action::SwitchModel(target)]
            }
            "model" => {
                let lines = match (&self.model, &self.model_error) {
                    (Some(m), _) => {
                        self.info(line, vec![format!("model: {} · {}", m.name, m.summary)]);
                        return vec![Action::ListModels];
                    }
                    (None, Some(e)) => vec![format!("model failed to load: {e}")],
                    (None, None) => vec![format!("model: {} (loading…)", self.settings.model)],
                };
                self.info(line, lines);
                vec![]
            }
            "explain" => match arg {
                Some(l @ ("full" | "brief" | "off")) => {
                    self.settings.explain = l.to_string();
                    self.info(line, vec![format!("explanations: {l}")]);
                    vec![Action::SaveSettings(self.settings.clone())]
                }
                _ => {
                    self.error(line, "usage: /explain full|brief|off".into());
                    vec![]
                }
            },
            "demo" => {
                self.demo = !self.demo;
                let msg = if self.demo {
                    "teaching mode on: type a sentence, then press Space or → to reveal each word; /demo to leave"
                } else {
                    "teaching mode off"
                };
                if !self.demo {
                    for t in &mut self.turns {
                        t.revealed = None;
                    }
                }
                self.info(line, vec![msg.into()]);
                vec![]
            }
            "temp" => {
                self.number_setting(line, arg, "temperature", 0.0, 2.0, |s, v| s.temperature = v)
            }
            "top-p" => self.number_setting(line, arg, "top-p", 0.0, 1.0, |s, v| s.top_p = v),
            "seed" => match arg.and_then(|a| a.parse::<u64>().ok()) {
                Some(v) => {
                    self.settings.seed = v;
                    self.info(line, vec![format!("seed: {v}")]);
                    vec![Action::SaveSettings(self.settings.clone())]
                }
                None => {
                    self.error(line, "usage: /seed N (a whole number ≥ 0)".into());
                    vec![]
                }
            },
            "save" => match arg {
                Some(_) => {
                    let path = line
                        .trim()
                        .trim_start_matches('/')
                        .trim_start_matches("save")
                        .trim();
                    let contents = self.markdown();
                    self.info(line, vec![format!("saved the transcript to {path}")]);
                    vec![Action::WriteFile {
                        path: PathBuf::from(path),
                        contents,
                    }]
                }
                None => {
                    self.error(line, "usage: /save FILE (e.g. /save lesson.md)".into());
                    vec![]
                }
            },
            "fix" => {
                let Some(t) = self.last_done() else {
                    self.error(line, "nothing to fix yet: type a sentence first".into());
                    return vec![];
                };
                if parsed.args.is_empty() {
                    self.error(line, "usage: /fix WORD WORD … (the right words of the last sentence, separated by spaces)".into());
                    return vec![];
                }
                self.fix(line, t, parsed.args.clone())
            }
            "edit" => {
                match self.last_done() {
                    Some(t) => self.start_edit(t),
                    None => self.error(line, "nothing to edit yet: type a sentence first".into()),
                }
                vec![]
            }
            "corrections" => vec![Action::ListCorrections],
            "dict" => match (arg, parsed.args.get(1)) {
                (None, _) | (Some("list"), None) => vec![Action::Dict(DictOp::List)],
                (Some("add"), Some(w)) => vec![Action::Dict(DictOp::Add(w.clone()))],
                (Some("rm" | "remove"), Some(w)) => vec![Action::Dict(DictOp::Remove(w.clone()))],
                _ => {
                    self.error(line, "usage: /dict, /dict add WORD, /dict rm WORD".into());
                    vec![]
                }
            },
            "train" => {
                if self.training.is_some() {
                    self.error(line, "already training — /cancel stops it".into());
                    return vec![];
                }
                self.training = Some((0, 0, f32::NAN));
                self.info(
                    line,
                    vec![
                        "training on your corrections in the background… (Esc or /cancel stops it)"
                            .into(),
                    ],
                );
                vec![Action::Train]
            }
            "cancel" => {
                if self.pending() == 0
                    && self.training.is_none()
                    && self.download.is_none()
                    && self.generating.is_none()
                {
                    self.info(line, vec!["nothing to cancel".into()]);
                    return vec![];
                }
                self.cancel_actions()
            }
            "examples" => {
                if self.generating.is_some() {
                    self.error(
                        line,
                        "already writing examples — Esc or /cancel stops them".into(),
                    );
                    return vec![];
                }
                let Some(word) = arg.map(str::to_string) else {
                    self.error(
                        line,
                        "usage: /examples WORD [N] (e.g. /examples 希望 3)".into(),
                    );
                    return vec![];
                };
                let n = match parsed.args.get(1).map(|a| a.parse::<usize>()) {
                    None => 3,
                    Some(Ok(n)) if (1..=20).contains(&n) => n,
                    Some(_) => {
                        self.error(line, "N must be a number from 1 to 20".into());
                        return vec![];
                    }
                };
                let sampling = crate::generate::Sampling {
                    temperature: self.settings.temperature,
                    top_p: self.settings.top_p,
                    seed: self.settings.seed,
                    ..Default::default()
                };
                let header = self.push_turn(
                    line.to_string(),
                    TurnBody::Info(vec![format!(
                        "{n} example{} with {word} · LM {} · T {} · top-p {} · seed {}",
                        if n == 1 { "" } else { "s" },
                        self.settings.lm,
                        sampling.temperature,
                        sampling.top_p,
                        sampling.seed
                    )]),
                );
                self.generating = Some((header, Vec::new()));
                vec![Action::Examples {
                    word,
                    n,
                    lm: self.settings.lm.clone(),
                    sampling,
                }]
            }
            "lm" => match arg {
                Some(spec) => {
                    self.info(
                        line,
                        vec![format!(
                            "loading the language model {spec}… (Esc cancels a download)"
                        )],
                    );
                    vec![Action::LoadLm(spec.to_string())]
                }
                None => {
                    let now = match &self.lm {
                        Some((name, summary)) => format!("language model: {name} · {summary}"),
                        None => format!(
                            "language model: {} (loaded on the first /examples)",
                            self.settings.lm
                        ),
                    };
                    self.info(
                        line,
                        vec![
                            now,
                            "/lm ID switches: default (built in), a directory, or a hub id such as Qwen/Qwen2.5-0.5B-Instruct".into(),
                        ],
                    );
                    vec![]
                }
            },
            "undo" => vec![Action::Undo],
            "clear" => {
                self.turns.clear();
                self.mode = Mode::Normal;
                self.scroll = 0;
                vec![]
            }
            "quit" => {
                self.quitting = true;
                vec![Action::Quit]
            }
            _ => vec![],
        }
    }

    fn cancel_actions(&mut self) -> Vec<Action> {
        let mut v = Vec::new();
        if self.pending() > 0 || self.download.is_some() {
            v.push(Action::Cancel);
        }
        if self.training.is_some() {
            v.push(Action::CancelTrain);
        }
        // A download may be the language model's (/lm, or the first /examples).
        if self.generating.is_some() || self.download.is_some() {
            v.push(Action::CancelExamples);
        }
        v
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

    /// Checks corrected words against turn `t`'s sentence and, if they match, saves them.
    fn fix(&mut self, line: &str, t: usize, words: Vec<String>) -> Vec<Action> {
        let Some(d) = self.turn_data(t) else {
            return vec![];
        };
        let sentence: String = d.seg.text.chars().filter(|c| !c.is_whitespace()).collect();
        let joined: String = words.concat();
        if joined != sentence {
            let a: Vec<char> = sentence.chars().collect();
            let b: Vec<char> = joined.chars().collect();
            let at = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            let what = match (a.get(at), b.get(at)) {
                (Some(x), Some(y)) => format!(
                    "character {} is {x} in the sentence but {y} in the fix",
                    at + 1
                ),
                (Some(_), None) => {
                    format!("the fix stops after {} of {} characters", b.len(), a.len())
                }
                (None, Some(_)) => format!(
                    "the fix has {} characters, the sentence {}",
                    b.len(),
                    a.len()
                ),
                (None, None) => String::new(),
            };
            self.error(
                line,
                format!(
                    "refused: the words spell {joined} but the sentence is {sentence} — {what}"
                ),
            );
            return vec![];
        }
        let model_output: Vec<String> = d.seg.word_strs().into_iter().map(str::to_string).collect();
        vec![Action::SaveCorrection {
            words,
            model_output,
        }]
    }

    fn start_edit(&mut self, t: usize) {
        let Some(d) = self.turn_data(t) else { return };
        let n = d.seg.text.chars().count();
        let mut starts = vec![false; n];
        for w in &d.seg.words {
            if w.chars.start < n {
                starts[w.chars.start] = true;
            }
        }
        let first = d.seg.words.first().map(|w| w.chars.start).unwrap_or(0);
        self.edit_starts = starts;
        self.mode = Mode::Edit(t, first);
    }

    /// The words the boundary editor currently describes for turn `t`.
    pub fn edited_words(&self, t: usize) -> Vec<String> {
        let Some(d) = self.turn_data(t) else {
            return vec![];
        };
        let mut words: Vec<String> = Vec::new();
        let mut new_word = true;
        for (i, c) in d.seg.text.chars().enumerate() {
            if c.is_whitespace() {
                new_word = true;
                continue;
            }
            if new_word || self.edit_starts.get(i).copied().unwrap_or(false) {
                words.push(String::new());
                new_word = false;
            }
            if let Some(w) = words.last_mut() {
                w.push(c);
            }
        }
        words
    }

    fn edit_key(&mut self, k: KeyEvent, t: usize, c: usize) -> Vec<Action> {
        let n = self.edit_starts.len();
        match k.code {
            KeyCode::Esc => self.mode = Mode::Normal,
            KeyCode::Left | KeyCode::Char('h') => self.mode = Mode::Edit(t, c.saturating_sub(1)),
            KeyCode::Right | KeyCode::Char('l') => {
                self.mode = Mode::Edit(t, (c + 1).min(n.saturating_sub(1)))
            }
            KeyCode::Home => self.mode = Mode::Edit(t, 0),
            KeyCode::End => self.mode = Mode::Edit(t, n.saturating_sub(1)),
            KeyCode::Char(' ') if c > 0 && c < n => {
                self.edit_starts[c] = !self.edit_starts[c];
            }
            KeyCode::Enter => {
                self.mode = Mode::Normal;
                let words = self.edited_words(t);
                return self.fix("/edit", t, words);
            }
            _ => {}
        }
        vec![]
    }

    fn number_setting(
        &mut self,
        line: &str,
        arg: Option<&str>,
        what: &str,
        lo: f64,
        hi: f64,
        set: impl FnOnce(&mut Settings, f64),
    ) -> Vec<Action> {
        match arg.and_then(|a| a.parse::<f64>().ok()) {
            Some(v) if v.is_finite() && v >= lo && v <= hi && !(what == "top-p" && v == 0.0) => {
                set(&mut self.settings, v);
                self.info(line, vec![format!("{what}: {v}")]);
                vec![Action::SaveSettings(self.settings.clone())]
            }
            _ => {
                let range = if what == "top-p" {
                    "0 < P ≤ 1".to_string()
                } else {
                    format!("{lo} to {hi}")
                };
                self.error(
                    line,
                    format!(
                        "usage: /{} VALUE with VALUE {range}",
                        if what == "temperature" { "temp" } else { what }
                    ),
                );
                vec![]
            }
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
                                .map(|w| w.join(" + "))
                                .unwrap_or_default(),
                            e.word,
                            e.pinyin,
                            e.gloss
                        ));
                    }
                    out.push('\n');
                }
                TurnBody::Info(lines) => {
                    out.push_str(&format!("> {}\n\n", t.input));
                    for l in lines {
                        out.push_str(&format!("    {l}\n"));
                    }
                    out.push('\n');
                }
                TurnBody::Error(e) => out.push_str(&format!("> {}\n\n*error: {e}*\n\n", t.input)),
                TurnBody::Pending | TurnBody::Cancelled | TurnBody::Streaming => {}
            }
        }
        out
    }
}
