//! Routing between a fine-tuned model and the built-in one, sentence by sentence: learning a
//! user's domain without the old domain paying for it.
//!
//! `/train` fine-tunes on a user's corrections; however carefully (replay, distillation,
//! anchoring: `crate::train::adapt`), the new weights also move on text like the built-in
//! model's training data, and they pick up the user's conventions there too. A version that
//! `/train` writes therefore keeps the sentences it was trained on ([`RouteSpec`]), and each
//! sentence to segment is scored by two character-bigram models: the user's (those sentences,
//! mixed half and half with 1,400 of fenci's own everyday sentences, [`GENERAL`], so that a
//! few corrections still describe a domain) and the old domain's (1,400 sentences of the
//! built-in model's training text, [`OLD_DOMAIN`]): Moore and Lewis's cross-entropy
//! difference (2010), used to route rather than to select. A sentence that reads clearly more
//! like the old domain (by more than −margin, 0.75 by default, in mean log-probability per
//! character) is segmented by the built-in model; every other sentence, and every corrected
//! sentence itself, by the fine-tuned one. An input line is routed whole, by all of its text
//! ([`Router::to_base`]). On the review pool's 50 picks
//! (`examples/review_bench.rs`, seed 7) PKU dev loses 0.10 F1 instead of 0.37 and the rest of
//! the pool keeps +0.94 of the +1.00 gain (`benchmarks/review/README.md`).

use std::collections::{HashMap, HashSet};

use crate::tagger::RouteSpec;

/// Sentences of the built-in model's training data (People's Daily, January 1998), the
/// sample `/train` replays (gold-segmented); with [`ROUTE_SAMPLE`] the old domain of a route.
pub const REPLAY: &str = include_str!("../../data/replay/pku1998-train-sample.txt");

/// 1,000 more sentences of the same training data, unsegmented, for the old domain's model
/// (`data/replay/README.md`).
pub const ROUTE_SAMPLE: &str = include_str!("../../data/replay/pku1998-train-route.txt");

/// The text of the old domain, one sentence a line (spaces are ignored).
pub const OLD_DOMAIN: [&str; 2] = [REPLAY, ROUTE_SAMPLE];

/// 1,400 of fenci's own everyday sentences (`data/sentences/`): what text that is not the old
/// domain reads like, behind the user's few sentences (`data/replay/README.md`).
pub const GENERAL: &str = include_str!("../../data/replay/everyday-route.txt");

/// The user's sentences' share of the user side, the rest being [`GENERAL`]'s.
const USER_WEIGHT: f64 = 0.5;

/// Interpolation of the bigram estimate with the unigram one.
const BIGRAM_WEIGHT: f64 = 0.5;
/// Add-k smoothing of the unigram estimate, over a nominal alphabet of [`ALPHABET`] characters.
const UNIGRAM_K: f64 = 0.1;
const ALPHABET: f64 = 8000.0;

/// A character-bigram model with interpolated unigram smoothing; whitespace is ignored.
#[derive(Debug, Clone, Default)]
pub struct CharLm {
    unigrams: HashMap<char, u32>,
    bigrams: HashMap<(char, char), u32>,
    /// How often each character (or the start, `None`) is followed by another.
    contexts: HashMap<Option<char>, u32>,
    total: u32,
}

impl CharLm {
    /// Counts the characters of `sentences`.
    pub fn new<'a>(sentences: impl IntoIterator<Item = &'a str>) -> Self {
        let mut lm = Self::default();
        for s in sentences {
            let mut prev = None;
            for c in s.chars().filter(|c| !c.is_whitespace()) {
                *lm.unigrams.entry(c).or_default() += 1;
                *lm.contexts.entry(prev).or_default() += 1;
                if let Some(p) = prev {
                    *lm.bigrams.entry((p, c)).or_default() += 1;
                }
                lm.total += 1;
                prev = Some(c);
            }
        }
        lm
    }

    /// The probability of `c` after `prev` (`None`: at the start, scored by the unigram
    /// estimate alone).
    pub fn prob(&self, prev: Option<char>, c: char) -> f64 {
        let uni = (f64::from(self.unigrams.get(&c).copied().unwrap_or(0)) + UNIGRAM_K)
            / (f64::from(self.total) + UNIGRAM_K * ALPHABET);
        let Some(p) = prev else {
            return uni;
        };
        let ctx = self.contexts.get(&Some(p)).copied().unwrap_or(0);
        let bi = if ctx > 0 {
            f64::from(self.bigrams.get(&(p, c)).copied().unwrap_or(0)) / f64::from(ctx)
        } else {
            0.0
        };
        BIGRAM_WEIGHT * bi + (1.0 - BIGRAM_WEIGHT) * uni
    }

    /// Mean log-probability per character of `text` (0 for a text without characters).
    pub fn mean_log_prob(&self, text: &str) -> f64 {
        mean_log_prob(text, |prev, c| self.prob(prev, c))
    }
}

/// Mean log-probability per character of `text` under `prob(previous, character)`; whitespace
/// is ignored, and a text without characters scores 0.
fn mean_log_prob(text: &str, prob: impl Fn(Option<char>, char) -> f64) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    let mut prev = None;
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        sum += prob(prev, c).ln();
        n += 1;
        prev = Some(c);
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// Decides, sentence by sentence, whether the built-in model answers instead of a fine-tuned
/// one (see the module documentation).
#[derive(Debug, Clone)]
pub struct Router {
    user: CharLm,
    general: CharLm,
    old: CharLm,
    margin: f64,
    /// The corrected sentences, whitespace removed: always the fine-tuned model's.
    own: HashSet<String>,
}

/// `text` without whitespace.
fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

impl Router {
    /// The router of a route: the user's model from its sentences, the old domain's from
    /// [`OLD_DOMAIN`].
    pub fn new(spec: &RouteSpec) -> Self {
        Self {
            user: CharLm::new(spec.domain.iter().map(String::as_str)),
            general: CharLm::new(GENERAL.lines()),
            old: CharLm::new(OLD_DOMAIN.iter().flat_map(|t| t.lines())),
            margin: spec.margin,
            own: spec.domain.iter().map(|s| squeezed(s)).collect(),
        }
    }

    /// How much more like the old domain than like the user's `line` reads (mean
    /// log-probability per character; positive: more like the old).
    pub fn lean_old(&self, line: &str) -> f64 {
        let user = mean_log_prob(line, |prev, c| {
            USER_WEIGHT * self.user.prob(prev, c) + (1.0 - USER_WEIGHT) * self.general.prob(prev, c)
        });
        self.old.mean_log_prob(line) - user
    }

    /// Whether the built-in model should segment `line`: it is not one of the corrected
    /// sentences, and as a whole it reads more like the old domain than the user's by more than
    /// `-margin`. A line is routed whole, by all of its text: a paragraph of news with one
    /// review sentence in it goes to the built-in model (the app routes sentence by sentence,
    /// as it segments them). Deciding on each sentence of a line alone (to the built-in model
    /// only when every one would go) kept less of PKU, whose lines are paragraphs: dev −0.18
    /// F1 instead of −0.06 on the review pool's 50 picks (margin 0.5).
    pub fn to_base(&self, line: &str) -> bool {
        let text = squeezed(line);
        !text.is_empty() && !self.own.contains(&text) && self.lean_old(&text) > -self.margin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(domain: &[&str]) -> Router {
        Router::new(&RouteSpec::built_in(
            -1.0,
            domain.iter().map(|s| s.to_string()).collect(),
        ))
    }

    const REVIEWS: [&str; 4] = [
        "房间很干净，服务员的态度也很好。",
        "这款手机的电池太不耐用了，充一次电用不了一天。",
        "价格便宜，质量还可以，物流也很快。",
        "酒店的早餐种类不多，味道一般。",
    ];

    #[test]
    fn in_domain_text_scores_higher() {
        let lm = CharLm::new(REVIEWS);
        assert!(lm.mean_log_prob("服务员的态度很好。") > lm.mean_log_prob("国务院总理发表讲话。"));
        assert_eq!(lm.mean_log_prob(" \t"), 0.0);
        assert!(CharLm::default().mean_log_prob("字").is_finite());
    }

    #[test]
    fn news_goes_to_the_base_and_the_users_text_stays() {
        let r = router(&REVIEWS);
        assert!(r.to_base("中共中央总书记、国家主席江泽民在人民大会堂会见了代表团。"));
        assert!(!r.to_base("房间的服务员态度很差，早餐也不好吃。"));
        // Whatever it reads like, a corrected sentence is the fine-tuned model's.
        let news = "国务院总理李鹏今天在人民大会堂会见了外国代表团。";
        assert!(r.to_base(news));
        let r = router(&[REVIEWS[0], news]);
        assert!(!r.to_base(news));
        assert!(!r.to_base("国务院总理 李鹏 今天 在 人民大会堂 会见 了 外国 代表团 。"));
    }

    #[test]
    fn an_empty_line_stays_with_the_fine_tuned_model() {
        assert!(!router(&REVIEWS).to_base(""));
        assert!(!router(&REVIEWS).to_base("  \t"));
    }

    #[test]
    fn a_line_is_routed_by_all_of_its_text() {
        let r = router(&REVIEWS);
        let news = "国务院总理李鹏今天在人民大会堂会见了来访的外国代表团。";
        let review = "房间的服务员态度很差，早餐也不好吃。";
        assert!(r.to_base(&format!("{news}{news}{review}")));
        assert!(!r.to_base(&format!("{review}{review}{news}")));
    }
}
