/*
 * bench: Tessera's system-call benchmark, a static Linux program (`cc -static -O2`) that
 * runs as /init on Tessera and on Linux alike, so both kernels run the very same binary.
 *
 * It times loops with clock_gettime(CLOCK_MONOTONIC) and prints one line per benchmark on
 * the console, then powers the machine off:
 *
 *     BENCH-START quick=0 benchmarks=getpid,read_null,...
 *     BENCH name=getpid iters=200000 total_ns=68800000 ns_per_op=344.0
 *     BENCH name=pipe iters=20000 total_ns=... ns_per_op=... bytes_per_op=4096 mb_per_s=...
 *     BENCH name=fork_exec error=execve: ENOENT
 *     BENCH-DONE
 *
 * `cargo xtask bench` parses these lines (xtask/src/bench/parse.rs). Under QEMU's
 * `-icount shift=0` a guest nanosecond is one guest instruction, so the same figure reads
 * as "instructions per operation". total_ns is the exact sum; ns_per_op is total_ns /
 * iters with one decimal (integer arithmetic, so the text is the same on every run).
 *
 * Each benchmark runs in a child process of its own: a warm-up of iters/10 operations, then
 * the timed iters. A benchmark that fails, crashes or runs longer than its limit prints an
 * error line instead of a time; the others still run.
 *
 * Arguments are words: `quick` (the small iteration counts, for tests),
 * `only=NAME,NAME` (a subset, run in table order) and `peer=ADDRESS:PORT` (the host peer
 * of the network benchmarks, net.c). They come from argv or, when argv has
 * none (Tessera starts init without arguments), from the file /bench-args, which the
 * harness writes into the initramfs. As process 1 the program first gives itself a console,
 * a tmpfs on /tmp and a devtmpfs on /dev when /dev/null is missing.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* A benchmark still running after this many guest seconds is killed and reported. */
#define LIMIT_SECONDS 600
#define QUICK_LIMIT_SECONDS 120
#define MAX_ARGS 16

/* Prints one line on fd 1 with a single write(2): nothing buffered across fork(). */
void say(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    for (int done = 0; done < n;) {
        ssize_t w = write(1, line + done, n - done);
        if (w <= 0)
            return;
        done += w;
    }
}

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char message[256];

const char *failed(const char *what)
{
    int e = errno;
    const char *name = strerrorname_np(e);
    if (name)
        snprintf(message, sizeof message, "%s: %s", what, name);
    else
        snprintf(message, sizeof message, "%s: errno %d", what, e);
    return message;
}

const char *failed_because(const char *what, long got, long want)
{
    snprintf(message, sizeof message, "%s: got %ld, want %ld", what, got, want);
    return message;
}

/* "12.3" for a / b with one decimal, rounded down: integers only, identical everywhere. */
static void ratio(char *out, size_t size, uint64_t a, uint64_t b)
{
    uint64_t tenths = b ? a * 10 / b : 0;
    snprintf(out, size, "%llu.%llu", (unsigned long long)(tenths / 10),
             (unsigned long long)(tenths % 10));
}

/* Runs one benchmark (in its own process) and prints its line; returns the exit status. */
static int run_one(const struct bench *b, long n)
{
    if (mkdir(BENCH_DIR, 0755) != 0 && errno != EEXIST) {
        say("BENCH name=%s error=%s", b->name, failed("mkdir " BENCH_DIR));
        return 1;
    }
    uint64_t ns = 0;
    long warm = n / 10 > 0 ? n / 10 : 1;
    const char *why = b->body(warm, &ns);
    if (!why) {
        ns = 0;
        why = b->body(n, &ns);
    }
    if (why) {
        say("BENCH name=%s error=%s", b->name, why);
        return 1;
    }
    char per_op[32], extra[96] = "";
    ratio(per_op, sizeof per_op, ns, n);
    if (b->bytes_per_op) {
        char mb[32];
        /* bytes per microsecond = MB/s (10^6 bytes). */
        ratio(mb, sizeof mb, (uint64_t)b->bytes_per_op * n * 1000, ns);
        snprintf(extra, sizeof extra, " bytes_per_op=%ld mb_per_s=%s", b->bytes_per_op, mb);
    }
    say("BENCH name=%s iters=%ld total_ns=%llu ns_per_op=%s%s", b->name, n,
        (unsigned long long)ns, per_op, extra);
    return 0;
}

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
}

/* Runs `b` in a child process and reports what the child could not: a crash or a hang. */
static void run_isolated(const struct bench *b, long n, int limit)
{
    pid_t pid = fork();
    if (pid < 0) {
        say("BENCH name=%s error=%s", b->name, failed("fork"));
        return;
    }
    if (pid == 0) {
        setpgid(0, 0);
        _exit(run_one(b, n));
    }
    setpgid(pid, pid);
    timed_out = 0;
    alarm(limit);
    for (;;) {
        int status;
        pid_t got = wait4(-1, &status, 0, NULL); /* as process 1, orphans come here too */
        if (got == pid) {
            alarm(0);
            if (WIFSIGNALED(status))
                say("BENCH name=%s error=killed by signal %d", b->name, WTERMSIG(status));
            else if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
                say("BENCH name=%s error=benchmark process ended with status %d", b->name,
                    status);
            return;
        }
        if (got < 0 && errno == EINTR && timed_out == 1) {
            say("BENCH name=%s error=timeout after %d s", b->name, limit);
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            timed_out = 2; /* reported: the killed child is reaped above, silently */
        } else if (got < 0 && errno != EINTR) {
            say("BENCH name=%s error=%s", b->name, failed("wait4"));
            return;
        }
    }
}

static void console(void)
{
    if (fcntl(1, F_GETFD) >= 0)
        return;
    int fd = open("/dev/console", O_RDWR);
    if (fd < 0)
        return;
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

/* The file systems the benchmarks use; a failure shows up as the benchmarks' errors. */
static void prepare(void)
{
    mkdir("/tmp", 01777);
    if (!mounted("/tmp", "/") && mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777") != 0)
        say("bench: %s", failed("mount tmpfs on /tmp"));
    mkdir("/dev", 0755);
    if (access("/dev/null", W_OK) != 0 && mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) != 0)
        say("bench: %s", failed("mount devtmpfs on /dev"));
}

/* The words of /bench-args, split in place into `words`; returns how many. */
static int read_args_file(char *text, size_t size, char **words)
{
    int fd = open("/bench-args", O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t len = read(fd, text, size - 1);
    close(fd);
    if (len <= 0)
        return 0;
    text[len] = 0;
    int count = 0;
    for (char *word = strtok(text, " \t\n"); word && count < MAX_ARGS;
         word = strtok(NULL, " \t\n"))
        words[count++] = word;
    return count;
}

/* Whether `name` is in the comma-separated `list`. */
static int listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *at = list; *at;) {
        const char *end = strchr(at, ',');
        size_t item = end ? (size_t)(end - at) : strlen(at);
        if (item == len && strncmp(at, name, len) == 0)
            return 1;
        at += item + (end != NULL);
    }
    return 0;
}

/* Checks the words and sets `quick` and `only`; on a bad word says why and returns -1. */
static int parse_args(int count, char **words, int *quick, const char **only)
{
    for (int i = 0; i < count; i++) {
        if (strcmp(words[i], "quick") == 0) {
            *quick = 1;
        } else if (strncmp(words[i], "only=", 5) == 0) {
            *only = words[i] + 5;
        } else if (strncmp(words[i], "peer=", 5) == 0 && net_peer(words[i] + 5) == 0) {
            continue;
        } else {
            say("BENCH-ERROR bad argument `%s` (allowed: quick, only=NAME,NAME, "
                "peer=ADDRESS:PORT)",
                words[i]);
            return -1;
        }
    }
    if (!*only)
        return 0;
    /* Every listed name must exist: a typo must not pass as "nothing to run". */
    char copy[512];
    snprintf(copy, sizeof copy, "%s", *only);
    for (char *name = strtok(copy, ","); name; name = strtok(NULL, ",")) {
        int known = 0;
        for (const struct bench *b = benchmarks; b->name; b++)
            known |= strcmp(b->name, name) == 0;
        if (!known) {
            say("BENCH-ERROR unknown benchmark `%s`", name);
            return -1;
        }
    }
    return 0;
}

static void finish(int init)
{
    if (!init)
        return;
    net_finish();
    tcdrain(1); /* Linux's serial driver may still hold the last lines */
    sync();
    reboot(RB_POWER_OFF);
    say("bench: %s", failed("reboot(RB_POWER_OFF)"));
}

int main(int argc, char **argv)
{
    int init = getpid() == 1;
    if (init) {
        console();
        prepare();
    }
    static char text[512];
    char *file_words[MAX_ARGS];
    char **words = argv + 1;
    int count = argc - 1;
    if (count == 0) {
        count = read_args_file(text, sizeof text, file_words);
        words = file_words;
    }
    int quick = 0;
    const char *only = NULL;
    if (parse_args(count, words, &quick, &only) != 0) {
        finish(init);
        return 2;
    }
    struct sigaction watchdog = {.sa_handler = on_alarm}; /* no SA_RESTART: wait4 stops */
    sigemptyset(&watchdog.sa_mask);
    sigaction(SIGALRM, &watchdog, NULL);

    char names[1024] = "";
    for (const struct bench *b = benchmarks; b->name; b++)
        if (!only || listed(only, b->name))
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     names[0] ? "," : "", b->name);
    say("BENCH-START quick=%d benchmarks=%s", quick, names);
    for (const struct bench *b = benchmarks; b->name; b++) {
        if (only && !listed(only, b->name))
            continue;
        if (b->net)
            net_prepare();
        run_isolated(b, quick ? b->quick_iters : b->iters,
                     quick ? QUICK_LIMIT_SECONDS : LIMIT_SECONDS);
    }
    say("BENCH-DONE");
    finish(init);
    return 0;
}
