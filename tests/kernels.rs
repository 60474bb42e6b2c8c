//! Every kernel implementation of this build against the scalar reference
//! (natively only the reference exists; `tests/web.rs` runs the same suite on
//! the wasm SIMD builds).

use finetune_lab::kernels::{available, conformance};

#[test]
fn reference_matches_float64_sums() {
    conformance::check_reference().unwrap();
}

#[test]
fn every_implementation_matches_the_reference() {
    for &implementation in available() {
        conformance::check_gemm(implementation).unwrap();
        conformance::check_conv_plan(implementation).unwrap();
        conformance::check_max_pool(implementation).unwrap();
    }
}

#[test]
fn im2col_matches_its_definition_and_col2im_is_its_adjoint() {
    conformance::check_im2col().unwrap();
}
