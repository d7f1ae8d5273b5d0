//! The worker's long work on texts: `/open` (read the file, take its saved document or segment
//! it) and the re-queue of the open text after a model change. Both segment a batch at a time
//! ([`Background`]) so that the worker answers what the reader types between two batches.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Sender;

use crate::document::{digest, Document, Pending, MAX_TEXT_BYTES};
use crate::explain::Dictionary;
use crate::segment::Segmenter;

use super::super::app::{DocOpened, Event, WorkerMsg};
use super::waiting;

/// What `/open` found before any segmenting.
pub enum Opening {
    /// The text's saved document (the reader continues), or an empty text.
    Ready(DocOpened),
    /// The text to segment.
    Segment(Pending),
}

/// `/open`, up to the segmenting: reads the text at `path` (`~/` expanded) and takes its saved
/// document from data directory `dir` if there is one, else says what to segment with model
/// `model` (`seg` must be loaded).
pub fn start_open(
    path: &Path,
    dir: Option<&Path>,
    seg: Option<&Segmenter>,
    model: &str,
) -> Result<Opening, String> {
    let shown = path.display().to_string();
    let path = crate::fsio::expand_tilde(&shown);
    // Only a regular file (a FIFO or a device could block the worker for good), and one whose
    // document fits in memory.
    let meta = std::fs::metadata(&path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a regular file: give a text file"));
    }
    if meta.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "{shown} is {} MB; /open takes texts up to {} MB — split it (e.g. `split -l 20000 {shown}`)",
            meta.len() >> 20,
            MAX_TEXT_BYTES >> 20
        ));
    }
    let text = crate::fsio::read_text(&path).map_err(|e| e.to_string())?;
    let key = digest(&text);
    if let Some(d) = dir {
        if let Some(mut doc) = Document::load(d, &key).map_err(|e| e.to_string())? {
            doc.source = shown;
            return Ok(Opening::Ready(DocOpened {
                doc,
                resumed: true,
                waiting: waiting(dir),
                warning: None,
            }));
        }
    }
    if seg.is_none() {
        return Err("no model is loaded (/model says why)".into());
    }
    let pending = Pending::build(&shown, &text, doc_model(model));
    if pending.done() {
        let doc = pending.finish(&in_dictionary);
        return Ok(Opening::Ready(finish_open(doc, dir)));
    }
    Ok(Opening::Segment(pending))
}

/// `/open`, once segmented: the document, saved in data directory `dir`, and the corrections
/// waiting for `/train` now.
fn finish_open(doc: Document, dir: Option<&Path>) -> DocOpened {
    let warning = match dir {
        None => Some("no data directory: what you review is not kept (set FENCI_HOME)".into()),
        Some(d) => doc
            .save(d)
            .err()
            .map(|e| format!("could not keep the text for another day: {e}")),
    };
    DocOpened {
        doc,
        resumed: false,
        waiting: waiting(dir),
        warning,
    }
}

/// `/open` in one go: reads the text at `path` (`~/` expanded), takes its saved document from
/// data directory `dir` if there is one (the reader continues), else segments it with `seg`,
/// reporting progress, and saves it. `Err("cancelled")` when cancelled. The worker does the
/// same a batch at a time ([`Background`]); this is for callers without one.
pub fn open_document(
    path: &Path,
    dir: Option<&Path>,
    seg: Option<&Segmenter>,
    model: &str,
    tx: &Sender<Event>,
    cancel: &AtomicBool,
) -> Result<DocOpened, String> {
    let pending = match start_open(path, dir, seg, model)? {
        Opening::Ready(o) => return Ok(o),
        Opening::Segment(pending) => pending,
    };
    let Some(seg) = seg else {
        return Err("no model is loaded (/model says why)".into());
    };
    let source = pending.source().to_string();
    let progress = |done, total| {
        let _ = tx.send(Event::Worker(WorkerMsg::DocProgress { done, total }));
    };
    match pending.run(seg, &in_dictionary, cancel, progress) {
        Ok(Some(doc)) => Ok(finish_open(doc, dir)),
        Ok(None) => Err("cancelled".into()),
        Err(e) => Err(cannot_segment(&source, e)),
    }
}

/// Why text `source` was not opened or re-queued: segmenting it failed with `e`.
fn cannot_segment(source: &str, e: impl std::fmt::Display) -> String {
    format!("cannot segment {source}: {e}")
}

/// The model name a document records: the loaded model's, `default` when it has none.
pub(super) fn doc_model(model: &str) -> &str {
    if model.is_empty() {
        "default"
    } else {
        model
    }
}

/// Whether the dictionary knows `w` (a document's dictionary suggestions are its words).
fn in_dictionary(w: &str) -> bool {
    !Dictionary::embedded().lookup(w).is_empty()
}

/// Re-queues the open document `doc` with the loaded model `seg` (named `model`): its sentences
/// not answered yet are segmented again, reporting [`WorkerMsg::RequeueProgress`] (see
/// [`crate::document::Document::requeue`]). The app saves the result, with the answers given
/// meanwhile. `Err("cancelled")` when cancelled. The worker does the same a batch at a time
/// ([`Background`]); this is for callers without one.
pub fn requeue_document(
    doc: &Document,
    seg: Option<&Segmenter>,
    model: &str,
    tx: &Sender<Event>,
    cancel: &AtomicBool,
) -> Result<Document, String> {
    let Some(seg) = seg else {
        return Err("no model is loaded (/model says why)".into());
    };
    let progress = |done, total| {
        let _ = tx.send(Event::Worker(WorkerMsg::RequeueProgress { done, total }));
    };
    match doc.requeue(doc_model(model), seg, &in_dictionary, cancel, progress) {
        Ok(Some(d)) => Ok(d),
        Ok(None) => Err("cancelled".into()),
        Err(e) => Err(cannot_segment(&doc.source, e)),
    }
}

/// The worker's long work on texts, done a batch at a time between its other jobs: the first
/// text first; each answers as `/open` ([`WorkerMsg::DocProgress`], [`WorkerMsg::DocOpened`])
/// or the re-queue ([`WorkerMsg::RequeueProgress`], [`WorkerMsg::Requeued`]) does.
#[derive(Default)]
pub struct Background {
    tasks: VecDeque<Pending>,
}

impl Background {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Adds a text to open (from [`start_open`]), reporting its size as progress.
    pub fn open(&mut self, pending: Pending, tx: &Sender<Event>) {
        self.add(pending, tx);
    }

    /// Adds the re-queue of `doc` by the loaded model, named `model`, reporting its size as
    /// progress.
    pub fn requeue(&mut self, doc: Document, model: &str, tx: &Sender<Event>) {
        self.add(Pending::requeue(doc, doc_model(model)), tx);
    }

    fn add(&mut self, p: Pending, tx: &Sender<Event>) {
        if !p.done() {
            let _ = tx.send(Event::Worker(progress(&p)));
        }
        self.tasks.push_back(p);
    }

    /// The loaded model (named `model`) or its dictionary changed: every text starts again
    /// with it, so its document is all of one model.
    pub fn restart(&mut self, model: &str, tx: &Sender<Event>) {
        for p in &mut self.tasks {
            p.restart(doc_model(model));
            let _ = tx.send(Event::Worker(progress(p)));
        }
    }

    /// Every text answered "cancelled".
    pub fn cancel(&mut self, dir: Option<&Path>) -> Vec<WorkerMsg> {
        (self.tasks.drain(..))
            .map(|p| answer(p, Err("cancelled".into()), dir))
            .collect()
    }

    /// Segments one batch of the first text with `seg`, reporting progress; returns its answer
    /// once it is done (an opened text is saved in data directory `dir`).
    pub fn step(
        &mut self,
        seg: Option<&Segmenter>,
        dir: Option<&Path>,
        tx: &Sender<Event>,
    ) -> Vec<WorkerMsg> {
        let Some(p) = self.tasks.front_mut() else {
            return vec![];
        };
        if !p.done() {
            let stepped = match seg {
                Some(seg) => p.step(seg).map_err(|e| e.to_string()),
                None => Err("no model is loaded (/model says why)".into()),
            };
            if let Err(e) = stepped {
                let why = cannot_segment(p.source(), e);
                let p = self.tasks.pop_front();
                return p.map(|p| answer(p, Err(why), dir)).into_iter().collect();
            }
            let _ = tx.send(Event::Worker(progress(p)));
            if !p.done() {
                return vec![];
            }
        }
        let p = self.tasks.pop_front();
        p.map(|p| answer(p, Ok(()), dir)).into_iter().collect()
    }
}

/// How far `p` is, as the app hears it.
fn progress(p: &Pending) -> WorkerMsg {
    let (done, total) = p.progress();
    if p.is_requeue() {
        WorkerMsg::RequeueProgress { done, total }
    } else {
        WorkerMsg::DocProgress { done, total }
    }
}

/// Text `p`'s answer: its document (`Ok`, once every sentence is segmented) or why not.
fn answer(p: Pending, r: Result<(), String>, dir: Option<&Path>) -> WorkerMsg {
    match (p.is_requeue(), r) {
        (true, Ok(())) => WorkerMsg::Requeued(Ok(Box::new(p.finish(&in_dictionary)))),
        (true, Err(e)) => WorkerMsg::Requeued(Err(e)),
        (false, Ok(())) => {
            let doc = p.finish(&in_dictionary);
            WorkerMsg::DocOpened(Ok(Box::new(finish_open(doc, dir))))
        }
        (false, Err(e)) => WorkerMsg::DocOpened(Err(e)),
    }
}
