//! A text opened for review (`/open FILE` in the app): its sentences, the model's words for each
//! and the words it is unsure of, the review queue (the order of [`crate::segment::review`],
//! most informative first, only sentences with a word marked unsure) and what the reader did
//! with each sentence. It lives in the data directory as `documents/<digest>.json`, keyed by the
//! text's SHA-256 and written atomically after every change, so opening the same text again,
//! another day, continues where the reader stopped. When another model becomes active, the
//! sentences not answered yet are segmented again and queued anew ([`Document::requeue`]).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::segment::review::{dictionary_candidates, review_order};
use crate::segment::{Segmentation, Segmenter};

mod pending;
pub use pending::Pending;

/// How much a repeat of an already queued doubt (the same words around the weakest boundary)
/// counts, per earlier one.
pub const REPEAT_DISCOUNT: f32 = 0.5;

/// The version of the file format this build writes and reads.
pub const FORMAT: u32 = 1;

/// Sentences segmented per batch while a text is opened (progress and cancel in between).
const BATCH: usize = 64;

/// The largest text `/open` takes (its document is held in memory and rewritten after every
/// answer).
pub const MAX_TEXT_BYTES: u64 = 64 << 20;

/// Sentences a page of [`Document::page`] shows.
pub const PAGE: usize = 10;

/// The sentences of `text`: each line, cut after sentence-final punctuation (and the closing
/// quotes or brackets right after it); with its line number (1-based). Blank pieces are dropped.
pub fn sentences(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut cur = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            cur.push(c);
            if matches!(c, '。' | '！' | '？' | '!' | '?') {
                while let Some(&q) = chars.peek().filter(|q| "”’」』）)".contains(**q)) {
                    cur.push(q);
                    chars.next();
                }
                push_trimmed(&mut out, n + 1, &mut cur);
            }
        }
        push_trimmed(&mut out, n + 1, &mut cur);
    }
    out
}

fn push_trimmed(out: &mut Vec<(usize, String)>, line: usize, cur: &mut String) {
    let t = cur.trim();
    if !t.is_empty() {
        out.push((line, t.to_string()));
    }
    cur.clear();
}

/// What the reader did with a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not reviewed yet.
    #[default]
    Open,
    /// Confirmed right as the model cut it (saved as a correction).
    Accepted,
    /// Corrected (saved as a correction).
    Fixed,
    /// Passed over.
    Skipped,
}

/// One sentence of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocSentence {
    /// Its line in the file (1-based).
    pub line: usize,
    /// The sentence as the file has it (spaces included).
    pub text: String,
    /// The words: the model's (the one of [`Document::model`]), the reader's once accepted or
    /// fixed.
    pub words: Vec<String>,
    /// Indices of the words the model was unsure of (marked `?`).
    pub unsure: Vec<usize>,
    /// The probability that one of its boundaries is wrong ([`crate::segment::review::doubt`]).
    pub doubt: f32,
    /// What the reader did with it.
    #[serde(default)]
    pub status: Status,
}

/// A text opened for review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// [`FORMAT`].
    pub format: u32,
    /// The file as the reader named it.
    pub source: String,
    /// SHA-256 of the text (hex).
    pub digest: String,
    /// The model that segmented the sentences not answered yet (at `/open`, or when it
    /// [re-queued](Document::requeue) them).
    pub model: String,
    /// The sentences, in the text's order.
    pub sentences: Vec<DocSentence>,
    /// The review queue: indices of sentences with a word marked unsure, most informative first.
    pub queue: Vec<usize>,
    /// Dictionary words the model splits at the least sure place of two or more queued
    /// sentences, with how many: worth one `/dict add` each
    /// ([`crate::segment::review::dictionary_candidates`]).
    #[serde(default)]
    pub dict_words: Vec<(String, usize)>,
    /// Fields this version does not know (a newer fenci's), kept when it saves the document.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// How many of a document's queued sentences the reader has done what with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Queued sentences.
    pub queued: usize,
    /// Confirmed right.
    pub accepted: usize,
    /// Corrected.
    pub fixed: usize,
    /// Passed over.
    pub skipped: usize,
}

impl Counts {
    /// Queued sentences the reader has answered (accepted, fixed or skipped).
    pub fn reviewed(&self) -> usize {
        self.accepted + self.fixed + self.skipped
    }

    /// Queued sentences not answered yet.
    pub fn to_review(&self) -> usize {
        self.queued.saturating_sub(self.reviewed())
    }
}

/// Hex SHA-256 of `text`: a document's key.
pub fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Document {
    /// Segments every sentence of `text` with `seg` (in batches, calling `progress(done,
    /// total)` after each) and builds the queue; `known` tells the dictionary's words (for
    /// [`Document::dict_words`]). `None` if `cancel` was set. The app's worker does the same a
    /// batch at a time with [`Pending::build`].
    pub fn build(
        source: &str,
        text: &str,
        model: &str,
        seg: &Segmenter,
        known: &dyn Fn(&str) -> bool,
        cancel: &AtomicBool,
        progress: impl FnMut(usize, usize),
    ) -> crate::segment::Result<Option<Self>> {
        Pending::build(source, text, model).run(seg, known, cancel, progress)
    }

    /// This document as model `model` (`seg`) sees it: the sentences not answered yet are
    /// segmented again (batches, progress and cancel as in [`Document::build`]), with their
    /// unsure words, doubt, queue and dictionary words anew; the answered ones (accepted, fixed,
    /// skipped) keep their words and stay at the head of the queue. `None` if `cancel` was set
    /// (this one is left as it is). The app's worker does the same a batch at a time with
    /// [`Pending::requeue`].
    pub fn requeue(
        &self,
        model: &str,
        seg: &Segmenter,
        known: &dyn Fn(&str) -> bool,
        cancel: &AtomicBool,
        progress: impl FnMut(usize, usize),
    ) -> crate::segment::Result<Option<Self>> {
        Pending::requeue(self.clone(), model).run(seg, known, cancel, progress)
    }

    /// Takes the answers `current` (this text as the reader has it now) holds and this does
    /// not: those given while this was [re-queued](Document::requeue). Nothing if `current` is
    /// another text. Returns how many it took.
    pub fn keep_answers(&mut self, current: &Document) -> usize {
        if current.digest != self.digest || current.sentences.len() != self.sentences.len() {
            return 0;
        }
        let mut taken = 0;
        for (i, c) in current.sentences.iter().enumerate() {
            if c.status != Status::Open && self.sentences[i].status == Status::Open {
                self.sentences[i] = c.clone();
                self.join_queue(i);
                taken += 1;
            }
        }
        taken
    }

    /// Puts answered sentence `i` in the queue if it is not (one under review when the queue
    /// was computed again without it), so the counts include it.
    fn join_queue(&mut self, i: usize) {
        if !self.queue.contains(&i) {
            self.queue.push(i);
        }
    }

    /// Where the document of a text with this digest lives in data directory `dir`.
    pub fn file(dir: &Path, digest: &str) -> PathBuf {
        dir.join("documents")
            .join(format!("{}.json", &digest[..digest.len().min(16)]))
    }

    /// The saved document of a text with this digest, if any. A file that cannot be read as
    /// one is an error that names it (it is left as it is).
    pub fn load(dir: &Path, digest: &str) -> io::Result<Option<Self>> {
        let path = Self::file(dir, digest);
        let bytes = match crate::fsio::read_limited(&path, 1 << 30) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let bad = |why: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: {why}; move it away to open the text afresh",
                    path.display()
                ),
            )
        };
        let doc: Self = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        if doc.format > FORMAT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: written by a newer fenci (document format {}, this one reads {FORMAT}); update fenci to continue this review",
                    path.display(),
                    doc.format
                ),
            ));
        }
        let n = doc.sentences.len();
        if doc.digest != digest || doc.queue.iter().any(|&i| i >= n) {
            return Err(bad("not the document of this text".into()));
        }
        Ok(Some(doc))
    }

    /// Writes the document to data directory `dir`, atomically.
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        let json = serde_json::to_vec(self).map_err(io::Error::other)?;
        crate::fsio::write_file_atomic(&Self::file(dir, &self.digest), &json)
    }

    /// The next sentence to review: the first queued one still open.
    pub fn next(&self) -> Option<usize> {
        self.queue
            .iter()
            .copied()
            .find(|&i| self.sentences[i].status == Status::Open)
    }

    /// Records what the reader did with sentence `i` (and the words, once accepted or fixed).
    /// An answered sentence the queue lost to a [re-queue](Document::requeue) while it was
    /// under review joins it again.
    pub fn set(&mut self, i: usize, status: Status, words: Option<Vec<String>>) {
        if let Some(s) = self.sentences.get_mut(i) {
            s.status = status;
            let bare = |t: &str| t.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            if let Some(w) = words.filter(|w| bare(&w.concat()) == bare(&s.text)) {
                s.words = w;
            }
            if status != Status::Open {
                self.join_queue(i);
            }
        }
    }

    /// How many queued sentences were answered how.
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            queued: self.queue.len(),
            ..Counts::default()
        };
        for &i in &self.queue {
            match self.sentences[i].status {
                Status::Open => {}
                Status::Accepted => c.accepted += 1,
                Status::Fixed => c.fixed += 1,
                Status::Skipped => c.skipped += 1,
            }
        }
        c
    }

    /// Pages of [`PAGE`] sentences.
    pub fn pages(&self) -> usize {
        self.sentences.len().div_ceil(PAGE).max(1)
    }

    /// Page `page` (1-based, clamped) as lines: line number, a mark for what the reader did
    /// (`✓` accepted, `✎` fixed, `·` skipped), the words with `?` after each the model is
    /// unsure of (until the reader answered for the sentence).
    pub fn page(&self, page: usize) -> Vec<String> {
        let page = page.clamp(1, self.pages());
        let mut out = vec![format!("{} — page {page} of {}", self.source, self.pages())];
        for s in self.sentences.iter().skip((page - 1) * PAGE).take(PAGE) {
            let mark = match s.status {
                Status::Open => ' ',
                Status::Accepted => '✓',
                Status::Fixed => '✎',
                Status::Skipped => '·',
            };
            let answered = matches!(s.status, Status::Accepted | Status::Fixed);
            let words: Vec<String> = s
                .words
                .iter()
                .enumerate()
                .map(|(k, w)| {
                    if !answered && s.unsure.contains(&k) {
                        format!("{w}?")
                    } else {
                        w.clone()
                    }
                })
                .collect();
            out.push(format!("{:>5} {mark} {}", s.line, words.join(" ")));
        }
        out
    }
}

/// What the model says of one sentence.
struct Marks {
    words: Vec<String>,
    unsure: Vec<usize>,
    doubt: f32,
}

/// What the model says of a batch of sentences.
struct Assessed {
    /// Each sentence's marks.
    marks: Vec<Marks>,
    /// Indices of those with a word marked unsure, in [`review_order`] with
    /// [`REPEAT_DISCOUNT`].
    queue: Vec<usize>,
    /// [`Document::dict_words`] of them.
    dict_words: Vec<(String, usize)>,
}

/// The marks, queue and dictionary words of `segs`.
fn assess(segs: &[Segmentation], known: &dyn Fn(&str) -> bool) -> Assessed {
    let mut marks: Vec<Marks> = segs
        .iter()
        .map(|s| Marks {
            words: s.word_strs().into_iter().map(str::to_string).collect(),
            unsure: (0..s.words.len())
                .filter(|&i| s.uncertain_word(i))
                .collect(),
            doubt: 0.0,
        })
        .collect();
    // The order scores every sentence: its doubt, before any repeat discount.
    let mut order = review_order(segs, REPEAT_DISCOUNT);
    for d in &order {
        marks[d.index].doubt = d.score;
    }
    order.retain(|d| !marks[d.index].unsure.is_empty());
    Assessed {
        dict_words: dictionary_candidates(segs, &order, known, 2),
        queue: order.into_iter().map(|d| d.index).collect(),
        marks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_into_sentences_with_their_line_numbers() {
        let s = sentences("房间很好。服务差！\n\n  还行吧  \n他说：“不错。”下次再来？");
        let got: Vec<(usize, &str)> = s.iter().map(|(n, t)| (*n, t.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (1, "房间很好。"),
                (1, "服务差！"),
                (3, "还行吧"),
                (4, "他说：“不错。”"),
                (4, "下次再来？"),
            ]
        );
    }

    fn doc() -> Document {
        let sent = |line, words: &[&str], unsure: Vec<usize>, doubt| DocSentence {
            line,
            text: words.concat(),
            words: words.iter().map(|w| w.to_string()).collect(),
            unsure,
            doubt,
            status: Status::Open,
        };
        Document {
            format: FORMAT,
            source: "a.txt".into(),
            digest: digest("x"),
            model: "default".into(),
            sentences: vec![
                sent(1, &["房间", "很", "好", "。"], vec![], 0.01),
                sent(2, &["前台", "不", "送人"], vec![2], 0.6),
                sent(3, &["早餐", "一般", "。"], vec![0], 0.3),
            ],
            queue: vec![1, 2],
            dict_words: vec![],
            other: serde_json::Map::new(),
        }
    }

    #[test]
    fn the_queue_advances_and_counts_what_the_reader_did() {
        let mut d = doc();
        assert_eq!(d.next(), Some(1));
        d.set(
            1,
            Status::Fixed,
            Some(vec!["前台".into(), "不".into(), "送".into(), "人".into()]),
        );
        assert_eq!(d.sentences[1].words, ["前台", "不", "送", "人"]);
        assert_eq!(d.next(), Some(2));
        // Words of another sentence are not taken.
        d.set(2, Status::Skipped, Some(vec!["别的".into()]));
        assert_eq!(d.sentences[2].words, ["早餐", "一般", "。"]);
        assert_eq!(d.next(), None);
        let c = d.counts();
        assert_eq!((c.queued, c.fixed, c.skipped, c.reviewed()), (2, 1, 1, 2));
        let page = d.page(1);
        assert_eq!(page[0], "a.txt — page 1 of 1");
        assert_eq!(page[2], "    2 ✎ 前台 不 送 人");
        assert_eq!(page[3], "    3 · 早餐? 一般 。");
    }

    #[test]
    fn answers_given_while_requeuing_are_kept_and_join_the_queue() {
        let mut fresh = doc();
        // Re-queued: the new model is sure of sentence 3 (index 2), unsure of 1 (index 0).
        fresh.queue = vec![1, 0];
        fresh.sentences[2].unsure.clear();
        let mut current = doc();
        current.set(2, Status::Skipped, None);
        fresh.keep_answers(&current);
        assert_eq!(fresh.sentences[2], current.sentences[2]);
        assert_eq!(fresh.queue, [1, 0, 2]);
        assert_eq!(fresh.counts().skipped, 1);
        // The sentence under review when the queue lost it: answered, it joins again.
        let mut d = doc();
        d.queue = vec![1];
        d.set(2, Status::Accepted, None);
        assert_eq!(d.queue, [1, 2]);
        // Another text's answers are not taken.
        let mut other = doc();
        other.digest = digest("y");
        other.set(1, Status::Fixed, None);
        let mut f = doc();
        f.keep_answers(&other);
        assert_eq!(f, doc());
    }

    #[test]
    fn a_requeue_segments_the_open_sentences_anew_and_keeps_the_answers() {
        let seg = Segmenter::new(&crate::tagger::ModelFiles::embedded().unwrap()).unwrap();
        let text =
            "研究生命起源。他说的确实在理。结婚的和尚未结婚的。\n乒乓球拍卖完了。南京市长江大桥。";
        let none = AtomicBool::new(false);
        let known = |_: &str| false;
        let built = Document::build("t.txt", text, "v1", &seg, &known, &none, |_, _| {})
            .unwrap()
            .unwrap();
        // Stale marks, as another model left them: sentence 0 answered, the rest sure.
        let mut old = built.clone();
        let fixed = ["研究", "生命", "起源", "。"].map(String::from).to_vec();
        old.set(0, Status::Fixed, Some(fixed));
        for s in &mut old.sentences[1..] {
            (s.unsure, s.doubt) = (vec![], 0.0);
        }
        old.queue = vec![0];
        let mut steps = vec![];
        let new = old
            .requeue("v2", &seg, &known, &none, |d, t| steps.push((d, t)))
            .unwrap()
            .unwrap();
        assert_eq!(steps.last(), Some(&(4, 4)), "only the 4 open sentences");
        assert_eq!(new.model, "v2");
        assert_eq!(new.sentences[0], old.sentences[0]);
        // The open ones as a fresh build has them; answered first, then the new order.
        for (n, b) in new.sentences[1..].iter().zip(&built.sentences[1..]) {
            assert_eq!((&n.words, &n.unsure), (&b.words, &b.unsure));
            assert!((n.doubt - b.doubt).abs() < 1e-4, "{} {}", n.doubt, b.doubt);
        }
        assert_eq!(new.queue[0], 0);
        for (i, s) in new.sentences.iter().enumerate().skip(1) {
            assert_eq!(new.queue.contains(&i), !s.unsure.is_empty(), "{i}");
        }
        // Cancelled: nothing.
        let stop = AtomicBool::new(true);
        assert_eq!(
            old.requeue("v2", &seg, &known, &stop, |_, _| {}).unwrap(),
            None
        );
    }

    #[test]
    fn a_document_survives_a_save_and_a_broken_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = doc();
        assert_eq!(Document::load(dir.path(), &d.digest).unwrap(), None);
        d.set(1, Status::Accepted, None);
        // A newer fenci's field is kept through a load and a save.
        d.other.insert("future".into(), serde_json::json!([1, 2]));
        d.save(dir.path()).unwrap();
        assert_eq!(
            Document::load(dir.path(), &d.digest).unwrap(),
            Some(d.clone())
        );
        // A newer format is refused, saying what to do.
        let mut newer = d.clone();
        newer.format = FORMAT + 1;
        newer.save(dir.path()).unwrap();
        let e = Document::load(dir.path(), &d.digest)
            .unwrap_err()
            .to_string();
        assert!(e.contains("update fenci"), "{e}");
        std::fs::write(Document::file(dir.path(), &d.digest), "{\"format\":").unwrap();
        let e = Document::load(dir.path(), &d.digest)
            .unwrap_err()
            .to_string();
        assert!(e.contains("move it away"), "{e}");
        // Left as it was.
        assert_eq!(
            std::fs::read_to_string(Document::file(dir.path(), &d.digest)).unwrap(),
            "{\"format\":"
        );
    }
}
