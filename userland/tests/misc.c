/*
 * misc: the system calls a libc and a shell make around everything else. uname,
 * sethostname and setdomainname, getrandom (its flags, a count past a page boundary or
 * past MAX_RW_COUNT: the bytes before the fault; EFAULT), clocks, user and group ids,
 * sysinfo, resource limits (prlimit64: Linux 6.1's defaults, every resource, the order of
 * its checks, another process's limits, RLIMIT_NOFILE's nr_open), priorities (ESRCH),
 * prctl's task name (cut at 15 bytes, EFAULT), sched_yield, arch_prctl, ioctl on a non-terminal, unknown system
 * call numbers (ENOSYS); and what procps reads besides the figures: /proc/sys/kernel/
 * (uname's fields; top decides from osrelease which CPU columns the kernel has) and the
 * identity lines of /proc/PID/status that ps selects by (State with its name, Tgid, Pid,
 * PPid, Uid, Gid).
 */
#include "check.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>

/* arch_prctl's code for reading FS's base (Linux's arch/x86/include/uapi/asm/prctl.h):
 * defined here because musl ships no kernel headers. */
#ifndef ARCH_GET_FS
#define ARCH_GET_FS 0x1003
#endif

static void identity(void)
{
    struct utsname u;
    CHECK_EQ("uname", uname(&u), 0);
    CHECK_STR("uname sysname", u.sysname, "Linux");
    CHECK_STR("uname machine", u.machine, "x86_64");
    CHECK("uname release is set", u.release[0] != 0);
    CHECK("uname version is set", u.version[0] != 0);
    CHECK("uname nodename is NUL-terminated", memchr(u.nodename, 0, sizeof u.nodename) != NULL);

    /* The names an init sets (root): what uname reports next, 64 bytes at most; the
     * machine's names are put back afterwards. */
    char node[sizeof u.nodename], domain[sizeof u.domainname];
    strcpy(node, u.nodename);
    strcpy(domain, u.domainname);
    char long_name[66];
    memset(long_name, 'n', sizeof long_name);
    CHECK_OK("sethostname", sethostname("conform-host", 12));
    CHECK_OK("setdomainname", setdomainname("conform.example", 15));
    CHECK_EQ("uname after setting the names", uname(&u), 0);
    CHECK_STR("uname nodename is the host name set", u.nodename, "conform-host");
    CHECK_STR("uname domainname is the domain name set", u.domainname, "conform.example");
    CHECK_OK("sethostname of 64 bytes", syscall(SYS_sethostname, long_name, 64));
    CHECK_EQ("uname", uname(&u), 0);
    CHECK_EQ("a 64-byte host name is kept whole", strlen(u.nodename), 64);
    CHECK_ERR("sethostname of 65 bytes", syscall(SYS_sethostname, long_name, 65), EINVAL);
    CHECK_ERR("sethostname of a negative length", syscall(SYS_sethostname, long_name, -1), EINVAL);
    CHECK_ERR("sethostname of a bad address", syscall(SYS_sethostname, (void *)8, 4), EFAULT);
    CHECK_ERR("setdomainname of 65 bytes", syscall(SYS_setdomainname, long_name, 65), EINVAL);
    CHECK_OK("sethostname of 0 bytes", syscall(SYS_sethostname, long_name, 0));
    CHECK_EQ("uname", uname(&u), 0);
    CHECK_STR("an empty host name", u.nodename, "");
    CHECK_OK("the host name put back", sethostname(node, strlen(node)));
    CHECK_OK("the domain name put back", setdomainname(domain, strlen(domain)));

    CHECK_EQ("getuid is root", getuid(), 0);
    CHECK_EQ("geteuid is root", geteuid(), 0);
    CHECK_EQ("getgid is root", getgid(), 0);
    CHECK_EQ("getegid is root", getegid(), 0);
    uid_t r, e, s;
    CHECK_EQ("getresuid", getresuid(&r, &e, &s), 0);
    CHECK("getresuid: all root", r == 0 && e == 0 && s == 0);
    gid_t gr, ge, gs;
    CHECK_EQ("getresgid", getresgid(&gr, &ge, &gs), 0);
    CHECK("getresgid: all root", gr == 0 && ge == 0 && gs == 0);
    CHECK("getgroups returns a count", getgroups(0, NULL) >= 0);
}

static void randomness(void)
{
    unsigned char a[32], b[32];
    CHECK_EQ("getrandom fills the buffer", getrandom(a, sizeof a, 0), 32);
    CHECK_EQ("getrandom again", getrandom(b, sizeof b, 0), 32);
    CHECK("two getrandom calls differ", memcmp(a, b, sizeof a) != 0);
    CHECK_EQ("getrandom GRND_NONBLOCK", getrandom(a, 16, GRND_NONBLOCK), 16);
    CHECK_EQ("getrandom of 0 bytes", getrandom(a, 0, 0), 0);
    CHECK_ERR("getrandom with unknown flags -> EINVAL", getrandom(a, 16, 0x100), EINVAL);
    CHECK_ERR("getrandom into a bad pointer -> EFAULT", syscall(SYS_getrandom, (void *)1, 16, 0),
              EFAULT);
    CHECK_EQ("getrandom GRND_RANDOM", getrandom(a, 16, GRND_RANDOM), 16);
    CHECK_EQ("getrandom GRND_RANDOM|GRND_NONBLOCK", getrandom(a, 16, GRND_RANDOM | GRND_NONBLOCK),
             16);
    CHECK_EQ("getrandom GRND_INSECURE (4)", syscall(SYS_getrandom, a, 16, 4), 16);
    CHECK_EQ("getrandom GRND_INSECURE|GRND_NONBLOCK", syscall(SYS_getrandom, a, 16, 4 | 1), 16);
    CHECK_ERR("getrandom GRND_RANDOM|GRND_INSECURE -> EINVAL",
              syscall(SYS_getrandom, a, 16, GRND_RANDOM | 4), EINVAL);
    CHECK_ERR("getrandom's flags come before its buffer -> EINVAL",
              syscall(SYS_getrandom, (void *)1, 16, 8), EINVAL);
    CHECK_EQ("getrandom of 0 bytes into NULL", syscall(SYS_getrandom, NULL, 0, 0), 0);
    CHECK_ERR("getrandom into the kernel half -> EFAULT",
              syscall(SYS_getrandom, (void *)0xffff800000000000UL, 16, 0), EFAULT);
    CHECK_EQ("getrandom's flags are an unsigned int (2^32 is 0)",
             syscall(SYS_getrandom, a, 16, 1UL << 32), 16);
    /* Low in memory (a hint), so that MAX_RW_COUNT bytes from it stay in the user half. */
    unsigned char *pages = mmap((void *)(1UL << 32), 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                -1, 0);
    REQUIRE("mmap", pages != MAP_FAILED);
    munmap(pages + 2 * 4096, 4096);
    CHECK_EQ("getrandom across the end of memory returns the bytes before it",
             syscall(SYS_getrandom, pages + 2 * 4096 - 100, 200, 0), 100);
    CHECK_EQ("getrandom of SIZE_MAX bytes: cut at MAX_RW_COUNT, stopped at the hole",
             syscall(SYS_getrandom, pages, (size_t)-1, 0), 2 * 4096);
    munmap(pages, 2 * 4096);
    size_t four = 4 << 20;
    unsigned char *lots = malloc(four);
    CHECK_EQ("getrandom of 4 MiB in one call", getrandom(lots, four, 0), (long)four);
    size_t zero_run = 0, longest = 0;
    for (size_t i = four - 8192; i < four; i++) {
        zero_run = lots[i] ? 0 : zero_run + 1;
        longest = zero_run > longest ? zero_run : longest;
    }
    CHECK("... random to its end", longest < 16);
    free(lots);

    /* Devices give as much as asked in one read (what `dd bs=1M count=1` relies on). */
    size_t big = 1 << 20;
    unsigned char *buf = malloc(big);
    mknod("t-zero", S_IFCHR | 0666, makedev(1, 5));
    mknod("t-urandom", S_IFCHR | 0666, makedev(1, 9));
    int zero = open("t-zero", O_RDONLY), urandom = open("t-urandom", O_RDONLY);
    memset(buf, 0xaa, big);
    CHECK_EQ("a 1 MiB read of /dev/zero reads 1 MiB", read(zero, buf, big), (long)big);
    int zeros = 1;
    for (size_t i = 0; i < big; i++)
        zeros &= buf[i] == 0;
    CHECK("... all zeros", zeros);
    memset(buf, 0, big);
    CHECK_EQ("a 1 MiB read of /dev/urandom reads 1 MiB", read(urandom, buf, big), (long)big);
    size_t nonzero = 0;
    for (size_t i = big - 4096; i < big; i++)
        nonzero += buf[i] != 0;
    CHECK("... random to the last page", nonzero > 3000);
    close(zero);
    close(urandom);
    unlink("t-zero");
    unlink("t-urandom");
    free(buf);
}

static int before(struct timespec a, struct timespec b)
{
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

static void clocks(void)
{
    struct timespec prev, t;
    int monotonic = 1, ranged = 1;
    clock_gettime(CLOCK_MONOTONIC, &prev);
    for (int i = 0; i < 1000; i++) {
        if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t) != 0)
            monotonic = 0;
        monotonic &= before(prev, t);
        ranged &= t.tv_nsec >= 0 && t.tv_nsec < 1000000000;
        prev = t;
    }
    CHECK("CLOCK_MONOTONIC never goes backwards (1000 raw reads)", monotonic);
    CHECK("tv_nsec is always below one second", ranged);
    struct timespec real;
    CHECK_EQ("CLOCK_REALTIME", clock_gettime(CLOCK_REALTIME, &real), 0);
    CHECK("CLOCK_REALTIME is after 2020", real.tv_sec > 1577836800);
    struct timeval tv;
    CHECK_EQ("gettimeofday", gettimeofday(&tv, NULL), 0);
    CHECK("gettimeofday agrees with CLOCK_REALTIME", tv.tv_sec - real.tv_sec <= 5);
    CHECK("time agrees with CLOCK_REALTIME", time(NULL) - real.tv_sec <= 5);
    CHECK_EQ("CLOCK_BOOTTIME", clock_gettime(CLOCK_BOOTTIME, &t), 0);
    CHECK_EQ("CLOCK_PROCESS_CPUTIME_ID", clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t), 0);
    CHECK_EQ("CLOCK_MONOTONIC_COARSE", clock_gettime(CLOCK_MONOTONIC_COARSE, &t), 0);
    struct timespec res;
    CHECK_EQ("clock_getres CLOCK_MONOTONIC", clock_getres(CLOCK_MONOTONIC, &res), 0);
    CHECK("the resolution is between 1 ns and 10 ms",
          res.tv_sec == 0 && res.tv_nsec >= 1 && res.tv_nsec <= 10000000);
    CHECK_ERR("clock_gettime of an unknown clock -> EINVAL",
              syscall(SYS_clock_gettime, 12345, &t), EINVAL);
    CHECK_ERR("clock_getres of an unknown clock -> EINVAL", syscall(SYS_clock_getres, 12345, &t),
              EINVAL);
    struct timespec set = {0, 0};
    CHECK_ERR("clock_settime of CLOCK_MONOTONIC -> EINVAL",
              syscall(SYS_clock_settime, CLOCK_MONOTONIC, &set), EINVAL);
}

static void limits(void)
{
    struct rlimit old, now;
    CHECK_EQ("prlimit64 get RLIMIT_NOFILE", prlimit(0, RLIMIT_NOFILE, NULL, &old), 0);
    CHECK("RLIMIT_NOFILE soft <= hard", old.rlim_cur <= old.rlim_max);
    CHECK("RLIMIT_NOFILE allows at least 64 files", old.rlim_cur >= 64);
    struct rlimit low = {64, old.rlim_max};
    CHECK_EQ("prlimit64 set RLIMIT_NOFILE soft to 64", prlimit(0, RLIMIT_NOFILE, &low, NULL), 0);
    getrlimit(RLIMIT_NOFILE, &now);
    CHECK_EQ("getrlimit reads back the new soft limit", now.rlim_cur, 64);
    int last = -1, fd;
    while ((fd = dup(0)) >= 0)
        last = fd;
    CHECK_ERR("dup beyond RLIMIT_NOFILE -> EMFILE", dup(0), EMFILE);
    CHECK_EQ("the last fd allowed is limit - 1", last, 63);
    CHECK_ERR("dup2 to an fd at the limit -> EBADF", dup2(0, 64), EBADF);
    for (fd = 3; fd <= last; fd++)
        close(fd);
    CHECK_EQ("prlimit64 restores the old limit", prlimit(0, RLIMIT_NOFILE, &old, NULL), 0);
    struct rlimit inverted = {old.rlim_max, old.rlim_max - 1};
    CHECK_ERR("a soft limit above the hard limit -> EINVAL",
              prlimit(0, RLIMIT_NOFILE, &inverted, NULL), EINVAL);
    CHECK_ERR("prlimit64 of an unknown resource -> EINVAL",
              syscall(SYS_prlimit64, 0, 1000, NULL, &now), EINVAL);
    CHECK_ERR("prlimit64 of a missing process -> ESRCH",
              syscall(SYS_prlimit64, 999999, RLIMIT_NOFILE, NULL, &now), ESRCH);
    CHECK_EQ("getrlimit RLIMIT_STACK", getrlimit(RLIMIT_STACK, &now), 0);
    CHECK("the stack limit is at least 1 MiB", now.rlim_cur >= 1024 * 1024);
    CHECK_EQ("getrlimit RLIMIT_AS", getrlimit(RLIMIT_AS, &now), 0);
    CHECK("RLIMIT_AS is unlimited", now.rlim_cur == RLIM_INFINITY);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit lim = {100, 100};
        setrlimit(RLIMIT_NOFILE, &lim);
        struct rlimit back = {100, 1000};
        _exit(setrlimit(RLIMIT_NOFILE, &back) == 0 ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK_EQ("root may raise a hard limit it lowered", st, 0);
}

/* Linux 6.1's limits of init (`INIT_RLIMITS`), which every test process inherits. */
static void default_limits(void)
{
    struct rlimit lim;
    static const int unlimited[] = {RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_RSS,
                                    RLIMIT_AS, RLIMIT_LOCKS, RLIMIT_RTTIME};
    int all = 1;
    for (size_t i = 0; i < sizeof unlimited / sizeof unlimited[0]; i++) {
        getrlimit(unlimited[i], &lim);
        all &= lim.rlim_cur == RLIM_INFINITY && lim.rlim_max == RLIM_INFINITY;
    }
    CHECK("CPU, FSIZE, DATA, RSS, AS, LOCKS and RTTIME are unlimited", all);
    getrlimit(RLIMIT_STACK, &lim);
    CHECK("RLIMIT_STACK is 8 MiB, no hard limit",
          lim.rlim_cur == 8 << 20 && lim.rlim_max == RLIM_INFINITY);
    getrlimit(RLIMIT_NOFILE, &lim);
    CHECK("RLIMIT_NOFILE is 1024 of 4096", lim.rlim_cur == 1024 && lim.rlim_max == 4096);
    getrlimit(RLIMIT_MEMLOCK, &lim);
    CHECK("RLIMIT_MEMLOCK is 8 MiB both", lim.rlim_cur == 8 << 20 && lim.rlim_max == 8 << 20);
    getrlimit(RLIMIT_MSGQUEUE, &lim);
    CHECK("RLIMIT_MSGQUEUE is 819200 both", lim.rlim_cur == 819200 && lim.rlim_max == 819200);
    getrlimit(RLIMIT_NICE, &lim);
    CHECK("RLIMIT_NICE is 0 both", lim.rlim_cur == 0 && lim.rlim_max == 0);
    getrlimit(RLIMIT_RTPRIO, &lim);
    CHECK("RLIMIT_RTPRIO is 0 both", lim.rlim_cur == 0 && lim.rlim_max == 0);
    struct rlimit nproc, sigpending;
    getrlimit(RLIMIT_NPROC, &nproc);
    getrlimit(RLIMIT_SIGPENDING, &sigpending);
    CHECK("RLIMIT_NPROC: a finite number, soft = hard",
          nproc.rlim_cur == nproc.rlim_max && nproc.rlim_cur > 0 && nproc.rlim_cur != RLIM_INFINITY);
    CHECK("RLIMIT_SIGPENDING is RLIMIT_NPROC",
          sigpending.rlim_cur == nproc.rlim_cur && sigpending.rlim_max == nproc.rlim_max);
}

static void prlimit_rules(void)
{
    struct rlimit lim, old;
    int every = 1;
    for (int r = 0; r < 16; r++)
        every &= prlimit(0, r, NULL, &lim) == 0;
    CHECK("prlimit64 reads every resource below 16", every);
    CHECK_ERR("resource 16 -> EINVAL", syscall(SYS_prlimit64, 0, 16, NULL, &lim), EINVAL);
    CHECK_ERR("the new limit is read first: a bad one with a bad resource -> EFAULT",
              syscall(SYS_prlimit64, 0, 1000, (void *)8, NULL), EFAULT);
    CHECK_ERR("the process before the resource -> ESRCH",
              syscall(SYS_prlimit64, 999999, 1000, NULL, &lim), ESRCH);
    CHECK_ERR("a negative pid -> ESRCH", syscall(SYS_prlimit64, -5, RLIMIT_CPU, NULL, &lim), ESRCH);
    CHECK_EQ("the resource is an unsigned int (2^32 + RLIMIT_CPU)",
             syscall(SYS_prlimit64, 0, (1UL << 32) | RLIMIT_CPU, NULL, &lim), 0);
    CHECK_EQ("the pid is an int (2^32 is the caller)",
             syscall(SYS_prlimit64, 1UL << 32, RLIMIT_CPU, NULL, &lim), 0);
    CHECK_EQ("prlimit64 of the caller's own pid", prlimit(getpid(), RLIMIT_CPU, NULL, &lim), 0);
    CHECK_ERR("setrlimit reads the limit first: a bad one with a bad resource -> EFAULT",
              syscall(SYS_setrlimit, 1000, (void *)8), EFAULT);
    CHECK_ERR("getrlimit checks the resource first -> EINVAL",
              syscall(SYS_getrlimit, 1000, (void *)8), EINVAL);

    struct rlimit cpu = {20, RLIM_INFINITY};
    CHECK_ERR("a bad old-limit pointer -> EFAULT",
              syscall(SYS_prlimit64, 0, RLIMIT_CPU, &cpu, (void *)8), EFAULT);
    CHECK("... the new limit is set all the same",
          getrlimit(RLIMIT_CPU, &lim) == 0 && lim.rlim_cur == 20);
    struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY};
    CHECK_EQ("back to RLIM_INFINITY, the old one returned", prlimit(0, RLIMIT_CPU, &inf, &old), 0);
    CHECK("... the old limit was 20", old.rlim_cur == 20 && old.rlim_max == RLIM_INFINITY);
    getrlimit(RLIMIT_NOFILE, &old);
    struct rlimit nr_open = {1024, 1024 * 1024};
    CHECK_EQ("root raises RLIMIT_NOFILE's hard limit to nr_open", prlimit(0, RLIMIT_NOFILE, &nr_open, NULL), 0);
    struct rlimit past = {1024, 1024 * 1024 + 1};
    CHECK_ERR("... past nr_open -> EPERM", prlimit(0, RLIMIT_NOFILE, &past, NULL), EPERM);
    CHECK_EQ("... the old limits back", prlimit(0, RLIMIT_NOFILE, &old, NULL), 0);
    struct rlimit memlock = {1 << 20, 64 << 20};
    CHECK_EQ("root raises RLIMIT_MEMLOCK's hard limit", prlimit(0, RLIMIT_MEMLOCK, &memlock, &old), 0);
    prlimit(0, RLIMIT_MEMLOCK, &old, NULL);

    /* Another process's limits: a child that waits, changed by its parent. */
    int go[2], back[2];
    pipe(go);
    pipe(back);
    pid_t child = fork();
    if (child == 0) {
        char c;
        read(go[0], &c, 1);
        struct rlimit mine;
        getrlimit(RLIMIT_NOFILE, &mine);
        int fd, last = -1;
        while ((fd = dup(0)) >= 0)
            last = fd;
        _exit(mine.rlim_cur == 50 && mine.rlim_max == 2000 && last == 49 ? 0 : 1);
    }
    struct rlimit theirs = {50, 2000};
    CHECK_EQ("prlimit64 of a child", prlimit(child, RLIMIT_NOFILE, &theirs, &old), 0);
    CHECK("... its old limit was the parent's", old.rlim_cur == 1024 && old.rlim_max == 4096);
    CHECK_EQ("prlimit64 reads the child's new limit", prlimit(child, RLIMIT_NOFILE, NULL, &lim), 0);
    CHECK("... 50 of 2000", lim.rlim_cur == 50 && lim.rlim_max == 2000);
    CHECK("the caller's own limit is untouched",
          getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur == 1024);
    write(go[1], "x", 1);
    int st;
    waitpid(child, &st, 0);
    CHECK_EQ("the child sees 50 of 2000 and gets descriptors up to 49", st, 0);
    close(go[0]);
    close(go[1]);
    close(back[0]);
    close(back[1]);
}

static void priorities_and_names(void)
{
    CHECK_ERR("getpriority of a missing process -> ESRCH", getpriority(PRIO_PROCESS, 999999), ESRCH);
    CHECK_ERR("setpriority of a missing process -> ESRCH",
              setpriority(PRIO_PROCESS, 999999, 0), ESRCH);
    CHECK_ERR("getpriority of an empty process group -> ESRCH", getpriority(PRIO_PGRP, 999999),
              ESRCH);
    CHECK_EQ("getpriority of the caller's group", getpriority(PRIO_PGRP, 0), 0);
    CHECK_EQ("getpriority of the caller's pid", getpriority(PRIO_PROCESS, getpid()), 0);
    CHECK_ERR("getpriority of a user who runs nothing -> ESRCH", getpriority(PRIO_USER, 4242),
              ESRCH);
    CHECK_ERR("getpriority with an unknown which -> EINVAL", getpriority(3, 0), EINVAL);
    CHECK_ERR("getgroups with a negative size -> EINVAL", syscall(SYS_getgroups, -1, NULL), EINVAL);

    char name[32] = {0};
    CHECK_OK("PR_SET_NAME with a long name", prctl(PR_SET_NAME, "a-very-long-task-name-indeed"));
    prctl(PR_GET_NAME, name);
    CHECK_STR("... cut to 15 bytes", name, "a-very-long-tas");
    CHECK_ERR("PR_SET_NAME from a bad address -> EFAULT", prctl(PR_SET_NAME, (char *)8), EFAULT);
    prctl(PR_GET_NAME, name);
    CHECK_STR("... the name is kept", name, "a-very-long-tas");
    prctl(PR_SET_NAME, "misc");
}

static void system_info(void)
{
    struct sysinfo si;
    CHECK_EQ("sysinfo", sysinfo(&si), 0);
    CHECK("sysinfo totalram is set", si.totalram > 0 && si.mem_unit > 0);
    CHECK("sysinfo freeram <= totalram", si.freeram <= si.totalram);
    CHECK("sysinfo counts at least one process", si.procs >= 1);
    CHECK_ERR("sysinfo into a bad pointer -> EFAULT", syscall(SYS_sysinfo, (void *)1), EFAULT);
    CHECK_EQ("sched_yield", sched_yield(), 0);
    CHECK_ERR("an unknown system call number -> ENOSYS", syscall(1000), ENOSYS);
    CHECK_ERR("a negative system call number -> ENOSYS", syscall(-1), ENOSYS);
    unsigned long fs = 0;
    CHECK_EQ("arch_prctl ARCH_GET_FS", syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
    CHECK("the thread pointer is set up by libc", fs != 0);
    CHECK_ERR("arch_prctl with an unknown code -> EINVAL", syscall(SYS_arch_prctl, 0x9999, &fs),
              EINVAL);
    CHECK("set_tid_address returns the tid", syscall(SYS_set_tid_address, NULL) == getpid());
    int p[2];
    pipe(p);
    struct termios t;
    CHECK_ERR("tcgetattr (ioctl TCGETS) on a pipe -> ENOTTY", ioctl(p[0], TCGETS, &t), ENOTTY);
    CHECK_ERR("ioctl on a bad fd -> EBADF", ioctl(1000, TCGETS, &t), EBADF);
    int n = -1;
    write(p[1], "abc", 3);
    CHECK_EQ("ioctl FIONREAD on a pipe", ioctl(p[0], FIONREAD, &n), 0);
    CHECK_EQ("FIONREAD counts the buffered bytes", n, 3);
    close(p[0]);
    close(p[1]);
    CHECK_EQ("getpriority of this process", getpriority(PRIO_PROCESS, 0), 0);
    CHECK_EQ("umask round trip", (umask(027), umask(022)), 027);
}

/* The contents of a small file, without a last newline; "" when it cannot be read. */
static const char *slurp(const char *path)
{
    static char buf[4096];
    buf[0] = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        n = 0;
    buf[n] = 0;
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = 0;
    return buf;
}

/* The value after "Key:\t" in /proc/<pid>/status, or "". */
static const char *status_field(pid_t pid, const char *key)
{
    static char value[256];
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    const char *text = slurp(path);
    size_t len = strlen(key);
    value[0] = 0;
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, len) == 0 && line[len] == ':') {
            const char *v = line + len + 1;
            while (*v == '\t' || *v == ' ')
                v++;
            size_t n = strcspn(v, "\n");
            if (n >= sizeof value)
                n = sizeof value - 1;
            memcpy(value, v, n);
            value[n] = 0;
            break;
        }
    }
    return value;
}

/* What procps reads besides the figures: /proc/sys/kernel/ (uname's fields, hostname
 * after sethostname) and the identity lines of /proc/PID/status that ps selects by. */
static void kernel_names(void)
{
    struct utsname u;
    REQUIRE("uname", uname(&u) == 0);
    CHECK_STR("ostype", slurp("/proc/sys/kernel/ostype"), "Linux");
    CHECK_STR("osrelease is uname's release", slurp("/proc/sys/kernel/osrelease"), u.release);
    CHECK_STR("version is uname's version", slurp("/proc/sys/kernel/version"), u.version);
    CHECK_STR("hostname is uname's nodename", slurp("/proc/sys/kernel/hostname"), u.nodename);
    CHECK_STR("domainname is uname's", slurp("/proc/sys/kernel/domainname"), u.domainname);
    CHECK_OK("sethostname", sethostname("procfs-test", 11));
    CHECK_STR("hostname follows sethostname", slurp("/proc/sys/kernel/hostname"), "procfs-test");
    CHECK_OK("the host name put back", sethostname(u.nodename, strlen(u.nodename)));
    CHECK_ERR("no other file in /proc/sys/kernel/", open("/proc/sys/kernel/nonexistent", O_RDONLY), ENOENT);
    struct stat st;
    CHECK_OK("stat /proc/sys/kernel", stat("/proc/sys/kernel", &st));
    CHECK("/proc/sys/kernel is a directory", S_ISDIR(st.st_mode));

    pid_t me = getpid();
    CHECK_STR("State of the reader", status_field(me, "State"), "R (running)");
    CHECK_EQ("Tgid", atoi(status_field(me, "Tgid")), me);
    CHECK_EQ("Pid", atoi(status_field(me, "Pid")), me);
    CHECK_EQ("PPid", atoi(status_field(me, "PPid")), getppid());
    CHECK_STR("Uid: root four times", status_field(me, "Uid"), "0\t0\t0\t0");
    CHECK_STR("Gid: root four times", status_field(me, "Gid"), "0\t0\t0\t0");

    int p[2];
    REQUIRE("pipe", pipe(p) == 0);
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(p[1]);
        read(p[0], &c, 1); /* sleeps until the parent closes its end */
        _exit(0);
    }
    close(p[0]);
    /* Wait until the child sleeps in read. */
    for (int i = 0; i < 200 && strcmp(status_field(child, "State"), "S (sleeping)") != 0; i++)
        usleep(10000);
    CHECK_STR("State of a child blocked in read", status_field(child, "State"), "S (sleeping)");
    CHECK_EQ("the child's Tgid", atoi(status_field(child, "Tgid")), child);
    CHECK_EQ("the child's PPid", atoi(status_field(child, "PPid")), me);
    close(p[1]);
    int status;
    waitpid(child, &status, 0);
}

int main(void)
{
    identity();
    randomness();
    clocks();
    limits();
    default_limits();
    prlimit_rules();
    priorities_and_names();
    system_info();
    kernel_names();
    return check_exit();
}
