//! Criterion benches for the slow parts around segmentation: start-up (in-process model loads
//! and the whole `fenci segment` process), one training step of the tagger and of the LM, and
//! generation (first token, tokens per second).
//! Run: `cargo bench --bench pipeline`.
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fenci::generate::{Ask, Generator, Sampling};
use fenci::segment::Segmenter;
use fenci::tagger::ModelFiles;
use fenci::train::{self, LmTrainConfig, LmTrainer, TrainConfig, Trainer};

const GOLD: &str = include_str!("../data/replay/pku1998-train-sample.txt");

fn startup(c: &mut Criterion) {
    let mut g = c.benchmark_group("startup");
    g.bench_function("load_default_segmenter", |b| {
        b.iter(|| Segmenter::new(&ModelFiles::embedded().unwrap()).unwrap())
    });
    g.bench_function("load_default_lm", |b| {
        b.iter(|| Generator::embedded().unwrap())
    });
    let home = tempfile::tempdir().unwrap();
    g.bench_function("process_echo_nihao_segment", |b| {
        b.iter(|| {
            let mut child = Command::new(env!("CARGO_BIN_EXE_fenci"))
                .args(["segment", "--model", "default"])
                .env("FENCI_HOME", home.path())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all("你好\n".as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success());
        })
    });
    g.finish();
}

fn training(c: &mut Criterion) {
    let gold = train::read_gold(GOLD);
    // 16 sentences cut to about 64 characters: one batch of ~1k tokens.
    let batch: Vec<Vec<String>> = gold
        .iter()
        .map(|s| {
            let mut n = 0;
            s.iter()
                .take_while(|w| {
                    n += w.chars().count();
                    n <= 64
                })
                .cloned()
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .take(16)
        .collect();
    let base = ModelFiles::embedded().unwrap();
    let mut g = c.benchmark_group("train_step");
    g.sample_size(10);
    for freeze in [0usize, 1] {
        g.bench_function(format!("tagger_16x64_freeze{freeze}"), |b| {
            b.iter(|| {
                Trainer {
                    init: base.clone(),
                    train: &batch,
                    dev: &[],
                    cfg: TrainConfig {
                        epochs: 1,
                        batch_tokens: 4096,
                        freeze,
                        checkpoint_every: 0,
                        ..TrainConfig::default()
                    },
                    out: None,
                    f16: false,
                    resume: false,
                }
                .run(&AtomicBool::new(false), |_| {})
                .unwrap()
            })
        });
    }
    let lm = fenci::lm::LmFiles::embedded().unwrap();
    let sents: Vec<String> = batch.iter().map(|w| w.concat()).collect();
    g.bench_function("lm_16x64", |b| {
        b.iter(|| {
            LmTrainer {
                init: lm.clone(),
                train: &sents,
                dev: &[],
                cfg: LmTrainConfig {
                    epochs: 1,
                    batch_tokens: 4096,
                    checkpoint_every: 0,
                    ..Default::default()
                },
                out: None,
                f16: false,
                resume: false,
            }
            .run(&AtomicBool::new(false), |_| {})
            .unwrap()
        })
    });
    g.finish();
}

fn generation(c: &mut Criterion) {
    let mut gen = Generator::embedded().unwrap();
    let no = AtomicBool::new(false);
    let mut g = c.benchmark_group("generate");
    let first = Sampling {
        max_tokens: 1,
        ..Default::default()
    };
    g.bench_function("first_token", |b| {
        b.iter(|| gen.generate("今天", &first, &no, |_| {}).unwrap())
    });
    // Greedy with the repetition penalty off still stops at an end token; count what came.
    let s = Sampling {
        temperature: 0.8,
        max_tokens: 32,
        stop: vec![],
        ..Default::default()
    };
    let n = gen.generate("今天", &s, &no, |_| {}).unwrap().stats.tokens as u64;
    g.throughput(Throughput::Elements(n.max(1)));
    g.bench_function("sample_tokens_t0.8", |b| {
        b.iter(|| gen.generate("今天", &s, &no, |_| {}).unwrap())
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("one_example_sentence", |b| {
        b.iter(|| {
            gen.examples(&Ask::new("学习", 1), &Sampling::default(), &no, |_| {})
                .unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = all;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = startup, training, generation
}
criterion_main!(all);
