//! The BERT character tagger: `BertForTokenClassification` in candle, in the Hugging Face layout.
//!
//! * [`BertConfig`] is `config.json` (BertConfig fields, `id2label`/`label2id`, `architectures`);
//!   unknown fields are kept so a loaded config is written back unchanged.
//! * [`LabelScheme`] reads the label set from `id2label`: BMES/BIES or B/I.
//! * [`BertTagger`] is the encoder plus a linear `classifier`, with tensors named exactly as in
//!   transformers (`bert.embeddings.word_embeddings.weight`, …, `classifier.bias`).
//!
//! Two things differ from candle-transformers' BERT on purpose: in training mode the encoder uses a
//! LayerNorm and softmax built from differentiable ops (the fused candle kernels have no backward
//! pass) and real dropout; in inference mode it uses the fused kernels and a fused QKV projection.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::VarMap;

use crate::kernels::MatMulT;
use crate::lexicon::{WordFeatures, WordSet};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Errors from loading, checking or running a model. Each names the file or tensor at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `config.json` is not valid JSON or lacks required fields.
    #[error("{path}: not a valid BERT config.json: {message}")]
    BadConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The config is valid JSON but describes something fenci cannot run.
    #[error("{file}: unsupported model: {message}")]
    Unsupported {
        /// The file.
        file: String,
        /// What is wrong and what fenci supports.
        message: String,
    },
    /// A weights file is truncated, corrupt, or its tensors do not match the config.
    #[error("{file}: {message}")]
    BadWeights {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// An error inside candle while running the model.
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
}

/// Result type of this module.
pub type Result<T> = std::result::Result<T, ModelError>;

fn default_act() -> String {
    "gelu".into()
}
fn default_eps() -> f64 {
    1e-12
}
fn default_type_vocab() -> usize {
    2
}
fn default_dropout() -> f64 {
    0.1
}

/// The word list of a model trained with dictionary features, beside its config.json.
pub const WORDS_FILE: &str = "lexicon.txt";

/// `config.json` of a `BertForTokenClassification` checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BertConfig {
    /// Rows of the word-embedding table.
    pub vocab_size: usize,
    /// Width of every layer.
    pub hidden_size: usize,
    /// Number of transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer (must divide `hidden_size`).
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// `gelu` (erf), `gelu_new` / `gelu_pytorch_tanh` (tanh approximation) or `relu`.
    #[serde(default = "default_act")]
    pub hidden_act: String,
    /// Dropout after embeddings, attention output and feed-forward output.
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities.
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    /// Longest input in tokens, [CLS] and [SEP] included.
    pub max_position_embeddings: usize,
    /// Rows of the token-type table.
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// Id of [PAD].
    #[serde(default)]
    pub pad_token_id: usize,
    /// `bert` (RoBERTa-wwm checkpoints also say `bert`).
    #[serde(default)]
    pub model_type: Option<String>,
    /// e.g. `["BertForTokenClassification"]`.
    #[serde(default)]
    pub architectures: Option<Vec<String>>,
    /// Label names by id, as strings (`{"0": "B", …}`).
    #[serde(default)]
    pub id2label: BTreeMap<String, String>,
    /// Inverse of `id2label`.
    #[serde(default)]
    pub label2id: BTreeMap<String, usize>,
    /// Every other field of the file, kept as it was.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl BertConfig {
    /// A fresh config for a tagger trained by fenci.
    pub fn new_tagger(
        vocab_size: usize,
        layers: usize,
        hidden: usize,
        heads: usize,
        max_positions: usize,
        labels: &LabelScheme,
    ) -> Self {
        let names = labels.names();
        Self {
            vocab_size,
            hidden_size: hidden,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            intermediate_size: hidden * 4,
            hidden_act: "gelu_new".into(),
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            max_position_embeddings: max_positions,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            pad_token_id: 0,
            model_type: Some("bert".into()),
            architectures: Some(vec!["BertForTokenClassification".into()]),
            id2label: names
                .iter()
                .enumerate()
                .map(|(i, n)| (i.to_string(), n.to_string()))
                .collect(),
            label2id: names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.to_string(), i))
                .collect(),
            extra: Default::default(),
        }
    }

    /// Parses and checks a config.json text; `file` names it in errors.
    pub fn from_json(text: &str, file: &Path) -> Result<Self> {
        let cfg: BertConfig = serde_json::from_str(text).map_err(|e| ModelError::BadConfig {
            path: file.to_path_buf(),
            message: e.to_string(),
        })?;
        cfg.validate(&file.display().to_string())?;
        Ok(cfg)
    }

    /// Reads and checks `config.json`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&text, path)
    }

    /// The config as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("config serializes")
    }

    fn validate(&self, file: &str) -> Result<()> {
        let unsupported = |message: String| ModelError::Unsupported {
            file: file.to_string(),
            message,
        };
        if let Some(mt) = &self.model_type {
            if !matches!(mt.as_str(), "bert" | "roberta") {
                return Err(unsupported(format!(
                    "model_type \"{mt}\"; fenci runs BERT-style token classifiers (model_type \"bert\")"
                )));
            }
        }
        if let Some(archs) = &self.architectures {
            if !archs.is_empty()
                && !archs
                    .iter()
                    .any(|a| a == "BertForTokenClassification" || a == "BertModel")
            {
                return Err(unsupported(format!(
                    "architectures {archs:?}; fenci runs BertForTokenClassification checkpoints"
                )));
            }
        }
        let zero = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
        ];
        for (name, v) in zero {
            if v == 0 || v > 1 << 22 {
                return Err(unsupported(format!("{name} = {v} is out of range")));
            }
        }
        if self.max_position_embeddings < 3 {
            return Err(unsupported(
                "max_position_embeddings must be at least 3 ([CLS], a character, [SEP])".into(),
            ));
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(unsupported(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            )));
        }
        if !matches!(
            self.hidden_act.as_str(),
            "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "relu"
        ) {
            return Err(unsupported(format!(
                "hidden_act \"{}\"; fenci supports gelu, gelu_new, gelu_pytorch_tanh, relu",
                self.hidden_act
            )));
        }
        self.labels(file)?;
        if let Some(v) = self.extra.get(crate::lexicon::CONFIG_KEY) {
            if v.as_str() != Some(WORDS_FILE) {
                return Err(unsupported(format!(
                    "{} is {v}; this version of fenci reads dictionary features only from \"{WORDS_FILE}\"",
                    crate::lexicon::CONFIG_KEY
                )));
            }
            if self.type_vocab_size < crate::lexicon::FEATURE_TYPES {
                return Err(unsupported(format!(
                    "dictionary features need type_vocab_size ≥ {}, the file says {}",
                    crate::lexicon::FEATURE_TYPES,
                    self.type_vocab_size
                )));
            }
        }
        Ok(())
    }

    /// Whether the model was trained with dictionary features (its token-type ids come from
    /// [`crate::lexicon::WordFeatures`] over the word list in [`WORDS_FILE`]).
    pub fn has_word_features(&self) -> bool {
        self.extra.contains_key(crate::lexicon::CONFIG_KEY)
    }

    /// The label scheme named by `id2label`.
    pub fn labels(&self, file: &str) -> Result<LabelScheme> {
        let mut names = Vec::new();
        for i in 0..self.id2label.len() {
            match self.id2label.get(&i.to_string()) {
                Some(n) => names.push(n.clone()),
                None => {
                    return Err(ModelError::Unsupported {
                        file: file.to_string(),
                        message: format!("id2label has no entry for id {i}"),
                    })
                }
            }
        }
        LabelScheme::from_names(&names).map_err(|message| ModelError::Unsupported {
            file: file.to_string(),
            message,
        })
    }
}

/// The tag of one character position in a segmentation label set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// First character of a multi-character word (B/I: first of any word).
    Begin,
    /// Inside a word (M of BMES, I of B/I).
    Middle,
    /// Last character of a multi-character word (BMES only).
    End,
    /// A one-character word (BMES only).
    Single,
}

impl Tag {
    /// Does a word start at this position?
    pub fn starts_word(self) -> bool {
        matches!(self, Tag::Begin | Tag::Single)
    }
}

/// How label ids map to tags: BMES (BIES) or B/I.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelScheme {
    tags: Vec<Tag>,
    names: Vec<String>,
}

impl LabelScheme {
    /// The default BMES scheme: ids 0..4 = B, M, E, S.
    pub fn bmes() -> Self {
        Self::from_names(&["B", "M", "E", "S"].map(String::from)).expect("valid")
    }

    /// The B/I scheme of ckiplab's segmenters: ids 0..2 = B, I.
    pub fn bi() -> Self {
        Self::from_names(&["B", "I"].map(String::from)).expect("valid")
    }

    /// Builds a scheme from label names in id order. Accepts BMES/BIES (any order, optional
    /// `-WORD`/`S-` style prefixes are not used by segmenters and are refused) or B/I.
    pub fn from_names(names: &[String]) -> std::result::Result<Self, String> {
        let norm: Vec<String> = names
            .iter()
            .map(|n| n.trim().to_ascii_uppercase())
            .collect();
        let mut tags = Vec::new();
        let is_bmes = norm.len() == 4;
        let is_bi = norm.len() == 2;
        for n in &norm {
            let t = match (n.as_str(), is_bmes, is_bi) {
                ("B", _, _) => Tag::Begin,
                ("M" | "I", true, _) => Tag::Middle,
                ("I", _, true) => Tag::Middle,
                ("E", true, _) => Tag::End,
                ("S", true, _) => Tag::Single,
                _ => {
                    return Err(format!(
                        "label set {names:?} is not a word-segmentation label set; \
                         fenci supports BMES/BIES (4 labels) and B/I (2 labels)"
                    ))
                }
            };
            if tags.contains(&t) {
                return Err(format!("label set {names:?} repeats a label"));
            }
            tags.push(t);
        }
        if tags.is_empty() || (is_bmes && tags.len() != 4) || (is_bi && tags.len() != 2) {
            return Err(format!(
                "label set {names:?} is not a word-segmentation label set; \
                 fenci supports BMES/BIES (4 labels) and B/I (2 labels)"
            ));
        }
        Ok(Self {
            tags,
            names: names.to_vec(),
        })
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    /// Always false: a scheme has 2 or 4 labels.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// Is this the two-label B/I scheme?
    pub fn is_bi(&self) -> bool {
        self.tags.len() == 2
    }

    /// The tag of label id `i`.
    pub fn tag(&self, i: usize) -> Tag {
        self.tags[i]
    }

    /// The label id of a tag (B/I maps End→Begin-less Middle, Single→Begin).
    pub fn id(&self, t: Tag) -> usize {
        let t = if self.is_bi() {
            match t {
                Tag::Begin | Tag::Single => Tag::Begin,
                Tag::Middle | Tag::End => Tag::Middle,
            }
        } else {
            t
        };
        self.tags
            .iter()
            .position(|&x| x == t)
            .expect("tag in scheme")
    }

    /// Label names in id order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Is `b` allowed to follow `a`?
    pub fn allowed(&self, a: Tag, b: Tag) -> bool {
        if self.is_bi() {
            return true;
        }
        match a {
            Tag::Begin | Tag::Middle => matches!(b, Tag::Middle | Tag::End),
            Tag::End | Tag::Single => matches!(b, Tag::Begin | Tag::Single),
        }
    }

    /// May a sentence start with `t`?
    pub fn allowed_start(&self, t: Tag) -> bool {
        t.starts_word()
    }

    /// May a sentence end with `t`?
    pub fn allowed_end(&self, t: Tag) -> bool {
        self.is_bi() || matches!(t, Tag::End | Tag::Single)
    }

    /// Tags for a word of `n` units.
    pub fn word_tags(&self, n: usize) -> Vec<usize> {
        (0..n)
            .map(|i| {
                let t = match (i, n) {
                    (_, 1) => Tag::Single,
                    (0, _) => Tag::Begin,
                    (i, n) if i + 1 == n => Tag::End,
                    _ => Tag::Middle,
                };
                self.id(t)
            })
            .collect()
    }
}

/// The names of every tensor of a tagger with this config, with their shapes, in HF layout.
pub fn tensor_shapes(cfg: &BertConfig, n_labels: usize) -> Vec<(String, Vec<usize>)> {
    let h = cfg.hidden_size;
    let mut v = vec![
        (
            "bert.embeddings.word_embeddings.weight".to_string(),
            vec![cfg.vocab_size, h],
        ),
        (
            "bert.embeddings.position_embeddings.weight".into(),
            vec![cfg.max_position_embeddings, h],
        ),
        (
            "bert.embeddings.token_type_embeddings.weight".into(),
            vec![cfg.type_vocab_size, h],
        ),
        ("bert.embeddings.LayerNorm.weight".into(), vec![h]),
        ("bert.embeddings.LayerNorm.bias".into(), vec![h]),
    ];
    for i in 0..cfg.num_hidden_layers {
        let p = format!("bert.encoder.layer.{i}");
        for (name, out, inp) in [
            ("attention.self.query", h, h),
            ("attention.self.key", h, h),
            ("attention.self.value", h, h),
            ("attention.output.dense", h, h),
            ("intermediate.dense", cfg.intermediate_size, h),
            ("output.dense", h, cfg.intermediate_size),
        ] {
            v.push((format!("{p}.{name}.weight"), vec![out, inp]));
            v.push((format!("{p}.{name}.bias"), vec![out]));
        }
        for name in ["attention.output.LayerNorm", "output.LayerNorm"] {
            v.push((format!("{p}.{name}.weight"), vec![h]));
            v.push((format!("{p}.{name}.bias"), vec![h]));
        }
    }
    v.push(("classifier.weight".into(), vec![n_labels, h]));
    v.push(("classifier.bias".into(), vec![n_labels]));
    v
}

/// Names every older checkpoint may use instead of the current HF names.
fn legacy_name(name: &str) -> Option<String> {
    if let Some(p) = name.strip_suffix("LayerNorm.weight") {
        return Some(format!("{p}LayerNorm.gamma"));
    }
    if let Some(p) = name.strip_suffix("LayerNorm.bias") {
        return Some(format!("{p}LayerNorm.beta"));
    }
    None
}

/// Picks each tensor the config needs out of `raw`, checking shapes, converting to F32.
/// `file` names the weights file in errors. Tolerates `roberta.` prefixes and `gamma`/`beta`.
pub fn select_tensors(
    raw: &HashMap<String, Tensor>,
    cfg: &BertConfig,
    n_labels: usize,
    file: &str,
) -> Result<HashMap<String, Tensor>> {
    // A config that claims more layers than the file holds fails here, before the list of
    // (for millions of layers: gigabytes of) tensor names it implies is built.
    let layers_in_file = raw
        .keys()
        .filter_map(|k| {
            let rest = &k[k.find("encoder.layer.")? + "encoder.layer.".len()..];
            rest.split('.').next()?.parse::<usize>().ok()
        })
        .max()
        .map_or(0, |m| m + 1);
    if cfg.num_hidden_layers > layers_in_file {
        return Err(ModelError::BadWeights {
            file: file.to_string(),
            message: format!(
                "config.json says num_hidden_layers = {} but the file holds {layers_in_file} layers",
                cfg.num_hidden_layers
            ),
        });
    }
    let mut out = HashMap::new();
    for (name, shape) in tensor_shapes(cfg, n_labels) {
        let mut candidates = vec![name.clone()];
        if let Some(rest) = name.strip_prefix("bert.") {
            candidates.push(format!("roberta.{rest}"));
            candidates.push(rest.to_string());
        }
        let extra: Vec<String> = candidates.iter().filter_map(|c| legacy_name(c)).collect();
        candidates.extend(extra);
        let t = candidates.iter().find_map(|c| raw.get(c)).ok_or_else(|| {
            let hint = if name.starts_with("classifier") {
                " (is this a token-classification checkpoint? a bare encoder has no classifier)"
            } else {
                ""
            };
            ModelError::BadWeights {
                file: file.to_string(),
                message: format!("tensor `{name}` is missing{hint}"),
            }
        })?;
        if t.dims() != shape.as_slice() {
            return Err(ModelError::BadWeights {
                file: file.to_string(),
                message: format!(
                    "tensor `{name}` has shape {:?} but config.json implies {:?}",
                    t.dims(),
                    shape
                ),
            });
        }
        if !matches!(
            t.dtype(),
            DType::F32 | DType::F16 | DType::BF16 | DType::F64
        ) {
            return Err(ModelError::BadWeights {
                file: file.to_string(),
                message: format!(
                    "tensor `{name}` has dtype {:?}; expected a float type",
                    t.dtype()
                ),
            });
        }
        let t = t.to_dtype(DType::F32)?;
        // A bit-flipped file can hold NaN/inf: refuse it rather than tag garbage.
        let finite = t
            .flatten_all()?
            .to_vec1::<f32>()?
            .iter()
            .all(|x| x.is_finite());
        if !finite {
            return Err(ModelError::BadWeights {
                file: file.to_string(),
                message: format!("tensor `{name}` holds NaN or infinite values (corrupt file?)"),
            });
        }
        out.insert(name, t);
    }
    Ok(out)
}

/// Parses a safetensors buffer into tensors, with an error that names `file`.
pub fn parse_safetensors(bytes: &[u8], file: &str) -> Result<HashMap<String, Tensor>> {
    // Validate the header ourselves first: candle's loader can panic on some corrupt inputs.
    safetensors::SafeTensors::deserialize(bytes).map_err(|e| ModelError::BadWeights {
        file: file.to_string(),
        message: format!("not a valid safetensors file ({e}); re-download or re-export it"),
    })?;
    candle_core::safetensors::load_buffer(bytes, &Device::Cpu).map_err(|e| ModelError::BadWeights {
        file: file.to_string(),
        message: format!("cannot read tensors: {e}"),
    })
}

/// Random initial weights for a fresh tagger (BERT's init: N(0, 0.02), LayerNorm 1/0).
pub fn init_tensors(cfg: &BertConfig, n_labels: usize, seed: u64) -> Result<Vec<(String, Tensor)>> {
    init_shapes(tensor_shapes(cfg, n_labels), seed)
}

/// BERT's init for named shapes: LayerNorm weights 1, biases 0, the rest N(0, 0.02).
fn init_shapes(shapes: Vec<(String, Vec<usize>)>, seed: u64) -> Result<Vec<(String, Tensor)>> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for (name, shape) in shapes {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = if name.ends_with("LayerNorm.weight") {
            vec![1.0; n]
        } else if name.ends_with(".bias") {
            vec![0.0; n]
        } else {
            // Box-Muller normal samples, std 0.02.
            (0..n)
                .map(|_| {
                    let u1: f32 = rng.random::<f32>().max(1e-7);
                    let u2: f32 = rng.random::<f32>();
                    0.02 * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
                })
                .collect()
        };
        out.push((name, Tensor::from_vec(data, shape, &Device::Cpu)?));
    }
    Ok(out)
}

#[derive(Clone)]
struct LayerNorm {
    w: Tensor,
    b: Tensor,
    eps: f32,
}

impl LayerNorm {
    fn forward(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        if train {
            candle_nn::ops::layer_norm_slow(x, &self.w, &self.b, self.eps)
        } else {
            candle_nn::ops::layer_norm(x, &self.w, &self.b, self.eps)
        }
    }
}

#[derive(Clone)]
struct Linear {
    w: Tensor,
    b: Tensor,
}

impl Linear {
    /// `x` is 2-D [n, in].
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.w.t()?)?.broadcast_add(&self.b)
    }
}

#[derive(Clone)]
struct Layer {
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

/// One encoder layer for inference on the CPU through fenci's fused kernels
/// ([`crate::kernels`]): AVX-512 linear layers and attention where the CPU has it, q/k/v bias +
/// head split and masked softmax elsewhere, output bias + residual +
/// LayerNorm, bias + tanh-GELU.
#[derive(Clone)]
struct Fused {
    qkv_w: MatMulT,
    qkv_b: Vec<f32>,
    attn_out_w: MatMulT,
    attn_norm: crate::kernels::BiasResidualNorm,
    inter_w: MatMulT,
    gelu: crate::kernels::BiasGelu,
    out_w: MatMulT,
    out_norm: crate::kernels::BiasResidualNorm,
}

impl Fused {
    /// The layer's four matrix products.
    fn matmuls(&mut self) -> [&mut MatMulT; 4] {
        [
            &mut self.qkv_w,
            &mut self.attn_out_w,
            &mut self.inter_w,
            &mut self.out_w,
        ]
    }

    /// `x`: `[b·t, h]`; `mask`: `[b, t]` F32 (1 attended, 0 padding).
    fn forward(&self, x: &Tensor, mask: &Tensor, heads: usize) -> candle_core::Result<Tensor> {
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

#[derive(Clone, Copy, PartialEq)]
enum Act {
    GeluErf,
    GeluTanh,
    Relu,
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
    act: Act,
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
            let p = format!("bert.encoder.layer.{i}");
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
                    if matches!(cfg.hidden_act.as_str(), "gelu_new" | "gelu_pytorch_tanh")
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
            layers.push(Layer {
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
            });
        }
        let act = match cfg.hidden_act.as_str() {
            "gelu" => Act::GeluErf,
            "relu" => Act::Relu,
            _ => Act::GeluTanh,
        };
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
            .filter_map(|l| l.fused.as_mut())
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
        let (b, t) = ids.dims2()?;
        if t > self.cfg.max_position_embeddings {
            candle_core::bail!(
                "sequence of {t} tokens exceeds max_position_embeddings {}",
                self.cfg.max_position_embeddings
            );
        }
        let training = train.is_some();
        let rng = std::cell::RefCell::new(
            <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(train.map_or(0, |t| t.1)),
        );
        let drop = |x: Tensor| -> candle_core::Result<Tensor> {
            match train {
                Some((p, _)) if p > 0.0 => {
                    use rand::Rng;
                    let keep = 1.0 / (1.0 - p);
                    let mut r = rng.borrow_mut();
                    let m: Vec<f32> = (0..x.elem_count())
                        .map(|_| if r.random::<f32>() < p { 0.0 } else { keep })
                        .collect();
                    let m = Tensor::from_vec(m, x.shape(), x.device())?;
                    x * m
                }
                _ => Ok(x),
            }
        };
        let h = self.cfg.hidden_size;
        let nh = self.cfg.num_attention_heads;
        let hd = h / nh;
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
        let x = drop(x)?;
        // Additive mask [b, 1, 1, t]: 0 where attended, -1e4 on padding.
        let mask = mask.to_dtype(self.word.dtype())?.contiguous()?;
        let add_mask = ((&mask - 1.0)? * 1e4)?.reshape((b, 1, 1, t))?;
        let scale = 1.0 / (hd as f64).sqrt();
        let mut x = x.reshape((b * t, h))?;
        for layer in &self.layers {
            if let (Some(f), false) = (&layer.fused, training) {
                x = f.forward(&x, &mask, nh)?;
                continue;
            }
            let (q, k, v) = match &layer.qkv {
                Some(qkv) if !training => {
                    let y = qkv.forward(&x)?;
                    (
                        y.narrow(1, 0, h)?,
                        y.narrow(1, h, h)?,
                        y.narrow(1, 2 * h, h)?,
                    )
                }
                _ => (
                    layer.q.forward(&x)?,
                    layer.k.forward(&x)?,
                    layer.v.forward(&x)?,
                ),
            };
            let heads = |y: Tensor| -> candle_core::Result<Tensor> {
                y.reshape((b, t, nh, hd))?.transpose(1, 2)?.contiguous()
            };
            let q = (heads(q)? * scale)?;
            let k = heads(k)?;
            let v = heads(v)?;
            let scores = q.matmul(&k.t()?)?.broadcast_add(&add_mask)?;
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
            let a = drop(layer.attn_out.forward(&ctx)?)?;
            let x1 = layer.ln1.forward(&(a + &x)?, training)?;
            let i = layer.inter.forward(&x1)?;
            let i = match self.act {
                Act::GeluErf => i.gelu_erf()?,
                Act::GeluTanh => i.gelu()?,
                Act::Relu => i.relu()?,
            };
            let o = drop(layer.out.forward(&i)?)?;
            x = layer.ln2.forward(&(o + x1)?, training)?;
        }
        Ok(x)
    }

    /// The word-embedding table `[vocab, hidden]` (an MLM head's tied decoder).
    pub fn word_embeddings(&self) -> &Tensor {
        &self.word
    }
}

/// A masked-language-model head as in HF's `BertForMaskedLM` (`cls.predictions.*`): dense +
/// activation + LayerNorm, then the word embeddings (tied) and a bias give one logit per
/// vocabulary entry. Used only to pretrain a tagger's encoder on raw text; taggers never save it.
pub struct MlmHead {
    dense: Linear,
    ln: LayerNorm,
    bias: Tensor,
    act: Act,
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
            act: match cfg.hidden_act.as_str() {
                "gelu" => Act::GeluErf,
                "relu" => Act::Relu,
                _ => Act::GeluTanh,
            },
        })
    }

    /// Vocabulary logits `[n, vocab]` for hidden rows `x` `[n, hidden]` of `tagger`'s encoder
    /// (differentiable: for training).
    pub fn forward(&self, x: &Tensor, tagger: &BertTagger) -> candle_core::Result<Tensor> {
        let y = self.dense.forward(x)?;
        let y = match self.act {
            Act::GeluErf => y.gelu_erf()?,
            Act::GeluTanh => y.gelu()?,
            Act::Relu => y.relu()?,
        };
        let y = self.ln.forward(&y, true)?;
        y.matmul(&tagger.word_embeddings().t()?)?
            .broadcast_add(&self.bias)
    }
}

/// Creates a `VarMap` holding `tensors` as trainable variables.
pub fn varmap_from(tensors: &[(String, Tensor)]) -> Result<VarMap> {
    let vm = VarMap::new();
    {
        let mut data = vm.data().lock().expect("varmap lock");
        for (name, t) in tensors {
            data.insert(name.clone(), Var::from_tensor(t)?);
        }
    }
    Ok(vm)
}

/// The tensors of a `VarMap` by name, still attached to its variables (for a model to train).
pub fn varmap_map(vm: &VarMap) -> HashMap<String, Tensor> {
    let data = vm.data().lock().expect("varmap lock");
    data.iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
        .collect()
}

/// The tensors of a `VarMap`, detached copies, sorted by name.
pub fn varmap_tensors(vm: &VarMap) -> Result<Vec<(String, Tensor)>> {
    let data = vm.data().lock().expect("varmap lock");
    let mut v: Vec<(String, Tensor)> = data
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.as_tensor().detach().copy()?)))
        .collect::<candle_core::Result<_>>()?;
    v.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(v)
}

/// Serializes tensors to safetensors bytes, optionally stored as F16.
pub fn safetensors_bytes(tensors: &[(String, Tensor)], f16: bool) -> Result<Vec<u8>> {
    let mut conv = Vec::new();
    for (name, t) in tensors {
        let t = if f16 {
            t.to_dtype(DType::F16)?
        } else {
            t.clone()
        };
        conv.push((name.clone(), t));
    }
    let refs: Vec<(&str, &Tensor)> = conv.iter().map(|(n, t)| (n.as_str(), t)).collect();
    safetensors::serialize(refs, None).map_err(|e| ModelError::BadWeights {
        file: "model.safetensors".into(),
        message: format!("cannot serialize: {e}"),
    })
}

/// Where a model's vocabulary comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum VocabSource {
    /// A BERT `vocab.txt` (WordPiece, one token a line).
    VocabTxt(Vec<u8>),
    /// A Hugging Face `tokenizer.json`.
    TokenizerJson(Vec<u8>),
}

/// A model in memory: config, tensors (F32) and vocabulary, plus where it came from.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// `config.json`.
    pub config: BertConfig,
    /// Every tensor the tagger needs, by HF name.
    pub tensors: HashMap<String, Tensor>,
    /// The vocabulary.
    pub vocab: VocabSource,
    /// A human-readable origin (a path, `default`, a hub id).
    pub source: String,
    /// The word list behind the dictionary features, for a model trained with them.
    pub features: Option<Arc<WordFeatures>>,
}

/// The default model compiled into the binary.
pub mod embedded {
    /// config.json of the default model.
    pub const CONFIG: &str = include_str!("../models/default/config.json");
    /// vocab.txt of the default model.
    pub const VOCAB: &[u8] = include_bytes!("../models/default/vocab.txt");
    /// model.safetensors of the default model.
    pub const WEIGHTS: &[u8] = include_bytes!("../models/default/model.safetensors");
    /// The word list of the default model's dictionary features.
    pub const WORDS: Option<&str> = Some(include_str!("../models/default/lexicon.txt"));
}

/// The dictionary features of a model whose config asks for them, from its word list.
fn word_features(
    config: &BertConfig,
    words: Option<&str>,
    path: &Path,
) -> Result<Option<Arc<WordFeatures>>> {
    if !config.has_word_features() {
        return Ok(None);
    }
    let set = words.map(WordSet::parse).unwrap_or_default();
    if set.is_empty() {
        return Err(ModelError::BadConfig {
            path: path.to_path_buf(),
            message: format!(
                "config.json says the model reads dictionary features, but its word list {WORDS_FILE} is missing or empty; copy it from where the model came from"
            ),
        });
    }
    Ok(Some(Arc::new(WordFeatures::new(set))))
}

impl ModelFiles {
    /// Turns on dictionary features for a model without them (before training it with them):
    /// the token-type table grows to [`crate::lexicon::FEATURE_TYPES`] rows, each a copy of row
    /// 0, so the model computes exactly what it did until training moves them apart.
    pub fn add_word_features(&mut self, words: WordSet) -> Result<()> {
        if words.is_empty() {
            return Err(ModelError::BadConfig {
                path: PathBuf::from(WORDS_FILE),
                message: "the word list for dictionary features is empty".into(),
            });
        }
        let name = "bert.embeddings.token_type_embeddings.weight";
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| ModelError::BadWeights {
                file: self.source.clone(),
                message: format!("tensor `{name}` is missing"),
            })?;
        let n = crate::lexicon::FEATURE_TYPES;
        let grown = if self.config.has_word_features() {
            t.clone()
        } else {
            t.narrow(0, 0, 1)?.repeat((n, 1))?
        };
        self.tensors.insert(name.to_string(), grown);
        self.config.type_vocab_size = n;
        self.config.extra.insert(
            crate::lexicon::CONFIG_KEY.to_string(),
            serde_json::Value::String(WORDS_FILE.into()),
        );
        self.features = Some(Arc::new(WordFeatures::new(words)));
        Ok(())
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl ModelFiles {
    /// The default model compiled into the binary.
    pub fn embedded() -> Result<Self> {
        Self::from_bytes(
            embedded::CONFIG,
            embedded::WEIGHTS,
            VocabSource::VocabTxt(embedded::VOCAB.to_vec()),
            embedded::WORDS,
            "default",
        )
    }

    /// Builds a model from the bytes of its files (`words`: the word list, for a model with
    /// dictionary features); `source` names it in errors.
    pub fn from_bytes(
        config: &str,
        weights: &[u8],
        vocab: VocabSource,
        words: Option<&str>,
        source: &str,
    ) -> Result<Self> {
        let config = BertConfig::from_json(config, &Path::new(source).join("config.json"))?;
        let features = word_features(&config, words, &Path::new(source).join(WORDS_FILE))?;
        let n = config.labels("config.json")?.len();
        let file = format!("{source}/model.safetensors");
        let raw = parse_safetensors(weights, &file)?;
        let tensors = select_tensors(&raw, &config, n, &file)?;
        Ok(Self {
            config,
            tensors,
            vocab,
            source: source.to_string(),
            features,
        })
    }

    /// Loads a model directory in the HF layout: `config.json`, `tokenizer.json` or `vocab.txt`,
    /// and `model.safetensors` or `pytorch_model.bin`.
    pub fn load_dir(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(ModelError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "not a model directory (expected config.json, vocab.txt, model.safetensors)",
                ),
            });
        }
        let config = BertConfig::load(&dir.join("config.json"))?;
        let n = config
            .labels(&dir.join("config.json").display().to_string())?
            .len();
        let tj = dir.join("tokenizer.json");
        let vt = dir.join("vocab.txt");
        let vocab = if tj.is_file() {
            VocabSource::TokenizerJson(read(&tj)?)
        } else if vt.is_file() {
            VocabSource::VocabTxt(read(&vt)?)
        } else {
            return Err(ModelError::Io {
                path: vt,
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "missing: a model needs vocab.txt or tokenizer.json",
                ),
            });
        };
        let st = dir.join("model.safetensors");
        let pth = dir.join("pytorch_model.bin");
        let (raw, file) = if st.is_file() {
            let file = st.display().to_string();
            (parse_safetensors(&read(&st)?, &file)?, file)
        } else if pth.is_file() {
            let file = pth.display().to_string();
            let v = candle_core::pickle::read_all(&pth).map_err(|e| ModelError::BadWeights {
                file: file.clone(),
                message: format!("cannot read PyTorch weights: {e}"),
            })?;
            (v.into_iter().collect(), file)
        } else {
            return Err(ModelError::Io {
                path: st,
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "missing: a model needs model.safetensors or pytorch_model.bin",
                ),
            });
        };
        let tensors = select_tensors(&raw, &config, n, &file)?;
        let words_path = dir.join(WORDS_FILE);
        let words = if config.has_word_features() && words_path.is_file() {
            Some(
                String::from_utf8(read(&words_path)?).map_err(|_| ModelError::BadConfig {
                    path: words_path.clone(),
                    message: "the word list is not UTF-8 text".into(),
                })?,
            )
        } else {
            None
        };
        let features = word_features(&config, words.as_deref(), &words_path)?;
        Ok(Self {
            config,
            tensors,
            vocab,
            source: dir.display().to_string(),
            features,
        })
    }

    /// The tensors sorted by name.
    pub fn sorted_tensors(&self) -> Vec<(String, Tensor)> {
        let mut v: Vec<(String, Tensor)> = self
            .tensors
            .iter()
            .map(|(k, t)| (k.clone(), t.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// The files of the HF layout as (name, bytes): config.json, the vocabulary, the weights.
    pub fn file_bytes(&self, f16: bool) -> Result<Vec<(&'static str, Vec<u8>)>> {
        let weights = safetensors_bytes(&self.sorted_tensors(), f16)?;
        let (vname, vbytes) = match &self.vocab {
            VocabSource::VocabTxt(b) => ("vocab.txt", b.clone()),
            VocabSource::TokenizerJson(b) => ("tokenizer.json", b.clone()),
        };
        let mut files = vec![
            ("config.json", self.config.to_json().into_bytes()),
            (vname, vbytes),
            ("model.safetensors", weights),
        ];
        if let Some(f) = &self.features {
            files.push((WORDS_FILE, f.words().to_text().into_bytes()));
        }
        Ok(files)
    }

    /// Writes the model to `dir` in the HF layout, atomically: files go to a temporary sibling
    /// directory, are fsynced, and the directory is renamed into place (replacing `dir`).
    /// `extra` files (e.g. metadata) are written in the same step.
    pub fn save_dir_with(&self, dir: &Path, f16: bool, extra: &[(&str, &[u8])]) -> Result<()> {
        let files = self.file_bytes(f16)?;
        let mut refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        refs.extend_from_slice(extra);
        crate::store::write_dir_atomic(dir, &refs).map_err(|source| ModelError::Io {
            path: dir.to_path_buf(),
            source,
        })
    }

    /// [`ModelFiles::save_dir_with`] without extra files.
    pub fn save_dir(&self, dir: &Path, f16: bool) -> Result<()> {
        self.save_dir_with(dir, f16, &[])
    }
}
