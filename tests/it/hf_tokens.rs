//! Hub models see exactly the tokens they were trained on: fenci's token ids and character
//! offsets equal transformers' for a vocab.txt model (uncased and cased) and a tokenizer.json
//! model, its segmentations equal an independent numpy BertForTokenClassification over those
//! tokens (scripts/hf_reference.py), and the tokenizer.json `fenci export` writes for its own
//! models yields the ids fenci feeds them.
//!
//! Needs python3 with `tokenizers` and `numpy` (`.ci/run` installs them) and ../shared; without
//! them the tests say so and return, unless FENCI_REQUIRE_PY=1, where they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use fenci::tagger::{LabelScheme, ModelFiles, VocabSource, LOOKUP_KEY};
use fenci::text::{lookup_tokenizer_json, BertOptions, TokenizerSettings};

use crate::cli::fenci;
use crate::util::tempdir;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether the Python side can run; a skip message (or, with FENCI_REQUIRE_PY=1, a failure)
/// otherwise.
fn python_ready() -> bool {
    let require = std::env::var("FENCI_REQUIRE_PY").is_ok_and(|v| v == "1");
    let shared = repo().join("../shared/data/vocab/bert-base-chinese-vocab.txt");
    let why = if !shared.is_file() {
        Some(format!("{} not found", shared.display()))
    } else {
        match Command::new("python3")
            .args(["-c", "import tokenizers, numpy"])
            .output()
        {
            Err(e) => Some(format!("python3 cannot run: {e}")),
            Ok(o) if !o.status.success() => Some(format!(
                "python3 lacks tokenizers or numpy: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Ok(_) => None,
        }
    };
    match why {
        None => true,
        Some(w) if require => panic!("FENCI_REQUIRE_PY=1 but {w}"),
        Some(w) => {
            eprintln!("skipping the transformers cross-check: {w}");
            false
        }
    }
}

/// The fixed lines: People's Daily (full-width punctuation and digits), then Latin (cased and
/// not), accents, emoji, traditional characters, whitespace and an unknown character.
fn lines() -> Vec<String> {
    let dev = std::fs::read_to_string(repo().join("../shared/data/pku1998/dev.seg.txt"))
        .expect("../shared/data/pku1998/dev.seg.txt");
    let mut out: Vec<String> = dev
        .lines()
        .map(|l| l.replace(' ', ""))
        .filter(|l| !l.is_empty() && l.chars().count() <= 200)
        .take(200)
        .collect();
    for l in [
        "他说：“你好！”（笑）今天是２０２４年３月５日，气温２３℃；对吗？",
        "２３ 年 ２０２４年 3.14 ５６Ｋ Ｍｏｄｅｍ",
        "Hello World, iPhone 用户 ＡＢＣ ｉＰｈｏｎｅ NASA",
        "café naïve Café NAÏVE résumé",
        "我爱😀表情🎉，好的👍",
        "這本書很好看，我買了兩本。",
        "  前后  空白\t制表　全角空格 ",
        "未知字符𠮷和☃以及⿰",
        "ＣＯＶＩＤ－１９疫情，Ｗｉ－Ｆｉ信号",
        "北京大学Peking University成立于1898年",
    ] {
        out.push(l.to_string());
    }
    out
}

fn shared_vocab() -> Vec<u8> {
    std::fs::read(repo().join("../shared/data/vocab/bert-base-chinese-vocab.txt")).unwrap()
}

/// A random hub-style model (no fenci lookups declared) over the shared BERT vocabulary.
fn hub_model(
    scheme: &LabelScheme,
    vocab: VocabSource,
    tokenizer_config: Option<&str>,
    seed: u64,
) -> ModelFiles {
    let mut m = fenci::train::fresh_model(
        VocabSource::VocabTxt(shared_vocab()),
        2,
        48,
        4,
        512,
        scheme,
        seed,
    )
    .expect("fresh model");
    assert!(m.tokenizer_settings().is_fenci(), "fenci declares its own");
    m.config.extra.remove(LOOKUP_KEY);
    m.vocab = vocab;
    m.tokenizer_config = tokenizer_config.map(str::to_string);
    assert!(!m.tokenizer_settings().is_fenci());
    m
}

/// A tokenizer.json over the shared vocabulary (lower-casing but keeping accents, unlike
/// BertTokenizer's defaults).
fn tokenizer_json() -> Vec<u8> {
    let settings = TokenizerSettings::hub(BertOptions {
        lower_case: true,
        chinese_chars: true,
        strip_accents: Some(false),
    });
    lookup_tokenizer_json(&shared_vocab(), &settings)
        .unwrap()
        .into_bytes()
}

fn python(args: &[&str]) -> String {
    let o = Command::new("python3")
        .arg(repo().join("scripts/hf_reference.py"))
        .args(args)
        .output()
        .expect("python3");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "hf_reference.py {args:?}: {out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("hf_reference.py {}: {out}", args[0]);
    out
}

/// `equal <what> A/B` from the script's output.
fn count(out: &str, what: &str) -> (usize, usize) {
    let s = out
        .split(&format!("{what} "))
        .nth(1)
        .unwrap_or_else(|| panic!("no `{what}` in {out}"));
    let frac = s.split_whitespace().next().unwrap();
    let (a, b) = frac.split_once('/').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

fn run_fenci(args: &[&str], home: &Path) -> String {
    let o = fenci(args, b"", home);
    assert!(
        o.status.success(),
        "fenci {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

struct Setup {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    lines: PathBuf,
    n: usize,
}

fn setup() -> Setup {
    let tmp = tempdir();
    let dir = tmp.path().to_path_buf();
    let lines = lines();
    let path = dir.join("lines.txt");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    Setup {
        _tmp: tmp,
        dir,
        lines: path,
        n: lines.len(),
    }
}

/// fenci's units of `model` for the lines, compared with transformers' tokens: all equal.
fn tokens_equal(s: &Setup, model: &str, mode: &str, reference: &Path) {
    let units = run_fenci(
        &[
            "segment",
            "--model",
            model,
            "--units",
            s.lines.to_str().unwrap(),
        ],
        &s.dir,
    );
    let upath = s.dir.join("units.jsonl");
    std::fs::write(&upath, units).unwrap();
    let out = python(&[
        mode,
        reference.to_str().unwrap(),
        s.lines.to_str().unwrap(),
        upath.to_str().unwrap(),
    ]);
    assert_eq!(count(&out, "ids"), (s.n, s.n), "{model}: {out}");
    assert_eq!(count(&out, "offsets"), (s.n, s.n), "{model}: {out}");
}

#[test]
fn hub_models_get_transformers_tokens() {
    if !python_ready() {
        return;
    }
    let s = setup();
    let bi = LabelScheme::bi();
    let models = [
        (
            "uncased",
            hub_model(&bi, VocabSource::VocabTxt(shared_vocab()), None, 1),
        ),
        (
            "cased",
            hub_model(
                &bi,
                VocabSource::VocabTxt(shared_vocab()),
                Some(r#"{"do_lower_case": false, "tokenizer_class": "BertTokenizer"}"#),
                2,
            ),
        ),
        (
            "tokenizer-json",
            hub_model(&bi, VocabSource::TokenizerJson(tokenizer_json()), None, 3),
        ),
    ];
    for (name, m) in models {
        let dir = s.dir.join(name);
        m.save_dir(&dir, false).unwrap();
        tokens_equal(&s, dir.to_str().unwrap(), "tokens", &dir);
    }
}

#[test]
fn hub_models_segment_as_transformers_would() {
    if !python_ready() {
        return;
    }
    let s = setup();
    for (scheme, seed) in [(LabelScheme::bi(), 11), (LabelScheme::bmes(), 12)] {
        for (name, vocab, tc) in [
            ("uncased", VocabSource::VocabTxt(shared_vocab()), None),
            (
                "cased",
                VocabSource::VocabTxt(shared_vocab()),
                Some(r#"{"do_lower_case": false}"#),
            ),
            (
                "tokenizer-json",
                VocabSource::TokenizerJson(tokenizer_json()),
                None,
            ),
        ] {
            let mut m = hub_model(&scheme, vocab, tc, seed);
            if name == "cased" {
                // The exact (erf) GELU, as bert-base-chinese has it.
                m.config.hidden_act = "gelu".into();
            }
            let dir = s.dir.join(format!("{name}-{}", scheme.names().join("")));
            m.save_dir(&dir, false).unwrap();
            let seg = run_fenci(
                &[
                    "segment",
                    "--model",
                    dir.to_str().unwrap(),
                    s.lines.to_str().unwrap(),
                ],
                &s.dir,
            );
            let spath = s.dir.join("segmented.txt");
            std::fs::write(&spath, seg).unwrap();
            let out = python(&[
                "segment",
                dir.to_str().unwrap(),
                s.lines.to_str().unwrap(),
                spath.to_str().unwrap(),
            ]);
            let (eq, n) = count(&out, "segmentations");
            assert_eq!(n, s.n);
            assert!(
                eq * 100 >= n * 99,
                "{name} {:?}: {eq}/{n} lines agree: {out}",
                scheme.names()
            );
        }
    }
}

#[test]
fn exported_tokenizer_json_gives_fencis_ids() {
    if !python_ready() {
        return;
    }
    let s = setup();
    let out = s.dir.join("export");
    let home = s.dir.join("home");
    let o = fenci(
        &["export", out.to_str().unwrap(), "--model", "default"],
        b"",
        &home,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in ["config.json", "vocab.txt", "tokenizer.json", "lexicon.txt"] {
        assert!(out.join(f).is_file(), "{f} missing in the export");
    }
    // The default model declares its lookups by its word features alone.
    let cfg = std::fs::read_to_string(out.join("config.json")).unwrap();
    assert!(cfg.contains("fenci_word_features") && !cfg.contains(LOOKUP_KEY));
    tokens_equal(&s, "default", "tokenizer-json", &out.join("tokenizer.json"));
    // The exported directory segments as the built-in model does (it reads vocab.txt).
    let a = run_fenci(
        &["segment", "--model", "default", s.lines.to_str().unwrap()],
        &s.dir,
    );
    let b = run_fenci(
        &[
            "segment",
            "--model",
            out.to_str().unwrap(),
            s.lines.to_str().unwrap(),
        ],
        &s.dir,
    );
    assert_eq!(a, b);
}

/// Without Python: a hub model's ids are its vocabulary's own (no folding, no simplified
/// lookup, WordPiece words kept whole), fenci's models fold, and adding dictionary features to a
/// hub model keeps its tokens.
#[test]
fn fencis_lookups_only_for_models_that_declare_them() {
    let vocab = crate::util::vocab_txt();
    let id = |t: &str| {
        String::from_utf8_lossy(&vocab)
            .lines()
            .position(|l| l == t)
            .unwrap() as u32
    };
    let mut hub = fenci::train::fresh_model(
        VocabSource::VocabTxt(vocab.clone()),
        1,
        16,
        2,
        64,
        &LabelScheme::bmes(),
        5,
    )
    .unwrap();
    let ours = hub.tokenizer().unwrap().units("你，我!a1");
    assert_eq!(ours.ids[1], id(","), "fenci folds ， to ,");
    hub.config.extra.remove(LOOKUP_KEY);
    let theirs = hub.tokenizer().unwrap().units("你，我!a1");
    assert_eq!(theirs.ids[1], id("，"));
    assert_eq!(theirs.ids[3], id("!"));
    // `a1` is one BERT word: `a ##1`, never cut.
    assert_eq!(&theirs.ids[4..], &[id("a"), id("##1")]);
    assert_eq!(theirs.joined, vec![false, false, false, false, false, true]);
    assert!(ours.joined.iter().all(|j| !j));
    hub.add_word_features(fenci::text::WordSet::parse("我们\n"))
        .unwrap();
    assert!(!hub.tokenizer_settings().is_fenci());
    assert_eq!(hub.tokenizer().unwrap().units("你，我!a1").ids, theirs.ids);
    // Options from tokenizer_config.json, with transformers' defaults.
    let o = BertOptions::from_tokenizer_config(r#"{"do_lower_case": false}"#);
    assert!(!o.lower_case && o.chinese_chars && o.strip_accents.is_none());
    assert_eq!(
        BertOptions::from_tokenizer_config("{}"),
        BertOptions::default()
    );
}
