//! How the App answers keys and pastes: the line editor, inspect and detail modes, the
//! boundary editor, teaching mode.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::tui::commands;

impl App {
    pub(super) fn paste(&mut self, text: &str) -> Vec<Action> {
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.len() <= 1 && !text.contains('\n') {
            self.input.insert(text);
            return vec![];
        }
        // Multi-line paste: each line is a sentence of its own.
        let mut jobs = Vec::new();
        for l in lines {
            let id = self.push_turn(l.to_string(), TurnBody::Pending);
            jobs.push((id, l.to_string()));
        }
        if jobs.is_empty() {
            vec![]
        } else {
            vec![Action::Segment(jobs)]
        }
    }

    pub(super) fn key(&mut self, k: KeyEvent) -> Vec<Action> {
        // Ctrl-C: cancel a job, else clear the line, else (twice) quit.
        if ctrl(&k, 'c') {
            if self.pending() > 0
                || self.training.is_some()
                || self.download.is_some()
                || self.opening.is_some()
                || self.requeuing.is_some()
            {
                self.notice = Some("cancelled".into());
                self.quit_armed = false;
                return self.cancel_actions();
            }
            if !self.input.is_empty() {
                self.input.clear();
                self.quit_armed = false;
                return vec![];
            }
            if self.quit_armed {
                self.quitting = true;
                return vec![Action::Quit];
            }
            self.quit_armed = true;
            self.notice = Some("press Ctrl-C again to quit".into());
            return vec![];
        }
        self.quit_armed = false;
        if !matches!(k.code, KeyCode::Tab) {
            self.completions.clear();
        }
        match self.mode {
            Mode::Edit(t, c) => self.edit_key(k, t, c),
            Mode::Detail(t, w) => {
                if matches!(k.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                    self.mode = Mode::Inspect(t, w);
                }
                vec![]
            }
            Mode::Inspect(t, w) => {
                self.inspect_key(k, t, w);
                if matches!(self.mode, Mode::Inspect(..))
                    && !matches!(k.code, KeyCode::PageUp | KeyCode::PageDown)
                {
                    self.follow_selection();
                }
                vec![]
            }
            Mode::Review(id) => self.review_key(k, id),
            Mode::Normal => self.normal_key(k),
        }
    }

    pub(super) fn words_in(&self, turn: usize) -> usize {
        match self.turns.get(turn).map(|t| &t.body) {
            Some(TurnBody::Done(d)) => d.seg.words.len(),
            _ => 0,
        }
    }

    pub(super) fn inspectable(&self) -> Vec<usize> {
        (0..self.turns.len())
            .filter(|&i| self.words_in(i) > 0)
            .collect()
    }

    /// The transcript's layout at the terminal's size: where each word's chip is, the number
    /// of lines and the visible height. `None` until the size is known.
    fn layout(&self) -> Option<(Vec<crate::tui::view::WordSpot>, usize, usize)> {
        let (cols, rows) = self.size?;
        let th = crate::tui::view::Theme { color: false };
        let (lines, spots) = crate::tui::view::transcript(self, cols as usize, &th);
        Some((
            spots,
            lines.len(),
            crate::tui::view::transcript_height(rows),
        ))
    }

    /// The first and one-past-last transcript line on screen at scroll `scroll`.
    fn window(total: usize, height: usize, scroll: usize) -> (usize, usize) {
        let scroll = scroll.min(total.saturating_sub(height));
        let start = total.saturating_sub(height + scroll);
        (start, start + height)
    }

    /// Whether word `w` of turn `t` is on screen (true while the size is unknown).
    pub fn word_visible(&self, t: usize, w: usize) -> bool {
        let Some((spots, total, height)) = self.layout() else {
            return true;
        };
        let (start, end) = Self::window(total, height, self.scroll);
        spots
            .iter()
            .find(|s| s.turn == t && s.word == w)
            .is_some_and(|s| s.line >= start && s.line + s.rows <= end)
    }

    /// Scrolls so that the inspected word is on screen (as little as needed).
    pub(super) fn follow_selection(&mut self) {
        let (Mode::Inspect(t, w) | Mode::Detail(t, w)) = self.mode else {
            return;
        };
        let Some((spots, total, height)) = self.layout() else {
            return;
        };
        let Some(spot) = spots.iter().find(|s| s.turn == t && s.word == w) else {
            return;
        };
        let max = total.saturating_sub(height);
        self.scroll = self.scroll.min(max);
        let (start, end) = Self::window(total, height, self.scroll);
        let rows = spot.rows.min(height);
        if spot.line < start {
            self.scroll = (total - height.min(total))
                .saturating_sub(spot.line)
                .min(max);
        } else if spot.line + rows > end {
            self.scroll = total.saturating_sub(spot.line + rows).min(max);
        }
    }

    /// PgUp/PgDn in inspect mode: scrolls a page, and the selection moves to the nearest word
    /// still on screen (the lowest after PgUp, the highest after PgDn).
    fn inspect_page(&mut self, up: bool) {
        let Some((spots, total, height)) = self.layout() else {
            self.scroll = if up {
                self.scroll.saturating_add(10)
            } else {
                self.scroll.saturating_sub(10)
            };
            return;
        };
        let max = total.saturating_sub(height);
        let page = height.saturating_sub(2).max(1);
        self.scroll = if up {
            self.scroll.min(max).saturating_add(page).min(max)
        } else {
            self.scroll.min(max).saturating_sub(page)
        };
        let (start, end) = Self::window(total, height, self.scroll);
        let on_screen = |s: &&crate::tui::view::WordSpot| s.line >= start && s.line + s.rows <= end;
        if let Mode::Inspect(t, w) = self.mode {
            if spots
                .iter()
                .filter(on_screen)
                .any(|s| s.turn == t && s.word == w)
            {
                return;
            }
        }
        let pick = if up {
            spots.iter().rfind(on_screen)
        } else {
            spots.iter().find(on_screen)
        };
        if let Some(s) = pick {
            self.mode = Mode::Inspect(s.turn, s.word);
        }
    }

    pub(super) fn inspect_key(&mut self, k: KeyEvent, t: usize, w: usize) {
        let n = self.words_in(t);
        let turns = self.inspectable();
        let pos = turns.iter().position(|&x| x == t).unwrap_or(0);
        match k.code {
            KeyCode::Esc => self.mode = Mode::Normal,
            // Only a word one can see: else bring it on screen first.
            KeyCode::Enter if self.word_visible(t, w) => self.mode = Mode::Detail(t, w),
            KeyCode::Enter => {
                self.notice = Some("the selected word was off screen: here it is".into())
            }
            KeyCode::PageUp => self.inspect_page(true),
            KeyCode::PageDown => self.inspect_page(false),
            KeyCode::Char('e') => self.start_edit(t, Some(w)),
            KeyCode::Right | KeyCode::Tab | KeyCode::Char('l') if n > 0 => {
                self.mode = Mode::Inspect(t, (w + 1) % n)
            }
            KeyCode::Left | KeyCode::BackTab | KeyCode::Char('h') if n > 0 => {
                self.mode = Mode::Inspect(t, (w + n - 1) % n)
            }
            KeyCode::Up | KeyCode::Char('k') if pos > 0 => {
                let nt = turns[pos - 1];
                self.mode = Mode::Inspect(nt, w.min(self.words_in(nt) - 1));
            }
            KeyCode::Down | KeyCode::Char('j') if pos + 1 < turns.len() => {
                let nt = turns[pos + 1];
                self.mode = Mode::Inspect(nt, w.min(self.words_in(nt) - 1));
            }
            _ => {}
        }
    }

    pub(super) fn normal_key(&mut self, k: KeyEvent) -> Vec<Action> {
        let alt = k.modifiers.contains(KeyModifiers::ALT);
        let ctl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Enter => return self.submit(),
            KeyCode::Esc => {
                self.notice = None;
                if self.pending() > 0
                    || self.training.is_some()
                    || self.download.is_some()
                    || self.generating.is_some()
                    || self.opening.is_some()
                    || self.requeuing.is_some()
                {
                    return self.cancel_actions();
                }
            }
            KeyCode::Tab => self.tab(),
            KeyCode::BackTab => {}
            KeyCode::Up => self.input.history_prev(),
            KeyCode::Down => self.input.history_next(),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_add(10),
            KeyCode::PageDown => self.scroll = self.scroll.saturating_sub(10),
            KeyCode::Left if self.demo && self.input.is_empty() => {}
            KeyCode::Right if self.demo && self.input.is_empty() => self.reveal_next(),
            KeyCode::Char(' ') if self.demo && self.input.is_empty() => self.reveal_next(),
            KeyCode::Left => self.input.left(),
            KeyCode::Right => self.input.right(),
            KeyCode::Home => self.input.home(),
            KeyCode::End => self.input.end(),
            KeyCode::Backspace => self.input.backspace(),
            KeyCode::Delete => self.input.delete(),
            KeyCode::Char(c) if ctl => match c {
                'a' => self.input.home(),
                'e' => self.input.end(),
                'b' => self.input.left(),
                'f' => self.input.right(),
                'k' => self.input.kill_to_end(),
                'u' => self.input.kill_to_start(),
                'w' => self.input.kill_word_back(),
                'd' => self.input.delete(),
                'h' => self.input.backspace(),
                'p' => self.input.history_prev(),
                'n' => self.input.history_next(),
                'l' => self.scroll = 0,
                _ => {}
            },
            KeyCode::Char(_) if alt => {}
            KeyCode::Char(c) => {
                self.input.insert(&c.to_string());
                self.notice = None;
            }
            _ => {}
        }
        vec![]
    }

    pub(super) fn tab(&mut self) {
        let line = self.input.text();
        if line.starts_with('/') {
            let (completed, cands) = commands::complete(&line);
            if cands.is_empty() {
                self.notice = Some(format!("no command starts with {line}"));
            }
            if let Some(c) = completed {
                self.input.set(&c);
            }
            self.completions = if cands.len() > 1 { cands } else { vec![] };
            return;
        }
        if let Some(&last) = self.inspectable().last() {
            self.mode = Mode::Inspect(last, 0);
            self.follow_selection();
        } else {
            self.notice = Some("nothing to inspect yet: type a sentence first".into());
        }
    }

    pub(super) fn reveal_next(&mut self) {
        if let Some(t) = self
            .turns
            .iter_mut()
            .rev()
            .find(|t| matches!(t.body, TurnBody::Done(_)))
        {
            let n = match &t.body {
                TurnBody::Done(d) => d.seg.words.len(),
                _ => 0,
            };
            let r = t.revealed.unwrap_or(n);
            t.revealed = Some((r + 1).min(n));
        }
    }

    pub(super) fn submit(&mut self) -> Vec<Action> {
        let line = self.input.submit();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            if self.demo {
                self.reveal_next();
            }
            return vec![];
        }
        let mut actions = vec![Action::AppendHistory(line.clone())];
        if trimmed.starts_with('/') {
            actions.extend(self.command(trimmed));
        } else {
            let id = self.push_turn(trimmed.to_string(), TurnBody::Pending);
            actions.push(Action::Segment(vec![(id, trimmed.to_string())]));
        }
        actions
    }

    /// Opens the boundary editor on turn `t`, its cursor on word `at`'s first character (the
    /// word selected in inspect mode), else on the first word's.
    pub(super) fn start_edit(&mut self, t: usize, at: Option<usize>) {
        let Some(d) = self.turn_data(t) else { return };
        let n = d.seg.text.chars().count();
        let mut starts = vec![false; n];
        for w in &d.seg.words {
            if w.chars.start < n {
                starts[w.chars.start] = true;
            }
        }
        let first = at
            .and_then(|w| d.seg.words.get(w))
            .or(d.seg.words.first())
            .map(|w| w.chars.start)
            .unwrap_or(0);
        self.edit_starts = starts;
        self.mode = Mode::Edit(t, first);
    }

    /// The words the boundary editor currently describes for turn `t`.
    pub fn edited_words(&self, t: usize) -> Vec<String> {
        let Some(d) = self.turn_data(t) else {
            return vec![];
        };
        let mut words: Vec<String> = Vec::new();
        let mut new_word = true;
        for (i, c) in d.seg.text.chars().enumerate() {
            if c.is_whitespace() {
                new_word = true;
                continue;
            }
            if new_word || self.edit_starts.get(i).copied().unwrap_or(false) {
                words.push(String::new());
                new_word = false;
            }
            if let Some(w) = words.last_mut() {
                w.push(c);
            }
        }
        words
    }

    pub(super) fn edit_key(&mut self, k: KeyEvent, t: usize, c: usize) -> Vec<Action> {
        let n = self.edit_starts.len();
        match k.code {
            // Under /review, back to the answer.
            KeyCode::Esc if self.reviewing_turn(t) => self.mode = Mode::Review(self.turns[t].id),
            KeyCode::Esc => self.mode = Mode::Normal,
            KeyCode::Left | KeyCode::Char('h') => self.mode = Mode::Edit(t, c.saturating_sub(1)),
            KeyCode::Right | KeyCode::Char('l') => {
                self.mode = Mode::Edit(t, (c + 1).min(n.saturating_sub(1)))
            }
            KeyCode::Home => self.mode = Mode::Edit(t, 0),
            KeyCode::End => self.mode = Mode::Edit(t, n.saturating_sub(1)),
            KeyCode::Char(' ') if c > 0 && c < n => {
                self.edit_starts[c] = !self.edit_starts[c];
            }
            KeyCode::Enter => {
                self.mode = Mode::Normal;
                let words = self.edited_words(t);
                return self.fix("/edit", t, words);
            }
            _ => {}
        }
        vec![]
    }
}
