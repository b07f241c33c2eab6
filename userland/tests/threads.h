/*
 * threads.h: what the thread test programs (thread-*.c) share besides check.h.
 *
 * Only the main thread prints: the other threads record what they saw in variables the
 * main thread checks after joining them, so the output never depends on which thread runs
 * first. Thread ids, addresses and times are compared inside the program; the output has
 * only the verdicts.
 *
 * Every program starts its watchdog first: a hang (a lost wake-up, a deadlock, a signal
 * never delivered) becomes a FAIL line and the end of the program and its children, well
 * before the runner's own limit.
 */
#ifndef TESSERA_THREADS_H
#define TESSERA_THREADS_H

#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/*
 * futex(2)'s operations and flags (Linux's include/uapi/linux/futex.h), defined here
 * because musl ships no kernel headers.
 */
#ifndef FUTEX_WAIT
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_BITSET_MATCH_ANY 0xffffffff
#endif

/* A hang ends the program after this long (the runner kills at 60 s). */
#define WATCHDOG_SECONDS 40

/* The kernel's id of the calling thread (musl before 1.2.2 has no gettid()). */
CHECK_HELPER pid_t thread_id(void)
{
    return (pid_t)syscall(SYS_gettid);
}

CHECK_HELPER void watchdog_fired(int sig)
{
    (void)sig;
    static const char line[] = "FAIL watchdog: the program hung (no end after 40 s)\n";
    ssize_t ignored = write(1, line, sizeof line - 1);
    (void)ignored;
    /* Under the runner the program leads its own process group (setpgid): its children
     * go with it. Started otherwise, it ends alone rather than kill its caller's group. */
    if (getpgrp() == getpid())
        kill(0, SIGKILL);
    _exit(1);
}

/* Arms the watchdog: SIGALRM after WATCHDOG_SECONDS prints a FAIL line and kills the
 * program's process group. Threads must not block SIGALRM for it to work. */
CHECK_HELPER void watchdog(void)
{
    struct sigaction sa = {.sa_handler = watchdog_fired};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(WATCHDOG_SECONDS);
}

/* pthread_create with default attributes; a failure ends the program. */
CHECK_HELPER pthread_t start(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    int e = pthread_create(&t, NULL, fn, arg);
    errno = e;
    REQUIRE("pthread_create", e == 0);
    return t;
}

/* pthread_join; returns what the thread returned. A failure ends the program. */
CHECK_HELPER void *join(pthread_t t)
{
    void *ret = NULL;
    int e = pthread_join(t, &ret);
    errno = e;
    REQUIRE("pthread_join", e == 0);
    return ret;
}

/* futex(2) without the C library (neither glibc nor musl wraps it). */
CHECK_HELPER long futex(int *addr, int op, int val, const struct timespec *timeout, int *addr2,
                        int val3)
{
    return syscall(SYS_futex, addr, op, val, timeout, addr2, val3);
}

/* Sleeps `ms` milliseconds (for polling loops; never a check of its own). */
CHECK_HELPER void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The clock `clock` plus `ms` milliseconds: a deadline. */
CHECK_HELPER struct timespec deadline_ms(clockid_t clock, long ms)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

/* Whether clock `clock` has reached `when`. */
CHECK_HELPER int reached(clockid_t clock, struct timespec when)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return now.tv_sec > when.tv_sec || (now.tv_sec == when.tv_sec && now.tv_nsec >= when.tv_nsec);
}

/* The entries of /proc/self/task (the threads), or -1; their ids go to `tids` (up to max). */
CHECK_HELPER int task_list(pid_t *tids, int max)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9') {
            if (n < max)
                tids[n] = atoi(e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

/* The number on the "Threads:" line of /proc/self/status, or -1. */
CHECK_HELPER int status_threads(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = 0, r;
    while (n < (ssize_t)sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += r;
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    const char *line = strstr(buf, "\nThreads:");
    return line ? atoi(line + strlen("\nThreads:")) : -1;
}

/*
 * Waits until /proc/self/task has `want` entries (a joined thread may still be leaving:
 * pthread_join returns when the kernel clears its tid, a little before the kernel forgets
 * it) and returns the count last seen. Bounded by the watchdog.
 */
CHECK_HELPER int settle_tasks(int want)
{
    pid_t tids[1];
    int n;
    for (int i = 0; i < 2000 && (n = task_list(tids, 0)) != want; i++)
        sleep_ms(1);
    return n;
}

#endif
