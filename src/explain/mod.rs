//! Word explanations: pinyin and a short English gloss for a segmented word, from CC-CEDICT.
//!
//! The dictionary (CC-CEDICT 2023-11-07, CC BY-SA 4.0, "CC-CEDICT, MDBG"; see
//! `data/cedict/README.md`) is compiled into the binary gzipped and indexed on first use by
//! [`Dictionary::embedded`]; entries are parsed per headword only when looked up. Words the
//! dictionary lacks are explained from their characters ([`Explanation::from_chars`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;
use std::sync::OnceLock;

/// The gzipped CC-CEDICT text, unmodified.
const CEDICT_GZ: &[u8] = include_bytes!("../../data/cedict/cedict_1_0_ts_utf-8_mdbg.txt.gz");

/// Target length, in characters, of [`Explanation::gloss`].
pub const GLOSS_MAX: usize = 40;

/// Target length, in characters, of [`CharReading::gloss`].
const CHAR_GLOSS_MAX: usize = 30;

// ---------------------------------------------------------------------------------------------
// Entries and parsing
// ---------------------------------------------------------------------------------------------

/// One CC-CEDICT entry: `TRAD SIMP [pin1 yin1] /sense 1/sense 2/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Traditional headword.
    pub traditional: String,
    /// Simplified headword.
    pub simplified: String,
    /// Pinyin as in CC-CEDICT: space-separated syllables with tone numbers (`Bei3 jing1`).
    pub pinyin_numbered: String,
    /// The senses, in dictionary order, trimmed; never empty.
    pub senses: Vec<String>,
}

impl Entry {
    /// Pinyin with tone marks in word form (`Běijīng`), see [`numbered_to_marks`].
    pub fn pinyin(&self) -> String {
        numbered_to_marks(&self.pinyin_numbered)
    }

    /// Whether this entry is a Chinese personal name: a headword of 2–3 characters whose first
    /// sense starts with the name romanised from its own pinyin and a parenthesis (习近平
    /// `[Xi2 Jin4 ping2]` "Xi Jinping (1953-), …"). `scripts/make-lexicon.py` uses the same
    /// test, without names spelt with ü (Lü Bu), which this one accepts.
    pub fn is_personal_name(&self) -> bool {
        let chars = self.simplified.chars().count();
        let syllables: Vec<String> = self
            .pinyin_numbered
            .split_whitespace()
            .map(|s| {
                s.replace("u:", "v")
                    .chars()
                    .filter(|c| !c.is_ascii_digit())
                    .collect::<String>()
                    .to_lowercase()
            })
            .collect();
        let Some((name, _)) = self.senses.first().and_then(|s| s.split_once(" (")) else {
            return false;
        };
        let Some((family, given)) = name.split_once(' ') else {
            return false;
        };
        let capitalised = |w: &str| {
            let mut cs = w.chars();
            cs.next().is_some_and(|c| c.is_uppercase())
                && cs.clone().next().is_some()
                && cs.all(|c| c.is_lowercase())
        };
        // Pinyin writes ü as u: (above: v); the gloss writes it ü (Lü Bu).
        let romanised = |w: &str| w.to_lowercase().replace('ü', "v");
        (2..=3).contains(&chars)
            && syllables.len() == chars
            && capitalised(family)
            && capitalised(given)
            && romanised(family) == syllables[0]
            && romanised(given) == syllables[1..].concat()
    }

    /// A short English gloss of about `max_chars` characters: the first senses joined with
    /// `"; "`, cut at a sense boundary. Classifier (`CL:`) and pronunciation notes are left out
    /// unless nothing else remains, and cross-references are shortened (`一點|一点[yi1 dian3]`
    /// becomes `一点`). A first sense longer than `max_chars` is cut at a word and ends in `…`.
    pub fn short_gloss(&self, max_chars: usize) -> String {
        let wanted: Vec<&String> = self.senses.iter().filter(|s| !is_note_sense(s)).collect();
        let senses = if wanted.is_empty() {
            self.senses.iter().collect()
        } else {
            wanted
        };
        let mut out = String::new();
        let mut out_chars = 0;
        for sense in senses {
            let sense = clean_sense(sense);
            let n = sense.chars().count();
            if out.is_empty() {
                if n > max_chars {
                    return cut_at_word(&sense, max_chars);
                }
                out = sense;
                out_chars = n;
            } else if out_chars + 2 + n <= max_chars {
                out.push_str("; ");
                out.push_str(&sense);
                out_chars += 2 + n;
            } else {
                break;
            }
        }
        out
    }
}

/// What is wrong with a malformed dictionary line (see [`parse_line`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A control character (tab, NUL, an inner newline …) inside the line.
    #[error("control character U+{code:04X} at byte {at}")]
    ControlCharacter {
        /// The character's code point.
        code: u32,
        /// Its byte offset in the line.
        at: usize,
    },
    /// No `[` opening the pinyin.
    #[error("no '[' opening the pinyin")]
    MissingPinyin,
    /// A `[` without a `]` after it.
    #[error("no ']' closing the pinyin")]
    UnclosedPinyin,
    /// Nothing between `[` and `]`.
    #[error("empty pinyin between '[' and ']'")]
    EmptyPinyin,
    /// Not exactly two headwords (traditional, simplified) before the pinyin.
    #[error("expected 2 headwords (traditional simplified) before '[', found {found}")]
    Headwords {
        /// How many whitespace-separated words were found.
        found: usize,
    },
    /// Nothing, or something other than `/`, after the pinyin.
    #[error("no '/' opening the senses after the pinyin")]
    MissingSenses,
    /// The senses do not end with `/`.
    #[error("the senses do not end with '/'")]
    UnterminatedSenses,
    /// Only empty senses between the slashes (`//`, `/ /`).
    #[error("no non-empty sense between the slashes")]
    EmptySenses,
}

/// A line split into its parts, borrowed; validated like [`parse_line`].
struct Parts<'a> {
    traditional: &'a str,
    simplified: &'a str,
    pinyin: &'a str,
    /// The text between the first and the last `/`.
    senses: &'a str,
}

impl Parts<'_> {
    fn senses(&self) -> impl Iterator<Item = &str> {
        self.senses
            .split('/')
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn to_entry(&self) -> Entry {
        Entry {
            traditional: self.traditional.to_string(),
            simplified: self.simplified.to_string(),
            pinyin_numbered: self.pinyin.split_whitespace().collect::<Vec<_>>().join(" "),
            senses: self.senses().map(str::to_string).collect(),
        }
    }
}

/// Splits and validates a line without allocating; `Ok(None)` for comments and blank lines.
fn split_line(line: &str) -> Result<Option<Parts<'_>>, ParseError> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let line = line.trim_start_matches('\u{feff}').trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    if let Some((at, c)) = line.char_indices().find(|(_, c)| c.is_control()) {
        return Err(ParseError::ControlCharacter {
            code: u32::from(c),
            at,
        });
    }
    let open = line.find('[').ok_or(ParseError::MissingPinyin)?;
    let close = line[open..]
        .find(']')
        .map(|i| open + i)
        .ok_or(ParseError::UnclosedPinyin)?;
    let mut heads = line[..open].split_whitespace();
    let (traditional, simplified) = match (heads.next(), heads.next(), heads.next()) {
        (Some(t), Some(s), None) => (t, s),
        _ => {
            return Err(ParseError::Headwords {
                found: line[..open].split_whitespace().count(),
            })
        }
    };
    let pinyin = line[open + 1..close].trim();
    if pinyin.is_empty() {
        return Err(ParseError::EmptyPinyin);
    }
    let rest = line[close + 1..].trim();
    let rest = rest.strip_prefix('/').ok_or(ParseError::MissingSenses)?;
    let senses = rest
        .strip_suffix('/')
        .ok_or(ParseError::UnterminatedSenses)?;
    let parts = Parts {
        traditional,
        simplified,
        pinyin,
        senses,
    };
    if parts.senses().next().is_none() {
        return Err(ParseError::EmptySenses);
    }
    Ok(Some(parts))
}

/// Parses one CC-CEDICT line, `TRAD SIMP [pin1 yin1] /sense 1/sense 2/`.
///
/// Comment lines (`#…`) and blank lines give `Ok(None)`; a trailing `\n`/`\r\n` and a leading
/// byte-order mark are ignored. Empty senses (`//`) are dropped, but at least one must remain.
/// Never panics.
pub fn parse_line(line: &str) -> Result<Option<Entry>, ParseError> {
    Ok(split_line(line)?.map(|p| p.to_entry()))
}

// ---------------------------------------------------------------------------------------------
// Pinyin
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Dictionary
// ---------------------------------------------------------------------------------------------

/// A CC-CEDICT dictionary indexed by simplified and traditional headword.
///
/// Loading only validates lines and indexes headwords; a headword's [`Entry`] values are
/// parsed and ranked the first time it is looked up (thread-safe), so loading is fast and the
/// loaded dictionary stays compact (the embedded one: under 40 MB).
pub struct Dictionary {
    /// The accepted entry lines, concatenated.
    text: String,
    /// Byte range of each accepted line in `text`.
    lines: Vec<(u32, u32)>,
    /// Headword (simplified, and traditional where it differs) → its group.
    index: HashMap<Box<str>, u32>,
    /// Group `g`'s line ids are `ids[starts[g]..starts[g + 1]]`, in file order.
    starts: Vec<u32>,
    ids: Vec<u32>,
    /// Group `g`'s entries, parsed and ranked on first lookup.
    cache: Vec<OnceLock<Box<[Entry]>>>,
    /// (character, [`syllable_key`]) → number of words reading the character so.
    usage: HashMap<(char, u64), u32>,
    skipped: usize,
}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dictionary")
            .field("entries", &self.lines.len())
            .field("headwords", &self.index.len())
            .field("skipped", &self.skipped)
            .finish()
    }
}

impl Dictionary {
    /// The CC-CEDICT dictionary compiled into the binary, decompressed and indexed on the
    /// first call (about 0.1–0.2 s in release builds); later calls are free.
    pub fn embedded() -> &'static Dictionary {
        static DICT: OnceLock<Dictionary> = OnceLock::new();
        DICT.get_or_init(load_embedded)
    }

    /// Reads a dictionary in CC-CEDICT format. Comments and blank lines are ignored; malformed
    /// lines and lines that are not UTF-8 are skipped and counted ([`Dictionary::skipped`]). A
    /// read error, or entries beyond 4 GiB of text, end the input: what was read is kept and
    /// the rest counts as one skipped line.
    pub fn from_reader(mut r: impl BufRead) -> Dictionary {
        let mut text = String::new();
        let mut lines: Vec<(u32, u32)> = Vec::new();
        let mut index: HashMap<Box<str>, u32> = HashMap::new();
        let mut pairs: Vec<(u32, u32)> = Vec::new(); // (group, line id), in file order
        let mut usage: HashMap<(char, u64), u32> = HashMap::new();
        let mut skipped = 0;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    skipped += 1;
                    break;
                }
            }
            let Ok(line) = std::str::from_utf8(&buf) else {
                skipped += 1;
                continue;
            };
            let parts = match split_line(line) {
                Ok(None) => continue,
                Err(_) => {
                    skipped += 1;
                    continue;
                }
                Ok(Some(p)) => p,
            };
            let line = line.trim_end_matches(['\n', '\r']);
            let (Ok(start), Ok(end), Ok(id)) = (
                u32::try_from(text.len()),
                u32::try_from(text.len() + line.len()),
                u32::try_from(lines.len()),
            ) else {
                skipped += 1;
                break;
            };
            let mut add_key = |key: &str| {
                let g = match index.get(key) {
                    Some(&g) => g,
                    None => {
                        // Fits: an entry line is at least 9 bytes of the at most 4 GiB of text, and
                        // adds at most two headwords.
                        let g = index.len() as u32;
                        index.insert(key.into(), g);
                        g
                    }
                };
                pairs.push((g, id));
            };
            add_key(parts.simplified);
            if parts.traditional != parts.simplified {
                add_key(parts.traditional);
            }
            count_usage(&mut usage, &parts);
            text.push_str(line);
            lines.push((start, end));
        }
        // Counting sort of the (group, line) pairs by group, keeping file order in a group.
        let groups = index.len();
        let mut starts = vec![0u32; groups + 1];
        for &(g, _) in &pairs {
            starts[g as usize + 1] += 1;
        }
        for g in 0..groups {
            starts[g + 1] += starts[g];
        }
        let mut next: Vec<u32> = starts[..groups].to_vec();
        let mut ids = vec![0u32; pairs.len()];
        for &(g, id) in &pairs {
            let slot = &mut next[g as usize];
            ids[*slot as usize] = id;
            *slot += 1;
        }
        text.shrink_to_fit();
        lines.shrink_to_fit();
        Dictionary {
            text,
            lines,
            index,
            starts,
            ids,
            cache: (0..groups).map(|_| OnceLock::new()).collect(),
            usage,
            skipped,
        }
    }

    /// Every entry whose simplified or traditional headword is `word`, best first (see
    /// *Ranking*); empty if none. Full-width ASCII (`ＣＰＵ`) is also tried half-width.
    ///
    /// # Ranking
    /// Entries whose simplified form is `word` come first, then traditional-only matches; within
    /// each group, in this order: neutral-tone grammatical particles (了 le5, 的 de5, 着 zhe5),
    /// ordinary entries, proper nouns (capitalised pinyin), surnames, entries that only say
    /// "used in …" or "see …", and entries that are only variants or archaic/old forms. Ties
    /// go to the likelier reading by a frequency proxy, 20 × the number of senses plus, for a
    /// single character, the number of common (not proper-noun) dictionary words that read it
    /// so (说 shuo1 before shui4, 重 zhong4 before chong2, 还 hai2 before huan2; 东西 dong1 xi5
    /// "thing; stuff; person" before dong1 xi1 "east and west"), then to the dictionary's order.
    /// Of 86 common polyphonic characters, 72 get their everyday reading first this way (about
    /// 60 without the frequency proxy).
    pub fn lookup(&self, word: &str) -> &[Entry] {
        if let Some(found) = self.lookup_exact(word) {
            return found;
        }
        match to_half_width(word) {
            Cow::Owned(half) => self.lookup_exact(&half).unwrap_or(&[]),
            Cow::Borrowed(_) => &[],
        }
    }

    fn lookup_exact(&self, word: &str) -> Option<&[Entry]> {
        let (key, &g) = self.index.get_key_value(word)?;
        let g = g as usize;
        let cell = self.cache.get(g)?;
        let entries = cell.get_or_init(|| {
            let (a, b) = (self.starts.get(g).copied(), self.starts.get(g + 1).copied());
            let ids = match (a, b) {
                (Some(a), Some(b)) => self.ids.get(a as usize..b as usize).unwrap_or_default(),
                _ => &[],
            };
            let mut entries: Vec<Entry> = ids
                .iter()
                .filter_map(|&id| self.lines.get(id as usize))
                .filter_map(|&(a, b)| self.text.get(a as usize..b as usize))
                .filter_map(|line| parse_line(line).ok().flatten())
                .collect();
            let mut chars = key.chars();
            let single = chars.next().filter(|_| chars.next().is_none());
            entries.sort_by_cached_key(|e| {
                let usage = single.map_or(0, |c| self.usage(c, &e.pinyin_numbered));
                rank(e, key, usage)
            });
            entries.into_boxed_slice()
        });
        Some(entries)
    }

    /// How many words (of two or more characters) read `c` as `syllable`.
    fn usage(&self, c: char, syllable: &str) -> u32 {
        syllable_key(syllable)
            .and_then(|s| self.usage.get(&(c, s)))
            .copied()
            .unwrap_or(0)
    }

    /// Simplified headwords of the entries whose senses (the raw text between the slashes)
    /// satisfy `keep`, e.g. `|s| s.contains("(idiom)")`; each headword once, in file order.
    pub fn headwords_where(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for &(a, b) in &self.lines {
            let Some(line) = self.text.get(a as usize..b as usize) else {
                continue;
            };
            if let Ok(Some(p)) = split_line(line) {
                if keep(p.senses) && seen.insert(p.simplified) {
                    out.push(p.simplified.to_string());
                }
            }
        }
        out
    }

    /// Number of entries (lines) in the dictionary.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when the dictionary has no entries.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Number of malformed lines skipped while loading.
    pub fn skipped(&self) -> usize {
        self.skipped
    }
}

/// Counts, for a common word (no capitalised syllable) of two or more characters with one
/// syllable per character, each character's reading (a frequency proxy: 说 is read shuo1 in
/// far more words than shui4).
fn count_usage(usage: &mut HashMap<(char, u64), u32>, parts: &Parts<'_>) {
    let n = parts.simplified.chars().count();
    let mut syllables = parts.pinyin.split_whitespace();
    if n < 2
        || syllables.clone().count() != n
        || syllables.any(|s| s.starts_with(|c: char| c.is_uppercase()))
    {
        return;
    }
    let syllables = parts.pinyin.split_whitespace().map(syllable_key);
    let chars = parts.simplified.chars().zip(
        parts
            .traditional
            .chars()
            .map(Some)
            .chain(std::iter::repeat(None)),
    );
    for ((simp, trad), syllable) in chars.zip(syllables) {
        let Some(syllable) = syllable else { continue };
        for c in std::iter::once(simp).chain(trad.filter(|&t| t != simp)) {
            if is_han(c) {
                *usage.entry((c, syllable)).or_insert(0) += 1;
            }
        }
    }
}

/// A numbered syllable (at most 8 bytes), lower-cased and packed into a `u64`.
fn syllable_key(syllable: &str) -> Option<u64> {
    let bytes = syllable.as_bytes();
    if bytes.len() > 8 {
        return None;
    }
    let mut packed = [0u8; 8];
    for (p, b) in packed.iter_mut().zip(bytes) {
        *p = b.to_ascii_lowercase();
    }
    Some(u64::from_le_bytes(packed))
}

fn load_embedded() -> Dictionary {
    let gz = flate2::read::GzDecoder::new(CEDICT_GZ);
    Dictionary::from_reader(std::io::BufReader::with_capacity(1 << 16, gz))
}

/// Sort key of an entry looked up under `key` (lower is better); see [`Dictionary::lookup`].
/// `usage` counts the common words that read `key` (one character) with the entry's syllable.
fn rank(e: &Entry, key: &str, usage: u32) -> (bool, u8, std::cmp::Reverse<u64>) {
    let senses = || e.senses.iter().map(|s| s.to_lowercase());
    let first = senses().next().unwrap_or_default();
    let kind = if is_particle(e) {
        0
    } else if first.starts_with("surname ") {
        3
    } else if senses().all(|s| is_variant_sense(&s)) {
        5
    } else if senses().all(|s| s.starts_with("used in ") || s.starts_with("see ")) {
        4
    } else if e
        .pinyin_numbered
        .starts_with(|c: char| c.is_ascii_uppercase())
    {
        2
    } else {
        1
    };
    // Frequency proxy: a sense weighs as much as 20 words using the reading.
    let senses = e.senses.iter().filter(|s| !is_note_sense(s)).count();
    let weight = u64::try_from(senses).unwrap_or(u64::MAX).saturating_mul(20);
    let weight = weight.saturating_add(u64::from(usage));
    (e.simplified != key, kind, std::cmp::Reverse(weight))
}

/// A neutral-tone grammatical particle or marker (了 le5, 的 de5, 着 zhe5, 吗 ma5), but not one
/// that stands in for another (哪 na5, "particle … used instead of 啊[a5]").
fn is_particle(e: &Entry) -> bool {
    let neutral = !e.pinyin_numbered.is_empty()
        && e.pinyin_numbered
            .split_whitespace()
            .all(|s| s.ends_with('5'));
    neutral
        && e.senses.iter().take(2).any(|s| {
            let s = s.to_lowercase();
            (s.contains("particle") || s.contains("marker"))
                && !s.contains("instead of")
                && !s.contains("equivalent")
                && !s.contains("variant")
        })
}

/// A sense that only points at another form: "variant of", "old variant of", "(archaic) …".
fn is_variant_sense(s: &str) -> bool {
    s.contains("variant of")
        || s.starts_with("(archaic)")
        || s.starts_with("archaic ")
        || s.starts_with("(old)")
        || s.starts_with("old form")
        || s.starts_with("(obsolete)")
}

/// Classifier lists and pronunciation notes, left out of short glosses.
fn is_note_sense(s: &str) -> bool {
    [
        "CL:",
        "Taiwan pr.",
        "also pr.",
        "pr. [",
        "also written",
        "also Taiwan pr.",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

/// Shortens cross-references in a sense: `一點|一点[yi1 dian3]` → `一点`, `了[le5]` → `了`.
fn clean_sense(sense: &str) -> String {
    let mut out = String::with_capacity(sense.len());
    let mut run_start: Option<usize> = None; // where the current run of Han characters began
    let mut rest = sense;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        if is_han(c) {
            run_start.get_or_insert(out.len());
            out.push(c);
        } else if c == '|' && run_start.is_some() && after.chars().next().is_some_and(is_han) {
            if let Some(start) = run_start {
                out.truncate(start);
            }
            run_start = None;
        } else if c == '[' && run_start.is_some() {
            match after.find(']') {
                Some(end)
                    if after[..end]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || " :,·".contains(c)) =>
                {
                    rest = &after[end + 1..];
                    run_start = None;
                    continue;
                }
                _ => {
                    out.push(c);
                    run_start = None;
                }
            }
        } else {
            out.push(c);
            run_start = None;
        }
        rest = after;
    }
    out
}

/// `s` cut to at most `max_chars` characters: at its last `"; "` (a sub-sense boundary) if
/// that keeps a third of it, else at a space (or anywhere) with `…`.
fn cut_at_word(s: &str, max_chars: usize) -> String {
    let end = s.char_indices().nth(max_chars).map_or(s.len(), |(i, _)| i);
    if end == s.len() {
        return s.to_string();
    }
    let head = &s[..end];
    if let Some(i) = head.rfind("; ").filter(|&i| i >= head.len() / 3) {
        return head[..i].to_string();
    }
    let head = match head.rfind([' ', ',', ';']) {
        Some(i) if i >= head.len() / 2 => &head[..i],
        _ => {
            // Leave room for the `…`.
            let shorter = s
                .char_indices()
                .nth(max_chars.saturating_sub(1))
                .map_or(end, |(i, _)| i);
            &s[..shorter]
        }
    };
    format!("{}…", head.trim_end_matches([' ', ';', ',']))
}

/// A Han (CJK ideograph) character, including 〇.
fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{323AF}')
}

/// Full-width ASCII (U+FF01–FF5E) and the ideographic space to half-width.
fn to_half_width(s: &str) -> Cow<'_, str> {
    let is_full = |c: char| ('\u{FF01}'..='\u{FF5E}').contains(&c) || c == '\u{3000}';
    if !s.chars().any(is_full) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(half_width_char).collect())
}

fn half_width_char(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        c => c,
    }
}

// ---------------------------------------------------------------------------------------------
// Explanations
// ---------------------------------------------------------------------------------------------

/// One character of a word with its own reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharReading {
    /// The character as it appears in the word.
    pub ch: char,
    /// Its pinyin with tone marks: the reading it has in the word when the word's entry has one
    /// syllable per character, else its first (best-ranked) entry's; a Latin letter is itself;
    /// `""` for punctuation, digits, symbols and unknown characters.
    pub pinyin: String,
    /// A short gloss of the character's entry for that reading; `None` if not in the dictionary.
    pub gloss: Option<String>,
}

/// What the dictionary says about a word: pinyin, a short gloss, all entries, per-character
/// readings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The word, as given.
    pub word: String,
    /// Pinyin with tone marks in word form (`Běijīng`); for a fallback, the characters'
    /// readings joined. `""` for punctuation, digits, symbols and emoji; a Latin word without
    /// an entry is itself (half-width).
    pub pinyin: String,
    /// A short English gloss (the first senses of the best entry, cut at a sense boundary near
    /// [`GLOSS_MAX`] characters); for a fallback, the characters' glosses joined with ` + `;
    /// `""` if none.
    pub gloss: String,
    /// Every dictionary entry for the word, best first (see [`Dictionary::lookup`]).
    pub entries: Vec<Entry>,
    /// True when the word is not in the dictionary and `pinyin`/`gloss` come from its
    /// characters.
    pub from_chars: bool,
    /// Each character's own reading.
    pub chars: Vec<CharReading>,
}

/// Explains `word`: its dictionary entries, pinyin and a short gloss, and each character's
/// reading. A word with Han characters that the dictionary lacks is explained from its
/// characters (`from_chars`). Words without Han characters: numbers (also full-width, `１９９８`),
/// punctuation, symbols and emoji get empty pinyin and gloss; Latin words are looked up (`CPU`)
/// and otherwise are their own pinyin. Never panics.
pub fn explain(dict: &Dictionary, word: &str) -> Explanation {
    let half = to_half_width(word);
    let has_han = word.chars().any(is_han);
    let has_letters = half.chars().any(|c| c.is_alphabetic());
    let entries: Vec<Entry> = if has_han || has_letters {
        dict.lookup(word).to_vec()
    } else {
        Vec::new()
    };
    let chars: Vec<char> = word.chars().collect();

    if let Some(best) = entries.first() {
        let syllables: Vec<&str> = best.pinyin_numbered.split_whitespace().collect();
        let aligned = syllables.len() == chars.len();
        let chars = chars
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                char_reading(
                    dict,
                    c,
                    if aligned {
                        syllables.get(i).copied()
                    } else {
                        None
                    },
                )
            })
            .collect();
        return Explanation {
            word: word.to_string(),
            pinyin: best.pinyin(),
            gloss: best.short_gloss(GLOSS_MAX),
            entries,
            from_chars: false,
            chars,
        };
    }

    let readings: Vec<CharReading> = chars.iter().map(|&c| char_reading(dict, c, None)).collect();
    if has_han {
        // Fallback: the characters' first readings, converted together for word-form spacing.
        let numbered: Vec<String> = chars
            .iter()
            .filter_map(|&c| {
                if is_han(c) {
                    dict.lookup_char(c).map(|e| e.pinyin_numbered.clone())
                } else {
                    let h = half_width_char(c);
                    h.is_ascii_alphanumeric().then(|| h.to_string())
                }
            })
            .collect();
        let glosses: Vec<&str> = readings.iter().filter_map(|r| r.gloss.as_deref()).collect();
        return Explanation {
            word: word.to_string(),
            pinyin: numbered_to_marks(&numbered.join(" ")),
            gloss: join_cut(&glosses, " + ", GLOSS_MAX),
            entries,
            from_chars: true,
            chars: readings,
        };
    }

    let is_number = !has_letters;
    Explanation {
        word: word.to_string(),
        pinyin: if is_number {
            String::new()
        } else {
            half.trim().to_string()
        },
        gloss: String::new(),
        entries,
        from_chars: false,
        chars: readings,
    }
}

/// Runs of two or three adjacent words that together are a personal name the dictionary lists,
/// with the name's explanation. PKU's standard, which the built-in model follows, writes
/// surname and given name as two words (习 近平); CC-CEDICT lists the whole name (习近平 "Xi
/// Jinping"), which a learner wants to see. A headword that also has an entry that is not a
/// name (a word that happens to be a name too) does not count.
pub fn names_across(
    dict: &Dictionary,
    words: &[&str],
) -> Vec<(std::ops::Range<usize>, Explanation)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let found = (2..=3).rev().find_map(|n| {
            let span = words.get(i..i + n)?;
            if !span.iter().all(|w| !w.is_empty() && w.chars().all(is_han)) {
                return None;
            }
            let name = span.concat();
            let entries = dict.lookup(&name);
            (!entries.is_empty() && entries.iter().all(Entry::is_personal_name))
                .then(|| (i..i + n, explain(dict, &name)))
        });
        match found {
            Some((r, e)) => {
                i = r.end;
                out.push((r, e));
            }
            None => i += 1,
        }
    }
    out
}

impl Dictionary {
    /// The best entry of a single character.
    fn lookup_char(&self, c: char) -> Option<&Entry> {
        let mut buf = [0u8; 4];
        self.lookup(c.encode_utf8(&mut buf)).first()
    }
}

/// The reading of `c`; `syllable` is its syllable in the word's entry when they align.
fn char_reading(dict: &Dictionary, c: char, syllable: Option<&str>) -> CharReading {
    if !is_han(c) {
        let h = half_width_char(c);
        let pinyin = match syllable {
            Some(s) if h.is_alphanumeric() => syllable_to_marks(s),
            _ if h.is_alphabetic() => h.to_string(),
            _ => String::new(),
        };
        return CharReading {
            ch: c,
            pinyin,
            gloss: None,
        };
    }
    let mut buf = [0u8; 4];
    let entries = dict.lookup(c.encode_utf8(&mut buf));
    // The entry for the reading the word gives this character (exact, then ignoring case:
    // 北京's `Bei3` is 北's `bei3`); without a word reading, the best-ranked entry.
    let entry = match syllable {
        Some(s) => entries.iter().find(|e| e.pinyin_numbered == s).or_else(|| {
            entries
                .iter()
                .find(|e| e.pinyin_numbered.eq_ignore_ascii_case(s))
        }),
        None => entries.first(),
    };
    match (entry, syllable) {
        (Some(e), _) => CharReading {
            ch: c,
            pinyin: e.pinyin(),
            gloss: Some(e.short_gloss(CHAR_GLOSS_MAX)),
        },
        // The word's reading of this character is not among the character's own entries.
        (None, Some(s)) => CharReading {
            ch: c,
            pinyin: syllable_to_marks(s),
            gloss: entries.first().map(|e| e.short_gloss(CHAR_GLOSS_MAX)),
        },
        (None, None) => CharReading {
            ch: c,
            pinyin: String::new(),
            gloss: None,
        },
    }
}

/// `parts` joined with `sep`, stopping (with `…`) before exceeding about `max_chars`.
fn join_cut(parts: &[&str], sep: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    for (i, p) in parts.iter().enumerate() {
        let len = p.chars().count();
        if i > 0 {
            if n + sep.chars().count() + len > max_chars {
                out.push_str(sep);
                out.push('…');
                break;
            }
            out.push_str(sep);
            n += sep.chars().count();
        }
        out.push_str(p);
        n += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SMALL: &str = "\
# CC-CEDICT sample
#! version=1

中國 中国 [Zhong1 guo2] /China/
北京 北京 [Bei3 jing1] /Beijing, capital of the People's Republic of China/
了 了 [liao3] /to finish/to achieve/variant of 瞭|了[liao3]/to understand clearly/
了 了 [le5] /(completed action marker)/(modal particle indicating change of state, situation now)/
的 的 [di1] /a taxi; a cab (abbr. for 的士[di1 shi4])/
的 的 [de5] /of; ~'s (possessive particle)/(used after an attribute)/
的 的 [di4] /(bound form) bull's-eye; target/
學習 学习 [xue2 xi2] /to learn/to study/
學 学 [xue2] /to learn/to study/to imitate/science/-ology/
習 习 [xi2] /(bound form) to practice; to study/habit/
女 女 [ru3] /archaic variant of 汝[ru3]/
女 女 [nu:3] /female/woman/daughter/
綠 绿 [lu:4] /green/
王 王 [Wang2] /surname Wang/
王 王 [wang2] /king or monarch/best or strongest of its type/
中 中 [zhong1] /within/among/in/middle/center/
中 中 [zhong4] /to hit (the mark)/
國 国 [guo2] /country/nation/state/
北 北 [bei3] /north/
京 京 [jing1] /capital city of a country/big/
我 我 [wo3] /I; me; my/
愛 爱 [ai4] /to love/to be fond of/to like/
一點兒 一点儿 [yi1 dian3 r5] /erhua variant of 一點|一点[yi1 dian3]/
一 一 [yi1] /one/single/a (article)/as soon as/
點 点 [dian3] /point/dot/drop/speck/
兒 儿 [er2] /child/son/
兒 儿 [r5] /non-syllabic diminutive suffix/retroflex final/
小姐 小姐 [xiao3 jie5] /young lady/miss/(slang) prostitute/CL:個|个[ge4],位[wei4]/
CPU CPU [C P U] /CPU/
卡拉OK 卡拉OK [ka3 la1 O K] /karaoke (loanword)/
西安 西安 [Xi1 an1] /Xi'an, capital of Shaanxi/
說 说 [shui4] /to persuade/
說 说 [shuo1] /to speak/to say/
說明 说明 [shuo1 ming2] /to explain/
小說 小说 [xiao3 shuo1] /novel/
東西 东西 [dong1 xi1] /east and west/
東西 东西 [dong1 xi5] /thing/stuff/person/CL:個|个[ge4],件[jian4]/
這是一個非常非常非常非常非常長的詞 这是一个非常非常非常非常非常长的词 [zhe4] /an extraordinarily long test sense that goes on and on beyond any limit/second/
";

    fn small() -> Dictionary {
        Dictionary::from_reader(SMALL.as_bytes())
    }

    // ---- parsing -------------------------------------------------------------------------

    #[test]
    fn parses_a_good_line() {
        let e = parse_line("北京 北京 [Bei3 jing1] /Beijing/capital of China/\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(e.traditional, "北京");
        assert_eq!(e.simplified, "北京");
        assert_eq!(e.pinyin_numbered, "Bei3 jing1");
        assert_eq!(e.senses, ["Beijing", "capital of China"]);
        assert_eq!(e.pinyin(), "Běijīng");
        let e = parse_line("學習 学习 [xue2  xi2] /to learn//to study/")
            .unwrap()
            .unwrap();
        assert_eq!(e.traditional, "學習");
        assert_eq!(e.pinyin_numbered, "xue2 xi2");
        assert_eq!(
            e.senses,
            ["to learn", "to study"],
            "empty senses are dropped"
        );
        // Brackets inside senses do not confuse the pinyin.
        let e = parse_line("了 了 [liao3] /variant of 瞭|了[liao3]/")
            .unwrap()
            .unwrap();
        assert_eq!(e.pinyin_numbered, "liao3");
        assert_eq!(e.senses, ["variant of 瞭|了[liao3]"]);
    }

    #[test]
    fn comments_and_blank_lines_are_none() {
        for line in [
            "",
            "\n",
            "   ",
            "\r\n",
            "# comment",
            "#! version=1",
            "\u{feff}# bom",
        ] {
            assert_eq!(parse_line(line), Ok(None), "{line:?}");
        }
    }

    #[test]
    fn malformed_lines_are_typed_errors() {
        use ParseError::*;
        let cases: &[(&str, ParseError)] = &[
            ("北京 北京 Bei3 jing1 /Beijing/", MissingPinyin),
            ("北京 北京 [Bei3 jing1 /Beijing/", UnclosedPinyin),
            ("北京 北京 [] /Beijing/", EmptyPinyin),
            ("北京 北京 [  ] /Beijing/", EmptyPinyin),
            ("北京 [Bei3 jing1] /Beijing/", Headwords { found: 1 }),
            ("[Bei3 jing1] /Beijing/", Headwords { found: 0 }),
            ("北 京 北京 [Bei3 jing1] /Beijing/", Headwords { found: 3 }),
            ("北京 北京 [Bei3 jing1]", MissingSenses),
            ("北京 北京 [Bei3 jing1] Beijing/", MissingSenses),
            ("北京 北京 [Bei3 jing1] /Beijing", UnterminatedSenses),
            ("北京 北京 [Bei3 jing1] /", UnterminatedSenses),
            ("北京 北京 [Bei3 jing1] //", EmptySenses),
            ("北京 北京 [Bei3 jing1] / / /", EmptySenses),
            (
                "北京\t北京 [Bei3 jing1] /Beijing/",
                ControlCharacter { code: 9, at: 6 },
            ),
            (
                "北京 北京 [Bei3 jing1] /Bei\0jing/",
                ControlCharacter { code: 0, at: 31 },
            ),
            (
                "北京 北京 [Bei3 jing1] /a/\n/b/",
                ControlCharacter { code: 10, at: 30 },
            ),
            ("garbage", MissingPinyin),
            ("]][[ ", UnclosedPinyin),
            ("a b ] [", UnclosedPinyin),
        ];
        for (line, want) in cases {
            assert_eq!(parse_line(line).as_ref(), Err(want), "{line:?}");
            assert!(!want.to_string().is_empty());
        }
    }

    #[test]
    fn very_long_lines_parse() {
        let sense = "x".repeat(100_000);
        let line = format!("長 长 [chang2] /{sense}/{sense}/");
        let e = parse_line(&line).unwrap().unwrap();
        assert_eq!(e.senses.len(), 2);
        let gloss = e.short_gloss(GLOSS_MAX);
        assert_eq!(gloss.chars().count(), GLOSS_MAX, "cut, with the …");
        assert!(gloss.ends_with('…'));
        let bad = format!("長 长 [{sense}");
        assert_eq!(parse_line(&bad), Err(ParseError::UnclosedPinyin));
    }

    #[test]
    fn loader_skips_and_counts_malformed_lines() {
        let text =
            b"# c\n\xff\xfe not utf-8\n\xe4\xb8\xad \xe4\xb8\xad [zhong1] /middle/\nbad line\n\n\
              \xe4\xb8\xad \xe4\xb8\xad [zhong1] /\n";
        let d = Dictionary::from_reader(&text[..]);
        assert_eq!(d.len(), 1);
        assert_eq!(d.skipped(), 3);
        assert_eq!(d.lookup("中")[0].senses, ["middle"]);
        let d = small();
        assert_eq!(d.skipped(), 0);
        assert!(!d.is_empty());
        assert_eq!(
            d.len(),
            SMALL
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .count()
        );
        let empty = Dictionary::from_reader(&b""[..]);
        assert!(empty.is_empty());
        assert!(empty.lookup("中").is_empty());
    }

    // ---- pinyin --------------------------------------------------------------------------

    #[test]
    fn syllables_get_tone_marks() {
        let cases = [
            ("ma1", "mā"),
            ("ma2", "má"),
            ("ma3", "mǎ"),
            ("ma4", "mà"),
            ("ma5", "ma"),
            ("nu:3", "nǚ"),
            ("lu:4", "lǜ"),
            ("lv4", "lǜ"),
            ("Lu:4", "Lǜ"),
            ("lu:e4", "lüè"),
            ("er2", "ér"),
            ("r5", "r"),
            ("Bei3", "Běi"),
            ("jing1", "jīng"),
            ("xiao3", "xiǎo"),
            ("jie3", "jiě"),
            ("gou3", "gǒu"),
            ("liu2", "liú"),
            ("gui4", "guì"),
            ("shuai4", "shuài"),
            ("huo2", "huó"),
            ("xue2", "xué"),
            ("Ou1", "Ōu"),
            ("E2", "É"),
            ("Ai4", "Ài"),
            ("ng2", "ńg"),
            ("m2", "ḿ"),
            ("hm5", "hm"),
            ("n4", "ǹ"),
            ("xx5", ""),
            // Pass through: no tone number, not letters, unknown.
            ("A", "A"),
            ("·", "·"),
            (",", ","),
            ("3", "3"),
            ("lv", "lv"),
            ("ma6", "ma6"),
            ("ma0", "ma0"),
            ("5", "5"),
            ("xyz1", "xyz1"),
            ("ma:3", "ma:3"),
            ("", ""),
        ];
        for (numbered, marked) in cases {
            assert_eq!(syllable_to_marks(numbered), marked, "{numbered}");
        }
    }

    #[test]
    fn words_get_tone_marks() {
        let cases = [
            ("Bei3 jing1", "Běijīng"),
            ("Zhong1 guo2", "Zhōngguó"),
            ("yi1 dian3 r5", "yīdiǎnr"),
            ("xiao3 jie3", "xiǎojiě"),
            ("xiao3 jie5", "xiǎojie"),
            ("nu:3 er2", "nǚ'ér"),
            ("Xi1 an1", "Xī'ān"),
            ("ka3 la1 O K", "kǎlā OK"),
            ("C P U", "CPU"),
            ("t o n y lao3 shi1", "tony lǎoshī"),
            ("A quan1 r5", "A quānr"),
            ("T xu4", "T xù"),
            ("yi1 bu4 zuo4 , er4 bu4 xiu1", "yībùzuò, èrbùxiū"),
            ("Ka3 er3 · Ma3 ke4 si1", "Kǎ'ěr·Mǎkèsī"),
            ("xx5 xx5", ""),
            ("Zhang1 San1", "Zhāng Sān"),
            (
                "Zhong1 hua2 Ren2 min2 Gong4 he2 guo2",
                "Zhōnghuá Rénmín Gònghéguó",
            ),
            ("Tian1 an1 men2", "Tiān'ānmén"),
            ("  ", ""),
        ];
        for (numbered, marked) in cases {
            assert_eq!(numbered_to_marks(numbered), marked, "{numbered}");
        }
        assert_eq!(numbered_to_marks_spaced("Bei3 jing1"), "Běi jīng");
        assert_eq!(numbered_to_marks_spaced("yi1 dian3 r5"), "yī diǎn r");
    }

    // ---- lookup and explanations ---------------------------------------------------------

    #[test]
    fn lookups_rank_entries() {
        let d = small();
        assert_eq!(d.lookup("北京")[0].pinyin(), "Běijīng");
        assert_eq!(d.lookup("中国")[0].senses, ["China"]);
        assert_eq!(d.lookup("中國")[0].simplified, "中国", "traditional form");
        let le: Vec<&str> = d
            .lookup("了")
            .iter()
            .map(|e| e.pinyin_numbered.as_str())
            .collect();
        assert_eq!(le, ["le5", "liao3"]);
        assert_eq!(d.lookup("的")[0].pinyin_numbered, "de5");
        assert_eq!(d.lookup("女")[0].pinyin(), "nǚ", "archaic variant last");
        assert_eq!(
            d.lookup("王")[0].pinyin(),
            "wáng",
            "surname after the common noun"
        );
        assert_eq!(
            d.lookup("說")[0].pinyin(),
            "shuō",
            "the reading more words use"
        );
        assert_eq!(
            d.lookup("东西")[0].pinyin(),
            "dōngxi",
            "the entry with more senses"
        );
        assert_eq!(d.lookup("ＣＰＵ")[0].simplified, "CPU", "full-width ASCII");
        assert!(d.lookup("没有").is_empty());
        assert!(d.lookup("").is_empty());
    }

    #[test]
    fn explains_dictionary_words() {
        let d = small();
        let e = explain(&d, "北京");
        assert_eq!(e.pinyin, "Běijīng");
        assert_eq!(e.gloss, "Beijing, capital of the People's…");
        assert!(!e.from_chars);
        assert_eq!(e.entries.len(), 1);
        let chars: Vec<(char, &str, Option<&str>)> = e
            .chars
            .iter()
            .map(|c| (c.ch, c.pinyin.as_str(), c.gloss.as_deref()))
            .collect();
        assert_eq!(
            chars,
            [
                ('北', "běi", Some("north")),
                ('京', "jīng", Some("capital city of a country; big"))
            ]
        );

        let e = explain(&d, "學習");
        assert_eq!(
            (e.pinyin.as_str(), e.gloss.as_str()),
            ("xuéxí", "to learn; to study")
        );
        assert_eq!(e.entries[0].simplified, "学习");

        let e = explain(&d, "了");
        assert_eq!((e.pinyin.as_str(), e.entries.len()), ("le", 2));
        assert_eq!(e.gloss, "(completed action marker)");

        let e = explain(&d, "一点儿");
        assert_eq!(e.pinyin, "yīdiǎnr");
        assert_eq!(e.gloss, "erhua variant of 一点");
        assert_eq!(e.chars[2].pinyin, "r", "儿 read as in the word, not er2");
        assert_eq!(
            e.chars[2].gloss.as_deref(),
            Some("non-syllabic diminutive suffix")
        );

        let e = explain(&d, "小姐");
        assert_eq!(
            e.gloss, "young lady; miss; (slang) prostitute",
            "CL: left out"
        );
        let e = explain(&d, "中");
        assert_eq!(e.gloss, "within; among; in; middle; center");
    }

    #[test]
    fn unknown_words_fall_back_to_characters() {
        let d = small();
        let e = explain(&d, "我爱中国");
        assert!(e.from_chars);
        assert!(e.entries.is_empty());
        assert_eq!(e.pinyin, "wǒ'àizhōngguó");
        assert_eq!(e.gloss, "I; me; my + to love; to be fond of + …");
        assert_eq!(e.chars.len(), 4);
        assert_eq!(e.chars[3].pinyin, "guó");
        let e = explain(&d, "爱A");
        assert!(e.from_chars);
        assert_eq!(e.pinyin, "ài A");
        // A Han character the dictionary lacks.
        let e = explain(&d, "龘");
        assert!(e.from_chars);
        assert_eq!((e.pinyin.as_str(), e.gloss.as_str()), ("", ""));
        assert_eq!(e.chars[0].gloss, None);
    }

    #[test]
    fn non_han_words() {
        let d = small();
        for w in ["，", "。", "1998", "１９９８", "3.14%", "😀", " ", "", "——"] {
            let e = explain(&d, w);
            assert_eq!(
                (e.pinyin.as_str(), e.gloss.as_str(), e.from_chars),
                ("", "", false),
                "{w:?}"
            );
            assert!(e.entries.is_empty());
            assert_eq!(e.chars.len(), w.chars().count());
        }
        let e = explain(&d, "ＣＰＵ");
        assert_eq!((e.pinyin.as_str(), e.gloss.as_str()), ("CPU", "CPU"));
        let e = explain(&d, "Ｈｅｌｌｏ");
        assert_eq!(
            (e.pinyin.as_str(), e.gloss.as_str(), e.from_chars),
            ("Hello", "", false)
        );
        let e = explain(&d, "卡拉OK");
        assert_eq!(e.pinyin, "kǎlā OK");
        assert_eq!(e.chars[2].pinyin, "O");
    }

    #[test]
    fn clean_and_cut_glosses() {
        assert_eq!(clean_sense("variant of 瞭|了[liao3]"), "variant of 了");
        assert_eq!(
            clean_sense("see 什麼|什么[shen2 me5], what"),
            "see 什么, what"
        );
        assert_eq!(clean_sense("abbr. for 的士[di1 shi4]"), "abbr. for 的士");
        assert_eq!(
            clean_sense("a|b [x] 中[not pinyin!]"),
            "a|b [x] 中[not pinyin!]"
        );
        assert_eq!(clean_sense("中|"), "中|");
        assert_eq!(cut_at_word("one two three four", 10), "one two…");
        assert_eq!(cut_at_word("short", 10), "short");
        assert_eq!(
            cut_at_word("to love; to be fond of; to like", 25),
            "to love; to be fond of"
        );
        assert_eq!(cut_at_word("abcdefghijkl", 5), "abcd…");
        assert_eq!(cut_at_word("一二三四五六", 3), "一二…");
        assert_eq!(join_cut(&["ab", "cd"], " + ", 40), "ab + cd");
    }

    #[test]
    fn embedded_dictionary() {
        let d = Dictionary::embedded();
        assert!(d.len() > 120_000, "{d:?}");
        assert_eq!(d.skipped(), 0);
        let e = explain(d, "北京");
        assert_eq!(e.pinyin, "Běijīng");
        assert!(e.gloss.starts_with("Beijing"), "{}", e.gloss);
        assert_eq!(explain(d, "中国").pinyin, "Zhōngguó");
        assert_eq!(explain(d, "了").pinyin, "le");
        assert_eq!(explain(d, "的").pinyin, "de");
        assert_eq!(explain(d, "着").pinyin, "zhe");
        assert_eq!(explain(d, "女").pinyin, "nǚ");
        assert_eq!(explain(d, "说").pinyin, "shuō");
        assert_eq!(explain(d, "还").pinyin, "hái");
        assert_eq!(explain(d, "哪").pinyin, "nǎ");
        assert_eq!(explain(d, "东西").pinyin, "dōngxi");
        assert_eq!(explain(d, "张三").pinyin, "Zhāng Sān");
        assert_eq!(explain(d, "一点儿").pinyin, "yīdiǎnr");
        assert_eq!(explain(d, "學習").entries[0].simplified, "学习");
        assert_eq!(explain(d, "长大").chars[0].pinyin, "zhǎng");
        let e = explain(d, "１９９８");
        assert_eq!((e.pinyin.as_str(), e.gloss.as_str()), ("", ""));
        let e = explain(d, "我们爱北京天安门");
        assert!(e.from_chars);
        assert!(e.pinyin.starts_with("wǒmen"), "{}", e.pinyin);
    }

    /// Load time of the embedded dictionary, measured afresh (not through the `OnceLock`):
    /// `cargo test --release --lib explain::tests::load_time -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn load_time() {
        use std::io::Read;
        let rss_kib = || {
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let line = status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .unwrap_or_default()
                .to_string();
            line.split_whitespace()
                .nth(1)
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let t = std::time::Instant::now();
        let mut raw = Vec::new();
        let unzip = flate2::read::GzDecoder::new(CEDICT_GZ)
            .read_to_end(&mut raw)
            .map(|_| t.elapsed());
        drop(raw);
        let rss0 = rss_kib();
        let t = std::time::Instant::now();
        let d = load_embedded();
        let load = t.elapsed();
        eprintln!(
            "gunzip alone {:?}; resident memory +{} MiB after loading",
            unzip,
            rss_kib().saturating_sub(rss0) / 1024
        );
        let t = std::time::Instant::now();
        let e = explain(&d, "北京");
        let first = t.elapsed();
        let t = std::time::Instant::now();
        for w in ["北京", "中国", "了", "的", "学习", "我们", "天安门"] {
            std::hint::black_box(explain(&d, w));
        }
        let more = t.elapsed();
        eprintln!(
            "embedded CC-CEDICT: {} entries, {} headwords, {} skipped; load {:.1} ms; \
             first explain {:.3} ms; 7 more {:.3} ms ({})",
            d.len(),
            d.index.len(),
            d.skipped(),
            load.as_secs_f64() * 1e3,
            first.as_secs_f64() * 1e3,
            more.as_secs_f64() * 1e3,
            e.pinyin
        );
    }

    #[test]
    fn finds_personal_names_written_as_surname_and_given_name() {
        let entry = |line: &str| parse_line(line).unwrap().unwrap();
        assert!(
            entry("習近平 习近平 [Xi2 Jin4 ping2] /Xi Jinping (1953-), PRC politician/")
                .is_personal_name()
        );
        assert!(entry("呂布 吕布 [Lu:3 Bu4] /Lü Bu (-198), general/").is_personal_name());
        for not_a_name in [
            "北京 北京 [Bei3 jing1] /Beijing, capital of the People's Republic of China/",
            "李白 李白 [Li3 Bai2] /Li Bai, poet/",
            "天安門 天安门 [Tian1 an1 men2] /Tiananmen Gate (entrance of the Imperial City)/",
            "張 张 [Zhang1] /Zhang Yi (a name) (test)/",
            "毛澤東思想 毛泽东思想 [Mao2 Ze2 dong1 si1 xiang3] /Mao Zedong Thought (1950-)/",
        ] {
            assert!(!entry(not_a_name).is_personal_name(), "{not_a_name}");
        }

        let d = Dictionary::embedded();
        let found = names_across(d, &["习", "近平", "会见", "了", "张", "艺谋", "。"]);
        let words: Vec<(std::ops::Range<usize>, &str)> = found
            .iter()
            .map(|(r, e)| (r.clone(), e.word.as_str()))
            .collect();
        assert_eq!(words, [(0..2, "习近平"), (4..6, "张艺谋")]);
        assert!(
            found[0].1.gloss.starts_with("Xi Jinping"),
            "{:?}",
            found[0].1
        );
        assert_eq!(found[0].1.pinyin, "Xí Jìnpíng");
        // A name the model kept whole is explained as a word, not repeated; words that are not
        // names, or not all Han, are left alone.
        assert!(names_across(d, &["习近平", "主席"]).is_empty());
        assert!(names_across(d, &["北京", "天安门"]).is_empty());
        assert!(names_across(d, &["习", "Jinping"]).is_empty());
        assert!(names_across(d, &[]).is_empty());
        assert!(names_across(d, &["", "习", ""]).is_empty());
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_strings(s in any::<String>()) {
            let _ = parse_line(&s);
            let _ = syllable_to_marks(&s);
            let _ = numbered_to_marks(&s);
            let _ = numbered_to_marks_spaced(&s);
            let _ = clean_sense(&s);
            let d = small();
            let _ = explain(&d, &s);
            let _ = Dictionary::from_reader(s.as_bytes());
        }

        #[test]
        fn never_panics_on_pinyin_like_strings(s in "[a-zA-Z:üvêÊ0-9 ,·|\\[\\]/中国了]{0,40}") {
            let _ = parse_line(&s);
            let _ = numbered_to_marks(&s);
            let _ = clean_sense(&s);
            let _ = explain(&small(), &s);
            let line = format!("中 中 [{s}] /{s}/");
            if let Ok(Some(e)) = parse_line(&line) {
                let _ = e.pinyin();
                let _ = e.short_gloss(GLOSS_MAX);
            }
        }
    }
}
