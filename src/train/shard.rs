//! Synchronous data parallelism: W trainers of the same run (same
//! configuration, seed and data, so the same batch order) each compute one
//! shard of every batch, and a caller moves their contributions between them.
//! Every tick has two halves:
//!
//! 1. [`Trainer::shard_tick`]: this shard's contribution to the coming tick —
//!    for a training step its loss, correct count, image count, the gradient
//!    of its images (scaled so the shards' gradients *sum* to the batch's
//!    mean gradient) and its BatchNorm running statistics; for a chunk of an
//!    evaluation its loss, correct count and image count.
//! 2. [`reduce_shards`] sums the W contributions in shard order (one caller,
//!    or each alike: the order is fixed, so every shard gets the same bits),
//!    and [`Trainer::apply_shards`] takes the sum: every shard makes the same
//!    update, so the weights stay identical on all of them.
//!
//! Randomness stays correct and deterministic: each shard's dropout and
//! augmentation streams come from the run's seed and the shard index (shard
//! 0 uses the streams of an undivided run). BatchNorm normalises each shard
//! with that shard's own batch statistics (as PyTorch's DataParallel without
//! SyncBN); its running statistics are averaged over the shards, weighted by
//! their images, after every step. Layer health and the forgetting meter are
//! reports, measured by shard 0 only. A run of one shard never comes here:
//! `tick` is today's trainer, bit for bit.

use std::ops::Range;

use super::{Tick, Trainer};
use crate::catalog::limits::WORKERS;
use crate::error::{Error, Result};
use crate::loss::softmax_cross_entropy;
use crate::model::Sequential;
use crate::nn::{Mode, ParamKind};
use crate::rng::{stream, AUGMENT_STREAM, DROPOUT_STREAM};

/// Shard `index` of `count`: which images of every batch this trainer computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// An undivided run.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// This shard's contiguous part of `positions`: shard sizes differ by at most one image.
    fn part(&self, positions: Range<usize>) -> Range<usize> {
        let n = positions.len();
        positions.start + n * self.index / self.count..positions.start + n * (self.index + 1) / self.count
    }
}

/// What the coming sharded tick is: every shard of a run agrees, since they share their state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardTick {
    Train,
    Evaluate,
    Done,
}

/// A contribution given, its sum awaited.
pub(super) enum Pending {
    Train { end: usize, images: usize },
    Evaluate { end: usize, count: usize },
}

/// How many values precede the gradients in a contribution: loss sum, correct, images.
const HEADER: usize = 3;

/// The element-wise sum of `count` equal-length contributions laid end to
/// end, added in shard order so that every caller gets the same bits.
pub fn reduce_shards(contributions: &[f32], count: usize) -> Result<Vec<f32>> {
    let mut sum = contributions.to_vec();
    let len = reduce_shards_in_place(&mut sum, count)?;
    sum.truncate(len);
    Ok(sum)
}

/// [`reduce_shards`] into the first contribution, with no allocation (the
/// shared-memory transport's every tick): the same additions in the same
/// order, so the same bits. Returns the length of one contribution.
pub fn reduce_shards_in_place(contributions: &mut [f32], count: usize) -> Result<usize> {
    if count == 0 || !contributions.len().is_multiple_of(count) {
        return Err(Error::Config(format!("{} values cannot be {count} equal contributions", contributions.len())));
    }
    let len = contributions.len() / count;
    let (sum, rest) = contributions.split_at_mut(len);
    for part in rest.chunks_exact(len) {
        for (s, v) in sum.iter_mut().zip(part) {
            *s += v;
        }
    }
    Ok(len)
}

impl Trainer {
    /// Makes this trainer shard `index` of `count` of its run, before its
    /// first tick or right after a restore: its dropout and augmentation
    /// streams become the shard's own (shard 0 keeps the run's).
    pub fn set_shard(&mut self, index: usize, count: usize) -> Result<()> {
        WORKERS.check(count as u32)?;
        if index >= count {
            return Err(Error::Config(format!("shard {index} of {count}: shards are numbered from 0")));
        }
        self.shard = Shard { index, count };
        // Shard 0 keeps the undivided run's streams; the others are offset by
        // a whole block of purposes so they never meet another stream.
        let offset = 1000 * index as u64;
        self.dropout_rng = stream(self.config.seed, DROPOUT_STREAM + offset);
        self.augment_rng = stream(self.config.seed, AUGMENT_STREAM + offset);
        self.shard_pending = None;
        Ok(())
    }

    pub fn shard(&self) -> Shard {
        self.shard
    }

    /// The longest contribution this run can give (every layer trainable), to size shared buffers.
    pub fn max_contribution_len(&self) -> usize {
        HEADER + self.model.params().map(|p| p.len()).sum::<usize>()
    }

    /// The first half of a sharded tick: this shard's contribution in `out`
    /// (replaced). A non-finite loss is contributed as it is, so that every
    /// shard learns of it from the sum and stops at the same step.
    pub fn shard_tick(&mut self, out: &mut Vec<f32>) -> Result<ShardTick> {
        if self.shard_pending.is_some() {
            return Err(Error::Config("a sharded tick is still waiting for its sum".into()));
        }
        out.clear();
        if self.pending_eval.is_some() {
            let chunk = self.next_eval_chunk();
            let mine = self.shard.part(chunk.clone());
            if mine.is_empty() {
                out.extend([0.0, 0.0, 0.0]);
            } else {
                let (x, labels) = self.dataset.batch(&self.val_indices[mine]);
                let logits = self.model.forward(x, &mut Mode::Eval);
                let measured = softmax_cross_entropy(&logits, &labels);
                out.extend([measured.loss * labels.len() as f32, measured.correct as f32, labels.len() as f32]);
            }
            self.shard_pending = Some(Pending::Evaluate { end: chunk.end, count: chunk.len() });
            return Ok(ShardTick::Evaluate);
        }
        if self.is_done() {
            return Ok(ShardTick::Done);
        }
        let positions = self.next_batch();
        let images = positions.len();
        let mine = self.shard.part(positions.clone());
        self.model.zero_grads();
        let (mut loss_sum, mut correct, mut count) = (0.0, 0, 0);
        if !mine.is_empty() {
            let (x, labels) = self.training_batch(mine);
            count = labels.len();
            let logits = self.model.forward(x, &mut Mode::Train { rng: &mut self.dropout_rng });
            let mut measured = softmax_cross_entropy(&logits, &labels);
            if measured.loss.is_finite() {
                // The loss is the batch's mean: this shard's rows weigh count/images of it.
                if count != images {
                    measured.grad *= count as f32 / images as f32;
                }
                self.model.backward(measured.grad);
            } else {
                self.model.clear_cache();
            }
            (loss_sum, correct) = (measured.loss * count as f32, measured.correct);
        }
        out.extend([loss_sum, correct as f32, count as f32]);
        write_contribution(&self.model, count as f32, out);
        self.shard_pending = Some(Pending::Train { end: positions.end, images });
        Ok(ShardTick::Train)
    }

    /// The second half: the sum of every shard's contribution (in shard
    /// order, [`reduce_shards`]) finishes the tick exactly as an undivided
    /// run's: the same checks, update, training points and evaluations.
    pub fn apply_shards(&mut self, sum: &[f32]) -> Result<Tick> {
        let pending = self.shard_pending.take().ok_or_else(|| Error::Config("no sharded tick is waiting for a sum".into()))?;
        match pending {
            Pending::Evaluate { end, count } => {
                if sum.len() != HEADER || sum[2] as usize != count {
                    self.shard_pending = Some(pending);
                    return Err(Error::Config(format!(
                        "an evaluation chunk's sum has {} values for {} images; it needs {HEADER} for {count}",
                        sum.len(),
                        sum[2]
                    )));
                }
                Ok(self.close_eval_chunk(sum[0] / count as f32, sum[1] as usize, count, end))
            }
            Pending::Train { end, images } => {
                let expected = contribution_len(&self.model);
                if sum.len() != expected || sum[2] as usize != images {
                    self.shard_pending = Some(pending);
                    return Err(Error::Config(format!("a training step's sum has {} values; this model's has {expected}", sum.len())));
                }
                let loss = sum[0] / images as f32;
                if !loss.is_finite() {
                    return Err(self.diverged("the loss".into(), loss));
                }
                read_contribution(&mut self.model, images as f32, &sum[HEADER..]);
                self.finish_step(loss, sum[1] as usize, images, end)
            }
        }
    }
}

/// The parameters a contribution carries: every trainable layer's
/// gradients, then the same layers' running statistics.
fn contribution_len(model: &Sequential) -> usize {
    HEADER + model.slots().iter().filter(|s| s.trainable()).flat_map(|s| s.layer.params()).map(|p| p.len()).sum::<usize>()
}

/// Appends the gradients of the trainable layers, then their running statistics times `images`.
fn write_contribution(model: &Sequential, images: f32, out: &mut Vec<f32>) {
    let trainable = || model.slots().iter().filter(|s| s.trainable()).flat_map(|s| s.layer.params());
    for p in trainable().filter(|p| p.kind != ParamKind::Statistic) {
        out.extend_from_slice(p.grads());
    }
    for p in trainable().filter(|p| p.kind == ParamKind::Statistic) {
        out.extend(p.values().iter().map(|v| v * images));
    }
}

/// The inverse of [`write_contribution`] for a sum over `images` images.
fn read_contribution(model: &mut Sequential, images: f32, mut rest: &[f32]) {
    for pass in [false, true] {
        for slot in model.slots_mut().iter_mut().filter(|s| s.trainable()) {
            for p in slot.layer.params_mut().iter_mut().filter(|p| (p.kind == ParamKind::Statistic) == pass) {
                let (mine, others) = rest.split_at(p.len());
                if pass {
                    p.values_mut().iter_mut().zip(mine).for_each(|(v, s)| *v = s / images);
                } else {
                    p.grads_mut().copy_from_slice(mine);
                }
                rest = others;
            }
        }
    }
}
