//! Cargo features and generated constants.

use super::{MINIMAL, VALID, parse_ok, valid_with};
use crate::{all_cargo_features, feature_key};

#[test]
fn features_are_one_per_component_plus_lock_tracking() {
    assert_eq!(
        parse_ok(VALID).cargo_features(),
        [
            "lock-tracking",
            "page-alloc-buddy",
            "memops-erms",
            "lock-no-irq",
            "path-buf-stack",
            "pipe-fast",
            "page-zero-once",
            "file-private-share",
            "dcache-hashbrown",
            "lookup-fast",
            "tmpfs-stat-lockfree",
            "net-smoltcp",
            "sched-round-robin",
            "vdso-on",
            "userspace",
            "tty",
            "procfs",
            "signals",
            "sockets"
        ]
    );
    assert_eq!(
        parse_ok(MINIMAL).cargo_features(),
        [
            "page-alloc-bitmap",
            "memops-simple",
            "lock-irq-save",
            "path-buf-heap",
            "pipe-simple",
            "page-zero-twice",
            "file-private-copy",
            "dcache-off",
            "lookup-full",
            "tmpfs-stat-locked",
            "net-none",
            "sched-round-robin",
            "vdso-off",
            "userspace",
            "tty",
            "procfs",
            "signals",
            "sockets"
        ]
    );
}

#[test]
fn all_features_cover_every_variant_once() {
    let all = all_cargo_features();
    assert_eq!(
        all,
        [
            "lock-tracking",
            "syscall-profiler",
            "page-alloc-bitmap",
            "page-alloc-buddy",
            "memops-simple",
            "memops-erms",
            "lock-irq-save",
            "lock-no-irq",
            "path-buf-heap",
            "path-buf-stack",
            "pipe-simple",
            "pipe-fast",
            "page-zero-twice",
            "page-zero-once",
            "file-private-copy",
            "file-private-share",
            "dcache-off",
            "dcache-hashbrown",
            "lookup-full",
            "lookup-fast",
            "tmpfs-stat-locked",
            "tmpfs-stat-lockfree",
            "net-none",
            "net-smoltcp",
            "sched-round-robin",
            "vdso-off",
            "vdso-on",
            "userspace",
            "tty",
            "procfs",
            "signals",
            "sockets",
        ]
    );
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len(), "two settings map to one feature");
    for feature in parse_ok(VALID).cargo_features() {
        assert!(all.contains(&feature), "{feature} not declared");
    }
}

#[test]
fn constants_have_the_expected_lines() {
    let constants = parse_ok(VALID).rust_constants();
    for line in [
        r#"pub const CONFIG_NAME: &str = "x";"#,
        r#"pub const CONFIG_DESCRIPTION: &str = "unit test config";"#,
        "pub const OPT_LEVEL: u8 = 3;",
        "pub const DEBUG_ASSERTIONS: bool = true;",
        "pub const LOCK_TRACKING: bool = true;",
        "pub const MEMORY_MIB: u32 = 256;",
        "pub const TIMER_HZ: u32 = 250;",
        r#"pub const LOG_LEVEL: &str = "debug";"#,
        r#"pub const COMPONENTS: &[(&str, &str)] = &[("page-alloc", "buddy"), ("memops", "erms"), ("lock", "no-irq"), ("path-buf", "stack"), ("pipe", "fast"), ("page-zero", "once"), ("file-private", "share"), ("dcache", "hashbrown"), ("lookup", "fast"), ("tmpfs-stat", "lockfree"), ("net", "smoltcp"), ("sched", "round-robin"), ("vdso", "on")];"#,
        r#"pub const SUBSYSTEMS: &[(&str, bool)] = &[("userspace", true), ("tty", true), ("procfs", true), ("signals", true), ("sockets", true)];"#,
    ] {
        assert!(
            constants.lines().any(|l| l == line),
            "{line}\nmissing from:\n{constants}"
        );
    }
}

#[test]
fn constants_are_rust_looking_lines() {
    let constants = parse_ok(VALID).rust_constants();
    let mut consts = 0;
    for line in constants.lines() {
        if line.starts_with("pub const ") {
            assert!(
                line.ends_with(';') && line.contains(": ") && line.contains(" = "),
                "{line}"
            );
            consts += 1;
        } else {
            assert!(
                line.is_empty() || line.starts_with("//"),
                "not Rust-looking: {line}"
            );
        }
    }
    assert_eq!(consts, 13);
    // Every constant is documented, so a kernel with `deny(missing_docs)` can include it.
    let lines: Vec<&str> = constants.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("pub const ") {
            assert!(
                i > 0 && lines[i - 1].starts_with("/// "),
                "undocumented: {line}"
            );
        }
    }
}

#[test]
fn constants_escape_strings() {
    let text = valid_with(
        "description",
        r#"description = "quote \" backslash \\ newline \n end""#,
    );
    let constants = parse_ok(&text).rust_constants();
    let line = r#"pub const CONFIG_DESCRIPTION: &str = "quote \" backslash \\ newline \n end";"#;
    assert!(constants.lines().any(|l| l == line), "{constants}");
}

#[test]
fn feature_key_names_the_key_a_feature_comes_from() {
    assert_eq!(
        feature_key("page-alloc-buddy").as_deref(),
        Some("components.page-alloc")
    );
    assert_eq!(
        feature_key("lock-tracking").as_deref(),
        Some("profile.lock-tracking")
    );
    assert_eq!(feature_key("procfs").as_deref(), Some("subsystems.procfs"));
    assert_eq!(feature_key("page-alloc-slab"), None);
    for feature in all_cargo_features() {
        assert!(feature_key(&feature).is_some(), "{feature} has no key");
    }
}
