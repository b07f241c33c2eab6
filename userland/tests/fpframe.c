/*
 * fpframe: the extended FPU state in a signal frame, as Linux lays it out on x86_64:
 * uc_flags (UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS), uc_mcontext.fpstate
 * 64-byte aligned and holding an XSAVE image (FXSAVE layout first) with the interrupted
 * registers, struct _fpx_sw_bytes in its bytes 464..511 (magic1, extended_size, xfeatures,
 * xstate_size), magic2 after the image. Then what rt_sigreturn makes of an edited frame: a
 * changed ymm2 restored; without a valid magic1 or magic2 only the legacy part (YMM upper
 * halves reset); garbage XRSTOR would fault on kills with SIGSEGV. Without AVX or XSAVE
 * there is nothing to check.
 */
#include "ymm.h"

#include <signal.h>
#include <sys/resource.h>
#include <ucontext.h>

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

int main(void)
{
    if (!have_avx()) {
        say("ok no AVX or no XSAVE on this CPU: nothing to check");
        return 0;
    }
    unsigned a = 0, b = 0, c = 0, d = 0;
    __get_cpuid(1, &a, &b, &c, &d);
    REQUIRE("AVX enabled by the kernel (cpuid osxsave)", c & bit_OSXSAVE);
    setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
    avx_offset = avx_component_offset();
    signal_frame();
    return check_exit();
}
