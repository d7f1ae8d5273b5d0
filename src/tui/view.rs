//! Drawing: a pure function of the [`App`] state. The transcript is laid out as word "chips" —
//! word, pinyin, gloss stacked in a column, boundaries between them marked with their
//! confidence — wrapped to the terminal width by display columns (CJK characters are two wide).
//! Confidence is shown by glyph and number, not only by colour, so `NO_COLOR` loses nothing.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::app::{App, Mode, Turn, TurnBody, TurnData};
use crate::store::Explain;

/// Colours, or none at all (`NO_COLOR`).
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Use colours.
    pub color: bool,
}

impl Theme {
    /// Honours `NO_COLOR` (https://no-color.org).
    pub fn from_env() -> Self {
        Self {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    fn word(&self, i: usize) -> Style {
        // Alternate two chip colours so neighbours stand apart (16-colour safe).
        let c = if i.is_multiple_of(2) {
            Color::LightGreen
        } else {
            Color::LightBlue
        };
        self.fg(c).add_modifier(Modifier::BOLD)
    }
    fn pinyin(&self) -> Style {
        self.fg(Color::Cyan)
    }
    /// Pinyin as spans: each syllable in its tone's colour ([`super::tones`]) when `tones`
    /// and colours are on, else all in the pinyin style.
    fn pinyin_spans(&self, p: &str, tones: bool) -> Vec<Span<'static>> {
        if !(self.color && tones) {
            return vec![Span::styled(p.to_string(), self.pinyin())];
        }
        super::tones::syllables(p)
            .into_iter()
            .map(|piece| match piece.tone {
                Some(t) => Span::styled(piece.text, self.fg(super::tones::tone_colour(t))),
                None => Span::styled(piece.text, self.pinyin()),
            })
            .collect()
    }
    fn gloss(&self) -> Style {
        self.fg(Color::Gray)
    }
    fn low(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    fn sep(&self) -> Style {
        self.fg(Color::DarkGray)
    }
    fn error(&self) -> Style {
        self.fg(Color::LightRed).add_modifier(Modifier::BOLD)
    }
    fn prompt(&self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }
    fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
}

/// Display width of a string.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// A gloss cut to a chip's `max` columns. Where it does not fit and opens with a qualifier
/// in brackets that something follows ("(of sb or sth) to be (located) at"), the qualifier goes
/// first: the chip shows "to be (located) at", not "(of sb or sth) …". The card keeps it.
fn chip_gloss(gloss: &str, max: usize) -> String {
    if width(gloss) > max {
        if let Some((_, rest)) = gloss
            .strip_prefix('(')
            .and_then(|r| r.split_once(") "))
            // A qualifier of a few words ("of sb or sth", "negative prefix for verbs"), not one
            // that carries the meaning ("(long) time", "(after a numeral) ... odd").
            .filter(|(q, rest)| {
                !q.contains('(') && q.contains(' ') && rest.starts_with(|c: char| c.is_alphabetic())
            })
        {
            return truncate(rest.trim(), max);
        }
    }
    truncate(gloss, max)
}

/// Cuts `s` to at most `max` display columns, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// Wraps text to `max` display columns (breaking at spaces where possible, anywhere in CJK).
pub fn wrap(s: &str, max: usize) -> Vec<String> {
    let max = max.max(4);
    let mut lines = Vec::new();
    for para in s.split('\n') {
        let mut cur = String::new();
        let mut w = 0;
        for word in para.split_inclusive(' ') {
            let ww = width(word);
            if w + ww > max && !cur.is_empty() {
                lines.push(cur.trim_end().to_string());
                cur.clear();
                w = 0;
            }
            if ww > max {
                for c in word.chars() {
                    let cw = c.width().unwrap_or(0);
                    if w + cw > max {
                        lines.push(std::mem::take(&mut cur));
                        w = 0;
                    }
                    cur.push(c);
                    w += cw;
                }
            } else {
                cur.push_str(word);
                w += ww;
            }
        }
        lines.push(cur.trim_end().to_string());
    }
    lines
}

/// Wraps `s` to `max` columns with continuation lines indented like its second column: the
/// text after the first run of two or more spaces (`/help`'s summaries), else its own indent.
pub fn wrap_hanging(s: &str, max: usize) -> Vec<String> {
    let lead = s.len() - s.trim_start_matches(' ').len();
    let body = &s[lead..];
    let indent = match body.find("  ") {
        Some(p) if !body[p..].trim().is_empty() => {
            let rest = &body[p..];
            lead + width(&body[..p]) + (rest.len() - rest.trim_start_matches(' ').len())
        }
        _ => lead,
    };
    let first = wrap(s, max);
    if first.len() <= 1 || indent == 0 || indent * 2 > max {
        return first;
    }
    // The first line as `wrap` cuts it, the rest re-wrapped to the narrower column.
    let head = first[0].clone();
    let rest = s[head.len().min(s.len())..].trim_start();
    let mut out = vec![head];
    for l in wrap(rest, max - indent) {
        out.push(format!("{}{l}", " ".repeat(indent)));
    }
    out
}

fn pad(s: &str, w: usize) -> String {
    let n = w.saturating_sub(width(s));
    format!("{s}{}", " ".repeat(n))
}

/// The lines of one segmented turn at `cols` columns. `selected`: the inspected word.
pub fn turn_lines(
    d: &TurnData,
    explain: Explain,
    demo: bool,
    revealed: Option<usize>,
    selected: Option<usize>,
    cols: usize,
    th: &Theme,
) -> Vec<Line<'static>> {
    let look = Look {
        explain,
        demo,
        tones: true,
    };
    turn_lines_at(d, look, revealed, selected, cols, th, &mut Vec::new())
}

/// How turns are drawn: the settings that change a chip.
#[derive(Debug, Clone, Copy)]
struct Look {
    explain: Explain,
    demo: bool,
    tones: bool,
}

/// [`turn_lines`], also noting for each word drawn (word index, its first line, its rows).
fn turn_lines_at(
    d: &TurnData,
    look: Look,
    revealed: Option<usize>,
    selected: Option<usize>,
    cols: usize,
    th: &Theme,
    spots: &mut Vec<(usize, usize, usize)>,
) -> Vec<Line<'static>> {
    let Look {
        explain,
        demo,
        tones,
    } = look;
    let words = &d.seg.words;
    let shown = revealed.unwrap_or(words.len()).min(words.len());
    let full = explain == Explain::Full || demo;
    let brief = explain == Explain::Brief;
    let gloss_max = if demo { 24 } else { (cols / 5).clamp(8, 18) };
    // The boundary between word i-1 and i.
    let boundary = |i: usize| {
        let at = words.get(i)?.chars.start;
        d.seg.boundaries.iter().find(|b| b.at == at)
    };
    let sep_w = if demo { 7 } else { 3 };
    let mut out: Vec<Line<'static>> = Vec::new();
    // word, pinyin, gloss, part of speech · HSK, and the percentages of hesitant boundaries
    // (a line only where one is shown).
    let mut rows: [Vec<Span<'static>>; 5] = Default::default();
    let mut used = 2;
    let n_rows = if full {
        5
    } else if brief {
        2
    } else {
        1
    };
    let mut group: Vec<usize> = Vec::new();
    let mut flush = |rows: &mut [Vec<Span<'static>>; 5],
                     out: &mut Vec<Line<'static>>,
                     group: &mut Vec<usize>| {
        if rows[0].is_empty() {
            return;
        }
        let blank = |r: &Vec<Span<'static>>| r.iter().all(|s| s.content.trim().is_empty());
        let n = if n_rows == 5 && blank(&rows[4]) {
            4
        } else {
            n_rows
        };
        for w in group.drain(..) {
            spots.push((w, out.len(), n));
        }
        for r in rows.iter_mut().take(n) {
            let mut spans = vec![Span::raw("  ")];
            spans.append(r);
            out.push(Line::from(spans));
        }
        for r in rows.iter_mut() {
            r.clear();
        }
        if demo {
            out.push(Line::default());
        }
    };
    for (i, w) in words.iter().enumerate().take(shown) {
        let e = d.explanations.get(i);
        // A word without Chinese characters (hello, 2024) has no pinyin: a Latin word's
        // "pinyin" would only repeat it.
        // Readings that stay plausible in this sentence follow the chosen one: hái/huán.
        let pinyin = if w.text.chars().any(crate::text::is_han) {
            e.map(|e| {
                std::iter::once(e.pinyin.as_str())
                    .chain(e.other_readings.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default()
        } else {
            String::new()
        };
        // Part of speech and HSK level under the gloss (full view).
        let about = e.map(word_about).unwrap_or_default();
        let about = truncate(&about, gloss_max);
        let mut gloss = e.map(|e| e.gloss.clone()).unwrap_or_default();
        if e.is_some_and(|e| e.from_chars) && !gloss.is_empty() {
            gloss = format!("≈{gloss}");
        }
        let gloss = chip_gloss(&gloss, gloss_max);
        // An uncertain word (segment::Segmentation::uncertain_word) is marked with a `?`.
        let uncertain = d.seg.uncertain_word(i);
        let ww = width(&w.text) + usize::from(uncertain);
        let cw = if full {
            ww.max(width(&pinyin)).max(width(&gloss)).max(width(&about))
        } else if brief {
            ww.max(width(&pinyin))
        } else {
            ww
        };
        let need = cw + if i > 0 { sep_w } else { 0 };
        if i > 0 && used + need > cols {
            flush(&mut rows, &mut out, &mut group);
            used = 2;
        }
        group.push(i);
        if i > 0 {
            let b = boundary(i);
            let p = b.map_or(1.0, |b| b.prob);
            // Glyph and percentage only where the model hesitates (segment::Boundary::hesitant).
            let low = b.is_some_and(|b| b.hesitant());
            let glyph = if low { "┆" } else { "│" };
            let half = (sep_w - 1) / 2;
            let sep = format!("{}{glyph}{}", " ".repeat(half), " ".repeat(half));
            let style = if low { th.low() } else { th.sep() };
            rows[0].push(Span::styled(sep.clone(), style));
            rows[1].push(Span::styled(sep.clone(), style));
            rows[2].push(Span::styled(sep.clone(), style));
            rows[3].push(Span::styled(sep, style));
            let pct = if low {
                format!(
                    "{:>3}",
                    format!("{}%", ((p * 100.0).floor() as u32).min(99))
                )
            } else {
                String::new()
            };
            let pct = pad(
                &format!("{}{pct}", " ".repeat(half.saturating_sub(1))),
                sep_w,
            );
            rows[4].push(Span::styled(pct, if low { th.low() } else { th.sep() }));
            used += sep_w;
        }
        let mut ws = th.word(i);
        if selected == Some(i) {
            ws = ws.patch(th.selected());
        }
        if uncertain {
            rows[0].push(Span::styled(w.text.clone(), ws));
            rows[0].push(Span::styled(pad("?", cw + 1 - ww), th.low()));
        } else {
            rows[0].push(Span::styled(pad(&w.text, cw), ws));
        }
        rows[1].extend(th.pinyin_spans(&pinyin, tones));
        if cw > width(&pinyin) {
            rows[1].push(Span::styled(" ".repeat(cw - width(&pinyin)), th.pinyin()));
        }
        rows[2].push(Span::styled(pad(&gloss, cw), th.gloss()));
        rows[3].push(Span::styled(pad(&about, cw), th.sep()));
        rows[4].push(Span::raw(" ".repeat(cw)));
        used += cw;
    }
    flush(&mut rows, &mut out, &mut group);
    if shown < words.len() {
        out.push(Line::from(Span::styled(
            format!(
                "  … {} more — Space or → reveals the next word",
                words.len() - shown
            ),
            th.sep(),
        )));
        return out;
    }
    if full {
        // Words that together are a listed name: 习+近平 = 习近平 Xí Jìnpíng: Xi Jinping (1953-), …
        for (r, e) in &d.names {
            let Some(parts) = words.get(r.clone()) else {
                continue;
            };
            let parts: Vec<&str> = parts.iter().map(|w| w.text.as_str()).collect();
            let label = crate::explain::together_label(&parts, &e.word, "+");
            let note = format!("{label} = {} {}: {}", e.word, e.pinyin, e.gloss);
            for l in wrap(&note, cols.saturating_sub(2)) {
                out.push(Line::from(vec![
                    Span::raw("  "),
                    Span::styled(l, th.gloss()),
                ]));
            }
        }
        // Boundaries inside words that the model nearly split.
        let mut hes = Vec::new();
        let chars: Vec<char> = d.seg.text.chars().collect();
        for b in &d.seg.boundaries {
            if !b.split && b.hesitant() && b.at > 0 && b.at < chars.len() {
                hes.push(format!(
                    "{}|{} {}%",
                    chars[b.at - 1],
                    chars[b.at],
                    (b.prob * 100.0).round() as u32
                ));
            }
        }
        if !hes.is_empty() {
            for l in wrap(
                &format!("nearly split: {}", hes.join("  ")),
                cols.saturating_sub(2),
            ) {
                out.push(Line::from(vec![Span::raw("  "), Span::styled(l, th.low())]));
            }
        }
        let alts: Vec<String> = d
            .alternatives
            .iter()
            .filter(|(_, p)| *p >= 0.01)
            .take(2)
            .map(|(w, p)| {
                format!(
                    "{} ({:.0}%)",
                    differing_part(&d.seg.word_strs(), w),
                    p * 100.0
                )
            })
            .collect();
        if !alts.is_empty() {
            for l in wrap(&format!("or: {}", alts.join(" · ")), cols.saturating_sub(2)) {
                out.push(Line::from(vec![
                    Span::raw("  "),
                    Span::styled(l, th.gloss()),
                ]));
            }
        }
        if d.seg.by_built_in {
            for l in wrap(BY_BUILT_IN, cols.saturating_sub(2)) {
                out.push(Line::from(vec![Span::raw("  "), Span::styled(l, th.low())]));
            }
        }
    }
    out
}

/// The text of drawn lines, without styles or trailing blanks (what `fenci explain` prints).
pub fn plain_lines(lines: &[Line<'_>]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let s: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            s.trim_end().to_string()
        })
        .collect()
}

/// Under a sentence that a routed version handed to the built-in model (full view).
pub const BY_BUILT_IN: &str =
    "segmented by the built-in model: this reads like its news text more than like your corrections";

/// The words of `alt` where it differs from `best`, with `…` for the unchanged context.
pub fn differing_part(best: &[&str], alt: &[String]) -> String {
    let ends = |ws: &mut dyn Iterator<Item = usize>| -> Vec<usize> {
        let mut acc = 0;
        ws.map(|n| {
            acc += n;
            acc
        })
        .collect()
    };
    let b = ends(&mut best.iter().map(|w| w.chars().count()));
    let a = ends(&mut alt.iter().map(|w| w.chars().count()));
    // First and last alternative words that are not words of the best segmentation.
    let differs: Vec<usize> = (0..alt.len())
        .filter(|&i| {
            let start = if i == 0 { 0 } else { a[i - 1] };
            !b.contains(&a[i])
                || (start > 0 && !b.contains(&start))
                || b.iter().any(|&x| x > start && x < a[i])
        })
        .collect();
    let (Some(&lo), Some(&hi)) = (differs.first(), differs.last()) else {
        return alt.join(" ");
    };
    let mut out = String::new();
    if lo > 0 {
        out.push_str("… ");
    }
    out.push_str(&alt[lo..=hi].join(" "));
    if hi + 1 < alt.len() {
        out.push_str(" …");
    }
    out
}

fn turn_block(
    app: &App,
    ti: usize,
    t: &Turn,
    cols: usize,
    th: &Theme,
    spots: &mut Vec<(usize, usize, usize)>,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    // A report nobody typed a command for (a download's licence, a finished training) has no
    // `›` line.
    if !t.input.is_empty() {
        for (k, l) in wrap(&t.input, cols.saturating_sub(2))
            .into_iter()
            .enumerate()
        {
            let p = if k == 0 { "› " } else { "  " };
            out.push(Line::from(vec![Span::styled(p, th.prompt()), Span::raw(l)]));
        }
    }
    match &t.body {
        TurnBody::Pending => {
            out.push(Line::from(Span::styled("  …", th.sep())));
        }
        TurnBody::Cancelled => out.push(Line::from(Span::styled("  (cancelled)", th.sep()))),
        TurnBody::Streaming => out.push(Line::from(Span::styled("  ✎ writing…", th.sep()))),
        TurnBody::Error(e) => {
            for (k, l) in wrap(e, cols.saturating_sub(9)).into_iter().enumerate() {
                let p = if k == 0 { "  error: " } else { "         " };
                out.push(Line::from(vec![Span::styled(p, th.error()), Span::raw(l)]));
            }
        }
        TurnBody::Info(lines) => {
            for l in lines {
                for w in wrap_hanging(l, cols.saturating_sub(2)) {
                    out.push(Line::from(format!("  {w}")));
                }
            }
        }
        TurnBody::Done(d) => {
            let sel = match app.mode {
                Mode::Inspect(i, w) | Mode::Detail(i, w) if i == ti => Some(w),
                _ => None,
            };
            let look = Look {
                explain: app.settings.explain,
                demo: app.demo,
                tones: app.settings.tone_colours,
            };
            let mut at = Vec::new();
            let lines = turn_lines_at(d, look, t.revealed, sel, cols, th, &mut at);
            let base = out.len();
            spots.extend(at.into_iter().map(|(w, l, n)| (w, base + l, n)));
            out.extend(lines);
            if let Mode::Edit(i, cursor) = app.mode {
                if i == ti {
                    out.extend(editor_lines(app, &d.seg.text, cursor, cols, th));
                }
            }
        }
    }
    out.push(Line::default());
    out
}

/// The boundary editor: the sentence's characters with the chosen boundaries, the cursor on one
/// character, and the words the correction will save.
fn editor_lines(
    app: &App,
    text: &str,
    cursor: usize,
    cols: usize,
    th: &Theme,
) -> Vec<Line<'static>> {
    let mut spans = vec![Span::styled("  edit: ", th.low())];
    let mut used = 8;
    let mut out = Vec::new();
    for (i, c) in text.chars().enumerate() {
        let boundary = i > 0 && app.edit_starts.get(i).copied().unwrap_or(false);
        let sep = if i == 0 {
            ""
        } else if boundary {
            " │ "
        } else {
            " "
        };
        let w = width(sep) + c.width().unwrap_or(0);
        if used + w > cols && used > 8 {
            out.push(Line::from(std::mem::take(&mut spans)));
            spans.push(Span::raw("        "));
            used = 8;
        }
        spans.push(Span::styled(sep.to_string(), th.sep()));
        let style = if i == cursor {
            th.selected().add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        spans.push(Span::styled(c.to_string(), style));
        used += w;
    }
    out.push(Line::from(spans));
    if let Mode::Edit(t, _) = app.mode {
        let words = app.edited_words(t).join(" ");
        for l in wrap(&format!("saves: {words}"), cols.saturating_sub(8)) {
            out.push(Line::from(vec![
                Span::raw("        "),
                Span::styled(l, th.gloss()),
            ]));
        }
    }
    out
}

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

fn welcome(cols: usize) -> Vec<Line<'static>> {
    let text = [
        "分词 fenci — Chinese word segmentation you can talk to.",
        "",
        "Type a Chinese sentence and press Enter: it comes back as words with pinyin, an English gloss (CC-CEDICT) and the model's confidence at every boundary.",
        "",
        "Tab inspects words (Enter opens the dictionary entry) · /help lists commands · /demo is teaching mode · Ctrl-C twice quits.",
    ];
    text.iter()
        .flat_map(|t| wrap(t, cols.saturating_sub(2)))
        .map(|l| Line::from(format!("  {l}")))
        .collect()
}

/// Where a word's chip is in the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordSpot {
    /// The turn's index.
    pub turn: usize,
    /// The word's index in the turn.
    pub word: usize,
    /// The chip's first line in the transcript.
    pub line: usize,
    /// How many lines the chip has.
    pub rows: usize,
}

/// The transcript's lines at `cols` columns and where each word's chip is: what [`render`]
/// draws (bottom-aligned and scrolled) and what the App keeps the inspected word visible with.
pub fn transcript(app: &App, cols: usize, th: &Theme) -> (Vec<Line<'static>>, Vec<WordSpot>) {
    let mut lines: Vec<Line<'static>> = if app.turns.is_empty() {
        welcome(cols)
    } else {
        Vec::new()
    };
    let mut spots = Vec::new();
    for (i, t) in app.turns.iter().enumerate() {
        let mut at = Vec::new();
        let block = turn_block(app, i, t, cols, th, &mut at);
        let base = lines.len();
        spots.extend(at.into_iter().map(|(w, l, rows)| WordSpot {
            turn: i,
            word: w,
            line: base + l,
            rows,
        }));
        lines.extend(block);
    }
    (lines, spots)
}

/// The transcript's height on a terminal of `rows` rows (the rule, input and status lines take
/// three).
pub fn transcript_height(rows: u16) -> usize {
    (rows as usize).saturating_sub(3).max(1)
}

/// Draws the whole screen.
pub fn render(app: &App, f: &mut Frame, th: &Theme) {
    let area = f.area();
    let [main, rule, input, status] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let cols = main.width as usize;

    // Transcript: all lines, bottom-aligned, scrolled up by `app.scroll`.
    let (lines, _) = transcript(app, cols, th);
    let h = main.height as usize;
    let max_scroll = lines.len().saturating_sub(h);
    let scroll = app.scroll.min(max_scroll);
    let start = lines.len().saturating_sub(h + scroll);
    let visible: Vec<Line> = lines.into_iter().skip(start).take(h).collect();
    f.render_widget(Paragraph::new(visible), main);

    f.render_widget(
        Paragraph::new(Line::from(Span::styled(
            "─".repeat(rule.width as usize),
            th.sep(),
        ))),
        rule,
    );

    // Input line with a cursor measured in display columns; scrolls horizontally when long.
    let prompt = "› ";
    let text = app.input.text();
    let avail = (input.width as usize).saturating_sub(3).max(1);
    let ccol = app.input.cursor_col();
    let skip_cols = ccol.saturating_sub(avail);
    let mut shown = String::new();
    let mut w = 0;
    for c in text.chars() {
        let cw = c.width().unwrap_or(0);
        if w >= skip_cols {
            shown.push(c);
        }
        w += cw;
    }
    let hint = if text.is_empty() && app.mode == Mode::Normal {
        match (&app.model, &app.model_error) {
            (None, None) => "loading the model… you can type already",
            (None, Some(_)) => "the model failed to load — /model says why",
            _ if app.demo => "teaching mode: type a sentence, Space reveals words",
            _ => "type a sentence, or /help",
        }
    } else if matches!(app.mode, Mode::Review(_)) {
        "is it cut right? a: yes · e: fix it · s: skip · Esc: stop reviewing"
    } else {
        ""
    };
    let input_line = Line::from(vec![
        Span::styled(prompt, th.prompt()),
        Span::raw(truncate(&shown, avail + 1)),
        Span::styled(hint, th.sep()),
    ]);
    f.render_widget(Paragraph::new(input_line), input);
    if app.mode == Mode::Normal {
        f.set_cursor_position((input.x + 2 + (ccol - skip_cols) as u16, input.y));
    }

    // Status bar.
    let model = match (&app.model, &app.model_error) {
        (Some(m), _) => format!("{} · {}", m.name, m.summary),
        (None, Some(_)) => "model failed".into(),
        (None, None) => format!("{} {}", SPINNER[(app.tick % 8) as usize], "loading model"),
    };
    // Most urgent first: jobs, focus hints and notices, then the model and settings, so a
    // narrow terminal cuts the least useful part.
    let mut parts = vec![" fenci".to_string()];
    if let Some((step, total, loss)) = app.training {
        let pct = (step * 100).checked_div(total).unwrap_or(0);
        let loss = if loss.is_finite() {
            format!(" loss {loss:.3}")
        } else {
            String::new()
        };
        parts.push(format!(
            "{} training {step}/{total} ({pct}%){loss} · Esc cancels",
            SPINNER[(app.tick % 8) as usize]
        ));
    }
    if let Some((file, done, total)) = &app.download {
        let pct = (done * 100).checked_div(*total).unwrap_or(0);
        let filled = (pct / 10) as usize;
        parts.push(format!(
            "⬇ {file} [{}{}] {pct}% {:.1}/{:.1} MB · Esc cancels",
            "█".repeat(filled),
            "·".repeat(10 - filled.min(10)),
            *done as f64 / 1e6,
            *total as f64 / 1e6
        ));
    }
    if let Some((done, total)) = app.requeuing {
        // Esc first leaves a review; Ctrl-C cancels from anywhere.
        let key = if app.mode == Mode::Normal {
            "Esc"
        } else {
            "Ctrl-C"
        };
        parts.push(format!(
            "{} re-queuing: {done}/{total} sentences · {key} cancels",
            SPINNER[(app.tick % 8) as usize]
        ));
    }
    if app.generating.is_some() {
        parts.push(format!(
            "{} writing examples (Esc stops)",
            SPINNER[(app.tick % 8) as usize]
        ));
    }
    let pending = app.pending();
    if pending > 0 {
        parts.push(format!(
            "{} segmenting {pending} (Esc cancels)",
            SPINNER[(app.tick % 8) as usize]
        ));
    }
    match app.mode {
        Mode::Inspect(..) => {
            parts.push("←/→ word · ↑/↓ turn · Enter entry · e edit · Esc back".into())
        }
        Mode::Detail(..) => parts.push("Esc closes".into()),
        Mode::Edit(..) => {
            parts.push("←/→ move · Space toggles a boundary · Enter saves · Esc cancels".into())
        }
        Mode::Review(..) => parts.push("a right · e fix · s skip · Esc stop".into()),
        Mode::Normal => {}
    }
    if let Some(r) = app.review_status() {
        parts.push(r);
    }
    if !app.completions.is_empty() {
        parts.push(
            app.completions
                .iter()
                .map(|c| format!("/{c}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    if let Some(n) = &app.notice {
        parts.push(n.clone());
    }
    if app.demo {
        parts.push("DEMO".into());
    }
    let sampling = format!(
        "T {} · top-p {} · seed {}",
        app.settings.temperature, app.settings.top_p, app.settings.seed
    );
    let explain = format!("explain {}", app.settings.explain);
    // The model, shorter and shorter: with its summary, the summary's first part, the name.
    // One still loading (or failed) is news: it goes with the urgent parts.
    let mut models = Vec::new();
    match &app.model {
        Some(m) => {
            models.push(model);
            if let Some((first, _)) = m.summary.split_once(" · ") {
                models.push(format!("{} · {first}", m.name));
            }
            models.push(m.name.clone());
        }
        None => parts.push(model),
    }
    if models.is_empty() {
        models.push(String::new());
    }
    // What to show after the urgent parts, fullest first: the model is shortened, then the
    // explain level dropped, before the sampling settings (the seed) are cut.
    let mut tails: Vec<Vec<String>> = Vec::new();
    for m in &models {
        tails.push(vec![m.clone(), explain.clone(), sampling.clone()]);
    }
    let shortest = models.last().cloned().unwrap_or_default();
    tails.push(vec![shortest.clone(), sampling.clone()]);
    tails.push(vec![sampling.clone()]);
    for t in &mut tails {
        t.retain(|p| !p.is_empty());
    }
    if app.generating.is_some() {
        // While examples are written, their sampling settings matter more than the model.
        for t in &mut tails {
            t.rotate_right(1);
        }
    }
    let fits = |tail: &Vec<String>| {
        let mut all = parts.clone();
        all.extend(tail.iter().cloned());
        all.join(" │ ")
    };
    let status_text = tails
        .iter()
        .map(fits)
        .find(|s| width(s) <= status.width as usize)
        .unwrap_or_else(|| truncate(&fits(&tails[0]), status.width as usize));
    let status_style = if th.color {
        Style::default().bg(Color::Blue).fg(Color::White)
    } else {
        Style::default().add_modifier(Modifier::REVERSED)
    };
    f.render_widget(
        Paragraph::new(pad(&status_text, status.width as usize)).style(status_style),
        status,
    );

    if let Mode::Detail(t, w) = app.mode {
        if let Some(TurnBody::Done(d)) = app.turns.get(t).map(|t| &t.body) {
            if let Some(e) = d.explanations.get(w) {
                detail(f, main, e, th, app.settings.tone_colours);
            }
        }
    }
}

/// A word's part of speech for a learner and its HSK level, for the chip (`verb · HSK 2`);
/// `""` when neither is known.
fn word_about(e: &crate::explain::Explanation) -> String {
    let label = e.pos_shown().and_then(crate::explain::pos_label);
    let hsk = e.hsk.map(hsk_name);
    match (label, hsk) {
        (Some(l), Some(h)) => format!("{l} · {h}"),
        (Some(l), None) => l.to_string(),
        (None, Some(h)) => h,
        (None, None) => String::new(),
    }
}

/// `HSK 3`, or `HSK 7–9` for the advanced band.
fn hsk_name(level: u8) -> String {
    if level >= 7 {
        "HSK 7–9".into()
    } else {
        format!("HSK {level}")
    }
}

fn detail(f: &mut Frame, area: Rect, e: &crate::explain::Explanation, th: &Theme, tones: bool) {
    let w = (area.width.saturating_sub(4)).clamp(20, 90);
    let h = area.height.saturating_sub(2).max(5);
    let x = area.x + (area.width.saturating_sub(w)) / 2;
    let y = area.y + 1;
    let r = Rect::new(x, y, w.min(area.width), h.min(area.height));
    let inner_w = r.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    // What was chosen for this sentence: part of speech, reading, level.
    let mut about = Vec::new();
    if let Some(tag) = e.pos.as_deref() {
        let meaning = crate::explain::pos_meaning(tag).unwrap_or("a tag fenci does not know");
        if e.pos_unsure {
            about.push(format!(
                "part of speech: not sure (the model's guess: {tag} — {meaning})"
            ));
        } else {
            about.push(format!("part of speech: {tag} — {meaning}"));
        }
    }
    if !e.pinyin.is_empty() && e.entries.len() + e.other_readings.len() > 1 {
        let mut here = format!("read here as {}", e.pinyin);
        if !e.other_readings.is_empty() {
            here.push_str(&format!(" (or {}: not sure)", e.other_readings.join(", ")));
        }
        about.push(here);
    }
    let chars_hsk: Vec<String> = e
        .word
        .chars()
        .filter_map(|c| crate::explain::hsk_char(c).map(|l| format!("{c} {}", hsk_name(l))))
        .collect();
    match (e.hsk, e.word.chars().count() > 1 && !chars_hsk.is_empty()) {
        (Some(l), true) => about.push(format!(
            "{} · characters: {}",
            hsk_name(l),
            chars_hsk.join(", ")
        )),
        (Some(l), false) => about.push(hsk_name(l)),
        (None, true) => about.push(format!(
            "not in the HSK word list · characters: {}",
            chars_hsk.join(", ")
        )),
        (None, false) => {}
    }
    // The sense the sentence called for, where it is not the entry's first (想 "to want"
    // before a verb, 点 "a bit; a little (as in 一点)" after one).
    if e.entries.get(e.chosen).is_some_and(|en| {
        !e.gloss.is_empty() && en.short_gloss(crate::explain::GLOSS_MAX) != e.gloss
    }) {
        about.push(format!("meaning here: {}", e.gloss));
    }
    for a in &about {
        for l in wrap(a, inner_w.saturating_sub(1)) {
            lines.push(Line::from(Span::styled(l, th.gloss())));
        }
    }
    if !about.is_empty() {
        lines.push(Line::default());
    }
    if e.entries.is_empty() {
        let why = if e.from_chars {
            "not in CC-CEDICT — readings of its characters:"
        } else {
            "no dictionary entry"
        };
        lines.push(Line::from(Span::styled(why, th.low())));
    }
    for (k, en) in e.entries.iter().enumerate() {
        // ▸ marks the entry chosen for this sentence (when there is a choice).
        let mark = if k == e.chosen && e.entries.len() > 1 {
            "▸ "
        } else {
            ""
        };
        let mut head = vec![
            Span::raw(mark),
            Span::styled(en.simplified.clone(), th.word(0)),
            Span::raw(format!("  traditional {}  ", en.traditional)),
        ];
        head.extend(th.pinyin_spans(&en.pinyin(), tones));
        lines.push(Line::from(head));
        for (i, s) in en.senses.iter().enumerate() {
            for (k, l) in wrap(s, inner_w.saturating_sub(5)).into_iter().enumerate() {
                let p = if k == 0 {
                    format!("{:>3}. ", i + 1)
                } else {
                    "     ".into()
                };
                lines.push(Line::from(format!("{p}{l}")));
            }
        }
    }
    if e.word.chars().count() > 1 || e.entries.is_empty() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled("characters:", th.sep())));
        for c in &e.chars {
            let g = c.gloss.clone().unwrap_or_default();
            let head = format!("{} {}", c.ch, c.pinyin);
            for (k, l) in wrap(
                &format!("{} {} {g}", c.ch, c.pinyin),
                inner_w.saturating_sub(2),
            )
            .into_iter()
            .enumerate()
            {
                match l.strip_prefix(&head) {
                    // The character's reading in its tone's colour.
                    Some(rest) if k == 0 => {
                        let mut spans = vec![Span::raw(format!("  {} ", c.ch))];
                        spans.extend(th.pinyin_spans(&c.pinyin, tones));
                        spans.push(Span::raw(rest.to_string()));
                        lines.push(Line::from(spans));
                    }
                    _ => lines.push(Line::from(format!(
                        "{}{l}",
                        if k == 0 { "  " } else { "    " }
                    ))),
                }
            }
        }
    }
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} — CC-CEDICT ", e.word)),
        ),
        r,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_the_built_in_model_segmented_says_so_in_the_full_view() {
        let seg = crate::segment::Segmenter::new(&crate::tagger::ModelFiles::embedded().unwrap())
            .unwrap();
        let dict = crate::explain::Dictionary::embedded();
        let mut d = crate::annotate::annotate(&seg, dict, "我爱北京。").unwrap();
        // The built-in model is not routed: it never says so.
        assert!(!d.seg.by_built_in);
        let th = Theme { color: false };
        let text = |d: &TurnData, explain| -> String {
            plain_lines(&turn_lines(d, explain, false, None, None, 200, &th)).join("\n")
        };
        assert!(!text(&d, Explain::Full).contains(BY_BUILT_IN));
        d.seg.by_built_in = true;
        assert!(text(&d, Explain::Full).contains(BY_BUILT_IN));
        assert!(!text(&d, Explain::Off).contains(BY_BUILT_IN));
    }

    #[test]
    fn alternatives_show_only_what_differs() {
        let best = ["我", "爱", "北京", "天安门", "。"];
        let alt: Vec<String> = ["我", "爱", "北京", "天", "安门", "。"]
            .map(String::from)
            .to_vec();
        assert_eq!(differing_part(&best, &alt), "… 天 安门 …");
        let alt: Vec<String> = ["我爱", "北京", "天安门", "。"].map(String::from).to_vec();
        assert_eq!(differing_part(&best, &alt), "我爱 …");
    }

    #[test]
    fn a_chip_drops_a_leading_qualifier_before_it_cuts() {
        assert_eq!(
            chip_gloss("(of sb or sth) to be (located) at", 16),
            "to be (located)…"
        );
        // Whole glosses in brackets, and glosses that fit, stay as they are.
        let marker = "(completed action marker)";
        assert_eq!(chip_gloss(marker, 16), truncate(marker, 16));
        assert_eq!(chip_gloss("(bound form) up", 20), "(bound form) up");
        // Qualifiers that carry the meaning stay.
        let odd = "(after a numeral) ... odd";
        assert_eq!(chip_gloss(odd, 16), truncate(odd, 16));
        let long = "(long) time; (long) duration of time";
        assert_eq!(chip_gloss(long, 16), truncate(long, 16));
    }

    #[test]
    fn truncate_and_wrap_count_display_columns() {
        assert_eq!(truncate("北京天安门", 7), "北京天…");
        assert_eq!(wrap("我爱北京天安门", 6), vec!["我爱北", "京天安", "门"]);
        assert_eq!(wrap("to be or not", 6), vec!["to be", "or not"]);
    }
}
