/*
 * check.h: the check macros every test program shares.
 *
 * Each check prints one line, "ok <what>" or "FAIL <what>: got X, want Y", straight to
 * fd 1 with write(2): no stdio buffer, so nothing is printed twice after fork() and lines
 * from parent and child never interleave mid-line. Output must be identical on Linux and
 * Tessera, so a check never prints pids, addresses, times or inode numbers, only values
 * the ABI fixes (or booleans about the others).
 *
 * A program ends with `return check_exit();`: 0 when every check passed, 1 otherwise.
 */
#ifndef TESSERA_CHECK_H
#define TESSERA_CHECK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Every helper may go unused in a given program; -Wall -Werror must not mind. */
#define CHECK_HELPER static __attribute__((unused))

static int check_failures;

/* Prints one formatted line on fd 1, unbuffered. */
CHECK_HELPER __attribute__((format(printf, 1, 2))) void say(const char *fmt, ...)
{
    char line[512];
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

/*
 * "ENOENT" for 2, "0" for success: errno names keep FAIL lines readable. The table is built
 * from the C library's own constants (glibc's strerrorname_np does this but musl has no
 * such function), so both builds of a program print the same names; an errno missing here
 * prints as "errno N".
 */
CHECK_HELPER const char *errno_name(int e)
{
#define ERRNO_NAME(x) {x, #x}
    static const struct {
        int value;
        const char *name;
    } names[] = {
        ERRNO_NAME(EPERM),        ERRNO_NAME(ENOENT),          ERRNO_NAME(ESRCH),
        ERRNO_NAME(EINTR),        ERRNO_NAME(EIO),             ERRNO_NAME(ENXIO),
        ERRNO_NAME(E2BIG),        ERRNO_NAME(ENOEXEC),         ERRNO_NAME(EBADF),
        ERRNO_NAME(ECHILD),       ERRNO_NAME(EAGAIN),          ERRNO_NAME(ENOMEM),
        ERRNO_NAME(EACCES),       ERRNO_NAME(EFAULT),          ERRNO_NAME(ENOTBLK),
        ERRNO_NAME(EBUSY),        ERRNO_NAME(EEXIST),          ERRNO_NAME(EXDEV),
        ERRNO_NAME(ENODEV),       ERRNO_NAME(ENOTDIR),         ERRNO_NAME(EISDIR),
        ERRNO_NAME(EINVAL),       ERRNO_NAME(ENFILE),          ERRNO_NAME(EMFILE),
        ERRNO_NAME(ENOTTY),       ERRNO_NAME(ETXTBSY),         ERRNO_NAME(EFBIG),
        ERRNO_NAME(ENOSPC),       ERRNO_NAME(ESPIPE),          ERRNO_NAME(EROFS),
        ERRNO_NAME(EMLINK),       ERRNO_NAME(EPIPE),           ERRNO_NAME(EDOM),
        ERRNO_NAME(ERANGE),       ERRNO_NAME(EDEADLK),         ERRNO_NAME(ENAMETOOLONG),
        ERRNO_NAME(ENOLCK),       ERRNO_NAME(ENOSYS),          ERRNO_NAME(ENOTEMPTY),
        ERRNO_NAME(ELOOP),        ERRNO_NAME(ENOMSG),          ERRNO_NAME(EIDRM),
        ERRNO_NAME(ENODATA),      ERRNO_NAME(ETIME),           ERRNO_NAME(EPROTO),
        ERRNO_NAME(EBADMSG),      ERRNO_NAME(EOVERFLOW),       ERRNO_NAME(EBADFD),
        ERRNO_NAME(ELIBBAD),
        ERRNO_NAME(EILSEQ),       ERRNO_NAME(ENOTSOCK),        ERRNO_NAME(EDESTADDRREQ),
        ERRNO_NAME(EMSGSIZE),     ERRNO_NAME(EPROTOTYPE),      ERRNO_NAME(ENOPROTOOPT),
        ERRNO_NAME(EPROTONOSUPPORT), ERRNO_NAME(ESOCKTNOSUPPORT), ERRNO_NAME(EOPNOTSUPP),
        ERRNO_NAME(EPFNOSUPPORT), ERRNO_NAME(EAFNOSUPPORT),    ERRNO_NAME(EADDRINUSE),
        ERRNO_NAME(EADDRNOTAVAIL), ERRNO_NAME(ENETDOWN),       ERRNO_NAME(ENETUNREACH),
        ERRNO_NAME(ENETRESET),    ERRNO_NAME(ECONNABORTED),    ERRNO_NAME(ECONNRESET),
        ERRNO_NAME(ENOBUFS),      ERRNO_NAME(EISCONN),         ERRNO_NAME(ENOTCONN),
        ERRNO_NAME(ESHUTDOWN),    ERRNO_NAME(ETIMEDOUT),       ERRNO_NAME(ECONNREFUSED),
        ERRNO_NAME(EHOSTDOWN),    ERRNO_NAME(EHOSTUNREACH),    ERRNO_NAME(EALREADY),
        ERRNO_NAME(EINPROGRESS),  ERRNO_NAME(ESTALE),          ERRNO_NAME(EDQUOT),
        ERRNO_NAME(ECANCELED),    ERRNO_NAME(EOWNERDEAD),      ERRNO_NAME(ENOTRECOVERABLE),
    };
#undef ERRNO_NAME
    static char other[24];
    if (e == 0)
        return "0";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].value == e)
            return names[i].name;
    snprintf(other, sizeof other, "errno %d", e);
    return other;
}

CHECK_HELPER void check_result(int passed, const char *what, const char *got, const char *want)
{
    if (passed) {
        say("ok %s", what);
    } else {
        check_failures++;
        say("FAIL %s: got %s, want %s", what, got, want);
    }
}

/* A condition that must hold. */
#define CHECK(what, cond) check_result(!!(cond), (what), "false", "true")

/* Two integers that must be equal. */
#define CHECK_EQ(what, got, want)                                                          \
    do {                                                                                   \
        long long got_ = (long long)(got), want_ = (long long)(want);                      \
        char g_[32], w_[32];                                                               \
        snprintf(g_, sizeof g_, "%lld", got_);                                             \
        snprintf(w_, sizeof w_, "%lld", want_);                                            \
        check_result(got_ == want_, (what), g_, w_);                                       \
    } while (0)

/* Two strings that must be equal. */
#define CHECK_STR(what, got, want)                                                         \
    do {                                                                                   \
        const char *got_ = (got), *want_ = (want);                                         \
        check_result(got_ && strcmp(got_, want_) == 0, (what), got_ ? got_ : "(null)",     \
                     want_);                                                               \
    } while (0)

/* A call that must fail with -1 and this errno (`call` is evaluated once, errno after). */
#define CHECK_ERR(what, call, want_errno)                                                  \
    do {                                                                                   \
        errno = 0;                                                                         \
        long r_ = (long)(call);                                                            \
        int e_ = errno;                                                                    \
        char g_[48], w_[48];                                                               \
        snprintf(g_, sizeof g_, "%ld (%s)", r_, r_ == -1 ? errno_name(e_) : "no error");   \
        snprintf(w_, sizeof w_, "-1 (%s)", errno_name(want_errno));                        \
        check_result(r_ == -1 && e_ == (want_errno), (what), g_, w_);                      \
    } while (0)

/* A call that must succeed (return anything but -1). */
#define CHECK_OK(what, call)                                                               \
    do {                                                                                   \
        errno = 0;                                                                         \
        long r_ = (long)(call);                                                            \
        int e_ = errno;                                                                    \
        char g_[48];                                                                       \
        snprintf(g_, sizeof g_, "-1 (%s)", errno_name(e_));                                \
        check_result(r_ != -1, (what), g_, "success");                                     \
    } while (0)

/* Stops the program when a precondition of later checks fails (counted as a failure). */
#define REQUIRE(what, cond)                                                                \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            check_result(0, (what), errno_name(errno), "success");                         \
            _exit(1);                                                                      \
        }                                                                                  \
    } while (0)

/*
 * Runs fn in a forked child that exits with fn's return value, and returns the raw wait
 * status (or -1 when fork or wait4 fail). Checks that may kill the caller (a fault on
 * purpose, a fatal signal) run this way.
 */
CHECK_HELPER int child_status(int (*fn)(void))
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(fn());
    int status;
    if (syscall(SYS_wait4, pid, &status, 0, NULL) != pid)
        return -1;
    return status;
}

/* Touches anonymous memory, 16 MiB at a time, until the kernel kills the process (or
 * 8 GiB: 3; 2 when mmap fails). What the out-of-memory checks run in a child. */
CHECK_HELPER int touch_memory_until_killed(void)
{
    for (int i = 0; i < 512; i++) {
        size_t len = 16 << 20;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 2;
        for (size_t at = 0; at < len; at += 4096)
            p[at] = 1;
    }
    return 3;
}

CHECK_HELPER int scratch_remove(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

/*
 * Makes `path` an empty directory (removing what an earlier run left) and enters it.
 * Relative names in a test then all live under it.
 */
CHECK_HELPER void scratch_dir(const char *path)
{
    nftw(path, scratch_remove, 16, FTW_DEPTH | FTW_PHYS);
    REQUIRE("scratch directory created", mkdir(path, 0755) == 0);
    REQUIRE("scratch directory entered", chdir(path) == 0);
}

/* The program's exit status. */
CHECK_HELPER int check_exit(void)
{
    return check_failures ? 1 : 0;
}

#endif
