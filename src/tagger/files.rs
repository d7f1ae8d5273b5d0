//! [`ModelFiles`]: a model in memory (config, tensors, vocabulary, word list) loaded from the
//! bytes compiled into the binary or from a directory in the Hugging Face layout, and saved back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::Tensor;

use super::{parse_safetensors, safetensors_bytes, select_tensors, BertConfig, ModelError, Result};
use crate::text::{
    BertOptions, CharTokenizer, TokenizerError, TokenizerSettings, VocabSource, WordFeatures,
    WordSet,
};

/// The word list of a model trained with dictionary features, beside its config.json.
pub const WORDS_FILE: &str = "lexicon.txt";

/// `BertTokenizer`'s settings beside a `vocab.txt` (`do_lower_case`, …), for a hub model.
pub const TOKENIZER_CONFIG: &str = "tokenizer_config.json";

/// A model in memory: config, tensors (F32) and vocabulary, plus where it came from.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// `config.json`.
    pub config: BertConfig,
    /// Every tensor the tagger needs, by HF name, and those of its part-of-speech head
    /// (`fenci_pos.*`) where config.json declares one.
    pub tensors: HashMap<String, Tensor>,
    /// The vocabulary.
    pub vocab: VocabSource,
    /// A human-readable origin (a path, `default`, a hub id).
    pub source: String,
    /// The word list behind the dictionary features, for a model trained with them.
    pub features: Option<Arc<WordFeatures>>,
    /// `tokenizer_config.json`, where the model has one: how `BertTokenizer` reads its
    /// `vocab.txt` (see [`ModelFiles::tokenizer_settings`]).
    pub tokenizer_config: Option<String>,
    /// `pos_lexicon.txt`, the word-tag counts of a POS head whose config declares a lexicon
    /// ([`super::PosLexicon`]).
    pub pos_lexicon: Option<String>,
    /// `pos_context.txt`, the word-level model of a POS head whose config declares one
    /// ([`super::PosContext`]).
    pub pos_context: Option<String>,
    /// `route.json` of a version `/train` wrote: the sentences it answers, the others going to
    /// the built-in model ([`super::RouteSpec`]).
    pub route: Option<super::RouteSpec>,
}

/// The default model compiled into the binary.
pub mod embedded {
    /// config.json of the default model.
    pub const CONFIG: &str = include_str!("../../models/default/config.json");
    /// vocab.txt of the default model.
    pub const VOCAB: &[u8] = include_bytes!("../../models/default/vocab.txt");
    /// model.safetensors of the default model.
    pub const WEIGHTS: &[u8] = include_bytes!("../../models/default/model.safetensors");
    /// The word list of the default model's dictionary features.
    pub const WORDS: Option<&str> = Some(include_str!("../../models/default/lexicon.txt"));
    /// The word-tag counts of the default model's POS head.
    pub const POS_LEXICON: &str = include_str!("../../models/default/pos_lexicon.txt");
    /// The word-level POS model of the default model, gzipped (11 MB as text).
    pub const POS_CONTEXT_GZ: &[u8] = include_bytes!("../../models/default/pos_context.txt.gz");
}

/// The text of gzipped bytes; the error says what is wrong with them.
fn gunzip_text(bytes: &[u8], path: &Path) -> Result<String> {
    let mut out = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(bytes), &mut out).map_err(
        |e| ModelError::BadWeights {
            file: path.display().to_string(),
            message: format!("not readable gzipped UTF-8 text ({e})"),
        },
    )?;
    Ok(out)
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
    /// The part-of-speech head config.json declares, if any.
    pub fn pos_config(&self) -> Option<super::PosConfig> {
        self.config.pos_head("config.json").ok().flatten()
    }

    /// The same model without a part-of-speech head (config key and tensors dropped): what a
    /// trainer that changes the encoder starts from and writes, since a head trained on the
    /// old encoder's hidden states no longer matches the new ones.
    pub fn without_pos(&self) -> Self {
        let mut m = self.clone();
        m.config.set_pos_head(None);
        m.tensors.retain(|k, _| !super::is_pos_tensor(k));
        m.pos_lexicon = None;
        m.pos_context = None;
        m
    }

    /// Gives the model a part-of-speech head (replacing any it had): its config and its
    /// `fenci_pos.*` tensors (see [`super::pos_tensor_shapes`]), checked against the config.
    pub fn set_pos_head(
        &mut self,
        pos: &super::PosConfig,
        tensors: impl IntoIterator<Item = (String, Tensor)>,
    ) -> Result<()> {
        let given: HashMap<String, Tensor> = tensors
            .into_iter()
            .filter(|(k, _)| super::is_pos_tensor(k))
            .collect();
        let mut config = self.config.clone();
        config.set_pos_head(Some(pos));
        let mut checked = HashMap::new();
        for (name, shape) in super::pos_tensor_shapes(&config, pos) {
            let t = given.get(&name).ok_or_else(|| ModelError::BadWeights {
                file: self.source.clone(),
                message: format!("tensor `{name}` of the part-of-speech head is missing"),
            })?;
            if t.dims() != shape.as_slice() {
                return Err(ModelError::BadWeights {
                    file: self.source.clone(),
                    message: format!(
                        "tensor `{name}` has shape {:?}, expected {shape:?}",
                        t.dims()
                    ),
                });
            }
            checked.insert(name, t.to_dtype(candle_core::DType::F32)?);
        }
        self.tensors.retain(|k, _| !super::is_pos_tensor(k));
        self.tensors.extend(checked);
        self.config = config;
        Ok(())
    }

    /// How this model looks its text up in its vocabulary ([`BertConfig::tokenizer_settings`]
    /// with the `BertTokenizer` settings of its `tokenizer_config.json`).
    pub fn tokenizer_settings(&self) -> TokenizerSettings {
        let bert = self
            .tokenizer_config
            .as_deref()
            .map(BertOptions::from_tokenizer_config)
            .unwrap_or_default();
        self.config.tokenizer_settings(bert)
    }

    /// The model's tokenizer, as it was trained ([`ModelFiles::tokenizer_settings`]), with its
    /// dictionary features.
    pub fn tokenizer(&self) -> std::result::Result<CharTokenizer, TokenizerError> {
        Ok(
            CharTokenizer::with_settings(&self.vocab, &self.tokenizer_settings())?
                .with_features(self.features.clone()),
        )
    }

    /// Turns on dictionary features for a model without them (before training it with them):
    /// the token-type table grows to [`crate::text::FEATURE_TYPES`] rows, each a copy of row
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
        let n = crate::text::FEATURE_TYPES;
        let grown = if self.config.has_word_features() {
            t.clone()
        } else {
            t.narrow(0, 0, 1)?.repeat((n, 1))?
        };
        self.tensors.insert(name.to_string(), grown);
        self.config.type_vocab_size = n;
        if !self.tokenizer_settings().is_fenci() {
            // A hub model keeps its own tokens: `fenci_word_features` alone would declare
            // fenci's lookups, so say explicitly that it has none.
            self.config.extra.insert(
                super::LOOKUP_KEY.to_string(),
                serde_json::Value::String(String::new()),
            );
        }
        self.config.extra.insert(
            crate::text::CONFIG_KEY.to_string(),
            serde_json::Value::String(WORDS_FILE.into()),
        );
        self.features = Some(Arc::new(WordFeatures::new(words)));
        Ok(())
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    crate::fsio::read_file(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl ModelFiles {
    /// The default model compiled into the binary.
    pub fn embedded() -> Result<Self> {
        let mut m = Self::from_bytes(
            embedded::CONFIG,
            embedded::WEIGHTS,
            VocabSource::VocabTxt(embedded::VOCAB.to_vec()),
            embedded::WORDS,
            "default",
        )?;
        let pos = m.config.pos_head("config.json")?;
        if pos.as_ref().is_some_and(|p| p.lexicon.is_some()) {
            m.pos_lexicon = Some(embedded::POS_LEXICON.to_string());
        }
        if pos.as_ref().is_some_and(|p| p.context.is_some()) {
            m.pos_context = Some(gunzip_text(
                embedded::POS_CONTEXT_GZ,
                Path::new("default/pos_context.txt.gz"),
            )?);
        }
        Ok(m)
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
            tokenizer_config: None,
            pos_lexicon: None,
            pos_context: None,
            route: None,
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
        // For a model with fenci's own lookups, the tokenizer.json `fenci export` writes beside
        // vocab.txt spells the same lookups out: either file gives the same ids.
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
        let tc = dir.join(TOKENIZER_CONFIG);
        let tokenizer_config = if tc.is_file() {
            Some(String::from_utf8_lossy(&read(&tc)?).into_owned())
        } else {
            None
        };
        let pos = config.pos_head(&dir.join("config.json").display().to_string())?;
        let text_file = |name: &str, what: &str| -> Result<String> {
            let p = dir.join(name);
            String::from_utf8(read(&p)?).map_err(|_| ModelError::BadWeights {
                file: p.display().to_string(),
                message: format!("the {what} is not UTF-8 text"),
            })
        };
        let pos_lexicon = match &pos {
            Some(p) if p.lexicon.is_some() => {
                Some(text_file(super::POS_LEXICON_FILE, "POS lexicon")?)
            }
            _ => None,
        };
        // The context model may be stored gzipped (`pos_context.txt.gz`, as the built-in one).
        let gz = dir.join(format!("{}.gz", super::POS_CONTEXT_FILE));
        let pos_context = match &pos {
            Some(p) if p.context.is_some() => {
                if !dir.join(super::POS_CONTEXT_FILE).exists() && gz.is_file() {
                    Some(gunzip_text(&read(&gz)?, &gz)?)
                } else {
                    Some(text_file(super::POS_CONTEXT_FILE, "POS context model")?)
                }
            }
            _ => None,
        };
        let rp = dir.join(super::ROUTE_FILE);
        let route = if rp.is_file() {
            let text = String::from_utf8(read(&rp)?)
                .map_err(|_| super::RouteSpec::error(&rp, "not UTF-8 text"))?;
            Some(super::RouteSpec::parse(&text, &rp)?)
        } else {
            None
        };
        Ok(Self {
            config,
            tensors,
            vocab,
            source: dir.display().to_string(),
            features,
            tokenizer_config,
            pos_lexicon,
            pos_context,
            route,
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
        if let Some(t) = &self.tokenizer_config {
            files.push((TOKENIZER_CONFIG, t.clone().into_bytes()));
        }
        let pos = self.config.pos_head("config.json")?;
        if let (Some(true), Some(l)) =
            (pos.as_ref().map(|p| p.lexicon.is_some()), &self.pos_lexicon)
        {
            files.push((super::POS_LEXICON_FILE, l.clone().into_bytes()));
        }
        if let (Some(true), Some(c)) =
            (pos.as_ref().map(|p| p.context.is_some()), &self.pos_context)
        {
            files.push((super::POS_CONTEXT_FILE, c.clone().into_bytes()));
        }
        if let Some(r) = &self.route {
            files.push((super::ROUTE_FILE, r.to_json().into_bytes()));
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
        crate::fsio::write_dir_atomic(dir, &refs).map_err(|source| ModelError::Io {
            path: dir.to_path_buf(),
            source,
        })
    }

    /// [`ModelFiles::save_dir_with`] without extra files.
    pub fn save_dir(&self, dir: &Path, f16: bool) -> Result<()> {
        self.save_dir_with(dir, f16, &[])
    }
}
