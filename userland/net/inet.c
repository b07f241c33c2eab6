/*
 * inet: TCP and UDP sockets over the loopback interface: binding rules, connect/accept,
 * data both ways, refused and reset connections, shutdown, non-blocking connect, options,
 * timeouts and poll. `cargo xtask nettest` runs it natively on the host (Linux, loopback up)
 * and inside Tessera, and compares the two outputs line by line. (The conformance boots of
 * `cargo xtask conform` have no loopback interface up on Linux, hence not in userland/tests.)
 */
#include "check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

static struct sockaddr_in loopback(unsigned short port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

#define SA(a) ((struct sockaddr *)&(a))

static unsigned short port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(fd, SA(a), &len) != 0)
        return 0;
    return ntohs(a.sin_port);
}

static short revents(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    if (poll(&p, 1, timeout_ms) < 0)
        return -1;
    return p.revents;
}

/* A listener on 127.0.0.1 with an ephemeral port. */
static int listener(int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(0);
    if (fd < 0 || bind(fd, SA(a), sizeof a) != 0 || listen(fd, backlog) != 0)
        return -1;
    return fd;
}

static int connect_to(unsigned short port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(port);
    if (connect(fd, SA(a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void binding(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("socket(AF_INET, SOCK_STREAM)", fd >= 0);
    CHECK_ERR("SOCK_STREAM with IPPROTO_UDP -> EPROTONOSUPPORT",
              socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
    struct sockaddr_in any = {.sin_family = AF_INET}, got;
    socklen_t len = sizeof got;
    CHECK_EQ("getsockname before bind", getsockname(fd, SA(got), &len), 0);
    CHECK("an unbound socket is 0.0.0.0:0", got.sin_port == 0 && got.sin_addr.s_addr == 0);
    CHECK_ERR("a short sockaddr -> EINVAL", bind(fd, SA(any), 8), EINVAL);
    struct sockaddr_in wrong = any;
    wrong.sin_family = AF_UNIX;
    CHECK_ERR("another family -> EAFNOSUPPORT", bind(fd, SA(wrong), sizeof wrong), EAFNOSUPPORT);
    struct sockaddr_in far = any;
    far.sin_addr.s_addr = inet_addr("203.0.113.9");
    CHECK_ERR("an address not ours -> EADDRNOTAVAIL", bind(fd, SA(far), sizeof far),
              EADDRNOTAVAIL);
    CHECK_EQ("bind 0.0.0.0:0", bind(fd, SA(any), sizeof any), 0);
    unsigned short port = port_of(fd);
    CHECK("port 0 picks an ephemeral port", port >= 1024);
    CHECK_ERR("bind twice -> EINVAL", bind(fd, SA(any), sizeof any), EINVAL);
    int other = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in same = loopback(port);
    CHECK_ERR("a port taken -> EADDRINUSE", bind(other, SA(same), sizeof same), EADDRINUSE);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(other, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    CHECK_EQ("SO_REUSEADDR on both: a bound port can be shared",
             bind(other, SA(same), sizeof same), 0);
    close(other);
    CHECK_EQ("listen", listen(fd, 4), 0);
    other = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(other, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    CHECK_ERR("but not a listener's", bind(other, SA(same), sizeof same), EADDRINUSE);
    close(other);
    close(fd);
    int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
    bind(u1, SA(any), sizeof any);
    struct sockaddr_in taken = loopback(port_of(u1));
    CHECK_ERR("UDP ports are exclusive too", bind(u2, SA(taken), sizeof taken), EADDRINUSE);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ("TCP and UDP ports are separate", bind(t, SA(taken), sizeof taken), 0);
    close(t);
    close(u1);
    close(u2);
}

static void streams(void)
{
    int server = listener(4);
    REQUIRE("listener", server >= 0);
    unsigned short port = port_of(server);
    int client = connect_to(port);
    CHECK("connect to a listener", client >= 0);
    struct sockaddr_in peer, mine;
    socklen_t plen = sizeof peer, mlen = sizeof mine;
    int conn = accept(server, SA(peer), &plen);
    CHECK("accept", conn >= 0);
    getsockname(client, SA(mine), &mlen);
    CHECK("accept reports the client's address",
          plen == sizeof peer && peer.sin_port == mine.sin_port &&
              peer.sin_addr.s_addr == mine.sin_addr.s_addr);
    plen = sizeof peer;
    getpeername(client, SA(peer), &plen);
    CHECK("the client's peer is the listener's port", ntohs(peer.sin_port) == port);
    CHECK_ERR("connect again -> EISCONN", connect(client, SA(peer), sizeof peer), EISCONN);

    CHECK_EQ("send", send(client, "hello", 5, 0), 5);
    char buf[64] = {0};
    CHECK_EQ("recv with MSG_PEEK", recv(conn, buf, sizeof buf, MSG_PEEK), 5);
    CHECK_EQ("recv", recv(conn, buf, sizeof buf, 0), 5);
    CHECK_STR("the bytes", buf, "hello");
    CHECK_ERR("MSG_DONTWAIT with nothing there -> EAGAIN", recv(conn, buf, 1, MSG_DONTWAIT),
              EAGAIN);
    CHECK_EQ("write the other way", write(conn, "world", 5), 5);
    memset(buf, 0, sizeof buf);
    CHECK_EQ("read", read(client, buf, sizeof buf), 5);
    CHECK_EQ("POLLOUT on a connection", revents(client, POLLOUT, 0), POLLOUT);

    CHECK_EQ("shutdown(SHUT_WR)", shutdown(client, SHUT_WR), 0);
    CHECK_ERR("send after SHUT_WR -> EPIPE", send(client, "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_EQ("the peer reads end of stream", recv(conn, buf, sizeof buf, 0), 0);
    CHECK("the peer polls POLLIN|POLLRDHUP",
          (revents(conn, POLLIN | POLLRDHUP, 1000) & (POLLIN | POLLRDHUP)) ==
              (POLLIN | POLLRDHUP));
    CHECK_EQ("the peer still sends", send(conn, "bye", 3, 0), 3);
    CHECK_EQ("and the half-closed side reads it", recv(client, buf, 3, MSG_WAITALL), 3);
    close(conn);
    CHECK_EQ("end of stream after the peer closed", recv(client, buf, sizeof buf, 0), 0);
    close(client);

    /* A big transfer from a child process, checked by a sum. */
    pid_t pid = fork();
    if (pid == 0) {
        int fd = connect_to(port);
        static unsigned char data[1 << 20];
        for (unsigned i = 0; i < sizeof data; i++)
            data[i] = (unsigned char)(i * 7 + (i >> 9));
        ssize_t sent = 0;
        while (sent < (ssize_t)sizeof data) {
            ssize_t n = write(fd, data + sent, sizeof data - sent);
            if (n <= 0)
                _exit(1);
            sent += n;
        }
        close(fd);
        _exit(0);
    }
    conn = accept(server, NULL, NULL);
    unsigned long long sum = 0, count = 0;
    for (;;) {
        unsigned char chunk[8192];
        ssize_t n = read(conn, chunk, sizeof chunk);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++, count++)
            sum += chunk[i] * ((count % 251) + 1);
    }
    unsigned long long want = 0;
    for (unsigned i = 0; i < (1u << 20); i++)
        want += (unsigned char)(i * 7 + (i >> 9)) * ((i % 251) + 1);
    CHECK_EQ("1 MiB from a child arrives whole", count, 1 << 20);
    CHECK("and in order", sum == want);
    int status;
    waitpid(pid, &status, 0);
    CHECK_EQ("the child wrote it all", WEXITSTATUS(status), 0);
    close(conn);

    /* Connections queue until accepted, and many come and go. */
    int clients[3];
    for (int i = 0; i < 3; i++)
        clients[i] = connect_to(port);
    CHECK("three connections complete before any accept",
          clients[0] >= 0 && clients[1] >= 0 && clients[2] >= 0);
    CHECK("the listener polls POLLIN", revents(server, POLLIN, 1000) & POLLIN);
    int accepted = 0;
    for (int i = 0; i < 3; i++) {
        int c = accept(server, NULL, NULL);
        accepted += c >= 0;
        close(c);
        close(clients[i]);
    }
    CHECK_EQ("all three accepted", accepted, 3);
    int ok = 0;
    for (int i = 0; i < 50; i++) {
        int c = connect_to(port);
        int s = accept(server, NULL, NULL);
        char byte = 0;
        if (c >= 0 && s >= 0 && write(c, "x", 1) == 1 && read(s, &byte, 1) == 1 && byte == 'x')
            ok++;
        close(c);
        close(s);
    }
    CHECK_EQ("50 short connections in a row", ok, 50);
    close(server);
}

static void failures(void)
{
    /* A bound port with no listener refuses connections. */
    int bound = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(0);
    bind(bound, SA(a), sizeof a);
    unsigned short closed_port = port_of(bound);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = loopback(closed_port);
    CHECK_ERR("connect to a port without listener -> ECONNREFUSED", connect(fd, SA(to), sizeof to),
              ECONNREFUSED);
    close(fd);
    signal(SIGPIPE, SIG_IGN);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    char buf[16];
    CHECK_EQ("a fresh stream polls POLLOUT|POLLHUP", revents(fd, POLLIN | POLLOUT, 0),
             POLLOUT | POLLHUP);
    CHECK_ERR("send on an unconnected stream -> EPIPE", send(fd, "x", 1, 0), EPIPE);
    CHECK_ERR("recv on an unconnected stream -> ENOTCONN", recv(fd, buf, 1, 0), ENOTCONN);
    CHECK_ERR("getpeername unconnected -> ENOTCONN",
              getpeername(fd, SA(a), &(socklen_t){sizeof a}), ENOTCONN);
    CHECK_ERR("shutdown unconnected -> ENOTCONN", shutdown(fd, SHUT_RDWR), ENOTCONN);
    CHECK_ERR("accept without listen -> EINVAL", accept(fd, NULL, NULL), EINVAL);
    CHECK_EQ("shutdown records the read side even so: POLLIN too",
             revents(fd, POLLIN | POLLOUT, 0), POLLIN | POLLOUT | POLLHUP);
    close(fd);

    /* Non-blocking connect: EINPROGRESS, then the result in SO_ERROR. */
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK_ERR("non-blocking connect -> EINPROGRESS", connect(fd, SA(to), sizeof to), EINPROGRESS);
    CHECK("then POLLERR", revents(fd, POLLOUT, 2000) & POLLERR);
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    CHECK_EQ("SO_ERROR says ECONNREFUSED", err, ECONNREFUSED);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    CHECK_EQ("and reading it cleared it", err, 0);
    close(fd);
    close(bound);

    int server = listener(2);
    unsigned short port = port_of(server);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    to = loopback(port);
    CHECK_ERR("non-blocking connect to a listener -> EINPROGRESS",
              connect(fd, SA(to), sizeof to), EINPROGRESS);
    CHECK_EQ("then POLLOUT", revents(fd, POLLOUT, 2000), POLLOUT);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    CHECK_EQ("and SO_ERROR 0", err, 0);
    int conn = accept(server, NULL, NULL);

    /* Closing with unread data resets the connection. */
    send(fd, "unread", 6, 0);
    usleep(100000);
    close(conn);
    CHECK("the reset shows as POLLERR", revents(fd, POLLIN, 2000) & POLLERR);
    CHECK_ERR("recv after a reset -> ECONNRESET", recv(fd, buf, sizeof buf, 0), ECONNRESET);
    CHECK_EQ("then end of stream", recv(fd, buf, sizeof buf, 0), 0);
    CHECK_ERR("and send -> EPIPE", send(fd, "x", 1, 0), EPIPE);
    close(fd);

    /* SO_RCVTIMEO bounds a blocking recv. */
    fd = connect_to(port);
    conn = accept(server, NULL, NULL);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_ERR("recv past SO_RCVTIMEO -> EAGAIN", recv(fd, buf, 1, 0), EAGAIN);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK("after about the timeout", ms >= 150 && ms < 2000);
    close(fd);
    close(conn);
    close(server);
    signal(SIGPIPE, SIG_DFL);
}

static void options(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int v = -1;
    socklen_t len = sizeof v;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len);
    CHECK_EQ("SO_TYPE", v, SOCK_STREAM);
    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len);
    CHECK_EQ("SO_PROTOCOL", v, IPPROTO_TCP);
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len);
    CHECK_EQ("SO_DOMAIN", v, AF_INET);
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len);
    CHECK_EQ("TCP_NODELAY starts off", v, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len);
    CHECK("TCP_NODELAY set", v != 0);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &len);
    CHECK("SO_KEEPALIVE set", v != 0);
    int size = 16384;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len);
    CHECK_EQ("SO_RCVBUF reports twice what was set", v, 2 * size);
    CHECK_ERR("an unknown option -> ENOPROTOOPT", getsockopt(fd, SOL_SOCKET, 9999, &v, &len),
              ENOPROTOOPT);
    close(fd);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_ERR("TCP_NODELAY on UDP -> ENOPROTOOPT",
              setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), ENOPROTOOPT);
    close(fd);
}

static void datagrams(void)
{
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in any = loopback(0);
    CHECK_EQ("bind a UDP socket", bind(a, SA(any), sizeof any), 0);
    struct sockaddr_in to = loopback(port_of(a));
    char buf[64] = {0};
    CHECK_ERR("send without a destination -> EDESTADDRREQ", send(b, "x", 1, 0), EDESTADDRREQ);
    CHECK_EQ("sendto an unbound socket's first datagram", sendto(b, "one", 3, 0, SA(to), sizeof to),
             3);
    CHECK("which bound it to an ephemeral port", port_of(b) >= 1024);
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    CHECK_EQ("recvfrom", recvfrom(a, buf, sizeof buf, 0, SA(from), &flen), 3);
    CHECK("from the sender's address",
          flen == sizeof from && ntohs(from.sin_port) == port_of(b) &&
              from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    sendto(b, "truncated", 9, 0, SA(to), sizeof to);
    CHECK_EQ("MSG_TRUNC gives the datagram's real size", recv(a, buf, 4, MSG_TRUNC), 9);
    CHECK_ERR("the rest is gone", recv(a, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    CHECK_ERR("shutdown of an unconnected UDP socket -> ENOTCONN", shutdown(a, SHUT_RD),
              ENOTCONN);
    CHECK_EQ("connect a UDP socket", connect(b, SA(to), sizeof to), 0);
    CHECK_EQ("send to the connected peer", send(b, "two", 3, 0), 3);
    CHECK_EQ("arrives", recv(a, buf, sizeof buf, 0), 3);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    CHECK_EQ("getpeername of a connected UDP socket", getpeername(b, SA(peer), &plen), 0);
    CHECK_EQ("is the peer", ntohs(peer.sin_port), port_of(a));
    CHECK_ERR("getpeername of an unconnected one -> ENOTCONN",
              getpeername(a, SA(peer), &plen), ENOTCONN);
    CHECK_EQ("POLLOUT on UDP", revents(a, POLLOUT, 0), POLLOUT);
    close(a);
    close(b);
}

int main(void)
{
    binding();
    streams();
    failures();
    options();
    datagrams();
    return check_exit();
}
