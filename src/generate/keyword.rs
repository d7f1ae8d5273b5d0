//! Examples from a keyword LM ([`crate::lm::keyword_prompt`]): the model writes each sentence
//! around the word from the first token; several candidates per example are written together
//! (one batch) and ranked
//! ([`super::rank`]), and the best is streamed as soon as it is chosen; the others stay in the
//! pool of the next examples.
//!
//! Reproducible at every temperature: at T = 0 candidate `c` of example `i` starts with the
//! `(i·K + c)`-th likeliest first token and continues greedily (so the examples differ); at
//! T > 0 each candidate samples with a seed mixed from the user's seed, the word, `i` and `c`,
//! so two words never share their frames. An example's later rounds are cooler (T, T/2, then
//! greedy as at T = 0), so a sure sentence is found before fenci gives up; once per ask, an
//! example that found none takes [`SPARE`] more rounds. A candidate without
//! the word is dropped; when none of an example's has it, one is written around the word (as
//! with a plain LM, but after the keyword prompt).
//!
//! With the LM's floor ([`crate::lm::example_floor`]) a candidate it is not sure of does not
//! pass; when no candidate of an example passes, fenci says so
//! ([`ExampleEvent::Unsure`]) and writes no more, rather than show one it is not sure of.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::examples::{Ask, ExampleEvent};
use super::generator::SENTENCE_END;
use super::rank::{self, Judge, Score};
use super::{GenError, Generator, Result, Sampling, Stats};

/// One written candidate.
struct Candidate {
    text: String,
    logprob: f64,
    tokens: usize,
    /// Written around the word (the model did not write it freely).
    around: bool,
    /// Stopped once longer than a shown sentence may be (see `keyword_batch`): dropped.
    cut: bool,
}

/// Rounds of candidates an example may take before it settles for a rejected one (without a
/// floor) or says it is not sure (with one).
const ROUNDS: usize = 3;

/// Rounds that one example of an ask may add when its own found no candidate fenci is sure
/// of (with the LM's floor), before fenci says it is not sure: a word whose first sentences
/// the ranker rejects (但是 opening with 但是，) gets another try instead of ending there.
const SPARE: usize = 3;

/// The score part of a candidate written around the word.
const AROUND: f64 = -0.5;

impl Generator {
    pub(super) fn examples_keyword(
        &mut self,
        word: &str,
        ask: &Ask<'_>,
        s: &Sampling,
        judge: &dyn Judge,
        cancel: &AtomicBool,
        mut on_event: impl FnMut(ExampleEvent),
    ) -> Result<(Vec<String>, Stats)> {
        let prompt = crate::lm::keyword_prompt(&self.files.tokenizer, word).ok_or_else(|| {
            GenError::Invalid(format!("the language model cannot encode {word:?}"))
        })?;
        let k = ask.candidates.max(1);
        let word_ids = self.encode(word, false)?;
        let started = Instant::now();
        let mut stats = Stats::default();
        let mut out: Vec<String> = Vec::new();
        // The first tokens in order of likelihood (greedy candidates start from them), computed
        // when a greedy round first needs them.
        let mut first_order: Vec<(u32, f32)> = Vec::new();
        let seed = s.seed ^ crate::text::fnv1a(word);
        // Candidates not shown stay in the pool for the next examples.
        let mut cands: Vec<(String, Score)> = Vec::new();
        // Rounds the first example short of a passing candidate may add (once per ask).
        let mut spare = if self.floor.is_some() { SPARE } else { 0 };
        for i in 0..ask.n {
            // Up to ROUNDS rounds of K (and the spare ones), until a candidate passes.
            let mut rounds = ROUNDS;
            let mut round = 0;
            while round < rounds {
                if cancel.load(Ordering::Relaxed)
                    || (round > 0 && rank::best_passing(&cands, &out).is_some())
                {
                    break;
                }
                // Round r samples at a cooler temperature than the one before (T, T/2, then
                // greedy): T is where it starts; the model's surer sentences are tried only
                // when none at T is one fenci is sure of. Spare rounds repeat the schedule
                // with fresh seeds and first tokens.
                let step = round % ROUNDS;
                let t = s.temperature * (ROUNDS - 1 - step) as f64 / (ROUNDS - 1) as f64;
                let sr = Sampling {
                    temperature: t,
                    ..s.clone()
                };
                if t <= 0.0 && first_order.is_empty() {
                    first_order = self.first_order(&prompt)?;
                }
                let mut seeds = Vec::with_capacity(k);
                let mut forced = Vec::with_capacity(k);
                for c in round * k..(round + 1) * k {
                    seeds.push(
                        seed.wrapping_add((i as u64) << 32)
                            .wrapping_add(c as u64)
                            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    );
                    if t <= 0.0 {
                        // Greedy from the rank-th likeliest first token. At T = 0, round r
                        // takes ranks r·N·K + i·K … + K−1 (all first rounds come first); a
                        // cooled round takes example i's ranks of a first round.
                        // A spare cooled round takes ranks after every example's first
                        // ones (N·K + i·K …), used by no other round.
                        let rank = if s.temperature <= 0.0 {
                            round * ask.n * k + i * k + c - round * k
                        } else if round < ROUNDS {
                            i * k + c - round * k
                        } else {
                            ask.n * k + i * k + c - round * k
                        };
                        match first_order.get(rank) {
                            Some(&(id, _)) => forced.push(Some(id)),
                            None => break,
                        }
                    } else {
                        forced.push(None);
                    }
                }
                seeds.truncate(forced.len());
                if seeds.is_empty() {
                    break;
                }
                let (batch, st) = self.keyword_batch(&prompt, &sr, &seeds, &forced, cancel)?;
                if stats.tokens == 0 && st.tokens > 0 {
                    stats.first_token_s = started.elapsed().as_secs_f64();
                }
                stats.tokens += st.tokens;
                for cand in batch {
                    self.judge_into(word, cand, judge, &mut cands);
                }
                round += 1;
                if round == rounds && spare > 0 && rank::best_passing(&cands, &out).is_none() {
                    rounds += spare;
                    spare = 0;
                }
            }
            if rank::best_passing(&cands, &out).is_none() && !cancel.load(Ordering::Relaxed) {
                // The model wrote past the word in every candidate: write one around it
                // (a left context after the keyword prompt, the word where the model finds it
                // likeliest, the rest) and score it under the model.
                let sc = Sampling {
                    seed: seed.wrapping_add(i as u64),
                    ..s.clone()
                };
                let (text, st) = self.around(&prompt, &word_ids, &sc, i, cancel, |_| {})?;
                stats.tokens += st.tokens;
                let (logprob, tokens) = self.logprob_after(&prompt, &text)?;
                let cand = Candidate {
                    text,
                    logprob,
                    tokens,
                    around: true,
                    cut: false,
                };
                self.judge_into(word, cand, judge, &mut cands);
            }
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            let chosen = if self.floor.is_some() {
                rank::best_passing(&cands, &out)
            } else {
                rank::best(&cands, &out)
            };
            let Some(b) = chosen else {
                // Without a floor this is an example no candidate of which had the word: the
                // caller sees fewer examples, as before floors.
                if self.floor.is_some() {
                    let closest = rank::closest(&cands).map(|c| cands[c].clone());
                    on_event(ExampleEvent::Unsure {
                        word: word.to_string(),
                        index: i,
                        asked: ask.n,
                        closest,
                    });
                }
                break;
            };
            let (sentence, score) = cands.remove(b);
            on_event(ExampleEvent::Text {
                index: i,
                piece: sentence.clone(),
            });
            on_event(ExampleEvent::Done {
                index: i,
                sentence: sentence.clone(),
                score: Some(score),
            });
            out.push(sentence);
        }
        stats.total_s = started.elapsed().as_secs_f64();
        Ok((out, stats))
    }

    /// The first tokens after `prompt` (end of text excluded), likeliest first (ties: the
    /// lower id).
    fn first_order(&mut self, prompt: &[u32]) -> Result<Vec<(u32, f32)>> {
        self.model.clear_kv_cache();
        let mut order: Vec<(u32, f32)> = self
            .step(prompt, 0)?
            .to_vec1::<f32>()?
            .into_iter()
            .enumerate()
            .map(|(i, x)| (i as u32, x))
            .filter(|(i, _)| !self.eos.contains(i))
            .collect();
        order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(order)
    }

    /// Scores `cand` (text checks, then the judge) into `cands`; a candidate without the word
    /// is dropped.
    fn judge_into(
        &self,
        word: &str,
        cand: Candidate,
        judge: &dyn Judge,
        cands: &mut Vec<(String, Score)>,
    ) {
        if cand.cut || !cand.text.contains(word) {
            return;
        }
        let mut score = rank::text_score(word, &cand.text, cand.logprob, cand.tokens);
        if cand.around {
            // What the model wrote freely reads better than what was built around.
            score.add("around", AROUND);
        }
        if let Some(f) = self.floor {
            rank::apply_floor(&mut score, f);
        }
        if score.rejected.is_none() {
            judge.judge(word, &cand.text, &mut score);
        }
        cands.push((cand.text, score));
    }

    /// The log-probability of `text` after `prompt` under the model, and its token count.
    fn logprob_after(&mut self, prompt: &[u32], text: &str) -> Result<(f64, usize)> {
        let ids = self.encode(text, false)?;
        self.model.clear_kv_cache();
        let mut logits = self.step(prompt, 0)?;
        let mut sum = 0f64;
        for (j, &id) in ids.iter().enumerate() {
            let lps = candle_nn::ops::log_softmax(&logits, 0)?;
            sum += lps.get(id as usize)?.to_scalar::<f32>()? as f64;
            if j + 1 < ids.len() {
                logits = self.step(&[id], prompt.len() + j)?;
            }
        }
        Ok((sum, ids.len()))
    }

    /// One candidate per seed after `prompt`, written together as one batch (a row per
    /// candidate: about the cost of one on two cores): each sampled with its seed (or greedy
    /// after its `forced` first token at T = 0) up to the end of a sentence, with its
    /// log-probability under the model.
    fn keyword_batch(
        &mut self,
        prompt: &[u32],
        s: &Sampling,
        seeds: &[u64],
        forced: &[Option<u32>],
        cancel: &AtomicBool,
    ) -> Result<(Vec<Candidate>, Stats)> {
        let started = Instant::now();
        let mut stats = Stats::default();
        let b = seeds.len();
        let mut lps_proc: Vec<_> = seeds.iter().map(|&x| s.processor(x)).collect();
        let mut ids: Vec<Vec<u32>> = vec![Vec::new(); b];
        let mut texts = vec![String::new(); b];
        let mut logprob = vec![0f64; b];
        let mut tokens = vec![0usize; b];
        let mut done = vec![false; b];
        let mut cut = vec![false; b];
        let pad = self.eos.first().copied().unwrap_or(0);
        let max_pos = self.files.config.max_positions();
        if prompt.len() + 1 > max_pos {
            return Err(GenError::Invalid(format!(
                "the word is longer than the model's {max_pos} positions"
            )));
        }
        // With a floor a rejected candidate is never shown, so a row already longer than a
        // shown sentence may be (rejected for its length whatever follows) stops there and is
        // dropped, not offered as the closest try: the batch runs as long as its longest row.
        let cap = self.floor.is_some();
        self.model.clear_kv_cache();
        let flat: Vec<u32> = prompt.repeat(b);
        let mut logits = self.model.next_logits_batch(&flat, b, 0)?;
        for step in 0..s.max_tokens {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            let mut next_ids = vec![pad; b];
            for r in 0..b {
                if done[r] {
                    continue;
                }
                let row = logits.get(r)?;
                let lps = candle_nn::ops::log_softmax(&row, 0)?;
                let next = match forced[r].filter(|_| step == 0) {
                    Some(id) => id,
                    None => {
                        // The repeat penalty looks at what the row wrote, not at the prompt:
                        // the prompt holds the word, which the sentence is meant to repeat.
                        let l = self.penalised(&row, &ids[r], s)?;
                        let l = self.nudge_end(l, texts[r].chars().count())?;
                        lps_proc[r].sample(&l)?
                    }
                };
                stats.tokens += 1;
                if stats.tokens == 1 {
                    stats.first_token_s = started.elapsed().as_secs_f64();
                }
                tokens[r] += 1;
                logprob[r] += lps.get(next as usize)?.to_scalar::<f32>()? as f64;
                if self.eos.contains(&next) {
                    done[r] = true;
                    continue;
                }
                ids[r].push(next);
                next_ids[r] = next;
                texts[r] = self.decode(&ids[r]);
                if texts[r].trim_end().ends_with(SENTENCE_END)
                    || prompt.len() + ids[r].len() >= max_pos
                {
                    done[r] = true;
                } else if cap && texts[r].trim().chars().count() > rank::LENGTH.1 {
                    done[r] = true;
                    cut[r] = true;
                }
            }
            let offset = prompt.len() + step;
            if done.iter().all(|&d| d) || offset + 1 >= max_pos {
                break;
            }
            logits = self.model.next_logits_batch(&next_ids, b, offset)?;
        }
        stats.total_s = started.elapsed().as_secs_f64();
        let cands = (0..b)
            .map(|r| Candidate {
                text: texts[r].trim().to_string(),
                logprob: logprob[r],
                tokens: tokens[r],
                around: false,
                cut: cut[r],
            })
            .collect();
        Ok((cands, stats))
    }
}
