//! The statistics of an A/B comparison: median, min and max of each side's runs, and
//! whether the difference is real.
//!
//! - icount, every run of each side identical (Tessera's case): figures are guest
//!   instructions, so any difference between A and B is real ("deterministic").
//! - wall: noisy. B differs from A "beyond noise" only when the min..max ranges of the
//!   interleaved runs do not overlap; otherwise the verdict is "within noise", however
//!   different the medians look. No thresholds: the ranges decide.
//! - icount, but a side's runs differ among themselves (Linux's case: most likely its
//!   random choices, seeded from the host's RDRAND under `-cpu max`): the wall rule, against
//!   that run-to-run variation, and the verdict says so.

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
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// Identical figures (icount, every run the same).
    Same,
    /// The min..max ranges overlap.
    WithinNoise,
    /// B takes less time: by this fraction of A (0.25 = 25% less).
    Faster(f64),
    /// B takes more time: by this fraction of A.
    Slower(f64),
}

/// What a verdict rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// icount with identical runs: exact instruction counts.
    Exact,
    /// wall: the ranges of noisy runs.
    Noise,
    /// icount whose runs differed: the ranges of that variation.
    Variation,
}

/// A verdict and its basis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub basis: Basis,
}

/// Compares B against A in `mode`.
pub fn judge(mode: Mode, a: &Summary, b: &Summary) -> Judgement {
    let basis = match mode {
        Mode::Icount if a.constant() && b.constant() => Basis::Exact,
        Mode::Icount => Basis::Variation,
        Mode::Wall => Basis::Noise,
    };
    let fraction = (b.median - a.median) / a.median;
    let verdict = match basis {
        Basis::Exact if a.median == b.median => Verdict::Same,
        Basis::Noise | Basis::Variation if a.overlaps(b) => Verdict::WithinNoise,
        _ if fraction < 0.0 => Verdict::Faster(-fraction),
        _ => Verdict::Slower(fraction),
    };
    Judgement { verdict, basis }
}

/// A fraction as a percentage with enough decimals that a small exact difference does not
/// print as "0.0%": one decimal from 1%, two from 0.1%, three below.
fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    match p {
        _ if p >= 1.0 => format!("{p:.1}%"),
        _ if p >= 0.1 => format!("{p:.2}%"),
        _ => format!("{p:.3}%"),
    }
}

impl Judgement {
    /// A short phrase for tables: "B 12.5% faster (deterministic)".
    pub fn describe(&self) -> String {
        let why = match self.basis {
            Basis::Exact => "deterministic",
            Basis::Noise => "beyond noise",
            Basis::Variation => "beyond run-to-run variation",
        };
        match self.verdict {
            Verdict::Same => "same (identical instruction counts)".into(),
            Verdict::WithinNoise if self.basis == Basis::Variation => {
                "within run-to-run variation (icount runs differed)".into()
            }
            Verdict::WithinNoise => "within noise (ranges overlap)".into(),
            // Large changes read better as factors: "B 35.2x faster", not "97.2% faster".
            Verdict::Faster(f) if f >= 0.5 => format!("B {:.1}x faster ({why})", 1.0 / (1.0 - f)),
            Verdict::Faster(f) => format!("B {} faster ({why})", percent(f)),
            Verdict::Slower(f) if f >= 1.0 => format!("B {:.1}x slower ({why})", 1.0 + f),
            Verdict::Slower(f) => format!("B {} slower ({why})", percent(f)),
        }
    }

    /// A stable word for JSON: same, within-noise, faster, slower.
    pub fn key(&self) -> &'static str {
        match self.verdict {
            Verdict::Same => "same",
            Verdict::WithinNoise => "within-noise",
            Verdict::Faster(_) => "faster",
            Verdict::Slower(_) => "slower",
        }
    }

    /// A stable word for JSON: exact, noise, variation.
    pub fn basis_key(&self) -> &'static str {
        match self.basis {
            Basis::Exact => "exact",
            Basis::Noise => "noise",
            Basis::Variation => "variation",
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

    fn verdict(mode: Mode, a: &Summary, b: &Summary) -> Verdict {
        judge(mode, a, b).verdict
    }

    #[test]
    fn icount_differences_are_real_and_exact() {
        let a = summary(&[1000.0]);
        let same = judge(Mode::Icount, &a, &summary(&[1000.0]));
        assert_eq!((same.verdict, same.basis), (Verdict::Same, Basis::Exact));
        assert_eq!(
            verdict(Mode::Icount, &a, &summary(&[990.0])),
            Verdict::Faster(0.01)
        );
        assert_eq!(
            verdict(Mode::Icount, &a, &summary(&[1500.0, 1500.0])),
            Verdict::Slower(0.5)
        );
        assert_eq!(same.describe(), "same (identical instruction counts)");
    }

    #[test]
    fn varying_icount_runs_are_judged_by_their_ranges() {
        let a = summary(&[1000.0]);
        let inside = judge(Mode::Icount, &a, &summary(&[990.0, 1001.0]));
        assert_eq!(inside.verdict, Verdict::WithinNoise);
        assert_eq!(inside.basis, Basis::Variation);
        assert!(inside.describe().contains("icount runs differed"));
        let beyond = judge(Mode::Icount, &a, &summary(&[300.0, 301.0]));
        assert_eq!(beyond.basis, Basis::Variation);
        assert_eq!(
            beyond.describe(),
            "B 3.3x faster (beyond run-to-run variation)"
        );
    }

    #[test]
    fn wall_needs_disjoint_ranges() {
        let a = summary(&[100.0, 110.0, 120.0]);
        // Medians differ by a lot, but one B run reaches into A's range: noise.
        let b = summary(&[60.0, 65.0, 100.0]);
        assert_eq!(verdict(Mode::Wall, &a, &b), Verdict::WithinNoise);
        assert_eq!(
            judge(Mode::Wall, &a, &b).describe(),
            "within noise (ranges overlap)"
        );
        let b = summary(&[60.0, 65.0, 99.0]);
        // B's median 65 against A's 110: 45/110 less time.
        assert!(matches!(
            verdict(Mode::Wall, &a, &b),
            Verdict::Faster(f) if (f - 45.0 / 110.0).abs() < 1e-12
        ));
        assert_eq!(
            judge(Mode::Wall, &a, &b).describe(),
            "B 40.9% faster (beyond noise)"
        );
        let b = summary(&[121.0, 130.0, 125.0]);
        assert!(matches!(verdict(Mode::Wall, &a, &b), Verdict::Slower(_)));
        // Even a constant pair is judged by ranges in wall mode.
        let same = judge(Mode::Wall, &summary(&[5.0]), &summary(&[5.0]));
        assert_eq!(same.verdict, Verdict::WithinNoise);
    }

    #[test]
    fn large_changes_read_as_factors_small_ones_keep_their_digits() {
        let cases = [
            (Verdict::Faster(0.9), "B 10.0x faster (deterministic)"),
            (Verdict::Slower(2.0), "B 3.0x slower (deterministic)"),
            (Verdict::Slower(0.5), "B 50.0% slower (deterministic)"),
            (Verdict::Faster(0.0072), "B 0.72% faster (deterministic)"),
            (Verdict::Slower(0.0008), "B 0.080% slower (deterministic)"),
            (
                Verdict::Slower(0.000_001),
                "B 0.000% slower (deterministic)",
            ),
        ];
        for (verdict, text) in cases {
            let judgement = Judgement {
                verdict,
                basis: Basis::Exact,
            };
            assert_eq!(judgement.describe(), text);
        }
        let faster = Judgement {
            verdict: Verdict::Faster(0.125),
            basis: Basis::Exact,
        };
        assert_eq!(faster.key(), "faster");
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
