//! Row kernels: one row of bias + tanh-GELU, bias + residual + LayerNorm or masked softmax at a
//! time, with a polynomial `exp` and sums in eight lanes so the loops vectorise.
//!
//! The `*_baseline` functions here are the portable builds. The functions of the same name
//! without the suffix, re-exported here, live in `avx512.rs`: they run these bodies compiled for
//! AVX-512F when the CPU has it, else the baseline.

pub(super) use super::avx512::{bias_gelu_row, bias_residual_norm_row, masked_softmax_row};

/// `e^x` to ~1e-6 relative error, branch-free so loops over it vectorise.
#[inline(always)]
pub(super) fn exp_approx(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // Round to nearest by the 1.5·2^23 trick (valid for |t| < 2^22).
    const ROUND: f32 = 12_582_912.0;
    let t = x.clamp(-87.0, 88.0) * LOG2E;
    let shifted = t + ROUND;
    let n = shifted - ROUND;
    // f in [-0.5, 0.5]; n as an integer is read from the mantissa of `shifted` (an `as i32`
    // cast would saturate, which costs instructions in a vectorised loop).
    let f = t - n;
    let n_int = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    // 2^f = e^(f ln 2), Taylor to degree 6.
    let p = 1.0
        + f * (std::f32::consts::LN_2
            + f * (0.240_226_5
                + f * (0.055_504_11
                    + f * (0.009_618_129 + f * (0.001_333_355_8 + f * 0.000_154_035_3)))));
    p * f32::from_bits(((n_int + 127) as u32) << 23)
}

/// tanh-approximated GELU (`gelu_new`): `0.5 x (1 + tanh(u)) = x / (1 + e^(-2u))` with
/// `u = √(2/π) (x + 0.044715 x³)`.
#[inline(always)]
pub fn gelu_tanh(x: f32) -> f32 {
    let u = 0.797_884_6 * (x + 0.044_715 * x * x * x);
    x / (1.0 + exp_approx(-2.0 * u))
}

/// Folds `x` in eight interleaved lanes (`step` adds one value to a lane), then `join`s the
/// lanes: a plain float fold cannot be reordered, so it would not vectorise.
#[inline(always)]
fn fold8(
    x: &[f32],
    init: f32,
    step: impl Fn(f32, f32) -> f32,
    join: impl Fn(f32, f32) -> f32,
) -> f32 {
    let mut acc = [init; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder().iter().fold(init, |a, &v| step(a, v));
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = step(*a, v);
        }
    }
    acc.into_iter().fold(rest, join)
}

#[inline(always)]
fn sum8(x: &[f32]) -> f32 {
    fold8(x, 0.0, |a, v| a + v, |a, b| a + b)
}

#[inline(always)]
fn sum_squares8(x: &[f32]) -> f32 {
    fold8(x, 0.0, |a, v| a + v * v, |a, b| a + b)
}

#[inline(always)]
fn max8(x: &[f32]) -> f32 {
    fold8(x, f32::NEG_INFINITY, f32::max, f32::max)
}

/// `o = gelu_tanh(o + bias)`; the baseline build of [`bias_gelu_row`].
#[inline(always)]
pub(super) fn bias_gelu_row_baseline(o: &mut [f32], bias: &[f32]) {
    for (o, &b) in o.iter_mut().zip(bias) {
        *o = gelu_tanh(*o + b);
    }
}

/// `o = LayerNorm(o + r + bias)` with `gamma`, `beta`; `inv_d` = 1 / width. The baseline build
/// of [`bias_residual_norm_row`].
#[inline(always)]
pub(super) fn bias_residual_norm_row_baseline(
    o: &mut [f32],
    r: &[f32],
    bias: &[f32],
    gamma: &[f32],
    beta: &[f32],
    inv_d: f32,
    eps: f32,
) {
    for ((o, &r), &b) in o.iter_mut().zip(r).zip(bias) {
        *o = *o + r + b;
    }
    let mean = sum8(o) * inv_d;
    for o in o.iter_mut() {
        *o -= mean;
    }
    let var = sum_squares8(o);
    let inv = 1.0 / (var * inv_d + eps).sqrt();
    for ((o, &g), &b) in o.iter_mut().zip(gamma).zip(beta) {
        *o = *o * inv * g + b;
    }
}

/// Softmax of the scores `o` over the keys whose `keep` is not 0; the others get 0. The
/// baseline build of [`masked_softmax_row`].
#[inline(always)]
pub(super) fn masked_softmax_row_baseline(o: &mut [f32], keep: &[f32]) {
    // Branch-free, so the loops vectorise: masked keys score -inf for the max and are
    // multiplied by 0 after the (clamped, finite) exponential.
    for (o, &m) in o.iter_mut().zip(keep) {
        *o = if m != 0.0 { *o } else { f32::NEG_INFINITY };
    }
    let max = max8(o);
    if max == f32::NEG_INFINITY {
        // Every key masked (or all -inf): the row is 0.
        o.fill(0.0);
        return;
    }
    for (o, &m) in o.iter_mut().zip(keep) {
        *o = exp_approx(*o - max) * m;
    }
    let sum = sum8(o);
    let inv = 1.0 / sum;
    for o in o.iter_mut() {
        *o *= inv;
    }
}
