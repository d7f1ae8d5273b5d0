//! Clock times written as one word (七点半, 两点一刻, 八点二十分, 差五分九点, 三点钟, 九点差五分).
//! The dictionary lacks them, and their characters' first senses mislead a learner (点 "dot",
//! 差 chā "difference"): [`clock_entry`] reads them as the time they say, "7:30, half past
//! seven", with every character in its clock reading. A bare hour (八点) is left to the
//! numeral-and-unit rule, since 三点 can also be "three points". Decimals written the same way
//! (三点五 3.5, 零点一 0.1) are read as numbers by [`decimal_entry`].

use super::cedict::Entry;

/// The reading of each character a clock time may contain (CC-CEDICT numbered).
const SYLLABLES: &[(char, &str)] = &[
    ('零', "ling2"),
    ('〇', "ling2"),
    ('一', "yi1"),
    ('二', "er4"),
    ('两', "liang3"),
    ('三', "san1"),
    ('四', "si4"),
    ('五', "wu3"),
    ('六', "liu4"),
    ('七', "qi1"),
    ('八', "ba1"),
    ('九', "jiu3"),
    ('十', "shi2"),
    ('点', "dian3"),
    ('半', "ban4"),
    ('刻', "ke4"),
    ('分', "fen1"),
    ('差', "cha4"),
    ('钟', "zhong1"),
    ('整', "zheng3"),
    ('过', "guo4"),
    ('百', "bai3"),
    ('千', "qian1"),
    ('万', "wan4"),
];

const ENGLISH: [&str; 25] = [
    "twelve",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "twenty-one",
    "twenty-two",
    "twenty-three",
    "twenty-four",
];

/// The value of a digit character 零 … 九.
fn digit(c: char) -> Option<u32> {
    "零一二三四五六七八九".find(c).map(|b| (b / 3) as u32)
}

/// A number from 0 to 59 written in characters (五, 十二, 二十五, 两); the rest of the input
/// after it. 两 only on its own (两点, not 二十两).
fn number(s: &[char]) -> Option<(u32, &[char])> {
    match s {
        ['两', rest @ ..] => Some((2, rest)),
        ['十', rest @ ..] => match rest.first().and_then(|&c| digit(c)) {
            Some(d) if d > 0 => Some((10 + d, &rest[1..])),
            _ => Some((10, rest)),
        },
        [t, '十', rest @ ..] if digit(*t).is_some_and(|d| (2..=5).contains(&d)) => {
            let tens = digit(*t)? * 10;
            match rest.first().and_then(|&c| digit(c)) {
                Some(d) if d > 0 => Some((tens + d, &rest[1..])),
                _ => Some((tens, rest)),
            }
        }
        [d, rest @ ..] => digit(*d).map(|d| (d, rest)),
        [] => None,
    }
}

/// Minutes after 点 or 差 (二十, 零五, 五分, 二十分): 1 to 59. Under 10 they need 零 or 分,
/// since 三点五 and 三点一四 are decimals (3.5, 3.14).
fn minutes(s: &[char]) -> Option<(u32, &[char])> {
    let (m, rest, zero) = match s {
        ['零' | '〇', rest @ ..] => match number(rest)? {
            (m, r) if (1..=9).contains(&m) => (m, r, true),
            _ => return None,
        },
        _ => {
            let (m, r) = number(s)?;
            (m, r, false)
        }
    };
    if !(1..=59).contains(&m) {
        return None;
    }
    match rest.strip_prefix(&['分']) {
        Some(r) => Some((m, r)),
        None if zero || m >= 10 => Some((m, rest)),
        None => None,
    }
}

/// `hour` as said, the hour before it (差五分一点 is 12:55).
fn hour_before(hour: u32) -> u32 {
    match hour {
        0 => 23,
        1 => 12,
        h => h - 1,
    }
}

fn said(hour: u32) -> &'static str {
    ENGLISH.get(hour as usize).copied().unwrap_or("")
}

/// "a quarter", "1 minute", "5 minutes".
fn before_phrase(m: u32) -> String {
    match m {
        15 => "a quarter".to_string(),
        1 => "1 minute".to_string(),
        m => format!("{m} minutes"),
    }
}

/// The gloss of a clock time: `H:MM, phrase`.
fn gloss(word: &[char]) -> Option<String> {
    // 差五分九点, 差一刻九点: minutes before the hour.
    if let ['差', rest @ ..] = word {
        let (before, rest) = match rest {
            ['一', '刻', r @ ..] => (15, r),
            _ => minutes(rest)?,
        };
        let (hour, rest) = number(rest)?;
        if rest != ['点'] || hour > 24 || before > 30 {
            return None;
        }
        let h = hour_before(hour);
        return Some(format!(
            "{h}:{:02}, {} to {} (差 = short of)",
            60 - before,
            before_phrase(before),
            said(hour)
        ));
    }
    let (hour, rest) = number(word)?;
    let rest = rest.strip_prefix(&['点'])?;
    // 零点零五 without 分 is the decimal 0.05 (下调零点零五个百分点), not five past midnight.
    if hour > 24 || (hour == 0 && !rest.contains(&'分')) {
        return None;
    }
    let name = said(hour);
    Some(match rest {
        ['钟'] => format!("{hour}:00, {name} o'clock"),
        ['整'] => format!("{hour}:00 sharp, exactly {name} o'clock"),
        ['半'] => format!("{hour}:30, half past {name}"),
        ['一', '刻'] => format!("{hour}:15, a quarter past {name}"),
        ['三', '刻'] => format!(
            "{}:45, a quarter to {}",
            hour,
            said(if hour >= 12 { hour + 1 - 12 } else { hour + 1 })
        ),
        ['差', r @ ..] => {
            let (before, r) = match r {
                ['一', '刻'] => (15, &[][..]),
                _ => minutes(r)?,
            };
            if !r.is_empty() || before > 30 {
                return None;
            }
            let h = hour_before(hour);
            format!(
                "{h}:{:02}, {} to {name} (差 = short of)",
                60 - before,
                before_phrase(before)
            )
        }
        ['过', r @ ..] => match minutes(r)? {
            (m, []) => format!("{hour}:{m:02}, {} past {name}", before_phrase(m)),
            _ => return None,
        },
        r => match minutes(r)? {
            (m, []) => format!("{hour}:{m:02} (time of day)"),
            _ => return None,
        },
    })
}

/// An entry for `word` when it is a clock time longer than a bare hour (七点半, 八点二十分,
/// 差五分九点, 三点钟): its characters' clock readings and the time it says. `None` otherwise.
pub(super) fn clock_entry(word: &str) -> Option<Entry> {
    let chars: Vec<char> = word.chars().collect();
    let gloss = gloss(&chars)?;
    entry(word, &chars, gloss)
}

/// The entry of a number word: its characters' readings (every one must have one) and `gloss`.
fn entry(word: &str, chars: &[char], gloss: String) -> Option<Entry> {
    let syllables: Option<Vec<&str>> = chars
        .iter()
        .map(|c| SYLLABLES.iter().find(|(s, _)| s == c).map(|(_, p)| *p))
        .collect();
    Some(Entry {
        traditional: word.to_string(),
        simplified: word.to_string(),
        pinyin_numbered: syllables?.join(" "),
        senses: vec![gloss],
    })
}

/// An entry for a decimal written in characters (三点五 3.5, 零点二五 0.25, 十二点五 12.5):
/// whole number, 点, then digits one by one. `None` otherwise.
pub(super) fn decimal_entry(word: &str) -> Option<Entry> {
    let chars: Vec<char> = word.chars().collect();
    let at = chars.iter().position(|&c| c == '点')?;
    let (whole, rest) = (&chars[..at], &chars[at + 1..]);
    let whole = match whole {
        ['零' | '〇'] => 0,
        _ => match number(whole)? {
            (n, []) if !whole.contains(&'两') => n,
            _ => return None,
        },
    };
    let digits: Option<String> = rest
        .iter()
        .map(|&c| {
            digit(c)
                .and_then(|d| char::from_digit(d, 10))
                .or((c == '〇').then_some('0'))
        })
        .collect();
    let digits = digits.filter(|d| !d.is_empty())?;
    entry(
        word,
        &chars,
        format!("{whole}.{digits} (a decimal: 点 = point)"),
    )
}

/// An entry for a whole number written in characters that the dictionary lacks (一百 100, 两百
/// 200, 一百零五 105, 三千五 3500): its value, so that "one + hundred; numerous" does not hide
/// it. The spoken short form counts (一百二 is 一百二十, 120; 两万五 25,000). `None` for
/// anything else (one character, a run of digits such as 一二, other characters).
pub(super) fn integer_entry(word: &str) -> Option<Entry> {
    let chars: Vec<char> = word.chars().collect();
    let n = integer(&chars)?;
    entry(word, &chars, format!("{} (a number)", grouped(n)))
}

/// `n` with a comma between thousands from 10,000 up (1000, 25,000, 1,000,000).
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    if n < 10_000 {
        return digits;
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The value of `chars` (see [`integer_entry`]); at least two characters, up to 99,999,999.
/// Only well-formed numbers: no leading or trailing 零 (零零七 is a string of digits), a digit
/// right after 零, no 两 before 十, and no short form ending in 两 (一百两 is a hundred taels).
fn integer(chars: &[char]) -> Option<u64> {
    if chars.len() < 2 || matches!(chars[0], '零' | '〇') {
        return None;
    }
    let (mut total, mut section) = (0u64, 0u64);
    // The digit waiting for its unit, the last unit seen and whether a 零 came after it.
    let (mut pending, mut last_unit, mut zero) = (None::<u64>, 0u64, false);
    for (k, &c) in chars.iter().enumerate() {
        let next = chars.get(k + 1).copied();
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            '万' => 10_000,
            '零' | '〇' => {
                // 零 stands between a unit and a digit (一百零五), nowhere else.
                if pending.is_some()
                    || zero
                    || last_unit == 0
                    || !next.is_some_and(|n| n == '两' || digit(n).is_some_and(|d| d > 0))
                {
                    return None;
                }
                zero = true;
                continue;
            }
            _ => {
                let d = if c == '两' {
                    // 两十 is not a number; a final 两 after a unit is the weight (一百两).
                    if next == Some('十') || (next.is_none() && last_unit != 0 && !zero) {
                        return None;
                    }
                    2
                } else {
                    u64::from(digit(c)?)
                };
                if pending.is_some() {
                    return None;
                }
                pending = Some(d);
                continue;
            }
        };
        if zero && pending.is_none() {
            return None;
        }
        if unit == 10_000 {
            let head = section + pending.take().unwrap_or(0);
            if head == 0 || total > 0 {
                return None;
            }
            total = head * 10_000;
            section = 0;
        } else {
            // 十 alone at the start is ten (十五); before another unit a digit is needed.
            let d = pending.take().unwrap_or(if unit == 10 { 1 } else { 0 });
            if d == 0 || (last_unit != 0 && last_unit != 10_000 && unit >= last_unit) {
                return None;
            }
            section += d * unit;
        }
        last_unit = unit;
        zero = false;
    }
    if let Some(d) = pending {
        // 一百二: a digit right after 百, 千 or 万 (no 零) counts in the unit below it.
        section += if !zero && last_unit >= 100 {
            d * last_unit / 10
        } else {
            d
        };
    }
    let n = total + section;
    (n > 0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::{clock_entry, decimal_entry, integer};

    #[test]
    fn whole_numbers_read_as_numbers() {
        let n = |w: &str| integer(&w.chars().collect::<Vec<_>>());
        for (w, v) in [
            ("一百", 100),
            ("两百", 200),
            ("一百二", 120),
            ("一百二十", 120),
            ("一百零五", 105),
            ("三千五", 3500),
            ("三千零五", 3005),
            ("两万五", 25_000),
            ("十五", 15),
            ("二十", 20),
            ("九十", 90),
            ("一千二百三十四", 1234),
            ("八千", 8000),
            ("一万两千", 12_000),
            ("十万", 100_000),
            ("一千零一", 1001),
            ("十一万", 110_000),
            ("两千零二十六", 2026),
            ("一百零一万", 1_010_000),
            ("三万零五百", 30_500),
            ("一千零一十", 1010),
            ("一万零五", 10_005),
            ("两百零两", 202),
        ] {
            assert_eq!(n(w), Some(v), "{w}");
        }
        assert_eq!(super::grouped(1000), "1000");
        assert_eq!(super::grouped(25_000), "25,000");
        assert_eq!(super::grouped(1_000_000), "1,000,000");
        for w in [
            "一百两",
            "一千两",
            "零零七",
            "零七",
            "一百零",
            "一百零零一",
            "两十",
            "一百零十",
            "一",
            "一二",
            "百",
            "十十",
            "一百百",
            "两两",
            "一十百",
            "零",
            "万万",
            "一百多",
        ] {
            assert_eq!(n(w), None, "{w}");
        }
    }

    #[test]
    fn decimals_read_as_numbers() {
        let d = |w: &str| decimal_entry(w).map(|e| (e.pinyin_numbered, e.senses[0].clone()));
        assert_eq!(
            d("三点五"),
            Some((
                "san1 dian3 wu3".into(),
                "3.5 (a decimal: 点 = point)".into()
            ))
        );
        assert_eq!(d("零点二五").unwrap().1, "0.25 (a decimal: 点 = point)");
        assert_eq!(d("十二点五").unwrap().1, "12.5 (a decimal: 点 = point)");
        assert_eq!(d("零点零五").unwrap().1, "0.05 (a decimal: 点 = point)");
        for w in [
            "三点",
            "点五",
            "两点五",
            "三点半",
            "一点点",
            "三点钟",
            "五点五分",
        ] {
            assert_eq!(d(w), None, "{w}");
        }
    }

    fn said(word: &str) -> Option<(String, String)> {
        clock_entry(word).map(|e| (e.pinyin_numbered, e.senses[0].clone()))
    }

    #[test]
    fn clock_times_read_as_the_time_they_say() {
        let cases = [
            ("七点半", "qi1 dian3 ban4", "7:30, half past seven"),
            (
                "两点一刻",
                "liang3 dian3 yi1 ke4",
                "2:15, a quarter past two",
            ),
            (
                "十一点三刻",
                "shi2 yi1 dian3 san1 ke4",
                "11:45, a quarter to twelve",
            ),
            (
                "八点二十分",
                "ba1 dian3 er4 shi2 fen1",
                "8:20 (time of day)",
            ),
            ("十点零五", "shi2 dian3 ling2 wu3", "10:05 (time of day)"),
            ("三点钟", "san1 dian3 zhong1", "3:00, three o'clock"),
            (
                "九点整",
                "jiu3 dian3 zheng3",
                "9:00 sharp, exactly nine o'clock",
            ),
            ("十二点半", "shi2 er4 dian3 ban4", "12:30, half past twelve"),
        ];
        for (word, pinyin, gloss) in cases {
            assert_eq!(
                said(word),
                Some((pinyin.to_string(), gloss.to_string())),
                "{word}"
            );
        }
        // 差 is chà "short of", and the time is before the hour.
        let (p, g) = said("差五分九点").unwrap();
        assert_eq!(p, "cha4 wu3 fen1 jiu3 dian3");
        assert!(g.starts_with("8:55, 5 minutes to nine"), "{g}");
        let (_, g) = said("九点差五分").unwrap();
        assert!(g.starts_with("8:55, 5 minutes to nine"), "{g}");
        let (_, g) = said("差一刻一点").unwrap();
        assert!(g.starts_with("12:45, a quarter to one"), "{g}");
    }

    #[test]
    fn other_words_and_bare_hours_are_not_clock_times() {
        for word in [
            "八点",
            "三点",
            "一点点",
            "点半",
            "七半",
            "半点",
            "两点水",
            "九十九点半",
            "点钟",
            "差点",
            "差不多",
            "十点零",
            "七点六十",
            "差五分",
            "",
            "三点五",
            "三点一四",
            "两点两",
        ] {
            assert_eq!(said(word), None, "{word}");
        }
        assert_eq!(said("零点零五"), None);
        assert_eq!(said("零点零五分").unwrap().1, "0:05 (time of day)");
        // Minutes under ten with 分 are a clock time (八点五分 8:05).
        assert_eq!(said("八点五分").unwrap().1, "8:05 (time of day)");
    }
}
