//! [`Trainer`]: training or fine-tuning the tagger on gold-segmented sentences; a fresh
//! model, a trimmed vocabulary, and evaluation on a dev set.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::data::{batches, pieces, samples, LexiconSwap};
use super::epochs::{checkpoint_dir, saved_or, sorted_vars, start_state, EpochLoop};
use super::optim::AdamW;
use super::{Progress, Result, Summary, TrainError};
use crate::eval::Scores;
use crate::segment::{CharTokenizer, PaddedBatch, Segmenter};
use crate::tagger::{self, BertConfig, BertTagger, LabelScheme, ModelFiles, VocabSource};

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
pub(crate) fn model_files(init: &ModelFiles, vm: &VarMap, source: &str) -> Result<ModelFiles> {
    let tensors: HashMap<String, Tensor> = tagger::varmap_tensors(vm)?
        .into_iter()
        .filter(|(k, _)| !tagger::is_pos_tensor(k))
        .collect();
    let mut config = init.config.clone();
    config.set_pos_head(None);
    Ok(ModelFiles {
        config,
        tensors,
        vocab: init.vocab.clone(),
        source: source.to_string(),
        features: init.features.clone(),
        tokenizer_config: init.tokenizer_config.clone(),
        pos_lexicon: None,
        pos_context: None,
    })
}

impl Trainer<'_> {
    /// Runs training; `cancel` stops it between steps (a checkpoint is written first).
    pub fn run(
        mut self,
        cancel: &AtomicBool,
        mut progress: impl FnMut(Progress),
    ) -> Result<Summary> {
        // The encoder changes: a POS head trained on it would no longer match (see the module).
        self.init = self.init.without_pos();
        let cfg = self.cfg.clone();
        let mcfg = self.init.config.clone();
        let scheme = mcfg.labels("config.json")?;
        let tok = self.init.tokenizer()?;
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

        let vm = tagger::varmap_from(&self.init.sorted_tensors())?;
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
            Ok(tagger::select_tensors(&w, &mcfg, scheme.len(), f)?)
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
                let b = batch.len();
                let mut picked = Vec::new();
                let mut targets = Vec::new();
                let units: Vec<(&[u32], &[u32])> =
                    batch.iter().map(|s| (&s.ids[..], &s.types[..])).collect();
                let padded = PaddedBatch::build(&units, &tok, |r, j, id| {
                    let id = if cfg.unk_prob > 0.0 && rng.random_bool(cfg.unk_prob) {
                        tok.unk
                    } else {
                        id
                    };
                    picked.push((r, j));
                    targets.push(batch[r].labels[j]);
                    id
                });
                let t = padded.width;
                let rows: Vec<u32> = picked
                    .iter()
                    .map(|&(r, j)| padded.at(r, j) as u32)
                    .collect();
                let n = targets.len();
                let (ids, types, mask) = padded.tensors()?;
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
                    let is_best = state.record(f1);
                    progress(Progress::Eval {
                        epoch,
                        f1,
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
        let (cancelled, last_loss) = (out.cancelled, out.last_loss);
        let model = match best {
            Some(m) => m,
            None => saved_or(self.out.as_deref(), || {
                model_files(&self.init, &vm, &source)
            })?,
        };
        Ok(Summary {
            model,
            best_dev_f1: state.best,
            best_dev_ppl: None,
            steps: state.step,
            cancelled,
            last_loss,
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
    let tensors = tagger::init_tensors(&cfg, scheme.len(), seed)?
        .into_iter()
        .collect();
    Ok(ModelFiles {
        config: cfg,
        tensors,
        vocab,
        source: "fresh".into(),
        features: None,
        tokenizer_config: None,
        pos_lexicon: None,
        pos_context: None,
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
