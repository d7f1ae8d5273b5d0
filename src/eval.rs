//! SIGHAN-style scoring of a segmentation against gold: word precision, recall, F1 and OOV recall;
//! and, for gold with parts of speech (`word/tag`, the PKU format), joint segmentation + POS
//! scores ([`PosScores`]);
//! and how well probabilities are calibrated ([`Calibration`]: expected calibration error, a
//! reliability table, log-loss) and how well a mark separates wrong from right ([`MarkShares`]).
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

/// One bin of a reliability table.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bin {
    /// Predictions whose probability fell in the bin.
    pub count: usize,
    /// Sum of their probabilities.
    pub sum_prob: f64,
    /// How many of them came true.
    pub hits: usize,
}

impl Bin {
    /// Mean predicted probability (0 for an empty bin).
    pub fn mean_prob(&self) -> f64 {
        self.sum_prob / self.count.max(1) as f64
    }

    /// Share that came true (0 for an empty bin).
    pub fn frequency(&self) -> f64 {
        self.hits as f64 / self.count.max(1) as f64
    }
}

/// Calibration of probabilities against what happened: predictions `p` of events are put in
/// equal-width bins (`[0, 1/B)`, `[1/B, 2/B)`, …, the last bin closed at 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    bins: Vec<Bin>,
    /// Sum of −ln P(outcome), probabilities kept in [1e-6, 1 − 1e-6].
    log_loss: f64,
}

impl Calibration {
    /// An empty table of `bins` equal-width bins (at least 1).
    pub fn new(bins: usize) -> Self {
        Self {
            bins: vec![Bin::default(); bins.max(1)],
            log_loss: 0.0,
        }
    }

    /// Adds one prediction: probability `p` that the event happens, and whether it did. A `p`
    /// that is not a number counts as 0.5.
    pub fn add(&mut self, p: f32, happened: bool) {
        let p = if p.is_nan() {
            0.5
        } else {
            f64::from(p).clamp(0.0, 1.0)
        };
        let k = ((p * self.bins.len() as f64) as usize).min(self.bins.len() - 1);
        let b = &mut self.bins[k];
        b.count += 1;
        b.sum_prob += p;
        b.hits += usize::from(happened);
        let q = p.clamp(1e-6, 1.0 - 1e-6);
        self.log_loss -= if happened { q.ln() } else { (1.0 - q).ln() };
    }

    /// Predictions added.
    pub fn count(&self) -> usize {
        self.bins.iter().map(|b| b.count).sum()
    }

    /// The bins, lowest probabilities first.
    pub fn bins(&self) -> &[Bin] {
        &self.bins
    }

    /// Expected calibration error in [0, 1]: Σ over bins of (share of predictions in the bin) ×
    /// |mean probability − frequency|. 0 when nothing was added.
    pub fn ece(&self) -> f64 {
        let n = self.count().max(1) as f64;
        self.bins
            .iter()
            .map(|b| b.count as f64 / n * (b.mean_prob() - b.frequency()).abs())
            .sum()
    }

    /// Mean negative log-likelihood (nats) of what happened. 0 when nothing was added.
    pub fn nll(&self) -> f64 {
        self.log_loss / self.count().max(1) as f64
    }

    /// The reliability table as text: one row per bin with predictions.
    pub fn table(&self) -> String {
        let b = self.bins.len() as f64;
        let mut out = String::from("  bin          count   mean p   observed\n");
        for (k, bin) in self.bins.iter().enumerate() {
            if bin.count == 0 {
                continue;
            }
            out.push_str(&format!(
                "  [{:.2}, {:.2}{} {:>8}   {:>6.2}%   {:>6.2}%\n",
                k as f64 / b,
                (k + 1) as f64 / b,
                if k + 1 == self.bins.len() { "]" } else { ")" },
                bin.count,
                bin.mean_prob() * 100.0,
                bin.frequency() * 100.0
            ));
        }
        out
    }
}

/// How a mark (e.g. "uncertain word") falls on wrong and right items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarkShares {
    /// Wrong items.
    pub wrong: usize,
    /// Wrong items that carry the mark.
    pub wrong_marked: usize,
    /// Right items.
    pub right: usize,
    /// Right items that carry the mark.
    pub right_marked: usize,
}

impl MarkShares {
    /// Adds one item.
    pub fn add(&mut self, right: bool, marked: bool) {
        if right {
            self.right += 1;
            self.right_marked += usize::from(marked);
        } else {
            self.wrong += 1;
            self.wrong_marked += usize::from(marked);
        }
    }

    /// Share of wrong items that carry the mark (0 when there are none).
    pub fn wrong_share(&self) -> f64 {
        self.wrong_marked as f64 / self.wrong.max(1) as f64
    }

    /// Share of right items that carry the mark (0 when there are none).
    pub fn right_share(&self) -> f64 {
        self.right_marked as f64 / self.right.max(1) as f64
    }
}

/// The minimum of `f` on `[lo, hi]` by golden-section search (for a unimodal `f`), to within
/// `tol`; `(argmin, min)`.
pub fn golden_section(mut f: impl FnMut(f64) -> f64, lo: f64, hi: f64, tol: f64) -> (f64, f64) {
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (lo.min(hi), lo.max(hi));
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    while b - a > tol.max(1e-9) {
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    if fc <= fd {
        (c, fc)
    } else {
        (d, fd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ece_of_a_hand_made_case() {
        // 10 bins. Bin [0.9, 1]: 0.95 ×4, 3 happened → mean 0.95, frequency 0.75.
        // Bin [0.1, 0.2): 0.1 ×2 (note: 0.1 falls in the second bin), 1 happened → 0.1 vs 0.5.
        // Bin [0.5, 0.6): 0.5 ×4, 2 happened → 0.5 vs 0.5.
        // ECE = 4/10·0.2 + 2/10·0.4 + 4/10·0 = 0.08 + 0.08 = 0.16.
        let mut c = Calibration::new(10);
        for happened in [true, true, true, false] {
            c.add(0.95, happened);
        }
        c.add(0.1, true);
        c.add(0.1, false);
        for happened in [true, false, true, false] {
            c.add(0.5, happened);
        }
        assert_eq!(c.count(), 10);
        assert_eq!(c.bins()[9].count, 4);
        assert_eq!(c.bins()[1].count, 2);
        assert_eq!(c.bins()[5].count, 4);
        assert!((c.ece() - 0.16).abs() < 1e-6, "{}", c.ece());
        // NLL: (3·−ln .95 + −ln .05 + −ln .1 + −ln .9 + 4·−ln .5) / 10
        let want =
            (-3.0 * 0.95f64.ln() - 0.05f64.ln() - 0.1f64.ln() - 0.9f64.ln() - 4.0 * 0.5f64.ln())
                / 10.0;
        assert!((c.nll() - want).abs() < 1e-6, "{} vs {want}", c.nll());
        let t = c.table();
        assert_eq!(t.lines().count(), 4, "{t}");
        assert!(t.contains("[0.90, 1.00]"), "{t}");
    }

    #[test]
    fn perfectly_calibrated_predictions_have_no_error_and_edges_are_binned() {
        let mut c = Calibration::new(10);
        // p = 1 and p = 0 land in the outer bins; all came out as predicted.
        c.add(1.0, true);
        c.add(0.0, false);
        c.add(f32::NAN, true); // counts as 0.5 …
        c.add(0.5, false); // … and balances with this one
        assert_eq!(c.bins()[9].count, 1);
        assert_eq!(c.bins()[0].count, 1);
        assert_eq!(c.bins()[5].count, 2);
        assert!(c.ece().abs() < 1e-12);
        assert_eq!(Calibration::new(15).ece(), 0.0);
    }

    #[test]
    fn mark_shares_count_each_side() {
        let mut m = MarkShares::default();
        m.add(false, true);
        m.add(false, false);
        m.add(true, true);
        m.add(true, false);
        m.add(true, false);
        m.add(true, false);
        assert_eq!(m.wrong_share(), 0.5);
        assert_eq!(m.right_share(), 0.25);
    }

    #[test]
    fn golden_section_finds_a_parabola_minimum() {
        let (x, y) = golden_section(|t| (t - 1.7) * (t - 1.7) + 0.3, 0.25, 8.0, 1e-6);
        assert!((x - 1.7).abs() < 1e-4, "{x}");
        assert!((y - 0.3).abs() < 1e-8);
    }

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
