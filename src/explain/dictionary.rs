//! The [`Dictionary`]: CC-CEDICT indexed by headword, entries parsed on first lookup, and how the
//! entries of a headword are ranked (particles first, variants last, likelier readings first).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;
use std::sync::OnceLock;

use super::cedict::{parse_line, split_line, Entry, Parts};
use super::gloss::is_note_sense;
use crate::text::{is_han, to_halfwidth_str as to_half_width};

/// The gzipped CC-CEDICT text, unmodified.
pub(super) const CEDICT_GZ: &[u8] =
    include_bytes!("../../data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz");

/// A CC-CEDICT dictionary indexed by simplified and traditional headword.
///
/// Loading only validates lines and indexes headwords; a headword's [`Entry`] values are
/// parsed and ranked the first time it is looked up (thread-safe), so loading is fast and the
/// loaded dictionary stays compact (the embedded one: under 40 MB).
pub struct Dictionary {
    /// The accepted entry lines, concatenated.
    text: String,
    /// Byte range of each accepted line in `text`.
    lines: Vec<(u32, u32)>,
    /// Headword (simplified, and traditional where it differs) → its group.
    pub(super) index: HashMap<Box<str>, u32>,
    /// Group `g`'s line ids are `ids[starts[g]..starts[g + 1]]`, in file order.
    starts: Vec<u32>,
    ids: Vec<u32>,
    /// Group `g`'s entries, parsed and ranked on first lookup.
    cache: Vec<OnceLock<Box<[Entry]>>>,
    /// (character, [`syllable_key`]) → number of words reading the character so.
    usage: HashMap<(char, u64), u32>,
    skipped: usize,
}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dictionary")
            .field("entries", &self.lines.len())
            .field("headwords", &self.index.len())
            .field("skipped", &self.skipped)
            .finish()
    }
}

impl Dictionary {
    /// The CC-CEDICT dictionary compiled into the binary, decompressed and indexed on the
    /// first call (about 0.1–0.2 s in release builds); later calls are free.
    pub fn embedded() -> &'static Dictionary {
        static DICT: OnceLock<Dictionary> = OnceLock::new();
        DICT.get_or_init(load_embedded)
    }

    /// Reads a dictionary in CC-CEDICT format. Comments and blank lines are ignored; malformed
    /// lines and lines that are not UTF-8 are skipped and counted ([`Dictionary::skipped`]). A
    /// read error, or entries beyond 4 GiB of text, end the input: what was read is kept and
    /// the rest counts as one skipped line.
    pub fn from_reader(mut r: impl BufRead) -> Dictionary {
        let mut text = String::new();
        let mut lines: Vec<(u32, u32)> = Vec::new();
        let mut index: HashMap<Box<str>, u32> = HashMap::new();
        let mut pairs: Vec<(u32, u32)> = Vec::new(); // (group, line id), in file order
        let mut usage: HashMap<(char, u64), u32> = HashMap::new();
        let mut skipped = 0;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    skipped += 1;
                    break;
                }
            }
            let Ok(line) = std::str::from_utf8(&buf) else {
                skipped += 1;
                continue;
            };
            let parts = match split_line(line) {
                Ok(None) => continue,
                Err(_) => {
                    skipped += 1;
                    continue;
                }
                Ok(Some(p)) => p,
            };
            let line = line.trim_end_matches(['\n', '\r']);
            let (Ok(start), Ok(end), Ok(id)) = (
                u32::try_from(text.len()),
                u32::try_from(text.len() + line.len()),
                u32::try_from(lines.len()),
            ) else {
                skipped += 1;
                break;
            };
            let mut add_key = |key: &str| {
                let g = match index.get(key) {
                    Some(&g) => g,
                    None => {
                        // Fits: an entry line is at least 9 bytes of the at most 4 GiB of text, and
                        // adds at most two headwords.
                        let g = index.len() as u32;
                        index.insert(key.into(), g);
                        g
                    }
                };
                pairs.push((g, id));
            };
            add_key(parts.simplified);
            if parts.traditional != parts.simplified {
                add_key(parts.traditional);
            }
            count_usage(&mut usage, &parts);
            text.push_str(line);
            lines.push((start, end));
        }
        // Counting sort of the (group, line) pairs by group, keeping file order in a group.
        let groups = index.len();
        let mut starts = vec![0u32; groups + 1];
        for &(g, _) in &pairs {
            starts[g as usize + 1] += 1;
        }
        for g in 0..groups {
            starts[g + 1] += starts[g];
        }
        let mut next: Vec<u32> = starts[..groups].to_vec();
        let mut ids = vec![0u32; pairs.len()];
        for &(g, id) in &pairs {
            let slot = &mut next[g as usize];
            ids[*slot as usize] = id;
            *slot += 1;
        }
        text.shrink_to_fit();
        lines.shrink_to_fit();
        Dictionary {
            text,
            lines,
            index,
            starts,
            ids,
            cache: (0..groups).map(|_| OnceLock::new()).collect(),
            usage,
            skipped,
        }
    }

    /// Every entry whose simplified or traditional headword is `word`, best first (see
    /// *Ranking*); empty if none. Full-width ASCII (`ＣＰＵ`) is also tried half-width.
    ///
    /// # Ranking
    /// Entries whose simplified form is `word` come first, then traditional-only matches; within
    /// each group, in this order: neutral-tone grammatical particles (了 le5, 的 de5, 着 zhe5),
    /// ordinary entries, proper nouns (capitalised pinyin), surnames, entries that only say
    /// "used in …" or "see …", and entries that are only variants or archaic/old forms. Ties
    /// go to the likelier reading by a frequency proxy, 20 × the number of senses plus, for a
    /// single character, the number of common (not proper-noun) dictionary words that read it
    /// so (说 shuo1 before shui4, 重 zhong4 before chong2, 还 hai2 before huan2; 东西 dong1 xi5
    /// "thing; stuff; person" before dong1 xi1 "east and west"), then to the dictionary's order.
    /// Of 86 common polyphonic characters, 72 get their everyday reading first this way (about
    /// 60 without the frequency proxy).
    pub fn lookup(&self, word: &str) -> &[Entry] {
        if let Some(found) = self.lookup_exact(word) {
            return found;
        }
        match to_half_width(word) {
            Cow::Owned(half) => self.lookup_exact(&half).unwrap_or(&[]),
            Cow::Borrowed(_) => &[],
        }
    }

    fn lookup_exact(&self, word: &str) -> Option<&[Entry]> {
        let (key, &g) = self.index.get_key_value(word)?;
        let g = g as usize;
        let cell = self.cache.get(g)?;
        let entries = cell.get_or_init(|| {
            let (a, b) = (self.starts.get(g).copied(), self.starts.get(g + 1).copied());
            let ids = match (a, b) {
                (Some(a), Some(b)) => self.ids.get(a as usize..b as usize).unwrap_or_default(),
                _ => &[],
            };
            let mut entries: Vec<Entry> = ids
                .iter()
                .filter_map(|&id| self.lines.get(id as usize))
                .filter_map(|&(a, b)| self.text.get(a as usize..b as usize))
                .filter_map(|line| parse_line(line).ok().flatten())
                .collect();
            let mut chars = key.chars();
            let single = chars.next().filter(|_| chars.next().is_none());
            entries.sort_by_cached_key(|e| {
                let usage = single.map_or(0, |c| self.usage(c, &e.pinyin_numbered));
                rank(e, key, usage)
            });
            entries.into_boxed_slice()
        });
        Some(entries)
    }

    /// How many words (of two or more characters) read `c` as `syllable`.
    fn usage(&self, c: char, syllable: &str) -> u32 {
        syllable_key(syllable)
            .and_then(|s| self.usage.get(&(c, s)))
            .copied()
            .unwrap_or(0)
    }

    /// Simplified headwords of the entries whose senses (the raw text between the slashes)
    /// satisfy `keep`, e.g. `|s| s.contains("(idiom)")`; each headword once, in file order.
    pub fn headwords_where(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for &(a, b) in &self.lines {
            let Some(line) = self.text.get(a as usize..b as usize) else {
                continue;
            };
            if let Ok(Some(p)) = split_line(line) {
                if keep(p.senses) && seen.insert(p.simplified) {
                    out.push(p.simplified.to_string());
                }
            }
        }
        out
    }

    /// Number of entries (lines) in the dictionary.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when the dictionary has no entries.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Number of malformed lines skipped while loading.
    pub fn skipped(&self) -> usize {
        self.skipped
    }
}

/// Counts, for a common word (no capitalised syllable) of two or more characters with one
/// syllable per character, each character's reading (a frequency proxy: 说 is read shuo1 in
/// far more words than shui4).
fn count_usage(usage: &mut HashMap<(char, u64), u32>, parts: &Parts<'_>) {
    let n = parts.simplified.chars().count();
    let mut syllables = parts.pinyin.split_whitespace();
    if n < 2
        || syllables.clone().count() != n
        || syllables.any(|s| s.starts_with(|c: char| c.is_uppercase()))
    {
        return;
    }
    let syllables = parts.pinyin.split_whitespace().map(syllable_key);
    let chars = parts.simplified.chars().zip(
        parts
            .traditional
            .chars()
            .map(Some)
            .chain(std::iter::repeat(None)),
    );
    for ((simp, trad), syllable) in chars.zip(syllables) {
        let Some(syllable) = syllable else { continue };
        for c in std::iter::once(simp).chain(trad.filter(|&t| t != simp)) {
            if is_han(c) {
                *usage.entry((c, syllable)).or_insert(0) += 1;
            }
        }
    }
}

/// A numbered syllable (at most 8 bytes), lower-cased and packed into a `u64`.
fn syllable_key(syllable: &str) -> Option<u64> {
    let bytes = syllable.as_bytes();
    if bytes.len() > 8 {
        return None;
    }
    let mut packed = [0u8; 8];
    for (p, b) in packed.iter_mut().zip(bytes) {
        *p = b.to_ascii_lowercase();
    }
    Some(u64::from_le_bytes(packed))
}

pub(super) fn load_embedded() -> Dictionary {
    let gz = flate2::read::GzDecoder::new(CEDICT_GZ);
    Dictionary::from_reader(std::io::BufReader::with_capacity(1 << 16, gz))
}

/// Sort key of an entry looked up under `key` (lower is better); see [`Dictionary::lookup`].
/// `usage` counts the common words that read `key` (one character) with the entry's syllable.
fn rank(e: &Entry, key: &str, usage: u32) -> (bool, u8, std::cmp::Reverse<u64>) {
    let senses = || e.senses.iter().map(|s| s.to_lowercase());
    let first = senses().next().unwrap_or_default();
    let kind = if is_particle(e) {
        0
    } else if first.starts_with("surname ") {
        3
    } else if senses().all(|s| is_variant_sense(&s)) {
        5
    } else if senses().all(|s| s.starts_with("used in ") || s.starts_with("see ")) {
        4
    } else if e
        .pinyin_numbered
        .starts_with(|c: char| c.is_ascii_uppercase())
    {
        2
    } else {
        1
    };
    // Frequency proxy: a sense weighs as much as 20 words using the reading; a sense that only
    // points at the headword looked up weighs nothing (骽 "hip bone; old variant of 腿" under
    // 腿, 鍾 "…; variant of 鐘|钟" under 钟).
    let senses = e
        .senses
        .iter()
        .filter(|s| !(is_note_sense(s) || (points_elsewhere(s) && s.contains(key))))
        .count();
    let weight = u64::try_from(senses).unwrap_or(u64::MAX).saturating_mul(20);
    let weight = weight.saturating_add(u64::from(usage));
    (e.simplified != key, kind, std::cmp::Reverse(weight))
}

/// A neutral-tone grammatical particle or marker (了 le5, 的 de5, 着 zhe5, 吗 ma5), but not one
/// that stands in for another (哪 na5, "particle … used instead of 啊[a5]").
fn is_particle(e: &Entry) -> bool {
    let neutral = !e.pinyin_numbered.is_empty()
        && e.pinyin_numbered
            .split_whitespace()
            .all(|s| s.ends_with('5'));
    neutral
        && e.senses.iter().take(2).any(|s| {
            let s = s.to_lowercase();
            (s.contains("particle") || s.contains("marker"))
                && !s.contains("instead of")
                && !s.contains("equivalent")
                && !s.contains("variant")
        })
}

/// A sense that is only a pointer to another form: "variant of 鐘|钟[zhong1]", "old variant
/// of 腿[tui3]" (not "inscribed bamboo stick (variant of 籤|签[qian1])", which has a meaning).
fn points_elsewhere(s: &str) -> bool {
    let s = s.to_lowercase();
    [
        "variant of ",
        "old variant of ",
        "japanese variant of ",
        "archaic variant of ",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

/// A sense that only points at another form: "variant of", "old variant of", "(archaic) …".
fn is_variant_sense(s: &str) -> bool {
    s.contains("variant of")
        || s.starts_with("(archaic)")
        || s.starts_with("archaic ")
        || s.starts_with("(old)")
        || s.starts_with("old form")
        || s.starts_with("(obsolete)")
}
