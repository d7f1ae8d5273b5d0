//! `fenci review`: a text's sentences in the order worth correcting, as text and as JSON lines.

use crate::cli::fenci;
use crate::util::tempdir;

#[test]
fn review_lists_every_sentence_most_doubtful_first() {
    let home = tempdir();
    let file = home.path().join("text.txt");
    // Line 2 holds two sentences; line 3 is blank.
    std::fs::write(
        &file,
        "我们去公园散步。\n他用iPhone拍了几张照片。房间很干净！\n\n南京市长江大桥很有名。\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = fenci(
        &["review", path, "--model", "default", "--format", "jsonl"],
        b"",
        home.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4, "{rows:?}");
    let mut lines: Vec<u64> = rows.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    lines.sort();
    assert_eq!(lines, vec![1, 2, 2, 4]);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["rank"].as_u64(), Some(i as u64 + 1));
        let d = r["doubt"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&d), "{r}");
        let words: String = r["words"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert_eq!(words, r["sentence"].as_str().unwrap());
    }
    // Different least-sure places, so the order is by doubt alone.
    let doubts: Vec<f64> = rows.iter().map(|r| r["doubt"].as_f64().unwrap()).collect();
    assert!(doubts.windows(2).all(|w| w[0] >= w[1]), "{doubts:?}");
    // -n and the text form: rank, doubt, line, the words with ¦ at the least sure place.
    let out = fenci(
        &["review", path, "--model", "default", "-n", "1"],
        b"",
        home.path(),
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let first = rows[0]["sentence"].as_str().unwrap();
    assert!(
        text.starts_with("   1 ") && text.replace(['¦', ' '], "").contains(first),
        "{text}"
    );
    // A missing file is a clear error.
    let out = fenci(
        &["review", "no-such-file.txt", "--model", "default"],
        b"",
        home.path(),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-file.txt"));
}

#[test]
fn a_rule_from_the_corrections_applies_where_the_model_leaves_the_string_whole() {
    use fenci::segment::Segmenter;
    use fenci::tagger::{ModelFiles, RouteSpec, Rule};
    // The built-in weights as a "fine-tuned" version whose corrections split 一个 every time.
    let mut files = ModelFiles::embedded().unwrap();
    let plain = Segmenter::new(&files).unwrap();
    let own = "房间里只有一个窗户，很小。";
    let crossed = "他是第一个到学校的人。";
    assert!(plain.segment(own).unwrap().word_strs().contains(&"一个"));
    let mut spec = RouteSpec::built_in(-0.75, vec![own.into(), crossed.into()]);
    spec.rules.push(Rule {
        text: "一个".into(),
        words: vec!["一".into(), "个".into()],
        times: 2,
    });
    files.route = Some(spec);
    let routed = Segmenter::new(&files).unwrap();
    let words = routed.segment(own).unwrap().word_strs().join(" ");
    assert!(words.contains("一 个 窗户"), "{words}");
    // Where the model's words cross the string, the rule does not cut them.
    let before = plain.segment(crossed).unwrap().word_strs().join(" ");
    let after = routed.segment(crossed).unwrap().word_strs().join(" ");
    assert!(before.contains("第一 个"), "{before}");
    assert_eq!(after, before);
    // The user's dictionary wins over a rule: a forced word is not cut.
    let mut with_dict = routed.clone();
    with_dict.set_dict(vec!["一个".into()]);
    let words = with_dict.segment(own).unwrap().word_strs().join(" ");
    assert!(words.contains("一个 窗户"), "{words}");
    // The same words at another display temperature (what `eval --calibration` re-decodes).
    let s = routed.segment(own).unwrap();
    assert_eq!(routed.at_temperature(&s, 2.0).word_strs(), s.word_strs());
    // The built-in model behind the route never uses the rules (news goes to it).
    let news = "中共中央总书记江泽民会见了一个代表团。";
    assert!(routed.routes_to_base(news));
    assert_eq!(
        routed.segment(news).unwrap().word_strs(),
        plain.segment(news).unwrap().word_strs()
    );
}
