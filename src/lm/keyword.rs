//! Keyword LMs: fenci's own LM trained on `word → sentence` pairs, so a sentence is written
//! around the word from its first token instead of having the word spliced in.
//!
//! One sequence is `<|endoftext|> <|im_start|> word <|im_end|> sentence <|endoftext|>`;
//! [`keyword_prompt`] builds the part before the sentence for training and generation alike, and
//! a config with `"fenci_keyword_lm": true` says a model was trained that way. Its
//! `"fenci_example_floor"` (optional) is the mean log-probability per token below which the
//! model's own sentences are, as read, mostly not fit for a class: fenci shows none below it.

use tokenizers::Tokenizer;

use super::{LmFiles, EOS, IM_END, IM_START};

/// Config key set on an LM trained on keyword pairs.
pub const KEYWORD_LM: &str = "fenci_keyword_lm";

/// Config key: the lowest mean log-probability per token of an example fenci shows.
pub const EXAMPLE_FLOOR: &str = "fenci_example_floor";

/// How a keyword pair is written in a training-text line: `word<TAB>sentence`.
pub const PAIR_SEP: char = '\t';

/// The ids before the sentence: end-of-text, `<|im_start|>`, the word, `<|im_end|>`. `None`
/// when the tokenizer lacks one of the markers or cannot encode the word.
pub fn keyword_prompt(tok: &Tokenizer, word: &str) -> Option<Vec<u32>> {
    let (eos, start, end) = (
        tok.token_to_id(EOS)?,
        tok.token_to_id(IM_START)?,
        tok.token_to_id(IM_END)?,
    );
    let enc = tok.encode(word, false).ok()?;
    if enc.get_ids().is_empty() {
        return None;
    }
    let mut ids = vec![eos, start];
    ids.extend_from_slice(enc.get_ids());
    ids.push(end);
    Some(ids)
}

/// Whether `files` is a keyword LM (its config says so and its tokenizer has the markers).
pub fn is_keyword_lm(files: &LmFiles) -> bool {
    let flagged = serde_json::from_str::<serde_json::Value>(&files.config_json)
        .ok()
        .and_then(|v| v.get(KEYWORD_LM).and_then(|b| b.as_bool()))
        .unwrap_or(false);
    flagged && keyword_prompt(&files.tokenizer, "的").is_some()
}

/// The model's example floor ([`EXAMPLE_FLOOR`]), when its config sets a finite one.
pub fn example_floor(files: &LmFiles) -> Option<f64> {
    serde_json::from_str::<serde_json::Value>(&files.config_json)
        .ok()?
        .get(EXAMPLE_FLOOR)?
        .as_f64()
        .filter(|f| f.is_finite())
}

/// `files` with the keyword flag set in its config (after training on pairs).
pub fn mark_keyword_lm(files: &LmFiles) -> super::Result<LmFiles> {
    let mut v: serde_json::Value =
        serde_json::from_str(&files.config_json).map_err(|e| super::LmError::BadConfig {
            file: format!("{}/config.json", files.source),
            message: e.to_string(),
        })?;
    v[KEYWORD_LM] = serde_json::Value::Bool(true);
    let mut out = files.clone();
    out.config_json = serde_json::to_string_pretty(&v).expect("a JSON value serializes");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_wraps_the_word_in_the_markers() {
        let files = LmFiles::embedded().unwrap();
        let tok = &files.tokenizer;
        let ids = keyword_prompt(tok, "学习").unwrap();
        let id = |t: &str| tok.token_to_id(t).unwrap();
        assert_eq!(ids.len(), 5);
        assert_eq!(ids[0], id(EOS));
        assert_eq!(ids[1], id(IM_START));
        assert_eq!(ids[4], id(IM_END));
        assert_eq!(
            tok.decode(&ids[2..4], true).unwrap().replace(' ', ""),
            "学习"
        );
        assert!(keyword_prompt(tok, "").is_none());
    }

    #[test]
    fn the_floor_is_read_from_the_config() {
        let mut files = LmFiles::embedded().unwrap();
        assert_eq!(example_floor(&files), Some(-0.8), "the built-in LM's floor");
        let mut v: serde_json::Value = serde_json::from_str(&files.config_json).unwrap();
        v.as_object_mut().unwrap().remove(EXAMPLE_FLOOR);
        files.config_json = v.to_string();
        assert_eq!(example_floor(&files), None);
        v[EXAMPLE_FLOOR] = serde_json::Value::String("low".into());
        files.config_json = v.to_string();
        assert_eq!(example_floor(&files), None, "not a number: no floor");
    }

    #[test]
    fn marking_sets_the_flag_and_nothing_else() {
        let mut files = LmFiles::embedded().unwrap();
        // The built-in LM is a keyword LM: start from its config without the flag.
        let mut a: serde_json::Value = serde_json::from_str(&files.config_json).unwrap();
        a.as_object_mut().unwrap().remove(KEYWORD_LM);
        files.config_json = a.to_string();
        assert!(!is_keyword_lm(&files));
        let marked = mark_keyword_lm(&files).unwrap();
        let mut b: serde_json::Value = serde_json::from_str(&marked.config_json).unwrap();
        assert_eq!(b[KEYWORD_LM], serde_json::Value::Bool(true));
        b.as_object_mut().unwrap().remove(KEYWORD_LM);
        assert_eq!(a, b);
        assert!(is_keyword_lm(&marked));
    }
}
