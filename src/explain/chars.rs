//! Character helpers: the Han test and full-width to half-width folding.

use std::borrow::Cow;

// dup: crate::train::all_han (U+4E00–9FFF only) and `is_han` in examples/silver.rs
/// A Han (CJK ideograph) character, including 〇.
pub(super) fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{323AF}')
}

// dup: crate::segment::to_halfwidth (per character, for lookup)
/// Full-width ASCII (U+FF01–FF5E) and the ideographic space to half-width.
pub(super) fn to_half_width(s: &str) -> Cow<'_, str> {
    let is_full = |c: char| ('\u{FF01}'..='\u{FF5E}').contains(&c) || c == '\u{3000}';
    if !s.chars().any(is_full) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(half_width_char).collect())
}

// dup: crate::segment::to_halfwidth
pub(super) fn half_width_char(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        c => c,
    }
}
