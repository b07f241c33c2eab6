/*
 * fuzz: a seeded random-syscall program, /init of `cargo xtask fuzz` (docs/reliability.md).
 *
 * Process 1 is the supervisor. It reads /fuzz.conf (written by xtask: seed, calls, seconds,
 * batch, log, leak), mounts proc, devtmpfs and tmpfs, and runs batches until the call or time
 * budget is spent. Each batch:
 *
 *   1. the supervisor makes a fresh scratch tree under /tmp/fz (files, a directory, a fifo,
 *      symbolic links, one of them a loop);
 *   2. it forks the batch child, which starts a session of its own, prepares descriptors of
 *      every kind (regular files, directories, an O_PATH one, pipes, Unix socket pairs, inet
 *      sockets, the console, /proc files, /dev/null, /dev/zero, /dev/urandom, the fifo) and
 *      makes up to BATCH_CALLS random system calls for at most BATCH_SECONDS, then
 *      exit_group (a no-op SIGALRM every TICK_USEC, ITIMER_REAL, interrupts calls that
 *      block);
 *   3. the supervisor waits for it, bounded by alarm() (it kills the batch BACKSTOP_SECONDS
 *      after its time is up, whatever the batch did to its own timers), kills every other
 *      process (kill(-1, SIGKILL): the supervisor is init, which kill(-1) spares), reaps them,
 *      puts the console back as it was (termios, output flow, controlling terminal), unmounts
 *      what the batch mounted, removes the System V IPC objects it made, deletes /tmp/fz,
 *      and prints a progress line.
 *
 * Every batch's calls follow from (seed, batch number) alone (splitmix64), and each batch
 * starts from the same scratch tree, so `batch=N` in /fuzz.conf replays one batch; with
 * `log=1` every call is printed before it is made. The last call of each task is kept in a
 * page shared with the supervisor, which prints it when a batch has to be killed.
 *
 * Calls and their arguments: a number from the whole x86_64 table (0..FUZZ_NR_MAX) and, rarely,
 * numbers past it; six arguments, each drawn by a hint of what the call takes (a descriptor,
 * a buffer, a path, a length, flags, a pid, an address...) or, one time in eight, from any
 * kind (the kernel must survive the wrong kind too). The values are boundaries: 0, 1, -1,
 * INT_MIN/MAX, 2^31, 2^32 +- 1, 2^63, 2^64 - 1, small numbers, page sizes, valid pointers
 * (aligned and not) into this program's arena, pointers to its last bytes before an unmapped
 * page, a read-only and a PROT_NONE page, NULL, unmapped, kernel-half and non-canonical
 * addresses, prepared descriptors and bad ones. Buffers are filled with a random shape (bytes,
 * zeros, small integers, iovecs, timespecs, paths, socket addresses, pointer arrays).
 *
 * What is never made (they would end or invalidate the test rather than test the kernel):
 * reboot (powers the machine off), kexec_load and kexec_file_load (replace the kernel),
 * pivot_root (moves the root of every process, the supervisor's too). Restricted: pid
 * arguments (kill, tkill, tgkill, rt_sigqueueinfo, prlimit64, ptrace, process_vm_*, sched_*,
 * ...) are 0, the caller, its process group, a child of the batch or a pid that does not
 * exist, never 1 or -1 (init is the supervisor; kill(-1) would reach beyond the batch if the
 * fuzzer were not init); mount's target is in the scratch tree (a mount on /proc/PID would
 * outlive the directory); batches start in the scratch tree, and files are made under /tmp
 * only, a tmpfs with Linux's limits (the root file system has none, and a kernel heap that
 * runs dry still panics). Made rarely (they end the calling task, which is not what a batch
 * is for): exit, exit_group, rt_sigreturn. fork, vfork, clone and clone3 go through a stub
 * whose child runs a short batch of its own on a fresh stack and exits (so CLONE_VM children
 * never share the caller's stack), at most MAX_CLONES per batch.
 *
 * The loop that makes the calls uses no C library (raw syscall instructions, no stack
 * protector): a call may change the FS base (arch_prctl, CLONE_SETTLS), which glibc's
 * thread pointer and errno live behind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

/* The x86_64 table up to Linux 6.10's mseal. */
#define FUZZ_NR_MAX 462
#define BATCH_CALLS 200
/* Calls a child of a clone-family call makes before it exits. */
#define CHILD_CALLS 24
#define MAX_CLONES 16
/* The batch stops making calls after this; the supervisor kills it BACKSTOP seconds later. */
#define BATCH_SECONDS 2
#define BACKSTOP_SECONDS 3
/* How long processes may take to go after SIGKILL before the supervisor calls it a hang. */
#define REAP_SECONDS 10
/* Blocking calls are interrupted by a SIGALRM this often (a no-op handler): ITIMER_REAL. */
#define TICK_USEC 20000

/* Fixed addresses, out of the way of the program, its stack and its heap. */
#define SHARED_ADDR 0x1f0000000UL
#define ARENA_ADDR 0x200000000UL
#define ARENA_PAGES 16
#define PAGE 4096UL
#define ARENA_END (ARENA_ADDR + ARENA_PAGES * PAGE) /* the guard page: never mapped */
#define RO_PAGE (ARENA_ADDR + 12 * PAGE)           /* PROT_READ */
#define NONE_PAGE (ARENA_ADDR + 13 * PAGE)         /* PROT_NONE */
#define STR_PAGE (ARENA_ADDR + 14 * PAGE)          /* the path strings */
#define DATA_PAGES 12                              /* pages 0..11: buffers */
#define STACKS_ADDR 0x400000000UL
#define STACK_SIZE (16 * PAGE)
#define NSTACKS 16
/* The log's descriptor in every task (a dup of the console). */
#define LOG_FD 200

#define NSLOTS 32

/* ------------------------------------------------------------------ raw system calls */

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define sys0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/*
 * long fz_clone(nr, a0, a1, a2, a3, a4, void (*child)(void)): makes a clone-family call; in
 * the child (return value 0) calls `child` on whatever stack the child got, never returning.
 */
long fz_clone(long nr, long a0, long a1, long a2, long a3, long a4, void (*child)(void));
__asm__(".text\n"
        ".globl fz_clone\n"
        ".type fz_clone, @function\n"
        "fz_clone:\n"
        "    push %rbx\n"
        "    mov 16(%rsp), %rbx\n"
        "    mov %rdi, %rax\n"
        "    mov %rsi, %rdi\n"
        "    mov %rdx, %rsi\n"
        "    mov %rcx, %rdx\n"
        "    mov %r8, %r10\n"
        "    mov %r9, %r8\n"
        "    xor %r9d, %r9d\n"
        "    syscall\n"
        "    test %rax, %rax\n"
        "    jnz 1f\n"
        "    and $-16, %rsp\n"
        "    xor %ebp, %ebp\n"
        "    call *%rbx\n"
        "    ud2\n"
        "1:  pop %rbx\n"
        "    ret\n"
        ".size fz_clone, .-fz_clone\n");

/* ------------------------------------------------------------------ the shared page */

struct slot {
    volatile uint64_t nr, arg[6], ret;
    volatile uint64_t batch, index;
    volatile int32_t pid;
    volatile int32_t busy; /* 1 while the call runs */
};

struct shared {
    volatile uint64_t calls;       /* every call made, all batches */
    volatile uint64_t batch_calls; /* this batch's */
    volatile uint32_t clones;      /* clone-family calls this batch */
    volatile uint32_t next_slot;
    volatile uint64_t reached[8];     /* numbers called (0..511) */
    volatile uint64_t implemented[8]; /* numbers that returned something but ENOSYS */
    struct slot slot[NSLOTS];
};

static struct shared *const shared = (struct shared *)SHARED_ADDR;

/* ------------------------------------------------------------------ configuration */

static uint64_t conf_seed = 1;
static uint64_t conf_calls = 10000;
static uint64_t conf_seconds = 0; /* 0: no time budget */
static long conf_batch = -1;      /* >= 0: run that batch only */
static int conf_log = 0;
static char conf_leak[64] = "none";

/* ------------------------------------------------------------------ the generator */

struct rng {
    uint64_t s;
};

static uint64_t next(struct rng *r)
{
    /* splitmix64 */
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t below(struct rng *r, uint64_t n)
{
    return n ? next(r) % n : 0;
}

static int chance(struct rng *r, int one_in)
{
    return below(r, one_in) == 0;
}

/* What every task of a batch knows: its descriptors and the batch's identity. */
#define MAX_FDS 40
static int fds[MAX_FDS];
static int nfds;
static int batch_pgid;
static uint64_t batch_no;
/* Descriptors calls returned lately (a ring): later calls use them too. */
static volatile int recent_fds[8];
static volatile uint32_t recent_next;
static volatile int last_child;

/* The path strings in STR_PAGE, each at a known offset. */
#define MAX_STRS 48
static uint64_t strs[MAX_STRS];
static int nstrs;
static int nscratch; /* the first nscratch strings are in the scratch tree */

static const char *const scratch_paths[] = {
    "/tmp/fz/file", "/tmp/fz/ro", "/tmp/fz/d", "/tmp/fz/d/sub", "/tmp/fz/new",
    "/tmp/fz/link", "/tmp/fz/dlink", "/tmp/fz/loop", "/tmp/fz/fifo", "/tmp/fz/sock",
    "/tmp/fz/d/", "/tmp/fz/d/../file", "/tmp/fz/nonexistent/x", "/tmp/fz/script",
    "/tmp/fz", "file", "d", "new", "link", "sub", "fifo", ".", "",
};
static const char *const other_paths[] = {
    "/proc/self/stat", "/proc/self/maps", "/proc/meminfo", "/proc/self/fd/3",
    "/proc/self/fd", "/proc/self/exe", "/proc/kmsg", "/proc/self/mounts", "/proc/uptime",
    "tmpfs", "proc", "devtmpfs", "ext4",
};

static const uint64_t boundaries[] = {
    0,
    1,
    2,
    3,
    -1UL,
    (uint64_t)INT_MAX,
    (uint64_t)(int64_t)INT_MIN,
    0x80000000UL,
    0xffffffffUL,
    0x100000000UL,
    0x100000001UL,
    0xfffffffeUL,
    0x8000000000000000UL,
    0x7fffffffffffffffUL,
    -2UL,
    4095,
    4096,
    4097,
    65536,
    0x7fffffff000UL,
    255,
    256,
    1024,
    -4096UL,
};

static uint64_t boundary(struct rng *r)
{
    return boundaries[below(r, sizeof boundaries / sizeof boundaries[0])];
}

static const uint64_t bad_addresses[] = {
    0,
    1,
    0x1000,
    0xffff800000000000UL, /* kernel half: the direct map */
    0xffffffff80000000UL, /* kernel half: the kernel image */
    0xfffffffffffff000UL,
    -1UL,
    0x0000800000000000UL, /* the first non-canonical address */
    0x8000000000000000UL,
    0xdead000000000000UL,
    0x00007ffffffff000UL, /* the last user page */
    ARENA_END,            /* the guard page */
    ARENA_END + 4096,
    0x500000000UL, /* unmapped */
    NONE_PAGE,
};

static uint64_t bad_address(struct rng *r)
{
    return bad_addresses[below(r, sizeof bad_addresses / sizeof bad_addresses[0])];
}

static uint64_t small_int(struct rng *r)
{
    return below(r, 17);
}

static uint64_t flags_value(struct rng *r)
{
    switch (below(r, 4)) {
    case 0:
        return 1UL << below(r, 32);
    case 1:
        return next(r) & next(r) & 0xffffffffUL;
    case 2:
        return next(r) & 0xfff;
    default:
        return boundary(r);
    }
}

static uint64_t length(struct rng *r)
{
    switch (below(r, 4)) {
    case 0:
        return small_int(r);
    case 1:
        return below(r, 1 << 16);
    case 2:
        return PAGE * below(r, 5);
    default:
        return boundary(r);
    }
}

/* Fills `n` bytes at `p` (inside the data pages) with one of the shapes. */
static void fill(struct rng *r, uint8_t *p, size_t n)
{
    uint64_t *w = (uint64_t *)p;
    size_t words = n / 8;
    switch (below(r, 10)) {
    case 0:
        for (size_t i = 0; i < words; i++)
            w[i] = next(r);
        break;
    case 1:
        for (size_t i = 0; i < n; i++)
            p[i] = 0;
        break;
    case 2: { /* small integers, 32-bit */
        uint32_t *v = (uint32_t *)p;
        for (size_t i = 0; i < n / 4; i++)
            v[i] = below(r, 17);
        break;
    }
    case 3:
        for (size_t i = 0; i < words; i++)
            w[i] = boundary(r);
        break;
    case 4: /* iovecs into the data pages */
        for (size_t i = 0; i + 1 < words; i += 2) {
            w[i] = ARENA_ADDR + below(r, DATA_PAGES * PAGE);
            w[i + 1] = chance(r, 4) ? boundary(r) : below(r, 512);
        }
        break;
    case 5: /* timespecs: small, boundary, or invalid */
        for (size_t i = 0; i + 1 < words; i += 2) {
            w[i] = chance(r, 3) ? boundary(r) : below(r, 2);
            w[i + 1] = chance(r, 3) ? boundary(r) : below(r, 1000000000);
        }
        break;
    case 6: /* a path */
        if (nstrs > 0) {
            const char *s = (const char *)strs[below(r, nstrs)];
            size_t i = 0;
            for (; i + 1 < n && s[i]; i++)
                p[i] = s[i];
            p[i] = 0;
        }
        break;
    case 7: /* a socket address: AF_UNIX with a scratch path, or AF_INET on loopback */
        if (n >= 16) {
            for (size_t i = 0; i < n; i++)
                p[i] = 0;
            if (chance(r, 2)) {
                p[0] = AF_UNIX;
                memcpy(p + 2, "/tmp/fz/sock", 13);
            } else {
                p[0] = chance(r, 8) ? (uint8_t)below(r, 46) : AF_INET;
                p[2] = (uint8_t)below(r, 4);
                p[3] = (uint8_t)below(r, 256);
                p[4] = 127;
                p[7] = 1;
            }
        }
        break;
    case 8: /* a NULL-terminated array of pointers to strings (argv, envp) */
        for (size_t i = 0; i < words; i++)
            w[i] = (i + 1 == words || chance(r, 6) || nstrs == 0) ? 0 : strs[below(r, nstrs)];
        break;
    default: /* as it is: what the kernel or earlier calls left there */
        break;
    }
}

static uint64_t buffer(struct rng *r)
{
    switch (below(r, 16)) {
    case 0:
    case 1: /* the last bytes before the guard page */
    {
        static const uint64_t back[] = {1, 2, 4, 8, 12, 16, 24, 32, 64, 128, 4095};
        return ARENA_END - back[below(r, sizeof back / sizeof back[0])];
    }
    case 2:
        return RO_PAGE + (chance(r, 2) ? 0 : below(r, PAGE));
    case 3:
        return bad_address(r);
    case 4:
        return ARENA_ADDR + PAGE * below(r, DATA_PAGES);
    default: {
        uint64_t at = ARENA_ADDR + below(r, DATA_PAGES * PAGE - 64);
        if (!chance(r, 4))
            at &= ~7UL;
        size_t room = ARENA_ADDR + DATA_PAGES * PAGE - at;
        fill(r, (uint8_t *)at, room < 512 ? room : 512);
        return at;
    }
    }
}

static uint64_t path(struct rng *r, int scratch_only)
{
    if (!scratch_only && chance(r, 8))
        return chance(r, 2) ? bad_address(r) : ARENA_END - 1 - below(r, 8);
    if (nstrs == 0)
        return 0;
    return strs[below(r, scratch_only ? nscratch : nstrs)];
}

static uint64_t fd_value(struct rng *r)
{
    switch (below(r, 10)) {
    case 0: {
        static const int64_t bad[] = {-1, -100 /* AT_FDCWD */, 1023, 1024, 4095, 4096,
                                      INT_MAX, INT_MIN, 0x100000000L + 3};
        return (uint64_t)bad[below(r, sizeof bad / sizeof bad[0])];
    }
    case 1: {
        int fd = recent_fds[below(r, 8)];
        if (fd > 0)
            return fd;
    }
        /* fall through */
    default:
        return nfds ? (uint64_t)fds[below(r, nfds)] : 0;
    }
}

static int self_pid(void)
{
    return (int)sys0(SYS_getpid);
}

/* A pid the batch may target: never 1 or -1. `wait` allows -1 (any child). */
static uint64_t pid_value(struct rng *r, int wait)
{
    switch (below(r, 8)) {
    case 0:
        return 0;
    case 1:
        return (uint64_t)(int64_t)-batch_pgid;
    case 2:
        return (uint64_t)batch_pgid;
    case 3:
        return last_child > 1 ? (uint64_t)last_child : 0;
    case 4:
        return 0x3fffffff; /* no such process */
    case 5:
        return (uint64_t)(int64_t)INT_MIN;
    case 6:
        return wait ? -1UL : 0x100000000UL + (uint64_t)self_pid();
    default:
        return (uint64_t)self_pid();
    }
}

static uint64_t signal_value(struct rng *r)
{
    return chance(r, 8) ? boundary(r) : below(r, 66);
}

static uint64_t address(struct rng *r)
{
    switch (below(r, 8)) {
    case 0:
        return bad_address(r);
    case 1:
        return ARENA_ADDR + below(r, ARENA_PAGES * PAGE);
    case 2:
        return 0x500000000UL + PAGE * below(r, 64);
    default:
        return ARENA_ADDR + PAGE * below(r, ARENA_PAGES + 1);
    }
}

static uint64_t any_value(struct rng *r)
{
    switch (below(r, 6)) {
    case 0:
        return boundary(r);
    case 1:
        return small_int(r);
    case 2:
        return buffer(r);
    case 3:
        return fd_value(r);
    case 4:
        return flags_value(r);
    default:
        return next(r);
    }
}

/* ------------------------------------------------------------------ what calls take */

/*
 * One letter per argument: F descriptor, P buffer, S path, T path in the scratch tree,
 * L length or offset, I integer or flags, D pid (restricted), W pid for wait (-1 allowed), G
 * signal, A address, N anything. A call without an entry gets six N. D, W and T are never
 * replaced by anything else.
 */
static const char *const hints[FUZZ_NR_MAX + 1] = {
    [SYS_read] = "FPL", [SYS_write] = "FPL", [SYS_open] = "SII", [SYS_close] = "F",
    [SYS_stat] = "SP", [SYS_fstat] = "FP", [SYS_lstat] = "SP", [SYS_poll] = "PLI",
    [SYS_lseek] = "FLI", [SYS_mmap] = "ALIIFL", [SYS_mprotect] = "ALI", [SYS_munmap] = "AL",
    [SYS_brk] = "A", [SYS_rt_sigaction] = "GPPL", [SYS_rt_sigprocmask] = "IPPL",
    [SYS_ioctl] = "FIP", [SYS_pread64] = "FPLL", [SYS_pwrite64] = "FPLL", [SYS_readv] = "FPL",
    [SYS_writev] = "FPL", [SYS_access] = "SI", [SYS_pipe] = "P", [SYS_select] = "IPPPP",
    [SYS_mremap] = "ALLIA", [SYS_msync] = "ALI", [SYS_mincore] = "ALP", [SYS_madvise] = "ALI",
    [SYS_shmget] = "ILI", [SYS_shmat] = "IAI", [SYS_shmctl] = "IIP", [SYS_dup] = "F",
    [SYS_dup2] = "FF", [SYS_nanosleep] = "PP", [SYS_getitimer] = "IP", [SYS_alarm] = "I",
    [SYS_setitimer] = "IPP", [SYS_sendfile] = "FFPL", [SYS_socket] = "III",
    [SYS_connect] = "FPL", [SYS_accept] = "FPP", [SYS_sendto] = "FPLIPL",
    [SYS_recvfrom] = "FPLIPP", [SYS_sendmsg] = "FPI", [SYS_recvmsg] = "FPI",
    [SYS_shutdown] = "FI", [SYS_bind] = "FPL", [SYS_listen] = "FI", [SYS_getsockname] = "FPP",
    [SYS_getpeername] = "FPP", [SYS_socketpair] = "IIIP", [SYS_setsockopt] = "FIIPL",
    [SYS_getsockopt] = "FIIPP", [SYS_execve] = "SPP", [SYS_exit] = "I", [SYS_wait4] = "WPIP",
    [SYS_kill] = "DG", [SYS_uname] = "P", [SYS_semget] = "III", [SYS_semop] = "IPL",
    [SYS_semctl] = "IIIP", [SYS_shmdt] = "A", [SYS_msgget] = "II", [SYS_msgsnd] = "IPLI",
    [SYS_msgrcv] = "IPLII", [SYS_msgctl] = "IIP", [SYS_fcntl] = "FIN", [SYS_flock] = "FI",
    [SYS_fsync] = "F", [SYS_fdatasync] = "F", [SYS_truncate] = "SL", [SYS_ftruncate] = "FL",
    [SYS_getdents] = "FPL", [SYS_getcwd] = "PL", [SYS_chdir] = "S", [SYS_fchdir] = "F",
    [SYS_rename] = "SS", [SYS_mkdir] = "SI", [SYS_rmdir] = "S", [SYS_creat] = "SI",
    [SYS_link] = "SS", [SYS_unlink] = "S", [SYS_symlink] = "SS", [SYS_readlink] = "SPL",
    [SYS_chmod] = "SI", [SYS_fchmod] = "FI", [SYS_chown] = "SII", [SYS_fchown] = "FII",
    [SYS_lchown] = "SII", [SYS_umask] = "I", [SYS_gettimeofday] = "PP", [SYS_getrlimit] = "IP",
    [SYS_getrusage] = "IP", [SYS_sysinfo] = "P", [SYS_times] = "P", [SYS_ptrace] = "IDAP",
    [SYS_syslog] = "IPL", [SYS_setuid] = "I", [SYS_setgid] = "I", [SYS_setpgid] = "DD",
    [SYS_setreuid] = "II", [SYS_setregid] = "II", [SYS_getgroups] = "LP", [SYS_setgroups] = "LP",
    [SYS_setresuid] = "III", [SYS_getresuid] = "PPP", [SYS_setresgid] = "III",
    [SYS_getresgid] = "PPP", [SYS_getpgid] = "D", [SYS_setfsuid] = "I", [SYS_setfsgid] = "I",
    [SYS_getsid] = "D", [SYS_capget] = "PP", [SYS_capset] = "PP", [SYS_rt_sigpending] = "PL",
    [SYS_rt_sigtimedwait] = "PPPL", [SYS_rt_sigqueueinfo] = "DGP", [SYS_rt_sigsuspend] = "PL",
    [SYS_sigaltstack] = "PP", [SYS_utime] = "SP", [SYS_mknod] = "SII", [SYS_personality] = "I",
    [SYS_ustat] = "IP", [SYS_statfs] = "SP", [SYS_fstatfs] = "FP", [SYS_sysfs] = "INN",
    [SYS_getpriority] = "ID", [SYS_setpriority] = "IDI", [SYS_sched_setparam] = "DP",
    [SYS_sched_getparam] = "DP", [SYS_sched_setscheduler] = "DIP",
    [SYS_sched_getscheduler] = "D", [SYS_sched_get_priority_max] = "I",
    [SYS_sched_get_priority_min] = "I", [SYS_sched_rr_get_interval] = "DP",
    [SYS_mlock] = "AL", [SYS_munlock] = "AL", [SYS_mlockall] = "I", [SYS_modify_ldt] = "IPL",
    [SYS_prctl] = "INNNN", [SYS_arch_prctl] = "IN", [SYS_adjtimex] = "P",
    [SYS_setrlimit] = "IP", [SYS_chroot] = "S", [SYS_acct] = "S", [SYS_settimeofday] = "PP",
    [SYS_mount] = "STSIP", [SYS_umount2] = "SI", [SYS_swapon] = "SI", [SYS_swapoff] = "S",
    [SYS_sethostname] = "PL", [SYS_setdomainname] = "PL", [SYS_iopl] = "I",
    [SYS_ioperm] = "LLI", [SYS_init_module] = "PLS", [SYS_delete_module] = "SI",
    [SYS_quotactl] = "ISIP", [SYS_readahead] = "FLL", [SYS_setxattr] = "SSPLI",
    [SYS_lsetxattr] = "SSPLI", [SYS_fsetxattr] = "FSPLI", [SYS_getxattr] = "SSPL",
    [SYS_lgetxattr] = "SSPL", [SYS_fgetxattr] = "FSPL", [SYS_listxattr] = "SPL",
    [SYS_llistxattr] = "SPL", [SYS_flistxattr] = "FPL", [SYS_removexattr] = "SS",
    [SYS_lremovexattr] = "SS", [SYS_fremovexattr] = "FS", [SYS_tkill] = "DG", [SYS_time] = "P",
    [SYS_futex] = "PIIPPI", [SYS_sched_setaffinity] = "DLP", [SYS_sched_getaffinity] = "DLP",
    [SYS_set_thread_area] = "P", [SYS_io_setup] = "IP", [SYS_io_destroy] = "I",
    [SYS_io_getevents] = "IIIPP", [SYS_io_submit] = "IIP", [SYS_io_cancel] = "IPP",
    [SYS_get_thread_area] = "P", [SYS_epoll_create] = "I", [SYS_remap_file_pages] = "ALIII",
    [SYS_getdents64] = "FPL", [SYS_set_tid_address] = "P", [SYS_semtimedop] = "IPLP",
    [SYS_fadvise64] = "FLLI", [SYS_timer_create] = "IPP", [SYS_timer_settime] = "IIPP",
    [SYS_timer_gettime] = "IP", [SYS_timer_getoverrun] = "I", [SYS_timer_delete] = "I",
    [SYS_clock_settime] = "IP", [SYS_clock_gettime] = "IP", [SYS_clock_getres] = "IP",
    [SYS_clock_nanosleep] = "IIPP", [SYS_exit_group] = "I", [SYS_epoll_wait] = "FPII",
    [SYS_epoll_ctl] = "FIFP", [SYS_tgkill] = "DDG", [SYS_utimes] = "SP", [SYS_mbind] = "ALIPLI",
    [SYS_set_mempolicy] = "IPL", [SYS_get_mempolicy] = "PPLAI", [SYS_mq_open] = "SIIP",
    [SYS_mq_unlink] = "S", [SYS_mq_timedsend] = "FPLIP", [SYS_mq_timedreceive] = "FPLPP",
    [SYS_mq_notify] = "FP", [SYS_mq_getsetattr] = "FPP", [SYS_waitid] = "IWPIP",
    [SYS_add_key] = "SSPLI", [SYS_request_key] = "SSSI", [SYS_keyctl] = "INNNN",
    [SYS_ioprio_set] = "IDI", [SYS_ioprio_get] = "ID", [SYS_inotify_init] = "",
    [SYS_inotify_add_watch] = "FSI", [SYS_inotify_rm_watch] = "FI", [SYS_migrate_pages] = "DLPP",
    [SYS_openat] = "FSII", [SYS_mkdirat] = "FSI", [SYS_mknodat] = "FSII",
    [SYS_fchownat] = "FSIII", [SYS_futimesat] = "FSP", [SYS_newfstatat] = "FSPI",
    [SYS_unlinkat] = "FSI", [SYS_renameat] = "FSFS", [SYS_linkat] = "FSFSI",
    [SYS_symlinkat] = "SFS", [SYS_readlinkat] = "FSPL", [SYS_fchmodat] = "FSI",
    [SYS_faccessat] = "FSI", [SYS_pselect6] = "IPPPPP", [SYS_ppoll] = "PLPPL",
    [SYS_unshare] = "I", [SYS_set_robust_list] = "PL", [SYS_get_robust_list] = "DPP",
    [SYS_splice] = "FPFPLI", [SYS_tee] = "FFLI", [SYS_sync_file_range] = "FLLI",
    [SYS_vmsplice] = "FPLI", [SYS_move_pages] = "DLPPPI", [SYS_utimensat] = "FSPI",
    [SYS_epoll_pwait] = "FPIIPL", [SYS_signalfd] = "FPL", [SYS_timerfd_create] = "II",
    [SYS_eventfd] = "I", [SYS_fallocate] = "FILL", [SYS_timerfd_settime] = "FIPP",
    [SYS_timerfd_gettime] = "FP", [SYS_accept4] = "FPPI", [SYS_signalfd4] = "FPLI",
    [SYS_eventfd2] = "II", [SYS_epoll_create1] = "I", [SYS_dup3] = "FFI", [SYS_pipe2] = "PI",
    [SYS_inotify_init1] = "I", [SYS_preadv] = "FPLLL", [SYS_pwritev] = "FPLLL",
    [SYS_rt_tgsigqueueinfo] = "DDGP", [SYS_perf_event_open] = "PDIFI", [SYS_recvmmsg] = "FPLIP",
    [SYS_fanotify_init] = "II", [SYS_fanotify_mark] = "FINFS", [SYS_prlimit64] = "DIPP",
    [SYS_name_to_handle_at] = "FSPPI", [SYS_open_by_handle_at] = "FPI",
    [SYS_clock_adjtime] = "IP", [SYS_syncfs] = "F", [SYS_sendmmsg] = "FPLI", [SYS_setns] = "FI",
    [SYS_getcpu] = "PPP", [SYS_process_vm_readv] = "DPLPLI", [SYS_process_vm_writev] = "DPLPLI",
    [SYS_kcmp] = "DDINN", [SYS_finit_module] = "FSI", [SYS_sched_setattr] = "DPI",
    [SYS_sched_getattr] = "DPLI", [SYS_renameat2] = "FSFSI", [SYS_seccomp] = "IIP",
    [SYS_getrandom] = "PLI", [SYS_memfd_create] = "SI", [SYS_bpf] = "IPL",
    [SYS_execveat] = "FSPPI", [SYS_userfaultfd] = "I", [SYS_membarrier] = "III",
    [SYS_mlock2] = "ALI", [SYS_copy_file_range] = "FPFPLI", [SYS_preadv2] = "FPLLLI",
    [SYS_pwritev2] = "FPLLLI", [SYS_pkey_mprotect] = "ALII", [SYS_pkey_alloc] = "II",
    [SYS_pkey_free] = "I", [SYS_statx] = "FSIIP", [SYS_io_pgetevents] = "IIIPPP",
    [SYS_rseq] = "PLII", [SYS_pidfd_send_signal] = "FGPI", [SYS_io_uring_setup] = "LP",
    [SYS_io_uring_enter] = "FLLIPL", [SYS_io_uring_register] = "FIPL", [SYS_open_tree] = "FSI",
    [SYS_move_mount] = "FSFSI", [SYS_fsopen] = "SI", [SYS_fsconfig] = "FISPI",
    [SYS_fsmount] = "FII", [SYS_fspick] = "FSI", [SYS_pidfd_open] = "DI",
    [SYS_close_range] = "FFI", [SYS_openat2] = "FSPL", [SYS_pidfd_getfd] = "FFI",
    [SYS_faccessat2] = "FSII", [SYS_process_madvise] = "FPLII", [SYS_epoll_pwait2] = "FPIPPL",
    [SYS_mount_setattr] = "FSIPL", [SYS_landlock_create_ruleset] = "PLI",
    [SYS_landlock_add_rule] = "FIPI", [SYS_landlock_restrict_self] = "FI",
    [SYS_memfd_secret] = "I", [SYS_process_mrelease] = "FI", [SYS_futex_waitv] = "PIIPI",
    [SYS_set_mempolicy_home_node] = "ALII",
    /* Newer than these headers: cachestat, fchmodat2, map_shadow_stack, futex_wake,
     * futex_wait, futex_requeue, statmount, listmount, lsm_*, mseal. */
    [451] = "FPPI", [452] = "FSII", [453] = "ALI", [454] = "PIII", [455] = "PIIIPI",
    [456] = "PIII", [457] = "PPLI", [458] = "PPLI", [462] = "ALI",
};

/* Never made: see the header comment. */
static int excluded(long nr)
{
    return nr == SYS_reboot || nr == SYS_kexec_load || nr == SYS_kexec_file_load ||
           nr == SYS_pivot_root;
}

/* Made one time in sixteen they are drawn. */
static int rare(long nr)
{
    return nr == SYS_exit || nr == SYS_exit_group || nr == SYS_rt_sigreturn;
}

static int clone_family(long nr)
{
    return nr == SYS_clone || nr == SYS_fork || nr == SYS_vfork || nr == SYS_clone3;
}

static long pick_nr(struct rng *r)
{
    for (;;) {
        long nr;
        if (chance(r, 50)) {
            static const int64_t beyond[] = {FUZZ_NR_MAX + 1, 512, 1023, 0x40000000L,
                                             0x40000000L + 1, -1, 0x100000000L, INT_MAX};
            nr = beyond[below(r, sizeof beyond / sizeof beyond[0])];
        } else {
            nr = (long)below(r, FUZZ_NR_MAX + 1);
        }
        if (excluded(nr))
            continue;
        if (rare(nr) && !chance(r, 16))
            continue;
        if (clone_family(nr) && shared->clones >= MAX_CLONES)
            continue;
        return nr;
    }
}

static uint64_t arg_value(struct rng *r, char kind)
{
    if (kind != 'D' && kind != 'W' && kind != 'T' && chance(r, 8))
        kind = 'N';
    switch (kind) {
    case 'F':
        return fd_value(r);
    case 'P':
        return buffer(r);
    case 'S':
        return path(r, 0);
    case 'T':
        return path(r, 1);
    case 'L':
        return length(r);
    case 'I':
        return chance(r, 2) ? small_int(r) : flags_value(r);
    case 'D':
        return pid_value(r, 0);
    case 'W':
        return pid_value(r, 1);
    case 'G':
        return signal_value(r);
    case 'A':
        return address(r);
    default:
        return any_value(r);
    }
}

/* ------------------------------------------------------------------ making calls */

static void stat_bit(volatile uint64_t *bits, long nr)
{
    if (nr >= 0 && nr < 512)
        __atomic_fetch_or(&bits[nr / 64], 1UL << (nr % 64), __ATOMIC_RELAXED);
}

static void put_hex(char *buf, int *at, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    buf[(*at)++] = '0';
    buf[(*at)++] = 'x';
    while (n)
        buf[(*at)++] = tmp[--n];
}

static void put_dec(char *buf, int *at, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = '0' + v % 10;
        v /= 10;
    } while (v);
    while (n)
        buf[(*at)++] = tmp[--n];
}

static void put_str(char *buf, int *at, const char *s)
{
    while (*s)
        buf[(*at)++] = *s++;
}

/* `fuzz: call BATCH.INDEX pid PID nr NR args A0 ... A5` on the log descriptor. */
static void log_call(uint64_t index, long nr, const uint64_t *a)
{
    char line[256];
    int at = 0;
    put_str(line, &at, "fuzz: call ");
    put_dec(line, &at, batch_no);
    line[at++] = '.';
    put_dec(line, &at, index);
    put_str(line, &at, " pid ");
    put_dec(line, &at, (uint64_t)self_pid());
    put_str(line, &at, " nr ");
    put_dec(line, &at, (uint64_t)nr);
    put_str(line, &at, " args");
    for (int i = 0; i < 6; i++) {
        line[at++] = ' ';
        put_hex(line, &at, a[i]);
    }
    line[at++] = '\n';
    sys3(SYS_write, LOG_FD, line, at);
}

static void child_main(void);
static uint64_t child_seed;

static void arm_tick(void)
{
    struct itimerval tick = {{0, TICK_USEC}, {0, TICK_USEC}};
    sys3(SYS_setitimer, ITIMER_REAL, &tick, 0);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    sys2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t batch_deadline;

/* Arguments of a clone-family call: a fresh stack whenever the child shares memory. */
static void clone_args(struct rng *r, long nr, uint64_t *a)
{
    uint32_t n = __atomic_fetch_add(&shared->clones, 1, __ATOMIC_RELAXED);
    uint64_t stack_top = STACKS_ADDR + (uint64_t)((n % NSTACKS) + 1) * STACK_SIZE - 64;
    uint64_t flags;
    if (chance(r, 4))
        flags = boundary(r);
    else {
        static const uint64_t some[] = {
            CLONE_VM,      CLONE_FS,     CLONE_FILES,   CLONE_SIGHAND,  CLONE_PIDFD,
            CLONE_PTRACE,  CLONE_VFORK,  CLONE_PARENT,  CLONE_THREAD,   CLONE_NEWNS,
            CLONE_SYSVSEM, CLONE_SETTLS, CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID,
            CLONE_DETACHED, CLONE_UNTRACED, CLONE_CHILD_SETTID, CLONE_NEWPID, CLONE_IO};
        flags = chance(r, 2) ? SIGCHLD : below(r, 65);
        int count = (int)below(r, 5);
        for (int i = 0; i < count; i++)
            flags |= some[below(r, sizeof some / sizeof some[0])];
        if (chance(r, 3))
            flags |= CLONE_VM | CLONE_SIGHAND | CLONE_THREAD;
    }
    uint64_t stack = (flags & CLONE_VM) || chance(r, 4) ? stack_top : 0;
    if (chance(r, 16))
        stack = bad_address(r);
    if (nr == SYS_clone) {
        a[0] = flags;
        a[1] = stack;
        a[2] = buffer(r);             /* parent_tid */
        a[3] = buffer(r);             /* child_tid */
        a[4] = chance(r, 2) ? buffer(r) : next(r); /* tls */
    } else if (nr == SYS_clone3) {
        /* struct clone_args in the data pages */
        uint64_t at = ARENA_ADDR + PAGE * below(r, DATA_PAGES) + 8 * below(r, 64);
        uint64_t *ca = (uint64_t *)at;
        ca[0] = flags & ~0xffUL;
        ca[1] = buffer(r);             /* pidfd */
        ca[2] = buffer(r);             /* child_tid */
        ca[3] = buffer(r);             /* parent_tid */
        ca[4] = chance(r, 4) ? boundary(r) : (flags & 0xff); /* exit_signal */
        ca[5] = stack ? stack - (STACK_SIZE - 128) : 0; /* stack (lowest address) */
        ca[6] = stack ? STACK_SIZE - 128 : (chance(r, 4) ? boundary(r) : 0);
        ca[7] = chance(r, 2) ? buffer(r) : next(r); /* tls */
        ca[8] = chance(r, 4) ? buffer(r) : 0;       /* set_tid */
        ca[9] = chance(r, 4) ? boundary(r) : 0;     /* set_tid_size */
        ca[10] = chance(r, 4) ? boundary(r) : 0;    /* cgroup */
        static const uint64_t sizes[] = {64, 80, 88, 96, 0, 8, 4096, -1UL};
        a[0] = at;
        a[1] = chance(r, 2) ? 88 : sizes[below(r, sizeof sizes / sizeof sizes[0])];
        a[2] = a[3] = a[4] = 0;
    } else {
        for (int i = 0; i < 5; i++)
            a[i] = 0;
    }
    a[5] = 0;
    child_seed = next(r);
}

static void remember_fd(long nr, long ret)
{
    if (ret < 3 || ret > 4096)
        return;
    switch (nr) {
    case SYS_open:
    case SYS_openat:
    case SYS_creat:
    case SYS_dup:
    case SYS_dup2:
    case SYS_dup3:
    case SYS_socket:
    case SYS_accept:
    case SYS_accept4:
    case SYS_epoll_create:
    case SYS_epoll_create1:
    case SYS_eventfd:
    case SYS_eventfd2:
    case SYS_memfd_create:
    case SYS_timerfd_create:
    case SYS_signalfd:
    case SYS_signalfd4:
    case SYS_inotify_init:
    case SYS_inotify_init1:
    case SYS_pidfd_open:
    case SYS_openat2:
    case SYS_fcntl:
        recent_fds[__atomic_fetch_add(&recent_next, 1, __ATOMIC_RELAXED) % 8] = (int)ret;
        break;
    default:
        break;
    }
}

/* Makes up to `count` calls; returns when done or past the batch's deadline. */
static void fuzz_loop(struct rng *r, uint64_t count)
{
    uint32_t slot_no = __atomic_fetch_add(&shared->next_slot, 1, __ATOMIC_RELAXED) % NSLOTS;
    struct slot *slot = &shared->slot[slot_no];
    slot->pid = self_pid();
    for (uint64_t i = 0; i < count; i++) {
        /* The budget is exact: a run of N calls makes N (a reproduction can stop anywhere). */
        if (shared->calls >= conf_calls)
            return;
        if (i % 16 == 0) {
            if (now_ns() > batch_deadline)
                return;
            arm_tick();
        }
        long nr = pick_nr(r);
        uint64_t a[6];
        const char *hint = nr >= 0 && nr <= FUZZ_NR_MAX ? hints[nr] : NULL;
        if (clone_family(nr)) {
            clone_args(r, nr, a);
        } else {
            int known = 0;
            while (hint && known < 6 && hint[known])
                known++;
            for (int k = 0; k < 6; k++)
                a[k] = arg_value(r, k < known ? hint[k] : 'N');
        }
        uint64_t index = __atomic_fetch_add(&shared->batch_calls, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&shared->calls, 1, __ATOMIC_RELAXED);
        slot->batch = batch_no;
        slot->index = index;
        slot->nr = (uint64_t)nr;
        for (int k = 0; k < 6; k++)
            slot->arg[k] = a[k];
        slot->busy = nr != SYS_exit && nr != SYS_exit_group;
        stat_bit(shared->reached, nr);
        if (conf_log)
            log_call(index, nr, a);
        long ret;
        if (clone_family(nr)) {
            ret = fz_clone(nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4],
                           child_main);
            if (ret > 0)
                last_child = (int)ret;
        } else {
            ret = sys6(nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4],
                       (long)a[5]);
        }
        slot->ret = (uint64_t)ret;
        slot->busy = 0;
        if (ret != -ENOSYS)
            stat_bit(shared->implemented, nr);
        remember_fd(nr, ret);
    }
}

/* What a clone-family child runs, on whatever stack it got: a few calls, then exit. */
static void child_main(void)
{
    struct rng r = {child_seed ^ (uint64_t)self_pid()};
    arm_tick();
    fuzz_loop(&r, CHILD_CALLS);
    for (;;)
        sys1(SYS_exit, 0);
}

/* ------------------------------------------------------------------ the batch child */

static void on_signal(int sig)
{
    (void)sig;
}

static void add_fd(int fd)
{
    if (fd >= 0 && nfds < MAX_FDS)
        fds[nfds++] = fd;
}

static void write_strings(void)
{
    char *at = (char *)STR_PAGE;
    nstrs = 0;
    for (size_t i = 0; i < sizeof scratch_paths / sizeof scratch_paths[0]; i++) {
        strs[nstrs++] = (uint64_t)at;
        at = stpcpy(at, scratch_paths[i]) + 1;
    }
    nscratch = nstrs;
    for (size_t i = 0; i < sizeof other_paths / sizeof other_paths[0]; i++) {
        strs[nstrs++] = (uint64_t)at;
        at = stpcpy(at, other_paths[i]) + 1;
    }
    /* A name of 255 bytes (NAME_MAX) and one of 256. */
    for (int len = 255; len <= 256; len++) {
        strs[nstrs++] = (uint64_t)at;
        memset(at, 'n', len);
        at[len] = 0;
        at += len + 1;
    }
}

static void prepare_fds(void)
{
    int sv[2];
    nfds = 0;
    add_fd(open("/tmp/fz/file", O_RDWR));
    add_fd(open("/tmp/fz/ro", O_RDONLY));
    add_fd(open("/tmp/fz", O_RDONLY | O_DIRECTORY));
    add_fd(open("/tmp/fz/d", O_RDONLY | O_DIRECTORY));
    add_fd(open("/tmp/fz/file", O_PATH));
    if (pipe2(sv, O_NONBLOCK) == 0) {
        add_fd(sv[0]);
        add_fd(sv[1]);
    }
    if (pipe(sv) == 0) {
        add_fd(sv[0]);
        add_fd(sv[1]);
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0) {
        add_fd(sv[0]);
        add_fd(sv[1]);
    }
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0) {
        add_fd(sv[0]);
        add_fd(sv[1]);
    }
    add_fd(socket(AF_UNIX, SOCK_STREAM, 0));
    add_fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    add_fd(socket(AF_INET, SOCK_DGRAM, 0));
    add_fd(open("/dev/console", O_RDWR | O_NONBLOCK | O_NOCTTY));
    add_fd(open("/proc/self/stat", O_RDONLY));
    add_fd(open("/proc/meminfo", O_RDONLY));
    add_fd(open("/proc/kmsg", O_RDONLY | O_NONBLOCK));
    add_fd(open("/proc/self", O_RDONLY | O_DIRECTORY));
    add_fd(open("/proc/self/fd", O_RDONLY | O_DIRECTORY));
    add_fd(open("/dev/null", O_RDWR));
    add_fd(open("/dev/zero", O_RDWR));
    add_fd(open("/dev/urandom", O_RDONLY));
    add_fd(open("/tmp/fz/fifo", O_RDWR | O_NONBLOCK));
    add_fd(open("/tmp/fz/new", O_RDWR | O_CREAT | O_APPEND, 0600));
    /* Kinds Tessera may lack (the call fails and adds nothing). */
    add_fd((int)syscall(SYS_epoll_create1, 0));
    add_fd((int)syscall(SYS_eventfd2, 0, 0));
    add_fd((int)syscall(SYS_memfd_create, "fz", 0));
    add_fd((int)syscall(SYS_timerfd_create, CLOCK_MONOTONIC, 0));
}

static void map_fixed(uint64_t addr, size_t len, int prot, int flags)
{
    if (mmap((void *)addr, len, prot, flags | MAP_FIXED, -1, 0) == MAP_FAILED) {
        printf("fuzz: cannot map %#lx: %s\n", (unsigned long)addr, strerror(errno));
        _exit(1);
    }
}

static void batch_child(uint64_t batch)
{
    batch_no = batch;
    setsid();
    batch_pgid = getpid();
    /* Relative paths (and ".") name the scratch tree, not the root. */
    chdir("/tmp/fz");
    struct rng r = {conf_seed ^ (batch * 0xd1342543de82ef95ULL)};
    next(&r);
    /* The arena: data pages, the read-only and PROT_NONE pages, the strings; the guard page
     * after it stays unmapped. The child stacks. */
    map_fixed(ARENA_ADDR, ARENA_PAGES * PAGE, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS);
    munmap((void *)ARENA_END, PAGE);
    map_fixed(STACKS_ADDR, NSTACKS * STACK_SIZE, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS);
    write_strings();
    for (uint64_t *w = (uint64_t *)ARENA_ADDR; w < (uint64_t *)(ARENA_ADDR + DATA_PAGES * PAGE);
         w++)
        *w = next(&r);
    memset((void *)RO_PAGE, 0x5a, PAGE);
    /* The last page holds no NUL: a string there runs into the guard page. */
    memset((void *)(ARENA_END - PAGE), 'x', PAGE);
    mprotect((void *)RO_PAGE, PAGE, PROT_READ);
    mprotect((void *)NONE_PAGE, PAGE, PROT_NONE);
    /* The console stays reachable through one descriptor of the batch's (and the log's). */
    if (conf_log)
        dup2(1, LOG_FD);
    close(0);
    close(1);
    close(2);
    prepare_fds();
    for (int i = 0; i < 8; i++)
        recent_fds[i] = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    for (int sig = 1; sig < 65; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP || sig == SIGSEGV || sig == SIGBUS ||
            sig == SIGILL || sig == SIGFPE || sig == SIGABRT || sig == SIGTRAP || sig == 32 ||
            sig == 33)
            continue;
        sigaction(sig, &sa, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    batch_deadline = now_ns() + BATCH_SECONDS * 1000000000ULL;
    arm_tick();
    fuzz_loop(&r, BATCH_CALLS);
    for (;;)
        sys1(SYS_exit_group, 0);
}

/* ------------------------------------------------------------------ the supervisor */

static struct termios saved_termios;
static int have_termios;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n >= (int)sizeof line)
        n = sizeof line - 1;
    /* A batch may have left half a line on the console. */
    const char *p = line;
    write(1, "\n", 1);
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= w;
    }
}

static void write_file(const char *path, const char *text, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++)
        write(fd, text, strlen(text));
    close(fd);
}

static void make_scratch(void)
{
    mkdir("/tmp/fz", 0755);
    char page[PAGE + 1];
    memset(page, 'f', PAGE);
    page[PAGE] = 0;
    write_file("/tmp/fz/file", page, 0644);
    write_file("/tmp/fz/ro", "read only\n", 0444);
    write_file("/tmp/fz/script", "#!/tmp/fz/script\n", 0755);
    mkdir("/tmp/fz/d", 0755);
    mkdir("/tmp/fz/d/sub", 0700);
    symlink("file", "/tmp/fz/link");
    symlink("d", "/tmp/fz/dlink");
    symlink("loop", "/tmp/fz/loop");
    mknod("/tmp/fz/fifo", S_IFIFO | 0644, 0);
}

/* Removes everything under `dir` (not `dir` itself); returns how many entries it could not. */
static int remove_tree(const char *dir)
{
    int left = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            chmod(path, 0755);
            left += remove_tree(path);
            if (rmdir(path) != 0)
                left++;
        } else if (unlink(path) != 0) {
            left++;
        }
    }
    closedir(d);
    return left;
}

/* The mounts of a fresh system: proc, devtmpfs and tmpfs on /tmp (and the root). */
static char initial_mounts[4096];

static void read_mounts(char *out, size_t size)
{
    out[0] = 0;
    int fd = open("/proc/self/mounts", O_RDONLY);
    if (fd < 0)
        return;
    size_t at = 0;
    ssize_t n;
    while (at + 1 < size && (n = read(fd, out + at, size - 1 - at)) > 0)
        at += n;
    out[at] = 0;
    close(fd);
}

/* Unmounts what batches mounted (the mount points the first reading did not have). */
static void unmount_extra(void)
{
    for (int round = 0; round < 16; round++) {
        char now[8192];
        read_mounts(now, sizeof now);
        /* The last extra mount first: mounts stack in order. */
        char *last = NULL;
        char lastpoint[4096];
        for (char *line = strtok(now, "\n"); line; line = strtok(NULL, "\n")) {
            char point[4096];
            if (sscanf(line, "%*s %4095s", point) != 1)
                continue;
            if (strstr(initial_mounts, line) == NULL) {
                last = line;
                strcpy(lastpoint, point);
            }
        }
        if (!last)
            return;
        if (umount2(lastpoint, MNT_DETACH) != 0) {
            say("fuzz: warning: cannot unmount %s: %s\n", lastpoint, strerror(errno));
            return;
        }
    }
}

/*
 * Removes every System V IPC object (shared memory segments, semaphore sets, message
 * queues): they outlive the processes that made them, on Linux too, so a batch's would
 * otherwise pile up and read as a leak. Each kind's *_INFO command gives the highest slot
 * in use and *_STAT turns a slot into an id (Linux's ipcs does the same); raw system calls,
 * with Linux's command numbers (include/uapi/linux/shm.h, sem.h, msg.h).
 */
static void remove_ipc(void)
{
    static long buf[512];
    enum { IPC_RMID_ = 0, MSG_STAT_ = 11, MSG_INFO_ = 12, SHM_STAT_ = 13, SHM_INFO_ = 14,
           SEM_STAT_ = 18, SEM_INFO_ = 19 };
    long max = syscall(SYS_shmctl, 0, SHM_INFO_, buf);
    for (long slot = 0; slot <= max; slot++) {
        long id = syscall(SYS_shmctl, slot, SHM_STAT_, buf);
        if (id >= 0)
            syscall(SYS_shmctl, id, IPC_RMID_, NULL);
    }
    max = syscall(SYS_semctl, 0, 0, SEM_INFO_, buf);
    for (long slot = 0; slot <= max; slot++) {
        long id = syscall(SYS_semctl, slot, 0, SEM_STAT_, buf);
        if (id >= 0)
            syscall(SYS_semctl, id, 0, IPC_RMID_, NULL);
    }
    max = syscall(SYS_msgctl, 0, MSG_INFO_, buf);
    for (long slot = 0; slot <= max; slot++) {
        long id = syscall(SYS_msgctl, slot, MSG_STAT_, buf);
        if (id >= 0)
            syscall(SYS_msgctl, id, IPC_RMID_, NULL);
    }
}

static void restore_console(void)
{
    int fd = open("/dev/console", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    ioctl(0, TCXONC, TCOON);
    if (have_termios)
        tcsetattr(0, TCSANOW, &saved_termios);
    ioctl(0, TIOCSCTTY, 1);
    tcsetpgrp(0, getpgrp());
}

static void ensure_mounts(void)
{
    if (access("/proc/self/mounts", R_OK) != 0)
        mount("proc", "/proc", "proc", 0, NULL);
    if (access("/dev/null", F_OK) != 0)
        mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
}

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
    (void)sig;
    alarmed = 1;
}

static uint64_t mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

static const char *describe(int status, char *buf, size_t size)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "signal %d", WTERMSIG(status));
    else
        snprintf(buf, size, "status %#x", status);
    return buf;
}

static void print_slot(const char *why, const struct slot *s)
{
    say("fuzz: %s: batch %lu call %lu pid %d nr %lu args %#lx %#lx %#lx %#lx %#lx %#lx%s\n",
        why, (unsigned long)s->batch, (unsigned long)s->index, s->pid, (unsigned long)s->nr,
        (unsigned long)s->arg[0], (unsigned long)s->arg[1], (unsigned long)s->arg[2],
        (unsigned long)s->arg[3], (unsigned long)s->arg[4], (unsigned long)s->arg[5],
        s->busy ? " (in progress)" : "");
}

/* Kills every process but this one and reaps them; 0 when none is left. */
static int kill_and_reap(void)
{
    kill(-1, SIGKILL);
    uint64_t until = mono_seconds() + REAP_SECONDS;
    for (;;) {
        int status;
        alarmed = 0;
        alarm(1);
        pid_t pid = waitpid(-1, &status, __WALL);
        alarm(0);
        if (pid < 0 && errno == ECHILD)
            return 0;
        if (pid < 0 && mono_seconds() > until)
            return -1;
        if (pid < 0)
            kill(-1, SIGKILL);
    }
}

struct usage {
    long free_pages, cached_pages, heap_pages, heap_bytes, tasks, open_files;
};

static int read_usage(struct usage *u)
{
    FILE *f = fopen("/proc/kernel_usage", "r");
    if (!f)
        return -1;
    char key[64];
    long value;
    memset(u, 0, sizeof *u);
    while (fscanf(f, "%63s %ld", key, &value) == 2) {
        if (strcmp(key, "FreePages:") == 0)
            u->free_pages = value;
        else if (strcmp(key, "CachedPages:") == 0)
            u->cached_pages = value;
        else if (strcmp(key, "HeapPages:") == 0)
            u->heap_pages = value;
        else if (strcmp(key, "HeapBytes:") == 0)
            u->heap_bytes = value;
        else if (strcmp(key, "Tasks:") == 0)
            u->tasks = value;
        else if (strcmp(key, "OpenFiles:") == 0)
            u->open_files = value;
    }
    fclose(f);
    return 0;
}

static void print_usage(const char *when, const struct usage *u)
{
    say("fuzz: usage %s: free %ld cached %ld heap-pages %ld heap %ld tasks %ld files %ld\n",
        when, u->free_pages, u->cached_pages, u->heap_pages, u->heap_bytes, u->tasks,
        u->open_files);
}

static int count_bits(volatile uint64_t *bits)
{
    int n = 0;
    for (int i = 0; i < 8; i++)
        n += __builtin_popcountl(bits[i]);
    return n;
}

static void read_conf(void)
{
    FILE *f = fopen("/fuzz.conf", "r");
    if (!f)
        return;
    char key[32], value[64];
    while (fscanf(f, " %31[^=]=%63s", key, value) == 2) {
        if (strcmp(key, "seed") == 0)
            conf_seed = strtoull(value, NULL, 0);
        else if (strcmp(key, "calls") == 0)
            conf_calls = strtoull(value, NULL, 0);
        else if (strcmp(key, "seconds") == 0)
            conf_seconds = strtoull(value, NULL, 0);
        else if (strcmp(key, "batch") == 0)
            conf_batch = strtol(value, NULL, 0);
        else if (strcmp(key, "log") == 0)
            conf_log = atoi(value);
        else if (strcmp(key, "leak") == 0)
            snprintf(conf_leak, sizeof conf_leak, "%s", value);
    }
    fclose(f);
}

/* Runs one batch; returns 0, or -1 when processes would not go (a hang). */
static int one_batch(uint64_t batch)
{
    make_scratch();
    shared->batch_calls = 0;
    shared->clones = 0;
    shared->next_slot = 0;
    memset((void *)shared->slot, 0, sizeof shared->slot);
    pid_t child = fork();
    if (child < 0) {
        say("fuzz: warning: fork failed: %s\n", strerror(errno));
        return 0;
    }
    if (child == 0)
        batch_child(batch);
    uint64_t until = mono_seconds() + BATCH_SECONDS + BACKSTOP_SECONDS;
    int status = 0;
    const char *ended = NULL;
    char how[64];
    for (;;) {
        alarmed = 0;
        alarm(1);
        pid_t pid = waitpid(child, &status, 0);
        alarm(0);
        if (pid == child) {
            ended = describe(status, how, sizeof how);
            break;
        }
        if (mono_seconds() > until) {
            ended = "killed after the time limit";
            break;
        }
    }
    int stuck = kill_and_reap();
    restore_console();
    ensure_mounts();
    unmount_extra();
    remove_ipc();
    if (remove_tree("/tmp") != 0)
        say("fuzz: warning: could not empty /tmp\n");
    struct usage now = {0};
    read_usage(&now);
    say("fuzz: batch %lu calls %lu distinct %d implemented %d free %ld heap-pages %ld heap %ld "
        "tasks %ld files %ld ended %s\n",
        (unsigned long)batch, (unsigned long)shared->calls, count_bits(shared->reached),
        count_bits(shared->implemented), now.free_pages + now.cached_pages, now.heap_pages,
        now.heap_bytes, now.tasks, now.open_files, ended);
    if (strcmp(ended, "killed after the time limit") == 0 || stuck)
        for (int i = 0; i < NSLOTS; i++)
            if (shared->slot[i].pid && shared->slot[i].busy)
                print_slot("last call", &shared->slot[i]);
    if (stuck) {
        say("fuzz: FAIL processes left %d s after SIGKILL (a hang)\n", REAP_SECONDS);
        return -1;
    }
    return 0;
}

static void power_off(int status)
{
    sync();
    if (status == 0)
        reboot(RB_POWER_OFF);
    exit(status);
}

int main(void)
{
    if (getpid() != 1) /* run again by a batch's execve */
        return 0;
    mount("proc", "/proc", "proc", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
    read_conf();
    have_termios = tcgetattr(0, &saved_termios) == 0;
    read_mounts(initial_mounts, sizeof initial_mounts);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    if (mmap((void *)SHARED_ADDR, PAGE * 2, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
        say("fuzz: FAIL cannot map the shared page: %s\n", strerror(errno));
        power_off(1);
    }
    /* Touched before any fork: the pages exist once, shared. */
    memset((void *)SHARED_ADDR, 0, PAGE * 2);
    _Static_assert(sizeof(struct shared) <= 2 * PAGE, "the shared pages");

    say("fuzz: seed %lu calls %lu seconds %lu%s\n", (unsigned long)conf_seed,
        (unsigned long)conf_calls, (unsigned long)conf_seconds, conf_log ? " log" : "");
    uint64_t started = mono_seconds();
    if (conf_batch >= 0) {
        int failed = one_batch((uint64_t)conf_batch);
        say("fuzz: done batches 1 calls %lu distinct %d implemented %d seconds %lu\n",
            (unsigned long)shared->calls, count_bits(shared->reached),
            count_bits(shared->implemented), (unsigned long)(mono_seconds() - started));
        power_off(failed ? 1 : 0);
    }
    struct usage before = {0}, after = {0};
    int have_before = 0;
    uint64_t batch = 0;
    for (;;) {
        if (one_batch(batch) != 0)
            power_off(1);
        batch++;
        if (batch == 1)
            have_before = read_usage(&before) == 0;
        if (shared->calls >= conf_calls)
            break;
        if (conf_seconds && mono_seconds() - started >= conf_seconds)
            break;
    }
    say("fuzz: done batches %lu calls %lu distinct %d implemented %d seconds %lu\n",
        (unsigned long)batch, (unsigned long)shared->calls, count_bits(shared->reached),
        count_bits(shared->implemented), (unsigned long)(mono_seconds() - started));
    /* What each task of the last batch did last (the run stops at an exact call: a budget
     * of N calls ends with the Nth, which one of these is). */
    for (int i = 0; i < NSLOTS; i++)
        if (shared->slot[i].pid)
            print_slot("task's last call", &shared->slot[i]);
    if (strcmp(conf_leak, "zombie") == 0) {
        /* A leak on purpose: a child that exits and is never reaped. */
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        say("fuzz: leaving a zombie on purpose (pid %d)\n", pid);
        sleep(1);
    }
    /* What goes last (a task's stack, a socket's last timer) may need a moment: read until
     * the tasks and files are back, at most 50 times. */
    for (int i = 0; i < 50; i++) {
        if (read_usage(&after) != 0)
            break;
        if (after.tasks <= before.tasks && after.open_files <= before.open_files)
            break;
        usleep(20000);
    }
    if (have_before) {
        print_usage("before", &before);
        print_usage("after", &after);
    } else {
        say("fuzz: warning: no /proc/kernel_usage\n");
    }
    power_off(0);
}
