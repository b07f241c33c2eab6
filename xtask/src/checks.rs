//! Checks of built artifacts and sources that need no QEMU.

use std::path::Path;

use object::{Object, ObjectSection, ObjectSymbol};

/// `rep movsq` (F3 48 A5) and `rep movsb` (F3 A4).
const REP_MOVSQ: [u8; 3] = [0xf3, 0x48, 0xa5];
const REP_MOVSB: [u8; 2] = [0xf3, 0xa4];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The machine code of the function that `symbol` names in the ELF at `path`, following one
/// direct `jmp` (a variant's exported function may tail-call the real one).
pub fn function_code(path: &Path, symbol: &str) -> Result<Vec<u8>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = object::File::parse(&*data).map_err(|e| e.to_string())?;
    let code_at = |address: u64, size: u64| -> Option<Vec<u8>> {
        file.sections().find_map(|s| {
            let start = s.address();
            (address >= start && address + size <= start + s.size())
                .then(|| {
                    s.data().ok().map(|d| {
                        d[(address - start) as usize..(address - start + size) as usize].to_vec()
                    })
                })
                .flatten()
        })
    };
    let sym = file
        .symbols()
        .find(|s| s.name() == Ok(symbol))
        .ok_or(format!("no symbol {symbol} in {}", path.display()))?;
    let mut code = code_at(sym.address(), sym.size()).ok_or(format!("no code for {symbol}"))?;
    if code.first() == Some(&0xe9) && code.len() >= 5 {
        let rel = i32::from_le_bytes(code[1..5].try_into().expect("4 bytes")) as i64;
        let target = (sym.address() as i64 + 5 + rel) as u64;
        if let Some(callee) = file
            .symbols()
            .find(|s| s.address() == target && s.size() > 0)
        {
            code.extend(code_at(target, callee.size()).unwrap_or_default());
        }
    }
    Ok(code)
}

/// Proves which memops variant a kernel links: `erms` copies with `rep movs`, `simple` never.
pub fn memops_linked(elf: &Path, variant: &str) -> Result<(), String> {
    let code = function_code(elf, "memcpy")?;
    let rep = contains(&code, &REP_MOVSQ) || contains(&code, &REP_MOVSB);
    match (variant, rep) {
        ("erms", true) | ("simple", false) => Ok(()),
        ("erms", false) => {
            Err("config says memops = erms but the linked memcpy has no rep movs".into())
        }
        ("simple", true) => {
            Err("config says memops = simple but the linked memcpy uses rep movs".into())
        }
        (other, _) => Err(format!("no link check for memops variant {other}")),
    }
}

/// The crates that may use `unsafe`: the platform layer and the memory functions.
const UNSAFE_CRATES: [&str; 2] = ["components/platform", "components/memops"];

/// The lints that keep `unsafe` in [`UNSAFE_CRATES`] and justified there, and the levels the
/// root Cargo.toml must give them (`(tool, lint, levels)`).
const REQUIRED_LINTS: [(&str, &str, &[&str]); 3] = [
    ("rust", "unsafe_code", &["forbid", "deny"]),
    ("clippy", "undocumented_unsafe_blocks", &["forbid", "deny"]),
    ("clippy", "missing_safety_doc", &["forbid", "deny"]),
];

/// The lint configuration that rustc and clippy enforce is in place: the root Cargo.toml's
/// `[workspace.lints]` denies `unsafe_code` and undocumented `unsafe`; every workspace crate
/// inherits that table (`[lints] workspace = true`) except [`UNSAFE_CRATES`], whose own
/// `[lints]` table has every workspace lint but `unsafe_code`, at the same level (Cargo
/// cannot override one inherited lint). Clippy itself runs in `lint/*`.
pub fn lint_config(root: &Path) -> Result<(), String> {
    let manifest = |dir: &Path| -> Result<toml::Table, String> {
        let path = dir.join("Cargo.toml");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        text.parse().map_err(|e| format!("{}: {e}", path.display()))
    };
    let workspace = manifest(root)?;
    let workspace = workspace.get("workspace").and_then(|w| w.as_table());
    let lints = lint_levels(workspace.and_then(|w| w.get("lints")));
    let mut problems = Vec::new();
    for (tool, lint, levels) in REQUIRED_LINTS {
        let level = lints.iter().find(|(t, l, _)| *t == tool && *l == lint);
        if !level.is_some_and(|(_, _, level)| levels.contains(&level.as_str())) {
            problems.push(format!(
                "Cargo.toml: [workspace.lints.{tool}] must set {lint} to {}",
                levels.join(" or ")
            ));
        }
    }
    let mut members = Vec::new();
    for pattern in workspace
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str())
    {
        match pattern.strip_suffix("/*") {
            Some(parent) => {
                let mut dirs: Vec<_> = std::fs::read_dir(root.join(parent))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| format!("{parent}/{}", e.file_name().to_string_lossy()))
                    .filter(|dir| root.join(dir).join("Cargo.toml").is_file())
                    .collect();
                dirs.sort();
                members.extend(dirs);
            }
            None => members.push(pattern.to_string()),
        }
    }
    for exception in UNSAFE_CRATES {
        if !members.iter().any(|m| m == exception) {
            problems.push(format!(
                "{exception}: may use `unsafe` but is not a workspace member"
            ));
        }
    }
    for member in &members {
        let own = manifest(&root.join(member))?;
        let table = own.get("lints");
        let inherits = table
            .and_then(|l| l.get("workspace"))
            .and_then(|w| w.as_bool())
            == Some(true);
        if !UNSAFE_CRATES.contains(&member.as_str()) {
            if !inherits {
                problems.push(format!(
                    "{member}/Cargo.toml: needs `[lints] workspace = true` (only {} may use `unsafe`)",
                    UNSAFE_CRATES.join(" and ")
                ));
            }
            continue;
        }
        let own_lints = lint_levels(table);
        for (tool, lint, level) in lints.iter().filter(|(_, l, _)| l != "unsafe_code") {
            if !own_lints.contains(&(tool.clone(), lint.clone(), level.clone())) {
                problems.push(format!(
                    "{member}/Cargo.toml: [lints.{tool}] must set {lint} to {level:?}, as the workspace does"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// The `(tool, lint, level)` entries of a `[lints]` table; a level is a string or a table
/// with a `level` key.
fn lint_levels(table: Option<&toml::Value>) -> Vec<(String, String, String)> {
    let mut levels = Vec::new();
    for (tool, lints) in table.and_then(|t| t.as_table()).into_iter().flatten() {
        for (lint, value) in lints.as_table().into_iter().flatten() {
            let level = value
                .as_str()
                .or_else(|| value.get("level").and_then(|l| l.as_str()));
            if let Some(level) = level {
                levels.push((tool.clone(), lint.clone(), level.to_string()));
            }
        }
    }
    levels
}

/// The kernel reads its features in one module: every `cfg(feature ...)` or
/// `cfg!(feature ...)` in `kernels/*/src` outside `variants.rs` is the attribute of a `mod`
/// line (an optional subsystem, possibly with its `#[path]`), never a test inside code.
pub fn feature_tests_in_one_place(root: &Path) -> Result<(), String> {
    let mut misplaced = Vec::new();
    for kernel in std::fs::read_dir(root.join("kernels")).map_err(|e| e.to_string())? {
        let src = kernel.map_err(|e| e.to_string())?.path().join("src");
        for file in rust_files(&src) {
            if file.file_name().is_some_and(|n| n == "variants.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
            misplaced.extend(misplaced_feature_tests(&text).into_iter().map(|line| {
                format!(
                    "{}:{line}",
                    file.strip_prefix(root).unwrap_or(&file).display()
                )
            }));
        }
    }
    if misplaced.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "features tested outside variants.rs and mod lines:\n{}",
            misplaced.join("\n")
        ))
    }
}

/// Line numbers of feature tests in `text` that are not attributes of a `mod` item.
fn misplaced_feature_tests(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut misplaced = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !(line.contains("cfg(feature")
            || line.contains("cfg!(feature")
            || line.contains("cfg(not(feature"))
        {
            continue;
        }
        let attribute = line.trim_start().starts_with("#[cfg(");
        let item = lines[i + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.starts_with("#["));
        let is_mod = item.is_some_and(|l| {
            let l = l
                .trim_start_matches("pub ")
                .trim_start_matches("pub(crate) ");
            l.starts_with("mod ") && l.ends_with(';')
        });
        if !(attribute && is_mod) {
            misplaced.push(i + 1);
        }
    }
    misplaced
}

/// The modules that see the registers by design: the decoder itself, and the dispatch
/// (which builds the array and prints it in a trace line).
const RAW_ARGS_BY_DESIGN: [&str; 2] = ["args.rs", "mod.rs"];

/// Every system-call handler decodes its arguments through `syscall/args.rs` (the types of
/// Linux's prototypes): no module of `kernels/tessera/src/syscall` but those of
/// [`RAW_ARGS_BY_DESIGN`] indexes the raw array (`a[N]`, `args[N]`).
pub fn typed_syscall_args(root: &Path) -> Result<(), String> {
    let dir = root.join("kernels/tessera/src/syscall");
    let mut problems = Vec::new();
    for file in rust_files(&dir) {
        let name = file
            .strip_prefix(&dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        if RAW_ARGS_BY_DESIGN.contains(&name.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
        problems.extend(raw_argument_indexing(&text).iter().map(|line| {
            format!(
                "syscall/{name}:{line}: indexes the raw arguments; decode them with syscall/args.rs"
            )
        }));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Line numbers of `text` that index an argument array by a literal (`a[3]`, `args[0]`),
/// outside `//` comments.
fn raw_argument_indexing(text: &str) -> Vec<usize> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let bytes = code.as_bytes();
        let hit = ["a[", "args["].iter().any(|pattern| {
            code.match_indices(pattern).any(|(at, _)| {
                let before = at.checked_sub(1).map(|b| bytes[b]);
                let starts_word = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == b'_'));
                let index = bytes.get(at + pattern.len());
                starts_word && index.is_some_and(u8::is_ascii_digit)
            })
        });
        if hit {
            found.push(i + 1);
        }
    }
    found
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(rust_files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_tests_features_in_one_place() {
        feature_tests_in_one_place(&crate::root()).unwrap();
    }

    #[test]
    fn a_feature_test_inside_code_is_reported() {
        let text = "#[cfg(feature = \"tty\")]\nmod console;\n#[cfg(not(feature = \"tty\"))]\n#[path = \"raw.rs\"]\npub mod console;\nfn f() {\n    if cfg!(feature = \"x\") {}\n}\n#[cfg(feature = \"y\")]\nfn g() {}\n";
        assert_eq!(misplaced_feature_tests(text), [7, 9]);
    }

    #[test]
    fn syscall_handlers_decode_their_arguments() {
        typed_syscall_args(&crate::root()).unwrap();
    }

    #[test]
    fn raw_argument_indexing_is_found() {
        let text = "let fd = a.fd(0);\nlet (x, y) = (a[0], a[1] as i32);\n\
            let n = data[2];\n// a[3] in a comment\nf(&[args[4]]);\nlet b = a[i];\n";
        assert_eq!(raw_argument_indexing(text), [2, 5]);
    }

    #[test]
    fn the_repository_has_its_lint_configuration() {
        lint_config(&crate::root()).unwrap();
    }

    /// A workspace in a temporary directory: the root manifest's lints, and crates as
    /// (directory, `[lints]` table).
    fn lint_config_of(root_lints: &str, crates: &[(&str, &str)]) -> Result<(), String> {
        static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("xtask-lints-{}-{run}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!("[workspace]\nmembers = [\"components/*\", \"xtask\"]\n{root_lints}"),
        )
        .unwrap();
        for (path, lints) in crates {
            std::fs::create_dir_all(dir.join(path)).unwrap();
            std::fs::write(
                dir.join(path).join("Cargo.toml"),
                format!("[package]\nname = \"x\"\n{lints}"),
            )
            .unwrap();
        }
        let result = lint_config(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        result
    }

    const WORKSPACE: &str = "[workspace.lints.rust]\nunsafe_code = \"forbid\"\n\
        [workspace.lints.clippy]\nundocumented_unsafe_blocks = \"deny\"\n\
        missing_safety_doc = { level = \"deny\", priority = 1 }\n";
    const INHERIT: &str = "[lints]\nworkspace = true\n";
    const UNSAFE_OK: &str = "[lints.clippy]\nundocumented_unsafe_blocks = \"deny\"\n\
        missing_safety_doc = \"deny\"\n";

    #[test]
    fn a_complete_configuration_passes() {
        lint_config_of(
            WORKSPACE,
            &[
                ("components/platform", UNSAFE_OK),
                ("components/memops", UNSAFE_OK),
                ("components/pipe", INHERIT),
                ("xtask", INHERIT),
            ],
        )
        .unwrap();
    }

    #[test]
    fn each_gap_in_the_configuration_is_reported() {
        let err = lint_config_of(
            "[workspace.lints.rust]\nunsafe_code = \"warn\"\n",
            &[
                ("components/platform", UNSAFE_OK),
                ("components/pipe", ""),
                ("xtask", INHERIT),
            ],
        )
        .unwrap_err();
        for expected in [
            "[workspace.lints.rust] must set unsafe_code",
            "[workspace.lints.clippy] must set undocumented_unsafe_blocks",
            "[workspace.lints.clippy] must set missing_safety_doc",
            "components/memops: may use `unsafe` but is not a workspace member",
            "components/pipe/Cargo.toml: needs `[lints] workspace = true`",
        ] {
            assert!(err.contains(expected), "{expected:?} missing from:\n{err}");
        }
        assert!(!err.contains("xtask/Cargo.toml"), "{err}");

        // The exceptions must repeat every workspace lint but `unsafe_code`.
        let err = lint_config_of(
            WORKSPACE,
            &[
                (
                    "components/platform",
                    "[lints.clippy]\nmissing_safety_doc = \"warn\"\n",
                ),
                ("components/memops", INHERIT),
                ("xtask", INHERIT),
            ],
        )
        .unwrap_err();
        for expected in [
            "components/platform/Cargo.toml: [lints.clippy] must set undocumented_unsafe_blocks",
            "components/platform/Cargo.toml: [lints.clippy] must set missing_safety_doc",
            "components/memops/Cargo.toml: [lints.clippy] must set undocumented_unsafe_blocks",
        ] {
            assert!(err.contains(expected), "{expected:?} missing from:\n{err}");
        }
        assert!(!err.contains("unsafe_code"), "{err}");
    }
}
