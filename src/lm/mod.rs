//! The causal language model behind example sentences: qwen2 / qwen3 in the Hugging Face layout.
//!
//! [`LmFiles`] reads and checks `config.json`, `tokenizer.json` and `model.safetensors` (built
//! in, or a directory the hub module resolved). Inference runs on candle-transformers' own qwen2
//! and qwen3 ([`CausalLm`]), so fenci's embedded LM and hub models share one code path; where
//! the CPU has AVX-512, qwen2 runs the same ops with its linear layers through fenci's kernels
//! (`qwen2_fast`, tested equal to candle-transformers' logits), ~3× faster at decoding.
//! Training needs gradients that candle's fused RmsNorm, RoPE and softmax kernels do not have,
//! so [`Qwen2Train`] is a differentiable qwen2 forward over the same tensor names; a test keeps it
//! equal to candle-transformers' forward. The char-level tokenizer of the embedded LM is built
//! with the `tokenizers` crate by [`char_tokenizer`]. A keyword LM ([`keyword_prompt`]) is trained
//! on `word → sentence` pairs and writes a sentence around a given word.

mod causal_lm;
mod char_tokenizer;
mod config;
mod files;
mod keyword;
mod qwen2_fast;
mod qwen2_train;

pub use causal_lm::CausalLm;
pub use char_tokenizer::char_tokenizer;
pub use config::LmConfig;
pub use files::{tokenizer_from_bytes, LmFiles};
pub use keyword::{
    example_floor, is_keyword_lm, keyword_prompt, mark_keyword_lm, EXAMPLE_FLOOR, KEYWORD_LM,
    PAIR_SEP,
};
pub use qwen2_train::{qwen2_init, qwen2_shapes, small_qwen2_config, Qwen2Train};

use std::path::PathBuf;

/// The embedded LM's files (see `models/lm/README.md`).
pub mod embedded {
    /// config.json
    pub const CONFIG: &str = include_str!("../../models/lm/config.json");
    /// tokenizer.json
    pub const TOKENIZER: &[u8] = include_bytes!("../../models/lm/tokenizer.json");
    /// model.safetensors (F16)
    pub const WEIGHTS: &[u8] = include_bytes!("../../models/lm/model.safetensors");
}

/// End-of-text token of fenci's char tokenizer (and Qwen's base models).
pub const EOS: &str = "<|endoftext|>";
/// Chat-turn markers of Qwen instruct models.
pub const IM_START: &str = "<|im_start|>";
/// End of a chat turn.
pub const IM_END: &str = "<|im_end|>";
/// Unknown character.
pub const UNK: &str = "<unk>";
/// Padding.
pub const PAD: &str = "<pad>";

/// What can go wrong loading a language model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LmError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// config.json is not valid for the architecture it names.
    #[error("{file}: {message}")]
    BadConfig {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// An architecture fenci cannot run.
    #[error("{file}: model_type {found:?} is not supported (fenci runs qwen2 and qwen3 causal LMs, e.g. Qwen/Qwen2.5-0.5B-Instruct)")]
    Unsupported {
        /// The file.
        file: String,
        /// The model_type / architecture found.
        found: String,
    },
    /// tokenizer.json is unusable.
    #[error("{file}: {message}")]
    Tokenizer {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The weights do not fit the config or are corrupt.
    #[error("{file}: {message}")]
    BadWeights {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A tensor operation failed.
    #[error("model: {0}")]
    Candle(#[from] candle_core::Error),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, LmError>;
