//! The [`Generator`]: a loaded LM with its tokenizer, and plain generation that streams text,
//! stops at an end token, a stop string or a sentence end, and can be cancelled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::Tensor;

use super::{GenError, Result, Sampling, Stats};
use crate::lm::{CausalLm, LmFiles, EOS, IM_END, IM_START};

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
    pub(super) files: LmFiles,
    pub(super) model: CausalLm,
    pub(super) eos: Vec<u32>,
    /// An instruct (chat) model: examples come from `prompts/examples.md` in ChatML.
    pub(super) instruct: bool,
    /// fenci's own char LM: no prefix prompt (it was trained on bare sentences).
    pub(super) own: bool,
    /// A keyword LM: examples are asked for by the word ([`crate::lm::keyword_prompt`]).
    pub(super) keyword: bool,
    /// The lowest mean log-probability per token of an example shown
    /// ([`crate::lm::example_floor`]; keyword LMs only).
    pub(super) floor: Option<f64>,
    /// Tokens that end a sentence (nudged up as a sentence grows long).
    end_ids: Vec<u32>,
    /// Where fenci's own LM runs ([`Generator::on_own_pool`]); built at first use.
    pool: Option<rayon::ThreadPool>,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("source", &self.files.source)
            .field("instruct", &self.instruct)
            .field("keyword", &self.keyword)
            .finish()
    }
}

/// Characters that end a sentence.
pub(super) const SENTENCE_END: &[char] = &['。', '！', '？', '!', '?', '…'];

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
        let keyword = crate::lm::is_keyword_lm(&files);
        let floor = crate::lm::example_floor(&files).filter(|_| keyword);
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
            keyword,
            floor,
            end_ids,
            pool: None,
        })
    }

    /// Runs `f` for fenci's own LM on a pool of one thread, so that candle's matrix products
    /// do not wake a second thread; any other LM runs on the caller's threads (all cores). The
    /// judge that `f` calls (the segmenter checking each candidate) runs on that thread too:
    /// its sentences are short (one of 20 characters takes about 1.1 ms on one thread or two,
    /// `cargo bench --bench segment`).
    /// The built-in LM's products are 8 rows by 256: sharing them between two threads costs
    /// more than it saves (`scripts/examples-bench.py` on 40 words, two cores: the first
    /// example 94 ms median, 315 ms at most at T 0.8 on one thread, against 130 and 427 ms on
    /// two; the same sentences). Where no thread can be started, `f` runs here.
    pub(super) fn on_own_pool<R: Send>(&mut self, f: impl FnOnce(&mut Self) -> R + Send) -> R {
        if !self.own {
            return f(self);
        }
        if self.pool.is_none() {
            self.pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .thread_name(|_| "fenci-lm".into())
                .build()
                .ok();
        }
        match self.pool.take() {
            Some(pool) => {
                let r = pool.install(|| f(self));
                self.pool = Some(pool);
                r
            }
            None => f(self),
        }
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

    pub(super) fn encode(&self, text: &str, special: bool) -> Result<Vec<u32>> {
        let enc = self
            .files
            .tokenizer
            .encode(text, special)
            .map_err(|source| GenError::Tokenize {
                text: text.to_string(),
                source,
            })?;
        Ok(enc.get_ids().to_vec())
    }

    pub(super) fn decode(&self, ids: &[u32]) -> String {
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
    pub(super) fn nudge_end(&self, logits: Tensor, chars: usize) -> Result<Tensor> {
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
    pub(super) fn step(&mut self, new: &[u32], offset: usize) -> Result<Tensor> {
        if offset + new.len() > self.files.config.max_positions() {
            return Err(GenError::Invalid(format!(
                "the text is longer than the model's {} positions",
                self.files.config.max_positions()
            )));
        }
        Ok(self.model.next_logits(new, offset)?)
    }

    pub(super) fn penalised(
        &self,
        logits: &Tensor,
        context: &[u32],
        s: &Sampling,
    ) -> Result<Tensor> {
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
    pub(super) fn continue_from(
        &mut self,
        ids: &[u32],
        shown: usize,
        lp: &mut super::sampling::Sampler,
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
}
