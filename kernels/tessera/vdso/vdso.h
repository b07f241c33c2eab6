/*
 * The page the kernel shares with the vDSO (the [vvar] mapping, one page below the vDSO's
 * first page): what the vDSO needs to read the clocks in user mode. Its layout is the
 * kernel's `mm/vdso.rs` (`VvarPage`), field for field; the kernel writes it, the vDSO only
 * reads it, under the sequence count `seq` (odd while the kernel is changing the fields).
 */
#ifndef TESSERA_VDSO_H
#define TESSERA_VDSO_H

#include <stdint.h>

struct vvar_page {
    uint32_t seq;             /* even: stable; odd: being written */
    uint32_t tsc_clock;       /* 1: the TSC fields below give the monotonic clock */
    uint64_t tsc_base;        /* TSC reading at monotonic time 0 */
    uint64_t mult;            /* ns = ((tsc - tsc_base) * mult) >> shift */
    uint32_t shift;
    uint32_t pad;
    uint64_t realtime_offset; /* CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns */
};

_Static_assert(sizeof(struct vvar_page) == 40, "vvar_page layout (mm/vdso.rs)");

#endif
