//! [`ExampleJudge`]: how fenci's segmenter and dictionary judge a candidate example sentence
//! (the parts it adds to a [`Score`], see [`crate::generate::rank`]).
//!
//! * `word` — the asked-for word must be one of the sentence's words (学习 across 同学 习惯
//!   or 天气 across 这天 气象 is rejected): the log of the segmenter's confidence in it, or
//!   −1.5 where a word of two or more characters starts or ends a longer word (好朋友; 比 in
//!   比赛 is rejected); a dictionary word the segmenter's standard splits into whole words
//!   (没关系 = 没 关系, 感兴趣 = 感 兴趣, 穿上 = 穿 上: People's Daily splits many a learner's
//!   word) is a word too, at [`SPLIT_WORD`]: its first and last characters must start and end
//!   words of the sentence, so it is not glued into a neighbour, and its first piece must not
//!   be a measure word after a numeral (两 家 人 is not 家人); so is a numeral, unit or 第 inside
//!   a number the segmenter keeps whole (百 in 一百, 第 in 第二, 分 in 八点十分), at
//!   [`NUMBER_PART`];
//! * `segmentation` — the log of the lowest word confidence in the sentence (a sentence the
//!   segmenter hesitates over is often garbled);
//! * `dictionary` — the share of words CC-CEDICT lacks, times −2;
//! * `level` — the share of the other words above the learner's HSK level, times −1.5 (a
//!   dictionary word outside the HSK lists has the level of its hardest character; other
//!   words count as above); without a level, HSK 6 is the bar.

use crate::explain::{has_classifier_sense, hsk_char, hsk_word, Dictionary};
use crate::generate::{Judge, Score};
use crate::segment::Segmenter;

/// The HSK level the `level` part uses when the user gives none.
pub const DEFAULT_LEVEL: u8 = 6;

/// The `word` part of a dictionary word that the sentence's segmentation splits into whole
/// words (没 关系 for 没关系): as weak as a word the segmenter is about 60 % sure of.
pub const SPLIT_WORD: f64 = -0.5;

/// The indices of the first words of each occurrence of `word` in `words` that starts where
/// one word starts and ends where another ends.
fn whole_word_spans(words: &[&str], word: &str) -> Vec<usize> {
    let mut starts = std::collections::HashMap::new();
    let mut ends = std::collections::HashSet::new();
    let mut at = 0;
    for (i, w) in words.iter().enumerate() {
        starts.insert(at, i);
        at += w.len();
        ends.insert(at);
    }
    words
        .concat()
        .match_indices(word)
        .filter(|(i, m)| ends.contains(&(i + m.len())))
        .filter_map(|(i, _)| starts.get(&i).copied())
        .collect()
}

/// The `word` part of a numeral or unit inside a number the segmenter writes as one word
/// (百 in 一百, 万 in 三百万, 第 in 第二, 分 in 八点十分, 日 in 十月一日).
pub const NUMBER_PART: f64 = -0.5;

/// Digits of a Chinese number: what comes before a unit (一百, 两千, 几万).
const DIGITS: &str = "一二三四五六七八九十两几零半";
/// Words before a measure word besides numerals.
const DEMONSTRATIVES: &[&str] = &["这", "那", "哪", "每", "某", "几", "这些", "那些"];
/// Units and the characters of numbers, ordinals, dates and clock times besides the digits.
const NUMBER_CHARS: &str = "百千万亿第点分秒月日号年";

/// Whether the one-character `word` is part of a number in one of `words`: a word made only of
/// digits and number characters in which `word` follows a digit (三百万, 八点十分, 十月一日),
/// or 第 before digits (第二). 千万 ("by all means") and 万一 ("in case") are other words.
fn number_part(words: &[&str], word: &str) -> bool {
    let Some(c) = word.chars().next().filter(|_| word.chars().count() == 1) else {
        return false;
    };
    if !NUMBER_CHARS.contains(c) {
        return false;
    }
    words.iter().any(|w| {
        let chars: Vec<char> = w.chars().collect();
        if chars.len() < 2
            || !chars
                .iter()
                .all(|&x| DIGITS.contains(x) || NUMBER_CHARS.contains(x))
        {
            return false;
        }
        if c == '第' {
            return chars[0] == '第'
                && chars[1..]
                    .iter()
                    .all(|&x| DIGITS.contains(x) || "百千万".contains(x));
        }
        chars
            .iter()
            .enumerate()
            .any(|(i, &x)| x == c && i > 0 && chars[..i].iter().any(|&d| DIGITS.contains(d)))
    })
}

/// Judges example sentences with a segmenter and a dictionary.
pub struct ExampleJudge<'a> {
    seg: &'a Segmenter,
    dict: &'a Dictionary,
    level: u8,
}

impl<'a> ExampleJudge<'a> {
    /// A judge preferring words at or below HSK `level` (default [`DEFAULT_LEVEL`]).
    pub fn new(seg: &'a Segmenter, dict: &'a Dictionary, level: Option<u8>) -> Self {
        Self {
            seg,
            dict,
            level: level.unwrap_or(DEFAULT_LEVEL),
        }
    }
}

/// The built-in segmenter, loaded once, that judges examples in the app and the CLI (so that
/// the same settings give the same examples whatever models the user has trained).
pub fn builtin_segmenter() -> Result<&'static Segmenter, String> {
    static SEG: std::sync::OnceLock<Result<Segmenter, String>> = std::sync::OnceLock::new();
    SEG.get_or_init(|| {
        crate::tagger::ModelFiles::embedded()
            .map_err(|e| e.to_string())
            .and_then(|f| Segmenter::new(&f).map_err(|e| e.to_string()))
    })
    .as_ref()
    .map_err(Clone::clone)
}

impl ExampleJudge<'_> {
    /// A word's HSK level; for a dictionary word outside the lists (喝茶, 看书) the level of
    /// its hardest character. `None`: above every level.
    fn word_level(&self, w: &str) -> Option<u8> {
        hsk_word(w).or_else(|| {
            if self.dict.lookup(w).is_empty() {
                return None;
            }
            w.chars()
                .map(hsk_char)
                .try_fold(0u8, |m, l| l.map(|l| m.max(l)))
        })
    }
}

fn is_punct(w: &str) -> bool {
    w.chars().all(|c| !c.is_alphanumeric())
}

impl Judge for ExampleJudge<'_> {
    fn judge(&self, word: &str, sentence: &str, score: &mut Score) {
        let Ok(s) = self.seg.segment(sentence) else {
            score.reject("segmentation", -5.0, "the segmenter cannot read it");
            return;
        };
        let words = s.word_strs();
        let exact = words.iter().position(|w| *w == word);
        // The word as the head or the start of a longer word (好朋友, 天气预报): a weaker
        // example, not a wrong one.
        // Not for one character: 比 in 比赛, 本 in 本子, 辆 in 车辆 are other words.
        let inside = words.iter().position(|w| {
            word.chars().count() > 1
                && w.len() > word.len()
                && (w.starts_with(word) || w.ends_with(word))
        });
        // Not where its first piece is a measure word (CC-CEDICT: "classifier for …") after a
        // numeral or a demonstrative, which it belongs to (两 家 人 is "two families", not 家人;
        // 这 没 关系 and 一 穿 上 are still 没关系 and 穿上).
        let classifier = |w: &str| self.dict.lookup(w).iter().any(has_classifier_sense);
        let measured = |i: usize| {
            i > 0
                && words[i].chars().count() == 1
                && (words[i - 1].chars().all(|c| DIGITS.contains(c))
                    || DEMONSTRATIVES.contains(&words[i - 1]))
                && classifier(words[i])
        };
        let split = exact.is_none()
            && word.chars().count() > 1
            && (hsk_word(word).is_some() || !self.dict.lookup(word).is_empty())
            && whole_word_spans(&words, word)
                .into_iter()
                .any(|i| !measured(i));
        match (exact, inside) {
            (Some(i), _) => score.add("word", (s.word_confidence(i).max(0.05) as f64).ln()),
            _ if split => score.add("word", SPLIT_WORD),
            _ if number_part(&words, word) => score.add("word", NUMBER_PART),
            (None, Some(_)) => score.add("word", -1.5),
            (None, None) => {
                score.reject(
                    "word",
                    -5.0,
                    format!("{word} is not a word here: {}", words.join(" ")),
                );
                return;
            }
        }
        let lowest = (0..words.len())
            .map(|i| s.word_confidence(i))
            .fold(1.0f32, f32::min);
        score.add("segmentation", (lowest.max(0.05) as f64).ln());
        let content: Vec<&str> = words.iter().copied().filter(|w| !is_punct(w)).collect();
        let unknown = content
            .iter()
            .filter(|w| self.dict.lookup(w).is_empty())
            .count();
        score.add(
            "dictionary",
            -2.0 * unknown as f64 / content.len().max(1) as f64,
        );
        let others: Vec<&&str> = content.iter().filter(|w| **w != word).collect();
        let above = others
            .iter()
            .filter(|w| self.word_level(w).is_none_or(|l| l > self.level))
            .count();
        score.add("level", -1.5 * above as f64 / others.len().max(1) as f64);
    }
}
