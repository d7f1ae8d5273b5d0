//! [`Units`]: one input line cut into the units a tagger sees, with their character offsets.

use std::ops::Range;

/// One input line cut into units the tagger sees.
#[derive(Debug, Clone, PartialEq)]
pub struct Units {
    /// Token id of each unit.
    pub ids: Vec<u32>,
    /// Character range of each unit in the original line; ranges are in order and disjoint.
    pub spans: Vec<Range<usize>>,
    /// `gap[i]`: whitespace lies between unit `i-1` and unit `i` (a forced boundary). `gap[0]`
    /// is unused.
    pub gap: Vec<bool>,
    /// Token-type id of each unit: dictionary features ([`crate::text::WordFeatures`]) for a model trained
    /// with them, else 0.
    pub types: Vec<u32>,
    /// `joined[i]`: unit `i` continues the WordPiece word of unit `i-1` (the encoding gives
    /// both the same word id), so no word boundary may fall between them. Set for hub models
    /// only; fenci's own models were trained to cut anywhere. `joined[0]` is false.
    pub joined: Vec<bool>,
}

impl Units {
    /// Number of units.
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    /// True for a line with no units (empty or whitespace only).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// For a line of `n_chars` characters: the unit starting at each character position and the
    /// unit ending at each (`usize::MAX` where none does), so a word found in the text can be
    /// mapped to the units it covers.
    pub(crate) fn edges(&self, n_chars: usize) -> (Vec<usize>, Vec<usize>) {
        let mut start_at = vec![usize::MAX; n_chars + 1];
        let mut end_at = vec![usize::MAX; n_chars + 1];
        for (u, r) in self.spans.iter().enumerate() {
            start_at[r.start] = u;
            end_at[r.end] = u;
        }
        (start_at, end_at)
    }
}
