//! [`Trainer`]: training or fine-tuning the tagger on gold-segmented sentences; a fresh
//! model, a trimmed vocabulary, and evaluation on a dev set.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::data::{batches, pieces, samples, LexiconSwap, Sample};
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
    /// Carry the initial model's part-of-speech head (its weights unchanged, with its lexicon
    /// and context model) into the result. For adaptation on a few corrections, which moves the
    /// encoder little: without it, the trained version loses the parts of speech that the
    /// explanations choose readings and senses with.
    #[serde(default)]
    pub keep_pos_head: bool,
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
            keep_pos_head: false,
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

/// The model files of `init`'s kind holding the weights in `vm`; with `pos_from`, that
/// model's part-of-speech head as it was (see [`TrainConfig::keep_pos_head`]), else none.
pub(crate) fn model_files(
    init: &ModelFiles,
    vm: &VarMap,
    source: &str,
    pos_from: Option<&ModelFiles>,
) -> Result<ModelFiles> {
    let tensors: HashMap<String, Tensor> = tagger::varmap_tensors(vm)?
        .into_iter()
        .filter(|(k, _)| !tagger::is_pos_tensor(k))
        .collect();
    let mut config = init.config.clone();
    config.set_pos_head(None);
    let mut files = ModelFiles {
        config,
        tensors,
        vocab: init.vocab.clone(),
        source: source.to_string(),
        features: init.features.clone(),
        tokenizer_config: init.tokenizer_config.clone(),
        pos_lexicon: None,
        pos_context: None,
        route: None,
    };
    if let Some(p) = pos_from.filter(|p| p.pos_config().is_some()) {
        files.config = p.config.clone();
        files.tensors.extend(
            p.tensors
                .iter()
                .filter(|(k, _)| tagger::is_pos_tensor(k))
                .map(|(k, t)| (k.clone(), t.clone())),
        );
        files.pos_lexicon = p.pos_lexicon.clone();
        files.pos_context = p.pos_context.clone();
    }
    Ok(files)
}

/// Distillation while training ([`Trainer::run_distilled`]): the chosen training sentences
/// learn a frozen teacher's tag distributions instead of (or besides) their gold tags. For
/// fine-tuning without forgetting, the teacher is the model before fine-tuning and the chosen
/// sentences are the replayed ones: they then keep what the old model said about them, its
/// doubts included, rather than only the gold tags.
#[derive(Debug, Clone, Copy)]
pub struct Distill<'a> {
    /// The teacher (same vocabulary, features and tags as the model trained).
    pub teacher: &'a ModelFiles,
    /// Which training sentences learn from the teacher (one flag per training sentence).
    pub sentences: &'a [bool],
    /// The teacher's share of those sentences' loss, 0 to 1 (1: the teacher alone; the rest
    /// goes to their gold tags).
    pub weight: f64,
    /// Softmax temperature of the teacher's and the student's distributions in the distilled
    /// term (1: as they are; higher: softer); that term is scaled by its square, as usual.
    pub temperature: f64,
}

/// The teacher's tag probabilities at `temperature` for `sents` (`units × labels` per sentence,
/// the units `tok` gives, as [`samples`] uses them).
fn teacher_probs(
    teacher: &ModelFiles,
    sents: &[&Vec<String>],
    tok: &CharTokenizer,
    labels: usize,
    temperature: f64,
) -> Result<Vec<Vec<f32>>> {
    let seg = Segmenter::new(teacher)?;
    if seg.model().labels().len() != labels {
        return Err(TrainError::Data(format!(
            "the teacher has {} tags, the model trained {labels}",
            seg.model().labels().len()
        )));
    }
    let units: Vec<_> = sents.iter().map(|w| tok.units(&w.concat())).collect();
    let inv_t = (1.0 / temperature) as f32;
    let mut out = seg.label_log_probs(&units)?;
    for p in &mut out {
        for row in p.chunks_mut(labels) {
            let m = row.iter().fold(f32::NEG_INFINITY, |a, &x| a.max(x * inv_t));
            let mut sum = 0.0;
            for x in row.iter_mut() {
                *x = (*x * inv_t - m).exp();
                sum += *x;
            }
            row.iter_mut().for_each(|x| *x /= sum);
        }
    }
    Ok(out)
}

/// Samples of `train` where the sentences `d` chooses carry the teacher's distributions.
fn distilled_samples(
    train: &[Vec<String>],
    tok: &CharTokenizer,
    scheme: &LabelScheme,
    d: &Distill,
) -> Result<Vec<Sample>> {
    if d.sentences.len() != train.len() {
        return Err(TrainError::Data(format!(
            "distillation flags {} sentences of {}",
            d.sentences.len(),
            train.len()
        )));
    }
    if !(d.temperature > 0.0 && d.temperature.is_finite()) {
        return Err(TrainError::Data(format!(
            "distillation temperature {} is not positive",
            d.temperature
        )));
    }
    let chosen: Vec<&Vec<String>> = train
        .iter()
        .zip(d.sentences)
        .filter(|(_, &on)| on)
        .map(|(s, _)| s)
        .collect();
    let mut probs =
        teacher_probs(d.teacher, &chosen, tok, scheme.len(), d.temperature)?.into_iter();
    let mut out = Vec::with_capacity(train.len());
    for (words, &on) in train.iter().zip(d.sentences) {
        let soft = if on { probs.next() } else { None };
        if let Some(mut s) = samples(std::slice::from_ref(words), tok, scheme).pop() {
            if let Some(p) = soft {
                debug_assert_eq!(p.len(), s.ids.len() * scheme.len());
                s.soft = Some(p);
            }
            out.push(s);
        }
    }
    Ok(out)
}

/// The loss of a batch where some units learn a teacher's distribution: per unit, the gold tag's
/// cross-entropy (weight 1, or `1 - weight` for a distilled unit) plus, for a distilled unit,
/// `weight · T²` times the cross-entropy of the student's tempered distribution against the
/// teacher's (KL divergence up to the teacher's entropy, a constant); the mean over units.
/// Built from differentiable ops.
fn distill_loss(
    logits: &Tensor,
    batch: &[Sample],
    picked: &[(usize, usize)],
    labels: usize,
    weight: f64,
    temperature: f64,
) -> candle_core::Result<Tensor> {
    let n = picked.len();
    let w = weight.clamp(0.0, 1.0) as f32;
    let mut hard = vec![0f32; n * labels];
    let mut soft = vec![0f32; n * labels];
    for (i, &(r, j)) in picked.iter().enumerate() {
        let s = &batch[r];
        let gold = i * labels + s.labels[j] as usize;
        match &s.soft {
            Some(p) => {
                hard[gold] = 1.0 - w;
                for (o, &q) in soft[i * labels..(i + 1) * labels]
                    .iter_mut()
                    .zip(&p[j * labels..(j + 1) * labels])
                {
                    *o = w * q;
                }
            }
            None => hard[gold] = 1.0,
        }
    }
    let t2 = (temperature * temperature) as f32;
    let shape = (n, labels);
    let log_p = candle_nn::ops::log_softmax(logits, candle_core::D::Minus1)?;
    let loss = if temperature == 1.0 {
        let q: Vec<f32> = hard.iter().zip(&soft).map(|(h, s)| h + s).collect();
        (Tensor::from_vec(q, shape, &Device::Cpu)? * log_p)?.sum_all()?
    } else {
        let log_pt = candle_nn::ops::log_softmax(&(logits / temperature)?, candle_core::D::Minus1)?;
        let soft: Vec<f32> = soft.iter().map(|s| s * t2).collect();
        let h = (Tensor::from_vec(hard, shape, &Device::Cpu)? * log_p)?.sum_all()?;
        let s = (Tensor::from_vec(soft, shape, &Device::Cpu)? * log_pt)?.sum_all()?;
        (h + s)?
    };
    loss.affine(-1.0 / n.max(1) as f64, 0.0)
}

impl Trainer<'_> {
    /// Runs training; `cancel` stops it between steps (a checkpoint is written first).
    pub fn run(self, cancel: &AtomicBool, progress: impl FnMut(Progress)) -> Result<Summary> {
        self.run_inner(None, cancel, progress)
    }

    /// [`Trainer::run`] with distillation: the sentences `distill` chooses learn its teacher's
    /// tag distributions, computed once before training on exactly the units they train on
    /// (random cuts cut the distributions with them; an [UNK] replacement keeps the teacher's
    /// view of the real character as its target). Not with a lexicon swap.
    pub fn run_distilled(
        self,
        distill: &Distill,
        cancel: &AtomicBool,
        progress: impl FnMut(Progress),
    ) -> Result<Summary> {
        self.run_inner(Some(distill), cancel, progress)
    }

    fn run_inner(
        mut self,
        distill: Option<&Distill>,
        cancel: &AtomicBool,
        mut progress: impl FnMut(Progress),
    ) -> Result<Summary> {
        // The encoder changes: a POS head trained on it would no longer match (see the module),
        // unless the change is small and the head is asked for (`keep_pos_head`).
        let pos_from = self.cfg.keep_pos_head.then(|| self.init.clone());
        self.init = self.init.without_pos();
        let cfg = self.cfg.clone();
        let mcfg = self.init.config.clone();
        let scheme = mcfg.labels("config.json")?;
        let tok = self.init.tokenizer()?;
        if self.train.is_empty() {
            return Err(TrainError::Data("no training sentences".into()));
        }
        let max_units = cfg.max_units.min(mcfg.max_position_embeddings - 2).max(1);
        let data = match distill {
            None => samples(self.train, &tok, &scheme),
            Some(_) if cfg.lexicon_swap > 0.0 => {
                return Err(TrainError::Data(
                    "distillation does not work with a lexicon swap".into(),
                ))
            }
            Some(d) => distilled_samples(self.train, &tok, &scheme, d)?,
        };
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
                let loss = match distill {
                    Some(d) if batch.iter().any(|s| s.soft.is_some()) => distill_loss(
                        &logits,
                        batch,
                        &picked,
                        scheme.len(),
                        d.weight,
                        d.temperature,
                    )?,
                    _ => candle_nn::loss::cross_entropy(&logits, &targets)?,
                };
                Ok((loss, n))
            },
            |epoch, state, progress| {
                // End of epoch: evaluate, keep the best.
                let files = model_files(&self.init, &vm, &source, pos_from.as_ref())?;
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
                model_files(&self.init, &vm, &source, pos_from.as_ref())
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
        route: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(labels: Vec<u32>, soft: Option<Vec<f32>>) -> Sample {
        let n = labels.len();
        Sample {
            ids: vec![5; n],
            types: vec![0; n],
            labels,
            starts: vec![true; n],
            soft,
        }
    }

    fn logits() -> Tensor {
        let v: Vec<f32> = (0..12).map(|i| ((i * 7) % 5) as f32 * 0.6 - 1.0).collect();
        Tensor::from_vec(v, (3, 4), &Device::Cpu).unwrap()
    }

    fn scalar(t: &Tensor) -> f32 {
        t.to_scalar::<f32>().unwrap()
    }

    #[test]
    fn distill_loss_with_no_weight_is_the_gold_cross_entropy() {
        let batch = [sample(vec![1, 2, 0], Some(vec![0.25; 12]))];
        let picked = [(0, 0), (0, 1), (0, 2)];
        let gold = Tensor::new(&[1u32, 2, 0], &Device::Cpu).unwrap();
        let ce = scalar(&candle_nn::loss::cross_entropy(&logits(), &gold).unwrap());
        for t in [1.0, 2.0] {
            let d = scalar(&distill_loss(&logits(), &batch, &picked, 4, 0.0, t).unwrap());
            assert!((d - ce).abs() < 1e-5, "T {t}: {d} vs {ce}");
        }
    }

    #[test]
    fn distill_loss_is_least_at_the_teachers_distribution() {
        // The teacher's own logits: at any temperature the distilled term's gradient is zero
        // there; other logits get a gradient.
        for t in [1.0f64, 2.0] {
            let x = logits();
            let p: Vec<f32> = candle_nn::ops::softmax_last_dim(&(&x / t).unwrap())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let batch = [sample(vec![1, 2, 0], Some(p))];
            let picked = [(0, 0), (0, 1), (0, 2)];
            let grad_norm = |x: &Tensor| {
                let v = candle_core::Var::from_tensor(x).unwrap();
                let loss = distill_loss(v.as_tensor(), &batch, &picked, 4, 1.0, t).unwrap();
                let g = loss.backward().unwrap();
                scalar(
                    &g.get(v.as_tensor())
                        .unwrap()
                        .sqr()
                        .unwrap()
                        .sum_all()
                        .unwrap(),
                )
            };
            assert!(grad_norm(&x) < 1e-10, "T {t}");
            assert!(grad_norm(&(&x * 0.5).unwrap()) > 1e-4, "T {t}");
        }
    }

    #[test]
    fn distill_loss_keeps_gold_for_units_without_a_teacher() {
        // Row 0 learns the teacher, rows 1 and 2 (another sentence) their gold tags only.
        let batch = [
            sample(vec![1], Some(vec![0.1, 0.2, 0.3, 0.4])),
            sample(vec![2, 0], None),
        ];
        let picked = [(0, 0), (1, 0), (1, 1)];
        let x = logits();
        let lp: Vec<f32> = candle_nn::ops::log_softmax(&x, candle_core::D::Minus1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let w = 0.75f32;
        let row0: f32 = (0..4)
            .map(|k| [0.1, 0.2, 0.3, 0.4][k] * w * lp[k])
            .sum::<f32>()
            + (1.0 - w) * lp[1];
        let want = -(row0 + lp[4 + 2] + lp[8]) / 3.0;
        let got = scalar(&distill_loss(&x, &batch, &picked, 4, w as f64, 1.0).unwrap());
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
}
