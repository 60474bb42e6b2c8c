//! The hot loops of training: matrix multiplies in the three forms a forward
//! and backward pass need, and the im2col/col2im reshuffles that turn a
//! convolution into a matrix multiply.
//!
//! Every kernel works on plain row-major `f32` slices so that any
//! implementation can plug in. `scalar` is the reference implementation and
//! the only one for now; faster builds (wasm simd128, relaxed SIMD) go beside
//! it and must agree with it on every shape, including empty and ragged ones.

pub mod scalar;

pub use scalar::ConvGeometry;

/// Name of the kernel implementation compiled into this build, shown by the page.
pub fn build_name() -> &'static str {
    "scalar"
}

/// `C[m×n] (+)= A[m×k] · B[k×n]`; `accumulate = false` overwrites C.
#[inline]
pub fn gemm_nn(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    check_gemm(m, n, k, a.len(), b.len(), c.len());
    scalar::gemm_nn(m, n, k, a, b, c, accumulate)
}

/// `C[m×n] (+)= A[m×k] · B[n×k]ᵀ`.
#[inline]
pub fn gemm_nt(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    check_gemm(m, n, k, a.len(), b.len(), c.len());
    scalar::gemm_nt(m, n, k, a, b, c, accumulate)
}

/// `C[m×n] (+)= A[k×m]ᵀ · B[k×n]`.
#[inline]
pub fn gemm_tn(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    check_gemm(m, n, k, a.len(), b.len(), c.len());
    scalar::gemm_tn(m, n, k, a, b, c, accumulate)
}

/// One image `(C, H, W)` → columns `(C·kh·kw, OH·OW)`.
#[inline]
pub fn im2col(g: &ConvGeometry, image: &[f32], cols: &mut [f32]) {
    assert_eq!(image.len(), g.input_len(), "im2col: image length");
    assert_eq!(cols.len(), g.cols_len(), "im2col: columns length");
    scalar::im2col(g, image, cols)
}

/// Columns `(C·kh·kw, OH·OW)` → one image `(C, H, W)`, summing overlaps.
/// The image is overwritten.
#[inline]
pub fn col2im(g: &ConvGeometry, cols: &[f32], image: &mut [f32]) {
    assert_eq!(image.len(), g.input_len(), "col2im: image length");
    assert_eq!(cols.len(), g.cols_len(), "col2im: columns length");
    scalar::col2im(g, cols, image)
}

fn check_gemm(m: usize, n: usize, k: usize, a: usize, b: usize, c: usize) {
    // Shape bugs must fail loudly here, not read out of bounds in a faster kernel later.
    assert_eq!(a, m * k, "gemm: A has {a} values, expected {m}×{k}");
    assert_eq!(b, k * n, "gemm: B has {b} values, expected {k}×{n}");
    assert_eq!(c, m * n, "gemm: C has {c} values, expected {m}×{n}");
}
