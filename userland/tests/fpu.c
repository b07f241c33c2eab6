/*
 * fpu: the x87/SSE/AVX registers of a process. AVX is enabled by the kernel (CPUID
 * OSXSAVE, XCR0); the YMM registers survive context switches (blocking, preemption),
 * signal handlers that clobber them (delivered on a syscall and on a timer) and fork, and
 * execve resets them; a handler starts from the initial state (YMM upper halves zero,
 * default MXCSR and x87 control word) and its MXCSR / control word changes are undone by
 * rt_sigreturn. The signal frame itself is fpframe's. Re-executes itself (argv[0] a path).
 * Without AVX or XSAVE (e.g. QEMU's -cpu max,-xsave) there is nothing to check.
 */
#include "ymm.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>

static const char *self;

/* The kernel enabled AVX: CPUID OSXSAVE and XCR0 with SSE and AVX. Whether it did. */
static int avx_enabled(void)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    __get_cpuid(1, &a, &b, &c, &d);
    CHECK("cpuid: osxsave", c & bit_OSXSAVE);
    unsigned lo = 0, hi = 0;
    if (c & bit_OSXSAVE)
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    CHECK("xcr0: x87", lo & 1);
    CHECK("xcr0: sse", lo & 2);
    CHECK("xcr0: avx", lo & 4);
    __builtin_cpu_init();
    CHECK("avx2 usable (the compiler's cpu model)", __builtin_cpu_supports("avx2"));
    CHECK("cpuid 0xd: avx component after the xsave header", avx_component_offset() >= 576);
    return (c & bit_OSXSAVE) && (lo & 6) == 6;
}

/* Two processes ping-pong over pipes, each with its own YMM values live across read. */
static int ping_pong(int rfd, int wfd, unsigned seed, int first)
{
    ymm_set in, out;
    fill(&in, seed);
    char byte = 'x';
    int bad = 0;
    for (int i = 0; i < 200; i++) {
        if (first && write(wfd, &byte, 1) != 1)
            return 2;
        memset(&out, 0, sizeof out);
        if (ymm_syscall(&in, &out, SYS_read, rfd, (long)&byte, 1) != 1)
            return 3;
        if (memcmp(&in, &out, sizeof in) != 0)
            bad++;
        if (!first && write(wfd, &byte, 1) != 1)
            return 2;
    }
    return bad ? 1 : 0;
}

static void context_switches(void)
{
    int ab[2], ba[2];
    REQUIRE("pipes", pipe(ab) == 0 && pipe(ba) == 0);
    pid_t pid = fork();
    if (pid == 0)
        _exit(ping_pong(ab[0], ba[1], 2, 0));
    int mine = ping_pong(ba[0], ab[1], 1, 1);
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK_EQ("ymm kept across 200 blocking switches (parent)", mine, 0);
    CHECK("ymm kept across 200 blocking switches (child)",
          WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(ab[0]), close(ab[1]), close(ba[0]), close(ba[1]);

    /* Two processes that never block: the timer switches between them. */
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            ymm_set in, out;
            fill(&in, 10 + k);
            int bad = 0;
            for (int round = 0; round < 20; round++) {
                memset(&out, 0, sizeof out);
                ymm_spin(&in, &out, 1000000);
                bad += memcmp(&in, &out, sizeof in) != 0;
            }
            _exit(bad ? 1 : 0);
        }
    }
    int ok = 1;
    for (int k = 0; k < 2; k++) {
        status = -1;
        waitpid(kids[k], &status, 0);
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    CHECK("ymm kept while two busy processes are preempted", ok);
}

/* A handler that clobbers every YMM register, MXCSR and the x87 control word. */
static volatile int handled, flag;
static ymm_set at_entry;
static volatile unsigned entry_mxcsr, entry_fcw;

static void on_clobber(int sig)
{
    (void)sig;
    ymm_store(&at_entry);
    entry_mxcsr = get_mxcsr();
    entry_fcw = get_fcw();
    ymm_clobber();
    set_mxcsr(0x7f80); /* round toward zero */
    set_fcw(0x007f);   /* single precision */
    handled++;
    flag = 1;
}

static void handler_clobbers(void)
{
    struct sigaction sa = {.sa_handler = on_clobber};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    ymm_set in, out;
    fill(&in, 3);

    /* Delivered on the way out of kill(2), the values live in the registers. */
    handled = 0;
    memset(&out, 0, sizeof out);
    ymm_syscall(&in, &out, SYS_kill, getpid(), SIGUSR1, 0);
    CHECK_EQ("handler ran (kill)", handled, 1);
    CHECK("ymm0-15 unchanged after a handler that clobbered them (kill)",
          memcmp(&in, &out, sizeof in) == 0);
    CHECK("handler starts with ymm upper halves zero", upper_halves_zero(&at_entry));

    /* Delivered by a timer interrupt while the code spins with the values live. */
    handled = 0;
    flag = 0;
    memset(&out, 0, sizeof out);
    struct itimerval it = {.it_value = {.tv_usec = 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    ymm_wait_flag(&in, &out, &flag);
    CHECK_EQ("handler ran (timer)", handled, 1);
    CHECK("ymm0-15 unchanged after a handler that clobbered them (timer)",
          memcmp(&in, &out, sizeof in) == 0);

    /* MXCSR and the x87 control word. */
    set_mxcsr(0x3f80); /* round down */
    set_fcw(0x027f);   /* double precision */
    handled = 0;
    kill(getpid(), SIGUSR1);
    CHECK_EQ("handler ran (mxcsr)", handled, 1);
    CHECK_EQ("handler starts with the default mxcsr", entry_mxcsr, 0x1f80);
    CHECK_EQ("handler starts with the default x87 control word", entry_fcw, 0x037f);
    CHECK_EQ("mxcsr restored after the handler changed it", get_mxcsr(), 0x3f80);
    CHECK_EQ("x87 control word restored after the handler changed it", get_fcw(), 0x027f);
    set_mxcsr(0x1f80);
    set_fcw(0x037f);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
}

/* fork keeps the registers; execve resets them. */
static ymm_set exec_pattern;

static void fork_and_exec(void)
{
    ymm_set in, out;
    fill(&in, 6);
    memset(&out, 0, sizeof out);
    long pid = ymm_syscall(&in, &out, SYS_fork, 0, 0, 0);
    if (pid == 0)
        _exit(memcmp(&in, &out, sizeof in) == 0 ? 0 : 1);
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK("fork: the child starts with the parent's ymm0-15",
          WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK("fork: the parent keeps its ymm0-15", memcmp(&in, &out, sizeof in) == 0);

    fill(&exec_pattern, 7);
    pid = fork();
    if (pid == 0) {
        char *argv[] = {(char *)self, "exec-child", NULL};
        char *envp[] = {NULL};
        set_mxcsr(0x3f80);
        set_fcw(0x027f);
        ymm_syscall(&exec_pattern, &out, SYS_execve, (long)self, (long)argv, (long)envp);
        _exit(127);
    }
    status = -1;
    waitpid(pid, &status, 0);
    CHECK_EQ("execve: child exit status", WIFEXITED(status) ? WEXITSTATUS(status) : -1, 42);
}

/* Mode "exec-child": what execve left (the C start-up code ran in between, but it never
   writes the pattern the parent loaded). Exits 42 when all is right. */
static int exec_child(void)
{
    ymm_set now;
    ymm_store(&now);
    unsigned mxcsr = get_mxcsr();
    unsigned short fcw = get_fcw();
    ymm_set old;
    fill(&old, 7);
    int kept = 0;
    for (int r = 0; r < NREGS; r++)
        kept += memcmp(now.reg[r], old.reg[r], 16) == 0 ||
                memcmp(now.reg[r] + 16, old.reg[r] + 16, 16) == 0;
    if (kept)
        say("FAIL execve: %d ymm registers kept the old program's values", kept);
    if (mxcsr != 0x1f80)
        say("FAIL execve: mxcsr %#x, want 0x1f80", mxcsr);
    if (fcw != 0x037f)
        say("FAIL execve: x87 control word %#x, want 0x37f", fcw);
    return kept || mxcsr != 0x1f80 || fcw != 0x037f ? 1 : 42;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "exec-child") == 0)
        return exec_child();
    if (!have_avx()) {
        say("ok no AVX or no XSAVE on this CPU: nothing to check");
        return 0;
    }
    self = realpath(argv[0], NULL);
    REQUIRE("argv[0] is a path to this program", strchr(argv[0], '/') && self);
    if (!avx_enabled())
        return check_exit();
    context_switches();
    handler_clobbers();
    fork_and_exec();
    return check_exit();
}
