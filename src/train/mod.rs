//! Training: the tagger from scratch or fine-tuned, masked-LM pretraining, adaptation to a
//! user's corrections, and the causal LM for example sentences.
//!
//! The loop follows candle's mnist-training example with three additions: an AdamW of our own
//! (its moments can be checkpointed, and it can decay weights toward the starting weights instead
//! of toward zero), frozen lower layers, and checkpoints that let a run resume after Ctrl-C.
//! Progress goes to one callback; the caller decides how to show it. Nothing here touches a
//! terminal or the data directory.
//!
//! * [`data`]: gold sentences → samples, cut into pieces and batches.
//! * [`optim`]: AdamW and the learning-rate schedule; [`epochs`]: the epoch loop, checkpoints
//!   and resuming, shared by every trainer.
//! * [`tagger`]: [`Trainer`], the tagger's training; [`mlm`]: [`Pretrainer`], masked-LM
//!   pretraining; [`adapt`]: fine-tuning on corrections without forgetting; [`lm`]:
//!   [`LmTrainer`], the causal LM; [`pos`]: [`PosTrainer`], a part-of-speech head over the
//!   frozen encoder; [`pos_context`]: the word-level POS model beside it.
//!
//! Trainers that change the encoder (tagging, pretraining, adaptation) drop any POS head of the
//! model they start from: it was trained on the old encoder's hidden states, so it would no
//! longer match; `fenci train --pos` trains a new one.

use std::path::PathBuf;

use crate::segment::SegmentError;
use crate::tagger::{ModelError, ModelFiles};
use crate::text::TokenizerError;

pub mod adapt;
pub mod data;
mod epochs;
pub mod lm;
pub mod mlm;
mod optim;
pub mod pos;
pub mod pos_context;
pub mod tagger;

pub use adapt::{
    adapt, adapt_with, adaptation_data, corrected_words, generated_sentences, AdaptConfig,
    AdaptReport, BeforeAfter, MINI_DEV, REPLAY,
};
pub use data::{read_gold, samples, Sample};
pub use epochs::checkpoint_dir;
pub use lm::{fresh_lm, lm_pairs, lm_sentences, perplexity, LmSummary, LmTrainConfig, LmTrainer};
pub use mlm::{Pretrainer, MLM_PREDICT};
pub use pos::{evaluate_pos, read_pos_gold, PosSummary, PosTrainConfig, PosTrainer};
pub use pos_context::{add_pos_context, train_pos_context, PosContextConfig};
pub use tagger::{evaluate, fresh_model, trainable, trim_vocab, Distill, TrainConfig, Trainer};

/// Errors while training.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The training data is unusable.
    #[error("{0}")]
    Data(String),
    /// Model or tokenizer trouble.
    #[error(transparent)]
    Segment(#[from] SegmentError),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl From<ModelError> for TrainError {
    fn from(e: ModelError) -> Self {
        TrainError::Segment(SegmentError::Model(e))
    }
}
impl From<candle_core::Error> for TrainError {
    fn from(e: candle_core::Error) -> Self {
        TrainError::Segment(e.into())
    }
}

/// Result type of this module.
pub type Result<T> = std::result::Result<T, TrainError>;

/// What the trainer reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// A step finished.
    Step {
        /// Epoch (0-based).
        epoch: usize,
        /// Steps done in all.
        step: usize,
        /// Steps planned in all.
        total: usize,
        /// Mean loss of this batch.
        loss: f32,
        /// Units per second over the run so far.
        units_per_s: f64,
    },
    /// An evaluation on the dev set finished.
    Eval {
        /// Epoch (0-based).
        epoch: usize,
        /// Dev F1 in [0, 1].
        f1: f64,
        /// Whether it is the best so far (and so was saved).
        best: bool,
    },
    /// A POS head's dev scores after an epoch.
    PosEval {
        /// Epoch (0-based).
        epoch: usize,
        /// Tagging accuracy on the words segmented right, in [0, 1] (what selects the epoch).
        accuracy: f64,
        /// Joint segmentation + POS F1 in [0, 1].
        joint_f1: f64,
        /// Whether it is the best so far (and so was saved).
        best: bool,
    },
    /// A language model's dev perplexity after an epoch.
    Perplexity {
        /// Epoch (0-based).
        epoch: usize,
        /// exp(mean negative log-likelihood per token).
        ppl: f64,
        /// Whether it is the best so far (and so was saved).
        best: bool,
    },
    /// A checkpoint was written.
    Checkpoint {
        /// Steps done.
        step: usize,
    },
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The trained model (the best on dev when a dev set was given, else the last).
    pub model: ModelFiles,
    /// Best dev F1 of a tagger, if evaluated.
    pub best_dev_f1: Option<f64>,
    /// Best dev perplexity of masked-LM pretraining, if evaluated.
    pub best_dev_ppl: Option<f64>,
    /// Steps taken.
    pub steps: usize,
    /// Whether the run was cancelled before its last step.
    pub cancelled: bool,
    /// Training loss of the last step.
    pub last_loss: f32,
}

impl From<TokenizerError> for TrainError {
    fn from(e: TokenizerError) -> Self {
        TrainError::Segment(SegmentError::Tokenizer(e))
    }
}
