//! Self-training data: segments raw text with a model and keeps the sentences it is sure of.
//!
//!   cargo run --release --example silver -- MODEL MIN_PROB MAX_SENTENCES FILE... > silver.seg.txt
//!
//! MODEL is `default` or a directory in the Hugging Face layout; FILEs are raw text (`.gz` read
//! compressed). Lines are cut into sentences after 。！？；… and at whitespace; a sentence of
//! 6–80 characters, at least 80% of them Chinese, is kept when every boundary the model decided
//! (not one forced by whitespace or a rule) is at least MIN_PROB sure either way. Up to
//! MAX_SENTENCES kept sentences, in a shuffled order (seed 42), are printed as words separated
//! by spaces, the format of a gold training file. A summary goes to stderr.
use std::io::{BufRead, BufReader, Read, Write};

use anyhow::Context;
use fenci::segment::Segmenter;
use fenci::tagger::ModelFiles;
use rand::seq::SliceRandom;
use rand::SeedableRng;

fn sentences(line: &str, out: &mut Vec<String>) {
    let mut cur = String::new();
    for c in line.chars() {
        if c.is_whitespace() {
            out.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
        if "。！？；!?;…".contains(c) {
            out.push(std::mem::take(&mut cur));
        }
    }
    out.push(cur);
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, min_prob, max_n, files @ ..] = args.as_slice() else {
        anyhow::bail!("usage: silver MODEL MIN_PROB MAX_SENTENCES FILE...");
    };
    let min_prob: f32 = min_prob.parse().context("MIN_PROB")?;
    let max_n: usize = max_n.parse().context("MAX_SENTENCES")?;
    let files_m = if model == "default" {
        ModelFiles::embedded()?
    } else {
        ModelFiles::load_dir(std::path::Path::new(model))?
    };
    let seg = Segmenter::new(&files_m)?;

    let mut candidates = Vec::new();
    for f in files {
        let file = std::fs::File::open(f).with_context(|| format!("cannot open {f}"))?;
        let reader: Box<dyn Read> = if f.ends_with(".gz") {
            Box::new(flate2::read::GzDecoder::new(file))
        } else {
            Box::new(file)
        };
        for line in BufReader::new(reader).lines() {
            sentences(&line?, &mut candidates);
        }
    }
    let is_han = fenci::text::is_basic_han;
    candidates.retain(|s| {
        let n = s.chars().count();
        (6..=80).contains(&n) && s.chars().filter(|&c| is_han(c)).count() * 5 >= n * 4
    });
    candidates.sort();
    candidates.dedup();
    candidates.shuffle(&mut rand::rngs::StdRng::seed_from_u64(42));

    let (mut seen, mut kept) = (0usize, Vec::new());
    for chunk in candidates.chunks(256) {
        for s in seg.segment_batch(chunk)? {
            seen += 1;
            let sure = s
                .boundaries
                .iter()
                .filter(|b| !b.forced)
                .all(|b| b.prob.max(1.0 - b.prob) >= min_prob);
            if sure {
                kept.push(s.word_strs().join(" "));
            }
        }
        if kept.len() >= max_n {
            break;
        }
    }
    kept.truncate(max_n);
    let mut out = std::io::stdout().lock();
    for k in &kept {
        writeln!(out, "{k}")?;
    }
    eprintln!(
        "{} candidate sentences, {seen} segmented, {} kept (every boundary ≥ {min_prob})",
        candidates.len(),
        kept.len()
    );
    Ok(())
}
