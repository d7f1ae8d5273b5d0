//! Dictionary features: token-type ids from a word list, shipped with the model as lexicon.txt.
use std::sync::atomic::AtomicBool;

use fenci::segment::Segmenter;
use fenci::tagger::{LabelScheme, ModelError, ModelFiles, WORDS_FILE};
use fenci::text::WordSet;
use fenci::train::{self, TrainConfig, Trainer};

use crate::util::{tempdir, tiny_model, CJK};

fn log_probs(m: &ModelFiles, lines: &[&str]) -> Vec<Vec<f32>> {
    let seg = Segmenter::new(m).unwrap();
    let units: Vec<_> = lines.iter().map(|l| seg.tokenizer().units(l)).collect();
    seg.label_log_probs(&units).unwrap()
}

#[test]
fn added_features_start_neutral_ship_as_lexicon_txt_and_are_required() {
    let plain = tiny_model(&LabelScheme::bmes(), 1, 16, 64, 3);
    let lines = ["我爱北京天安门", "学生喜欢学习数学", "abc 你好"];
    let before = log_probs(&plain, &lines);

    let mut m = plain.clone();
    m.add_word_features(WordSet::parse("北京\n天安门\n学习\n数学\n喜欢学习\n"))
        .unwrap();
    let seg = Segmenter::new(&m).unwrap();
    let types = seg.tokenizer().units("我爱北京天安门").types;
    assert_ne!(types, vec![0; 7], "the dictionary words are marked");
    // Every new token type starts as a copy of type 0: the model computes what it did.
    let after = log_probs(&m, &lines);
    for (a, b) in before.iter().zip(&after) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
    }

    // Saved in the HF layout with its word list; loads back the same.
    let dir = tempdir();
    m.save_dir(dir.path(), false).unwrap();
    let cfg = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    assert!(
        cfg.contains("\"fenci_word_features\": \"lexicon.txt\""),
        "{cfg}"
    );
    assert!(cfg.contains("\"type_vocab_size\": 32"), "{cfg}");
    let back = ModelFiles::load_dir(dir.path()).unwrap();
    assert_eq!(back.features.as_ref().unwrap().words().len(), 5);
    assert_eq!(log_probs(&back, &lines), after);

    // Without its word list the model would tag differently: refused, saying what is missing.
    std::fs::remove_file(dir.path().join(WORDS_FILE)).unwrap();
    let e = ModelFiles::load_dir(dir.path()).unwrap_err();
    assert!(matches!(e, ModelError::BadConfig { .. }), "{e:?}");
    assert!(e.to_string().contains("lexicon.txt"), "{e}");
    // Another file name is refused as unsupported, not silently ignored.
    std::fs::write(dir.path().join(WORDS_FILE), "北京\n").unwrap();
    let bad = cfg.replace("\"lexicon.txt\"", "\"words.txt\"");
    std::fs::write(dir.path().join("config.json"), bad).unwrap();
    let e = ModelFiles::load_dir(dir.path()).unwrap_err();
    assert!(matches!(e, ModelError::Unsupported { .. }), "{e:?}");
    // Too few token types for the features.
    let small = cfg.replace("\"type_vocab_size\": 32", "\"type_vocab_size\": 2");
    std::fs::write(dir.path().join("config.json"), small).unwrap();
    assert!(ModelFiles::load_dir(dir.path()).is_err());
}

/// A toy language whose words are random strings over a few characters: where one word ends
/// cannot be read off the characters, only off the dictionary.
fn toy_language() -> (Vec<String>, Vec<String>) {
    let pool: Vec<char> = CJK.chars().take(30).collect();
    let mut k = 12345u64;
    let mut next = |n: usize| {
        k = k
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (k >> 33) as usize % n
    };
    let mut seen = std::collections::HashSet::new();
    let mut words = Vec::new();
    while words.len() < 240 {
        let len = 2 + next(2);
        let w: String = (0..len).map(|_| pool[next(pool.len())]).collect();
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    let test = words.split_off(120);
    (words, test)
}

fn toy_sentences(words: &[String], n: usize, seed: u64) -> Vec<Vec<String>> {
    let mut k = seed;
    let mut next = |m: usize| {
        k = k
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (k >> 33) as usize % m
    };
    (0..n)
        .map(|_| {
            (0..4 + next(4))
                .map(|_| words[next(words.len())].clone())
                .collect()
        })
        .collect()
}

#[test]
fn features_let_a_model_segment_dictionary_words_it_never_saw() {
    let (seen, unseen) = toy_language();
    let train_sents = toy_sentences(&seen, 400, 1);
    let test_sents = toy_sentences(&unseen, 100, 2);
    let lexicon: Vec<String> = seen.iter().chain(&unseen).cloned().collect();
    let cfg = TrainConfig {
        epochs: 6,
        lr: 3e-3,
        dropout: 0.0,
        seed: 5,
        ..TrainConfig::default()
    };
    let run = |features: bool| -> f64 {
        let mut init = tiny_model(&LabelScheme::bmes(), 1, 32, 64, 9);
        if features {
            init.add_word_features(WordSet::new(lexicon.clone()))
                .unwrap();
        }
        let s = Trainer {
            init,
            train: &train_sents,
            dev: &[],
            cfg: cfg.clone(),
            out: None,
            f16: false,
            resume: false,
        }
        .run(&AtomicBool::new(false), |_| {})
        .unwrap();
        let seg = Segmenter::new(&s.model).unwrap();
        train::evaluate(&seg, &test_sents, None).unwrap().f1()
    };
    let (with, without) = (run(true), run(false));
    eprintln!("F1 on unseen dictionary words: with features {with:.3}, without {without:.3}");
    assert!(with > 0.9, "with features {with:.3}");
    assert!(with > without + 0.2, "with {with:.3}, without {without:.3}");
}
