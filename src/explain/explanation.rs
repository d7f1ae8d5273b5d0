//! [`Explanation`]s: a word's pinyin, short gloss, entries and per-character readings, with a
//! fallback to its characters for words the dictionary lacks; names split across words.

use super::cedict::Entry;
use super::dictionary::Dictionary;
use super::gloss::{is_note_sense, join_cut};
use super::hsk::hsk_word;
use super::pinyin::{numbered_to_marks, syllable_to_marks};
use crate::text::{is_han, to_halfwidth as half_width_char, to_halfwidth_str as to_half_width};

/// Target length, in characters, of [`Explanation::gloss`].
pub const GLOSS_MAX: usize = 40;

/// Target length, in characters, of [`CharReading::gloss`].
pub(super) const CHAR_GLOSS_MAX: usize = 30;

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
    /// [`GLOSS_MAX`] characters; from [`explain_in_context`](super::explain_in_context): the
    /// chosen entry's chosen sense, then its later senses of the same kind); for a fallback,
    /// the characters' glosses joined with ` + `; `""` if none.
    pub gloss: String,
    /// Every dictionary entry for the word, best first (see [`Dictionary::lookup`]).
    pub entries: Vec<Entry>,
    /// True when the word is not in the dictionary and `pinyin`/`gloss` come from its
    /// characters.
    pub from_chars: bool,
    /// Each character's own reading.
    pub chars: Vec<CharReading>,
    /// The word's part of speech (PKU tag) where known: the tag the reading and sense were
    /// chosen with, or (set by the caller) the model's tag shown beside a reading chosen
    /// without it; `None` from [`explain`] and where the model gives no POS.
    pub pos: Option<String>,
    /// Set by the caller when the model's probability of `pos` is below [`POS_SHOWN_FROM`]:
    /// the part of speech is then a guess, not shown as a fact ([`Explanation::pos_shown`]).
    pub pos_unsure: bool,
    /// Index into `entries` of the entry shown (`pinyin`, `gloss` and `chars` follow it); 0
    /// from [`explain`]. [`explain_in_context`](super::explain_in_context) may append an
    /// entry it composed (a numeral and a measure word, 一行 yī háng) and choose it.
    pub chosen: usize,
    /// Other readings that stay plausible in this sentence, tone-marked (`huán`); empty when
    /// the choice is sure, and always from [`explain`].
    pub other_readings: Vec<String>,
    /// The word's HSK 3.0 level (1–6, or 7 for the band 7–9), see [`super::hsk_word`].
    pub hsk: Option<u8>,
}

/// The model's probability from which a word's part of speech is shown as a fact (the chip's
/// `noun`, the card's "part of speech"). On PKU dev (built-in model, words segmented as in
/// the gold) tags of probability ≥ 0.9 were right 98.7 % of the time, 0.8–0.9 80 %, 0.7–0.8
/// 69 %, 0.5–0.6 53 %; 8 % of words fall below 0.9.
pub const POS_SHOWN_FROM: f32 = 0.9;

impl Explanation {
    /// The part of speech to show as a fact: `pos`, unless the model was not sure of it.
    pub fn pos_shown(&self) -> Option<&str> {
        self.pos.as_deref().filter(|_| !self.pos_unsure)
    }
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
    let mut entries: Vec<Entry> = if has_han || has_letters {
        dict.lookup(word).to_vec()
    } else {
        Vec::new()
    };
    if entries.is_empty() {
        entries.extend(doubled(dict, word));
    }
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
            gloss: gloss_of(dict, best),
            entries,
            from_chars: false,
            chars,
            pos: None,
            pos_unsure: false,
            chosen: 0,
            other_readings: Vec::new(),
            hsk: hsk_word(word),
        };
    }

    let readings: Vec<CharReading> = chars.iter().map(|&c| char_reading(dict, c, None)).collect();
    if has_han {
        // 小王, 老李: a familiar name; else the characters' first readings, converted together
        // for word-form spacing, and their glosses.
        let (pinyin, gloss, hsk) = match familiar_name(dict, &chars) {
            Some((pinyin, gloss)) => (pinyin, gloss, None),
            None => {
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
                let glosses: Vec<&str> =
                    readings.iter().filter_map(|r| r.gloss.as_deref()).collect();
                (
                    numbered_to_marks(&numbered.join(" ")),
                    join_cut(&glosses, " + ", GLOSS_MAX),
                    hsk_word(word),
                )
            }
        };
        return Explanation {
            word: word.to_string(),
            pinyin,
            gloss,
            entries,
            from_chars: true,
            chars: readings,
            pos: None,
            pos_unsure: false,
            chosen: 0,
            other_readings: Vec::new(),
            hsk,
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
        pos: None,
        pos_unsure: false,
        chosen: 0,
        other_readings: Vec::new(),
        hsk: hsk_word(word),
    }
}

/// An entry for an AABB reduplication the dictionary lacks, made from its word AB: 干干净净 read
/// gān gān jìng jìng (a neutral tone of AB takes the character's own tone: 漂漂亮亮 liàng),
/// glossed as AB's first senses with a note that it is AB doubled. `None` for anything else.
fn doubled(dict: &Dictionary, word: &str) -> Option<Entry> {
    let (a, b) = crate::text::aabb(&word.chars().collect::<Vec<_>>())?;
    let ab: String = [a, b].iter().collect();
    // The everyday reading is the one doubled: 结实 jiēshi "sturdy", not jiēshí "to bear fruit".
    let common = |e: &&Entry| e.pinyin_numbered.starts_with(|c: char| c.is_lowercase());
    let entries = dict.lookup(&ab);
    let base = entries
        .iter()
        .filter(common)
        .find(|e| e.pinyin_numbered.ends_with('5'))
        .or_else(|| entries.iter().find(common))?;
    let syllables: Vec<&str> = base.pinyin_numbered.split_whitespace().collect();
    let [pa, pb] = syllables[..] else {
        return None;
    };
    let toned = |c: char, syl: &str| -> String {
        let bare = super::pinyin::toneless(syl);
        if !syl.ends_with('5') {
            return syl.to_string();
        }
        let mut buf = [0u8; 4];
        dict.lookup(c.encode_utf8(&mut buf))
            .iter()
            .map(|e| e.pinyin_numbered.to_lowercase())
            .find(|p| super::pinyin::toneless(p) == bare && !p.ends_with('5'))
            .unwrap_or_else(|| syl.to_string())
    };
    let (pa, pb) = (toned(a, pa), toned(b, pb));
    let double = |s: &str| -> String { s.chars().flat_map(|c| [c, c]).collect() };
    // One sense, AB's first two and the note, so that no sense is chosen without the note.
    let first: Vec<&str> = base.senses.iter().take(2).map(String::as_str).collect();
    let senses = vec![format!("{} ({ab} doubled, more vivid)", first.join(", "))];
    Some(Entry {
        traditional: double(&base.traditional),
        simplified: word.to_string(),
        pinyin_numbered: format!("{pa} {pa} {pb} {pb}"),
        senses,
    })
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
    runs_across(words, |_, span| {
        if !span.iter().all(|w| !w.is_empty() && w.chars().all(is_han)) {
            return None;
        }
        let name = span.concat();
        let entries = dict.lookup(&name);
        (!entries.is_empty() && entries.iter().all(Entry::is_personal_name))
            .then(|| explain(dict, &name))
    })
}

/// Runs of three, else two, adjacent words of `words` that `find` explains (given the run's
/// first index and its words), leftmost first and never overlapping.
pub(super) fn runs_across(
    words: &[&str],
    find: impl Fn(usize, &[&str]) -> Option<Explanation>,
) -> Vec<(std::ops::Range<usize>, Explanation)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let found = (2..=3)
            .rev()
            .find_map(|n| Some((i..i + n, find(i, words.get(i..i + n)?)?)));
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

/// The short gloss of `entry`; for an entry that only points to its word without 儿 ("erhua
/// variant of 一点"), that word's gloss, marked as the erhua form (一点儿 "a bit; a little
/// (erhua of 一点)"), since the pointer says nothing of the meaning.
pub(super) fn gloss_of(dict: &Dictionary, entry: &Entry) -> String {
    erhua_gloss(dict, entry).unwrap_or_else(|| entry.short_gloss(GLOSS_MAX))
}

fn erhua_gloss(dict: &Dictionary, entry: &Entry) -> Option<String> {
    let mut meanings = entry.senses.iter().filter(|s| !is_note_sense(s));
    let (Some(sense), None) = (meanings.next(), meanings.next()) else {
        return None;
    };
    // "一點|一点[yi1 dian3]"
    let (words, reading) = sense.strip_prefix("erhua variant of ")?.split_once('[')?;
    let reading = reading.strip_suffix(']')?;
    let word = words.rsplit('|').next()?;
    // 点儿 standing alone is 一点儿 without its 一 (喝点儿水, 早点儿睡, 有点儿累): "a bit", not
    // 点's "point; dot".
    let (word, reading) = if entry.simplified == "点儿" {
        ("一点", "yi1 dian3")
    } else {
        (word, reading)
    };
    let target = dict.lookup(word).iter().find(|e| {
        e.pinyin_numbered == reading && !e.senses.iter().any(|s| s.contains("variant of"))
    })?;
    let mark = format!(" (erhua of {word})");
    let room = GLOSS_MAX.saturating_sub(mark.chars().count());
    Some(format!("{}{mark}", target.short_gloss(room)))
}

/// 小王, 老李: 小 or 老 before a surname is how people call someone they know (the
/// dictionary lists few such names; read from the characters they would be "small + king").
/// The reading (小 xiǎo or 老 lǎo, then the surname's) and a gloss that says what it is.
fn familiar_name(dict: &Dictionary, chars: &[char]) -> Option<(String, String)> {
    let [first, second] = chars else {
        return None;
    };
    let (prefix, meaning) = match first {
        '小' => ("Xiao3", "little"),
        '老' => ("Lao3", "old"),
        _ => return None,
    };
    // A common surname (see `context`), but not those that after 小 or 老 more often make an
    // ordinary word (小孔 "small hole", 小熊 "little bear", 小钱, 老高 "very tall").
    if !super::context::SURNAMES.contains(*second)
        || "孔马龙石叶林金白高田江方毛熊钱".contains(*second)
    {
        return None;
    }
    let mut buf = [0u8; 4];
    let surname = dict
        .lookup(second.encode_utf8(&mut buf))
        .iter()
        .find(|e| super::context::is_surname_entry(e))?;
    Some((
        numbered_to_marks(&format!("{prefix} {}", surname.pinyin_numbered)),
        format!("(familiar name) {first} \"{meaning}\" + the surname {second}"),
    ))
}

impl Dictionary {
    /// The best entry of a single character.
    fn lookup_char(&self, c: char) -> Option<&Entry> {
        let mut buf = [0u8; 4];
        self.lookup(c.encode_utf8(&mut buf)).first()
    }
}

/// Characters whose meaning inside a word the dictionary does not know is the polyphone
/// table's default sense, not CC-CEDICT's first: 里 "inside" (河里, 城里; not "lining"), 年
/// "year" (中年人; not "grain"). Others are left to the dictionary: a sense chosen for a word
/// alone (行 "all right", 别 "don't") would mislead inside another (行李费, 别人家).
const TABLE_SENSE_IN_WORDS: &str = "里年";

/// The reading of `c`; `syllable` is its syllable in the word's entry when they align.
pub(super) fn char_reading(dict: &Dictionary, c: char, syllable: Option<&str>) -> CharReading {
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
            // For the characters of `TABLE_SENSE_IN_WORDS`, the polyphone table's default sense
            // (里 "inside", not "lining"), else the entry's first senses.
            gloss: Some(
                TABLE_SENSE_IN_WORDS
                    .contains(c)
                    .then(|| {
                        super::polyphones::default_sense(
                            entries,
                            &c.to_string(),
                            &e.pinyin_numbered,
                        )
                    })
                    .flatten()
                    .map(|g| super::gloss::cut_at_word(&g, CHAR_GLOSS_MAX))
                    .unwrap_or_else(|| e.short_gloss(CHAR_GLOSS_MAX)),
            ),
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
