//! [`CharTokenizer`]: a model's vocabulary (WordPiece from `vocab.txt`, or a `tokenizer.json`)
//! applied to a line and aligned to its characters, so every character lands in exactly one
//! unit.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use super::fold::{simplified_forms, to_halfwidth};
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
    /// Traditional characters outside the vocabulary → a simplified form inside it.
    simplified: Arc<HashMap<char, char>>,
}

impl std::fmt::Debug for CharTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CharTokenizer")
            .field("vocab", &self.tok.get_vocab_size(true))
            .finish()
    }
}

impl CharTokenizer {
    /// Builds the tokenizer from a model's vocabulary files.
    pub fn new(src: &VocabSource) -> Result<Self> {
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
                tok.with_normalizer(Some(BertNormalizer::new(true, true, None, true)))
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
        let simplified = simplified_forms(|c| {
            let mut buf = [0u8; 4];
            tok.token_to_id(c.encode_utf8(&mut buf)).is_some()
        });
        Ok(Self {
            simplified: Arc::new(simplified),
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

    /// The character the vocabulary is asked for in place of `c`: half-width for full-width
    /// ASCII, a simplified form for a traditional character the vocabulary lacks.
    pub fn lookup_char(&self, c: char) -> char {
        let h = to_halfwidth(c);
        self.simplified.get(&h).copied().unwrap_or(h)
    }

    /// Cuts a line into units. Never fails on any input: characters the tokenizer drops become
    /// [UNK] units of their own.
    pub fn units(&self, text: &str) -> Units {
        let chars: Vec<char> = text.chars().collect();
        // One character for one: offsets into `lookup` are offsets into `text`.
        let lookup: String = chars.iter().map(|&c| self.lookup_char(c)).collect();
        let mut toks: Vec<(Range<usize>, u32)> = Vec::new();
        // Should a tokenizer.json with odd settings make the library panic mid-encode, every
        // character becomes a unit of its own, as for an encoding error.
        let enc = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.tok.encode_char_offsets(lookup.as_str(), false)
        }));
        if let Ok(Ok(enc)) = enc {
            for (&id, &(s, e)) in enc.get_ids().iter().zip(enc.get_offsets()) {
                if s < e && e <= chars.len() {
                    toks.push((s..e, id));
                }
            }
        }
        toks.sort_by_key(|(r, _)| (r.start, r.end));
        // Merge overlapping tokens (a normalizer that expands one character into several tokens).
        let mut merged: Vec<(Range<usize>, u32)> = Vec::with_capacity(toks.len());
        for (r, id) in toks {
            match merged.last_mut() {
                Some((last, _)) if r.start < last.end => last.end = last.end.max(r.end),
                _ => merged.push((r, id)),
            }
        }
        // Walk the characters: covered ranges become units, uncovered non-whitespace characters
        // become [UNK] units, whitespace marks a gap.
        let mut units = Units {
            ids: Vec::with_capacity(merged.len()),
            spans: Vec::with_capacity(merged.len()),
            gap: Vec::with_capacity(merged.len()),
            types: Vec::new(),
        };
        let mut pending_gap = false;
        let mut next = merged.into_iter().peekable();
        let mut i = 0;
        while i < chars.len() {
            if let Some((r, _)) = next.peek() {
                if r.start == i {
                    let (r, id) = next.next().expect("peeked");
                    units.gap.push(pending_gap);
                    pending_gap = false;
                    i = r.end;
                    units.spans.push(r);
                    units.ids.push(id);
                    continue;
                }
            }
            if chars[i].is_whitespace() {
                pending_gap = true;
            } else {
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
