//! The causal language model behind example sentences: qwen2 / qwen3 in the Hugging Face layout.
//!
//! [`LmFiles`] reads and checks `config.json`, `tokenizer.json` and `model.safetensors` (built
//! in, or a directory the hub module resolved). Inference runs on candle-transformers' own qwen2
//! and qwen3 ([`CausalLm`]), so fenci's embedded LM and hub models share one code path.
//! Training needs gradients that candle's fused RmsNorm, RoPE and softmax kernels do not have,
//! so [`Qwen2Train`] is a differentiable qwen2 forward over the same tensor names; a test keeps it
//! equal to candle-transformers' forward. The char-level tokenizer of the embedded LM is built
//! with the `tokenizers` crate by [`char_tokenizer`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;
use candle_transformers::models::{qwen2, qwen3};
use serde_json::Value;
use tokenizers::Tokenizer;

/// The embedded LM's files (see `models/lm/README.md`).
pub mod embedded {
    /// config.json
    pub const CONFIG: &str = include_str!("../../models/lm/config.json");
    /// tokenizer.json
    pub const TOKENIZER: &[u8] = include_bytes!("../../models/lm/tokenizer.json");
    /// model.safetensors (F16)
    pub const WEIGHTS: &[u8] = include_bytes!("../../models/lm/model.safetensors");
}

/// End-of-text token of fenci's char tokenizer (and Qwen's base models).
pub const EOS: &str = "<|endoftext|>";
/// Chat-turn markers of Qwen instruct models.
pub const IM_START: &str = "<|im_start|>";
/// End of a chat turn.
pub const IM_END: &str = "<|im_end|>";
/// Unknown character.
pub const UNK: &str = "<unk>";
/// Padding.
pub const PAD: &str = "<pad>";

/// What can go wrong loading a language model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LmError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// config.json is not valid for the architecture it names.
    #[error("{file}: {message}")]
    BadConfig {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// An architecture fenci cannot run.
    #[error("{file}: model_type {found:?} is not supported (fenci runs qwen2 and qwen3 causal LMs, e.g. Qwen/Qwen2.5-0.5B-Instruct)")]
    Unsupported {
        /// The file.
        file: String,
        /// The model_type / architecture found.
        found: String,
    },
    /// tokenizer.json is unusable.
    #[error("{file}: {message}")]
    Tokenizer {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The weights do not fit the config or are corrupt.
    #[error("{file}: {message}")]
    BadWeights {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A tensor operation failed.
    #[error("model: {0}")]
    Candle(#[from] candle_core::Error),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, LmError>;

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
    std::fs::read(path).map_err(|source| LmError::Io {
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
    match crate::segment::quietly(|| Tokenizer::from_bytes(bytes)) {
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
        files.chat_template = std::fs::read(dir.join("tokenizer_config.json"))
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
        let vb = VarBuilder::from_tensors(self.tensors()?, DType::F32, &Device::Cpu);
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
        crate::store::write_dir_atomic(
            dir,
            &[
                ("config.json", self.config_json.as_bytes()),
                ("tokenizer.json", tok.as_bytes()),
                ("model.safetensors", &weights),
            ],
        )
    }
}

/// A causal LM ready to run: candle-transformers' models with their KV caches.
#[derive(Debug, Clone)]
pub enum CausalLm {
    /// qwen2
    Qwen2(Box<qwen2::ModelForCausalLM>),
    /// qwen3
    Qwen3(Box<qwen3::ModelForCausalLM>),
}

impl CausalLm {
    /// Logits of the next token after `ids` (`seqlen_offset` tokens are already in the cache).
    pub fn next_logits(&mut self, ids: &[u32], seqlen_offset: usize) -> Result<Tensor> {
        let input = Tensor::new(ids, &Device::Cpu)?.unsqueeze(0)?;
        let logits = match self {
            CausalLm::Qwen2(m) => m.forward(&input, seqlen_offset)?,
            CausalLm::Qwen3(m) => m.forward(&input, seqlen_offset)?,
        };
        Ok(logits.squeeze(0)?.squeeze(0)?.to_dtype(DType::F32)?)
    }

    /// Forgets the KV cache (before a new sequence).
    pub fn clear_kv_cache(&mut self) {
        match self {
            CausalLm::Qwen2(m) => m.clear_kv_cache(),
            CausalLm::Qwen3(m) => m.clear_kv_cache(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Training: a differentiable qwen2
// ---------------------------------------------------------------------------------------------

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
    use rand::SeedableRng;
    use rand_distr_free::normal;
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
            let v: Vec<f32> = (0..n).map(|_| normal(&mut rng) * std).collect();
            Tensor::from_vec(v, shape, &Device::Cpu)?
        };
        out.push((name, t));
    }
    Ok(out)
}

/// A standard-normal sample without another dependency (Box–Muller).
mod rand_distr_free {
    use rand::Rng;
    pub fn normal(rng: &mut impl Rng) -> f32 {
        let u1: f32 = rng.random_range(f32::EPSILON..1.0);
        let u2: f32 = rng.random();
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }
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
        Ok(Self {
            cfg: cfg.clone(),
            t: tensors,
            cos: freqs.cos()?,
            sin: freqs.sin()?,
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

// ---------------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------------

/// Builds a char-level `tokenizer.json` with the `tokenizers` crate: NFKC (full-width forms
/// become half-width), one token per character seen at least `min_count` times in `texts`,
/// `<unk>` for the rest; decoding concatenates. Ids: 0 `<|endoftext|>`, 1 `<unk>`, 2 `<pad>`,
/// 3 `<|im_start|>`, 4 `<|im_end|>`, then characters by frequency.
pub fn char_tokenizer<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    min_count: usize,
) -> Result<Tokenizer> {
    use tokenizers::normalizers::unicode::NFKC;
    use tokenizers::{NormalizedString, Normalizer};
    let mut counts: HashMap<char, usize> = HashMap::new();
    for t in texts {
        let mut n = NormalizedString::from(t);
        NFKC.normalize(&mut n).map_err(|e| LmError::Tokenizer {
            file: "tokenizer.json".into(),
            message: e.to_string(),
        })?;
        for c in n.get().chars() {
            if !c.is_control() {
                *counts.entry(c).or_default() += 1;
            }
        }
    }
    let mut chars: Vec<(char, usize)> = counts
        .into_iter()
        .filter(|&(_, n)| n >= min_count.max(1))
        .collect();
    chars.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let specials = [EOS, UNK, PAD, IM_START, IM_END];
    let mut vocab = serde_json::Map::new();
    for (i, s) in specials.iter().enumerate() {
        vocab.insert(s.to_string(), Value::from(i));
    }
    for (c, _) in chars {
        let id = vocab.len();
        vocab.entry(c.to_string()).or_insert(Value::from(id));
    }
    let added: Vec<Value> = specials
        .iter()
        .enumerate()
        .map(|(i, s)| {
            serde_json::json!({"id": i, "content": s, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let json = serde_json::json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "NFKC"},
        "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?s)."},
            "behavior": "Isolated", "invert": false},
        "post_processor": null,
        "decoder": {"type": "Fuse"},
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": UNK},
    });
    tokenizer_from_bytes(json.to_string().as_bytes(), "tokenizer.json")
}
