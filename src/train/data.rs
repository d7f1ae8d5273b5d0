//! Training data: gold sentences read, turned into samples, cut into pieces and packed into
//! batches of similar length; the lexicon swap that shows the model unseen dictionary words.

use std::collections::{HashMap, HashSet};

use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;

use crate::segment::{gold_labels, CharTokenizer};
use crate::tagger::LabelScheme;

/// Reads gold-segmented text: one sentence a line, words separated by whitespace; blank lines are
/// skipped.
pub fn read_gold(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .collect()
}

/// One sentence ready for training: unit ids, gold labels, and which units start a word.
#[derive(Debug, Clone)]
pub struct Sample {
    pub(crate) ids: Vec<u32>,
    /// Token-type ids (dictionary features; zeros for the LM and plain taggers).
    pub(crate) types: Vec<u32>,
    pub(crate) labels: Vec<u32>,
    pub(crate) starts: Vec<bool>,
    /// A teacher's tag distribution per unit (`units × labels`, row-major) for a sentence
    /// learnt by distillation ([`super::Distill`]); `None` learns the gold labels alone.
    pub(crate) soft: Option<Vec<f32>>,
}

/// Turns gold sentences into training samples for `tok` and `scheme`.
pub fn samples(sents: &[Vec<String>], tok: &CharTokenizer, scheme: &LabelScheme) -> Vec<Sample> {
    sents
        .iter()
        .filter_map(|words| {
            let text: String = words.concat();
            let units = tok.units(&text);
            if units.is_empty() {
                return None;
            }
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            let labels: Vec<u32> = gold_labels(&units, &refs, scheme)
                .into_iter()
                .map(|l| l as u32)
                .collect();
            let starts = labels
                .iter()
                .map(|&l| scheme.tag(l as usize).starts_word())
                .collect();
            Some(Sample {
                ids: units.ids,
                types: units.types,
                labels,
                starts,
                soft: None,
            })
        })
        .collect()
}

/// Replaces training words by dictionary words the training text never uses
/// ([`TrainConfig::lexicon_swap`]).
pub(crate) struct LexiconSwap {
    /// Unused dictionary words (Chinese characters only) by length in characters.
    by_len: HashMap<usize, Vec<String>>,
    prob: f64,
}

impl LexiconSwap {
    pub(crate) fn new(
        train: &[Vec<String>],
        words: &crate::text::WordSet,
        prob: f64,
    ) -> Option<Self> {
        if prob <= 0.0 {
            return None;
        }
        let seen: HashSet<&str> = train.iter().flatten().map(String::as_str).collect();
        let mut by_len: HashMap<usize, Vec<String>> = HashMap::new();
        for w in words.iter() {
            if w.chars().all(crate::text::is_basic_han) && !seen.contains(w) {
                by_len
                    .entry(w.chars().count())
                    .or_default()
                    .push(w.to_string());
            }
        }
        for v in by_len.values_mut() {
            v.sort_unstable(); // the set's order is random; runs must repeat
        }
        Some(Self {
            by_len,
            prob: prob.clamp(0.0, 1.0),
        })
    }

    pub(crate) fn apply(&self, train: &[Vec<String>], rng: &mut impl Rng) -> Vec<Vec<String>> {
        train
            .iter()
            .map(|sent| {
                sent.iter()
                    .map(|w| {
                        let n = w.chars().count();
                        match self.by_len.get(&n) {
                            Some(pool)
                                if n >= 2
                                    && w.chars().all(crate::text::is_basic_han)
                                    && rng.random_bool(self.prob) =>
                            {
                                pool.choose(rng).cloned().unwrap_or_else(|| w.clone())
                            }
                            _ => w.clone(),
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// Cuts samples into pieces of at most `max` units at word starts (hard cuts only inside words
/// longer than `max`); with probability `cut_prob` also cuts at one random word start.
pub(crate) fn pieces(
    samples: &[Sample],
    max: usize,
    cut_prob: f64,
    rng: &mut impl Rng,
) -> Vec<Sample> {
    let mut out = Vec::new();
    for s in samples {
        let n = s.ids.len();
        let mut cuts = vec![0];
        let mut last = 0;
        let mut last_start = 0;
        for i in 1..n {
            if s.starts[i] {
                last_start = i;
            }
            if i - last >= max {
                let c = if last_start > last { last_start } else { i };
                cuts.push(c);
                last = c;
            }
        }
        if cut_prob > 0.0 && rng.random_bool(cut_prob.clamp(0.0, 1.0)) {
            let starts: Vec<usize> = (1..n).filter(|&i| s.starts[i]).collect();
            if let Some(&c) = starts.choose(rng) {
                cuts.push(c);
            }
        }
        cuts.push(n);
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            if b > a {
                let soft = s.soft.as_ref().map(|p| {
                    let k = p.len() / n;
                    p[a * k..b * k].to_vec()
                });
                out.push(Sample {
                    ids: s.ids[a..b].to_vec(),
                    types: s.types[a..b].to_vec(),
                    labels: s.labels[a..b].to_vec(),
                    starts: s.starts[a..b].to_vec(),
                    soft,
                });
            }
        }
    }
    out
}

/// Groups samples into batches of similar length, at most `batch_tokens` padded tokens each.
pub(crate) fn batches(
    mut pieces: Vec<Sample>,
    batch_tokens: usize,
    rng: &mut impl Rng,
) -> Vec<Vec<Sample>> {
    pieces.shuffle(rng);
    let mut out = Vec::new();
    // Sort within chunks of ~100 batches: little padding, still random across the epoch.
    for chunk in pieces.chunks_mut(4096) {
        chunk.sort_by_key(|s| s.ids.len());
        let mut cur: Vec<Sample> = Vec::new();
        let mut cur_max = 0;
        for s in chunk.iter() {
            let t = s.ids.len() + 2;
            let new_max = cur_max.max(t);
            if !cur.is_empty() && new_max * (cur.len() + 1) > batch_tokens {
                out.push(std::mem::take(&mut cur));
                cur_max = 0;
            }
            cur_max = cur_max.max(t);
            cur.push(s.clone());
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out.shuffle(rng);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn pieces_cut_the_teachers_distributions_with_the_units() {
        let n = 10;
        let s = Sample {
            ids: (0..n as u32).collect(),
            types: vec![0; n],
            labels: vec![0; n],
            starts: (0..n).map(|i| i % 3 == 0).collect(),
            // Unit i's distribution over 2 tags: (i, -i), so it names its unit.
            soft: Some((0..n).flat_map(|i| [i as f32, -(i as f32)]).collect()),
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let out = pieces(&[s], 4, 1.0, &mut rng);
        assert!(out.len() > 1);
        for p in &out {
            let soft = p.soft.as_ref().unwrap();
            assert_eq!(soft.len(), 2 * p.ids.len());
            for (u, &id) in p.ids.iter().enumerate() {
                assert_eq!(soft[2 * u], id as f32);
                assert_eq!(soft[2 * u + 1], -(id as f32));
            }
        }
    }
}
