//! [`LmTrainer`]: the causal LM for example sentences, with the same optimizer, schedule,
//! checkpoints and progress as the tagger.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::tagger::{self};

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

/// Keyword pairs from a `word<TAB>sentence` file (blank lines skipped), as training lines for
/// [`LmTrainer`]. A line without a tab, with an empty side, or whose sentence lacks its word is
/// an error naming the line.
pub fn lm_pairs(text: &str) -> std::result::Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((word, sentence)) = line.split_once(crate::lm::PAIR_SEP) else {
            return Err(format!("line {}: expected word<TAB>sentence", i + 1));
        };
        let (word, sentence) = (word.trim(), sentence.trim());
        if word.is_empty() || sentence.is_empty() || !sentence.contains(word) {
            return Err(format!(
                "line {}: {word:?} and {sentence:?} are not a word and a sentence that contains it",
                i + 1
            ));
        }
        out.push(format!("{word}{}{sentence}", crate::lm::PAIR_SEP));
    }
    Ok(out)
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
    let weights = tagger::safetensors_bytes(&tensors, false)?;
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

/// Training samples: each sentence between end-of-text marks, or for a keyword pair
/// (`word<TAB>sentence`, see [`crate::lm::keyword_prompt`]) the keyword prompt, the sentence and
/// end-of-text; cut at `max` tokens.
pub(crate) fn lm_samples(
    sents: &[String],
    tok: &tokenizers::Tokenizer,
    eos: u32,
    max: usize,
) -> Vec<Sample> {
    sents
        .iter()
        .filter_map(|s| {
            // A keyword pair (`word<TAB>sentence`) starts with the keyword prompt.
            let (mut ids, s) = match s.split_once(crate::lm::PAIR_SEP) {
                Some((word, sentence)) => (crate::lm::keyword_prompt(tok, word)?, sentence),
                None => (vec![eos], s.as_str()),
            };
            let enc = tok.encode(s, false).ok()?;
            if enc.get_ids().is_empty() {
                return None;
            }
            ids.extend_from_slice(enc.get_ids());
            ids.push(eos);
            ids.truncate(max.max(2));
            Some(Sample {
                ids,
                types: Vec::new(),
                labels: Vec::new(),
                starts: Vec::new(),
                soft: None,
            })
        })
        .collect()
}

/// Padded ids, flat positions whose next token is a target, and those targets.
pub(crate) fn lm_batch(batch: &[Sample], pad: u32) -> Result<(Tensor, Tensor, Tensor, usize)> {
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

pub(crate) fn lm_loss(
    model: &crate::lm::Qwen2Train,
    batch: &[Sample],
    pad: u32,
) -> Result<(Tensor, usize)> {
    let (ids, rows, targets, n) = lm_batch(batch, pad)?;
    let logits = model
        .forward(&ids)
        .map_err(|e| TrainError::Data(e.to_string()))?;
    let v = logits.dim(D::Minus1)?;
    let logits = logits.reshape(((), v))?.index_select(&rows, 0)?;
    Ok((candle_nn::loss::cross_entropy(&logits, &targets)?, n))
}

/// Perplexity of `model` on `samples` (mean over tokens).
pub(crate) fn lm_perplexity(
    model: &crate::lm::Qwen2Train,
    samples: &[Sample],
    pad: u32,
) -> Result<f64> {
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

use super::data::{batches, Sample};
use super::epochs::{checkpoint_dir, sorted_vars, start_state, EpochLoop};
use super::optim::AdamW;
use super::{Progress, Result, TrainError};
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
        let vm = tagger::varmap_from(&init)?;
        let lm = Qwen2Train::new(qcfg, tagger::varmap_map(&vm)).map_err(lm_err)?;
        let mut opt = AdamW::new(sorted_vars(&vm, |_| true), cfg.weight_decay, 0.0)?;
        let ckpt = self.out.as_deref().map(checkpoint_dir);
        let mut state = start_state(&cfg, ckpt.as_deref(), self.resume, &vm, &mut opt, |w, _| {
            Ok(w)
        })?;
        let files_now = |vm: &VarMap| -> Result<LmFiles> {
            let t = tagger::varmap_tensors(vm)?;
            let mut f = self.init.clone();
            f.weights = vec![tagger::safetensors_bytes(&t, self.f16)?];
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
                    let is_best = state.record_ppl(ppl);
                    progress(Progress::Perplexity {
                        epoch,
                        ppl,
                        best: is_best,
                    });
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
            best_dev_ppl: state.best_ppl(),
            steps: state.step,
            cancelled,
            last_loss,
        })
    }
}
