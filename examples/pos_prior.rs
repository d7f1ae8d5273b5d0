//! Chooses how a POS head's scores combine with its lexicon (`lexicon_weight`,
//! `lexicon_smoothing` in config.json): POS accuracy on correctly segmented words and joint
//! segmentation+POS F1 on a gold file for a grid of weights, the head run once.
//!
//!   cargo run --release --example pos_prior -- MODEL_DIR LEXICON GOLD.pos.txt
//!
//! Choose on dev; report test once with `fenci eval` on the shipped model.
use fenci::eval::{parse_tagged, PosScores};
use fenci::segment::{word_tags, Segmenter};
use fenci::tagger::{ModelFiles, PosLexicon};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, lexicon, gold] = args.as_slice() else {
        return Err("usage: pos_prior MODEL_DIR LEXICON GOLD.pos.txt".into());
    };
    let files = ModelFiles::load_dir(std::path::Path::new(dir))?;
    let mut seg = Segmenter::new(&files)?;
    seg.set_pos(true);
    let head = seg.pos_head().ok_or("the model has no POS head")?;
    let tags = head.tags().to_vec();
    let lex_text = std::fs::read_to_string(lexicon)?;
    let gold: Vec<Vec<(String, String)>> = std::fs::read_to_string(gold)?
        .lines()
        .map(parse_tagged)
        .collect();
    let lines: Vec<String> = gold
        .iter()
        .map(|g| g.iter().map(|w| w.0.as_str()).collect())
        .collect();
    let segs = seg.segment_batch(&lines)?;
    let units: Vec<_> = segs.iter().map(|s| s.units.clone()).collect();
    let plp = seg.pos_log_probs(&units)?.ok_or("no POS scores")?;
    let mut grid: Vec<(f32, f32)> = vec![(0.0, 1.0)];
    for w in [0.5f32, 1.0, 1.5, 2.0, 3.0, 4.0] {
        for a in [0.01f32, 0.02, 0.05, 0.2, 1.0] {
            grid.push((w, a));
        }
    }
    for (w, a) in grid {
        let lex = PosLexicon::parse(&lex_text, &tags, w, a)?;
        let mut sc = PosScores::default();
        for ((g, s), p) in gold.iter().zip(&segs).zip(&plp) {
            let t = word_tags(&s.units, &s.words, p, &tags, Some(&lex), None);
            let pred: Vec<(&str, &str)> = s
                .words
                .iter()
                .zip(&t)
                .map(|(w, t)| (w.text.as_str(), t.tag.as_str()))
                .collect();
            sc.add(g, &pred);
        }
        println!(
            "weight {w:<5} smoothing {a:<5} POS acc {:.2}%  joint F1 {:.2}",
            sc.accuracy() * 100.0,
            sc.f1() * 100.0
        );
    }
    Ok(())
}
