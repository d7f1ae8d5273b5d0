//! # fenci (分词) — Chinese word segmentation you can talk to, correct and teach
//!
//! Data flows one way: text → [`text::CharTokenizer`] (units) → [`tagger::BertTagger`]
//! (label log-probabilities) → [`segment::decode`] (constrained Viterbi + boundary marginals) →
//! [`segment::Segmentation`], the one value every consumer reads.
//!
//! ```
//! use fenci::{segment::Segmenter, tagger::ModelFiles};
//! let seg = Segmenter::new(&ModelFiles::embedded()?)?;
//! let s = seg.segment("我爱北京")?;
//! assert_eq!(s.word_strs().concat(), "我爱北京");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The modules are layers; each uses only those before it (`tests/it/layers.rs` checks):
//! * the bottom: [`text`] (characters, units, word lists, the tokenizer), [`kernels`] (fused
//!   CPU ops for inference), [`fsio`] (crash-safe writes), [`eval`] (SIGHAN scoring);
//! * [`tagger`] (the BERT tagger in the Hugging Face layout), [`explain`] (CC-CEDICT pinyin and
//!   glosses), [`lm`] (the causal LM: qwen2/qwen3 files, a trainable qwen2);
//! * [`segment`] (constraints, decoding, batching, the segmenter, streaming), [`generate`]
//!   (example sentences with temperature), [`hub`] (models by name: built in, a directory, or
//!   a Hugging Face hub repo, downloaded with progress and cached);
//! * [`annotate`] (a sentence with everything a learner is shown: explanations in context,
//!   confidence, alternatives);
//! * [`train`] (training, pretraining, adaptation to corrections, the LM);
//! * [`store`] (the user's data directory) and [`service`] (the user's operations on it,
//!   one implementation for both front ends);
//! * the front ends: [`cli`] (the command line) and [`tui`] (the app).
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod annotate;
pub mod cli;
pub mod document;
pub mod eval;
pub mod explain;
pub mod fsio;
pub mod generate;
pub mod hub;
pub mod kernels;
pub mod lm;
pub mod segment;
pub mod service;
pub mod store;
pub mod tagger;
pub mod text;
pub mod train;
pub mod tui;
