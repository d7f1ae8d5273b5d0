//! # fenci (分词) — Chinese word segmentation you can talk to, correct and teach
//!
//! Data flows one way: text → [`segment::CharTokenizer`] (units) → [`model::BertTagger`]
//! (label log-probabilities) → [`segment::decode`] (constrained Viterbi + boundary marginals) →
//! [`segment::Segmentation`], the one value every consumer reads.
//!
//! ```
//! use fenci::{model::ModelFiles, segment::Segmenter};
//! let seg = Segmenter::new(&ModelFiles::embedded()?)?;
//! let s = seg.segment("我爱北京")?;
//! assert_eq!(s.word_strs().concat(), "我爱北京");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: [`model`] (the BERT tagger in the Hugging Face layout), [`hub`] (models by name:
//! built in, a directory, or a Hugging Face hub repo, downloaded with progress and cached),
//! [`segment`] (tokenize, tag, decode), [`kernels`] (fused CPU ops for inference), [`lexicon`] (word lists: dictionary features and a
//! decode-time prior), [`train`] (training and fine-tuning), [`eval`] (SIGHAN
//! scoring), [`store`] (data directory, atomic writes), [`explain`] (CC-CEDICT pinyin and
//! glosses), [`lm`] (the causal LM: qwen2/qwen3 files, a trainable qwen2), [`generate`] (example
//! sentences with temperature), [`cli`] (the command line).
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod cli;
pub mod eval;
pub mod explain;
pub mod generate;
pub mod hub;
pub mod kernels;
pub mod lexicon;
pub mod lm;
pub mod model;
pub mod segment;
pub mod store;
pub mod train;
pub mod tui;
