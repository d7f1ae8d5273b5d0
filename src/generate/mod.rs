//! Example sentences from a causal LM: sampling, streaming, cancelling, and sentences built
//! around a word.
//!
//! Sampling is candle-transformers' `LogitsProcessor` (temperature 0 = greedy, top-k, top-p,
//! seed; top-p's nucleus found without sorting the vocabulary, the same draws) plus its
//! repetition penalty; text streams out piece by piece through a callback (the
//! TUI forwards it to a channel) and a shared flag cancels between tokens.
//!
//! [`Generator::examples`] makes the word appear by construction. A base LM (fenci's own, or a
//! hub base model after the `examples-base.md` prefix) writes a short left context while we
//! record how likely the word is at each point; the word is inserted where the model finds it
//! likeliest (sampled at temperature > 0), then the model continues to the end of the sentence.
//! An instruct model gets `prompts/examples.md` in ChatML; its lines without the word are
//! dropped and it is asked again (up to three rounds), so every example shown contains the word.
//! A keyword LM (fenci's own, trained on `word → sentence` pairs) is asked for the word itself,
//! writes several candidates per example and keeps the best by [`rank`]'s score.

mod examples;
mod generator;
mod keyword;
pub mod prompt;
pub mod rank;
mod sampling;

pub use examples::{clean_line, distinct_n, Ask, ExampleEvent, DEFAULT_CANDIDATES};
pub use generator::{Generated, Generator};
pub use rank::{Judge, NoJudge, Score};
pub use sampling::{
    check_examples, check_temperature, check_top_p, parse_candidates, parse_examples, parse_level,
    parse_temperature, parse_top_p, Sampling, Stats, MAX_CANDIDATES, MAX_EXAMPLES, MAX_LEVEL,
    MAX_TEMPERATURE,
};

use crate::lm::LmError;
use prompt::PromptError;

/// Errors while generating.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenError {
    /// Model trouble.
    #[error(transparent)]
    Lm(#[from] LmError),
    /// Prompt template trouble.
    #[error(transparent)]
    Prompt(#[from] PromptError),
    /// The word has characters the LM has never seen.
    #[error("the language model does not know {chars} in {word:?}; try another word or a hub LM (--lm Qwen/Qwen2.5-0.5B-Instruct)")]
    UnknownChars {
        /// The word.
        word: String,
        /// The unknown characters, quoted.
        chars: String,
    },
    /// The tokenizer could not encode the text.
    #[error("cannot tokenize {text:?}: {source}")]
    Tokenize {
        /// The text.
        text: String,
        /// What the tokenizer said.
        #[source]
        source: tokenizers::Error,
    },
    /// Bad request (empty word, zero sentences, settings out of range).
    #[error("{0}")]
    Invalid(String),
}

impl From<candle_core::Error> for GenError {
    fn from(e: candle_core::Error) -> Self {
        GenError::Lm(LmError::Candle(e))
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, GenError>;
