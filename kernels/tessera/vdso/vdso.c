/*
 * Tessera's vDSO: clock_gettime, gettimeofday, time and getcpu in user mode, as Linux's
 * (arch/x86/entry/vdso). The kernel maps this image into every process (AT_SYSINFO_EHDR)
 * with the page of clock data it keeps (vdso.h) one page below it; glibc and musl find the
 * functions by name and version (LINUX_2.6, vdso.lds) and call them instead of making the
 * system calls. What the page cannot answer (the CPU-time clocks, unknown clock ids, a
 * kernel without a usable TSC clock) is passed to the system call itself, so every answer
 * is the kernel's. The clock is the kernel's own formula (`tessera_platform::clock`): the
 * TSC since boot, scaled by mult >> shift, plus an offset for the realtime clock.
 *
 * Built by the kernel's build script with the host's C compiler (`-shared -fPIC
 * -nostdlib`), position-independent with no relocations at all (the build checks), and
 * included in the kernel image; the vvar page is reached PC-relatively through the hidden
 * symbol the linker script places one page below the image.
 */
#include "vdso.h"

#include <stddef.h>

struct timespec_abi {
    int64_t tv_sec;
    int64_t tv_nsec;
};
struct timeval_abi {
    int64_t tv_sec;
    int64_t tv_usec;
};
struct timezone_abi {
    int32_t tz_minuteswest;
    int32_t tz_dsttime;
};

/* Linux's clock ids (include/uapi/linux/time.h). */
enum {
    CLOCK_REALTIME = 0,
    CLOCK_MONOTONIC = 1,
    CLOCK_MONOTONIC_RAW = 4,
    CLOCK_REALTIME_COARSE = 5,
    CLOCK_MONOTONIC_COARSE = 6,
    CLOCK_BOOTTIME = 7,
    CLOCK_TAI = 11,
};

/* x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
enum {
    NR_gettimeofday = 96,
    NR_time = 201,
    NR_clock_gettime = 228,
    NR_getcpu = 309,
};

extern const volatile struct vvar_page vvar_page __attribute__((visibility("hidden")));

static long syscall2(long nr, long a, long b)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return ret;
}

static long syscall3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    /* As the kernel reads it (no fence: the same instruction, the same ordering). */
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/*
 * The monotonic clock and the realtime offset, read consistently; 0 when the page has no
 * TSC clock (the caller then makes the system call).
 */
static inline __attribute__((always_inline)) int read_clock(uint64_t *mono, uint64_t *offset)
{
    for (;;) {
        uint32_t seq = vvar_page.seq;
        if (seq & 1)
            continue;
        __asm__ volatile("" ::: "memory");
        if (!vvar_page.tsc_clock)
            return 0;
        uint64_t cycles = rdtsc() - vvar_page.tsc_base;
        *mono = (uint64_t)(((unsigned __int128)cycles * vvar_page.mult) >> vvar_page.shift);
        *offset = vvar_page.realtime_offset;
        __asm__ volatile("" ::: "memory");
        if (vvar_page.seq == seq)
            return 1;
    }
}

int __vdso_clock_gettime(int clock, struct timespec_abi *ts)
{
    uint64_t mono, offset, ns;
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_TAI:
        if (!read_clock(&mono, &offset))
            break;
        ns = mono + offset;
        goto done;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        if (!read_clock(&mono, &offset))
            break;
        ns = mono;
        goto done;
    default:
        break;
    }
    return (int)syscall2(NR_clock_gettime, clock, (long)ts);
done:
    ts->tv_sec = (int64_t)(ns / 1000000000);
    ts->tv_nsec = (int64_t)(ns % 1000000000);
    return 0;
}

int __vdso_gettimeofday(struct timeval_abi *tv, struct timezone_abi *tz)
{
    uint64_t mono, offset;
    if (!read_clock(&mono, &offset))
        return (int)syscall2(NR_gettimeofday, (long)tv, (long)tz);
    if (tv) {
        uint64_t ns = mono + offset;
        tv->tv_sec = (int64_t)(ns / 1000000000);
        tv->tv_usec = (int64_t)(ns % 1000000000 / 1000);
    }
    if (tz) {
        /* The kernel's time zone: never set, zeros (Linux's sys_tz before settimeofday). */
        tz->tz_minuteswest = 0;
        tz->tz_dsttime = 0;
    }
    return 0;
}

int64_t __vdso_time(int64_t *t)
{
    uint64_t mono, offset;
    if (!read_clock(&mono, &offset))
        return syscall2(NR_time, (long)t, 0);
    int64_t secs = (int64_t)((mono + offset) / 1000000000);
    if (t)
        *t = secs;
    return secs;
}

/* One CPU and one node so far: CPU 0, node 0 (the system call says the same). */
int __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
    (void)cache;
    (void)syscall3;
    if (cpu)
        *cpu = 0;
    if (node)
        *node = 0;
    return 0;
}

/* The names without the prefix, as Linux exports them too. */
int clock_gettime(int, struct timespec_abi *)
    __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval_abi *, struct timezone_abi *)
    __attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
