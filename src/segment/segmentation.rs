//! [`Segmentation`]: one line's words, boundaries and their probabilities; and the inverse,
//! [`gold_labels`], words → tags.
//!
//! How sure the model is, in one place: the probabilities are shown at the model's display
//! temperature ([`crate::tagger::BertConfig::boundary_temperature`], fitted on dev so that they
//! are calibrated); a boundary is [`Boundary::hesitant`] when its probability is neither near 0
//! nor near 1, and a word is [`Segmentation::uncertain_word`] when its
//! [`Segmentation::word_confidence`] is under [`UNCERTAIN_BELOW`].

use std::ops::Range;

use super::{decode_tempered, kbest, tempered, Constraints};
use crate::tagger::{LabelScheme, Tag};
use crate::text::Units;

/// One word of a segmentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word's characters exactly as typed.
    pub text: String,
    /// Character range in the line.
    pub chars: Range<usize>,
    /// Byte range in the line.
    pub bytes: Range<usize>,
}

/// A boundary is hesitant when the probability of what was decided there (split or not) is
/// under `1 − HESITANT` (see [`Boundary::hesitant`]). Chosen on pku1998/dev with the default
/// model's calibrated probabilities (README, "Confidence").
pub const HESITANT: f32 = 0.2;

/// A word is uncertain when its confidence is under this (see
/// [`Segmentation::uncertain_word`]). Chosen on pku1998/dev (README, "Confidence").
pub const UNCERTAIN_BELOW: f32 = 0.8;

/// A possible word boundary between two units and the model's belief in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    /// Character position of the boundary in the line.
    pub at: usize,
    /// Probability that a word boundary is here, at the model's display temperature (so the
    /// same scores at temperature 1 when the model declares none).
    pub prob: f32,
    /// Whether the decoded segmentation splits here.
    pub split: bool,
    /// Whether whitespace or a constraint decided it rather than the model.
    pub forced: bool,
}

/// The part of speech of one word ([`Segmentation::pos`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PosTag {
    /// The tag (PKU tag set for the default model: `n`, `v`, `nr`, …).
    pub tag: String,
    /// The model's probability of this tag for the word: the softmax over tags of the word's
    /// summed per-character log-probabilities (the score the tag was chosen by, see
    /// [`word_tags`]).
    pub prob: f32,
}

impl Boundary {
    /// The probability of what was decided here: [`Self::prob`] where the line is split,
    /// `1 − prob` where it is not.
    pub fn decided_prob(&self) -> f32 {
        if self.split {
            self.prob
        } else {
            1.0 - self.prob
        }
    }

    /// Whether the model hesitates here: not decided by whitespace or a constraint, and the
    /// probability of what was decided ([`Self::decided_prob`]) under `1 − HESITANT`. The app
    /// shows a boundary's percentage only where this holds.
    pub fn hesitant(&self) -> bool {
        !self.forced && self.decided_prob() < 1.0 - HESITANT
    }
}

/// A segmentation checked against gold ([`Segmentation::against_gold`]).
#[derive(Debug, Clone, PartialEq)]
pub struct GoldCheck {
    /// For each boundary the model decided: its probability, and whether gold splits there.
    pub boundaries: Vec<(f32, bool)>,
    /// For each word: whether gold has exactly this word (same characters, same place).
    pub words_right: Vec<bool>,
}

/// The one value every consumer reads: a line, its words, and the belief in every boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    /// The input line, unchanged.
    pub text: String,
    /// The words in order; the text between consecutive words is whitespace only.
    pub words: Vec<Word>,
    /// Every place between two adjacent units, in order.
    pub boundaries: Vec<Boundary>,
    /// `word_probs[i]`: the probability that `words[i]` is a word exactly as cut (a boundary
    /// before it, none inside, one after), at the display temperature.
    pub word_probs: Vec<f32>,
    /// The display temperature the probabilities were computed at (1: the scores as they are).
    pub temperature: f32,
    /// Per-unit label log-probabilities (`units × labels`), kept for k-best and explanation.
    pub log_probs: Vec<f32>,
    /// The units the model saw.
    pub units: Units,
    /// One part of speech per word, in order; empty when POS tagging is off
    /// ([`super::Segmenter::set_pos`]) or the model has no POS head.
    pub pos: Vec<PosTag>,
    /// The built-in model segmented the line, handed to it by a routed version (one `/train`
    /// wrote) because it reads like the built-in model's news text ([`super::route`]).
    pub by_built_in: bool,
}

impl Segmentation {
    /// The words as strings.
    pub fn word_strs(&self) -> Vec<&str> {
        self.words.iter().map(|w| w.text.as_str()).collect()
    }

    /// How sure the model is that word `i` is cut right: the probability of its exact span
    /// (boundary before, none inside, boundary after) from forward–backward at the display
    /// temperature. 0 for an index out of range.
    pub fn word_confidence(&self, i: usize) -> f32 {
        self.word_probs.get(i).copied().unwrap_or(0.0)
    }

    /// Whether word `i` should be marked as uncertain: its [`Self::word_confidence`] is under
    /// [`UNCERTAIN_BELOW`].
    pub fn uncertain_word(&self, i: usize) -> bool {
        i < self.words.len() && self.word_confidence(i) < UNCERTAIN_BELOW
    }

    /// This segmentation against gold words for the same line (`gold` joined must equal the
    /// text; `None` otherwise): for every boundary the model decided (not forced) its
    /// probability and whether gold splits there, and for every word whether gold has exactly
    /// that word. What calibration is measured on.
    pub fn against_gold<S: AsRef<str>>(&self, gold: &[S]) -> Option<GoldCheck> {
        let joined: String = gold.iter().map(AsRef::as_ref).collect();
        if joined != self.text {
            return None;
        }
        let mut spans = std::collections::HashSet::new();
        let mut starts = std::collections::HashSet::new();
        let mut pos = 0;
        for w in gold {
            let n = w.as_ref().chars().count();
            spans.insert((pos, pos + n));
            starts.insert(pos);
            pos += n;
        }
        Some(GoldCheck {
            boundaries: self
                .boundaries
                .iter()
                .filter(|b| !b.forced)
                .map(|b| (b.prob, starts.contains(&b.at)))
                .collect(),
            words_right: self
                .words
                .iter()
                .map(|w| spans.contains(&(w.chars.start, w.chars.end)))
                .collect(),
        })
    }

    /// Up to `k` segmentations other than the chosen one, most probable first, as word lists
    /// with their posterior probability (from [`kbest`] over the same scores, at the display
    /// temperature).
    pub fn alternatives(&self, scheme: &LabelScheme, k: usize) -> Vec<(Vec<String>, f32)> {
        let mut c = Constraints::from_gaps(&self.units);
        // Keep the chosen segmentation's forced words forced in the alternatives too.
        for (i, b) in self.boundaries.iter().enumerate() {
            if b.forced {
                if b.split {
                    c.forced[i + 1] = true;
                } else {
                    c.forbidden[i + 1] = true;
                }
            }
        }
        let best = self.word_strs();
        let scores = if self.temperature == 1.0 {
            std::borrow::Cow::Borrowed(&self.log_probs)
        } else {
            std::borrow::Cow::Owned(tempered(&self.log_probs, scheme.len(), self.temperature))
        };
        kbest(&scores, scheme, &c, k + 1)
            .into_iter()
            .map(|a| (self.words_for(&a.labels, scheme), a.prob))
            .filter(|(w, _)| w.iter().map(String::as_str).ne(best.iter().copied()))
            .take(k)
            .collect()
    }

    /// The words a label sequence over this line's units makes.
    pub fn words_for(&self, labels: &[usize], scheme: &LabelScheme) -> Vec<String> {
        let chars: Vec<char> = self.text.chars().collect();
        let mut words = Vec::new();
        let mut start: Option<usize> = None;
        let mut end = 0;
        for (i, span) in self.units.spans.iter().enumerate() {
            let starts = i == 0
                || self.units.gap[i]
                || labels.get(i).is_some_and(|&l| scheme.tag(l).starts_word());
            if starts {
                if let Some(s) = start {
                    words.push(chars[s..end].iter().collect());
                }
                start = Some(span.start);
            }
            end = span.end;
        }
        if let Some(s) = start {
            words.push(chars[s..end].iter().collect());
        }
        words
    }

    /// Decodes `log_probs` (`units × labels`) over `units` of `text` into a segmentation, its
    /// probabilities at temperature 1.
    pub fn from_scores(
        text: &str,
        units: Units,
        log_probs: Vec<f32>,
        scheme: &LabelScheme,
        c: &Constraints,
    ) -> Self {
        Self::from_scores_tempered(text, units, log_probs, scheme, c, 1.0)
    }

    /// [`Self::from_scores`] with the probabilities at display temperature `temperature`
    /// ([`decode_tempered`]): the words are the same for every temperature.
    pub fn from_scores_tempered(
        text: &str,
        units: Units,
        log_probs: Vec<f32>,
        scheme: &LabelScheme,
        c: &Constraints,
        temperature: f32,
    ) -> Self {
        let d = decode_tempered(&log_probs, scheme, c, temperature);
        let char_bytes: Vec<usize> = text
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(text.len()))
            .collect();
        let mut words = Vec::new();
        let mut boundaries = Vec::new();
        let mut start: Option<usize> = None;
        let mut end = 0;
        for (i, span) in units.spans.iter().enumerate() {
            let starts = i == 0 || scheme.tag(d.labels[i]).starts_word();
            if i > 0 {
                boundaries.push(Boundary {
                    at: span.start,
                    prob: d.boundary_prob[i],
                    split: starts,
                    forced: c.forced.get(i).copied().unwrap_or(false)
                        || c.forbidden.get(i).copied().unwrap_or(false),
                });
            }
            if starts {
                if let Some(s) = start {
                    words.push(Word {
                        text: text[char_bytes[s]..char_bytes[end]].to_string(),
                        chars: s..end,
                        bytes: char_bytes[s]..char_bytes[end],
                    });
                }
                start = Some(span.start);
            }
            end = span.end;
        }
        if let Some(s) = start {
            words.push(Word {
                text: text[char_bytes[s]..char_bytes[end]].to_string(),
                chars: s..end,
                bytes: char_bytes[s]..char_bytes[end],
            });
        }
        // One probability per decoded word, cut from the same labels as `words`.
        let word_probs = d.word_prob;
        debug_assert_eq!(word_probs.len(), words.len());
        let temperature = if temperature.is_finite() && temperature > 0.0 {
            temperature
        } else {
            1.0
        };
        Segmentation {
            text: text.to_string(),
            words,
            boundaries,
            word_probs,
            temperature,
            log_probs,
            units,
            pos: Vec::new(),
            by_built_in: false,
        }
    }

    /// The words as written by `fenci segment`: `word`, or `word/tag` (the PKU format) when the
    /// segmentation has parts of speech.
    pub fn display_words(&self) -> Vec<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        if self.pos.len() != self.words.len() {
            return self
                .words
                .iter()
                .map(|w| Cow::Borrowed(w.text.as_str()))
                .collect();
        }
        self.words
            .iter()
            .zip(&self.pos)
            .map(|(w, p)| Cow::Owned(format!("{}/{}", w.text, p.tag)))
            .collect()
    }
}

/// The part of speech of each word from per-unit POS log-probabilities `pos_lp`
/// (`units × tags`, row-major): each word's tag scores are the sum over its units of their
/// log-probabilities (each character is evidence for its word's tag), plus the `lexicon`'s
/// prior for the word where given. With a `context` model ([`crate::tagger::PosContext`]) the
/// head's sums weigh `head_weight` and the words are tagged left to right, each with the
/// context model's scores given the two tags before it. The reported tag is the best-scoring
/// one, with as probability the softmax over tags of the scores (divided by the context model's
/// temperature). A word no unit covers (none in practice) still gets the context's scores.
pub fn word_tags(
    units: &Units,
    words: &[Word],
    pos_lp: &[f32],
    tags: &[String],
    lexicon: Option<&crate::tagger::PosLexicon>,
    context: Option<&crate::tagger::PosContext>,
) -> Vec<PosTag> {
    use crate::tagger::pos_context::{features, START};
    let nt = tags.len();
    if nt == 0 {
        return Vec::new();
    }
    let context = context.filter(|c| c.tags() == nt);
    let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    let (head_weight, temperature) = context.map_or((1.0, 1.0), |c| (c.head_weight, c.temperature));
    let mut out: Vec<PosTag> = Vec::with_capacity(words.len());
    let mut feats = Vec::new();
    let mut u = 0;
    let mut sum = vec![0f32; nt];
    for (i, w) in words.iter().enumerate() {
        sum.iter_mut().for_each(|x| *x = 0.0);
        while u < units.spans.len() && units.spans[u].end <= w.chars.start {
            u += 1;
        }
        while u < units.spans.len() && units.spans[u].start < w.chars.end {
            if let Some(row) = pos_lp.get(u * nt..(u + 1) * nt) {
                sum.iter_mut()
                    .zip(row)
                    .for_each(|(s, x)| *s += head_weight * x);
            }
            u += 1;
        }
        // What the word itself says (its tags in the training text), where it was seen there.
        if let Some(prior) = lexicon.and_then(|l| l.prior(&w.text)) {
            sum.iter_mut().zip(prior).for_each(|(s, p)| *s += p);
        }
        if let Some(c) = context {
            let tag = |k: usize| {
                i.checked_sub(k)
                    .and_then(|j| out.get(j))
                    .map_or(START, |p| p.tag.as_str())
            };
            features(&texts, i, tag(1), tag(2), &mut feats);
            c.add_scores(&feats, &mut sum);
        }
        let (best, &top) =
            sum.iter().enumerate().fold(
                (0, &f32::NEG_INFINITY),
                |a, b| if b.1 > a.1 { b } else { a },
            );
        let z: f32 = sum.iter().map(|x| ((x - top) / temperature).exp()).sum();
        out.push(PosTag {
            tag: tags[best].clone(),
            prob: if top.is_finite() {
                1.0 / z
            } else {
                1.0 / nt as f32
            },
        });
    }
    out
}

/// The tags of `words` over `units` of their joined text: each unit is tagged by whether a word
/// starts at its first character and ends at its last.
pub fn gold_labels(units: &Units, words: &[&str], scheme: &LabelScheme) -> Vec<usize> {
    let mut starts = std::collections::HashSet::new();
    let mut ends = std::collections::HashSet::new();
    let mut pos = 0;
    for w in words {
        starts.insert(pos);
        pos += w.chars().count();
        ends.insert(pos);
    }
    units
        .spans
        .iter()
        .map(|r| {
            let t = match (starts.contains(&r.start), ends.contains(&r.end)) {
                (true, true) => Tag::Single,
                (true, false) => Tag::Begin,
                (false, true) => Tag::End,
                (false, false) => Tag::Middle,
            };
            scheme.id(t)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(spans: &[std::ops::Range<usize>]) -> Units {
        let n = spans.len();
        Units {
            ids: vec![0; n],
            spans: spans.to_vec(),
            gap: vec![false; n],
            types: vec![0; n],
            joined: vec![false; n],
        }
    }

    fn word(text: &str, chars: std::ops::Range<usize>) -> Word {
        Word {
            text: text.into(),
            bytes: 0..0,
            chars,
        }
    }

    #[test]
    fn a_word_gets_the_tag_of_its_summed_character_scores() {
        let tags: Vec<String> = ["n", "v"].iter().map(|s| s.to_string()).collect();
        // Units: 喜 欢 | ABC (one unit of three characters) | 书.
        let u = units(&[0..1, 1..2, 2..5, 5..6]);
        let words = [word("喜欢", 0..2), word("ABC", 2..5), word("书", 5..6)];
        let ln = |p: f32| p.ln();
        let lp = vec![
            // 喜: n 0.6, v 0.4; 欢: n 0.1, v 0.9 → sums favour v although 喜 alone says n.
            ln(0.6),
            ln(0.4),
            ln(0.1),
            ln(0.9),
            // ABC: n 0.7.
            ln(0.7),
            ln(0.3),
            // 书: n 0.5, v 0.5 (a tie keeps the first tag).
            ln(0.5),
            ln(0.5),
        ];
        let t = word_tags(&u, &words, &lp, &tags, None, None);
        let got: Vec<&str> = t.iter().map(|p| p.tag.as_str()).collect();
        assert_eq!(got, ["v", "n", "n"]);
        // P(v) = 0.4·0.9 / (0.4·0.9 + 0.6·0.1) = 0.36 / 0.42.
        assert!((t[0].prob - 0.36 / 0.42).abs() < 1e-5, "{}", t[0].prob);
        assert!((t[1].prob - 0.7).abs() < 1e-5);
        assert!((t[2].prob - 0.5).abs() < 1e-5);
    }

    #[test]
    fn display_words_add_tags_only_when_every_word_has_one() {
        let mut s = Segmentation {
            text: "喜欢书".into(),
            words: vec![word("喜欢", 0..2), word("书", 2..3)],
            boundaries: vec![],
            log_probs: vec![],
            units: units(&[0..1, 1..2, 2..3]),
            pos: vec![],
            word_probs: vec![],
            temperature: 1.0,
            by_built_in: false,
        };
        assert_eq!(s.display_words().join(" "), "喜欢 书");
        s.pos = vec![
            PosTag {
                tag: "v".into(),
                prob: 0.9,
            },
            PosTag {
                tag: "n".into(),
                prob: 0.8,
            },
        ];
        assert_eq!(s.display_words().join(" "), "喜欢/v 书/n");
    }
}
