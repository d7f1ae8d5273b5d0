//! [`Pretrainer`]: masked-LM pretraining of a tagger's encoder on raw text.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::data::{batches, pieces, Sample};
use super::epochs::{checkpoint_dir, saved_or, sorted_vars, start_state, EpochLoop};
use super::optim::AdamW;
use super::tagger::model_files;
use super::tagger::TrainConfig;
use super::{Progress, Result, Summary, TrainError};
use crate::segment::{CharTokenizer, PaddedBatch};
use crate::tagger::{self, BertTagger, ModelFiles};

/// Share of characters a masked-LM batch asks the model to predict (BERT's 15%).
pub const MLM_PREDICT: f64 = 0.15;

/// Masked-language-model pretraining of a tagger's encoder on raw text, before it learns to
/// tag ([`Trainer`] with the result as its start). BERT's recipe: of the characters chosen
/// ([`MLM_PREDICT`]), 80% become `[MASK]`, 10% another character of the batch, 10% stay; an
/// [`MlmHead`](tagger::MlmHead) tied to the word embeddings predicts the originals. Dictionary
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
pub(crate) fn raw_samples(text: &[String], tok: &CharTokenizer) -> Vec<Sample> {
    text.iter()
        .filter_map(|t| {
            let u = tok.units(t);
            let n = u.ids.len();
            (n > 0).then(|| Sample {
                ids: u.ids,
                types: u.types,
                labels: vec![0; n],
                starts: vec![true; n],
                soft: None,
            })
        })
        .collect()
}

/// One masked-LM batch: (input ids, token types, attention mask, flat rows to predict,
/// their original ids). [UNK] is never a target; a batch always has at least one target.
pub(crate) fn mlm_batch(
    batch: &[Sample],
    tok: &CharTokenizer,
    mask_id: u32,
    rng: &mut impl Rng,
) -> Result<[Tensor; 5]> {
    let b = batch.len();
    let pool: Vec<u32> = batch.iter().flat_map(|s| s.ids.iter().copied()).collect();
    let mut picked = Vec::new();
    let mut targets = Vec::new();
    let units: Vec<(&[u32], &[u32])> = batch.iter().map(|s| (&s.ids[..], &s.types[..])).collect();
    let padded = PaddedBatch::build(&units, tok, |r, j, orig| {
        let first = picked.is_empty() && r + 1 == b && j + 1 == batch[r].ids.len();
        if orig != tok.unk && (rng.random_bool(MLM_PREDICT) || first) {
            picked.push((r, j));
            targets.push(orig);
            let x: f32 = rng.random();
            if x < 0.8 {
                return mask_id;
            } else if x < 0.9 {
                return *pool.choose(rng).unwrap_or(&orig);
            }
        }
        orig
    });
    let mut rows: Vec<u32> = picked
        .iter()
        .map(|&(r, j)| padded.at(r, j) as u32)
        .collect();
    if rows.is_empty() {
        // Only [UNK]s: predict one anyway rather than return an empty loss.
        rows.push(1);
        targets.push(padded.ids[1]);
    }
    let (ids, types, mask) = padded.tensors()?;
    let d = &Device::Cpu;
    Ok([
        ids,
        types,
        mask,
        Tensor::new(rows.as_slice(), d)?,
        Tensor::new(targets.as_slice(), d)?,
    ])
}

impl Pretrainer<'_> {
    /// Runs pretraining; `cancel` stops it between steps (a checkpoint is written first).
    pub fn run(
        mut self,
        cancel: &AtomicBool,
        mut progress: impl FnMut(Progress),
    ) -> Result<Summary> {
        self.init = self.init.without_pos();
        let cfg = self.cfg.clone();
        let mcfg = self.init.config.clone();
        let tok = self.init.tokenizer()?;
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
        tensors.extend(tagger::MlmHead::init_tensors(&mcfg, cfg.seed)?);
        let vm = tagger::varmap_from(&tensors)?;
        let tagger = BertTagger::from_varmap(&mcfg, &vm)?;
        let head = tagger::MlmHead::from_tensors(&mcfg, &tagger::varmap_map(&vm))?;
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
            let mut f = model_files(&self.init, vm, &source, None)?;
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
                    let is_best = state.record_ppl(ppl);
                    progress(Progress::Perplexity {
                        epoch,
                        ppl,
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
            None => saved_or(self.out.as_deref(), || tagger_files(&vm))?,
        };
        Ok(Summary {
            model,
            best_dev_f1: None,
            best_dev_ppl: state.best_ppl(),
            steps: state.step,
            cancelled: out.cancelled,
            last_loss: out.last_loss,
        })
    }
}
