//! The command line: clap definitions and the non-interactive commands (`segment`, `eval`,
//! `train`). Thin: each command parses its flags, calls the library, prints.

use std::collections::HashSet;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::eval::{vocabulary, Scores};
use crate::model::{LabelScheme, ModelFiles, VocabSource};
use crate::segment::Segmenter;
use crate::train::{self, Progress, TrainConfig, Trainer};

/// 分词 fenci — Chinese word segmentation you can talk to, correct and teach.
///
/// Run `fenci` alone for the interactive app: type a sentence, see its words with pinyin,
/// English glosses and the model's confidence; /help inside lists the commands.
///
/// Examples:
///   echo 我爱北京天安门 | fenci segment        → 我 爱 北京 天安门
///   fenci eval --gold test.seg.txt --train train.seg.txt
///   fenci train --data train.seg.txt --dev dev.seg.txt --out my-model
///   fenci examples 希望 -n 5 --temperature 0.8
#[derive(Debug, Parser)]
#[command(name = "fenci", version, about, long_about, verbatim_doc_comment)]
pub struct Cli {
    /// CPU threads for the model (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Model for the interactive app: `default` or a model directory (default: the last one used).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Segment text: one sentence per input line, words separated by one space on stdout.
    ///
    /// Reads the files given, or standard input. Empty lines stay empty; whitespace in the input
    /// always separates words; Latin words and web or e-mail addresses are never cut.
    Segment(SegmentArgs),
    /// Score a model on a gold file (one sentence a line, words separated by spaces).
    ///
    /// Prints SIGHAN-style precision, recall and F1, OOV recall with --train, and speed; the last
    /// line is machine-readable: `P=… R=… F1=… OOV-R=… chars/s=…`.
    Eval(EvalArgs),
    /// Train a segmenter on gold-segmented text and write it in the Hugging Face layout.
    ///
    /// Starts from --init MODEL (fine-tuning) or from a fresh model (--layers, --hidden, …).
    /// Evaluates on --dev after each epoch and keeps the best. Ctrl-C writes a checkpoint;
    /// rerun with --resume to continue.
    Train(TrainArgs),
    /// Record a correction: the words of a sentence, separated by spaces.
    ///
    /// Example: fenci correct "迈向 充满 希望 的 新 世纪". The sentence is the words joined.
    /// `fenci train` (without --data) then teaches them to the model.
    Correct(CorrectArgs),
    /// List the stored corrections (and which the active version was trained on).
    Corrections,
    /// Return to the model version before the last training.
    Undo,
    /// Your dictionary: words always kept whole when segmenting.
    Dict(DictArgs),
    /// List the models you can pass to --model: hub models in the Hugging Face cache and
    /// fenci's own model versions.
    ///
    /// The cache is $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
    Models,
    /// Write a model in the Hugging Face layout (config.json, vocab, model.safetensors).
    ///
    /// Example: fenci export my-model --model ckiplab/bert-tiny-chinese-ws. Without --model:
    /// the active model. DIR must be new, empty, or an earlier export (it is replaced).
    Export(ExportArgs),
    /// Example sentences that contain a word, from a causal language model, one per line.
    ///
    /// The built-in LM (trained by fenci on People's Daily and review text) writes sentences
    /// around the word; a hub instruct model (--lm Qwen/Qwen2.5-0.5B-Instruct) follows
    /// prompts/examples.md. Same seed and settings, same sentences; --temperature 0 is greedy.
    Examples(ExamplesArgs),
    /// Train a small causal LM (qwen2 layout, char tokenizer) on raw text, for `examples`.
    ///
    /// Example: fenci train-lm --gold train.seg.txt --text reviews.txt.gz --out my-lm.
    /// Ctrl-C writes a checkpoint; rerun with --resume to continue.
    TrainLm(TrainLmArgs),
}

/// `fenci examples`.
#[derive(Debug, Args)]
pub struct ExamplesArgs {
    /// The word the sentences must contain.
    word: String,
    /// How many sentences.
    #[arg(short, default_value_t = 5)]
    n: usize,
    /// Sampling temperature: 0 is greedy (the same sentence every time), higher is more varied.
    #[arg(long, short)]
    temperature: Option<f64>,
    /// Nucleus sampling: sample from the likeliest tokens up to this probability (1 = off).
    #[arg(long)]
    top_p: Option<f64>,
    /// Sample from the k likeliest tokens only (0 = off).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// Random seed (default: the one in your settings).
    #[arg(long)]
    seed: Option<u64>,
    /// Penalty for repeating recent tokens (1 = off).
    #[arg(long, default_value_t = 1.1)]
    repeat_penalty: f32,
    /// Most tokens per sentence.
    #[arg(long, default_value_t = 60)]
    max_tokens: usize,
    /// Learner level for instruct prompts ({level} in prompts/examples.md).
    #[arg(long, default_value = "HSK 3")]
    level: String,
    /// Language model: `default` (built in), a directory, or a hub id such as
    /// Qwen/Qwen2.5-0.5B-Instruct (default: the one in your settings).
    #[arg(long, value_name = "LM")]
    lm: Option<String>,
    /// Print timing (first token, tokens/s) and distinct-2 on stderr.
    #[arg(long)]
    stats: bool,
}

/// `fenci train-lm`.
#[derive(Debug, Args)]
pub struct TrainLmArgs {
    /// Raw text files (one or more; .gz is read compressed); split into sentences.
    #[arg(long, num_args = 1..)]
    text: Vec<PathBuf>,
    /// Gold-segmented files, used as raw text (the spaces between words are removed).
    #[arg(long, num_args = 1..)]
    gold: Vec<PathBuf>,
    /// Held-out text (raw or gold-segmented) for perplexity after each epoch.
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Output directory (config.json, tokenizer.json, model.safetensors).
    #[arg(long)]
    out: PathBuf,
    /// Decoder layers.
    #[arg(long, default_value_t = 4)]
    layers: usize,
    /// Hidden size.
    #[arg(long, default_value_t = 256)]
    hidden: usize,
    /// Attention heads.
    #[arg(long, default_value_t = 4)]
    heads: usize,
    /// Key/value heads (grouped-query attention).
    #[arg(long, default_value_t = 2)]
    kv_heads: usize,
    /// Longest sequence the model handles (tokens).
    #[arg(long, default_value_t = 256)]
    max_positions: usize,
    /// Keep characters seen at least this often (others become <unk>).
    #[arg(long, default_value_t = 3)]
    min_count: usize,
    /// Passes over the data.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Padded tokens per batch.
    #[arg(long, default_value_t = 4096)]
    batch_tokens: usize,
    /// Longest training sentence in tokens.
    #[arg(long, default_value_t = 96)]
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
    #[arg(long, default_value_t = 200)]
    checkpoint_every: usize,
}

/// `fenci correct`.
#[derive(Debug, Args)]
pub struct CorrectArgs {
    /// The corrected words, separated by spaces (quote them as one argument or pass several).
    #[arg(required = true)]
    words: Vec<String>,
}

/// `fenci dict`.
#[derive(Debug, Args)]
pub struct DictArgs {
    /// `add WORD`, `rm WORD` or `list` (default).
    #[arg(default_value = "list")]
    action: String,
    /// The word.
    word: Option<String>,
}

/// Which model to use.
#[derive(Debug, Args, Clone)]
pub struct ModelArg {
    /// Model: `default` (built in, ignoring your trained versions and dictionary), a
    /// directory in the Hugging Face layout (config.json, vocab.txt or tokenizer.json,
    /// model.safetensors), or a Hugging Face hub id `owner/name[@revision]` (downloaded once
    /// into the HF cache; HF_ENDPOINT, HF_HOME, HF_TOKEN, HF_HUB_OFFLINE=1 apply). Without it: the active version trained on your corrections (or the
    /// built-in model) with your dictionary's words forced.
    #[arg(long, short, value_name = "MODEL")]
    pub model: Option<String>,
}

/// The segmenter a command uses: `--model` as given, else the active version plus the user
/// dictionary. Returns it with a name for messages.
pub fn segmenter_for(model: &ModelArg) -> Result<(Segmenter, String)> {
    match &model.model {
        Some(spec) => Ok((Segmenter::new(&load_model(spec)?)?, spec.clone())),
        None => {
            let dir = crate::store::data_dir()?;
            let (name, files) = train::load_active(&dir)
                .with_context(|| format!("cannot load the active model version (data directory {}); `fenci undo` or --model default", dir.display()))?;
            let mut seg = Segmenter::new(&files)?;
            seg.set_dict(crate::store::UserDict::load(&dir));
            Ok((seg, name))
        }
    }
}

/// The arithmetic of the model's matrix products (`segment`, `eval`).
#[derive(Debug, Args, Clone, Copy)]
pub struct PrecisionArg {
    /// `f32`: full precision, as the model was trained. `bf16`: on CPUs with AVX512-BF16 (AMD
    /// Zen 4+, Intel Sapphire Rapids+) the matrix products round their inputs to 8 significant
    /// bits, which makes segmenting faster and now and then moves a boundary the model was
    /// unsure of (BENCHMARKS.md has the figures); elsewhere f32 is used, with a warning.
    #[arg(long, value_enum, default_value = "f32", value_name = "P")]
    precision: Precision,
}

/// `--precision`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Precision {
    /// F32 products.
    F32,
    /// BF16 products summed in F32.
    Bf16,
}

impl PrecisionArg {
    /// Sets it on `seg`, warning where this CPU or model cannot run it; returns whether BF16
    /// runs.
    fn apply(self, seg: &mut Segmenter) -> bool {
        let p = match self.precision {
            Precision::F32 => crate::kernels::Precision::F32,
            Precision::Bf16 => crate::kernels::Precision::Bf16,
        };
        if !seg.set_precision(p) {
            eprintln!(
                "warning: --precision bf16 needs a CPU with AVX512-BF16 and a model fenci runs \
                 through its own kernels (tanh-GELU); using f32"
            );
            return false;
        }
        p == crate::kernels::Precision::Bf16
    }
}

/// `fenci segment`.
#[derive(Debug, Args)]
pub struct SegmentArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    precision: PrecisionArg,
    /// Input files (default: standard input).
    files: Vec<PathBuf>,
    /// Separator printed between words.
    #[arg(long, default_value = " ")]
    sep: String,
}

/// `fenci eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    precision: PrecisionArg,
    /// Gold file: one sentence a line, words separated by spaces.
    #[arg(long)]
    gold: PathBuf,
    /// Training file whose words define OOV (out-of-vocabulary) recall.
    #[arg(long)]
    train: Option<PathBuf>,
    /// Also write the predicted segmentation here.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Experimental: a soft word prior at decode time, `idioms` (CC-CEDICT idioms),
    /// `cedict4` (CC-CEDICT words of 4+ characters) or `cedict3` (3+).
    #[arg(long, value_name = "NAME")]
    lexicon: Option<String>,
    /// Log-probability bonus per character of a lexicon word.
    #[arg(long, default_value_t = 2.0)]
    lexicon_weight: f32,
}

/// `fenci train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Gold training file (one sentence a line, words separated by spaces).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Pretrain instead of tagging: teach the encoder raw text as a masked language model
    /// (BERT's recipe, 15% of characters predicted). Files: raw text, one or more (.gz read
    /// compressed; gold files work, their spaces are removed). The output is a tagger whose
    /// classifier is untouched: fine-tune it with `fenci train --init OUT --data GOLD`.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "data")]
    mlm_text: Vec<PathBuf>,
    /// Dev file, checked after each epoch to keep the best model: gold F1 when tagging, masked
    /// perplexity (as raw text) with --mlm-text.
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Output directory (Hugging Face layout); the checkpoint goes to OUT.ckpt beside it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Start from this model (`default` or a directory) instead of a fresh one.
    #[arg(long, value_name = "MODEL")]
    init: Option<String>,
    /// Fresh model: encoder layers.
    #[arg(long, default_value_t = 2)]
    layers: usize,
    /// Fresh model: hidden size.
    #[arg(long, default_value_t = 192)]
    hidden: usize,
    /// Fresh model: attention heads.
    #[arg(long, default_value_t = 4)]
    heads: usize,
    /// Fresh model: longest input in tokens ([CLS] and [SEP] included).
    #[arg(long, default_value_t = 128)]
    max_positions: usize,
    /// Fresh model: vocab.txt to use (default: the built-in model's vocabulary).
    #[arg(long, value_name = "FILE")]
    vocab: Option<PathBuf>,
    /// Fresh model: keep only vocabulary entries seen at least this often in --data.
    #[arg(long, value_name = "MIN_COUNT")]
    trim_vocab: Option<usize>,
    /// Fresh model: label set, `bmes` or `bi`.
    #[arg(long, default_value = "bmes")]
    labels: String,
    /// Passes over the data.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Peak learning rate (linear warm-up, then linear decay).
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Padded tokens per batch.
    #[arg(long, default_value_t = 2048)]
    batch_tokens: usize,
    /// Dropout probability while training.
    #[arg(long, default_value_t = 0.1)]
    dropout: f32,
    /// Freeze the embeddings and the lowest N-1 layers (0: train everything).
    #[arg(long, default_value_t = 0)]
    freeze: usize,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Probability of replacing a character by [UNK] while training (robustness to unseen ones).
    #[arg(long, default_value_t = 0.0)]
    unk_prob: f64,
    /// Probability of cutting a training sentence at a random word boundary.
    #[arg(long, default_value_t = 0.0)]
    cut_prob: f64,
    /// Decay toward the starting weights (fine-tuning without forgetting).
    #[arg(long, default_value_t = 0.0)]
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
    #[arg(long, default_value_t = 0.0, value_name = "P")]
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
    #[arg(long, default_value_t = 200)]
    checkpoint_every: usize,
}

/// Loads a model named on the command line: `default`, a directory, or a hub id (downloaded
/// with a progress bar on stderr; a hub model's licence is printed there once).
pub fn load_model(spec: &str) -> Result<ModelFiles> {
    Ok(load_resolved(spec)?.files)
}

fn load_resolved(spec: &str) -> Result<crate::hub::ResolvedModel> {
    use crate::hub::{self, HubError};
    // Ctrl-C keeps its default (ends the process): hf-hub only renames a download into the
    // cache once complete, so nothing partial is ever taken for a model.
    let never = AtomicBool::new(false);
    match hub::resolve(spec, &mut hub::TerminalProgress::new(), &never) {
        Ok(r) => {
            if let Some(note) = r.licence_note() {
                eprintln!("{note}");
            }
            Ok(r)
        }
        Err(e @ HubError::Local(_)) => Err(anyhow::Error::new(e).context(if spec == "default" {
            "the built-in model is damaged (rebuild fenci)".to_string()
        } else {
            format!("cannot load model `{spec}` (give `default`, a hub id owner/name, or a directory with config.json, vocab.txt, model.safetensors)")
        })),
        Err(e) => Err(e.into()),
    }
}

/// Keeps freed memory in glibc's heap: every forward pass allocates and frees tensors of a few
/// MB, which glibc would otherwise map and unmap each time, zero-filling fresh pages (a sixth
/// of segmenting time by `perf`). Costs a few MB of resident memory held after a peak.
#[allow(unsafe_code)] // libc has no safe mallopt: the one unsafe call outside kernels::avx512
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

/// Runs the command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    tune_allocator();
    if cli.threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    let threads = cli
        .threads
        .unwrap_or_else(candle_core::utils::get_num_threads);
    // candle's CPU kernels size their thread pools from this variable. `segment` and `eval`
    // run whole batches on `threads` threads instead, each batch on one.
    let batch_parallel = matches!(cli.command, Some(Command::Segment(_) | Command::Eval(_)));
    if batch_parallel {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    } else if let Some(n) = cli.threads {
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    match cli.command {
        Some(Command::Segment(a)) => segment(a, threads),
        Some(Command::Eval(a)) => eval(a, threads),
        Some(Command::Train(a)) => train_cmd(a),
        Some(Command::Correct(a)) => correct_cmd(a),
        Some(Command::Corrections) => corrections_cmd(),
        Some(Command::Undo) => undo_cmd(),
        Some(Command::Dict(a)) => dict_cmd(a),
        Some(Command::Models) => models_cmd(),
        Some(Command::Export(a)) => export_cmd(a),
        Some(Command::Examples(a)) => examples_cmd(a),
        Some(Command::TrainLm(a)) => train_lm_cmd(a),
        None => {
            use std::io::IsTerminal;
            if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
                bail!("fenci's interactive mode needs a terminal; in pipelines use `fenci segment` (see fenci --help)");
            }
            crate::tui::run(cli.model)?;
            Ok(0)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn segment(a: SegmentArgs, threads: usize) -> Result<i32> {
    let (mut seg, _) = segmenter_for(&a.model)?;
    seg.set_workers(threads);
    a.precision.apply(&mut seg);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let res = if a.files.is_empty() {
        segment_stream(&seg, &a.sep, &mut io::stdin().lock(), "stdin", &mut out)
    } else {
        a.files.iter().try_for_each(|f| {
            let file =
                std::fs::File::open(f).with_context(|| format!("cannot open {}", f.display()))?;
            let name = f.display().to_string();
            segment_stream(&seg, &a.sep, &mut io::BufReader::new(file), &name, &mut out)
        })
    }
    .and_then(|()| Ok(out.flush()?));
    match res {
        Err(e) if is_broken_pipe(&e) => Ok(0),
        Err(e) => Err(e),
        Ok(()) => Ok(0),
    }
}

/// `fenci segment` holds at most about this much of one line: a longer line is segmented in
/// pieces of this size, so a 10 MB line takes no more memory than a short file.
const SEGMENT_PIECE_BYTES: usize = 64 << 10;
/// The last words of a piece that start within this many characters of its end are not written
/// yet: they are segmented again with the next piece, which gives them their right context.
const SEGMENT_CARRY_CHARS: usize = 64;
/// A carried tail longer than this (one "word" of megabytes: no boundary the model could find)
/// is written as it is, so memory stays bounded whatever the input.
const SEGMENT_MAX_CARRY_BYTES: usize = 1 << 20;

/// Segments one input: short lines in batches, long lines piece by piece (see
/// [`SEGMENT_PIECE_BYTES`]); one output line per input line, words joined by `sep`. Checks UTF-8
/// (naming the line and byte), strips a BOM at the start and CR before LF.
fn segment_stream(
    seg: &Segmenter,
    sep: &str,
    reader: &mut dyn BufRead,
    name: &str,
    out: &mut dyn Write,
) -> Result<()> {
    let mut pending: Vec<String> = Vec::new();
    let mut pending_bytes = 0usize;
    let flush = |pending: &mut Vec<String>, out: &mut dyn Write| -> Result<()> {
        for s in seg.segment_batch(pending)? {
            writeln!(out, "{}", s.word_strs().join(sep))?;
        }
        pending.clear();
        Ok(())
    };
    // The current line's bytes not yet written, and where they start in the line.
    let mut line: Vec<u8> = Vec::new();
    let mut offset = 0usize;
    // Lines finished so far; whether the current line is being written piece by piece (and
    // whether words of it were written); the length at which the next piece is cut.
    let mut n = 0usize;
    let mut long = false;
    let mut wrote = false;
    let mut next_piece = SEGMENT_PIECE_BYTES;
    // Decodes `bytes` (at `offset` in line `n + 1`) up to the last complete character; a BOM
    // that opens the input is dropped (by returning where the text starts).
    let decode = |bytes: &[u8], offset: usize, n: usize, whole: bool| -> Result<(usize, usize)> {
        let valid = match std::str::from_utf8(bytes) {
            Ok(_) => bytes.len(),
            Err(e) if e.error_len().is_none() && !whole => e.valid_up_to(),
            Err(e) => bail!(
                "{name}: line {} is not valid UTF-8 (byte {} of the line); fenci reads UTF-8 text",
                n + 1,
                offset + e.valid_up_to() + 1
            ),
        };
        let bom = "\u{feff}".as_bytes();
        let start = if n == 0 && offset == 0 && bytes[..valid].starts_with(bom) {
            bom.len()
        } else {
            0
        };
        Ok((start, valid))
    };
    let write_words = |words: &[&str], wrote: &mut bool, out: &mut dyn Write| -> Result<()> {
        for w in words {
            if *wrote {
                out.write_all(sep.as_bytes())?;
            }
            out.write_all(w.as_bytes())?;
            *wrote = true;
        }
        Ok(())
    };
    loop {
        let buf = reader
            .fill_buf()
            .with_context(|| format!("{name}: read error"))?;
        let at_eof = buf.is_empty();
        let (take, eol) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        let complete = eol || (at_eof && (!line.is_empty() || long));
        if eol {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        // A long line: write what each piece settles, keep its unsettled tail. Pieces are cut at
        // fixed offsets of the line, so the output depends on the text alone, not on how reads
        // happened to split it.
        while line.len() > next_piece {
            if !long {
                flush(&mut pending, out)?;
                pending_bytes = 0;
                long = true;
            }
            let end = next_piece;
            let (start, valid) = decode(&line[..end], offset, n, false)?;
            let text = std::str::from_utf8(&line[start..valid]).expect("checked");
            let s = seg.segment(text)?;
            let nchars = text.chars().count();
            let settled = s
                .words
                .iter()
                .take_while(|w| w.chars.start + SEGMENT_CARRY_CHARS < nchars)
                .count()
                .min(s.words.len().saturating_sub(2));
            let cut = if s.words.is_empty() {
                // Whitespace only: nothing to carry but an incomplete character.
                Some(valid)
            } else if settled > 0 {
                Some(start + s.words[settled].bytes.start)
            } else if end > SEGMENT_MAX_CARRY_BYTES {
                let k = (s.words.len() - 1).max(1);
                Some(s.words.get(k).map_or(valid, |w| start + w.bytes.start))
            } else {
                None
            };
            match cut {
                Some(cut) => {
                    let k = s
                        .words
                        .iter()
                        .take_while(|w| start + w.bytes.start < cut)
                        .count();
                    let words: Vec<&str> = s.words[..k].iter().map(|w| w.text.as_str()).collect();
                    write_words(&words, &mut wrote, out)?;
                    line.drain(..cut);
                    offset += cut;
                    next_piece = end - cut + SEGMENT_PIECE_BYTES;
                }
                None => next_piece = end + SEGMENT_PIECE_BYTES,
            }
        }
        if complete {
            let (start, _) = decode(&line, offset, n, true)?;
            let text = std::str::from_utf8(&line[start..]).expect("checked");
            if long {
                let s = seg.segment(text)?;
                write_words(&s.word_strs(), &mut wrote, out)?;
                out.write_all(b"\n")?;
            } else {
                pending_bytes += text.len();
                pending.push(text.to_string());
                if pending.len() >= 256 || pending_bytes > SEGMENT_PIECE_BYTES {
                    flush(&mut pending, out)?;
                    pending_bytes = 0;
                }
            }
            n += 1;
            line.clear();
            offset = 0;
            long = false;
            wrote = false;
            next_piece = SEGMENT_PIECE_BYTES;
        }
        if at_eof {
            break;
        }
    }
    flush(&mut pending, out)?;
    Ok(())
}

fn read_text(p: &Path) -> Result<String> {
    let mut bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
    if p.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut out)
            .with_context(|| format!("{}: not a readable gzip file", p.display()))?;
        bytes = out;
    }
    let s = String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        anyhow::anyhow!("{}: line {line} is not valid UTF-8", p.display())
    })?;
    Ok(s.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(s))
}

fn eval(a: EvalArgs, threads: usize) -> Result<i32> {
    let (mut seg, mut model_name) = segmenter_for(&a.model)?;
    seg.set_workers(threads);
    if a.precision.apply(&mut seg) {
        model_name.push_str(" (bf16)");
    }
    if let Some(name) = &a.lexicon {
        let d = crate::explain::Dictionary::embedded();
        let words = match name.as_str() {
            "idioms" => d.headwords_where(|s| s.contains("(idiom)")),
            "cedict4" => d
                .headwords_where(|_| true)
                .into_iter()
                .filter(|w| w.chars().count() >= 4)
                .collect(),
            "cedict3" => d
                .headwords_where(|_| true)
                .into_iter()
                .filter(|w| w.chars().count() >= 3)
                .collect(),
            other => bail!("--lexicon {other}: use idioms, cedict4 or cedict3"),
        };
        let lex = crate::segment::Lexicon::new(words, a.lexicon_weight);
        eprintln!(
            "lexicon {name}: {} words, weight {}",
            lex.len(),
            a.lexicon_weight
        );
        seg.set_lexicon(Some(std::sync::Arc::new(lex)));
    }
    let gold_text = read_text(&a.gold)?;
    let gold: Vec<Vec<String>> = gold_text
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    let vocab: Option<HashSet<String>> = match &a.train {
        Some(t) => Some(vocabulary(&read_text(t)?)),
        None => None,
    };
    let mut out = match &a.output {
        Some(p) => Some(BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };
    let mut scores = Scores::default();
    let mut chars = 0usize;
    let mut bytes = 0usize;
    let started = Instant::now();
    for chunk in gold.chunks(256) {
        let lines: Vec<String> = chunk.iter().map(|w| w.concat()).collect();
        chars += lines.iter().map(|l| l.chars().count()).sum::<usize>();
        bytes += lines.iter().map(|l| l.len() + 1).sum::<usize>();
        let segs = seg.segment_batch(&lines)?;
        for (g, s) in chunk.iter().zip(&segs) {
            let words = s.word_strs();
            scores.add(g, &words, vocab.as_ref());
            if let Some(o) = out.as_mut() {
                writeln!(o, "{}", words.join(" "))?;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    if let Some(mut o) = out {
        o.flush()?;
    }
    println!(
        "model: {}  lines: {}  gold words: {}  predicted: {}  correct: {}",
        model_name, scores.lines, scores.gold_words, scores.pred_words, scores.correct
    );
    if let Some(r) = scores.oov_recall() {
        println!("OOV words: {} (recall {:.2}%)", scores.oov_words, r * 100.0);
    }
    println!(
        "time: {secs:.2} s  ({:.0} chars/s, {:.1} KB/s)",
        chars as f64 / secs,
        bytes as f64 / 1024.0 / secs
    );
    let oov = scores
        .oov_recall()
        .map(|r| format!(" OOV-R={:.2}", r * 100.0))
        .unwrap_or_default();
    println!(
        "P={:.2} R={:.2} F1={:.2}{oov} chars/s={:.0}",
        scores.precision() * 100.0,
        scores.recall() * 100.0,
        scores.f1() * 100.0,
        chars as f64 / secs
    );
    Ok(0)
}

fn train_cmd(a: TrainArgs) -> Result<i32> {
    if !a.mlm_text.is_empty() {
        return pretrain_cmd(a);
    }
    let Some(data) = &a.data else {
        return train_corrections_cmd();
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
            .best_dev_f1
            .map(|p| format!(", best dev perplexity {:.2}", -p))
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
                None => crate::model::embedded::VOCAB.to_vec(),
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
        let words = crate::lexicon::WordSet::parse(&read_text(p)?);
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

/// A flag that the first Ctrl-C sets (printing `message`); a second Ctrl-C exits with 130.
/// A training run's progress on stderr: a bar on a terminal, else a line every 100 steps; the
/// dev score after each epoch either way.
struct TrainReport {
    bar: indicatif::ProgressBar,
    interactive: bool,
    started: Instant,
    unit: &'static str,
}

impl TrainReport {
    fn new(unit: &'static str) -> Self {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} step  ETA {eta}  {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        Self {
            bar,
            interactive: std::io::IsTerminal::is_terminal(&io::stderr()),
            started: Instant::now(),
            unit,
        }
    }

    fn line(&self, text: String) {
        let text = format!("[{:>6.0}s] {text}", self.started.elapsed().as_secs_f64());
        if self.interactive {
            self.bar.println(text);
        } else {
            eprintln!("{text}");
        }
    }

    fn show(&self, p: Progress) {
        let best = |b: bool| if b { " (best, saved)" } else { "" };
        match p {
            Progress::Step {
                epoch,
                step,
                total,
                loss,
                units_per_s,
            } => {
                let msg = format!(
                    "epoch {} loss {loss:.4} {units_per_s:.0} {}/s",
                    epoch + 1,
                    self.unit
                );
                self.bar.set_length(total as u64);
                self.bar.set_position(step as u64);
                if !self.interactive && step % 100 == 0 {
                    self.line(format!("step {step}/{total} {msg}"));
                }
                self.bar.set_message(msg);
            }
            Progress::Eval { epoch, f1, best: b } => self.line(format!(
                "epoch {}: dev F1 {:.2}{}",
                epoch + 1,
                f1 * 100.0,
                best(b)
            )),
            Progress::Perplexity {
                epoch,
                ppl,
                best: b,
            } => self.line(format!(
                "epoch {}: dev perplexity {ppl:.2}{}",
                epoch + 1,
                best(b)
            )),
            Progress::Checkpoint { .. } => {}
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Seconds since the run started.
    fn secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Says how to continue a cancelled run; returns the exit code (130, as for Ctrl-C).
    fn stopped(&self, steps: usize) -> i32 {
        eprintln!(
            "stopped at step {steps}; checkpoint saved — rerun the same command with --resume to continue"
        );
        130
    }
}

/// Runs a training job with progress on stderr; the first Ctrl-C stops it after the current step
/// (it writes a checkpoint). Returns the job's result and its report (time taken, `stopped`).
fn run_reported<T>(
    unit: &'static str,
    job: impl FnOnce(&AtomicBool, &mut dyn FnMut(train::Progress)) -> train::Result<T>,
) -> Result<(T, TrainReport)> {
    let cancel =
        cancel_on_ctrl_c("stopping after this step (Ctrl-C again to abort without a checkpoint)…");
    let report = TrainReport::new(unit);
    let out = job(&cancel, &mut |p| report.show(p))?;
    report.finish();
    Ok((out, report))
}

fn cancel_on_ctrl_c(message: &'static str) -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let c = cancel.clone();
    let _ = ctrlc::set_handler(move || {
        if c.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\n{message}");
    });
    cancel
}

/// Records a correction: `fenci correct "词 词 词"`.
fn correct_cmd(a: CorrectArgs) -> Result<i32> {
    let words: Vec<String> = a
        .words
        .iter()
        .flat_map(|w| w.split_whitespace())
        .map(str::to_string)
        .collect();
    if words.is_empty() {
        bail!("give the corrected words separated by spaces, e.g. fenci correct \"我 爱 北京\"");
    }
    let dir = crate::store::data_dir()?;
    let (seg, version) = segmenter_for(&ModelArg { model: None })?;
    let before: Vec<String> = seg
        .segment(&words.concat())?
        .word_strs()
        .into_iter()
        .map(str::to_string)
        .collect();
    let c = crate::store::CorrectionStore::new(&dir)
        .append(words, before.clone(), &version)
        .context("cannot save the correction")?;
    println!("correction #{} saved: {}", c.id, c.words.join(" "));
    if before == c.words {
        println!("(the model already segments it this way)");
    } else {
        println!("the model said:  {}", before.join(" "));
        println!("run `fenci train` to teach it");
    }
    Ok(0)
}

fn corrections_cmd() -> Result<i32> {
    let dir = crate::store::data_dir()?;
    let loaded = crate::store::CorrectionStore::new(&dir).load()?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    let trained = crate::store::Versions::new(&dir).trained_ids();
    if loaded.records.is_empty() {
        println!("no corrections yet (fenci correct \"词 词 词\" adds one)");
    }
    for c in &loaded.records {
        let mark = if trained.contains(&c.id) {
            "trained"
        } else {
            "new"
        };
        println!("#{:<4} {:<8} {}", c.id, mark, c.words.join(" "));
    }
    Ok(0)
}

fn undo_cmd() -> Result<i32> {
    let dir = crate::store::data_dir()?;
    let (was, now) = crate::store::Versions::new(&dir).undo()?;
    println!("active model: {now} (was {was})");
    Ok(0)
}

fn dict_cmd(a: DictArgs) -> Result<i32> {
    let dir = crate::store::data_dir()?;
    match (a.action.as_str(), a.word.as_deref()) {
        ("add", Some(w)) => {
            let added = crate::store::UserDict::add(&dir, w)?;
            println!(
                "{} {w}",
                if added {
                    "added"
                } else {
                    "already in the dictionary:"
                }
            );
        }
        ("rm" | "remove", Some(w)) => {
            let removed = crate::store::UserDict::remove(&dir, w)?;
            println!(
                "{} {w}",
                if removed {
                    "removed"
                } else {
                    "not in the dictionary:"
                }
            );
        }
        ("list", None) => {
            for w in crate::store::UserDict::load(&dir) {
                println!("{w}");
            }
        }
        _ => bail!("usage: fenci dict add WORD | fenci dict rm WORD | fenci dict list"),
    }
    Ok(0)
}

/// `fenci train` without --data: fine-tune the active model on the stored corrections.
fn train_corrections_cmd() -> Result<i32> {
    let dir = crate::store::data_dir()?;
    let cancel = cancel_on_ctrl_c("stopping; the current model stays active…");
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("[{bar:30}] {pos}/{len} steps  ETA {eta}  {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let report =
        train::train_on_corrections(&dir, &train::AdaptConfig::default(), 5, &cancel, |p| {
            if let Progress::Step {
                step, total, loss, ..
            } = p
            {
                bar.set_length(total as u64);
                bar.set_position(step as u64);
                bar.set_message(format!("loss {loss:.4}"));
            }
        })?;
    bar.finish_and_clear();
    if report.cancelled {
        eprintln!("cancelled: the active model is still {}", report.parent);
        return Ok(130);
    }
    for line in report.lines() {
        println!("{line}");
    }
    println!(
        "active model: {} (fenci undo returns to {})",
        report.version, report.parent
    );
    Ok(0)
}

/// `fenci export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Directory to write (new, empty, or an earlier export, which is replaced).
    dir: PathBuf,
    /// Model: `default`, a directory or a hub id (default: the active model).
    #[arg(long, short, value_name = "MODEL")]
    model: Option<String>,
    /// Store the weights as F16 (half the size).
    #[arg(long)]
    f16: bool,
}

fn models_cmd() -> Result<i32> {
    let opts = crate::hub::HubOptions::from_env();
    println!("built in:\n  default");
    let cached = crate::hub::cached_models(&opts.cache_dir);
    println!("Hugging Face cache {}:", opts.cache_dir.display());
    if cached.is_empty() {
        println!("  (no models; `fenci segment --model owner/name` downloads one)");
    }
    for m in &cached {
        let refs: Vec<String> = m
            .refs
            .iter()
            .map(|(r, c)| format!("{r}→{}", &c[..c.len().min(7)]))
            .collect();
        let labels = m
            .complete
            .last()
            .and_then(|c| {
                let cfg = m.path.join("snapshots").join(c).join("config.json");
                crate::model::BertConfig::load(&cfg).ok()
            })
            .and_then(|cfg| cfg.labels("config.json").ok())
            .map(|l| format!("labels {}", l.names().join("")))
            .unwrap_or_else(|| "not a fenci segmenter".into());
        let state = if m.complete.is_empty() {
            "incomplete download".to_string()
        } else {
            labels
        };
        println!(
            "  {:<40} {:<16} {:>10}  {state}",
            m.repo,
            refs.join(" "),
            indicatif::HumanBytes(m.bytes).to_string()
        );
    }
    if let Ok(dir) = crate::store::data_dir() {
        let models = dir.join("models");
        let active = std::fs::read_to_string(dir.join("active"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let mut local: Vec<String> = std::fs::read_dir(&models)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("config.json").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        local.sort();
        if !local.is_empty() {
            println!("fenci models {}:", models.display());
            for name in local {
                let mark = if name == active { "  (active)" } else { "" };
                println!("  {}{mark}", models.join(&name).display());
            }
        }
    }
    Ok(0)
}

fn export_cmd(a: ExportArgs) -> Result<i32> {
    if a.dir.is_file() {
        bail!(
            "{} is a file; give a directory to write the model to",
            a.dir.display()
        );
    }
    if a.dir.is_dir() {
        let empty = std::fs::read_dir(&a.dir)
            .with_context(|| format!("cannot read {}", a.dir.display()))?
            .next()
            .is_none();
        if !empty && !a.dir.join("config.json").is_file() {
            bail!(
                "{} exists and is not a model directory; give a new or empty directory (an earlier export is replaced)",
                a.dir.display()
            );
        }
    }
    let (files, license, origin) = match &a.model {
        Some(spec) => {
            let r = load_resolved(spec)?;
            (r.files, r.license, r.origin)
        }
        None => {
            let dir = crate::store::data_dir()?;
            let (name, files) = train::load_active(&dir).with_context(|| {
                format!(
                    "cannot load the active model (data directory {})",
                    dir.display()
                )
            })?;
            (files, None, name)
        }
    };
    files
        .save_dir(&a.dir, a.f16)
        .with_context(|| format!("cannot write {}", a.dir.display()))?;
    if let Some(l) = &license {
        let card = format!(
            "---\nlicense: {l}\n---\n\nExported by fenci from {origin}. The model's licence ({l}) applies to this copy.\n"
        );
        crate::store::write_file_atomic(&a.dir.join("README.md"), card.as_bytes())
            .with_context(|| format!("cannot write {}", a.dir.join("README.md").display()))?;
    }
    eprintln!("wrote {origin} to {}", a.dir.display());
    Ok(0)
}

/// The language model named by `spec` (`default`, a directory or a hub id), with download
/// progress on stderr.
pub fn load_lm(spec: &str) -> Result<crate::generate::Generator> {
    let cancel = cancel_on_ctrl_c("cancelling the download…");
    let mut progress = crate::hub::TerminalProgress::new();
    let (files, _) = crate::hub::resolve_lm(
        spec,
        &crate::hub::HubOptions::from_env(),
        &mut progress,
        &cancel,
    )?;
    Ok(crate::generate::Generator::new(files)?)
}

fn examples_cmd(a: ExamplesArgs) -> Result<i32> {
    let dir = crate::store::data_dir().ok();
    let (settings, _) = dir
        .as_deref()
        .map(crate::store::Settings::load)
        .unwrap_or_default();
    let spec = a.lm.clone().unwrap_or_else(|| settings.lm.clone());
    let mut generator = load_lm(&spec)?;
    let sampling = crate::generate::Sampling {
        temperature: a.temperature.unwrap_or(settings.temperature),
        top_p: a.top_p.unwrap_or(settings.top_p),
        top_k: a.top_k,
        seed: a.seed.unwrap_or(settings.seed),
        repeat_penalty: a.repeat_penalty,
        max_tokens: a.max_tokens,
        ..Default::default()
    };
    let cancel = cancel_on_ctrl_c("stopping…");
    let stdout = io::stdout();
    let (sentences, stats) = generator.examples(
        &crate::generate::Ask::new(&a.word, a.n)
            .level(&a.level)
            .prompts(dir.as_deref()),
        &sampling,
        &cancel,
        |ev| {
            if let crate::generate::ExampleEvent::Done { sentence, .. } = ev {
                let mut out = stdout.lock();
                let _ = writeln!(out, "{sentence}");
                let _ = out.flush();
            }
        },
    )?;
    if a.stats {
        eprintln!(
            "lm: {}  sentences: {}  tokens: {}  first token: {:.0} ms  decoding: {:.1} tokens/s  distinct-2: {:.3}",
            generator.source(),
            sentences.len(),
            stats.tokens,
            stats.first_token_s * 1000.0,
            stats.tokens_per_s(),
            crate::generate::distinct_n(&sentences, 2)
        );
    }
    if sentences.len() < a.n {
        eprintln!(
            "only {} of {} sentences contained {:?}",
            sentences.len(),
            a.n,
            a.word
        );
        return Ok(if cancel.load(Ordering::Relaxed) {
            130
        } else {
            1
        });
    }
    Ok(0)
}

fn train_lm_cmd(a: TrainLmArgs) -> Result<i32> {
    let mut sents = Vec::new();
    for p in &a.gold {
        sents.extend(train::lm_sentences(&read_text(p)?));
    }
    for p in &a.text {
        sents.extend(train::lm_sentences(&read_text(p)?));
    }
    if sents.is_empty() {
        bail!("no training text: give --text FILE and/or --gold FILE");
    }
    if let Some(n) = a.max_sentences {
        // A spread-out sample, not just the first file.
        let step = (sents.len() / n.max(1)).max(1);
        sents = sents.into_iter().step_by(step).take(n).collect();
    }
    let dev = match &a.dev {
        Some(p) => train::lm_sentences(&read_text(p)?),
        None => vec![],
    };
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
        let tok = crate::lm::char_tokenizer(sents.iter().map(String::as_str), a.min_count)?;
        let init = train::fresh_lm(
            &tok,
            a.layers,
            a.hidden,
            a.heads,
            a.kv_heads,
            a.max_positions,
            a.seed,
        )?;
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
