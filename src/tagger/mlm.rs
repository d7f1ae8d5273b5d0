//! The masked-language-model head used to pretrain a tagger's encoder on raw text.

use std::collections::HashMap;

use candle_core::Tensor;

use super::bert::{LayerNorm, Linear};
use super::weights::init_shapes;
use super::{Activation, BertConfig, BertTagger, ModelError, Result};

/// A masked-language-model head as in HF's `BertForMaskedLM` (`cls.predictions.*`): dense +
/// activation + LayerNorm, then the word embeddings (tied) and a bias give one logit per
/// vocabulary entry. Used only to pretrain a tagger's encoder on raw text; taggers never save it.
pub struct MlmHead {
    dense: Linear,
    ln: LayerNorm,
    bias: Tensor,
    act: Activation,
}

impl MlmHead {
    /// Names and shapes of the head's tensors.
    pub fn tensor_shapes(cfg: &BertConfig) -> Vec<(String, Vec<usize>)> {
        let h = cfg.hidden_size;
        let p = "cls.predictions";
        vec![
            (format!("{p}.transform.dense.weight"), vec![h, h]),
            (format!("{p}.transform.dense.bias"), vec![h]),
            (format!("{p}.transform.LayerNorm.weight"), vec![h]),
            (format!("{p}.transform.LayerNorm.bias"), vec![h]),
            (format!("{p}.bias"), vec![cfg.vocab_size]),
        ]
    }

    /// Fresh head tensors: dense N(0, 0.02), LayerNorm 1/0, biases 0.
    pub fn init_tensors(cfg: &BertConfig, seed: u64) -> Result<Vec<(String, Tensor)>> {
        init_shapes(Self::tensor_shapes(cfg), seed ^ 0x6D6C_6D68)
    }

    /// Builds the head from tensors named as in [`MlmHead::tensor_shapes`].
    pub fn from_tensors(cfg: &BertConfig, t: &HashMap<String, Tensor>) -> Result<Self> {
        let get = |name: &str| -> Result<Tensor> {
            t.get(name).cloned().ok_or_else(|| ModelError::BadWeights {
                file: "model".into(),
                message: format!("tensor `{name}` is missing"),
            })
        };
        let p = "cls.predictions";
        Ok(Self {
            dense: Linear {
                w: get(&format!("{p}.transform.dense.weight"))?,
                b: get(&format!("{p}.transform.dense.bias"))?,
            },
            ln: LayerNorm {
                w: get(&format!("{p}.transform.LayerNorm.weight"))?,
                b: get(&format!("{p}.transform.LayerNorm.bias"))?,
                eps: cfg.layer_norm_eps as f32,
            },
            bias: get(&format!("{p}.bias"))?,
            act: cfg.activation("config.json")?,
        })
    }

    /// Vocabulary logits `[n, vocab]` for hidden rows `x` `[n, hidden]` of `tagger`'s encoder
    /// (differentiable: for training).
    pub fn forward(&self, x: &Tensor, tagger: &BertTagger) -> candle_core::Result<Tensor> {
        let y = self.dense.forward(x)?;
        let y = self.act.apply(&y)?;
        let y = self.ln.forward(&y, true)?;
        y.matmul(&tagger.word_embeddings().t()?)?
            .broadcast_add(&self.bias)
    }
}
