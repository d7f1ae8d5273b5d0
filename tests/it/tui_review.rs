//! Reading a text in the app (`/open`, `/review`, `/doc`): each queued sentence is answered
//! right as it is, fixed or skipped; every answer saves the document; a save that fails leaves
//! the sentence open; and a text opened again (by the worker, with the built-in model)
//! continues where the reader stopped.

use std::sync::atomic::AtomicBool;
use std::sync::mpsc;

use fenci::document::{digest, DocSentence, Document, Status, FORMAT};
use fenci::tui::app::{Action, App, DataAction, DocOpened, Event, Mode, TurnBody, WorkerMsg};
use ratatui::crossterm::event::KeyCode;

use super::tui::{enter, key, ready_app, screen, turn};
use crate::util::tempdir;

/// Four sentences; three have a word the model was unsure of, queued 2, 0, 3.
fn lesson() -> Document {
    let s = |line, words: &[&str], unsure: Vec<usize>, doubt| DocSentence {
        line,
        text: words.concat(),
        words: words.iter().map(|w| w.to_string()).collect(),
        unsure,
        doubt,
        status: Status::Open,
    };
    Document {
        format: FORMAT,
        source: "lesson.txt".into(),
        digest: digest("lesson"),
        model: "default".into(),
        sentences: vec![
            s(1, &["我", "爱", "北京", "天安门"], vec![2], 0.5),
            s(2, &["这", "本", "书"], vec![], 0.01),
            s(3, &["我", "学习", "中文"], vec![1], 0.7),
            s(4, &["你", "还", "没", "看完"], vec![3], 0.4),
        ],
        queue: vec![2, 0, 3],
        dict_words: vec![],
        other: Default::default(),
    }
}

/// The app with `lesson()` open and one correction waiting for /train.
fn opened() -> App {
    let mut app = ready_app();
    let acts = enter(&mut app, "/open lesson.txt");
    assert_eq!(
        acts.last(),
        Some(&Action::OpenDocument("lesson.txt".into()))
    );
    app.update(Event::Worker(WorkerMsg::DocProgress { done: 2, total: 4 }));
    assert!(screen(&app, 120, 10).contains("opening: 2/4 sentences"));
    app.update(Event::Worker(WorkerMsg::DocOpened(Ok(Box::new(
        DocOpened {
            doc: lesson(),
            resumed: false,
            waiting: Some(1),
            warning: None,
        },
    )))));
    app
}

/// The sentence the actions ask to segment (its turn id and text).
fn segment_of(acts: &[Action]) -> Option<(u64, String)> {
    acts.iter().find_map(|a| match a {
        Action::Segment(v) => v.first().cloned(),
        _ => None,
    })
}

fn saved_doc(acts: &[Action]) -> Option<&Document> {
    acts.iter().find_map(|a| match a {
        Action::SaveDocument(d) => Some(&**d),
        _ => None,
    })
}

/// Answers the review turn `id` as the worker would.
fn segmented(app: &mut App, id: u64, words: &[&str], doubt: &[usize]) {
    app.update(Event::Worker(WorkerMsg::Turn {
        id,
        result: Ok(Box::new(turn(words, doubt))),
    }));
}

/// Answers the save that `acts` ask for, as the worker does once the correction is on disk.
fn saved(app: &mut App, acts: &[Action]) -> Vec<Action> {
    let (turn, words) = acts
        .iter()
        .find_map(|a| match a {
            Action::Data(DataAction::SaveCorrection { turn, words, .. }) => {
                Some((*turn, words.clone()))
            }
            _ => None,
        })
        .expect("a correction to save");
    app.update(Event::Worker(WorkerMsg::CorrectionSaved {
        turn,
        words,
        lines: vec!["correction #2 saved — /train teaches it to the model".into()],
    }))
}

#[test]
fn review_walks_the_queue_right_fix_skip() {
    let mut app = opened();
    let Some(TurnBody::Info(lines)) = app.turns.last().map(|t| &t.body) else {
        panic!("no report of the opened text")
    };
    assert!(
        lines[0].contains("4 sentences, 3 with a word fenci is unsure of"),
        "{lines:?}"
    );

    // The least sure first: 我学习中文.
    let acts = enter(&mut app, "/review");
    let (id, text) = segment_of(&acts).expect("the first queued sentence");
    assert_eq!(text, "我学习中文");
    assert_eq!(app.mode, Mode::Review(id));
    // Nothing to confirm before the words are there.
    assert!(app.update(key(KeyCode::Char('a'))).is_empty());
    segmented(&mut app, id, &["我", "学习", "中文"], &[1]);
    insta::assert_snapshot!("review_80x24", screen(&app, 80, 24));

    // a: right as it is — saved as a correction with the model's own words.
    let acts = app.update(key(KeyCode::Char('a')));
    assert!(
        matches!(&acts[..], [Action::Data(DataAction::SaveCorrection { words, model_output, .. })]
            if words == &["我", "学习", "中文"] && model_output == words),
        "{acts:?}"
    );
    assert_eq!(app.mode, Mode::Normal);
    // A report of something else (a licence note) is no answer.
    let other = app.update(Event::Worker(WorkerMsg::Report {
        lines: vec!["a licence note".into()],
        error: false,
    }));
    assert_eq!(saved_doc(&other), None);
    // Once saved: the document is saved with the answer, and the next sentence follows.
    let acts = saved(&mut app, &acts);
    let doc = saved_doc(&acts).expect("the document saved");
    assert_eq!(doc.sentences[2].status, Status::Accepted);
    let (id, text) = segment_of(&acts).expect("the next sentence");
    assert_eq!(text, "我爱北京天安门");
    assert_eq!(app.waiting, Some(2));

    // e: the boundary editor at the first unsure word; Esc goes back to the answer.
    segmented(&mut app, id, &["我", "爱", "北京", "天安门"], &[2]);
    let t = app.turns.len() - 1;
    let at = match &app.turns[t].body {
        TurnBody::Done(d) => (0..d.seg.words.len())
            .find(|&w| d.seg.uncertain_word(w))
            .map(|w| d.seg.words[w].chars.start)
            .expect("a word marked unsure"),
        b => panic!("{b:?}"),
    };
    app.update(key(KeyCode::Char('e')));
    assert!(
        matches!(app.mode, Mode::Edit(x, c) if x == t && c == at),
        "{:?}",
        app.mode
    );
    app.update(key(KeyCode::Esc));
    assert_eq!(app.mode, Mode::Review(id));
    app.update(key(KeyCode::Char('e')));
    // Split 北|京.
    app.update(key(KeyCode::Home));
    for _ in 0..3 {
        app.update(key(KeyCode::Right));
    }
    app.update(key(KeyCode::Char(' ')));
    let acts = app.update(key(KeyCode::Enter));
    assert!(
        matches!(&acts[..], [Action::Data(DataAction::SaveCorrection { words, .. })]
            if words == &["我", "爱", "北", "京", "天安门"]),
        "{acts:?}"
    );
    let acts = saved(&mut app, &acts);
    let doc = saved_doc(&acts).expect("the document saved");
    assert_eq!(doc.sentences[0].status, Status::Fixed);
    assert_eq!(doc.sentences[0].words, ["我", "爱", "北", "京", "天安门"]);
    let (id, text) = segment_of(&acts).expect("the last sentence");
    assert_eq!(text, "你还没看完");

    // s: skipped; the queue is done.
    segmented(&mut app, id, &["你", "还", "没", "看完"], &[3]);
    let acts = app.update(key(KeyCode::Char('s')));
    let doc = saved_doc(&acts).expect("the document saved");
    assert_eq!(doc.sentences[3].status, Status::Skipped);
    assert_eq!(segment_of(&acts), None);
    assert_eq!(app.mode, Mode::Normal);
    let Some(TurnBody::Info(lines)) = app.turns.last().map(|t| &t.body) else {
        panic!()
    };
    assert!(
        lines[0].starts_with(
            "all 3 sentences of the queue are reviewed (1 right as they were, 1 fixed, 1 skipped)"
        ),
        "{lines:?}"
    );
    assert_eq!(
        app.review_status().as_deref(),
        Some("reviewed 3/3 · 3 to /train")
    );
    insta::assert_snapshot!("review_done_80x24", screen(&app, 80, 24));

    // /doc: the text with what the reader did.
    enter(&mut app, "/doc");
    let Some(TurnBody::Info(page)) = app.turns.last().map(|t| &t.body) else {
        panic!()
    };
    assert_eq!(
        page,
        &[
            "lesson.txt — page 1 of 1",
            "    1 ✎ 我 爱 北 京 天安门",
            "    2   这 本 书",
            "    3 ✓ 我 学习 中文",
            "    4 · 你 还 没 看完?",
        ]
    );
    // /review again: nothing left, said so.
    enter(&mut app, "/review");
    assert!(
        matches!(app.turns.last().map(|t| &t.body), Some(TurnBody::Info(l)) if l[0].starts_with("all 3 sentences"))
    );
    // Training takes the corrections: the worker counts them again once the new version is
    // loaded.
    app.update(Event::Worker(WorkerMsg::TrainDone(Ok(vec![
        "trained".into()
    ]))));
    app.update(Event::Worker(WorkerMsg::Waiting(0)));
    assert_eq!(
        app.review_status().as_deref(),
        Some("reviewed 3/3 · 0 to /train")
    );
}

#[test]
fn a_failed_save_leaves_the_sentence_open_and_esc_pauses() {
    let mut app = opened();
    let acts = enter(&mut app, "/review");
    let (id, _) = segment_of(&acts).unwrap();
    segmented(&mut app, id, &["我", "学习", "中文"], &[1]);
    app.update(key(KeyCode::Enter));
    let acts = app.update(Event::Worker(WorkerMsg::Report {
        lines: vec!["could not save the correction: disk full".into()],
        error: true,
    }));
    assert_eq!(saved_doc(&acts), None);
    assert_eq!(app.doc.as_ref().unwrap().sentences[2].status, Status::Open);
    assert_eq!(app.waiting, Some(1));
    // /review shows the same sentence again; Esc pauses without an answer.
    let acts = enter(&mut app, "/review");
    assert_eq!(segment_of(&acts).unwrap().1, "我学习中文");
    assert!(app.update(key(KeyCode::Esc)).is_empty());
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(
        app.notice.as_deref(),
        Some("review paused — /review continues")
    );
    // Without a text: says what to do.
    let mut fresh = ready_app();
    enter(&mut fresh, "/review");
    assert!(
        matches!(fresh.turns.last().map(|t| &t.body), Some(TurnBody::Error(e)) if e.contains("/open FILE first"))
    );
}

#[test]
fn opening_can_be_cancelled() {
    let mut app = ready_app();
    enter(&mut app, "/open big.txt");
    let acts = app.update(key(KeyCode::Esc));
    assert_eq!(acts, vec![Action::Cancel]);
    app.update(Event::Worker(WorkerMsg::DocOpened(Err("cancelled".into()))));
    assert_eq!(app.opening, None);
    assert!(app.doc.is_none());
    assert!(
        matches!(app.turns.last().map(|t| &t.body), Some(TurnBody::Info(l)) if l[0].starts_with("cancelled"))
    );
}

#[test]
fn review_waits_while_another_text_is_opened() {
    // A text is open; another is being read: /review would answer for a sentence of the text
    // that the new one is about to replace, so it says to wait.
    let mut app = opened();
    enter(&mut app, "/open other.txt");
    let acts = enter(&mut app, "/review");
    assert!(segment_of(&acts).is_none(), "{acts:?}");
    assert!(!matches!(app.mode, Mode::Review(_)));
    assert!(
        matches!(app.turns.last().map(|t| &t.body), Some(TurnBody::Error(e)) if e.contains("being opened")),
        "{:?}",
        app.turns.last().map(|t| &t.body)
    );
    // Once the opening is over (here cancelled), /review works again.
    app.update(Event::Worker(WorkerMsg::DocOpened(Err("cancelled".into()))));
    let acts = enter(&mut app, "/review");
    assert!(segment_of(&acts).is_some(), "{acts:?}");
}

#[test]
fn a_text_opened_again_continues_where_the_reader_stopped() {
    let home = tempdir();
    let file = home.path().join("reviews.txt");
    let pool = include_str!("../../benchmarks/review/pool.txt");
    let mut text: String = pool.lines().take(39).map(|l| format!("{l}\n")).collect();
    // Spaces inside a sentence stay in it (the words leave them out).
    text.push_str("他买了iPhone 12，很好用。\n");
    std::fs::write(&file, &text).unwrap();
    let data = home.path().join("data");
    let seg =
        fenci::segment::Segmenter::new(&fenci::tagger::ModelFiles::embedded().unwrap()).unwrap();
    let (tx, rx) = mpsc::channel();
    let cancel = AtomicBool::new(false);
    let open = |tx: &mpsc::Sender<Event>| {
        fenci::tui::worker::open_document(&file, Some(&data), Some(&seg), "v2", tx, &cancel)
    };

    let first = open(&tx).unwrap();
    assert!(!first.resumed);
    assert_eq!(first.doc.model, "v2");
    assert_eq!(first.doc.sentences.len(), 40);
    assert_eq!(first.doc.sentences[39].text, "他买了iPhone 12，很好用。");
    assert!(
        !first.doc.queue.is_empty(),
        "no sentence of 40 review lines is queued"
    );
    // Every queued sentence has a word marked unsure; every unmarked one is out of the queue.
    for (i, s) in first.doc.sentences.iter().enumerate() {
        assert_eq!(first.doc.queue.contains(&i), !s.unsure.is_empty());
    }
    let progress: Vec<(usize, usize)> = rx
        .try_iter()
        .filter_map(|e| match e {
            Event::Worker(WorkerMsg::DocProgress { done, total }) => Some((done, total)),
            _ => None,
        })
        .collect();
    assert_eq!(progress.last(), Some(&(40, 40)));
    assert!(Document::file(&data, &digest(&text)).exists());

    // The reader answers two, the app saves; another day, the same file.
    let mut doc = first.doc.clone();
    let (a, b) = (doc.queue[0], doc.queue[1]);
    doc.set(a, Status::Accepted, None);
    doc.set(b, Status::Skipped, None);
    doc.save(&data).unwrap();
    let again = open(&tx).unwrap();
    assert!(again.resumed);
    assert_eq!(again.doc, doc);
    assert_eq!(again.doc.next(), doc.queue.get(2).copied());

    // A broken document is named and left alone; the text is not opened over it.
    let path = Document::file(&data, &digest(&text));
    std::fs::write(&path, b"{broken").unwrap();
    let e = open(&tx).unwrap_err();
    assert!(e.contains("move it away"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), b"{broken");

    // Cancelled before the first batch: nothing opened.
    let other = home.path().join("other.txt");
    std::fs::write(&other, "房间很干净。\n").unwrap();
    let cancelled = AtomicBool::new(true);
    let r =
        fenci::tui::worker::open_document(&other, Some(&data), Some(&seg), "v2", &tx, &cancelled);
    assert_eq!(r.unwrap_err(), "cancelled");
    // A directory (or a FIFO) is no text.
    let r =
        fenci::tui::worker::open_document(home.path(), Some(&data), Some(&seg), "v2", &tx, &cancel);
    assert!(r.unwrap_err().contains("not a regular file"));
    // A file that is not there: named.
    let r = fenci::tui::worker::open_document(
        &home.path().join("missing.txt"),
        Some(&data),
        Some(&seg),
        "v2",
        &tx,
        &cancel,
    );
    assert!(r.unwrap_err().contains("missing.txt"));
}

#[test]
fn the_open_report_offers_dictionary_words_once() {
    let mut app = ready_app();
    enter(&mut app, "/open lesson.txt");
    let mut doc = lesson();
    doc.dict_words = vec![("天安门".into(), 3), ("看完".into(), 2)];
    app.update(Event::Worker(WorkerMsg::DocOpened(Ok(Box::new(
        DocOpened {
            doc,
            resumed: true,
            waiting: None,
            warning: Some("could not keep the text for another day: disk full".into()),
        },
    )))));
    let Some(TurnBody::Info(lines)) = app.turns.last().map(|t| &t.body) else {
        panic!()
    };
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(
        lines[1],
        "continuing: 0 of 3 reviewed (0 right as they were, 0 fixed, 0 skipped)"
    );
    assert_eq!(lines[3], "dictionary words fenci splits where it doubts: 天安门 (3 sentences), 看完 (2 sentences) — if they are words in your text, /dict add 天安门 keeps one whole");
    assert!(lines[4].contains("disk full"));
    // Without a known count of waiting corrections, the status bar says only what it knows.
    assert_eq!(app.review_status().as_deref(), Some("reviewed 0/3"));
}

#[test]
fn a_review_turn_that_is_gone_leaves_the_sentence_open() {
    let mut app = opened();
    let acts = enter(&mut app, "/review");
    let (id, _) = segment_of(&acts).unwrap();
    segmented(&mut app, id, &["我", "学习", "中文"], &[1]);
    // Example turns are removed while examples are written; here the review turn itself goes.
    app.turns.retain(|t| t.id != id);
    assert!(app.update(key(KeyCode::Char('a'))).is_empty());
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(app.doc.as_ref().unwrap().next(), Some(2));
}

#[test]
fn the_worker_does_every_queued_job() {
    use fenci::tui::worker::{worker, Job};
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let (job_tx, job_rx) = mpsc::channel();
    let (tx, rx) = mpsc::channel();
    // Queued back to back, before the model is even loaded: none may be dropped.
    job_tx
        .send(Job::Segment(vec![(1, "我爱北京".into())]))
        .unwrap();
    job_tx
        .send(Job::Segment(vec![(2, "今天天气很好".into())]))
        .unwrap();
    job_tx
        .send(Job::Explain {
            id: 3,
            words: vec!["天气".into()],
        })
        .unwrap();
    job_tx
        .send(Job::Segment(vec![(4, "他在学习中文".into())]))
        .unwrap();
    drop(job_tx);
    worker(
        Some("default".into()),
        None,
        fenci::hub::HubOptions::from_env(),
        job_rx,
        tx,
        Arc::new(AtomicBool::new(false)),
    );
    let mut answered: Vec<u64> = rx
        .try_iter()
        .filter_map(|e| match e {
            Event::Worker(WorkerMsg::Turn { id, result }) => {
                assert!(result.is_ok(), "{result:?}");
                Some(id)
            }
            Event::Worker(WorkerMsg::Explained { id, .. }) => Some(id),
            _ => None,
        })
        .collect();
    answered.sort();
    assert_eq!(answered, [1, 2, 3, 4]);
}

/// `lesson()` as model v3 queues it (what the worker answers a re-queue with): sentence 2 (我学习
/// 中文, index 2) and the last are sure now; 这本书 (index 1) is not.
fn lesson_v3() -> Document {
    let mut d = lesson();
    d.model = "v3".into();
    d.sentences[1].unsure = vec![1];
    d.sentences[2].unsure.clear();
    d.sentences[3].unsure.clear();
    d.queue = vec![1, 0];
    d
}

fn model_loaded(app: &mut App, name: &str) -> Vec<Action> {
    app.update(Event::Worker(WorkerMsg::ModelLoaded(
        fenci::tui::app::ModelInfo {
            name: name.into(),
            summary: "2×256 BMES · vocab 5465".into(),
            scheme: fenci::tagger::LabelScheme::bmes(),
        },
    )))
}

fn requeue_of(acts: &[Action]) -> Option<&Document> {
    acts.iter().find_map(|a| match a {
        Action::Requeue(d) => Some(&**d),
        _ => None,
    })
}

#[test]
fn a_new_model_requeues_the_text_and_the_sentence_under_review_stays() {
    let mut app = opened();
    let acts = enter(&mut app, "/review");
    let (id, _) = segment_of(&acts).unwrap();
    segmented(&mut app, id, &["我", "学习", "中文"], &[1]);

    // /train is done: v3 is loaded. The text was queued by default: re-queued.
    let acts = model_loaded(&mut app, "v3");
    assert_eq!(requeue_of(&acts), Some(&lesson()));
    assert_eq!(
        app.mode,
        Mode::Review(id),
        "the sentence under review stays"
    );
    app.update(Event::Worker(WorkerMsg::RequeueProgress {
        done: 2,
        total: 4,
    }));
    assert!(screen(&app, 80, 24).contains("re-queuing: 2/4 sentences · Ctrl-C cancels"));
    insta::assert_snapshot!("requeuing_80x24", screen(&app, 80, 24));
    // Another load meanwhile asks for nothing more yet (the answer checks again).
    assert_eq!(requeue_of(&model_loaded(&mut app, "v3")), None);

    // The reader answers meanwhile, on the old queue.
    let acts = app.update(key(KeyCode::Char('a')));
    let acts = saved(&mut app, &acts);
    assert_eq!(
        saved_doc(&acts).unwrap().sentences[2].status,
        Status::Accepted
    );
    let (id, text) = segment_of(&acts).unwrap();
    assert_eq!(text, "我爱北京天安门");
    segmented(&mut app, id, &["我", "爱", "北京", "天安门"], &[2]);

    // The new queue arrives: the answer given meanwhile is kept (and counted).
    let acts = app.update(Event::Worker(WorkerMsg::Requeued(Ok(
        Box::new(lesson_v3()),
    ))));
    let doc = saved_doc(&acts).expect("the re-queued text saved");
    assert_eq!(doc.model, "v3");
    assert_eq!(doc.sentences[2].status, Status::Accepted);
    assert_eq!(doc.queue, [1, 0, 2]);
    assert_eq!(app.doc.as_deref(), Some(doc));
    assert!(
        matches!(app.turns.last().map(|t| &t.body), Some(TurnBody::Info(l))
            if l == &["re-queued with the new model (v3): 2 → 2 sentences to review"]),
        "{:?}",
        app.turns.last()
    );
    assert_eq!(app.requeuing, None);
    assert_eq!(
        app.review_status().as_deref(),
        Some("reviewed 1/3 · 2 to /train")
    );
    // Still the same sentence under review; answered, the new queue follows: 这本书.
    assert_eq!(app.mode, Mode::Review(id));
    let acts = app.update(key(KeyCode::Char('s')));
    let doc = saved_doc(&acts).unwrap();
    assert_eq!(doc.sentences[0].status, Status::Skipped);
    assert_eq!(segment_of(&acts).unwrap().1, "这本书");
    // The same model loaded again: nothing to re-queue.
    assert_eq!(requeue_of(&model_loaded(&mut app, "v3")), None);
}

#[test]
fn a_text_queued_by_another_model_is_requeued_when_opened() {
    let mut app = ready_app();
    enter(&mut app, "/open lesson.txt");
    let mut old = lesson();
    old.model = "v1".into();
    let acts = app.update(Event::Worker(WorkerMsg::DocOpened(Ok(Box::new(
        DocOpened {
            doc: old.clone(),
            resumed: true,
            waiting: Some(0),
            warning: None,
        },
    )))));
    assert_eq!(requeue_of(&acts), Some(&old));
    assert_eq!(app.requeuing, Some((0, 0)));
    // A text opened afresh was queued by the loaded model: nothing to do.
    let mut app = opened();
    assert_eq!(app.requeuing, None);
    // The answer for a text that is no longer open is dropped.
    model_loaded(&mut app, "v3");
    let mut other = lesson_v3();
    other.digest = digest("other");
    let acts = app.update(Event::Worker(WorkerMsg::Requeued(Ok(Box::new(other)))));
    assert_eq!(saved_doc(&acts), None);
    assert_eq!(app.doc.as_deref(), Some(&lesson()));
    // … and the open one is asked for again, the model being still another.
    assert_eq!(requeue_of(&acts), Some(&lesson()));
}

#[test]
fn opening_the_open_text_again_keeps_and_saves_the_answers_given_meanwhile() {
    let mut app = opened();
    // Answered while the worker read the text again from its file.
    app.doc.as_mut().unwrap().set(2, Status::Skipped, None);
    enter(&mut app, "/open lesson.txt");
    let acts = app.update(Event::Worker(WorkerMsg::DocOpened(Ok(Box::new(
        DocOpened {
            doc: lesson(),
            resumed: false,
            waiting: Some(0),
            warning: None,
        },
    )))));
    let doc = app.doc.as_deref().unwrap();
    assert_eq!(doc.sentences[2].status, Status::Skipped);
    assert_eq!(
        saved_doc(&acts),
        Some(doc),
        "saved, or the file would lack it"
    );
    // Nothing taken: nothing to save.
    enter(&mut app, "/open lesson.txt");
    let fresh = app.doc.as_deref().unwrap().clone();
    let acts = app.update(Event::Worker(WorkerMsg::DocOpened(Ok(Box::new(
        DocOpened {
            doc: fresh,
            resumed: true,
            waiting: Some(0),
            warning: None,
        },
    )))));
    assert_eq!(saved_doc(&acts), None);
}

#[test]
fn a_dictionary_change_requeues_the_open_text() {
    // /dict add changes how the same model segments: the open text is queued again, and the
    // reader is told it was the dictionary.
    let mut app = opened();
    let acts = app.update(Event::Worker(WorkerMsg::DictChanged));
    assert_eq!(requeue_of(&acts), Some(&lesson()), "{acts:?}");
    assert!(app.requeuing.is_some());
    // A second change while it runs asks nothing more (the worker restarts the running one).
    assert!(app.update(Event::Worker(WorkerMsg::DictChanged)).is_empty());
    let mut fresh = lesson();
    fresh.queue = vec![2];
    let acts = app.update(Event::Worker(WorkerMsg::Requeued(Ok(Box::new(
        fresh.clone(),
    )))));
    assert_eq!(
        saved_doc(&acts).map(|d| &d.queue),
        Some(&vec![2]),
        "{acts:?}"
    );
    assert!(
        matches!(app.turns.last().map(|t| &t.body), Some(TurnBody::Info(l))
            if l[0].starts_with("re-queued with your dictionary: ")),
        "{:?}",
        app.turns.last()
    );
    // Cancelled, it says so without pointing to /open (the model has not changed).
    app.update(Event::Worker(WorkerMsg::DictChanged));
    app.update(Event::Worker(WorkerMsg::Requeued(Err("cancelled".into()))));
    assert!(
        matches!(app.turns.last().map(|t| &t.body), Some(TurnBody::Info(l))
            if l[0] == "re-queue cancelled: lesson.txt keeps the queue it had before your dictionary changed"),
        "{:?}",
        app.turns.last()
    );
    // No text open: nothing to re-queue.
    let mut bare = ready_app();
    assert!(bare
        .update(Event::Worker(WorkerMsg::DictChanged))
        .is_empty());
}

#[test]
fn a_requeue_can_be_cancelled_and_leaves_the_text_as_it_was() {
    let mut app = opened();
    model_loaded(&mut app, "v3");
    assert!(screen(&app, 80, 24).contains("re-queuing: 0/0 sentences · Esc cancels"));
    assert_eq!(app.update(key(KeyCode::Esc)), vec![Action::Cancel]);
    let acts = app.update(Event::Worker(WorkerMsg::Requeued(Err("cancelled".into()))));
    assert!(acts.is_empty(), "nothing saved, nothing asked: {acts:?}");
    assert_eq!(app.doc.as_deref(), Some(&lesson()));
    assert_eq!(app.requeuing, None);
    assert!(
        matches!(app.turns.last().map(|t| &t.body), Some(TurnBody::Info(l))
            if l[0] == "re-queue cancelled: lesson.txt keeps the queue of default (/open it again to re-queue)"),
        "{:?}",
        app.turns.last()
    );
    assert_eq!(
        app.review_status().as_deref(),
        Some("reviewed 0/3 · 1 to /train")
    );
    // A failure says why, and the text stays as it was too.
    model_loaded(&mut app, "v4");
    app.update(Event::Worker(WorkerMsg::Requeued(Err(
        "no model is loaded".into(),
    ))));
    assert_eq!(app.doc.as_deref(), Some(&lesson()));
    assert!(
        matches!(app.turns.last().map(|t| &t.body), Some(TurnBody::Info(l))
            if l[0].starts_with("could not re-queue lesson.txt (no model is loaded)"))
    );
    // /cancel while re-queuing cancels it too.
    model_loaded(&mut app, "v5");
    assert!(enter(&mut app, "/cancel").contains(&Action::Cancel));
}

#[test]
fn the_waiting_count_is_known_again_after_undo_and_model() {
    let mut app = opened();
    enter(&mut app, "/undo");
    app.update(Event::Worker(WorkerMsg::Report {
        lines: vec!["active model: default (was v1)".into()],
        error: false,
    }));
    model_loaded(&mut app, "default");
    // The worker counts after every load: v1's corrections wait again.
    app.update(Event::Worker(WorkerMsg::Waiting(4)));
    assert_eq!(
        app.review_status().as_deref(),
        Some("reviewed 0/3 · 4 to /train")
    );
    enter(&mut app, "/model v1");
    app.update(Event::Worker(WorkerMsg::Report {
        lines: vec!["active model: v1".into()],
        error: false,
    }));
    // The count of the version left shows until the new one is counted.
    assert_eq!(
        app.review_status().as_deref(),
        Some("reviewed 0/3 · 4 to /train")
    );
    model_loaded(&mut app, "v1");
    app.update(Event::Worker(WorkerMsg::Waiting(0)));
    assert_eq!(
        app.review_status().as_deref(),
        Some("reviewed 0/3 · 0 to /train")
    );
    assert_eq!(app.requeuing, Some((0, 0)), "v1 re-queues the text");
}

/// Sends the jobs `acts` ask for to the worker, as the runner does.
fn run_actions(
    acts: Vec<Action>,
    jobs: &mpsc::Sender<fenci::tui::worker::Job>,
    cancel: &AtomicBool,
) {
    use fenci::tui::worker::Job;
    for a in acts {
        let job = match a {
            Action::OpenDocument(p) => Job::Open(p),
            Action::Requeue(d) => Job::Requeue(d),
            Action::SaveDocument(d) => Job::SaveDocument(d),
            Action::Segment(v) => Job::Segment(v),
            Action::Explain { id, words } => Job::Explain { id, words },
            Action::Cancel => {
                cancel.store(true, std::sync::atomic::Ordering::SeqCst);
                continue;
            }
            _ => continue,
        };
        jobs.send(job).unwrap();
    }
}

/// Feeds the worker's messages to the app (and the jobs it asks for back) until `done`.
fn pump(
    app: &mut App,
    rx: &mpsc::Receiver<Event>,
    jobs: &mpsc::Sender<fenci::tui::worker::Job>,
    cancel: &AtomicBool,
    done: impl Fn(&App, &Event) -> bool,
) {
    loop {
        let ev = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the worker answers");
        let stop = matches!(ev, Event::Worker(_)) && done(app, &ev);
        let acts = app.update(ev);
        run_actions(acts, jobs, cancel);
        if stop {
            return;
        }
    }
}

#[test]
fn the_worker_requeues_with_the_new_model_and_the_text_on_disk_says_so() {
    use fenci::tui::worker::{requeue_document, worker, Job};
    use std::sync::Arc;
    let home = tempdir();
    let file = home.path().join("reviews.txt");
    let pool = include_str!("../../benchmarks/review/pool.txt");
    let text: String = pool.lines().take(40).map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, &text).unwrap();
    let data = home.path().join("data");
    let seg =
        fenci::segment::Segmenter::new(&fenci::tagger::ModelFiles::embedded().unwrap()).unwrap();
    let (tx, _rx) = mpsc::channel();
    let none = AtomicBool::new(false);

    // Queued by v2 another day: two answered; its marks are stale (nothing else queued).
    let mut old =
        fenci::tui::worker::open_document(&file, Some(&data), Some(&seg), "v2", &tx, &none)
            .unwrap()
            .doc;
    let (a, b) = (old.queue[0], old.queue[1]);
    old.set(a, Status::Fixed, None);
    old.set(b, Status::Skipped, None);
    for s in old
        .sentences
        .iter_mut()
        .filter(|s| s.status == Status::Open)
    {
        s.unsure.clear();
    }
    old.queue = vec![a, b];
    old.save(&data).unwrap();
    // One correction waits for /train.
    let svc = fenci::service::Service::new(&data);
    svc.correct(vec!["房间".into(), "很".into(), "好".into()], vec![], "v2")
        .unwrap();

    // Cancelled: nothing comes back, and the text on disk is as it was.
    let stop = AtomicBool::new(true);
    let r = requeue_document(&old, Some(&seg), "default", &tx, &stop);
    assert_eq!(r.unwrap_err(), "cancelled");
    assert_eq!(
        Document::load(&data, &old.digest).unwrap().as_ref(),
        Some(&old)
    );

    // The app, with the worker on the active version (the built-in model, `default`).
    let (job_tx, job_rx) = mpsc::channel();
    let (tx, rx) = mpsc::channel();
    let cancel = Arc::new(AtomicBool::new(false));
    let th = {
        let (data, cancel) = (data.clone(), cancel.clone());
        std::thread::spawn(move || {
            worker(
                None,
                Some(data),
                fenci::hub::HubOptions::from_env(),
                job_rx,
                tx,
                cancel,
            )
        })
    };
    let mut app = App::new(fenci::store::Settings::default(), vec![]);
    pump(&mut app, &rx, &job_tx, &cancel, |_, e| {
        matches!(e, Event::Worker(WorkerMsg::Waiting(_)))
    });
    assert_eq!(app.model.as_ref().map(|m| m.name.as_str()), Some("default"));
    assert_eq!(app.waiting, Some(1));

    // /open: the text was queued by v2, so it is re-queued with default, then saved.
    let acts = enter(&mut app, &format!("/open {}", file.display()));
    run_actions(acts, &job_tx, &cancel);
    pump(&mut app, &rx, &job_tx, &cancel, |_, e| {
        matches!(e, Event::Worker(WorkerMsg::Requeued(_)))
    });
    let doc = app.doc.as_deref().unwrap().clone();
    assert_eq!(doc.model, "default");
    assert_eq!(doc.sentences[a], old.sentences[a], "answered: as it was");
    assert_eq!(doc.sentences[b], old.sentences[b]);
    assert_eq!(doc.queue[..2], [a, b], "answered first");
    assert!(doc.queue.len() > 2, "the open sentences are queued anew");
    for (i, s) in doc.sentences.iter().enumerate() {
        assert_eq!(
            doc.queue.contains(&i),
            !s.unsure.is_empty() || i == a || i == b
        );
    }
    let Some(TurnBody::Info(l)) = app.turns.last().map(|t| &t.body) else {
        panic!()
    };
    assert_eq!(
        l[0],
        format!(
            "re-queued with the new model (default): 0 → {} sentences to review",
            doc.queue.len() - 2
        )
    );

    // Another model (a directory): re-queued again, with what that model is unsure of.
    let tiny = home.path().join("tiny");
    crate::util::write_model(
        &crate::util::tiny_model(&fenci::tagger::LabelScheme::bmes(), 1, 16, 32, 7),
        &tiny,
    );
    let name = tiny.display().to_string();
    // Forgotten by the app: only the worker's count after the load can show it again.
    app.waiting = None;
    job_tx.send(Job::Load(name.clone())).unwrap();
    pump(&mut app, &rx, &job_tx, &cancel, |_, e| {
        matches!(e, Event::Worker(WorkerMsg::Requeued(_)))
    });
    let doc = app.doc.as_deref().unwrap().clone();
    assert_eq!(doc.model, name);
    assert_eq!(doc.sentences[a], old.sentences[a]);
    assert_eq!(app.waiting, Some(1), "counted again after the load");
    // Its save is done before the next job: the text on disk records the new model.
    job_tx
        .send(Job::Explain {
            id: 999,
            words: vec!["好".into()],
        })
        .unwrap();
    pump(&mut app, &rx, &job_tx, &cancel, |_, e| {
        matches!(e, Event::Worker(WorkerMsg::Explained { id: 999, .. }))
    });
    assert_eq!(Document::load(&data, &doc.digest).unwrap(), Some(doc));
    drop(job_tx);
    th.join().unwrap();
}

#[test]
fn a_sentence_typed_while_a_long_text_is_read_is_answered_between_two_batches() {
    use fenci::tui::worker::{worker, Job};
    use std::sync::Arc;
    let home = tempdir();
    let file = home.path().join("long.txt");
    // 200 sentences: four batches of the worker.
    let pool = include_str!("../../benchmarks/review/pool.txt");
    let text: String = pool.lines().take(200).map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, &text).unwrap();
    let data = home.path().join("data");
    let (job_tx, job_rx) = mpsc::channel();
    let (tx, rx) = mpsc::channel();
    let cancel = Arc::new(AtomicBool::new(false));
    let th = {
        let (data, cancel) = (data.clone(), cancel.clone());
        std::thread::spawn(move || {
            worker(
                None,
                Some(data),
                fenci::hub::HubOptions::from_env(),
                job_rx,
                tx,
                cancel,
            )
        })
    };
    // What the worker says, in order, up to and including the message `last` picks.
    let until = |last: &dyn Fn(&WorkerMsg) -> bool| -> Vec<WorkerMsg> {
        let mut seen = vec![];
        loop {
            let Event::Worker(m) = rx
                .recv_timeout(std::time::Duration::from_secs(120))
                .unwrap()
            else {
                continue;
            };
            let stop = last(&m);
            seen.push(m);
            if stop {
                return seen;
            }
        }
    };
    until(&|m| matches!(m, WorkerMsg::Waiting(_)));

    // /open, and a sentence typed right after it: answered before the text is read through.
    job_tx.send(Job::Open(file.clone())).unwrap();
    job_tx
        .send(Job::Segment(vec![(1, "我爱北京".into())]))
        .unwrap();
    let seen = until(&|m| matches!(m, WorkerMsg::DocOpened(_)));
    let typed = seen
        .iter()
        .position(|m| {
            matches!(
                m,
                WorkerMsg::Turn {
                    id: 1,
                    result: Ok(_)
                }
            )
        })
        .expect("the typed sentence is answered while the text is read");
    let batches: Vec<(usize, usize)> = seen
        .iter()
        .filter_map(|m| match m {
            WorkerMsg::DocProgress { done, total } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert_eq!(
        batches,
        [(0, 200), (64, 200), (128, 200), (192, 200), (200, 200)]
    );
    assert!(
        typed < seen.len() - 2,
        "answered before the last batch: {typed} of {}",
        seen.len()
    );
    let Some(WorkerMsg::DocOpened(Ok(opened))) = seen.last() else {
        panic!("{:?}", seen.last())
    };
    let doc = opened.doc.clone();
    assert_eq!((doc.sentences.len(), doc.model.as_str()), (200, "default"));
    assert_eq!(
        Document::load(&data, &doc.digest).unwrap().as_ref(),
        Some(&doc)
    );

    // A re-queue, then another model loaded before it is done: it starts again with that
    // model, so the text is all of one model (and says which).
    let tiny = home.path().join("tiny");
    crate::util::write_model(
        &crate::util::tiny_model(&fenci::tagger::LabelScheme::bmes(), 1, 16, 32, 7),
        &tiny,
    );
    let name = tiny.display().to_string();
    job_tx.send(Job::Requeue(Box::new(doc.clone()))).unwrap();
    job_tx
        .send(Job::Segment(vec![(2, "今天天气很好".into())]))
        .unwrap();
    job_tx.send(Job::Load(name.clone())).unwrap();
    let seen = until(&|m| matches!(m, WorkerMsg::Requeued(_)));
    assert!(seen.iter().any(|m| matches!(
        m,
        WorkerMsg::Turn {
            id: 2,
            result: Ok(_)
        }
    )));
    let Some(WorkerMsg::Requeued(Ok(fresh))) = seen.last() else {
        panic!("{:?}", seen.last())
    };
    assert_eq!(fresh.model, name);
    let by_tiny =
        fenci::segment::Segmenter::new(&fenci::tagger::ModelFiles::load_dir(&tiny).unwrap())
            .unwrap()
            .segment(&doc.sentences[0].text)
            .unwrap();
    assert_eq!(
        fresh.sentences[0].words,
        by_tiny
            .word_strs()
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    );

    drop(job_tx);
    th.join().unwrap();
}

#[test]
fn an_esc_cancels_what_was_asked_before_it_and_nothing_after() {
    use fenci::tui::worker::{worker, Job};
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    let (job_tx, job_rx) = mpsc::channel();
    let (tx, rx) = mpsc::channel();
    // Asked, then Esc, before the worker takes any of it.
    job_tx.send(Job::Requeue(Box::new(lesson()))).unwrap();
    job_tx
        .send(Job::Segment(vec![(1, "我们明天见".into())]))
        .unwrap();
    let cancel = Arc::new(AtomicBool::new(true));
    let th = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            worker(
                None,
                None,
                fenci::hub::HubOptions::from_env(),
                job_rx,
                tx,
                cancel,
            )
        })
    };
    let next = || loop {
        if let Event::Worker(m) = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .unwrap()
        {
            if !matches!(
                m,
                WorkerMsg::ModelLoaded(_) | WorkerMsg::RequeueProgress { .. }
            ) {
                return m;
            }
        }
    };
    assert!(matches!(next(), WorkerMsg::Requeued(Err(e)) if e == "cancelled"));
    assert!(matches!(next(), WorkerMsg::Turn { id: 1, result: Err(e) } if e == "cancelled"));
    assert!(!cancel.load(Ordering::SeqCst), "the Esc was taken");
    // Asked after the answers: done.
    job_tx
        .send(Job::Segment(vec![(2, "我们明天见".into())]))
        .unwrap();
    assert!(matches!(
        next(),
        WorkerMsg::Turn {
            id: 2,
            result: Ok(_)
        }
    ));
    drop(job_tx);
    th.join().unwrap();
}
