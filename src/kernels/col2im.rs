//! col2im with wasm SIMD for stride-1 convolutions: each input row summed
//! in registers from every (kernel row, kernel column) that reaches it, and
//! stored once.
//!
//! The reference adds each column-matrix row segment into the image in turn,
//! so consecutive kernel columns add overlapping, shifted vectors into the
//! same few floats, and each load waits for a store it only partly overlaps
//! (no store-to-load forwarding): LeNet-5's second convolution spent 1.3 ms
//! of a 7.7 ms step there (batch 64, relaxed build). Here an input row of at
//! most `4·MAX_VECTORS` columns lives in `NV` accumulators; for each of its
//! `kh·kw` contributions one shifted load per vector is masked to the
//! columns that contribution covers, so no lane adds a neighbouring row's
//! values. The shifted loads reach up to `kw − 1 + padding` floats before a
//! segment and `4·NV` after it, which is why the caller leaves that margin
//! around the column matrix ([`MARGIN`]); without it this falls back to the
//! reference.

use core::arch::wasm32::*;

use super::ConvGeometry;

/// Input rows of at most this many v128 (32 columns) are summed in registers.
const MAX_VECTORS: usize = 8;
/// Kernel columns the mask table holds.
const MAX_KERNEL_W: usize = 8;

/// Floats of readable memory [`col2im`] needs before and after the column
/// matrix so that its shifted loads stay inside the buffer.
const MARGIN: usize = super::COL2IM_MARGIN;
const _: () = assert!(MARGIN >= 4 * MAX_VECTORS + MAX_KERNEL_W, "room for the shifted loads");

/// As [`super::scalar::col2im`], on `cols[start..]`; reads (never uses) up to
/// [`MARGIN`] floats of `cols` on either side of that.
pub fn col2im(g: &ConvGeometry, cols: &[f32], start: usize, image: &mut [f32], ld: usize) {
    let vectors = g.width.div_ceil(4);
    let (k, last) = (g.patch_len(), (g.patch_len().max(1) - 1) * ld + g.patches());
    // padding < kw keeps a tap's reach past its segment (padding + 4·NV) inside the margin.
    let fits = g.stride == 1 && (1..=MAX_VECTORS).contains(&vectors) && g.kernel_w <= MAX_KERNEL_W && g.padding < g.kernel_w;
    if !fits || k == 0 || start < MARGIN || start + last + MARGIN > cols.len() {
        return super::scalar::col2im(g, &cols[start..], image, ld);
    }
    match vectors {
        1 => rows::<1>(g, cols, start, image, ld),
        2 => rows::<2>(g, cols, start, image, ld),
        3 => rows::<3>(g, cols, start, image, ld),
        4 => rows::<4>(g, cols, start, image, ld),
        5 => rows::<5>(g, cols, start, image, ld),
        6 => rows::<6>(g, cols, start, image, ld),
        7 => rows::<7>(g, cols, start, image, ld),
        8 => rows::<8>(g, cols, start, image, ld),
        _ => unreachable!("checked above"),
    }
}

// `acc[v]` and `mask[kx][v]` go together, with `v` in the load offset too.
#[allow(clippy::needless_range_loop)]
fn rows<const NV: usize>(g: &ConvGeometry, cols: &[f32], start: usize, image: &mut [f32], ld: usize) {
    let (oh, ow, kh, kw, pad) = (g.out_height(), g.out_width(), g.kernel_h, g.kernel_w, g.padding);
    // Lane x of vector v takes column ox = x + pad − kx of a segment: only 0 ≤ ox < ow counts.
    let mut mask = [[i32x4_splat(0); NV]; MAX_KERNEL_W];
    for (kx, row) in mask.iter_mut().enumerate().take(kw) {
        for (v, m) in row.iter_mut().enumerate() {
            let lane = |l: usize| {
                let ox = (4 * v + l + pad) as isize - kx as isize;
                if 4 * v + l < g.width && ox >= 0 && (ox as usize) < ow {
                    -1
                } else {
                    0
                }
            };
            *m = i32x4(lane(0), lane(1), lane(2), lane(3));
        }
    }
    let base = cols.as_ptr();
    for c in 0..g.channels {
        for y in 0..g.height {
            let mut acc = [f32x4_splat(0.0); NV];
            for ky in 0..kh {
                // Output row oy reaches input row y through kernel row ky when y = oy + ky − pad.
                let Some(oy) = (y + pad).checked_sub(ky).filter(|&oy| oy < oh) else { continue };
                for kx in 0..kw {
                    let r = (c * kh + ky) * kw + kx;
                    // Segment column ox = x + pad − kx, so lane x reads from `at + x`.
                    let at = start + r * ld + oy * ow + pad - kx;
                    for v in 0..NV {
                        // SAFETY: at ≥ start − (kw − 1) ≥ start − MARGIN and
                        // at + 4·NV ≤ start + last + 4·NV + pad < start + last + MARGIN,
                        // both inside `cols` (checked by `col2im`).
                        let x = unsafe { v128_load(base.add(at + 4 * v) as *const v128) };
                        acc[v] = f32x4_add(acc[v], v128_and(x, mask[kx][v]));
                    }
                }
            }
            let row = &mut image[(c * g.height + y) * g.width..(c * g.height + y + 1) * g.width];
            let full = g.width / 4;
            for v in 0..full {
                // SAFETY: lanes 4v..4v+4 are inside the row for v < full.
                unsafe { v128_store(row.as_mut_ptr().add(4 * v) as *mut v128, acc[v]) };
            }
            if full < NV {
                let mut lanes = [0.0f32; 4];
                // SAFETY: lanes holds one v128.
                unsafe { v128_store(lanes.as_mut_ptr() as *mut v128, acc[full]) };
                row[4 * full..].copy_from_slice(&lanes[..g.width - 4 * full]);
            }
        }
    }
}
