//! The input line: a small line editor with Emacs keys, history, and a cursor measured in
//! display columns (a Chinese character is two columns wide).

use unicode_width::UnicodeWidthChar;

/// A single-line editor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineEditor {
    chars: Vec<char>,
    /// Cursor position in chars.
    cursor: usize,
    history: Vec<String>,
    /// Position while browsing history (`None`: editing a fresh line).
    browsing: Option<usize>,
    /// The fresh line kept while browsing.
    stash: String,
}

impl LineEditor {
    /// An editor with prior history (oldest first).
    pub fn with_history(history: Vec<String>) -> Self {
        Self {
            history,
            ..Self::default()
        }
    }

    /// The current text.
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// Is the line empty?
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Cursor position in chars.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Display columns before the cursor.
    pub fn cursor_col(&self) -> usize {
        self.chars[..self.cursor]
            .iter()
            .map(|c| c.width().unwrap_or(0))
            .sum()
    }

    /// Replaces the text, cursor at the end.
    pub fn set(&mut self, text: &str) {
        self.chars = text.chars().filter(|c| !c.is_control()).collect();
        self.cursor = self.chars.len();
    }

    /// Inserts text at the cursor (control characters dropped).
    pub fn insert(&mut self, text: &str) {
        for c in text.chars().filter(|c| !c.is_control()) {
            self.chars.insert(self.cursor, c);
            self.cursor += 1;
        }
    }

    /// Deletes the char before the cursor.
    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            self.chars.remove(self.cursor);
        }
    }

    /// Deletes the char under the cursor.
    pub fn delete(&mut self) {
        if self.cursor < self.chars.len() {
            self.chars.remove(self.cursor);
        }
    }

    /// Moves left one char.
    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// Moves right one char.
    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.chars.len());
    }

    /// Moves to the start.
    pub fn home(&mut self) {
        self.cursor = 0;
    }

    /// Moves to the end.
    pub fn end(&mut self) {
        self.cursor = self.chars.len();
    }

    /// Deletes from the cursor to the end (Ctrl-K).
    pub fn kill_to_end(&mut self) {
        self.chars.truncate(self.cursor);
    }

    /// Deletes from the start to the cursor (Ctrl-U).
    pub fn kill_to_start(&mut self) {
        self.chars.drain(..self.cursor);
        self.cursor = 0;
    }

    /// Deletes the word before the cursor (Ctrl-W): trailing spaces, then non-spaces.
    pub fn kill_word_back(&mut self) {
        let mut i = self.cursor;
        while i > 0 && self.chars[i - 1].is_whitespace() {
            i -= 1;
        }
        while i > 0 && !self.chars[i - 1].is_whitespace() {
            i -= 1;
        }
        self.chars.drain(i..self.cursor);
        self.cursor = i;
    }

    /// Clears the line.
    pub fn clear(&mut self) {
        self.chars.clear();
        self.cursor = 0;
        self.browsing = None;
    }

    /// Takes the line for submission and records it in history (no consecutive duplicates).
    pub fn submit(&mut self) -> String {
        let text = self.text();
        if !text.trim().is_empty() && self.history.last() != Some(&text) {
            self.history.push(text.clone());
        }
        self.clear();
        text
    }

    /// Steps back in history (↑).
    pub fn history_prev(&mut self) {
        if self.history.is_empty() {
            return;
        }
        let idx = match self.browsing {
            None => {
                self.stash = self.text();
                self.history.len() - 1
            }
            Some(0) => 0,
            Some(i) => i - 1,
        };
        self.browsing = Some(idx);
        let t = self.history[idx].clone();
        self.set(&t);
    }

    /// Steps forward in history (↓); past the newest entry returns to the fresh line.
    pub fn history_next(&mut self) {
        match self.browsing {
            None => {}
            Some(i) if i + 1 < self.history.len() => {
                self.browsing = Some(i + 1);
                let t = self.history[i + 1].clone();
                self.set(&t);
            }
            Some(_) => {
                self.browsing = None;
                let t = std::mem::take(&mut self.stash);
                self.set(&t);
            }
        }
    }

    /// The history, oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_and_measures_wide_characters() {
        let mut e = LineEditor::default();
        e.insert("我爱ab");
        assert_eq!(e.cursor_col(), 6);
        e.left();
        e.left();
        assert_eq!(e.cursor_col(), 4);
        e.insert("北京");
        assert_eq!(e.text(), "我爱北京ab");
        e.kill_to_end();
        assert_eq!(e.text(), "我爱北京");
        e.home();
        e.delete();
        assert_eq!(e.text(), "爱北京");
        e.end();
        e.insert(" 天安门");
        e.kill_word_back();
        assert_eq!(e.text(), "爱北京 ");
        e.kill_to_start();
        assert!(e.is_empty());
    }

    #[test]
    fn history_browses_and_restores_the_fresh_line() {
        let mut e = LineEditor::with_history(vec!["一".into(), "二".into()]);
        e.insert("三");
        e.history_prev();
        assert_eq!(e.text(), "二");
        e.history_prev();
        e.history_prev();
        assert_eq!(e.text(), "一");
        e.history_next();
        assert_eq!(e.text(), "二");
        e.history_next();
        assert_eq!(e.text(), "三");
        assert_eq!(e.submit(), "三");
        assert_eq!(e.history(), ["一", "二", "三"]);
        e.insert("三");
        e.submit();
        assert_eq!(e.history().len(), 3, "no consecutive duplicates");
    }
}
