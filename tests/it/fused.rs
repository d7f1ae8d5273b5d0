//! The fused inference layers (`from_tensors(…, fuse = true)`: fenci's kernels, AVX-512 where
//! the CPU has it) against candle's plain ops (`fuse = false`): the same logits to 1e-4 at every
//! position that is not padding.
use std::collections::HashMap;

use candle_core::{Device, Tensor};
use fenci::kernels::FusedAttention;
use fenci::segment::CharTokenizer;
use fenci::tagger::{init_tensors, BertConfig, BertTagger, LabelScheme, ModelFiles};

/// A batch: token ids, token types and the 0/1 mask, `[batch][seq]` each.
struct Batch {
    ids: Vec<Vec<u32>>,
    types: Vec<Vec<u32>>,
    mask: Vec<Vec<u32>>,
}

impl Batch {
    fn tensor(rows: &[Vec<u32>]) -> Tensor {
        let shape = (rows.len(), rows.first().map_or(0, Vec::len));
        Tensor::from_vec(rows.concat(), shape, &Device::Cpu).unwrap()
    }
}

/// Logits `[batch][seq][labels]` of `batch` through the tagger built with `fuse`.
fn logits(
    cfg: &BertConfig,
    tensors: &HashMap<String, Tensor>,
    fuse: bool,
    batch: &Batch,
) -> Vec<Vec<Vec<f32>>> {
    let tagger = BertTagger::from_tensors(cfg, tensors, fuse).unwrap();
    let (ids, types, mask) = (
        Batch::tensor(&batch.ids),
        Batch::tensor(&batch.types),
        Batch::tensor(&batch.mask),
    );
    let out = tagger.forward(&ids, &types, &mask, None).unwrap();
    out.to_vec3().unwrap()
}

/// The largest |fused − plain| over the logits of positions the mask keeps, and whether any
/// logit there differs in its bits.
fn compare(cfg: &BertConfig, tensors: &HashMap<String, Tensor>, batch: &Batch) -> (f32, bool) {
    let fused = logits(cfg, tensors, true, batch);
    let plain = logits(cfg, tensors, false, batch);
    let (mut worst, mut differ) = (0f32, false);
    for (b, keep) in batch.mask.iter().enumerate() {
        for (t, _) in keep.iter().enumerate().filter(|(_, &m)| m == 1) {
            for (x, y) in fused[b][t].iter().zip(&plain[b][t]) {
                assert!(x.is_finite() && y.is_finite(), "logit {x} / {y}");
                worst = worst.max((x - y).abs());
                differ |= x.to_bits() != y.to_bits();
            }
        }
    }
    (worst, differ)
}

/// xorshift64: deterministic test data without a seeded candle RNG.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// A random tagger's tensors: `init_tensors`, with the biases and LayerNorm parameters moved
/// off 0 and 1 (so a bias added in the wrong place shows) and the weights five times larger (so
/// attention is far from uniform and the mask matters).
fn random_tensors(cfg: &BertConfig, seed: u64) -> HashMap<String, Tensor> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    init_tensors(cfg, 4, seed)
        .unwrap()
        .into_iter()
        .map(|(name, t)| {
            let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
            let v: Vec<f32> = if name.ends_with("LayerNorm.weight") || name.ends_with(".bias") {
                v.iter().map(|&x| x + 0.2 * rng.unit()).collect()
            } else {
                v.iter().map(|&x| 5.0 * x).collect()
            };
            let t = Tensor::from_vec(v, t.shape(), &Device::Cpu).unwrap();
            (name, t)
        })
        .collect()
}

/// `lens.len()` sequences padded to the longest: random ids in 5..vocab, [PAD] (0) and mask 0
/// after each sequence's length.
fn random_batch(rng: &mut Rng, vocab: u32, lens: &[usize]) -> Batch {
    let t = lens.iter().copied().max().unwrap_or(0);
    let ids = lens
        .iter()
        .map(|&n| {
            (0..t)
                .map(|i| {
                    if i < n {
                        5 + (rng.next() % u64::from(vocab - 5)) as u32
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect();
    let mask = lens
        .iter()
        .map(|&n| (0..t).map(|i| u32::from(i < n)).collect())
        .collect();
    Batch {
        ids,
        types: vec![vec![0; t]; lens.len()],
        mask,
    }
}

#[test]
fn fused_layers_give_the_plain_paths_logits() {
    // Heads of 16 and 32 go through SplitHeads and MaskedSoftmax; heads of 64 through
    // FusedAttention where the CPU has AVX-512, else the same.
    assert!(!FusedAttention::supported(16) && !FusedAttention::supported(32));
    if std::env::var_os("FENCI_REQUIRE_AVX512").is_some_and(|v| v == "1") {
        assert!(
            FusedAttention::supported(64),
            "FENCI_REQUIRE_AVX512=1, but this CPU lacks avx512f"
        );
    }
    let mut rng = Rng(0x5eed);
    for (hidden, heads) in [(64, 2), (64, 4), (128, 2), (128, 4)] {
        let cfg = BertConfig::new_tagger(300, 2, hidden, heads, 96, &LabelScheme::bmes());
        let tensors = random_tensors(&cfg, hidden as u64 * 10 + heads as u64);
        // Longer than a panel of 64 keys, padding in every sequence but the first, one
        // sequence of a single token; then a batch large enough for the kernels' threads.
        for lens in [vec![70, 41, 64, 1], vec![9; 40]] {
            let batch = random_batch(&mut rng, 300, &lens);
            let (worst, differ) = compare(&cfg, &tensors, &batch);
            let what = format!("hidden {hidden}, {heads} heads, lengths {lens:?}");
            assert!(worst < 1e-4, "{what}: logits differ by {worst}");
            // The fused layers compute GELU and the sums in another order: some bits differ,
            // or the fused path did not run. (The stacked q/k/v projection `fuse` also builds
            // does not change the bits: with erf GELU, which has no fused layers, both paths
            // gave the same logits when this test was written.)
            assert!(
                differ,
                "{what}: bit-identical logits, so the fused layers did not run"
            );
        }
    }
}

#[test]
fn fused_layers_give_the_plain_paths_logits_for_the_default_model() {
    // Hidden 256 in 4 heads of 64, dictionary features: real ids and token types.
    let files = ModelFiles::embedded().unwrap();
    let tok = CharTokenizer::new(&files.vocab)
        .unwrap()
        .with_features(files.features.clone());
    let lines = [
        "我爱北京天安门",
        "国务院总理李鹏今天会见了来访的客人。",
        "他說這個電腦太貴了",
        "I love 北京, see https://example.com/路径 😀",
    ];
    let units: Vec<_> = lines.iter().map(|l| tok.units(l)).collect();
    let t = units.iter().map(|u| u.len() + 2).max().unwrap();
    let mut batch = Batch {
        ids: vec![],
        types: vec![],
        mask: vec![],
    };
    for u in &units {
        let n = u.len();
        let mut ids = vec![tok.pad; t];
        ids[0] = tok.cls;
        ids[1..=n].copy_from_slice(&u.ids);
        ids[n + 1] = tok.sep;
        let mut types = vec![0; t];
        types[1..=n].copy_from_slice(&u.types);
        batch.ids.push(ids);
        batch.types.push(types);
        batch
            .mask
            .push((0..t).map(|i| u32::from(i < n + 2)).collect());
    }
    assert!(
        batch.types.iter().flatten().any(|&x| x != 0),
        "no dictionary features"
    );
    let (worst, differ) = compare(&files.config, &files.tensors, &batch);
    assert!(worst < 1e-4, "logits differ by {worst}");
    assert!(
        differ,
        "bit-identical logits, so the fused layers did not run"
    );
}
