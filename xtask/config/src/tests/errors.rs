//! Every kind of bad config, checked for what a kernel engineer needs to fix it: the file, the
//! dotted key and the allowed values.

use std::fs;
use std::path::{Path, PathBuf};

use super::{MINIMAL, VALID, parse_err, parse_ok, valid_with};
use crate::load;

/// Asserts the message starts with the file and contains every fragment.
fn assert_mentions(text: &str, fragments: &[&str]) {
    let message = parse_err(text).to_string();
    assert!(
        message.starts_with("configs/x.toml: "),
        "no file in: {message}"
    );
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "{fragment:?} missing from: {message}"
        );
    }
}

#[test]
fn unknown_variant() {
    let text = valid_with("page-alloc", r#"page-alloc = "slab""#);
    let err = parse_err(&text);
    assert_eq!(err.path(), Path::new("configs/x.toml"));
    assert_eq!(
        err.to_string(),
        r#"configs/x.toml: components.page-alloc = "slab" is not a variant; allowed: "bitmap", "buddy""#
    );
}

#[test]
fn unknown_sched_variant() {
    assert_mentions(
        &valid_with("sched", r#"sched = "cfs""#),
        &[
            "configs/x.toml",
            r#"components.sched = "cfs" is not a variant; allowed: "round-robin""#,
        ],
    );
}

#[test]
fn unknown_value_of_a_non_component_choice() {
    assert_mentions(
        &valid_with("log-level", r#"log-level = "loud""#),
        &[
            r#"kernel.log-level = "loud" is not an allowed value"#,
            r#""error", "warn", "info", "debug", "trace""#,
        ],
    );
}

#[test]
fn component_of_the_wrong_type() {
    assert_mentions(
        &valid_with("memops", "memops = 2"),
        &[
            "components.memops must be a string, found integer 2",
            r#""simple", "erms""#,
        ],
    );
}

#[test]
fn unknown_key_in_a_section() {
    let text = VALID.replace("[components]\n", "[components]\npager = \"buddy\"\n");
    let err = parse_err(&text);
    assert_eq!(
        err.detail(),
        "unknown key `components.pager`; allowed keys in [components]: page-alloc, memops, lock, path-buf, pipe, page-zero, file-private, dcache, lookup, tmpfs-stat, net, sched, vdso"
    );
}

#[test]
fn unknown_section() {
    let text = format!("{MINIMAL}\n[kernal]\nmemory-mib = 64\n");
    assert_eq!(
        parse_err(&text).to_string(),
        "configs/x.toml: unknown section [kernal]; allowed sections: profile, components, subsystems, kernel"
    );
}

#[test]
fn unknown_top_level_key() {
    let text = format!("memory-mib = 64\n{MINIMAL}");
    assert_mentions(
        &text,
        &[
            "unknown top-level key `memory-mib`",
            "allowed top-level keys: description",
            "allowed sections: profile, components, subsystems, kernel",
        ],
    );
}

#[test]
fn section_that_is_not_a_table() {
    let text = format!("kernel = 3\n{MINIMAL}");
    assert_mentions(
        &text,
        &["kernel must be a table ([kernel]), found integer 3"],
    );
}

#[test]
fn integer_of_the_wrong_type() {
    assert_mentions(
        &valid_with("memory-mib", r#"memory-mib = "lots""#),
        &[r#"kernel.memory-mib must be an integer in 32..=4096, found string "lots""#],
    );
    assert_mentions(
        &valid_with("timer-hz", "timer-hz = 99.5"),
        &["kernel.timer-hz must be an integer in 10..=1000, found float 99.5"],
    );
}

#[test]
fn integer_out_of_range() {
    assert_mentions(
        &valid_with("memory-mib", "memory-mib = 8"),
        &["kernel.memory-mib = 8 is out of range; allowed: 32..=4096"],
    );
    assert_mentions(
        &valid_with("opt-level", "opt-level = 4"),
        &["profile.opt-level = 4 is out of range; allowed: 0..=3"],
    );
    assert_mentions(
        &valid_with("timer-hz", "timer-hz = -1"),
        &["kernel.timer-hz = -1 is out of range; allowed: 10..=1000"],
    );
}

#[test]
fn boolean_of_the_wrong_type() {
    assert_mentions(
        &valid_with("lock-tracking", r#"lock-tracking = "yes""#),
        &[r#"profile.lock-tracking must be a boolean (true or false), found string "yes""#],
    );
}

#[test]
fn missing_component() {
    let text = VALID.replace("memops = \"erms\"\n", "");
    assert_eq!(
        parse_err(&text).to_string(),
        r#"configs/x.toml: missing required key components.memops; allowed: "simple", "erms""#
    );
}

#[test]
fn missing_components_section() {
    let text = "description = \"no components\"\n";
    assert_mentions(
        text,
        &[
            "missing required key components.page-alloc",
            r#""bitmap", "buddy""#,
        ],
    );
}

#[test]
fn missing_or_empty_description() {
    let text = MINIMAL.replace("description = \"only what is required\"", "");
    assert_mentions(
        &text,
        &["missing required key description; allowed: any non-empty string"],
    );
    let text = MINIMAL.replace("\"only what is required\"", "\"\"");
    assert_mentions(
        &text,
        &["description is empty; allowed: any non-empty string"],
    );
    let text = MINIMAL.replace("\"only what is required\"", "[1]");
    assert_mentions(&text, &["description must be a string, found array"]);
}

#[test]
fn toml_syntax_error_keeps_tomls_position() {
    let message = parse_err("description = \"unterminated\n").to_string();
    assert!(message.starts_with("configs/x.toml: "), "{message}");
    assert!(message.contains("line 1"), "no line in: {message}");
    assert!(message.contains("column"), "no column in: {message}");
}

/// A fresh directory under the system temp dir, holding the given empty `.toml` files.
fn configs_dir(test: &str, files: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tessera-config-{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create temp configs dir");
    for file in files {
        fs::write(dir.join(file), "").expect("write temp config");
    }
    dir
}

#[test]
fn missing_file_lists_available_configs() {
    let dir = configs_dir(
        "missing",
        &[
            "fast.toml",
            "baseline.toml",
            "minimal.toml",
            "debug.toml",
            "notes.txt",
        ],
    );
    let err = load("nope", &dir).unwrap_err();
    assert_eq!(err.path(), dir.join("nope.toml"));
    let message = err.to_string();
    let expected = format!(
        "{}: cannot read config file: ",
        dir.join("nope.toml").display()
    );
    assert!(message.starts_with(&expected), "{message}");
    assert!(
        message.ends_with("; available configs: baseline, debug, fast, minimal"),
        "{message}"
    );
    fs::remove_dir_all(&dir).expect("remove temp configs dir");
}

#[test]
fn missing_configs_dir_says_so() {
    let dir = std::env::temp_dir().join("tessera-config-no-such-dir");
    let message = load("fast", &dir).unwrap_err().to_string();
    assert!(
        message.ends_with(&format!("available configs: none in {}", dir.display())),
        "{message}"
    );
}

#[test]
fn load_takes_a_name_or_a_path() {
    let dir = configs_dir("paths", &[]);
    fs::write(dir.join("mine.toml"), MINIMAL).expect("write config");
    assert_eq!(load("mine", &dir).unwrap().name, "mine");
    let path = dir.join("mine.toml");
    let by_path = load(path.to_str().unwrap(), Path::new("/nonexistent")).unwrap();
    assert_eq!(by_path.path, path);
    // A name ending in .toml is a path relative to the working directory, not to configs_dir.
    let err = load("mine.toml", &dir).unwrap_err();
    assert_eq!(err.path(), Path::new("mine.toml"));
    fs::remove_dir_all(&dir).expect("remove temp configs dir");
}

#[test]
fn a_key_that_needs_another_names_both() {
    let text = format!("{MINIMAL}\n[subsystems]\nuserspace = false\n");
    assert_eq!(
        parse_err(&text).to_string(),
        "configs/x.toml: kernel.userland = \"busybox\" needs subsystems.userspace = true, found subsystems.userspace = false"
    );
    let text = VALID.replace("[kernel]\n", "[subsystems]\nsockets = false\n\n[kernel]\n");
    assert_eq!(
        parse_err(&text).detail(),
        "components.net = \"smoltcp\" needs subsystems.sockets = true, found subsystems.sockets = false"
    );
    let text = format!(
        "{MINIMAL}\n[subsystems]\nuserspace = false\ntty = false\nprocfs = false\nsignals = false\nsockets = false\n\n[kernel]\nuserland = \"none\"\n"
    );
    assert!(!parse_ok(&text).subsystem("userspace").unwrap());
}

/// BusyBox's shell installs handlers and masks signals: a kernel without them cannot run it,
/// and handlers without user space are meaningless.
#[test]
fn signals_off_refuses_what_needs_them() {
    let text = VALID.replace("[kernel]\n", "[subsystems]\nsignals = false\n\n[kernel]\n");
    assert_eq!(
        parse_err(&text).to_string(),
        "configs/x.toml: kernel.userland = \"busybox\" needs subsystems.signals = true, found subsystems.signals = false"
    );
    let text = format!(
        "{MINIMAL}\n[subsystems]\nuserspace = false\ntty = false\nprocfs = false\nsockets = false\n\n[kernel]\nuserland = \"none\"\n"
    );
    assert_eq!(
        parse_err(&text).detail(),
        "subsystems.signals = true needs subsystems.userspace = true, found subsystems.userspace = false"
    );
    let hello = format!(
        "{MINIMAL}\n[subsystems]\ntty = false\nprocfs = false\nsignals = false\nsockets = false\n\n[kernel]\nuserland = \"hello\"\n"
    );
    assert_eq!(parse_ok(&hello).subsystem("signals"), Some(false));
}

/// Two variants of one component, as a list or as the key twice: refused, naming the file and
/// the key (the kernel's `variants.rs` would refuse the two features too, but the config is
/// where a person wrote them).
#[test]
fn two_variants_of_one_key() {
    assert_mentions(
        &valid_with("page-alloc", r#"page-alloc = ["bitmap", "buddy"]"#),
        &[
            "components.page-alloc must be a string, found array",
            r#""bitmap", "buddy""#,
        ],
    );
    let twice = valid_with(
        "page-alloc",
        "page-alloc = \"buddy\"\npage-alloc = \"bitmap\"",
    );
    assert_mentions(&twice, &["duplicate key", "page-alloc"]);
}
