//! `ab --mode both`: the icount and the wall comparison of the same two kernels in one
//! table, so that a benchmark on which the two views disagree (fewer instructions but more
//! emulated time, as a kernel that makes QEMU translate code again can show) stands out.
//!
//! Each row takes A, B and B/A from each comparison, then says whether the views agree:
//! `yes` when both verdicts point the same way (or both find no difference), `NO` when one
//! view has B faster and the other slower, `-` when one view finds no difference beyond
//! its noise and the other does. Network rows have no icount figures (they run once, in
//! the wall comparison) and are left to that comparison's report.

use super::report::{self, Comparison, RowResult, count, describe_identity, figure};
use super::stats::{Summary, Verdict};

/// Which way a verdict points: -1 B faster, 1 B slower, 0 no difference found.
fn direction(verdict: Verdict) -> i8 {
    match verdict {
        Verdict::Faster(_) => -1,
        Verdict::Slower(_) => 1,
        Verdict::Same | Verdict::WithinNoise => 0,
    }
}

/// Whether two verdicts agree: `yes`, `NO` or `-` (see the module documentation).
pub fn agreement(icount: Verdict, wall: Verdict) -> &'static str {
    match (direction(icount), direction(wall)) {
        (x, y) if x == y => "yes",
        (0, _) | (_, 0) => "-",
        _ => "NO",
    }
}

fn cell(s: &Summary) -> String {
    if s.min == s.max {
        figure(s.median)
    } else {
        format!("{} ({}–{})", figure(s.median), figure(s.min), figure(s.max))
    }
}

/// The Markdown of the two views side by side.
pub fn markdown(icount: &Comparison, wall: &Comparison) -> String {
    let [a, b] = &icount.identities;
    let mut out = format!(
        "# A/B: {} vs {}, icount and wall side by side\n\n- A: {}\n- B: {}\n",
        a.label,
        b.label,
        describe_identity(a),
        describe_identity(b)
    );
    out.push_str(&format!(
        "- icount: {}, {} run(s) per side; wall: {}, {} interleaved run(s) per side; median \
         (min–max) where runs differed. A workload's operation is one run of it.\n\
         - agree: `yes` when both views point the same way, `NO` when one has B faster and \
         the other B slower, `-` when only one view finds a difference beyond its noise.\n\
         - Iteration counts: {}\n- Command: `{}`\n\n",
        report::unit(icount.mode),
        icount.runs,
        report::unit(wall.mode),
        wall.runs,
        if icount.quick {
            "QUICK (small; not for publishing)"
        } else {
            "full"
        },
        wall.command
    ));
    out.push_str(
        "| benchmark | iters | A instr/op | B instr/op | B/A icount | A ns/op | B ns/op | B/A \
         wall | agree | icount verdict | wall verdict |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n",
    );
    for row in icount.rows.iter().filter(|r| !r.network()) {
        let other = wall.rows.iter().find(|r| r.name == row.name);
        let line = match (&row.result, other.map(|r| &r.result)) {
            (RowResult::Compared(i), Some(RowResult::Compared(w))) => format!(
                "| {} | {} | {} | {} | {:.3} | {} | {} | {:.3} | {} | {} | {} |\n",
                row.name,
                row.iters.map(count).unwrap_or_default(),
                cell(&i.a),
                cell(&i.b),
                i.ratio,
                cell(&w.a),
                cell(&w.b),
                w.ratio,
                agreement(i.judgement.verdict, w.judgement.verdict),
                i.judgement.describe(),
                w.judgement.describe()
            ),
            (icount_result, wall_result) => {
                let why = |r: Option<&RowResult>| match r {
                    Some(RowResult::Failed(why)) => format!("FAILED: {why}"),
                    Some(RowResult::NotApplicable(why)) => format!("not applicable: {why}"),
                    Some(RowResult::Compared(_)) => "compared".into(),
                    None => "not run".into(),
                };
                format!(
                    "| {} | | | | | | | | | icount: {} | wall: {} |\n",
                    row.name,
                    why(Some(icount_result)).replace('|', "\\|"),
                    why(wall_result).replace('|', "\\|")
                )
            }
        };
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_of_two_views() {
        let faster = Verdict::Faster(0.5);
        let slower = Verdict::Slower(0.5);
        assert_eq!(agreement(faster, Verdict::Faster(0.1)), "yes");
        assert_eq!(agreement(Verdict::Same, Verdict::WithinNoise), "yes");
        assert_eq!(agreement(faster, slower), "NO");
        assert_eq!(agreement(slower, faster), "NO");
        assert_eq!(agreement(faster, Verdict::WithinNoise), "-");
        assert_eq!(agreement(Verdict::Same, slower), "-");
    }
}
