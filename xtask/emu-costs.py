#!/usr/bin/env python3
"""What a kernel costs QEMU's TCG: QEMU's own counters around one shell workload.

Used for docs/emulator-costs.md (read it for the method and the results). Commands:

  python3 xtask/emu-costs.py initrd
      writes target/emu-costs/emu.cpio: BusyBox (from target/cache/busybox, which any
      `cargo xtask run` fetches), its applets as symlinks, and an /init that mounts proc,
      devtmpfs and tmpfs, then loops: print `@@READY`, read a workload name from the
      console, run it, print `@@DONE`. The same archive boots Tessera and Linux.

  python3 xtask/emu-costs.py run --kernel IMAGE [--append ARGS] [--workloads n,a,a,b,b,c,c]
          [--icount] [--perf none|stat|record|events] [--events EV] [--out DIR] [--label NAME]
      boots IMAGE in QEMU with the flags `cargo xtask run` uses (q35, -cpu max, -smp 1,
      128 MiB, debug-exit device, -no-reboot) plus a monitor socket, and for each workload
      in turn reads the monitor's `info jit` before and after it, times it on the host
      (wall, and QEMU's CPU time and run-queue wait from schedstat), with --icount counts
      guest instructions (QMP query-replay), and with --perf watches QEMU for exactly that
      window: `stat` counts calls of QEMU functions through uprobes (add them once with
      `probes`; --events replaces them, e.g. `task-clock`), `record` samples where QEMU
      spends its time (call graphs), `events` records the given events. --qemu-arg adds QEMU
      arguments, --log-window turns QEMU log items on for the windows only. Prints one JSON
      object per workload and appends them to DIR/LABEL.jsonl.

  python3 xtask/emu-costs.py probes [--delete]
      adds (or deletes) the uprobes on qemu-system-x86_64 that `--perf stat` counts.

  python3 xtask/emu-costs.py table [--cold | --wall] FILE.jsonl...
      per-iteration medians of every counter per kernel (warm runs, or --cold), or with
      --wall the wall and QEMU CPU seconds per workload.

  python3 xtask/emu-costs.py classify [--top N] [--jit-ranges ...] PERF.data...
      the samples of a `--perf record` window by category of QEMU work.

Workloads: n = nothing (the harness's own round trip), a = 300 x /bin/true,
b = 100 x `echo hello | sed s/h/j/ | grep -q jello`, c = 200 files written in /tmp,
`ls -l` of them, `rm -r`. A workload named twice in a row runs twice: the first run is
"cold" (code not yet translated by QEMU), the second "warm".

Needs root for perf's uprobes; the helper addresses and static-function names are those of
Debian 12's QEMU 7.2 binary (DEBIAN_BUILD_ID) and are skipped for any other build.
"""

import argparse
import json
import os
import queue
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
OUT = os.path.join(TARGET, "emu-costs")
QEMU = "qemu-system-x86_64"
# Debian 12's qemu-system-x86 1:7.2+dfsg-7+deb12u18+b3 (stripped; `readelf -n` shows the id).
DEBIAN_BUILD_ID = "d9541fd67c4ea37f9ca7fca0f5096f32b3b7e7e0"

INIT = r"""#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
cd /
while true; do
  echo @@READY
  read w || break
  case "$w" in
    a) i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done ;;
    b) i=0; while [ $i -lt 100 ]; do
         echo hello | sed s/h/j/ | grep -q jello || echo @@FAIL
         i=$((i+1)); done ;;
    c) mkdir /tmp/w; i=0; while [ $i -lt 200 ]; do echo data > /tmp/w/f$i; i=$((i+1)); done
       ls -l /tmp/w > /dev/null; rm -r /tmp/w ;;
    n) ;;
    q) break ;;
  esac
  echo "@@DONE $w"
done
poweroff -f
"""

# QEMU functions counted by `--perf stat` (all exported in Debian's stripped binary).
PROBES = [
    "tb_gen_code",            # one translation of a translation block
    "tb_flush",               # the whole code cache dropped
    "tlb_flush",              # full softmmu TLB flush of a CPU (CR3/CR4/CR0 writes, invpcid...)
    "tlb_flush_by_mmuidx",    # flush of some MMU modes
    "tlb_flush_page",         # one page (invlpg)
    "cpu_x86_update_cr3",     # mov to CR3
    "cpu_x86_update_cr4",     # mov to CR4
    "cpu_x86_update_cr0",     # mov to CR0 (e.g. clts / CR0.TS)
    "x86_cpu_tlb_fill",       # softmmu TLB miss: a guest page-table walk
    "tlb_set_page_full",      # a softmmu TLB entry installed (may be inlined: see next)
    "tlb_set_page_with_attrs",  # the entry point x86 calls to install one
    "do_interrupt_all",       # exceptions (page faults...) and interrupts delivered
    "memory_region_dispatch_read",   # device (port or MMIO) reads
    "memory_region_dispatch_write",  # device (port or MMIO) writes
]


# TCG helpers of the x86 target, which Debian's binary does not export: their addresses in that
# build (DEBIAN_BUILD_ID), found through QEMU's table of helpers (each entry points to the
# function and to its name, e.g. "flush_page", through R_X86_64_RELATIVE relocations).
HELPERS = {
    "helper_write_crN": 0x658f60,   # mov to CR0/CR3/CR4/CR8
    "helper_flush_page": 0x659b40,  # invlpg
    "helper_wrmsr": 0x6591e0, "helper_rdmsr": 0x659640,
    "helper_outb": 0x658e20, "helper_inb": 0x658e40, "helper_outw": 0x658e70,
    "helper_inw": 0x658e90, "helper_outl": 0x658ec0, "helper_inl": 0x658ee0,
    "helper_hlt": 0x659b50,         # the guest idles until an interrupt
    "helper_syscall": 0x65ba70, "helper_sysret": 0x6adcc0,
    "helper_iret_protected": 0x6b3470,
    "helper_rdtsc": 0x6aa060, "helper_cpuid": 0x6a9fb0, "helper_clts": 0x694100,
    "helper_xsave": 0x69b8b0, "helper_xrstor": 0x69b0b0,
    "helper_fxsave": 0x69b910, "helper_fxrstor": 0x69b530,
}


def is_debian_build():
    qemu = subprocess.run(["which", QEMU], capture_output=True, text=True).stdout.strip()
    notes = subprocess.run(["readelf", "-n", qemu], capture_output=True, text=True).stdout
    return DEBIAN_BUILD_ID in notes


def probe_names():
    return PROBES + (list(HELPERS) if is_debian_build() else [])


def cpio_newc(entries):
    """entries: (name, mode, data, rdev_major, rdev_minor) -> bytes of a newc archive."""
    out = bytearray()
    ino = 1
    for name, mode, data, major, minor in entries + [("TRAILER!!!", 0, b"", 0, 0)]:
        nameb = name.encode() + b"\0"
        header = "070701" + "".join(
            "%08X" % v
            for v in [ino, mode, 0, 0, 1, 0, len(data), 0, 0, major, minor, len(nameb), 0]
        )
        out += header.encode() + nameb
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
        ino += 1
    return bytes(out)


def make_initrd():
    busybox = os.path.join(TARGET, "cache/busybox/bin/busybox")
    if not os.path.exists(busybox):
        sys.exit(f"{busybox}: missing (any `cargo xtask run` fetches it)")
    applets = subprocess.run([busybox, "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    entries = [("dev", stat.S_IFDIR | 0o755, b"", 0, 0),
               ("dev/console", stat.S_IFCHR | 0o600, b"", 5, 1)]
    for d in ["proc", "sys", "root", "bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc"]:
        entries.append((d, stat.S_IFDIR | 0o755, b"", 0, 0))
    entries.append(("tmp", stat.S_IFDIR | 0o1777, b"", 0, 0))
    entries.append(("bin/busybox", stat.S_IFREG | 0o755, open(busybox, "rb").read(), 0, 0))
    entries.append(("etc/passwd", stat.S_IFREG | 0o644, b"root:x:0:0:root:/root:/bin/sh\n", 0, 0))
    entries.append(("etc/group", stat.S_IFREG | 0o644, b"root:x:0:\n", 0, 0))
    entries.append(("init", stat.S_IFREG | 0o755, INIT.encode(), 0, 0))
    for applet in applets:
        if applet != "bin/busybox":
            entries.append((applet, stat.S_IFLNK | 0o777, b"/bin/busybox", 0, 0))
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "emu.cpio")
    with open(path, "wb") as f:
        f.write(cpio_newc(entries))
    print(path)


def probes(delete):
    qemu = subprocess.run(["which", QEMU], capture_output=True, text=True).stdout.strip()
    for name in probe_names():
        if delete:
            cmd = ["perf", "probe", "-q", "-d", f"probe_qemu:{name}"]
        elif name in HELPERS:
            cmd = ["perf", "probe", "-q", "-x", qemu, "-a", f"{name}={HELPERS[name]:#x}"]
        else:
            cmd = ["perf", "probe", "-q", "-x", qemu, "-a", name]
        subprocess.run(cmd)


class Monitor:
    def __init__(self, path):
        for _ in range(200):
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("no monitor")
        self.read_prompt()

    def read_prompt(self):
        data = b""
        while not data.endswith(b"(qemu) "):
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace")

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\n")
        text = self.read_prompt()
        text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
        return text


class Qmp:
    """QMP, for the instruction count under -icount (query-replay reports it in any mode)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.file = self.sock.makefile("rw")
        self.file.readline()
        self.call("qmp_capabilities")

    def call(self, command):
        self.file.write(json.dumps({"execute": command}) + "\n")
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "return" in reply or "error" in reply:
                return reply

    def icount(self):
        return self.call("query-replay")["return"]["icount"]


def parse_jit(text):
    """The counters of `info jit` (QEMU 7.2) as a dict."""
    out = {}
    for key, pat in [
        ("tb_count", r"TB count\s+(\d+)"),
        ("tb_flushes", r"TB flush count\s+(\d+)"),
        ("tb_invalidations", r"TB invalidate count\s+(\d+)"),
        ("tlb_full_flushes", r"TLB full flushes\s+(\d+)"),
        ("tlb_partial_flushes", r"TLB partial flushes\s+(\d+)"),
        ("tlb_elided_flushes", r"TLB elided flushes\s+(\d+)"),
        ("gen_code_bytes", r"gen code size\s+(\d+)"),
    ]:
        m = re.search(pat, text)
        if m:
            out[key] = int(m.group(1))
    return out


def sched_totals(pid):
    """Over QEMU's threads: ns on a CPU, ns runnable but waiting for one (schedstat), and
    voluntary context switches (sleeps)."""
    run = wait = voluntary = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                a, b, _ = f.read().split()
            run, wait = run + int(a), wait + int(b)
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        voluntary += int(line.split()[1])
        except OSError:
            pass
    return run, wait, voluntary


def wait_attached(pid):
    """Waits until perf has opened its events (its count of perf_event descriptors stops
    growing), so that the window counts from its start."""
    last, stable = -1, 0
    for _ in range(600):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            count = sum(1 for fd in fds
                        if "perf_event" in os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            count = 0
        stable = stable + 1 if count == last and count > 0 else 0
        if stable >= 5:
            break
        last = count
        time.sleep(0.1)
    time.sleep(0.2)


def run(args):
    image = os.path.abspath(args.kernel)
    initrd = args.initrd or os.path.join(OUT, "emu.cpio")
    sock = tempfile.mktemp(prefix="emu-costs-", suffix=".sock")
    cmd = [QEMU, "-machine", "q35", "-cpu", "max", "-smp", "1", "-m", f"{args.memory}M",
           "-kernel", image, "-append", args.append, "-display", "none", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-initrd", initrd,
           "-serial", "stdio", "-monitor", f"unix:{sock},server,nowait"]
    qmp_path = sock + ".qmp"
    cmd += args.qemu_arg
    if args.icount:
        # sleep=on: an idle guest's clock follows the host's, so the moments the harness
        # waits between workloads add no burst of timer ticks (with sleep=off they would).
        cmd += ["-icount", f"shift=0,align=off,sleep={args.icount_sleep}",
                "-qmp", f"unix:{qmp_path},server,nowait"]
    qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    lines = queue.Queue()
    log = []

    def reader():
        for raw in qemu.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            log.append(line)
            if args.show:
                print(line, file=sys.stderr)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=reader, daemon=True).start()

    def wait_for(prefix, timeout):
        end = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                sys.stderr.write("\n".join(log[-30:]) + "\n")
                qemu.kill()
                raise SystemExit(f"no {prefix!r} from the guest")
            if line.strip().startswith(prefix):
                return time.monotonic()
            if time.monotonic() > end:
                qemu.kill()
                raise SystemExit(f"timeout waiting for {prefix!r}")

    wait_for("@@READY", 300)
    mon = Monitor(sock)
    qmp = Qmp(qmp_path) if args.icount else None
    os.makedirs(args.out, exist_ok=True)
    results = []
    previous = None
    for index, workload in enumerate(args.workloads.split(",")):
        warm = workload == previous
        previous = workload
        tag = f"{args.label}-{index}-{workload}"
        before = parse_jit(mon.cmd("info jit"))
        perf = None
        control = None
        if args.perf == "stat":
            # Opened disabled (-D -1) and enabled through the control FIFO once attached, so
            # that only the workload's window counts (not the guest idling meanwhile).
            fifo = os.path.join(tempfile.mkdtemp(prefix="emu-costs-"), "ctl")
            os.mkfifo(fifo)
            os.mkfifo(fifo + ".ack")
            events = args.events or ",".join(f"probe_qemu:{p}" for p in probe_names())
            perf = subprocess.Popen(["perf", "stat", "-x", ",", "-e", events, "-e", "task-clock",
                                     "-D", "-1", "--control", f"fifo:{fifo},{fifo}.ack",
                                     "-p", str(qemu.pid), "-o",
                                     os.path.join(args.out, tag + ".stat")])
            control = (open(fifo, "w"), open(fifo + ".ack"))
        elif args.perf == "events":
            perf = subprocess.Popen(["perf", "record", "-q", "-e", args.events,
                                     "-p", str(qemu.pid), "-o",
                                     os.path.join(args.out, tag + ".data")],
                                    stderr=subprocess.DEVNULL)
        elif args.perf == "record":
            perf = subprocess.Popen(["perf", "record", "-q", "-F", str(args.freq), "--call-graph", "dwarf",
                                     "-p", str(qemu.pid), "-o",
                                     os.path.join(args.out, tag + ".data")],
                                    stderr=subprocess.DEVNULL)
        if perf:
            wait_attached(perf.pid)

        def tell(command):
            control[0].write(command + "\n")
            control[0].flush()
            control[1].readline()

        icount0 = qmp.icount() if qmp else 0
        if args.log_window:
            mon.cmd(f"log {args.log_window}")
        if control:
            tell("enable")
        sched0 = sched_totals(qemu.pid)
        t0 = time.monotonic()
        qemu.stdin.write(workload.encode() + b"\n")
        qemu.stdin.flush()
        t1 = wait_for("@@DONE", 3600)
        sched1 = sched_totals(qemu.pid)
        if control:
            tell("disable")
        icount1 = qmp.icount() if qmp else 0
        if args.log_window:
            mon.cmd("log none")
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        if control:
            for f in control:
                f.close()
            for path in (fifo, fifo + ".ack"):
                os.unlink(path)
            os.rmdir(os.path.dirname(fifo))
        after = parse_jit(mon.cmd("info jit"))
        wait_for("@@READY", 60)
        result = {"label": args.label, "workload": workload, "warm": warm,
                  "seconds": round(t1 - t0, 4),
                  "guest_instructions": icount1 - icount0 if qmp else None,
                  "host": {"cpu_s": round((sched1[0] - sched0[0]) / 1e9, 4),
                           "runqueue_wait_s": round((sched1[1] - sched0[1]) / 1e9, 4),
                           "sleeps": sched1[2] - sched0[2]},
                  "jit": {k: after[k] - before.get(k, 0) for k in after}}
        if args.perf == "stat":
            counts = {}
            for row in open(os.path.join(args.out, tag + ".stat")):
                parts = row.strip().split(",")
                if len(parts) > 2 and parts[2]:
                    name = parts[2].split(":")[-1]
                    try:
                        counts[name] = float(parts[0])
                    except ValueError:
                        counts[name] = None
            result["calls"] = counts
        print(json.dumps(result), flush=True)
        results.append(result)
    if any("@@FAIL" in line for line in log):
        print("warning: a pipeline failed", file=sys.stderr)
    qemu.stdin.write(b"q\n")
    qemu.stdin.flush()
    try:
        qemu.wait(timeout=30)
    except subprocess.TimeoutExpired:
        qemu.kill()
    for path in (sock, qmp_path):
        try:
            os.unlink(path)
        except OSError:
            pass
    with open(os.path.join(args.out, args.label + ".jsonl"), "a") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")


# Where a perf sample of QEMU goes: the first rule (in this order) that names a function of
# its call chain (leaf to root; the chain ends at the first frame in translated code).
CATEGORIES = [
    ("translate", ["tb_gen_code", "tcg_gen_code", "gen_intermediate_code"]),
    ("code-page write", ["tb_invalidate_phys_page_fast", "page_collection_lock",
                         "page_collection_unlock", "tb_invalidate_phys_range",
                         "tb_invalidate_phys_page", "tb_phys_invalidate", "tlb_reset_dirty",
                         "notdirty_write"]),
    ("TLB flush", ["tlb_flush", "tlb_flush_by_mmuidx", "tlb_flush_by_mmuidx_async_work", "tlb_flush_page", "tlb_flush_page_by_mmuidx",
                   "tcg_flush_jmp_cache", "cpu_x86_update_cr3", "cpu_x86_update_cr4"]),
    ("TLB refill", ["x86_cpu_tlb_fill", "tlb_set_page_full", "tlb_set_page_with_attrs",
                    "tlb_set_page", "mmu_translate"]),
    ("device I/O", ["memory_region_dispatch_read", "memory_region_dispatch_write"]),
    ("interrupt/exception", ["do_interrupt_all", "x86_cpu_do_interrupt",
                             "do_interrupt_x86_hardirq", "x86_cpu_exec_interrupt",
                             "cpu_restore_state", "cpu_restore_state_from_tb", "tcg_tb_lookup",
                             "raise_exception", "raise_exception_err", "raise_exception_err_ra",
                             "raise_exception_ra", "cpu_loop_exit_restore", "raise_interrupt2"]),
    ("TB lookup", ["qht_lookup_custom", "tb_htable_lookup", "helper_lookup_tb_ptr",
                   "tb_lookup", "tb_lookup_cmp"]),
    ("softmmu slow path", ["helper_le_ldq_mmu", "helper_le_stq_mmu", "helper_le_ldul_mmu",
                           "helper_le_stl_mmu", "helper_le_lduw_mmu", "helper_le_stw_mmu",
                           "helper_ret_ldub_mmu", "helper_ret_stb_mmu", "probe_access_full",
                           "probe_access", "probe_access_flags"]),
]


# Static (unexported) functions of Debian's build of QEMU (DEBIAN_BUILD_ID), by start address
# (from .eh_frame), named from what they call: only for that build.
STATIC_FUNCTIONS = {
    0x7d8590: "helper_lookup_tb_ptr", 0x7d7ef0: "tb_lookup", 0x7d8060: "tb_lookup_cmp",
    0x6572c0: "mmu_translate", 0x7e2910: "tlb_flush_by_mmuidx_async_work",
    0x7e5bf0: "notdirty_write", 0x693ea0: "raise_interrupt2",
}


def qemu_function_starts():
    """Start addresses of the functions of QEMU's binary (.eh_frame), if it is Debian's build."""
    if not is_debian_build():
        return []
    qemu = subprocess.run(["which", QEMU], capture_output=True, text=True).stdout.strip()
    frames = subprocess.run(["readelf", "--debug-dump=frames", qemu], capture_output=True,
                            text=True).stdout
    return sorted(int(m.group(1), 16) for m in re.finditer(r"FDE cie=\S+ pc=([0-9a-f]+)\.\.", frames))


def parse_ranges(text):
    """`name=OFFSET+SIZE,...` (hex) -> [(start, end, name)]: offsets of translated blocks in
    QEMU's code buffer (from a `-d in_asm,out_asm` log of the same boot: TCG translates a
    deterministic boot into the same offsets every time)."""
    ranges = []
    for item in filter(None, (text or "").split(",")):
        name, span = item.split("=")
        start, size = span.split("+")
        ranges.append((int(start, 16), int(start, 16) + int(size, 16), name))
    return ranges


def classify(paths, top, jit_ranges=None):
    """Shares of perf samples by category (see CATEGORIES), per perf.data file."""
    import bisect
    starts = qemu_function_starts()

    def name_of(ip, sym, dso):
        if sym == "[unknown]" and dso.endswith("qemu-system-x86_64") and starts:
            addr = int(ip, 16)
            i = bisect.bisect_right(starts, addr) - 1
            if i >= 0:
                return STATIC_FUNCTIONS.get(starts[i], sym)
        return sym

    for path in paths:
        out = subprocess.run(["perf", "script", "-i", path, "-F", "ip,sym,dso"],
                             capture_output=True, text=True).stdout
        counts, leaves, total = {}, {}, 0
        for block in out.split("\n\n"):
            frames = []
            for line in block.strip().splitlines():
                parts = line.split(None, 1)
                if len(parts) < 2:
                    continue
                ip, rest = parts
                sym, _, dso = rest.rpartition(" (")
                dso = dso.rstrip(")")
                frames.append((ip, name_of(ip, sym.strip(), dso), dso))
            if not frames:
                continue
            total += 1
            names = {sym for _, sym, _ in frames}
            category = None
            for name, functions in CATEGORIES:
                if names.intersection(functions):
                    category = name
                    break
            leaf_ip, leaf_sym, leaf_dso = frames[0]
            if category is None:
                if leaf_dso.startswith("/tmp/perf-") or "JIT" in leaf_dso:
                    category = "guest code (JIT)"
                    offset = int(leaf_ip, 16) & 0xFFFFFF  # the buffer is 16 MiB-aligned
                    for start, end, name in parse_ranges(jit_ranges):
                        if start <= offset < end:
                            category = f"guest code (JIT): {name}"
                elif leaf_dso == "[kernel.kallsyms]" or leaf_dso.startswith("[k"):
                    category = "host kernel"
                elif leaf_dso.endswith("qemu-system-x86_64"):
                    category = "QEMU other"
                else:
                    category = "libraries other"
            counts[category] = counts.get(category, 0) + 1
            key = (category, leaf_sym if leaf_sym != "[unknown]" else leaf_ip,
                   os.path.basename(leaf_dso))
            leaves[key] = leaves.get(key, 0) + 1
        print(f"{path}: {total} samples")
        for category, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            print(f"  {100.0 * n / max(total, 1):5.1f}%  {category}")
        if top:
            for (category, sym, dso), n in sorted(leaves.items(), key=lambda kv: -kv[1])[:top]:
                print(f"      {100.0 * n / max(total, 1):5.1f}%  {category:22} {sym} ({dso})")


ITERATIONS = {"a": 300, "b": 100, "c": 1}


def table(paths, warm):
    """Markdown: per iteration of each workload, the median of every counter over the runs."""
    import statistics
    rows = {}
    for path in paths:
        for line in open(path):
            r = json.loads(line)
            if r["workload"] not in ITERATIONS or r["warm"] != warm:
                continue
            label = r["label"].split("-", 1)[1]
            values = dict(r["jit"])
            # Times are left out: counting runs are slowed down by their probes (see --wall).
            values.update({k: v for k, v in (r.get("calls") or {}).items()
                           if v is not None and k != "task-clock"})
            if r.get("guest_instructions"):
                values["guest_instructions"] = r["guest_instructions"]
            rows.setdefault((r["workload"], label), []).append(values)
    for workload in ITERATIONS:
        labels = sorted({l for w, l in rows if w == workload})
        if not labels:
            continue
        n = ITERATIONS[workload]
        keys = []
        for l in labels:
            for v in rows[(workload, l)]:
                keys += [k for k in v if k not in keys]
        print(f"\nworkload {workload}, per iteration ({n}), {'warm' if warm else 'cold'}: "
              "median (runs)")
        print("| counter | " + " | ".join(labels) + " |")
        print("|---|" + "---:|" * len(labels))
        for k in keys:
            cells = []
            for l in labels:
                vals = [v[k] / n for v in rows[(workload, l)] if k in v]
                if not vals:
                    cells.append("")
                    continue
                med = statistics.median(vals)
                txt = f"{med:,.0f}" if med >= 100 else f"{med:,.2f}"
                if len(vals) > 1:
                    txt += f" ({min(vals):,.3g}–{max(vals):,.3g}, {len(vals)})"
                cells.append(txt)
            print(f"| {k} | " + " | ".join(cells) + " |")


def wall_table(paths):
    """Markdown: wall seconds and QEMU CPU seconds (task-clock) per whole workload, median
    (min-max) over the boots, warm runs then cold ones."""
    import statistics
    rows = {}
    for path in paths:
        for line in open(path):
            r = json.loads(line)
            if r["workload"] not in ITERATIONS:
                continue
            cpu = (r.get("calls") or {}).get("task-clock")
            rows.setdefault((r["workload"], r["warm"], r["label"].split("-", 1)[1]), []).append(
                (r["seconds"], cpu / 1000 if cpu else None))

    def fmt(values):
        values = [v for v in values if v is not None]
        if not values:
            return ""
        return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"

    labels = sorted({k for _, _, k in rows})
    for warm in (True, False):
        print(f"\n{'warm' if warm else 'cold'} runs")
        print("| workload | kernel | boots | wall s | QEMU CPU s | CPU / fast's |")
        print("|---|---|---:|---:|---:|---:|")
        for workload in ITERATIONS:
            ref = [c for _, c in rows.get((workload, warm, "fast"), []) if c]
            for label in labels:
                values = rows.get((workload, warm, label))
                if not values:
                    continue
                cpu = [c for _, c in values if c]
                ratio = (f"{statistics.median(cpu) / statistics.median(ref):.2f}"
                         if cpu and ref else "")
                print(f"| {workload} | {label} | {len(values)} | {fmt([w for w, _ in values])} | "
                      f"{fmt(cpu)} | {ratio} |")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("initrd")
    pr = sub.add_parser("probes")
    pr.add_argument("--delete", action="store_true")
    c = sub.add_parser("classify")
    c.add_argument("data", nargs="+")
    c.add_argument("--top", type=int, default=0)
    c.add_argument("--jit-ranges", help="name=OFFSET+SIZE,... (hex) in the code buffer")
    t = sub.add_parser("table")
    t.add_argument("jsonl", nargs="+")
    t.add_argument("--cold", action="store_true")
    t.add_argument("--wall", action="store_true", help="wall and QEMU CPU seconds per workload")
    r = sub.add_parser("run")
    r.add_argument("--kernel", required=True)
    r.add_argument("--append", default="")
    r.add_argument("--initrd")
    r.add_argument("--memory", type=int, default=128)
    r.add_argument("--workloads", default="n,a,a,b,b,c,c")
    r.add_argument("--perf", choices=["none", "stat", "record", "events"], default="none")
    r.add_argument("--events", default="", help="perf record -e EVENTS for --perf events; for --perf stat, instead of every probe")
    r.add_argument("--freq", type=int, default=1999)
    r.add_argument("--icount", action="store_true")
    r.add_argument("--icount-sleep", choices=["on", "off"], default="on")
    r.add_argument("--show", action="store_true", help="copy the console to stderr")
    r.add_argument("--qemu-arg", action="append", default=[],
                   help="one more QEMU argument (repeat), e.g. -dfilter and -D for --log-window")
    r.add_argument("--log-window", help="QEMU log items (monitor `log`) on during each workload")
    r.add_argument("--out", default=os.path.join(OUT, "runs"))
    r.add_argument("--label", default="run")
    args = p.parse_args()
    if args.cmd == "initrd":
        make_initrd()
    elif args.cmd == "table":
        if args.wall:
            wall_table(args.jsonl)
        else:
            table(args.jsonl, not args.cold)
    elif args.cmd == "classify":
        classify(args.data, args.top, args.jit_ranges)
    elif args.cmd == "probes":
        probes(args.delete)
    else:
        run(args)


if __name__ == "__main__":
    main()
