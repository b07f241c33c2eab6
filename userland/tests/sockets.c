/*
 * sockets: the socket syscalls on Unix domain sockets (socketpair, stream and datagram,
 * abstract and path names, listen/accept/connect, shutdown, sendmsg/recvmsg, options,
 * timeouts, poll) and the socket layer's errors on any family. Nothing here needs a network
 * interface: the output is the same on a kernel with or without one (AF_INET over a real
 * link is what `cargo xtask nettest` checks).
 */
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

static short revents(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

/* An abstract name unique to this run (the name itself is never printed). */
static socklen_t abstract_name(struct sockaddr_un *addr, const char *tag)
{
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    int n = snprintf(addr->sun_path + 1, sizeof addr->sun_path - 1, "tessera-%s-%d", tag,
                     (int)getpid());
    return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

static void creation(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK("socket(AF_UNIX, SOCK_STREAM)", fd >= 0);
    struct stat st;
    CHECK("fstat of a socket says S_IFSOCK", fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode));
    CHECK_EQ("a new socket is O_RDWR", fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
    close(fd);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK("SOCK_NONBLOCK sets O_NONBLOCK", fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK));
    CHECK_EQ("SOCK_CLOEXEC sets FD_CLOEXEC", fcntl(fd, F_GETFD), FD_CLOEXEC);
    close(fd);
    CHECK_OK("protocol PF_UNIX is accepted", fd = socket(AF_UNIX, SOCK_DGRAM, PF_UNIX));
    close(fd);
    CHECK_ERR("unknown family -> EAFNOSUPPORT", socket(12345, SOCK_STREAM, 0), EAFNOSUPPORT);
    CHECK_ERR("unknown type flag -> EINVAL", socket(AF_UNIX, SOCK_STREAM | 0x10000, 0), EINVAL);
    CHECK_ERR("unknown type -> ESOCKTNOSUPPORT", socket(AF_UNIX, 9, 0), ESOCKTNOSUPPORT);
    CHECK_ERR("wrong protocol -> EPROTONOSUPPORT", socket(AF_UNIX, SOCK_STREAM, 6),
              EPROTONOSUPPORT);
    int sv[2];
    CHECK_ERR("socketpair(AF_INET) -> EOPNOTSUPP", socketpair(AF_INET, SOCK_STREAM, 0, sv),
              EOPNOTSUPP);
}

static void not_sockets(void)
{
    int p[2];
    REQUIRE("pipe", pipe(p) == 0);
    struct sockaddr_un addr;
    socklen_t len = abstract_name(&addr, "notsock");
    CHECK_ERR("bind on a pipe -> ENOTSOCK", bind(p[0], (struct sockaddr *)&addr, len),
              ENOTSOCK);
    CHECK_ERR("listen on a pipe -> ENOTSOCK", listen(p[0], 1), ENOTSOCK);
    CHECK_ERR("send on a pipe -> ENOTSOCK", send(p[1], "x", 1, 0), ENOTSOCK);
    int v;
    socklen_t vlen = sizeof v;
    CHECK_ERR("getsockopt on a pipe -> ENOTSOCK",
              getsockopt(p[0], SOL_SOCKET, SO_TYPE, &v, &vlen), ENOTSOCK);
    CHECK_ERR("shutdown of a pipe -> ENOTSOCK", shutdown(p[0], SHUT_RD), ENOTSOCK);
    CHECK_ERR("bind on a bad fd -> EBADF", bind(-1, (struct sockaddr *)&addr, len), EBADF);
    CHECK_ERR("accept on a closed fd -> EBADF", accept(999, NULL, NULL), EBADF);
    close(p[0]);
    close(p[1]);
}

static void pairs(void)
{
    int sv[2];
    CHECK_EQ("socketpair(AF_UNIX, SOCK_STREAM)", socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ("write one way", write(sv[0], "ping", 4), 4);
    CHECK_EQ("write the other way", write(sv[1], "pong!", 5), 5);
    char buf[32] = {0};
    CHECK_EQ("read what the other end wrote", read(sv[1], buf, sizeof buf), 4);
    CHECK_STR("the bytes arrive in order", buf, "ping");
    CHECK_EQ("POLLOUT on a fresh pair", revents(sv[0], POLLOUT), POLLOUT);
    CHECK_EQ("POLLIN with data waiting", revents(sv[0], POLLIN), POLLIN);
    int n = -1;
    CHECK_EQ("FIONREAD counts the bytes waiting", ioctl(sv[0], FIONREAD, &n) == 0 ? n : -1, 5);
    memset(buf, 0, sizeof buf);
    CHECK_EQ("MSG_PEEK returns data", recv(sv[0], buf, 2, MSG_PEEK), 2);
    CHECK_EQ("MSG_PEEK left it there", recv(sv[0], buf, sizeof buf, 0), 5);
    CHECK_STR("and it is all there", buf, "pong!");
    CHECK_ERR("MSG_DONTWAIT on an empty socket -> EAGAIN", recv(sv[0], buf, 1, MSG_DONTWAIT),
              EAGAIN);
    CHECK_ERR("sendto with an address on a connected stream -> EISCONN",
              sendto(sv[0], "x", 1, 0, (struct sockaddr *)&(struct sockaddr_un){AF_UNIX, "x"},
                     sizeof(sa_family_t) + 2),
              EISCONN);


    /* net/socket.c, move_addr_to_user: recvfrom stores the sender's length (a stream's: 0)
     * only with an address to store it with; getsockname always reads the room and stores
     * the length. */
    write(sv[1], "ab", 2);
    socklen_t alen = 123;
    CHECK_EQ("recvfrom with a NULL address", recvfrom(sv[0], buf, 1, 0, NULL, &alen), 1);
    CHECK_EQ("leaves the length alone", alen, 123);
    struct sockaddr_un from;
    alen = sizeof from;
    CHECK_EQ("recvfrom with an address",
             recvfrom(sv[0], buf, 1, 0, (struct sockaddr *)&from, &alen), 1);
    CHECK_EQ("a stream's sender has length 0", alen, 0);
    socklen_t no_room = 0;
    CHECK_EQ("getsockname with no room", getsockname(sv[0], NULL, &no_room), 0);
    CHECK_EQ("stores the name's length", no_room, sizeof(sa_family_t));
    CHECK_ERR("getsockname without a length -> EFAULT",
              getsockname(sv[0], (struct sockaddr *)&from, NULL), EFAULT);
    /* The buffer is checked before the fd (import_single_range, then the lookup). */
    CHECK_ERR("sendto to a kernel address on no fd -> EFAULT",
              syscall(SYS_sendto, -1, 0xffff800000000000UL, 1, 0, NULL, 0), EFAULT);
    CHECK_ERR("recvfrom into a kernel address on no fd -> EFAULT",
              syscall(SYS_recvfrom, -1, 0xffff800000000000UL, 1, 0, NULL, NULL), EFAULT);

    struct sockaddr_un name;
    socklen_t len = sizeof name;
    CHECK_EQ("getsockname of a pair end", getsockname(sv[0], (struct sockaddr *)&name, &len), 0);
    CHECK("an unnamed socket's name is the family alone",
          len == sizeof(sa_family_t) && name.sun_family == AF_UNIX);
    len = sizeof name;
    CHECK_EQ("getpeername of a pair end", getpeername(sv[0], (struct sockaddr *)&name, &len), 0);
    CHECK_EQ("its peer is unnamed too", len, sizeof(sa_family_t));

    CHECK_EQ("shutdown(SHUT_WR)", shutdown(sv[0], SHUT_WR), 0);
    CHECK_ERR("write after SHUT_WR -> EPIPE", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_EQ("the peer reads end of file", read(sv[1], buf, 1), 0);
    CHECK("the peer polls POLLIN|POLLRDHUP",
          (revents(sv[1], POLLIN | POLLRDHUP) & (POLLIN | POLLRDHUP)) == (POLLIN | POLLRDHUP));
    CHECK_EQ("the peer can still write back", write(sv[1], "ok", 2), 2);
    CHECK_EQ("and the shut end still reads", read(sv[0], buf, sizeof buf), 2);
    close(sv[1]);
    CHECK_EQ("after the peer closed: end of file", read(sv[0], buf, 1), 0);
    CHECK("POLLHUP once the peer is gone", revents(sv[0], POLLIN) & POLLHUP);
    close(sv[0]);

    CHECK_EQ("socketpair SOCK_NONBLOCK|SOCK_CLOEXEC",
             socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    CHECK("both ends non-blocking and close-on-exec",
          (fcntl(sv[0], F_GETFL) & O_NONBLOCK) && (fcntl(sv[1], F_GETFL) & O_NONBLOCK) &&
              fcntl(sv[0], F_GETFD) == FD_CLOEXEC && fcntl(sv[1], F_GETFD) == FD_CLOEXEC);
    CHECK_ERR("read of an empty non-blocking socket -> EAGAIN", read(sv[0], buf, 1), EAGAIN);
    static char big[1 << 20];
    ssize_t put = write(sv[0], big, sizeof big);
    CHECK("a non-blocking write takes what fits", put > 0 && put < (ssize_t)sizeof big);
    CHECK_ERR("then EAGAIN", write(sv[0], big, 1), EAGAIN);
    CHECK_EQ("no POLLOUT while full", revents(sv[0], POLLOUT), 0);
    close(sv[1]);
    signal(SIGPIPE, SIG_IGN);
    CHECK_ERR("write after the peer closed -> EPIPE", write(sv[0], "x", 1), EPIPE);
    signal(SIGPIPE, SIG_DFL);
    close(sv[0]);
}

static int sigpipe_child(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    write(sv[0], "x", 1);
    return 0;
}

static void datagrams_and_msgs(void)
{
    int status = child_status(sigpipe_child);
    CHECK("writing to a closed pair raises SIGPIPE",
          WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE);

    int sv[2];
    CHECK_EQ("socketpair(AF_UNIX, SOCK_DGRAM)", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    send(sv[0], "ab", 2, 0);
    send(sv[0], "cde", 3, 0);
    char buf[16] = {0};
    CHECK_EQ("a datagram comes out whole", recv(sv[1], buf, sizeof buf, 0), 2);
    CHECK_EQ("a short buffer truncates the next", recv(sv[1], buf, 2, 0), 2);
    CHECK_ERR("and the rest of it is gone", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    send(sv[0], "fghij", 5, 0);
    CHECK_EQ("MSG_TRUNC returns the real length", recv(sv[1], buf, 1, MSG_TRUNC), 5);
    int type = 0;
    socklen_t len = sizeof type;
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len);
    CHECK_EQ("SO_TYPE of a datagram socket", type, SOCK_DGRAM);
    close(sv[0]);
    close(sv[1]);
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un addr;
    socklen_t alen = abstract_name(&addr, "dgram");
    CHECK_EQ("bind a datagram socket", bind(d, (struct sockaddr *)&addr, alen), 0);
    CHECK_ERR("listen on a datagram socket -> EOPNOTSUPP", listen(d, 1), EOPNOTSUPP);
    close(d);

    REQUIRE("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct iovec out[2] = {{"hello ", 6}, {"world", 5}};
    struct msghdr msg = {.msg_iov = out, .msg_iovlen = 2};
    CHECK_EQ("sendmsg gathers its iovecs", sendmsg(sv[0], &msg, 0), 11);
    char a[4] = {0}, b[16] = {0};
    struct iovec in[2] = {{a, 3}, {b, sizeof b - 1}};
    struct msghdr got = {.msg_iov = in, .msg_iovlen = 2};
    CHECK_EQ("recvmsg scatters into its iovecs", recvmsg(sv[1], &got, 0), 11);
    CHECK("the first iovec is filled first", memcmp(a, "hel", 3) == 0);
    CHECK_STR("then the second", b, "lo world");
    CHECK_EQ("no flags out", got.msg_flags, 0);
    close(sv[0]);
    close(sv[1]);
}

/* The listener's name, set before the client child forks (the name holds the parent's pid). */
static struct sockaddr_un listen_addr;
static socklen_t listen_len;

static int client_child(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&listen_addr, listen_len) != 0)
        return 1;
    if (write(fd, "from the child", 14) != 14)
        return 2;
    char buf[8];
    return read(fd, buf, sizeof buf) == 5 ? 0 : 3;
}

static void names(void)
{
    struct sockaddr_un addr;
    socklen_t len = abstract_name(&addr, "listen");
    listen_addr = addr;
    listen_len = len;
    int server = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR("listen before bind -> EINVAL", listen(server, 1), EINVAL);
    CHECK_ERR("accept before listen -> EINVAL", accept(server, NULL, NULL), EINVAL);
    CHECK_EQ("bind an abstract name", bind(server, (struct sockaddr *)&addr, len), 0);
    CHECK_ERR("bind twice -> EINVAL", bind(server, (struct sockaddr *)&addr, len), EINVAL);
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR("a name taken -> EADDRINUSE", bind(other, (struct sockaddr *)&addr, len),
              EADDRINUSE);
    CHECK_ERR("connect to a name nobody listens on -> ECONNREFUSED",
              connect(other, (struct sockaddr *)&addr, len), ECONNREFUSED);
    close(other);
    CHECK_EQ("listen", listen(server, 4), 0);
    /* listen's backlog is an int compared as unsigned with somaxconn (net/socket.c): -1 is
     * the largest backlog, so three connections queue where a backlog of 0 takes one. */
    struct sockaddr_un many;
    socklen_t many_len = abstract_name(&many, "backlog");
    int wide = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(wide, (struct sockaddr *)&many, many_len);
    CHECK_EQ("listen with a backlog of -1", listen(wide, -1), 0);
    int queued = 0, clients[3];
    for (int i = 0; i < 3; i++) {
        clients[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        queued += connect(clients[i], (struct sockaddr *)&many, many_len) == 0;
    }
    CHECK_EQ("three connections queue on it", queued, 3);
    for (int i = 0; i < 3; i++)
        close(clients[i]);
    close(wide);
    int accepting = 0;
    socklen_t ilen = sizeof accepting;
    getsockopt(server, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &ilen);
    CHECK_EQ("SO_ACCEPTCONN once listening", accepting, 1);
    struct sockaddr_un name;
    socklen_t nlen = sizeof name;
    getsockname(server, (struct sockaddr *)&name, &nlen);
    CHECK("getsockname returns the bound name",
          nlen == len && memcmp(&name, &addr, len) == 0);

    int flags = fcntl(server, F_GETFL);
    fcntl(server, F_SETFL, flags | O_NONBLOCK);
    CHECK_ERR("non-blocking accept with none pending -> EAGAIN", accept(server, NULL, NULL),
              EAGAIN);
    fcntl(server, F_SETFL, flags);
    pid_t pid = fork();
    if (pid == 0)
        _exit(client_child());
    int conn = accept(server, NULL, NULL);
    CHECK("a blocking accept returns the child's connection", conn >= 0);
    char buf[32] = {0};
    int got = 0;
    while (got < 14) {
        ssize_t n = read(conn, buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            break;
        got += n;
    }
    CHECK_STR("the child's bytes arrive", buf, "from the child");
    write(conn, "reply", 5);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_EQ("the child connected, wrote and read its reply", WEXITSTATUS(status), 0);
    close(conn);

    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_EQ("connect to the listener", connect(client, (struct sockaddr *)&addr, len), 0);
    CHECK_ERR("connect again -> EISCONN", connect(client, (struct sockaddr *)&addr, len),
              EISCONN);
    nlen = sizeof name;
    getpeername(client, (struct sockaddr *)&name, &nlen);
    CHECK("getpeername of the client is the server's name",
          nlen == len && memcmp(&name, &addr, len) == 0);
    struct sockaddr_un from;
    socklen_t flen = sizeof from;
    conn = accept4(server, (struct sockaddr *)&from, &flen, SOCK_CLOEXEC);
    CHECK("accept4 SOCK_CLOEXEC", conn >= 0 && fcntl(conn, F_GETFD) == FD_CLOEXEC);
    CHECK_EQ("an unnamed client's address is the family alone", flen, sizeof(sa_family_t));
    /* Raw: musl's accept4() takes EINVAL for an old kernel's and falls back to accept(),
     * which would wait for a connection. */
    CHECK_ERR("accept4 with a bad flag -> EINVAL", syscall(SYS_accept4, server, NULL, NULL, 1),
              EINVAL);
    close(conn);
    close(client);
    close(server);

    struct sockaddr_un path = {.sun_family = AF_UNIX};
    strcpy(path.sun_path, "/tmp/sockets-test-missing.sock");
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR("connect to a path that does not exist -> ENOENT",
              connect(fd, (struct sockaddr *)&path, sizeof path), ENOENT);
    CHECK_ERR("a sockaddr longer than sockaddr_storage -> EINVAL",
              connect(fd, (struct sockaddr *)&path, 200), EINVAL);
    CHECK_ERR("a sockaddr of the wrong family -> EINVAL",
              connect(fd, (struct sockaddr *)&(struct sockaddr){.sa_family = AF_INET}, 16),
              EINVAL);
    close(fd);
}

static void options(void)
{
    int sv[2];
    REQUIRE("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int v = -1;
    socklen_t len = sizeof v;
    CHECK_EQ("getsockopt SO_TYPE", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &len), 0);
    CHECK("SO_TYPE is SOCK_STREAM, 4 bytes", v == SOCK_STREAM && len == sizeof v);
    getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &v, &len);
    CHECK_EQ("SO_DOMAIN is AF_UNIX", v, AF_UNIX);
    getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &len);
    CHECK_EQ("SO_ERROR is 0", v, 0);
    getsockopt(sv[0], SOL_SOCKET, SO_ACCEPTCONN, &v, &len);
    CHECK_EQ("SO_ACCEPTCONN of a connected socket is 0", v, 0);
    CHECK_ERR("an unknown option -> ENOPROTOOPT",
              getsockopt(sv[0], SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
    CHECK_ERR("a negative optlen -> EINVAL",
              getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &(socklen_t){(socklen_t)-1}), EINVAL);
    int one = 1;
    CHECK_EQ("setsockopt SO_REUSEADDR", setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &one,
                                                   sizeof one), 0);
    CHECK_ERR("setsockopt with a short value -> EINVAL",
              setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &one, 2), EINVAL);

    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    CHECK_EQ("SO_RCVTIMEO 200 ms", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv),
             0);
    struct timeval back = {0};
    len = sizeof back;
    getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &back, &len);
    CHECK("SO_RCVTIMEO reads back", back.tv_sec == 0 && back.tv_usec == 200000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char c;
    CHECK_ERR("a read past SO_RCVTIMEO -> EAGAIN", read(sv[0], &c, 1), EAGAIN);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK("it waited about the timeout", ms >= 150 && ms < 2000);
    tv.tv_usec = 2000000;
    CHECK_ERR("a timeval with usec >= 1000000 -> EDOM",
              setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    creation();
    not_sockets();
    pairs();
    datagrams_and_msgs();
    names();
    options();
    return check_exit();
}
