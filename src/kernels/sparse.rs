//! A convolution's backward pass that skips the zeros in its output gradient,
//! with wasm SIMD.
//!
//! A convolution followed by a ReLU and a max pool gets an output gradient
//! that is mostly exact zeros: the pool routes each window's gradient to one
//! of its four inputs, and the ReLU stops the gradient of every window whose
//! maximum is not positive. LeNet-5's second convolution sees ≈ 12 % non-zero
//! values. The GEMMs multiply all of them; here every non-zero value `g` at
//! output pixel `p` of filter `f` adds its share directly:
//!
//! - weight gradient: `dW[f, c, ky, kx] += g · X[c, y(p) + ky, x(p) + kx]`;
//! - input gradient: `dX[c, y(p) + ky, x(p) + kx] += g · W[f, c, ky, kx]`;
//!
//! which are the same sums as the GEMMs' (in another order, so the last bits
//! may differ), without the products by zero, the `(pixels, filters)`
//! regrouping of dY, the column matrix and col2im. A kernel row of five is one
//! v128 for its first four columns and a scalar for the fifth, so no load or
//! store reaches past the row. A gradient with more than [`MAX_DENSITY`]
//! non-zero values takes the GEMMs instead (see [`backward`]).
//!
//! The non-zero values are first listed filter by filter (then image by
//! image), each with where its patch starts in the input: the weight gradient
//! then keeps one filter's sums for one channel in registers over the whole
//! batch, and the input gradient adds one image's values while that image's
//! gradient is in L1.

use core::arch::wasm32::*;

use super::simd128::madd;
use super::ConvGeometry;

/// The kernel size these loops are written for (LeNet-5's, and the usual
/// 5 × 5): one v128 and one scalar per kernel row.
const K: usize = 5;

/// Above this share of non-zero values the GEMMs are faster. LeNet-5's
/// second convolution (relaxed build, batch 64, per-layer profile) at ≈ 12 %
/// non-zero: 0.93 ms sparse against 1.96 ms through the GEMMs; the sparse
/// cost is ≈ 0.15 ms of listing plus a part that grows with the non-zero
/// count, so the two meet near 28 %. A ReLU alone leaves ≈ 50 %, and a
/// BatchNorm before the ReLU makes every value non-zero: both take the GEMMs.
pub const MAX_DENSITY: f32 = 0.25;

/// True when [`backward`] handles this geometry: 5 × 5 kernels (an input
/// gradient only without padding: it is written in the input's own layout).
pub fn supported(g: &ConvGeometry) -> bool {
    g.kernel_h == K && g.kernel_w == K && g.patches() > 0
}

/// The listed non-zero output gradients, kept between steps so a step allocates nothing.
#[derive(Default)]
pub struct SparseScratch {
    /// Where entries of (filter f, image n) start: `starts[f·batch + n]`, and the total last.
    starts: Vec<u32>,
    /// For each entry, where its patch starts in the input (the gathered GEMM's pixel offset).
    at: Vec<u32>,
    /// For each entry, its gradient value.
    value: Vec<f32>,
}

/// For each number of a 4-bit mask, the byte shuffle that moves the lanes
/// whose bits are set to the front, in order (the rest is never read).
static COMPACT: [[u8; 16]; 16] = {
    let mut table = [[0u8; 16]; 16];
    let mut mask = 0;
    while mask < 16 {
        let (mut out, mut lane) = (0, 0);
        while lane < 4 {
            if mask & (1 << lane) != 0 {
                let mut byte = 0;
                while byte < 4 {
                    table[mask][out * 4 + byte] = (lane * 4 + byte) as u8;
                    byte += 1;
                }
                out += 1;
            }
            lane += 1;
        }
        mask += 1;
    }
    table
};

/// The backward pass of a convolution of `batch` images whose output
/// gradient `grad_out` (per image F×OH×OW) is mostly zeros. `x` is the batch
/// as the gathered GEMM reads it (C×H×W images, each channel zero-padded
/// when the convolution pads), and `pixel_offsets` gives, for each (image,
/// output pixel), where its patch starts in `x`. Adds the weight and bias
/// gradients into `param_grads` and writes the input gradient into
/// `input_grad` (only without padding), when given. Returns false, having
/// changed nothing, when more than [`MAX_DENSITY`] of `grad_out` is non-zero
/// or an input gradient of a padded convolution is asked for.
#[allow(clippy::too_many_arguments)]
pub fn backward<const RELAXED: bool>(
    g: &ConvGeometry,
    filters: usize,
    x: &[f32],
    pixel_offsets: &[u32],
    weight: &[f32],
    grad_out: &[f32],
    param_grads: Option<(&mut [f32], &mut [f32])>,
    input_grad: Option<&mut [f32]>,
    scratch: &mut SparseScratch,
) -> bool {
    assert!(supported(g), "sparse convolution backward: unsupported geometry {g:?}");
    let p = g.patches();
    let batch = grad_out.len() / (filters * p).max(1);
    assert_eq!(grad_out.len(), batch * filters * p, "sparse convolution backward: output gradient length");
    let (hp, wp) = (g.height + 2 * g.padding, g.width + 2 * g.padding);
    assert_eq!(x.len(), batch * g.channels * hp * wp, "sparse convolution backward: input length");
    if input_grad.is_some() && g.padding > 0 {
        return false;
    }
    assert_eq!(pixel_offsets.len(), batch * p, "sparse convolution backward: pixel offsets");
    assert_eq!(weight.len(), filters * g.patch_len(), "sparse convolution backward: weight length");
    // The loops read and write patches unchecked: every listed patch must lie inside x.
    let reach = g.channels.saturating_sub(1) * hp * wp + (K - 1) * wp + K;
    assert!(pixel_offsets.iter().all(|&at| at as usize + reach <= x.len()), "sparse convolution backward: a pixel offset reaches past the input");
    let total = count(grad_out, batch, filters, p, &mut scratch.starts);
    if total as f32 > MAX_DENSITY * grad_out.len() as f32 {
        return false;
    }
    list(grad_out, pixel_offsets, batch, filters, p, scratch);
    if let Some((dw, db)) = param_grads {
        assert_eq!((dw.len(), db.len()), (weight.len(), filters), "sparse convolution backward: gradient lengths");
        weight_grad::<RELAXED>(g, filters, batch, x, scratch, dw, db);
    }
    if let Some(dx) = input_grad {
        assert_eq!(dx.len(), x.len(), "sparse convolution backward: input gradient length");
        input_grad_of::<RELAXED>(g, filters, batch, weight, scratch, dx);
    }
    true
}

/// Counts the non-zero values of every (image, filter) row into `starts`,
/// laid out filter-major as prefix sums (`starts[f·batch + n]` is where that
/// row's entries will start). Returns the total.
fn count(grad_out: &[f32], batch: usize, filters: usize, p: usize, starts: &mut Vec<u32>) -> usize {
    starts.clear();
    starts.resize(filters * batch + 1, 0);
    let zero = f32x4_splat(0.0);
    for n in 0..batch {
        for f in 0..filters {
            let row = &grad_out[(n * filters + f) * p..(n * filters + f + 1) * p];
            let chunks = row.chunks_exact(4);
            let tail = chunks.remainder().iter().filter(|v| **v != 0.0).count();
            // Each non-zero lane subtracts −1 (all bits set) from its count.
            let mut lanes = i32x4_splat(0);
            for chunk in chunks {
                // SAFETY: a chunk holds four floats.
                let v = unsafe { v128_load(chunk.as_ptr() as *const v128) };
                lanes = i32x4_sub(lanes, f32x4_ne(v, zero));
            }
            let sum = i32x4_extract_lane::<0>(lanes) + i32x4_extract_lane::<1>(lanes) + i32x4_extract_lane::<2>(lanes) + i32x4_extract_lane::<3>(lanes);
            starts[f * batch + n + 1] = sum as u32 + tail as u32;
        }
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    starts[filters * batch] as usize
}

/// Lists every non-zero value of `grad_out` with its patch offset, at the
/// places [`count`] reserved, four values per step: the lanes that are not
/// zero are shuffled to the front and all four stored, the next entries
/// overwriting the unused ones (so the lists have three floats of slack).
fn list(grad_out: &[f32], pixel_offsets: &[u32], batch: usize, filters: usize, p: usize, scratch: &mut SparseScratch) {
    let total = scratch.starts[filters * batch] as usize;
    scratch.at.resize(total + 4, 0);
    scratch.value.resize(total + 4, 0.0);
    let zero = f32x4_splat(0.0);
    let vectors = p / 4;
    // In the lists' order, so the unused lanes a row stores past its entries
    // land where the next row's entries are about to be written.
    for f in 0..filters {
        for n in 0..batch {
            let offsets = &pixel_offsets[n * p..(n + 1) * p];
            let row = &grad_out[(n * filters + f) * p..(n * filters + f + 1) * p];
            let mut next = scratch.starts[f * batch + n] as usize;
            for j in 0..vectors {
                // SAFETY: 4j + 4 ≤ p for both the row and its offsets; `next` is at most
                // this row's last reserved entry, and the lists have 4 floats past the total.
                unsafe {
                    let v = v128_load(row.as_ptr().add(4 * j) as *const v128);
                    let mask = i32x4_bitmask(f32x4_ne(v, zero)) as usize;
                    let shuffle = v128_load(COMPACT[mask].as_ptr() as *const v128);
                    let at = v128_load(offsets.as_ptr().add(4 * j) as *const v128);
                    v128_store(scratch.value.as_mut_ptr().add(next) as *mut v128, i8x16_swizzle(v, shuffle));
                    v128_store(scratch.at.as_mut_ptr().add(next) as *mut v128, i8x16_swizzle(at, shuffle));
                    next += mask.count_ones() as usize;
                }
            }
            for (q, &v) in row.iter().enumerate().skip(4 * vectors) {
                if v != 0.0 {
                    scratch.value[next] = v;
                    scratch.at[next] = offsets[q];
                    next += 1;
                }
            }
        }
    }
}

/// dW (F × C·5·5) and db (F) += the listed gradients' products with their patches.
fn weight_grad<const RELAXED: bool>(g: &ConvGeometry, filters: usize, batch: usize, x: &[f32], scratch: &SparseScratch, dw: &mut [f32], db: &mut [f32]) {
    // The rows and channels of the (padded) batch the offsets point into.
    let (w, plane) = (g.width + 2 * g.padding, (g.height + 2 * g.padding) * (g.width + 2 * g.padding));
    let patch = g.patch_len();
    for f in 0..filters {
        let entries = scratch.starts[f * batch] as usize..scratch.starts[(f + 1) * batch] as usize;
        let (at, value) = (&scratch.at[entries.clone()], &scratch.value[entries]);
        db[f] += value.iter().sum::<f32>();
        for c in 0..g.channels {
            let mut vector = [f32x4_splat(0.0); K];
            let mut last = [0.0f32; K];
            for (&start, &v) in at.iter().zip(value) {
                let gv = f32x4_splat(v);
                // SAFETY: a patch starting at `start` (an output pixel's, checked by the
                // plan's offsets) has its K rows of K values inside the image, in every channel.
                unsafe {
                    let origin = x.as_ptr().add(start as usize + c * plane);
                    for ky in 0..K {
                        let row = origin.add(ky * w);
                        vector[ky] = madd::<RELAXED>(gv, v128_load(row as *const v128), vector[ky]);
                        last[ky] += v * *row.add(4);
                    }
                }
            }
            let out = &mut dw[f * patch + c * K * K..f * patch + (c + 1) * K * K];
            for ky in 0..K {
                let mut lanes = [0.0f32; 4];
                // SAFETY: lanes holds one v128.
                unsafe { v128_store(lanes.as_mut_ptr() as *mut v128, vector[ky]) };
                for kx in 0..4 {
                    out[ky * K + kx] += lanes[kx];
                }
                out[ky * K + 4] += last[ky];
            }
        }
    }
}

/// dX (per image C×H×W) = the sum of every listed gradient times its filter, placed at its patch.
fn input_grad_of<const RELAXED: bool>(g: &ConvGeometry, filters: usize, batch: usize, weight: &[f32], scratch: &SparseScratch, dx: &mut [f32]) {
    let (plane, w) = (g.height * g.width, g.width);
    let patch = g.patch_len();
    dx.fill(0.0);
    for n in 0..batch {
        for f in 0..filters {
            let entries = scratch.starts[f * batch + n] as usize..scratch.starts[f * batch + n + 1] as usize;
            let kernel = &weight[f * patch..(f + 1) * patch];
            for (&start, &v) in scratch.at[entries.clone()].iter().zip(&scratch.value[entries]) {
                let gv = f32x4_splat(v);
                // SAFETY: as in `weight_grad`, the patch lies inside its image in `dx`
                // (the same layout as x); each kernel row has K values in `kernel`.
                unsafe {
                    let origin = dx.as_mut_ptr().add(start as usize);
                    for c in 0..g.channels {
                        for ky in 0..K {
                            let row = origin.add(c * plane + ky * w);
                            let wr = kernel.as_ptr().add((c * K + ky) * K);
                            v128_store(row as *mut v128, madd::<RELAXED>(gv, v128_load(wr as *const v128), v128_load(row as *const v128)));
                            *row.add(4) += v * *wr.add(4);
                        }
                    }
                }
            }
        }
    }
}
