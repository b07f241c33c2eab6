/*
 * signals: handlers (plain, SA_SIGINFO, SA_RESETHAND), kill and its errors, sigprocmask
 * blocking and delivery on unblock, queueing, SIGPIPE/EPIPE, SIGCHLD, sigsuspend,
 * interrupted system calls (EINTR, SA_RESTART), nanosleep, alarm, stop/continue, a
 * SIGSEGV handler, and what fork and execve keep. Re-executes itself (argv[0] a path).
 */
#include "check.h"

#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

static const char *self;
static volatile sig_atomic_t count, blocked_inside, rt_count;
static volatile int info_signo, info_code, info_pid, info_status;

static void on_signal(int sig)
{
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    blocked_inside = sigismember(&now, sig) && sigismember(&now, SIGINT);
    count++;
}

static void on_rt(int sig)
{
    (void)sig;
    rt_count++;
}

static void on_info(int sig, siginfo_t *info, void *context)
{
    (void)sig, (void)context;
    info_signo = info->si_signo;
    info_code = info->si_code;
    info_pid = info->si_pid;
    info_status = info->si_status;
    count++;
}

static void handle(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa = {.sa_handler = fn, .sa_flags = flags};
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaction(sig, &sa, NULL);
}

static void handle_info(int sig)
{
    struct sigaction sa = {.sa_sigaction = on_info, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static sigset_t just(int sig)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    return set;
}

static int wait_raw(pid_t pid)
{
    int status = -1;
    waitpid(pid, &status, 0);
    return status;
}

/* Mode "exec-child": what execve keeps of signal state; exits 42 when all is right. */
static int exec_child(void)
{
    struct sigaction sa;
    int bad = 0;
    sigaction(SIGUSR1, NULL, &sa);
    if (sa.sa_handler != SIG_DFL)
        bad |= 1; /* a handled signal is reset to the default */
    sigaction(SIGUSR2, NULL, &sa);
    if (sa.sa_handler != SIG_IGN)
        bad |= 2; /* an ignored signal stays ignored */
    sigset_t mask;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    if (!sigismember(&mask, SIGINT))
        bad |= 4; /* the blocked mask is kept */
    return bad ? bad : 42;
}

static void handlers(void)
{
    handle(SIGUSR1, on_signal, 0);
    count = 0;
    CHECK_EQ("kill to self", kill(getpid(), SIGUSR1), 0);
    CHECK_EQ("the handler ran before kill returned", count, 1);
    CHECK("the signal and sa_mask are blocked inside the handler", blocked_inside);
    sigset_t mask;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    CHECK("the mask is restored after the handler", !sigismember(&mask, SIGUSR1) &&
                                                      !sigismember(&mask, SIGINT));
    CHECK_EQ("raise", raise(SIGUSR1), 0);
    CHECK_EQ("raise runs the handler", count, 2);

    handle_info(SIGUSR2);
    kill(getpid(), SIGUSR2);
    CHECK_EQ("SA_SIGINFO si_signo", info_signo, SIGUSR2);
    CHECK_EQ("SA_SIGINFO si_code of kill is SI_USER", info_code, SI_USER);
    CHECK("SA_SIGINFO si_pid is the sender", info_pid == getpid());

    handle(SIGUSR1, on_signal, SA_RESETHAND);
    count = 0;
    raise(SIGUSR1);
    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    CHECK("SA_RESETHAND resets to SIG_DFL after one delivery",
          count == 1 && old.sa_handler == SIG_DFL);

    struct sigaction sa = {.sa_handler = on_signal};
    CHECK_ERR("sigaction on SIGKILL -> EINVAL", sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_ERR("sigaction on SIGSTOP -> EINVAL", sigaction(SIGSTOP, &sa, NULL), EINVAL);
    CHECK_ERR("sigaction on signal 0 -> EINVAL", sigaction(0, &sa, NULL), EINVAL);
    CHECK_ERR("sigaction on signal 65 -> EINVAL", syscall(SYS_rt_sigaction, 65, NULL, &old, 8),
              EINVAL);
    CHECK_ERR("kill with signal 65 -> EINVAL", kill(getpid(), 65), EINVAL);
    CHECK_ERR("kill of a missing process -> ESRCH", kill(999999, SIGUSR1), ESRCH);
    CHECK_EQ("kill with signal 0 checks the process exists", kill(getpid(), 0), 0);
    CHECK_EQ("the default action of SIGCHLD is to ignore", raise(SIGCHLD), 0);
}

static void masking(void)
{
    handle(SIGUSR1, on_signal, 0);
    handle(SIGRTMIN + 1, on_rt, 0);
    sigset_t set = just(SIGUSR1), pending, old;
    sigaddset(&set, SIGRTMIN + 1);
    sigaddset(&set, SIGKILL);
    CHECK_EQ("sigprocmask SIG_BLOCK", sigprocmask(SIG_BLOCK, &set, &old), 0);
    sigprocmask(SIG_BLOCK, NULL, &set);
    CHECK("SIGKILL cannot be blocked", !sigismember(&set, SIGKILL) && sigismember(&set, SIGUSR1));
    count = rt_count = 0;
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGRTMIN + 1);
    kill(getpid(), SIGRTMIN + 1);
    CHECK_EQ("a blocked signal is not delivered", count, 0);
    sigpending(&pending);
    CHECK("sigpending shows the blocked signals",
          sigismember(&pending, SIGUSR1) && sigismember(&pending, SIGRTMIN + 1));
    CHECK_EQ("unblocking", sigprocmask(SIG_SETMASK, &old, NULL), 0);
    CHECK_EQ("a standard signal sent twice while blocked is delivered once", count, 1);
    CHECK_EQ("a real-time signal sent twice while blocked is delivered twice", rt_count, 2);
    sigpending(&pending);
    CHECK("nothing is pending after delivery", !sigismember(&pending, SIGUSR1));

    sigset_t usr1 = just(SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    count = 0;
    raise(SIGUSR1);
    int sig = 0;
    CHECK_EQ("sigwait takes a blocked pending signal", sigwait(&usr1, &sig), 0);
    CHECK("sigwait returns its number and the handler does not run",
          sig == SIGUSR1 && count == 0);
    struct timespec zero = {0, 0};
    CHECK_ERR("sigtimedwait with nothing pending times out -> EAGAIN",
              sigtimedwait(&usr1, NULL, &zero), EAGAIN);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    CHECK_ERR("sigprocmask with a bad how -> EINVAL", sigprocmask(42, &old, NULL), EINVAL);

    /* fork: handlers and mask are inherited, pending signals are not. */
    sigset_t usr2 = just(SIGUSR2);
    sigprocmask(SIG_BLOCK, &usr2, NULL);
    raise(SIGUSR2);
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t p, m;
        sigpending(&p);
        sigprocmask(SIG_BLOCK, NULL, &m);
        _exit(!sigismember(&p, SIGUSR2) && sigismember(&m, SIGUSR2) ? 0 : 1);
    }
    CHECK_EQ("fork keeps the mask and clears pending signals", wait_raw(pid), 0);
    signal(SIGUSR2, SIG_IGN); /* discards the pending one */
    sigprocmask(SIG_UNBLOCK, &usr2, NULL);

    /* execve: handled signals reset, ignored signals stay ignored, the mask is kept. */
    sigset_t intr = just(SIGINT);
    sigprocmask(SIG_BLOCK, &intr, NULL);
    pid = fork();
    if (pid == 0) {
        execl(self, self, "exec-child", (char *)NULL);
        _exit(99);
    }
    CHECK_EQ("execve resets handlers, keeps ignored signals and the mask (42 = right)",
             WEXITSTATUS(wait_raw(pid)), 42);
    sigprocmask(SIG_UNBLOCK, &intr, NULL);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

static void pipes_and_children(void)
{
    int p[2];
    pipe(p);
    close(p[0]);
    pid_t pid = fork();
    if (pid == 0) {
        write(p[1], "x", 1);
        _exit(0);
    }
    CHECK_EQ("writing to a pipe without readers kills with SIGPIPE", wait_raw(pid), SIGPIPE);
    signal(SIGPIPE, SIG_IGN);
    CHECK_ERR("with SIGPIPE ignored the write fails with EPIPE", write(p[1], "x", 1), EPIPE);
    signal(SIGPIPE, SIG_DFL);
    close(p[1]);

    handle_info(SIGCHLD);
    sigset_t chld = just(SIGCHLD), empty;
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    count = 0;
    pid = fork();
    if (pid == 0)
        _exit(7);
    CHECK_ERR("sigsuspend returns EINTR after a handler ran", sigsuspend(&empty), EINTR);
    CHECK_EQ("SIGCHLD was delivered once", count, 1);
    CHECK_EQ("SIGCHLD si_code is CLD_EXITED", info_code, CLD_EXITED);
    CHECK_EQ("SIGCHLD si_status is the exit code", info_status, 7);
    CHECK("SIGCHLD si_pid is the child", info_pid == pid);
    sigset_t mask;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    CHECK("sigsuspend restores the mask", sigismember(&mask, SIGCHLD));
    wait_raw(pid);
    sigprocmask(SIG_UNBLOCK, &chld, NULL);
    signal(SIGCHLD, SIG_DFL);

    pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    int st;
    kill(pid, SIGSTOP);
    CHECK("WUNTRACED reports a stopped child",
          waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
    kill(pid, SIGCONT);
    CHECK("WCONTINUED reports a continued child",
          waitpid(pid, &st, WCONTINUED) == pid && WIFCONTINUED(st));
    kill(pid, SIGUSR1);
    CHECK_EQ("the default action of SIGUSR1 terminates", wait_raw(pid), SIGUSR1);
}

static void on_alarm(int sig)
{
    (void)sig;
    count++;
}

static volatile pid_t poke_pid;

static void on_alarm_poke(int sig)
{
    (void)sig;
    count++;
    kill(poke_pid, SIGUSR1);
}

static void arm_timer(long usec)
{
    struct itimerval it = {{0, 0}, {0, usec}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleeping(void)
{
    double start = now();
    struct timespec ts = {0, 20 * 1000 * 1000}, rem;
    CHECK_EQ("nanosleep 20 ms", nanosleep(&ts, NULL), 0);
    CHECK("nanosleep sleeps at least as long as asked", now() - start >= 0.020);
    struct timespec bad = {0, 1000000000};
    CHECK_ERR("nanosleep with tv_nsec out of range -> EINVAL", nanosleep(&bad, NULL), EINVAL);
    struct timespec negative = {-1, 0};
    CHECK_ERR("nanosleep with a negative time -> EINVAL", nanosleep(&negative, NULL), EINVAL);

    handle(SIGALRM, on_alarm, 0);
    count = 0;
    arm_timer(30000);
    struct timespec longer = {10, 0};
    CHECK_ERR("a signal interrupts nanosleep -> EINTR", nanosleep(&longer, &rem), EINTR);
    CHECK("nanosleep reports the remaining time", rem.tv_sec >= 5 && rem.tv_sec <= 10);
    int p[2];
    pipe(p);
    char c;
    arm_timer(30000);
    CHECK_ERR("a signal interrupts a blocked read -> EINTR", read(p[0], &c, 1), EINTR);

    /* The writer writes only when the handler pokes it, so the data always arrives after
     * the signal interrupted the read: the read returns it only if it was restarted. */
    sigset_t usr1 = just(SIGUSR1), old;
    sigprocmask(SIG_BLOCK, &usr1, &old);
    pid_t pid = fork();
    if (pid == 0) {
        handle(SIGUSR1, on_signal, 0);
        count = 0;
        sigset_t wait_mask;
        sigemptyset(&wait_mask);
        while (count == 0)
            sigsuspend(&wait_mask);
        write(p[1], "r", 1);
        _exit(0);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    poke_pid = pid;
    handle(SIGALRM, on_alarm_poke, SA_RESTART);
    count = 0;
    arm_timer(30000);
    CHECK_EQ("with SA_RESTART the read is restarted and gets the data", read(p[0], &c, 1), 1);
    CHECK_EQ("the handler ran during the restarted read", count, 1);
    wait_raw(pid);
    close(p[0]);
    close(p[1]);

    CHECK_EQ("alarm with no alarm pending returns 0", alarm(5), 0);
    CHECK_EQ("alarm returns the seconds left on the previous alarm", alarm(0), 5);
    count = 0;
    handle(SIGALRM, on_alarm, 0);
    arm_timer(10000);
    pause();
    CHECK_EQ("pause returns after a handled signal", count, 1);
    signal(SIGALRM, SIG_DFL);
}

static sigjmp_buf recover;
static volatile void *fault_address;
static volatile int fault_code;

static void on_segv(int sig, siginfo_t *info, void *context)
{
    (void)sig, (void)context;
    fault_address = info->si_addr;
    fault_code = info->si_code;
    siglongjmp(recover, 1);
}

static void fault_handler(void)
{
    struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    volatile char *target = (volatile char *)0x1234;
    volatile int jumped = 0;
    if (sigsetjmp(recover, 1) == 0)
        *target = 1;
    else
        jumped = 1;
    CHECK("a fault runs the SIGSEGV handler, which can siglongjmp out", jumped);
    CHECK("SIGSEGV si_addr is the faulting address", fault_address == (void *)0x1234);
    CHECK_EQ("SIGSEGV si_code for an unmapped address is SEGV_MAPERR", fault_code, SEGV_MAPERR);
    sigset_t mask;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    CHECK("siglongjmp restores the mask saved by sigsetjmp", !sigismember(&mask, SIGSEGV));
    signal(SIGSEGV, SIG_DFL);
}

/* Raw calls, as Linux's kernel/signal.c checks them. */
static void raw_arguments(void)
{
    sigset_t usr1 = just(SIGUSR1), old;
    sigprocmask(SIG_BLOCK, &usr1, &old);
    raise(SIGUSR1);
    unsigned char raw[32];
    memset(raw, 0xee, sizeof raw);
    CHECK_EQ("rt_sigpending of 4 bytes", syscall(SYS_rt_sigpending, raw, 4), 0);
    CHECK("it writes those 4 bytes and no more", raw[1] == 2 && raw[4] == 0xee);
    CHECK_ERR("rt_sigpending of more than a sigset -> EINVAL",
              syscall(SYS_rt_sigpending, raw, 16), EINVAL);
    struct sigaction was;
    sigaction(SIGUSR1, NULL, &was);
    signal(SIGUSR1, SIG_IGN); /* discards the pending one */
    sigaction(SIGUSR1, &was, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);

    CHECK_ERR("rt_sigaction reads the action before checking the signal -> EFAULT",
              syscall(SYS_rt_sigaction, 0, (void *)8, NULL, 8), EFAULT);
    CHECK_ERR("rt_sigaction checks the size first -> EINVAL",
              syscall(SYS_rt_sigaction, SIGUSR1, (void *)8, NULL, 16), EINVAL);
    CHECK_EQ("rt_sigaction's sig is an int: (1<<32)+SIGUSR1 is SIGUSR1",
             syscall(SYS_rt_sigaction, (1L << 32) | SIGUSR1, NULL, raw, 8), 0);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "exec-child") == 0)
        return exec_child();
    setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
    self = realpath(argv[0], NULL);
    REQUIRE("argv[0] is a path to this program", strchr(argv[0], '/') && self);
    handlers();
    masking();
    raw_arguments();
    pipes_and_children();
    sleeping();
    fault_handler();
    return check_exit();
}
