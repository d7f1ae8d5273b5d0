//! The BERT character tagger: `BertForTokenClassification` in candle, in the Hugging Face layout.
//!
//! * [`config`]: `config.json` ([`BertConfig`]; unknown fields are kept so a loaded config is
//!   written back unchanged) and its activation ([`Activation`]).
//! * [`labels`]: the label set from `id2label` ([`LabelScheme`]: BMES/BIES or B/I).
//! * [`weights`]: tensor names and shapes as in transformers, checks, init, safetensors.
//! * [`bert`]: [`BertTagger`], the encoder plus a linear `classifier`; [`fused`]: its inference
//!   layers through fenci's kernels; [`mlm`]: the masked-LM head used for pretraining;
//!   [`pos`]: [`PosHead`], the optional part-of-speech head over the frozen encoder.
//! * [`files`]: [`ModelFiles`], a model in memory, loaded from and saved to a directory;
//!   [`route`]: `route.json`, the domain of a version `/train` wrote ([`RouteSpec`]).
//!
//! Two things differ from candle-transformers' BERT on purpose: in training mode the encoder uses a
//! LayerNorm and softmax built from differentiable ops (the fused candle kernels have no backward
//! pass) and real dropout; in inference mode it uses the fused kernels and a fused QKV projection.

use std::path::PathBuf;

pub mod bert;
pub mod config;
pub mod files;
mod fused;
pub mod labels;
pub mod mlm;
pub mod pos;
pub mod pos_context;
pub mod pos_lexicon;
pub mod route;
pub mod weights;

pub use crate::text::VocabSource;
pub use bert::BertTagger;
pub use config::{
    Activation, BertConfig, ContextWeights, LexiconPrior, PosConfig, FENCI_LOOKUP, LOOKUP_KEY,
    POS_KEY, TEMPERATURE_KEY,
};
pub use files::{embedded, ModelFiles, TOKENIZER_CONFIG, WORDS_FILE};
pub use labels::{LabelScheme, Tag};
pub use mlm::MlmHead;
pub use pos::{init_pos_tensors, is_pos_tensor, PosHead};
pub use pos_context::{PosContext, POS_CONTEXT_FILE};
pub use pos_lexicon::{PosLexicon, POS_LEXICON_FILE};
pub use route::{RouteSpec, Rule, ROUTE_FILE};
pub use weights::{
    init_tensors, parse_safetensors, pos_tensor_shapes, safetensors_bytes, select_tensors,
    tensor_shapes, varmap_from, varmap_map, varmap_tensors,
};

/// Errors from loading, checking or running a model. Each names the file or tensor at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `config.json` (or another file of the model: vocab, lexicon) is not valid or lacks
    /// required fields.
    #[error("{}: {}{message}", .path.display(), if .path.ends_with("config.json") { "not a valid BERT config.json: " } else { "" })]
    BadConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The config is valid JSON but describes something fenci cannot run.
    #[error("{file}: unsupported model: {message}")]
    Unsupported {
        /// The file.
        file: String,
        /// What is wrong and what fenci supports.
        message: String,
    },
    /// A weights file is truncated, corrupt, or its tensors do not match the config.
    #[error("{file}: {message}")]
    BadWeights {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// An error inside candle while running the model.
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
}

/// Result type of this module.
pub type Result<T> = std::result::Result<T, ModelError>;
