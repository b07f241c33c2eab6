/*
 * runner: /init of the conformance initramfs. Runs every program in /tests in name order
 * (fork + execve + wait4) and frames its output:
 *
 *     === <name>
 *     ...what the program printed...
 *     === <name> exit <code>            (or "exit signal <n>" when a signal killed it)
 *     ...
 *     === done
 *
 * then powers the machine off with reboot(RB_POWER_OFF) when it is process 1. `cargo xtask
 * conform` compares what lies between the first "===" line and "=== done" across kernels,
 * so anything else the runner says (a failed setup step) goes before the first "===".
 *
 * A program still running after TEST_SECONDS is killed with its process group (the
 * runner says so and goes on), so one hang does not hide the later programs' results.
 *
 * Leak check (docs/reliability.md): as process 1 on a kernel that has /proc/kernel_usage
 * (Tessera's own), the runner prints the kernel's usage before the first program and again
 * after "=== done", once every child has been reaped and /tmp emptied:
 *
 *     runner: usage before: free F cached C heap-pages P heap H tasks T files O
 *     runner: usage after: ...
 *
 * and `cargo xtask conform` compares the two (outside the compared lines, so Linux, which
 * has no such file, prints neither). With /conform-leak in the archive, the runner leaves
 * one zombie before the last reading: a leak the check must report.
 *
 * It prepares what the tests need itself: a console on fds 0-2, a tmpfs on /tmp (unless
 * /tmp is already a mount of its own), proc on /proc. On a development host, run it as
 * `runner DIR` (not as process 1) to run the programs in DIR; it exits 0 when all passed.
 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/reboot.h>

/* A program that runs longer than this is killed with its process group. */
#ifndef TEST_SECONDS
#define TEST_SECONDS 60
#endif
#define MAX_TESTS 256

static void console(void)
{
    if (fcntl(1, F_GETFD) >= 0)
        return;
    int fd = open("/dev/console", O_RDWR);
    if (fd < 0)
        return; /* nowhere to report anything */
    for (int i = 0; i < 3; i++)
        if (fd != i)
            dup2(fd, i);
    if (fd > 2)
        close(fd);
}

/* Whether `path` is the root of a mount: its device differs from its parent's. */
static int mounted(const char *path, const char *parent)
{
    struct stat a, b;
    return stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

static void prepare(void)
{
    if (mkdir("/tmp", 01777) != 0 && errno != EEXIST)
        say("runner: mkdir /tmp: %s", errno_name(errno));
    if (!mounted("/tmp", "/") && mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777") != 0)
        say("runner: mount tmpfs on /tmp: %s (the tests use /tmp as it is)", errno_name(errno));
    if (mkdir("/proc", 0555) != 0 && errno != EEXIST)
        say("runner: mkdir /proc: %s", errno_name(errno));
    if (!mounted("/proc", "/") && mount("proc", "/proc", "proc", 0, NULL) != 0)
        say("runner: mount proc on /proc: %s", errno_name(errno));
}

/* The kernel's usage: free pages, cached pages, heap pages, heap bytes, tasks, open files. */
#define USAGE_FIELDS 6
static const char *const usage_keys[USAGE_FIELDS][2] = {
    {"FreePages:", "free"},  {"CachedPages:", "cached"}, {"HeapPages:", "heap-pages"},
    {"HeapBytes:", "heap"}, {"Tasks:", "tasks"},        {"OpenFiles:", "files"},
};

/* Reads /proc/kernel_usage into `u` after dropping the page cache (whose pages and their
 * bookkeeping grow with every program run: not a leak); -1 when there is no such file. */
static int read_usage(long u[USAGE_FIELDS])
{
    char text[512];
    int fd = open("/proc/kernel_usage", O_RDONLY);
    if (fd < 0)
        return -1;
    int drop = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (drop >= 0) {
        if (write(drop, "1", 1) != 1)
            say("runner: drop_caches: %s", errno_name(errno));
        close(drop);
    }
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return -1;
    text[n] = 0;
    for (int i = 0; i < USAGE_FIELDS; i++) {
        const char *found = strstr(text, usage_keys[i][0]);
        u[i] = found ? strtol(found + strlen(usage_keys[i][0]), NULL, 10) : -1;
    }
    return 0;
}

static void print_usage(const char *when, const long u[USAGE_FIELDS])
{
    char line[256];
    int at = snprintf(line, sizeof line, "runner: usage %s:", when);
    for (int i = 0; i < USAGE_FIELDS; i++)
        at += snprintf(line + at, sizeof line - at, " %s %ld", usage_keys[i][1], u[i]);
    say("%s", line);
}

/* Reaps every child left (orphans the programs left behind), waiting up to 2 s for those
 * still on their way out; processes still running then stay, and the leak check sees them. */
static void reap_all(void)
{
    for (int tries = 0; tries < 100; tries++) {
        pid_t got;
        while ((got = waitpid(-1, NULL, WNOHANG)) > 0)
            ;
        if (got < 0)
            return; /* ECHILD: none left */
        usleep(20000);
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The programs in `dir`, sorted: executable files, no dot files, not the runner itself. */
static int list_tests(const char *dir, char **names)
{
    DIR *d = opendir(dir);
    if (!d) {
        say("runner: cannot open %s: %s", dir, errno_name(errno));
        return 0;
    }
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < MAX_TESTS) {
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.' || strcmp(e->d_name, "runner") == 0)
            continue;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
            continue;
        names[count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof names[0], by_name);
    return count;
}

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
}

/* Runs one program and returns its raw wait status (-1 if it could not be started). */
static int run(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *argv[] = {path, NULL};
        char *envp[] = {"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/", NULL};
        /* Each program leads its own process group, as a shell's job would (init's group
         * on Linux is 0, which setpgid cannot name). */
        setpgid(0, 0);
        execve(path, argv, envp);
        say("runner: execve %s: %s", path, errno_name(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also here: whichever runs first, the group exists before a kill */
    /* The watchdog is the runner's own alarm, so a program's timers cannot disarm it. */
    timed_out = 0;
    alarm(TEST_SECONDS);
    /* As process 1 the runner also inherits orphans; reap them on the way. */
    for (;;) {
        int status;
        pid_t got = wait4(-1, &status, 0, NULL);
        if (got == pid) {
            alarm(0);
            return status;
        }
        if (got < 0 && errno == EINTR && timed_out == 1) {
            say("runner: %s still running after %d s: killed", name, TEST_SECONDS);
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            timed_out = 2;
        } else if (got < 0 && errno != EINTR) {
            return -1;
        }
    }
}

int main(int argc, char **argv)
{
    int init = getpid() == 1;
    const char *dir = !init && argc > 1 ? argv[1] : "/tests";
    if (init) {
        console();
        prepare();
    }
    struct sigaction watchdog = {.sa_handler = on_alarm}; /* no SA_RESTART: wait4 stops */
    sigemptyset(&watchdog.sa_mask);
    sigaction(SIGALRM, &watchdog, NULL);
    char *names[MAX_TESTS];
    int count = list_tests(dir, names);
    int failed = count == 0;
    long before[USAGE_FIELDS], after[USAGE_FIELDS];
    int have_usage = init && read_usage(before) == 0;
    if (have_usage)
        print_usage("before", before);
    for (int i = 0; i < count; i++) {
        say("=== %s", names[i]);
        int status = run(dir, names[i]);
        if (status == -1)
            say("=== %s exit not-started", names[i]);
        else if (WIFEXITED(status))
            say("=== %s exit %d", names[i], WEXITSTATUS(status));
        else
            say("=== %s exit signal %d", names[i], WTERMSIG(status));
        failed |= status != 0;
    }
    say("=== done");
    if (!init)
        return failed;
    reap_all();
    nftw("/tmp", scratch_remove, 16, FTW_DEPTH | FTW_PHYS); /* what the programs left; /tmp stays (a mount point) */
    if (access("/conform-leak", F_OK) == 0) {
        if (fork() == 0)
            _exit(0); /* a zombie on purpose: never reaped */
        say("runner: leaving a zombie on purpose");
        sleep(1);
    }
    /* What goes last (a task's stack, a socket's timer) may need a moment: read until the
     * tasks and open files are back to the first reading's, at most 50 times. */
    for (int i = 0; have_usage && i < 50; i++) {
        if (read_usage(after) != 0 || (after[4] <= before[4] && after[5] <= before[5]))
            break;
        usleep(20000);
    }
    if (have_usage)
        print_usage("after", after);
    sync();
    reboot(RB_POWER_OFF);
    say("runner: reboot(RB_POWER_OFF): %s", errno_name(errno));
    return 1;
}
