//! The `fenci` binary: segment, eval (cross-checked against shared/tools/score.py), train, help.
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use fenci::tagger::LabelScheme;

use crate::util::{tempdir, tiny_model, toy_corpus, write_model};

pub fn fenci(args: &[&str], stdin: &[u8], home: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fenci"))
        .args(args)
        .env("FENCI_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fenci");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn help_teaches_the_commands() {
    use clap::CommandFactory;
    fenci::cli::Cli::command().debug_assert();
    let home = tempdir();
    let o = fenci(&["--help"], b"", home.path());
    let s = stdout(&o);
    for cmd in ["segment", "eval", "train"] {
        assert!(s.contains(cmd), "{s}");
    }
    assert!(s.contains("我爱北京天安门"), "help shows an example: {s}");
}

#[test]
fn segment_keeps_lines_and_empty_lines() {
    let home = tempdir();
    let o = fenci(
        &["segment"],
        "我爱北京天安门\n\n  \nabc，１２３\r\n".as_bytes(),
        home.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out:?}");
    assert_eq!(lines[0].replace(' ', ""), "我爱北京天安门");
    assert_eq!(lines[1], "");
    assert_eq!(lines[2], "");
    assert_eq!(lines[3].replace(' ', ""), "abc，１２３");
}

#[test]
fn segment_takes_a_precision_and_refuses_unknown_ones() {
    let home = tempdir();
    let input = "我爱北京天安门\n今天天气很好\n".as_bytes();
    let f32_out = fenci(&["segment", "-m", "default"], input, home.path());
    let bf16 = fenci(
        &["segment", "-m", "default", "--precision", "bf16"],
        input,
        home.path(),
    );
    assert!(
        bf16.status.success(),
        "{}",
        String::from_utf8_lossy(&bf16.stderr)
    );
    // Where the CPU lacks AVX512-BF16 it says so and segments in F32; either way the words of
    // these sentences are the same.
    assert_eq!(stdout(&bf16), stdout(&f32_out));
    // eval says which precision ran.
    let dir = tempdir();
    let gold = dir.path().join("gold.txt");
    std::fs::write(&gold, "我 爱 北京 天安门\n").unwrap();
    let gold = gold.to_str().unwrap();
    let ran_bf16 = bf16.stderr.is_empty();
    let eval = fenci(
        &[
            "eval",
            "-m",
            "default",
            "--precision",
            "bf16",
            "--gold",
            gold,
        ],
        b"",
        home.path(),
    );
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    assert_eq!(
        stdout(&eval).contains("model: default (bf16)"),
        ran_bf16,
        "{}",
        stdout(&eval)
    );
    let bad = fenci(&["segment", "--precision", "int4"], input, home.path());
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("f32") && err.contains("bf16"), "{err}");
}

#[test]
fn segment_reports_invalid_utf8_with_its_line() {
    let home = tempdir();
    let o = fenci(
        &["segment"],
        b"\xe4\xbd\xa0\xe5\xa5\xbd\nok\n\xff\xfe bad\n",
        home.path(),
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 3") && err.contains("UTF-8"), "{err}");
}

#[test]
fn eval_agrees_with_the_reference_scorer() {
    let dir = tempdir();
    let model = dir.path().join("model");
    write_model(&tiny_model(&LabelScheme::bmes(), 1, 16, 32, 31), &model);
    let gold = dir.path().join("gold.txt");
    let train = dir.path().join("train.txt");
    let corpus = toy_corpus(40);
    let lines =
        |c: &[Vec<String>]| c.iter().map(|w| w.join(" ")).collect::<Vec<_>>().join("\n") + "\n";
    std::fs::write(&gold, lines(&corpus[20..])).unwrap();
    std::fs::write(&train, lines(&corpus[..20])).unwrap();
    let pred = dir.path().join("pred.txt");
    let o = fenci(
        &[
            "eval",
            "--model",
            model.to_str().unwrap(),
            "--gold",
            gold.to_str().unwrap(),
            "--train",
            train.to_str().unwrap(),
            "--output",
            pred.to_str().unwrap(),
        ],
        b"",
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("P=")
            && last.contains(" F1=")
            && last.contains(" OOV-R=")
            && last.contains(" chars/s="),
        "{last}"
    );
    let field = |line: &str, key: &str| -> String {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key} missing in {line}"))
            .to_string()
    };
    let scorer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/score.py");
    if !scorer.is_file() {
        eprintln!("skipping the cross-check: {} not found", scorer.display());
        return;
    }
    let py = Command::new("python3")
        .arg(&scorer)
        .args([&gold, &pred])
        .arg("--train")
        .arg(&train)
        .output()
        .expect("python3");
    let reference = String::from_utf8(py.stdout).unwrap();
    for (ours, theirs) in [
        ("P=", "P="),
        ("R=", "R="),
        ("F1=", "F1="),
        ("OOV-R=", "OOV_R="),
    ] {
        assert_eq!(
            field(last, ours),
            field(&reference, theirs),
            "{last} vs {reference}"
        );
    }
}

#[test]
fn train_writes_a_loadable_model() {
    let dir = tempdir();
    // The data directory apart from the outputs: train --out refuses a path inside it.
    let home = tempdir();
    let data = dir.path().join("train.txt");
    let corpus = toy_corpus(30);
    std::fs::write(
        &data,
        corpus
            .iter()
            .map(|w| w.join(" "))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let vocab = dir.path().join("vocab.txt");
    std::fs::write(&vocab, crate::util::vocab_txt()).unwrap();
    let out = dir.path().join("m");
    let o = fenci(
        &[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--dev",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--vocab",
            vocab.to_str().unwrap(),
            "--layers",
            "1",
            "--hidden",
            "16",
            "--heads",
            "2",
            "--max-positions",
            "32",
            "--epochs",
            "2",
            "--trim-vocab",
            "1",
        ],
        b"",
        home.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("dev F1"), "{err}");
    let o = fenci(
        &["segment", "--model", out.to_str().unwrap()],
        "我爱北京\n".as_bytes(),
        home.path(),
    );
    assert!(o.status.success());
    assert_eq!(stdout(&o).replace(' ', ""), "我爱北京\n");
    // the trimmed vocabulary keeps only what the data uses (plus specials and ASCII)
    let v = std::fs::read_to_string(out.join("vocab.txt")).unwrap();
    assert!(v.lines().any(|l| l == "爱") && !v.lines().any(|l| l == "军"));
}

#[test]
fn train_mlm_text_pretrains_a_tagger_that_train_init_fine_tunes() {
    let dir = tempdir();
    // The data directory apart from the outputs: train --out refuses a path inside it.
    let home = tempdir();
    let raw = dir.path().join("raw.txt");
    let gold = dir.path().join("gold.txt");
    let corpus = toy_corpus(30);
    let lines = |sep: &str| {
        corpus
            .iter()
            .map(|w| w.join(sep))
            .collect::<Vec<_>>()
            .join("\n")
    };
    std::fs::write(&raw, lines("")).unwrap();
    std::fs::write(&gold, lines(" ")).unwrap();
    let vocab = dir.path().join("vocab.txt");
    std::fs::write(&vocab, crate::util::vocab_txt()).unwrap();
    let pre = dir.path().join("pre");
    let p = |x: &std::path::PathBuf| x.to_str().unwrap().to_string();
    let (raw_s, gold_s, pre_s, vocab_s) = (p(&raw), p(&gold), p(&pre), p(&vocab));
    let small = ["--layers", "1", "--hidden", "16", "--heads", "2"];
    let mut args = vec![
        "train",
        "--mlm-text",
        &raw_s,
        "--dev",
        &raw_s,
        "--out",
        &pre_s,
    ];
    args.extend([
        "--vocab",
        &vocab_s,
        "--max-positions",
        "32",
        "--epochs",
        "2",
    ]);
    args.extend(small);
    let o = fenci(&args, b"", home.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("dev perplexity"), "{err}");
    assert!(pre.join("config.json").is_file());
    let tuned = p(&dir.path().join("tuned"));
    let o = fenci(
        &[
            "train", "--init", &pre_s, "--data", &gold_s, "--out", &tuned, "--epochs", "1",
        ],
        b"",
        home.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Raw text and gold data are two different runs.
    let o = fenci(
        &["train", "--mlm-text", &raw_s, "--data", &gold_s],
        b"",
        home.path(),
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn train_without_data_or_corrections_says_what_to_do() {
    let home = tempdir();
    let o = fenci(&["train"], b"", home.path());
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no corrections yet"));
}

#[test]
fn examples_are_reproducible_and_contain_the_word() {
    let home = tempdir();
    let run = |args: &[&str]| {
        let o = fenci(args, b"", home.path());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        stdout(&o)
    };
    let a = run(&[
        "examples",
        "学习",
        "-n",
        "3",
        "--seed",
        "5",
        "--temperature",
        "0.9",
    ]);
    let b = run(&[
        "examples",
        "学习",
        "-n",
        "3",
        "--seed",
        "5",
        "--temperature",
        "0.9",
    ]);
    assert_eq!(a, b, "the same seed gave different sentences");
    assert_eq!(a.lines().count(), 3, "{a}");
    for l in a.lines() {
        assert!(l.contains("学习"), "{l:?} lacks the word");
    }
    // Temperature 0: greedy, the same whatever the seed.
    let g1 = run(&[
        "examples",
        "朋友",
        "-n",
        "1",
        "--temperature",
        "0",
        "--seed",
        "1",
    ]);
    let g2 = run(&[
        "examples",
        "朋友",
        "-n",
        "1",
        "--temperature",
        "0",
        "--seed",
        "2",
    ]);
    assert_eq!(g1, g2);
    assert!(g1.contains("朋友"));
    // Timing on request.
    let o = fenci(
        &["examples", "朋友", "-n", "1", "--stats"],
        b"",
        home.path(),
    );
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("tokens/s") && e.contains("first example:"),
        "{e}"
    );
    // Each ranked example says why it was chosen.
    assert!(e.contains("score ") && e.contains("lm "), "{e}");
    // A learner level is taken (and changes nothing about the word being there).
    let l = run(&["examples", "朋友", "-n", "2", "--level", "2"]);
    assert_eq!(l.lines().count(), 2, "{l}");
    assert!(l.lines().all(|x| x.contains("朋友")), "{l}");
}

#[test]
fn the_repeat_penalty_does_not_keep_the_lm_from_writing_the_word() {
    // The keyword prompt holds the word; a penalty that counted the prompt pushed every
    // candidate away from it (with a strong one no sentence was written freely: only built
    // around the word, and unsure).
    let home = tempdir();
    for w in ["学习", "朋友", "天气"] {
        let o = fenci(
            &[
                "examples",
                w,
                "-n",
                "2",
                "-t",
                "0",
                "--repeat-penalty",
                "2",
                "--stats",
            ],
            b"",
            home.path(),
        );
        let (out, e) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        assert!(o.status.success(), "{w}: {e}");
        assert!(
            out.lines().count() >= 1 && out.lines().all(|l| l.contains(w)),
            "{out}"
        );
        assert!(
            !e.contains("around"),
            "{w}: written freely, not around the word: {e}"
        );
    }
}

#[test]
fn examples_errors_say_what_to_do() {
    let home = tempdir();
    // A character the built-in LM never saw.
    let o = fenci(&["examples", "\u{9fff}"], b"", home.path());
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("does not know") && e.contains("--lm"), "{e}");
    // Out-of-range settings.
    let o = fenci(&["examples", "学习", "--temperature=-1"], b"", home.path());
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("temperature"));
    // A directory that is not an LM.
    let bad = tempdir();
    std::fs::write(bad.path().join("config.json"), r#"{"model_type": "bert"}"#).unwrap();
    let o = fenci(
        &["examples", "学习", "--lm", bad.path().to_str().unwrap()],
        b"",
        home.path(),
    );
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not supported"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// An LM whose floor nothing reaches: `fenci examples` prints no sentence, says on stderr that it
/// is not sure (with its best try and what to change) and exits 1; with one shown it exits 0.
#[test]
fn examples_say_when_they_are_not_sure() {
    use fenci::lm::embedded as lm;
    let home = tempdir();
    let dir = tempdir();
    let mut config: serde_json::Value = serde_json::from_str(lm::CONFIG).unwrap();
    config[fenci::lm::EXAMPLE_FLOOR] = 1.0.into();
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), lm::TOKENIZER).unwrap();
    std::fs::write(dir.path().join("model.safetensors"), lm::WEIGHTS).unwrap();
    let lm_dir = dir.path().to_str().unwrap();
    let o = fenci(
        &[
            "examples",
            "朋友",
            "-n",
            "2",
            "--temperature",
            "0",
            "--lm",
            lm_dir,
        ],
        b"",
        home.path(),
    );
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert_eq!(stdout(&o), "");
    assert!(
        e.contains("not sure of more examples of 朋友 (0 of 2 shown)")
            && e.contains("its best try")
            && e.contains("more --candidates may find one")
            && !e.contains("lower --temperature"),
        "{e}"
    );
    // The built-in floor: what is shown passes it (--stats shows each lm part).
    let o = fenci(
        &[
            "examples",
            "朋友",
            "-n",
            "2",
            "--temperature",
            "0",
            "--stats",
        ],
        b"",
        home.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let e = String::from_utf8_lossy(&o.stderr);
    let floor = fenci::lm::example_floor(&fenci::lm::LmFiles::embedded().unwrap()).unwrap();
    let shown = stdout(&o).lines().count();
    let lms: Vec<f64> = e
        .lines()
        .filter(|l| l.starts_with("  score") && !l.contains("rejected"))
        .map(|l| {
            let v = l.split(" · lm ").nth(1).unwrap().split(' ').next().unwrap();
            v.parse::<f64>().unwrap()
        })
        .collect();
    assert_eq!(lms.len(), shown, "{e}");
    assert!(
        shown >= 1 && lms.iter().all(|&x| x >= floor),
        "{lms:?} vs {floor}: {e}"
    );
}

/// `fenci examples` refuses what the app refuses (`/temp 5`, `/examples W 21`), in the same
/// words, before loading any model.
#[test]
fn examples_limits_are_the_apps() {
    let home = tempdir();
    for (args, msg) in [
        (
            &["examples", "学习", "--temperature", "3"][..],
            fenci::generate::parse_temperature("3").unwrap_err(),
        ),
        (
            &["examples", "学习", "-n", "50"][..],
            fenci::generate::parse_examples("50").unwrap_err(),
        ),
        (
            &["examples", "学习", "--level", "10"][..],
            fenci::generate::parse_level("10").unwrap_err(),
        ),
        (
            &["examples", "学习", "--candidates", "0"][..],
            fenci::generate::parse_candidates("0").unwrap_err(),
        ),
        (
            &["examples", "学习", "--top-p", "0"][..],
            fenci::generate::parse_top_p("0").unwrap_err(),
        ),
    ] {
        let o = fenci(args, b"", home.path());
        assert!(!o.status.success(), "{args:?} was accepted");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(&msg), "{args:?}: {e}");
    }
}

/// `fenci dict add` adds every word, and a single character only with --force (the rule the
/// app's `/dict add` follows).
#[test]
fn dict_add_adds_every_word_and_asks_for_single_characters() {
    let home = tempdir();
    let o = fenci(&["dict", "add", "一起", "一"], b"", home.path());
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("single character") && e.contains("--force"),
        "{e}"
    );
    let o = fenci(&["dict", "list"], b"", home.path());
    assert_eq!(stdout(&o), "", "nothing added");
    let o = fenci(&["dict", "add", "一起", "一定"], b"", home.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = fenci(&["dict", "add", "--force", "一"], b"", home.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = fenci(&["dict", "list"], b"", home.path());
    assert_eq!(stdout(&o), "一起\n一定\n一\n");
    let o = fenci(&["dict", "rm", "一", "一定"], b"", home.path());
    assert!(o.status.success());
    let o = fenci(&["dict", "list"], b"", home.path());
    assert_eq!(stdout(&o), "一起\n");
}
