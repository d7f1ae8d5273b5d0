//! Slash commands: what each [`Cmd`] does to the App and asks of the runner. One exhaustive
//! match, so a command in the table without a handler does not compile.

use std::path::PathBuf;

use super::*;
use crate::tui::commands::{self, Cmd, COMMANDS};

/// A command's argument as the rest of its line, spaces kept (a path may hold them): what
/// follows `/name` or `/name!`.
fn rest_of_line(line: &str) -> &str {
    line.trim()
        .trim_start_matches('/')
        .trim_start_matches(|c: char| c.is_alphabetic())
        .trim_start_matches('!')
        .trim()
}

impl App {
    pub(super) fn command(&mut self, line: &str) -> Vec<Action> {
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
        match parsed.spec.cmd {
            Cmd::Help => {
                let lines = match arg {
                    None => {
                        // One column for every signature (the view indents wrapped summaries
                        // under their column).
                        let sigs: Vec<String> = COMMANDS
                            .iter()
                            .map(|c| format!("/{} {}", c.name, c.args).trim_end().to_string())
                            .collect();
                        let col = sigs
                            .iter()
                            .map(|s| crate::tui::view::width(s))
                            .max()
                            .unwrap_or(0);
                        let mut v: Vec<String> = COMMANDS
                            .iter()
                            .zip(&sigs)
                            .map(|(c, sig)| {
                                let soon = if c.available { "" } else { " (coming)" };
                                let pad = " ".repeat(col - crate::tui::view::width(sig));
                                format!("{sig}{pad}  {}{soon}", c.summary)
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
            Cmd::Model if arg.is_some() => {
                let target = arg.unwrap_or_default().to_string();
                self.command_turn(
                    line,
                    vec![format!("switching to {target}… (Esc cancels a download)")],
                );
                vec![Action::Data(DataAction::SwitchModel(target))]
            }
            Cmd::Model => {
                let lines = match (&self.model, &self.model_error) {
                    (Some(m), _) => {
                        let now = format!("model: {} · {}", m.name, m.summary);
                        self.command_turn(line, vec![now]);
                        return vec![Action::Data(DataAction::ListModels)];
                    }
                    (None, Some(e)) => vec![format!("model failed to load: {e}")],
                    (None, None) => vec![format!("model: {} (loading…)", self.settings.model)],
                };
                self.info(line, lines);
                vec![]
            }
            Cmd::Explain => match arg.and_then(Explain::from_name) {
                Some(l) => {
                    self.settings.explain = l;
                    self.info(line, vec![format!("explanations: {l}")]);
                    vec![Action::SaveSettings(self.settings.clone())]
                }
                _ => {
                    self.error(line, "usage: /explain full|brief|off".into());
                    vec![]
                }
            },
            Cmd::Demo => {
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
            Cmd::Tones => {
                let on = match arg {
                    Some("on") => true,
                    Some("off") => false,
                    None => !self.settings.tone_colours,
                    Some(_) => {
                        self.error(line, "usage: /tones on|off".into());
                        return vec![];
                    }
                };
                self.settings.tone_colours = on;
                let msg = match (on, std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())) {
                    (true, true) => "tone colours: on (not shown while NO_COLOR is set)",
                    (true, false) => "tone colours: on — 1st tone red, 2nd green, 3rd blue, 4th purple, neutral grey (Pleco's colours)",
                    (false, _) => "tone colours: off",
                };
                self.info(line, vec![msg.into()]);
                vec![Action::SaveSettings(self.settings.clone())]
            }
            Cmd::Temp => self.number_setting(
                line,
                arg,
                "temperature",
                "/temp T",
                crate::generate::parse_temperature,
                |s, v| s.temperature = v,
            ),
            Cmd::TopP => self.number_setting(
                line,
                arg,
                "top-p",
                "/top-p P",
                crate::generate::parse_top_p,
                |s, v| s.top_p = v,
            ),
            // At most i64::MAX: what settings.toml can hold.
            Cmd::Seed => match arg
                .and_then(|a| a.parse::<u64>().ok())
                .filter(|&v| v <= i64::MAX as u64)
            {
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
            Cmd::Save => match arg {
                Some(_) => {
                    let path = rest_of_line(line);
                    let contents = self.markdown();
                    // "saved" is shown when the runner has written it (WorkerMsg::Saved).
                    self.command_turn(line, vec![]);
                    vec![Action::WriteFile {
                        path: PathBuf::from(path),
                        contents,
                        overwrite: parsed.bang,
                    }]
                }
                None => {
                    self.error(line, "usage: /save FILE (e.g. /save lesson.md)".into());
                    vec![]
                }
            },
            Cmd::Fix => {
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
            Cmd::Edit => {
                match self.last_done() {
                    Some(t) => self.start_edit(t, None),
                    None => self.error(line, "nothing to edit yet: type a sentence first".into()),
                }
                vec![]
            }
            Cmd::Open => match arg {
                Some(_) => self.open(line, rest_of_line(line)),
                None => {
                    self.error(
                        line,
                        "usage: /open FILE (a text, one sentence a line)".into(),
                    );
                    vec![]
                }
            },
            Cmd::Review => self.review(line),
            Cmd::Doc => self.doc_page(line, arg),
            Cmd::Corrections => {
                self.command_turn(line, vec![]);
                vec![Action::Data(DataAction::ListCorrections)]
            }
            Cmd::Dict => {
                let words: Vec<String> = parsed.args.iter().skip(1).cloned().collect();
                let op = match (arg, words.is_empty()) {
                    (None, _) | (Some("list"), true) => DictOp::List,
                    // `/dict add! 一`: add one-character words too (the service asks otherwise).
                    (Some(a @ ("add" | "add!")), false) => DictOp::Add {
                        words,
                        force: a == "add!" || parsed.bang,
                    },
                    (Some("rm" | "remove"), false) => DictOp::Remove(words),
                    _ => {
                        self.error(
                            line,
                            "usage: /dict, /dict add WORD …, /dict add! CHARACTER, /dict rm WORD …"
                                .into(),
                        );
                        return vec![];
                    }
                };
                self.command_turn(line, vec![]);
                vec![Action::Data(DataAction::Dict(op))]
            }
            Cmd::Train => {
                if self.training.is_some() {
                    self.error(line, "already training — /cancel stops it".into());
                    return vec![];
                }
                self.training = Some((0, 0, f32::NAN));
                let id = self.push_turn(
                    line.to_string(),
                    TurnBody::Info(vec![
                        "training on your corrections in the background… (Esc or /cancel stops it)"
                            .into(),
                    ]),
                );
                self.train_turn = Some(id);
                vec![Action::Data(DataAction::Train)]
            }
            Cmd::Cancel => {
                if self.pending() == 0
                    && self.training.is_none()
                    && self.download.is_none()
                    && self.generating.is_none()
                    && self.opening.is_none()
                    && self.requeuing.is_none()
                {
                    self.info(line, vec!["nothing to cancel".into()]);
                    return vec![];
                }
                self.cancel_actions()
            }
            Cmd::Examples => {
                if self.generating.is_some() {
                    self.error(
                        line,
                        "already writing examples — Esc or /cancel stops them".into(),
                    );
                    return vec![];
                }
                let usage =
                    "usage: /examples WORD [N] [--level L] (e.g. /examples 希望 3 --level 2)";
                // `--level L` may come anywhere after the word.
                let mut args: Vec<&str> = parsed.args.iter().map(String::as_str).collect();
                let mut level = None;
                if let Some(at) = args.iter().position(|a| *a == "--level") {
                    match args.get(at + 1).map(|l| crate::generate::parse_level(l)) {
                        Some(Ok(l)) => level = Some(l),
                        Some(Err(e)) => {
                            self.error(line, e);
                            return vec![];
                        }
                        None => {
                            self.error(line, usage.into());
                            return vec![];
                        }
                    }
                    args.drain(at..at + 2);
                }
                let Some(word) = args.first().map(|w| w.to_string()) else {
                    self.error(line, usage.into());
                    return vec![];
                };
                if args.len() > 2 {
                    self.error(line, usage.into());
                    return vec![];
                }
                let n = match args.get(1).map(|a| crate::generate::parse_examples(a)) {
                    None => 3,
                    Some(Ok(n)) => n,
                    Some(Err(e)) => {
                        self.error(line, e);
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
                        "{n} example{} with {word}{} · LM {} · T {} · top-p {} · seed {}",
                        if n == 1 { "" } else { "s" },
                        level.map(|l| format!(" · HSK ≤ {l}")).unwrap_or_default(),
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
                    level,
                }]
            }
            Cmd::Lm => match arg {
                Some(spec) => {
                    self.command_turn(
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
            Cmd::Undo => {
                self.command_turn(line, vec![]);
                vec![Action::Data(DataAction::Undo)]
            }
            Cmd::Clear => {
                self.turns.clear();
                self.mode = Mode::Normal;
                self.scroll = 0;
                vec![]
            }
            Cmd::Quit => {
                self.quitting = true;
                vec![Action::Quit]
            }
        }
    }

    pub(super) fn cancel_actions(&mut self) -> Vec<Action> {
        let mut v = Vec::new();
        if self.pending() > 0
            || self.download.is_some()
            || self.opening.is_some()
            || self.requeuing.is_some()
        {
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

    /// Checks corrected words against turn `t`'s sentence (the rule of
    /// [`crate::service::fix_words`]: punctuation left out becomes words of its own) and, if
    /// they match, saves them; the turn is redrawn with them once saved.
    pub(super) fn fix(&mut self, line: &str, t: usize, words: Vec<String>) -> Vec<Action> {
        let Some(d) = self.turn_data(t) else {
            return vec![];
        };
        let words = match crate::service::fix_words(&d.seg.text, &words) {
            Ok(w) => w,
            Err(e) => {
                self.error(line, e.to_string());
                return vec![];
            }
        };
        let model_output: Vec<String> = d.seg.word_strs().into_iter().map(str::to_string).collect();
        let id = self.turns[t].id;
        self.command_turn(line, vec![]);
        vec![Action::Data(DataAction::SaveCorrection {
            turn: id,
            words,
            model_output,
        })]
    }

    /// A sampling setting: `parse` is the check the command line uses too, so both accept the
    /// same values and say the same when they do not.
    pub(super) fn number_setting(
        &mut self,
        line: &str,
        arg: Option<&str>,
        what: &str,
        usage: &str,
        parse: fn(&str) -> Result<f64, String>,
        set: impl FnOnce(&mut Settings, f64),
    ) -> Vec<Action> {
        match arg.map(parse) {
            Some(Ok(v)) => {
                set(&mut self.settings, v);
                self.info(line, vec![format!("{what}: {v}")]);
                vec![Action::SaveSettings(self.settings.clone())]
            }
            Some(Err(e)) => {
                self.error(line, e);
                vec![]
            }
            None => {
                self.error(line, format!("usage: {usage}"));
                vec![]
            }
        }
    }
}
