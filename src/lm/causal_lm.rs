//! [`CausalLm`]: candle-transformers' qwen2 and qwen3 for inference, with their KV caches, or
//! qwen2 through fenci's kernels ([`super::qwen2_fast`]) where the CPU runs them.

use candle_core::{DType, Device, Tensor};
use candle_transformers::models::{qwen2, qwen3};

use super::Result;

/// A causal LM ready to run: candle-transformers' models with their KV caches.
#[derive(Debug, Clone)]
pub enum CausalLm {
    /// qwen2
    Qwen2(Box<qwen2::ModelForCausalLM>),
    /// qwen3
    Qwen3(Box<qwen3::ModelForCausalLM>),
    /// qwen2 through fenci's AVX-512 kernels
    Qwen2Fast(Box<super::qwen2_fast::Qwen2Fast>),
}

impl CausalLm {
    /// Logits of the next token after `ids` (`seqlen_offset` tokens are already in the cache).
    pub fn next_logits(&mut self, ids: &[u32], seqlen_offset: usize) -> Result<Tensor> {
        let input = Tensor::new(ids, &Device::Cpu)?.unsqueeze(0)?;
        let logits = match self {
            CausalLm::Qwen2(m) => m.forward(&input, seqlen_offset)?,
            CausalLm::Qwen3(m) => m.forward(&input, seqlen_offset)?,
            CausalLm::Qwen2Fast(m) => m.forward(&input, seqlen_offset)?,
        };
        Ok(logits.squeeze(0)?.squeeze(0)?.to_dtype(DType::F32)?)
    }

    /// Logits of the next token of each of `batch` sequences fed together (`ids` row-major,
    /// `batch` rows of equal length; `seqlen_offset` tokens of each are already in the cache):
    /// shape (batch, vocab).
    pub fn next_logits_batch(
        &mut self,
        ids: &[u32],
        batch: usize,
        seqlen_offset: usize,
    ) -> Result<Tensor> {
        let len = ids.len() / batch.max(1);
        let input = Tensor::from_slice(ids, (batch, len), &Device::Cpu)?;
        let logits = match self {
            CausalLm::Qwen2(m) => m.forward(&input, seqlen_offset)?,
            CausalLm::Qwen3(m) => m.forward(&input, seqlen_offset)?,
            CausalLm::Qwen2Fast(m) => m.forward(&input, seqlen_offset)?,
        };
        Ok(logits.squeeze(1)?.to_dtype(DType::F32)?)
    }

    /// Forgets the KV cache (before a new sequence).
    pub fn clear_kv_cache(&mut self) {
        match self {
            CausalLm::Qwen2(m) => m.clear_kv_cache(),
            CausalLm::Qwen3(m) => m.clear_kv_cache(),
            CausalLm::Qwen2Fast(m) => m.clear_kv_cache(),
        }
    }
}
