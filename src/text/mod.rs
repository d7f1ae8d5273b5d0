//! The bottom layer: characters and units, before any model.
//!
//! * [`fold`]: half-width folding, the Han-character test, traditional → simplified lookups.
//! * [`units`]: [`Units`], one line cut into the units a tagger sees, with character offsets.
//! * [`words`]: [`WordSet`] (words found on unit edges) and [`WordFeatures`], the dictionary
//!   features a model may be trained with.
//! * [`tokenizer`]: [`CharTokenizer`], WordPiece or a `tokenizer.json` aligned to characters.
//!
//! Nothing here knows about tensors or label sets.

pub mod fold;
pub mod tokenizer;
pub mod units;
pub mod words;

pub use fold::{
    aabb, is_basic_han, is_combining_mark, is_han, is_invisible, to_halfwidth, to_halfwidth_str,
    visible_controls,
};
pub(crate) use tokenizer::quietly;
pub use tokenizer::{
    lookup_tokenizer_json, BertOptions, CharTokenizer, TokenizerError, TokenizerSettings,
    VocabSource,
};
pub use units::Units;

/// A 64-bit FNV-1a hash of `s`'s bytes: stable across runs and platforms (unlike std's
/// `DefaultHasher`), for seeds mixed with a word and for feature names stored by hash.
pub fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}
pub use words::{WordFeatures, WordSet, CONFIG_KEY, FEATURE_TYPES};
