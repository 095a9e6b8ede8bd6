//! The discrete Laplace (two-sided geometric) mechanism for integer counts.

use rand::Rng;

use crate::research::BudgetError;

pub const MECHANISM: &str = "discrete Laplace (two-sided geometric)";

/// Noise with `P(Y = y) ∝ exp(-ε·|y| / Δ)`, which makes a vector of counts ε-differentially private when adding or
/// removing one person changes the counts by at most Δ in total (L1 sensitivity).
///
/// Δ is the caller's promise: with one person in at most one cell, Δ = 1; if a person can appear in several days or
/// areas of one release, cap their contributions (e.g. count each person in at most c cells) and set Δ = c.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiscreteLaplace {
    epsilon: f64,
    sensitivity: u64,
    /// `ε/Δ`: neighbouring noise values differ in probability by the factor `exp(-rate)`.
    rate: f64,
}

impl DiscreteLaplace {
    pub fn new(epsilon: f64, sensitivity: u64) -> Result<Self, BudgetError> {
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(BudgetError::InvalidEpsilon(epsilon));
        }
        if sensitivity == 0 {
            return Err(BudgetError::InvalidSensitivity);
        }
        Ok(DiscreteLaplace { epsilon, sensitivity, rate: epsilon / sensitivity as f64 })
    }

    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    pub fn sensitivity(&self) -> u64 {
        self.sensitivity
    }

    /// `2p / (1-p)²` with `p = exp(-ε/Δ)`.
    pub fn variance(&self) -> f64 {
        let p = (-self.rate).exp();
        2.0 * p / (1.0 - p).powi(2)
    }

    /// The difference of two independent geometric variables is two-sided geometric.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> i64 {
        self.geometric(rng) - self.geometric(rng)
    }

    /// `count + noise`, clamped at zero: a negative count would be noise, and clamping is post-processing, which
    /// costs no privacy.
    pub fn noisy_count<R: Rng + ?Sized>(&self, count: u64, rng: &mut R) -> u64 {
        let noisy = i128::from(count) + i128::from(self.sample(rng));
        u64::try_from(noisy.max(0)).unwrap_or(u64::MAX)
    }

    /// `P(G = g) = (1-p)·p^g` on `0, 1, 2, …`, by inversion: `floor(-ln U / (ε/Δ))` (that is, `ln U / ln p`) with `U` uniform in `(0, 1]`.
    fn geometric<R: Rng + ?Sized>(&self, rng: &mut R) -> i64 {
        // 53 random bits, shifted into (0, 1]: U = 0 would give an infinite sample.
        let u = ((rng.gen::<u64>() >> 11) + 1) as f64 / (1u64 << 53) as f64;
        let g = (-u.ln() / self.rate).floor();
        // Saturates for absurdly small ε; `as` from f64 clamps to the i64 range.
        g as i64
    }
}
