//! The epoch loop every trainer runs (shuffle, batches, steps, progress, cancel), with
//! checkpoints that let a run resume after Ctrl-C, and the set-up the trainers share.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{DType, Tensor, Var};
use candle_nn::VarMap;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::data::Sample;
use super::optim::{lr_at, AdamW};
use super::tagger::TrainConfig;
use super::{Progress, Result, TrainError};
use crate::tagger::{self, ModelFiles};

/// The state saved beside the moments in a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CkptState<C = TrainConfig> {
    pub(crate) epoch: usize,
    pub(crate) batch_in_epoch: usize,
    pub(crate) step: usize,
    pub(crate) adam_t: usize,
    /// The best dev score so far, higher is better: the tagger's F1, or a language model's
    /// perplexity negated (read it back through [`CkptState::best_ppl`]).
    #[serde(alias = "best_dev_f1")]
    pub(crate) best: Option<f64>,
    pub(crate) train: C,
}

impl<C> CkptState<C> {
    /// Records a dev score (higher is better); true when it is the best so far.
    pub(crate) fn record(&mut self, score: f64) -> bool {
        let better = self.best.is_none_or(|b| score > b);
        if better {
            self.best = Some(score);
        }
        better
    }

    /// Records a language model's dev perplexity (as its negation); true when it is the best
    /// so far.
    pub(crate) fn record_ppl(&mut self, ppl: f64) -> bool {
        self.record(-ppl)
    }

    /// The best dev perplexity recorded by [`CkptState::record_ppl`].
    pub(crate) fn best_ppl(&self) -> Option<f64> {
        self.best.map(|b| -b)
    }
}

/// Reads a checkpoint's weights and optimizer moments into `vm` and `opt`; returns its state.
pub(crate) fn load_checkpoint<C: serde::de::DeserializeOwned>(
    dir: &Path,
    vm: &VarMap,
    opt: &mut AdamW,
    fix_names: impl FnOnce(HashMap<String, Tensor>, &str) -> Result<HashMap<String, Tensor>>,
) -> Result<CkptState<C>> {
    let st: CkptState<C> = std::fs::read_to_string(dir.join("state.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .ok_or_else(|| {
            TrainError::Data(format!(
                "no usable checkpoint in {} (start without --resume)",
                dir.display()
            ))
        })?;
    let read = |name: &str| -> Result<(Vec<u8>, String)> {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|source| TrainError::Io {
            path: path.clone(),
            source,
        })?;
        Ok((bytes, path.display().to_string()))
    };
    let (bytes, file) = read("model.safetensors")?;
    let w = fix_names(tagger::parse_safetensors(&bytes, &file)?, &file)?;
    {
        let data = vm.data().lock().expect("varmap lock");
        for (k, var) in data.iter() {
            if let Some(t) = w.get(k) {
                var.set(t)?;
            }
        }
    }
    let (mbytes, mfile) = read("optimizer.safetensors")?;
    let mom = tagger::parse_safetensors(&mbytes, &mfile)?;
    for (i, (name, _)) in opt.vars.iter().enumerate() {
        if let (Some(m), Some(v)) = (mom.get(&format!("m.{name}")), mom.get(&format!("v.{name}"))) {
            opt.m[i] = m.clone();
            opt.v[i] = v.clone();
        }
    }
    opt.t = st.adam_t;
    Ok(st)
}

/// What [`EpochLoop::run`] ends with.
pub(crate) struct LoopEnd {
    pub(crate) cancelled: bool,
    pub(crate) last_loss: f32,
}

/// The training loop both trainers share: epochs of batches in an order fixed by the seed and
/// the epoch (so a resumed run replays it), cancel between steps, warm-up + linear decay,
/// AdamW, progress, periodic checkpoints, and an end-of-epoch hook (evaluate, keep the best).
pub(crate) struct EpochLoop<'a> {
    pub(crate) epochs: usize,
    pub(crate) seed: u64,
    pub(crate) lr: f64,
    pub(crate) warmup: f64,
    pub(crate) checkpoint_every: usize,
    pub(crate) ckpt: Option<&'a Path>,
    pub(crate) vm: &'a VarMap,
}

impl EpochLoop<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run<C: Serialize>(
        &self,
        state: &mut CkptState<C>,
        opt: &mut AdamW,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(Progress),
        mut epoch_batches: impl FnMut(&mut rand::rngs::StdRng) -> Vec<Vec<Sample>>,
        mut loss_of: impl FnMut(&[Sample]) -> Result<(Tensor, usize)>,
        mut end_of_epoch: impl FnMut(usize, &mut CkptState<C>, &mut dyn FnMut(Progress)) -> Result<()>,
    ) -> Result<LoopEnd> {
        let epoch_rng = |epoch: usize| {
            rand::rngs::StdRng::seed_from_u64(self.seed ^ ((epoch as u64 + 1) * 0x9E37_79B9))
        };
        // The plan: every epoch's batches drawn once ahead (random cuts and swaps change their
        // number), so the schedule and the progress total are exact, and a resumed run agrees.
        // Only the counts are kept, so each epoch's batches are built twice: ~1.8 s an epoch for
        // the PKU training split with dictionary swaps (<1% of the epoch), where keeping every
        // epoch's batches would hold them all in memory at once.
        let total: usize = (0..self.epochs)
            .map(|e| epoch_batches(&mut epoch_rng(e)).len())
            .sum();
        let started = Instant::now();
        let mut units_done = 0usize;
        let mut last_loss = f32::NAN;
        let mut cancelled = false;
        'epochs: for epoch in state.epoch..self.epochs {
            let ep_batches = epoch_batches(&mut epoch_rng(epoch));
            let skip = if epoch == state.epoch {
                state.batch_in_epoch
            } else {
                0
            };
            for (bi, batch) in ep_batches.iter().enumerate().skip(skip) {
                if cancel.load(Ordering::Relaxed) {
                    cancelled = true;
                    state.epoch = epoch;
                    state.batch_in_epoch = bi;
                    break 'epochs;
                }
                let (loss, n) = loss_of(batch)?;
                let grads = loss.backward()?;
                let lr = lr_at(self.lr, self.warmup, state.step, total);
                opt.step(&grads, lr, 1.0)?;
                last_loss = loss.to_dtype(DType::F32)?.to_scalar::<f32>()?;
                units_done += n;
                state.step += 1;
                state.adam_t = opt.t;
                progress(Progress::Step {
                    epoch,
                    step: state.step,
                    total,
                    loss: last_loss,
                    units_per_s: units_done as f64 / started.elapsed().as_secs_f64().max(1e-9),
                });
                if let Some(dir) = self.ckpt {
                    if self.checkpoint_every > 0 && state.step.is_multiple_of(self.checkpoint_every)
                    {
                        state.epoch = epoch;
                        state.batch_in_epoch = bi + 1;
                        save_checkpoint(dir, self.vm, opt, state)?;
                        progress(Progress::Checkpoint { step: state.step });
                    }
                }
            }
            state.epoch = epoch + 1;
            state.batch_in_epoch = 0;
            end_of_epoch(epoch, state, progress)?;
            if let Some(dir) = self.ckpt {
                save_checkpoint(dir, self.vm, opt, state)?;
                progress(Progress::Checkpoint { step: state.step });
            }
        }
        if cancelled {
            if let Some(dir) = self.ckpt {
                save_checkpoint(dir, self.vm, opt, state)?;
                progress(Progress::Checkpoint { step: state.step });
            }
        }
        Ok(LoopEnd {
            cancelled,
            last_loss,
        })
    }
}

/// Where a run keeps its checkpoint: `<out>.ckpt` beside the output directory.
pub fn checkpoint_dir(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".ckpt");
    PathBuf::from(s)
}

/// The variables of `vm` that `train` selects, sorted by name: the optimizer's order, which its
/// checkpointed moments follow.
pub(crate) fn sorted_vars(vm: &VarMap, train: impl Fn(&str) -> bool) -> Vec<(String, Var)> {
    let data = vm.data().lock().expect("varmap lock");
    let mut v: Vec<(String, Var)> = data
        .iter()
        .filter(|(k, _)| train(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Where a run starts: step 0, or with `resume` the checkpoint `ckpt` (its weights into `vm`, its
/// moments into `opt`, names fixed by `fix_names`), carrying on with the hyper-parameters `cfg`.
pub(crate) fn start_state<C: Clone + serde::de::DeserializeOwned>(
    cfg: &C,
    ckpt: Option<&Path>,
    resume: bool,
    vm: &VarMap,
    opt: &mut AdamW,
    fix_names: impl FnOnce(HashMap<String, Tensor>, &str) -> Result<HashMap<String, Tensor>>,
) -> Result<CkptState<C>> {
    if !resume {
        return Ok(CkptState {
            epoch: 0,
            batch_in_epoch: 0,
            step: 0,
            adam_t: 0,
            best: None,
            train: cfg.clone(),
        });
    }
    let dir = ckpt.ok_or_else(|| TrainError::Data("--resume needs --out".into()))?;
    let mut state: CkptState<C> = load_checkpoint(dir, vm, opt, fix_names)?;
    state.train = cfg.clone();
    Ok(state)
}

/// The model a run ends with when no epoch ended in it (resumed after the last one, or cancelled
/// in the first): the best saved in `out` if there is one, else `current`.
pub(crate) fn saved_or(
    out: Option<&Path>,
    current: impl FnOnce() -> Result<ModelFiles>,
) -> Result<ModelFiles> {
    match out.filter(|o| o.join("config.json").is_file()) {
        Some(out) => Ok(ModelFiles::load_dir(out)?),
        None => current(),
    }
}

pub(crate) fn save_checkpoint<C: Serialize>(
    dir: &Path,
    vm: &VarMap,
    opt: &AdamW,
    state: &CkptState<C>,
) -> Result<()> {
    let weights = tagger::safetensors_bytes(&tagger::varmap_tensors(vm)?, false)?;
    let mut moments = Vec::new();
    for (i, (name, _)) in opt.vars.iter().enumerate() {
        moments.push((format!("m.{name}"), opt.m[i].clone()));
        moments.push((format!("v.{name}"), opt.v[i].clone()));
    }
    let moments = tagger::safetensors_bytes(&moments, false)?;
    let state_json = serde_json::to_string_pretty(state).expect("state serializes");
    crate::fsio::write_dir_atomic(
        dir,
        &[
            ("model.safetensors", &weights),
            ("optimizer.safetensors", &moments),
            ("state.json", state_json.as_bytes()),
        ],
    )
    .map_err(|source| TrainError::Io {
        path: dir.to_path_buf(),
        source,
    })
}
