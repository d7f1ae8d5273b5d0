//! Word explanations: pinyin and a short English gloss for a segmented word, from CC-CEDICT.
//!
//! The dictionary (CC-CEDICT 2023-11-07, CC BY-SA 4.0, "CC-CEDICT, MDBG"; see
//! `data/cedict/README.md`) is compiled into the binary gzipped and indexed on first use by
//! [`Dictionary::embedded`]; entries are parsed per headword only when looked up. Words the
//! dictionary lacks are explained from their characters ([`Explanation::from_chars`]).
//!
//! [`explain`] gives a word its best-ranked entry whatever the sentence; [`explain_in_context`]
//! chooses the reading and sense that fit the word's part of speech and neighbours (with the
//! polyphone table in `data/polyphones/`); [`together`] finds names and set phrases written as
//! several words (习 近平, 如果…的 话). [`hsk_word`] and [`hsk_char`] give HSK 3.0 levels
//! (`data/hsk/`), [`pos_label`] and [`pos_meaning`] explain PKU part-of-speech tags.

mod cedict;
mod clock;
mod context;
#[cfg(test)]
mod context_tests;
mod dictionary;
mod explanation;
mod frames;
mod gloss;
mod hsk;
mod pairs;
mod phrases;
mod pinyin;
mod polyphones;
mod pos_tags;
#[cfg(test)]
mod tests;

pub use cedict::{parse_line, Entry, ParseError};
pub use context::{
    explain_in_context, explain_in_context_hinted, has_classifier_sense, sense_fits_tag,
};
pub use dictionary::Dictionary;
pub use explanation::{explain, names_across, CharReading, Explanation, GLOSS_MAX, POS_SHOWN_FROM};
pub use hsk::{hsk_char, hsk_word};
pub use phrases::{phrases_across, separable_across, settle_halves, together, together_label};
pub use pinyin::{numbered_to_marks, numbered_to_marks_spaced, syllable_to_marks};
pub use pos_tags::{pos_label, pos_meaning, pos_tags};
