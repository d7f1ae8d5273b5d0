//! Unit tests: line parsing, tone marks, lookup and ranking, glosses and explanations (with
//! property tests that nothing panics).

use super::dictionary::{load_embedded, CEDICT_GZ};
use super::gloss::{clean_sense, cut_at_word, join_cut};
use super::*;
use proptest::prelude::*;

const SMALL: &str = "\
# CC-CEDICT sample
#! version=1

中國 中国 [Zhong1 guo2] /China/
北京 北京 [Bei3 jing1] /Beijing, capital of the People's Republic of China/
了 了 [liao3] /to finish/to achieve/variant of 瞭|了[liao3]/to understand clearly/
了 了 [le5] /(completed action marker)/(modal particle indicating change of state, situation now)/
的 的 [di1] /a taxi; a cab (abbr. for 的士[di1 shi4])/
的 的 [de5] /of; ~'s (possessive particle)/(used after an attribute)/
的 的 [di4] /(bound form) bull's-eye; target/
學習 学习 [xue2 xi2] /to learn/to study/
學 学 [xue2] /to learn/to study/to imitate/science/-ology/
習 习 [xi2] /(bound form) to practice; to study/habit/
女 女 [ru3] /archaic variant of 汝[ru3]/
女 女 [nu:3] /female/woman/daughter/
綠 绿 [lu:4] /green/
王 王 [Wang2] /surname Wang/
王 王 [wang2] /king or monarch/best or strongest of its type/
中 中 [zhong1] /within/among/in/middle/center/
中 中 [zhong4] /to hit (the mark)/
國 国 [guo2] /country/nation/state/
北 北 [bei3] /north/
京 京 [jing1] /capital city of a country/big/
我 我 [wo3] /I; me; my/
愛 爱 [ai4] /to love/to be fond of/to like/
一點兒 一点儿 [yi1 dian3 r5] /erhua variant of 一點|一点[yi1 dian3]/
一點 一点 [yi1 dian3] /a bit/a little/
一 一 [yi1] /one/single/a (article)/as soon as/
點 点 [dian3] /point/dot/drop/speck/
兒 儿 [er2] /child/son/
兒 儿 [r5] /non-syllabic diminutive suffix/retroflex final/
小姐 小姐 [xiao3 jie5] /young lady/miss/(slang) prostitute/CL:個|个[ge4],位[wei4]/
CPU CPU [C P U] /CPU/
卡拉OK 卡拉OK [ka3 la1 O K] /karaoke (loanword)/
西安 西安 [Xi1 an1] /Xi'an, capital of Shaanxi/
說 说 [shui4] /to persuade/
說 说 [shuo1] /to speak/to say/
說明 说明 [shuo1 ming2] /to explain/
小說 小说 [xiao3 shuo1] /novel/
東西 东西 [dong1 xi1] /east and west/
東西 东西 [dong1 xi5] /thing/stuff/person/CL:個|个[ge4],件[jian4]/
這是一個非常非常非常非常非常長的詞 这是一个非常非常非常非常非常长的词 [zhe4] /an extraordinarily long test sense that goes on and on beyond any limit/second/
";

fn small() -> Dictionary {
    Dictionary::from_reader(SMALL.as_bytes())
}

// ---- parsing -------------------------------------------------------------------------

#[test]
fn parses_a_good_line() {
    let e = parse_line("北京 北京 [Bei3 jing1] /Beijing/capital of China/\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(e.traditional, "北京");
    assert_eq!(e.simplified, "北京");
    assert_eq!(e.pinyin_numbered, "Bei3 jing1");
    assert_eq!(e.senses, ["Beijing", "capital of China"]);
    assert_eq!(e.pinyin(), "Běijīng");
    let e = parse_line("學習 学习 [xue2  xi2] /to learn//to study/")
        .unwrap()
        .unwrap();
    assert_eq!(e.traditional, "學習");
    assert_eq!(e.pinyin_numbered, "xue2 xi2");
    assert_eq!(
        e.senses,
        ["to learn", "to study"],
        "empty senses are dropped"
    );
    // Brackets inside senses do not confuse the pinyin.
    let e = parse_line("了 了 [liao3] /variant of 瞭|了[liao3]/")
        .unwrap()
        .unwrap();
    assert_eq!(e.pinyin_numbered, "liao3");
    assert_eq!(e.senses, ["variant of 瞭|了[liao3]"]);
}

#[test]
fn comments_and_blank_lines_are_none() {
    for line in [
        "",
        "\n",
        "   ",
        "\r\n",
        "# comment",
        "#! version=1",
        "\u{feff}# bom",
    ] {
        assert_eq!(parse_line(line), Ok(None), "{line:?}");
    }
}

#[test]
fn malformed_lines_are_typed_errors() {
    use ParseError::*;
    let cases: &[(&str, ParseError)] = &[
        ("北京 北京 Bei3 jing1 /Beijing/", MissingPinyin),
        ("北京 北京 [Bei3 jing1 /Beijing/", UnclosedPinyin),
        ("北京 北京 [] /Beijing/", EmptyPinyin),
        ("北京 北京 [  ] /Beijing/", EmptyPinyin),
        ("北京 [Bei3 jing1] /Beijing/", Headwords { found: 1 }),
        ("[Bei3 jing1] /Beijing/", Headwords { found: 0 }),
        ("北 京 北京 [Bei3 jing1] /Beijing/", Headwords { found: 3 }),
        ("北京 北京 [Bei3 jing1]", MissingSenses),
        ("北京 北京 [Bei3 jing1] Beijing/", MissingSenses),
        ("北京 北京 [Bei3 jing1] /Beijing", UnterminatedSenses),
        ("北京 北京 [Bei3 jing1] /", UnterminatedSenses),
        ("北京 北京 [Bei3 jing1] //", EmptySenses),
        ("北京 北京 [Bei3 jing1] / / /", EmptySenses),
        (
            "北京\t北京 [Bei3 jing1] /Beijing/",
            ControlCharacter { code: 9, at: 6 },
        ),
        (
            "北京 北京 [Bei3 jing1] /Bei\0jing/",
            ControlCharacter { code: 0, at: 31 },
        ),
        (
            "北京 北京 [Bei3 jing1] /a/\n/b/",
            ControlCharacter { code: 10, at: 30 },
        ),
        ("garbage", MissingPinyin),
        ("]][[ ", UnclosedPinyin),
        ("a b ] [", UnclosedPinyin),
    ];
    for (line, want) in cases {
        assert_eq!(parse_line(line).as_ref(), Err(want), "{line:?}");
        assert!(!want.to_string().is_empty());
    }
}

#[test]
fn very_long_lines_parse() {
    let sense = "x".repeat(100_000);
    let line = format!("長 长 [chang2] /{sense}/{sense}/");
    let e = parse_line(&line).unwrap().unwrap();
    assert_eq!(e.senses.len(), 2);
    let gloss = e.short_gloss(GLOSS_MAX);
    assert_eq!(gloss.chars().count(), GLOSS_MAX, "cut, with the …");
    assert!(gloss.ends_with('…'));
    let bad = format!("長 长 [{sense}");
    assert_eq!(parse_line(&bad), Err(ParseError::UnclosedPinyin));
}

#[test]
fn loader_skips_and_counts_malformed_lines() {
    let text =
        b"# c\n\xff\xfe not utf-8\n\xe4\xb8\xad \xe4\xb8\xad [zhong1] /middle/\nbad line\n\n\
          \xe4\xb8\xad \xe4\xb8\xad [zhong1] /\n";
    let d = Dictionary::from_reader(&text[..]);
    assert_eq!(d.len(), 1);
    assert_eq!(d.skipped(), 3);
    assert_eq!(d.lookup("中")[0].senses, ["middle"]);
    let d = small();
    assert_eq!(d.skipped(), 0);
    assert!(!d.is_empty());
    assert_eq!(
        d.len(),
        SMALL
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count()
    );
    let empty = Dictionary::from_reader(&b""[..]);
    assert!(empty.is_empty());
    assert!(empty.lookup("中").is_empty());
}

// ---- pinyin --------------------------------------------------------------------------

#[test]
fn syllables_get_tone_marks() {
    let cases = [
        ("ma1", "mā"),
        ("ma2", "má"),
        ("ma3", "mǎ"),
        ("ma4", "mà"),
        ("ma5", "ma"),
        ("nu:3", "nǚ"),
        ("lu:4", "lǜ"),
        ("lv4", "lǜ"),
        ("Lu:4", "Lǜ"),
        ("lu:e4", "lüè"),
        ("er2", "ér"),
        ("r5", "r"),
        ("Bei3", "Běi"),
        ("jing1", "jīng"),
        ("xiao3", "xiǎo"),
        ("jie3", "jiě"),
        ("gou3", "gǒu"),
        ("liu2", "liú"),
        ("gui4", "guì"),
        ("shuai4", "shuài"),
        ("huo2", "huó"),
        ("xue2", "xué"),
        ("Ou1", "Ōu"),
        ("E2", "É"),
        ("Ai4", "Ài"),
        ("ng2", "ńg"),
        ("m2", "ḿ"),
        ("hm5", "hm"),
        ("n4", "ǹ"),
        ("xx5", ""),
        // Pass through: no tone number, not letters, unknown.
        ("A", "A"),
        ("·", "·"),
        (",", ","),
        ("3", "3"),
        ("lv", "lv"),
        ("ma6", "ma6"),
        ("ma0", "ma0"),
        ("5", "5"),
        ("xyz1", "xyz1"),
        ("ma:3", "ma:3"),
        ("", ""),
    ];
    for (numbered, marked) in cases {
        assert_eq!(syllable_to_marks(numbered), marked, "{numbered}");
    }
}

#[test]
fn words_get_tone_marks() {
    let cases = [
        ("Bei3 jing1", "Běijīng"),
        ("Zhong1 guo2", "Zhōngguó"),
        ("yi1 dian3 r5", "yīdiǎnr"),
        ("xiao3 jie3", "xiǎojiě"),
        ("xiao3 jie5", "xiǎojie"),
        ("nu:3 er2", "nǚ'ér"),
        ("Xi1 an1", "Xī'ān"),
        ("ka3 la1 O K", "kǎlā OK"),
        ("C P U", "CPU"),
        ("t o n y lao3 shi1", "tony lǎoshī"),
        ("A quan1 r5", "A quānr"),
        ("T xu4", "T xù"),
        ("yi1 bu4 zuo4 , er4 bu4 xiu1", "yībùzuò, èrbùxiū"),
        ("Ka3 er3 · Ma3 ke4 si1", "Kǎ'ěr·Mǎkèsī"),
        ("xx5 xx5", ""),
        ("Zhang1 San1", "Zhāng Sān"),
        (
            "Zhong1 hua2 Ren2 min2 Gong4 he2 guo2",
            "Zhōnghuá Rénmín Gònghéguó",
        ),
        ("Tian1 an1 men2", "Tiān'ānmén"),
        ("  ", ""),
    ];
    for (numbered, marked) in cases {
        assert_eq!(numbered_to_marks(numbered), marked, "{numbered}");
    }
    assert_eq!(numbered_to_marks_spaced("Bei3 jing1"), "Běi jīng");
    assert_eq!(numbered_to_marks_spaced("yi1 dian3 r5"), "yī diǎn r");
}

// ---- lookup and explanations ---------------------------------------------------------

#[test]
fn lookups_rank_entries() {
    let d = small();
    assert_eq!(d.lookup("北京")[0].pinyin(), "Běijīng");
    assert_eq!(d.lookup("中国")[0].senses, ["China"]);
    assert_eq!(d.lookup("中國")[0].simplified, "中国", "traditional form");
    let le: Vec<&str> = d
        .lookup("了")
        .iter()
        .map(|e| e.pinyin_numbered.as_str())
        .collect();
    assert_eq!(le, ["le5", "liao3"]);
    assert_eq!(d.lookup("的")[0].pinyin_numbered, "de5");
    assert_eq!(d.lookup("女")[0].pinyin(), "nǚ", "archaic variant last");
    assert_eq!(
        d.lookup("王")[0].pinyin(),
        "wáng",
        "surname after the common noun"
    );
    assert_eq!(
        d.lookup("說")[0].pinyin(),
        "shuō",
        "the reading more words use"
    );
    assert_eq!(
        d.lookup("东西")[0].pinyin(),
        "dōngxi",
        "the entry with more senses"
    );
    assert_eq!(d.lookup("ＣＰＵ")[0].simplified, "CPU", "full-width ASCII");
    assert!(d.lookup("没有").is_empty());
    assert!(d.lookup("").is_empty());
}

#[test]
fn explains_dictionary_words() {
    let d = small();
    let e = explain(&d, "北京");
    assert_eq!(e.pinyin, "Běijīng");
    assert_eq!(e.gloss, "Beijing, capital of the People's…");
    assert!(!e.from_chars);
    assert_eq!(e.entries.len(), 1);
    let chars: Vec<(char, &str, Option<&str>)> = e
        .chars
        .iter()
        .map(|c| (c.ch, c.pinyin.as_str(), c.gloss.as_deref()))
        .collect();
    assert_eq!(
        chars,
        [
            ('北', "běi", Some("north")),
            ('京', "jīng", Some("capital city of a country; big"))
        ]
    );

    let e = explain(&d, "學習");
    assert_eq!(
        (e.pinyin.as_str(), e.gloss.as_str()),
        ("xuéxí", "to learn; to study")
    );
    assert_eq!(e.entries[0].simplified, "学习");

    let e = explain(&d, "了");
    assert_eq!((e.pinyin.as_str(), e.entries.len()), ("le", 2));
    assert_eq!(e.gloss, "(completed action marker)");

    let e = explain(&d, "一点儿");
    assert_eq!(e.pinyin, "yīdiǎnr");
    // The entry only points to 一点: its meaning is shown, marked as the erhua form.
    assert_eq!(e.gloss, "a bit; a little (erhua of 一点)");
    assert_eq!(e.chars[2].pinyin, "r", "儿 read as in the word, not er2");
    assert_eq!(
        e.chars[2].gloss.as_deref(),
        Some("non-syllabic diminutive suffix")
    );

    let e = explain(&d, "小姐");
    assert_eq!(
        e.gloss, "young lady; miss; (slang) prostitute",
        "CL: left out"
    );
    let e = explain(&d, "中");
    assert_eq!(e.gloss, "within; among; in; middle; center");
}

#[test]
fn unknown_words_fall_back_to_characters() {
    let d = small();
    let e = explain(&d, "我爱中国");
    assert!(e.from_chars);
    assert!(e.entries.is_empty());
    assert_eq!(e.pinyin, "wǒ'àizhōngguó");
    assert_eq!(e.gloss, "I; me; my + to love; to be fond of + …");
    assert_eq!(e.chars.len(), 4);
    assert_eq!(e.chars[3].pinyin, "guó");
    let e = explain(&d, "爱A");
    assert!(e.from_chars);
    assert_eq!(e.pinyin, "ài A");
    // A Han character the dictionary lacks.
    let e = explain(&d, "龘");
    assert!(e.from_chars);
    assert_eq!((e.pinyin.as_str(), e.gloss.as_str()), ("", ""));
    assert_eq!(e.chars[0].gloss, None);
}

#[test]
fn non_han_words() {
    let d = small();
    for w in ["，", "。", "1998", "１９９８", "3.14%", "😀", " ", "", "——"] {
        let e = explain(&d, w);
        assert_eq!(
            (e.pinyin.as_str(), e.gloss.as_str(), e.from_chars),
            ("", "", false),
            "{w:?}"
        );
        assert!(e.entries.is_empty());
        assert_eq!(e.chars.len(), w.chars().count());
    }
    let e = explain(&d, "ＣＰＵ");
    assert_eq!((e.pinyin.as_str(), e.gloss.as_str()), ("CPU", "CPU"));
    let e = explain(&d, "Ｈｅｌｌｏ");
    assert_eq!(
        (e.pinyin.as_str(), e.gloss.as_str(), e.from_chars),
        ("Hello", "", false)
    );
    let e = explain(&d, "卡拉OK");
    assert_eq!(e.pinyin, "kǎlā OK");
    assert_eq!(e.chars[2].pinyin, "O");
}

#[test]
fn clean_and_cut_glosses() {
    assert_eq!(clean_sense("variant of 瞭|了[liao3]"), "variant of 了");
    assert_eq!(
        clean_sense("see 什麼|什么[shen2 me5], what"),
        "see 什么, what"
    );
    assert_eq!(clean_sense("abbr. for 的士[di1 shi4]"), "abbr. for 的士");
    assert_eq!(
        clean_sense("a|b [x] 中[not pinyin!]"),
        "a|b [x] 中[not pinyin!]"
    );
    assert_eq!(clean_sense("中|"), "中|");
    assert_eq!(cut_at_word("one two three four", 10), "one two…");
    assert_eq!(cut_at_word("short", 10), "short");
    assert_eq!(
        cut_at_word("to love; to be fond of; to like", 25),
        "to love; to be fond of"
    );
    assert_eq!(cut_at_word("abcdefghijkl", 5), "abcd…");
    assert_eq!(cut_at_word("一二三四五六", 3), "一二…");
    assert_eq!(join_cut(&["ab", "cd"], " + ", 40), "ab + cd");
}

#[test]
fn embedded_dictionary() {
    let d = Dictionary::embedded();
    assert!(d.len() > 120_000, "{d:?}");
    assert_eq!(d.skipped(), 0);
    let e = explain(d, "北京");
    assert_eq!(e.pinyin, "Běijīng");
    assert!(e.gloss.starts_with("Beijing"), "{}", e.gloss);
    assert_eq!(explain(d, "中国").pinyin, "Zhōngguó");
    assert_eq!(explain(d, "了").pinyin, "le");
    assert_eq!(explain(d, "的").pinyin, "de");
    assert_eq!(explain(d, "着").pinyin, "zhe");
    assert_eq!(explain(d, "女").pinyin, "nǚ");
    assert_eq!(explain(d, "说").pinyin, "shuō");
    assert_eq!(explain(d, "还").pinyin, "hái");
    assert_eq!(explain(d, "哪").pinyin, "nǎ");
    assert_eq!(explain(d, "东西").pinyin, "dōngxi");
    assert_eq!(explain(d, "张三").pinyin, "Zhāng Sān");
    assert_eq!(explain(d, "一点儿").pinyin, "yīdiǎnr");
    assert_eq!(explain(d, "學習").entries[0].simplified, "学习");
    assert_eq!(explain(d, "长大").chars[0].pinyin, "zhǎng");
    let e = explain(d, "１９９８");
    assert_eq!((e.pinyin.as_str(), e.gloss.as_str()), ("", ""));
    let e = explain(d, "我们爱北京天安门");
    assert!(e.from_chars);
    assert!(e.pinyin.starts_with("wǒmen"), "{}", e.pinyin);
}

/// Load time of the embedded dictionary, measured afresh (not through the `OnceLock`):
/// `cargo test --release --lib explain::tests::load_time -- --ignored --nocapture`.
#[test]
#[ignore]
fn load_time() {
    use std::io::Read;
    let rss_kib = || {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap_or_default()
            .to_string();
        line.split_whitespace()
            .nth(1)
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let t = std::time::Instant::now();
    let mut raw = Vec::new();
    let unzip = flate2::read::GzDecoder::new(CEDICT_GZ)
        .read_to_end(&mut raw)
        .map(|_| t.elapsed());
    drop(raw);
    let rss0 = rss_kib();
    let t = std::time::Instant::now();
    let d = load_embedded();
    let load = t.elapsed();
    eprintln!(
        "gunzip alone {:?}; resident memory +{} MiB after loading",
        unzip,
        rss_kib().saturating_sub(rss0) / 1024
    );
    let t = std::time::Instant::now();
    let e = explain(&d, "北京");
    let first = t.elapsed();
    let t = std::time::Instant::now();
    for w in ["北京", "中国", "了", "的", "学习", "我们", "天安门"] {
        std::hint::black_box(explain(&d, w));
    }
    let more = t.elapsed();
    eprintln!(
        "embedded CC-CEDICT: {} entries, {} headwords, {} skipped; load {:.1} ms; \
         first explain {:.3} ms; 7 more {:.3} ms ({})",
        d.len(),
        d.index.len(),
        d.skipped(),
        load.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3,
        more.as_secs_f64() * 1e3,
        e.pinyin
    );
}

#[test]
fn finds_personal_names_written_as_surname_and_given_name() {
    let entry = |line: &str| parse_line(line).unwrap().unwrap();
    assert!(
        entry("習近平 习近平 [Xi2 Jin4 ping2] /Xi Jinping (1953-), PRC politician/")
            .is_personal_name()
    );
    assert!(entry("呂布 吕布 [Lu:3 Bu4] /Lü Bu (-198), general/").is_personal_name());
    for not_a_name in [
        "北京 北京 [Bei3 jing1] /Beijing, capital of the People's Republic of China/",
        "李白 李白 [Li3 Bai2] /Li Bai, poet/",
        "天安門 天安门 [Tian1 an1 men2] /Tiananmen Gate (entrance of the Imperial City)/",
        "張 张 [Zhang1] /Zhang Yi (a name) (test)/",
        "毛澤東思想 毛泽东思想 [Mao2 Ze2 dong1 si1 xiang3] /Mao Zedong Thought (1950-)/",
    ] {
        assert!(!entry(not_a_name).is_personal_name(), "{not_a_name}");
    }

    let d = Dictionary::embedded();
    let found = names_across(d, &["习", "近平", "会见", "了", "张", "艺谋", "。"]);
    let words: Vec<(std::ops::Range<usize>, &str)> = found
        .iter()
        .map(|(r, e)| (r.clone(), e.word.as_str()))
        .collect();
    assert_eq!(words, [(0..2, "习近平"), (4..6, "张艺谋")]);
    assert!(
        found[0].1.gloss.starts_with("Xi Jinping"),
        "{:?}",
        found[0].1
    );
    assert_eq!(found[0].1.pinyin, "Xí Jìnpíng");
    // A name the model kept whole is explained as a word, not repeated; words that are not
    // names, or not all Han, are left alone.
    assert!(names_across(d, &["习近平", "主席"]).is_empty());
    assert!(names_across(d, &["北京", "天安门"]).is_empty());
    assert!(names_across(d, &["习", "Jinping"]).is_empty());
    assert!(names_across(d, &[]).is_empty());
    assert!(names_across(d, &["", "习", ""]).is_empty());
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_strings(s in any::<String>()) {
        let _ = parse_line(&s);
        let _ = syllable_to_marks(&s);
        let _ = numbered_to_marks(&s);
        let _ = numbered_to_marks_spaced(&s);
        let _ = clean_sense(&s);
        let d = small();
        let _ = explain(&d, &s);
        let _ = Dictionary::from_reader(s.as_bytes());
    }

    #[test]
    fn never_panics_on_pinyin_like_strings(s in "[a-zA-Z:üvêÊ0-9 ,·|\\[\\]/中国了]{0,40}") {
        let _ = parse_line(&s);
        let _ = numbered_to_marks(&s);
        let _ = clean_sense(&s);
        let _ = explain(&small(), &s);
        let line = format!("中 中 [{s}] /{s}/");
        if let Ok(Some(e)) = parse_line(&line) {
            let _ = e.pinyin();
            let _ = e.short_gloss(GLOSS_MAX);
        }
    }
}

#[test]
fn aabb_reduplications_read_as_their_word_doubled() {
    let d = Dictionary::embedded();
    let e = explain(d, "干干净净");
    assert_eq!(e.pinyin, "gāngānjìngjìng");
    assert!(!e.from_chars);
    assert!(
        e.gloss.starts_with("clean, neat (干净 doubled"),
        "{}",
        e.gloss
    );
    assert_eq!(e.chars[3].pinyin, "jìng");
    // A neutral tone of the word takes the character's own tone when doubled.
    assert_eq!(explain(d, "漂漂亮亮").pinyin, "piàopiàoliàngliàng");
    // The dictionary's own entry wins (舒舒服服), and what is not AABB of a word is untouched.
    assert_eq!(
        explain(d, "舒舒服服").entries[0].pinyin_numbered,
        "shu1 shu5 fu5 fu5"
    );
    assert!(explain(d, "哈哈哈哈").entries.is_empty());
    assert!(explain(d, "干净干净").from_chars);
    // The everyday sense of the word is the one doubled.
    let e = explain(d, "结结实实");
    assert!(!e.gloss.starts_with("to bear fruit"), "{}", e.gloss);
    // In context too.
    let ex = explain_in_context(d, &["扫", "得", "干干净净"], &[None, None, None]);
    assert_eq!(ex[2].pinyin, "gāngānjìngjìng");
}
