//! Rendering tests: Markdown, JSON and SVG of made-up runs (no timing involved).

use super::*;
use crate::bench::json;
use crate::bench::parse::Measurement;
use crate::bench::svg;
use crate::exit::Verdict as Exit;

fn identity(label: &str, kind: &'static str) -> Identity {
    Identity {
        kind,
        label: label.into(),
        components: if kind == "tessera" {
            vec![("dcache".into(), "off".into())]
        } else {
            vec![]
        },
        profile: "opt-level=2".into(),
        linux_version: (kind == "linux").then(|| "linux-image-6.1.0-56-amd64".into()),
        git_describe: "abc1234-dirty".into(),
        git_commit: "abc1234".into(),
        modified: vec!["Cargo.lock".into()],
    }
}

fn machine() -> Machine {
    Machine {
        qemu: "QEMU emulator version 7.2.22".into(),
        cpu_model: "max",
        host_cpu: "Test CPU <&>".into(),
        memory_mib: 128,
        debian_memory_mib: None,
    }
}

fn measured(iters: u64, total_ns: u64) -> Outcome {
    Outcome::Measured(Measurement {
        iters,
        total_ns,
        bytes_per_op: None,
    })
}

/// A run with getpid, stat and pipe as given.
fn run(getpid: u64, stat: Outcome, pipe_iters: u64) -> Run {
    Run {
        outcomes: vec![
            ("getpid".into(), measured(1000, getpid)),
            ("stat".into(), stat),
            ("pipe".into(), measured(pipe_iters, 5_000_000)),
        ],
        problems: vec![],
        verdict: Exit::Success,
        seconds: 12.0,
        console: String::new(),
        boot: BootKind::System,
        booted: true,
    }
}

const NAMES: &[&str] = &["getpid", "stat", "pipe"];

/// A comparison of two kernels (label, kind) on the test machine.
fn compare(
    kernels: [(&str, &'static str); 2],
    mode: Mode,
    quick: bool,
    names: &[&str],
    runs: [&[Run]; 2],
) -> Comparison {
    let [(a, ka), (b, kb)] = kernels;
    Comparison::new(
        [identity(a, ka), identity(b, kb)],
        machine(),
        mode,
        quick,
        names,
        runs,
    )
}

fn icount() -> Comparison {
    let a = [run(344_000, measured(100, 736_300), 100)];
    let b = [run(300_000, Outcome::Failed("stat: ENOENT".into()), 200)];
    compare(
        [("linux", "linux"), ("fast+dcache=off", "tessera")],
        Mode::Icount,
        false,
        NAMES,
        [&a, &b],
    )
}

fn wall() -> Comparison {
    let a: Vec<Run> = [100_000, 120_000, 110_000]
        .iter()
        .map(|&g| run(g, measured(100, 580_000 + g), 100))
        .collect();
    let b: Vec<Run> = [60_000, 65_000, 70_000]
        .iter()
        .map(|&g| run(g, measured(100, 690_000 + g / 10), 100))
        .collect();
    compare(
        [("baseline", "tessera"), ("fast", "tessera")],
        Mode::Wall,
        true,
        NAMES,
        [&a, &b],
    )
}

#[test]
fn rows_compare_fail_and_refuse_different_counts() {
    let c = icount();
    let RowResult::Compared(getpid) = &c.rows[0].result else {
        panic!("{:?}", c.rows[0].result)
    };
    assert_eq!(c.rows[0].iters, Some(1000));
    assert_eq!((getpid.a.median, getpid.b.median), (344.0, 300.0));
    assert!(matches!(
        getpid.judgement.verdict,
        stats::Verdict::Faster(_)
    ));
    assert!(
        matches!(&c.rows[1].result, RowResult::Failed(why) if why == "B boot 1: stat: ENOENT"),
        "{:?}",
        c.rows[1].result
    );
    assert!(
        matches!(&c.rows[2].result, RowResult::Failed(why) if why.contains("iteration counts differ"))
    );
}

#[test]
fn markdown_has_identities_table_and_failures() {
    let md = comparison_markdown(&icount());
    assert!(md.starts_with("# A/B: linux vs fast+dcache=off (icount mode)\n"));
    assert!(md.contains("Linux linux-image-6.1.0-56-amd64"));
    assert!(md.contains(
        "Tessera: dcache=off; opt-level=2 (tree abc1234-dirty at abc1234; modified: Cargo.lock)"
    ));
    assert!(md.contains("QEMU emulator version 7.2.22, `-cpu max`, 128 MiB"));
    assert!(md.contains("Every run gave the same count (1 run(s) per side)"));
    assert!(md.contains("| benchmark | iters | A instr/op | B instr/op | B/A | verdict |"));
    assert!(
        md.contains("| getpid | 1,000 | 344.0 | 300.0 | 0.872 | B 12.8% faster (deterministic) |"),
        "{md}"
    );
    assert!(md.contains("| stat | | | | | FAILED: B boot 1: stat: ENOENT |"));
    // Every table row has the header's column count.
    for line in md.lines().filter(|l| l.starts_with('|')) {
        let pipes = line.matches('|').count() - line.matches("\\|").count();
        assert_eq!(pipes, 7, "{line}");
    }
}

#[test]
fn wall_markdown_shows_ranges_and_noise() {
    let md = comparison_markdown(&wall());
    assert!(md.contains("median (min–max) of 3 interleaved runs"));
    assert!(md.contains("QUICK"));
    assert!(
        md.contains("| getpid | 1,000 | 110.0 (100.0–120.0) | 65.0 (60.0–70.0) | 0.591 | B 40.9% faster (beyond noise) |"),
        "{md}"
    );
    assert!(md.contains("within noise"), "stat's ranges overlap: {md}");
}

/// A report's text read back (serde_json), and a check that it is the report written.
fn read_back<T>(report: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = json::render(report);
    let back: T = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, report, "{text}");
    back
}

#[test]
fn comparison_json_parses_back() {
    let c = read_back(&comparison_json(&wall()));
    assert_eq!(c.mode, "wall");
    assert!(c.quick);
    assert_eq!(c.runs_per_side, 3);
    assert_eq!(c.benchmarks.len(), 3);
    let getpid = &c.benchmarks[0];
    assert_eq!(getpid.group, "core");
    let json::Outcome::Measured(compared) = &getpid.outcome else {
        panic!("{getpid:?}")
    };
    assert_eq!(compared.verdict, "faster");
    assert_eq!(compared.a.samples, [100.0, 120.0, 110.0]);
    assert_eq!(c.machine.host_cpu, "Test CPU <&>");
}

/// `fast`'s single report of these runs, icount with the network in the wall view.
fn single(runs: Vec<Run>) -> Single {
    Single {
        identity: identity("fast", "tessera"),
        machine: machine(),
        mode: Mode::Icount,
        net_mode: Mode::Wall,
        quick: false,
        runs,
    }
}

#[test]
fn single_run_table_and_json() {
    let single = single(vec![run(
        344_000,
        Outcome::Failed("stat: ENOENT".into()),
        100,
    )]);
    let table = single_table(&single);
    assert!(table.contains("instr/op"));
    assert!(
        table.contains("getpid               1000          344.0"),
        "{table}"
    );
    assert!(table.contains("stat             FAILED: stat: ENOENT"));
    let report = read_back(&single_json(&single));
    assert!(!report.complete, "a failed benchmark");
    let stat = serde_json::to_value(&report.benchmarks[1]).unwrap();
    assert_eq!(stat["error"], "stat: ENOENT");
    assert!(stat.get("ns_per_op").is_none(), "no number for a failure");
}

#[test]
fn figures_are_readable() {
    assert_eq!(figure(344.04), "344.0");
    assert_eq!(figure(10515.4), "10,515");
    assert_eq!(figure(185756.0), "185,756");
    assert_eq!(figure(1234567.0), "1,234,567");
    assert_eq!(figure(f64::NAN), "-");
    assert_eq!(figure(-2500.0), "-2,500");
    assert_eq!(count(300), "300");
    assert_eq!(count(16384), "16,384");
}

/// A rough XML reader: every tag closes in order, attributes are quoted, entities are
/// the five XML ones. Returns the element names in document order.
fn xml_elements(text: &str) -> Vec<String> {
    let body = text
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .expect("XML declaration");
    let mut stack: Vec<String> = Vec::new();
    let mut names = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        let content = &rest[..open];
        for (i, _) in content.match_indices('&') {
            let entity = &content[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "bad entity in {content:?}"
            );
        }
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open + 1..close];
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in <{tag}>"
        );
        assert!(!tag.contains('<'), "'<' inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
        } else {
            let name = tag.split_whitespace().next().unwrap().trim_end_matches('/');
            names.push(name.to_string());
            if !tag.ends_with('/') {
                stack.push(name.to_string());
            }
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    assert!(rest.trim().is_empty());
    names
}

#[test]
fn svg_is_well_formed() {
    for comparison in [icount(), wall()] {
        let text = svg::chart(&comparison);
        let names = xml_elements(&text);
        assert_eq!(names[0], "svg");
        // Background, two legend swatches, two bars per compared row.
        let compared = comparison
            .rows
            .iter()
            .filter(|r| matches!(r.result, RowResult::Compared(_)))
            .count();
        let rects = names.iter().filter(|n| *n == "rect").count();
        assert_eq!(rects, 3 + 2 * compared);
        let failed = comparison.rows.iter().any(|r| r.result.failed());
        assert_eq!(text.contains("FAILED"), failed);
    }
    let text = svg::chart(&without_network());
    xml_elements(&text);
    assert!(text.contains("not applicable: A: `baseline` has no network"));
    let text = svg::chart(&linux_vs_fast_network());
    assert!(text.contains("network rows: wall time per MB or connection, 3 boots per side"));
    xml_elements(&text);
    assert!(text.contains("B 50.0 ms/MB"), "{text}");
    assert!(text.contains("A 1,000 µs/conn"), "{text}");
    // Whiskers only where runs differ (wall), never for constant icount figures.
    assert!(svg::chart(&wall()).contains("<path"));
    assert!(!svg::chart(&icount()).contains("<path"));
    assert_eq!(svg::escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
}

#[test]
fn varying_icount_runs_are_shown_and_judged_by_range() {
    let a = [
        run(344_000, measured(100, 736_300), 100),
        run(346_000, measured(100, 736_300), 100),
    ];
    let b = [
        run(300_000, measured(100, 736_300), 100),
        run(300_000, measured(100, 736_300), 100),
    ];
    let c = compare(
        [("linux", "linux"), ("fast", "tessera")],
        Mode::Icount,
        false,
        NAMES,
        [&a, &b],
    );
    let md = comparison_markdown(&c);
    assert!(md.contains("where a side's runs differed"), "{md}");
    assert!(
        md.contains("| getpid | 1,000 | 345.0 (344.0–346.0) | 300.0 | 0.870 | B 13.0% faster (beyond run-to-run variation) |"),
        "{md}"
    );
    assert!(
        md.contains("| stat | 100 | 7,363 | 7,363 | 1.000 | same (identical instruction counts) |")
    );
}

/// A network boot's run: tcp_tx (`ms_per_mb`) and tcp_connect (`us_per_conn`).
fn net_run(ms_per_mb: u64, us_per_conn: u64) -> Run {
    let mb = |ms: u64| Measurement {
        iters: 16,
        total_ns: 16 * ms * 1_000_000,
        bytes_per_op: Some(1_000_000),
    };
    Run {
        outcomes: vec![
            ("tcp_tx".into(), Outcome::Measured(mb(ms_per_mb))),
            (
                "tcp_connect".into(),
                Outcome::Measured(Measurement {
                    iters: 200,
                    total_ns: 200 * us_per_conn * 1000,
                    bytes_per_op: None,
                }),
            ),
        ],
        problems: vec![],
        verdict: Exit::Success,
        seconds: 5.0,
        console: String::new(),
        boot: BootKind::Network,
        booted: true,
    }
}

const NET_NAMES: &[&str] = &["getpid", "stat", "pipe", "tcp_tx", "tcp_connect"];

/// baseline (no network) against fast, in an icount comparison.
fn without_network() -> Comparison {
    let a = vec![
        run(344_000, measured(100, 736_300), 100),
        super::super::Run::without_boot(
            &["tcp_tx", "tcp_connect"],
            Outcome::NotApplicable("`baseline` has no network (net = \"none\")".into()),
            BootKind::Network,
        ),
    ];
    // ab boots no network for B when A has none.
    let b = with_network(300_000, &[]);
    let kernels = [("baseline", "tessera"), ("fast", "tessera")];
    compare(kernels, Mode::Icount, false, NET_NAMES, [&a, &b])
}

/// A side's runs: one system-call boot, then network boots of (ms/MB, µs/conn).
fn with_network(getpid: u64, boots: &[(u64, u64)]) -> Vec<Run> {
    let mut runs = vec![run(getpid, measured(100, 736_300), 100)];
    runs.extend(boots.iter().map(|&(mb, conn)| net_run(mb, conn)));
    runs
}

/// Linux against fast, both with network figures, in an icount comparison.
fn linux_vs_fast_network() -> Comparison {
    let a = with_network(344_000, &[(100, 1000), (110, 900), (90, 1100)]);
    let b = with_network(300_000, &[(50, 2000), (40, 2500), (60, 1500)]);
    let kernels = [("linux", "linux"), ("fast", "tessera")];
    compare(kernels, Mode::Icount, false, NET_NAMES, [&a, &b])
}

#[test]
fn network_rows_are_wall_figures_per_mb_and_connection() {
    let c = linux_vs_fast_network();
    assert_eq!((c.runs, c.net_runs), (1, 3));
    // Identical icount figures are exact, network figures are judged as wall figures even
    // in an icount comparison: never "deterministic".
    assert_eq!(c.rows[0].view, Mode::Icount);
    assert_eq!(c.rows[3].view, Mode::Wall);
    let RowResult::Compared(tx) = &c.rows[3].result else {
        panic!()
    };
    assert_eq!(tx.judgement.basis, stats::Basis::Noise);
    assert_eq!(tx.ratio, 0.5, "B/A compares times per MB");
    let md = comparison_markdown(&c);
    assert!(
        md.contains("median (min–max) of 3 interleaved boots per side"),
        "{md}"
    );
    assert!(md.contains("| benchmark | amount | A | B | B/A | verdict | A rate | B rate |"));
    assert!(
        md.contains(
            "| tcp_tx | 16 MB | 100.0 (90.0–110.0) ms/MB | 50.0 (40.0–60.0) ms/MB | 0.500 | \
             B 2.0x faster (beyond noise) | 10.0 MB/s | 20.0 MB/s |"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "| tcp_connect | 200 connections | 1,000 (900.0–1,100) µs/conn | 2,000 \
             (1,500–2,500) µs/conn | 2.000 | B 2.0x slower (beyond noise) | 1,000 conn/s | \
             500.0 conn/s |"
        ),
        "{md}"
    );
    assert!(
        !md.contains("tcp_tx | 16 | "),
        "network rows stay out of the system table"
    );
    for line in md.lines().filter(|l| l.starts_with('|')) {
        let pipes = line.matches('|').count();
        assert!(pipes == 7 || pipes == 9, "{line}");
    }
    let report = read_back(&comparison_json(&c));
    assert_eq!(report.network_runs_per_side, 3);
    let tx = &report.benchmarks[3];
    assert_eq!((tx.view.as_str(), tx.group.as_str()), ("wall", "network"));
    let json::Outcome::Measured(figures) = &tx.outcome else {
        panic!("{tx:?}")
    };
    assert_eq!(figures.rate_unit.as_deref(), Some("MB/s"));
    assert_eq!(figures.b_rate, Some(20.0));
}

#[test]
fn a_kernel_without_network_is_not_applicable_not_failed() {
    let c = without_network();
    assert_eq!(
        (c.runs, c.net_runs),
        (1, 0),
        "the run without boot is not counted"
    );
    for row in &c.rows[3..] {
        assert!(
            matches!(&row.result, RowResult::NotApplicable(why) if why.starts_with("A: `baseline`")),
            "{:?}",
            row.result
        );
        assert!(!row.result.failed());
    }
    let md = comparison_markdown(&c);
    assert!(
        !md.contains("Network figures:"),
        "no figures, no words about them"
    );
    assert!(
        md.contains(
            "| tcp_tx | | | | | not applicable: A: `baseline` has no network (net = \"none\") | | |"
        ),
        "{md}"
    );
    let report = read_back(&comparison_json(&c));
    let tx = serde_json::to_value(&report.benchmarks[3]).unwrap();
    assert!(tx.get("not_applicable").is_some());
    assert!(tx.get("error").is_none() && tx.get("ratio").is_none());
}

#[test]
fn single_run_has_a_network_section() {
    let single = single(with_network(344_000, &[(50, 2000)]));
    let table = single_table(&single);
    assert!(
        table.contains("network (wall view: a boot of its own"),
        "{table}"
    );
    assert!(
        table.contains("tcp_tx                      16 MB       50.0 ms/MB        20.0 MB/s"),
        "{table}"
    );
    assert!(
        table.contains("200 connections    2,000 µs/conn     500.0 conn/s"),
        "{table}"
    );
    let experiment = Single {
        net_mode: Mode::Icount,
        ..single
    };
    assert!(single_table(&experiment).contains("NOT meaningful"));
    let report = read_back(&single_json(&experiment));
    let json::Outcome::Measured(tx) = &report.benchmarks[3].outcome else {
        panic!("{:?}", report.benchmarks[3])
    };
    assert_eq!((tx.view.as_str(), tx.rate), ("icount", Some(20.0)));
}

/// The files the hand-written writer produced before serde (these made-up runs, and a real
/// `bench` run) still load, and hold what the serde reports of the same runs hold: the
/// schema did not change. (The old writer wrote a whole float as an integer, `344`; serde
/// writes `344.0`: the same JSON number.)
#[test]
fn files_written_before_serde_still_load() {
    let fixture = |name: &str| {
        std::fs::read_to_string(
            crate::root()
                .join("xtask/src/bench/report/fixtures")
                .join(name),
        )
        .unwrap()
    };
    let comparison = |name: &str, c: Comparison| {
        let old: json::ComparisonReport = serde_json::from_str(&fixture(name)).unwrap();
        let new = comparison_json(&Comparison {
            command: old.command.clone(),
            ..c
        });
        assert_eq!(old, new, "{name}");
    };
    comparison("ab-icount.json", icount());
    comparison("ab-net.json", linux_vs_fast_network());
    comparison("ab-nonet.json", without_network());
    let single_report = |name: &str, s: Single| {
        let old: json::SingleReport = serde_json::from_str(&fixture(name)).unwrap();
        let new = json::SingleReport {
            command: old.command.clone(),
            ..single_json(&s)
        };
        assert_eq!(old, new, "{name}");
    };
    let failed = Outcome::Failed("stat: ENOENT".into());
    single_report(
        "single-failed.json",
        single(vec![run(344_000, failed, 100)]),
    );
    single_report(
        "single-net.json",
        single(with_network(344_000, &[(50, 2000)])),
    );
    let real: json::SingleReport = serde_json::from_str(&fixture("fast-icount.json")).unwrap();
    assert_eq!(real.benchmarks.len(), 8);
    assert_eq!(real.kernel.components.get_index(0).unwrap().0, "page-alloc");
    let json::Outcome::Measured(getpid) = &real.benchmarks[0].outcome else {
        panic!()
    };
    assert_eq!((getpid.iters, getpid.ns_per_op), (200_000, 143.00953));
}

/// Non-finite figures are written as `null` and read back as NaN; everything else as it was.
#[test]
fn non_finite_figures_round_trip_as_null() {
    let mut report = single_json(&single(vec![run(344_000, measured(100, 7), 100)]));
    report.seconds = f64::INFINITY;
    let text = json::render(&report);
    assert!(text.contains("\"seconds\": null"), "{text}");
    let back: json::SingleReport = serde_json::from_str(&text).unwrap();
    assert!(back.seconds.is_nan());
    assert_eq!(back.benchmarks, report.benchmarks);
}
