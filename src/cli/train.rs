//! `fenci train` (a tagger from gold text, pretraining on raw text, or the user's corrections)
//! and `fenci train-lm` (the small LM for example sentences).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use super::report::run_reported;
use super::user::train_corrections_cmd;
use super::{load_model, read_text};
use crate::tagger::{LabelScheme, ModelFiles, VocabSource};
use crate::train::{self, TrainConfig, Trainer};

/// `fenci train-lm`.
#[derive(Debug, Args)]
pub struct TrainLmArgs {
    /// Raw text files (one or more; .gz is read compressed); split into sentences.
    #[arg(long, num_args = 1..)]
    text: Vec<PathBuf>,
    /// Gold-segmented files, used as raw text (the spaces between words are removed).
    #[arg(long, num_args = 1..)]
    gold: Vec<PathBuf>,
    /// Keyword pairs, one `word<TAB>sentence` a line: the model learns to write a sentence
    /// around a given word (a keyword LM; `fenci examples` then asks it for the word directly).
    #[arg(long, num_args = 1..)]
    pairs: Vec<PathBuf>,
    /// Held-out text (raw or gold-segmented) for perplexity after each epoch.
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Held-out keyword pairs for perplexity after each epoch (with --pairs).
    #[arg(long)]
    dev_pairs: Option<PathBuf>,
    /// Start from this LM (`default` = the built-in one, or a directory) instead of a fresh
    /// model; its tokenizer and shape are kept (--layers, --hidden … are then ignored).
    #[arg(long, value_name = "LM")]
    init: Option<String>,
    /// Repeat each --pairs file this many times per epoch (weights them against --text).
    #[arg(long, value_parser = at_least_one(), default_value_t = 1)]
    pairs_repeat: usize,
    /// Output directory (config.json, tokenizer.json, model.safetensors).
    #[arg(long)]
    out: PathBuf,
    /// Decoder layers.
    #[arg(long, value_parser = at_least_one(), default_value_t = 4)]
    layers: usize,
    /// Hidden size.
    #[arg(long, value_parser = at_least_one(), default_value_t = 256)]
    hidden: usize,
    /// Attention heads.
    #[arg(long, value_parser = at_least_one(), default_value_t = 4)]
    heads: usize,
    /// Key/value heads (grouped-query attention).
    #[arg(long, value_parser = at_least_one(), default_value_t = 2)]
    kv_heads: usize,
    /// Longest sequence the model handles (tokens).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(16..), default_value_t = 256)]
    max_positions: usize,
    /// Keep characters seen at least this often (others become <unk>).
    #[arg(long, value_parser = at_least_one(), default_value_t = 3)]
    min_count: usize,
    /// Passes over the data.
    #[arg(long, value_parser = at_least_one(), default_value_t = 1)]
    epochs: usize,
    /// Peak learning rate.
    #[arg(long, value_parser = learning_rate, default_value_t = 2e-3)]
    lr: f64,
    /// Padded tokens per batch.
    #[arg(long, value_parser = at_least_one(), default_value_t = 4096)]
    batch_tokens: usize,
    /// Longest training sentence in tokens.
    #[arg(long, value_parser = at_least_one(), default_value_t = 96)]
    max_tokens: usize,
    /// Use at most this many training sentences (quick runs).
    #[arg(long)]
    max_sentences: Option<usize>,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Store the weights as F16 (half the size).
    #[arg(long)]
    f16: bool,
    /// Continue from the checkpoint beside --out.
    #[arg(long)]
    resume: bool,
    /// Checkpoint every this many steps.
    #[arg(long, value_parser = at_least_one(), default_value_t = 200)]
    checkpoint_every: usize,
}

/// `fenci train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Gold training file (one sentence a line, words separated by spaces).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Training on your corrections: the new version segments every sentence. By default a
    /// sentence that reads like the built-in model's training text (news) and not like your
    /// corrections stays with the built-in model, so what you teach changes how news is
    /// segmented far less (the version's route.json; delete it later to the same effect).
    #[arg(long, conflicts_with_all = ["data", "mlm_text", "pos", "pos_context"])]
    no_route: bool,
    /// Pretrain instead of tagging: teach the encoder raw text as a masked language model
    /// (BERT's recipe, 15% of characters predicted). Files: raw text, one or more (.gz read
    /// compressed; gold files work, their spaces are removed). The output is a tagger whose
    /// classifier is untouched: fine-tune it with `fenci train --init OUT --data GOLD`.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "data")]
    mlm_text: Vec<PathBuf>,
    /// Train a part-of-speech head instead of the segmenter. --data and --dev are then
    /// `word/tag` gold text (the PKU format: `迈向/v 充满/v 希望/n`), --init the model whose
    /// encoder the head reads (default: the built-in model). The encoder stays frozen, so the
    /// model segments exactly as before; the head (--pos-layers new encoder layers and a
    /// classifier over the encoder's last hidden states) learns each character's word tag, and
    /// a word's tag is the best sum of its characters' log-probabilities. The epoch with the
    /// best dev POS accuracy is kept; the output is the whole model with the head added
    /// (`fenci segment --pos`, `fenci eval --gold X.pos.txt`). Example:
    /// fenci train --pos --init default --data train.pos.txt --dev dev.pos.txt --out my-pos
    #[arg(long, conflicts_with = "mlm_text", verbatim_doc_comment)]
    pos: bool,
    /// Train only the word-level POS model of a model that already has a POS head: an
    /// averaged perceptron over each word, its neighbours and the tags before it, whose scores
    /// are added to the head's (about a minute on People's Daily; the head and the segmenter
    /// are kept). --init the model, --data word/tag gold text, --dev to report accuracy.
    /// `fenci train --pos` trains it along with the head. Example:
    /// fenci train --pos-context --init my-pos --data train.pos.txt --dev dev.pos.txt --out my-pos2
    #[arg(long, conflicts_with_all = ["mlm_text", "pos"], verbatim_doc_comment)]
    pos_context: bool,
    /// With --pos: encoder layers of the POS head.
    #[arg(long, value_parser = at_least_one(), default_value_t = 1, value_name = "N")]
    pos_layers: usize,
    /// Dev file, checked after each epoch to keep the best model: gold F1 when tagging, masked
    /// perplexity (as raw text) with --mlm-text, POS accuracy with --pos.
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Output directory (Hugging Face layout); the checkpoint goes to OUT.ckpt beside it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Start from this model (`default` or a directory) instead of a fresh one.
    #[arg(long, value_name = "MODEL")]
    init: Option<String>,
    /// Fresh model: encoder layers.
    #[arg(long, conflicts_with = "init", value_parser = at_least_one(), default_value_t = 2)]
    layers: usize,
    /// Fresh model: hidden size.
    #[arg(long, conflicts_with = "init", value_parser = at_least_one(), default_value_t = 192)]
    hidden: usize,
    /// Fresh model: attention heads.
    #[arg(long, conflicts_with = "init", value_parser = at_least_one(), default_value_t = 4)]
    heads: usize,
    /// Fresh model: longest input in tokens ([CLS] and [SEP] included).
    #[arg(long, conflicts_with = "init", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(16..), default_value_t = 128)]
    max_positions: usize,
    /// Fresh model: vocab.txt to use (default: the built-in model's vocabulary).
    #[arg(long, conflicts_with = "init", value_name = "FILE")]
    vocab: Option<PathBuf>,
    /// Fresh model: keep only vocabulary entries seen at least this often in --data.
    #[arg(long, value_name = "MIN_COUNT")]
    trim_vocab: Option<usize>,
    /// Fresh model: label set, `bmes` or `bi`.
    #[arg(long, default_value = "bmes")]
    labels: String,
    /// Passes over the data.
    #[arg(long, value_parser = at_least_one(), default_value_t = 3)]
    epochs: usize,
    /// Peak learning rate (linear warm-up, then linear decay).
    #[arg(long, value_parser = learning_rate, default_value_t = 1e-3)]
    lr: f64,
    /// Padded tokens per batch.
    #[arg(long, value_parser = at_least_one(), default_value_t = 2048)]
    batch_tokens: usize,
    /// Dropout probability while training.
    #[arg(long, value_parser = dropout, default_value_t = 0.1)]
    dropout: f32,
    /// Freeze the embeddings and the lowest N-1 layers (0: train everything).
    #[arg(long, default_value_t = 0)]
    freeze: usize,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Probability of replacing a character by [UNK] while training (robustness to unseen ones).
    #[arg(long, value_parser = probability, default_value_t = 0.0)]
    unk_prob: f64,
    /// Probability of cutting a training sentence at a random word boundary.
    #[arg(long, value_parser = probability, default_value_t = 0.0)]
    cut_prob: f64,
    /// Decay toward the starting weights (fine-tuning without forgetting).
    #[arg(long, value_parser = non_negative, default_value_t = 0.0)]
    anchor_decay: f64,
    /// Give the model dictionary features from this word list (one word a line; see
    /// scripts/make-lexicon.py for CC-CEDICT's): each character's token type then says how the
    /// list's words meet it, and the list ships with the model as lexicon.txt. Works with
    /// --init (the new token types start as copies of type 0) or a fresh model.
    #[arg(long, value_name = "FILE")]
    word_features: Option<PathBuf>,
    /// With dictionary features: probability of swapping a training word for a same-length
    /// word from the list that the training text never uses (teaches trust in the dictionary
    /// for unfamiliar words).
    #[arg(long, value_parser = probability, default_value_t = 0.0, value_name = "P")]
    lexicon_swap: f64,
    /// Use only the first N training sentences (smoke runs).
    #[arg(long, value_name = "N")]
    max_sentences: Option<usize>,
    /// Save the weights as F16 (half the size).
    #[arg(long)]
    f16: bool,
    /// Continue from the checkpoint beside --out.
    #[arg(long)]
    resume: bool,
    /// Save a checkpoint every N steps.
    #[arg(long, value_parser = at_least_one(), default_value_t = 200)]
    checkpoint_every: usize,
}

/// The files a model directory written by fenci may hold: an earlier output of `fenci train`
/// or `train-lm` (or an export) is replaced; a directory with anything else is refused.
const MODEL_DIR_FILES: &[&str] = &[
    "config.json",
    "vocab.txt",
    "tokenizer.json",
    crate::tagger::TOKENIZER_CONFIG,
    "model.safetensors",
    crate::tagger::WORDS_FILE,
    crate::tagger::POS_LEXICON_FILE,
    crate::tagger::POS_CONTEXT_FILE,
    "README.md",
    "fenci.json",
    crate::service::EXPORT_MARKER,
];

/// Refuses an `--out` that training would destroy: a file, a directory holding anything but a
/// model's files, or a path with no directory name (`.`). Checked before training starts, so
/// no work is lost to it.
fn check_out(out: &Path) -> Result<()> {
    if out.file_name().is_none() {
        bail!(
            "--out {}: give the name of a new directory for the model (e.g. --out my-model)",
            out.display()
        );
    }
    if out.exists() && !out.is_dir() {
        bail!(
            "--out {}: is a file; give a new directory for the model",
            out.display()
        );
    }
    if let (Ok(data), Ok(abs)) = (crate::store::data_dir(), crate::service::resolve(out)) {
        let data = crate::service::resolve(&data).unwrap_or(data);
        if abs.starts_with(&data) || data.starts_with(&abs) {
            bail!(
                "--out {}: is in (or holds) fenci's data directory {}, where your versions live; \
                 give a directory of your own",
                out.display(),
                data.display()
            );
        }
    }
    if out.is_dir() {
        let names: Vec<String> = std::fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let mut foreign: Vec<&String> = names
            .iter()
            .filter(|n| !MODEL_DIR_FILES.contains(&n.as_str()))
            .collect();
        let is_model = names
            .iter()
            .any(|n| n == "model.safetensors" || n == crate::service::EXPORT_MARKER);
        let empty = names.is_empty();
        if foreign.is_empty() && !empty && !is_model {
            bail!(
                "--out {}: holds files but no model (no model.safetensors); training would \
                 replace the directory, so give a new or empty one",
                out.display()
            );
        }
        if !foreign.is_empty() {
            foreign.sort();
            let more = if foreign.len() > 5 { ", …" } else { "" };
            foreign.truncate(5);
            bail!(
                "--out {}: holds files that are not a model's ({}{more}); training would replace \
                 the directory, so give a new or empty one",
                out.display(),
                foreign
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(())
}

/// A probability, 0 to 1 (clap value parser).
fn probability(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "{s} is not a probability: give a number from 0 to 1"
        )),
    }
}

/// A dropout probability, 0 to below 1.
fn dropout(s: &str) -> std::result::Result<f32, String> {
    match s.parse::<f32>() {
        Ok(p) if (0.0..1.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "{s}: give a dropout from 0 up to (not including) 1, e.g. 0.1"
        )),
    }
}

/// A learning rate: a finite number above 0.
fn learning_rate(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 1.0 => Ok(r),
        _ => Err(format!(
            "{s}: give a learning rate above 0 and at most 1, e.g. 1e-3"
        )),
    }
}

/// A finite number, 0 or more.
fn non_negative(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("{s}: give a number, 0 or more")),
    }
}

/// A count of at least 1 (clap value parser for `usize` flags).
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

pub(super) fn train_cmd(a: TrainArgs) -> Result<i32> {
    if let Some(out) = &a.out {
        if a.data.is_none() && a.mlm_text.is_empty() && !a.pos && !a.pos_context {
            bail!(
                "--out {}: training on your corrections (no --data) makes a new version in \
                 fenci's data directory (see `fenci models`); `fenci export DIR` writes \
                 the active one to a directory",
                out.display()
            );
        }
        check_out(out)?;
    } else if a.data.is_some() || !a.mlm_text.is_empty() {
        eprintln!("note: no --out, so the trained model will not be saved");
    }
    if !a.mlm_text.is_empty() {
        return pretrain_cmd(a);
    }
    if a.pos {
        return pos_cmd(a);
    }
    if a.pos_context {
        return pos_context_cmd(a);
    }
    let Some(data) = &a.data else {
        let given: Vec<&str> = [
            ("--dev", a.dev.is_some()),
            ("--init", a.init.is_some()),
            ("--vocab", a.vocab.is_some()),
            ("--word-features", a.word_features.is_some()),
            ("--max-sentences", a.max_sentences.is_some()),
            ("--resume", a.resume),
            ("--f16", a.f16),
        ]
        .into_iter()
        .filter_map(|(f, on)| on.then_some(f))
        .collect();
        if !given.is_empty() {
            bail!(
                "{} {} for training from --data; `fenci train` alone trains the active model on \
                 your corrections with its own settings",
                given.join(", "),
                if given.len() == 1 { "is" } else { "are" }
            );
        }
        return train_corrections_cmd(a.no_route);
    };
    let mut train_sents = train::read_gold(&read_text(data)?);
    if let Some(n) = a.max_sentences {
        train_sents.truncate(n);
    }
    if train_sents.is_empty() {
        bail!("{}: no sentences to train on", data.display());
    }
    let dev = match &a.dev {
        Some(p) => train::read_gold(&read_text(p)?),
        None => vec![],
    };
    let texts: Vec<String> = train_sents.iter().map(|w| w.concat()).collect();
    let init = start_model(&a, &texts)?;
    if a.freeze > init.config.num_hidden_layers {
        bail!(
            "--freeze {}: the model has {} layers; freeze at most that many",
            a.freeze,
            init.config.num_hidden_layers
        );
    }
    let cfg = train_config(&a);
    eprintln!(
        "training {}, on {} sentences ({} dev), {} epochs",
        shape(&init),
        train_sents.len(),
        dev.len(),
        cfg.epochs
    );
    let (summary, report) = run_reported("chars", |cancel, progress| {
        Trainer {
            init,
            train: &train_sents,
            dev: &dev,
            cfg,
            out: a.out.clone(),
            f16: a.f16,
            resume: a.resume,
        }
        .run(cancel, progress)
    })?;
    if summary.cancelled {
        return Ok(report.stopped(summary.steps));
    }
    eprintln!(
        "done: {} steps in {:.0} s, last loss {:.4}{}; model in {}",
        summary.steps,
        report.secs(),
        summary.last_loss,
        summary
            .best_dev_f1
            .map(|f| format!(", best dev F1 {:.2}", f * 100.0))
            .unwrap_or_default(),
        saved_where(&a.out)
    );
    Ok(0)
}

/// `fenci train --pos`: a part-of-speech head over the frozen encoder.
fn pos_cmd(a: TrainArgs) -> Result<i32> {
    let Some(data) = &a.data else {
        bail!("--pos needs --data: word/tag gold text (PKU format)");
    };
    let mut train_sents =
        train::read_pos_gold(&read_text(data)?).with_context(|| data.display().to_string())?;
    if let Some(n) = a.max_sentences {
        train_sents.truncate(n);
    }
    if train_sents.is_empty() {
        bail!("{}: no sentences to train on", data.display());
    }
    let dev = match &a.dev {
        Some(p) => train::read_pos_gold(&read_text(p)?).with_context(|| p.display().to_string())?,
        None => vec![],
    };
    let init = load_model(a.init.as_deref().unwrap_or("default"))?;
    let cfg = train::PosTrainConfig {
        epochs: a.epochs,
        lr: a.lr,
        batch_tokens: a.batch_tokens,
        dropout: a.dropout,
        seed: a.seed,
        checkpoint_every: a.checkpoint_every,
        num_layers: a.pos_layers,
        ..Default::default()
    };
    eprintln!(
        "training a {}-layer POS head over {} (frozen), on {} sentences ({} dev), {} epochs",
        cfg.num_layers,
        shape(&init),
        train_sents.len(),
        dev.len(),
        cfg.epochs
    );
    let (summary, report) = run_reported("chars", |cancel, progress| {
        train::PosTrainer {
            init,
            train: &train_sents,
            dev: &dev,
            cfg,
            out: a.out.clone(),
            f16: a.f16,
            resume: a.resume,
        }
        .run(cancel, progress)
    })?;
    if summary.cancelled {
        return Ok(report.stopped(summary.steps));
    }
    eprintln!(
        "done: {} steps in {:.0} s, last loss {:.4}{}; model in {}",
        summary.steps,
        report.secs(),
        summary.last_loss,
        summary
            .best_dev_accuracy
            .map(|f| format!(", best dev POS accuracy {:.2}", f * 100.0))
            .unwrap_or_default(),
        saved_where(&a.out)
    );
    Ok(0)
}

/// `fenci train --pos-context`: the word-level POS model of a model with a POS head.
fn pos_context_cmd(a: TrainArgs) -> Result<i32> {
    let Some(data) = &a.data else {
        bail!("--pos-context needs --data: word/tag gold text (PKU format)");
    };
    let sents =
        train::read_pos_gold(&read_text(data)?).with_context(|| data.display().to_string())?;
    if sents.is_empty() {
        bail!("{}: no sentences to train on", data.display());
    }
    let mut model = load_model(a.init.as_deref().unwrap_or("default"))?;
    let cfg = train::PosContextConfig {
        seed: a.seed,
        ..Default::default()
    };
    eprintln!(
        "training the word-level POS model of {} on {} sentences, {} epochs",
        model.source,
        sents.len(),
        cfg.epochs
    );
    let cancel = super::report::cancel_on_ctrl_c("stopping…");
    let t0 = std::time::Instant::now();
    train::add_pos_context(&mut model, &sents, cfg, &cancel, |e, wrong, n| {
        eprintln!(
            "epoch {e}/{}: {:.2}% of {n} training words tagged wrong",
            cfg.epochs,
            100.0 * wrong as f64 / n.max(1) as f64
        )
    })?;
    if let Some(dev) = &a.dev {
        let gold =
            train::read_pos_gold(&read_text(dev)?).with_context(|| dev.display().to_string())?;
        let s = train::evaluate_pos(&crate::segment::Segmenter::new(&model)?, &gold)?;
        eprintln!(
            "dev: POS accuracy on correctly segmented words {:.2}%, joint F1 {:.2}",
            s.accuracy() * 100.0,
            s.f1() * 100.0
        );
    }
    if let Some(out) = &a.out {
        model.source = out.display().to_string();
        model.save_dir(out, a.f16)?;
    }
    eprintln!(
        "done in {:.0} s; model in {}",
        t0.elapsed().as_secs_f64(),
        saved_where(&a.out)
    );
    Ok(0)
}

/// A tagger's size for the training logs: "2 layers × 256 hidden, vocab 5465".
fn shape(m: &ModelFiles) -> String {
    format!(
        "{} layers × {} hidden, vocab {}",
        m.config.num_hidden_layers, m.config.hidden_size, m.config.vocab_size
    )
}

fn saved_where(out: &Option<PathBuf>) -> String {
    out.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(not saved: no --out)".into())
}

/// `fenci train --mlm-text`: masked-LM pretraining of the encoder.
fn pretrain_cmd(a: TrainArgs) -> Result<i32> {
    let mut text = Vec::new();
    for p in &a.mlm_text {
        text.extend(train::lm_sentences(&read_text(p)?));
    }
    if let Some(n) = a.max_sentences {
        text.truncate(n);
    }
    if text.is_empty() {
        bail!("--mlm-text: no sentences in the files given");
    }
    let dev = match &a.dev {
        Some(p) => train::lm_sentences(&read_text(p)?),
        None => vec![],
    };
    let init = start_model(&a, &text)?;
    let cfg = train_config(&a);
    eprintln!(
        "pretraining {}, as a masked LM on {} sentences ({} dev), {} epochs",
        shape(&init),
        text.len(),
        dev.len(),
        cfg.epochs
    );
    let (summary, report) = run_reported("chars", |cancel, progress| {
        train::Pretrainer {
            init,
            text: &text,
            dev: &dev,
            cfg,
            out: a.out.clone(),
            f16: a.f16,
            resume: a.resume,
        }
        .run(cancel, progress)
    })?;
    if summary.cancelled {
        return Ok(report.stopped(summary.steps));
    }
    eprintln!(
        "done: {} steps in {:.0} s, last loss {:.4}{}; model in {} (fine-tune it with --init)",
        summary.steps,
        report.secs(),
        summary.last_loss,
        summary
            .best_dev_ppl
            .map(|p| format!(", best dev perplexity {p:.2}"))
            .unwrap_or_default(),
        saved_where(&a.out)
    );
    Ok(0)
}

/// The hyper-parameters `fenci train` was given.
fn train_config(a: &TrainArgs) -> TrainConfig {
    TrainConfig {
        epochs: a.epochs,
        lr: a.lr,
        batch_tokens: a.batch_tokens,
        dropout: a.dropout,
        freeze: a.freeze,
        seed: a.seed,
        unk_prob: a.unk_prob,
        cut_prob: a.cut_prob,
        anchor_decay: a.anchor_decay,
        checkpoint_every: a.checkpoint_every,
        lexicon_swap: a.lexicon_swap,
        ..TrainConfig::default()
    }
}

/// The model a `fenci train` run starts from: `--init`, or a fresh one (its vocabulary trimmed
/// to `texts` with --trim-vocab), with dictionary features added when --word-features is given.
fn start_model(a: &TrainArgs, texts: &[String]) -> Result<ModelFiles> {
    let mut init = match &a.init {
        Some(spec) => load_model(spec)?,
        None => {
            let scheme = match a.labels.to_ascii_lowercase().as_str() {
                "bmes" | "bies" => LabelScheme::bmes(),
                "bi" => LabelScheme::bi(),
                other => bail!("--labels {other}: use bmes or bi"),
            };
            let mut vocab = match &a.vocab {
                Some(p) => {
                    std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?
                }
                None => crate::tagger::embedded::VOCAB.to_vec(),
            };
            if let Some(min) = a.trim_vocab {
                vocab = train::trim_vocab(&vocab, texts, min)?;
            }
            if !a.hidden.is_multiple_of(a.heads) {
                bail!(
                    "--hidden {} must be a multiple of --heads {}",
                    a.hidden,
                    a.heads
                );
            }
            train::fresh_model(
                VocabSource::VocabTxt(vocab),
                a.layers,
                a.hidden,
                a.heads,
                a.max_positions,
                &scheme,
                a.seed,
            )?
        }
    };
    if let Some(p) = &a.word_features {
        let words = crate::text::WordSet::parse(&read_text(p)?);
        if words.is_empty() {
            bail!("{}: no words of two or more characters", p.display());
        }
        eprintln!(
            "dictionary features from {} ({} words)",
            p.display(),
            words.len()
        );
        init.add_word_features(words)?;
    }
    Ok(init)
}

pub(super) fn train_lm_cmd(a: TrainLmArgs) -> Result<i32> {
    check_out(&a.out)?;
    let mut sents = Vec::new();
    for p in &a.gold {
        sents.extend(train::lm_sentences(&read_text(p)?));
    }
    for p in &a.text {
        sents.extend(train::lm_sentences(&read_text(p)?));
    }
    for p in &a.pairs {
        let pairs =
            train::lm_pairs(&read_text(p)?).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        for _ in 0..a.pairs_repeat.max(1) {
            sents.extend(pairs.iter().cloned());
        }
    }
    if sents.is_empty() {
        bail!("no training text: give --text FILE, --gold FILE and/or --pairs FILE");
    }
    if let Some(n) = a.max_sentences {
        // A spread-out sample, not just the first file.
        let step = (sents.len() / n.max(1)).max(1);
        sents = sents.into_iter().step_by(step).take(n).collect();
    }
    let mut dev = match &a.dev {
        Some(p) => train::lm_sentences(&read_text(p)?),
        None => vec![],
    };
    if let Some(p) = &a.dev_pairs {
        dev.extend(
            train::lm_pairs(&read_text(p)?).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        );
    }
    // The fresh model (config + tokenizer + initial weights) is kept in OUT.init so that
    // --resume rebuilds the same model around the checkpoint.
    let init_dir = {
        let mut s = a.out.as_os_str().to_owned();
        s.push(".init");
        PathBuf::from(s)
    };
    let init = if a.resume && init_dir.join("config.json").is_file() {
        crate::lm::LmFiles::load_dir(&init_dir)?
    } else {
        let init = match &a.init {
            Some(spec) => super::examples::load_lm(spec)?.files().clone(),
            None => {
                let tok = crate::lm::char_tokenizer(sents.iter().map(String::as_str), a.min_count)?;
                train::fresh_lm(
                    &tok,
                    a.layers,
                    a.hidden,
                    a.heads,
                    a.kv_heads,
                    a.max_positions,
                    a.seed,
                )?
            }
        };
        let init = if a.pairs.is_empty() {
            init
        } else {
            crate::lm::mark_keyword_lm(&init)?
        };
        init.save_dir(&init_dir)
            .with_context(|| format!("cannot write {}", init_dir.display()))?;
        init
    };
    eprintln!(
        "training a {} LM: {} layers × {} hidden, vocab {}, on {} sentences ({} dev)",
        init.config.arch(),
        a.layers,
        a.hidden,
        init.config.vocab_size(),
        sents.len(),
        dev.len()
    );
    let cfg = train::LmTrainConfig {
        epochs: a.epochs,
        lr: a.lr,
        batch_tokens: a.batch_tokens,
        max_tokens: a.max_tokens,
        seed: a.seed,
        checkpoint_every: a.checkpoint_every,
        ..Default::default()
    };
    let (summary, report) = run_reported("tokens", |cancel, progress| {
        train::LmTrainer {
            init,
            train: &sents,
            dev: &dev,
            cfg,
            out: Some(a.out.clone()),
            f16: a.f16,
            resume: a.resume,
        }
        .run(cancel, progress)
    })?;
    if summary.cancelled {
        return Ok(report.stopped(summary.steps));
    }
    eprintln!(
        "done: {} steps in {:.0}s, last loss {:.3}{}; wrote {}",
        summary.steps,
        report.secs(),
        summary.last_loss,
        summary
            .best_dev_ppl
            .map(|p| format!(", dev perplexity {p:.2}"))
            .unwrap_or_default(),
        a.out.display()
    );
    Ok(0)
}
