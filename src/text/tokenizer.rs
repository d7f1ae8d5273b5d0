//! [`CharTokenizer`]: a model's vocabulary (WordPiece from `vocab.txt`, or a `tokenizer.json`)
//! applied to a line and aligned to its characters, so every character lands in exactly one
//! unit.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use super::fold::{is_combining_mark, simplified_forms, to_halfwidth};
use super::{Units, WordFeatures};

/// A vocabulary that cannot be used: the message names the file and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenizerError(pub String);

type Result<T> = std::result::Result<T, TokenizerError>;

/// Where a model's vocabulary comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum VocabSource {
    /// A BERT `vocab.txt` (WordPiece, one token a line).
    VocabTxt(Vec<u8>),
    /// A Hugging Face `tokenizer.json`.
    TokenizerJson(Vec<u8>),
}

/// How a model looks its text up in its vocabulary.
///
/// fenci's own models were trained with two lookups of their own (full-width ASCII folded to
/// half-width, a traditional character the vocabulary lacks looked up by its simplified form);
/// every other model sees exactly the tokens its Hugging Face tokenizer gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizerSettings {
    /// Fold full-width ASCII (U+FF01–FF5E) and the ideographic space to half-width first.
    pub halfwidth: bool,
    /// Look a traditional character the vocabulary lacks up by its simplified form.
    pub t2s: bool,
    /// For a `vocab.txt` model: `BertTokenizer`'s settings (`tokenizer_config.json`).
    pub bert: BertOptions,
}

/// `BertTokenizer`'s settings from `tokenizer_config.json`, with transformers' defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BertOptions {
    /// `do_lower_case` (default true).
    pub lower_case: bool,
    /// `tokenize_chinese_chars` (default true): each CJK character is a word of its own.
    pub chinese_chars: bool,
    /// `strip_accents` (default None: strip when lower-casing).
    pub strip_accents: Option<bool>,
}

impl Default for BertOptions {
    fn default() -> Self {
        Self {
            lower_case: true,
            chinese_chars: true,
            strip_accents: None,
        }
    }
}

impl BertOptions {
    /// The settings a `tokenizer_config.json` gives (transformers' defaults for keys it lacks
    /// or cannot be read).
    pub fn from_tokenizer_config(json: &str) -> Self {
        let mut o = Self::default();
        let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(json)
        else {
            return o;
        };
        if let Some(b) = m.get("do_lower_case").and_then(|v| v.as_bool()) {
            o.lower_case = b;
        }
        if let Some(b) = m.get("tokenize_chinese_chars").and_then(|v| v.as_bool()) {
            o.chinese_chars = b;
        }
        if let Some(v) = m.get("strip_accents") {
            o.strip_accents = v.as_bool();
        }
        o
    }
}

impl TokenizerSettings {
    /// fenci's own lookups (half-width folding and traditional → simplified) over
    /// `BertTokenizer`'s defaults: what fenci's models were trained with.
    pub fn fenci() -> Self {
        Self {
            halfwidth: true,
            t2s: true,
            bert: BertOptions::default(),
        }
    }

    /// Exactly the model's own tokenizer, with these `BertTokenizer` settings for a `vocab.txt`.
    pub fn hub(bert: BertOptions) -> Self {
        Self {
            halfwidth: false,
            t2s: false,
            bert,
        }
    }

    /// Whether any of fenci's own lookups is on.
    pub fn is_fenci(&self) -> bool {
        self.halfwidth || self.t2s
    }
}

/// Runs `f` with panic messages silenced on this thread (other threads still print theirs; a
/// thread meanwhile): for library code that panics on malformed input instead of failing.
pub(crate) fn quietly<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    use std::cell::Cell;
    thread_local! {
        static QUIET: Cell<bool> = const { Cell::new(false) };
    }
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                prev(info)
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    r
}

/// panics on one).
fn check_precompiled(v: &serde_json::Value) -> Result<()> {
    match v {
        serde_json::Value::Object(o) => {
            if o.get("type").and_then(|t| t.as_str()) == Some("Precompiled") {
                serde_json::from_value::<tokenizers::normalizers::Precompiled>(v.clone()).map_err(
                    |e| {
                        TokenizerError(format!(
                            "tokenizer.json: a Precompiled normalizer is damaged: {e}"
                        ))
                    },
                )?;
            }
            o.values().try_for_each(check_precompiled)
        }
        serde_json::Value::Array(a) => a.iter().try_for_each(check_precompiled),
        _ => Ok(()),
    }
}

/// WordPiece (from `vocab.txt`) or a full `tokenizer.json`, aligned to characters.
#[derive(Clone)]
pub struct CharTokenizer {
    tok: tokenizers::Tokenizer,
    /// Id of [CLS].
    pub cls: u32,
    /// Id of [SEP].
    pub sep: u32,
    /// Id of [PAD].
    pub pad: u32,
    /// Id of [UNK].
    pub unk: u32,
    /// Dictionary features computed for every line (models trained with them).
    features: Option<Arc<WordFeatures>>,
    /// Traditional characters outside the vocabulary → a simplified form inside it (empty
    /// unless the model declares fenci's lookups).
    simplified: Arc<HashMap<char, char>>,
    /// Fold full-width ASCII to half-width before the lookup.
    halfwidth: bool,
    /// Keep WordPiece words whole: a unit continuing the word of the unit before it (same word
    /// id in the encoding) is marked [`Units::joined`]. On for every model but fenci's own.
    whole_words: bool,
}

impl std::fmt::Debug for CharTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CharTokenizer")
            .field("vocab", &self.tok.get_vocab_size(true))
            .finish()
    }
}

impl CharTokenizer {
    /// Builds the tokenizer from a model's vocabulary files with fenci's own lookups
    /// ([`TokenizerSettings::fenci`]).
    pub fn new(src: &VocabSource) -> Result<Self> {
        Self::with_settings(src, &TokenizerSettings::fenci())
    }

    /// Builds the tokenizer from a model's vocabulary files and how the model looks text up:
    /// a `tokenizer.json` is used as it is; a `vocab.txt` follows `BertTokenizer` with
    /// `settings.bert`.
    pub fn with_settings(src: &VocabSource, settings: &TokenizerSettings) -> Result<Self> {
        let tok = match src {
            VocabSource::TokenizerJson(bytes) => {
                // The tokenizers library panics on some malformed files (found by fuzzing: a
                // truncated `decoder`, a bad `precompiled_charsmap`): check for those first to
                // say what is wrong, and turn any panic left into an error.
                let json: serde_json::Value = serde_json::from_slice(bytes)
                    .map_err(|e| TokenizerError(format!("tokenizer.json: not valid JSON: {e}")))?;
                check_precompiled(&json)?;
                quietly(|| tokenizers::Tokenizer::from_bytes(bytes))
                    .map_err(|_| {
                        TokenizerError(
                            "tokenizer.json: not a tokenizer this version of the tokenizers library can read".into(),
                        )
                    })?
                    .map_err(|e| TokenizerError(format!("tokenizer.json: {e}")))?
            }
            VocabSource::VocabTxt(bytes) => {
                use tokenizers::models::wordpiece::WordPiece;
                use tokenizers::normalizers::BertNormalizer;
                use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
                let vocab = WordPiece::read_bytes(bytes)
                    .map_err(|e| TokenizerError(format!("vocab.txt: {e}")))?;
                if vocab.is_empty() {
                    return Err(TokenizerError("vocab.txt: the vocabulary is empty".into()));
                }
                let wp = WordPiece::builder()
                    .vocab(vocab)
                    .unk_token("[UNK]".into())
                    .build()
                    .map_err(|e| TokenizerError(format!("vocab.txt: {e}")))?;
                let mut tok = tokenizers::Tokenizer::new(wp);
                let b = settings.bert;
                tok.with_normalizer(Some(BertNormalizer::new(
                    true,
                    b.chinese_chars,
                    b.strip_accents,
                    b.lower_case,
                )))
                .map_err(|e| TokenizerError(format!("vocab.txt: {e}")))?;
                tok.with_pre_tokenizer(Some(BertPreTokenizer));
                tok
            }
        };
        let file = match src {
            VocabSource::TokenizerJson(_) => "tokenizer.json",
            VocabSource::VocabTxt(_) => "vocab.txt",
        };
        let id = |names: &[&str]| -> Result<u32> {
            names
                .iter()
                .find_map(|n| tok.token_to_id(n))
                .ok_or_else(|| {
                    TokenizerError(format!(
                        "{file}: the vocabulary has no {} token",
                        names.join(" / ")
                    ))
                })
        };
        let simplified = if settings.t2s {
            simplified_forms(|c| {
                let mut buf = [0u8; 4];
                tok.token_to_id(c.encode_utf8(&mut buf)).is_some()
            })
        } else {
            HashMap::new()
        };
        Ok(Self {
            simplified: Arc::new(simplified),
            halfwidth: settings.halfwidth,
            whole_words: !settings.is_fenci(),
            cls: id(&["[CLS]", "<s>"])?,
            sep: id(&["[SEP]", "</s>"])?,
            pad: id(&["[PAD]", "<pad>"])?,
            unk: id(&["[UNK]", "<unk>"])?,
            tok,
            features: None,
        })
    }

    /// The tokenizer that also computes dictionary features for each line.
    pub fn with_features(mut self, features: Option<Arc<WordFeatures>>) -> Self {
        self.features = features;
        self
    }

    /// The word list of the dictionary features, for a model trained with them.
    pub fn feature_words(&self) -> Option<&super::WordSet> {
        self.features.as_deref().map(WordFeatures::words)
    }

    /// Number of ids, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.tok.get_vocab_size(true)
    }

    /// The id of a token of the vocabulary (e.g. `[MASK]`), if it has it.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.tok.token_to_id(token)
    }

    /// One past the largest id the tokenizer can produce (a tokenizer.json may leave gaps, so
    /// this can exceed [`CharTokenizer::vocab_size`]): the rows an embedding table needs.
    pub fn id_bound(&self) -> usize {
        self.tok
            .get_vocab(true)
            .values()
            .max()
            .map_or(0, |&m| m as usize + 1)
    }

    /// The character the vocabulary is asked for in place of `c`. For a model with fenci's
    /// lookups: half-width for full-width ASCII, a simplified form for a traditional character
    /// the vocabulary lacks; for any other model `c` itself.
    pub fn lookup_char(&self, c: char) -> char {
        let h = if self.halfwidth { to_halfwidth(c) } else { c };
        self.simplified.get(&h).copied().unwrap_or(h)
    }

    /// Cuts a line into units. Never fails on any input: characters the tokenizer drops become
    /// [UNK] units of their own.
    pub fn units(&self, text: &str) -> Units {
        let chars: Vec<char> = text.chars().collect();
        // One character for one: offsets into `lookup` are offsets into `text`.
        let lookup: String = chars.iter().map(|&c| self.lookup_char(c)).collect();
        // (chars, id, word id)
        let mut toks: Vec<(Range<usize>, u32, Option<u32>)> = Vec::new();
        // Should a tokenizer.json with odd settings make the library panic mid-encode, every
        // character becomes a unit of its own, as for an encoding error.
        let enc = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.tok.encode_char_offsets(lookup.as_str(), false)
        }));
        if let Ok(Ok(enc)) = enc {
            for ((&id, &(s, e)), &w) in enc
                .get_ids()
                .iter()
                .zip(enc.get_offsets())
                .zip(enc.get_word_ids())
            {
                if s < e && e <= chars.len() {
                    toks.push((s..e, id, w));
                }
            }
        }
        toks.sort_by_key(|(r, _, _)| (r.start, r.end));
        // Merge overlapping tokens (a normalizer that expands one character into several tokens).
        let mut merged: Vec<(Range<usize>, u32, Option<u32>)> = Vec::with_capacity(toks.len());
        for (r, id, w) in toks {
            match merged.last_mut() {
                Some((last, _, _)) if r.start < last.end => last.end = last.end.max(r.end),
                _ => merged.push((r, id, w)),
            }
        }
        // Walk the characters: covered ranges become units, uncovered non-whitespace characters
        // become [UNK] units, whitespace marks a gap.
        let mut units = Units {
            ids: Vec::with_capacity(merged.len()),
            spans: Vec::with_capacity(merged.len()),
            gap: Vec::with_capacity(merged.len()),
            types: Vec::new(),
            joined: Vec::with_capacity(merged.len()),
        };
        let mut prev_word: Option<u32> = None;
        let mut pending_gap = false;
        let mut next = merged.into_iter().peekable();
        let mut i = 0;
        while i < chars.len() {
            if let Some((r, _, _)) = next.peek() {
                if r.start == i {
                    let (r, id, w) = next.next().expect("peeked");
                    let joined = self.whole_words
                        && !pending_gap
                        && !units.ids.is_empty()
                        && w.is_some()
                        && w == prev_word;
                    units.joined.push(joined);
                    prev_word = w;
                    units.gap.push(pending_gap);
                    pending_gap = false;
                    i = r.end;
                    units.spans.push(r);
                    units.ids.push(id);
                    continue;
                }
            }
            prev_word = None;
            if chars[i].is_whitespace() {
                pending_gap = true;
            } else if is_combining_mark(chars[i])
                && !pending_gap
                && units.spans.last().is_some_and(|r| r.end == i)
            {
                // A mark the tokenizer dropped (中 + U+0301) stays with its character.
                if let Some(r) = units.spans.last_mut() {
                    r.end = i + 1;
                }
            } else {
                units.joined.push(false);
                units.gap.push(pending_gap);
                pending_gap = false;
                units.spans.push(i..i + 1);
                units.ids.push(self.unk);
            }
            i += 1;
        }
        units.types = match &self.features {
            Some(f) => f.types(&lookup, &units),
            None => vec![0; units.len()],
        };
        units
    }
}

/// A `tokenizer.json` that spells out how a model with fenci's own lookups reads its
/// `vocab.txt`, for clients such as transformers: `Replace` normalizers for the half-width
/// folding (U+FF01–FF5E, U+3000) and for each traditional character the vocabulary lacks
/// (→ the simplified form fenci looks up), then the `BertNormalizer`, `BertPreTokenizer`,
/// WordPiece and the [CLS]/[SEP] post-processor. Its ids are the ids fenci feeds the model.
pub fn lookup_tokenizer_json(vocab_txt: &[u8], settings: &TokenizerSettings) -> Result<String> {
    use tokenizers::normalizers::{BertNormalizer, Replace, Sequence};
    use tokenizers::processors::bert::BertProcessing;
    use tokenizers::NormalizerWrapper;
    let base = CharTokenizer::with_settings(&VocabSource::VocabTxt(vocab_txt.to_vec()), settings)?;
    let mut tok = base.tok.clone();
    let err = |e: tokenizers::Error| TokenizerError(format!("tokenizer.json: {e}"));
    let mut steps: Vec<NormalizerWrapper> = Vec::new();
    let mut replace = |from: char, to: char| -> Result<()> {
        steps.push(
            Replace::new(from.to_string(), to.to_string())
                .map_err(err)?
                .into(),
        );
        Ok(())
    };
    if settings.halfwidth {
        for c in (0xFF01..=0xFF5E).chain([0x3000]).filter_map(char::from_u32) {
            replace(c, to_halfwidth(c))?;
        }
    }
    let mut t2s: Vec<(char, char)> = base.simplified.iter().map(|(&t, &s)| (t, s)).collect();
    t2s.sort_unstable();
    for (t, s) in t2s {
        replace(t, s)?;
    }
    let b = settings.bert;
    steps.push(BertNormalizer::new(true, b.chinese_chars, b.strip_accents, b.lower_case).into());
    tok.with_normalizer(Some(Sequence::new(steps)))
        .map_err(err)?;
    let name = |id: u32| base.tok.id_to_token(id).unwrap_or_default();
    let (cls, sep) = (name(base.cls), name(base.sep));
    tok.with_post_processor(Some(BertProcessing::new(
        (sep.clone(), base.sep),
        (cls.clone(), base.cls),
    )));
    let specials: Vec<tokenizers::AddedToken> = [base.pad, base.unk, base.cls, base.sep]
        .into_iter()
        .map(name)
        .chain(base.token_id("[MASK]").map(|_| "[MASK]".to_string()))
        .map(|t| tokenizers::AddedToken::from(t, true))
        .collect();
    tok.add_special_tokens(specials).map_err(err)?;
    tok.with_decoder(Some(tokenizers::decoders::wordpiece::WordPiece::default()));
    tok.to_string(false).map_err(err)
}
