//! Text → tokens → tagger → decoder → words.
//!
//! * [`CharTokenizer`] turns a line into *units*: one per CJK character, one per WordPiece token of
//!   a Latin/digit run, one per character the tokenizer would drop (control characters, …), so no
//!   character is ever lost. Full-width ASCII is looked up as half-width, and a traditional
//!   character the vocabulary lacks as its simplified form (`data/t2s/`); the output keeps the
//!   user's characters. Whitespace is never a unit: it forces a word boundary.
//! * [`decode`] runs a constrained Viterbi over label log-probabilities (only valid tag sequences,
//!   forced and forbidden boundaries) and forward–backward for the probability of every boundary.
//! * [`Segmenter`] batches lines (sorted by length, windows with overlap for inputs longer than
//!   the model's positions) through a [`BertTagger`] and returns a [`Segmentation`] per line.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use candle_core::{Device, Tensor};

use crate::lexicon::WordFeatures;
use crate::model::{BertTagger, LabelScheme, ModelError, ModelFiles, Tag, VocabSource};

/// Errors while segmenting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// The tokenizer files could not be used.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl From<candle_core::Error> for SegmentError {
    fn from(e: candle_core::Error) -> Self {
        SegmentError::Model(ModelError::Candle(e))
    }
}

/// Result type of this module.
pub type Result<T> = std::result::Result<T, SegmentError>;

/// Maps full-width ASCII variants (U+FF01–FF5E) and the ideographic space to half-width, for
/// lookup only.
pub fn to_halfwidth(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// Traditional characters and their simplified forms, best first, one line each (`data/t2s/`,
/// derived from CC-CEDICT by `scripts/make-t2s.py`).
const T2S: &str = include_str!("../data/t2s/t2s.txt");

/// For each traditional character that `known` lacks: the first of its simplified forms that
/// `known` has.
fn simplified_forms(known: impl Fn(char) -> bool) -> HashMap<char, char> {
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

/// Runs `f`, turning a panic into `Err` without printing it (the panic hook stays quiet on this
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

/// Refuses a `Precompiled` normalizer whose character map does not parse (the tokenizers library
/// panics on one).
fn check_precompiled(v: &serde_json::Value) -> Result<()> {
    match v {
        serde_json::Value::Object(o) => {
            if o.get("type").and_then(|t| t.as_str()) == Some("Precompiled") {
                serde_json::from_value::<tokenizers::normalizers::Precompiled>(v.clone()).map_err(
                    |e| {
                        SegmentError::Tokenizer(format!(
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

/// One input line cut into units the tagger sees.
#[derive(Debug, Clone, PartialEq)]
pub struct Units {
    /// Token id of each unit.
    pub ids: Vec<u32>,
    /// Character range of each unit in the original line; ranges are in order and disjoint.
    pub spans: Vec<Range<usize>>,
    /// `gap[i]`: whitespace lies between unit `i-1` and unit `i` (a forced boundary). `gap[0]`
    /// is unused.
    pub gap: Vec<bool>,
    /// Token-type id of each unit: dictionary features ([`WordFeatures`]) for a model trained
    /// with them, else 0.
    pub types: Vec<u32>,
}

impl Units {
    /// Number of units.
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    /// True for a line with no units (empty or whitespace only).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// For a line of `n_chars` characters: the unit starting at each character position and the
    /// unit ending at each (`usize::MAX` where none does), so a word found in the text can be
    /// mapped to the units it covers.
    pub(crate) fn edges(&self, n_chars: usize) -> (Vec<usize>, Vec<usize>) {
        let mut start_at = vec![usize::MAX; n_chars + 1];
        let mut end_at = vec![usize::MAX; n_chars + 1];
        for (u, r) in self.spans.iter().enumerate() {
            start_at[r.start] = u;
            end_at[r.end] = u;
        }
        (start_at, end_at)
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
                let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
                    SegmentError::Tokenizer(format!("tokenizer.json: not valid JSON: {e}"))
                })?;
                check_precompiled(&json)?;
                quietly(|| tokenizers::Tokenizer::from_bytes(bytes))
                    .map_err(|_| {
                        SegmentError::Tokenizer(
                            "tokenizer.json: not a tokenizer this version of the tokenizers library can read".into(),
                        )
                    })?
                    .map_err(|e| SegmentError::Tokenizer(format!("tokenizer.json: {e}")))?
            }
            VocabSource::VocabTxt(bytes) => {
                use tokenizers::models::wordpiece::WordPiece;
                use tokenizers::normalizers::BertNormalizer;
                use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
                let vocab = WordPiece::read_bytes(bytes)
                    .map_err(|e| SegmentError::Tokenizer(format!("vocab.txt: {e}")))?;
                if vocab.is_empty() {
                    return Err(SegmentError::Tokenizer(
                        "vocab.txt: the vocabulary is empty".into(),
                    ));
                }
                let wp = WordPiece::builder()
                    .vocab(vocab)
                    .unk_token("[UNK]".into())
                    .build()
                    .map_err(|e| SegmentError::Tokenizer(format!("vocab.txt: {e}")))?;
                let mut tok = tokenizers::Tokenizer::new(wp);
                tok.with_normalizer(Some(BertNormalizer::new(true, true, None, true)))
                    .map_err(|e| SegmentError::Tokenizer(format!("vocab.txt: {e}")))?;
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
                    SegmentError::Tokenizer(format!(
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

/// Character ranges of web addresses (`scheme://…`, `www.…`) and e-mail addresses
/// (`name@host.tld`) in `chars`: runs of ASCII (or full-width ASCII) non-space characters,
/// without trailing punctuation.
fn address_spans(chars: &[char]) -> Vec<Range<usize>> {
    let ascii: Vec<char> = chars.iter().map(|&c| to_halfwidth(c)).collect();
    let word = |c: char| c.is_ascii_graphic();
    let mut out = Vec::new();
    let mut i = 0;
    while i < ascii.len() {
        if !word(ascii[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < ascii.len() && word(ascii[i]) {
            i += 1;
        }
        let mut end = i;
        while end > start
            && matches!(
                ascii[end - 1],
                '.' | ',' | ';' | ':' | '!' | '?' | ')' | '"' | '\''
            )
        {
            end -= 1;
        }
        let run: String = ascii[start..end].iter().collect();
        let web = run.contains("://") || run.to_ascii_lowercase().starts_with("www.");
        let mail = run.split_once('@').is_some_and(|(name, host)| {
            !name.is_empty() && host.contains('.') && !host.ends_with('.')
        });
        // Where the address starts inside the run: after leading brackets or quotes.
        let lead = ascii[start..end]
            .iter()
            .take_while(|c| matches!(c, '(' | '"' | '\'' | '<' | '['))
            .count();
        if (web || mail) && end > start + lead {
            out.push(start + lead..end);
        }
    }
    out
}

/// Which boundaries the decoder must keep or must not make, indexed by unit: `forced[i]` means a
/// word starts at unit `i`; `forbidden[i]` means unit `i` continues the previous word.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// A word must start at these units.
    pub forced: Vec<bool>,
    /// A word must not start at these units.
    pub forbidden: Vec<bool>,
}

impl Constraints {
    /// No constraints beyond whitespace gaps for `units`.
    pub fn from_gaps(units: &Units) -> Self {
        Self {
            forced: units.gap.clone(),
            forbidden: vec![false; units.len()],
        }
    }

    /// The constraints every line gets: whitespace gaps are boundaries, and a run of Latin
    /// letters (half- or full-width) is never cut. A vocabulary without whole Latin words
    /// tokenizes them letter by letter and the model then tags each letter, but no word splits
    /// inside "iPhone" (of the ~1,100 adjacent letter pairs in the PKU data, the gold splits one:
    /// ５６Ｋ Ｍｏｄｅｍ).
    pub fn for_line(text: &str, units: &Units) -> Self {
        let mut c = Self::from_gaps(units);
        let chars: Vec<char> = text.chars().collect();
        let letter = |i: usize| {
            chars
                .get(i)
                .is_some_and(|&ch| to_halfwidth(ch).is_ascii_alphabetic())
        };
        for i in 1..units.len() {
            let (prev, cur) = (&units.spans[i - 1], &units.spans[i]);
            if !units.gap[i] && prev.end == cur.start && letter(prev.end - 1) && letter(cur.start) {
                c.forbidden[i] = true;
            }
        }
        // Web addresses and e-mail addresses are one word each.
        let (start_at, end_at) = units.edges(chars.len());
        for r in address_spans(&chars) {
            let (a, b) = (start_at[r.start], end_at[r.end]);
            if a == usize::MAX || b == usize::MAX {
                continue;
            }
            c.mark_word(a, b);
        }
        c
    }

    /// Makes units `a..=b` one word: a boundary before `a` and after `b`, none inside.
    fn mark_word(&mut self, a: usize, b: usize) {
        self.forced[a] = true;
        self.forbidden[a] = false;
        for u in a + 1..=b {
            self.forbidden[u] = true;
            self.forced[u] = false;
        }
        if b + 1 < self.forced.len() {
            self.forced[b + 1] = true;
            self.forbidden[b + 1] = false;
        }
    }

    /// Forces the words `dict` wherever they occur in `text` (longest match first, left to
    /// right, only where the word's edges fall on unit edges and no whitespace lies inside).
    pub fn force_words(&mut self, text: &str, units: &Units, dict: &[String]) {
        if dict.is_empty() || units.is_empty() {
            return;
        }
        let chars: Vec<char> = text.chars().collect();
        let (start_at, end_at) = units.edges(chars.len());
        let mut words: Vec<Vec<char>> = dict.iter().map(|w| w.chars().collect()).collect();
        words.retain(|w| !w.is_empty());
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let mut taken = vec![false; units.len()];
        let mut pos = 0;
        while pos < chars.len() {
            let mut matched = 0;
            if start_at[pos] != usize::MAX {
                for w in &words {
                    let end = pos + w.len();
                    if end <= chars.len() && chars[pos..end] == w[..] && end_at[end] != usize::MAX {
                        let (a, b) = (start_at[pos], end_at[end]);
                        let clash = (a..=b).any(|u| taken[u])
                            || (a + 1..=b).any(|u| self.forced[u] && units.gap[u]);
                        if !clash {
                            self.mark_word(a, b);
                            for t in &mut taken[a..=b] {
                                *t = true;
                            }
                            matched = w.len();
                            break;
                        }
                    }
                }
            }
            pos += matched.max(1);
        }
    }
}

pub use crate::lexicon::Lexicon;

/// Result of decoding one line's label scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Best label id per unit.
    pub labels: Vec<usize>,
    /// `boundary_prob[i]`: posterior probability that a word starts at unit `i` (1 for unit 0).
    pub boundary_prob: Vec<f32>,
}

fn allowed_at(scheme: &LabelScheme, c: &Constraints, i: usize, l: usize, n: usize) -> bool {
    let t = scheme.tag(l);
    if i == 0 && !scheme.allowed_start(t) {
        return false;
    }
    if i + 1 == n && !scheme.allowed_end(t) {
        return false;
    }
    if c.forced.get(i).copied().unwrap_or(false) && !t.starts_word() {
        return false;
    }
    if c.forbidden.get(i).copied().unwrap_or(false) && t.starts_word() {
        return false;
    }
    true
}

/// The score of label `y` at unit `i`: log-probabilities are in [-inf, 0]; keep them finite
/// (NaN and -inf become -1e4) so a valid path always exists.
fn emission(log_probs: &[f32], l: usize, i: usize, y: usize) -> f32 {
    let v = log_probs[i * l + y];
    if v.is_nan() {
        -1e4
    } else {
        v.clamp(-1e4, 0.0)
    }
}

fn log_add(a: f32, b: f32) -> f32 {
    if a == f32::NEG_INFINITY {
        return b;
    }
    if b == f32::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

// Dynamic programming over (position, label) tables reads best with explicit indices.
#[allow(clippy::needless_range_loop)]
/// Constrained Viterbi and boundary marginals over `log_probs` (`n × scheme.len()`, row-major).
/// Constraints that cannot all hold are relaxed (forbidden first, then forced) so decoding
/// always returns a valid tag sequence.
pub fn decode(log_probs: &[f32], scheme: &LabelScheme, constraints: &Constraints) -> Decoded {
    let l = scheme.len();
    let n = log_probs.len() / l;
    if n == 0 {
        return Decoded {
            labels: vec![],
            boundary_prob: vec![],
        };
    }
    let attempt = |c: &Constraints| -> Option<Decoded> {
        let ok = |i: usize, y: usize| allowed_at(scheme, c, i, y, n);
        let trans: Vec<bool> = (0..l * l)
            .map(|k| scheme.allowed(scheme.tag(k / l), scheme.tag(k % l)))
            .collect();
        let e = |i: usize, y: usize| emission(log_probs, l, i, y);
        // Viterbi
        let mut score = vec![f32::NEG_INFINITY; n * l];
        let mut back = vec![0usize; n * l];
        for y in 0..l {
            if ok(0, y) {
                score[y] = e(0, y);
            }
        }
        for i in 1..n {
            for y in 0..l {
                if !ok(i, y) {
                    continue;
                }
                let mut best = f32::NEG_INFINITY;
                let mut arg = 0;
                for p in 0..l {
                    let s = score[(i - 1) * l + p];
                    if trans[p * l + y] && s > best {
                        best = s;
                        arg = p;
                    }
                }
                if best > f32::NEG_INFINITY {
                    score[i * l + y] = best + e(i, y);
                    back[i * l + y] = arg;
                }
            }
        }
        let (mut y, best) = (0..l)
            .map(|y| (y, score[(n - 1) * l + y]))
            .fold((0, f32::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
        if best == f32::NEG_INFINITY {
            return None;
        }
        let mut labels = vec![0; n];
        for i in (0..n).rev() {
            labels[i] = y;
            y = back[i * l + y];
        }
        // Forward–backward (log space) for boundary marginals.
        let mut alpha = vec![f32::NEG_INFINITY; n * l];
        let mut beta = vec![f32::NEG_INFINITY; n * l];
        for y in 0..l {
            if ok(0, y) {
                alpha[y] = e(0, y);
            }
        }
        for i in 1..n {
            for y in 0..l {
                if !ok(i, y) {
                    continue;
                }
                let mut acc = f32::NEG_INFINITY;
                for p in 0..l {
                    if trans[p * l + y] {
                        acc = log_add(acc, alpha[(i - 1) * l + p]);
                    }
                }
                alpha[i * l + y] = acc + e(i, y);
            }
        }
        for y in 0..l {
            if ok(n - 1, y) {
                beta[(n - 1) * l + y] = 0.0;
            }
        }
        for i in (0..n - 1).rev() {
            for y in 0..l {
                if !ok(i, y) {
                    continue;
                }
                let mut acc = f32::NEG_INFINITY;
                for nx in 0..l {
                    if trans[y * l + nx] {
                        acc = log_add(acc, beta[(i + 1) * l + nx] + e(i + 1, nx));
                    }
                }
                beta[i * l + y] = acc;
            }
        }
        let z = (0..l).fold(f32::NEG_INFINITY, |a, y| log_add(a, alpha[(n - 1) * l + y]));
        let boundary_prob = (0..n)
            .map(|i| {
                let mut b = f32::NEG_INFINITY;
                for y in 0..l {
                    if scheme.tag(y).starts_word() {
                        b = log_add(b, alpha[i * l + y] + beta[i * l + y]);
                    }
                }
                ((b - z).exp()).clamp(0.0, 1.0)
            })
            .collect();
        Some(Decoded {
            labels,
            boundary_prob,
        })
    };
    if let Some(d) = attempt(constraints) {
        return d;
    }
    let relaxed = Constraints {
        forced: constraints.forced.clone(),
        forbidden: vec![],
    };
    if let Some(d) = attempt(&relaxed) {
        return d;
    }
    attempt(&Constraints::default()).expect("unconstrained decoding always has a path")
}

/// One of the k best segmentations of a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    /// Best label id per unit for this path.
    pub labels: Vec<usize>,
    /// Posterior probability of this exact tag sequence under the constraints.
    pub prob: f32,
}

/// The `k` best valid tag sequences (list Viterbi), best first, each with its posterior
/// probability (its score over the sum over all valid sequences).
#[allow(clippy::needless_range_loop)]
pub fn kbest(
    log_probs: &[f32],
    scheme: &LabelScheme,
    constraints: &Constraints,
    k: usize,
) -> Vec<Alternative> {
    let l = scheme.len();
    let n = log_probs.len() / l;
    if n == 0 || k == 0 {
        return vec![];
    }
    let e = |i: usize, y: usize| emission(log_probs, l, i, y);
    let ok = |i: usize, y: usize| allowed_at(scheme, constraints, i, y, n);
    // lists[i][y]: up to k (score, prev label, prev rank), best first.
    let mut lists: Vec<Vec<Vec<(f32, usize, usize)>>> = vec![vec![Vec::new(); l]; n];
    for y in 0..l {
        if ok(0, y) {
            lists[0][y].push((e(0, y), 0, 0));
        }
    }
    for i in 1..n {
        for y in 0..l {
            if !ok(i, y) {
                continue;
            }
            let mut cands: Vec<(f32, usize, usize)> = Vec::new();
            for p in 0..l {
                if !scheme.allowed(scheme.tag(p), scheme.tag(y)) {
                    continue;
                }
                for (r, &(s, _, _)) in lists[i - 1][p].iter().enumerate() {
                    cands.push((s + e(i, y), p, r));
                }
            }
            cands.sort_by(|a, b| b.0.total_cmp(&a.0));
            cands.truncate(k);
            lists[i][y] = cands;
        }
    }
    let mut finals: Vec<(f32, usize, usize)> = Vec::new();
    for y in 0..l {
        for (r, &(s, _, _)) in lists[n - 1][y].iter().enumerate() {
            finals.push((s, y, r));
        }
    }
    finals.sort_by(|a, b| b.0.total_cmp(&a.0));
    finals.truncate(k);
    // log Z over all valid paths (forward algorithm) turns scores into probabilities.
    let mut alpha: Vec<f32> = (0..l)
        .map(|y| if ok(0, y) { e(0, y) } else { f32::NEG_INFINITY })
        .collect();
    for i in 1..n {
        let mut next = vec![f32::NEG_INFINITY; l];
        for y in 0..l {
            if !ok(i, y) {
                continue;
            }
            let mut acc = f32::NEG_INFINITY;
            for p in 0..l {
                if scheme.allowed(scheme.tag(p), scheme.tag(y)) {
                    acc = log_add(acc, alpha[p]);
                }
            }
            next[y] = acc + e(i, y);
        }
        alpha = next;
    }
    let z = alpha.iter().fold(f32::NEG_INFINITY, |a, &b| log_add(a, b));
    finals
        .into_iter()
        .map(|(score, y, r)| {
            let mut labels = vec![0; n];
            let (mut y, mut r) = (y, r);
            for i in (0..n).rev() {
                labels[i] = y;
                let (_, py, pr) = lists[i][y][r];
                y = py;
                r = pr;
            }
            Alternative {
                labels,
                prob: (score - z).exp().clamp(0.0, 1.0),
            }
        })
        .collect()
}

/// One word of a segmentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word's characters exactly as typed.
    pub text: String,
    /// Character range in the line.
    pub chars: Range<usize>,
    /// Byte range in the line.
    pub bytes: Range<usize>,
}

/// A possible word boundary between two units and the model's belief in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    /// Character position of the boundary in the line.
    pub at: usize,
    /// Probability that a word boundary is here.
    pub prob: f32,
    /// Whether the decoded segmentation splits here.
    pub split: bool,
    /// Whether whitespace or a constraint decided it rather than the model.
    pub forced: bool,
}

/// The one value every consumer reads: a line, its words, and the belief in every boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    /// The input line, unchanged.
    pub text: String,
    /// The words in order; the text between consecutive words is whitespace only.
    pub words: Vec<Word>,
    /// Every place between two adjacent units, in order.
    pub boundaries: Vec<Boundary>,
    /// Per-unit label log-probabilities (`units × labels`), kept for k-best and explanation.
    pub log_probs: Vec<f32>,
    /// The units the model saw.
    pub units: Units,
}

impl Segmentation {
    /// The words as strings.
    pub fn word_strs(&self) -> Vec<&str> {
        self.words.iter().map(|w| w.text.as_str()).collect()
    }

    /// Up to `k` segmentations other than the chosen one, most probable first, as word lists
    /// with their posterior probability (from [`kbest`] over the same scores).
    pub fn alternatives(&self, scheme: &LabelScheme, k: usize) -> Vec<(Vec<String>, f32)> {
        let mut c = Constraints::from_gaps(&self.units);
        // Keep the chosen segmentation's forced words forced in the alternatives too.
        for (i, b) in self.boundaries.iter().enumerate() {
            if b.forced {
                if b.split {
                    c.forced[i + 1] = true;
                } else {
                    c.forbidden[i + 1] = true;
                }
            }
        }
        let best = self.word_strs();
        kbest(&self.log_probs, scheme, &c, k + 1)
            .into_iter()
            .map(|a| (self.words_for(&a.labels, scheme), a.prob))
            .filter(|(w, _)| w.iter().map(String::as_str).ne(best.iter().copied()))
            .take(k)
            .collect()
    }

    /// The words a label sequence over this line's units makes.
    pub fn words_for(&self, labels: &[usize], scheme: &LabelScheme) -> Vec<String> {
        let chars: Vec<char> = self.text.chars().collect();
        let mut words = Vec::new();
        let mut start: Option<usize> = None;
        let mut end = 0;
        for (i, span) in self.units.spans.iter().enumerate() {
            let starts = i == 0
                || self.units.gap[i]
                || labels.get(i).is_some_and(|&l| scheme.tag(l).starts_word());
            if starts {
                if let Some(s) = start {
                    words.push(chars[s..end].iter().collect());
                }
                start = Some(span.start);
            }
            end = span.end;
        }
        if let Some(s) = start {
            words.push(chars[s..end].iter().collect());
        }
        words
    }

    /// Decodes `log_probs` (`units × labels`) over `units` of `text` into a segmentation.
    pub fn from_scores(
        text: &str,
        units: Units,
        log_probs: Vec<f32>,
        scheme: &LabelScheme,
        c: &Constraints,
    ) -> Self {
        let d = decode(&log_probs, scheme, c);
        let char_bytes: Vec<usize> = text
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(text.len()))
            .collect();
        let mut words = Vec::new();
        let mut boundaries = Vec::new();
        let mut start: Option<usize> = None;
        let mut end = 0;
        for (i, span) in units.spans.iter().enumerate() {
            let starts = i == 0 || scheme.tag(d.labels[i]).starts_word();
            if i > 0 {
                boundaries.push(Boundary {
                    at: span.start,
                    prob: d.boundary_prob[i],
                    split: starts,
                    forced: c.forced.get(i).copied().unwrap_or(false)
                        || c.forbidden.get(i).copied().unwrap_or(false),
                });
            }
            if starts {
                if let Some(s) = start {
                    words.push(Word {
                        text: text[char_bytes[s]..char_bytes[end]].to_string(),
                        chars: s..end,
                        bytes: char_bytes[s]..char_bytes[end],
                    });
                }
                start = Some(span.start);
            }
            end = span.end;
        }
        if let Some(s) = start {
            words.push(Word {
                text: text[char_bytes[s]..char_bytes[end]].to_string(),
                chars: s..end,
                bytes: char_bytes[s]..char_bytes[end],
            });
        }
        Segmentation {
            text: text.to_string(),
            words,
            boundaries,
            log_probs,
            units,
        }
    }
}

/// A tagger plus its tokenizer: lines in, [`Segmentation`]s out.
#[derive(Debug, Clone)]
pub struct Segmenter {
    model: BertTagger,
    tok: CharTokenizer,
    /// Longest window in units ([CLS]/[SEP] excluded).
    window: usize,
    /// Units shared by consecutive windows of a long line.
    overlap: usize,
    /// Upper bound on padded tokens per forward pass.
    batch_tokens: usize,
    /// Words forced at decode time (the user dictionary).
    dict: Vec<String>,
    /// A soft word prior (e.g. CC-CEDICT idioms).
    lexicon: Option<std::sync::Arc<Lexicon>>,
    /// Batches run at once, each on its own thread.
    workers: usize,
}

impl Segmenter {
    /// Builds a segmenter from loaded model files.
    pub fn new(files: &ModelFiles) -> Result<Self> {
        // Name the model the vocabulary belongs to: "DIR/tokenizer.json: …".
        let tok = CharTokenizer::new(&files.vocab)
            .map_err(|e| match e {
                SegmentError::Tokenizer(m) => {
                    SegmentError::Tokenizer(format!("{}/{m}", files.source))
                }
                e => e,
            })?
            .with_features(files.features.clone());
        if tok.id_bound() > files.config.vocab_size {
            return Err(SegmentError::Model(ModelError::BadWeights {
                file: files.source.clone(),
                message: format!(
                    "the tokenizer has ids up to {} but config.json says vocab_size {}",
                    tok.id_bound() - 1,
                    files.config.vocab_size
                ),
            }));
        }
        let model = BertTagger::from_tensors(&files.config, &files.tensors, true)?;
        Ok(Self::from_parts(model, tok))
    }

    /// Builds a segmenter around an existing tagger (e.g. one being trained).
    pub fn from_parts(model: BertTagger, tok: CharTokenizer) -> Self {
        let window = model
            .config()
            .max_position_embeddings
            .saturating_sub(2)
            .max(1);
        Self {
            overlap: (window / 4).min(32),
            window,
            model,
            tok,
            batch_tokens: 2048,
            dict: Vec::new(),
            lexicon: None,
            workers: 1,
        }
    }

    /// Runs up to `n` batches at once, each on its own thread (default 1). For throughput on
    /// many lines, pair it with candle's op threads set to 1 (`RAYON_NUM_THREADS=1`), as
    /// `fenci segment` and `fenci eval` do: threading inside one forward pass spends much of its
    /// time at barriers on tensors this small (4.9 s → 4.1 s on the test split, 2 cores).
    pub fn set_workers(&mut self, n: usize) {
        self.workers = n.max(1);
    }

    /// Sets the arithmetic of the tagger's matrix products; false (F32 kept) where this CPU or
    /// model cannot run `p`. See [`crate::kernels::Precision`].
    pub fn set_precision(&mut self, p: crate::kernels::Precision) -> bool {
        self.model.set_precision(p)
    }

    /// Sets (or clears) the soft word prior applied at decode time.
    pub fn set_lexicon(&mut self, lexicon: Option<std::sync::Arc<Lexicon>>) {
        self.lexicon = lexicon;
    }

    /// Sets the words to force at decode time.
    pub fn set_dict(&mut self, words: Vec<String>) {
        self.dict = words;
    }

    /// The tagger.
    pub fn model(&self) -> &BertTagger {
        &self.model
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &CharTokenizer {
        &self.tok
    }

    /// Sets the longest window (for tests of long-input handling).
    pub fn set_window(&mut self, window: usize, overlap: usize) {
        let max = self
            .model
            .config()
            .max_position_embeddings
            .saturating_sub(2)
            .max(1);
        self.window = window.clamp(1, max);
        self.overlap = overlap.min(self.window / 2);
    }

    /// Segments one line.
    pub fn segment(&self, text: &str) -> Result<Segmentation> {
        Ok(self.segment_batch(&[text])?.pop().expect("one result"))
    }

    /// Segments many lines at once (faster: they share forward passes).
    pub fn segment_batch<S: AsRef<str>>(&self, lines: &[S]) -> Result<Vec<Segmentation>> {
        let units: Vec<Units> = lines.iter().map(|l| self.tok.units(l.as_ref())).collect();
        let log_probs = self.label_log_probs(&units)?;
        let scheme = self.model.labels();
        Ok(lines
            .iter()
            .zip(units)
            .zip(log_probs)
            .map(|((line, u), mut lp)| {
                if let Some(lex) = &self.lexicon {
                    lex.apply(line.as_ref(), &u, scheme, &mut lp);
                }
                let mut c = Constraints::for_line(line.as_ref(), &u);
                c.force_words(line.as_ref(), &u, &self.dict);
                Segmentation::from_scores(line.as_ref(), u, lp, scheme, &c)
            })
            .collect())
    }

    /// Label log-probabilities per unit for each line (`units × labels`, row-major).
    pub fn label_log_probs(&self, lines: &[Units]) -> Result<Vec<Vec<f32>>> {
        let nl = self.model.labels().len();
        // Cut every line into windows: (line, start, len, own_start, own_end).
        let mut windows = Vec::new();
        for (li, u) in lines.iter().enumerate() {
            let n = u.len();
            if n == 0 {
                continue;
            }
            if n <= self.window {
                windows.push((li, 0, n, 0, n));
                continue;
            }
            let stride = (self.window - self.overlap).max(1);
            let mut s = 0;
            loop {
                let e = (s + self.window).min(n);
                let own_s = if s == 0 { 0 } else { s + self.overlap / 2 };
                let own_e = if e == n {
                    n
                } else {
                    e - (self.overlap - self.overlap / 2)
                };
                windows.push((li, s, e - s, own_s, own_e));
                if e == n {
                    break;
                }
                s += stride;
            }
        }
        let mut out: Vec<Vec<f32>> = lines.iter().map(|u| vec![0.0; u.len() * nl]).collect();
        // Longest first, so each batch pads little.
        windows.sort_by_key(|w| std::cmp::Reverse(w.2));
        let mut batches = Vec::new();
        let mut i = 0;
        while i < windows.len() {
            let rows = (self.batch_tokens / (windows[i].2 + 2)).clamp(1, 256);
            let end = (i + rows).min(windows.len());
            batches.push(&windows[i..end]);
            i = end;
        }
        // Whole batches run side by side, one per worker thread (see `set_workers`).
        let workers = self.workers.clamp(1, batches.len().max(1));
        let results: Vec<Result<Vec<f32>>> = if workers > 1 {
            // Each worker takes the next batch until none is left and returns what it did.
            let next = std::sync::atomic::AtomicUsize::new(0);
            let mut done: Vec<(usize, Result<Vec<f32>>)> = std::thread::scope(|sc| {
                let handles: Vec<_> = (0..workers)
                    .map(|_| {
                        sc.spawn(|| {
                            let mut mine = Vec::new();
                            loop {
                                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some(batch) = batches.get(k) else {
                                    break mine;
                                };
                                mine.push((k, self.batch_log_probs(lines, batch)));
                            }
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            });
            done.sort_by_key(|(k, _)| *k);
            done.into_iter().map(|(_, r)| r).collect()
        } else {
            batches
                .iter()
                .map(|b| self.batch_log_probs(lines, b))
                .collect()
        };
        for (batch, lp) in batches.iter().zip(results) {
            let lp = lp?;
            let t = batch[0].2 + 2;
            for (r, &(li, s, _, own_s, own_e)) in batch.iter().enumerate() {
                for u in own_s..own_e {
                    let src = (r * t + 1 + (u - s)) * nl;
                    out[li][u * nl..(u + 1) * nl].copy_from_slice(&lp[src..src + nl]);
                }
            }
        }
        Ok(out)
    }

    /// Log-probabilities (`rows × (longest + 2) × labels`, flat) of one batch of windows
    /// `(line, start, len, …)`, longest first.
    fn batch_log_probs(
        &self,
        lines: &[Units],
        batch: &[(usize, usize, usize, usize, usize)],
    ) -> Result<Vec<f32>> {
        let t = batch[0].2 + 2;
        let mut ids = vec![self.tok.pad; batch.len() * t];
        let mut types = vec![0u32; batch.len() * t];
        let mut mask = vec![0f32; batch.len() * t];
        for (r, &(li, s, len, _, _)) in batch.iter().enumerate() {
            let row = &mut ids[r * t..(r + 1) * t];
            row[0] = self.tok.cls;
            row[1..=len].copy_from_slice(&lines[li].ids[s..s + len]);
            row[len + 1] = self.tok.sep;
            types[r * t + 1..r * t + 1 + len].copy_from_slice(&lines[li].types[s..s + len]);
            mask[r * t..r * t + len + 2].fill(1.0);
        }
        let ids = Tensor::from_vec(ids, (batch.len(), t), &Device::Cpu)?;
        let types = Tensor::from_vec(types, (batch.len(), t), &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, (batch.len(), t), &Device::Cpu)?;
        let logits = self.model.forward(&ids, &types, &mask, None)?;
        let lp = candle_nn::ops::log_softmax(&logits, candle_core::D::Minus1)?;
        Ok(lp.flatten_all()?.to_vec1()?)
    }
}

/// The tags of `words` over `units` of their joined text: each unit is tagged by whether a word
/// starts at its first character and ends at its last.
pub fn gold_labels(units: &Units, words: &[&str], scheme: &LabelScheme) -> Vec<usize> {
    let mut starts = std::collections::HashSet::new();
    let mut ends = std::collections::HashSet::new();
    let mut pos = 0;
    for w in words {
        starts.insert(pos);
        pos += w.chars().count();
        ends.insert(pos);
    }
    units
        .spans
        .iter()
        .map(|r| {
            let t = match (starts.contains(&r.start), ends.contains(&r.end)) {
                (true, true) => Tag::Single,
                (true, false) => Tag::Begin,
                (false, true) => Tag::End,
                (false, false) => Tag::Middle,
            };
            scheme.id(t)
        })
        .collect()
}
