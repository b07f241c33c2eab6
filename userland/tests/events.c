/*
 * events: epoll (create/create1, ctl and its errors, wait/pwait/pwait2, level and edge
 * triggered, EPOLLONESHOT, EPOLLRDHUP, nesting and loops, registrations kept while a dup of
 * the file lives), eventfd, timerfd and signalfd, on pipes, socketpairs and each other;
 * blocked waits woken by a forked child; a wait's signal mask and EINTR.
 */
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>

/* epoll_pwait2 through the raw system call: musl has no wrapper. The kernel takes the
 * signal set's size as a sixth argument (8 bytes on x86_64). */
#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif
static int raw_epoll_pwait2(int ep, struct epoll_event *evs, int max, const struct timespec *t,
                            const sigset_t *mask)
{
    return (int)syscall(SYS_epoll_pwait2, ep, evs, max, t, mask, mask ? 8 : 0);
}
#define epoll_pwait2 raw_epoll_pwait2
/* epoll_create's size checks go through the raw call too: musl's wrapper calls
 * epoll_create1(0) whatever the size. */

#define MS 1000000LL

/* One epoll_wait with the given timeout: the number of events; the first in *ev. */
static int wait1(int ep, struct epoll_event *ev, int timeout)
{
    struct epoll_event evs[8];
    int n = epoll_wait(ep, evs, 8, timeout);
    if (n > 0 && ev)
        *ev = evs[0];
    return n;
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static short revents(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

static long long timespec_ns(struct timespec t)
{
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * MS};
    nanosleep(&t, NULL);
}

static void creation_and_ctl_errors(void)
{
    CHECK_ERR("epoll_create(0) -> EINVAL", syscall(SYS_epoll_create, 0), EINVAL);
    CHECK_ERR("epoll_create(-1) -> EINVAL", syscall(SYS_epoll_create, -1), EINVAL);
    CHECK_ERR("epoll_create1 with an unknown flag -> EINVAL", epoll_create1(1), EINVAL);
    int ep = epoll_create(1);
    CHECK("epoll_create(1) gives an fd", ep >= 0);
    CHECK_EQ("epoll_create: no FD_CLOEXEC", fcntl(ep, F_GETFD), 0);
    CHECK_EQ("an epoll fd is O_RDWR", fcntl(ep, F_GETFL) & O_ACCMODE, O_RDWR);
    int ep2 = epoll_create1(EPOLL_CLOEXEC);
    CHECK_EQ("epoll_create1(EPOLL_CLOEXEC) sets FD_CLOEXEC", fcntl(ep2, F_GETFD), FD_CLOEXEC);
    char c;
    CHECK_ERR("read of an epoll fd -> EINVAL", read(ep, &c, 1), EINVAL);
    CHECK_ERR("write of an epoll fd -> EINVAL", write(ep, "x", 1), EINVAL);

    int p[2];
    pipe(p);
    int reg = open("/tmp/t-events-file", O_CREAT | O_RDWR | O_TRUNC, 0600);
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
    struct epoll_event ev = {.events = EPOLLIN};
    CHECK_ERR("ctl on a closed epfd -> EBADF", epoll_ctl(999, EPOLL_CTL_ADD, p[0], &ev), EBADF);
    CHECK_ERR("ctl of a closed fd -> EBADF", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev), EBADF);
    CHECK_ERR("ctl of a regular file -> EPERM", add(ep, reg, EPOLLIN, 0), EPERM);
    CHECK_ERR("ctl of a directory -> EPERM", add(ep, dir, EPOLLIN, 0), EPERM);
    CHECK_ERR("ctl on a pipe as the epfd -> EINVAL", add(p[0], p[1], EPOLLIN, 0), EINVAL);
    CHECK_ERR("adding an epoll fd to itself -> EINVAL", add(ep, ep, EPOLLIN, 0), EINVAL);
    CHECK_ERR("ADD with a NULL event -> EFAULT",
              syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], NULL), EFAULT);
    CHECK_EQ("ADD a pipe", add(ep, p[0], EPOLLIN, 1), 0);
    CHECK_ERR("ADD it again -> EEXIST", add(ep, p[0], EPOLLIN, 1), EEXIST);
    CHECK_ERR("MOD of an fd not added -> ENOENT", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev), ENOENT);
    CHECK_ERR("DEL of an fd not added -> ENOENT", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], &ev), ENOENT);
    CHECK_ERR("an unknown op -> EINVAL", epoll_ctl(ep, 99, p[0], &ev), EINVAL);
    CHECK_EQ("DEL takes a NULL event", syscall(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, p[0], NULL), 0);
    CHECK_ERR("EPOLLEXCLUSIVE with EPOLLONESHOT -> EINVAL",
              add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 0), EINVAL);
    CHECK_EQ("EPOLLEXCLUSIVE with EPOLLIN is accepted", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 0), 0);
    ev.events = EPOLLIN;
    CHECK_ERR("MOD of an EPOLLEXCLUSIVE registration -> EINVAL",
              epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    CHECK_ERR("MOD with EPOLLEXCLUSIVE -> EINVAL", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
    CHECK_ERR("EPOLLEXCLUSIVE on an epoll fd -> EINVAL", add(ep, ep2, EPOLLIN | EPOLLEXCLUSIVE, 0),
              EINVAL);
    CHECK_EQ("an epoll fd inside another", add(ep, ep2, EPOLLIN, 0), 0);
    CHECK_ERR("and back again: a loop -> ELOOP", add(ep2, ep, EPOLLIN, 0), ELOOP);

    struct epoll_event evs[2];
    CHECK_ERR("maxevents 0 -> EINVAL", epoll_wait(ep, evs, 0, 0), EINVAL);
    CHECK_ERR("maxevents -1 -> EINVAL", syscall(SYS_epoll_wait, ep, evs, -1, 0), EINVAL);
    CHECK_ERR("maxevents past INT_MAX / 12 -> EINVAL", syscall(SYS_epoll_wait, ep, evs, 178956971, 0),
              EINVAL);
    CHECK_ERR("events in kernel space -> EFAULT",
              epoll_wait(ep, (struct epoll_event *)0xffff800000000000UL, 1, 0), EFAULT);
    CHECK_ERR("wait on a closed fd -> EBADF", epoll_wait(999, evs, 1, 0), EBADF);
    CHECK_ERR("wait on a pipe -> EINVAL", epoll_wait(p[0], evs, 1, 0), EINVAL);
    CHECK_EQ("nothing ready: a NULL array is never written", syscall(SYS_epoll_wait, ep, NULL, 1, 0), 0);
    sigset_t none;
    sigemptyset(&none);
    CHECK_ERR("epoll_pwait with a sigset size of 4 -> EINVAL",
              syscall(SYS_epoll_pwait, ep, evs, 1, 0, &none, 4), EINVAL);
    struct timespec bad = {0, 1000000000};
    CHECK_ERR("epoll_pwait2 with tv_nsec 10^9 -> EINVAL", epoll_pwait2(ep, evs, 1, &bad, NULL),
              EINVAL);
    bad.tv_sec = -1, bad.tv_nsec = 0;
    CHECK_ERR("epoll_pwait2 with a negative time -> EINVAL", epoll_pwait2(ep, evs, 1, &bad, NULL),
              EINVAL);
    struct timespec zero = {0, 0};
    CHECK_EQ("epoll_pwait2 with a zero timeout", epoll_pwait2(ep, evs, 1, &zero, NULL), 0);
    close(reg), close(dir), close(p[0]), close(p[1]), close(ep2), close(ep);
    unlink("/tmp/t-events-file");
}

/* Level and edge triggering, one-shot, data, hang-ups, on a pipe. */
static void pipe_events(void)
{
    int p[2], ep = epoll_create1(0);
    struct epoll_event ev;
    char buf[8];
    pipe(p);
    add(ep, p[0], EPOLLIN, 0x1122334455667788ULL);
    CHECK_EQ("an empty pipe: nothing", wait1(ep, &ev, 0), 0);
    write(p[1], "ab", 2);
    CHECK_EQ("level-triggered: data is an event", wait1(ep, &ev, 0), 1);
    CHECK("with EPOLLIN and the 64-bit data given",
          ev.events == EPOLLIN && ev.data.u64 == 0x1122334455667788ULL);
    CHECK_EQ("level-triggered: again while data is there", wait1(ep, &ev, 0), 1);
    CHECK_EQ("a ready registration in poll: the epoll fd is readable", revents(ep, POLLIN), POLLIN);
    read(p[0], buf, 2);
    CHECK_EQ("level-triggered: no more once read", wait1(ep, &ev, 0), 0);
    CHECK_EQ("and the epoll fd is not readable", revents(ep, POLLIN), 0);

    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 2;
    CHECK_EQ("MOD to edge-triggered", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), 0);
    write(p[1], "a", 1);
    CHECK_EQ("edge-triggered: a write is an event", wait1(ep, &ev, 0), 1);
    CHECK_EQ("edge-triggered: not twice for one write", wait1(ep, &ev, 0), 0);
    write(p[1], "b", 1);
    CHECK_EQ("edge-triggered: another write, another event", wait1(ep, &ev, 0), 1);
    read(p[0], buf, 2);
    CHECK_EQ("edge-triggered: nothing after reading", wait1(ep, &ev, 0), 0);

    ev.events = EPOLLIN | EPOLLONESHOT;
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    write(p[1], "c", 1);
    CHECK_EQ("one-shot: the first event", wait1(ep, &ev, 0), 1);
    CHECK_EQ("one-shot: then disabled, data or not", wait1(ep, &ev, 0), 0);
    write(p[1], "d", 1);
    CHECK_EQ("one-shot: still disabled after another write", wait1(ep, &ev, 0), 0);
    ev.events = EPOLLIN | EPOLLONESHOT;
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    CHECK_EQ("one-shot: MOD arms it again", wait1(ep, &ev, 0), 1);
    read(p[0], buf, 2);

    struct epoll_event evs[2];
    ev.events = EPOLLIN;
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    write(p[1], "e", 1);
    CHECK_ERR("a NULL array with an event ready -> EFAULT", syscall(SYS_epoll_wait, ep, NULL, 1, 0),
              EFAULT);
    CHECK_EQ("and the event is still there", epoll_wait(ep, evs, 2, 0), 1);
    read(p[0], buf, 1);

    add(ep, p[1], EPOLLOUT, 3);
    CHECK_EQ("the write end: writable", wait1(ep, &ev, 0), 1);
    CHECK("EPOLLOUT for data 3", ev.events == EPOLLOUT && ev.data.u64 == 3);
    close(p[0]);
    CHECK_EQ("reader gone: the write end reports", wait1(ep, &ev, 0), 1);
    CHECK_EQ("EPOLLOUT | EPOLLERR (ERR is always wanted)", ev.events, EPOLLOUT | EPOLLERR);
    close(p[1]);
    CHECK_EQ("both ends closed: no registration left", wait1(ep, &ev, 0), 0);

    pipe(p);
    add(ep, p[0], EPOLLIN, 4);
    close(p[1]);
    CHECK_EQ("writer gone: the read end reports", wait1(ep, &ev, 0), 1);
    CHECK_EQ("EPOLLHUP (always wanted)", ev.events, EPOLLHUP);
    CHECK_EQ("DEL", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), 0);
    CHECK_EQ("nothing after DEL", wait1(ep, &ev, 0), 0);
    close(p[0]);
    close(ep);
}

/* A registration is (file, fd): it lasts while the file is open by any fd. */
static void lifetimes(void)
{
    int ep = epoll_create1(0), e = eventfd(0, EFD_NONBLOCK);
    struct epoll_event evs[4];
    uint64_t one = 1, v;
    add(ep, e, EPOLLIN, 10);
    int d = dup(e);
    CHECK_EQ("the same file by another fd is another registration", add(ep, d, EPOLLIN, 11), 0);
    write(e, &one, 8);
    CHECK_EQ("both registrations report", epoll_wait(ep, evs, 4, 0), 2);
    CHECK_EQ("DEL by the dup", epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL), 0);
    close(e);
    CHECK_ERR("DEL by the closed fd -> EBADF", epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL), EBADF);
    CHECK_EQ("the fd closed, a dup open: the registration stays", epoll_wait(ep, evs, 4, 0), 1);
    CHECK_EQ("with the data of the closed fd", evs[0].data.u64, 10);
    read(d, &v, 8);
    write(d, &one, 8);
    close(d);
    CHECK_EQ("the last fd closed: the registration is gone", epoll_wait(ep, evs, 4, 0), 0);
    close(ep);
}

static void sockets(void)
{
    int s[2], ep = epoll_create1(0), et = epoll_create1(0);
    struct epoll_event ev;
    socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    add(ep, s[0], EPOLLIN | EPOLLOUT | EPOLLRDHUP, 0);
    add(et, s[0], EPOLLIN | EPOLLET, 0);
    CHECK_EQ("a socket: writable at once", wait1(ep, &ev, 0), 1);
    CHECK_EQ("EPOLLOUT only", ev.events, EPOLLOUT);
    write(s[1], "x", 1);
    wait1(ep, &ev, 0);
    CHECK_EQ("data: EPOLLIN | EPOLLOUT", ev.events, EPOLLIN | EPOLLOUT);
    CHECK_EQ("edge-triggered socket: an event", wait1(et, &ev, 0), 1);
    CHECK_EQ("edge-triggered socket: once", wait1(et, &ev, 0), 0);
    write(s[1], "y", 1);
    CHECK_EQ("edge-triggered socket: another write, another event", wait1(et, &ev, 0), 1);
    shutdown(s[1], SHUT_WR);
    wait1(ep, &ev, 0);
    CHECK_EQ("peer's SHUT_WR: EPOLLIN | EPOLLOUT | EPOLLRDHUP", ev.events,
             EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    close(s[1]);
    wait1(ep, &ev, 0);
    CHECK_EQ("peer closed: EPOLLHUP too", ev.events, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);
    close(s[0]), close(ep), close(et);
}

/* Waits that block: woken by a forked child, through nested epolls, or by a signal. */
static volatile sig_atomic_t handled;
static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void blocking(void)
{
    int p[2], ep = epoll_create1(0), outer = epoll_create1(0);
    struct epoll_event ev;
    pipe(p);
    add(ep, p[0], EPOLLIN, 5);
    add(outer, ep, EPOLLIN, 6);
    pid_t pid = fork();
    if (pid == 0) {
        sleep_ms(50);
        write(p[1], "x", 1);
        _exit(0);
    }
    CHECK_EQ("a blocked epoll_wait is woken by a child's write", wait1(outer, &ev, 5000), 1);
    CHECK("through the nested epoll: its data, EPOLLIN", ev.data.u64 == 6 && ev.events == EPOLLIN);
    CHECK_EQ("the inner epoll has the pipe's event", wait1(ep, &ev, 0), 1);
    waitpid(pid, NULL, 0);
    char c;
    read(p[0], &c, 1);
    CHECK_EQ("a timeout with nothing ready returns 0", wait1(ep, &ev, 20), 0);

    struct sigaction sa = {.sa_handler = on_usr1};
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1, empty, now;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    kill(getpid(), SIGUSR1);
    handled = 0;
    CHECK_ERR("epoll_pwait: its mask lets a pending signal in -> EINTR",
              epoll_pwait(ep, &ev, 1, -1, &empty), EINTR);
    CHECK_EQ("the handler ran once", handled, 1);
    sigprocmask(SIG_BLOCK, NULL, &now);
    CHECK("the old mask is back", sigismember(&now, SIGUSR1));
    pid = fork();
    if (pid == 0) {
        sleep_ms(50);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    struct timespec ten = {10, 0};
    CHECK_ERR("epoll_pwait2 blocked, a child's signal -> EINTR",
              epoll_pwait2(ep, &ev, 1, &ten, &empty), EINTR);
    CHECK_EQ("the handler ran", handled, 2);
    waitpid(pid, NULL, 0);
    kill(getpid(), SIGUSR1);
    CHECK_ERR("ppoll's mask too -> EINTR", ppoll(NULL, 0, NULL, &empty), EINTR);
    kill(getpid(), SIGUSR1);
    CHECK_ERR("pselect's mask too -> EINTR", pselect(0, NULL, NULL, NULL, NULL, &empty), EINTR);
    CHECK_EQ("each ran the handler", handled, 4);
    sigprocmask(SIG_BLOCK, NULL, &now);
    CHECK("and the mask is back", sigismember(&now, SIGUSR1));
    kill(getpid(), SIGUSR1);
    CHECK_EQ("a mask that blocks the signal: the wait times out", epoll_pwait(ep, &ev, 1, 10, &usr1),
             0);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    CHECK_EQ("delivered once unblocked", handled, 5);
    signal(SIGUSR1, SIG_DFL);
    close(p[0]), close(p[1]), close(ep), close(outer);
}

static void eventfds(void)
{
    uint64_t v = 0, one = 1, big = 0xfffffffffffffffeULL, all = UINT64_MAX;
    int e = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK_EQ("eventfd: O_RDWR | O_NONBLOCK", fcntl(e, F_GETFL) & (O_ACCMODE | O_NONBLOCK),
             O_RDWR | O_NONBLOCK);
    CHECK_EQ("EFD_CLOEXEC", fcntl(e, F_GETFD), FD_CLOEXEC);
    CHECK_ERR("eventfd2 with an unknown flag -> EINVAL", eventfd(0, 2), EINVAL);
    CHECK_ERR("an empty counter: read -> EAGAIN", read(e, &v, 8), EAGAIN);
    CHECK_ERR("a 4-byte read -> EINVAL", read(e, &v, 4), EINVAL);
    CHECK_ERR("a 4-byte write -> EINVAL", write(e, &one, 4), EINVAL);
    CHECK_ERR("writing 2^64-1 -> EINVAL", write(e, &all, 8), EINVAL);
    CHECK_EQ("an empty counter polls POLLOUT", revents(e, POLLIN | POLLOUT), POLLOUT);
    uint64_t three = 3, four[2] = {4, 99};
    write(e, &three, 8);
    CHECK_EQ("a 16-byte write moves 8", write(e, four, 16), 8);
    CHECK_EQ("POLLIN | POLLOUT with a count", revents(e, POLLIN | POLLOUT), POLLIN | POLLOUT);
    char wide[16];
    CHECK_EQ("a 16-byte read returns 8", read(e, wide, 16), 8);
    memcpy(&v, wide, 8);
    CHECK_EQ("the sum of the writes", v, 7);
    CHECK_EQ("a write of the largest count", write(e, &big, 8), 8);
    CHECK_ERR("one more would pass it -> EAGAIN", write(e, &one, 8), EAGAIN);
    CHECK_EQ("full: POLLIN only", revents(e, POLLIN | POLLOUT), POLLIN);
    pid_t pid = fork();
    if (pid == 0) {
        sleep_ms(50);
        read(e, &v, 8);
        _exit(v == big ? 0 : 1);
    }
    int fl = fcntl(e, F_GETFL);
    fcntl(e, F_SETFL, fl & ~O_NONBLOCK);
    CHECK_EQ("a blocking write waits for a child's read", write(e, &one, 8), 8);
    int st;
    waitpid(pid, &st, 0);
    CHECK_EQ("the child read the full count", st, 0);
    pid = fork();
    if (pid == 0) {
        sleep_ms(50);
        write(e, &three, 8);
        _exit(0);
    }
    read(e, &v, 8);
    CHECK_EQ("then a blocking read", v, 1);
    CHECK_EQ("waits for a child's write", read(e, &v, 8) == 8 ? v : 0, 3);
    waitpid(pid, NULL, 0);
    close(e);

    e = syscall(SYS_eventfd2, 0x100000003ULL, EFD_SEMAPHORE | EFD_NONBLOCK);
    CHECK_EQ("eventfd2's count is an unsigned int: semaphore reads 1", read(e, &v, 8) == 8 ? v : 0, 1);
    int ep = epoll_create1(0);
    struct epoll_event ev;
    add(ep, e, EPOLLIN | EPOLLET, 0);
    CHECK_EQ("semaphore, edge-triggered: ready", wait1(ep, &ev, 0), 1);
    read(e, &v, 8);
    CHECK_EQ("a read wakes for EPOLLOUT only: no new EPOLLIN edge though 1 is left",
             wait1(ep, &ev, 0), 0);
    CHECK_EQ("the last 1", read(e, &v, 8) == 8 ? v : 0, 1);
    CHECK_ERR("and the count is 0 -> EAGAIN", read(e, &v, 8), EAGAIN);
    write(e, &one, 8);
    CHECK_EQ("a write is a new edge", wait1(ep, &ev, 0), 1);
    close(ep), close(e);
    e = syscall(SYS_eventfd, 5);
    CHECK_EQ("eventfd(5): blocking, the count read whole", read(e, &v, 8) == 8 ? v : 0, 5);
    close(e);
}

static void timerfds(void)
{
    struct itimerspec its = {0}, old, cur;
    uint64_t n = 0;
    CHECK_ERR("timerfd_create on CLOCK_PROCESS_CPUTIME_ID -> EINVAL",
              timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
    CHECK_ERR("timerfd_create with an unknown flag -> EINVAL",
              timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
    int rt = timerfd_create(CLOCK_REALTIME, 0), bt = timerfd_create(CLOCK_BOOTTIME, 0);
    CHECK("CLOCK_REALTIME and CLOCK_BOOTTIME timers", rt >= 0 && bt >= 0);
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    CHECK_EQ("TFD_NONBLOCK", fcntl(t, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDWR | O_NONBLOCK);
    CHECK_EQ("TFD_CLOEXEC", fcntl(t, F_GETFD), FD_CLOEXEC);
    CHECK_EQ("a new timer is disarmed", timerfd_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 &&
             cur.it_value.tv_nsec == 0 && cur.it_interval.tv_nsec == 0, 1);
    CHECK_ERR("read of a disarmed timer -> EAGAIN", read(t, &n, 8), EAGAIN);
    CHECK_ERR("a 4-byte read -> EINVAL", read(t, &n, 4), EINVAL);
    CHECK_ERR("write -> EINVAL", write(t, &n, 8), EINVAL);
    CHECK_ERR("settime with an unknown flag -> EINVAL", timerfd_settime(t, 4, &its, NULL), EINVAL);
    its.it_value.tv_nsec = 1000000000;
    CHECK_ERR("settime with tv_nsec 10^9 -> EINVAL", timerfd_settime(t, 0, &its, NULL), EINVAL);
    its.it_value.tv_nsec = 0, its.it_interval.tv_sec = -1;
    CHECK_ERR("settime with a negative interval -> EINVAL", timerfd_settime(t, 0, &its, NULL),
              EINVAL);
    its.it_interval.tv_sec = 0;
    CHECK_ERR("settime with a NULL value -> EFAULT",
              syscall(SYS_timerfd_settime, t, 0, NULL, NULL), EFAULT);
    int e = eventfd(0, 0);
    CHECK_ERR("settime of an eventfd -> EINVAL", timerfd_settime(e, 0, &its, NULL), EINVAL);
    CHECK_ERR("gettime of an eventfd -> EINVAL", timerfd_gettime(e, &cur), EINVAL);
    CHECK_ERR("settime of a closed fd -> EBADF", timerfd_settime(999, 0, &its, NULL), EBADF);
    close(e);

    its.it_value.tv_sec = 10;
    timerfd_settime(t, 0, &its, NULL);
    its.it_value.tv_sec = 0;
    CHECK_EQ("disarm, asking for the old value", timerfd_settime(t, 0, &its, &old), 0);
    long long left = timespec_ns(old.it_value);
    CHECK("the old value: up to 10 s left", left > 9000 * MS && left <= 10000 * MS);
    timerfd_gettime(t, &cur);
    CHECK_EQ("disarmed: nothing left", timespec_ns(cur.it_value), 0);

    its.it_value.tv_nsec = 30 * MS;
    timerfd_settime(t, 0, &its, NULL);
    timerfd_gettime(t, &cur);
    CHECK("one-shot 30 ms: some of it left",
          timespec_ns(cur.it_value) > 0 && timespec_ns(cur.it_value) <= 30 * MS);
    CHECK_EQ("blocks in poll until it expires", poll(&(struct pollfd){t, POLLIN, 0}, 1, 5000), 1);
    CHECK_EQ("one expiration", read(t, &n, 8) == 8 ? n : 0, 1);
    CHECK_ERR("read again -> EAGAIN", read(t, &n, 8), EAGAIN);
    timerfd_gettime(t, &cur);
    CHECK_EQ("expired one-shot: nothing left", timespec_ns(cur.it_value), 0);

    its.it_value.tv_nsec = 10 * MS, its.it_interval.tv_nsec = 10 * MS;
    timerfd_settime(t, 0, &its, NULL);
    sleep_ms(100);
    CHECK("interval 10 ms after 100 ms: expirations counted", read(t, &n, 8) == 8 && n >= 1);
    timerfd_gettime(t, &cur);
    CHECK("still armed: the interval, and at most one interval left",
          timespec_ns(cur.it_interval) == 10 * MS && timespec_ns(cur.it_value) > 0 &&
              timespec_ns(cur.it_value) <= 10 * MS);
    int ep = epoll_create1(0);
    struct epoll_event ev;
    add(ep, t, EPOLLIN, 7);
    CHECK_EQ("epoll_wait until the next expiration", wait1(ep, &ev, 5000), 1);
    CHECK("EPOLLIN", ev.events == EPOLLIN && ev.data.u64 == 7);
    its.it_value.tv_sec = 100, its.it_value.tv_nsec = 0, its.it_interval.tv_nsec = 0;
    timerfd_settime(t, 0, &its, NULL);
    CHECK_ERR("settime drops expirations not read -> EAGAIN", read(t, &n, 8), EAGAIN);
    CHECK_EQ("nor does epoll report them", wait1(ep, &ev, 0), 0);
    close(ep);

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    its.it_value = now;
    timerfd_settime(t, TFD_TIMER_ABSTIME, &its, NULL);
    CHECK_EQ("absolute, already past: expires at once",
             poll(&(struct pollfd){t, POLLIN, 0}, 1, 5000), 1);
    clock_gettime(CLOCK_REALTIME, &now);
    now.tv_nsec += 20 * MS;
    if (now.tv_nsec >= 1000000000)
        now.tv_sec++, now.tv_nsec -= 1000000000;
    its.it_value = now;
    timerfd_settime(rt, TFD_TIMER_ABSTIME, &its, NULL);
    CHECK_EQ("CLOCK_REALTIME absolute: a blocking read", read(rt, &n, 8) == 8 ? n : 0, 1);
    its.it_value.tv_sec = 0, its.it_value.tv_nsec = 20 * MS;
    timerfd_settime(bt, 0, &its, NULL);
    CHECK_EQ("CLOCK_BOOTTIME relative: a blocking read", read(bt, &n, 8) == 8 ? n : 0, 1);
    close(t), close(rt), close(bt);
}

static void signalfds(void)
{
    sigset_t mask, none;
    sigemptyset(&mask);
    sigemptyset(&none);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGRTMIN);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    CHECK_ERR("signalfd4 with an unknown flag -> EINVAL", signalfd(-1, &mask, 1), EINVAL);
    CHECK_ERR("a sigset size of 4 -> EINVAL", syscall(SYS_signalfd4, -1, &mask, 4, 0), EINVAL);
    CHECK_ERR("a NULL mask -> EFAULT", syscall(SYS_signalfd4, -1, NULL, 8, 0), EFAULT);
    CHECK_ERR("an fd that is no signalfd -> EINVAL", signalfd(0, &mask, 0), EINVAL);
    CHECK_ERR("a closed fd -> EBADF", signalfd(999, &mask, 0), EBADF);
    int s = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    CHECK_EQ("SFD_NONBLOCK", fcntl(s, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDWR | O_NONBLOCK);
    CHECK_EQ("SFD_CLOEXEC", fcntl(s, F_GETFD), FD_CLOEXEC);
    struct signalfd_siginfo si[3];
    CHECK_ERR("nothing pending -> EAGAIN", read(s, si, sizeof si), EAGAIN);
    CHECK_ERR("a buffer smaller than one record -> EINVAL", read(s, si, 100), EINVAL);
    CHECK_ERR("write -> EINVAL", write(s, si, sizeof si), EINVAL);
    CHECK_EQ("not readable", revents(s, POLLIN), 0);
    raise(SIGUSR1);
    CHECK_EQ("a pending signal of the mask: readable", revents(s, POLLIN), POLLIN);
    CHECK_EQ("one record", read(s, si, sizeof si), sizeof si[0]);
    CHECK("raise: SIGUSR1, SI_TKILL, this pid, uid 0",
          si[0].ssi_signo == SIGUSR1 && si[0].ssi_code == SI_TKILL &&
              si[0].ssi_pid == (uint32_t)getpid() && si[0].ssi_uid == 0);
    kill(getpid(), SIGRTMIN);
    kill(getpid(), SIGRTMIN);
    kill(getpid(), SIGUSR1);
    CHECK_EQ("three pending: three records in one read", read(s, si, sizeof si), sizeof si);
    CHECK("lowest number first, then queued real-time ones",
          si[0].ssi_signo == SIGUSR1 && si[1].ssi_signo == (uint32_t)SIGRTMIN &&
              si[2].ssi_signo == (uint32_t)SIGRTMIN && si[0].ssi_code == SI_USER);
    int ep = epoll_create1(0);
    struct epoll_event ev;
    add(ep, s, EPOLLIN, 8);
    CHECK_EQ("in epoll: nothing", wait1(ep, &ev, 0), 0);
    pid_t pid = fork();
    if (pid == 0) {
        sleep_ms(50);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    CHECK_EQ("a child's kill wakes a blocked epoll_wait", wait1(ep, &ev, 5000), 1);
    waitpid(pid, NULL, 0);
    read(s, si, sizeof si);

    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &usr2, NULL);
    kill(getpid(), SIGUSR2);
    CHECK_EQ("SIGUSR2 is not in the mask: nothing", wait1(ep, &ev, 0), 0);
    CHECK_EQ("a new mask for the same fd returns it", signalfd(s, &usr2, 0), s);
    CHECK_EQ("now it is readable", wait1(ep, &ev, 0), 1);
    CHECK("and reads SIGUSR2", read(s, si, sizeof si) == sizeof si[0] && si[0].ssi_signo == SIGUSR2);

    signalfd(s, &mask, 0);
    fcntl(s, F_SETFL, O_RDWR);
    pid = fork();
    if (pid == 0)
        _exit(3);
    CHECK_EQ("a blocking read: SIGCHLD (blocked, so kept though ignored)", read(s, si, sizeof si),
             sizeof si[0]);
    CHECK("CLD_EXITED, status 3, the child's pid",
          si[0].ssi_signo == SIGCHLD && si[0].ssi_code == CLD_EXITED && si[0].ssi_status == 3 &&
              si[0].ssi_pid == (uint32_t)pid);
    waitpid(pid, NULL, 0);
    close(ep), close(s);
    sigprocmask(SIG_UNBLOCK, &mask, NULL);
    sigprocmask(SIG_UNBLOCK, &usr2, NULL);
}

int main(void)
{
    alarm(60);
    creation_and_ctl_errors();
    pipe_events();
    lifetimes();
    sockets();
    blocking();
    eventfds();
    timerfds();
    signalfds();
    return check_exit();
}
