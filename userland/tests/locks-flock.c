/*
 * locks-flock: flock(2). Locks owned by the open file description (shared by dup and fork,
 * released by its last close), shared and exclusive, conversion (the old lock is dropped
 * first, so a failed LOCK_NB upgrade leaves none), LOCK_NB, waiting for the holder, EINTR,
 * independence from fcntl's locks, pipes and sockets, and the errnos. Raw system calls.
 */
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/time.h>

#ifndef LOCK_MAND
#define LOCK_MAND 32 /* linux/fcntl.h */
#endif

static long fl(int fd, int op) { return syscall(SYS_flock, fd, op); }

static int reap(pid_t pid)
{
    int status;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int arrives(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

static void errnos(void)
{
    int fd = open("f", O_RDONLY), path = open("f", O_PATH);
    CHECK_ERR("operation 0 -> EINVAL", fl(fd, 0), EINVAL);
    CHECK_ERR("LOCK_SH | LOCK_EX -> EINVAL", fl(fd, LOCK_SH | LOCK_EX), EINVAL);
    CHECK_ERR("LOCK_NB alone -> EINVAL", fl(fd, LOCK_NB), EINVAL);
    CHECK_ERR("LOCK_UN | LOCK_SH -> EINVAL", fl(fd, LOCK_UN | LOCK_SH), EINVAL);
    CHECK_ERR("a bad operation is EINVAL before a bad fd", fl(99, 16), EINVAL);
    CHECK_ERR("a closed fd -> EBADF", fl(99, LOCK_SH), EBADF);
    CHECK_ERR("-1 -> EBADF", fl(-1, LOCK_UN), EBADF);
    CHECK_ERR("an O_PATH fd -> EBADF", fl(path, LOCK_SH), EBADF);
    CHECK_ERR("LOCK_UN on an O_PATH fd -> EBADF", fl(path, LOCK_UN), EBADF);
    CHECK_EQ("LOCK_MAND is ignored (returns 0)", fl(fd, LOCK_MAND | 64 /* LOCK_READ */), 0);
    CHECK_EQ("LOCK_EX on a read-only fd", fl(fd, LOCK_EX), 0);
    CHECK_EQ("LOCK_UN", fl(fd, LOCK_UN), 0);
    CHECK_EQ("LOCK_UN again, without a lock", fl(fd, LOCK_UN), 0);
    close(fd), close(path);
}

static void sharing(void)
{
    int a = open("f", O_RDWR), b = open("f", O_RDWR);
    CHECK_EQ("LOCK_SH through one open", fl(a, LOCK_SH), 0);
    CHECK_EQ("LOCK_SH through another: shared", fl(b, LOCK_SH | LOCK_NB), 0);
    CHECK_EQ("LOCK_SH again: nothing changes", fl(a, LOCK_SH | LOCK_NB), 0);
    CHECK_ERR("upgrading b to LOCK_EX while a shares -> EWOULDBLOCK", fl(b, LOCK_EX | LOCK_NB),
              EWOULDBLOCK);
    CHECK_EQ("the failed upgrade dropped b's shared lock: a upgrades", fl(a, LOCK_EX | LOCK_NB), 0);
    CHECK_ERR("b cannot share an exclusive lock -> EWOULDBLOCK", fl(b, LOCK_SH | LOCK_NB),
              EWOULDBLOCK);
    int d = dup(a);
    CHECK_EQ("a dup shares the description's lock", fl(d, LOCK_EX | LOCK_NB), 0);
    close(a);
    CHECK_ERR("closing one descriptor keeps it", fl(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fl(d, LOCK_UN) == 0 ? 0 : 1);
    CHECK_EQ("a forked child unlocks the shared description", reap(pid), 0);
    CHECK_EQ("which unlocked it for the parent too", fl(b, LOCK_EX | LOCK_NB), 0);
    CHECK_ERR("now d's description is the one kept out", fl(d, LOCK_SH | LOCK_NB), EWOULDBLOCK);
    CHECK_EQ("downgrade b to shared", fl(b, LOCK_SH), 0);
    CHECK_EQ("d shares it", fl(d, LOCK_SH | LOCK_NB), 0);
    close(d);
    CHECK_EQ("the last close of d's description released its lock", fl(b, LOCK_EX | LOCK_NB), 0);

    /* flock and fcntl locks do not see each other. */
    int c = open("f", O_RDWR);
    struct flock w = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    CHECK_EQ("an fcntl write lock beside another open's LOCK_EX", syscall(SYS_fcntl, c, F_SETLK, &w), 0);
    pid = fork();
    if (pid == 0) {
        struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        syscall(SYS_fcntl, c, F_GETLK, &q);
        _exit(q.l_type == F_WRLCK && fl(c, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK ? 0 : 1);
    }
    CHECK_EQ("a child sees the fcntl lock in F_GETLK and the flock one in flock", reap(pid), 0);
    close(b), close(c);
}

static int alarms;
static void on_alarm(int sig) { (void)sig, alarms++; }

static void waiting(void)
{
    int holder = open("f", O_RDWR), done[2];
    pipe(done);
    fl(holder, LOCK_EX);
    pid_t pid = fork();
    if (pid == 0) {
        int mine = open("f", O_RDWR);
        long r = fl(mine, LOCK_SH);
        (void)!write(done[1], "x", 1);
        _exit(r == 0 ? 0 : 1);
    }
    CHECK("LOCK_SH waits while another description holds LOCK_EX", !arrives(done[0], 200));
    fl(holder, LOCK_UN);
    CHECK("and returns once it is unlocked", arrives(done[0], 5000));
    CHECK_EQ("with success", reap(pid), 0);

    fl(holder, LOCK_EX);
    if ((pid = fork()) == 0) {
        struct sigaction sa = {.sa_handler = on_alarm};
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval it = {.it_value = {.tv_usec = 50000}};
        setitimer(ITIMER_REAL, &it, NULL);
        int mine = open("f", O_RDWR);
        errno = 0;
        long r = fl(mine, LOCK_EX);
        _exit(r == -1 && errno == EINTR && alarms == 1 ? 0 : 1);
    }
    CHECK_EQ("a waiting flock interrupted by a handler -> EINTR", reap(pid), 0);
    close(holder), close(done[0]), close(done[1]);
}

static void other_files(void)
{
    int p[2], s[2];
    pipe(p);
    CHECK_EQ("flock on a pipe", fl(p[0], LOCK_EX), 0);
    struct flock r = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
    CHECK_EQ("fcntl F_RDLCK on a pipe's read end", syscall(SYS_fcntl, p[0], F_SETLK, &r), 0);
    r.l_type = F_WRLCK;
    CHECK_ERR("F_WRLCK on the read end -> EBADF", syscall(SYS_fcntl, p[0], F_SETLK, &r), EBADF);
    socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    CHECK_EQ("flock on a socket", fl(s[0], LOCK_EX | LOCK_NB), 0);
    close(p[0]), close(p[1]), close(s[0]), close(s[1]);
}

int main(void)
{
    scratch_dir("/tmp/t-locks-flock");
    int fd = open("f", O_RDWR | O_CREAT, 0644);
    REQUIRE("test file created", fd >= 0);
    close(fd);
    errnos();
    sharing();
    waiting();
    other_files();
    return check_exit();
}
