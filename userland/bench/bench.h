/*
 * bench.h: what the benchmark driver (bench.c) and the benchmark bodies (cases.c) share.
 *
 * A benchmark is one row of `benchmarks[]`: a name, two compiled-in iteration counts (full
 * and quick; the same on every kernel, so that two runs are comparable), the bytes one
 * operation moves (throughput benchmarks only) and a body. The body runs `n` operations and
 * adds the nanoseconds it measured to `*ns`; most time the whole loop, some (mmap_fault,
 * tmpfs_write, tmpfs_read) leave their setup out of the timed part. A body returns NULL on
 * success or a message that becomes `BENCH name=X error=<message>`.
 *
 * Workloads (workloads.c) are bodies too: one operation is one run of a whole workload
 * (a BusyBox script or file-tree work), checked after the clock.
 *
 * The Debian benchmarks (debian.c) run Debian's own dynamically linked programs (python3,
 * bash); they need the Debian root file system, which the harness packs only for them.
 *
 * Network benchmarks (`net` set; net.c) talk to the harness's host peer and need
 * net_prepare() to have run in the driver first.
 */
#ifndef TESSERA_BENCH_H
#define TESSERA_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <sys/types.h>

/* One benchmark. */
struct bench {
    const char *name;
    long iters;       /* operations timed in a full run */
    long quick_iters; /* operations timed in a quick run */
    long bytes_per_op;
    const char *(*body)(long n, uint64_t *ns);
    int net; /* a network benchmark */
};

/* Every benchmark, in the order they run; the last entry has a NULL name. */
extern const struct bench benchmarks[];

/* CLOCK_MONOTONIC in nanoseconds (guest instructions under `-icount shift=0`). */
uint64_t now_ns(void);

/* "what: ENOENT" for the current errno, in a static buffer. */
const char *failed(const char *what);

/* A message without errno, in a static buffer. */
const char *failed_because(const char *what, long got, long want);

/* Prints one line on the console with a single write(2). */
__attribute__((format(printf, 1, 2))) void say(const char *fmt, ...);

/* The host peer's address, from the `peer=ADDRESS:PORT` argument; -1 if malformed. */
int net_peer(const char *text);

/* Gets the network ready for the network benchmarks (on Linux: loads the card's modules
 * and configures lo and eth0); a failure becomes their error. Called once, before them. */
void net_prepare(void);

/* Undoes what net_prepare() set up on Linux (eth0 down) before the power-off. */
void net_finish(void);

/* Waits for `pid` and checks that it exited with 0. */
const char *reap(pid_t pid);

/* Where the benchmarks keep their files: a tmpfs. */
#define BENCH_DIR "/tmp/bench"

/* The workloads (workloads.c): one operation is one run of the whole workload. */
const char *loop_sh_exec(long n, uint64_t *ns);
const char *loop_sh_pipeline(long n, uint64_t *ns);
const char *loop_sh_text(long n, uint64_t *ns);
const char *loop_file_tree(long n, uint64_t *ns);
const char *loop_tar_tree(long n, uint64_t *ns);
const char *loop_hash_gzip(long n, uint64_t *ns);
const char *loop_make_j4(long n, uint64_t *ns);
const char *loop_sh_big_exec(long n, uint64_t *ns);

/* What the workloads and the Debian benchmarks share (workloads.c). */
#define IN_DIR BENCH_DIR "/in"
#define OUT_DIR BENCH_DIR "/out"
/* Removes `dir` and everything in it (nothing there is fine), then makes it empty. */
const char *fresh_dir(const char *dir);
/* Writes `len` bytes of `data` into a new file `path`. */
const char *write_file(const char *path, const void *data, size_t len);
/* Runs `path` with `argv` in OUT_DIR and times fork to wait; it must exit 0 and print
 * nothing on stderr. What it printed on stdout is then in `out`. */
const char *run_checked(const char *path, char *const argv[], uint64_t *ns);
extern char out[16384];
/* The output `got` must be `want`; says where they part. */
const char *expect_output(const char *got, const char *want);

/* The Debian benchmarks (debian.c). */
const char *loop_python_startup(long n, uint64_t *ns);
const char *loop_bash_script(long n, uint64_t *ns);

const char *loop_tcp_tx(long n, uint64_t *ns);
const char *loop_tcp_rx(long n, uint64_t *ns);
const char *loop_tcp_connect(long n, uint64_t *ns);

/* The static program fork_exec runs (packed into the initramfs by `cargo xtask bench`). */
#define EXEC_TARGET "/bench-exec-target"

/* The static program with a 2 MiB text that fork_exec_2mb and sh_big_exec run. */
#define BIG_TARGET "/bench-big-target"

/* The dynamically linked program fork_exec_dynamic runs (with ld.so and libc.so.6). */
#define DYNAMIC_TARGET "/bench-dynamic-target"

#endif
