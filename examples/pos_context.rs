//! Trains the word-level POS context model ([`fenci::tagger::PosContext`]) and chooses how it
//! combines with a model's POS head: POS accuracy on correctly segmented words and joint
//! segmentation+POS F1 on a gold file for a grid of head weights (with the model's word-tag
//! counts where it has them), then the softmax temperature
//! that minimises the negative log-likelihood of the gold tags (the shown probability), and the
//! file's size.
//!
//!   cargo run --release --example pos_context -- MODEL_DIR TRAIN.pos.txt DEV.pos.txt \
//!       [EPOCHS MIN_COUNT PRUNE] [--save FILE]
//!
//! Choose on dev; report test once with `fenci eval` on the shipped model.
use std::sync::atomic::AtomicBool;

use fenci::eval::PosScores;
use fenci::segment::{word_tags, Segmenter};
use fenci::tagger::{ModelFiles, PosContext};
use fenci::train::{read_pos_gold, train_pos_context, PosContextConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let save = match args.iter().position(|a| a == "--save") {
        Some(i) => {
            let f = args.get(i + 1).cloned().ok_or("--save needs a file")?;
            args.drain(i..i + 2);
            Some(f)
        }
        None => None,
    };
    let (dir, train, dev) = match args.as_slice() {
        [d, t, v, ..] => (d, t, v),
        _ => return Err("usage: pos_context MODEL_DIR TRAIN DEV [EPOCHS MIN_COUNT PRUNE]".into()),
    };
    let mut cfg = PosContextConfig::default();
    if let Some(e) = args.get(3) {
        cfg.epochs = e.parse()?;
    }
    if let Some(c) = args.get(4) {
        cfg.min_count = c.parse()?;
    }
    if let Some(p) = args.get(5) {
        cfg.prune = p.parse()?;
    }
    let files = ModelFiles::load_dir(std::path::Path::new(dir))?;
    let mut seg = Segmenter::new(&files)?;
    seg.set_pos(true);
    let head = seg.pos_head().ok_or("the model has no POS head")?;
    let tags = head.tags().to_vec();
    let train = read_pos_gold(&std::fs::read_to_string(train)?)?;
    let dev = read_pos_gold(&std::fs::read_to_string(dev)?)?;
    let t0 = std::time::Instant::now();
    let model = train_pos_context(&train, &tags, cfg, &AtomicBool::new(false), |e, err, n| {
        eprintln!(
            "epoch {e}: {err} of {n} words wrong ({:.2}%)",
            100.0 * err as f64 / n as f64
        )
    })?;
    let text = model.to_text(&tags);
    println!(
        "{cfg:?}: trained in {:.1} s; {} features, file {:.1} MB",
        t0.elapsed().as_secs_f64(),
        model.0.len(),
        text.len() as f64 / 1e6
    );
    if let Some(f) = save {
        std::fs::write(f, &text)?;
    }
    let lines: Vec<String> = dev
        .iter()
        .map(|g| g.iter().map(|w| w.0.as_str()).collect())
        .collect();
    let segs = seg.segment_batch(&lines)?;
    let units: Vec<_> = segs.iter().map(|s| s.units.clone()).collect();
    let plp = seg.pos_log_probs(&units)?.ok_or("no POS scores")?;
    // The head's word-tag counts as the model declares them (`lexicon_weight`), if any.
    let lexicon = head.lexicon();
    let run = |hw: f32, temp: f32| {
        let m = PosContext::parse(&text, &tags, hw, temp).expect("own text");
        let mut sc = PosScores::default();
        let mut nll = 0f64;
        for ((g, s), p) in dev.iter().zip(&segs).zip(&plp) {
            let t = word_tags(&s.units, &s.words, p, &tags, lexicon, Some(&m));
            let pred: Vec<(&str, &str)> = s
                .words
                .iter()
                .zip(&t)
                .map(|(w, t)| (w.text.as_str(), t.tag.as_str()))
                .collect();
            // The probability of the chosen tag, as a calibration check: −ln p if right,
            // −ln(1 − p) if wrong (on words whose span is right).
            let mut c = 0;
            let gold_spans: std::collections::HashMap<(usize, usize), &str> = g
                .iter()
                .map(|(w, t)| {
                    let n = w.chars().count();
                    c += n;
                    ((c - n, c), t.as_str())
                })
                .collect();
            for (w, t) in s.words.iter().zip(&t) {
                if let Some(gt) = gold_spans.get(&(w.chars.start, w.chars.end)) {
                    let p = (t.prob as f64).clamp(1e-6, 1.0 - 1e-6);
                    nll -= if *gt == t.tag { p.ln() } else { (1.0 - p).ln() };
                }
            }
            sc.add(g, &pred);
        }
        (sc, nll)
    };
    let mut best = (0.0f32, 0.0f64);
    for hw in [0.0f32, 0.25, 0.5, 1.0] {
        let (sc, _) = run(hw, 1.0);
        println!(
            "head weight {hw:<5} POS acc {:.2}%  joint F1 {:.2}",
            sc.accuracy() * 100.0,
            sc.f1() * 100.0
        );
        if sc.accuracy() > best.1 {
            best = (hw, sc.accuracy());
        }
    }
    for temp in [3.0f32, 4.0, 6.0, 8.0] {
        let (sc, nll) = run(best.0, temp);
        println!(
            "head weight {} temperature {temp:<4} binary NLL of the shown probability {:.4} per word",
            best.0,
            nll / sc.seg_correct.max(1) as f64
        );
    }
    Ok(())
}
