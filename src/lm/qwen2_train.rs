//! Training: a differentiable qwen2 ([`Qwen2Train`]) over the tensor names candle-transformers
//! reads, the config of a small one, its tensor shapes and random initial weights.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, D};
use candle_transformers::models::qwen2;
use serde_json::Value;

use super::{LmError, Result};

/// A qwen2 config for a small model trained by fenci.
pub fn small_qwen2_config(
    vocab_size: usize,
    hidden: usize,
    layers: usize,
    heads: usize,
    kv_heads: usize,
    max_positions: usize,
) -> Value {
    serde_json::json!({
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "vocab_size": vocab_size,
        "hidden_size": hidden,
        "intermediate_size": (hidden * 8 / 3).div_ceil(64) * 64,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "max_position_embeddings": max_positions,
        "sliding_window": max_positions,
        "max_window_layers": layers,
        "use_sliding_window": false,
        "tie_word_embeddings": true,
        "rope_theta": 10000.0,
        "rms_norm_eps": 1e-6,
        "hidden_act": "silu",
        "bos_token_id": 0,
        "eos_token_id": 0,
        "torch_dtype": "float16",
    })
}

/// Names and shapes of a qwen2 model's tensors (tied embeddings: no `lm_head.weight`).
pub fn qwen2_shapes(c: &qwen2::Config) -> Vec<(String, Vec<usize>)> {
    let h = c.hidden_size;
    let hd = h / c.num_attention_heads;
    let kv = c.num_key_value_heads * hd;
    let mut v = vec![(
        "model.embed_tokens.weight".to_string(),
        vec![c.vocab_size, h],
    )];
    for i in 0..c.num_hidden_layers {
        let p = format!("model.layers.{i}");
        v.push((format!("{p}.input_layernorm.weight"), vec![h]));
        v.push((format!("{p}.post_attention_layernorm.weight"), vec![h]));
        v.push((format!("{p}.self_attn.q_proj.weight"), vec![h, h]));
        v.push((format!("{p}.self_attn.q_proj.bias"), vec![h]));
        v.push((format!("{p}.self_attn.k_proj.weight"), vec![kv, h]));
        v.push((format!("{p}.self_attn.k_proj.bias"), vec![kv]));
        v.push((format!("{p}.self_attn.v_proj.weight"), vec![kv, h]));
        v.push((format!("{p}.self_attn.v_proj.bias"), vec![kv]));
        v.push((format!("{p}.self_attn.o_proj.weight"), vec![h, h]));
        v.push((
            format!("{p}.mlp.gate_proj.weight"),
            vec![c.intermediate_size, h],
        ));
        v.push((
            format!("{p}.mlp.up_proj.weight"),
            vec![c.intermediate_size, h],
        ));
        v.push((
            format!("{p}.mlp.down_proj.weight"),
            vec![h, c.intermediate_size],
        ));
    }
    v.push(("model.norm.weight".to_string(), vec![h]));
    if !c.tie_word_embeddings {
        v.push(("lm_head.weight".to_string(), vec![c.vocab_size, h]));
    }
    v
}

/// Random initial weights for a qwen2 model: N(0, 0.02), norms 1, biases 0; output
/// projections scaled by 1/sqrt(2·layers) as in GPT-2.
pub fn qwen2_init(c: &qwen2::Config, seed: u64) -> Result<Vec<(String, Tensor)>> {
    use rand::Rng;
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for (name, shape) in qwen2_shapes(c) {
        let n: usize = shape.iter().product();
        let t = if name.ends_with("norm.weight") {
            Tensor::ones(shape, DType::F32, &Device::Cpu)?
        } else if name.ends_with(".bias") {
            Tensor::zeros(shape, DType::F32, &Device::Cpu)?
        } else {
            let std = if name.ends_with("o_proj.weight") || name.ends_with("down_proj.weight") {
                0.02 / (2.0 * c.num_hidden_layers as f32).sqrt()
            } else {
                0.02
            };
            let v: Vec<f32> = (0..n)
                .map(|_| rng.sample::<f32, _>(rand_distr::StandardNormal) * std)
                .collect();
            Tensor::from_vec(v, shape, &Device::Cpu)?
        };
        out.push((name, t));
    }
    Ok(out)
}

/// RoPE's cosine and sine tables for every position (`max_position_embeddings × head_dim / 2`),
/// as candle-transformers' qwen2 computes them: shared by training and `qwen2_fast`.
pub(super) fn rope_tables(cfg: &qwen2::Config) -> candle_core::Result<(Tensor, Tensor)> {
    let dim = cfg.hidden_size / cfg.num_attention_heads;
    let inv: Vec<f32> = (0..dim)
        .step_by(2)
        .map(|i| 1f32 / cfg.rope_theta.powf(i as f64 / dim as f64) as f32)
        .collect();
    let inv = Tensor::from_vec(inv, (1, dim / 2), &Device::Cpu)?;
    let pos = Tensor::arange(0u32, cfg.max_position_embeddings as u32, &Device::Cpu)?
        .to_dtype(DType::F32)?
        .reshape((cfg.max_position_embeddings, 1))?;
    let freqs = pos.matmul(&inv)?;
    Ok((freqs.cos()?, freqs.sin()?))
}

/// A differentiable qwen2 forward over named tensors (for training; see the module header).
pub struct Qwen2Train {
    cfg: qwen2::Config,
    t: HashMap<String, Tensor>,
    cos: Tensor,
    sin: Tensor,
}

impl Qwen2Train {
    /// Wraps tensors (e.g. a VarMap's, so gradients reach them).
    pub fn new(cfg: &qwen2::Config, tensors: HashMap<String, Tensor>) -> Result<Self> {
        for (name, shape) in qwen2_shapes(cfg) {
            match tensors.get(&name) {
                Some(t) if t.dims() == shape.as_slice() => {}
                Some(t) => {
                    return Err(LmError::BadWeights {
                        file: "training".into(),
                        message: format!("{name} has shape {:?}, expected {shape:?}", t.dims()),
                    })
                }
                None => {
                    return Err(LmError::BadWeights {
                        file: "training".into(),
                        message: format!("missing {name}"),
                    })
                }
            }
        }
        let (cos, sin) = rope_tables(cfg)?;
        Ok(Self {
            cfg: cfg.clone(),
            t: tensors,
            cos,
            sin,
        })
    }

    fn w(&self, name: &str) -> &Tensor {
        &self.t[name]
    }

    fn linear(&self, x: &Tensor, name: &str, bias: bool) -> Result<Tensor> {
        let w = self.w(&format!("{name}.weight"));
        let y = x.broadcast_matmul(&w.t()?)?;
        Ok(if bias {
            y.broadcast_add(self.w(&format!("{name}.bias")))?
        } else {
            y
        })
    }

    /// Logits for every position of `ids` (`batch × seq`, right-padded: the causal mask keeps
    /// real tokens from seeing the padding after them).
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let c = &self.cfg;
        let (b, t) = ids.dims2()?;
        let (h, nh, nkv) = (c.hidden_size, c.num_attention_heads, c.num_key_value_heads);
        let hd = h / nh;
        let eps = c.rms_norm_eps as f32;
        let emb = self.w("model.embed_tokens.weight");
        let mut x = emb
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((b, t, h))?;
        let mask: Vec<f32> = (0..t)
            .flat_map(|i| (0..t).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
            .collect();
        let mask = Tensor::from_vec(mask, (t, t), &Device::Cpu)?;
        let cos = self.cos.narrow(0, 0, t)?;
        let sin = self.sin.narrow(0, 0, t)?;
        for i in 0..c.num_hidden_layers {
            let p = format!("model.layers.{i}");
            let a = candle_nn::ops::rms_norm_slow(
                &x,
                self.w(&format!("{p}.input_layernorm.weight")),
                eps,
            )?;
            let q = self
                .linear(&a, &format!("{p}.self_attn.q_proj"), true)?
                .reshape((b, t, nh, hd))?
                .transpose(1, 2)?
                .contiguous()?;
            let k = self
                .linear(&a, &format!("{p}.self_attn.k_proj"), true)?
                .reshape((b, t, nkv, hd))?
                .transpose(1, 2)?
                .contiguous()?;
            let v = self
                .linear(&a, &format!("{p}.self_attn.v_proj"), true)?
                .reshape((b, t, nkv, hd))?
                .transpose(1, 2)?
                .contiguous()?;
            let q = candle_nn::rotary_emb::rope_slow(&q, &cos, &sin)?;
            let k = candle_nn::rotary_emb::rope_slow(&k, &cos, &sin)?;
            let rep = nh / nkv;
            let k = candle_transformers::utils::repeat_kv(k, rep)?.contiguous()?;
            let v = candle_transformers::utils::repeat_kv(v, rep)?.contiguous()?;
            let scores = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?.broadcast_add(&mask)?;
            let probs = candle_nn::ops::softmax(&scores, D::Minus1)?;
            let o = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, t, h))?;
            let o = self.linear(&o, &format!("{p}.self_attn.o_proj"), false)?;
            x = (x + o)?;
            let a = candle_nn::ops::rms_norm_slow(
                &x,
                self.w(&format!("{p}.post_attention_layernorm.weight")),
                eps,
            )?;
            let g =
                candle_nn::ops::silu(&self.linear(&a, &format!("{p}.mlp.gate_proj"), false)?)?;
            let u = self.linear(&a, &format!("{p}.mlp.up_proj"), false)?;
            let m = self.linear(&(g * u)?, &format!("{p}.mlp.down_proj"), false)?;
            x = (x + m)?;
        }
        let x = candle_nn::ops::rms_norm_slow(&x, self.w("model.norm.weight"), eps)?;
        let head = if c.tie_word_embeddings {
            emb
        } else {
            self.w("lm_head.weight")
        };
        Ok(x.broadcast_matmul(&head.t()?)?)
    }
}
