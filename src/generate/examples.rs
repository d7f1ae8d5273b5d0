//! Example sentences around a word ([`Generator::examples`]): by construction with a base LM,
//! from a chat prompt with an instruct model; what is asked ([`Ask`]), what is reported
//! ([`ExampleEvent`]), and helpers for generated lines.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand::{Rng, SeedableRng};

use super::generator::SENTENCE_END;
use super::prompt::{self, Template};
use super::rank::{Judge, NoJudge, Score};
use super::{GenError, Generator, Result, Sampling, Stats};

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
        /// Why it was chosen over the other candidates (a keyword LM's ranked examples).
        score: Option<Score>,
    },
    /// The text streamed as example `index` was dropped (an instruct model's line without the
    /// word, or a repeat); the next example reuses the index.
    Rejected {
        /// Which example.
        index: usize,
    },
    /// fenci is not sure of example `index` (none of its candidates passed, the LM's floor
    /// included) and writes no more: `closest` is the best of what it tried, not shown.
    Unsure {
        /// The word.
        word: String,
        /// Which example (the number shown so far).
        index: usize,
        /// How many were asked for.
        asked: usize,
        /// The best candidate tried, with its score (why it was not shown).
        closest: Option<(String, Score)>,
    },
}

impl ExampleEvent {
    /// For [`ExampleEvent::Unsure`], what to tell the reader: how many of those asked for were
    /// shown, and the best try with the reason it was not.
    pub fn unsure_message(&self) -> Option<String> {
        let ExampleEvent::Unsure {
            word,
            index,
            asked,
            closest,
        } = self
        else {
            return None;
        };
        let mut m = format!("not sure of more examples of {word} ({index} of {asked} shown)");
        if let Some((s, sc)) = closest {
            let why = sc.rejected.as_deref().unwrap_or("it repeats one shown");
            m.push_str(&format!(": its best try, {s}, was not shown ({why})"));
        }
        Some(m)
    }
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
    /// Candidates written per example, the best kept (a keyword LM; 1 = no ranking).
    pub candidates: usize,
}

impl<'a> Ask<'a> {
    /// `n` sentences with `word`, level "HSK 3", built-in prompts.
    pub fn new(word: &'a str, n: usize) -> Self {
        Self {
            word,
            n,
            level: "HSK 3",
            prompts: None,
            candidates: DEFAULT_CANDIDATES,
        }
    }

    /// With this many candidates per example (at least 1).
    pub fn candidates(self, k: usize) -> Self {
        Self {
            candidates: k.max(1),
            ..self
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
/// Candidates per example by default: enough to find one the LM is sure of for most everyday
/// words, few enough for the first example to show in about 200 ms on two cores (eight rows
/// of one batch cost little more than four).
pub const DEFAULT_CANDIDATES: usize = 8;

impl Generator {
    /// `ask.n` example sentences that each contain `ask.word`, streamed through `on_event`;
    /// returns the complete ones and the timing. Candidates are judged on their text only.
    pub fn examples(
        &mut self,
        ask: &Ask<'_>,
        s: &Sampling,
        cancel: &AtomicBool,
        on_event: impl FnMut(ExampleEvent) + Send,
    ) -> Result<(Vec<String>, Stats)> {
        self.examples_judged(ask, s, &NoJudge, cancel, on_event)
    }

    /// [`Generator::examples`] with `judge` adding to each candidate's score (a keyword LM
    /// over-generates and keeps the best; see [`super::rank`]).
    pub fn examples_judged(
        &mut self,
        ask: &Ask<'_>,
        s: &Sampling,
        judge: &(dyn Judge + Sync),
        cancel: &AtomicBool,
        on_event: impl FnMut(ExampleEvent) + Send,
    ) -> Result<(Vec<String>, Stats)> {
        self.on_own_pool(|g| g.examples_here(ask, s, judge, cancel, on_event))
    }

    fn examples_here(
        &mut self,
        ask: &Ask<'_>,
        s: &Sampling,
        judge: &dyn Judge,
        cancel: &AtomicBool,
        mut on_event: impl FnMut(ExampleEvent),
    ) -> Result<(Vec<String>, Stats)> {
        let (word, n, level, data_dir) = (ask.word, ask.n, ask.level, ask.prompts);
        s.check()?;
        let word = word.trim();
        if word.is_empty() {
            return Err(GenError::Invalid(
                "which word? give one, e.g. 希望 (/examples 希望 in the app, fenci examples 希望)"
                    .into(),
            ));
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
        if self.keyword {
            return self.examples_keyword(word, ask, s, judge, cancel, on_event);
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
                score: None,
            });
            out.push(sentence);
        }
        Ok((out, stats))
    }

    /// One sentence built around `word_ids` after `start` (see the module header).
    pub(super) fn around(
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
                        score: None,
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
