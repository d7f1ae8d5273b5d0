//! The table of frequent polyphonic characters (`data/polyphones/polyphones.tsv`, written for
//! fenci; see its README): for a character standing alone as a word, which reading (and
//! optionally which sense) its part of speech and neighbours call for; also for the everyday
//! words whose dictionary entries mislead in that order (告诉 gàosu "to tell", not gàosù "to
//! press charges"; 一起 "together").

use std::collections::HashMap;
use std::sync::OnceLock;

/// The table, compiled in.
const TABLE: &str = include_str!("../../data/polyphones/polyphones.tsv");

/// One condition of a rule (see the table's header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Clause {
    /// Always holds (`*`).
    Any,
    /// The word's own tag, exact or coarse, is one of these.
    Tag(Vec<String>),
    /// The previous word's class is one of these.
    Prev(Vec<String>),
    /// The next word's class is one of these.
    Next(Vec<String>),
    /// The previous word is one of these.
    PrevWord(Vec<String>),
    /// The next word is one of these.
    NextWord(Vec<String>),
    /// The previous word ends with one of these characters.
    PrevEnd(Vec<char>),
    /// The next word starts with one of these characters.
    NextStart(Vec<char>),
    /// The previous word ends with a numeral or demonstrative.
    PrevQuantity,
    /// The model's tag of the word, withheld from `tag=` (a one-character word's), is one of
    /// these (exact or coarse): a row written for the characters whose tag the model is
    /// reliably right about in that use (种 as a verb, 给 as a preposition).
    Hint(Vec<String>),
    /// One of the next [`NEAR`] words of the same clause is one of these (打了两个电话).
    Ahead(Vec<String>),
    /// One of the previous [`NEAR`] words of the same clause is one of these (买点儿菜).
    Behind(Vec<String>),
}

/// How far `ahead=` and `behind=` look, in words.
pub(super) const NEAR: usize = 4;

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rule {
    /// The reading, CC-CEDICT numbered (`dei3`).
    pub(super) reading: String,
    /// All must hold.
    pub(super) when: Vec<Clause>,
    /// False when other readings of the character stay plausible.
    pub(super) sure: bool,
    /// Text the sense to show contains, if the row names one.
    pub(super) sense: Option<String>,
    /// A use CC-CEDICT gives under another word only (穿点衣服: 点 is 一点 "a little"): that
    /// word, and text its sense to show contains (its first sense without one). Written
    /// `@一点` or `@多多:more` in the sense column.
    pub(super) borrow: Option<(String, Option<String>)>,
    /// The sense's text is itself the gloss to show: a part of a longer CC-CEDICT sense, where
    /// the rest would mislead here (就 alone is "then", not "(after a suppositional clause) in
    /// that case; then"). Written `=then` in the sense column; the text is also the sense cue.
    pub(super) exact: bool,
}

/// What a rule sees of the sentence around a word.
#[derive(Clone, Copy)]
pub(super) struct Around<'a> {
    /// The word's own tag, if the model gave one.
    pub(super) tag: Option<&'a str>,
    /// The coarse class of the word's tag.
    pub(super) coarse: Option<&'a str>,
    /// The previous and next words, if any.
    pub(super) prev: Option<&'a str>,
    pub(super) next: Option<&'a str>,
    /// Their classes: coarse tag, or a guess; `none` without a word.
    pub(super) prev_class: &'a str,
    pub(super) next_class: &'a str,
    /// The model's tag where `tag` is withheld from the rules (a one-character word's: see
    /// [`crate::annotate::reading_hints`]): seen only by `hint=` clauses.
    pub(super) hint: Option<&'a str>,
    /// Up to [`NEAR`] words after and before the word, within its clause (in sentence order).
    pub(super) ahead: &'a [&'a str],
    pub(super) behind: &'a [&'a str],
}

/// Characters that make the next character a measure word: numerals and demonstratives.
pub(super) const QUANTITY: &str = "一二三四五六七八九十零〇两百千万亿几半每这那哪各某整";

impl Clause {
    fn holds(&self, a: &Around<'_>) -> bool {
        let any = |list: &[String], s: Option<&str>| s.is_some_and(|s| list.iter().any(|x| x == s));
        match self {
            Clause::Any => true,
            Clause::Tag(list) => any(list, a.tag) || any(list, a.coarse),
            Clause::Prev(list) => any(list, Some(a.prev_class)),
            Clause::Hint(list) => {
                let h = a.hint.or(a.tag);
                any(list, h) || any(list, h.map(super::pos_tags::coarse))
            }
            Clause::Next(list) => any(list, Some(a.next_class)),
            Clause::PrevWord(list) => any(list, a.prev),
            Clause::NextWord(list) => any(list, a.next),
            Clause::PrevEnd(cs) => a
                .prev
                .and_then(|w| w.chars().last())
                .is_some_and(|c| cs.contains(&c)),
            Clause::NextStart(cs) => a
                .next
                .and_then(|w| w.chars().next())
                .is_some_and(|c| cs.contains(&c)),
            Clause::Ahead(list) => a.ahead.iter().any(|&w| any(list, Some(w))),
            Clause::Behind(list) => a.behind.iter().any(|&w| any(list, Some(w))),
            Clause::PrevQuantity => a
                .prev
                .and_then(|w| w.chars().last())
                .is_some_and(|c| QUANTITY.contains(c)),
        }
    }
}

impl Rule {
    pub(super) fn holds(&self, a: &Around<'_>) -> bool {
        self.when.iter().all(|c| c.holds(a))
    }

    /// A row that holds whatever the sentence (`*`).
    pub(super) fn is_default(&self) -> bool {
        self.when.iter().all(|c| matches!(c, Clause::Any))
    }

    /// Whether a `hint=` clause is part of the row.
    pub(super) fn asks_hint(&self) -> bool {
        self.when.iter().any(|c| matches!(c, Clause::Hint(_)))
    }
}

/// Parses one clause; `None` if malformed.
fn parse_clause(s: &str) -> Option<Clause> {
    if s == "*" {
        return Some(Clause::Any);
    }
    if s == "prevq" {
        return Some(Clause::PrevQuantity);
    }
    let (key, value) = s.split_once('=')?;
    let list: Vec<String> = value
        .split(',')
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect();
    if list.is_empty() {
        return None;
    }
    let chars = || -> Option<Vec<char>> {
        list.iter()
            .map(|v| {
                let mut cs = v.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => Some(c),
                    _ => None,
                }
            })
            .collect()
    };
    Some(match key {
        "tag" => Clause::Tag(list),
        "hint" => Clause::Hint(list),
        "prev" => Clause::Prev(list),
        "next" => Clause::Next(list),
        "prevw" => Clause::PrevWord(list),
        "nextw" => Clause::NextWord(list),
        "prevend" => Clause::PrevEnd(chars()?),
        "nextstart" => Clause::NextStart(chars()?),
        "ahead" => Clause::Ahead(list),
        "behind" => Clause::Behind(list),
        _ => return None,
    })
}

/// Whether `s` is one numbered pinyin syllable (`dei3`, `lu:4`, `le5`).
fn is_syllable(s: &str) -> bool {
    s.len() >= 2
        && s.ends_with(|d: char| ('1'..='5').contains(&d))
        && s[..s.len() - 1]
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch == ':')
}

/// Parses one row: `word reading when confidence [sense]` (the word one character, or an
/// everyday word; the reading one syllable per character); `Err` with the reason if malformed.
pub(super) fn parse_row(line: &str) -> Result<(String, Rule), String> {
    let cols: Vec<&str> = line.split('\t').collect();
    if !(4..=5).contains(&cols.len()) {
        return Err(format!("{} columns, want 4 or 5", cols.len()));
    }
    let word = cols[0].trim();
    if word.is_empty() || !word.chars().all(crate::text::is_han) {
        return Err(format!("first column {word:?} is not Chinese characters"));
    }
    let reading = cols[1].trim();
    let syllables: Vec<&str> = reading.split(' ').collect();
    if !syllables.iter().all(|s| is_syllable(s)) {
        return Err(format!("bad reading {reading:?}"));
    }
    if syllables.len() != word.chars().count() {
        return Err(format!(
            "reading {reading:?} has {} syllables for {} characters",
            syllables.len(),
            word.chars().count()
        ));
    }
    let when: Option<Vec<Clause>> = cols[2].split_whitespace().map(parse_clause).collect();
    let when = match when {
        Some(w) if !w.is_empty() => w,
        _ => return Err(format!("bad condition {:?}", cols[2])),
    };
    let sure = match cols[3].trim() {
        "sure" => true,
        "guess" => false,
        other => return Err(format!("bad confidence {other:?}")),
    };
    let mut sense = cols
        .get(4)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let borrow = match sense.as_deref().and_then(|s| s.strip_prefix('@')) {
        Some(b) => {
            let (w, cue) = match b.split_once(':') {
                Some((w, c)) => (w, Some(c.trim().to_string()).filter(|c| !c.is_empty())),
                None => (b, None),
            };
            if w.is_empty() || !w.chars().all(crate::text::is_han) {
                return Err(format!("borrowed sense {b:?}: want @WORD or @WORD:sense"));
            }
            Some((w.to_string(), cue))
        }
        None => None,
    };
    if borrow.is_some() {
        sense = None;
    }
    let exact = sense.as_deref().is_some_and(|s| s.starts_with('='));
    if exact {
        sense = sense
            .as_deref()
            .map(|s| s[1..].trim().to_string())
            .filter(|s| !s.is_empty());
        if sense.is_none() {
            return Err("exact sense '=' without text".to_string());
        }
    }
    Ok((
        word.to_string(),
        Rule {
            reading: reading.to_string(),
            when,
            sure,
            sense,
            borrow,
            exact,
        },
    ))
}

/// Every row of `text` that is not blank or a comment, parsed (errors with their line number).
pub(super) fn parse_table(text: &str) -> Vec<Result<(String, Rule), (usize, String)>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| parse_row(l.trim_end_matches('\r')).map_err(|e| (i + 1, e)))
        .collect()
}

/// The gloss the table's default row (`*`) gives character `c` in `reading` (里 "inside", not
/// CC-CEDICT's first sense, "lining"), from `entries` (`c`'s): the row's exact text, or the sense
/// that contains its cue, cleaned. `None` without such a row or sense.
pub(super) fn default_sense(
    entries: &[super::cedict::Entry],
    c: &str,
    reading: &str,
) -> Option<String> {
    let rule = table()
        .get(c)?
        .iter()
        .find(|r| r.is_default() && r.reading == reading)?;
    let cue = rule.sense.as_deref()?;
    entries
        .iter()
        .filter(|e| e.pinyin_numbered == reading)
        .find_map(|e| e.senses.iter().find(|s| s.contains(cue)))
        .map(|s| {
            if rule.exact {
                cue.to_string()
            } else {
                super::gloss::clean_sense(s)
            }
        })
}

/// The compiled-in table: character or word → its rules, in order. Malformed rows are left out (a
/// unit test checks there are none).
pub(super) fn table() -> &'static HashMap<String, Vec<Rule>> {
    static T: OnceLock<HashMap<String, Vec<Rule>>> = OnceLock::new();
    T.get_or_init(|| {
        let mut map: HashMap<String, Vec<Rule>> = HashMap::new();
        for (c, rule) in parse_table(TABLE).into_iter().flatten() {
            map.entry(c).or_default().push(rule);
        }
        map
    })
}

/// The raw table text, for tests.
#[cfg(test)]
pub(super) fn table_text() -> &'static str {
    TABLE
}
