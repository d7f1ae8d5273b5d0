//! `config.json` of a `BertForTokenClassification` checkpoint, checked on load, and the
//! activation it names (matched here, once).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{LabelScheme, ModelError, Result, WORDS_FILE};
use crate::text::{BertOptions, TokenizerSettings};

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

/// The config.json key of a model's part-of-speech head ([`PosConfig`]): `{"id2label": {"0":
/// "n", …}, "num_layers": 1}`. Its tensors are `fenci_pos.*` in the same weights file.
pub const POS_KEY: &str = "fenci_pos";

/// The part-of-speech head a config declares under [`POS_KEY`]: its tags by id and how many
/// encoder layers it adds over the tagger's last hidden states.
#[derive(Debug, Clone, PartialEq)]
pub struct PosConfig {
    /// Tag names by id.
    pub tags: Vec<String>,
    /// New encoder layers between the tagger's encoder and the POS classifier.
    pub num_layers: usize,
    /// How the head's scores combine with the word-tag counts of `pos_lexicon.txt`
    /// ([`super::PosLexicon`]); `None`: the model has no lexicon.
    pub lexicon: Option<LexiconPrior>,
    /// How the head's scores combine with the word-level model of `pos_context.txt`
    /// ([`super::PosContext`]); `None`: the model has none.
    pub context: Option<ContextWeights>,
}

/// How a POS head combines with its word-level context model (config keys
/// `context_head_weight`, `context_temperature`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContextWeights {
    /// How much the head's summed log-probabilities weigh against the context model's scores.
    pub head_weight: f32,
    /// The softmax temperature of the tag probability shown.
    pub temperature: f32,
}

/// The weight and smoothing of a POS head's lexicon (config keys `lexicon_weight`,
/// `lexicon_smoothing`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LexiconPrior {
    /// How much the lexicon weighs against the head.
    pub weight: f32,
    /// Add-α smoothing of its counts.
    pub smoothing: f32,
}

impl PosConfig {
    /// The config.json value of this head.
    pub fn to_json(&self) -> serde_json::Value {
        let id2label: serde_json::Map<String, serde_json::Value> = self
            .tags
            .iter()
            .enumerate()
            .map(|(i, t)| (i.to_string(), serde_json::Value::String(t.clone())))
            .collect();
        let mut v = serde_json::json!({"id2label": id2label, "num_layers": self.num_layers});
        if let Some(l) = self.lexicon {
            v["lexicon_weight"] = serde_json::json!(l.weight);
            v["lexicon_smoothing"] = serde_json::json!(l.smoothing);
        }
        if let Some(c) = self.context {
            v["context_head_weight"] = serde_json::json!(c.head_weight);
            v["context_temperature"] = serde_json::json!(c.temperature);
        }
        v
    }

    /// Reads the config.json value of a head; the error says what is wrong.
    pub fn from_json(v: &serde_json::Value) -> std::result::Result<Self, String> {
        let obj = v
            .as_object()
            .ok_or("must be an object {\"id2label\": {...}, \"num_layers\": N}")?;
        let num_layers = obj
            .get("num_layers")
            .and_then(serde_json::Value::as_u64)
            .ok_or("needs \"num_layers\", a whole number")? as usize;
        if num_layers > 64 {
            return Err(format!("num_layers = {num_layers} is out of range"));
        }
        let map = obj
            .get("id2label")
            .and_then(serde_json::Value::as_object)
            .ok_or("needs \"id2label\", an object {\"0\": \"n\", ...}")?;
        if map.is_empty() || map.len() > 4096 {
            return Err(format!("id2label has {} tags", map.len()));
        }
        let mut tags = Vec::with_capacity(map.len());
        for i in 0..map.len() {
            let t = map
                .get(&i.to_string())
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| format!("id2label has no tag for id {i}"))?;
            if t.is_empty() || tags.iter().any(|x: &String| x == t) {
                return Err(format!("id2label: tag \"{t}\" is empty or repeated"));
            }
            tags.push(t.to_string());
        }
        let lexicon = match obj.get("lexicon_weight") {
            None => None,
            Some(w) => {
                let weight = w
                    .as_f64()
                    .filter(|w| w.is_finite() && *w >= 0.0)
                    .ok_or("\"lexicon_weight\" must be a number ≥ 0")?
                    as f32;
                let smoothing = obj
                    .get("lexicon_smoothing")
                    .and_then(serde_json::Value::as_f64)
                    .filter(|a| a.is_finite() && *a > 0.0)
                    .ok_or("\"lexicon_smoothing\" must be a number > 0")?
                    as f32;
                Some(LexiconPrior { weight, smoothing })
            }
        };
        let context = match obj.get("context_head_weight") {
            None => None,
            Some(w) => {
                let head_weight = w
                    .as_f64()
                    .filter(|w| w.is_finite() && *w >= 0.0)
                    .ok_or("\"context_head_weight\" must be a number ≥ 0")?
                    as f32;
                let temperature = obj
                    .get("context_temperature")
                    .and_then(serde_json::Value::as_f64)
                    .filter(|t| t.is_finite() && *t > 0.0)
                    .ok_or("\"context_temperature\" must be a number > 0")?
                    as f32;
                Some(ContextWeights {
                    head_weight,
                    temperature,
                })
            }
        };
        Ok(Self {
            tags,
            num_layers,
            lexicon,
            context,
        })
    }
}

/// The config.json key by which a model declares fenci's own lookups (see
/// [`BertConfig::tokenizer_settings`]); fenci writes it into every config it creates.
pub const LOOKUP_KEY: &str = "fenci_lookup";

/// The value of [`LOOKUP_KEY`] fenci writes: full-width ASCII folded to half-width, traditional
/// characters the vocabulary lacks looked up by a simplified form.
pub const FENCI_LOOKUP: &str = "halfwidth+t2s";

/// The config.json key of the display temperature of a model's probabilities (see
/// [`BertConfig::boundary_temperature`]).
pub const TEMPERATURE_KEY: &str = "fenci_boundary_temperature";

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
            extra: [(
                LOOKUP_KEY.to_string(),
                serde_json::Value::String(FENCI_LOOKUP.into()),
            )]
            .into_iter()
            .collect(),
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
        let bytes = crate::fsio::read_file(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|_| ModelError::BadConfig {
            path: path.to_path_buf(),
            message: "not UTF-8 text".into(),
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
        self.activation(file)?;
        if !(self.layer_norm_eps.is_finite()
            && self.layer_norm_eps > 0.0
            && self.layer_norm_eps < 1.0)
        {
            return Err(unsupported(format!(
                "layer_norm_eps = {} is out of range (BERT models use about 1e-12)",
                self.layer_norm_eps
            )));
        }
        self.labels(file)?;
        self.pos_head(file)?;
        if let Some(v) = self.extra.get(TEMPERATURE_KEY) {
            if !v.as_f64().is_some_and(valid_temperature) {
                return Err(unsupported(format!(
                    "{TEMPERATURE_KEY} is {v}; it must be a number from 0.01 to 100"
                )));
            }
        }
        if let Some(v) = self.extra.get(crate::text::CONFIG_KEY) {
            if v.as_str() != Some(WORDS_FILE) {
                return Err(unsupported(format!(
                    "{} is {v}; this version of fenci reads dictionary features only from \"{WORDS_FILE}\"",
                    crate::text::CONFIG_KEY
                )));
            }
            if self.type_vocab_size < crate::text::FEATURE_TYPES {
                return Err(unsupported(format!(
                    "dictionary features need type_vocab_size ≥ {}, the file says {}",
                    crate::text::FEATURE_TYPES,
                    self.type_vocab_size
                )));
            }
        }
        Ok(())
    }

    /// The part-of-speech head the config declares ([`POS_KEY`]), if any; `file` names the
    /// config in errors.
    pub fn pos_head(&self, file: &str) -> Result<Option<PosConfig>> {
        match self.extra.get(POS_KEY) {
            None => Ok(None),
            Some(v) => PosConfig::from_json(v)
                .map(Some)
                .map_err(|m| ModelError::Unsupported {
                    file: file.to_string(),
                    message: format!("\"{POS_KEY}\" {m}"),
                }),
        }
    }

    /// Declares (`Some`) or removes (`None`) the part-of-speech head.
    pub fn set_pos_head(&mut self, pos: Option<&PosConfig>) {
        match pos {
            Some(p) => {
                self.extra.insert(POS_KEY.to_string(), p.to_json());
            }
            None => {
                self.extra.remove(POS_KEY);
            }
        }
    }

    /// The temperature at which fenci shows this model's boundary and word probabilities
    /// (`"fenci_boundary_temperature"`, fitted on held-out data so that they are calibrated:
    /// each unit's label log-probabilities are divided by it and renormalised before
    /// forward–backward). Decoding never uses it. 1 (the scores as they are) when absent.
    pub fn boundary_temperature(&self) -> f32 {
        self.extra
            .get(TEMPERATURE_KEY)
            .and_then(serde_json::Value::as_f64)
            .filter(|t| valid_temperature(*t))
            .map_or(1.0, |t| t as f32)
    }

    /// Whether the model was trained with dictionary features (its token-type ids come from
    /// [`crate::text::WordFeatures`] over the word list in [`WORDS_FILE`]).
    pub fn has_word_features(&self) -> bool {
        self.extra.contains_key(crate::text::CONFIG_KEY)
    }

    /// How the model looks its text up: fenci's own lookups (half-width folding, traditional →
    /// simplified) for a model that declares them (`fenci_lookup`, or `fenci_word_features`:
    /// every model fenci trained with dictionary features), else exactly its Hugging Face
    /// tokenizer, with `bert` (from `tokenizer_config.json`) for a `vocab.txt`. `fenci_lookup`
    /// lists the lookups joined by `+`; `""` means none (a hub model fenci added features to).
    pub fn tokenizer_settings(&self, bert: BertOptions) -> TokenizerSettings {
        match self.extra.get(LOOKUP_KEY) {
            Some(v) => {
                let parts: Vec<&str> = v.as_str().unwrap_or("").split('+').collect();
                TokenizerSettings {
                    halfwidth: parts.contains(&"halfwidth"),
                    t2s: parts.contains(&"t2s"),
                    bert,
                }
            }
            None if self.has_word_features() => TokenizerSettings::fenci(),
            None => TokenizerSettings::hub(bert),
        }
    }

    /// The activation `hidden_act` names; `file` names the config in errors.
    pub fn activation(&self, file: &str) -> Result<Activation> {
        Activation::from_name(&self.hidden_act).ok_or_else(|| ModelError::Unsupported {
            file: file.to_string(),
            message: format!(
                "hidden_act \"{}\"; fenci supports gelu, gelu_new, gelu_pytorch_tanh, relu",
                self.hidden_act
            ),
        })
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

fn valid_temperature(t: f64) -> bool {
    (0.01..=100.0).contains(&t)
}

/// The feed-forward activation of a BERT config (`hidden_act`): the one place its names are
/// matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `gelu`: GELU with the exact erf.
    GeluErf,
    /// `gelu_new` / `gelu_pytorch_tanh`: the tanh approximation (what fenci's kernels compute).
    GeluTanh,
    /// `relu`.
    Relu,
}

impl Activation {
    /// The activation a `hidden_act` name stands for, or `None` for one fenci does not run.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "gelu" => Some(Self::GeluErf),
            "gelu_new" | "gelu_pytorch_tanh" => Some(Self::GeluTanh),
            "relu" => Some(Self::Relu),
            _ => None,
        }
    }

    /// Applies the activation (differentiable).
    pub fn apply(self, x: &candle_core::Tensor) -> candle_core::Result<candle_core::Tensor> {
        match self {
            Self::GeluErf => x.gelu_erf(),
            Self::GeluTanh => x.gelu(),
            Self::Relu => x.relu(),
        }
    }
}
