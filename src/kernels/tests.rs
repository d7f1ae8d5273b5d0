//! Tests of the kernels: each fused op against candle's ops, the AVX-512 paths against the
//! portable ones (bit for bit where the arithmetic is the same), and the BF16 rounding.
//!
//! A machine without AVX-512 passes the AVX-512 comparisons without running them, unless
//! `FENCI_REQUIRE_AVX512=1`: then they fail, so a CI runner meant to test those paths cannot
//! pass silently without them.

use candle_core::{DType, Device, Tensor};

use super::packed::{bf16_pair, to_bf16};
use super::rows::{self, exp_approx};
use super::*;

/// Whether the CPU itself has AVX-512F, whatever `FENCI_NO_AVX512` says.
#[cfg(target_arch = "x86_64")]
fn cpu_has_avx512f() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has_avx512f() -> bool {
    false
}

/// Whether `FENCI_REQUIRE_AVX512=1`: this machine is meant to test the AVX-512 kernels.
fn required() -> bool {
    std::env::var_os("FENCI_REQUIRE_AVX512").is_some_and(|v| v == "1")
}

/// Panics when the AVX-512 kernels are [`required`] but cannot run here.
fn assert_avx512_if_required() {
    if required() {
        assert!(
            cpu_has_avx512f(),
            "FENCI_REQUIRE_AVX512=1, but this CPU lacks avx512f: the AVX-512 kernels cannot be tested here"
        );
        assert!(
            avx512::enabled(),
            "FENCI_REQUIRE_AVX512=1, but FENCI_NO_AVX512 turns the AVX-512 kernels off"
        );
    }
}

/// Whether the AVX-512 kernels run here, for a test that compares them with the portable
/// paths and would otherwise pass without running them; panics instead of answering no when
/// they are [`required`].
fn avx512_or_required() -> bool {
    assert_avx512_if_required();
    avx512::enabled()
}

#[test]
fn avx512_is_present_when_required() {
    assert_avx512_if_required();
}

#[test]
fn exp_and_gelu_match_libm() {
    let mut worst_exp = 0f32;
    let mut worst_gelu = 0f32;
    for i in -20_000..=20_000 {
        let x = i as f32 * 0.001;
        worst_exp = worst_exp.max((exp_approx(x) - x.exp()).abs() / x.exp());
        let want = 0.5 * x * (1.0 + (0.797_884_6 * (x + 0.044_715 * x * x * x)).tanh());
        worst_gelu = worst_gelu.max((gelu_tanh(x) - want).abs());
    }
    assert!(worst_exp < 2e-6, "exp relative error {worst_exp}");
    assert!(worst_gelu < 1e-5, "gelu absolute error {worst_gelu}");
    assert!(gelu_tanh(-1e4).abs() < 1e-30);
    assert_eq!(gelu_tanh(1e4), 1e4);
    assert!(gelu_tanh(f32::NAN).is_nan());
}

#[test]
fn fused_ops_equal_candles_ops() -> candle_core::Result<()> {
    let dev = Device::Cpu;
    // Big enough to take the threaded path.
    let x = Tensor::randn(0f32, 2.0, (300, 256), &dev)?;
    let r = Tensor::randn(0f32, 1.0, (300, 256), &dev)?;
    let b = Tensor::randn(0f32, 0.5, 256, &dev)?;
    let g = Tensor::randn(1f32, 0.1, 256, &dev)?;
    let be = Tensor::randn(0f32, 0.1, 256, &dev)?;
    let want = x.broadcast_add(&b)?.gelu()?;
    let got = x.apply_op1_no_bwd(&BiasGelu::new(&b)?)?;
    let diff = (want - got)?.abs()?.max_all()?.to_scalar::<f32>()?;
    assert!(diff < 1e-5, "gelu differs by {diff}");

    let want = candle_nn::ops::layer_norm(&(x.broadcast_add(&b)? + &r)?, &g, &be, 1e-12)?;
    let op = BiasResidualNorm::new(&b, &g, &be, 1e-12)?;
    let got = x.apply_op2_no_bwd(&r, &op)?;
    let diff = (want - got)?.abs()?.max_all()?.to_scalar::<f32>()?;
    assert!(diff < 1e-4, "layer norm differs by {diff}");
    // Small inputs run on one thread and agree too; shapes are checked.
    let small = x.narrow(0, 0, 3)?.contiguous()?;
    let rs = r.narrow(0, 0, 3)?.contiguous()?;
    let a = small.apply_op2_no_bwd(&rs, &op)?;
    let full = x.apply_op2_no_bwd(&r, &op)?.narrow(0, 0, 3)?;
    assert_eq!(a.to_vec2::<f32>()?, full.to_vec2::<f32>()?);
    assert!(small.apply_op2_no_bwd(&r, &op).is_err());
    assert!(x.t()?.apply_op1_no_bwd(&BiasGelu::new(&b)?).is_err());
    Ok(())
}

#[test]
fn attention_kernels_equal_candles_ops() -> candle_core::Result<()> {
    let dev = Device::Cpu;
    let (b, t, nh, hd) = (3, 40, 4, 8);
    let h = nh * hd;
    let y = Tensor::randn(0f32, 1.0, (b * t, 3 * h), &dev)?;
    let bias = Tensor::randn(0f32, 1.0, 3 * h, &dev)?;
    let scale = 0.125f32;
    let op = SplitHeads {
        bias: &bias.to_vec1::<f32>()?,
        batch: b,
        heads: nh,
        scale,
    };
    let got = y.apply_op1_no_bwd(&op)?;
    let yb = y.broadcast_add(&bias)?;
    let heads = |i: usize| -> candle_core::Result<Tensor> {
        yb.narrow(1, i * h, h)?
            .reshape((b, t, nh, hd))?
            .transpose(1, 2)?
            .contiguous()
    };
    let diff = |a: &Tensor, b: &Tensor| -> candle_core::Result<f32> {
        (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
    };
    assert!(diff(&got.get(0)?, &(heads(0)? * scale as f64)?)? < 1e-6);
    assert!(diff(&got.get(1)?, &heads(1)?)? < 1e-6);
    assert!(diff(&got.get(2)?, &heads(2)?)? < 1e-6);

    // Masked softmax = adding -1e4 at padding, then softmax.
    let scores = Tensor::randn(0f32, 3.0, (b, nh, t, t), &dev)?;
    let mut m = vec![1f32; b * t];
    m[t - 5..t].fill(0.0); // sequence 0: 5 padding positions
    m[2 * t - 1] = 0.0;
    let mask = Tensor::from_vec(m, (b, t), &dev)?;
    let add = ((mask.clone() - 1.0)? * 1e4)?.reshape((b, 1, 1, t))?;
    let want = candle_nn::ops::softmax_last_dim(&scores.broadcast_add(&add)?)?;
    let got = scores.apply_op2_no_bwd(&mask, &MaskedSoftmax)?;
    assert!(diff(&got, &want)? < 1e-6);
    let zero = Tensor::zeros((b, t), DType::F32, &dev)?;
    let none = scores.apply_op2_no_bwd(&zero, &MaskedSoftmax)?;
    assert_eq!(none.abs()?.sum_all()?.to_scalar::<f32>()?, 0.0);
    assert!(scores
        .apply_op2_no_bwd(&mask.narrow(1, 0, 4)?, &MaskedSoftmax)
        .is_err());
    Ok(())
}

#[test]
fn packed_matmul_equals_candles() -> candle_core::Result<()> {
    let dev = Device::Cpu;
    let w = Tensor::randn(0f32, 0.1, (192, 80), &dev)?;
    let packed = MatMulT::new(&w)?;
    assert_eq!(packed.is_packed(), avx512_or_required());
    let plain = MatMulT::portable(&w);
    // Row counts around the 6-row block, and one big enough for threads; 3-d inputs.
    for rows in [1usize, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 500] {
        let x = Tensor::randn(0f32, 1.0, (rows, 80), &dev)?;
        let want = plain.forward(&x)?;
        let got = packed.forward(&x)?;
        assert_eq!(got.dims(), &[rows, 192]);
        let diff = (want - got)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-4, "{rows} rows differ by {diff}");
    }
    // In fenci's kernel a row's product does not depend on the block it falls in (six, the
    // rest, or alone): the same bits. (candle's gemm orders its sums by the shape.)
    if packed.is_packed() {
        let x = Tensor::randn(0f32, 1.0, (11, 80), &dev)?;
        let all = packed.forward(&x)?.to_vec2::<f32>()?;
        for (r, row) in all.iter().enumerate() {
            let alone = packed.forward(&x.narrow(0, r, 1)?)?.to_vec2::<f32>()?;
            assert_eq!(row, &alone[0], "row {r} of 11");
        }
    }
    let x = Tensor::randn(0f32, 1.0, (2, 9, 80), &dev)?;
    let got = packed.forward(&x)?;
    assert_eq!(got.dims(), &[2, 9, 192]);
    let diff = (plain.forward(&x)? - got)?
        .abs()?
        .max_all()?
        .to_scalar::<f32>()?;
    assert!(diff < 1e-4, "3-d input differs by {diff}");
    // A width that is not a multiple of 64 columns, and a wrong input width.
    assert!(!MatMulT::new(&Tensor::zeros((100, 80), DType::F32, &dev)?)?.is_packed());
    assert!(packed
        .forward(&Tensor::zeros((3, 81), DType::F32, &dev)?)
        .is_err());
    Ok(())
}

#[test]
fn row_kernels_give_the_baseline_builds_bits() {
    // Without AVX-512 both sides run the baseline build.
    avx512_or_required();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 40) as f32 / (1u64 << 24) as f32 * 8.0 - 4.0
    };
    for d in [1usize, 7, 16, 37, 256, 1024] {
        let v = |next: &mut dyn FnMut() -> f32| (0..d).map(|_| next()).collect::<Vec<f32>>();
        let (x, r, b, g, be) = (
            v(&mut next),
            v(&mut next),
            v(&mut next),
            v(&mut next),
            v(&mut next),
        );
        let keep: Vec<f32> = x.iter().map(|&x| f32::from(x > -2.0)).collect();
        let (mut fast, mut base) = (x.clone(), x.clone());
        rows::bias_gelu_row(&mut fast, &b);
        rows::bias_gelu_row_baseline(&mut base, &b);
        assert_eq!(fast, base, "gelu, width {d}");
        let (mut fast, mut base) = (x.clone(), x.clone());
        rows::bias_residual_norm_row(&mut fast, &r, &b, &g, &be, 1.0 / d as f32, 1e-12);
        rows::bias_residual_norm_row_baseline(&mut base, &r, &b, &g, &be, 1.0 / d as f32, 1e-12);
        assert_eq!(fast, base, "layer norm, width {d}");
        let (mut fast, mut base) = (x.clone(), x);
        rows::masked_softmax_row(&mut fast, &keep);
        rows::masked_softmax_row_baseline(&mut base, &keep);
        assert_eq!(fast, base, "softmax, width {d}");
    }
}

#[test]
fn bf16_matmul_is_close_to_f32_and_switches_back() -> candle_core::Result<()> {
    let dev = Device::Cpu;
    let w = Tensor::randn(0f32, 0.1, (128, 80), &dev)?;
    let x = Tensor::randn(0f32, 1.0, (500, 80), &dev)?;
    let want = MatMulT::portable(&w).forward(&x)?;
    let mut m = MatMulT::new(&w)?;
    assert!(m.set_precision(Precision::F32));
    // FENCI_REQUIRE_AVX512 asks for AVX-512F only: without AVX512-BF16 this part is skipped.
    if !avx512_or_required() || !avx512::bf16_enabled() {
        assert!(!m.set_precision(Precision::Bf16), "no AVX512-BF16 here");
        return Ok(());
    }
    assert!(m.set_precision(Precision::Bf16));
    for rows in [1usize, 7, 8, 9, 10, 11, 500] {
        let x = x.narrow(0, 0, rows)?;
        let diff = (want.narrow(0, 0, rows)? - m.forward(&x)?)?
            .abs()?
            .max_all()?
            .to_scalar::<f32>()?;
        // Outputs are ~0.9 in size; BF16 keeps 8 significant bits of each input.
        assert!(diff < 0.03, "{rows} rows: BF16 differs by {diff}");
        assert!(
            rows == 1 || diff > 1e-5,
            "{rows} rows: BF16 did not run ({diff})"
        );
    }
    assert!(m.set_precision(Precision::F32));
    let diff = (want - m.forward(&x)?)?
        .abs()?
        .max_all()?
        .to_scalar::<f32>()?;
    assert!(diff < 1e-4, "back in F32, differs by {diff}");
    // An odd inner size has no BF16 pairs: F32 is kept.
    let mut odd = MatMulT::new(&Tensor::randn(0f32, 0.1, (64, 81), &dev)?)?;
    assert!(!odd.set_precision(Precision::Bf16));
    Ok(())
}

#[test]
fn bf16_rounding_is_the_same_in_vectors_and_scalars() {
    if !avx512_or_required() || !avx512::bf16_enabled() {
        return;
    }
    let x: Vec<f32> = (0..1000)
        .map(|i| (i as f32 * 0.7131).sin() * 10f32.powi(i % 7 - 3))
        .chain([
            1.0 + f32::EPSILON,
            1.0 + 2f32.powi(-8),
            1.0 + 3.0 * 2f32.powi(-8),
            -0.0,
            65504.0,
            3.0e38,
        ])
        .collect();
    let x = &x[..x.len() / 2 * 2];
    let fast = avx512::bf16_pairs(x);
    let slow: Vec<u32> = x.chunks_exact(2).map(|p| bf16_pair(p[0], p[1])).collect();
    assert_eq!(fast, slow);
    // Ties go to even: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 (odd), 1 + 3·2^-8
    // halfway between 1 + 2^-7 and 1 + 2^-6 (even).
    assert_eq!(to_bf16(1.0 + 2f32.powi(-8)), to_bf16(1.0));
    assert_eq!(
        to_bf16(1.0 + 3.0 * 2f32.powi(-8)),
        to_bf16(1.0 + 2f32.powi(-6))
    );
}

#[test]
fn fused_attention_equals_candles_ops() -> candle_core::Result<()> {
    let dev = Device::Cpu;
    if !avx512_or_required() {
        assert!(!FusedAttention::supported(64));
        return Ok(());
    }
    assert!(FusedAttention::supported(64) && FusedAttention::supported(128));
    assert!(!FusedAttention::supported(8) && !FusedAttention::supported(0));
    // Sequences shorter and longer than a panel of 64 keys, heads of 64 and 128, one
    // position, and enough sequences for threads.
    for (b, t, nh, hd) in [
        (3usize, 40usize, 2usize, 64usize),
        (1, 1, 1, 64),
        (2, 70, 1, 128),
        (40, 30, 4, 64),
    ] {
        let h = nh * hd;
        let y = Tensor::randn(0f32, 1.0, (b * t, 3 * h), &dev)?;
        let bias = Tensor::randn(0f32, 1.0, 3 * h, &dev)?;
        let scale = 1.0 / (hd as f32).sqrt();
        let mut m = vec![1f32; b * t];
        if t > 5 {
            m[t - 5..t].fill(0.0); // sequence 0: 5 padding positions
            m[b * t - 1] = 0.0;
        }
        let mask = Tensor::from_vec(m, (b, t), &dev)?;
        // candle: bias, split heads, scores + additive mask, softmax, weighted values.
        let yb = y.broadcast_add(&bias)?;
        let heads = |i: usize| -> candle_core::Result<Tensor> {
            yb.narrow(1, i * h, h)?
                .reshape((b, t, nh, hd))?
                .transpose(1, 2)?
                .contiguous()
        };
        let (q, k, v) = ((heads(0)? * scale as f64)?, heads(1)?, heads(2)?);
        let add = ((mask.clone() - 1.0)? * 1e4)?.reshape((b, 1, 1, t))?;
        let p = candle_nn::ops::softmax_last_dim(
            &q.matmul(&k.t()?.contiguous()?)?.broadcast_add(&add)?,
        )?;
        let want = p
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b * t, h))?;
        let op = FusedAttention {
            bias: &bias.to_vec1::<f32>()?,
            heads: nh,
            scale,
        };
        let got = y.apply_op2_no_bwd(&mask, &op)?;
        let diff = (got - want)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(
            diff < 1e-5,
            "{b}×{t}, {nh} heads of {hd}: differs by {diff}"
        );
    }
    // Shapes that do not fit are errors, not panics.
    let y = Tensor::zeros((6, 384), DType::F32, &dev)?;
    let bias = [0f32; 384];
    let op = |heads| FusedAttention {
        bias: &bias,
        heads,
        scale: 1.0,
    };
    let mask = Tensor::ones((2, 3), DType::F32, &dev)?;
    assert!(y.apply_op2_no_bwd(&mask, &op(2)).is_ok());
    assert!(y.apply_op2_no_bwd(&mask, &op(3)).is_err());
    assert!(y.apply_op2_no_bwd(&mask, &op(4)).is_err());
    assert!(y.apply_op2_no_bwd(&mask, &op(0)).is_err());
    assert!(y
        .apply_op2_no_bwd(&Tensor::ones((2, 4), DType::F32, &dev)?, &op(2))
        .is_err());
    Ok(())
}
