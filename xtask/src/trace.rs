//! `cargo xtask trace --only BENCHMARK [--a SPEC] [--b SPEC] [--top N]`: where one
//! system-call benchmark's kernel instructions go, function by function, and, with `--b`,
//! how two kernels differ (docs/optimizations.md, section 4).
//!
//! QEMU logs every translation block it executes (`-d exec,nochain`); with one guest
//! instruction per block (`-singlestep`, or `-accel tcg,one-insn-per-tb=on` from QEMU 8.1)
//! that is every instruction, and under icount the counts equal the benchmark's own figure
//! (a `rep` string instruction is one block per iteration, as icount counts it). `-dfilter`
//! keeps the kernel's addresses only; the log (about 100 bytes a line, up to hundreds of
//! millions of lines) goes to QEMU's stderr, a pipe, and is counted per program counter as
//! it arrives; then each address is named by the ELF symbol that contains it.
//!
//! Exact per-operation counts come from two boots of the same kernel: the benchmark program
//! at its quick and at its full iteration counts. Everything but the loop (boot, set-up,
//! the program's other work) is the same in both, so the difference divided by the
//! difference in operations (warm-up included: `iters / 10` of them) is what one operation
//! costs in each function. Linux is refused: its image has no symbols to name.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::Duration;

use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};

use crate::args::Args;
use crate::bench::parse::{self, Outcome};
use crate::bench::target::{self, Prepared, Spec};
use crate::bench::{catalog, program};
use crate::console::tail;
use crate::exit::{Code, Verdict};
use crate::qemu::Mode;
use crate::{kernel, setup};

/// The kernel's half of the address space: what `-dfilter` keeps.
const KERNEL_RANGE: &str = "0xffffffff80000000..0xffffffffffffffff";

/// One traced boot is many times slower than a plain icount run.
const TIMEOUT: Duration = Duration::from_secs(60 * 60);

pub fn trace_command(args: &mut Args) -> Result<Code, String> {
    let a = Spec::parse(&args.value("a")?.unwrap_or_else(|| "fast".into()))?;
    let b = args.value("b")?.map(|s| Spec::parse(&s)).transpose()?;
    let only = args.value("only")?.ok_or(
        "usage: cargo xtask trace --only BENCHMARK [--a SPEC] [--b SPEC] [--top N]".to_string(),
    )?;
    let top = match args.value("top")? {
        Some(n) => n.parse().map_err(|_| format!("--top {n}: a number"))?,
        None => 25,
    };
    args.finish()?;
    let selected = catalog::select(Some(&only))?;
    if selected.len() != 1 || catalog::is_network(selected[0]) {
        return Err(format!(
            "--only {only}: name one system-call benchmark (network ones run in wall time)"
        ));
    }
    let bench = selected[0];
    let programs = program::build()?;
    let mut sides = Vec::new();
    for spec in std::iter::once(&a).chain(&b) {
        if matches!(spec, Spec::Linux) {
            return Err("trace: Linux's image has no symbols to name functions by".into());
        }
        let prepared = target::prepare(spec, 0)?;
        eprintln!("trace: {bench} on {} (two traced boots)", spec.label());
        sides.push((spec.label(), per_operation(&prepared, &programs, bench)?));
    }
    print!("{}", report(bench, &sides, top));
    Ok(Code::Ok)
}

/// Kernel instructions per operation of `bench`, by function.
fn per_operation(
    prepared: &Prepared,
    programs: &program::Programs,
    bench: &str,
) -> Result<HashMap<String, f64>, String> {
    let symbols = Symbols::read(&prepared.image)?;
    let quick = traced_boot(prepared, programs, bench, true)?;
    let full = traced_boot(prepared, programs, bench, false)?;
    let ops = |iters: u64| iters + (iters / 10).max(1);
    let extra = ops(full.iters) as f64 - ops(quick.iters) as f64;
    let mut per_function: HashMap<String, f64> = HashMap::new();
    for (counts, sign) in [(&full.counts, 1.0), (&quick.counts, -1.0)] {
        for (&pc, &n) in counts {
            *per_function.entry(symbols.name(pc)).or_default() += sign * n as f64 / extra;
        }
    }
    per_function.retain(|_, v| v.abs() >= 0.05);
    Ok(per_function)
}

/// What one traced boot counted.
struct Boot {
    /// Executions of each kernel program counter.
    counts: HashMap<u64, u64>,
    /// Timed operations the benchmark reported.
    iters: u64,
}

fn traced_boot(
    prepared: &Prepared,
    programs: &program::Programs,
    bench: &str,
    quick: bool,
) -> Result<Boot, String> {
    let name = format!("trace-{}", if quick { "quick" } else { "full" });
    let args = program::args_text(quick, &[bench], None);
    // A Debian benchmark boots as in `bench`: Debian's tree as the archive, more memory.
    let debian = catalog::is_debian(bench);
    let initrd = if debian {
        let tree = crate::rootfs_boot::tree("debian")?;
        program::debian_initrd(&name, programs, &args, &tree)?
    } else {
        program::initrd(
            &name,
            programs,
            &args,
            &[],
            program::extras_for(programs, &[bench])?,
        )?
    };
    let dir = kernel::target_dir().join("trace");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let console = dir.join(format!("{name}-{}.console", std::process::id()));
    setup::ensure_qemu()?;
    let mut boot = prepared.boot(Mode::Icount, &initrd, false);
    if debian {
        boot.memory_mib = crate::bench::debian::MEMORY_MIB;
    }
    let mut qemu = boot.command();
    qemu.args(one_instruction_per_block()?)
        .args([
            "-d",
            "exec,nochain",
            "-dfilter",
            KERNEL_RANGE,
            "-D",
            "/dev/stderr",
        ])
        .arg("-serial")
        .arg(format!("file:{}", console.display()))
        .args(["-monitor", "none"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = qemu
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", setup::QEMU))?;
    let log = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || count_pcs(log));
    let verdict = crate::console::wait_exit(&mut child, Some(TIMEOUT), None)?;
    let (counts, messages) = reader.join().map_err(|_| "the trace reader panicked")??;
    let output = std::fs::read_to_string(&console).unwrap_or_default();
    if verdict == Verdict::Timeout {
        return Err(format!("traced boot: no end after {TIMEOUT:?}"));
    }
    if verdict != Verdict::Success {
        return Err(format!(
            "traced boot: {}\n{messages}{}",
            verdict.describe(),
            tail(&output, 20)
        ));
    }
    let parsed = parse::parse(&output);
    let problems = parsed.run_problems(&[bench], quick);
    if !problems.is_empty() {
        return Err(format!(
            "traced boot: {}\n{}",
            problems.join("; "),
            tail(&output, 20)
        ));
    }
    match parsed.outcomes_for(&[bench]).remove(0).1 {
        Outcome::Measured(m) => Ok(Boot {
            counts,
            iters: m.iters,
        }),
        Outcome::Failed(why) | Outcome::NotApplicable(why) => Err(format!("{bench}: {why}")),
    }
}

/// QEMU's option for one instruction per translation block: `-singlestep` until 8.0,
/// `-accel tcg,one-insn-per-tb=on` from 8.1 (where `-singlestep` is deprecated).
fn one_instruction_per_block() -> Result<Vec<&'static str>, String> {
    let text =
        setup::qemu_version().ok_or_else(|| format!("cannot run {} --version", setup::QEMU))?;
    let version = text
        .split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .unwrap_or("");
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    Ok(if (major, minor) >= (8, 1) {
        vec!["-accel", "tcg,one-insn-per-tb=on"]
    } else {
        vec!["-singlestep"]
    })
}

/// Counts the program counters of a `-d exec` log as it arrives, and keeps the first lines
/// that are not trace lines (QEMU's own messages). A line reads
/// `Trace 0: 0x... [<cs base>/<pc>/<flags>/<cflags>] ...`.
fn count_pcs(log: impl Read) -> Result<(HashMap<u64, u64>, String), String> {
    let mut counts: HashMap<u64, u64> = HashMap::new();
    let mut messages = String::new();
    for line in BufReader::with_capacity(1 << 20, log).split(b'\n') {
        let line = line.map_err(|e| e.to_string())?;
        match pc_of(&line) {
            Some(pc) => *counts.entry(pc).or_default() += 1,
            None if messages.len() < 4096 => {
                messages.push_str(&String::from_utf8_lossy(&line));
                messages.push('\n');
            }
            None => {}
        }
    }
    Ok((counts, messages))
}

fn pc_of(line: &[u8]) -> Option<u64> {
    let open = line.iter().position(|&c| c == b'[')?;
    let mut fields = line[open + 1..].split(|&c| c == b'/');
    let _cs_base = fields.next()?;
    u64::from_str_radix(std::str::from_utf8(fields.next()?).ok()?, 16).ok()
}

/// The kernel's function symbols, sorted by address.
struct Symbols(Vec<(u64, u64, String)>);

impl Symbols {
    fn read(image: &std::path::Path) -> Result<Symbols, String> {
        let data = std::fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?;
        let file = object::File::parse(&*data).map_err(|e| format!("kernel ELF: {e}"))?;
        // Functions, and the labels of the assembly entry stubs (untyped symbols in a code
        // section); not the linker's `__text_start`-style markers.
        let in_code = |s: &object::Symbol| {
            s.section_index()
                .and_then(|i| file.section_by_index(i).ok())
                .is_some_and(|section| section.kind() == SectionKind::Text)
        };
        let mut symbols: Vec<(u64, u64, String)> = file
            .symbols()
            .filter(|s| matches!(s.kind(), SymbolKind::Text | SymbolKind::Unknown) && in_code(s))
            .filter_map(|s| {
                let name = s.name().ok().filter(|n| !n.starts_with("__"))?;
                Some((
                    s.address(),
                    s.size(),
                    format!("{:#}", rustc_demangle::demangle(name)),
                ))
            })
            .collect();
        symbols.sort();
        Ok(Symbols(symbols))
    }

    /// The function containing `pc` (a symbol of size 0, as assembly labels have, reaches
    /// up to the next symbol).
    fn name(&self, pc: u64) -> String {
        let i = self.0.partition_point(|(start, _, _)| *start <= pc);
        match i.checked_sub(1).map(|i| &self.0[i]) {
            Some((start, size, name)) if *size == 0 || pc < start + size => name.clone(),
            _ => format!("{pc:#x}"),
        }
    }
}

/// The table: one kernel's functions by cost, or two kernels' by difference.
fn report(bench: &str, sides: &[(String, HashMap<String, f64>)], top: usize) -> String {
    let total = |m: &HashMap<String, f64>| m.values().sum::<f64>();
    let mut out =
        format!("kernel instructions per {bench} operation, by function (user mode not counted)\n");
    match sides {
        [(label, a)] => {
            let mut rows: Vec<(&String, &f64)> = a.iter().collect();
            rows.sort_by(|x, y| y.1.total_cmp(x.1).then(x.0.cmp(y.0)));
            out += &format!("{:>10}  {label}: total {:.1}\n", "per op", total(a));
            for (name, n) in rows.into_iter().take(top) {
                out += &format!("{n:>10.1}  {name}\n");
            }
        }
        [(la, a), (lb, b)] => {
            let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
            names.sort();
            names.dedup();
            let get = |m: &HashMap<String, f64>, n: &String| m.get(n).copied().unwrap_or(0.0);
            names.sort_by(|x, y| {
                let d = |n: &String| (get(b, n) - get(a, n)).abs();
                d(y).total_cmp(&d(x)).then(get(a, y).total_cmp(&get(a, x)))
            });
            out += &format!("A = {la}, B = {lb}\n");
            out += &format!(
                "{:>10} {:>10} {:>9}  total\n",
                format!("{:.1}", total(a)),
                format!("{:.1}", total(b)),
                format!("{:+.1}", total(b) - total(a))
            );
            out += &format!("{:>10} {:>10} {:>9}  function\n", "A", "B", "B-A");
            for name in names.into_iter().take(top) {
                let (x, y) = (get(a, name), get(b, name));
                out += &format!("{x:>10.1} {y:>10.1} {:>+9.1}  {name}\n", y - x);
            }
        }
        _ => unreachable!("one or two kernels"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_counters_are_read_from_exec_lines() {
        let line =
            b"Trace 0: 0x7f3c5c000100 [0000000000000000/ffffffff80151230/0000c0b3/ff200000] ";
        assert_eq!(pc_of(line), Some(0xffff_ffff_8015_1230));
        assert_eq!(pc_of(b"Linking TBs 0x1 [ffffffff80151230] index 0"), None);
        assert_eq!(pc_of(b"garbage"), None);
    }

    #[test]
    fn addresses_are_named_by_the_symbol_containing_them() {
        let symbols = Symbols(vec![
            (0x1000, 0x10, "a".into()),
            (0x1020, 0, "label".into()),
            (0x1040, 0x10, "b".into()),
        ]);
        assert_eq!(symbols.name(0x1000), "a");
        assert_eq!(symbols.name(0x100f), "a");
        assert_eq!(symbols.name(0x1010), "0x1010");
        assert_eq!(symbols.name(0x1030), "label");
        assert_eq!(symbols.name(0x1045), "b");
        assert_eq!(symbols.name(0x0fff), "0xfff");
    }

    #[test]
    fn a_comparison_lists_the_largest_differences_first() {
        let a = HashMap::from([("f".to_string(), 100.0), ("g".to_string(), 10.0)]);
        let b = HashMap::from([("f".to_string(), 101.0), ("h".to_string(), 30.0)]);
        let text = report("stat", &[("A".into(), a), ("B".into(), b)], 10);
        let rows: Vec<&str> = text.lines().skip(4).collect();
        assert!(
            rows[0].ends_with("h") && rows[0].contains("+30.0"),
            "{text}"
        );
        assert!(
            rows[1].ends_with("g") && rows[1].contains("-10.0"),
            "{text}"
        );
        assert!(rows[2].ends_with("f") && rows[2].contains("+1.0"), "{text}");
        assert!(text.contains("110.0      131.0     +21.0  total"), "{text}");
    }
}
