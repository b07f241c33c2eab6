/*
 * hostile: arguments and calls a hostile or careless program makes, each answered as Linux
 * answers it, with the kernel (and init) still standing afterwards (issue 10).
 *
 * - Register values outside an `int` argument's range: Linux truncates `int` arguments
 *   (kill's sig, tkill's tid) and has no pid for -INT_MIN.
 * - Signals to init: process 1 receives only the signals it has a handler for; SIGTERM,
 *   SIGKILL and SIGSTOP from another process are dropped (kernel/signal.c,
 *   sig_task_ignored / SIGNAL_UNKILLABLE). The runner is process 1 under conform.
 * - clone with a bad CLONE_PARENT_SETTID or CLONE_CHILD_SETTID address: the store fails
 *   silently and the child runs (kernel/fork.c kernel_clone, kernel/sched/core.c
 *   schedule_tail).
 * - A read or write of more than one kernel chunk on a regular file moves all of it.
 * - A running program's file cannot be opened for writing or truncated, and a file open for
 *   writing cannot be run: ETXTBSY (Linux's i_writecount).
 * - A sleep stopped by SIGSTOP and continued by SIGCONT goes on sleeping (no handler ran,
 *   so Linux restarts it through its restart block), where a handler would see EINTR.
 */
#include "check.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>

static void int_arguments(void)
{
    CHECK_ERR("kill(INT_MIN, 0): no such process", kill(INT_MIN, 0), ESRCH);
    CHECK_EQ("kill's sig is an int: 1<<32 is signal 0", syscall(SYS_kill, getpid(), 1L << 32), 0);
    CHECK_EQ("kill's pid is a pid_t: (1<<32)+pid is pid", syscall(SYS_kill, (1L << 32) | getpid(), 0),
             0);
    CHECK_ERR("kill with signal 65", kill(getpid(), 65), EINVAL);
    CHECK_ERR("kill with signal -1", syscall(SYS_kill, getpid(), -1L), EINVAL);
    CHECK_ERR("tkill(INT_MIN as a long)", syscall(SYS_tkill, 0x80000000L, 0), EINVAL);
    CHECK_ERR("tgkill with tgid 0", syscall(SYS_tgkill, 0, getpid(), 0), EINVAL);
    CHECK_EQ("tgkill of itself with signal 0", syscall(SYS_tgkill, getpid(), getpid(), 0), 0);
    struct timespec ts;
    CHECK_EQ("clock_gettime's clock is a clockid_t: (1<<32)+CLOCK_MONOTONIC",
             syscall(SYS_clock_gettime, (1L << 32) | CLOCK_MONOTONIC, &ts), 0);
    struct itimerval itv;
    CHECK_EQ("getitimer's which is an int: 1<<32 is ITIMER_REAL",
             syscall(SYS_getitimer, 1L << 32, &itv), 0);
    CHECK_ERR("setitimer reads its value before checking which -> EFAULT",
              syscall(SYS_setitimer, 99, (void *)8, NULL), EFAULT);
}

static void signals_to_init(void)
{
    if (getppid() != 1) {
        say("ok signals to init (skipped: not a child of process 1)");
        return;
    }
    CHECK_EQ("kill(1, SIGTERM) succeeds", kill(1, SIGTERM), 0);
    CHECK_EQ("kill(1, SIGSTOP) succeeds", kill(1, SIGSTOP), 0);
    CHECK_EQ("kill(1, SIGKILL) succeeds", kill(1, SIGKILL), 0);
    /* Still there, and not stopped: it reaps us and goes on with the next program, which
     * the comparison of the whole run checks. */
    CHECK_EQ("init still exists", kill(1, 0), 0);
}

static void clone_with_bad_tid_pointers(void)
{
    long flags[] = {CLONE_PARENT_SETTID, CLONE_CHILD_SETTID, CLONE_PARENT_SETTID | CLONE_CHILD_SETTID};
    const char *names[] = {"CLONE_PARENT_SETTID", "CLONE_CHILD_SETTID", "both"};
    for (int i = 0; i < 3; i++) {
        /* A fork-like clone (no new stack): the child returns 0 from the call itself. */
        long pid = syscall(SYS_clone, flags[i] | SIGCHLD, 0L, (void *)8, (void *)8, 0L);
        if (pid == 0)
            _exit(7);
        char what[96];
        snprintf(what, sizeof what, "clone with %s at a bad address makes a child", names[i]);
        CHECK(what, pid > 0);
        if (pid <= 0)
            continue;
        int status = 0;
        snprintf(what, sizeof what, "that child (%s) runs and exits 7", names[i]);
        CHECK(what, waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7);
    }
}

static void big_reads_and_writes(void)
{
    const size_t size = 1 << 20; /* 16 chunks of the kernel's 64 KiB */
    unsigned char *out = malloc(size), *in = malloc(size);
    REQUIRE("buffers", out && in);
    for (size_t i = 0; i < size; i++)
        out[i] = (unsigned char)(i * 7 + (i >> 12));
    int fd = open("/tmp/hostile-big", O_RDWR | O_CREAT | O_TRUNC, 0600);
    REQUIRE("scratch file", fd >= 0);
    CHECK_EQ("write of 1 MiB writes 1 MiB", write(fd, out, size), (long)size);
    CHECK_EQ("lseek back", lseek(fd, 0, SEEK_SET), 0);
    CHECK_EQ("read of 1 MiB reads 1 MiB", read(fd, in, size), (long)size);
    CHECK("the bytes read are the bytes written", memcmp(in, out, size) == 0);
    CHECK_EQ("read of 1 MiB at 1 MiB - 100 reads 100", pread(fd, in, size, size - 100), 100);
    CHECK_EQ("pwrite of 1 MiB at 512 KiB", pwrite(fd, out, size, size / 2), (long)size);
    struct stat st;
    CHECK_OK("fstat", fstat(fd, &st));
    CHECK_EQ("the file grew to 1.5 MiB", st.st_size, (long)(size + size / 2));
    close(fd);
    unlink("/tmp/hostile-big");
    free(out);
    free(in);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* The child: sleeps 400 ms and exits 0 if nanosleep returned 0 after the whole time. */
static int sleeper(void)
{
    double start = now();
    struct timespec want = {0, 400 * 1000 * 1000}, left = {0, 0};
    int r = nanosleep(&want, &left);
    if (r != 0)
        return 10 + errno;
    return now() - start >= 0.39 ? 0 : 2;
}

static void sleep_through_stop_and_continue(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(sleeper());
    REQUIRE("fork", pid > 0);
    usleep(100 * 1000);
    CHECK_EQ("SIGSTOP the sleeper", kill(pid, SIGSTOP), 0);
    int status = 0;
    CHECK("it stops", waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status));
    CHECK_EQ("SIGCONT it", kill(pid, SIGCONT), 0);
    CHECK("its nanosleep returns 0 after the whole 400 ms",
          waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Copies this program to `path` (mode 0755); returns 0 on success. */
static int copy_self(const char *path)
{
    int in = open("/proc/self/exe", O_RDONLY), out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (in < 0 || out < 0)
        return -1;
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n)
            return -1;
    close(in);
    close(out);
    return n;
}

/* Runs `path --exit-42` in a child: its exit code, or 100 + errno when execve failed. */
static int run_copy(const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {(char *)path, "--exit-42", NULL};
        execv(path, argv);
        _exit(100 + errno);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static void text_busy(void)
{
    CHECK_ERR("open the running program for writing", open("/proc/self/exe", O_WRONLY), ETXTBSY);
    CHECK_ERR("open it read-write", open("/proc/self/exe", O_RDWR), ETXTBSY);
    char self[256];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE("readlink /proc/self/exe", n > 0);
    self[n] = 0;
    struct stat st;
    REQUIRE("stat the program", stat(self, &st) == 0);
    CHECK_ERR("truncate it (to its own size)", truncate(self, st.st_size), ETXTBSY);
    CHECK_OK("open it read-only", close(open("/proc/self/exe", O_RDONLY)));

    const char *copy = "/tmp/hostile-copy";
    REQUIRE("copy of the program", copy_self(copy) == 0);
    CHECK_EQ("the copy runs", run_copy(copy), 42);
    int fd = open(copy, O_WRONLY);
    CHECK("the copy opens for writing while nothing runs it", fd >= 0);
    CHECK_EQ("a file open for writing does not run", run_copy(copy), 100 + ETXTBSY);
    close(fd);
    CHECK_EQ("closed, it runs again", run_copy(copy), 42);
    unlink(copy);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--exit-42") == 0)
        return 42;
    int_arguments();
    signals_to_init();
    clone_with_bad_tid_pointers();
    big_reads_and_writes();
    sleep_through_stop_and_continue();
    text_busy();
    return check_exit();
}
