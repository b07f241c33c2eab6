//! Output extraction, the pass rules and the diff: everything of `conform` but QEMU.

use super::*;

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

const LINUX_CONSOLE: &str = "\
[    0.000000] Linux version 6.1.0-56-amd64
early console noise
=== files
ok open
[    1.234567] random: crng init done
ok read
=== files exit 0
=== pipes
ok pipe
=== pipes exit 0
=== done
[    2.000000] reboot: Power down
";

#[test]
fn extract_keeps_the_runner_region_without_kernel_lines() {
    let got = extract(LINUX_CONSOLE).unwrap();
    assert_eq!(
        got,
        lines(
            "=== files\nok open\nok read\n=== files exit 0\n=== pipes\nok pipe\n\
             === pipes exit 0\n=== done"
        )
    );
}

#[test]
fn extract_drops_tessera_log_lines_too() {
    let console = "Tessera 0.1.0 -- config \"fast\"\n=== misc\n\
                   [    3.141] WARN  unimplemented syscall unknown (1000): ENOSYS\n\
                   ok ENOSYS\n=== misc exit 0\n=== done\ntessera: power off\n";
    assert_eq!(
        extract(console).unwrap(),
        lines("=== misc\nok ENOSYS\n=== misc exit 0\n=== done")
    );
}

#[test]
fn extract_needs_the_runner_and_keeps_an_unfinished_run() {
    assert!(
        extract("no runner here\n")
            .unwrap_err()
            .contains("no `===` line")
    );
    let hung = extract("boot\n=== files\nok a\n[    9.000] WARN  x\nok b\n").unwrap();
    assert_eq!(
        hung,
        lines("=== files\nok a\nok b"),
        "a hang still shows what ran"
    );
    let tests = ["files".to_string()];
    assert_eq!(
        problems(&hung, &tests),
        [
            "files: did not run to the end",
            "no `=== done`: the runner did not finish"
        ]
    );
}

#[test]
fn kernel_log_lines_are_recognized_by_their_timestamp() {
    assert!(is_kernel_log("[    0.000000] Linux version"));
    assert!(is_kernel_log("[12345.5] x"));
    assert!(
        !is_kernel_log("[1] read(0x0) ..."),
        "strace lines are not log lines"
    );
    assert!(!is_kernel_log("[ ] x"));
    assert!(!is_kernel_log("ok [1.5] in the middle"));
    assert!(!is_kernel_log("[1.] x"));
}

#[test]
fn problems_of_a_clean_run_are_none() {
    let tests = ["files".to_string(), "pipes".to_string()];
    assert!(problems(&extract(LINUX_CONSOLE).unwrap(), &tests).is_empty());
}

#[test]
fn problems_name_fails_exits_and_missing_programs() {
    let tests = ["files", "memory", "pipes"].map(String::from);
    let run = lines(
        "=== files\nok a\nFAIL b: got 1, want 2\n=== files exit 1\n\
         === memory\n=== memory exit signal 11\n=== stray\n=== stray exit 0\n=== done",
    );
    assert_eq!(
        problems(&run, &tests),
        [
            "files: FAIL b: got 1, want 2",
            "files: exit 1",
            "memory: exit signal 11",
            "stray: not a test program of this build",
            "pipes: did not run to the end",
        ]
    );
}

#[test]
fn equal_outputs_have_no_diff() {
    let a = lines("a\nb\nc");
    assert_eq!(unified_diff(&a, &a, "linux", "tessera"), None);
}

#[test]
fn diff_of_one_changed_line_has_context() {
    let a = lines("1\n2\n3\n4\n5\n6\n7\n8\n9");
    let mut b = a.clone();
    b[4] = "five".into();
    assert_eq!(
        unified_diff(&a, &b, "linux", "tessera").unwrap(),
        "--- linux\n+++ tessera\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
    );
}

#[test]
fn distant_changes_make_separate_hunks() {
    let a: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
    let mut b = a.clone();
    b.remove(1); // line 2 missing
    b.push("21".into()); // a line added at the end
    let diff = unified_diff(&a, &b, "a", "b").unwrap();
    let headers: Vec<&str> = diff.lines().filter(|l| l.starts_with("@@")).collect();
    assert_eq!(headers, ["@@ -1,5 +1,4 @@", "@@ -18,3 +17,4 @@"]);
    assert!(diff.contains("\n-2\n"));
    assert!(diff.ends_with(" 20\n+21\n"));
}

#[test]
fn diff_against_an_empty_side() {
    let a = lines("x\ny");
    assert_eq!(
        unified_diff(&a, &[], "a", "b").unwrap(),
        "--- a\n+++ b\n@@ -1,2 +0,0 @@\n-x\n-y\n"
    );
    assert_eq!(
        unified_diff(&[], &a, "a", "b").unwrap(),
        "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n"
    );
}

#[test]
fn edit_script_is_minimal() {
    let a = lines("a\nb\nc\nd");
    let b = lines("a\nc\nd\ne");
    let script = edits(&a, &b);
    let changes = script
        .iter()
        .filter(|e| !matches!(e, Edit::Same(..)))
        .count();
    assert_eq!(changes, 2, "remove b, add e: {script:?}");
}

#[test]
fn the_worst_outcome_sets_the_exit_code() {
    assert_eq!(
        worse(Code::Ok, Verdict::Timeout, Verdict::Success),
        Code::Timeout
    );
    assert_eq!(
        worse(Code::Ok, Verdict::Success, Verdict::Success),
        Code::TestFailure,
        "a clean end with failed checks is a test failure"
    );
    assert_eq!(
        worse(Code::Timeout, Verdict::Panic, Verdict::Success),
        Code::Timeout,
        "the first failure is kept"
    );
}

/// Programs go in batches under the budget, static builds before dynamic ones, in name
/// order, and a dynamic batch counts the libraries it carries.
#[test]
fn batches_keep_to_the_budget_static_first() {
    use crate::userland::{Libc, Program};
    let dir = std::env::temp_dir().join(format!("xtask-batches-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let program = |name: &str, len: usize, libc: Libc| {
        let path = dir.join(name);
        std::fs::write(&path, vec![0u8; len]).unwrap();
        Program {
            name: name.into(),
            path,
            libc,
        }
    };
    let selected = [
        program("a", 40, Libc::Glibc),
        program("a-dyn", 10, Libc::GlibcDynamic),
        program("a-musl", 5, Libc::Musl),
        program("b", 40, Libc::Glibc),
        program("b-dyn", 10, Libc::GlibcDynamic),
        program("c", 200, Libc::Glibc),
    ];
    let lib = dir.join("libc.so.6");
    std::fs::write(&lib, vec![0u8; 70]).unwrap();
    let libraries = [("/lib/libc.so.6".to_string(), lib)];
    let names = |budget| -> Vec<Vec<String>> {
        super::batches(&selected, &libraries, budget)
            .unwrap()
            .into_iter()
            .map(|b| b.into_iter().map(|p| p.name).collect())
            .collect()
    };
    assert_eq!(
        names(100),
        [vec!["a", "a-musl", "b"], vec!["c"], vec!["a-dyn", "b-dyn"]]
    );
    // 70 bytes of libraries leave room for one 10-byte dynamic program per batch of 85.
    assert_eq!(
        names(85),
        [
            vec!["a", "a-musl", "b"],
            vec!["c"],
            vec!["a-dyn"],
            vec!["b-dyn"]
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_leak_check_reads_the_runner_s_usage_lines_and_judges_them_as_the_fuzzer_does() {
    let console = |after: &str| {
        format!(
            "runner: usage before: free 24893 cached 65 heap-pages 3370 heap 13569297 tasks 1 \
             files 2\n=== files\nok open\n=== files exit 0\n=== done\nrunner: usage after: \
             {after}\ntessera: power off\n"
        )
    };
    // Within the tolerances: a conform run's figures (heap +13,936 bytes, 7 pages fewer).
    let clean = console("free 24786 cached 76 heap-pages 3459 heap 13583233 tasks 1 files 2");
    let account = leak_check(&clean).unwrap();
    assert_eq!(
        account,
        "tasks 1 -> 1, open files 2 -> 2, heap +13936 bytes, free pages -7"
    );
    // The usage lines lie outside the compared region: Linux prints none.
    assert!(!extract(&clean).unwrap().iter().any(|l| l.contains("usage")));
    let zombie = console("free 24770 cached 76 heap-pages 3459 heap 13585233 tasks 2 files 2");
    let leak = leak_check(&zombie).unwrap_err();
    assert!(leak.contains("tasks: 1 before, 2 after"), "{leak}");
    let pages = console("free 24000 cached 76 heap-pages 3459 heap 13583233 tasks 1 files 2");
    assert!(leak_check(&pages).unwrap_err().contains("memory: "));
    assert!(
        leak_check("=== done\n").is_err(),
        "no readings is a failure"
    );
}
