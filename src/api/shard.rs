//! A trainer as one shard of a data-parallel run (src/train/shard.rs), for
//! the page's worker and its helper workers (www/shard-group.js).

use wasm_bindgen::prelude::*;

use super::{tick_code, to_js_error, TrainerHandle};

#[wasm_bindgen]
impl TrainerHandle {
    /// Makes this trainer shard `index` of `count` of a data-parallel run
    /// (src/train/shard.rs): before its first tick, or right after a restore.
    #[wasm_bindgen(js_name = setShard)]
    pub fn set_shard(&mut self, index: usize, count: usize) -> Result<(), JsValue> {
        self.inner.set_shard(index, count).map_err(to_js_error)
    }

    /// The first half of a sharded tick: 1 for a training step, 0 for an
    /// evaluation chunk, −1 when the run is complete; the contribution is
    /// then in [`Self::contribution`].
    #[wasm_bindgen(js_name = shardTick)]
    pub fn shard_tick(&mut self) -> Result<i32, JsValue> {
        use crate::train::ShardTick;
        Ok(match self.inner.shard_tick(&mut self.contribution).map_err(to_js_error)? {
            ShardTick::Train => 1,
            ShardTick::Evaluate => 0,
            ShardTick::Done => -1,
        })
    }

    /// This shard's contribution to the tick under way (a copy).
    pub fn contribution(&self) -> Vec<f32> {
        self.contribution.clone()
    }

    /// Copies the contribution into `target` (a shared buffer's view) as
    /// the `index`-th of equal-length contributions laid end to end from
    /// `start`, with no copy in between; returns its length.
    #[wasm_bindgen(js_name = contributionInto)]
    pub fn contribution_into(&self, target: &js_sys::Float32Array, start: u32, index: u32) -> usize {
        let len = self.contribution.len();
        // SAFETY: the view is used at once, before anything can allocate (and move wasm memory).
        let view = unsafe { js_sys::Float32Array::view(&self.contribution) };
        target.set(&view, start + index * len as u32);
        len
    }

    /// The second half: every shard's contribution (`count` of them, laid
    /// end to end) is summed in shard order, and the sum finishes the tick;
    /// returns what [`Self::tick`] would. Every shard gets the same bits.
    #[wasm_bindgen(js_name = applyShards)]
    pub fn apply_shards(&mut self, contributions: &[f32], count: usize) -> Result<i32, JsValue> {
        let sum = crate::train::reduce_shards(contributions, count).map_err(to_js_error)?;
        Ok(tick_code(self.inner.apply_shards(&sum).map_err(to_js_error)?))
    }

    /// [`Self::apply_shards`] for the shared-memory transport: the `count`
    /// contributions lie end to end in `data` (a shared buffer's view) from
    /// `start`, each as long as this shard's. This shard's own is taken from
    /// wasm memory, the others are copied straight into a reused buffer and
    /// summed there: at batch 64 this was a third of a data-parallel tick's
    /// overhead (a fresh 0.5 MB argument copied from shared memory, then
    /// summed into a new vector and copied again).
    #[wasm_bindgen(js_name = applyShardsShared)]
    pub fn apply_shards_shared(&mut self, data: &js_sys::Float32Array, start: u32, count: usize) -> Result<i32, JsValue> {
        let len = self.contribution.len();
        let (start, own) = (start as usize, self.inner.shard().index);
        if start + count * len > data.length() as usize || own >= count {
            let message = format!("{count} contributions of {len} values from {start} do not fit in {} shared values", data.length());
            return Err(to_js_error(crate::error::Error::Config(message)));
        }
        let mut parts = std::mem::take(&mut self.shard_parts);
        parts.resize(count * len, 0.0);
        for (i, part) in parts.chunks_exact_mut(len.max(1)).enumerate() {
            if i == own {
                part.copy_from_slice(&self.contribution);
            } else {
                data.subarray((start + i * len) as u32, (start + (i + 1) * len) as u32).copy_to(part);
            }
        }
        let result = crate::train::reduce_shards_in_place(&mut parts, count).and_then(|len| self.inner.apply_shards(&parts[..len]));
        self.shard_parts = parts;
        Ok(tick_code(result.map_err(to_js_error)?))
    }

    /// The longest contribution this run can give, to size shared buffers.
    #[wasm_bindgen(js_name = maxContributionLength)]
    pub fn max_contribution_length(&self) -> usize {
        self.inner.max_contribution_len()
    }

    /// Whether an evaluation is under way (a Step finishes it).
    #[wasm_bindgen(js_name = isEvaluating)]
    pub fn is_evaluating(&self) -> bool {
        self.inner.is_evaluating()
    }
}
