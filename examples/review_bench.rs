//! Active-learning benchmark (issue 21): does fenci's review queue point at the sentences worth
//! correcting, and what does correcting them buy? A pool of gold-segmented sentences from a
//! domain the segmenter was not trained on (`benchmarks/review/gold.txt`, product and hotel
//! reviews); the built-in model; a budget of N reviewed sentences chosen by fenci's queue
//! (`segment::review::review_order`), at random, or only among the wrong ones (the oracle).
//! Every reviewed sentence becomes a correction (a confirmed right one too), fenci's `/train`
//! recipe (`train::adapt_with`, default settings) trains on them, and the rest of the pool and
//! People's Daily test are scored before and after.
//!
//!   cargo run --release --example review_bench -- benchmarks/review/gold.txt ../shared [N…]
//!
//! Settings of the recipe to compare (chosen on PKU dev, never test): `ONLY=fenci` runs one
//! strategy; `SHOW=1` prints the corrections that still differ after training; `REPLAY`,
//! `ANCHOR`, `LR`, `EPOCHS`, `FREEZE`, `DISTILL` (the base model's share of the replay
//! sentences' loss), `DISTILL_T` (its temperature), `AUGMENT`, `REPEAT`, `SEED`, `ROUTE` (a margin, or
//! `off`: the new weights segment every sentence) and `RULES` (`off`: no rules learnt from the
//! corrections, `segment::rules`) override `AdaptConfig`'s defaults. Diagnostics: `TAUGHT=1` prints the strings the corrections
//! changed (2+ characters, the corrected words and the base words they replace) and PKU test
//! F1 on the sentences that contain none of them (forgetting outside what the user asked to
//! change); `WISE=0.5,0.8,…` prints exactness, pool gain and PKU loss of the weight-space
//! interpolations `base + a · (tuned − base)` (WiSE-FT); `REST_OUT=PREFIX` writes the rest of the
//! pool's sentences that the base model or the new version gets wrong to `PREFIX.{strategy}{N}.txt`.
//!
//! One line per (strategy, N): how many picks were wrong before (precision) against the pool's
//! error rate, the picks exact after training, F1 on the rest of the pool before → after, PKU
//! test F1 before → after, training time.
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use fenci::segment::review::review_order;
use fenci::segment::{Segmentation, Segmenter};
use fenci::tagger::ModelFiles;
use fenci::train::{adapt_with, evaluate, read_gold, AdaptConfig};
use rand::seq::SliceRandom;
use rand::SeedableRng;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (pool_path, shared) = match args.as_slice() {
        [p, s, ..] => (p.clone(), s.clone()),
        _ => anyhow::bail!("usage: review_bench POOL_GOLD SHARED_DIR [N…]"),
    };
    let budgets: Vec<usize> = if args.len() > 2 {
        args[2..]
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()?
    } else {
        vec![20, 50]
    };
    let mut cfg = AdaptConfig::default();
    let env = |k: &str| std::env::var(k).ok();
    if let Some(v) = env("REPLAY") {
        cfg.replay_per_correction = v.parse()?;
    }
    if let Some(v) = env("ANCHOR") {
        cfg.anchor_decay = v.parse()?;
    }
    if let Some(v) = env("LR") {
        cfg.lr = v.parse()?;
    }
    if let Some(v) = env("EPOCHS") {
        cfg.epochs = v.parse()?;
    }
    if let Some(v) = env("FREEZE") {
        cfg.freeze = v.parse()?;
    }
    if let Some(v) = env("DISTILL") {
        cfg.distill = v.parse()?;
    }
    if let Some(v) = env("DISTILL_T") {
        cfg.distill_temperature = v.parse()?;
    }
    if let Some(v) = env("SEED") {
        cfg.seed = v.parse()?;
    }
    if let Some(v) = env("AUGMENT") {
        cfg.augment = v.parse()?;
    }
    if let Some(v) = env("REPEAT") {
        cfg.repeat = v.parse()?;
    }
    if let Some(v) = env("ROUTE") {
        cfg.route = if v == "off" { None } else { Some(v.parse()?) };
    }
    if let Some(v) = env("RULES") {
        cfg.rules = v != "off";
    }
    let only = env("ONLY");
    println!("{cfg:?}");
    let pool = read_gold(&std::fs::read_to_string(&pool_path)?);
    let dev = read_gold(&std::fs::read_to_string(format!(
        "{shared}/data/pku1998/dev.seg.txt"
    ))?);
    let test = read_gold(&std::fs::read_to_string(format!(
        "{shared}/data/pku1998/test.seg.txt"
    ))?);
    let base = ModelFiles::embedded()?;
    let seg = Segmenter::new(&base)?;
    let lines: Vec<String> = pool.iter().map(|w| w.concat()).collect();
    let segs = seg.segment_batch(&lines)?;
    let wrong: Vec<bool> = segs
        .iter()
        .zip(&pool)
        .map(|(s, g)| !same_words(s, g))
        .collect();
    let n_wrong = wrong.iter().filter(|&&w| w).count();
    println!(
        "pool: {} sentences, {} wrong before any correction ({:.1}%); pool F1 {:.2}",
        pool.len(),
        n_wrong,
        100.0 * n_wrong as f64 / pool.len() as f64,
        evaluate(&seg, &pool, None)?.f1() * 100.0
    );
    let order: Vec<usize> = review_order(&segs, 0.5).iter().map(|d| d.index).collect();
    let test_before = evaluate(&seg, &test, None)?.f1();
    let dev_before = evaluate(&seg, &dev, None)?.f1();
    for &n in &budgets {
        let mut runs: Vec<(String, Vec<usize>)> = vec![("fenci".into(), order[..n].to_vec())];
        for seed in [1u64, 2] {
            let mut all: Vec<usize> = (0..pool.len()).collect();
            all.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
            runs.push((format!("random{seed}"), all[..n].to_vec()));
        }
        let mut bad: Vec<usize> = (0..pool.len()).filter(|&i| wrong[i]).collect();
        bad.shuffle(&mut rand::rngs::StdRng::seed_from_u64(7));
        runs.push(("oracle".into(), bad[..n.min(bad.len())].to_vec()));
        for (name, picks) in runs {
            if only.as_ref().is_some_and(|o| *o != name) {
                continue;
            }
            let picked: std::collections::HashSet<usize> = picks.iter().copied().collect();
            let corr: Vec<Vec<String>> = picks.iter().map(|&i| pool[i].clone()).collect();
            let rest: Vec<Vec<String>> = (0..pool.len())
                .filter(|i| !picked.contains(i))
                .map(|i| pool[i].clone())
                .collect();
            let hits = picks.iter().filter(|&&i| wrong[i]).count();
            let rest_before = evaluate(&seg, &rest, None)?.f1();
            let t0 = Instant::now();
            let summary = adapt_with(&base, &corr, &[], &cfg, &AtomicBool::new(false), |_| {})?;
            let secs = t0.elapsed().as_secs_f64();
            let after = Segmenter::new(&summary.model)?;
            let outs = after.segment_batch(&corr.iter().map(|w| w.concat()).collect::<Vec<_>>())?;
            let mut exact = 0;
            for (s, g) in outs.iter().zip(&corr) {
                if same_words(s, g) {
                    exact += 1;
                } else if env("SHOW").is_some() {
                    println!(
                        "  still differs: {}\n  corrected to:  {}",
                        s.word_strs().join(" "),
                        g.join(" ")
                    );
                }
            }
            if env("TAUGHT").is_some() {
                // The strings the corrections changed (words of a correction the base model did
                // not give, and base words the correction does not have; 2+ characters), and
                // PKU test without any sentence that contains one: forgetting outside what the
                // user asked to change.
                let mut taught = std::collections::BTreeSet::new();
                for (b, g) in picks.iter().map(|&i| &segs[i]).zip(&corr) {
                    let bw: std::collections::HashSet<&str> = b.word_strs().into_iter().collect();
                    let gw: std::collections::HashSet<&str> =
                        g.iter().map(String::as_str).collect();
                    for w in bw.symmetric_difference(&gw) {
                        if w.chars().count() > 1 {
                            taught.insert(w.to_string());
                        }
                    }
                }
                let clean: Vec<Vec<String>> = test
                    .iter()
                    .filter(|ws| {
                        let s = ws.concat();
                        !taught.iter().any(|t| s.contains(t.as_str()))
                    })
                    .cloned()
                    .collect();
                let (b, a) = (
                    evaluate(&seg, &clean, None)?.f1() * 100.0,
                    evaluate(&after, &clean, None)?.f1() * 100.0,
                );
                println!(
                    "  taught {} strings: {}\n  PKU test without them: {} of {} sentences, F1 {b:.2} -> {a:.2} ({:+.2})",
                    taught.len(),
                    taught.iter().cloned().collect::<Vec<_>>().join(" "),
                    clean.len(),
                    test.len(),
                    a - b
                );
            }
            if let Some(spec) = &summary.model.route {
                let shown: Vec<String> = spec
                    .rules
                    .iter()
                    .map(|r| format!("{}→{} ({})", r.text, r.words.join(" "), r.times))
                    .collect();
                println!("  rules from the corrections: {}", shown.join(", "));
            }
            if after.is_routed() {
                let to_base = |set: &[Vec<String>]| {
                    set.iter()
                        .filter(|w| after.routes_to_base(&w.concat()))
                        .count()
                };
                println!(
                    "  routed to the built-in model: rest of pool {}/{}, PKU dev {}/{}, test {}/{}",
                    to_base(&rest),
                    rest.len(),
                    to_base(&dev),
                    dev.len(),
                    to_base(&test),
                    test.len()
                );
            }
            if let Some(path) = env("REST_OUT") {
                // Every sentence of the rest of the pool as the base model, the new version and
                // the gold segment it (one block per sentence that either model gets wrong).
                let text: Vec<String> = rest.iter().map(|w| w.concat()).collect();
                let (b, a) = (seg.segment_batch(&text)?, after.segment_batch(&text)?);
                let mut out = String::new();
                for ((b, a), g) in b.iter().zip(&a).zip(&rest) {
                    if !same_words(b, g) || !same_words(a, g) {
                        out.push_str(&format!(
                            "base  {}\nafter {}\ngold  {}\n\n",
                            b.word_strs().join(" "),
                            a.word_strs().join(" "),
                            g.join(" ")
                        ));
                    }
                }
                std::fs::write(format!("{path}.{name}{n}.txt"), out)?;
            }
            let rest_after = evaluate(&after, &rest, None)?.f1();
            let test_after = evaluate(&after, &test, None)?.f1();
            let dev_after = evaluate(&after, &dev, None)?.f1();
            if let Some(list) = env("WISE") {
                for a in list.split(',') {
                    let a: f64 = a.parse()?;
                    let m = interpolate(&base, &summary.model, a)?;
                    let s = Segmenter::new(&m)?;
                    let outs =
                        s.segment_batch(&corr.iter().map(|w| w.concat()).collect::<Vec<_>>())?;
                    let ex = outs
                        .iter()
                        .zip(&corr)
                        .filter(|(o, g)| same_words(o, g))
                        .count();
                    println!(
                        "  alpha {a:.2}: exact {ex}/{} | rest {:+.2} | dev {:+.2} | test {:+.2}",
                        corr.len(),
                        (evaluate(&s, &rest, None)?.f1() - rest_before) * 100.0,
                        (evaluate(&s, &dev, None)?.f1() - dev_before) * 100.0,
                        (evaluate(&s, &test, None)?.f1() - test_before) * 100.0,
                    );
                }
            }
            println!(
                "N={n:<3} {name:<8} picks wrong {hits}/{} ({:.0}%) | picks exact after {exact}/{} | rest of pool F1 {:.2} -> {:.2} ({:+.2}) | PKU dev F1 {:+.2}, test F1 {:.2} -> {:.2} ({:+.2}) | train {secs:.1} s",
                picks.len(),
                100.0 * hits as f64 / picks.len().max(1) as f64,
                corr.len(),
                rest_before * 100.0,
                rest_after * 100.0,
                (rest_after - rest_before) * 100.0,
                (dev_after - dev_before) * 100.0,
                test_before * 100.0,
                test_after * 100.0,
                (test_after - test_before) * 100.0,
            );
        }
    }
    Ok(())
}

/// Whether `s` segments its sentence into exactly the words `gold`.
fn same_words(s: &Segmentation, gold: &[String]) -> bool {
    s.word_strs() == gold.iter().map(String::as_str).collect::<Vec<_>>()
}

/// `base + a · (tuned − base)`, tensor by tensor (weight-space interpolation, WiSE-FT).
fn interpolate(base: &ModelFiles, tuned: &ModelFiles, a: f64) -> anyhow::Result<ModelFiles> {
    let mut out = tuned.clone();
    for (k, t) in out.tensors.iter_mut() {
        if let Some(b) = base.tensors.get(k) {
            if b.shape() == t.shape() && b.dtype() == t.dtype() && b.dtype().is_float() {
                *t = (b + ((&*t - b)? * a)?)?;
            }
        }
    }
    Ok(out)
}
