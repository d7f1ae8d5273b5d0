//! Tone colours for pinyin: tone-marked pinyin (`Běijīng`, `Tiān'ānmén`, `yīdiǎnr`) split into
//! syllables, each with its tone read from its marked vowel (no mark: the neutral tone).
//!
//! The colours are Pleco's default tone colours (Pleco Chinese dictionary, Settings › Tone
//! colours): tone 1 red, tone 2 green, tone 3 blue, tone 4 purple, neutral grey. They are drawn
//! with the terminal's 16 named colours (light variants, readable on dark and light
//! backgrounds), off under `NO_COLOR` and with the `tone_colours` setting (`/tones off`).

use ratatui::style::Color;

/// Pleco's default colour of `tone` (1–4; anything else is the neutral tone).
pub fn tone_colour(tone: u8) -> Color {
    match tone {
        1 => Color::LightRed,
        2 => Color::LightGreen,
        3 => Color::LightBlue,
        4 => Color::LightMagenta,
        _ => Color::DarkGray,
    }
}

/// A piece of a pinyin string: a syllable with its tone (1–4, 5 neutral), or text that is not
/// one (spaces, apostrophes, Latin letters, punctuation) with `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// The text, as in the input.
    pub text: String,
    /// The syllable's tone, `None` for text that is not a syllable.
    pub tone: Option<u8>,
}

/// Finals (without an initial they are syllables too: `a`, `ē`, `ér`).
const FINALS: &[&str] = &[
    "a", "o", "e", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "ong", "er", "i", "ia", "ie",
    "iao", "iu", "ian", "in", "iang", "ing", "iong", "io", "u", "ua", "uo", "uai", "ui", "uan",
    "un", "uang", "ueng", "ue", "ü", "üe", "üan", "ün", "ê",
];
const INITIALS: &[&str] = &[
    "zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r",
    "z", "c", "s", "y", "w",
];
/// Syllables without a vowel: the syllabic nasals and the erhua `r`.
const NASALS: &[&str] = &["m", "n", "ng", "hm", "hng", "r"];

fn is_syllable(s: &str) -> bool {
    NASALS.contains(&s)
        || FINALS.contains(&s)
        || INITIALS
            .iter()
            .any(|i| s.strip_prefix(i).is_some_and(|f| FINALS.contains(&f)))
}

/// The base letter (lower case) and tone mark (1–4, 0 for none) of one pinyin letter.
fn base_and_tone(c: char) -> Option<(char, u8)> {
    let lower = c.to_lowercase().next().unwrap_or(c);
    let table: &[(char, [char; 4])] = &[
        ('a', ['ā', 'á', 'ǎ', 'à']),
        ('e', ['ē', 'é', 'ě', 'è']),
        ('i', ['ī', 'í', 'ǐ', 'ì']),
        ('o', ['ō', 'ó', 'ǒ', 'ò']),
        ('u', ['ū', 'ú', 'ǔ', 'ù']),
        ('ü', ['ǖ', 'ǘ', 'ǚ', 'ǜ']),
        ('ê', ['ê', 'ế', 'ê', 'ề']),
        ('n', ['n', 'ń', 'ň', 'ǹ']),
        ('m', ['m', 'ḿ', 'm', 'm']),
    ];
    for (base, marks) in table {
        if let Some(k) = marks.iter().position(|&m| m == lower) {
            if lower != *base {
                return Some((*base, k as u8 + 1));
            }
        }
    }
    lower
        .is_ascii_lowercase()
        .then_some((lower, 0))
        .or_else(|| matches!(lower, 'ü' | 'ê').then_some((lower, 0)))
}

/// A combining tone mark's tone (ˉ ˊ ˇ ˋ over the previous letter).
fn combining_tone(c: char) -> Option<u8> {
    match c {
        '\u{0304}' => Some(1),
        '\u{0301}' => Some(2),
        '\u{030C}' => Some(3),
        '\u{0300}' => Some(4),
        _ => None,
    }
}

/// One letter of a run: its text (with any combining mark), base letter and tone mark.
struct Letter {
    text: String,
    base: char,
    tone: u8,
}

/// Splits tone-marked pinyin into syllables with their tones. A run of letters that does not
/// read as pinyin syllables (`OK`, `hello`) is one piece without a tone. Never panics.
pub fn syllables(pinyin: &str) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut run: Vec<Letter> = Vec::new();
    let push_other = |out: &mut Vec<Piece>, s: &str| match out.last_mut() {
        Some(p) if p.tone.is_none() => p.text.push_str(s),
        _ => out.push(Piece {
            text: s.to_string(),
            tone: None,
        }),
    };
    let flush = |run: &mut Vec<Letter>, out: &mut Vec<Piece>| {
        if run.is_empty() {
            return;
        }
        match split_run(run) {
            Some(cuts) => {
                let mut start = 0;
                for end in cuts {
                    let letters = &run[start..end];
                    let tone = letters.iter().map(|l| l.tone).find(|&t| t > 0).unwrap_or(5);
                    out.push(Piece {
                        text: letters.iter().map(|l| l.text.as_str()).collect(),
                        tone: Some(tone),
                    });
                    start = end;
                }
            }
            None => {
                let text: String = run.iter().map(|l| l.text.as_str()).collect();
                push_other(out, &text);
            }
        }
        run.clear();
    };
    for c in pinyin.chars() {
        if let Some(t) = combining_tone(c) {
            if let Some(l) = run.last_mut() {
                l.text.push(c);
                if l.tone == 0 {
                    l.tone = t;
                }
                continue;
            }
        }
        match base_and_tone(c) {
            Some((base, tone)) => run.push(Letter {
                text: c.to_string(),
                base,
                tone,
            }),
            None => {
                flush(&mut run, &mut out);
                push_other(&mut out, &c.to_string());
            }
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Where a run of letters splits into syllables (each cut is the end of one): the fewest
/// syllables, each with at most one tone mark, none but the first starting with a vowel (pinyin
/// writes an apostrophe there: `Xī'ān`). `None` if the run is not pinyin.
fn split_run(run: &[Letter]) -> Option<Vec<usize>> {
    let n = run.len();
    // best[i]: (syllables, previous cut) for the first i letters.
    let mut best: Vec<Option<(usize, usize)>> = vec![None; n + 1];
    best[0] = Some((0, 0));
    for i in 1..=n {
        for j in i.saturating_sub(6)..i {
            let Some((count, _)) = best[j] else { continue };
            let letters = &run[j..i];
            if j > 0 && matches!(letters[0].base, 'a' | 'e' | 'o' | 'i' | 'u' | 'ü' | 'ê') {
                continue;
            }
            if letters.iter().filter(|l| l.tone > 0).count() > 1 {
                continue;
            }
            let s: String = letters.iter().map(|l| l.base).collect();
            if j == 0 && s == "r" {
                continue;
            }
            if is_syllable(&s) && best[i].is_none_or(|(c, _)| count + 1 < c) {
                best[i] = Some((count + 1, j));
            }
        }
    }
    best[n]?;
    let mut cuts = Vec::new();
    let mut i = n;
    while i > 0 {
        cuts.push(i);
        i = best[i]?.1;
    }
    cuts.reverse();
    Some(cuts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(p: &str) -> String {
        syllables(p)
            .iter()
            .map(|s| match s.tone {
                Some(t) => format!("{}{t}", s.text),
                None => format!("[{}]", s.text),
            })
            .collect::<Vec<_>>()
            .join("|")
    }

    #[test]
    fn splits_marked_pinyin_into_toned_syllables() {
        assert_eq!(show("Běijīng"), "Běi3|jīng1");
        assert_eq!(show("Tiān'ānmén"), "Tiān1|[']|ān1|mén2");
        assert_eq!(show("rènshi"), "rèn4|shi5");
        assert_eq!(show("yīdiǎnr"), "yī1|diǎn3|r5");
        // No apostrophe: jīn + gān, not jīng + ān.
        assert_eq!(show("jīngān"), "jīn1|gān1");
        assert_eq!(show("kǎlā OK"), "kǎ3|lā1|[ OK]");
        assert_eq!(show("Zhāng Sān"), "Zhāng1|[ ]|Sān1");
        assert_eq!(show("lǜ"), "lǜ4");
        assert_eq!(show("ńg"), "ńg2");
        assert_eq!(show("m\u{0300}"), "m\u{0300}4");
        assert_eq!(show(""), "");
        assert_eq!(show("hello"), "[hello]");
    }
}
