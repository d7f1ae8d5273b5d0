//! The kernels as candle ops on F32 CPU tensors, for inference (no backward pass): bias +
//! tanh-GELU ([`BiasGelu`]), bias + residual + LayerNorm ([`BiasResidualNorm`]), the q/k/v head
//! split ([`SplitHeads`]), the masked softmax ([`MaskedSoftmax`]) and the whole of multi-head
//! attention ([`FusedAttention`]), with the shape checks they share.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor};

use super::rows::{bias_gelu_row, bias_residual_norm_row, masked_softmax_row};
use super::threads::{par_chunks, par_rows, PAR_MIN};
use super::{avx512, PANEL};

/// `(hidden, head_dim)` of a fused q/k/v row `w3` wide split into `heads` heads, if it splits.
fn qkv_heads(w3: usize, heads: usize) -> Option<(usize, usize)> {
    let h = w3 / 3;
    (h > 0 && w3.is_multiple_of(3) && heads > 0 && h.is_multiple_of(heads)).then(|| (h, h / heads))
}

/// The values of a contiguous F32 input; an error names the op `what` otherwise.
pub(super) fn contiguous<'a>(
    s: &'a CpuStorage,
    l: &Layout,
    what: &str,
) -> candle_core::Result<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("{what}: the input must be contiguous"),
    }
}

/// An error naming the op `what` unless the input's last dimension is `width`.
pub(super) fn last_dim(l: &Layout, width: usize, what: &str) -> candle_core::Result<()> {
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

/// Multi-head self-attention in one pass, from the output of a fused q/k/v projection
/// (`[batch·seq, 3·hidden]`, no bias yet) and a `[batch, seq]` mask (1 attended, 0 padding) to
/// the context (`[batch·seq, hidden]`, heads side by side): adds the biases, scales q, and per
/// sequence and head multiplies q by the keys and the masked softmax by the values with
/// [`MatMulT`](super::MatMulT)'s AVX-512 kernel (keys packed in panels of 64, values as panels of their 64
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
        avx512::enabled() && head_dim > 0 && head_dim.is_multiple_of(PANEL)
    }

    /// One sequence: `y` its `t` rows of q|k|v, `keep` its mask, `out` its `t` context rows.
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
            // Scores: t rows of tp, key panel p in columns p·64..p·64 + 64.
            avx512::rows_times_panels(&m.q, hd, t, hd, &m.keys, m.scores.as_mut_slice(), tp);
            for (row, _) in m.scores.chunks_exact_mut(tp).zip(0..t) {
                masked_softmax_row(&mut row[..t], keep);
            }
            // The softmax rows (their first t columns) times the values, into the head's
            // columns qc..qc + hd of out's rows.
            avx512::rows_times_panels(&m.scores, tp, t, t, &m.values, &mut out[qc..], h);
        }
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
