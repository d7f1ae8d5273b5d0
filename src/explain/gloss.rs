//! Short glosses: which senses are notes rather than meanings, cross-references shortened, and
//! text cut to a length at a sense or word boundary.

use crate::text::is_han;

/// Classifier lists and pronunciation notes, left out of short glosses.
pub(super) fn is_note_sense(s: &str) -> bool {
    [
        "CL:",
        "Taiwan pr.",
        "also pr.",
        "pr. [",
        "also written",
        "also Taiwan pr.",
        "(Taiwan pr.",
        "(also pr.",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

/// Shortens cross-references in a sense: `一點|一点[yi1 dian3]` → `一点`, `了[le5]` → `了`;
/// drops a pronunciation note inside it (`how (to what extent) (Taiwan pr. [duo2])` → `how (to
/// what extent)`), which the reading shown beside the gloss would contradict.
pub(super) fn clean_sense(sense: &str) -> String {
    let sense = drop_pronunciation_notes(sense);
    let sense = sense.as_str();
    let mut out = String::with_capacity(sense.len());
    let mut run_start: Option<usize> = None; // where the current run of Han characters began
    let mut rest = sense;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        if is_han(c) {
            run_start.get_or_insert(out.len());
            out.push(c);
        } else if c == '|' && run_start.is_some() && after.chars().next().is_some_and(is_han) {
            if let Some(start) = run_start {
                out.truncate(start);
            }
            run_start = None;
        } else if c == '[' && run_start.is_some() {
            match after.find(']') {
                Some(end)
                    if after[..end]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || " :,·".contains(c)) =>
                {
                    rest = &after[end + 1..];
                    run_start = None;
                    continue;
                }
                _ => {
                    out.push(c);
                    run_start = None;
                }
            }
        } else {
            out.push(c);
            run_start = None;
        }
        rest = after;
    }
    out
}

/// `s` without its parenthesised pronunciation notes: ` (Taiwan pr. [duo2])`, ` (also pr. […])`.
fn drop_pronunciation_notes(s: &str) -> String {
    let mut out = s.to_string();
    // "(also pr. [wai4 mian5] for this sense)": through the `)` after the reading's `]`. A
    // measure-word note inside a sense ("dish (of food) (CL:样,道,盘)") goes too: the card lists
    // measure words apart.
    for note in ["(Taiwan pr. [", "(also pr. [", "(also Taiwan pr. [", "(CL:"] {
        while let Some(i) = out.find(note) {
            let from = if note == "(CL:" { i } else { i + note.len() };
            let close = if note == "(CL:" {
                out[from..].find(')')
            } else {
                out[from..]
                    .find(']')
                    .and_then(|j| out[from + j..].find(')').map(|k| j + k))
            };
            let Some(j) = close else { break };
            out.replace_range(i..from + j + 1, "");
            out = out.trim().replace("  ", " ");
        }
    }
    // A sense that was only a note ("(Taiwan pr. [bi4] in some compounds …)") stays as it was
    // (`is_note_sense` keeps it out of glosses).
    if out.is_empty() {
        return s.to_string();
    }
    out
}

/// `s` cut to at most `max_chars` characters: at its last `"; "` (a sub-sense boundary) if
/// that keeps a third of it, else at a space (or anywhere) with `…`.
pub(super) fn cut_at_word(s: &str, max_chars: usize) -> String {
    let end = s.char_indices().nth(max_chars).map_or(s.len(), |(i, _)| i);
    if end == s.len() {
        return s.to_string();
    }
    let head = &s[..end];
    if let Some(i) = head.rfind("; ").filter(|&i| i >= head.len() / 3) {
        return head[..i].to_string();
    }
    let head = match head.rfind([' ', ',', ';']) {
        Some(i) if i >= head.len() / 2 => &head[..i],
        _ => {
            // Leave room for the `…`.
            let shorter = s
                .char_indices()
                .nth(max_chars.saturating_sub(1))
                .map_or(end, |(i, _)| i);
            &s[..shorter]
        }
    };
    format!("{}…", head.trim_end_matches([' ', ';', ',']))
}
/// `parts` joined with `sep`, stopping (with `…`) before exceeding about `max_chars`.
pub(super) fn join_cut(parts: &[&str], sep: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    for (i, p) in parts.iter().enumerate() {
        let len = p.chars().count();
        if i > 0 {
            if n + sep.chars().count() + len > max_chars {
                out.push_str(sep);
                out.push('…');
                break;
            }
            out.push_str(sep);
            n += sep.chars().count();
        }
        out.push_str(p);
        n += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::clean_sense;

    #[test]
    fn notes_that_end_after_the_reading_and_measure_words_are_dropped() {
        assert_eq!(
            clean_sense("outside (also pr. [wai4 mian5] for this sense)"),
            "outside"
        );
        assert_eq!(
            clean_sense("dish (of food) (CL:样,道,盘)"),
            "dish (of food)"
        );
        // Unclosed: left as it is; a sense that is only a note is not emptied.
        assert_eq!(clean_sense("dish (CL:样"), "dish (CL:样");
        let note = "(Taiwan pr. [bi4] in some compounds derived from Classical Chinese)";
        assert_eq!(clean_sense(note), note);
        assert!(super::is_note_sense(note));
    }

    #[test]
    fn pronunciation_notes_inside_a_sense_are_dropped() {
        assert_eq!(
            clean_sense("how (to what extent) (Taiwan pr. [duo2])"),
            "how (to what extent)"
        );
        assert_eq!(clean_sense("to do (also pr. [zuo4]) well"), "to do well");
        assert_eq!(clean_sense("see 一點|一点[yi1 dian3]"), "see 一点");
        // An unclosed note is left as it is.
        assert_eq!(
            clean_sense("odd (Taiwan pr. [duo2"),
            "odd (Taiwan pr. [duo2"
        );
    }
}
