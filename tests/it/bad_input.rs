//! Broken model directories and hostile text: clear errors naming the file, never a panic.
use fenci::segment::Segmenter;
use fenci::tagger::{LabelScheme, ModelFiles};

use crate::util::{tempdir, tiny_model, write_model};

fn saved() -> tempfile::TempDir {
    let d = tempdir();
    write_model(&tiny_model(&LabelScheme::bmes(), 1, 8, 16, 41), d.path());
    d
}

fn err(dir: &std::path::Path) -> String {
    format!(
        "{:#}",
        anyhow::Error::from(ModelFiles::load_dir(dir).unwrap_err())
    )
}

#[test]
fn missing_files_are_named() {
    let d = saved();
    std::fs::remove_file(d.path().join("model.safetensors")).unwrap();
    let e = err(d.path());
    assert!(e.contains("model.safetensors"), "{e}");
    let d = saved();
    std::fs::remove_file(d.path().join("vocab.txt")).unwrap();
    assert!(err(d.path()).contains("vocab.txt"));
    let d = saved();
    std::fs::remove_file(d.path().join("config.json")).unwrap();
    assert!(err(d.path()).contains("config.json"));
    assert!(err(&d.path().join("nope")).contains("not a model directory"));
}

#[test]
fn bad_json_and_lying_configs_are_refused() {
    let d = saved();
    std::fs::write(d.path().join("config.json"), "{ not json").unwrap();
    let e = err(d.path());
    assert!(
        e.contains("config.json") && e.contains("not a valid"),
        "{e}"
    );

    let d = saved();
    let p = d.path().join("config.json");
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    cfg["hidden_size"] = 12.into();
    cfg["num_attention_heads"] = 2.into();
    std::fs::write(&p, cfg.to_string()).unwrap();
    let e = err(d.path());
    assert!(
        e.contains("model.safetensors") && e.contains("shape"),
        "{e}"
    );

    let mut cfg2 = cfg.clone();
    cfg2["id2label"] = serde_json::json!({"0": "B-PER", "1": "I-PER", "2": "O"});
    std::fs::write(&p, cfg2.to_string()).unwrap();
    let e = err(d.path());
    assert!(e.contains("BMES") && e.contains("B/I"), "{e}");

    let mut cfg3 = cfg.clone();
    cfg3["model_type"] = "gpt2".into();
    std::fs::write(&p, cfg3.to_string()).unwrap();
    assert!(err(d.path()).contains("unsupported"));
}

#[test]
fn truncated_and_bit_flipped_weights_are_refused() {
    let d = saved();
    let p = d.path().join("model.safetensors");
    let bytes = std::fs::read(&p).unwrap();
    for cut in [0, 5, 8, 100, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let e = err(d.path());
        assert!(e.contains("model.safetensors"), "cut {cut}: {e}");
    }
    // Flip bits across the file: loading either fails with an error naming the file or
    // succeeds with finite weights; it never panics.
    for i in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        let mut b = bytes.clone();
        b[i] ^= 0xA5;
        std::fs::write(&p, &b).unwrap();
        match ModelFiles::load_dir(d.path()) {
            Ok(m) => {
                let _ = Segmenter::new(&m).and_then(|s| s.segment("我爱北京"));
            }
            Err(e) => {
                let e = format!("{:#}", anyhow::Error::from(e));
                assert!(
                    e.contains("model.safetensors") || e.contains("config"),
                    "{e}"
                );
            }
        }
    }
}

#[test]
fn an_empty_vocabulary_is_refused() {
    let d = saved();
    std::fs::write(d.path().join("vocab.txt"), "").unwrap();
    let m = ModelFiles::load_dir(d.path()).unwrap();
    let e = Segmenter::new(&m).unwrap_err().to_string();
    assert!(e.contains("vocab"), "{e}");
}

#[test]
fn hostile_text_gets_sane_output() {
    let seg = Segmenter::new(&tiny_model(&LabelScheme::bmes(), 1, 8, 16, 42)).unwrap();
    let big: String = "我爱北京天安门。".repeat(1 << 17); // ~1M chars (3 MB)
    for text in [
        "",
        "   ",
        "\t\n",
        "😀😀👍🏽",
        "\u{0}\u{1}\u{7f}\u{202e}",
        "mixed 中文 English １２３ ΑΒΓ русский",
        &big,
    ] {
        let s = seg.segment(text).unwrap();
        let no_ws: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(s.word_strs().concat(), no_ws);
    }
}

/// From an adversarial pass over the CLI (stop 27): a combining mark stays with its character,
/// a run of digits is one word, `-` is standard input, control characters cannot reach the
/// terminal through `explain`, bad UTF-8 on standard input names its line, `--model` before a
/// command is refused rather than ignored, and an error names its cause once.
#[test]
fn odd_input_from_the_cli_pass() {
    use crate::cli::fenci;
    let home = tempdir();
    let out = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
    let o = fenci(
        &["segment", "--model", "default", "-"],
        "我爱e\u{301}北京\n电话13800138000\n".as_bytes(),
        home.path(),
    );
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].split(' ').any(|w| w.starts_with("e\u{301}")),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].split(' ').any(|w| w.contains("13800138000")),
        "{}",
        lines[1]
    );

    let o = fenci(
        &["explain", "--model", "default"],
        b"a\x1b[31mb\n",
        home.path(),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        !out(&o).contains('\u{1b}') && out(&o).contains('␛'),
        "{}",
        out(&o)
    );
    let o = fenci(
        &["explain", "--model", "default"],
        b"\xe6\x88\x91\n\xff\n",
        home.path(),
    );
    assert!(err(&o).contains("line 2 is not valid UTF-8"), "{}", err(&o));

    let o = fenci(
        &["--model", "default", "segment"],
        "我\n".as_bytes(),
        home.path(),
    );
    assert!(!o.status.success());
    assert!(
        err(&o).contains("fenci segment --model default"),
        "{}",
        err(&o)
    );
    let o = fenci(&["dict", "add", ""], b"", home.path());
    assert!(err(&o).contains("give the word to add"), "{}", err(&o));
    let o = fenci(&["undo"], b"", home.path());
    let e = err(&o);
    assert_eq!(e.matches("nothing to undo").count(), 1, "{e}");
}

/// More from the CLI pass: an `active` file naming no version is said, not silently ignored;
/// eval refuses an empty gold file and a NaN lexicon weight; --sep with jsonl and shape flags
/// with --init are refused rather than ignored; a bad model file other than config.json is not
/// called a bad config.json.
#[test]
fn flags_and_files_that_were_silently_ignored() {
    use crate::cli::fenci;
    let home = tempdir();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
    std::fs::write(home.path().join("active"), "v9\n").unwrap();
    let o = fenci(&["segment"], "我爱北京\n".as_bytes(), home.path());
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("\"v9\", which is not a model version"),
        "{}",
        err(&o)
    );
    let gold = home.path().join("empty.txt");
    std::fs::write(&gold, "\n\n").unwrap();
    let g = gold.to_str().unwrap();
    let o = fenci(
        &["eval", "--model", "default", "--gold", g],
        b"",
        home.path(),
    );
    assert!(
        !o.status.success() && err(&o).contains("no sentences to score"),
        "{}",
        err(&o)
    );
    let good = home.path().join("gold.txt");
    std::fs::write(&good, "我 爱 北京\n").unwrap();
    let g2 = good.to_str().unwrap();
    let o = fenci(
        &[
            "eval",
            "--gold",
            g2,
            "--lexicon",
            "idioms",
            "--lexicon-weight",
            "NaN",
        ],
        b"",
        home.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("give a weight from 0 to 20"),
        "{}",
        err(&o)
    );
    let o = fenci(
        &["segment", "--format", "jsonl", "--sep", "|"],
        b"",
        home.path(),
    );
    assert!(
        err(&o).contains("--sep is for the text format"),
        "{}",
        err(&o)
    );
    let out = tempdir();
    let x = out.path().join("x");
    let xs = x.to_str().unwrap();
    let o = fenci(
        &[
            "train", "--init", "default", "--layers", "7", "--data", g2, "--out", xs,
        ],
        b"",
        home.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("cannot be used with"), "{}", err(&o));
    assert!(!x.exists());
    let e = fenci::tagger::ModelError::BadConfig {
        path: "m/lexicon.txt".into(),
        message: "the word list is not UTF-8 text".into(),
    };
    assert_eq!(
        e.to_string(),
        "m/lexicon.txt: the word list is not UTF-8 text"
    );
}

#[test]
fn a_route_beside_a_model_with_other_labels_is_refused() {
    // route.json copied by hand next to a model that cannot hand sentences to the built-in one.
    let mut m = tiny_model(&LabelScheme::bi(), 1, 8, 16, 43);
    m.route = Some(fenci::tagger::RouteSpec::built_in(
        -0.5,
        vec!["你好。".into()],
    ));
    let e = Segmenter::new(&m).unwrap_err().to_string();
    assert!(e.contains("route.json") && e.contains("delete"), "{e}");
}
