//! A sentence with everything a learner is shown about it, in one place for every front end:
//! its segmentation, each word's explanation (the reading and sense that fit, part of speech,
//! HSK level), the model's confidence, the next-best segmentations and names split across
//! words. The app draws an [`Annotated`], `fenci explain` prints it, and
//! `fenci segment --format jsonl` writes it as JSON ([`Annotated::json_words`], schema in the
//! README). [`ExampleJudge`] scores example sentences with the same segmenter and dictionary.

mod judge;

pub use judge::{builtin_segmenter, ExampleJudge, DEFAULT_LEVEL, NUMBER_PART, SPLIT_WORD};

use std::ops::Range;

use crate::explain::{self, Dictionary, Explanation};
use crate::segment::{SegmentError, Segmentation, Segmenter};
use crate::tagger::LabelScheme;

/// How many next-best segmentations an [`Annotated`] keeps.
pub const ALTERNATIVES: usize = 2;

/// A segmented and explained sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotated {
    /// The segmentation.
    pub seg: Segmentation,
    /// One explanation per word.
    pub explanations: Vec<Explanation>,
    /// The next-best segmentations with their probability.
    pub alternatives: Vec<(Vec<String>, f32)>,
    /// Adjacent words that together are a listed personal name (习 近平 → 习近平) or a set
    /// phrase (如果…的 话 → 的话 "if"), with its explanation (see [`crate::explain::together`]).
    pub names: Vec<(Range<usize>, Explanation)>,
}

/// The POS tags that choose readings and senses: the model's for words of two or more
/// characters (where a tag tells a common word from a name: 大桥/n is "big bridge", not "Da
/// Qiao"), and for one-character words only where its probability is at least `min` (the rest
/// `None`: the neighbour rules decide). On the readings dev set (`benchmarks/readings/`) the
/// built-in head's tags on one-character words made readings worse at every threshold (words
/// right: 99.41% without; 99.18% with those of probability ≥ 0.999, 98.90% ≥ 0.99, 97.94% with
/// all): the head, 94% right on news, errs on exactly the polysemous function words of learner
/// sentences that the rules know (得, 还, 长). So [`TAG_TRUSTED_FROM`] trusts none of those for
/// now; every tag is still shown.
pub fn reading_tags(s: &Segmentation, min: f32) -> Vec<Option<&str>> {
    tags_where(s, |single, prob| !single || prob >= min)
}

/// Each word's tag where `keep(one character, probability)` holds; all `None` without tags.
fn tags_where(s: &Segmentation, keep: impl Fn(bool, f32) -> bool) -> Vec<Option<&str>> {
    if s.pos.len() != s.words.len() {
        return vec![None; s.words.len()];
    }
    s.pos
        .iter()
        .zip(&s.words)
        .map(|(p, w)| keep(w.text.chars().count() == 1, p.prob).then_some(p.tag.as_str()))
        .collect()
}

/// See [`reading_tags`]: above any probability, so no one-character word's tag chooses its
/// reading yet.
pub const TAG_TRUSTED_FROM: f32 = f32::INFINITY;

/// The tags [`reading_tags`] withholds (one-character words'), where the model gives them
/// probability `min` or more: hints, seen only by the polyphone table's `hint=` rows
/// ([`explain::explain_in_context_hinted`]).
pub fn reading_hints(s: &Segmentation, min: f32) -> Vec<Option<&str>> {
    tags_where(s, |single, prob| single && prob >= min)
}

/// See [`reading_hints`].
pub const HINT_FROM: f32 = 0.9;

/// Segments and explains one sentence (with parts of speech where `seg` tags them: see
/// [`Segmenter::set_pos`]).
pub fn annotate(seg: &Segmenter, dict: &Dictionary, text: &str) -> Result<Annotated, SegmentError> {
    let s = seg.segment(text)?;
    Ok(annotate_segmentation(
        s,
        dict,
        seg.model().labels(),
        ALTERNATIVES,
    ))
}

/// Explains an existing segmentation; `k` next-best segmentations (0: none).
pub fn annotate_segmentation(
    s: Segmentation,
    dict: &Dictionary,
    scheme: &LabelScheme,
    k: usize,
) -> Annotated {
    let words = s.word_strs();
    let tags = reading_tags(&s, TAG_TRUSTED_FROM);
    let hints = reading_hints(&s, HINT_FROM);
    let mut explanations = explain::explain_in_context_hinted(dict, &words, &tags, &hints);
    // The part of speech shown is the model's, whether or not it chose the reading (as a
    // guess, not a fact, below `POS_SHOWN_FROM`); but where
    // the reading rules chose, for a one-character word, a sense of another kind than the tag
    // (还 huán "to pay back" tagged adverb), the chip shows no label rather than one that
    // contradicts the reading beside it.
    if s.pos.len() == explanations.len() {
        for ((e, p), w) in explanations.iter_mut().zip(&s.pos).zip(&words) {
            let single = w.chars().count() == 1;
            e.pos = (!single || explain::sense_fits_tag(e, &p.tag)).then(|| p.tag.clone());
            e.pos_unsure = p.prob < explain::POS_SHOWN_FROM;
        }
    }
    let names = explain::together(dict, &words);
    explain::settle_halves(dict, &words, &mut explanations, &names);
    let alternatives = if k > 0 {
        s.alternatives(scheme, k)
    } else {
        Vec::new()
    };
    Annotated {
        seg: s,
        explanations,
        alternatives,
        names,
    }
}

impl Annotated {
    /// The probability of a word boundary right after word `i` (`None` after the last word).
    pub fn split_after(&self, i: usize) -> Option<f32> {
        self.boundary_after(i).map(|b| b.prob)
    }

    /// The boundary right after word `i` (`None` after the last word).
    pub fn boundary_after(&self, i: usize) -> Option<&crate::segment::Boundary> {
        let at = self.seg.words.get(i + 1)?.chars.start;
        self.seg.boundaries.iter().find(|b| b.at == at)
    }

    /// Words `range` as JSON records (the `words` of a `--format jsonl` line), their character
    /// offsets shifted by `offset` (where this segmentation starts in the input line).
    pub fn json_words(&self, range: Range<usize>, offset: usize) -> Vec<WordJson<'_>> {
        range
            .filter_map(|i| {
                let w = self.seg.words.get(i)?;
                let e = self.explanations.get(i)?;
                let pos = self.seg.pos.get(i);
                Some(WordJson {
                    text: &w.text,
                    start: w.chars.start + offset,
                    end: w.chars.end + offset,
                    pos: pos.map(|p| p.tag.as_str()),
                    pos_label: pos.and_then(|p| explain::pos_label(&p.tag)),
                    pos_prob: pos.map(|p| round4(p.prob)),
                    pinyin: &e.pinyin,
                    other_readings: &e.other_readings,
                    gloss: &e.gloss,
                    from_chars: e.from_chars,
                    hsk: e.hsk,
                    split_after: self.split_after(i).map(round4),
                    confidence: round4(self.seg.word_confidence(i)),
                    uncertain: self.seg.uncertain_word(i),
                })
            })
            .collect()
    }

    /// The next-best segmentations as JSON records.
    pub fn json_alternatives(&self) -> Vec<AlternativeJson<'_>> {
        self.alternatives
            .iter()
            .map(|(w, p)| AlternativeJson {
                words: w,
                prob: round4(*p),
            })
            .collect()
    }
}

/// One word in `fenci segment --format jsonl` (fields in this order; README: "JSON lines").
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WordJson<'a> {
    /// The word as typed.
    pub text: &'a str,
    /// First character's offset in the input line (Unicode scalar values, from 0).
    pub start: usize,
    /// One past the last character.
    pub end: usize,
    /// Part of speech, a PKU tag (`v`, `n`, `q` …); `null` for a model without a POS head.
    pub pos: Option<&'a str>,
    /// The tag in words for a learner (`verb`, `measure word` …).
    pub pos_label: Option<&'static str>,
    /// The model's probability of that tag.
    pub pos_prob: Option<f64>,
    /// Pinyin with tone marks of the reading that fits the sentence (`""` for punctuation,
    /// numbers, symbols).
    pub pinyin: &'a str,
    /// Other readings that stay plausible here (empty when the choice is sure).
    pub other_readings: &'a [String],
    /// A short English gloss (`""` if none).
    pub gloss: &'a str,
    /// The word is not in the dictionary: pinyin and gloss come from its characters.
    pub from_chars: bool,
    /// HSK 3.0 level of the word, 1–6, or 7 for the advanced band 7–9; `null` if not listed.
    pub hsk: Option<u8>,
    /// Probability of a word boundary right after this word; `null` after the last word.
    pub split_after: Option<f64>,
    /// Probability that this is a word exactly as cut (a boundary before it, none inside, one
    /// after), calibrated on held-out text.
    pub confidence: f64,
    /// The model is not sure of this word (`confidence` under 0.8): check it.
    pub uncertain: bool,
}

/// A next-best segmentation of the line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlternativeJson<'a> {
    /// Its words.
    pub words: &'a [String],
    /// Its probability under the model.
    pub prob: f64,
}

/// A probability with four decimals, so JSON lines stay short and stable.
fn round4(p: f32) -> f64 {
    (f64::from(p) * 1e4).round() / 1e4
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tagger::ModelFiles;

    fn setup() -> (Segmenter, &'static Dictionary) {
        let mut seg = Segmenter::new(&ModelFiles::embedded().expect("model")).expect("segmenter");
        seg.set_pos(true);
        (seg, Dictionary::embedded())
    }

    #[test]
    fn json_words_cover_the_line_with_shifted_offsets() {
        let (seg, dict) = setup();
        let a = annotate(&seg, dict, "我爱北京。").expect("segments");
        let words = a.json_words(0..a.seg.words.len(), 10);
        let text: String = words.iter().map(|w| w.text).collect();
        assert_eq!(text, "我爱北京。");
        assert_eq!(words[0].start, 10);
        assert_eq!(words.last().unwrap().end, 15);
        assert_eq!(words.last().unwrap().split_after, None);
        let p = words[0].split_after.expect("a probability");
        assert!((0.0..=1.0).contains(&p));
        assert_eq!(words[2].pinyin, "Běijīng");
        let line = serde_json::to_string(&words[0]).expect("serialises");
        assert!(
            line.starts_with(r#"{"text":"我","start":10,"end":11,"pos":"#),
            "{line}"
        );
        assert_eq!(words[0].hsk, Some(1));
    }

    #[test]
    fn a_part_of_speech_the_model_is_not_sure_of_is_not_shown_as_a_fact() {
        let (seg, dict) = setup();
        let mut unsure = 0;
        for text in [
            "他去超市买东西。",
            "我爱北京。",
            "天气很冷，你多穿点衣服吧。",
        ] {
            let a = annotate(&seg, dict, text).expect("segments");
            for (e, p) in a.explanations.iter().zip(&a.seg.pos) {
                assert_eq!(e.pos_unsure, p.prob < explain::POS_SHOWN_FROM, "{}", e.word);
                assert_eq!(e.pos_shown().is_some(), e.pos.is_some() && !e.pos_unsure);
                unsure += usize::from(e.pos_unsure);
            }
        }
        // 买东西 "to go shopping" is tagged a place name (ns) at about 0.5.
        assert!(unsure > 0);
    }

    #[test]
    fn empty_and_odd_input_annotate_without_panic() {
        let (seg, dict) = setup();
        for text in ["", "   ", "🙂🙂", "\u{7}\u{1b}[31m", "ｉＰｈｏｎｅ拍照"] {
            let a = annotate(&seg, dict, text).expect("segments");
            assert_eq!(a.explanations.len(), a.seg.words.len(), "{text:?}");
            let _ = a.json_words(0..a.seg.words.len(), 0);
        }
    }
}
