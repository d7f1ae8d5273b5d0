//! The example ranker's judge on the built-in segmenter: the word must be a word of the
//! sentence (not glued inside another), a lower learner level costs sentences with harder
//! words, and the built-in LM's examples pass the automatic checks the benchmark makes.

use std::sync::atomic::AtomicBool;

use fenci::annotate::{builtin_segmenter, ExampleJudge};
use fenci::explain::Dictionary;
use fenci::generate::{rank, Ask, Generator, Judge, Sampling, Score};

fn judged(word: &str, sentence: &str, level: Option<u8>) -> Score {
    let judge = ExampleJudge::new(builtin_segmenter().unwrap(), Dictionary::embedded(), level);
    let mut sc = rank::text_score(word, sentence, -10.0, 10);
    judge.judge(word, sentence, &mut sc);
    sc
}

fn part(sc: &Score, name: &str) -> f64 {
    sc.parts.iter().find(|p| p.0 == name).map(|p| p.1).unwrap()
}

#[test]
fn the_word_must_be_a_word_of_the_sentence() {
    // The examples: the word glued inside another word.
    for (w, s) in [
        ("学习", "同学习惯早上去跑步。"),
        ("天气", "这天气象预报说明天下雨。"),
        ("生活", "学生活动很多。"),
    ] {
        let sc = judged(w, s, None);
        let why = sc.rejected.unwrap_or_default();
        assert!(why.contains("not a word here"), "{w} in {s}: {why:?}");
    }
    for (w, s) in [
        ("学习", "我们一起学习中文。"),
        ("天气", "今天天气很好。"),
        ("朋友", "我和朋友一起吃饭。"),
    ] {
        let sc = judged(w, s, None);
        assert_eq!(sc.rejected, None, "{w} in {s}: {}", sc.explain());
        assert!(part(&sc, "word") > -0.7, "{w} in {s}: {}", sc.explain());
    }
    // One character inside a longer word is another word.
    for (w, s) in [
        ("比", "你比赛中小一点儿。"),
        ("辆", "车辆巴士每半个小时来一次。"),
    ] {
        let why = judged(w, s, None).rejected.unwrap_or_default();
        assert!(why.contains("not a word here"), "{w} in {s}: {why:?}");
    }
    // A dictionary word the segmenter's standard splits (People's Daily: 没 关系, 感 兴趣,
    // 穿 上) is a word of the sentence when it covers whole words.
    for (w, s) in [
        ("没关系", "别人怎么议论都没关系，做好自己就行。"),
        ("感兴趣", "我对中国历史很感兴趣。"),
        ("穿上", "天冷了，穿上这件毛衣吧。"),
        // After a demonstrative or 一, a piece that is no measure word keeps the word.
        ("没关系", "这没关系，我们再试一次。"),
        ("穿上", "他一穿上大衣就出门了。"),
    ] {
        let sc = judged(w, s, None);
        assert_eq!(sc.rejected, None, "{w} in {s}: {}", sc.explain());
        assert_eq!(part(&sc, "word"), fenci::annotate::SPLIT_WORD, "{w} in {s}");
    }
    // ...but not across a word's edge, and not for a string no dictionary knows.
    for (w, s) in [
        ("穿上", "他穿上衣很好看。"),
        ("大学习", "我们大学习惯早起。"),
        // 家 is the measure word of 两 here: "two families", not 家人 "family members".
        ("家人", "两家人常常相互帮忙，关系特别好。"),
    ] {
        let sc = judged(w, s, None);
        assert!(sc.rejected.is_some(), "{w} in {s}: {}", sc.explain());
    }
    // A numeral, unit or 第 inside a number the segmenter keeps whole is used as a word.
    for (w, s) in [
        ("百", "这本书有三百多页。"),
        ("千", "这个学校有两千个学生。"),
        ("万", "这个城市有三百万人。"),
        ("第", "这是我第一次坐飞机。"),
        ("分", "这次考试小明考了九十五分。"),
    ] {
        let sc = judged(w, s, None);
        assert_eq!(sc.rejected, None, "{w} in {s}: {}", sc.explain());
        assert_eq!(
            part(&sc, "word"),
            fenci::annotate::NUMBER_PART,
            "{w} in {s}"
        );
    }
    // ...but 千万 "by all means" and 万一 "in case" are other words.
    for (w, s) in [
        ("万", "这件事你千万别告诉别人。"),
        ("万", "带上雨伞吧，万一下雨呢？"),
    ] {
        let why = judged(w, s, None).rejected.unwrap_or_default();
        assert!(why.contains("not a word here"), "{w} in {s}: {why:?}");
    }
    // At the head of a longer word: kept, at a cost.
    let sc = judged("朋友", "他是我的好朋友。", None);
    assert_eq!(sc.rejected, None, "{}", sc.explain());
    assert_eq!(part(&sc, "word"), -1.5);
}

#[test]
fn a_lower_level_costs_sentences_with_harder_words() {
    let easy = "我喜欢喝茶。";
    let hard = "我喜欢品尝乌龙茶。";
    let at = |s: &str, l| part(&judged("喜欢", s, Some(l)), "level");
    assert_eq!(at(easy, 1), 0.0, "喝 and 茶 are HSK 1");
    assert!(
        at(hard, 1) < at(hard, 7),
        "{} vs {}",
        at(hard, 1),
        at(hard, 7)
    );
    assert!(at(hard, 2) < at(easy, 2));
    // Unknown words cost the dictionary part.
    let sc = judged("喜欢", "我喜欢吃饭饭饭子。", None);
    assert!(part(&sc, "dictionary") <= 0.0);
}

#[test]
fn built_in_examples_pass_the_automatic_checks() {
    // A few everyday words outside the benchmark list; what `fenci examples` prints.
    let mut g = Generator::embedded().unwrap();
    let judge = ExampleJudge::new(builtin_segmenter().unwrap(), Dictionary::embedded(), None);
    let s = Sampling {
        temperature: 0.8,
        ..Default::default()
    };
    let mut shown = Vec::new();
    for w in ["喜欢", "衣服", "马上"] {
        let (out, _) = g
            .examples_judged(&Ask::new(w, 2), &s, &judge, &AtomicBool::new(false), |_| {})
            .unwrap();
        // Fewer when the LM is not sure of more (never more).
        assert!(out.len() <= 2, "{out:?}");
        shown.extend(out.into_iter().map(|x| (w, x)));
    }
    assert!(
        shown.len() >= 4,
        "the LM is sure of too few examples of everyday words: {shown:?}"
    );
    let mut passing = 0;
    for (w, x) in &shown {
        let sc = judged(w, x, None);
        if sc.rejected.is_none() {
            passing += 1;
        } else {
            eprintln!("{w}: {x} — {}", sc.explain());
        }
    }
    // What is shown has passed the checks (the floor only adds to them).
    assert_eq!(passing, shown.len(), "{shown:?}");
}
