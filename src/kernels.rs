//! Fused CPU kernels for the tagger's inference forward pass (no gradients).
//!
//! candle runs `x·W + b`, GELU, the residual add and LayerNorm as separate passes over memory,
//! and its GELU calls libm's `tanhf` per element: `perf` put a third of segmenting time there.
//! These kernels make one pass each, with a polynomial `exp` the compiler vectorises, split
//! across candle's CPU threads: bias + tanh-GELU, bias + residual + LayerNorm, q/k/v bias + head
//! split, and masked softmax. Training keeps candle's differentiable ops; tests check both paths
//! agree.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor};

/// `e^x` to ~1e-6 relative error, branch-free so loops over it vectorise.
#[inline(always)]
fn exp_approx(x: f32) -> f32 {
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

/// Below this many elements a kernel runs on the calling thread only.
const PAR_MIN: usize = 1 << 15;

/// Builds `rows × width` values: `row(r, out)` appends row `r`'s `width` values to `out`. Rows
/// are split across candle's CPU threads, each filling its own buffer (no zero-filling first).
fn par_rows(rows: usize, width: usize, row: impl Fn(usize, &mut Vec<f32>) + Sync) -> Vec<f32> {
    let fill = |range: std::ops::Range<usize>| {
        let mut out = Vec::with_capacity(range.len() * width);
        for r in range {
            row(r, &mut out);
        }
        out
    };
    let threads = candle_core::utils::get_num_threads().clamp(1, 64);
    let out = if threads == 1 || rows * width < PAR_MIN || rows < 2 {
        fill(0..rows)
    } else {
        let per = rows.div_ceil(threads);
        let parts: Vec<Vec<f32>> = std::thread::scope(|s| {
            let fill = &fill;
            let rest: Vec<_> = (1..threads)
                .map(|i| {
                    let range = (i * per).min(rows)..((i + 1) * per).min(rows);
                    s.spawn(move || fill(range))
                })
                .collect();
            let mut parts = vec![fill(0..per.min(rows))];
            for h in rest {
                parts.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            parts
        });
        parts.concat()
    };
    debug_assert_eq!(out.len(), rows * width);
    out
}

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> candle_core::Result<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("{what}: the input must be contiguous"),
    }
}

fn last_dim(l: &Layout, width: usize, what: &str) -> candle_core::Result<()> {
    match l.dims().last() {
        Some(&d) if d == width => Ok(()),
        d => candle_core::bail!("{what}: last dimension {d:?}, expected {width}"),
    }
}

/// `gelu_tanh(x + bias)` over rows of `x` (`[…, d]`, F32, contiguous).
#[derive(Debug, Clone)]
pub struct BiasGelu {
    bias: Vec<f32>,
}

impl BiasGelu {
    /// The op for a bias of `d` values.
    pub fn new(bias: &Tensor) -> candle_core::Result<Self> {
        Ok(Self {
            bias: bias.to_dtype(candle_core::DType::F32)?.to_vec1()?,
        })
    }
}

impl CustomOp1 for BiasGelu {
    fn name(&self) -> &'static str {
        "fenci-bias-gelu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = self.bias.len();
        last_dim(l, d, self.name())?;
        let src = contiguous(s, l, self.name())?;
        let dst = par_rows(src.len() / d.max(1), d, |r, out| {
            let x = &src[r * d..(r + 1) * d];
            out.extend(x.iter().zip(&self.bias).map(|(&x, &b)| gelu_tanh(x + b)));
        });
        Ok((CpuStorage::F32(dst), l.shape().clone()))
    }
}

/// `LayerNorm(x + bias + residual)` over rows (`[…, d]`, F32, contiguous): the output of an
/// attention or feed-forward block, its bias, the skip connection and the norm in one pass.
#[derive(Debug, Clone)]
pub struct BiasResidualNorm {
    bias: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f32,
}

impl BiasResidualNorm {
    /// The op for a linear layer's `bias` followed by a LayerNorm (`gamma`, `beta`, `eps`).
    pub fn new(
        bias: &Tensor,
        gamma: &Tensor,
        beta: &Tensor,
        eps: f32,
    ) -> candle_core::Result<Self> {
        let v = |t: &Tensor| t.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>();
        let (bias, gamma, beta) = (v(bias)?, v(gamma)?, v(beta)?);
        if bias.len() != gamma.len() || gamma.len() != beta.len() {
            candle_core::bail!("fenci-bias-residual-norm: parameter sizes differ");
        }
        Ok(Self {
            bias,
            gamma,
            beta,
            eps,
        })
    }
}

impl CustomOp2 for BiasResidualNorm {
    fn name(&self) -> &'static str {
        "fenci-bias-residual-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = self.bias.len();
        last_dim(l1, d, self.name())?;
        if l1.shape() != l2.shape() {
            candle_core::bail!(
                "{}: shapes {:?} and {:?} differ",
                self.name(),
                l1.shape(),
                l2.shape()
            );
        }
        let x = contiguous(s1, l1, self.name())?;
        let r = contiguous(s2, l2, self.name())?;
        let inv_d = 1.0 / d as f32;
        let dst = par_rows(x.len() / d.max(1), d, |row, out| {
            let at = row * d;
            let (x, r) = (&x[at..at + d], &r[at..at + d]);
            let start = out.len();
            out.extend(
                x.iter()
                    .zip(r)
                    .zip(&self.bias)
                    .map(|((&x, &r), &b)| x + r + b),
            );
            let o = &mut out[start..];
            let mean = sum8(o) * inv_d;
            for o in o.iter_mut() {
                *o -= mean;
            }
            let var = sum_squares8(o);
            let inv = 1.0 / (var * inv_d + self.eps).sqrt();
            for ((o, &g), &b) in o.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *o = *o * inv * g + b;
            }
        });
        Ok((CpuStorage::F32(dst), l1.shape().clone()))
    }
}

/// Splits a fused `x·[Wq; Wk; Wv]` output (`[batch·seq, 3·hidden]`, no bias yet) into heads:
/// adds the bias, scales q, and lays the result out as `[3, batch, heads, seq, head_dim]` (q, k,
/// v), in one pass instead of a bias add, a scale and three transposed copies.
#[derive(Debug, Clone, Copy)]
pub struct SplitHeads<'a> {
    /// The q, k and v biases, concatenated (`3·hidden`).
    pub bias: &'a [f32],
    /// Sequences in the batch.
    pub batch: usize,
    /// Attention heads.
    pub heads: usize,
    /// Factor applied to q (1/√head_dim).
    pub scale: f32,
}

impl CustomOp1 for SplitHeads<'_> {
    fn name(&self) -> &'static str {
        "fenci-split-heads"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let w3 = self.bias.len();
        last_dim(l, w3, self.name())?;
        let y = contiguous(s, l, self.name())?;
        let h = w3 / 3;
        let rows = y.len() / w3.max(1);
        if h == 0
            || !w3.is_multiple_of(3)
            || self.heads == 0
            || !h.is_multiple_of(self.heads)
            || self.batch == 0
        {
            candle_core::bail!("{}: bad sizes", self.name());
        }
        if !rows.is_multiple_of(self.batch) {
            candle_core::bail!("{}: {rows} rows for {} sequences", self.name(), self.batch);
        }
        let (t, nh) = (rows / self.batch, self.heads);
        let hd = h / nh;
        // Output rows of `hd` values, in (which, sequence, head, position) order.
        let dst = par_rows(y.len() / hd, hd, |r, out| {
            let ti = r % t;
            let head = (r / t) % nh;
            let bi = (r / (t * nh)) % self.batch;
            let which = r / (t * nh * self.batch);
            let col = which * h + head * hd;
            let src = &y[(bi * t + ti) * w3 + col..][..hd];
            let bias = &self.bias[col..col + hd];
            let f = if which == 0 { self.scale } else { 1.0 };
            out.extend(src.iter().zip(bias).map(|(&x, &b)| (x + b) * f));
        });
        Ok((
            CpuStorage::F32(dst),
            Shape::from((3, self.batch, nh, t, hd)),
        ))
    }
}

/// Softmax over the last dimension of attention scores `[batch, heads, seq, seq]`, keys where
/// the `[batch, seq]` mask is 0 left out (probability 0).
#[derive(Debug, Clone, Copy)]
pub struct MaskedSoftmax;

impl CustomOp2 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "fenci-masked-softmax"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (b, nh, t, t2) = l1.shape().dims4()?;
        let (mb, mt) = l2.shape().dims2()?;
        if t != t2 || mb != b || mt != t {
            candle_core::bail!(
                "{}: scores {:?} and mask {:?} do not fit",
                self.name(),
                l1.shape(),
                l2.shape()
            );
        }
        let x = contiguous(s1, l1, self.name())?;
        let mask = contiguous(s2, l2, self.name())?;
        let dst = par_rows(x.len() / t.max(1), t, |r, out| {
            let keep = &mask[(r / (nh * t)) * t..][..t];
            let src = &x[r * t..][..t];
            // Branch-free, so the loops vectorise: masked keys score -inf for the max and are
            // multiplied by 0 after the (clamped, finite) exponential.
            let start = out.len();
            out.extend(
                src.iter()
                    .zip(keep)
                    .map(|(&v, &m)| if m != 0.0 { v } else { f32::NEG_INFINITY }),
            );
            let o = &mut out[start..];
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
        });
        Ok((CpuStorage::F32(dst), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

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
}
