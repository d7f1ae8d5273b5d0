//! [`Qwen2Fast`]: qwen2 inference with a KV cache whose linear layers run through fenci's
//! AVX-512 kernel ([`crate::kernels::MatMulT`], weights packed once) instead of candle's
//! `matmul`. Everything else is candle-transformers' qwen2 op for op (RMSNorm, RoPE, grouped
//! attention, SiLU MLP), so the logits agree up to the order of the sums (tested against it).
//!
//! Why: a decoding step multiplies a few rows (the candidates of one batch) by every weight.
//! candle's gemm packs the whole weight again on each such product; on the built-in 4 × 256 LM
//! that packing was over half of the time of writing an example.
//! [`Qwen2Fast::new`] is `None` where the kernel cannot run (no AVX-512, `FENCI_NO_AVX512`).

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, D};
use candle_transformers::models::qwen2;

use crate::kernels::MatMulT;

/// A linear layer: the kernel's product, then the bias if there is one.
#[derive(Debug, Clone)]
struct Linear {
    w: MatMulT,
    b: Option<Tensor>,
    /// Output columns the weight was padded with (to the kernel's 64), cut off again.
    out: usize,
}

impl Linear {
    fn new(t: &HashMap<String, Tensor>, name: &str, bias: bool) -> candle_core::Result<Self> {
        let b = if bias {
            Some(get(t, &format!("{name}.bias"))?.clone())
        } else {
            None
        };
        Self::from_weight(get(t, &format!("{name}.weight"))?, b)
    }

    fn from_weight(w: &Tensor, b: Option<Tensor>) -> candle_core::Result<Self> {
        let (out, k) = w.dims2()?;
        let padded = out.div_ceil(64) * 64;
        let w = if padded == out {
            w.clone()
        } else {
            let zeros = Tensor::zeros((padded - out, k), DType::F32, &Device::Cpu)?;
            Tensor::cat(&[w, &zeros], 0)?
        };
        Ok(Self {
            w: MatMulT::new(&w)?,
            b,
            out,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut y = self.w.forward(x)?;
        if y.dim(D::Minus1)? != self.out {
            y = y.narrow(D::Minus1, 0, self.out)?.contiguous()?;
        }
        match &self.b {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }
}

fn get<'a>(t: &'a HashMap<String, Tensor>, name: &str) -> candle_core::Result<&'a Tensor> {
    t.get(name)
        .ok_or_else(|| candle_core::Error::CannotFindTensor { path: name.into() })
}

#[derive(Debug, Clone)]
struct Layer {
    input_norm: Tensor,
    post_norm: Tensor,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    gate: Linear,
    up: Linear,
    down: Linear,
    cache: Option<(Tensor, Tensor)>,
}

/// qwen2 for inference through fenci's kernels (see the module header).
#[derive(Debug, Clone)]
pub struct Qwen2Fast {
    cfg: qwen2::Config,
    embed: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    head: Linear,
    cos: Tensor,
    sin: Tensor,
}

impl Qwen2Fast {
    /// The model over `t` (F32 CPU tensors named as in the HF layout), or `None` where
    /// fenci's kernel cannot run on this CPU; a missing tensor or a wrong shape is an error
    /// (where the kernel runs or not), worded as candle-transformers words it.
    pub fn new(
        cfg: &qwen2::Config,
        t: &HashMap<String, Tensor>,
    ) -> candle_core::Result<Option<Self>> {
        // The shapes candle-transformers' qwen2 would check, with its message.
        let head = (
            "lm_head.weight".to_string(),
            vec![cfg.vocab_size, cfg.hidden_size],
        );
        for (name, shape) in super::qwen2_shapes(cfg).into_iter().chain([head]) {
            let got = match t.get(&name) {
                Some(w) => w.dims(),
                None if name == "lm_head.weight" => continue,
                None => return Err(candle_core::Error::CannotFindTensor { path: name }),
            };
            if got != shape.as_slice() {
                return Err(candle_core::Error::UnexpectedShape {
                    msg: format!("shape mismatch for {name}"),
                    expected: shape.into(),
                    got: got.into(),
                });
            }
        }
        let probe = Tensor::zeros((64, 64), DType::F32, &Device::Cpu)?;
        if !MatMulT::new(&probe)?.is_packed() {
            return Ok(None);
        }
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let p = format!("model.layers.{i}");
            layers.push(Layer {
                input_norm: get(t, &format!("{p}.input_layernorm.weight"))?.clone(),
                post_norm: get(t, &format!("{p}.post_attention_layernorm.weight"))?.clone(),
                q: Linear::new(t, &format!("{p}.self_attn.q_proj"), true)?,
                k: Linear::new(t, &format!("{p}.self_attn.k_proj"), true)?,
                v: Linear::new(t, &format!("{p}.self_attn.v_proj"), true)?,
                o: Linear::new(t, &format!("{p}.self_attn.o_proj"), false)?,
                gate: Linear::new(t, &format!("{p}.mlp.gate_proj"), false)?,
                up: Linear::new(t, &format!("{p}.mlp.up_proj"), false)?,
                down: Linear::new(t, &format!("{p}.mlp.down_proj"), false)?,
                cache: None,
            });
        }
        let embed = get(t, "model.embed_tokens.weight")?.clone();
        // As candle-transformers' qwen2: `lm_head.weight` when there is one, else the embeddings.
        let head = match t.get("lm_head.weight") {
            Some(w) => Linear::from_weight(w, None)?,
            None => Linear::from_weight(&embed, None)?,
        };
        let (cos, sin) = super::qwen2_train::rope_tables(cfg)?;
        Ok(Some(Self {
            cfg: cfg.clone(),
            embed,
            layers,
            norm: get(t, "model.norm.weight")?.clone(),
            head,
            cos,
            sin,
        }))
    }

    /// Logits after the last of `ids` (`batch × seq`; `offset` tokens of each row are in the
    /// cache): shape `(batch, 1, vocab)`, as candle-transformers' `ModelForCausalLM::forward`.
    pub fn forward(&mut self, ids: &Tensor, offset: usize) -> candle_core::Result<Tensor> {
        let c = &self.cfg;
        let (b, t) = ids.dims2()?;
        let (h, nh, nkv) = (c.hidden_size, c.num_attention_heads, c.num_key_value_heads);
        let hd = h / nh;
        let eps = c.rms_norm_eps as f32;
        let mask = if t <= 1 {
            None
        } else {
            let sw = c.sliding_window;
            let m: Vec<f32> = (0..t)
                .flat_map(|i| {
                    (0..t + offset).map(move |j| {
                        // j counts cached positions first, as candle-transformers' mask.
                        let jj = j as isize - offset as isize;
                        if jj > i as isize || (jj >= 0 && (jj as usize).saturating_add(sw) < i) {
                            f32::NEG_INFINITY
                        } else {
                            0.0
                        }
                    })
                })
                .collect();
            Some(Tensor::from_vec(m, (t, t + offset), &Device::Cpu)?)
        };
        let cos = self.cos.narrow(0, offset, t)?;
        let sin = self.sin.narrow(0, offset, t)?;
        let mut x = self
            .embed
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((b, t, h))?;
        let scale = 1f64 / (hd as f64).sqrt();
        for l in self.layers.iter_mut() {
            let a = candle_nn::ops::rms_norm(&x, &l.input_norm, eps)?;
            let q = l.q.forward(&a)?.reshape((b, t, nh, hd))?.transpose(1, 2)?;
            let k = l.k.forward(&a)?.reshape((b, t, nkv, hd))?.transpose(1, 2)?;
            let v = l.v.forward(&a)?.reshape((b, t, nkv, hd))?.transpose(1, 2)?;
            let q = candle_nn::rotary_emb::rope(&q.contiguous()?, &cos, &sin)?;
            let k = candle_nn::rotary_emb::rope(&k.contiguous()?, &cos, &sin)?;
            let (k, v) = match &l.cache {
                None => (k, v),
                Some((pk, pv)) => (Tensor::cat(&[pk, &k], 2)?, Tensor::cat(&[pv, &v], 2)?),
            };
            l.cache = Some((k.clone(), v.clone()));
            let k = candle_transformers::utils::repeat_kv(k, nh / nkv)?.contiguous()?;
            let v = candle_transformers::utils::repeat_kv(v, nh / nkv)?.contiguous()?;
            let w = (q.matmul(&k.transpose(2, 3)?)? * scale)?;
            let w = match &mask {
                Some(m) => w.broadcast_add(m)?,
                None => w,
            };
            let w = candle_nn::ops::softmax_last_dim(&w)?;
            let o = w.matmul(&v)?.transpose(1, 2)?.reshape((b, t, h))?;
            x = (l.o.forward(&o)? + x)?;
            let a = candle_nn::ops::rms_norm(&x, &l.post_norm, eps)?;
            let g = l.gate.forward(&a)?.apply(&c.hidden_act)?;
            let m = l.down.forward(&(g * l.up.forward(&a)?)?)?;
            x = (x + m)?;
        }
        let x = candle_nn::ops::rms_norm(&x.narrow(1, t - 1, 1)?.contiguous()?, &self.norm, eps)?;
        self.head.forward(&x)
    }

    /// Forgets the KV cache (before a new sequence).
    pub fn clear_kv_cache(&mut self) {
        for l in self.layers.iter_mut() {
            l.cache = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use candle_core::{DType, Device, Tensor};
    use candle_nn::VarBuilder;
    use candle_transformers::models::qwen2;

    use super::Qwen2Fast;

    /// A random qwen2 with biases on q/k/v (as hub models have), a vocabulary that is not a
    /// multiple of the kernel's 64 columns, and tied or separate output weights.
    fn model(tied: bool) -> (qwen2::Config, HashMap<String, Tensor>) {
        model_sized(tied, 128, 64)
    }

    /// `hidden` not a multiple of 64 pads every layer; a `window` shorter than a prompt
    /// exercises the sliding-window mask.
    fn model_sized(
        tied: bool,
        hidden: usize,
        window: usize,
    ) -> (qwen2::Config, HashMap<String, Tensor>) {
        let mut json = crate::lm::small_qwen2_config(203, hidden, 2, 4, 2, 64);
        json["tie_word_embeddings"] = tied.into();
        json["sliding_window"] = window.into();
        let cfg: qwen2::Config = serde_json::from_value(json).unwrap();
        let mut t: HashMap<String, Tensor> = crate::lm::qwen2_init(&cfg, 5)
            .unwrap()
            .into_iter()
            .collect();
        // qwen2_init zeroes biases and sets norms to one: give them values a bug would show.
        let keys: Vec<String> = t.keys().cloned().collect();
        for (i, k) in keys.iter().enumerate() {
            if k.ends_with(".bias") || k.ends_with("norm.weight") {
                let shape = t[k].shape().clone();
                let r = Tensor::randn(0f32, 0.3, shape, &Device::Cpu).unwrap();
                let base = if k.ends_with(".bias") { 0.0 } else { 1.0 };
                t.insert(k.clone(), (r + (base + 0.001 * i as f64)).unwrap());
            }
        }
        if !tied {
            let w = Tensor::randn(0f32, 0.05, (203, hidden), &Device::Cpu).unwrap();
            t.insert("lm_head.weight".into(), w);
        }
        (cfg, t)
    }

    #[test]
    fn a_weight_of_the_wrong_shape_is_an_error_as_in_candle_transformers() {
        let (cfg, mut t) = model(true);
        let name = "model.layers.1.mlp.up_proj.weight";
        t.insert(
            name.into(),
            Tensor::zeros((64, 128), DType::F32, &Device::Cpu).unwrap(),
        );
        let e = Qwen2Fast::new(&cfg, &t).unwrap_err().to_string();
        assert!(
            e.contains("shape mismatch for model.layers.1.mlp.up_proj.weight"),
            "{e}"
        );
        t.remove(name);
        let e = Qwen2Fast::new(&cfg, &t).unwrap_err().to_string();
        assert!(e.contains(name), "{e}");
    }

    #[test]
    fn logits_agree_with_candle_transformers_qwen2() {
        for (tied, hidden, window) in [(true, 128, 64), (false, 128, 64), (true, 96, 3)] {
            let (cfg, t) = model_sized(tied, hidden, window);
            let Some(mut fast) = Qwen2Fast::new(&cfg, &t).unwrap() else {
                assert!(
                    std::env::var_os("FENCI_REQUIRE_AVX512").is_none_or(|v| v != "1"),
                    "FENCI_REQUIRE_AVX512=1 but fenci's kernels cannot run here"
                );
                return;
            };
            let vb = VarBuilder::from_tensors(t.clone(), DType::F32, &Device::Cpu);
            let mut reference = qwen2::ModelForCausalLM::new(&cfg, vb).unwrap();
            // A prompt of 3 rows × 5 tokens, then two steps of one token per row on the cache.
            let prompt = Tensor::new(
                &[
                    [1u32, 7, 50, 202, 3],
                    [9, 9, 9, 100, 4],
                    [0, 201, 17, 60, 8],
                ],
                &Device::Cpu,
            )
            .unwrap();
            // One token a row, then three at once on the cache (the mask at an offset).
            let steps = [
                Tensor::new(&[[5u32], [6], [7]], &Device::Cpu).unwrap(),
                Tensor::new(&[[150u32, 3, 9], [2, 2, 2], [199, 0, 44]], &Device::Cpu).unwrap(),
            ];
            let mut offset = 0;
            for ids in std::iter::once(&prompt).chain(steps.iter()) {
                let a = fast.forward(ids, offset).unwrap();
                let b = reference.forward(ids, offset).unwrap();
                assert_eq!(a.dims(), b.dims());
                assert_eq!(a.dims(), &[3, 1, 203]);
                let diff = (a - b)
                    .unwrap()
                    .abs()
                    .unwrap()
                    .max_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap();
                assert!(
                    diff < 1e-4,
                    "tied {tied}, hidden {hidden}, window {window}, offset {offset}: max diff {diff}"
                );
                offset += ids.dim(1).unwrap();
            }
            // After clearing the cache, the prompt gives the same logits as the first time.
            fast.clear_kv_cache();
            reference.clear_kv_cache();
            let a = fast.forward(&prompt, 0).unwrap();
            let b = reference.forward(&prompt, 0).unwrap();
            let diff = (a - b).unwrap().abs().unwrap().max_all().unwrap();
            assert!(diff.to_scalar::<f32>().unwrap() < 1e-4);
        }
    }
}
