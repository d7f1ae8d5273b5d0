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

/// Names across words ([`super::names_across`]) and set phrases ([`phrases_across`]), in
/// sentence order; where both would cover a word, the name wins.
pub fn together(dict: &Dictionary, words: &[&str]) -> Vec<(Range<usize>, Explanation)> {
    let mut out = super::names_across(dict, words);
    for (r, e) in phrases_across(dict, words) {
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
    fn names_win_over_phrases_and_come_in_sentence_order() {
        let f = found(&["要", "是", "习", "近平", "来", "了"]);
        let words: Vec<&str> = f.iter().map(|x| x.1.as_str()).collect();
        assert_eq!(words, ["要是", "习近平"], "{f:?}");
    }
}
