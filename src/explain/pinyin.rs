//! Pinyin: CC-CEDICT's numbered syllables (`Bei3 jing1`) to tone marks (`Běijīng`), per syllable
//! and in word form.

/// One whitespace-separated token of CC-CEDICT pinyin, converted.
enum Token<'a> {
    /// A pinyin syllable with a tone number, converted to tone marks.
    Syllable(String),
    /// A token without a tone number that is letters or digits (`A`, `t`, `3`), unchanged.
    Latin(&'a str),
    /// Anything else (`·`, `,`), unchanged.
    Other(&'a str),
}

fn convert_token(token: &str) -> Token<'_> {
    if let Some(s) = toned_syllable(token) {
        Token::Syllable(s)
    } else if token.chars().all(|c| c.is_alphanumeric()) {
        Token::Latin(token)
    } else {
        Token::Other(token)
    }
}

/// The tone-marked form of `token` if it is a syllable with a tone number 1–5.
fn toned_syllable(token: &str) -> Option<String> {
    let tone = token
        .chars()
        .last()?
        .to_digit(10)
        .filter(|t| (1..=5).contains(t))?;
    let body = &token[..token.len() - 1];
    // Letters, with `u:`/`v` for ü.
    let mut letters: Vec<char> = Vec::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            'u' | 'U' if chars.peek() == Some(&':') => {
                chars.next();
                letters.push(if c == 'u' { 'ü' } else { 'Ü' });
            }
            'v' => letters.push('ü'),
            'V' => letters.push('Ü'),
            c if c.is_ascii_alphabetic() || matches!(c, 'ü' | 'Ü' | 'ê' | 'Ê') => {
                letters.push(c)
            }
            _ => return None,
        }
    }
    if letters.is_empty() {
        return None;
    }
    let lower: Vec<char> = letters.iter().map(|c| lower_pinyin(*c)).collect();
    if lower == ['r'] {
        // Erhua `r5`: a non-syllabic r, never marked.
        return Some(letters.iter().collect());
    }
    if lower.iter().all(|&c| c == 'x') {
        // `xx5`: CC-CEDICT's placeholder for an unknown reading.
        return Some(String::new());
    }
    let is_vowel = |c: char| matches!(c, 'a' | 'e' | 'ê' | 'i' | 'o' | 'u' | 'ü');
    let pos = lower
        .iter()
        .position(|&c| c == 'a')
        .or_else(|| lower.iter().position(|&c| c == 'e' || c == 'ê'))
        .or_else(|| lower.windows(2).position(|w| w == ['o', 'u']))
        .or_else(|| lower.iter().rposition(|&c| is_vowel(c)))
        // Syllabic nasals: m, n, ng, hm, hng.
        .or_else(|| lower.iter().position(|&c| c == 'm' || c == 'n'));
    let pos = pos?;
    let mut out = String::with_capacity(body.len() + 2);
    for (i, &c) in letters.iter().enumerate() {
        if i == pos && tone != 5 {
            push_marked(&mut out, c, tone);
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn lower_pinyin(c: char) -> char {
    match c {
        'Ü' => 'ü',
        'Ê' => 'ê',
        c => c.to_ascii_lowercase(),
    }
}

/// Pushes `c` with the mark of `tone` (1–4): precomposed where Unicode has one, else combining.
fn push_marked(out: &mut String, c: char, tone: u32) {
    let table: [char; 4] = match c {
        'a' => ['ā', 'á', 'ǎ', 'à'],
        'e' => ['ē', 'é', 'ě', 'è'],
        'i' => ['ī', 'í', 'ǐ', 'ì'],
        'o' => ['ō', 'ó', 'ǒ', 'ò'],
        'u' => ['ū', 'ú', 'ǔ', 'ù'],
        'ü' => ['ǖ', 'ǘ', 'ǚ', 'ǜ'],
        'A' => ['Ā', 'Á', 'Ǎ', 'À'],
        'E' => ['Ē', 'É', 'Ě', 'È'],
        'I' => ['Ī', 'Í', 'Ǐ', 'Ì'],
        'O' => ['Ō', 'Ó', 'Ǒ', 'Ò'],
        'U' => ['Ū', 'Ú', 'Ǔ', 'Ù'],
        'Ü' => ['Ǖ', 'Ǘ', 'Ǚ', 'Ǜ'],
        'ê' => ['\u{0304}', 'ế', '\u{030C}', 'ề'],
        'Ê' => ['\u{0304}', 'Ế', '\u{030C}', 'Ề'],
        'n' => ['\u{0304}', 'ń', 'ň', 'ǹ'],
        'N' => ['\u{0304}', 'Ń', 'Ň', 'Ǹ'],
        'm' => ['\u{0304}', 'ḿ', '\u{030C}', '\u{0300}'],
        'M' => ['\u{0304}', 'Ḿ', '\u{030C}', '\u{0300}'],
        _ => {
            out.push(c);
            return;
        }
    };
    let Some(&m) = usize::try_from(tone)
        .ok()
        .and_then(|t| table.get(t.wrapping_sub(1)))
    else {
        out.push(c);
        return;
    };
    if ('\u{0300}'..='\u{036F}').contains(&m) {
        out.push(c); // base letter, then the combining mark
    }
    out.push(m);
}

/// A numbered syllable without its tone number (`jing4` → `jing`).
pub(super) fn toneless(syllable: &str) -> &str {
    syllable.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// Converts one numbered syllable to tone marks (the per-syllable form).
///
/// `ma3` → `mǎ`, `lu:4`/`lv4` → `lǜ`, `ma5` → `ma`, `r5` → `r`, `Bei3` → `Běi`, `ng2` → `ńg`.
/// The mark goes on `a` or `e` if present, on the `o` of `ou`, else on the last vowel; `xx5`
/// (CC-CEDICT's unknown reading) gives `""`. Anything that is not letters followed by a tone
/// number 1–5 (`A`, `·`, `,`, `3`, `lv`) is returned unchanged.
pub fn syllable_to_marks(syllable: &str) -> String {
    toned_syllable(syllable).unwrap_or_else(|| syllable.to_string())
}

/// Converts CC-CEDICT numbered pinyin to tone marks in word form, as dictionaries print it.
///
/// Syllables are joined without spaces (`Bei3 jing1` → `Běijīng`, `yi1 dian3 r5` →
/// `yīdiǎnr`), with an apostrophe before a syllable starting with a, e or o (`Xi1 an1` →
/// `Xī'ān`); a capitalised syllable starts a new word, as in names (`Zhang1 San1` →
/// `Zhāng Sān`, `Zhong1 hua2 Ren2 min2` → `Zhōnghuá Rénmín`). Tokens without a tone number (`A`, `t o n y`) pass through: runs of them are joined
/// and set off from syllables by a space (`ka3 la1 O K` → `kǎlā OK`); `·` joins directly and
/// `,` is followed by a space. See [`syllable_to_marks`] for single syllables and
/// [`numbered_to_marks_spaced`] for one output word per input syllable. Never panics.
pub fn numbered_to_marks(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    // Kind of the previous token: 0 start / after a separator, 1 syllable, 2 latin, 3 after ','.
    let mut prev = 0u8;
    for token in s.split_whitespace() {
        match convert_token(token) {
            Token::Syllable(syl) => {
                if syl.is_empty() {
                    continue;
                }
                let first = syl.chars().next();
                let capital = first.is_some_and(char::is_uppercase);
                let first = first.map(|c| base_letter(lower_char(c)));
                match prev {
                    1 if capital => out.push(' '),
                    1 if matches!(first, Some('a' | 'e' | 'o')) => out.push('\''),
                    2 | 3 => out.push(' '),
                    _ => {}
                }
                out.push_str(&syl);
                prev = 1;
            }
            Token::Latin(t) => {
                if matches!(prev, 1 | 3) {
                    out.push(' ');
                }
                out.push_str(t);
                prev = 2;
            }
            Token::Other(t) => {
                if prev == 3 {
                    out.push(' ');
                }
                out.push_str(t);
                prev = if t == "," || t == "，" { 3 } else { 0 };
            }
        }
    }
    out
}

/// Like [`numbered_to_marks`] but one space-separated output word per input token
/// (`Bei3 jing1` → `Běi jīng`, `yi1 dian3 r5` → `yī diǎn r`), for aligning with characters.
pub fn numbered_to_marks_spaced(s: &str) -> String {
    s.split_whitespace()
        .map(syllable_to_marks)
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn lower_char(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// The unaccented vowel of a tone-marked pinyin letter (`ǎ` → `a`), else `c`.
fn base_letter(c: char) -> char {
    match c {
        'ā' | 'á' | 'ǎ' | 'à' => 'a',
        'ē' | 'é' | 'ě' | 'è' | 'ê' | 'ế' | 'ề' => 'e',
        'ō' | 'ó' | 'ǒ' | 'ò' => 'o',
        c => c,
    }
}
