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
    /// always separates words.
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
}

/// Which model to use.
#[derive(Debug, Args, Clone)]
pub struct ModelArg {
    /// Model: `default` (built in) or a directory in the Hugging Face layout
    /// (config.json, vocab.txt or tokenizer.json, model.safetensors).
    #[arg(long, short, default_value = "default", value_name = "MODEL")]
    pub model: String,
}

/// `fenci segment`.
#[derive(Debug, Args)]
pub struct SegmentArgs {
    #[command(flatten)]
    model: ModelArg,
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
    /// Gold file: one sentence a line, words separated by spaces.
    #[arg(long)]
    gold: PathBuf,
    /// Training file whose words define OOV (out-of-vocabulary) recall.
    #[arg(long)]
    train: Option<PathBuf>,
    /// Also write the predicted segmentation here.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// `fenci train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Gold training file (one sentence a line, words separated by spaces).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Gold dev file, scored after each epoch to keep the best model.
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

/// Loads a model named on the command line.
pub fn load_model(spec: &str) -> Result<ModelFiles> {
    crate::model::resolve(spec).with_context(|| {
        if spec == "default" {
            "the built-in model is damaged (rebuild fenci)".to_string()
        } else {
            format!("cannot load model `{spec}` (give `default` or a directory with config.json, vocab.txt, model.safetensors)")
        }
    })
}

/// Runs the command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    if let Some(n) = cli.threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        // candle's CPU kernels size their thread pools from this variable.
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    match cli.command {
        Some(Command::Segment(a)) => segment(a),
        Some(Command::Eval(a)) => eval(a),
        Some(Command::Train(a)) => train_cmd(a),
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

/// Reads lines as bytes and checks UTF-8, naming the line on error; strips a BOM and CR.
fn read_lines(
    reader: &mut dyn BufRead,
    name: &str,
    mut f: impl FnMut(String) -> Result<()>,
) -> Result<()> {
    let mut buf = Vec::new();
    let mut n = 0usize;
    loop {
        buf.clear();
        let got = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("{name}: read error"))?;
        if got == 0 {
            return Ok(());
        }
        n += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        let mut line = match std::str::from_utf8(&buf) {
            Ok(s) => s.to_string(),
            Err(e) => bail!(
                "{name}: line {n} is not valid UTF-8 (byte {} of the line); fenci reads UTF-8 text",
                e.valid_up_to() + 1
            ),
        };
        if n == 1 && line.starts_with('\u{feff}') {
            line.remove(0);
        }
        f(line)?;
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn segment(a: SegmentArgs) -> Result<i32> {
    let seg = Segmenter::new(&load_model(&a.model.model)?)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut pending: Vec<String> = Vec::new();
    let flush = |pending: &mut Vec<String>, out: &mut dyn Write| -> Result<()> {
        for s in seg.segment_batch(pending)? {
            writeln!(out, "{}", s.word_strs().join(&a.sep))?;
        }
        pending.clear();
        Ok(())
    };
    let mut body = |reader: &mut dyn BufRead, name: &str| -> Result<()> {
        read_lines(reader, name, |line| {
            pending.push(line);
            let chars: usize = pending.iter().map(|l| l.len()).sum();
            if pending.len() >= 256 || chars > 1 << 16 {
                flush(&mut pending, &mut out)?;
            }
            Ok(())
        })?;
        flush(&mut pending, &mut out)?;
        out.flush()?;
        Ok(())
    };
    let res = if a.files.is_empty() {
        body(&mut io::stdin().lock(), "stdin")
    } else {
        a.files.iter().try_for_each(|f| {
            let file =
                std::fs::File::open(f).with_context(|| format!("cannot open {}", f.display()))?;
            body(&mut io::BufReader::new(file), &f.display().to_string())
        })
    };
    match res {
        Err(e) if is_broken_pipe(&e) => Ok(0),
        Err(e) => Err(e),
        Ok(()) => Ok(0),
    }
}

fn read_text(p: &Path) -> Result<String> {
    let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
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

fn eval(a: EvalArgs) -> Result<i32> {
    let seg = Segmenter::new(&load_model(&a.model.model)?)?;
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
        a.model.model, scores.lines, scores.gold_words, scores.pred_words, scores.correct
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
    let Some(data) = &a.data else {
        bail!("fenci train needs --data FILE (a gold file, one sentence a line, words separated by spaces); training on your corrections arrives with the corrections feature");
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
    let init = match &a.init {
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
                let texts: Vec<String> = train_sents.iter().map(|w| w.concat()).collect();
                vocab = train::trim_vocab(&vocab, &texts, min)?;
            }
            if a.hidden % a.heads != 0 {
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
    let cfg = TrainConfig {
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
        ..TrainConfig::default()
    };
    eprintln!(
        "training {} layers × {} hidden, vocab {}, on {} sentences ({} dev), {} epochs",
        init.config.num_hidden_layers,
        init.config.hidden_size,
        init.config.vocab_size,
        train_sents.len(),
        dev.len(),
        cfg.epochs
    );
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let c = cancel.clone();
        let _ = ctrlc::set_handler(move || {
            if c.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\nstopping after this step (Ctrl-C again to abort without a checkpoint)…");
        });
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} step  ETA {eta}  {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let interactive = std::io::IsTerminal::is_terminal(&io::stderr());
    let started = Instant::now();
    let trainer = Trainer {
        init,
        train: &train_sents,
        dev: &dev,
        cfg,
        out: a.out.clone(),
        f16: a.f16,
        resume: a.resume,
    };
    let summary = trainer.run(&cancel, |p| match p {
        Progress::Step {
            epoch,
            step,
            total,
            loss,
            units_per_s,
        } => {
            bar.set_length(total as u64);
            bar.set_position(step as u64);
            bar.set_message(format!("epoch {} loss {loss:.4} {units_per_s:.0} chars/s", epoch + 1));
            if !interactive && step % 100 == 0 {
                eprintln!(
                    "[{:>6.0}s] step {step}/{total} epoch {} loss {loss:.4} {units_per_s:.0} chars/s",
                    started.elapsed().as_secs_f64(),
                    epoch + 1
                );
            }
        }
        Progress::Eval { epoch, f1, best } => {
            bar.println(format!(
                "[{:>6.0}s] epoch {}: dev F1 {:.2}{}",
                started.elapsed().as_secs_f64(),
                epoch + 1,
                f1 * 100.0,
                if best { " (best, saved)" } else { "" }
            ));
            if !interactive {
                eprintln!("epoch {}: dev F1 {:.2}{}", epoch + 1, f1 * 100.0, if best { " (best, saved)" } else { "" });
            }
        }
        Progress::Checkpoint { .. } => {}
    })?;
    bar.finish_and_clear();
    let where_ = a
        .out
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(not saved: no --out)".into());
    if summary.cancelled {
        eprintln!(
            "stopped at step {}; checkpoint saved — rerun the same command with --resume to continue",
            summary.steps
        );
        return Ok(130);
    }
    eprintln!(
        "done: {} steps in {:.0} s, last loss {:.4}{}; model in {where_}",
        summary.steps,
        started.elapsed().as_secs_f64(),
        summary.last_loss,
        summary
            .best_dev_f1
            .map(|f| format!(", best dev F1 {:.2}", f * 100.0))
            .unwrap_or_default()
    );
    Ok(0)
}
