//! Which sentences of a text are worth a reader's correction, most informative first. A
//! sentence's doubt is the probability that at least one of its boundaries is decided wrong,
//! `1 − Π decided_prob` over the boundaries the model decided (at the display temperature,
//! calibrated on dev): bounded by 1, so one sentence's many doubts do not hide the rest, and
//! long sure sentences are not pushed up by their length alone. The order is then diversified:
//! a sentence whose least sure place (the words around its weakest boundary) repeats one
//! already queued counts `repeat_discount` times less for each earlier one, so ten sentences
//! with the same unknown word do not fill the queue. [`dictionary_candidates`]: words the model
//! keeps splitting where it doubts, worth one `/dict add`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use super::Segmentation;

/// One sentence's place in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Doubt {
    /// Its index in the segmentations given.
    pub index: usize,
    /// The probability that a boundary of it is wrong (before any discount).
    pub score: f32,
    /// The boundary the model is least sure of (index into `boundaries`), if any was decided.
    pub weakest: Option<usize>,
    /// The words around that boundary (`想|不到` where it splits, the word where it does not):
    /// what repeats across sentences that share one doubt.
    pub key: String,
}

/// The doubt of one sentence (see the module documentation).
pub fn doubt(index: usize, s: &Segmentation) -> Doubt {
    let mut sure = 1.0f64;
    let mut weakest: Option<(usize, f32)> = None;
    for (i, b) in s.boundaries.iter().enumerate() {
        if b.forced {
            continue;
        }
        let p = b.decided_prob().clamp(0.0, 1.0);
        sure *= p as f64;
        if weakest.is_none_or(|w| p < w.1) {
            weakest = Some((i, p));
        }
    }
    let key = weakest.map(|(i, _)| key_at(s, i)).unwrap_or_default();
    Doubt {
        index,
        score: (1.0 - sure) as f32,
        weakest: weakest.map(|w| w.0),
        key,
    }
}

/// The words touching boundary `i` of `s`.
fn key_at(s: &Segmentation, i: usize) -> String {
    let Some(b) = s.boundaries.get(i) else {
        return String::new();
    };
    let before = s.words.iter().position(|w| w.chars.end >= b.at);
    match before {
        Some(k) if s.words[k].chars.end == b.at => {
            let next = s.words.get(k + 1).map_or("", |w| w.text.as_str());
            format!("{}|{next}", s.words[k].text)
        }
        Some(k) => s.words[k].text.clone(),
        None => String::new(),
    }
}

struct Entry {
    adjusted: f32,
    doubt: Doubt,
    /// How many sentences with the same key were queued when `adjusted` was computed.
    seen: usize,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Higher adjusted doubt first; among equals, the earlier sentence.
    fn cmp(&self, o: &Self) -> Ordering {
        self.adjusted
            .total_cmp(&o.adjusted)
            .then(o.doubt.index.cmp(&self.doubt.index))
    }
}

/// All sentences, most informative first (see the module documentation); `repeat_discount`
/// in (0, 1] (1: no diversification). Sentences without a decided boundary come last, in order.
pub fn review_order(segs: &[Segmentation], repeat_discount: f32) -> Vec<Doubt> {
    let discount = if repeat_discount.is_finite() {
        repeat_discount.clamp(1e-6, 1.0)
    } else {
        1.0
    };
    let mut heap: BinaryHeap<Entry> = segs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let d = doubt(i, s);
            Entry {
                adjusted: d.score,
                doubt: d,
                seen: 0,
            }
        })
        .collect();
    let mut queued: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(segs.len());
    while let Some(mut e) = heap.pop() {
        let seen = if e.doubt.key.is_empty() {
            0
        } else {
            queued.get(&e.doubt.key).copied().unwrap_or(0)
        };
        if seen != e.seen {
            // Stale: others with its key were queued since; push it back at its new worth.
            e.seen = seen;
            e.adjusted = e.doubt.score * discount.powi(seen as i32);
            heap.push(e);
            continue;
        }
        if !e.doubt.key.is_empty() {
            *queued.entry(e.doubt.key.clone()).or_default() += 1;
        }
        out.push(e.doubt);
    }
    out
}

/// Words worth offering for the user dictionary, most often doubted first: two words the model
/// split at the least sure place of at least `min` queued sentences, whose joined string
/// `known` says is a word (the caller's dictionary), at most 4 characters.
pub fn dictionary_candidates(
    segs: &[Segmentation],
    order: &[Doubt],
    known: impl Fn(&str) -> bool,
    min: usize,
) -> Vec<(String, usize)> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for d in order {
        let split = d
            .weakest
            .and_then(|i| segs.get(d.index)?.boundaries.get(i))
            .is_some_and(|b| b.split);
        let Some((a, b)) = d.key.split_once('|').filter(|_| split) else {
            continue;
        };
        let joined = format!("{a}{b}");
        if !b.is_empty() && joined.chars().count() <= 4 && known(&joined) {
            *counts.entry(joined).or_default() += 1;
        }
    }
    let mut out: Vec<(String, usize)> = counts.into_iter().filter(|c| c.1 >= min).collect();
    out.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::{Boundary, Units, Word};

    /// A segmentation of `words` (one character a unit) whose boundaries are decided with the
    /// given probability of what was decided, `sure[i]` after character `i`.
    fn seg(words: &[&str], sure: &[f32]) -> Segmentation {
        let text: String = words.concat();
        let n = text.chars().count();
        assert_eq!(sure.len(), n - 1);
        let mut ends = std::collections::HashSet::new();
        let mut ws = Vec::new();
        let (mut c, mut b) = (0, 0);
        for w in words {
            let (k, l) = (w.chars().count(), w.len());
            ws.push(Word {
                text: w.to_string(),
                chars: c..c + k,
                bytes: b..b + l,
            });
            c += k;
            b += l;
            ends.insert(c);
        }
        let boundaries = (1..n)
            .map(|at| {
                let split = ends.contains(&at);
                let p = sure[at - 1];
                Boundary {
                    at,
                    prob: if split { p } else { 1.0 - p },
                    split,
                    forced: false,
                }
            })
            .collect();
        Segmentation {
            text,
            word_probs: vec![1.0; ws.len()],
            words: ws,
            boundaries,
            temperature: 1.0,
            log_probs: vec![],
            units: Units {
                ids: vec![0; n],
                spans: (0..n).map(|i| i..i + 1).collect(),
                gap: vec![false; n],
                types: vec![0; n],
                joined: vec![false; n],
            },
            pos: vec![],
            by_built_in: false,
        }
    }

    #[test]
    fn the_sentence_with_a_weak_boundary_comes_first_and_sure_ones_last() {
        let segs = [
            seg(&["我们", "去", "公园"], &[0.99, 0.99, 0.99, 0.99]),
            seg(&["想", "不到"], &[0.55, 0.98]),
            seg(&["很", "好"], &[0.999]),
        ];
        let order = review_order(&segs, 0.5);
        let idx: Vec<usize> = order.iter().map(|d| d.index).collect();
        assert_eq!(idx, vec![1, 0, 2]);
        assert!((order[0].score - (1.0 - 0.55 * 0.98)).abs() < 1e-5);
        assert_eq!(order[0].key, "想|不到");
        assert_eq!(order[0].weakest, Some(0));
        // Many small doubts add up, but never past 1.
        let long = seg(&["一"; 40], &[0.9; 39]);
        let d = doubt(0, &long);
        assert!(d.score > 0.98 && d.score <= 1.0, "{}", d.score);
    }

    #[test]
    fn sentences_sharing_one_doubt_are_spread_out() {
        // Three sentences doubting the same word 不到, each more than a fourth one elsewhere.
        let segs = [
            seg(&["想", "不到", "啊"], &[0.5, 0.99, 0.99]),
            seg(&["真", "想", "不到"], &[0.99, 0.52, 0.99]),
            seg(&["想", "不到", "呢"], &[0.51, 0.99, 0.99]),
            seg(&["酒店", "很", "差"], &[0.99, 0.7, 0.99]),
        ];
        let plain: Vec<usize> = review_order(&segs, 1.0).iter().map(|d| d.index).collect();
        assert_eq!(plain, vec![0, 2, 1, 3], "no discount: by doubt alone");
        let spread: Vec<usize> = review_order(&segs, 0.5).iter().map(|d| d.index).collect();
        assert_eq!(spread[0], 0);
        assert_eq!(
            spread[1], 3,
            "the other doubt comes before the repeats: {spread:?}"
        );
        let mut all = spread.clone();
        all.sort();
        assert_eq!(all, vec![0, 1, 2, 3], "every sentence is still queued once");
    }

    #[test]
    fn a_word_split_in_several_doubts_is_offered_for_the_dictionary() {
        let segs = [
            seg(&["想", "不到", "啊"], &[0.5, 0.99, 0.99]),
            seg(&["真", "想", "不到"], &[0.99, 0.52, 0.99]),
            seg(&["酒店", "很", "差"], &[0.99, 0.7, 0.99]),
            seg(&["想不到"], &[0.6, 0.99]),
        ];
        let order = review_order(&segs, 0.5);
        let known = |w: &str| ["想不到", "酒店很"].contains(&w);
        let c = dictionary_candidates(&segs, &order, known, 2);
        assert_eq!(
            c,
            vec![("想不到".to_string(), 2)],
            "joined once, known, twice"
        );
        assert!(dictionary_candidates(&segs, &order, |_| false, 1).is_empty());
        let once = dictionary_candidates(&segs, &order, known, 1);
        assert!(once.contains(&("酒店很".to_string(), 1)), "{once:?}");
    }

    #[test]
    fn forced_and_empty_lines_have_no_doubt() {
        let mut s = seg(&["你", "好"], &[0.5]);
        s.boundaries[0].forced = true;
        let d = doubt(0, &s);
        assert_eq!((d.score, d.weakest, d.key.as_str()), (0.0, None, ""));
        assert!(review_order(&[], 0.5).is_empty());
    }
}
