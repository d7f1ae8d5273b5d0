//! Reliability: fuzzed parsers and loaders, corrupt models, crash safety under SIGKILL, huge and
//! odd input through the real binary, and refusing to fill the disk.
//!
//! The fault loops take their iteration counts from the environment: small by default so CI
//! stays quick, larger on demand for a soak run.
//!
//! | variable | what | default |
//! |---|---|---|
//! | `FENCI_CRASH_ITERS` | rounds of SIGKILLing `fenci correct` while it appends | 50 |
//! | `FENCI_CRASH_TRAIN_ITERS` | SIGKILLs of `fenci train` while it writes a model (each kind) | 8 |
//! | `FENCI_CRASH_SEED` | seed of the kill times (printed by each loop) | the clock |
//! | `FENCI_FUZZ_CASES` | cases per fuzzed property | 128–512 |
//! | `FENCI_HUGE_DEFAULT=1` | also push the 10 MB line through the built-in model (minutes) | off |
//!
//! e.g. `FENCI_CRASH_ITERS=1000 FENCI_CRASH_TRAIN_ITERS=100 cargo test --release --test it
//! reliability::crash -- --nocapture`.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fenci::segment::{CharTokenizer, Segmenter};
use fenci::store::{Correction, CorrectionStore, Versions};
use fenci::tagger::{BertConfig, LabelScheme, ModelFiles, VocabSource};

use crate::util::{tempdir, tiny_model, toy_corpus, vocab_txt, write_model};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator for kill times (xorshift).
struct Rng(u64);

impl Rng {
    fn from_env(what: &str) -> Self {
        let seed = std::env::var("FENCI_CRASH_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        eprintln!("{what}: FENCI_CRASH_SEED={seed}");
        Self(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn fenci_cmd(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fenci"));
    c.env("FENCI_HOME", home)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Peak resident memory (VmHWM) of a child in KiB, polled from /proc until it exits; `None`
/// where /proc is not there.
fn wait_with_peak_rss(
    child: &mut Child,
    limit: Duration,
) -> (std::process::ExitStatus, Option<u64>) {
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let started = Instant::now();
    let mut peak = None;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = Some(peak.unwrap_or(0).max(kb));
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (st, peak);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fenci ran past {limit:?} (a hang?)");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs fenci to completion with a time limit (a hang fails the test): status, stdout, stderr.
fn run_limited(mut cmd: Command, limit: Duration) -> (std::process::ExitStatus, Vec<u8>, String) {
    let mut child = cmd.spawn().expect("run fenci");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).unwrap();
        v
    });
    let e = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).unwrap();
        v
    });
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fenci ran past {limit:?} (a hang?)");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (
        status,
        o.join().unwrap(),
        String::from_utf8_lossy(&e.join().unwrap()).into_owned(),
    )
}

/// A tokenizer.json for the test vocabulary, as the `tokenizers` crate writes it.
fn tokenizer_json() -> serde_json::Value {
    use tokenizers::models::wordpiece::WordPiece;
    use tokenizers::normalizers::BertNormalizer;
    use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
    let vocab = WordPiece::read_bytes(&vocab_txt()).unwrap();
    let wp = WordPiece::builder()
        .vocab(vocab)
        .unk_token("[UNK]".into())
        .build()
        .unwrap();
    let mut tok = tokenizers::Tokenizer::new(wp);
    tok.with_normalizer(Some(BertNormalizer::new(true, true, None, true)))
        .unwrap();
    tok.with_pre_tokenizer(Some(BertPreTokenizer));
    serde_json::from_str(&tok.to_string(false).unwrap()).unwrap()
}

/// Fuzzing: every parser and loader takes arbitrary input without a panic and says clearly what
/// is wrong.
mod fuzz {
    use super::*;
    use fenci::tui::app::{
        Action, App, DataAction, Event, ModelInfo, TurnBody, TurnData, WorkerMsg,
    };
    use fenci::tui::commands::{self, complete, parse, suggest, ParseError, COMMANDS};
    use proptest::prelude::*;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    /// Cases per property: the default, or `FENCI_FUZZ_CASES` for a longer run.
    fn fuzz_cases(default: u32) -> u32 {
        env_usize("FENCI_FUZZ_CASES", default as usize) as u32
    }

    fn slash_line() -> impl Strategy<Value = String> {
        let names: Vec<&'static str> = COMMANDS.iter().map(|c| c.name).collect();
        prop_oneof![
            any::<String>(),
            "/\\PC{0,30}",
            "/{1,3}[a-zA-Z\\-]{0,9}( +[a-z]{0,5}){0,3} *",
            "/help *[a-zA-Z\\-]{0,8}",
            (
                prop::sample::select(names),
                "[ \\t\u{3000}]{0,3}",
                "\\PC{0,20}",
                any::<bool>()
            )
                .prop_map(|(n, ws, args, upper)| {
                    let n = if upper {
                        n.to_uppercase()
                    } else {
                        n.to_string()
                    };
                    format!("/{n}{ws}{args}")
                }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(fuzz_cases(512)))]

        #[test]
        fn slash_commands_parse_complete_and_suggest_anything(line in slash_line()) {
            match parse(&line) {
                Ok(p) => {
                    let body = line.trim().trim_start_matches('/');
                    let mut words = body.split_whitespace();
                    prop_assert_eq!(words.next().map(str::to_lowercase), Some(p.spec.name.to_string()));
                    prop_assert_eq!(p.args, words.map(str::to_string).collect::<Vec<_>>());
                }
                Err(e) => {
                    let msg = e.to_string();
                    prop_assert!(msg.contains("/help") || msg.contains("did you mean"), "{}", msg);
                    if let ParseError::Unknown { suggestions, .. } = &e {
                        prop_assert!(suggestions.len() <= 2);
                        for s in suggestions {
                            prop_assert!(commands::find(s).is_some());
                        }
                    }
                }
            }
            let (completed, cands) = complete(&line);
            for c in &cands {
                prop_assert!(commands::find(c).is_some());
            }
            if let Some(c) = completed {
                prop_assert!(c.starts_with('/'), "{:?}", c);
                if c.ends_with(' ') {
                    prop_assert!(parse(&c).is_ok(), "completed to a non-command {:?}", c);
                }
            }
            for s in suggest(&line).into_iter().chain(suggest(&line.to_lowercase())) {
                prop_assert!(commands::find(s).is_some());
            }
        }
    }

    fn key(c: KeyCode) -> Event {
        Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
    }

    /// Enters `line` into the app as pasted text followed by Enter.
    fn enter(app: &mut App, line: &str) -> Vec<Action> {
        let mut acts = app.update(Event::Paste(line.to_string()));
        acts.extend(app.update(key(KeyCode::Enter)));
        acts
    }

    /// An app whose last turn is `sentence`, segmented one character a word.
    fn app_with(sentence: &str) -> App {
        let mut app = App::new(fenci::store::Settings::default(), vec![]);
        app.update(Event::Worker(WorkerMsg::ModelLoaded(ModelInfo {
            name: "test".into(),
            summary: "test".into(),
            scheme: LabelScheme::bmes(),
        })));
        let id = crate::tui::segment_id(&enter(&mut app, sentence));
        let tok = CharTokenizer::new(&VocabSource::VocabTxt(vocab_txt())).unwrap();
        let units = tok.units(sentence);
        let lp = vec![(0.25f32).ln(); units.len() * 4];
        let c = fenci::segment::Constraints::from_gaps(&units);
        let seg = fenci::segment::Segmentation::from_scores(
            sentence,
            units,
            lp,
            &LabelScheme::bmes(),
            &c,
        );
        let dict = fenci::explain::Dictionary::from_reader(&b""[..]);
        let data = TurnData {
            explanations: seg
                .words
                .iter()
                .map(|w| fenci::explain::explain(&dict, &w.text))
                .collect(),
            alternatives: vec![],
            names: vec![],
            seg,
        };
        app.update(Event::Worker(WorkerMsg::Turn {
            id,
            result: Ok(Box::new(data)),
        }));
        app
    }

    fn render(app: &App) {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(60, 16)).unwrap();
        t.draw(|f| fenci::tui::view::render(app, f, &fenci::tui::view::Theme { color: false }))
            .unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(fuzz_cases(128)))]

        /// `/fix` saves exactly the words that spell the last sentence, and refuses anything else
        /// with a message; any slash line leaves the app drawable.
        #[test]
        fn fix_accepts_exactly_the_words_of_the_sentence(
            sentence in "[我爱北京天安门学习中文😀a１]{1,12}",
            cuts in proptest::collection::vec(any::<bool>(), 12),
            noise in proptest::option::of("\\PC{0,24}"),
        ) {
            let mut app = app_with(&sentence);
            let words: Vec<String> = match &noise {
                None => {
                    let mut w: Vec<String> = Vec::new();
                    for (i, c) in sentence.chars().enumerate() {
                        match w.last_mut() {
                            Some(last) if !cuts[i] => last.push(c),
                            _ => w.push(c.to_string()),
                        }
                    }
                    w
                }
                Some(n) => n.split_whitespace().map(str::to_string).collect(),
            };
            let line = format!("/fix {}", noise.clone().unwrap_or_else(|| words.join(" ")));
            let acts = enter(&mut app, &line);
            let saved = acts.iter().find_map(|a| match a {
                Action::Data(DataAction::SaveCorrection { words, .. }) => Some(words.clone()),
                _ => None,
            });
            if words.concat() == sentence && !words.is_empty() {
                prop_assert_eq!(saved, Some(words));
            } else {
                prop_assert_eq!(saved, None);
                match &app.turns.last().unwrap().body {
                    TurnBody::Error(e) => prop_assert!(e.contains("refused") || e.contains("usage"), "{}", e),
                    other => prop_assert!(false, "expected an error turn, got {:?}", other),
                }
            }
            render(&app);
        }

        #[test]
        fn any_slash_line_is_handled(line in slash_line()) {
            let mut app = app_with("我爱北京");
            let line = line.replace(['\n', '\r'], " ");
            let _ = enter(&mut app, &line);
            render(&app);
        }
    }

    /// A valid record with arbitrary content and id.
    fn record() -> impl Strategy<Value = Correction> {
        (
            prop_oneof![1..100u64, any::<u64>(), Just(u64::MAX)],
            proptest::collection::vec("\\PC{1,6}", 1..5),
        )
            .prop_map(|(id, words)| Correction {
                id,
                time: 1,
                sentence: words.concat(),
                words,
                model_output: vec![],
                model_version: "default".into(),
            })
    }

    /// A corrections file: arbitrary bytes, or valid records damaged (truncated, bytes flipped
    /// or inserted).
    fn corrections_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..400),
            (
                proptest::collection::vec(record(), 0..6),
                0usize..4,
                any::<usize>(),
                proptest::collection::vec(any::<u8>(), 1..8)
            )
                .prop_map(|(recs, damage, at, junk)| {
                    let mut b: Vec<u8> = recs
                        .iter()
                        .flat_map(|r| {
                            let mut l = serde_json::to_vec(r).unwrap();
                            l.push(b'\n');
                            l
                        })
                        .collect();
                    let at = if b.is_empty() { 0 } else { at % b.len() };
                    match damage {
                        0 => {}
                        1 => b.truncate(at),
                        2 if !b.is_empty() => b[at] ^= junk[0] | 1,
                        _ => {
                            let tail = b.split_off(at);
                            b.extend(junk);
                            b.extend(tail);
                        }
                    }
                    b
                }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(fuzz_cases(256)))]

        /// Whatever the file holds, loading gives every valid record (warnings name the file), and
        /// appending still works with a fresh id.
        #[test]
        fn corrections_file_loads_and_appends_whatever_it_holds(bytes in corrections_bytes()) {
            let d = tempdir();
            let store = CorrectionStore::new(d.path());
            std::fs::write(store.path(), &bytes).unwrap();
            let loaded = store.load().unwrap();
            for w in &loaded.warnings {
                prop_assert!(w.contains("corrections.jsonl"), "{}", w);
            }
            let valid = String::from_utf8_lossy(&bytes)
                .lines()
                .filter(|l| serde_json::from_str::<Correction>(l).is_ok())
                .count();
            prop_assert_eq!(loaded.records.len(), valid);
            match store.append(vec!["我".into(), "爱".into()], vec![], "default") {
                Ok(c) => {
                    prop_assert!(loaded.records.iter().all(|r| r.id < c.id), "id {} reused", c.id);
                    let after = store.load().unwrap();
                    prop_assert_eq!(after.records.len(), valid + 1);
                    prop_assert!(after.records.contains(&c));
                }
                Err(e) => {
                    // Only when the ids ran out (a record with id u64::MAX).
                    prop_assert!(loaded.records.iter().any(|r| r.id == u64::MAX), "{}", e);
                    prop_assert!(e.to_string().contains("corrections.jsonl"), "{}", e);
                }
            }
        }
    }

    fn valid_config() -> serde_json::Value {
        let cfg = BertConfig::new_tagger(120, 2, 16, 2, 32, &LabelScheme::bmes());
        serde_json::from_str(&cfg.to_json()).unwrap()
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::{json, Value};
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            prop_oneof![
                Just(0u64),
                Just(1),
                Just(3),
                Just(1 << 22),
                Just((1 << 22) + 1)
            ]
            .prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
            Just(json!(["BertForTokenClassification"])),
            Just(json!({"0": "B", "1": "I"})),
            Just(json!({"0": "S", "2": "B"})),
            Just(json!({"0": "B-PER", "1": "O"})),
            Just(json!([])),
            Just(json!({})),
        ]
    }

    fn config_text() -> impl Strategy<Value = String> {
        let keys = valid_config()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>();
        prop_oneof![
            any::<String>(),
            (
                proptest::collection::vec(
                    (prop::sample::select(keys), json_value(), any::<bool>()),
                    1..4
                ),
                proptest::option::of(any::<usize>())
            )
                .prop_map(|(edits, cut)| {
                    let mut v = valid_config();
                    for (k, val, remove) in edits {
                        let o = v.as_object_mut().unwrap();
                        if remove {
                            o.remove(&k);
                        } else {
                            o.insert(k, val);
                        }
                    }
                    let mut s = v.to_string();
                    if let Some(c) = cut {
                        let c = c % (s.len() + 1);
                        if s.is_char_boundary(c) {
                            s.truncate(c);
                        }
                    }
                    s
                }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(fuzz_cases(512)))]

        /// config.json: any text either loads as a config within the supported ranges, or fails
        /// with an error naming the file.
        #[test]
        fn config_json_loads_or_names_the_file(text in config_text()) {
            let file = Path::new("/models/m/config.json");
            match BertConfig::from_json(&text, file) {
                Ok(cfg) => {
                    prop_assert!(cfg.hidden_size > 0 && cfg.num_attention_heads > 0);
                    prop_assert_eq!(cfg.hidden_size % cfg.num_attention_heads, 0);
                    prop_assert!(cfg.max_position_embeddings >= 3);
                    prop_assert!(cfg.labels("config.json").is_ok());
                }
                Err(e) => {
                    let msg = e.to_string();
                    prop_assert!(msg.contains("/models/m/config.json"), "{}", msg);
                }
            }
        }
    }

    /// Replaces the `k`-th node (in a depth-first walk) of `v` by `new`.
    fn replace_node(v: &mut serde_json::Value, k: &mut usize, new: &serde_json::Value) -> bool {
        if *k == 0 {
            *v = new.clone();
            return true;
        }
        *k -= 1;
        match v {
            serde_json::Value::Array(a) => a.iter_mut().any(|x| replace_node(x, k, new)),
            serde_json::Value::Object(o) => o.values_mut().any(|x| replace_node(x, k, new)),
            _ => false,
        }
    }

    fn tokenizer_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            any::<String>().prop_map(String::into_bytes),
            (
                proptest::collection::vec((0usize..400, json_value()), 1..4),
                proptest::option::of(any::<usize>())
            )
                .prop_map(|(edits, cut)| {
                    let mut v = tokenizer_json();
                    for (k, val) in edits {
                        let mut k = k;
                        replace_node(&mut v, &mut k, &val);
                    }
                    let mut b = v.to_string().into_bytes();
                    if let Some(c) = cut {
                        b.truncate(c % (b.len() + 1));
                    }
                    b
                }),
        ]
    }

    fn vocab_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            (
                any::<usize>(),
                proptest::collection::vec(any::<u8>(), 0..16)
            )
                .prop_map(|(at, junk)| {
                    let mut b = vocab_txt();
                    let at = at % b.len();
                    let tail = b.split_off(at);
                    b.extend(junk);
                    b.extend(tail);
                    b
                }),
            proptest::collection::vec("\\PC{0,6}", 0..20).prop_map(|l| l.join("\n").into_bytes()),
        ]
    }

    /// A tokenizer that loads must cut any text into in-order units within the text.
    fn check_units(tok: &CharTokenizer) {
        for text in [
            "我爱北京 abc１２３",
            "😀\u{0}\u{202e}\t e\u{301}",
            "",
            "ＧＰＵ GPU gpu",
        ] {
            let u = tok.units(text);
            let n = text.chars().count();
            let mut prev = 0;
            for s in &u.spans {
                assert!(
                    s.start >= prev && s.start < s.end && s.end <= n,
                    "{text:?}: {:?}",
                    u.spans
                );
                prev = s.end;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(fuzz_cases(256)))]

        #[test]
        fn tokenizer_json_loads_or_says_why(bytes in tokenizer_bytes()) {
            match CharTokenizer::new(&VocabSource::TokenizerJson(bytes)) {
                Ok(tok) => check_units(&tok),
                Err(e) => prop_assert!(e.to_string().contains("tokenizer.json"), "{}", e),
            }
        }

        #[test]
        fn vocab_txt_loads_or_says_why(bytes in vocab_bytes()) {
            match CharTokenizer::new(&VocabSource::VocabTxt(bytes)) {
                Ok(tok) => check_units(&tok),
                Err(e) => prop_assert!(e.to_string().contains("vocab.txt"), "{}", e),
            }
        }
    }
}

/// Corrupt models (what tests/it/bad_input.rs does not cover): wrong dtypes, a config that lies
/// about the vocabulary, a garbage or lying tokenizer.json — through the library and the binary.
mod corrupt {
    use super::*;
    use candle_core::{DType, Device, Tensor};

    fn saved() -> tempfile::TempDir {
        let d = tempdir();
        write_model(&tiny_model(&LabelScheme::bmes(), 1, 8, 16, 43), d.path());
        d
    }

    fn tensors(dir: &Path) -> std::collections::HashMap<String, Tensor> {
        candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu).unwrap()
    }

    fn save_tensors(dir: &Path, t: &std::collections::HashMap<String, Tensor>) {
        candle_core::safetensors::save(t, dir.join("model.safetensors")).unwrap();
    }

    /// Loading fails (or segmenting does) with an error naming `file`; the binary says the same,
    /// exits non-zero, does not panic and does not hang.
    fn refused(dir: &Path, file: &str, also: &str) {
        let e = match ModelFiles::load_dir(dir) {
            Err(e) => format!("{:#}", anyhow::Error::from(e)),
            Ok(m) => match Segmenter::new(&m) {
                Err(e) => e.to_string(),
                Ok(s) => match s.segment("我爱北京abc") {
                    Err(e) => e.to_string(),
                    Ok(_) => panic!("{} loaded and segmented", dir.display()),
                },
            },
        };
        assert!(e.contains(file) && e.contains(also), "{e}");
        let home = tempdir();
        let mut cmd = fenci_cmd(home.path());
        cmd.args(["segment", "--model", dir.to_str().unwrap()])
            .stdin(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        // It may fail before reading: a broken pipe here is fine.
        let _ = child
            .stdin
            .take()
            .unwrap()
            .write_all("我爱北京\n".as_bytes());
        let (st, _) = wait_with_peak_rss(&mut child, Duration::from_secs(60));
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(!st.success(), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(file), "{err}");
    }

    #[test]
    fn integer_tensors_where_floats_belong_are_refused() {
        for (name, dtype) in [
            ("classifier.bias", DType::I64),
            ("bert.embeddings.word_embeddings.weight", DType::U8),
            (
                "bert.encoder.layer.0.attention.self.query.weight",
                DType::U32,
            ),
        ] {
            let d = saved();
            let mut t = tensors(d.path());
            let shape = t[name].dims().to_vec();
            t.insert(
                name.to_string(),
                Tensor::zeros(shape, dtype, &Device::Cpu).unwrap(),
            );
            save_tensors(d.path(), &t);
            refused(d.path(), "model.safetensors", "dtype");
        }
        // Other float types are converted, not refused.
        let d = saved();
        let mut t = tensors(d.path());
        for v in t.values_mut() {
            *v = v.to_dtype(DType::BF16).unwrap();
        }
        save_tensors(d.path(), &t);
        let m = ModelFiles::load_dir(d.path()).unwrap();
        Segmenter::new(&m).unwrap().segment("我爱北京").unwrap();
    }

    #[test]
    fn a_config_smaller_than_the_vocabulary_is_refused() {
        // config.json and the embedding table agree on 10 rows, the vocabulary has ~180 entries:
        // ids past row 10 would index outside the table.
        let d = saved();
        let mut t = tensors(d.path());
        let e = "bert.embeddings.word_embeddings.weight";
        t.insert(e.into(), t[e].narrow(0, 0, 10).unwrap());
        save_tensors(d.path(), &t);
        let p = d.path().join("config.json");
        let mut cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        cfg["vocab_size"] = 10.into();
        std::fs::write(&p, cfg.to_string()).unwrap();
        refused(d.path(), "config.json", "vocab_size");
    }

    #[test]
    fn a_tokenizer_json_with_ids_past_the_table_is_refused() {
        // Few entries but one id far past the embedding table: counting entries is not enough.
        let d = saved();
        let rows = tensors(d.path())["bert.embeddings.word_embeddings.weight"].dims()[0];
        std::fs::remove_file(d.path().join("vocab.txt")).unwrap();
        let tj = serde_json::json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": [],
            "normalizer": null,
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": null,
            "decoder": null,
            "model": {
                "type": "WordPiece",
                "unk_token": "[UNK]",
                "continuing_subword_prefix": "##",
                "max_input_chars_per_word": 100,
                "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "我": rows + 500}
            }
        });
        std::fs::write(d.path().join("tokenizer.json"), tj.to_string()).unwrap();
        refused(d.path(), "config.json", "vocab_size");
    }

    #[test]
    fn a_garbage_tokenizer_json_is_refused() {
        // Each of the last two made the tokenizers library panic (found by the fuzzer).
        let mut bad_charsmap = tokenizer_json();
        bad_charsmap["normalizer"] =
            serde_json::json!({"type": "Precompiled", "precompiled_charsmap": "AAAA"});
        let bad_charsmap = bad_charsmap.to_string().into_bytes();
        for junk in [
            &b""[..],
            b"{",
            b"\x00\xff\xfe garbage",
            b"{\"model\": {\"type\": \"WordPiece\"}}",
            b"[1, 2, 3]",
            b"{\"added_tokens\":[],\"decoder\":",
            &bad_charsmap,
        ] {
            let d = saved();
            std::fs::write(d.path().join("tokenizer.json"), junk).unwrap();
            refused(d.path(), "tokenizer.json", "");
        }
    }

    #[test]
    fn a_config_claiming_millions_of_layers_fails_fast() {
        let d = saved();
        let p = d.path().join("config.json");
        let mut cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        cfg["num_hidden_layers"] = 4_000_000.into();
        std::fs::write(&p, cfg.to_string()).unwrap();
        let started = Instant::now();
        refused(d.path(), "model.safetensors", "layer");
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}

/// SIGKILL at random points: acknowledged corrections survive, the store loads, a model
/// directory is always the old complete one or the new complete one.
mod crash {
    use super::*;

    fn words_of(round: usize, k: usize) -> Vec<String> {
        // Distinct sentences from the toy vocabulary: round and process in "digits" of words.
        let w = [
            "我", "爱", "北京", "学习", "中文", "朋友", "音乐", "老师", "电影", "书",
        ];
        vec![
            w[round % 10].to_string(),
            w[(round / 10) % 10].to_string(),
            w[(round / 100) % 10].to_string(),
            format!("{k}号"),
            format!("{round}"),
        ]
    }

    #[test]
    fn killed_corrections_never_lose_an_acknowledged_one() {
        let iters = env_usize("FENCI_CRASH_ITERS", 50);
        let mut rng = Rng::from_env("killed_corrections_never_lose_an_acknowledged_one");
        let home = tempdir();
        let store = CorrectionStore::new(home.path());
        // How long one `fenci correct` takes here, to spread the kills over its life.
        let t0 = Instant::now();
        let st = fenci_cmd(home.path())
            .args(["correct", "我 爱 北京"])
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        // Three at once on a small machine take about twice as long as one alone.
        let life = t0.elapsed().as_secs_f64() * 3.0;
        let mut acknowledged: Vec<Vec<String>> =
            vec![vec!["我".into(), "爱".into(), "北京".into()]];
        let (mut killed, mut finished) = (0, 0);
        for round in 0..iters {
            let procs = 3;
            let mut children: Vec<(Child, Vec<String>)> = (0..procs)
                .map(|k| {
                    let words = words_of(round, k);
                    let c = fenci_cmd(home.path())
                        .arg("correct")
                        .arg(words.join(" "))
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .unwrap();
                    (c, words)
                })
                .collect();
            std::thread::sleep(Duration::from_secs_f64(rng.unit() * life));
            for (c, words) in &mut children {
                let _ = c.kill(); // SIGKILL; fails harmlessly if it already exited
                let st = c.wait().unwrap();
                if st.success() {
                    finished += 1;
                    acknowledged.push(words.clone());
                } else {
                    killed += 1;
                }
            }
            let loaded = store.load().expect("the store loads after a kill");
            let ids: std::collections::HashSet<u64> = loaded.records.iter().map(|r| r.id).collect();
            assert_eq!(
                ids.len(),
                loaded.records.len(),
                "duplicate ids after round {round}"
            );
            for w in &acknowledged {
                assert!(
                    loaded.records.iter().any(|r| &r.words == w),
                    "round {round}: acknowledged correction {w:?} is missing"
                );
            }
        }
        let torn = store.load().unwrap().warnings.len();
        // The store still takes corrections, and `fenci corrections` lists them.
        let o = fenci_cmd(home.path())
            .args(["correct", "好 书"])
            .output()
            .unwrap();
        assert!(o.status.success());
        let o = fenci_cmd(home.path()).arg("corrections").output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        eprintln!(
            "{iters} rounds: {killed} processes killed, {finished} finished, {torn} torn lines skipped"
        );
    }

    /// Kills `child` at a random moment of its expected `life`, or (when `at_write`) within 3 ms
    /// of its temporary directory appearing in `watch` (mid-write). Returns whether it finished on its
    /// own (exit 0).
    fn kill_during(
        child: &mut Child,
        rng: &mut Rng,
        life: f64,
        watch: &Path,
        at_write: bool,
    ) -> bool {
        let started = Instant::now();
        let deadline = Duration::from_secs_f64(rng.unit() * life);
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                return st.success();
            }
            let hit = if at_write {
                // This child's temporary directory (`.NAME.dir.PID.tmp`): it is writing now.
                // Let it get a random part of the way through.
                let mine = format!(".{}.tmp", child.id());
                let writing = std::fs::read_dir(watch)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(&mine));
                if writing {
                    std::thread::sleep(Duration::from_secs_f64(rng.unit() * 0.003));
                }
                writing
            } else {
                started.elapsed() >= deadline
            };
            if hit || started.elapsed() > Duration::from_secs_f64(life * 4.0 + 30.0) {
                let _ = child.kill();
                return child.wait().unwrap().success();
            }
            if at_write {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    fn stale_temps(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    /// `fenci train` on corrections (what /train runs) killed at random points and mid-write of
    /// the new version: the active model is always complete and loads.
    #[test]
    fn killed_training_on_corrections_leaves_a_loadable_active_model() {
        let iters = env_usize("FENCI_CRASH_TRAIN_ITERS", 8);
        let mut rng =
            Rng::from_env("killed_training_on_corrections_leaves_a_loadable_active_model");
        let home = tempdir();
        let versions = Versions::new(home.path());
        // A tiny model as the active version, so each run takes a second, not a minute.
        let v1 = versions.path("v1");
        write_model(&tiny_model(&LabelScheme::bmes(), 1, 16, 64, 5), &v1);
        std::fs::write(
            v1.join("fenci.json"),
            r#"{"name":"v1","parent":"default","corrections":[],"created":0,"summary":"test"}"#,
        )
        .unwrap();
        versions.set_active("v1").unwrap();
        let store = CorrectionStore::new(home.path());
        for w in [
            ["我", "爱", "北京"],
            ["学生", "学习", "中文"],
            ["老师", "喜欢", "音乐"],
        ] {
            store
                .append(w.iter().map(|s| s.to_string()).collect(), vec![], "v1")
                .unwrap();
        }
        let train = || {
            let mut c = fenci_cmd(home.path());
            c.arg("train").stdout(Stdio::null()).stderr(Stdio::null());
            c
        };
        let t0 = Instant::now();
        assert!(train().status().unwrap().success());
        // Spread the kills over the run (and, run beside other tests, a slower one).
        let life = t0.elapsed().as_secs_f64() * 2.0;
        let (mut killed, mut finished, mut mid_write) = (0, 0, 0);
        let models = home.path().join("models");
        for i in 0..iters * 2 {
            let before = versions.active();
            let mut child = train().spawn().unwrap();
            let pid = format!(".{}.tmp", child.id());
            let ok = kill_during(&mut child, &mut rng, life, &models, i % 2 == 1);
            if stale_temps(&models).iter().any(|n| n.ends_with(&pid)) {
                mid_write += 1;
            }
            let after = versions.active();
            if ok {
                finished += 1;
                assert_ne!(after, before, "a finished run makes its version active");
            } else {
                killed += 1;
            }
            let (name, files) = fenci::service::Service::new(home.path())
                .load_active()
                .unwrap_or_else(|e| panic!("iteration {i}: active {after} does not load: {e}"));
            assert!(name == before || !ok || name == after);
            Segmenter::new(&files).unwrap().segment("我爱北京").unwrap();
            for m in versions.list() {
                ModelFiles::load_dir(&versions.path(&m.name))
                    .unwrap_or_else(|e| panic!("iteration {i}: version {} is torn: {e}", m.name));
            }
            assert!(store.load().unwrap().warnings.is_empty());
        }
        // A run after the kills succeeds and sweeps what killed runs left behind.
        assert!(train().status().unwrap().success());
        assert_eq!(
            stale_temps(&home.path().join("models")),
            Vec::<String>::new()
        );
        eprintln!(
            "{} runs: {killed} killed ({mid_write} in the middle of writing a version), {finished} finished",
            iters * 2
        );
    }

    /// `fenci train --data … --out DIR` over an existing model, killed at random points and
    /// mid-write: DIR is always a complete model, and the checkpoint beside it is complete.
    #[test]
    fn killed_training_run_leaves_old_or_new_output() {
        let iters = env_usize("FENCI_CRASH_TRAIN_ITERS", 8);
        let mut rng = Rng::from_env("killed_training_run_leaves_old_or_new_output");
        let dir = tempdir();
        // The data directory apart from the output: train --out refuses a path inside it.
        let home = tempdir();
        let data = dir.path().join("train.txt");
        let lines: Vec<String> = toy_corpus(40).iter().map(|w| w.join(" ")).collect();
        std::fs::write(&data, lines.join("\n")).unwrap();
        let vocab = dir.path().join("vocab.txt");
        std::fs::write(&vocab, vocab_txt()).unwrap();
        let out = dir.path().join("out");
        write_model(&tiny_model(&LabelScheme::bmes(), 1, 16, 32, 9), &out);
        let train = || {
            let mut c = fenci_cmd(home.path());
            c.args(["train", "--data"])
                .arg(&data)
                .arg("--dev")
                .arg(&data)
                .arg("--out")
                .arg(&out)
                .arg("--vocab")
                .arg(&vocab)
                .args(["--layers", "1", "--hidden", "16", "--heads", "2"])
                .args([
                    "--max-positions",
                    "32",
                    "--epochs",
                    "3",
                    "--checkpoint-every",
                    "2",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            c
        };
        let t0 = Instant::now();
        assert!(train().status().unwrap().success());
        // Spread the kills over the run (and, run beside other tests, a slower one).
        let life = t0.elapsed().as_secs_f64() * 2.0;
        let ckpt = fenci::train::checkpoint_dir(&out);
        let (mut killed, mut mid_write) = (0, 0);
        for i in 0..iters * 2 {
            let mut child = train().spawn().unwrap();
            let pid = format!(".{}.tmp", child.id());
            if !kill_during(&mut child, &mut rng, life, dir.path(), i % 2 == 1) {
                killed += 1;
            }
            if stale_temps(dir.path()).iter().any(|n| n.ends_with(&pid)) {
                mid_write += 1;
            }
            let m = ModelFiles::load_dir(&out)
                .unwrap_or_else(|e| panic!("iteration {i}: {} is torn: {e}", out.display()));
            Segmenter::new(&m).unwrap().segment("我爱北京").unwrap();
            if ckpt.exists() {
                for f in ["model.safetensors", "optimizer.safetensors", "state.json"] {
                    let b = std::fs::read(ckpt.join(f))
                        .unwrap_or_else(|e| panic!("iteration {i}: checkpoint lacks {f}: {e}"));
                    if f == "state.json" {
                        serde_json::from_slice::<serde_json::Value>(&b).unwrap();
                    } else {
                        safetensors::SafeTensors::deserialize(&b).unwrap();
                    }
                }
            }
        }
        assert!(train().status().unwrap().success());
        assert_eq!(stale_temps(dir.path()), Vec::<String>::new());
        eprintln!(
            "{} runs: {killed} killed ({mid_write} in the middle of writing the model or checkpoint)",
            iters * 2
        );
    }
}

/// Huge and odd input through `fenci segment`.
mod huge {
    use super::*;

    /// A model like the built-in one in shape where it matters here (128 positions, BMES) but
    /// tiny, so megabytes go through in seconds.
    fn model_dir() -> tempfile::TempDir {
        let d = tempdir();
        write_model(&tiny_model(&LabelScheme::bmes(), 1, 16, 128, 77), d.path());
        d
    }

    /// Chinese text with punctuation, digits and Latin, `bytes` long, no newline.
    fn text(bytes: usize) -> String {
        let corpus = toy_corpus(60);
        let mut s = String::with_capacity(bytes + 64);
        let mut i = 0;
        while s.len() < bytes {
            s.push_str(&corpus[i % corpus.len()].concat());
            if i % 7 == 0 {
                s.push_str("，ＧＰＵ１９９８ abc ");
            }
            i += 1;
        }
        s
    }

    /// Runs `fenci segment --model MODEL FILE` (one thread for a tiny model: it is quicker
    /// without the thread pool's synchronisation); returns stdout, peak RSS in KiB, stderr.
    fn segment_file(model: &str, file: &Path, limit: Duration) -> (Vec<u8>, Option<u64>, String) {
        let home = tempdir();
        let out = home.path().join("out.txt");
        let threads = if model == "default" { "2" } else { "1" };
        let mut child = fenci_cmd(home.path())
            .args(["--threads", threads, "segment", "--model", model])
            .arg(file)
            .stdout(std::fs::File::create(&out).unwrap())
            .spawn()
            .unwrap();
        let (st, peak) = wait_with_peak_rss(&mut child, limit);
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(st.success(), "{err}");
        (std::fs::read(&out).unwrap(), peak, err)
    }

    fn check_line(input: &str, output: &str) {
        let no_ws: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        let joined = output.replace(' ', "");
        assert_eq!(
            joined.len(),
            no_ws.len(),
            "words do not join back to the input"
        );
        assert!(joined == no_ws, "words do not join back to the input");
    }

    /// The bound on `fenci segment`'s peak memory for a 10 MB line: the process holds the
    /// model (the built-in one: 12 MB of weights, 48 MB as F32, plus the binary) and one
    /// 64 KiB piece of the line with its activations (~30 MB). Holding the whole line, its
    /// units and scores would take about 1 GB; 400 MB leaves room for allocator slack.
    const PEAK_RSS_BOUND_KB: u64 = 400 * 1024;

    fn ten_megabyte_line(model: &str, limit: Duration) {
        let d = tempdir();
        let file = d.path().join("line.txt");
        let input = text(10 << 20);
        std::fs::write(&file, format!("{input}\n")).unwrap();
        let started = Instant::now();
        let (out, peak, _) = segment_file(model, &file, limit);
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.matches('\n').count(), 1);
        check_line(&input, out.trim_end_matches('\n'));
        eprintln!(
            "10 MB line through --model {model}: {:.1} s, peak RSS {} MB",
            started.elapsed().as_secs_f64(),
            peak.unwrap_or(0) / 1024
        );
        if let Some(kb) = peak {
            assert!(kb < PEAK_RSS_BOUND_KB, "peak RSS {kb} KB");
        }
    }

    #[test]
    fn a_ten_megabyte_line_streams_in_bounded_memory() {
        let m = model_dir();
        ten_megabyte_line(m.path().to_str().unwrap(), Duration::from_secs(600));
        if std::env::var("FENCI_HUGE_DEFAULT").is_ok_and(|v| v == "1") {
            ten_megabyte_line("default", Duration::from_secs(3600));
        }
    }

    #[test]
    fn a_megabyte_word_without_boundaries_is_bounded_too() {
        // One "word" the model cannot split (a Latin run is one [UNK] unit): written in pieces
        // of at most 1 MB rather than held whole.
        let m = model_dir();
        let d = tempdir();
        let file = d.path().join("x.txt");
        let input = "x".repeat(3 << 20);
        std::fs::write(&file, format!("{input}\n")).unwrap();
        let (out, peak, _) =
            segment_file(m.path().to_str().unwrap(), &file, Duration::from_secs(300));
        let out = String::from_utf8(out).unwrap();
        check_line(&input, out.trim_end_matches('\n'));
        assert!(out.split(' ').all(|w| w.len() <= (1 << 20) + (64 << 10)));
        if let Some(kb) = peak {
            assert!(kb < PEAK_RSS_BOUND_KB, "peak RSS {kb} KB");
        }
    }

    #[test]
    fn long_lines_segment_as_if_whole() {
        // Pieces are cut at a boundary the built-in model saw with 64 characters of context
        // beyond it: the words of a long line match segmenting it whole, in memory, as closely
        // as whole-line segmentation matches itself.
        let seg = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
        let d = tempdir();
        let file = d.path().join("line.txt");
        let sentences = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/pku1998/dev.seg.txt"),
        )
        .map(|t| t.replace([' ', '\n'], ""))
        .unwrap_or_else(|_| text(150 << 10));
        let input: String = sentences.chars().take(30_000).collect();
        std::fs::write(&file, format!("{input}\n{input}\r\n")).unwrap();
        let (out, _, _) = segment_file("default", &file, Duration::from_secs(600));
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        // Pieces are cut at fixed offsets of the line: the same text gives the same words
        // wherever it starts in the file, CRLF or not.
        assert!(lines[0] == lines[1], "the same line segmented two ways");
        check_line(&input, lines[0]);
        // Word starts (character offsets) of a segmentation, dropping `skip` leading characters.
        let starts = |words: &mut dyn Iterator<Item = usize>, skip: usize| {
            let mut pos = 0;
            let mut v = std::collections::HashSet::new();
            for len in words {
                if pos >= skip {
                    v.insert(pos - skip);
                }
                pos += len;
            }
            v
        };
        let agreement = |a: &std::collections::HashSet<usize>,
                         b: &std::collections::HashSet<usize>| {
            2.0 * a.intersection(b).count() as f64 / (a.len() + b.len()) as f64
        };
        let whole = seg.segment(&input).unwrap();
        let a = starts(&mut whole.words.iter().map(|w| w.text.chars().count()), 0);
        let b = starts(&mut lines[0].split(' ').map(|w| w.chars().count()), 0);
        let pieces = agreement(&a, &b);
        // Whole-line segmentation cuts a line longer than the model's 126 positions into
        // overlapping windows, so it does not even agree with itself when the windows fall
        // elsewhere: shift them by one character to see how much that alone changes.
        let shifted = seg.segment(&format!("。{input}")).unwrap();
        let c = starts(&mut shifted.words.iter().map(|w| w.text.chars().count()), 1);
        let windows = agreement(&a, &c);
        eprintln!(
            "{} words; word starts agree with whole-line segmentation: pieces {:.3}%, \
             whole line with windows shifted by one {:.3}%",
            a.len(),
            pieces * 100.0,
            windows * 100.0
        );
        assert!(
            pieces > windows - 0.003,
            "pieces {pieces}, windows {windows}"
        );
    }

    #[test]
    fn many_short_lines_empty_files_crlf_and_bom() {
        let m = model_dir();
        let model = m.path().to_str().unwrap();
        let d = tempdir();
        // 100k short lines
        let corpus = toy_corpus(60);
        let lines: Vec<String> = (0..100_000)
            .map(|i| corpus[i % corpus.len()].concat())
            .collect();
        let file = d.path().join("many.txt");
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        let (out, _, _) = segment_file(model, &file, Duration::from_secs(600));
        let out = String::from_utf8(out).unwrap();
        let got: Vec<&str> = out.lines().collect();
        assert_eq!(got.len(), lines.len());
        for (g, l) in got.iter().zip(&lines) {
            assert_eq!(g.replace(' ', ""), *l);
        }
        // empty files, and files of empty lines
        for (content, want) in [("", ""), ("\n", "\n"), ("\n\n\n", "\n\n\n"), ("\r\n", "\n")] {
            let f = d.path().join("empty.txt");
            std::fs::write(&f, content).unwrap();
            let (out, _, _) = segment_file(model, &f, Duration::from_secs(60));
            assert_eq!(String::from_utf8(out).unwrap(), want, "{content:?}");
        }
        // CRLF throughout, a lone CR inside a line, no newline at the end
        let f = d.path().join("crlf.txt");
        std::fs::write(&f, "我爱北京\r\n学生学习中文\r\n老师\r喜欢音乐\r\n最后一行").unwrap();
        let (out, _, _) = segment_file(model, &f, Duration::from_secs(60));
        let out = String::from_utf8(out).unwrap();
        let got: Vec<String> = out.lines().map(|l| l.replace(' ', "")).collect();
        assert_eq!(
            got,
            ["我爱北京", "学生学习中文", "老师喜欢音乐", "最后一行"]
        );
        assert!(!out.contains('\r'));
        // A BOM opens each file (dropped), also before a streamed line; one inside a line stays.
        let f1 = d.path().join("bom1.txt");
        let f2 = d.path().join("bom2.txt");
        let long = text(200 << 10);
        std::fs::write(&f1, "\u{feff}我爱北京\n你\u{feff}好\n").unwrap();
        std::fs::write(&f2, format!("\u{feff}{long}\n")).unwrap();
        let home = tempdir();
        let (st, out, err) = run_limited(
            {
                let mut c = fenci_cmd(home.path());
                c.args(["segment", "--model", model]).arg(&f1).arg(&f2);
                c
            },
            Duration::from_secs(120),
        );
        assert!(st.success(), "{err}");
        let out = String::from_utf8(out).unwrap();
        let got: Vec<String> = out.lines().map(|l| l.replace(' ', "")).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], "我爱北京");
        assert_eq!(got[1], "你\u{feff}好");
        assert_eq!(got[2], long.replace(' ', ""));
    }

    #[test]
    fn invalid_utf8_deep_in_a_long_line_names_line_and_byte() {
        let m = model_dir();
        let d = tempdir();
        let f = d.path().join("bad.txt");
        let long = text(150 << 10);
        let mut b = format!("我爱北京\n{long}").into_bytes();
        let at = b.len();
        b.extend_from_slice(b"\xff\xfe tail\n");
        std::fs::write(&f, &b).unwrap();
        let home = tempdir();
        let (st, _, err) = run_limited(
            {
                let mut c = fenci_cmd(home.path());
                c.args(["segment", "--model", m.path().to_str().unwrap()])
                    .arg(&f);
                c
            },
            Duration::from_secs(120),
        );
        assert!(!st.success());
        let byte = at - "我爱北京\n".len() + 1;
        assert!(
            err.contains("line 2") && err.contains(&format!("byte {byte} ")),
            "{err} (expected byte {byte})"
        );
    }
}

/// Writing a model refuses to fill the disk and leaves no temporary files behind.
mod disk {
    use super::*;
    use fenci::store::{write_dir_atomic, write_dir_atomic_with, FREE_SPACE_MARGIN};

    fn siblings(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_write_that_would_fill_the_disk_is_refused_and_leaves_nothing() {
        let d = tempdir();
        let target = d.path().join("m");
        write_dir_atomic(&target, &[("a", b"old")]).unwrap();
        let big = vec![7u8; 1 << 20];
        // 1 MB to write, 1 MB + half the margin free: refused, the old directory untouched.
        let free = (1 << 20) + FREE_SPACE_MARGIN / 2;
        let e = write_dir_atomic_with(&target, &[("a", &big)], |_| Ok(free)).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::StorageFull);
        let msg = e.to_string();
        assert!(
            msg.contains("free space") && msg.contains(&target.display().to_string()),
            "{msg}"
        );
        assert_eq!(std::fs::read(target.join("a")).unwrap(), b"old");
        assert_eq!(siblings(d.path()), ["m"]);
        // With room, it goes through; a probe that cannot tell does not block.
        write_dir_atomic_with(&target, &[("a", &big)], |_| Ok(u64::MAX)).unwrap();
        write_dir_atomic_with(&target, &[("a", b"new")], |_| {
            Err(std::io::Error::other("statvfs unsupported"))
        })
        .unwrap();
        assert_eq!(std::fs::read(target.join("a")).unwrap(), b"new");
        assert_eq!(siblings(d.path()), ["m"]);
    }

    #[test]
    fn temp_directories_of_killed_writers_are_swept() {
        if !Path::new("/proc/1").exists() {
            return; // the sweep asks /proc whether a writer is alive (Linux)
        }
        let d = tempdir();
        let target = d.path().join("v3");
        // pid 2147483646 is never a live process; pid 1 always is.
        let dead = [
            ".v3.dir.2147483646.tmp",
            ".v3.old.2147483646.tmp",
            ".v2.dir.2147483646.tmp",
        ];
        let kept = [".v4.dir.1.tmp", ".v4.dir.x.tmp", "v5"];
        for n in dead.iter().chain(&kept) {
            let p = d.path().join(n);
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("model.safetensors"), b"partial").unwrap();
        }
        write_dir_atomic(&target, &[("config.json", b"{}")]).unwrap();
        let mut want: Vec<&str> = kept.to_vec();
        want.push("v3");
        want.sort();
        assert_eq!(siblings(d.path()), want);
    }

    /// A 1 MB tmpfs: the real free-space probe refuses a model write and /train; a write that
    /// runs out of space midway (probe bypassed) cleans up and keeps the old version.
    #[test]
    fn a_full_tmpfs_refuses_train_and_cleans_up() {
        let d = tempdir();
        let mnt = d.path().join("small");
        std::fs::create_dir(&mnt).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&mnt)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("skipping the tmpfs part: cannot mount a tmpfs here (not root?); the free-space check is covered by the injected-probe test");
            return;
        }
        struct Unmount(PathBuf);
        impl Drop for Unmount {
            fn drop(&mut self) {
                let _ = Command::new("umount").arg(&self.0).status();
            }
        }
        let _guard = Unmount(mnt.clone());

        // A data directory with a tiny model active and a correction to train on.
        let home = mnt.join("home");
        let versions = Versions::new(&home);
        let v1 = versions.path("v1");
        write_dir_atomic_with(
            &v1,
            &tiny_model(&LabelScheme::bmes(), 1, 8, 16, 3)
                .file_bytes(false)
                .unwrap()
                .iter()
                .map(|(n, b)| (*n, b.as_slice()))
                .collect::<Vec<_>>(),
            |_| Ok(u64::MAX),
        )
        .unwrap();
        versions.set_active("v1").unwrap();
        CorrectionStore::new(&home)
            .append(vec!["我".into(), "爱".into(), "北京".into()], vec![], "v1")
            .unwrap();
        let never = std::sync::atomic::AtomicBool::new(false);
        let e = fenci::service::Service::new(&home)
            .train(
                &fenci::train::AdaptConfig {
                    epochs: 1,
                    ..Default::default()
                },
                5,
                &never,
                |_| {},
            )
            .unwrap_err();
        let msg = format!("{:#}", anyhow::Error::from(e));
        assert!(msg.contains("free space"), "{msg}");
        assert_eq!(versions.active(), "v1");
        assert_eq!(siblings(&home.join("models")), ["v1"]);
        // The binary says the same and exits non-zero.
        let (st, _, err) = run_limited(
            {
                let mut c = fenci_cmd(&home);
                c.arg("train");
                c
            },
            Duration::from_secs(120),
        );
        assert!(!st.success() && err.contains("free space"), "{err}");
        // Running out of space midway (the probe bypassed): an error, no temp, old kept.
        let big = vec![1u8; 2 << 20];
        let e = write_dir_atomic_with(&v1, &[("model.safetensors", &big)], |_| Ok(u64::MAX))
            .unwrap_err();
        assert!(
            e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28),
            "{e}"
        );
        assert_eq!(siblings(&home.join("models")), ["v1"]);
        ModelFiles::load_dir(&v1).unwrap();
    }
}
