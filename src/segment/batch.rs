//! [`PaddedBatch`]: the one place a batch of unit sequences becomes the tagger's input,
//! `[CLS] units [SEP] [PAD]…` with token types and an attention mask. Inference and both
//! trainers build their batches here, so training and segmenting cannot drift apart.

use candle_core::{Device, Tensor};

use crate::text::CharTokenizer;

/// A padded batch: row-major `rows × width` ids, token types and attention mask.
#[derive(Debug, Clone, PartialEq)]
pub struct PaddedBatch {
    /// Token ids; `[CLS]` at column 0, the units from column 1, `[SEP]` after them, then `[PAD]`.
    pub ids: Vec<u32>,
    /// Token-type ids: the units' own (dictionary features), 0 on special tokens and padding.
    pub types: Vec<u32>,
    /// 1 on `[CLS]`, the units and `[SEP]`; 0 on padding.
    pub mask: Vec<f32>,
    /// Rows in the batch.
    pub rows: usize,
    /// Columns: the longest row's units + 2.
    pub width: usize,
}

impl PaddedBatch {
    /// Builds the batch of `rows` (each: unit ids and their token types, of equal length) for
    /// `tok`'s special tokens. `map(row, unit, id)` gives the id to feed for each unit, called
    /// in row-major order (training masks or replaces ids here; inference passes them through).
    pub fn build(
        rows: &[(&[u32], &[u32])],
        tok: &CharTokenizer,
        mut map: impl FnMut(usize, usize, u32) -> u32,
    ) -> Self {
        let width = rows.iter().map(|(ids, _)| ids.len()).max().unwrap_or(0) + 2;
        let n = rows.len();
        let mut ids = vec![tok.pad; n * width];
        let mut types = vec![0u32; n * width];
        let mut mask = vec![0f32; n * width];
        for (r, (unit_ids, unit_types)) in rows.iter().enumerate() {
            let at = r * width;
            ids[at] = tok.cls;
            for (j, &id) in unit_ids.iter().enumerate() {
                ids[at + 1 + j] = map(r, j, id);
            }
            let len = unit_ids.len();
            ids[at + 1 + len] = tok.sep;
            types[at + 1..at + 1 + len].copy_from_slice(unit_types);
            mask[at..at + len + 2].fill(1.0);
        }
        Self {
            ids,
            types,
            mask,
            rows: n,
            width,
        }
    }

    /// The flat position of unit `j` of row `r` (after its `[CLS]`).
    pub fn at(&self, r: usize, j: usize) -> usize {
        r * self.width + 1 + j
    }

    /// The batch as CPU tensors `(ids u32, types u32, mask f32)`, each `[rows, width]`.
    pub fn tensors(self) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
        let shape = (self.rows, self.width);
        Ok((
            Tensor::from_vec(self.ids, shape, &Device::Cpu)?,
            Tensor::from_vec(self.types, shape, &Device::Cpu)?,
            Tensor::from_vec(self.mask, shape, &Device::Cpu)?,
        ))
    }
}
