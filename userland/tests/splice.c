/*
 * splice: splice, tee and vmsplice (Linux 6.1, fs/splice.c). A file through a pipe into
 * another file at given offsets and at the file offsets (checksums compared), pipe to pipe,
 * sockets at either end, tee (the input stays), vmsplice into a pipe and out of one, every
 * errno in the order Linux checks them, blocking on an empty or full pipe (a child that
 * sleeps, then writes or reads), SIGPIPE and EPIPE, and EAGAIN from SPLICE_F_NONBLOCK or
 * a pipe end's O_NONBLOCK.
 *
 * Only what every correct kernel prints: counts stay within what an empty pipe holds
 * (Linux counts a pipe's room in 16 page buffers, so a splice into a pipe that already
 * holds a few bytes may take less there than a byte ring takes), offsets in a file are
 * page-aligned where a splice fills the pipe, and no buffer changes while a pipe still
 * holds bytes spliced from it (Linux's pipe may hold references to the pages).
 */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define BIG 200000
#define PIPE_SIZE 65536

static long splice_(int in, int64_t *off_in, int out, int64_t *off_out, size_t len,
                    unsigned flags)
{
    return syscall(SYS_splice, in, off_in, out, off_out, len, flags);
}

static long tee_(int in, int out, size_t len, unsigned flags)
{
    return syscall(SYS_tee, in, out, len, flags);
}

static long vmsplice_(int fd, const struct iovec *iov, unsigned long n, unsigned flags)
{
    return syscall(SYS_vmsplice, fd, iov, n, flags);
}

static unsigned char pattern(long i)
{
    return (unsigned char)(i * 7 + i / 251);
}

/* FNV-1a over a file's first `len` bytes (read with pread). */
static uint64_t checksum(int fd, long len)
{
    static unsigned char buf[8192];
    uint64_t h = 1469598103934665603ULL;
    for (long at = 0; at < len;) {
        long n = pread(fd, buf, len - at < (long)sizeof buf ? len - at : (long)sizeof buf, at);
        if (n <= 0)
            return 0;
        for (long i = 0; i < n; i++)
            h = (h ^ buf[i]) * 1099511628211ULL;
        at += n;
    }
    return h;
}

static int big_file(const char *name)
{
    static unsigned char data[BIG];
    for (long i = 0; i < BIG; i++)
        data[i] = pattern(i);
    int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
    REQUIRE("input file written", write(fd, data, BIG) == BIG);
    return fd;
}

static void fresh_pipe(int p[2])
{
    REQUIRE("pipe", pipe(p) == 0);
}

/* Two pipes, `data` written into the first. */
static void two_pipes(int a[2], int b[2], const char *data)
{
    fresh_pipe(a);
    fresh_pipe(b);
    write(a[1], data, strlen(data));
}

/* A pipe with a pipeful in it, written at once (16 full pages on Linux). */
static void full_pipe(int p[2])
{
    static char fill[PIPE_SIZE];
    fresh_pipe(p);
    REQUIRE("pipe filled", write(p[1], fill, PIPE_SIZE) == PIPE_SIZE);
}

static void close_pipe(int p[2])
{
    close(p[0]);
    close(p[1]);
}

/* Reads up to `len` bytes into a NUL-terminated string. */
static const char *drain_str(int fd, size_t len)
{
    static char buf[256];
    long n = read(fd, buf, len < sizeof buf - 1 ? len : sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

static void file_pipe_file(void)
{
    int in = big_file("s-in");
    uint64_t want = checksum(in, BIG);
    int p[2];
    fresh_pipe(p);

    /* At given offsets, one pipeful a step: the file offsets stay. */
    int out = open("s-out", O_CREAT | O_RDWR | O_TRUNC, 0644);
    int64_t off_in = 0, off_out = 0;
    int steps = 0, short_steps = 0;
    for (;;) {
        long n = splice_(in, &off_in, p[1], NULL, PIPE_SIZE, 0);
        if (n <= 0)
            break;
        long m = splice_(p[0], NULL, out, &off_out, n, 0);
        steps++;
        if (m != n || n != (off_in == BIG ? BIG % PIPE_SIZE : PIPE_SIZE))
            short_steps++;
    }
    CHECK_EQ("file -> pipe -> file in pipefuls: steps", steps, (BIG + PIPE_SIZE - 1) / PIPE_SIZE);
    CHECK_EQ("... every step moved a pipeful (the last the rest)", short_steps, 0);
    CHECK("... both offsets advanced to the end", off_in == BIG && off_out == BIG);
    CHECK_EQ("... the input's file offset stayed", lseek(in, 0, SEEK_CUR), BIG);
    CHECK_EQ("... the output's file offset stayed", lseek(out, 0, SEEK_CUR), 0);
    CHECK("... the copy's checksum is the input's", checksum(out, BIG) == want);
    CHECK_EQ("splice from the end of the input -> 0", splice_(in, &off_in, p[1], NULL, 10, 0), 0);
    close(out);

    /* At the file offsets, in odd steps. */
    out = open("s-out2", O_CREAT | O_RDWR | O_TRUNC, 0644);
    lseek(in, 0, SEEK_SET);
    long total = 0;
    int bad = 0;
    for (;;) {
        long n = splice_(in, NULL, p[1], NULL, 12345, 0);
        if (n <= 0)
            break;
        if (splice_(p[0], NULL, out, NULL, 100000, 0) != n)
            bad++;
        total += n;
        if (lseek(in, 0, SEEK_CUR) != total || lseek(out, 0, SEEK_CUR) != total)
            bad++;
    }
    CHECK_EQ("file -> pipe -> file at the file offsets, 12345 a step: bytes", total, BIG);
    CHECK_EQ("... each step drained the pipe and moved both file offsets", bad, 0);
    CHECK("... the copy's checksum is the input's", checksum(out, BIG) == want);
    close(out);

    /* A large length stops at what the pipe holds, a pipe into a file at what it has. */
    off_in = 0;
    CHECK_EQ("file -> pipe of SIZE_MAX bytes fills the pipe",
             splice_(in, &off_in, p[1], NULL, SIZE_MAX, 0), PIPE_SIZE);
    CHECK_EQ("... the offset advanced by that", off_in, PIPE_SIZE);
    CHECK_ERR("... a full pipe with SPLICE_F_NONBLOCK -> EAGAIN",
              splice_(in, &off_in, p[1], NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
    out = open("s-out3", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK_EQ("pipe -> file of 1 MB takes the pipeful there is",
             splice_(p[0], NULL, out, NULL, 1 << 20, 0), PIPE_SIZE);
    off_in = 4096;
    CHECK_EQ("file -> pipe of 1000 bytes at 4096", splice_(in, &off_in, p[1], NULL, 1000, 0),
             1000);
    off_out = 50;
    CHECK_EQ("pipe -> file of 400 of them at 50", splice_(p[0], NULL, out, &off_out, 400, 0),
             400);
    CHECK_EQ("... the given offset advanced", off_out, 450);
    CHECK_EQ("pipe -> file of the other 600, flags MOVE|MORE|GIFT",
             splice_(p[0], NULL, out, &off_out,
                     600, SPLICE_F_MOVE | SPLICE_F_MORE | SPLICE_F_GIFT), 600);
    unsigned char buf[1000];
    CHECK_EQ("... the output holds them", pread(out, buf, 1000, 50), 1000);
    int same = 1;
    for (int i = 0; i < 1000; i++)
        same &= buf[i] == pattern(4096 + i);
    CHECK("... in order", same);
    close(out);
    close_pipe(p);
    close(in);
    unlink("s-in");
    unlink("s-out");
    unlink("s-out2");
    unlink("s-out3");
}

static void pipe_pipe(void)
{
    int a[2], b[2];
    two_pipes(a, b, "abcdef");
    CHECK_EQ("pipe -> pipe of 4 of 6 bytes", splice_(a[0], NULL, b[1], NULL, 4, 0), 4);
    CHECK_STR("... the output has them", drain_str(b[0], 100), "abcd");
    CHECK_STR("... the input the rest", drain_str(a[0], 100), "ef");
    write(a[1], "xyz", 3);
    CHECK_EQ("pipe -> pipe of more than there is", splice_(a[0], NULL, b[1], NULL, 1000, 0), 3);
    CHECK_STR("... all of it", drain_str(b[0], 100), "xyz");
    CHECK_ERR("pipe -> pipe from an empty pipe, SPLICE_F_NONBLOCK -> EAGAIN",
              splice_(a[0], NULL, b[1], NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
    fcntl(b[1], F_SETFL, O_NONBLOCK);
    CHECK_ERR("... the output O_NONBLOCK -> EAGAIN", splice_(a[0], NULL, b[1], NULL, 10, 0),
              EAGAIN);
    fcntl(b[1], F_SETFL, 0);
    close_pipe(b);
    full_pipe(b);
    write(a[1], "q", 1);
    CHECK_ERR("pipe -> full pipe, SPLICE_F_NONBLOCK -> EAGAIN",
              splice_(a[0], NULL, b[1], NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
    close_pipe(b);
    fresh_pipe(b);
    close(a[1]);
    CHECK_EQ("pipe -> pipe moves the last byte after the writer left",
             splice_(a[0], NULL, b[1], NULL, 10, 0), 1);
    CHECK_EQ("pipe -> pipe from an empty pipe without writers -> 0",
             splice_(a[0], NULL, b[1], NULL, 10, 0), 0);
    close(b[0]);
    CHECK_ERR("... to a pipe without readers -> EPIPE (before the end of the input)",
              splice_(a[0], NULL, b[1], NULL, 10, 0), EPIPE);
    close(a[0]);
    close(b[1]);
}

static void sockets(void)
{
    int s[2], p[2];
    REQUIRE("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
    fresh_pipe(p);
    write(p[1], "to the socket", 13);
    CHECK_EQ("pipe -> socket", splice_(p[0], NULL, s[0], NULL, 100, 0), 13);
    CHECK_STR("... the peer reads it", drain_str(s[1], 100), "to the socket");
    write(s[1], "from it", 7);
    CHECK_EQ("socket -> pipe takes what is there", splice_(s[0], NULL, p[1], NULL, 100, 0), 7);
    CHECK_STR("... the pipe holds it", drain_str(p[0], 100), "from it");
    int64_t off = 0;
    CHECK_ERR("socket -> pipe with an offset -> EINVAL", splice_(s[0], &off, p[1], NULL, 10, 0),
              EINVAL);
    CHECK_ERR("pipe -> socket with an offset -> EINVAL", splice_(p[0], NULL, s[0], &off, 10, 0),
              EINVAL);
    close_pipe(p);
    close(s[0]);
    close(s[1]);
}

static void errnos(void)
{
    int p[2], q[2];
    fresh_pipe(p);
    fresh_pipe(q);
    int f = open("s-file", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(f, "0123456789", 10);
    int ro = open("s-file", O_RDONLY);
    int wo = open("s-file", O_WRONLY);
    int app = open("s-file", O_WRONLY | O_APPEND);
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    int64_t off = 0, neg = -1;

    CHECK_EQ("splice of 0 bytes -> 0, before the fds and flags", splice_(-1, NULL, -1, NULL, 0, ~0U),
             0);
    CHECK_ERR("splice with an unknown flag -> EINVAL", splice_(p[0], NULL, f, NULL, 1, 0x10),
              EINVAL);
    CHECK_ERR("splice from a bad fd -> EBADF", splice_(99, NULL, p[1], NULL, 1, 0), EBADF);
    CHECK_ERR("splice to a bad fd -> EBADF", splice_(f, NULL, 99, NULL, 1, 0), EBADF);
    CHECK_ERR("splice from a pipe with an offset -> ESPIPE", splice_(p[0], &off, f, NULL, 1, 0),
              ESPIPE);
    CHECK_ERR("splice to a pipe with an offset -> ESPIPE", splice_(f, NULL, p[1], &off, 1, 0),
              ESPIPE);
    CHECK_ERR("... from a pipe's write end with an offset: ESPIPE before EBADF",
              splice_(p[1], &off, f, NULL, 1, 0), ESPIPE);
    CHECK_ERR("splice with an unreadable offset -> EFAULT",
              splice_(f, (int64_t *)8, p[1], NULL, 1, 0), EFAULT);
    CHECK_ERR("splice from a write-only file -> EBADF", splice_(wo, NULL, p[1], NULL, 1, 0),
              EBADF);
    CHECK_ERR("splice to a read-only file -> EBADF", splice_(p[0], NULL, ro, NULL, 1, 0), EBADF);
    CHECK_ERR("splice from a pipe's write end -> EBADF", splice_(p[1], NULL, f, NULL, 1, 0),
              EBADF);
    CHECK_ERR("splice to a pipe's read end -> EBADF", splice_(f, NULL, p[0], NULL, 1, 0), EBADF);
    CHECK_ERR("splice between the ends of one pipe -> EINVAL",
              splice_(p[0], NULL, p[1], NULL, 1, 0), EINVAL);
    CHECK_ERR("splice between two files -> EINVAL", splice_(f, NULL, wo, NULL, 1, 0), EINVAL);
    CHECK_ERR("splice to an O_APPEND file -> EINVAL", splice_(p[0], NULL, app, NULL, 1, 0),
              EINVAL);
    CHECK_ERR("splice to a negative offset -> EINVAL", splice_(p[0], NULL, f, &neg, 1, 0),
              EINVAL);
    CHECK_ERR("splice from a negative offset -> EINVAL", splice_(f, &neg, p[1], NULL, 1, 0),
              EINVAL);
    int64_t high = INT64_MAX - 10;
    CHECK_ERR("splice to an offset the length carries past 2^63 -> EINVAL",
              splice_(p[0], NULL, f, &high, 100, 0), EINVAL);
    CHECK_ERR("splice to a file of SIZE_MAX bytes -> EINVAL (negative as ssize_t)",
              splice_(p[0], NULL, f, NULL, SIZE_MAX, 0), EINVAL);
    CHECK_ERR("splice from a directory -> EINVAL", splice_(dir, NULL, p[1], NULL, 1, 0), EINVAL);
    CHECK_ERR("splice from an empty pipe, SPLICE_F_NONBLOCK -> EAGAIN",
              splice_(p[0], NULL, f, NULL, 1, SPLICE_F_NONBLOCK), EAGAIN);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    CHECK_ERR("splice from an empty O_NONBLOCK pipe -> EAGAIN", splice_(p[0], NULL, f, NULL, 1, 0),
              EAGAIN);
    fcntl(p[0], F_SETFL, 0);
    CHECK_EQ("... a file offset that moved nothing stays", lseek(f, 0, SEEK_CUR), 10);

    CHECK_ERR("tee with an unknown flag and 0 bytes -> EINVAL (flags first)",
              tee_(p[0], q[1], 0, 0x10), EINVAL);
    CHECK_EQ("tee of 0 bytes -> 0, before the fds", tee_(-1, -1, 0, 0), 0);
    CHECK_ERR("tee from a bad fd -> EBADF", tee_(99, q[1], 1, 0), EBADF);
    CHECK_ERR("tee from a pipe's write end -> EBADF", tee_(p[1], q[1], 1, 0), EBADF);
    CHECK_ERR("tee to a pipe's read end -> EBADF", tee_(p[0], q[0], 1, 0), EBADF);
    CHECK_ERR("tee from a file -> EINVAL", tee_(f, q[1], 1, 0), EINVAL);
    CHECK_ERR("tee to a file -> EINVAL", tee_(p[0], f, 1, 0), EINVAL);
    CHECK_ERR("tee between the ends of one pipe -> EINVAL", tee_(p[0], p[1], 1, 0), EINVAL);
    CHECK_ERR("tee from an empty pipe, SPLICE_F_NONBLOCK -> EAGAIN",
              tee_(p[0], q[1], 1, SPLICE_F_NONBLOCK), EAGAIN);

    struct iovec iov = {(void *)"abc", 3};
    struct iovec none = {NULL, 0};
    CHECK_ERR("vmsplice with an unknown flag -> EINVAL", vmsplice_(p[1], &iov, 1, 0x10), EINVAL);
    CHECK_ERR("vmsplice on a bad fd -> EBADF", vmsplice_(99, &iov, 1, 0), EBADF);
    CHECK_ERR("vmsplice of 1025 iovecs -> EINVAL", vmsplice_(p[1], &iov, 1025, 0), EINVAL);
    CHECK_ERR("vmsplice of an unreadable iovec array -> EFAULT", vmsplice_(p[1], NULL, 1, 0),
              EFAULT);
    CHECK_EQ("vmsplice of 0 bytes to a file -> 0", vmsplice_(f, &none, 1, 0), 0);
    CHECK_ERR("vmsplice of bytes to a file -> EBADF", vmsplice_(f, &iov, 1, 0), EBADF);
    CHECK_ERR("... to a read-only file -> EBADF", vmsplice_(ro, &iov, 1, 0), EBADF);
    struct iovec bad = {(void *)8, 3};
    CHECK_ERR("vmsplice of unreadable bytes into a pipe -> EFAULT", vmsplice_(p[1], &bad, 1, 0),
              EFAULT);
    CHECK_ERR("vmsplice from an empty pipe, SPLICE_F_NONBLOCK -> EAGAIN",
              vmsplice_(p[0], &iov, 1, SPLICE_F_NONBLOCK), EAGAIN);
    write(p[1], "kept", 4);
    CHECK_ERR("vmsplice from a pipe into unwritable memory -> EFAULT",
              vmsplice_(p[0], &bad, 1, 0), EFAULT);
    CHECK_STR("... the bytes stay in the pipe", drain_str(p[0], 100), "kept");
    int path = open("s-file", O_PATH);
    CHECK_ERR("vmsplice on an O_PATH fd -> EBADF", vmsplice_(path, &iov, 1, 0), EBADF);

    close(path);
    close(f);
    close(ro);
    close(wo);
    close(app);
    close(dir);
    close_pipe(p);
    close_pipe(q);
    unlink("s-file");
}

static void teeing(void)
{
    int a[2], b[2];
    two_pipes(a, b, "hello world");
    CHECK_EQ("tee of 5 bytes", tee_(a[0], b[1], 5, 0), 5);
    CHECK_STR("... the output has them", drain_str(b[0], 100), "hello");
    CHECK_EQ("tee of more than there is", tee_(a[0], b[1], 100, 0), 11);
    CHECK_STR("... the output has all of it", drain_str(b[0], 100), "hello world");
    CHECK_STR("... the input still has all of it", drain_str(a[0], 100), "hello world");
    close(a[1]);
    CHECK_EQ("tee from an empty pipe without writers -> 0", tee_(a[0], b[1], 10, 0), 0);
    close(a[0]);
    fresh_pipe(a);
    write(a[1], "x", 1);
    close(b[0]);
    CHECK_ERR("tee to a pipe without readers -> EPIPE", tee_(a[0], b[1], 10, 0), EPIPE);
    close_pipe(a);
    close(b[1]);
}

static void vmsplicing(void)
{
    int p[2];
    fresh_pipe(p);
    static const char one[] = "abc", two[] = "defgh";
    struct iovec in[2] = {{(void *)one, 3}, {(void *)two, 5}};
    CHECK_EQ("vmsplice of two buffers into a pipe", vmsplice_(p[1], in, 2, 0), 8);
    CHECK_STR("... read back in order", drain_str(p[0], 100), "abcdefgh");
    write(p[1], "0123456789", 10);
    char x[4] = {0}, y[16] = {0};
    struct iovec out[2] = {{x, 4}, {y, 16}};
    CHECK_EQ("vmsplice out of a pipe into two buffers", vmsplice_(p[0], out, 2, 0), 10);
    CHECK("... filled in order", memcmp(x, "0123", 4) == 0 && strcmp(y, "456789") == 0);
    /* Page-aligned: Linux takes a pipeful of pages, not of bytes. */
    static char fill[PIPE_SIZE] __attribute__((aligned(4096)));
    struct iovec big = {fill, PIPE_SIZE};
    CHECK_EQ("vmsplice of a pipeful", vmsplice_(p[1], &big, 1, 0), PIPE_SIZE);
    CHECK_ERR("vmsplice into a full pipe, SPLICE_F_NONBLOCK -> EAGAIN",
              vmsplice_(p[1], in, 2, SPLICE_F_NONBLOCK), EAGAIN);
    static char sink[PIPE_SIZE];
    struct iovec all = {sink, sizeof sink};
    CHECK_EQ("vmsplice out of it all", vmsplice_(p[0], &all, 1, 0), PIPE_SIZE);
    close(p[1]);
    CHECK_EQ("vmsplice from an empty pipe without writers -> 0", vmsplice_(p[0], out, 2, 0), 0);
    close(p[0]);
    fresh_pipe(p);
    close(p[0]);
    CHECK_ERR("vmsplice into a pipe without readers -> EPIPE", vmsplice_(p[1], in, 2, 0), EPIPE);
    close(p[1]);
}

/* A child that sleeps, then writes `data` to fd (or, with data NULL, reads 4096 bytes). */
static pid_t later(int fd, const char *data, int close_first)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (close_first >= 0)
            close(close_first);
        usleep(200000);
        if (data) {
            write(fd, data, strlen(data));
        } else {
            static char buf[4096];
            read(fd, buf, sizeof buf);
        }
        _exit(0);
    }
    return pid;
}

static void reap(pid_t pid)
{
    int status;
    waitpid(pid, &status, 0);
}

static void blocking(void)
{
    int p[2], q[2];
    int out = open("s-block", O_CREAT | O_RDWR | O_TRUNC, 0644);

    fresh_pipe(p);
    pid_t pid = later(p[1], "late data", p[0]);
    close(p[1]);
    CHECK_EQ("splice from an empty pipe waits for the writer", splice_(p[0], NULL, out, NULL, 100, 0),
             9);
    CHECK_EQ("... then the writer's exit is the end", splice_(p[0], NULL, out, NULL, 100, 0), 0);
    reap(pid);
    close(p[0]);

    fresh_pipe(p);
    fresh_pipe(q);
    pid = later(p[1], "teed", p[0]);
    CHECK_EQ("tee from an empty pipe waits for the writer", tee_(p[0], q[1], 100, 0), 4);
    CHECK_STR("... the output has it", drain_str(q[0], 100), "teed");
    reap(pid);
    CHECK_STR("... the input still has it", drain_str(p[0], 100), "teed");
    pid = later(p[1], "moved", p[0]);
    CHECK_EQ("pipe -> pipe from an empty pipe waits for the writer",
             splice_(p[0], NULL, q[1], NULL, 100, 0), 5);
    CHECK_STR("... moved", drain_str(q[0], 100), "moved");
    reap(pid);
    pid = later(p[1], "to memory", p[0]);
    char buf[32] = {0};
    struct iovec iov = {buf, sizeof buf - 1};
    CHECK_EQ("vmsplice from an empty pipe waits for the writer", vmsplice_(p[0], &iov, 1, 0), 9);
    CHECK_STR("... the buffer has it", buf, "to memory");
    reap(pid);

    close_pipe(p);

    /* A full pipe (a fresh one each time): the child reads a page, the call goes on. */
    write(out, "0123456789", 10);
    int64_t off = 0;
    full_pipe(p);
    pid = later(p[0], NULL, -1);
    CHECK_EQ("splice into a full pipe waits for the reader", splice_(out, &off, p[1], NULL, 10, 0),
             10);
    reap(pid);
    close_pipe(p);
    full_pipe(p);
    pid = later(p[0], NULL, -1);
    CHECK_EQ("vmsplice into a full pipe waits for the reader", vmsplice_(p[1], &iov, 1, 0),
             sizeof buf - 1);
    reap(pid);
    close_pipe(p);
    full_pipe(p);
    write(q[1], "abc", 3);
    pid = later(p[0], NULL, -1);
    CHECK_EQ("pipe -> full pipe waits for the reader", splice_(q[0], NULL, p[1], NULL, 3, 0), 3);
    reap(pid);
    close_pipe(p);
    close_pipe(q);
    close(out);
    unlink("s-block");
}

static int sigpipe_splice(void)
{
    signal(SIGPIPE, SIG_DFL);
    int p[2], f = open("s-sig", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(f, "x", 1);
    int64_t off = 0;
    pipe(p);
    close(p[0]);
    splice_(f, &off, p[1], NULL, 1, 0);
    return 0;
}

static int sigpipe_tee(void)
{
    signal(SIGPIPE, SIG_DFL);
    int a[2], b[2];
    pipe(a);
    pipe(b);
    write(a[1], "x", 1);
    close(b[0]);
    tee_(a[0], b[1], 1, 0);
    return 0;
}

static int sigpipe_vmsplice(void)
{
    signal(SIGPIPE, SIG_DFL);
    int p[2];
    struct iovec iov = {(void *)"x", 1};
    pipe(p);
    close(p[0]);
    vmsplice_(p[1], &iov, 1, 0);
    return 0;
}

static void broken_pipes(void)
{
    int st = child_status(sigpipe_splice);
    CHECK("splice into a pipe without readers: SIGPIPE", WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
    st = child_status(sigpipe_tee);
    CHECK("tee into a pipe without readers: SIGPIPE", WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
    st = child_status(sigpipe_vmsplice);
    CHECK("vmsplice into a pipe without readers: SIGPIPE",
          WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
    int p[2], f = open("s-sig", O_RDONLY);
    int64_t off = 0;
    fresh_pipe(p);
    close(p[0]);
    CHECK_ERR("... with SIGPIPE ignored: EPIPE", splice_(f, &off, p[1], NULL, 1, 0), EPIPE);
    CHECK_ERR("... also for a bad offset (the pipe first)", splice_(f, (int64_t[]){-1}, p[1], NULL, 1, 0),
              EPIPE);
    close(p[1]);
    close(f);
    unlink("s-sig");
}

int main(void)
{
    /* EPIPE checks need SIGPIPE ignored; the children that die of it restore it. */
    signal(SIGPIPE, SIG_IGN);
    scratch_dir("/tmp/t-splice");
    file_pipe_file();
    pipe_pipe();
    sockets();
    errnos();
    teeing();
    vmsplicing();
    blocking();
    broken_pipes();
    chdir("/");
    rmdir("/tmp/t-splice");
    return check_exit();
}
