//! The kernels against a naive triple loop on random shapes, including empty,
//! 1×1 and sizes that are not multiples of any vector width.

use finetune_lab::kernels::{self, ConvGeometry};
use rand::{Rng, SeedableRng};

fn random(len: usize, rng: &mut rand_pcg::Pcg64) -> Vec<f32> {
    (0..len).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

fn naive(m: usize, n: usize, k: usize, a: impl Fn(usize, usize) -> f32, b: impl Fn(usize, usize) -> f32) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a(i, p) as f64 * b(p, j) as f64).sum::<f64>() as f32;
        }
    }
    c
}

fn assert_close(got: &[f32], expected: &[f32], what: &str) {
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= 1e-4 * (1.0 + e.abs()), "{what}[{i}]: {g} vs {e}");
    }
}

#[test]
fn gemm_forms_match_the_naive_product() {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
    let shapes = [(0, 0, 0), (0, 5, 3), (4, 0, 3), (3, 4, 0), (1, 1, 1), (7, 9, 13), (16, 16, 16), (33, 17, 65), (6, 784, 25)];
    for (m, n, k) in shapes {
        let a = random(m * k, &mut rng);
        let b = random(k * n, &mut rng);
        let bt = random(n * k, &mut rng);
        let at = random(k * m, &mut rng);
        let seed_c = random(m * n, &mut rng);

        let mut c = seed_c.clone();
        kernels::gemm_nn(m, n, k, &a, &b, &mut c, false);
        assert_close(&c, &naive(m, n, k, |i, p| a[i * k + p], |p, j| b[p * n + j]), "nn");

        let mut c = seed_c.clone();
        kernels::gemm_nt(m, n, k, &a, &bt, &mut c, true);
        let expected: Vec<f32> = naive(m, n, k, |i, p| a[i * k + p], |p, j| bt[j * k + p]).iter().zip(&seed_c).map(|(x, s)| x + s).collect();
        assert_close(&c, &expected, "nt accumulate");

        let mut c = seed_c.clone();
        kernels::gemm_tn(m, n, k, &at, &b, &mut c, false);
        assert_close(&c, &naive(m, n, k, |i, p| at[p * m + i], |p, j| b[p * n + j]), "tn");
    }
}

#[test]
fn col2im_is_the_adjoint_of_im2col() {
    // <im2col(x), y> = <x, col2im(y)> for every x, y: the backward pass is exact.
    let mut rng = rand_pcg::Pcg64::seed_from_u64(12);
    for g in [
        ConvGeometry { channels: 1, height: 5, width: 5, kernel_h: 3, kernel_w: 3, stride: 1, padding: 1 },
        ConvGeometry { channels: 3, height: 7, width: 6, kernel_h: 2, kernel_w: 2, stride: 2, padding: 0 },
        ConvGeometry { channels: 2, height: 4, width: 9, kernel_h: 5, kernel_w: 5, stride: 3, padding: 2 },
    ] {
        let x = random(g.input_len(), &mut rng);
        let y = random(g.cols_len(), &mut rng);
        let mut cols = vec![0.0; g.cols_len()];
        kernels::im2col(&g, &x, &mut cols);
        let mut back = vec![0.0; g.input_len()];
        kernels::col2im(&g, &y, &mut back);
        let lhs: f64 = cols.iter().zip(&y).map(|(a, b)| *a as f64 * *b as f64).sum();
        let rhs: f64 = x.iter().zip(&back).map(|(a, b)| *a as f64 * *b as f64).sum();
        assert!((lhs - rhs).abs() < 1e-4, "{g:?}: {lhs} vs {rhs}");
    }
}
