//! AdamW with checkpointable moments and decay toward the starting weights, and the
//! warm-up + linear-decay learning-rate schedule.

use super::Result;
use candle_core::{Tensor, Var};

/// AdamW with state we can save, and optional decay toward anchor weights (L2-SP).
pub(crate) struct AdamW {
    pub(crate) vars: Vec<(String, Var)>,
    pub(crate) m: Vec<Tensor>,
    pub(crate) v: Vec<Tensor>,
    pub(crate) anchors: Vec<Option<Tensor>>,
    pub(crate) t: usize,
    b1: f64,
    b2: f64,
    pub(crate) eps: f64,
    pub(crate) wd: f64,
    pub(crate) anchor_wd: f64,
}

impl AdamW {
    pub(crate) fn new(vars: Vec<(String, Var)>, wd: f64, anchor_wd: f64) -> Result<Self> {
        let m = vars
            .iter()
            .map(|(_, v)| v.as_tensor().zeros_like())
            .collect::<candle_core::Result<Vec<_>>>()?;
        let anchors = vars
            .iter()
            .map(|(_, v)| {
                if anchor_wd > 0.0 {
                    Some(v.as_tensor().detach().copy())
                } else {
                    None
                }
                .transpose()
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            v: m.clone(),
            m,
            anchors,
            vars,
            t: 0,
            b1: 0.9,
            b2: 0.999,
            eps: 1e-8,
            wd,
            anchor_wd,
        })
    }

    pub(crate) fn step(
        &mut self,
        grads: &candle_core::backprop::GradStore,
        lr: f64,
        clip: f64,
    ) -> Result<()> {
        self.t += 1;
        // Global gradient-norm clipping.
        let mut sq = 0f64;
        for (_, var) in &self.vars {
            if let Some(g) = grads.get(var.as_tensor()) {
                sq += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
            }
        }
        let norm = sq.sqrt();
        let scale = if norm > clip && norm.is_finite() {
            clip / norm
        } else {
            1.0
        };
        if !norm.is_finite() {
            // A NaN/inf gradient: skip the update rather than poison the weights.
            return Ok(());
        }
        let bc1 = 1.0 - self.b1.powi(self.t as i32);
        let bc2 = 1.0 - self.b2.powi(self.t as i32);
        for (i, (name, var)) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let g = (g * scale)?;
            self.m[i] = ((&self.m[i] * self.b1)? + (&g * (1.0 - self.b1))?)?;
            self.v[i] = ((&self.v[i] * self.b2)? + (g.sqr()? * (1.0 - self.b2))?)?;
            let mhat = (&self.m[i] / bc1)?;
            let vhat = (&self.v[i] / bc2)?;
            let upd = (mhat / (vhat.sqrt()? + self.eps)?)?;
            let theta = var.as_tensor();
            // No weight decay on biases and LayerNorm parameters.
            let decays = !(name.ends_with(".bias")
                || name.contains("LayerNorm")
                || name.ends_with("norm.weight"));
            let mut new = (theta - (upd * lr)?)?;
            if decays && self.wd > 0.0 {
                new = (new - (theta * (lr * self.wd))?)?;
            }
            if let Some(a) = &self.anchors[i] {
                new = (new - ((theta - a)? * (lr * self.anchor_wd))?)?;
            }
            var.set(&new)?;
        }
        Ok(())
    }
}

/// The learning rate at `step` of `total`: linear warm-up over a `warmup` fraction of the
/// steps, then linear decay to 2% of `peak`.
pub(crate) fn lr_at(peak: f64, warmup: f64, step: usize, total: usize) -> f64 {
    let warm = ((total as f64) * warmup).max(1.0);
    if (step as f64) < warm {
        peak * (step as f64 + 1.0) / warm
    } else {
        peak * (1.0 - (step as f64 - warm) / (total as f64 - warm).max(1.0)).max(0.02)
    }
}
