//! [`Lexicon`]: a soft word prior at decode time.

use crate::tagger::{LabelScheme, Tag};
use crate::text::{Units, WordSet};

/// log-probabilities. Unlike forced words ([`crate::segment::Constraints::force_words`]) the
/// model can still overrule it; overlapping matches compete in the Viterbi search.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    set: WordSet,
    /// Log-probability bonus per unit of a matched word.
    pub weight: f32,
}

impl Lexicon {
    /// A lexicon of `words` (those of at least two characters are kept).
    pub fn new(words: impl IntoIterator<Item = String>, weight: f32) -> Self {
        Self {
            set: WordSet::new(words),
            weight,
        }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Adds the bonus for every occurrence in `text` to `log_probs` (`units × labels`).
    pub fn apply(&self, text: &str, units: &Units, scheme: &LabelScheme, log_probs: &mut [f32]) {
        if self.weight == 0.0 {
            return;
        }
        let l = scheme.len();
        self.set.for_each_match(text, units, |a, b, _| {
            for (k, tag) in scheme.word_tags(b - a + 1).into_iter().enumerate() {
                if let Some(v) = log_probs.get_mut((a + k) * l + tag) {
                    *v += self.weight;
                }
            }
            if scheme.is_bi() && b + 1 < units.len() {
                if let Some(v) = log_probs.get_mut((b + 1) * l + scheme.id(Tag::Begin)) {
                    *v += self.weight;
                }
            }
        });
    }
}
