//! [`BertTagger`]: the encoder and classifier, one forward for training (differentiable
//! LayerNorm and softmax, seeded dropout) and inference (fused QKV, fenci's kernels).

use std::collections::HashMap;

use candle_core::{DType, Tensor, D};
use candle_nn::VarMap;

use super::fused::Fused;
use super::{varmap_map, Activation, BertConfig, LabelScheme, ModelError, Result};
use crate::kernels::MatMulT;

#[derive(Clone)]
pub(super) struct LayerNorm {
    pub(super) w: Tensor,
    pub(super) b: Tensor,
    pub(super) eps: f32,
}

impl LayerNorm {
    pub(super) fn forward(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        if train {
            candle_nn::ops::layer_norm_slow(x, &self.w, &self.b, self.eps)
        } else {
            candle_nn::ops::layer_norm(x, &self.w, &self.b, self.eps)
        }
    }
}

#[derive(Clone)]
pub(super) struct Linear {
    pub(super) w: Tensor,
    pub(super) b: Tensor,
}

impl Linear {
    /// `x` is 2-D [n, in].
    pub(super) fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.w.t()?)?.broadcast_add(&self.b)
    }
}

/// One encoder layer (shared by the tagger and the POS head of [`super::pos`]).
#[derive(Clone)]
pub(super) struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    /// q, k and v stacked into one projection for inference.
    qkv: Option<Linear>,
    /// The whole layer through fenci's fused kernels, for inference (tanh-GELU F32 models on
    /// the CPU).
    fused: Option<Fused>,
    attn_out: Linear,
    ln1: LayerNorm,
    inter: Linear,
    out: Linear,
    ln2: LayerNorm,
}

impl Layer {
    /// Builds the layer whose tensors are named `{prefix}.attention.self.query.weight` … as in
    /// HF; `fuse` prepares the inference-only fused QKV projection and kernels.
    pub(super) fn from_tensors(
        get: &dyn Fn(&str) -> Result<Tensor>,
        p: &str,
        fuse: bool,
        act: Activation,
        eps: f32,
    ) -> Result<Self> {
        let ln = |p: &str| -> Result<LayerNorm> {
            Ok(LayerNorm {
                w: get(&format!("{p}.weight"))?,
                b: get(&format!("{p}.bias"))?,
                eps,
            })
        };
        let lin = |p: &str| -> Result<Linear> {
            Ok(Linear {
                w: get(&format!("{p}.weight"))?,
                b: get(&format!("{p}.bias"))?,
            })
        };
        let q = lin(&format!("{p}.attention.self.query"))?;
        let k = lin(&format!("{p}.attention.self.key"))?;
        let v = lin(&format!("{p}.attention.self.value"))?;
        let qkv = if fuse {
            Some(Linear {
                w: Tensor::cat(&[&q.w, &k.w, &v.w], 0)?.contiguous()?,
                b: Tensor::cat(&[&q.b, &k.b, &v.b], 0)?.contiguous()?,
            })
        } else {
            None
        };
        let attn_out = lin(&format!("{p}.attention.output.dense"))?;
        let ln1 = ln(&format!("{p}.attention.output.LayerNorm"))?;
        let inter = lin(&format!("{p}.intermediate.dense"))?;
        let out = lin(&format!("{p}.output.dense"))?;
        let ln2 = ln(&format!("{p}.output.LayerNorm"))?;
        // The fused kernels compute tanh-GELU in F32 on the CPU.
        let fused = match &qkv {
            Some(qkv)
                if act == Activation::GeluTanh
                    && q.w.dtype() == DType::F32
                    && q.w.device().is_cpu() =>
            {
                use crate::kernels::{BiasGelu, BiasResidualNorm};
                Some(Fused {
                    qkv_w: MatMulT::new(&qkv.w)?,
                    qkv_b: qkv.b.to_vec1()?,
                    attn_out_w: MatMulT::new(&attn_out.w)?,
                    attn_norm: BiasResidualNorm::new(&attn_out.b, &ln1.w, &ln1.b, eps)?,
                    inter_w: MatMulT::new(&inter.w)?,
                    gelu: BiasGelu::new(&inter.b)?,
                    out_w: MatMulT::new(&out.w)?,
                    out_norm: BiasResidualNorm::new(&out.b, &ln2.w, &ln2.b, eps)?,
                })
            }
            _ => None,
        };
        Ok(Layer {
            q,
            k,
            v,
            qkv,
            fused,
            attn_out,
            ln1,
            inter,
            out,
            ln2,
        })
    }

    /// The layer on `x` `[b·t, h]`; `mask` `[b, t]` (1 attended, 0 padding, the model's dtype),
    /// `add_mask` its additive form `[b, 1, 1, t]`; `drop` is training mode when `Some`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn forward(
        &self,
        x: &Tensor,
        mask: &Tensor,
        add_mask: &Tensor,
        (b, t, nh): (usize, usize, usize),
        act: Activation,
        drop: Option<&Dropout>,
    ) -> candle_core::Result<Tensor> {
        let training = drop.is_some();
        let drop = |x: Tensor| match drop {
            Some(d) => d.apply(x),
            None => Ok(x),
        };
        if let (Some(f), false) = (&self.fused, training) {
            return f.forward(x, mask, nh);
        }
        let h = x.dim(1)?;
        let hd = h / nh;
        let scale = 1.0 / (hd as f64).sqrt();
        let (q, k, v) = match &self.qkv {
            Some(qkv) if !training => {
                let y = qkv.forward(x)?;
                (
                    y.narrow(1, 0, h)?,
                    y.narrow(1, h, h)?,
                    y.narrow(1, 2 * h, h)?,
                )
            }
            _ => (self.q.forward(x)?, self.k.forward(x)?, self.v.forward(x)?),
        };
        let heads = |y: Tensor| -> candle_core::Result<Tensor> {
            y.reshape((b, t, nh, hd))?.transpose(1, 2)?.contiguous()
        };
        let q = (heads(q)? * scale)?;
        let k = heads(k)?;
        let v = heads(v)?;
        let scores = q.matmul(&k.t()?)?.broadcast_add(add_mask)?;
        let probs = if training {
            candle_nn::ops::softmax(&scores, D::Minus1)?
        } else {
            candle_nn::ops::softmax_last_dim(&scores)?
        };
        let probs = drop(probs)?;
        let ctx = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b * t, h))?;
        let a = drop(self.attn_out.forward(&ctx)?)?;
        let x1 = self.ln1.forward(&(a + x)?, training)?;
        let i = self.inter.forward(&x1)?;
        let i = act.apply(&i)?;
        let o = drop(self.out.forward(&i)?)?;
        self.ln2.forward(&(o + x1)?, training)
    }

    /// The layer's fused kernels, if it has them.
    pub(super) fn fused_mut(&mut self) -> Option<&mut Fused> {
        self.fused.as_mut()
    }
}

/// fenci's seeded dropout (candle's CPU dropout cannot be seeded, so runs would not repeat):
/// each call draws a fresh mask from one generator.
pub(super) struct Dropout {
    p: f32,
    rng: std::cell::RefCell<rand::rngs::StdRng>,
}

impl Dropout {
    /// Dropout with probability `p`, masks drawn from `seed`.
    pub(super) fn new(p: f32, seed: u64) -> Self {
        Self {
            p,
            rng: std::cell::RefCell::new(<rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(
                seed,
            )),
        }
    }

    /// `x` with each element zeroed with probability `p`, the rest scaled by 1/(1-p).
    pub(super) fn apply(&self, x: Tensor) -> candle_core::Result<Tensor> {
        if self.p <= 0.0 {
            return Ok(x);
        }
        use rand::Rng;
        let p = self.p;
        let keep = 1.0 / (1.0 - p);
        let mut r = self.rng.borrow_mut();
        let m: Vec<f32> = (0..x.elem_count())
            .map(|_| if r.random::<f32>() < p { 0.0 } else { keep })
            .collect();
        let m = Tensor::from_vec(m, x.shape(), x.device())?;
        x * m
    }
}

/// The additive attention mask `[b, 1, 1, t]` (0 where attended, -1e4 on padding) of a 0/1
/// mask `[b, t]` already in the model's dtype.
pub(super) fn additive_mask(mask: &Tensor) -> candle_core::Result<Tensor> {
    let (b, t) = mask.dims2()?;
    ((mask - 1.0)? * 1e4)?.reshape((b, 1, 1, t))
}

/// A BERT encoder with a token-classification head.
#[derive(Clone)]
pub struct BertTagger {
    cfg: BertConfig,
    labels: LabelScheme,
    word: Tensor,
    pos: Tensor,
    /// The token-type table (row 0 only, unless the model has dictionary features).
    token_types: Tensor,
    emb_ln: LayerNorm,
    layers: Vec<Layer>,
    classifier: Linear,
    act: Activation,
}

impl std::fmt::Debug for BertTagger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BertTagger")
            .field("layers", &self.cfg.num_hidden_layers)
            .field("hidden", &self.cfg.hidden_size)
            .field("labels", &self.labels.names())
            .finish()
    }
}

impl BertTagger {
    /// Builds the tagger from tensors named as in HF (see [`tensor_shapes`]); `fuse` prepares
    /// the inference-only fused QKV projection (leave it off for training).
    pub fn from_tensors(cfg: &BertConfig, t: &HashMap<String, Tensor>, fuse: bool) -> Result<Self> {
        let labels = cfg.labels("config.json")?;
        let act = cfg.activation("config.json")?;
        let get = |name: &str| -> Result<Tensor> {
            t.get(name).cloned().ok_or_else(|| ModelError::BadWeights {
                file: "model".into(),
                message: format!("tensor `{name}` is missing"),
            })
        };
        let eps = cfg.layer_norm_eps as f32;
        let ln = |p: &str| -> Result<LayerNorm> {
            Ok(LayerNorm {
                w: get(&format!("{p}.weight"))?,
                b: get(&format!("{p}.bias"))?,
                eps,
            })
        };
        let lin = |p: &str| -> Result<Linear> {
            Ok(Linear {
                w: get(&format!("{p}.weight"))?,
                b: get(&format!("{p}.bias"))?,
            })
        };
        let mut layers = Vec::new();
        for i in 0..cfg.num_hidden_layers {
            layers.push(Layer::from_tensors(
                &get,
                &format!("bert.encoder.layer.{i}"),
                fuse,
                act,
                eps,
            )?);
        }
        Ok(Self {
            labels,
            word: get("bert.embeddings.word_embeddings.weight")?,
            pos: get("bert.embeddings.position_embeddings.weight")?,
            token_types: {
                let t = get("bert.embeddings.token_type_embeddings.weight")?;
                if cfg.has_word_features() {
                    t
                } else {
                    t.narrow(0, 0, 1)?
                }
            },
            emb_ln: ln("bert.embeddings.LayerNorm")?,
            layers,
            classifier: lin("classifier")?,
            act,
            cfg: cfg.clone(),
        })
    }

    /// Builds a trainable tagger whose tensors live in `varmap` (so an optimizer can update them).
    pub fn from_varmap(cfg: &BertConfig, varmap: &VarMap) -> Result<Self> {
        Self::from_tensors(cfg, &varmap_map(varmap), false)
    }

    /// Sets the arithmetic of the inference kernels' matrix products (see
    /// [`crate::kernels::Precision`]). Returns false, leaving the model in F32, where this CPU
    /// or model cannot run `p` (no AVX512-BF16, or no fused inference layers).
    pub fn set_precision(&mut self, p: crate::kernels::Precision) -> bool {
        let mut fused: Vec<&mut Fused> = self
            .layers
            .iter_mut()
            .filter_map(|l| l.fused_mut())
            .collect();
        if fused.is_empty() || fused.len() < self.cfg.num_hidden_layers {
            return p == crate::kernels::Precision::F32;
        }
        let mut ok = true;
        for m in fused.iter_mut().flat_map(|f| f.matmuls()) {
            ok &= m.set_precision(p);
        }
        if !ok {
            for m in fused.iter_mut().flat_map(|f| f.matmuls()) {
                m.set_precision(crate::kernels::Precision::F32);
            }
        }
        ok
    }

    /// The config.
    pub fn config(&self) -> &BertConfig {
        &self.cfg
    }

    /// The label scheme.
    pub fn labels(&self) -> &LabelScheme {
        &self.labels
    }

    /// Logits `[batch, seq, labels]` for token ids `[batch, seq]`, token-type ids (u32, the same
    /// shape; used only by a model with dictionary features, else type 0 everywhere) and a 0/1
    /// attention mask `[batch, seq]` (u32 or f32). `train = Some((p, seed))` turns on training mode:
    /// differentiable LayerNorm/softmax and dropout with probability `p`, its masks drawn from
    /// `seed` (candle's CPU dropout cannot be seeded, so runs would not repeat).
    pub fn forward(
        &self,
        ids: &Tensor,
        types: &Tensor,
        mask: &Tensor,
        train: Option<(f32, u64)>,
    ) -> candle_core::Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let x = self.encode(ids, types, mask, train)?;
        let logits = self.classifier.forward(&x)?;
        logits.reshape((b, t, self.labels.len()))
    }

    /// The encoder's last hidden states `[batch · seq, hidden]` (row-major by batch); arguments
    /// as for [`BertTagger::forward`].
    pub fn encode(
        &self,
        ids: &Tensor,
        types: &Tensor,
        mask: &Tensor,
        train: Option<(f32, u64)>,
    ) -> candle_core::Result<Tensor> {
        let mut all = self.hidden_states(ids, types, mask, train, false)?;
        Ok(all.pop().expect("at least the embeddings"))
    }

    /// Every hidden state `[batch · seq, hidden]`: the embeddings' output, then each layer's
    /// (the last is [`BertTagger::encode`]'s); with `all` false only the last.
    pub fn hidden_states(
        &self,
        ids: &Tensor,
        types: &Tensor,
        mask: &Tensor,
        train: Option<(f32, u64)>,
        all: bool,
    ) -> candle_core::Result<Vec<Tensor>> {
        let (b, t) = ids.dims2()?;
        if t > self.cfg.max_position_embeddings {
            candle_core::bail!(
                "sequence of {t} tokens exceeds max_position_embeddings {}",
                self.cfg.max_position_embeddings
            );
        }
        let drop = train.map(|(p, seed)| Dropout::new(p, seed));
        let dropout = |x: Tensor| match &drop {
            Some(d) => d.apply(x),
            None => Ok(x),
        };
        let training = drop.is_some();
        let h = self.cfg.hidden_size;
        let nh = self.cfg.num_attention_heads;
        let flat_ids = ids.flatten_all()?;
        let we = self.word.embedding(&flat_ids)?.reshape((b, t, h))?;
        let pe = self.pos.narrow(0, 0, t)?;
        let x = if self.cfg.has_word_features() {
            let te = self
                .token_types
                .embedding(&types.flatten_all()?)?
                .reshape((b, t, h))?;
            we.broadcast_add(&pe)?.add(&te)?
        } else {
            we.broadcast_add(&pe)?.broadcast_add(&self.token_types)?
        };
        let x = self.emb_ln.forward(&x, training)?;
        let x = dropout(x)?;
        let mask = mask.to_dtype(self.word.dtype())?.contiguous()?;
        let add_mask = additive_mask(&mask)?;
        let mut x = x.reshape((b * t, h))?;
        let mut states = Vec::new();
        for layer in &self.layers {
            let next = layer.forward(&x, &mask, &add_mask, (b, t, nh), self.act, drop.as_ref())?;
            if all {
                states.push(x);
            }
            x = next;
        }
        states.push(x);
        Ok(states)
    }

    /// The classifier's logits `[rows, labels]` for hidden states `[rows, hidden]` (from
    /// [`BertTagger::encode`]).
    pub fn classify(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.classifier.forward(x)
    }

    /// The word-embedding table `[vocab, hidden]` (an MLM head's tied decoder).
    pub fn word_embeddings(&self) -> &Tensor {
        &self.word
    }
}
