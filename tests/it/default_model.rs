//! The built-in default model: it loads, segments everyday sentences sensibly, and its files
//! match the checksums in its model card.
use fenci::segment::Segmenter;
use fenci::tagger::{embedded, ModelFiles};
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
            "lexicon.txt" => embedded::WORDS
                .expect("the default model has a word list")
                .as_bytes(),
            "pos_lexicon.txt" => embedded::POS_LEXICON.as_bytes(),
            "pos_context.txt.gz" => embedded::POS_CONTEXT_GZ,
            other => panic!("model card lists an unknown file {other}"),
        };
        let got = format!("{:x}", Sha256::digest(bytes));
        assert_eq!(got, hash, "{name} does not match the model card");
        seen += 1;
    }
    assert_eq!(
        seen, 6,
        "the model card must list config.json, vocab.txt, lexicon.txt, pos_lexicon.txt, pos_context.txt.gz and model.safetensors"
    );
}

#[test]
fn segments_everyday_sentences() {
    let seg = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    // Sentences written for this test (not from the training data).
    let cases = [
        ("我爱北京天安门", "我 爱 北京 天安门"),
        ("今天天气很好", "今天 天气 很 好"),
        ("我们去公园散步吧", "我们 去 公园 散步 吧"),
        ("你叫什么名字", "你 叫 什么 名字"),
        ("我想喝一杯咖啡", "我 想 喝 一 杯 咖啡"),
        // 有意思 is one word in PKU's standard (5 times whole in the training split, never cut).
        ("这本书很有意思", "这 本 书 很 有意思"),
        ("他在大学学习中文", "他 在 大学 学习 中文"),
        ("明天我要去上海出差", "明天 我 要 去 上海 出差"),
        ("请问火车站怎么走", "请问 火车站 怎么 走"),
        ("老师让学生们回答问题", "老师 让 学生 们 回答 问题"),
        ("我妈妈是医生", "我 妈妈 是 医生"),
        ("周末我们一起看电影吧", "周末 我们 一起 看 电影 吧"),
    ];
    let misses: Vec<String> = cases
        .iter()
        .filter_map(|(text, want)| {
            let got = seg.segment(text).unwrap().word_strs().join(" ");
            (got != *want).then(|| format!("{text}: got {got}, want {want}"))
        })
        .collect();
    eprintln!(
        "{} of {} exactly right; misses: {misses:#?}",
        cases.len() - misses.len(),
        cases.len()
    );
    // The shipped model misses one (its model card says which): 这本书 → 这 本书, because
    // CC-CEDICT lists 本书 ("this book") and the dictionary features pull it together.
    assert!(misses.len() <= 1, "{misses:#?}");
}

#[test]
fn keeps_aabb_reduplications_whole_but_not_two_kinship_nouns() {
    // People's Daily writes 干干净净 as one word; the model alone cut several of these.
    let seg = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    for (line, word) in [
        ("爷爷每天早上都把院子扫得干干净净。", "干干净净"),
        ("她打扮得漂漂亮亮的。", "漂漂亮亮"),
        ("图书馆里安安静静的。", "安安静静"),
        ("祝你平平安安。", "平平安安"),
        ("我们开开心心地玩了一天。", "开开心心"),
        ("孩子们高高兴兴地去上学了。", "高高兴兴"),
    ] {
        let s = seg.segment(line).unwrap();
        assert!(s.word_strs().contains(&word), "{line}: {:?}", s.word_strs());
    }
    let s = seg.segment("爸爸妈妈都去上班了。").unwrap();
    assert_eq!(&s.word_strs()[..2], ["爸爸", "妈妈"]);
    // A user's dictionary still applies beside them.
    let mut seg = seg;
    seg.set_dict(vec!["上班了".into()]);
    let s = seg.segment("爸爸妈妈干干净净地上班了。").unwrap();
    assert!(s.word_strs().contains(&"干干净净"), "{:?}", s.word_strs());
    assert!(s.word_strs().contains(&"上班了"), "{:?}", s.word_strs());
}

#[test]
fn a_degree_adverb_is_a_word_of_its_own_before_a_rare_quality() {
    // The model alone wrote 她 非常困 and 我 特别渴 (困 and 渴 are rare in news).
    let seg = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    for (line, words) in [
        ("她非常困。", ["她", "非常", "困", "。"]),
        ("我特别渴。", ["我", "特别", "渴", "。"]),
    ] {
        assert_eq!(seg.segment(line).unwrap().word_strs(), words, "{line}");
    }
    // People's Daily's own words stay whole.
    let s = seg.segment("很多人很快就来了。").unwrap();
    assert_eq!(&s.word_strs()[..3], ["很多", "人", "很快"]);
}

#[test]
fn keeps_latin_words_and_addresses_whole_in_mixed_text() {
    let seg = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    // The vocabulary has single Latin letters only, so the model tags "iPhone" letter by
    // letter; the decoder must not cut inside it. Whether a Latin word joins a neighbouring
    // character is the model's call (PKU has ＶＣＤ机, 卡拉ＯＫ): the shipped model writes
    // iPhone拍 (its card lists it).
    for (text, latin) in [
        ("他用iPhone拍了很多照片", "iPhone"),
        ("我在用ChatGPT写作业", "ChatGPT"),
        ("WiFi密码是多少", "WiFi"),
        ("ｉＰａｄ没电了", "ｉＰａｄ"),
    ] {
        let s = seg.segment(text).unwrap();
        assert!(
            s.word_strs().iter().any(|w| w.contains(latin)),
            "{text}: {:?}",
            s.word_strs()
        );
    }
    // Addresses are one word exactly: the decoder also keeps boundaries at their edges.
    for (text, address) in [
        ("他的邮箱是abc@example.com", "abc@example.com"),
        ("打开https://www.baidu.com看看", "https://www.baidu.com"),
    ] {
        let s = seg.segment(text).unwrap();
        assert!(
            s.word_strs().contains(&address),
            "{text}: {:?}",
            s.word_strs()
        );
    }
}

#[test]
fn splits_personal_names_into_surname_and_given_name() {
    // PKU's standard (江 泽民); CC-CEDICT lists these names whole, and the shipped word list
    // has their given names instead. Names of people not in the training text.
    let seg = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    for (text, want) in [
        (
            "国家主席习近平会见了外国客人",
            "国家 主席 习 近平 会见 了 外国 客人",
        ),
        (
            "著名导演张艺谋的新电影今天上映",
            "著名 导演 张 艺谋 的 新 电影 今天 上映",
        ),
        (
            "钱学森是中国航天事业的奠基人",
            "钱 学森 是 中国 航天 事业 的 奠基人",
        ),
    ] {
        assert_eq!(seg.segment(text).unwrap().word_strs().join(" "), want);
    }
}

#[test]
fn segments_traditional_text_like_its_simplified_twin() {
    // The shipped vocabulary has simplified characters only; traditional ones are looked up by
    // their simplified forms, and the words keep the characters typed.
    let seg = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    let boundaries = |text: &str| -> Vec<usize> {
        let s = seg.segment(text).unwrap();
        s.word_strs()
            .iter()
            .scan(0, |at, w| {
                *at += w.chars().count();
                Some(*at)
            })
            .collect()
    };
    for (traditional, simplified) in [
        ("我們明天去圖書館學習中文", "我们明天去图书馆学习中文"),
        ("他說這個電腦太貴了", "他说这个电脑太贵了"),
        ("臺灣的經濟發展很快", "台湾的经济发展很快"),
        ("請問洗手間在哪裡？", "请问洗手间在哪里？"),
    ] {
        assert_eq!(
            boundaries(traditional),
            boundaries(simplified),
            "{traditional}: {:?}",
            seg.segment(traditional).unwrap().word_strs()
        );
        assert_eq!(
            seg.segment(traditional).unwrap().word_strs().concat(),
            traditional
        );
    }
}

/// `sha256  name` lines of a model card.
fn card_sums(card: &str) -> Vec<(String, String)> {
    card.lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some(h), Some(n), None)
                    if h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()) =>
                {
                    Some((h.to_string(), n.to_string()))
                }
                _ => None,
            }
        })
        .collect()
}

#[test]
fn shipped_lm_matches_its_model_card() {
    use fenci::lm::embedded as lm;
    let sums = card_sums(include_str!("../../models/lm/README.md"));
    assert_eq!(sums.len(), 3, "the LM card must list its three files");
    for (hash, name) in sums {
        let bytes: &[u8] = match name.as_str() {
            "config.json" => lm::CONFIG.as_bytes(),
            "tokenizer.json" => lm::TOKENIZER,
            "model.safetensors" => lm::WEIGHTS,
            other => panic!("LM card lists an unknown file {other}"),
        };
        assert_eq!(
            format!("{:x}", Sha256::digest(bytes)),
            hash,
            "{name} does not match the LM card"
        );
    }
    // It loads, is fenci's own char LM (examples by construction), and is within budget.
    let g = fenci::generate::Generator::embedded().unwrap();
    assert!(!g.is_instruct());
    let size = lm::CONFIG.len() + lm::TOKENIZER.len() + lm::WEIGHTS.len();
    assert!(
        size <= 15 << 20,
        "the built-in LM is {size} bytes (budget: 15 MB)"
    );
}

#[test]
fn bf16_products_keep_the_segmentation_of_everyday_sentences() {
    use fenci::kernels::Precision;
    let exact = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    let mut fast = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    if !fast.set_precision(Precision::Bf16) {
        eprintln!("this CPU has no AVX512-BF16: the F32 model was kept");
        return;
    }
    let lines = [
        "我爱北京天安门",
        "老师让学生们回答问题",
        "周末我们一起看电影吧",
        "他說這個電腦太貴了",
        "国务院总理李鹏今天会见了来访的客人。",
        "I love 北京, see https://example.com/路径 😀",
    ];
    let (a, b) = (
        exact.segment_batch(&lines).unwrap(),
        fast.segment_batch(&lines).unwrap(),
    );
    let mut largest = 0f32;
    for ((line, a), b) in lines.iter().zip(&a).zip(&b) {
        assert_eq!(a.word_strs(), b.word_strs(), "{line}");
        for (x, y) in a.boundaries.iter().zip(&b.boundaries) {
            largest = largest.max((x.prob - y.prob).abs());
        }
    }
    // BF16 moves the boundary probabilities a little, but it does move them: it ran.
    assert!(largest < 0.02, "a boundary moved by {largest}");
    assert!(largest > 0.0, "BF16 changed nothing: did it run?");
    // And back to F32: the same probabilities, bit for bit.
    assert!(fast.set_precision(Precision::F32));
    let probs = |s: &[fenci::segment::Segmentation]| -> Vec<f32> {
        s.iter()
            .flat_map(|s| s.boundaries.iter().map(|b| b.prob))
            .collect()
    };
    assert_eq!(probs(&fast.segment_batch(&lines).unwrap()), probs(&a));
}
