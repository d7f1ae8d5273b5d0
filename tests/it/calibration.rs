//! Calibrated confidence: probabilities shown at the model's display temperature
//! (`fenci_boundary_temperature`) while the words stay those of the raw scores; boundary and
//! word marginals checked against brute force; the hesitation and uncertainty rules.
use std::sync::OnceLock;

use fenci::segment::{
    decode, decode_tempered, Constraints, Segmentation, Segmenter, HESITANT, UNCERTAIN_BELOW,
};
use fenci::tagger::{embedded, BertConfig, LabelScheme, ModelFiles, TEMPERATURE_KEY};
use proptest::prelude::*;

use crate::util::tiny_model;

fn bmes() -> &'static Segmenter {
    static S: OnceLock<Segmenter> = OnceLock::new();
    S.get_or_init(|| Segmenter::new(&tiny_model(&LabelScheme::bmes(), 1, 16, 24, 31)).unwrap())
}

/// Deterministic scores in [-7.4, -0.37] (with `inf`, sometimes -inf), and constraints that can
/// all hold (never forbidden at unit 0, never forced and forbidden at once), so decoding relaxes
/// nothing.
fn case(n: usize, l: usize, seed: u64, inf: bool) -> (Vec<f32>, Constraints) {
    let mut x = seed | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let lp: Vec<f32> = (0..n * l)
        .map(|_| match next() % 20 {
            0 if inf => f32::NEG_INFINITY,
            0 => -0.1,
            k => -((k as f32) * 0.37),
        })
        .collect();
    let forced: Vec<bool> = (0..n).map(|_| next() % 6 == 0).collect();
    let forbidden: Vec<bool> = (0..n)
        .map(|i| i > 0 && !forced[i] && next() % 6 == 0)
        .collect();
    (lp, Constraints { forced, forbidden })
}

/// The forward–backward boundary marginals exactly as fenci computed them before display
/// temperatures existed (commit 080e972, `decode`), for constraints that need no relaxing.
#[allow(clippy::needless_range_loop)]
fn reference_boundary_probs(lp: &[f32], scheme: &LabelScheme, c: &Constraints) -> Vec<f32> {
    let l = scheme.len();
    let n = lp.len() / l;
    let ok = |i: usize, y: usize| {
        let t = scheme.tag(y);
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
    };
    let e = |i: usize, y: usize| {
        let v = lp[i * l + y];
        if v.is_nan() {
            -1e4
        } else {
            v.clamp(-1e4, 0.0)
        }
    };
    let log_add = |a: f32, b: f32| {
        if a == f32::NEG_INFINITY {
            return b;
        }
        if b == f32::NEG_INFINITY {
            return a;
        }
        let m = a.max(b);
        m + ((a - m).exp() + (b - m).exp()).ln()
    };
    let trans: Vec<bool> = (0..l * l)
        .map(|k| scheme.allowed(scheme.tag(k / l), scheme.tag(k % l)))
        .collect();
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
    (0..n)
        .map(|i| {
            let mut b = f32::NEG_INFINITY;
            for y in 0..l {
                if scheme.tag(y).starts_word() {
                    b = log_add(b, alpha[i * l + y] + beta[i * l + y]);
                }
            }
            ((b - z).exp()).clamp(0.0, 1.0)
        })
        .collect()
}

/// Boundary and word marginals by enumerating every valid tag sequence, each weighted by
/// exp(Σ score / t): what forward–backward at temperature `t` must equal.
#[allow(clippy::needless_range_loop)]
fn brute_force(
    lp: &[f32],
    scheme: &LabelScheme,
    c: &Constraints,
    labels: &[usize],
    t: f64,
) -> (Vec<f64>, Vec<f64>) {
    let l = scheme.len();
    let n = lp.len() / l;
    let starts_of =
        |seq: &[usize]| -> Vec<bool> { seq.iter().map(|&y| scheme.tag(y).starts_word()).collect() };
    let best = starts_of(labels);
    // The decoded words as [a, b) unit ranges.
    let mut words = Vec::new();
    let mut a = 0;
    for b in 1..=n {
        if b == n || best[b] {
            words.push((a, b));
            a = b;
        }
    }
    let mut paths = Vec::new();
    for code in 0..l.pow(n as u32) {
        let seq: Vec<usize> = (0..n).map(|i| code / l.pow(i as u32) % l).collect();
        let tags: Vec<_> = seq.iter().map(|&y| scheme.tag(y)).collect();
        let valid = scheme.allowed_start(tags[0])
            && scheme.allowed_end(tags[n - 1])
            && tags.windows(2).all(|w| scheme.allowed(w[0], w[1]))
            && tags.iter().enumerate().all(|(i, t)| {
                let starts = t.starts_word();
                (starts || !c.forced[i]) && (!starts || !c.forbidden[i])
            });
        if !valid {
            continue;
        }
        let score: f64 = seq
            .iter()
            .enumerate()
            .map(|(i, &y)| f64::from(lp[i * l + y].max(-1e4)))
            .sum();
        paths.push((score, starts_of(&seq)));
    }
    // Weights relative to the best path, so that paths of very low scores still add up.
    let top = paths.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let (mut z, mut bound, mut word) = (0f64, vec![0f64; n], vec![0f64; words.len()]);
    for (score, st) in paths {
        let w = ((score - top) / t).exp();
        z += w;
        for (b, &starts) in bound.iter_mut().zip(&st) {
            if starts {
                *b += w;
            }
        }
        for (k, &(a, b)) in words.iter().enumerate() {
            if st[a] && (a + 1..b).all(|i| !st[i]) && (b == n || st[b]) {
                word[k] += w;
            }
        }
    }
    (
        bound.iter().map(|b| b / z).collect(),
        word.iter().map(|w| w / z).collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn temperature_one_reproduces_the_old_probabilities_bit_for_bit(
        n in 1usize..30,
        bi_scheme in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let scheme = if bi_scheme { LabelScheme::bi() } else { LabelScheme::bmes() };
        let (lp, c) = case(n, scheme.len(), seed, true);
        let want = reference_boundary_probs(&lp, &scheme, &c);
        prop_assert_eq!(&decode(&lp, &scheme, &c).boundary_prob, &want);
        prop_assert_eq!(&decode_tempered(&lp, &scheme, &c, 1.0).boundary_prob, &want);
    }

    #[test]
    fn decoding_does_not_depend_on_the_temperature(
        n in 0usize..30,
        bi_scheme in any::<bool>(),
        seed in any::<u64>(),
        t in prop_oneof![Just(0.3f32), Just(2.744f32), Just(10.0f32), 0.05f32..20.0],
    ) {
        let scheme = if bi_scheme { LabelScheme::bi() } else { LabelScheme::bmes() };
        let (lp, c) = case(n, scheme.len(), seed, true);
        let plain = decode(&lp, &scheme, &c);
        let hot = decode_tempered(&lp, &scheme, &c, t);
        prop_assert_eq!(&plain.labels, &hot.labels);
        prop_assert_eq!(plain.word_prob.len(), hot.word_prob.len());
    }

    #[test]
    fn tempered_marginals_match_brute_force(
        n in 1usize..7,
        bi_scheme in any::<bool>(),
        seed in any::<u64>(),
        t in prop_oneof![Just(1.0f64), Just(0.5f64), Just(2.744f64), 0.2f64..6.0],
    ) {
        let scheme = if bi_scheme { LabelScheme::bi() } else { LabelScheme::bmes() };
        // Finite scores: a -inf becomes -1e4, where f32 keeps only about 3 decimals.
        let (lp, c) = case(n, scheme.len(), seed, false);
        let d = decode_tempered(&lp, &scheme, &c, t as f32);
        let (bound, word) = brute_force(&lp, &scheme, &c, &d.labels, t);
        for (i, (&got, &want)) in d.boundary_prob.iter().zip(&bound).enumerate() {
            prop_assert!((f64::from(got) - want).abs() < 1e-4, "boundary {i}: {got} vs {want}");
        }
        prop_assert_eq!(d.word_prob.len(), word.len());
        for (k, (&got, &want)) in d.word_prob.iter().zip(&word).enumerate() {
            prop_assert!((f64::from(got) - want).abs() < 1e-4, "word {k}: {got} vs {want}");
        }
    }
}

#[test]
fn the_shipped_model_declares_its_fitted_temperature() {
    let files = ModelFiles::embedded().unwrap();
    let raw: serde_json::Value = serde_json::from_str(embedded::CONFIG).unwrap();
    let declared = raw[TEMPERATURE_KEY]
        .as_f64()
        .expect("models/default/config.json has a fitted fenci_boundary_temperature");
    assert!(declared > 1.0, "{declared}");
    assert_eq!(files.config.boundary_temperature(), declared as f32);
    let seg = Segmenter::new(&files).unwrap();
    assert_eq!(seg.temperature(), declared as f32);
    let s = seg.segment("我爱北京天安门").unwrap();
    assert_eq!(s.temperature, declared as f32);
}

#[test]
fn a_model_without_the_key_shows_the_raw_probabilities() {
    let files = tiny_model(&LabelScheme::bmes(), 1, 16, 24, 31);
    assert!(!files.config.extra.contains_key(TEMPERATURE_KEY));
    assert_eq!(files.config.boundary_temperature(), 1.0);
    let seg = bmes();
    assert_eq!(seg.temperature(), 1.0);
    let text = "我爱北京天安门，喜欢学习中文";
    let s = seg.segment(text).unwrap();
    assert_eq!(s.temperature, 1.0);
    let d = decode(
        &s.log_probs,
        &LabelScheme::bmes(),
        &seg.constraints(text, &s.units),
    );
    let probs: Vec<f32> = s.boundaries.iter().map(|b| b.prob).collect();
    assert_eq!(probs, d.boundary_prob[1..]);
    assert_eq!(s.word_probs, d.word_prob);
}

#[test]
fn the_key_is_read_and_a_bad_value_refused() {
    let mut files = tiny_model(&LabelScheme::bmes(), 1, 16, 24, 31);
    files
        .config
        .extra
        .insert(TEMPERATURE_KEY.into(), serde_json::json!(2.5));
    let seg = Segmenter::new(&files).unwrap();
    assert_eq!(seg.temperature(), 2.5);
    // Same words as the model at temperature 1, less extreme probabilities.
    let text = "我爱北京天安门，喜欢学习中文";
    let (hot, cold) = (seg.segment(text).unwrap(), bmes().segment(text).unwrap());
    assert_eq!(hot.word_strs(), cold.word_strs());
    let spread = |s: &Segmentation| {
        s.boundaries
            .iter()
            .filter(|b| !b.forced)
            .map(|b| (b.prob - 0.5).abs())
            .sum::<f32>()
    };
    assert!(spread(&hot) < spread(&cold));
    // Written and read back.
    let back = BertConfig::from_json(&files.config.to_json(), "config.json".as_ref()).unwrap();
    assert_eq!(back.boundary_temperature(), 2.5);
    let good = files.config.to_json();
    let line = format!("\"{TEMPERATURE_KEY}\": 2.5");
    assert!(good.contains(&line), "{good}");
    for bad in ["0", "-1", "\"warm\"", "1e9", "null"] {
        let json = good.replace(&line, &format!("\"{TEMPERATURE_KEY}\": {bad}"));
        let err = BertConfig::from_json(&json, "config.json".as_ref()).unwrap_err();
        assert!(err.to_string().contains(TEMPERATURE_KEY), "{bad}: {err}");
    }
}

#[test]
fn the_segmenter_temperature_changes_no_word() {
    let mut seg = Segmenter::new(&tiny_model(&LabelScheme::bmes(), 1, 16, 24, 31)).unwrap();
    let lines = [
        "我爱北京天安门，喜欢学习中文",
        "老师让学生们回答问题",
        "他用iPhone拍了",
    ];
    let base = seg.segment_batch(&lines).unwrap();
    for t in [0.25, 2.744, 8.0] {
        seg.set_temperature(t);
        for (a, b) in base.iter().zip(seg.segment_batch(&lines).unwrap()) {
            assert_eq!(a.word_strs(), b.word_strs(), "at {t}");
        }
    }
}

/// A line of `words` whose scores say 0.97 for each word's own tags, except at `doubt`, where
/// the model gives `p` to the tag the words call for and 1 − p − 0.02 to the other reading of
/// the boundary before that unit.
#[allow(clippy::needless_range_loop)]
fn doubted(words: &[&str], doubt: usize, p: f32, t: f32) -> Segmentation {
    let scheme = LabelScheme::bmes();
    let text: String = words.concat();
    let units = bmes().tokenizer().units(&text);
    let gold = fenci::segment::gold_labels(&units, words, &scheme);
    // The other reading: the word containing `doubt` is cut before it (or joined to the
    // previous one when a word starts there).
    let n = units.len();
    let mut starts: Vec<bool> = gold.iter().map(|&g| scheme.tag(g).starts_word()).collect();
    starts[doubt] = !starts[doubt];
    let tag_at = |st: &[bool], i: usize| {
        let end = i + 1 == n || st[i + 1];
        scheme.id(match (st[i], end) {
            (true, true) => fenci::tagger::Tag::Single,
            (true, false) => fenci::tagger::Tag::Begin,
            (false, true) => fenci::tagger::Tag::End,
            (false, false) => fenci::tagger::Tag::Middle,
        })
    };
    let mut lp = Vec::new();
    for i in 0..n {
        let (g, a) = (gold[i], tag_at(&starts, i));
        for y in 0..4 {
            let q: f32 = if g == a {
                if y == g {
                    0.97
                } else {
                    0.01
                }
            } else if y == g {
                p
            } else if y == a {
                1.0 - p - 0.02
            } else {
                0.01
            };
            lp.push(q.ln());
        }
    }
    let c = Constraints::from_gaps(&units);
    Segmentation::from_scores_tempered(&text, units, lp, &scheme, &c, t)
}

#[test]
fn a_low_margin_boundary_is_hesitant_and_its_words_uncertain() {
    // 北|京 half-believed: the boundary before 京 (unit 3) is doubted at 0.55 vs 0.43.
    let s = doubted(&["我", "爱", "北京", "天安门"], 3, 0.55, 1.0);
    assert_eq!(s.word_strs(), ["我", "爱", "北京", "天安门"]);
    let hes: Vec<usize> = s
        .boundaries
        .iter()
        .filter(|b| b.hesitant())
        .map(|b| b.at)
        .collect();
    assert!(hes.contains(&3), "{:?}", s.boundaries);
    let uncertain: Vec<&str> = (0..s.words.len())
        .filter(|&i| s.uncertain_word(i))
        .map(|i| s.words[i].text.as_str())
        .collect();
    assert!(
        uncertain.contains(&"北京"),
        "{uncertain:?} {:?}",
        s.word_probs
    );
    assert!(
        !uncertain.contains(&"我"),
        "{uncertain:?} {:?}",
        s.word_probs
    );
    assert!(s.word_confidence(2) < UNCERTAIN_BELOW);
    assert!(s.word_confidence(0) > UNCERTAIN_BELOW);
    // Out of range: no confidence, never uncertain.
    assert_eq!(s.word_confidence(9), 0.0);
    assert!(!s.uncertain_word(9));
    // Every boundary the model is sure of is not hesitant.
    for b in &s.boundaries {
        if b.decided_prob() >= 1.0 - HESITANT {
            assert!(!b.hesitant(), "{b:?}");
        }
    }
}

#[test]
fn a_higher_temperature_turns_a_fair_margin_into_hesitation() {
    // At 0.90 vs 0.08 the boundary is decided with ~0.99 at temperature 1; at 5 the same
    // scores say it much less surely. The words are the same.
    let cold = doubted(&["我", "爱", "北京", "天安门"], 3, 0.90, 1.0);
    let hot = doubted(&["我", "爱", "北京", "天安门"], 3, 0.90, 5.0);
    assert_eq!(cold.word_strs(), hot.word_strs());
    let at3 = |s: &Segmentation| s.boundaries.iter().find(|b| b.at == 3).unwrap().clone();
    assert!(!at3(&cold).hesitant(), "{:?}", at3(&cold));
    assert!(at3(&hot).hesitant(), "{:?}", at3(&hot));
    assert!(!cold.uncertain_word(2) && hot.uncertain_word(2));
}

#[test]
fn forced_boundaries_never_hesitate() {
    let s = bmes().segment("我 爱").unwrap();
    let b = s
        .boundaries
        .iter()
        .find(|b| b.forced)
        .expect("whitespace is forced");
    assert!(!b.hesitant());
}

#[test]
fn a_segmentation_is_checked_against_gold() {
    let s = doubted(&["我", "爱", "北京", "天安门"], 3, 0.55, 1.0);
    let check = s.against_gold(&["我", "爱", "北", "京", "天安门"]).unwrap();
    // Gold cuts 北|京; the model did not: 我, 爱, 天安门 right, 北京 wrong.
    assert_eq!(check.words_right, [true, true, false, true]);
    let splits: Vec<bool> = check.boundaries.iter().map(|b| b.1).collect();
    // Boundaries before 爱 北 京 天 安 门.
    assert_eq!(splits, [true, true, true, true, false, false]);
    assert!(s.against_gold(&["我", "爱", "北京"]).is_none());
}
