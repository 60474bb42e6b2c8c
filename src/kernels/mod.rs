//! The hot loops of training: matrix multiplies in the forms a forward
//! and backward pass need (including one that reads a convolution's patches
//! straight from the images), the im2col/col2im reshuffles that turn a
//! convolution into a matrix multiply, direct convolution, and pooling; and
//! the convolution plan ([`conv`]) that chooses among them.
//!
//! Every kernel works on plain row-major `f32` slices so that any
//! implementation can plug in. Each implementation is one table of
//! functions (`Kernels`), built as tract's `linalg` builds its `Ops`:
//! `scalar::generic()` is the reference table, always compiled, and the wasm
//! simd128 table (and its relaxed-SIMD variant, in a build with
//! `+relaxed-simd`) is a copy of it with the faster kernels plugged over
//! some entries (`simd128::plug`). Adding a kernel is one field and its
//! checked wrapper here, one entry in `generic()`, and one line in each plug
//! that speeds it up.
//!
//! The public functions below are the only way in: they check shapes (the
//! SIMD kernels read unchecked, so a shape bug must fail here, not read out
//! of bounds) and then make one indirect call through the active table, one
//! per GEMM or per image, never inside a kernel's loops. The best table of the
//! build is active by default; tests and benchmarks switch between them at
//! run time and check each against the scalar reference ([`conformance`]).
//!
//! Which convolution algorithm runs is a property of the table too:
//! `conv_gathers` and `direct_supported` tell [`ConvPlan`] whether this
//! implementation convolves directly, through a gathered GEMM, or through
//! im2col (see [`conv`] for why each one where it is).

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod col2im;
pub mod conformance;
pub mod conv;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod direct;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod pool;
pub mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod sparse;

use std::sync::atomic::{AtomicU8, Ordering};

use serde::{Deserialize, Serialize};

pub use conv::{ConvAlgorithm, ConvPlan};
pub(crate) use scalar::rectified;
pub use scalar::ConvGeometry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Implementation {
    Scalar,
    Simd128,
    Relaxed,
}

impl Implementation {
    pub fn name(self) -> &'static str {
        match self {
            Implementation::Scalar => "scalar",
            Implementation::Simd128 => "simd128",
            Implementation::Relaxed => "relaxed",
        }
    }
    pub fn from_name(name: &str) -> Option<Self> {
        available().iter().copied().find(|i| i.name() == name)
    }
}

/// `C[m×n] (+)= op(A) · op(B)`, as each GEMM form reads its operands.
type GemmFn = fn(usize, usize, usize, &[f32], &[f32], &mut [f32], bool);
/// [`gemm_gathered`]'s arguments.
type GatheredFn = fn(usize, usize, usize, &[f32], &[u32], &[u32], &[f32], bool, &mut [f32], bool);
/// [`im2col`] and [`col2im`].
type Im2colFn = fn(&ConvGeometry, &[f32], &mut [f32], usize);
type Col2imFn = fn(&ConvGeometry, &[f32], usize, &mut [f32], usize);
/// [`max_pool_2x2`]'s arguments.
type MaxPoolFn = fn(&[f32], &mut [f32], &mut [u32], usize, usize, usize, bool);
/// [`max_pool_2x2_backward`]'s arguments.
type MaxPoolBackwardFn = fn(&[f32], &[u32], &mut [f32], usize, usize, usize);
/// One image's direct convolution: geometry, filters, image, weight, bias, output.
type DirectForwardFn = fn(&ConvGeometry, usize, &[f32], &[f32], &[f32], &mut [f32], &mut DirectScratch);
/// One image's direct weight gradient: geometry, filters, image, output gradient, weight gradient (added to).
type DirectWeightGradFn = fn(&ConvGeometry, usize, &[f32], &[f32], &mut [f32], &mut DirectScratch);
/// A whole batch's convolution backward pass from a mostly-zero output
/// gradient (see `sparse`): geometry, filters, input, pixel offsets, weight,
/// output gradient, weight and bias gradients, input gradient. False when it
/// declined (too many non-zero values, or no such kernel), having changed nothing.
type SparseBackwardFn =
    fn(&ConvGeometry, usize, &[f32], &[u32], &[f32], &[f32], Option<(&mut [f32], &mut [f32])>, Option<&mut [f32]>, &mut SparseScratch) -> bool;

/// One implementation's kernels. The fields are private to `kernels`: code
/// outside calls the checked wrappers below, never an entry directly.
struct Kernels {
    implementation: Implementation,
    gemm_nn: GemmFn,
    gemm_nt: GemmFn,
    gemm_tn: GemmFn,
    gemm_tt: GemmFn,
    gemm_gathered: GatheredFn,
    im2col: Im2colFn,
    col2im: Col2imFn,
    max_pool_2x2: MaxPoolFn,
    max_pool_2x2_backward: MaxPoolBackwardFn,
    /// Whether convolutions the direct kernels do not take multiply straight
    /// from the images (`gemm_gathered`) rather than through im2col.
    conv_gathers: bool,
    /// Whether `direct_forward` and `direct_weight_grad` handle a geometry.
    direct_supported: fn(&ConvGeometry) -> bool,
    direct_forward: DirectForwardFn,
    direct_weight_grad: DirectWeightGradFn,
    /// Whether `sparse_backward` handles this geometry (it is given the padded batch and pixel offsets).
    sparse_supported: fn(&ConvGeometry) -> bool,
    sparse_backward: SparseBackwardFn,
}

/// Every table this build has, slowest first; the last is the best.
const TABLES: &[Kernels] = &[
    scalar::generic(),
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd128::plug::<false>(scalar::generic()),
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128", target_feature = "relaxed-simd"))]
    simd128::plug::<true>(scalar::generic()),
];

/// The implementations of [`TABLES`], in the same order.
static AVAILABLE: [Implementation; TABLES.len()] = {
    let mut names = [Implementation::Scalar; TABLES.len()];
    let mut i = 0;
    while i < TABLES.len() {
        names[i] = TABLES[i].implementation;
        i += 1;
    }
    names
};

/// Index into [`TABLES`] of the active implementation; the best by default.
static ACTIVE: AtomicU8 = AtomicU8::new(TABLES.len() as u8 - 1);

/// The active table: the one place the implementation is picked.
#[inline]
fn table() -> &'static Kernels {
    &TABLES[ACTIVE.load(Ordering::Relaxed) as usize]
}

/// The implementations compiled into this build, slowest first.
pub fn available() -> &'static [Implementation] {
    &AVAILABLE
}

/// The fastest implementation of this build: what the page runs.
pub fn best() -> Implementation {
    *available().last().expect("scalar is always available")
}

pub fn active() -> Implementation {
    table().implementation
}

/// Switches every kernel to `implementation` (for tests and benchmarks).
/// Returns false, changing nothing, if this build does not have it.
pub fn set_active(implementation: Implementation) -> bool {
    let Some(index) = available().iter().position(|&i| i == implementation) else {
        return false;
    };
    ACTIVE.store(index as u8, Ordering::Relaxed);
    true
}

/// Name of the build's best kernel implementation, shown by the page.
pub fn build_name() -> &'static str {
    best().name()
}

/// `C[m×n] (+)= A[m×k] · B[k×n]`; `accumulate = false` overwrites C.
#[inline]
pub fn gemm_nn(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    check_gemm(m, n, k, a.len(), b.len(), c.len());
    (table().gemm_nn)(m, n, k, a, b, c, accumulate)
}

/// `C[m×n] (+)= A[m×k] · B[n×k]ᵀ`.
#[inline]
pub fn gemm_nt(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    check_gemm(m, n, k, a.len(), b.len(), c.len());
    (table().gemm_nt)(m, n, k, a, b, c, accumulate)
}

/// `C[m×n] (+)= A[k×m]ᵀ · B[n×k]ᵀ`.
#[inline]
pub fn gemm_tt(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    check_gemm(m, n, k, a.len(), b.len(), c.len());
    (table().gemm_tt)(m, n, k, a, b, c, accumulate)
}

/// `C[m×n] (+)= A[k×m]ᵀ · B[k×n]`.
#[inline]
pub fn gemm_tn(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    check_gemm(m, n, k, a.len(), b.len(), c.len());
    (table().gemm_tn)(m, n, k, a, b, c, accumulate)
}

/// `C[m×n] (+)= A · B` where A is implicit: `A(i, p) = a[rows[i] + cols[p]]`
/// (a convolution's patch matrix, read from the images with no im2col copy).
/// B is `k×n`, or its transpose `n×k` is stored (`b_transposed`).
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn gemm_gathered(m: usize, n: usize, k: usize, a: &[f32], rows: &[u32], cols: &[u32], b: &[f32], b_transposed: bool, c: &mut [f32], accumulate: bool) {
    assert_eq!(rows.len(), m, "gemm_gathered: {} row offsets for {m} rows", rows.len());
    assert_eq!(cols.len(), k, "gemm_gathered: {} column offsets for depth {k}", cols.len());
    assert_eq!(b.len(), k * n, "gemm: B has {} values, expected {k}×{n}", b.len());
    assert_eq!(c.len(), m * n, "gemm: C has {} values, expected {m}×{n}", c.len());
    if m > 0 && k > 0 {
        // The SIMD kernel reads A unchecked: every rows[i] + cols[p] must be inside `a`.
        let reach = *rows.iter().max().expect("m > 0") as usize + *cols.iter().max().expect("k > 0") as usize;
        assert!(reach < a.len(), "gemm_gathered: offsets reach {reach}, A has {} values", a.len());
    }
    (table().gemm_gathered)(m, n, k, a, rows, cols, b, b_transposed, c, accumulate)
}

/// 2×2 max pooling, stride 2, of one image `(C, H, W)`: maxima into `out`
/// `(C, ⌊H/2⌋, ⌊W/2⌋)`, their flat indices in the image into `arg` (first maximum wins).
/// With `rectify`, the pooling of the image's ReLU instead (each value `v`
/// read as `v > 0 ? v : 0`, NaN → 0, exactly as the ReLU layer computes it),
/// and a window whose maximum is 0 is flagged [`DEAD_WINDOW`]: the ReLU's
/// derivative is 0 wherever its output is.
#[inline]
pub fn max_pool_2x2(image: &[f32], out: &mut [f32], arg: &mut [u32], channels: usize, h: usize, w: usize, rectify: bool) {
    let outputs = channels * (h / 2) * (w / 2);
    assert_eq!(image.len(), channels * h * w, "max_pool_2x2: image length");
    assert!(image.len() < DEAD_WINDOW as usize, "max_pool_2x2: an image too large to index beside the flag");
    assert_eq!((out.len(), arg.len()), (outputs, outputs), "max_pool_2x2: output lengths");
    (table().max_pool_2x2)(image, out, arg, channels, h, w, rectify)
}

/// The input gradient `dx` (one image, `(C, H, W)`, every value written) of
/// [`max_pool_2x2`] from its output gradient `dy` and the `arg` it wrote:
/// each window's gradient at its winner (as `0.0 + g`), zero elsewhere and
/// in dead windows.
#[inline]
pub fn max_pool_2x2_backward(dy: &[f32], arg: &[u32], dx: &mut [f32], channels: usize, h: usize, w: usize) {
    let outputs = channels * (h / 2) * (w / 2);
    assert_eq!((dy.len(), arg.len()), (outputs, outputs), "max_pool_2x2_backward: output gradient lengths");
    assert_eq!(dx.len(), channels * h * w, "max_pool_2x2_backward: input gradient length");
    (table().max_pool_2x2_backward)(dy, arg, dx, channels, h, w)
}

/// Set in the `arg` of a rectified pooling window whose maximum is 0 (the
/// other bits still index the window's first value): no gradient flows back
/// through it. A flag rather than a lone sentinel lets the backward pass add
/// a zero there instead of branching on a coin flip per window.
pub const DEAD_WINDOW: u32 = 1 << 31;

/// One image `(C, H, W)` → columns `(C·kh·kw, OH·OW)`, row `r` starting at
/// `cols[r·ld]` (`ld ≥ OH·OW`; a batch lays its images side by side).
#[inline]
pub fn im2col(g: &ConvGeometry, image: &[f32], cols: &mut [f32], ld: usize) {
    assert_eq!(image.len(), g.input_len(), "im2col: image length");
    check_cols(g, cols.len(), ld);
    (table().im2col)(g, image, cols, ld)
}

/// Columns `cols[start..]` → one image `(C, H, W)`, summing overlaps; the
/// image is overwritten. SIMD builds are faster when `cols` has
/// [`COL2IM_MARGIN`] readable floats on either side of the columns (they
/// read, never use, them); without it they take the reference's way.
#[inline]
pub fn col2im(g: &ConvGeometry, cols: &[f32], start: usize, image: &mut [f32], ld: usize) {
    assert_eq!(image.len(), g.input_len(), "col2im: image length");
    assert!(start <= cols.len(), "col2im: columns start at {start}, past their {} values", cols.len());
    check_cols(g, cols.len() - start, ld);
    (table().col2im)(g, cols, start, image, ld)
}

/// Floats a column matrix should have around it for SIMD builds' [`col2im`].
pub const COL2IM_MARGIN: usize = 48;

/// Scratch of the direct convolution kernels, kept by each convolution plan
/// between calls (empty in builds without them).
#[derive(Default)]
struct DirectScratch {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    padded: direct::Padded,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    grad_rows: Vec<f32>,
}

/// Scratch of the sparse backward kernel, kept by each convolution plan
/// between calls (empty in builds without it).
#[derive(Default)]
struct SparseScratch {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    lists: sparse::SparseScratch,
}

fn check_cols(g: &ConvGeometry, len: usize, ld: usize) {
    let (rows, width) = (g.patch_len(), g.patches());
    assert!(ld >= width, "im2col: row stride {ld} below row length {width}");
    let needed = if rows == 0 { 0 } else { (rows - 1) * ld + width };
    assert!(len >= needed, "im2col: columns hold {len} values, need {needed}");
}

fn check_gemm(m: usize, n: usize, k: usize, a: usize, b: usize, c: usize) {
    // Shape bugs must fail loudly here, not read out of bounds in a faster kernel later.
    assert_eq!(a, m * k, "gemm: A has {a} values, expected {m}×{k}");
    assert_eq!(b, k * n, "gemm: B has {b} values, expected {k}×{n}");
    assert_eq!(c, m * n, "gemm: C has {c} values, expected {m}×{n}");
}
