/*
 * pipes: pipe/pipe2 and their flags, capacity and O_NONBLOCK, PIPE_BUF atomicity between
 * concurrent writers, EOF rules, poll/select readiness on both ends, and a pipe opened
 * again through /proc/self/fd/N (what bash's process substitution does with /dev/fd/63):
 * a new end of the same pipe.
 */
#include "check.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/select.h>

static short revents(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

static void basics(void)
{
    int p[2];
    CHECK_EQ("pipe", pipe(p), 0);
    CHECK("pipe returns two new fds", p[0] >= 0 && p[1] >= 0 && p[0] != p[1]);
    CHECK_EQ("the read end is O_RDONLY", fcntl(p[0], F_GETFL) & O_ACCMODE, O_RDONLY);
    CHECK_EQ("the write end is O_WRONLY", fcntl(p[1], F_GETFL) & O_ACCMODE, O_WRONLY);
    CHECK_EQ("write to a pipe", write(p[1], "hello", 5), 5);
    char buf[16] = {0};
    CHECK_EQ("read returns what is buffered, not more", read(p[0], buf, sizeof buf), 5);
    CHECK_STR("the bytes come out in order", buf, "hello");
    CHECK_ERR("write to the read end -> EBADF", write(p[0], "x", 1), EBADF);
    CHECK_ERR("read from the write end -> EBADF", read(p[1], buf, 1), EBADF);
    struct stat st;
    fstat(p[0], &st);
    CHECK("fstat of a pipe says S_IFIFO", S_ISFIFO(st.st_mode));
    write(p[1], "abc", 3);
    int copy = dup(p[1]);
    close(p[1]);
    CHECK_EQ("data written before close is still read", read(p[0], buf, 2), 2);
    CHECK_EQ("a read takes only what it asks for", read(p[0], buf, 1), 1);
    CHECK_EQ("no EOF while a dup of the write end is open",
             revents(p[0], POLLIN) & (POLLIN | POLLHUP), 0);
    close(copy);
    CHECK_EQ("EOF (read returns 0) once every writer has closed", read(p[0], buf, 1), 0);
    CHECK_EQ("EOF again on the next read", read(p[0], buf, 1), 0);
    close(p[0]);

    CHECK_EQ("pipe2 O_CLOEXEC", pipe2(p, O_CLOEXEC), 0);
    CHECK("pipe2 O_CLOEXEC sets FD_CLOEXEC on both ends",
          fcntl(p[0], F_GETFD) == FD_CLOEXEC && fcntl(p[1], F_GETFD) == FD_CLOEXEC);
    close(p[0]);
    close(p[1]);
    CHECK_ERR("pipe2 with bad flags -> EINVAL", pipe2(p, O_APPEND), EINVAL);
    CHECK_EQ("pipe2 O_NONBLOCK", pipe2(p, O_NONBLOCK), 0);
    CHECK("both ends are O_NONBLOCK",
          (fcntl(p[0], F_GETFL) & O_NONBLOCK) && (fcntl(p[1], F_GETFL) & O_NONBLOCK));
    CHECK_ERR("read of an empty non-blocking pipe -> EAGAIN", read(p[0], buf, 1), EAGAIN);
    static char big[70000];
    long total = 0, n;
    while ((n = write(p[1], big, 4096)) > 0)
        total += n;
    CHECK_ERR("write to a full non-blocking pipe -> EAGAIN", write(p[1], big, 1), EAGAIN);
    CHECK_EQ("a pipe holds 65536 bytes", total, 65536);
    CHECK_EQ("F_GETPIPE_SZ", fcntl(p[1], F_GETPIPE_SZ), 65536);
    CHECK_EQ("a read frees room", read(p[0], big, 4096), 4096);
    CHECK_EQ("a write of up to PIPE_BUF then fits whole", write(p[1], big, PIPE_BUF), PIPE_BUF);
    close(p[0]);
    close(p[1]);
}

/*
 * Two children each write 64 records of PIPE_BUF bytes filled with their own letter; the
 * parent checks that every record arrives whole (writes of up to PIPE_BUF are atomic).
 */
static void atomicity(void)
{
    int p[2];
    pipe(p);
    for (int w = 0; w < 2; w++) {
        if (fork() == 0) {
            char record[PIPE_BUF];
            memset(record, 'a' + w, sizeof record);
            close(p[0]);
            for (int i = 0; i < 64; i++)
                if (write(p[1], record, sizeof record) != PIPE_BUF)
                    _exit(1);
            _exit(0);
        }
    }
    close(p[1]);
    char record[PIPE_BUF];
    int whole = 0, torn = 0, counts[2] = {0, 0};
    for (;;) {
        size_t have = 0;
        ssize_t n = 1;
        while (have < sizeof record && (n = read(p[0], record + have, sizeof record - have)) > 0)
            have += n;
        if (have == 0)
            break;
        int mixed = have != sizeof record;
        for (size_t i = 1; i < have; i++)
            mixed |= record[i] != record[0];
        if (mixed)
            torn++;
        else {
            whole++;
            counts[record[0] == 'b']++;
        }
    }
    close(p[0]);
    int st1, st2;
    wait(&st1);
    wait(&st2);
    CHECK("both writers wrote everything", st1 == 0 && st2 == 0);
    CHECK_EQ("records of PIPE_BUF bytes torn by a concurrent writer", torn, 0);
    CHECK_EQ("records received whole", whole, 128);
    CHECK("each writer's records all arrived", counts[0] == 64 && counts[1] == 64);
}

static void blocking(void)
{
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(50000);
        write(p[1], "late", 4);
        _exit(0);
    }
    char buf[8];
    CHECK_EQ("a read blocks until a writer writes", read(p[0], buf, sizeof buf), 4);
    waitpid(pid, NULL, 0);
    close(p[0]);
    close(p[1]);

    pipe(p);
    static char big[100000];
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        _exit(write(p[1], big, sizeof big) == sizeof big ? 0 : 1);
    }
    close(p[1]);
    usleep(50000);
    long total = 0, n;
    while ((n = read(p[0], big, sizeof big)) > 0)
        total += n;
    int st;
    waitpid(pid, &st, 0);
    CHECK_EQ("a write larger than the pipe blocks until all is read", total, sizeof big);
    CHECK_EQ("the blocked writer completes its write", st, 0);
    close(p[0]);
}

static void readiness(void)
{
    int p[2];
    pipe(p);
    CHECK_EQ("poll: an empty pipe is not readable", revents(p[0], POLLIN), 0);
    CHECK_EQ("poll: an empty pipe is writable", revents(p[1], POLLOUT), POLLOUT);
    struct pollfd none = {.fd = p[0], .events = POLLIN};
    CHECK_EQ("poll with a timeout and nothing ready returns 0", poll(&none, 1, 10), 0);
    write(p[1], "x", 1);
    CHECK_EQ("poll: data makes the read end readable", revents(p[0], POLLIN), POLLIN);
    struct pollfd both[2] = {{.fd = p[0], .events = POLLIN}, {.fd = p[1], .events = POLLOUT}};
    CHECK_EQ("poll counts the ready fds", poll(both, 2, 0), 2);
    close(p[1]);
    CHECK_EQ("poll: a closed writer gives POLLHUP with the data", revents(p[0], POLLIN),
             POLLIN | POLLHUP);
    char c;
    read(p[0], &c, 1);
    CHECK_EQ("poll: a drained pipe without writers is POLLHUP", revents(p[0], POLLIN), POLLHUP);
    close(p[0]);
    pipe(p);
    close(p[0]);
    CHECK_EQ("poll: a write end without readers is POLLERR", revents(p[1], POLLOUT),
             POLLOUT | POLLERR);
    close(p[1]);
    CHECK_EQ("poll: a closed fd is POLLNVAL", revents(p[1], POLLIN), POLLNVAL);
    struct pollfd ignored = {.fd = -1, .events = POLLIN};
    CHECK_EQ("poll ignores a negative fd", poll(&ignored, 1, 0), 0);

    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(50000);
        write(p[1], "y", 1);
        _exit(0);
    }
    struct pollfd wait_in = {.fd = p[0], .events = POLLIN};
    CHECK_EQ("poll blocks until a writer makes the pipe readable", poll(&wait_in, 1, 5000), 1);
    waitpid(pid, NULL, 0);
    read(p[0], &c, 1);

    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(p[0], &rd);
    FD_SET(p[1], &wr);
    struct timeval zero = {0, 0};
    CHECK_EQ("select: only the write end is ready", select(p[1] + 1, &rd, &wr, NULL, &zero), 1);
    CHECK("select clears the read end and keeps the write end",
          !FD_ISSET(p[0], &rd) && FD_ISSET(p[1], &wr));
    write(p[1], "z", 1);
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    struct timeval some = {1, 0};
    CHECK_EQ("select: data makes the read end ready", select(p[0] + 1, &rd, NULL, NULL, &some), 1);
    CHECK("select sets the read end", FD_ISSET(p[0], &rd));
    read(p[0], &c, 1);
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    struct timeval shortly = {0, 10000};
    CHECK_EQ("select times out on an empty pipe", select(p[0] + 1, &rd, NULL, NULL, &shortly), 0);
    close(p[1]);
    FD_SET(p[0], &rd);
    CHECK_EQ("select: EOF makes the read end ready", select(p[0] + 1, &rd, NULL, NULL, NULL), 1);
    FD_ZERO(&rd);
    FD_SET(p[1], &rd);
    CHECK_ERR("select on a closed fd -> EBADF", select(p[1] + 1, &rd, NULL, NULL, &zero), EBADF);
    close(p[0]);
    CHECK_ERR("select with a negative nfds -> EINVAL", select(-1, NULL, NULL, NULL, &zero),
              EINVAL);
    /* Raw calls: the C libraries check and normalise the timeout themselves. select's n is
     * an int, cut to the fd table's size; its timeout carries whole seconds out of tv_usec
     * before it is checked (fs/select.c, kern_select and core_sys_select). */
    CHECK_EQ("select with n past any fd table",
             syscall(SYS_select, 1 << 20, NULL, NULL, NULL, &zero), 0);
    CHECK_EQ("select's n is an int: (1<<32)+0 is 0",
             syscall(SYS_select, 1L << 32, NULL, NULL, NULL, &zero), 0);
    struct timeval carried = {-1, 1000000};
    CHECK_EQ("select's timeout {-1, 1000000} is no time",
             syscall(SYS_select, 0, NULL, NULL, NULL, &carried), 0);
    struct timeval negative = {0, -1};
    CHECK_ERR("select with a negative tv_usec -> EINVAL",
              syscall(SYS_select, 0, NULL, NULL, NULL, &negative), EINVAL);
}

static void reopened(void)
{
    int p[2];
    REQUIRE("pipe", pipe(p) == 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
    int r = open(path, O_RDONLY);
    CHECK("open /proc/self/fd/N of a read end", r >= 0);
    struct stat st;
    CHECK_OK("stat /proc/self/fd/N of a pipe", stat(path, &st));
    CHECK("it is a fifo", S_ISFIFO(st.st_mode));
    CHECK_OK("lstat of it", lstat(path, &st));
    CHECK("the link itself", S_ISLNK(st.st_mode));
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
    int w = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK("open /proc/self/fd/N of a write end (O_CREAT|O_TRUNC, as bash's >(...))", w >= 0);
    CHECK_EQ("write to the first write end", write(p[1], "ab", 2), 2);
    CHECK_EQ("write to the reopened one", write(w, "cd", 2), 2);
    char buf[8] = {0};
    CHECK_EQ("the reopened read end reads both", read(r, buf, sizeof buf), 4);
    CHECK_STR("in order", buf, "abcd");
    close(p[1]);
    int flags = fcntl(r, F_GETFL);
    CHECK_EQ("the reopened end is read-only", flags & O_ACCMODE, O_RDONLY);
    fcntl(r, F_SETFL, flags | O_NONBLOCK);
    CHECK_ERR("no EOF while the reopened writer lives", read(r, buf, 1), EAGAIN);
    close(w);
    CHECK_EQ("EOF after both writers closed", read(r, buf, 1), 0);
    CHECK_EQ("the first read end sees it too", read(p[0], buf, 1), 0);
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
    CHECK_ERR("O_NOFOLLOW on the link", open(path, O_RDONLY | O_NOFOLLOW), ELOOP);
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
    CHECK_ERR("the link of a closed fd", open(path, O_WRONLY), ENOENT);
    close(r);
    close(p[0]);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    basics();
    atomicity();
    blocking();
    readiness();
    reopened();
    return check_exit();
}
