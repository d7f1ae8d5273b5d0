//! CC-CEDICT entries: [`Entry`], and parsing one line of the dictionary ([`parse_line`],
//! [`ParseError`]) without allocating until an entry is wanted.

use super::gloss::{clean_sense, cut_at_word, is_note_sense};
use super::pinyin::numbered_to_marks;

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
        // A later "variant of …" sense (喝 "to drink; variant of 嗬") says nothing of the word
        // here; the first sense always stays (an entry that is only a variant).
        let wanted: Vec<&String> = self
            .senses
            .iter()
            .enumerate()
            .filter(|&(i, s)| !is_note_sense(s) && (i == 0 || !is_variant_sense(s)))
            .map(|(_, s)| s)
            .collect();
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
pub(super) struct Parts<'a> {
    pub(super) traditional: &'a str,
    pub(super) simplified: &'a str,
    pub(super) pinyin: &'a str,
    /// The text between the first and the last `/`.
    pub(super) senses: &'a str,
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
pub(super) fn split_line(line: &str) -> Result<Option<Parts<'_>>, ParseError> {
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

/// A sense that only points at another character ("variant of 嗬[he1]", "old variant of …";
/// also "variant of 遊|游[you2]", which shows as "variant of 游" in simplified characters).
fn is_variant_sense(s: &str) -> bool {
    let s = s.trim_start_matches("(bound form) ");
    [
        "variant of ",
        "old variant of ",
        "archaic variant of ",
        "euphemistic variant of ",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}
