//! Training the tagger: fresh models and fine-tuning, on gold-segmented sentences.
//!
//! The loop follows candle's mnist-training example with three additions: an AdamW of our own
//! (its moments can be checkpointed, and it can decay weights toward the starting weights instead
//! of toward zero), frozen lower layers, and checkpoints that let a run resume after Ctrl-C.
//! Progress goes to one callback; the caller decides how to show it. Nothing here touches a
//! terminal.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::eval::Scores;
use crate::model::{
    self, BertConfig, BertTagger, LabelScheme, ModelError, ModelFiles, VocabSource,
};
use crate::segment::{gold_labels, CharTokenizer, SegmentError, Segmenter};

/// Errors while training.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The training data is unusable.
    #[error("{0}")]
    Data(String),
    /// Model or tokenizer trouble.
    #[error(transparent)]
    Segment(#[from] SegmentError),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl From<ModelError> for TrainError {
    fn from(e: ModelError) -> Self {
        TrainError::Segment(SegmentError::Model(e))
    }
}
impl From<candle_core::Error> for TrainError {
    fn from(e: candle_core::Error) -> Self {
        TrainError::Segment(e.into())
    }
}

/// Result type of this module.
pub type Result<T> = std::result::Result<T, TrainError>;

/// Reads gold-segmented text: one sentence a line, words separated by whitespace; blank lines are
/// skipped.
pub fn read_gold(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Hyper-parameters of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Padded tokens per batch.
    pub batch_tokens: usize,
    /// Dropout probability in training.
    pub dropout: f32,
    /// Freeze the embeddings and the lowest `freeze - 1` encoder layers (0 trains everything).
    pub freeze: usize,
    /// Random seed (init, shuffling, [UNK] replacement, dropout masks).
    pub seed: u64,
    /// Longest training piece in units; longer sentences are cut at word boundaries.
    pub max_units: usize,
    /// Fraction of steps spent warming the learning rate up.
    pub warmup: f64,
    /// Decoupled weight decay toward zero.
    pub weight_decay: f64,
    /// Decay toward the starting weights (L2-SP), for fine-tuning without forgetting.
    pub anchor_decay: f64,
    /// Probability of replacing a unit by [UNK] (teaches the model unseen characters).
    pub unk_prob: f64,
    /// Probability of cutting a sentence at a random word boundary (length variety).
    pub cut_prob: f64,
    /// Save a checkpoint every this many steps.
    pub checkpoint_every: usize,
    /// For a model with dictionary features: probability of replacing a training word by a
    /// random word of the same length from the model's word list that the training text never
    /// uses (new each epoch), so the model learns to segment unfamiliar words by the dictionary.
    #[serde(default)]
    pub lexicon_swap: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 3,
            lr: 1e-3,
            batch_tokens: 2048,
            dropout: 0.1,
            freeze: 0,
            seed: 42,
            max_units: 126,
            warmup: 0.05,
            weight_decay: 0.01,
            anchor_decay: 0.0,
            unk_prob: 0.0,
            cut_prob: 0.0,
            checkpoint_every: 200,
            lexicon_swap: 0.0,
        }
    }
}

/// What the trainer reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// A step finished.
    Step {
        /// Epoch (0-based).
        epoch: usize,
        /// Steps done in all.
        step: usize,
        /// Steps planned in all.
        total: usize,
        /// Mean loss of this batch.
        loss: f32,
        /// Units per second over the run so far.
        units_per_s: f64,
    },
    /// An evaluation on the dev set finished.
    Eval {
        /// Epoch (0-based).
        epoch: usize,
        /// Dev F1 in [0, 1].
        f1: f64,
        /// Whether it is the best so far (and so was saved).
        best: bool,
    },
    /// A language model's dev perplexity after an epoch.
    Perplexity {
        /// Epoch (0-based).
        epoch: usize,
        /// exp(mean negative log-likelihood per token).
        ppl: f64,
        /// Whether it is the best so far (and so was saved).
        best: bool,
    },
    /// A checkpoint was written.
    Checkpoint {
        /// Steps done.
        step: usize,
    },
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The trained model (the best on dev when a dev set was given, else the last).
    pub model: ModelFiles,
    /// Best dev F1, if evaluated.
    pub best_dev_f1: Option<f64>,
    /// Steps taken.
    pub steps: usize,
    /// Whether the run was cancelled before its last step.
    pub cancelled: bool,
    /// Training loss of the last step.
    pub last_loss: f32,
}

/// One sentence ready for training: unit ids, gold labels, and which units start a word.
#[derive(Debug, Clone)]
pub struct Sample {
    ids: Vec<u32>,
    /// Token-type ids (dictionary features; zeros for the LM and plain taggers).
    types: Vec<u32>,
    labels: Vec<u32>,
    starts: Vec<bool>,
}

/// Turns gold sentences into training samples for `tok` and `scheme`.
pub fn samples(sents: &[Vec<String>], tok: &CharTokenizer, scheme: &LabelScheme) -> Vec<Sample> {
    sents
        .iter()
        .filter_map(|words| {
            let text: String = words.concat();
            let units = tok.units(&text);
            if units.is_empty() {
                return None;
            }
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            let labels: Vec<u32> = gold_labels(&units, &refs, scheme)
                .into_iter()
                .map(|l| l as u32)
                .collect();
            let starts = labels
                .iter()
                .map(|&l| scheme.tag(l as usize).starts_word())
                .collect();
            Some(Sample {
                ids: units.ids,
                types: units.types,
                labels,
                starts,
            })
        })
        .collect()
}

/// Replaces training words by dictionary words the training text never uses
/// ([`TrainConfig::lexicon_swap`]).
struct LexiconSwap {
    /// Unused dictionary words (Chinese characters only) by length in characters.
    by_len: HashMap<usize, Vec<String>>,
    prob: f64,
}

fn all_han(w: &str) -> bool {
    w.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

impl LexiconSwap {
    fn new(train: &[Vec<String>], words: &crate::lexicon::WordSet, prob: f64) -> Option<Self> {
        if prob <= 0.0 {
            return None;
        }
        let seen: HashSet<&str> = train.iter().flatten().map(String::as_str).collect();
        let mut by_len: HashMap<usize, Vec<String>> = HashMap::new();
        for w in words.iter() {
            if all_han(w) && !seen.contains(w) {
                by_len
                    .entry(w.chars().count())
                    .or_default()
                    .push(w.to_string());
            }
        }
        for v in by_len.values_mut() {
            v.sort_unstable(); // the set's order is random; runs must repeat
        }
        Some(Self {
            by_len,
            prob: prob.clamp(0.0, 1.0),
        })
    }

    fn apply(&self, train: &[Vec<String>], rng: &mut impl Rng) -> Vec<Vec<String>> {
        train
            .iter()
            .map(|sent| {
                sent.iter()
                    .map(|w| {
                        let n = w.chars().count();
                        match self.by_len.get(&n) {
                            Some(pool) if n >= 2 && all_han(w) && rng.random_bool(self.prob) => {
                                pool.choose(rng).cloned().unwrap_or_else(|| w.clone())
                            }
                            _ => w.clone(),
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// Cuts samples into pieces of at most `max` units at word starts (hard cuts only inside words
/// longer than `max`); with probability `cut_prob` also cuts at one random word start.
fn pieces(samples: &[Sample], max: usize, cut_prob: f64, rng: &mut impl Rng) -> Vec<Sample> {
    let mut out = Vec::new();
    for s in samples {
        let n = s.ids.len();
        let mut cuts = vec![0];
        let mut last = 0;
        let mut last_start = 0;
        for i in 1..n {
            if s.starts[i] {
                last_start = i;
            }
            if i - last >= max {
                let c = if last_start > last { last_start } else { i };
                cuts.push(c);
                last = c;
            }
        }
        if cut_prob > 0.0 && rng.random_bool(cut_prob.clamp(0.0, 1.0)) {
            let starts: Vec<usize> = (1..n).filter(|&i| s.starts[i]).collect();
            if let Some(&c) = starts.choose(rng) {
                cuts.push(c);
            }
        }
        cuts.push(n);
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            if b > a {
                out.push(Sample {
                    ids: s.ids[a..b].to_vec(),
                    types: s.types[a..b].to_vec(),
                    labels: s.labels[a..b].to_vec(),
                    starts: s.starts[a..b].to_vec(),
                });
            }
        }
    }
    out
}

/// Groups samples into batches of similar length, at most `batch_tokens` padded tokens each.
fn batches(mut pieces: Vec<Sample>, batch_tokens: usize, rng: &mut impl Rng) -> Vec<Vec<Sample>> {
    pieces.shuffle(rng);
    let mut out = Vec::new();
    // Sort within chunks of ~100 batches: little padding, still random across the epoch.
    for chunk in pieces.chunks_mut(4096) {
        chunk.sort_by_key(|s| s.ids.len());
        let mut cur: Vec<Sample> = Vec::new();
        let mut cur_max = 0;
        for s in chunk.iter() {
            let t = s.ids.len() + 2;
            let new_max = cur_max.max(t);
            if !cur.is_empty() && new_max * (cur.len() + 1) > batch_tokens {
                out.push(std::mem::take(&mut cur));
                cur_max = 0;
            }
            cur_max = cur_max.max(t);
            cur.push(s.clone());
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out.shuffle(rng);
    out
}

/// AdamW with state we can save, and optional decay toward anchor weights (L2-SP).
struct AdamW {
    vars: Vec<(String, Var)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    anchors: Vec<Option<Tensor>>,
    t: usize,
    b1: f64,
    b2: f64,
    eps: f64,
    wd: f64,
    anchor_wd: f64,
}

impl AdamW {
    fn new(vars: Vec<(String, Var)>, wd: f64, anchor_wd: f64) -> Result<Self> {
        let m = vars
            .iter()
            .map(|(_, v)| v.as_tensor().zeros_like())
            .collect::<candle_core::Result<Vec<_>>>()?;
        let anchors = vars
            .iter()
            .map(|(_, v)| {
                if anchor_wd > 0.0 {
                    Some(v.as_tensor().detach().copy())
                } else {
                    None
                }
                .transpose()
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            v: m.clone(),
            m,
            anchors,
            vars,
            t: 0,
            b1: 0.9,
            b2: 0.999,
            eps: 1e-8,
            wd,
            anchor_wd,
        })
    }

    fn step(&mut self, grads: &candle_core::backprop::GradStore, lr: f64, clip: f64) -> Result<()> {
        self.t += 1;
        // Global gradient-norm clipping.
        let mut sq = 0f64;
        for (_, var) in &self.vars {
            if let Some(g) = grads.get(var.as_tensor()) {
                sq += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
            }
        }
        let norm = sq.sqrt();
        let scale = if norm > clip && norm.is_finite() {
            clip / norm
        } else {
            1.0
        };
        if !norm.is_finite() {
            // A NaN/inf gradient: skip the update rather than poison the weights.
            return Ok(());
        }
        let bc1 = 1.0 - self.b1.powi(self.t as i32);
        let bc2 = 1.0 - self.b2.powi(self.t as i32);
        for (i, (name, var)) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let g = (g * scale)?;
            self.m[i] = ((&self.m[i] * self.b1)? + (&g * (1.0 - self.b1))?)?;
            self.v[i] = ((&self.v[i] * self.b2)? + (g.sqr()? * (1.0 - self.b2))?)?;
            let mhat = (&self.m[i] / bc1)?;
            let vhat = (&self.v[i] / bc2)?;
            let upd = (mhat / (vhat.sqrt()? + self.eps)?)?;
            let theta = var.as_tensor();
            // No weight decay on biases and LayerNorm parameters.
            let decays = !(name.ends_with(".bias")
                || name.contains("LayerNorm")
                || name.ends_with("norm.weight"));
            let mut new = (theta - (upd * lr)?)?;
            if decays && self.wd > 0.0 {
                new = (new - (theta * (lr * self.wd))?)?;
            }
            if let Some(a) = &self.anchors[i] {
                new = (new - ((theta - a)? * (lr * self.anchor_wd))?)?;
            }
            var.set(&new)?;
        }
        Ok(())
    }
}

/// The state saved beside the moments in a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CkptState<C = TrainConfig> {
    epoch: usize,
    batch_in_epoch: usize,
    step: usize,
    adam_t: usize,
    /// Tagger: best dev F1. Language model: best dev perplexity, negated (higher is better).
    best_dev_f1: Option<f64>,
    train: C,
}

/// The learning rate at `step` of `total`: linear warm-up over a `warmup` fraction of the
/// steps, then linear decay to 2% of `peak`.
fn lr_at(peak: f64, warmup: f64, step: usize, total: usize) -> f64 {
    let warm = ((total as f64) * warmup).max(1.0);
    if (step as f64) < warm {
        peak * (step as f64 + 1.0) / warm
    } else {
        peak * (1.0 - (step as f64 - warm) / (total as f64 - warm).max(1.0)).max(0.02)
    }
}

/// Reads a checkpoint's weights and optimizer moments into `vm` and `opt`; returns its state.
fn load_checkpoint<C: serde::de::DeserializeOwned>(
    dir: &Path,
    vm: &VarMap,
    opt: &mut AdamW,
    fix_names: impl FnOnce(HashMap<String, Tensor>, &str) -> Result<HashMap<String, Tensor>>,
) -> Result<CkptState<C>> {
    let st: CkptState<C> = std::fs::read_to_string(dir.join("state.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .ok_or_else(|| {
            TrainError::Data(format!(
                "no usable checkpoint in {} (start without --resume)",
                dir.display()
            ))
        })?;
    let read = |name: &str| -> Result<(Vec<u8>, String)> {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|source| TrainError::Io {
            path: path.clone(),
            source,
        })?;
        Ok((bytes, path.display().to_string()))
    };
    let (bytes, file) = read("model.safetensors")?;
    let w = fix_names(model::parse_safetensors(&bytes, &file)?, &file)?;
    {
        let data = vm.data().lock().expect("varmap lock");
        for (k, var) in data.iter() {
            if let Some(t) = w.get(k) {
                var.set(t)?;
            }
        }
    }
    let (mbytes, mfile) = read("optimizer.safetensors")?;
    let mom = model::parse_safetensors(&mbytes, &mfile)?;
    for (i, (name, _)) in opt.vars.iter().enumerate() {
        if let (Some(m), Some(v)) = (mom.get(&format!("m.{name}")), mom.get(&format!("v.{name}"))) {
            opt.m[i] = m.clone();
            opt.v[i] = v.clone();
        }
    }
    opt.t = st.adam_t;
    Ok(st)
}

/// What [`EpochLoop::run`] ends with.
struct LoopEnd {
    cancelled: bool,
    last_loss: f32,
}

/// The training loop both trainers share: epochs of batches in an order fixed by the seed and
/// the epoch (so a resumed run replays it), cancel between steps, warm-up + linear decay,
/// AdamW, progress, periodic checkpoints, and an end-of-epoch hook (evaluate, keep the best).
struct EpochLoop<'a> {
    epochs: usize,
    seed: u64,
    lr: f64,
    warmup: f64,
    checkpoint_every: usize,
    ckpt: Option<&'a Path>,
    vm: &'a VarMap,
}

impl EpochLoop<'_> {
    #[allow(clippy::too_many_arguments)]
    fn run<C: Serialize>(
        &self,
        state: &mut CkptState<C>,
        opt: &mut AdamW,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(Progress),
        mut epoch_batches: impl FnMut(&mut rand::rngs::StdRng) -> Vec<Vec<Sample>>,
        mut loss_of: impl FnMut(&[Sample]) -> Result<(Tensor, usize)>,
        mut end_of_epoch: impl FnMut(usize, &mut CkptState<C>, &mut dyn FnMut(Progress)) -> Result<()>,
    ) -> Result<LoopEnd> {
        let epoch_rng = |epoch: usize| {
            rand::rngs::StdRng::seed_from_u64(self.seed ^ ((epoch as u64 + 1) * 0x9E37_79B9))
        };
        // The plan: every epoch's batches drawn once ahead (random cuts and swaps change their
        // number), so the schedule and the progress total are exact, and a resumed run agrees.
        // Only the counts are kept, so each epoch's batches are built twice: ~1.8 s an epoch for
        // the PKU training split with dictionary swaps (<1% of the epoch), where keeping every
        // epoch's batches would hold them all in memory at once.
        let total: usize = (0..self.epochs)
            .map(|e| epoch_batches(&mut epoch_rng(e)).len())
            .sum();
        let started = Instant::now();
        let mut units_done = 0usize;
        let mut last_loss = f32::NAN;
        let mut cancelled = false;
        'epochs: for epoch in state.epoch..self.epochs {
            let ep_batches = epoch_batches(&mut epoch_rng(epoch));
            let skip = if epoch == state.epoch {
                state.batch_in_epoch
            } else {
                0
            };
            for (bi, batch) in ep_batches.iter().enumerate().skip(skip) {
                if cancel.load(Ordering::Relaxed) {
                    cancelled = true;
                    state.epoch = epoch;
                    state.batch_in_epoch = bi;
                    break 'epochs;
                }
                let (loss, n) = loss_of(batch)?;
                let grads = loss.backward()?;
                let lr = lr_at(self.lr, self.warmup, state.step, total);
                opt.step(&grads, lr, 1.0)?;
                last_loss = loss.to_dtype(DType::F32)?.to_scalar::<f32>()?;
                units_done += n;
                state.step += 1;
                state.adam_t = opt.t;
                progress(Progress::Step {
                    epoch,
                    step: state.step,
                    total,
                    loss: last_loss,
                    units_per_s: units_done as f64 / started.elapsed().as_secs_f64().max(1e-9),
                });
                if let Some(dir) = self.ckpt {
                    if self.checkpoint_every > 0 && state.step.is_multiple_of(self.checkpoint_every)
                    {
                        state.epoch = epoch;
                        state.batch_in_epoch = bi + 1;
                        save_checkpoint(dir, self.vm, opt, state)?;
                        progress(Progress::Checkpoint { step: state.step });
                    }
                }
            }
            state.epoch = epoch + 1;
            state.batch_in_epoch = 0;
            end_of_epoch(epoch, state, progress)?;
            if let Some(dir) = self.ckpt {
                save_checkpoint(dir, self.vm, opt, state)?;
                progress(Progress::Checkpoint { step: state.step });
            }
        }
        if cancelled {
            if let Some(dir) = self.ckpt {
                save_checkpoint(dir, self.vm, opt, state)?;
                progress(Progress::Checkpoint { step: state.step });
            }
        }
        Ok(LoopEnd {
            cancelled,
            last_loss,
        })
    }
}

/// Where a run keeps its checkpoint: `<out>.ckpt` beside the output directory.
pub fn checkpoint_dir(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".ckpt");
    PathBuf::from(s)
}

/// The variables of `vm` that `train` selects, sorted by name: the optimizer's order, which its
/// checkpointed moments follow.
fn sorted_vars(vm: &VarMap, train: impl Fn(&str) -> bool) -> Vec<(String, Var)> {
    let data = vm.data().lock().expect("varmap lock");
    let mut v: Vec<(String, Var)> = data
        .iter()
        .filter(|(k, _)| train(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Where a run starts: step 0, or with `resume` the checkpoint `ckpt` (its weights into `vm`, its
/// moments into `opt`, names fixed by `fix_names`), carrying on with the hyper-parameters `cfg`.
fn start_state<C: Clone + serde::de::DeserializeOwned>(
    cfg: &C,
    ckpt: Option<&Path>,
    resume: bool,
    vm: &VarMap,
    opt: &mut AdamW,
    fix_names: impl FnOnce(HashMap<String, Tensor>, &str) -> Result<HashMap<String, Tensor>>,
) -> Result<CkptState<C>> {
    if !resume {
        return Ok(CkptState {
            epoch: 0,
            batch_in_epoch: 0,
            step: 0,
            adam_t: 0,
            best_dev_f1: None,
            train: cfg.clone(),
        });
    }
    let dir = ckpt.ok_or_else(|| TrainError::Data("--resume needs --out".into()))?;
    let mut state: CkptState<C> = load_checkpoint(dir, vm, opt, fix_names)?;
    state.train = cfg.clone();
    Ok(state)
}

/// The model a run ends with when no epoch ended in it (resumed after the last one, or cancelled
/// in the first): the best saved in `out` if there is one, else `current`.
fn saved_or(
    out: Option<&Path>,
    current: impl FnOnce() -> Result<ModelFiles>,
) -> Result<ModelFiles> {
    match out.filter(|o| o.join("config.json").is_file()) {
        Some(out) => Ok(ModelFiles::load_dir(out)?),
        None => current(),
    }
}

/// Which variables train with `freeze` = N: everything but the embeddings and layers < N-1.
pub fn trainable(name: &str, freeze: usize) -> bool {
    if freeze == 0 {
        return true;
    }
    if name.starts_with("bert.embeddings.") {
        return false;
    }
    if let Some(rest) = name.strip_prefix("bert.encoder.layer.") {
        let layer: usize = rest
            .split('.')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        return layer + 1 >= freeze;
    }
    true
}

/// Scores a model on gold sentences.
pub fn evaluate(
    seg: &Segmenter,
    gold: &[Vec<String>],
    vocab: Option<&HashSet<String>>,
) -> Result<Scores> {
    let mut scores = Scores::default();
    for chunk in gold.chunks(256) {
        let lines: Vec<String> = chunk.iter().map(|w| w.concat()).collect();
        let segs = seg.segment_batch(&lines)?;
        for (g, s) in chunk.iter().zip(&segs) {
            scores.add(g, &s.word_strs(), vocab);
        }
    }
    Ok(scores)
}

/// A training run: the starting model, the data and where to write.
pub struct Trainer<'a> {
    /// Starting point: a loaded model (fine-tune) or a fresh one from [`fresh_model`].
    pub init: ModelFiles,
    /// Training sentences.
    pub train: &'a [Vec<String>],
    /// Dev sentences for model selection (may be empty).
    pub dev: &'a [Vec<String>],
    /// Hyper-parameters.
    pub cfg: TrainConfig,
    /// Output directory (HF layout) and, beside it, the checkpoint; `None` keeps it in memory.
    pub out: Option<PathBuf>,
    /// Store the written weights as F16.
    pub f16: bool,
    /// Continue from the checkpoint beside `out`.
    pub resume: bool,
}

/// The model files of `init`'s kind holding the weights in `vm`.
fn model_files(init: &ModelFiles, vm: &VarMap, source: &str) -> Result<ModelFiles> {
    let tensors: HashMap<String, Tensor> = model::varmap_tensors(vm)?.into_iter().collect();
    Ok(ModelFiles {
        config: init.config.clone(),
        tensors,
        vocab: init.vocab.clone(),
        source: source.to_string(),
        features: init.features.clone(),
    })
}

fn save_checkpoint<C: Serialize>(
    dir: &Path,
    vm: &VarMap,
    opt: &AdamW,
    state: &CkptState<C>,
) -> Result<()> {
    let weights = model::safetensors_bytes(&model::varmap_tensors(vm)?, false)?;
    let mut moments = Vec::new();
    for (i, (name, _)) in opt.vars.iter().enumerate() {
        moments.push((format!("m.{name}"), opt.m[i].clone()));
        moments.push((format!("v.{name}"), opt.v[i].clone()));
    }
    let moments = model::safetensors_bytes(&moments, false)?;
    let state_json = serde_json::to_string_pretty(state).expect("state serializes");
    crate::store::write_dir_atomic(
        dir,
        &[
            ("model.safetensors", &weights),
            ("optimizer.safetensors", &moments),
            ("state.json", state_json.as_bytes()),
        ],
    )
    .map_err(|source| TrainError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

impl Trainer<'_> {
    /// Runs training; `cancel` stops it between steps (a checkpoint is written first).
    pub fn run(self, cancel: &AtomicBool, mut progress: impl FnMut(Progress)) -> Result<Summary> {
        let cfg = self.cfg.clone();
        let mcfg = self.init.config.clone();
        let scheme = mcfg.labels("config.json")?;
        let tok = CharTokenizer::new(&self.init.vocab)?.with_features(self.init.features.clone());
        if self.train.is_empty() {
            return Err(TrainError::Data("no training sentences".into()));
        }
        let max_units = cfg.max_units.min(mcfg.max_position_embeddings - 2).max(1);
        let data = samples(self.train, &tok, &scheme);
        let swap = match &self.init.features {
            Some(f) => LexiconSwap::new(self.train, f.words(), cfg.lexicon_swap),
            None if cfg.lexicon_swap > 0.0 => {
                return Err(TrainError::Data(
                    "lexicon swap needs a model with dictionary features".into(),
                ))
            }
            None => None,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);

        let vm = model::varmap_from(&self.init.sorted_tensors())?;
        // Frozen tensors enter the graph detached, so backprop stops at the lowest trained layer.
        let tagger = {
            let data = vm.data().lock().expect("varmap lock");
            let t: HashMap<String, Tensor> = data
                .iter()
                .map(|(k, v)| {
                    let t = if trainable(k, cfg.freeze) {
                        v.as_tensor().clone()
                    } else {
                        v.as_tensor().detach()
                    };
                    (k.clone(), t)
                })
                .collect();
            BertTagger::from_tensors(&mcfg, &t, false)?
        };
        let vars = sorted_vars(&vm, |k| trainable(k, cfg.freeze));
        let mut opt = AdamW::new(vars, cfg.weight_decay, cfg.anchor_decay)?;
        let ckpt = self.out.as_deref().map(checkpoint_dir);
        let mut state = start_state(&cfg, ckpt.as_deref(), self.resume, &vm, &mut opt, |w, f| {
            Ok(model::select_tensors(&w, &mcfg, scheme.len(), f)?)
        })?;

        let source = self
            .out
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "trained".into());
        let mut best: Option<ModelFiles> = None;
        // Dropout masks follow the step, so a resumed run draws the same ones.
        let mut steps_seen = state.step as u64;
        let out = EpochLoop {
            epochs: cfg.epochs,
            seed: cfg.seed,
            lr: cfg.lr,
            warmup: cfg.warmup,
            checkpoint_every: cfg.checkpoint_every,
            ckpt: ckpt.as_deref(),
            vm: &vm,
        }
        .run(
            &mut state,
            &mut opt,
            cancel,
            &mut progress,
            |erng| {
                let swapped;
                let data = match &swap {
                    Some(sw) => {
                        swapped = samples(&sw.apply(self.train, erng), &tok, &scheme);
                        &swapped
                    }
                    None => &data,
                };
                batches(
                    pieces(data, max_units, cfg.cut_prob, erng),
                    cfg.batch_tokens,
                    erng,
                )
            },
            |batch| {
                let t = batch.iter().map(|s| s.ids.len()).max().unwrap_or(0) + 2;
                let b = batch.len();
                let mut ids = vec![tok.pad; b * t];
                let mut types = vec![0u32; b * t];
                let mut mask = vec![0f32; b * t];
                let mut rows = Vec::new();
                let mut targets = Vec::new();
                for (r, s) in batch.iter().enumerate() {
                    ids[r * t] = tok.cls;
                    for (j, &id) in s.ids.iter().enumerate() {
                        let id = if cfg.unk_prob > 0.0 && rng.random_bool(cfg.unk_prob) {
                            tok.unk
                        } else {
                            id
                        };
                        ids[r * t + 1 + j] = id;
                        rows.push((r * t + 1 + j) as u32);
                        targets.push(s.labels[j]);
                    }
                    ids[r * t + 1 + s.ids.len()] = tok.sep;
                    types[r * t + 1..r * t + 1 + s.ids.len()].copy_from_slice(&s.types);
                    mask[r * t..r * t + s.ids.len() + 2].fill(1.0);
                }
                let n = targets.len();
                let ids = Tensor::from_vec(ids, (b, t), &Device::Cpu)?;
                let types = Tensor::from_vec(types, (b, t), &Device::Cpu)?;
                let mask = Tensor::from_vec(mask, (b, t), &Device::Cpu)?;
                let rows = Tensor::new(rows.as_slice(), &Device::Cpu)?;
                let targets = Tensor::new(targets.as_slice(), &Device::Cpu)?;
                steps_seen += 1;
                let drop_seed = cfg.seed ^ steps_seen.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let logits = tagger.forward(&ids, &types, &mask, Some((cfg.dropout, drop_seed)))?;
                let logits = logits
                    .reshape((b * t, scheme.len()))?
                    .index_select(&rows, 0)?;
                Ok((candle_nn::loss::cross_entropy(&logits, &targets)?, n))
            },
            |epoch, state, progress| {
                // End of epoch: evaluate, keep the best.
                let files = model_files(&self.init, &vm, &source)?;
                let is_best = if self.dev.is_empty() {
                    true
                } else {
                    let seg = Segmenter::new(&files)?;
                    let f1 = evaluate(&seg, self.dev, None)?.f1();
                    let is_best = state.best_dev_f1.is_none_or(|b| f1 > b);
                    progress(Progress::Eval {
                        epoch,
                        f1,
                        best: is_best,
                    });
                    if is_best {
                        state.best_dev_f1 = Some(f1);
                    }
                    is_best
                };
                if is_best {
                    if let Some(out) = &self.out {
                        files.save_dir(out, self.f16)?;
                    }
                    best = Some(files);
                }
                Ok(())
            },
        )?;
        let (cancelled, last_loss) = (out.cancelled, out.last_loss);
        let model = match best {
            Some(m) => m,
            None => saved_or(self.out.as_deref(), || {
                model_files(&self.init, &vm, &source)
            })?,
        };
        Ok(Summary {
            model,
            best_dev_f1: state.best_dev_f1,
            steps: state.step,
            cancelled,
            last_loss,
        })
    }
}

/// Share of characters a masked-LM batch asks the model to predict (BERT's 15%).
pub const MLM_PREDICT: f64 = 0.15;

/// Masked-language-model pretraining of a tagger's encoder on raw text, before it learns to
/// tag ([`Trainer`] with the result as its start). BERT's recipe: of the characters chosen
/// ([`MLM_PREDICT`]), 80% become `[MASK]`, 10% another character of the batch, 10% stay; an
/// [`MlmHead`](model::MlmHead) tied to the word embeddings predicts the originals. Dictionary
/// features, dropout, the schedule and checkpoints are as in tagging. The saved model is the
/// tagger with the new encoder and its classifier as it was (the head is dropped).
pub struct Pretrainer<'a> {
    /// Starting point: a fresh tagger from [`fresh_model`] or a trained one.
    pub init: ModelFiles,
    /// Raw sentences.
    pub text: &'a [String],
    /// Held-out raw sentences: masked-character perplexity after each epoch, the best kept.
    pub dev: &'a [String],
    /// Hyper-parameters (`freeze`, `unk_prob`, `anchor_decay` and `lexicon_swap` are unused).
    pub cfg: TrainConfig,
    /// Output directory and, beside it, the checkpoint; `None` keeps it in memory.
    pub out: Option<PathBuf>,
    /// Store the written weights as F16.
    pub f16: bool,
    /// Continue from the checkpoint beside `out`.
    pub resume: bool,
}

/// Raw sentences as samples (labels unused; pieces may be cut anywhere).
fn raw_samples(text: &[String], tok: &CharTokenizer) -> Vec<Sample> {
    text.iter()
        .filter_map(|t| {
            let u = tok.units(t);
            let n = u.ids.len();
            (n > 0).then(|| Sample {
                ids: u.ids,
                types: u.types,
                labels: vec![0; n],
                starts: vec![true; n],
            })
        })
        .collect()
}

/// One masked-LM batch: (input ids, token types, attention mask, flat rows to predict,
/// their original ids). [UNK] is never a target; a batch always has at least one target.
fn mlm_batch(
    batch: &[Sample],
    tok: &CharTokenizer,
    mask_id: u32,
    rng: &mut impl Rng,
) -> Result<[Tensor; 5]> {
    let t = batch.iter().map(|s| s.ids.len()).max().unwrap_or(0) + 2;
    let b = batch.len();
    let pool: Vec<u32> = batch.iter().flat_map(|s| s.ids.iter().copied()).collect();
    let mut ids = vec![tok.pad; b * t];
    let mut types = vec![0u32; b * t];
    let mut mask = vec![0f32; b * t];
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    for (r, s) in batch.iter().enumerate() {
        ids[r * t] = tok.cls;
        for (j, &orig) in s.ids.iter().enumerate() {
            let at = r * t + 1 + j;
            ids[at] = orig;
            let first = rows.is_empty() && r + 1 == b && j + 1 == s.ids.len();
            if orig != tok.unk && (rng.random_bool(MLM_PREDICT) || first) {
                rows.push(at as u32);
                targets.push(orig);
                let x: f32 = rng.random();
                if x < 0.8 {
                    ids[at] = mask_id;
                } else if x < 0.9 {
                    ids[at] = *pool.choose(rng).unwrap_or(&orig);
                }
            }
        }
        ids[r * t + 1 + s.ids.len()] = tok.sep;
        types[r * t + 1..r * t + 1 + s.ids.len()].copy_from_slice(&s.types);
        mask[r * t..r * t + s.ids.len() + 2].fill(1.0);
    }
    if rows.is_empty() {
        // Only [UNK]s: predict one anyway rather than return an empty loss.
        rows.push(1);
        targets.push(ids[1]);
    }
    let d = &Device::Cpu;
    Ok([
        Tensor::from_vec(ids, (b, t), d)?,
        Tensor::from_vec(types, (b, t), d)?,
        Tensor::from_vec(mask, (b, t), d)?,
        Tensor::new(rows.as_slice(), d)?,
        Tensor::new(targets.as_slice(), d)?,
    ])
}

impl Pretrainer<'_> {
    /// Runs pretraining; `cancel` stops it between steps (a checkpoint is written first).
    pub fn run(self, cancel: &AtomicBool, mut progress: impl FnMut(Progress)) -> Result<Summary> {
        let cfg = self.cfg.clone();
        let mcfg = self.init.config.clone();
        let tok = CharTokenizer::new(&self.init.vocab)?.with_features(self.init.features.clone());
        let mask_id = tok
            .token_id("[MASK]")
            .ok_or_else(|| TrainError::Data("the vocabulary has no [MASK] token".into()))?;
        let data = raw_samples(self.text, &tok);
        if data.is_empty() {
            return Err(TrainError::Data("no text to pretrain on".into()));
        }
        let dev = raw_samples(self.dev, &tok);
        let max_units = cfg.max_units.min(mcfg.max_position_embeddings - 2).max(1);
        let mut rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);

        let mut tensors = self.init.sorted_tensors();
        tensors.extend(model::MlmHead::init_tensors(&mcfg, cfg.seed)?);
        let vm = model::varmap_from(&tensors)?;
        let tagger = BertTagger::from_varmap(&mcfg, &vm)?;
        let head = model::MlmHead::from_tensors(&mcfg, &model::varmap_map(&vm))?;
        let mut opt = AdamW::new(sorted_vars(&vm, |_| true), cfg.weight_decay, 0.0)?;
        let ckpt = self.out.as_deref().map(checkpoint_dir);
        let mut state = start_state(&cfg, ckpt.as_deref(), self.resume, &vm, &mut opt, |w, _| {
            Ok(w)
        })?;
        let source = self
            .out
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "pretrained".into());
        // The tagger's files: the varmap without the head.
        let tagger_files = |vm: &VarMap| -> Result<ModelFiles> {
            let mut f = model_files(&self.init, vm, &source)?;
            f.tensors.retain(|k, _| !k.starts_with("cls."));
            Ok(f)
        };
        let mlm_loss =
            |batch: &[Sample], rng: &mut rand::rngs::StdRng, train: Option<(f32, u64)>| {
                let [ids, types, mask, rows, targets] = mlm_batch(batch, &tok, mask_id, rng)?;
                let x = tagger.encode(&ids, &types, &mask, train)?;
                let logits = head.forward(&x.index_select(&rows, 0)?, &tagger)?;
                let n = targets.dim(0)?;
                Ok::<_, TrainError>((candle_nn::loss::cross_entropy(&logits, &targets)?, n))
            };
        let mut best: Option<ModelFiles> = None;
        let mut steps_seen = state.step as u64;
        let out = EpochLoop {
            epochs: cfg.epochs,
            seed: cfg.seed,
            lr: cfg.lr,
            warmup: cfg.warmup,
            checkpoint_every: cfg.checkpoint_every,
            ckpt: ckpt.as_deref(),
            vm: &vm,
        }
        .run(
            &mut state,
            &mut opt,
            cancel,
            &mut progress,
            |erng| {
                batches(
                    pieces(&data, max_units, cfg.cut_prob, erng),
                    cfg.batch_tokens,
                    erng,
                )
            },
            |batch| {
                steps_seen += 1;
                let drop_seed = cfg.seed ^ steps_seen.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let (loss, _) = mlm_loss(batch, &mut rng, Some((cfg.dropout, drop_seed)))?;
                let n = batch.iter().map(|s| s.ids.len()).sum();
                Ok((loss, n))
            },
            |epoch, state, progress| {
                let files = tagger_files(&vm)?;
                let is_best = if dev.is_empty() {
                    true
                } else {
                    // The same masks every epoch, so the perplexities compare.
                    let mut drng = rand::rngs::StdRng::seed_from_u64(cfg.seed ^ 0xDE7);
                    let (mut nll, mut n) = (0f64, 0usize);
                    for b in batches(
                        pieces(&dev, max_units, 0.0, &mut drng.clone()),
                        cfg.batch_tokens,
                        &mut drng.clone(),
                    ) {
                        let (loss, k) = mlm_loss(&b, &mut drng, None)?;
                        nll += loss.to_dtype(DType::F32)?.to_scalar::<f32>()? as f64 * k as f64;
                        n += k;
                    }
                    let ppl = (nll / n.max(1) as f64).exp();
                    // Stored negated, like the language model's: higher is better.
                    let is_best = state.best_dev_f1.is_none_or(|b| -ppl > b);
                    progress(Progress::Perplexity {
                        epoch,
                        ppl,
                        best: is_best,
                    });
                    if is_best {
                        state.best_dev_f1 = Some(-ppl);
                    }
                    is_best
                };
                if is_best {
                    if let Some(out) = &self.out {
                        files.save_dir(out, self.f16)?;
                    }
                    best = Some(files);
                }
                Ok(())
            },
        )?;
        let model = match best {
            Some(m) => m,
            None => saved_or(self.out.as_deref(), || tagger_files(&vm))?,
        };
        Ok(Summary {
            model,
            best_dev_f1: state.best_dev_f1,
            steps: state.step,
            cancelled: out.cancelled,
            last_loss: out.last_loss,
        })
    }
}

/// A fresh, randomly initialised tagger over `vocab`.
pub fn fresh_model(
    vocab: VocabSource,
    layers: usize,
    hidden: usize,
    heads: usize,
    max_positions: usize,
    scheme: &LabelScheme,
    seed: u64,
) -> Result<ModelFiles> {
    let tok = CharTokenizer::new(&vocab)?;
    let cfg = BertConfig::new_tagger(
        tok.vocab_size(),
        layers,
        hidden,
        heads,
        max_positions,
        scheme,
    );
    let tensors = model::init_tensors(&cfg, scheme.len(), seed)?
        .into_iter()
        .collect();
    Ok(ModelFiles {
        config: cfg,
        tensors,
        vocab,
        source: "fresh".into(),
        features: None,
    })
}

/// Trims a BERT `vocab.txt` to what `texts` use: the special tokens, every token the texts
/// tokenize to at least `min_count` times, and the single ASCII letters and digits (plain and
/// `##`), so any Latin word still tokenizes. Everything else becomes [UNK].
pub fn trim_vocab(full: &[u8], texts: &[String], min_count: usize) -> Result<Vec<u8>> {
    let tok = CharTokenizer::new(&VocabSource::VocabTxt(full.to_vec()))?;
    let full_text = String::from_utf8_lossy(full);
    let tokens: Vec<&str> = full_text.lines().collect();
    let mut counts = vec![0usize; tokens.len()];
    for t in texts {
        for id in tok.units(t).ids {
            if let Some(c) = counts.get_mut(id as usize) {
                *c += 1;
            }
        }
    }
    let mut keep = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let bare = t.strip_prefix("##").unwrap_or(t);
        let special = matches!(*t, "[PAD]" | "[UNK]" | "[CLS]" | "[SEP]" | "[MASK]");
        let ascii1 = bare.len() == 1 && bare.chars().all(|c| c.is_ascii_alphanumeric());
        if special || ascii1 || counts[i] >= min_count.max(1) {
            keep.push(*t);
        }
    }
    let mut out = keep.join("\n");
    out.push('\n');
    Ok(out.into_bytes())
}

/// Sentences of the original training data, bundled for replay while fine-tuning.
pub const REPLAY: &str = include_str!("../data/replay/pku1998-train-sample.txt");
/// A small held-out set, bundled for the before/after check of fine-tuning.
pub const MINI_DEV: &str = include_str!("../data/replay/pku1998-dev-mini.txt");

/// How fine-tuning on corrections runs (defaults measured with the adaptation benchmark,
/// `scripts/adapt-bench.sh`).
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
    /// Replay sentences per correction (at least 16 in all; 0 turns replay off).
    pub replay_per_correction: usize,
    /// Copies of each correction in the mix.
    pub repeat: usize,
    /// Augmented sentences per correction: its multi-character words placed into replay
    /// sentences.
    pub augment: usize,
    /// Example sentences the built-in LM writes for each corrected word, labelled by the base
    /// model with the corrected words forced (0: off). See [`generated_sentences`].
    pub generated: usize,
    /// Random seed.
    pub seed: u64,
}

impl Default for AdaptConfig {
    fn default() -> Self {
        Self {
            epochs: 6,
            lr: 5e-4,
            freeze: 1,
            anchor_decay: 0.5,
            replay_per_correction: 4,
            repeat: 2,
            augment: 2,
            generated: 0,
            seed: 7,
        }
    }
}

/// Builds the fine-tuning mix: corrections (repeated), augmented sentences and replay.
pub fn adaptation_data(
    corrections: &[Vec<String>],
    replay: &[Vec<String>],
    cfg: &AdaptConfig,
) -> Vec<Vec<String>> {
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
        data.extend(idx.into_iter().take(n).map(|i| replay[i].clone()));
    }
    data
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
    let run = |init: &ModelFiles,
               data: &[Vec<String>],
               epochs: usize,
               progress: &mut dyn FnMut(Progress)| {
        Trainer {
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
                ..TrainConfig::default()
            },
            out: None,
            f16: false,
            resume: false,
        }
        .run(cancel, progress)
    };
    let mut progress = progress;
    let mut data = adaptation_data(corrections, &replay, cfg);
    data.extend(extra.iter().cloned());
    let mut summary = run(base, &data, cfg.epochs, &mut progress)?;
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
        let data = adaptation_data(&wrong, &replay, &extra);
        let steps = summary.steps;
        let mut next = run(&summary.model, &data, 3, &mut progress)?;
        next.steps += steps;
        summary = next;
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
    /// Wall time in seconds.
    pub secs: f64,
    /// Whether it was cancelled (nothing was written then).
    pub cancelled: bool,
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
        lines.push(format!(
            "held-out check ({} sentences): F1 {:.2} → {:.2}",
            read_gold(MINI_DEV).len(),
            self.dev_f1.0 * 100.0,
            self.dev_f1.1 * 100.0
        ));
        lines
    }
}

/// Loads the active model of data directory `dir`: its name and files.
pub fn load_active(dir: &Path) -> Result<(String, ModelFiles)> {
    let versions = crate::store::Versions::new(dir);
    let name = versions.active();
    let files = if name == "default" {
        ModelFiles::embedded()?
    } else {
        ModelFiles::load_dir(&versions.path(&name))?
    };
    Ok((name, files))
}

/// Fine-tunes the active model of data directory `dir` on every stored correction, writes the
/// result as a new version (atomically), makes it active and prunes old versions beyond `keep`.
/// One code path for `/train` and `fenci train`.
pub fn train_on_corrections(
    dir: &Path,
    cfg: &AdaptConfig,
    keep: usize,
    cancel: &AtomicBool,
    progress: impl FnMut(Progress),
) -> Result<AdaptReport> {
    let started = Instant::now();
    let store = crate::store::CorrectionStore::new(dir);
    let records = store
        .load()
        .map_err(|source| TrainError::Io {
            path: store.path().to_path_buf(),
            source,
        })?
        .records;
    if records.is_empty() {
        return Err(TrainError::Data(
            "no corrections yet: correct a sentence first (/fix in the app, or fenci correct \"词 词 词\")".into(),
        ));
    }
    let (parent, base) = load_active(dir)?;
    let gold: Vec<Vec<String>> = records.iter().map(|c| c.words.clone()).collect();
    let dev = read_gold(MINI_DEV);
    let before_seg = Segmenter::new(&base)?;
    let outputs = |seg: &Segmenter| -> Result<Vec<Vec<String>>> {
        let lines: Vec<String> = gold.iter().map(|w| w.concat()).collect();
        Ok(seg
            .segment_batch(&lines)?
            .into_iter()
            .map(|s| s.word_strs().into_iter().map(str::to_string).collect())
            .collect())
    };
    let before = outputs(&before_seg)?;
    let f1_before = evaluate(&before_seg, &dev, None)?.f1();
    let extra = if cfg.generated > 0 {
        let mut g =
            crate::generate::Generator::embedded().map_err(|e| TrainError::Data(e.to_string()))?;
        generated_sentences(&before_seg, &mut g, &gold, cfg.generated, cfg.seed, cancel)?
    } else {
        Vec::new()
    };
    let summary = adapt_with(&base, &gold, &extra, cfg, cancel, progress)?;
    if summary.cancelled {
        return Ok(AdaptReport {
            version: String::new(),
            parent,
            corrections: gold.len(),
            exact_after: 0,
            exact_before: 0,
            diffs: vec![],
            dev_f1: (f1_before, f1_before),
            secs: started.elapsed().as_secs_f64(),
            cancelled: true,
        });
    }
    let after_seg = Segmenter::new(&summary.model)?;
    let after = outputs(&after_seg)?;
    let f1_after = evaluate(&after_seg, &dev, None)?.f1();
    let versions = crate::store::Versions::new(dir);
    let name = versions.next_name();
    let meta = crate::store::VersionMeta {
        name: name.clone(),
        parent: parent.clone(),
        corrections: records.iter().map(|c| c.id).collect(),
        created: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        summary: format!(
            "{} corrections, {} steps, mini-dev F1 {:.2} → {:.2}",
            gold.len(),
            summary.steps,
            f1_before * 100.0,
            f1_after * 100.0
        ),
    };
    let meta_json = serde_json::to_string_pretty(&meta).expect("meta serializes");
    let io = |source| TrainError::Io {
        path: versions.path(&name),
        source,
    };
    summary.model.save_dir_with(
        &versions.path(&name),
        false,
        &[("fenci.json", meta_json.as_bytes())],
    )?;
    versions.set_active(&name).map_err(io)?;
    versions.prune(keep).map_err(io)?;
    let diffs: Vec<BeforeAfter> = gold
        .iter()
        .zip(before)
        .zip(after)
        .map(|((g, b), a)| BeforeAfter {
            gold: g.clone(),
            before: b,
            after: a,
        })
        .collect();
    Ok(AdaptReport {
        version: name,
        parent,
        corrections: gold.len(),
        exact_after: diffs.iter().filter(|d| d.after == d.gold).count(),
        exact_before: diffs.iter().filter(|d| d.before == d.gold).count(),
        diffs,
        dev_f1: (f1_before, f1_after),
        secs: started.elapsed().as_secs_f64(),
        cancelled: false,
    })
}

// ---------------------------------------------------------------------------------------------
// The causal language model: same optimizer, schedule, checkpoints and progress as the tagger
// ---------------------------------------------------------------------------------------------

/// Hyper-parameters of a language-model run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LmTrainConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Padded tokens per batch.
    pub batch_tokens: usize,
    /// Longest training sequence in tokens (end-of-text markers included).
    pub max_tokens: usize,
    /// Random seed (shuffling).
    pub seed: u64,
    /// Fraction of steps spent warming the learning rate up.
    pub warmup: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Save a checkpoint every this many steps.
    pub checkpoint_every: usize,
}

impl Default for LmTrainConfig {
    fn default() -> Self {
        Self {
            epochs: 1,
            lr: 2e-3,
            batch_tokens: 4096,
            max_tokens: 96,
            seed: 42,
            warmup: 0.03,
            weight_decay: 0.01,
            checkpoint_every: 200,
        }
    }
}

/// Splits raw text into sentences for the LM: at 。！？!? (kept) and line ends; whitespace
/// between CJK characters (as in gold-segmented files) is removed.
pub fn lm_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut cur = String::new();
        let mut prev: Option<char> = None;
        let chars: Vec<char> = line.trim().chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            if c.is_whitespace() {
                // Keep a space only between two Latin/digit characters.
                let next = chars.get(i + 1).copied();
                if prev.is_some_and(|p| p.is_ascii_alphanumeric())
                    && next.is_some_and(|n| n.is_ascii_alphanumeric())
                    && !cur.ends_with(' ')
                {
                    cur.push(' ');
                }
                continue;
            }
            if c.is_control() {
                continue;
            }
            cur.push(c);
            prev = Some(c);
            if matches!(c, '。' | '！' | '？' | '!' | '?') {
                let next = chars.get(i + 1).copied();
                // Keep a closing quote with its sentence.
                if !next.is_some_and(|n| matches!(n, '”' | '」' | '』' | '）' | ')' | '"')) {
                    let t = cur.trim().to_string();
                    if t.chars().count() >= 2 {
                        out.push(t);
                    }
                    cur.clear();
                }
            }
        }
        let t = cur.trim().to_string();
        if t.chars().count() >= 2 {
            out.push(t);
        }
    }
    out
}

/// A fresh qwen2 LM over `tokenizer` (random weights, tied embeddings).
pub fn fresh_lm(
    tokenizer: &tokenizers::Tokenizer,
    layers: usize,
    hidden: usize,
    heads: usize,
    kv_heads: usize,
    max_positions: usize,
    seed: u64,
) -> Result<crate::lm::LmFiles> {
    let mut cfg = crate::lm::small_qwen2_config(
        tokenizer.get_vocab_size(true),
        hidden,
        layers,
        heads,
        kv_heads,
        max_positions,
    );
    cfg["fenci_char_lm"] = serde_json::Value::Bool(true);
    let cfg_json = serde_json::to_string_pretty(&cfg).expect("config serializes");
    let lm_err = |e: crate::lm::LmError| TrainError::Data(e.to_string());
    let qcfg = match crate::lm::LmConfig::from_json(&cfg_json, "config.json").map_err(lm_err)? {
        crate::lm::LmConfig::Qwen2(c) => c,
        _ => unreachable!("small_qwen2_config is qwen2"),
    };
    let tensors = crate::lm::qwen2_init(&qcfg, seed).map_err(lm_err)?;
    let weights = model::safetensors_bytes(&tensors, false)?;
    let tok = tokenizer
        .to_string(false)
        .map_err(|e| TrainError::Data(e.to_string()))?;
    crate::lm::LmFiles::from_parts(&cfg_json, tok.as_bytes(), vec![weights], "fresh LM")
        .map_err(lm_err)
}

/// What an LM run produced.
#[derive(Debug, Clone)]
pub struct LmSummary {
    /// The trained model (best dev perplexity when a dev set was given, else the last).
    pub files: crate::lm::LmFiles,
    /// Best dev perplexity, if evaluated.
    pub best_dev_ppl: Option<f64>,
    /// Steps taken.
    pub steps: usize,
    /// Whether the run was cancelled before its last step.
    pub cancelled: bool,
    /// Training loss of the last step.
    pub last_loss: f32,
}

/// A language-model training run (qwen2 with tied embeddings, e.g. from [`fresh_lm`]).
pub struct LmTrainer<'a> {
    /// Starting model.
    pub init: crate::lm::LmFiles,
    /// Training sentences.
    pub train: &'a [String],
    /// Dev sentences for perplexity and model selection (may be empty).
    pub dev: &'a [String],
    /// Hyper-parameters.
    pub cfg: LmTrainConfig,
    /// Output directory (HF layout); the checkpoint goes beside it.
    pub out: Option<PathBuf>,
    /// Store the written weights as F16.
    pub f16: bool,
    /// Continue from the checkpoint beside `out`.
    pub resume: bool,
}

fn lm_samples(sents: &[String], tok: &tokenizers::Tokenizer, eos: u32, max: usize) -> Vec<Sample> {
    sents
        .iter()
        .filter_map(|s| {
            let enc = tok.encode(s.as_str(), false).ok()?;
            if enc.get_ids().is_empty() {
                return None;
            }
            let mut ids = vec![eos];
            ids.extend_from_slice(enc.get_ids());
            ids.push(eos);
            ids.truncate(max.max(2));
            Some(Sample {
                ids,
                types: Vec::new(),
                labels: Vec::new(),
                starts: Vec::new(),
            })
        })
        .collect()
}

/// Padded ids, flat positions whose next token is a target, and those targets.
fn lm_batch(batch: &[Sample], pad: u32) -> Result<(Tensor, Tensor, Tensor, usize)> {
    let t = batch.iter().map(|s| s.ids.len()).max().unwrap_or(1);
    let b = batch.len();
    let mut ids = vec![pad; b * t];
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    for (r, s) in batch.iter().enumerate() {
        ids[r * t..r * t + s.ids.len()].copy_from_slice(&s.ids);
        for j in 0..s.ids.len() - 1 {
            rows.push((r * t + j) as u32);
            targets.push(s.ids[j + 1]);
        }
    }
    let n = targets.len();
    Ok((
        Tensor::from_vec(ids, (b, t), &Device::Cpu)?,
        Tensor::new(rows.as_slice(), &Device::Cpu)?,
        Tensor::new(targets.as_slice(), &Device::Cpu)?,
        n,
    ))
}

fn lm_loss(model: &crate::lm::Qwen2Train, batch: &[Sample], pad: u32) -> Result<(Tensor, usize)> {
    let (ids, rows, targets, n) = lm_batch(batch, pad)?;
    let logits = model
        .forward(&ids)
        .map_err(|e| TrainError::Data(e.to_string()))?;
    let v = logits.dim(D::Minus1)?;
    let logits = logits.reshape(((), v))?.index_select(&rows, 0)?;
    Ok((candle_nn::loss::cross_entropy(&logits, &targets)?, n))
}

/// Perplexity of `model` on `samples` (mean over tokens).
fn lm_perplexity(model: &crate::lm::Qwen2Train, samples: &[Sample], pad: u32) -> Result<f64> {
    let mut nll = 0f64;
    let mut count = 0usize;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    for batch in batches(samples.to_vec(), 8192, &mut rng) {
        let (loss, n) = lm_loss(model, &batch, pad)?;
        nll += loss.to_scalar::<f32>()? as f64 * n as f64;
        count += n;
    }
    Ok((nll / count.max(1) as f64).exp())
}

use candle_core::D;

/// Perplexity of a qwen2 LM (tied embeddings) on `sentences` (each between end-of-text marks,
/// at most `max_tokens` tokens).
pub fn perplexity(
    files: &crate::lm::LmFiles,
    sentences: &[String],
    max_tokens: usize,
) -> Result<f64> {
    let crate::lm::LmConfig::Qwen2(cfg) = &files.config else {
        return Err(TrainError::Data("perplexity: qwen2 models only".into()));
    };
    let eos = files
        .token_id(crate::lm::EOS)
        .ok_or_else(|| TrainError::Data("the tokenizer has no end-of-text token".into()))?;
    let pad = files.token_id(crate::lm::PAD).unwrap_or(eos);
    let lm_err = |e: crate::lm::LmError| TrainError::Data(e.to_string());
    let lm = crate::lm::Qwen2Train::new(cfg, files.tensors().map_err(lm_err)?).map_err(lm_err)?;
    let samples = lm_samples(sentences, &files.tokenizer, eos, max_tokens);
    lm_perplexity(&lm, &samples, pad)
}

impl LmTrainer<'_> {
    /// Runs training; `cancel` stops it between steps (a checkpoint is written first). Reports
    /// [`Progress::Step`] (units are tokens) and [`Progress::Perplexity`].
    pub fn run(self, cancel: &AtomicBool, mut progress: impl FnMut(Progress)) -> Result<LmSummary> {
        use crate::lm::{LmConfig, LmFiles, Qwen2Train, EOS, PAD};
        let cfg = self.cfg.clone();
        let lm_err = |e: crate::lm::LmError| TrainError::Data(e.to_string());
        let LmConfig::Qwen2(qcfg) = &self.init.config else {
            return Err(TrainError::Data(
                "fenci trains qwen2 language models only".into(),
            ));
        };
        if !qcfg.tie_word_embeddings {
            return Err(TrainError::Data(
                "fenci trains qwen2 models with tied embeddings only".into(),
            ));
        }
        let tok = &self.init.tokenizer;
        let eos = tok
            .token_to_id(EOS)
            .ok_or_else(|| TrainError::Data(format!("the tokenizer has no {EOS}")))?;
        let pad = tok.token_to_id(PAD).unwrap_or(eos);
        let max = cfg.max_tokens.min(qcfg.max_position_embeddings).max(2);
        let data = lm_samples(self.train, tok, eos, max);
        if data.is_empty() {
            return Err(TrainError::Data("no training sentences".into()));
        }
        let dev = lm_samples(self.dev, tok, eos, max);
        let mut init: Vec<(String, Tensor)> =
            self.init.tensors().map_err(lm_err)?.into_iter().collect();
        init.sort_by(|a, b| a.0.cmp(&b.0));
        let vm = model::varmap_from(&init)?;
        let lm = Qwen2Train::new(qcfg, model::varmap_map(&vm)).map_err(lm_err)?;
        let mut opt = AdamW::new(sorted_vars(&vm, |_| true), cfg.weight_decay, 0.0)?;
        let ckpt = self.out.as_deref().map(checkpoint_dir);
        let mut state = start_state(&cfg, ckpt.as_deref(), self.resume, &vm, &mut opt, |w, _| {
            Ok(w)
        })?;
        let files_now = |vm: &VarMap| -> Result<LmFiles> {
            let t = model::varmap_tensors(vm)?;
            let mut f = self.init.clone();
            f.weights = vec![model::safetensors_bytes(&t, self.f16)?];
            f.source = self
                .out
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "trained LM".into());
            Ok(f)
        };
        let save = |f: &LmFiles| -> Result<()> {
            if let Some(out) = &self.out {
                f.save_dir(out).map_err(|source| TrainError::Io {
                    path: out.clone(),
                    source,
                })?;
            }
            Ok(())
        };
        let mut best: Option<LmFiles> = None;
        let out = EpochLoop {
            epochs: cfg.epochs,
            seed: cfg.seed,
            lr: cfg.lr,
            warmup: cfg.warmup,
            checkpoint_every: cfg.checkpoint_every,
            ckpt: ckpt.as_deref(),
            vm: &vm,
        }
        .run(
            &mut state,
            &mut opt,
            cancel,
            &mut progress,
            |erng| batches(data.clone(), cfg.batch_tokens, erng),
            |batch| lm_loss(&lm, batch, pad),
            |epoch, state, progress| {
                let files = files_now(&vm)?;
                let is_best = if dev.is_empty() {
                    true
                } else {
                    let ppl = lm_perplexity(&lm, &dev, pad)?;
                    let is_best = state.best_dev_f1.is_none_or(|b| -ppl > b);
                    progress(Progress::Perplexity {
                        epoch,
                        ppl,
                        best: is_best,
                    });
                    if is_best {
                        state.best_dev_f1 = Some(-ppl);
                    }
                    is_best
                };
                if is_best {
                    save(&files)?;
                    best = Some(files);
                }
                Ok(())
            },
        )?;
        let (cancelled, last_loss) = (out.cancelled, out.last_loss);
        let files = match best {
            Some(f) => f,
            None => match self
                .out
                .as_deref()
                .filter(|o| o.join("config.json").is_file())
            {
                Some(out) => LmFiles::load_dir(out).map_err(lm_err)?,
                None => files_now(&vm)?,
            },
        };
        Ok(LmSummary {
            files,
            best_dev_ppl: state.best_dev_f1.map(|b| -b),
            steps: state.step,
            cancelled,
            last_loss,
        })
    }
}
