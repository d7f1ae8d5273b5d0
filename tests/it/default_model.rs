//! The built-in default model: it loads, segments everyday sentences sensibly, and its files
//! match the checksums in its model card.
use fenci::model::{embedded, ModelFiles};
use fenci::segment::Segmenter;
use sha2::{Digest, Sha256};

#[test]
fn shipped_files_match_the_model_card() {
    let card = include_str!("../../models/default/README.md");
    let mut seen = 0;
    for line in card.lines() {
        let mut parts = line.split_whitespace();
        let (Some(hash), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        let bytes: &[u8] = match name {
            "config.json" => embedded::CONFIG.as_bytes(),
            "vocab.txt" => embedded::VOCAB,
            "model.safetensors" => embedded::WEIGHTS,
            other => panic!("model card lists an unknown file {other}"),
        };
        let got = format!("{:x}", Sha256::digest(bytes));
        assert_eq!(got, hash, "{name} does not match the model card");
        seen += 1;
    }
    assert_eq!(
        seen, 3,
        "the model card must list config.json, vocab.txt and model.safetensors"
    );
}

#[test]
fn segments_everyday_sentences() {
    let seg = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    // Sentences written for this test (not from the training data).
    let cases = [("我爱北京天安门", "我 爱 北京 天安门")];
    for (text, want) in cases {
        let got = seg.segment(text).unwrap().word_strs().join(" ");
        assert_eq!(got, want, "{text}");
    }
}
