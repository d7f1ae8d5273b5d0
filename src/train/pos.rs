//! [`PosTrainer`]: trains a model's part-of-speech head ([`crate::tagger::PosHead`]) on
//! `word/tag` gold text over the frozen segmentation encoder. Each character is labelled with the
//! tag of the word it belongs to (gold segmentation); the encoder runs in inference mode on each
//! batch (caching its hidden states instead would hold 1.48 M × 3 × 256 floats for the PKU split) (no gradients reach it, so segmentation is unchanged), the head in training mode. AdamW,
//! warm-up + linear decay, seeded, checkpoints and resuming as in the other trainers; the epoch
//! with the best dev tagging accuracy (on the words the model segments right) is kept.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::data::{batches, pieces, Sample};
use super::epochs::{checkpoint_dir, saved_or, sorted_vars, start_state, EpochLoop};
use super::optim::AdamW;
use super::{Progress, Result, TrainError};
use crate::eval::PosScores;
use crate::segment::{PaddedBatch, Segmenter};
use crate::tagger::{self, BertTagger, ModelFiles, PosConfig, PosHead};

/// Hyper-parameters of a POS head run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PosTrainConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Padded tokens per batch.
    pub batch_tokens: usize,
    /// Dropout probability in the head's layers while training.
    pub dropout: f32,
    /// Random seed (init, batches, dropout masks).
    pub seed: u64,
    /// Longest training piece in units; longer sentences are cut at word boundaries.
    pub max_units: usize,
    /// Fraction of steps spent warming the learning rate up.
    pub warmup: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Save a checkpoint every this many steps.
    pub checkpoint_every: usize,
    /// Encoder layers of the head.
    pub num_layers: usize,
}

impl Default for PosTrainConfig {
    fn default() -> Self {
        Self {
            epochs: 3,
            lr: 1e-3,
            batch_tokens: 2048,
            dropout: 0.1,
            seed: 42,
            max_units: 126,
            warmup: 0.05,
            weight_decay: 0.01,
            checkpoint_every: 200,
            num_layers: 1,
        }
    }
}

/// A tag as the head learns it: PKU's two one-off tags folded into their common forms
/// (`vvn` → `v`, `na` → `n`, each once in the training split).
pub fn normalize_tag(tag: &str) -> &str {
    match tag {
        "vvn" => "v",
        "na" => "n",
        t => t,
    }
}

/// Reads `word/tag` gold text: one sentence a line, blank lines skipped. A token without a
/// `/tag` is an error naming its line.
pub fn read_pos_gold(text: &str) -> Result<Vec<Vec<(String, String)>>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut words = Vec::new();
        for tok in line.split_whitespace() {
            let (w, t) = crate::eval::split_tagged(tok).ok_or_else(|| {
                TrainError::Data(format!(
                    "line {}: `{tok}` is not word/TAG (POS training needs the PKU word/tag format)",
                    i + 1
                ))
            })?;
            words.push((w.to_string(), normalize_tag(t).to_string()));
        }
        out.push(words);
    }
    Ok(out)
}

/// The tag set of training sentences, most frequent first (ties by name).
pub fn tag_set(sents: &[Vec<(String, String)>]) -> Vec<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (_, t) in sents.iter().flatten() {
        *counts.entry(t.as_str()).or_default() += 1;
    }
    let mut v: Vec<(&str, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.into_iter().map(|(t, _)| t.to_string()).collect()
}

/// Training samples: each unit labelled with its word's tag id (`starts`: the unit starts a
/// word, where pieces may be cut). Tags outside `tags` make the sentence's unit label the
/// first tag (none occur when `tags` comes from the same data).
fn pos_samples(
    sents: &[Vec<(String, String)>],
    tok: &crate::text::CharTokenizer,
    tags: &[String],
) -> Vec<Sample> {
    let id: HashMap<&str, u32> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i as u32))
        .collect();
    sents
        .iter()
        .filter_map(|words| {
            let text: String = words.iter().map(|w| w.0.as_str()).collect();
            let units = tok.units(&text);
            if units.is_empty() {
                return None;
            }
            // The word index and start of each character.
            let mut word_of = Vec::new();
            let mut starts_at = Vec::new();
            for (wi, (w, _)) in words.iter().enumerate() {
                for (ci, _) in w.chars().enumerate() {
                    word_of.push(wi);
                    starts_at.push(ci == 0);
                }
            }
            let labels = units
                .spans
                .iter()
                .map(|r| {
                    let wi = word_of.get(r.start).copied().unwrap_or(0);
                    id.get(words[wi].1.as_str()).copied().unwrap_or(0)
                })
                .collect();
            let starts = units
                .spans
                .iter()
                .map(|r| starts_at.get(r.start).copied().unwrap_or(true))
                .collect();
            Some(Sample {
                ids: units.ids,
                types: units.types,
                labels,
                starts,
                soft: None,
            })
        })
        .collect()
}

/// Scores a model's POS tagging on `word/tag` gold sentences (it segments them itself).
pub fn evaluate_pos(seg: &Segmenter, gold: &[Vec<(String, String)>]) -> Result<PosScores> {
    let mut seg = seg.clone();
    seg.set_pos(true);
    let mut scores = PosScores::default();
    for chunk in gold.chunks(256) {
        let lines: Vec<String> = chunk
            .iter()
            .map(|w| w.iter().map(|x| x.0.as_str()).collect())
            .collect();
        for (g, s) in chunk.iter().zip(seg.segment_batch(&lines)?) {
            let pred: Vec<(&str, &str)> = s
                .words
                .iter()
                .zip(&s.pos)
                .map(|(w, p)| (w.text.as_str(), p.tag.as_str()))
                .collect();
            scores.add(g, &pred);
        }
    }
    Ok(scores)
}

/// What a POS head run produced.
#[derive(Debug, Clone)]
pub struct PosSummary {
    /// The model with its trained head (the best on dev when a dev set was given, else the
    /// last).
    pub model: ModelFiles,
    /// Best dev tagging accuracy on correctly segmented words, if evaluated.
    pub best_dev_accuracy: Option<f64>,
    /// Steps taken.
    pub steps: usize,
    /// Whether the run was cancelled before its last step.
    pub cancelled: bool,
    /// Training loss of the last step.
    pub last_loss: f32,
}

/// A POS head training run.
pub struct PosTrainer<'a> {
    /// The model whose encoder the head reads (any POS head it has is replaced).
    pub init: ModelFiles,
    /// Training sentences, `(word, tag)`.
    pub train: &'a [Vec<(String, String)>],
    /// Dev sentences for model selection (may be empty).
    pub dev: &'a [Vec<(String, String)>],
    /// Hyper-parameters.
    pub cfg: PosTrainConfig,
    /// Output directory (HF layout) and, beside it, the checkpoint; `None` keeps it in memory.
    pub out: Option<PathBuf>,
    /// Store the written weights as F16.
    pub f16: bool,
    /// Continue from the checkpoint beside `out`.
    pub resume: bool,
}

impl PosTrainer<'_> {
    /// Runs training; `cancel` stops it between steps (a checkpoint is written first).
    pub fn run(
        self,
        cancel: &AtomicBool,
        mut progress: impl FnMut(Progress),
    ) -> Result<PosSummary> {
        let cfg = self.cfg.clone();
        if self.train.is_empty() {
            return Err(TrainError::Data("no training sentences".into()));
        }
        if cfg.num_layers == 0 {
            return Err(TrainError::Data("a POS head needs at least 1 layer".into()));
        }
        let base = self.init.without_pos();
        let mcfg = base.config.clone();
        let tok = base.tokenizer()?;
        let tags = tag_set(self.train);
        // The word-tag counts of the training text ride along with the head (PosLexicon).
        let lexicon_text = tagger::PosLexicon::count_pairs(
            self.train
                .iter()
                .flatten()
                .map(|(w, t)| (w.as_str(), t.as_str())),
            &tags,
        );
        // The word-level context model (about a minute; tagger::PosContext) rides along too.
        let ctx_cfg = super::PosContextConfig::default();
        let context_text =
            super::train_pos_context(self.train, &tags, ctx_cfg, cancel, |_, _, _| {})?
                .to_text(&tags);
        let pos = PosConfig {
            tags,
            num_layers: cfg.num_layers,
            // Chosen on pku1998/dev with examples/pos_prior.rs (BENCHMARKS.md).
            lexicon: Some(tagger::LexiconPrior {
                weight: 1.5,
                smoothing: 0.01,
            }),
            context: Some(tagger::ContextWeights {
                head_weight: ctx_cfg.head_weight,
                temperature: ctx_cfg.temperature,
            }),
        };
        let mut head_cfg = mcfg.clone();
        head_cfg.set_pos_head(Some(&pos));
        let max_units = cfg.max_units.min(mcfg.max_position_embeddings - 2).max(1);
        let data = pos_samples(self.train, &tok, &pos.tags);
        // The frozen encoder, in inference mode (fused kernels, no gradients).
        let encoder = BertTagger::from_tensors(&mcfg, &base.tensors, true)?;
        // A model that already has a head of this shape and tag set goes on from it (more
        // epochs on top of an earlier run); otherwise the head starts fresh.
        let mut init_tensors = tagger::init_pos_tensors(&mcfg, &pos, cfg.seed)?;
        let warm = self
            .init
            .config
            .pos_head("config.json")?
            .is_some_and(|p| p.tags == pos.tags && p.num_layers == pos.num_layers);
        if warm {
            for (name, t) in init_tensors.iter_mut() {
                if let Some(old) = self.init.tensors.get(name).filter(|o| o.dims() == t.dims()) {
                    *t = old.clone();
                }
            }
        }
        let vm = tagger::varmap_from(&init_tensors)?;
        let head = PosHead::from_tensors(&head_cfg, &tagger::varmap_map(&vm), false)?
            .ok_or_else(|| TrainError::Data("the POS head config was lost".into()))?;
        let mut opt = AdamW::new(sorted_vars(&vm, |_| true), cfg.weight_decay, 0.0)?;
        let ckpt = self.out.as_deref().map(checkpoint_dir);
        let mut state = start_state(&cfg, ckpt.as_deref(), self.resume, &vm, &mut opt, |w, _| {
            Ok(w)
        })?;
        let source = self
            .out
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "trained".into());
        let files_of = |vm: &candle_nn::VarMap| -> Result<ModelFiles> {
            let mut f = base.clone();
            f.source = source.clone();
            f.set_pos_head(&pos, tagger::varmap_tensors(vm)?)?;
            f.pos_lexicon = Some(lexicon_text.clone());
            f.pos_context = Some(context_text.clone());
            Ok(f)
        };
        let mut best: Option<ModelFiles> = None;
        let mut steps_seen = state.step as u64;
        let end = EpochLoop {
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
            |erng| batches(pieces(&data, max_units, 0.0, erng), cfg.batch_tokens, erng),
            |batch| {
                let mut picked = Vec::new();
                let mut targets = Vec::new();
                let units: Vec<(&[u32], &[u32])> =
                    batch.iter().map(|s| (&s.ids[..], &s.types[..])).collect();
                let padded = PaddedBatch::build(&units, &tok, |r, j, id| {
                    picked.push((r, j));
                    targets.push(batch[r].labels[j]);
                    id
                });
                let rows: Vec<u32> = picked
                    .iter()
                    .map(|&(r, j)| padded.at(r, j) as u32)
                    .collect();
                let n = targets.len();
                let (ids, types, mask) = padded.tensors()?;
                let states: Vec<Tensor> = encoder
                    .hidden_states(&ids, &types, &mask, None, true)?
                    .into_iter()
                    .map(|s| s.detach())
                    .collect();
                steps_seen += 1;
                let drop_seed = cfg.seed ^ steps_seen.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let logits = head.forward(&states, &mask, Some((cfg.dropout, drop_seed)))?;
                let rows = Tensor::new(rows.as_slice(), &Device::Cpu)?;
                let targets = Tensor::new(targets.as_slice(), &Device::Cpu)?;
                let logits = logits.index_select(&rows, 0)?;
                Ok((candle_nn::loss::cross_entropy(&logits, &targets)?, n))
            },
            |epoch, state, progress| {
                let files = files_of(&vm)?;
                let is_best = if self.dev.is_empty() {
                    true
                } else {
                    let seg = Segmenter::new(&files)?;
                    let s = evaluate_pos(&seg, self.dev)?;
                    let is_best = state.record(s.accuracy());
                    progress(Progress::PosEval {
                        epoch,
                        accuracy: s.accuracy(),
                        joint_f1: s.f1(),
                        best: is_best,
                    });
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
            None => saved_or(self.out.as_deref(), || files_of(&vm))?,
        };
        Ok(PosSummary {
            model,
            best_dev_accuracy: state.best,
            steps: state.step,
            cancelled: end.cancelled,
            last_loss: end.last_loss,
        })
    }
}
