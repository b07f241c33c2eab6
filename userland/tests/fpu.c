/*
 * fpu: the x87/SSE/AVX registers of a process. AVX is enabled by the kernel (CPUID
 * OSXSAVE, XCR0); the YMM registers survive context switches (blocking, preemption),
 * signal handlers that clobber them (delivered on a syscall and on a timer) and fork, and
 * execve resets them; a handler starts from the initial state (YMM upper halves zero,
 * default MXCSR and x87 control word) and its MXCSR / control word changes are undone by
 * rt_sigreturn. The signal frame as Linux lays it out on x86_64: uc_flags, fpstate 64-byte
 * aligned and holding an XSAVE image (FXSAVE layout first) of the interrupted registers,
 * struct _fpx_sw_bytes in its bytes 464..511 (magic1, extended_size, xfeatures,
 * xstate_size), magic2 after the image; what rt_sigreturn makes of an edited frame (a
 * changed ymm2 restored; without a valid magic1 or magic2 only the legacy part; garbage
 * XRSTOR would fault on kills with SIGSEGV). Re-executes itself (argv[0] a path). Without
 * AVX or XSAVE (e.g. QEMU's -cpu max,-xsave) there is nothing to check.
 */
#include "ymm.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <ucontext.h>

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

/* The signal frame's FPU state, and rt_sigreturn from an edited frame. */
/* Offset of the AVX component (upper halves of ymm0-15) in the standard XSAVE layout. */
static unsigned avx_offset;

enum { INSPECT, EDIT_YMM2, NO_MAGIC2, NO_MAGIC1, BAD_MXCSR, BAD_XSTATE_BV, BAD_HEADER };
static int frame_mode;
static volatile int handled;
static volatile int f_aligned, f_magic1, f_magic2, f_sizes, f_xfeatures, f_bv, f_ymm1,
    f_mxcsr, f_fcw;
static volatile unsigned long f_uc_flags;
static ymm_set frame_in, frame_edit;

static void on_frame(int sig, siginfo_t *info, void *context)
{
    (void)sig, (void)info;
    ucontext_t *uc = context;
    unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
    f_uc_flags = uc->uc_flags;
    f_aligned = ((uintptr_t)fp & 63) == 0;
    f_magic1 = get32(fp + FP_SW_BYTES) == FP_XSTATE_MAGIC1;
    uint32_t extended = get32(fp + FP_SW_BYTES + 4);
    uint64_t xfeatures = get64(fp + FP_SW_BYTES + 8);
    uint32_t xstate_size = get32(fp + FP_SW_BYTES + 16);
    f_sizes = extended == xstate_size + 4 && xstate_size >= avx_offset + 256;
    f_magic2 = f_magic1 && get32(fp + xstate_size) == FP_XSTATE_MAGIC2;
    f_xfeatures = (xfeatures & 7) == 7;
    f_bv = (get64(fp + FP_XSTATE_BV) & 7) == 7;
    f_mxcsr = get32(fp + FP_MXCSR);
    f_fcw = get32(fp + FP_FCW) & 0xffff;
    f_ymm1 = memcmp(fp + FP_XMM + 16, frame_in.reg[1], 16) == 0 &&
             memcmp(fp + avx_offset + 16, frame_in.reg[1] + 16, 16) == 0;
    switch (frame_mode) {
    case EDIT_YMM2:
        memcpy(fp + FP_XMM + 2 * 16, frame_edit.reg[2], 16);
        memcpy(fp + avx_offset + 2 * 16, frame_edit.reg[2] + 16, 16);
        break;
    case NO_MAGIC2:
        put32(fp + xstate_size, 0);
        break;
    case NO_MAGIC1:
        put32(fp + FP_SW_BYTES, 0);
        break;
    case BAD_MXCSR:
        put32(fp + FP_MXCSR, get32(fp + FP_MXCSR) | (1u << 20));
        break;
    case BAD_XSTATE_BV:
        put64(fp + FP_XSTATE_BV, get64(fp + FP_XSTATE_BV) | (1ull << 8));
        break;
    case BAD_HEADER:
        put64(fp + FP_XSTATE_BV + 16, 1);
        break;
    }
    ymm_clobber();
    handled++;
}

/* Raises SIGUSR1 with frame_in live in ymm0-15; what the registers hold afterwards. */
static void raise_frame(int mode, ymm_set *out)
{
    struct sigaction sa = {.sa_sigaction = on_frame, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    frame_mode = mode;
    handled = 0;
    memset(out, 0, sizeof *out);
    ymm_syscall(&frame_in, out, SYS_kill, getpid(), SIGUSR1, 0);
}

static int bad_frame_child(void)
{
    ymm_set out;
    raise_frame(frame_mode, &out);
    /* rt_sigreturn came back: only acceptable for a reserved MXCSR bit (see below). */
    return frame_mode == BAD_MXCSR ? 0 : 1;
}

static void signal_frame(void)
{
    ymm_set out, want;
    fill(&frame_in, 4);
    fill(&frame_edit, 5);
    set_mxcsr(0x5f80); /* round up: seen in the frame */
    raise_frame(INSPECT, &out);
    set_mxcsr(0x1f80);
    CHECK_EQ("frame handler ran", handled, 1);
    CHECK_EQ("uc_flags: UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS", f_uc_flags, 7);
    CHECK("fpstate 64-byte aligned", f_aligned);
    CHECK("fpstate: magic1 in sw_reserved", f_magic1);
    CHECK("fpstate: extended_size is xstate_size + 4, room for AVX", f_sizes);
    CHECK("fpstate: magic2 after the xstate", f_magic2);
    CHECK("fpstate: xfeatures has x87, sse, avx", f_xfeatures);
    CHECK("fpstate: xstate_bv has x87, sse, avx", f_bv);
    CHECK_EQ("fpstate: the interrupted mxcsr", f_mxcsr, 0x5f80);
    CHECK_EQ("fpstate: the interrupted x87 control word", f_fcw, 0x037f);
    CHECK("fpstate: the interrupted ymm1 (both halves)", f_ymm1);
    CHECK("ymm0-15 restored from the frame", memcmp(&out, &frame_in, sizeof out) == 0);

    raise_frame(EDIT_YMM2, &out);
    want = frame_in;
    memcpy(want.reg[2], frame_edit.reg[2], 32);
    CHECK("ymm2 edited in the frame is what rt_sigreturn restores",
          memcmp(&out, &want, sizeof out) == 0);

    /* Without valid magic numbers only the legacy (FXSAVE) part counts: the xmm
       registers come back, the upper halves are reset. */
    want = frame_in;
    for (int r = 0; r < NREGS; r++)
        memset(want.reg[r] + 16, 0, 16);
    raise_frame(NO_MAGIC2, &out);
    CHECK("no magic2: xmm restored, ymm upper halves reset", memcmp(&out, &want, sizeof out) == 0);
    raise_frame(NO_MAGIC1, &out);
    CHECK("no magic1: xmm restored, ymm upper halves reset", memcmp(&out, &want, sizeof out) == 0);

    /* Garbage the CPU would refuse: the process dies of SIGSEGV. Linux hands the image to
       XRSTOR and kills on its #GP. QEMU's XRSTOR does not fault on reserved MXCSR bits, so
       under QEMU Linux returns normally there (on hardware: SIGSEGV); a kernel that checks
       first (Tessera) kills. Either outcome passes that case; a kernel that let the image
       reach XRSTOR on hardware would crash, which no check here can miss. */
    static const struct {
        int mode;
        const char *what;
    } bad[] = {
        {BAD_MXCSR, "reserved mxcsr bit in the frame: SIGSEGV (QEMU's XRSTOR: ignored)"},
        {BAD_XSTATE_BV, "xstate_bv bit outside xcr0 in the frame: SIGSEGV"},
        {BAD_HEADER, "reserved xsave header bytes set in the frame: SIGSEGV"},
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame_mode = bad[i].mode;
        int status = child_status(bad_frame_child);
        int refused = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
        int ignored = bad[i].mode == BAD_MXCSR && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        CHECK(bad[i].what, refused || ignored);
    }
    signal(SIGUSR1, SIG_DFL);
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
    setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
    avx_offset = avx_component_offset();
    context_switches();
    handler_clobbers();
    signal_frame();
    fork_and_exec();
    return check_exit();
}
