//! Words that pair up within a clause and then mean something else than alone: 一…就 "as soon
//! as", 又…又 and 既…又 "both … and", 越…越 "the more … the more", 一边…一边 and 边…边 "doing
//! while". [`paired_senses`] finds them from the words and their classes (coarse PKU tags or
//! guesses); `context.rs` shows the sense of the pair (CC-CEDICT's own wording) for each word.

/// One pairing: the first word, the second, the classes the word after each may have, and the
/// senses (text the CC-CEDICT sense starts with) of the first and the second.
struct Pair {
    first: &'static str,
    second: &'static [&'static str],
    after: &'static [&'static str],
    first_sense: &'static str,
    second_sense: &'static str,
    /// The pair may span a comma (一到家，就…; but 又来了，又走了 is "again").
    across_comma: bool,
}

const PREDICATE: &[&str] = &["v", "a", "d"];

const PAIRS: &[Pair] = &[
    // 他一到家就睡觉了: 一 before a verb, 就 later in the clause.
    Pair {
        first: "一",
        second: &["就"],
        after: &["v"],
        first_sense: "as soon as",
        second_sense: "(after a clause of action) as soon as",
        across_comma: true,
    },
    // 又高又帅, 又便宜又好吃.
    Pair {
        first: "又",
        second: &["又"],
        after: &["a", "v"],
        first_sense: "both... and",
        second_sense: "both... and",
        across_comma: false,
    },
    // 既好看又便宜, 既…也….
    Pair {
        first: "既",
        second: &["又", "也"],
        after: &["a", "v"],
        first_sense: "both... (and",
        second_sense: "both",
        across_comma: false,
    },
    // 越快越好.
    Pair {
        first: "越",
        second: &["越"],
        after: PREDICATE,
        first_sense: "the more... the more",
        second_sense: "the more... the more",
        across_comma: false,
    },
    // 一边吃饭一边看电视, 边走边说.
    Pair {
        first: "一边",
        second: &["一边"],
        after: &["v"],
        first_sense: "doing while",
        second_sense: "doing while",
        across_comma: false,
    },
    Pair {
        first: "边",
        second: &["边"],
        after: &["v"],
        first_sense: "simultaneously",
        second_sense: "simultaneously",
        across_comma: false,
    },
];

/// The most words from the first of a pair to the second (一到家就: 3).
const SPAN: usize = 6;

/// Words that end the clause a pair lives in.
fn ends_clause(w: &str) -> bool {
    matches!(w, "。" | "！" | "？" | "；" | "." | "!" | "?" | ";")
}

/// The words (by index) that belong to a pair in this sentence, with the sense to show: text
/// the CC-CEDICT sense starts with. `classes[i]` is word i's coarse class.
pub(super) fn paired_senses(words: &[&str], classes: &[&str]) -> Vec<(usize, &'static str)> {
    let class = |i: usize| classes.get(i).copied().unwrap_or("none");
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if out.iter().any(|&(j, _)| j == i) {
            continue;
        }
        for p in PAIRS.iter().filter(|p| p.first == *w) {
            if !p.after.contains(&class(i + 1)) {
                continue;
            }
            let second = (i + 2..words.len().min(i + SPAN + 1))
                .take_while(|&j| {
                    !ends_clause(words[j]) && (p.across_comma || !matches!(words[j], "，" | ","))
                })
                .find(|&j| p.second.contains(&words[j]) && p.after.contains(&class(j + 1)));
            if let Some(j) = second {
                out.push((i, p.first_sense));
                out.push((j, p.second_sense));
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::paired_senses;

    fn pairs(words: &str, classes: &str) -> Vec<(usize, &'static str)> {
        let w: Vec<&str> = words.split(' ').collect();
        let c: Vec<&str> = classes.split(' ').collect();
        paired_senses(&w, &c)
    }

    #[test]
    fn pairs_are_found_within_a_clause() {
        assert_eq!(
            pairs("他 一 到 家 就 睡觉 了 。", "r m v n d v y w"),
            vec![
                (1, "as soon as"),
                (4, "(after a clause of action) as soon as")
            ]
        );
        assert_eq!(
            pairs("他 又 高 又 帅 。", "r d a d a w"),
            vec![(1, "both... and"), (3, "both... and")]
        );
        assert_eq!(
            pairs("越 快 越 好", "d a d a"),
            vec![(0, "the more... the more"), (2, "the more... the more")]
        );
        assert_eq!(
            pairs("我 一边 吃饭 一边 看 电视", "r d v d v n"),
            vec![(1, "doing while"), (3, "doing while")]
        );
    }

    #[test]
    fn lone_words_and_other_uses_are_left_alone() {
        // 一 as a number, 又 "again", a 就 in the next sentence, a pair too far apart.
        assert!(pairs("一 个 人 就 够 了", "m q n d v y").is_empty());
        assert!(pairs("天 又 黑 了 。", "n d a y w").is_empty());
        assert!(pairs("他 一 到 。 我 就 走", "r m v w r d v").is_empty());
        assert!(pairs("一 看 a b c d e f 就 走", "m v n n n n n n d v").is_empty());
        assert!(pairs("他 又 来 了 ， 又 走 了", "r d v y w d v y").is_empty());
        assert_eq!(
            pairs("他 一 到 家 ， 就 睡觉 了", "r m v n w d v y").len(),
            2
        );
        assert!(pairs("", "").is_empty());
    }
}
