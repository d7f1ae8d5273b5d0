//! The PKU part-of-speech tag set, as a learner reads it: a short label for the word chip
//! ([`pos_label`]) and a one-line meaning for the word card ([`pos_meaning`]).
//!
//! Source: the tag set of the Peking University People's Daily corpus, as defined in 俞士汶,
//! 段慧明, 朱学锋, 孙斌, 常宝宝, 《北大语料库加工规范：切分·词性标注·注音》(Specification for
//! Corpus Processing at Peking University: Word Segmentation, POS Tagging and Phonetic
//! Notation), 《汉语语言与计算学报》13(2), 2003, describing the 1998 annotation. The learner
//! labels and meanings are fenci's wording of those definitions. Tags are matched exactly
//! (`Ng`, `Vg` … are capitalised as in the corpus); unknown tags have no label.

/// Every PKU tag: (tag, short learner label, one-line meaning).
const TAGS: &[(&str, &str, &str)] = &[
    ("n", "noun", "noun (名词)"),
    ("v", "verb", "verb (动词)"),
    ("w", "punctuation", "punctuation mark (标点符号)"),
    (
        "u",
        "particle",
        "structural or aspect particle: 的, 地, 得, 了, 着, 过 (助词)",
    ),
    ("d", "adverb", "adverb (副词)"),
    ("vn", "verbal noun", "verb used as a noun (名动词)"),
    ("m", "numeral", "numeral or number (数词)"),
    (
        "p",
        "preposition",
        "preposition or coverb: 在, 把, 被, 从, 对 (介词)",
    ),
    ("nr", "name", "personal name (人名)"),
    ("a", "adjective", "adjective (形容词)"),
    (
        "r",
        "pronoun",
        "pronoun, including demonstratives: 我, 这, 什么 (代词)",
    ),
    ("ns", "place name", "place name (地名)"),
    ("c", "conjunction", "conjunction: 和, 但是, 因为 (连词)"),
    (
        "q",
        "measure word",
        "measure word / classifier: 个, 本, 张 (量词)",
    ),
    ("t", "time word", "time word: 今天, 现在, 春天 (时间词)"),
    (
        "f",
        "direction word",
        "direction or position word: 上, 里, 前面 (方位词)",
    ),
    ("j", "abbreviation", "abbreviation (简称略语)"),
    (
        "b",
        "attributive",
        "non-predicate adjective, only before a noun: 男, 大型 (区别词)",
    ),
    (
        "ad",
        "adverbial adjective",
        "adjective used as an adverb (副形词)",
    ),
    ("l", "set phrase", "fixed expression (习用语)"),
    ("i", "idiom", "idiom, usually four characters (成语)"),
    (
        "Ng",
        "noun morpheme",
        "noun morpheme, not a free word (名语素)",
    ),
    ("s", "place word", "place word: 家里, 附近 (处所词)"),
    (
        "nz",
        "proper noun",
        "other proper noun: brands, titles (其他专名)",
    ),
    ("nt", "organisation", "name of an organisation (机构团体)"),
    ("an", "adjectival noun", "adjective used as a noun (名形词)"),
    (
        "y",
        "modal particle",
        "sentence-final modal particle: 吗, 呢, 吧 (语气词)",
    ),
    (
        "Vg",
        "verb morpheme",
        "verb morpheme, not a free word (动语素)",
    ),
    (
        "z",
        "descriptive",
        "descriptive (state) adjective: 红红的, 雪白 (状态词)",
    ),
    ("k", "suffix", "suffix: 们, 性, 者 (后接成分)"),
    ("vd", "adverbial verb", "verb used as an adverb (副动词)"),
    (
        "nx",
        "foreign word",
        "non-Chinese string: letters, symbols (外文字符)",
    ),
    (
        "Tg",
        "time morpheme",
        "time morpheme, not a free word (时语素)",
    ),
    (
        "Ag",
        "adjective morpheme",
        "adjective morpheme, not a free word (形语素)",
    ),
    (
        "Dg",
        "adverb morpheme",
        "adverb morpheme, not a free word (副语素)",
    ),
    ("o", "onomatopoeia", "onomatopoeia: 哗哗, 砰 (拟声词)"),
    ("h", "prefix", "prefix: 阿, 老, 非 (前接成分)"),
    ("e", "interjection", "interjection: 啊, 哎, 哦 (叹词)"),
    (
        "Rg",
        "pronoun morpheme",
        "pronoun morpheme, not a free word (代语素)",
    ),
    (
        "Bg",
        "attributive morpheme",
        "non-predicate adjective morpheme (区别语素)",
    ),
    (
        "Mg",
        "numeral morpheme",
        "numeral morpheme, not a free word (数语素)",
    ),
];

/// Every tag of the PKU set, in the order of [`TAGS`] (by frequency in the corpus).
pub fn pos_tags() -> impl Iterator<Item = &'static str> {
    TAGS.iter().map(|t| t.0)
}

/// The short learner label of a PKU tag (`q` → `measure word`); `None` for an unknown tag.
pub fn pos_label(tag: &str) -> Option<&'static str> {
    TAGS.iter().find(|t| t.0 == tag).map(|t| t.1)
}

/// A one-line meaning of a PKU tag for the word card; `None` for an unknown tag.
pub fn pos_meaning(tag: &str) -> Option<&'static str> {
    TAGS.iter().find(|t| t.0 == tag).map(|t| t.2)
}

/// The coarse class of a tag, for reading and sense rules: the names (`nr ns nt nz`) stay
/// apart, the rest fold to their head letter (`vn vd Vg` → `v`, `ad an Ag` → `a`, `Ng` →
/// `n`, `Tg` → `t`, `Dg` → `d`, `Rg` → `r`, `Mg` → `m`, `Bg` → `b`); `j` (abbreviations) counts
/// as `n`, `l` (set phrases) as `i`.
pub(super) fn coarse(tag: &str) -> &str {
    match tag {
        "nr" | "ns" | "nt" | "nz" | "nx" => tag,
        "j" => "n",
        "l" => "i",
        _ => {
            let first = tag.char_indices().nth(1).map_or(tag.len(), |(i, _)| i);
            match tag.get(..first) {
                Some("N") => "n",
                Some("V") => "v",
                Some("A") => "a",
                Some("T") => "t",
                Some("D") => "d",
                Some("R") => "r",
                Some("M") => "m",
                Some("B") => "b",
                Some(s) => s,
                None => tag,
            }
        }
    }
}

/// Whether a tag says the word is a proper name (person, place, organisation, other).
pub(super) fn is_name_tag(tag: &str) -> bool {
    matches!(tag, "nr" | "ns" | "nt" | "nz")
}
