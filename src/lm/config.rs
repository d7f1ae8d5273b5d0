//! [`LmConfig`]: a config.json read as qwen2 or qwen3 (with the transformers defaults for fields
//! some configs leave out) and checked before anything large is loaded.

use candle_transformers::models::{qwen2, qwen3};
use serde_json::Value;

use super::{LmError, Result};

/// Which architecture a config describes.
#[derive(Debug, Clone, PartialEq)]
pub enum LmConfig {
    /// Qwen2 / Qwen2.5.
    Qwen2(qwen2::Config),
    /// Qwen3 (dense).
    Qwen3(qwen3::Config),
}

impl LmConfig {
    /// Parses and checks a config.json; `file` names it in errors.
    pub fn from_json(text: &str, file: &str) -> Result<Self> {
        let bad = |message: String| LmError::BadConfig {
            file: file.to_string(),
            message,
        };
        let v: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let model_type = v
            .get("model_type")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                v.get("architectures")
                    .and_then(|a| a.get(0))
                    .and_then(Value::as_str)
                    .map(|a| a.trim_end_matches("ForCausalLM").to_lowercase())
            })
            .unwrap_or_default();
        let missing = |e: serde_json::Error| bad(format!("not a {model_type} config: {e}"));
        let cfg = match model_type.as_str() {
            "qwen2" => {
                // Fields some qwen2 configs leave out, with the transformers defaults.
                let mut v = v.clone();
                for (k, d) in [
                    ("sliding_window", Value::from(4096)),
                    ("max_window_layers", Value::from(0)),
                    ("use_sliding_window", Value::from(false)),
                    ("tie_word_embeddings", Value::from(false)),
                    ("hidden_act", Value::from("silu")),
                    ("rope_theta", Value::from(10000.0)),
                    ("rms_norm_eps", Value::from(1e-6)),
                ] {
                    if v.get(k).is_none_or(Value::is_null) {
                        v[k] = d;
                    }
                }
                if v.get("num_key_value_heads").is_none_or(Value::is_null) {
                    v["num_key_value_heads"] = v["num_attention_heads"].clone();
                }
                LmConfig::Qwen2(serde_json::from_value(v).map_err(missing)?)
            }
            "qwen3" => {
                let mut v = v.clone();
                for (k, d) in [
                    ("max_window_layers", Value::from(0)),
                    ("use_sliding_window", Value::from(false)),
                    ("tie_word_embeddings", Value::from(false)),
                    ("hidden_act", Value::from("silu")),
                    ("attention_bias", Value::from(false)),
                ] {
                    if v.get(k).is_none_or(Value::is_null) {
                        v[k] = d;
                    }
                }
                LmConfig::Qwen3(serde_json::from_value(v).map_err(missing)?)
            }
            other => {
                return Err(LmError::Unsupported {
                    file: file.to_string(),
                    found: if other.is_empty() {
                        "(none)".into()
                    } else {
                        other.into()
                    },
                })
            }
        };
        cfg.check().map_err(bad)?;
        Ok(cfg)
    }

    fn dims(&self) -> (usize, usize, usize, usize, usize, usize, usize) {
        match self {
            LmConfig::Qwen2(c) => (
                c.vocab_size,
                c.hidden_size,
                c.intermediate_size,
                c.num_hidden_layers,
                c.num_attention_heads,
                c.num_key_value_heads,
                c.max_position_embeddings,
            ),
            LmConfig::Qwen3(c) => (
                c.vocab_size,
                c.hidden_size,
                c.intermediate_size,
                c.num_hidden_layers,
                c.num_attention_heads,
                c.num_key_value_heads,
                c.max_position_embeddings,
            ),
        }
    }

    /// The vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.dims().0
    }

    /// The longest sequence (prompt + output) in tokens.
    pub fn max_positions(&self) -> usize {
        self.dims().6
    }

    /// One line: architecture, layers × hidden, vocabulary.
    pub fn summary(&self) -> String {
        let (vocab, hidden, _, layers, ..) = self.dims();
        format!("{} {layers}×{hidden} · vocab {vocab}", self.arch())
    }

    /// Architecture name as in `model_type`.
    pub fn arch(&self) -> &'static str {
        match self {
            LmConfig::Qwen2(_) => "qwen2",
            LmConfig::Qwen3(_) => "qwen3",
        }
    }

    fn check(&self) -> std::result::Result<(), String> {
        let (vocab, hidden, inter, layers, heads, kv, pos) = self.dims();
        if vocab == 0 || hidden == 0 || inter == 0 || layers == 0 || heads == 0 || kv == 0 {
            return Err("vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads and num_key_value_heads must all be positive".into());
        }
        if heads % kv != 0 {
            return Err(format!(
                "num_attention_heads {heads} is not a multiple of num_key_value_heads {kv}"
            ));
        }
        if let LmConfig::Qwen2(_) = self {
            if hidden % heads != 0 || (hidden / heads) % 2 != 0 {
                return Err(format!(
                    "hidden_size {hidden} must split into num_attention_heads {heads} heads of even size"
                ));
            }
        }
        if !(2..=1 << 20).contains(&pos) {
            return Err(format!(
                "max_position_embeddings {pos} is out of range (2..=1048576)"
            ));
        }
        // Guards against configs that lie: a model this size would not be a config we can run.
        let params = vocab as f64 * hidden as f64 + layers as f64 * hidden as f64 * inter as f64;
        if params > 2e10 {
            return Err(format!(
                "the sizes describe a model of ~{params:.1e} parameters, too large to run here"
            ));
        }
        Ok(())
    }
}
