//! Criterion benches: segmentation by sentence length, batch throughput, explanation lookup,
//! one whole TUI turn (segment + explain + alternatives) and rendering it.
//! Run: `cargo bench --bench segment`.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fenci::explain::{explain, Dictionary};
use fenci::segment::Segmenter;
use fenci::store::Settings;
use fenci::tagger::ModelFiles;
use fenci::tui::app::{App, Event, WorkerMsg};
use fenci::tui::view::{render, Theme};
use ratatui::{backend::TestBackend, Terminal};

const TEXT: &str = "中国人民银行今天宣布，从明年一月一日起下调金融机构人民币存贷款基准利率，以支持实体经济发展。\
我们周末去公园散步吧，天气预报说明天会下雨，记得带伞。这家餐厅的服务很好，菜也做得很好吃，下次还会再来。";

fn sentence(n: usize) -> String {
    TEXT.chars().cycle().take(n).collect()
}

fn benches(c: &mut Criterion) {
    let seg = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    let dict = Dictionary::embedded();
    let mut g = c.benchmark_group("segment");
    for n in [5usize, 20, 100, 1000] {
        let s = sentence(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("chars", n), &s, |b, s| {
            b.iter(|| seg.segment(s).unwrap())
        });
    }
    let lines: Vec<String> = (0..64).map(|i| sentence(20 + (i * 7) % 60)).collect();
    let total: usize = lines.iter().map(|l| l.chars().count()).sum();
    g.throughput(Throughput::Elements(total as u64));
    g.bench_function("batch_64_lines", |b| {
        b.iter(|| seg.segment_batch(&lines).unwrap())
    });
    // The same with BF16 matrix products, where the CPU has AVX512-BF16.
    let mut bf16 = Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap();
    if bf16.set_precision(fenci::kernels::Precision::Bf16) {
        g.bench_function("batch_64_lines_bf16", |b| {
            b.iter(|| bf16.segment_batch(&lines).unwrap())
        });
    }
    g.finish();

    c.bench_function("explain_word", |b| b.iter(|| explain(dict, "银行")));
    let s20 = sentence(20);
    c.bench_function("tui_turn_20_chars", |b| {
        b.iter(|| fenci::tui::analyse(&seg, dict, &s20).unwrap())
    });
    let mut app = App::new(Settings::default(), vec![]);
    for c in s20.chars() {
        app.update(Event::Key(ratatui::crossterm::event::KeyEvent::from(
            ratatui::crossterm::event::KeyCode::Char(c),
        )));
    }
    let acts = app.update(Event::Key(ratatui::crossterm::event::KeyEvent::from(
        ratatui::crossterm::event::KeyCode::Enter,
    )));
    let id = acts
        .iter()
        .find_map(|a| match a {
            fenci::tui::app::Action::Segment(v) => Some(v[0].0),
            _ => None,
        })
        .unwrap();
    app.update(Event::Worker(WorkerMsg::Turn {
        id,
        result: fenci::tui::analyse(&seg, dict, &s20)
            .map(Box::new)
            .map_err(|e| e.to_string()),
    }));
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let th = Theme { color: true };
    c.bench_function("render_turn_80x24", |b| {
        b.iter(|| {
            term.draw(|f| render(&app, f, &th)).unwrap();
        })
    });
}

criterion_group! {
    name = all;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(all);
