//! `fenci review FILE`: the sentences of a text the model is least sure of, most informative
//! first (the order of [`crate::segment::review`]), for a reader who has a few corrections to
//! give. Plain text by default; `--format jsonl` for scripts.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::{read_text, segmenter_for, ModelArg, StdoutError};
use crate::document::{sentences, REPEAT_DISCOUNT};
use crate::segment::review::{dictionary_candidates, review_order};
use crate::segment::Segmentation;

/// What `fenci review` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// One sentence a line: rank, doubt, line number, the words with `¦` at the least sure
    /// place.
    #[default]
    Text,
    /// One JSON object per sentence: rank, line, sentence, doubt, words, least_sure (README:
    /// "Review").
    Jsonl,
}

/// Arguments of `fenci review`.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The text: one sentence a line (longer lines are split after 。！？!?); `.gz` is read
    /// compressed; `-` reads standard input.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Print only the first N sentences of the queue.
    #[arg(short = 'n', long = "limit", value_name = "N")]
    n: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    model: ModelArg,
}

/// The words of `s`, with `¦` at its least sure boundary `weakest`: `不 ¦ 送` where the model
/// split there, `走¦人` inside the word where it did not.
fn marked(s: &Segmentation, weakest: Option<usize>) -> String {
    let at = weakest.and_then(|i| s.boundaries.get(i)).map(|b| b.at);
    let mut out = String::new();
    for (k, w) in s.words.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        for (j, c) in w.text.chars().enumerate() {
            if j > 0 && Some(w.chars.start + j) == at {
                out.push('¦');
            }
            out.push(c);
        }
        if Some(w.chars.end) == at && k + 1 < s.words.len() {
            out.push_str(" ¦");
        }
    }
    out
}

pub(super) fn review_cmd(a: ReviewArgs) -> Result<i32> {
    let text = if a.file.as_os_str() == "-" {
        crate::fsio::read_stdin_text()?
    } else {
        read_text(&a.file)?
    };
    let sents = sentences(&text);
    let (seg, _) = segmenter_for(&a.model)?;
    let bar = indicatif::ProgressBar::new(sents.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("segmenting {pos}/{len} sentences {bar:30} {eta}")
            .expect("a valid template"),
    );
    let mut segs = Vec::with_capacity(sents.len());
    for chunk in sents.chunks(256) {
        let lines: Vec<&str> = chunk.iter().map(|s| s.1.as_str()).collect();
        for mut s in seg.segment_batch(&lines)? {
            // Only the words and boundaries are read from here on.
            s.log_probs = Vec::new();
            segs.push(s);
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let order = review_order(&segs, REPEAT_DISCOUNT);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let take = a.n.unwrap_or(order.len()).min(order.len());
    for (rank, d) in order.iter().take(take).enumerate() {
        let s = &segs[d.index];
        let line = sents[d.index].0;
        let weakest = d.weakest.and_then(|i| s.boundaries.get(i));
        let r = match a.format {
            Format::Text => writeln!(
                out,
                "{:>4}  {:>3.0}%  line {line}  {}",
                rank + 1,
                d.score * 100.0,
                marked(s, d.weakest)
            ),
            Format::Jsonl => {
                let v = serde_json::json!({
                    "rank": rank + 1,
                    "line": line,
                    "sentence": s.text,
                    "doubt": (d.score as f64 * 1e4).round() / 1e4,
                    "words": s.word_strs(),
                    "least_sure": weakest.map(|b| serde_json::json!({
                        "at": b.at,
                        "split": b.split,
                        "prob": (b.prob as f64 * 1e4).round() / 1e4,
                        "words": d.key,
                    })),
                });
                writeln!(out, "{v}")
            }
        };
        r.map_err(StdoutError)?;
    }
    out.flush().map_err(StdoutError)?;
    // Words split in several doubtful sentences that CC-CEDICT knows: offered once, on stderr.
    let dict = crate::explain::Dictionary::embedded();
    let known = |w: &str| !dict.lookup(w).is_empty();
    let words = dictionary_candidates(&segs, &order, known, 2);
    if !words.is_empty() {
        let list: Vec<String> = words
            .iter()
            .take(10)
            .map(|(w, n)| format!("{w} ({n} sentences)"))
            .collect();
        let first = &words[0].0;
        eprintln!(
            "dictionary words the model splits where it doubts: {}; if they are words in your text, `fenci dict add {first}` keeps one whole",
            list.join(", ")
        );
    }
    Ok(0)
}
