//! The TUI without a terminal: event-level tests of the App and insta snapshots of whole frames
//! on ratatui's TestBackend (80×24 and 120×40). Turns are built with the real decoder and
//! explainer over fixed scores and a small dictionary, so the snapshots do not move when the
//! built-in model is retrained.
use fenci::explain::{explain, Dictionary};
use fenci::tagger::{LabelScheme, VocabSource};

use fenci::segment::{CharTokenizer, Constraints, Segmentation};
use fenci::store::Settings;
use fenci::tui::app::{
    Action, App, DataAction, Event, Mode, ModelInfo, TurnBody, TurnData, WorkerMsg,
};
use fenci::tui::view::{render, Theme};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

const CEDICT: &str = "\
# a few CC-CEDICT lines (CC BY-SA 4.0, MDBG)
我 我 [wo3] /I/me/my/
愛 爱 [ai4] /to love/to be fond of/to like/affection/to be inclined (to do sth)/to tend to (happen)/
北京 北京 [Bei3 jing1] /Beijing, capital of the People's Republic of China/
天安門 天安门 [Tian1 an1 men2] /Tiananmen Gate (entrance of the Imperial City in Beijing)/
北 北 [bei3] /north/to be defeated (classical)/
京 京 [jing1] /capital city of a country/big/algebraic term for a large number (old)/abbr. for Beijing/
天 天 [tian1] /day/sky/heaven/
安 安 [an1] /content/calm/still/quiet/safe/secure/in good health/to find a place for/
門 门 [men2] /gate/door/CL:扇[shan4]/gateway/doorway/
學習 学习 [xue2 xi2] /to learn/to study/
學 学 [xue2] /to learn/to study/to imitate/science/-ology/
習 习 [xi2] /to practice/to study/habit/
中 中 [zhong1] /within/among/in/middle/center/
文 文 [wen2] /language/culture/writing/
習近平 习近平 [Xi2 Jin4 ping2] /Xi Jinping (1953-), PRC politician, General Secretary of the CCP from 2012, president of the PRC from 2013/
近 近 [jin4] /near/close to/approximately/
平 平 [ping2] /flat/level/equal/to tie (make the same score)/peaceful/
這 这 [zhe4] /this/these/
點 点 [dian3] /point/dot/drop/speck/o'clock/point (in space or time)/to draw a dot/to order (food in a restaurant)/classifier for items/
一點 一点 [yi1 dian3] /a bit/a little/one dot/one point/
衣服 衣服 [yi1 fu5] /clothes/CL:件[jian4],套[tao4]/
本 本 [ben3] /root/origin/classifier for books/
書 书 [shu1] /book/letter/
已經 已经 [yi3 jing1] /already/
還 还 [hai2] /still/still in progress/still more/yet/even more/
還 还 [huan2] /to pay back/to return/
沒 没 [mei2] /(negative prefix for verbs) have not/not/
你 你 [ni3] /you (informal, as opposed to courteous 您[nin2])/
錢 钱 [qian2] /coin/money/CL:筆|笔[bi3]/
錢 钱 [Qian2] /surname Qian/
看 看 [kan4] /to see/to look at/to read/
完 完 [wan2] /to finish/to be over/whole/
了 了 [le5] /(completed action marker)/
";

fn dict() -> Dictionary {
    Dictionary::from_reader(CEDICT.as_bytes())
}

/// A segmentation of `words` decoded from fixed scores; for each unit index in `doubt`, the
/// model half-believes the boundary before that unit is the other way round.
pub(crate) fn turn(words: &[&str], doubt: &[usize]) -> TurnData {
    let tok = CharTokenizer::new(&VocabSource::VocabTxt(crate::util::vocab_txt())).unwrap();
    let scheme = LabelScheme::bmes();
    let text: String = words.concat();
    let units = tok.units(&text);
    let gold = fenci::segment::gold_labels(&units, words, &scheme);
    // The same words with each doubted boundary toggled.
    let mut starts: Vec<bool> = gold.iter().map(|&g| scheme.tag(g).starts_word()).collect();
    for &i in doubt {
        starts[i] = !starts[i];
    }
    let mut alt_words: Vec<String> = Vec::new();
    for (i, span) in units.spans.iter().enumerate() {
        let piece: String = text.chars().skip(span.start).take(span.len()).collect();
        if i == 0 || starts[i] {
            alt_words.push(piece);
        } else {
            alt_words.last_mut().unwrap().push_str(&piece);
        }
    }
    let alt_refs: Vec<&str> = alt_words.iter().map(String::as_str).collect();
    let alt = fenci::segment::gold_labels(&units, &alt_refs, &scheme);
    let mut lp = Vec::new();
    for (&g, &a) in gold.iter().zip(&alt) {
        for l in 0..4 {
            let p: f32 = if g == a {
                if l == g {
                    0.97
                } else {
                    0.01
                }
            } else if l == g {
                0.62
            } else if l == a {
                0.36
            } else {
                0.01
            };
            lp.push(p.ln());
        }
    }
    let c = Constraints::from_gaps(&units);
    let seg = Segmentation::from_scores(&text, units, lp, &scheme, &c);
    let d = dict();
    TurnData {
        explanations: seg.words.iter().map(|w| explain(&d, &w.text)).collect(),
        alternatives: seg.alternatives(&scheme, 2),
        names: fenci::explain::names_across(&d, &seg.word_strs()),
        seg,
    }
}

/// [`turn`] with parts of speech: each word tagged as given and explained in context.
fn tagged_turn(words: &[&str], tags: &[&str]) -> TurnData {
    let mut d = turn(words, &[]);
    let dict = dict();
    let t: Vec<Option<&str>> = tags.iter().map(|t| Some(*t)).collect();
    d.explanations = fenci::explain::explain_in_context(&dict, words, &t);
    d.seg.pos = tags
        .iter()
        .map(|t| fenci::segment::PosTag {
            tag: t.to_string(),
            prob: 0.9,
        })
        .collect();
    d
}

pub(crate) fn key(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}
fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}
pub(crate) fn typed(app: &mut App, s: &str) -> Vec<Action> {
    let mut acts = Vec::new();
    for c in s.chars() {
        acts.extend(app.update(key(KeyCode::Char(c))));
    }
    acts
}
pub(crate) fn enter(app: &mut App, s: &str) -> Vec<Action> {
    typed(app, s);
    app.update(key(KeyCode::Enter))
}

pub(crate) fn ready_app() -> App {
    let mut app = App::new(Settings::default(), vec![]);
    app.update(Event::Worker(WorkerMsg::ModelLoaded(ModelInfo {
        name: "default".into(),
        summary: "2×256 BMES · vocab 5465".into(),
        scheme: LabelScheme::bmes(),
    })));
    app
}

/// The id of the first sentence a segment action among `acts` asks for.
pub(crate) fn segment_id(acts: &[Action]) -> u64 {
    acts.iter()
        .find_map(|a| match a {
            Action::Segment(v) => Some(v[0].0),
            _ => None,
        })
        .expect("a segment action")
}

/// Types `text` and answers it with `d` as the worker would.
fn ask_with(app: &mut App, text: &str, d: TurnData) {
    let id = segment_id(&enter(app, text));
    app.update(Event::Worker(WorkerMsg::Turn {
        id,
        result: Ok(Box::new(d)),
    }));
}

/// Opens the word card of word `w` of the first turn (Tab, → to it, Enter).
fn open_card(app: &mut App, w: usize) {
    app.update(key(KeyCode::Tab));
    for _ in 0..w {
        app.update(key(KeyCode::Right));
    }
    app.update(key(KeyCode::Enter));
    assert_eq!(app.mode, Mode::Detail(0, w));
}

/// Types a sentence and answers it as the worker would.
fn ask(app: &mut App, words: &[&str], doubt: &[usize]) {
    ask_with(app, &words.concat(), turn(words, doubt));
}

pub(crate) fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f, &Theme { color: false })).unwrap();
    format!("{}", t.backend())
}

#[test]
fn snapshot_welcome() {
    let app = App::new(Settings::default(), vec![]);
    insta::assert_snapshot!("welcome_80x24", screen(&app, 80, 24));
    insta::assert_snapshot!("welcome_120x40", screen(&ready_app(), 120, 40));
}

#[test]
fn snapshot_segmented_and_explained() {
    let mut app = ready_app();
    ask(&mut app, &["我", "爱", "北京", "天安门"], &[3, 4]);
    insta::assert_snapshot!("turn_80x24", screen(&app, 80, 24));
    insta::assert_snapshot!("turn_120x40", screen(&app, 120, 40));
}

#[test]
fn snapshot_uncertain_word_and_hesitant_boundary() {
    // 北|京 doubted: not split, so no percentage under a chip, but 北京 carries the `?` mark
    // and the boundary is listed as nearly split. 学习|中文 doubted: a split the model
    // hesitates over, so its percentage is shown; the sure boundaries show none.
    let mut app = ready_app();
    ask(&mut app, &["我", "爱", "北京", "天安门"], &[3]);
    ask(&mut app, &["我", "学习", "中文"], &[3]);
    let s = screen(&app, 80, 24);
    assert!(s.contains("北京?"), "{s}");
    assert!(s.contains("nearly split: 北|京"), "{s}");
    insta::assert_snapshot!("uncertain_80x24", s);
}

#[test]
fn snapshot_name_written_as_two_words() {
    // PKU's standard (and so the built-in model) writes 习 近平; the card says that together
    // they are CC-CEDICT's 习近平, Xi Jinping.
    let mut app = ready_app();
    ask(&mut app, &["习", "近平", "学习", "中文"], &[]);
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("习+近平 = 习近平 Xí Jìnpíng: Xi Jinping (1953-)"),
        "{s}"
    );
    insta::assert_snapshot!("name_80x24", s);
}

#[test]
fn snapshot_word_detail() {
    let mut app = ready_app();
    ask(&mut app, &["我", "爱", "北京", "天安门"], &[]);
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Right));
    assert_eq!(app.mode, Mode::Inspect(0, 2));
    app.update(key(KeyCode::Enter));
    assert_eq!(app.mode, Mode::Detail(0, 2));
    insta::assert_snapshot!("detail_80x24", screen(&app, 80, 24));
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Enter));
    insta::assert_snapshot!("detail_not_in_dictionary_120x40", screen(&app, 120, 40));
}

#[test]
fn snapshot_help_and_error() {
    let mut app = ready_app();
    enter(&mut app, "/help");
    insta::assert_snapshot!("help_80x24", screen(&app, 80, 24));
    enter(&mut app, "/hlep");
    insta::assert_snapshot!("error_120x40", screen(&app, 120, 40));
}

#[test]
fn snapshot_long_sentence_wraps() {
    let mut app = ready_app();
    let words = [
        "我",
        "爱",
        "北京",
        "天安门",
        "我",
        "学习",
        "中文",
        "我",
        "爱",
        "北京",
        "天安门",
        "学习",
        "中文",
    ];
    ask(&mut app, &words, &[5]);
    insta::assert_snapshot!("long_80x24", screen(&app, 80, 24));
    insta::assert_snapshot!("long_120x40", screen(&app, 120, 40));
}

#[test]
fn snapshot_job_in_progress() {
    let mut app = App::new(Settings::default(), vec![]);
    enter(&mut app, "我爱北京天安门");
    insta::assert_snapshot!("pending_80x24", screen(&app, 80, 24));
}

#[test]
fn resizing_never_breaks_the_layout() {
    let mut app = ready_app();
    ask(&mut app, &["我", "爱", "北京", "天安门"], &[3]);
    for (w, h) in [(1, 1), (5, 3), (20, 6), (33, 10), (80, 24), (200, 60)] {
        let s = screen(&app, w, h);
        assert_eq!(s.lines().count(), h as usize);
    }
}

#[test]
fn history_completion_and_commands() {
    let mut app = ready_app();
    let acts = enter(&mut app, "我爱北京");
    assert!(acts.contains(&Action::AppendHistory("我爱北京".into())));
    assert!(matches!(&acts[1], Action::Segment(v) if v[0].1 == "我爱北京"));
    enter(&mut app, "/temp 0.3");
    assert_eq!(app.settings.temperature, 0.3);
    app.update(key(KeyCode::Up));
    assert_eq!(app.input.text(), "/temp 0.3");
    app.update(key(KeyCode::Up));
    assert_eq!(app.input.text(), "我爱北京");
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    assert_eq!(app.input.text(), "");
    // Tab completes commands
    typed(&mut app, "/he");
    app.update(key(KeyCode::Tab));
    assert_eq!(app.input.text(), "/help ");
    app.update(ctrl('u'));
    typed(&mut app, "/t");
    app.update(key(KeyCode::Tab));
    assert_eq!(app.completions, vec!["tones", "temp", "top-p", "train"]);
    app.update(ctrl('u'));
    // settings commands validate and persist
    let acts = enter(&mut app, "/explain brief");
    assert!(
        matches!(&acts[1], Action::SaveSettings(s) if s.explain == fenci::store::Explain::Brief)
    );
    enter(&mut app, "/top-p 1.5");
    assert!(
        matches!(&app.turns.last().unwrap().body, TurnBody::Error(e) if e.contains("above 0 and at most 1"))
    );
    enter(&mut app, "/seed 7");
    assert_eq!(app.settings.seed, 7);
    // unknown commands suggest
    enter(&mut app, "/modle");
    assert!(
        matches!(&app.turns.last().unwrap().body, TurnBody::Error(e) if e.contains("did you mean /model"))
    );
    // /examples needs a word, and N in range
    enter(&mut app, "/examples");
    assert!(
        matches!(&app.turns.last().unwrap().body, TurnBody::Error(e) if e.contains("usage: /examples WORD"))
    );
    enter(&mut app, "/examples 学习 99");
    assert!(matches!(&app.turns.last().unwrap().body, TurnBody::Error(e) if e.contains("1 to 20")));
    // /temp and /examples N refuse what the command line refuses, in the same words.
    enter(&mut app, "/temp 5");
    assert_eq!(
        app.turns.last().unwrap().body,
        TurnBody::Error(fenci::generate::parse_temperature("5").unwrap_err())
    );
    enter(&mut app, "/examples 学习 21");
    assert_eq!(
        app.turns.last().unwrap().body,
        TurnBody::Error(fenci::generate::parse_examples("21").unwrap_err())
    );
    // /save writes Markdown
    let acts = enter(&mut app, "/save out.md");
    assert!(
        matches!(&acts[1], Action::WriteFile { path, contents, overwrite: false } if path.to_str() == Some("out.md") && contents.starts_with("# fenci transcript"))
    );
    let acts = enter(&mut app, "/quit");
    assert!(acts.contains(&Action::Quit));
}

#[test]
fn ctrl_c_cancels_clears_then_quits() {
    let mut app = ready_app();
    enter(&mut app, "我爱北京");
    assert_eq!(app.pending(), 1);
    assert_eq!(app.update(ctrl('c')), vec![Action::Cancel]);
    let id = app.turns[0].id;
    app.update(Event::Worker(WorkerMsg::Turn {
        id,
        result: Err("cancelled".into()),
    }));
    assert_eq!(app.turns[0].body, TurnBody::Cancelled);
    typed(&mut app, "abc");
    assert!(app.update(ctrl('c')).is_empty());
    assert!(app.input.is_empty());
    assert!(app.update(ctrl('c')).is_empty());
    assert!(app.quit_armed);
    assert_eq!(app.update(ctrl('c')), vec![Action::Quit]);
    // Esc also cancels a running job
    let mut app = ready_app();
    enter(&mut app, "我爱北京");
    assert_eq!(app.update(key(KeyCode::Esc)), vec![Action::Cancel]);
}

#[test]
fn multi_line_paste_segments_each_line() {
    let mut app = ready_app();
    let acts = app.update(Event::Paste("我爱北京\n\n天安门\r\n".into()));
    match &acts[..] {
        [Action::Segment(v)] => {
            assert_eq!(
                v.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(),
                ["我爱北京", "天安门"]
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.pending(), 2);
    // a single-line paste goes into the input line
    app.update(Event::Paste("学习".into()));
    assert_eq!(app.input.text(), "学习");
}

#[test]
fn stale_results_after_clear_are_dropped_and_demo_reveals_word_by_word() {
    let mut app = ready_app();
    let acts = enter(&mut app, "我爱北京");
    let id = match &acts[1] {
        Action::Segment(v) => v[0].0,
        _ => unreachable!(),
    };
    enter(&mut app, "/clear");
    app.update(Event::Worker(WorkerMsg::Turn {
        id,
        result: Ok(Box::new(turn(&["我", "爱", "北京"], &[]))),
    }));
    assert!(app.turns.is_empty());

    enter(&mut app, "/demo");
    assert!(app.demo);
    ask(&mut app, &["我", "爱", "北京", "天安门"], &[]);
    assert_eq!(app.turns.last().unwrap().revealed, Some(0));
    app.update(key(KeyCode::Char(' ')));
    app.update(key(KeyCode::Right));
    assert_eq!(app.turns.last().unwrap().revealed, Some(2));
    insta::assert_snapshot!("demo_80x24", screen(&app, 80, 24));
}

#[test]
fn confidence_is_visible_without_colour() {
    let mut app = ready_app();
    ask(&mut app, &["我", "爱", "北京", "天安门"], &[4]);
    let s = screen(&app, 120, 40);
    // the uncertain boundary is drawn with a different glyph and its percentage
    assert!(s.contains('┆'), "{s}");
    assert!(s.contains('%'));
}

#[test]
fn fix_checks_the_characters_and_saves() {
    let mut app = ready_app();
    ask(&mut app, &["我", "爱", "北京", "天安门"], &[]);
    let acts = enter(&mut app, "/fix 我 爱 北平 天安门");
    assert_eq!(acts.len(), 1, "only the history entry: {acts:?}");
    match &app.turns.last().unwrap().body {
        TurnBody::Error(e) => assert!(
            e.contains("refused") && e.contains("character 4 is 京"),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    let acts = enter(&mut app, "/fix 我 爱 北京天安门");
    let turn = app.turns[0].id;
    assert!(acts.contains(&Action::Data(DataAction::SaveCorrection {
        turn,
        words: vec!["我".into(), "爱".into(), "北京天安门".into()],
        model_output: vec!["我".into(), "爱".into(), "北京".into(), "天安门".into()],
    })));
}

#[test]
fn boundary_editor_toggles_and_saves() {
    let mut app = ready_app();
    ask(&mut app, &["我", "爱", "北京", "天安门"], &[]);
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Char('e')));
    assert_eq!(app.mode, Mode::Edit(0, 0));
    // move to 天 (char 4) and remove the boundary before it, then split 北|京
    for _ in 0..4 {
        app.update(key(KeyCode::Right));
    }
    app.update(key(KeyCode::Char(' ')));
    app.update(key(KeyCode::Left));
    app.update(key(KeyCode::Char(' ')));
    assert_eq!(app.edited_words(0), ["我", "爱", "北", "京天安门"]);
    insta::assert_snapshot!("editor_80x24", screen(&app, 80, 24));
    let acts = app.update(key(KeyCode::Enter));
    assert_eq!(app.mode, Mode::Normal);
    assert!(
        matches!(&acts[..], [Action::Data(DataAction::SaveCorrection { words, .. })] if words == &["我", "爱", "北", "京天安门"])
    );
}

#[test]
fn training_progress_and_result_views() {
    let mut app = ready_app();
    let acts = enter(&mut app, "/train");
    assert!(acts.contains(&Action::Data(DataAction::Train)));
    app.update(Event::Worker(WorkerMsg::TrainProgress {
        step: 37,
        total: 120,
        loss: 0.0842,
    }));
    insta::assert_snapshot!("training_progress_80x24", screen(&app, 80, 24));
    assert_eq!(app.update(key(KeyCode::Esc)), vec![Action::CancelTrain]);
    app.update(Event::Worker(WorkerMsg::TrainDone(Ok(vec![
        "trained v2 on 3 corrections in 6.1 s — 3/3 now come out as corrected (before: 1)".into(),
        "  before: 中国 人民 银行 宣布 下 调存款 利率".into(),
        "  after:  中国 人民 银行 宣布 下调 存款 利率 ✓".into(),
        "held-out check (200 sentences): F1 90.09 → 90.03".into(),
        "/undo returns to v1".into(),
    ]))));
    assert_eq!(app.training, None);
    insta::assert_snapshot!("training_done_80x24", screen(&app, 80, 24));
    app.update(Event::Worker(WorkerMsg::Report {
        lines: vec![
            "correction #4 saved: 我 爱 北京天安门 — /train teaches it to the model".into(),
        ],
        error: false,
    }));
    let s = screen(&app, 80, 24);
    assert!(
        !s.contains("› \n") && s.contains("correction #4 saved"),
        "{s}"
    );
}

#[test]
fn examples_take_a_learner_level() {
    let mut app = ready_app();
    let level = |acts: &[Action]| {
        acts.iter().find_map(|a| match a {
            Action::Examples { word, n, level, .. } => Some((word.clone(), *n, *level)),
            _ => None,
        })
    };
    let acts = enter(&mut app, "/examples 学习 2 --level 3");
    assert_eq!(level(&acts), Some(("学习".to_string(), 2, Some(3))));
    assert!(screen(&app, 80, 24).contains("HSK ≤ 3"));
    app.generating = None;
    let acts = enter(&mut app, "/examples 学习 --level hsk2");
    assert_eq!(level(&acts), Some(("学习".to_string(), 3, Some(2))));
    app.generating = None;
    for bad in [
        "/examples 学习 --level 10",
        "/examples 学习 --level",
        "/examples --level 2",
        "/examples 学习 2 3",
    ] {
        let acts = enter(&mut app, bad);
        assert_eq!(level(&acts), None, "{bad}");
        let s = screen(&app, 100, 30);
        assert!(
            s.contains("out of range") || s.contains("usage: /examples"),
            "{bad}: {s}"
        );
    }
}

#[test]
fn examples_stream_then_are_explained() {
    use fenci::generate::ExampleEvent as E;
    let mut app = ready_app();
    enter(&mut app, "/temp 0.3");
    let acts = enter(&mut app, "/examples 学习 2");
    let (word, n, sampling) = acts
        .iter()
        .find_map(|a| match a {
            Action::Examples {
                word, n, sampling, ..
            } => Some((word.clone(), *n, sampling.clone())),
            _ => None,
        })
        .expect("an examples action");
    assert_eq!((word.as_str(), n), ("学习", 2));
    assert_eq!(sampling.temperature, 0.3);
    assert_eq!(sampling.seed, app.settings.seed);
    // A second request while writing is refused.
    let again = enter(&mut app, "/examples 中文");
    assert!(!again.iter().any(|a| matches!(a, Action::Examples { .. })));
    app.turns.pop();
    // The first example streams in, is finished and sent to be segmented.
    let ev = |e| Event::Worker(WorkerMsg::Example(e));
    for piece in ["我", "学习", "中"] {
        app.update(ev(E::Text {
            index: 0,
            piece: piece.into(),
        }));
    }
    let acts = app.update(ev(E::Done {
        index: 0,
        sentence: "我学习中文".into(),
        score: None,
    }));
    let id = match &acts[..] {
        [Action::Segment(v)] => {
            assert_eq!(v[0].1, "我学习中文");
            v[0].0
        }
        other => panic!("{other:?}"),
    };
    app.update(Event::Worker(WorkerMsg::Turn {
        id,
        result: Ok(Box::new(turn(&["我", "学习", "中文"], &[]))),
    }));
    // An explained example is corrected like any sentence.
    let acts = enter(&mut app, "/fix 我 学 习 中文");
    assert!(
        acts.iter().any(|a| matches!(a, Action::Data(DataAction::SaveCorrection { words, .. }) if words.join(" ") == "我 学 习 中文")),
        "{acts:?}"
    );
    app.turns.retain(|t| !t.input.starts_with("/fix"));
    // The second is half written: a snapshot of the stream in progress.
    app.update(ev(E::Text {
        index: 1,
        piece: "他们学习".into(),
    }));
    insta::assert_snapshot!("examples_streaming_80x24", screen(&app, 80, 24));
    // A line without the word (instruct models) is dropped.
    app.update(ev(E::Rejected { index: 1 }));
    assert!(!app.turns.iter().any(|t| t.input == "他们学习"));
    app.update(ev(E::Text {
        index: 1,
        piece: "学习中文".into(),
    }));
    // Esc stops it; what was half written is marked cancelled.
    assert_eq!(app.update(key(KeyCode::Esc)), vec![Action::CancelExamples]);
    app.update(Event::Worker(WorkerMsg::ExamplesDone(Ok(
        "1 sentence (stopped) · 12 tokens · first token 4 ms · 310 tokens/s".into(),
    ))));
    assert!(app.generating.is_none());
    assert!(app
        .turns
        .iter()
        .any(|t| t.input == "学习中文" && t.body == TurnBody::Cancelled));
    insta::assert_snapshot!("examples_done_80x24", screen(&app, 80, 24));
    // /lm shows and switches the language model; a loaded LM is remembered.
    let acts = enter(&mut app, "/lm Qwen/Qwen2.5-0.5B-Instruct");
    assert!(acts.contains(&Action::LoadLm("Qwen/Qwen2.5-0.5B-Instruct".into())));
    let acts = app.update(Event::Worker(WorkerMsg::LmLoaded {
        name: "Qwen/Qwen2.5-0.5B-Instruct".into(),
        summary: "qwen2 24×896 · vocab 151936".into(),
    }));
    assert_eq!(app.settings.lm, "Qwen/Qwen2.5-0.5B-Instruct");
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::SaveSettings(s) if s.lm == "Qwen/Qwen2.5-0.5B-Instruct")));
    enter(&mut app, "/lm");
    assert!(
        matches!(&app.turns.last().unwrap().body, TurnBody::Info(l) if l[0].contains("24×896"))
    );
    // A failed generation is an error in the header turn.
    enter(&mut app, "/examples 鑫");
    app.update(Event::Worker(WorkerMsg::ExamplesDone(Err(
        "the language model does not know '鑫'".into(),
    ))));
    assert!(matches!(&app.turns.last().unwrap().body, TurnBody::Error(e) if e.contains("鑫")));
}

#[test]
fn examples_say_in_the_app_when_they_are_not_sure() {
    use fenci::generate::{ExampleEvent as E, Score};
    let mut app = ready_app();
    enter(&mut app, "/examples 复习 3");
    let ev = |e| Event::Worker(WorkerMsg::Example(e));
    app.update(ev(E::Text {
        index: 0,
        piece: "考试前要好好复习。".into(),
    }));
    app.update(ev(E::Done {
        index: 0,
        sentence: "考试前要好好复习。".into(),
        score: None,
    }));
    let mut sc = Score::default();
    sc.add("lm", -2.2);
    sc.reject(
        "unsure",
        0.0,
        "the LM is not sure of it: lm -2.20, below -0.80",
    );
    app.update(ev(E::Unsure {
        word: "复习".into(),
        index: 1,
        asked: 3,
        closest: Some(("老师把作业复习一周。".into(), sc)),
    }));
    app.update(Event::Worker(WorkerMsg::ExamplesDone(Ok(
        "1 sentence · 300 tokens · first token 150 ms · 500 tokens/s".into(),
    ))));
    assert!(app.generating.is_none());
    let header = app
        .turns
        .iter()
        .find(|t| t.input == "/examples 复习 3")
        .unwrap();
    match &header.body {
        TurnBody::Info(lines) => {
            assert!(
                lines.iter().any(|l| l
                    .starts_with("not sure of more examples of 复习 (1 of 3 shown)")
                    && l.contains("老师把作业复习一周。")),
                "{lines:?}"
            );
            assert!(lines.last().unwrap().starts_with("1 sentence"), "{lines:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!app.turns.iter().any(|t| t.body == TurnBody::Cancelled));
    insta::assert_snapshot!("examples_not_sure_80x24", screen(&app, 80, 24));
}

// ---- What a new user hit in the app (issue #19), and tone colours ----

/// The transcript's coloured text: for each line with colour, its runs of cells of one
/// foreground colour as `Colour«text»` (runs of spaces left out). With `color` off (NO_COLOR)
/// nothing has a colour.
fn colours(app: &App, w: u16, h: u16, color: bool) -> String {
    use unicode_width::UnicodeWidthStr;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, f, &Theme { color })).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h.saturating_sub(3) {
        let mut runs: Vec<(ratatui::style::Color, String)> = Vec::new();
        let mut x = 0;
        while x < w {
            let cell = &buf[(x, y)];
            let sym = cell.symbol().to_string();
            x += UnicodeWidthStr::width(sym.as_str()).max(1) as u16;
            match runs.last_mut() {
                Some((c, text)) if *c == cell.fg => text.push_str(&sym),
                _ => runs.push((cell.fg, sym)),
            }
        }
        let shown: Vec<String> = runs
            .into_iter()
            .filter(|(c, t)| *c != ratatui::style::Color::Reset && !t.trim().is_empty())
            .map(|(c, t)| format!("{c:?}«{}»", t.trim()))
            .collect();
        if !shown.is_empty() {
            out.push_str(&format!("{y:>2}: {}\n", shown.join(" ")));
        }
    }
    out
}

fn last_body(app: &App) -> &TurnBody {
    &app.turns.last().unwrap().body
}

/// A paragraph of 36 words: at 80×24 its chips take more lines than the screen has.
const PARAGRAPH: [&str; 12] = [
    "我",
    "爱",
    "北京",
    "天安门",
    "我",
    "学习",
    "中文",
    "我",
    "爱",
    "北京",
    "天安门",
    "学习",
];

#[test]
fn inspect_mode_keeps_the_selected_word_on_screen() {
    let mut app = ready_app();
    app.update(Event::Resize(80, 24));
    ask(&mut app, &["我", "爱", "北京"], &[]);
    let words: Vec<&str> = PARAGRAPH
        .iter()
        .chain(&PARAGRAPH)
        .chain(&PARAGRAPH)
        .copied()
        .collect();
    ask(&mut app, &words, &[]);
    let t = app.turns.len() - 1;
    // Tab selects the paragraph's first word: the view scrolls up to it.
    app.update(key(KeyCode::Tab));
    assert_eq!(app.mode, Mode::Inspect(t, 0));
    assert!(app.scroll > 0, "nothing scrolled");
    assert!(app.word_visible(t, 0));
    insta::assert_snapshot!("inspect_follows_80x24", screen(&app, 80, 24));
    // ← wraps to the last word, far below: the view follows.
    let top = app.scroll;
    app.update(key(KeyCode::Left));
    assert_eq!(app.mode, Mode::Inspect(t, words.len() - 1));
    assert!(app.word_visible(t, words.len() - 1));
    assert!(app.scroll + 10 < top, "{} → {}", top, app.scroll);
    // PgUp scrolls in inspect mode, and the selection moves onto the page.
    app.update(key(KeyCode::PageUp));
    assert!(app.scroll > 0, "PgUp did nothing");
    let Mode::Inspect(t2, w2) = app.mode else {
        panic!("{:?}", app.mode)
    };
    assert!(app.word_visible(t2, w2));
    assert_ne!((t2, w2), (t, words.len() - 1));
    let up = app.scroll;
    app.update(key(KeyCode::PageDown));
    assert!(app.scroll < up, "PgDn did nothing");
    // Enter opens only a word on screen: an off-screen selection is brought back first.
    app.mode = Mode::Inspect(t, 0);
    app.scroll = 0;
    assert!(!app.word_visible(t, 0));
    app.update(key(KeyCode::Enter));
    assert_eq!(app.mode, Mode::Inspect(t, 0));
    assert!(app.word_visible(t, 0));
    app.update(key(KeyCode::Enter));
    assert_eq!(app.mode, Mode::Detail(t, 0));
}

#[test]
fn boundary_editor_starts_at_the_selected_word() {
    let mut app = ready_app();
    ask(&mut app, &["我", "爱", "北京", "天安门"], &[]);
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Char('e')));
    // 天安门 starts at character 4.
    assert_eq!(app.mode, Mode::Edit(0, 4));
    // The cursor is drawn on 天.
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| render(&app, f, &Theme { color: false }))
        .unwrap();
    let buf = term.backend().buffer().clone();
    let cursor: Vec<String> = (0..24)
        .flat_map(|y| (0..80).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            buf[(x, y)]
                .modifier
                .contains(ratatui::style::Modifier::REVERSED)
                && y < 21
        })
        .map(|(x, y)| buf[(x, y)].symbol().to_string())
        .collect();
    assert_eq!(cursor.concat().trim(), "天");
    // /edit (no selection) starts at the first character.
    app.update(key(KeyCode::Esc));
    enter(&mut app, "/edit");
    assert_eq!(app.mode, Mode::Edit(0, 0));
}

#[test]
fn dict_add_takes_every_word_and_asks_before_a_single_character() {
    use fenci::tui::app::DictOp;
    let mut app = ready_app();
    let acts = enter(&mut app, "/dict add 一 二");
    assert!(
        acts.contains(&Action::Data(DataAction::Dict(DictOp::Add {
            words: vec!["一".into(), "二".into()],
            force: false
        }))),
        "{acts:?}"
    );
    for cmd in ["/dict add! 一", "/dict! add 一"] {
        let acts = enter(&mut app, cmd);
        assert!(
            acts.contains(&Action::Data(DataAction::Dict(DictOp::Add {
                words: vec!["一".into()],
                force: true
            }))),
            "{cmd}: {acts:?}"
        );
    }
    // The rule is the service's, the same for the command line.
    let home = tempfile::tempdir().unwrap();
    let svc = fenci::service::Service::new(home.path());
    let e = svc
        .dict_add_words(&["一起".into(), "一".into()], false)
        .unwrap_err();
    assert!(
        matches!(&e, fenci::service::ServiceError::SingleCharWord { words } if words == &["一"]),
        "{e}"
    );
    assert!(e.to_string().contains("nothing was added"), "{e}");
    assert!(svc.dict_words().is_empty(), "refused means none added");
    let added = svc
        .dict_add_words(&["一起".into(), "一定".into(), "一起".into()], false)
        .unwrap();
    assert_eq!(
        added,
        [("一起".to_string(), true), ("一定".to_string(), true)]
    );
    svc.dict_add_words(&["一".into()], true).unwrap();
    assert_eq!(svc.dict_words(), ["一起", "一定", "一"]);
}

#[test]
fn fix_accepts_left_out_punctuation_and_redraws_the_turn() {
    let mut app = ready_app();
    ask(
        &mut app,
        &["这", "本书", "我", "已经", "看完", "了", "。"],
        &[],
    );
    let acts = enter(&mut app, "/fix 这 本 书 我 已经 看 完 了");
    let words = acts
        .iter()
        .find_map(|a| match a {
            Action::Data(DataAction::SaveCorrection { words, .. }) => Some(words.clone()),
            _ => None,
        })
        .expect("the fix is saved");
    assert_eq!(
        words,
        ["这", "本", "书", "我", "已经", "看", "完", "了", "。"]
    );
    // Saved: the command shows its outcome (no empty › line) and the turn its new words.
    let turn = acts
        .iter()
        .find_map(|a| match a {
            Action::Data(DataAction::SaveCorrection { turn, .. }) => Some(*turn),
            _ => None,
        })
        .unwrap();
    let acts = app.update(Event::Worker(WorkerMsg::CorrectionSaved {
        turn,
        words: words.clone(),
        lines: vec![
            "correction #1 saved: 这 本 书 我 已经 看 完 了 。 — /train teaches it to the model"
                .into(),
        ],
    }));
    let explain = match &acts[..] {
        [Action::Explain { id, words: w }] => {
            assert_eq!(w, &words);
            *id
        }
        other => panic!("{other:?}"),
    };
    let d = dict();
    let (explanations, names) = fenci::tui::worker::explain_words(&d, &words);
    app.update(Event::Worker(WorkerMsg::Explained {
        id: explain,
        explanations,
        names,
    }));
    let s = screen(&app, 80, 24);
    assert!(!s.contains("\"›  "), "an empty › line:\n{s}");
    insta::assert_snapshot!("fixed_80x24", s);
    // A fix that differs by more than punctuation is still refused, saying where.
    enter(&mut app, "/fix 这 本 书 我 已经 看 完");
    assert!(
        matches!(last_body(&app), TurnBody::Error(e) if e.contains("stops after")),
        "{:?}",
        last_body(&app)
    );
}

#[test]
fn fix_words_rule() {
    use fenci::service::fix_words;
    let w = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    assert_eq!(
        fix_words("这本书我已经看完了。", &w("这 本 书 我 已经 看 完 了")).unwrap(),
        w("这 本 书 我 已经 看 完 了 。")
    );
    assert_eq!(
        fix_words("“你好！”他说……", &w("你好 他 说")).unwrap(),
        w("“ 你好 ！ ” 他 说 ……")
    );
    // Punctuation the fix writes itself is kept where it is.
    assert_eq!(fix_words("好。", &w("好 。")).unwrap(), w("好 。"));
    // Left out inside a word: refused.
    assert!(fix_words("我，你", &w("我你")).is_err());
    // Other characters: refused.
    assert!(fix_words("我爱北京", &w("我 爱 北平")).is_err());
    assert!(fix_words("我爱北京。", &w("我 爱 北京 天")).is_err());
}

#[test]
fn sampling_limits_are_one_rule() {
    use fenci::generate::{parse_examples, parse_temperature, parse_top_p};
    assert_eq!(parse_temperature("2"), Ok(2.0));
    assert_eq!(parse_temperature("0"), Ok(0.0));
    assert!(parse_temperature("3").unwrap_err().contains("0 to 2"));
    assert!(parse_temperature("NaN").is_err());
    assert!(parse_top_p("0").is_err());
    assert_eq!(parse_top_p("1"), Ok(1.0));
    assert_eq!(parse_examples("20"), Ok(20));
    assert!(parse_examples("21").unwrap_err().contains("1 to 20"));
    assert!(parse_examples("0").is_err());
    let s = fenci::generate::Sampling {
        temperature: 3.0,
        ..Default::default()
    };
    assert!(s.check().is_err());
}

#[test]
fn commands_answer_under_themselves() {
    let mut app = ready_app();
    // /corrections, /dict, /model: the report goes under the command, no empty › line.
    for (cmd, report) in [
        ("/corrections", "#1   new     我 爱 北京"),
        ("/dict add 北京", "added 北京"),
        ("/model", "* default — the built-in model"),
    ] {
        enter(&mut app, cmd);
        app.update(Event::Worker(WorkerMsg::Report {
            lines: vec![report.into()],
            error: false,
        }));
        let t = app.turns.last().unwrap();
        assert_eq!(t.input, cmd);
        assert!(
            matches!(&t.body, TurnBody::Info(l) if l.last().map(String::as_str) == Some(report)),
            "{cmd}: {:?}",
            t.body
        );
    }
    let s = screen(&app, 80, 24);
    assert!(!s.lines().any(|l| l.trim_matches('"').trim() == "›"), "{s}");
    // A report no command asked for has no › line on screen, and no empty quote in /save.
    app.update(Event::Worker(WorkerMsg::Report {
        lines: vec!["the model's licence is apache-2.0".into()],
        error: false,
    }));
    assert_eq!(app.turns.last().unwrap().input, "");
    assert!(!app.markdown().contains(">  \n") && !app.markdown().contains("> \n"));
    assert!(app
        .markdown()
        .contains("    the model's licence is apache-2.0"));
    insta::assert_snapshot!("command_reports_80x24", s);
    // /model v9: the worker's answer replaces "switching…" with the error.
    enter(&mut app, "/model v9");
    app.update(Event::Worker(WorkerMsg::Report {
        lines: vec!["no version v9: no version has been trained yet".into()],
        error: true,
    }));
    assert_eq!(app.turns.last().unwrap().input, "/model v9");
    assert!(matches!(last_body(&app), TurnBody::Error(e) if e.starts_with("no version v9")));
}

#[test]
fn model_v9_is_no_such_version() {
    let home = tempfile::tempdir().unwrap();
    let svc = fenci::service::Service::new(home.path());
    assert!(fenci::service::looks_like_version("v9"));
    assert!(!fenci::service::looks_like_version("vocab"));
    assert!(!fenci::service::looks_like_version("owner/v9"));
    let e = svc.switch("v9").unwrap_err().to_string();
    assert!(e.starts_with("no version v9"), "{e}");
    assert!(!e.contains("hub"), "{e}");
}

#[test]
fn training_is_reported_once_and_cancel_is_no_error() {
    let mut app = ready_app();
    enter(&mut app, "/train");
    app.update(Event::Worker(WorkerMsg::TrainDone(Ok(vec![
        "trained v1 on 1 correction in 2.0 s — 1/1 now come out as corrected (before: 0)".into(),
    ]))));
    let s = screen(&app, 80, 24);
    assert_eq!(s.matches("› /train").count(), 1, "{s}");
    assert!(s.contains("trained v1"), "{s}");
    // Esc during training: a plain notice.
    enter(&mut app, "/train");
    assert_eq!(app.update(key(KeyCode::Esc)), vec![Action::CancelTrain]);
    app.update(Event::Worker(WorkerMsg::TrainCancelled("v1".into())));
    assert_eq!(app.training, None);
    let s = screen(&app, 80, 24);
    assert_eq!(s.matches("› /train").count(), 2, "{s}");
    assert!(
        s.contains("training cancelled; nothing changed (the active model is still v1)"),
        "{s}"
    );
    assert!(!s.contains("error"), "{s}");
}

#[test]
fn help_aligns_and_indents_wrapped_lines() {
    let mut app = ready_app();
    enter(&mut app, "/help");
    let Some(TurnBody::Info(lines)) = app.turns.last().map(|t| &t.body) else {
        panic!()
    };
    // Every summary starts in one column.
    let col = |l: &str| {
        l.find("  ")
            .map(|p| p + l[p..].len() - l[p..].trim_start().len())
    };
    let cols: Vec<usize> = lines
        .iter()
        .filter(|l| l.starts_with('/'))
        .filter_map(|l| col(l).map(|c| fenci::tui::view::width(&l[..c])))
        .collect();
    assert!(cols.windows(2).all(|w| w[0] == w[1]), "{cols:?}");
    insta::assert_snapshot!("help_60x40", screen(&app, 60, 40));
}

#[test]
fn status_bar_keeps_the_seed_at_80_columns() {
    let app = ready_app();
    let s = screen(&app, 80, 24);
    let status = s.lines().last().unwrap();
    assert!(status.contains("seed 42"), "{status}");
    assert!(status.contains("default"), "{status}");
}

#[test]
fn examples_error_names_the_apps_command() {
    let e = fenci::generate::GenError::UnknownChars {
        word: "龘".into(),
        chars: "'龘'".into(),
    };
    let msg = fenci::tui::worker::examples_error(&e);
    assert!(msg.contains("/lm") && !msg.contains("--lm"), "{msg}");
    assert!(
        e.to_string().contains("--lm"),
        "the command line keeps its flag"
    );
}

#[test]
fn latin_words_are_not_repeated_as_pinyin() {
    let mut app = ready_app();
    ask(&mut app, &["hello", "world", "我", "爱", "北京"], &[]);
    let s = screen(&app, 80, 24);
    assert_eq!(
        s.matches("hello").count(),
        2,
        "the input and the word only:\n{s}"
    );
    insta::assert_snapshot!("latin_80x24", s);
}

#[test]
fn tone_colours_on_chips_card_and_demo() {
    let mut app = ready_app();
    ask(&mut app, &["我", "爱", "北京", "天安门"], &[]);
    insta::assert_snapshot!("tones_turn_80x24", colours(&app, 80, 24, true));
    // NO_COLOR: no colour at all.
    let plain = colours(&app, 80, 24, false);
    assert_eq!(plain, "", "{plain}");
    // The card.
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Enter));
    insta::assert_snapshot!("tones_card_80x24", colours(&app, 80, 24, true));
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Esc));
    // Teaching mode.
    enter(&mut app, "/demo");
    ask(
        &mut app,
        &["这", "本", "书", "我", "已经", "看", "完", "了"],
        &[],
    );
    for _ in 0..8 {
        app.update(key(KeyCode::Char(' ')));
    }
    insta::assert_snapshot!("tones_demo_80x24", colours(&app, 80, 24, true));
    // /tones off: the pinyin in one colour again, and the setting is saved.
    let acts = enter(&mut app, "/tones off");
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::SaveSettings(s) if !s.tone_colours)));
    let off = colours(&app, 80, 24, true);
    for c in ["LightRed«", "LightMagenta«"] {
        assert!(!off.contains(c), "{c} with tones off:\n{off}");
    }
}

#[test]
fn tone_colours_setting_survives_a_round_trip() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("settings.toml"),
        "tone_colours = false\nfuture_key = \"kept\"\n",
    )
    .unwrap();
    let (s, warning) = Settings::load(home.path());
    assert_eq!(warning, None);
    assert!(!s.tone_colours);
    s.save(home.path()).unwrap();
    let text = std::fs::read_to_string(home.path().join("settings.toml")).unwrap();
    assert!(
        text.contains("tone_colours = false") && text.contains("future_key"),
        "{text}"
    );
    assert!(Settings::default().tone_colours);
    let (bad, warning) = {
        std::fs::write(home.path().join("settings.toml"), "tone_colours = 3\n").unwrap();
        Settings::load(home.path())
    };
    assert!(bad.tone_colours && warning.is_some_and(|w| w.contains("true or false")));
}

#[test]
fn a_part_of_speech_the_model_is_not_sure_of_is_a_guess_on_the_card_and_absent_from_the_chip() {
    // 他去超市买东西: the model tags 买东西 a place name at about 0.5: the chip shows only
    // the HSK level, the card says the tag is a guess.
    let mut app = ready_app();
    let words = ["他", "去", "超市", "买东西"];
    let mut d = tagged_turn(&words, &["r", "v", "n", "ns"]);
    d.explanations[3].pos_unsure = true;
    ask_with(&mut app, &words.concat(), d);
    let s = screen(&app, 80, 24);
    assert!(s.contains("noun"), "{s}");
    assert!(!s.contains("place name"), "{s}");
    open_card(&mut app, 3);
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("part of speech: not sure (the model's guess: ns"),
        "{s}"
    );
}

#[test]
fn the_card_says_which_sense_the_sentence_calls_for() {
    // 点 in 多穿点衣服 is 一点 "a little": the card lists every sense of 点 and says which one
    // applies here; 衣服 has one sense, so the card adds nothing.
    let mut app = ready_app();
    let words = ["你", "多", "穿", "点", "衣服", "吧"];
    let d = tagged_turn(&words, &["r", "a", "v", "q", "n", "y"]);
    ask_with(&mut app, &words.concat(), d);
    open_card(&mut app, 3);
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("meaning here: a bit; a little (as in 一点)"),
        "{s}"
    );
    assert!(s.contains("1. point"), "{s}");
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Right));
    app.update(key(KeyCode::Enter));
    assert_eq!(app.mode, Mode::Detail(0, 4));
    let s = screen(&app, 80, 24);
    assert!(s.contains("clothes") && !s.contains("meaning here"), "{s}");
}

#[test]
fn snapshot_parts_of_speech_readings_and_levels() {
    // 我还没还你钱: the second 还 is a verb before a pronoun, read huán; chips say the part of
    // speech and the HSK level, the card the tag's meaning and the reading chosen.
    let mut app = ready_app();
    let words = ["我", "还", "没", "还", "你", "钱"];
    let d = tagged_turn(&words, &["r", "d", "d", "v", "r", "n"]);
    assert_eq!(d.explanations[1].pinyin, "hái");
    assert_eq!(d.explanations[3].pinyin, "huán");
    ask_with(&mut app, &words.concat(), d);
    let s = screen(&app, 80, 24);
    assert!(s.contains("huán"), "{s}");
    assert!(s.contains("verb"), "{s}");
    insta::assert_snapshot!("tagged_80x24", s);
    open_card(&mut app, 3);
    let s = screen(&app, 80, 24);
    assert!(s.contains("part of speech: v"), "{s}");
    assert!(s.contains("read here as huán"), "{s}");
    insta::assert_snapshot!("tagged_detail_80x24", s);
}
