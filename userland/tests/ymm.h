/*
 * ymm.h: the vector-register helpers of fpu.c. The vector code is inline
 * assembly (the programs are built without -mavx): the compiler never keeps values in YMM
 * registers, so those a helper loads are live across the system call it makes.
 */
#ifndef TESSERA_YMM_H
#define TESSERA_YMM_H

#include "check.h"

#include <cpuid.h>
#include <stdint.h>

#define NREGS 16

/* The sixteen YMM registers as memory: reg[r] is ymm<r>, bytes 16..31 its upper half. */
typedef struct {
    unsigned char reg[NREGS][32];
} __attribute__((aligned(32))) ymm_set;

#define LOAD_YMM(p)                                                                        \
    "vmovdqu 0(" p "), %%ymm0\n\t"                                                         \
    "vmovdqu 32(" p "), %%ymm1\n\t"                                                        \
    "vmovdqu 64(" p "), %%ymm2\n\t"                                                        \
    "vmovdqu 96(" p "), %%ymm3\n\t"                                                        \
    "vmovdqu 128(" p "), %%ymm4\n\t"                                                       \
    "vmovdqu 160(" p "), %%ymm5\n\t"                                                       \
    "vmovdqu 192(" p "), %%ymm6\n\t"                                                       \
    "vmovdqu 224(" p "), %%ymm7\n\t"                                                       \
    "vmovdqu 256(" p "), %%ymm8\n\t"                                                       \
    "vmovdqu 288(" p "), %%ymm9\n\t"                                                       \
    "vmovdqu 320(" p "), %%ymm10\n\t"                                                      \
    "vmovdqu 352(" p "), %%ymm11\n\t"                                                      \
    "vmovdqu 384(" p "), %%ymm12\n\t"                                                      \
    "vmovdqu 416(" p "), %%ymm13\n\t"                                                      \
    "vmovdqu 448(" p "), %%ymm14\n\t"                                                      \
    "vmovdqu 480(" p "), %%ymm15\n\t"

#define STORE_YMM(p)                                                                       \
    "vmovdqu %%ymm0, 0(" p ")\n\t"                                                         \
    "vmovdqu %%ymm1, 32(" p ")\n\t"                                                        \
    "vmovdqu %%ymm2, 64(" p ")\n\t"                                                        \
    "vmovdqu %%ymm3, 96(" p ")\n\t"                                                        \
    "vmovdqu %%ymm4, 128(" p ")\n\t"                                                       \
    "vmovdqu %%ymm5, 160(" p ")\n\t"                                                       \
    "vmovdqu %%ymm6, 192(" p ")\n\t"                                                       \
    "vmovdqu %%ymm7, 224(" p ")\n\t"                                                       \
    "vmovdqu %%ymm8, 256(" p ")\n\t"                                                       \
    "vmovdqu %%ymm9, 288(" p ")\n\t"                                                       \
    "vmovdqu %%ymm10, 320(" p ")\n\t"                                                      \
    "vmovdqu %%ymm11, 352(" p ")\n\t"                                                      \
    "vmovdqu %%ymm12, 384(" p ")\n\t"                                                      \
    "vmovdqu %%ymm13, 416(" p ")\n\t"                                                      \
    "vmovdqu %%ymm14, 448(" p ")\n\t"                                                      \
    "vmovdqu %%ymm15, 480(" p ")\n\t"

#define YMM_CLOBBERS                                                                       \
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",        \
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

/* Offsets in the FXSAVE / XSAVE image (the signal frame's fpstate). */
#define FP_FCW 0
#define FP_MXCSR 24
#define FP_XMM 160
#define FP_SW_BYTES 464
#define FP_XSTATE_BV 512
/* The magic numbers of an extended signal frame (Linux's
 * arch/x86/include/uapi/asm/sigcontext.h): glibc's <bits/sigcontext.h> has them, musl's
 * <signal.h> not. */
#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853U
#endif
#ifndef FP_XSTATE_MAGIC2
#define FP_XSTATE_MAGIC2 0x46505845U
#endif

/* A pattern per seed, different in every byte and register, upper halves non-zero. */
CHECK_HELPER void fill(ymm_set *set, unsigned seed)
{
    for (int r = 0; r < NREGS; r++)
        for (int i = 0; i < 32; i++)
            set->reg[r][i] = (unsigned char)(seed * 61 + r * 32 + i * 7 + 1) | 0x01;
}

/* Loads `in` into ymm0-15, makes system call `nr`, stores ymm0-15 into `out`. */
CHECK_HELPER long ymm_syscall(const ymm_set *in, ymm_set *out, long nr, long a1, long a2, long a3)
{
    long ret;
    __asm__ volatile(LOAD_YMM("%[in]") "syscall\n\t" STORE_YMM("%[out]") "vzeroupper\n\t"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), [in] "r"(in), [out] "r"(out)
                     : "rcx", "r11", "memory", YMM_CLOBBERS);
    return ret;
}

/* Loads `in`, spins until *flag is set (a signal handler sets it), stores into `out`. */
CHECK_HELPER void ymm_wait_flag(const ymm_set *in, ymm_set *out, volatile int *flag)
{
    __asm__ volatile(LOAD_YMM("%[in]") "1: pause\n\t"
                                       "cmpl $0, (%[flag])\n\t"
                                       "je 1b\n\t" STORE_YMM("%[out]") "vzeroupper\n\t"
                     :
                     : [in] "r"(in), [out] "r"(out), [flag] "r"(flag)
                     : "memory", YMM_CLOBBERS);
}

/* Loads `in`, counts `n` down to zero, stores into `out` (time for preemption). */
CHECK_HELPER void ymm_spin(const ymm_set *in, ymm_set *out, long n)
{
    __asm__ volatile(LOAD_YMM("%[in]") "1: dec %[n]\n\t"
                                       "jnz 1b\n\t" STORE_YMM("%[out]") "vzeroupper\n\t"
                     : [n] "+r"(n)
                     : [in] "r"(in), [out] "r"(out)
                     : "memory", YMM_CLOBBERS);
}

/* Stores ymm0-15 as they are. */
CHECK_HELPER void ymm_store(ymm_set *out)
{
    __asm__ volatile(STORE_YMM("%[out]") : : [out] "r"(out) : "memory");
}

/* Overwrites every YMM register (what a handler using AVX does). */
CHECK_HELPER void ymm_clobber(void)
{
    static ymm_set junk;
    fill(&junk, 99);
    __asm__ volatile(LOAD_YMM("%[in]") "vpxor %%ymm1, %%ymm2, %%ymm3\n\t"
                                       "vpcmpeqb %%ymm4, %%ymm4, %%ymm4\n\t"
                     :
                     : [in] "r"(&junk)
                     : "memory", YMM_CLOBBERS);
}

CHECK_HELPER unsigned get_mxcsr(void)
{
    unsigned v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}

CHECK_HELPER void set_mxcsr(unsigned v)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(v));
}

CHECK_HELPER unsigned short get_fcw(void)
{
    unsigned short v;
    __asm__ volatile("fnstcw %0" : "=m"(v));
    return v;
}

CHECK_HELPER void set_fcw(unsigned short v)
{
    __asm__ volatile("fldcw %0" : : "m"(v));
}

CHECK_HELPER uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

CHECK_HELPER uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

CHECK_HELPER void put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

CHECK_HELPER void put64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

CHECK_HELPER int upper_halves_zero(const ymm_set *set)
{
    for (int r = 0; r < NREGS; r++)
        for (int i = 16; i < 32; i++)
            if (set->reg[r][i])
                return 0;
    return 1;
}

/* Whether the CPU has AVX and XSAVE (without them there is nothing to check). */
CHECK_HELPER int have_avx(void)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_AVX) && (c & bit_XSAVE);
}

/* Offset of the AVX component (upper halves of ymm0-15) in the standard XSAVE layout. */
CHECK_HELPER unsigned avx_component_offset(void)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    __get_cpuid_count(0xd, 2, &a, &b, &c, &d);
    return b;
}

#endif
