//! `fenci explain` (a sentence's turn as plain text, as the app shows it, then one line per
//! word) and `fenci segment --format jsonl` ([`JsonSink`]: one JSON object per input line).

use std::io::{self, Write};

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::{segmenter_for, ModelArg, StdoutError};
use crate::annotate::{annotate, annotate_segmentation, Annotated, ALTERNATIVES};
use crate::explain::Dictionary;
use crate::segment::stream::LineSink;
use crate::segment::{Segmentation, Segmenter};
use crate::tagger::LabelScheme;

/// What `fenci segment` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Words separated by --sep, one line per input line.
    #[default]
    Text,
    /// One JSON object per input line: each word with its offsets, pinyin, gloss and the
    /// probability of the boundary after it, and the next-best segmentations (README: "JSON
    /// lines").
    Jsonl,
}

/// Writes each line as one JSON object: `{"line": N, "words": [...], "alternatives": [...]}`,
/// and `"model"` (`"built-in"`, `"trained"` or `"mixed"`) when a routed version segments
/// ([`JsonSink::routed_by`]). A long line, segmented piece by piece, is still one object; it has
/// no alternatives.
pub struct JsonSink<'a> {
    dict: &'a Dictionary,
    scheme: &'a LabelScheme,
    /// A routed version segments (see [`crate::segment::Segmenter::is_routed`]).
    routed: bool,
    /// Which model segmented the current line's pieces so far: built-in, trained.
    sent: (bool, bool),
    /// Lines finished so far.
    line: usize,
    /// Words of the current line written so far.
    written: usize,
    /// The current line's alternatives (a whole line only), written at its end.
    alternatives: String,
}

impl<'a> JsonSink<'a> {
    /// Explains words with `dict`; alternatives come from the model's `scheme`.
    pub fn new(dict: &'a Dictionary, scheme: &'a LabelScheme) -> Self {
        Self {
            dict,
            scheme,
            line: 0,
            written: 0,
            alternatives: "[]".into(),
            routed: false,
            sent: (false, false),
        }
    }

    /// Says for each line which model segmented it when `seg` is a routed version (one that
    /// hands text like the built-in model's to it): `"model":"built-in"` or `"trained"`, and
    /// `"mixed"` for a long line whose pieces went to both. Nothing for other segmenters.
    pub fn routed_by(mut self, seg: &Segmenter) -> Self {
        self.routed = seg.is_routed();
        self
    }

    fn open(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.written == 0 {
            write!(out, "{{\"line\":{},\"words\":[", self.line + 1)?;
        }
        Ok(())
    }
}

impl LineSink for JsonSink<'_> {
    fn words(
        &mut self,
        s: &Segmentation,
        take: usize,
        char_offset: usize,
        whole: bool,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        // Only pieces that write words count (a whitespace-only piece is routed too).
        if self.routed && take > 0 {
            if s.by_built_in {
                self.sent.0 = true;
            } else {
                self.sent.1 = true;
            }
        }
        let k = if whole { ALTERNATIVES } else { 0 };
        let a = annotate_segmentation(s.clone(), self.dict, self.scheme, k);
        if whole {
            self.alternatives = serde_json::to_string(&a.json_alternatives())?;
        }
        for w in a.json_words(0..take.min(a.seg.words.len()), char_offset) {
            self.open(out)?;
            if self.written > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, &w)?;
            self.written += 1;
        }
        Ok(())
    }

    fn end_line(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.open(out)?;
        let model = match (self.routed, self.sent) {
            (false, _) => "",
            (true, (true, false)) => ",\"model\":\"built-in\"",
            (true, (true, true)) => ",\"model\":\"mixed\"",
            (true, _) => ",\"model\":\"trained\"",
        };
        writeln!(out, "],\"alternatives\":{}{model}}}", self.alternatives)?;
        self.sent = (false, false);
        self.line += 1;
        self.written = 0;
        self.alternatives = "[]".into();
        Ok(())
    }
}

/// `fenci explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    model: ModelArg,
    /// The sentences (each argument one; none: one sentence per line of standard input).
    sentences: Vec<String>,
    /// Width in columns (default: the terminal's, else 80).
    #[arg(long, value_name = "COLS")]
    width: Option<usize>,
}

/// `fenci explain`: each sentence as the app's full view, in plain text, then its words one a
/// line with everything known about them.
pub(super) fn explain_cmd(a: ExplainArgs, threads: usize) -> Result<i32> {
    let (mut seg, _) = segmenter_for(&a.model)?;
    seg.set_workers(threads);
    seg.set_pos(true);
    let dict = Dictionary::embedded();
    let cols = a
        .width
        .or_else(|| crossterm::terminal::size().ok().map(|(c, _)| c as usize))
        .unwrap_or(80)
        .clamp(20, 400);
    let sentences: Vec<String> = if a.sentences.is_empty() {
        let s = crate::fsio::read_stdin_text()?;
        s.lines().map(str::to_string).collect()
    } else {
        a.sentences
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for (n, text) in sentences.iter().enumerate() {
        let d = annotate(&seg, dict, text)?;
        if n > 0 {
            writeln!(out).map_err(StdoutError)?;
        }
        for line in plain_turn(&d, cols) {
            let line = crate::text::visible_controls(&line);
            writeln!(out, "{line}").map_err(StdoutError)?;
        }
    }
    out.flush().map_err(StdoutError)?;
    Ok(0)
}

/// The turn as the app draws it in full (without colour), then one line per word: word,
/// pinyin, gloss, and where the model hesitated, the probability of the boundary after it.
pub fn plain_turn(d: &Annotated, cols: usize) -> Vec<String> {
    let th = crate::tui::view::Theme { color: false };
    let mut out = crate::tui::view::plain_lines(&crate::tui::view::turn_lines(
        d,
        crate::store::Explain::Full,
        false,
        None,
        None,
        cols,
        &th,
    ));
    out.push(String::new());
    for (i, (w, e)) in d.seg.words.iter().zip(&d.explanations).enumerate() {
        let mut line = format!("  {}", w.text);
        for part in [&e.pinyin, &e.gloss] {
            if !part.is_empty() {
                line.push_str("  ");
                line.push_str(part);
            }
        }
        if e.from_chars && !e.gloss.is_empty() {
            line.push_str("  (not in the dictionary: from its characters)");
        }
        if d.seg.uncertain_word(i) {
            line.push_str(&format!(
                "  ? not sure: {:.0}% that this is one word",
                d.seg.word_confidence(i) * 100.0
            ));
        }
        if let Some(b) = d.boundary_after(i).filter(|b| b.hesitant()) {
            line.push_str(&format!("  [boundary after: {:.0}%]", b.prob * 100.0));
        }
        out.push(line);
    }
    out
}
