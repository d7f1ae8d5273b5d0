//! `fenci examples WORD`: example sentences from the LM, one per line, streamed.

use std::io::{self, Write};

use anyhow::Result;
use clap::Args;

use std::sync::atomic::Ordering;

use super::report::cancel_on_ctrl_c;

/// `fenci examples`.
#[derive(Debug, Args)]
pub struct ExamplesArgs {
    /// The word the sentences must contain.
    word: String,
    /// How many sentences (1 to 20).
    #[arg(short, default_value_t = 5, value_parser = crate::generate::parse_examples)]
    n: usize,
    /// Sampling temperature, 0 to 2: 0 is greedy (the same sentence every time), higher is more
    /// varied.
    #[arg(long, short, value_parser = crate::generate::parse_temperature, allow_negative_numbers = true)]
    temperature: Option<f64>,
    /// Nucleus sampling: sample from the likeliest tokens up to this probability (above 0, at
    /// most 1; 1 = off).
    #[arg(long, value_parser = crate::generate::parse_top_p, allow_negative_numbers = true)]
    top_p: Option<f64>,
    /// Sample from the k likeliest tokens only (0 = off).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// Random seed (default: the one in your settings).
    #[arg(long)]
    seed: Option<u64>,
    /// Penalty for repeating recent tokens (1 = off).
    #[arg(long, default_value_t = 1.1)]
    repeat_penalty: f32,
    /// Most tokens per sentence.
    #[arg(long, default_value_t = 60)]
    max_tokens: usize,
    /// Learner level, HSK 1 to 9 (7 stands for 7–9): prefer sentences whose other words are
    /// at or below it (and tell an instruct model, {level} in prompts/examples.md).
    #[arg(long, value_parser = crate::generate::parse_level)]
    level: Option<u8>,
    /// Candidates written per example; the best by its score is kept (1 = no ranking; fenci's
    /// own LM only).
    #[arg(long, default_value_t = crate::generate::DEFAULT_CANDIDATES, value_parser = crate::generate::parse_candidates)]
    candidates: usize,
    /// Language model: `default` (built in), a directory, or a hub id such as
    /// Qwen/Qwen2.5-0.5B-Instruct (default: the one in your settings).
    #[arg(long, value_name = "LM")]
    lm: Option<String>,
    /// Print each sentence's score (why it was chosen) and the timing (first token, tokens/s,
    /// distinct-2) on stderr.
    #[arg(long)]
    stats: bool,
}

/// The language model named by `spec` (`default`, a directory or a hub id), with download
/// progress on stderr.
pub fn load_lm(spec: &str) -> Result<crate::generate::Generator> {
    let cancel = cancel_on_ctrl_c("cancelling the download…");
    let mut progress = crate::hub::TerminalProgress::new();
    let (files, _) = crate::hub::resolve_lm(
        spec,
        &crate::hub::HubOptions::from_env(),
        &mut progress,
        &cancel,
    )?;
    Ok(crate::generate::Generator::new(files)?)
}

pub(super) fn examples_cmd(a: ExamplesArgs) -> Result<i32> {
    let dir = crate::store::data_dir().ok();
    let (settings, note) = dir
        .as_deref()
        .map(crate::store::Settings::load)
        .unwrap_or_default();
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    let spec = a.lm.clone().unwrap_or_else(|| settings.lm.clone());
    let mut generator = load_lm(&spec)?;
    let sampling = crate::generate::Sampling {
        temperature: a.temperature.unwrap_or(settings.temperature),
        top_p: a.top_p.unwrap_or(settings.top_p),
        top_k: a.top_k,
        seed: a.seed.unwrap_or(settings.seed),
        repeat_penalty: a.repeat_penalty,
        max_tokens: a.max_tokens,
        ..Default::default()
    };
    // The built-in segmenter judges the candidates (the same in the app).
    let seg = crate::annotate::builtin_segmenter().map_err(anyhow::Error::msg)?;
    let judge =
        crate::annotate::ExampleJudge::new(seg, crate::explain::Dictionary::embedded(), a.level);
    let level = a
        .level
        .map(|l| format!("HSK {l}"))
        .unwrap_or_else(|| "HSK 3".into());
    let cancel = cancel_on_ctrl_c("stopping…");
    let stdout = io::stdout();
    let mut write_error = None;
    let started = std::time::Instant::now();
    let mut first_example = None;
    let mut unsure = false;
    let (sentences, stats) = generator.examples_judged(
        &crate::generate::Ask::new(&a.word, a.n)
            .level(&level)
            .prompts(dir.as_deref())
            .candidates(a.candidates),
        &sampling,
        &judge,
        &cancel,
        |ev| match ev {
            crate::generate::ExampleEvent::Done {
                sentence, score, ..
            } => {
                first_example.get_or_insert_with(|| started.elapsed().as_secs_f64());
                let mut out = stdout.lock();
                if let Err(e) = writeln!(out, "{sentence}").and_then(|()| out.flush()) {
                    // Nobody reads the rest (`| head -1`) or it cannot be stored: stop writing.
                    cancel.store(true, Ordering::SeqCst);
                    write_error.get_or_insert(e);
                }
                if let (true, Some(sc)) = (a.stats, score) {
                    eprintln!("  {}", sc.explain());
                }
            }
            ev @ crate::generate::ExampleEvent::Unsure { .. } => {
                unsure = true;
                if let Some(m) = ev.unsure_message() {
                    // Only what the user can still change.
                    let hint = match (
                        sampling.temperature > 0.0,
                        a.candidates < crate::generate::MAX_CANDIDATES,
                    ) {
                        (true, true) => "; a lower --temperature or more --candidates may find one",
                        (true, false) => "; a lower --temperature may find one",
                        (false, true) => "; more --candidates may find one",
                        (false, false) => "",
                    };
                    eprintln!("{m}{hint}");
                }
                if let crate::generate::ExampleEvent::Unsure {
                    closest: Some((_, sc)),
                    ..
                } = &ev
                {
                    if a.stats {
                        eprintln!("  not shown: {}", sc.explain());
                    }
                }
            }
            _ => {}
        },
    )?;
    if let Some(e) = write_error {
        return Err(super::StdoutError(e).into());
    }
    if a.stats {
        eprintln!(
            "lm: {}  sentences: {}  tokens: {}  first token: {:.0} ms  first example: {:.0} ms  all: {:.0} ms  decoding: {:.1} tokens/s  distinct-2: {:.3}",
            generator.source(),
            sentences.len(),
            stats.tokens,
            stats.first_token_s * 1000.0,
            first_example.unwrap_or(0.0) * 1000.0,
            started.elapsed().as_secs_f64() * 1000.0,
            stats.tokens_per_s(),
            crate::generate::distinct_n(&sentences, 2)
        );
    }
    if sentences.len() < a.n {
        if cancel.load(Ordering::Relaxed) {
            return Ok(130);
        }
        if unsure {
            // Fewer, each one fenci is sure of: an answer, not a failure (unless none).
            return Ok(if sentences.is_empty() { 1 } else { 0 });
        }
        eprintln!(
            "only {} of {} sentences contained {:?}",
            sentences.len(),
            a.n,
            a.word
        );
        return Ok(1);
    }
    Ok(0)
}
