//! [`LmFiles`]: a language model's config, tokenizer and weights, read (built in, from memory or
//! from a directory), checked, built for inference and written back.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::{qwen2, qwen3};
use serde_json::Value;
use tokenizers::Tokenizer;

use super::{embedded, CausalLm, LmConfig, LmError, Result};

/// The largest qwen2 (in parameters) that runs through fenci's kernels: they keep each weight
/// twice (packed, and as given), and were measured on the built-in LM (4 M parameters, three
/// times faster) only; a hub model above this runs on candle-transformers' qwen2.
const FAST_MAX_PARAMS: usize = 32_000_000;

/// A language model's files, read and checked but not yet built.
#[derive(Clone)]
pub struct LmFiles {
    /// Parsed config.
    pub config: LmConfig,
    /// config.json as read (kept to write it back unchanged).
    pub config_json: String,
    /// The tokenizer.
    pub tokenizer: Tokenizer,
    /// Weights: safetensors files' bytes (one, or the shards of an index).
    pub weights: Vec<Vec<u8>>,
    /// Where it came from, for messages.
    pub source: String,
    /// `tokenizer_config.json` has a chat template (an instruct model).
    pub chat_template: bool,
}

impl std::fmt::Debug for LmFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LmFiles")
            .field("config", &self.config)
            .field("source", &self.source)
            .finish()
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    crate::fsio::read_file(path).map_err(|source| LmError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads a tokenizer.json, naming `file` in errors.
pub fn tokenizer_from_bytes(bytes: &[u8], file: &str) -> Result<Tokenizer> {
    let bad = |message: String| LmError::Tokenizer {
        file: file.to_string(),
        message: format!("not a usable tokenizer.json: {message}"),
    };
    // tokenizers 0.23 panics on some malformed files (e.g. truncated inside the decoder, found
    // by the fuzz test): check the JSON first and contain any panic that remains.
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|e| bad(e.to_string()))?;
    match crate::text::quietly(|| Tokenizer::from_bytes(bytes)) {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => Err(bad(e.to_string())),
        Err(_) => Err(bad("the tokenizers library could not read it".into())),
    }
}

impl LmFiles {
    /// The LM compiled into the binary.
    pub fn embedded() -> Result<Self> {
        Self::from_parts(
            embedded::CONFIG,
            embedded::TOKENIZER,
            vec![embedded::WEIGHTS.to_vec()],
            "built-in LM",
        )
    }

    /// Checks and assembles files already in memory.
    pub fn from_parts(
        config_json: &str,
        tokenizer_json: &[u8],
        weights: Vec<Vec<u8>>,
        source: &str,
    ) -> Result<Self> {
        let config = LmConfig::from_json(config_json, &format!("{source}/config.json"))?;
        Self::with_config(config, config_json, tokenizer_json, weights, source)
    }

    /// [`LmFiles::from_parts`] with the config already parsed and checked.
    fn with_config(
        config: LmConfig,
        config_json: &str,
        tokenizer_json: &[u8],
        weights: Vec<Vec<u8>>,
        source: &str,
    ) -> Result<Self> {
        let tokenizer = tokenizer_from_bytes(tokenizer_json, &format!("{source}/tokenizer.json"))?;
        let files = Self {
            config,
            config_json: config_json.to_string(),
            tokenizer,
            weights,
            source: source.to_string(),
            chat_template: false,
        };
        files.check_weights()?;
        Ok(files)
    }

    /// Reads a directory in the HF layout: `config.json`, `tokenizer.json`, and
    /// `model.safetensors` or the shards named by `model.safetensors.index.json`.
    pub fn load_dir(dir: &Path) -> Result<Self> {
        let cfg_path = dir.join("config.json");
        let config_json = String::from_utf8(read(&cfg_path)?).map_err(|_| LmError::BadConfig {
            file: cfg_path.display().to_string(),
            message: "not UTF-8".into(),
        })?;
        // The config first: another architecture is refused before anything else is read.
        let config = LmConfig::from_json(&config_json, &cfg_path.display().to_string())?;
        let tok = read(&dir.join("tokenizer.json"))?;
        let index = dir.join("model.safetensors.index.json");
        let weights = if index.is_file() {
            let v: Value =
                serde_json::from_slice(&read(&index)?).map_err(|e| LmError::BadWeights {
                    file: index.display().to_string(),
                    message: format!("not JSON: {e}"),
                })?;
            let mut shards: Vec<String> = v
                .get("weight_map")
                .and_then(Value::as_object)
                .map(|m| {
                    m.values()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            shards.sort();
            shards.dedup();
            if shards.is_empty() {
                return Err(LmError::BadWeights {
                    file: index.display().to_string(),
                    message: "weight_map names no files".into(),
                });
            }
            shards
                .iter()
                .map(|s| {
                    if s.contains('/') || s.contains("..") {
                        return Err(LmError::BadWeights {
                            file: index.display().to_string(),
                            message: format!("shard name {s:?} leaves the model directory"),
                        });
                    }
                    read(&dir.join(s))
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            vec![read(&dir.join("model.safetensors"))?]
        };
        let mut files = Self::with_config(
            config,
            &config_json,
            &tok,
            weights,
            &dir.display().to_string(),
        )?;
        files.chat_template = crate::fsio::read_file(&dir.join("tokenizer_config.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .is_some_and(|v| v.get("chat_template").is_some_and(|t| !t.is_null()));
        Ok(files)
    }

    /// Checks the weights' headers (before candle sees them: it can panic on corrupt files).
    fn check_weights(&self) -> Result<()> {
        let file = format!("{}/model.safetensors", self.source);
        let mut names = std::collections::HashSet::new();
        for w in &self.weights {
            let st = safetensors::SafeTensors::deserialize(w).map_err(|e| LmError::BadWeights {
                file: file.clone(),
                message: format!("not a valid safetensors file: {e}"),
            })?;
            for (name, view) in st.tensors() {
                use safetensors::Dtype as S;
                if !matches!(view.dtype(), S::F32 | S::F16 | S::BF16) {
                    return Err(LmError::BadWeights {
                        file: file.clone(),
                        message: format!(
                            "{name} has dtype {:?}; expected F32, F16 or BF16",
                            view.dtype()
                        ),
                    });
                }
                names.insert(name);
            }
        }
        if !names.contains("model.embed_tokens.weight") {
            return Err(LmError::BadWeights {
                file,
                message: "no model.embed_tokens.weight: not a qwen2/qwen3 checkpoint".into(),
            });
        }
        let tok_vocab = self.tokenizer.get_vocab_size(true);
        if tok_vocab > self.config.vocab_size() {
            return Err(LmError::Tokenizer {
                file: format!("{}/tokenizer.json", self.source),
                message: format!(
                    "has {tok_vocab} tokens but config.json says vocab_size {}",
                    self.config.vocab_size()
                ),
            });
        }
        Ok(())
    }

    /// Token id of `token`, if the tokenizer has it.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.tokenizer.token_to_id(token)
    }

    /// The weights as F32 tensors by name; NaN or infinite values are refused.
    pub fn tensors(&self) -> Result<HashMap<String, Tensor>> {
        let file = format!("{}/model.safetensors", self.source);
        let mut tensors = HashMap::new();
        for w in &self.weights {
            let st = safetensors::SafeTensors::deserialize(w).map_err(|e| LmError::BadWeights {
                file: file.clone(),
                message: e.to_string(),
            })?;
            for (name, view) in st.tensors() {
                let t = candle_core::safetensors::Load::load(&view, &Device::Cpu)?
                    .to_dtype(DType::F32)?;
                if !t.abs()?.sum_all()?.to_scalar::<f32>()?.is_finite() {
                    return Err(LmError::BadWeights {
                        file,
                        message: format!("{name} has NaN or infinite values"),
                    });
                }
                tensors.insert(name, t);
            }
        }
        Ok(tensors)
    }

    /// Builds the model for inference (F32 on the CPU).
    pub fn build(&self) -> Result<CausalLm> {
        let file = format!("{}/model.safetensors", self.source);
        let tensors = self.tensors()?;
        let params: usize = tensors.values().map(|t| t.elem_count()).sum();
        if let (LmConfig::Qwen2(c), true) = (&self.config, params <= FAST_MAX_PARAMS) {
            if let Some(m) =
                super::qwen2_fast::Qwen2Fast::new(c, &tensors).map_err(|e| LmError::BadWeights {
                    file: file.clone(),
                    message: format!("does not match config.json: {e}"),
                })?
            {
                return Ok(CausalLm::Qwen2Fast(Box::new(m)));
            }
        }
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
        let wrap = |e: candle_core::Error| LmError::BadWeights {
            file: file.clone(),
            message: format!("does not match config.json: {e}"),
        };
        Ok(match &self.config {
            LmConfig::Qwen2(c) => {
                CausalLm::Qwen2(Box::new(qwen2::ModelForCausalLM::new(c, vb).map_err(wrap)?))
            }
            LmConfig::Qwen3(c) => {
                CausalLm::Qwen3(Box::new(qwen3::ModelForCausalLM::new(c, vb).map_err(wrap)?))
            }
        })
    }

    /// Writes the files to `dir` atomically (HF layout).
    pub fn save_dir(&self, dir: &Path) -> std::io::Result<()> {
        let tok = self
            .tokenizer
            .to_string(true)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let weights = self.weights.first().cloned().unwrap_or_default();
        crate::fsio::write_dir_atomic(
            dir,
            &[
                ("config.json", self.config_json.as_bytes()),
                ("tokenizer.json", tok.as_bytes()),
                ("model.safetensors", &weights),
            ],
        )
    }
}
