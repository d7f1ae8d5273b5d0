//! Reading a text with fenci (`/open`, `/review`, `/doc`): the open document, the review queue
//! one sentence at a time (right as it is / fix / skip), and what the reader did, saved after
//! every answer so nothing is lost between sessions. When the active model is not the one that
//! queued the text (after `/train`, `/undo`, `/model`, or at `/open`), the worker re-queues its
//! sentences not answered yet; the sentence under review stays, and answers given meanwhile are
//! kept.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::*;
use crate::document::{Document, Status};

impl App {
    /// `/open FILE`: the worker reads and segments it (or finds it saved).
    pub(super) fn open(&mut self, line: &str, path: &str) -> Vec<Action> {
        if self.opening.is_some() {
            self.error(
                line,
                "a text is being opened already — Esc cancels it".into(),
            );
            return vec![];
        }
        self.opening = Some((0, 0));
        self.command_turn(line, vec![]);
        vec![Action::OpenDocument(PathBuf::from(path))]
    }

    /// The worker's answer to `/open`.
    pub(super) fn doc_opened(&mut self, r: Result<Box<DocOpened>, String>) -> Vec<Action> {
        self.opening = None;
        if matches!(self.mode, Mode::Review(_)) {
            self.mode = Mode::Normal;
        }
        let o = match r {
            Ok(o) => o,
            Err(e) if e == "cancelled" => {
                self.reply(vec!["cancelled; no text was opened".into()], false);
                // The text still open may have been queued by a model loaded meanwhile.
                return self.requeue_if_stale();
            }
            Err(e) => {
                self.reply(vec![e], true);
                return self.requeue_if_stale();
            }
        };
        let DocOpened {
            mut doc,
            resumed,
            waiting,
            warning,
        } = *o;
        // The same text open already: answers given while it was read again (saved after the
        // copy the worker read) are kept, and saved with it.
        let kept = self
            .doc
            .as_deref()
            .map_or(0, |current| doc.keep_answers(current));
        let c = doc.counts();
        let mut lines = vec![format!(
            "{}: {}, {} with a word fenci is unsure of (marked ?)",
            doc.source,
            n_sentences(doc.sentences.len()),
            c.queued
        )];
        if resumed {
            lines.push(format!(
                "continuing: {} of {} reviewed ({} right as they were, {} fixed, {} skipped)",
                c.reviewed(),
                c.queued,
                c.accepted,
                c.fixed,
                c.skipped
            ));
        }
        lines.push(if doc.sentences.is_empty() {
            "the file has no text to review".into()
        } else if c.queued == 0 {
            "nothing to review: fenci is sure of every sentence — /doc shows the text".into()
        } else {
            "/review walks through them, least sure first; /doc shows the text a page at a time"
                .into()
        });
        if let Some((first, _)) = doc.dict_words.first() {
            let list: Vec<String> = doc
                .dict_words
                .iter()
                .take(5)
                .map(|(w, n)| format!("{w} ({})", n_sentences(*n)))
                .collect();
            lines.push(format!(
                "dictionary words fenci splits where it doubts: {} — if they are words in your text, /dict add {first} keeps one whole",
                list.join(", ")
            ));
        }
        lines.extend(warning);
        self.reply(lines, false);
        let doc = Box::new(doc);
        let mut actions = Vec::new();
        if kept > 0 {
            actions.push(Action::SaveDocument(doc.clone()));
        }
        self.doc = Some(doc);
        self.waiting = waiting;
        self.reviewing = None;
        self.doc_page = 0;
        actions.extend(self.requeue_if_stale());
        actions
    }

    /// Asks the worker to re-queue the open text when the loaded model is not the one that
    /// queued it. One re-queue at a time: the answer of the running one checks again.
    pub(super) fn requeue_if_stale(&mut self) -> Vec<Action> {
        if self.requeuing.is_some() || self.opening.is_some() {
            return vec![];
        }
        let (Some(doc), Some(m)) = (&self.doc, &self.model) else {
            return vec![];
        };
        if doc.model == m.name {
            return vec![];
        }
        self.requeuing = Some((0, 0));
        vec![Action::Requeue(doc.clone())]
    }

    /// The dictionary changed: the open text is queued again (its model is the same, so
    /// [`Self::requeue_if_stale`] would not). A text being opened or re-queued already starts
    /// again with the new dictionary in the worker.
    pub(super) fn requeue_for_dict(&mut self) -> Vec<Action> {
        if self.requeuing.is_some() || self.opening.is_some() {
            return vec![];
        }
        let Some(doc) = &self.doc else {
            return vec![];
        };
        self.requeuing = Some((0, 0));
        vec![Action::Requeue(doc.clone())]
    }

    /// The worker's answer to [`Action::Requeue`]: the open text takes the new queue (with the
    /// answers given meanwhile) and is saved; cancelled or failed, it stays as it was.
    pub(super) fn requeued(&mut self, r: Result<Box<Document>, String>) -> Vec<Action> {
        self.requeuing = None;
        let Some(doc) = self.doc.as_deref() else {
            return vec![];
        };
        let mut fresh = match r {
            Ok(d) if d.digest == doc.digest => d,
            // Another text was opened meanwhile.
            Ok(_) => return self.requeue_if_stale(),
            Err(e) => {
                let same_model = self.model.as_ref().is_some_and(|m| m.name == doc.model);
                let why = if e == "cancelled" && same_model {
                    // A re-queue for the dictionary: /open would find the model unchanged.
                    format!(
                        "re-queue cancelled: {} keeps the queue it had before your dictionary changed",
                        doc.source
                    )
                } else if e == "cancelled" {
                    format!(
                        "re-queue cancelled: {} keeps the queue of {} (/open it again to re-queue)",
                        doc.source, doc.model
                    )
                } else {
                    format!(
                        "could not re-queue {} ({e}); it keeps the queue of {}",
                        doc.source, doc.model
                    )
                };
                self.push_turn(String::new(), TurnBody::Info(vec![why]));
                return vec![];
            }
        };
        let before = doc.counts().to_review();
        fresh.keep_answers(doc);
        let line = if fresh.model == doc.model {
            format!(
                "re-queued with your dictionary: {before} → {} to review",
                n_sentences(fresh.counts().to_review())
            )
        } else {
            format!(
                "re-queued with the new model ({}): {before} → {} to review",
                fresh.model,
                n_sentences(fresh.counts().to_review())
            )
        };
        self.push_turn(String::new(), TurnBody::Info(vec![line]));
        let mut actions = vec![Action::SaveDocument(fresh.clone())];
        self.doc = Some(fresh);
        // The model may have changed again while this one ran.
        actions.extend(self.requeue_if_stale());
        actions
    }

    /// `/review`: the next queued sentence, or why there is none.
    pub(super) fn review(&mut self, line: &str) -> Vec<Action> {
        // The text being opened replaces the open one when it is read: a sentence reviewed
        // meanwhile would lose its answer.
        if self.opening.is_some() {
            self.error(
                line,
                "a text is being opened — /review once it is open, or Esc cancels the opening"
                    .into(),
            );
            return vec![];
        }
        let Some(doc) = &self.doc else {
            self.error(line, "no text is open — /open FILE first".into());
            return vec![];
        };
        match doc.next() {
            Some(i) => self.review_sentence(i),
            None => {
                let c = doc.counts();
                self.info(line, vec![Self::all_reviewed(&c)]);
                vec![]
            }
        }
    }

    fn all_reviewed(c: &crate::document::Counts) -> String {
        format!(
            "all {} sentences of the queue are reviewed ({} right as they were, {} fixed, {} skipped) — /train teaches the corrections",
            c.queued, c.accepted, c.fixed, c.skipped
        )
    }

    /// Shows sentence `i` of the document as a turn and waits for the reader's answer.
    fn review_sentence(&mut self, i: usize) -> Vec<Action> {
        let Some(doc) = &self.doc else { return vec![] };
        let Some(s) = doc.sentences.get(i) else {
            return vec![];
        };
        let text = s.text.clone();
        let id = self.push_turn(text.clone(), TurnBody::Pending);
        self.reviewing = Some((id, i));
        self.mode = Mode::Review(id);
        vec![Action::Segment(vec![(id, text)])]
    }

    /// `/doc [PAGE]`: a page of the open text.
    pub(super) fn doc_page(&mut self, line: &str, arg: Option<&str>) -> Vec<Action> {
        let Some(doc) = &self.doc else {
            self.error(line, "no text is open — /open FILE first".into());
            return vec![];
        };
        let page = match arg.map(str::parse::<usize>) {
            None => self.doc_page % doc.pages() + 1,
            Some(Ok(n)) if (1..=doc.pages()).contains(&n) => n,
            Some(_) => {
                let n = doc.pages();
                self.error(line, format!("usage: /doc [PAGE] — a page from 1 to {n}"));
                return vec![];
            }
        };
        let lines = doc.page(page);
        self.doc_page = page;
        self.info(line, lines);
        vec![]
    }

    /// A key while the `/review` sentence of turn `id` waits for an answer.
    pub(super) fn review_key(&mut self, k: KeyEvent, id: u64) -> Vec<Action> {
        let Some(t) = self.turns.iter().position(|x| x.id == id) else {
            // Its turn is gone (/clear): the sentence stays open for the next /review.
            self.mode = Mode::Normal;
            self.reviewing = None;
            return vec![];
        };
        let done = self.turn_data(t).is_some();
        let failed = matches!(self.turns[t].body, TurnBody::Error(_) | TurnBody::Cancelled);
        self.notice = None;
        match k.code {
            KeyCode::Esc | KeyCode::Char('q') => {
                self.mode = Mode::Normal;
                self.notice = Some("review paused — /review continues".into());
                vec![]
            }
            KeyCode::Char('a') | KeyCode::Enter if done => {
                self.mode = Mode::Normal;
                let words = self.model_words(t);
                self.fix("✓ right as it is", t, words)
            }
            KeyCode::Char('e') if done => {
                let first_unsure = self
                    .turn_data(t)
                    .and_then(|d| (0..d.seg.words.len()).find(|&w| d.seg.uncertain_word(w)));
                self.start_edit(t, first_unsure);
                vec![]
            }
            KeyCode::Char('s') => self.review_skip(),
            KeyCode::Char('a' | 'e') | KeyCode::Enter if failed => {
                self.notice =
                    Some("this sentence was not segmented — s skips it, Esc stops".into());
                vec![]
            }
            KeyCode::Char('a' | 'e') | KeyCode::Enter => {
                self.notice = Some("still segmenting the sentence…".into());
                vec![]
            }
            _ => vec![],
        }
    }

    /// The words the model gave turn `t`.
    fn model_words(&self, t: usize) -> Vec<String> {
        self.turn_data(t)
            .map(|d| d.seg.word_strs().into_iter().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Whether the boundary editor left turn `t` for `/review` (Esc goes back to the answer).
    pub(super) fn reviewing_turn(&self, t: usize) -> bool {
        let id = self.turns.get(t).map(|x| x.id);
        self.reviewing.is_some_and(|(r, _)| Some(r) == id)
    }

    /// `s`: the sentence is passed over; on to the next.
    fn review_skip(&mut self) -> Vec<Action> {
        let Some((_, i)) = self.reviewing.take() else {
            self.mode = Mode::Normal;
            return vec![];
        };
        self.answered(i, Status::Skipped, None)
    }

    /// A correction of turn `id` was saved: if it is the sentence under review, it answers for
    /// it (right as it was, or fixed) and the next one follows.
    pub(super) fn review_answer(&mut self, id: u64, words: &[String]) -> Vec<Action> {
        let Some((rid, i)) = self.reviewing else {
            return vec![];
        };
        if rid != id {
            return vec![];
        }
        let model: Option<Vec<String>> =
            self.turns
                .iter()
                .find(|t| t.id == id)
                .and_then(|t| match &t.body {
                    TurnBody::Done(d) => {
                        Some(d.seg.word_strs().into_iter().map(str::to_string).collect())
                    }
                    _ => None,
                });
        let status = if model.as_deref() == Some(words) {
            Status::Accepted
        } else {
            Status::Fixed
        };
        self.reviewing = None;
        self.answered(i, status, Some(words.to_vec()))
    }

    /// Records the answer for sentence `i`, saves the document and shows the next sentence.
    fn answered(&mut self, i: usize, status: Status, words: Option<Vec<String>>) -> Vec<Action> {
        let Some(doc) = &mut self.doc else {
            self.mode = Mode::Normal;
            return vec![];
        };
        doc.set(i, status, words);
        let mut actions = vec![Action::SaveDocument(doc.clone())];
        match doc.next() {
            Some(n) => actions.extend(self.review_sentence(n)),
            None => {
                let c = doc.counts();
                self.mode = Mode::Normal;
                self.info("", vec![Self::all_reviewed(&c)]);
            }
        }
        actions
    }

    /// The status bar's part for the open text: reviewed of queued, corrections waiting (a
    /// re-queue's progress is one of the jobs the view shows first).
    pub fn review_status(&self) -> Option<String> {
        if let Some((done, total)) = self.opening {
            return Some(format!("opening: {done}/{total} sentences · Esc cancels"));
        }
        let doc: &Document = self.doc.as_deref()?;
        let c = doc.counts();
        let mut s = format!("reviewed {}/{}", c.reviewed(), c.queued);
        if let Some(n) = self.waiting {
            s.push_str(&format!(" · {n} to /train"));
        }
        Some(s)
    }
}

/// "1 sentence", "2 sentences".
fn n_sentences(n: usize) -> String {
    if n == 1 {
        "1 sentence".into()
    } else {
        format!("{n} sentences")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_sentence_is_not_sentences() {
        assert_eq!(super::n_sentences(1), "1 sentence");
        assert_eq!(super::n_sentences(0), "0 sentences");
        assert_eq!(super::n_sentences(12), "12 sentences");
    }
}
