//! [`PackedWeight`]: a linear layer's weight packed once into panels of 64 output columns for
//! the AVX-512 matrix-product kernel (and rounded to BF16 pairs under [`Precision::Bf16`]), and
//! its candle op. The rounding to BF16 in scalars is here too; the kernels are in `avx512.rs`.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

use super::ops::{contiguous, last_dim};
use super::{avx512, Precision, PANEL};

/// A weight packed for [`MatMulT`](super::MatMulT)'s AVX-512 kernel: `[n / 64][k][64]`, so one
/// panel's 64 columns at one `k` are contiguous.
#[derive(Debug, Clone)]
pub struct PackedWeight {
    n: usize,
    k: usize,
    panels: Vec<f32>,
    /// Under [`Precision::Bf16`]: the weight rounded to BF16, in pairs along `k` (the first in
    /// the low half), `[n / 64][k / 2][64]`.
    bf16: Option<Vec<u32>>,
    /// The weight as given, for inputs that are not on the CPU or not F32.
    pub(super) weight: Tensor,
}

impl PackedWeight {
    /// `None` unless the CPU has AVX-512F and `w` is an F32 `[n, k]` CPU tensor with `n` a
    /// multiple of 64.
    pub fn new(w: &Tensor) -> candle_core::Result<Option<Self>> {
        if !avx512::enabled() || w.dtype() != candle_core::DType::F32 || !w.device().is_cpu() {
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
    pub(super) fn set_precision(&mut self, p: Precision) -> bool {
        match p {
            Precision::F32 => self.bf16 = None,
            Precision::Bf16 if !avx512::bf16_enabled() || !self.k.is_multiple_of(2) => {
                return false
            }
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

impl CustomOp1 for PackedWeight {
    fn name(&self) -> &'static str {
        "fenci-matmul-avx512"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, k) = (self.n, self.k);
        last_dim(l, k, self.name())?;
        let x = contiguous(s, l, self.name())?;
        let mut dims = l.dims().to_vec();
        *dims.last_mut().expect("checked by last_dim") = n;
        let out = avx512::packed_product(x, k, n, &self.panels, self.bf16.as_deref());
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }
}

/// `x` rounded to the nearest BF16 (ties to even), as its bits.
pub(super) fn to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    (b.wrapping_add(0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// Two values as BF16 in one `u32`, `lo` in the low half: the operand layout of `vdpbf16ps`.
pub(super) fn bf16_pair(lo: f32, hi: f32) -> u32 {
    u32::from(to_bf16(lo)) | (u32::from(to_bf16(hi)) << 16)
}
