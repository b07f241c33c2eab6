/*
 * exhaust: /init of a boot that runs the kernel's memory out through what a user may make it
 * hold, and checks each time that the request fails with an errno (the kernel does not
 * panic), that the machine goes on, and that the memory comes back.
 *
 *   1. One file in the root file system (a tmpfs without a size limit, as Linux's rootfs),
 *      written 1 MiB at a time until the write fails: ENOSPC.
 *   2. Empty files with long names in the root file system until one cannot be made:
 *      ENOSPC.
 *   3. Pipes, 500 a process in 40 processes, each written full (64 KiB), all held at once:
 *      the first write of a pipe whose buffer memory cannot hold fails with ENOMEM (and a
 *      fork that finds no memory for the new process fails with ENOMEM: counted, not an
 *      error).
 *
 * After each, what was made is removed (the processes exit) and an 8 MiB file can be written
 * and read back. The kernel's usage (/proc/kernel_usage, the page cache dropped first) is
 * printed before the first and after the last, as the conformance runner prints it
 * (`exhaust: usage before: ...`); `cargo xtask test` (`exhaust/fast`) judges the two with the
 * leak check of the fuzzer and conform. Each step prints `exhaust: STEP: ERRNO` (or `FAIL`).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int failed;

static const char *name(int e)
{
    switch (e) {
    case 0:
        return "no error";
    case ENOSPC:
        return "ENOSPC";
    case ENOMEM:
        return "ENOMEM";
    case EMFILE:
        return "EMFILE";
    case ENFILE:
        return "ENFILE";
    default:
        return strerror(e);
    }
}

static void report(const char *step, int got, int want)
{
    printf("exhaust: %s: %s%s\n", step, name(got), got == want ? "" : " (FAIL)");
    fflush(stdout);
    failed |= got != want;
}

static void usage(const char *when)
{
    int drop = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (drop >= 0) {
        if (write(drop, "1", 1) != 1)
            failed = 1;
        close(drop);
    }
    FILE *f = fopen("/proc/kernel_usage", "r");
    char key[64];
    long value, v[6] = {0};
    const char *keys[6] = {"FreePages:", "CachedPages:", "HeapPages:",
                           "HeapBytes:", "Tasks:",       "OpenFiles:"};
    while (f && fscanf(f, "%63s %ld", key, &value) == 2)
        for (int i = 0; i < 6; i++)
            if (strcmp(key, keys[i]) == 0)
                v[i] = value;
    if (f)
        fclose(f);
    printf("exhaust: usage %s: free %ld cached %ld heap-pages %ld heap %ld tasks %ld files %ld\n",
           when, v[0], v[1], v[2], v[3], v[4], v[5]);
    fflush(stdout);
}

static char chunk[1 << 20];

/* Whether an 8 MiB file can be written and read back (and is removed again). */
static void still_works(const char *after)
{
    int ok = 1;
    int fd = open("/check", O_CREAT | O_RDWR | O_TRUNC, 0600);
    memset(chunk, 0x5a, sizeof chunk);
    for (int i = 0; ok && i < 8; i++)
        ok = write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk;
    for (int i = 0; ok && i < 8; i++)
        ok = pread(fd, chunk, sizeof chunk, (off_t)i << 20) == (ssize_t)sizeof chunk &&
             chunk[12345] == 0x5a;
    close(fd);
    unlink("/check");
    printf("exhaust: after %s, 8 MiB written and read back: %s\n", after, ok ? "ok" : "FAIL");
    fflush(stdout);
    failed |= !ok;
}

static void big_file(void)
{
    int fd = open("/big", O_CREAT | O_WRONLY | O_TRUNC, 0600);
    long mib = 0;
    int err = 0;
    for (;;) {
        ssize_t n = write(fd, chunk, sizeof chunk);
        if (n < 0) {
            err = errno;
            break;
        }
        mib++;
    }
    close(fd);
    unlink("/big");
    printf("exhaust: (%ld MiB written)\n", mib);
    report("one file in the root file system", err, ENOSPC);
    still_works("the big file");
}

static void many_files(void)
{
    char path[300];
    char stem[240];
    memset(stem, 'n', sizeof stem - 1);
    stem[sizeof stem - 1] = 0;
    mkdir("/many", 0700);
    long count = 0;
    int err = 0;
    for (;;) {
        snprintf(path, sizeof path, "/many/%s%ld", stem, count);
        int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);
        if (fd < 0) {
            err = errno;
            break;
        }
        close(fd);
        count++;
    }
    for (long i = 0; i < count; i++) {
        snprintf(path, sizeof path, "/many/%s%ld", stem, i);
        unlink(path);
    }
    rmdir("/many");
    printf("exhaust: (%ld files made)\n", count);
    report("empty files in the root file system", err, ENOSPC);
    still_works("the files");
}

#define PIPE_PROCS 40
#define PIPES_EACH 500

/* A child: makes and fills pipes until one fails, says which errno on `out` (0: all made),
 * then holds them until killed. */
static void pipe_holder(int out)
{
    int err = 0;
    for (int i = 0; i < PIPES_EACH && !err; i++) {
        int p[2];
        if (pipe2(p, O_NONBLOCK) != 0) {
            err = errno;
            break;
        }
        if (write(p[1], chunk, 65536) < 0)
            err = errno;
    }
    if (write(out, &err, sizeof err) != sizeof err)
        _exit(1);
    for (;;)
        pause();
}

static void pipes(void)
{
    int results[2];
    if (pipe(results) != 0) {
        report("pipes", errno, ENOMEM);
        return;
    }
    pid_t pids[PIPE_PROCS];
    int enomem = 0, other = 0;
    int forks_failed = 0;
    for (int i = 0; i < PIPE_PROCS; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            pipe_holder(results[1]);
        if (pids[i] < 0) {
            /* No memory left for another process: what Linux's fork says too. */
            if (errno == ENOMEM || errno == EAGAIN)
                forks_failed++;
            else
                other = errno;
            continue;
        }
        int err;
        if (read(results[0], &err, sizeof err) != sizeof err)
            err = -1;
        if (err == ENOMEM)
            enomem++;
        else if (err != 0)
            other = err;
    }
    for (int i = 0; i < PIPE_PROCS; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
    for (int i = 0; i < PIPE_PROCS; i++)
        if (pids[i] > 0)
            waitpid(pids[i], NULL, 0);
    close(results[0]);
    close(results[1]);
    printf("exhaust: (%d of %d processes ran out of memory for pipes, %d forks failed)\n",
           enomem, PIPE_PROCS, forks_failed);
    report("pipes written full in many processes", other ? other : enomem ? ENOMEM : 0, ENOMEM);
    still_works("the pipes");
}

int main(void)
{
    mount("proc", "/proc", "proc", 0, NULL);
    setrlimit(RLIMIT_NOFILE, &(struct rlimit){4096, 4096});
    still_works("boot"); /* the first run's tables and caches, before the first reading */
    usage("before");
    big_file();
    many_files();
    pipes();
    usage("after");
    printf("exhaust: %s\n", failed ? "FAIL" : "done");
    fflush(stdout);
    reboot(RB_POWER_OFF);
    return 0;
}
