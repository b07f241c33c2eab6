//! The benchmarks the program knows, in the order it runs them, with what each measures.
//!
//! The C table in `userland/bench/cases.c` is what runs (with the iteration counts); this
//! list lets the harness refuse a misspelt `--only` before booting anything and gives the
//! reports their descriptions. A test keeps the two in the same order.
//!
//! The network benchmarks ([`Group::Network`]) differ from the others: they need a card and
//! the host peer, so they run in a boot of their own, always in the wall view (see
//! `docs/benchmarks.md`, "Why network figures are wall figures"), and their operation is a
//! megabyte or a connection ([`Op`]), and each names the host peer's count that must
//! back its figure ([`Traffic`]).
//!
//! The workloads ([`Group::Workload`]) are timed per run of the whole workload, and are
//! selected only by name or group (`--only workload`).
//!
//! The Debian benchmarks ([`Group::Debian`]: Debian's python3 and bash) are timed per run
//! too, and need Debian's root file system: they run in a boot of their own whose archive
//! is that tree plus the program, with more memory (`super::debian`), selected only by
//! name or group (`--only debian`).

use super::peer::Traffic;

/// Which group a benchmark belongs to (`--only GROUP` selects it; the JSON reports name it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// The eight core benchmarks: the six of the results table of Kevlar's blog post
    /// "Beating Linux: Syscall Performance in a Rust Kernel" (getpid, read_null, write_null,
    /// pipe, open_close, stat), its page-fault benchmark (mmap_fault), and fork_exit for the
    /// fork benchmark that post reports as disabled.
    Core,
    /// The other system-call benchmarks.
    Extended,
    /// Threads of one process: creation, futex wait and wake, a mutex between two threads.
    Threads,
    /// Whole workloads (BusyBox shell scripts, file-tree work): one operation is one run
    /// of the workload. BusyBox is packed into the archive when one is selected.
    Workload,
    /// Debian's own dynamically linked programs (python3, bash) from Debian's root file
    /// system: one operation is one run of the program. A boot of their own, whose archive
    /// is the Debian tree plus the program, with the memory of a root file system boot.
    Debian,
    /// TCP through the virtio-net card to the host peer: a boot of their own with a card,
    /// wall view only.
    Network,
}

/// What one operation of a benchmark is, for units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A loop iteration: figures per operation (instructions or ns).
    Call,
    /// A megabyte (10^6 bytes) of a stream: time per MB, and MB/s.
    Megabyte,
    /// A connection: time per connection, and connections/s.
    Connection,
}

impl Op {
    /// The unit of a time per operation given in nanoseconds, and the factor to it.
    pub fn time_unit(self) -> (&'static str, f64) {
        match self {
            Op::Call => ("ns/op", 1.0),
            Op::Megabyte => ("ms/MB", 1e-6),
            Op::Connection => ("µs/conn", 1e-3),
        }
    }

    /// The rate for a time per operation in nanoseconds (`None` for calls).
    pub fn rate(self, ns_per_op: f64) -> Option<f64> {
        match self {
            Op::Call => None,
            Op::Megabyte | Op::Connection => Some(1e9 / ns_per_op),
        }
    }

    /// The unit of [`Op::rate`].
    pub fn rate_unit(self) -> &'static str {
        match self {
            Op::Call => "",
            Op::Megabyte => "MB/s",
            Op::Connection => "conn/s",
        }
    }
}

/// One benchmark.
#[derive(Clone, Copy, Debug)]
pub struct Info {
    /// Its name on the `BENCH` lines.
    pub name: &'static str,
    pub group: Group,
    /// What one operation is.
    pub what: &'static str,
    pub op: Op,
    /// Network benchmarks: the host peer's count that must back a figure.
    pub traffic: Option<Traffic>,
}

impl Info {
    /// Whether it is a network benchmark.
    pub fn network(&self) -> bool {
        self.group == Group::Network
    }
}

const fn core(name: &'static str, what: &'static str) -> Info {
    Info {
        name,
        group: Group::Core,
        what,
        op: Op::Call,
        traffic: None,
    }
}

const fn extended(name: &'static str, what: &'static str) -> Info {
    Info {
        name,
        group: Group::Extended,
        what,
        op: Op::Call,
        traffic: None,
    }
}

const fn threads(name: &'static str, what: &'static str) -> Info {
    Info {
        name,
        group: Group::Threads,
        what,
        op: Op::Call,
        traffic: None,
    }
}

const fn workload(name: &'static str, what: &'static str) -> Info {
    Info {
        name,
        group: Group::Workload,
        what,
        op: Op::Call,
        traffic: None,
    }
}

const fn debian(name: &'static str, what: &'static str) -> Info {
    Info {
        name,
        group: Group::Debian,
        what,
        op: Op::Call,
        traffic: None,
    }
}

/// A network benchmark: its figure counts only when the host peer's `traffic` backs it.
const fn network(name: &'static str, op: Op, traffic: Traffic, what: &'static str) -> Info {
    Info {
        name,
        group: Group::Network,
        what,
        op,
        traffic: Some(traffic),
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
        "epoll_wait",
        "epoll_wait with a zero timeout on an epoll set of one readable eventfd (level-triggered)",
    ),
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
    extended(
        "file_fault",
        "first touch (read) of a page of a private read-only mapping of a 4 MiB tmpfs file",
    ),
    extended(
        "fork_exec_2mb",
        "fork + execve of a static program with a 2 MiB text (no libc) + waitpid",
    ),
    extended(
        "fork_exec_dynamic",
        "fork + execve of a dynamically linked glibc program that returns 0 (ld.so maps and \
         relocates libc.so.6, libc starts up) + waitpid",
    ),
    threads(
        "thread_create",
        "pthread_create + pthread_join of a thread that returns its argument",
    ),
    threads(
        "futex_pingpong",
        "a token handed to another thread and back through raw futex wait and wake (round \
         trip: two switches)",
    ),
    threads(
        "mutex_contended",
        "one increment of a shared counter under one pthread mutex, by either of two threads",
    ),
    workload(
        "sh_exec",
        "one run: sh runs /bin/true (BusyBox) 100 times in a loop, fork + execve each",
    ),
    workload(
        "sh_pipeline",
        "one run: sh runs 50 pipelines `echo | cat | tr | grep` (a subshell and three programs each)",
    ),
    workload(
        "sh_text",
        "one run: a script of ten applets (wc, grep, awk, cut, sort, uniq, head, sed, tr, \
         tail) over a generated 20,000-line file",
    ),
    workload(
        "file_tree",
        "one run: 2,000 files in 20 directories created, written, stat'ed, renamed, listed, \
         removed (C, no shell)",
    ),
    workload(
        "tar_tree",
        "one run: tar -c of a tree of 320 files (1.3 MB) and tar -x of it (BusyBox)",
    ),
    workload(
        "hash_gzip",
        "one run: crc32, sha256sum and gzip of a 1 MiB file, then gunzip into crc32 and \
         sha256sum (BusyBox)",
    ),
    workload(
        "make_j4",
        "one run: four shells at once, each running tr on 20 files (a process each), then \
         cat of the 80 outputs into crc32",
    ),
    workload(
        "sh_big_exec",
        "one run: sh runs the static program with a 2 MiB text 100 times in a loop",
    ),
    debian(
        "python_startup",
        "one run: fork + execve of Debian's python3 -c pass (dynamically linked: ld.so, its \
         libraries, the interpreter's start-up and site imports) + wait; exit status 0 and \
         no output checked",
    ),
    debian(
        "bash_script",
        "one run: Debian's bash -c of a fixed script (a 1,000-step loop of arithmetic, array \
         and string operations, a function and a builtin in command substitutions, a while \
         read loop, cut and sort pipelines on a 200-line file), its output checked",
    ),
    network(
        "tcp_tx",
        Op::Megabyte,
        Traffic::Verified,
        "guest -> host: one MB of a 16 MB TCP stream (64 KiB writes) to the host peer, \
         which checks every byte",
    ),
    network(
        "tcp_rx",
        Op::Megabyte,
        Traffic::Sent,
        "host -> guest: one MB of a 16 MB TCP stream (64 KiB reads) from the host peer, \
         every byte checked by the guest after the clock",
    ),
    network(
        "tcp_connect",
        Op::Connection,
        Traffic::Pongs,
        "socket + connect to the host peer + `ping N` / `pong N` (a line each way, N up to \
         10 digits) + close",
    ),
];

impl Group {
    /// Every group, in the program's order.
    pub const ALL: [Group; 6] = [
        Group::Core,
        Group::Extended,
        Group::Threads,
        Group::Workload,
        Group::Debian,
        Group::Network,
    ];

    /// Its name in reports and in `--only` (`--only workload` selects the group).
    pub fn name(self) -> &'static str {
        match self {
            Group::Core => "core",
            Group::Extended => "extended",
            Group::Threads => "threads",
            Group::Workload => "workload",
            Group::Debian => "debian",
            Group::Network => "network",
        }
    }
}

/// Whether a group runs without `--only`: not the workloads nor the Debian benchmarks,
/// which take minutes per boot (asked for by name or with `--only workload`, `--only
/// debian`).
pub fn by_default(group: Group) -> bool {
    !matches!(group, Group::Workload | Group::Debian)
}

/// The benchmarks to run for `--only a,b` (benchmark or group names; in the program's
/// order), or without it those of the groups that run [`by_default`].
pub fn select(only: Option<&str>) -> Result<Vec<&'static str>, String> {
    let Some(list) = only else {
        return Ok(CATALOG
            .iter()
            .filter(|b| by_default(b.group))
            .map(|b| b.name)
            .collect());
    };
    let wanted: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if wanted.is_empty() {
        return Err("--only needs at least one benchmark name".into());
    }
    let group = |name: &str| Group::ALL.into_iter().find(|g| g.name() == name);
    for name in &wanted {
        if group(name).is_none() && !CATALOG.iter().any(|b| b.name == *name) {
            let known: Vec<&str> = CATALOG.iter().map(|b| b.name).collect();
            let groups: Vec<&str> = Group::ALL.iter().map(|g| g.name()).collect();
            return Err(format!(
                "--only: unknown benchmark `{name}`; known: {}; groups: {}",
                known.join(", "),
                groups.join(", ")
            ));
        }
    }
    Ok(CATALOG
        .iter()
        .filter(|b| wanted.contains(&b.name) || wanted.iter().any(|w| group(w) == Some(b.group)))
        .map(|b| b.name)
        .collect())
}

/// Whether `name` is a workload (its run needs BusyBox in the archive).
pub fn is_workload(name: &str) -> bool {
    info(name).is_some_and(|b| b.group == Group::Workload)
}

/// Whether `name` is a Debian benchmark (its run needs the Debian boot).
pub fn is_debian(name: &str) -> bool {
    info(name).is_some_and(|b| b.group == Group::Debian)
}

/// Whether one operation of `name` is one run of a whole program (a workload or a Debian
/// benchmark): reports count runs and give instructions or ns per run.
pub fn per_run(name: &str) -> bool {
    info(name).is_some_and(|b| matches!(b.group, Group::Workload | Group::Debian))
}

/// Operations a benchmark runs untimed before its `iters` timed ones: a tenth, at least one
/// (`run_one` in `userland/bench/bench.c`).
pub fn warm_up(iters: u64) -> u64 {
    (iters / 10).max(1)
}

/// The catalog entry of `name`.
pub fn info(name: &str) -> Option<&'static Info> {
    CATALOG.iter().find(|b| b.name == name)
}

/// Whether `name` is a network benchmark.
pub fn is_network(name: &str) -> bool {
    info(name).is_some_and(Info::network)
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
        let core: Vec<&str> = CATALOG
            .iter()
            .filter(|b| b.group == Group::Core)
            .map(|b| b.name)
            .collect();
        assert_eq!(
            core,
            [
                "getpid",
                "read_null",
                "write_null",
                "pipe",
                "open_close",
                "stat",
                "mmap_fault",
                "fork_exit"
            ],
            "the core eight, first and in their order"
        );
        assert_eq!(names[..8], core[..]);
        // Network rows are flagged in the C table too (the driver sets them up first).
        let text = std::fs::read_to_string(crate::root().join("userland/bench/cases.c")).unwrap();
        for info in CATALOG {
            let row = text
                .lines()
                .find(|l| l.trim().starts_with(&format!("{{\"{}\",", info.name)))
                .unwrap();
            assert_eq!(row.contains(", 1},"), info.network(), "{row}");
        }
    }

    #[test]
    fn warm_up_is_the_programs() {
        let main = std::fs::read_to_string(crate::root().join("userland/bench/bench.c")).unwrap();
        assert!(main.contains("long warm = n / 10 > 0 ? n / 10 : 1;"));
        assert_eq!(
            [warm_up(2), warm_up(16), warm_up(20), warm_up(200)],
            [1, 1, 2, 20]
        );
    }

    #[test]
    fn network_benchmarks_and_only_they_name_their_traffic() {
        for info in CATALOG {
            assert_eq!(info.traffic.is_some(), info.network(), "{}", info.name);
        }
    }

    #[test]
    fn only_selects_in_program_order_and_refuses_typos() {
        assert_eq!(select(Some("stat,getpid")).unwrap(), ["getpid", "stat"]);
        let workloads = select(Some("workload,getpid")).unwrap();
        assert_eq!(workloads[0], "getpid");
        assert_eq!(
            workloads[1..],
            CATALOG
                .iter()
                .filter(|b| b.group == Group::Workload)
                .map(|b| b.name)
                .collect::<Vec<_>>()
        );
        assert!(workloads[1..].iter().all(|n| is_workload(n)));
        let default = select(None).unwrap();
        assert!(default.iter().all(|n| !is_workload(n) && !is_debian(n)));
        assert!(default.contains(&"tcp_tx") && default.contains(&"file_fault"));
        assert!(default.contains(&"thread_create"), "threads: by default");
        assert_eq!(
            default.len(),
            CATALOG.iter().filter(|b| by_default(b.group)).count()
        );
        assert_eq!(
            select(Some("debian")).unwrap(),
            ["python_startup", "bash_script"]
        );
        assert!(per_run("bash_script") && per_run("sh_exec") && !per_run("getpid"));
        assert_eq!(
            select(Some("threads")).unwrap(),
            ["thread_create", "futex_pingpong", "mutex_contended"]
        );
        let err = select(Some("getpid,getpdi")).unwrap_err();
        assert!(err.contains("unknown benchmark `getpdi`"), "{err}");
        assert!(select(Some(",")).is_err());
    }
}
