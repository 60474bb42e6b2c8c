//! WebAssembly SIMD (simd128) matrix multiply, with an optional relaxed-SIMD
//! fused multiply-add.
//!
//! One packed, register-blocked kernel serves all four forms (A and B each
//! stored as is or transposed): the transposes are absorbed while packing.
//! - B is packed block by block (`KC` rows × `NC` columns, sized for L2) into
//!   panels of `NR = 8` columns (`panel[q·NR + c] = B(p0 + q, j0 + c)`),
//!   zero-padded on the right edge. B is packed rather than read in place
//!   because its rows, 25,600 or 200,704 bytes apart, alias to a handful of
//!   L1 sets: read in place, the kernel runs at a third of the speed.
//! - A is read in place, `MR` rows at a time, through row and column strides
//!   (so a stored transpose costs nothing); only a ragged last row panel is
//!   packed (`panel[p·MR + r] = A(i0 + r, p)`) to pad it with zeros.
//! - The microkernel keeps an `MR × 8` tile of C in `2·MR` v128 accumulators,
//!   broadcasting one A value per row with `v128_load32_splat`.
//!
//! Why `MR = 4` (8 accumulators): V8 allocates 15 of x86-64's 16 vector
//! registers to wasm code. A 4 × 8 tile needs 8 accumulators, 2 B vectors and
//! at most 4 broadcasts, so the loop runs without spills; 8 × 8 (16
//! accumulators) and 6 × 8 (12) make V8 spill accumulators to the stack on
//! every step, and the loop is then bound by those stores and reloads instead
//! of by arithmetic — which also hides the fused multiply-add's advantage. Measured
//! side by side in Chromium (GEMM 256³, GFLOP/s): 8 × 8 simd128 13.0,
//! relaxed 15.3; 4 × 8 simd128 17.9, relaxed 32.7 (x86-64 disassembly read
//! with Node's `--print-wasm-code`).
//!
//! Why the relaxed variant is written out: LLVM never fuses `f32x4_mul` +
//! `f32x4_add` into `f32x4_relaxed_madd` on its own, because the relaxed
//! instruction may round differently. So the relaxed build calls it
//! explicitly, and its results may differ in the last bits from simd128 (and
//! between machines whose engines do or do not fuse).

use core::arch::wasm32::*;
use std::cell::RefCell;

use super::{col2im, direct, pool, sparse, Implementation, Kernels, SparseScratch};

/// The simd128 table (`RELAXED`: with relaxed-SIMD fused multiply-add): the
/// reference table with every kernel this build speeds up plugged over it.
/// im2col stays the reference's: its copies are whole rows LLVM vectorises.
pub(super) const fn plug<const RELAXED: bool>(generic: Kernels) -> Kernels {
    Kernels {
        implementation: if RELAXED { Implementation::Relaxed } else { Implementation::Simd128 },
        gemm_nn: gemm_nn::<RELAXED>,
        gemm_nt: gemm_nt::<RELAXED>,
        gemm_tn: gemm_tn::<RELAXED>,
        gemm_tt: gemm_tt::<RELAXED>,
        gemm_gathered: gemm_gathered::<RELAXED>,
        max_pool_2x2: pool::max_pool_2x2,
        max_pool_2x2_backward: pool::max_pool_2x2_backward,
        col2im: col2im::col2im,
        // The packed GEMM reads a gathered A as fast as a stored one, so no column matrix is built.
        conv_gathers: true,
        direct_supported: direct::supported,
        direct_forward: direct::forward_with_scratch::<RELAXED>,
        direct_weight_grad: direct::weight_grad_with_scratch::<RELAXED>,
        sparse_supported: sparse::supported,
        sparse_backward: sparse_backward::<RELAXED>,
        ..generic
    }
}

/// [`sparse::backward`] with the plan's scratch: the table's `sparse_backward` entry.
#[allow(clippy::too_many_arguments)]
fn sparse_backward<const RELAXED: bool>(
    g: &super::ConvGeometry,
    filters: usize,
    x: &[f32],
    pixel_offsets: &[u32],
    weight: &[f32],
    grad_out: &[f32],
    param_grads: Option<(&mut [f32], &mut [f32])>,
    input_grad: Option<&mut [f32]>,
    scratch: &mut SparseScratch,
) -> bool {
    sparse::backward::<RELAXED>(g, filters, x, pixel_offsets, weight, grad_out, param_grads, input_grad, &mut scratch.lists)
}

const NR: usize = 8;
const MR: usize = 4;

/// How to read element `(row, col)` of an operand.
#[derive(Clone, Copy)]
enum View<'t> {
    /// The operand itself, row-major: element (r, c) at `r·ld + c`.
    Normal { ld: usize },
    /// Its transpose is stored: element (r, c) at `c·ld + r`.
    Transposed { ld: usize },
    /// An implicit matrix: element (r, c) at `rows[r] + cols[c]` (a
    /// convolution's patch matrix read straight from the images).
    Gathered { rows: &'t [u32], cols: &'t [u32] },
}

impl View<'_> {
    #[inline(always)]
    fn at(self, r: usize, c: usize) -> usize {
        match self {
            View::Normal { ld } => r * ld + c,
            View::Transposed { ld } => c * ld + r,
            View::Gathered { rows, cols } => rows[r] as usize + cols[c] as usize,
        }
    }
}

thread_local! {
    static PACKED_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static PACKED_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

pub fn gemm_nn<const RELAXED: bool>(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    gemm::<RELAXED>(m, n, k, a, View::Normal { ld: k }, b, View::Normal { ld: n }, c, accumulate)
}

pub fn gemm_nt<const RELAXED: bool>(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    gemm::<RELAXED>(m, n, k, a, View::Normal { ld: k }, b, View::Transposed { ld: k }, c, accumulate)
}

pub fn gemm_tt<const RELAXED: bool>(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    gemm::<RELAXED>(m, n, k, a, View::Transposed { ld: m }, b, View::Transposed { ld: k }, c, accumulate)
}

pub fn gemm_tn<const RELAXED: bool>(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    gemm::<RELAXED>(m, n, k, a, View::Transposed { ld: m }, b, View::Normal { ld: n }, c, accumulate)
}

/// `C (+)= A·B` with `A(i, p) = a[rows[i] + cols[p]]`; B is k×n, or stored
/// as its transpose. The caller has checked every such index is inside `a`.
#[allow(clippy::too_many_arguments)]
pub fn gemm_gathered<const RELAXED: bool>(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    rows: &[u32],
    cols: &[u32],
    b: &[f32],
    b_transposed: bool,
    c: &mut [f32],
    accumulate: bool,
) {
    let bv = if b_transposed { View::Transposed { ld: k } } else { View::Normal { ld: n } };
    gemm::<RELAXED>(m, n, k, a, View::Gathered { rows, cols }, b, bv, c, accumulate)
}

#[allow(clippy::too_many_arguments)]
fn gemm<const RELAXED: bool>(m: usize, n: usize, k: usize, a: &[f32], av: View, b: &[f32], bv: View, c: &mut [f32], accumulate: bool) {
    if !accumulate {
        c.fill(0.0);
    }
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    PACKED_B.with_borrow_mut(|pb| {
        PACKED_A.with_borrow_mut(|pa| {
            pb.resize(KC * NC, 0.0);
            pa.resize(KC * MR, 0.0);
            for j0 in (0..n).step_by(NC) {
                let block_cols = NC.min(n - j0);
                let panels = block_cols.div_ceil(NR);
                for p0 in (0..k).step_by(KC) {
                    let kc = KC.min(k - p0);
                    for panel in 0..panels {
                        pack_b_panel(b, bv, p0, kc, n, j0 + panel * NR, &mut pb[panel * kc * NR..(panel + 1) * kc * NR]);
                    }
                    for i0 in (0..m).step_by(MR) {
                        let rows = MR.min(m - i0);
                        // A full row panel is read where it lies: packing it would
                        // cost as much as the product when k is small (LeNet's
                        // convolutions have k = 25 and 150). Only the ragged last
                        // panel is packed, to pad it with zero rows.
                        // The A panel: where it lies (a full panel of a stored matrix,
                        // or the images behind a gathered one), else the packed copy.
                        let panel_a = match av {
                            View::Normal { ld } if rows == MR => PanelA::Strided { origin: i0 * ld + p0, rs: ld, cs: 1 },
                            View::Transposed { ld } if rows == MR => PanelA::Strided { origin: p0 * ld + i0, rs: 1, cs: ld },
                            View::Gathered { rows: row_at, cols: col_at } if rows == MR => {
                                PanelA::Gathered { rows: core::array::from_fn(|r| row_at[i0 + r] as usize), cols: &col_at[p0..p0 + kc] }
                            }
                            _ => {
                                pack_a(a, av, i0, rows, p0, kc, &mut pa[..kc * MR]);
                                PanelA::Packed
                            }
                        };
                        for panel in 0..panels {
                            let jp = j0 + panel * NR;
                            let cols = NR.min(n - jp);
                            // SAFETY: this B panel holds kc·NR floats; the A elements read are inside
                            // `a` (checked by the caller for gathered views) or the packed copy.
                            let b_panel = unsafe { pb.as_ptr().add(panel * kc * NR) };
                            let acc = unsafe {
                                match panel_a {
                                    PanelA::Strided { origin, rs, cs } => {
                                        microkernel::<RELAXED>(kc, a.as_ptr().add(origin), core::array::from_fn(|r| r * rs), |p| p * cs, b_panel)
                                    }
                                    PanelA::Gathered { rows, cols } => {
                                        microkernel::<RELAXED>(kc, a.as_ptr(), rows, |p| *cols.get_unchecked(p) as usize, b_panel)
                                    }
                                    PanelA::Packed => microkernel::<RELAXED>(kc, pa.as_ptr(), core::array::from_fn(|r| r), |p| p * MR, b_panel),
                                }
                            };
                            add_tile(&acc, c, n, i0, jp, rows, cols);
                        }
                    }
                }
            }
        });
    });
}

/// Depth of a packed block: the products over k are summed block by block.
const KC: usize = 128;
/// Columns of a packed block of B: KC·NC floats (128 KB) stay in L2 while
/// every row panel of A passes over them, so B is packed once and read from
/// cache, never streamed from memory twice (GotoBLAS-style blocking).
const NC: usize = 256;

/// Where the microkernel reads an `MR`-row panel of A.
#[derive(Clone, Copy)]
enum PanelA<'t> {
    /// Element (r, p) at `a[origin + r·rs + p·cs]`.
    Strided { origin: usize, rs: usize, cs: usize },
    /// Element (r, p) at `a[rows[r] + cols[p]]`.
    Gathered { rows: [usize; MR], cols: &'t [u32] },
    /// The packed copy: element (r, p) at `packed[p·MR + r]`.
    Packed,
}

/// `out[q·MR + r] = A(i0 + r, p0 + q)` for q < kc, zero for rows past the edge.
fn pack_a(a: &[f32], view: View, i0: usize, rows: usize, p0: usize, kc: usize, out: &mut [f32]) {
    if rows < MR {
        out.fill(0.0);
    }
    match view {
        View::Transposed { ld } if rows == MR => {
            // Row p of the stored transpose holds A(·, p): contiguous runs, copied at a fixed size.
            for (q, dst) in out.chunks_exact_mut(MR).enumerate().take(kc) {
                let at = (p0 + q) * ld + i0;
                let src: &[f32; MR] = a[at..at + MR].try_into().expect("MR values");
                let dst: &mut [f32; MR] = dst.try_into().expect("MR values");
                *dst = *src;
            }
        }
        View::Transposed { ld } => {
            for (q, dst) in out.chunks_exact_mut(MR).enumerate().take(kc) {
                let p = p0 + q;
                dst[..rows].copy_from_slice(&a[p * ld + i0..p * ld + i0 + rows]);
            }
        }
        View::Normal { .. } | View::Gathered { .. } => {
            for r in 0..rows {
                for q in 0..kc {
                    out[q * MR + r] = a[view.at(i0 + r, p0 + q)];
                }
            }
        }
    }
}

/// NR columns starting at `j0`, rows `p0..p0 + kc`: `out[q·NR + c] = B(p0 + q, j0 + c)`,
/// zero past the right edge.
fn pack_b_panel(b: &[f32], view: View, p0: usize, kc: usize, n: usize, j0: usize, out: &mut [f32]) {
    let cols = NR.min(n - j0);
    if cols < NR {
        out.fill(0.0);
    }
    match view {
        View::Normal { ld } if cols == NR => {
            // Fixed-size copies compile to two v128 moves; a variable-length
            // copy_from_slice would call memcpy for every 8 floats.
            for (q, row) in out.chunks_exact_mut(NR).enumerate().take(kc) {
                let at = (p0 + q) * ld + j0;
                let src: &[f32; NR] = b[at..at + NR].try_into().expect("NR values");
                let dst: &mut [f32; NR] = row.try_into().expect("NR values");
                *dst = *src;
            }
        }
        View::Normal { ld } => {
            for (q, row) in out.chunks_exact_mut(NR).enumerate().take(kc) {
                let p = p0 + q;
                row[..cols].copy_from_slice(&b[p * ld + j0..p * ld + j0 + cols]);
            }
        }
        View::Gathered { .. } => unreachable!("B is always a stored matrix"),
        View::Transposed { ld } if cols == NR => pack_transposed_panel(b, ld, p0, kc, j0, out),
        View::Transposed { ld } => {
            for c in 0..cols {
                let src = &b[(j0 + c) * ld + p0..(j0 + c) * ld + p0 + kc];
                for (q, &v) in src.iter().enumerate() {
                    out[q * NR + c] = v;
                }
            }
        }
    }
}

/// A full panel of a stored transpose: B's column `j0 + c` is the contiguous
/// run at `b[(j0 + c)·ld + p0..]`, so four steps of eight columns are eight
/// v128 loads and two 4 × 4 transposes by shuffles. Written value by value,
/// this packing was a fifth of the conv2 input-gradient product (tt 150 × 400
/// × 16, K only 16, so every B value is packed for 150 rows' worth of use);
/// the same copies, so results are unchanged.
fn pack_transposed_panel(b: &[f32], ld: usize, p0: usize, kc: usize, j0: usize, out: &mut [f32]) {
    let column = |c: usize| (j0 + c) * ld + p0;
    assert!(out.len() >= kc * NR && b.len() >= column(NR - 1) + kc, "pack_transposed_panel: buffers too small");
    let steps = kc / 4;
    for s in 0..steps {
        for half in 0..2 {
            // SAFETY: column(c) + 4s + 4 ≤ column(c) + kc ≤ b.len() for c < NR, and
            // (4s + 3)·NR + 4·half + 4 ≤ kc·NR ≤ out.len() (asserted above).
            unsafe {
                let load = |c: usize| v128_load(b.as_ptr().add(column(4 * half + c) + 4 * s) as *const v128);
                let (r0, r1, r2, r3) = (load(0), load(1), load(2), load(3));
                let (lo01, hi01) = (i32x4_shuffle::<0, 4, 1, 5>(r0, r1), i32x4_shuffle::<2, 6, 3, 7>(r0, r1));
                let (lo23, hi23) = (i32x4_shuffle::<0, 4, 1, 5>(r2, r3), i32x4_shuffle::<2, 6, 3, 7>(r2, r3));
                let rows = [
                    i32x4_shuffle::<0, 1, 4, 5>(lo01, lo23),
                    i32x4_shuffle::<2, 3, 6, 7>(lo01, lo23),
                    i32x4_shuffle::<0, 1, 4, 5>(hi01, hi23),
                    i32x4_shuffle::<2, 3, 6, 7>(hi01, hi23),
                ];
                for (q, row) in rows.into_iter().enumerate() {
                    v128_store(out.as_mut_ptr().add((4 * s + q) * NR + 4 * half) as *mut v128, row);
                }
            }
        }
    }
    for q in 4 * steps..kc {
        for c in 0..NR {
            out[q * NR + c] = b[column(c) + q];
        }
    }
}

#[inline(always)]
pub(super) fn madd<const RELAXED: bool>(a: v128, b: v128, acc: v128) -> v128 {
    #[cfg(target_feature = "relaxed-simd")]
    if RELAXED {
        return f32x4_relaxed_madd(a, b, acc);
    }
    f32x4_add(f32x4_mul(a, b), acc)
}

/// The `MR × NR` product of MR rows of A and a packed B panel over `k`.
/// Element `(r, p)` of the A rows is at `a + rows[r] + col(p)`: strides for a
/// stored matrix, a table lookup for a gathered one (one load per step,
/// shared by the MR rows).
///
/// # Safety
/// Those A elements for r < MR, p < k must be readable, and `b` must point to `k·NR` floats.
#[inline(always)]
unsafe fn microkernel<const RELAXED: bool>(k: usize, a: *const f32, rows: [usize; MR], col: impl Fn(usize) -> usize, b: *const f32) -> [[v128; 2]; MR] {
    let mut acc = [[f32x4_splat(0.0); 2]; MR];
    let rows: [*const f32; MR] = core::array::from_fn(|r| a.add(rows[r]));
    for p in 0..k {
        let b0 = v128_load(b.add(p * NR) as *const v128);
        let b1 = v128_load(b.add(p * NR + 4) as *const v128);
        let offset = col(p);
        for (row, &a_row) in acc.iter_mut().zip(&rows) {
            let x = v128_load32_splat(a_row.add(offset) as *const u32);
            row[0] = madd::<RELAXED>(x, b0, row[0]);
            row[1] = madd::<RELAXED>(x, b1, row[1]);
        }
    }
    acc
}

/// C[i0.., j0..] += the valid `rows × cols` part of the tile.
fn add_tile(acc: &[[v128; 2]; MR], c: &mut [f32], n: usize, i0: usize, j0: usize, rows: usize, cols: usize) {
    for (r, row) in acc.iter().enumerate().take(rows) {
        let dst = &mut c[(i0 + r) * n + j0..(i0 + r) * n + j0 + cols];
        if cols == NR {
            // SAFETY: dst has exactly 8 floats; unaligned v128 loads/stores are allowed in wasm.
            unsafe {
                let p = dst.as_mut_ptr();
                v128_store(p as *mut v128, f32x4_add(v128_load(p as *const v128), row[0]));
                v128_store(p.add(4) as *mut v128, f32x4_add(v128_load(p.add(4) as *const v128), row[1]));
            }
        } else {
            let mut lanes = [0.0f32; NR];
            // SAFETY: lanes has room for two v128.
            unsafe {
                v128_store(lanes.as_mut_ptr() as *mut v128, row[0]);
                v128_store(lanes.as_mut_ptr().add(4) as *mut v128, row[1]);
            }
            for (d, v) in dst.iter_mut().zip(lanes) {
                *d += v;
            }
        }
    }
}
