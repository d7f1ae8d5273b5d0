//! Fixtures built in code: a small vocabulary, tiny random models, a toy corpus.
#![allow(dead_code)]

use fenci::tagger::{LabelScheme, ModelFiles, VocabSource};
use fenci::train;

/// Characters of the toy corpus, plus a few for property tests.
pub const CJK: &str = "我你他她们是的了在有人这中大来上国个到说和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从实工动现理高明长把产点儿爱北京天安门喜欢学习研究中文电影音乐数学老师学生朋友今明昨吃饭喝茶书";

/// A BERT vocab.txt over [`CJK`], ASCII letters and digits (plain and `##`).
pub fn vocab_txt() -> Vec<u8> {
    let mut v: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut seen = std::collections::HashSet::new();
    for c in CJK.chars() {
        if seen.insert(c) {
            v.push(c.to_string());
        }
    }
    for c in ('a'..='z').chain('0'..='9') {
        v.push(c.to_string());
    }
    for c in ('a'..='z').chain('0'..='9') {
        v.push(format!("##{c}"));
    }
    for p in ["，", "。", "！", "？", ",", ".", "!", "?"] {
        v.push(p.to_string());
    }
    let mut s = v.join("\n");
    s.push('\n');
    s.into_bytes()
}

/// A tiny random tagger over [`vocab_txt`].
pub fn tiny_model(
    scheme: &LabelScheme,
    layers: usize,
    hidden: usize,
    max_pos: usize,
    seed: u64,
) -> ModelFiles {
    train::fresh_model(
        VocabSource::VocabTxt(vocab_txt()),
        layers,
        hidden,
        2,
        max_pos,
        scheme,
        seed,
    )
    .expect("fresh model")
}

/// A toy gold corpus: `n` sentences of subject + verb + object (+ particle), deterministic.
pub fn toy_corpus(n: usize) -> Vec<Vec<String>> {
    let subj = ["我", "你", "他们", "老师", "学生", "朋友", "我们"];
    let verb = ["喜欢", "学习", "研究", "看", "爱", "吃", "喝"];
    let obj = [
        "中文",
        "电影",
        "音乐",
        "数学",
        "北京",
        "天安门",
        "饭",
        "茶",
        "书",
    ];
    let tail = ["", "了", "。"];
    let mut out = Vec::new();
    let mut k = 7usize;
    while out.len() < n {
        k = k.wrapping_mul(1103515245).wrapping_add(12345) % (1 << 31);
        let s = subj[k % subj.len()];
        let v = verb[(k / 7) % verb.len()];
        let o = obj[(k / 49) % obj.len()];
        let t = tail[(k / 441) % tail.len()];
        let mut words = vec![s.to_string(), v.to_string(), o.to_string()];
        if !t.is_empty() {
            words.push(t.to_string());
        }
        if !out.contains(&words) {
            out.push(words);
        }
    }
    out
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Writes a model to `dir` in the HF layout.
pub fn write_model(m: &ModelFiles, dir: &std::path::Path) {
    m.save_dir(dir, false).expect("save model");
}
