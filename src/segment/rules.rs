//! Rules a user's corrections teach: a string that at least [`MIN_TIMES`] corrected sentences
//! re-segment the same way, and none segments otherwise, is segmented that way wherever a
//! fine-tuned model's words start at the string's start and end at its end (issue 21).
//!
//! Fine-tuning learns most of what corrections say, but a convention the old domain holds the
//! other way is learnt only partly: the review pool's labellers split 一个, People's Daily
//! joins it 1,507 times against 67, and after training on 50 corrections, five of which split
//! it, the new weights still joined it in 9 of the other sentences. [`learn`] finds such
//! strings (the spans where a correction's boundaries differ from what the model under the
//! versions writes, between boundaries both share); the version keeps them in its `route.json`
//! ([`crate::tagger::Rule`]) and [`fixes`] applies them to the fine-tuned model's words, only
//! where the model already starts a word at the string's start and ends one at its end (so
//! 第一 个 is left alone by a rule for 一个), and only where nothing else forced the words
//! there (the user's dictionary, whitespace, runs of letters or digits:
//! `Constraints::force_segmentations`). The built-in model behind a routed version never uses
//! them. `/train` compares with the built-in model (or with the unrouted model it trains
//! from), not with the active version, which already writes its corrections as corrected: so a
//! version trained from a version learns its rules again from all the corrections.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use crate::tagger::Rule;

/// How many corrected sentences must change a string the same way before it becomes a rule.
pub const MIN_TIMES: usize = 2;

/// The character offsets at which the words of `words` start, and the end.
fn bounds<S: AsRef<str>>(words: &[S]) -> Vec<usize> {
    let mut out = vec![0];
    let mut at = 0;
    for w in words {
        at += w.as_ref().chars().count();
        out.push(at);
    }
    out
}

/// The words of `words` that tile characters `a..b` exactly, or `None` when a word crosses
/// `a` or `b`.
fn words_in<S: AsRef<str>>(words: &[S], a: usize, b: usize) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut at = 0;
    for w in words {
        let (start, end) = (at, at + w.as_ref().chars().count());
        at = end;
        if end <= a || start >= b {
            continue;
        }
        if start < a || end > b {
            return None;
        }
        out.push(w.as_ref());
    }
    Some(out)
}

/// Char offsets at which `needle` occurs in `hay`.
fn occurrences(hay: &[char], needle: &[char]) -> Vec<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return Vec::new();
    }
    (0..=hay.len() - needle.len())
        .filter(|&i| hay[i..i + needle.len()] == *needle)
        .collect()
}

/// The rules that `corrected` teaches against `before` (the same sentences as the model before
/// the corrections segmented them): each span between boundaries both share, inside which they
/// differ, is a candidate; it becomes a rule when at least [`MIN_TIMES`] different corrected
/// sentences change it to the same words and no correction segments it otherwise (or crosses
/// it) where it occurs. Longest first.
pub fn learn(before: &[Vec<String>], corrected: &[Vec<String>]) -> Vec<Rule> {
    // text → (words, the corrected sentences that changed it, contradicted)
    let mut found: BTreeMap<String, (Vec<String>, HashSet<String>, bool)> = BTreeMap::new();
    for (b, g) in before.iter().zip(corrected) {
        let sentence = g.concat();
        if b.concat() != sentence {
            continue;
        }
        let chars: Vec<char> = sentence.chars().collect();
        let (bb, gb) = (bounds(b), bounds(g));
        let common: Vec<usize> = gb.iter().copied().filter(|x| bb.contains(x)).collect();
        for pair in common.windows(2) {
            let (a, z) = (pair[0], pair[1]);
            let differs = (a + 1..z).any(|x| bb.contains(&x) != gb.contains(&x));
            if !differs {
                continue;
            }
            let text: String = chars[a..z].iter().collect();
            if text.chars().any(char::is_whitespace) {
                continue;
            }
            let words: Vec<String> = words_in(g, a, z)
                .unwrap_or_default()
                .into_iter()
                .map(String::from)
                .collect();
            let e = found
                .entry(text)
                .or_insert_with(|| (words.clone(), HashSet::new(), false));
            // A sentence counts once, however often it changes the string or is stored.
            e.1.insert(sentence.clone());
            e.2 |= e.0 != words;
        }
    }
    // A correction that segments the string otherwise anywhere (or crosses it) contradicts it.
    for g in corrected {
        let chars: Vec<char> = g.concat().chars().collect();
        for (text, (words, _, contradicted)) in found.iter_mut() {
            if *contradicted {
                continue;
            }
            let needle: Vec<char> = text.chars().collect();
            *contradicted = occurrences(&chars, &needle)
                .into_iter()
                .any(|k| words_in(g, k, k + needle.len()).is_none_or(|w| w != *words));
        }
    }
    let mut rules: Vec<Rule> = found
        .into_iter()
        .filter(|(_, (_, by, contradicted))| by.len() >= MIN_TIMES && !contradicted)
        .map(|(text, (words, by, _))| Rule {
            text,
            words,
            times: by.len(),
        })
        .collect();
    rules.sort_by(|a, b| {
        b.text
            .chars()
            .count()
            .cmp(&a.text.chars().count())
            .then(a.text.cmp(&b.text))
    });
    rules
}

/// Where `rules` change a segmentation of `text` (its words' character ranges, in order): the
/// character offset and the rule of each occurrence of a rule's string that starts and ends at
/// a word edge and is segmented otherwise there; occurrences do not overlap (longer rules
/// first, then left to right).
pub fn fixes<'r>(text: &str, words: &[Range<usize>], rules: &'r [Rule]) -> Vec<(usize, &'r Rule)> {
    if rules.is_empty() {
        return Vec::new();
    }
    let chars: Vec<char> = text.chars().collect();
    let starts: HashSet<usize> = words.iter().map(|r| r.start).collect();
    let ends: HashSet<usize> = words.iter().map(|r| r.end).collect();
    let mut taken = vec![false; chars.len()];
    let mut out = Vec::new();
    let mut order: Vec<&Rule> = rules.iter().collect();
    order.sort_by_key(|r| std::cmp::Reverse(r.text.chars().count()));
    for r in order {
        let needle: Vec<char> = r.text.chars().collect();
        for k in occurrences(&chars, &needle) {
            let end = k + needle.len();
            if taken[k..end].iter().any(|&t| t) || !starts.contains(&k) || !ends.contains(&end) {
                continue;
            }
            let here = words
                .iter()
                .filter(|w| w.start >= k && w.end <= end)
                .map(|w| chars[w.clone()].iter().collect::<String>());
            if here.eq(r.words.iter().cloned()) {
                continue;
            }
            taken[k..end].iter_mut().for_each(|t| *t = true);
            out.push((k, r));
        }
    }
    out.sort_by_key(|(k, _)| *k);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn a_change_made_twice_and_never_contradicted_is_a_rule() {
        let before = [
            ws("我 买 了 一个 苹果 。"),
            ws("他 是 一个 好 人 。"),
            ws("房间 就 是 小 。"),
        ];
        let corrected = [
            ws("我 买 了 一 个 苹果 。"),
            ws("他 是 一 个 好 人 。"),
            ws("房间 就是 小 。"),
        ];
        let rules = learn(&before, &corrected);
        assert_eq!(
            rules,
            vec![Rule {
                text: "一个".into(),
                words: ws("一 个"),
                times: 2
            }],
            "就是 was changed once only"
        );
        // A correction that keeps 一个 whole elsewhere contradicts it.
        let mut b2 = before.to_vec();
        let mut c2 = corrected.to_vec();
        b2.push(ws("一个 人 走 了 。"));
        c2.push(ws("一个 人 走 了 。"));
        assert!(learn(&b2, &c2).is_empty());
        // So does one that crosses it (统一 个人).
        let mut c3 = corrected.to_vec();
        let mut b3 = before.to_vec();
        b3.push(ws("统一 个人 。"));
        c3.push(ws("统一 个人 。"));
        assert!(learn(&b3, &c3).is_empty());
        // Sentences whose text differs from the before are not compared.
        assert!(learn(&[ws("一个"), ws("一个")], &[ws("一 人"), ws("一 人")]).is_empty());
        // Two corrections that give the string different words contradict each other.
        let b4 = [ws("有 一个人 来"), ws("有 一个人 走")];
        assert!(learn(&b4, &[ws("有 一 个人 来"), ws("有 一 个 人 走")]).is_empty());
        assert_eq!(
            learn(&b4, &[ws("有 一 个 人 来"), ws("有 一 个 人 走")])[0].words,
            ws("一 个 人")
        );
        // One sentence counts once, however often it changes the string or is stored.
        let once = [ws("我 有 一个 哥哥 和 一个 妹妹")];
        let fixed = [ws("我 有 一 个 哥哥 和 一 个 妹妹")];
        assert!(learn(&once, &fixed).is_empty());
        assert!(learn(
            &[once[0].clone(), once[0].clone()],
            &[fixed[0].clone(), fixed[0].clone()]
        )
        .is_empty());
    }

    /// The character ranges of `words`.
    fn ranges(words: &[String]) -> Vec<Range<usize>> {
        let b = bounds(words);
        b.windows(2).map(|p| p[0]..p[1]).collect()
    }

    fn fixed(model: &str, rules: &[Rule]) -> Vec<(usize, String)> {
        let w = ws(model);
        fixes(&w.concat(), &ranges(&w), rules)
            .into_iter()
            .map(|(k, r)| (k, r.text.clone()))
            .collect()
    }

    #[test]
    fn rules_apply_only_where_the_model_leaves_the_string_whole() {
        let rules = vec![
            Rule {
                text: "一个".into(),
                words: ws("一 个"),
                times: 2,
            },
            Rule {
                text: "就是".into(),
                words: ws("就是"),
                times: 3,
            },
        ];
        assert_eq!(
            fixed("我 有 一个 朋友 ， 就 是 他 。", &rules),
            vec![(2, "一个".to_string()), (7, "就是".to_string())]
        );
        // Already as the rule says, or crossed by the model's words: nothing to fix.
        assert!(fixed("我 有 一 个 朋友 。", &rules).is_empty());
        assert!(fixed("统一 个人 。", &rules).is_empty());
        assert!(fixed("我 有 一个 朋友 。", &[]).is_empty());
        // Ranges of a line with whitespace: offsets are the line's.
        let line = "a 一个";
        let f = fixes(line, &[0..1, 2..4], &rules);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, 2);
    }
}
