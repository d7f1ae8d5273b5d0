//! The part-of-speech head: stored beside the tagger (`fenci_pos.*` tensors, a `fenci_pos`
//! config key) and round-tripped, refused clearly when corrupt, absent without changing
//! anything, trained over the frozen encoder, dropped by trainers that change the encoder, and
//! printed by `fenci segment --pos` / scored by `fenci eval` on `word/tag` gold; the word-level
//! context model beside the head (`pos_context.txt`): saved, loaded (also gzipped), refused
//! clearly when corrupt, and what the built-in model's tags get right with it.

use std::sync::atomic::AtomicBool;

use fenci::segment::Segmenter;
use fenci::tagger::{self, LabelScheme, ModelError, ModelFiles, PosConfig};
use fenci::train::{
    add_pos_context, PosContextConfig, PosTrainConfig, PosTrainer, TrainConfig, Trainer,
};

use crate::cli::fenci;
use crate::util::{tempdir, tiny_model, toy_corpus, write_model};

fn tags() -> Vec<String> {
    ["n", "v", "r", "u"].iter().map(|s| s.to_string()).collect()
}

/// A tiny model with a random POS head of `layers` layers.
fn with_head(layers: usize) -> ModelFiles {
    let mut m = tiny_model(&LabelScheme::bmes(), 1, 16, 32, 3);
    let pos = PosConfig {
        tags: tags(),
        num_layers: layers,
        lexicon: None,
        context: None,
    };
    let t = tagger::init_pos_tensors(&m.config, &pos, 9).unwrap();
    m.set_pos_head(&pos, t).unwrap();
    m
}

/// The toy corpus with tags: pronoun-like subjects r, verbs v, objects n, particles u.
fn tagged_corpus(n: usize) -> Vec<Vec<(String, String)>> {
    toy_corpus(n)
        .into_iter()
        .map(|ws| {
            ws.into_iter()
                .enumerate()
                .map(|(i, w)| {
                    let t = match i {
                        0 => "r",
                        1 => "v",
                        2 => "n",
                        _ => "u",
                    };
                    (w, t.to_string())
                })
                .collect()
        })
        .collect()
}

const LINES: [&str; 3] = ["我喜欢北京天安门。", "老师研究数学", "他们看电影了abc12"];

/// Each line's words and (tag, probability) pairs.
type Tagged = Vec<(Vec<String>, Vec<(String, f32)>)>;

fn tagged(seg: &Segmenter) -> Tagged {
    let mut seg = seg.clone();
    seg.set_pos(true);
    seg.segment_batch(&LINES)
        .unwrap()
        .into_iter()
        .map(|s| {
            (
                s.word_strs().iter().map(|w| w.to_string()).collect(),
                s.pos.iter().map(|p| (p.tag.clone(), p.prob)).collect(),
            )
        })
        .collect()
}

#[test]
fn a_pos_head_round_trips_and_leaves_the_words_alone() {
    let m = with_head(2);
    let dir = tempdir();
    write_model(&m, dir.path());
    let cfg = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    assert!(cfg.contains("\"fenci_pos\""), "{cfg}");
    let back = ModelFiles::load_dir(dir.path()).unwrap();
    assert_eq!(back.pos_config(), m.pos_config());
    assert_eq!(back.tensors.len(), m.tensors.len());
    let a = Segmenter::new(&m).unwrap();
    let b = Segmenter::new(&back).unwrap();
    assert!(a.has_pos() && b.has_pos());
    let (ta, tb) = (tagged(&a), tagged(&b));
    assert_eq!(ta, tb);
    // One tag per word, from the head's tag set, each with a probability in (0, 1].
    for (words, pos) in &ta {
        assert_eq!(words.len(), pos.len());
        for (t, p) in pos {
            assert!(tags().contains(t) && *p > 0.0 && *p <= 1.0, "{t} {p}");
        }
    }
    // The words are those of the same model without its head, with POS on or off.
    let plain = Segmenter::new(&m.without_pos()).unwrap();
    let words: Vec<Vec<String>> = plain
        .segment_batch(&LINES)
        .unwrap()
        .iter()
        .map(|s| s.word_strs().iter().map(|w| w.to_string()).collect())
        .collect();
    assert_eq!(ta.iter().map(|t| t.0.clone()).collect::<Vec<_>>(), words);
    // POS off (the default): no tags, same words, same label scores.
    let off = b.segment_batch(&LINES).unwrap();
    assert!(off.iter().all(|s| s.pos.is_empty()));
    let mut on = b.clone();
    on.set_pos(true);
    let on = on.segment_batch(&LINES).unwrap();
    for (x, y) in off.iter().zip(&on) {
        assert_eq!(x.log_probs, y.log_probs);
    }
}

/// A head with a context model trained on the toy corpus (every word seen, every weight kept).
fn with_context() -> ModelFiles {
    let mut m = with_head(1);
    let cfg = PosContextConfig {
        epochs: 3,
        min_count: 1,
        prune: 0.0,
        ..Default::default()
    };
    add_pos_context(
        &mut m,
        &tagged_corpus(40),
        cfg,
        &AtomicBool::new(false),
        |_, _, _| {},
    )
    .unwrap();
    m
}

#[test]
fn a_context_model_round_trips_plain_or_gzipped_and_changes_the_tags() {
    let m = with_context();
    let pc = m.pos_config().unwrap();
    assert!(pc.context.is_some() && m.pos_context.is_some());
    let dir = tempdir();
    write_model(&m, dir.path());
    let back = ModelFiles::load_dir(dir.path()).unwrap();
    assert_eq!(back.pos_config(), m.pos_config());
    assert_eq!(back.pos_context, m.pos_context);
    let with = tagged(&Segmenter::new(&back).unwrap());
    assert_eq!(with, tagged(&Segmenter::new(&m).unwrap()));
    // The same head without the context model tags differently (its head is random).
    let mut bare = m.clone();
    let mut no_ctx = pc.clone();
    no_ctx.context = None;
    bare.config.set_pos_head(Some(&no_ctx));
    let without = tagged(&Segmenter::new(&bare).unwrap());
    assert_eq!(
        with.iter().map(|t| &t.0).collect::<Vec<_>>(),
        without.iter().map(|t| &t.0).collect::<Vec<_>>(),
        "the words stay"
    );
    assert_ne!(with, without, "the context model decides tags");
    // Gzipped, as the built-in model stores it.
    let plain = dir.path().join(tagger::POS_CONTEXT_FILE);
    let text = std::fs::read(&plain).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &text).unwrap();
    std::fs::write(dir.path().join("pos_context.txt.gz"), gz.finish().unwrap()).unwrap();
    std::fs::remove_file(&plain).unwrap();
    let zipped = ModelFiles::load_dir(dir.path()).unwrap();
    assert_eq!(zipped.pos_context, m.pos_context);
}

#[test]
fn a_missing_or_corrupt_context_model_is_a_clear_error() {
    let m = with_context();
    let dir = tempdir();
    write_model(&m, dir.path());
    let file = dir.path().join(tagger::POS_CONTEXT_FILE);
    let text = std::fs::read_to_string(&file).unwrap();
    for (bad, says) in [
        ("garbage\n".to_string(), "not a fenci POS context model"),
        (text.replacen(":", ":x", 1), "not a number"),
        (text.replacen("\t", " ", 1), "line 2"),
    ] {
        std::fs::write(&file, bad).unwrap();
        let loaded = ModelFiles::load_dir(dir.path()).unwrap();
        let err = Segmenter::new(&loaded).unwrap_err().to_string();
        assert!(
            err.contains("pos_context.txt") && err.contains(says),
            "{err}"
        );
    }
    std::fs::write(&file, [0xff, 0xfe]).unwrap();
    let err = ModelFiles::load_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("UTF-8"), "{err}");
    std::fs::remove_file(&file).unwrap();
    let err = ModelFiles::load_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("pos_context.txt"), "{err}");
}

/// The built-in model's tags on sentences where a word's part of speech depends on its
/// neighbours (the cases behind issue 19's readings: 还 v/d, 得 v/u, 长 v/a, 发展 v/vn).
#[test]
fn the_built_in_model_tags_by_context() {
    let mut seg = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    seg.set_pos(true);
    for (line, want) in [
        ("我们要发展经济。", "我们/r 要/v 发展/v 经济/n 。/w"),
        ("经济的发展很快。", "经济/n 的/u 发展/vn 很/d 快/a 。/w"),
        ("他还没还我钱。", "他/r 还/d 没/d 还/v 我/r 钱/n 。/w"),
        ("你长得真好看。", "你/r 长/v 得/u 真/d 好看/a 。/w"),
        ("这本书很好看。", "这/r 本/q 书/n 很/d 好看/a 。/w"),
    ] {
        let s = seg.segment(line).unwrap();
        assert_eq!(s.display_words().join(" "), want, "{line}");
    }
}

#[test]
fn a_model_without_a_head_segments_as_before_with_empty_pos() {
    let m = tiny_model(&LabelScheme::bmes(), 1, 16, 32, 3);
    assert_eq!(m.pos_config(), None);
    let mut seg = Segmenter::new(&m).unwrap();
    assert!(!seg.has_pos());
    let before = seg.segment_batch(&LINES).unwrap();
    seg.set_pos(true);
    let after = seg.segment_batch(&LINES).unwrap();
    assert_eq!(before, after);
    assert!(after
        .iter()
        .all(|s| s.pos.is_empty() && !s.words.is_empty()));
}

/// Saves `m`, lets `edit` change its tensors, and loads it back.
fn load_edited(
    m: &ModelFiles,
    edit: impl FnOnce(&mut std::collections::HashMap<String, candle_core::Tensor>),
) -> Result<ModelFiles, ModelError> {
    let dir = tempdir();
    write_model(m, dir.path());
    let path = dir.path().join("model.safetensors");
    let mut raw = tagger::parse_safetensors(&std::fs::read(&path).unwrap(), "x").unwrap();
    edit(&mut raw);
    let mut v: Vec<(String, candle_core::Tensor)> = raw.into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    std::fs::write(&path, tagger::safetensors_bytes(&v, false).unwrap()).unwrap();
    ModelFiles::load_dir(dir.path())
}

#[test]
fn missing_or_corrupt_pos_tensors_are_clear_errors() {
    let m = with_head(1);
    let name = "fenci_pos.layer.0.attention.self.query.weight";
    let err = load_edited(&m, |t| {
        t.remove(name);
    })
    .unwrap_err();
    assert!(
        matches!(&err, ModelError::BadWeights { message, .. } if message.contains(name) && message.contains("fenci_pos")),
        "{err}"
    );
    let err = load_edited(&m, |t| {
        let w = t[name].ones_like().unwrap();
        t.insert(name.into(), (w * f64::NAN).unwrap());
    })
    .unwrap_err();
    assert!(err.to_string().contains("NaN"), "{err}");
    let err = load_edited(&m, |t| {
        t.insert(
            "fenci_pos.classifier.weight".into(),
            candle_core::Tensor::zeros((3, 16), candle_core::DType::F32, &candle_core::Device::Cpu)
                .unwrap(),
        );
    })
    .unwrap_err();
    assert!(err.to_string().contains("shape"), "{err}");
    // A malformed config key is an error too, never a panic.
    let dir = tempdir();
    write_model(&m, dir.path());
    let cfg = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    for bad in [
        r#""fenci_pos": 3"#,
        r#""fenci_pos": {"id2label": {"0": "n", "2": "v"}, "num_layers": 1}"#,
        r#""fenci_pos": {"id2label": {"0": "n"}}"#,
    ] {
        let mut v: serde_json::Value = serde_json::from_str(&cfg).unwrap();
        let patch: serde_json::Value = serde_json::from_str(&format!("{{{bad}}}")).unwrap();
        v["fenci_pos"] = patch["fenci_pos"].clone();
        std::fs::write(dir.path().join("config.json"), v.to_string()).unwrap();
        let err = ModelFiles::load_dir(dir.path()).unwrap_err();
        assert!(err.to_string().contains("fenci_pos"), "{bad}: {err}");
    }
}

#[test]
fn the_pos_trainer_learns_saves_resumes_and_keeps_the_encoder() {
    let base = tiny_model(&LabelScheme::bmes(), 1, 16, 32, 3);
    let train = tagged_corpus(40);
    let dir = tempdir();
    let out = dir.path().join("pos");
    let cfg = PosTrainConfig {
        epochs: 3,
        lr: 3e-3,
        batch_tokens: 128,
        checkpoint_every: 2,
        ..Default::default()
    };
    let mut losses = Vec::new();
    let mut evals = 0;
    let summary = PosTrainer {
        init: base.clone(),
        train: &train,
        dev: &train[..10],
        cfg: cfg.clone(),
        out: Some(out.clone()),
        f16: false,
        resume: false,
    }
    .run(&AtomicBool::new(false), |p| match p {
        fenci::train::Progress::Step { loss, .. } => losses.push(loss),
        fenci::train::Progress::PosEval { .. } => evals += 1,
        _ => {}
    })
    .unwrap();
    assert!(losses.len() >= 6 && evals == 3, "{} {evals}", losses.len());
    let first: f32 = losses[..2].iter().sum();
    let last: f32 = losses[losses.len() - 2..].iter().sum();
    assert!(last < first, "loss {first} → {last}");
    assert!(summary.best_dev_accuracy.is_some_and(|a| a > 0.0));
    // The saved model has the head; the encoder and classifier are the base model's.
    let saved = ModelFiles::load_dir(&out).unwrap();
    assert_eq!(saved.pos_config().unwrap().tags.len(), 4);
    for (k, t) in &base.tensors {
        let s = &saved.tensors[k];
        let d: f32 = (t - s)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert_eq!(d, 0.0, "{k} changed");
    }
    // Resuming after the last epoch changes nothing and ends with the saved model.
    let again = PosTrainer {
        init: base.clone(),
        train: &train,
        dev: &train[..10],
        cfg,
        out: Some(out.clone()),
        f16: false,
        resume: true,
    }
    .run(&AtomicBool::new(false), |_| {})
    .unwrap();
    assert_eq!(again.steps, summary.steps);
    assert_eq!(again.model.pos_config(), saved.pos_config());
}

/// One epoch of the segmenter's trainer on the toy corpus from `m`, keeping its POS head or not.
fn train_segmenter(m: ModelFiles, keep_pos_head: bool) -> ModelFiles {
    let corpus = toy_corpus(10);
    Trainer {
        init: m,
        train: &corpus,
        dev: &[],
        cfg: TrainConfig {
            epochs: 1,
            batch_tokens: 256,
            keep_pos_head,
            ..TrainConfig::default()
        },
        out: None,
        f16: false,
        resume: false,
    }
    .run(&AtomicBool::new(false), |_| {})
    .unwrap()
    .model
}

#[test]
fn training_the_segmenter_drops_a_head_that_would_no_longer_match() {
    let model = train_segmenter(with_head(1), false);
    assert_eq!(model.pos_config(), None);
    assert!(!model.tensors.keys().any(|k| k.starts_with("fenci_pos")));
    assert!(!Segmenter::new(&model).unwrap().has_pos());
}

/// Adaptation on a few corrections moves the encoder little: with `keep_pos_head` (what
/// `fenci train` on corrections sets) the head is carried over unchanged, so the explanations
/// keep their parts of speech (measured on PKU dev with the built-in model and 50 corrections:
/// POS accuracy 95.99 % before, 96.03 % after).
#[test]
fn adaptation_keeps_the_head_unchanged_when_asked() {
    let m = with_head(1);
    let model = train_segmenter(m.clone(), true);
    assert_eq!(model.pos_config(), m.pos_config());
    for (k, t) in m.tensors.iter().filter(|(k, _)| k.starts_with("fenci_pos")) {
        let got = model.tensors.get(k).unwrap();
        let diff = (got - t).unwrap().abs().unwrap().sum_all().unwrap();
        assert_eq!(diff.to_scalar::<f32>().unwrap(), 0.0, "{k} changed");
    }
    assert!(Segmenter::new(&model).unwrap().has_pos());
}

#[test]
fn segment_pos_prints_word_slash_tag_and_eval_scores_tagged_gold() {
    let dir = tempdir();
    let model = dir.path().join("m");
    write_model(&with_head(1), &model);
    let m = model.to_str().unwrap();
    let input = "我喜欢北京\n\n老师研究数学。\n";
    let plain = fenci(&["segment", "--model", m], input.as_bytes(), dir.path());
    let pos = fenci(
        &["segment", "--model", m, "--pos"],
        input.as_bytes(),
        dir.path(),
    );
    assert!(
        pos.status.success(),
        "{}",
        String::from_utf8_lossy(&pos.stderr)
    );
    let plain = String::from_utf8(plain.stdout).unwrap();
    let pos = String::from_utf8(pos.stdout).unwrap();
    assert_eq!(plain.lines().count(), pos.lines().count());
    for (p, t) in plain.lines().zip(pos.lines()) {
        let words: Vec<&str> = t
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| {
                let (w, tag) = w.rsplit_once('/').expect("word/tag");
                assert!(tags().iter().any(|x| x == tag), "{tag}");
                w
            })
            .collect();
        assert_eq!(words.join(" "), p);
    }
    // A model without a head says so.
    let bare = dir.path().join("bare");
    write_model(&tiny_model(&LabelScheme::bmes(), 1, 16, 32, 3), &bare);
    let o = fenci(
        &["segment", "--model", bare.to_str().unwrap(), "--pos"],
        b"x\n",
        dir.path(),
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("part-of-speech head"));
    // eval on word/tag gold reports the joint scores; the last line stays P=… R=… F1=….
    let gold = dir.path().join("gold.pos.txt");
    std::fs::write(&gold, "我/r 喜欢/v 北京/n\n老师/n 研究/v 数学/n\n").unwrap();
    let o = fenci(
        &["eval", "--model", m, "--gold", gold.to_str().unwrap()],
        b"",
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("joint seg+POS"), "{text}");
    assert!(
        text.trim_end().lines().last().unwrap().starts_with("P="),
        "{text}"
    );
}

/// Where the reading rules and the tagger disagree on a one-character word (the second 还 of
/// 我还没还给他 is read huán "to pay back", the tagger says adverb), the chip shows no part of
/// speech rather than one that contradicts the reading beside it; the first 还 keeps its label.
#[test]
fn a_chip_never_contradicts_its_reading() {
    let mut seg = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    seg.set_pos(true);
    let dict = fenci::explain::Dictionary::embedded();
    let a = fenci::annotate::annotate(&seg, dict, "这本书我还没还给他。").unwrap();
    let hai: Vec<&fenci::explain::Explanation> =
        a.explanations.iter().filter(|e| e.word == "还").collect();
    assert_eq!(hai.len(), 2);
    assert_eq!(
        (hai[0].pinyin.as_str(), hai[0].pos.as_deref()),
        ("hái", Some("d"))
    );
    assert_eq!(hai[1].pinyin, "huán");
    if let Some(tag) = hai[1].pos.as_deref() {
        assert!(
            fenci::explain::sense_fits_tag(hai[1], tag),
            "label {tag} beside {}",
            hai[1].gloss
        );
    }
}
