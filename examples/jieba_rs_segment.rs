//! jieba-rs, a peer in `scripts/compare-peers.sh`: segments standard input line by line (HMM on,
//! as Python jieba's default), words separated by one space. Loading the dictionary is not
//! timed; the time spent segmenting goes to stderr as `segment_secs=S`.
use std::io::{BufRead, BufWriter, Write};

fn main() -> std::io::Result<()> {
    let jieba = jieba_rs::Jieba::new();
    let stdin = std::io::stdin();
    let lines: Vec<String> = stdin.lock().lines().collect::<Result<_, _>>()?;
    let started = std::time::Instant::now();
    let out: Vec<String> = lines
        .iter()
        .map(|l| {
            jieba
                .cut(l, true)
                .into_iter()
                .map(|t| t.word)
                .filter(|w| !w.trim().is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let secs = started.elapsed().as_secs_f64();
    let mut w = BufWriter::new(std::io::stdout().lock());
    for l in out {
        writeln!(w, "{l}")?;
    }
    w.flush()?;
    eprintln!("segment_secs={secs:.6}");
    Ok(())
}
