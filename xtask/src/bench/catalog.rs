//! The benchmarks the program knows, in the order it runs them, with what each measures.
//!
//! The C table in `userland/bench/cases.c` is what runs (with the iteration counts); this
//! list lets the harness refuse a misspelt `--only` before booting anything and gives the
//! reports their descriptions. A test keeps the two in the same order.

/// Which table of the write-up a benchmark belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// The eight of the origin write-up and MEASURING.md.
    Core,
    /// The others.
    Extended,
}

/// One benchmark.
#[derive(Clone, Copy, Debug)]
pub struct Info {
    /// Its name on the `BENCH` lines.
    pub name: &'static str,
    pub group: Group,
    /// What one operation is.
    pub what: &'static str,
}

const fn core(name: &'static str, what: &'static str) -> Info {
    Info {
        name,
        group: Group::Core,
        what,
    }
}

const fn extended(name: &'static str, what: &'static str) -> Info {
    Info {
        name,
        group: Group::Extended,
        what,
    }
}

/// Every benchmark, in the program's order.
pub const CATALOG: &[Info] = &[
    core("getpid", "getpid()"),
    core("read_null", "read of 1 byte from /dev/null"),
    core("write_null", "write of 1 byte to /dev/null"),
    core("pipe", "write 4 KiB + read 4 KiB on one pipe"),
    core("open_close", "open + close of a tmpfs file"),
    core("stat", "stat of a tmpfs file"),
    core(
        "mmap_fault",
        "first touch of an anonymous page (regions of 4096 pages, huge pages declined)",
    ),
    core("fork_exit", "fork + _exit + waitpid"),
    extended(
        "ctx_switch",
        "1-byte ping-pong between two processes over two pipes (round trip)",
    ),
    extended(
        "fork_exec",
        "fork + execve of a tiny static program (no libc) + waitpid",
    ),
    extended("dup_close", "dup + close"),
    extended(
        "clock_gettime",
        "clock_gettime(CLOCK_MONOTONIC) (glibc: vDSO on Linux, syscall on Tessera)",
    ),
    extended("sched_yield", "sched_yield() with nothing else to run"),
    extended(
        "getdents64",
        "lseek to 0 + getdents64 until the end of a tmpfs directory of 64 files",
    ),
    extended(
        "mmap_munmap",
        "mmap + munmap of one anonymous page (untouched)",
    ),
    extended("brk", "brk grow by 64 KiB + shrink back (raw syscall)"),
    extended("sigaction", "sigaction installing a handler"),
    extended(
        "signal_delivery",
        "kill of itself with a handler installed: syscall, delivery, sigreturn",
    ),
    extended("read_zero", "read of 4 KiB from /dev/zero"),
    extended(
        "tmpfs_write",
        "write of a 4 KiB chunk into an emptied 1 MiB tmpfs file",
    ),
    extended("tmpfs_read", "read of a 4 KiB chunk of a 1 MiB tmpfs file"),
];

/// The benchmarks to run for `--only a,b` (in the program's order), or all of them.
pub fn select(only: Option<&str>) -> Result<Vec<&'static str>, String> {
    let Some(list) = only else {
        return Ok(CATALOG.iter().map(|b| b.name).collect());
    };
    let wanted: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if wanted.is_empty() {
        return Err("--only needs at least one benchmark name".into());
    }
    for name in &wanted {
        if !CATALOG.iter().any(|b| b.name == *name) {
            let known: Vec<&str> = CATALOG.iter().map(|b| b.name).collect();
            return Err(format!(
                "--only: unknown benchmark `{name}`; known: {}",
                known.join(", ")
            ));
        }
    }
    Ok(CATALOG
        .iter()
        .map(|b| b.name)
        .filter(|n| wanted.contains(n))
        .collect())
}

/// The catalog entry of `name`.
pub fn info(name: &str) -> Option<&'static Info> {
    CATALOG.iter().find(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in the C table (`{"name", ...}` rows of `benchmarks[]`), in order.
    fn c_table_names() -> Vec<String> {
        let path = crate::root().join("userland/bench/cases.c");
        let text = std::fs::read_to_string(&path).unwrap();
        let table = &text[text
            .find("const struct bench benchmarks[]")
            .expect("the table")..];
        table
            .lines()
            .filter_map(|l| l.trim().strip_prefix("{\""))
            .filter_map(|l| l.split_once('"').map(|(name, _)| name.to_string()))
            .collect()
    }

    #[test]
    fn catalog_matches_the_c_table() {
        let names: Vec<&str> = CATALOG.iter().map(|b| b.name).collect();
        assert_eq!(c_table_names(), names);
        assert_eq!(
            CATALOG.iter().filter(|b| b.group == Group::Core).count(),
            8,
            "the core eight"
        );
    }

    #[test]
    fn only_selects_in_program_order_and_refuses_typos() {
        assert_eq!(select(Some("stat,getpid")).unwrap(), ["getpid", "stat"]);
        assert_eq!(select(None).unwrap().len(), CATALOG.len());
        let err = select(Some("getpid,getpdi")).unwrap_err();
        assert!(err.contains("unknown benchmark `getpdi`"), "{err}");
        assert!(select(Some(",")).is_err());
    }
}
