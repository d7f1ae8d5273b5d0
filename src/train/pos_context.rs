//! Trains a [`PosContext`], the word-level averaged perceptron of part-of-speech tagging, on
//! gold `word/tag` sentences: features with the gold tag history ([`features`]), one update per
//! wrong word, weights averaged over every step (Collins 2002). Features seen fewer than
//! `min_count` times are left out, and averaged weights under `prune` in size are dropped: both
//! keep the file small at no measured cost (see BENCHMARKS.md). A run of 900k words takes about
//! a minute on one core.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::{Result, TrainError};
use crate::tagger::pos_context::PosWeights;
use crate::tagger::pos_context::{features, START};

/// Hyper-parameters of [`train_pos_context`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PosContextConfig {
    /// Passes over the sentences.
    pub epochs: usize,
    /// Features seen fewer times than this in the training text get no weight.
    pub min_count: u32,
    /// Averaged weights smaller than this in size are dropped.
    pub prune: f32,
    /// Shuffles the sentences of each epoch.
    pub seed: u64,
    /// Written into the model: how much the POS head weighs against it.
    pub head_weight: f32,
    /// Written into the model: the softmax temperature of the shown probability.
    pub temperature: f32,
}

impl Default for PosContextConfig {
    fn default() -> Self {
        // Chosen on pku1998/dev with examples/pos_context.rs (BENCHMARKS.md).
        Self {
            epochs: 8,
            min_count: 2,
            prune: 0.05,
            seed: 0,
            head_weight: 0.5,
            temperature: 6.0,
        }
    }
}

/// Trains on `sents` (gold `(word, tag)` pairs) over `tags` (see [`crate::tagger::PosContext`]
/// for the model the weights make); a tag not among them is an error
/// naming it. `progress(epoch, errors, words)` after each epoch; `cancel` stops between
/// sentences with an error.
pub fn train_pos_context(
    sents: &[Vec<(String, String)>],
    tags: &[String],
    cfg: PosContextConfig,
    cancel: &AtomicBool,
    mut progress: impl FnMut(usize, usize, usize),
) -> Result<PosWeights> {
    let nt = tags.len();
    if nt == 0 || nt > u16::MAX as usize {
        return Err(TrainError::Data(format!("{nt} tags")));
    }
    let tag_id: HashMap<&str, u16> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i as u16))
        .collect();
    // Every word's features (gold history) as ids, and its gold tag.
    let mut counts: HashMap<String, u32> = HashMap::new();
    let mut buf = Vec::new();
    let mut each = |s: &[(String, String)], f: &mut dyn FnMut(&[String], &str)| {
        let words: Vec<&str> = s.iter().map(|w| w.0.as_str()).collect();
        let (mut p1, mut p2) = (START, START);
        for (i, (_, t)) in s.iter().enumerate() {
            features(&words, i, p1, p2, &mut buf);
            f(&buf, t);
            p2 = p1;
            p1 = t;
        }
    };
    for s in sents {
        each(s, &mut |fs, _| {
            for x in fs {
                *counts.entry(x.clone()).or_default() += 1;
            }
        });
    }
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut data: Vec<(Vec<u32>, u16)> = Vec::new();
    let mut bad_tag = None;
    for s in sents {
        each(s, &mut |fs, t| {
            let Some(&tid) = tag_id.get(t) else {
                bad_tag.get_or_insert_with(|| t.to_string());
                return;
            };
            let row = fs
                .iter()
                .filter(|x| counts.get(*x).is_some_and(|&c| c >= cfg.min_count))
                .map(|x| {
                    *ids.entry(x.clone()).or_insert_with(|| {
                        names.push(x.clone());
                        names.len() as u32 - 1
                    })
                })
                .collect();
            data.push((row, tid));
        });
    }
    if let Some(t) = bad_tag {
        return Err(TrainError::Data(format!("tag `{t}` is not in the tag set")));
    }
    drop(counts);
    // Sentence boundaries over `data`, to shuffle whole sentences.
    let mut bounds = Vec::with_capacity(sents.len());
    let mut at = 0;
    for s in sents {
        bounds.push(at..at + s.len());
        at += s.len();
    }
    let nf = names.len();
    let mut w = vec![0f32; nf * nt];
    // Σ step · update, so that the average is w − acc / steps.
    let mut acc = vec![0f64; nf * nt];
    let mut step: u64 = 0;
    let mut rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);
    let mut scores = vec![0f32; nt];
    for epoch in 0..cfg.epochs {
        bounds.shuffle(&mut rng);
        let mut errors = 0;
        for r in &bounds {
            if cancel.load(Ordering::Relaxed) {
                return Err(TrainError::Data("training cancelled".into()));
            }
            for (row, gold) in &data[r.clone()] {
                step += 1;
                scores.iter_mut().for_each(|s| *s = 0.0);
                for &f in row {
                    let base = f as usize * nt;
                    scores
                        .iter_mut()
                        .zip(&w[base..base + nt])
                        .for_each(|(s, x)| *s += x);
                }
                let guess = argmax(&scores);
                if guess != *gold as usize {
                    errors += 1;
                    for &f in row {
                        let base = f as usize * nt;
                        for (t, d) in [(*gold as usize, 1.0f32), (guess, -1.0)] {
                            w[base + t] += d;
                            acc[base + t] += step as f64 * d as f64;
                        }
                    }
                }
            }
        }
        progress(epoch + 1, errors, data.len());
    }
    let steps = step.max(1) as f64;
    let mut weights: HashMap<String, Vec<(u16, f32)>> = HashMap::new();
    for (f, name) in names.into_iter().enumerate() {
        let v: Vec<(u16, f32)> = (0..nt)
            .filter_map(|t| {
                let i = f * nt + t;
                let avg = (w[i] as f64 - acc[i] / steps) as f32;
                (avg.abs() >= cfg.prune && avg != 0.0).then_some((t as u16, avg))
            })
            .collect();
        if !v.is_empty() {
            weights.insert(name, v);
        }
    }
    Ok(PosWeights(weights))
}

/// Gives `files` (a model with a POS head) a context model trained on `sents` with `cfg`
/// (replacing any it had): the weights in `pos_context.txt` and the way they combine in its
/// config. The head's tags are the tag set.
pub fn add_pos_context(
    files: &mut crate::tagger::ModelFiles,
    sents: &[Vec<(String, String)>],
    cfg: PosContextConfig,
    cancel: &AtomicBool,
    progress: impl FnMut(usize, usize, usize),
) -> Result<()> {
    let mut pos = files.config.pos_head("config.json")?.ok_or_else(|| {
        TrainError::Data(format!(
            "{} has no part-of-speech head: train one first (fenci train --pos)",
            files.source
        ))
    })?;
    let model = train_pos_context(sents, &pos.tags, cfg, cancel, progress)?;
    files.pos_context = Some(model.to_text(&pos.tags));
    pos.context = Some(crate::tagger::ContextWeights {
        head_weight: cfg.head_weight,
        temperature: cfg.temperature,
    });
    files.config.set_pos_head(Some(&pos));
    Ok(())
}

fn argmax(x: &[f32]) -> usize {
    x.iter()
        .enumerate()
        .fold(
            (0, f32::NEG_INFINITY),
            |a, (i, &v)| {
                if v > a.1 {
                    (i, v)
                } else {
                    a
                }
            },
        )
        .0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tagger::pos_context::features;

    fn sent(s: &str) -> Vec<(String, String)> {
        s.split_whitespace()
            .map(|t| {
                let (w, tag) = t.rsplit_once('/').unwrap();
                (w.to_string(), tag.to_string())
            })
            .collect()
    }

    /// The same word tagged by its context: 发展 after 的 is a noun-verb, before 经济 a verb.
    #[test]
    fn learns_a_tag_from_the_context() {
        let tags: Vec<String> = ["n", "v", "vn", "u"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut data = Vec::new();
        for _ in 0..5 {
            data.push(sent("发展/v 经济/n"));
            data.push(sent("经济/n 的/u 发展/vn"));
        }
        let cfg = PosContextConfig {
            min_count: 1,
            prune: 0.0,
            ..Default::default()
        };
        let w = train_pos_context(&data, &tags, cfg, &AtomicBool::new(false), |_, _, _| {})
            .expect("trains");
        let m = crate::tagger::PosContext::from_weights(&w, 4, 0.5, 1.0);
        let best = |words: &[&str], i: usize, p1: &str, p2: &str| {
            let mut f = Vec::new();
            features(words, i, p1, p2, &mut f);
            let mut s = vec![0.0; 4];
            m.add_scores(&f, &mut s);
            tags[argmax(&s)].clone()
        };
        assert_eq!(best(&["发展", "经济"], 0, START, START), "v");
        assert_eq!(best(&["经济", "的", "发展"], 2, "u", "n"), "vn");
        let e = train_pos_context(
            &[sent("它/r")],
            &tags,
            cfg,
            &AtomicBool::new(false),
            |_, _, _| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("`r`"), "{e}");
    }
}
