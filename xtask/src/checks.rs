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

/// Crates allowed to contain `unsafe`: the platform layer.
const UNSAFE_CRATES: [&str; 2] = ["components/platform", "components/memops"];

/// Every crate outside the platform layer denies `unsafe_code` at its root, and every `unsafe`
/// block in the platform layer carries a `// SAFETY:` comment within the three lines above it.
pub fn unsafe_discipline(root: &Path) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut crate_dirs: Vec<_> = ["components", "kernels"]
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(root.join(dir))
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
        })
        .collect();
    crate_dirs.push(root.join("xtask"));
    crate_dirs.push(root.join("xtask/config"));
    for dir in crate_dirs {
        let rel = dir
            .strip_prefix(root)
            .unwrap_or(&dir)
            .to_string_lossy()
            .to_string();
        if UNSAFE_CRATES.contains(&rel.as_str()) {
            for file in rust_files(&dir.join("src")) {
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                for (i, line) in lines.iter().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    if code.contains("unsafe {") || code.trim_end().ends_with("unsafe") {
                        let justified =
                            line.contains("SAFETY") || comment_above(&lines, i).contains("SAFETY");
                        if !justified {
                            problems.push(format!(
                                "{}:{}: unsafe block without a // SAFETY: comment",
                                file.strip_prefix(root).unwrap_or(&file).display(),
                                i + 1
                            ));
                        }
                    }
                }
            }
            continue;
        }
        for entry in ["src/lib.rs", "src/main.rs"] {
            let file = dir.join(entry);
            if let Ok(text) = std::fs::read_to_string(&file)
                && !text.contains("#![deny(unsafe_code)]")
                && !text.contains("#![forbid(unsafe_code)]")
            {
                problems.push(format!(
                    "{rel}/{entry}: crate outside the platform layer must #![deny(unsafe_code)]"
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

/// The comment lines (and attributes) directly above the statement that line `i` belongs to
/// (a line ending in `=` or `(` continues on the next one, as rustfmt splits long lets), joined.
fn comment_above(lines: &[&str], i: usize) -> String {
    let mut text = String::new();
    for line in lines[..i].iter().rev() {
        let trimmed = line.trim();
        if trimmed.starts_with("//") || trimmed.starts_with("#[") {
            text.push_str(trimmed);
        } else if !(text.is_empty() && (trimmed.ends_with('=') || trimmed.ends_with('('))) {
            break;
        }
    }
    text
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_keeps_unsafe_in_the_platform_layer() {
        unsafe_discipline(&crate::root()).unwrap();
    }

    #[test]
    fn a_crate_without_the_lint_is_reported() {
        let dir = std::env::temp_dir().join(format!("xtask-unsafe-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("components/naughty/src")).unwrap();
        std::fs::create_dir_all(dir.join("kernels")).unwrap();
        std::fs::write(dir.join("components/naughty/src/lib.rs"), "#![no_std]\n").unwrap();
        let err = unsafe_discipline(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err.contains("components/naughty/src/lib.rs"), "{err}");
    }
}
