//! Corrections, the user dictionary, training on corrections, versions and undo.
use std::process::Command;
use std::time::Duration;

use fenci::segment::Segmenter;
use fenci::store::{CorrectionStore, UserDict, Versions};
use fenci::tagger::ModelFiles;

use crate::cli::fenci;
use crate::util::tempdir;

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

#[test]
fn a_torn_last_line_is_skipped_and_the_next_append_is_clean() {
    let d = tempdir();
    let store = CorrectionStore::new(d.path());
    store
        .append(words("我 爱 北京"), vec![], "default")
        .unwrap();
    store
        .append(words("天安门 广场"), vec![], "default")
        .unwrap();
    // Simulate a crash mid-write: half a record, no newline.
    let mut bytes = std::fs::read(store.path()).unwrap();
    bytes.extend_from_slice(r#"{"id":3,"time":1,"sentence":"半"#.as_bytes());
    std::fs::write(store.path(), &bytes).unwrap();
    let l = store.load().unwrap();
    assert_eq!(l.records.len(), 2);
    assert_eq!(l.warnings.len(), 1);
    assert!(l.warnings[0].contains("incomplete"), "{:?}", l.warnings);
    let c = store.append(words("新 记录"), vec![], "default").unwrap();
    assert_eq!(c.id, 3);
    let l = store.load().unwrap();
    assert_eq!(
        l.records.iter().map(|c| c.id).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        l.warnings.len(),
        1,
        "the torn line stays a single skipped line"
    );
}

#[test]
fn concurrent_appends_never_interleave_or_reuse_ids() {
    let d = tempdir();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let dir = d.path().to_path_buf();
            std::thread::spawn(move || {
                let store = CorrectionStore::new(&dir);
                for i in 0..25 {
                    store
                        .append(vec![format!("线{t}"), format!("程{i}")], vec![], "default")
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // and from processes at the same time
    let procs: Vec<_> = (0..4)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_fenci"))
                .args(["correct", &format!("进程 {i}")])
                .env("FENCI_HOME", d.path())
                .output()
        })
        .collect();
    for p in procs {
        assert!(p.unwrap().status.success());
    }
    let l = CorrectionStore::new(d.path()).load().unwrap();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert_eq!(l.records.len(), 204);
    let mut ids: Vec<u64> = l.records.iter().map(|c| c.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 204);
}

#[test]
fn dictionary_words_are_forced() {
    let d = tempdir();
    assert!(UserDict::add(d.path(), "北京天安门").unwrap());
    assert!(!UserDict::add(d.path(), "北京天安门").unwrap());
    assert!(UserDict::add(d.path(), "有 空格").is_err());
    let o = fenci(&["segment"], "我爱北京天安门\n".as_bytes(), d.path());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "我 爱 北京天安门"
    );
    // --model default bypasses the user dictionary
    let o = fenci(
        &["segment", "--model", "default"],
        "我爱北京天安门\n".as_bytes(),
        d.path(),
    );
    assert_ne!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "我 爱 北京天安门"
    );
    assert!(UserDict::remove(d.path(), "北京天安门").unwrap());
    assert!(UserDict::load(d.path()).is_empty());
}

#[test]
fn training_on_corrections_learns_them_and_undo_is_exact() {
    let d = tempdir();
    let fixes = [
        "中国人民银行 宣布 下调 存款 利率",
        "这 部 手机 的 续航 很 给力",
        "我们 去 奥林匹克公园 散步",
        // Two corrections that split 一个 (the built-in model joins it): a rule of v1.
        "我 买 了 一 个 苹果",
        "他 是 一 个 好人",
    ];
    for f in fixes {
        let o = fenci(&["correct", f], b"", d.path());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let input: String = fixes.iter().map(|f| f.replace(' ', "") + "\n").collect();
    let before = fenci(&["segment"], input.as_bytes(), d.path()).stdout;
    let o = fenci(&["train"], b"", d.path());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("5/5 exactly as corrected"), "{out}");
    assert!(
        out.contains("rules from your corrections") && out.contains("): 一个 → 一 个 (2×)\n"),
        "{out}"
    );
    let after = String::from_utf8_lossy(&fenci(&["segment"], input.as_bytes(), d.path()).stdout)
        .into_owned();
    assert_eq!(after.lines().collect::<Vec<_>>(), fixes);
    let versions = Versions::new(d.path());
    assert_eq!(versions.active(), "v1");
    routes_news_to_the_built_in_model(&versions.path("v1"), &fixes, d.path());
    let o = fenci(&["models"], b"", d.path());
    let listed = String::from_utf8_lossy(&o.stdout);
    assert!(
        listed.contains("(active; hands news-like text to the built-in model)"),
        "{listed}"
    );
    let o = fenci(&["corrections"], b"", d.path());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout)
            .matches("trained")
            .count(),
        5
    );
    // undo: back to the built-in model, bit for bit
    assert!(fenci(&["undo"], b"", d.path()).status.success());
    assert_eq!(versions.active(), "default");
    assert_eq!(
        fenci(&["segment"], input.as_bytes(), d.path()).stdout,
        before
    );
    let (_, active) = fenci::service::Service::new(d.path())
        .load_active()
        .unwrap();
    let emb = ModelFiles::embedded().unwrap();
    let a = Segmenter::new(&active)
        .unwrap()
        .segment("中国人民银行宣布下调存款利率")
        .unwrap();
    let b = Segmenter::new(&emb)
        .unwrap()
        .segment("中国人民银行宣布下调存款利率")
        .unwrap();
    assert_eq!(a.log_probs, b.log_probs);
    // and the corrections are all still there
    assert_eq!(
        CorrectionStore::new(d.path()).load().unwrap().records.len(),
        5
    );
}

/// A trained version keeps its corrected sentences in route.json and hands sentences that read
/// like the built-in model's news text back to it; a damaged route.json is refused clearly.
fn routes_news_to_the_built_in_model(v1: &std::path::Path, fixes: &[&str], data: &std::path::Path) {
    let files = ModelFiles::load_dir(v1).unwrap();
    let spec = files.route.as_ref().expect("a trained version has a route");
    let joined: Vec<String> = fixes.iter().map(|f| f.replace(' ', "")).collect();
    assert_eq!(spec.domain, joined);
    assert_eq!(
        spec.rules
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>(),
        ["一个"]
    );
    let routed = Segmenter::new(&files).unwrap();
    let built_in = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    let news = "国务院总理李鹏今天在人民大会堂会见了来访的外国代表团。";
    assert!(routed.routes_to_base(news));
    // Every corrected sentence is the new weights', however it reads.
    assert!(joined.iter().all(|j| !routed.routes_to_base(j)));
    let lines = [news, &joined[0], "新华社北京一月五日电", &joined[1]];
    let batch = routed.segment_batch(&lines).unwrap();
    // The lines it hands over come back exactly as the built-in model gives them (batched the
    // same way), in their places.
    let handed: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| routed.routes_to_base(l))
        .collect();
    assert_eq!(handed.len(), 2, "{handed:?}");
    let mut from_base = built_in.segment_batch(&handed).unwrap().into_iter();
    for (line, s) in lines.iter().zip(&batch) {
        assert_eq!(s.text, *line);
        if routed.routes_to_base(line) {
            assert_eq!(s.log_probs, from_base.next().unwrap().log_probs, "{line}");
        }
    }
    assert_eq!(batch[1].word_strs(), words(fixes[0]));
    assert_eq!(batch[3].word_strs(), words(fixes[1]));
    // JSON lines say which model segmented each line; the built-in model's lines have none.
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let models = |model: &str| -> Vec<Option<String>> {
        let o = fenci(
            &["segment", "--format", "jsonl", "--model", model],
            input.as_bytes(),
            data,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.get("model").and_then(|m| m.as_str()).map(str::to_string)
            })
            .collect()
    };
    let expect: Vec<Option<String>> = ["built-in", "trained", "built-in", "trained"]
        .iter()
        .map(|m| Some(m.to_string()))
        .collect();
    assert_eq!(models("v1"), expect);
    assert_eq!(models("default"), vec![None; 4]);
    // So do the app's full view and `fenci explain`.
    let said = |line: &str| {
        let o = fenci(&["explain", "--model", "v1", line], b"", data);
        String::from_utf8_lossy(&o.stdout).contains("segmented by the built-in model")
    };
    assert!(said(news));
    assert!(!said(&joined[0]));
    // A damaged route.json: a clear error that says what to do, and the file is left alone.
    let rp = v1.join("route.json");
    let good = std::fs::read(&rp).unwrap();
    std::fs::write(&rp, b"{\"format\": 1, \"base\": ").unwrap();
    let o = fenci(&["segment"], "你好\n".as_bytes(), data);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("route.json") && err.contains("delete"),
        "{err}"
    );
    assert_eq!(std::fs::read(&rp).unwrap(), b"{\"format\": 1, \"base\": ");
    std::fs::write(&rp, good).unwrap();
}

#[test]
fn kill_9_during_training_leaves_a_loadable_model_and_every_correction() {
    let d = tempdir();
    for f in [
        "中国人民银行 宣布 下调 存款 利率",
        "这 部 手机 的 续航 很 给力",
    ] {
        assert!(fenci(&["correct", f], b"", d.path()).status.success());
    }
    // Kill at several points: early (loading), mid-training, late (while writing the version).
    for (i, ms) in [50u64, 400, 1500, 3000, 4500, 6000].into_iter().enumerate() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fenci"))
            .arg("train")
            .env("FENCI_HOME", d.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let (name, files) = fenci::service::Service::new(d.path())
            .load_active()
            .unwrap_or_else(|e| panic!("iteration {i}: active model not loadable: {e}"));
        Segmenter::new(&files).unwrap().segment("我爱北京").unwrap();
        let l = CorrectionStore::new(d.path()).load().unwrap();
        assert_eq!(l.records.len(), 2, "iteration {i} ({name})");
        // every complete version directory loads too
        for m in Versions::new(d.path()).list() {
            ModelFiles::load_dir(&Versions::new(d.path()).path(&m.name)).unwrap();
        }
    }
}

#[test]
fn pruned_version_names_are_never_reused() {
    let d = tempdir();
    let versions = Versions::new(d.path());
    assert_eq!(versions.next_name(), "v1");
    // Four versions in a chain, then the two oldest pruned.
    for n in 1..=4 {
        let dir = versions.path(&format!("v{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), "{}").unwrap();
        let meta = fenci::store::VersionMeta {
            name: format!("v{n}"),
            parent: if n == 1 {
                "default".into()
            } else {
                format!("v{}", n - 1)
            },
            ..Default::default()
        };
        std::fs::write(
            dir.join("fenci.json"),
            serde_json::to_string(&meta).unwrap(),
        )
        .unwrap();
    }
    versions.set_active("v4").unwrap();
    versions.prune(2).unwrap();
    let left: Vec<String> = versions.list().into_iter().map(|m| m.name).collect();
    assert_eq!(left, ["v3", "v4"]);
    // v3's parent link still names the pruned v2: a new version must not take that name (or
    // v1's), else undo from v3 would land on an unrelated model.
    assert_eq!(versions.next_name(), "v5");
}

#[test]
fn a_second_training_learns_the_rules_again_from_every_correction() {
    let d = tempdir();
    for f in ["我 买 了 一 个 苹果", "他 是 一 个 好人"] {
        assert!(fenci(&["correct", f], b"", d.path()).status.success());
    }
    assert!(fenci(&["train"], b"", d.path()).status.success());
    // v1 writes its corrected sentences as corrected; the rules of v2 are still learnt against
    // the built-in model, from all three corrections.
    assert!(
        fenci(&["correct", "我们 去 奥林匹克公园 散步"], b"", d.path())
            .status
            .success()
    );
    let o = fenci(&["train"], b"", d.path());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("): 一个 → 一 个 (2×)\n"), "{out}");
    let versions = Versions::new(d.path());
    assert_eq!(versions.active(), "v2");
    let files = ModelFiles::load_dir(&versions.path("v2")).unwrap();
    let rules = &files.route.as_ref().unwrap().rules;
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].words, ["一", "个"]);
}
