/*
 * locks: fcntl record locks. POSIX locks between a parent and its children (conflicts,
 * shared readers, F_GETLK's report of the holder), splitting by unlocking the middle,
 * release on close of any descriptor of the file, on exit, not inherited by fork, kept
 * across execve; OFD locks (owned by the open file description: kept by another close,
 * shared by fork, conflicting with the process's own POSIX locks); F_SETLKW waiting for
 * the holder, EDEADLK, EINTR and SA_RESTART; the errnos of bad requests. flock is in
 * locks-flock. Raw system calls throughout: the C libraries' wrappers pass these through,
 * but the kernel's answer is what is checked.
 */
#include "check.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>

/* linux/fcntl.h (musl ships no kernel headers) */
#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#endif

static int lk(int fd, int cmd, short type, short whence, long long start, long long len)
{
    struct flock fl = {.l_type = type, .l_whence = whence, .l_start = start, .l_len = len};
    return syscall(SYS_fcntl, fd, cmd, &fl);
}

/* F_GETLK (or F_OFD_GETLK) for `type` over [start, start + len). */
static struct flock getlk(int fd, int cmd, short type, long long start, long long len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (syscall(SYS_fcntl, fd, cmd, &fl) != 0)
        fl.l_type = -1;
    return fl;
}

/* Whether F_GETLK reports a lock of `type` at [start, start + len) held by `pid`. */
static int reports(struct flock fl, short type, long long start, long long len, pid_t pid)
{
    return fl.l_type == type && fl.l_whence == SEEK_SET && fl.l_start == start &&
           fl.l_len == len && fl.l_pid == pid;
}

static void tell(int fd) { (void)!write(fd, "x", 1); }

static void await(int fd)
{
    char c;
    (void)!read(fd, &c, 1);
}

/* Whether a byte arrives on fd within ms milliseconds. */
static int arrives(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

static int reap(pid_t pid)
{
    int status;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void errnos(int fd)
{
    CHECK_ERR("F_SETLK with l_type 7 -> EINVAL", lk(fd, F_SETLK, 7, SEEK_SET, 0, 1), EINVAL);
    CHECK_ERR("l_whence 3 -> EINVAL", lk(fd, F_SETLK, F_WRLCK, 3, 0, 1), EINVAL);
    CHECK_ERR("a start before 0 -> EINVAL", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, -1, 1), EINVAL);
    CHECK_ERR("a negative l_len reaching before 0 -> EINVAL",
              lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, -11), EINVAL);
    lseek(fd, 1, SEEK_SET);
    CHECK_ERR("SEEK_CUR + LLONG_MAX -> EOVERFLOW",
              lk(fd, F_SETLK, F_WRLCK, SEEK_CUR, LLONG_MAX, 1), EOVERFLOW);
    CHECK_ERR("an end past OFFSET_MAX -> EOVERFLOW",
              lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 2, LLONG_MAX), EOVERFLOW);
    CHECK_OK("the last byte, LLONG_MAX, can be locked",
             lk(fd, F_SETLK, F_WRLCK, SEEK_SET, LLONG_MAX, 1));
    CHECK_ERR("a bad range is checked before l_type",
              lk(fd, F_SETLK, 7, SEEK_SET, 2, LLONG_MAX), EOVERFLOW);
    CHECK_ERR("F_GETLK with F_UNLCK -> EINVAL", lk(fd, F_GETLK, F_UNLCK, SEEK_SET, 0, 1), EINVAL);
    CHECK_ERR("F_GETLK with l_type 7 -> EINVAL", lk(fd, F_GETLK, 7, SEEK_SET, 0, 1), EINVAL);
    CHECK_ERR("F_SETLK on a closed fd -> EBADF", lk(99, F_SETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF);
    CHECK_ERR("F_SETLK with a NULL struct -> EFAULT", syscall(SYS_fcntl, fd, F_SETLK, NULL), EFAULT);
    CHECK_ERR("F_GETLK with a NULL struct -> EFAULT", syscall(SYS_fcntl, fd, F_GETLK, NULL), EFAULT);

    int ro = open("f", O_RDONLY), wo = open("f", O_WRONLY), path = open("f", O_PATH);
    CHECK_ERR("F_WRLCK on a read-only fd -> EBADF", lk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF);
    CHECK_ERR("F_RDLCK on a write-only fd -> EBADF", lk(wo, F_SETLK, F_RDLCK, SEEK_SET, 0, 1), EBADF);
    CHECK_OK("F_UNLCK on a read-only fd", lk(ro, F_SETLK, F_UNLCK, SEEK_SET, 0, 1));
    CHECK_EQ("F_GETLK F_WRLCK on a read-only fd works", getlk(ro, F_GETLK, F_WRLCK, 0, 1).l_type,
             F_UNLCK);
    CHECK_ERR("the range is checked before the access mode",
              lk(ro, F_SETLK, F_WRLCK, 3, 0, 1), EINVAL);
    CHECK_ERR("F_SETLK on an O_PATH fd -> EBADF", lk(path, F_SETLK, F_UNLCK, SEEK_SET, 0, 1), EBADF);
    CHECK_ERR("F_GETLK on an O_PATH fd -> EBADF", lk(path, F_GETLK, F_RDLCK, SEEK_SET, 0, 1), EBADF);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1, .l_pid = 1};
    CHECK_ERR("F_OFD_SETLK with l_pid 1 -> EINVAL", syscall(SYS_fcntl, fd, F_OFD_SETLK, &fl), EINVAL);
    CHECK_ERR("F_OFD_GETLK with l_pid 1 -> EINVAL", syscall(SYS_fcntl, fd, F_OFD_GETLK, &fl), EINVAL);
    CHECK_ERR("the access mode is checked before l_pid",
              syscall(SYS_fcntl, ro, F_OFD_SETLK, &fl), EBADF);
    close(ro), close(wo), close(path);
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
}

/* The parent holds [0,9] written and [20,29] read; `fd` was opened before fork. */
static int child_conflicts(int fd, pid_t parent)
{
    CHECK_ERR("the child cannot write-lock the parent's written range -> EAGAIN",
              lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, 1), EAGAIN);
    CHECK_OK("the child can read-lock the parent's read range",
             lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 25, 1));
    CHECK_ERR("but not write-lock it -> EAGAIN", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 25, 1), EAGAIN);
    CHECK("F_GETLK reports the parent's write lock, its range and l_pid the parent's pid",
          reports(getlk(fd, F_GETLK, F_RDLCK, 0, 100), F_WRLCK, 0, 10, parent));
    CHECK("F_GETLK F_WRLCK over the read range reports the parent's read lock",
          reports(getlk(fd, F_GETLK, F_WRLCK, 20, 5), F_RDLCK, 20, 10, parent));
    struct flock fl = getlk(fd, F_GETLK, F_RDLCK, 20, 10);
    CHECK("F_GETLK without a conflict: F_UNLCK, the rest as passed",
          fl.l_type == F_UNLCK && fl.l_start == 20 && fl.l_len == 10);
    CHECK_EQ("nothing conflicts between the two ranges", getlk(fd, F_GETLK, F_WRLCK, 10, 10).l_type,
             F_UNLCK);
    return check_exit();
}

static void posix(int fd)
{
    int to_child[2], to_parent[2];
    pipe(to_child), pipe(to_parent);
    CHECK_OK("write lock [0,9]", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
    CHECK_OK("read lock [20,29]", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 20, 10));
    CHECK_OK("the owner locks over its own lock", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, 10));
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 10, 5);
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        int failed = child_conflicts(fd, parent);
        tell(to_parent[1]);
        await(to_child[0]);
        _exit(failed);
    }
    await(to_parent[0]);
    CHECK_ERR("while the child reads [25], the parent cannot write [20,29] -> EAGAIN",
              lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 20, 10), EAGAIN);
    tell(to_child[1]);
    CHECK_EQ("child's checks", reap(pid), 0);
    CHECK_OK("the child's exit released its lock", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 20, 10));

    /* Splitting: a write lock over the file, the middle unlocked. */
    CHECK_OK("write lock the whole file (l_len 0)", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
    CHECK_OK("unlock [40,59]", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 40, 20));
    CHECK_OK("lock [5,9] backwards (l_len -5 from 10)", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 10, -5));
    if ((pid = fork()) == 0) {
        CHECK_EQ("the middle is free", getlk(fd, F_GETLK, F_WRLCK, 40, 20).l_type, F_UNLCK);
        CHECK("below the hole: [10,39] written", reports(getlk(fd, F_GETLK, F_RDLCK, 30, 20), F_WRLCK, 10, 30, parent));
        CHECK("above it: from 60 to the end, l_len 0",
              reports(getlk(fd, F_GETLK, F_WRLCK, 50, 20), F_WRLCK, 60, 0, parent));
        CHECK("[5,9] is read-locked now", reports(getlk(fd, F_GETLK, F_WRLCK, 5, 1), F_RDLCK, 5, 5, parent));
        _exit(check_exit());
    }
    CHECK_EQ("child's checks", reap(pid), 0);

    /* Closing any descriptor of the file releases the process's locks on it. */
    int other = open("f", O_RDONLY), copy = dup(fd);
    close(other);
    if ((pid = fork()) == 0)
        _exit(getlk(fd, F_GETLK, F_WRLCK, 0, 0).l_type == F_UNLCK ? 0 : 1);
    CHECK_EQ("closing another open of the file released every lock", reap(pid), 0);
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1);
    close(copy);
    if ((pid = fork()) == 0)
        _exit(getlk(fd, F_GETLK, F_WRLCK, 0, 0).l_type == F_UNLCK ? 0 : 1);
    CHECK_EQ("closing a dup released it too", reap(pid), 0);

    /* OFD locks belong to the open file description. */
    int ofd = open("f", O_RDWR);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    CHECK_OK("F_OFD_SETLK [0,9]", syscall(SYS_fcntl, ofd, F_OFD_SETLK, &fl));
    CHECK_ERR("it conflicts with the process's own POSIX lock -> EAGAIN",
              lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, 1), EAGAIN);
    CHECK_ERR("and with an OFD lock of another open -> EAGAIN",
              syscall(SYS_fcntl, fd, F_OFD_SETLK, &fl), EAGAIN);
    other = open("f", O_RDONLY);
    close(other);
    CHECK("F_OFD_GETLK from another open reports it, l_pid -1",
          reports(getlk(fd, F_OFD_GETLK, F_RDLCK, 0, 1), F_WRLCK, 0, 10, -1));
    CHECK("closing another descriptor of the file kept it (F_GETLK too)",
          reports(getlk(fd, F_GETLK, F_RDLCK, 0, 1), F_WRLCK, 0, 10, -1));
    if ((pid = fork()) == 0) {
        fl.l_type = F_RDLCK;
        CHECK_OK("a forked child converts the OFD lock it shares", syscall(SYS_fcntl, ofd, F_OFD_SETLK, &fl));
        _exit(check_exit());
    }
    CHECK_EQ("child's checks", reap(pid), 0);
    CHECK("the conversion is the parent's lock too",
          reports(getlk(fd, F_OFD_GETLK, F_WRLCK, 0, 1), F_RDLCK, 0, 10, -1));
    close(ofd);
    CHECK_EQ("the last close of the description released it", getlk(fd, F_OFD_GETLK, F_WRLCK, 0, 0).l_type,
             F_UNLCK);
    close(to_child[0]), close(to_child[1]), close(to_parent[0]), close(to_parent[1]);
}

static int alarms;
static void on_alarm(int sig) { (void)sig, alarms++; }

/* A child that waits in F_SETLKW for byte 0 with SIGALRM arriving after 50 ms. */
static int child_waits(int fd, int flags, int done)
{
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = flags};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_value = {.tv_usec = 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    errno = 0;
    int r = lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
    int e = errno;
    tell(done);
    return r == 0 ? 0 : e;
}

static void waiting(int fd)
{
    int done[2];
    pipe(done);
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child_waits(fd, 0, done[1]));
    CHECK_EQ("F_SETLKW interrupted by a handler -> EINTR", reap(pid), EINTR);
    await(done[0]);
    if ((pid = fork()) == 0)
        _exit(child_waits(fd, SA_RESTART, done[1]));
    CHECK("with SA_RESTART, F_SETLKW goes on waiting after the handler", !arrives(done[0], 200));
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1);
    CHECK("and returns once the holder unlocks", arrives(done[0], 5000));
    CHECK_EQ("with success", reap(pid), 0);
    await(done[0]);

    /* EDEADLK: the child holds [1], waits for [0]; the parent asks for [1]. */
    lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1);
    if ((pid = fork()) == 0) {
        lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1);
        tell(done[1]);
        _exit(lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1) == 0 ? 0 : 1);
    }
    await(done[0]);
    usleep(100000);
    CHECK_ERR("F_SETLKW that would wait for a process waiting for us -> EDEADLK",
              lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1), EDEADLK);
    CHECK_ERR("F_SETLK is plain EAGAIN", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1), EAGAIN);
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1);
    CHECK_EQ("the child's F_SETLKW got the lock once it was unlocked", reap(pid), 0);
    CHECK_OK("and its exit released both", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 2));
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
    close(done[0]), close(done[1]);
}

/* The process's locks survive execve: the new program reports and waits for the parent. */
static void exec_keeps(int fd, const char *self)
{
    int ready[2], go[2];
    pipe(ready), pipe(go);
    pid_t pid = fork();
    if (pid == 0) {
        char r[16], g[16];
        snprintf(r, sizeof r, "%d", ready[1]);
        snprintf(g, sizeof g, "%d", go[0]);
        lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1);
        execl(self, self, "exec", r, g, (char *)NULL);
        _exit(99);
    }
    await(ready[0]);
    CHECK("the lock taken before execve is still held, by the same pid",
          reports(getlk(fd, F_GETLK, F_WRLCK, 0, 1), F_WRLCK, 0, 1, pid));
    tell(go[1]);
    CHECK_EQ("the executed program exits", reap(pid), 0);
    CHECK_EQ("and its exit released the lock", getlk(fd, F_GETLK, F_WRLCK, 0, 1).l_type, F_UNLCK);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "exec") == 0) {
        tell(atoi(argv[2]));
        await(atoi(argv[3]));
        return 0;
    }
    scratch_dir("/tmp/t-locks");
    int fd = open("f", O_RDWR | O_CREAT, 0644);
    REQUIRE("test file created", fd >= 0 && write(fd, "0123456789", 10) == 10);
    errnos(fd);
    posix(fd);
    waiting(fd);
    exec_keeps(fd, "/proc/self/exe");
    return check_exit();
}
