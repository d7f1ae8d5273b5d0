//! Fine-tuning on a user's corrections without forgetting: lower layers frozen, decay toward
//! the starting weights, replay of original sentences, augmentation; what it changed.
//!
//! Distillation from the previous version ([`AdaptConfig::distill`], "learning without
//! forgetting", on by default): the replay sentences can learn the base model's own tag
//! distributions (its softmax per unit, at [`AdaptConfig::distill_temperature`]) instead of,
//! or mixed by weight with, their gold tags, so fine-tuning is pulled toward what the old
//! model said, its doubts included, and not only toward the right answers. The base model is
//! frozen: its distributions are computed once before each training round, on exactly the
//! units the replay sentences train on ([`Distill`], [`Trainer::run_distilled`]); the
//! corrections and the augmented sentences (which carry corrected words) keep their gold tags.

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};

use super::data::read_gold;
use super::tagger::{Distill, TrainConfig, Trainer};
use super::{Progress, Result, Summary, TrainError};
use crate::segment::Segmenter;
use crate::tagger::{ModelFiles, RouteSpec};

pub use crate::segment::route::REPLAY;

/// A small held-out set, bundled for the before/after check of fine-tuning.
pub const MINI_DEV: &str = include_str!("../../data/replay/pku1998-dev-mini.txt");

/// How fine-tuning on corrections runs (defaults measured with the adaptation benchmark,
/// `cargo run --release --example adapt_bench`).
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptConfig {
    /// Passes over the mixed data.
    pub epochs: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Freeze the embeddings and the lowest `freeze - 1` layers.
    pub freeze: usize,
    /// Decay toward the starting weights.
    pub anchor_decay: f64,
    /// Replay sentences per correction (at least 16 in all; 0 turns replay off). 3 since stop
    /// 24: on the review pool's 50 picks (seeds 7, 8, 9) every correction came out right and
    /// PKU dev lost 0.33–0.45 F1 in 27–30 s, against 48–50 right, −0.36 to −0.81 and 34–37 s
    /// with 4 (`examples/review_bench.rs`).
    pub replay_per_correction: usize,
    /// Copies of each correction in the mix.
    pub repeat: usize,
    /// Augmented sentences per correction: its multi-character words placed into replay
    /// sentences.
    pub augment: usize,
    /// Example sentences the built-in LM writes for each corrected word, labelled by the base
    /// model with the corrected words forced (0: off). See [`generated_sentences`].
    pub generated: usize,
    /// Distillation from the base model on the replay sentences: the share of their loss that
    /// goes to the base model's tag distributions rather than their gold tags (0: off, gold
    /// only; 1: the base model only). See the module documentation. 1 since stop 24: with
    /// replay 3, on the review pool's 50 picks (seeds 7, 8, 9), PKU dev lost 0.29–0.37 F1
    /// against 0.33–0.45 without, at the same time, gain and exactness.
    pub distill: f64,
    /// Softmax temperature of the distilled distributions (1: as the model gives them).
    pub distill_temperature: f64,
    /// Random seed.
    pub seed: u64,
    /// Hand the sentences that read like the built-in model's training text back to it, at
    /// this margin ([`crate::segment::route`]; the new version keeps its corrected sentences
    /// in `route.json`); `None`: the new weights segment every sentence. −0.75 since stop 28:
    /// on the review pool's 50 picks (seeds 7, 8, 9) PKU dev lost 0.06–0.10 F1 instead of
    /// 0.29–0.37 and test 0.02–0.04 instead of 0.21–0.36, the rest of the pool gained
    /// +0.92 to +1.01 (unrouted +0.95 to +1.04), all 50 exact; with 20 picks +0.36 of the
    /// unrouted +0.45 (−0.5: +0.21) (`examples/review_bench.rs`, `ROUTE`).
    pub route: Option<f64>,
    /// Keep, with a routed version, the strings that at least two corrected sentences change
    /// the same way and none segments otherwise, and segment them so wherever the new weights'
    /// words start at the string's start and end at its end ([`crate::segment::rules`]). On
    /// since stop 31 (`RULES=off` in `examples/review_bench.rs`; `benchmarks/review/README.md`).
    pub rules: bool,
}

impl Default for AdaptConfig {
    fn default() -> Self {
        Self {
            epochs: 6,
            lr: 5e-4,
            freeze: 1,
            anchor_decay: 0.5,
            replay_per_correction: 3,
            repeat: 2,
            augment: 2,
            generated: 0,
            distill: 1.0,
            distill_temperature: 1.0,
            seed: 7,
            route: Some(-0.75),
            rules: true,
        }
    }
}

/// Builds the fine-tuning mix: corrections (repeated), augmented sentences and replay.
pub fn adaptation_data(
    corrections: &[Vec<String>],
    replay: &[Vec<String>],
    cfg: &AdaptConfig,
) -> Vec<Vec<String>> {
    adaptation_mix(corrections, replay, cfg).0
}

/// [`adaptation_data`] and, for each of its sentences, whether it is a replay sentence (the
/// last ones; augmented sentences are not).
fn adaptation_mix(
    corrections: &[Vec<String>],
    replay: &[Vec<String>],
    cfg: &AdaptConfig,
) -> (Vec<Vec<String>>, Vec<bool>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);
    let mut data = Vec::new();
    for _ in 0..cfg.repeat.max(1) {
        data.extend(corrections.iter().cloned());
    }
    if !replay.is_empty() {
        for c in corrections {
            let words: Vec<&String> = c.iter().filter(|w| w.chars().count() > 1).collect();
            for _ in 0..cfg.augment {
                let (Some(w), Some(host)) = (words.choose(&mut rng), replay.choose(&mut rng))
                else {
                    break;
                };
                let mut s = host.clone();
                let at = rng.random_range(0..=s.len());
                s.insert(at, (*w).clone());
                data.push(s);
            }
        }
        let n = match cfg.replay_per_correction {
            0 => 0,
            k => (corrections.len() * k).max(16).min(replay.len()),
        };
        let mut idx: Vec<usize> = (0..replay.len()).collect();
        idx.shuffle(&mut rng);
        let from = data.len();
        data.extend(idx.into_iter().take(n).map(|i| replay[i].clone()));
        let mut is_replay = vec![false; data.len()];
        is_replay[from..].fill(true);
        return (data, is_replay);
    }
    let n = data.len();
    (data, vec![false; n])
}

/// Fine-tunes `base` on corrected sentences without forgetting: lower layers frozen, decay
/// toward the starting weights, replay of original sentences, augmentation. Returns the
/// training summary (its `model` is the new model).
pub fn adapt(
    base: &ModelFiles,
    corrections: &[Vec<String>],
    cfg: &AdaptConfig,
    cancel: &AtomicBool,
    progress: impl FnMut(Progress),
) -> Result<Summary> {
    adapt_with(base, corrections, &[], cfg, cancel, progress)
}

/// The words a correction changed: its words that the base model's segmentation lacks
/// (multi-character ones when there are any).
pub fn corrected_words(seg: &Segmenter, correction: &[String]) -> Result<Vec<String>> {
    let out = seg.segment(&correction.concat())?;
    let had: HashSet<&str> = out.word_strs().into_iter().collect();
    let new: Vec<String> = correction
        .iter()
        .filter(|w| !had.contains(w.as_str()))
        .cloned()
        .collect();
    let multi: Vec<String> = new
        .iter()
        .filter(|w| w.chars().count() > 1)
        .cloned()
        .collect();
    Ok(if multi.is_empty() { new } else { multi })
}

/// Augmentation from the language model: for each correction, `per_word` example sentences
/// for each word it changed, segmented by `seg` with that correction's words forced (so the
/// new sentences teach the corrected words in other contexts). Words the LM cannot write are
/// skipped.
pub fn generated_sentences(
    seg: &Segmenter,
    generator: &mut crate::generate::Generator,
    corrections: &[Vec<String>],
    per_word: usize,
    seed: u64,
    cancel: &AtomicBool,
) -> Result<Vec<Vec<String>>> {
    let mut out = Vec::new();
    if per_word == 0 {
        return Ok(out);
    }
    let sampling = crate::generate::Sampling {
        temperature: 0.8,
        seed,
        max_tokens: 48,
        ..Default::default()
    };
    for c in corrections {
        let words = corrected_words(seg, c)?;
        let mut forced = seg.clone();
        forced.set_dict(
            c.iter()
                .filter(|w| w.chars().count() > 1)
                .cloned()
                .collect(),
        );
        for w in &words {
            let Ok((sents, _)) = generator.examples(
                &crate::generate::Ask::new(w, per_word),
                &sampling,
                cancel,
                |_| {},
            ) else {
                continue;
            };
            for s in forced.segment_batch(&sents)? {
                out.push(s.word_strs().into_iter().map(str::to_string).collect());
            }
        }
    }
    Ok(out)
}

/// [`adapt`] with `extra` sentences (e.g. [`generated_sentences`]) mixed in.
pub fn adapt_with(
    base: &ModelFiles,
    corrections: &[Vec<String>],
    extra: &[Vec<String>],
    cfg: &AdaptConfig,
    cancel: &AtomicBool,
    progress: impl FnMut(Progress),
) -> Result<Summary> {
    if corrections.is_empty() {
        return Err(TrainError::Data("no corrections to train on".into()));
    }
    let replay = read_gold(REPLAY);
    let layers = base.config.num_hidden_layers;
    // The replay sentences' teacher is what the base answers for them: a routed version hands
    // text like them (news) to the built-in model, so that is the teacher then.
    let teacher = match &base.route {
        Some(_) => ModelFiles::embedded()?,
        None => base.clone(),
    };
    let run = |init: &ModelFiles,
               (data, is_replay): &(Vec<Vec<String>>, Vec<bool>),
               epochs: usize,
               progress: &mut dyn FnMut(Progress)| {
        let trainer = Trainer {
            init: init.clone(),
            train: data,
            dev: &[],
            cfg: TrainConfig {
                epochs,
                lr: cfg.lr,
                batch_tokens: 1024,
                dropout: 0.1,
                freeze: cfg.freeze.min(layers),
                seed: cfg.seed,
                warmup: 0.1,
                weight_decay: 0.0,
                anchor_decay: cfg.anchor_decay,
                checkpoint_every: 0,
                keep_pos_head: true,
                ..TrainConfig::default()
            },
            out: None,
            f16: false,
            resume: false,
        };
        if cfg.distill > 0.0 {
            // The teacher is always the base model (see `teacher`), in the extra rounds too.
            let distill = Distill {
                teacher: &teacher,
                sentences: is_replay,
                weight: cfg.distill,
                temperature: cfg.distill_temperature,
            };
            trainer.run_distilled(&distill, cancel, progress)
        } else {
            trainer.run(cancel, progress)
        }
    };
    let mut progress = progress;
    let mut mix = adaptation_mix(corrections, &replay, cfg);
    mix.0.extend(extra.iter().cloned());
    mix.1.resize(mix.0.len(), false);
    let mut summary = run(base, &mix, cfg.epochs, &mut progress)?;
    // Corrections the model still gets wrong get up to two short extra rounds of their own
    // (with replay), so what the user corrected comes out as corrected.
    for round in 0..2 {
        if summary.cancelled {
            break;
        }
        let seg = Segmenter::new(&summary.model)?;
        let lines: Vec<String> = corrections.iter().map(|w| w.concat()).collect();
        let wrong: Vec<Vec<String>> = seg
            .segment_batch(&lines)?
            .iter()
            .zip(corrections)
            .filter(|(s, g)| s.word_strs() != g.iter().map(String::as_str).collect::<Vec<_>>())
            .map(|(_, g)| g.clone())
            .collect();
        if wrong.is_empty() {
            break;
        }
        let extra = AdaptConfig {
            repeat: 4,
            seed: cfg.seed + round + 1,
            ..cfg.clone()
        };
        let mix = adaptation_mix(&wrong, &replay, &extra);
        let steps = summary.steps;
        let mut next = run(&summary.model, &mix, 3, &mut progress)?;
        next.steps += steps;
        summary = next;
    }
    if let Some(margin) = cfg.route.filter(|_| !summary.cancelled) {
        let domain: Vec<String> = corrections.iter().map(|w| w.concat()).collect();
        let mut spec = RouteSpec::built_in(margin, domain);
        if cfg.rules {
            // What the corrections change, against what the model under the versions writes
            // (the built-in model behind a routed base; not the base itself, which already
            // writes the corrected sentences as corrected, so a second /train would find
            // nothing to keep).
            let before: Vec<Vec<String>> = Segmenter::new(&teacher)?
                .segment_batch(&spec.domain)?
                .iter()
                .map(|s| s.word_strs().into_iter().map(String::from).collect())
                .collect();
            spec.rules = crate::segment::rules::learn(&before, corrections);
        }
        summary.model.route = Some(spec);
    }
    Ok(summary)
}

/// A correction's sentence before and after fine-tuning.
#[derive(Debug, Clone, PartialEq)]
pub struct BeforeAfter {
    /// The words the user gave.
    pub gold: Vec<String>,
    /// The words before training.
    pub before: Vec<String>,
    /// The words after training.
    pub after: Vec<String>,
}

/// What training on the stored corrections did.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptReport {
    /// The new version's name (empty when cancelled).
    pub version: String,
    /// The version it was trained from.
    pub parent: String,
    /// Corrections trained on.
    pub corrections: usize,
    /// Of those, how many the new model segments exactly as corrected.
    pub exact_after: usize,
    /// ...and how many the old one did.
    pub exact_before: usize,
    /// Each corrected sentence before and after.
    pub diffs: Vec<BeforeAfter>,
    /// F1 on the bundled mini dev set before and after.
    pub dev_f1: (f64, f64),
    /// For a routed version ([`AdaptConfig::route`]): how many of the mini dev set's sentences
    /// it hands to the built-in model.
    pub routed: Option<usize>,
    /// The rules the corrections taught ([`crate::segment::rules`]).
    pub rules: Vec<crate::tagger::Rule>,
    /// Wall time in seconds.
    pub secs: f64,
    /// Whether it was cancelled (nothing was written then).
    pub cancelled: bool,
    /// Lines of the corrections file that could not be read (and were not trained on).
    pub warnings: Vec<String>,
}

impl AdaptReport {
    /// What a finished run reports, for the CLI and the TUI alike: the summary, each corrected
    /// sentence the old model got wrong (before and after), and the held-out check.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "trained {} on {} corrections in {:.1} s: {}/{} exactly as corrected (was {})",
            self.version,
            self.corrections,
            self.secs,
            self.exact_after,
            self.corrections,
            self.exact_before
        )];
        for d in self.diffs.iter().filter(|d| d.before != d.gold) {
            lines.push(format!("  before: {}", d.before.join(" ")));
            let ok = if d.after == d.gold {
                "✓"
            } else {
                "✗ still differs"
            };
            lines.push(format!("  after:  {} {ok}", d.after.join(" ")));
        }
        let n = read_gold(MINI_DEV).len();
        lines.push(format!(
            "held-out check ({n} sentences): F1 {:.2} → {:.2}",
            self.dev_f1.0 * 100.0,
            self.dev_f1.1 * 100.0
        ));
        if !self.rules.is_empty() {
            const SHOWN: usize = 8;
            let mut shown: Vec<String> = self
                .rules
                .iter()
                .take(SHOWN)
                .map(|r| format!("{} → {} ({}×)", r.text, r.words.join(" "), r.times))
                .collect();
            if self.rules.len() > SHOWN {
                shown.push(format!("{} more", self.rules.len() - SHOWN));
            }
            lines.push(format!(
                "rules from your corrections (changed the same way in at least two sentences, \
                 applied wherever {}'s words start and end where the string does): {}",
                self.version,
                shown.join(", ")
            ));
        }
        if let Some(k) = self.routed {
            lines.push(format!(
                "text like the built-in model's (news) stays with it: {k} of those {n} sentences; \
                 the rest, and text like your corrections, get {}",
                self.version
            ));
        }
        lines
    }
}
