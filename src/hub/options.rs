//! Where and how to reach the hub: [`HubOptions`] (from the standard `HF_*` environment), the
//! [`ModelKind`] a repo is fetched as, and the file names a model repo holds.

use std::path::PathBuf;
use std::time::Duration;

/// The public hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// How long a download may go without progress before it is abandoned.
pub const DEFAULT_STALL: Duration = Duration::from_secs(15);

/// Where and how to reach the hub.
#[derive(Debug, Clone)]
pub struct HubOptions {
    /// Base URL (`HF_ENDPOINT`, default `https://huggingface.co`).
    pub endpoint: String,
    /// The hub cache (`HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`).
    pub cache_dir: PathBuf,
    /// Access token (`HF_TOKEN`, else the token file `huggingface-cli login` writes).
    pub token: Option<String>,
    /// Use the cache only, never the network (`HF_HUB_OFFLINE=1`).
    pub offline: bool,
    /// Give up after this long without progress (`FENCI_HUB_STALL_SECS`, default 15 s).
    pub stall: Duration,
    /// What kind of model the repo must hold (decides which files are fetched and checked).
    pub kind: ModelKind,
}

/// What a hub repo is fetched as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelKind {
    /// A BERT token-classification segmenter: config.json, tokenizer.json or vocab.txt,
    /// model.safetensors or pytorch_model.bin.
    #[default]
    Tagger,
    /// A qwen2/qwen3 causal LM: config.json, tokenizer.json, tokenizer_config.json (optional,
    /// for the chat template), model.safetensors.
    Lm,
}

impl ModelKind {
    pub(super) fn vocabs(self) -> &'static [&'static str] {
        match self {
            ModelKind::Tagger => &VOCABS,
            ModelKind::Lm => &["tokenizer.json"],
        }
    }

    pub(super) fn weights(self) -> &'static [&'static str] {
        match self {
            ModelKind::Tagger => &WEIGHTS,
            ModelKind::Lm => &["model.safetensors"],
        }
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl HubOptions {
    /// Options for the public hub with a cache in `cache_dir`, no token, online.
    pub fn new(cache_dir: PathBuf) -> Self {
        Self {
            endpoint: DEFAULT_ENDPOINT.into(),
            cache_dir,
            token: None,
            offline: false,
            stall: DEFAULT_STALL,
            kind: ModelKind::Tagger,
        }
    }

    /// Options from the environment, as `huggingface_hub` reads it.
    pub fn from_env() -> Self {
        let home = env_nonempty("HF_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let cache = env_nonempty("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().join(".cache")))
                    .unwrap_or_else(|| PathBuf::from(".cache"));
                cache.join("huggingface")
            });
        let cache_dir = env_nonempty("HF_HUB_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join("hub"));
        let token = env_nonempty("HF_TOKEN").or_else(|| {
            let path = env_nonempty("HF_TOKEN_PATH")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join("token"));
            std::fs::read_to_string(path)
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        });
        let offline = env_nonempty("HF_HUB_OFFLINE").is_some_and(|v| {
            matches!(
                v.trim().to_ascii_uppercase().as_str(),
                "1" | "ON" | "YES" | "TRUE"
            )
        });
        let stall = env_nonempty("FENCI_HUB_STALL_SECS")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(DEFAULT_STALL);
        Self {
            endpoint: env_nonempty("HF_ENDPOINT")
                .map(|e| e.trim().trim_end_matches('/').to_string())
                .unwrap_or_else(|| DEFAULT_ENDPOINT.into()),
            cache_dir,
            token,
            offline,
            stall,
            kind: ModelKind::Tagger,
        }
    }
}

pub(super) const CONFIG: &str = "config.json";
pub(super) const VOCABS: [&str; 2] = ["tokenizer.json", "vocab.txt"];
pub(super) const WEIGHTS: [&str; 2] = ["model.safetensors", "pytorch_model.bin"];
pub(super) const CARD: &str = "README.md";
