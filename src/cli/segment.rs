//! `fenci segment` (any input, one output line per input line, through
//! [`crate::segment::segment_stream`]) and `fenci eval` (SIGHAN scores against a gold file).

use std::collections::HashSet;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::explain::{Format, JsonSink};
use super::{read_text, segmenter_for, ModelArg, StdoutError};
use crate::eval::{is_tagged, parse_tagged, vocabulary, PosScores, Scores};
use crate::kernels::Precision;
use crate::segment::stream::{segment_stream_to, Invalid, LineSink, PlainSink};
use crate::segment::Segmenter;

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

/// `--invalid`'s values are [`crate::segment::stream::Invalid`]'s.
impl clap::ValueEnum for Invalid {
    fn value_variants<'a>() -> &'a [Self] {
        &[Invalid::Stop, Invalid::Skip, Invalid::Replace]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue as V;
        Some(match self {
            Invalid::Stop => V::new("stop").help("write what came before, then stop"),
            Invalid::Skip => V::new("skip").help("an empty line in its place"),
            Invalid::Replace => V::new("replace").help("U+FFFD for each bad byte sequence"),
        })
    }
}

/// `--precision`'s values are [`crate::kernels::Precision`]'s, named and explained here (the
/// kernels know nothing of the command line).
impl clap::ValueEnum for Precision {
    fn value_variants<'a>() -> &'a [Self] {
        &[Precision::F32, Precision::Bf16]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            Precision::F32 => clap::builder::PossibleValue::new("f32").help("F32 products"),
            Precision::Bf16 => {
                clap::builder::PossibleValue::new("bf16").help("BF16 products summed in F32")
            }
        })
    }
}

impl PrecisionArg {
    /// Sets it on `seg`, warning where this CPU or model cannot run it; returns whether BF16
    /// runs.
    fn apply(self, seg: &mut Segmenter) -> bool {
        let p = self.precision;
        if !seg.set_precision(p) {
            eprintln!(
                "warning: --precision bf16 needs a CPU with AVX512-BF16 and a model fenci runs \
                 through its own kernels (tanh-GELU); using f32"
            );
            return false;
        }
        p == Precision::Bf16
    }
}

/// `fenci segment`.
#[derive(Debug, Args)]
pub struct SegmentArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    precision: PrecisionArg,
    /// Input files (default: standard input; `-` is standard input too).
    files: Vec<PathBuf>,
    /// Separator printed between words.
    #[arg(long, default_value = " ")]
    sep: String,
    /// `text`: words separated by --sep. `jsonl`: one JSON object per input line with each
    /// word's offsets, pinyin, gloss and boundary probability (schema: README, "JSON lines").
    #[arg(long, value_enum, default_value = "text", value_name = "FORMAT")]
    format: Format,
    /// A line that is not UTF-8: `stop` writes every line before it and stops with an error
    /// naming it; `skip` writes an empty line in its place and goes on; `replace` segments it
    /// with U+FFFD for each bad byte sequence. `skip` and `replace` warn on stderr.
    #[arg(long, value_enum, default_value = "stop", value_name = "WHAT")]
    invalid: Invalid,
    /// Instead of words: the units the model sees, one JSON object a line
    /// (`{"ids": [...], "offsets": [[start, end], ...], "joined": [...]}`, offsets in
    /// characters), to compare with another tokenizer (scripts/hf_reference.py).
    #[arg(long, hide = true)]
    units: bool,
    /// Tag each word with its part of speech, printed `word/tag` (the PKU format: 迈向/v
    /// 充满/v 希望/n). Needs a model with a POS head (the built-in one has one; see
    /// `fenci train --pos`); the words are the same as without it.
    #[arg(long)]
    pos: bool,
}

/// `fenci eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    precision: PrecisionArg,
    /// Gold file: one sentence a line, words separated by spaces. In the `word/tag` format
    /// (PKU: `迈向/v 充满/v`), detected from its first line, the model's POS head is scored
    /// too: joint segmentation + POS F1 (a word counts when its span and tag are right) and
    /// POS accuracy on the words segmented right.
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
    /// Log-probability bonus per character of a lexicon word (0 to 20).
    #[arg(long, default_value_t = 2.0, value_parser = lexicon_weight)]
    lexicon_weight: f32,
    /// Also report how well the probabilities are calibrated, at temperature 1 and at the
    /// shown temperature: expected calibration error (10 equal-width bins) and reliability
    /// tables of boundary and word probabilities, and how the uncertainty mark falls on wrong
    /// and right words.
    #[arg(long)]
    calibration: bool,
    /// Show probabilities at this temperature instead of the model's own
    /// (`fenci_boundary_temperature` in config.json; 1 when absent). The words never change.
    #[arg(long, value_name = "T")]
    temperature: Option<f32>,
    /// Fit the display temperature on this gold file (the one with the lowest log-loss of its
    /// boundaries) and print it. Fit on a dev split, never on test.
    #[arg(long)]
    fit_temperature: bool,
}

pub(super) fn segment(a: SegmentArgs, threads: usize) -> Result<i32> {
    if a.format == Format::Jsonl && a.sep != " " {
        bail!("--sep is for the text format; --format jsonl gives the words as a JSON list");
    }
    let (mut seg, name) = segmenter_for(&a.model)?;
    seg.set_workers(threads);
    a.precision.apply(&mut seg);
    if a.format == Format::Jsonl {
        // Parts of speech choose the readings and senses (a model without a POS head: none).
        seg.set_pos(true);
    }
    if a.pos {
        if !seg.has_pos() {
            bail!("--pos: the model {name} has no part-of-speech head (train one with `fenci train --pos`)");
        }
        seg.set_pos(true);
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if a.units {
        let text = match a.files.as_slice() {
            [] => crate::fsio::read_stdin_text()?,
            files => files
                .iter()
                .map(|f| {
                    if f.as_os_str() == "-" {
                        Ok(crate::fsio::read_stdin_text()?)
                    } else {
                        read_text(f)
                    }
                })
                .collect::<Result<Vec<_>>>()?
                .concat(),
        };
        for line in text.lines() {
            let u = seg.tokenizer().units(line);
            let offsets: Vec<[usize; 2]> = u.spans.iter().map(|r| [r.start, r.end]).collect();
            let j = serde_json::json!({"ids": u.ids, "offsets": offsets, "joined": u.joined});
            writeln!(out, "{j}").map_err(StdoutError)?;
        }
        out.flush().map_err(StdoutError)?;
        return Ok(0);
    }
    let what = match a.invalid {
        Invalid::Skip => "skipped (an empty line in its place)",
        _ => "bad bytes replaced by U+FFFD",
    };
    let dict = crate::explain::Dictionary::embedded();
    let mut plain = PlainSink::new(&a.sep);
    let mut json = JsonSink::new(dict, seg.model().labels()).routed_by(&seg);
    let sink: &mut dyn LineSink = match a.format {
        Format::Text => &mut plain,
        Format::Jsonl => &mut json,
    };
    let mut run = |reader: &mut dyn io::BufRead, name: &str, out: &mut dyn Write| {
        let mut warn = |line: usize, byte: usize| {
            eprintln!("warning: {name}: line {line} is not valid UTF-8 (byte {byte}); {what}");
        };
        segment_stream_to(&seg, &mut *sink, reader, name, out, a.invalid, &mut warn)
    };
    let res = if a.files.is_empty() {
        run(&mut io::stdin().lock(), "stdin", &mut out).map_err(Into::into)
    } else {
        a.files.iter().try_for_each(|f| {
            if f.as_os_str() == "-" {
                return run(&mut io::stdin().lock(), "stdin", &mut out).map_err(Into::into);
            }
            let file =
                std::fs::File::open(f).with_context(|| format!("cannot open {}", f.display()))?;
            let name = f.display().to_string();
            run(&mut io::BufReader::new(file), &name, &mut out).map_err(Into::into)
        })
    };
    // What was segmented before a failure is written before the error is reported.
    // (A closed pipe is not a failure: `run` turns it into exit 0.)
    res.and(out.flush().map_err(|e| StdoutError(e).into()))
        .map(|()| 0)
}

/// A lexicon weight: a finite number from 0 to 20 (clap value parser).
fn lexicon_weight(s: &str) -> std::result::Result<f32, String> {
    match s.parse::<f32>() {
        Ok(w) if (0.0..=20.0).contains(&w) => Ok(w),
        _ => Err(format!("{s}: give a weight from 0 to 20 (default 2)")),
    }
}

pub(super) fn eval(a: EvalArgs, threads: usize) -> Result<i32> {
    let (mut seg, mut model_name) = segmenter_for(&a.model)?;
    seg.set_workers(threads);
    if a.precision.apply(&mut seg) {
        model_name.push_str(" (bf16)");
    }
    if let Some(t) = a.temperature {
        if !(t.is_finite() && (0.01..=100.0).contains(&t)) {
            bail!("--temperature {t}: use a number from 0.01 to 100");
        }
        seg.set_temperature(t);
    }
    let keep = a.calibration || a.fit_temperature;
    let mut kept = Vec::new();
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
    let tagged_gold: Option<Vec<Vec<(String, String)>>> =
        is_tagged(&gold_text).then(|| gold_text.lines().map(parse_tagged).collect());
    let gold: Vec<Vec<String>> = match &tagged_gold {
        Some(t) => t
            .iter()
            .map(|l| l.iter().map(|w| w.0.clone()).collect())
            .collect(),
        None => gold_text
            .lines()
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .collect(),
    };
    if gold.iter().all(|l| l.is_empty()) {
        bail!(
            "{}: no sentences to score (one sentence a line, words separated by spaces)",
            a.gold.display()
        );
    }
    let mut pos_scores = tagged_gold.as_ref().map(|_| PosScores::default());
    if pos_scores.is_some() {
        if seg.has_pos() {
            seg.set_pos(true);
        } else {
            eprintln!("note: the gold file has parts of speech but the model {model_name} has no POS head; scoring segmentation only");
            pos_scores = None;
        }
    }
    let vocab: Option<HashSet<String>> = match &a.train {
        Some(t) => Some(vocabulary(&read_text(t)?)),
        None => None,
    };
    if let Some(p) = &a.output {
        let inputs = std::iter::once(&a.gold).chain(a.train.as_ref());
        if let Some(input) = inputs.into_iter().find(|i| crate::fsio::same_file(p, i)) {
            bail!(
                "--output {} is the input file {}: writing it would destroy it; give another path",
                p.display(),
                input.display()
            );
        }
    }
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
    for (ci, chunk) in gold.chunks(256).enumerate() {
        let lines: Vec<String> = chunk.iter().map(|w| w.concat()).collect();
        chars += lines.iter().map(|l| l.chars().count()).sum::<usize>();
        bytes += lines.iter().map(|l| l.len() + 1).sum::<usize>();
        let segs = seg.segment_batch(&lines)?;
        for (i, (g, s)) in chunk.iter().zip(&segs).enumerate() {
            let words = s.word_strs();
            scores.add(g, &words, vocab.as_ref());
            if let (Some(ps), Some(tg)) = (pos_scores.as_mut(), tagged_gold.as_ref()) {
                let pred: Vec<(&str, &str)> = words
                    .iter()
                    .zip(&s.pos)
                    .map(|(w, p)| (*w, p.tag.as_str()))
                    .collect();
                ps.add(&tg[ci * 256 + i], &pred);
            }
            if let Some(o) = out.as_mut() {
                writeln!(o, "{}", s.display_words().join(" "))?;
            }
        }
        if keep {
            kept.extend(segs);
        }
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    if let Some(mut o) = out {
        o.flush()?;
    }
    say!(
        "model: {}  lines: {}  gold words: {}  predicted: {}  correct: {}",
        model_name,
        scores.lines,
        scores.gold_words,
        scores.pred_words,
        scores.correct
    );
    if let Some(r) = scores.oov_recall() {
        say!("OOV words: {} (recall {:.2}%)", scores.oov_words, r * 100.0);
    }
    say!(
        "time: {secs:.2} s  ({:.0} chars/s, {:.1} KB/s)",
        chars as f64 / secs,
        bytes as f64 / 1024.0 / secs
    );
    let oov = scores
        .oov_recall()
        .map(|r| format!(" OOV-R={:.2}", r * 100.0))
        .unwrap_or_default();
    if let Some(ps) = &pos_scores {
        say!(
            "POS: joint seg+POS P={:.2} R={:.2} F1={:.2}  accuracy on correctly segmented words {:.2}% ({} of {})",
            ps.precision() * 100.0,
            ps.recall() * 100.0,
            ps.f1() * 100.0,
            ps.accuracy() * 100.0,
            ps.joint_correct,
            ps.seg_correct
        );
    }
    say!(
        "P={:.2} R={:.2} F1={:.2}{oov} chars/s={:.0}",
        scores.precision() * 100.0,
        scores.recall() * 100.0,
        scores.f1() * 100.0,
        chars as f64 / secs
    );
    if keep {
        super::calibration::report(&seg, &gold, &kept, a.calibration, a.fit_temperature)?;
    }
    Ok(0)
}
