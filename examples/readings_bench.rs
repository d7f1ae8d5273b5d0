//! Readings benchmark: how often the pinyin shown for a word is the reading it has in the
//! sentence, before (`explain`, the best-ranked entry whatever the context) and after
//! (`explain_in_context`, POS and neighbours).
//!
//!   cargo run --release --example readings_bench -- benchmarks/readings/dev.tsv [--errors]
//!
//! The file: `SENTENCE<TAB>PINYIN`, one syllable per Han character, CC-CEDICT numbered
//! (`wo3 jue2 de5 hen3 lei4`), `#` comments. Each sentence is segmented by the built-in model;
//! a word counts as right when every syllable of its Han characters is right (tone included,
//! neutral = 5, citation tones: no sandhi). "Polyphonic" characters have two or more readings
//! among their CC-CEDICT entries (proper names, variants and "used in" entries not counted).
//! `--errors` lists the words the context method gets wrong.
//!
//!   cargo run --release --example readings_bench -- --pku ../shared/data/pku1998/dev.pos.txt [N]
//!
//! With `--pku`, the first N (default 300) gold-tagged dev sentences (`word/TAG`, no gold
//! pinyin) are explained with their gold tags, and every word whose reading or gloss changes
//! from `explain` is printed with its tag, for checking the rules by eye (never the test split).
use std::collections::HashMap;

use fenci::explain::{
    explain, explain_in_context, explain_in_context_hinted, Dictionary, Explanation,
};
use fenci::segment::{Segmentation, Segmenter};
use fenci::tagger::ModelFiles;
use fenci::text::is_han;

/// The POS tags the segmenter predicts, one per word (`None` where the model has none).
fn predicted_tags(seg: &Segmentation, min: f32) -> Vec<Option<String>> {
    if min.is_nan() {
        return vec![None; seg.words.len()];
    }
    fenci::annotate::reading_tags(seg, min)
        .into_iter()
        .map(|t| t.map(str::to_string))
        .collect()
}

/// A numbered syllable, normalised: lower case, `u:`/`ü` → `v`.
fn norm(s: &str) -> String {
    s.to_lowercase().replace("u:", "v").replace('ü', "v")
}

/// 一 and 不 compare on their citation tones (yi1, bu4): CC-CEDICT writes some words with a
/// sandhi or neutral tone on them (比一比 `bi3 yi5 bi3`), the gold never does.
fn citation(c: char, syllable: &str) -> String {
    match (c, syllable.trim_end_matches(|d: char| d.is_ascii_digit())) {
        ('一', "yi") => "yi1".into(),
        ('不', "bu") => "bu4".into(),
        _ => syllable.to_string(),
    }
}

/// Tone marks back to a numbered syllable (`lǜ` → `lv4`, `de` → `de5`).
fn marks_to_numbered(s: &str) -> String {
    let mut tone = 5;
    let mut out = String::new();
    for c in s.chars() {
        let (base, t) = match c {
            'ā' => ('a', 1),
            'á' => ('a', 2),
            'ǎ' => ('a', 3),
            'à' => ('a', 4),
            'ē' => ('e', 1),
            'é' => ('e', 2),
            'ě' => ('e', 3),
            'è' => ('e', 4),
            'ī' => ('i', 1),
            'í' => ('i', 2),
            'ǐ' => ('i', 3),
            'ì' => ('i', 4),
            'ō' => ('o', 1),
            'ó' => ('o', 2),
            'ǒ' => ('o', 3),
            'ò' => ('o', 4),
            'ū' => ('u', 1),
            'ú' => ('u', 2),
            'ǔ' => ('u', 3),
            'ù' => ('u', 4),
            'ǖ' => ('v', 1),
            'ǘ' => ('v', 2),
            'ǚ' => ('v', 3),
            'ǜ' => ('v', 4),
            'ü' => ('v', 0),
            c => (c, 0),
        };
        if t > 0 {
            tone = t;
        }
        out.push(base);
    }
    norm(&format!("{out}{tone}"))
}

/// The numbered syllable shown for each Han character of a word.
fn shown_syllables(e: &Explanation) -> Vec<String> {
    let han: Vec<char> = e.word.chars().filter(|&c| is_han(c)).collect();
    if let Some(entry) = e.entries.get(e.chosen) {
        let syl: Vec<&str> = entry.pinyin_numbered.split_whitespace().collect();
        if syl.len() == e.word.chars().count() {
            return e
                .word
                .chars()
                .zip(syl)
                .filter(|(c, _)| is_han(*c))
                .map(|(_, s)| norm(s))
                .collect();
        }
    }
    let from_chars: Vec<String> = e
        .chars
        .iter()
        .filter(|r| is_han(r.ch))
        .map(|r| marks_to_numbered(&r.pinyin))
        .collect();
    if from_chars.len() == han.len() {
        from_chars
    } else {
        vec![String::new(); han.len()]
    }
}

/// Explains gold-tagged sentences with their tags; prints the words whose reading or gloss
/// changes from the context-free explanation, and counts.
fn gold_pos_changes(dict: &Dictionary, file: &str, n: usize) -> anyhow::Result<()> {
    let (mut words_seen, mut reading, mut gloss) = (0usize, 0usize, 0usize);
    for line in std::fs::read_to_string(file)?.lines().take(n) {
        let pairs: Vec<(&str, Option<&str>)> = line
            .split_whitespace()
            .map(|wt| match wt.rsplit_once('/') {
                Some((w, t)) => (w, Some(t)),
                None => (wt, None),
            })
            .collect();
        let words: Vec<&str> = pairs.iter().map(|p| p.0).collect();
        let tags: Vec<Option<&str>> = pairs.iter().map(|p| p.1).collect();
        for (e, t) in explain_in_context(dict, &words, &tags).iter().zip(&tags) {
            if !e.word.chars().any(is_han) {
                continue;
            }
            words_seen += 1;
            let old = explain(dict, &e.word);
            if old.pinyin != e.pinyin {
                reading += 1;
                println!(
                    "READING {}/{}\t{} -> {}\t{}",
                    e.word,
                    t.unwrap_or("-"),
                    old.pinyin,
                    e.pinyin,
                    e.gloss
                );
            } else if old.gloss != e.gloss {
                gloss += 1;
                println!(
                    "GLOSS {}/{}\t{} -> {}",
                    e.word,
                    t.unwrap_or("-"),
                    old.gloss,
                    e.gloss
                );
            }
        }
    }
    println!("{words_seen} words: reading changed {reading}, gloss only {gloss}");
    Ok(())
}

#[derive(Default)]
struct Score {
    chars: (usize, usize),
    poly_chars: (usize, usize),
    words: (usize, usize),
    poly_words: (usize, usize),
}

fn pct((right, all): (usize, usize)) -> String {
    if all == 0 {
        return "-".into();
    }
    format!("{:.2}% ({right}/{all})", 100.0 * right as f64 / all as f64)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(String::as_str)
        .unwrap_or("benchmarks/readings/dev.tsv");
    let show_errors = args.iter().any(|a| a == "--errors");
    // `--tag-min P`: use the model's tags only where their probability is at least P (default:
    // what the app uses, fenci::annotate::TAG_TRUSTED_FROM; 2 = no tags).
    let number_after = |flag: &str, default: f32| -> f32 {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let tag_min = number_after("--tag-min", fenci::annotate::TAG_TRUSTED_FROM);
    // `--hint-min P`: one-character words' tags as hints from probability P (default: the app's).
    let hint_min = number_after("--hint-min", fenci::annotate::HINT_FROM);
    // `--no-tags`: no tag at all (the neighbour rules alone).
    let tag_min = if args.iter().any(|a| a == "--no-tags") {
        f32::NAN
    } else {
        tag_min
    };
    let dict = Dictionary::embedded();
    if let Some(i) = args.iter().position(|a| a == "--pku") {
        let file = args.get(i + 1).map(String::as_str).unwrap_or("");
        let n: usize = args.get(i + 2).and_then(|s| s.parse().ok()).unwrap_or(300);
        return gold_pos_changes(dict, file, n);
    }
    let mut gold: Vec<(String, Vec<String>)> = Vec::new();
    for (n, line) in std::fs::read_to_string(path)?.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((sentence, pinyin)) = line.split_once('\t') else {
            anyhow::bail!("line {}: no tab", n + 1);
        };
        let syl: Vec<String> = pinyin.split_whitespace().map(norm).collect();
        let han = sentence.chars().filter(|&c| is_han(c)).count();
        if syl.len() != han {
            anyhow::bail!(
                "line {}: {} Han characters but {} syllables: {sentence}",
                n + 1,
                han,
                syl.len()
            );
        }
        gold.push((sentence.to_string(), syl));
    }
    let mut poly_cache: HashMap<char, bool> = HashMap::new();
    let mut is_poly = |c: char| {
        *poly_cache.entry(c).or_insert_with(|| {
            let mut readings: Vec<String> = dict
                .lookup(&c.to_string())
                .iter()
                .filter(|e| !e.pinyin_numbered.starts_with(|c: char| c.is_uppercase()))
                .filter(|e| {
                    !e.senses.iter().all(|s| {
                        s.contains("variant of")
                            || s.starts_with("used in")
                            || s.starts_with("see ")
                    })
                })
                .map(|e| norm(&e.pinyin_numbered))
                .collect();
            readings.sort();
            readings.dedup();
            readings.len() > 1
        })
    };
    let mut seg = Segmenter::new(&ModelFiles::embedded()?)?;
    seg.set_pos(true);
    eprintln!(
        "POS tags: {}",
        if seg.has_pos() {
            "the model's"
        } else {
            "none (the model has no POS head)"
        }
    );
    let lines: Vec<&str> = gold.iter().map(|g| g.0.as_str()).collect();
    let segs = seg.segment_batch(&lines)?;
    let (mut before, mut after) = (Score::default(), Score::default());
    let mut poly_seen: HashMap<char, usize> = HashMap::new();
    for ((sentence, syl), s) in gold.iter().zip(&segs) {
        let words = s.word_strs();
        let tags = predicted_tags(s, tag_min);
        let tag_refs: Vec<Option<&str>> = tags.iter().map(|t| t.as_deref()).collect();
        let hints = if tag_min.is_nan() {
            vec![None; words.len()]
        } else {
            fenci::annotate::reading_hints(s, hint_min)
        };
        let ctx = explain_in_context_hinted(dict, &words, &tag_refs, &hints);
        let mut k = 0; // index of the next gold syllable
        for (w, e_ctx) in words.iter().zip(&ctx) {
            let han: Vec<char> = w.chars().filter(|&c| is_han(c)).collect();
            if han.is_empty() {
                continue;
            }
            let want = &syl[k..k + han.len()];
            k += han.len();
            let poly_word = han.iter().any(|&c| is_poly(c));
            for &c in &han {
                if is_poly(c) {
                    *poly_seen.entry(c).or_default() += 1;
                }
            }
            let e_old = explain(dict, w);
            for (score, shown) in [
                (&mut before, shown_syllables(&e_old)),
                (&mut after, shown_syllables(e_ctx)),
            ] {
                let mut all_right = true;
                for ((c, g), p) in han.iter().zip(want).zip(&shown) {
                    let right = citation(*c, g) == citation(*c, p);
                    all_right &= right;
                    score.chars.1 += 1;
                    score.chars.0 += usize::from(right);
                    if is_poly(*c) {
                        score.poly_chars.1 += 1;
                        score.poly_chars.0 += usize::from(right);
                    }
                }
                score.words.1 += 1;
                score.words.0 += usize::from(all_right);
                if poly_word {
                    score.poly_words.1 += 1;
                    score.poly_words.0 += usize::from(all_right);
                }
            }
            let wrong = |shown: &[String]| {
                han.iter()
                    .zip(want)
                    .zip(shown)
                    .any(|((c, g), p)| citation(*c, g) != citation(*c, p))
            };
            if show_errors && wrong(&shown_syllables(e_ctx)) {
                println!(
                    "ERR {sentence}\t{w}\tgold {}\tshown {}\tother {:?}",
                    want.join(" "),
                    shown_syllables(e_ctx).join(" "),
                    e_ctx.other_readings
                );
            }
        }
    }
    println!(
        "{} sentences, {} polyphonic characters seen",
        gold.len(),
        poly_seen.len()
    );
    for (name, s) in [
        ("before (explain)", &before),
        ("after (explain_in_context)", &after),
    ] {
        println!("{name}:");
        println!("  character syllables, all        {}", pct(s.chars));
        println!("  character syllables, polyphonic {}", pct(s.poly_chars));
        println!("  words, all                      {}", pct(s.words));
        println!("  words with a polyphonic char    {}", pct(s.poly_words));
    }
    Ok(())
}
