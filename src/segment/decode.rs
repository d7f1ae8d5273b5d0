//! Decoding one line's label scores: constrained Viterbi, forward–backward boundary and word
//! marginals (optionally at a display temperature, see [`decode_tempered`]), and the k best
//! segmentations.

use super::Constraints;
use crate::tagger::LabelScheme;

/// Result of decoding one line's label scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Best label id per unit.
    pub labels: Vec<usize>,
    /// `boundary_prob[i]`: posterior probability that a word starts at unit `i` (1 for unit 0).
    pub boundary_prob: Vec<f32>,
    /// `word_prob[k]`: posterior probability of the `k`-th decoded word as a whole: a word
    /// starts at its first unit, none inside it, and one starts right after it (or the line
    /// ends). The exact span marginal from the same forward–backward pass.
    pub word_prob: Vec<f32>,
}

fn allowed_at(scheme: &LabelScheme, c: &Constraints, i: usize, l: usize, n: usize) -> bool {
    let t = scheme.tag(l);
    if i == 0 && !scheme.allowed_start(t) {
        return false;
    }
    if i + 1 == n && !scheme.allowed_end(t) {
        return false;
    }
    if c.forced.get(i).copied().unwrap_or(false) && !t.starts_word() {
        return false;
    }
    if c.forbidden.get(i).copied().unwrap_or(false) && t.starts_word() {
        return false;
    }
    true
}

/// The score of label `y` at unit `i`: log-probabilities are in [-inf, 0]; keep them finite
/// (NaN and -inf become -1e4) so a valid path always exists.
fn emission(log_probs: &[f32], l: usize, i: usize, y: usize) -> f32 {
    let v = log_probs[i * l + y];
    if v.is_nan() {
        -1e4
    } else {
        v.clamp(-1e4, 0.0)
    }
}

fn log_add(a: f32, b: f32) -> f32 {
    if a == f32::NEG_INFINITY {
        return b;
    }
    if b == f32::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// The constraints decoding tries in turn: as given, without the forbidden boundaries, none.
/// Whether a valid path exists depends only on the constraints (every emission is finite), so
/// the first that admits one is the same for any scores of the line.
fn relaxations(c: &Constraints) -> [Constraints; 3] {
    [
        c.clone(),
        Constraints {
            forced: c.forced.clone(),
            forbidden: vec![],
        },
        Constraints::default(),
    ]
}

// Dynamic programming over (position, label) tables reads best with explicit indices.
#[allow(clippy::needless_range_loop)]
/// The best valid label sequence under `c`, or `None` when no sequence satisfies `c`.
fn viterbi(log_probs: &[f32], scheme: &LabelScheme, c: &Constraints) -> Option<Vec<usize>> {
    let l = scheme.len();
    let n = log_probs.len() / l;
    let ok = |i: usize, y: usize| allowed_at(scheme, c, i, y, n);
    let e = |i: usize, y: usize| emission(log_probs, l, i, y);
    let mut score = vec![f32::NEG_INFINITY; n * l];
    let mut back = vec![0usize; n * l];
    for y in 0..l {
        if ok(0, y) {
            score[y] = e(0, y);
        }
    }
    for i in 1..n {
        for y in 0..l {
            if !ok(i, y) {
                continue;
            }
            let mut best = f32::NEG_INFINITY;
            let mut arg = 0;
            for p in 0..l {
                let s = score[(i - 1) * l + p];
                if scheme.allowed(scheme.tag(p), scheme.tag(y)) && s > best {
                    best = s;
                    arg = p;
                }
            }
            if best > f32::NEG_INFINITY {
                score[i * l + y] = best + e(i, y);
                back[i * l + y] = arg;
            }
        }
    }
    let (mut y, best) = (0..l)
        .map(|y| (y, score[(n - 1) * l + y]))
        .fold((0, f32::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
    if best == f32::NEG_INFINITY {
        return None;
    }
    let mut labels = vec![0; n];
    for i in (0..n).rev() {
        labels[i] = y;
        y = back[i * l + y];
    }
    Some(labels)
}

#[allow(clippy::needless_range_loop)]
/// Forward–backward over `log_probs` under `c`: the probability that a word starts at each
/// unit, and the probability of each word of `labels` (a valid sequence under `c`) as a whole.
fn marginals(
    log_probs: &[f32],
    scheme: &LabelScheme,
    c: &Constraints,
    labels: &[usize],
) -> (Vec<f32>, Vec<f32>) {
    let l = scheme.len();
    let n = log_probs.len() / l;
    let ok = |i: usize, y: usize| allowed_at(scheme, c, i, y, n);
    let trans: Vec<bool> = (0..l * l)
        .map(|k| scheme.allowed(scheme.tag(k / l), scheme.tag(k % l)))
        .collect();
    let e = |i: usize, y: usize| emission(log_probs, l, i, y);
    let mut alpha = vec![f32::NEG_INFINITY; n * l];
    let mut beta = vec![f32::NEG_INFINITY; n * l];
    for y in 0..l {
        if ok(0, y) {
            alpha[y] = e(0, y);
        }
    }
    for i in 1..n {
        for y in 0..l {
            if !ok(i, y) {
                continue;
            }
            let mut acc = f32::NEG_INFINITY;
            for p in 0..l {
                if trans[p * l + y] {
                    acc = log_add(acc, alpha[(i - 1) * l + p]);
                }
            }
            alpha[i * l + y] = acc + e(i, y);
        }
    }
    for y in 0..l {
        if ok(n - 1, y) {
            beta[(n - 1) * l + y] = 0.0;
        }
    }
    for i in (0..n - 1).rev() {
        for y in 0..l {
            if !ok(i, y) {
                continue;
            }
            let mut acc = f32::NEG_INFINITY;
            for nx in 0..l {
                if trans[y * l + nx] {
                    acc = log_add(acc, beta[(i + 1) * l + nx] + e(i + 1, nx));
                }
            }
            beta[i * l + y] = acc;
        }
    }
    let z = (0..l).fold(f32::NEG_INFINITY, |a, y| log_add(a, alpha[(n - 1) * l + y]));
    let boundary_prob = (0..n)
        .map(|i| {
            let mut b = f32::NEG_INFINITY;
            for y in 0..l {
                if scheme.tag(y).starts_word() {
                    b = log_add(b, alpha[i * l + y] + beta[i * l + y]);
                }
            }
            ((b - z).exp()).clamp(0.0, 1.0)
        })
        .collect();
    // A word [a, b) of a valid sequence has one tag sequence (B M… E, S, or B I…), so its
    // probability is: the paths into its first tag, its tags' scores, and the paths out of its
    // last tag that start a word at b.
    let mut word_prob = Vec::new();
    let mut a = 0;
    for b in 1..=n {
        if b < n && !scheme.tag(labels[b]).starts_word() {
            continue;
        }
        let first = labels[a];
        let mut s = if a == 0 {
            0.0
        } else {
            (0..l)
                .filter(|&p| trans[p * l + first])
                .fold(f32::NEG_INFINITY, |acc, p| {
                    log_add(acc, alpha[(a - 1) * l + p])
                })
        };
        s += (a..b).map(|i| e(i, labels[i])).sum::<f32>();
        let last = labels[b - 1];
        s += if b == n {
            beta[(n - 1) * l + last]
        } else {
            (0..l)
                .filter(|&nx| trans[last * l + nx] && scheme.tag(nx).starts_word())
                .fold(f32::NEG_INFINITY, |acc, nx| {
                    log_add(acc, beta[b * l + nx] + e(b, nx))
                })
        };
        word_prob.push((s - z).exp().clamp(0.0, 1.0));
        a = b;
    }
    (boundary_prob, word_prob)
}

/// Constrained Viterbi and boundary and word marginals over `log_probs` (`n × scheme.len()`,
/// row-major). Constraints that cannot all hold are relaxed (forbidden first, then forced) so
/// decoding always returns a valid tag sequence.
pub fn decode(log_probs: &[f32], scheme: &LabelScheme, constraints: &Constraints) -> Decoded {
    decode_tempered(log_probs, scheme, constraints, 1.0)
}

/// Each unit's scores, as decoding reads them (kept in [-1e4, 0]), divided by `temperature`
/// and renormalised (a log-softmax per unit).
pub fn tempered(log_probs: &[f32], labels: usize, temperature: f32) -> Vec<f32> {
    let l = labels.max(1);
    let mut out = Vec::with_capacity(log_probs.len());
    for (i, row) in log_probs.chunks_exact(l).enumerate() {
        let scaled: Vec<f32> = (0..row.len())
            .map(|y| emission(log_probs, l, i, y) / temperature)
            .collect();
        let z = scaled.iter().fold(f32::NEG_INFINITY, |a, &b| log_add(a, b));
        out.extend(scaled.iter().map(|v| v - z));
    }
    out
}

/// [`decode`], with the labels from `log_probs` as they are and the probabilities from the
/// same scores at `temperature` ([`tempered`]): the decoded words do not depend on the
/// temperature, only how sure the model is shown to be. A temperature of 1 (or one that is not
/// a positive finite number) gives exactly [`decode`]'s probabilities.
pub fn decode_tempered(
    log_probs: &[f32],
    scheme: &LabelScheme,
    constraints: &Constraints,
    temperature: f32,
) -> Decoded {
    let l = scheme.len();
    if log_probs.len() / l == 0 {
        return Decoded {
            labels: vec![],
            boundary_prob: vec![],
            word_prob: vec![],
        };
    }
    let scaled = (temperature != 1.0 && temperature.is_finite() && temperature > 0.0)
        .then(|| tempered(log_probs, l, temperature));
    for c in relaxations(constraints) {
        if let Some(labels) = viterbi(log_probs, scheme, &c) {
            let shown = scaled.as_deref().unwrap_or(log_probs);
            let (boundary_prob, word_prob) = marginals(shown, scheme, &c, &labels);
            return Decoded {
                labels,
                boundary_prob,
                word_prob,
            };
        }
    }
    unreachable!("unconstrained decoding always has a path")
}

/// One of the k best segmentations of a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    /// Best label id per unit for this path.
    pub labels: Vec<usize>,
    /// Posterior probability of this exact tag sequence under the constraints.
    pub prob: f32,
}

/// The `k` best valid tag sequences (list Viterbi), best first, each with its posterior
/// probability (its score over the sum over all valid sequences).
#[allow(clippy::needless_range_loop)]
pub fn kbest(
    log_probs: &[f32],
    scheme: &LabelScheme,
    constraints: &Constraints,
    k: usize,
) -> Vec<Alternative> {
    let l = scheme.len();
    let n = log_probs.len() / l;
    if n == 0 || k == 0 {
        return vec![];
    }
    let e = |i: usize, y: usize| emission(log_probs, l, i, y);
    let ok = |i: usize, y: usize| allowed_at(scheme, constraints, i, y, n);
    // lists[i][y]: up to k (score, prev label, prev rank), best first.
    let mut lists: Vec<Vec<Vec<(f32, usize, usize)>>> = vec![vec![Vec::new(); l]; n];
    for y in 0..l {
        if ok(0, y) {
            lists[0][y].push((e(0, y), 0, 0));
        }
    }
    for i in 1..n {
        for y in 0..l {
            if !ok(i, y) {
                continue;
            }
            let mut cands: Vec<(f32, usize, usize)> = Vec::new();
            for p in 0..l {
                if !scheme.allowed(scheme.tag(p), scheme.tag(y)) {
                    continue;
                }
                for (r, &(s, _, _)) in lists[i - 1][p].iter().enumerate() {
                    cands.push((s + e(i, y), p, r));
                }
            }
            cands.sort_by(|a, b| b.0.total_cmp(&a.0));
            cands.truncate(k);
            lists[i][y] = cands;
        }
    }
    let mut finals: Vec<(f32, usize, usize)> = Vec::new();
    for y in 0..l {
        for (r, &(s, _, _)) in lists[n - 1][y].iter().enumerate() {
            finals.push((s, y, r));
        }
    }
    finals.sort_by(|a, b| b.0.total_cmp(&a.0));
    finals.truncate(k);
    // log Z over all valid paths (forward algorithm) turns scores into probabilities.
    let mut alpha: Vec<f32> = (0..l)
        .map(|y| if ok(0, y) { e(0, y) } else { f32::NEG_INFINITY })
        .collect();
    for i in 1..n {
        let mut next = vec![f32::NEG_INFINITY; l];
        for y in 0..l {
            if !ok(i, y) {
                continue;
            }
            let mut acc = f32::NEG_INFINITY;
            for p in 0..l {
                if scheme.allowed(scheme.tag(p), scheme.tag(y)) {
                    acc = log_add(acc, alpha[p]);
                }
            }
            next[y] = acc + e(i, y);
        }
        alpha = next;
    }
    let z = alpha.iter().fold(f32::NEG_INFINITY, |a, &b| log_add(a, b));
    finals
        .into_iter()
        .map(|(score, y, r)| {
            let mut labels = vec![0; n];
            let (mut y, mut r) = (y, r);
            for i in (0..n).rev() {
                labels[i] = y;
                let (_, py, pr) = lists[i][y][r];
                y = py;
                r = pr;
            }
            Alternative {
                labels,
                prob: (score - z).exp().clamp(0.0, 1.0),
            }
        })
        .collect()
}
