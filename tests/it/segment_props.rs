//! Properties of segmentation for any input: words join back, Latin words stay whole, tags are
//! valid, nothing panics.
use std::sync::OnceLock;

use fenci::segment::{decode, Constraints, Segmentation, Segmenter};
use fenci::tagger::{LabelScheme, Tag};
use proptest::prelude::*;

use crate::util::tiny_model;

fn bmes() -> &'static Segmenter {
    static S: OnceLock<Segmenter> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = Segmenter::new(&tiny_model(&LabelScheme::bmes(), 1, 16, 24, 21)).unwrap();
        // Small windows so long inputs take the overlapping-window path too.
        s.set_window(12, 4);
        s
    })
}

fn bi() -> &'static Segmenter {
    static S: OnceLock<Segmenter> = OnceLock::new();
    S.get_or_init(|| Segmenter::new(&tiny_model(&LabelScheme::bi(), 1, 16, 24, 22)).unwrap())
}

/// Words in order, covering every non-whitespace character, separated only by whitespace.
fn check_joins_back(input: &str, s: &Segmentation) {
    let chars: Vec<char> = input.chars().collect();
    let mut pos = 0;
    for w in &s.words {
        assert!(w.chars.start >= pos, "words overlap or are out of order");
        assert!(
            chars[pos..w.chars.start].iter().all(|c| c.is_whitespace()),
            "non-whitespace dropped before {:?} in {input:?}",
            w.text
        );
        assert!(!w.text.is_empty());
        assert_eq!(w.text, chars[w.chars.clone()].iter().collect::<String>());
        assert_eq!(w.text, &input[w.bytes.clone()]);
        pos = w.chars.end;
    }
    assert!(
        chars[pos..].iter().all(|c| c.is_whitespace()),
        "tail dropped in {input:?}"
    );
    let joined: String = s.word_strs().concat();
    let no_ws: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(joined, no_ws);
}

/// No word boundary falls between two adjacent Latin letters (half- or full-width).
fn check_latin_words_whole(input: &str, s: &Segmentation) {
    let letter = |c: char| fenci::segment::to_halfwidth(c).is_ascii_alphabetic();
    for w in s.words.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a.chars.end == b.chars.start {
            let (x, y) = (a.text.chars().last(), b.text.chars().next());
            assert!(
                !(x.is_some_and(letter) && y.is_some_and(letter)),
                "Latin word cut between {:?} and {:?} in {input:?}",
                a.text,
                b.text
            );
        }
    }
}

fn valid_tags(labels: &[usize], scheme: &LabelScheme) -> bool {
    if labels.is_empty() {
        return true;
    }
    let tags: Vec<Tag> = labels.iter().map(|&l| scheme.tag(l)).collect();
    scheme.allowed_start(tags[0])
        && scheme.allowed_end(*tags.last().unwrap())
        && tags.windows(2).all(|w| scheme.allowed(w[0], w[1]))
}

fn text_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        // any Unicode, control characters included
        "\\PC{0,80}",
        any::<String>(),
        // mostly Chinese with punctuation, digits, Latin and emoji
        proptest::collection::vec(
            prop_oneof![
                Just("我".to_string()),
                Just("爱北京".to_string()),
                Just("天安门".to_string()),
                Just("，".to_string()),
                Just("１９９８".to_string()),
                Just("GPU".to_string()),
                Just("ｉＰｈｏｎｅ".to_string()),
                Just("😀".to_string()),
                Just(" ".to_string()),
                Just("\t".to_string()),
                Just("\u{0007}".to_string()),
                Just("\u{200b}".to_string()),
                Just("e\u{301}".to_string()),
                "[a-z0-9]{1,30}",
            ],
            0..60
        )
        .prop_map(|v| v.concat()),
    ]
}

#[test]
fn web_and_mail_addresses_are_one_word_whatever_the_model_says() {
    // A random model cuts anywhere; the decoder keeps addresses whole (but not their trailing
    // punctuation), and leaves a lone @ or a decimal alone.
    let cases = [
        ("发到abc.d@example.com吧", Some("abc.d@example.com")),
        (
            "打开https://www.baidu.com/s?wd=分词看看",
            Some("https://www.baidu.com/s?wd="),
        ),
        ("请访问www.pku.edu.cn。", Some("www.pku.edu.cn")),
        ("（ｌｉ＠１６３．ｃｏｍ）", Some("ｌｉ＠１６３．ｃｏｍ")),
        ("见 http://a.org.", Some("http://a.org")),
    ];
    for (text, want) in cases {
        let s = bmes().segment(text).unwrap();
        check_joins_back(text, &s);
        if let Some(w) = want {
            assert!(s.word_strs().contains(&w), "{text}: {:?}", s.word_strs());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn bmes_output_joins_back_to_the_input(text in text_strategy()) {
        let s = bmes().segment(&text).unwrap();
        check_joins_back(&text, &s);
        check_latin_words_whole(&text, &s);
        let d = decode(&s.log_probs, &LabelScheme::bmes(), &Constraints::from_gaps(&s.units));
        prop_assert!(valid_tags(&d.labels, &LabelScheme::bmes()));
        prop_assert!(s.boundaries.iter().all(|b| (0.0..=1.0).contains(&b.prob)));
    }

    #[test]
    fn bi_output_joins_back_to_the_input(text in text_strategy()) {
        let s = bi().segment(&text).unwrap();
        check_joins_back(&text, &s);
    }

    #[test]
    fn decoded_tags_are_always_valid(
        n in 0usize..40,
        bi_scheme in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let scheme = if bi_scheme { LabelScheme::bi() } else { LabelScheme::bmes() };
        let l = scheme.len();
        // Arbitrary scores, NaN and infinities included, and arbitrary (even contradictory)
        // constraints: decoding must still return a valid sequence.
        let mut x = seed | 1;
        let mut next = || { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x };
        let lp: Vec<f32> = (0..n * l).map(|_| match next() % 20 {
            0 => f32::NAN,
            1 => f32::NEG_INFINITY,
            2 => f32::INFINITY,
            k => -((k as f32) * 0.37),
        }).collect();
        let c = Constraints {
            forced: (0..n).map(|_| next() % 5 == 0).collect(),
            forbidden: (0..n).map(|_| next() % 5 == 0).collect(),
        };
        let d = decode(&lp, &scheme, &c);
        prop_assert_eq!(d.labels.len(), n);
        prop_assert!(valid_tags(&d.labels, &scheme));
        prop_assert!(d.boundary_prob.iter().all(|p| (0.0..=1.0).contains(p)));
    }
}

#[test]
fn viterbi_finds_the_best_valid_path() {
    // Scores prefer B,B (invalid in BMES); the best valid path is B,E.
    let s = LabelScheme::bmes();
    let ln = |p: f32| p.ln();
    let lp = vec![
        ln(0.9),
        ln(0.01),
        ln(0.01),
        ln(0.08), // B M E S
        ln(0.6),
        ln(0.01),
        ln(0.3),
        ln(0.09),
    ];
    let d = decode(&lp, &s, &Constraints::default());
    assert_eq!(d.labels, vec![0, 2]);
    // P(boundary before unit 1): paths S,S (0.08·0.09) and S,B? invalid at end; B,E (0.9·0.3),
    // S,S; so P = 0.08·0.09 / (0.9·0.3 + 0.08·0.09).
    let expect = 0.08 * 0.09 / (0.9 * 0.3 + 0.08 * 0.09);
    assert!(
        (d.boundary_prob[1] - expect).abs() < 1e-5,
        "{}",
        d.boundary_prob[1]
    );
}

#[test]
fn forced_words_are_kept() {
    let mut seg = Segmenter::new(&tiny_model(&LabelScheme::bmes(), 1, 16, 24, 23)).unwrap();
    seg.set_dict(vec!["北京天安门".into(), "喜欢".into()]);
    let s = seg.segment("我爱北京天安门，喜欢").unwrap();
    let words = s.word_strs();
    assert!(words.contains(&"北京天安门"), "{words:?}");
    assert!(words.contains(&"喜欢"), "{words:?}");
}

#[test]
fn fullwidth_and_halfwidth_see_the_same_tokens() {
    let s = bmes();
    let a = s.tokenizer().units("１９９８年ＣＰＵ");
    let b = s.tokenizer().units("1998年CPU");
    assert_eq!(a, b);
    // and the output keeps the user's characters
    let seg = s.segment("１９９８年").unwrap();
    assert_eq!(seg.word_strs().concat(), "１９９８年");
}

#[test]
fn traditional_characters_are_looked_up_by_their_simplified_forms() {
    // The toy vocabulary is simplified; features are matched on the simplified text too.
    let mut m = tiny_model(&LabelScheme::bmes(), 1, 32, 64, 5);
    m.add_word_features(fenci::text::WordSet::parse("北京\n天安门\n学习\n"))
        .unwrap();
    let s = Segmenter::new(&m).unwrap();
    let a = s
        .tokenizer()
        .units("我們愛北京天安門，喜歡學習中文。這是書");
    let b = s
        .tokenizer()
        .units("我们爱北京天安门，喜欢学习中文。这是书");
    assert_eq!(a, b);
    assert!(!a.ids.contains(&s.tokenizer().unk));
    // A character the vocabulary has is never replaced, and unknown ones stay [UNK].
    assert_eq!(s.tokenizer().lookup_char('学'), '学');
    assert_eq!(s.tokenizer().lookup_char('麼'), '么');
    assert_eq!(s.tokenizer().units("龘").ids, vec![s.tokenizer().unk]);
    let seg = s.segment("我們喜歡學習").unwrap();
    assert_eq!(seg.word_strs().concat(), "我們喜歡學習");
}

#[test]
fn long_lines_use_overlapping_windows() {
    let s = bmes();
    let text: String = "我爱北京天安门".repeat(30);
    let seg = s.segment(&text).unwrap();
    assert_eq!(seg.units.len(), 210);
    assert_eq!(seg.log_probs.len(), 210 * 4);
    // every unit got real scores (rows sum to probability 1)
    for row in seg.log_probs.chunks(4) {
        let p: f32 = row.iter().map(|x| x.exp()).sum();
        assert!((p - 1.0).abs() < 1e-3, "{row:?}");
    }
    check_joins_back(&text, &seg);
}

#[test]
fn a_big_batch_scores_every_line_as_alone() {
    // Enough lines of mixed lengths for several batches, which run on parallel threads; a
    // model with dictionary features, so token types travel with their lines too.
    let mut m = tiny_model(&LabelScheme::bmes(), 2, 32, 64, 23);
    m.add_word_features(fenci::text::WordSet::parse("北京\n天安门\n学习\n"))
        .unwrap();
    let s = Segmenter::new(&m).unwrap();
    let lines: Vec<String> = (0..400)
        .map(|i| {
            "我爱北京天安门学习中文"
                .chars()
                .cycle()
                .skip(i % 7)
                .take(3 + i % 50)
                .collect()
        })
        .collect();
    let together = s.segment_batch(&lines).unwrap();
    for (line, got) in lines.iter().zip(&together).step_by(13) {
        let alone = s.segment(line).unwrap();
        assert_eq!(got.units, alone.units, "{line}");
        for (a, b) in got.log_probs.iter().zip(&alone.log_probs) {
            assert!((a - b).abs() < 1e-4, "{line}: {a} vs {b}");
        }
    }
}

#[test]
fn kbest_lists_every_valid_path_with_its_probability() {
    use fenci::segment::kbest;
    // Two units under BMES have exactly two valid paths: B,E and S,S.
    let s = LabelScheme::bmes();
    let ln = |p: f32| p.ln();
    let lp = vec![
        ln(0.9),
        ln(0.01),
        ln(0.01),
        ln(0.08),
        ln(0.6),
        ln(0.01),
        ln(0.3),
        ln(0.09),
    ];
    let alts = kbest(&lp, &s, &Constraints::default(), 5);
    assert_eq!(alts.len(), 2);
    assert_eq!(alts[0].labels, vec![0, 2]);
    assert_eq!(alts[1].labels, vec![3, 3]);
    let z = 0.9 * 0.3 + 0.08 * 0.09;
    assert!((alts[0].prob - 0.27 / z).abs() < 1e-5);
    assert!((alts[1].prob - 0.0072 / z).abs() < 1e-5);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]
    #[test]
    fn kbest_agrees_with_viterbi(n in 1usize..12, seed in any::<u64>(), bi_scheme in any::<bool>()) {
        use fenci::segment::kbest;
        let scheme = if bi_scheme { LabelScheme::bi() } else { LabelScheme::bmes() };
        let l = scheme.len();
        let mut x = seed | 1;
        let mut next = || { x ^= x << 13; x ^= x >> 7; x ^= x << 17; (x % 1000) as f32 / 1000.0 };
        // Random distributions per unit, as log-probs.
        let mut lp = Vec::new();
        for _ in 0..n {
            let row: Vec<f32> = (0..l).map(|_| next() + 1e-3).collect();
            let sum: f32 = row.iter().sum();
            lp.extend(row.iter().map(|v| (v / sum).ln()));
        }
        let c = Constraints::default();
        let alts = kbest(&lp, &scheme, &c, 4);
        let d = decode(&lp, &scheme, &c);
        prop_assert_eq!(&alts[0].labels, &d.labels);
        prop_assert!(alts.windows(2).all(|w| w[0].prob >= w[1].prob - 1e-6));
        let total: f32 = alts.iter().map(|a| a.prob).sum();
        prop_assert!(total <= 1.0 + 1e-4);
        prop_assert!(alts.iter().all(|a| valid_tags(&a.labels, &scheme)));
    }
}

#[test]
fn a_lexicon_prior_pulls_words_together_but_is_soft() {
    use fenci::segment::Lexicon;
    use std::sync::Arc;
    let mut seg = Segmenter::new(&tiny_model(&LabelScheme::bmes(), 1, 16, 24, 23)).unwrap();
    let text = "我爱北京天安门，喜欢学习";
    let plain = seg.segment(text).unwrap();
    // Weight 0: no change at all.
    seg.set_lexicon(Some(Arc::new(Lexicon::new(
        vec!["北京天安门".to_string()],
        0.0,
    ))));
    assert_eq!(seg.segment(text).unwrap().word_strs(), plain.word_strs());
    // A strong prior makes the words whole (full-width forms match too) ...
    seg.set_lexicon(Some(Arc::new(Lexicon::new(
        vec![
            "北京天安门".to_string(),
            "喜欢学习".to_string(),
            "ＡＢ".to_string(),
        ],
        30.0,
    ))));
    let s = seg.segment(text).unwrap();
    assert!(s.word_strs().contains(&"北京天安门"), "{:?}", s.word_strs());
    assert!(s.word_strs().contains(&"喜欢学习"), "{:?}", s.word_strs());
    check_joins_back(text, &s);
    // ... but never across whitespace, and forced user words still win.
    let s = seg.segment("北京 天安门").unwrap();
    check_joins_back("北京 天安门", &s);
    assert!(s
        .words
        .iter()
        .all(|w| w.chars.end <= 2 || w.chars.start >= 3));
    seg.set_dict(vec!["喜欢".into()]);
    let s = seg.segment(text).unwrap();
    assert!(s.word_strs().contains(&"喜欢"), "{:?}", s.word_strs());
}
