//! A document being built or re-queued a batch at a time ([`Pending`]): the app's worker
//! segments one batch of a long text, answers what the reader typed meanwhile, then goes on,
//! so a sentence typed during `/open` or a re-queue does not wait for the whole text.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{assess, digest, sentences, Assessed, DocSentence, Document, Status, BATCH, FORMAT};
use crate::segment::{Segmentation, Segmenter};

/// What a finished pass makes.
#[derive(Debug, Clone)]
enum Goal {
    /// A new document of a text (its [`digest`]), whose sentences are `sents` (see
    /// [`Document::build`]).
    Build {
        source: String,
        digest: String,
        sents: Vec<(usize, String)>,
    },
    /// `doc` re-queued (see [`Document::requeue`]); `open` are its sentences not answered yet.
    Requeue { doc: Document, open: Vec<usize> },
}

/// A document being built ([`Pending::build`]) or re-queued ([`Pending::requeue`]): each
/// [`Pending::step`] segments the next batch of its sentences; [`Pending::finish`] makes the
/// document once they are all done.
#[derive(Debug, Clone)]
pub struct Pending {
    goal: Goal,
    model: String,
    segs: Vec<Segmentation>,
}

impl Pending {
    /// The document of `text` (read from `source`), segmented by model `model`.
    pub fn build(source: &str, text: &str, model: &str) -> Self {
        Self {
            goal: Goal::Build {
                source: source.to_string(),
                digest: digest(text),
                sents: sentences(text),
            },
            model: model.to_string(),
            segs: Vec::new(),
        }
    }

    /// `doc` re-queued by model `model`: its sentences not answered yet.
    pub fn requeue(doc: Document, model: &str) -> Self {
        let open = (0..doc.sentences.len())
            .filter(|&i| doc.sentences[i].status == Status::Open)
            .collect();
        Self {
            goal: Goal::Requeue { doc, open },
            model: model.to_string(),
            segs: Vec::new(),
        }
    }

    /// The file as the reader named it.
    pub fn source(&self) -> &str {
        match &self.goal {
            Goal::Build { source, .. } => source,
            Goal::Requeue { doc, .. } => &doc.source,
        }
    }

    /// Whether this re-queues a document (else it builds one).
    pub fn is_requeue(&self) -> bool {
        matches!(self.goal, Goal::Requeue { .. })
    }

    /// Sentences segmented, of all it segments.
    pub fn progress(&self) -> (usize, usize) {
        (self.segs.len(), self.total())
    }

    /// Whether every sentence is segmented.
    pub fn done(&self) -> bool {
        self.segs.len() == self.total()
    }

    fn total(&self) -> usize {
        match &self.goal {
            Goal::Build { sents, .. } => sents.len(),
            Goal::Requeue { open, .. } => open.len(),
        }
    }

    fn line(&self, k: usize) -> &str {
        match &self.goal {
            Goal::Build { sents, .. } => &sents[k].1,
            Goal::Requeue { doc, open } => &doc.sentences[open[k]].text,
        }
    }

    /// Starts again for model `model` (the loaded model or its dictionary changed midway):
    /// what was segmented is dropped.
    pub fn restart(&mut self, model: &str) {
        self.model = model.to_string();
        self.segs.clear();
    }

    /// Segments the next batch ([`BATCH`] sentences) with `seg`; nothing once [`done`].
    ///
    /// [`done`]: Pending::done
    pub fn step(&mut self, seg: &Segmenter) -> crate::segment::Result<()> {
        let from = self.segs.len();
        let to = (from + BATCH).min(self.total());
        let lines: Vec<&str> = (from..to).map(|k| self.line(k)).collect();
        if lines.is_empty() {
            return Ok(());
        }
        let batch = seg.segment_batch(&lines)?;
        // One answer a line, or the pass would never end.
        if batch.len() != lines.len() {
            let why = format!("{} answers for {} lines", batch.len(), lines.len());
            return Err(candle_core::Error::Msg(why).into());
        }
        for mut s in batch {
            // Only the words, boundaries and word confidences are read from here on.
            s.log_probs = Vec::new();
            self.segs.push(s);
        }
        Ok(())
    }

    /// Every batch in turn, calling `progress(done, total)` after each; `None` if `cancel` was
    /// set before one.
    pub fn run(
        mut self,
        seg: &Segmenter,
        known: &dyn Fn(&str) -> bool,
        cancel: &AtomicBool,
        mut progress: impl FnMut(usize, usize),
    ) -> crate::segment::Result<Option<Document>> {
        while !self.done() {
            if cancel.load(Ordering::Relaxed) {
                return Ok(None);
            }
            self.step(seg)?;
            let (done, total) = self.progress();
            progress(done, total);
        }
        Ok(Some(self.finish(known)))
    }

    /// The document, once [`Pending::done`]: marks, queue and dictionary words (`known` tells
    /// the dictionary's words) from what was segmented.
    pub fn finish(self, known: &dyn Fn(&str) -> bool) -> Document {
        debug_assert!(self.done());
        let Assessed {
            marks,
            queue,
            dict_words,
        } = assess(&self.segs, known);
        match self.goal {
            Goal::Build {
                source,
                digest,
                sents,
            } => {
                let sentences = marks
                    .into_iter()
                    .zip(sents)
                    .map(|(m, (line, text))| DocSentence {
                        line,
                        text,
                        words: m.words,
                        unsure: m.unsure,
                        doubt: m.doubt,
                        status: Status::Open,
                    })
                    .collect();
                Document {
                    format: FORMAT,
                    source,
                    digest,
                    model: self.model,
                    sentences,
                    queue,
                    dict_words,
                    other: serde_json::Map::new(),
                }
            }
            Goal::Requeue { mut doc, open } => {
                let answered: Vec<usize> = (doc.queue.iter().copied())
                    .filter(|&i| doc.sentences[i].status != Status::Open)
                    .collect();
                for (m, &i) in marks.into_iter().zip(&open) {
                    let s = &mut doc.sentences[i];
                    (s.words, s.unsure, s.doubt) = (m.words, m.unsure, m.doubt);
                }
                doc.queue = answered
                    .into_iter()
                    .chain(queue.into_iter().map(|k| open[k]))
                    .collect();
                doc.dict_words = dict_words;
                doc.model = self.model;
                doc
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_a_batch_at_a_time_makes_the_document_a_build_makes() {
        let seg = Segmenter::new(&crate::tagger::ModelFiles::embedded().unwrap()).unwrap();
        // 150 sentences: three batches (64, 64, 22).
        let text: String = (0..150)
            .map(|i| format!("第{i}个学生在图书馆看书。\n"))
            .collect();
        let known = |_: &str| false;
        let none = AtomicBool::new(false);
        let whole = Document::build("t.txt", &text, "v1", &seg, &known, &none, |_, _| {})
            .unwrap()
            .unwrap();

        let mut p = Pending::build("t.txt", &text, "v0");
        assert_eq!(
            (p.progress(), p.done(), p.is_requeue()),
            ((0, 150), false, false)
        );
        p.step(&seg).unwrap();
        assert_eq!(p.progress(), (64, 150));
        // The model changed midway: it starts again, for the new one.
        p.restart("v1");
        assert_eq!(p.progress(), (0, 150));
        let mut seen = vec![];
        while !p.done() {
            p.step(&seg).unwrap();
            seen.push(p.progress().0);
        }
        assert_eq!(seen, [64, 128, 150]);
        p.step(&seg).unwrap();
        assert_eq!(p.progress(), (150, 150), "nothing more once done");
        assert_eq!(p.finish(&known), whole);

        // Re-queued a batch at a time: only the open sentences, as Document::requeue does.
        let mut old = whole.clone();
        old.set(
            whole.queue.first().copied().unwrap_or(0),
            Status::Skipped,
            None,
        );
        let mut p = Pending::requeue(old.clone(), "v2");
        assert!(p.is_requeue());
        assert_eq!(p.source(), "t.txt");
        assert_eq!(p.progress(), (0, 149));
        while !p.done() {
            p.step(&seg).unwrap();
        }
        let at_once = old
            .requeue("v2", &seg, &known, &none, |_, _| {})
            .unwrap()
            .unwrap();
        assert_eq!(p.finish(&known), at_once);
    }
}
