//! Function words read by the frame of their clause, where one neighbour does not tell
//! (在 … 中/上/方面 "at", not "in progress"; 倒了一杯水 "to pour"; 给 someone + a verb "to; for"):
//! 快…了 "almost", 都…了 "already", 要…了 "about to", 连…都 "even", 开…药 "to write out",
//! V 起 O 来 "to start (doing)", 睡不着 / 找不着 着 "to fall asleep" / "succeeding in",
//! a question ending in 没有？ after 了/过 "haven't (…or not?)", 还是…吧 "had better", and 就
//! by what comes before it (an amount + 就 "only; as little as", V 了/完 … 就 "as soon as",
//! 就 在/是 "just; exactly", "in that case; then" after a condition, else the table's "then"). [`framed_senses`]
//! gives, like [`super::pairs::paired_senses`], the words and the text their CC-CEDICT sense
//! starts with.

/// Words that end a clause.
fn ends_clause(w: &str) -> bool {
    matches!(
        w,
        "，" | "。" | "！" | "？" | "；" | "," | "." | "!" | "?" | ";" | "：" | ":"
    )
}

/// Things that get dry (衣服还没干 is gān).
const DRIES: &[&str] = &[
    "衣服", "衣裳", "头发", "毛巾", "被子", "床单", "袜子", "裤子", "裙子", "鞋", "鞋子", "油漆",
    "墙", "地面", "路面", "地", "眼泪", "嘴唇", "皮肤", "嗓子", "墨水", "颜料", "水泥", "床单",
];

/// Things one has a little of (有点儿问题, 有点事): 有 is "to have" before them, not 有点儿.
const HAD: &[&str] = &[
    "问题", "事", "事儿", "钱", "印象", "味儿", "东西", "吃的", "喝的", "时间", "关系", "水", "饭",
    "菜", "空", "空儿", "作业", "工作", "活儿", "办法", "希望", "感觉", "经验", "想法",
];

/// Verbs that are also what one gives (给他们帮助 "to give them help").
const GIVEN: &[&str] = &[
    "帮助", "支持", "鼓励", "建议", "影响", "安慰", "关心", "照顾", "答复", "回复", "回答", "压力",
    "希望", "温暖", "批评", "表扬", "奖励", "指导", "帮忙",
];

/// Words that open a condition, after which 就 is "in that case; then".
const CONDITIONS: &[&str] = &[
    "如果",
    "要是",
    "假如",
    "只要",
    "既然",
    "的话",
    "若",
    "如",
    "要不是",
    "万一",
    "假如说",
];

/// Characters a duration or an amount ends in (三天, 四个小时, 三站). Not 点, 半 or 钟, which end
/// points in time (六点半就起床了 is "already"), nor 月 without 个 (三月就 is March).
const AMOUNT_END: &str = "天年周时分秒站遍次趟倍岁块元";

/// The clause around word `i`: the range of word indices between punctuation.
pub(super) fn clause(words: &[&str], i: usize) -> std::ops::Range<usize> {
    let start = (0..i)
        .rev()
        .find(|&j| ends_clause(words[j]))
        .map_or(0, |j| j + 1);
    let end = (i..words.len())
        .find(|&j| ends_clause(words[j]))
        .unwrap_or(words.len());
    start..end
}

/// The sentence around word `i` (between 。！？), for conditions before 就.
fn sentence_start(words: &[&str], i: usize) -> usize {
    (0..i)
        .rev()
        .find(|&j| matches!(words[j], "。" | "！" | "？" | "." | "!" | "?"))
        .map_or(0, |j| j + 1)
}

/// A word that says an amount or a duration: a numeral in it and an amount character at its
/// end (三天, 四个小时, 一半), or 一会儿.
fn is_amount(w: &str) -> bool {
    let numeral = w
        .chars()
        .any(|c| "一二三四五六七八九十两几半百千万0123456789".contains(c));
    // A year (1998年) is a point in time.
    let year = w.ends_with('年') && w.chars().filter(|c| c.is_ascii_digit()).count() >= 3;
    (numeral && !year && w.chars().last().is_some_and(|c| AMOUNT_END.contains(c)))
        || (numeral && (w.ends_with("个月") || w.ends_with("分钟")))
        || matches!(w, "一会儿" | "一下" | "一下子" | "一半")
}

/// Whether a prescription or an invoice follows 开 at `i` closely (开了三天的药, 开发票), with
/// nothing but 了, 的, numbers and measure words between.
fn prescription_after(words: &[&str], i: usize, end: usize) -> bool {
    let after = words.get(i + 1..end.min(i + 6)).unwrap_or_default();
    for &w in after {
        match w {
            "药" | "方子" | "处方" | "发票" | "收据" => return true,
            "了" | "的" | "点" | "些" | "一些" | "张" => continue,
            w if !w.is_empty()
                && w.chars()
                    .all(|c| "一二三四五六七八九十两几半百千万个天张盒瓶片种".contains(c)) =>
            {
                continue
            }
            _ => return false,
        }
    }
    false
}

/// The words (by index) read by their clause's frame, with the sense to show (text the
/// CC-CEDICT sense starts with; `=TEXT` a part of a sense shown as it is; `@WORD` a word whose
/// sense it borrows). `classes[i]` is word i's coarse class.
pub(super) fn framed_senses(words: &[&str], classes: &[&str]) -> Vec<(usize, &'static str)> {
    let class = |i: usize| classes.get(i).copied().unwrap_or("none");
    let word = |i: usize| words.get(i).copied().unwrap_or("");
    let mut out = Vec::new();
    for (i, &w) in words.iter().enumerate() {
        let c = clause(words, i);
        // The clause ends in 了 (快关门了, 天都黑了, 要下雨了), after this word.
        let ends_le = c.end > i + 1 && word(c.end - 1) == "了";
        // ... and no more than three words after it (快关门了, not 快去看看他怎么了).
        let le_near = ends_le && c.end - 1 - i <= 3;
        let plural_before = i.checked_sub(1).map(word).is_some_and(|p| {
            p.ends_with('们') || matches!(p, "大家" | "大伙儿" | "全家" | "这些" | "那些")
        });
        let sense = match w {
            "快" if le_near && matches!(class(i + 1), "v" | "a" | "m" | "d" | "t") => {
                Some("almost")
            }
            // 天都黑了 "already"; 大家都累了 "all".
            "都" if ends_le
                && !plural_before
                && (word(i + 1) == "快" || matches!(class(i + 1), "a" | "m" | "t")) =>
            {
                Some("already")
            }
            // 下 (要下大雨了) is often guessed a locality word when the model does not tag it;
            // 我要买的书到了 is "wanted".
            "要" if ends_le
                && matches!(class(i + 1), "v" | "f")
                && !(i + 1..c.end).any(|j| word(j) == "的") =>
            {
                Some("will; shall; about to")
            }
            // 开了三天的药, 开发票: to write out (开车去买药 is not).
            "开" if prescription_after(words, i, c.end) => Some("to write out (a prescription"),
            "连" => (i + 2..c.end).find(|&j| word(j) == "都").map(|j| {
                out.push((j, "(used for emphasis) even"));
                "(used with 也[ye3], 都[dou1] etc) even"
            }),
            "没有"
                if word(c.end) == "？"
                    && c.end == i + 1
                    && (c.start..i).any(|j| matches!(word(j), "了" | "过")) =>
            {
                Some("haven't")
            }
            // 你还是买贵的吧 "had better"; 你还是学生吧？ and 他还是个孩子吧 are "still".
            "还是"
                if word(c.end.saturating_sub(1)) == "吧"
                    && c.end > i + 1
                    && class(i + 1) == "v"
                    && word(i + 1) != "是"
                    && word(c.end) != "？" =>
            {
                Some("had better")
            }
            // 还是算错了 "still"; 喝茶还是咖啡？ and 去还是不去？ stay "or".
            "还是" if class(i + 1) == "v" && word(c.end) != "？" && word(c.end) != "?" => {
                Some("still (as before)")
            }
            // 唱起歌来, 聊起天来: V 起 O 来 "to start doing".
            // Not 拿起杯子来, 抬起头来, 站起身来: there 起 is "up".
            "起" if i > 0
                && class(i - 1) == "v"
                && !matches!(
                    word(i - 1),
                    "拿" | "抬"
                        | "站"
                        | "举"
                        | "捡"
                        | "提"
                        | "想"
                        | "挑"
                        | "扛"
                        | "抱"
                        | "背"
                        | "扶"
                )
                && !matches!(word(i + 1), "头" | "身" | "手" | "脚")
                && (i + 2..c.end.min(i + 4)).any(|j| word(j) == "来") =>
            {
                Some("verb suffix, to start")
            }
            // 睡不着 "to fall asleep"; 找不着, 买得着 "succeeding in" (not "to touch").
            "着" if i >= 2 && matches!(word(i - 1), "不" | "得") && class(i - 2) == "v" => {
                Some(if word(i - 2) == "睡" {
                    "(coll.) to fall asleep"
                } else {
                    "(after a verb) hitting the mark"
                })
            }
            "就" => jiu(words, classes, i, &c),
            // 衣服还没干, 头发快干了: gān "dry" after 没/快/已经 when what dries is named earlier
            // in the clause (我没干 stays gàn "to do").
            "干" if i > 0
                && matches!(
                    word(i - 1),
                    "没" | "还没" | "没有" | "快" | "已经" | "都" | "也"
                )
                && (c.start..i).any(|j| DRIES.contains(&word(j))) =>
            {
                Some("dry")
            }
            // 有 点儿 累, 有点 冷: 有点儿 "slightly" before a quality or a verb (not 有点儿钱).
            // (A one-character quality is often guessed a noun, so things are listed.)
            "有" if matches!(word(i + 1), "点儿" | "点")
                && !matches!(
                    class(i + 2),
                    "nr" | "ns" | "r" | "m" | "q" | "t" | "w" | "none"
                )
                && !HAD.contains(&word(i + 2)) =>
            {
                Some("@有点儿")
            }
            // 三 年 前, 两个月前: ago after an amount of time (春节前, 八点前 stay "before").
            "前" if amount_before(words, i) => Some("=ago"),
            // 八千多块, 三百多块: money after a round number and 多 (好多块 stays "piece").
            "块" if i > 0 && {
                // 八千多 as one word, or 八千 多.
                let mut p: Vec<char> = word(i - 1).chars().collect();
                if p == ['多'] && i > 1 {
                    p = word(i - 2).chars().chain(['多']).collect();
                }
                p.len() >= 2 && p[p.len() - 1] == '多' && "十百千万".contains(p[p.len() - 2])
            } =>
            {
                Some("(coll.) classifier for money")
            }
            // 倒了一杯水, 倒满茶: dào "to pour out", not dǎo "to fall" (倒了 alone is "fell").
            "倒" if matches!(word(i + 1), "了" | "完" | "满" | "上" | "进" | "出")
                && (i + 2..c.end.min(i + 5)).any(|j| {
                    matches!(
                        word(j),
                        "水" | "茶"
                            | "酒"
                            | "咖啡"
                            | "牛奶"
                            | "果汁"
                            | "饮料"
                            | "汤"
                            | "油"
                            | "杯"
                            | "一杯"
                            | "两杯"
                            | "碗"
                            | "一碗"
                            | "热水"
                            | "开水"
                            | "可乐"
                    )
                }) =>
            {
                Some("to pour out")
            }
            // 给 我 倒 了…, 给 妈妈 打 电话: before someone and then a verb, "to; for" (the
            // preposition), not "to give" (给 他 一 本 书 stays "to give").
            // Not before what is given (给他们帮助, 给学生说话的机会, 请给我吃的: "to give").
            "给" if matches!(class(i + 1), "r" | "n" | "nr")
                && class(i + 2) == "v"
                && !matches!(word(i + 2), "了" | "过" | "着")
                && !GIVEN.contains(&word(i + 2))
                && word(i + 3) != "的" =>
            {
                Some("to")
            }
            // 给 他 一 本 书: someone, then an amount of something, "to give" whatever the tag.
            // ... unless a verb follows in the clause (给客人一个一个倒酒 is "for").
            "给" if matches!(class(i + 1), "r" | "n" | "nr")
                && class(i + 2) == "m"
                && !(i + 3..c.end).any(|j| class(j) == "v") =>
            {
                Some("to give")
            }
            // 在 比赛 中, 在 学习 上, 在 吃 的 方面: a place or a field, not an action in progress
            // (the table's guess before a verb).
            "在" if (i + 2..c.end.min(i + 6)).any(|j| {
                matches!(
                    word(j),
                    "中" | "上" | "里" | "方面" | "之中" | "当中" | "期间" | "时" | "时候" | "之下"
                )
            }) =>
            {
                Some("(of sb or sth) to be (located) at")
            }
            _ => None,
        };
        if let Some(s) = sense {
            out.push((i, s));
        }
    }
    out
}

/// Whether an amount of time or of something ends right before word `i` (三天, 四 个 小时, 三 年,
/// 一会儿), as 就 and 前 read it.
fn amount_before(words: &[&str], i: usize) -> bool {
    let word = |j: usize| words.get(j).copied().unwrap_or("");
    let Some(prev) = i.checked_sub(1).map(word) else {
        return false;
    };
    let numeral = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| "一二三四五六七八九十两几半百千万".contains(c))
    };
    let numeral_before = i.checked_sub(2).map(word).is_some_and(numeral)
        || (i.checked_sub(2).map(word) == Some("个")
            && i.checked_sub(3).map(word).is_some_and(numeral));
    let amount_end = prev.chars().last().is_some_and(|c| AMOUNT_END.contains(c))
        || matches!(prev, "分钟" | "小时" | "钟头" | "星期" | "礼拜")
        // 两 个 月 (not 三 月, March).
        || (prev == "月" && i.checked_sub(2).map(word) == Some("个"));
    is_amount(prev) || (amount_end && numeral_before)
}

/// 就 by what comes before it (see the module); `None` keeps the table's plain "then".
fn jiu(
    words: &[&str],
    classes: &[&str],
    i: usize,
    c: &std::ops::Range<usize>,
) -> Option<&'static str> {
    let word = |j: usize| words.get(j).copied().unwrap_or("");
    let start = sentence_start(words, i);
    if words[start..i].iter().any(|w| CONDITIONS.contains(w)) {
        return Some("(after a suppositional clause)");
    }
    if matches!(word(i + 1), "是" | "在") && !ends_clause(word(i + 2)) && i + 2 < words.len() {
        return Some("(same as 就是[jiu4 shi4])");
    }
    // 三天就, or 一 次 就 written as two words, or 四 个 小时 就.
    if amount_before(words, i) {
        return Some("only; as little as");
    }
    // V 了 (O) 就, V 完 (O) 就: 吃了药就去, 看了一半就…, 喝完咖啡我就…
    let back = c.start.max(i.saturating_sub(3));
    let after_le = (back..i).any(|j| {
        matches!(word(j), "了" | "完") && j > 0 && classes.get(j - 1).is_some_and(|&k| k == "v")
    });
    after_le.then_some("(after a clause of action) as soon as")
}

#[cfg(test)]
mod tests {
    use super::framed_senses;

    fn frames(words: &str, classes: &str) -> Vec<(usize, &'static str)> {
        let w: Vec<&str> = words.split(' ').collect();
        let c: Vec<&str> = classes.split(' ').collect();
        framed_senses(&w, &c)
    }

    #[test]
    fn clause_frames_pick_the_sense() {
        assert_eq!(
            frames("食堂 快 关门 了 。", "n d v y w"),
            vec![(1, "almost")]
        );
        assert_eq!(frames("天 都 黑 了 ，", "n d a y w"), vec![(1, "already")]);
        assert_eq!(
            frames("好像 要 下 大雨 了 。", "d v v n y w"),
            vec![(1, "will; shall; about to")]
        );
        assert_eq!(
            frames("连 说话 都 疼 。", "p v d a w"),
            vec![
                (2, "(used for emphasis) even"),
                (0, "(used with 也[ye3], 都[dou1] etc) even")
            ]
        );
        assert_eq!(
            frames("你 收到 了 没有 ？", "r v u v w"),
            vec![(3, "haven't")]
        );
        assert_eq!(
            frames("你 还是 买 贵 的 吧 。", "r d v a u y w"),
            vec![(1, "had better")]
        );
        assert_eq!(
            frames("三天 就 到 了 。", "t d v y w"),
            vec![(1, "only; as little as")]
        );
        assert_eq!(
            frames("四 个 小时 就 到 了 。", "m q n d v y w"),
            vec![(3, "only; as little as")]
        );
        assert_eq!(
            frames("医院 就 在 那儿 。", "n d p r w"),
            vec![(1, "(same as 就是[jiu4 shi4])")]
        );
        assert_eq!(
            frames("她 唱 起 歌 来 很 好听", "r v v n v d a"),
            vec![(2, "verb suffix, to start")]
        );
        assert_eq!(
            frames("吃 了 药 就 去 躺 着 吧", "v u n d v v u y"),
            vec![(3, "(after a clause of action) as soon as")]
        );
        assert_eq!(
            frames("喝 完 咖啡 我 就 睡 不 着 觉 。", "v v n r d v d v n w"),
            vec![
                (4, "(after a clause of action) as soon as"),
                (7, "(coll.) to fall asleep")
            ]
        );
        assert_eq!(
            frames("我 找 不 着 钥匙 了", "r v d v n y"),
            vec![(3, "(after a verb) hitting the mark")]
        );
    }

    #[test]
    fn pouring_and_doing_for_someone() {
        assert_eq!(
            frames("妈妈 给 我 倒 了 一 杯 水 。", "n p r v u m q n w"),
            vec![(1, "to"), (3, "to pour out")]
        );
        // 给 someone help (no object after the verb) and 给 guests, one by one, pour: the frames
        // stay silent.
        assert!(frames("学校 会 给 他们 帮助 。", "n v p r v w").is_empty());
        assert!(frames("给 学生 说话 的 机会", "p n v u n").is_empty());
        assert!(frames("新郎 给 客人 一个 一个 倒 酒", "n p n m m v n").is_empty());
        // 有 点儿 before a quality borrows 有点儿; before a thing it is "to have".
        assert_eq!(
            frames("我 有 点儿 累 。", "r v q a w"),
            vec![(1, "@有点儿")]
        );
        assert!(frames("我 有 点儿 钱 。", "r v q n w").is_empty());
        assert!(frames("这 个 账 有 点儿 问题", "r q n v q n").is_empty());
        // 八千 多 块 is money, 好多 块 pieces.
        assert_eq!(
            frames("花 了 八千 多 块 。", "v u m m q w"),
            vec![(4, "(coll.) classifier for money")]
        );
        assert!(frames("切 成 好多 块 。", "v v m q w").is_empty());
        // A quality guessed a noun still borrows it (汤有点儿淡).
        assert_eq!(
            frames("汤 有 点儿 淡 。", "n v q n w"),
            vec![(1, "@有点儿")]
        );
        // 衣服还没干 is dry; 我没干 and 活还没干 are left to the table (gàn).
        assert_eq!(
            frames("衣服 还 没 干 ， 明天 再 收", "n d d v w t d v"),
            vec![(3, "dry")]
        );
        assert!(frames("我 没 干 。", "r d v w").is_empty());
        assert!(frames("活 还 没 干 完", "n d d v v").is_empty());
        // 倒了 alone fell; 给 someone something is "to give".
        assert!(frames("树 倒 了 。", "n v y w").is_empty());
        assert_eq!(
            frames("我 给 他 一 本 书 。", "r v r m q n w"),
            vec![(1, "to give")]
        );
    }

    #[test]
    fn zai_before_a_place_or_a_field_is_at() {
        assert_eq!(
            frames("他 在 比赛 中 获得 了 第一 。", "r p v f v u m w"),
            vec![(1, "(of sb or sth) to be (located) at")]
        );
        assert_eq!(
            frames("在 吃 的 方面 要 注意", "p v u n v v"),
            vec![(0, "(of sb or sth) to be (located) at")]
        );
        // An action in progress, and a 中 in the next clause, are left to the table.
        assert!(frames("孩子 在 睡觉 。", "n d v w").is_empty());
        assert!(frames("他 在 看 ， 书 中 有 画", "r d v w n f v n").is_empty());
    }

    #[test]
    fn jiu_after_a_condition_or_an_amount() {
        // A condition earlier in the sentence: "in that case; then" (even before 在).
        assert_eq!(
            frames("如果 下雨 ， 我 就 在 家 。", "c v w r d p n w"),
            vec![(4, "(after a suppositional clause)")]
        );
        // 十 分钟 就 到: an amount of minutes, "only"; 十点 就 到 (a point in time) is not.
        assert_eq!(
            frames("走 十 分钟 就 到 学校 。", "v m q d v n w"),
            vec![(3, "only; as little as")]
        );
        assert!(frames("他 十 点 就 到 了 。", "r m q d v y w").is_empty());
        assert!(frames("他 去年 就 毕业 了 。", "r t d v y w").is_empty());
    }

    #[test]
    fn other_frames_are_left_alone() {
        // 我们都去了: 都 before a verb is "all"; 快走: no 了.
        assert!(frames("我们 都 去 了 。", "r d v y w").is_empty());
        assert!(frames("快 走 吧 。", "d v y w").is_empty());
        assert!(frames("你 有 没有 钱 ？", "r v v n w").is_empty());
        assert!(frames("茶 还是 咖啡 ？", "n c n w").is_empty());
        assert!(frames("你 去 还是 不 去 ？", "r v c d v w").is_empty());
        assert_eq!(
            frames("我 还是 算 错 了 。", "r c v v y w"),
            vec![(1, "still (as before)")]
        );
        assert!(frames("", "").is_empty());
        // From a review: 大家都累了 "all", 快去看看他怎么了 "quick", 拿起杯子来 "up", 我开车去买药,
        // 你还是学生吧？, 我要买的书到了, 六点半就起床了 "already", 1998年就.
        assert!(frames("大家 都 累 了 。", "r d a y w").is_empty());
        assert!(frames("快 去 看看 他 怎么 了", "d v v r r y").is_empty());
        assert!(frames("他 拿 起 杯子 来", "r v v n v").is_empty());
        assert!(frames("我 开 车 去 买 药 。", "r v n v v n w").is_empty());
        assert!(frames("你 还是 学生 吧 ？", "r d n y w").is_empty());
        assert!(frames("我 要 买 的 书 到 了 。", "r v v u n v y w").is_empty());
        assert!(frames("我 六 点 半 就 起床 了 。", "r m q m d v y w").is_empty());
        assert!(frames("１９９８年 就 开始 了", "t d v y").is_empty());
        // 着 as the aspect particle: 他 笑 着 说, 门 开 着.
        assert!(frames("他 笑 着 说", "r v u v").is_empty());
        assert!(frames("门 开 着 呢", "n v u y").is_empty());
        assert_eq!(
            frames("开 了 三天 的 药", "v u t u n"),
            vec![(0, "to write out (a prescription")]
        );
        assert_eq!(
            frames("洗 了 一 次 就 掉色 了 。", "v u m q d v y w"),
            vec![(4, "only; as little as")]
        );
    }
}
