/*
 * futex: futex(2) between processes, on MAP_SHARED memory touched before fork (shared
 * futex operations): wait and wake (counts, bitsets, timeouts relative and absolute on
 * both clocks, EAGAIN), requeue and cmp_requeue, wake_op's operations and comparisons,
 * signals during a wait (EINTR, SA_RESTART, stop and continue), PI locks (handoff, trylock,
 * timeouts, EDEADLK, EPERM, ESRCH, a dead owner, a handler during lock_pi), robust lists
 * (set/get, what exit does to the locks of a dying process) and clear_child_tid; EINVAL,
 * EFAULT and ENOSYS. Waiters are counted with a requeue of a futex onto itself, which moves
 * nobody: no timing decides an outcome. Children report through their exit codes.
 */
#include "check.h"

#include <limits.h>
#include "futex_abi.h"
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096
#define KERNEL_ADDRESS ((uint32_t *)0xffffffff80000000UL)
/* FUTEX_OP of linux/futex.h, without its signed shifts (-Werror). */
#define OP(op, oparg, cmp, cmparg)                                                         \
    ((((uint32_t)(op)&0xf) << 28) | (((uint32_t)(cmp)&0xf) << 24) |                        \
     (((uint32_t)(oparg)&0xfff) << 12) | ((uint32_t)(cmparg)&0xfff))

struct rlock {
    struct robust_list list;
    uint32_t futex;
};

/* One page, shared by every process of the test. */
static struct shared {
    uint32_t w[8], pi[4];
    uint32_t gate, flag, handled, tid;
    struct rlock locks[5];
} *s;

static struct robust_list_head head;

static long fx(volatile void *uaddr, int op, uint32_t val, long timeout, volatile void *uaddr2,
               uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}

/* Waiters queued on w: -1 (EINVAL) when a PI waiter is among them. */
static long waiters(volatile uint32_t *w)
{
    return fx(w, FUTEX_REQUEUE, 0, INT_MAX, w, 0);
}

static int await_waiters(volatile uint32_t *w, long n)
{
    for (int i = 0; i < 10000; i++, usleep(1000))
        if (waiters(w) == n)
            return 1;
    return 0;
}

static int await_pi_waiter(volatile uint32_t *w)
{
    for (int i = 0; i < 10000; i++, usleep(1000))
        if (waiters(w) == -1 && errno == EINVAL)
            return 1;
    return 0;
}

static int await_flag(volatile uint32_t *f)
{
    for (int i = 0; i < 10000; i++, usleep(1000))
        if (*f)
            return 1;
    return 0;
}

/* A child running fn(arg), killed by SIGALRM if it hangs. */
static pid_t spawn(int (*fn)(long), long arg)
{
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        _exit(fn(arg));
    }
    return pid;
}

/* A child's exit code, or 100 + the signal that killed it. */
static int reap(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

static struct timespec after(clockid_t clock, long ms)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_nsec += ms * 1000000;
    t.tv_sec += t.tv_nsec / 1000000000;
    t.tv_nsec %= 1000000000;
    return t;
}

static int reached(clockid_t clock, struct timespec t)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return now.tv_sec > t.tv_sec || (now.tv_sec == t.tv_sec && now.tv_nsec >= t.tv_nsec);
}

/* Children: wait on the word at `addr` while it holds what it holds now; 0 when woken. */
static int wait_at(long addr)
{
    uint32_t *w = (uint32_t *)addr;
    return fx(w, FUTEX_WAIT, *w, 0, NULL, 0) == 0 ? 0 : errno;
}

static int wait_bits(long bits)
{
    return fx(&s->w[0], FUTEX_WAIT_BITSET, 0, 0, NULL, (uint32_t)bits) == 0 ? 0 : errno;
}

static void on_usr1(int sig)
{
    (void)sig;
    s->handled = 1;
}

/* Waits on w[4]: how is RESTART (a SIGUSR1 handler with SA_RESTART), TIMED (10 s),
 * NO_HANDLER, or 0 (a handler without SA_RESTART). */
enum { RESTART = 1, TIMED = 2, NO_HANDLER = 4 };
static int wait_signalled(long how)
{
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = how & RESTART ? SA_RESTART : 0};
    if (!(how & NO_HANDLER))
        sigaction(SIGUSR1, &sa, NULL);
    struct timespec ten = {10, 0};
    long r = fx(&s->w[4], FUTEX_WAIT, 0, how & TIMED ? (long)&ten : 0, NULL, 0);
    return r == 0 ? 0 : errno;
}

static void open_gate(void)
{
    s->gate = 1;
    fx(&s->gate, FUTEX_WAKE, INT_MAX, 0, NULL, 0);
}

/* Takes PI lock arg & 0xff, raises the flag, waits at the gate, then releases the lock
 * (arg >> 8 set) or exits holding it. */
static int pi_hold(long arg)
{
    uint32_t *lock = &s->pi[arg & 0xff];
    if (fx(lock, FUTEX_TRYLOCK_PI, 0, 0, NULL, 0) != 0)
        return 60;
    s->flag = 1;
    while (!s->gate)
        fx(&s->gate, FUTEX_WAIT, 0, 0, NULL, 0);
    if (!(arg >> 8))
        return 0;
    return fx(lock, FUTEX_UNLOCK_PI, 0, 0, NULL, 0) == 0 ? 0 : errno;
}

/* Blocks in lock_pi on lock arg & 0xff (a SIGUSR1 handler without SA_RESTART installed);
 * 0 when it got the lock with the word it expects (FUTEX_OWNER_DIED too if arg >> 8) and
 * released it. */
static int pi_wait(long arg)
{
    uint32_t *lock = &s->pi[arg & 0xff];
    uint32_t died = arg >> 8 ? FUTEX_OWNER_DIED : 0;
    struct sigaction sa = {.sa_handler = on_usr1};
    sigaction(SIGUSR1, &sa, NULL);
    if (fx(lock, FUTEX_LOCK_PI, 0, 0, NULL, 0) != 0)
        return errno;
    if (*lock != (FUTEX_WAITERS | died | (uint32_t)gettid()))
        return 61;
    if (fx(lock, FUTEX_UNLOCK_PI, 0, 0, NULL, 0) != 0)
        return 62;
    return *lock == 0 ? 0 : 63;
}

static void errors(void)
{
    uint32_t *w = &s->w[0];
    struct timespec bad = {0, 1000000000}, negative = {-1, 0}, short_ = {0, 10000000};
    CHECK_ERR("wait on a changed value -> EAGAIN", fx(w, FUTEX_WAIT, 1, 0, NULL, 0), EAGAIN);
    CHECK_ERR("private wait on a changed value -> EAGAIN",
              fx(w, FUTEX_WAIT_PRIVATE, 1, 0, NULL, 0), EAGAIN);
    CHECK_ERR("wait at an unaligned address -> EINVAL",
              fx((char *)w + 1, FUTEX_WAIT, 0, 0, NULL, 0),
              EINVAL);
    CHECK_ERR("private wake at an unaligned address -> EINVAL",
              fx((char *)w + 2, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0), EINVAL);
    CHECK_EQ("wake with nobody waiting -> 0", fx(w, FUTEX_WAKE, 1, 0, NULL, 0), 0);
    CHECK_ERR("unknown operation -> ENOSYS", fx(w, 99, 0, 0, NULL, 0), ENOSYS);
    CHECK_ERR("FUTEX_FD is gone -> ENOSYS", fx(w, 2, 0, 0, NULL, 0), ENOSYS);
    CHECK_ERR("FUTEX_CLOCK_REALTIME with FUTEX_WAIT -> ENOSYS",
              fx(w, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, 0, NULL, 0), ENOSYS);
    CHECK_ERR("FUTEX_CLOCK_REALTIME with FUTEX_WAKE -> ENOSYS",
              fx(w, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, 0, NULL, 0), ENOSYS);
    CHECK_ERR("wait_bitset with bitset 0 -> EINVAL",
              fx(w, FUTEX_WAIT_BITSET, 0, 0, NULL, 0), EINVAL);
    CHECK_ERR("wake_bitset with bitset 0 -> EINVAL",
              fx(w, FUTEX_WAKE_BITSET, 1, 0, NULL, 0), EINVAL);
    CHECK_ERR("timeout with tv_nsec 1e9 -> EINVAL",
              fx(w, FUTEX_WAIT, 0, (long)&bad, NULL, 0), EINVAL);
    CHECK_ERR("timeout with negative seconds -> EINVAL",
              fx(w, FUTEX_WAIT, 0, (long)&negative, NULL, 0), EINVAL);
    CHECK_ERR("the timeout is checked before the value", fx(w, FUTEX_WAIT, 1, (long)&bad, NULL, 0),
              EINVAL);
    CHECK_ERR("... and before the clock flag",
              fx(w, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 0, (long)&bad, NULL, 0), EINVAL);
    CHECK_ERR("unmapped timeout -> EFAULT", fx(w, FUTEX_WAIT, 0, 8, NULL, 0), EFAULT);
    CHECK_EQ("wake reads no timeout", fx(w, FUTEX_WAKE, 1, 8, NULL, 0), 0);
    CHECK_ERR("wait on NULL -> EFAULT", fx(NULL, FUTEX_WAIT, 0, 0, NULL, 0), EFAULT);
    CHECK_ERR("private wait on NULL -> EFAULT",
              fx(NULL, FUTEX_WAIT_PRIVATE, 0, 0, NULL, 0), EFAULT);
    CHECK_ERR("wake on NULL -> EFAULT", fx(NULL, FUTEX_WAKE, 1, 0, NULL, 0), EFAULT);
    CHECK_EQ("private wake on NULL reads nothing -> 0",
             fx(NULL, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0), 0);
    CHECK_ERR("private wake at a kernel address -> EFAULT",
              fx(KERNEL_ADDRESS, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0), EFAULT);
    CHECK_ERR("wait at a kernel address -> EFAULT", fx(KERNEL_ADDRESS, FUTEX_WAIT, 0, 0, NULL, 0),
              EFAULT);
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
    uint32_t *gone = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, flags, -1, 0);
    munmap(gone, PAGE);
    CHECK_ERR("private wait on an unmapped page -> EFAULT",
              fx(gone, FUTEX_WAIT_PRIVATE, 0, 0, NULL, 0), EFAULT);
    CHECK_ERR("wake on an unmapped page -> EFAULT", fx(gone, FUTEX_WAKE, 1, 0, NULL, 0), EFAULT);
    uint32_t *ro = mmap(NULL, PAGE, PROT_READ, flags, -1, 0);
    uint32_t *none = mmap(NULL, PAGE, PROT_NONE, flags, -1, 0);
    uint32_t *shared_ro = mmap(NULL, PAGE, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK_ERR("shared wait in read-only private memory -> EFAULT",
              fx(ro, FUTEX_WAIT, 0, (long)&short_, NULL, 0), EFAULT);
    CHECK_ERR("a private one there waits -> ETIMEDOUT",
              fx(ro, FUTEX_WAIT_PRIVATE, 0, (long)&short_, NULL, 0), ETIMEDOUT);
    CHECK_ERR("private wait in PROT_NONE memory -> EFAULT",
              fx(none, FUTEX_WAIT_PRIVATE, 0, 0, NULL, 0), EFAULT);
    CHECK_ERR("wake in PROT_NONE memory -> EFAULT", fx(none, FUTEX_WAKE, 1, 0, NULL, 0), EFAULT);
    CHECK_ERR("wait in read-only shared memory -> ETIMEDOUT",
              fx(shared_ro, FUTEX_WAIT, 0, (long)&short_, NULL, 0), ETIMEDOUT);
    CHECK_ERR("wake_op on read-only shared memory -> EFAULT",
              fx(w, FUTEX_WAKE_OP, 1, 1, shared_ro, OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)),
              EFAULT);
    CHECK_ERR("lock_pi in read-only shared memory -> EFAULT",
              fx(shared_ro, FUTEX_LOCK_PI, 0, 0, NULL, 0), EFAULT);
    CHECK_ERR("private lock_pi in read-only memory -> EFAULT",
              fx(ro, FUTEX_LOCK_PI_PRIVATE, 0, 0, NULL, 0), EFAULT);
}

static void timeouts(void)
{
    uint32_t *w = &s->w[0];
    struct timespec rel = {0, 20000000}, zero = {0, 0};
    struct timespec start = after(CLOCK_MONOTONIC, 20);
    CHECK_ERR("wait 20 ms -> ETIMEDOUT", fx(w, FUTEX_WAIT, 0, (long)&rel, NULL, 0), ETIMEDOUT);
    CHECK("... not before 20 ms", reached(CLOCK_MONOTONIC, start));
    CHECK_ERR("wait 0 ms -> ETIMEDOUT", fx(w, FUTEX_WAIT, 0, (long)&zero, NULL, 0), ETIMEDOUT);
    CHECK_ERR("a changed value comes first -> EAGAIN", fx(w, FUTEX_WAIT, 1, (long)&zero, NULL, 0),
              EAGAIN);
    struct timespec mono = after(CLOCK_MONOTONIC, 20), real = after(CLOCK_REALTIME, 20);
    CHECK_ERR("wait_bitset until a monotonic time -> ETIMEDOUT",
              fx(w, FUTEX_WAIT_BITSET, 0, (long)&mono, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    CHECK("... not before it", reached(CLOCK_MONOTONIC, mono));
    CHECK_ERR("wait_bitset until a realtime time -> ETIMEDOUT",
              fx(w, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, (long)&real, NULL, 1), ETIMEDOUT);
    CHECK("... not before it", reached(CLOCK_REALTIME, real));
    CHECK_ERR("wait_bitset until a past monotonic time -> ETIMEDOUT",
              fx(w, FUTEX_WAIT_BITSET_PRIVATE, 0, (long)&zero, NULL, 1), ETIMEDOUT);
    CHECK_ERR("wait_bitset until the realtime epoch -> ETIMEDOUT",
              fx(w, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, (long)&zero, NULL, 1), ETIMEDOUT);
}

static void wake_counts(void)
{
    pid_t p[4];
    for (int i = 0; i < 4; i++)
        p[i] = spawn(wait_at, (long)&s->w[0]);
    CHECK("four waiters", await_waiters(&s->w[0], 4));
    CHECK_EQ("wake 2 of 4 -> 2", fx(&s->w[0], FUTEX_WAKE, 2, 0, NULL, 0), 2);
    CHECK_EQ("two still wait", waiters(&s->w[0]), 2);
    CHECK_EQ("a wake of the next word wakes nobody",
             fx(&s->w[1], FUTEX_WAKE, INT_MAX, 0, NULL, 0), 0);
    CHECK_EQ("a private wake does not reach shared waiters",
             fx(&s->w[0], FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0), 0);
    CHECK_EQ("wake 0 wakes one", fx(&s->w[0], FUTEX_WAKE, 0, 0, NULL, 0), 1);
    CHECK_EQ("wake -1 wakes one", fx(&s->w[0], FUTEX_WAKE, -1, 0, NULL, 0), 1);
    CHECK_EQ("nobody waits", waiters(&s->w[0]), 0);
    int ok = 1;
    for (int i = 0; i < 4; i++)
        ok &= reap(p[i]) == 0;
    CHECK("every woken wait returned 0", ok);

    pid_t one = spawn(wait_bits, 1), two = spawn(wait_bits, 2);
    CHECK("two waiters with bitsets 1 and 2", await_waiters(&s->w[0], 2));
    CHECK_EQ("wake_bitset 4 matches neither",
             fx(&s->w[0], FUTEX_WAKE_BITSET, INT_MAX, 0, NULL, 4), 0);
    CHECK_EQ("wake_bitset 6 wakes one", fx(&s->w[0], FUTEX_WAKE_BITSET, INT_MAX, 0, NULL, 6), 1);
    CHECK_EQ("... the one with bit 2", reap(two), 0);
    CHECK_EQ("a plain wake matches any bitset", fx(&s->w[0], FUTEX_WAKE, INT_MAX, 0, NULL, 0), 1);
    CHECK_EQ("... the other", reap(one), 0);
}

static void requeue(void)
{
    uint32_t *a = &s->w[0], *b = &s->w[1];
    pid_t p[3];
    for (int i = 0; i < 3; i++)
        p[i] = spawn(wait_at, (long)a);
    CHECK("three waiters", await_waiters(a, 3));
    CHECK_ERR("requeue count -1 -> EINVAL", fx(a, FUTEX_REQUEUE, 1, -1, b, 0), EINVAL);
    CHECK_ERR("cmp_requeue wake count -1 -> EINVAL", fx(a, FUTEX_CMP_REQUEUE, -1, 1, b, 0), EINVAL);
    CHECK_ERR("cmp_requeue on a changed value -> EAGAIN",
              fx(a, FUTEX_CMP_REQUEUE, 1, 1, b, 5), EAGAIN);
    CHECK_EQ("... moves nobody", waiters(a), 3);
    CHECK_ERR("requeue to an unaligned address -> EINVAL",
              fx(a, FUTEX_REQUEUE, 1, 1, (char *)b + 1, 0),
              EINVAL);
    CHECK_EQ("requeue: wake 1, move 1 -> 2", fx(a, FUTEX_REQUEUE, 1, 1, b, 0), 2);
    CHECK_EQ("one left", waiters(a), 1);
    CHECK_EQ("one moved", waiters(b), 1);
    CHECK_EQ("cmp_requeue: move the last -> 1", fx(a, FUTEX_CMP_REQUEUE, 0, INT_MAX, b, 0), 1);
    CHECK_EQ("the first futex has nobody", fx(a, FUTEX_WAKE, INT_MAX, 0, NULL, 0), 0);
    CHECK_EQ("the second wakes both", fx(b, FUTEX_WAKE, INT_MAX, 0, NULL, 0), 2);
    int ok = 1;
    for (int i = 0; i < 3; i++)
        ok &= reap(p[i]) == 0;
    CHECK("the woken and the requeued waits returned 0", ok);
}

static void wake_op(void)
{
    uint32_t *a = &s->w[2], *b = &s->w[3];
    static const struct {
        const char *what;
        uint32_t op, want;
    } ops[] = {
        {"SET 7", OP(FUTEX_OP_SET, 7, 0, 0), 7},
        {"ADD 3", OP(FUTEX_OP_ADD, 3, 0, 0), 10},
        {"OR 0x20", OP(FUTEX_OP_OR, 0x20, 0, 0), 0x2a},
        {"ANDN 2", OP(FUTEX_OP_ANDN, 2, 0, 0), 0x28},
        {"XOR 0xff", OP(FUTEX_OP_XOR, 0xff, 0, 0), 0xd7},
        {"ADD -1", OP(FUTEX_OP_ADD, -1, 0, 0), 0xd6},
        {"OR 1 << 8", OP(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 8, 0, 0), 0x1d6},
        {"SET 1 << 31", OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 31, 0, 0), 0x80000000},
        {"SET 1 << 32 (modulo 32)", OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 32, 0, 0), 1},
    };
    char what[96];
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        snprintf(what, sizeof what, "wake_op %s -> 0 woken", ops[i].what);
        CHECK_EQ(what, fx(a, FUTEX_WAKE_OP, 1, 1, b, ops[i].op), 0);
        snprintf(what, sizeof what, "wake_op %s: the second word", ops[i].what);
        CHECK_EQ(what, *b, ops[i].want);
    }
    CHECK_ERR("unknown operation -> ENOSYS", fx(a, FUTEX_WAKE_OP, 1, 1, b, OP(5, 3, 0, 0)), ENOSYS);
    CHECK_EQ("... the word untouched", *b, 1);
    CHECK_ERR("unknown comparison -> ENOSYS",
              fx(a, FUTEX_WAKE_OP, 1, 1, b, OP(0, 9, 7, 0)), ENOSYS);
    CHECK_EQ("... after the store", *b, 9);
    CHECK_ERR("unaligned second word -> EINVAL",
              fx(a, FUTEX_WAKE_OP, 1, 1, (char *)b + 1, 0), EINVAL);

    *b = 0;
    pid_t p[6];
    for (int i = 0; i < 6; i++)
        p[i] = spawn(wait_at, (long)b);
    CHECK("six waiters on the second word", await_waiters(b, 6));
    static const struct {
        const char *name;
        int cmp, fails, passes;
    } cmps[] = {
        {"EQ", FUTEX_OP_CMP_EQ, 1, 0},  {"NE", FUTEX_OP_CMP_NE, 0, 1},
        {"LT", FUTEX_OP_CMP_LT, 0, 1},  {"GE", FUTEX_OP_CMP_GE, 1, 0},
        {"LE", FUTEX_OP_CMP_LE, -1, 0}, {"GT", FUTEX_OP_CMP_GT, 0, -1},
    };
    for (size_t i = 0; i < 6; i++) {
        snprintf(what, sizeof what, "0 %s %d fails: nobody woken", cmps[i].name, cmps[i].fails);
        CHECK_EQ(what,
                 fx(a, FUTEX_WAKE_OP, 1, 1, b, OP(FUTEX_OP_ADD, 0, cmps[i].cmp, cmps[i].fails)), 0);
        snprintf(what, sizeof what, "0 %s %d passes: one woken", cmps[i].name, cmps[i].passes);
        CHECK_EQ(what,
                 fx(a, FUTEX_WAKE_OP, 1, 1, b, OP(FUTEX_OP_ADD, 0, cmps[i].cmp, cmps[i].passes)),
                 1);
    }
    int ok = 1;
    for (int i = 0; i < 6; i++)
        ok &= reap(p[i]) == 0;
    CHECK("all six woken", ok);

    pid_t on_a = spawn(wait_at, (long)a), on_b = spawn(wait_at, (long)b);
    CHECK("a waiter on each word", await_waiters(a, 1) && await_waiters(b, 1));
    CHECK_EQ("wake_op failing its comparison wakes the first word only",
             fx(a, FUTEX_WAKE_OP, 1, 1, b, OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 1)), 1);
    CHECK_EQ("... whose waiter returns 0", reap(on_a), 0);
    on_a = spawn(wait_at, (long)a);
    CHECK("a new waiter on the first word", await_waiters(a, 1));
    CHECK_EQ("wake_op passing it wakes both",
             fx(a, FUTEX_WAKE_OP, 1, 1, b, OP(FUTEX_OP_SET, 2, 0, 1)), 2);
    CHECK_EQ("... after storing", *b, 2);
    CHECK("... both waits return 0", reap(on_a) == 0 && reap(on_b) == 0);
}

static void signals(void)
{
    uint32_t *w = &s->w[4];
    pid_t c = spawn(wait_signalled, 0);
    CHECK("a waiter with a handler", await_waiters(w, 1));
    kill(c, SIGUSR1);
    CHECK_EQ("the handler interrupts it -> EINTR", reap(c), EINTR);

    s->handled = 0;
    c = spawn(wait_signalled, RESTART);
    await_waiters(w, 1);
    kill(c, SIGUSR1);
    CHECK("an SA_RESTART handler runs", await_flag(&s->handled));
    CHECK("... and the wait goes on", await_waiters(w, 1));
    CHECK_EQ("wake it -> 1", fx(w, FUTEX_WAKE, 1, 0, NULL, 0), 1);
    CHECK_EQ("... its wait returns 0", reap(c), 0);

    c = spawn(wait_signalled, RESTART | TIMED);
    await_waiters(w, 1);
    kill(c, SIGUSR1);
    CHECK_EQ("a timed wait ends with EINTR even with SA_RESTART", reap(c), EINTR);

    for (int timed = 0; timed < 2; timed++) {
        const char *kind = timed ? "timed" : "untimed";
        char what[96];
        int status = 0;
        c = spawn(wait_signalled, NO_HANDLER | (timed ? TIMED : 0));
        await_waiters(w, 1);
        kill(c, SIGSTOP);
        waitpid(c, &status, WUNTRACED);
        snprintf(what, sizeof what, "a stopped %s waiter is off the queue", kind);
        CHECK(what, WIFSTOPPED(status) && waiters(w) == 0);
        kill(c, SIGCONT);
        snprintf(what, sizeof what, "continued, the %s wait goes on", kind);
        CHECK(what, await_waiters(w, 1));
        fx(w, FUTEX_WAKE, 1, 0, NULL, 0);
        snprintf(what, sizeof what, "... and returns 0 when woken (%s)", kind);
        CHECK_EQ(what, reap(c), 0);
    }
}

static void pi(void)
{
    uint32_t *l = &s->pi[0];
    uint32_t me = gettid();
    CHECK_EQ("trylock_pi a free lock -> 0", fx(l, FUTEX_TRYLOCK_PI, 0, 0, NULL, 0), 0);
    CHECK("... the word is the caller's thread id", *l == me);
    CHECK_ERR("lock_pi it again -> EDEADLK", fx(l, FUTEX_LOCK_PI, 0, 0, NULL, 0), EDEADLK);
    CHECK_ERR("trylock_pi it again -> EDEADLK", fx(l, FUTEX_TRYLOCK_PI, 0, 0, NULL, 0), EDEADLK);
    CHECK_EQ("unlock_pi -> 0", fx(l, FUTEX_UNLOCK_PI, 0, 0, NULL, 0), 0);
    CHECK_EQ("... the word is 0", *l, 0);
    CHECK_ERR("unlock_pi a free lock -> EPERM", fx(l, FUTEX_UNLOCK_PI, 0, 0, NULL, 0), EPERM);
    CHECK_ERR("unlock_pi reads an unaligned word first -> EPERM",
              fx((char *)l + 1, FUTEX_UNLOCK_PI, 0, 0, NULL, 0), EPERM);
    CHECK_ERR("lock_pi at an unaligned address -> EINVAL",
              fx((char *)l + 1, FUTEX_LOCK_PI, 0, 0, NULL, 0),
              EINVAL);
    CHECK_ERR("lock_pi on NULL -> EFAULT", fx(NULL, FUTEX_LOCK_PI_PRIVATE, 0, 0, NULL, 0), EFAULT);
    CHECK_ERR("lock_pi with FUTEX_CLOCK_REALTIME -> ENOSYS",
              fx(l, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, 0, NULL, 0), ENOSYS);
    *l = FUTEX_WAITERS | FUTEX_OWNER_DIED;
    CHECK_EQ("lock_pi2 with FUTEX_CLOCK_REALTIME takes a free lock",
             fx(l, FUTEX_LOCK_PI2 | FUTEX_CLOCK_REALTIME, 0, 0, NULL, 0), 0);
    CHECK("... dropping a stale FUTEX_WAITERS, keeping FUTEX_OWNER_DIED",
          *l == (FUTEX_OWNER_DIED | me));
    CHECK_EQ("private unlock_pi -> 0", fx(l, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, NULL, 0), 0);

    s->gate = s->flag = s->handled = 0;
    pid_t a = spawn(pi_hold, 1 << 8);
    CHECK("a child holds the lock", await_flag(&s->flag));
    CHECK("... its id is in the word", *l == (uint32_t)a);
    CHECK_ERR("unlock_pi by another process -> EPERM",
              fx(l, FUTEX_UNLOCK_PI, 0, 0, NULL, 0), EPERM);
    CHECK_ERR("trylock_pi a held lock -> EAGAIN", fx(l, FUTEX_TRYLOCK_PI, 0, 0, NULL, 0), EAGAIN);
    CHECK("... and sets FUTEX_WAITERS", *l == (FUTEX_WAITERS | a));
    struct timespec real = after(CLOCK_REALTIME, 20), mono = after(CLOCK_MONOTONIC, 20);
    CHECK_ERR("lock_pi until a realtime time -> ETIMEDOUT",
              fx(l, FUTEX_LOCK_PI, 0, (long)&real, NULL, 0),
              ETIMEDOUT);
    CHECK_ERR("lock_pi2 until a monotonic time -> ETIMEDOUT",
              fx(l, FUTEX_LOCK_PI2, 0, (long)&mono, NULL, 0), ETIMEDOUT);
    CHECK("the word still names the holder", *l == (FUTEX_WAITERS | a));
    pid_t b = spawn(pi_wait, 0);
    CHECK("another child waits in lock_pi", await_pi_waiter(l));
    CHECK_ERR("a plain wake meets the PI waiter -> EINVAL",
              fx(l, FUTEX_WAKE, 1, 0, NULL, 0), EINVAL);
    kill(b, SIGUSR1);
    CHECK("a handler runs in the waiter", await_flag(&s->handled));
    CHECK("... and lock_pi goes on without SA_RESTART", await_pi_waiter(l));
    open_gate();
    CHECK_EQ("the holder's unlock_pi hands the lock over", reap(a), 0);
    CHECK_EQ("the waiter gets it (FUTEX_WAITERS | its id) and releases it", reap(b), 0);
    CHECK_EQ("the lock is free", *l, 0);

    s->gate = s->flag = 0;
    a = spawn(pi_hold, 1);
    await_flag(&s->flag);
    b = spawn(pi_wait, 1 | (1 << 8));
    CHECK("a child waits for a lock another holds", await_pi_waiter(&s->pi[1]));
    open_gate();
    CHECK_EQ("the holder exits holding it", reap(a), 0);
    CHECK_EQ("the waiter gets it with FUTEX_OWNER_DIED", reap(b), 0);

    a = spawn(pi_hold, 2);
    CHECK_EQ("a child exits holding a lock nobody waits for", reap(a), 0);
    CHECK_ERR("lock_pi: its owner is gone -> ESRCH",
              fx(&s->pi[2], FUTEX_LOCK_PI, 0, 0, NULL, 0), ESRCH);
    CHECK("... after setting FUTEX_WAITERS", s->pi[2] == (FUTEX_WAITERS | a));
    CHECK_ERR("trylock_pi -> ESRCH", fx(&s->pi[2], FUTEX_TRYLOCK_PI, 0, 0, NULL, 0), ESRCH);

    s->w[5] = 7;
    pid_t c = spawn(wait_at, (long)&s->w[5]);
    CHECK("a plain waiter", await_waiters(&s->w[5], 1));
    CHECK_ERR("lock_pi on a futex with plain waiters -> EINVAL",
              fx(&s->w[5], FUTEX_LOCK_PI, 0, 0, NULL, 0), EINVAL);
    CHECK_ERR("unlock_pi of a word naming another -> EPERM",
              fx(&s->w[5], FUTEX_UNLOCK_PI, 0, 0, NULL, 0), EPERM);
    fx(&s->w[5], FUTEX_WAKE, 1, 0, NULL, 0);
    CHECK_EQ("... woken", reap(c), 0);
}

/* Dies holding robust locks: 0 and 3 (the pending one) its own, 1 another's, 2 a PI one;
 * exits once the parent waits on lock 0. */
static int robust_die(long loop)
{
    uint32_t tid = gettid();
    struct rlock *k = s->locks;
    head.futex_offset = offsetof(struct rlock, futex);
    if (loop) {
        /* A list that never comes back to the head: the walk stops after 2048 entries. */
        head.list.next = &k[4].list;
        k[4].list.next = &k[4].list;
        head.list_op_pending = NULL;
        k[4].futex = tid;
    } else {
        head.list.next = &k[0].list;
        k[0].list.next = &k[1].list;
        k[1].list.next = (struct robust_list *)((uintptr_t)&k[2].list | 1);
        k[2].list.next = &head.list;
        head.list_op_pending = &k[3].list;
        k[0].futex = k[2].futex = k[3].futex = tid;
        k[1].futex = 1;
    }
    if (syscall(SYS_set_robust_list, &head, sizeof head) != 0)
        return 70;
    if (loop)
        return 0;
    syscall(SYS_set_tid_address, &s->tid);
    s->flag = 1;
    while (waiters(&k[0].futex) != 1)
        usleep(1000);
    return 0;
}

static void robust(void)
{
    struct robust_list_head *saved, *got;
    size_t len = 0;
    CHECK_EQ("get_robust_list(0) -> 0", syscall(SYS_get_robust_list, 0, &saved, &len), 0);
    CHECK_EQ("... the size of a robust_list_head", len, 24);
    CHECK_ERR("set_robust_list size 23 -> EINVAL", syscall(SYS_set_robust_list, &head, 23), EINVAL);
    head.list.next = &head.list;
    CHECK_EQ("set_robust_list -> 0", syscall(SYS_set_robust_list, &head, sizeof head), 0);
    syscall(SYS_get_robust_list, 0, &got, &len);
    CHECK("get_robust_list gives it back", got == &head);
    CHECK_ERR("get_robust_list of pid -1 -> ESRCH",
              syscall(SYS_get_robust_list, -1, &got, &len), ESRCH);
    CHECK_ERR("get_robust_list of no such pid -> ESRCH",
              syscall(SYS_get_robust_list, INT_MAX, &got, &len), ESRCH);
    CHECK_ERR("get_robust_list into a bad pointer -> EFAULT",
              syscall(SYS_get_robust_list, 0, (void *)8, &len), EFAULT);
    syscall(SYS_set_robust_list, saved, sizeof head);

    s->flag = 0;
    s->tid = 7;
    pid_t c = spawn(robust_die, 0);
    CHECK("a child holds robust locks", await_flag(&s->flag));
    got = NULL;
    CHECK_EQ("get_robust_list of the child -> 0", syscall(SYS_get_robust_list, c, &got, &len), 0);
    CHECK("... its head", got == &head);
    uint32_t v = __atomic_or_fetch(&s->locks[0].futex, FUTEX_WAITERS, __ATOMIC_SEQ_CST);
    CHECK_EQ("a waiter is woken when the owner dies",
             fx(&s->locks[0].futex, FUTEX_WAIT, v, 0, NULL, 0), 0);
    CHECK_EQ("... it exited", reap(c), 0);
    CHECK_EQ("that lock: FUTEX_WAITERS | FUTEX_OWNER_DIED", s->locks[0].futex, 0xc0000000);
    CHECK_EQ("another's lock is left alone", s->locks[1].futex, 1);
    CHECK_EQ("a PI lock: FUTEX_OWNER_DIED", s->locks[2].futex, FUTEX_OWNER_DIED);
    CHECK_EQ("the pending lock: FUTEX_OWNER_DIED", s->locks[3].futex, FUTEX_OWNER_DIED);
    CHECK_ERR("get_robust_list of the reaped child -> ESRCH",
              syscall(SYS_get_robust_list, c, &got, &len),
              ESRCH);
    CHECK_EQ("clear_child_tid untouched: nobody else used that memory", s->tid, 7);
    CHECK_EQ("a looping robust list", reap(spawn(robust_die, 1)), 0);
    CHECK_EQ("... its lock: FUTEX_OWNER_DIED", s->locks[4].futex, FUTEX_OWNER_DIED);

    s->tid = 9;
    pid_t waiter = spawn(wait_at, (long)&s->tid);
    CHECK("a waiter on a word", await_waiters(&s->tid, 1));
    pid_t v_child = vfork();
    if (v_child == 0) {
        syscall(SYS_set_tid_address, &s->tid);
        _exit(0);
    }
    CHECK_EQ("a vfork child's clear_child_tid is cleared at exit", s->tid, 0);
    CHECK_EQ("... and its waiter woken", reap(waiter), 0);
    reap(v_child);
}

int main(void)
{
    s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE("shared memory", s != MAP_FAILED && sizeof *s <= PAGE);
    memset(s, 0, PAGE); /* touched before any fork: every process shares the page */
    errors();
    timeouts();
    wake_counts();
    requeue();
    wake_op();
    signals();
    pi();
    robust();
    return check_exit();
}
