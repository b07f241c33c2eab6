/*
 * cases.c: the benchmark bodies and the table of benchmarks (see bench.h).
 *
 * Each body checks every result it gets: a benchmark whose system call fails reports an
 * error, never a time. Setup that is not the operation measured (creating files, mapping
 * the region to fault in, starting the ping-pong partner) happens before the clock starts.
 */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
/* mmap_fault touches the pages of regions this large (16 MiB). */
#define FAULT_REGION_PAGES 4096
/* tmpfs_write and tmpfs_read use a 1 MiB file: this many 4 KiB chunks. */
#define FILE_CHUNKS 256
/* getdents64 lists a directory with this many files (plus "." and ".."). */
#define DIR_ENTRIES 64
/* file_fault maps a tmpfs file this large (4 MiB). */
#define FILE_FAULT_PAGES 1024

static char buffer[PAGE];

static const char *loop_getpid(long n, uint64_t *ns)
{
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (getpid() <= 0)
            return failed("getpid");
    *ns += now_ns() - t0;
    return NULL;
}

/* read or write of `size` bytes on `path`, each expected to return `want`. */
static const char *loop_rw(const char *path, int writing, size_t size, ssize_t want, long n,
                           uint64_t *ns)
{
    int fd = open(path, writing ? O_WRONLY : O_RDONLY);
    if (fd < 0)
        return failed(path);
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        ssize_t got = writing ? write(fd, buffer, size) : read(fd, buffer, size);
        if (got != want)
            return got < 0 ? failed(writing ? "write" : "read")
                           : failed_because(writing ? "write" : "read", got, want);
    }
    *ns += now_ns() - t0;
    close(fd);
    return NULL;
}

static const char *loop_read_null(long n, uint64_t *ns)
{
    return loop_rw("/dev/null", 0, 1, 0, n, ns);
}

static const char *loop_write_null(long n, uint64_t *ns)
{
    return loop_rw("/dev/null", 1, 1, 1, n, ns);
}

static const char *loop_read_zero(long n, uint64_t *ns)
{
    return loop_rw("/dev/zero", 0, PAGE, PAGE, n, ns);
}

static const char *loop_pipe(long n, uint64_t *ns)
{
    int p[2];
    if (pipe(p) != 0)
        return failed("pipe");
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        ssize_t w = write(p[1], buffer, PAGE);
        if (w != PAGE)
            return w < 0 ? failed("write") : failed_because("write", w, PAGE);
        ssize_t r = read(p[0], buffer, PAGE);
        if (r != PAGE)
            return r < 0 ? failed("read") : failed_because("read", r, PAGE);
    }
    *ns += now_ns() - t0;
    close(p[0]);
    close(p[1]);
    return NULL;
}

/* A small file in the tmpfs, created once. */
static const char *make_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return failed(path);
    if (write(fd, "tessera\n", 8) != 8)
        return failed("write");
    close(fd);
    return NULL;
}

static const char *loop_open_close(long n, uint64_t *ns)
{
    const char *path = BENCH_DIR "/open_close";
    const char *why = make_file(path);
    if (why)
        return why;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return failed("open");
        if (close(fd) != 0)
            return failed("close");
    }
    *ns += now_ns() - t0;
    return NULL;
}

static const char *loop_stat(long n, uint64_t *ns)
{
    const char *path = BENCH_DIR "/stat";
    const char *why = make_file(path);
    if (why)
        return why;
    struct stat st;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (stat(path, &st) != 0)
            return failed("stat");
    *ns += now_ns() - t0;
    if (st.st_size != 8)
        return failed_because("stat size", st.st_size, 8);
    return NULL;
}

/* First touch of anonymous pages, per page: regions of FAULT_REGION_PAGES, mapped and
 * unmapped outside the timed part. Huge pages are declined so that every 4 KiB page
 * faults on Linux too. */
static const char *loop_mmap_fault(long n, uint64_t *ns)
{
    for (long done = 0; done < n;) {
        long pages = n - done < FAULT_REGION_PAGES ? n - done : FAULT_REGION_PAGES;
        size_t len = (size_t)FAULT_REGION_PAGES * PAGE;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return failed("mmap");
        if (madvise(p, len, MADV_NOHUGEPAGE) != 0 && errno != EINVAL)
            return failed("madvise");
        uint64_t t0 = now_ns();
        for (long i = 0; i < pages; i++)
            ((volatile char *)p)[i * PAGE] = 1;
        *ns += now_ns() - t0;
        if (munmap(p, len) != 0)
            return failed("munmap");
        done += pages;
    }
    return NULL;
}

const char *reap(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return failed("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return failed_because("child wait status", status, 0);
    return NULL;
}

static const char *loop_fork_exit(long n, uint64_t *ns)
{
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return failed("fork");
        if (pid == 0)
            _exit(0);
        const char *why = reap(pid);
        if (why)
            return why;
    }
    *ns += now_ns() - t0;
    return NULL;
}

/* fork + execve of the program `path` + waitpid, per operation. */
static const char *fork_exec_of(const char *path, long n, uint64_t *ns)
{
    char *argv[] = {(char *)path, NULL};
    char *envp[] = {NULL};
    if (access(path, X_OK) != 0)
        return failed(path);
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return failed("fork");
        if (pid == 0) {
            execve(path, argv, envp);
            _exit(127);
        }
        const char *why = reap(pid);
        if (why)
            return why;
    }
    *ns += now_ns() - t0;
    return NULL;
}

static const char *loop_fork_exec(long n, uint64_t *ns)
{
    return fork_exec_of(EXEC_TARGET, n, ns);
}

static const char *loop_fork_exec_2mb(long n, uint64_t *ns)
{
    return fork_exec_of(BIG_TARGET, n, ns);
}

static const char *loop_fork_exec_dynamic(long n, uint64_t *ns)
{
    return fork_exec_of(DYNAMIC_TARGET, n, ns);
}

/* First touch (a read) of a page of a private read-only mapping of a tmpfs file, per
 * page: a file of FILE_FAULT_PAGES pages (page i filled with byte i % 251 + 1) written
 * once, then mapped, touched page by page under the clock and unmapped, as often as
 * needed. Every byte read is checked after the clock. */
static const char *loop_file_fault(long n, uint64_t *ns)
{
    const char *path = BENCH_DIR "/mapped";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return failed("open");
    for (int i = 0; i < FILE_FAULT_PAGES; i++) {
        memset(buffer, i % 251 + 1, PAGE);
        if (pwrite(fd, buffer, PAGE, (off_t)i * PAGE) != PAGE)
            return failed("pwrite");
    }
    size_t len = (size_t)FILE_FAULT_PAGES * PAGE;
    static unsigned char seen[FILE_FAULT_PAGES];
    for (long done = 0; done < n;) {
        long pages = n - done < FILE_FAULT_PAGES ? n - done : FILE_FAULT_PAGES;
        volatile unsigned char *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
            return failed("mmap");
        uint64_t t0 = now_ns();
        for (long i = 0; i < pages; i++)
            seen[i] = p[i * PAGE];
        *ns += now_ns() - t0;
        if (munmap((void *)p, len) != 0)
            return failed("munmap");
        for (long i = 0; i < pages; i++)
            if (seen[i] != i % 251 + 1)
                return failed_because("byte read from the mapped file", seen[i], i % 251 + 1);
        done += pages;
    }
    close(fd);
    return unlink(path) == 0 ? NULL : failed("unlink");
}

/* One byte bounced between two processes over two pipes, per round trip. The partner
 * echoes until its input pipe reaches end of file. */
static const char *loop_ctx_switch(long n, uint64_t *ns)
{
    int there[2], back[2];
    if (pipe(there) != 0 || pipe(back) != 0)
        return failed("pipe");
    pid_t pid = fork();
    if (pid < 0)
        return failed("fork");
    if (pid == 0) {
        close(there[1]);
        close(back[0]);
        char c;
        while (read(there[0], &c, 1) == 1)
            if (write(back[1], &c, 1) != 1)
                _exit(1);
        _exit(0);
    }
    close(there[0]);
    close(back[1]);
    char c = 'x';
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        if (write(there[1], &c, 1) != 1)
            return failed("write");
        if (read(back[0], &c, 1) != 1)
            return failed("read");
    }
    *ns += now_ns() - t0;
    close(there[1]);
    close(back[0]);
    return reap(pid);
}

static const char *loop_dup_close(long n, uint64_t *ns)
{
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        int fd = dup(1);
        if (fd < 0)
            return failed("dup");
        if (close(fd) != 0)
            return failed("close");
    }
    *ns += now_ns() - t0;
    return NULL;
}

static const char *loop_clock_gettime(long n, uint64_t *ns)
{
    struct timespec ts;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
            return failed("clock_gettime");
    *ns += now_ns() - t0;
    return NULL;
}

static const char *loop_sched_yield(long n, uint64_t *ns)
{
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (sched_yield() != 0)
            return failed("sched_yield");
    *ns += now_ns() - t0;
    return NULL;
}

/* epoll_wait on an epoll set of one eventfd that stays readable (level-triggered), per
 * operation: the event checked after the clock. */
static const char *loop_epoll_wait(long n, uint64_t *ns)
{
    int efd = eventfd(1, EFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 42};
    if (efd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) != 0)
        return failed("eventfd/epoll_create1/epoll_ctl");
    struct epoll_event got = {0};
    int ready = 1;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++)
        ready &= epoll_wait(ep, &got, 1, 0) == 1;
    *ns += now_ns() - t0;
    close(ep);
    close(efd);
    if (!ready || got.events != EPOLLIN || got.data.u64 != 42)
        return "epoll_wait did not report the ready eventfd";
    return NULL;
}

/* A directory of DIR_ENTRIES files listed in full (rewound with lseek) per operation. */
static const char *loop_getdents64(long n, uint64_t *ns)
{
    const char *dir = BENCH_DIR "/dir";
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return failed("mkdir");
    for (int i = 0; i < DIR_ENTRIES; i++) {
        char path[64];
        snprintf(path, sizeof path, "%s/entry-%02d", dir, i);
        const char *why = make_file(path);
        if (why)
            return why;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return failed("open");
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        if (lseek(fd, 0, SEEK_SET) != 0)
            return failed("lseek");
        long entries = 0;
        for (;;) {
            long got = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
            if (got < 0)
                return failed("getdents64");
            if (got == 0)
                break;
            for (long at = 0; at < got; entries++)
                at += ((struct dirent64 *)(buffer + at))->d_reclen;
        }
        if (entries != DIR_ENTRIES + 2)
            return failed_because("entries listed", entries, DIR_ENTRIES + 2);
    }
    *ns += now_ns() - t0;
    close(fd);
    return NULL;
}

static const char *loop_mmap_munmap(long n, uint64_t *ns)
{
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return failed("mmap");
        if (munmap(p, PAGE) != 0)
            return failed("munmap");
    }
    *ns += now_ns() - t0;
    return NULL;
}

/* The raw brk system call (glibc's brk() caches the break; this asks the kernel). */
static const char *loop_brk(long n, uint64_t *ns)
{
    uintptr_t base = syscall(SYS_brk, 0);
    uintptr_t grown = base + 16 * PAGE;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        if ((uintptr_t)syscall(SYS_brk, grown) != grown)
            return failed_because("brk grow", 0, 1);
        if ((uintptr_t)syscall(SYS_brk, base) != base)
            return failed_because("brk shrink", 0, 1);
    }
    *ns += now_ns() - t0;
    return NULL;
}

static volatile long delivered;

static void on_signal(int sig)
{
    (void)sig;
    delivered++;
}

static const char *loop_sigaction(long n, uint64_t *ns)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (sigaction(SIGUSR1, &sa, NULL) != 0)
            return failed("sigaction");
    *ns += now_ns() - t0;
    return NULL;
}

/* kill() of the process itself with a handler installed: the signal is delivered on the
 * way back from kill, so one operation is the system call, the delivery and sigreturn. */
static const char *loop_signal_delivery(long n, uint64_t *ns)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        return failed("sigaction");
    pid_t self = getpid();
    delivered = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (kill(self, SIGUSR1) != 0)
            return failed("kill");
    *ns += now_ns() - t0;
    if (delivered != n)
        return failed_because("signals delivered", delivered, n);
    return NULL;
}

/* Writes (or reads) a 1 MiB file in 4 KiB chunks; only the chunks are timed. A write pass
 * starts from an empty file, so every chunk allocates its page. */
static const char *loop_file(int writing, long n, uint64_t *ns)
{
    const char *path = BENCH_DIR "/data";
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0)
        return failed("open");
    if (!writing)
        for (int i = 0; i < FILE_CHUNKS; i++)
            if (pwrite(fd, buffer, PAGE, (off_t)i * PAGE) != PAGE)
                return failed("pwrite");
    for (long done = 0; done < n;) {
        long chunks = n - done < FILE_CHUNKS ? n - done : FILE_CHUNKS;
        if (writing && ftruncate(fd, 0) != 0)
            return failed("ftruncate");
        if (lseek(fd, 0, SEEK_SET) != 0)
            return failed("lseek");
        uint64_t t0 = now_ns();
        for (long i = 0; i < chunks; i++) {
            ssize_t got = writing ? write(fd, buffer, PAGE) : read(fd, buffer, PAGE);
            if (got != PAGE)
                return got < 0 ? failed(writing ? "write" : "read")
                               : failed_because(writing ? "write" : "read", got, PAGE);
        }
        *ns += now_ns() - t0;
        done += chunks;
    }
    close(fd);
    return unlink(path) == 0 ? NULL : failed("unlink");
}

static const char *loop_tmpfs_write(long n, uint64_t *ns)
{
    return loop_file(1, n, ns);
}

static const char *loop_tmpfs_read(long n, uint64_t *ns)
{
    return loop_file(0, n, ns);
}

/* The thread benchmarks (issue 11). Each body starts and joins its own threads, so a
 * warm-up and the timed run are independent; glibc keeps a joined thread's stack for the
 * next one (its stack cache), so thread_create's figure has no mmap in it. */

static void *trivial(void *arg)
{
    return arg;
}

/* pthread_create + pthread_join of a thread that returns its argument, per operation. */
static const char *loop_thread_create(long n, uint64_t *ns)
{
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pthread_t t;
        void *ret = NULL;
        int e = pthread_create(&t, NULL, trivial, (void *)(i + 1));
        if (e != 0)
            return errno = e, failed("pthread_create");
        e = pthread_join(t, &ret);
        if (e != 0)
            return errno = e, failed("pthread_join");
        if (ret != (void *)(i + 1))
            return failed_because("the thread's value", (long)ret, i + 1);
    }
    *ns += now_ns() - t0;
    return NULL;
}

/* futex_pingpong's token: 1 when it is the partner's turn, 0 when the main thread's. */
static int token;
static long partner_rounds;

static long futex_op(int *addr, int op, int val)
{
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

/* The partner: waits for its turn, hands the token back, `n` times. */
static void *pong(void *arg)
{
    long n = (long)arg;
    for (partner_rounds = 0; partner_rounds < n; partner_rounds++) {
        while (__atomic_load_n(&token, __ATOMIC_ACQUIRE) != 1)
            futex_op(&token, FUTEX_WAIT_PRIVATE, 0);
        __atomic_store_n(&token, 0, __ATOMIC_RELEASE);
        futex_op(&token, FUTEX_WAKE_PRIVATE, 1);
    }
    return NULL;
}

/* A token handed to a partner thread and back through raw futex wait and wake, per round
 * trip: on one CPU, two switches and four futex calls (a wake and a wait on each side). */
static const char *loop_futex_pingpong(long n, uint64_t *ns)
{
    token = 0;
    pthread_t t;
    int e = pthread_create(&t, NULL, pong, (void *)n);
    if (e != 0)
        return errno = e, failed("pthread_create");
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        __atomic_store_n(&token, 1, __ATOMIC_RELEASE);
        if (futex_op(&token, FUTEX_WAKE_PRIVATE, 1) < 0)
            return failed("futex wake");
        while (__atomic_load_n(&token, __ATOMIC_ACQUIRE) != 0)
            if (futex_op(&token, FUTEX_WAIT_PRIVATE, 1) < 0 && errno != EAGAIN && errno != EINTR)
                return failed("futex wait");
    }
    *ns += now_ns() - t0;
    e = pthread_join(t, NULL);
    if (e != 0)
        return errno = e, failed("pthread_join");
    if (partner_rounds != n)
        return failed_because("the partner's round trips", partner_rounds, n);
    return NULL;
}

static pthread_mutex_t contended = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t contenders_ready;
static long contended_count;

static void *increment(void *arg)
{
    long n = (long)arg;
    pthread_barrier_wait(&contenders_ready);
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&contended);
        contended_count++;
        pthread_mutex_unlock(&contended);
    }
    return NULL;
}

/* One increment of a shared counter under one pthread mutex, by either of two threads
 * (half each), per operation. The clock runs from the barrier that starts both to the
 * second join. */
static const char *loop_mutex_contended(long n, uint64_t *ns)
{
    contended_count = 0;
    pthread_barrier_init(&contenders_ready, NULL, 3);
    pthread_t t[2];
    for (int k = 0; k < 2; k++) {
        int e = pthread_create(&t[k], NULL, increment, (void *)(k == 0 ? n / 2 : n - n / 2));
        if (e != 0)
            return errno = e, failed("pthread_create");
    }
    uint64_t t0 = now_ns();
    pthread_barrier_wait(&contenders_ready);
    for (int k = 0; k < 2; k++) {
        int e = pthread_join(t[k], NULL);
        if (e != 0)
            return errno = e, failed("pthread_join");
    }
    *ns += now_ns() - t0;
    pthread_barrier_destroy(&contenders_ready);
    if (contended_count != n)
        return failed_because("increments counted", contended_count, n);
    return NULL;
}

/* The core eight first (the benchmarks of Kevlar's blog post "Beating Linux: Syscall
 * Performance in a Rust Kernel", docs/optimizations.md "Sources"), then the extended set,
 * then the thread benchmarks, then the workloads (workloads.c; one operation is one run of the whole workload), then the
 * network benchmarks (net.c; one operation of tcp_tx and tcp_rx is a MB, 10^6 bytes, of one
 * stream). */
const struct bench benchmarks[] = {
    {"getpid", 200000, 2000, 0, loop_getpid},
    {"read_null", 200000, 2000, 0, loop_read_null},
    {"write_null", 200000, 2000, 0, loop_write_null},
    {"pipe", 20000, 200, PAGE, loop_pipe},
    {"open_close", 20000, 200, 0, loop_open_close},
    {"stat", 20000, 200, 0, loop_stat},
    {"mmap_fault", 4 * FAULT_REGION_PAGES, FAULT_REGION_PAGES, 0, loop_mmap_fault},
    {"fork_exit", 1000, 20, 0, loop_fork_exit},
    {"ctx_switch", 20000, 200, 0, loop_ctx_switch},
    {"fork_exec", 300, 10, 0, loop_fork_exec},
    {"dup_close", 100000, 1000, 0, loop_dup_close},
    {"clock_gettime", 200000, 2000, 0, loop_clock_gettime},
    {"sched_yield", 100000, 1000, 0, loop_sched_yield},
    {"epoll_wait", 100000, 1000, 0, loop_epoll_wait},
    {"getdents64", 5000, 50, 0, loop_getdents64},
    {"mmap_munmap", 20000, 200, 0, loop_mmap_munmap},
    {"brk", 20000, 200, 0, loop_brk},
    {"sigaction", 100000, 1000, 0, loop_sigaction},
    {"signal_delivery", 20000, 200, 0, loop_signal_delivery},
    {"read_zero", 20000, 200, PAGE, loop_read_zero},
    {"tmpfs_write", 16 * FILE_CHUNKS, FILE_CHUNKS, PAGE, loop_tmpfs_write},
    {"tmpfs_read", 16 * FILE_CHUNKS, FILE_CHUNKS, PAGE, loop_tmpfs_read},
    {"file_fault", 16 * FILE_FAULT_PAGES, FILE_FAULT_PAGES, 0, loop_file_fault},
    {"fork_exec_2mb", 300, 10, 0, loop_fork_exec_2mb},
    {"fork_exec_dynamic", 300, 10, 0, loop_fork_exec_dynamic},
    {"thread_create", 2000, 20, 0, loop_thread_create},
    {"futex_pingpong", 20000, 200, 0, loop_futex_pingpong},
    {"mutex_contended", 200000, 2000, 0, loop_mutex_contended},
    {"sh_exec", 3, 1, 0, loop_sh_exec},
    {"sh_pipeline", 3, 1, 0, loop_sh_pipeline},
    {"sh_text", 3, 1, 0, loop_sh_text},
    {"file_tree", 3, 1, 0, loop_file_tree},
    {"tar_tree", 3, 1, 0, loop_tar_tree},
    {"hash_gzip", 3, 1, 0, loop_hash_gzip},
    {"make_j4", 3, 1, 0, loop_make_j4},
    {"sh_big_exec", 3, 1, 0, loop_sh_big_exec},
    {"python_startup", 10, 1, 0, loop_python_startup},
    {"bash_script", 10, 1, 0, loop_bash_script},
    {"tcp_tx", 16, 2, 1000000, loop_tcp_tx, 1},
    {"tcp_rx", 16, 2, 1000000, loop_tcp_rx, 1},
    {"tcp_connect", 200, 20, 0, loop_tcp_connect, 1},
    {NULL, 0, 0, 0, NULL, 0},
};
