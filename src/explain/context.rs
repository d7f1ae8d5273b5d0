//! The reading and the sense that fit the sentence: [`explain_in_context`] chooses each word's
//! CC-CEDICT entry and sense from its part of speech (PKU tag, when the model gives one) and
//! its neighbours.
//!
//! Three layers, in order:
//! 1. **Numeral + measure word** written as one word (一行, 两张): read as numeral plus the
//!    measure word's classifier reading when the tag (`m`, `q`) or the next word (a noun) says so.
//! 2. **The polyphone table** (`data/polyphones/`) for frequent polyphonic characters standing
//!    alone: rules on the tag and the neighbours pick the reading (得/v before a verb → děi,
//!    还 before a pronoun → huán) and, for function words, the sense (在 → "located at"); and
//!    for everyday words whose dictionary entries mislead in their order (告诉 gàosu, 故事
//!    gùshi, 一起 "together").
//! 3. **POS → entry and sense** for every other word: CC-CEDICT senses carry cues ("to …" is a
//!    verb, "classifier for …", "(particle)", "surname …", "variant of …", "used in …") and
//!    proper names are capitalised; the first entry with a sense of the tag's kind wins, and
//!    that sense leads the gloss. Proper-name and surname entries count only under `nr ns nt
//!    nz` (otherwise they are a last resort), and a word whose only entry is a person's name
//!    (大桥 "Da Qiao") is read from its characters under any other tag.
//!
//! Without a tag, neighbours are classed by a small closed list (pronouns, adverbs, particles …)
//! or by their best entry's first sense. Where plausible readings remain, they are listed in
//! [`Explanation::other_readings`].

use super::cedict::Entry;
use super::dictionary::Dictionary;
use super::explanation::{char_reading, explain, gloss_of, Explanation, CHAR_GLOSS_MAX, GLOSS_MAX};
use super::gloss::{clean_sense, is_note_sense};
use super::pinyin::numbered_to_marks;
use super::polyphones::{table, Around, Rule, NEAR, QUANTITY};
use super::pos_tags::{coarse, is_name_tag};
use crate::text::is_han;

/// Explains each of `words` (one sentence, in order) with the reading and sense that fit its
/// tag (`tags[i]`, PKU; `None` when the model has no POS, or when `tags` is shorter) and its
/// neighbours. [`Explanation::pos`] is the tag used, [`Explanation::chosen`] the entry chosen,
/// and `pinyin`, `gloss` and `chars` follow it. Never panics.
pub fn explain_in_context(
    dict: &Dictionary,
    words: &[&str],
    tags: &[Option<&str>],
) -> Vec<Explanation> {
    explain_in_context_hinted(dict, words, tags, &[])
}

/// [`explain_in_context`] with the model's tags of the words whose `tags[i]` is withheld
/// (`hints[i]`: a one-character word's, see [`crate::annotate::reading_hints`]). A hint is seen
/// only by the polyphone table's `hint=` rows, written for the characters and uses where the
/// model's tag is reliable and placed after the rows on the neighbours (种 tagged verb in
/// 路两边种满了树 is zhòng; 得 tagged verb is not děi, since no row asks for that hint).
pub fn explain_in_context_hinted(
    dict: &Dictionary,
    words: &[&str],
    tags: &[Option<&str>],
    hints: &[Option<&str>],
) -> Vec<Explanation> {
    let tag_at = |i: usize| tags.get(i).copied().flatten();
    let classes: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| match tag_at(i) {
            Some(t) => coarse(t).to_string(),
            None => guess_class(dict, w).to_string(),
        })
        .collect();
    let mut out: Vec<Explanation> = (0..words.len())
        .map(|i| {
            let prev = i.checked_sub(1).and_then(|j| words.get(j)).copied();
            let next = words.get(i + 1).copied();
            let class = |j: Option<usize>| {
                j.and_then(|j| classes.get(j))
                    .map_or("none", String::as_str)
            };
            let tag = tag_at(i);
            let c = super::frames::clause(words, i);
            let ahead = &words[(i + 1).min(c.end)..(i + 1 + NEAR).min(c.end)];
            let behind = &words[i.saturating_sub(NEAR).max(c.start)..i.max(c.start)];
            let around = Around {
                tag,
                coarse: tag.map(coarse),
                prev,
                next,
                prev_class: class(i.checked_sub(1)),
                next_class: class(Some(i + 1)),
                hint: hints.get(i).copied().flatten().filter(|_| tag.is_none()),
                ahead,
                behind,
            };
            explain_one(dict, words[i], &around)
        })
        .collect();
    // Pairs within a clause (一…就, 又…又, 越…越): the sense of the pair, where the word's
    // dictionary entries have it.
    // Then function words read by the frame of their clause (快…了, 连…都, 就 after an amount).
    let class_refs: Vec<&str> = classes.iter().map(String::as_str).collect();
    let mut senses = super::pairs::paired_senses(words, &class_refs);
    for (i, cue) in super::frames::framed_senses(words, &class_refs) {
        if !senses.iter().any(|&(j, _)| j == i) {
            senses.push((i, cue));
        }
    }
    for (i, cue) in senses {
        let Some(ex) = out.get_mut(i) else { continue };
        // `@WORD`: a use CC-CEDICT lists under that word only (有 点儿 累: 有点儿 "slightly").
        if let Some(w) = cue.strip_prefix('@') {
            if let Some(g) = borrowed(dict, w, &None) {
                ex.gloss = g;
            }
            continue;
        }
        // `=TEXT`: the sense that contains it, shown as TEXT (三年前 "ago", not "ago; before; BC").
        let (cue, exact) = match cue.strip_prefix('=') {
            Some(text) => (text, true),
            None => (cue, false),
        };
        let found = ex.entries.iter().enumerate().find_map(|(k, e)| {
            let s = e.senses.iter().position(|s| {
                if exact {
                    s.contains(cue)
                } else {
                    s.starts_with(cue)
                }
            })?;
            (!is_name_entry(e)).then_some((k, s))
        });
        if let Some((k, s)) = found {
            apply(dict, ex, k, Some(s), Vec::new());
            if exact {
                ex.gloss = cue.to_string();
            }
        }
    }
    out
}

/// What kind of meaning a CC-CEDICT sense gives, from its wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Verb,
    Classifier,
    Particle,
    Preposition,
    Conjunction,
    Adverb,
    Name,
    /// Variant, "used in", "see", bound form, archaic: points elsewhere.
    Weak,
    /// Classifier lists and pronunciation notes.
    Note,
    /// Anything else: nouns, adjectives, numbers, pronouns.
    Other,
}

const PREPOSITION_WORDS: &[&str] = &[
    "at",
    "in",
    "on",
    "from",
    "to",
    "towards",
    "toward",
    "with",
    "for",
    "by",
    "than",
    "via",
    "through",
    "along",
    "concerning",
    "regarding",
    "compared",
    "according",
    "since",
    "until",
    "about",
    "into",
    "onto",
    "together",
];
const CONJUNCTION_WORDS: &[&str] = &[
    "and",
    "or",
    "but",
    "if",
    "because",
    "although",
    "though",
    "so",
    "however",
    "therefore",
    "whether",
];
const ADVERB_WORDS: &[&str] = &[
    "too",
    "very",
    "still",
    "also",
    "all",
    "only",
    "just",
    "already",
    "again",
    "even",
    "then",
    "extremely",
    "not",
    "never",
    "quite",
    "rather",
    "fairly",
    "more",
    "most",
    "less",
    "how",
    "always",
    "often",
    "once",
    "soon",
    "almost",
    "really",
    "yet",
    "ever",
    "no",
    "merely",
    "will",
    "shall",
];
/// Modal verbs glossed without "to" ("can; may").
const MODAL_WORDS: &[&str] = &["can", "may", "must", "should", "ought"];

/// Whether the sense `ex` leads with can be read under `tag` (PKU): false only where it is
/// clearly of another kind than the tag asks for (还 "to pay back" under an adverb tag, 长
/// "to grow" under an adjective tag). Nouns, adjectives and untyped senses fit any tag.
pub fn sense_fits_tag(ex: &Explanation, tag: &str) -> bool {
    let wanted = wanted_kinds(coarse(tag));
    let lead = ex.gloss.split("; ").next().unwrap_or("");
    let kind = sense_kind(lead);
    let typed = !matches!(kind, Kind::Other | Kind::Weak | Kind::Note);
    wanted.is_empty() || !typed || wanted.contains(&kind)
}

/// The kind of one sense.
fn sense_kind(sense: &str) -> Kind {
    if is_note_sense(sense) {
        return Kind::Note;
    }
    let s = sense.trim().to_lowercase();
    if s.starts_with("surname ") {
        return Kind::Name;
    }
    if s.contains("variant of")
        || s.starts_with("used in ")
        || s.starts_with("see ")
        || s.starts_with("(archaic)")
        || s.starts_with("archaic ")
        || s.starts_with("(old)")
        || s.starts_with("old form")
        || s.starts_with("(obsolete)")
    {
        return Kind::Weak;
    }
    if s.starts_with("classifier") || s.starts_with("(classifier") || s.contains("classifier for") {
        return Kind::Classifier;
    }
    if s.contains("particle") || s.contains("marker") {
        return Kind::Particle;
    }
    if s.contains("used to put the object")
        || s.contains("passive voice")
        || s.contains("indicates the agent")
        || s.contains("more {adj.} than")
    {
        return Kind::Preposition;
    }
    // Leading parentheticals, "(of sb or sth) to be (located) at" → "to be (located) at".
    let mut core = s.as_str();
    while let Some(rest) = core.strip_prefix('(') {
        match rest.find(')') {
            Some(end) => core = rest[end + 1..].trim_start(),
            None => break,
        }
    }
    if core.starts_with("(used before a verb") || s.starts_with("(used before a verb") {
        return Kind::Particle;
    }
    // "to …", or a modal listed with its verb gloss ("can; to have the skill").
    if core.starts_with("to ") || core.split("; ").any(|part| part.starts_with("to ")) {
        return Kind::Verb;
    }
    let first = core
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    if MODAL_WORDS.contains(&first) {
        return Kind::Verb;
    }
    if s.starts_with("(joining") || CONJUNCTION_WORDS.contains(&first) {
        return Kind::Conjunction;
    }
    if PREPOSITION_WORDS.contains(&first) {
        return Kind::Preposition;
    }
    let one_word = !core.contains(' ');
    if ADVERB_WORDS.contains(&first) || (one_word && first.len() > 4 && first.ends_with("ly")) {
        return Kind::Adverb;
    }
    Kind::Other
}

/// The sense kinds a tag asks for, best first; empty when any will do.
fn wanted_kinds(coarse: &str) -> &'static [Kind] {
    match coarse {
        "v" => &[Kind::Verb],
        "q" => &[Kind::Classifier],
        "p" => &[Kind::Preposition, Kind::Conjunction, Kind::Verb],
        "c" => &[Kind::Conjunction, Kind::Preposition],
        "u" | "y" | "e" | "o" => &[Kind::Particle],
        "d" => &[Kind::Adverb, Kind::Particle],
        "a" | "b" | "z" | "n" | "s" | "t" | "f" | "m" | "r" | "i" | "k" | "h" => &[Kind::Other],
        "nr" | "ns" | "nt" | "nz" => &[Kind::Name, Kind::Other],
        _ => &[],
    }
}

/// Whether one of `e`'s senses is a measure word's ("classifier for …").
pub fn has_classifier_sense(e: &Entry) -> bool {
    e.senses.iter().any(|s| sense_kind(s) == Kind::Classifier)
}

/// A proper-name entry: capitalised pinyin, or a first sense "surname …".
fn is_name_entry(e: &Entry) -> bool {
    e.pinyin_numbered
        .starts_with(|c: char| c.is_ascii_uppercase())
        || e.senses
            .first()
            .is_some_and(|s| s.to_lowercase().starts_with("surname "))
}

/// An entry whose senses all point elsewhere (variants, "used in") or are bound forms only
/// (的 di4 "(bound form) bull's-eye").
fn is_weak_entry(e: &Entry) -> bool {
    e.senses
        .iter()
        .all(|s| matches!(sense_kind(s), Kind::Weak | Kind::Note) || s.starts_with("(bound form)"))
}

/// Whether an entry is a person (its first sense starts with the name romanised from its own
/// pinyin, family and given name apart: 大桥 `[Da4 Qiao2]` "Da Qiao, one of …").
fn is_person_entry(e: &Entry) -> bool {
    if e.is_personal_name() {
        return true;
    }
    let syl: Vec<String> = e
        .pinyin_numbered
        .split_whitespace()
        .map(|s| {
            s.chars()
                .filter(|c| c.is_ascii_alphabetic())
                .collect::<String>()
                .to_lowercase()
        })
        .collect();
    if !(2..=3).contains(&syl.len()) || !e.pinyin_numbered.starts_with(|c: char| c.is_uppercase()) {
        return false;
    }
    let name = format!("{} {}", syl[0], syl[1..].concat());
    e.senses.first().is_some_and(|s| {
        let s = s.to_lowercase();
        s.strip_prefix(&name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([',', ' ', ';']))
    })
}

/// A guessed coarse class for a neighbour without a tag: closed lists for function words,
/// else its best entry's first sense.
fn guess_class(dict: &Dictionary, word: &str) -> &'static str {
    const R: &[&str] = &[
        "我",
        "你",
        "您",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "她们",
        "它们",
        "咱们",
        "咱",
        "自己",
        "大家",
        "别人",
        "这",
        "那",
        "哪",
        "这个",
        "那个",
        "哪个",
        "这些",
        "那些",
        "哪些",
        "这里",
        "那里",
        "哪里",
        "这儿",
        "那儿",
        "哪儿",
        "什么",
        "谁",
        "怎么",
        "怎么样",
        "这样",
        "那样",
        "这么",
        "那么",
        "多少",
        "人家",
        "每",
        "各",
    ];
    const D: &[&str] = &[
        "很",
        "也",
        "都",
        "还",
        "就",
        "才",
        "不",
        "没",
        "已经",
        "真",
        "太",
        "非常",
        "特别",
        "比较",
        "最",
        "更",
        "又",
        "再",
        "常",
        "常常",
        "经常",
        "一直",
        "一起",
        "一定",
        "马上",
        "刚",
        "刚才",
        "正",
        "正在",
        "只",
        "总",
        "总是",
        "先",
        "大概",
        "也许",
        "突然",
        "终于",
        "其实",
        "当然",
        "别",
        "挺",
        "有点",
        "有点儿",
        "十分",
        "越",
        "赶快",
        "互相",
        "一共",
        "几乎",
        "往往",
        "永远",
        "还是",
        "多",
        "好好",
        "慢慢",
        "快",
        "不要",
        "要",
    ];
    const P: &[&str] = &[
        "在", "把", "被", "从", "对", "向", "跟", "比", "给", "让", "往", "离", "为", "为了",
        "关于", "按照", "通过", "除了", "由", "朝", "替",
    ];
    const C: &[&str] = &[
        "和", "但是", "可是", "因为", "所以", "如果", "虽然", "而且", "或者", "然后", "不过",
        "要是", "只要", "而", "并且", "于是", "但",
    ];
    const U: &[&str] = &["的", "地", "得", "了", "着", "过", "之", "所", "等"];
    const Y: &[&str] = &["吗", "呢", "吧", "啊", "呀", "嘛", "啦"];
    const Q: &[&str] = &[
        "个", "本", "张", "只", "条", "件", "位", "杯", "次", "块", "斤", "岁", "元", "毛", "口",
        "辆", "双", "台", "支", "瓶", "碗", "节", "层", "封", "首", "场", "座", "间", "趟", "遍",
        "些", "点儿", "种", "家",
    ];
    const T: &[&str] = &[
        "今天", "明天", "昨天", "现在", "以前", "以后", "早上", "晚上", "上午", "下午", "中午",
        "去年", "明年", "今年", "周末", "后天", "前天",
    ];
    const F: &[&str] = &[
        "上", "下", "里", "外", "前", "后", "中", "旁边", "里面", "外面", "上面", "下面", "前面",
        "后面", "左", "右",
    ];
    const A: &[&str] = &[
        "好", "大", "小", "高", "矮", "长", "短", "快", "慢", "热", "冷", "累", "忙", "远", "近",
        "新", "旧", "贵", "便宜", "漂亮", "好看", "难", "容易", "高兴", "干净", "清楚", "舒服",
        "重要", "认真", "开心", "难过", "早", "晚", "对", "错", "重", "轻", "胖", "瘦", "红", "白",
        "黑", "饿", "渴", "饱", "困", "好吃", "好听", "聪明", "少", "多", "干", "空", "差", "对",
    ];
    let lists: [(&[&str], &'static str); 10] = [
        (R, "r"),
        (D, "d"),
        (P, "p"),
        (C, "c"),
        (U, "u"),
        (Y, "y"),
        (T, "t"),
        (F, "f"),
        (A, "a"),
        (Q, "q"),
    ];
    if let Some((_, c)) = lists.iter().find(|(l, _)| l.contains(&word)) {
        return c;
    }
    if word.is_empty() {
        return "none";
    }
    if !word.chars().any(is_han) {
        let half = crate::text::to_halfwidth_str(word);
        return if half.chars().all(|c| c.is_ascii_digit() || c == '.') {
            "m"
        } else if half.chars().any(char::is_alphabetic) {
            "nx"
        } else {
            "w"
        };
    }
    if word.chars().all(|c| QUANTITY.contains(c)) {
        return "m";
    }
    let entries = dict.lookup(word);
    let Some(best) = entries
        .iter()
        .find(|e| !is_name_entry(e) && !is_weak_entry(e))
    else {
        return if entries.is_empty() { "n" } else { "nz" };
    };
    match leading_kind(best) {
        Kind::Verb => "v",
        Kind::Classifier => "q",
        Kind::Particle => "u",
        Kind::Preposition => "p",
        Kind::Conjunction => "c",
        Kind::Adverb => "d",
        _ => "n",
    }
}

/// The first of `entries` (by index) that `ok` accepts.
fn first_index(entries: &[Entry], ok: impl Fn(&Entry) -> bool) -> Option<usize> {
    entries.iter().position(ok)
}

/// Common surnames (one character) that are also everyday words; not those that are mostly
/// function words (于, 向, 和 …), so that 向老师 stays "towards the teacher".
pub(super) const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵钱严武戴莫孔汤";

/// Words that follow a surname as a title or a form of address.
const TITLES: &[&str] = &[
    "先生", "小姐", "女士", "太太", "夫人", "老师", "师傅", "阿姨", "叔叔", "伯伯", "奶奶", "爷爷",
    "经理", "医生", "大夫", "同学", "教授", "主任", "校长", "老板", "警官",
];

/// Whether `word` is a common surname used as one here: before a title, before a word the
/// model tags as a person's name (王 小明), or after 姓.
fn surname_here(word: &str, a: &Around<'_>) -> bool {
    let mut cs = word.chars();
    let (Some(c), None) = (cs.next(), cs.next()) else {
        return false;
    };
    SURNAMES.contains(c)
        && (a.next.is_some_and(|n| TITLES.contains(&n))
            || a.next_class == "nr"
            || a.prev == Some("姓"))
}

/// A surname entry: capitalised reading, first sense "surname …".
pub(super) fn is_surname_entry(e: &Entry) -> bool {
    e.pinyin_numbered
        .starts_with(|c: char| c.is_ascii_uppercase())
        && e.senses.first().is_some_and(|s| s.starts_with("surname "))
}

/// Explains one word in its context.
fn explain_one(dict: &Dictionary, word: &str, a: &Around<'_>) -> Explanation {
    let mut ex = explain(dict, word);
    ex.pos = a.tag.map(str::to_string);
    let name_tag = a.tag.is_some_and(is_name_tag);

    // A clock time or a decimal the dictionary lacks (七点半, 差五分九点, 三点五): the time or
    // the number it says.
    if let Some(entry) = ex
        .entries
        .is_empty()
        .then(|| {
            super::clock::clock_entry(word)
                .or_else(|| super::clock::decimal_entry(word))
                .or_else(|| super::clock::integer_entry(word))
        })
        .flatten()
    {
        ex.entries.push(entry);
        apply(dict, &mut ex, 0, None, Vec::new());
        return ex;
    }
    if let Some(done) = numeral_classifier(dict, &ex, a) {
        return done;
    }
    if ex.entries.is_empty() {
        // A name the dictionary lacks (小明 tagged as a person's name): say so before what its
        // characters mean.
        if ex.from_chars && a.tag == Some("nr") && !ex.gloss.starts_with("(familiar name)") {
            ex.gloss = format!("(a name) {}", ex.gloss);
        }
        return ex;
    }

    // A common surname before a title or a given name (王老师, 李先生, 张阿姨, 王 小明): its
    // surname entry, not "king", "plum" or the classifier.
    if surname_here(word, a) {
        if let Some(i) = first_index(&ex.entries, is_surname_entry) {
            apply(dict, &mut ex, i, None, Vec::new());
            return ex;
        }
    }

    // 2. The polyphone table, for one character alone or a word it lists (not under a name
    // tag).
    let mut chars = word.chars();
    let single = match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    };
    // A traditional form finds the row of its simplified one (還 → 还, 告訴 → 告诉).
    let rules = if name_tag {
        None
    } else {
        table().get(word).or_else(|| match single {
            Some(c) => table().get(simplify(dict, c)?.to_string().as_str()),
            None => ex
                .entries
                .iter()
                .map(|e| e.simplified.as_str())
                .find(|s| *s != word)
                .and_then(|s| table().get(s)),
        })
    };
    if let Some(rules) = rules {
        if let Some(rule) = rules.iter().find(|r| r.holds(a)) {
            // With a sense cue, the entry of that reading that has the sense (年 nian2 "year",
            // not the variant entry of the same reading whose first sense is "grain").
            let cued = rule.sense.as_deref().and_then(|cue| {
                first_index(&ex.entries, |e| {
                    e.pinyin_numbered == rule.reading && find_sense(e, cue).is_some()
                })
            });
            if let Some(i) = cued.or_else(|| entry_with_reading(&ex.entries, &rule.reading)) {
                let cued_sense = rule
                    .sense
                    .as_deref()
                    .and_then(|cue| find_sense(&ex.entries[i], cue));
                let sense = cued_sense.or_else(|| {
                    // A `hint=` row without a sense: the sense of the hinted kind.
                    let t = if rule.asks_hint() {
                        a.hint.map(coarse)
                    } else {
                        a.coarse
                    };
                    t.and_then(|t| sense_of_kinds(&ex.entries[i], t))
                });
                let others = if rule.sure {
                    Vec::new()
                } else {
                    table_alternatives(&ex.entries, rules, &rule.reading)
                };
                apply(dict, &mut ex, i, sense, others);
                // `=TEXT`: only where the chosen entry has the sense that contains it.
                if let (true, Some(text), Some(_)) = (rule.exact, &rule.sense, cued_sense) {
                    ex.gloss = text.clone();
                }
                if let Some(g) = rule
                    .borrow
                    .as_ref()
                    .and_then(|(w, cue)| borrowed(dict, w, cue))
                {
                    ex.gloss = g;
                }
                return ex;
            }
        }
    }

    // 3. POS → entry and sense.
    let allowed = |e: &Entry| name_tag || !is_name_entry(e);
    let usable = |e: &Entry| allowed(e) && !is_weak_entry(e);
    let wanted: &[Kind] = a.coarse.map_or(&[], wanted_kinds);

    // Only a person's name, under a tag that is not a name: read it from the characters. So
    // too only names of a place word that ends in a place suffix (水里 "water + inside", not
    // "Shuili Township"; 山下 not "Yamashita"; but 西方 stays "the West").
    if a.tag.is_some()
        && !name_tag
        && ex.entries.iter().all(is_name_entry)
        && (ex.entries.iter().any(is_person_entry)
            || (matches!(a.coarse, Some("s" | "f"))
                && word
                    .chars()
                    .last()
                    .is_some_and(|c| "里上下边中外内前后".contains(c))))
    {
        if let Some(e) = from_characters(dict, word, &ex.entries[0]) {
            ex.entries.push(e);
            let i = ex.entries.len() - 1;
            apply(dict, &mut ex, i, None, Vec::new());
            return ex;
        }
    }

    let has_wanted = |e: &Entry| {
        e.senses
            .iter()
            .any(|s| wanted.contains(&sense_kind(s)) && sense_kind(s) != Kind::Note)
    };
    let chosen = if name_tag {
        first_index(&ex.entries, is_name_entry)
    } else {
        None
    }
    .or_else(|| {
        (!wanted.is_empty())
            .then(|| first_index(&ex.entries, |e| usable(e) && has_wanted(e)))
            .flatten()
    })
    .or_else(|| first_index(&ex.entries, usable))
    .or_else(|| first_index(&ex.entries, allowed))
    .unwrap_or(0);
    // Untagged, one character after a degree adverb (很困, 太累, 有点困): a quality, so of the
    // entries with the chosen reading, one that leads with an adjective-like sense (困 kùn
    // "sleepy", CC-CEDICT's 睏, not "to trap"). The reading stays: telling readings apart is
    // the polyphone table's job.
    let after_degree = a.coarse.is_none() && single.is_some() && a.prev.is_some_and(is_degree);
    let chosen = if after_degree && leading_kind(&ex.entries[chosen]) == Kind::Verb {
        let reading = ex.entries[chosen].pinyin_numbered.clone();
        first_index(&ex.entries, |e| {
            usable(e) && e.pinyin_numbered == reading && leading_kind(e) == Kind::Other
        })
        .unwrap_or(chosen)
    } else {
        chosen
    };
    // Untagged, one character after a numeral or demonstrative (一名, 这条, 三位): a measure
    // word, so its classifier sense leads (not 名 "name").
    let after_quantity = a
        .prev
        .and_then(|w| w.chars().last())
        .is_some_and(|c| super::polyphones::QUANTITY.contains(c));
    let as_measure = a.coarse == Some("q") || (a.coarse.is_none() && after_quantity);
    // A measure word CC-CEDICT gives no classifier sense (一 包 烟: "packet", not "to cover").
    let measure_cue = single
        .and_then(measure_sense)
        .filter(|_| as_measure)
        .and_then(|cue| find_sense(&ex.entries[chosen], cue));
    let sense = measure_cue
        .or_else(|| {
            a.coarse
                .filter(|_| !name_tag)
                .and_then(|t| sense_of_kinds(&ex.entries[chosen], t))
        })
        .or_else(|| {
            (a.coarse.is_none() && single.is_some() && after_quantity)
                .then(|| sense_of_kinds(&ex.entries[chosen], "q"))
                .flatten()
        });
    // Other readings: usable entries with another pinyin, of the wanted kind if tagged.
    let mine = ex.entries[chosen].pinyin_numbered.to_lowercase();
    let mut others: Vec<String> = Vec::new();
    for e in &ex.entries {
        let p = e.pinyin_numbered.to_lowercase();
        if p == mine || !usable(e) || (!wanted.is_empty() && !has_wanted(e)) {
            continue;
        }
        let marks = numbered_to_marks(&p);
        if !others.contains(&marks) {
            others.push(marks);
        }
    }
    apply(dict, &mut ex, chosen, sense, others);
    ex
}

/// Degree adverbs: what follows them is a quality (很困, 太长, 有点累). Not 这么, 那么, 多么,
/// which come before verbs too (你这么签就行: "this way").
const DEGREE: &[&str] = &[
    "很",
    "太",
    "真",
    "挺",
    "非常",
    "特别",
    "十分",
    "比较",
    "最",
    "更",
    "有点",
    "有点儿",
    "有些",
    "越来越",
    "极",
    "极其",
    "相当",
    "蛮",
];

fn is_degree(word: &str) -> bool {
    DEGREE.contains(&word)
}

/// The kind of an entry's first sense that is not a note (`Weak` when it has none).
fn leading_kind(e: &Entry) -> Kind {
    e.senses
        .iter()
        .map(|s| sense_kind(s))
        .find(|k| *k != Kind::Note)
        .unwrap_or(Kind::Weak)
}

/// Reads a one-character word as `numbered` (one CC-CEDICT syllable), the reading a word it
/// forms across other words gives it (觉 in 睡…觉 is jiào, 当 in 上…当 dàng), and clears its
/// other readings: the whole word settles them. Leaves `ex` alone when no entry has that
/// reading.
pub(crate) fn settle_reading(dict: &Dictionary, ex: &mut Explanation, numbered: &str) {
    let mine = ex
        .entries
        .get(ex.chosen)
        .map(|e| e.pinyin_numbered.to_lowercase());
    if mine.as_deref() == Some(numbered.to_lowercase().as_str()) {
        ex.other_readings.clear();
        return;
    }
    if let Some(i) = entry_with_reading(&ex.entries, numbered) {
        let sense = ex
            .pos
            .as_deref()
            .and_then(|t| sense_of_kinds(&ex.entries[i], coarse(t)));
        apply(dict, ex, i, sense, Vec::new());
    }
}

/// The simplified form of a traditional character, through the dictionary (還 → 还).
fn simplify(dict: &Dictionary, c: char) -> Option<char> {
    let mut buf = [0u8; 4];
    let e = dict.lookup(c.encode_utf8(&mut buf)).first()?;
    let mut s = e.simplified.chars();
    match (s.next(), s.next()) {
        (Some(s), None) if s != c => Some(s),
        _ => None,
    }
}

/// The entry whose reading is `reading` (CC-CEDICT numbered): a lower-case one first.
fn entry_with_reading(entries: &[Entry], reading: &str) -> Option<usize> {
    first_index(entries, |e| {
        e.pinyin_numbered == reading && !is_weak_entry(e)
    })
    .or_else(|| first_index(entries, |e| e.pinyin_numbered == reading))
    .or_else(|| first_index(entries, |e| e.pinyin_numbered.eq_ignore_ascii_case(reading)))
}

/// The index of the sense of `e` that is `cue`, else starts with it, else contains it.
fn find_sense(e: &Entry, cue: &str) -> Option<usize> {
    e.senses
        .iter()
        .position(|s| s == cue)
        .or_else(|| e.senses.iter().position(|s| s.starts_with(cue)))
        .or_else(|| e.senses.iter().position(|s| s.contains(cue)))
}

/// The gloss of a use CC-CEDICT lists under `word` only (点 in 穿点衣服 is 一点 "a bit; a
/// little"): the senses of `word`'s first entry that contain the cues (`|` between them; its
/// first sense without a cue), then "(as in `word`)". `None` when a cue is not found.
pub(super) fn borrowed(dict: &Dictionary, word: &str, cue: &Option<String>) -> Option<String> {
    let e = dict.lookup(word).first()?;
    let senses = match cue {
        Some(c) => c
            .split('|')
            .map(|c| find_sense(e, c.trim()).map(|i| e.senses[i].clone()))
            .collect::<Option<Vec<_>>>()?,
        None => vec![e.senses.first()?.clone()],
    };
    let shown = Entry {
        senses,
        ..e.clone()
    };
    Some(format!("{} (as in {word})", shown.short_gloss(GLOSS_MAX)))
}

/// The first sense of `e` of a kind the coarse tag asks for.
fn sense_of_kinds(e: &Entry, coarse: &str) -> Option<usize> {
    let wanted = wanted_kinds(coarse);
    e.senses
        .iter()
        .position(|s| wanted.contains(&sense_kind(s)))
}

/// The table's other readings of a character that the dictionary has, tone-marked.
fn table_alternatives(entries: &[Entry], rules: &[Rule], chosen: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rules {
        if r.reading != chosen && entry_with_reading(entries, &r.reading).is_some() {
            let m = numbered_to_marks(&r.reading);
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// Sets `ex` to entry `i` and sense `sense` (the gloss starts with that sense and goes on with
/// later senses of its kind), with `others` as the other readings.
fn apply(
    dict: &Dictionary,
    ex: &mut Explanation,
    i: usize,
    sense: Option<usize>,
    others: Vec<String>,
) {
    let Some(entry) = ex.entries.get(i) else {
        return;
    };
    ex.chosen = i;
    ex.other_readings = others;
    ex.pinyin = entry.pinyin();
    let shown = match sense.filter(|&s| s < entry.senses.len()) {
        Some(s) if s > 0 => {
            let kind = sense_kind(&entry.senses[s]);
            let mut senses = vec![entry.senses[s].clone()];
            senses.extend(
                entry
                    .senses
                    .iter()
                    .enumerate()
                    .filter(|&(j, t)| j > s && sense_kind(t) == kind)
                    .map(|(_, t)| t.clone()),
            );
            Entry {
                senses,
                ..entry.clone()
            }
        }
        _ => entry.clone(),
    };
    ex.gloss = gloss_of(dict, &shown);
    let chars: Vec<char> = ex.word.chars().collect();
    let syllables: Vec<&str> = shown.pinyin_numbered.split_whitespace().collect();
    let aligned = syllables.len() == chars.len();
    ex.chars = chars
        .iter()
        .enumerate()
        .map(|(k, &c)| char_reading(dict, c, syllables.get(k).copied().filter(|_| aligned)))
        .collect();
    if let ([c], true) = (ex.chars.as_mut_slice(), aligned) {
        if is_han(c.ch) {
            c.gloss = Some(shown.short_gloss(CHAR_GLOSS_MAX));
        }
    }
}

/// Units read with their own sense after a number (see [`numeral_classifier`]).
const UNIT_SENSES: &[(char, &str)] = &[
    ('点', "o'clock"),
    ('号', "day of a month"),
    ('块', "(coll.) classifier for money"),
    ('度', "degree (angles"),
    ('楼', "floor"),
];

/// Measure words that CC-CEDICT gives no classifier sense, with the sense they count by: 一双
/// is "one + pair", not "one + two".
const MEASURE_SENSES: &[(char, &str)] = &[
    ('双', "pair"),
    ('包', "packet"),
    ('堆', "pile"),
    ('群', "group"),
    ('滴', "a drop"),
    ('盒', "small box"),
    ('箱', "box"),
    ('袋', "bag"),
    ('桶', "bucket"),
    ('碗', "bowl"),
];

/// A numeral (or demonstrative) and a measure word written as one word, read as such when the
/// tag says so (`m`, `q`), when the dictionary lacks the word, or, untagged, when a noun
/// follows (写了一行字 → yì háng, not 一行 "delegation"). `None` when that does not apply.
fn numeral_classifier(dict: &Dictionary, ex: &Explanation, a: &Around<'_>) -> Option<Explanation> {
    let chars: Vec<char> = ex.word.chars().collect();
    let (&last, prefix) = chars.split_last()?;
    if prefix.is_empty() || !prefix.iter().all(|&c| QUANTITY.contains(c)) {
        return None;
    }
    let prefix_str: String = prefix.iter().collect();
    let mut buf = [0u8; 4];
    let last_entries = dict.lookup(last.encode_utf8(&mut buf));
    // The measure word's reading: an entry with a classifier sense, else what the polyphone
    // table says for it as a measure word (行 → háng "row").
    let measure = last_entries
        .iter()
        .find(|e| !is_name_entry(e) && e.senses.iter().any(|s| sense_kind(s) == Kind::Classifier))
        .or_else(|| {
            let as_measure = Around {
                tag: Some("q"),
                coarse: Some("q"),
                prev: Some(&prefix_str),
                next: a.next,
                prev_class: "m",
                next_class: a.next_class,
                hint: None,
                ahead: a.ahead,
                behind: &[],
            };
            let rule = table()
                .get(last.to_string().as_str())?
                .iter()
                .find(|r| r.holds(&as_measure))?;
            last_entries.get(entry_with_reading(last_entries, &rule.reading)?)
        })
        .or_else(|| {
            let cue = measure_sense(last)?;
            last_entries
                .iter()
                .find(|e| !is_name_entry(e) && find_sense(e, cue).is_some())
        })?;
    let measure_syllable = measure.pinyin_numbered.clone();
    // The dictionary's word already reads the measure word so (这个 zhe4 ge5: a neutral tone
    // counts as the same reading).
    let toneless = |s: &str| super::pinyin::toneless(s).to_lowercase();
    // (Not when the dictionary's word is only slang: 几号 "(slang) heroin" is "which day".)
    let same = ex.entries.first().is_some_and(|e| {
        e.pinyin_numbered
            .split_whitespace()
            .last()
            .is_some_and(|s| toneless(s) == toneless(&measure_syllable))
            && !e.senses.iter().all(|s| s.starts_with("(slang)"))
    });
    // A number and a unit of time, date, money, temperature or floor, before anything but a
    // noun: 十点他才来 is a clock time (三点意见 are points), 五号 a day, 三块五 or 四块钱 money
    // (三块蛋糕 pieces), 三十度 degrees, 三楼 a floor.
    let numerals = prefix
        .iter()
        .all(|c| "一二三四五六七八九十百两零〇几".contains(*c));
    let before_noun = matches!(a.next_class, "n" | "nx") && !(last == '块' && a.next == Some("钱"));
    let unit_sense = UNIT_SENSES
        .iter()
        .find(|(c, _)| *c == last)
        .map(|(_, s)| *s)
        .filter(|_| numerals && !before_noun);
    let demonstrative = prefix.iter().all(|c| "这那哪每各某".contains(*c));
    let context = unit_sense.is_some()
        || match a.coarse {
            Some(t) => matches!(t, "m" | "q") || (t == "r" && demonstrative),
            None => ex.entries.is_empty() || matches!(a.next_class, "n" | "a" | "nx"),
        };
    if same || !context {
        return None;
    }
    let (prefix_pinyin, prefix_gloss) =
        match dict.lookup(&prefix_str).iter().find(|e| !is_name_entry(e)) {
            // 几 before a unit asks (几号 "which day", 几个 "how many") or counts a few (才几块钱).
            Some(e) if prefix_str == "几" => {
                (e.pinyin_numbered.clone(), "how many; which; a few".into())
            }
            Some(e) => (e.pinyin_numbered.clone(), first_sense(e)),
            None => {
                let parts: Vec<(String, String)> = prefix
                    .iter()
                    .filter_map(|&c| {
                        let mut b = [0u8; 4];
                        dict.lookup(c.encode_utf8(&mut b))
                            .iter()
                            .find(|e| !is_name_entry(e))
                            .map(|e| (e.pinyin_numbered.clone(), first_sense(e)))
                    })
                    .collect();
                if parts.len() != prefix.len() {
                    return None;
                }
                let p: Vec<&str> = parts.iter().map(|x| x.0.as_str()).collect();
                let g: Vec<&str> = parts.iter().map(|x| x.1.as_str()).collect();
                (p.join(" "), g.join(" "))
            }
        };
    let cued = unit_sense
        .and_then(|u| measure.senses.iter().find(|s| s.starts_with(u)))
        .or_else(|| measure_sense(last).and_then(|c| measure.senses.get(find_sense(measure, c)?)));
    let classifier = match cued {
        Some(s) => clean_sense(s),
        None => measure
            .senses
            .iter()
            .find(|s| sense_kind(s) == Kind::Classifier)
            .map(|s| clean_sense(s))
            .unwrap_or_else(|| first_sense(measure)),
    };
    let entry = Entry {
        traditional: ex.word.clone(),
        simplified: ex.word.clone(),
        pinyin_numbered: format!("{prefix_pinyin} {measure_syllable}"),
        senses: vec![format!("{prefix_gloss} + {classifier}")],
    };
    let mut out = ex.clone();
    let others = match ex.entries.first() {
        Some(e) if a.tag.is_none() => vec![e.pinyin()],
        _ => Vec::new(),
    };
    out.entries.push(entry);
    let i = out.entries.len() - 1;
    apply(dict, &mut out, i, None, others);
    Some(out)
}

/// The sense `c` counts by as a measure word when CC-CEDICT has no classifier sense for it.
fn measure_sense(c: char) -> Option<&'static str> {
    MEASURE_SENSES
        .iter()
        .find(|(m, _)| *m == c)
        .map(|(_, s)| *s)
}

/// A word's first sense, cleaned, without notes.
fn first_sense(e: &Entry) -> String {
    e.senses
        .iter()
        .find(|s| !is_note_sense(s))
        .map(|s| {
            let s = clean_sense(s);
            s.split("; ").next().unwrap_or(&s).to_string()
        })
        .unwrap_or_default()
}

/// An entry reading `word` from its characters, for a word whose entry `name` is a person's
/// name: the name's syllables in lower case, the characters' first senses joined with ` + `.
fn from_characters(dict: &Dictionary, word: &str, name: &Entry) -> Option<Entry> {
    let syllables: Vec<String> = name
        .pinyin_numbered
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let chars: Vec<char> = word.chars().collect();
    if syllables.len() != chars.len() {
        return None;
    }
    let mut glosses = Vec::new();
    for (&c, s) in chars.iter().zip(&syllables) {
        let mut b = [0u8; 4];
        let key: &str = c.encode_utf8(&mut b);
        let entries = dict.lookup(key);
        // The sense the polyphone table gives the character by default.
        let tabled = super::polyphones::default_sense(entries, key, s);
        if let Some(g) = tabled {
            glosses.push(g);
            continue;
        }
        let e = entries
            .iter()
            .find(|e| e.pinyin_numbered == *s && !is_weak_entry(e))
            .or_else(|| {
                entries
                    .iter()
                    .find(|e| !is_name_entry(e) && !is_weak_entry(e))
            })?;
        glosses.push(first_sense(e));
    }
    Some(Entry {
        traditional: name.traditional.clone(),
        simplified: name.simplified.clone(),
        pinyin_numbered: syllables.join(" "),
        senses: vec![glosses.join(" + ")],
    })
}
