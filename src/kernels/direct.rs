//! Direct stride-1 convolution with wasm SIMD: no column matrix at all.
//!
//! For a layer with wide output rows (LeNet-5's first convolution: 28
//! columns, 7 vectors), unfolding each image into 25 shifted copies (im2col),
//! multiplying, and regrouping the product cost several times the arithmetic.
//! Here each output row is a handful of v128 accumulators: for every
//! (channel, kernel row, kernel column) the shifted input row is loaded once
//! and multiplied into `FB` filters at a time. The input is first copied into
//! a zero-padded buffer whose rows are wide enough for every vector load, so
//! the inner loops have no edge cases.
//!
//! The weight gradient is the same loop turned around: for every pair of
//! filters, channel and kernel row, `2·KW` accumulators collect the products
//! of the output gradient's rows with the shifted input rows, summed across
//! lanes at the end. Layers with narrow rows (LeNet-5's second convolution:
//! 10 columns, 2.5 vectors) stay with a GEMM (gathered, see `kernels::conv`),
//! which uses its lanes better.

use core::arch::wasm32::*;

use super::simd128::madd;
use super::{ConvGeometry, DirectScratch};

/// Output rows of at most this many v128 (32 columns) take the direct path.
const MAX_VECTORS: usize = 8;
/// Rows at least this many vectors wide; narrower rows waste too many lanes.
const MIN_VECTORS: usize = 5;

/// True when [`forward`] and [`weight_grad`] handle this geometry.
pub fn supported(g: &ConvGeometry) -> bool {
    let vectors = g.out_width().div_ceil(4);
    g.stride == 1 && (MIN_VECTORS..=MAX_VECTORS).contains(&vectors) && matches!(g.kernel_w, 3 | 5 | 7) && g.out_height() > 0
}

/// Scratch: one image zero-padded, rows `width` floats apart.
pub struct Padded {
    data: Vec<f32>,
    height: usize,
    width: usize,
}

impl Padded {
    pub fn new() -> Self {
        Padded { data: Vec::new(), height: 0, width: 0 }
    }

    /// Copies `image` (C×H×W) into the buffer with `padding` zeros around it
    /// and enough zeros on the right for vector loads past the last column.
    fn fill(&mut self, g: &ConvGeometry, image: &[f32]) {
        let vectors = g.out_width().div_ceil(4);
        self.height = g.height + 2 * g.padding;
        self.width = (g.width + 2 * g.padding).max(4 * vectors + g.kernel_w - 1);
        self.data.clear();
        self.data.resize(g.channels * self.height * self.width, 0.0);
        for c in 0..g.channels {
            for y in 0..g.height {
                let src = &image[(c * g.height + y) * g.width..(c * g.height + y + 1) * g.width];
                let at = (c * self.height + y + g.padding) * self.width + g.padding;
                self.data[at..at + g.width].copy_from_slice(src);
            }
        }
    }

    #[inline(always)]
    fn row(&self, c: usize, y: usize) -> *const f32 {
        // SAFETY (for callers): rows are `width` floats; callers stay below `height`.
        unsafe { self.data.as_ptr().add((c * self.height + y) * self.width) }
    }
}

impl Default for Padded {
    fn default() -> Self {
        Self::new()
    }
}

/// [`forward`] with the plan's scratch: the table's `direct_forward` entry.
pub(super) fn forward_with_scratch<const RELAXED: bool>(
    g: &ConvGeometry,
    filters: usize,
    image: &[f32],
    weight: &[f32],
    bias: &[f32],
    out: &mut [f32],
    scratch: &mut DirectScratch,
) {
    forward::<RELAXED>(g, filters, image, weight, bias, out, &mut scratch.padded)
}

/// [`weight_grad`] with the plan's scratch: the table's `direct_weight_grad` entry.
pub(super) fn weight_grad_with_scratch<const RELAXED: bool>(
    g: &ConvGeometry,
    filters: usize,
    image: &[f32],
    grad: &[f32],
    dweight: &mut [f32],
    scratch: &mut DirectScratch,
) {
    weight_grad::<RELAXED>(g, filters, image, grad, dweight, &mut scratch.padded, &mut scratch.grad_rows)
}

/// `out` (F×OH×OW) = the convolution of one image (C×H×W) with `weight`
/// (F×C×KH×KW) plus `bias`. The geometry must be [`supported`].
pub fn forward<const RELAXED: bool>(g: &ConvGeometry, filters: usize, image: &[f32], weight: &[f32], bias: &[f32], out: &mut [f32], padded: &mut Padded) {
    assert!(supported(g), "direct convolution: unsupported geometry {g:?}");
    assert_eq!(image.len(), g.input_len());
    assert_eq!(weight.len(), filters * g.patch_len());
    assert_eq!(bias.len(), filters);
    assert_eq!(out.len(), filters * g.patches());
    padded.fill(g, image);
    // (vectors per row, filters at a time): at most ~16 accumulators live.
    match g.out_width().div_ceil(4) {
        5 => forward_rows::<RELAXED, 5, 2>(g, filters, weight, bias, out, padded),
        6 => forward_rows::<RELAXED, 6, 2>(g, filters, weight, bias, out, padded),
        7 => forward_rows::<RELAXED, 7, 2>(g, filters, weight, bias, out, padded),
        8 => forward_rows::<RELAXED, 8, 1>(g, filters, weight, bias, out, padded),
        _ => unreachable!("checked by supported()"),
    }
}

// The loops index the accumulators `acc[i][v]` of every filter `i` at the
// same column `v`, and the load offset by `v` too, which no one iterator yields.
#[allow(clippy::needless_range_loop)]
fn forward_rows<const RELAXED: bool, const NV: usize, const FB: usize>(
    g: &ConvGeometry,
    filters: usize,
    weight: &[f32],
    bias: &[f32],
    out: &mut [f32],
    padded: &Padded,
) {
    let (oh, ow, kh, kw) = (g.out_height(), g.out_width(), g.kernel_h, g.kernel_w);
    let patch = g.patch_len();
    for f0 in (0..filters).step_by(FB) {
        // A ragged last group repeats its last filter and stores nothing for it.
        let fb = FB.min(filters - f0);
        let fs: [usize; FB] = core::array::from_fn(|i| f0 + i.min(fb - 1));
        for y in 0..oh {
            let mut acc: [[v128; NV]; FB] = core::array::from_fn(|i| [f32x4_splat(bias[fs[i]]); NV]);
            for c in 0..g.channels {
                for ky in 0..kh {
                    let row = padded.row(c, y + ky);
                    for kx in 0..kw {
                        let w: [v128; FB] = core::array::from_fn(|i| f32x4_splat(weight[fs[i] * patch + (c * kh + ky) * kw + kx]));
                        for v in 0..NV {
                            // SAFETY: column kx + 4v + 3 ≤ kw − 1 + 4·NV − 1 < padded width (see Padded::fill).
                            let x = unsafe { v128_load(row.add(kx + 4 * v) as *const v128) };
                            for i in 0..FB {
                                acc[i][v] = madd::<RELAXED>(w[i], x, acc[i][v]);
                            }
                        }
                    }
                }
            }
            for (i, &f) in fs.iter().enumerate().take(fb) {
                store_row(&acc[i], &mut out[(f * oh + y) * ow..(f * oh + y + 1) * ow]);
            }
        }
    }
}

/// Stores the first `dst.len()` lanes of `row`.
#[inline(always)]
fn store_row<const NV: usize>(row: &[v128; NV], dst: &mut [f32]) {
    let full = dst.len() / 4;
    for (v, &value) in row.iter().enumerate().take(full) {
        // SAFETY: lanes 4v..4v+4 are inside dst for v < full.
        unsafe { v128_store(dst.as_mut_ptr().add(4 * v) as *mut v128, value) };
    }
    if full < NV && dst.len() > 4 * full {
        let mut lanes = [0.0f32; 4];
        // SAFETY: lanes holds one v128.
        unsafe { v128_store(lanes.as_mut_ptr() as *mut v128, row[full]) };
        let rest = dst.len() - 4 * full;
        dst[4 * full..].copy_from_slice(&lanes[..rest]);
    }
}

/// `dweight` (F×C×KH×KW) += the weight gradient of one image: its input
/// (C×H×W) correlated with its output gradient `grad` (F×OH×OW).
/// `grad_rows` is scratch. The geometry must be [`supported`].
pub fn weight_grad<const RELAXED: bool>(
    g: &ConvGeometry,
    filters: usize,
    image: &[f32],
    grad: &[f32],
    dweight: &mut [f32],
    padded: &mut Padded,
    grad_rows: &mut Vec<f32>,
) {
    assert!(supported(g), "direct convolution: unsupported geometry {g:?}");
    assert_eq!(grad.len(), filters * g.patches());
    assert_eq!(dweight.len(), filters * g.patch_len());
    padded.fill(g, image);
    // The gradient's rows, zero-padded to whole vectors so no lane reads the next row.
    let (oh, ow) = (g.out_height(), g.out_width());
    let stride = 4 * ow.div_ceil(4);
    grad_rows.clear();
    grad_rows.resize(filters * oh * stride, 0.0);
    for (dst, src) in grad_rows.chunks_exact_mut(stride).zip(grad.chunks_exact(ow)) {
        dst[..ow].copy_from_slice(src);
    }
    // One instance per (row vectors, kernel width), so the accumulators stay in registers.
    macro_rules! by_kernel_width {
        ($nv:literal) => {
            match g.kernel_w {
                3 => weight_grad_rows::<RELAXED, $nv, 3>(g, filters, grad_rows, dweight, padded),
                5 => weight_grad_rows::<RELAXED, $nv, 5>(g, filters, grad_rows, dweight, padded),
                7 => weight_grad_rows::<RELAXED, $nv, 7>(g, filters, grad_rows, dweight, padded),
                _ => unreachable!("checked by supported()"),
            }
        };
    }
    match ow.div_ceil(4) {
        5 => by_kernel_width!(5),
        6 => by_kernel_width!(6),
        7 => by_kernel_width!(7),
        8 => by_kernel_width!(8),
        _ => unreachable!("checked by supported()"),
    }
}

// As in `forward_rows`: `acc[i][kx]` for every filter `i` at once, and `kx` in the load offset.
#[allow(clippy::needless_range_loop)]
fn weight_grad_rows<const RELAXED: bool, const NV: usize, const KW: usize>(
    g: &ConvGeometry,
    filters: usize,
    grad_rows: &[f32],
    dweight: &mut [f32],
    padded: &Padded,
) {
    let (oh, kh, kw) = (g.out_height(), g.kernel_h, KW);
    let stride = 4 * NV;
    // Two filters at a time: each shifted input vector, loaded once, feeds
    // both filters' accumulators (2·KW of them), so the loop does 7 loads per
    // 10 multiply-adds at KW = 5 instead of 6 per 5. A ragged last pair
    // repeats its filter and stores nothing for the copy.
    const FB: usize = 2;
    for f0 in (0..filters).step_by(FB) {
        let fb = FB.min(filters - f0);
        let fs: [usize; FB] = core::array::from_fn(|i| f0 + i.min(fb - 1));
        for c in 0..g.channels {
            for ky in 0..kh {
                let mut acc = [[f32x4_splat(0.0); KW]; FB];
                for y in 0..oh {
                    let row = padded.row(c, y + ky);
                    let gy: [&[f32]; FB] = core::array::from_fn(|i| &grad_rows[(fs[i] * oh + y) * stride..(fs[i] * oh + y + 1) * stride]);
                    for v in 0..NV {
                        // SAFETY: each gy holds 4·NV floats.
                        let gv: [v128; FB] = core::array::from_fn(|i| unsafe { v128_load(gy[i].as_ptr().add(4 * v) as *const v128) });
                        for kx in 0..KW {
                            // SAFETY: column kx + 4v + 3 < padded width (see Padded::fill).
                            let x = unsafe { v128_load(row.add(kx + 4 * v) as *const v128) };
                            for i in 0..FB {
                                acc[i][kx] = madd::<RELAXED>(gv[i], x, acc[i][kx]);
                            }
                        }
                    }
                }
                for (i, &f) in fs.iter().enumerate().take(fb) {
                    let at = ((f * g.channels + c) * kh + ky) * kw;
                    for (kx, a) in acc[i].iter().enumerate() {
                        let sum = f32x4_extract_lane::<0>(*a) + f32x4_extract_lane::<1>(*a) + f32x4_extract_lane::<2>(*a) + f32x4_extract_lane::<3>(*a);
                        dweight[at + kx] += sum;
                    }
                }
            }
        }
    }
}
