//! Example-sentence benchmark for a language model (default: the built-in one): perplexity on
//! held-out text, decoding speed, first-token latency, how often examples contain the word, and
//! distinct-2 at three temperatures.
//!
//!   cargo run --release --example lm_bench -- ../shared [LM] [N_PER_WORD]
use std::sync::atomic::AtomicBool;

use fenci::generate::{distinct_n, Ask, Generator, Sampling};

const WORDS: &[&str] = &[
    "学习", "朋友", "喜欢", "工作", "时间", "中国", "问题", "希望", "今天", "发展", "电脑", "吃饭",
    "老师", "经济", "觉得", "漂亮", "服务", "孩子", "银行", "旅游",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let shared = args.get(1).map(String::as_str).unwrap_or("../shared");
    let spec = args.get(2).map(String::as_str).unwrap_or("default");
    let per_word: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);
    let (files, name) = fenci::hub::resolve_lm(
        spec,
        &fenci::hub::HubOptions::from_env(),
        &mut fenci::hub::NoProgress,
        &AtomicBool::new(false),
    )?;
    let dev_text = std::fs::read_to_string(format!("{shared}/data/pku1998/dev.seg.txt"))?;
    let dev = fenci::train::lm_sentences(&dev_text);
    let ppl = fenci::train::perplexity(&files, &dev, 96).ok();
    println!(
        "LM {name} ({}): dev perplexity {} on {} sentences of pku1998/dev",
        files.config.summary(),
        ppl.map(|p| format!("{p:.2}"))
            .unwrap_or_else(|| "n/a".into()),
        dev.len()
    );
    let mut g = Generator::new(files)?;
    let no = AtomicBool::new(false);
    println!("| T | sentences | contain the word | distinct-2 | mean chars | first token (ms, median) | decoding tokens/s |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for t in [0.3, 0.8, 1.2] {
        let mut all = Vec::new();
        let mut contain = 0;
        let mut firsts = Vec::new();
        let (mut tokens, mut secs) = (0usize, 0f64);
        for (i, w) in WORDS.iter().enumerate() {
            let s = Sampling {
                temperature: t,
                seed: 1000 + i as u64,
                ..Default::default()
            };
            let (sents, st) = match g.examples(&Ask::new(w, per_word), &s, &no, |_| {}) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{w}: {e}");
                    continue;
                }
            };
            contain += sents.iter().filter(|x| x.contains(w)).count();
            firsts.push(st.first_token_s * 1000.0);
            tokens += st.tokens.saturating_sub(1);
            secs += (st.total_s - st.first_token_s).max(0.0);
            all.extend(sents);
        }
        firsts.sort_by(f64::total_cmp);
        let chars: usize = all.iter().map(|s| s.chars().count()).sum();
        println!(
            "| {t} | {} | {:.0}% | {:.3} | {:.1} | {:.1} | {:.0} |",
            all.len(),
            100.0 * contain as f64 / all.len().max(1) as f64,
            distinct_n(&all, 2),
            chars as f64 / all.len().max(1) as f64,
            firsts.get(firsts.len() / 2).copied().unwrap_or(0.0),
            tokens as f64 / secs.max(1e-9)
        );
    }
    // Samples for the notes: five each for three words at T = 0.3 and 1.0.
    for w in ["学习", "朋友", "喜欢"] {
        for t in [0.3, 1.0] {
            let s = Sampling {
                temperature: t,
                seed: 7,
                ..Default::default()
            };
            let (sents, _) = g.examples(&Ask::new(w, 5), &s, &no, |_| {})?;
            println!("\n{w} at T = {t}:");
            for x in sents {
                println!("  {x}");
            }
        }
    }
    Ok(())
}
