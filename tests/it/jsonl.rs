//! `fenci segment --format jsonl` and `fenci explain`: one JSON object per input line whose
//! words are exactly the plain output's, with offsets that cover the line; the plain-text turn.
use serde_json::Value;

use crate::cli::fenci;
use crate::util::tempdir;

fn jsonl(input: &str) -> Vec<Value> {
    let home = tempdir();
    let o = fenci(
        &["segment", "--model", "default", "--format", "jsonl"],
        input.as_bytes(),
        home.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

fn plain(input: &str) -> Vec<String> {
    let home = tempdir();
    let o = fenci(
        &["segment", "--model", "default"],
        input.as_bytes(),
        home.path(),
    );
    assert!(o.status.success());
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The words of one JSON line, checked for offsets that tile the line's characters (spaces
/// aside) in order.
fn words_of(v: &Value, line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut at = 0;
    let mut out = Vec::new();
    for w in v["words"].as_array().expect("words") {
        let (s, e) = (
            w["start"].as_u64().unwrap() as usize,
            w["end"].as_u64().unwrap() as usize,
        );
        assert!(s >= at && e > s, "offsets in order: {w}");
        assert!(
            chars[at..s].iter().all(|c| c.is_whitespace()),
            "only spaces between words"
        );
        let text: String = chars[s..e].iter().collect();
        assert_eq!(w["text"], text.as_str(), "offsets point at the word");
        out.push(text);
        at = e;
    }
    out
}

#[test]
fn jsonl_has_the_plain_words_one_object_per_line() {
    let input = "我觉得很累，想睡觉。\n\n南京市长江大桥\nhello world 🙂\n你长得真好看。";
    let lines: Vec<&str> = input.lines().collect();
    let objs = jsonl(input);
    let words = plain(input);
    assert_eq!(objs.len(), lines.len());
    for (i, ((o, line), p)) in objs.iter().zip(&lines).zip(&words).enumerate() {
        assert_eq!(o["line"], i + 1);
        assert_eq!(words_of(o, line).join(" "), *p);
    }
    let w0 = &objs[0]["words"][0];
    assert_eq!(w0["text"], "我");
    assert_eq!(w0["pinyin"], "wǒ");
    assert!(w0["gloss"].as_str().unwrap().contains('I'));
    let p = w0["split_after"].as_f64().expect("a boundary probability");
    assert!((0.0..=1.0).contains(&p));
    let last = objs[0]["words"].as_array().unwrap().last().unwrap().clone();
    assert!(last["split_after"].is_null(), "nothing after the last word");
    assert!(
        objs[1]["words"].as_array().unwrap().is_empty(),
        "an empty line stays an object"
    );
    assert!(objs[0]["alternatives"].is_array());
}

#[test]
fn a_long_line_is_still_one_object_with_line_offsets() {
    // Over 64 KB: segmented piece by piece, written as one object whose offsets run on.
    let sentence = "我们今天在北京大学学习汉语，老师说我们进步很快。";
    let line = sentence.repeat(1000);
    let input = format!("{line}\n你好\n");
    let objs = jsonl(&input);
    assert_eq!(objs.len(), 2);
    let got = words_of(&objs[0], &line);
    assert_eq!(got.concat(), line);
    assert_eq!(got.join(" "), plain(&input)[0]);
    assert_eq!(objs[1]["line"], 2);
}

#[test]
fn explain_prints_the_turn_and_each_word() {
    let home = tempdir();
    let o = fenci(
        &[
            "explain",
            "--model",
            "default",
            "--width",
            "60",
            "我爱北京。",
        ],
        b"",
        home.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(
        s.lines()
            .any(|l| l.trim_start().starts_with("我") && l.contains('│')),
        "{s}"
    );
    assert!(
        s.lines()
            .any(|l| l.trim_start().starts_with("北京  Běijīng  Beijing")),
        "{s}"
    );
    assert!(s.lines().all(|l| !l.contains('\u{1b}')), "no colour codes");
}
