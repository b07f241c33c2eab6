//! The statistics of an A/B comparison: median, min and max of each side's runs, and
//! whether the difference is real.
//!
//! - icount: figures are guest instructions and identical on every run, so any difference
//!   between A and B is real; a side whose runs differ among themselves is reported as not
//!   deterministic (something in the guest depends on the host: that is a finding).
//! - wall: noisy. B differs from A "beyond noise" only when the min..max ranges of the
//!   interleaved runs do not overlap; otherwise the verdict is "within noise", however
//!   different the medians look. No thresholds: the ranges decide.

use crate::qemu::Mode;

/// One side's runs of one benchmark (nanoseconds per operation).
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Every run's figure, in run order.
    pub samples: Vec<f64>,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// The median of `values` (the mean of the middle two for an even count); `None` if empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

impl Summary {
    /// The summary of some runs; `None` without any.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        Some(Summary {
            samples: samples.to_vec(),
            median: median(samples)?,
            min: samples.iter().copied().fold(f64::INFINITY, f64::min),
            max: samples.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    /// Whether every run gave the same figure.
    pub fn constant(&self) -> bool {
        self.min == self.max
    }

    /// Whether the min..max ranges of `self` and `other` share a point.
    pub fn overlaps(&self, other: &Summary) -> bool {
        self.min <= other.max && other.min <= self.max
    }
}

/// What a comparison of A and B concludes (times: lower is better).
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// icount, identical figures.
    Same,
    /// wall, the ranges overlap.
    WithinNoise,
    /// B takes less time: by this fraction of A (0.25 = 25% less).
    Faster(f64),
    /// B takes more time: by this fraction of A.
    Slower(f64),
    /// icount, but a side's runs differ among themselves.
    NotDeterministic,
}

/// Compares B against A in `mode`.
pub fn verdict(mode: Mode, a: &Summary, b: &Summary) -> Verdict {
    let change = || {
        let fraction = (b.median - a.median) / a.median;
        if fraction < 0.0 {
            Verdict::Faster(-fraction)
        } else {
            Verdict::Slower(fraction)
        }
    };
    match mode {
        Mode::Icount if !a.constant() || !b.constant() => Verdict::NotDeterministic,
        Mode::Icount if a.median == b.median => Verdict::Same,
        Mode::Icount => change(),
        Mode::Wall if a.overlaps(b) => Verdict::WithinNoise,
        Mode::Wall => change(),
    }
}

impl Verdict {
    /// A short phrase for tables: "B 12.5% faster (deterministic)".
    pub fn describe(&self, mode: Mode) -> String {
        let why = match mode {
            Mode::Icount => "deterministic",
            Mode::Wall => "beyond noise",
        };
        match self {
            Verdict::Same => "same (identical instruction counts)".into(),
            Verdict::WithinNoise => "within noise (ranges overlap)".into(),
            Verdict::Faster(f) => format!("B {:.1}% faster ({why})", f * 100.0),
            Verdict::Slower(f) => format!("B {:.1}% slower ({why})", f * 100.0),
            Verdict::NotDeterministic => "not deterministic: runs differ under icount".into(),
        }
    }

    /// A stable word for JSON: same, within-noise, faster, slower, not-deterministic.
    pub fn key(&self) -> &'static str {
        match self {
            Verdict::Same => "same",
            Verdict::WithinNoise => "within-noise",
            Verdict::Faster(_) => "faster",
            Verdict::Slower(_) => "slower",
            Verdict::NotDeterministic => "not-deterministic",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn summary(samples: &[f64]) -> Summary {
        Summary::of(samples).unwrap()
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5.0]), Some(5.0));
        assert_eq!(median(&[9.0, 1.0, 5.0]), Some(5.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        let s = summary(&[3.0, 9.0, 1.0, 7.0, 5.0]);
        assert_eq!((s.median, s.min, s.max), (5.0, 1.0, 9.0));
        assert_eq!(s.samples, [3.0, 9.0, 1.0, 7.0, 5.0], "run order is kept");
    }

    #[test]
    fn icount_differences_are_real_and_exact() {
        let a = summary(&[1000.0]);
        assert_eq!(
            verdict(Mode::Icount, &a, &summary(&[1000.0])),
            Verdict::Same
        );
        assert_eq!(
            verdict(Mode::Icount, &a, &summary(&[990.0])),
            Verdict::Faster(0.01)
        );
        assert_eq!(
            verdict(Mode::Icount, &a, &summary(&[1500.0, 1500.0])),
            Verdict::Slower(0.5)
        );
        assert_eq!(
            verdict(Mode::Icount, &a, &summary(&[990.0, 991.0])),
            Verdict::NotDeterministic
        );
    }

    #[test]
    fn wall_needs_disjoint_ranges() {
        let a = summary(&[100.0, 110.0, 120.0]);
        // Medians differ by a lot, but one B run reaches into A's range: noise.
        let b = summary(&[60.0, 65.0, 100.0]);
        assert_eq!(verdict(Mode::Wall, &a, &b), Verdict::WithinNoise);
        let b = summary(&[60.0, 65.0, 99.0]);
        // B's median 65 against A's 110: 45/110 less time.
        assert!(matches!(
            verdict(Mode::Wall, &a, &b),
            Verdict::Faster(f) if (f - 45.0 / 110.0).abs() < 1e-12
        ));
        let b = summary(&[121.0, 130.0, 125.0]);
        assert!(matches!(verdict(Mode::Wall, &a, &b), Verdict::Slower(_)));
        assert!(
            Verdict::Faster(0.125)
                .describe(Mode::Wall)
                .contains("12.5% faster (beyond noise)")
        );
    }

    proptest! {
        /// Against a simple model of a median: at least half the samples are <= it and at
        /// least half >= it, it is a sample for an odd count, and min <= median <= max.
        /// Small integer values, so even counts and ties occur often.
        #[test]
        fn median_is_in_the_middle(raw in prop::collection::vec(0u32..50, 1..12)) {
            let samples: Vec<f64> = raw.iter().map(|&x| f64::from(x)).collect();
            let s = summary(&samples);
            prop_assert!(s.min <= s.median && s.median <= s.max);
            let below = samples.iter().filter(|&&x| x <= s.median).count();
            let above = samples.iter().filter(|&&x| x >= s.median).count();
            prop_assert!(2 * below >= samples.len() && 2 * above >= samples.len());
            if samples.len() % 2 == 1 {
                prop_assert!(samples.contains(&s.median));
            }
        }

        /// Overlap against a model (some grid value lies in both ranges), symmetric, and a
        /// wall verdict is noise exactly when the ranges overlap.
        #[test]
        fn overlap_matches_a_model(a in prop::collection::vec(0u32..50, 1..8),
                                   b in prop::collection::vec(0u32..50, 1..8)) {
            let to_f = |v: &[u32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
            let (a, b) = (summary(&to_f(&a)), summary(&to_f(&b)));
            let shared = (0..50)
                .map(f64::from)
                .any(|x| a.min <= x && x <= a.max && b.min <= x && x <= b.max);
            prop_assert_eq!(a.overlaps(&b), shared);
            prop_assert_eq!(b.overlaps(&a), shared);
            let noise = verdict(Mode::Wall, &a, &b) == Verdict::WithinNoise;
            prop_assert_eq!(noise, shared);
        }
    }
}
