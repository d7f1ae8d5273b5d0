//! Training: a small run learns its data, reaches the lower layers, freezes, resumes exactly;
//! masked-LM pretraining learns raw text through the encoder.
use std::sync::atomic::{AtomicBool, Ordering};

use fenci::segment::Segmenter;
use fenci::tagger::{LabelScheme, ModelFiles};
use fenci::train::{Distill, Pretrainer, Progress, TrainConfig, Trainer};

use crate::util::{tempdir, tiny_model, toy_corpus};

fn cfg(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        lr: 3e-3,
        batch_tokens: 80,
        dropout: 0.0,
        warmup: 0.05,
        weight_decay: 0.0,
        ..TrainConfig::default()
    }
}

fn max_abs_diff(a: &ModelFiles, b: &ModelFiles, name: &str) -> f32 {
    let d = (&a.tensors[name] - &b.tensors[name])
        .unwrap()
        .abs()
        .unwrap();
    d.flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}

#[test]
fn a_few_hundred_steps_learn_fifty_sentences_through_every_layer() {
    let data = toy_corpus(50);
    let init = tiny_model(&LabelScheme::bmes(), 2, 32, 32, 11);
    let mut steps = 0;
    let summary = Trainer {
        init: init.clone(),
        train: &data,
        dev: &[],
        cfg: TrainConfig {
            dropout: 0.1,
            ..cfg(40)
        },
        out: None,
        f16: false,
        resume: false,
    }
    .run(&AtomicBool::new(false), |p| {
        if let Progress::Step { step, .. } = p {
            steps = step
        }
    })
    .unwrap();
    assert!(steps >= 200, "only {steps} steps");
    let seg = Segmenter::new(&summary.model).unwrap();
    let lines: Vec<String> = data.iter().map(|w| w.concat()).collect();
    let out = seg.segment_batch(&lines).unwrap();
    let wrong: Vec<String> = out
        .iter()
        .zip(&data)
        .filter(|(s, g)| s.word_strs() != g.iter().map(String::as_str).collect::<Vec<_>>())
        .map(|(s, _)| s.word_strs().join(" "))
        .collect();
    assert!(wrong.is_empty(), "not learnt: {wrong:?}");
    for name in [
        "bert.embeddings.word_embeddings.weight",
        "bert.embeddings.LayerNorm.weight",
        "bert.encoder.layer.0.attention.self.query.weight",
        "bert.encoder.layer.0.output.dense.weight",
        "classifier.weight",
    ] {
        assert!(
            max_abs_diff(&init, &summary.model, name) > 1e-3,
            "{name} did not change"
        );
    }
}

#[test]
fn frozen_layers_stay_put() {
    let data = toy_corpus(20);
    let init = tiny_model(&LabelScheme::bmes(), 2, 16, 32, 12);
    let summary = Trainer {
        init: init.clone(),
        train: &data,
        dev: &[],
        cfg: TrainConfig {
            freeze: 2,
            ..cfg(3)
        },
        out: None,
        f16: false,
        resume: false,
    }
    .run(&AtomicBool::new(false), |_| {})
    .unwrap();
    assert_eq!(
        max_abs_diff(
            &init,
            &summary.model,
            "bert.embeddings.word_embeddings.weight"
        ),
        0.0
    );
    assert_eq!(
        max_abs_diff(
            &init,
            &summary.model,
            "bert.encoder.layer.0.attention.self.query.weight"
        ),
        0.0
    );
    assert!(
        max_abs_diff(
            &init,
            &summary.model,
            "bert.encoder.layer.1.attention.self.query.weight"
        ) > 0.0
    );
    assert!(max_abs_diff(&init, &summary.model, "classifier.weight") > 0.0);
}

#[test]
fn cancel_then_resume_matches_an_uninterrupted_run() {
    let data = toy_corpus(30);
    let dev = toy_corpus(35)[30..].to_vec();
    let init = tiny_model(&LabelScheme::bmes(), 1, 16, 32, 13);
    let straight_dir = tempdir();
    let straight = Trainer {
        init: init.clone(),
        train: &data,
        dev: &dev,
        cfg: cfg(3),
        out: Some(straight_dir.path().join("m")),
        f16: false,
        resume: false,
    }
    .run(&AtomicBool::new(false), |_| {})
    .unwrap();

    let dir = tempdir();
    let out = dir.path().join("m");
    let cancel = AtomicBool::new(false);
    let first = Trainer {
        init: init.clone(),
        train: &data,
        dev: &dev,
        cfg: cfg(3),
        out: Some(out.clone()),
        f16: false,
        resume: false,
    }
    .run(&cancel, |p| {
        if let Progress::Step { step: 7, .. } = p {
            cancel.store(true, Ordering::SeqCst)
        }
    })
    .unwrap();
    assert!(first.cancelled);
    assert_eq!(first.steps, 7);
    assert!(fenci::train::checkpoint_dir(&out)
        .join("state.json")
        .is_file());
    let resumed = Trainer {
        init,
        train: &data,
        dev: &dev,
        cfg: cfg(3),
        out: Some(out.clone()),
        f16: false,
        resume: true,
    }
    .run(&AtomicBool::new(false), |_| {})
    .unwrap();
    assert!(!resumed.cancelled);
    assert_eq!(resumed.steps, straight.steps);
    assert_eq!(resumed.best_dev_f1, straight.best_dev_f1);
    let a = ModelFiles::load_dir(&out).unwrap();
    let b = ModelFiles::load_dir(&straight_dir.path().join("m")).unwrap();
    for (name, t) in &a.tensors {
        let d = (t - &b.tensors[name])
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap();
        assert_eq!(
            d.to_scalar::<f32>().unwrap(),
            0.0,
            "{name} differs after resume"
        );
    }
}

#[test]
fn masked_lm_pretraining_learns_held_out_text_through_the_encoder_only() {
    let text: Vec<String> = toy_corpus(120).iter().map(|w| w.concat()).collect();
    let (train, dev) = text.split_at(100);
    let init = tiny_model(&LabelScheme::bmes(), 2, 32, 32, 13);
    let dir = tempdir();
    let out = dir.path().join("pre");
    let mut ppl = Vec::new();
    let summary = Pretrainer {
        init: init.clone(),
        text: train,
        dev,
        cfg: cfg(40),
        out: Some(out.clone()),
        f16: false,
        resume: false,
    }
    .run(&AtomicBool::new(false), |p| {
        if let Progress::Perplexity { ppl: x, .. } = p {
            ppl.push(x)
        }
    })
    .unwrap();
    assert_eq!(ppl.len(), 40);
    // A masked character of unseen sentences: near-uniform over ~140 entries at first, then
    // mostly guessed from its neighbours (喜 → 欢, 天安 → 门 …).
    let (first, last) = (ppl[0], *ppl.last().unwrap());
    assert!(last < first / 10.0, "dev perplexity {first:.1} → {last:.1}");
    for name in [
        "bert.embeddings.word_embeddings.weight",
        "bert.encoder.layer.0.attention.self.query.weight",
        "bert.encoder.layer.1.output.dense.weight",
    ] {
        assert!(
            max_abs_diff(&init, &summary.model, name) > 1e-3,
            "{name} did not change"
        );
    }
    assert_eq!(
        max_abs_diff(&init, &summary.model, "classifier.weight"),
        0.0
    );
    assert!(summary.model.tensors.keys().all(|k| !k.starts_with("cls.")));
    // What was saved is a tagger that loads, segments and fine-tunes.
    let saved = ModelFiles::load_dir(&out).unwrap();
    Segmenter::new(&saved)
        .unwrap()
        .segment("我喜欢中文")
        .unwrap();
    let tuned = Trainer {
        init: saved,
        train: &toy_corpus(20),
        dev: &[],
        cfg: cfg(1),
        out: None,
        f16: false,
        resume: false,
    }
    .run(&AtomicBool::new(false), |_| {})
    .unwrap();
    assert!(tuned.steps > 0);
}

#[test]
fn progress_counts_every_step_with_random_cuts_and_swaps() {
    // Random cuts and dictionary swaps change the number of batches from epoch to epoch; the
    // planned total must still be the number of steps taken, so the bar and the schedule end.
    let data = toy_corpus(60);
    let mut init = tiny_model(&LabelScheme::bmes(), 1, 32, 32, 3);
    init.add_word_features(fenci::text::WordSet::parse(
        "学习\n电影\n老师\n图书\n咖啡\n公园\n",
    ))
    .unwrap();
    let mut totals = std::collections::BTreeSet::new();
    let mut last = 0;
    let summary = Trainer {
        init,
        train: &data,
        dev: &[],
        cfg: TrainConfig {
            cut_prob: 0.5,
            lexicon_swap: 0.3,
            batch_tokens: 40,
            ..cfg(4)
        },
        out: None,
        f16: false,
        resume: false,
    }
    .run(&AtomicBool::new(false), |p| {
        if let Progress::Step { step, total, .. } = p {
            totals.insert(total);
            last = step;
        }
    })
    .unwrap();
    assert_eq!(totals.len(), 1, "the total changed: {totals:?}");
    assert_eq!(totals.first(), Some(&last), "ended at step {last}");
    assert_eq!(summary.steps, last);
}

/// The most likely tag of every unit of `sents` under `m`, and each unit's distribution.
fn tags_and_probs(m: &ModelFiles, sents: &[Vec<String>]) -> (Vec<usize>, Vec<Vec<f32>>) {
    let seg = Segmenter::new(m).unwrap();
    let units: Vec<_> = sents
        .iter()
        .map(|w| seg.tokenizer().units(&w.concat()))
        .collect();
    let k = m.config.labels("config.json").unwrap().len();
    let mut tags = Vec::new();
    let mut probs = Vec::new();
    for lp in seg.label_log_probs(&units).unwrap() {
        for row in lp.chunks(k) {
            let best = (0..k).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            tags.push(best);
            probs.push(row.iter().map(|x| x.exp()).collect());
        }
    }
    (tags, probs)
}

#[test]
fn distillation_keeps_the_replay_sentences_tags() {
    // A base model that knows the toy corpus; fine-tuned on a correction, with replay sentences
    // whose gold tags disagree with it (every character a word). Learning their gold tags moves
    // their tags; learning the base model's distributions instead keeps them.
    let corpus = toy_corpus(40);
    let base = Trainer {
        init: tiny_model(&LabelScheme::bmes(), 1, 32, 32, 5),
        train: &corpus,
        dev: &[],
        cfg: cfg(25),
        out: None,
        f16: false,
        resume: false,
    }
    .run(&AtomicBool::new(false), |_| {})
    .unwrap()
    .model;
    let replay: Vec<Vec<String>> = corpus[..12]
        .iter()
        .map(|w| w.concat().chars().map(String::from).collect())
        .collect();
    let correction: Vec<String> = ["我们", "喜欢", "北京天安门"]
        .iter()
        .map(|w| w.to_string())
        .collect();
    let mut data = vec![correction.clone(); 3];
    data.extend(replay.iter().cloned());
    let flags: Vec<bool> = data.iter().map(|s| *s != correction).collect();
    let tune = |distill: Option<Distill>| {
        let t = Trainer {
            init: base.clone(),
            train: &data,
            dev: &[],
            cfg: cfg(12),
            out: None,
            f16: false,
            resume: false,
        };
        let never = AtomicBool::new(false);
        match distill {
            Some(d) => t.run_distilled(&d, &never, |_| {}),
            None => t.run(&never, |_| {}),
        }
        .unwrap()
        .model
    };
    let gold = tune(None);
    let distilled = tune(Some(Distill {
        teacher: &base,
        sentences: &flags,
        weight: 1.0,
        temperature: 1.0,
    }));
    let (base_tags, base_p) = tags_and_probs(&base, &replay);
    let kl = |m: &ModelFiles| -> (usize, f32) {
        let (tags, p) = tags_and_probs(m, &replay);
        let changed = tags.iter().zip(&base_tags).filter(|(a, b)| a != b).count();
        let kl: f32 = base_p
            .iter()
            .zip(&p)
            .flat_map(|(q, p)| q.iter().zip(p).map(|(q, p)| q * (q.ln() - p.ln())))
            .sum();
        (changed, kl / base_tags.len() as f32)
    };
    let (gold_changed, gold_kl) = kl(&gold);
    let (dist_changed, dist_kl) = kl(&distilled);
    let n = base_tags.len();
    assert!(
        gold_changed * 4 > n,
        "gold tags moved only {gold_changed} of {n} units"
    );
    assert!(
        dist_changed * 20 <= n,
        "distilled: {dist_changed} of {n} units changed their tag"
    );
    assert!(
        dist_kl * 10.0 < gold_kl,
        "KL from the base: distilled {dist_kl}, gold {gold_kl}"
    );
    // The correction itself is learnt either way.
    let seg = Segmenter::new(&distilled).unwrap();
    assert_eq!(
        seg.segment(&correction.concat()).unwrap().word_strs(),
        correction.iter().map(String::as_str).collect::<Vec<_>>()
    );
}
