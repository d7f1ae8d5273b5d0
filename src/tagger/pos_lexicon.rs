//! [`PosLexicon`]: how often each word of the training text had each part of speech, the
//! word-identity half of POS tagging. The POS head reads the frozen segmentation encoder, which
//! keeps context but little of which word it is; the lexicon knows the word (its most frequent
//! tag alone is right ~90.5% of the time on People's Daily) but not the context. A word's tag
//! scores are the head's plus `weight · ln((count(word, tag) + α) / (count(word) + α·tags))`
//! for words the lexicon lists; unknown words rely on the head alone. The file is
//! `pos_lexicon.txt` beside the weights: `word<TAB>tag:count tag:count …`, one word a line.

use std::collections::HashMap;

/// The lexicon file's name in a model directory.
pub const POS_LEXICON_FILE: &str = "pos_lexicon.txt";

/// Tag counts per word (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct PosLexicon {
    counts: HashMap<String, Vec<(usize, u32)>>,
    tags: usize,
    /// How much the lexicon weighs against the head (0: not at all).
    pub weight: f32,
    /// Add-α smoothing of the counts.
    pub smoothing: f32,
}

impl PosLexicon {
    /// Parses `pos_lexicon.txt` against the head's `tags`; the error names the bad line. A
    /// tag the head does not have is an error (the lexicon belongs to another head).
    pub fn parse(text: &str, tags: &[String], weight: f32, smoothing: f32) -> Result<Self, String> {
        let index: HashMap<&str, usize> = tags
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i))
            .collect();
        let mut counts = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |what: &str| format!("{POS_LEXICON_FILE} line {}: {what}", n + 1);
            let (word, rest) = line
                .split_once('\t')
                .ok_or_else(|| bad("expected `word<TAB>tag:count …`"))?;
            let mut v = Vec::new();
            for item in rest.split_whitespace() {
                let (tag, c) = item
                    .rsplit_once(':')
                    .ok_or_else(|| bad("expected tag:count"))?;
                let id = *index
                    .get(tag)
                    .ok_or_else(|| bad(&format!("tag `{tag}` is not one of the head's")))?;
                let c: u32 = c.parse().map_err(|_| bad("the count is not a number"))?;
                v.push((id, c));
            }
            counts.insert(word.to_string(), v);
        }
        if !(weight.is_finite() && weight >= 0.0 && smoothing.is_finite() && smoothing > 0.0) {
            return Err(format!(
                "lexicon_weight {weight} and lexicon_smoothing {smoothing} must be ≥ 0 and > 0"
            ));
        }
        Ok(Self {
            counts,
            tags: tags.len(),
            weight,
            smoothing,
        })
    }

    /// Counts the `word/tag` tokens of PKU-format text (`迈向/v 充满/v`) into the file's text;
    /// tags not among `tags` are skipped.
    pub fn count_text(tagged: &str, tags: &[String]) -> String {
        Self::count_pairs(
            tagged
                .split_whitespace()
                .filter_map(|tok| tok.rsplit_once('/')),
            tags,
        )
    }

    /// [`PosLexicon::count_text`] over `(word, tag)` pairs.
    pub fn count_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        tags: &[String],
    ) -> String {
        let mut counts: HashMap<&str, HashMap<&str, u32>> = HashMap::new();
        for (w, t) in pairs {
            if !w.is_empty() && tags.iter().any(|x| x == t) {
                *counts.entry(w).or_default().entry(t).or_default() += 1;
            }
        }
        let mut words: Vec<_> = counts.into_iter().collect();
        words.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = String::new();
        for (w, ts) in words {
            let mut ts: Vec<_> = ts.into_iter().collect();
            ts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let items: Vec<String> = ts.iter().map(|(t, c)| format!("{t}:{c}")).collect();
            out.push_str(&format!("{w}\t{}\n", items.join(" ")));
        }
        out
    }

    /// How many words it lists.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether it lists none.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// `weight ·` the smoothed log-probability of each tag for `word`; `None` for a word it
    /// does not list.
    pub fn prior(&self, word: &str) -> Option<Vec<f32>> {
        let v = self.counts.get(word)?;
        let total: u32 = v.iter().map(|x| x.1).sum();
        let denom = (total as f32 + self.smoothing * self.tags as f32).ln();
        let mut out = vec![self.weight * (self.smoothing.ln() - denom); self.tags];
        for &(t, c) in v {
            if let Some(o) = out.get_mut(t) {
                *o = self.weight * ((c as f32 + self.smoothing).ln() - denom);
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags() -> Vec<String> {
        ["n", "v", "vn", "u"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn counts_round_trip_and_the_prior_prefers_the_frequent_tag() {
        let text = PosLexicon::count_text("发展/v 经济/n 的/u 发展/vn 发展/v 的/u 它/r", &tags());
        assert_eq!(text, "发展\tv:2 vn:1\n的\tu:2\n经济\tn:1\n");
        let lex = PosLexicon::parse(&text, &tags(), 1.0, 0.5).expect("parses");
        assert_eq!(lex.len(), 3);
        let p = lex.prior("发展").expect("listed");
        assert!(p[1] > p[2] && p[2] > p[0], "{p:?}");
        let total: f32 = p.iter().map(|x| x.exp()).sum();
        assert!((total - 1.0).abs() < 1e-5, "a distribution at weight 1");
        assert!(
            lex.prior("它").is_none(),
            "a tag the head lacks is not counted"
        );
        let off = PosLexicon::parse(&text, &tags(), 0.0, 0.5).unwrap();
        assert!(off.prior("发展").unwrap().iter().all(|&x| x == 0.0));
    }

    #[test]
    fn bad_files_are_refused_with_the_line() {
        for (text, what) in [
            ("发展 v:2\n", "line 1"),
            ("的\tu:2\n发展\tq:1\n", "line 2: tag `q`"),
            ("的\tu:x\n", "not a number"),
        ] {
            let e = PosLexicon::parse(text, &tags(), 1.0, 0.5).unwrap_err();
            assert!(e.contains(what), "{e}");
        }
        assert!(PosLexicon::parse("", &tags(), -1.0, 0.5).is_err());
        assert!(PosLexicon::parse("", &tags(), 1.0, 0.0).is_err());
    }
}
