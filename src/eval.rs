//! SIGHAN-style scoring of a segmentation against gold: word precision, recall, F1 and OOV recall;
//! and, for gold with parts of speech (`word/tag`, the PKU format), joint segmentation + POS
//! scores ([`PosScores`]).
//!
//! Words are compared as character spans. A predicted line whose characters differ from the gold
//! line scores no correct words (its words still count in both totals), exactly as
//! `../shared/tools/score.py` does, so the two agree to the last digit.

use std::collections::HashSet;

/// Word-level scores over a set of lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    /// Words in the gold lines.
    pub gold_words: usize,
    /// Words predicted.
    pub pred_words: usize,
    /// Predicted words whose span matches a gold word.
    pub correct: usize,
    /// Gold words not in the training vocabulary (when one was given).
    pub oov_words: usize,
    /// Of those, how many were predicted exactly.
    pub oov_correct: usize,
    /// Lines whose characters differ between gold and prediction.
    pub mismatched_lines: usize,
    /// Lines scored.
    pub lines: usize,
}

fn spans<S: AsRef<str>>(words: &[S]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    for w in words {
        let n = w.as_ref().chars().count();
        out.push((i, i + n));
        i += n;
    }
    out
}

impl Scores {
    /// Adds one line: gold words and predicted words.
    pub fn add<G: AsRef<str>, P: AsRef<str>>(
        &mut self,
        gold: &[G],
        pred: &[P],
        train_vocab: Option<&HashSet<String>>,
    ) {
        self.lines += 1;
        self.gold_words += gold.len();
        self.pred_words += pred.len();
        let g: String = gold.iter().map(|w| w.as_ref()).collect();
        let p: String = pred.iter().map(|w| w.as_ref()).collect();
        if g != p {
            self.mismatched_lines += 1;
            return;
        }
        let ps: HashSet<(usize, usize)> = spans(pred).into_iter().collect();
        let gs = spans(gold);
        self.correct += gs.iter().filter(|s| ps.contains(s)).count();
        if let Some(vocab) = train_vocab {
            for (w, s) in gold.iter().zip(&gs) {
                if !vocab.contains(w.as_ref()) {
                    self.oov_words += 1;
                    if ps.contains(s) {
                        self.oov_correct += 1;
                    }
                }
            }
        }
    }

    /// Precision in [0, 1].
    pub fn precision(&self) -> f64 {
        self.correct as f64 / self.pred_words.max(1) as f64
    }

    /// Recall in [0, 1].
    pub fn recall(&self) -> f64 {
        self.correct as f64 / self.gold_words.max(1) as f64
    }

    /// F1 in [0, 1].
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        2.0 * p * r / (p + r).max(1e-9)
    }

    /// OOV recall in [0, 1], if a training vocabulary was given.
    pub fn oov_recall(&self) -> Option<f64> {
        (self.oov_words > 0).then(|| self.oov_correct as f64 / self.oov_words as f64)
    }
}

/// Splits a `word/tag` token at its last `/`; `None` when it has no tag or no word.
pub fn split_tagged(token: &str) -> Option<(&str, &str)> {
    let (w, t) = token.rsplit_once('/')?;
    (!w.is_empty() && !t.is_empty()).then_some((w, t))
}

/// Whether gold text is in the `word/tag` format: its first non-empty line has a tag on every
/// word.
pub fn is_tagged(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.split_whitespace().all(|t| split_tagged(t).is_some()))
}

/// One `word/tag` gold line as (word, tag) pairs; a token without a tag keeps an empty tag.
pub fn parse_tagged(line: &str) -> Vec<(String, String)> {
    line.split_whitespace()
        .map(|t| match split_tagged(t) {
            Some((w, tag)) => (w.to_string(), tag.to_string()),
            None => (t.to_string(), String::new()),
        })
        .collect()
}

/// Joint segmentation + part-of-speech scores: a word counts when its span and its tag are both
/// right; and the tagging accuracy on the words segmented right.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PosScores {
    /// Words in the gold lines.
    pub gold_words: usize,
    /// Words predicted.
    pub pred_words: usize,
    /// Predicted words whose span matches a gold word.
    pub seg_correct: usize,
    /// Of those, how many also have the gold tag.
    pub joint_correct: usize,
    /// Lines whose characters differ between gold and prediction (no word of them counts).
    pub mismatched_lines: usize,
}

impl PosScores {
    /// Adds one line: gold and predicted (word, tag) pairs.
    pub fn add<A: AsRef<str>, B: AsRef<str>, C: AsRef<str>, D: AsRef<str>>(
        &mut self,
        gold: &[(A, B)],
        pred: &[(C, D)],
    ) {
        self.gold_words += gold.len();
        self.pred_words += pred.len();
        let g: String = gold.iter().map(|w| w.0.as_ref()).collect();
        let p: String = pred.iter().map(|w| w.0.as_ref()).collect();
        if g != p {
            self.mismatched_lines += 1;
            return;
        }
        let gw: Vec<&str> = gold.iter().map(|w| w.0.as_ref()).collect();
        let pw: Vec<&str> = pred.iter().map(|w| w.0.as_ref()).collect();
        let gs: std::collections::HashMap<(usize, usize), &str> = spans(&gw)
            .into_iter()
            .zip(gold.iter().map(|w| w.1.as_ref()))
            .collect();
        for (s, (_, tag)) in spans(&pw).into_iter().zip(pred) {
            if let Some(&gt) = gs.get(&s) {
                self.seg_correct += 1;
                if gt == tag.as_ref() {
                    self.joint_correct += 1;
                }
            }
        }
    }

    /// Joint precision in [0, 1]: predicted words with the right span and tag.
    pub fn precision(&self) -> f64 {
        self.joint_correct as f64 / self.pred_words.max(1) as f64
    }

    /// Joint recall in [0, 1].
    pub fn recall(&self) -> f64 {
        self.joint_correct as f64 / self.gold_words.max(1) as f64
    }

    /// Joint F1 in [0, 1].
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        2.0 * p * r / (p + r).max(1e-9)
    }

    /// Tagging accuracy on the correctly segmented words, in [0, 1].
    pub fn accuracy(&self) -> f64 {
        self.joint_correct as f64 / self.seg_correct.max(1) as f64
    }
}

/// Reads a gold file's vocabulary (every word of every line).
pub fn vocabulary(text: &str) -> HashSet<String> {
    text.split_whitespace().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_made_case_has_known_scores() {
        // gold: 我 | 爱 | 北京 | 天安门 (4 words); pred: 我 | 爱北京 | 天安门 (3 words)
        // correct spans: 我, 天安门 → P = 2/3, R = 2/4, F1 = 2·(2/3)(1/2)/(2/3+1/2) = 4/7.
        let mut s = Scores::default();
        let vocab: HashSet<String> = ["我", "爱"].iter().map(|s| s.to_string()).collect();
        s.add(
            &["我", "爱", "北京", "天安门"],
            &["我", "爱北京", "天安门"],
            Some(&vocab),
        );
        assert_eq!((s.correct, s.gold_words, s.pred_words), (2, 4, 3));
        assert!((s.precision() - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.recall() - 0.5).abs() < 1e-12);
        assert!((s.f1() - 4.0 / 7.0).abs() < 1e-12);
        // OOV: 北京 (missed), 天安门 (hit) → 1/2
        assert_eq!((s.oov_words, s.oov_correct), (2, 1));
        assert_eq!(s.oov_recall(), Some(0.5));
    }

    #[test]
    fn joint_pos_scores_on_a_hand_made_line() {
        // gold: 我/r 爱/v 北京/ns 天安门/ns; pred: 我/r 爱/p 北京天安门/ns.
        // Spans right: 我, 爱 (2); of them tags right: 我 (1).
        // Joint P = 1/3, R = 1/4, F1 = 2·(1/3)(1/4)/(7/12) = 2/7; accuracy = 1/2.
        let gold = parse_tagged("我/r 爱/v 北京/ns 天安门/ns");
        let mut s = PosScores::default();
        s.add(&gold, &[("我", "r"), ("爱", "p"), ("北京天安门", "ns")]);
        assert_eq!(
            (s.gold_words, s.pred_words, s.seg_correct, s.joint_correct),
            (4, 3, 2, 1)
        );
        assert!((s.f1() - 2.0 / 7.0).abs() < 1e-12);
        assert!((s.accuracy() - 0.5).abs() < 1e-12);
        // A line whose characters differ counts its words but none correct.
        s.add(&[("你好", "l")], &[("你坏", "l")]);
        assert_eq!(
            (s.gold_words, s.joint_correct, s.mismatched_lines),
            (5, 1, 1)
        );
    }

    #[test]
    fn tagged_format_is_detected_and_split_at_the_last_slash() {
        assert!(is_tagged("\n迈向/v 充满/v\n"));
        assert!(!is_tagged("迈向 充满"));
        assert!(!is_tagged("迈向/v 充满"));
        assert_eq!(split_tagged("１/２/m"), Some(("１/２", "m")));
        assert_eq!(split_tagged("/w"), None);
        assert_eq!(
            parse_tagged("新/a 世纪"),
            vec![("新".into(), "a".into()), ("世纪".into(), String::new())]
        );
    }

    #[test]
    fn mismatched_line_scores_nothing_correct() {
        let mut s = Scores::default();
        s.add(&["你好"], &["你", "坏"], None);
        assert_eq!(
            (s.correct, s.gold_words, s.pred_words, s.mismatched_lines),
            (0, 1, 2, 1)
        );
        assert_eq!(s.f1(), 0.0);
    }
}
