//! The causal LM and example sentences: training forward = candle-transformers forward, a tiny
//! LM learns, sampling is deterministic where it must be, examples contain the word, prompts,
//! bad configs, and a tiny qwen2 through the mock hub.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use candle_core::{DType, Device, Tensor};
use fenci::generate::prompt::{chat_ml, PromptError, Template};
use fenci::generate::{
    distinct_n, Ask, ExampleEvent, GenError, Generator, Judge, NoJudge, Sampling, Score,
};
use fenci::lm::{self, LmConfig, LmError, LmFiles, Qwen2Train};
use fenci::train::{self, LmTrainConfig, LmTrainer};

use crate::util::{tempdir, toy_corpus};

fn toy_sentences(n: usize) -> Vec<String> {
    toy_corpus(n)
        .iter()
        .map(|w| format!("{}。", w.concat()))
        .collect()
}

/// A tiny random qwen2 LM over the toy corpus's characters.
pub fn tiny_lm(seed: u64) -> LmFiles {
    let sents = toy_sentences(60);
    let tok = lm::char_tokenizer(sents.iter().map(String::as_str), 1).unwrap();
    train::fresh_lm(&tok, 2, 32, 4, 2, 64, seed).unwrap()
}

fn weights_of(files: &LmFiles) -> HashMap<String, Tensor> {
    files.tensors().unwrap()
}

#[test]
fn training_forward_matches_candle_transformers() {
    let files = tiny_lm(3);
    let LmConfig::Qwen2(cfg) = &files.config else {
        panic!("qwen2")
    };
    let train_fwd = Qwen2Train::new(cfg, weights_of(&files)).unwrap();
    let mut infer = files.build().unwrap();
    let ids: Vec<u32> = files
        .tokenizer
        .encode("我喜欢学习中文。", false)
        .unwrap()
        .get_ids()
        .to_vec();
    let all = train_fwd
        .forward(
            &Tensor::new(ids.as_slice(), &Device::Cpu)
                .unwrap()
                .unsqueeze(0)
                .unwrap(),
        )
        .unwrap();
    // Every prefix: the training forward's logits at position i = the inference logits after
    // feeding ids[..=i] (the KV-cache path, one token at a time).
    infer.clear_kv_cache();
    for (i, id) in ids.iter().enumerate() {
        let got = infer.next_logits(&[*id], i).unwrap();
        let want = all.get(0).unwrap().get(i).unwrap();
        let diff = (got - want)
            .unwrap()
            .abs()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-4, "position {i}: max |Δlogit| = {diff}");
    }
}

#[test]
fn every_weight_gets_a_gradient() {
    let files = tiny_lm(4);
    let LmConfig::Qwen2(cfg) = &files.config else {
        panic!("qwen2")
    };
    let vars: HashMap<String, candle_core::Var> = weights_of(&files)
        .into_iter()
        .map(|(k, t)| (k, candle_core::Var::from_tensor(&t).unwrap()))
        .collect();
    let tensors = vars
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
        .collect();
    let m = Qwen2Train::new(cfg, tensors).unwrap();
    let ids = Tensor::new(&[[0u32, 5, 6, 7, 8, 0]], &Device::Cpu).unwrap();
    let logits = m.forward(&ids).unwrap();
    let loss = logits.sqr().unwrap().mean_all().unwrap();
    let grads = loss.backward().unwrap();
    for (name, v) in &vars {
        let g = grads
            .get(v.as_tensor())
            .unwrap_or_else(|| panic!("no gradient reaches {name}"));
        let norm = g
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(norm > 0.0, "{name}: zero gradient");
    }
}

fn trained_tiny_lm() -> LmFiles {
    let sents = toy_sentences(40);
    let cfg = LmTrainConfig {
        epochs: 30,
        lr: 1e-2,
        batch_tokens: 512,
        ..Default::default()
    };
    let s = LmTrainer {
        init: tiny_lm(5),
        train: &sents,
        dev: &sents[..8],
        cfg,
        out: None,
        f16: false,
        resume: false,
    }
    .run(&AtomicBool::new(false), |_| {})
    .unwrap();
    // A fresh model is near-uniform over ~80 tokens; the corpus (random subject, verb, object)
    // keeps a few equally likely choices per token.
    assert!(
        s.best_dev_ppl.unwrap() < 5.0,
        "the tiny LM did not learn its corpus: perplexity {:?}",
        s.best_dev_ppl
    );
    s.files
}

#[test]
fn a_tiny_lm_learns_and_examples_contain_the_word() {
    let files = trained_tiny_lm();
    let mut g = Generator::new(files).unwrap();
    assert!(!g.is_instruct());
    let no = AtomicBool::new(false);
    // Greedy: identical across runs, and equal to taking the argmax by hand.
    let greedy = Sampling {
        temperature: 0.0,
        ..Default::default()
    };
    let a = g.generate("", &greedy, &no, |_| {}).unwrap();
    let b = g.generate("", &greedy, &no, |_| {}).unwrap();
    assert_eq!(a.text, b.text);
    let toy: Vec<String> = toy_sentences(40);
    assert!(
        toy.iter()
            .any(|s| s.starts_with(a.text.trim_end_matches('。')))
            && !a.text.is_empty(),
        "greedy output {:?} is not from the corpus",
        a.text
    );
    // Seeded sampling: the same seed gives the same sentences, another seed (usually) others.
    let hot = Sampling {
        temperature: 1.0,
        seed: 11,
        ..Default::default()
    };
    let (e1, _) = g
        .examples(&Ask::new("学习", 6).level("HSK 1"), &hot, &no, |_| {})
        .unwrap();
    let (e2, _) = g
        .examples(&Ask::new("学习", 6).level("HSK 1"), &hot, &no, |_| {})
        .unwrap();
    assert_eq!(e1, e2);
    assert_eq!(e1.len(), 6);
    for s in &e1 {
        assert!(s.contains("学习"), "{s:?} lacks the word");
    }
    // Streaming: the pieces of each example add up to the sentence.
    let mut pieces: HashMap<usize, String> = HashMap::new();
    let mut done = Vec::new();
    let (e3, stats) = g
        .examples(
            &Ask::new("朋友", 3).level("HSK 1"),
            &hot,
            &no,
            |ev| match ev {
                ExampleEvent::Text { index, piece } => {
                    pieces.entry(index).or_default().push_str(&piece)
                }
                ExampleEvent::Done { sentence, .. } => done.push(sentence),
                ExampleEvent::Rejected { .. } | ExampleEvent::Unsure { .. } => {
                    panic!("a base LM never drops an example nor gives up")
                }
            },
        )
        .unwrap();
    assert_eq!(done, e3);
    for (i, s) in e3.iter().enumerate() {
        assert_eq!(pieces[&i].trim(), s);
        assert!(s.contains("朋友"));
    }
    assert!(stats.tokens > 0);
}

#[test]
fn temperature_zero_is_greedy_argmax() {
    let files = tiny_lm(9);
    let mut g = Generator::new(files.clone()).unwrap();
    let greedy = Sampling {
        temperature: 0.0,
        repeat_penalty: 1.0,
        max_tokens: 5,
        ..Default::default()
    };
    let out = g
        .generate("我", &greedy, &AtomicBool::new(false), |_| {})
        .unwrap();
    // By hand: argmax of the model's logits, token by token.
    let mut m = files.build().unwrap();
    let mut ids = files
        .tokenizer
        .encode("我", true)
        .unwrap()
        .get_ids()
        .to_vec();
    let mut text = String::new();
    m.clear_kv_cache();
    let mut logits = m.next_logits(&ids, 0).unwrap();
    for _ in 0..5 {
        let next = logits.argmax(0).unwrap().to_scalar::<u32>().unwrap();
        if next == files.token_id(lm::EOS).unwrap() {
            break;
        }
        ids.push(next);
        text = files.tokenizer.decode(&ids[1..], true).unwrap();
        logits = m.next_logits(&[next], ids.len() - 1).unwrap();
    }
    assert_eq!(out.text, text);
}

#[test]
fn cancel_stops_generation() {
    let mut g = Generator::new(tiny_lm(1)).unwrap();
    let cancel = AtomicBool::new(true);
    let out = g
        .generate("我", &Sampling::default(), &cancel, |_| {})
        .unwrap();
    assert!(out.cancelled);
    assert!(out.text.is_empty());
    let (ex, _) = g
        .examples(&Ask::new("我", 3), &Sampling::default(), &cancel, |_| {})
        .unwrap();
    assert!(ex.is_empty());
}

#[test]
fn bad_requests_are_clear_errors() {
    let mut g = Generator::new(tiny_lm(1)).unwrap();
    let no = AtomicBool::new(false);
    let s = Sampling::default();
    let e = g.examples(&Ask::new("", 3), &s, &no, |_| {}).unwrap_err();
    assert!(matches!(e, GenError::Invalid(_)), "{e}");
    let e = g.examples(&Ask::new("我", 0), &s, &no, |_| {}).unwrap_err();
    assert!(matches!(e, GenError::Invalid(_)), "{e}");
    // A character the toy LM never saw.
    let e = g.examples(&Ask::new("鑫", 1), &s, &no, |_| {}).unwrap_err();
    assert!(matches!(e, GenError::UnknownChars { .. }), "{e}");
    assert!(e.to_string().contains("'鑫'"), "{e}");
    for bad in [
        Sampling {
            temperature: -1.0,
            ..Default::default()
        },
        Sampling {
            temperature: f64::NAN,
            ..Default::default()
        },
        Sampling {
            top_p: 0.0,
            ..Default::default()
        },
        Sampling {
            max_tokens: 0,
            ..Default::default()
        },
    ] {
        assert!(matches!(
            g.generate("我", &bad, &no, |_| {}),
            Err(GenError::Invalid(_))
        ));
    }
    // Emoji, controls, a huge prompt: errors or text, never a panic.
    let _ = g.generate("😀\u{0}\u{7}", &s, &no, |_| {});
    let huge = "我".repeat(10_000);
    let e = g.generate(&huge, &s, &no, |_| {}).unwrap_err();
    assert!(e.to_string().contains("positions"), "{e}");
}

#[test]
fn distinct_two_counts_bigrams() {
    assert_eq!(distinct_n(&["aaaa".into()], 2), 1.0 / 3.0);
    assert_eq!(distinct_n(&["abcd".into()], 2), 1.0);
    assert_eq!(distinct_n(&[], 2), 0.0);
}

// ---- prompts ----------------------------------------------------------------------------------

#[test]
fn prompt_templates_render_and_check() {
    let t = Template::load("examples.md", None).unwrap();
    t.require(&["word"]).unwrap();
    let text = t
        .render(&[("word", "希望"), ("n", "5"), ("level", "HSK 3")])
        .unwrap();
    assert!(text.contains("希望") && text.contains('5') && text.contains("HSK 3"));
    assert!(!text.contains('{'));
    Template::load("examples-base.md", None)
        .unwrap()
        .require(&["word"])
        .unwrap();

    let t = Template::new("t.md", "用{word}造{n}个句子，{{不是占位符}}");
    assert_eq!(t.placeholders().unwrap(), vec!["word", "n"]);
    assert_eq!(
        t.render(&[("word", "好"), ("n", "2")]).unwrap(),
        "用好造2个句子，{不是占位符}"
    );
    // A placeholder without a value is an error naming it and the file.
    let e = t.render(&[("word", "好")]).unwrap_err();
    assert!(matches!(e, PromptError::Missing { ref name, .. } if name == "n"));
    assert!(
        e.to_string().contains("t.md") && e.to_string().contains("{n}"),
        "{e}"
    );
    // A template that does not use {word}.
    let e = Template::new("x.md", "写句子")
        .require(&["word"])
        .unwrap_err();
    assert!(matches!(e, PromptError::Required { .. }));
    // An unclosed brace.
    let e = Template::new("x.md", "写{word")
        .render(&[("word", "好")])
        .unwrap_err();
    assert!(matches!(e, PromptError::Unclosed { .. }), "{e}");
    assert!(matches!(
        Template::load("nope.md", None),
        Err(PromptError::NotFound(_))
    ));
    let chat = chat_ml(Some("sys"), "hi");
    assert!(chat.starts_with("<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\nhi<|im_end|>"));
    assert!(chat.ends_with("<|im_start|>assistant\n"));
}

#[test]
fn prompts_in_the_data_dir_override_the_built_in_ones() {
    let dir = tempdir();
    std::fs::create_dir_all(dir.path().join("prompts")).unwrap();
    std::fs::write(dir.path().join("prompts/examples.md"), "EDITED {word}").unwrap();
    let t = Template::load("examples.md", Some(dir.path())).unwrap();
    assert_eq!(t.render(&[("word", "好")]).unwrap(), "EDITED 好");
    assert!(t.origin.contains("prompts"));
    // The other template is still the built-in one.
    let b = Template::load("examples-base.md", Some(dir.path())).unwrap();
    assert!(b.origin.starts_with("built-in"));
}

// ---- bad models -------------------------------------------------------------------------------

fn with_config(files: &LmFiles, edit: impl FnOnce(&mut serde_json::Value)) -> LmError {
    let mut v: serde_json::Value = serde_json::from_str(&files.config_json).unwrap();
    edit(&mut v);
    let tok = files.tokenizer.to_string(false).unwrap();
    LmFiles::from_parts(
        &v.to_string(),
        tok.as_bytes(),
        files.weights.clone(),
        "bad-lm",
    )
    .and_then(|f| f.build().map(|_| ()))
    .unwrap_err()
}

#[test]
fn bad_or_unsupported_lm_configs_are_clear_errors() {
    let files = tiny_lm(2);
    let e = with_config(&files, |v| v["model_type"] = "llama".into());
    assert!(matches!(e, LmError::Unsupported { .. }), "{e}");
    assert!(e.to_string().contains("qwen2"), "{e}");
    let e = with_config(&files, |v| {
        v.as_object_mut().unwrap().remove("model_type");
        v.as_object_mut().unwrap().remove("architectures");
    });
    assert!(matches!(e, LmError::Unsupported { .. }), "{e}");
    let e = with_config(&files, |v| {
        v.as_object_mut().unwrap().remove("hidden_size");
    });
    assert!(matches!(e, LmError::BadConfig { .. }), "{e}");
    assert!(e.to_string().contains("hidden_size"), "{e}");
    let e = with_config(&files, |v| v["num_key_value_heads"] = 3.into());
    assert!(matches!(e, LmError::BadConfig { .. }), "{e}");
    // A config that lies about sizes: the weights do not fit.
    let e = with_config(&files, |v| v["intermediate_size"] = 1000.into());
    assert!(matches!(e, LmError::BadWeights { .. }), "{e}");
    let e = with_config(&files, |v| v["vocab_size"] = 10.into());
    assert!(
        e.to_string().contains("vocab_size") || matches!(e, LmError::BadWeights { .. }),
        "{e}"
    );
    let e = with_config(&files, |v| {
        v["hidden_size"] = serde_json::Value::from(1u64 << 40)
    });
    assert!(matches!(e, LmError::BadConfig { .. }), "{e}");
    assert!(matches!(
        LmConfig::from_json("not json", "c.json"),
        Err(LmError::BadConfig { .. })
    ));
}

#[test]
fn corrupt_lm_weights_are_clear_errors() {
    let files = tiny_lm(2);
    let tok = files.tokenizer.to_string(false).unwrap();
    let w = files.weights[0].clone();
    for (what, bytes) in [
        ("truncated", w[..w.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("garbage", vec![0xff; 64]),
    ] {
        let e =
            LmFiles::from_parts(&files.config_json, tok.as_bytes(), vec![bytes], "lm").unwrap_err();
        assert!(matches!(e, LmError::BadWeights { .. }), "{what}: {e}");
    }
    // NaN weights.
    let mut t = weights_of(&files);
    let emb = t["model.embed_tokens.weight"].clone();
    let nan = (emb.zeros_like().unwrap() + f64::NAN).unwrap();
    t.insert("model.embed_tokens.weight".into(), nan);
    let mut named: Vec<(String, Tensor)> = t.into_iter().collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let bytes = fenci::tagger::safetensors_bytes(&named, false).unwrap();
    let f = LmFiles::from_parts(&files.config_json, tok.as_bytes(), vec![bytes], "lm").unwrap();
    let e = f.build().unwrap_err();
    assert!(e.to_string().contains("NaN"), "{e}");
    // A broken tokenizer.json.
    let e = LmFiles::from_parts(&files.config_json, b"{", files.weights.clone(), "lm").unwrap_err();
    assert!(matches!(e, LmError::Tokenizer { .. }), "{e}");
}

#[test]
fn a_saved_lm_loads_and_generates_the_same() {
    let files = tiny_lm(6);
    let dir = tempdir();
    let out = dir.path().join("lm");
    files.save_dir(&out).unwrap();
    let back = LmFiles::load_dir(&out).unwrap();
    let s = Sampling {
        temperature: 0.7,
        seed: 3,
        ..Default::default()
    };
    let no = AtomicBool::new(false);
    let a = Generator::new(files)
        .unwrap()
        .generate("我", &s, &no, |_| {})
        .unwrap();
    let b = Generator::new(back)
        .unwrap()
        .generate("我", &s, &no, |_| {})
        .unwrap();
    assert_eq!(a.text, b.text);
}

#[test]
fn generated_augmentation_keeps_the_corrected_words_whole() {
    use fenci::segment::Segmenter;
    use fenci::tagger::LabelScheme;
    let tagger = crate::util::tiny_model(&LabelScheme::bmes(), 1, 16, 64, 3);
    let seg = Segmenter::new(&tagger).unwrap();
    let mut g = Generator::new(trained_tiny_lm()).unwrap();
    let correction: Vec<String> = ["我们", "喜欢", "学习"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let words = train::corrected_words(&seg, &correction).unwrap();
    assert!(!words.is_empty());
    let sents = train::generated_sentences(
        &seg,
        &mut g,
        std::slice::from_ref(&correction),
        2,
        1,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(sents.len(), 2 * words.len(), "{sents:?}");
    for (i, s) in sents.iter().enumerate() {
        let w = &words[i / 2];
        // The random tagger would split anything; the corrected word is forced whole.
        assert!(s.iter().any(|x| x == w), "{w} is not a word of {s:?}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(
        std::env::var("FENCI_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    /// Any template text: parsing and rendering give text or a typed error, never a panic; a
    /// template without braces renders to itself.
    #[test]
    fn templates_never_panic(text in "\\PC*", word in "\\PC{0,8}") {
        let t = Template::new("fuzz.md", &text);
        let _ = t.placeholders();
        let r = t.render(&[("word", word.as_str()), ("n", "3"), ("level", "HSK 1")]);
        if !text.contains(['{', '}']) {
            proptest::prop_assert_eq!(r.unwrap(), text);
        }
    }

    /// Any tokenizer.json bytes, and mutations of a real one: a typed error or a tokenizer.
    #[test]
    fn lm_tokenizers_never_panic(
        junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        cut in 0usize..4000,
        flip in 0usize..4000,
    ) {
        let _ = lm::tokenizer_from_bytes(&junk, "fuzz/tokenizer.json");
        let real = tiny_lm(1).tokenizer.to_string(false).unwrap().into_bytes();
        let mut m = real[..cut.min(real.len())].to_vec();
        if let Some(b) = m.get_mut(flip) {
            *b ^= 0x20;
        }
        if let Ok(t) = lm::tokenizer_from_bytes(&m, "fuzz/tokenizer.json") {
            let _ = t.encode("我爱北京😀\u{0}", false);
        }
    }

    /// Any config.json text: a typed error or a checked config.
    #[test]
    fn lm_configs_never_panic(text in "\\PC*") {
        let _ = LmConfig::from_json(&text, "fuzz/config.json");
    }

    /// Structured configs with arbitrary sizes are checked, never built blindly.
    #[test]
    fn lm_config_sizes_are_checked(
        vocab in 0usize..1 << 40,
        hidden in 0usize..1 << 20,
        heads in 0usize..64,
        kv in 0usize..64,
        layers in 0usize..1000,
    ) {
        let json = serde_json::json!({
            "model_type": "qwen2", "vocab_size": vocab, "hidden_size": hidden,
            "intermediate_size": hidden * 2, "num_hidden_layers": layers,
            "num_attention_heads": heads, "num_key_value_heads": kv,
            "max_position_embeddings": 512,
        });
        if let Ok(c) = LmConfig::from_json(&json.to_string(), "fuzz/config.json") {
            proptest::prop_assert!(heads > 0 && kv > 0 && heads % kv == 0 && hidden % heads == 0);
            proptest::prop_assert!((vocab as f64) * (hidden as f64) <= 2e10);
            proptest::prop_assert_eq!(c.arch(), "qwen2");
        }
    }
}

/// A tiny random qwen3 checkpoint (q/k norms, explicit head_dim, tied embeddings) over the toy
/// characters, as a third-party base model would ship it.
fn tiny_qwen3() -> LmFiles {
    // The built-in prompt for base models must be writable by this tokenizer: add its chars.
    let prompt = Template::load("examples-base.md", None).unwrap().text;
    let text: Vec<String> = toy_sentences(60).into_iter().chain([prompt]).collect();
    let tok = lm::char_tokenizer(text.iter().map(String::as_str), 1).unwrap();
    let (v, h, hd, heads, kv, inter, layers) = (tok.get_vocab_size(true), 32, 8, 4, 2, 64, 2);
    let cfg = serde_json::json!({
        "model_type": "qwen3", "vocab_size": v, "hidden_size": h, "head_dim": hd,
        "intermediate_size": inter, "num_hidden_layers": layers, "num_attention_heads": heads,
        "num_key_value_heads": kv, "max_position_embeddings": 128, "sliding_window": null,
        "tie_word_embeddings": true, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6,
    });
    let mut x = 12345u64;
    let mut rnd = |shape: &[usize]| {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ((x % 2001) as f32 / 1000.0 - 1.0) * 0.1
            })
            .collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    };
    let ones = |n: usize| Tensor::ones(n, DType::F32, &Device::Cpu).unwrap();
    let mut t: Vec<(String, Tensor)> = vec![("model.embed_tokens.weight".into(), rnd(&[v, h]))];
    for i in 0..layers {
        let p = format!("model.layers.{i}");
        t.push((format!("{p}.input_layernorm.weight"), ones(h)));
        t.push((format!("{p}.post_attention_layernorm.weight"), ones(h)));
        t.push((
            format!("{p}.self_attn.q_proj.weight"),
            rnd(&[heads * hd, h]),
        ));
        t.push((format!("{p}.self_attn.k_proj.weight"), rnd(&[kv * hd, h])));
        t.push((format!("{p}.self_attn.v_proj.weight"), rnd(&[kv * hd, h])));
        t.push((
            format!("{p}.self_attn.o_proj.weight"),
            rnd(&[h, heads * hd]),
        ));
        t.push((format!("{p}.self_attn.q_norm.weight"), ones(hd)));
        t.push((format!("{p}.self_attn.k_norm.weight"), ones(hd)));
        t.push((format!("{p}.mlp.gate_proj.weight"), rnd(&[inter, h])));
        t.push((format!("{p}.mlp.up_proj.weight"), rnd(&[inter, h])));
        t.push((format!("{p}.mlp.down_proj.weight"), rnd(&[h, inter])));
    }
    t.push(("model.norm.weight".into(), ones(h)));
    let weights = fenci::tagger::safetensors_bytes(&t, false).unwrap();
    let tok_json = tok.to_string(false).unwrap();
    LmFiles::from_parts(
        &cfg.to_string(),
        tok_json.as_bytes(),
        vec![weights],
        "tiny-qwen3",
    )
    .unwrap()
}

#[test]
fn a_qwen3_base_model_generates_and_writes_examples() {
    let files = tiny_qwen3();
    assert_eq!(files.config.arch(), "qwen3");
    let mut g = Generator::new(files).unwrap();
    assert!(!g.is_instruct(), "no chat template: a base model");
    let no = AtomicBool::new(false);
    let greedy = Sampling {
        temperature: 0.0,
        max_tokens: 12,
        ..Default::default()
    };
    let a = g.generate("我", &greedy, &no, |_| {}).unwrap();
    let b = g.generate("我", &greedy, &no, |_| {}).unwrap();
    assert_eq!(a.text, b.text);
    assert!(a.stats.tokens > 0);
    // A base model that is not fenci's own gets the prefix prompt (examples-base.md) and the
    // sentence is still built around the word.
    let s = Sampling {
        temperature: 0.9,
        seed: 4,
        max_tokens: 16,
        ..Default::default()
    };
    let (ex, _) = g.examples(&Ask::new("学习", 3), &s, &no, |_| {}).unwrap();
    assert_eq!(ex.len(), 3);
    assert!(ex.iter().all(|e| e.contains("学习")), "{ex:?}");
}

/// A tiny keyword LM: the toy corpus as `word<TAB>sentence` pairs (every word of each sentence).
fn trained_keyword_lm() -> LmFiles {
    let pairs: Vec<String> = toy_corpus(40)
        .iter()
        .flat_map(|ws| {
            let s = format!("{}。", ws.concat().trim_end_matches('。'));
            ws.iter()
                .filter(|w| *w != "。" && *w != "了")
                .map(move |w| format!("{w}\t{s}"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(train::lm_pairs(&pairs.join("\n")).unwrap(), pairs);
    let init = lm::mark_keyword_lm(&tiny_lm(5)).unwrap();
    let s = LmTrainer {
        init,
        train: &pairs,
        dev: &pairs[..8],
        cfg: LmTrainConfig {
            epochs: 30,
            lr: 1e-2,
            batch_tokens: 512,
            ..Default::default()
        },
        out: None,
        f16: false,
        resume: false,
    }
    .run(&AtomicBool::new(false), |_| {})
    .unwrap();
    assert!(
        lm::is_keyword_lm(&s.files),
        "training keeps the keyword flag"
    );
    s.files
}

/// Records every candidate it judges, with its total before and after.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<(String, Score)>>);

impl Judge for Recorder {
    fn judge(&self, word: &str, sentence: &str, score: &mut Score) {
        // Prefers short sentences, so the choice differs from the LM's alone.
        score.add("short", -0.1 * sentence.chars().count() as f64);
        assert!(sentence.contains(word));
        self.0
            .lock()
            .unwrap()
            .push((sentence.to_string(), score.clone()));
    }
}

#[test]
fn a_keyword_lm_writes_ranked_reproducible_examples_around_the_word() {
    let mut g = Generator::new(trained_keyword_lm()).unwrap();
    let no = AtomicBool::new(false);
    let run = |g: &mut Generator, word: &str, s: &Sampling, k: usize| {
        let judge = Recorder::default();
        let mut events = Vec::new();
        let (out, _) = g
            .examples_judged(&Ask::new(word, 3).candidates(k), s, &judge, &no, |e| {
                events.push(e)
            })
            .unwrap();
        (out, events, judge.0.into_inner().unwrap())
    };
    let greedy = Sampling {
        temperature: 0.0,
        ..Default::default()
    };
    // T = 0: the same examples on every run, each with its word, each streamed once whole.
    let (a, events, seen) = run(&mut g, "音乐", &greedy, 4);
    let (b, _, _) = run(&mut g, "音乐", &greedy, 4);
    assert_eq!(a, b);
    assert_eq!(a.len(), 3);
    for s in &a {
        assert!(s.contains("音乐"), "{s:?}");
    }
    let _ = seen;
    let mut done = 0;
    for e in &events {
        match e {
            ExampleEvent::Text { index, piece } => assert_eq!(piece, &a[*index]),
            ExampleEvent::Done {
                index,
                sentence,
                score,
            } => {
                done += 1;
                assert_eq!(sentence, &a[*index]);
                let sc = score.as_ref().expect("a ranked example carries its score");
                assert!(sc.parts.iter().any(|p| p.0 == "lm"), "{sc:?}");
                // The judge saw every candidate that passed the text checks.
                assert_eq!(
                    sc.parts.iter().any(|p| p.0 == "short"),
                    sc.rejected.is_none(),
                    "{sc:?}"
                );
                assert!(sc.explain().starts_with("score "));
            }
            ExampleEvent::Rejected { .. } => panic!("nothing streamed is dropped"),
            ExampleEvent::Unsure { .. } => panic!("without a floor every example is shown"),
        }
    }
    assert_eq!(done, 3);
    // One example: the shown sentence is the best of the candidates that passed the text
    // checks (all of which the judge saw), by total score.
    let judge = Recorder::default();
    let warm = Sampling {
        temperature: 1.0,
        seed: 3,
        ..Default::default()
    };
    let (one, _) = g
        .examples_judged(
            &Ask::new("音乐", 1).candidates(8),
            &warm,
            &judge,
            &no,
            |_| {},
        )
        .unwrap();
    let seen = judge.0.into_inner().unwrap();
    assert!(!seen.is_empty(), "no candidate passed the text checks");
    let best = seen
        .iter()
        .max_by(|x, y| x.1.total().total_cmp(&y.1.total()))
        .unwrap();
    assert_eq!(
        one[0], best.0,
        "the ranker chose another than the best of {seen:?}"
    );
    // T > 0: the seed decides; the same seed gives the same sentences.
    let hot = Sampling {
        temperature: 1.0,
        seed: 7,
        ..Default::default()
    };
    let (c, _, _) = run(&mut g, "音乐", &hot, 4);
    let (d, _, _) = run(&mut g, "音乐", &hot, 4);
    assert_eq!(c, d);
    // One candidate: no choice, still reproducible and with the word.
    let (e, _, seen1) = run(&mut g, "中文", &hot, 1);
    assert_eq!(e.len(), 3);
    assert!(e.iter().all(|s| s.contains("中文")));
    assert!(
        seen1.len() <= 6,
        "one candidate per example (a second only when it fails)"
    );
}

/// `files` with its example floor set to `floor`.
fn with_floor(files: &LmFiles, floor: f64) -> LmFiles {
    let mut v: serde_json::Value = serde_json::from_str(&files.config_json).unwrap();
    v[lm::EXAMPLE_FLOOR] = floor.into();
    let mut out = files.clone();
    out.config_json = v.to_string();
    out
}

#[test]
fn a_keyword_lm_with_a_floor_shows_only_what_it_is_sure_of() {
    let files = trained_keyword_lm();
    let no = AtomicBool::new(false);
    let run = |files: &LmFiles, s: &Sampling| {
        let mut g = Generator::new(files.clone()).unwrap();
        let mut events = Vec::new();
        let (out, _) = g
            .examples_judged(&Ask::new("音乐", 3), s, &NoJudge, &no, |e| events.push(e))
            .unwrap();
        (out, events)
    };
    let greedy = Sampling {
        temperature: 0.0,
        ..Default::default()
    };
    // A floor above every log-probability: nothing is shown; fenci says once that it is not
    // sure, with its best try and why that was not shown.
    let (out, events) = run(&with_floor(&files, 1.0), &greedy);
    assert!(out.is_empty(), "{out:?}");
    match &events[..] {
        [ev @ ExampleEvent::Unsure {
            word,
            index: 0,
            asked: 3,
            closest: Some((best, score)),
        }] => {
            assert_eq!(word, "音乐");
            assert!(best.contains("音乐"), "{best}");
            assert!(score.rejected.is_some(), "{score:?}");
            let m = ev.unsure_message().unwrap();
            assert!(
                m.starts_with("not sure of more examples of 音乐 (0 of 3 shown)")
                    && m.contains(best.as_str())
                    && m.contains("not sure of it"),
                "{m}"
            );
        }
        other => panic!("{other:?}"),
    }
    // A floor below everything: the examples of the model without a floor, each one passing.
    let no_floor = {
        let mut v: serde_json::Value = serde_json::from_str(&files.config_json).unwrap();
        v.as_object_mut().unwrap().remove(lm::EXAMPLE_FLOOR);
        let mut f = files.clone();
        f.config_json = v.to_string();
        f
    };
    for s in [
        greedy.clone(),
        Sampling {
            temperature: 1.5,
            seed: 11,
            ..Default::default()
        },
    ] {
        let (low, events) = run(&with_floor(&files, -100.0), &s);
        let (free, _) = run(&no_floor, &s);
        assert!(free.starts_with(&low), "{low:?} vs {free:?}");
        for e in &events {
            if let ExampleEvent::Done { score, .. } = e {
                assert_eq!(score.as_ref().unwrap().rejected, None, "{e:?}");
            }
        }
        if low.len() < 3 {
            assert!(matches!(events.last(), Some(ExampleEvent::Unsure { .. })));
        }
    }
}

#[test]
fn a_keyword_lm_falls_back_to_building_around_a_word_it_does_not_write() {
    // 数学 is in the vocabulary but a fresh (untrained) keyword LM almost never writes it.
    let mut g = Generator::new(lm::mark_keyword_lm(&tiny_lm(3)).unwrap()).unwrap();
    let (out, _) = g
        .examples_judged(
            &Ask::new("数学", 2).candidates(2),
            &Sampling {
                temperature: 0.0,
                ..Default::default()
            },
            &NoJudge,
            &AtomicBool::new(false),
            |_| {},
        )
        .unwrap();
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|s| s.contains("数学")), "{out:?}");
}

/// Rejects every candidate it is asked about and counts them.
#[derive(Default)]
struct RejectAll(std::sync::atomic::AtomicUsize);

impl Judge for RejectAll {
    fn judge(&self, _: &str, _: &str, score: &mut Score) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        score.reject("test", 0.0, "rejected by the test");
    }
}

#[test]
fn before_saying_not_sure_the_first_failing_example_takes_spare_rounds_once() {
    // With a floor below everything, every candidate that has the word reaches the judge. An
    // example has 3 rounds of K candidates and one built around the word; once per ask, the
    // first example without a passing candidate takes 3 rounds more, so more than 3·K + 1
    // candidates are judged before fenci says it is not sure, and the ask ends there.
    let files = with_floor(&trained_keyword_lm(), -100.0);
    let mut g = Generator::new(files).unwrap();
    let k = 4;
    let judge = RejectAll::default();
    let mut events = Vec::new();
    let (out, _) = g
        .examples_judged(
            &Ask::new("学习", 3).candidates(k),
            &Sampling {
                temperature: 0.5,
                seed: 5,
                ..Default::default()
            },
            &judge,
            &AtomicBool::new(false),
            |e| events.push(e),
        )
        .unwrap();
    assert!(out.is_empty());
    assert!(
        matches!(&events[..], [ExampleEvent::Unsure { index: 0, .. }]),
        "{events:?}"
    );
    let judged = judge.0.load(std::sync::atomic::Ordering::Relaxed);
    assert!(judged > 3 * k + 1, "only {judged} candidates judged");
    assert!(judged <= 6 * k + 1, "{judged} candidates judged");
}
