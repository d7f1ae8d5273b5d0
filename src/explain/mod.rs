//! Word explanations: pinyin and a short English gloss for a segmented word, from CC-CEDICT.
//!
//! The dictionary (CC-CEDICT 2023-11-07, CC BY-SA 4.0, "CC-CEDICT, MDBG"; see
//! `data/cedict/README.md`) is compiled into the binary gzipped and indexed on first use by
//! [`Dictionary::embedded`]; entries are parsed per headword only when looked up. Words the
//! dictionary lacks are explained from their characters ([`Explanation::from_chars`]).

mod cedict;
mod dictionary;
mod explanation;
mod gloss;
mod pinyin;
#[cfg(test)]
mod tests;

pub use cedict::{parse_line, Entry, ParseError};
pub use dictionary::Dictionary;
pub use explanation::{explain, names_across, CharReading, Explanation, GLOSS_MAX};
pub use pinyin::{numbered_to_marks, numbered_to_marks_spaced, syllable_to_marks};
