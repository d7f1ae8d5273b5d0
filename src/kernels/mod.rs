//! Fused CPU kernels for the tagger's inference forward pass (no gradients); the example LM's
//! linear layers use [`MatMulT`] too (`crate::lm`'s `qwen2_fast`).
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
//!
//! Files: this one holds [`MatMulT`] and [`Precision`]; `ops.rs` the candle ops, `packed.rs`
//! [`PackedWeight`], `rows.rs` the row kernels, `threads.rs` the split of work across threads,
//! and `avx512.rs` every `unsafe` line and every function compiled for a CPU feature, behind
//! safe functions that check the feature and the buffer sizes.

#[allow(unsafe_code)] // the kernels' one unsafe module: AVX-512 intrinsics behind safe calls
mod avx512;
mod ops;
mod packed;
mod rows;
#[cfg(test)]
mod tests;
mod threads;

use candle_core::Tensor;

pub use ops::{BiasGelu, BiasResidualNorm, FusedAttention, MaskedSoftmax, SplitHeads};
pub use packed::PackedWeight;
pub use rows::gelu_tanh;

/// Output columns of one packed panel: four 16-lane registers.
const PANEL: usize = 64;
/// Rows of the product one kernel call keeps in registers (6 × 4 accumulators + 4 panel loads).
const ROWS: usize = 6;

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
