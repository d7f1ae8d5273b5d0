//! Tensors of a tagger: names and shapes in the Hugging Face layout, picking and checking them
//! out of a weights file, BERT's initialisation, `VarMap` conversions and safetensors bytes.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;

use super::{BertConfig, ModelError, Result};

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
        v.extend(layer_shapes(cfg, &format!("bert.encoder.layer.{i}")));
    }
    v.push(("classifier.weight".into(), vec![n_labels, h]));
    v.push(("classifier.bias".into(), vec![n_labels]));
    v
}

/// The tensors of one encoder layer named `{prefix}.attention.self.query.weight` … with shapes.
fn layer_shapes(cfg: &BertConfig, p: &str) -> Vec<(String, Vec<usize>)> {
    let h = cfg.hidden_size;
    let mut v = Vec::new();
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
    v
}

/// The tensors of a part-of-speech head ([`super::pos`]): `fenci_pos.layer.{i}.…` (encoder
/// layers shaped like the tagger's) and `fenci_pos.classifier.{weight,bias}`.
pub fn pos_tensor_shapes(cfg: &BertConfig, pos: &super::PosConfig) -> Vec<(String, Vec<usize>)> {
    let mut v = Vec::new();
    for i in 0..pos.num_layers {
        v.extend(layer_shapes(cfg, &format!("{}.layer.{i}", super::POS_KEY)));
    }
    let p = super::POS_KEY;
    v.push((
        format!("{p}.classifier.weight"),
        vec![pos.tags.len(), cfg.hidden_size],
    ));
    v.push((format!("{p}.classifier.bias"), vec![pos.tags.len()]));
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
    let check = |name: &str, shape: &[usize], t: &Tensor| -> Result<Tensor> {
        if t.dims() != shape {
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
        Ok(t)
    };
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
        let t = check(&name, &shape, t)?;
        out.insert(name, t);
    }
    if let Some(pos) = cfg.pos_head(file)? {
        for (name, shape) in pos_tensor_shapes(cfg, &pos) {
            let t = raw.get(&name).ok_or_else(|| ModelError::BadWeights {
                file: file.to_string(),
                message: format!(
                    "tensor `{name}` is missing: config.json declares a part-of-speech head (\"{}\") whose tensors are not all in the file; remove that key to use the model without POS",
                    super::POS_KEY
                ),
            })?;
            let t = check(&name, &shape, t)?;
            out.insert(name, t);
        }
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
pub(super) fn init_shapes(
    shapes: Vec<(String, Vec<usize>)>,
    seed: u64,
) -> Result<Vec<(String, Tensor)>> {
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
            (0..n)
                .map(|_| 0.02 * rng.sample::<f32, _>(rand_distr::StandardNormal))
                .collect()
        };
        out.push((name, Tensor::from_vec(data, shape, &Device::Cpu)?));
    }
    Ok(out)
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
