//! How to sample ([`Sampling`]: temperature, top-k, top-p, seed, repetition penalty, limits) and
//! the timing figures of a generation ([`Stats`]).

use candle_core::Tensor;
use candle_transformers::generation::{LogitsProcessor, Sampling as Strategy};

use super::{GenError, Result};

/// How to sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// Softmax temperature; 0 is greedy (always the likeliest token).
    pub temperature: f64,
    /// Nucleus sampling: keep the likeliest tokens up to this probability mass (1 = off).
    pub top_p: f64,
    /// Keep only the k likeliest tokens (0 = off).
    pub top_k: usize,
    /// Random seed: the same seed and settings give the same text.
    pub seed: u64,
    /// Penalty on tokens already in the last `repeat_last_n` tokens (1 = off).
    pub repeat_penalty: f32,
    /// How far back the repetition penalty looks.
    pub repeat_last_n: usize,
    /// Most tokens to generate.
    pub max_tokens: usize,
    /// Stop when the text ends with one of these (the stop text is not returned).
    pub stop: Vec<String>,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            temperature: 0.8,
            top_p: 0.95,
            top_k: 0,
            seed: 42,
            repeat_penalty: 1.1,
            repeat_last_n: 32,
            max_tokens: 60,
            stop: Vec::new(),
        }
    }
}

/// The most example sentences one request asks for (`fenci examples -n`, `/examples WORD N`).
pub const MAX_EXAMPLES: usize = 20;

/// The highest sampling temperature fenci accepts (0 is greedy).
pub const MAX_TEMPERATURE: f64 = 2.0;

/// Checks a sampling temperature: 0 (greedy) to [`MAX_TEMPERATURE`]. The one check of the
/// command line (`--temperature`), the app (`/temp`) and [`Sampling::check`]; the error is the
/// message both front ends show.
pub fn check_temperature(t: f64) -> std::result::Result<f64, String> {
    if t.is_finite() && (0.0..=MAX_TEMPERATURE).contains(&t) {
        Ok(t)
    } else {
        Err(format!(
            "temperature {t} is out of range: give a number from 0 to {MAX_TEMPERATURE} (0 is greedy)"
        ))
    }
}

/// Checks a nucleus-sampling threshold: above 0, at most 1 (`--top-p`, `/top-p`).
pub fn check_top_p(p: f64) -> std::result::Result<f64, String> {
    if p.is_finite() && p > 0.0 && p <= 1.0 {
        Ok(p)
    } else {
        Err(format!(
            "top-p {p} is out of range: give a number above 0 and at most 1 (1 is off)"
        ))
    }
}

/// Checks how many example sentences are asked for: 1 to [`MAX_EXAMPLES`] (`-n`,
/// `/examples WORD N`).
pub fn check_examples(n: usize) -> std::result::Result<usize, String> {
    if (1..=MAX_EXAMPLES).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "{n} examples is out of range: ask for 1 to {MAX_EXAMPLES}"
        ))
    }
}

/// Parses and checks a temperature as typed (a clap value parser, and `/temp`).
pub fn parse_temperature(s: &str) -> std::result::Result<f64, String> {
    let t: f64 = s.trim().parse().map_err(|_| {
        format!(
            "temperature {s:?} is not a number: give one from 0 to {MAX_TEMPERATURE} (0 is greedy)"
        )
    })?;
    check_temperature(t)
}

/// Parses and checks a top-p as typed (a clap value parser, and `/top-p`).
pub fn parse_top_p(s: &str) -> std::result::Result<f64, String> {
    let p: f64 = s.trim().parse().map_err(|_| {
        format!("top-p {s:?} is not a number: give one above 0 and at most 1 (1 is off)")
    })?;
    check_top_p(p)
}

/// The highest learner level `--level` takes (HSK 3.0's 7–9 band is 7).
pub const MAX_LEVEL: u8 = 7;

/// The most candidates per example (`--candidates`).
pub const MAX_CANDIDATES: usize = 16;

/// Parses and checks a learner level as typed (`--level`, `/examples WORD --level N`): HSK 1 to
/// 9, with or without "HSK" in front; 8 and 9 are the band 7–9, [`MAX_LEVEL`].
pub fn parse_level(s: &str) -> std::result::Result<u8, String> {
    let t = s.trim();
    let t = t
        .strip_prefix("HSK")
        .or_else(|| t.strip_prefix("hsk"))
        .unwrap_or(t)
        .trim();
    match t.parse::<u8>() {
        Ok(l) if (1..=MAX_LEVEL).contains(&l) => Ok(l),
        Ok(8 | 9) => Ok(MAX_LEVEL),
        _ => Err(format!(
            "level {s:?} is out of range: give an HSK level from 1 to 9 (7, 8 and 9 are one band)"
        )),
    }
}

/// Parses and checks a number of candidates per example (`--candidates`).
pub fn parse_candidates(s: &str) -> std::result::Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(k) if (1..=MAX_CANDIDATES).contains(&k) => Ok(k),
        _ => Err(format!(
            "{s:?} candidates is out of range: give 1 to {MAX_CANDIDATES} (1 = no ranking)"
        )),
    }
}

/// Parses and checks a number of examples as typed (a clap value parser, and `/examples`).
pub fn parse_examples(s: &str) -> std::result::Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of examples: ask for 1 to {MAX_EXAMPLES}"))?;
    check_examples(n)
}

impl Sampling {
    /// Checks the settings' ranges.
    pub fn check(&self) -> Result<()> {
        check_temperature(self.temperature).map_err(GenError::Invalid)?;
        check_top_p(self.top_p).map_err(GenError::Invalid)?;
        if !(self.repeat_penalty.is_finite() && self.repeat_penalty >= 1.0) {
            return Err(GenError::Invalid(format!(
                "repeat penalty {} must be at least 1",
                self.repeat_penalty
            )));
        }
        if self.max_tokens == 0 {
            return Err(GenError::Invalid("max tokens must be at least 1".into()));
        }
        Ok(())
    }

    pub(super) fn processor(&self, seed: u64) -> Sampler {
        let t = self.temperature;
        let mut top_p = None;
        let strategy = if t <= 0.0 {
            Strategy::ArgMax
        } else {
            match (self.top_k, self.top_p < 1.0) {
                (0, false) => Strategy::All { temperature: t },
                (0, true) => {
                    // candle's TopP, with the nucleus found by `nucleus` (see `Sampler`).
                    top_p = Some(self.top_p);
                    Strategy::All { temperature: t }
                }
                (k, false) => Strategy::TopK { k, temperature: t },
                (k, true) => Strategy::TopKThenTopP {
                    k,
                    p: self.top_p,
                    temperature: t,
                },
            }
        };
        Sampler {
            lp: LogitsProcessor::from_sampling(seed, strategy),
            top_p,
        }
    }
}

/// candle-transformers' `LogitsProcessor`, with top-p sampling's nucleus found without sorting
/// the whole vocabulary: the same tokens drawn with the same seed (tested), in a fraction of the
/// time (the sort of 4,559 probabilities per token was a fifth of writing an example).
pub struct Sampler {
    lp: LogitsProcessor,
    top_p: Option<f64>,
}

impl Sampler {
    /// The next token after `logits`.
    pub fn sample(&mut self, logits: &Tensor) -> candle_core::Result<u32> {
        match self.top_p {
            // As candle: top-p at or below 0 samples from everything, and a p that is positive
            // in f64 but 0 in f32 clamps every token (an error there too).
            Some(p) if p > 0.0 => self.lp.sample_f(logits, |prs| nucleus(prs, p as f32)),
            _ => self.lp.sample(logits),
        }
    }
}

/// Zeroes the probabilities outside the nucleus of mass `top_p` exactly as candle's
/// `LogitsProcessor::sample_topp` does (a stable sort by descending probability, then a running
/// sum checked before each token), sorting only the tokens of probability ≥ 1e-4 when those
/// reach `top_p`, and all of them otherwise.
pub(super) fn nucleus(prs: &mut [f32], top_p: f32) {
    const SMALL: f32 = 1e-4;
    // Every token left out is below every token kept, so the sorted few are the head of the
    // full sort. (NaN is kept here; wherever it sorts, once it is summed the running sum never
    // reaches top_p and the full sort below decides, as in candle.)
    let mut head: Vec<usize> = (0..prs.len())
        .filter(|&i| prs[i] >= SMALL || prs[i].is_nan())
        .collect();
    head.sort_by(|&i, &j| prs[j].total_cmp(&prs[i]));
    let mut cumsum = 0f32;
    let mut cut = None;
    for (n, &i) in head.iter().enumerate() {
        if cumsum >= top_p {
            cut = Some(n);
            break;
        }
        cumsum += prs[i];
    }
    let keep: Vec<usize> = match cut {
        Some(n) => {
            head.truncate(n);
            head
        }
        None if cumsum >= top_p => head,
        None => {
            // The head does not reach top_p: the full sort, as candle.
            let mut all: Vec<usize> = (0..prs.len()).collect();
            all.sort_by(|&i, &j| prs[j].total_cmp(&prs[i]));
            let mut cumsum = 0f32;
            for i in all {
                if cumsum >= top_p {
                    prs[i] = 0.0;
                } else {
                    cumsum += prs[i];
                }
            }
            return;
        }
    };
    let mut kept = vec![false; prs.len()];
    for i in keep {
        kept[i] = true;
    }
    for (p, k) in prs.iter_mut().zip(kept) {
        if !k {
            *p = 0.0;
        }
    }
}

/// Figures from one generation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Tokens generated (sampled, not forced or prompt).
    pub tokens: usize,
    /// Seconds from the start to the first sampled token.
    pub first_token_s: f64,
    /// Seconds in all.
    pub total_s: f64,
}

impl Stats {
    /// Decoding speed after the first token.
    pub fn tokens_per_s(&self) -> f64 {
        if self.tokens > 1 && self.total_s > self.first_token_s {
            (self.tokens - 1) as f64 / (self.total_s - self.first_token_s)
        } else {
            0.0
        }
    }

    pub(super) fn add(&mut self, o: &Stats) {
        if self.tokens == 0 {
            self.first_token_s = o.first_token_s;
        }
        self.tokens += o.tokens;
        self.total_s += o.total_s;
    }
}

#[cfg(test)]
mod tests {
    use super::{nucleus, parse_level, Sampling, MAX_LEVEL};
    use candle_core::{Device, Tensor};
    use candle_transformers::generation::{LogitsProcessor, Sampling as Strategy};
    use rand::{Rng, SeedableRng};

    /// candle-transformers' `sample_topp` clamping, as written there.
    fn candle_topp(prs: &mut [f32], top_p: f32) {
        let mut order: Vec<usize> = (0..prs.len()).collect();
        order.sort_by(|&i, &j| prs[j].total_cmp(&prs[i]));
        let mut cumsum = 0.;
        for i in order {
            if cumsum >= top_p {
                prs[i] = 0.0;
            } else {
                cumsum += prs[i];
            }
        }
    }

    fn softmax(logits: &[f32], t: f32) -> Vec<f32> {
        let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f32> = logits.iter().map(|x| ((x - m) / t).exp()).collect();
        let z: f32 = e.iter().sum();
        e.into_iter().map(|x| x / z).collect()
    }

    #[test]
    fn the_nucleus_is_candles_whatever_the_distribution() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for case in 0..400 {
            let v = [5, 40, 4559][case % 3];
            // Peaked, flat, and tied distributions (logits on a coarse grid tie often).
            let spread = [0.5f32, 3.0, 12.0][case % 3];
            let logits: Vec<f32> = (0..v)
                .map(|_| (rng.random::<f32>() * spread * 4.0).round() / 4.0)
                .collect();
            let t = [0.3f32, 0.8, 1.2, 2.0][case % 4];
            let top_p = [0.5f32, 0.9, 0.95, 0.999][(case / 4) % 4];
            let prs = softmax(&logits, t);
            let (mut a, mut b) = (prs.clone(), prs);
            candle_topp(&mut a, top_p);
            nucleus(&mut b, top_p);
            assert_eq!(a, b, "case {case}: v {v}, T {t}, top-p {top_p}");
        }
        // A flat distribution over many tokens each below the cut-off takes the full sort.
        let mut flat = vec![1.0 / 20_000.0; 20_000];
        let mut want = flat.clone();
        candle_topp(&mut want, 0.95);
        nucleus(&mut flat, 0.95);
        assert_eq!(flat, want);
    }

    #[test]
    fn top_p_draws_the_tokens_candles_processor_draws() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let logits: Vec<f32> = (0..4559).map(|_| rng.random::<f32>() * 10.0).collect();
        let logits = Tensor::new(logits, &Device::Cpu).unwrap();
        for seed in 0..20u64 {
            for t in [0.4, 0.8, 1.2] {
                let s = Sampling {
                    temperature: t,
                    seed,
                    ..Default::default()
                };
                let mut ours = s.processor(seed);
                let mut theirs = LogitsProcessor::from_sampling(
                    seed,
                    Strategy::TopP {
                        p: s.top_p,
                        temperature: t,
                    },
                );
                for _ in 0..30 {
                    assert_eq!(
                        ours.sample(&logits).unwrap(),
                        theirs.sample(&logits).unwrap()
                    );
                }
            }
        }
    }

    #[test]
    fn levels_one_to_nine_with_eight_and_nine_in_the_top_band() {
        assert_eq!(parse_level("3"), Ok(3));
        assert_eq!(parse_level("HSK 2"), Ok(2));
        assert_eq!(parse_level("hsk7"), Ok(MAX_LEVEL));
        assert_eq!(parse_level("8"), Ok(MAX_LEVEL));
        assert_eq!(parse_level("9"), Ok(MAX_LEVEL));
        for bad in ["0", "10", "", "two", "-1"] {
            assert!(parse_level(bad).is_err(), "{bad}");
        }
    }
}
