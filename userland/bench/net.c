/*
 * net.c: the network benchmarks and, on Linux, bringing the card up.
 *
 * The guest talks TCP to a peer that `cargo xtask bench` runs on the host
 * (xtask/src/bench/peer.rs), reached through QEMU's user network at the address given as
 * `peer=10.0.2.2:PORT`. A connection starts with one request line:
 *
 *     tx BYTES SEED    the guest sends BYTES of the pattern; the peer checks every byte and,
 *                      having read all BYTES (even after a wrong one), answers "ok BYTES"
 *                      (or "bad REASON"), then closes; the guest sends nothing more
 *     rx BYTES SEED    the peer sends BYTES of the pattern and closes; the guest checks them
 *     ping N           the peer answers "pong N" and closes
 *
 * The pattern is position-addressed (word i of the stream is splitmix64(SEED + i * golden)),
 * so lost, repeated, reordered or foreign bytes are all caught, and each transfer uses a
 * new SEED, so bytes of an earlier one cannot pass either. Nothing counts as done before
 * its check: tx stops the clock after the peer's verdict, rx checks after the clock.
 *
 * Linux (Debian's kernel) has the card's driver as modules: the harness packs them into
 * /bench-modules with an `order` file (dependencies first), and the program loads them with
 * finit_module(2) and configures lo and eth0 with the classic ioctls. Without that directory
 * (Tessera) the kernel configured the card at boot. A failure there becomes the error of
 * every network benchmark. Before powering off, the program takes eth0 down again
 * (net_finish): with the card's queues still polled, Linux 6.1 sometimes spun in its
 * softirq instead of powering off (docs/benchmarks.md, "Known problems").
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#define MODULE_DIR "/bench-modules"
/* Reads and writes of bulk data go in chunks of this size. */
#define CHUNK (64 * 1024)
/* A transfer that makes no progress for this long fails (instead of waiting for the
 * driver's limit). */
#define STALL_SECONDS 60

static struct sockaddr_in peer;
static int peer_given;
static char setup_error[256];
static int setup_done;
static int brought_up; /* eth0 was brought up here (Linux) */

int net_peer(const char *text)
{
    char host[32];
    const char *colon = strrchr(text, ':');
    if (!colon || colon - text >= (long)sizeof host)
        return -1;
    memcpy(host, text, colon - text);
    host[colon - text] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535)
        return -1;
    peer.sin_family = AF_INET;
    peer.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &peer.sin_addr) != 1)
        return -1;
    peer_given = 1;
    return 0;
}

/* Sets an interface's address and netmask and brings it up. */
static const char *configure(int fd, const char *name, const char *addr, const char *mask)
{
    struct ifreq ifr;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    static char what[64];
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, addr, &sin->sin_addr);
    snprintf(what, sizeof what, "SIOCSIFADDR %s", name);
    if (ioctl(fd, SIOCSIFADDR, &ifr) != 0)
        return failed(what);
    inet_pton(AF_INET, mask, &sin->sin_addr);
    snprintf(what, sizeof what, "SIOCSIFNETMASK %s", name);
    if (ioctl(fd, SIOCSIFNETMASK, &ifr) != 0)
        return failed(what);
    snprintf(what, sizeof what, "SIOCGIFFLAGS %s", name);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
        return failed(what);
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    snprintf(what, sizeof what, "SIOCSIFFLAGS %s", name);
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
        return failed(what);
    return NULL;
}

/* Loads the modules listed in MODULE_DIR/order; `*count` of them. */
static const char *load_modules(int *count, char *names, size_t size)
{
    static char list[1024];
    int fd = open(MODULE_DIR "/order", O_RDONLY);
    if (fd < 0)
        return failed(MODULE_DIR "/order");
    ssize_t len = read(fd, list, sizeof list - 1);
    const char *why = len < 0 ? failed("read " MODULE_DIR "/order") : NULL;
    close(fd);
    if (why)
        return why;
    if (len == 0)
        return MODULE_DIR "/order is empty";
    list[len] = 0;
    *count = 0;
    for (char *name = strtok(list, "\n"); name; name = strtok(NULL, "\n")) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", MODULE_DIR, name);
        int module = open(path, O_RDONLY | O_CLOEXEC);
        if (module < 0)
            return failed(path);
        char what[256];
        snprintf(what, sizeof what, "finit_module %s", name);
        why = syscall(SYS_finit_module, module, "", 0) == 0 ? NULL : failed(what);
        close(module); /* on failure too (after failed() has read errno) */
        if (why)
            return why;
        snprintf(names + strlen(names), size - strlen(names), "%s%s", *count ? " " : "",
                 name);
        (*count)++;
    }
    return *count ? NULL : MODULE_DIR "/order lists no module";
}

/* Linux: modules, then lo and eth0 (10.0.2.15/24; QEMU's gateway 10.0.2.2 is on that
 * link, so no route is needed). */
static const char *bring_up(void)
{
    char names[512] = "";
    int count = 0;
    const char *why = load_modules(&count, names, sizeof names);
    if (why)
        return why;
    if (if_nametoindex("eth0") == 0)
        return failed("no eth0 after loading the modules");
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return failed("socket for ioctls");
    why = configure(fd, "lo", "127.0.0.1", "255.0.0.0");
    if (!why)
        why = configure(fd, "eth0", "10.0.2.15", "255.255.255.0");
    close(fd);
    if (!why) {
        brought_up = 1;
        say("bench: network: loaded %d modules (%s); lo and eth0 10.0.2.15/24 up", count, names);
    }
    return why;
}

void net_finish(void)
{
    if (!brought_up)
        return;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "eth0");
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
        say("bench: %s", failed("eth0 down: SIOCGIFFLAGS"));
    } else {
        ifr.ifr_flags &= ~IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
            say("bench: %s", failed("eth0 down: SIOCSIFFLAGS"));
    }
    if (fd >= 0)
        close(fd);
}

void net_prepare(void)
{
    if (setup_done)
        return;
    setup_done = 1;
    const char *why = NULL;
    if (!peer_given)
        why = "no peer=ADDRESS:PORT argument (the harness's host peer)";
    else if (access(MODULE_DIR, F_OK) == 0)
        why = bring_up();
    if (why)
        snprintf(setup_error, sizeof setup_error, "net setup: %s", why);
}

/* Why the network benchmarks cannot run, or NULL. */
static const char *net_state(void)
{
    if (!setup_done)
        return "net setup: not done (internal error)";
    return setup_error[0] ? setup_error : NULL;
}

/* Word `index` of the stream with `seed`: splitmix64 (same in xtask/src/bench/peer.rs). */
static uint64_t pattern_word(uint64_t seed, uint64_t index)
{
    uint64_t z = seed + index * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* `len` bytes (a multiple of 8) of the stream from its start. */
static void fill(uint8_t *buf, size_t len, uint64_t seed)
{
    for (size_t i = 0; i < len / 8; i++) {
        uint64_t w = pattern_word(seed, i);
        memcpy(buf + 8 * i, &w, 8);
    }
}

/* The offset of the first byte that differs from the stream, or -1. */
static long first_difference(const uint8_t *buf, size_t len, uint64_t seed)
{
    for (size_t i = 0; i < len / 8; i++) {
        uint64_t w = pattern_word(seed, i);
        if (memcmp(buf + 8 * i, &w, 8) != 0)
            return (long)(8 * i);
    }
    return -1;
}

/* A new seed per transfer, so no two streams of a run are alike. */
static uint64_t next_seed(void)
{
    static uint64_t count;
    return ((uint64_t)getpid() << 32) + ++count + now_ns();
}

static const char *peer_connect(int *out)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return failed("socket");
    struct timeval stall = {.tv_sec = STALL_SECONDS};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &stall, sizeof stall) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &stall, sizeof stall) != 0) {
        close(fd);
        return failed("setsockopt SO_RCVTIMEO/SO_SNDTIMEO");
    }
    if (connect(fd, (struct sockaddr *)&peer, sizeof peer) != 0) {
        const char *why = failed("connect to the host peer");
        close(fd);
        return why;
    }
    *out = fd;
    return NULL;
}

/* MSG_NOSIGNAL: a peer that closed early is an EPIPE to report, not a SIGPIPE that kills
 * the benchmark before it can say why. */
static const char *send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    for (size_t done = 0; done < len;) {
        size_t want = len - done < CHUNK ? len - done : CHUNK;
        ssize_t w = send(fd, p + done, want, MSG_NOSIGNAL);
        if (w <= 0)
            return w < 0 ? failed("send") : failed_because("send", w, want);
        done += w;
    }
    return NULL;
}

/* Reads the peer's answer, one line, into `line` (at most `size - 1` bytes, the '\n'
 * dropped): as many bytes per read() as have come, until the newline (the peer sends
 * nothing after it but the end of the connection) or the end. */
static const char *read_line(int fd, char *line, size_t size)
{
    size_t len = 0;
    char *newline = NULL;
    while (!newline && len < size - 1) {
        ssize_t r = read(fd, line + len, size - 1 - len);
        if (r < 0)
            return failed("read of the peer's answer");
        if (r == 0)
            break;
        newline = memchr(line + len, '\n', r);
        len += r;
    }
    line[len] = 0;
    if (newline) {
        *newline = 0;
        return NULL;
    }
    static char why[160];
    snprintf(why, sizeof why, "the peer's answer %s: \"%s\"",
             len < size - 1 ? "ended early" : "is too long", line);
    return why;
}

/* A bulk benchmark's operation: one MB (10^6 bytes) of one stream. */
#define MB 1000000

/* Reads the peer's answer line and checks that it is `want`. */
static const char *expect_line(int fd, const char *want)
{
    char answer[64];
    const char *why = read_line(fd, answer, sizeof answer);
    if (!why && strcmp(answer, want) != 0) {
        static char bad[192];
        snprintf(bad, sizeof bad, "the peer answered \"%s\", not \"%s\"", answer, want);
        why = bad;
    }
    return why;
}

/* Sends the stream and waits for the peer's verdict on it. */
static const char *send_stream(int fd, const uint8_t *data, size_t total)
{
    char want[64];
    const char *why = send_all(fd, data, total);
    snprintf(want, sizeof want, "ok %zu", total);
    return why ? why : expect_line(fd, want);
}

/* Receives until the peer closes (at most `room` bytes); `*got` of them. */
static const char *receive_stream(int fd, uint8_t *data, size_t room, size_t *got)
{
    while (*got < room) {
        size_t want = room - *got < CHUNK ? room - *got : CHUNK;
        ssize_t r = read(fd, data + *got, want);
        if (r < 0)
            return failed("read");
        if (r == 0)
            break;
        *got += r;
    }
    return NULL;
}

/* Whether the `got` bytes received are the `total` of the stream of `seed`. */
static const char *check_stream(const uint8_t *data, size_t got, size_t total, uint64_t seed)
{
    if (got != total)
        return failed_because("bytes received", got, total);
    long bad = first_difference(data, total, seed);
    if (bad < 0)
        return NULL;
    static char differ[96];
    snprintf(differ, sizeof differ, "received bytes differ from the stream at offset %ld", bad);
    return differ;
}

/* n MB over one connection, timed from the request to the end of the transfer: "tx" sends
 * them and ends at the peer's verdict, "rx" receives them until the peer closes and checks
 * them afterwards. The buffer is filled (tx) or touched (rx) before the clock starts. */
static const char *bulk(const char *verb, long n, uint64_t *ns)
{
    const char *why = net_state();
    if (why)
        return why;
    int sending = strcmp(verb, "tx") == 0;
    size_t total = (size_t)n * MB;
    size_t room = total + CHUNK; /* rx: room for more than asked, to catch it */
    uint64_t seed = next_seed();
    uint8_t *data = malloc(room);
    if (!data)
        return failed("malloc");
    if (sending)
        fill(data, total, seed);
    else
        memset(data, 0, room);
    int fd;
    why = peer_connect(&fd);
    if (!why) {
        char request[64];
        int len = snprintf(request, sizeof request, "%s %zu %llu\n", verb, total,
                           (unsigned long long)seed);
        size_t got = 0;
        why = send_all(fd, request, len);
        uint64_t t0 = now_ns();
        if (!why)
            why = sending ? send_stream(fd, data, total) : receive_stream(fd, data, room, &got);
        uint64_t t1 = now_ns();
        if (!why && !sending)
            why = check_stream(data, got, total, seed);
        if (!why)
            *ns += t1 - t0;
        close(fd);
    }
    free(data);
    return why;
}

/* Guest to host. */
const char *loop_tcp_tx(long n, uint64_t *ns)
{
    return bulk("tx", n, ns);
}

/* Host to guest. */
const char *loop_tcp_rx(long n, uint64_t *ns)
{
    return bulk("rx", n, ns);
}

/* A connection per operation: socket, connect, "ping N", the peer's "pong N", close. */
const char *loop_tcp_connect(long n, uint64_t *ns)
{
    const char *why = net_state();
    if (why)
        return why;
    uint64_t base = next_seed() & 0xffffffffu;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        int fd;
        why = peer_connect(&fd);
        if (why)
            return why;
        char line[64], want[64];
        unsigned long long token = base + i;
        int len = snprintf(line, sizeof line, "ping %llu\n", token);
        why = send_all(fd, line, len);
        snprintf(want, sizeof want, "pong %llu", token);
        if (!why)
            why = expect_line(fd, want);
        close(fd);
        if (why)
            return why;
    }
    *ns += now_ns() - t0;
    return NULL;
}
