//! Set phrases that People's Daily's standard (which the built-in model follows) writes as two
//! or three words and a learner knows as one: 如果下雨的话 is 的 话 to the segmenter, and 话
//! alone would be explained as "dialect; speech"; 看 起来 is "to look" + "to stand up". Such
//! a run of words gets the phrase's own explanation beside the words' (as names across words
//! do: [`super::names_across`]), so the learner sees 的话 "if (coming after a conditional
//! clause)".
//!
//! Only a short list of phrases, each with the context it needs: a run of adjacent words that
//! merely spells a dictionary word is no phrase (一 个 人 is not 个人 "individual"), and
//! 老师 的 话 is "the teacher's words", not "if".

use std::ops::Range;

use super::dictionary::Dictionary;
use super::explanation::{explain, runs_across, Explanation};
use crate::text::is_han;

/// When a phrase counts.
#[derive(Clone, Copy)]
enum When {
    /// Wherever its words stand together.
    Always,
    /// After 如果, 要是 (or 要 是), 假如 … earlier in the sentence (如果下雨的话).
    AfterIf,
    /// Opening a clause: first in the sentence or after punctuation (没关系！, not
    /// 跟我没关系 "has nothing to do with me").
    ClauseStart,
}

/// The phrases: text, when it counts, and the headword to explain it by (where CC-CEDICT's
/// entry for the text only points to another: 干吗 → 干嘛).
const PHRASES: &[(&str, When, &str)] = &[
    ("的话", When::AfterIf, "的话"),
    ("看起来", When::Always, "看起来"),
    ("听起来", When::Always, "听起来"),
    ("看上去", When::Always, "看上去"),
    ("想起来", When::Always, "想起来"),
    ("要是", When::Always, "要是"),
    ("干吗", When::Always, "干嘛"),
    ("干嘛", When::Always, "干嘛"),
    ("感兴趣", When::Always, "感兴趣"),
    ("是不是", When::Always, "是不是"),
    ("怎么办", When::Always, "怎么办"),
    ("没关系", When::ClauseStart, "没关系"),
    ("对不起", When::Always, "对不起"),
    ("不一定", When::Always, "不一定"),
];

/// Words that make a clause conditional, for [`When::AfterIf`].
const IF_WORDS: &[&str] = &["如果", "要是", "假如", "假设", "万一", "若", "若是", "如"];

/// Runs of two or three adjacent words of `words` (one sentence) that together are one of
/// the phrases, with the phrase's explanation; never overlapping, leftmost first.
pub fn phrases_across(dict: &Dictionary, words: &[&str]) -> Vec<(Range<usize>, Explanation)> {
    runs_across(words, |i, span| {
        let text = span.concat();
        let &(_, when, head) = PHRASES.iter().find(|p| p.0 == text)?;
        let fits = match when {
            When::Always => true,
            When::AfterIf => {
                let before = &words[..i];
                before.iter().any(|w| IF_WORDS.contains(w))
                    || before.windows(2).any(|p| p == ["要", "是"])
            }
            When::ClauseStart => i == 0 || !words[i - 1].chars().any(is_han),
        };
        if !fits || dict.lookup(head).is_empty() {
            return None;
        }
        let mut e = explain(dict, head);
        e.word = text;
        Some(e)
    })
}

/// Separable verbs (离合词) a learner knows as one word, whose verb and object stand apart when
/// something comes between them (聊了一会儿天, 帮个忙, 洗完澡, 开了两个小时的会) or are written as
/// two words (打 针): each half alone misleads (天 "sky", 忙 "busy", 针 "needle").
const SEPARABLE: &[&str] = &[
    "睡觉", "洗澡", "帮忙", "见面", "聊天", "跑步", "游泳", "唱歌", "跳舞", "生气", "请假", "放假",
    "加班", "打折", "道歉", "排队", "上课", "下课", "上班", "下班", "考试", "毕业", "结婚", "离婚",
    "散步", "开会", "打针", "看病", "照相", "吵架", "打架", "发烧", "报名", "理发", "握手", "出差",
    "请客", "做饭", "点头", "打工", "鞠躬", "操心", "担心", "伤心", "吃亏", "上当", "让步", "过年",
    "放学", "住院", "出院", "录音", "念书", "下雨", "下雪", "下棋",
];

/// Whether `words[j]` may stand between a separable verb's halves: aspect and complements,
/// numbers and measure words, 什么; a pronoun only before 的 (生他的气, not 看他病得很重); 的
/// only after a duration or a pronoun (开了两个小时的会, 生他的气), since 唱的歌 is "the song
/// sung", not "to sing".
fn may_separate(words: &[&str], j: usize) -> bool {
    let (w, prev) = (words[j], words[j - 1]);
    let next = words.get(j + 1).copied().unwrap_or("");
    if w == "的" {
        return prev.ends_with(['时', '天', '年', '月', '钟', '分'])
            || matches!(
                prev,
                "我" | "你" | "他" | "她" | "我们" | "你们" | "他们" | "她们"
            );
    }
    if matches!(w, "我" | "你" | "他" | "她") {
        return next == "的";
    }
    matches!(
        w,
        "了" | "过"
            | "着"
            | "完"
            | "好"
            | "个"
            | "一"
            | "一个"
            | "一下"
            | "一会儿"
            | "一次"
            | "什么"
            | "不"
            | "得"
            | "起"
            | "上"
            | "成"
            | "到"
            | "半天"
            | "几"
            | "这个"
            | "那个"
            | "我的"
            | "你的"
            | "他的"
            | "她的"
    ) || (!w.is_empty()
        && w.chars()
            .all(|c| "一二三四五六七八九十两几半百千万个次回天场顿小时分钟".contains(c)))
}

/// A word of numerals only (一, 两, 三十): an object right after one has no measure word
/// between (又过了一年 is a year passing, not 过年).
fn is_bare_numeral(w: &str) -> bool {
    !w.is_empty()
        && w.chars()
            .all(|c| "一二三四五六七八九十两几百千万".contains(c))
}

/// Whether `w` is the object half `obj` of `verb`, or for rain and snow the object with 大/小
/// before it (下 大雨, 下 了 一 场 小雪; but 上 小班 is not 上班).
fn is_object(w: &str, obj: &str, verb: &str) -> bool {
    w == obj
        || (matches!(verb, "下雨" | "下雪")
            && w.chars().count() == 2
            && w.ends_with(obj)
            && (w.starts_with('大') || w.starts_with('小')))
}

/// Separable verbs across words (see [`SEPARABLE`]): the run from the verb to its object, with
/// the verb's explanation (its `word` the joined verb).
pub fn separable_across(dict: &Dictionary, words: &[&str]) -> Vec<(Range<usize>, Explanation)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let found = SEPARABLE.iter().find_map(|v| {
            let (head, obj) = v.split_at(v.char_indices().nth(1)?.0);
            if words[i] != head {
                return None;
            }
            let j = (i + 1..words.len().min(i + 7))
                .take_while(|&j| is_object(words[j], obj, v) || may_separate(words, j))
                .find(|&j| is_object(words[j], obj, v))?;
            if j > i + 1 && is_bare_numeral(words[j - 1]) {
                return None;
            }
            (!dict.lookup(v).is_empty()).then_some((i..j + 1, *v))
        });
        match found {
            Some((r, v)) => {
                let mut e = explain(dict, v);
                e.word = v.to_string();
                i = r.end;
                out.push((r, e));
            }
            None => i += 1,
        }
    }
    out
}

/// The one-character halves of a word split across other words (a separable verb, 的…话) read
/// as in the whole word, with no other readings (觉 in 睡不着觉 is jiào, 当 in 上了他的当 dàng),
/// and mean what it means: each half's gloss is the word's (打 in 打完折: "打折: to give a
/// discount").
/// `together` is [`together`]'s answer for `words`; `explanations` are the words' own.
pub fn settle_halves(
    dict: &Dictionary,
    words: &[&str],
    explanations: &mut [Explanation],
    together: &[(Range<usize>, Explanation)],
) {
    for (r, e) in together {
        let (Some(first), Some(last)) = (
            words.get(r.start),
            r.end.checked_sub(1).and_then(|j| words.get(j)),
        ) else {
            continue;
        };
        let one = |w: &str| w.chars().count() == 1;
        if r.len() < 2 || !one(first) || !one(last) || format!("{first}{last}") != e.word {
            continue;
        }
        let Some(entry) = e.entries.get(e.chosen) else {
            continue;
        };
        if let [a, b] = entry.pinyin_numbered.split_whitespace().collect::<Vec<_>>()[..] {
            for (i, syllable) in [(r.start, a), (r.end - 1, b)] {
                if let Some(ex) = explanations.get_mut(i) {
                    super::context::settle_reading(dict, ex, syllable);
                }
            }
        }
        // Each half means what the whole word means (打 in 打完折 is not "to beat", 班 in
        // 加了五次班 not "team"): its gloss is the word's, named. Not where the object is
        // counted with 个 by more than one (又加了两个班 added two classes: the pair may be a verb
        // and a noun of its own).
        let counted = |j: usize| {
            let w = |k: usize| words.get(k).copied().unwrap_or("");
            let more_than_one = |n: &str| is_bare_numeral(n) && n != "一";
            j >= 1
                && (w(j - 1).strip_suffix('个').is_some_and(more_than_one)
                    || (w(j - 1) == "个" && j >= 2 && more_than_one(w(j - 2))))
        };
        if !e.gloss.is_empty() && !e.from_chars && !counted(r.end - 1) {
            for i in [r.start, r.end - 1] {
                if let Some(ex) = explanations.get_mut(i) {
                    ex.gloss = format!("{}: {}", e.word, e.gloss);
                }
            }
        }
    }
}

/// How a run of words explained together is shown: its words joined by `sep` (习+近平), or, for
/// a separable verb with words between its halves, the halves around an ellipsis (聊…天).
pub fn together_label(parts: &[&str], word: &str, sep: &str) -> String {
    if parts.concat() == word || parts.len() < 2 {
        return parts.join(sep);
    }
    format!("{}…{}", parts[0], parts[parts.len() - 1])
}

/// Names across words ([`super::names_across`]), set phrases ([`phrases_across`]) and
/// separable verbs ([`separable_across`]), in sentence order; where two would cover a word, the
/// name wins, then the phrase.
pub fn together(dict: &Dictionary, words: &[&str]) -> Vec<(Range<usize>, Explanation)> {
    let mut out = super::names_across(dict, words);
    for (r, e) in phrases_across(dict, words)
        .into_iter()
        .chain(separable_across(dict, words))
    {
        if out
            .iter()
            .all(|(n, _)| r.end <= n.start || n.end <= r.start)
        {
            out.push((r, e));
        }
    }
    out.sort_by_key(|(r, _)| r.start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(words: &[&str]) -> Vec<(Range<usize>, String, String)> {
        together(Dictionary::embedded(), words)
            .into_iter()
            .map(|(r, e)| (r, e.word, e.gloss))
            .collect()
    }

    #[test]
    fn split_set_phrases_get_their_own_explanation() {
        let f = found(&[
            "如果", "下雨", "的", "话", "，", "我们", "就", "不", "去", "了",
        ]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].0.clone(), f[0].1.as_str()), (2..4, "的话"));
        assert!(f[0].2.starts_with("if"), "{f:?}");
        let f = found(&["他", "看", "起来", "很", "累"]);
        assert_eq!((f[0].0.clone(), f[0].1.as_str()), (1..3, "看起来"));
        let f = found(&["你", "干", "吗", "不", "去", "？"]);
        assert_eq!(f[0].1, "干吗");
        assert!(f[0].2.contains("what") || f[0].2.contains("why"), "{f:?}");
        let f = found(&["要", "是", "你", "有", "时间", "，", "就", "来", "吧"]);
        assert!(f[0].2.contains("if"), "{f:?}");
        let f = found(&["要", "是", "找", "不到", "路", "的", "话", "，"]);
        let words: Vec<&str> = f.iter().map(|x| x.1.as_str()).collect();
        assert_eq!(words, ["要是", "的话"], "{f:?}");
        let f = found(&["没", "关系", "！"]);
        assert_eq!(f[0].1, "没关系");
    }

    #[test]
    fn a_phrase_needs_its_context() {
        // "the teacher's words", not "if": no conditional before it.
        assert!(found(&["我", "听", "老师", "的", "话", "。"]).is_empty());
        // "has nothing to do with me", not "it doesn't matter".
        assert!(found(&["这", "跟", "我", "没", "关系", "。"]).is_empty());
        // Adjacent words that spell a dictionary word are no phrase: 个人 "individual".
        assert!(found(&["两", "个", "人"]).is_empty());
        // 有 点儿 is not listed: 我还有点儿事 is "have a little matter", not "slightly".
        assert!(found(&["我", "还", "有", "点儿", "事"]).is_empty());
        // Kept whole by the segmenter: explained as a word already.
        assert!(found(&["他", "看起来", "很", "累"]).is_empty());
        assert!(found(&[]).is_empty());
        assert!(found(&["", "的", "话", ""]).is_empty());
    }

    #[test]
    fn separable_verbs_are_explained_across_what_stands_between() {
        let f = found(&["我们", "聊", "了", "一会儿", "天", "。"]);
        assert_eq!((f[0].0.clone(), f[0].1.as_str()), (1..5, "聊天"));
        assert!(f[0].2.starts_with("to chat"), "{f:?}");
        let f = found(&["会议", "开", "了", "两", "个", "小时", "的", "会"]);
        assert_eq!(f[0].1, "开会");
        let f = found(&["打", "完", "针", "以后"]);
        assert_eq!(f[0].1, "打针");
        let f = found(&["别", "生", "他", "的", "气"]);
        assert_eq!(f[0].1, "生气");
        let f = found(&["好像", "要", "下", "大雨", "了"]);
        assert_eq!((f[0].0.clone(), f[0].1.as_str()), (2..4, "下雨"));
        // 唱的歌 is "the song sung"; 天 far away or across a comma is not 聊天's; a year passing,
        // a kindergarten class and a pronoun before an illness are not 过年, 上班, 看病.
        assert!(found(&["又", "过", "了", "一", "年"]).is_empty());
        assert!(found(&["她", "上", "小班"]).is_empty());
        assert!(found(&["我", "看", "他", "病", "得", "很", "重"]).is_empty());
        assert!(found(&["她", "唱", "的", "歌", "很", "好听"]).is_empty());
        assert!(found(&["聊", "，", "天", "黑", "了"]).is_empty());
        assert_eq!(together_label(&["聊", "了", "天"], "聊天", "+"), "聊…天");
        assert_eq!(together_label(&["习", "近平"], "习近平", "+"), "习+近平");
    }

    /// Word `i`'s gloss in `words` before [`settle_halves`].
    fn before_gloss(words: &[&str], i: usize) -> String {
        let ex = super::super::explain_in_context(
            Dictionary::embedded(),
            words,
            &vec![None; words.len()],
        );
        ex[i].gloss.clone()
    }

    #[test]
    fn the_halves_of_a_split_word_take_its_readings_and_meaning() {
        let dict = Dictionary::embedded();
        let read = |words: &[&str]| {
            let mut ex = super::super::explain_in_context(dict, words, &vec![None; words.len()]);
            let before: Vec<(String, Vec<String>)> = ex
                .iter()
                .map(|e| (e.pinyin.clone(), e.other_readings.clone()))
                .collect();
            settle_halves(dict, words, &mut ex, &together(dict, words));
            (before, ex)
        };
        // 觉 alone is jiào or jué; in 睡…觉 it is jiào, and sure.
        let (before, ex) = read(&["我", "睡", "不", "着", "觉", "。"]);
        assert!(
            !before[4].1.is_empty() || before[4].0 != "jiào",
            "{before:?}"
        );
        assert_eq!(
            (ex[4].pinyin.as_str(), ex[4].other_readings.len()),
            ("jiào", 0)
        );
        assert_eq!(ex[1].pinyin, "shuì");
        // 当 after 上…: dàng "to be fooled", whatever it was alone.
        let (_, ex) = read(&["他", "上", "了", "我", "的", "当"]);
        assert_eq!(
            (ex[5].pinyin.as_str(), ex[5].other_readings.len()),
            ("dàng", 0)
        );
        // A name across words (习+近平) and words outside a pair are left as they were.
        let (before, ex) = read(&["习", "近平", "还", "没", "睡", "觉"]);
        assert_eq!(
            (ex[2].pinyin.clone(), ex[2].other_readings.clone()),
            before[2]
        );
        assert_eq!(
            (ex[1].pinyin.clone(), ex[1].other_readings.clone()),
            before[1]
        );
        // Each half means what the word means: 打 in 打完折 is not "to beat", 班 in 加了五次班
        // not "team".
        let (before, ex) = read(&["打", "完", "折", "还要", "三百"]);
        assert!(before[0].0 == "dǎ" && ex[0].gloss == "打折: to give a discount");
        assert_eq!(ex[2].gloss, "打折: to give a discount");
        assert!(ex[1].gloss.starts_with("to finish"), "{}", ex[1].gloss);
        let (_, ex) = read(&["加", "了", "五", "次", "班"]);
        assert!(
            ex[4].gloss.starts_with("加班: to work overtime"),
            "{}",
            ex[4].gloss
        );
        // Two classes added (两 个 班, 两个 班) keep their own glosses.
        for words in [
            &["加", "了", "两", "个", "班"][..],
            &["加", "了", "两个", "班"],
        ] {
            let (before, ex) = read(words);
            let last = words.len() - 1;
            assert_eq!(ex[0].gloss, before_gloss(words, 0), "{words:?}");
            assert!(!ex[last].gloss.starts_with("加班"), "{before:?}");
        }
        // Out-of-range or empty inputs do not panic.
        settle_halves(dict, &[], &mut [], &together(dict, &["睡", "了", "觉"]));
    }

    #[test]
    fn names_win_over_phrases_and_come_in_sentence_order() {
        let f = found(&["要", "是", "习", "近平", "来", "了"]);
        let words: Vec<&str> = f.iter().map(|x| x.1.as_str()).collect();
        assert_eq!(words, ["要是", "习近平"], "{f:?}");
    }
}
