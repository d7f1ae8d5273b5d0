//! Word lists found in text on unit edges: [`WordSet`], and [`WordFeatures`], the dictionary
//! features for a tagger's *input*. Each unit gets a token-type id saying how the dictionary's
//! words meet it (longest word starting there, longest ending there, inside a word or not). A
//! model trained with them (config.json names its word list in `fenci_word_features`) learns how
//! far to trust the dictionary, which helps on words the training text never showed. The model
//! stays a plain `BertForTokenClassification`; the one extra is that `token_type_ids` must be
//! computed this way. Words match only on unit edges and never across whitespace.

use std::collections::HashSet;

use super::{to_halfwidth, Units};

/// Rows of the token-type table a model with word features needs.
pub const FEATURE_TYPES: usize = 32;

/// The config.json key naming a model's word-list file.
pub const CONFIG_KEY: &str = "fenci_word_features";

/// A set of words (at least two characters, full-width ASCII folded to half-width) that can be
/// found in a line's units.
#[derive(Debug, Clone, Default)]
pub struct WordSet {
    words: HashSet<String>,
    min_chars: usize,
    max_chars: usize,
}

impl WordSet {
    /// A set of `words`; those shorter than two characters are dropped.
    pub fn new(words: impl IntoIterator<Item = String>) -> Self {
        let words: HashSet<String> = words
            .into_iter()
            .map(|w| w.trim().chars().map(to_halfwidth).collect::<String>())
            .filter(|w| w.chars().count() >= 2 && !w.chars().any(char::is_whitespace))
            .collect();
        let lens = words.iter().map(|w| w.chars().count());
        Self {
            min_chars: lens.clone().min().unwrap_or(0),
            max_chars: lens.max().unwrap_or(0),
            words,
        }
    }

    /// Parses a word list: one word a line; blank lines and lines starting with `#` are skipped.
    pub fn parse(text: &str) -> Self {
        Self::new(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string),
        )
    }

    /// The words, sorted, one a line (the format [`WordSet::parse`] reads).
    pub fn to_text(&self) -> String {
        let mut v: Vec<&str> = self.words.iter().map(String::as_str).collect();
        v.sort_unstable();
        let mut s = v.join("\n");
        s.push('\n');
        s
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The words, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(String::as_str)
    }

    /// Whether `word` is in the set (after half-width folding).
    pub fn contains(&self, word: &str) -> bool {
        let w: String = word.chars().map(to_halfwidth).collect();
        self.words.contains(&w)
    }

    /// Calls `f(first_unit, last_unit, chars)` for every occurrence of a word in `text` whose
    /// edges fall on unit edges with no whitespace inside.
    pub fn for_each_match(
        &self,
        text: &str,
        units: &Units,
        mut f: impl FnMut(usize, usize, usize),
    ) {
        if self.words.is_empty() || units.is_empty() {
            return;
        }
        let chars: Vec<char> = text.chars().map(to_halfwidth).collect();
        let (start_at, end_at) = units.edges(chars.len());
        let mut buf = String::new();
        for pos in 0..chars.len() {
            let a = start_at[pos];
            if a == usize::MAX {
                continue;
            }
            for len in self.min_chars..=self.max_chars.min(chars.len() - pos) {
                let end = pos + len;
                let b = end_at[end];
                if b == usize::MAX {
                    continue;
                }
                buf.clear();
                buf.extend(&chars[pos..end]);
                if self.words.contains(&buf) && !(a + 1..=b).any(|u| units.gap[u]) {
                    f(a, b, len);
                }
            }
        }
    }
}

/// Dictionary features for the tagger's input: one token-type id in `0..FEATURE_TYPES` per
/// unit. With `s` and `e` the length class (none, 2, 3, 4+ characters) of the longest word
/// starting and ending at the unit, and `m` whether the unit lies strictly inside a word, the id
/// is `(4 s + e) · 2 + m`. A unit no word touches gets 0, the type a plain BERT uses.
#[derive(Debug, Clone, Default)]
pub struct WordFeatures {
    set: WordSet,
}

impl WordFeatures {
    /// Features from a word set.
    pub fn new(set: WordSet) -> Self {
        Self { set }
    }

    /// The word set.
    pub fn words(&self) -> &WordSet {
        &self.set
    }

    /// The token-type id of every unit of `text` (`units` from the same text).
    pub fn types(&self, text: &str, units: &Units) -> Vec<u32> {
        let n = units.len();
        let mut start = vec![0usize; n];
        let mut end = vec![0usize; n];
        let mut inside = vec![false; n];
        self.set.for_each_match(text, units, |a, b, chars| {
            let class = (chars.min(4) - 1).min(3);
            start[a] = start[a].max(class);
            end[b] = end[b].max(class);
            for m in &mut inside[(a + 1).min(b)..b] {
                *m = true;
            }
        });
        (0..n)
            .map(|u| ((4 * start[u] + end[u]) * 2 + inside[u] as usize) as u32)
            .collect()
    }
}

/// A soft word prior at decode time: wherever a lexicon word occurs in the text (on unit edges,
/// no whitespace inside), the tags that make it one word get `weight` added to their
#[cfg(test)]
mod tests {
    use super::*;

    fn units_of(text: &str) -> Units {
        // One unit per non-space character, gaps at spaces.
        let mut u = Units {
            ids: vec![],
            spans: vec![],
            gap: vec![],
            types: vec![],
            joined: vec![],
        };
        let mut gap = false;
        for (i, c) in text.chars().enumerate() {
            if c == ' ' {
                gap = true;
                continue;
            }
            u.ids.push(1);
            u.spans.push(i..i + 1);
            u.gap.push(gap);
            gap = false;
        }
        u.types = vec![0; u.ids.len()];
        u
    }

    #[test]
    fn types_encode_longest_start_end_and_inside() {
        let f = WordFeatures::new(WordSet::parse(
            "北京\n天安门\n北京天安门广场\n# comment\n我\n",
        ));
        let text = "我爱北京天安门";
        let t = f.types(text, &units_of(text));
        let id = |s: u32, e: u32, m: u32| (4 * s + e) * 2 + m;
        assert_eq!(
            t,
            vec![
                0,           // 我: one-character words are not kept
                0,           // 爱
                id(1, 0, 0), // 北 starts 北京
                id(0, 1, 0), // 京 ends it
                id(2, 0, 0), // 天 starts 天安门
                id(0, 0, 1), // 安 inside
                id(0, 2, 0), // 门 ends it
            ]
        );
        assert!(t.iter().all(|&x| (x as usize) < FEATURE_TYPES));
    }

    #[test]
    fn long_words_share_a_class_and_whitespace_breaks_matches() {
        let f = WordFeatures::new(WordSet::parse("一二三四五\n二三\n一二\n"));
        let text = "一二三四五";
        assert_eq!(
            f.types(text, &units_of(text)),
            // 一 starts a 5-char word; 二 ends 一二, starts 二三 and lies inside the long word;
            // 三 ends 二三 (inside); 四 inside; 五 ends the long word.
            vec![24, 11, 3, 1, 6]
        );
        let spaced = "一二 三四五";
        assert_eq!(
            f.types(spaced, &units_of(spaced)),
            vec![8, 2, 0, 0, 0],
            "only 一二 survives the space"
        );
    }

    #[test]
    fn full_width_ascii_matches_half_width_words() {
        let s = WordSet::parse("ＡＢ\n");
        assert!(s.contains("AB") && s.contains("ＡＢ"));
        let text = "xＡＢy";
        let mut hits = vec![];
        s.for_each_match(text, &units_of(text), |a, b, n| hits.push((a, b, n)));
        assert_eq!(hits, vec![(1, 2, 2)]);
        assert_eq!(WordSet::parse(&s.to_text()).len(), 1);
    }
}
