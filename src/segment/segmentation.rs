//! [`Segmentation`]: one line's words, boundaries and their probabilities; and the inverse,
//! [`gold_labels`], words → tags.

use std::ops::Range;

use super::{decode, kbest, Constraints};
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

/// A possible word boundary between two units and the model's belief in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    /// Character position of the boundary in the line.
    pub at: usize,
    /// Probability that a word boundary is here.
    pub prob: f32,
    /// Whether the decoded segmentation splits here.
    pub split: bool,
    /// Whether whitespace or a constraint decided it rather than the model.
    pub forced: bool,
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

    /// Up to `k` segmentations other than the chosen one, most probable first, as word lists
    /// with their posterior probability (from [`kbest`] over the same scores).
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
        kbest(&self.log_probs, scheme, &c, k + 1)
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

    /// Decodes `log_probs` (`units × labels`) over `units` of `text` into a segmentation.
    pub fn from_scores(
        text: &str,
        units: Units,
        log_probs: Vec<f32>,
        scheme: &LabelScheme,
        c: &Constraints,
    ) -> Self {
        let d = decode(&log_probs, scheme, c);
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
        Segmentation {
            text: text.to_string(),
            words,
            boundaries,
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
