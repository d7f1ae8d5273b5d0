//! Adaptation benchmark: how well does fine-tuning on a few corrections work, and what does it
//! cost? Corrections are dev sentences the model gets wrong (gold from the dev split);
//! "held-out" is the other dev sentences the model gets wrong; "test" is the full test split.
//!
//!   cargo run --release --example adapt_bench -- ../shared N [freeze lr epochs anchor replay augment generated LM]
//!
//! `generated` > 0 mixes in that many sentences per corrected word written by the LM named by
//! the 10th argument (default: the built-in one).
//!
//! Prints one line: corrections exact before/after, held-out F1 before/after, test F1
//! before/after, wall time of the fine-tuning.
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use fenci::segment::Segmenter;
use fenci::tagger::ModelFiles;
use fenci::train::{adapt_with, evaluate, generated_sentences, read_gold, AdaptConfig};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let shared = args.get(1).map(String::as_str).unwrap_or("../shared");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    // `RULES=off`: no rules learnt from the corrections (`segment::rules`).
    let mut cfg = AdaptConfig {
        rules: std::env::var("RULES").map_or(true, |v| v != "off"),
        ..AdaptConfig::default()
    };
    if let Some(v) = args.get(3).and_then(|s| s.parse().ok()) {
        cfg.freeze = v;
    }
    if let Some(v) = args.get(4).and_then(|s| s.parse().ok()) {
        cfg.lr = v;
    }
    if let Some(v) = args.get(5).and_then(|s| s.parse().ok()) {
        cfg.epochs = v;
    }
    if let Some(v) = args.get(6).and_then(|s| s.parse().ok()) {
        cfg.anchor_decay = v;
    }
    if let Some(v) = args.get(7).and_then(|s| s.parse().ok()) {
        cfg.replay_per_correction = v;
    }
    if let Some(v) = args.get(8).and_then(|s| s.parse().ok()) {
        cfg.augment = v;
    }
    if let Some(v) = args.get(9).and_then(|s| s.parse().ok()) {
        cfg.generated = v;
    }
    let base = ModelFiles::embedded()?;
    let seg = Segmenter::new(&base)?;
    let dev = read_gold(&std::fs::read_to_string(format!(
        "{shared}/data/pku1998/dev.seg.txt"
    ))?);
    let test = read_gold(&std::fs::read_to_string(format!(
        "{shared}/data/pku1998/test.seg.txt"
    ))?);
    // Dev sentences of moderate length the model gets wrong.
    let mut wrong = Vec::new();
    for chunk in dev.chunks(128) {
        let lines: Vec<String> = chunk.iter().map(|w| w.concat()).collect();
        for (g, s) in chunk.iter().zip(seg.segment_batch(&lines)?) {
            let n_chars = g.concat().chars().count();
            if s.word_strs() != g.iter().map(String::as_str).collect::<Vec<_>>()
                && (8..=80).contains(&n_chars)
            {
                wrong.push(g.clone());
            }
        }
    }
    let (corr, held) = wrong.split_at(n.min(wrong.len() / 2));
    let exact = |seg: &Segmenter, set: &[Vec<String>]| -> anyhow::Result<usize> {
        let lines: Vec<String> = set.iter().map(|w| w.concat()).collect();
        Ok(seg
            .segment_batch(&lines)?
            .iter()
            .zip(set)
            .filter(|(s, g)| s.word_strs() == g.iter().map(String::as_str).collect::<Vec<_>>())
            .count())
    };
    let held_before = evaluate(&seg, held, None)?.f1();
    let test_before = evaluate(&seg, &test, None)?.f1();
    let started = Instant::now();
    let no = AtomicBool::new(false);
    let extra = if cfg.generated > 0 {
        let spec = args.get(10).map(String::as_str).unwrap_or("default");
        let (files, _) = fenci::hub::resolve_lm(
            spec,
            &fenci::hub::HubOptions::from_env(),
            &mut fenci::hub::NoProgress,
            &no,
        )?;
        let mut g = fenci::generate::Generator::new(files)?;
        generated_sentences(&seg, &mut g, corr, cfg.generated, cfg.seed, &no)?
    } else {
        Vec::new()
    };
    let summary = adapt_with(&base, corr, &extra, &cfg, &no, |_| {})?;
    let secs = started.elapsed().as_secs_f64();
    let after = Segmenter::new(&summary.model)?;
    println!(
        "n={} freeze={} lr={} epochs={} anchor={} replay={} augment={} generated={}({} sents) | corrections exact {}/{} -> {}/{} | held-out({}) F1 {:.2} -> {:.2} | test F1 {:.2} -> {:.2} ({:+.2}) | {:.1} s",
        corr.len(), cfg.freeze, cfg.lr, cfg.epochs, cfg.anchor_decay, cfg.replay_per_correction, cfg.augment, cfg.generated, extra.len(),
        exact(&seg, corr)?, corr.len(), exact(&after, corr)?, corr.len(),
        held.len(), held_before * 100.0, evaluate(&after, held, None)?.f1() * 100.0,
        test_before * 100.0, evaluate(&after, &test, None)?.f1() * 100.0,
        (evaluate(&after, &test, None)?.f1() - test_before) * 100.0, secs
    );
    Ok(())
}
