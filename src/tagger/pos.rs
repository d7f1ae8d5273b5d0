//! [`PosHead`]: a part-of-speech tagger over the segmentation encoder's hidden states —
//! `num_layers` new encoder layers (shaped like the tagger's, same attention mask) and a linear
//! classifier to the POS tags, one distribution per character. The head's input is the mean of
//! the encoder's hidden states (the embeddings' output and every layer's,
//! [`super::BertTagger::hidden_states`]): the last layer alone, trained for word boundaries,
//! keeps too little of which word a character belongs to (a 1-layer head over it reached 80.6%
//! dev accuracy after 300 steps, under the 90.7% of a most-frequent-tag lookup). The segmentation encoder stays
//! frozen, so segmentation is the same with or without the head. Its tensors are `fenci_pos.*`
//! in the model's weights file and its config the `fenci_pos` key of `config.json`
//! ([`super::PosConfig`]); a `BertForTokenClassification` in transformers ignores both.

use std::collections::HashMap;

use candle_core::Tensor;

use super::bert::{additive_mask, Dropout, Layer, Linear};
use super::{Activation, BertConfig, ModelError, PosConfig, Result, POS_KEY};

/// The part-of-speech head of a model (see the module documentation).
#[derive(Clone)]
pub struct PosHead {
    cfg: PosConfig,
    layers: Vec<Layer>,
    classifier: Linear,
    act: Activation,
    heads: usize,
    /// The word-tag counts combined with the head's scores ([`PosHead::with_lexicon`]).
    lexicon: Option<std::sync::Arc<super::PosLexicon>>,
    /// The word-level model combined with the head's scores ([`PosHead::with_context`]).
    context: Option<std::sync::Arc<super::PosContext>>,
}

impl std::fmt::Debug for PosHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PosHead")
            .field("layers", &self.cfg.num_layers)
            .field("tags", &self.cfg.tags.len())
            .finish()
    }
}

impl PosHead {
    /// The head a config declares, built from `t` (HF-named tensors, the head's `fenci_pos.*`
    /// among them); `None` for a model without one. `fuse` prepares the inference kernels
    /// (leave it off for training).
    pub fn from_tensors(
        cfg: &BertConfig,
        t: &HashMap<String, Tensor>,
        fuse: bool,
    ) -> Result<Option<Self>> {
        let Some(pos) = cfg.pos_head("config.json")? else {
            return Ok(None);
        };
        let act = cfg.activation("config.json")?;
        let get = |name: &str| -> Result<Tensor> {
            t.get(name).cloned().ok_or_else(|| ModelError::BadWeights {
                file: "model".into(),
                message: format!("tensor `{name}` of the part-of-speech head is missing"),
            })
        };
        let eps = cfg.layer_norm_eps as f32;
        let layers = (0..pos.num_layers)
            .map(|i| Layer::from_tensors(&get, &format!("{POS_KEY}.layer.{i}"), fuse, act, eps))
            .collect::<Result<Vec<_>>>()?;
        let classifier = Linear {
            w: get(&format!("{POS_KEY}.classifier.weight"))?,
            b: get(&format!("{POS_KEY}.classifier.bias"))?,
        };
        Ok(Some(Self {
            cfg: pos,
            layers,
            classifier,
            act,
            heads: cfg.num_attention_heads,
            lexicon: None,
            context: None,
        }))
    }

    /// Attaches the word-tag counts (`pos_lexicon.txt`) the config's `lexicon_weight` and
    /// `lexicon_smoothing` combine with the head's scores; without them in the config the text
    /// is ignored. The error names what is wrong.
    pub fn with_lexicon(mut self, text: Option<&str>) -> Result<Self> {
        let Some(prior) = self.cfg.lexicon else {
            return Ok(self);
        };
        let bad = |message: String| ModelError::BadConfig {
            path: super::POS_LEXICON_FILE.into(),
            message,
        };
        let text = text.ok_or_else(|| {
            bad("config.json declares a POS lexicon (lexicon_weight) but the file is missing; copy it from where the model came from".into())
        })?;
        let lex = super::PosLexicon::parse(text, &self.cfg.tags, prior.weight, prior.smoothing)
            .map_err(bad)?;
        self.lexicon = Some(std::sync::Arc::new(lex));
        Ok(self)
    }

    /// Attaches the word-level context model (`pos_context.txt`) the config's
    /// `context_head_weight` and `context_temperature` combine with the head's scores; without
    /// them in the config the text is ignored. The error names what is wrong.
    pub fn with_context(mut self, text: Option<&str>) -> Result<Self> {
        let Some(w) = self.cfg.context else {
            return Ok(self);
        };
        let bad = |message: String| ModelError::BadWeights {
            file: super::POS_CONTEXT_FILE.into(),
            message,
        };
        let text = text.ok_or_else(|| {
            bad("config.json declares a POS context model (context_head_weight) but the file is missing; copy it from where the model came from".into())
        })?;
        let m = super::PosContext::parse(text, &self.cfg.tags, w.head_weight, w.temperature)
            .map_err(bad)?;
        self.context = Some(std::sync::Arc::new(m));
        Ok(self)
    }

    /// The word-level context model, where the model has one.
    pub fn context(&self) -> Option<&super::PosContext> {
        self.context.as_deref()
    }

    /// The word-tag counts, where the model has them.
    pub fn lexicon(&self) -> Option<&super::PosLexicon> {
        self.lexicon.as_deref()
    }

    /// The head's config (tags, layers).
    pub fn config(&self) -> &PosConfig {
        &self.cfg
    }

    /// Tag names by id.
    pub fn tags(&self) -> &[String] {
        &self.cfg.tags
    }

    /// POS logits `[batch · seq, tags]` for the encoder's hidden states `states`, each
    /// `[batch · seq, hidden]` ([`super::BertTagger::hidden_states`] with `all`), under the same
    /// 0/1 attention mask `[batch, seq]`. `train = Some((p, seed))`: training mode (differentiable LayerNorm and
    /// softmax, fenci's seeded dropout with probability `p`).
    pub fn forward(
        &self,
        states: &[Tensor],
        mask: &Tensor,
        train: Option<(f32, u64)>,
    ) -> candle_core::Result<Tensor> {
        let (b, t) = mask.dims2()?;
        let Some(first) = states.first() else {
            candle_core::bail!("the POS head needs the encoder's hidden states");
        };
        let drop = train.map(|(p, seed)| Dropout::new(p, seed));
        let mask = mask.to_dtype(first.dtype())?.contiguous()?;
        let add_mask = additive_mask(&mask)?;
        let mut x = first.clone();
        for s in &states[1..] {
            x = (x + s)?;
        }
        let mut x = (x / states.len() as f64)?;
        for layer in &self.layers {
            x = layer.forward(
                &x,
                &mask,
                &add_mask,
                (b, t, self.heads),
                self.act,
                drop.as_ref(),
            )?;
        }
        self.classifier.forward(&x)
    }

    /// Sets the arithmetic of the fused layers' matrix products (as
    /// [`super::BertTagger::set_precision`]); false, F32 kept, where that fails.
    pub fn set_precision(&mut self, p: crate::kernels::Precision) -> bool {
        let n = self.layers.len();
        let mut fused: Vec<_> = self
            .layers
            .iter_mut()
            .filter_map(|l| l.fused_mut())
            .collect();
        if fused.len() < n {
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
}

/// Random initial tensors of a POS head for `cfg`'s encoder (BERT's init, from `seed`).
pub fn init_pos_tensors(
    cfg: &BertConfig,
    pos: &PosConfig,
    seed: u64,
) -> Result<Vec<(String, Tensor)>> {
    super::weights::init_shapes(super::weights::pos_tensor_shapes(cfg, pos), seed)
}

/// Whether a tensor name belongs to a POS head.
pub fn is_pos_tensor(name: &str) -> bool {
    name.starts_with(POS_KEY) && name[POS_KEY.len()..].starts_with('.')
}
