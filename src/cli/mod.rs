//! The command line: clap definitions and the non-interactive commands. Thin: each command
//! parses its flags, calls the library (the user's data through [`crate::service`]), prints.
//!
//! * this file: [`Cli`], [`Command`], [`run`], and model loading shared by the commands;
//! * `segment`: `segment` and `eval`; `explain`: `explain` and `segment --format jsonl`; `train`: `train`, pretraining and `train-lm`;
//! * `user`: corrections, dictionary, undo, models, export; `examples`: example sentences;
//! * `report`: progress and summaries of long runs, Ctrl-C.

use std::io;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::segment::Segmenter;
use crate::service::Service;
use crate::tagger::ModelFiles;

/// `println!` that returns an error instead of panicking when standard output is closed (a
/// pipe whose reader quit) or full (`> /dev/full`); [`run`] turns a closed pipe into exit 0.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*).map_err($crate::cli::StdoutError)?;
    }};
}

/// Standard output could not be written: the reader went away (a closed pipe, which is not a
/// failure: [`run`] exits 0) or the device is full.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output")]
pub struct StdoutError(#[source] pub io::Error);

mod calibration;
mod examples;
mod explain;
mod report;
mod review;
mod segment;
mod train;
mod user;

pub use examples::{load_lm, ExamplesArgs};
pub use explain::{plain_turn, ExplainArgs, Format, JsonSink};
pub use segment::{EvalArgs, PrecisionArg, SegmentArgs};
pub use train::{TrainArgs, TrainLmArgs};
pub use user::{CorrectArgs, DictArgs, ExportArgs};

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
    /// CPU threads for the model (default: all cores; fenci's own small example LM always
    /// writes on one, which is faster than two at its size).
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
    /// Explain sentences as the app does, in plain text: words, pinyin, glosses, confidence.
    ///
    /// Example: fenci explain 我觉得很累，想睡觉。 Each argument is one sentence; without any,
    /// one sentence per line of standard input. For scripts: fenci segment --format jsonl.
    Explain(ExplainArgs),
    /// The sentences of a text the model is least sure of, most informative first.
    ///
    /// Example: fenci review my-text.txt -n 20. Each sentence's doubt is the probability that
    /// one of its word boundaries is wrong; sentences whose least sure place repeats one
    /// already listed move down. Correct what is wrong with `fenci correct`, then `fenci train`.
    Review(review::ReviewArgs),
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
    /// The built-in LM (trained by fenci on its own everyday sentences) writes several
    /// candidates per example around the word and keeps the best (--stats shows why). It
    /// shows only sentences it is sure of: for a word it does not know well it writes fewer
    /// and says so on stderr (exit 0; 1 when none). A hub instruct model
    /// (--lm Qwen/Qwen2.5-0.5B-Instruct) follows prompts/examples.md. Same seed and settings,
    /// same sentences; --temperature 0 is greedy.
    Examples(ExamplesArgs),
    /// Train a small causal LM (qwen2 layout, char tokenizer) on raw text, for `examples`.
    ///
    /// Example: fenci train-lm --gold train.seg.txt --text reviews.txt.gz --out my-lm.
    /// Ctrl-C writes a checkpoint; rerun with --resume to continue.
    TrainLm(TrainLmArgs),
}

/// An error and its causes, `: `-separated, each cause once: many errors already say their
/// cause (`{path}: {source}`), and anyhow's `{:#}` would print it again.
pub fn error_message(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
}

/// Which model to use.
#[derive(Debug, Args, Clone)]
pub struct ModelArg {
    /// Model: `default` (built in, ignoring your trained versions and dictionary), a version
    /// you trained (`v2`, as `fenci models` lists them), a directory in the Hugging Face layout (config.json, vocab.txt or tokenizer.json,
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
            let dir = data_dir_checked()?;
            if let Some(w) = crate::store::UserDict::problem(&dir) {
                eprintln!("warning: {w}");
            }
            Ok(Service::new(&dir)
                .active_segmenter()
                .with_context(|| format!("cannot load the active model version (data directory {}); `fenci undo` or --model default", dir.display()))?)
        }
    }
}

/// The data directory, with a warning when its `active` file names no version (the commands
/// then use the built-in model; see [`crate::store::Versions::active_problem`]).
pub(super) fn data_dir_checked() -> Result<std::path::PathBuf> {
    let dir = crate::store::data_dir()?;
    if let Some(w) = crate::store::Versions::new(&dir).active_problem() {
        eprintln!("warning: {w}");
    }
    Ok(dir)
}

/// Loads a model named on the command line: `default`, a directory, or a hub id (downloaded
/// with a progress bar on stderr; a hub model's licence is printed there once).
pub fn load_model(spec: &str) -> Result<ModelFiles> {
    // A version of the data directory by name (`v2`, as `fenci models` lists it), unless a
    // directory of that name is here.
    if spec != "default" && !Path::new(spec).exists() {
        if let Ok(dir) = crate::store::data_dir() {
            if Service::new(&dir).is_version(spec) {
                let path = crate::store::Versions::new(&dir).path(spec);
                return ModelFiles::load_dir(&path)
                    .with_context(|| format!("cannot load version {spec} ({})", path.display()));
            }
        }
    }
    Ok(load_resolved(spec)?.files)
}

pub(super) fn load_resolved(spec: &str) -> Result<crate::hub::ResolvedModel> {
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
// libc has no safe mallopt: the one unsafe call outside kernels::avx512.
#[allow(unsafe_code)]
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
    if let (Some(m), Some(_)) = (&cli.model, &cli.command) {
        bail!(
            "--model {m} before a command is for the interactive app; give it after the command \
             (e.g. fenci segment --model {m})"
        );
    }
    let threads = cli
        .threads
        .unwrap_or_else(candle_core::utils::get_num_threads);
    // candle's CPU kernels size their thread pools from this variable. `segment` and `eval`
    // run whole batches on `threads` threads instead, each batch on one.
    let batch_parallel = matches!(cli.command, Some(Command::Segment(_) | Command::Eval(_)));
    // Set even when it only says the default: candle asks for the thread count at every
    // matrix product, and without the variable that means counting the CPUs again (reading
    // /proc and the cgroup files) each time, a tenth of the example LM's time.
    if batch_parallel {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    } else if let Some(n) = cli.threads {
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    } else if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    }
    let result = match cli.command {
        Some(Command::Segment(a)) => segment::segment(a, threads),
        Some(Command::Eval(a)) => segment::eval(a, threads),
        Some(Command::Explain(a)) => explain::explain_cmd(a, threads),
        Some(Command::Review(a)) => review::review_cmd(a),
        Some(Command::Train(a)) => train::train_cmd(a),
        Some(Command::Correct(a)) => user::correct_cmd(a),
        Some(Command::Corrections) => user::corrections_cmd(),
        Some(Command::Undo) => user::undo_cmd(),
        Some(Command::Dict(a)) => user::dict_cmd(a),
        Some(Command::Models) => user::models_cmd(),
        Some(Command::Export(a)) => user::export_cmd(a),
        Some(Command::Examples(a)) => examples::examples_cmd(a),
        Some(Command::TrainLm(a)) => train::train_lm_cmd(a),
        None => {
            use std::io::IsTerminal;
            if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
                bail!("fenci's interactive mode needs a terminal; in pipelines use `fenci segment` (see fenci --help)");
            }
            crate::tui::run(cli.model)?;
            Ok(0)
        }
    };
    match result {
        // The reader of our output went away (`fenci corrections | head -1`): not a failure.
        Err(e) if is_broken_pipe(&e) => Ok(0),
        r => r,
    }
}

/// Whether `e` is our own standard output closing under us (`fenci … | head`), and not some
/// other broken pipe (a dropped connection is a real failure).
pub(super) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<StdoutError>()
            .is_some_and(|s| s.0.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<crate::segment::StreamError>()
                .is_some_and(|s| s.is_broken_pipe())
    })
}

pub(super) fn read_text(p: &Path) -> Result<String> {
    Ok(crate::fsio::read_text(p)?)
}
