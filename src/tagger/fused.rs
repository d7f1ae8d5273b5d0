//! One encoder layer for inference through fenci's fused CPU kernels ([`crate::kernels`]).

use candle_core::Tensor;

use crate::kernels::MatMulT;

/// One encoder layer for inference on the CPU through fenci's fused kernels
/// ([`crate::kernels`]): AVX-512 linear layers and attention where the CPU has it, q/k/v bias +
/// head split and masked softmax elsewhere, output bias + residual +
/// LayerNorm, bias + tanh-GELU.
#[derive(Clone)]
pub(super) struct Fused {
    pub(super) qkv_w: MatMulT,
    pub(super) qkv_b: Vec<f32>,
    pub(super) attn_out_w: MatMulT,
    pub(super) attn_norm: crate::kernels::BiasResidualNorm,
    pub(super) inter_w: MatMulT,
    pub(super) gelu: crate::kernels::BiasGelu,
    pub(super) out_w: MatMulT,
    pub(super) out_norm: crate::kernels::BiasResidualNorm,
}

impl Fused {
    /// The layer's four matrix products.
    pub(super) fn matmuls(&mut self) -> [&mut MatMulT; 4] {
        [
            &mut self.qkv_w,
            &mut self.attn_out_w,
            &mut self.inter_w,
            &mut self.out_w,
        ]
    }

    /// `x`: `[b·t, h]`; `mask`: `[b, t]` F32 (1 attended, 0 padding).
    pub(super) fn forward(
        &self,
        x: &Tensor,
        mask: &Tensor,
        heads: usize,
    ) -> candle_core::Result<Tensor> {
        use crate::kernels::{FusedAttention, MaskedSoftmax, SplitHeads};
        let (b, t) = mask.dims2()?;
        let h = x.dim(1)?;
        let scale = 1.0 / ((h / heads) as f32).sqrt();
        let qkv = self.qkv_w.forward(x)?;
        let ctx = if FusedAttention::supported(h / heads) {
            let bias = &self.qkv_b;
            qkv.apply_op2_no_bwd(mask, &FusedAttention { bias, heads, scale })?
        } else {
            let qkv = qkv.apply_op1_no_bwd(&SplitHeads {
                bias: &self.qkv_b,
                batch: b,
                heads,
                scale,
            })?;
            let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
            let probs = q.matmul(&k.t()?)?.apply_op2_no_bwd(mask, &MaskedSoftmax)?;
            probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b * t, h))?
        };
        let x1 = self
            .attn_out_w
            .forward(&ctx)?
            .apply_op2_no_bwd(x, &self.attn_norm)?;
        let i = self.inter_w.forward(&x1)?.apply_op1_no_bwd(&self.gelu)?;
        self.out_w
            .forward(&i)?
            .apply_op2_no_bwd(&x1, &self.out_norm)
    }
}
