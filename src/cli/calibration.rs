//! `fenci eval --calibration` and `--fit-temperature`: how well the shown probabilities match
//! how often the model is right, against a gold file, and the display temperature that makes
//! them match best.

use anyhow::Result;

use crate::eval::{golden_section, Calibration, MarkShares};
use crate::segment::{Segmentation, Segmenter, HESITANT, UNCERTAIN_BELOW};
use crate::tagger::TEMPERATURE_KEY;

/// Bins of the reliability tables and of the expected calibration error.
const BINS: usize = 10;

/// Word-confidence thresholds whose marks are reported (the rule's own among them).
const WORD_THRESHOLDS: [f32; 7] = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];

/// Hesitation margins reported for the alternative rule "a word touches a hesitant boundary".
const MARGINS: [f32; 4] = [0.02, 0.05, 0.1, 0.2];

/// What one temperature's probabilities score against gold.
struct Measured {
    boundaries: Calibration,
    /// Word confidence as the exact span marginal (what fenci shows).
    words: Calibration,
    /// Word confidence as P(split before) · Π P(no split inside) · P(split after).
    words_product: Calibration,
    /// The uncertainty mark as fenci applies it ([`Segmentation::uncertain_word`]).
    mark: MarkShares,
    /// Word confidence under each of [`WORD_THRESHOLDS`].
    by_threshold: Vec<MarkShares>,
    /// A boundary at or inside the word whose decision has probability under 1 − m, for each
    /// of [`MARGINS`].
    by_margin: Vec<MarkShares>,
    /// Boundary log-loss, summed (what the temperature is fitted on).
    boundary_log_loss: f64,
}

/// Each word's product-of-boundaries confidence.
fn product_confidence(s: &Segmentation) -> Vec<f32> {
    s.words
        .iter()
        .map(|w| {
            s.boundaries
                .iter()
                .filter(|b| b.at >= w.chars.start && b.at <= w.chars.end)
                .map(|b| {
                    if b.at == w.chars.start || b.at == w.chars.end {
                        b.prob
                    } else {
                        1.0 - b.prob
                    }
                })
                .product()
        })
        .collect()
}

fn measure(seg: &Segmenter, gold: &[Vec<String>], segs: &[Segmentation], t: f32) -> Measured {
    let mut m = Measured {
        boundaries: Calibration::new(BINS),
        words: Calibration::new(BINS),
        words_product: Calibration::new(BINS),
        mark: MarkShares::default(),
        by_threshold: vec![MarkShares::default(); WORD_THRESHOLDS.len()],
        by_margin: vec![MarkShares::default(); MARGINS.len()],
        boundary_log_loss: 0.0,
    };
    for (g, s) in gold.iter().zip(segs) {
        let s = if t == s.temperature {
            s.clone()
        } else {
            seg.at_temperature(s, t)
        };
        let Some(check) = s.against_gold(g) else {
            continue;
        };
        for &(p, split) in &check.boundaries {
            m.boundaries.add(p, split);
        }
        let product = product_confidence(&s);
        for (i, &right) in check.words_right.iter().enumerate() {
            let conf = s.word_confidence(i);
            m.words.add(conf, right);
            m.words_product.add(product[i], right);
            m.mark.add(right, s.uncertain_word(i));
            for (k, &th) in WORD_THRESHOLDS.iter().enumerate() {
                m.by_threshold[k].add(right, conf < th);
            }
            let w = &s.words[i];
            for (k, &mg) in MARGINS.iter().enumerate() {
                let touches = s.boundaries.iter().any(|b| {
                    !b.forced
                        && b.at >= w.chars.start
                        && b.at <= w.chars.end
                        && b.decided_prob() < 1.0 - mg
                });
                m.by_margin[k].add(right, touches);
            }
        }
    }
    m.boundary_log_loss = m.boundaries.nll() * m.boundaries.count() as f64;
    m
}

fn shares(m: &MarkShares) -> String {
    format!(
        "wrong words marked {}/{} ({:.1}%), right words marked {}/{} ({:.1}%)",
        m.wrong_marked,
        m.wrong,
        m.wrong_share() * 100.0,
        m.right_marked,
        m.right,
        m.right_share() * 100.0
    )
}

fn print(title: &str, m: &Measured) -> Result<()> {
    say!("{title}");
    say!(
        "  boundaries: {} decided by the model, ECE {:.2}%, NLL {:.4}",
        m.boundaries.count(),
        m.boundaries.ece() * 100.0,
        m.boundaries.nll()
    );
    say!(
        "  words (span marginal, shown): {} words, ECE {:.2}%, NLL {:.4}",
        m.words.count(),
        m.words.ece() * 100.0,
        m.words.nll()
    );
    say!(
        "  words (product of boundary marginals): ECE {:.2}%, NLL {:.4}",
        m.words_product.ece() * 100.0,
        m.words_product.nll()
    );
    say!("  reliability, boundaries (P(split) vs gold split):");
    say!("{}", m.boundaries.table().trim_end());
    say!("  reliability, words (confidence vs gold has the word):");
    say!("{}", m.words.table().trim_end());
    say!(
        "  uncertainty mark (word confidence < {UNCERTAIN_BELOW}): {}",
        shares(&m.mark)
    );
    for (th, s) in WORD_THRESHOLDS.iter().zip(&m.by_threshold) {
        say!("    if confidence < {th}: {}", shares(s));
    }
    for (mg, s) in MARGINS.iter().zip(&m.by_margin) {
        say!(
            "    if a boundary at or in the word is decided with p < {}: {}",
            1.0 - mg,
            shares(s)
        );
    }
    say!(
        "  (hesitant boundaries, where the app shows a percentage: decided with p < {})",
        1.0 - HESITANT
    );
    Ok(())
}

/// Prints the calibration report (`calibration`) and the fitted temperature (`fit`) of `segs`,
/// `seg`'s segmentations of the lines of `gold`.
pub(super) fn report(
    seg: &Segmenter,
    gold: &[Vec<String>],
    segs: &[Segmentation],
    calibration: bool,
    fit: bool,
) -> Result<()> {
    let shown = seg.temperature();
    if calibration {
        say!("calibration ({BINS} equal-width bins; ECE and NLL over this file):");
        print(
            "at temperature 1 (the raw scores):",
            &measure(seg, gold, segs, 1.0),
        )?;
        if shown != 1.0 {
            print(
                &format!("at temperature {shown} (shown):"),
                &measure(seg, gold, segs, shown),
            )?;
        }
    }
    if fit {
        // Log-loss of the boundaries is smooth and unimodal in log T; search there.
        let loss = |lt: f64| measure(seg, gold, segs, lt.exp() as f32).boundary_log_loss;
        let (lt, best) = golden_section(loss, 0.25f64.ln(), 8f64.ln(), 1e-3);
        let t = lt.exp();
        let n = measure(seg, gold, segs, 1.0);
        let count = n.boundaries.count().max(1) as f64;
        say!(
            "fitted temperature {t:.3} (boundary NLL {:.4} at 1 → {:.4}); config.json: \"{TEMPERATURE_KEY}\": {t:.3}",
            n.boundary_log_loss / count,
            best / count
        );
    }
    Ok(())
}
