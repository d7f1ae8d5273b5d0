//! Fused CPU kernels for the tagger's inference forward pass (no gradients).
//!
//! candle runs `x·W + b`, GELU, the residual add and LayerNorm as separate passes over memory,
//! its GELU calls libm's `tanhf` per element, and its matrix products use 256-bit vectors.
//! Here:
//! * [`MatMulT`]: the linear layers through an AVX-512 panel kernel (F32, or BF16 on request,
//!   see [`Precision`]), candle's `matmul` where the CPU lacks AVX-512;
//! * [`FusedAttention`]: bias, q·kᵀ, masked softmax and p·v in one pass through the same
//!   kernel; elsewhere [`SplitHeads`] and [`MaskedSoftmax`] around candle's batched products;
//! * bias + tanh-GELU and bias + residual + LayerNorm in one pass each, with a polynomial
//!   `exp`, compiled twice (baseline x86-64 and AVX-512F) and picked at run time.
//!
//! Rows are split across candle's CPU threads. `FENCI_NO_AVX512` keeps every kernel on its
//! portable path. Training keeps candle's differentiable ops; tests check the paths agree.

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

/// `fn name / name_baseline(args) { body }` defines `name_baseline` from the body and `name`,
/// which runs the body compiled for AVX-512F when the CPU has it (16 lanes where the baseline
/// x86-64 build has 4), else the baseline. Rust does not reorder or fuse float arithmetic, so
/// both give the same bits (a test checks).
macro_rules! avx512_or_baseline {
    ($(#[$m:meta])* fn $name:ident / $base:ident($($a:ident: $t:ty),* $(,)?) $body:block) => {
        /// The baseline build of the function of (almost) the same name.
        #[inline(always)]
        fn $base($($a: $t),*) $body

        $(#[$m])*
        fn $name($($a: $t),*) {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            fn fast($($a: $t),*) {
                $base($($a),*)
            }
            #[cfg(target_arch = "x86_64")]
            if avx512() {
                // SAFETY: the CPU has AVX-512F.
                return unsafe { fast($($a),*) };
            }
            $base($($a),*)
        }
    };
}

avx512_or_baseline! {
    /// `o = gelu_tanh(o + bias)`.
    fn bias_gelu_row / bias_gelu_row_baseline(o: &mut [f32], bias: &[f32]) {
        for (o, &b) in o.iter_mut().zip(bias) {
            *o = gelu_tanh(*o + b);
        }
    }
}

avx512_or_baseline! {
    /// `o = LayerNorm(o + r + bias)` with `gamma`, `beta`; `inv_d` = 1 / width.
    fn bias_residual_norm_row / bias_residual_norm_row_baseline(
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
}

avx512_or_baseline! {
    /// Softmax of the scores `o` over the keys whose `keep` is not 0; the others get 0.
    fn masked_softmax_row / masked_softmax_row_baseline(o: &mut [f32], keep: &[f32]) {
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
}

/// Multi-head self-attention in one pass, from the output of a fused q/k/v projection
/// (`[batch·seq, 3·hidden]`, no bias yet) and a `[batch, seq]` mask (1 attended, 0 padding) to
/// the context (`[batch·seq, hidden]`, heads side by side): adds the biases, scales q, and per
/// sequence and head multiplies q by the keys and the masked softmax by the values with
/// [`MatMulT`]'s AVX-512 kernel (keys packed in panels of 64, values as panels of their 64
/// dimensions), without the head-split copies, the batched products and the transpose candle
/// would make. Needs AVX-512F and a head size that is a multiple of 64 ([`Self::supported`]).
#[derive(Debug, Clone, Copy)]
pub struct FusedAttention<'a> {
    /// The q, k and v biases, concatenated (`3·hidden`).
    pub bias: &'a [f32],
    /// Attention heads.
    pub heads: usize,
    /// Factor applied to q (1/√head_dim).
    pub scale: f32,
}

/// Buffers [`FusedAttention`] reuses from one sequence and head to the next.
#[derive(Default)]
struct AttentionScratch {
    q: Vec<f32>,
    keys: Vec<f32>,
    values: Vec<f32>,
    scores: Vec<f32>,
}

impl FusedAttention<'_> {
    /// Whether this CPU runs the kernel for heads of `head_dim` values.
    pub fn supported(head_dim: usize) -> bool {
        avx512() && head_dim > 0 && head_dim.is_multiple_of(PANEL)
    }

    /// One sequence: `y` its `t` rows of q|k|v, `keep` its mask, `out` its `t` context rows.
    #[cfg(target_arch = "x86_64")]
    fn sequence(&self, y: &[f32], keep: &[f32], out: &mut [f32], m: &mut AttentionScratch) {
        let (w3, t) = (self.bias.len(), keep.len());
        let h = w3 / 3;
        let hd = h / self.heads;
        // Keys padded to whole panels of 64 (zero keys score 0 and are masked out below).
        let tp = t.div_ceil(PANEL) * PANEL;
        assert!(Self::supported(hd) && y.len() == t * w3 && out.len() == t * h);
        let bias = self.bias;
        for head in 0..self.heads {
            let (qc, kc, vc) = (head * hd, h + head * hd, 2 * h + head * hd);
            m.q.clear();
            for i in 0..t {
                let row = y[i * w3 + qc..][..hd].iter().zip(&bias[qc..qc + hd]);
                m.q.extend(row.map(|(&x, &b)| (x + b) * self.scale));
            }
            // Keys as panels `[tp / 64][hd][64]`: the B operand of q · kᵀ.
            m.keys.clear();
            for p in 0..tp / PANEL {
                for d in 0..hd {
                    m.keys.extend((p * PANEL..(p + 1) * PANEL).map(|j| {
                        if j < t {
                            y[j * w3 + kc + d] + bias[kc + d]
                        } else {
                            0.0
                        }
                    }));
                }
            }
            // Values as panels `[hd / 64][t][64]`: the B operand of p · v.
            m.values.clear();
            for p in 0..hd / PANEL {
                let c = vc + p * PANEL;
                for j in 0..t {
                    let row = y[j * w3 + c..][..PANEL].iter().zip(&bias[c..c + PANEL]);
                    m.values.extend(row.map(|(&x, &b)| x + b));
                }
            }
            m.scores.clear();
            m.scores.resize(t * tp, 0.0);
            // SAFETY: AVX-512F is checked by `supported`; q has t rows of hd, each key panel
            // hd × 64, scores t rows of tp (panel p writes columns p·64..p·64 + 64 ≤ tp).
            unsafe {
                for p in 0..tp / PANEL {
                    let b = m.keys.as_ptr().add(p * hd * PANEL);
                    let c = m.scores.as_mut_ptr().add(p * PANEL);
                    rows_times_panel(m.q.as_ptr(), hd, t, hd, b, c, tp);
                }
            }
            for (row, _) in m.scores.chunks_exact_mut(tp).zip(0..t) {
                masked_softmax_row(&mut row[..t], keep);
            }
            // SAFETY: as above; the softmax rows are read `tp` apart over their first t
            // columns, each value panel is t × 64, and out's rows are h apart with the head's
            // columns qc..qc + hd inside them.
            unsafe {
                for p in 0..hd / PANEL {
                    let b = m.values.as_ptr().add(p * t * PANEL);
                    let c = out.as_mut_ptr().add(qc + p * PANEL);
                    rows_times_panel(m.scores.as_ptr(), tp, t, t, b, c, h);
                }
            }
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn sequence(&self, _: &[f32], _: &[f32], _: &mut [f32], _: &mut AttentionScratch) {
        unreachable!("FusedAttention::supported is false off x86-64")
    }
}

/// `c = a · b` for `m` rows of `a` (`k` values, `lda` apart) and one packed panel `b` (`k × 64`),
/// through [`panel_kernel`] in blocks of six rows.
///
/// # Safety
/// As [`panel_kernel`], for `m` rows.
#[cfg(target_arch = "x86_64")]
unsafe fn rows_times_panel(
    a: *const f32,
    lda: usize,
    m: usize,
    k: usize,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
) {
    // SAFETY: forwarded from the caller, row by row.
    row_blocks(
        m,
        |r| unsafe { panel_kernel::<ROWS>(a.add(r * lda), lda, k, b, c.add(r * ldc), ldc) },
        |r| unsafe { panel_kernel::<1>(a.add(r * lda), lda, k, b, c.add(r * ldc), ldc) },
    );
}

/// Calls `block(r)` for rows `r..r + ROWS` while whole blocks fit in `m`, then `one(r)` for
/// each row left.
#[inline(always)]
fn row_blocks(m: usize, mut block: impl FnMut(usize), mut one: impl FnMut(usize)) {
    let mut r = 0;
    while r + ROWS <= m {
        block(r);
        r += ROWS;
    }
    while r < m {
        one(r);
        r += 1;
    }
}

impl CustomOp2 for FusedAttention<'_> {
    fn name(&self) -> &'static str {
        "fenci-fused-attention"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let w3 = self.bias.len();
        last_dim(l1, w3, self.name())?;
        let y = contiguous(s1, l1, self.name())?;
        let mask = contiguous(s2, l2, self.name())?;
        let (b, t) = l2.shape().dims2()?;
        let Some((h, hd)) = qkv_heads(w3, self.heads).filter(|_| y.len() == b * t * w3) else {
            candle_core::bail!(
                "{}: {:?} does not fit {} heads, bias {w3} and mask {:?}",
                self.name(),
                l1.shape(),
                self.heads,
                l2.shape()
            );
        };
        if !Self::supported(hd) {
            candle_core::bail!(
                "{}: needs AVX-512F and a head size divisible by 64",
                self.name()
            );
        }
        let mut out: Vec<f32> = vec![0f32; b * t * h];
        // One sequence a unit.
        par_chunks(&mut out, t * h, 1, y.len() >= PAR_MIN, |first, part| {
            let mut scratch = AttentionScratch::default();
            for (k, out) in part.chunks_exact_mut(t * h).enumerate() {
                let s = first + k;
                let y = &y[s * t * w3..(s + 1) * t * w3];
                self.sequence(y, &mask[s * t..(s + 1) * t], out, &mut scratch);
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((b * t, h))))
    }
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

/// Runs `work(first, chunk)` over `out` cut into chunks of whole units (`unit` values each, a
/// multiple of `align` units per chunk, `first` the chunk's first unit), one chunk per candle
/// CPU thread, writing in place; on the calling thread alone unless `parallel`.
fn par_chunks<T: Send>(
    out: &mut [T],
    unit: usize,
    align: usize,
    parallel: bool,
    work: impl Fn(usize, &mut [T]) + Sync,
) {
    let units = out.len() / unit.max(1);
    let threads = candle_core::utils::get_num_threads().clamp(1, 64);
    if threads == 1 || !parallel || units < 2 {
        work(0, out);
        return;
    }
    let per = units.div_ceil(threads).div_ceil(align.max(1)) * align.max(1);
    std::thread::scope(|sc| {
        for (i, part) in out.chunks_mut(per * unit).enumerate() {
            let work = &work;
            sc.spawn(move || work(i * per, part));
        }
    });
}

/// `(hidden, head_dim)` of a fused q/k/v row `w3` wide split into `heads` heads, if it splits.
fn qkv_heads(w3: usize, heads: usize) -> Option<(usize, usize)> {
    let h = w3 / 3;
    (h > 0 && w3.is_multiple_of(3) && heads > 0 && h.is_multiple_of(heads)).then(|| (h, h / heads))
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
            let start = out.len();
            out.extend_from_slice(&src[r * d..(r + 1) * d]);
            bias_gelu_row(&mut out[start..], &self.bias);
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
            let start = out.len();
            out.extend_from_slice(&x[at..at + d]);
            let o = &mut out[start..];
            let (g, b) = (&self.gamma, &self.beta);
            bias_residual_norm_row(o, &r[at..at + d], &self.bias, g, b, inv_d, self.eps);
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
        let rows = y.len() / w3.max(1);
        let Some((h, hd)) = qkv_heads(w3, self.heads).filter(|_| self.batch > 0) else {
            candle_core::bail!("{}: bad sizes", self.name());
        };
        if !rows.is_multiple_of(self.batch) {
            candle_core::bail!("{}: {rows} rows for {} sequences", self.name(), self.batch);
        }
        let (t, nh) = (rows / self.batch, self.heads);
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
            let start = out.len();
            out.extend_from_slice(&x[r * t..][..t]);
            masked_softmax_row(&mut out[start..], keep);
        });
        Ok((CpuStorage::F32(dst), l1.shape().clone()))
    }
}

/// `x · Wᵀ` for a linear layer's weight `W` (`[n, k]`, F32, CPU), without its bias.
///
/// On x86-64 CPUs with AVX-512 it multiplies in fenci's own kernel: `W` packed once into panels
/// of 64 output columns, 6 rows × 64 columns of the product held in registers, 512-bit FMAs.
/// Measured on this machine's 2-core EPYC: ~245 GFLOP/s a core against the ~90 of the `gemm`
/// crate's 256-bit kernel that candle uses, with the same F32 arithmetic (only the order of the
/// sums differs). Elsewhere, or for shapes it does not cover, it is candle's `matmul`; setting
/// `FENCI_NO_AVX512` forces that path, as it does for every kernel here.
#[derive(Debug, Clone)]
pub enum MatMulT {
    /// AVX-512 kernel over packed panels.
    Packed(PackedWeight),
    /// candle's `x.broadcast_matmul(&w.t())`.
    Plain(Tensor),
}

impl MatMulT {
    /// The fastest path this CPU supports for `w` (`[n, k]`).
    pub fn new(w: &Tensor) -> candle_core::Result<Self> {
        match PackedWeight::new(w)? {
            Some(p) => Ok(Self::Packed(p)),
            None => Ok(Self::Plain(w.clone())),
        }
    }

    /// candle's `matmul`, whatever the CPU.
    pub fn portable(w: &Tensor) -> Self {
        Self::Plain(w.clone())
    }

    /// `x · Wᵀ` for `x` of shape `[…, k]`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Packed(p) if x.dtype() == candle_core::DType::F32 && x.device().is_cpu() => {
                x.apply_op1_no_bwd(p)
            }
            Self::Packed(p) => x.broadcast_matmul(&p.weight.t()?),
            Self::Plain(w) => x.broadcast_matmul(&w.t()?),
        }
    }

    /// Switches the AVX-512 kernel to `p`; false (and nothing changes) where this CPU or
    /// shape cannot run it. [`Precision::F32`] always succeeds.
    pub fn set_precision(&mut self, p: Precision) -> bool {
        match self {
            Self::Packed(w) => w.set_precision(p),
            Self::Plain(_) => p == Precision::F32,
        }
    }

    /// Whether the AVX-512 kernel runs.
    pub fn is_packed(&self) -> bool {
        matches!(self, Self::Packed(_))
    }
}

/// The arithmetic of [`MatMulT`]'s AVX-512 kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// F32 products and sums: what candle computes, up to the order of the sums.
    #[default]
    F32,
    /// Inputs and weights rounded to BF16 (8 significant bits), products summed in F32 by
    /// AVX512-BF16's `vdpbf16ps`: twice the products an instruction. Needs a CPU with
    /// AVX512-BF16 (AMD Zen 4 and later, Intel Sapphire Rapids and later).
    Bf16,
}

/// Output columns of one packed panel: four 16-lane registers.
const PANEL: usize = 64;
/// Rows of the product one kernel call keeps in registers (6 × 4 accumulators + 4 panel loads).
const ROWS: usize = 6;

/// A weight packed for [`MatMulT`]'s AVX-512 kernel: `[n / 64][k][64]`, so one panel's 64
/// columns at one `k` are contiguous.
#[derive(Debug, Clone)]
pub struct PackedWeight {
    n: usize,
    k: usize,
    panels: Vec<f32>,
    /// Under [`Precision::Bf16`]: the weight rounded to BF16, in pairs along `k` (the first in
    /// the low half), `[n / 64][k / 2][64]`.
    bf16: Option<Vec<u32>>,
    /// The weight as given, for inputs that are not on the CPU or not F32.
    weight: Tensor,
}

impl PackedWeight {
    /// `None` unless the CPU has AVX-512F and `w` is an F32 `[n, k]` CPU tensor with `n` a
    /// multiple of 64.
    pub fn new(w: &Tensor) -> candle_core::Result<Option<Self>> {
        if !avx512() || w.dtype() != candle_core::DType::F32 || !w.device().is_cpu() {
            return Ok(None);
        }
        let Ok((n, k)) = w.dims2() else {
            return Ok(None);
        };
        if n == 0 || k == 0 || n % PANEL != 0 {
            return Ok(None);
        }
        let rows = w.to_vec2::<f32>()?;
        let mut panels = Vec::with_capacity(n * k);
        for p in 0..n / PANEL {
            for q in 0..k {
                panels.extend(rows[p * PANEL..(p + 1) * PANEL].iter().map(|r| r[q]));
            }
        }
        Ok(Some(Self {
            n,
            k,
            bf16: None,
            panels,
            weight: w.clone(),
        }))
    }

    /// Switches to `p`; false (and nothing changes) where the CPU cannot run it.
    fn set_precision(&mut self, p: Precision) -> bool {
        match p {
            Precision::F32 => self.bf16 = None,
            Precision::Bf16 if !avx512_bf16() || !self.k.is_multiple_of(2) => return false,
            Precision::Bf16 => {
                let (k, kp) = (self.k, self.k / 2);
                let mut out = Vec::with_capacity(self.n * kp);
                for panel in self.panels.chunks_exact(k * PANEL) {
                    for q in 0..kp {
                        let (lo, hi) = (&panel[2 * q * PANEL..], &panel[(2 * q + 1) * PANEL..]);
                        out.extend(
                            lo[..PANEL]
                                .iter()
                                .zip(&hi[..PANEL])
                                .map(|(&l, &h)| bf16_pair(l, h)),
                        );
                    }
                }
                self.bf16 = Some(out);
            }
        }
        true
    }
}

/// `x` rounded to the nearest BF16 (ties to even), as its bits.
fn to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    (b.wrapping_add(0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// Two values as BF16 in one `u32`, `lo` in the low half: the operand layout of `vdpbf16ps`.
fn bf16_pair(lo: f32, hi: f32) -> u32 {
    u32::from(to_bf16(lo)) | (u32::from(to_bf16(hi)) << 16)
}

/// Whether the AVX-512 kernels run: the CPU has AVX-512F and `FENCI_NO_AVX512` is not set
/// (which keeps every kernel on its portable path, to compare or to test that path).
#[cfg(target_arch = "x86_64")]
fn avx512() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var_os("FENCI_NO_AVX512").is_none()
            && std::arch::is_x86_feature_detected!("avx512f")
    })
}

#[cfg(not(target_arch = "x86_64"))]
fn avx512() -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
fn avx512_bf16() -> bool {
    avx512() && std::arch::is_x86_feature_detected!("avx512bf16")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx512_bf16() -> bool {
    false
}

/// `ROWS_` rows of `a` (each `k` long, `lda` apart) times one packed panel (`k × 64`), written
/// to `c` (rows `ldc` apart).
///
/// # Safety
/// The CPU has AVX-512F; `a` holds `ROWS_` rows of `k` values `lda` apart, `b` holds `k · 64`
/// values, and `c` has room for `ROWS_` rows of 64 values `ldc` apart.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn panel_kernel<const ROWS_: usize>(
    a: *const f32,
    lda: usize,
    k: usize,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: the caller guarantees every pointer offset below stays inside its buffer.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); 4]; ROWS_];
        for q in 0..k {
            let bp = b.add(q * PANEL);
            let b0 = _mm512_loadu_ps(bp);
            let b1 = _mm512_loadu_ps(bp.add(16));
            let b2 = _mm512_loadu_ps(bp.add(32));
            let b3 = _mm512_loadu_ps(bp.add(48));
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = _mm512_set1_ps(*a.add(r * lda + q));
                acc[0] = _mm512_fmadd_ps(x, b0, acc[0]);
                acc[1] = _mm512_fmadd_ps(x, b1, acc[1]);
                acc[2] = _mm512_fmadd_ps(x, b2, acc[2]);
                acc[3] = _mm512_fmadd_ps(x, b3, acc[3]);
            }
        }
        store_tile(&acc, c, ldc);
    }
}

/// Writes the `ROWS_` × 64 accumulators of [`panel_kernel`] or [`bf16_kernel`] to `c`.
///
/// # Safety
/// The CPU has AVX-512F; `c` has room for `ROWS_` rows of 64 values `ldc` apart.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn store_tile<const ROWS_: usize>(
    acc: &[[std::arch::x86_64::__m512; 4]; ROWS_],
    c: *mut f32,
    ldc: usize,
) {
    use std::arch::x86_64::*;
    for (r, acc) in acc.iter().enumerate() {
        for (j, v) in acc.iter().enumerate() {
            // SAFETY: the caller guarantees `c` has room for every row and column written.
            unsafe { _mm512_storeu_ps(c.add(r * ldc + j * 16), *v) };
        }
    }
}

/// `x` (even length) rounded to BF16 pairs, 32 values an instruction.
///
/// # Safety
/// The CPU has AVX-512F and AVX512-BF16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn bf16_pairs(x: &[f32]) -> Vec<u32> {
    use std::arch::x86_64::*;
    let mut out: Vec<u32> = Vec::with_capacity(x.len() / 2);
    let mut chunks = x.chunks_exact(32);
    for c in &mut chunks {
        // SAFETY: `c` holds 32 values; `out` has room for the 16 pairs written (its capacity is
        // half of `x`), and they are counted in by `set_len` right after.
        unsafe {
            let lo = _mm512_loadu_ps(c.as_ptr());
            let hi = _mm512_loadu_ps(c.as_ptr().add(16));
            // Rounds to nearest even, as `to_bf16`; the low half of the result is `lo`.
            let v = _mm512_cvtne2ps_pbh(hi, lo);
            let at = out.len();
            _mm512_storeu_si512(
                out.as_mut_ptr().add(at).cast(),
                std::mem::transmute::<__m512bh, __m512i>(v),
            );
            out.set_len(at + 16);
        }
    }
    out.extend(
        chunks
            .remainder()
            .chunks_exact(2)
            .map(|p| bf16_pair(p[0], p[1])),
    );
    out
}

/// [`panel_kernel`] in BF16: `a` holds `R` rows of `kp` pairs (`kp` apart), `b` one BF16
/// panel (`kp · 64` pairs); products summed in F32 by `vdpbf16ps`.
///
/// # Safety
/// The CPU has AVX-512F and AVX512-BF16; the buffers are as large as described, and `c` has
/// room for `R` rows of 64 values `ldc` apart.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn bf16_kernel<const R: usize>(
    a: *const u32,
    kp: usize,
    b: *const u32,
    c: *mut f32,
    ldc: usize,
) {
    use std::arch::x86_64::*;
    // SAFETY: the caller guarantees every pointer offset below stays inside its buffer; the
    // transmutes reinterpret 512 bits of BF16 pairs, which is what they hold.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); 4]; R];
        for q in 0..kp {
            let bp = b.add(q * PANEL);
            let b0: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp as *const _));
            let b1: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp.add(16) as *const _));
            let b2: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp.add(32) as *const _));
            let b3: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp.add(48) as *const _));
            for (r, acc) in acc.iter_mut().enumerate() {
                let av: __m512bh =
                    std::mem::transmute(_mm512_set1_epi32(*a.add(r * kp + q) as i32));
                acc[0] = _mm512_dpbf16_ps(acc[0], av, b0);
                acc[1] = _mm512_dpbf16_ps(acc[1], av, b1);
                acc[2] = _mm512_dpbf16_ps(acc[2], av, b2);
                acc[3] = _mm512_dpbf16_ps(acc[3], av, b3);
            }
        }
        store_tile(&acc, c, ldc);
    }
}

impl PackedWeight {
    /// `out = x · Wᵀ` for `x` of `out.len() / n` rows of `k` values.
    #[cfg(target_arch = "x86_64")]
    fn rows_into(&self, x: &[f32], out: &mut [std::mem::MaybeUninit<f32>]) {
        let (n, k) = (self.n, self.k);
        let m = out.len() / n;
        assert!(x.len() == m * k && out.len() == m * n && self.panels.len() == n * k);
        assert!(avx512(), "PackedWeight is only built on CPUs with AVX-512F");
        let c = out.as_mut_ptr().cast::<f32>();
        if let Some(bp) = &self.bf16 {
            assert!(avx512_bf16() && bp.len() == n * k / 2);
            let kp = k / 2;
            // The rows rounded to BF16 pairs, once for all panels.
            // SAFETY: AVX512-BF16 was checked above.
            let xa = unsafe { bf16_pairs(x) };
            let a = xa.as_ptr();
            for p in 0..n / PANEL {
                let (b, c) = (bp[p * kp * PANEL..].as_ptr(), c.wrapping_add(p * PANEL));
                // SAFETY: AVX512-BF16 was checked above; rows r < m of `xa` (m rows of kp pairs)
                // and of `out` (m rows of n), panel p (kp · 64 pairs), columns p·64 + 64 ≤ n.
                row_blocks(
                    m,
                    |r| unsafe { bf16_kernel::<ROWS>(a.add(r * kp), kp, b, c.add(r * n), n) },
                    |r| unsafe { bf16_kernel::<1>(a.add(r * kp), kp, b, c.add(r * n), n) },
                );
            }
            return;
        }
        for p in 0..n / PANEL {
            let b = self.panels[p * k * PANEL..].as_ptr();
            // SAFETY: AVX-512F was checked above; rows r < m keep `x` (m rows of k) and `out`
            // (m rows of n) in bounds, panel p has k · 64 values, columns p·64 + 64 ≤ n.
            unsafe { rows_times_panel(x.as_ptr(), k, m, k, b, c.wrapping_add(p * PANEL), n) };
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn rows_into(&self, _x: &[f32], _out: &mut [std::mem::MaybeUninit<f32>]) {
        unreachable!("PackedWeight is only built on x86-64 CPUs with AVX-512F")
    }
}

impl CustomOp1 for PackedWeight {
    fn name(&self) -> &'static str {
        "fenci-matmul-avx512"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, k) = (self.n, self.k);
        last_dim(l, k, self.name())?;
        let x = contiguous(s, l, self.name())?;
        let m = x.len() / k;
        let mut dims = l.dims().to_vec();
        *dims.last_mut().expect("checked by last_dim") = n;
        let mut out: Vec<f32> = Vec::with_capacity(m * n);
        let spare = &mut out.spare_capacity_mut()[..m * n];
        // One row a unit, whole blocks of ROWS rows per thread.
        let parallel = m * n >= PAR_MIN && m >= 2 * ROWS;
        par_chunks(spare, n, ROWS, parallel, |first, part| {
            let rows = part.len() / n;
            self.rows_into(&x[first * k..(first + rows) * k], part);
        });
        // SAFETY: `rows_into` wrote all `m · n` values (every row, every panel of 64 columns).
        unsafe { out.set_len(m * n) };
        Ok((CpuStorage::F32(out), Shape::from(dims)))
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

    #[test]
    fn packed_matmul_equals_candles() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let w = Tensor::randn(0f32, 0.1, (192, 80), &dev)?;
        let packed = MatMulT::new(&w)?;
        if !avx512() {
            assert!(!packed.is_packed());
        }
        let plain = MatMulT::portable(&w);
        // Row counts around the 6-row block, and one big enough for threads; 3-d inputs.
        for rows in [1usize, 5, 6, 7, 13, 500] {
            let x = Tensor::randn(0f32, 1.0, (rows, 80), &dev)?;
            let want = plain.forward(&x)?;
            let got = packed.forward(&x)?;
            assert_eq!(got.dims(), &[rows, 192]);
            let diff = (want - got)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(diff < 1e-4, "{rows} rows differ by {diff}");
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
            bias_gelu_row(&mut fast, &b);
            bias_gelu_row_baseline(&mut base, &b);
            assert_eq!(fast, base, "gelu, width {d}");
            let (mut fast, mut base) = (x.clone(), x.clone());
            bias_residual_norm_row(&mut fast, &r, &b, &g, &be, 1.0 / d as f32, 1e-12);
            bias_residual_norm_row_baseline(&mut base, &r, &b, &g, &be, 1.0 / d as f32, 1e-12);
            assert_eq!(fast, base, "layer norm, width {d}");
            let (mut fast, mut base) = (x.clone(), x);
            masked_softmax_row(&mut fast, &keep);
            masked_softmax_row_baseline(&mut base, &keep);
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
        if !avx512_bf16() {
            assert!(!m.set_precision(Precision::Bf16), "no AVX512-BF16 here");
            return Ok(());
        }
        assert!(m.set_precision(Precision::Bf16));
        for rows in [1usize, 7, 500] {
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
        if !avx512_bf16() {
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
        // SAFETY: AVX512-BF16 checked above.
        let fast = unsafe { bf16_pairs(x) };
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
        if !FusedAttention::supported(64) {
            return Ok(());
        }
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
}
