//! The generator's own random numbers: SplitMix64, written out here so that a seed gives
//! the same region on every platform and with every version of every dependency (the
//! `rand` crate promises neither for `SmallRng`).

/// Milliseconds in a minute, an hour and a day: the generator works in whole minutes.
pub(crate) const MINUTE: i64 = 60_000;
pub(crate) const HOUR: i64 = 60 * MINUTE;
pub(crate) const DAY: i64 = 24 * HOUR;

/// Independent streams, so that adding a draw to one part of the story does not shift
/// the numbers of another.
pub(crate) mod stream {
    pub const REGION: u64 = 1;
    pub const PERSON: u64 = 2;
    pub const CASE: u64 = 3;
    pub const BENCH_PERSON: u64 = 4;
    pub const BENCH_DESIGNATION: u64 = 5;
    pub const CHECKIN: u64 = 6;
}

#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// The generator for item `index` of stream `stream` under `seed`.
    pub fn derive(seed: u64, stream: u64, index: u64) -> Self {
        Rng(mix(mix(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_add(index)))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`; `lo` when the range is empty.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let width = (hi - lo) as u64 + 1;
        lo + self.below(width) as i64
    }

    /// A span of milliseconds in `lo..=hi` in whole minutes, so that generated timestamps
    /// read naturally; `lo` itself when no whole minute lies in the range.
    pub fn minutes(&mut self, lo: i64, hi: i64) -> i64 {
        let lo_min = (lo + MINUTE - 1).div_euclid(MINUTE);
        let hi_min = hi.div_euclid(MINUTE);
        if hi_min < lo_min {
            return lo;
        }
        self.between(lo_min, hi_min) * MINUTE
    }

    /// True with probability `per_mille / 1000`.
    pub fn per_mille(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::derive(7, stream::PERSON, 1).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::derive(7, stream::PERSON, 1).next_u64(), Rng::derive(7, stream::PERSON, 2).next_u64());
        assert_ne!(Rng::derive(7, stream::PERSON, 1).next_u64(), Rng::derive(7, stream::CASE, 1).next_u64());
        assert_ne!(Rng::derive(7, stream::PERSON, 1).next_u64(), Rng::derive(8, stream::PERSON, 1).next_u64());
    }

    #[test]
    fn ranges_are_respected() {
        let mut rng = Rng::derive(1, 1, 1);
        for _ in 0..1000 {
            assert!((3..=9).contains(&rng.between(3, 9)));
            assert!(rng.below(5) < 5);
            let m = rng.minutes(90_000, 10 * MINUTE);
            assert!((2 * MINUTE..=10 * MINUTE).contains(&m) && m % MINUTE == 0);
        }
        assert_eq!(rng.between(4, 2), 4);
        assert_eq!(rng.minutes(90_000, 100_000), 90_000);
        assert_eq!(rng.below(0), 0);
    }
}
