//! [`PosContext`]: a word-level part-of-speech model over the segmented sentence, an averaged
//! perceptron (Collins 2002) whose features are the word, its neighbours two either side, their
//! edge characters, its length and character classes and the two tags before it (decoded left
//! to right). The POS head reads the frozen segmentation encoder, which keeps context but little
//! of which word a character belongs to; this model knows the words and their neighbours. A
//! word's tag scores are this model's plus `head_weight ·` the head's summed log-probabilities;
//! `temperature` turns the sum into the probability shown. Trained by
//! `crate::train::train_pos_context`; the file is `pos_context.txt` beside the weights, a header
//! line `#fenci-pos-context 1` and then `feature<TAB>tag:weight tag:weight …`, one feature a line.

use std::collections::HashMap;

use crate::text::fnv1a;

/// The file's name in a model directory.
pub const POS_CONTEXT_FILE: &str = "pos_context.txt";

const HEADER: &str = "#fenci-pos-context 1";

/// The weights of a trained model by feature name: `(tag id, weight)` pairs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PosWeights(pub HashMap<String, Vec<(u16, f32)>>);

impl PosWeights {
    /// The file's text, features sorted, weights to 2 decimals (`tags` by id).
    pub fn to_text(&self, tags: &[String]) -> String {
        let mut feats: Vec<_> = self.0.iter().collect();
        feats.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = String::from(HEADER);
        out.push('\n');
        for (f, v) in feats {
            let items: Vec<String> = v
                .iter()
                .filter_map(|&(t, x)| Some(format!("{}:{x:.2}", tags.get(t as usize)?)))
                .collect();
            if !items.is_empty() {
                out.push_str(&format!("{f}\t{}\n", items.join(" ")));
            }
        }
        out
    }
}

/// The model, compact for tagging: features by a 64-bit hash of their name (FNV-1a; the
/// 280k features of the built-in model have no collision, and one would only drop the second
/// feature's weights), each with a range of `(tag id, weight)` pairs.
#[derive(Debug, Clone)]
pub struct PosContext {
    index: Vec<(u64, u32, u32)>,
    weights: Vec<(u16, f32)>,
    tags: usize,
    /// How much the POS head's summed log-probabilities weigh against this model's scores.
    pub head_weight: f32,
    /// The scores are divided by this before the softmax that gives a tag's probability.
    pub temperature: f32,
}

/// A weight as the file writes it (`-5.85`): fixed-point digits read directly, ~4× faster than
/// `str::parse::<f32>` on the built-in model's million weights; anything else through `parse`.
fn parse_weight(s: &str) -> Option<f32> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let simple = !int.is_empty()
        && int.len() <= 6
        && frac.len() <= 3
        && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit());
    if !simple {
        return s.parse::<f32>().ok().filter(|x| x.is_finite());
    }
    let mut n: u32 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        n = n * 10 + (b - b'0') as u32;
    }
    let x = n as f32 / [1.0, 10.0, 100.0, 1000.0][frac.len()];
    Some(if neg { -x } else { x })
}

/// The tag before the first word (the history of the sentence's start).
pub const START: &str = "<s>";

/// A coarse class of each character, joined: digits `D`, Chinese numerals `N`, Latin `L`,
/// other Han `H`, anything else `P`; each class once, in that order.
fn char_classes(w: &str) -> String {
    let mut seen = [false; 5];
    for c in w.chars() {
        let k = if c.is_ascii_digit() || ('０'..='９').contains(&c) {
            0
        } else if "○零一二三四五六七八九十百千万亿两".contains(c) {
            1
        } else if c.is_ascii_alphabetic()
            || ('Ａ'..='Ｚ').contains(&c)
            || ('ａ'..='ｚ').contains(&c)
        {
            2
        } else if ('\u{4e00}'..='\u{9fff}').contains(&c) {
            3
        } else {
            4
        };
        seen[k] = true;
    }
    "DNLHP"
        .chars()
        .zip(seen)
        .filter_map(|(c, s)| s.then_some(c))
        .collect()
}

/// The features of word `i` of `words`, after the tags `prev2`, `prev` (or [`START`]), into
/// `out` (cleared first). Training and tagging call the same function.
pub fn features(words: &[&str], i: usize, prev: &str, prev2: &str, out: &mut Vec<String>) {
    out.clear();
    let at = |k: isize| -> &str {
        let j = i as isize + k;
        if j < 0 {
            "<s>"
        } else {
            words.get(j as usize).copied().unwrap_or("</s>")
        }
    };
    let (w, p1, p2, n1, n2) = (at(0), at(-1), at(-2), at(1), at(2));
    let first = |s: &str| s.chars().next().unwrap_or(' ');
    let last = |s: &str| s.chars().next_back().unwrap_or(' ');
    let n = w.chars().count();
    let len = n.min(4);
    out.extend([
        "b".to_string(),
        format!("w={w}"),
        format!("p1={p1}"),
        format!("n1={n1}"),
        format!("p2={p2}"),
        format!("n2={n2}"),
        format!("p1w={p1}|{w}"),
        format!("wn1={w}|{n1}"),
        format!("f={}", first(w)),
        format!("l={}", last(w)),
        format!("fL={}{len}", first(w)),
        format!("lL={}{len}", last(w)),
        format!("L={len}"),
        format!("p1l={}", last(p1)),
        format!("n1f={}", first(n1)),
        format!("ty={}", char_classes(w)),
        format!("t1={prev}"),
        format!("t12={prev2}|{prev}"),
        format!("t1w={prev}|{w}"),
        format!("t1l={prev}|{}", last(w)),
        format!("p1ln1f={}{}", last(p1), first(n1)),
    ]);
    if n >= 3 {
        let c: Vec<char> = w.chars().collect();
        out.push(format!("f2={}{}", c[0], c[1]));
        out.push(format!("l2={}{}", c[n - 2], c[n - 1]));
    }
    if n >= 2 {
        out.push(format!("fl={}{}", first(w), last(w)));
    }
}

impl PosContext {
    /// The model of rows `(hash, start, end)` over `weights`; of two rows with the same hash
    /// the first is kept.
    fn build(
        mut index: Vec<(u64, u32, u32)>,
        weights: Vec<(u16, f32)>,
        tags: usize,
        head_weight: f32,
        temperature: f32,
    ) -> Self {
        index.sort_by_key(|r| r.0);
        index.dedup_by_key(|r| r.0);
        Self {
            index,
            weights,
            tags,
            head_weight,
            temperature,
        }
    }

    /// The model of trained weights.
    pub fn from_weights(w: &PosWeights, tags: usize, head_weight: f32, temperature: f32) -> Self {
        let mut index = Vec::with_capacity(w.0.len());
        let mut weights = Vec::new();
        for (f, v) in &w.0 {
            let start = weights.len() as u32;
            weights.extend_from_slice(v);
            index.push((fnv1a(f), start, weights.len() as u32));
        }
        Self::build(index, weights, tags, head_weight, temperature)
    }

    /// Parses the file against the head's `tags`; the error names the bad line (not the file). A tag the head
    /// does not have is an error (the file belongs to another head).
    pub fn parse(
        text: &str,
        tags: &[String],
        head_weight: f32,
        temperature: f32,
    ) -> Result<Self, String> {
        let mut lines = text.lines();
        if lines.next().map(str::trim_end) != Some(HEADER) {
            return Err(format!(
                "the first line is not `{HEADER}`; the file is not a fenci POS context model"
            ));
        }
        // Flat arrays, no allocation per line: the built-in model has a million weights.
        let mut index = Vec::with_capacity(text.len() / 40);
        let mut weights = Vec::with_capacity(text.len() / 8);
        for (n, line) in lines.enumerate() {
            if line.is_empty() {
                continue;
            }
            let bad = |what: &str| format!("line {}: {what}", n + 2);
            let (feat, rest) = line
                .split_once('\t')
                .ok_or_else(|| bad("expected `feature<TAB>tag:weight …`"))?;
            let start = weights.len() as u32;
            for item in rest.split(' ').filter(|s| !s.is_empty()) {
                let (tag, x) = item
                    .rsplit_once(':')
                    .ok_or_else(|| bad("expected tag:weight"))?;
                let id = tags
                    .iter()
                    .position(|t| t == tag)
                    .ok_or_else(|| bad(&format!("tag `{tag}` is not one of the head's")))?;
                let x = parse_weight(x).ok_or_else(|| bad("the weight is not a number"))?;
                weights.push((id as u16, x));
            }
            index.push((fnv1a(feat), start, weights.len() as u32));
        }
        let weights_ok = head_weight.is_finite() && head_weight >= 0.0;
        if !(weights_ok && temperature.is_finite() && temperature > 0.0) {
            return Err(format!(
                "context_head_weight {head_weight} must be ≥ 0 and context_temperature {temperature} > 0"
            ));
        }
        Ok(Self::build(
            index,
            weights,
            tags.len(),
            head_weight,
            temperature,
        ))
    }

    /// How many features have weights.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no feature has a weight.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Adds the weights of `feats` to `scores` (one per tag).
    pub fn add_scores(&self, feats: &[String], scores: &mut [f32]) {
        for f in feats {
            let h = fnv1a(f);
            if let Ok(i) = self.index.binary_search_by_key(&h, |r| r.0) {
                let (_, a, b) = self.index[i];
                for &(t, x) in &self.weights[a as usize..b as usize] {
                    if let Some(s) = scores.get_mut(t as usize) {
                        *s += x;
                    }
                }
            }
        }
    }

    /// The number of tags the weights are over.
    pub fn tags(&self) -> usize {
        self.tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags() -> Vec<String> {
        ["n", "v", "u"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn features_see_the_neighbours_and_the_history() {
        let mut f = Vec::new();
        features(&["我", "的", "书"], 1, "r", START, &mut f);
        for x in [
            "w=的",
            "p1=我",
            "n1=书",
            "p2=<s>",
            "n2=</s>",
            "t1=r",
            "t12=<s>|r",
        ] {
            assert!(f.iter().any(|y| y == x), "{x} missing from {f:?}");
        }
        features(&["１９９８年", "hello"], 0, START, START, &mut f);
        assert!(f.iter().any(|y| y == "ty=DH"), "{f:?}");
        assert!(f.iter().any(|y| y == "f2=１９"), "{f:?}");
    }

    #[test]
    fn weights_parse_as_written() {
        for (s, x) in [
            ("-5.85", -5.85f32),
            ("0.25", 0.25),
            ("12", 12.0),
            ("1e2", 100.0),
        ] {
            assert_eq!(parse_weight(s), Some(x), "{s}");
        }
        for s in ["", "-", "1.2.3", "NaN", "inf", "x"] {
            assert_eq!(parse_weight(s), None, "{s}");
        }
    }

    #[test]
    fn the_file_round_trips_and_bad_files_name_the_line() {
        let mut w = HashMap::new();
        w.insert("w=的".to_string(), vec![(2u16, 1.5f32), (0, -0.25)]);
        w.insert("b".to_string(), vec![(0u16, 0.5f32)]);
        let w = PosWeights(w);
        let m = PosContext::from_weights(&w, 3, 0.5, 2.0);
        let text = w.to_text(&tags());
        assert_eq!(
            text,
            "#fenci-pos-context 1\nb\tn:0.50\nw=的\tu:1.50 n:-0.25\n"
        );
        let back = PosContext::parse(&text, &tags(), 0.5, 2.0).expect("parses");
        assert_eq!(
            (back.len(), back.head_weight, back.temperature),
            (2, 0.5, 2.0)
        );
        let feats: Vec<String> = vec!["w=的".into(), "b".into(), "unseen".into()];
        for model in [&m, &back] {
            let mut s = vec![0.0; 3];
            model.add_scores(&feats, &mut s);
            assert_eq!(s, vec![0.25, 0.0, 1.5]);
        }
        for (text, what) in [
            ("w=的\tu:1\n", "first line"),
            ("#fenci-pos-context 1\nw=的 u:1\n", "line 2"),
            (
                "#fenci-pos-context 1\nb\tn:1\nw=的\tq:1\n",
                "line 3: tag `q`",
            ),
            ("#fenci-pos-context 1\nb\tn:NaN\n", "not a number"),
        ] {
            let e = PosContext::parse(text, &tags(), 0.5, 1.0).unwrap_err();
            assert!(e.contains(what), "{e}");
        }
        assert!(PosContext::parse(HEADER, &tags(), 0.5, 0.0).is_err());
    }
}
