//! Text → units → tagger → decoder → words.
//!
//! * [`constraints`]: boundaries every line must keep or must not make (whitespace, Latin words,
//!   addresses, the user dictionary).
//! * [`lexicon`]: [`Lexicon`], a soft word prior added to the tagger's scores at decode time.
//! * [`decode`]: a constrained Viterbi over label log-probabilities (only valid tag sequences,
//!   forced and forbidden boundaries), forward–backward for the probability of every boundary
//!   and every decoded word (at the model's display temperature), and the k best segmentations.
//! * [`batch`]: the one padded `[CLS] … [SEP]` batch builder that inference and training share.
//! * [`segmentation`]: [`Segmentation`], the one value every consumer reads.
//! * [`segmenter`]: [`Segmenter`] batches lines (sorted by length, windows with overlap for inputs
//!   longer than the model's positions) through a [`crate::tagger::BertTagger`].
//! * [`route`]: [`Router`], which sentences a fine-tuned model answers and which go back to
//!   the built-in one.
//! * [`review`]: which sentences of a text are worth correcting, most informative first.
//! * [`stream`]: [`segment_stream`], any input to one output line per input line, in bounded
//!   memory (what `fenci segment` runs).

use crate::tagger::ModelError;
use crate::text::TokenizerError;

pub mod batch;
pub mod constraints;
pub mod decode;
pub mod lexicon;
pub mod review;
pub mod route;
pub mod rules;
pub mod segmentation;
pub mod segmenter;
pub mod stream;

pub use crate::text::{to_halfwidth, CharTokenizer, Units};
pub use batch::PaddedBatch;
pub use constraints::Constraints;
pub use decode::{decode, decode_tempered, kbest, tempered, Alternative, Decoded};
pub use lexicon::Lexicon;
pub use route::Router;
pub use segmentation::{
    gold_labels, word_tags, Boundary, GoldCheck, PosTag, Segmentation, Word, HESITANT,
    UNCERTAIN_BELOW,
};
pub use segmenter::Segmenter;
pub use stream::{segment_stream, segment_stream_to, LineSink, PlainSink, StreamError};

/// Errors while segmenting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// The tokenizer files could not be used.
    #[error("tokenizer: {0}")]
    Tokenizer(#[from] TokenizerError),
    /// The model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl From<candle_core::Error> for SegmentError {
    fn from(e: candle_core::Error) -> Self {
        SegmentError::Model(ModelError::Candle(e))
    }
}

/// Result type of this module.
pub type Result<T> = std::result::Result<T, SegmentError>;
