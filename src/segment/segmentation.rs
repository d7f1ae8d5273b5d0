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
        }
    }
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
