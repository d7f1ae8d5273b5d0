//! SIGHAN-style scoring of a segmentation against gold: word precision, recall, F1 and OOV recall.
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
