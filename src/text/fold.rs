//! Character folding for lookups: full-width → half-width, the Han test, traditional →
//! simplified. The text a user typed is never changed; these only pick what is looked up.

use std::borrow::Cow;
use std::collections::HashMap;

/// Maps full-width ASCII variants (U+FF01–FF5E) and the ideographic space to half-width, for
/// lookup only.
pub fn to_halfwidth(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// `s` with [`to_halfwidth`] applied to every character; borrowed when nothing changes.
pub fn to_halfwidth_str(s: &str) -> Cow<'_, str> {
    if s.chars().all(|c| to_halfwidth(c) == c) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(to_halfwidth).collect())
}

/// A Han (CJK ideograph) character, including 〇: the basic and extension blocks and the
/// compatibility ideographs.
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{323AF}')
}

/// The two characters of an AABB reduplication of Han characters (干干净净 → 干, 净); `None` for
/// anything else (AAAA, ABAB, Latin, other lengths).
pub fn aabb(w: &[char]) -> Option<(char, char)> {
    let [a, a2, b, b2] = *w else {
        return None;
    };
    (a == a2 && b == b2 && a != b && is_han(a) && is_han(b)).then_some((a, b))
}

/// A mark that belongs to the character before it: combining diacritics (é written e + U+0301),
/// Hebrew points, Arabic harakat, Thai vowel signs and tone marks, kana voicing marks and
/// variation selectors. Never a unit or a word of its own.
pub fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{0591}'..='\u{05BD}'
        | '\u{05BF}'..='\u{05C7}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{0E31}'
        | '\u{0E34}'..='\u{0E3A}'
        | '\u{0E47}'..='\u{0E4E}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{3099}'..='\u{309A}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{E0100}'..='\u{E01EF}')
}

/// A character that shows nothing: soft hyphen, zero-width spaces and joiners, direction
/// marks, the byte-order mark.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{FEFF}')
}

/// `s` for a terminal: each control character (C0, DEL) shown as its Unicode control picture
/// (ESC as ␛, a tab as ␉), so that it cannot move the cursor, colour the screen or break a
/// table's columns. Borrowed when there is none.
pub fn visible_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_ascii_control()) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c as u32 {
                0x00..=0x1F => char::from_u32(0x2400 + c as u32).unwrap_or(c),
                0x7F => '\u{2421}',
                _ => c,
            })
            .collect(),
    )
}

/// A character of the basic CJK Unified Ideographs block (U+4E00–9FFF) only: the narrower test
/// the training-time lexicon swap was built and measured with.
pub fn is_basic_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// Traditional characters and their simplified forms, best first, one line each (`data/t2s/`,
/// derived from CC-CEDICT by `scripts/make-t2s.py`).
const T2S: &str = include_str!("../../data/t2s/t2s.txt");

/// For each traditional character that `known` lacks: the first of its simplified forms that
/// `known` has.
pub(crate) fn simplified_forms(known: impl Fn(char) -> bool) -> HashMap<char, char> {
    let single = |w: &str| {
        let mut c = w.chars();
        match (c.next(), c.next()) {
            (Some(ch), None) => Some(ch),
            _ => None,
        }
    };
    T2S.lines()
        .filter_map(|line| {
            let mut forms = line.split(' ').filter_map(single);
            let t = forms.next()?;
            if known(t) {
                return None;
            }
            forms.find(|&s| known(s)).map(|s| (t, s))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{is_combining_mark, is_invisible, visible_controls};

    #[test]
    fn marks_invisibles_and_controls() {
        assert!(is_combining_mark('\u{0301}') && is_combining_mark('\u{FE0F}'));
        assert!(!is_combining_mark('e') && !is_combining_mark('中'));
        assert!(is_invisible('\u{200B}') && is_invisible('\u{FEFF}') && !is_invisible(' '));
        assert_eq!(visible_controls("a\u{1b}[31m\tb\u{7f}"), "a␛[31m␉b␡");
        assert!(matches!(
            visible_controls("我爱北京"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
