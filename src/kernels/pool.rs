//! 2×2, stride-2 max pooling with wasm SIMD: four windows per step.
//!
//! Eight floats of each of the two input rows hold four windows; shuffles
//! split them into the windows' four corners, and the maximum and its index
//! are kept with compare-and-select in the scalar loop's order (top-left,
//! top-right, bottom-left, bottom-right; a later corner wins only if
//! strictly greater), so results and tie-breaking are bit-identical to the
//! reference; rectifying (a ReLU handed to the pool) is one compare and
//! select per corner. LeNet-5's first pooling layer, batch 64, relaxed build:
//! 0.84 ms scalar → 0.35 ms (a branch-free scalar loop is no faster than the
//! reference: the gain needs the four windows per step).

use core::arch::wasm32::*;

use super::scalar::max_pool_2x2_row;
use super::DEAD_WINDOW;

/// As [`super::scalar::max_pool_2x2`].
pub fn max_pool_2x2(image: &[f32], out: &mut [f32], arg: &mut [u32], channels: usize, h: usize, w: usize, rectify: bool) {
    // One loop per case: a flag tested inside made the pool 50 % slower.
    if rectify {
        pool_2x2::<true>(image, out, arg, channels, h, w)
    } else {
        pool_2x2::<false>(image, out, arg, channels, h, w)
    }
}

fn pool_2x2<const RECTIFY: bool>(image: &[f32], out: &mut [f32], arg: &mut [u32], channels: usize, h: usize, w: usize) {
    let (oh, ow) = (h / 2, w / 2);
    assert!(image.len() >= channels * h * w && out.len() >= channels * oh * ow && arg.len() >= channels * oh * ow, "max_pool_2x2: buffers too small");
    let full = ow / 4; // windows handled four at a time per row
    let zero = f32x4_splat(0.0);
    for c in 0..channels {
        for oy in 0..oh {
            let top = c * h * w + 2 * oy * w;
            let o = (c * oh + oy) * ow;
            for j in 0..full {
                let x = top + 8 * j;
                // SAFETY: x + 8 ≤ top + 2·ow ≤ top + w, and the lower row ends w further,
                // inside the image (asserted above); out/arg hold o + 4j + 4 ≤ o + ow.
                unsafe {
                    let (u0, u1) = (v128_load(image.as_ptr().add(x) as *const v128), v128_load(image.as_ptr().add(x + 4) as *const v128));
                    let (l0, l1) = (v128_load(image.as_ptr().add(x + w) as *const v128), v128_load(image.as_ptr().add(x + w + 4) as *const v128));
                    let read = |v: v128| if RECTIFY { v128_bitselect(v, zero, f32x4_gt(v, zero)) } else { v };
                    let top_left = read(i32x4_shuffle::<0, 2, 4, 6>(u0, u1));
                    let top_right = read(i32x4_shuffle::<1, 3, 5, 7>(u0, u1));
                    let bottom_left = read(i32x4_shuffle::<0, 2, 4, 6>(l0, l1));
                    let bottom_right = read(i32x4_shuffle::<1, 3, 5, 7>(l0, l1));
                    let at = i32x4_add(i32x4_splat(x as i32), i32x4(0, 2, 4, 6));
                    let (mut best, mut best_at) = (top_left, at);
                    for (value, offset) in [(top_right, 1), (bottom_left, w as i32), (bottom_right, w as i32 + 1)] {
                        let wins = f32x4_gt(value, best);
                        best = v128_bitselect(value, best, wins);
                        best_at = v128_bitselect(i32x4_add(at, i32x4_splat(offset)), best_at, wins);
                    }
                    if RECTIFY {
                        // A window of zeros keeps its first value's index (it won the tie), flagged dead.
                        best_at = v128_or(best_at, v128_andnot(i32x4_splat(DEAD_WINDOW as i32), f32x4_gt(best, zero)));
                    }
                    v128_store(out.as_mut_ptr().add(o + 4 * j) as *mut v128, best);
                    v128_store(arg.as_mut_ptr().add(o + 4 * j) as *mut v128, best_at);
                }
            }
            max_pool_2x2_row::<RECTIFY>(image, top, w, &mut out[o..o + ow], &mut arg[o..o + ow], 4 * full);
        }
    }
}
