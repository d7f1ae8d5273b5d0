//! [`Constraints`]: the boundaries the decoder must keep or must not make.

use std::ops::Range;

use crate::text::{to_halfwidth, Units};

/// (`name@host.tld`) in `chars`: runs of ASCII (or full-width ASCII) non-space characters,
/// without trailing punctuation.
fn address_spans(chars: &[char]) -> Vec<Range<usize>> {
    let ascii: Vec<char> = chars.iter().map(|&c| to_halfwidth(c)).collect();
    let word = |c: char| c.is_ascii_graphic();
    let mut out = Vec::new();
    let mut i = 0;
    while i < ascii.len() {
        if !word(ascii[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < ascii.len() && word(ascii[i]) {
            i += 1;
        }
        let mut end = i;
        while end > start
            && matches!(
                ascii[end - 1],
                '.' | ',' | ';' | ':' | '!' | '?' | ')' | '"' | '\''
            )
        {
            end -= 1;
        }
        let run: String = ascii[start..end].iter().collect();
        let web = run.contains("://") || run.to_ascii_lowercase().starts_with("www.");
        let mail = run.split_once('@').is_some_and(|(name, host)| {
            !name.is_empty() && host.contains('.') && !host.ends_with('.')
        });
        // Where the address starts inside the run: after leading brackets or quotes.
        let lead = ascii[start..end]
            .iter()
            .take_while(|c| matches!(c, '(' | '"' | '\'' | '<' | '['))
            .count();
        if (web || mail) && end > start + lead {
            out.push(start + lead..end);
        }
    }
    out
}

/// Which boundaries the decoder must keep or must not make, indexed by unit: `forced[i]` means a
/// word starts at unit `i`; `forbidden[i]` means unit `i` continues the previous word.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// A word must start at these units.
    pub forced: Vec<bool>,
    /// A word must not start at these units.
    pub forbidden: Vec<bool>,
}

/// Reduplicated nouns that stand side by side as two words (爸爸 妈妈, 弟弟 妹妹), although the
/// pair of their characters is a word too (爸妈, 弟妹).
const KIN: &[&str] = &[
    "爸爸", "妈妈", "哥哥", "姐姐", "弟弟", "妹妹", "爷爷", "奶奶", "公公", "婆婆", "叔叔", "伯伯",
    "舅舅", "姑姑", "姥姥", "宝宝", "娃娃",
];

/// Reduplicated adverbs before a doubled verb (好好 看看, 慢慢 走走): not AABB words, although
/// 好看 and 慢走 are words.
const ADVERB_AA: &[&str] = &[
    "好好", "刚刚", "常常", "天天", "慢慢", "偷偷", "细细", "渐渐", "悄悄", "早早", "紧紧",
];

/// The AABB reduplications in `text` of a word AB of `words` (干干净净 of 干净, 开开心心, 平平安安):
/// People's Daily writes them as one word (287 times in its training text against a handful
/// split), and a model easily cuts them where its dictionary features see AB (干 干净净). Not
/// one: two reduplicated nouns side by side (爸爸 妈妈), an adverb before a doubled verb (好好
/// 看看), a run where words end at the first A and start at the second B (宪法 法院 院长, not
/// 法法院院), and anything that overlaps a word of `user` (the user's dictionary wins).
pub fn reduplications(text: &str, words: &crate::text::WordSet, user: &[String]) -> Vec<String> {
    let c: Vec<char> = text.chars().collect();
    let mut reserved = vec![false; c.len()];
    for u in user {
        let u: Vec<char> = u.chars().collect();
        if u.is_empty() || u.len() > c.len() {
            continue;
        }
        for i in 0..=c.len() - u.len() {
            if c[i..i + u.len()] == u[..] {
                reserved[i..i + u.len()].fill(true);
            }
        }
    }
    let listed = |s: &[char]| words.contains(&s.iter().collect::<String>());
    let mut out: Vec<String> = Vec::new();
    for i in 0..c.len().saturating_sub(3) {
        let Some((a, b)) = crate::text::aabb(&c[i..i + 4]) else {
            continue;
        };
        let (aa, bb): (String, String) = ([a, a].iter().collect(), [b, b].iter().collect());
        let kin = KIN.contains(&aa.as_str()) && KIN.contains(&bb.as_str());
        if !listed(&[a, b]) || kin || ADVERB_AA.contains(&aa.as_str()) {
            continue;
        }
        let left = (i.saturating_sub(3)..i).any(|k| listed(&c[k..=i]));
        let right = (2..=4).any(|n| i + 3 + n <= c.len() && listed(&c[i + 3..i + 3 + n]));
        let s: String = c[i..i + 4].iter().collect();
        // Words on both sides (宪法 法院 院长), a user's word over it, or already found.
        let overlapped = left && right || reserved[i..i + 4].iter().any(|&r| r);
        if !overlapped && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Degree adverbs that stand before a quality as a word of their own (很 困, 非常 困, 特别 冷).
/// Not 最 and 更, which People's Daily joins to many words (最低, 更新), nor 十分 (五十分钟), nor
/// 太 and 挺, which start names (太行, 王挺华) as often as they mean "too" and "quite", nor
/// 有点 and 有些 (有点心, 有些许).
const DEGREE: &[&str] = &["很", "非常", "特别", "比较", "相当", "极其"];

/// Words that start with a degree adverb and that People's Daily writes as one (its training
/// text: 很多 99 times, 很快 48), beyond the dictionary features' words.
const DEGREE_WORDS: &[&str] = &["很多", "很快", "很难说"];

/// What may follow the quality X for [`degree_boundaries`] to apply: the end of the text,
/// punctuation, or a sentence particle (她非常困。 / 我特别渴了 / 很冷吗).
fn ends_quality(c: Option<&char>) -> bool {
    match c {
        None => true,
        Some(&c) => !c.is_alphanumeric() || "了的吗啊呢吧啦呀".contains(c),
    }
}

/// Where a word must start after a degree adverb in `text` (character offsets): before a
/// one-character quality X that follows the adverb D and ends its clause (before punctuation,
/// a particle or the end: 她非常困。), when no word of `words` (or [`DEGREE_WORDS`]) starts at
/// D and covers X (很多, 非常规), none starts inside D and runs past it (非常任 of 常任), and D
/// is not the end of a longer word (渥太华, 独特别致). A model with dictionary features joins such
/// pairs where the quality is rare in news (她 非常困).
pub fn degree_boundaries(text: &str, words: &crate::text::WordSet) -> Vec<usize> {
    let c: Vec<char> = text.chars().collect();
    let listed = |s: &[char]| {
        let s: String = s.iter().collect();
        words.contains(&s) || DEGREE_WORDS.contains(&s.as_str())
    };
    let mut out = Vec::new();
    for d in DEGREE {
        let d: Vec<char> = d.chars().collect();
        let mut i = 0;
        while i + d.len() < c.len() {
            if c[i..i + d.len()] != d[..] {
                i += 1;
                continue;
            }
            let x = i + d.len();
            // D inside a longer word (渥太华, 独特别致): no listed word starts before D and
            // reaches into it.
            let inside = (i.saturating_sub(3)..i)
                .any(|k| (i + 1..=(k + 6).min(c.len())).any(|e| listed(&c[k..e])));
            // A word that starts inside D and runs past it (常任 in 非常任).
            let across =
                (i + 1..x).any(|k| (x + 1..=(k + 6).min(c.len())).any(|e| listed(&c[k..e])));
            let covered = (x + 1..=(x + 4).min(c.len())).any(|e| listed(&c[i..e]));
            if crate::text::is_han(c[x])
                && ends_quality(c.get(x + 1))
                && !inside
                && !across
                && !covered
            {
                out.push(x);
            }
            i = x;
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

impl Constraints {
    /// Makes a word start at each character offset of `at` (where a unit starts there), unless
    /// something forbade it (a WordPiece word, a run of letters).
    pub fn force_boundaries_at(&mut self, text: &str, units: &Units, at: &[usize]) {
        if at.is_empty() {
            return;
        }
        let (start_at, _) = units.edges(text.chars().count());
        for &a in at {
            if let Some(&u) = start_at.get(a) {
                if u != usize::MAX && !self.forbidden[u] {
                    self.forced[u] = true;
                }
            }
        }
    }

    /// No constraints beyond whitespace gaps and whole WordPiece words ([`Units::joined`]) for
    /// `units`.
    pub fn from_gaps(units: &Units) -> Self {
        let mut c = Self {
            forced: units.gap.clone(),
            forbidden: vec![false; units.len()],
        };
        c.keep_joined(units);
        c
    }

    /// No boundary inside a WordPiece word: units marked [`Units::joined`] continue the word
    /// before them, whatever else asked for a boundary there.
    fn keep_joined(&mut self, units: &Units) {
        for (i, &j) in units.joined.iter().enumerate().take(self.forced.len()) {
            if j && i > 0 {
                self.forbidden[i] = true;
                self.forced[i] = false;
            }
        }
    }

    /// The constraints every line gets: whitespace gaps are boundaries, and a run of Latin
    /// letters or of digits (half- or full-width) is never cut. A vocabulary without whole Latin words
    /// tokenizes them letter by letter and the model then tags each letter, but no word splits
    /// inside "iPhone" (of the ~1,100 adjacent letter pairs in the PKU data, the gold splits one:
    /// ５６Ｋ Ｍｏｄｅｍ).
    pub fn for_line(text: &str, units: &Units) -> Self {
        let mut c = Self::from_gaps(units);
        let chars: Vec<char> = text.chars().collect();
        // Letters with letters, digits with digits (13800138000 is one number; PKU's gold splits
        // digit runs only where its tables lost their spaces, 306 of 23,378 adjacent pairs).
        let kind = |i: usize| {
            chars.get(i).map(|&ch| to_halfwidth(ch)).and_then(|h| {
                if h.is_ascii_alphabetic() {
                    Some(0)
                } else if h.is_ascii_digit() {
                    Some(1)
                } else {
                    None
                }
            })
        };
        for i in 1..units.len() {
            let (prev, cur) = (&units.spans[i - 1], &units.spans[i]);
            // The last character of the unit before, past any combining mark it carries (é).
            let last = (prev.start..prev.end)
                .rev()
                .find(|&k| {
                    !chars
                        .get(k)
                        .is_some_and(|&c| crate::text::is_combining_mark(c))
                })
                .unwrap_or(prev.end - 1);
            if !units.gap[i]
                && prev.end == cur.start
                && kind(last).is_some()
                && kind(last) == kind(cur.start)
            {
                c.forbidden[i] = true;
            }
        }
        // Web addresses and e-mail addresses are one word each.
        let (start_at, end_at) = units.edges(chars.len());
        for r in address_spans(&chars) {
            let (a, b) = (start_at[r.start], end_at[r.end]);
            if a == usize::MAX || b == usize::MAX {
                continue;
            }
            c.mark_word(a, b);
        }
        c.keep_joined(units);
        c
    }

    /// Makes units `a..=b` one word: a boundary before `a` and after `b`, none inside.
    fn mark_word(&mut self, a: usize, b: usize) {
        self.forced[a] = true;
        self.forbidden[a] = false;
        for u in a + 1..=b {
            self.forbidden[u] = true;
            self.forced[u] = false;
        }
        if b + 1 < self.forced.len() {
            self.forced[b + 1] = true;
            self.forbidden[b + 1] = false;
        }
    }

    /// Makes, for each `(start, words)` of `fixes`, `words` the words of `text` from character
    /// offset `start` on (rules learnt from corrections, [`super::rules`]; the fixes do not
    /// overlap), unless that would cut where a word must not start (inside a WordPiece word, a
    /// run of letters or digits, an address, a forced word) or join across a boundary something
    /// forced (whitespace, a forced word's edge): such a fix changes nothing. Whether any did.
    pub fn force_segmentations(
        &mut self,
        text: &str,
        units: &Units,
        fixes: &[(usize, &[String])],
    ) -> bool {
        if fixes.is_empty() {
            return false;
        }
        let (start_at, end_at) = units.edges(text.chars().count());
        let mut changed = false;
        'fix: for &(start, words) in fixes {
            let mut spans = Vec::with_capacity(words.len());
            let mut pos = start;
            for w in words {
                let end = pos + w.chars().count();
                let (Some(&a), Some(&b)) = (start_at.get(pos), end_at.get(end)) else {
                    continue 'fix;
                };
                if a == usize::MAX || b == usize::MAX || a > b {
                    continue 'fix;
                }
                let cuts_forbidden = |u: usize| self.forbidden.get(u).copied().unwrap_or(false);
                if cuts_forbidden(a) || cuts_forbidden(b + 1) || (a + 1..=b).any(|u| self.forced[u])
                {
                    continue 'fix;
                }
                spans.push((a, b));
                pos = end;
            }
            for (a, b) in spans {
                self.mark_word(a, b);
            }
            changed = true;
        }
        changed
    }

    /// Forces the words `dict` wherever they occur in `text` (longest match first, left to
    /// right, only where the word's edges fall on unit edges and no whitespace lies inside).
    pub fn force_words(&mut self, text: &str, units: &Units, dict: &[String]) {
        if dict.is_empty() || units.is_empty() {
            return;
        }
        let chars: Vec<char> = text.chars().collect();
        let (start_at, end_at) = units.edges(chars.len());
        let mut words: Vec<Vec<char>> = dict.iter().map(|w| w.chars().collect()).collect();
        words.retain(|w| !w.is_empty());
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let mut taken = vec![false; units.len()];
        let mut pos = 0;
        while pos < chars.len() {
            let mut matched = 0;
            if start_at[pos] != usize::MAX {
                for w in &words {
                    let end = pos + w.len();
                    if end <= chars.len() && chars[pos..end] == w[..] && end_at[end] != usize::MAX {
                        let (a, b) = (start_at[pos], end_at[end]);
                        let clash = (a..=b).any(|u| taken[u])
                            || (a + 1..=b).any(|u| self.forced[u] && units.gap[u]);
                        if !clash {
                            self.mark_word(a, b);
                            for t in &mut taken[a..=b] {
                                *t = true;
                            }
                            matched = w.len();
                            break;
                        }
                    }
                }
            }
            pos += matched.max(1);
        }
        self.keep_joined(units);
    }
}

#[cfg(test)]
mod reduplication_tests {
    use super::reduplications;
    use crate::text::WordSet;

    #[test]
    fn aabb_of_a_listed_word_is_found_once_and_kin_pairs_are_not() {
        let words = WordSet::new(["干净", "爸妈", "星点"].map(String::from));
        assert_eq!(
            reduplications("扫得干干净净，干干净净的", &words, &[]),
            ["干干净净"]
        );
        assert!(reduplications("爸爸妈妈", &words, &[]).is_empty());
        // Not a listed AB, not AABB, AAAA, Latin, too short or empty: nothing.
        assert!(reduplications("高高兴兴", &words, &[]).is_empty());
        assert!(reduplications("干净干净", &words, &[]).is_empty());
        assert!(reduplications("哈哈哈哈", &words, &[]).is_empty());
        assert!(reduplications("aabb", &WordSet::new(["ab".to_string()]), &[]).is_empty());
        assert!(reduplications("干干", &words, &[]).is_empty());
        assert!(reduplications("", &words, &[]).is_empty());
        assert_eq!(reduplications("星星点点", &words, &[]), ["星星点点"]);
    }

    #[test]
    fn overlapping_words_adverbs_and_the_users_words_keep_aabb_apart() {
        let words = WordSet::new(["宪法", "法院", "院长", "好看", "干净"].map(String::from));
        // 宪法 法院 院长: words end at the first 法 and start at the second 院.
        assert!(reduplications("宪法法院院长", &words, &[]).is_empty());
        // 好好 看看 is an adverb and a doubled verb.
        assert!(reduplications("你好好看看", &words, &[]).is_empty());
        // A user's word that overlaps wins; one elsewhere does not matter.
        assert!(reduplications("扫得干干净净", &words, &["得干".to_string()]).is_empty());
        assert_eq!(
            reduplications("扫得干干净净", &words, &["院长".to_string(), String::new()]),
            ["干干净净"]
        );
    }
}

#[cfg(test)]
mod degree_tests {
    use super::degree_boundaries;
    use crate::text::WordSet;

    #[test]
    fn a_word_starts_after_a_degree_adverb_unless_a_word_covers_them() {
        let words =
            WordSet::new(["非常规", "渥太华", "特别是", "独特", "特别", "常任"].map(String::from));
        // 她非常困。: a boundary before 困 (offset 3); 我特别渴 before 渴 (3).
        assert_eq!(degree_boundaries("她非常困。", &words), [3]);
        assert_eq!(degree_boundaries("我特别渴", &words), [3]);
        assert_eq!(degree_boundaries("今天很冷吗？", &words), [3]);
        // Words that start with the adverb: listed (非常规, 特别是) or PKU's (很多, 很快).
        assert!(degree_boundaries("非常规武器", &words).is_empty());
        assert!(degree_boundaries("特别是孩子", &words).is_empty());
        assert!(degree_boundaries("很多人很快来了", &words).is_empty());
        // The adverb inside a longer word (独特 reaches into 特别; 常任 starts inside 非常), or
        // at the very end, or before something that is not Han: nothing.
        assert!(degree_boundaries("独特别致", &words).is_empty());
        assert!(degree_boundaries("非常任理事国。", &words).is_empty());
        assert!(degree_boundaries("他很", &words).is_empty());
        assert!(degree_boundaries("很OK", &words).is_empty());
        assert!(degree_boundaries("", &words).is_empty());
        // A quality that goes on (非常规武器 without the word listed, 非常高兴): the model's call.
        assert!(degree_boundaries("非常设机构", &words).is_empty());
        assert!(degree_boundaries("他非常高兴。", &words).is_empty());
        assert_eq!(degree_boundaries("很累，非常累", &words), [1, 5]);
    }
}
