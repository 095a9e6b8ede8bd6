//! The discrete Laplace mechanism, checked statistically with a seeded generator.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_vault::research::{BudgetError, DiscreteLaplace};
use rand::rngs::StdRng;
use rand::SeedableRng;

const SAMPLES: usize = 20_000;

fn mean_and_variance(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let variance = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, variance)
}

#[test]
fn mean_is_the_true_count_and_variance_matches_theory() {
    for (seed, epsilon) in [0.25, 0.5, 1.0, 2.0].into_iter().enumerate() {
        let mechanism = DiscreteLaplace::new(epsilon, 1).unwrap();
        let mut rng = StdRng::seed_from_u64(seed as u64);
        let p = f64::exp(-epsilon);
        let theory = 2.0 * p / (1.0 - p).powi(2);
        assert!((mechanism.variance() - theory).abs() < 1e-9);

        // A count large enough that clamping at zero never happens: the mean is then unbiased.
        let true_count = 1_000;
        let noisy: Vec<f64> = (0..SAMPLES).map(|_| mechanism.noisy_count(true_count, &mut rng) as f64).collect();
        let (mean, variance) = mean_and_variance(&noisy);
        let standard_error = (theory / SAMPLES as f64).sqrt();
        assert!((mean - true_count as f64).abs() < 5.0 * standard_error, "ε={epsilon}: mean {mean}");
        // The sample variance of a Laplace-like law has relative spread about sqrt(5/n) ≈ 1.6%.
        assert!((variance / theory - 1.0).abs() < 0.08, "ε={epsilon}: variance {variance}, theory {theory}");
    }
}

#[test]
fn probability_of_no_noise_is_as_the_law_says() {
    let epsilon = 1.0;
    let mechanism = DiscreteLaplace::new(epsilon, 1).unwrap();
    let mut rng = StdRng::seed_from_u64(42);
    let zeros = (0..SAMPLES).filter(|_| mechanism.sample(&mut rng) == 0).count() as f64 / SAMPLES as f64;
    let p = f64::exp(-epsilon);
    let expected = (1.0 - p) / (1.0 + p);
    assert!((zeros - expected).abs() < 0.015, "P(0) = {zeros}, expected {expected}");
}

#[test]
fn sensitivity_scales_the_noise() {
    let mechanism = DiscreteLaplace::new(1.0, 3).unwrap();
    assert!((mechanism.variance() - DiscreteLaplace::new(1.0 / 3.0, 1).unwrap().variance()).abs() < 1e-9);
    let mut rng = StdRng::seed_from_u64(7);
    let xs: Vec<f64> = (0..SAMPLES).map(|_| mechanism.sample(&mut rng) as f64).collect();
    let (_, variance) = mean_and_variance(&xs);
    assert!((variance / mechanism.variance() - 1.0).abs() < 0.08, "{variance}");
}

#[test]
fn noisy_counts_are_never_negative_and_seeded_runs_repeat() {
    let mechanism = DiscreteLaplace::new(0.1, 1).unwrap();
    let run = |seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..1000).map(|_| mechanism.noisy_count(0, &mut rng)).collect::<Vec<u64>>()
    };
    let first = run(1);
    assert_eq!(first, run(1));
    assert!(first.iter().any(|&c| c > 0), "noise is really added");
}

#[test]
fn nonsense_parameters_are_refused() {
    for epsilon in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(DiscreteLaplace::new(epsilon, 1), Err(BudgetError::InvalidEpsilon(_))));
    }
    assert_eq!(DiscreteLaplace::new(1.0, 0), Err(BudgetError::InvalidSensitivity));
}
