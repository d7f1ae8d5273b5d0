//! Decoding one line's label scores: constrained Viterbi, forward–backward boundary marginals,
//! and the k best segmentations.

use super::Constraints;
use crate::tagger::LabelScheme;

/// Result of decoding one line's label scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Best label id per unit.
    pub labels: Vec<usize>,
    /// `boundary_prob[i]`: posterior probability that a word starts at unit `i` (1 for unit 0).
    pub boundary_prob: Vec<f32>,
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

// Dynamic programming over (position, label) tables reads best with explicit indices.
#[allow(clippy::needless_range_loop)]
/// Constrained Viterbi and boundary marginals over `log_probs` (`n × scheme.len()`, row-major).
/// Constraints that cannot all hold are relaxed (forbidden first, then forced) so decoding
/// always returns a valid tag sequence.
pub fn decode(log_probs: &[f32], scheme: &LabelScheme, constraints: &Constraints) -> Decoded {
    let l = scheme.len();
    let n = log_probs.len() / l;
    if n == 0 {
        return Decoded {
            labels: vec![],
            boundary_prob: vec![],
        };
    }
    let attempt = |c: &Constraints| -> Option<Decoded> {
        let ok = |i: usize, y: usize| allowed_at(scheme, c, i, y, n);
        let trans: Vec<bool> = (0..l * l)
            .map(|k| scheme.allowed(scheme.tag(k / l), scheme.tag(k % l)))
            .collect();
        let e = |i: usize, y: usize| emission(log_probs, l, i, y);
        // Viterbi
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
                    if trans[p * l + y] && s > best {
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
        // Forward–backward (log space) for boundary marginals.
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
        Some(Decoded {
            labels,
            boundary_prob,
        })
    };
    if let Some(d) = attempt(constraints) {
        return d;
    }
    let relaxed = Constraints {
        forced: constraints.forced.clone(),
        forbidden: vec![],
    };
    if let Some(d) = attempt(&relaxed) {
        return d;
    }
    attempt(&Constraints::default()).expect("unconstrained decoding always has a path")
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
