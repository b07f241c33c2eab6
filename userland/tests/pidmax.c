/*
 * pidmax: /proc/sys/kernel/pid_max, and process ids handed out below it: after the largest
 * id the search starts again at 300 (Linux's RESERVED_PIDS), skips every id still in use
 * (by a task, or as the process group of live processes whose leader is gone), and fork
 * fails with EAGAIN when none is free (Linux 6.1, kernel/pid.c: alloc_pid).
 *
 * Needs root (conform runs as root). The file is restored before the program ends; the
 * checks print only what the rules fix, not the ids themselves.
 */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>

#define PID_MAX "/proc/sys/kernel/pid_max"

static char original[32];

static int read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, size - 1);
    int saved = errno;
    close(fd);
    if (n < 0)
        return -saved;
    buf[n] = 0;
    return (int)n;
}

/* Writes `text` to pid_max in one write(2); returns 0 or the errno. */
static int write_max(const char *text)
{
    int fd = open(PID_MAX, O_WRONLY | O_TRUNC);
    if (fd < 0)
        return errno;
    ssize_t n = write(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    return n < 0 ? saved : 0;
}

static int set_max(long value)
{
    char text[32];
    snprintf(text, sizeof text, "%ld\n", value);
    return write_max(text);
}

static void restore(void)
{
    write_max(original);
}

/* A child that exits at once, reaped; its pid, or -errno when fork failed. */
static pid_t fork_reaped(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return pid;
}

static void check_file(void)
{
    char buf[32];
    CHECK_EQ("read pid_max", read_file(PID_MAX, buf, sizeof buf) > 0, 1);
    CHECK_STR("pid_max at boot", buf, "32768\n");
    struct stat st;
    CHECK_OK("stat pid_max", stat(PID_MAX, &st));
    CHECK_EQ("pid_max mode", st.st_mode & 07777, 0644);
    CHECK_EQ("300 refused", write_max("300"), EINVAL);
    CHECK_EQ("4194305 refused", write_max("4194305"), EINVAL);
    CHECK_EQ("negative refused", write_max("-1"), EINVAL);
    CHECK_EQ("text refused", write_max("abc\n"), EINVAL);
    CHECK_EQ("trailing text refused", write_max("4000x"), EINVAL);
    CHECK_EQ("huge refused", write_max("99999999999999999999999"), EINVAL);
    CHECK_EQ("still the boot value", read_file(PID_MAX, buf, sizeof buf) > 0 &&
                                         strcmp(buf, "32768\n") == 0, 1);
    CHECK_EQ("4194304 taken", write_max(" 4194304\n"), 0);
    read_file(PID_MAX, buf, sizeof buf);
    CHECK_STR("read back", buf, "4194304\n");
    CHECK_EQ("301 taken", write_max("301"), 0);
    read_file(PID_MAX, buf, sizeof buf);
    CHECK_STR("read back 301", buf, "301\n");
    restore();
}

/* Ids go up to pid_max - 1, then start again at 300. */
static void check_wrap(void)
{
    /* Past RESERVED_PIDS first, so that the wrap goes to 300 (below it, Linux starts at 1). */
    pid_t last = 0;
    for (int i = 0; i < 2000 && last >= 0 && last < 320; i++)
        last = fork_reaped();
    REQUIRE("ids past 320", last >= 320);
    long max = last + 6;
    CHECK_EQ("pid_max set", set_max(max), 0);
    int below = 1, wrapped = 0, above_reserved = 1;
    pid_t previous = last;
    for (int i = 0; i < 12; i++) {
        pid_t pid = fork_reaped();
        if (pid < 0) {
            below = 0;
            break;
        }
        below &= pid < max;
        if (pid < previous) {
            wrapped = 1;
            above_reserved &= pid >= 300;
        }
        previous = pid;
    }
    CHECK("every id below pid_max", below);
    CHECK("ids wrapped", wrapped);
    CHECK("the wrap starts at 300", above_reserved);
    restore();
}

/*
 * With pid_max 302 only 300 and 301 can be handed out after a wrap (303 and 300 to 302
 * when this process is one of them: ids a < b below). A child E (a) makes its own process
 * group and forks G (b) into it, then exits and is reaped: a stays in use as G's group, so
 * fork fails with EAGAIN until G is gone too; then a comes back.
 */
static void check_in_use(void)
{
    pid_t self = getpid();
    pid_t a = self == 300 ? 301 : 300;
    pid_t b = self == a + 1 ? a + 2 : a + 1;
    CHECK_EQ("pid_max just above two free ids", set_max(b + 1), 0);
    int ready[2];
    REQUIRE("pipe", pipe(ready) == 0);
    pid_t e = fork();
    if (e == 0) {
        setpgid(0, 0);
        pid_t g = fork();
        if (g == 0) {
            close(ready[0]);
            write(ready[1], "g", 1);
            for (;;)
                pause();
        }
        _exit(g == b ? 0 : 1);
    }
    close(ready[1]);
    char byte;
    int status = -1;
    waitpid(e, &status, 0);
    int g_up = read(ready[0], &byte, 1) == 1;
    close(ready[0]);
    CHECK("E is the first free id", e == a);
    CHECK("G is the second", g_up && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ("fork while the group holds the first", fork_reaped(), -EAGAIN);
    kill(-a, SIGKILL);
    /* G is an orphan: process 1 reaps it. */
    for (int i = 0; i < 500 && kill(b, 0) == 0; i++)
        usleep(10000);
    CHECK_EQ("G reaped", kill(b, 0) == -1 && errno == ESRCH, 1);
    CHECK("the first free again", fork_reaped() == a);
    CHECK("then the second", fork_reaped() == b);
    CHECK("then the first again", fork_reaped() == a);
    restore();
}

int main(void)
{
    if (read_file(PID_MAX, original, sizeof original) <= 0) {
        say("FAIL no %s", PID_MAX);
        return 1;
    }
    check_file();
    check_wrap();
    check_in_use();
    char buf[32];
    read_file(PID_MAX, buf, sizeof buf);
    CHECK_STR("restored", buf, original);
    return check_exit();
}
