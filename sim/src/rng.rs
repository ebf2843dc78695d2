//! The simulator's random numbers: one seeded generator type for every stream, and the
//! samplers the traffic model draws with.
//!
//! Every random stream of a simulation is a [`SimRng`] seeded by [`seeded_rng`] from a seed
//! derived from the run's seed and the indices of the work, so tests and benchmarks that use the
//! same generator get reproducible draws with the same statistical quality.

use rand::{Rng, RngExt, SeedableRng};

/// The simulator's random number generator: `rand_pcg`'s `Pcg64Mcg` (PCG with a 128-bit
/// multiplicative congruential state and 64-bit output), fast and of good statistical quality;
/// not for cryptography.
/// Draw from it with the [`rand`](crate::rand) traits (`Rng`, `RngExt`).
pub type SimRng = rand_pcg::Pcg64Mcg;

/// A generator seeded from `seed`, as the simulator seeds each of its streams: the same seed
/// always gives the same draws, on every platform.
pub fn seeded_rng(seed: u64) -> SimRng {
    SimRng::seed_from_u64(seed)
}

/// A Poisson-distributed count with mean `lambda`.
///
/// Knuth's product-of-uniforms method, applied to chunks of at most 16 so that `exp(-chunk)`
/// stays far from underflow; its cost is linear in `lambda`, which is the cost of generating the
/// events anyway.
pub fn poisson(rng: &mut impl Rng, lambda: f64) -> u32 {
    let mut left = lambda;
    let mut count = 0;
    while left > 0.0 {
        let chunk = left.min(16.0);
        left -= chunk;
        let limit = (-chunk).exp();
        let mut product = rng.random::<f64>();
        while product > limit {
            count += 1;
            product *= rng.random::<f64>();
        }
    }
    count
}

/// One of `items`, chosen with probability proportional to its weight.
///
/// # Panics
///
/// If the weights sum to zero (there is nothing to choose).
pub fn pick_weighted<T: Copy>(rng: &mut impl Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|&(_, w)| w).sum();
    let mut ticket = rng.random_range(0..total);
    for &(item, weight) in items {
        if ticket < weight {
            return item;
        }
        ticket -= weight;
    }
    unreachable!("ticket below total weight")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_mean_and_variance() {
        let mut rng = seeded_rng(9);
        for lambda in [0.01, 0.7, 5.0, 40.0] {
            let n = 20_000;
            let draws: Vec<f64> = (0..n)
                .map(|_| f64::from(poisson(&mut rng, lambda)))
                .collect();
            let mean = draws.iter().sum::<f64>() / n as f64;
            let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n as f64;
            // Five standard errors: the mean's is sqrt(lambda / n), the variance ratio's about
            // sqrt(2 / n + 1 / (n lambda)).
            let tolerance = 5.0 * (lambda / n as f64).sqrt();
            assert!((mean - lambda).abs() < tolerance, "{lambda}: mean {mean}");
            let ratio_tolerance = 5.0 * (2.0 / n as f64 + 1.0 / (n as f64 * lambda)).sqrt();
            assert!(
                (var / lambda - 1.0).abs() < ratio_tolerance,
                "{lambda}: var {var}"
            );
        }
        assert_eq!(poisson(&mut rng, 0.0), 0);
    }

    #[test]
    fn weighted_choice_follows_the_weights() {
        let mut rng = seeded_rng(3);
        let items = [('a', 1), ('b', 3), ('c', 0)];
        let mut counts = [0u32; 3];
        for _ in 0..40_000 {
            counts[(pick_weighted(&mut rng, &items) as u8 - b'a') as usize] += 1;
        }
        assert_eq!(counts[2], 0, "weight 0 is never chosen");
        // 10 000 and 30 000 expected; the standard deviation is about 87.
        assert!((9_500..10_500).contains(&counts[0]), "{counts:?}");
    }

    #[test]
    fn same_seed_same_draws() {
        let (mut a, mut b, mut c) = (seeded_rng(5), seeded_rng(5), seeded_rng(6));
        let draw = |rng: &mut SimRng| (0..8).map(|_| rng.next_u64()).collect::<Vec<_>>();
        let first = draw(&mut a);
        assert_eq!(first, draw(&mut b));
        assert_ne!(first, draw(&mut c));
    }
}
