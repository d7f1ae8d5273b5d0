//! Example sentences from a causal LM: sampling, streaming, cancelling, and sentences built
//! around a word.
//!
//! Sampling is candle-transformers' `LogitsProcessor` (temperature 0 = greedy, top-k, top-p,
//! seed) plus its repetition penalty; text streams out piece by piece through a callback (the
//! TUI forwards it to a channel) and a shared flag cancels between tokens.
//!
//! [`Generator::examples`] makes the word appear by construction. A base LM (fenci's own, or a
//! hub base model after the `examples-base.md` prefix) writes a short left context while we
//! record how likely the word is at each point; the word is inserted where the model finds it
//! likeliest (sampled at temperature > 0), then the model continues to the end of the sentence.
//! An instruct model gets `prompts/examples.md` in ChatML; its lines without the word are
//! dropped and it is asked again (up to three rounds), so every example shown contains the word.

pub mod prompt;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::Tensor;
use candle_transformers::generation::{LogitsProcessor, Sampling as Strategy};
use rand::{Rng, SeedableRng};

use crate::lm::{CausalLm, LmError, LmFiles, EOS, IM_END, IM_START};
use prompt::{PromptError, Template};

/// Errors while generating.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenError {
    /// Model trouble.
    #[error(transparent)]
    Lm(#[from] LmError),
    /// Prompt template trouble.
    #[error(transparent)]
    Prompt(#[from] PromptError),
    /// The word has characters the LM has never seen.
    #[error("the language model does not know {chars} in {word:?}; try another word or a hub LM (--lm Qwen/Qwen2.5-0.5B-Instruct)")]
    UnknownChars {
        /// The word.
        word: String,
        /// The unknown characters, quoted.
        chars: String,
    },
    /// Bad request (empty word, zero sentences, settings out of range).
    #[error("{0}")]
    Invalid(String),
}

impl From<candle_core::Error> for GenError {
    fn from(e: candle_core::Error) -> Self {
        GenError::Lm(LmError::Candle(e))
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, GenError>;

/// How to sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// Softmax temperature; 0 is greedy (always the likeliest token).
    pub temperature: f64,
    /// Nucleus sampling: keep the likeliest tokens up to this probability mass (1 = off).
    pub top_p: f64,
    /// Keep only the k likeliest tokens (0 = off).
    pub top_k: usize,
    /// Random seed: the same seed and settings give the same text.
    pub seed: u64,
    /// Penalty on tokens already in the last `repeat_last_n` tokens (1 = off).
    pub repeat_penalty: f32,
    /// How far back the repetition penalty looks.
    pub repeat_last_n: usize,
    /// Most tokens to generate.
    pub max_tokens: usize,
    /// Stop when the text ends with one of these (the stop text is not returned).
    pub stop: Vec<String>,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            temperature: 0.8,
            top_p: 0.95,
            top_k: 0,
            seed: 42,
            repeat_penalty: 1.1,
            repeat_last_n: 32,
            max_tokens: 60,
            stop: Vec::new(),
        }
    }
}

impl Sampling {
    /// Checks the settings' ranges.
    pub fn check(&self) -> Result<()> {
        if !(self.temperature.is_finite() && (0.0..=5.0).contains(&self.temperature)) {
            return Err(GenError::Invalid(format!(
                "temperature {} is out of range (0 to 5; 0 is greedy)",
                self.temperature
            )));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(GenError::Invalid(format!(
                "top-p {} is out of range (above 0, at most 1)",
                self.top_p
            )));
        }
        if !(self.repeat_penalty.is_finite() && self.repeat_penalty >= 1.0) {
            return Err(GenError::Invalid(format!(
                "repeat penalty {} must be at least 1",
                self.repeat_penalty
            )));
        }
        if self.max_tokens == 0 {
            return Err(GenError::Invalid("max tokens must be at least 1".into()));
        }
        Ok(())
    }

    fn processor(&self, seed: u64) -> LogitsProcessor {
        let t = self.temperature;
        let strategy = if t <= 0.0 {
            Strategy::ArgMax
        } else {
            match (self.top_k, self.top_p < 1.0) {
                (0, false) => Strategy::All { temperature: t },
                (0, true) => Strategy::TopP {
                    p: self.top_p,
                    temperature: t,
                },
                (k, false) => Strategy::TopK { k, temperature: t },
                (k, true) => Strategy::TopKThenTopP {
                    k,
                    p: self.top_p,
                    temperature: t,
                },
            }
        };
        LogitsProcessor::from_sampling(seed, strategy)
    }
}

/// Figures from one generation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Tokens generated (sampled, not forced or prompt).
    pub tokens: usize,
    /// Seconds from the start to the first sampled token.
    pub first_token_s: f64,
    /// Seconds in all.
    pub total_s: f64,
}

impl Stats {
    /// Decoding speed after the first token.
    pub fn tokens_per_s(&self) -> f64 {
        if self.tokens > 1 && self.total_s > self.first_token_s {
            (self.tokens - 1) as f64 / (self.total_s - self.first_token_s)
        } else {
            0.0
        }
    }

    fn add(&mut self, o: &Stats) {
        if self.tokens == 0 {
            self.first_token_s = o.first_token_s;
        }
        self.tokens += o.tokens;
        self.total_s += o.total_s;
    }
}

/// What [`Generator::examples`] reports while it works.
#[derive(Debug, Clone, PartialEq)]
pub enum ExampleEvent {
    /// More text of example `index` (streamed).
    Text {
        /// Which example (0-based).
        index: usize,
        /// The new text.
        piece: String,
    },
    /// Example `index` is complete and contains the word.
    Done {
        /// Which example.
        index: usize,
        /// The sentence.
        sentence: String,
    },
    /// The text streamed as example `index` was dropped (an instruct model's line without the
    /// word, or a repeat); the next example reuses the index.
    Rejected {
        /// Which example.
        index: usize,
    },
}

/// What [`Generator::examples`] is asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ask<'a> {
    /// The word every sentence must contain.
    pub word: &'a str,
    /// How many sentences.
    pub n: usize,
    /// Fills `{level}` in the prompts (e.g. "HSK 3").
    pub level: &'a str,
    /// The data directory whose `prompts/` override the built-in templates.
    pub prompts: Option<&'a Path>,
}

impl<'a> Ask<'a> {
    /// `n` sentences with `word`, level "HSK 3", built-in prompts.
    pub fn new(word: &'a str, n: usize) -> Self {
        Self {
            word,
            n,
            level: "HSK 3",
            prompts: None,
        }
    }

    /// With this learner level.
    pub fn level(self, level: &'a str) -> Self {
        Self { level, ..self }
    }

    /// With prompt overrides from this data directory.
    pub fn prompts(self, dir: Option<&'a Path>) -> Self {
        Self {
            prompts: dir,
            ..self
        }
    }
}

/// Text generated for a plain prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The new text (the prompt not included).
    pub text: String,
    /// Whether the cancel flag stopped it.
    pub cancelled: bool,
    /// Timing.
    pub stats: Stats,
}

/// A loaded LM with its tokenizer, ready to generate.
pub struct Generator {
    files: LmFiles,
    model: CausalLm,
    eos: Vec<u32>,
    /// An instruct (chat) model: examples come from `prompts/examples.md` in ChatML.
    instruct: bool,
    /// fenci's own char LM: no prefix prompt (it was trained on bare sentences).
    own: bool,
    /// Tokens that end a sentence (nudged up as a sentence grows long).
    end_ids: Vec<u32>,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("source", &self.files.source)
            .field("instruct", &self.instruct)
            .finish()
    }
}

/// Characters that end a sentence.
const SENTENCE_END: &[char] = &['。', '！', '？', '!', '?', '…'];

impl Generator {
    /// Builds a generator; `instruct` selects the chat path (see [`Generator::is_instruct`]).
    pub fn new(files: LmFiles) -> Result<Self> {
        let model = files.build()?;
        let eos: Vec<u32> = [EOS, IM_END, "</s>"]
            .iter()
            .filter_map(|t| files.token_id(t))
            .collect();
        let own = serde_json::from_str::<serde_json::Value>(&files.config_json)
            .ok()
            .and_then(|v| v.get("fenci_char_lm").and_then(|b| b.as_bool()))
            .unwrap_or(false);
        let instruct = !own && files.token_id(IM_START).is_some() && files.chat_template;
        let mut end_ids: Vec<u32> = SENTENCE_END
            .iter()
            .filter_map(|c| files.token_id(&c.to_string()))
            .collect();
        end_ids.extend(&eos);
        Ok(Self {
            files,
            model,
            eos,
            instruct,
            own,
            end_ids,
        })
    }

    /// The LM compiled into the binary.
    pub fn embedded() -> Result<Self> {
        Self::new(LmFiles::embedded()?)
    }

    /// Whether examples come from a chat prompt (instruct models) rather than by construction.
    pub fn is_instruct(&self) -> bool {
        self.instruct
    }

    /// Where the model came from.
    pub fn source(&self) -> &str {
        &self.files.source
    }

    /// The model's files.
    pub fn files(&self) -> &LmFiles {
        &self.files
    }

    fn encode(&self, text: &str, special: bool) -> Result<Vec<u32>> {
        let enc = self
            .files
            .tokenizer
            .encode(text, special)
            .map_err(|e| GenError::Invalid(format!("cannot tokenize {text:?}: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    fn decode(&self, ids: &[u32]) -> String {
        let text = self.files.tokenizer.decode(ids, true).unwrap_or_default();
        if self.own {
            // fenci's char tokenizer reads NFKC (half-width) text: write Chinese punctuation
            // back in its full-width form.
            text.chars()
                .map(|c| match c {
                    ',' => '，',
                    '!' => '！',
                    '?' => '？',
                    ':' => '：',
                    ';' => '；',
                    '(' => '（',
                    ')' => '）',
                    c => c,
                })
                .collect()
        } else {
            text
        }
    }

    /// Nudges sentence ends up once a sentence passes `LONG` characters, so examples stay
    /// short enough to read (soft: the model can still go on).
    fn nudge_end(&self, logits: Tensor, chars: usize) -> Result<Tensor> {
        const LONG: usize = 18;
        if chars <= LONG || self.end_ids.is_empty() {
            return Ok(logits);
        }
        let bonus = 0.25 * (chars - LONG) as f32;
        let mut v = logits.to_vec1::<f32>()?;
        for &id in &self.end_ids {
            if let Some(x) = v.get_mut(id as usize) {
                *x += bonus;
            }
        }
        Ok(Tensor::new(v, logits.device())?)
    }

    /// Next-token logits after feeding `new` (the cache holds `offset` tokens).
    fn step(&mut self, new: &[u32], offset: usize) -> Result<Tensor> {
        if offset + new.len() > self.files.config.max_positions() {
            return Err(GenError::Invalid(format!(
                "the text is longer than the model's {} positions",
                self.files.config.max_positions()
            )));
        }
        Ok(self.model.next_logits(new, offset)?)
    }

    fn penalised(&self, logits: &Tensor, context: &[u32], s: &Sampling) -> Result<Tensor> {
        if s.repeat_penalty <= 1.0 || context.is_empty() {
            return Ok(logits.clone());
        }
        let start = context.len().saturating_sub(s.repeat_last_n);
        Ok(candle_transformers::utils::apply_repeat_penalty(
            logits,
            s.repeat_penalty,
            &context[start..],
        )?)
    }

    /// Continues `prompt` (special tokens such as `<|im_start|>` are honoured), streaming new
    /// text to `on_text`.
    pub fn generate(
        &mut self,
        prompt: &str,
        s: &Sampling,
        cancel: &AtomicBool,
        on_text: impl FnMut(&str),
    ) -> Result<Generated> {
        s.check()?;
        let mut ids = self.encode(prompt, true)?;
        if ids.is_empty() {
            ids = self.eos.first().copied().into_iter().collect();
        }
        if ids.is_empty() {
            return Err(GenError::Invalid("empty prompt".into()));
        }
        let mut lp = s.processor(s.seed);
        self.continue_from(&ids, ids.len(), &mut lp, s, cancel, None, on_text)
    }

    /// Feeds `ids` from a clean cache and samples up to `s.max_tokens` tokens; stops at an
    /// end-of-text token, a stop string, or (with `sentence`) the end of a sentence. Only text
    /// after the first `shown` ids is streamed and returned.
    #[allow(clippy::too_many_arguments)]
    fn continue_from(
        &mut self,
        ids: &[u32],
        shown: usize,
        lp: &mut LogitsProcessor,
        s: &Sampling,
        cancel: &AtomicBool,
        sentence: Option<usize>,
        mut on_text: impl FnMut(&str),
    ) -> Result<Generated> {
        let sentence_chars = sentence.unwrap_or(0);
        let started = Instant::now();
        let mut stats = Stats::default();
        self.model.clear_kv_cache();
        let mut all = ids.to_vec();
        let mut logits = self.step(ids, 0)?;
        let mut text = String::new();
        let mut cancelled = false;
        let max_pos = self.files.config.max_positions();
        for _ in 0..s.max_tokens {
            if cancel.load(Ordering::Relaxed) {
                cancelled = true;
                break;
            }
            let mut l = self.penalised(&logits, &all, s)?;
            if sentence.is_some() {
                l = self.nudge_end(l, sentence_chars + text.chars().count())?;
            }
            let next = lp.sample(&l)?;
            stats.tokens += 1;
            if stats.tokens == 1 {
                stats.first_token_s = started.elapsed().as_secs_f64();
            }
            if self.eos.contains(&next) {
                break;
            }
            all.push(next);
            // Decode everything shown so far and emit what is new, once it is whole characters.
            let full = self.decode(&all[shown.min(all.len())..]);
            if full.ends_with('\u{fffd}') {
                // an incomplete multi-byte character: wait for the next token
            } else if full.len() > text.len() && full.starts_with(&text) {
                let piece = full[text.len()..].to_string();
                text = full;
                if let Some(stop) = s
                    .stop
                    .iter()
                    .find(|st| !st.is_empty() && text.ends_with(*st))
                {
                    text.truncate(text.len() - stop.len());
                    break;
                }
                on_text(&piece);
                if sentence.is_some() && text.trim_end().ends_with(SENTENCE_END) {
                    break;
                }
            } else {
                text = full;
            }
            if all.len() >= max_pos {
                break;
            }
            logits = self.step(&[next], all.len() - 1)?;
        }
        stats.total_s = started.elapsed().as_secs_f64();
        Ok(Generated {
            text,
            cancelled,
            stats,
        })
    }

    /// `ask.n` example sentences that each contain `ask.word`, streamed through `on_event`;
    /// returns the complete ones and the timing.
    pub fn examples(
        &mut self,
        ask: &Ask<'_>,
        s: &Sampling,
        cancel: &AtomicBool,
        mut on_event: impl FnMut(ExampleEvent),
    ) -> Result<(Vec<String>, Stats)> {
        let (word, n, level, data_dir) = (ask.word, ask.n, ask.level, ask.prompts);
        s.check()?;
        let word = word.trim();
        if word.is_empty() {
            return Err(GenError::Invalid("which word? e.g. /examples 希望".into()));
        }
        if word.chars().count() > 16 || word.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(GenError::Invalid(format!(
                "{word:?} is not one word (at most 16 characters, no spaces)"
            )));
        }
        if n == 0 || n > 50 {
            return Err(GenError::Invalid(format!("{n} examples: ask for 1 to 50")));
        }
        let n_s = n.to_string();
        let vars = [("word", word), ("n", n_s.as_str()), ("level", level)];
        if self.instruct {
            let t = Template::load("examples.md", data_dir)?;
            t.require(&["word"])?;
            let user = t.render(&vars)?;
            return self.examples_chat(word, n, s, &user, cancel, on_event);
        }
        let prefix = if self.own {
            String::new()
        } else {
            let t = Template::load("examples-base.md", data_dir)?;
            t.require(&["word"])?;
            t.render(&vars)?
        };
        let word_ids = self.encode(word, false)?;
        let unk = self.files.token_id(crate::lm::UNK);
        let unknown: Vec<String> = word
            .chars()
            .filter(|c| {
                self.encode(&c.to_string(), false)
                    .map(|ids| ids.is_empty() || ids.iter().any(|i| Some(*i) == unk))
                    .unwrap_or(true)
            })
            .map(|c| format!("'{c}'"))
            .collect();
        if word_ids.is_empty() || !unknown.is_empty() {
            return Err(GenError::UnknownChars {
                word: word.into(),
                chars: unknown.join(", "),
            });
        }
        let mut start: Vec<u32> = self.eos.first().copied().into_iter().collect();
        start.extend(self.encode(&prefix, false)?);
        let mut out = Vec::new();
        let mut stats = Stats::default();
        for i in 0..n {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            let (sentence, st) = self.around(&start, &word_ids, s, i, cancel, |p| {
                on_event(ExampleEvent::Text {
                    index: i,
                    piece: p.to_string(),
                })
            })?;
            stats.add(&st);
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            debug_assert!(sentence.contains(word) || self.decode(&word_ids) != word);
            on_event(ExampleEvent::Done {
                index: i,
                sentence: sentence.clone(),
            });
            out.push(sentence);
        }
        Ok((out, stats))
    }

    /// One sentence built around `word_ids` after `start` (see the module header).
    fn around(
        &mut self,
        start: &[u32],
        word_ids: &[u32],
        s: &Sampling,
        index: usize,
        cancel: &AtomicBool,
        mut on_text: impl FnMut(&str),
    ) -> Result<(String, Stats)> {
        const MAX_LEFT: usize = 10;
        // Each example has a seed of its own; greedy examples differ by insertion point.
        let (seed, rank) = (s.seed.wrapping_add(index as u64 * 0x9E37_79B9), index);
        let started = Instant::now();
        let mut lp = s.processor(seed);
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5EED);
        // 1. A left context, with the log-probability of the word's first token at each point.
        self.model.clear_kv_cache();
        let mut ctx = start.to_vec();
        let mut logits = self.step(&ctx, 0)?;
        let mut scores = Vec::new();
        let mut left = Vec::new();
        let mut sampled = 0;
        let mut first_token_s = None;
        for _ in 0..=MAX_LEFT {
            let lps = candle_nn::ops::log_softmax(&logits, 0)?.to_vec1::<f32>()?;
            scores.push(
                lps.get(word_ids[0] as usize)
                    .copied()
                    .unwrap_or(f32::NEG_INFINITY),
            );
            if left.len() == MAX_LEFT || cancel.load(Ordering::Relaxed) {
                break;
            }
            let l = self.penalised(&logits, &ctx, s)?;
            let next = lp.sample(&l)?;
            sampled += 1;
            first_token_s.get_or_insert_with(|| started.elapsed().as_secs_f64());
            let piece = self.decode(&[next]);
            if self.eos.contains(&next) || piece.contains(SENTENCE_END) || piece.contains('\n') {
                break;
            }
            left.push(next);
            ctx.push(next);
            logits = self.step(&[next], ctx.len() - 1)?;
        }
        // 2. Where the word goes: likeliest point (greedy) or sampled by likelihood.
        let at = if s.temperature <= 0.0 {
            // Greedy: example `rank` takes the rank-th likeliest point, so N greedy examples
            // differ from each other and are the same on every run.
            let mut order: Vec<usize> = (0..scores.len()).collect();
            order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            order[rank % order.len()]
        } else {
            let m = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let w: Vec<f64> = scores
                .iter()
                .map(|&x| (((x - m) as f64) / s.temperature).exp())
                .collect();
            let total: f64 = w.iter().sum();
            let mut r = rng.random::<f64>() * total;
            let mut pick = w.len() - 1;
            for (i, x) in w.iter().enumerate() {
                if r < *x {
                    pick = i;
                    break;
                }
                r -= x;
            }
            pick
        };
        // 3. Left context up to `at`, the word, then the model's continuation.
        let mut ids = start.to_vec();
        ids.extend_from_slice(&left[..at.min(left.len())]);
        ids.extend_from_slice(word_ids);
        let head = self.decode(&ids[start.len()..]);
        on_text(&head);
        let g = self.continue_from(
            &ids,
            ids.len(),
            &mut lp,
            s,
            cancel,
            Some(head.chars().count()),
            |p| on_text(p),
        )?;
        let mut stats = g.stats;
        stats.tokens += sampled;
        stats.first_token_s = first_token_s.unwrap_or(stats.first_token_s);
        stats.total_s = started.elapsed().as_secs_f64();
        let mut sentence = format!("{head}{}", g.text).trim().to_string();
        if !g.cancelled && !sentence.ends_with(SENTENCE_END) {
            // Cut at the token limit: say so.
            sentence.push('…');
            on_text("…");
        }
        Ok((sentence, stats))
    }

    fn examples_chat(
        &mut self,
        word: &str,
        n: usize,
        s: &Sampling,
        user: &str,
        cancel: &AtomicBool,
        mut on_event: impl FnMut(ExampleEvent),
    ) -> Result<(Vec<String>, Stats)> {
        let prompt = prompt::chat_ml(Some("You are a helpful assistant."), user);
        let mut out: Vec<String> = Vec::new();
        let mut stats = Stats::default();
        let mut s = s.clone();
        s.max_tokens = s.max_tokens.max(40 * n).min(1024);
        for round in 0..3u64 {
            if out.len() >= n || cancel.load(Ordering::Relaxed) {
                break;
            }
            let mut ids = self.encode(&prompt, true)?;
            if ids.is_empty() {
                ids = self.eos.clone();
            }
            let mut lp = s.processor(s.seed.wrapping_add(round * 7919));
            let mut line = String::new();
            // Each line streams as the next example; at its end it is kept (it has the word)
            // or dropped.
            let finish = |line: &mut String,
                          out: &mut Vec<String>,
                          on_event: &mut dyn FnMut(ExampleEvent)| {
                let l = clean_line(line);
                let streamed = !line.trim().is_empty();
                line.clear();
                if out.len() < n && l.contains(word) && !out.contains(&l) {
                    on_event(ExampleEvent::Done {
                        index: out.len(),
                        sentence: l.clone(),
                    });
                    out.push(l);
                } else if streamed {
                    on_event(ExampleEvent::Rejected { index: out.len() });
                }
            };
            let g = self.continue_from(&ids, ids.len(), &mut lp, &s, cancel, None, |p| {
                for c in p.chars() {
                    if c == '\n' {
                        finish(&mut line, &mut out, &mut on_event);
                    } else if out.len() < n {
                        line.push(c);
                        on_event(ExampleEvent::Text {
                            index: out.len(),
                            piece: c.to_string(),
                        });
                    }
                }
            })?;
            finish(&mut line, &mut out, &mut on_event);
            stats.add(&g.stats);
        }
        Ok((out, stats))
    }
}

/// Strips list numbering, bullets and quotes from a generated line.
pub fn clean_line(l: &str) -> String {
    let t = l.trim();
    let t = t.trim_start_matches(|c: char| {
        c.is_ascii_digit() || matches!(c, '.' | '、' | ')' | '）' | '-' | '*' | '•' | ' ' | '．')
    });
    t.trim_matches(|c| matches!(c, '"' | '“' | '”' | '「' | '」'))
        .trim()
        .to_string()
}

/// Distinct-n: distinct character n-grams over all n-grams in `texts` (a diversity measure).
pub fn distinct_n(texts: &[String], n: usize) -> f64 {
    let mut all = 0usize;
    let mut set = std::collections::HashSet::new();
    for t in texts {
        let c: Vec<char> = t.chars().collect();
        for w in c.windows(n.max(1)) {
            all += 1;
            set.insert(w.to_vec());
        }
    }
    if all == 0 {
        0.0
    } else {
        set.len() as f64 / all as f64
    }
}
