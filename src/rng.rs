//! Seeded randomness. One generator type everywhere so that the same seed and
//! configuration give a bit-identical run natively and in the browser.

use rand::SeedableRng;

/// PCG-64 (`Lcg128Xsl64`): small, fast, and its output is specified, so it
/// does not change between crate versions or platforms.
pub type Rng = rand_pcg::Pcg64;

/// A generator for one purpose (init, shuffling, dropout), derived from the
/// run's seed so that changing, say, the batch order does not change the
/// initial weights.
pub fn stream(seed: u64, purpose: u64) -> Rng {
    Rng::seed_from_u64(seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

pub const INIT_STREAM: u64 = 1;
pub const SHUFFLE_STREAM: u64 = 2;
pub const DROPOUT_STREAM: u64 = 3;
pub const AUGMENT_STREAM: u64 = 4;
