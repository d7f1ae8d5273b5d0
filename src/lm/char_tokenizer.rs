//! The char-level tokenizer of fenci's own LM, built with the `tokenizers` crate.

use std::collections::HashMap;

use serde_json::Value;
use tokenizers::Tokenizer;

use super::{tokenizer_from_bytes, LmError, Result, EOS, IM_END, IM_START, PAD, UNK};

/// Builds a char-level `tokenizer.json` with the `tokenizers` crate: NFKC (full-width forms
/// become half-width), one token per character seen at least `min_count` times in `texts`,
/// `<unk>` for the rest; decoding concatenates. Ids: 0 `<|endoftext|>`, 1 `<unk>`, 2 `<pad>`,
/// 3 `<|im_start|>`, 4 `<|im_end|>`, then characters by frequency.
pub fn char_tokenizer<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    min_count: usize,
) -> Result<Tokenizer> {
    use tokenizers::normalizers::unicode::NFKC;
    use tokenizers::{NormalizedString, Normalizer};
    let mut counts: HashMap<char, usize> = HashMap::new();
    for t in texts {
        let mut n = NormalizedString::from(t);
        NFKC.normalize(&mut n).map_err(|e| LmError::Tokenizer {
            file: "tokenizer.json".into(),
            message: e.to_string(),
        })?;
        for c in n.get().chars() {
            if !c.is_control() {
                *counts.entry(c).or_default() += 1;
            }
        }
    }
    let mut chars: Vec<(char, usize)> = counts
        .into_iter()
        .filter(|&(_, n)| n >= min_count.max(1))
        .collect();
    chars.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let specials = [EOS, UNK, PAD, IM_START, IM_END];
    let mut vocab = serde_json::Map::new();
    for (i, s) in specials.iter().enumerate() {
        vocab.insert(s.to_string(), Value::from(i));
    }
    for (c, _) in chars {
        let id = vocab.len();
        vocab.entry(c.to_string()).or_insert(Value::from(id));
    }
    let added: Vec<Value> = specials
        .iter()
        .enumerate()
        .map(|(i, s)| {
            serde_json::json!({"id": i, "content": s, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let json = serde_json::json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "NFKC"},
        "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?s)."},
            "behavior": "Isolated", "invert": false},
        "post_processor": null,
        "decoder": {"type": "Fuse"},
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": UNK},
    });
    tokenizer_from_bytes(json.to_string().as_bytes(), "tokenizer.json")
}
