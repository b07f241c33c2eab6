//! The A/B bar chart, as hand-written SVG (no dependency).
//!
//! One row per benchmark: A's bar above B's, each scaled to the larger of the two in that
//! row (the figures span five orders of magnitude, so a shared axis would hide most rows),
//! with the figures, B/A and the verdict on the right. In wall mode a whisker shows each
//! side's min–max range, the thing the verdict is decided on. Failed rows say why, rows
//! that do not apply say so. Network rows are wall time per MB or per connection in every
//! mode, and their figures carry that unit.

use super::catalog::Op;
use super::mode_name;
use super::report::{Comparison, RowResult, figure, time_text, unit};
use super::stats::{Summary, Verdict};
use crate::qemu::Mode;

const WIDTH: f64 = 1100.0;
const NAMES: f64 = 150.0;
const BARS: f64 = 480.0;
const TOP: f64 = 78.0;
const ROW: f64 = 44.0;
const A_COLOR: &str = "#9aa5b1";
const B_COLOR: &str = "#2f6fdb";

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn text(out: &mut String, x: f64, y: f64, attrs: &str, content: &str) {
    out.push_str(&format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" {attrs}>{}</text>\n",
        escape(content)
    ));
}

/// One side's bar (and whisker when its runs differ), `scale` pixels per unit; its figure
/// is shown as a plain number for calls, with the time unit for MB and connections.
fn bar(out: &mut String, y: f64, s: &Summary, scale: f64, color: &str, label: &str, op: Op) {
    let length = (s.median * scale).max(1.0);
    out.push_str(&format!(
        "<rect x=\"{NAMES:.1}\" y=\"{y:.1}\" width=\"{length:.1}\" height=\"14\" fill=\"{color}\"/>\n"
    ));
    if !s.constant() {
        let (x1, x2, mid) = (NAMES + s.min * scale, NAMES + s.max * scale, y + 7.0);
        out.push_str(&format!(
            "<path d=\"M{x1:.1} {mid:.1} H{x2:.1} M{x1:.1} {:.1} V{:.1} M{x2:.1} {:.1} V{:.1}\" \
             stroke=\"#222\" stroke-width=\"1\" fill=\"none\"/>\n",
            y + 2.0,
            y + 12.0,
            y + 2.0,
            y + 12.0
        ));
    }
    text(
        out,
        NAMES + BARS + 8.0,
        y + 11.0,
        "font-size=\"11\"",
        &match op {
            Op::Call => format!("{label} {}", figure(s.median)),
            _ => format!("{label} {}", time_text(op, s.median)),
        },
    );
}

/// The chart of a comparison.
pub fn chart(c: &Comparison) -> String {
    let height = TOP + ROW * c.rows.len() as f64 + 30.0;
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\">\n\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height}\" fill=\"white\"/>\n"
    );
    let [a, b] = &c.identities;
    text(
        &mut out,
        10.0,
        22.0,
        "font-size=\"16\" font-weight=\"bold\"",
        &format!(
            "A/B: {} (A) vs {} (B), {} mode",
            a.label,
            b.label,
            mode_name(c.mode)
        ),
    );
    text(
        &mut out,
        10.0,
        42.0,
        "font-size=\"11\"",
        &format!(
            "{}{}; bars scaled per benchmark, shorter is faster; {} run(s) per side{}{}",
            unit(c.mode),
            if c.rows.iter().any(|r| r.network()) {
                format!(
                    "; network rows: wall time per MB or connection, {} boots per side",
                    c.net_runs
                )
            } else {
                String::new()
            },
            c.runs,
            if c.mode == Mode::Wall {
                "; whiskers: min–max"
            } else {
                ""
            },
            if c.quick { "; QUICK counts" } else { "" }
        ),
    );
    for (i, (label, color)) in [(&a.label, A_COLOR), (&b.label, B_COLOR)]
        .iter()
        .enumerate()
    {
        let x = 10.0 + 260.0 * i as f64;
        out.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"52\" width=\"12\" height=\"12\" fill=\"{color}\"/>\n"
        ));
        text(
            &mut out,
            x + 18.0,
            62.0,
            "font-size=\"11\"",
            &format!("{} {label}", ["A", "B"][i]),
        );
    }
    for (i, row) in c.rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        text(&mut out, 10.0, y + 25.0, "font-size=\"12\"", &row.name);
        match &row.result {
            RowResult::Compared(r) => {
                let top = r.a.max.max(r.b.max).max(f64::MIN_POSITIVE);
                let scale = BARS / top;
                bar(&mut out, y + 6.0, &r.a, scale, A_COLOR, "A", row.op);
                bar(&mut out, y + 22.0, &r.b, scale, B_COLOR, "B", row.op);
                let color = match r.judgement.verdict {
                    Verdict::Faster(_) => "#1a7f37",
                    Verdict::Slower(_) => "#cf222e",
                    Verdict::Same | Verdict::WithinNoise => "#555",
                };
                text(
                    &mut out,
                    NAMES + BARS + 110.0,
                    y + 25.0,
                    &format!("font-size=\"11\" fill=\"{color}\""),
                    &format!("B/A {:.3}: {}", r.ratio, r.judgement.describe()),
                );
            }
            RowResult::Failed(why) | RowResult::NotApplicable(why) => {
                let (what, color) = match row.result.failed() {
                    true => ("FAILED", "#cf222e"),
                    false => ("not applicable", "#555"),
                };
                let short: String = why.chars().take(100).collect();
                text(
                    &mut out,
                    NAMES,
                    y + 25.0,
                    &format!("font-size=\"11\" fill=\"{color}\""),
                    &format!("{what}: {short}"),
                );
            }
        }
    }
    out.push_str("</svg>\n");
    out
}
