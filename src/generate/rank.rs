//! Ranking candidate example sentences: over-generate, score each candidate with reasons a
//! reader can check, keep the best.
//!
//! A [`Score`] adds up named parts: the LM's length-normalised log-probability, penalties for
//! what a class should not see (digits, Latin, brackets, ellipses, review and news boilerplate,
//! loops, a missing sentence end, a length outside 6–30 characters, a list number or a
//! connective such as 但是 at the start, where the clause it needs is missing), a small cost for generic
//! openings (so different words' examples start differently) and whatever a [`Judge`]
//! adds (fenci's judge in `annotate` checks with the segmenter that the word is a word there,
//! how sure the segmentation is, and the words' dictionary coverage and HSK level). A part can
//! also *reject* a candidate. With a floor ([`apply_floor`]: the LM's own, read from its
//! config) a candidate the LM is not sure of is rejected too, and a rejected one is never
//! shown: fenci says it is not sure instead. Without a floor, a rejected one is shown only
//! when no candidate passes.

use std::collections::HashSet;

/// Scores a candidate beyond what the text alone shows (the segmenter, the dictionary).
pub trait Judge {
    /// Adds parts to `score` (and rejects it where the word is not a word in `sentence`).
    fn judge(&self, word: &str, sentence: &str, score: &mut Score);
}

/// The judge that adds nothing (text checks only).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoJudge;

impl Judge for NoJudge {
    fn judge(&self, _: &str, _: &str, _: &mut Score) {}
}

/// A candidate's score: named parts that sum to [`Score::total`], and why it was rejected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Score {
    /// (name, value) in the order added.
    pub parts: Vec<(&'static str, f64)>,
    /// Why the candidate should not be shown (first reason), if so.
    pub rejected: Option<String>,
}

impl Score {
    /// Adds a part.
    pub fn add(&mut self, name: &'static str, value: f64) {
        self.parts.push((name, value));
    }

    /// Rejects the candidate (the first reason is kept) and adds `penalty`.
    pub fn reject(&mut self, name: &'static str, penalty: f64, why: impl Into<String>) {
        self.parts.push((name, penalty));
        self.rejected.get_or_insert_with(|| why.into());
    }

    /// The sum of the parts.
    pub fn total(&self) -> f64 {
        self.parts.iter().map(|p| p.1).sum()
    }

    /// One line for `--stats`: the total, then each part.
    pub fn explain(&self) -> String {
        let mut s = format!("score {:+.2}", self.total());
        for (name, v) in &self.parts {
            s.push_str(&format!(" · {name} {v:+.2}"));
        }
        if let Some(r) = &self.rejected {
            s.push_str(&format!(" · rejected: {r}"));
        }
        s
    }
}

/// Shortest and longest example, in characters (punctuation included).
pub const LENGTH: (usize, usize) = (6, 30);

/// Words of hotel/shop reviews and 1998 news (the old training text) that do not belong in a
/// classroom example of another word.
const BOILERPLATE: &[&str] = &[
    "酒店",
    "入住",
    "前台",
    "携程",
    "当当",
    "京东",
    "卓越",
    "散热",
    "显卡",
    "键盘",
    "本报",
    "记者",
    "新华社",
    "电讯",
    "特约",
    "宾馆",
    "物流",
    "卖家",
    "快递",
    "性价比",
    "驱动",
    "硬盘",
    "屏幕",
];

/// Openings that fit any word: the 40 commonest two-character openings of the built-in LM's
/// training sentences (stage 10's pairs, deduplicated; 29 % of them open so). The examples of
/// different words should not all start alike, so these cost [`GENERIC_OPENING`].
const GENERIC_OPENINGS: &[&str] = &[
    "爷爷", "妈妈", "奶奶", "小王", "爸爸", "老师", "我们", "这个", "周末", "孩子", "学校", "哥哥",
    "姐姐", "小狗", "弟弟", "今天", "妹妹", "大家", "为了", "小李", "医生", "明天", "请把", "考试",
    "小猫", "每个", "比赛", "下雨", "很多", "请问", "昨天", "天气", "冬天", "两个", "这次", "公园",
    "晚上", "这件", "每天", "出门",
];

/// Connectives that tie a sentence to a clause before it: an example that opens with one
/// (但是，… / 所以我们…) is missing that clause, whatever the word. 不过 only with its comma:
/// 不过三天 ("no more than") opens a sentence well; so are 同时，另外，接着，那么，(同时进行,
/// 另外一个, 那么多 open sentences). 首先 and 最后 may open an instruction on their own.
const DANGLING: &[&str] = &[
    "但是",
    "但，",
    "可是",
    "而且",
    "并且",
    "所以",
    "因此",
    "因而",
    "然而",
    "不过，",
    "同时，",
    "此外",
    "另外，",
    "其次，",
    "总之，",
    "于是",
    "接着，",
    "那么，",
];

/// Connectives that only ever link one sentence to the one before (此外 "in addition"): asked
/// for one of these, an example opening with it is how the word is used, so it does not dangle.
/// 但是, 同时, 于是 and 那么 also link clauses within one sentence (…，同时…), so they still do.
const LINKING_ONLY: &[&str] = &["此外", "另外", "其次", "总之", "接着"];

/// Whether `sentence` opens with a list number: Chinese numerals then 、 or ．(一、 / 十二、),
/// or the numbered points of a report (一是…, 四是…), the way points of a document start, not
/// a sentence. A numeral after the 、 makes it a rough count or a count-off (七、八个学生 /
/// 一、二、三，…), not a list number.
fn list_number(sentence: &str) -> bool {
    let numeral = |c: char| "一二三四五六七八九十两".contains(c);
    let rest = sentence.trim_start_matches(numeral);
    let mut after = rest.chars();
    let next = after.next();
    rest.len() < sentence.len()
        && (matches!(next, Some('、' | '．')) && !after.next().is_some_and(numeral)
            || (next == Some('是')
                && sentence.len() - rest.len() == '一'.len_utf8()
                && !sentence.starts_with('两')))
}

/// Whether `sentence` opens with the conjunction 但 ("but") without its comma (但她从没…): like
/// the connectives of [`DANGLING`], it needs a clause before it. 但愿, 但凡 and 但丁 are other words.
fn opens_with_but(sentence: &str) -> bool {
    let mut c = sentence.chars();
    c.next() == Some('但') && !matches!(c.next(), Some('愿' | '凡' | '是' | '丁' | '，') | None)
}

/// The score part of a generic opening.
pub const GENERIC_OPENING: f64 = -0.3;

fn is_bracket(c: char) -> bool {
    "()（）[]【】{}｛｝〔〕<>〈〉".contains(c)
}

/// The text-only parts: the LM's mean log-probability per token (`lm_logprob` summed over
/// `tokens`), then penalties and rejections for what a class should not see.
pub fn text_score(word: &str, sentence: &str, lm_logprob: f64, tokens: usize) -> Score {
    let mut sc = Score::default();
    sc.add("lm", lm_logprob / tokens.max(1) as f64);
    let chars: Vec<char> = sentence.chars().collect();
    let n = chars.len();
    if !sentence.contains(word) {
        sc.reject("word", -10.0, "the word is missing");
    }
    if !sentence.ends_with(['。', '！', '？']) {
        sc.reject("end", -5.0, "the sentence does not end in 。！？");
    }
    if n < LENGTH.0 || n > LENGTH.1 {
        sc.reject(
            "length",
            -3.0,
            format!("{n} characters (want {}–{})", LENGTH.0, LENGTH.1),
        );
    }
    let word_has = |f: fn(char) -> bool| word.chars().any(f);
    let others = || sentence.replacen(word, "", usize::MAX);
    let digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    let latin = |c: char| c.is_ascii_alphabetic() || ('Ａ'..='ｚ').contains(&c);
    if !word_has(digit) && others().chars().any(digit) {
        sc.reject("digits", -3.0, "digits");
    }
    if !word_has(latin) && others().chars().any(latin) {
        sc.reject("latin", -3.0, "Latin letters");
    }
    if chars.iter().any(|&c| is_bracket(c)) {
        sc.reject("brackets", -3.0, "brackets");
    }
    if sentence.contains('…') || sentence.contains("...") || sentence.contains("。。") {
        sc.reject("ellipsis", -3.0, "an ellipsis");
    }
    if let Some(b) = BOILERPLATE
        .iter()
        .find(|b| !word.contains(**b) && sentence.contains(**b))
    {
        sc.reject("boilerplate", -2.0, format!("review/news word {b}"));
    }
    if list_number(sentence) {
        sc.reject("list", -3.0, "a list number at the start");
    }
    let but = opens_with_but(sentence).then_some("但");
    if let Some(d) = DANGLING
        .iter()
        .copied()
        .find(|d| {
            sentence.starts_with(*d) && !(LINKING_ONLY.contains(&word) && d.starts_with(word))
        })
        .or(but)
    {
        let d = d.trim_end_matches('，');
        sc.reject(
            "dangling",
            -2.0,
            format!("opens with {d}, which needs a clause before it"),
        );
    }
    // Loops: the same two characters three times or more.
    let mut seen = std::collections::HashMap::new();
    for w in chars.windows(2) {
        *seen.entry((w[0], w[1])).or_insert(0usize) += 1;
    }
    if seen.values().any(|&c| c >= 3) {
        sc.reject("loop", -2.0, "a repeated phrase");
    }
    if !word.starts_with(|c| sentence.starts_with(c))
        && GENERIC_OPENINGS.iter().any(|o| sentence.starts_with(o))
    {
        sc.add("opening", GENERIC_OPENING);
    }
    // A sentence of several clauses is harder to read in class.
    let clauses = chars.iter().filter(|&&c| c == '，').count();
    if clauses >= 3 {
        sc.add("clauses", -0.5 * (clauses - 2) as f64);
    }
    sc
}

/// Rejects a candidate whose `lm` part (mean log-probability per token) is below `floor`:
/// the sentences a small LM writes that far from what it knows are, as read, mostly not fit for
/// a class (see `models/lm/README.md`).
pub fn apply_floor(score: &mut Score, floor: f64) {
    let lm = score
        .parts
        .iter()
        .find(|p| p.0 == "lm")
        .map_or(f64::NEG_INFINITY, |p| p.1);
    if lm < floor {
        score.reject(
            "unsure",
            0.0,
            format!("the LM is not sure of it: lm {lm:+.2}, below {floor:+.2}"),
        );
    }
}

/// Character bigrams of `s`, for near-duplicate checks.
fn bigrams(s: &str) -> HashSet<(char, char)> {
    let c: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).collect();
    c.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Whether `a` and `b` are near-duplicates: the same after punctuation, or sharing more than
/// half of their character bigrams (Jaccard).
pub fn near_duplicate(a: &str, b: &str) -> bool {
    let strip = |s: &str| -> String { s.chars().filter(|c| c.is_alphanumeric()).collect() };
    if strip(a) == strip(b) {
        return true;
    }
    let (x, y) = (bigrams(a), bigrams(b));
    let inter = x.intersection(&y).count();
    let union = x.union(&y).count();
    union > 0 && inter as f64 / union as f64 > 0.5
}

/// The index of the best candidate that passes: the highest total among those not rejected
/// and not a near-duplicate of `shown` (ties: the earlier). `None` when none passes.
pub fn best_passing(cands: &[(String, Score)], shown: &[String]) -> Option<usize> {
    (0..cands.len())
        .filter(|&i| {
            let (s, sc) = &cands[i];
            sc.rejected.is_none() && !shown.iter().any(|o| near_duplicate(o, s))
        })
        .max_by(|a, b| by_total(cands, *a, *b))
}

/// The index of the highest total of all candidates, passing or not (ties: the earlier).
pub fn closest(cands: &[(String, Score)]) -> Option<usize> {
    (0..cands.len()).max_by(|a, b| by_total(cands, *a, *b))
}

/// [`best_passing`], failing that [`closest`]. `None` for no candidates.
pub fn best(cands: &[(String, Score)], shown: &[String]) -> Option<usize> {
    best_passing(cands, shown).or_else(|| closest(cands))
}

fn by_total(cands: &[(String, Score)], a: usize, b: usize) -> std::cmp::Ordering {
    cands[a]
        .1
        .total()
        .total_cmp(&cands[b].1.total())
        // Ties: the earlier candidate wins (reproducible).
        .then(b.cmp(&a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(word: &str, s: &str) -> Option<String> {
        text_score(word, s, -10.0, 10).rejected
    }

    #[test]
    fn a_clean_sentence_passes_with_its_lm_score() {
        let sc = text_score("朋友", "我和朋友一起去公园。", -12.0, 10);
        assert_eq!(sc.rejected, None);
        assert_eq!(sc.parts, vec![("lm", -1.2)]);
        assert!((sc.total() + 1.2).abs() < 1e-9);
    }

    #[test]
    fn each_penalty_fires_on_its_own_fault() {
        assert!(rejected("朋友", "我和朋友一起去公园")
            .unwrap()
            .contains("。"));
        assert!(rejected("朋友", "朋友好。").unwrap().contains("characters"));
        assert!(rejected("朋友", &format!("朋友{}。", "很".repeat(30)))
            .unwrap()
            .contains("characters"));
        assert_eq!(rejected("朋友", "我有3个朋友在北京。").unwrap(), "digits");
        assert_eq!(rejected("朋友", "我有３个朋友在北京。").unwrap(), "digits");
        assert_eq!(
            rejected("朋友", "我的朋友喜欢iPhone。").unwrap(),
            "Latin letters"
        );
        assert_eq!(
            rejected("朋友", "我的朋友（小王）来了。").unwrap(),
            "brackets"
        );
        assert_eq!(
            rejected("朋友", "我的朋友说……好吧。").unwrap(),
            "an ellipsis"
        );
        assert!(rejected("朋友", "朋友推荐的这家酒店很好。")
            .unwrap()
            .contains("酒店"));
        assert_eq!(
            rejected("朋友", "朋友朋友朋友都来了。").unwrap(),
            "a repeated phrase"
        );
        assert_eq!(
            rejected("老师", "我和朋友一起去公园。").unwrap(),
            "the word is missing"
        );
    }

    #[test]
    fn a_list_number_or_a_dangling_connective_at_the_start_rejects() {
        let list = Some("a list number at the start".to_string());
        assert_eq!(rejected("经常", "一、经常沟通，不要积累问题。"), list);
        assert_eq!(rejected("经常", "十二、我们经常沟通。"), list);
        assert_eq!(rejected("经常", "三．我们经常沟通。"), list);
        // The numbered points of a report.
        assert_eq!(rejected("经验", "四是工人劳动技能差，劳动经验少。"), list);
        assert_eq!(rejected("农业", "一是加强农业基础地位。"), list);
        assert_eq!(rejected("两", "两是一个数字。"), None);
        // Holidays named by their date are not points.
        assert_eq!(rejected("节日", "五一是劳动节，也是一个节日。"), None);
        assert_eq!(rejected("节日", "十一是国庆节，是一个大节日。"), None);
        // A numeral that starts a sentence is not a list number.
        assert_eq!(rejected("经常", "一个人经常去公园。"), None);
        assert_eq!(rejected("一起", "一起去公园吧，好吗？"), None);
        // Even the connective asked for needs its first clause.
        assert_eq!(
            rejected("但是", "但是，在开放的过程中也碰到一些问题。").unwrap(),
            "opens with 但是, which needs a clause before it"
        );
        assert_eq!(
            rejected("朋友", "但，朋友们都来了。").unwrap(),
            "opens with 但, which needs a clause before it"
        );
        assert!(rejected("所以", "所以我们今天不去了。").is_some());
        assert_eq!(
            rejected("因为", "但她从没有因为经济紧张同我吵过一次嘴。").unwrap(),
            "opens with 但, which needs a clause before it"
        );
        assert_eq!(rejected("希望", "但愿明天不下雨，我希望去爬山。"), None);
        assert_eq!(rejected("帮助", "但凡有人需要帮助，他都会去。"), None);
        assert_eq!(rejected("诗人", "但丁是意大利的诗人。"), None);
        // A rough count, a count-off and 不过 as "no more than" are sentences.
        assert_eq!(rejected("学生", "七、八个学生在教室里看书。"), None);
        assert_eq!(rejected("一起", "一、二、三，大家一起跳！"), None);
        assert_eq!(rejected("学会", "不过三天，他就学会了游泳。"), None);
        assert!(rejected("游泳", "不过，他还是学会了游泳。").is_some());
        // Connectives that go on from something said before (同时，… in 1998 news).
        assert!(rejected("形势", "同时，国际形势的变化也要求我们合作。").is_some());
        assert!(rejected("同时", "同时，我们也要注意安全。").is_some());
        assert!(rejected("学校", "于是他去了学校。").is_some());
        assert_eq!(rejected("进行", "同时进行两件事很难。"), None);
        assert_eq!(rejected("另外", "另外一个问题更难。"), None);
        assert_eq!(rejected("多", "那么多人都来了。"), None);
        // Asked for a word that only links sentences, its opening is its use; 同时 links
        // clauses too.
        assert_eq!(rejected("此外", "此外，我们还要注意安全。"), None);
        assert!(rejected("安全", "此外，我们还要注意安全。").is_some());
        assert!(rejected("同时", "同时，我们也要注意安全。").is_some());
        for c in ["可是", "而且", "因此", "然而"] {
            assert!(
                rejected("学校", &format!("{c}学校今天不上课。")).is_some(),
                "{c}"
            );
        }
        // In the middle it is what a class wants; 但愿 and 所有 are other words.
        assert_eq!(rejected("但是", "天气很冷，但是我们还是去了。"), None);
        assert_eq!(rejected("所以", "因为下雨，所以我们没去公园。"), None);
        assert_eq!(rejected("朋友", "但愿朋友们都平安。"), None);
        assert_eq!(rejected("朋友", "所有的朋友都来了。"), None);
    }

    #[test]
    fn the_word_itself_is_not_penalised() {
        // A word with Latin letters or a boilerplate word as the asked-for word is fine.
        assert_eq!(rejected("T恤", "这件T恤很好看。"), None);
        assert_eq!(rejected("记者", "她想当一名记者。"), None);
    }

    #[test]
    fn generic_openings_cost_a_little_unless_the_word_opens() {
        let sc = text_score("书", "这个书包里有一本书。", -10.0, 10);
        assert!(sc.parts.contains(&("opening", GENERIC_OPENING)));
        assert_eq!(sc.rejected, None);
        let sc = text_score("书", "书包里有一本书。", -10.0, 10);
        assert!(!sc.parts.iter().any(|p| p.0 == "opening"));
        // The word itself opening the sentence is never generic (我们 for 我们).
        let sc = text_score("我们", "我们明天去公园。", -10.0, 10);
        assert!(!sc.parts.iter().any(|p| p.0 == "opening"));
    }

    #[test]
    fn many_clauses_cost_but_do_not_reject() {
        let sc = text_score("天气", "天气好，我们去，他们也去，大家都去。", -10.0, 10);
        assert_eq!(sc.rejected, None);
        assert!(sc.parts.contains(&("clauses", -0.5)));
    }

    #[test]
    fn best_prefers_passing_then_higher_then_earlier_and_skips_near_duplicates() {
        let ok = |s: &str, lm: f64| (s.to_string(), text_score("书", s, lm, 1));
        let cands = vec![
            ok("我有3本书在家里。", 0.0), // rejected (digits) despite the best LM score
            ok("这本书很有意思。", -2.0),
            ok("他在看一本书。", -1.0),
            ok("他在看一本新书。", -1.0),
        ];
        assert_eq!(best(&cands, &[]), Some(2));
        // The same sentence as one already shown is skipped.
        assert_eq!(best(&cands, &["他在看一本书！".to_string()]), Some(1));
        // Nothing passes: the best total of all.
        let bad = vec![ok("我有3本书。", -1.0), ok("书。", -0.5)];
        assert_eq!(best(&bad, &[]), Some(1));
        assert_eq!(best_passing(&bad, &[]), None, "strict: nothing passes");
        assert_eq!(closest(&bad), Some(1));
        assert_eq!(best(&[], &[]), None);
    }

    #[test]
    fn the_floor_rejects_what_the_lm_is_not_sure_of() {
        let mut sure = text_score("书", "他在看一本书。", -5.6, 8);
        apply_floor(&mut sure, -0.8);
        assert_eq!(sure.rejected, None, "lm -0.70 is above the floor");
        let mut unsure = text_score("书", "他在看一本书。", -7.2, 8);
        apply_floor(&mut unsure, -0.8);
        let why = unsure.rejected.clone().unwrap();
        assert!(
            why.contains("not sure") && why.contains("-0.90") && why.contains("-0.80"),
            "{why}"
        );
        // A text fault keeps its own reason; the floor adds no cost of its own.
        let mut both = text_score("书", "我有3本书在家里。", -9.0, 8);
        apply_floor(&mut both, -0.8);
        assert_eq!(both.rejected.as_deref(), Some("digits"));
        let total = text_score("书", "我有3本书在家里。", -9.0, 8).total();
        assert_eq!(both.total(), total);
        let (a, b) = (
            ("他在看一本书。".to_string(), sure),
            ("他在看书。".to_string(), unsure),
        );
        assert_eq!(best_passing(&[b.clone(), a.clone()], &[]), Some(1));
        assert_eq!(best_passing(&[b], &[]), None);
    }

    #[test]
    fn near_duplicates() {
        assert!(near_duplicate("我喜欢看书。", "我喜欢看书！"));
        assert!(near_duplicate("我每天都喜欢看书。", "我每天都喜欢看报。"));
        assert!(!near_duplicate("我喜欢看书。", "他明天去北京。"));
    }

    #[test]
    fn explain_lists_the_parts() {
        let mut sc = text_score("书", "我有3本书。", -3.0, 3);
        sc.add("hsk", -0.25);
        let e = sc.explain();
        assert!(e.starts_with("score "), "{e}");
        assert!(e.contains("lm -1.00") && e.contains("digits -3.00") && e.contains("hsk -0.25"));
        assert!(e.ends_with("rejected: digits"), "{e}");
    }
}
